/* winograd.h — 3×3 convolutions (stride 1, padding 1) by Winograd's F(2×2, 3×3).
 *
 * Each 2×2 block of outputs comes from a 4×4 tile d of the input (tiles overlap by
 * two) and the 3×3 kernel g:
 *
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A        16 products per tile instead of 36
 *
 *   Bᵀ = | 1  0 −1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
 *        | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 −1 −1 |
 *        | 0 −1  1  0 |         | ½   −½    ½  |
 *        | 0  1  0 −1 |         | 0    0    1  |
 *
 * so the sums over input channels become 16 matrix products, one per position ξ
 * of the 4×4 transformed tile:  M[ξ] (O, T) = U[ξ] (O, C) · V[ξ] (C, T),  with
 * U = G g Gᵀ for every (o, c) and V = Bᵀ d B for every (c, tile), T tiles.
 * resnet18 runs most of its products through 3×3 stride-1 convolutions, and their
 * input gradients are the same kind of convolution (the kernel turned by 180° and
 * its channel axes swapped), so both go this way where the images are large
 * (nn-conv.c decides); so does the weight gradient, in the same transformed domain.
 *
 * The transforms only add and halve; the products are gemm's (gemm.h), the 16 of
 * them spread over the engine's threads. Errors stay near float rounding (F(2, 3)
 * is the well-conditioned member of the family).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* out (n, co, h, w) = Σ_ci conv3×3 (x (n, ci, h, w), kernel) [+ bias (co)], stride 1,
 * padding 1. The kernel is w (co, ci, 3, 3), or with flip, the input gradient's:
 * kernel[co][ci][i][j] = w[ci][co][2 − i][2 − j] for w (ci, co, 3, 3). */
void conv3x3_winograd       (float *out, const float *x, const float *w, const float *bias,
                             int n, int ci, int h, int wd, int co, bool flip);

/* The same by the definition: the reference it is tested against. */
void conv3x3_winograd_naive (float *out, const float *x, const float *w, const float *bias,
                             int n, int ci, int h, int wd, int co, bool flip);

/* The weight gradient of that convolution (no flip): dw (co, ci, 3, 3) = Σ over the
 * batch and the pixels of g (n, co, h, w) times x (n, ci, h, w) shifted, by F(3×3, 2×2)
 * in the same transformed domain: Gᵀ [Σ_tiles (A g Aᵀ) ⊙ (Bᵀ d B)] G. */
void conv3x3_winograd_weight_grad (float *dw, const float *x, const float *g, int n, int ci,
                                   int h, int wd, int co);
void conv3x3_weight_grad_naive    (float *dw, const float *x, const float *g, int n, int ci,
                                   int h, int wd, int co);

G_END_DECLS

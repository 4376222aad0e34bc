/* vec.h — the engine's memory-bound passes, vectorised by hand where it pays.
 *
 * The same float operations, in the same order, as the plain loops they replace:
 * only the width of the registers and the kind of store change. On a CPU with
 * AVX-512, results that nothing reads soon are written with streaming stores
 * (no read for ownership, no eviction of what the caches hold for the next pass).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Whether this CPU runs the engine's AVX-512 kernels (AVX-512 F, DQ and VL, and FMA).
 * Asked of the CPU once, under g_once: the pool's threads may all ask first at once. */
bool vec_have_avx512 (void);

/* SGD with momentum, no weight decay, no Nesterov, after the first step, per element:
 *   buf = buf·momentum + one_minus_damp·g;  w_after = w + neg_lr·buf;
 *   upd = w_after − w;  w = w_after
 * upd (the update, read by the UI only) is streamed. */
void vec_sgd_momentum (float *w, const float *g, float *buf, float *upd, int64_t n,
                       float momentum, float one_minus_damp, float neg_lr);

/* out (cols, rows) = aᵀ for rows [r0, r1) of a (rows, cols), a's rows lda apart,
 * out's rows ldo apart: in-register 16×16 blocks where the CPU has AVX-512. */
void vec_transpose    (float *out, int64_t ldo, const float *a, int64_t lda,
                       int64_t r0, int64_t r1, int64_t cols);

G_END_DECLS

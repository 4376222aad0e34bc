/* gemm.h — the engine's matrix products: one entry point that picks, per shape,
 * how to compute C = A·B on the engine's threads.
 *
 *   C (m, n) = alpha · op(A) · op(B) + beta · C        row-major, leading dims lda, ldb, ldc
 *   op(A) (m, k) is A, or Aᵀ when trans_a (A stored (k, m)); op(B) (k, n) likewise.
 *
 *   gemm (false, false, o, p, k, 1, w, k, col, p, 0, out, p);   // conv: out = W · col
 *
 * Large products go to OpenBLAS, one call per thread on its own block of C (the
 * block along the longer side of C, so the operand packed twice is the smaller).
 * Thin products — a few columns, as in resnet18's last layers at 64×64, or a short
 * inner dimension, as in their weight gradients — go to direct AVX-512 kernels
 * that read each operand once and never pack the weights (OpenBLAS copies them
 * into its buffers first: for a layer4 convolution that copy costs as much as the
 * product). Without AVX-512 at run time everything goes to OpenBLAS.
 *
 * The result does not depend on the number of threads: each element of C is
 * summed over k in the same order whichever thread computes it.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

void gemm       (bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);

/* The same for a C that is written once and not read again soon (a weight
 * gradient: the optimizer reads it after the whole backward). When a direct kernel
 * writes it, it bypasses the caches, which keeps the weights there. */
void gemm_stream_c (bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc);

/* The same by three loops, in double: the reference the kernels are tested against. */
void gemm_naive (bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);

/* gemm_stream_c that also returns Σ c² over the whole C it leaves, measured as it
 * writes C where it can (the direct kernels), so the observer's edge norm of a
 * weight gradient costs no second pass over memory. */
double gemm_stream_c_sumsq (bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                            const float *a, int lda, const float *b, int ldb,
                            float beta, float *c, int ldc);

/* Which path gemm takes for a shape: "openblas", "direct", "dot" (for tests and
 * the benchmark's notes). */
const char *gemm_path (bool trans_a, bool trans_b, int m, int n, int k);

/* Off (FALSE): every product goes to OpenBLAS. For tests and measurements. */
void gemm_set_direct_enabled (bool enabled);

G_END_DECLS

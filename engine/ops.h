/* ops.h — differentiable tensor ops, each recording PyTorch's grad_fn.
 *
 * Binary ops broadcast like PyTorch (shapes aligned on the right, size-1 dims
 * stretched); their backward sums the gradient back to each input's shape.
 * A scalar operand is a Python number: a None slot in next_functions.
 *
 *   op                          grad_fn                next_functions
 *   tensor_add (a, b)           AddBackward0           (a, b)
 *   tensor_add_scalar (a, s)    AddBackward0           (a, None)
 *   tensor_sub (a, b)           SubBackward0           (a, b)
 *   tensor_rsub_scalar (a, s)   RsubBackward1          (a)         s - a
 *   tensor_mul (a, b)           MulBackward0           (a, b)
 *   tensor_mul_scalar (a, s)    MulBackward0           (a, None)
 *   tensor_div (a, b)           DivBackward0           (a, b)
 *   tensor_div_scalar (a, s)    DivBackward0           (a, None)
 *   tensor_neg, _exp, _log      NegBackward0, ExpBackward0, LogBackward0
 *   tensor_pow_scalar (a, p)    PowBackward0           (a)
 *   tensor_relu                 ReluBackward0          (a)  saves its result
 *   tensor_sum                  SumBackward0; tensor_sum_dims: SumBackward1
 *   tensor_mean                 MeanBackward0; tensor_mean_dims: MeanBackward1
 *   tensor_view, tensor_flatten ViewBackward0
 *   tensor_t                    TBackward0
 *   tensor_mm (a, b)            MmBackward0            (a, b)
 *   tensor_addmm (bias, a, b)   AddmmBackward0         (bias, a, b)
 *   tensor_linear (x, w, b)     AddmmBackward0         (b, x, TBackward0 → w)
 *   tensor_norm                 NormBackward1          (a)
 *
 * Every op returns a new reference, or NULL with error set when shapes do not fit.
 */
#pragma once

#include "autograd.h"

G_BEGIN_DECLS

Tensor *tensor_add          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_sub          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_mul          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_div          (Tensor *a, Tensor *b, GError **error);

Tensor *tensor_add_scalar   (Tensor *a, float s);
Tensor *tensor_mul_scalar   (Tensor *a, float s);
Tensor *tensor_div_scalar   (Tensor *a, float s);
Tensor *tensor_rsub_scalar  (Tensor *a, float s);   /* s - a */
Tensor *tensor_pow_scalar   (Tensor *a, float exponent);

Tensor *tensor_neg          (Tensor *a);
Tensor *tensor_exp          (Tensor *a);
Tensor *tensor_log          (Tensor *a);
Tensor *tensor_relu         (Tensor *a);

Tensor *tensor_sum          (Tensor *a);
Tensor *tensor_mean         (Tensor *a);
/* dims: n_dims distinct dims (negative counts from the end). */
Tensor *tensor_sum_dims     (Tensor *a, int n_dims, const int *dims, bool keepdim, GError **error);
Tensor *tensor_mean_dims    (Tensor *a, int n_dims, const int *dims, bool keepdim, GError **error);
Tensor *tensor_norm         (Tensor *a);            /* 2-norm of all elements */

/* A view shares a's data. One entry of shape may be -1 (inferred). */
Tensor *tensor_view         (Tensor *a, int ndim, const int64_t *shape, GError **error);
Tensor *tensor_flatten      (Tensor *a, int start_dim);   /* torch.flatten (a, start_dim) */
Tensor *tensor_t            (Tensor *a, GError **error);  /* 2-D transpose (a copy) */

Tensor *tensor_mm           (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_addmm        (Tensor *bias, Tensor *a, Tensor *b, GError **error);
/* F.linear: x (N, in), weight (out, in), bias (out) or NULL. */
Tensor *tensor_linear       (Tensor *x, Tensor *weight, Tensor *bias, GError **error);

/* Elementwise comparison for the lessons' `9*a**2 == a.grad`: exact equality. */
bool    tensor_equal_values (const Tensor *a, const Tensor *b);
bool    tensor_allclose     (const Tensor *a, const Tensor *b, float rtol, float atol);

/* --- Kernels: plain loops, no autograd. Outputs first, dimensions last. -------- */

/* out (m, n) = alpha * op(a) op(b) + beta * out, through cblas_sgemm. */
void matmul_forward         (float *out, const float *a, const float *b,
                             bool trans_a, bool trans_b, float alpha, float beta,
                             int m, int n, int k);
/* The same by three loops: the reference the fast one is tested against. */
void matmul_forward_naive   (float *out, const float *a, const float *b,
                             bool trans_a, bool trans_b, float alpha, float beta,
                             int m, int n, int k);

/* Sum grad (grad_ndim, grad_shape) down to shape (ndim, shape): the backward of
 * broadcasting. Returns a new tensor. */
Tensor *tensor_sum_to_shape (const Tensor *grad, int ndim, const int64_t *shape);

/* Broadcast shape of a and b; FALSE if they do not broadcast. */
gboolean broadcast_shapes   (int a_ndim, const int64_t *a_shape,
                             int b_ndim, const int64_t *b_shape,
                             int *out_ndim, int64_t *out_shape);

G_END_DECLS

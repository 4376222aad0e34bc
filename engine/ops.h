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
 *   tensor_sub_scalar (a, s)    SubBackward0           (a, None)
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
 *   tensor_t                    TBackward0             (a)  x.t(): 2-D, or 0-/1-D as is
 *   tensor_mm (a, b)            MmBackward0            (a, b)
 *   tensor_addmm (bias, a, b)   AddmmBackward0         (bias, a, b)
 *   tensor_linear (x, w, b)     AddmmBackward0         (b, x, TBackward0 → w)
 *   tensor_norm                 NormBackward1          (a)
 *
 * Unary (ops-unary.c):
 *   tensor_sin, _cos, _abs      SinBackward0, CosBackward0, AbsBackward0   (a)  save a
 *   tensor_tanh, _sigmoid,      TanhBackward0, SigmoidBackward0,           (a)  save their
 *     _sqrt, _reciprocal        SqrtBackward0, ReciprocalBackward0              result
 *   tensor_clamp (a, min, max)  ClampBackward1         (a)   either bound or both (torch.clamp
 *                                                            with scalars; ClampMin/Max are
 *                                                            only torch.clamp_min/_max)
 *   tensor_pow (a, b)           PowBackward1           (a, b)   a ** b, broadcast
 *   tensor_pow_scalar_base(s,a) PowBackward2           (a)      s ** a (2.x: torch.pow (s, a);
 *                                                               1.13 printed PowBackward1 (None, a))
 *   tensor_rdiv_scalar (s, a)   MulBackward0           (ReciprocalBackward0 → a, None)   s / a
 *
 * Softmax and extrema (ops-softmax.c):
 *   tensor_softmax (a, dim)     SoftmaxBackward0       (a)  saves its result
 *   tensor_log_softmax (a, dim) LogSoftmaxBackward0    (a)  saves its result
 *   tensor_max, tensor_min      MaxBackward1, MinBackward1 (a)   over all elements; ties
 *                                                                share the gradient
 *   tensor_max_dim (a, d, keep) MaxBackward0 (a)        x.max(d): values and indices (the
 *   tensor_min_dim              MinBackward0 (a)        first of ties; NaN wins); the gradient
 *                                                       goes to the index; also argmax/argmin
 *
 * Shape (ops-shape.c): transpose, permute, expand, select and slice copy (tensors
 * here are contiguous) but record the grad_fn of PyTorch's view.
 *   tensor_unsqueeze (a, d)     UnsqueezeBackward0     (a)  shares a's data
 *   tensor_squeeze (a)          SqueezeBackward0       (a)  recorded even if nothing squeezes
 *   tensor_squeeze_dim (a, d)   SqueezeBackward1       (a)
 *   tensor_squeeze_dim_inplace  SqueezeBackward4       (a)  x.squeeze_(d) (2.x; 1.13: ...3)
 *   tensor_reshape (a, shape)   ViewBackward0          (a)  2.x (1.13: ReshapeAliasBackward0)
 *   tensor_transpose (a, d0,d1) TransposeBackward0     (a)  also x.mT
 *   tensor_permute (a, dims)    PermuteBackward0       (a)
 *   tensor_T (a)                PermuteBackward0       (a)  x.T (x.t() is tensor_t)
 *   tensor_expand (a, shape)    ExpandBackward0        (a)  -1 keeps a size
 *   tensor_select (a, d, i)     SelectBackward0        (a)  x[i]; x[0, 1] is two of them
 *   tensor_slice (a, d, s,e,st) SliceBackward0         (a)  x[s:e:st]; x[:, 1] is SelectBackward0
 *                                                           after SliceBackward0 (x[:] is a slice)
 *   tensor_clone (a)            CloneBackward0         (a)
 *   tensor_cat (n, ts, d)       CatBackward0           (t0, t1, ...)  at most NODE_MAX_EDGES
 *   tensor_stack (n, ts, d)     StackBackward0         (t0, t1, ...)
 *
 * Products (ops-matmul.c):
 *   tensor_mv (a, v)            MvBackward0            (a, v)
 *   tensor_dot (a, b)           DotBackward0           (a, b)
 *   tensor_bmm (a, b)           BmmBackward0           (a, b)   3-D, same batch
 *   tensor_matmul (a, b)        1-D·1-D DotBackward0; 2-D@1-D MvBackward0; 2-D@2-D MmBackward0;
 *                               1-D@2-D SqueezeBackward4 → MmBackward0 → (UnsqueezeBackward0
 *                               → a, b); (…, n, k) @ 2-D or 1-D: UnsafeViewBackward0 → Mm/Mv
 *                               → (ViewBackward0 → a, b); batches of the same shape:
 *                               UnsafeViewBackward0 → BmmBackward0 → (ViewBackward0 →
 *                               ExpandBackward0 → a, the same → b); else an error (1-D/2-D @
 *                               batches, broadcast batches: not yet)
 *
 * Comparisons (ops-compare.c): tensor_compare (COMPARE_EQ, a, b) and _scalar: 0/1
 * floats, broadcast, never recorded.
 *
 * Every op returns a new reference, or NULL with error set when shapes do not fit
 * (dims out of range use PyTorch's "Dimension out of range (...)").
 */
#pragma once

#include "autograd.h"

G_BEGIN_DECLS

Tensor *tensor_add          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_sub          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_mul          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_div          (Tensor *a, Tensor *b, GError **error);

Tensor *tensor_add_scalar   (Tensor *a, float s);
Tensor *tensor_sub_scalar   (Tensor *a, float s);
Tensor *tensor_mul_scalar   (Tensor *a, float s);
Tensor *tensor_div_scalar   (Tensor *a, float s);
Tensor *tensor_sub_scalar   (Tensor *a, float s);   /* a - s */
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
Tensor *tensor_t            (Tensor *a, GError **error);  /* x.t(): ≤ 2-D (a copy) */

Tensor *tensor_mm           (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_addmm        (Tensor *bias, Tensor *a, Tensor *b, GError **error);
/* F.linear: x (N, in), weight (out, in), bias (out) or NULL. */
Tensor *tensor_linear       (Tensor *x, Tensor *weight, Tensor *bias, GError **error);

Tensor *tensor_sin          (Tensor *a);
Tensor *tensor_cos          (Tensor *a);
Tensor *tensor_tanh         (Tensor *a);
Tensor *tensor_sigmoid      (Tensor *a);
Tensor *tensor_sqrt         (Tensor *a);
Tensor *tensor_abs          (Tensor *a);
Tensor *tensor_reciprocal   (Tensor *a);
Tensor *tensor_rdiv_scalar  (float s, Tensor *a);         /* s / a */
/* torch.clamp (a, min, max) with scalar bounds: at least one of has_min, has_max. */
Tensor *tensor_clamp        (Tensor *a, bool has_min, float min, bool has_max, float max,
                             GError **error);
Tensor *tensor_pow          (Tensor *a, Tensor *exponent, GError **error);
Tensor *tensor_pow_scalar_base (float base, Tensor *exponent);

Tensor *tensor_softmax      (Tensor *a, int dim, GError **error);
Tensor *tensor_log_softmax  (Tensor *a, int dim, GError **error);
Tensor *tensor_max          (Tensor *a, GError **error);   /* of all elements: a 0-d tensor */
Tensor *tensor_min          (Tensor *a, GError **error);
/* x.max (dim, keepdim) / x.min: the values; indices (may be NULL) receives the
 * position along dim of each, one per value (torch.argmax is this under no_grad). */
Tensor *tensor_max_dim      (Tensor *a, int dim, bool keepdim, int64_t *indices, GError **error);
Tensor *tensor_min_dim      (Tensor *a, int dim, bool keepdim, int64_t *indices, GError **error);

Tensor *tensor_unsqueeze    (Tensor *a, int dim, GError **error);
Tensor *tensor_squeeze      (Tensor *a);
Tensor *tensor_squeeze_dim  (Tensor *a, int dim, GError **error);
Tensor *tensor_squeeze_dim_inplace (Tensor *a, int dim, GError **error);
Tensor *tensor_reshape      (Tensor *a, int ndim, const int64_t *shape, GError **error);
Tensor *tensor_transpose    (Tensor *a, int dim0, int dim1, GError **error);
Tensor *tensor_permute      (Tensor *a, int n_dims, const int *dims, GError **error);
Tensor *tensor_T            (Tensor *a, GError **error);
Tensor *tensor_expand       (Tensor *a, int ndim, const int64_t *sizes, GError **error);
Tensor *tensor_select       (Tensor *a, int dim, int64_t index, GError **error);
/* Python's slice rules: negative start/end count from the end; step > 0. */
Tensor *tensor_slice        (Tensor *a, int dim, int64_t start, int64_t end, int64_t step,
                             GError **error);
Tensor *tensor_clone        (Tensor *a);
/* ops-index.c: y.flat[i] = a.flat[offsets[i]], y of (ndim, shape) (IndexBackward0);
 * and x.flat[offsets[i]] = value broadcast to (ndim, shape), in place, recorded as
 * CopySlices (a key of ints and slices) or IndexPutBackward0 (advanced) when x or
 * value requires grad. */
Tensor  *tensor_index       (Tensor *a, const int64_t *offsets, int64_t n, int ndim,
                             const int64_t *shape, GError **error);
gboolean tensor_index_put_  (Tensor *x, const int64_t *offsets, int64_t n, int ndim,
                             const int64_t *shape, Tensor *value, bool advanced, GError **error);
Tensor *tensor_cat          (int n, Tensor *const *tensors, int dim, GError **error);
Tensor *tensor_stack        (int n, Tensor *const *tensors, int dim, GError **error);

Tensor *tensor_mv           (Tensor *a, Tensor *v, GError **error);
Tensor *tensor_dot          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_bmm          (Tensor *a, Tensor *b, GError **error);
Tensor *tensor_matmul       (Tensor *a, Tensor *b, GError **error);

typedef enum
{
  COMPARE_EQ,
  COMPARE_NE,
  COMPARE_LT,
  COMPARE_LE,
  COMPARE_GT,
  COMPARE_GE,
} CompareKind;

/* a OP b elementwise, broadcast: 1 where true, 0 where false; no grad_fn. */
Tensor *tensor_compare      (CompareKind kind, const Tensor *a, const Tensor *b, GError **error);
Tensor *tensor_compare_scalar (CompareKind kind, const Tensor *a, float s);

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

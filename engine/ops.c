/* ops.c — elementwise ops, reductions, views and matmul: forward and backward
 * side by side. */
#include "ops-private.h"
#include "backward.h"
#include "gemm.h"
#include "parallel.h"
#include "vec.h"

#include <math.h>
#include <string.h>

void
set_shape_error (GError **error, const char *op, const Tensor *a, const Tensor *b)
{
  g_autofree char *as = tensor_shape_string (a);
  g_autofree char *bs = b ? tensor_shape_string (b) : NULL;
  if (b)
    g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                 "%s: shapes %s and %s do not fit", op, as, bs);
  else
    g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE, "%s: shape %s does not fit", op, as);
}

gboolean
normalize_dim (int *dim, int ndim, GError **error)
{
  int n = MAX (ndim, 1);   /* a 0-d tensor takes dim 0 or -1 */
  if (*dim < -n || *dim >= n)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "Dimension out of range (expected to be in range of [%d, %d], but got %d)",
                   -n, n - 1, *dim);
      return FALSE;
    }
  if (*dim < 0)
    *dim += n;
  return TRUE;
}

/* PyTorch's words for shapes that do not broadcast: the first dim (from the right)
 * where they differ and neither is 1, numbered in the broadcast shape. */
static void
set_broadcast_error (GError **error, const Tensor *a, const Tensor *b)
{
  int n = MAX (a->ndim, b->ndim);
  for (int i = n - 1; i >= 0; i--)
    {
      int64_t da = i < n - a->ndim ? 1 : a->shape[i - (n - a->ndim)];
      int64_t db = i < n - b->ndim ? 1 : b->shape[i - (n - b->ndim)];
      if (da != db && da != 1 && db != 1)
        {
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "The size of tensor a (%" G_GINT64_FORMAT ") must match the size of "
                       "tensor b (%" G_GINT64_FORMAT ") at non-singleton dimension %d",
                       da, db, i);
          return;
        }
    }
  set_shape_error (error, "broadcast", a, b);
}

Tensor *
node_new_input_grad (const Node *node, int i)
{
  return tensor_new_zeros (node->input_ndim[i], node->input_shape[i]);
}

/* --- Broadcasting -------------------------------------------------------- */

gboolean
broadcast_shapes (int a_ndim, const int64_t *a_shape, int b_ndim, const int64_t *b_shape,
                  int *out_ndim, int64_t *out_shape)
{
  int n = MAX (a_ndim, b_ndim);
  for (int i = 0; i < n; i++)
    {
      /* Aligned on the right. */
      int64_t da = i < n - a_ndim ? 1 : a_shape[i - (n - a_ndim)];
      int64_t db = i < n - b_ndim ? 1 : b_shape[i - (n - b_ndim)];
      if (da != db && da != 1 && db != 1)
        return FALSE;
      out_shape[i] = da == 1 ? db : da;
    }
  *out_ndim = n;
  return TRUE;
}

void
broadcast_strides (int x_ndim, const int64_t *x_shape, int out_ndim, const int64_t *out_shape,
                   int64_t padded_out[4], int64_t strides[4])
{
  int64_t stride = 1;
  for (int i = 3; i >= 0; i--)
    {
      int oi = i - (4 - out_ndim);
      int xi = i - (4 - x_ndim);
      padded_out[i] = oi >= 0 ? out_shape[oi] : 1;
      int64_t xd = xi >= 0 ? x_shape[xi] : 1;
      strides[i] = xd == 1 ? 0 : stride;
      stride *= xd;
    }
}

Tensor *
tensor_sum_to_shape (const Tensor *grad, int ndim, const int64_t *shape)
{
  Tensor *out = tensor_new_zeros (ndim, shape);
  if (out->numel == grad->numel)
    {
      memcpy (out->data, grad->data, grad->numel * sizeof (float));
      return out;
    }
  int64_t s4[4], st[4];
  broadcast_strides (ndim, shape, grad->ndim, grad->shape, s4, st);
  FOR_BROADCAST (s4, st, o, x, out->data[x] += grad->data[o]);
  return out;
}

Tensor *
expand_to_shape (const Tensor *g, int ndim, const int64_t *shape)
{
  Tensor *out = tensor_new_empty (ndim, shape);
  int64_t s4[4], st[4];
  broadcast_strides (g->ndim, g->shape, ndim, shape, s4, st);
  FOR_BROADCAST (s4, st, o, x, out->data[o] = g->data[x]);
  return out;
}

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } BinaryKind;

static inline float
binary_apply (BinaryKind kind, float x, float y)
{
  switch (kind)
    {
    case BIN_ADD: return x + y;
    case BIN_SUB: return x - y;
    case BIN_MUL: return x * y;
    case BIN_DIV: return x / y;
    }
  g_assert_not_reached ();
}

typedef struct
{
  BinaryKind kind;
  const float *a, *b;
  float *out;
} BinaryJob;

static void
binary_range (gpointer data, int64_t begin, int64_t end)
{
  const BinaryJob *j = data;
  const float *restrict a = j->a, *restrict b = j->b;
  float *restrict out = j->out;
  switch (j->kind)   /* one loop per kind, each vectorised */
    {
    case BIN_ADD: for (int64_t i = begin; i < end; i++) out[i] = a[i] + b[i]; break;
    case BIN_SUB: for (int64_t i = begin; i < end; i++) out[i] = a[i] - b[i]; break;
    case BIN_MUL: for (int64_t i = begin; i < end; i++) out[i] = a[i] * b[i]; break;
    case BIN_DIV: for (int64_t i = begin; i < end; i++) out[i] = a[i] / b[i]; break;
    }
}

/* out = a ∘ b with broadcasting, no autograd. */
static Tensor *
binary_kernel (BinaryKind kind, const Tensor *a, const Tensor *b, int ndim, const int64_t *shape)
{
  Tensor *out = tensor_new_empty (ndim, shape);
  if (tensor_same_shape (a, b) && tensor_same_shape (a, out))
    {
      BinaryJob job = { kind, a->data, b->data, out->data };
      parallel_for (out->numel, ELEMENTWISE_GRAIN, binary_range, &job);
      return out;
    }
  int64_t s4[4], sa[4], sb[4];
  broadcast_strides (a->ndim, a->shape, ndim, shape, s4, sa);
  broadcast_strides (b->ndim, b->shape, ndim, shape, s4, sb);
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < s4[0]; i0++)
    for (int64_t i1 = 0; i1 < s4[1]; i1++)
      for (int64_t i2 = 0; i2 < s4[2]; i2++)
        for (int64_t i3 = 0; i3 < s4[3]; i3++, o++)
          {
            int64_t ia = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3];
            int64_t ib = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3];
            out->data[o] = binary_apply (kind, a->data[ia], b->data[ib]);
          }
  return out;
}

static Tensor *
binary_op (BinaryKind kind, OpKind op, Tensor *a, Tensor *b, GError **error)
{
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!broadcast_shapes (a->ndim, a->shape, b->ndim, b->shape, &ndim, shape))
    {
      set_broadcast_error (error, a, b);
      return NULL;
    }
  Tensor *out = binary_kernel (kind, a, b, ndim, shape);
  Node *node = autograd_record (op, out, 2, (Tensor *[]){ a, b });
  if (node)
    {
      /* Add and Sub save nothing (PyTorch saves only alpha); Mul and Div save
       * both operands, which is why their graphs cannot run twice. */
      if (kind == BIN_MUL || kind == BIN_DIV)
        {
          node_save (node, "self", a);
          node_save (node, "other", b);
        }
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_add (Tensor *a, Tensor *b, GError **error)
{
  return binary_op (BIN_ADD, OP_ADD, a, b, error);
}

Tensor *
tensor_sub (Tensor *a, Tensor *b, GError **error)
{
  return binary_op (BIN_SUB, OP_SUB, a, b, error);
}

Tensor *
tensor_mul (Tensor *a, Tensor *b, GError **error)
{
  return binary_op (BIN_MUL, OP_MUL, a, b, error);
}

Tensor *
tensor_div (Tensor *a, Tensor *b, GError **error)
{
  return binary_op (BIN_DIV, OP_DIV, a, b, error);
}

/* A tensor ∘ a Python scalar: the scalar's slot is None. Mul and Div save the
 * scalar as PyTorch saves its wrapped-number tensor. */
static Tensor *
scalar_op (BinaryKind kind, OpKind op, Tensor *a, float s)
{
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  for (int64_t i = 0; i < a->numel; i++)
    out->data[i] = binary_apply (kind, a->data[i], s);
  Node *node = autograd_record (op, out, 2, (Tensor *[]){ a, NULL });
  if (node)
    {
      node->scalars[0] = s;
      node->ints[0] = 1;  /* "other is a scalar" */
      if (kind == BIN_MUL || kind == BIN_DIV)
        {
          g_autoptr (Tensor) other = tensor_new_scalar (s);
          node_save (node, "other", other);
        }
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_add_scalar (Tensor *a, float s)
{
  return scalar_op (BIN_ADD, OP_ADD, a, s);
}

Tensor *
tensor_sub_scalar (Tensor *a, float s)
{
  return scalar_op (BIN_SUB, OP_SUB, a, s);
}

Tensor *
tensor_mul_scalar (Tensor *a, float s)
{
  return scalar_op (BIN_MUL, OP_MUL, a, s);
}

Tensor *
tensor_div_scalar (Tensor *a, float s)
{
  return scalar_op (BIN_DIV, OP_DIV, a, s);
}

/* The gradient of an input of input's shape: grad itself when nothing was broadcast.
 * Then it is an alias of grad's data, not a copy (the residual adds of resnet18 pass
 * the whole gradient to both inputs); the engine adds into a gradient in place only
 * when nothing else shares it (autograd.c). */
static Tensor *
grad_to_input (const Tensor *grad, int ndim, const int64_t *shape, bool may_share)
{
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= shape[i];
  if (may_share && n == grad->numel)
    {
      Tensor *g = tensor_alias (grad);
      tensor_reshape_inplace (g, ndim, shape);
      return g;
    }
  return tensor_sum_to_shape (grad, ndim, shape);
}

/* For a scalar slot, b is the scalar; otherwise a and b are the saved tensors. */
void
add_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  for (int i = 0; i < 2; i++)
    if (node->next[i].node)
      gi[i] = grad_to_input (grad, node->input_ndim[i], node->input_shape[i], true);
}

void
sub_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  /* The second input's gradient is negated below: that one is a copy. */
  for (int i = 0; i < 2; i++)
    if (node->next[i].node)
      gi[i] = grad_to_input (grad, node->input_ndim[i], node->input_shape[i], i == 0);
  if (gi[1])
    for (int64_t k = 0; k < gi[1]->numel; k++)
      gi[1]->data[k] = -gi[1]->data[k];
}

/* d(a*b)/da = b, d(a*b)/db = a, each summed back over broadcast dims. */
void
mul_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  if (node->ints[0])
    {
      float s = node->scalars[0];
      gi[0] = tensor_new_empty (grad->ndim, grad->shape);
      for (int64_t k = 0; k < grad->numel; k++)
        gi[0]->data[k] = grad->data[k] * s;
      return;
    }
  const Tensor *a = node->saved[0], *b = node->saved[1];
  for (int i = 0; i < 2; i++)
    if (node->next[i].node)
      {
        g_autoptr (Tensor) full = binary_kernel (BIN_MUL, grad, i == 0 ? b : a,
                                                 grad->ndim, grad->shape);
        gi[i] = tensor_sum_to_shape (full, node->input_ndim[i], node->input_shape[i]);
      }
}

/* d(a/b)/da = 1/b, d(a/b)/db = -a/b². */
void
div_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  if (node->ints[0])
    {
      float s = node->scalars[0];
      gi[0] = tensor_new_empty (grad->ndim, grad->shape);
      for (int64_t k = 0; k < grad->numel; k++)
        gi[0]->data[k] = grad->data[k] / s;
      return;
    }
  const Tensor *a = node->saved[0], *b = node->saved[1];
  g_autoptr (Tensor) g_over_b = binary_kernel (BIN_DIV, grad, b, grad->ndim, grad->shape);
  if (node->next[0].node)
    gi[0] = tensor_sum_to_shape (g_over_b, node->input_ndim[0], node->input_shape[0]);
  if (node->next[1].node)
    {
      g_autoptr (Tensor) t = binary_kernel (BIN_MUL, g_over_b, a, grad->ndim, grad->shape);
      g_autoptr (Tensor) u = binary_kernel (BIN_DIV, t, b, grad->ndim, grad->shape);
      for (int64_t k = 0; k < u->numel; k++)
        u->data[k] = -u->data[k];
      gi[1] = tensor_sum_to_shape (u, node->input_ndim[1], node->input_shape[1]);
    }
}

/* --- Unary ops ------------------------------------------------------------ */

typedef enum { UN_NEG, UN_EXP, UN_LOG, UN_RELU, UN_RSUB, UN_POW } UnaryKind;

typedef struct
{
  UnaryKind kind;
  const float *x;
  float *y;
  float s;
} UnaryJob;

static void
unary_range (gpointer data, int64_t begin, int64_t end)
{
  const UnaryJob *j = data;
  const float *restrict x = j->x;
  float *restrict y = j->y;
  float s = j->s;
  switch (j->kind)   /* one loop per kind, each vectorised where it can be */
    {
    case UN_NEG: for (int64_t i = begin; i < end; i++) y[i] = -x[i]; break;
    case UN_EXP: for (int64_t i = begin; i < end; i++) y[i] = expf (x[i]); break;
    case UN_LOG: for (int64_t i = begin; i < end; i++) y[i] = logf (x[i]); break;
    case UN_RELU: for (int64_t i = begin; i < end; i++) y[i] = x[i] <= 0 ? 0 : x[i]; break;
    case UN_RSUB: for (int64_t i = begin; i < end; i++) y[i] = s - x[i]; break;
    case UN_POW: for (int64_t i = begin; i < end; i++) y[i] = powf (x[i], s); break;
    }
}

static Tensor *
unary_op (UnaryKind kind, OpKind op, Tensor *a, float s)
{
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  UnaryJob job = { kind, a->data, out->data, s };
  parallel_for (a->numel, ELEMENTWISE_GRAIN, unary_range, &job);
  Node *node = autograd_record (op, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->scalars[0] = s;
      switch (kind)
        {
        case UN_EXP:
        case UN_RELU: node_save (node, "result", out); break;
        case UN_LOG:
        case UN_POW: node_save (node, "self", a); break;
        default: break;
        }
      autograd_commit (node);
    }
  return out;
}

Tensor *tensor_neg (Tensor *a) { return unary_op (UN_NEG, OP_NEG, a, 0); }
Tensor *tensor_exp (Tensor *a) { return unary_op (UN_EXP, OP_EXP, a, 0); }
Tensor *tensor_log (Tensor *a) { return unary_op (UN_LOG, OP_LOG, a, 0); }
Tensor *tensor_relu (Tensor *a) { return unary_op (UN_RELU, OP_RELU, a, 0); }
Tensor *tensor_rsub_scalar (Tensor *a, float s) { return unary_op (UN_RSUB, OP_RSUB, a, s); }
Tensor *tensor_pow_scalar (Tensor *a, float p) { return unary_op (UN_POW, OP_POW, a, p); }

Tensor *
grad_like (const Tensor *grad)
{
  return tensor_new_empty (grad->ndim, grad->shape);
}

void
neg_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = grad_like (grad);
  for (int64_t k = 0; k < grad->numel; k++)
    gi[0]->data[k] = -grad->data[k];
}

void
rsub_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  neg_backward (node, grad, gi);
}

/* d exp(x) = exp(x) = the saved result. */
void
exp_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const float *y = node->saved[0]->data;
  gi[0] = grad_like (grad);
  for (int64_t k = 0; k < grad->numel; k++)
    gi[0]->data[k] = grad->data[k] * y[k];
}

void
log_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const float *x = node->saved[0]->data;
  gi[0] = grad_like (grad);
  for (int64_t k = 0; k < grad->numel; k++)
    gi[0]->data[k] = grad->data[k] / x[k];
}

typedef struct
{
  const float *y, *g;
  float *gx;
} ReluJob;

static void
relu_backward_range (gpointer data, int64_t begin, int64_t end)
{
  const ReluJob *j = data;
  const float *restrict y = j->y, *restrict g = j->g;
  float *restrict gx = j->gx;
  /* g read every time, so the compiler may vectorise it (a select, no branch). */
  for (int64_t k = begin; k < end; k++)
    {
      float gk = g[k];
      gx[k] = y[k] <= 0 ? 0 : gk;
    }
}

/* relu saves its result: the gradient passes where result > 0, and where it is NaN
 * (PyTorch's threshold_backward: zero where result <= 0). relu(NaN) is NaN, as in
 * PyTorch: written `x <= 0 ? 0 : x` so a NaN is not turned into 0. */
void
relu_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = grad_like (grad);
  ReluJob job = { node->saved[0]->data, grad->data, gi[0]->data };
  parallel_for (grad->numel, ELEMENTWISE_GRAIN, relu_backward_range, &job);
}

/* d xᵖ = p·xᵖ⁻¹ (zero when p = 0, as PyTorch). */
void
pow_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const float *x = node->saved[0]->data;
  float p = node->scalars[0];
  gi[0] = grad_like (grad);
  for (int64_t k = 0; k < grad->numel; k++)
    gi[0]->data[k] = p == 0 ? 0 : grad->data[k] * p * powf (x[k], p - 1);
}

/* --- Reductions ----------------------------------------------------------- */

/* ints[0]: bitmask of reduced dims (0 = all); ints[1]: keepdim. */
static Tensor *
reduce_op (OpKind op, Tensor *a, unsigned mask, bool keepdim, bool mean)
{
  int ndim = 0;
  int64_t shape[TENSOR_MAX_DIMS], keep_shape[TENSOR_MAX_DIMS];
  int64_t count = 1;
  for (int i = 0; i < a->ndim; i++)
    {
      bool reduced = mask == 0 || (mask & (1u << i));
      keep_shape[i] = reduced ? 1 : a->shape[i];
      if (reduced)
        count *= a->shape[i];
      if (!reduced || keepdim)
        shape[ndim++] = reduced ? 1 : a->shape[i];
    }
  if (mask == 0 && !keepdim)
    ndim = 0;
  Tensor *out = tensor_new_zeros (ndim, shape);
  int64_t s4[4], st[4];
  broadcast_strides (a->ndim, keep_shape, a->ndim, a->shape, s4, st);
  double *acc = g_new0 (double, out->numel);  /* sums in double, like a careful reducer */
  FOR_BROADCAST (s4, st, o, x, acc[x] += a->data[o]);
  for (int64_t i = 0; i < out->numel; i++)
    out->data[i] = mean ? acc[i] / (double) count : acc[i];
  g_free (acc);

  Node *node = autograd_record (op, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->ints[0] = mask;
      node->ints[1] = keepdim;
      node->scalars[0] = (double) count;
      autograd_commit (node);
    }
  return out;
}

static gboolean
dims_to_mask (const Tensor *a, int n_dims, const int *dims, unsigned *mask, GError **error)
{
  *mask = 0;
  for (int i = 0; i < n_dims; i++)
    {
      int d = dims[i] < 0 ? dims[i] + a->ndim : dims[i];
      if (d < 0 || d >= a->ndim || (*mask & (1u << d)))
        {
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "Dimension out of range or repeated: %d for a %d-d tensor", dims[i], a->ndim);
          return FALSE;
        }
      *mask |= 1u << d;
    }
  return TRUE;
}

Tensor *
tensor_sum (Tensor *a)
{
  return reduce_op (OP_SUM, a, 0, false, false);
}

Tensor *
tensor_mean (Tensor *a)
{
  return reduce_op (OP_MEAN, a, 0, false, true);
}

Tensor *
tensor_sum_dims (Tensor *a, int n_dims, const int *dims, bool keepdim, GError **error)
{
  unsigned mask;
  if (!dims_to_mask (a, n_dims, dims, &mask, error))
    return NULL;
  return reduce_op (OP_SUM_DIM, a, mask, keepdim, false);
}

Tensor *
tensor_mean_dims (Tensor *a, int n_dims, const int *dims, bool keepdim, GError **error)
{
  unsigned mask;
  if (!dims_to_mask (a, n_dims, dims, &mask, error))
    return NULL;
  return reduce_op (OP_MEAN_DIM, a, mask, keepdim, true);
}

/* The gradient of a sum is the incoming gradient stretched back over the
 * reduced dims; of a mean, the same divided by the count. */
void
sum_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  int ndim = node->input_ndim[0];
  const int64_t *in_shape = node->input_shape[0];
  unsigned mask = node->ints[0];
  int64_t keep_shape[TENSOR_MAX_DIMS];
  for (int i = 0; i < ndim; i++)
    keep_shape[i] = (mask == 0 || (mask & (1u << i))) ? 1 : in_shape[i];
  g_autoptr (Tensor) g = tensor_alias (grad);
  tensor_reshape_inplace (g, ndim, keep_shape);
  gi[0] = expand_to_shape (g, ndim, in_shape);
}

void
mean_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  sum_backward (node, grad, gi);
  float inv = 1.0f / (float) node->scalars[0];
  for (int64_t k = 0; k < gi[0]->numel; k++)
    gi[0]->data[k] *= inv;
}

Tensor *
tensor_norm (Tensor *a)
{
  Tensor *out = tensor_new_scalar ((float) tensor_norm2 (a));
  Node *node = autograd_record (OP_NORM, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "result", out);
      autograd_commit (node);
    }
  return out;
}

/* d‖x‖ = x / ‖x‖ (0 where ‖x‖ = 0, as PyTorch's masked version). */
void
norm_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *x = node->saved[0];
  float n = node->saved[1]->data[0];
  float scale = n == 0 ? 0 : grad->data[0] / n;
  gi[0] = tensor_new_empty (x->ndim, x->shape);
  for (int64_t k = 0; k < x->numel; k++)
    gi[0]->data[k] = x->data[k] * scale;
}

/* --- Views ----------------------------------------------------------------- */

Tensor *
tensor_view (Tensor *a, int ndim, const int64_t *shape_in, GError **error)
{
  int64_t shape[TENSOR_MAX_DIMS];
  int64_t known = 1;
  int infer = -1;
  if (ndim > TENSOR_MAX_DIMS)
    {
      set_shape_error (error, "view", a, NULL);
      return NULL;
    }
  for (int i = 0; i < ndim; i++)
    {
      shape[i] = shape_in[i];
      if (shape[i] == -1 && infer < 0)
        infer = i;
      else if (shape[i] < 0)
        {
          set_shape_error (error, "view", a, NULL);
          return NULL;
        }
      else
        known *= shape[i];
    }
  if (infer >= 0)
    shape[infer] = known ? a->numel / known : 0;
  Tensor *out = tensor_alias (a);
  if (!tensor_reshape_inplace (out, ndim, shape))
    {
      g_autofree char *want = shape_to_string (ndim, shape_in);
      g_autofree char *have = tensor_shape_string (a);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "shape '%s' is invalid for input of shape %s", want, have);
      tensor_unref (out);
      return NULL;
    }
  Node *node = autograd_record (OP_VIEW, out, 1, (Tensor *[]){ a });
  if (node)
    autograd_commit (node);
  return out;
}

Tensor *
tensor_flatten (Tensor *a, int start_dim)
{
  if (start_dim < 0)
    start_dim += a->ndim;
  /* torch.flatten returns its input when there is nothing to flatten. */
  if (a->ndim == 0 || start_dim >= a->ndim - 1)
    return tensor_ref (a);
  int64_t shape[TENSOR_MAX_DIMS];
  int64_t rest = 1;
  for (int i = 0; i < start_dim; i++)
    shape[i] = a->shape[i];
  for (int i = start_dim; i < a->ndim; i++)
    rest *= a->shape[i];
  shape[start_dim] = rest;
  return tensor_view (a, start_dim + 1, shape, NULL);
}

void
view_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = tensor_copy (grad);
  tensor_reshape_inplace (gi[0], node->input_ndim[0], node->input_shape[0]);
}

typedef struct
{
  const float *a;                  /* (m, n) */
  float *out;                      /* (n, m) */
  int64_t m, n;
} TransposeJob;

/* Blocks [b0, b1) of 16 rows of a. */
static void
transpose_blocks (gpointer data, int64_t b0, int64_t b1)
{
  const TransposeJob *j = data;
  vec_transpose (j->out, j->m, j->a, j->n, b0 * 16, MIN (b1 * 16, j->m), j->n);
}

static Tensor *
transpose_2d (const Tensor *a)
{
  int64_t m = a->shape[0], n = a->shape[1];
  Tensor *out = tensor_new_empty (2, (int64_t[]){ n, m });
  TransposeJob job = { a->data, out->data, m, n };
  /* Slices of whole 16-row blocks. */
  parallel_for ((m + 15) / 16, MAX (1, ELEMENTWISE_GRAIN / 16 / MAX (n, 1)), transpose_blocks,
                &job);
  return out;
}

Tensor *
tensor_t (Tensor *a, GError **error)
{
  if (a->ndim > 2)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "t() expects a tensor with <= 2 dimensions, but self is %dD", a->ndim);
      return NULL;
    }
  /* A 0-D or 1-D tensor is its own transpose; PyTorch still records TBackward0. */
  Tensor *out = a->ndim == 2 ? transpose_2d (a) : tensor_copy (a);
  Node *node = autograd_record (OP_T, out, 1, (Tensor *[]){ a });
  if (node)
    autograd_commit (node);
  return out;
}

void
t_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = grad->ndim == 2 ? transpose_2d (grad) : tensor_copy (grad);
}

/* --- Matmul ----------------------------------------------------------------- */

void
matmul_forward (float *out, const float *a, const float *b, bool trans_a, bool trans_b,
                float alpha, float beta, int m, int n, int k)
{
  /* a: (m, k), or (k, m) if trans_a; b: (k, n), or (n, k) if trans_b; out: (m, n).
   * gemm picks OpenBLAS or a direct kernel and runs it on the engine's threads. */
  gemm (trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, out, n);
}

void
matmul_forward_naive (float *out, const float *a, const float *b, bool trans_a, bool trans_b,
                      float alpha, float beta, int m, int n, int k)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double acc = 0;
        for (int p = 0; p < k; p++)
          {
            float x = trans_a ? a[p * m + i] : a[i * k + p];
            float y = trans_b ? b[j * k + p] : b[p * n + j];
            acc += (double) x * y;
          }
        float prev = beta == 0 ? 0 : beta * out[i * n + j];
        out[i * n + j] = alpha * (float) acc + prev;
      }
}

static gboolean
check_mm (const char *op, Tensor *a, Tensor *b, GError **error)
{
  if (a->ndim != 2 || b->ndim != 2)
    {
      set_shape_error (error, op, a, b);
      return FALSE;
    }
  if (a->shape[1] != b->shape[0])
    {
      /* PyTorch's message, which students search for. */
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "mat1 and mat2 shapes cannot be multiplied (%" G_GINT64_FORMAT "x%"
                   G_GINT64_FORMAT " and %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ")",
                   a->shape[0], a->shape[1], b->shape[0], b->shape[1]);
      return FALSE;
    }
  return TRUE;
}

Tensor *
tensor_mm (Tensor *a, Tensor *b, GError **error)
{
  if (!check_mm ("mm", a, b, error))
    return NULL;
  int m = a->shape[0], k = a->shape[1], n = b->shape[1];
  Tensor *out = tensor_new_zeros (2, (int64_t[]){ m, n });
  matmul_forward (out->data, a->data, b->data, false, false, 1, 0, m, n, k);
  Node *node = autograd_record (OP_MM, out, 2, (Tensor *[]){ a, b });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "mat2", b);
      autograd_commit (node);
    }
  return out;
}

/* out = a @ b: grad_a = grad @ bᵀ (m, k), grad_b = aᵀ @ grad (k, n). */
static void
mm_backward_into (const Tensor *a, const Tensor *b, const Tensor *grad, Tensor **ga, Tensor **gb)
{
  int m = a->shape[0], k = a->shape[1], n = b->shape[1];
  if (ga)
    {
      *ga = tensor_new_empty (2, (int64_t[]){ m, k });
      matmul_forward ((*ga)->data, grad->data, b->data, false, true, 1, 0, m, k, n);
    }
  if (gb)
    {
      *gb = tensor_new_empty (2, (int64_t[]){ k, n });
      matmul_forward ((*gb)->data, a->data, grad->data, true, false, 1, 0, k, n, m);
    }
}

void
mm_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  mm_backward_into (node->saved[0], node->saved[1], grad,
                    node->next[0].node ? &gi[0] : NULL, node->next[1].node ? &gi[1] : NULL);
}

Tensor *
tensor_addmm (Tensor *bias, Tensor *a, Tensor *b, GError **error)
{
  if (!check_mm ("addmm", a, b, error))
    return NULL;
  int m = a->shape[0], k = a->shape[1], n = b->shape[1];
  int out_ndim;
  int64_t out_shape[TENSOR_MAX_DIMS];
  if (!broadcast_shapes (bias->ndim, bias->shape, 2, (int64_t[]){ m, n }, &out_ndim, out_shape)
      || out_ndim != 2 || out_shape[0] != m || out_shape[1] != n)
    {
      set_shape_error (error, "addmm", bias, a);
      return NULL;
    }
  Tensor *out = expand_to_shape (bias, 2, (int64_t[]){ m, n });
  matmul_forward (out->data, a->data, b->data, false, false, 1, 1, m, n, k);
  Node *node = autograd_record (OP_ADDMM, out, 3, (Tensor *[]){ bias, a, b });
  if (node)
    {
      node_save (node, "mat1", a);
      node_save (node, "mat2", b);
      autograd_commit (node);
    }
  return out;
}

void
addmm_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  if (node->next[0].node)
    gi[0] = tensor_sum_to_shape (grad, node->input_ndim[0], node->input_shape[0]);
  mm_backward_into (node->saved[0], node->saved[1], grad,
                    node->next[1].node ? &gi[1] : NULL, node->next[2].node ? &gi[2] : NULL);
}

Tensor *
tensor_linear (Tensor *x, Tensor *weight, Tensor *bias, GError **error)
{
  g_autoptr (Tensor) wt = tensor_t (weight, error);
  if (wt == NULL)
    return NULL;
  if (bias)
    return tensor_addmm (bias, x, wt, error);
  return tensor_mm (x, wt, error);
}

/* --- Comparisons ------------------------------------------------------------ */

bool
tensor_equal_values (const Tensor *a, const Tensor *b)
{
  if (!tensor_same_shape (a, b))
    return false;
  for (int64_t i = 0; i < a->numel; i++)
    if (a->data[i] != b->data[i])
      return false;
  return true;
}

bool
tensor_allclose (const Tensor *a, const Tensor *b, float rtol, float atol)
{
  if (a->numel != b->numel)
    return false;
  for (int64_t i = 0; i < a->numel; i++)
    if (!(fabsf (a->data[i] - b->data[i]) <= atol + rtol * fabsf (b->data[i])))
      return false;
  return true;
}

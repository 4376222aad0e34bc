/* ops-matmul.c — mv, dot, bmm and matmul's dispatch: forward and backward side
 * by side. The products go through matmul_forward (ops.h), whose naive reference
 * test-ops checks. */
#include "ops-private.h"
#include "backward.h"

#include <string.h>

static void
set_matmul_error (GError **error, const Tensor *a, const Tensor *b)
{
  /* PyTorch's words for a 2-D product that does not fit. */
  g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
               "mat1 and mat2 shapes cannot be multiplied (%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
               " and %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ")",
               a->ndim == 2 ? a->shape[0] : 1, a->shape[a->ndim - 1],
               b->shape[0], b->ndim == 2 ? b->shape[1] : 1);
}

/* --- mv: (m, k) @ (k) → (m) ------------------------------------------------------- */

Tensor *
tensor_mv (Tensor *a, Tensor *v, GError **error)
{
  if (a->ndim != 2 || v->ndim != 1 || a->shape[1] != v->shape[0])
    {
      if (a->ndim == 2 && v->ndim == 1)
        g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                     "size mismatch, got input (%" G_GINT64_FORMAT "), mat (%" G_GINT64_FORMAT
                     "x%" G_GINT64_FORMAT "), vec (%" G_GINT64_FORMAT ")",
                     a->shape[0], a->shape[0], a->shape[1], v->shape[0]);
      else
        set_shape_error (error, "mv", a, v);
      return NULL;
    }
  int m = a->shape[0], k = a->shape[1];
  Tensor *out = tensor_new_zeros (1, (int64_t[]){ m });
  matmul_forward (out->data, a->data, v->data, false, false, 1, 0, m, 1, k);
  Node *node = autograd_record (OP_MV, out, 2, (Tensor *[]){ a, v });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "vec", v);
      autograd_commit (node);
    }
  return out;
}

/* out = A v: grad_A = g vᵀ (m, k), grad_v = Aᵀ g (k). */
void
mv_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *a = node->saved[0], *v = node->saved[1];
  int m = a->shape[0], k = a->shape[1];
  if (node->next[0].node)
    {
      gi[0] = tensor_new_empty (2, a->shape);
      matmul_forward (gi[0]->data, grad->data, v->data, false, false, 1, 0, m, k, 1);
    }
  if (node->next[1].node)
    {
      gi[1] = tensor_new_empty (1, v->shape);
      matmul_forward (gi[1]->data, a->data, grad->data, true, false, 1, 0, k, 1, m);
    }
}

/* --- dot: (n) · (n) → () ------------------------------------------------------------ */

Tensor *
tensor_dot (Tensor *a, Tensor *b, GError **error)
{
  if (a->ndim != 1 || b->ndim != 1)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "1D tensors expected, but got %dD and %dD tensors", a->ndim, b->ndim);
      return NULL;
    }
  if (a->shape[0] != b->shape[0])
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "inconsistent tensor size, expected tensor [%" G_GINT64_FORMAT "] and src [%"
                   G_GINT64_FORMAT "] to have the same number of elements, but got %"
                   G_GINT64_FORMAT " and %" G_GINT64_FORMAT " elements respectively",
                   a->shape[0], b->shape[0], a->shape[0], b->shape[0]);
      return NULL;
    }
  float sum = 0;
  for (int64_t i = 0; i < a->numel; i++)
    sum += a->data[i] * b->data[i];
  Tensor *out = tensor_new_scalar (sum);
  Node *node = autograd_record (OP_DOT, out, 2, (Tensor *[]){ a, b });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "tensor", b);
      autograd_commit (node);
    }
  return out;
}

/* d(a·b)/da = g b, d(a·b)/db = g a. */
void
dot_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  float g = grad->data[0];
  for (int i = 0; i < 2; i++)
    if (node->next[i].node)
      {
        const Tensor *other = node->saved[1 - i];
        gi[i] = tensor_new_empty (1, other->shape);
        for (int64_t k = 0; k < other->numel; k++)
          gi[i]->data[k] = g * other->data[k];
      }
}

/* --- bmm: (B, m, k) @ (B, k, n) → (B, m, n) ----------------------------------------- */

Tensor *
tensor_bmm (Tensor *a, Tensor *b, GError **error)
{
  if (a->ndim != 3 || b->ndim != 3 || a->shape[0] != b->shape[0] || a->shape[2] != b->shape[1])
    {
      set_shape_error (error, "bmm", a, b);
      return NULL;
    }
  int64_t batch = a->shape[0];
  int m = a->shape[1], k = a->shape[2], n = b->shape[2];
  Tensor *out = tensor_new_zeros (3, (int64_t[]){ batch, m, n });
  for (int64_t i = 0; i < batch; i++)
    matmul_forward (out->data + i * m * n, a->data + i * m * k, b->data + i * k * n,
                    false, false, 1, 0, m, n, k);
  Node *node = autograd_record (OP_BMM, out, 2, (Tensor *[]){ a, b });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "mat2", b);
      autograd_commit (node);
    }
  return out;
}

/* Per batch entry, as mm: grad_a = g bᵀ, grad_b = aᵀ g. */
void
bmm_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *a = node->saved[0], *b = node->saved[1];
  int64_t batch = a->shape[0];
  int m = a->shape[1], k = a->shape[2], n = b->shape[2];
  if (node->next[0].node)
    gi[0] = tensor_new_empty (3, a->shape);
  if (node->next[1].node)
    gi[1] = tensor_new_empty (3, b->shape);
  for (int64_t i = 0; i < batch; i++)
    {
      const float *g = grad->data + i * m * n;
      if (gi[0])
        matmul_forward (gi[0]->data + i * m * k, g, b->data + i * k * n, false, true, 1, 0,
                        m, k, n);
      if (gi[1])
        matmul_forward (gi[1]->data + i * k * n, a->data + i * m * k, g, true, false, 1, 0,
                        k, n, m);
    }
}

/* (…, n, k) @ (k, p) or (k): PyTorch 2.x folds the batch into the rows (its
 * should_fold, for a contiguous first operand): a.reshape (-1, k) (ViewBackward0),
 * mm or mv, then _unsafe_view back to (…, n, p) (UnsafeViewBackward0). */
static Tensor *
matmul_folded (Tensor *a, Tensor *b, GError **error)
{
  int64_t k = a->shape[a->ndim - 1], rows = k ? a->numel / k : 0;
  if (b->shape[0] != k)
    {
      if (b->ndim == 2)
        g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                     "mat1 and mat2 shapes cannot be multiplied (%" G_GINT64_FORMAT "x%"
                     G_GINT64_FORMAT " and %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ")",
                     rows, k, b->shape[0], b->shape[1]);
      else
        g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                     "size mismatch, got input (%" G_GINT64_FORMAT "), mat (%" G_GINT64_FORMAT
                     "x%" G_GINT64_FORMAT "), vec (%" G_GINT64_FORMAT ")",
                     rows, rows, k, b->shape[0]);
      return NULL;
    }
  g_autoptr (Tensor) folded = tensor_reshape (a, 2, (int64_t[]){ rows, k }, error);
  g_autoptr (Tensor) prod = b->ndim == 2 ? tensor_mm (folded, b, error)
                                         : tensor_mv (folded, b, error);
  if (prod == NULL)
    return NULL;
  int64_t shape[TENSOR_MAX_DIMS];
  memcpy (shape, a->shape, (a->ndim - 1) * sizeof *shape);
  shape[a->ndim - 1] = b->ndim == 2 ? b->shape[1] : 0;
  return tensor_unsafe_view (prod, a->ndim - (b->ndim == 1), shape);
}

/* (…, n, k) @ (…, k, p) with the same batch dims: PyTorch 2.x expands both to the
 * batch (ExpandBackward0, recorded though nothing changes size), reshapes them to
 * 3-D (ViewBackward0), bmm, and _unsafe_view (UnsafeViewBackward0) to (…, n, p). */
static Tensor *
matmul_batched (Tensor *a, Tensor *b, GError **error)
{
  int nd = a->ndim;
  int64_t n = a->shape[nd - 2], k = a->shape[nd - 1], p = b->shape[nd - 1];
  int64_t batch = 1;
  for (int d = 0; d < nd - 2; d++)
    batch *= a->shape[d];
  if (b->shape[nd - 2] != k)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "Expected size for first two dimensions of batch2 tensor to be: [%"
                   G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] but got: [%" G_GINT64_FORMAT ", %"
                   G_GINT64_FORMAT "].", batch, k, batch, b->shape[nd - 2]);
      return NULL;
    }
  g_autoptr (Tensor) ea = tensor_expand (a, nd, a->shape, error);
  g_autoptr (Tensor) eb = tensor_expand (b, nd, b->shape, error);
  g_autoptr (Tensor) a3 = tensor_reshape (ea, 3, (int64_t[]){ batch, n, k }, error);
  g_autoptr (Tensor) b3 = tensor_reshape (eb, 3, (int64_t[]){ batch, k, p }, error);
  g_autoptr (Tensor) prod = tensor_bmm (a3, b3, error);
  int64_t shape[TENSOR_MAX_DIMS];
  memcpy (shape, a->shape, nd * sizeof *shape);
  shape[nd - 1] = p;
  return tensor_unsafe_view (prod, nd, shape);
}

/* --- matmul --------------------------------------------------------------------------- */

Tensor *
tensor_matmul (Tensor *a, Tensor *b, GError **error)
{
  if (a->ndim == 0 || b->ndim == 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "both arguments to matmul need to be at least 1D, but they are %dD and %dD",
                   a->ndim, b->ndim);
      return NULL;
    }
  if (a->ndim == 1 && b->ndim == 1)
    return tensor_dot (a, b, error);
  if (a->ndim == 2 && b->ndim == 1)
    return tensor_mv (a, b, error);
  if (a->ndim == 1 && b->ndim == 2)
    {
      /* a.unsqueeze(0).mm(b).squeeze_(0): the in-place squeeze_ is SqueezeBackward4
       * in PyTorch 2.x (SqueezeBackward3 in 1.13, before squeeze.dims existed). */
      if (a->shape[0] != b->shape[0])
        {
          set_matmul_error (error, a, b);
          return NULL;
        }
      g_autoptr (Tensor) row = tensor_unsqueeze (a, 0, error);
      g_autoptr (Tensor) prod = tensor_mm (row, b, error);
      return prod ? tensor_squeeze_dim_inplace (prod, 0, error) : NULL;
    }
  if (a->ndim == 2 && b->ndim == 2)
    {
      if (a->shape[1] != b->shape[0])
        {
          set_matmul_error (error, a, b);
          return NULL;
        }
      return tensor_mm (a, b, error);
    }
  if (a->ndim >= 3 && b->ndim <= 2)
    return matmul_folded (a, b, error);
  if (a->ndim >= 3 && a->ndim == b->ndim
      && memcmp (a->shape, b->shape, (a->ndim - 2) * sizeof (int64_t)) == 0)
    return matmul_batched (a, b, error);
  g_autofree char *as = tensor_shape_string (a);
  g_autofree char *bs = tensor_shape_string (b);
  g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
               "matmul of %s and %s: GradLens multiplies batches of the same shape, and "
               "batches by 1-D or 2-D operands (not 1-D/2-D by batches, nor broadcast "
               "batches)", as, bs);
  return NULL;
}

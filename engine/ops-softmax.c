/* ops-softmax.c — softmax and log_softmax along a dim, and max/min over all
 * elements or along a dim: forward and backward side by side.
 *
 * Along dim, a tensor is (outer, n, inner): element (o, j, i) sits at
 * (o·n + j)·inner + i.
 */
#include "ops-private.h"
#include "backward.h"

#include <math.h>
#include <string.h>

static void
split_at_dim (const int64_t *shape, int ndim, int dim, int64_t *outer, int64_t *n, int64_t *inner)
{
  *outer = *inner = 1;
  *n = ndim > 0 ? shape[dim] : 1;
  for (int d = 0; d < dim; d++)
    *outer *= shape[d];
  for (int d = dim + 1; d < ndim; d++)
    *inner *= shape[d];
}

/* y = softmax (x) or log_softmax (x) along dim, computed as PyTorch does: shift by
 * the row's max, exp, sum (in float), then divide (softmax) or subtract the log of
 * the sum (log_softmax). */
static Tensor *
softmax_op (Tensor *a, int dim, bool log, GError **error)
{
  if (!normalize_dim (&dim, a->ndim, error))
    return NULL;
  int64_t outer, n, inner;
  split_at_dim (a->shape, a->ndim, dim, &outer, &n, &inner);
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        const float *x = a->data + o * n * inner + i;
        float *y = out->data + o * n * inner + i;
        float max = -INFINITY;
        for (int64_t j = 0; j < n; j++)
          max = fmaxf (max, x[j * inner]);
        float sum = 0;
        for (int64_t j = 0; j < n; j++)
          {
            float e = expf (x[j * inner] - max);
            sum += e;
            y[j * inner] = log ? x[j * inner] - max : e;
          }
        float log_sum = logf (sum);
        for (int64_t j = 0; j < n; j++)
          y[j * inner] = log ? y[j * inner] - log_sum : y[j * inner] / sum;
      }
  Node *node = autograd_record (log ? OP_LOG_SOFTMAX : OP_SOFTMAX, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->ints[0] = dim;
      node_save (node, "result", out);
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_softmax (Tensor *a, int dim, GError **error)
{
  return softmax_op (a, dim, false, error);
}

Tensor *
tensor_log_softmax (Tensor *a, int dim, GError **error)
{
  return softmax_op (a, dim, true, error);
}

/* softmax: gx = y ⊙ (g − Σⱼ gⱼyⱼ); log_softmax: gx = g − eʸ Σⱼ gⱼ (sums along dim). */
static void
softmax_backward_op (Node *node, const Tensor *grad, Tensor **gi, bool log)
{
  const Tensor *y = node->saved[0];
  int64_t outer, n, inner;
  split_at_dim (y->shape, y->ndim, node->ints[0], &outer, &n, &inner);
  gi[0] = grad_like (grad);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        int64_t base = o * n * inner + i;
        const float *g = grad->data + base, *yy = y->data + base;
        float *gx = gi[0]->data + base;
        float dot = 0;
        for (int64_t j = 0; j < n; j++)
          dot += log ? g[j * inner] : g[j * inner] * yy[j * inner];
        for (int64_t j = 0; j < n; j++)
          gx[j * inner] = log ? g[j * inner] - expf (yy[j * inner]) * dot
                              : yy[j * inner] * (g[j * inner] - dot);
      }
}

void
softmax_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  softmax_backward_op (node, grad, gi, false);
}

void
log_softmax_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  softmax_backward_op (node, grad, gi, true);
}

/* --- max / min over all elements -------------------------------------------- */

static Tensor *
extremum (Tensor *a, bool is_max, GError **error)
{
  if (a->numel == 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "%s(): Expected reduction dim to be specified for input.numel() == 0. "
                   "Specify the reduction dim with the 'dim' argument.", is_max ? "max" : "min");
      return NULL;
    }
  /* A NaN anywhere is the answer, as in PyTorch. */
  float best = a->data[0];
  for (int64_t i = 1; i < a->numel && !isnan (best); i++)
    {
      float x = a->data[i];
      if (isnan (x) || (is_max ? x > best : x < best))
        best = x;
    }
  Tensor *out = tensor_new_scalar (best);
  Node *node = autograd_record (is_max ? OP_MAX : OP_MIN, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "result", out);
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_max (Tensor *a, GError **error)
{
  return extremum (a, true, error);
}

Tensor *
tensor_min (Tensor *a, GError **error)
{
  return extremum (a, false, error);
}

/* PyTorch's evenly_distribute_backward: the gradient is shared equally by every
 * element equal to the result (ties split it). */
void
max_min_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *x = node->saved[0];
  float y = node->saved[1]->data[0];
  bool nan = isnan (y);
  int64_t count = 0;
  for (int64_t k = 0; k < x->numel; k++)
    count += nan ? isnan (x->data[k]) : x->data[k] == y;
  float share = grad->data[0] / (float) count;
  gi[0] = tensor_new_zeros (x->ndim, x->shape);
  for (int64_t k = 0; k < x->numel; k++)
    if (nan ? isnan (x->data[k]) : x->data[k] == y)
      gi[0]->data[k] = share;
}

/* --- max / min along a dim ----------------------------------------------------- */

typedef struct
{
  int64_t *indices;                /* (outer · inner): the position along dim */
} ExtremumExtra;

static void
extremum_extra_free (gpointer data)
{
  ExtremumExtra *e = data;
  g_free (e->indices);
  g_free (e);
}

static Tensor *
extremum_dim (Tensor *a, int dim, bool keepdim, int64_t *indices, bool is_max, GError **error)
{
  if (!normalize_dim (&dim, a->ndim, error))
    return NULL;
  int64_t outer, n, inner;
  split_at_dim (a->shape, a->ndim, dim, &outer, &n, &inner);
  if (n == 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "%s(): Expected reduction dim %d to have non-zero size.",
                   is_max ? "max" : "min", dim);
      return NULL;
    }
  int ndim = 0;
  int64_t shape[TENSOR_MAX_DIMS];
  for (int d = 0; d < a->ndim; d++)
    if (d != dim || keepdim)
      shape[ndim++] = d == dim ? 1 : a->shape[d];
  Tensor *out = tensor_new_empty (ndim, shape);
  int64_t *idx = g_new (int64_t, outer * inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        const float *x = a->data + o * n * inner + i;
        int64_t best = 0;
        /* The first of ties; a NaN wins (the first NaN). */
        for (int64_t j = 1; j < n && !isnan (x[best * inner]); j++)
          if (isnan (x[j * inner]) || (is_max ? x[j * inner] > x[best * inner]
                                              : x[j * inner] < x[best * inner]))
            best = j;
        out->data[o * inner + i] = x[best * inner];
        idx[o * inner + i] = best;
      }
  if (indices)
    memcpy (indices, idx, outer * inner * sizeof *idx);
  Node *node = autograd_record (is_max ? OP_MAX_DIM : OP_MIN_DIM, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->ints[0] = dim;
      node->ints[1] = keepdim;
      ExtremumExtra *e = g_new (ExtremumExtra, 1);
      e->indices = g_steal_pointer (&idx);
      node_set_extra (node, e, extremum_extra_free);   /* PyTorch saves indices */
      autograd_commit (node);
    }
  g_free (idx);
  return out;
}

Tensor *
tensor_max_dim (Tensor *a, int dim, bool keepdim, int64_t *indices, GError **error)
{
  return extremum_dim (a, dim, keepdim, indices, true, error);
}

Tensor *
tensor_min_dim (Tensor *a, int dim, bool keepdim, int64_t *indices, GError **error)
{
  return extremum_dim (a, dim, keepdim, indices, false, error);
}

/* The gradient of each value goes to the element it came from. */
void
max_min_dim_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const ExtremumExtra *e = node->extra;
  int64_t outer, n, inner;
  split_at_dim (node->input_shape[0], node->input_ndim[0], node->ints[0], &outer, &n, &inner);
  gi[0] = node_new_input_grad (node, 0);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      gi[0]->data[(o * n + e->indices[o * inner + i]) * inner + i] = grad->data[o * inner + i];
}

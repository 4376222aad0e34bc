/* ops-shape.c — unsqueeze, squeeze, reshape, transpose, permute, expand, select,
 * slice, clone, cat and stack: forward and backward side by side.
 *
 * Tensors here are always contiguous. The ops PyTorch answers with a view of the
 * same memory that stays contiguous (unsqueeze, squeeze, reshape) share the data
 * (tensor_alias); the others (transpose, permute, expand, select, slice) are
 * copies, recorded with the grad_fn PyTorch gives its view.
 */
#include "ops-private.h"
#include "backward.h"

#include <string.h>

/* out shares a's data with a new shape; recorded as op. */
static Tensor *
reshaped_alias (OpKind op, Tensor *a, int ndim, const int64_t *shape, int64_t dim)
{
  Tensor *out = tensor_alias (a);
  gboolean ok = tensor_reshape_inplace (out, ndim, shape);
  g_assert (ok);
  Node *node = autograd_record (op, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->ints[0] = dim;
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_unsqueeze (Tensor *a, int dim, GError **error)
{
  /* dim may be ndim (append): wrap against ndim + 1. */
  if (a->ndim == TENSOR_MAX_DIMS)
    {
      set_shape_error (error, "unsqueeze (at most 4 dims)", a, NULL);
      return NULL;
    }
  if (!normalize_dim (&dim, a->ndim + 1, error))
    return NULL;
  int64_t shape[TENSOR_MAX_DIMS];
  for (int i = 0, j = 0; i <= a->ndim; i++)
    shape[i] = i == dim ? 1 : a->shape[j++];
  return reshaped_alias (OP_UNSQUEEZE, a, a->ndim + 1, shape, dim);
}

Tensor *
tensor_squeeze (Tensor *a)
{
  int ndim = 0;
  int64_t shape[TENSOR_MAX_DIMS];
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != 1)
      shape[ndim++] = a->shape[i];
  /* Recorded even when nothing is squeezed, as PyTorch does. */
  return reshaped_alias (OP_SQUEEZE, a, ndim, shape, -1);
}

static Tensor *
squeeze_dim (OpKind op, Tensor *a, int dim, GError **error)
{
  if (!normalize_dim (&dim, a->ndim, error))
    return NULL;
  if (a->ndim == 0 || a->shape[dim] != 1)
    return reshaped_alias (op, a, a->ndim, a->shape, dim);
  int64_t shape[TENSOR_MAX_DIMS];
  for (int i = 0, j = 0; i < a->ndim; i++)
    if (i != dim)
      shape[j++] = a->shape[i];
  return reshaped_alias (op, a, a->ndim - 1, shape, dim);
}

Tensor *
tensor_squeeze_dim (Tensor *a, int dim, GError **error)
{
  return squeeze_dim (OP_SQUEEZE_DIM, a, dim, error);
}

Tensor *
tensor_squeeze_dim_inplace (Tensor *a, int dim, GError **error)
{
  return squeeze_dim (OP_SQUEEZE_DIM_INPLACE, a, dim, error);
}

Tensor *
tensor_reshape (Tensor *a, int ndim, const int64_t *shape, GError **error)
{
  /* PyTorch 2.x: a view of a contiguous tensor, ViewBackward0 (1.13 printed
   * ReshapeAliasBackward0). */
  return tensor_view (a, ndim, shape, error);
}

Tensor *
tensor_unsafe_view (Tensor *a, int ndim, const int64_t *shape)
{
  return reshaped_alias (OP_UNSAFE_VIEW, a, ndim, shape, -1);
}

/* --- permute / transpose ----------------------------------------------------- */

/* out = a with its dims reordered: out dim i is a's dim perm[i]. */
static Tensor *
permute_kernel (const float *a, int ndim, const int64_t *a_shape, const int *perm)
{
  int64_t out_shape[TENSOR_MAX_DIMS] = { 0 }, a_strides[TENSOR_MAX_DIMS];
  int64_t stride = 1;
  for (int d = ndim - 1; d >= 0; d--)
    {
      a_strides[d] = stride;
      stride *= a_shape[d];
    }
  /* Pad to 4 dims: the strides into a, walked in out's order. */
  int64_t s4[4] = { 1, 1, 1, 1 }, st[4] = { 0, 0, 0, 0 };
  for (int i = 0; i < ndim; i++)
    {
      out_shape[i] = a_shape[perm[i]];
      s4[4 - ndim + i] = out_shape[i];
      st[4 - ndim + i] = a_strides[perm[i]];
    }
  Tensor *out = tensor_new_empty (ndim, out_shape);
  FOR_BROADCAST (s4, st, o, x, out->data[o] = a[x]);
  return out;
}

static Tensor *
permute_op (OpKind op, Tensor *a, const int *perm)
{
  Tensor *out = permute_kernel (a->data, a->ndim, a->shape, perm);
  Node *node = autograd_record (op, out, 1, (Tensor *[]){ a });
  if (node)
    {
      for (int i = 0; i < a->ndim; i++)
        node->ints[i] = perm[i];
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_permute (Tensor *a, int n_dims, const int *dims, GError **error)
{
  int perm[TENSOR_MAX_DIMS];
  unsigned seen = 0;
  if (n_dims != a->ndim)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "permute(sparse_coo): number of dimensions in the tensor input does not "
                   "match the length of the desired ordering of dimensions i.e. input.dim() = "
                   "%d is not equal to len(dims) = %d", a->ndim, n_dims);
      return NULL;
    }
  for (int i = 0; i < n_dims; i++)
    {
      perm[i] = dims[i];
      if (!normalize_dim (&perm[i], a->ndim, error))
        return NULL;
      if (seen & (1u << perm[i]))
        {
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "permute(): duplicate dims are not allowed.");
          return NULL;
        }
      seen |= 1u << perm[i];
    }
  return permute_op (OP_PERMUTE, a, perm);
}

Tensor *
tensor_transpose (Tensor *a, int dim0, int dim1, GError **error)
{
  if (!normalize_dim (&dim0, a->ndim, error) || !normalize_dim (&dim1, a->ndim, error))
    return NULL;
  int perm[TENSOR_MAX_DIMS] = { 0, 1, 2, 3 };
  if (a->ndim > 0)
    {
      perm[dim0] = dim1;
      perm[dim1] = dim0;
    }
  return permute_op (OP_TRANSPOSE, a, perm);
}

Tensor *
tensor_T (Tensor *a, GError **error)
{
  /* Tensor.T reverses all dims (PermuteBackward0); only 0-, 1- and 2-D are allowed
   * by PyTorch 2.x without a warning. */
  int perm[TENSOR_MAX_DIMS];
  for (int i = 0; i < a->ndim; i++)
    perm[i] = a->ndim - 1 - i;
  return tensor_permute (a, a->ndim, perm, error);
}

/* The gradient goes back through the inverse permutation. */
void
permute_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  int inverse[TENSOR_MAX_DIMS];
  for (int i = 0; i < grad->ndim; i++)
    inverse[node->ints[i]] = i;
  gi[0] = permute_kernel (grad->data, grad->ndim, grad->shape, inverse);
}

/* --- expand -------------------------------------------------------------------- */

Tensor *
tensor_expand (Tensor *a, int ndim, const int64_t *sizes, GError **error)
{
  int64_t shape[TENSOR_MAX_DIMS];
  if (ndim < a->ndim || ndim > TENSOR_MAX_DIMS)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "expand: the number of sizes provided (%d) must be greater or equal to the "
                   "number of dimensions in the tensor (%d)", ndim, a->ndim);
      return NULL;
    }
  for (int i = 0; i < ndim; i++)
    {
      int ai = i - (ndim - a->ndim);
      int64_t have = ai >= 0 ? a->shape[ai] : 1;
      shape[i] = sizes[i] == -1 && ai >= 0 ? have : sizes[i];
      if (shape[i] < 0 || (have != 1 && have != shape[i]))
        {
          g_autofree char *want = shape_to_size_list (ndim, sizes);
          g_autofree char *got = shape_to_size_list (a->ndim, a->shape);
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "The expanded size of the tensor (%" G_GINT64_FORMAT ") must match the "
                       "existing size (%" G_GINT64_FORMAT ") at non-singleton dimension %d.  "
                       "Target sizes: %s.  Tensor sizes: %s", sizes[i], have, i, want, got);
          return NULL;
        }
    }
  Tensor *out = expand_to_shape (a, ndim, shape);
  Node *node = autograd_record (OP_EXPAND, out, 1, (Tensor *[]){ a });
  if (node)
    autograd_commit (node);
  return out;
}

/* The gradient of a broadcast: summed back over the stretched dims. */
void
expand_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = tensor_sum_to_shape (grad, node->input_ndim[0], node->input_shape[0]);
}

/* --- select / slice -------------------------------------------------------------- */

/* Along dim, a is (outer, n, inner); the picked rows are start, start + step, ...
 * (count of them). Forward copies them out of a; backward writes them back. */
typedef struct
{
  int64_t outer, n, inner, start, step, count;
} Rows;

static Rows
rows_at (int ndim, const int64_t *shape, int dim, int64_t start, int64_t step, int64_t count)
{
  Rows r = { 1, shape[dim], 1, start, step, count };
  for (int d = 0; d < dim; d++)
    r.outer *= shape[d];
  for (int d = dim + 1; d < ndim; d++)
    r.inner *= shape[d];
  return r;
}

static void
rows_copy (const Rows *r, float *picked, float *full, bool to_full)
{
  for (int64_t o = 0; o < r->outer; o++)
    for (int64_t k = 0; k < r->count; k++)
      {
        float *f = full + (o * r->n + r->start + k * r->step) * r->inner;
        float *p = picked + (o * r->count + k) * r->inner;
        if (to_full)
          memcpy (f, p, r->inner * sizeof (float));
        else
          memcpy (p, f, r->inner * sizeof (float));
      }
}

/* ints: dim, start, step, count. */
static Tensor *
pick_rows (OpKind op, Tensor *a, int dim, int64_t start, int64_t step, int64_t count,
           bool drop_dim)
{
  int64_t shape[TENSOR_MAX_DIMS];
  int ndim = 0;
  for (int d = 0; d < a->ndim; d++)
    if (d != dim || !drop_dim)
      shape[ndim++] = d == dim ? count : a->shape[d];
  Tensor *out = tensor_new_empty (ndim, shape);
  Rows r = rows_at (a->ndim, a->shape, dim, start, step, count);
  rows_copy (&r, out->data, a->data, false);
  Node *node = autograd_record (op, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->ints[0] = dim;
      node->ints[1] = start;
      node->ints[2] = step;
      node->ints[3] = count;
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_select (Tensor *a, int dim, int64_t index, GError **error)
{
  if (a->ndim == 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "select() cannot be applied to a 0-dim tensor.");
      return NULL;
    }
  if (!normalize_dim (&dim, a->ndim, error))
    return NULL;
  int64_t n = a->shape[dim];
  if (index < -n || index >= n)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "index %" G_GINT64_FORMAT " is out of bounds for dimension %d with size %"
                   G_GINT64_FORMAT, index, dim, n);
      return NULL;
    }
  return pick_rows (OP_SELECT, a, dim, index < 0 ? index + n : index, 1, 1, true);
}

Tensor *
tensor_slice (Tensor *a, int dim, int64_t start, int64_t end, int64_t step, GError **error)
{
  if (a->ndim == 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "slice() cannot be applied to a 0-dim tensor.");
      return NULL;
    }
  if (!normalize_dim (&dim, a->ndim, error))
    return NULL;
  if (step <= 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE, "slice step must be positive");
      return NULL;
    }
  /* Python's rules: negative bounds count from the end, then clamp to [0, n]. */
  int64_t n = a->shape[dim];
  if (start < 0)
    start += n;
  if (end < 0)
    end += n;
  start = CLAMP (start, 0, n);
  end = CLAMP (end, start, n);
  return pick_rows (OP_SLICE, a, dim, start, step, (end - start + step - 1) / step, false);
}

/* Zeros of the input's shape, with the gradient written back into the picked rows. */
void
slice_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = node_new_input_grad (node, 0);
  Rows r = rows_at (node->input_ndim[0], node->input_shape[0], node->ints[0], node->ints[1],
                    node->ints[2], node->ints[3]);
  rows_copy (&r, grad->data, gi[0]->data, true);
}

/* --- clone ------------------------------------------------------------------------ */

Tensor *
tensor_clone (Tensor *a)
{
  Tensor *out = tensor_copy (a);
  Node *node = autograd_record (OP_CLONE, out, 1, (Tensor *[]){ a });
  if (node)
    autograd_commit (node);
  return out;
}

void
clone_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  gi[0] = tensor_copy (grad);
}

/* --- cat / stack ---------------------------------------------------------------------- */

/* Each input is (outer, nᵢ, inner) along dim; out is (outer, Σnᵢ, inner). stack is
 * the same with every nᵢ = 1 and a new dim. ints[0]: dim (of the output). */
static Tensor *
cat_op (OpKind op, int n, Tensor *const *tensors, int dim, GError **error)
{
  const char *what = op == OP_CAT ? "torch.cat" : "stack";
  if (n < 1 || n > NODE_MAX_EDGES)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "%s: GradLens takes 1 to %d tensors (got %d)", what, NODE_MAX_EDGES, n);
      return NULL;
    }
  const Tensor *t0 = tensors[0];
  bool stack = op == OP_STACK;
  int ndim = t0->ndim + stack;
  if (ndim == 0 || ndim > TENSOR_MAX_DIMS)
    {
      set_shape_error (error, what, t0, NULL);
      return NULL;
    }
  if (!normalize_dim (&dim, ndim, error))
    return NULL;
  int64_t shape[TENSOR_MAX_DIMS];
  /* The inputs' sizes; dim's is summed below (stack's is a new dim). */
  for (int d = 0, j = 0; d < ndim; d++)
    shape[d] = stack && d == dim ? 0 : t0->shape[j++];
  shape[dim] = 0;
  for (int i = 0; i < n; i++)
    {
      const Tensor *t = tensors[i];
      if (stack && !tensor_same_shape (t, t0))
        {
          g_autofree char *s0 = shape_to_size_list (t0->ndim, t0->shape);
          g_autofree char *si = shape_to_size_list (t->ndim, t->shape);
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "stack expects each tensor to be equal size, but got %s at entry 0 and "
                       "%s at entry %d", s0, si, i);
          return NULL;
        }
      if (!stack && t->ndim != t0->ndim)
        {
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "Tensors must have same number of dimensions: got %d and %d",
                       t0->ndim, t->ndim);
          return NULL;
        }
      for (int d = 0; !stack && d < ndim; d++)
        if (d != dim && t->shape[d] != t0->shape[d])
          {
            g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                         "Sizes of tensors must match except in dimension %d. Expected size %"
                         G_GINT64_FORMAT " but got size %" G_GINT64_FORMAT " for tensor number "
                         "%d in the list.", dim, t0->shape[d], t->shape[d], i);
            return NULL;
          }
      shape[dim] += stack ? 1 : t->shape[dim];
    }
  Tensor *out = tensor_new_empty (ndim, shape);
  int64_t offset = 0;
  for (int i = 0; i < n; i++)
    {
      int64_t ni = stack ? 1 : tensors[i]->shape[dim];
      Rows r = rows_at (ndim, shape, dim, offset, 1, ni);
      rows_copy (&r, tensors[i]->data, out->data, true);
      offset += ni;
    }
  Node *node = autograd_record (op, out, n, tensors);
  if (node)
    {
      node->ints[0] = dim;
      autograd_commit (node);
    }
  return out;
}

Tensor *
tensor_cat (int n, Tensor *const *tensors, int dim, GError **error)
{
  return cat_op (OP_CAT, n, tensors, dim, error);
}

Tensor *
tensor_stack (int n, Tensor *const *tensors, int dim, GError **error)
{
  return cat_op (OP_STACK, n, tensors, dim, error);
}

/* Each input gets its own rows of the gradient back. */
void
cat_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  int dim = node->ints[0];
  bool stack = node->op == OP_STACK;
  int64_t offset = 0;
  for (int i = 0; i < node->n_next; i++)
    {
      int64_t ni = stack ? 1 : node->input_shape[i][dim];
      if (node->next[i].node)
        {
          gi[i] = node_new_input_grad (node, i);
          Rows r = rows_at (grad->ndim, grad->shape, dim, offset, 1, ni);
          rows_copy (&r, gi[i]->data, (float *) grad->data, false);
        }
      offset += ni;
    }
}

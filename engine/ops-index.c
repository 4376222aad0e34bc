/* ops-index.c — indexing by lists of elements: advanced indexing (x[mask],
 * x[[0, 2]], x[idx]) and item assignment (x[0] = 5., x[:, 1] = t, x[mask] = 0).
 *
 * The Python layer turns any key into the flat offsets of the elements it picks
 * (row-major, in the order of the result) and the result's shape; the ops here only
 * gather and scatter:
 *
 *   y = x[idx]        y.flat[i] = x.flat[offsets[i]]               IndexBackward0 (x)
 *                     backward: gx = zeros; gx.flat[offsets[i]] += g.flat[i]
 *   x[key] = v        x.flat[offsets[i]] = broadcast(v).flat[i]    CopySlices (x, v), or
 *                                                                  IndexPutBackward0 (x, v)
 *                     backward: gx = g with the assigned elements 0;
 *                               gv = g.flat[offsets], summed to v's shape
 *
 * PyTorch writes through a view and version-counts it; the engine's tensors hold
 * their own data, so an assignment to a tensor in a graph copies its data first
 * (what backward saved stays as it was) and rebinds its grad_fn, as PyTorch's
 * CopySlices does.
 */
#include "ops.h"
#include "backward.h"
#include "autograd.h"

#include <string.h>

typedef struct
{
  int64_t n;
  int64_t offsets[];
} Offsets;

static Offsets *
offsets_new (const int64_t *offsets, int64_t n)
{
  Offsets *o = g_malloc (sizeof (Offsets) + n * sizeof (int64_t));
  o->n = n;
  memcpy (o->offsets, offsets, n * sizeof (int64_t));
  return o;
}

static gboolean
check_offsets (const Tensor *a, const int64_t *offsets, int64_t n, int ndim,
               const int64_t *shape, GError **error)
{
  int64_t count = 1;
  for (int d = 0; d < ndim; d++)
    count *= shape[d];
  if (ndim > TENSOR_MAX_DIMS || count != n)
    {
      g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                           "GradLens's engine: an index result of more than 4 dimensions, or "
                           "offsets that do not fill its shape");
      return FALSE;
    }
  for (int64_t i = 0; i < n; i++)
    if (offsets[i] < 0 || offsets[i] >= a->numel)
      {
        g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                             "GradLens's engine: an index offset outside the tensor");
        return FALSE;
      }
  return TRUE;
}

Tensor *
tensor_index (Tensor *a, const int64_t *offsets, int64_t n, int ndim, const int64_t *shape,
              GError **error)
{
  if (!check_offsets (a, offsets, n, ndim, shape, error))
    return NULL;
  Tensor *out = tensor_new_empty (ndim, shape);
  out->dtype = a->dtype;
  for (int64_t i = 0; i < n; i++)
    out->data[i] = a->data[offsets[i]];
  Node *node = autograd_record (OP_INDEX, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node_set_extra (node, offsets_new (offsets, n), g_free);
      autograd_commit (node);
    }
  return out;
}

void
index_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Offsets *o = node->extra;
  gi[0] = tensor_new_zeros (node->input_ndim[0], node->input_shape[0]);
  for (int64_t i = 0; i < o->n; i++)
    gi[0]->data[o->offsets[i]] += grad->data[i];
}

gboolean
tensor_index_put_ (Tensor *x, const int64_t *offsets, int64_t n, int ndim, const int64_t *shape,
                   Tensor *value, bool advanced, GError **error)
{
  if (!check_offsets (x, offsets, n, ndim, shape, error))
    return FALSE;
  bool grad = grad_mode_is_enabled ();
  if (grad && x->requires_grad && tensor_is_leaf (x))
    {
      g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_LEAF,
                           advanced ? "a leaf Variable that requires grad is being used in an "
                                      "in-place operation."
                                    : "a view of a leaf Variable that requires grad is being "
                                      "used in an in-place operation.");
      return FALSE;
    }
  /* v broadcast to the indexed shape, as copy_ / index_put_ broadcast it: leading
   * dims of size 1 beyond the target's first dropped (y[0] = t of shape (1, 3)). */
  g_autoptr (Tensor) src = tensor_alias (value);
  int skip = 0;
  while (value->ndim - skip > ndim && value->shape[skip] == 1)
    skip++;
  tensor_reshape_inplace (src, value->ndim - skip, value->shape + skip);
  bool was = grad_mode_set_enabled (false);
  Tensor *expanded = tensor_expand (src, ndim, shape, error);
  grad_mode_set_enabled (was);
  if (expanded == NULL)
    return FALSE;

  bool record = grad && (x->requires_grad || value->requires_grad);
  if (record && !tensor_is_exclusive (x))
    {
      /* Copy on write: nodes that saved x keep the values they saw. */
      Tensor *fresh = tensor_copy (x);
      TensorStorage *storage = x->storage;
      float *data = x->data;
      x->storage = fresh->storage;
      x->data = fresh->data;
      fresh->storage = storage;
      fresh->data = data;
      tensor_unref (fresh);
    }
  for (int64_t i = 0; i < n; i++)
    x->data[offsets[i]] = expanded->data[i];
  tensor_unref (expanded);

  if (record)
    {
      Node *node = autograd_record (advanced ? OP_INDEX_PUT : OP_COPY_SLICES, x, 2,
                                    (Tensor *[]){ x, value });
      node_set_extra (node, offsets_new (offsets, n), g_free);
      node->ints[0] = ndim;
      for (int d = 0; d < ndim; d++)
        node->ints[1 + d] = shape[d];
      autograd_commit (node);
    }
  return TRUE;
}

void
index_put_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Offsets *o = node->extra;
  if (node->next[0].node)
    {
      gi[0] = tensor_copy (grad);
      for (int64_t i = 0; i < o->n; i++)
        gi[0]->data[o->offsets[i]] = 0;
    }
  if (node->next[1].node)
    {
      int ndim = (int) node->ints[0];
      int64_t shape[TENSOR_MAX_DIMS] = { 0 };
      for (int d = 0; d < ndim; d++)
        shape[d] = node->ints[1 + d];
      g_autoptr (Tensor) picked = tensor_new_empty (ndim, shape);
      for (int64_t i = 0; i < o->n; i++)
        picked->data[i] = grad->data[o->offsets[i]];
      /* To the value's shape, less the leading 1s the assignment dropped. */
      int vdim = node->input_ndim[1];
      const int64_t *vshape = node->input_shape[1];
      int skip = 0;
      while (vdim - skip > ndim && vshape[skip] == 1)
        skip++;
      gi[1] = tensor_sum_to_shape (picked, vdim - skip, vshape + skip);
      tensor_reshape_inplace (gi[1], vdim, vshape);
    }
}

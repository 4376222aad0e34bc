/* ops-compare.c — elementwise comparisons (==, !=, <, <=, >, >=) with
 * broadcasting. No autograd: PyTorch's results are bool tensors without grad_fn;
 * here they are float tensors of 0 and 1 (the Python layer shows them as bool). */
#include "ops-private.h"

static inline float
compare (CompareKind kind, float x, float y)
{
  switch (kind)
    {
    case COMPARE_EQ: return x == y;
    case COMPARE_NE: return x != y;   /* NaN != NaN, as IEEE and PyTorch */
    case COMPARE_LT: return x < y;
    case COMPARE_LE: return x <= y;
    case COMPARE_GT: return x > y;
    case COMPARE_GE: return x >= y;
    }
  g_assert_not_reached ();
}

Tensor *
tensor_compare (CompareKind kind, const Tensor *a, const Tensor *b, GError **error)
{
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!broadcast_shapes (a->ndim, a->shape, b->ndim, b->shape, &ndim, shape))
    {
      set_shape_error (error, "comparison", a, b);
      return NULL;
    }
  Tensor *out = tensor_new_empty (ndim, shape);
  FOR_BROADCAST_PAIR (a, b, ndim, shape, o, ia, ib,
                      out->data[o] = compare (kind, a->data[ia], b->data[ib]));
  return out;
}

Tensor *
tensor_compare_scalar (CompareKind kind, const Tensor *a, float s)
{
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  for (int64_t i = 0; i < a->numel; i++)
    out->data[i] = compare (kind, a->data[i], s);
  return out;
}

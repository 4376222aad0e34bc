/* ops-private.h — internal: the helpers the op files (ops*.c, nn-loss.c) share.
 *
 * Broadcasting walks every tensor as if it had four dims (missing leading dims are
 * 1): broadcast_strides gives x's strides inside out's padded shape, 0 along the
 * dims x is stretched over, and FOR_BROADCAST visits each element of out with the
 * matching offset into x.
 */
#pragma once

#include "ops.h"

G_BEGIN_DECLS

/* Elementwise loops of large tensors run in slices on the engine's threads
 * (parallel.h); below this many elements, on the calling thread. */
#define ELEMENTWISE_GRAIN 16384

/* Strides of x viewed in the 4-d padding of out's shape: 0 along the dims x is
 * stretched (broadcast) over. */
void    broadcast_strides   (int x_ndim, const int64_t *x_shape, int out_ndim,
                             const int64_t *out_shape, int64_t padded_out[4], int64_t strides[4]);

/* Calls the body (the rest of the arguments: it may hold commas) with the flat
 * index o into out and x_off into x; i0..i3 are out's 4-d index. */
#define FOR_BROADCAST(shape4, st, o, x_off, ...)                                \
  do                                                                             \
    {                                                                            \
      int64_t o = 0;                                                             \
      for (int64_t i0 = 0; i0 < shape4[0]; i0++)                                 \
        for (int64_t i1 = 0; i1 < shape4[1]; i1++)                               \
          for (int64_t i2 = 0; i2 < shape4[2]; i2++)                             \
            for (int64_t i3 = 0; i3 < shape4[3]; i3++, o++)                      \
              {                                                                  \
                int64_t x_off = i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]; \
                __VA_ARGS__;                                                     \
              }                                                                  \
    }                                                                            \
  while (0)

/* Both a and b broadcast to (ndim, shape): the body (the rest of the arguments)
 * sees the flat index o into the result and ia, ib into a and b. */
#define FOR_BROADCAST_PAIR(a, b, out_ndim_, out_shape_, o, ia, ib, ...)              \
  do                                                                                 \
    {                                                                                \
      int64_t s4_[4], sa_[4], sb_[4];                                                \
      broadcast_strides ((a)->ndim, (a)->shape, out_ndim_, out_shape_, s4_, sa_);    \
      broadcast_strides ((b)->ndim, (b)->shape, out_ndim_, out_shape_, s4_, sb_);    \
      FOR_BROADCAST (s4_, sa_, o, ia, {                                              \
        int64_t ib = i0 * sb_[0] + i1 * sb_[1] + i2 * sb_[2] + i3 * sb_[3];          \
        __VA_ARGS__;                                                                 \
      });                                                                            \
    }                                                                                \
  while (0)

/* Stretch g (which broadcasts to shape) to shape: a new tensor. */
Tensor *expand_to_shape     (const Tensor *g, int ndim, const int64_t *shape);

/* An uninitialised tensor of grad's shape. */
Tensor *grad_like           (const Tensor *grad);

/* "op: shapes (2, 3) and (4,) do not fit" (b may be NULL). */
void    set_shape_error     (GError **error, const char *op, const Tensor *a, const Tensor *b);

/* dim in [-ndim, ndim) to [0, ndim), as PyTorch wraps it; FALSE with PyTorch's
 * "Dimension out of range (expected to be in range of [-2, 1], but got 2)". */
gboolean normalize_dim      (int *dim, int ndim, GError **error);

/* at::_unsafe_view: a's data with a new shape of as many elements, recorded as
 * UnsafeViewBackward0 (matmul's last step when it folds batches). */
Tensor *tensor_unsafe_view  (Tensor *a, int ndim, const int64_t *shape);

G_END_DECLS

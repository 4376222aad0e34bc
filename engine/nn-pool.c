/* nn-pool.c — max pooling with indices (MaxPool2DWithIndicesBackward0) and the
 * adaptive average pool to 1×1 (a mean over H and W: MeanBackward1).
 *
 * max_pool2d, kernel k, stride s, padding p (padding counts as −∞), per plane (h, w):
 *
 *   oh = ⌊(h + 2p − k) / s⌋ + 1                    (ceil_mode=False, dilation 1)
 *   y[oy][ox] = max over iy ∈ [oy·s − p, oy·s − p + k) ∩ [0, h), same for ix
 *   idx[oy][ox] = iy·w + ix of that max: the first in scan order on ties, a NaN wins,
 *                 exactly PyTorch's CPU kernel (its result1)
 *
 * Backward sends each output's gradient to its argmax: grad_x[idx] += g.
 * The node's extra holds the indices: int32_t (N·C·oh·ow), flat within each plane.
 */
#include "nn.h"
#include "backward.h"
#include "parallel.h"
#include "vec.h"

#include <math.h>

typedef struct
{
  const float *x;                  /* (planes, h, w) */
  float *y;                        /* (planes, oh, ow) */
  int32_t *indices;                /* (planes, oh, ow) */
  int64_t h, w, oh, ow;
  int kernel, stride, padding;
} MaxPoolJob;

/* The window [y0, y1) × [x0, x1) of one plane, in scan order: the first maximum,
 * or the last NaN (a NaN replaces anything, as in PyTorch's kernel). Branch-free
 * selects, so the compiler keeps it in registers. */
static inline void
window_max (const float *xp, int64_t w, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
            float *best_out, int32_t *index_out)
{
  float best = -INFINITY;
  int64_t best_index = y0 * w + x0;
  for (int64_t iy = y0; iy < y1; iy++)
    for (int64_t ix = x0; ix < x1; ix++)
      {
        float v = xp[iy * w + ix];
        bool take = v > best || isnan (v);
        best = take ? v : best;
        best_index = take ? iy * w + ix : best_index;
      }
  *best_out = best;
  *index_out = (int32_t) best_index;
}

/* Outputs [lo, hi) of one row whose windows lie inside the plane horizontally: the
 * window's candidates in scan order, each one for the whole row at once, so the
 * loop over outputs vectorises (strided loads, selects). Same choices as window_max. */
static inline __attribute__ ((always_inline)) void
row_max_body (const float *xp, int64_t w, int64_t y0, int64_t y1, int64_t lo, int64_t hi,
              int k, int s, int pad, float *restrict yp, int32_t *restrict ip)
{
  for (int64_t ox = lo; ox < hi; ox++)
    {
      yp[ox] = -INFINITY;
      ip[ox] = (int32_t) (y0 * w + ox * s - pad);
    }
  for (int64_t iy = y0; iy < y1; iy++)
    for (int kj = 0; kj < k; kj++)
      {
        const float *src = xp + iy * w + kj - pad;    /* candidate of ox: src[ox·s] */
        int32_t base = (int32_t) (iy * w + kj - pad);
        for (int64_t ox = lo; ox < hi; ox++)
          {
            float v = src[ox * s];
            bool take = v > yp[ox] || v != v;
            yp[ox] = take ? v : yp[ox];
            ip[ox] = take ? base + (int32_t) (ox * s) : ip[ox];
          }
      }
}

VEC_CLONES (row_max,
            (const float *xp, int64_t w, int64_t y0, int64_t y1, int64_t lo, int64_t hi, int k,
             int s, int pad, float *restrict yp, int32_t *restrict ip),
            (xp, w, y0, y1, lo, hi, k, s, pad, yp, ip))

/* Planes [p0, p1). */
static void
max_pool_range (gpointer data, int64_t p0, int64_t p1)
{
  const MaxPoolJob *j = data;
  int64_t h = j->h, w = j->w, oh = j->oh, ow = j->ow;
  int k = j->kernel, s = j->stride, pad = j->padding;
  /* Outputs whose windows are inside horizontally: ox·s − pad ≥ 0, ox·s − pad + k ≤ w. */
  int64_t lo = MIN ((pad + s - 1) / s, ow);
  int64_t hi = w + pad - k >= 0 ? MIN ((w + pad - k) / s + 1, ow) : 0;
  if (hi < lo)
    hi = lo;
  for (int64_t plane = p0; plane < p1; plane++)
    {
      const float *xp = j->x + plane * h * w;
      float *yp = j->y + plane * oh * ow;
      int32_t *ip = j->indices + plane * oh * ow;
      for (int64_t oy = 0; oy < oh; oy++)
        {
          int64_t y0 = oy * s - pad, y1 = MIN (y0 + k, h);
          y0 = MAX (y0, 0);
          for (int64_t ox = 0; ox < ow; ox++)
            {
              if (ox == lo && hi > lo)
                {
                  row_max (xp, w, y0, y1, lo, hi, k, s, pad, yp + oy * ow, ip + oy * ow);
                  ox = hi - 1;
                  continue;
                }
              int64_t x0 = ox * s - pad, x1 = MIN (x0 + k, w);
              x0 = MAX (x0, 0);
              window_max (xp, w, y0, y1, x0, x1, &yp[oy * ow + ox], &ip[oy * ow + ox]);
            }
        }
    }
}

Tensor *
tensor_max_pool2d (Tensor *x, int kernel, int stride, int padding, GError **error)
{
  g_return_val_if_fail (x != NULL, NULL);
  if (x->ndim != 4)
    {
      g_autofree char *xs = tensor_shape_string (x);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "max_pool2d: expected a 4-d input (N, C, H, W), but got %s", xs);
      return NULL;
    }
  if (kernel < 1 || stride < 1 || padding < 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "max_pool2d: kernel %d and stride %d must be positive, padding %d "
                   "non-negative", kernel, stride, padding);
      return NULL;
    }
  if (padding > kernel / 2)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "pad should be at most half of kernel size, but got pad=%d and kernel_size=%d",
                   padding, kernel);
      return NULL;
    }
  int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
  int64_t oh = (h + 2 * padding - kernel) / stride + 1;
  int64_t ow = (w + 2 * padding - kernel) / stride + 1;
  if (h + 2 * padding < kernel || w + 2 * padding < kernel)
    {
      g_autofree char *xs = tensor_shape_string (x);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "max_pool2d: input %s is too small for kernel %d with padding %d",
                   xs, kernel, padding);
      return NULL;
    }
  if (h * w > G_MAXINT32)
    {
      g_autofree char *xs = tensor_shape_string (x);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "max_pool2d: planes of input %s are too large", xs);
      return NULL;
    }

  Tensor *out = tensor_new_empty (4, (int64_t[]){ n, c, oh, ow });
  int32_t *indices = g_new (int32_t, MAX (out->numel, 1));   /* (N, C, oh, ow) */
  MaxPoolJob job = { x->data, out->data, indices, h, w, oh, ow, kernel, stride, padding };
  parallel_for (n * c, MAX (1, 4096 / MAX (oh * ow, 1)), max_pool_range, &job);

  Node *node = autograd_record (OP_MAX_POOL2D, out, 1, (Tensor *[]){ x });
  if (node)
    {
      node_set_extra (node, indices, g_free);
      node->ints[0] = kernel;
      node->ints[1] = stride;
      node->ints[2] = padding;
      autograd_commit (node);
    }
  else
    g_free (indices);
  return out;
}

typedef struct
{
  float *gx;                       /* (planes, hw) */
  const float *g;                  /* (planes, ohw) */
  const int32_t *indices;          /* (planes, ohw) */
  int64_t hw, ohw;
} MaxPoolBackwardJob;

/* Planes [p0, p1): each plane's gradients land in its own plane of gx. */
static void
max_pool_backward_range (gpointer data, int64_t p0, int64_t p1)
{
  const MaxPoolBackwardJob *j = data;
  for (int64_t plane = p0; plane < p1; plane++)
    {
      float *dp = j->gx + plane * j->hw;
      const float *gp = j->g + plane * j->ohw;
      const int32_t *ip = j->indices + plane * j->ohw;
      for (int64_t k = 0; k < j->ohw; k++)
        dp[ip[k]] += gp[k];
    }
}

void
max_pool2d_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const int32_t *indices = node->extra;
  const int64_t *in = node->input_shape[0];
  int64_t planes = in[0] * in[1], hw = in[2] * in[3];
  int64_t ohw = grad->shape[2] * grad->shape[3];
  gi[0] = node_new_input_grad (node, 0);
  MaxPoolBackwardJob job = { gi[0]->data, grad->data, indices, hw, ohw };
  parallel_for (planes, MAX (1, 8192 / MAX (hw, 1)), max_pool_backward_range, &job);
}

Tensor *
tensor_adaptive_avg_pool2d_1x1 (Tensor *x, GError **error)
{
  g_return_val_if_fail (x != NULL, NULL);
  if (x->ndim != 4)
    {
      g_autofree char *xs = tensor_shape_string (x);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "adaptive_avg_pool2d: expected a 4-d input (N, C, H, W), but got %s", xs);
      return NULL;
    }
  return tensor_mean_dims (x, 2, (int[]){ 2, 3 }, true, error);
}

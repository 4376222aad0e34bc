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

#include <math.h>

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
  for (int64_t plane = 0; plane < n * c; plane++)
    {
      const float *xp = x->data + plane * h * w;
      float *yp = out->data + plane * oh * ow;
      int32_t *ip = indices + plane * oh * ow;
      for (int64_t oy = 0; oy < oh; oy++)
        {
          int64_t y0 = oy * stride - padding, y1 = MIN (y0 + kernel, h);
          y0 = MAX (y0, 0);
          for (int64_t ox = 0; ox < ow; ox++)
            {
              int64_t x0 = ox * stride - padding, x1 = MIN (x0 + kernel, w);
              x0 = MAX (x0, 0);
              float best = -INFINITY;
              int64_t best_index = y0 * w + x0;
              for (int64_t iy = y0; iy < y1; iy++)
                for (int64_t ix = x0; ix < x1; ix++)
                  {
                    float v = xp[iy * w + ix];
                    if (v > best || isnan (v))
                      {
                        best = v;
                        best_index = iy * w + ix;
                      }
                  }
              yp[oy * ow + ox] = best;
              ip[oy * ow + ox] = (int32_t) best_index;
            }
        }
    }

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

void
max_pool2d_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const int32_t *indices = node->extra;
  const int64_t *in = node->input_shape[0];
  int64_t planes = in[0] * in[1], hw = in[2] * in[3];
  int64_t ohw = grad->shape[2] * grad->shape[3];
  gi[0] = node_new_input_grad (node, 0);
  for (int64_t plane = 0; plane < planes; plane++)
    {
      float *dp = gi[0]->data + plane * hw;
      const float *gp = grad->data + plane * ohw;
      const int32_t *ip = indices + plane * ohw;
      for (int64_t k = 0; k < ohw; k++)
        dp[ip[k]] += gp[k];
    }
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

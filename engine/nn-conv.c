/* nn-conv.c — conv2d forward and backward (ConvolutionBackward0), im2col + sgemm,
 * with the plain-loop reference beside it.
 *
 * For one image, with K = C*kh*kw and P = oh*ow:
 *
 *   col  (K, P)     = im2col (x)            col[(c*kh + i)*kw + j][oy*ow + ox]
 *                                            = x[c][oy*s - p + i][ox*s - p + j] (0 outside)
 *   out  (O, P)     = W (O, K) · col (K, P) + bias (O) broadcast over P
 *
 * and backward, for the gradient g (O, P) of that image:
 *
 *   grad_W (O, K)  += g (O, P) · colᵀ (P, K)         summed over the batch
 *   grad_col (K, P) = Wᵀ (K, O) · g (O, P);  grad_x = col2im (grad_col)
 *   grad_b (O)     += Σ_P g
 *
 * A 1×1 convolution with stride 1 and no padding needs no im2col: col is x itself.
 */
#include "nn.h"
#include "backward.h"

#include <string.h>

/* Output columns ox whose input column ix = ox*s - p + j lies in [0, w): [*lo, *hi). */
static inline void
valid_range (int w, int ow, int j, int stride, int padding, int *lo, int *hi)
{
  int first = padding - j;          /* smallest ox*s allowed */
  int last = w - 1 + padding - j;   /* largest ox*s allowed */
  *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  *hi = last < 0 ? 0 : MIN (ow, last / stride + 1);
  if (*lo > *hi)
    *lo = *hi;
}

/* col (C*kh*kw, oh*ow) from one image x (C, h, w). */
static void
im2col (float *col, const float *x, int c, int h, int w, int kh, int kw,
        int stride, int padding, int oh, int ow)
{
  int64_t p_count = (int64_t) oh * ow;
  for (int ci = 0; ci < c; ci++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++)
        {
          float *dst = col + ((int64_t) (ci * kh + i) * kw + j) * p_count;
          int lo, hi;
          valid_range (w, ow, j, stride, padding, &lo, &hi);
          for (int oy = 0; oy < oh; oy++, dst += ow)
            {
              int iy = oy * stride - padding + i;
              if (iy < 0 || iy >= h || lo == hi)
                {
                  memset (dst, 0, ow * sizeof (float));
                  continue;
                }
              const float *src = x + ((int64_t) ci * h + iy) * w - padding + j;
              for (int ox = 0; ox < lo; ox++)
                dst[ox] = 0;
              if (stride == 1)
                memcpy (dst + lo, src + lo, (hi - lo) * sizeof (float));
              else
                for (int ox = lo; ox < hi; ox++)
                  dst[ox] = src[ox * stride];
              for (int ox = hi; ox < ow; ox++)
                dst[ox] = 0;
            }
        }
}

/* The adjoint of im2col: gx (C, h, w) += every col entry at the pixel it came from. */
static void
col2im (float *gx, const float *col, int c, int h, int w, int kh, int kw,
        int stride, int padding, int oh, int ow)
{
  int64_t p_count = (int64_t) oh * ow;
  for (int ci = 0; ci < c; ci++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++)
        {
          const float *src = col + ((int64_t) (ci * kh + i) * kw + j) * p_count;
          int lo, hi;
          valid_range (w, ow, j, stride, padding, &lo, &hi);
          for (int oy = 0; oy < oh; oy++, src += ow)
            {
              int iy = oy * stride - padding + i;
              if (iy < 0 || iy >= h)
                continue;
              float *dst = gx + ((int64_t) ci * h + iy) * w - padding + j;
              if (stride == 1)
                for (int ox = lo; ox < hi; ox++)
                  dst[ox] += src[ox];
              else
                for (int ox = lo; ox < hi; ox++)
                  dst[ox * stride] += src[ox];
            }
        }
}

static inline bool
conv_is_pointwise (int kh, int kw, int stride, int padding)
{
  return kh == 1 && kw == 1 && stride == 1 && padding == 0;
}

/* out (n, o, oh, ow) = conv (x (n, c, h, wd), w (o, c, kh, kw)) + bias (o) or NULL:
 * per image, im2col into one reused buffer, then one sgemm. */
void
conv2d_forward (float *out, const float *x, const float *w, const float *bias,
                int n, int c, int h, int wd, int o, int kh, int kw,
                int stride, int padding, int oh, int ow)
{
  int k = c * kh * kw;
  int64_t p_count = (int64_t) oh * ow;
  bool pointwise = conv_is_pointwise (kh, kw, stride, padding);
  float *col = pointwise ? NULL : g_new (float, (int64_t) k * p_count);  /* (K, P) */

  for (int b = 0; b < n; b++)
    {
      const float *xb = x + (int64_t) b * c * h * wd;   /* (C, h, wd) */
      float *ob = out + (int64_t) b * o * p_count;      /* (O, P) */
      if (!pointwise)
        im2col (col, xb, c, h, wd, kh, kw, stride, padding, oh, ow);
      if (bias)
        for (int oc = 0; oc < o; oc++)
          for (int64_t p = 0; p < p_count; p++)
            ob[oc * p_count + p] = bias[oc];
      matmul_forward (ob, w, pointwise ? xb : col, false, false, 1, bias ? 1 : 0,
                      o, p_count, k);
    }
  g_free (col);
}

/* The definition, by seven loops: the reference conv2d_forward is tested against. */
void
conv2d_forward_naive (float *out, const float *x, const float *w, const float *bias,
                      int n, int c, int h, int wd, int o, int kh, int kw,
                      int stride, int padding, int oh, int ow)
{
  for (int b = 0; b < n; b++)
    for (int oc = 0; oc < o; oc++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
          {
            double acc = bias ? bias[oc] : 0;
            for (int ci = 0; ci < c; ci++)
              for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                  {
                    int iy = oy * stride - padding + i, ix = ox * stride - padding + j;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                      continue;
                    acc += (double) x[(((int64_t) b * c + ci) * h + iy) * wd + ix]
                           * w[(((int64_t) oc * c + ci) * kh + i) * kw + j];
                  }
            out[(((int64_t) b * o + oc) * oh + oy) * ow + ox] = (float) acc;
          }
}

static gboolean
conv2d_check (const Tensor *x, const Tensor *weight, const Tensor *bias, int stride, int padding,
              GError **error)
{
  g_autofree char *xs = tensor_shape_string (x);
  g_autofree char *ws = tensor_shape_string (weight);
  if (weight->ndim != 4)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "conv2d: weight %s must be 4-d (out_channels, in_channels, kh, kw)", ws);
      return FALSE;
    }
  if (x->ndim != 4)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "conv2d: expected a 4-d input (N, C, H, W) for weight %s, but got input %s",
                   ws, xs);
      return FALSE;
    }
  if (x->shape[1] != weight->shape[1])
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "Given groups=1, weight of size %s, expected input%s to have %" G_GINT64_FORMAT
                   " channels, but got %" G_GINT64_FORMAT " channels instead",
                   ws, xs, weight->shape[1], x->shape[1]);
      return FALSE;
    }
  if (stride < 1 || padding < 0)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "conv2d: stride %d must be positive and padding %d non-negative",
                   stride, padding);
      return FALSE;
    }
  if (bias && (bias->ndim != 1 || bias->shape[0] != weight->shape[0]))
    {
      g_autofree char *bs = tensor_shape_string (bias);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "conv2d: bias %s does not fit weight %s (expected (%" G_GINT64_FORMAT "))",
                   bs, ws, weight->shape[0]);
      return FALSE;
    }
  int64_t ph = x->shape[2] + 2 * padding, pw = x->shape[3] + 2 * padding;
  if (ph < weight->shape[2] || pw < weight->shape[3])
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "Calculated padded input size per channel: (%" G_GINT64_FORMAT " x %"
                   G_GINT64_FORMAT "). Kernel size: (%" G_GINT64_FORMAT " x %" G_GINT64_FORMAT
                   "). Kernel size can't be greater than actual input size",
                   ph, pw, weight->shape[2], weight->shape[3]);
      return FALSE;
    }
  return TRUE;
}

Tensor *
tensor_conv2d (Tensor *x, Tensor *weight, Tensor *bias, int stride, int padding, GError **error)
{
  g_return_val_if_fail (x != NULL && weight != NULL, NULL);
  if (!conv2d_check (x, weight, bias, stride, padding, error))
    return NULL;
  int n = x->shape[0], c = x->shape[1], h = x->shape[2], wd = x->shape[3];
  int o = weight->shape[0], kh = weight->shape[2], kw = weight->shape[3];
  int oh = (h + 2 * padding - kh) / stride + 1;
  int ow = (wd + 2 * padding - kw) / stride + 1;

  Tensor *out = tensor_new_empty (4, (int64_t[]){ n, o, oh, ow });
  conv2d_forward (out->data, x->data, weight->data, bias ? bias->data : NULL,
                  n, c, h, wd, o, kh, kw, stride, padding, oh, ow);

  Node *node = autograd_record (OP_CONV2D, out, 3, (Tensor *[]){ x, weight, bias });
  if (node)
    {
      node_save (node, "input", x);
      node_save (node, "weight", weight);
      node->ints[0] = stride;
      node->ints[1] = padding;
      autograd_commit (node);
    }
  return out;
}

/* Fills only the slots whose edge is not None: conv1's input needs no gradient,
 * and a frozen weight none either. */
void
conv2d_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *x = node->saved[0], *w = node->saved[1];
  int stride = node->ints[0], padding = node->ints[1];
  int n = x->shape[0], c = x->shape[1], h = x->shape[2], wd = x->shape[3];
  int o = w->shape[0], kh = w->shape[2], kw = w->shape[3];
  int oh = grad->shape[2], ow = grad->shape[3];
  int k = c * kh * kw;
  int64_t p_count = (int64_t) oh * ow;
  bool need_x = node->next[0].node != NULL;
  bool need_w = node->next[1].node != NULL;
  bool need_b = node->next[2].node != NULL;
  bool pointwise = conv_is_pointwise (kh, kw, stride, padding);

  if (need_b)
    {
      gi[2] = tensor_new_empty (1, (int64_t[]){ o });
      for (int oc = 0; oc < o; oc++)
        {
          double acc = 0;
          for (int b = 0; b < n; b++)
            {
              const float *g = grad->data + ((int64_t) b * o + oc) * p_count;
              for (int64_t p = 0; p < p_count; p++)
                acc += g[p];
            }
          gi[2]->data[oc] = (float) acc;
        }
    }
  if (!need_x && !need_w)
    return;

  if (need_w)  /* (O, C, kh, kw) = (O, K); written by the first image's sgemm */
    gi[1] = n > 0 ? tensor_new_empty (4, w->shape) : tensor_new_zeros (4, w->shape);
  if (need_x)
    gi[0] = tensor_new_zeros (4, x->shape);          /* (N, C, h, wd) */
  float *col = pointwise ? NULL : g_new (float, (int64_t) k * p_count);  /* (K, P) */

  for (int b = 0; b < n; b++)
    {
      const float *xb = x->data + (int64_t) b * c * h * wd;    /* (C, h, wd) */
      const float *gb = grad->data + (int64_t) b * o * p_count; /* (O, P) */
      if (need_w)
        {
          if (!pointwise)
            im2col (col, xb, c, h, wd, kh, kw, stride, padding, oh, ow);
          /* grad_W (O, K) (+)= g (O, P) · colᵀ (P, K) */
          matmul_forward (gi[1]->data, gb, pointwise ? xb : col, false, true, 1, b == 0 ? 0 : 1,
                          o, k, p_count);
        }
      if (need_x)
        {
          float *gxb = gi[0]->data + (int64_t) b * c * h * wd;
          /* grad_col (K, P) = Wᵀ (K, O) · g (O, P); for a pointwise conv it is grad_x. */
          matmul_forward (pointwise ? gxb : col, w->data, gb, true, false, 1, 0,
                          k, p_count, o);
          if (!pointwise)
            col2im (gxb, col, c, h, wd, kh, kw, stride, padding, oh, ow);
        }
    }
  g_free (col);
}

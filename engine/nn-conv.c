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
 *
 * Images go in groups of G (conv_group): their columns side by side, col (K, G·P),
 * so that layers with few pixels per image (layer4 at 224×224: P = 49) still make
 * one wide product; g is then regrouped to (O, G·P) the same way. The products go
 * through gemm (gemm.h: OpenBLAS or direct kernels, on the engine's threads); the
 * column copies are sliced over channels on the same threads.
 */
#include "nn.h"
#include "backward.h"
#include "gemm.h"
#include "parallel.h"
#include "winograd.h"

#include <math.h>
#include <string.h>

/* 3×3, stride 1, padding 1 over at least this many pixels in the batch: Winograd's
 * F(2×2, 3×3) (winograd.h), 16 products per 2×2 outputs instead of 36. With fewer,
 * its transformed weights (16/9 the size of the weights, written then read) cost
 * more memory traffic than the products save: layer3 and layer4 at 64×64, layer4
 * at 224×224 on one image (7×7), but not on eight. */
#define WINOGRAD_MIN_PIXELS 196

static inline bool
conv_is_winograd (int kh, int kw, int stride, int padding, int n, int h, int w)
{
  return kh == 3 && kw == 3 && stride == 1 && padding == 1
         && (int64_t) n * h * w >= WINOGRAD_MIN_PIXELS;
}

/* Images per group: enough columns (G·P ≥ 384) for a wide product, and no more. */
static int
conv_group (int n, int64_t p_count)
{
  int64_t g = (384 + p_count - 1) / MAX (p_count, 1);
  return (int) CLAMP (g, 1, (int64_t) MAX (n, 1));
}

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

/* col (C*kh*kw, oh*ow) from one image x (C, h, w), channels [c0, c1) only; rows of
 * col are ld floats apart (ld ≥ oh*ow: an image's block in a group's col). */
static void
im2col (float *col, int64_t ld, const float *x, int c0, int c1, int h, int w, int kh, int kw,
        int stride, int padding, int oh, int ow)
{
  for (int ci = c0; ci < c1; ci++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++)
        {
          float *dst = col + ((int64_t) (ci * kh + i) * kw + j) * ld;
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

/* The adjoint of im2col: gx (C, h, w) += every col entry at the pixel it came from,
 * channels [c0, c1) only (each writes its own planes). */
static void
col2im (float *gx, const float *col, int64_t ld, int c0, int c1, int h, int w, int kh, int kw,
        int stride, int padding, int oh, int ow)
{
  for (int ci = c0; ci < c1; ci++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++)
        {
          const float *src = col + ((int64_t) (ci * kh + i) * kw + j) * ld;
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

/* The group's column copies, sliced over channels on the engine's threads. */
typedef struct
{
  float *col;                      /* (K, ld) */
  int64_t ld;
  float *x;                        /* the group's first image (C, h, w); gx for col2im */
  int64_t x_step;                  /* floats from one image to the next */
  int images;
  int c, h, w, kh, kw, stride, padding, oh, ow;
} ColJob;

static void
im2col_range (gpointer data, int64_t c0, int64_t c1)
{
  const ColJob *j = data;
  int64_t p_count = (int64_t) j->oh * j->ow;
  for (int b = 0; b < j->images; b++)
    im2col (j->col + b * p_count, j->ld, j->x + b * j->x_step, c0, c1, j->h, j->w, j->kh,
            j->kw, j->stride, j->padding, j->oh, j->ow);
}

static void
col2im_range (gpointer data, int64_t c0, int64_t c1)
{
  const ColJob *j = data;
  int64_t p_count = (int64_t) j->oh * j->ow;
  for (int b = 0; b < j->images; b++)
    col2im (j->x + b * j->x_step, j->col + b * p_count, j->ld, c0, c1, j->h, j->w, j->kh,
            j->kw, j->stride, j->padding, j->oh, j->ow);
}

/* Channels per slice: about 16K floats of col each. */
static int64_t
col_grain (const ColJob *j)
{
  int64_t per_channel = (int64_t) j->kh * j->kw * j->oh * j->ow * j->images;
  return MAX (1, 16384 / MAX (per_channel, 1));
}

/* (O, G·P) ↔ G images of (O, P): the layout of a group's product and of NCHW. */
typedef struct
{
  float *grouped;                  /* (O, G·P) */
  float *images;                   /* (G, O, P) */
  int o, g;
  int64_t p_count;
  bool to_images;
  const float *bias;               /* added on the way to images, or NULL */
} RegroupJob;

static void
regroup_range (gpointer data, int64_t o0, int64_t o1)
{
  const RegroupJob *j = data;
  int64_t p = j->p_count;
  for (int64_t oc = o0; oc < o1; oc++)
    for (int b = 0; b < j->g; b++)
      {
        float *gr = j->grouped + (oc * j->g + b) * p;
        float *im = j->images + ((int64_t) b * j->o + oc) * p;
        if (!j->to_images)
          memcpy (gr, im, p * sizeof (float));
        else if (j->bias)
          for (int64_t i = 0; i < p; i++)
            im[i] = gr[i] + j->bias[oc];
        else
          memcpy (im, gr, p * sizeof (float));
      }
}

static void
regroup (float *grouped, float *images, int o, int g, int64_t p_count, bool to_images,
         const float *bias)
{
  RegroupJob job = { grouped, images, o, g, p_count, to_images, bias };
  parallel_for (o, MAX (1, 16384 / MAX ((int64_t) g * p_count, 1)), regroup_range, &job);
}

static inline bool
conv_is_pointwise (int kh, int kw, int stride, int padding)
{
  return kh == 1 && kw == 1 && stride == 1 && padding == 0;
}

/* out (n, o, oh, ow) = conv (x (n, c, h, wd), w (o, c, kh, kw)) + bias (o) or NULL:
 * per group of images, im2col into one reused buffer, then one product. */
void
conv2d_forward (float *out, const float *x, const float *w, const float *bias,
                int n, int c, int h, int wd, int o, int kh, int kw,
                int stride, int padding, int oh, int ow)
{
  if (conv_is_winograd (kh, kw, stride, padding, n, h, wd))
    {
      conv3x3_winograd (out, x, w, bias, n, c, h, wd, o, false);
      return;
    }
  int k = c * kh * kw;
  int64_t p_count = (int64_t) oh * ow;
  int group = conv_group (n, p_count);
  int64_t cols = group * p_count;
  bool pointwise = conv_is_pointwise (kh, kw, stride, padding) && group == 1;
  /* Scratch from tensor storage, which is reused step after step (tensor.c). */
  g_autoptr (Tensor) col_t = pointwise ? NULL : tensor_new_empty (1, (int64_t[]){ k * cols });
  g_autoptr (Tensor) prod_t = group > 1 ? tensor_new_empty (1, (int64_t[]){ o * cols }) : NULL;
  float *col = col_t ? col_t->data : NULL;          /* (K, G·P) */

  for (int b0 = 0; b0 < n; b0 += group)
    {
      int g = MIN (group, n - b0);
      int64_t ld = g * p_count;                       /* columns of this group */
      const float *xb = x + (int64_t) b0 * c * h * wd;  /* (g, C, h, wd) */
      float *ob = out + (int64_t) b0 * o * p_count;   /* (g, O, P) */
      if (!pointwise)
        {
          ColJob job = { col, ld, (float *) xb, (int64_t) c * h * wd, g, c, h, wd, kh, kw,
                         stride, padding, oh, ow };
          parallel_for (c, col_grain (&job), im2col_range, &job);
        }
      if (g == 1)
        {
          /* out (O, P) = W (O, K) · col (K, P), straight into the image's output. */
          if (bias)
            for (int oc = 0; oc < o; oc++)
              for (int64_t p = 0; p < p_count; p++)
                ob[oc * p_count + p] = bias[oc];
          gemm (false, false, o, p_count, k, 1, w, k, pointwise ? xb : col, p_count,
                bias ? 1 : 0, ob, p_count);
        }
      else
        {
          /* (O, g·P) = W · col, then each image's (O, P) out of it, plus the bias. */
          gemm (false, false, o, ld, k, 1, w, k, col, ld, 0, prod_t->data, ld);
          regroup (prod_t->data, ob, o, g, p_count, true, bias);
        }
    }
}

/* The definition, by seven loops: the reference conv2d_forward is tested against,
 * and conv3x3_winograd_naive's (winograd.c). */
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

  int group = conv_group (n, p_count);
  int64_t cols = group * p_count;
  if (need_w)  /* (O, C, kh, kw) = (O, K); written by the first group's product */
    gi[1] = n > 0 ? tensor_new_empty (4, w->shape) : tensor_new_zeros (4, w->shape);
  if (conv_is_winograd (kh, kw, stride, padding, n, h, wd))
    {
      /* grad_x = g ⋆ W turned by 180° with its channel axes swapped: the same kind
       * of 3×3 convolution, from O channels to C. grad_W in the transformed domain. */
      if (need_x)
        {
          gi[0] = tensor_new_empty (4, x->shape);     /* (N, C, h, wd) */
          conv3x3_winograd (gi[0]->data, grad->data, w->data, NULL, n, o, h, wd, c, true);
        }
      if (need_w)
        conv3x3_winograd_weight_grad (gi[1]->data, x->data, grad->data, n, c, h, wd, o);
      return;
    }
  if (need_x)
    gi[0] = tensor_new_zeros (4, x->shape);          /* (N, C, h, wd) */
  bool x_is_col = pointwise && group == 1;
  g_autoptr (Tensor) col_t = need_w && !x_is_col
                               ? tensor_new_empty (1, (int64_t[]){ k * cols }) : NULL;
  g_autoptr (Tensor) gcol_t = need_x && !x_is_col
                                ? tensor_new_empty (1, (int64_t[]){ k * cols }) : NULL;
  g_autoptr (Tensor) gg_t = group > 1 ? tensor_new_empty (1, (int64_t[]){ o * cols }) : NULL;

  for (int b0 = 0; b0 < n; b0 += group)
    {
      int g = MIN (group, n - b0);
      int64_t ld = g * p_count;
      const float *xb = x->data + (int64_t) b0 * c * h * wd;     /* (g, C, h, wd) */
      const float *gb = grad->data + (int64_t) b0 * o * p_count; /* (g, O, P) */
      if (g > 1)
        {
          /* gg (O, g·P): the group's gradients side by side, as its col. */
          regroup (gg_t->data, (float *) gb, o, g, p_count, false, NULL);
          gb = gg_t->data;
        }
      if (need_w)
        {
          const float *col = xb;
          if (!x_is_col)
            {
              ColJob job = { col_t->data, ld, (float *) xb, (int64_t) c * h * wd, g, c, h, wd,
                             kh, kw, stride, padding, oh, ow };
              parallel_for (c, col_grain (&job), im2col_range, &job);
              col = col_t->data;
            }
          /* grad_W (O, K) (+)= g (O, g·P) · colᵀ (g·P, K). Nothing reads it before the
           * optimizer: streamed past the caches. An observer wants its norm (the
           * edge's magnitude): measured as it is written, and left for autograd.c. */
          if (autograd_has_observer () && b0 + g >= n)
            node->grad_norm_out[1]
              = sqrt (gemm_stream_c_sumsq (false, true, o, k, ld, 1, gb, ld, col, ld,
                                           b0 == 0 ? 0 : 1, gi[1]->data, k));
          else
            gemm_stream_c (false, true, o, k, ld, 1, gb, ld, col, ld, b0 == 0 ? 0 : 1,
                           gi[1]->data, k);
        }
      if (need_x)
        {
          float *gxb = gi[0]->data + (int64_t) b0 * c * h * wd;
          /* grad_col (K, g·P) = Wᵀ (K, O) · g (O, g·P); for a pointwise conv, grad_x. */
          gemm (true, false, k, ld, o, 1, w->data, k, gb, ld, 0,
                x_is_col ? gxb : gcol_t->data, ld);
          if (!x_is_col)
            {
              ColJob job = { gcol_t->data, ld, gxb, (int64_t) c * h * wd, g, c, h, wd, kh, kw,
                             stride, padding, oh, ow };
              parallel_for (c, col_grain (&job), col2im_range, &job);
            }
        }
    }
}

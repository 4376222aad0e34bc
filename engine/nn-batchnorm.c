/* nn-batchnorm.c — batch norm forward and backward (NativeBatchNormBackward0).
 *
 * x (N, C, *) is normalised per channel c over the M = N·H·W values of that channel:
 *
 *   training:  mean_c = Σ x / M,  var_c = Σ (x − mean_c)² / M   (biased)
 *              running_mean ← (1 − momentum)·running_mean + momentum·mean_c
 *              running_var  ← (1 − momentum)·running_var  + momentum·var_c·M/(M − 1)
 *              num_batches_tracked += 1
 *   eval:      mean_c = running_mean_c, var_c = running_var_c
 *
 *   invstd_c = 1 / √(var_c + eps),  y = (x − mean_c)·invstd_c·w_c + b_c
 *
 * computed as PyTorch's CPU kernel does: statistics in double, then y = x·α + β with
 * α = invstd·w, β = b − mean·α. Each channel is N contiguous planes of H·W floats.
 *
 * Saved, with PyTorch's names: "input", "weight" (when there is one), and in training
 * "result1" (mean, (C)) and "result2" (invstd, (C)); in eval, copies of
 * "running_mean" and "running_var" (the module may update its buffers in place later).
 */
#include "nn.h"
#include "backward.h"
#include "parallel.h"
#include "vec.h"

#include <math.h>

static gboolean
check_channel_vector (const char *what, const Tensor *t, const Tensor *x, int64_t c,
                      GError **error)
{
  if (t == NULL || (t->ndim == 1 && t->shape[0] == c))
    return TRUE;
  g_autofree char *ts = tensor_shape_string (t);
  g_autofree char *xs = tensor_shape_string (x);
  g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
               "batch_norm: %s of shape %s does not fit input %s (expected (%" G_GINT64_FORMAT "))",
               what, ts, xs, c);
  return FALSE;
}

static gboolean
batch_norm_check (const Tensor *x, const Tensor *weight, const Tensor *bias,
                  const Tensor *running_mean, const Tensor *running_var, bool training,
                  GError **error)
{
  if (x->ndim < 2)
    {
      g_autofree char *xs = tensor_shape_string (x);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "batch_norm: expected an input of at least 2 dims (N, C, ...), got %s", xs);
      return FALSE;
    }
  int64_t c = x->shape[1];
  if (!check_channel_vector ("weight", weight, x, c, error)
      || !check_channel_vector ("bias", bias, x, c, error)
      || !check_channel_vector ("running_mean", running_mean, x, c, error)
      || !check_channel_vector ("running_var", running_var, x, c, error))
    return FALSE;
  if ((running_mean == NULL) != (running_var == NULL))
    {
      g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                           "batch_norm: running_mean and running_var must both be given or both "
                           "be None");
      return FALSE;
    }
  if (!training && running_mean == NULL)
    {
      g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                           "running_mean must be defined in evaluation mode");
      return FALSE;
    }
  if (training && c > 0 && x->numel / c <= 1)
    {
      /* PyTorch's words, its torch.Size spelling included. */
      g_autofree char *size = shape_to_size_list (x->ndim, x->shape);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_VALUE,
                   "Expected more than 1 value per channel when training, got input size "
                   "torch.Size(%s)", size);
      return FALSE;
    }
  return TRUE;
}

/* The per-channel loops, vectorised: sums in double over 16 lanes (a reassociation
 * of the sequential double sum, far below float's precision), built for AVX-512,
 * AVX2 and the baseline, picked by vec_level () (VEC_CLONES). */
#define BODY static inline __attribute__ ((always_inline))

/* Σ p[i], and Σ (p[i] − mu)², over one plane. */
BODY double
plane_sum_body (const float *p, int64_t n)
{
  double s[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++)
      s[l] += p[i + l];
  double t = 0;
  for (int l = 0; l < 16; l++)
    t += s[l];
  for (; i < n; i++)
    t += p[i];
  return t;
}

VEC_CLONES_RETURN (double, plane_sum, (const float *p, int64_t n), (p, n))

BODY double
plane_sum_sq_dev_body (const float *p, int64_t n, double mu)
{
  double s[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++)
      {
        double d = p[i + l] - mu;
        s[l] += d * d;
      }
  double t = 0;
  for (int l = 0; l < 16; l++)
    t += s[l];
  for (; i < n; i++)
    t += (p[i] - mu) * (p[i] - mu);
  return t;
}

VEC_CLONES_RETURN (double, plane_sum_sq_dev, (const float *p, int64_t n, double mu), (p, n, mu))

/* Σ g and Σ g·(x − mu) over one plane. */
BODY void
plane_sum_g_gxm_body (const float *g, const float *x, int64_t n, double mu, double *sum_g,
                      double *sum_gxm)
{
  double s[16] = { 0 }, t[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++)
      {
        s[l] += g[i + l];
        t[l] += (double) g[i + l] * (x[i + l] - mu);
      }
  double a = 0, b = 0;
  for (int l = 0; l < 16; l++)
    {
      a += s[l];
      b += t[l];
    }
  for (; i < n; i++)
    {
      a += g[i];
      b += (double) g[i] * (x[i] - mu);
    }
  *sum_g += a;
  *sum_gxm += b;
}

VEC_CLONES (plane_sum_g_gxm,
            (const float *g, const float *x, int64_t n, double mu, double *sum_g,
             double *sum_gxm),
            (g, x, n, mu, sum_g, sum_gxm))

BODY void
plane_affine_body (float *restrict y, const float *restrict x, int64_t n, float alpha,
                   float beta)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] * alpha + beta;
}

VEC_CLONES (plane_affine,
            (float *restrict y, const float *restrict x, int64_t n, float alpha, float beta),
            (y, x, n, alpha, beta))

BODY void
plane_grad_x_body (float *restrict dx, const float *restrict g, const float *restrict x,
                   int64_t n, float scale, float shift, float muf, float k)
{
  for (int64_t i = 0; i < n; i++)
    dx[i] = scale * g[i] + shift + (x[i] - muf) * k;
}

VEC_CLONES (plane_grad_x,
            (float *restrict dx, const float *restrict g, const float *restrict x, int64_t n,
             float scale, float shift, float muf, float k),
            (dx, g, x, n, scale, shift, muf, k))

/* Channels per slice of the engine's threads: about 16K values each. */
static int64_t
channel_grain (int64_t m)
{
  return MAX (1, 16384 / MAX (m, 1));
}

typedef struct
{
  const float *x;                  /* (N, C, hw) */
  float *y;                        /* (N, C, hw) */
  int64_t n, c, hw;
  bool training;
  double *stats;                   /* training: mean (C), biased var (C), filled here */
  float *mean, *invstd;            /* (C): filled in training, given in eval */
  const float *weight, *bias;      /* (C) or NULL */
  float eps;
} BnForwardJob;

/* Per channel: the statistics (training), then y = x·α + β, while the channel's
 * planes are still in cache. */
static void
bn_forward_range (gpointer data, int64_t c0, int64_t c1)
{
  const BnForwardJob *j = data;
  int64_t n = j->n, c = j->c, hw = j->hw;
  double m = (double) n * hw;
  for (int64_t ch = c0; ch < c1; ch++)
    {
      if (j->training)
        {
          double sum = 0;
          for (int64_t b = 0; b < n; b++)
            sum += plane_sum (j->x + (b * c + ch) * hw, hw);
          double mu = sum / m;
          double sq = 0;
          for (int64_t b = 0; b < n; b++)
            sq += plane_sum_sq_dev (j->x + (b * c + ch) * hw, hw, mu);
          j->stats[ch] = mu;
          j->stats[c + ch] = sq / m;
          j->mean[ch] = (float) mu;
          j->invstd[ch] = (float) (1.0 / sqrt (sq / m + j->eps));
        }
      float alpha = j->invstd[ch] * (j->weight ? j->weight[ch] : 1.0f);
      float beta = (j->bias ? j->bias[ch] : 0.0f) - j->mean[ch] * alpha;
      for (int64_t b = 0; b < n; b++)
        plane_affine (j->y + (b * c + ch) * hw, j->x + (b * c + ch) * hw, hw, alpha, beta);
    }
}

Tensor *
tensor_batch_norm (Tensor *x, Tensor *weight, Tensor *bias, Tensor *running_mean,
                   Tensor *running_var, int64_t *num_batches_tracked, bool training,
                   float momentum, float eps, GError **error)
{
  g_return_val_if_fail (x != NULL, NULL);
  if (!batch_norm_check (x, weight, bias, running_mean, running_var, training, error))
    return NULL;
  int64_t n = x->shape[0], c = x->shape[1];
  int64_t hw = c > 0 && n > 0 ? x->numel / (n * c) : 0;
  int64_t m = n * hw;

  g_autoptr (Tensor) mean = tensor_new_empty (1, (int64_t[]){ c });    /* (C) */
  g_autoptr (Tensor) invstd = tensor_new_empty (1, (int64_t[]){ c });  /* (C) */
  g_autofree double *stats = training ? g_new (double, 2 * c) : NULL;  /* mean, biased var */
  if (!training)
    for (int64_t ch = 0; ch < c; ch++)
      {
        mean->data[ch] = running_mean->data[ch];
        invstd->data[ch] = (float) (1.0 / sqrt ((double) running_var->data[ch] + eps));
      }

  /* Statistics and y = x·α + β per channel, channels sliced over the threads. */
  Tensor *out = tensor_new_empty (x->ndim, x->shape);
  BnForwardJob job = { x->data, out->data, n, c, hw, training, stats, mean->data,
                       invstd->data, weight ? weight->data : NULL, bias ? bias->data : NULL,
                       eps };
  parallel_for (c, channel_grain (m), bn_forward_range, &job);

  if (training)
    {
      if (running_mean)
        for (int64_t ch = 0; ch < c; ch++)
          {
            double unbiased = stats[c + ch] * (double) m / (double) (m - 1);
            running_mean->data[ch] = (float) (momentum * stats[ch]
                                              + (1.0 - momentum) * running_mean->data[ch]);
            running_var->data[ch] = (float) (momentum * unbiased
                                             + (1.0 - momentum) * running_var->data[ch]);
          }
      if (num_batches_tracked)
        (*num_batches_tracked)++;
    }

  Node *node = autograd_record (OP_BATCH_NORM, out, 3, (Tensor *[]){ x, weight, bias });
  if (node)
    {
      node_save (node, "input", x);
      if (weight)
        node_save (node, "weight", weight);
      if (training)
        {
          node_save (node, "result1", mean);
          node_save (node, "result2", invstd);
        }
      else
        {
          g_autoptr (Tensor) rm = tensor_copy (running_mean);
          g_autoptr (Tensor) rv = tensor_copy (running_var);
          node_save (node, "running_mean", rm);
          node_save (node, "running_var", rv);
        }
      node->ints[0] = training;
      node->ints[1] = weight != NULL;
      node->scalars[0] = eps;
      node->scalars[1] = momentum;
      autograd_commit (node);
    }
  return out;
}

typedef struct
{
  const float *x, *g;              /* (N, C, hw) */
  float *dx;                       /* (N, C, hw) or NULL */
  float *dw, *db;                  /* (C) or NULL */
  const float *s1, *s2;            /* mean and invstd, or running mean and var */
  const float *w;                  /* (C) or NULL */
  int64_t n, c, hw;
  bool training;
  double eps;
} BnBackwardJob;

static void
bn_backward_range (gpointer data, int64_t c0, int64_t c1)
{
  const BnBackwardJob *j = data;
  int64_t n = j->n, c = j->c, hw = j->hw;
  double m = (double) n * hw;
  for (int64_t ch = c0; ch < c1; ch++)
    {
      double mu = j->s1[ch];
      double invstd = j->training ? j->s2[ch] : 1.0 / sqrt ((double) j->s2[ch] + j->eps);
      double wc = j->w ? j->w[ch] : 1.0;

      /* Pass 1: Σ g and Σ g·(x − mean). */
      double sum_g = 0, sum_gxm = 0;
      if (j->dw || j->db || (j->dx && j->training))
        for (int64_t b = 0; b < n; b++)
          plane_sum_g_gxm (j->g + (b * c + ch) * hw, j->x + (b * c + ch) * hw, hw, mu,
                           &sum_g, &sum_gxm);
      if (j->dw)
        j->dw[ch] = (float) (sum_gxm * invstd);
      if (j->db)
        j->db[ch] = (float) sum_g;
      if (!j->dx)
        continue;

      /* Pass 2: grad_x = scale·g + shift + (x − mean)·k, the formula above expanded. */
      float scale = (float) (wc * invstd);
      float k = j->training ? (float) (-wc * invstd * invstd * invstd * sum_gxm / m) : 0.0f;
      float shift = j->training ? (float) (-wc * invstd * sum_g / m) : 0.0f;
      for (int64_t b = 0; b < n; b++)
        plane_grad_x (j->dx + (b * c + ch) * hw, j->g + (b * c + ch) * hw,
                      j->x + (b * c + ch) * hw, hw, scale, shift, (float) mu, k);
    }
}

/* With g the incoming gradient and x̂ = (x − mean)·invstd, per channel:
 *
 *   grad_b = Σ g,   grad_w = Σ g·x̂
 *   training: grad_x = w·invstd·(g − Σg/M − x̂·Σ(g·x̂)/M)   (mean and var depend on x)
 *   eval:     grad_x = w·invstd·g                           (the running stats do not)
 *
 * Only the slots with an edge are filled: the input's may be None while the affine
 * parameters train, or the other way round. */
void
batch_norm_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  bool training = node->ints[0];
  bool has_weight = node->ints[1];
  double eps = node->scalars[0];
  const Tensor *x = node->saved[0];
  const float *w = has_weight ? node->saved[1]->data : NULL;
  const Tensor *s1 = node->saved[node->n_saved - 2];   /* mean or running_mean */
  const Tensor *s2 = node->saved[node->n_saved - 1];   /* invstd or running_var */
  int64_t n = x->shape[0], c = x->shape[1];
  int64_t hw = c > 0 && n > 0 ? x->numel / (n * c) : 0;
  bool need_x = node->next[0].node != NULL;
  bool need_w = node->next[1].node != NULL;
  bool need_b = node->next[2].node != NULL;

  if (need_x)
    gi[0] = tensor_new_empty (x->ndim, x->shape);
  if (need_w)
    gi[1] = tensor_new_empty (1, (int64_t[]){ c });
  if (need_b)
    gi[2] = tensor_new_empty (1, (int64_t[]){ c });

  BnBackwardJob job = { x->data, grad->data, need_x ? gi[0]->data : NULL,
                        need_w ? gi[1]->data : NULL, need_b ? gi[2]->data : NULL,
                        s1->data, s2->data, w, n, c, hw, training, eps };
  parallel_for (c, channel_grain (n * hw), bn_backward_range, &job);
}

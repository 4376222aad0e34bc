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
      GString *size = g_string_new ("[");
      for (int i = 0; i < x->ndim; i++)
        g_string_append_printf (size, "%s%" G_GINT64_FORMAT, i ? ", " : "", x->shape[i]);
      g_string_append_c (size, ']');
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "Expected more than 1 value per channel when training, got input size "
                   "torch.Size(%s)", size->str);
      g_string_free (size, TRUE);
      return FALSE;
    }
  return TRUE;
}

/* Per channel: mean (C) and biased variance (C) over N planes of hw, in double. */
static void
batch_norm_stats (double *mean, double *var, const float *x, int64_t n, int64_t c, int64_t hw)
{
  double m = (double) n * hw;
  for (int64_t ch = 0; ch < c; ch++)
    {
      double sum = 0;
      for (int64_t b = 0; b < n; b++)
        {
          const float *plane = x + (b * c + ch) * hw;
          for (int64_t i = 0; i < hw; i++)
            sum += plane[i];
        }
      double mu = sum / m;
      double sq = 0;
      for (int64_t b = 0; b < n; b++)
        {
          const float *plane = x + (b * c + ch) * hw;
          for (int64_t i = 0; i < hw; i++)
            {
              double d = plane[i] - mu;
              sq += d * d;
            }
        }
      mean[ch] = mu;
      var[ch] = sq / m;
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
  if (training)
    {
      double *stats = g_new (double, 2 * c);   /* mean (C), then biased var (C) */
      batch_norm_stats (stats, stats + c, x->data, n, c, hw);
      for (int64_t ch = 0; ch < c; ch++)
        {
          mean->data[ch] = (float) stats[ch];
          invstd->data[ch] = (float) (1.0 / sqrt (stats[c + ch] + eps));
        }
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
      g_free (stats);
    }
  else
    for (int64_t ch = 0; ch < c; ch++)
      {
        mean->data[ch] = running_mean->data[ch];
        invstd->data[ch] = (float) (1.0 / sqrt ((double) running_var->data[ch] + eps));
      }

  /* y = x·α + β per channel. */
  Tensor *out = tensor_new_empty (x->ndim, x->shape);
  for (int64_t ch = 0; ch < c; ch++)
    {
      float alpha = invstd->data[ch] * (weight ? weight->data[ch] : 1.0f);
      float beta = (bias ? bias->data[ch] : 0.0f) - mean->data[ch] * alpha;
      for (int64_t b = 0; b < n; b++)
        {
          const float *xp = x->data + (b * c + ch) * hw;
          float *yp = out->data + (b * c + ch) * hw;
          for (int64_t i = 0; i < hw; i++)
            yp[i] = xp[i] * alpha + beta;
        }
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
  double m = (double) n * hw;
  bool need_x = node->next[0].node != NULL;
  bool need_w = node->next[1].node != NULL;
  bool need_b = node->next[2].node != NULL;

  if (need_x)
    gi[0] = tensor_new_empty (x->ndim, x->shape);
  if (need_w)
    gi[1] = tensor_new_empty (1, (int64_t[]){ c });
  if (need_b)
    gi[2] = tensor_new_empty (1, (int64_t[]){ c });

  for (int64_t ch = 0; ch < c; ch++)
    {
      double mu = s1->data[ch];
      double invstd = training ? s2->data[ch] : 1.0 / sqrt ((double) s2->data[ch] + eps);
      double wc = w ? w[ch] : 1.0;

      /* Pass 1: Σ g and Σ g·(x − mean). */
      double sum_g = 0, sum_gxm = 0;
      if (need_w || need_b || (need_x && training))
        for (int64_t b = 0; b < n; b++)
          {
            const float *gp = grad->data + (b * c + ch) * hw;
            const float *xp = x->data + (b * c + ch) * hw;
            for (int64_t i = 0; i < hw; i++)
              {
                sum_g += gp[i];
                sum_gxm += (double) gp[i] * (xp[i] - mu);
              }
          }
      if (need_w)
        gi[1]->data[ch] = (float) (sum_gxm * invstd);
      if (need_b)
        gi[2]->data[ch] = (float) sum_g;
      if (!need_x)
        continue;

      /* Pass 2: grad_x = scale·g + shift + (x − mean)·k, the formula above expanded. */
      float scale = (float) (wc * invstd);
      float k = training ? (float) (-wc * invstd * invstd * invstd * sum_gxm / m) : 0.0f;
      float shift = training ? (float) (-wc * invstd * sum_g / m) : 0.0f;
      float muf = (float) mu;
      for (int64_t b = 0; b < n; b++)
        {
          const float *gp = grad->data + (b * c + ch) * hw;
          const float *xp = x->data + (b * c + ch) * hw;
          float *dp = gi[0]->data + (b * c + ch) * hw;
          for (int64_t i = 0; i < hw; i++)
            dp[i] = scale * gp[i] + shift + (xp[i] - muf) * k;
        }
    }
}

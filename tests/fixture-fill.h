/* fixture-fill.h — the deterministic weights of the PyTorch fixtures, in C.
 *
 * The twin of fill_state_dict in tools/make-fixtures.py: keep the two identical.
 * It lets a test rebuild the real resnet18's 11.7 M weights bit for bit from a
 * seed instead of reading 47 MB of fixtures.
 *
 *   torch.manual_seed(seed); then for each state-dict entry, in order, s = 2u - 1 with
 *   u = torch.rand(shape) (one draw per element, row-major), computed in float32:
 *     *.num_batches_tracked          0 (no draw)
 *     BN  running_mean               s * 0.125
 *     BN  running_var                u + 0.5
 *     BN  weight                     s * 0.125 + 1
 *     BN  bias                       s * 0.125
 *     conv weight (O, C, kh, kw)     s * float32(sqrt(24 / (C*kh*kw)))
 *     linear weight (O, I)           s * float32(1 / sqrt(I))
 *     other bias (of M.weight)       s * float32(1 / sqrt(M.weight[0].numel()))
 *   (a BN is a module M with an M.running_mean entry).
 *
 * Every value is rounded once (2u - 1 and the scalings by powers of two are exact),
 * so a fused multiply-add cannot change it; generator_uniform_float is torch.rand's
 * draw (tensor.h).
 *
 *   g_autoptr (StateDict) sd = fixture_state_dict_like (model);   // zeros, model's names
 *   Generator gen;
 *   generator_init (&gen, seed);
 *   fixture_fill_state_dict (sd, &gen, &error);
 *   module_load_state_dict (model, sd, NULL, &error);
 */
#pragma once

#include <math.h>
#include <string.h>

#include "module.h"

/* Zeros with the names, dtypes and shapes of model's state dict, in its order. */
static inline StateDict *
fixture_state_dict_like (Module *model)
{
  g_autoptr (StateDict) like = module_state_dict (model);
  StateDict *sd = state_dict_new ();
  for (guint i = 0; i < state_dict_size (like); i++)
    {
      const StateEntry *e = state_dict_entry (like, i);
      if (e->dtype == STATE_DTYPE_I64)
        {
          g_autofree int64_t *zeros = g_new0 (int64_t, MAX (state_entry_numel (e), 1));
          state_dict_add_i64 (sd, e->name, e->ndim, e->shape, zeros);
        }
      else
        {
          g_autoptr (Tensor) t = tensor_new_zeros (e->ndim, e->shape);
          state_dict_add_f32 (sd, e->name, t);
        }
    }
  return sd;
}

/* Fills every entry of sd in place, in order, drawing from gen. */
static inline gboolean
fixture_fill_state_dict (StateDict *sd, Generator *gen, GError **error)
{
  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      const char *dot = strrchr (e->name, '.');
      const char *leaf = dot ? dot + 1 : e->name;
      g_autofree char *prefix = g_strndup (e->name, dot ? (gsize) (dot - e->name) : 0);

      if (strcmp (leaf, "num_batches_tracked") == 0 && e->dtype == STATE_DTYPE_I64)
        {
          memset (e->i64, 0, sizeof (int64_t) * state_entry_numel (e));
          continue;
        }
      if (e->dtype != STATE_DTYPE_F32)
        {
          g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_DTYPE,
                       "fixture fill: “%s” is not F32", e->name);
          return FALSE;
        }

      g_autofree char *running_mean = g_strconcat (prefix, ".running_mean", NULL);
      g_autofree char *weight_name = g_strconcat (prefix, ".weight", NULL);
      bool is_bn = state_dict_lookup (sd, running_mean) != NULL;
      Tensor *t = e->f32;
      /* v = s * scale + offset; offset is 0 except for BN weights, and for running_var,
       * which is u + 0.5 (scale 0 there, see below). */
      enum { SCALED, BN_WEIGHT, RUNNING_VAR } rule = SCALED;
      float scale;
      if (is_bn && strcmp (leaf, "running_mean") == 0)
        scale = 0.125f;
      else if (is_bn && strcmp (leaf, "running_var") == 0)
        rule = RUNNING_VAR, scale = 0.0f;
      else if (is_bn && strcmp (leaf, "weight") == 0)
        rule = BN_WEIGHT, scale = 0.125f;
      else if (is_bn && strcmp (leaf, "bias") == 0)
        scale = 0.125f;
      else if (strcmp (leaf, "weight") == 0 && t->ndim == 4)
        scale = (float) sqrt (24.0 / (double) (t->shape[1] * t->shape[2] * t->shape[3]));
      else if (strcmp (leaf, "weight") == 0 && t->ndim == 2)
        scale = (float) (1.0 / sqrt ((double) t->shape[1]));
      else if (strcmp (leaf, "bias") == 0 && state_dict_lookup (sd, weight_name) != NULL
               && state_dict_lookup (sd, weight_name)->dtype == STATE_DTYPE_F32)
        {
          const Tensor *w = state_dict_lookup (sd, weight_name)->f32;
          scale = (float) (1.0 / sqrt ((double) (w->numel / w->shape[0])));
        }
      else
        {
          g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_FORMAT,
                       "fixture fill: no rule for “%s”", e->name);
          return FALSE;
        }

      for (int64_t j = 0; j < t->numel; j++)
        {
          float u = generator_uniform_float (gen);
          float s = u * 2.0f - 1.0f;
          switch (rule)
            {
            case SCALED:      t->data[j] = s * scale; break;
            case BN_WEIGHT:   t->data[j] = s * scale + 1.0f; break;
            case RUNNING_VAR: t->data[j] = u + 0.5f; break;
            }
        }
    }
  return TRUE;
}

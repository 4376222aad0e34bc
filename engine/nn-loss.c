/* nn-loss.c — mse_loss, nll_loss and cross_entropy (= log_softmax then nll_loss,
 * as PyTorch records it): forward and backward side by side. */
#include "nn.h"
#include "ops-private.h"
#include "backward.h"

#include <math.h>
#include <string.h>

/* --- mse_loss ---------------------------------------------------------------- */

/* Shape of the broadcast; t itself if it has it, else t.expand (shape) (recorded
 * as ExpandBackward0, as F.mse_loss's torch.broadcast_tensors does). */
static Tensor *
broadcast_to (Tensor *t, int ndim, const int64_t *shape)
{
  if (t->ndim == ndim && memcmp (t->shape, shape, ndim * sizeof *shape) == 0)
    return tensor_ref (t);
  return tensor_expand (t, ndim, shape, NULL);
}

static Tensor *
mse_loss_same_shape (Tensor *input, Tensor *target, LossReduction reduction)
{
  g_autoptr (Tensor) sq = tensor_new_empty (input->ndim, input->shape);
  double sum = 0;
  for (int64_t i = 0; i < sq->numel; i++)
    {
      float d = input->data[i] - target->data[i];
      sq->data[i] = d * d;
      sum += sq->data[i];
    }
  Tensor *out;
  if (reduction == LOSS_REDUCTION_NONE)
    out = tensor_ref (sq);
  else
    out = tensor_new_scalar (reduction == LOSS_REDUCTION_MEAN ? sum / (double) sq->numel : sum);
  Node *node = autograd_record (OP_MSE_LOSS, out, 2, (Tensor *[]){ input, target });
  if (node)
    {
      node->ints[0] = reduction;
      node_save (node, "self", input);
      node_save (node, "target", target);
      autograd_commit (node);
    }
  return out;
}

/* (input − target)², reduced. Shapes that differ are broadcast first (PyTorch warns,
 * and broadcasts). */
Tensor *
tensor_mse_loss (Tensor *input, Tensor *target, LossReduction reduction, GError **error)
{
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!broadcast_shapes (input->ndim, input->shape, target->ndim, target->shape, &ndim, shape))
    {
      set_shape_error (error, "mse_loss", input, target);
      return NULL;
    }
  g_autoptr (Tensor) a = broadcast_to (input, ndim, shape);
  g_autoptr (Tensor) b = broadcast_to (target, ndim, shape);
  return mse_loss_same_shape (a, b, reduction);
}

/* ∂/∂input = 2(input − target)·g (÷ numel for the mean); ∂/∂target is its negative. */
void
mse_loss_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *a = node->saved[0], *b = node->saved[1];
  LossReduction reduction = node->ints[0];
  float scale = reduction == LOSS_REDUCTION_MEAN ? 2.0f / (float) a->numel : 2.0f;
  for (int i = 0; i < 2; i++)
    if (node->next[i].node)
      {
        gi[i] = tensor_new_empty (a->ndim, a->shape);
        float sign = i == 0 ? scale : -scale;
        for (int64_t k = 0; k < a->numel; k++)
          {
            float g = reduction == LOSS_REDUCTION_NONE ? grad->data[k] : grad->data[0];
            gi[i]->data[k] = sign * (a->data[k] - b->data[k]) * g;
          }
      }
}

/* --- nll_loss ------------------------------------------------------------------ */

#define NLL_IGNORE_INDEX (-100)

typedef struct
{
  int64_t n;                       /* batch: 1 for a 1-D input */
  int64_t *target;                 /* (n) class indices */
} NllExtra;

static void
nll_extra_free (gpointer data)
{
  NllExtra *e = data;
  g_free (e->target);
  g_free (e);
}

/* input (N, C) or (C) of log-probabilities; target (N) (or one index) of classes
 * in [0, C) or ignore_index −100. out = −input[i, target[i]], summed, or averaged
 * over the targets not ignored (total_weight; 0/0 = NaN when all are), or per row. */
Tensor *
tensor_nll_loss (Tensor *input, const int64_t *target, int64_t n_target,
                 LossReduction reduction, GError **error)
{
  if (input->ndim != 1 && input->ndim != 2)
    {
      g_autofree char *s = tensor_shape_string (input);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "nll_loss: input must be 1-D or 2-D (got shape %s)", s);
      return NULL;
    }
  int64_t n = input->ndim == 2 ? input->shape[0] : 1;
  int64_t c = input->shape[input->ndim - 1];
  if (n_target != n)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "Expected input batch_size (%" G_GINT64_FORMAT ") to match target batch_size (%"
                   G_GINT64_FORMAT ").", n, n_target);
      return NULL;
    }
  for (int64_t i = 0; i < n; i++)
    if (target[i] != NLL_IGNORE_INDEX && (target[i] < 0 || target[i] >= c))
      {
        g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                     "Target %" G_GINT64_FORMAT " is out of bounds.", target[i]);
        return NULL;
      }

  g_autoptr (Tensor) rows = tensor_new_zeros (input->ndim == 2 ? 1 : 0, &n);
  float total_weight = 0;
  for (int64_t i = 0; i < n; i++)
    if (target[i] != NLL_IGNORE_INDEX)
      {
        rows->data[i] = -input->data[i * c + target[i]];
        total_weight += 1;
      }
  Tensor *out;
  if (reduction == LOSS_REDUCTION_NONE)
    out = tensor_ref (rows);
  else
    {
      float sum = 0;   /* in float, in order, as PyTorch's CPU kernel */
      for (int64_t i = 0; i < n; i++)
        sum += rows->data[i];
      out = tensor_new_scalar (reduction == LOSS_REDUCTION_MEAN ? sum / total_weight : sum);
    }
  Node *node = autograd_record (OP_NLL_LOSS, out, 1, (Tensor *[]){ input });
  if (node)
    {
      node->ints[0] = reduction;
      node_save (node, "self", input);
      g_autoptr (Tensor) tw = tensor_new_scalar (total_weight);
      node_save (node, "total_weight", tw);
      NllExtra *e = g_new (NllExtra, 1);
      e->n = n;
      e->target = g_memdup2 (target, n * sizeof *target);
      node_set_extra (node, e, nll_extra_free);   /* PyTorch saves target too */
      autograd_commit (node);
    }
  return out;
}

/* ∂/∂input[i, target[i]] = −g (÷ total_weight for the mean; g[i] for none). */
void
nll_loss_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const NllExtra *e = node->extra;
  float total_weight = node->saved[1]->data[0];
  LossReduction reduction = node->ints[0];
  int64_t c = node->input_shape[0][node->input_ndim[0] - 1];
  gi[0] = node_new_input_grad (node, 0);
  for (int64_t i = 0; i < e->n; i++)
    if (e->target[i] != NLL_IGNORE_INDEX)
      {
        float g = reduction == LOSS_REDUCTION_NONE ? grad->data[i] : grad->data[0];
        if (reduction == LOSS_REDUCTION_MEAN)
          g /= total_weight;
        gi[0]->data[i * c + e->target[i]] = -g;
      }
}

Tensor *
tensor_cross_entropy (Tensor *input, const int64_t *target, int64_t n_target,
                      LossReduction reduction, GError **error)
{
  /* F.cross_entropy: log_softmax over the class dim (1, or 0 for a 1-D input). */
  g_autoptr (Tensor) logp = tensor_log_softmax (input, input->ndim == 1 ? 0 : 1, error);
  if (logp == NULL)
    return NULL;
  return tensor_nll_loss (logp, target, n_target, reduction, error);
}

/* sgd.c — torch.optim.SGD (the single-tensor path), operation for operation in float:
 *
 *   d = grad                                   (p.grad is not None)
 *   d = d + weight_decay·p                     if weight_decay ≠ 0
 *   buf = clone(d)                             first time, when momentum ≠ 0
 *   buf = momentum·buf + (1 − dampening)·d     later
 *   d = d + momentum·buf  (nesterov)  |  d = buf
 *   p = p + (−lr)·d
 */
#include "sgd.h"
#include "parallel.h"
#include "vec.h"

#include <string.h>

static void
sgd_param_clear (gpointer p)
{
  SgdParam *sp = p;
  g_clear_pointer (&sp->name, g_free);
  g_clear_pointer (&sp->param, tensor_unref);
  g_clear_pointer (&sp->momentum_buffer, tensor_unref);
  g_clear_pointer (&sp->last_update, tensor_unref);
  g_clear_pointer (&sp->exp_avg, tensor_unref);
  g_clear_pointer (&sp->exp_avg_sq, tensor_unref);
  g_clear_pointer (&sp->max_exp_avg_sq, tensor_unref);
}

static Sgd *
sgd_alloc (const SgdOptions *options)
{
  Sgd *sgd = g_new0 (Sgd, 1);
  sgd->ref_count = 1;
  sgd->options = *options;
  sgd->params = g_array_new (FALSE, TRUE, sizeof (SgdParam));
  g_array_set_clear_func (sgd->params, sgd_param_clear);
  return sgd;
}

/* PyTorch's own checks: lr, momentum, weight decay ≥ 0; "Nesterov momentum requires a
 * momentum and zero dampening". */
static bool
sgd_options_valid (const SgdOptions *o)
{
  if (o->kind == OPTIM_ADAM)
    return o->adam.lr >= 0 && o->adam.eps >= 0 && o->adam.beta1 >= 0 && o->adam.beta1 < 1
           && o->adam.beta2 >= 0 && o->adam.beta2 < 1 && o->adam.weight_decay >= 0;
  return o->lr >= 0 && o->momentum >= 0 && o->weight_decay >= 0
         && (!o->nesterov || (o->momentum > 0 && o->dampening == 0));
}

Sgd *
sgd_new (Module *model, const SgdOptions *options)
{
  g_return_val_if_fail (model != NULL && options != NULL, NULL);
  g_return_val_if_fail (sgd_options_valid (options), NULL);

  Sgd *sgd = sgd_alloc (options);
  g_autoptr (GPtrArray) named = module_named_parameters (model);
  for (guint i = 0; i < named->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (named, i);
      SgdParam sp = { g_strdup (mt->name), tensor_ref (mt->tensor), NULL, NULL };
      g_array_append_val (sgd->params, sp);
    }
  return sgd;
}

Sgd *
sgd_new_for_tensors (Tensor *const *params, int n_params, const SgdOptions *options)
{
  g_return_val_if_fail (params != NULL || n_params == 0, NULL);
  g_return_val_if_fail (options != NULL && sgd_options_valid (options), NULL);

  Sgd *sgd = sgd_alloc (options);
  for (int i = 0; i < n_params; i++)
    {
      char *name = params[i]->name ? g_strdup (params[i]->name) : g_strdup_printf ("%d", i);
      SgdParam sp = { name, tensor_ref (params[i]), NULL, NULL };
      g_array_append_val (sgd->params, sp);
    }
  return sgd;
}

Sgd *
sgd_ref (Sgd *sgd)
{
  g_return_val_if_fail (sgd != NULL, NULL);
  g_atomic_int_inc (&sgd->ref_count);
  return sgd;
}

void
sgd_free (Sgd *sgd)
{
  if (sgd == NULL || !g_atomic_int_dec_and_test (&sgd->ref_count))
    return;
  g_array_unref (sgd->params);
  g_free (sgd);
}

/* One parameter's update, element by element with PyTorch's float operations in
 * PyTorch's order. The elements are cut in slices run on the engine's threads
 * (parallel.h); each element's arithmetic is the same whatever the slicing. */
typedef struct
{
  const SgdOptions *o;
  float *w;                                    /* (n) */
  const float *g;                              /* (n) */
  float *buf;                                  /* (n), NULL without momentum */
  float *upd;                                  /* (n) */
  bool first;                                  /* buf is new */
} SgdPass;

static void
sgd_update_range (gpointer data, int64_t begin, int64_t end)
{
  const SgdPass *s = data;
  const SgdOptions *o = s->o;
  float *restrict w = s->w, *restrict buf = s->buf, *restrict upd = s->upd;
  const float *restrict g = s->g;
  float wd = o->weight_decay, mom = o->momentum;
  float one_minus_damp = (float) (1.0 - (double) o->dampening);
  float neg_lr = -o->lr;
  bool first = s->first;

  if (buf && !first && wd == 0 && !o->nesterov)
    {
      /* Lesson 3's SGD(lr, momentum) after its first step: the same operations as
       * below, vectorised, the update streamed (vec.h). */
      vec_sgd_momentum (w + begin, g + begin, buf + begin, upd + begin, end - begin, mom,
                        one_minus_damp, neg_lr);
      return;
    }
  for (int64_t i = begin; i < end; i++)
    {
      float d = g[i];
      if (wd != 0)
        d = d + wd * w[i];                     /* d_p.add(p, alpha=weight_decay) */
      if (buf)
        {
          if (first)
            buf[i] = d;                        /* torch.clone(d_p) */
          else
            {
              float scaled = buf[i] * mom;     /* buf.mul_(momentum) */
              buf[i] = scaled + one_minus_damp * d;  /* .add_(d_p, alpha=1-dampening) */
            }
          d = o->nesterov ? d + mom * buf[i] : buf[i];
        }
      float before = w[i];
      float after = before + neg_lr * d;       /* p.add_(d_p, alpha=-lr) */
      w[i] = after;
      upd[i] = after - before;
    }
}

/* Writes p_after − p_before into last_update. */
static void
sgd_update (const SgdOptions *o, SgdParam *sp)
{
  Tensor *p = sp->param;
  bool first = sp->momentum_buffer == NULL;

  if (o->momentum != 0 && first)
    sp->momentum_buffer = tensor_new_empty (p->ndim, p->shape);
  if (sp->last_update == NULL || !tensor_same_shape (sp->last_update, p))
    {
      g_clear_pointer (&sp->last_update, tensor_unref);
      sp->last_update = tensor_new_empty (p->ndim, p->shape);
    }
  SgdPass pass = {
    .o = o,
    .w = p->data,
    .g = p->grad->data,
    .buf = o->momentum != 0 ? sp->momentum_buffer->data : NULL,
    .upd = sp->last_update->data,
    .first = first,
  };
  parallel_for (p->numel, 32768, sgd_update_range, &pass);
}

void
sgd_step (Sgd *sgd)
{
  g_return_if_fail (sgd != NULL);
  for (guint i = 0; i < sgd->params->len; i++)
    {
      SgdParam *sp = &g_array_index (sgd->params, SgdParam, i);
      /* Only .grad decides, as in PyTorch: not requires_grad. */
      if (sp->param->grad == NULL)
        {
          g_clear_pointer (&sp->last_update, tensor_unref);
          continue;
        }
      if (!tensor_same_shape (sp->param->grad, sp->param))
        {
          g_critical ("sgd_step: the gradient of “%s” does not have its shape", sp->name);
          continue;
        }
      if (sgd->options.kind == OPTIM_ADAM)
        adam_update (&sgd->options, sp);
      else
        sgd_update (&sgd->options, sp);
      autograd_emit (&(Event){ .kind = EVENT_PARAM_UPDATED, .tensor = sp->param,
                               .text = sp->name });
    }
  sgd->steps++;
}

void
sgd_zero_grad (Sgd *sgd)
{
  g_return_if_fail (sgd != NULL);
  for (guint i = 0; i < sgd->params->len; i++)
    tensor_zero_grad (g_array_index (sgd->params, SgdParam, i).param);
  autograd_emit (&(Event){ .kind = EVENT_GRADS_ZEROED, .text = "optimizer.zero_grad()" });
}

const char *
sgd_kind_name (const Sgd *sgd)
{
  return sgd->options.kind == OPTIM_ADAM ? "Adam" : "SGD";
}

const SgdParam *
sgd_find (const Sgd *sgd, const char *name)
{
  g_return_val_if_fail (sgd != NULL && name != NULL, NULL);
  for (guint i = 0; i < sgd->params->len; i++)
    {
      const SgdParam *sp = &g_array_index (sgd->params, SgdParam, i);
      if (g_str_equal (sp->name, name))
        return sp;
    }
  return NULL;
}

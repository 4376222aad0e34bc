/* sgd.h — torch.optim.SGD, exactly.
 *
 * For each parameter whose .grad is not None:
 *   g = grad + weight_decay·p
 *   buf = g (a copy, first step)  |  buf = momentum·buf + (1 − dampening)·g
 *   g = g + momentum·buf if nesterov, else g = buf          (when momentum ≠ 0)
 *   p −= lr·g
 * Parameters with .grad None are skipped and never get a buffer.
 *
 *   g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2, .momentum = 0.9 });
 *   sgd_step (optim);        // emits EVENT_PARAM_UPDATED per parameter updated
 *   sgd_zero_grad (optim);   // .grad = None; emits EVENT_GRADS_ZEROED
 */
#pragma once

#include "module.h"

G_BEGIN_DECLS

typedef struct
{
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
} SgdOptions;

typedef struct
{
  char *name;           /* the parameter's full name */
  Tensor *param;        /* strong */
  Tensor *momentum_buffer;  /* NULL until its first update */
  Tensor *last_update;  /* p_after − p_before of the last step, NULL if not updated */
} SgdParam;

typedef struct _Sgd Sgd;
struct _Sgd
{
  gint ref_count;
  SgdOptions options;
  GArray *params;       /* of SgdParam, model.parameters() order */
  int steps;
};

/* Takes every parameter of model (frozen ones too, as model.parameters() does). */
Sgd  *sgd_new        (Module *model, const SgdOptions *options);
/* torch.optim.SGD(params): the given tensors, named by their names (or their index). */
Sgd  *sgd_new_for_tensors (Tensor *const *params, int n_params, const SgdOptions *options);
Sgd  *sgd_ref        (Sgd *sgd);
/* Drops a reference (the optimizer goes with the last). */
void  sgd_free       (Sgd *sgd);
void  sgd_step       (Sgd *sgd);
void  sgd_zero_grad  (Sgd *sgd);
const SgdParam *sgd_find (const Sgd *sgd, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sgd, sgd_free)

G_END_DECLS

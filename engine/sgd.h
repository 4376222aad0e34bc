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

/* Which of torch.optim's optimizers: the engine's optimizer object is one type for
 * both, so the stepper, the window and the runs show either as "the optimizer". */
typedef enum
{
  OPTIM_SGD,
  OPTIM_ADAM,           /* adam.c */
} OptimKind;

/* torch.optim.Adam's numbers, as Python's doubles: its bias corrections and step
 * size are computed in Python floats, then rounded once to float where an op takes
 * them. */
typedef struct
{
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize;
} AdamOptions;

typedef struct
{
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  OptimKind kind;       /* OPTIM_SGD (0) unless set */
  AdamOptions adam;     /* kind OPTIM_ADAM only */
} SgdOptions;

typedef struct
{
  char *name;           /* the parameter's full name */
  Tensor *param;        /* strong */
  Tensor *momentum_buffer;  /* NULL until its first update */
  Tensor *last_update;  /* p_after − p_before of the last step, NULL if not updated */
  /* Adam's state, NULL (step 0) until the parameter's first update. */
  int64_t step;
  Tensor *exp_avg, *exp_avg_sq, *max_exp_avg_sq;
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
/* "SGD" or "Adam", as PyTorch's class names. */
const char *sgd_kind_name (const Sgd *sgd);

/* adam.c: one parameter's Adam update (sgd_step calls it). */
void  adam_update    (const SgdOptions *options, SgdParam *sp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sgd, sgd_free)

G_END_DECLS

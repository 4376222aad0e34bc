/* lessons-resnet.c — the resnet18 lessons: resnet18-step, finetune, freeze.
 *
 * All three build torchvision's resnet18 from torch.manual_seed(seed) (the same
 * generator then draws the new fc, the data and the labels, as torch's would), then
 * train it for `steps` steps of SGD:
 *
 *   for step in range(steps):
 *       optim.zero_grad(set_to_none=True)     (or not: the zero_grad switch)
 *       prediction = model(data)              forward: 134 nodes for the whole model
 *       loss = (prediction - labels).sum()
 *       print(f"step {step}: loss {loss.item():.4f}")
 *       loss.backward()
 *       optim.step()
 */
#include <glib/gi18n-lib.h>

#include "lesson.h"
#include "memory-estimate.h"
#include "module.h"
#include "sgd.h"
#include "pth.h"
#include "state-dict.h"

#include <math.h>

/* Where the training loop's statements are in each program. */
typedef struct
{
  int loop, zero_grad, forward, loss, print, backward, step;
} LoopLines;

const char *
lesson_run_module_kind (LessonRun *run, const char *path)
{
  Module *model = lesson_run_get_model (run);
  if (model == NULL || path == NULL)
    return NULL;
  Module *m = module_find (model, path);
  return m ? module_kind_name (m->kind) : NULL;
}

/* model = resnet18() from the run's generator. With a weights file, the model is
 * the one the file was saved from (resnet18_shape_of_state_dict: its width and
 * classes, as `gradlens-cli train` builds it), and *weights holds the file for
 * load_weights. */
static Module *
build_model (LessonRun *run, Generator *gen, StateDict **weights, GError **error)
{
  const LessonParams *p = lesson_run_get_params (run);
  int width = 64, classes = 1000;

  if (p->weights)
    {
      *weights = state_dict_load_any (p->weights, error);
      if (*weights == NULL)
        return NULL;
      resnet18_shape_of_state_dict (*weights, &width, &classes);
      if ((width != 64 || classes != 1000)
          && !resnet_check_memory (1, p->size, p->size, width, classes, error))
        return NULL;
    }
  Module *model = resnet18_new_from_generator (classes, width, gen);
  lesson_run_keep_object (run, "model", LESSON_VAR_MODULE, model, (GDestroyNotify) module_unref);
  return model;
}

static gboolean
load_weights (LessonRun *run, Module *model, const StateDict *sd, GError **error)
{
  const char *path = lesson_run_get_params (run)->weights;
  if (sd == NULL)
    return TRUE;
  if (!module_load_state_dict (model, sd, NULL, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_params (LessonRun *run, GError **error)
{
  const LessonParams *p = lesson_run_get_params (run);
  if (p->size != 64 && p->size != 224)
    {
      g_set_error (error, LESSON_ERROR, LESSON_ERROR_PARAMS,
                   _("input size %d: the lessons take 64 or 224"), p->size);
      return FALSE;
    }
  if (p->steps < 1 || p->steps > 10000)
    {
      g_set_error (error, LESSON_ERROR, LESSON_ERROR_PARAMS,
                   _("%d steps: give between 1 and 10000"), p->steps);
      return FALSE;
    }
  if (!(p->lr >= 0) || !(p->momentum >= 0))
    {
      g_set_error (error, LESSON_ERROR, LESSON_ERROR_PARAMS,
                   _("lr and momentum must be non-negative numbers"));
      return FALSE;
    }
  /* resnet18 on one image: refused up front, with the numbers, if it cannot fit. */
  return resnet_check_memory (1, p->size, p->size, 64, 1000, error);
}

/* data = torch.rand(1, 3, size, size); labels = torch.rand(1, classes) */
static gboolean
make_data (LessonRun *run, Generator *gen, int classes, int data_line, GError **error)
{
  int size = lesson_run_get_params (run)->size;
  LESSON_LINE (run, data_line);
  lesson_run_keep (run, "data", tensor_new_rand (4, (int64_t[]){ 1, 3, size, size }, gen));
  LESSON_LINE (run, data_line + 1);
  lesson_run_keep (run, "labels", tensor_new_rand (2, (int64_t[]){ 1, classes }, gen));
  return TRUE;
}

/* optim = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum) */
static Sgd *
make_optimizer (LessonRun *run, Module *model)
{
  const LessonParams *p = lesson_run_get_params (run);
  Sgd *optim = sgd_new (model, &(SgdOptions){ .lr = p->lr, .momentum = p->momentum });
  lesson_run_keep_object (run, "optim", LESSON_VAR_OPTIMIZER, optim, (GDestroyNotify) sgd_free);
  return optim;
}

static gboolean
train (LessonRun *run, Module *model, Sgd *optim, const LoopLines *lines, GError **error)
{
  const LessonParams *p = lesson_run_get_params (run);
  Tensor *data = lesson_run_get_tensor (run, "data");
  Tensor *labels = lesson_run_get_tensor (run, "labels");

  for (int step = 0; step < p->steps; step++)
    {
      /* for step in range(steps): */
      LESSON_LINE (run, lines->loop);
      /*     optim.zero_grad(set_to_none=True), or a `pass` */
      if (p->zero_grad)
        LESSON_PHASE (run, LESSON_PHASE_ZERO_GRAD);
      LESSON_LINE (run, lines->zero_grad);
      if (p->zero_grad)
        sgd_zero_grad (optim);

      /*     prediction = model(data) */
      LESSON_PHASE (run, LESSON_PHASE_FORWARD);
      LESSON_LINE (run, lines->forward);
      Tensor *prediction = module_forward (model, data, error);
      if (prediction == NULL)
        return FALSE;
      lesson_run_keep (run, "prediction", prediction);
      /*     loss = (prediction - labels).sum() */
      LESSON_LINE (run, lines->loss);
      Tensor *loss;
      {
        g_autoptr (Tensor) diff = tensor_sub (prediction, labels, error);
        if (diff == NULL)
          return FALSE;
        loss = lesson_run_keep (run, "loss", tensor_sum (diff));
      }
      /*     print(f"step {step}: loss {loss.item():.4f}") */
      LESSON_LINE (run, lines->print);
      if (isnan (loss->data[0]))
        lesson_print (run, "step %d: loss nan", step);   /* Python's word; C's may be -nan */
      else
        lesson_print (run, "step %d: loss %.4f", step, (double) loss->data[0]);
      lesson_run_push_loss (run, loss->data[0]);

      /*     loss.backward() */
      LESSON_PHASE (run, LESSON_PHASE_BACKWARD);
      LESSON_LINE (run, lines->backward);
      if (!tensor_backward (loss, NULL, false, error))
        return FALSE;

      /*     optim.step() */
      LESSON_PHASE (run, LESSON_PHASE_OPTIMIZER);
      LESSON_LINE (run, lines->step);
      sgd_step (optim);
    }
  return TRUE;
}

/* The first lines of every program here (SOURCE_OPENING), the weights loaded:
 *   1  import torch
 *   2  from torchvision.models import resnet18
 *   4  torch.manual_seed(SEED)
 *   5  model = resnet18()
 *   6  model.load_state_dict(…), or a `pass` */
static gboolean
run_opening (LessonRun *run, Generator *gen, Module **model, GError **error)
{
  if (!check_params (run, error))
    return FALSE;
  LESSON_PHASE (run, LESSON_PHASE_FORWARD);
  LESSON_LINE (run, 1);
  LESSON_LINE (run, 2);
  LESSON_LINE (run, 4);
  lesson_run_seed (run, gen);
  LESSON_LINE (run, 5);
  g_autoptr (StateDict) weights = NULL;
  *model = build_model (run, gen, &weights, error);
  if (*model == NULL)
    return FALSE;
  LESSON_LINE (run, 6);
  return load_weights (run, *model, weights, error);
}

/* The last lines of every program here (SOURCE_CLOSING), from the data's line:
 *   line       data = torch.rand(1, 3, SIZE, SIZE)
 *   line + 1   labels = torch.rand(1, classes)
 *   line + 2   optim = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
 *   line + 4   the training loop, to line + 10 */
static gboolean
run_closing (LessonRun *run, Generator *gen, Module *model, int classes, int line,
             GError **error)
{
  if (!make_data (run, gen, classes, line, error))
    return FALSE;
  LESSON_LINE (run, line + 2);
  Sgd *optim = make_optimizer (run, model);

  const LoopLines lines = { line + 4, line + 5, line + 6, line + 7, line + 8, line + 9,
                            line + 10 };
  return train (run, model, optim, &lines, error);
}

#define SOURCE_OPENING                                                            \
    "import torch\n"                                                              \
    "from torchvision.models import resnet18\n"                                   \
    "\n"                                                                          \
    "torch.manual_seed(@SEED@)\n"                                                 \
    "model = resnet18()\n"                                                        \
    "@WEIGHTS@\n"

/* classes: a string literal, "1000" or "10". */
#define SOURCE_CLOSING(classes)                                                   \
    "data = torch.rand(1, 3, @SIZE@, @SIZE@)\n"                                   \
    "labels = torch.rand(1, " classes ")\n"                                       \
    "optim = torch.optim.SGD(model.parameters(), lr=@LR@, momentum=@MOMENTUM@)\n" \
    "\n"                                                                          \
    "for step in range(@STEPS@):\n"                                               \
    "    @ZERO_GRAD@\n"                                                           \
    "    prediction = model(data)                  # forward pass\n"              \
    "    loss = (prediction - labels).sum()\n"                                    \
    "    print(f\"step {step}: loss {loss.item():.4f}\")\n"                       \
    "    loss.backward()                           # backward pass\n"             \
    "    optim.step()                              # gradient descent\n"

/* --- resnet18-step ------------------------------------------------------------- */

static gboolean
run_resnet18_step (LessonRun *run, GError **error)
{
  Generator gen;
  Module *model = NULL;

  if (!run_opening (run, &gen, &model, error))
    return FALSE;
  return run_closing (run, &gen, model, model->out_channels, 7, error);
}

const Lesson lesson_resnet18_step = {
  .name = "resnet18-step",
  .title = N_("One training step of resnet18"),
  .summary = N_("Forward, loss, backward and an SGD step through torchvision's resnet18; repeated "
                "steps show .grad accumulating without zero_grad"),
  .graph_variable = "loss",
  .uses_resnet = true,
  .run = run_resnet18_step,
  .source =
    SOURCE_OPENING
    SOURCE_CLOSING ("1000"),
};

/* --- finetune ----------------------------------------------------------------- */

static gboolean
run_finetune (LessonRun *run, GError **error)
{
  Generator gen;
  Module *model = NULL;

  if (!run_opening (run, &gen, &model, error))
    return FALSE;
  /* for param in model.parameters():
   *     param.requires_grad = False */
  LESSON_LINE (run, 7);
  LESSON_LINE (run, 8);
  module_set_requires_grad (model, false);
  /* model.fc = torch.nn.Linear(512, 10): new parameters, trainable (512 is
   * 8·width: fc's inputs, also for a narrow model from a weights file) */
  LESSON_LINE (run, 9);
  int fc_inputs = module_find (model, "fc")->in_channels;
  module_replace_child (model, "fc", linear_new (fc_inputs, 10, &gen));
  return run_closing (run, &gen, model, 10, 10, error);
}

const Lesson lesson_finetune = {
  .name = "finetune",
  .title = N_("Fine-tuning a frozen resnet18"),
  .summary = N_("Every parameter frozen, a new fc head: the backward graph shrinks to the head "
                "and only fc moves"),
  .graph_variable = "loss",
  .uses_resnet = true,
  .run = run_finetune,
  .source =
    SOURCE_OPENING
    "for param in model.parameters():\n"
    "    param.requires_grad = False\n"
    "model.fc = torch.nn.Linear(512, 10)\n"
    SOURCE_CLOSING ("10"),
};

/* --- freeze ------------------------------------------------------------------- */

static gboolean
run_freeze (LessonRun *run, GError **error)
{
  Generator gen;
  Module *model = NULL;

  if (!run_opening (run, &gen, &model, error))
    return FALSE;
  /* frozen = ("layer1", ...) */
  LESSON_LINE (run, 7);
  g_auto (GStrv) frozen = lesson_frozen_names (lesson_run_get_lesson (run),
                                               lesson_run_get_params (run));
  /* for name, param in model.named_parameters():
   *     if any(name == f or name.startswith(f + ".") for f in frozen):
   *         param.requires_grad = False */
  LESSON_LINE (run, 8);
  LESSON_LINE (run, 9);
  /* A name that matches nothing freezes nothing, as the program shows (the
   * command line warns about it). */
  int matched = 0;
  for (int i = 0; frozen[i]; i++)
    matched += module_set_requires_grad_prefix (model, frozen[i], false);
  if (matched > 0)
    LESSON_LINE (run, 10);
  return run_closing (run, &gen, model, model->out_channels, 11, error);
}

const Lesson lesson_freeze = {
  .name = "freeze",
  .title = N_("Your own freezing"),
  .summary = N_("resnet18 with the modules you froze: the graph loses their branches and SGD "
                "leaves them alone"),
  .graph_variable = "loss",
  .uses_resnet = true,
  .run = run_freeze,
  .source =
    SOURCE_OPENING
    "frozen = @FROZEN@                 # chosen in the module tree\n"
    "for name, param in model.named_parameters():\n"
    "    if any(name == f or name.startswith(f + \".\") for f in frozen):\n"
    "        param.requires_grad = False\n"
    SOURCE_CLOSING ("1000"),
};

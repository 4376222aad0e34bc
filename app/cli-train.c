/* cli-train.c: `gradlens-cli train`, the tutorial's training steps of resnet18
 *
 * The PyTorch program it runs, option by option:
 *
 *   torch.manual_seed(seed)
 *   model = torchvision.models.resnet18(num_classes=C)   # C, width: from --weights, else 1000, 64
 *   model.load_state_dict(W)                             # --weights W
 *   for p in model.parameters(): p.requires_grad = False # --finetune N
 *   model.fc = nn.Linear(512, N)                         #   (drawn right after the model)
 *   for each --freeze P: freeze parameters named P or P.*
 *   data = torch.rand(B, 3, S, S)                        # or --data's input and labels
 *   labels = torch.rand(B, classes)
 *   optimizer = SGD(model.parameters(), lr=lr, momentum=momentum)
 *   for step in range(K):
 *       optimizer.zero_grad(set_to_none=True)            # unless --no-zero-grad
 *       prediction = model(data)
 *       loss = (prediction - labels).sum()
 *       print(f"step {step}: loss {loss.item()}")
 *       loss.backward()
 *       optimizer.step()
 *
 * That is the program of `gradlens-cli lesson resnet18-step` (and of `lesson
 * finetune` with --finetune 10): for the same seed, size and weights, train prints
 * the lesson's losses, step for step, with more digits (batch 1; the lessons take
 * sizes 64 and 224 only).
 *
 * Sizes the machine cannot hold are refused before anything is allocated, with the
 * memory they would need (resnet_check_memory, memory-estimate.h).
 *
 * --detect-anomaly runs it under torch.autograd.detect_anomaly (autograd.h): the
 * first op whose forward output, or the first node whose gradient, holds NaN or Inf
 * ends the run with an error naming the node and its module (exit status 1), after
 * that step's line. Without it a diverging run goes on (the loss printed as inf or
 * nan) and a warning says so once.
 */

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "cli.h"
#include "memory-estimate.h"
#include "output-file.h"
#include "pth.h"
#include "sgd.h"

#define UNSET 0   /* --size and --batch not given: taken from --data, else 64 and 1 */

typedef struct
{
  char *model;
  int size, batch, steps, finetune;
  double lr, momentum;
  gint64 seed;
  char **freeze;
  char *weights, *data, *save_grads, *save_weights;
  gboolean zero_grad, detect_anomaly;
} TrainOptions;

static void
train_options_clear (TrainOptions *o)
{
  g_free (o->model);
  g_strfreev (o->freeze);
  g_free (o->weights);
  g_free (o->data);
  g_free (o->save_grads);
  g_free (o->save_weights);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TrainOptions, train_options_clear)

static gboolean
bad_value (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad_value (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
  return FALSE;
}

static gboolean
data_error (GError **error, StateDictError code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
data_error (GError **error, StateDictError code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, STATE_DICT_ERROR, code, message);
  return FALSE;
}

/* --size, --batch, --finetune: a positive whole number whenever given (−1 and 0
 * are refused, not taken for "not given"). */
static gboolean
parse_positive (const char *option_name,
                const char *value,
                gpointer    data,
                GError    **error)
{
  TrainOptions *o = data;
  gint64 v = 0;
  if (!g_ascii_string_to_signed (value, 10, 1, G_MAXINT, &v, NULL))
    return bad_value (error, "%s %s: %s", option_name, value,
                      g_str_equal (option_name, "--finetune")
                          ? _("give a positive number of classes")
                          : _("give a positive whole number"));
  *(g_str_equal (option_name, "--size") ? &o->size
    : g_str_equal (option_name, "--batch") ? &o->batch : &o->finetune) = (int) v;
  return TRUE;
}

/* Outputs are checked before anything is trained: a name that cannot be written
 * fails now, not after the work. */
static gboolean
check_outputs (const TrainOptions *o, GError **error)
{
  if (o->save_grads && o->save_weights && output_file_same (o->save_grads, o->save_weights))
    return bad_value (error, _("--save-grads and --save-weights both name “%s”: the weights "
                      "would replace the gradients; give two files"), o->save_weights);
  if (o->save_grads && !output_file_check (o->save_grads, "save", error))
    return FALSE;
  if (o->save_weights && !output_file_check (o->save_weights, "save", error))
    return FALSE;
  return TRUE;
}

static gboolean
check_options (const TrainOptions *o, GError **error)
{
  if (!g_str_equal (o->model, "resnet18"))
    return bad_value (error, _("unknown model “%s” (the only one is resnet18)"), o->model);
  if (o->steps < 1)
    return bad_value (error, _("--steps must be at least 1"));
  if (!(o->lr >= 0 && isfinite (o->lr)) || !(o->momentum >= 0 && isfinite (o->momentum)))
    return bad_value (error, _("--lr and --momentum must be finite non-negative numbers"));
  if (o->seed < 0)
    return bad_value (error, _("--seed must be non-negative"));
  return check_outputs (o, error);
}

/* input (B, 3, S, S) and labels (B, classes) from a file, checked. */
static gboolean
load_data (const char *path, const StateDict *sd, int classes, Tensor **input,
           Tensor **labels, GError **error)
{
  const char *names[2] = { "input", "labels" };
  const StateEntry *e[2];
  for (int i = 0; i < 2; i++)
    {
      e[i] = state_dict_lookup (sd, names[i]);
      if (e[i] == NULL)
        return data_error (error, STATE_DICT_ERROR_MISSING, _("%s: no tensor “%s”"), path,
                           names[i]);
      if (e[i]->dtype != STATE_DTYPE_F32)
        return data_error (error, STATE_DICT_ERROR_DTYPE, "%s: tensor “%s” is I64, expected F32",
                           path, names[i]);
    }
  g_autofree char *in_shape = shape_to_string (e[0]->ndim, e[0]->shape);
  g_autofree char *lab_shape = shape_to_string (e[1]->ndim, e[1]->shape);
  if (e[0]->ndim != 4 || e[0]->shape[1] != 3 || e[0]->shape[0] < 1)
    return data_error (error, STATE_DICT_ERROR_SHAPE,
                       _("%s: tensor “input” has shape %s, expected (N, 3, H, W)"), path, in_shape);
  if (e[1]->ndim != 2 || e[1]->shape[0] != e[0]->shape[0] || e[1]->shape[1] != classes)
    return data_error (error, STATE_DICT_ERROR_SHAPE,
                       _("%s: tensor “labels” has shape %s, expected (%lld, %d) for input %s "
                         "and a model with %d classes"),
                       path, lab_shape, (long long) e[0]->shape[0], classes, in_shape, classes);
  *input = tensor_copy (e[0]->f32);
  *labels = tensor_copy (e[1]->f32);
  return TRUE;
}

/* A state dict of every parameter's .grad, under the parameter's name. */
static StateDict *
grads_state_dict (Module *model)
{
  StateDict *sd = state_dict_new ();
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      if (mt->tensor->grad)
        state_dict_add_f32 (sd, mt->name, mt->tensor->grad);
    }
  return sd;
}

/* %.9g, but NaN as Python and the student write it ("nan", never C's "-nan"). */
static const char *
format_loss (char *buf, size_t len, float loss)
{
  if (isnan (loss))
    return "nan";
  g_snprintf (buf, len, "%.9g", loss);
  return buf;
}

/* A duration in µs, with the digits it needs: "42 µs", "3.25 ms", "61.8 ms", "1.25 s". */
static const char *
format_duration (char *buf, size_t len, gint64 us)
{
  if (us < 1000)
    g_snprintf (buf, len, "%" G_GINT64_FORMAT " µs", us);
  else if (us < 10000)
    g_snprintf (buf, len, "%.2f ms", us / 1000.0);
  else if (us < 1000000)
    g_snprintf (buf, len, "%.1f ms", us / 1000.0);
  else
    g_snprintf (buf, len, "%.2f s", us / 1e6);
  return buf;
}

static gboolean
run_train (const TrainOptions *o, GError **error)
{
  g_autoptr (StateDict) weights = NULL;
  g_autoptr (StateDict) data_file = NULL;
  int width = 64, classes = 1000;

  if (o->weights)
    {
      weights = state_dict_load_any (o->weights, error);
      if (weights == NULL)
        return FALSE;
      resnet18_shape_of_state_dict (weights, &width, &classes);
    }

  int64_t batch = o->batch != UNSET ? o->batch : 1, size = o->size != UNSET ? o->size : 64;
  if (!resnet_check_memory (batch, size, size, width, MAX (classes, o->finetune), error))
    return FALSE;

  /* torch.manual_seed(seed); model = resnet18(num_classes) */
  Generator gen;
  generator_init (&gen, (uint64_t) o->seed);
  g_autoptr (Module) model = resnet18_new_from_generator (classes, width, &gen);

  if (weights)
    {
      g_autoptr (GPtrArray) unexpected = NULL;
      if (!module_load_state_dict (model, weights, &unexpected, error))
        {
          g_prefix_error (error, "%s: ", o->weights);
          return FALSE;
        }
      /* Tensors the model lacks are ignored; input and labels are expected when the
       * same file is the data. */
      bool same_file = o->data && g_str_equal (o->data, o->weights);
      g_autoptr (GString) list = g_string_new (NULL);
      for (guint i = 0; i < unexpected->len; i++)
        {
          const char *name = g_ptr_array_index (unexpected, i);
          if (same_file && (g_str_equal (name, "input") || g_str_equal (name, "labels")))
            continue;
          g_string_append_printf (list, "%s%s", list->len ? ", " : "", name);
        }
      if (list->len)
        g_printerr (_("gradlens-cli train: warning: %s: ignoring tensors resnet18 does not have: %s\n"),
                    o->weights, list->str);
    }

  int out_classes = classes;
  if (o->finetune > 0)
    {
      /* for p in model.parameters(): p.requires_grad = False; model.fc = Linear(8w, N) */
      module_set_requires_grad (model, false);
      module_replace_child (model, "fc", linear_new (8 * width, o->finetune, &gen));
      out_classes = o->finetune;
      /* A fine-tuning checkpoint already holds the new head: take it. */
      const StateEntry *fw = weights ? state_dict_lookup (weights, "fc.weight") : NULL;
      const StateEntry *fb = weights ? state_dict_lookup (weights, "fc.bias") : NULL;
      if (fw && fb && fw->dtype == STATE_DTYPE_F32 && fb->dtype == STATE_DTYPE_F32
          && fw->ndim == 2 && fw->shape[0] == o->finetune && fw->shape[1] == 8 * width)
        {
          g_autoptr (StateDict) head = state_dict_new ();
          state_dict_add_f32 (head, "weight", fw->f32);
          state_dict_add_f32 (head, "bias", fb->f32);
          if (!module_load_state_dict (module_find (model, "fc"), head, NULL, error))
            {
              g_prefix_error (error, _("%s: fc: "), o->weights);
              return FALSE;
            }
        }
    }

  cli_freeze (model, o->freeze);

  /* The data: from a file, or torch.rand(...) twice. */
  g_autoptr (Tensor) input = NULL;
  g_autoptr (Tensor) labels = NULL;
  if (o->data)
    {
      bool same_file = weights && g_str_equal (o->data, o->weights);
      if (!same_file && (data_file = state_dict_load_any (o->data, error)) == NULL)
        return FALSE;
      if (!load_data (o->data, data_file ? data_file : weights, out_classes, &input, &labels,
                      error))
        return FALSE;
      if ((o->batch != UNSET && o->batch != input->shape[0])
          || (o->size != UNSET && (o->size != input->shape[2] || o->size != input->shape[3])))
        {
          g_autofree char *s = tensor_shape_string (input);
          return bad_value (error, _("%s: input %s does not match --batch/--size"), o->data, s);
        }
      if (!resnet_check_memory (input->shape[0], input->shape[2], input->shape[3], width,
                                out_classes, error))
        return FALSE;
    }
  else
    {
      /* The same generator, after the model (and the new fc): as the lessons do. */
      input = tensor_new_rand (4, (int64_t[]){ batch, 3, size, size }, &gen);
      labels = tensor_new_rand (2, (int64_t[]){ batch, out_classes }, &gen);
    }

  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = (float) o->lr,
                                                          .momentum = (float) o->momentum });
  ParamCounts counts;
  module_count_parameters (model, &counts);
  g_autofree char *in_shape = tensor_shape_string (input);
  g_print (_("model: resnet18 (width %d, %d classes), input %s, SGD lr %g momentum %g%s\n"),
           width, out_classes, in_shape, o->lr, o->momentum,
           o->zero_grad ? _(", zero_grad at the start of each step") : _(", no zero_grad: .grad accumulates"));
  g_print ("parameters: %" G_GINT64_FORMAT " total, %" G_GINT64_FORMAT " trainable, %"
           G_GINT64_FORMAT " frozen\n", counts.total, counts.trainable, counts.frozen);

  bool diverged = false;
  /* Numbered from 0, as the lesson's `for step in range(K)`. */
  for (int step = 0; step < o->steps; step++)
    {
      char loss_text[G_ASCII_DTOSTR_BUF_SIZE], forward_text[32], backward_text[32],
           optimizer_text[32];

      gint64 t0 = g_get_monotonic_time ();
      if (o->zero_grad)
        sgd_zero_grad (optim);
      gint64 zero_us = g_get_monotonic_time () - t0;

      gint64 t1 = g_get_monotonic_time ();
      g_autoptr (Tensor) pred = module_forward (model, input, error);
      if (pred == NULL)
        return FALSE;
      g_autoptr (Tensor) diff = tensor_sub (pred, labels, error);
      if (diff == NULL)
        return FALSE;
      g_autoptr (Tensor) loss = tensor_sum (diff);
      format_duration (forward_text, sizeof forward_text, g_get_monotonic_time () - t1);
      /* loss.item() now, as the lesson's print: what is printed and checked below. */
      float loss_value = loss->data[0];
      format_loss (loss_text, sizeof loss_text, loss_value);
      if (anomaly_get_first ())
        {
          g_print (_("step %d: loss %s  forward %s\n"), step, loss_text, forward_text);
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_FINITE,
                       _("anomaly in the forward pass of step %d: %s"), step,
                       anomaly_get_first ()->message);
          return FALSE;
        }

      gint64 t2 = g_get_monotonic_time ();
      if (!tensor_backward (loss, NULL, false, error))
        {
          if (anomaly_get_first ())
            {
              g_print (_("step %d: loss %s  forward %s\n"), step, loss_text, forward_text);
              g_prefix_error (error, _("anomaly in the backward pass of step %d: "), step);
            }
          return FALSE;
        }
      format_duration (backward_text, sizeof backward_text, g_get_monotonic_time () - t2);

      gint64 t3 = g_get_monotonic_time ();
      sgd_step (optim);
      format_duration (optimizer_text, sizeof optimizer_text,
                       zero_us + g_get_monotonic_time () - t3);

      g_print (_("step %d: loss %s  forward %s  backward %s  optimizer %s\n"), step, loss_text,
               forward_text, backward_text, optimizer_text);
      if (!diverged && !isfinite (loss_value))
        {
          diverged = true;
          g_printerr (_("gradlens-cli train: warning: the loss is %s at step %d: training "
                        "diverged (try a smaller --lr; --detect-anomaly stops at the first op "
                        "that produced a nan or inf)\n"),
                      isnan (loss_value) ? "nan" : loss_value < 0 ? "-inf" : "inf", step);
        }
    }

  if (o->save_grads)
    {
      g_autoptr (StateDict) grads = grads_state_dict (model);
      if (!safetensors_save (grads, o->save_grads, error))
        return FALSE;
    }
  if (o->save_weights)
    {
      g_autoptr (StateDict) sd = module_state_dict (model);
      if (!safetensors_save (sd, o->save_weights, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_zero_grad (const char *option_name,
                 const char *value,
                 gpointer    data,
                 GError    **error)
{
  TrainOptions *o = data;

  return cli_parse_zero_grad (option_name, value, &o->zero_grad, error);
}

gboolean
cli_train (int      argc,
           char   **argv,
           GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_auto (TrainOptions) o = {
    .model = g_strdup ("resnet18"), .size = UNSET, .batch = UNSET, .steps = 1, .lr = 0.01,
    .momentum = 0.9, .zero_grad = TRUE,
  };
  const GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &o.model, N_("The model (resnet18)"), "NAME" },
    { "size", 0, 0, G_OPTION_ARG_CALLBACK, parse_positive, N_("Image side with random data (64)"),
      "S" },
    { "batch", 0, 0, G_OPTION_ARG_CALLBACK, parse_positive,
      N_("Images per batch with random data (1)"), "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &o.steps, N_("Training steps (1)"), "K" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, N_("SGD learning rate (0.01)"), "LR" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &o.momentum, N_("SGD momentum (0.9)"), "M" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, N_("Seed of the initialisation and data (0)"), "SEED" },
    { "freeze", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.freeze,
      N_("Freeze a module or parameter and what is below it (repeatable)"), "PATTERN" },
    { "finetune", 0, 0, G_OPTION_ARG_CALLBACK, parse_positive,
      N_("Freeze everything, then fc = Linear(512, N)"), "N" },
    { "weights", 0, 0, G_OPTION_ARG_FILENAME, &o.weights,
      N_("Start from this state dict (.safetensors or .pth, torchvision's names)"), "FILE" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &o.data,
      N_("Tensors “input” (N, 3, S, S) and “labels” (N, classes) (.safetensors or .pth)"), "FILE" },
    { "save-grads", 0, 0, G_OPTION_ARG_FILENAME, &o.save_grads,
      N_("Save each parameter's .grad after the last backward"), "FILE" },
    { "save-weights", 0, 0, G_OPTION_ARG_FILENAME, &o.save_weights,
      N_("Save the state dict after the last step"), "FILE" },
    CLI_ZERO_GRAD_ENTRIES (parse_zero_grad),
    { "detect-anomaly", 0, 0, G_OPTION_ARG_NONE, &o.detect_anomaly,
      N_("Stop at the first op whose output or gradient holds nan or inf, naming it (exit 1)"),
      NULL },
    { NULL }
  };

  context = cli_option_context_new ("train", NULL,
                                    _("Train resnet18 on one batch: loss = (model(input) - labels).sum(),\n"
                                    "backward, SGD step; one line per step."));
  g_option_context_set_description (context,
    _("As PyTorch: torch.manual_seed(SEED); model = resnet18() with torchvision's\n"
    "initialisation; --weights loads a state dict into it (the model takes the file's\n"
    "width and class count, from its conv1.weight and fc.weight; so do the lessons);\n"
    "--finetune N then freezes every parameter and replaces fc by nn.Linear(512, N),\n"
    "drawn right after the model (or taken from --weights when it holds an fc of that\n"
    "shape); --freeze follows. Without --data, input = torch.rand(N, 3, S, S) and\n"
    "labels = torch.rand(N, classes) from the same generator. --data may be the\n"
    "--weights file. Then for step in range(K): zero_grad (unless --no-zero-grad),\n"
    "forward, loss, backward, SGD step; one line per step, numbered from 0.\n"
    "\n"
    "With the defaults (and the same --seed, --size 64 or 224, --weights, --lr,\n"
    "--momentum, --steps, --no-zero-grad) this is `gradlens-cli lesson resnet18-step`:\n"
    "the same data and the same losses, printed with all their digits (the lesson\n"
    "rounds to 4 decimals); --finetune 10 is `lesson finetune`."));
  /* not translated: the group's name, --help-train */
  GOptionGroup *group = g_option_group_new ("train", _("Training options:"),
                                            _("Show the training options"), &o, NULL);
  /* The entries' descriptions are N_(): --help translates them. */
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    return bad_value (error, _("unexpected argument “%s”"), argv[1]);
  if (!check_options (&o, error))
    return FALSE;

  /* torch.autograd.set_detect_anomaly(True): the thread's mode, and its first anomaly. */
  bool anomaly_was = anomaly_mode_set_enabled (o.detect_anomaly);
  gboolean ok = run_train (&o, error);
  anomaly_mode_set_enabled (anomaly_was);
  anomaly_clear ();
  return ok;
}

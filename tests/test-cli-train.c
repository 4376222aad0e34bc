/* test-cli-train.c: `gradlens-cli train` run as a real process, checked against the
 * same steps done here through the engine's API (a narrow resnet18, width 4, so
 * it takes a fraction of a second); test-cli-common.h runs the process.
 */

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cpu.h"
#include "sgd.h"
#include "test-cli-common.h"

/* gradlens-cli train ARGS (NULL-terminated); FALSE (test skipped) without the CLI. */
static gboolean
run_train (Run *run, ...)
{
  va_list args;
  va_start (args, run);
  gboolean ran = run_cli_va (run, "train", args);
  va_end (args);
  return ran;
}

typedef struct
{
  char *dir, *weights, *grads, *params, *data;
} Files;

static void
files_clear (Files *f)
{
  const char *paths[] = { f->weights, f->grads, f->params, f->data };
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (paths[i])
      g_remove (paths[i]);
  if (f->dir)
    g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->weights);
  g_free (f->grads);
  g_free (f->params);
  g_free (f->data);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Files, files_clear)

/* A narrow resnet18 (width 4, 10 classes) saved as the weights file. */
static void
files_init (Files *f, uint64_t seed)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("gradlens-train-XXXXXX", &error);
  g_assert_no_error (error);
  f->weights = g_build_filename (f->dir, "weights.safetensors", NULL);
  f->grads = g_build_filename (f->dir, "grads.safetensors", NULL);
  f->params = g_build_filename (f->dir, "params.safetensors", NULL);
  f->data = g_build_filename (f->dir, "data.safetensors", NULL);
  g_autoptr (Module) model = resnet18_new_with_width (10, 4, seed);
  g_autoptr (StateDict) sd = module_state_dict (model);
  g_assert_true (safetensors_save (sd, f->weights, &error));
  g_assert_no_error (error);
}

/* The losses printed on the "step N: loss L  forward T  backward T  optimizer T"
 * lines, numbered from 0 as the lessons number them. */
static GArray *
parse_losses (const char *out)
{
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      int step;
      char loss[64];
      if (sscanf (lines[i], "step %d: loss %63s", &step, loss) == 2)
        {
          g_assert_cmpint (step, ==, (int) losses->len);
          double v = g_ascii_strtod (loss, NULL);
          g_array_append_val (losses, v);
          g_assert_nonnull (strstr (lines[i], "  optimizer "));
        }
    }
  return losses;
}

static void
assert_tensor_close (const Tensor *a, const Tensor *b, const char *name)
{
  g_assert_true (tensor_same_shape (a, b));
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < a->numel; i++)
    {
      worst = MAX (worst, fabs ((double) a->data[i] - b->data[i]));
      scale = MAX (scale, fabs ((double) b->data[i]));
    }
  if (worst > 1e-5 * MAX (scale, 1e-30))
    g_error ("%s: max |diff| %g, max |expected| %g", name, worst, scale);
}

/* The CLI's program, done here: seed → model → load → (finetune) → data → steps. */
static void
test_matches_engine (void)
{
  g_auto (Files) f = { 0 };
  g_auto (Run) run = { 0 };
  files_init (&f, 1);
  if (!run_train (&run, "--weights", f.weights, "--size", "32", "--batch", "2", "--steps", "2",
                  "--seed", "3", "--save-grads", f.grads, "--save-weights", f.params, NULL))
    return;
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "parameters: 45102 total, 45102 trainable, 0 frozen\n"));
  g_autoptr (GArray) losses = parse_losses (run.out);
  g_assert_cmpuint (losses->len, ==, 2);

  g_autoptr (GError) error = NULL;
  Generator gen;
  generator_init (&gen, 3);
  g_autoptr (Module) model = resnet18_new_from_generator (10, 4, &gen);
  g_autoptr (StateDict) w = safetensors_load (f.weights, &error);
  g_assert_no_error (error);
  g_assert_true (module_load_state_dict (model, w, NULL, &error));
  /* The data: the same generator, on from the model's initialisation. */
  g_autoptr (Tensor) input = tensor_new_rand (4, (int64_t[]){ 2, 3, 32, 32 }, &gen);
  g_autoptr (Tensor) labels = tensor_new_rand (2, (int64_t[]){ 2, 10 }, &gen);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 0.01f, .momentum = 0.9f });
  for (guint step = 0; step < 2; step++)
    {
      sgd_zero_grad (optim);   /* the default, --zero-grad */
      g_autoptr (Tensor) pred = module_forward (model, input, &error);
      g_assert_no_error (error);
      g_autoptr (Tensor) diff = tensor_sub (pred, labels, &error);
      g_autoptr (Tensor) loss = tensor_sum (diff);
      g_assert_cmpfloat_with_epsilon (g_array_index (losses, double, step), loss->data[0],
                                      1e-5 * fabs (loss->data[0]));
      g_assert_true (tensor_backward (loss, NULL, false, &error));
      sgd_step (optim);
    }

  g_autoptr (StateDict) grads = safetensors_load (f.grads, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  g_assert_cmpuint (state_dict_size (grads), ==, params->len);
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      const StateEntry *e = state_dict_lookup (grads, mt->name);
      g_assert_nonnull (e);
      assert_tensor_close (e->f32, mt->tensor->grad, mt->name);
    }

  g_autoptr (StateDict) saved = safetensors_load (f.params, &error);
  g_assert_no_error (error);
  g_autoptr (StateDict) expected = module_state_dict (model);
  g_assert_cmpuint (state_dict_size (saved), ==, 122);
  for (guint i = 0; i < state_dict_size (expected); i++)
    {
      const StateEntry *x = state_dict_entry (expected, i);
      const StateEntry *e = state_dict_lookup (saved, x->name);
      g_assert_nonnull (e);
      g_assert_cmpint (e->dtype, ==, x->dtype);
      if (x->dtype == STATE_DTYPE_I64)
        g_assert_cmpint (e->i64[0], ==, 2);   /* two forward passes in train mode */
      else
        assert_tensor_close (e->f32, x->f32, x->name);
    }
}

/* --finetune: only the new head trains and has gradients; --freeze by prefix. */
static void
test_finetune_and_freeze (void)
{
  g_auto (Files) f = { 0 };
  files_init (&f, 2);
  {
    g_auto (Run) run = { 0 };
    if (!run_train (&run, "--weights", f.weights, "--size", "32", "--batch", "2",
                    "--finetune", "3", "--save-grads", f.grads, NULL))
      return;
    g_assert_cmpint (run.status, ==, 0);
    /* 45102 − fc (32·10 + 10) + the new fc (32·3 + 3). */
    g_assert_nonnull (strstr (run.out, "parameters: 44871 total, 99 trainable, 44772 frozen\n"));
    g_autoptr (GError) error = NULL;
    g_autoptr (StateDict) grads = safetensors_load (f.grads, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (state_dict_size (grads), ==, 2);
    g_assert_nonnull (state_dict_lookup (grads, "fc.bias"));
    g_assert_nonnull (state_dict_lookup (grads, "fc.weight"));
    g_assert_cmpint (state_dict_lookup (grads, "fc.weight")->shape[0], ==, 3);
  }
  {
    g_auto (Run) run = { 0 };
    g_assert_true (run_train (&run, "--weights", f.weights, "--size", "32", "--batch", "2",
                              "--freeze", "layer1", "--freeze", "conv1.weight",
                              "--save-grads", f.grads, NULL));
    g_assert_cmpint (run.status, ==, 0);
    /* layer1: 2 × (2 · 4·4·9 + 2 · 2·4) = 608; conv1: 4·3·7·7 = 588. */
    g_assert_nonnull (strstr (run.out, "parameters: 45102 total, 43906 trainable, 1196 frozen\n"));
    g_autoptr (StateDict) grads = safetensors_load (f.grads, NULL);
    g_assert_cmpuint (state_dict_size (grads), ==, 62 - 12 - 1);
    g_assert_null (state_dict_lookup (grads, "conv1.weight"));
    g_assert_null (state_dict_lookup (grads, "layer1.1.bn2.bias"));
    g_assert_nonnull (state_dict_lookup (grads, "bn1.weight"));
  }
}

/* One spelling and one default: zero_grad is on unless --no-zero-grad; without it
 * step 1's backward adds to step 0's .grad, so step 2's loss (not step 1's) differs.
 * A switch given a value is refused, not read as --zero-grad. */
static void
test_zero_grad (void)
{
  g_auto (Files) f = { 0 };
  g_auto (Run) plain = { 0 };
  g_auto (Run) zeroed = { 0 };
  g_auto (Run) accumulated = { 0 };
  files_init (&f, 3);
  if (!run_train (&plain, "--weights", f.weights, "--size", "32", "--batch", "2", "--steps", "3",
                  NULL))
    return;
  g_assert_true (run_train (&zeroed, "--weights", f.weights, "--size", "32", "--batch", "2",
                            "--steps", "3", "--zero-grad", NULL));
  g_assert_true (run_train (&accumulated, "--weights", f.weights, "--size", "32", "--batch", "2",
                            "--steps", "3", "--no-zero-grad", NULL));
  g_assert_cmpint (plain.status, ==, 0);
  g_assert_cmpint (zeroed.status, ==, 0);
  g_assert_cmpint (accumulated.status, ==, 0);
  g_assert_nonnull (strstr (plain.out, "zero_grad at the start of each step"));
  g_assert_nonnull (strstr (accumulated.out, "no zero_grad"));
  g_autoptr (GArray) a = parse_losses (plain.out);
  g_autoptr (GArray) b = parse_losses (zeroed.out);
  g_autoptr (GArray) c = parse_losses (accumulated.out);
  g_assert_cmpuint (a->len, ==, 3);
  g_assert_cmpuint (b->len, ==, 3);
  g_assert_cmpuint (c->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpfloat (g_array_index (a, double, i), ==, g_array_index (b, double, i));
  g_assert_cmpfloat (g_array_index (a, double, 0), ==, g_array_index (c, double, 0));
  g_assert_cmpfloat (g_array_index (a, double, 1), ==, g_array_index (c, double, 1));
  g_assert_cmpfloat (g_array_index (a, double, 2), !=, g_array_index (c, double, 2));

  /* train and lesson alike refuse a value, with status 2. */
  static const char *const commands[][2] = { { "train", NULL }, { "lesson", "autograd" } };
  static const char *const given[] = { "--zero-grad=no", "--zero-grad=maybe", "--no-zero-grad=yes" };
  for (guint k = 0; k < G_N_ELEMENTS (commands); k++)
    for (guint i = 0; i < G_N_ELEMENTS (given); i++)
      {
        g_auto (Run) run = { 0 };
        g_assert_true (run_cli (&run, commands[k][0], given[i], commands[k][1], NULL));
        g_test_message ("%s %s → %d: %s", commands[k][0], given[i], run.status, run.err);
        g_assert_cmpint (run.status, ==, 2);
        g_assert_nonnull (strstr (run.err, "takes no value"));
        g_assert_null (strstr (run.out, "step 0"));
      }
}

/* Data from a file: the same numbers as the seeded random data it replaces. */
static void
test_data_file (void)
{
  g_auto (Files) f = { 0 };
  g_auto (Run) from_seed = { 0 };
  g_auto (Run) from_file = { 0 };
  files_init (&f, 4);
  /* What train draws with --seed 0: the model's initialisation, then the data. */
  Generator gen;
  generator_init (&gen, 0);
  g_autoptr (Module) drawn = resnet18_new_from_generator (10, 4, &gen);
  g_autoptr (Tensor) input = tensor_new_rand (4, (int64_t[]){ 2, 3, 32, 32 }, &gen);
  g_autoptr (Tensor) labels = tensor_new_rand (2, (int64_t[]){ 2, 10 }, &gen);
  g_autoptr (StateDict) data = state_dict_new ();
  state_dict_add_f32 (data, "input", input);
  state_dict_add_f32 (data, "labels", labels);
  g_assert_true (safetensors_save (data, f.data, NULL));

  if (!run_train (&from_seed, "--weights", f.weights, "--size", "32", "--batch", "2", NULL))
    return;
  g_assert_true (run_train (&from_file, "--weights", f.weights, "--data", f.data, NULL));
  g_assert_cmpint (from_file.status, ==, 0);
  g_assert_nonnull (strstr (from_file.out, "input (2, 3, 32, 32)"));
  g_autoptr (GArray) a = parse_losses (from_seed.out);
  g_autoptr (GArray) b = parse_losses (from_file.out);
  g_assert_cmpfloat (g_array_index (a, double, 0), ==, g_array_index (b, double, 0));

  /* Labels for 10 classes do not fit a fine-tuned head of 3. */
  g_auto (Run) bad = { 0 };
  g_assert_true (run_train (&bad, "--weights", f.weights, "--data", f.data, "--finetune", "3",
                            NULL));
  g_assert_cmpint (bad.status, ==, 1);
  g_assert_nonnull (strstr (bad.err, "labels"));
  g_assert_nonnull (strstr (bad.err, "(2, 10)"));
}

static void
test_errors (void)
{
  g_auto (Files) f = { 0 };
  files_init (&f, 5);
  static const struct { const char *args[5]; int status; const char *message; } cases[] = {
    { { "--model", "vgg16" }, 2, "vgg16" },
    { { "--steps", "0" }, 2, "--steps" },
    { { "--weights", "/nonexistent/w.safetensors" }, 1, "/nonexistent/w.safetensors" },
    { { "--weights", "GRADS", "--data", "GRADS" }, 1, "input" },
    { { "--size", "100000", "--batch", "100000" }, 1, "needs about" },
    { { "--bogus" }, 2, "bogus" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };
      const char *a[6] = { NULL };
      for (int k = 0; k < 5 && cases[i].args[k]; k++)
        a[k] = g_str_equal (cases[i].args[k], "GRADS") ? f.weights : cases[i].args[k];
      if (!run_train (&run, a[0], a[1], a[2], a[3], a[4], a[5], NULL))
        return;
      g_test_message ("%s → %d: %s", cases[i].args[0], run.status, run.err);
      g_assert_cmpint (run.status, ==, cases[i].status);
      g_assert_true (g_str_has_prefix (run.err, "gradlens-cli train: "));
      g_assert_nonnull (strstr (run.err, cases[i].message));
      g_assert_null (strstr (run.out, "step 0"));
    }
}

/* The losses of a lesson's "step N: loss L" lines (4 decimals). */
static GArray *
parse_lesson_losses (const char *out)
{
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      int step;
      double loss;
      if (sscanf (lines[i], "step %d: loss %lf", &step, &loss) == 2)
        {
          g_assert_cmpint (step, ==, (int) losses->len);
          g_array_append_val (losses, loss);
        }
    }
  return losses;
}

/* train and lesson resnet18-step, same flags: same numbering, same data, so the
 * same losses (the lesson's rounded to 3 decimals). A narrow weights file (width 4,
 * 10 classes) trains (train takes the file's width and classes), but the lesson is
 * a PyTorch program whose `resnet18()` has torchvision's shape: it stops where
 * PyTorch would, at load_state_dict, with PyTorch's size mismatch. */
static void
test_same_as_lesson (void)
{
  g_auto (Files) f = { 0 };
  files_init (&f, 6);
  g_auto (Run) train = { 0 };
  g_auto (Run) lesson = { 0 };
  if (!run_cli (&train, "train", "--steps", "2", "--seed", "5", NULL))
    return;
  g_assert_true (run_cli (&lesson, "lesson", "resnet18-step", "--steps", "2", "--seed", "5", NULL));
  g_test_message ("train:\n%s%s\nlesson:\n%s%s", train.out, train.err, lesson.out, lesson.err);
  g_assert_cmpint (train.status, ==, 0);
  g_assert_cmpint (lesson.status, ==, 0);
  g_assert_nonnull (strstr (train.out, "(width 64, 1000 classes)"));
  g_autoptr (GArray) a = parse_losses (train.out);
  g_autoptr (GArray) b = parse_lesson_losses (lesson.out);
  g_assert_cmpuint (a->len, ==, 2);
  g_assert_cmpuint (b->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpfloat_with_epsilon (g_array_index (a, double, i), g_array_index (b, double, i),
                                    0.5e-3 + 1e-6 * fabs (g_array_index (b, double, i)));

  g_auto (Run) narrow = { 0 };
  g_assert_true (run_cli (&narrow, "lesson", "resnet18-step", "--weights", f.weights, NULL));
  g_test_message ("narrow weights:\n%s", narrow.err);
  g_assert_cmpint (narrow.status, ==, 1);
  g_assert_nonnull (strstr (narrow.err, "RuntimeError: Error(s) in loading state_dict for ResNet:"));
  g_assert_nonnull (strstr (narrow.err, "size mismatch for conv1.weight"));
}

/* Step times with the digits they need: a narrow model's optimizer step takes
 * microseconds, printed as such, never "0.0 ms". */
static void
test_times (void)
{
  g_auto (Files) f = { 0 };
  g_auto (Run) run = { 0 };
  files_init (&f, 7);
  if (!run_train (&run, "--weights", f.weights, "--size", "32", "--batch", "2", "--steps", "3",
                  NULL))
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_auto (GStrv) lines = g_strsplit (run.out, "\n", -1);
  guint n = 0;
  for (int i = 0; lines[i]; i++)
    {
      if (!g_str_has_prefix (lines[i], "step "))
        continue;
      static const char *const phases[] = { "forward ", "backward ", "optimizer " };
      for (guint k = 0; k < G_N_ELEMENTS (phases); k++)
        {
          const char *at = strstr (lines[i], phases[k]);
          char unit[8] = "";
          double value = 0;
          g_assert_nonnull (at);
          g_assert_cmpint (sscanf (at + strlen (phases[k]), "%lf %7s", &value, unit), ==, 2);
          g_assert_true (g_str_equal (unit, "µs") || g_str_equal (unit, "ms")
                         || g_str_equal (unit, "s"));
          g_assert_cmpfloat (value, >, 0);
          if (g_str_equal (unit, "µs"))
            g_assert_cmpfloat (value, <, 1000);
        }
      n++;
    }
  g_assert_cmpuint (n, ==, 3);
}

int
main (int argc, char **argv)
{
  /* The same OpenBLAS kernels as gradlens-cli, which chooses them first thing (on a
   * CPU OpenBLAS does not know, Prescott's and Cooperlake's round otherwise, and
   * two SGD steps carry that to the third digit of the loss). */
  cpu_fix_openblas_core (argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/train/matches-engine", test_matches_engine);
  g_test_add_func ("/cli/train/finetune-and-freeze", test_finetune_and_freeze);
  g_test_add_func ("/cli/train/zero-grad", test_zero_grad);
  g_test_add_func ("/cli/train/data-file", test_data_file);
  g_test_add_func ("/cli/train/errors", test_errors);
  g_test_add_func ("/cli/train/same-as-lesson", test_same_as_lesson);
  g_test_add_func ("/cli/train/times", test_times);
  return g_test_run ();
}

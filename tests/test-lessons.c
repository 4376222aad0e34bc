/* test-lessons.c — the lessons print what their PyTorch programs print, mark real
 * statements, keep their variables, and build PyTorch's graphs.
 *
 * Fixtures: tests/data/lessons/NAME.py is the program as GradLens shows it, and
 * NAME.out what /usr/bin/python3 (PyTorch 1.13 + torchvision) printed running it
 * (tests/data/lessons/make-fixtures.sh).
 */
#include "lessons.h"
#include "json.h"
#include "program.h"
#include "module.h"
#include "sgd.h"
#include "stepper.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *
read_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "lessons", name, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* Every EVENT_LINE of a run, checked as it comes: a statement of the program. */
typedef struct
{
  LessonRun *run;
  GArray *lines;        /* of int */
  int n_nodes;
  int bad_line;
} LineCheck;

static gboolean
check_line_event (const Event *ev, gpointer data)
{
  LineCheck *c = data;
  if (ev->kind == EVENT_NODE_RECORDED)
    c->n_nodes++;
  if (ev->kind != EVENT_LINE)
    return TRUE;
  g_array_append_val (c->lines, ev->line);
  g_autofree char *text = g_strstrip (g_strdup (lesson_run_get_source_line (c->run, ev->line)));
  if (*text == '\0' || *text == '#')
    c->bad_line = ev->line;
  return TRUE;
}

static LessonRun *
run_plain (const char *name, const LessonParams *params, LineCheck *check)
{
  g_autoptr (GError) error = NULL;
  const Lesson *lesson = lesson_find (name, &error);
  g_assert_no_error (error);
  LessonRun *run = lesson_run_new (lesson, params);
  if (check)
    {
      check->run = run;
      autograd_set_observer (check_line_event, check);
    }
  g_assert_true (lesson_run_execute (run, &error));
  g_assert_no_error (error);
  autograd_set_observer (NULL, NULL);
  g_assert_cmpint (lesson_run_get_phase (run), ==, LESSON_PHASE_DONE);
  return run;
}

/* --- The table -------------------------------------------------------------- */

static void
test_list (void)
{
  guint n;
  const Lesson *const *lessons = lesson_list (&n);
  const char *expected[] = { "autograd", "requires-grad", "resnet18-step", "finetune",
                             "dynamic", "freeze" };
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpstr (lessons[i]->name, ==, expected[i]);
      g_assert_true (lesson_find (expected[i], NULL) == lessons[i]);
      g_assert_nonnull (lessons[i]->title);
      g_assert_nonnull (lessons[i]->graph_variable);
      g_assert_null (strchr (lessons[i]->summary, '\n'));
      g_assert_cmpuint (strlen (lessons[i]->summary), >, 20);
    }

  g_autoptr (GError) error = NULL;
  g_assert_null (lesson_find ("resnet50", &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_UNKNOWN);
  g_assert_nonnull (strstr (error->message, "resnet50"));
  g_assert_nonnull (strstr (error->message, "dynamic"));
}

/* The examples: bundled programs that run as written, whose headers say what the
 * table translates; example_new gives a copy of its own each time. */
static void
test_examples (void)
{
  guint n;
  const Lesson *const *examples = example_list (&n);
  g_assert_cmpuint (n, >=, 8);
  for (guint i = 0; i < n; i++)
    {
      const Lesson *example = examples[i];
      g_autofree char *file = g_strconcat (example->name, ".py", NULL);
      g_assert_cmpstr (example->filename, ==, file);
      g_assert_true (example->bundled);
      g_assert_false (example->builtin);
      g_assert_false (example->uses_resnet);
      g_assert_null (strchr (example->summary, '\n'));
      /* The picker shows it by its title as it shows a file by its base name. */
      g_assert_null (strchr (example->title, '/'));
      /* The header (for whoever reads the file) and the table (translated) agree. */
      Lesson *as_file = program_lesson_new (example->filename, example->source);
      g_assert_cmpstr (as_file->title, ==, example->title);
      g_assert_cmpstr (as_file->summary, ==, example->summary);
      g_assert_cmpstr (as_file->graph_variable, ==, example->graph_variable);
      lesson_free (as_file);
      /* Runs as written: no parameters are written into it. */
      LessonParams params;
      lesson_params_init (&params);
      params.seed = 42;
      g_autofree char *source = lesson_source (example, &params);
      g_assert_cmpstr (source, ==, example->source);

      Lesson *copy = example_new (example->name, NULL);
      g_assert_nonnull (copy);
      g_assert_true (copy != example);
      g_assert_cmpstr (copy->source, ==, example->source);
      g_assert_cmpstr (copy->title, ==, example->title);
      g_assert_true (copy->bundled);
      lesson_free (copy);
    }

  g_autoptr (GError) error = NULL;
  g_assert_null (example_new ("resnet50", &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_UNKNOWN);
  g_assert_nonnull (strstr (error->message, "resnet50"));
}

/* The program text carries the parameters, and nothing else is left to fill. */
static void
test_source_params (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.seed = 42;
  params.size = 224;
  params.lr = 0.05f;
  params.momentum = 0;
  params.steps = 3;
  params.zero_grad = false;
  params.frozen = g_strsplit ("layer3,fc", ",", -1);
  params.weights = g_strdup ("w \"1\".safetensors");

  g_autofree char *src = lesson_source (lesson_find ("freeze", NULL), &params);
  g_assert_null (strchr (src, '@'));
  g_assert_nonnull (strstr (src, "torch.manual_seed(42)\n"));
  g_assert_nonnull (strstr (src, "data = torch.rand(1, 3, 224, 224)\n"));
  g_assert_nonnull (strstr (src, "lr=0.05, momentum=0.0)"));
  g_assert_nonnull (strstr (src, "for step in range(3):\n"));
  g_assert_nonnull (strstr (src, "frozen = (\"layer3\", \"fc\")"));
  g_assert_nonnull (strstr (src, "load_file(\"w \\\"1\\\".safetensors\")"));
  g_assert_nonnull (strstr (src, "    pass  # optim.zero_grad() is off"));
  /* A .pth is loaded with torch.load, as the lesson will load it. */
  g_free (params.weights);
  params.weights = g_strdup ("resnet18-f37072fd.pth");
  g_autofree char *pth = lesson_source (lesson_find ("freeze", NULL), &params);
  g_assert_nonnull (strstr (pth,
                            "\nmodel = resnet18(); model.load_state_dict(torch.load(\"resnet18-f37072fd.pth\"))\n"));
  g_assert_null (strstr (pth, "safetensors"));
  lesson_params_clear (&params);

  /* The freeze lesson's default, and one name as a Python 1-tuple. */
  lesson_params_init (&params);
  g_autofree char *dflt = lesson_source (lesson_find ("freeze", NULL), &params);
  g_assert_nonnull (strstr (dflt, "frozen = (\"conv1\", \"bn1\", \"layer1\")"));
  g_assert_nonnull (strstr (dflt, "    optim.zero_grad(set_to_none=True)\n"));
  params.frozen = g_strsplit ("fc", ",", -1);
  g_autofree char *one = lesson_source (lesson_find ("freeze", NULL), &params);
  g_assert_nonnull (strstr (one, "frozen = (\"fc\",)"));
  lesson_params_clear (&params);

  /* Lines are numbered from 1; out of range is empty. */
  LessonRun *run = lesson_run_new (lesson_find ("autograd", NULL), NULL);
  g_assert_cmpstr (lesson_run_get_source_line (run, 1), ==, "import torch");
  g_assert_cmpstr (lesson_run_get_source_line (run, 5), ==, "Q = 3*a**3 - b**2");
  g_assert_cmpint (lesson_run_get_n_lines (run), ==, 21);
  g_assert_cmpstr (lesson_run_get_source_line (run, 22), ==, "");
  g_assert_cmpstr (lesson_run_get_source_line (run, 0), ==, "");
  lesson_run_free (run);
}

/* --- What they print ----------------------------------------------------------- */

static void
check_against_pytorch (const char *name, const LessonParams *params, const int *lines,
                       int n_lines)
{
  gint tensors_before = tensor_live_count ();
  gint nodes_before = node_live_count ();
  g_autofree char *py_name = g_strconcat (name, ".py", NULL);
  g_autofree char *out_name = g_strconcat (name, ".out", NULL);
  g_autofree char *program = read_fixture (py_name);
  g_autofree char *expected = read_fixture (out_name);

  LineCheck check = { .lines = g_array_new (FALSE, FALSE, sizeof (int)) };
  LessonRun *run = run_plain (name, params, &check);
  g_assert_cmpstr (lesson_run_get_source (run), ==, program);
  g_assert_cmpstr (lesson_run_get_output (run), ==, expected);
  g_assert_cmpint (check.bad_line, ==, 0);
  g_assert_cmpint (check.lines->len, ==, n_lines);
  for (int i = 0; i < n_lines; i++)
    g_assert_cmpint (g_array_index (check.lines, int, i), ==, lines[i]);
  g_array_unref (check.lines);

  lesson_run_free (run);
  g_assert_cmpint (tensor_live_count (), ==, tensors_before);
  g_assert_cmpint (node_live_count (), ==, nodes_before);
}

static void
test_autograd_output (void)
{
  /* The second backward fails: lines 20 and 21 (except, print) run. */
  const int lines[] = { 1, 3, 4, 5, 6, 8, 9, 10, 11, 14, 15, 18, 19, 20, 21 };
  check_against_pytorch ("autograd", NULL, lines, G_N_ELEMENTS (lines));
}

static void
test_requires_grad_output (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.seed = 7;
  const int lines[] = { 1, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14 };
  check_against_pytorch ("requires-grad", &params, lines, G_N_ELEMENTS (lines));
}

/* The autograd lesson's variables stay alive for the inspector until the run goes. */
static void
test_autograd_variables (void)
{
  gint tensors_before = tensor_live_count ();
  gint nodes_before = node_live_count ();
  LessonRun *run = run_plain ("autograd", NULL, NULL);

  GPtrArray *vars = lesson_run_get_variables (run);
  const char *names[] = { "a", "b", "Q", "external_grad" };
  g_assert_cmpuint (vars->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < vars->len; i++)
    {
      const LessonVar *var = g_ptr_array_index (vars, i);
      g_assert_cmpstr (var->name, ==, names[i]);
      g_assert_cmpint (var->kind, ==, LESSON_VAR_TENSOR);
    }
  Tensor *a = lesson_run_get_tensor (run, "a");
  Tensor *Q = lesson_run_get_tensor (run, "Q");
  g_assert_cmpfloat (a->grad->data[0], ==, 36);
  g_assert_cmpfloat (a->grad->data[1], ==, 81);
  g_assert_cmpstr (lesson_run_tensor_name (run, a), ==, "a");
  g_assert_true (lesson_run_get_graph_root (run) == Q->grad_fn);
  g_assert_cmpstr (node_name (Q->grad_fn), ==, "SubBackward0");
  g_assert_true (Q->grad_fn->saved_freed || !node_has_saved (Q->grad_fn));
  g_assert_null (lesson_run_get_model (run));
  g_assert_null (lesson_run_get_tensor (run, "nothing"));
  /* A run runs once. */
  g_autoptr (GError) error = NULL;
  g_assert_false (lesson_run_execute (run, &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_PARAMS);
  lesson_run_free (run);
  g_assert_cmpint (tensor_live_count (), ==, tensors_before);
  g_assert_cmpint (node_live_count (), ==, nodes_before);
}

/* The losses PyTorch printed, parsed from "step N: loss X" lines. */
static GArray *
parse_losses (const char *text)
{
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      int step;
      char value[64];
      if (sscanf (lines[i], "step %d: loss %63s", &step, value) == 2)
        {
          g_assert_cmpint (step, ==, (int) losses->len);
          double v = g_ascii_strtod (value, NULL);
          g_array_append_val (losses, v);
        }
    }
  return losses;
}

/* resnet18 in float32 sums in another order than PyTorch's kernels: the losses
 * agree to about 1e-6 relative, not to the last printed digit. */
static void
check_losses (const char *name, const LessonParams *params)
{
  g_autofree char *py_name = g_strconcat (name, ".py", NULL);
  g_autofree char *out_name = g_strconcat (name, ".out", NULL);
  g_autofree char *program = read_fixture (py_name);
  g_autofree char *expected = read_fixture (out_name);

  LineCheck check = { .lines = g_array_new (FALSE, FALSE, sizeof (int)) };
  LessonRun *run = run_plain (name, params, &check);
  g_assert_cmpstr (lesson_run_get_source (run), ==, program);
  g_assert_cmpint (check.bad_line, ==, 0);
  g_array_unref (check.lines);

  g_autoptr (GArray) torch = parse_losses (expected);
  g_autoptr (GArray) ours = parse_losses (lesson_run_get_output (run));
  GArray *history = lesson_run_get_losses (run);
  g_assert_cmpuint (torch->len, ==, (guint) params->steps);
  g_assert_cmpuint (ours->len, ==, torch->len);
  g_assert_cmpuint (history->len, ==, torch->len);
  for (guint i = 0; i < torch->len; i++)
    {
      double t = g_array_index (torch, double, i);
      double o = g_array_index (history, double, i);
      g_test_message ("%s step %u: PyTorch %.4f, GradLens %.4f", name, i, t, o);
      g_assert_cmpfloat (fabs (o - t), <=, 1e-5 * fabs (t) + 2e-4);
      /* printed with 3 decimals */
      g_assert_cmpfloat (fabs (g_array_index (ours, double, i) - o), <=, 5.01e-4);
    }
  lesson_run_free (run);
}

static void
test_resnet18_step_losses (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.steps = 2;
  check_losses ("resnet18-step", &params);
}

static void
test_finetune_losses (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.seed = 1;
  params.steps = 2;
  params.lr = 0.001f;
  check_losses ("finetune", &params);

  /* Only fc moved: it alone is trainable and has momentum buffers. */
  LessonRun *run = run_plain ("finetune", &params, NULL);
  Sgd *optim = lesson_run_get_optimizer (run);
  g_assert_nonnull (optim);
  for (guint i = 0; i < optim->params->len; i++)
    {
      const SgdParam *sp = &g_array_index (optim->params, SgdParam, i);
      bool is_fc = g_str_has_prefix (sp->name, "fc.");
      g_assert_cmpint (sp->momentum_buffer != NULL, ==, is_fc);
      g_assert_cmpint (sp->param->requires_grad, ==, is_fc);
    }
  lesson_run_free (run);
}

static void
test_freeze_losses (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.steps = 2;
  params.zero_grad = false;
  params.frozen = g_strsplit ("layer1,layer2.0,fc.bias", ",", -1);
  check_losses ("freeze", &params);

  LessonRun *run = run_plain ("freeze", &params, NULL);
  Module *model = lesson_run_get_model (run);
  g_autoptr (GPtrArray) named = module_named_parameters (model);
  int frozen = 0;
  for (guint i = 0; i < named->len; i++)
    {
      const ModuleTensor *mt = g_ptr_array_index (named, i);
      bool should = g_str_has_prefix (mt->name, "layer1.")
                    || g_str_has_prefix (mt->name, "layer2.0.")
                    || g_str_equal (mt->name, "fc.bias");
      g_assert_cmpint (mt->tensor->requires_grad, ==, !should);
      /* Without zero_grad, .grad holds the sum of both passes. */
      if (!should)
        g_assert_cmpint (mt->tensor->grad_passes, ==, 2);
      else
        g_assert_null (mt->tensor->grad);
      frozen += should;
    }
  /* layer1: 2 blocks × (2 convs + 2 BN × 2); layer2.0 also its downsample; fc.bias. */
  g_assert_cmpint (frozen, ==, 12 + 9 + 1);
  lesson_run_free (run);
  lesson_params_clear (&params);
}

static void
test_freeze_bad_name (void)
{
  /* The program's rule, name == f or name.startswith(f + "."): a name that
   * matches nothing ("layer9", "layer", "") freezes nothing, and the lesson runs
   * as the Python program it prints does. */
  LessonParams params;
  g_autoptr (GError) error = NULL;
  const char *names[] = { "layer9", "layer", "" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      lesson_params_init (&params);
      params.frozen = g_new0 (char *, 2);
      params.frozen[0] = g_strdup (names[i]);
      LessonRun *run = lesson_run_new (lesson_find ("freeze", NULL), &params);
      g_assert_true (lesson_run_execute (run, &error));
      g_assert_no_error (error);
      g_autoptr (GPtrArray) ps = module_named_parameters (lesson_run_get_model (run));
      for (guint k = 0; k < ps->len; k++)
        g_assert_true (((ModuleTensor *) g_ptr_array_index (ps, k))->tensor->requires_grad);
      lesson_run_free (run);
      lesson_params_clear (&params);
    }

}

/* --weights: the lesson runs with the file's numbers. Weights of a model built from
 * seed 3, a lesson seeded 0: the data are seed 0's, the model seed 3's. */
static void
test_weights (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gradlens-lessons-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "resnet18-seed3.safetensors", NULL);
  {
    g_autoptr (Module) model3 = resnet18_new (1000, 3);
    g_autoptr (StateDict) sd = module_state_dict (model3);
    g_assert_true (safetensors_save (sd, path, &error));
    g_assert_no_error (error);
  }

  LessonParams params;
  lesson_params_init (&params);
  params.weights = g_strdup (path);
  LessonRun *run = run_plain ("resnet18-step", &params, NULL);
  double lesson_loss = g_array_index (lesson_run_get_losses (run), double, 0);
  g_assert_nonnull (strstr (lesson_run_get_source (run), path));
  lesson_run_free (run);

  /* The same by hand: seed 0's generator past resnet18's draws, then the data. */
  Generator gen;
  generator_init (&gen, 0);
  g_autoptr (Module) skipped = resnet18_new_from_generator (1000, 64, &gen);
  g_autoptr (Tensor) data = tensor_new_rand (4, (int64_t[]){ 1, 3, 64, 64 }, &gen);
  g_autoptr (Tensor) labels = tensor_new_rand (2, (int64_t[]){ 1, 1000 }, &gen);
  g_autoptr (Module) model3 = resnet18_new (1000, 3);
  g_autoptr (Tensor) pred = module_forward (model3, data, &error);
  g_autoptr (Tensor) diff = tensor_sub (pred, labels, &error);
  g_autoptr (Tensor) loss = tensor_sum (diff);
  g_assert_cmpfloat (lesson_loss, ==, loss->data[0]);

  LessonRun *plain = run_plain ("resnet18-step", NULL, NULL);
  g_assert_cmpfloat (g_array_index (lesson_run_get_losses (plain), double, 0), !=, lesson_loss);
  lesson_run_free (plain);

  /* A missing file is an error naming it. */
  g_free (params.weights);
  params.weights = g_build_filename (dir, "missing.safetensors", NULL);
  run = lesson_run_new (lesson_find ("resnet18-step", NULL), &params);
  g_assert_false (lesson_run_execute (run, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "missing.safetensors"));
  lesson_run_free (run);
  lesson_params_clear (&params);

  g_unlink (path);
  g_rmdir (dir);
}

/* --- Graphs ---------------------------------------------------------------------- */

/* The lesson's graph after its forward pass, as JSON, parsed. */
static JsonValue *
graph_after_forward (const char *name, const LessonParams *params)
{
  g_autoptr (GError) error = NULL;
  Stepper *s = stepper_new (lesson_find (name, NULL), params, 0, NULL, NULL, NULL);
  StepperStatus status = stepper_run_to_phase_sync (s, LESSON_PHASE_BACKWARD);
  g_assert_cmpint (status, ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_BACKWARD);
  LessonRun *run = stepper_get_run (s);
  Node *root = lesson_run_get_graph_root (run);
  g_assert_nonnull (root);
  g_autofree char *json = lesson_graph_to_json (run, root);
  g_autofree char *dot = lesson_graph_to_dot (run, root);
  g_assert_true (g_str_has_prefix (dot, "digraph autograd {\n"));
  stepper_free (s);
  JsonValue *v = json_parse (json, -1, NULL, &error);
  g_assert_no_error (error);
  return v;
}

static const JsonValue *
member (const JsonValue *v, const char *key, JsonType type)
{
  const JsonValue *m = json_value_member (v, key);
  g_assert_nonnull (m);
  g_assert_cmpint (m->type, ==, type);
  return m;
}

static GHashTable *
count_types (const JsonValue *graph)
{
  GHashTable *counts = g_hash_table_new (g_str_hash, g_str_equal);
  const JsonValue *nodes = member (graph, "nodes", JSON_ARRAY);
  for (size_t i = 0; i < nodes->array.n; i++)
    {
      const JsonValue *n = nodes->array.items[i];
      const char *type = member (n, "type", JSON_STRING)->string.str;
      member (n, "id", JSON_NUMBER);
      member (n, "module", JSON_STRING);
      member (n, "shape", JSON_ARRAY);
      bool acc = g_str_equal (type, "AccumulateGrad");
      g_assert_cmpint (json_value_member (n, "leaf_name") != NULL, ==, acc);
      g_assert_cmpint (json_value_member (n, "leaf_shape") != NULL, ==, acc);
      int count = GPOINTER_TO_INT (g_hash_table_lookup (counts, type));
      g_hash_table_insert (counts, (gpointer) type, GINT_TO_POINTER (count + 1));
    }
  return counts;
}

static void
test_graph_resnet18_step (void)
{
  g_autoptr (JsonValue) graph = graph_after_forward ("resnet18-step", NULL);
  g_assert_cmpuint (member (graph, "nodes", JSON_ARRAY)->array.n, ==, 134);
  g_assert_cmpuint (member (graph, "edges", JSON_ARRAY)->array.n, ==, 141);
  g_autoptr (GHashTable) counts = count_types (graph);
  const struct
  {
    const char *type;
    int n;
  } expected[] = {
    { "AccumulateGrad", 62 }, { "ConvolutionBackward0", 20 }, { "NativeBatchNormBackward0", 20 },
    { "ReluBackward0", 17 }, { "AddBackward0", 8 }, { "MaxPool2DWithIndicesBackward0", 1 },
    { "MeanBackward1", 1 }, { "ViewBackward0", 1 }, { "TBackward0", 1 }, { "AddmmBackward0", 1 },
    { "SubBackward0", 1 }, { "SumBackward0", 1 },
  };
  g_assert_cmpuint (g_hash_table_size (counts), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (counts, expected[i].type)), ==,
                     expected[i].n);

  /* The root is first; every edge joins two listed nodes. */
  const JsonValue *nodes = member (graph, "nodes", JSON_ARRAY);
  g_assert_cmpstr (member (nodes->array.items[0], "type", JSON_STRING)->string.str, ==,
                   "SumBackward0");
  g_autoptr (GHashTable) ids = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (size_t i = 0; i < nodes->array.n; i++)
    {
      const JsonValue *id = member (nodes->array.items[i], "id", JSON_NUMBER);
      g_hash_table_add (ids, (gpointer) &id->number.integer);
    }
  g_assert_cmpuint (g_hash_table_size (ids), ==, 134);
  const JsonValue *edges = member (graph, "edges", JSON_ARRAY);
  for (size_t i = 0; i < edges->array.n; i++)
    {
      const JsonValue *e = edges->array.items[i];
      g_assert_cmpint (e->type, ==, JSON_ARRAY);
      g_assert_cmpuint (e->array.n, ==, 2);
      g_assert_true (g_hash_table_contains (ids, &e->array.items[0]->number.integer));
      g_assert_true (g_hash_table_contains (ids, &e->array.items[1]->number.integer));
    }
  /* A conv weight's leaf: name and shape. */
  bool found = false;
  for (size_t i = 0; i < nodes->array.n; i++)
    {
      const JsonValue *n = nodes->array.items[i];
      const JsonValue *leaf = json_value_member (n, "leaf_name");
      if (leaf && g_str_equal (leaf->string.str, "layer1.0.conv2.weight"))
        {
          const JsonValue *shape = member (n, "leaf_shape", JSON_ARRAY);
          g_assert_cmpuint (shape->array.n, ==, 4);
          g_assert_cmpint (shape->array.items[0]->number.integer, ==, 64);
          g_assert_cmpint (shape->array.items[3]->number.integer, ==, 3);
          g_assert_cmpstr (member (n, "module", JSON_STRING)->string.str, ==, "layer1.0.conv2");
          found = true;
        }
    }
  g_assert_true (found);
}

static void
test_graph_finetune (void)
{
  g_autoptr (JsonValue) graph = graph_after_forward ("finetune", NULL);
  g_assert_cmpuint (member (graph, "nodes", JSON_ARRAY)->array.n, ==, 6);
  g_assert_cmpuint (member (graph, "edges", JSON_ARRAY)->array.n, ==, 5);
  g_autoptr (GHashTable) counts = count_types (graph);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (counts, "AccumulateGrad")), ==, 2);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (counts, "AddmmBackward0")), ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (counts, "TBackward0")), ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (counts, "SubBackward0")), ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (counts, "SumBackward0")), ==, 1);
}

static void
test_graph_autograd (void)
{
  g_autoptr (JsonValue) graph = graph_after_forward ("autograd", NULL);
  const JsonValue *nodes = member (graph, "nodes", JSON_ARRAY);
  const char *types[] = { "SubBackward0", "MulBackward0", "PowBackward0", "PowBackward0",
                          "AccumulateGrad", "AccumulateGrad" };
  g_assert_cmpuint (nodes->array.n, ==, G_N_ELEMENTS (types));
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    g_assert_cmpstr (member (nodes->array.items[i], "type", JSON_STRING)->string.str, ==,
                     types[i]);
  /* BFS from Q: b's AccumulateGrad (under the second PowBackward0) comes before a's. */
  g_assert_cmpstr (member (nodes->array.items[4], "leaf_name", JSON_STRING)->string.str, ==, "b");
  g_assert_cmpstr (member (nodes->array.items[5], "leaf_name", JSON_STRING)->string.str, ==, "a");
  g_assert_cmpuint (member (graph, "edges", JSON_ARRAY)->array.n, ==, 5);

  /* next_functions slot for slot, None included, as PyTorch's:
   * Q.grad_fn.next_functions[0][0].next_functions == ((PowBackward0, 0), (None, 0)). */
  const JsonValue *mul_next = member (nodes->array.items[1], "next_functions", JSON_ARRAY);
  g_assert_cmpuint (mul_next->array.n, ==, 2);
  g_assert_cmpint (mul_next->array.items[0]->type, ==, JSON_ARRAY);
  g_assert_cmpint (mul_next->array.items[0]->array.items[0]->number.integer, ==,
                   member (nodes->array.items[3], "id", JSON_NUMBER)->number.integer);  /* a**3 */
  g_assert_cmpint (mul_next->array.items[0]->array.items[1]->number.integer, ==, 0);
  g_assert_cmpint (mul_next->array.items[1]->type, ==, JSON_NULL);
  const JsonValue *acc_next = member (nodes->array.items[4], "next_functions", JSON_ARRAY);
  g_assert_cmpuint (acc_next->array.n, ==, 0);
}

/* Over resnet18's step graph, PyTorch's next_functions hold 163 slots: 141 edges
 * and 22 None (each convolution's missing bias, conv1's input, the labels). */
static guint
count_none_slots (const JsonValue *graph, guint *slots)
{
  const JsonValue *nodes = member (graph, "nodes", JSON_ARRAY);
  guint none = 0;
  *slots = 0;
  for (size_t i = 0; i < nodes->array.n; i++)
    {
      const JsonValue *next = member (nodes->array.items[i], "next_functions", JSON_ARRAY);
      *slots += next->array.n;
      for (size_t j = 0; j < next->array.n; j++)
        none += next->array.items[j]->type == JSON_NULL;
    }
  return none;
}

static void
test_graph_none_slots (void)
{
  g_autoptr (JsonValue) graph = graph_after_forward ("resnet18-step", NULL);
  guint slots = 0;
  g_assert_cmpuint (count_none_slots (graph, &slots), ==, 22);
  g_assert_cmpuint (slots, ==, 163);

  /* The DOT export draws them too, one "None" box each. */
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, 0, NULL, NULL, NULL);
  g_assert_cmpint (stepper_run_to_phase_sync (s, LESSON_PHASE_BACKWARD), ==, STEPPER_PAUSED);
  LessonRun *run = stepper_get_run (s);
  g_autofree char *dot = lesson_graph_to_dot (run, lesson_run_get_graph_root (run));
  stepper_free (s);
  g_assert_nonnull (strstr (dot, "[label=\"None\""));
  g_assert_nonnull (strstr (dot, "comment=\"next_functions[1]\""));
}

/* The phase and the line agree at every pause: at a phase change the line is
 * the statement that makes it, and a statement that makes one runs in it. */
typedef struct
{
  LessonRun *run;
  guint n_phases;
  GString *disagreements;
} PhaseCheck;

/* The phase a statement begins, from its text; LESSON_PHASE_COUNT: none. */
static LessonPhase
phase_of_statement (const char *text)
{
  if (strstr (text, ".backward(") != NULL)
    return LESSON_PHASE_BACKWARD;
  if (strstr (text, "optim.step()") != NULL)
    return LESSON_PHASE_OPTIMIZER;
  if (strstr (text, "optim.zero_grad(") != NULL)
    return LESSON_PHASE_ZERO_GRAD;
  if (strstr (text, "= model(") != NULL)
    return LESSON_PHASE_FORWARD;
  return LESSON_PHASE_COUNT;
}

static gboolean
check_phase_event (const Event *ev, gpointer data)
{
  PhaseCheck *c = data;
  int line = lesson_run_get_line (c->run);
  const char *text = lesson_run_get_source_line (c->run, line);
  LessonPhase phase = lesson_run_get_phase (c->run);
  LessonPhase expected = phase_of_statement (text);

  if (ev->kind == EVENT_PHASE && ev->line == LESSON_PHASE_DONE)
    return TRUE;   /* after the last line */
  if (ev->kind == EVENT_PHASE)
    {
      c->n_phases++;
      /* A phase begins with a statement of its own: the program's first line
       * for the opening forward pass, elsewhere the call that starts it. */
      if ((LessonPhase) ev->line != phase)
        g_string_append_printf (c->disagreements, "phase event %s while the run says %s; ",
                                lesson_phase_name ((LessonPhase) ev->line),
                                lesson_phase_name (phase));
      else if (line == 0 || (expected != phase && !(phase == LESSON_PHASE_FORWARD
                                                    && expected == LESSON_PHASE_COUNT)))
        g_string_append_printf (c->disagreements, "%s on line %d “%s”; ",
                                lesson_phase_name (phase), line, text);
    }
  else if (ev->kind == EVENT_LINE && expected != LESSON_PHASE_COUNT && expected != phase)
    g_string_append_printf (c->disagreements, "line %d “%s” runs in %s; ", line, text,
                            lesson_phase_name (phase));
  return TRUE;
}

static void
test_phase_matches_line (void)
{
  guint n;
  const Lesson *const *lessons = lesson_list (&n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      LessonParams params;
      PhaseCheck c = { .disagreements = g_string_new (NULL) };

      lesson_params_init (&params);
      params.steps = 2;
      c.run = lesson_run_new (lessons[i], &params);
      autograd_set_observer (check_phase_event, &c);
      g_assert_true (lesson_run_execute (c.run, &error));
      autograd_set_observer (NULL, NULL);
      g_assert_no_error (error);
      /* Every lesson opens with a forward pass; the resnet ones have all four. */
      g_assert_cmpuint (c.n_phases, >=, lessons[i]->uses_resnet ? 8 : 1);
      if (c.disagreements->len > 0)
        g_error ("%s: %s", lessons[i]->name, c.disagreements->str);
      g_string_free (c.disagreements, TRUE);
      lesson_run_free (c.run);
      lesson_params_clear (&params);
    }
}

/* The dynamic lesson's while loop runs as often as the seed's randn makes it: the
 * graph has as many nodes as PyTorch's for each seed (tests/data/random). */
static void
test_dynamic_lesson (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "random",
                                                 "torch-random.ini", NULL);
  g_autoptr (GKeyFile) keys = g_key_file_new ();
  g_key_file_load_from_file (keys, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  gsize n_seeds = 0;
  g_autofree gint *nodes = g_key_file_get_integer_list (keys, "dynamic-lesson", "nodes",
                                                        &n_seeds, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_seeds, >=, 4);
  for (gsize seed = 0; seed < n_seeds; seed++)
    {
      LessonParams params;
      lesson_params_init (&params);
      params.seed = seed;
      Stepper *s = stepper_new (lesson_find ("dynamic", NULL), &params, 0, NULL, NULL, NULL);
      g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
      g_assert_true (stepper_get_result (s, NULL));
      g_autoptr (GPtrArray) graph
          = autograd_collect_nodes (lesson_run_get_graph_root (stepper_get_run (s)));
      g_test_message ("seed %" G_GSIZE_FORMAT ": %u nodes, torch %d", seed, graph->len,
                      nodes[seed]);
      g_assert_cmpuint (graph->len, ==, nodes[seed]);
      stepper_free (s);
      lesson_params_clear (&params);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/lessons/list", test_list);
  g_test_add_func ("/engine/lessons/examples", test_examples);
  g_test_add_func ("/engine/lessons/graph-none-slots", test_graph_none_slots);
  g_test_add_func ("/engine/lessons/source-params", test_source_params);
  g_test_add_func ("/engine/lessons/autograd-output", test_autograd_output);
  g_test_add_func ("/engine/lessons/requires-grad-output", test_requires_grad_output);
  g_test_add_func ("/engine/lessons/autograd-variables", test_autograd_variables);
  g_test_add_func ("/engine/lessons/resnet18-step-losses", test_resnet18_step_losses);
  g_test_add_func ("/engine/lessons/finetune-losses", test_finetune_losses);
  g_test_add_func ("/engine/lessons/freeze-losses", test_freeze_losses);
  g_test_add_func ("/engine/lessons/bad-params", test_freeze_bad_name);
  g_test_add_func ("/engine/lessons/weights", test_weights);
  g_test_add_func ("/engine/lessons/graph-resnet18-step", test_graph_resnet18_step);
  g_test_add_func ("/engine/lessons/graph-finetune", test_graph_finetune);
  g_test_add_func ("/engine/lessons/graph-autograd", test_graph_autograd);
  g_test_add_func ("/engine/lessons/phase-matches-line", test_phase_matches_line);
  g_test_add_func ("/engine/lessons/dynamic-seeds", test_dynamic_lesson);

  return g_test_run ();
}

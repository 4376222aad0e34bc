/* test-programs.c — real Python programs on the engine, against real PyTorch.
 *
 * Every tests/programs/NAME.py (and each lesson and example, whose fixtures are in
 * tests/programs/lessons/ and examples/) runs in GradLens's embedded Python and
 * must print exactly NAME.out, the output PyTorch 1.13 gave (pytorch-run.py writes them, and
 * the `programs-pytorch` test checks them against the PyTorch on the machine); a
 * program that ends in an exception must end in NAME.err's `Type: message`.
 * Then the stepper: lines, variables, stops and an endless loop stopped in time.
 */
#include "lessons.h"
#include "module.h"
#include "program.h"
#include "stepper.h"

#include <string.h>

/* A program of the corpus ("accumulate"), a lesson ("lessons/autograd") or an
 * example ("examples/tensor-hooks"): its text, and the fixtures PyTorch's run of
 * it made. */
static char *
fixture_path (const char *name, const char *ext)
{
  g_autofree char *file = g_strconcat (name, ext, NULL);
  return g_test_build_filename (G_TEST_DIST, "programs", file, NULL);
}

static char *
program_path (const char *name)
{
  if (g_str_has_prefix (name, "lessons/") || g_str_has_prefix (name, "examples/"))
    {
      g_autofree char *file = g_strconcat (name, ".py", NULL);
      return g_test_build_filename (G_TEST_DIST, "..", "resources", file, NULL);
    }
  return fixture_path (name, ".py");
}

static char *
read_optional (const char *path)
{
  char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* The traceback's last line: "RuntimeError: ...". */
static char *
last_line (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = (int) g_strv_length (lines) - 1; i >= 0; i--)
    if (lines[i][0] != '\0')
      return g_strdup (lines[i]);
  return g_strdup ("");
}

/* The graph below root, breadth-first over next_functions, as pytorch-run.py's
 * graph_signature writes PyTorch's: "i Name next next ...", "-" for None. */
static char *
graph_signature (Node *root)
{
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  g_autoptr (GHashTable) index = g_hash_table_new (NULL, NULL);
  GString *s = g_string_new (NULL);
  g_ptr_array_add (order, root);
  g_hash_table_insert (index, root, GUINT_TO_POINTER (1));
  for (guint i = 0; i < order->len; i++)
    {
      Node *node = g_ptr_array_index (order, i);
      g_string_append_printf (s, "%u %s", i, node_name (node));
      for (int k = 0; k < node->n_next; k++)
        {
          Node *next = node->next[k].node;
          if (next == NULL)
            {
              g_string_append (s, " -");
              continue;
            }
          if (!g_hash_table_contains (index, next))
            {
              g_ptr_array_add (order, next);
              g_hash_table_insert (index, next, GUINT_TO_POINTER (order->len));
            }
          g_string_append_printf (s, " %u", GPOINTER_TO_UINT (g_hash_table_lookup (index, next)) - 1);
        }
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

static void
test_program (gconstpointer data)
{
  const char *name = data;
  g_autofree char *py = program_path (name);
  g_autofree char *out_path = fixture_path (name, ".out");
  g_autofree char *err_path = fixture_path (name, ".err");
  g_autofree char *graph_path = fixture_path (name, ".graph");
  g_autoptr (GError) error = NULL;

  /* A lesson or an example as the window and the command line have it (bundled,
   * a lesson's graph from the table of python/lessons.c); any other program from
   * its file. */
  Lesson *program = NULL;
  const Lesson *lesson = g_str_has_prefix (name, "lessons/")
                           ? lesson_find (name + strlen ("lessons/"), &error)
                         : g_str_has_prefix (name, "examples/")
                           ? (program = example_new (name + strlen ("examples/"), &error))
                           : (program = program_lesson_new_from_file (py, &error));
  g_assert_no_error (error);
  g_assert_nonnull (lesson);
  LessonRun *run = lesson_run_new (lesson, NULL);
  gboolean ok = lesson_run_execute (run, &error);

  g_autofree char *expected = read_optional (out_path);
  g_autofree char *expected_err = read_optional (err_path);
  g_assert_nonnull (expected);
  g_assert_cmpstr (lesson_run_get_output (run), ==, expected);
  if (expected_err)
    {
      g_assert_false (ok);
      g_assert_error (error, LESSON_ERROR, LESSON_ERROR_PROGRAM);
      g_autofree char *got = last_line (error->message);
      g_strchomp (expected_err);
      g_assert_cmpstr (got, ==, expected_err);
    }
  else
    {
      if (error)
        g_printerr ("%s", error->message);
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  /* The graph the header names, node for node with PyTorch's. */
  g_autofree char *expected_graph = read_optional (graph_path);
  g_assert_true ((expected_graph != NULL) == (lesson->graph_variable != NULL));
  if (expected_graph)
    {
      Node *root = lesson_run_get_graph_root (run);
      g_assert_nonnull (root);
      g_autofree char *got = graph_signature (root);
      g_assert_cmpstr (got, ==, expected_graph);
    }
  lesson_run_free (run);
  lesson_free (program);
}

/* --- The stepper on a program ----------------------------------------------------- */

static Lesson *
lesson_of (const char *source)
{
  return program_lesson_new ("step.py", source);
}

static void
test_lines_and_variables (void)
{
  Lesson *lesson = lesson_of ("import torch\n"
                              "a = torch.tensor([2., 3.], requires_grad=True)\n"
                              "def f(x):\n"
                              "    y = x * 2\n"
                              "    return y.sum()\n"
                              "s = f(a)\n"
                              "s.backward()\n");
  Stepper *s = stepper_new (lesson, NULL, STEPPER_STOP_LINE, NULL, NULL, NULL);
  int lines[16], n = 0;
  while (stepper_step_sync (s) == STEPPER_PAUSED && n < 16)
    lines[n++] = stepper_get_line (s);
  /* Module level, then inside f (its locals too), then back. */
  int want[] = { 1, 2, 3, 6, 4, 5, 7 };
  g_assert_cmpint (n, ==, G_N_ELEMENTS (want));
  for (int i = 0; i < n; i++)
    g_assert_cmpint (lines[i], ==, want[i]);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (s, NULL));

  LessonRun *run = stepper_get_run (s);
  Tensor *a = lesson_run_get_tensor (run, "a");
  g_assert_nonnull (a);
  g_assert_nonnull (a->grad);
  g_assert_cmpfloat (a->grad->data[0], ==, 2.0f);
  g_assert_nonnull (lesson_run_get_tensor (run, "s"));
  /* y was f's local: gone once f returned. */
  g_assert_null (lesson_run_get_tensor (run, "y"));
  g_assert_cmpstr (node_name (lesson_run_get_graph_root (run)), ==, "SumBackward0");
  stepper_free (s);
  lesson_free (lesson);
}

/* A program's own model is the run's model (not the loss module before it): its
 * class's name, its children and own parameters in PyTorch's order, a layer held
 * under two names shown once; its forward announces each module's path. */
static void
test_program_model (void)
{
  Lesson *lesson = lesson_of ("import torch\n"
                              "from torch import nn\n"
                              "loss_fn = nn.MSELoss()\n"
                              "class Block(nn.Module):\n"
                              "    def __init__(self):\n"
                              "        super().__init__()\n"
                              "        self.lin = nn.Linear(2, 2)\n"
                              "        self.gain = nn.Parameter(torch.ones(2))\n"
                              "    def forward(self, x):\n"
                              "        return self.lin(x) * self.gain\n"
                              "class Net(nn.Module):\n"
                              "    def __init__(self):\n"
                              "        super().__init__()\n"
                              "        self.block = Block()\n"
                              "        self.head = nn.Linear(2, 1)\n"
                              "        self.also_head = self.head\n"
                              "    def forward(self, x):\n"
                              "        return self.head(self.block(x))\n"
                              "net = Net()\n"
                              "loss = loss_fn(net(torch.ones(3, 2)), torch.zeros(3, 1))\n"
                              "loss.backward()\n");
  g_assert_true (lesson->uses_modules);
  g_assert_false (lesson->uses_optimizer);
  {
    /* Imported by name: still a program with modules and an optimizer. */
    Lesson *named = lesson_of ("from torch.nn import Linear\nfrom torch.optim import SGD\n");
    g_assert_true (named->uses_modules);
    g_assert_true (named->uses_optimizer);
    lesson_free (named);
  }
  Stepper *s = stepper_new (lesson, NULL, STEPPER_STOP_MODULE, NULL, NULL, NULL);
  g_autoptr (GString) entered = g_string_new (NULL);
  g_autofree char *first = NULL;
  while (stepper_step_sync (s) == STEPPER_PAUSED)
    if (stepper_get_event (s)->kind == EVENT_MODULE_ENTER)
      {
        g_string_append_printf (entered, "[%s]", stepper_get_event (s)->module);
        if (first == NULL)
          first = g_strdup (stepper_get_event (s)->sentence);
      }
  /* The model by the program's name for it. */
  g_assert_cmpstr (first, ==, "Entering net (Net)");
  g_assert_true (stepper_get_result (s, NULL));
  /* model, its block, the block's Linear, the head; not loss_fn (a root without
   * parameters, whose path "" would name the model). */
  g_assert_cmpstr (entered->str, ==, "[][block][block.lin][head]");

  LessonRun *run = stepper_get_run (s);
  Module *model = lesson_run_get_model (run);
  g_assert_nonnull (model);
  g_assert_cmpstr (module_type_name (model), ==, "Net");
  g_assert_cmpstr (module_type_name (module_find (model, "block")), ==, "Block");
  g_assert_cmpstr (module_type_name (module_find (model, "block.lin")), ==, "Linear");
  g_assert_cmpint (model->children->len, ==, 2);   /* also_head is head */
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  g_autoptr (GString) names = g_string_new (NULL);
  for (guint i = 0; i < params->len; i++)
    g_string_append_printf (names, "%s ", ((ModuleTensor *) g_ptr_array_index (params, i))->name);
  g_assert_cmpstr (names->str, ==, "block.gain block.lin.weight block.lin.bias head.weight head.bias ");
  /* The engine's parameters are the program's: its backward filled their .grad. */
  Tensor *gain = ((ModuleTensor *) g_ptr_array_index (params, 0))->tensor;
  g_assert_nonnull (gain->grad);
  g_assert_cmpstr (lesson_run_module_kind (run, "block"), ==, "Block");
  stepper_free (s);
  lesson_free (lesson);
}

static void
test_locals_while_paused (void)
{
  Lesson *lesson = lesson_of ("import torch\n"
                              "def f(x):\n"
                              "    y = x * 2\n"
                              "    return y\n"
                              "z = f(torch.ones(2))\n");
  Stepper *s = stepper_new (lesson, NULL, STEPPER_STOP_LINE, NULL, NULL, NULL);
  while (stepper_step_sync (s) == STEPPER_PAUSED && stepper_get_line (s) != 4)
    ;
  g_assert_cmpint (stepper_get_line (s), ==, 4);
  Tensor *y = lesson_run_get_tensor (stepper_get_run (s), "y");
  g_assert_nonnull (y);
  g_assert_cmpfloat (y->data[1], ==, 2.0f);
  stepper_free (s);
  lesson_free (lesson);
}

static void
test_phases (void)
{
  Lesson *lesson = lesson_of ("import torch\n"
                              "a = torch.ones(2, requires_grad=True)\n"
                              "(a * a).sum().backward()\n"
                              "print(a.grad)\n");
  Stepper *s = stepper_new (lesson, NULL, STEPPER_STOP_PHASE, NULL, NULL, NULL);
  /* The forward pass opens with the first statement; each phase begins with the
   * line of the statement that is its (a pause there shows them together). */
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_FORWARD);
  g_assert_cmpint (stepper_get_line (s), ==, 1);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_BACKWARD);
  g_assert_cmpint (stepper_get_line (s), ==, 3);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_FORWARD);
  g_assert_cmpint (stepper_get_line (s), ==, 4);
  stepper_run_to_end_sync (s);
  g_assert_cmpstr (lesson_run_get_output (stepper_get_run (s)), ==, "tensor([2., 2.])\n");
  stepper_free (s);
  lesson_free (lesson);
}

/* Reset (stepper_free) stops a program in an endless loop, wherever it is: in
 * the program's own lines, or in code that has none of them (what exec runs,
 * like torch's own Python files, is not the program's: no line events). */
static void
endless_loop_stops (const char *source)
{
  Lesson *lesson = lesson_of (source);
  Stepper *s = stepper_new (lesson, NULL, 0, NULL, NULL, NULL);
  stepper_run_to_end (s);
  g_usleep (200 * 1000);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_RUNNING);
  gint64 start = g_get_monotonic_time ();
  stepper_free (s);
  gint64 took_us = g_get_monotonic_time () - start;
  g_test_message ("stopped an endless loop in %.1f ms", took_us / 1000.0);
  /* A bound on correctness, not speed: it must not wait for the loop to end. */
  g_assert_cmpint (took_us, <, 5 * G_USEC_PER_SEC);
  lesson_free (lesson);
}

static void
test_endless_loop_stops (void)
{
  endless_loop_stops ("import torch\n"
                      "x = torch.zeros(1)\n"
                      "while True:\n"
                      "    x = x + 1\n");
  endless_loop_stops ("exec(compile('while True:\\n    pass\\n', 'elsewhere.py', 'exec'))\n");
}

static void
test_syntax_error (void)
{
  Lesson *lesson = lesson_of ("import torch\nx = (1 +\n");
  LessonRun *run = lesson_run_new (lesson, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (lesson_run_execute (run, &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_PROGRAM);
  g_assert_nonnull (strstr (error->message, "SyntaxError"));
  g_assert_nonnull (strstr (error->message, "step.py"));
  lesson_run_free (run);
  lesson_free (lesson);

  /* Checked before anything runs: the same report. */
  g_clear_error (&error);
  g_assert_false (program_check_syntax ("step.py", "import torch\nx = (1 +\n", &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_PROGRAM);
  g_assert_nonnull (strstr (error->message, "  File \"step.py\", line 2\n    x = (1 +\n"));
  g_assert_true (g_str_has_suffix (error->message, "SyntaxError: '(' was never closed\n"));
  g_clear_error (&error);
  g_assert_true (program_check_syntax ("step.py", "import torch\nx = (1 +\n 2)\n", &error));
  g_assert_no_error (error);
}

/* A traceback shows the program's code under each frame, with 3.11's carets,
 * though the program has no file. */
static void
test_traceback_code (void)
{
  Lesson *lesson = lesson_of ("import torch\n"
                              "a = torch.ones(2, requires_grad=True)\n"
                              "y = (a * a).sum()\n"
                              "y.backward()\n"
                              "y.backward()\n");
  LessonRun *run = lesson_run_new (lesson, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (lesson_run_execute (run, &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_PROGRAM);
  g_assert_nonnull (strstr (error->message, "\", line 5, in <module>\n    y.backward()\n"));
  g_assert_true (g_str_has_prefix (strstr (error->message, "RuntimeError: "),
                                   "RuntimeError: Trying to backward through the graph a second "
                                   "time"));
  lesson_run_free (run);
  lesson_free (lesson);
}

/* A hook whose function refers to the tensor it watches is a cycle through the
 * engine (node → hook → function → tensor → node) that Python's collector cannot
 * see: the run's end takes its hooks away, and the graph goes with the run. */
static void
test_hooks_freed (void)
{
  /* A first run: the interpreter's own start, torch's import, are not counted. */
  Lesson *warm = lesson_of ("import torch\n");
  LessonRun *run = lesson_run_new (warm, NULL);
  g_assert_true (lesson_run_execute (run, NULL));
  lesson_run_free (run);
  lesson_free (warm);

  gint nodes = node_live_count (), tensors = tensor_live_count ();
  Lesson *lesson = lesson_of ("import torch\n"
                              "def make():\n"
                              "    a = torch.ones(3, requires_grad=True)\n"
                              "    b = a * 2\n"
                              "    b.register_hook(lambda g: print(b.grad_fn.name()))\n"
                              "    a.register_hook(lambda g: a)\n"
                              "    (b * b).sum().backward()\n"
                              "make()\n");
  run = lesson_run_new (lesson, NULL);
  g_assert_true (lesson_run_execute (run, NULL));
  g_assert_cmpstr (lesson_run_get_output (run), ==, "MulBackward0\n");
  lesson_run_free (run);
  lesson_free (lesson);
  g_assert_cmpint (node_live_count (), ==, nodes);
  g_assert_cmpint (tensor_live_count (), ==, tensors);
}

/* `import torch` is GradLens's, whatever is installed. */
static void
test_isolated (void)
{
  Lesson *lesson = lesson_of ("import sys, torch\n"
                              "print(torch.__version__)\n"
                              "print(any('site-packages' in p or 'dist-packages' in p "
                              "for p in sys.path))\n");
  LessonRun *run = lesson_run_new (lesson, NULL);
  g_assert_true (lesson_run_execute (run, NULL));
  g_assert_cmpstr (lesson_run_get_output (run), ==, "1.13.1+gradlens\nFalse\n");
  lesson_run_free (run);
  lesson_free (lesson);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const struct { const char *dir, *prefix; } folders[] = {
    { "programs", "" }, { "../resources/lessons", "lessons/" },
    { "../resources/examples", "examples/" },
  };
  for (guint f = 0; f < G_N_ELEMENTS (folders); f++)
    {
      g_autofree char *dir = g_test_build_filename (G_TEST_DIST, folders[f].dir, NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      g_assert_nonnull (d);
      const char *entry;
      while ((entry = g_dir_read_name (d)))
        if (g_str_has_suffix (entry, ".py") && !g_str_equal (entry, "pytorch-run.py"))
          g_ptr_array_add (names, g_strdup_printf ("%s%.*s", folders[f].prefix,
                                                   (int) strlen (entry) - 3, entry));
    }
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_strconcat ("/python/programs/", names->pdata[i], NULL);
      g_test_add_data_func (path, names->pdata[i], test_program);
    }
  g_test_add_func ("/python/stepper/lines-and-variables", test_lines_and_variables);
  g_test_add_func ("/python/stepper/locals-while-paused", test_locals_while_paused);
  g_test_add_func ("/python/stepper/program-model", test_program_model);
  g_test_add_func ("/python/stepper/phases", test_phases);
  g_test_add_func ("/python/stepper/endless-loop-stops", test_endless_loop_stops);
  g_test_add_func ("/python/syntax-error", test_syntax_error);
  g_test_add_func ("/python/traceback-code", test_traceback_code);
  g_test_add_func ("/python/isolated", test_isolated);
  g_test_add_func ("/python/hooks-freed", test_hooks_freed);
  return g_test_run ();
}

/* test-stepper.c — stepping lessons like a debugger: PyTorch's order, the same
 * numbers as running straight through, clean resets, traces that match graphs. */
#include "lessons.h"
#include "program.h"
#include "stepper.h"
#include "json.h"
#include "module.h"
#include "sgd.h"

#include <string.h>

#define ALL_STOPS                                                                            \
  (STEPPER_STOP_LINE | STEPPER_STOP_MODULE | STEPPER_STOP_OP | STEPPER_STOP_BACKWARD_NODE    \
   | STEPPER_STOP_OPTIMIZER | STEPPER_STOP_PHASE)

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

static int
thread_count (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  int n = 0;
  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  return n;
}

/* "AccumulateGrad(b)" or "PowBackward0" for the event paused at. */
static char *
pause_label (Stepper *s)
{
  const StepperEvent *ev = stepper_get_event (s);
  g_assert_nonnull (ev);
  const char *prefix = ev->kind == EVENT_NODE_RECORDED ? "rec "
                       : ev->kind == EVENT_NODE_END ? "ran "
                       : ev->kind == EVENT_GRAD_ACCUMULATED ? "acc "
                       : "? ";
  g_assert_nonnull (ev->node);
  if (ev->node->op == OP_ACCUMULATE_GRAD)
    return g_strdup_printf ("%sAccumulateGrad(%s)", prefix, ev->node->variable->name);
  /* PowBackward0 says whose power it is: the leaf below it. */
  if (ev->node->op == OP_POW && ev->node->next[0].node
      && ev->node->next[0].node->op == OP_ACCUMULATE_GRAD)
    return g_strdup_printf ("%sPowBackward0(%s)", prefix, ev->node->next[0].node->variable->name);
  return g_strdup_printf ("%s%s", prefix, node_name (ev->node));
}

/* --- The autograd lesson, op by op ------------------------------------------------ */

static void
test_autograd_op_order (void)
{
  gint tensors_before = tensor_live_count ();
  gint nodes_before = node_live_count ();
  const char *expected[] = {
    /* Q = 3*a**3 - b**2, recorded in Python's evaluation order; a leaf's
     * AccumulateGrad appears when the first op uses it. */
    "rec AccumulateGrad(a)", "rec PowBackward0(a)", "rec MulBackward0",
    "rec AccumulateGrad(b)", "rec PowBackward0(b)", "rec SubBackward0",
    /* Q.backward(): the ready node with the highest sequence number first. */
    "ran SubBackward0", "ran PowBackward0(b)", "acc AccumulateGrad(b)",
    "ran MulBackward0", "ran PowBackward0(a)", "acc AccumulateGrad(a)",
    /* print(9*a**2 == a.grad), print(-2*b == b.grad) */
    "rec PowBackward0(a)", "rec MulBackward0", "rec MulBackward0",
    /* The second backward: SubBackward0 runs, the next node finds its saved
     * tensors freed. */
    "ran SubBackward0",
  };

  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_OP | STEPPER_STOP_BACKWARD_NODE,
                            NULL, NULL, NULL);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_READY);
  g_assert_null (stepper_get_event (s));
  LessonRun *run = stepper_get_run (s);
  guint64 last_index = 0;

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
      const StepperEvent *ev = stepper_get_event (s);
      g_autofree char *label = pause_label (s);
      g_assert_cmpstr (label, ==, expected[i]);
      g_assert_nonnull (ev->sentence);
      g_assert_cmpuint (strlen (ev->sentence), >, 10);
      g_assert_true (i == 0 || ev->index > last_index);
      last_index = ev->index;

      if (i < 6)
        {
          g_assert_cmpint (ev->line, ==, 5);
          g_assert_cmpint (ev->phase, ==, LESSON_PHASE_FORWARD);
          g_assert_cmpuint (stepper_get_nodes (s)->len, ==, i + 1);
        }
      else if (i < 12)
        {
          g_assert_cmpint (ev->line, ==, 9);
          g_assert_cmpint (ev->phase, ==, LESSON_PHASE_BACKWARD);
        }

      /* Paused in the middle of backward, the UI reads the live graph. */
      if (i == 8)
        {
          Tensor *a = lesson_run_get_tensor (run, "a");
          Tensor *b = lesson_run_get_tensor (run, "b");
          Node *sub = lesson_run_get_tensor (run, "Q")->grad_fn;
          Node *mul = sub->next[0].node, *pow_a = mul->next[0].node;
          g_assert_null (a->grad);
          g_assert_nonnull (b->grad);
          g_assert_cmpfloat (b->grad->data[0], ==, -12);
          g_assert_cmpfloat (b->grad->data[1], ==, -8);
          g_assert_cmpint (sub->state, ==, NODE_DONE);
          g_assert_cmpint (mul->state, ==, NODE_READY);
          g_assert_cmpint (pow_a->state, ==, NODE_WAITING);
          g_assert_cmpstr (ev->sentence, ==, "AccumulateGrad stored the gradient in b.grad");
          g_assert_cmpstr (lesson_run_get_output (run), ==,
                           "tensor([-12.,  65.], grad_fn=<SubBackward0>)\n");
        }
      if (i == 6)
        g_assert_cmpstr (ev->sentence, ==,
                         "SubBackward0 computed the gradient of its left operand and right "
                         "operand");
      if (i == 7)
        g_assert_cmpstr (ev->sentence, ==, "PowBackward0 computed the gradient of its input");
      if (i == 2)
        g_assert_cmpstr (ev->sentence, ==,
                         "MulBackward0 recorded: the grad_fn of a new tensor of shape [2]; "
                         "next_functions (PowBackward0, None)");
    }
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (s, NULL));
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_DONE);
  g_autofree char *expected_output = read_fixture ("autograd.out");
  g_assert_cmpstr (lesson_run_get_output (run), ==, expected_output);

  /* The nodes still held at the end: the six of Q. The checks' three went with
   * their temporaries, pruned when the forward pass began again after the second
   * backward (the `except` line). */
  GPtrArray *nodes = stepper_get_nodes (s);
  g_assert_cmpuint (nodes->len, ==, 6);
  g_assert_cmpstr (node_name (g_ptr_array_index (nodes, 5)), ==, "SubBackward0");

  /* Commands after the end do nothing. */
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_FINISHED);
  stepper_free (s);
  g_assert_cmpint (tensor_live_count (), ==, tensors_before);
  g_assert_cmpint (node_live_count (), ==, nodes_before);
}

static void
test_autograd_lines (void)
{
  const int expected[] = { 1, 3, 4, 5, 6, 8, 9, 10, 11, 14, 15, 18, 19, 20, 21 };
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_LINE, NULL, NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
      const StepperEvent *ev = stepper_get_event (s);
      g_assert_cmpint (ev->kind, ==, EVENT_LINE);
      g_assert_cmpint (stepper_get_line (s), ==, expected[i]);
      g_autofree char *text = g_strdup (lesson_run_get_source_line (stepper_get_run (s),
                                                                    expected[i]));
      g_autofree char *sentence = g_strdup_printf ("Line %d: %s", expected[i], g_strstrip (text));
      g_assert_cmpstr (ev->sentence, ==, sentence);
    }
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_FINISHED);
  g_autofree char *expected_output = read_fixture ("autograd.out");
  g_assert_cmpstr (lesson_run_get_output (stepper_get_run (s)), ==, expected_output);
  stepper_free (s);
}

/* Each run numbers its nodes from 0 (sequence_nr), as a fresh PyTorch process
 * would: Q = 3*a**3 - b**2's first node, a**3's PowBackward0, is 0 every time,
 * after a reset too. */
static void
test_sequence_per_run (void)
{
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_OP, NULL, NULL, NULL);

  for (int run = 0; run < 3; run++)
    {
      const StepperEvent *ev;

      /* a's AccumulateGrad first (made as a**3 records; it has no number). */
      do
        {
          g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
          ev = stepper_get_event (s);
        }
      while (ev->kind != EVENT_NODE_RECORDED || ev->node->op == OP_ACCUMULATE_GRAD);
      g_assert_cmpstr (node_name (ev->node), ==, "PowBackward0");
      g_assert_cmpuint (ev->node->seq, ==, 0);
      g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
      stepper_reset (s, NULL);
    }
  stepper_free (s);
}

/* Run to the end of the line, of the phase, of the lesson. */
static void
test_run_to (void)
{
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_OP, NULL, NULL, NULL);
  LessonRun *run = stepper_get_run (s);

  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_line (s), ==, 5);

  g_assert_cmpint (stepper_run_to_line_end_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_event (s)->kind, ==, EVENT_LINE);
  g_assert_cmpint (stepper_get_line (s), ==, 6);
  g_assert_cmpstr (lesson_run_get_output (run), ==, "");   /* print(Q) has not run */

  g_assert_cmpint (stepper_run_to_phase_end_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_event (s)->kind, ==, EVENT_PHASE);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_BACKWARD);
  /* The phase change shows the call that makes it, Q.backward(...). */
  g_assert_cmpint (stepper_get_line (s), ==, 9);
  g_assert_null (lesson_run_get_tensor (run, "a")->grad);

  /* Only op stops: the whole backward runs, the next pause is line 14's a**2. */
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_event (s)->kind, ==, EVENT_NODE_RECORDED);
  g_assert_cmpint (stepper_get_line (s), ==, 14);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_FORWARD);
  g_assert_nonnull (lesson_run_get_tensor (run, "a")->grad);

  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  g_autofree char *expected_output = read_fixture ("autograd.out");
  g_assert_cmpstr (lesson_run_get_output (run), ==, expected_output);
  g_assert_cmpstr (stepper_get_event (s)->sentence, ==, "The lesson finished");
  stepper_free (s);
}

/* Breakpoints pause at their line whatever the command: a run to the end, to
 * the end of a phase, op steps; a loop-free lesson passes each once. They are
 * set while the worker waits, survive a reset, and an empty set clears them. */
static void
test_breakpoints (void)
{
  const int lines[] = { 9, 14, 5 };
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_OP, NULL, NULL, NULL);
  const StepperEvent *ev;

  stepper_set_breakpoints (s, lines, G_N_ELEMENTS (lines));
  g_assert_cmpuint (stepper_get_n_breakpoints (s), ==, 3);
  g_assert_true (stepper_has_breakpoint (s, 14));
  g_assert_false (stepper_has_breakpoint (s, 6));

  for (int round = 0; round < 2; round++)
    {
      /* Run to the end: stops at 5, 9 and 14, in the order they run. */
      for (guint i = 0; i < 3; i++)
        {
          const int expected[] = { 5, 9, 14 };

          g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_PAUSED);
          ev = stepper_get_event (s);
          g_assert_cmpint (ev->kind, ==, EVENT_LINE);
          g_assert_true (ev->breakpoint);
          g_assert_cmpint (stepper_get_line (s), ==, expected[i]);
        }
      g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
      g_assert_false (stepper_get_event (s)->breakpoint);
      stepper_reset (s, NULL);
    }

  /* An op step pauses at the breakpoint's line before the op on it. */
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  ev = stepper_get_event (s);
  g_assert_cmpint (ev->kind, ==, EVENT_LINE);
  g_assert_true (ev->breakpoint);
  g_assert_cmpint (ev->line, ==, 5);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  ev = stepper_get_event (s);
  g_assert_cmpint (ev->kind, ==, EVENT_NODE_RECORDED);
  g_assert_false (ev->breakpoint);

  /* Set while paused: the run to the phase's end (Q.backward on line 9) stops
   * at 8 first... */
  stepper_set_breakpoints (s, (const int[]) { 8 }, 1);
  g_assert_cmpint (stepper_run_to_phase_end_sync (s), ==, STEPPER_PAUSED);
  ev = stepper_get_event (s);
  g_assert_true (ev->breakpoint);
  g_assert_cmpint (ev->line, ==, 8);
  g_assert_cmpint (ev->phase, ==, LESSON_PHASE_FORWARD);
  /* ...and none left: straight to the end. */
  stepper_set_breakpoints (s, NULL, 0);
  g_assert_cmpuint (stepper_get_n_breakpoints (s), ==, 0);
  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  g_autofree char *expected_output = read_fixture ("autograd.out");
  g_assert_cmpstr (lesson_run_get_output (stepper_get_run (s)), ==, expected_output);
  stepper_free (s);
}

static void
collect_sentence (const Event *event, LessonRun *run, guint64 index, gpointer user_data)
{
  if (event->kind == EVENT_BACKWARD_END || event->kind == EVENT_GRAPH_FREED)
    {
      g_ptr_array_add (user_data, stepper_describe_event (event, run));
      if (event->text != NULL)
        g_ptr_array_add (user_data, g_strdup (node_name (event->node)));
    }
}

/* The second Q.backward() fails: the event says so, at the node it failed at
 * (a PowBackward0, the first whose saved tensors the first backward freed), with
 * PyTorch's words; the graph is not "freed" a second time. */
static void
test_backward_failure (void)
{
  g_autoptr (GPtrArray) sentences = g_ptr_array_new_with_free_func (g_free);
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_PHASE, NULL, NULL, NULL);

  stepper_set_event_hook (s, collect_sentence, sentences);
  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (s, NULL));
  g_assert_cmpuint (sentences->len, ==, 4);
  g_assert_cmpstr (sentences->pdata[0], ==,
                   "The graph's saved tensors were freed (no retain_graph=True): "
                   "it cannot run backward again");
  g_assert_cmpstr (sentences->pdata[1], ==, "Backward finished");
  g_assert_cmpstr (sentences->pdata[2], ==,
                   "Backward failed at PowBackward0: Trying to backward through the graph a "
                   "second time (or directly access saved tensors after they have already been "
                   "freed). Saved intermediate values of the graph are freed when you call "
                   ".backward() or autograd.grad(). Specify retain_graph=True if you need to "
                   "backward through the graph a second time or if you need to access saved "
                   "tensors after calling backward.");
  g_assert_cmpstr (sentences->pdata[3], ==, "PowBackward0");
  stepper_free (s);
}

/* A failing lesson finishes with its error. */
/* A failing program finishes with its error: Python's traceback. */
static void
test_failure (void)
{
  Lesson *lesson = program_lesson_new ("failing.py", "import torch\n"
                                                     "x = torch.ones(2)\n"
                                                     "y = x @ torch.ones(3)\n");
  Stepper *s = stepper_new (lesson, NULL, STEPPER_STOP_PHASE, NULL, NULL, NULL);
  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  g_autoptr (GError) error = NULL;
  g_assert_false (stepper_get_result (s, &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_PROGRAM);
  g_assert_nonnull (strstr (error->message, "line 3"));
  g_assert_true (g_str_has_prefix (stepper_get_event (s)->sentence, "The lesson stopped: "));
  stepper_free (s);
  lesson_free (lesson);
}

/* --- resnet18: stepping changes nothing --------------------------------------------- */

/* The graph's structure without ids: each node by its BFS index. */
static char *
graph_signature (Node *root)
{
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (root);
  g_autoptr (GHashTable) index = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < nodes->len; i++)
    g_hash_table_insert (index, g_ptr_array_index (nodes, i), GUINT_TO_POINTER (i));
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      g_autofree char *shape = shape_to_string (n->out_ndim, n->out_shape);
      g_string_append_printf (s, "%u %s [%s] %s %s ->", i, node_name (n), n->module, shape,
                              n->variable ? n->variable->name : "");
      for (int j = 0; j < n->n_next; j++)
        if (n->next[j].node)
          g_string_append_printf (s, " %u",
                                  GPOINTER_TO_UINT (g_hash_table_lookup (index, n->next[j].node)));
        else
          g_string_append (s, " None");
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

static void
assert_same_tensor (const Tensor *x, const Tensor *y, const char *what)
{
  if (x == NULL || y == NULL)
    {
      g_assert_true (x == y);
      return;
    }
  g_assert_true (tensor_same_shape (x, y));
  if (memcmp (x->data, y->data, x->numel * sizeof (float)) != 0)
    g_error ("%s differs", what);
}

static void
assert_same_models (Module *m1, Module *m2)
{
  g_autoptr (GPtrArray) t1 = module_named_tensors (m1);
  g_autoptr (GPtrArray) t2 = module_named_tensors (m2);
  g_assert_cmpuint (t1->len, ==, t2->len);
  g_assert_cmpuint (t1->len, >, 100);
  for (guint i = 0; i < t1->len; i++)
    {
      const ModuleTensor *a = g_ptr_array_index (t1, i), *b = g_ptr_array_index (t2, i);
      g_assert_cmpstr (a->name, ==, b->name);
      assert_same_tensor (a->tensor, b->tensor, a->name);
      assert_same_tensor (a->tensor->grad, b->tensor->grad, a->name);
    }
}

static void
test_resnet_stepped_equals_straight (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.steps = 2;
  params.zero_grad = false;   /* .grad sums both passes: the order of everything counts */

  /* Straight through, on this thread, no observer. */
  g_autoptr (GError) error = NULL;
  LessonRun *plain = lesson_run_new (lesson_find ("resnet18-step", NULL), &params);
  g_assert_true (lesson_run_execute (plain, &error));
  g_assert_no_error (error);

  /* Paused at every event the stepper knows. */
  Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), &params, ALL_STOPS, NULL, NULL, NULL);
  int counts[EVENT_COUNT] = { 0 };
  int pauses = 0;
  LessonPhase phases[16];
  int n_phases = 0;
  while (stepper_step_sync (s) == STEPPER_PAUSED)
    {
      const StepperEvent *ev = stepper_get_event (s);
      counts[ev->kind]++;
      pauses++;
      if (ev->kind == EVENT_PHASE && n_phases < 16)
        phases[n_phases++] = ev->phase;
      if (ev->kind == EVENT_NODE_RECORDED)
        g_assert_cmpuint (stepper_get_nodes (s)->len, ==, counts[EVENT_NODE_RECORDED]);
    }
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (s, NULL));
  g_test_message ("%d pauses", pauses);

  /* Step 1 records all 134 nodes; step 2 the 72 grad_fns (the leaves' AccumulateGrad
   * nodes live on in step 1's graph, still held by `loss`, as in PyTorch). */
  g_assert_cmpint (counts[EVENT_NODE_RECORDED], ==, 134 + 72);
  g_assert_cmpint (counts[EVENT_GRAD_ACCUMULATED], ==, 2 * 62);
  g_assert_cmpint (counts[EVENT_NODE_END], ==, 2 * 72);
  g_assert_cmpint (counts[EVENT_PARAM_UPDATED], ==, 2 * 62);
  g_assert_cmpint (counts[EVENT_GRADS_ZEROED], ==, 0);
  g_assert_cmpint (counts[EVENT_MODULE_ENTER], ==, counts[EVENT_MODULE_LEAVE]);
  g_assert_cmpint (counts[EVENT_MODULE_ENTER], >=, 2 * 60);
  /* The program opens in the forward pass; `loss.backward()` and `optim.step()`
   * begin theirs with their lines, and the loop's `for` line the forward pass
   * (once more at the end, where Python checks the loop is over). */
  const LessonPhase expected_phases[] = {
    LESSON_PHASE_FORWARD, LESSON_PHASE_BACKWARD, LESSON_PHASE_OPTIMIZER,
    LESSON_PHASE_FORWARD, LESSON_PHASE_BACKWARD, LESSON_PHASE_OPTIMIZER,
    LESSON_PHASE_FORWARD, LESSON_PHASE_DONE,
  };
  g_assert_cmpint (n_phases, ==, G_N_ELEMENTS (expected_phases));
  for (int i = 0; i < n_phases; i++)
    g_assert_cmpint (phases[i], ==, expected_phases[i]);

  LessonRun *stepped = stepper_get_run (s);
  GArray *l1 = lesson_run_get_losses (plain), *l2 = lesson_run_get_losses (stepped);
  g_assert_cmpuint (l1->len, ==, 2);
  g_assert_cmpuint (l2->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_true (g_array_index (l1, double, i) == g_array_index (l2, double, i));
  g_assert_cmpstr (lesson_run_get_output (plain), ==, lesson_run_get_output (stepped));
  assert_same_models (lesson_run_get_model (plain), lesson_run_get_model (stepped));
  g_autofree char *sig1 = graph_signature (lesson_run_get_graph_root (plain));
  g_autofree char *sig2 = graph_signature (lesson_run_get_graph_root (stepped));
  g_assert_cmpstr (sig1, ==, sig2);
  g_assert_cmpuint (strlen (sig1), >, 134 * 10);

  Sgd *o1 = lesson_run_get_optimizer (plain), *o2 = lesson_run_get_optimizer (stepped);
  for (guint i = 0; i < o1->params->len; i++)
    {
      const SgdParam *p1 = &g_array_index (o1->params, SgdParam, i);
      const SgdParam *p2 = &g_array_index (o2->params, SgdParam, i);
      assert_same_tensor (p1->momentum_buffer, p2->momentum_buffer, p1->name);
    }

  stepper_free (s);
  lesson_run_free (plain);
  lesson_params_clear (&params);
}

/* Each forward pass lets go of the graphs nothing holds any more. */
static void
test_nodes_pruned (void)
{
  LessonParams params;
  lesson_params_init (&params);
  params.steps = 3;
  Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), &params, STEPPER_STOP_PHASE, NULL, NULL, NULL);
  guint forward_lens[8];
  int n_forward = 0;
  while (stepper_step_sync (s) == STEPPER_PAUSED)
    if (stepper_get_phase (s) == LESSON_PHASE_FORWARD && n_forward < 8)
      forward_lens[n_forward++] = stepper_get_nodes (s)->len;
  /* The forward pass begins at the start, after each zero_grad and at each `for`
   * line after an optimizer step (the last one where the loop ends): 7 times in 3
   * steps. Step 1's grad_fns stay while `loss` holds them (until step 2 rebinds
   * it), and are gone at the next forward pass; the AccumulateGrads are shared:
   * never more than one step's 134 nodes at a forward pass. */
  for (int i = 0; i < n_forward; i++)
    g_test_message ("forward %d: %u nodes", i, forward_lens[i]);
  g_assert_cmpint (n_forward, ==, 7);
  g_assert_cmpuint (forward_lens[0], ==, 0);
  g_assert_cmpuint (forward_lens[1], ==, 0);
  for (int i = 2; i < n_forward; i++)
    g_assert_cmpuint (forward_lens[i], ==, 134);
  GPtrArray *nodes = stepper_get_nodes (s);
  g_assert_cmpuint (nodes->len, ==, 134);
  /* What is left is the last step's graph (the forward pass of the loop's last
   * `for` line pruned the one before): everything the last loss reaches. */
  Node *root = lesson_run_get_graph_root (stepper_get_run (s));
  g_autoptr (GPtrArray) graph = autograd_collect_nodes (root);
  for (guint i = 0; i < graph->len; i++)
    g_assert_true (g_ptr_array_find (nodes, g_ptr_array_index (graph, i), NULL));
  stepper_free (s);
  lesson_params_clear (&params);
}

/* What a student reads, for resnet18's modules, nodes and parameters. */
static void
test_resnet_sentences (void)
{
  Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), NULL, STEPPER_STOP_MODULE, NULL, NULL, NULL);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpstr (stepper_get_event (s)->sentence, ==, "Entering model (ResNet)");
  g_assert_cmpstr (stepper_get_event (s)->module, ==, "");
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpstr (stepper_get_event (s)->sentence, ==, "Entering conv1 (Conv2d)");
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpstr (stepper_get_event (s)->sentence, ==, "Leaving conv1 (Conv2d)");

  /* Into backward, to layer1.0.conv1's convolution. */
  g_assert_cmpint (stepper_run_to_phase_sync (s, LESSON_PHASE_BACKWARD), ==, STEPPER_PAUSED);
  stepper_set_stops (s, STEPPER_STOP_BACKWARD_NODE);
  bool conv_seen = false, acc_seen = false;
  while (!(conv_seen && acc_seen) && stepper_step_sync (s) == STEPPER_PAUSED)
    {
      const StepperEvent *ev = stepper_get_event (s);
      g_assert_cmpint (ev->phase, ==, LESSON_PHASE_BACKWARD);
      if (ev->kind == EVENT_NODE_END && ev->node->op == OP_CONV2D
          && g_str_equal (ev->module, "layer1.0.conv1"))
        {
          g_assert_cmpstr (ev->sentence, ==, "ConvolutionBackward0 for layer1.0.conv1 computed "
                                             "the gradient of its input and weight");
          conv_seen = true;
        }
      if (ev->kind == EVENT_GRAD_ACCUMULATED
          && g_str_equal (ev->tensor->name, "layer1.0.conv1.weight"))
        {
          g_assert_true (conv_seen);
          g_assert_cmpstr (ev->sentence, ==,
                           "AccumulateGrad stored the gradient in layer1.0.conv1.weight.grad");
          acc_seen = true;
        }
    }
  g_assert_true (conv_seen && acc_seen);

  stepper_set_stops (s, STEPPER_STOP_OPTIMIZER);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_OPTIMIZER);
  g_assert_cmpstr (stepper_get_event (s)->sentence, ==,
                   "SGD updated conv1.weight: conv1.weight -= lr · its momentum buffer");
  stepper_free (s);
}

/* --- Resets -------------------------------------------------------------------------- */

typedef struct
{
  gint tensors, nodes, threads;
} Baseline;

static void
baseline_take (Baseline *b)
{
  b->tensors = tensor_live_count ();
  b->nodes = node_live_count ();
  b->threads = thread_count ();
}

static void
baseline_check (const Baseline *b)
{
  g_assert_cmpint (tensor_live_count (), ==, b->tensors);
  g_assert_cmpint (node_live_count (), ==, b->nodes);
  /* A joined thread leaves /proc/self/task a moment after g_thread_join returns
   * (the kernel wakes the joiner before it releases the task): wait up to 2 s. */
  for (int i = 0; i < 200 && thread_count () != b->threads; i++)
    g_usleep (10 * 1000);
  g_assert_cmpint (thread_count (), ==, b->threads);
}

static void
test_reset_in_forward (void)
{
  Baseline base;
  baseline_take (&base);

  Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), NULL, STEPPER_STOP_OP, NULL, NULL, NULL);
  for (int i = 0; i < 40; i++)
    g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_FORWARD);
  g_assert_cmpuint (stepper_get_nodes (s)->len, ==, 40);
  g_assert_cmpint (thread_count (), ==, base.threads + 1);
  g_assert_cmpint (tensor_live_count (), >, base.tensors + 100);
  stepper_free (s);
  baseline_check (&base);
}

static void
test_reset_in_backward (void)
{
  Baseline base;
  baseline_take (&base);

  /* Straight through, for the loss to compare with after the reset. */
  LessonRun *plain = lesson_run_new (lesson_find ("resnet18-step", NULL), NULL);
  g_assert_true (lesson_run_execute (plain, NULL));
  double loss = g_array_index (lesson_run_get_losses (plain), double, 0);
  lesson_run_free (plain);

  Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), NULL, STEPPER_STOP_BACKWARD_NODE, NULL, NULL,
                            NULL);
  for (int i = 0; i < 30; i++)
    g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_phase (s), ==, LESSON_PHASE_BACKWARD);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_PAUSED);

  stepper_reset (s, NULL);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_READY);
  g_assert_null (stepper_get_event (s));
  g_assert_cmpuint (stepper_get_nodes (s)->len, ==, 0);
  baseline_check (&base);

  /* The fresh run works, and gives the same loss. */
  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (s, NULL));
  g_assert_true (g_array_index (lesson_run_get_losses (stepper_get_run (s)), double, 0) == loss);
  stepper_free (s);
  baseline_check (&base);
}

/* Freed while running (not paused): cancelled at its next event. */
static void
test_free_while_running (void)
{
  Baseline base;
  baseline_take (&base);
  for (int i = 0; i < 3; i++)
    {
      Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), NULL, 0, NULL, NULL, NULL);
      stepper_run_to_end (s);
      g_usleep (i * 20000);
      stepper_free (s);
      baseline_check (&base);
    }
}

/* --- dynamic: the trace and the graph agree ------------------------------------------ */

static void
collect_json (const Event *event, LessonRun *run, guint64 index, gpointer data)
{
  g_ptr_array_add (data, stepper_event_to_json (event, run, index));
}

/* How many MulBackward0 `y = x * 2; while y.data.norm() < 1000: y = y * 2` makes. */
static int
doublings (const Tensor *x)
{
  g_autoptr (Tensor) y = tensor_mul_scalar ((Tensor *) x, 2);
  int n = 1;
  while ((float) tensor_norm2 (y) < 1000 && n < 129)
    {
      Tensor *z = tensor_mul_scalar (y, 2);
      tensor_unref (y);
      y = z;
      n++;
    }
  return n;
}

static int
dynamic_graph_size (guint64 seed)
{
  LessonParams params;
  lesson_params_init (&params);
  params.seed = seed;
  Stepper *s = stepper_new (lesson_find ("dynamic", NULL), &params, 0, NULL, NULL, NULL);
  g_autoptr (GPtrArray) trace = g_ptr_array_new_with_free_func (g_free);
  stepper_set_event_hook (s, collect_json, trace);
  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (s, NULL));
  LessonRun *run = stepper_get_run (s);

  /* Every node_recorded of the trace is in the graph, and nothing else. */
  g_autoptr (GHashTable) traced = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) json_value_free);
  int loop_body = 0;
  for (guint i = 0; i < trace->len; i++)
    {
      g_autoptr (GError) error = NULL;
      JsonValue *v = json_parse (g_ptr_array_index (trace, i), -1, NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_add (values, v);
      g_assert_cmpint (json_value_member (v, "i")->number.integer, ==, i);
      const char *kind = json_value_member (v, "kind")->string.str;
      if (g_str_equal (kind, "node_recorded"))
        g_hash_table_add (traced, &((JsonValue *) json_value_member (v, "node"))->number.integer);
      if (g_str_equal (kind, "line") && json_value_member (v, "line")->number.integer == 8)
        loop_body++;
    }
  g_autoptr (GPtrArray) graph = autograd_collect_nodes (lesson_run_get_graph_root (run));
  g_assert_cmpuint (graph->len, ==, g_hash_table_size (traced));
  for (guint i = 0; i < graph->len; i++)
    {
      Node *n = g_ptr_array_index (graph, i);
      gint64 id = (gint64) n->id;
      g_assert_true (g_hash_table_contains (traced, &id));
      g_assert_cmpstr (node_name (n), ==, i + 1 < graph->len ? "MulBackward0" : "AccumulateGrad");
    }
  int n = doublings (lesson_run_get_tensor (run, "x"));
  g_assert_cmpint (graph->len, ==, n + 1);
  g_assert_cmpint (loop_body, ==, n - 1);
  /* x.grad = v · 2ⁿ */
  Tensor *x = lesson_run_get_tensor (run, "x");
  g_assert_cmpfloat (x->grad->data[1], ==, (float) (1u << MIN (n, 31)));

  stepper_free (s);
  lesson_params_clear (&params);
  return graph->len;
}

static void
test_dynamic_seeds (void)
{
  g_autoptr (GHashTable) sizes = g_hash_table_new (NULL, NULL);
  for (guint64 seed = 0; seed < 8; seed++)
    g_hash_table_add (sizes, GINT_TO_POINTER (dynamic_graph_size (seed)));
  g_test_message ("%u different graph sizes over 8 seeds", g_hash_table_size (sizes));
  g_assert_cmpuint (g_hash_table_size (sizes), >=, 2);
}

/* --- Notifications ----------------------------------------------------------------- */

static GThread *main_thread;

static void
on_notify (Stepper *s, gpointer data)
{
  int *count = data;
  g_assert_true (g_thread_self () == main_thread);
  (*count)++;
}

/* The global default context, with no main loop running: the notification still
 * waits for this thread to iterate it, never runs on the worker. */
static void
test_notify_default_context (void)
{
  int count = 0;
  main_thread = g_thread_self ();
  /* No context: no notifications at all, even for a pause (the worker schedules
   * one just after the pause is seen here: given 10 ms to do it wrongly). */
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_LINE, NULL, on_notify, &count);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_usleep (10000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (count, ==, 0);
  stepper_free (s);
  s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_LINE, g_main_context_default (),
                   on_notify, &count);
  g_assert_cmpint (stepper_step_sync (s), ==, STEPPER_PAUSED);
  g_usleep (10000);
  g_assert_cmpint (count, ==, 0);
  while (count < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (count, ==, 1);
  stepper_free (s);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (count, ==, 1);
}

static void
test_notify (void)
{
  GMainContext *context = g_main_context_new ();
  int count = 0;
  main_thread = g_thread_self ();
  Stepper *s = stepper_new (lesson_find ("autograd", NULL), NULL, STEPPER_STOP_LINE, context, on_notify, &count);

  stepper_step (s);
  while (count < 1)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_PAUSED);
  g_assert_cmpint (stepper_get_line (s), ==, 1);

  stepper_step (s);
  while (count < 2)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpint (stepper_get_line (s), ==, 3);

  stepper_run_to_end (s);
  while (count < 3)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpint (stepper_get_status (s), ==, STEPPER_FINISHED);

  /* Freed with a notification pending: it never arrives. */
  stepper_reset (s, NULL);
  stepper_step (s);
  g_assert_cmpint (stepper_wait (s), ==, STEPPER_PAUSED);
  stepper_free (s);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_cmpint (count, ==, 3);
  g_main_context_unref (context);
}

/* --- The same run, paused or not ----------------------------------------------------------- */

/* Stopping at every event changes nothing the program computes: the losses of the
 * straight run and of the stepper's are the same floats. (What the stops cost is a
 * benchmark's business: gradlens-bench's "lesson" case against its "b1-64".) */
static void
test_stepped_same_losses (void)
{
  LessonRun *run = lesson_run_new (lesson_find ("resnet18-step", NULL), NULL);
  g_assert_true (lesson_run_execute (run, NULL));
  GArray *plain = lesson_run_get_losses (run);

  Stepper *s = stepper_new (lesson_find ("resnet18-step", NULL), NULL, ALL_STOPS, NULL, NULL, NULL);
  g_assert_cmpint (stepper_run_to_end_sync (s), ==, STEPPER_FINISHED);
  GArray *stepped = lesson_run_get_losses (stepper_get_run (s));

  g_assert_cmpuint (plain->len, >, 0);
  g_assert_cmpuint (stepped->len, ==, plain->len);
  for (guint i = 0; i < plain->len; i++)
    g_assert_cmpfloat (g_array_index (stepped, double, i), ==, g_array_index (plain, double, i));
  stepper_free (s);
  lesson_run_free (run);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* Start OpenBLAS's threads before any thread count is taken. */
  {
    LessonRun *warm = lesson_run_new (lesson_find ("resnet18-step", NULL), NULL);
    g_assert_true (lesson_run_execute (warm, NULL));
    lesson_run_free (warm);
  }

  g_test_add_func ("/engine/stepper/autograd-op-order", test_autograd_op_order);
  g_test_add_func ("/engine/stepper/autograd-lines", test_autograd_lines);
  g_test_add_func ("/engine/stepper/run-to", test_run_to);
  g_test_add_func ("/engine/stepper/sequence-per-run", test_sequence_per_run);
  g_test_add_func ("/engine/stepper/failure", test_failure);
  g_test_add_func ("/engine/stepper/breakpoints", test_breakpoints);
  g_test_add_func ("/engine/stepper/backward-failure", test_backward_failure);
  g_test_add_func ("/engine/stepper/resnet-stepped-equals-straight",
                   test_resnet_stepped_equals_straight);
  g_test_add_func ("/engine/stepper/nodes-pruned", test_nodes_pruned);
  g_test_add_func ("/engine/stepper/resnet-sentences", test_resnet_sentences);
  g_test_add_func ("/engine/stepper/reset-in-forward", test_reset_in_forward);
  g_test_add_func ("/engine/stepper/reset-in-backward", test_reset_in_backward);
  g_test_add_func ("/engine/stepper/free-while-running", test_free_while_running);
  g_test_add_func ("/engine/stepper/dynamic-seeds", test_dynamic_seeds);
  g_test_add_func ("/engine/stepper/notify", test_notify);
  g_test_add_func ("/engine/stepper/notify-default-context", test_notify_default_context);
  g_test_add_func ("/engine/stepper/same-losses", test_stepped_same_losses);

  return g_test_run ();
}

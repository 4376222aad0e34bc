/* test-stress.c: the real window under an impatient student's random clicks
 *
 * A few thousand actions drawn at random (seeded) from what a student can do:
 * every win.* step, run and reset command (activated even when disabled: that
 * must do nothing), lesson switches among the six lessons, new settings (seed,
 * steps, momentum, lr up to an absurd 100), freezing and unfreezing modules in
 * the module tree (only while the tree lets the student), clicks on graph nodes
 * and variables, graph searches. Between actions the main loop runs a random,
 * bounded amount: sometimes until the window has caught up, sometimes a few
 * milliseconds, sometimes not at all, so commands also land while the lesson's
 * worker thread runs.
 *
 * After every action:
 *   - responsive: an idle posted before the action (at the priority of input
 *     events) is dispatched within GRADLENS_STRESS_LATENCY_MS (2000 ms), even
 *     while resnet18 runs on the worker;
 *   - a disabled action changed nothing; an enabled command started the worker;
 *   - a paused stepper is really waiting at the event it published; the module
 *     tree cannot be edited while the worker runs the model it shows;
 *   - whenever the window has caught up (each ::synced, and when the loop goes
 *     quiet): the code view's line and phase are the stepper's, the graph is the
 *     stepper's current graph (the newest nodes of its list and what they reach),
 *     laid out whole in the graph view, the loss plot, variables and module tree
 *     are the run's, and the buttons' sensitivity follows the stepper's state.
 * GLib warnings and criticals are fatal. At the end the window is reset, a
 * command is left running, the application quits, and the tensors and nodes
 * alive return to what they were before the application started.
 *
 * Resnet lessons run at size 64 with at most 3 steps (6 at lr = 100, to see it
 * blow up). Environment:
 *   GRADLENS_STRESS_SEED=N        replay a run (the seed is printed)
 *   GRADLENS_STRESS_ACTIONS=N     how many actions (3000)
 *   GRADLENS_STRESS_SECONDS=S     wall-time cap for the actions (150); the
 *                                 test takes about that plus 10-20 s
 *   GRADLENS_STRESS_LATENCY_MS=M  responsiveness bound (2000; sanitizer builds need more)
 *   GRADLENS_STRESS_SETTLE_S=S    how long the window may take to catch up (60)
 * Threads make the interleavings differ from run to run; the seed replays the
 * student's choices.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#define GIVE_UP_SECONDS 1800
#define PROGRESS_US (10 * G_TIME_SPAN_SECOND)   /* a progress line this often */
#define APP_DRIVER_OWN_LOG_WRITER
#include "app-driver.h"
#include "code-view.h"
#include "graph-layout.h"
#include "graph-model.h"
#include "lessons.h"
#include "graph-view.h"
#include "loss-plot.h"
#include "module-tree.h"
#include "settings-popover.h"
#include "settings.h"
#include "variable-list.h"

#ifdef __SANITIZE_THREAD__
/* GLib, GTK, cairo and fontconfig are not instrumented: ThreadSanitizer sees
 * none of their locks and atomics, only the libc calls they make (memcpy,
 * free, ...), on objects they hand between threads themselves. Check what
 * is instrumented, GradLens, and leave those calls out (tests/tsan.supp). */
const char *__tsan_default_options (void);

const char *
__tsan_default_options (void)
{
  return "ignore_noninstrumented_modules=1";
}
#endif

/* --- Configuration and tallies -------------------------------------------------- */

typedef struct
{
  const char *name;
  guint       weight;
  void      (*run) (GradlensWindow *window);
  guint       n;             /* times drawn */
  guint       n_enabled;     /* win.*: enabled when activated */
  guint       n_disabled;
  guint       n_skipped;     /* the student could not have done it then */
  gint64      max_latency;   /* µs: until the idle posted before it ran */
  gint64      max_blocking;  /* µs: in the action's own call */
} Action;

static struct
{
  GRand    *rand;
  guint32   seed;
  guint     max_actions;
  gint64    wall_us;
  gint64    latency_us;
  gint64    settle_us;

  guint     n_actions;
  gint64    start;
  gint64    max_latency;
  const char *max_latency_action;
  double    latency_sum;
  guint     n_synced_checks;
  guint     n_quiet_checks;
  guint     n_noop_checks;
  guint     n_running_actions;   /* actions that found the worker running */
  guint     n_lessons[8];
  guint     n_anomalies;
  gint64    time_actions, time_idle, time_settle, time_pause;   /* µs spent in each */

  /* The window's last ::synced: which stepper, in what state. */
  Stepper      *synced_stepper;
  StepperStatus synced_status;
  guint64       synced_events;
  gpointer      synced_model;    /* the run's model then (Module *), or NULL */
} st;

static guint64
env_number (const char *name,
            guint64     fallback)
{
  const char *value = g_getenv (name);
  guint64 n;

  if (value == NULL || *value == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT32, &n, NULL))
    g_error ("%s=%s: not a number", name, value);
  return n;
}

static guint
rand_below (guint n)
{
  return (guint) g_rand_int_range (st.rand, 0, (gint32) n);
}

static gboolean
chance (double p)
{
  return g_rand_double (st.rand) < p;
}

/* --- What the window must show ---------------------------------------------------- */

static const char *
phase_css (LessonPhase phase)
{
  static const char *const names[] = {
    [LESSON_PHASE_FORWARD] = "forward",
    [LESSON_PHASE_BACKWARD] = "backward",
    [LESSON_PHASE_OPTIMIZER] = "optimizer",
    [LESSON_PHASE_ZERO_GRAD] = "zero-grad",
    [LESSON_PHASE_DONE] = "done",
  };

  g_assert_cmpint (phase, >=, 0);
  g_assert_cmpint (phase, <, LESSON_PHASE_COUNT);
  return names[phase];
}

/* The graph shown is the stepper's current graph: the newest nodes of its list
 * (this step's) and everything they reach through next_functions (the
 * AccumulateGrads an earlier step made), in the order they were made; and the graph view
 * lays out exactly those once its layout has caught up. */
static void
check_graph (GradlensWindow *window,
             Stepper        *stepper)
{
  GPtrArray *shown = gradlens_window_get_graph_nodes (window);
  GPtrArray *all = stepper_get_nodes (stepper);
  g_autoptr (GHashTable) in_all = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) in_shown = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) reached = g_hash_table_new (NULL, NULL);
  g_autoptr (GPtrArray) queue = g_ptr_array_new ();
  GraphView *view = GRAPH_VIEW (panel (window, "graph"));
  guint suffix;

  g_assert_nonnull (all);
  for (guint i = 0; i < all->len; i++)
    {
      /* In recording order: an op's new AccumulateGrads before the op. */
      g_assert_true (g_hash_table_add (in_all, g_ptr_array_index (all, i)));
    }
  for (guint i = 0; i < shown->len; i++)
    {
      Node *node = g_ptr_array_index (shown, i);
      g_assert_true (g_hash_table_contains (in_all, node));
      g_assert_true (g_hash_table_add (in_shown, node));
      if (i > 0)
        g_assert_cmpuint (node->id, >, ((Node *) g_ptr_array_index (shown, i - 1))->id);
    }

  /* The list's newest nodes that are shown, and their closure. */
  suffix = all->len;
  while (suffix > 0 && g_hash_table_contains (in_shown, g_ptr_array_index (all, suffix - 1)))
    suffix--;
  for (guint i = suffix; i < all->len; i++)
    if (g_hash_table_add (reached, g_ptr_array_index (all, i)))
      g_ptr_array_add (queue, g_ptr_array_index (all, i));
  for (guint i = 0; i < queue->len; i++)
    {
      Node *node = g_ptr_array_index (queue, i);
      for (int e = 0; e < node->n_next; e++)
        if (node->next[e].node != NULL && g_hash_table_add (reached, node->next[e].node))
          g_ptr_array_add (queue, node->next[e].node);
    }
  if (g_hash_table_size (reached) != shown->len)
    {
      GString *s = g_string_new (NULL);
      const StepperEvent *event = stepper_get_event (stepper);

      g_string_append_printf (s, "%s, status %d, event %s: the stepper's nodes",
                              gradlens_window_get_lesson (window)->name,
                              stepper_get_status (stepper),
                              event != NULL ? event->sentence : "none");
      for (guint i = 0; i < all->len; i++)
        g_string_append_printf (s, " %s%" G_GUINT64_FORMAT,
                                g_hash_table_contains (in_shown, g_ptr_array_index (all, i)) ? "*" : "",
                                ((Node *) g_ptr_array_index (all, i))->id);
      g_test_message ("%s (* shown)", s->str);
      g_string_free (s, TRUE);
    }
  g_assert_cmpuint (g_hash_table_size (reached), ==, shown->len);
  for (guint i = 0; i < shown->len; i++)
    g_assert_true (g_hash_table_contains (reached, g_ptr_array_index (shown, i)));
  /* One program, one forward pass: the whole list. */
  if (!gradlens_window_get_lesson (window)->uses_resnet)
    g_assert_cmpuint (shown->len, ==, all->len);

  /* The graph view, once its layout (off the UI thread) has caught up. */
  if (!graph_view_is_layout_pending (view))
    {
      const GraphLayout *layout = graph_view_get_layout (view);

      if (shown->len == 0)
        g_assert_null (layout);
      else
        {
          guint n_functions = 0;

          g_assert_nonnull (layout);
          for (int i = 0; i < layout->model->n_nodes; i++)
            if (layout->model->nodes[i].kind != GRAPH_NODE_NONE)
              n_functions++;
          g_assert_cmpuint (n_functions, ==, shown->len);
          for (guint i = 0; i < shown->len; i++)
            g_assert_cmpint (graph_model_find_node (layout->model, g_ptr_array_index (shown, i)), >=, 0);
        }
    }
}

/* The buttons follow the stepper (gradlens-window-actions.c's rules). */
static void
check_actions (GradlensWindow *window,
               StepperStatus   status,
               LessonPhase     phase)
{
  gboolean playing = gradlens_window_is_playing (window);
  gboolean resnet = gradlens_window_get_lesson (window)->uses_resnet;
  gboolean can_step = (status == STEPPER_READY || status == STEPPER_PAUSED) && !playing;

  g_assert_true (action_enabled (window, "reset"));
  g_assert_cmpint (action_enabled (window, "step-line"), ==, can_step);
  g_assert_cmpint (action_enabled (window, "run-to-phase-end"), ==, can_step);
  g_assert_cmpint (action_enabled (window, "run-to-end"), ==, can_step);
  g_assert_cmpint (action_enabled (window, "step-op"), ==, can_step && phase != LESSON_PHASE_BACKWARD);
  g_assert_cmpint (action_enabled (window, "step-backward-node"), ==,
                   can_step && status == STEPPER_PAUSED && phase == LESSON_PHASE_BACKWARD);
  g_assert_cmpint (action_enabled (window, "optimizer-step"), ==, can_step && resnet);
  g_assert_cmpint (action_enabled (window, "play-pause"), ==, status != STEPPER_FINISHED);
  if (!can_step)
    g_assert_false (action_enabled (window, "zero-grad"));
}

/* Everything the window shows, against the stepper. Only when the window has
 * caught up: the stepper is not running and the window synced at its state. */
static void
check_consistent (GradlensWindow *window)
{
  Stepper *stepper = gradlens_window_get_stepper (window);
  const Lesson *lesson = gradlens_window_get_lesson (window);
  StepperStatus status = stepper_get_status (stepper);
  LessonRun *run = stepper_get_run (stepper);
  const StepperEvent *event = stepper_get_event (stepper);
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
  GradlensVariableList *vars = GRADLENS_VARIABLE_LIST (panel (window, "variable-list"));
  const char *shown_phase = gradlens_code_view_get_phase (code);
  LessonPhase phase = stepper_get_phase (stepper);
  GPtrArray *variables = lesson_run_get_variables (run);
  GArray *losses = lesson_run_get_losses (run);
  g_autoptr (GError) error = NULL;
  gboolean editable;

  g_assert_nonnull (lesson);
  g_assert_true (lesson_run_get_lesson (run) == lesson);
  g_assert_cmpint (status, !=, STEPPER_RUNNING);
  g_assert_false (gradlens_window_is_busy (window));

  switch (status)
    {
    case STEPPER_READY:
      g_assert_cmpuint (stepper_get_n_events (stepper), ==, 0);
      g_assert_null (event);
      g_assert_false (gradlens_window_is_playing (window));
      g_assert_cmpint (gradlens_code_view_get_line (code), ==, 0);
      g_assert_cmpstr (shown_phase, ==, "idle");
      break;

    case STEPPER_PAUSED:
      /* The worker waits at the event it published. */
      g_assert_nonnull (event);
      g_assert_cmpuint (stepper_get_n_events (stepper), ==, event->index + 1);
      g_assert_cmpint (event->line, ==, stepper_get_line (stepper));
      g_assert_cmpint (gradlens_code_view_get_line (code), ==, stepper_get_line (stepper));
      g_assert_cmpstr (shown_phase, ==, phase_css (phase));
      break;

    case STEPPER_FINISHED:
      g_assert_nonnull (event);
      g_assert_cmpint (event->kind, ==, EVENT_PHASE);
      g_assert_false (gradlens_window_is_playing (window));
      if (stepper_get_result (stepper, &error))
        {
          g_assert_no_error (error);
          g_assert_cmpstr (shown_phase, ==, "done");
          g_assert_cmpint (phase, ==, LESSON_PHASE_DONE);
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_cmpstr (shown_phase, ==, "error");
        }
      break;

    case STEPPER_RUNNING:
    default:
      g_assert_not_reached ();
    }

  check_graph (window, stepper);
  check_actions (window, status, status == STEPPER_PAUSED ? phase : LESSON_PHASE_FORWARD);

  g_assert_cmpuint (gradlens_loss_plot_get_n_values (GRADLENS_LOSS_PLOT (panel (window, "loss-plot"))),
                    ==, losses != NULL ? losses->len : 0);
  g_assert_cmpuint (gradlens_variable_list_get_n_rows (vars), ==, variables->len);
  for (guint i = 0; i < variables->len; i++)
    g_assert_cmpstr (gradlens_variable_list_get_name (vars, i), ==,
                     ((LessonVar *) g_ptr_array_index (variables, i))->name);

  /* The module tree shows the run's model (or, before the freeze lesson runs,
   * a preview of it), editable while paused, not once a training run ended. */
  g_assert_cmpint (gtk_widget_get_visible (GTK_WIDGET (tree)), ==, lesson->uses_resnet);
  g_object_get (tree, "editable", &editable, NULL);
  if (lesson->uses_resnet)
    {
      Module *model = lesson_run_get_model (run);

      if (model != NULL || !g_str_equal (lesson->name, "freeze"))
        g_assert_true (gradlens_module_tree_get_model (tree) == model);
      else
        g_assert_nonnull (gradlens_module_tree_get_model (tree));
      /* The programs that set requires_grad themselves keep it (finetune),
       * or take a change before they run only (freeze). */
      if (status == STEPPER_PAUSED && model != NULL && !gradlens_window_is_playing (window))
        g_assert_true (editable == g_str_equal (lesson->name, "resnet18-step"));
      if (gradlens_window_is_playing (window))
        g_assert_false (editable);
      if (status == STEPPER_FINISHED && !g_str_equal (lesson->name, "freeze"))
        g_assert_false (editable);
    }
}

static void
on_stress_synced (GradlensWindow *window,
                  gpointer        user_data)
{
  Stepper *stepper = gradlens_window_get_stepper (window);

  st.synced_stepper = stepper;
  st.synced_status = stepper_get_status (stepper);
  g_assert_cmpint (st.synced_status, !=, STEPPER_RUNNING);
  st.synced_events = stepper_get_n_events (stepper);
  st.synced_model = lesson_run_get_model (stepper_get_run (stepper));
  check_consistent (window);
  st.n_synced_checks++;

  {
    const StepperEvent *event = stepper_get_event (stepper);
    if (st.synced_status == STEPPER_PAUSED && event->kind == EVENT_ANOMALY)
      st.n_anomalies++;
  }
}

/* The window has caught up with the stepper: not running, and synced at this state. */
static gboolean
caught_up (GradlensWindow *window)
{
  Stepper *stepper = gradlens_window_get_stepper (window);
  StepperStatus status = stepper_get_status (stepper);

  return status != STEPPER_RUNNING && stepper == st.synced_stepper && status == st.synced_status
         && stepper_get_n_events (stepper) == st.synced_events;
}

/* What holds at any moment, running or not. */
static void
check_always (GradlensWindow *window)
{
  Stepper *stepper = gradlens_window_get_stepper (window);
  GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
  StepperStatus status;
  gboolean editable;

  g_assert_nonnull (stepper);
  g_assert_nonnull (gradlens_window_get_lesson (window));
  status = stepper_get_status (stepper);
  g_assert_cmpint (status, >=, STEPPER_READY);
  g_assert_cmpint (status, <=, STEPPER_FINISHED);

  if (status == STEPPER_PAUSED)
    {
      /* Paused means waiting: the worker sits at the event it published, and
       * stays there (only this thread can send it on). */
      const StepperEvent *event = stepper_get_event (stepper);
      guint64 n = stepper_get_n_events (stepper);

      g_assert_nonnull (event);
      g_assert_cmpuint (n, ==, event->index + 1);
      g_usleep (200);
      g_assert_cmpint (stepper_get_status (stepper), ==, STEPPER_PAUSED);
      g_assert_cmpuint (stepper_get_n_events (stepper), ==, n);
    }
  else if (status == STEPPER_RUNNING)
    {
      /* The student cannot change requires_grad under the worker's feet: a
       * tree still editable shows a model the run does not use (the freeze
       * lesson's preview). */
      g_object_get (tree, "editable", &editable, NULL);
      if (editable && st.synced_model != NULL)
        g_assert_true (gradlens_module_tree_get_model (tree) != st.synced_model);
    }
}

/* --- The student's actions ----------------------------------------------------------- */

typedef struct
{
  Stepper      *stepper;
  StepperStatus status;
  guint64       n_events;
  gboolean      playing;
  const Lesson *lesson;
} Snapshot;

static void
snapshot_take (GradlensWindow *window,
               Snapshot       *snap)
{
  snap->stepper = gradlens_window_get_stepper (window);
  snap->status = stepper_get_status (snap->stepper);
  /* Read only while the worker waits (the status read orders it). */
  snap->n_events = snap->status != STEPPER_RUNNING ? stepper_get_n_events (snap->stepper) : 0;
  snap->playing = gradlens_window_is_playing (window);
  snap->lesson = gradlens_window_get_lesson (window);
}

static Action *current_action;

/* win.NAME as a button or shortcut activates it, whether enabled or not. */
static void
activate (GradlensWindow *window,
          const char     *name)
{
  g_autofree char *detailed = g_strdup_printf ("win.%s", name);
  gboolean enabled = action_enabled (window, name);
  gboolean settled = caught_up (window);
  Snapshot before, after;

  snapshot_take (window, &before);
  /* The action exists; whether GTK calls it when disabled is GTK's business,
   * doing nothing then is ours. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), detailed, NULL));
  snapshot_take (window, &after);

  if (enabled)
    current_action->n_enabled++;
  else
    current_action->n_disabled++;
  if (!settled)
    return;

  if (!enabled)
    {
      /* A disabled command did nothing. */
      g_assert_true (after.stepper == before.stepper);
      g_assert_cmpint (after.status, ==, before.status);
      g_assert_cmpuint (after.n_events, ==, before.n_events);
      g_assert_cmpint (after.playing, ==, before.playing);
      st.n_noop_checks++;
    }
  else if (g_str_equal (name, "reset"))
    {
      g_assert_cmpint (after.status, ==, STEPPER_READY);
      g_assert_cmpuint (after.n_events, ==, 0);
      g_assert_false (after.playing);
      g_assert_cmpuint (gradlens_window_get_graph_nodes (window)->len, ==, 0);
    }
  else if (g_str_equal (name, "play-pause"))
    g_assert_cmpint (after.playing, !=, before.playing);
  else
    {
      /* An enabled command set the worker going (it may have paused again already). */
      g_assert_true (after.status == STEPPER_RUNNING || after.n_events > before.n_events
                     || after.status == STEPPER_FINISHED);
    }
}

static void act_step_op (GradlensWindow *w) { activate (w, "step-op"); }
static void act_step_line (GradlensWindow *w) { activate (w, "step-line"); }
static void act_step_node (GradlensWindow *w) { activate (w, "step-backward-node"); }
static void act_phase_end (GradlensWindow *w) { activate (w, "run-to-phase-end"); }
static void act_run_to_end (GradlensWindow *w) { activate (w, "run-to-end"); }
static void act_play_pause (GradlensWindow *w) { activate (w, "play-pause"); }
static void act_reset (GradlensWindow *w) { activate (w, "reset"); }
static void act_optimizer_step (GradlensWindow *w) { activate (w, "optimizer-step"); }
static void act_zero_grad (GradlensWindow *w) { activate (w, "zero-grad"); }

static void
act_lesson (GradlensWindow *window)
{
  guint n, i;
  const Lesson *const *lessons = lesson_list (&n);

  g_assert_cmpuint (n, ==, 6);
  i = rand_below (n);
  st.n_lessons[i]++;
  g_assert_true (gradlens_window_select_lesson (window, lessons[i]->name));
  /* Selecting is synchronous: the new program is ready to run. */
  g_assert_true (gradlens_window_get_lesson (window) == lessons[i]);
  g_assert_cmpint (status_of (window), ==, STEPPER_READY);
}

/* New settings from the popover: the lesson starts over with them. */
static void
act_settings (GradlensWindow *window)
{
  static const double lrs[] = { 1e-2, 1e-3, 0.1, 1, 100 };
  static const double momenta[] = { 0, 0.5, 0.9 };
  GradlensSettingsPopover *popover = GRADLENS_SETTINGS_POPOVER (panel (window, "settings-popover"));
  GradlensSettings s;

  gradlens_settings_init (&s);
  gradlens_settings_popover_get (popover, &s);
  s.input_size = 64;
  s.seed = rand_below (1000);
  s.lr = lrs[rand_below (G_N_ELEMENTS (lrs))];
  s.momentum = momenta[rand_below (G_N_ELEMENTS (momenta))];
  s.steps = 1 + (int) rand_below (3);
  /* resnet18 at lr = 100 reaches inf at its sixth step. */
  if (s.lr == 100)
    s.steps = 6;
  s.zero_grad = chance (0.7);
  gradlens_settings_popover_set (popover, &s);
  g_signal_emit_by_name (popover, "apply");
  gradlens_settings_clear (&s);
  g_assert_cmpint (status_of (window), ==, STEPPER_READY);
  /* What does lr = 100 do? Run it and see (F5): the first inf stops it. */
  if (chance (0.5))
    activate (window, "run-to-end");
}

/* A check box or button of the module tree, if the tree lets the student. */
static void
act_freeze (GradlensWindow *window)
{
  static const char *const names[] = {
    "", "conv1", "bn1", "layer1", "layer2", "layer3.0", "layer4.1.conv2", "fc", "fc.weight",
    "layer1.0.bn1.weight", "layer4",
  };
  GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
  gboolean editable;

  g_object_get (tree, "editable", &editable, NULL);
  if (!editable || !gtk_widget_get_visible (GTK_WIDGET (tree))
      || gradlens_module_tree_get_model (tree) == NULL)
    {
      current_action->n_skipped++;
      return;
    }
  switch (rand_below (4))
    {
    case 0:
      gradlens_module_tree_freeze_all_but_fc (tree);
      break;
    case 1:
      gradlens_module_tree_unfreeze_all (tree);
      break;
    default:
      g_assert_true (gradlens_module_tree_set_trainable (tree, names[rand_below (G_N_ELEMENTS (names))],
                                                         chance (0.5)));
      break;
    }
}

/* A click on a node of the graph, or the inspector's way there. */
static void
act_select_node (GradlensWindow *window)
{
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  Node *node;

  if (nodes->len == 0)
    {
      current_action->n_skipped++;
      return;
    }
  node = g_ptr_array_index (nodes, rand_below (nodes->len));
  if (chance (0.5))
    gradlens_window_select_node (window, node);
  else
    graph_view_set_selection (GRAPH_VIEW (panel (window, "graph")), node);
}

static void
act_variable (GradlensWindow *window)
{
  GradlensVariableList *vars = GRADLENS_VARIABLE_LIST (panel (window, "variable-list"));
  guint n = gradlens_variable_list_get_n_rows (vars);
  g_autofree char *name = NULL;

  if (n == 0)
    {
      current_action->n_skipped++;
      return;
    }
  name = g_strdup (gradlens_variable_list_get_name (vars, rand_below (n)));
  g_assert_true (gradlens_variable_list_activate (vars, name));
}

static void
act_search (GradlensWindow *window)
{
  static const char *const texts[] = { "conv", "Accumulate", "layer1", "Mul", "", "fc.w", "zzz" };

  gtk_editable_set_text (GTK_EDITABLE (panel (window, "graph-search")),
                         texts[rand_below (G_N_ELEMENTS (texts))]);
}

/* Cheap ones often: mostly stepping, now and then a whole run or a new lesson. */
static Action actions[] = {
  { "step-op", 16, act_step_op },
  { "step-line", 10, act_step_line },
  { "step-backward-node", 14, act_step_node },
  { "run-to-phase-end", 6, act_phase_end },
  { "run-to-end", 2, act_run_to_end },
  { "play-pause", 3, act_play_pause },
  { "reset", 3, act_reset },
  { "optimizer-step", 3, act_optimizer_step },
  { "zero-grad", 2, act_zero_grad },
  { "lesson", 2, act_lesson },
  { "settings", 1, act_settings },
  { "freeze", 3, act_freeze },
  { "select-node", 5, act_select_node },
  { "variable", 2, act_variable },
  { "search", 1, act_search },
};

/* A student mostly presses what the window offers: a finished program is reset
 * or changed more often, backward is stepped node by node. Every action stays
 * possible in every state. */
static guint
weight_now (GradlensWindow *window,
            const Action   *action)
{
  Stepper *stepper = gradlens_window_get_stepper (window);
  StepperStatus status = stepper_get_status (stepper);

  if (status == STEPPER_FINISHED
      && (action->run == act_reset || action->run == act_lesson || action->run == act_settings))
    return action->weight * 8;
  if (status == STEPPER_PAUSED && action->run == act_step_node
      && stepper_get_phase (stepper) == LESSON_PHASE_BACKWARD)
    return action->weight * 3;
  return action->weight;
}

static Action *
draw_action (GradlensWindow *window)
{
  guint weights[G_N_ELEMENTS (actions)];
  guint total = 0, pick;

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    total += weights[i] = weight_now (window, &actions[i]);
  pick = rand_below (total);
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      if (pick < weights[i])
        return &actions[i];
      pick -= weights[i];
    }
  g_assert_not_reached ();
}

/* --- Pacing ------------------------------------------------------------------------- */

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until the idle posted before the action ran. */
static void
wait_idle (gboolean *flag,
           gint64    posted)
{
  gint64 latency;

  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
  latency = g_get_monotonic_time () - posted;
  st.latency_sum += latency;
  current_action->max_latency = MAX (current_action->max_latency, latency);
  if (latency > st.max_latency)
    {
      st.max_latency = latency;
      st.max_latency_action = current_action->name;
    }
  if (latency > st.latency_us)
    g_error ("action %u (%s): the main loop was blocked for %" G_GINT64_FORMAT " ms "
             "(bound %" G_GINT64_FORMAT " ms)",
             st.n_actions, current_action->name, latency / 1000, st.latency_us / 1000);
}

/* Until the window has caught up with the stepper (a playing lesson catches up
 * between its steps). */
static void
settle (GradlensWindow *window)
{
  gint64 deadline = g_get_monotonic_time () + st.settle_us;

  while (!caught_up (window))
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
      if (g_get_monotonic_time () > deadline)
        g_error ("action %u (%s): the window did not catch up with the stepper within %"
                 G_GINT64_FORMAT " s (status %d)", st.n_actions, current_action->name,
                 st.settle_us / G_TIME_SPAN_SECOND, status_of (window));
    }
  check_consistent (window);
  st.n_quiet_checks++;
}

/* The main loop for up to ms milliseconds. */
static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
}

/* --- The script ---------------------------------------------------------------------- */

static void
print_summary (void)
{
  double seconds = (g_get_monotonic_time () - st.start) / 1e6;

  g_test_message ("%u actions in %.1f s (seed %u): latency max %.0f ms (after %s), mean %.1f ms",
                  st.n_actions, seconds, st.seed, st.max_latency / 1000.0,
                  st.max_latency_action ? st.max_latency_action : "-",
                  st.n_actions ? st.latency_sum / st.n_actions / 1000.0 : 0.0);
  g_test_message ("checks: %u at ::synced, %u when the loop went quiet, %u disabled actions "
                  "did nothing; %u actions found the worker running; %u anomaly pauses",
                  st.n_synced_checks, st.n_quiet_checks, st.n_noop_checks,
                  st.n_running_actions, st.n_anomalies);
  g_test_message ("time: %.1f s in the actions, %.1f s until the idle after them, %.1f s "
                  "catching up, %.1f s in short pauses", st.time_actions / 1e6, st.time_idle / 1e6,
                  st.time_settle / 1e6, st.time_pause / 1e6);
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    g_test_message ("  %-20s %5u (enabled %u, disabled %u, not possible %u), max latency %.0f ms "
                    "(%.0f ms in the call)", actions[i].name, actions[i].n, actions[i].n_enabled,
                    actions[i].n_disabled, actions[i].n_skipped, actions[i].max_latency / 1000.0,
                    actions[i].max_blocking / 1000.0);
  {
    guint n;
    const Lesson *const *lessons = lesson_list (&n);
    GString *s = g_string_new ("  lessons picked:");
    for (guint i = 0; i < n; i++)
      g_string_append_printf (s, " %s %u", lessons[i]->name, st.n_lessons[i]);
    g_test_message ("%s", s->str);
    g_string_free (s, TRUE);
  }
}

static void
script_stress (GradlensWindow *window)
{
  GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (panel (window, "speed"))));
  static Action final_action = { "final" };
  gint64 end, next_report;

  g_signal_connect (window, "synced", G_CALLBACK (on_stress_synced), NULL);
  /* Play at 60 pauses a second. */
  gtk_range_set_value (GTK_RANGE (find_descendant (popover, GTK_TYPE_SCALE)), 60);
  current_action = &final_action;
  select_lesson (window, "autograd");
  settle (window);

  st.start = g_get_monotonic_time ();
  end = st.start + st.wall_us;
  next_report = st.start + PROGRESS_US;
  while (st.n_actions < st.max_actions && g_get_monotonic_time () < end)
    {
      Action *action = draw_action (window);
      gboolean flag = FALSE;
      gint64 posted, t;
      guint pace;

      /* Progress, so a long run is not a silent one (meson test -v shows it). */
      if (g_get_monotonic_time () >= next_report)
        {
          g_test_message ("%u of at most %u actions, %.0f of at most %.0f s "
                          "(GRADLENS_STRESS_SECONDS)", st.n_actions, st.max_actions,
                          (g_get_monotonic_time () - st.start) / (double) G_TIME_SPAN_SECOND,
                          st.wall_us / (double) G_TIME_SPAN_SECOND);
          next_report += PROGRESS_US;
        }

      current_action = action;
      action->n++;
      st.n_actions++;
      if (status_of (window) == STEPPER_RUNNING)
        st.n_running_actions++;

      /* At the priority of input events: what a click made now would wait. */
      posted = g_get_monotonic_time ();
      g_idle_add_full (G_PRIORITY_DEFAULT, set_flag, &flag, NULL);
      action->run (window);
      t = g_get_monotonic_time ();
      st.time_actions += t - posted;
      action->max_blocking = MAX (action->max_blocking, t - posted);
      check_always (window);
      wait_idle (&flag, posted);
      check_always (window);
      st.time_idle += g_get_monotonic_time () - t;

      /* Then: until caught up (most often), a moment, or straight on. */
      t = g_get_monotonic_time ();
      pace = rand_below (100);
      if (pace < 45)
        settle (window);
      else if (pace < 80)
        run_for (rand_below (30));
      else if (caught_up (window))
        check_consistent (window);
      if (pace < 45)
        st.time_settle += g_get_monotonic_time () - t;
      else
        st.time_pause += g_get_monotonic_time () - t;
    }

  /* The end: back to the start, then a command left running as the window closes. */
  current_action = &final_action;
  settle (window);
  command (window, "reset");
  check_consistent (window);
  g_assert_cmpuint (gradlens_window_get_graph_nodes (window)->len, ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.run-to-end", NULL));
  print_summary ();
}

static void
test_stress (void)
{
  gint baseline_tensors = tensor_live_count ();
  gint baseline_nodes = node_live_count ();
  gint64 deadline;

  run_in_app (script_stress);

  /* The window is gone, its worker joined. A graph layout still running in
   * GLib's pool hands its snapshot back through the main loop. */
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while ((tensor_live_count () != baseline_tensors || node_live_count () != baseline_nodes)
         && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_test_message ("alive after the window closed: %d tensors, %d nodes (before: %d, %d)",
                  tensor_live_count (), node_live_count (), baseline_tensors, baseline_nodes);
  g_assert_cmpint (tensor_live_count (), ==, baseline_tensors);
  g_assert_cmpint (node_live_count (), ==, baseline_nodes);
}

/* Every warning or critical aborts, but GTK 4.8's own about a gizmo it draws
 * unallocated (app-driver.h, is_gtk_unallocated_gizmo). */
static GLogWriterOutput
stress_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                   gpointer user_data)
{
  GLogWriterOutput out = g_log_writer_default (level, fields, n_fields, user_data);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    if (!((level & G_LOG_LEVEL_WARNING) && is_gtk_unallocated_gizmo (fields, n_fields)))
      abort ();
  return out;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config = NULL;
  int status;

  /* Settings go to a fresh folder, never the user's. */
  config = app_home_new ("gradlens-test-stress");
  g_setenv ("OPENBLAS_NUM_THREADS", "2", FALSE);
  /* The tests draw with cairo: no GL context either (Mesa's EGL, probed when
   * the display opens, leaks under LeakSanitizer). */
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);

  gtk_test_init (&argc, &argv, NULL);
  /* Any warning or critical, from any thread, fails the test (stress_log_writer),
   * but for one of GTK's own. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_log_set_writer_func (stress_log_writer, NULL, NULL);

  st.seed = (guint32) env_number ("GRADLENS_STRESS_SEED", g_test_rand_int ());
  st.max_actions = (guint) env_number ("GRADLENS_STRESS_ACTIONS", 3000);
  st.wall_us = env_number ("GRADLENS_STRESS_SECONDS", 150) * G_TIME_SPAN_SECOND;
  st.latency_us = env_number ("GRADLENS_STRESS_LATENCY_MS", 2000) * G_TIME_SPAN_MILLISECOND;
  st.settle_us = env_number ("GRADLENS_STRESS_SETTLE_S", 60) * G_TIME_SPAN_SECOND;
  st.rand = g_rand_new_with_seed (st.seed);
  g_test_message ("stress seed %u (GRADLENS_STRESS_SEED=%u replays the choices)", st.seed, st.seed);
  /* Also on stderr, where a crash leaves it. */
  g_printerr ("test-stress: GRADLENS_STRESS_SEED=%u\n", st.seed);

  g_test_add_func ("/ui/stress/random-actions", test_stress);

  status = g_test_run ();

  g_rand_free (st.rand);
  app_home_remove (config);
  return status;
}

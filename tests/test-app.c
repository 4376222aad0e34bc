/* test-app.c: the real window, driven through the lessons like a student would
 *
 * Starts GradlensApplication, then, from inside its main loop, picks lessons
 * and presses the same commands the buttons and shortcuts call (win.* actions),
 * waiting for the window's ::synced after each. It checks what the panels show
 * against PyTorch's facts:
 *   - autograd: op by op to the 6 nodes of Q = 3a³ − b² (4 grad_fns, 2
 *     AccumulateGrad), node by node through backward, a.grad = [36, 81] in the
 *     inspector, PyTorch's error for the second backward in the output;
 *   - finetune: 5,130 trainable parameters in the module tree, the 6-node
 *     graph after forward, only fc moved by optim.step();
 *   - freeze: layer1 frozen from the module tree → its 12 AccumulateGrad nodes
 *     are gone from the next forward's graph;
 *   - resnet18-step: forward in progress, op by op.
 * and saves a PNG of the window in each state under G_TEST_BUILDDIR (app-*.png).
 * Also: the settings key file, and the charts' painters on image surfaces.
 */

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

/* Screenshots: G_TEST_BUILDDIR/app-NAME.png */
#define SCREENSHOT_PREFIX "app"
#include "app-driver.h"
#include "code-view.h"
#include "event-log.h"
#include "gradlens-application.h"
#include "gradlens-window.h"
#include "graph-view.h"
#include "inspector.h"
#include "layer-chart.h"
#include "loss-plot.h"
#include "module-tree.h"
#include "plot-paint.h"
#include "settings-popover.h"
#include "settings.h"
#include "state-dict.h"
#include "theme.h"
#include "variable-list.h"

/* Run to the end of the forward pass: paused as backward begins. */
static void
run_forward (GradlensWindow *window)
{
  for (int i = 0; i < 20 && phase_of (window) != LESSON_PHASE_BACKWARD; i++)
    command (window, "run-to-phase-end");
  g_assert_cmpint (phase_of (window), ==, LESSON_PHASE_BACKWARD);
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);
}

static guint
count_op (GPtrArray *nodes,
          OpKind     op)
{
  guint n = 0;

  for (guint i = 0; i < nodes->len; i++)
    if (((Node *) g_ptr_array_index (nodes, i))->op == op)
      n++;
  return n;
}

/* AccumulateGrad nodes of parameters whose name starts with prefix. */
static guint
count_leaves_in (GradlensWindow *window,
                 const char     *prefix)
{
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  LessonRun *run = stepper_get_run (gradlens_window_get_stepper (window));
  guint n = 0;

  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);
      const char *name;

      if (node->op != OP_ACCUMULATE_GRAD)
        continue;
      name = lesson_run_tensor_name (run, node->variable);
      g_assert_nonnull (name);
      if (g_str_has_prefix (name, prefix))
        n++;
    }
  return n;
}

static Node *
find_leaf_node (GradlensWindow *window,
                const char     *name)
{
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  LessonRun *run = stepper_get_run (gradlens_window_get_stepper (window));

  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);
      if (node->op == OP_ACCUMULATE_GRAD
          && g_strcmp0 (lesson_run_tensor_name (run, node->variable), name) == 0)
        return node;
    }
  return NULL;
}

/* --- The lessons ------------------------------------------------------------ */

static void
script_autograd (GradlensWindow *window)
{
  GradlensInspector *inspector = GRADLENS_INSPECTOR (panel (window, "inspector"));
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  GradlensEventLog *log = GRADLENS_EVENT_LOG (panel (window, "event-log"));
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  Node *a_leaf;
  int steps = 0, node_steps = 0;

  select_lesson (window, "autograd");
  g_assert_cmpuint (nodes->len, ==, 0);
  g_assert_false (action_enabled (window, "step-backward-node"));

  /* Op by op until the graph of Q is whole. */
  while (nodes->len < 6 && steps < 20)
    {
      g_assert_true (action_enabled (window, "step-op"));
      command (window, "step-op");
      steps++;
      g_assert_cmpint (phase_of (window), ==, LESSON_PHASE_FORWARD);
      /* The code view follows the program. */
      g_assert_cmpint (gradlens_code_view_get_line (code), >=, 3);
      g_assert_cmpint (gradlens_code_view_get_line (code), <=, 5);
      g_assert_cmpstr (gradlens_code_view_get_phase (code), ==, "forward");
    }
  g_assert_cmpuint (nodes->len, ==, 6);
  g_assert_cmpuint (count_op (nodes, OP_ACCUMULATE_GRAD), ==, 2);
  g_assert_cmpuint (count_op (nodes, OP_POW), ==, 2);
  g_assert_cmpuint (count_op (nodes, OP_MUL), ==, 1);
  g_assert_cmpuint (count_op (nodes, OP_SUB), ==, 1);
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 5);
  /* The inspector followed the stepper to the last node recorded: SubBackward0. */
  g_assert_cmpstr (gradlens_inspector_get_title (inspector), ==, "SubBackward0");
  g_assert_cmpuint (gradlens_event_log_get_n_entries (log), >, 6);
  screenshot (window, "autograd-forward");
  {
    /* The graph view lays out the same 6 nodes, plus MulBackward0's None slot. */
    const GraphLayout *layout = graph_view_get_layout (GRAPH_VIEW (panel (window, "graph")));
    g_assert_nonnull (layout);
    g_assert_cmpint (layout->model->n_nodes, ==, 7);
  }

  /* On to the backward pass (Op steps stop where the phase changes). */
  while (phase_of (window) != LESSON_PHASE_BACKWARD && steps++ < 30)
    command (window, "step-op");
  g_assert_cmpint (phase_of (window), ==, LESSON_PHASE_BACKWARD);
  g_assert_cmpstr (gradlens_code_view_get_phase (code), ==, "backward");
  g_assert_true (action_enabled (window, "step-backward-node"));
  g_assert_false (action_enabled (window, "step-op"));
  {
    /* The variables: a, b (leaves), Q (grad_fn SubBackward0), external_grad. */
    GradlensVariableList *vars = GRADLENS_VARIABLE_LIST (panel (window, "variable-list"));
    g_assert_cmpuint (gradlens_variable_list_get_n_rows (vars), ==, 4);
    g_assert_cmpstr (gradlens_variable_list_get_name (vars, 2), ==, "Q");
    g_assert_nonnull (strstr (gradlens_variable_list_get_summary (vars, 2), "grad_fn=SubBackward0"));
    g_assert_true (gradlens_variable_list_activate (vars, "Q"));
    g_assert_cmpstr (gradlens_inspector_get_title (inspector), ==, "Q");
    /* A non-leaf keeps no .grad. */
    g_assert_cmpstr (gradlens_inspector_get_grad_text (inspector), ==, "None");
    g_assert_true (gradlens_variable_list_activate (vars, "a"));
    g_assert_cmpstr (gradlens_inspector_get_grad_text (inspector), ==, "None");
    /* A clicked row has the focus: the window must still close cleanly. */
    gtk_notebook_set_current_page (GTK_NOTEBOOK (panel (window, "log-notebook")), 2);
    gtk_widget_grab_focus (find_descendant (GTK_WIDGET (vars), GTK_TYPE_LIST_BOX_ROW));
  }

  /* Node by node to the end of backward. */
  a_leaf = find_leaf_node (window, "a");
  g_assert_nonnull (a_leaf);
  while (phase_of (window) == LESSON_PHASE_BACKWARD && node_steps < 20)
    {
      command (window, "step-backward-node");
      node_steps++;
    }
  /* Sub, Pow(b), Acc(b), Mul, Pow(a), Acc(a), then the phase changes. */
  g_assert_cmpint (node_steps, ==, 7);
  g_assert_cmpuint (nodes->len, >=, 6);

  gradlens_window_select_node (window, a_leaf);
  g_assert_true (graph_view_get_selection (GRAPH_VIEW (panel (window, "graph"))) == a_leaf);
  g_assert_cmpstr (gradlens_inspector_get_title (inspector), ==, "AccumulateGrad");
  g_assert_cmpstr (gradlens_inspector_get_grad_text (inspector), ==, "tensor([36., 81.])");
  screenshot (window, "autograd-backward");

  /* The rest: two True lines and the second backward's error. */
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  g_assert_cmpstr (gradlens_code_view_get_phase (code), ==, "done");
  {
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (panel (window, "output-view")));
    g_autofree char *output = NULL;
    GtkTextIter start, end;

    gtk_text_buffer_get_bounds (buffer, &start, &end);
    output = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_nonnull (strstr (output, "tensor([36., 81.])"));
    g_assert_nonnull (strstr (output, "tensor([True, True])"));
    g_assert_nonnull (strstr (output, "RuntimeError: Trying to backward through the graph a second time"));
  }
  g_assert_null (gradlens_window_get_error (window));
  g_assert_false (action_enabled (window, "step-op"));
  g_assert_true (action_enabled (window, "reset"));

  /* Reset: back to the first line, the graph empty. */
  command (window, "reset");
  g_assert_cmpint (status_of (window), ==, STEPPER_READY);
  g_assert_cmpuint (nodes->len, ==, 0);
  g_assert_true (action_enabled (window, "step-op"));
}

static void
script_finetune (GradlensWindow *window)
{
  GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
  GradlensLossPlot *plot = GRADLENS_LOSS_PLOT (panel (window, "loss-plot"));
  GradlensLayerChart *chart = GRADLENS_LAYER_CHART (panel (window, "layer-chart"));
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  ParamCounts counts;
  guint n_groups;

  select_lesson (window, "finetune");
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (tree)));
  g_assert_true (action_enabled (window, "optimizer-step"));

  run_forward (window);
  gradlens_module_tree_get_counts (tree, &counts);
  g_assert_cmpint (counts.trainable, ==, 5130);
  g_assert_cmpint (counts.total, ==, 11689512 - 513000 + 5130);
  g_assert_cmpint (counts.frozen, ==, counts.total - 5130);
  g_assert_nonnull (strstr (gradlens_module_tree_get_totals_text (tree), "Trainable 5,130"));

  /* SumBackward0, SubBackward0, AddmmBackward0, TBackward0, 2 AccumulateGrad. */
  g_assert_cmpuint (nodes->len, ==, 6);
  g_assert_cmpuint (count_op (nodes, OP_SUM), ==, 1);
  g_assert_cmpuint (count_op (nodes, OP_SUB), ==, 1);
  g_assert_cmpuint (count_op (nodes, OP_ADDMM), ==, 1);
  g_assert_cmpuint (count_op (nodes, OP_T), ==, 1);
  g_assert_cmpuint (count_op (nodes, OP_ACCUMULATE_GRAD), ==, 2);
  g_assert_cmpuint (count_leaves_in (window, "fc."), ==, 2);
  gradlens_module_tree_select (tree, "fc.weight");
  screenshot (window, "finetune-graph");

  /* optim.step(): the loss is plotted, and only fc moved. */
  command (window, "optimizer-step");
  g_assert_cmpint (status_of (window), !=, STEPPER_RUNNING);
  g_assert_cmpuint (gradlens_loss_plot_get_n_values (plot), >=, 1);
  n_groups = gradlens_layer_chart_get_n_groups (chart);
  g_assert_cmpuint (n_groups, ==, 11);   /* conv1, bn1, layer1.0 … layer4.1, fc */
  for (guint i = 0; i < n_groups; i++)
    {
      double grad_norm, ratio;
      gboolean frozen;
      const char *label = gradlens_layer_chart_get_group (chart, i, &grad_norm, &ratio, &frozen);

      if (g_str_equal (label, "fc"))
        {
          g_assert_false (frozen);
          g_assert_cmpfloat (grad_norm, >, 0);
          g_assert_cmpfloat (ratio, >, 0);
        }
      else
        {
          g_assert_true (frozen);
          g_assert_cmpfloat (ratio, ==, 0);
        }
    }
  screenshot (window, "finetune-step");

  /* The step's graph stays in view until the next forward records its first
   * node; then the graph is the new step's: that node (TBackward0) and what it
   * reaches, fc.weight's AccumulateGrad, which PyTorch reuses while step 1's
   * graph holds it. */
  g_assert_cmpuint (nodes->len, ==, 6);
  for (int i = 0; i < 5 && nodes->len == 6; i++)
    command (window, "step-op");
  g_assert_cmpint (phase_of (window), ==, LESSON_PHASE_FORWARD);
  g_assert_cmpuint (nodes->len, ==, 2);
  g_assert_cmpuint (count_op (nodes, OP_T), ==, 1);
  g_assert_cmpuint (count_leaves_in (window, "fc.weight"), ==, 1);
}

static void
script_freeze (GradlensWindow *window)
{
  GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  g_autofree char *line = NULL;
  guint before;

  select_lesson (window, "freeze");
  /* Before it runs, the tree shows the model the program will build, with the
   * lesson's default freezing, and lets the student change it. */
  g_assert_nonnull (gradlens_module_tree_get_model (tree));

  before = current->synced;
  gradlens_module_tree_unfreeze_all (tree);
  wait_synced (before);
  line = gradlens_code_view_dup_line_text (code, 6);
  g_assert_true (g_str_has_prefix (line, "frozen = ()"));
  run_forward (window);
  g_assert_cmpuint (count_op (nodes, OP_ACCUMULATE_GRAD), ==, 62);
  g_assert_cmpuint (count_leaves_in (window, "layer1."), ==, 12);

  /* Freeze layer1 in the tree (from the start: the program froze its list
   * before training): the program says it, and runs again with it frozen. */
  command (window, "reset");
  before = current->synced;
  g_assert_true (gradlens_module_tree_set_trainable (tree, "layer1", FALSE));
  wait_synced (before);
  g_clear_pointer (&line, g_free);
  line = gradlens_code_view_dup_line_text (code, 6);
  g_assert_true (g_str_has_prefix (line, "frozen = (\"layer1\",)"));
  run_forward (window);
  g_assert_cmpuint (count_leaves_in (window, "layer1."), ==, 0);
  g_assert_cmpuint (count_op (nodes, OP_ACCUMULATE_GRAD), ==, 62 - 12);
  g_assert_cmpuint (count_leaves_in (window, "layer2."), ==, 15);
  {
    ParamCounts counts;
    gradlens_module_tree_get_counts (tree, &counts);
    g_assert_cmpint (counts.frozen, ==, 147968);   /* layer1: 4 convs 3×3×64×64, 4 BNs */
  }
  screenshot (window, "freeze-layer1");
}

static void
script_resnet18 (GradlensWindow *window)
{
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));

  select_lesson (window, "resnet18-step");
  /* To the forward pass, then 40 ops into it. */
  while (gradlens_code_view_get_line (code) != 12)
    command (window, "step-line");
  for (int i = 0; i < 40; i++)
    command (window, "step-op");
  g_assert_cmpint (phase_of (window), ==, LESSON_PHASE_FORWARD);
  g_assert_cmpuint (nodes->len, ==, 40);
  /* conv1's 64 filters in the inspector, while the forward pass goes on. */
  gradlens_window_select_node (window, find_leaf_node (window, "conv1.weight"));
  g_assert_cmpstr (gradlens_inspector_get_title (GRADLENS_INSPECTOR (panel (window, "inspector"))),
                   ==, "AccumulateGrad");
  graph_view_zoom_out (GRAPH_VIEW (panel (window, "graph")));
  screenshot (window, "resnet18-forward");

  run_forward (window);
  g_assert_cmpuint (nodes->len, ==, 134);

  /* Freeze all but fc while paused: this backward still runs the graph it has;
   * the next forward pass records fc's six nodes only. */
  {
    GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
    ParamCounts counts;

    gradlens_module_tree_freeze_all_but_fc (tree);
    gradlens_module_tree_get_counts (tree, &counts);
    g_assert_cmpint (counts.trainable, ==, 513000);
    g_assert_cmpuint (nodes->len, ==, 134);
    command (window, "run-to-phase-end");   /* backward ends */
    run_forward (window);                   /* step 2's forward */
    g_assert_cmpuint (nodes->len, ==, 6);
    g_assert_cmpuint (count_leaves_in (window, "fc."), ==, 2);
  }
}

/* The small lessons, played at full speed to their end. */
static void
script_play (GradlensWindow *window)
{
  GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (panel (window, "speed"))));
  GtkWidget *scale = find_descendant (popover, GTK_TYPE_SCALE);
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  gint64 deadline;
  guint before;

  /* The speed slider: 30 pauses a second. */
  gtk_range_set_value (GTK_RANGE (scale), 30);
  select_lesson (window, "requires-grad");
  before = current->synced;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.play-pause", NULL));
  g_assert_true (gradlens_window_is_playing (window));
  /* While playing only pause and reset apply. */
  wait_synced (before);
  g_assert_false (action_enabled (window, "step-op"));
  g_assert_true (action_enabled (window, "play-pause"));

  deadline = g_get_monotonic_time () + WAIT_SECONDS * G_TIME_SPAN_SECOND;
  while (status_of (window) != STEPPER_FINISHED && g_get_monotonic_time () < deadline)
    wait_synced (current->synced);
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  g_assert_false (gradlens_window_is_playing (window));
  /* b = x + z: AddBackward0 (None, AccumulateGrad(z)); a = x + y records nothing. */
  g_assert_cmpuint (nodes->len, ==, 2);
  g_assert_cmpuint (count_op (nodes, OP_ADD), ==, 1);
  g_assert_cmpuint (count_op (nodes, OP_ACCUMULATE_GRAD), ==, 1);

  /* The dynamic lesson: a loop of MulBackward0 as long as the data asks. */
  select_lesson (window, "dynamic");
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  g_assert_null (gradlens_window_get_error (window));
  g_assert_cmpuint (count_op (nodes, OP_MUL), >=, 2);
  g_assert_cmpuint (count_op (nodes, OP_ACCUMULATE_GRAD), ==, 1);
  screenshot (window, "dynamic");

  /* Pause stops a running play at once. */
  select_lesson (window, "autograd");
  gradlens_window_play_pause (window);
  g_assert_true (gradlens_window_is_playing (window));
  gradlens_window_play_pause (window);
  g_assert_false (gradlens_window_is_playing (window));
}

static char *
read_ini (void)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "gradlens", "settings.ini", NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* S in the settings popover, applied as its Apply button would; waits for the
 * lesson to restart with them. */
/* Settings from the popover restart the lesson with them, and are saved. */
static void
script_settings (GradlensWindow *window)
{
  GradlensSettingsPopover *popover = GRADLENS_SETTINGS_POPOVER (panel (window, "settings-popover"));
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  GradlensSettings s;
  g_autofree char *line = NULL;
  g_autofree char *ini = NULL;

  select_lesson (window, "resnet18-step");
  gradlens_settings_init (&s);
  gradlens_settings_popover_get (popover, &s);
  s.lr = 0.05;
  s.momentum = 0.5;
  s.steps = 2;
  s.seed = 7;
  apply_settings (popover, &s);

  line = gradlens_code_view_dup_line_text (code, 8);
  g_assert_cmpstr (line, ==, "optim = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)");
  g_clear_pointer (&line, g_free);
  line = gradlens_code_view_dup_line_text (code, 4);
  g_assert_cmpstr (line, ==, "torch.manual_seed(7)");
  ini = read_ini ();
  g_assert_nonnull (strstr (ini, "lr=0.05"));
  g_assert_nonnull (strstr (ini, "steps=2"));
  g_assert_nonnull (strstr (ini, "lesson=resnet18-step"));

  /* Run it: two steps, two losses. */
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  g_assert_cmpuint (gradlens_loss_plot_get_n_values (GRADLENS_LOSS_PLOT (panel (window, "loss-plot"))), ==, 2);
  gtk_notebook_set_current_page (GTK_NOTEBOOK (panel (window, "plot-notebook")), 1);
  screenshot (window, "resnet18-two-steps");
  gtk_notebook_set_current_page (GTK_NOTEBOOK (panel (window, "plot-notebook")), 0);

  gradlens_settings_clear (&s);
  /* Back to the defaults for the other tests. */
  apply_default_settings (popover);
}

static gboolean
file_starts_with (const char *path,
                  const char *magic)
{
  g_autofree char *data = NULL;
  gsize len;

  return g_file_get_contents (path, &data, &len, NULL) && len >= strlen (magic)
         && memcmp (data, magic, strlen (magic)) == 0;
}

/* Weights saved, refused, loaded; the graph exported. Errors go to the banner. */
static void
script_files (GradlensWindow *window)
{
  g_autofree char *dir = g_dir_make_tmp ("gradlens-files-XXXXXX", NULL);
  g_autofree char *weights = g_build_filename (dir, "finetuned.safetensors", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_autoptr (GFile) weights_file = g_file_new_for_path (weights);
  g_autoptr (GFile) bad_file = g_file_new_for_path (bad);
  g_autoptr (GFile) missing_file = g_file_new_for_path (missing);
  g_autoptr (GError) error = NULL;
  g_autoptr (StateDict) sd = NULL;
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  static const char *const formats[] = { "png", "svg", "pdf" };
  static const char *const magics[] = { "\x89PNG", "<?xml", "%PDF" };
  g_autofree char *line = NULL;

  select_lesson (window, "resnet18-step");
  /* Nothing to save before `model = resnet18()` ran. */
  g_assert_false (gradlens_window_save_weights (window, weights_file, &error));
  g_assert_nonnull (gradlens_window_get_error (window));
  g_clear_error (&error);
  gradlens_window_show_error (window, NULL);

  run_forward (window);
  g_assert_true (gradlens_window_save_weights (window, weights_file, &error));
  g_assert_no_error (error);
  sd = safetensors_load (weights, &error);
  g_assert_no_error (error);
  /* 62 parameters, 40 running statistics, 20 num_batches_tracked. */
  g_assert_cmpuint (state_dict_size (sd), ==, 122);
  g_assert_nonnull (state_dict_lookup (sd, "layer1.0.bn1.running_var"));

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("graph.%s", formats[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GFile) file = g_file_new_for_path (path);

      g_assert_true (gradlens_window_export_graph (window, file, formats[i], &error));
      g_assert_no_error (error);
      g_assert_true (file_starts_with (path, magics[i]));
      g_remove (path);
    }

  /* A file that is not safetensors, and one that is not there: refused with
   * the reason in the banner; the lesson is untouched. */
  g_assert_true (g_file_set_contents (bad, "not a weights file", -1, NULL));
  g_assert_false (gradlens_window_open_weights (window, bad_file, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (gradlens_window_get_error (window));
  g_assert_nonnull (strstr (gradlens_window_get_error (window), "bad.safetensors"));
  g_clear_error (&error);
  g_assert_false (gradlens_window_open_weights (window, missing_file, &error));
  g_assert_nonnull (strstr (gradlens_window_get_error (window), "missing.safetensors"));
  g_clear_error (&error);
  /* PyTorch's .pth: a narrow resnet's weights do not fit resnet18, and a pickle
   * that calls anything but a tensor rebuild is refused unread. */
  {
    static const char *const pth[] = { "narrow.pth", "bad-global.pth" };
    for (guint i = 0; i < G_N_ELEMENTS (pth); i++)
      {
        g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "pth", pth[i], NULL);
        g_autoptr (GFile) file = g_file_new_for_path (path);

        g_assert_false (gradlens_window_open_weights (window, file, &error));
        g_assert_nonnull (error);
        g_test_message ("%s: %s", pth[i], error->message);
        g_assert_nonnull (strstr (gradlens_window_get_error (window), pth[i]));
        g_clear_error (&error);
      }
  }
  g_assert_cmpint (phase_of (window), ==, LESSON_PHASE_BACKWARD);
  screenshot (window, "error-banner");

  /* The saved weights load: the program now says so, and it runs with them. */
  {
    guint before = current->synced;
    g_assert_true (gradlens_window_open_weights (window, weights_file, &error));
    g_assert_no_error (error);
    wait_synced (before);
  }
  g_assert_null (gradlens_window_get_error (window));
  line = gradlens_code_view_dup_line_text (code, 5);
  g_assert_nonnull (strstr (line, "load_file"));
  g_assert_nonnull (strstr (line, "finetuned.safetensors"));
  run_forward (window);

  g_remove (weights);
  g_remove (bad);
  g_rmdir (dir);
}

/* SGD with lr = 100 blows resnet18 up: the first NaN/Inf stops the program
 * like a breakpoint, named in the banner and selected in the graph. */
static void
script_diverge (GradlensWindow *window)
{
  GradlensSettingsPopover *popover = GRADLENS_SETTINGS_POPOVER (panel (window, "settings-popover"));
  const StepperEvent *event;
  GradlensSettings s;

  select_lesson (window, "resnet18-step");
  gradlens_settings_init (&s);
  s.lr = 100;
  s.steps = 10;
  apply_settings (popover, &s);

  command (window, "run-to-end");
  event = stepper_get_event (gradlens_window_get_stepper (window));
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);
  g_assert_nonnull (event);
  g_assert_cmpint (event->kind, ==, EVENT_ANOMALY);
  g_assert_nonnull (gradlens_window_get_error (window));
  g_test_message ("%s", gradlens_window_get_error (window));
  g_assert_cmpuint (gradlens_loss_plot_get_n_values (GRADLENS_LOSS_PLOT (panel (window, "loss-plot"))), >=, 2);
  /* An anomaly is always some node's output or gradient (autograd.c's
   * anomaly_report): the banner names it and the graph selects it. */
  g_assert_nonnull (event->node);
  g_assert_nonnull (strstr (gradlens_window_get_error (window), node_name (event->node)));
  g_assert_true (graph_view_get_selection (GRAPH_VIEW (panel (window, "graph"))) == event->node);
  screenshot (window, "diverge");

  gradlens_settings_clear (&s);
  /* Back to the defaults for the other tests. */
  apply_default_settings (popover);
}

/* The dark variant of the theme: panels and charts follow it. */
/* A program of the student's own, opened as `gradlens PROGRAM.py` or Open Program
 * opens it: it runs as written, op by op, and prints what PyTorch prints. A file
 * that is missing or not text is refused with its name, and the lesson stays. */
static void
script_program (GradlensWindow *window)
{
  g_autofree char *dir = g_dir_make_tmp ("gradlens-program-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "mine.py", NULL);
  g_autofree char *binary = g_build_filename (dir, "binary.py", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.py", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFile) binary_file = g_file_new_for_path (binary);
  g_autoptr (GFile) missing_file = g_file_new_for_path (missing);
  g_autoptr (GError) error = NULL;
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  g_autofree char *line = NULL;

  g_assert_true (g_file_set_contents (path, "import torch\n"
                                            "x = torch.ones(2, requires_grad=True)\n"
                                            "y = (x * 3).sum()\n"
                                            "y.backward()\n"
                                            "print(x.grad)\n", -1, NULL));
  g_assert_true (g_file_set_contents (binary, "\xff\xfe\x00import", 9, NULL));

  select_lesson (window, "autograd");
  g_assert_false (gradlens_window_open_program (window, missing_file, &error));
  g_assert_nonnull (strstr (error->message, "missing.py"));
  g_clear_error (&error);
  g_assert_false (gradlens_window_open_program (window, binary_file, &error));
  g_assert_nonnull (strstr (error->message, "binary.py"));
  g_clear_error (&error);
  g_assert_cmpstr (gradlens_window_get_lesson (window)->name, ==, "autograd");

  g_assert_true (gradlens_window_open_program (window, file, &error));
  g_assert_no_error (error);
  g_assert_null (gradlens_window_get_error (window));
  g_assert_cmpstr (gradlens_window_get_lesson (window)->name, ==, "mine");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "mine.py — GradLens");
  line = gradlens_code_view_dup_line_text (code, 3);
  g_assert_cmpstr (line, ==, "y = (x * 3).sum()");
  g_assert_cmpint (status_of (window), ==, STEPPER_READY);

  /* Op by op: MulBackward0 (and x's AccumulateGrad), then SumBackward0. */
  while (nodes->len < 3)
    command (window, "step-op");
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 3);
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  {
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (panel (window, "output-view")));
    g_autofree char *output = NULL;
    GtkTextIter start, end;

    gtk_text_buffer_get_bounds (buffer, &start, &end);
    output = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_cmpstr (output, ==, "tensor([3., 3.])\n");
  }
  screenshot (window, "program");

  /* Back to a lesson from the picker: the program goes, the lesson runs. */
  select_lesson (window, "requires-grad");
  g_assert_cmpstr (gradlens_window_get_lesson (window)->name, ==, "requires-grad");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "GradLens");

  g_remove (path);
  g_remove (binary);
  g_rmdir (dir);
}

static void
script_dark (GradlensWindow *window)
{
  GtkSettings *settings = gtk_settings_get_default ();

  g_assert_false (theme_is_dark (GTK_WIDGET (window)));
  g_object_set (settings, "gtk-application-prefer-dark-theme", TRUE, NULL);
  select_lesson (window, "finetune");
  run_forward (window);
  command (window, "optimizer-step");
  wait_painted (window);
  g_assert_true (theme_is_dark (GTK_WIDGET (window)));
  g_assert_true (theme_is_dark (panel (window, "loss-plot")));
  gradlens_window_select_node (window, find_leaf_node (window, "fc.weight"));
  screenshot (window, "dark");
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
}

/* --- Without a window ----------------------------------------------------------- */

static void
test_settings_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gradlens-settings-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sub", "settings.ini", NULL);
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_autoptr (GError) error = NULL;
  GradlensSettings a, b;

  gradlens_settings_init (&a);
  gradlens_settings_init (&b);
  /* A missing file: the defaults, and no error. */
  g_assert_true (gradlens_settings_load (&b, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (b.input_size, ==, 64);
  g_assert_cmpfloat (b.lr, ==, 1e-2);

  a.lesson = g_strdup ("freeze");
  a.input_size = 224;
  a.seed = 42;
  a.lr = 0.125;
  a.momentum = 0.5;
  a.steps = 7;
  a.zero_grad = FALSE;
  a.speed = 12;
  g_assert_true (gradlens_settings_save (&a, path, &error));
  g_assert_no_error (error);
  g_assert_true (gradlens_settings_load (&b, path, &error));
  g_assert_cmpstr (b.lesson, ==, "freeze");
  g_assert_cmpint (b.input_size, ==, 224);
  g_assert_cmpuint (b.seed, ==, 42);
  g_assert_cmpfloat (b.lr, ==, 0.125);
  g_assert_cmpfloat (b.momentum, ==, 0.5);
  g_assert_cmpint (b.steps, ==, 7);
  g_assert_false (b.zero_grad);
  g_assert_cmpfloat (b.speed, ==, 12);

  /* Values out of range fall back to the defaults, one by one. */
  g_assert_true (g_file_set_contents (path, "[lesson]\ninput-size=100\nlr=-1\nmomentum=0.25\n"
                                            "steps=0\n", -1, NULL));
  gradlens_settings_clear (&b);
  gradlens_settings_init (&b);
  g_assert_false (gradlens_settings_load (&b, path, &error));
  g_assert_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_VALUE);
  g_clear_error (&error);
  g_assert_cmpint (b.input_size, ==, 64);
  g_assert_cmpfloat (b.lr, ==, 1e-2);
  g_assert_cmpfloat (b.momentum, ==, 0.25);
  g_assert_cmpint (b.steps, ==, 3);

  /* Not a key file: an error naming it. */
  g_assert_true (g_file_set_contents (path, "\x01\x02 not ini", -1, NULL));
  g_assert_false (gradlens_settings_load (&b, path, &error));
  g_assert_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, path));

  g_remove (path);
  g_rmdir (sub);
  g_rmdir (dir);
  gradlens_settings_clear (&a);
  gradlens_settings_clear (&b);
}

/* Pixels of a painter on a white ARGB surface: how many are not white. */
static int
count_ink (cairo_surface_t *surface)
{
  int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface), n = 0;
  const unsigned char *data;

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if ((((const guint32 *) (data + y * stride))[x] & 0xffffff) != 0xffffff)
        n++;
  return n;
}

static void
test_painters (void)
{
  PlotColors colors;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 300, 160);
  cairo_t *cr = cairo_create (surface);
  double losses[] = { 5, 3, NAN, 2 };
  float values[] = { -2, -1, 0, 0, 1, 2, 3, 3, 3, NAN };
  Histogram hist;
  int empty_ink, line_ink;
  float abs_max;
  cairo_surface_t *map;

  plot_colors_init_default (&colors, FALSE);

  loss_plot_paint (cr, &colors, losses, 0, 300, 160);
  empty_ink = count_ink (surface);
  loss_plot_paint (cr, &colors, losses, 4, 300, 160);
  line_ink = count_ink (surface);
  g_assert_cmpint (line_ink, >, empty_ink);

  histogram_compute (&hist, values, G_N_ELEMENTS (values), 5);
  g_assert_cmpint (hist.n_nonfinite, ==, 1);
  g_assert_cmpfloat (hist.lo, ==, -2);
  g_assert_cmpfloat (hist.hi, ==, 3);
  g_assert_cmpint (hist.counts[0], ==, 1);    /* -2 */
  g_assert_cmpint (hist.counts[2], ==, 2);    /* 0, 0 */
  g_assert_cmpint (hist.counts[4], ==, 4);    /* 2 and 3, 3, 3: the top edge is in the last bin */
  g_assert_cmpint (hist.max_count, ==, 4);
  histogram_paint (cr, &hist, &colors, 300, 160);
  g_assert_cmpint (count_ink (surface), >, 0);
  histogram_clear (&hist);

  /* Heat map: -1 blue, +1 red, 0 white. */
  map = heatmap_surface_new ((float[]) { -1, 0, 0.5, 1 }, 2, 2, &abs_max);
  g_assert_cmpfloat (abs_max, ==, 1);
  {
    const guint32 *px = (const guint32 *) cairo_image_surface_get_data (map);
    int stride = cairo_image_surface_get_stride (map) / 4;
    g_assert_cmpuint (px[1] & 0xffffff, ==, 0xffffff);
    g_assert_cmpuint ((px[0] & 0xff), >, (px[0] >> 16) & 0xff);                  /* blue */
    g_assert_cmpuint ((px[stride + 1] >> 16) & 0xff, >, px[stride + 1] & 0xff);  /* red */
  }
  cairo_surface_destroy (map);

  /* Filters: only 3 input channels make images. */
  {
    float w[2 * 3 * 2 * 2];
    for (guint i = 0; i < G_N_ELEMENTS (w); i++)
      w[i] = (float) i;
    map = filters_surface_new (w, 2, 3, 2, 2, 2);
    g_assert_nonnull (map);
    g_assert_cmpint (cairo_image_surface_get_width (map), ==, 2 * 3 - 1);
    cairo_surface_destroy (map);
    g_assert_null (filters_surface_new (w, 3, 2, 2, 2, 2));
  }

  {
    g_autofree char *small = plot_format_value (1.5e-5);
    g_autofree char *count = gradlens_format_count (11689512);
    g_assert_cmpstr (small, ==, "1.50e-05");
    g_assert_cmpstr (count, ==, "11,689,512");
  }

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config = NULL;
  int status;

  /* Settings and converted weights go to a fresh folder, never the user's. */
  config = app_home_new ("gradlens-test-app");
  g_setenv ("OPENBLAS_NUM_THREADS", "2", FALSE);

  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/app/settings", test_settings_round_trip);
  g_test_add_func ("/ui/app/painters", test_painters);
  g_test_add_data_func ("/ui/app/autograd", script_autograd, run_in_app);
  g_test_add_data_func ("/ui/app/finetune", script_finetune, run_in_app);
  g_test_add_data_func ("/ui/app/freeze", script_freeze, run_in_app);
  g_test_add_data_func ("/ui/app/resnet18-forward", script_resnet18, run_in_app);
  g_test_add_data_func ("/ui/app/play", script_play, run_in_app);
  g_test_add_data_func ("/ui/app/settings-popover", script_settings, run_in_app);
  g_test_add_data_func ("/ui/app/files", script_files, run_in_app);
  g_test_add_data_func ("/ui/app/diverge", script_diverge, run_in_app);
  g_test_add_data_func ("/ui/app/dark", script_dark, run_in_app);
  g_test_add_data_func ("/ui/app/program", script_program, run_in_app);

  status = g_test_run ();

  app_home_remove (config);
  return status;
}

/* gradlens-window.c: the main window: lessons, commands and selection
 *
 * Keeping the panels in step with the stepper is gradlens-window-sync.c's; the
 * actions are in gradlens-window-actions.c, files in gradlens-window-files.c.
 */

#include "gradlens-window-private.h"
#include "module.h"
#include "program.h"
#include "sgd.h"
#include "theme.h"

#include <glib/gi18n.h>
#include <string.h>

G_DEFINE_FINAL_TYPE (GradlensWindow, gradlens_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  SIGNAL_SYNCED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void set_lesson (GradlensWindow *self, const Lesson *lesson);

void
_gradlens_window_emit_synced (GradlensWindow *self)
{
  g_signal_emit (self, signals[SIGNAL_SYNCED], 0);
}

/* --- Small helpers ---------------------------------------------------------- */

gboolean
gradlens_window_is_busy (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);

  return self->stepper != NULL && stepper_get_status (self->stepper) == STEPPER_RUNNING;
}

/* The engine may be read: nothing runs on the worker. */
static gboolean
engine_readable (GradlensWindow *self)
{
  return self->stepper != NULL && stepper_get_status (self->stepper) != STEPPER_RUNNING;
}

Module *
_gradlens_window_get_model (GradlensWindow *self)
{
  LessonRun *run;

  if (!engine_readable (self))
    return NULL;
  run = stepper_get_run (self->stepper);
  return run != NULL ? lesson_run_get_model (run) : NULL;
}

gboolean
_gradlens_window_has_model (GradlensWindow *self)
{
  return _gradlens_window_get_model (self) != NULL;
}

static const char *
name_tensor (const Tensor *t,
             gpointer      user_data)
{
  GradlensWindow *self = user_data;
  LessonRun *run;

  if (!engine_readable (self) || (run = stepper_get_run (self->stepper)) == NULL)
    return NULL;
  return lesson_run_tensor_name (run, t);
}

/* --- The error banner ---------------------------------------------------------- */

void
gradlens_window_show_error (GradlensWindow *self,
                            const char     *message)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (message == NULL)
    {
      gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
      gtk_label_set_text (self->banner_label, "");
      return;
    }
  gtk_label_set_text (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
  /* In the log too, unless the log said it already (an anomaly's sentence). */
  {
    guint n = gradlens_event_log_get_n_entries (self->event_log);
    if (n == 0 || g_strcmp0 (gradlens_event_log_get_text (self->event_log, n - 1), message) != 0)
      gradlens_event_log_append (self->event_log, "error", message);
  }
}

const char *
gradlens_window_get_error (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->banner_revealer))
    return NULL;
  return gtk_label_get_text (self->banner_label);
}

static void
on_banner_close (GtkButton      *button,
                 GradlensWindow *self)
{
  gradlens_window_show_error (self, NULL);
}

/* --- Settings ----------------------------------------------------------------- */

static void
save_settings (GradlensWindow *self)
{
  g_autoptr (GError) error = NULL;

  /* Said once: a read-only folder would otherwise repeat it at every change. */
  if (!gradlens_settings_save (&self->settings, self->settings_path, &error)
      && !self->settings_save_warned)
    {
      self->settings_save_warned = TRUE;
      gradlens_window_show_error (self, error->message);
    }
}

void
_gradlens_window_params_from_settings (GradlensWindow *self,
                                       LessonParams   *params)
{
  lesson_params_init (params);
  params->size = self->settings.input_size;
  params->seed = self->settings.seed;
  params->lr = (float) self->settings.lr;
  params->momentum = (float) self->settings.momentum;
  params->steps = self->settings.steps;
  params->zero_grad = self->settings.zero_grad;
  params->frozen = g_strdupv (self->frozen);
  params->weights = g_strdup (self->weights);
}

static void
on_settings_apply (GradlensSettingsPopover *popover,
                   GradlensWindow          *self)
{
  gradlens_settings_popover_get (popover, &self->settings);
  save_settings (self);
  gradlens_window_reset (self);
}

static void
on_speed_changed (GtkAdjustment  *adjustment,
                  GradlensWindow *self)
{
  self->settings.speed = gtk_adjustment_get_value (adjustment);
  save_settings (self);
}

/* --- Lessons ----------------------------------------------------------------------- */

static void on_lesson_selected (GtkDropDown *dropdown, GParamSpec *pspec, GradlensWindow *self);
static void run_picked         (GradlensWindow *self, gpointer data);

/* Back to the start of the lesson: a fresh run with the current settings. */
static void
restart (GradlensWindow *self)
{
  LessonParams params;
  LessonRun *run;

  _gradlens_window_set_playing (self, FALSE);
  self->goal = GOAL_NONE;

  _gradlens_window_params_from_settings (self, &params);
  if (self->stepper == NULL)
    {
      self->stepper = stepper_new (self->lesson, &params,
                                   STEPPER_STOP_OP | STEPPER_STOP_PHASE | STEPPER_STOP_ANOMALY,
                                   g_main_context_default (), _gradlens_window_on_stepper_notify, self);
      stepper_set_event_hook (self->stepper, _gradlens_window_on_event, self);
    }
  else
    stepper_reset (self->stepper, &params);
  lesson_params_clear (&params);

  /* The worker is gone: the hook's counters start over. */
  self->forward_first_id = 0;
  g_atomic_int_set (&self->hook_phase, LESSON_PHASE_FORWARD);
  self->hook_new_step = FALSE;
  self->hook_n_vars = 0;
  _gradlens_window_log_queue_clear (self);

  g_ptr_array_set_size (self->graph_nodes, 0);
  self->n_losses = 0;
  self->output_len = 0;
  self->chart_updated = 0;
  self->chart_phase = LESSON_PHASE_COUNT;
  self->inspector_follows = TRUE;
  self->reported_finish = FALSE;
  self->told_divergence = FALSE;

  run = stepper_get_run (self->stepper);
  gradlens_code_view_set_code (self->code_view, lesson_run_get_source (run));
  /* A lesson's own text, with the settings written in, is what Revert returns to. */
  if (self->lesson->builtin)
    _gradlens_window_set_origin (self, lesson_run_get_source (run), self->lesson, NULL);
  _gradlens_window_push_breakpoints (self);
  gradlens_event_log_clear (self->event_log);
  /* A bundled lesson's or example's summary is translated; a program's own is its
   * header's. */
  if (self->lesson->summary[0] != '\0')
    gradlens_event_log_append (self->event_log, "info",
                               self->lesson->bundled ? _(self->lesson->summary)
                                                     : self->lesson->summary);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->output_view), "", 0);
  gradlens_loss_plot_clear (self->loss_plot);
  gradlens_variable_list_update (self->variable_list, NULL);
  gradlens_inspector_clear (self->inspector);
  graph_view_set_nodes (self->graph_view, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->optimizer_box), self->lesson->uses_resnet);
  /* The loss and the layers are a training program's (an optimizer's): without
   * one an empty plot would only say so; the log takes its room. */
  gtk_widget_set_visible (GTK_WIDGET (self->plot_notebook), self->lesson->uses_optimizer);

  _gradlens_window_sync (self);
}

/* resnet18's 134 nodes, side by side, are an illegible strip: it opens as an
 * overview, one box per BasicBlock with its node and parameter counts, each a
 * click away from its nodes. */
static void
fold_blocks (GradlensWindow *self,
             gboolean        folded)
{
  for (int layer = 1; layer <= 4; layer++)
    for (int block = 0; block < 2; block++)
      {
        g_autofree char *path = g_strdup_printf ("layer%d.%d", layer, block);
        graph_view_set_module_collapsed (self->graph_view, path, folded);
      }
}

static void
set_lesson (GradlensWindow *self,
            const Lesson   *lesson)
{
  g_return_if_fail (lesson != NULL);

  if (self->lesson != lesson)
    {
      /* A different program: its own worker and its own graph. */
      g_clear_pointer (&self->stepper, stepper_free);
      self->lesson = lesson;
      /* The next start opens the last built-in lesson (a program's file may be
       * gone by then). */
      if (lesson->builtin)
        {
          g_free (self->settings.lesson);
          self->settings.lesson = g_strdup (lesson->name);
          save_settings (self);
        }
      gradlens_window_show_error (self, NULL);
      gradlens_module_tree_set_model (self->module_tree, NULL, NULL);
      fold_blocks (self, lesson->uses_resnet);
    }
  restart (self);
}

gboolean
gradlens_window_select_lesson (GradlensWindow *self,
                               const char     *name)
{
  const Lesson *const *lessons;
  guint n;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  lessons = lesson_list (&n);
  for (guint i = 0; i < n; i++)
    if (g_str_equal (lessons[i]->name, name))
      {
        /* Picking the same one again starts it over, as a fresh run. */
        run_picked (self, GUINT_TO_POINTER (i));
        return TRUE;
      }
  return FALSE;
}

/* What opening a program does, a file's or an example's: it runs from its first
 * line in place of what ran, the picker calls it label, Revert returns to its
 * text (and Save writes to file, if it has one), and the log says what was
 * opened. A program that could not be made (NULL) is refused with failure, its
 * reason, and what was shown stays. */
static gboolean
run_opened (GradlensWindow *self,
            Lesson         *program,
            GError         *failure,
            const char     *label,
            GFile          *file,
            const char     *opened,
            GError        **error)
{
  if (program == NULL)
    {
      gradlens_window_show_error (self, failure->message);
      g_propagate_error (error, failure);
      return FALSE;
    }

  _gradlens_window_run_program (self, program, label);
  _gradlens_window_set_origin (self, program->source, NULL, file);
  if (file != NULL)
    _gradlens_window_remember_recent (self, file);
  {
    /* Translators: %s is a Python file the student opened, or an example's title. */
    g_autofree char *message = g_strdup_printf (_("Opened %s: it runs as written, from its "
                                                  "first line"), opened);
    gradlens_event_log_append (self->event_log, "info", message);
  }
  return TRUE;
}

/* A program of the student's own: it runs as written, step by step, as a lesson
 * does. A file that cannot be read, or is not UTF-8, is refused with its reason
 * and the lesson shown stays; a syntax error is marked before anything runs. */
gboolean
gradlens_window_open_program (GradlensWindow *self,
                              GFile          *file,
                              GError        **error)
{
  g_autofree char *path = NULL;
  GError *local = NULL;
  Lesson *program = NULL;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (&local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot open %s: only local files can be opened"), uri);
    }
  else
    program = program_lesson_new_from_file (path, &local);
  return run_opened (self, program, local, path, file, path, error);
}

/* An example is a program without a file yet: the picker calls it by its title
 * (which has no "/" for the picker's base name to cut), Save asks where to
 * write it, under its own file name. */
gboolean
gradlens_window_open_example (GradlensWindow *self,
                              const char     *name,
                              GError        **error)
{
  GError *local = NULL;
  Lesson *program;
  const char *title;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  program = example_new (name, &local);
  title = program != NULL ? _(program->title) : NULL;
  return run_opened (self, program, local, title, NULL, title, error);
}

/* The picker shows a program after the lessons, by its file's name (NULL: no
 * program entry; the picker keeps the lesson it shows). Not a choice of the
 * student's: nothing restarts. */
void
_gradlens_window_show_program_in_picker (GradlensWindow *self,
                                         const char     *path)
{
  GtkStringList *titles = GTK_STRING_LIST (gtk_drop_down_get_model (self->lesson_dropdown));
  g_autofree char *base = path != NULL ? g_path_get_basename (path) : NULL;
  const char *const item[] = { base, NULL };
  guint n_lessons;

  lesson_list (&n_lessons);
  g_signal_handlers_block_by_func (self->lesson_dropdown, on_lesson_selected, self);
  gtk_string_list_splice (titles, n_lessons,
                          g_list_model_get_n_items (G_LIST_MODEL (titles)) - n_lessons,
                          base != NULL ? item : NULL);
  if (base != NULL)
    gtk_drop_down_set_selected (self->lesson_dropdown, n_lessons);
  g_signal_handlers_unblock_by_func (self->lesson_dropdown, on_lesson_selected, self);
}

/* Runs program (owned) from its first line in place of what ran: a file the
 * student opened, a new one, or an edited text. path: what the picker calls it
 * (NULL: the picker stays on its lesson). A syntax error is marked before
 * anything runs. */
void
_gradlens_window_run_program (GradlensWindow *self,
                              Lesson         *program,
                              const char     *path)
{
  g_autoptr (GError) syntax = NULL;
  Lesson *old = g_steal_pointer (&self->program);

  self->program = program;
  _gradlens_window_show_program_in_picker (self, path);
  set_lesson (self, program);
  /* The old program goes once its worker has (set_lesson freed the stepper). */
  lesson_free (old);
  if (!program_check_syntax (program->filename, program->source, &syntax))
    gradlens_code_view_show_error (self->code_view, syntax->message, 0);
}

void
_gradlens_window_select_builtin (GradlensWindow *self,
                                 const Lesson   *lesson)
{
  _gradlens_window_show_program_in_picker (self, NULL);
  set_lesson (self, lesson);
  g_clear_pointer (&self->program, lesson_free);
}

const Lesson *
gradlens_window_get_lesson (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), NULL);

  return self->lesson;
}

Stepper *
gradlens_window_get_stepper (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), NULL);

  return self->stepper;
}

/* The picker's entry for what runs: a lesson's index, or the program's after them. */
static guint
picker_index (GradlensWindow *self)
{
  const Lesson *const *lessons;
  guint n;

  lessons = lesson_list (&n);
  for (guint i = 0; i < n; i++)
    if (lessons[i] == self->lesson)
      return i;
  return n;
}

static void
run_picked (GradlensWindow *self,
            gpointer        data)
{
  const Lesson *const *lessons;
  guint n, i = GPOINTER_TO_UINT (data);

  lessons = lesson_list (&n);
  g_signal_handlers_block_by_func (self->lesson_dropdown, on_lesson_selected, self);
  gtk_drop_down_set_selected (self->lesson_dropdown, i);
  g_signal_handlers_unblock_by_func (self->lesson_dropdown, on_lesson_selected, self);
  if (i < n)
    _gradlens_window_select_builtin (self, lessons[i]);
  else if (self->program != NULL)
    set_lesson (self, self->program);
}

/* The student picked a lesson: an edited program is not dropped unasked. */
static void
on_lesson_selected (GtkDropDown    *dropdown,
                    GParamSpec     *pspec,
                    GradlensWindow *self)
{
  guint i = gtk_drop_down_get_selected (dropdown);

  if (i == picker_index (self))
    return;
  if (_gradlens_window_is_modified (self))
    {
      /* The picker shows what runs until the student says. */
      g_signal_handlers_block_by_func (dropdown, on_lesson_selected, self);
      gtk_drop_down_set_selected (dropdown, picker_index (self));
      g_signal_handlers_unblock_by_func (dropdown, on_lesson_selected, self);
      _gradlens_window_confirm_discard (self, run_picked, GUINT_TO_POINTER (i), NULL);
      return;
    }
  run_picked (self, GUINT_TO_POINTER (i));
}

/* --- The commands ------------------------------------------------------------------ */

static gboolean
can_command (GradlensWindow *self)
{
  if (self->stepper == NULL)
    return FALSE;
  switch (stepper_get_status (self->stepper))
    {
    case STEPPER_READY:
    case STEPPER_PAUSED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* A command from the student: it ends play and goals. */
static gboolean
begin_command (GradlensWindow *self)
{
  /* The text being typed is what runs. */
  _gradlens_window_apply_edit (self);
  if (!can_command (self))
    return FALSE;
  _gradlens_window_set_playing (self, FALSE);
  self->goal = GOAL_NONE;
  return TRUE;
}

static void
after_command (GradlensWindow *self)
{
  _gradlens_window_update_actions (self);
}

void
gradlens_window_step_op (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (!begin_command (self))
    return;
  /* Never across a phase: the backward gets its own steps. */
  stepper_set_stops (self->stepper, STEPPER_STOP_OP | STEPPER_STOP_PHASE | STEPPER_STOP_ANOMALY);
  _gradlens_window_send (self, COMMAND_STEP);
  after_command (self);
}

void
gradlens_window_step_line (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (!begin_command (self))
    return;
  _gradlens_window_send (self, COMMAND_LINE);
  after_command (self);
}

void
gradlens_window_step_backward_node (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (!begin_command (self))
    return;
  stepper_set_stops (self->stepper, STEPPER_STOP_BACKWARD_NODE | STEPPER_STOP_PHASE
                                    | STEPPER_STOP_ANOMALY);
  _gradlens_window_send (self, COMMAND_STEP);
  after_command (self);
}

void
gradlens_window_run_to_phase_end (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (!begin_command (self))
    return;
  _gradlens_window_send (self, COMMAND_PHASE);
  after_command (self);
}

void
gradlens_window_run_to_end (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (!begin_command (self))
    return;
  _gradlens_window_send (self, COMMAND_END);
  after_command (self);
}

void
gradlens_window_play_pause (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (self->playing)
    {
      _gradlens_window_set_playing (self, FALSE);
      after_command (self);
      return;
    }
  if (!begin_command (self))
    return;
  _gradlens_window_set_playing (self, TRUE);
  _gradlens_window_play_tick (self);
}

gboolean
gradlens_window_is_playing (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);

  return self->playing;
}

void
gradlens_window_reset (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  _gradlens_window_apply_edit (self);
  if (self->lesson != NULL)
    restart (self);
}

static void
start_goal (GradlensWindow *self,
            RunGoal         goal)
{
  if (!begin_command (self))
    return;
  self->goal = goal;
  self->goal_seen = FALSE;
  if (stepper_get_status (self->stepper) == STEPPER_PAUSED)
    self->goal_seen = lesson_run_get_phase (stepper_get_run (self->stepper))
                      == (goal == GOAL_AFTER_OPTIMIZER ? LESSON_PHASE_OPTIMIZER
                                                       : LESSON_PHASE_ZERO_GRAD);
  _gradlens_window_send (self, COMMAND_PHASE);
  after_command (self);
}

void
gradlens_window_optimizer_step (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  start_goal (self, GOAL_AFTER_OPTIMIZER);
}

void
gradlens_window_zero_grad (GradlensWindow *self)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  start_goal (self, GOAL_AFTER_ZERO_GRAD);
}

/* --- Selection ----------------------------------------------------------------------- */

GPtrArray *
gradlens_window_get_graph_nodes (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), NULL);

  return self->graph_nodes;
}

/* Selects node in the graph view without passing it back to the other panels. */
static void
select_in_graph (GradlensWindow *self,
                 Node           *node)
{
  self->selecting = TRUE;
  graph_view_set_selection (self->graph_view, node);
  self->selecting = FALSE;
}

void
gradlens_window_select_node (GradlensWindow *self,
                             Node           *node)
{
  g_return_if_fail (GRADLENS_IS_WINDOW (self));

  if (!engine_readable (self))
    return;
  self->inspector_follows = FALSE;
  gradlens_inspector_show_node (self->inspector, node);
  select_in_graph (self, node);
}

static void
on_inspector_node_activated (GradlensInspector *inspector,
                             Node              *node,
                             GradlensWindow    *self)
{
  self->inspector_follows = FALSE;
  select_in_graph (self, node);
}

/* Follow mode keeps the newest node in view by the least move; a graph that
 * fits whole (the small lessons') is better kept whole and centred. */
static void
on_graph_layout_changed (GraphView      *view,
                         GradlensWindow *self)
{
  const GraphLayout *layout = graph_view_get_layout (view);
  int width = gtk_widget_get_width (GTK_WIDGET (view));
  int height = gtk_widget_get_height (GTK_WIDGET (view));

  if (layout != NULL && graph_view_get_follow (view)
      && layout->width + 48 <= width && layout->height + 48 <= height)
    graph_view_zoom_fit (view);
}

/* A variable of the program: a tensor goes to the inspector (and its grad_fn
 * is selected in the graph); the model to the module tree. */
static void
on_variable_activated (GradlensVariableList *list,
                       const char           *name,
                       GradlensWindow       *self)
{
  const LessonVar *var;

  if (!engine_readable (self)
      || (var = lesson_run_lookup (stepper_get_run (self->stepper), name)) == NULL)
    return;

  if (var->kind == LESSON_VAR_TENSOR)
    {
      Tensor *t = var->value;

      self->inspector_follows = FALSE;
      gradlens_inspector_show_tensor (self->inspector, t, name);
      select_in_graph (self, t->grad_fn != NULL ? t->grad_fn : t->grad_accumulator);
    }
  else if (var->kind == LESSON_VAR_MODULE)
    gradlens_module_tree_select (self->module_tree, "");
}

/* A click in the graph: the inspector shows the node, the module tree its
 * parameter. */
static void
on_graph_node_selected (GraphView      *view,
                        Node           *node,
                        guint64         id,
                        GradlensWindow *self)
{
  LessonRun *run;
  const char *name;

  if (self->selecting || node == NULL || !engine_readable (self))
    return;
  self->inspector_follows = FALSE;
  gradlens_inspector_show_node (self->inspector, node);

  run = stepper_get_run (self->stepper);
  if (node->op == OP_ACCUMULATE_GRAD && node->variable != NULL
      && (name = lesson_run_tensor_name (run, node->variable)) != NULL)
    {
      self->selecting = TRUE;
      gradlens_module_tree_select (self->module_tree, name);
      self->selecting = FALSE;
    }
}

/* Typing finds the first match; Enter the next one. */
static void
on_graph_search (GtkSearchEntry *entry,
                 GradlensWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  if (*text == '\0')
    return;
  if (!graph_view_search (self->graph_view, text))
    gtk_widget_error_bell (GTK_WIDGET (entry));
}

static void
on_graph_search_changed (GtkSearchEntry *entry,
                         GradlensWindow *self)
{
  graph_view_set_selection (self->graph_view, NULL);
  on_graph_search (entry, self);
}


static void
on_module_selected (GradlensModuleTree *tree,
                    const char         *name,
                    Tensor             *tensor,
                    GradlensWindow     *self)
{
  if (self->selecting || !engine_readable (self))
    return;
  /* Before the program ran, the tree shows a preview of the model it will
   * build: its values are not the program's yet. */
  if (stepper_get_status (self->stepper) == STEPPER_READY)
    return;

  self->selecting = TRUE;
  if (tensor != NULL)
    {
      /* A parameter: its AccumulateGrad, when this graph has one (frozen ones
       * have none). */
      self->inspector_follows = FALSE;
      gradlens_inspector_show_tensor (self->inspector, tensor, name);
      if (tensor->grad_accumulator != NULL)
        graph_view_set_selection (self->graph_view, tensor->grad_accumulator);
    }
  else if (*name)
    {
      /* A module: its first node, centred. */
      graph_view_set_selection (self->graph_view, NULL);
      graph_view_search (self->graph_view, name);
    }
  self->selecting = FALSE;
}

static gboolean
restart_after_freeze (gpointer user_data)
{
  GradlensWindow *self = user_data;
  g_autofree char *names = g_strjoinv (", ", self->frozen);
  g_autofree char *text = g_strdup_printf (_("The program now reads frozen = (%s) and runs "
                                             "from its first line."), names);

  self->restart_id = 0;
  restart (self);
  gradlens_event_log_append (self->event_log, "info", text);
  /* Said where the student looks: over the program, whose line changed. */
  gradlens_code_view_set_phase (self->code_view, "idle", _("Ready"), text);
  return G_SOURCE_REMOVE;
}

/* The student changed what trains. */
static void
on_module_tree_changed (GradlensModuleTree *tree,
                        GradlensWindow     *self)
{
  LessonRun *run;
  g_autofree char *message = NULL;

  if (self->stepper == NULL)
    return;
  run = stepper_get_run (self->stepper);

  if (self->lesson == lesson_find ("freeze", NULL))
    {
      /* The program names what it freezes (`frozen = (...)`) and the code view
       * shows it: keep it true by starting over with the new list. Its first
       * forward pass is the next one. */
      g_strfreev (self->frozen);
      self->frozen = gradlens_module_tree_dup_frozen_names (tree);
      /* Not from inside the tree's own signal: the restart rebuilds the tree. */
      if (self->restart_id == 0)
        self->restart_id = g_idle_add (restart_after_freeze, self);
      return;
    }

  {
    ParamCounts counts;
    g_autofree char *trainable = NULL;
    gradlens_module_tree_get_counts (tree, &counts);
    trainable = gradlens_format_count (counts.trainable);
    message = g_strdup_printf (_("requires_grad changed: %s parameters train now; the "
                                 "change shows from the next forward pass"), trainable);
  }
  gradlens_event_log_append (self->event_log, "info", message);
  {
    g_autofree char *phase = g_strdup (gradlens_code_view_get_phase (self->code_view));
    g_autofree char *title = g_strdup (gradlens_code_view_get_phase_title (self->code_view));
    gradlens_code_view_set_phase (self->code_view, phase, title, message);
  }
  gradlens_inspector_refresh (self->inspector);
  if (run != NULL)
    _gradlens_window_update_layer_chart (self, run, TRUE);
}

/* --- Panels for tests ------------------------------------------------------------------- */

GtkWidget *
gradlens_window_get_panel (GradlensWindow *self,
                           const char     *name)
{
  static const struct
  {
    const char *name;
    gsize offset;
  } panels[] = {
    { "code-view", G_STRUCT_OFFSET (GradlensWindow, code_view) },
    { "module-tree", G_STRUCT_OFFSET (GradlensWindow, module_tree) },
    { "inspector", G_STRUCT_OFFSET (GradlensWindow, inspector) },
    { "event-log", G_STRUCT_OFFSET (GradlensWindow, event_log) },
    { "output-view", G_STRUCT_OFFSET (GradlensWindow, output_view) },
    { "variable-list", G_STRUCT_OFFSET (GradlensWindow, variable_list) },
    { "loss-plot", G_STRUCT_OFFSET (GradlensWindow, loss_plot) },
    { "layer-chart", G_STRUCT_OFFSET (GradlensWindow, layer_chart) },
    { "graph", G_STRUCT_OFFSET (GradlensWindow, graph_view) },
    { "graph-search", G_STRUCT_OFFSET (GradlensWindow, graph_search) },
    { "lesson-dropdown", G_STRUCT_OFFSET (GradlensWindow, lesson_dropdown) },
    { "settings-popover", G_STRUCT_OFFSET (GradlensWindow, settings_popover) },
    { "play-button", G_STRUCT_OFFSET (GradlensWindow, play_button) },
    { "speed", G_STRUCT_OFFSET (GradlensWindow, speed_button) },
    { "plot-notebook", G_STRUCT_OFFSET (GradlensWindow, plot_notebook) },
    { "log-notebook", G_STRUCT_OFFSET (GradlensWindow, log_notebook) },
  };

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (panels); i++)
    if (g_str_equal (panels[i].name, name))
      return G_STRUCT_MEMBER (GtkWidget *, self, panels[i].offset);
  return NULL;
}

/* --- GObject -------------------------------------------------------------------------- */

static void
gradlens_window_dispose (GObject *object)
{
  GradlensWindow *self = GRADLENS_WINDOW (object);

  g_clear_handle_id (&self->play_id, g_source_remove);
  g_clear_handle_id (&self->restart_id, g_source_remove);
  g_clear_handle_id (&self->busy_id, g_source_remove);
  g_clear_handle_id (&self->status_hide_id, g_source_remove);
  _gradlens_window_panes_dispose (self);
  _gradlens_window_edit_dispose (self);
  /* Joins the worker: nothing reads the window from another thread after this. */
  g_clear_pointer (&self->stepper, stepper_free);
  g_clear_pointer (&self->program, lesson_free);
  g_clear_pointer (&self->graph_nodes, g_ptr_array_unref);
  g_clear_pointer (&self->preview_model, module_unref);
  /* A selected list box row removed while the window itself is going (GTK 4.8)
   * asks the half-destroyed window for its focus: empty the list first. */
  if (self->variable_list != NULL)
    gradlens_variable_list_update (self->variable_list, NULL);

  G_OBJECT_CLASS (gradlens_window_parent_class)->dispose (object);
}

static void
gradlens_window_finalize (GObject *object)
{
  GradlensWindow *self = GRADLENS_WINDOW (object);

  g_clear_pointer (&self->log_queue, g_async_queue_unref);
  g_clear_pointer (&self->disabled_actions, g_hash_table_unref);
  gradlens_settings_clear (&self->settings);
  g_free (self->settings_path);
  g_strfreev (self->frozen);
  g_free (self->weights);

  G_OBJECT_CLASS (gradlens_window_parent_class)->finalize (object);
}

/* "application" is set after construction: the accelerators follow it. */
static void
on_application_set (GradlensWindow *self,
                    GParamSpec     *pspec,
                    gpointer        user_data)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (app != NULL)
    _gradlens_window_set_accels (app);
}

static void
gradlens_window_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  GradlensWindow *self = GRADLENS_WINDOW (widget);

  self->allocating = TRUE;
  GTK_WIDGET_CLASS (gradlens_window_parent_class)->size_allocate (widget, width, height, baseline);
  self->allocating = FALSE;
  _gradlens_window_panes_allocated (self);
}

static void
gradlens_window_class_init (GradlensWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_window_dispose;
  object_class->finalize = gradlens_window_finalize;
  widget_class->size_allocate = gradlens_window_size_allocate;

  /**
   * GradlensWindow::synced:
   *
   * The panels caught up with the stepper, which is paused, finished or
   * ready: a command has completed.
   */
  signals[SIGNAL_SYNCED] = g_signal_new ("synced", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /* The template names these types: make sure they exist. */
  g_type_ensure (GRADLENS_TYPE_PLACEHOLDER);
  g_type_ensure (GRADLENS_TYPE_CODE_VIEW);
  g_type_ensure (GRADLENS_TYPE_MODULE_TREE);
  g_type_ensure (GRADLENS_TYPE_INSPECTOR);
  g_type_ensure (GRADLENS_TYPE_EVENT_LOG);
  g_type_ensure (GRADLENS_TYPE_LOSS_PLOT);
  g_type_ensure (GRADLENS_TYPE_LAYER_CHART);
  g_type_ensure (GRADLENS_TYPE_SETTINGS_POPOVER);
  g_type_ensure (GRAPH_TYPE_VIEW);
  g_type_ensure (GRADLENS_TYPE_VARIABLE_LIST);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, GradlensWindow, name)
  BIND (header_bar);
  BIND (lesson_dropdown);
  BIND (play_button);
  BIND (speed_button);
  BIND (speed_adjustment);
  BIND (primary_menu_button);
  BIND (examples_menu);
  BIND (settings_button);
  BIND (settings_popover);
  BIND (optimizer_box);
  BIND (banner_revealer);
  BIND (banner_label);
  BIND (banner_close_button);
  BIND (main_paned);
  BIND (side_paned);
  BIND (content_paned);
  BIND (center_paned);
  BIND (bottom_paned);
  BIND (code_view);
  BIND (module_tree);
  BIND (graph_slot);
  BIND (graph_placeholder);
  BIND (graph_view);
  BIND (graph_search);
  BIND (graph_toolbar);
  BIND (zoom_out_button);
  BIND (zoom_fit_button);
  BIND (zoom_in_button);
  BIND (legend_button);
  BIND (follow_button);
  BIND (status_revealer);
  BIND (status_spinner);
  BIND (status_label);
  BIND (log_notebook);
  BIND (event_log);
  BIND (output_view);
  BIND (output_tab_label);
  BIND (revert_button);
  BIND (recent_menu);
  BIND (variable_list);
  BIND (plot_notebook);
  BIND (loss_plot);
  BIND (layer_chart);
  BIND (inspector);
#undef BIND

  _gradlens_window_class_init_actions (widget_class);
}

/* The lesson picker: titles in full in its list; in the header bar, cut to
 * fit, so the header bar fits a 1024-px screen. */
static void
setup_lesson_title (GtkSignalListItemFactory *factory,
                    GtkListItem              *item,
                    gpointer                  cut)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (cut != NULL)
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 22);
    }
  gtk_list_item_set_child (item, label);
}

static void
bind_lesson_title (GtkSignalListItemFactory *factory,
                   GtkListItem              *item,
                   gpointer                  user_data)
{
  GtkStringObject *title = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (title));
}

static GtkListItemFactory *
lesson_title_factory (gboolean cut)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_lesson_title), cut ? factory : NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_lesson_title), NULL);
  return factory;
}

static void
gradlens_window_init (GradlensWindow *self)
{
  g_autoptr (GtkBuilder) builder = NULL;
  g_autoptr (GtkStringList) titles = NULL;
  g_autoptr (GError) settings_error = NULL;
  const Lesson *const *lessons;
  guint n_lessons, selected = 0;

  gtk_widget_init_template (GTK_WIDGET (self));
  _gradlens_window_panes_init (self);
  theme_follow_color_scheme ();

  /* GtkApplicationWindow owns the overlay from here on (and destroys it with us). */
  builder = gtk_builder_new_from_resource ("/io/github/gradlens/GradLens/ui/help-overlay.ui");
  gtk_application_window_set_help_overlay (
    GTK_APPLICATION_WINDOW (self),
    GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));

  self->log_queue = _gradlens_window_log_queue_new ();
  self->graph_nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_unref);
  self->inspector_follows = TRUE;
  self->disabled_actions = g_hash_table_new (g_str_hash, g_str_equal);
  _gradlens_window_init_shortcuts (self);

  /* Settings: what was wrong with the file is said once, below, when the first
   * lesson is shown (showing it clears the banner), and the defaults used. */
  gradlens_settings_init (&self->settings);
  self->settings_path = gradlens_settings_default_path ();
  gradlens_settings_load (&self->settings, self->settings_path, &settings_error);
  gradlens_settings_popover_set (self->settings_popover, &self->settings);
  gtk_adjustment_set_value (self->speed_adjustment, self->settings.speed);

  gradlens_inspector_set_namer (self->inspector, name_tensor, self);

  /* The lesson picker: the six lessons by title, in teaching order. */
  titles = gtk_string_list_new (NULL);
  lessons = lesson_list (&n_lessons);
  for (guint i = 0; i < n_lessons; i++)
    {
      gtk_string_list_append (titles, _(lessons[i]->title));
      if (g_strcmp0 (self->settings.lesson, lessons[i]->name) == 0)
        selected = i;
    }
  {
    g_autoptr (GtkListItemFactory) button = lesson_title_factory (TRUE);
    g_autoptr (GtkListItemFactory) list = lesson_title_factory (FALSE);

    gtk_drop_down_set_factory (self->lesson_dropdown, button);
    gtk_drop_down_set_list_factory (self->lesson_dropdown, list);
  }
  gtk_drop_down_set_model (self->lesson_dropdown, G_LIST_MODEL (titles));
  gtk_drop_down_set_selected (self->lesson_dropdown, selected);

  /* The examples, by title: each opens as a program (win.open-example). */
  {
    const Lesson *const *examples;
    guint n_examples;

    examples = example_list (&n_examples);
    for (guint i = 0; i < n_examples; i++)
      {
        /* A menu's label reads "_" as the mnemonic: no_grad needs it doubled. */
        g_auto (GStrv) parts = g_strsplit (_(examples[i]->title), "_", -1);
        g_autofree char *label = g_strjoinv ("__", parts);
        g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);

        g_menu_item_set_action_and_target_value (item, "win.open-example",
                                                 g_variant_new_string (examples[i]->name));
        g_menu_append_item (self->examples_menu, item);
      }
  }

  g_signal_connect (self->lesson_dropdown, "notify::selected", G_CALLBACK (on_lesson_selected), self);
  g_signal_connect (self->settings_popover, "apply", G_CALLBACK (on_settings_apply), self);
  g_signal_connect (self->speed_adjustment, "value-changed", G_CALLBACK (on_speed_changed), self);
  g_signal_connect (self->banner_close_button, "clicked", G_CALLBACK (on_banner_close), self);
  g_signal_connect (self->module_tree, "changed", G_CALLBACK (on_module_tree_changed), self);
  g_signal_connect_swapped (self->code_view, "breakpoints-changed",
                            G_CALLBACK (_gradlens_window_push_breakpoints), self);
  g_signal_connect (self->module_tree, "selected", G_CALLBACK (on_module_selected), self);
  g_signal_connect (self->inspector, "node-activated", G_CALLBACK (on_inspector_node_activated), self);
  g_signal_connect (self, "notify::application", G_CALLBACK (on_application_set), NULL);
  g_signal_connect (self->graph_view, "node-selected", G_CALLBACK (on_graph_node_selected), self);
  g_signal_connect (self->variable_list, "activated", G_CALLBACK (on_variable_activated), self);
  g_signal_connect (self->graph_view, "layout-changed", G_CALLBACK (on_graph_layout_changed), self);
  g_signal_connect (self->graph_search, "activate", G_CALLBACK (on_graph_search), self);
  g_signal_connect (self->graph_search, "search-changed", G_CALLBACK (on_graph_search_changed), self);
  g_signal_connect_swapped (self->zoom_in_button, "clicked", G_CALLBACK (graph_view_zoom_in),
                            self->graph_view);
  g_signal_connect_swapped (self->zoom_out_button, "clicked", G_CALLBACK (graph_view_zoom_out),
                            self->graph_view);
  g_signal_connect_swapped (self->zoom_fit_button, "clicked", G_CALLBACK (graph_view_zoom_fit),
                            self->graph_view);
  /* Fit keeps the graph above the toolbar laid over it. */
  {
    int toolbar_height;

    gtk_widget_measure (self->graph_toolbar, GTK_ORIENTATION_VERTICAL, -1, NULL,
                        &toolbar_height, NULL, NULL);
    graph_view_set_bottom_inset (self->graph_view,
                                 toolbar_height + gtk_widget_get_margin_bottom (self->graph_toolbar));
  }
  /* The view turns follow off when the student moves the camera: the
   * button shows it. */
  graph_view_set_follow (self->graph_view, TRUE);
  g_object_bind_property (self->graph_view, "follow", self->follow_button, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->graph_view, "show-legend", self->legend_button, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);

  _gradlens_window_edit_init (self);
  set_lesson (self, lessons[selected]);
  if (settings_error != NULL)
    gradlens_window_show_error (self, settings_error->message);
}

GradlensWindow *
gradlens_window_new (GradlensApplication *application)
{
  g_return_val_if_fail (GRADLENS_IS_APPLICATION (application), NULL);

  return g_object_new (GRADLENS_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

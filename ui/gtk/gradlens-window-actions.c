/* gradlens-window-actions.c: the win.* actions, their accelerators, and when
 * each one applies
 *
 * Every action calls the one function behind it (gradlens-window.h): the
 * header bar's buttons, the shortcuts and the menu all end up there.
 */

#include "gradlens-window-private.h"

#include <glib/gi18n.h>

static void
action_step_op (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_step_op (GRADLENS_WINDOW (widget));
}

static void
action_step_line (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_step_line (GRADLENS_WINDOW (widget));
}

static void
action_step_backward_node (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_step_backward_node (GRADLENS_WINDOW (widget));
}

static void
action_run_to_phase_end (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_run_to_phase_end (GRADLENS_WINDOW (widget));
}

static void
action_run_to_end (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_run_to_end (GRADLENS_WINDOW (widget));
}

static void
action_play_pause (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_play_pause (GRADLENS_WINDOW (widget));
}

static void
action_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_reset (GRADLENS_WINDOW (widget));
}

static void
action_optimizer_step (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_optimizer_step (GRADLENS_WINDOW (widget));
}

static void
action_zero_grad (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_zero_grad (GRADLENS_WINDOW (widget));
}

static void
choose_program_to_open (GradlensWindow *self, gpointer data)
{
  _gradlens_window_choose_program_to_open (self);
}

static void
action_open_program (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_confirm_discard (GRADLENS_WINDOW (widget), choose_program_to_open, NULL, NULL);
}

static void
open_recent (GradlensWindow *self, gpointer data)
{
  g_autoptr (GFile) file = g_file_new_for_uri (data);

  gradlens_window_open_program (self, file, NULL);
}

static void
action_open_recent (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_confirm_discard (GRADLENS_WINDOW (widget), open_recent,
                                    g_variant_dup_string (param, NULL), g_free);
}

static void
action_new_program (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_new_program (GRADLENS_WINDOW (widget));
}

static void
action_save_program (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_save_program (GRADLENS_WINDOW (widget));
}

static void
action_save_program_as (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_choose_program_to_save (GRADLENS_WINDOW (widget));
}

static void
action_revert_program (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_revert_program (GRADLENS_WINDOW (widget));
}

static void
open_example (GradlensWindow *self, gpointer data)
{
  gradlens_window_open_example (self, data, NULL);
}

static void
action_open_example (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_confirm_discard (GRADLENS_WINDOW (widget), open_example,
                                    g_variant_dup_string (param, NULL), g_free);
}

static void
action_open_weights (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_choose_weights_to_open (GRADLENS_WINDOW (widget));
}

static void
action_save_weights (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_choose_weights_to_save (GRADLENS_WINDOW (widget));
}

static void
action_export_graph (GtkWidget *widget, const char *name, GVariant *param)
{
  _gradlens_window_choose_graph_export (GRADLENS_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
action_choose_lesson (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_widget_grab_focus (GTK_WIDGET (GRADLENS_WINDOW (widget)->lesson_dropdown));
}

static void
action_show_settings (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_menu_button_popup (GRADLENS_WINDOW (widget)->settings_button);
}

static void
action_find (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_widget_grab_focus (GTK_WIDGET (GRADLENS_WINDOW (widget)->graph_search));
}

static void
action_toggle_breakpoint (GtkWidget *widget, const char *name, GVariant *param)
{
  gradlens_window_toggle_breakpoint (GRADLENS_WINDOW (widget), 0);
}

static const struct
{
  const char *name;
  const char *param_type;
  GtkWidgetActionActivateFunc activate;
  const char *accels[3];
} actions[] = {
  { "win.step-op", NULL, action_step_op, { "F10", NULL } },
  { "win.step-line", NULL, action_step_line, { "F11", NULL } },
  { "win.step-backward-node", NULL, action_step_backward_node, { "F9", NULL } },
  { "win.run-to-phase-end", NULL, action_run_to_phase_end, { "<Shift>F11", NULL } },
  { "win.run-to-end", NULL, action_run_to_end, { "F5", NULL } },
  { "win.play-pause", NULL, action_play_pause, { "F6", NULL } },
  { "win.reset", NULL, action_reset, { "<Control>r", NULL } },
  { "win.optimizer-step", NULL, action_optimizer_step, { "F7", NULL } },
  { "win.zero-grad", NULL, action_zero_grad, { "F8", NULL } },
  { "win.new-program", NULL, action_new_program, { "<Control>n", NULL } },
  { "win.open-program", NULL, action_open_program, { "<Control>o", NULL } },
  { "win.open-recent", "s", action_open_recent, { NULL } },
  { "win.save-program", NULL, action_save_program, { "<Control>s", NULL } },
  { "win.save-program-as", NULL, action_save_program_as, { "<Shift><Control>s", NULL } },
  { "win.revert-program", NULL, action_revert_program, { NULL } },
  { "win.open-example", "s", action_open_example, { NULL } },
  { "win.open-weights", NULL, action_open_weights, { "<Shift><Control>o", NULL } },
  { "win.save-weights", NULL, action_save_weights, { "<Control><Alt>s", NULL } },
  { "win.export-graph", "s", action_export_graph, { NULL } },
  { "win.choose-lesson", NULL, action_choose_lesson, { "<Control>l", NULL } },
  { "win.show-settings", NULL, action_show_settings, { "<Control>comma", NULL } },
  { "win.find", NULL, action_find, { "<Control>f", NULL } },
  { "win.toggle-breakpoint", NULL, action_toggle_breakpoint, { "F12", "<Control>b", NULL } },
};

void
_gradlens_window_class_init_actions (GtkWidgetClass *widget_class)
{
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i].name, actions[i].param_type,
                                     actions[i].activate);
}

/* --- The status toast ---------------------------------------------------------- */

/* How long a command runs before the toast says so, and how long a refusal
 * (or a warning) stays. */
#define BUSY_DELAY_MS 300
#define REFUSAL_SECONDS 4

static void
show_status (GradlensWindow *self,
             const char     *text,
             gboolean        busy)
{
  g_clear_handle_id (&self->status_hide_id, g_source_remove);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_spinner_set_spinning (self->status_spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), busy);
  gtk_revealer_set_reveal_child (self->status_revealer, text != NULL);
}

static gboolean
hide_status (gpointer user_data)
{
  GradlensWindow *self = user_data;

  self->status_hide_id = 0;
  show_status (self, NULL, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
show_busy (gpointer user_data)
{
  GradlensWindow *self = user_data;
  g_autofree char *phase = g_strdup (gradlens_code_view_get_phase (self->code_view));

  self->busy_id = 0;
  show_status (self, _("Running… keys wait for the next pause"), TRUE);
  /* The banner over the program said where it was before the command. */
  gradlens_code_view_set_phase (self->code_view, phase, _("Running…"),
                                _("The program runs on to its next pause."));
  return G_SOURCE_REMOVE;
}

const char *
gradlens_window_get_status (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->status_revealer))
    return NULL;
  return gtk_label_get_text (self->status_label);
}

/* The key of win.NAME as GTK writes it ("F10", "Ctrl+R"), or NULL. */
static char *
key_label (const char *name)
{
  guint key;
  GdkModifierType mods;

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_str_equal (actions[i].name, name) && actions[i].accels[0] != NULL
        && gtk_accelerator_parse (actions[i].accels[0], &key, &mods))
      return gtk_accelerator_get_label (key, mods);
  return NULL;
}

/* Why win.NAME does not apply now, in the student's words. */
static char *
refusal (GradlensWindow *self,
         const char     *name)
{
  StepperStatus status = self->stepper != NULL ? stepper_get_status (self->stepper) : STEPPER_FINISHED;
  g_autofree char *key = key_label (name);
  LessonPhase phase = status == STEPPER_PAUSED
                        ? lesson_run_get_phase (stepper_get_run (self->stepper))
                        : LESSON_PHASE_FORWARD;

  if (status == STEPPER_RUNNING && !self->playing)
    return g_strdup_printf (_("Still running: %s was not taken. Press it again once the "
                              "program pauses."), key);
  if (self->playing)
    return g_strdup_printf (_("Playing: pause (F6) before stepping with %s."), key);
  if (status == STEPPER_FINISHED)
    return g_strdup (_("The program has ended: reset (Ctrl+R) to run it again."));
  if (g_str_equal (name, "win.step-op") && phase == LESSON_PHASE_BACKWARD)
    return g_strdup (_("Op (F10) steps the forward pass; in the backward pass, step with "
                       "Node (F9)."));
  if (g_str_equal (name, "win.step-backward-node"))
    return g_strdup (_("Node (F9) steps the backward pass, which has not begun: step to "
                       "loss.backward() with Op (F10) or Line (F11)."));
  if (g_str_equal (name, "win.optimizer-step") || g_str_equal (name, "win.zero-grad"))
    {
      if (self->lesson == NULL || !self->lesson->uses_resnet)
        return g_strdup_printf (_("%s runs the optimizer: this lesson has none."), key);
      if (g_str_equal (name, "win.zero-grad"))
        return g_strdup (_("zero_grad() is off in the lesson settings: gradients accumulate."));
    }
  return g_strdup_printf (_("%s does not apply now."), key);
}

/* A key of the table, as the window took it: the command, or why not. */
void
_gradlens_window_key_command (GradlensWindow *self,
                              const char     *name)
{
  g_autofree char *why = NULL;

  if (!g_hash_table_contains (self->disabled_actions, name))
    {
      gtk_widget_activate_action (GTK_WIDGET (self), name, NULL);
      return;
    }
  why = refusal (self, name);
  gtk_widget_error_bell (GTK_WIDGET (self));
  if (gradlens_window_is_busy (self))
    show_status (self, why, TRUE);
  else
    _gradlens_window_show_status (self, why);
}

void
_gradlens_window_show_status (GradlensWindow *self,
                              const char     *text)
{
  show_status (self, text, FALSE);
  self->status_hide_id = g_timeout_add_seconds (REFUSAL_SECONDS, hide_status, self);
}

/* While a command runs, after a moment, "Running…"; gone at the pause. */
static void
update_busy (GradlensWindow *self,
             gboolean        busy)
{
  if (busy)
    {
      if (self->busy_id == 0 && !gtk_spinner_get_spinning (self->status_spinner))
        self->busy_id = g_timeout_add (BUSY_DELAY_MS, show_busy, self);
      return;
    }
  g_clear_handle_id (&self->busy_id, g_source_remove);
  if (gtk_spinner_get_spinning (self->status_spinner))
    show_status (self, NULL, FALSE);
}

/* A key of the table, pressed anywhere in the window. */
static gboolean
on_window_key (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  const char *name = user_data;   /* "win.step-op" */

  _gradlens_window_key_command (GRADLENS_WINDOW (widget), name);
  /* Taken even when the command does not apply now: passed on, F10 would
   * move the focus to the header bar, F6 to another pane. */
  return TRUE;
}

/* GTK binds some of the stepping keys itself: GtkWindow's F10 focuses the
 * header bar (the menu key), GtkPaned's F6 and F8 move between panes, and
 * those bindings run before the application's accelerators, so the first F10
 * after a click in a pane stepped nothing. The window takes its keys first, in
 * the capture phase, before any widget inside it sees them. The application's
 * accelerators (_gradlens_window_set_accels) stay, for the tooltips, the menu
 * and the Keyboard Shortcuts window. */
void
_gradlens_window_init_shortcuts (GradlensWindow *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_event_controller_set_name (controller, "gradlens-window-keys");
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    for (guint k = 0; actions[i].accels[k] != NULL; k++)
      gtk_shortcut_controller_add_shortcut (
        GTK_SHORTCUT_CONTROLLER (controller),
        gtk_shortcut_new (gtk_shortcut_trigger_parse_string (actions[i].accels[k]),
                          gtk_callback_action_new (on_window_key, (gpointer) actions[i].name,
                                                   NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

void
_gradlens_window_set_accels (GtkApplication *application)
{
  static const char *const export_png[] = { "<Control>e", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    if (actions[i].accels[0] != NULL)
      gtk_application_set_accels_for_action (application, actions[i].name, actions[i].accels);
  gtk_application_set_accels_for_action (application, "win.export-graph('png')", export_png);
}

/* Enables or disables win.NAME, and remembers which: a key of a disabled
 * action is refused in words (_gradlens_window_key_command). */
static void
set_enabled (GradlensWindow *self,
             const char     *name,
             gboolean        enabled)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), name, enabled);
  if (enabled)
    g_hash_table_remove (self->disabled_actions, name);
  else
    g_hash_table_add (self->disabled_actions, (gpointer) name);
}

/* When the Train checks may change, and what a change does, said under the
 * totals. One rule: the program text is what runs. Where the program sets
 * requires_grad itself (finetune), the checks cannot contradict it; in the
 * freeze lesson they write its frozen = (…) before it runs; elsewhere a change
 * applies from the next forward pass, as PyTorch reads requires_grad when an
 * op records. Never while the worker runs (it reads requires_grad as it
 * records, SGD writes what the chart reads): commands that start it all come
 * through _gradlens_window_update_actions (). */
static void
update_module_tree_rule (GradlensWindow *self,
                         StepperStatus   status)
{
  GradlensModuleTree *tree = self->module_tree;
  const char *why_not = NULL;
  const char *rule = NULL;

  if (gradlens_module_tree_get_model (tree) == NULL)
    why_not = "";
  else if (self->lesson == lesson_find ("finetune", NULL))
    why_not = _("This program sets requires_grad itself (every parameter frozen, then a new "
                "fc): pick “Your own freezing” to choose what trains.");
  else if (self->lesson == lesson_find ("freeze", NULL) && status != STEPPER_READY)
    why_not = _("This program froze what frozen = (…) names before training: reset (Ctrl+R) "
                "to choose again.");
  else if (self->lesson == lesson_find ("freeze", NULL))
    rule = _("A change rewrites frozen = (…) in the program, which then runs from its first "
             "line.");
  else if (status == STEPPER_RUNNING || self->playing)
    why_not = _("The program is running: pause it to change what trains.");
  else if (status == STEPPER_FINISHED)
    why_not = _("The program has ended: reset it to train again.");
  else
    rule = _("A change applies from the next forward pass (model(data)); a backward pass "
             "under way keeps the graph it has.");

  gradlens_module_tree_set_editable (tree, why_not == NULL, why_not);
  gradlens_module_tree_set_note (tree, why_not != NULL ? why_not : rule);
}

/* Which commands apply now. */
void
_gradlens_window_update_actions (GradlensWindow *self)
{
  StepperStatus status = self->stepper != NULL ? stepper_get_status (self->stepper) : STEPPER_FINISHED;
  gboolean busy = status == STEPPER_RUNNING && !self->playing;
  gboolean idle = status == STEPPER_READY || status == STEPPER_PAUSED;
  gboolean ongoing = self->stepper != NULL && status != STEPPER_FINISHED;
  gboolean resnet = self->lesson != NULL && self->lesson->uses_resnet;
  LessonPhase phase = LESSON_PHASE_FORWARD;
  gboolean can_step;

  if (status == STEPPER_PAUSED)
    phase = lesson_run_get_phase (stepper_get_run (self->stepper));
  update_busy (self, busy);
  /* While playing, only pause and reset apply. */
  can_step = idle && !self->playing;

  /* Op steps belong to forward (they stop at a phase change, so from the
   * optimizer or zero_grad they lead into the next forward); backward has Node. */
  set_enabled (self, "win.step-op", can_step && phase != LESSON_PHASE_BACKWARD);
  set_enabled (self, "win.step-backward-node",
                                 can_step && status == STEPPER_PAUSED && phase == LESSON_PHASE_BACKWARD);
  set_enabled (self, "win.step-line", can_step);
  set_enabled (self, "win.run-to-phase-end", can_step);
  set_enabled (self, "win.run-to-end", can_step);
  set_enabled (self, "win.play-pause", ongoing && (idle || self->playing));
  set_enabled (self, "win.reset", self->lesson != NULL);
  set_enabled (self, "win.toggle-breakpoint", self->lesson != NULL);
  set_enabled (self, "win.optimizer-step", can_step && resnet);
  set_enabled (self, "win.zero-grad",
                                 can_step && resnet && self->settings.zero_grad);

  update_module_tree_rule (self, status);

  set_enabled (self, "win.open-program", !busy);
  set_enabled (self, "win.revert-program", _gradlens_window_is_modified (self));
  set_enabled (self, "win.open-example", !busy);
  set_enabled (self, "win.open-weights", resnet && !busy);
  set_enabled (self, "win.save-weights",
                                 !busy && !self->playing && _gradlens_window_has_model (self));
  set_enabled (self, "win.export-graph",
                                 !busy && !self->playing && self->graph_nodes->len > 0);
}

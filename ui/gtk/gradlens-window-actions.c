/* gradlens-window-actions.c: the win.* actions, their accelerators, and when
 * each one applies
 *
 * Every action calls the one function behind it (gradlens-window.h): the
 * header bar's buttons, the shortcuts and the menu all end up there.
 */

#include "gradlens-window-private.h"

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
  { "win.open-weights", NULL, action_open_weights, { "<Control>o", NULL } },
  { "win.save-weights", NULL, action_save_weights, { "<Control>s", NULL } },
  { "win.export-graph", "s", action_export_graph, { NULL } },
  { "win.choose-lesson", NULL, action_choose_lesson, { "<Control>l", NULL } },
  { "win.show-settings", NULL, action_show_settings, { "<Control>comma", NULL } },
  { "win.find", NULL, action_find, { "<Control>f", NULL } },
};

void
_gradlens_window_class_init_actions (GtkWidgetClass *widget_class)
{
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i].name, actions[i].param_type,
                                     actions[i].activate);
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

/* Which commands apply now. */
void
_gradlens_window_update_actions (GradlensWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  StepperStatus status = self->stepper != NULL ? stepper_get_status (self->stepper) : STEPPER_FINISHED;
  gboolean busy = status == STEPPER_RUNNING && !self->playing;
  gboolean idle = status == STEPPER_READY || status == STEPPER_PAUSED;
  gboolean ongoing = self->stepper != NULL && status != STEPPER_FINISHED;
  gboolean resnet = self->lesson != NULL && self->lesson->uses_resnet;
  LessonPhase phase = LESSON_PHASE_FORWARD;
  gboolean can_step;

  if (status == STEPPER_PAUSED)
    phase = lesson_run_get_phase (stepper_get_run (self->stepper));
  /* While playing, only pause and reset apply. */
  can_step = idle && !self->playing;

  /* Op steps belong to forward (they stop at a phase change, so from the
   * optimizer or zero_grad they lead into the next forward); backward has Node. */
  gtk_widget_action_set_enabled (widget, "win.step-op", can_step && phase != LESSON_PHASE_BACKWARD);
  gtk_widget_action_set_enabled (widget, "win.step-backward-node",
                                 can_step && status == STEPPER_PAUSED && phase == LESSON_PHASE_BACKWARD);
  gtk_widget_action_set_enabled (widget, "win.step-line", can_step);
  gtk_widget_action_set_enabled (widget, "win.run-to-phase-end", can_step);
  gtk_widget_action_set_enabled (widget, "win.run-to-end", can_step);
  gtk_widget_action_set_enabled (widget, "win.play-pause", ongoing && (idle || self->playing));
  gtk_widget_action_set_enabled (widget, "win.reset", self->lesson != NULL);
  gtk_widget_action_set_enabled (widget, "win.optimizer-step", can_step && resnet);
  gtk_widget_action_set_enabled (widget, "win.zero-grad",
                                 can_step && resnet && self->settings.zero_grad);

  /* The module tree sets requires_grad on the run's model: only while the
   * worker waits, never while a command or play runs it (the worker reads
   * requires_grad as it records, SGD writes what the chart reads). Commands
   * that start the worker all come through here. */
  if (gradlens_module_tree_get_model (self->module_tree) == NULL)
    gradlens_module_tree_set_editable (self->module_tree, FALSE, NULL);
  else if (status == STEPPER_RUNNING || self->playing)
    gradlens_module_tree_set_editable (self->module_tree, FALSE,
                                       "The program is running: pause it to change what trains");
  else if (status == STEPPER_FINISHED && self->lesson != &lesson_freeze)
    gradlens_module_tree_set_editable (self->module_tree, FALSE,
                                       "The program has ended: reset it to train again");
  else
    gradlens_module_tree_set_editable (self->module_tree, TRUE, NULL);

  gtk_widget_action_set_enabled (widget, "win.open-weights", resnet && !busy);
  gtk_widget_action_set_enabled (widget, "win.save-weights",
                                 !busy && !self->playing && _gradlens_window_has_model (self));
  gtk_widget_action_set_enabled (widget, "win.export-graph",
                                 !busy && !self->playing && self->graph_nodes->len > 0);
}

/* gradlens-window-sync.c: the panels kept in step with the stepper
 *
 * The worker's event hook turns every event into a sentence for the event log
 * and notes where a training step's graph begins; when the stepper pauses (its
 * notification runs here, on the UI thread) _gradlens_window_sync() reads the
 * engine once for every panel: code line and phase, graph, output, losses,
 * module tree, inspector, per-layer chart. Play and the multi-phase commands
 * (optim.step(), zero_grad()) send their next command from here too.
 */

#include "gradlens-window-private.h"
#include "module.h"
#include "plot-paint.h"

#include <glib/gi18n.h>
#include <string.h>

/* The panels refresh at each pause; the per-layer chart reads every parameter
 * (11.7 M numbers for resnet18), so while playing it waits this long. */
#define CHART_INTERVAL_US (400 * G_TIME_SPAN_MILLISECOND)

/* One sentence for the event log, made on the worker thread. */
typedef struct
{
  char *phase;
  char *text;
  Node *failed;         /* a backward that failed: the node it failed at (a reference) */
} LogEntry;

static void
log_entry_free (gpointer data)
{
  LogEntry *e = data;

  g_free (e->phase);
  g_free (e->text);
  g_clear_pointer (&e->failed, node_unref);
  g_free (e);
}

GAsyncQueue *
_gradlens_window_log_queue_new (void)
{
  return g_async_queue_new_full (log_entry_free);
}

/* Forgets the sentences of a discarded run (its worker is gone). */
void
_gradlens_window_log_queue_clear (GradlensWindow *self)
{
  LogEntry *e;

  while ((e = g_async_queue_try_pop (self->log_queue)) != NULL)
    log_entry_free (e);
}


/* --- Small helpers ---------------------------------------------------------- */

static const char *
phase_css (LessonPhase phase)
{
  switch (phase)
    {
    case LESSON_PHASE_FORWARD:
      return "forward";
    case LESSON_PHASE_BACKWARD:
      return "backward";
    case LESSON_PHASE_OPTIMIZER:
      return "optimizer";
    case LESSON_PHASE_ZERO_GRAD:
      return "zero-grad";
    case LESSON_PHASE_DONE:
    default:
      return "done";
    }
}

static const char *
phase_title (LessonPhase phase)
{
  switch (phase)
    {
    case LESSON_PHASE_FORWARD:
      return _("Forward pass");
    case LESSON_PHASE_BACKWARD:
      return _("Backward pass");
    case LESSON_PHASE_OPTIMIZER:
      return _("Optimizer step");
    case LESSON_PHASE_ZERO_GRAD:
      return "zero_grad";
    case LESSON_PHASE_DONE:
    default:
      return _("Done");
    }
}

/* --- The event hook (worker thread) ---------------------------------------------- */

static gboolean
event_is_logged (const Event *ev)
{
  switch (ev->kind)
    {
    case EVENT_MODULE_ENTER:
    case EVENT_MODULE_LEAVE:
    case EVENT_NODE_BEGIN:
      return FALSE;
    case EVENT_NODE_END:
      return ev->node != NULL && ev->node->op != OP_ACCUMULATE_GRAD;
    default:
      return TRUE;
    }
}

static void
push_log (GradlensWindow *self,
          LessonPhase     phase,
          char           *text)
{
  LogEntry *e = g_new0 (LogEntry, 1);

  e->phase = g_strdup (phase_css (phase));
  e->text = text;
  g_async_queue_push (self->log_queue, e);
}

/* The statement before a line has run: the tensors it made without a grad_fn
 * are the moments nothing happens in the graph, which is the lesson of
 * `a = x + y` (worker thread: the run is the worker's own). */
static void
tell_untracked_tensors (GradlensWindow *self,
                        LessonRun      *run,
                        LessonPhase     phase)
{
  GPtrArray *vars = lesson_run_get_variables (run);

  for (guint i = self->hook_n_vars; i < vars->len; i++)
    {
      const LessonVar *var = g_ptr_array_index (vars, i);
      const Tensor *t = var->value;

      if (var->kind != LESSON_VAR_TENSOR || t == NULL || t->grad_fn != NULL)
        continue;
      if (t->requires_grad)
        push_log (self, phase,
                  g_strdup_printf (_("%s is a leaf that requires grad: no grad_fn of its own; "
                                     "backward will store its gradient in %s.grad"),
                                   var->name, var->name));
      else
        push_log (self, phase,
                  g_strdup_printf (_("%s has no grad_fn (%s.requires_grad is False): no input "
                                     "requires grad, so no grad_fn is recorded"),
                                   var->name, var->name));
    }
  self->hook_n_vars = vars->len;
}

void
_gradlens_window_on_event (const Event *ev,
                           LessonRun   *run,
                           guint64      index,
                           gpointer     user_data)
{
  GradlensWindow *self = user_data;
  LessonPhase phase = lesson_run_get_phase (run);

  if (ev->kind == EVENT_NODE_RECORDED)
    {
      /* A new training step's first node: the graph shows the new forward
       * only. Until then the last step's graph stays in view. */
      if (self->hook_new_step)
        {
          self->forward_first_id = ev->node->id;
          self->hook_new_step = FALSE;
        }
      /* An op makes its inputs' new AccumulateGrads, which are recorded before
       * it: the step's nodes begin at the lowest id recorded in it (ids only
       * grow, and a node is recorded once). */
      else if (ev->node->id < self->forward_first_id)
        self->forward_first_id = ev->node->id;
    }

  if (ev->kind == EVENT_PHASE)
    {
      LessonPhase previous = (LessonPhase) g_atomic_int_get (&self->hook_phase);

      phase = (LessonPhase) ev->line;
      if ((phase == LESSON_PHASE_FORWARD || phase == LESSON_PHASE_ZERO_GRAD)
          && (previous == LESSON_PHASE_OPTIMIZER || previous == LESSON_PHASE_ZERO_GRAD))
        self->hook_new_step = TRUE;
      g_atomic_int_set (&self->hook_phase, phase);
    }

  if (ev->kind == EVENT_LINE || (ev->kind == EVENT_PHASE && ev->line == LESSON_PHASE_DONE))
    tell_untracked_tensors (self, run, phase);
  /* A backward that failed is an error, whatever the phase: in red, and its
   * node marked in the graph at the next pause (drain_log). */
  if (ev->kind == EVENT_BACKWARD_END && ev->text != NULL)
    {
      LogEntry *e = g_new0 (LogEntry, 1);

      e->phase = g_strdup ("error");
      e->text = stepper_describe_event (ev, run);
      e->failed = ev->node != NULL ? node_ref (ev->node) : NULL;
      g_async_queue_push (self->log_queue, e);
      return;
    }
  if (event_is_logged (ev))
    push_log (self, phase, stepper_describe_event (ev, run));
}

/* The queued sentences into the log. Returns the node the last failed
 * backward among them failed at (a reference), or NULL. */
static Node *
drain_log (GradlensWindow *self)
{
  Node *failed = NULL;
  int queued = g_async_queue_length (self->log_queue);   /* < 0: threads waiting to pop */
  guint n = MAX (queued, 0);
  guint skip = n > GRADLENS_EVENT_LOG_LIMIT ? n - GRADLENS_EVENT_LOG_LIMIT : 0;
  LogEntry *e;

  if (skip > 0)
    {
      g_autofree char *text = g_strdup_printf (ngettext ("… %u earlier event not shown",
                                                         "… %u earlier events not shown", skip),
                                               skip);
      for (guint i = 0; i < skip && (e = g_async_queue_try_pop (self->log_queue)) != NULL; i++)
        log_entry_free (e);
      gradlens_event_log_append (self->event_log, "info", text);
    }
  while ((e = g_async_queue_try_pop (self->log_queue)) != NULL)
    {
      gradlens_event_log_append (self->event_log, e->phase, e->text);
      if (e->failed != NULL)
        {
          g_clear_pointer (&failed, node_unref);
          failed = g_steal_pointer (&e->failed);
        }
      log_entry_free (e);
    }
  return failed;
}

/* --- Keeping the panels in step ----------------------------------------------------- */

/* For g_ptr_array_sort: a and b point at the array's Node * slots. */
static int
compare_node_ids (gconstpointer a,
                  gconstpointer b)
{
  guint64 x = (*(Node *const *) a)->id, y = (*(Node *const *) b)->id;

  return x < y ? -1 : x > y;
}

static void
update_graph (GradlensWindow *self)
{
  GPtrArray *all = stepper_get_nodes (self->stepper);
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_unref);
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  gboolean changed;

  /* This step's nodes: the stepper's list may still hold an earlier step's
   * (it drops them at a forward pass); this step's begin at forward_first_id. */
  for (guint i = 0; i < all->len; i++)
    {
      Node *node = g_ptr_array_index (all, i);
      if (node->id >= self->forward_first_id && g_hash_table_add (seen, node))
        g_ptr_array_add (nodes, node_ref (node));
    }
  /* Plus what they reach that an earlier step recorded: a leaf's AccumulateGrad
   * lives as long as a graph holds it, and PyTorch reuses it (the new graph's
   * fc.weight edge goes to step 1's node). */
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);
      for (int e = 0; e < node->n_next; e++)
        if (node->next[e].node != NULL && g_hash_table_add (seen, node->next[e].node))
          g_ptr_array_add (nodes, node_ref (node->next[e].node));
    }
  /* In recording order (ids grow as nodes are made). */
  g_ptr_array_sort (nodes, compare_node_ids);

  changed = nodes->len != self->graph_nodes->len;
  for (guint i = 0; !changed && i < nodes->len; i++)
    changed = g_ptr_array_index (nodes, i) != g_ptr_array_index (self->graph_nodes, i);
  if (changed)
    {
      /* The same array (gradlens_window_get_graph_nodes hands it out), new contents. */
      g_ptr_array_set_size (self->graph_nodes, 0);
      for (guint i = 0; i < nodes->len; i++)
        g_ptr_array_add (self->graph_nodes, node_ref (g_ptr_array_index (nodes, i)));
    }

  if (self->graph_nodes->len == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->graph_placeholder), TRUE);
      gradlens_placeholder_set_title (self->graph_placeholder, _("No Graph Yet"));
      gradlens_placeholder_set_description (
        self->graph_placeholder,
        _("Press Op (F10) to run the program to its first operation: every op that needs a "
          "gradient records its grad_fn here."));
      if (changed)
        graph_view_set_nodes (self->graph_view, NULL);
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->graph_placeholder), FALSE);
  if (changed)
    graph_view_set_nodes (self->graph_view, self->graph_nodes);
  else
    graph_view_refresh_state (self->graph_view);

  /* The op the forward pass just recorded is drawn as running. */
  {
    const StepperEvent *event = stepper_get_event (self->stepper);
    if (event != NULL && event->kind == EVENT_NODE_RECORDED)
      graph_view_set_current_node (self->graph_view, event->node);
  }
}

static void
update_output (GradlensWindow *self,
               LessonRun      *run)
{
  const char *output = lesson_run_get_output (run);
  gsize len = output != NULL ? strlen (output) : 0;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->output_view);

  if (len == self->output_len)
    return;
  if (len > self->output_len)
    {
      GtkTextIter end;
      gtk_text_buffer_get_end_iter (buffer, &end);
      gtk_text_buffer_insert (buffer, &end, output + self->output_len, -1);
      _gradlens_window_output_grew (self);
    }
  else
    gtk_text_buffer_set_text (buffer, output != NULL ? output : "", -1);
  self->output_len = len;
}

static void
update_losses (GradlensWindow *self,
               LessonRun      *run)
{
  GArray *losses = lesson_run_get_losses (run);
  guint n = losses != NULL ? losses->len : 0;

  if (n < self->n_losses)
    {
      gradlens_loss_plot_clear (self->loss_plot);
      self->n_losses = 0;
    }
  for (guint i = self->n_losses; i < n; i++)
    gradlens_loss_plot_append (self->loss_plot, g_array_index (losses, double, i));
  self->n_losses = n;
}

void
_gradlens_window_update_layer_chart (GradlensWindow *self,
                                     LessonRun      *run,
                                     gboolean        force)
{
  Module *model = lesson_run_get_model (run);
  LessonPhase phase = lesson_run_get_phase (run);
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GPtrArray) params = NULL;

  if (!force && phase == self->chart_phase && now - self->chart_updated < CHART_INTERVAL_US)
    return;
  self->chart_phase = phase;
  self->chart_updated = now;

  if (model != NULL)
    params = module_named_parameters (model);
  gradlens_layer_chart_update (self->layer_chart, params, lesson_run_get_optimizer (run));
}

/* The freeze lesson's model before it runs, for choosing what to freeze. */
static Module *
preview_model (GradlensWindow *self)
{
  g_auto (GStrv) frozen = NULL;
  LessonParams params;

  if (self->preview_model == NULL)
    self->preview_model = resnet18_new (1000, self->settings.seed);

  _gradlens_window_params_from_settings (self, &params);
  frozen = lesson_frozen_names (self->lesson, &params);
  lesson_params_clear (&params);
  module_set_requires_grad (self->preview_model, TRUE);
  for (int i = 0; frozen[i] != NULL; i++)
    module_set_requires_grad_prefix (self->preview_model, frozen[i], FALSE);
  return self->preview_model;
}

static void
update_module_tree (GradlensWindow *self,
                    LessonRun      *run,
                    StepperStatus   status)
{
  Module *model = lesson_run_get_model (run);

  gtk_widget_set_visible (GTK_WIDGET (self->module_tree), self->lesson->uses_modules);
  if (!self->lesson->uses_modules)
    return;

  /* Until the program builds its own (model = resnet18()), the one it will
   * build: the tree keeps the student's place through the swap. */
  if (model == NULL && self->lesson == lesson_find ("freeze", NULL))
    model = preview_model (self);
  /* Whether the student may edit it: _gradlens_window_update_actions (). */
  gradlens_module_tree_set_model (self->module_tree, model, lesson_run_get_model_name (run));
}

static void
update_inspector (GradlensWindow      *self,
                  LessonRun           *run,
                  const StepperEvent  *event)
{
  gradlens_inspector_set_optimizer (self->inspector, lesson_run_get_optimizer (run));

  if (self->inspector_follows && event != NULL)
    {
      Node *node = event->node;

      /* A leaf's .grad just changed: show its AccumulateGrad. */
      if (node == NULL && event->tensor != NULL && event->tensor->grad_accumulator != NULL)
        node = event->tensor->grad_accumulator;
      if (node != NULL)
        {
          gradlens_inspector_show_node (self->inspector, node);
          return;
        }
      if (event->tensor != NULL)
        {
          gradlens_inspector_show_tensor (self->inspector, event->tensor, NULL);
          return;
        }
    }
  gradlens_inspector_refresh (self->inspector);
}

static void
update_code (GradlensWindow     *self,
             LessonRun          *run,
             StepperStatus       status,
             const StepperEvent *event)
{
  g_autoptr (GError) error = NULL;
  LessonPhase phase = lesson_run_get_phase (run);
  int line = lesson_run_get_line (run);

  if (status == STEPPER_READY)
    {
      gradlens_code_view_set_line (self->code_view, 0, FALSE);
      gradlens_code_view_set_phase (self->code_view, "idle", _("Ready"),
                                    _("Step with Op (F10), Line (F11) or play (F6); "
                                      "the line about to run is highlighted."));
      return;
    }

  if (status == STEPPER_FINISHED)
    {
      if (!stepper_get_result (self->stepper, &error))
        {
          g_autofree char *message = NULL;

          /* The line it was raised on (a SyntaxError's: before anything ran),
           * the traceback over the code, its message first. */
          gradlens_code_view_set_line (self->code_view, line, TRUE);
          gradlens_code_view_show_error (self->code_view, error != NULL ? error->message : NULL,
                                         line);
          if (gradlens_code_view_get_error (self->code_view) != NULL)
            message = g_strndup (gradlens_code_view_get_error (self->code_view),
                                 strcspn (gradlens_code_view_get_error (self->code_view), "\n"));
          gradlens_code_view_set_phase (self->code_view, "error", _("Stopped with an error"),
                                        message);
          return;
        }
      gradlens_code_view_set_line (self->code_view, 0, FALSE);
      gradlens_code_view_set_phase (self->code_view, "done", _("Done"),
                                    _("The program ran to its end. Reset (Ctrl+R) to run it again."));
      return;
    }

  gradlens_code_view_set_line (self->code_view, line, FALSE);
  gradlens_code_view_set_phase (self->code_view, phase_css (phase), phase_title (phase),
                                event != NULL ? event->sentence : NULL);
}

/* A run that diverges looks like progress in the plots: say it, once a run,
 * in the log and over the graph. Not in the error banner: a lesson's defaults
 * may diverge on purpose (the resnet lessons' summed loss has no minimum). */
static void
tell_divergence (GradlensWindow *self,
                 LessonRun      *run)
{
  GArray *losses = lesson_run_get_losses (run);
  g_autofree char *loss_words = NULL;
  g_autofree char *step_words = NULL;

  if (self->told_divergence)
    return;
  if (losses != NULL)
    loss_words = loss_plot_divergence ((const double *) (gpointer) losses->data, losses->len);
  if (loss_words == NULL)
    step_words = gradlens_layer_chart_dup_divergence (self->layer_chart);
  if (loss_words == NULL && step_words == NULL)
    return;
  self->told_divergence = TRUE;
  gradlens_event_log_append (self->event_log, "error", loss_words != NULL ? loss_words : step_words);
  _gradlens_window_show_status (self, loss_words != NULL ? loss_words : step_words);
}

void
_gradlens_window_send (GradlensWindow *self,
                       StepperCommand  command)
{
  self->last_command = command;
  switch (command)
    {
    case COMMAND_STEP:
      stepper_step (self->stepper);
      break;
    case COMMAND_LINE:
      stepper_run_to_line_end (self->stepper);
      break;
    case COMMAND_PHASE:
      stepper_run_to_phase_end (self->stepper);
      break;
    case COMMAND_END:
    default:
      stepper_run_to_end (self->stepper);
      break;
    }
}

/* Multi-phase commands: issue the next leg, or stop. TRUE if still going. */
static gboolean
advance_goal (GradlensWindow *self,
              StepperStatus   status,
              LessonPhase     phase)
{
  LessonPhase target;

  if (self->goal == GOAL_NONE)
    return FALSE;
  if (status != STEPPER_PAUSED)
    {
      self->goal = GOAL_NONE;
      return FALSE;
    }

  target = self->goal == GOAL_AFTER_OPTIMIZER ? LESSON_PHASE_OPTIMIZER : LESSON_PHASE_ZERO_GRAD;
  if (phase == target)
    self->goal_seen = TRUE;
  else if (self->goal_seen)
    {
      self->goal = GOAL_NONE;
      return FALSE;
    }
  _gradlens_window_send (self, COMMAND_PHASE);
  return TRUE;
}

gboolean
_gradlens_window_play_tick (gpointer user_data)
{
  GradlensWindow *self = user_data;

  self->play_id = 0;
  if (self->playing && self->stepper != NULL
      && stepper_get_status (self->stepper) != STEPPER_FINISHED)
    {
      stepper_set_stops (self->stepper, STEPPER_STOP_LINE | STEPPER_STOP_OP
                                        | STEPPER_STOP_BACKWARD_NODE | STEPPER_STOP_PHASE
                                        | STEPPER_STOP_ANOMALY);
      _gradlens_window_send (self, COMMAND_STEP);
      _gradlens_window_update_actions (self);
    }
  return G_SOURCE_REMOVE;
}

void
_gradlens_window_set_playing (GradlensWindow *self,
                              gboolean        playing)
{
  self->playing = playing;
  g_clear_handle_id (&self->play_id, g_source_remove);
  gtk_button_set_icon_name (self->play_button, playing ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               playing ? _("Pause (F6): stop playing")
                                       : _("Play (F6): step by itself at the chosen speed"));
}

void
_gradlens_window_sync (GradlensWindow *self)
{
  StepperStatus status;
  const StepperEvent *event;
  LessonRun *run;
  LessonPhase phase;
  g_autoptr (Node) failed = NULL;

  if (self->stepper == NULL)
    return;

  status = stepper_get_status (self->stepper);
  if (status == STEPPER_RUNNING)
    {
      _gradlens_window_update_actions (self);
      return;
    }

  run = stepper_get_run (self->stepper);
  event = stepper_get_event (self->stepper);
  phase = lesson_run_get_phase (run);

  /* Every program opens by announcing its forward phase, before its first
   * line: that is no step of the student's, so carry on. */
  if (status == STEPPER_PAUSED && event != NULL && event->kind == EVENT_PHASE && event->index == 0)
    {
      _gradlens_window_send (self, self->last_command);
      return;
    }

  failed = drain_log (self);
  update_code (self, run, status, event);
  update_graph (self);
  update_output (self, run);
  gradlens_variable_list_update (self->variable_list, lesson_run_get_variables (run));
  update_losses (self, run);
  update_module_tree (self, run, status);
  update_inspector (self, run, status == STEPPER_READY ? NULL : event);
  _gradlens_window_update_layer_chart (self, run, status != STEPPER_PAUSED || !self->playing);

  tell_divergence (self, run);

  /* A backward failed since the last pause: the graph and the inspector show
   * the node it failed at (the log said why). */
  if (failed != NULL)
    gradlens_window_select_node (self, failed);

  /* A breakpoint: play and the multi-phase commands stop here. */
  if (status == STEPPER_PAUSED && event != NULL && event->breakpoint)
    {
      g_autofree char *words = g_strdup_printf (_("Paused at the breakpoint on line %d"),
                                                event->line);

      _gradlens_window_set_playing (self, FALSE);
      self->goal = GOAL_NONE;
      gradlens_event_log_append (self->event_log, "info", words);
    }

  /* A NaN or Inf, like a breakpoint: say where, and show the node. */
  if (status == STEPPER_PAUSED && event != NULL && event->kind == EVENT_ANOMALY)
    {
      _gradlens_window_set_playing (self, FALSE);
      self->goal = GOAL_NONE;
      gradlens_window_show_error (self, event->sentence);
      if (event->node != NULL)
        gradlens_window_select_node (self, event->node);
    }

  if (status == STEPPER_FINISHED && !self->reported_finish)
    {
      g_autoptr (GError) error = NULL;

      self->reported_finish = TRUE;
      if (!stepper_get_result (self->stepper, &error) && error != NULL
          && !g_error_matches (error, LESSON_ERROR, LESSON_ERROR_CANCELLED))
        {
          g_autofree char *message = g_strdup_printf (_("The lesson “%s” stopped: %s"),
                                                      self->lesson->bundled ? _(self->lesson->title) : self->lesson->title,
                                                      error->message);

          /* A Python exception's traceback is over the code, on its line: the
           * log keeps it; the window's banner is for what has no line. */
          if (g_error_matches (error, LESSON_ERROR, LESSON_ERROR_PROGRAM)
              && gradlens_code_view_get_error (self->code_view) != NULL)
            gradlens_event_log_append (self->event_log, "error", message);
          else
            gradlens_window_show_error (self, message);
        }
    }

  if (advance_goal (self, status, phase))
    {
      _gradlens_window_update_actions (self);
      return;
    }

  if (self->playing)
    {
      if (status == STEPPER_FINISHED)
        _gradlens_window_set_playing (self, FALSE);
      else if (self->play_id == 0)
        self->play_id = g_timeout_add ((guint) (1000.0 / MAX (self->settings.speed, 0.5)),
                                       _gradlens_window_play_tick, self);
    }

  _gradlens_window_update_actions (self);
  _gradlens_window_emit_synced (self);
}

/* --- Breakpoints ------------------------------------------------------------- */

void
_gradlens_window_push_breakpoints (GradlensWindow *self)
{
  g_autoptr (GArray) lines = NULL;

  if (self->stepper == NULL)
    return;
  /* Marks in the code view's text: they are where their lines are now. */
  lines = gradlens_code_view_get_breakpoints (self->code_view);
  stepper_set_breakpoints (self->stepper, (const int *) (gpointer) lines->data, lines->len);
}

gboolean
gradlens_window_toggle_breakpoint (GradlensWindow *self,
                                   int             line)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);

  /* ::breakpoints-changed pushes them to the stepper. */
  return gradlens_code_view_toggle_breakpoint (self->code_view, line);
}

void
_gradlens_window_on_stepper_notify (Stepper  *stepper,
                                    gpointer  user_data)
{
  GradlensWindow *self = user_data;

  if (stepper == self->stepper)
    _gradlens_window_sync (self);
}

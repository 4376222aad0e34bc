/* gradlens-window-private.h: shared by the window's files
 *
 * gradlens-window.c builds the window and runs the commands;
 * gradlens-window-sync.c keeps the panels in step with the stepper;
 * gradlens-window-actions.c holds the win.* actions, their
 * accelerators and when each applies; gradlens-window-files.c opens and saves
 * weights and exports the graph; gradlens-window-edit.c runs, saves and reverts
 * the program as the student edits it.
 */
#pragma once

#include "gradlens-window.h"
#include "code-view.h"
#include "event-log.h"
#include "gradlens-placeholder.h"
#include "graph-view.h"
#include "inspector.h"
#include "layer-chart.h"
#include "lessons.h"
#include "loss-plot.h"
#include "module-tree.h"
#include "settings-popover.h"
#include "settings.h"
#include "variable-list.h"

G_BEGIN_DECLS

/* Where a multi-phase command (optim.step(), zero_grad()) is going. */
typedef enum
{
  GOAL_NONE,
  GOAL_AFTER_OPTIMIZER,   /* run until the optimizer phase has been and gone */
  GOAL_AFTER_ZERO_GRAD,
} RunGoal;

/* The stepper command sent last, to send again. */
typedef enum
{
  COMMAND_STEP,
  COMMAND_LINE,
  COMMAND_PHASE,
  COMMAND_END,
} StepperCommand;

struct _GradlensWindow
{
  GtkApplicationWindow parent_instance;

  /* Template children. GtkWindow destroys its titlebar and child itself. */
  GtkHeaderBar            *header_bar;
  GtkDropDown             *lesson_dropdown;
  GtkButton               *play_button;
  GtkMenuButton           *speed_button;
  GtkAdjustment           *speed_adjustment;
  GtkMenuButton           *primary_menu_button;
  GMenu                   *examples_menu;         /* the primary menu's Examples */
  GtkMenuButton           *settings_button;
  GradlensSettingsPopover *settings_popover;
  GtkBox                  *optimizer_box;
  GtkRevealer             *banner_revealer;
  GtkLabel                *banner_label;
  GtkButton               *banner_close_button;
  GtkPaned                *main_paned;
  GtkPaned                *side_paned;
  GtkPaned                *content_paned;
  GtkPaned                *center_paned;
  GtkPaned                *bottom_paned;
  int                      side_width_wanted; /* the code column's, when it fits */
  gboolean                 allocating;        /* inside size_allocate: GTK clamps */
  gboolean                 restoring_panes;
  guint                    panes_idle;
  GradlensCodeView        *code_view;
  GradlensModuleTree      *module_tree;
  GtkOverlay              *graph_slot;
  GradlensPlaceholder     *graph_placeholder;
  GraphView               *graph_view;
  GtkSearchEntry          *graph_search;
  GtkWidget               *graph_toolbar;
  GtkButton               *zoom_out_button;
  GtkButton               *zoom_fit_button;
  GtkButton               *zoom_in_button;
  GtkToggleButton         *legend_button;
  GtkToggleButton         *follow_button;
  GtkRevealer             *status_revealer;
  GtkSpinner              *status_spinner;
  GtkLabel                *status_label;
  GtkNotebook             *log_notebook;
  GradlensEventLog        *event_log;
  GtkTextView             *output_view;
  GradlensVariableList    *variable_list;
  GtkNotebook             *plot_notebook;
  GradlensLossPlot        *loss_plot;
  GradlensLayerChart      *layer_chart;
  GradlensInspector       *inspector;

  /* The lesson and how it runs. */
  const Lesson     *lesson;
  Lesson           *program;         /* a program opened, new or edited (owned), or NULL */
  GradlensSettings  settings;
  char             *settings_path;
  gboolean          settings_save_warned;   /* a failed save was reported */
  char            **frozen;          /* the freeze lesson's choice; NULL: its default */
  char             *weights;         /* .safetensors for the resnet lessons, or NULL */
  Stepper          *stepper;
  Module           *preview_model;   /* the freeze lesson's model before it runs */

  /* Written by the worker's event hook, read while it is paused (the
   * stepper's mutex orders the two). */
  GAsyncQueue      *log_queue;       /* of LogEntry *, see gradlens-window.c */
  guint64           forward_first_id; /* id of the current step's first node */
  gint              hook_phase;      /* the last phase the worker announced (atomic) */
  gboolean          hook_new_step;   /* worker only: a training step began, no node yet */
  guint             hook_n_vars;     /* worker only: the run's variables already told */

  /* What the panels show. */
  GPtrArray        *graph_nodes;     /* of Node * (strong) */
  guint             n_losses;
  gsize             output_len;
  gint64            chart_updated;   /* monotonic µs */
  LessonPhase       chart_phase;
  gboolean          inspector_follows; /* show the node the stepper paused at */
  gboolean          selecting;       /* a selection is being passed between panels */
  gboolean          reported_finish;
  gboolean          told_divergence; /* this run's divergence was flagged */

  /* Play and goals. */
  gboolean          playing;
  guint             play_id;
  guint             restart_id;      /* a restart after the freeze lesson's tree changed */
  StepperCommand    last_command;
  RunGoal           goal;
  gboolean          goal_seen;       /* the goal's phase was seen */

  /* The status toast. */
  GHashTable       *disabled_actions; /* names of the win.* actions that do not apply now */
  guint             busy_id;         /* shows "Running…" if a command takes a while */
  guint             status_hide_id;  /* hides a refusal after a few seconds */
  /* The program as the student edits it (gradlens-window-edit.c). */
  GtkButton        *revert_button;
  GtkLabel         *output_tab_label;
  GMenu            *recent_menu;
  char             *origin;          /* the lesson's text or the saved file's */
  const Lesson     *origin_lesson;   /* the built-in lesson it began as, or NULL */
  GFile            *file;            /* where Save writes; NULL: never saved */
  guint             edit_id;         /* runs the edited text after a pause in typing */
  gboolean          closing;         /* the student said the edits may go */
};

/* gradlens-window.c */
gboolean  _gradlens_window_has_model       (GradlensWindow *self);
Module   *_gradlens_window_get_model       (GradlensWindow *self);
void      _gradlens_window_params_from_settings (GradlensWindow *self, LessonParams *params);
void      _gradlens_window_emit_synced     (GradlensWindow *self);

/* gradlens-window-sync.c */
GAsyncQueue *_gradlens_window_log_queue_new   (void);
void      _gradlens_window_log_queue_clear (GradlensWindow *self);
void      _gradlens_window_on_event        (const Event *event, LessonRun *run, guint64 index,
                                            gpointer user_data);
void      _gradlens_window_on_stepper_notify (Stepper *stepper, gpointer user_data);
void      _gradlens_window_sync            (GradlensWindow *self);
/* The code view's breakpoints to the stepper (::breakpoints-changed, a new stepper). */
void      _gradlens_window_push_breakpoints (GradlensWindow *self);
void      _gradlens_window_send            (GradlensWindow *self, StepperCommand command);
void      _gradlens_window_set_playing     (GradlensWindow *self, gboolean playing);
gboolean  _gradlens_window_play_tick       (gpointer user_data);   /* the next step of play */
void      _gradlens_window_update_layer_chart (GradlensWindow *self, LessonRun *run,
                                               gboolean force);

void      _gradlens_window_run_program     (GradlensWindow *self, Lesson *program, const char *path);
void      _gradlens_window_select_builtin  (GradlensWindow *self, const Lesson *lesson);
void      _gradlens_window_show_program_in_picker (GradlensWindow *self, const char *path);
/* gradlens-window-edit.c: the program as the student edits, saves and opens it */
void      _gradlens_window_edit_init       (GradlensWindow *self);
void      _gradlens_window_edit_dispose    (GradlensWindow *self);
/* What Revert returns to and what "modified" compares with: text, the built-in
 * lesson it is (or NULL), the file it was read from or saved to (or NULL). */
void      _gradlens_window_set_origin      (GradlensWindow *self, const char *text,
                                            const Lesson *lesson, GFile *file);
gboolean  _gradlens_window_is_modified     (GradlensWindow *self);
/* Runs the edited text now if it waits for a pause in typing (before a command). */
void      _gradlens_window_apply_edit      (GradlensWindow *self);
/* Calls then (self, data) at once if nothing is modified, else once the student
 * saved or discarded the edits (never if they cancel); data_free (may be NULL)
 * frees data afterwards either way. */
void      _gradlens_window_confirm_discard (GradlensWindow *self,
                                            void (*then) (GradlensWindow *self, gpointer data),
                                            gpointer data, GDestroyNotify data_free);
void      _gradlens_window_remember_recent (GradlensWindow *self, GFile *file);
void      _gradlens_window_new_program     (GradlensWindow *self);
void      _gradlens_window_save_program    (GradlensWindow *self);
void      _gradlens_window_choose_program_to_save (GradlensWindow *self);
void      _gradlens_window_revert_program  (GradlensWindow *self);
/* The Output tab's badge: new output the student has not seen. */
void      _gradlens_window_output_grew     (GradlensWindow *self);
/* gradlens-window-actions.c */
void      _gradlens_window_class_init_actions (GtkWidgetClass *widget_class);
/* gradlens-window-panes.c: the code column's width, back when the window grows. */
void      _gradlens_window_panes_init      (GradlensWindow *self);
void      _gradlens_window_panes_allocated (GradlensWindow *self);
void      _gradlens_window_panes_dispose   (GradlensWindow *self);
void      _gradlens_window_set_accels      (GtkApplication *application);
void      _gradlens_window_update_actions  (GradlensWindow *self);
void      _gradlens_window_init_shortcuts  (GradlensWindow *self);
void      _gradlens_window_key_command     (GradlensWindow *self, const char *action);
/* Says text over the graph for a few seconds. */
void      _gradlens_window_show_status     (GradlensWindow *self, const char *text);

/* gradlens-window-files.c */
void      _gradlens_window_choose_program_to_open (GradlensWindow *self);
void      _gradlens_window_choose_weights_to_open (GradlensWindow *self);
void      _gradlens_window_choose_weights_to_save (GradlensWindow *self);
void      _gradlens_window_choose_graph_export    (GradlensWindow *self, const char *format);

G_END_DECLS

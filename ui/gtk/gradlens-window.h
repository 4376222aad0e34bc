/* gradlens-window.h: the main window
 *
 * A GtkApplicationWindow built from resources/ui/window.ui. The header bar has
 * the lesson picker, the step controls (win.step-op F10, win.step-line F11,
 * win.step-backward-node F9, win.run-to-phase-end Shift+F11, win.run-to-end
 * F5, win.play-pause F6 with a speed slider, win.reset Ctrl+R, and the
 * optimizer's win.optimizer-step F7 and win.zero-grad F8), the lesson settings
 * and the primary menu (open/save weights, export the graph). Below, in
 * resizable panes: the lesson's code with its phase banner and, for resnet18,
 * the module tree; the graph over the event log, the program's output, the
 * loss plot and the per-layer chart; the inspector on the right. Errors show
 * in a banner at the top.
 *
 * The window owns one Stepper (engine/stepper.h) running the lesson on a
 * worker thread. Every control goes through one function per command (below);
 * the panels are refreshed when the stepper pauses, and only then do they
 * read the engine. ::synced is emitted each time they have caught up (a command
 * completed: the stepper is paused, finished or ready again).
 *
 *   gradlens_window_select_lesson (window, "autograd");
 *   gradlens_window_step_op (window);      // like F10 or the Op button
 */
#pragma once

#include <gtk/gtk.h>

#include "gradlens-application.h"
#include "stepper.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_WINDOW (gradlens_window_get_type ())

G_DECLARE_FINAL_TYPE (GradlensWindow, gradlens_window, GRADLENS, WINDOW, GtkApplicationWindow)

GradlensWindow *gradlens_window_new                (GradlensApplication *application);

/* Picks a lesson by name ("autograd", "resnet18-step", ...) and makes it ready
 * to run from its first line (again, if it was the current one). FALSE if unknown. */
gboolean        gradlens_window_select_lesson      (GradlensWindow *self, const char *name);
const Lesson   *gradlens_window_get_lesson         (GradlensWindow *self);
Stepper        *gradlens_window_get_stepper        (GradlensWindow *self);
/* TRUE while the lesson's worker runs (between a command and its pause). */
gboolean        gradlens_window_is_busy            (GradlensWindow *self);

/* The commands, one function behind every button, shortcut and menu item. */
void            gradlens_window_step_op            (GradlensWindow *self);
void            gradlens_window_step_line          (GradlensWindow *self);
void            gradlens_window_step_backward_node (GradlensWindow *self);
void            gradlens_window_run_to_phase_end   (GradlensWindow *self);
void            gradlens_window_run_to_end         (GradlensWindow *self);
void            gradlens_window_play_pause         (GradlensWindow *self);
gboolean        gradlens_window_is_playing         (GradlensWindow *self);
void            gradlens_window_reset              (GradlensWindow *self);
void            gradlens_window_optimizer_step     (GradlensWindow *self);
void            gradlens_window_zero_grad          (GradlensWindow *self);
/* A breakpoint on the program's 1-based line (0: the code view's cursor line)
 * set or cleared: play and the run commands stop there. TRUE if set now. */
gboolean        gradlens_window_toggle_breakpoint  (GradlensWindow *self, int line);

/* The graph shown: the nodes of the current forward pass (grad_fns and
 * AccumulateGrads, no None slots), in recording order. Borrowed. */
GPtrArray      *gradlens_window_get_graph_nodes    (GradlensWindow *self);
/* Selects a node: the graph highlights it and the inspector shows it. */
void            gradlens_window_select_node        (GradlensWindow *self, Node *node);

/* Files; errors are also shown in the window's banner. */
/* Opens a Python program (.py) in place of the lesson. */
gboolean        gradlens_window_open_program       (GradlensWindow *self, GFile *file,
                                                    GError **error);
/* Writes the program as edited to file (atomically: a failure leaves the old
 * file as it was); Save writes there from then on. */
gboolean        gradlens_window_save_program       (GradlensWindow *self, GFile *file,
                                                    GError **error);
/* The program's text differs from the lesson's own or the file's as saved. */
gboolean        gradlens_window_is_modified        (GradlensWindow *self);
/* Opens a copy of the example NAME (python/lessons.h) in place of the lesson, as
 * a program without a file: the student may change it, and save it elsewhere. */
gboolean        gradlens_window_open_example       (GradlensWindow *self, const char *name,
                                                    GError **error);
gboolean        gradlens_window_open_weights       (GradlensWindow *self, GFile *file,
                                                    GError **error);
gboolean        gradlens_window_save_weights       (GradlensWindow *self, GFile *file,
                                                    GError **error);
gboolean        gradlens_window_export_graph       (GradlensWindow *self, GFile *file,
                                                    const char *format, GError **error);
/* The banner: shown with message, or hidden (NULL). */
void            gradlens_window_show_error         (GradlensWindow *self, const char *message);
/* The banner's text when it is shown, NULL otherwise. */
const char     *gradlens_window_get_error          (GradlensWindow *self);

/* The status over the graph: "Running…" with a spinner while a command takes
 * a while, or why a key did nothing (for a few seconds); NULL when hidden. */
const char     *gradlens_window_get_status         (GradlensWindow *self);

/* The panels, for tests. */
GtkWidget      *gradlens_window_get_panel          (GradlensWindow *self, const char *name);

G_END_DECLS

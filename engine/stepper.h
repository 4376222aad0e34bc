/* stepper.h — run a lesson like a debugger: on a worker thread, pausing at events.
 *
 * The stepper runs a lesson's C function on its own thread, with itself as that
 * thread's autograd observer. At every event of the chosen kinds (a line, a module
 * entered or left, a grad_fn recorded, a backward node run, a parameter updated, a
 * phase change) the worker stops inside the observer and waits for a command. While
 * it waits, the controlling (UI) thread may read everything: the graph, every
 * tensor, the run's variables. Nothing in the engine runs meanwhile.
 *
 *   Stepper *s = stepper_new (lesson_find ("autograd", NULL), &params,
 *                             STEPPER_STOP_OP | STEPPER_STOP_BACKWARD_NODE,
 *                             g_main_context_default (), on_paused, window);
 *   stepper_step (s);            // returns at once; on_paused runs in the main loop
 *   ...
 *   static void on_paused (Stepper *s, gpointer data)
 *   {
 *     const StepperEvent *ev = stepper_get_event (s);
 *     show (ev->sentence);       // "PowBackward0 recorded: the grad_fn of …"
 *     highlight_line (stepper_get_line (s));
 *   }
 *   stepper_free (s);            // stops a running lesson, joins the thread
 *
 * Tests and the command line use the synchronous form: stepper_step_sync() sends
 * the command and blocks until the worker pauses again or finishes.
 *
 * Without stops (stepper_run_to_end), an event costs the observer call and a few
 * loads: the lesson runs at the engine's speed.
 */
#pragma once

#include "lesson.h"

G_BEGIN_DECLS

/* Where the worker pauses when stepping. Combine freely. */
typedef enum
{
  STEPPER_STOP_LINE = 1 << 0,            /* before each statement: EVENT_LINE */
  STEPPER_STOP_MODULE = 1 << 1,          /* a module of resnet18 entered or left */
  STEPPER_STOP_OP = 1 << 2,              /* a grad_fn recorded in forward (AccumulateGrad too) */
  STEPPER_STOP_BACKWARD_NODE = 1 << 3,   /* a node ran, or an AccumulateGrad stored .grad */
  STEPPER_STOP_OPTIMIZER = 1 << 4,       /* one parameter updated; the grads zeroed */
  STEPPER_STOP_PHASE = 1 << 5,           /* the lesson changed phase */
  STEPPER_STOP_ANOMALY = 1 << 6,         /* anomaly mode found the first NaN/Inf (EVENT_ANOMALY);
                                          * pauses in every mode, like a breakpoint. Among
                                          * the stops when the run starts, it turns anomaly
                                          * mode on for the run */
} StepperStops;

typedef enum
{
  STEPPER_READY,        /* nothing ran yet: the first command starts the worker */
  STEPPER_RUNNING,
  STEPPER_PAUSED,       /* the worker waits: everything may be read */
  STEPPER_FINISHED,     /* the lesson ended (or failed: stepper_get_error) */
} StepperStatus;

/* The event the worker paused at, kept alive until the next pause. */
typedef struct
{
  EventKind kind;
  Node *node;           /* a reference, or NULL */
  Tensor *tensor;       /* a reference, or NULL */
  const char *module;   /* interned; "" at top level */
  int line;             /* the lesson's current line */
  LessonPhase phase;    /* the lesson's current phase */
  guint64 index;        /* how many events came before it in this run */
  char *sentence;       /* what happened, for a student */
  gboolean breakpoint;  /* an EVENT_LINE paused at because its line has a breakpoint */
} StepperEvent;

typedef struct _Stepper Stepper;

/* Called in the GMainContext given to stepper_new when the worker paused or the
 * lesson finished. */
typedef void (*StepperNotify) (Stepper *stepper, gpointer user_data);
/* Called on the worker thread for every event (index counts them from 0), before
 * deciding to pause; for traces. It must not call the stepper's commands. */
typedef void (*StepperEventHook) (const Event *event, LessonRun *run, guint64 index,
                                  gpointer user_data);

/* context: where notify runs (NULL: no notifications; use the _sync calls). */
Stepper       *stepper_new               (const Lesson *lesson, const LessonParams *params,
                                          StepperStops stops, GMainContext *context,
                                          StepperNotify notify, gpointer user_data);
/* Stops a running lesson (it is cancelled at its next event), joins the thread and
 * frees the run: nothing is left behind. Blocks until the worker is gone. */
void           stepper_free              (Stepper *stepper);

void           stepper_set_stops         (Stepper *stepper, StepperStops stops);
StepperStops   stepper_get_stops         (Stepper *stepper);
/* Before the first command. */
void           stepper_set_event_hook    (Stepper *stepper, StepperEventHook hook,
                                          gpointer user_data);

/* Breakpoints: 1-based lines of the lesson's source. The worker pauses at an
 * EVENT_LINE of one of them whatever the command (a step, to the end of a line
 * or phase, to the end), like a debugger's continue; the event says so
 * (StepperEvent.breakpoint). Thread-safe: call them from any thread, while the
 * lesson runs too; the set replaces the previous one and survives
 * stepper_reset. n = 0 clears it. */
void           stepper_set_breakpoints   (Stepper *stepper, const int *lines, guint n);
gboolean       stepper_has_breakpoint    (Stepper *stepper, int line);
guint          stepper_get_n_breakpoints (Stepper *stepper);

/* Commands: each lets the worker run (starting it if needed) until the next pause. */
void           stepper_step              (Stepper *stepper);   /* next event of the stops */
void           stepper_run_to_line_end   (Stepper *stepper);   /* next line */
void           stepper_run_to_phase_end  (Stepper *stepper);   /* next phase change */
void           stepper_run_to_end        (Stepper *stepper);   /* no more pauses */
/* Discards the run (as stepper_free does) and prepares a fresh one, with new
 * parameters if params is not NULL. Status READY afterwards. */
void           stepper_reset             (Stepper *stepper, const LessonParams *params);

/* Blocks until the worker pauses or finishes (at once if it is not running). */
StepperStatus  stepper_wait              (Stepper *stepper);
StepperStatus  stepper_step_sync         (Stepper *stepper);
StepperStatus  stepper_run_to_line_end_sync  (Stepper *stepper);
StepperStatus  stepper_run_to_phase_end_sync (Stepper *stepper);
StepperStatus  stepper_run_to_end_sync   (Stepper *stepper);
/* Runs until the lesson enters phase (paused at its EVENT_PHASE: PAUSED) or ends
 * (FINISHED). The graph "after the forward pass" is there at LESSON_PHASE_BACKWARD. */
StepperStatus  stepper_run_to_phase_sync (Stepper *stepper, LessonPhase phase);

/* --- State: read it while PAUSED, FINISHED or READY, from the controlling thread. */
StepperStatus  stepper_get_status        (Stepper *stepper);
LessonPhase    stepper_get_phase         (Stepper *stepper);
int            stepper_get_line          (Stepper *stepper);
/* The event paused at (or, once finished, the lesson's end); NULL before any. */
const StepperEvent *stepper_get_event    (Stepper *stepper);
/* The nodes recorded in this run, in recording order: a GPtrArray of Node * (the
 * stepper holds a reference to each). When a forward pass begins, the nodes of
 * graphs nothing else holds any more (an earlier step's, once `loss` was rebound)
 * are dropped; the current graph and any graph a variable keeps stay. */
GPtrArray     *stepper_get_nodes         (Stepper *stepper);
LessonRun     *stepper_get_run           (Stepper *stepper);   /* variables, output, losses */
guint64        stepper_get_n_events      (Stepper *stepper);
/* Once FINISHED: FALSE and the lesson's error if it failed. */
gboolean       stepper_get_result        (Stepper *stepper, GError **error);

/* Words for an event, as the event log shows them. run gives tensor and module names. */
char          *stepper_describe_event    (const Event *event, LessonRun *run);
/* "node_recorded", "line", ...: the trace's "kind". */
const char    *event_kind_name           (EventKind kind);
/* One JSON object (no newline) for the trace: {"phase", "kind", "line", "node",
 * "grad_fn", "module", "tensor"}, fields that do not apply left out. */
char          *stepper_event_to_json     (const Event *event, LessonRun *run, guint64 index);

G_END_DECLS

/* lesson.h — a PyTorch program and its runs.
 *
 * A Lesson is a PyTorch program (its text, shown by the UI beside the graph, lines
 * numbered from 1) and the function that runs it: python/ runs it in the embedded
 * interpreter over the engine (python/program.h), whose tracing announces each
 * line (EVENT_LINE) and the engine each op, backward node, optimizer step and
 * phase (EVENT_PHASE: forward → backward → SGD step → zero_grad), so the stepper
 * can pause there and the UI can highlight the line. The engine itself knows no
 * Python: a run is the program's text, its output and its variables.
 *
 * A LessonRun is one execution: it holds every tensor, the model and the optimizer
 * the program binds, under their Python names ("a", "Q", "model", "loss"), until it
 * is freed, so the inspector can show them while the stepper is paused.
 *
 *   const Lesson *lesson = lesson_find ("autograd", &error);   // python/lessons.h
 *   LessonParams params;
 *   lesson_params_init (&params);
 *   LessonRun *run = lesson_run_new (lesson, &params);
 *   lesson_run_execute (run, &error);          // on this thread, no pauses
 *   g_print ("%s", lesson_run_get_output (run));
 *   lesson_run_free (run);
 *
 * The stepper (stepper.h) runs the same function on a worker thread and pauses it.
 */
#pragma once

#include "autograd.h"

G_BEGIN_DECLS

#define LESSON_ERROR (lesson_error_quark ())
GQuark lesson_error_quark (void);

typedef enum
{
  LESSON_ERROR_UNKNOWN,         /* no lesson of that name */
  LESSON_ERROR_PARAMS,          /* a parameter the lesson cannot take */
  LESSON_ERROR_CANCELLED,       /* stopped by the stepper (reset) */
  LESSON_ERROR_PROGRAM,         /* a program raised (or had a syntax error): the message
                                 * is Python's traceback, as Python prints it */
} LessonError;

/* Where the program is. EVENT_PHASE carries one of these in its `line` field. */
typedef enum
{
  LESSON_PHASE_FORWARD,         /* building tensors and the graph (set-up included) */
  LESSON_PHASE_BACKWARD,        /* .backward(): gradients flow */
  LESSON_PHASE_OPTIMIZER,       /* optim.step(): parameters move */
  LESSON_PHASE_ZERO_GRAD,       /* optim.zero_grad(): .grad = None */
  LESSON_PHASE_DONE,            /* the program ended */
  LESSON_PHASE_COUNT
} LessonPhase;

const char *lesson_phase_name (LessonPhase phase);   /* "forward", "zero_grad", ... */

/* What a lesson can be given. The program text shows the values. */
typedef struct
{
  int size;                     /* input height and width: 64 or 224 */
  guint64 seed;                 /* torch.manual_seed */
  float lr;                     /* SGD */
  float momentum;
  int steps;                    /* training steps (resnet lessons) */
  bool zero_grad;               /* call optim.zero_grad() before each step */
  char **frozen;                /* module or parameter names to freeze (freeze lesson);
                                 * NULL: the lesson's default; an empty list: none */
  char *weights;                /* .safetensors or .pth file to load into resnet18, or NULL */
  bool detect_anomaly;          /* torch.autograd.set_detect_anomaly(True): the first NaN/Inf
                                 * is reported (EVENT_ANOMALY) and kept, a NaN/Inf gradient
                                 * stops backward (autograd.h); off by default, as in PyTorch */
} LessonParams;

/* size 64, seed 0, lr 1e-2, momentum 0.9, 1 step, zero_grad on, no weights. */
void     lesson_params_init     (LessonParams *params);
void     lesson_params_copy     (LessonParams *dest, const LessonParams *src);
void     lesson_params_clear    (LessonParams *params);   /* frees frozen and weights */

typedef struct _LessonRun LessonRun;

/* Runs a lesson's program (python/'s program_run). Returns FALSE with error set on
 * a real failure (an uncaught exception, a cancelled run); errors the program
 * catches and prints are output, not failures. */
typedef gboolean (*LessonFn) (LessonRun *run, GError **error);

/* A PyTorch program: a built-in lesson (python/lessons.h) or a file the user opened. */
typedef struct
{
  const char *name;             /* "autograd": the command line's NAME, the file's base name */
  /* A bundled lesson's or example's title and summary are English marked with
   * N_(): show them through _() (a program's own come from its header). */
  const char *title;            /* "Autograd basics" */
  const char *summary;          /* one line, for --list and the lesson picker */
  const char *source;           /* the program as written */
  const char *graph_variable;   /* the variable whose grad_fn is "the graph": "Q", "loss" */
  bool uses_resnet;             /* calls resnet18(): the module tree, the optimizer, the loss */
  bool uses_modules;            /* resnet18() or torch.nn: the module tree */
  bool uses_optimizer;          /* resnet18() or torch.optim: the loss and layer plots */
  bool builtin;                 /* one of the six: parameters are written into its text */
  bool bundled;                 /* shipped with GradLens: a built-in lesson or an example
                                 * (python/lessons.h); its title is translated */
  LessonFn run;
  const char *filename;         /* the file its tracebacks name: "autograd.py", a path */
} Lesson;

/* A lesson made at run time from a program's text (python/ runs it with run).
 * graph_variable may be NULL: the graph is then the grad_fn of the tensor variable
 * bound last among those that have one. Free with lesson_free. */
Lesson             *lesson_new_program (const char *name, const char *title,
                                        const char *summary, const char *source,
                                        const char *filename, const char *graph_variable,
                                        LessonFn run);
void                lesson_free        (Lesson *lesson);

/* The program with the parameters written in: what the UI shows, what runs, and
 * what /usr/bin/python3 runs to make the test fixtures. A built-in lesson's
 * literals are replaced (lesson-source.c); any other program is returned as it is. */
char               *lesson_source    (const Lesson *lesson, const LessonParams *params);

/* The literals of a built-in lesson that parameters replace (lesson_source). */
typedef enum
{
  LESSON_PARAM_SEED,            /* torch.manual_seed(0) */
  LESSON_PARAM_SIZE,            /* torch.rand(1, 3, 64, 64) */
  LESSON_PARAM_LR,              /* lr=0.01 */
  LESSON_PARAM_MOMENTUM,        /* momentum=0.9 */
  LESSON_PARAM_STEPS,           /* for step in range(1): */
  LESSON_PARAM_ZERO_GRAD,       /* optim.zero_grad(set_to_none=True), or a pass */
  LESSON_PARAM_FROZEN,          /* frozen = ("conv1", "bn1", "layer1") */
  LESSON_PARAM_WEIGHTS,         /* model = resnet18(); model.load_state_dict(...) */
  LESSON_PARAM_COUNT
} LessonParam;

/* The module or parameter names the lesson freezes: params->frozen, or those of
 * the program's own `frozen = (...)` when that is NULL. */
char              **lesson_frozen_names (const Lesson *lesson, const LessonParams *params);

/* --- A run --------------------------------------------------------------- */

typedef enum
{
  LESSON_VAR_TENSOR,
  LESSON_VAR_MODULE,            /* value: Module * */
  LESSON_VAR_OPTIMIZER,         /* value: Sgd * */
} LessonVarKind;

typedef struct
{
  char *name;                   /* the Python name: "a", "model", "optim" */
  LessonVarKind kind;
  gpointer value;               /* owned by the run */
  GDestroyNotify destroy;
} LessonVar;

/* Writes what the program prints, as it prints it (on the thread running it). */
typedef void (*LessonOutputFn) (const char *text, gpointer user_data);

LessonRun   *lesson_run_new            (const Lesson *lesson, const LessonParams *params);
void         lesson_run_free           (LessonRun *run);
void         lesson_run_set_output_func(LessonRun *run, LessonOutputFn fn, gpointer user_data);
/* Runs the program on the calling thread, once (again is an error). Events go to
 * that thread's observer. Anomaly mode is on for the run if params->detect_anomaly
 * or the thread has it on already; the thread's earlier anomaly is cleared. */
gboolean     lesson_run_execute        (LessonRun *run, GError **error);
/* Once the run ended: its first anomaly (anomaly mode), or NULL. */
const Anomaly *lesson_run_get_anomaly  (LessonRun *run);

const Lesson       *lesson_run_get_lesson   (LessonRun *run);
const LessonParams *lesson_run_get_params   (LessonRun *run);
const char  *lesson_run_get_source     (LessonRun *run);
/* Line n (from 1) of the program, without its newline; "" out of range. */
const char  *lesson_run_get_source_line(LessonRun *run, int line);
int          lesson_run_get_n_lines    (LessonRun *run);
const char  *lesson_run_get_output     (LessonRun *run);   /* everything printed so far */
LessonPhase  lesson_run_get_phase      (LessonRun *run);
int          lesson_run_get_line       (LessonRun *run);   /* 0 before the first line */
/* Losses of the resnet lessons, one per step (double). */
GArray      *lesson_run_get_losses     (LessonRun *run);

/* The variables, in the order the program made them: a GPtrArray of LessonVar *. */
GPtrArray   *lesson_run_get_variables  (LessonRun *run);
const LessonVar *lesson_run_lookup     (LessonRun *run, const char *name);
Tensor      *lesson_run_get_tensor     (LessonRun *run, const char *name);  /* borrowed */
gpointer     lesson_run_get_model      (LessonRun *run);   /* Module *, or NULL */
const char  *lesson_run_get_model_name (LessonRun *run);   /* its variable's name, or NULL */
gpointer     lesson_run_get_optimizer  (LessonRun *run);   /* Sgd *, or NULL */
/* The lesson's graph: graph_variable's grad_fn (borrowed), or NULL. */
Node        *lesson_run_get_graph_root (LessonRun *run);
/* A tensor's name for people: its variable or parameter name ("b", "fc.weight"),
 * or NULL. */
const char  *lesson_run_tensor_name    (LessonRun *run, const Tensor *t);
/* The kind of the module at path in the run's model ("BasicBlock"), or NULL. */
const char  *lesson_run_module_kind    (LessonRun *run, const char *path);

/* The graph below root (every node reachable through next_functions, root first,
 * breadth-first) as JSON:
 *   {"nodes": [{"id", "type", "module", "shape", "next_functions", "leaf_name",
 *                "leaf_shape"}, ...],
 *    "edges": [[from, to], ...]}
 * ids are Node.id (as in traces); "shape" is the node's output; "next_functions"
 * is PyTorch's tuple, slot for slot: [id, input_nr] or null for a None slot;
 * leaf_* only for AccumulateGrad; one edge per non-None slot. run (may be NULL)
 * names the leaves. Or as Graphviz DOT: an edge from a node to each of its
 * next_functions (comment="next_functions[i]"), a None slot as a grey "None"
 * box of its own, as the window draws it. */
char        *lesson_graph_to_json      (LessonRun *run, Node *root);
char        *lesson_graph_to_dot       (LessonRun *run, Node *root);

/* --- For the lessons' C code ------------------------------------------- */

/* Emit EVENT_LINE / EVENT_PHASE. FALSE: the stepper asked the lesson to stop.
 * A phase begins with the statement that starts it: lesson_phase () announces
 * it, and the next lesson_line () sets the line, then emits EVENT_PHASE, then
 * EVENT_LINE, so a pause at either shows that line under that phase (the
 * backward phase on `loss.backward()`, never on the line before it). */
gboolean     lesson_line               (LessonRun *run, int line);
gboolean     lesson_phase              (LessonRun *run, LessonPhase phase);
/* The phase changes inside the statement being run, at once: a program's
 * loss.backward() starts the backward phase in the middle of its line. */
gboolean     lesson_phase_now          (LessonRun *run, LessonPhase phase);
gboolean     lesson_cancelled          (GError **error);   /* sets the error, returns FALSE */

#define LESSON_LINE(run, n)                                 \
  G_STMT_START                                              \
  {                                                         \
    if (!lesson_line ((run), (n)))                          \
      return lesson_cancelled (error);                      \
  }                                                         \
  G_STMT_END

#define LESSON_PHASE(run, phase)                            \
  G_STMT_START                                              \
  {                                                         \
    if (!lesson_phase ((run), (phase)))                     \
      return lesson_cancelled (error);                      \
  }                                                         \
  G_STMT_END

/* print(...): appends a line (a newline is added). */
void         lesson_print              (LessonRun *run, const char *format, ...)
                                        G_GNUC_PRINTF (2, 3);
/* Appends text as it is (sys.stdout.write). */
void         lesson_run_write          (LessonRun *run, const char *text);
/* print(t): PyTorch's repr. */
void         lesson_print_tensor       (LessonRun *run, const Tensor *t);

/* Keep t (a new reference is taken over: the run owns it) as variable name,
 * replacing any previous value (Python's rebinding). Returns t, borrowed. The
 * tensor gets the name if it has none. */
Tensor      *lesson_run_keep           (LessonRun *run, const char *name, Tensor *t);
void         lesson_run_keep_object    (LessonRun *run, const char *name, LessonVarKind kind,
                                        gpointer value, GDestroyNotify destroy);
/* `del name`, or a name that no longer holds a tensor, module or optimizer. */
void         lesson_run_forget         (LessonRun *run, const char *name);
/* Names for tensors that are not variables (the model's parameters). */
void         lesson_run_name_tensor    (LessonRun *run, const Tensor *t, const char *name);
void         lesson_run_push_loss      (LessonRun *run, double loss);
/* A generator seeded from the run's seed (torch.manual_seed (seed)). */
void         lesson_run_seed           (LessonRun *run, Generator *gen);

G_END_DECLS

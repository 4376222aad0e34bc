/* autograd.h — the grad_fn graph, the backward engine and its events.
 *
 * Every op whose output requires grad records a Node. A node's next edges are
 * PyTorch's next_functions, in PyTorch's order, None slots included: an input that
 * needs no gradient (or a Python scalar, or a missing bias) is an Edge whose node is
 * NULL. A leaf that requires grad is reached through its one AccumulateGrad node.
 *
 *   Q = 3*a**3 - b**2          SubBackward0 (seq 3)
 *                              ├── MulBackward0 (seq 1)
 *                              │   ├── PowBackward0 (seq 0) ── AccumulateGrad (a)
 *                              │   └── None
 *                              └── PowBackward0 (seq 2) ── AccumulateGrad (b)
 *
 * Backward (PyTorch's engine): count, for each node reachable from the root, how
 * many gradients it will receive; sum the gradients arriving at a node; among the
 * nodes whose gradients have all arrived, run the one with the highest sequence
 * number (AccumulateGrad's is UINT64_MAX, so it runs as soon as it is ready). The
 * first backward sets a leaf's .grad, later ones add to it. Without retain_graph,
 * saved tensors are freed, and a second pass through a node that had saved
 * tensors fails with PyTorch's message.
 *
 * Observers see it all happen (autograd_set_observer): the stepper pauses the
 * worker thread inside the callback; the UI reads the live graph meanwhile.
 */
#pragma once

#include "tensor.h"

G_BEGIN_DECLS

#define AUTOGRAD_ERROR (autograd_error_quark ())
GQuark autograd_error_quark (void);

typedef enum
{
  AUTOGRAD_ERROR_GRAPH_FREED,     /* second backward through freed saved tensors */
  AUTOGRAD_ERROR_NOT_SCALAR,      /* implicit gradient for a non-scalar root */
  AUTOGRAD_ERROR_NO_GRAD,         /* backward on a tensor that does not require grad */
  AUTOGRAD_ERROR_SHAPE,           /* shapes that do not fit the op */
  AUTOGRAD_ERROR_NOT_LEAF,        /* requires_grad set on a non-leaf, ... */
  AUTOGRAD_ERROR_NOT_FINITE,      /* anomaly mode: NaN or Inf */
  AUTOGRAD_ERROR_CANCELLED,       /* the observer asked to stop */
  AUTOGRAD_ERROR_HOOK,            /* a gradient hook failed (its caller knows why) */
  AUTOGRAD_ERROR_UNUSED,          /* autograd_grad: an input the outputs do not reach */
  AUTOGRAD_ERROR_VALUE,           /* an argument PyTorch refuses with ValueError */
} AutogradError;

/* One op, one row: op_info[] holds each op's grad_fn name, its symbol and its
 * backward; the graph view and the exports read names from it and nowhere else. */
typedef enum
{
  OP_ACCUMULATE_GRAD,
  OP_ADD,
  OP_SUB,
  OP_RSUB,
  OP_MUL,
  OP_DIV,
  OP_NEG,
  OP_POW,
  OP_EXP,
  OP_LOG,
  OP_RELU,
  OP_SUM,
  OP_SUM_DIM,
  OP_MEAN,
  OP_MEAN_DIM,
  OP_VIEW,
  OP_T,
  OP_MM,
  OP_ADDMM,
  OP_NORM,
  OP_CONV2D,
  OP_BATCH_NORM,
  OP_MAX_POOL2D,
  /* ops-unary.c */
  OP_SIN,
  OP_COS,
  OP_TANH,
  OP_SIGMOID,
  OP_SQRT,
  OP_ABS,
  OP_CLAMP,
  OP_RECIPROCAL,
  OP_POW_TENSOR,
  OP_POW_SCALAR_BASE,
  /* ops-softmax.c */
  OP_SOFTMAX,
  OP_LOG_SOFTMAX,
  OP_MAX,
  OP_MIN,
  OP_MAX_DIM,
  OP_MIN_DIM,
  /* nn-loss.c */
  OP_MSE_LOSS,
  OP_NLL_LOSS,
  /* ops-shape.c */
  OP_UNSQUEEZE,
  OP_SQUEEZE,
  OP_SQUEEZE_DIM,
  OP_SQUEEZE_DIM_INPLACE,
  OP_UNSAFE_VIEW,
  OP_TRANSPOSE,
  OP_PERMUTE,
  OP_EXPAND,
  OP_SELECT,
  OP_SLICE,
  OP_CLONE,
  OP_CAT,
  OP_STACK,
  /* ops-matmul.c */
  OP_MV,
  OP_DOT,
  OP_BMM,
  /* ops-index.c */
  OP_INDEX,
  OP_INDEX_PUT,
  OP_COPY_SLICES,
  OP_COUNT
} OpKind;

/* Edges of one node: cat and stack take up to this many tensors (ui/graph-model.c
 * keys a None slot in 3 bits, so at most 7). */
#define NODE_MAX_EDGES 7
#define NODE_MAX_SAVED 4
/* Gradients up to this many elements are kept for pictures (Node::grad_sent). */
#define NODE_SMALL_GRAD 16

typedef struct
{
  Node *node;                      /* NULL: a None slot */
  int input_nr;                    /* which input of node (always 0 here: one output per node) */
} Edge;

/* Where a node is in the current backward pass, for the UI. */
typedef enum
{
  NODE_IDLE,                       /* not part of a running backward */
  NODE_WAITING,                    /* some of its gradients have not arrived */
  NODE_READY,                      /* all arrived; queued */
  NODE_RUNNING,
  NODE_DONE,                       /* ran in the last backward */
} NodeState;

/* grad_inputs[i] is NULL on entry; fill every slot whose next[i].node is not NULL
 * with a new tensor of that input's shape. Runs with grad mode off. */
typedef void (*BackwardFn) (Node *node, const Tensor *grad_output, Tensor **grad_inputs);

typedef struct
{
  const char *name;                /* PyTorch's class name: "AddBackward0" */
  const char *symbol;              /* short label for pictures: "+", "conv", ... */
  BackwardFn backward;
} OpInfo;

extern const OpInfo op_info[OP_COUNT];

struct _Node
{
  gint ref_count;
  OpKind op;
  uint64_t seq;                    /* creation order; UINT64_MAX for AccumulateGrad */
  uint64_t id;                     /* unique, stable, for pictures and traces */
  const char *module;              /* module path when recorded ("layer1.0.conv2"), interned; "" at top */

  int n_next;
  Edge next[NODE_MAX_EDGES];       /* next_functions */
  int64_t input_shape[NODE_MAX_EDGES][TENSOR_MAX_DIMS]; /* shape of each input, for its gradient */
  int input_ndim[NODE_MAX_EDGES];

  int out_ndim;                    /* shape of the gradient this node receives */
  int64_t out_shape[TENSOR_MAX_DIMS];

  int n_saved;
  Tensor *saved[NODE_MAX_SAVED];   /* aliases (no grad_fn): what backward needs */
  const char *saved_names[NODE_MAX_SAVED];
  bool saved_freed;                /* freed after a backward without retain_graph */

  double scalars[4];               /* op parameters: exponent, eps, momentum, ... */
  int64_t ints[8];                 /* dims, stride, padding, ... */
  void *extra;                     /* op-owned buffer (max-pool indices, BN statistics) */
  GDestroyNotify extra_free;

  Tensor *variable;                /* AccumulateGrad: its leaf (strong) */
  Tensor *retained;                /* weak: the output that called retain_grad, if any */
  GArray *hooks;                   /* of GradHook: its output's register_hook, or NULL */
  guint retain_at;                 /* retain_grad runs before hooks[retain_at] */

  /* Live backward state: written by the engine, read by the UI while paused. */
  NodeState state;
  int deps_total;                  /* gradients this node will receive in this pass */
  int deps_arrived;
  Tensor *grad_buffer;             /* their running sum */
  double grad_norm_out[NODE_MAX_EDGES]; /* ‖gradient‖ sent along each edge in the last pass */
  /* Small gradients themselves (at most NODE_SMALL_GRAD elements), copied in the last
   * pass while someone watches: so a picture can show the chain rule's numbers. */
  Tensor *grad_received;           /* the grad_output its backward was given */
  Tensor *grad_sent[NODE_MAX_EDGES]; /* what it sent along each edge */
};

const char *node_name              (const Node *node);   /* op_info[node->op].name */
Node       *node_ref               (Node *node);
void        node_unref             (Node *node);
bool        node_has_saved         (const Node *node);
gint        node_live_count        (void);   /* for leak checks in tests */

/* --- Recording (used by ops) --------------------------------------------
 *
 *   Node *node = autograd_record (OP_MUL, out, 2, (Tensor *[]){ a, b });
 *   if (node)
 *     {
 *       node_save (node, "self", a);
 *       node_save (node, "other", b);
 *       autograd_commit (node);
 *     }
 *
 * autograd_record returns NULL (and records nothing) when grad mode is off or no
 * input requires grad; otherwise out gets the new node as grad_fn. A NULL input is
 * a None slot (a Python scalar). autograd_commit announces the node to observers.
 */
Node *autograd_record              (OpKind op, Tensor *out, int n_inputs, Tensor *const *inputs);
void  node_save                    (Node *node, const char *name, const Tensor *t);
void  node_set_extra               (Node *node, void *extra, GDestroyNotify extra_free);
void  autograd_commit              (Node *node);
bool  autograd_any_requires_grad   (int n_inputs, Tensor *const *inputs);

/* torch.no_grad(): per thread. Returns the previous mode, to restore. */
bool  grad_mode_is_enabled         (void);
bool  grad_mode_set_enabled        (bool enabled);

/* Anomaly mode (torch.autograd.detect_anomaly): per thread.
 *
 * Backward stops with AUTOGRAD_ERROR_NOT_FINITE at the first node producing NaN/Inf,
 * with PyTorch's message. Forward goes further than PyTorch, for students: the first
 * op (one that records a grad_fn) whose output holds NaN or Inf is reported as it
 * happens. Either way the thread remembers its first anomaly (anomaly_get_first)
 * and emits EVENT_ANOMALY for it, once:
 *
 *   anomaly_mode_set_enabled (true);
 *   prediction = module_forward (model, data, &error);     // EVENT_ANOMALY here, or
 *   if (!tensor_backward (loss, NULL, false, &error))      // here (and the error)
 *     g_print ("%s\n", anomaly_get_first ()->message);
 *     // "ConvolutionBackward0 in layer2.0.conv1 produced inf in its output (3 of 4096 values)"
 *   anomaly_clear ();
 *
 * Off, it costs one thread-local test per recorded op and per backward node; on, one
 * pass over each recorded output until the first anomaly (none after it) and over
 * each gradient. Turning the mode on does not clear an earlier anomaly. */
bool  anomaly_mode_is_enabled      (void);
bool  anomaly_mode_set_enabled     (bool enabled);

typedef struct
{
  Node *node;                      /* a reference: the op's grad_fn (node->module: where it
                                    * was recorded, "" at the top) */
  bool backward;                   /* FALSE: its forward output; TRUE: a gradient it returned */
  int slot;                        /* backward: the next_functions slot of that gradient */
  int64_t n_nan, n_inf, numel;     /* in that tensor */
  char *message;                   /* "MulBackward0 in layer2.0.bn1 produced inf in its output
                                    * (1 of 8 values)"; backward: "... in its gradient for
                                    * input 1 ..." */
} Anomaly;

/* This thread's first anomaly since anomaly_clear (borrowed), or NULL. */
const Anomaly *anomaly_get_first   (void);
/* Takes it away from the thread (NULL if none): free with anomaly_free. */
Anomaly *anomaly_steal_first       (void);
void     anomaly_clear             (void);
void     anomaly_free              (Anomaly *anomaly);

/* loss.backward(gradient, retain_graph). gradient may be NULL for a scalar root. */
gboolean tensor_backward           (Tensor *root, const Tensor *gradient,
                                    bool retain_graph, GError **error);

/* torch.autograd.backward(tensors, grad_tensors, retain_graph): one pass from every
 * root at once (PyTorch's GraphRoot), each seeded with grad_tensors[i] (NULL: ones
 * for a scalar), so a node shared by two roots runs once with their sum. */
gboolean autograd_backward         (int n_roots, Tensor *const *roots,
                                    const Tensor *const *gradients, bool retain_graph,
                                    GError **error);

/* torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph, allow_unused):
 * the gradient of the outputs (seeded with grad_outputs[i], NULL: ones for a scalar)
 * with respect to each input, into grads[i] (new references; NULL for an unused
 * input when allow_unused). No .grad changes: an input's gradient is taken where
 * it arrives (at its grad_fn, or at a leaf's AccumulateGrad, which does not run),
 * before the hooks there, and only the nodes on a path to an input run, as in
 * PyTorch's engine; retain_grad and the hooks of the nodes that do run apply. */
gboolean autograd_grad             (int n_outputs, Tensor *const *outputs,
                                    const Tensor *const *grad_outputs,
                                    int n_inputs, Tensor *const *inputs,
                                    bool retain_graph, bool allow_unused,
                                    Tensor **grads, GError **error);

/* --- Gradient hooks (Tensor.register_hook) ---------------------------------------
 *
 * A hook sees the gradient about to reach a tensor during backward: on a non-leaf,
 * the gradient its grad_fn received, before the node runs; on a leaf, the gradient
 * before AccumulateGrad adds it to .grad. It may set *replacement (a new reference,
 * same shape) to pass on instead; the next hook sees that. Hooks run in the order
 * they were registered, retain_grad's copy among them where it was asked for (as
 * PyTorch 1.13 orders them). A hook returning FALSE stops the backward with its
 * error (AUTOGRAD_ERROR_HOOK: the caller, e.g. Python, keeps the reason itself).
 * Runs on the thread running backward, grad mode off. */
typedef gboolean (*GradHookFn) (const Tensor *grad, Tensor **replacement,
                                gpointer user_data, GError **error);

typedef struct
{
  guint id;
  GradHookFn fn;
  gpointer user_data;
  GDestroyNotify destroy;          /* of user_data, when the hook is removed or freed */
} GradHook;

/* Registers fn on t (which requires grad): a handle id > 0, for autograd_remove_hook. */
guint    autograd_add_hook         (Tensor *t, GradHookFn fn, gpointer user_data,
                                    GDestroyNotify destroy);
/* Removes hook id from t (or from the grad_fn it was registered on); a second
 * removal does nothing. */
void     autograd_remove_hook      (Tensor *t, guint id);
/* The same from the node a non-leaf's hook went to (t->grad_fn when it was added). */
void     autograd_node_remove_hook (Node *node, guint id);
/* For the engine: a new hooks array; node's hooks (or its leaf's) and retain_grad
 * on *grad, which the caller owns and which may be replaced. */
GArray  *autograd_hooks_new        (void);
gboolean autograd_hooks_run        (Node *node, Tensor **grad, GError **error);

/* --- Module context: which module is running, so nodes know where they came from. */
void        autograd_module_push   (const char *path);   /* emits EVENT_MODULE_ENTER */
void        autograd_module_pop    (void);               /* emits EVENT_MODULE_LEAVE */
const char *autograd_module_current(void);               /* "" at top level */

/* --- Events ------------------------------------------------------------- */
typedef enum
{
  EVENT_NODE_RECORDED,            /* forward: node recorded (saved tensors included) */
  EVENT_BACKWARD_BEGIN,           /* tensor: the root */
  EVENT_NODE_BEGIN,               /* node about to run; its gradients have all arrived */
  EVENT_NODE_END,                 /* node ran; grads: what it produced, per next slot */
  EVENT_GRAD_ACCUMULATED,         /* node: AccumulateGrad; tensor: the leaf, .grad updated */
  EVENT_BACKWARD_END,             /* node: the root's, or the node it failed at; text: why
                                   * it failed (PyTorch's message), NULL when it finished */
  EVENT_GRAPH_FREED,              /* tensor: the root whose graph's saved tensors were freed */
  EVENT_GRADS_ZEROED,             /* optimizer zero_grad */
  EVENT_PARAM_UPDATED,            /* optimizer step: tensor is the parameter */
  EVENT_MODULE_ENTER,             /* module: path */
  EVENT_MODULE_LEAVE,
  EVENT_LINE,                     /* a lesson reached line `line` */
  EVENT_PHASE,                    /* a lesson changed phase: `line` holds the LessonPhase */
  EVENT_ANOMALY,                  /* anomaly mode, the thread's first NaN/Inf: node, module,
                                   * tensor (the output or the gradient), text (its message) */
  EVENT_COUNT
} EventKind;

typedef struct
{
  EventKind kind;
  Node *node;
  Tensor *tensor;
  const char *module;
  Tensor *const *grads;           /* EVENT_NODE_END: n_grads entries, NULL for None */
  int n_grads;
  int line;
  const char *text;               /* optional words for the event log */
} Event;

/* Returns FALSE to cancel the running computation (backward fails with
 * AUTOGRAD_ERROR_CANCELLED); forward ops ignore it. */
typedef gboolean (*EventFn) (const Event *event, gpointer user_data);

/* The observer of the calling thread (NULL to remove). With none, an event costs
 * one branch. */
void     autograd_set_observer     (EventFn fn, gpointer user_data);
gboolean autograd_emit             (const Event *event);
bool     autograd_has_observer     (void);
/* The calling thread's cancel flag, an atomic int that another thread sets to
 * stop the computation (NULL for none). Events stop a backward; work that runs
 * long between events (a program's Python code building resnet18, say) asks
 * autograd_cancel_requested and stops on its own. */
void     autograd_set_cancel_flag  (const gint *flag);
bool     autograd_cancel_requested (void);

/* Walk every node reachable from root (root first, then breadth-first over
 * next_functions), each once. Returns a GPtrArray of Node * (borrowed). */
GPtrArray *autograd_collect_nodes  (Node *root);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Anomaly, anomaly_free)

G_END_DECLS

/* graph-model.h: a snapshot of the engine's grad_fn graph, for drawing
 *
 * The engine's graph lives on the worker thread and changes as a lesson runs;
 * the picture is drawn on the UI thread, later, and from the CLI. A GraphModel
 * copies what the picture needs (names, module paths, shapes, edges with their
 * None slots, leaves) once, while the stepper is paused, and refreshes the few
 * fields that change during backward (state, gradients arrived, gradient norms,
 * .grad None or not, saved tensors freed) with graph_model_refresh_state().
 *
 *   g_autoptr (GPtrArray) nodes = autograd_collect_nodes (Q->grad_fn);
 *   g_autoptr (GraphModel) model = graph_model_new (nodes);
 *   // SubBackward0, MulBackward0, PowBackward0, AccumulateGrad (a), None (the 3), ...
 *
 * Every None slot of next_functions becomes a node of its own (GRAPH_NODE_NONE),
 * so the picture can show it greyed; when the slot is a parameter the op never
 * asked a gradient for (a frozen conv weight), it carries that parameter's name.
 *
 * The model holds a reference on each engine Node, so a node stays valid for
 * the inspector as long as the picture shows it. Create, refresh and free it on
 * one thread while the engine is paused; after that it is immutable except for
 * graph_model_refresh_state(), and may be read from any thread.
 */
#pragma once

#include <glib.h>

#include "autograd.h"

G_BEGIN_DECLS

typedef enum
{
  GRAPH_NODE_FUNCTION,   /* a grad_fn: "MulBackward0" */
  GRAPH_NODE_LEAF,       /* AccumulateGrad, with its leaf tensor */
  GRAPH_NODE_NONE,       /* a None slot of a grad_fn's next_functions */
} GraphNodeKind;

typedef struct
{
  int source;            /* the grad_fn whose next_functions this is */
  int target;            /* the next function, or a GRAPH_NODE_NONE node */
  int slot;              /* index in source's next_functions */
  gboolean is_none;
  double grad_norm;      /* ‖gradient‖ sent along it in the last backward; 0: none yet */
  char *values;          /* that gradient's values when small (≤ NODE_SMALL_GRAD
                          * elements), as PyTorch prints them: "[-12., -8.]"; else NULL */
  char *rule;            /* the source's local rule for this slot: "grad · 2·self", or NULL */
} GraphModelEdge;

typedef struct
{
  GraphNodeKind kind;
  Node *node;            /* strong; NULL for a None slot */
  guint64 key;           /* stable across snapshots: graph_model_key () */
  guint64 id;            /* the engine node's id (the owner's, for a None slot) */
  OpKind op;
  const char *name;      /* PyTorch's: "ConvolutionBackward0", "AccumulateGrad", "None" */
  const char *module;    /* module path when recorded, "" at top level (interned) */
  char *shape;           /* function: the gradient it receives, "(1, 64, 16, 16)";
                          * leaf: the variable's; None: the input's, or NULL */
  char *leaf_name;       /* leaf: the variable's name; None: the parameter in that slot */
  gboolean frozen;       /* a parameter that asks no gradient (requires_grad=False) */
  gint64 numel;          /* leaf, frozen None slot: elements, for parameter counts */
  int owner;             /* None: the grad_fn it belongs to; -1 otherwise */
  int slot;              /* None: its slot in the owner's next_functions */
  gboolean is_root;      /* nothing in the graph has it in next_functions */
  guint64 seq;
  char *input_shapes[NODE_MAX_EDGES]; /* function: each input's shape, or NULL (a Python scalar) */
  const char *saved_names[NODE_MAX_SAVED]; /* what backward saved: "self", "result", ... */
  int n_saved;
  gboolean saves_buffer; /* an op-owned buffer too (max-pool indices, BN statistics) */

  int first_edge;        /* its next_functions: edges[first_edge .. + n_edges) */
  int n_edges;
  int n_incoming;

  /* Live: refreshed by graph_model_refresh_state (). */
  NodeState state;
  int deps_total;
  int deps_arrived;
  gboolean has_saved;    /* saved tensors are held now */
  gboolean saved_freed;  /* it had saved tensors, freed by a backward */
  gboolean grad_defined; /* leaf: .grad is not None */
  int grad_passes;       /* leaf: backward passes summed into .grad */
  char *grad_values;     /* the grad_output it received when small, "[1., 1.]"; else NULL */
} GraphModelNode;

typedef struct _GraphModel GraphModel;

struct _GraphModel
{
  gint ref_count;
  GraphModelNode *nodes; /* n_nodes: in recording order, each followed by its None slots */
  int n_nodes;
  GraphModelEdge *edges;
  int n_edges;
  GHashTable *by_key;    /* key → index + 1 */
  GHashTable *by_node;   /* Node * → index + 1 */
};

/* nodes: Node * (the stepper's list, or autograd_collect_nodes's). Nodes reachable
 * through next_functions but missing from the list are added; the model lists them
 * in recording order (by id) whatever the list's order. */
GraphModel *graph_model_new            (GPtrArray *nodes);
GraphModel *graph_model_ref            (GraphModel *model);
void        graph_model_unref          (GraphModel *model);

/* Re-reads the live fields from the engine's nodes. Returns TRUE if any changed. */
gboolean    graph_model_refresh_state  (GraphModel *model);

/* A node's key: its engine id, or for a None slot its owner's id and the slot. */
guint64     graph_model_key            (guint64 id, int none_slot);
int         graph_model_find_key       (const GraphModel *model, guint64 key);
int         graph_model_find_node      (const GraphModel *model, const Node *node);

/* TRUE if module path `module` is `path` or below it ("layer1.0.conv1" is in
 * "layer1" and "layer1.0", not in "layer10"). Every module is in "". */
gboolean    graph_module_contains      (const char *path, const char *module);

/* The first node after `after` (-1: from the start), wrapping around, whose
 * grad_fn name, module path or leaf name contains text (case-insensitive);
 * -1 if none. */
int         graph_model_search         (const GraphModel *model, const char *text, int after);

/* Elements of the parameters (leaves and frozen None slots) of nodes in module
 * `path` and below. */
gint64      graph_model_count_params   (const GraphModel *model, const char *path);

/* What a tooltip says about node i: name, module, shapes, what was saved. Pango
 * markup when markup is TRUE, plain text otherwise. */
char       *graph_model_describe       (const GraphModel *model, int i, gboolean markup);

/* The line a node shows for its live state: "2 of 3 gradients arrived",
 * ".grad: None"; NULL when there is nothing to say. */
char       *graph_model_status_text    (const GraphModel *model, int i);
/* The status lines themselves, translated: a leaf's .grad (passes ≤ 0: None)
 * and a node waiting for its gradients. The layout sizes boxes with them. */
char       *graph_leaf_status_text     (int passes, gboolean defined, gboolean frozen);
char       *graph_waiting_status_text  (int arrived, int total);

/* A folded module's grad state, over the nodes in module `path` and below. */
typedef struct
{
  int functions;         /* grad_fns inside */
  int done;              /* of those, ran in the last backward */
  int running;           /* running now */
  int active;            /* waiting, ready or running: a backward is going through it */
  int params;            /* parameter tensors (leaves, frozen None slots) */
  int frozen;            /* of those, requires_grad=False */
  int with_grad;         /* trainable ones whose .grad is set */
} GraphModuleState;

void        graph_model_module_state   (const GraphModel *model, const char *path,
                                        GraphModuleState *state);
/* Its status line: "backward: 5 of 12 grad_fns run", ".grad: set on 2 of 4 · 2 frozen",
 * "frozen: no .grad", ".grad: None"; NULL for a module without grad_fns or
 * parameters. */
char       *graph_module_status_text   (const GraphModuleState *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraphModel, graph_model_unref)

G_END_DECLS

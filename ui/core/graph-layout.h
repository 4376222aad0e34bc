/* graph-layout.h: where each node, edge and module cluster of a GraphModel goes
 *
 * Graphviz's dot computes it (layered, as torchviz draws): the root at the top,
 * next_functions below their grad_fn, left to right in slot order; edges as
 * cubic Bézier splines; one nested cluster per module path (layer1 ⊃ layer1.0 ⊃
 * layer1.0.conv1). A collapsed module is a single box with its parameter count,
 * its edges to the outside merged. Boxes are sized from their labels measured
 * with graph-style.h, the fonts the painter draws with. Toolkit-free.
 *
 *   GraphLayoutOptions options = GRAPH_LAYOUT_OPTIONS_INIT;
 *   g_autoptr (GraphLayout) layout = graph_layout_new (model, &options, &error);
 *   for (int i = 0; i < layout->n_nodes; i++)
 *     draw_box (&layout->nodes[i].rect);        // graph units, y down, (0,0) top-left
 *
 * Coordinates are points, 1 unit = 1 pixel at 100 % zoom. graph_layout_new may be
 * called from any thread; calls are serialised (Graphviz keeps global state).
 */
#pragma once

#include "graph-model.h"
#include "graph-style.h"
#include "viewport.h"

G_BEGIN_DECLS

#define GRAPH_LAYOUT_ERROR (graph_layout_error_quark ())
GQuark graph_layout_error_quark (void);

typedef enum
{
  GRAPH_LAYOUT_ERROR_FAILED,     /* Graphviz could not lay the graph out */
} GraphLayoutError;

typedef struct
{
  const char *const *collapsed;  /* module paths drawn as one box; NULL-terminated, or NULL */
  gboolean show_none;            /* None slots as greyed boxes (default TRUE) */
  gboolean clusters;             /* one cluster per module (default TRUE) */
} GraphLayoutOptions;

#define GRAPH_LAYOUT_OPTIONS_INIT { NULL, TRUE, TRUE }

/* What a line of a box says. */
typedef enum
{
  GRAPH_LINE_TEXT,               /* fixed text */
  GRAPH_LINE_STATUS,             /* the node's live status (graph_model_status_text),
                                  * else its fixed text */
} GraphLineKind;

#define GRAPH_LAYOUT_MAX_LINES 3

typedef struct
{
  GraphLineKind kind;
  GraphTextStyle style;
  char *text;
} GraphLayoutLine;

typedef struct
{
  int model_index;               /* -1: a collapsed module's box */
  guint64 key;                   /* stable across layouts: the model key, or the module's */
  GraphRect rect;                /* top-left and size, graph units */
  int n_lines;
  GraphLayoutLine lines[GRAPH_LAYOUT_MAX_LINES];
  int cluster;                   /* innermost cluster holding it, -1 for none */
  /* A collapsed module: */
  char *module_path;
  int n_hidden;                  /* model nodes inside */
  gint64 n_params;
} GraphLayoutNode;

typedef struct
{
  int tail;                      /* layout node: the grad_fn (above) */
  int head;                      /* layout node: its next function (below) */
  int model_edge;                /* the first model edge it draws */
  int multiplicity;              /* model edges merged into it (collapsed modules) */
  gboolean is_none;
  int n_points;                  /* 1 + 3k: a cubic Bézier path, graph units */
  double *points;                /* x0, y0, x1, y1, ... */
  gboolean has_arrow;
  double arrow_x, arrow_y;       /* arrow tip at the head; the path ends at its base */
  /* An edge whose gradient is small enough to print (≤ NODE_SMALL_GRAD elements):
   * dot left room for its values and rule, centred here. */
  gboolean has_label;
  double label_x, label_y;
} GraphLayoutEdge;

typedef struct
{
  char *path;                    /* "layer1.0" */
  char *label;                   /* the path; "layer1.0.relu (call 2)" for a module called
                                  * more than once, one cluster per call */
  int call;                      /* 0, or which call of the module (in forward order) */
  int parent;                    /* enclosing cluster, -1 at top */
  int depth;                     /* 0 for a top-level module */
  GraphRect rect;
  int n_members;                 /* layout nodes inside it, nested ones included */
} GraphLayoutCluster;

typedef struct _GraphLayout GraphLayout;

struct _GraphLayout
{
  GraphModel *model;             /* strong */
  GraphLayoutNode *nodes;
  int n_nodes;
  GraphLayoutEdge *edges;
  int n_edges;
  GraphLayoutCluster *clusters;  /* parents before children, calls in forward order */
  int n_clusters;
  int *model_to_layout;          /* per model node: its box, the collapsed box hiding it,
                                  * or -1 (a hidden None slot) */
  double width, height;          /* the whole picture, graph units */
  double layout_ms;              /* time spent in Graphviz */
};

GraphLayout *graph_layout_new              (GraphModel               *model,
                                            const GraphLayoutOptions *options,
                                            GError                  **error);
void         graph_layout_free             (GraphLayout *layout);

/* The box at graph point (x, y), or -1. */
int          graph_layout_node_at          (const GraphLayout *layout, double x, double y);
/* The innermost cluster whose label strip is at (x, y), or -1. */
int          graph_layout_cluster_label_at (const GraphLayout *layout, double x, double y);
int          graph_layout_find_key         (const GraphLayout *layout, guint64 key);
int          graph_layout_find_cluster     (const GraphLayout *layout, const char *path);
/* The layout node showing model node i (itself or its collapsed module), or -1. */
int          graph_layout_node_for_model   (const GraphLayout *layout, int model_index);
/* A collapsed module's key. */
guint64      graph_layout_module_key       (const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraphLayout, graph_layout_free)

G_END_DECLS

/* graph-view.h: the autograd graph, live, in a widget
 *
 * Shows the engine's grad_fn graph as a lesson runs: laid out by dot (off the UI
 * thread), painted by graph_paint(), with module clusters that collapse on a
 * double-click. Zoom (Ctrl+scroll, pinch, + - 0), pan (drag, scroll), both
 * anchored on the point under the pointer; fit (F); a minimap; tooltips with
 * the node's name, shapes and saved tensors; a click selects a node
 * ("node-selected"); search by name or module centres the match; follow mode
 * keeps the node being run in view. When the graph grows, boxes move to their
 * new places over 200 ms and new ones fade in.
 *
 *   GtkWidget *view = graph_view_new ();
 *   g_signal_connect (view, "node-selected", G_CALLBACK (on_node_selected), inspector);
 *   // each time the stepper pauses, on the UI thread:
 *   graph_view_set_nodes (GRAPH_VIEW (view), stepper_get_nodes (stepper)); // new nodes
 *   graph_view_refresh_state (GRAPH_VIEW (view));                          // backward ran
 *
 *   static void on_node_selected (GraphView *view, Node *node, guint64 id, gpointer data);
 *
 * Actions (in the "graph" group, with their keys): graph.zoom-in (+), graph.zoom-out
 * (-), graph.zoom-reset (0: 100 %), graph.zoom-fit (F), graph.follow,
 * graph.show-legend (L), graph.show-minimap (M).
 */
#pragma once

#include <gtk/gtk.h>

#include "graph-export.h"

G_BEGIN_DECLS

#define GRAPH_TYPE_VIEW (graph_view_get_type ())

G_DECLARE_FINAL_TYPE (GraphView, graph_view, GRAPH, VIEW, GtkWidget)

GtkWidget         *graph_view_new                  (void);

/* Snapshots the graph: nodes are every Node * recorded so far, in recording order
 * (stepper_get_nodes()); NULL or empty clears it. Call on the UI thread while the
 * engine is paused. The newest node not shown before is marked as the one just
 * recorded. The new layout comes from a worker thread: "layout-changed" says
 * when it is on screen. The view holds references on the nodes it shows and lets
 * go of old ones only here and in graph_view_refresh_state(), with the engine
 * paused; destroy the view while the engine is paused or finished. */
void               graph_view_set_nodes            (GraphView *self, GPtrArray *nodes);
/* The nodes' states changed (backward ran a node, .grad set, saved tensors
 * freed), no new nodes: repaint. Same rule: engine paused. */
void               graph_view_refresh_state        (GraphView *self);

/* Selection: emits "node-selected" when it changes. NULL clears it. A node not in
 * the graph is refused (FALSE). */
gboolean           graph_view_set_selection        (GraphView *self, Node *node);
Node              *graph_view_get_selection        (GraphView *self);

/* The node drawn as running besides the engine's RUNNING node (the op the forward
 * pass just recorded); NULL for none. */
void               graph_view_set_current_node     (GraphView *self, Node *node);

void               graph_view_set_follow           (GraphView *self, gboolean follow);
gboolean           graph_view_get_follow           (GraphView *self);

/* Selects and centres the next node after the selection (wrapping) whose grad_fn
 * name, module path or parameter name contains text, case-insensitively.
 * FALSE if nothing matches. */
gboolean           graph_view_search               (GraphView *self, const char *text);

void               graph_view_set_module_collapsed (GraphView *self, const char *path,
                                                    gboolean collapsed);
gboolean           graph_view_get_module_collapsed (GraphView *self, const char *path);

void               graph_view_zoom_in              (GraphView *self);
void               graph_view_zoom_out             (GraphView *self);
void               graph_view_zoom_reset           (GraphView *self);
void               graph_view_zoom_fit             (GraphView *self);
/* Fitting leaves this many pixels free along the bottom, where the owner
 * lays its own controls over the view. */
void               graph_view_set_bottom_inset     (GraphView *self, double inset);

/* The whole graph as the exports draw it (light palette, legend). */
gboolean           graph_view_export               (GraphView *self, const char *path,
                                                    GraphExportFormat format, double scale,
                                                    GError **error);

/* What is on screen, for tests and tools: the layout (NULL before the first one),
 * the camera, and whether a layout is being computed. */
const GraphLayout *graph_view_get_layout           (GraphView *self);
const Viewport    *graph_view_get_viewport         (GraphView *self);
gboolean           graph_view_is_layout_pending    (GraphView *self);

G_END_DECLS

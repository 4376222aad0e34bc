/* graph-layout-private.h: the steps of graph_layout_new (graph-layout.c) that
 * live in files of their own
 *
 *   graph-layout.c            boxes (lines, sizes), edges, collapsed modules, queries
 *   graph-layout-clusters.c   one cluster per module path and call, nested
 *   graph-layout-dot.c        positions and splines from Graphviz's dot
 */
#pragma once

#include "graph-layout.h"

G_BEGIN_DECLS

/* Fills layout->clusters and each node's cluster from its nodes and edges. */
void     graph_layout_build_clusters (GraphLayout *layout);

/* Lays the boxes, clusters and edges out with dot: sets every rect, edge
 * spline and the picture's size. Serialised: Graphviz keeps global state. */
gboolean graph_layout_run_dot        (GraphLayout *layout,
                                      GError     **error);

G_END_DECLS

/* graph-paint-transition.c: where boxes and clusters are while the graph view
 * animates from one layout to the next. A transition remembers each box's and
 * cluster's old rectangle by key; at progress t a box is at lerp (old, new, t),
 * and a box that did not exist before fades in where it lands. */

#include "graph-paint-private.h"

struct _GraphTransition
{
  GHashTable *nodes;      /* guint64 key → GraphRect */
  GHashTable *clusters;   /* path → GraphRect */
};

static void
rect_lerp (GraphRect       *out,
           const GraphRect *a,
           const GraphRect *b,
           double           t)
{
  out->x = a->x + (b->x - a->x) * t;
  out->y = a->y + (b->y - a->y) * t;
  out->width = a->width + (b->width - a->width) * t;
  out->height = a->height + (b->height - a->height) * t;
}

/* A module called twice has a cluster per call. */
static char *
cluster_key (const GraphLayoutCluster *c)
{
  return g_strdup_printf ("%s#%d", c->path, c->call);
}

GraphTransition *
graph_transition_new (const GraphLayout     *from,
                      const GraphTransition *running,
                      double                 progress)
{
  GraphTransition *tr = g_new0 (GraphTransition, 1);

  tr->nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  tr->clusters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (from == NULL)
    return tr;

  for (int i = 0; i < from->n_nodes; i++)
    {
      const GraphLayoutNode *ln = &from->nodes[i];
      GraphRect *rect = g_new (GraphRect, 1);
      const GraphRect *old;

      *rect = ln->rect;
      /* Mid-animation, a box is between its old place and this one. */
      if (running != NULL && (old = g_hash_table_lookup (running->nodes, &ln->key)) != NULL)
        rect_lerp (rect, old, &ln->rect, progress);
      g_hash_table_insert (tr->nodes, g_memdup2 (&ln->key, sizeof ln->key), rect);
    }

  for (int i = 0; i < from->n_clusters; i++)
    {
      const GraphLayoutCluster *c = &from->clusters[i];
      GraphRect *rect = g_new (GraphRect, 1);
      const GraphRect *old;
      char *key = cluster_key (c);

      *rect = c->rect;
      if (running != NULL && (old = g_hash_table_lookup (running->clusters, key)) != NULL)
        rect_lerp (rect, old, &c->rect, progress);
      g_hash_table_insert (tr->clusters, key, rect);
    }

  return tr;
}

void
graph_transition_free (GraphTransition *transition)
{
  if (transition == NULL)
    return;

  g_hash_table_unref (transition->nodes);
  g_hash_table_unref (transition->clusters);
  g_free (transition);
}

double
graph_paint_node_rect (const GraphLayout     *layout,
                       const GraphPaintState *state,
                       int                    node,
                       GraphRect             *rect)
{
  const GraphLayoutNode *ln;
  const GraphRect *old;

  g_return_val_if_fail (layout != NULL && node >= 0 && node < layout->n_nodes, 0);
  ln = &layout->nodes[node];
  *rect = ln->rect;

  if (state == NULL || state->transition == NULL || state->progress >= 1.0)
    return 1.0;

  old = g_hash_table_lookup (state->transition->nodes, &ln->key);
  if (old == NULL)
    return CLAMP (state->progress, 0.0, 1.0);   /* a new box fades in where it lands */
  rect_lerp (rect, old, &ln->rect, state->progress);

  return 1.0;
}

double
graph_paint_cluster_rect (const GraphLayout     *layout,
                          const GraphPaintState *state,
                          int                    cluster,
                          GraphRect             *rect)
{
  const GraphLayoutCluster *c = &layout->clusters[cluster];
  g_autofree char *key = NULL;
  const GraphRect *old;

  *rect = c->rect;
  if (state->transition == NULL || state->progress >= 1.0)
    return 1.0;

  key = cluster_key (c);
  old = g_hash_table_lookup (state->transition->clusters, key);
  if (old == NULL)
    return CLAMP (state->progress, 0.0, 1.0);
  rect_lerp (rect, old, &c->rect, state->progress);

  return 1.0;
}

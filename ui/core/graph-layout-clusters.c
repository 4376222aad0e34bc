/* graph-layout-clusters.c: the module clusters of a layout, one per module path
 * ("layer1" ⊃ "layer1.0" ⊃ "layer1.0.conv1"), parents before children; a module
 * called twice gets a cluster per call, found as the connected parts of its
 * nodes (union-find over the edges inside it). */

#include "graph-layout-private.h"

#include <string.h>

/* A box's module; a collapsed module's box belongs to its ancestors only. */
static gboolean
node_in_module (const GraphLayout *layout,
                int                i,
                const char        *path)
{
  const GraphLayoutNode *ln = &layout->nodes[i];

  if (ln->model_index < 0)
    return graph_module_contains (path, ln->module_path) && strcmp (path, ln->module_path) != 0;

  return graph_module_contains (path, layout->model->nodes[ln->model_index].module);
}

static int
path_depth (const char *path)
{
  int depth = 0;

  for (const char *p = path; *p != '\0'; p++)
    depth += *p == '.';

  return depth;
}

static gint
compare_depth (gconstpointer a,
               gconstpointer b)
{
  return path_depth (*(const char *const *) a) - path_depth (*(const char *const *) b);
}

static int
union_find (int *parent,
            int  i)
{
  while (parent[i] != i)
    {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }

  return i;
}

typedef struct
{
  int root;
  guint64 first_seq;     /* the call's first recorded node: calls in forward order */
} Call;

static gint
compare_calls (gconstpointer a,
               gconstpointer b)
{
  const Call *x = a, *y = b;

  return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* One cluster per module path, nested by path; a module called twice (a
 * BasicBlock's relu) gets one cluster per call: the module's nodes split into
 * the parts its own edges connect. */
void
graph_layout_build_clusters (GraphLayout *layout)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) clusters = g_array_new (FALSE, TRUE, sizeof (GraphLayoutCluster));
  g_autoptr (GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  int n = layout->n_nodes;
  g_autofree int *uf = g_new (int, MAX (n, 1));
  g_autofree int *call_cluster = g_new (int, MAX (n, 1));

  for (int i = 0; i < n; i++)
    {
      const GraphLayoutNode *ln = &layout->nodes[i];
      const char *module = ln->model_index < 0 ? ln->module_path
                                                : layout->model->nodes[ln->model_index].module;
      g_autofree char *own = g_strdup (module);

      layout->nodes[i].cluster = -1;
      if (ln->model_index < 0)
        {
          char *dot = strrchr (own, '.');

          if (dot == NULL)
            continue;
          *dot = '\0';
        }
      /* Every prefix of the module path: "layer1", "layer1.0", "layer1.0.conv1". */
      for (char *p = own; own[0] != '\0'; p++)
        if (*p == '.' || *p == '\0')
          {
            char c = *p;

            *p = '\0';
            if (!g_hash_table_contains (seen, own))
              {
                char *path = g_strdup (own);

                g_ptr_array_add (paths, path);
                g_hash_table_add (seen, path);
              }
            *p = c;
            if (c == '\0')
              break;
          }
    }
  /* Parents before children (a stable sort keeps first-seen order within a depth). */
  g_ptr_array_sort (paths, compare_depth);

  for (guint k = 0; k < paths->len; k++)
    {
      const char *path = g_ptr_array_index (paths, k);
      int first_new = clusters->len;

      for (int i = 0; i < n; i++)
        uf[i] = i;
      for (int e = 0; e < layout->n_edges; e++)
        {
          int t = layout->edges[e].tail, h = layout->edges[e].head;

          if (node_in_module (layout, t, path) && node_in_module (layout, h, path))
            uf[union_find (uf, t)] = union_find (uf, h);
        }

      g_array_set_size (calls, 0);
      for (int i = 0; i < n; i++)
        {
          const GraphLayoutNode *ln = &layout->nodes[i];
          guint64 seq = ln->model_index >= 0 ? layout->model->nodes[ln->model_index].seq
                                             : G_MAXUINT64;
          int root;
          guint c;

          if (!node_in_module (layout, i, path))
            continue;
          root = union_find (uf, i);
          for (c = 0; c < calls->len; c++)
            if (g_array_index (calls, Call, c).root == root)
              break;
          if (c == calls->len)
            g_array_append_val (calls, ((Call) { root, seq }));
          else if (seq < g_array_index (calls, Call, c).first_seq)
            g_array_index (calls, Call, c).first_seq = seq;
        }
      g_array_sort (calls, compare_calls);

      for (guint c = 0; c < calls->len; c++)
        {
          GraphLayoutCluster cl = { 0 };

          cl.path = g_strdup (path);
          cl.label = calls->len > 1 ? g_strdup_printf ("%s (call %u)", path, c + 1)
                                    : g_strdup (path);
          cl.call = c;
          cl.depth = path_depth (path);
          cl.parent = -1;
          g_array_append_val (clusters, cl);
          call_cluster[g_array_index (calls, Call, c).root] = clusters->len - 1;
        }

      for (int i = 0; i < n; i++)
        {
          GraphLayoutCluster *cl;

          if (!node_in_module (layout, i, path))
            continue;
          cl = &g_array_index (clusters, GraphLayoutCluster, call_cluster[union_find (uf, i)]);
          /* Parents were done first: the node's innermost cluster so far is the parent's. */
          cl->parent = layout->nodes[i].cluster;
          layout->nodes[i].cluster = cl - (GraphLayoutCluster *) clusters->data;
          g_assert (layout->nodes[i].cluster >= first_new);
        }
    }

  layout->n_clusters = clusters->len;
  layout->clusters = (GraphLayoutCluster *) g_array_free (g_steal_pointer (&clusters), FALSE);

  for (int i = 0; i < n; i++)
    for (int c = layout->nodes[i].cluster; c >= 0; c = layout->clusters[c].parent)
      layout->clusters[c].n_members++;
}

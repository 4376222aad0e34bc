/* graph-layout.c: positions and splines for a GraphModel, by Graphviz's dot */

#include "graph-layout.h"

#include <gvc.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (graph-layout-error-quark, graph_layout_error)

/* Graphviz keeps global state (the context, cgraph's dictionaries): one
 * context for the process, one layout at a time. */
static GMutex gv_lock;
static GVC_t *gv_context;

#define GV_POINTS_PER_INCH 72.0

/* --- Labels ------------------------------------------------------------- */

static void
format_count (GString *s,
              gint64   n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GINT64_FORMAT, n);
  int len = (int) strlen (digits);

  for (int i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (s, ',');
      g_string_append_c (s, digits[i]);
    }
}

static void
add_line (GraphLayoutNode *ln,
          GraphLineKind    kind,
          GraphTextStyle   style,
          char            *text)  /* taken */
{
  g_assert (ln->n_lines < GRAPH_LAYOUT_MAX_LINES);
  ln->lines[ln->n_lines++] = (GraphLayoutLine) { kind, style, text };
}

/* The widest status line a node may show, so that states never change its size. */
static double
status_reserve (const GraphModelNode *mn)
{
  g_autofree char *text = NULL;

  switch (mn->kind)
    {
    case GRAPH_NODE_LEAF:
      return graph_text_width (GRAPH_TEXT_BODY, ".grad: sum of 99 passes · frozen");

    case GRAPH_NODE_FUNCTION:
      if (mn->n_incoming == 0)
        return 0;
      text = g_strdup_printf ("%d of %d gradients arrived", mn->n_incoming, mn->n_incoming);
      return graph_text_width (GRAPH_TEXT_BODY, text);

    case GRAPH_NODE_NONE:
    default:
      return 0;
    }
}

static void
node_set_lines (GraphLayoutNode      *ln,
                const GraphModel     *model,
                const GraphModelNode *mn)
{
  switch (mn->kind)
    {
    case GRAPH_NODE_FUNCTION:
      add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_TITLE, g_strdup (mn->name));
      if (mn->module[0] != '\0')
        add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY, g_strdup (mn->module));
      add_line (ln, GRAPH_LINE_STATUS, GRAPH_TEXT_BODY, g_strdup (mn->shape));
      break;

    case GRAPH_NODE_LEAF:
      add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_TITLE,
                g_strdup (mn->leaf_name != NULL ? mn->leaf_name : "leaf tensor"));
      add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY,
                g_strdup_printf ("%s · %s", mn->name, mn->shape));
      add_line (ln, GRAPH_LINE_STATUS, GRAPH_TEXT_BODY, g_strdup (".grad: None"));
      break;

    case GRAPH_NODE_NONE:
    default:
      if (mn->frozen)
        {
          add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_TITLE, g_strdup (mn->leaf_name));
          add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY,
                    g_strdup_printf ("None · frozen · %s", mn->shape));
        }
      else
        {
          add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY, g_strdup ("None"));
          if (mn->shape != NULL)
            add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY, g_strdup (mn->shape));
        }
      break;
    }
}

static void
collapsed_set_lines (GraphLayoutNode  *ln,
                     const GraphModel *model)
{
  GString *s = g_string_new (NULL);

  add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_TITLE, g_strdup (ln->module_path));
  g_string_append_printf (s, "%d node%s · ", ln->n_hidden, ln->n_hidden == 1 ? "" : "s");
  format_count (s, ln->n_params);
  g_string_append (s, ln->n_params == 1 ? " parameter" : " parameters");
  add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY, g_string_free (s, FALSE));
}

static void
node_measure (GraphLayoutNode *ln,
              double           reserve)
{
  double w = reserve, h = 2 * GRAPH_NODE_PAD_Y;

  for (int i = 0; i < ln->n_lines; i++)
    {
      w = MAX (w, graph_text_width (ln->lines[i].style, ln->lines[i].text));
      h += graph_text_height (ln->lines[i].style) + (i > 0 ? GRAPH_LINE_GAP : 0);
    }
  ln->rect.width = ceil (MAX (w + 2 * GRAPH_NODE_PAD_X, GRAPH_NODE_MIN_WIDTH));
  ln->rect.height = ceil (h);
}

/* --- Building ----------------------------------------------------------- */

guint64
graph_layout_module_key (const char *path)
{
  return G_GUINT64_CONSTANT (1) << 63 | g_str_hash (path);
}

/* The outermost collapsed module holding `module`, or NULL. */
static const char *
collapsed_container (const char *const *collapsed,
                     const char         *module)
{
  const char *best = NULL;

  for (int i = 0; collapsed != NULL && collapsed[i] != NULL; i++)
    if (collapsed[i][0] != '\0' && graph_module_contains (collapsed[i], module)
        && (best == NULL || strlen (collapsed[i]) < strlen (best)))
      best = collapsed[i];

  return best;
}

typedef struct
{
  GraphLayout *layout;
  GArray *nodes;           /* GraphLayoutNode */
  GArray *clusters;        /* GraphLayoutCluster */
  GHashTable *cluster_of;  /* path → index + 1 */
  GHashTable *box_of;      /* collapsed path → layout node index + 1 */
} Builder;

/* The cluster for path, creating it and its ancestors, parents first. */
static int
ensure_cluster (Builder    *b,
                const char *path)
{
  gpointer found = g_hash_table_lookup (b->cluster_of, path);
  const char *dot;
  GraphLayoutCluster c = { 0 };
  int parent = -1;

  if (found != NULL)
    return GPOINTER_TO_INT (found) - 1;

  dot = strrchr (path, '.');
  if (dot != NULL)
    {
      g_autofree char *parent_path = g_strndup (path, dot - path);
      parent = ensure_cluster (b, parent_path);
    }

  c.path = g_strdup (path);
  c.parent = parent;
  c.depth = parent < 0 ? 0 : g_array_index (b->clusters, GraphLayoutCluster, parent).depth + 1;
  g_array_append_val (b->clusters, c);
  g_hash_table_insert (b->cluster_of, c.path, GINT_TO_POINTER (b->clusters->len));

  return b->clusters->len - 1;
}

static int
cluster_for_module (Builder    *b,
                    gboolean    clusters,
                    const char *module)
{
  if (!clusters || module == NULL || module[0] == '\0')
    return -1;

  return ensure_cluster (b, module);
}

/* The path of the module containing `path`: "layer1.0" for "layer1.0.conv1". */
static char *
parent_path (const char *path)
{
  const char *dot = strrchr (path, '.');

  return dot != NULL ? g_strndup (path, dot - path) : g_strdup ("");
}

static void
build_nodes (Builder                  *b,
             const GraphLayoutOptions *options)
{
  GraphLayout *layout = b->layout;
  const GraphModel *model = layout->model;

  layout->model_to_layout = g_new (int, MAX (model->n_nodes, 1));

  for (int i = 0; i < model->n_nodes; i++)
    {
      const GraphModelNode *mn = &model->nodes[i];
      const char *container = collapsed_container (options->collapsed, mn->module);
      GraphLayoutNode ln = { 0 };

      layout->model_to_layout[i] = -1;
      if (mn->kind == GRAPH_NODE_NONE && !options->show_none)
        continue;

      if (container != NULL)
        {
          gpointer found = g_hash_table_lookup (b->box_of, container);
          g_autofree char *outer = NULL;

          if (found != NULL)
            {
              int box = GPOINTER_TO_INT (found) - 1;

              g_array_index (b->nodes, GraphLayoutNode, box).n_hidden++;
              layout->model_to_layout[i] = box;
              continue;
            }
          ln.model_index = -1;
          ln.module_path = g_strdup (container);
          ln.key = graph_layout_module_key (container);
          ln.n_hidden = 1;
          ln.n_params = graph_model_count_params (model, container);
          outer = parent_path (container);
          ln.cluster = cluster_for_module (b, options->clusters, outer);
          g_array_append_val (b->nodes, ln);
          g_hash_table_insert (b->box_of, ln.module_path, GINT_TO_POINTER (b->nodes->len));
          layout->model_to_layout[i] = b->nodes->len - 1;
          continue;
        }

      ln.model_index = i;
      ln.key = mn->key;
      ln.cluster = cluster_for_module (b, options->clusters, mn->module);
      node_set_lines (&ln, model, mn);
      node_measure (&ln, status_reserve (mn));
      g_array_append_val (b->nodes, ln);
      layout->model_to_layout[i] = b->nodes->len - 1;
    }

  /* Collapsed boxes know their counts only now. */
  for (guint i = 0; i < b->nodes->len; i++)
    {
      GraphLayoutNode *ln = &g_array_index (b->nodes, GraphLayoutNode, i);

      if (ln->model_index < 0)
        {
          collapsed_set_lines (ln, model);
          node_measure (ln, 0);
        }
    }
}

static void
build_edges (GraphLayout *layout,
             GArray      *edges)
{
  const GraphModel *model = layout->model;
  g_autoptr (GHashTable) merged = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree gint64 *merge_keys = g_new (gint64, MAX (model->n_edges, 1));

  for (int i = 0; i < model->n_edges; i++)
    {
      const GraphModelEdge *me = &model->edges[i];
      int tail = layout->model_to_layout[me->source];
      int head = layout->model_to_layout[me->target];
      gboolean collapsed;
      GraphLayoutEdge le = { 0 };

      if (tail < 0 || head < 0 || tail == head)
        continue;

      /* Edges to or from a collapsed module are merged, one per pair of boxes. */
      collapsed = layout->nodes[tail].model_index < 0 || layout->nodes[head].model_index < 0;
      if (collapsed)
        {
          gpointer found;

          merge_keys[i] = (gint64) tail << 32 | head;
          found = g_hash_table_lookup (merged, &merge_keys[i]);
          if (found != NULL)
            {
              GraphLayoutEdge *e = &g_array_index (edges, GraphLayoutEdge,
                                                   GPOINTER_TO_INT (found) - 1);
              e->multiplicity++;
              e->is_none = e->is_none && me->is_none;
              continue;
            }
        }

      le.tail = tail;
      le.head = head;
      le.model_edge = i;
      le.multiplicity = 1;
      le.is_none = me->is_none;
      g_array_append_val (edges, le);
      if (collapsed)
        g_hash_table_insert (merged, &merge_keys[i], GINT_TO_POINTER (edges->len));
    }
}

/* --- Graphviz ----------------------------------------------------------- */

static void
set_inches (Agnode_t *n,
            Agsym_t  *sym,
            double    points)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.4f", points / GV_POINTS_PER_INCH);
  agxset (n, sym, buf);
}

static char *
name_printf (char       *buf,
             gsize       size,
             const char *prefix,
             int         i)
{
  g_snprintf (buf, size, "%s%d", prefix, i);
  return buf;
}

static gboolean
run_dot (GraphLayout *layout,
         GError     **error)
{
  g_autofree Agnode_t **gv_nodes = g_new0 (Agnode_t *, MAX (layout->n_nodes, 1));
  g_autofree Agedge_t **gv_edges = g_new0 (Agedge_t *, MAX (layout->n_edges, 1));
  g_autofree Agraph_t **gv_clusters = g_new0 (Agraph_t *, MAX (layout->n_clusters, 1));
  Agsym_t *width_sym, *height_sym, *label_sym, *weight_sym, *style_sym;
  char name[32];
  Agraph_t *g;
  boxf bb;
  int status;

  g = agopen ((char *) "G", Agdirected, NULL);
  agattr (g, AGRAPH, (char *) "rankdir", (char *) "TB");
  agattr (g, AGRAPH, (char *) "nodesep", (char *) "0.2");
  agattr (g, AGRAPH, (char *) "ranksep", (char *) "0.3");
  agattr (g, AGRAPH, (char *) "fontname", (char *) "Helvetica-Bold");
  agattr (g, AGRAPH, (char *) "fontsize", (char *) "11");
  agattr (g, AGRAPH, (char *) "labeljust", (char *) "l");
  agattr (g, AGRAPH, (char *) "labelloc", (char *) "t");
  agattr (g, AGRAPH, (char *) "margin", (char *) "8");
  label_sym = agattr (g, AGRAPH, (char *) "label", (char *) "");
  agattr (g, AGNODE, (char *) "shape", (char *) "box");
  agattr (g, AGNODE, (char *) "fixedsize", (char *) "true");
  agattr (g, AGNODE, (char *) "label", (char *) "");
  width_sym = agattr (g, AGNODE, (char *) "width", (char *) "1");
  height_sym = agattr (g, AGNODE, (char *) "height", (char *) "0.5");
  weight_sym = agattr (g, AGEDGE, (char *) "weight", (char *) "2");
  style_sym = agattr (g, AGEDGE, (char *) "style", (char *) "solid");
  agattr (g, AGEDGE, (char *) "arrowsize", (char *) "0.7");

  for (int i = 0; i < layout->n_clusters; i++)
    {
      const GraphLayoutCluster *c = &layout->clusters[i];
      Agraph_t *parent = c->parent < 0 ? g : gv_clusters[c->parent];

      g_assert (c->parent < i);
      gv_clusters[i] = agsubg (parent, name_printf (name, sizeof name, "cluster_", i), TRUE);
      /* dot reserves room for the label; the painter draws it, in its own font. */
      agxset (gv_clusters[i], label_sym, c->path);
    }

  for (int i = 0; i < layout->n_nodes; i++)
    {
      const GraphLayoutNode *ln = &layout->nodes[i];
      Agraph_t *container = ln->cluster < 0 ? g : gv_clusters[ln->cluster];

      gv_nodes[i] = agnode (container, name_printf (name, sizeof name, "n", i), TRUE);
      set_inches (gv_nodes[i], width_sym, ln->rect.width);
      set_inches (gv_nodes[i], height_sym, ln->rect.height);
    }

  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];

      gv_edges[i] = agedge (g, gv_nodes[le->tail], gv_nodes[le->head], NULL, TRUE);
      if (le->is_none)
        {
          /* A None slot hangs below its grad_fn, without pulling the layout. */
          agxset (gv_edges[i], weight_sym, (char *) "1");
          agxset (gv_edges[i], style_sym, (char *) "dashed");
        }
    }

  status = gvLayout (gv_context, g, "dot");
  if (status != 0)
    {
      agclose (g);
      g_set_error (error, GRAPH_LAYOUT_ERROR, GRAPH_LAYOUT_ERROR_FAILED,
                   "Graphviz’s dot could not lay out the graph of %d nodes", layout->n_nodes);
      return FALSE;
    }

  /* Graphviz's y grows upwards from the bounding box's lower-left corner. */
  bb = GD_bb (g);
  layout->width = bb.UR.x - bb.LL.x;
  layout->height = bb.UR.y - bb.LL.y;
#define TX(px) ((px) - bb.LL.x)
#define TY(py) (bb.UR.y - (py))

  for (int i = 0; i < layout->n_nodes; i++)
    {
      GraphLayoutNode *ln = &layout->nodes[i];
      pointf c = ND_coord (gv_nodes[i]);

      ln->rect.x = TX (c.x) - ln->rect.width / 2;
      ln->rect.y = TY (c.y) - ln->rect.height / 2;
    }

  for (int i = 0; i < layout->n_clusters; i++)
    {
      GraphLayoutCluster *c = &layout->clusters[i];
      boxf cb = GD_bb (gv_clusters[i]);

      c->rect = (GraphRect) { TX (cb.LL.x), TY (cb.UR.y), cb.UR.x - cb.LL.x, cb.UR.y - cb.LL.y };
    }

  for (int i = 0; i < layout->n_edges; i++)
    {
      GraphLayoutEdge *le = &layout->edges[i];
      splines *spl = ED_spl (gv_edges[i]);
      bezier *bz;

      if (spl == NULL || spl->size == 0 || spl->list[0].size < 4)
        continue;
      bz = &spl->list[0];
      le->n_points = bz->size;
      le->points = g_new (double, 2 * bz->size);
      for (int k = 0; k < bz->size; k++)
        {
          le->points[2 * k] = TX (bz->list[k].x);
          le->points[2 * k + 1] = TY (bz->list[k].y);
        }
      le->has_arrow = bz->eflag != 0;
      if (le->has_arrow)
        {
          le->arrow_x = TX (bz->ep.x);
          le->arrow_y = TY (bz->ep.y);
        }
    }
#undef TX
#undef TY

  gvFreeLayout (gv_context, g);
  agclose (g);

  return TRUE;
}

GraphLayout *
graph_layout_new (GraphModel               *model,
                  const GraphLayoutOptions *options,
                  GError                  **error)
{
  static const GraphLayoutOptions defaults = GRAPH_LAYOUT_OPTIONS_INIT;
  g_autoptr (GraphLayout) layout = NULL;
  Builder b = { 0 };
  GArray *edges;
  gint64 start;
  gboolean ok;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &defaults;

  layout = g_new0 (GraphLayout, 1);
  layout->model = graph_model_ref (model);

  b.layout = layout;
  b.nodes = g_array_new (FALSE, TRUE, sizeof (GraphLayoutNode));
  b.clusters = g_array_new (FALSE, TRUE, sizeof (GraphLayoutCluster));
  b.cluster_of = g_hash_table_new (g_str_hash, g_str_equal);
  b.box_of = g_hash_table_new (g_str_hash, g_str_equal);

  build_nodes (&b, options);
  layout->n_nodes = b.nodes->len;
  layout->nodes = (GraphLayoutNode *) g_array_free (b.nodes, FALSE);
  layout->n_clusters = b.clusters->len;
  layout->clusters = (GraphLayoutCluster *) g_array_free (b.clusters, FALSE);
  g_hash_table_unref (b.cluster_of);
  g_hash_table_unref (b.box_of);

  edges = g_array_new (FALSE, TRUE, sizeof (GraphLayoutEdge));
  build_edges (layout, edges);
  layout->n_edges = edges->len;
  layout->edges = (GraphLayoutEdge *) g_array_free (edges, FALSE);

  for (int i = 0; i < layout->n_nodes; i++)
    for (int c = layout->nodes[i].cluster; c >= 0; c = layout->clusters[c].parent)
      layout->clusters[c].n_members++;

  if (layout->n_nodes == 0)
    return g_steal_pointer (&layout);

  start = g_get_monotonic_time ();
  g_mutex_lock (&gv_lock);
  if (gv_context == NULL)
    gv_context = gvContext ();
  ok = run_dot (layout, error);
  g_mutex_unlock (&gv_lock);
  layout->layout_ms = (g_get_monotonic_time () - start) / 1000.0;

  if (!ok)
    return NULL;

  return g_steal_pointer (&layout);
}

void
graph_layout_free (GraphLayout *layout)
{
  if (layout == NULL)
    return;

  for (int i = 0; i < layout->n_nodes; i++)
    {
      GraphLayoutNode *ln = &layout->nodes[i];

      for (int k = 0; k < ln->n_lines; k++)
        g_free (ln->lines[k].text);
      g_free (ln->module_path);
    }
  for (int i = 0; i < layout->n_edges; i++)
    g_free (layout->edges[i].points);
  for (int i = 0; i < layout->n_clusters; i++)
    g_free (layout->clusters[i].path);
  g_free (layout->nodes);
  g_free (layout->edges);
  g_free (layout->clusters);
  g_free (layout->model_to_layout);
  g_clear_pointer (&layout->model, graph_model_unref);
  g_free (layout);
}

int
graph_layout_node_at (const GraphLayout *layout,
                      double             x,
                      double             y)
{
  g_return_val_if_fail (layout != NULL, -1);

  for (int i = layout->n_nodes - 1; i >= 0; i--)
    if (graph_rect_contains (&layout->nodes[i].rect, x, y))
      return i;

  return -1;
}

int
graph_layout_cluster_label_at (const GraphLayout *layout,
                               double             x,
                               double             y)
{
  double strip = graph_text_height (GRAPH_TEXT_CLUSTER) + GRAPH_CLUSTER_PAD;

  g_return_val_if_fail (layout != NULL, -1);

  /* Children come after parents: the last hit is the innermost. */
  for (int i = layout->n_clusters - 1; i >= 0; i--)
    {
      const GraphRect *r = &layout->clusters[i].rect;
      GraphRect label = { r->x, r->y, r->width, strip };

      if (graph_rect_contains (&label, x, y))
        return i;
    }

  return -1;
}

int
graph_layout_find_key (const GraphLayout *layout,
                       guint64            key)
{
  g_return_val_if_fail (layout != NULL, -1);

  for (int i = 0; i < layout->n_nodes; i++)
    if (layout->nodes[i].key == key)
      return i;

  return -1;
}

int
graph_layout_find_cluster (const GraphLayout *layout,
                           const char        *path)
{
  g_return_val_if_fail (layout != NULL, -1);

  for (int i = 0; i < layout->n_clusters; i++)
    if (g_strcmp0 (layout->clusters[i].path, path) == 0)
      return i;

  return -1;
}

int
graph_layout_node_for_model (const GraphLayout *layout,
                             int                model_index)
{
  g_return_val_if_fail (layout != NULL, -1);

  if (model_index < 0 || model_index >= layout->model->n_nodes)
    return -1;

  return layout->model_to_layout[model_index];
}

/* graph-layout.c: positions and splines for a GraphModel: each box's lines and
 * size, the edges between boxes (merged into a collapsed module's box), and the
 * queries on the result; clusters and Graphviz's dot in graph-layout-private.h */

#include "graph-layout-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (graph-layout-error-quark, graph_layout_error)

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
      /* The widest a leaf's status gets (in this language). */
      text = graph_leaf_status_text (99, TRUE, TRUE);
      return graph_text_width (GRAPH_TEXT_BODY, text);

    case GRAPH_NODE_FUNCTION:
      if (mn->n_incoming == 0)
        return 0;
      text = graph_waiting_status_text (mn->n_incoming, mn->n_incoming);
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
                g_strdup (mn->leaf_name != NULL ? mn->leaf_name : _("leaf tensor")));
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
                    g_strdup_printf (_("None · frozen · %s"), mn->shape));
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

/* A folded module: its name, its size, and its grad state (live, drawn by the
 * painter from graph_model_module_state). Returns the width its status line
 * may need: the backward's progress or a part of its parameters with .grad. */
static double
collapsed_set_lines (GraphLayoutNode  *ln,
                     const GraphModel *model)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GString) count = g_string_new (NULL);
  GraphModuleState state, widest;
  double reserve = 0;

  /* ⊞: the box opens to its nodes (a click in the graph view). */
  add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_TITLE, g_strdup_printf ("⊞ %s", ln->module_path));
  format_count (count, ln->n_params);
  g_string_append_printf (s, ngettext ("%d node", "%d nodes", ln->n_hidden), ln->n_hidden);
  g_string_append (s, " · ");
  g_string_append_printf (s, ngettext ("%s parameter", "%s parameters", ln->n_params), count->str);
  add_line (ln, GRAPH_LINE_TEXT, GRAPH_TEXT_BODY, g_string_free (s, FALSE));

  graph_model_module_state (model, ln->module_path, &state);
  for (int k = 0; k < 3; k++)
    {
      g_autofree char *text = NULL;

      widest = state;
      if (k == 0)
        widest.active = widest.done = widest.functions;
      else if (k == 1 && widest.params - widest.frozen > 1)
        widest.with_grad = widest.params - widest.frozen - 1;
      text = graph_module_status_text (k == 2 ? &state : &widest);
      if (text != NULL)
        reserve = MAX (reserve, graph_text_width (GRAPH_TEXT_BODY, text));
      if (k == 2 && text != NULL)
        add_line (ln, GRAPH_LINE_STATUS, GRAPH_TEXT_BODY, g_steal_pointer (&text));
    }
  return reserve;
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
  GHashTable *box_of;      /* collapsed path → layout node index + 1 */
} Builder;

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
          g_array_append_val (b->nodes, ln);
          g_hash_table_insert (b->box_of, ln.module_path, GINT_TO_POINTER (b->nodes->len));
          layout->model_to_layout[i] = b->nodes->len - 1;
          continue;
        }

      ln.model_index = i;
      ln.key = mn->key;
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
          double reserve = collapsed_set_lines (ln, model);

          node_measure (ln, reserve);
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
  b.box_of = g_hash_table_new (g_str_hash, g_str_equal);
  build_nodes (&b, options);
  layout->n_nodes = b.nodes->len;
  layout->nodes = (GraphLayoutNode *) g_array_free (b.nodes, FALSE);
  g_hash_table_unref (b.box_of);

  edges = g_array_new (FALSE, TRUE, sizeof (GraphLayoutEdge));
  build_edges (layout, edges);
  layout->n_edges = edges->len;
  layout->edges = (GraphLayoutEdge *) g_array_free (edges, FALSE);

  if (options->clusters)
    graph_layout_build_clusters (layout);
  else
    for (int i = 0; i < layout->n_nodes; i++)
      layout->nodes[i].cluster = -1;

  if (layout->n_nodes == 0)
    return g_steal_pointer (&layout);

  start = g_get_monotonic_time ();
  ok = graph_layout_run_dot (layout, error);
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
    {
      g_free (layout->clusters[i].path);
      g_free (layout->clusters[i].label);
    }
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

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

/* --- Clusters ----------------------------------------------------------- */

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
static void
build_clusters (GraphLayout *layout)
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

/* Graphviz's default ID discipline makes a name's ID its string's address, and
 * dot walks subgraphs in ID order: cluster order, and so the picture, would
 * change from run to run with the heap. Named objects get IDs in creation order
 * instead (even, as Graphviz expects of named ones; anonymous edges odd). */
typedef struct
{
  GHashTable *ids;      /* name → ID */
  GPtrArray *names;     /* ID / 2 - 1 → name */
  IDTYPE next_anonymous;
} IdState;

static void *
id_open (Agraph_t *g,
         Agdisc_t *disc)
{
  IdState *state = g_new0 (IdState, 1);

  state->ids = g_hash_table_new (g_str_hash, g_str_equal);
  state->names = g_ptr_array_new_with_free_func (g_free);
  state->next_anonymous = 1;

  return state;
}

static long
id_map (void   *data,
        int     objtype,
        char   *str,
        IDTYPE *id,
        int     createflag)
{
  IdState *state = data;
  gpointer found;

  if (str == NULL)
    {
      *id = state->next_anonymous;
      state->next_anonymous += 2;
      return TRUE;
    }
  found = g_hash_table_lookup (state->ids, str);
  if (found != NULL)
    {
      *id = GPOINTER_TO_SIZE (found);
      return TRUE;
    }
  if (!createflag)
    return FALSE;

  g_ptr_array_add (state->names, g_strdup (str));
  *id = 2 * (IDTYPE) state->names->len;
  g_hash_table_insert (state->ids, g_ptr_array_index (state->names, state->names->len - 1),
                       GSIZE_TO_POINTER ((gsize) *id));
  return TRUE;
}

static long
id_alloc (void  *data,
          int    objtype,
          IDTYPE request)
{
  return FALSE;
}

static void
id_free (void  *data,
         int    objtype,
         IDTYPE id)
{
}

static char *
id_print (void  *data,
          int    objtype,
          IDTYPE id)
{
  IdState *state = data;

  if (id % 2 != 0 || id == 0 || id / 2 > state->names->len)
    return NULL;

  return g_ptr_array_index (state->names, id / 2 - 1);
}

static void
id_close (void *data)
{
  IdState *state = data;

  g_hash_table_unref (state->ids);
  g_ptr_array_unref (state->names);
  g_free (state);
}

static void
id_register (void *data,
             int   objtype,
             void *obj)
{
}

static Agiddisc_t id_discipline = {
  id_open, id_map, id_alloc, id_free, id_print, id_close, id_register,
};

/* TRUE if cluster c is ancestor or c itself, or ancestor is -1 (the top). */
static gboolean
cluster_within (const GraphLayout *layout,
                int                c,
                int                ancestor)
{
  if (ancestor < 0)
    return TRUE;
  for (; c >= 0; c = layout->clusters[c].parent)
    if (c == ancestor)
      return TRUE;

  return FALSE;
}

static gboolean
run_dot (GraphLayout *layout,
         GError     **error)
{
  g_autofree Agnode_t **gv_nodes = g_new0 (Agnode_t *, MAX (layout->n_nodes, 1));
  g_autofree Agedge_t **gv_edges = g_new0 (Agedge_t *, MAX (layout->n_edges, 1));
  g_autofree Agraph_t **gv_clusters = g_new0 (Agraph_t *, MAX (layout->n_clusters, 1));
  g_autofree int *out_degree = g_new0 (int, MAX (layout->n_nodes, 1));
  g_autofree gboolean *hangs = g_new0 (gboolean, MAX (layout->n_nodes, 1));
  Agsym_t *width_sym, *height_sym, *label_sym, *weight_sym, *style_sym, *minlen_sym;
  char name[32], label[256];
  Agraph_t *g;
  boxf bb;
  int status;

  Agdisc_t disc = { &AgMemDisc, &id_discipline, &AgIoDisc };

  g = agopen ((char *) "G", Agdirected, &disc);
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
  minlen_sym = agattr (g, AGEDGE, (char *) "minlen", (char *) "1");
  agattr (g, AGEDGE, (char *) "arrowsize", (char *) "0.7");

  for (int i = 0; i < layout->n_clusters; i++)
    {
      const GraphLayoutCluster *c = &layout->clusters[i];
      Agraph_t *parent = c->parent < 0 ? g : gv_clusters[c->parent];

      g_assert (c->parent < i);
      gv_clusters[i] = agsubg (parent, name_printf (name, sizeof name, "cluster_", i), TRUE);
      /* dot reserves room for the label (its estimate of the width is close to
       * cairo's); the painter draws it in its own font, GRAPH_CLUSTER_PAD in from
       * the left: pad dot's copy so that the label fits with room on both sides. */
      g_snprintf (label, sizeof label, "%s MMM", c->label);
      agxset (gv_clusters[i], label_sym, label);
    }

  for (int i = 0; i < layout->n_nodes; i++)
    {
      const GraphLayoutNode *ln = &layout->nodes[i];
      Agraph_t *container = ln->cluster < 0 ? g : gv_clusters[ln->cluster];

      gv_nodes[i] = agnode (container, name_printf (name, sizeof name, "n", i), TRUE);
      set_inches (gv_nodes[i], width_sym, ln->rect.width);
      set_inches (gv_nodes[i], height_sym, ln->rect.height);
    }

  /* A grad_fn whose parameters hang below it inside its module's cluster (a conv
   * and its weight): its edges out of the cluster skip a rank, so that the next
   * module's cluster starts below those parameters, not beside them. */
  for (int i = 0; i < layout->n_edges; i++)
    out_degree[layout->edges[i].tail]++;
  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];

      if (out_degree[le->head] == 0 && layout->nodes[le->head].cluster >= 0
          && layout->nodes[le->head].cluster == layout->nodes[le->tail].cluster)
        hangs[le->tail] = TRUE;
    }

  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];

      gv_edges[i] = agedge (g, gv_nodes[le->tail], gv_nodes[le->head], NULL, TRUE);
      if (hangs[le->tail] && !cluster_within (layout, layout->nodes[le->head].cluster,
                                               layout->nodes[le->tail].cluster))
        agxset (gv_edges[i], minlen_sym, (char *) "2");
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
    build_clusters (layout);
  else
    for (int i = 0; i < layout->n_nodes; i++)
      layout->nodes[i].cluster = -1;

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

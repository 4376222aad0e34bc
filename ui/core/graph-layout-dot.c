/* graph-layout-dot.c: Graphviz's dot lays out the boxes (fixed sizes, measured
 * by graph-layout.c), their module clusters and the edges: positions, cubic
 * Bézier splines and arrow tips, turned to graph units with y down. */

#include "graph-layout-private.h"
#include "backward-rule.h"

#include <glib/gi18n.h>
#include <gvc.h>

/* Graphviz keeps global state (the context, cgraph's dictionaries): one
 * context for the process, one layout at a time. */
static GMutex gv_lock;
static GVC_t *gv_context;

#define GV_POINTS_PER_INCH 72.0

static void
set_inches (Agnode_t *n,
            Agsym_t  *sym,
            double    points)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.4f", points / GV_POINTS_PER_INCH);
  agxset (n, sym, buf);
}

/* The room an edge's numbers will need after backward, before they exist: its
 * rule over a placeholder as wide as numel values ("[-00.00, -00.00]"); NULL
 * for an edge whose gradient is too large to print. */
static char *
value_label (const GraphLayout     *layout,
             const GraphLayoutEdge *le)
{
  const GraphModelEdge *me = &layout->model->edges[le->model_edge];
  const Node *node = layout->model->nodes[me->source].node;
  g_autofree char *rule = NULL;
  GString *s;
  gint64 numel = 1;

  if (le->is_none || le->multiplicity != 1 || node == NULL)
    return NULL;
  for (int d = 0; d < node->input_ndim[me->slot]; d++)
    numel *= node->input_shape[me->slot][d];
  if (numel > NODE_SMALL_GRAD)
    return NULL;
  rule = backward_rule_text (node, me->slot);
  s = g_string_new (rule != NULL ? rule : "grad");
  g_string_append (s, "\n[");
  for (gint64 k = 0; k < numel; k++)
    g_string_append (s, k == 0 ? "-00.00" : ", -00.00");
  g_string_append (s, "]");
  return g_string_free (s, FALSE);
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
  Agsym_t *edge_label_sym;
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
  edge_label_sym = agattr (g, AGEDGE, (char *) "label", (char *) "");
  agattr (g, AGEDGE, (char *) "fontname", (char *) "Helvetica");
  agattr (g, AGEDGE, (char *) "fontsize", (char *) "11");

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
      {
        g_autofree char *values = value_label (layout, le);

        if (values != NULL)
          agxset (gv_edges[i], edge_label_sym, values);
      }
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
                   _("Graphviz’s dot could not lay out the graph of %d nodes"), layout->n_nodes);
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
      if (ED_label (gv_edges[i]) != NULL && ED_label (gv_edges[i])->set)
        {
          le->has_label = TRUE;
          le->label_x = TX (ED_label (gv_edges[i])->pos.x);
          le->label_y = TY (ED_label (gv_edges[i])->pos.y);
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

gboolean
graph_layout_run_dot (GraphLayout *layout,
                      GError     **error)
{
  gboolean ok;

  g_mutex_lock (&gv_lock);
  if (gv_context == NULL)
    gv_context = gvContext ();
  ok = run_dot (layout, error);
  g_mutex_unlock (&gv_lock);

  return ok;
}

/* test-graph-layout.c: the graph model's snapshot and dot's layout of it
 *
 * On the tutorial's Q graph and on resnet18's step: every node has a place, the
 * root is above every leaf, module clusters hold exactly their module's nodes
 * (one cluster per call of a module), a collapsed module hides its nodes behind
 * one box with its parameter count, and the same graph lays out the same way.
 */

#include <math.h>

#include "graph-layout.h"
#include "test-graph-common.h"

static int
find_model_node (const GraphModel *model,
                 const char       *name,
                 int               nth)
{
  for (int i = 0; i < model->n_nodes; i++)
    if (g_str_equal (model->nodes[i].name, name) && nth-- == 0)
      return i;

  return -1;
}

static int
count_kind (const GraphModel *model,
            GraphNodeKind     kind)
{
  int n = 0;

  for (int i = 0; i < model->n_nodes; i++)
    n += model->nodes[i].kind == kind;

  return n;
}

static int
count_name (const GraphModel *model,
            const char       *name)
{
  int n = 0;

  for (int i = 0; i < model->n_nodes; i++)
    n += model->nodes[i].kind != GRAPH_NODE_NONE && g_str_equal (model->nodes[i].name, name);

  return n;
}

static gboolean
rect_inside (const GraphRect *inner,
             const GraphRect *outer)
{
  const double eps = 0.01;

  return inner->x >= outer->x - eps && inner->y >= outer->y - eps
         && inner->x + inner->width <= outer->x + outer->width + eps
         && inner->y + inner->height <= outer->y + outer->height + eps;
}

/* Checks that hold for every layout. */
static void
check_layout_geometry (const GraphLayout *layout)
{
  const GraphModel *model = layout->model;
  GraphRect page = { 0, 0, layout->width, layout->height };

  g_assert_cmpfloat (layout->width, >, 0);
  g_assert_cmpfloat (layout->height, >, 0);

  /* Every node has a place on the page, sized for its text. */
  for (int i = 0; i < layout->n_nodes; i++)
    {
      const GraphLayoutNode *ln = &layout->nodes[i];

      g_assert_true (isfinite (ln->rect.x) && isfinite (ln->rect.y));
      g_assert_cmpfloat (ln->rect.width, >=, GRAPH_NODE_MIN_WIDTH);
      g_assert_cmpfloat (ln->rect.height, >, 0);
      g_assert_true (rect_inside (&ln->rect, &page));
      g_assert_cmpint (ln->n_lines, >=, 1);
      for (int k = 0; k < ln->n_lines; k++)
        g_assert_cmpfloat (graph_text_width (ln->lines[k].style, ln->lines[k].text)
                             + 2 * GRAPH_NODE_PAD_X, <=, ln->rect.width + 0.01);
      g_assert_true (graph_layout_node_at (layout, ln->rect.x + ln->rect.width / 2,
                                           ln->rect.y + ln->rect.height / 2) == i);
    }

  /* No two boxes overlap. */
  for (int i = 0; i < layout->n_nodes; i++)
    for (int j = i + 1; j < layout->n_nodes; j++)
      g_assert_false (graph_rect_intersects (&layout->nodes[i].rect, &layout->nodes[j].rect));

  /* Every edge is a Bézier path from its tail's box towards its head's, the
   * next function drawn below its grad_fn. */
  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];
      const GraphRect *t = &layout->nodes[le->tail].rect, *h = &layout->nodes[le->head].rect;

      g_assert_cmpint (le->n_points, >=, 4);
      g_assert_cmpint ((le->n_points - 1) % 3, ==, 0);
      g_assert_true (le->has_arrow);
      g_assert_cmpfloat (h->y, >, t->y + t->height / 2);
      /* The arrow's tip touches the head's box. */
      g_assert_cmpfloat (le->arrow_x, >=, h->x - 2);
      g_assert_cmpfloat (le->arrow_x, <=, h->x + h->width + 2);
      g_assert_cmpfloat (le->arrow_y, >=, h->y - 2);
      g_assert_cmpfloat (le->arrow_y, <=, h->y + h->height + 2);
      g_assert_true (le->arrow_x <= h->x + 2 || le->arrow_x >= h->x + h->width - 2
                     || le->arrow_y <= h->y + 2 || le->arrow_y >= h->y + h->height - 2);
    }

  /* Clusters: parents first, each inside its parent, each around its members,
   * its label fitting in it. */
  for (int c = 0; c < layout->n_clusters; c++)
    {
      const GraphLayoutCluster *cl = &layout->clusters[c];

      g_assert_cmpint (cl->parent, <, c);
      if (cl->parent >= 0)
        {
          g_assert_true (rect_inside (&cl->rect, &layout->clusters[cl->parent].rect));
          g_assert_cmpint (cl->depth, ==, layout->clusters[cl->parent].depth + 1);
        }
      g_assert_cmpint (cl->n_members, >, 0);
      g_assert_cmpfloat (graph_text_width (GRAPH_TEXT_CLUSTER, cl->label)
                           + 2 * GRAPH_CLUSTER_PAD, <=, cl->rect.width);
    }
  for (int i = 0; i < layout->n_nodes; i++)
    for (int c = layout->nodes[i].cluster; c >= 0; c = layout->clusters[c].parent)
      g_assert_true (rect_inside (&layout->nodes[i].rect, &layout->clusters[c].rect));

  /* Every model node is shown by a box, or hidden on purpose. */
  for (int i = 0; i < model->n_nodes; i++)
    {
      int box = graph_layout_node_for_model (layout, i);

      g_assert_cmpint (box, <, layout->n_nodes);
      if (box >= 0 && layout->nodes[box].model_index >= 0)
        g_assert_cmpint (layout->nodes[box].model_index, ==, i);
    }
}

/* The root (no grad_fn points at it) is above every leaf. */
static void
check_root_above_leaves (const GraphLayout *layout,
                         int                root_model)
{
  const GraphRect *root = &layout->nodes[graph_layout_node_for_model (layout, root_model)].rect;
  int n_leaves = 0;

  g_assert_true (layout->model->nodes[root_model].is_root);
  for (int i = 0; i < layout->n_nodes; i++)
    {
      int m = layout->nodes[i].model_index;

      if (m >= 0 && layout->model->nodes[m].kind == GRAPH_NODE_LEAF)
        {
          g_assert_cmpfloat (root->y + root->height, <, layout->nodes[i].rect.y);
          n_leaves++;
        }
    }
  g_assert_cmpint (n_leaves, >, 0);
}

/* The clusters with a path hold exactly the boxes whose module is that path or
 * below it: no more, no fewer. */
static void
check_clusters_exact (const GraphLayout *layout)
{
  for (int c = 0; c < layout->n_clusters; c++)
    {
      const char *path = layout->clusters[c].path;

      for (int i = 0; i < layout->n_nodes; i++)
        {
          const GraphLayoutNode *ln = &layout->nodes[i];
          gboolean in_module, in_cluster = FALSE;

          if (ln->model_index >= 0)
            in_module = graph_module_contains (path, layout->model->nodes[ln->model_index].module);
          else
            in_module = graph_module_contains (path, ln->module_path)
                        && !g_str_equal (path, ln->module_path);

          for (int k = ln->cluster; k >= 0; k = layout->clusters[k].parent)
            in_cluster = in_cluster || g_str_equal (layout->clusters[k].path, path);

          if (in_module != in_cluster)
            g_error ("cluster %s: box %d (%s, module %s) is %s", layout->clusters[c].label, i,
                     ln->lines[0].text,
                     ln->model_index >= 0 ? layout->model->nodes[ln->model_index].module
                                          : ln->module_path,
                     in_cluster ? "inside but not of the module" : "of the module but outside");
        }
    }
}

static void
test_q_model (void)
{
  gint nodes_before = node_live_count ();
  {
    g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
    g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
    int sub, mul, none, acc_a;
    g_autofree char *describe = NULL;
    g_autofree char *status = NULL;

    /* SubBackward0 → (MulBackward0 → (PowBackward0 → AccumulateGrad (a), None),
     *                 PowBackward0 → AccumulateGrad (b)). */
    g_assert_cmpint (model->n_nodes, ==, 7);
    g_assert_cmpint (model->n_edges, ==, 6);
    g_assert_cmpint (count_kind (model, GRAPH_NODE_FUNCTION), ==, 4);
    g_assert_cmpint (count_kind (model, GRAPH_NODE_LEAF), ==, 2);
    g_assert_cmpint (count_kind (model, GRAPH_NODE_NONE), ==, 1);
    g_assert_cmpint (count_name (model, "PowBackward0"), ==, 2);

    sub = find_model_node (model, "SubBackward0", 0);
    mul = find_model_node (model, "MulBackward0", 0);
    none = find_model_node (model, "None", 0);
    g_assert_cmpint (sub, >=, 0);
    g_assert_true (model->nodes[sub].is_root);
    g_assert_true (model->nodes[sub].node == tg->Q->grad_fn);
    g_assert_cmpint (graph_model_find_node (model, tg->Q->grad_fn), ==, sub);
    g_assert_cmpstr (model->nodes[sub].shape, ==, "(2)");
    g_assert_cmpint (model->nodes[sub].n_edges, ==, 2);
    g_assert_cmpint (model->edges[model->nodes[sub].first_edge].target, ==, mul);

    /* MulBackward0's second slot is the Python scalar 3: a None with no shape. */
    g_assert_cmpint (model->nodes[mul].n_edges, ==, 2);
    g_assert_true (model->edges[model->nodes[mul].first_edge + 1].is_none);
    g_assert_cmpint (model->edges[model->nodes[mul].first_edge + 1].target, ==, none);
    g_assert_cmpint (model->nodes[none].owner, ==, mul);
    g_assert_cmpint (model->nodes[none].slot, ==, 1);
    g_assert_null (model->nodes[none].shape);
    g_assert_false (model->nodes[none].frozen);
    g_assert_false (model->nodes[none].is_root);
    g_assert_cmpint (graph_model_find_key (model, graph_model_key (model->nodes[mul].id, 1)),
                     ==, none);

    /* The leaves: names, shapes, .grad None, requires grad. */
    acc_a = graph_model_find_node (model, tg->a->grad_accumulator);
    g_assert_cmpint (acc_a, >=, 0);
    g_assert_cmpint (model->nodes[acc_a].kind, ==, GRAPH_NODE_LEAF);
    g_assert_cmpstr (model->nodes[acc_a].name, ==, "AccumulateGrad");
    g_assert_cmpstr (model->nodes[acc_a].leaf_name, ==, "a");
    g_assert_cmpstr (model->nodes[acc_a].shape, ==, "(2)");
    g_assert_false (model->nodes[acc_a].grad_defined);
    g_assert_false (model->nodes[acc_a].frozen);
    status = graph_model_status_text (model, acc_a);
    g_assert_cmpstr (status, ==, ".grad: None");

    /* The tooltip's words. */
    describe = graph_model_describe (model, mul, FALSE);
    g_assert_nonnull (strstr (describe, "MulBackward0"));
    g_assert_nonnull (strstr (describe, "0: PowBackward0"));
    g_assert_nonnull (strstr (describe, "1: None"));
    g_assert_nonnull (strstr (describe, "saved:"));

    /* Search by name, module or leaf name, wrapping around. */
    g_assert_cmpint (graph_model_search (model, "mulback", -1), ==, mul);
    g_assert_cmpint (graph_model_search (model, "powbackward0", -1), ==,
                     find_model_node (model, "PowBackward0", 0));
    g_assert_cmpint (graph_model_search (model, "powbackward0",
                                         find_model_node (model, "PowBackward0", 0)), ==,
                     find_model_node (model, "PowBackward0", 1));
    g_assert_cmpint (graph_model_search (model, "powbackward0",
                                         find_model_node (model, "PowBackward0", 1)), ==,
                     find_model_node (model, "PowBackward0", 0));
    g_assert_cmpint (graph_model_search (model, "no such node", -1), ==, -1);
    g_assert_cmpint (graph_model_search (model, "", -1), ==, -1);

    /* The snapshot holds the nodes: they outlive the tensors that made them. */
    g_clear_pointer (&tg, test_graph_free);
    g_assert_cmpint (node_live_count (), ==, nodes_before + 6);
    g_assert_cmpstr (node_name (model->nodes[sub].node), ==, "SubBackward0");
  }
  g_assert_cmpint (node_live_count (), ==, nodes_before);
}

static void
test_q_refresh_state (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) ones = tensor_new_ones (1, (int64_t[]){ 2 });
  int acc_a = graph_model_find_node (model, tg->a->grad_accumulator);
  int mul = find_model_node (model, "MulBackward0", 0);
  int mul_edge = model->nodes[mul].first_edge;
  g_autofree char *status = NULL;

  g_assert_true (model->nodes[mul].has_saved);
  g_assert_false (graph_model_refresh_state (model));

  autograd_set_observer (test_graph_observe, NULL);
  g_assert_true (tensor_backward (tg->Q, ones, FALSE, &error));
  autograd_set_observer (NULL, NULL);
  g_assert_no_error (error);

  /* Nothing moves until refreshed: the snapshot is what the picture shows. */
  g_assert_false (model->nodes[acc_a].grad_defined);
  g_assert_true (graph_model_refresh_state (model));
  g_assert_false (graph_model_refresh_state (model));

  g_assert_cmpint (model->nodes[mul].state, ==, NODE_DONE);
  g_assert_false (model->nodes[mul].has_saved);
  g_assert_true (model->nodes[mul].saved_freed);
  g_assert_true (model->nodes[acc_a].grad_defined);
  g_assert_cmpint (model->nodes[acc_a].grad_passes, ==, 1);
  status = graph_model_status_text (model, acc_a);
  g_assert_cmpstr (status, ==, ".grad: set");
  /* MulBackward0 sent d(3·a³)/d(a³) · [1, 1] = [3, 3] to PowBackward0: ‖·‖ = 3√2. */
  g_assert_cmpfloat_with_epsilon (model->edges[mul_edge].grad_norm, 3 * G_SQRT2, 1e-5);
  g_assert_cmpfloat (model->edges[mul_edge + 1].grad_norm, ==, 0);
}

static void
test_q_layout (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  g_autoptr (GraphLayout) layout = NULL;
  g_autoptr (GError) error = NULL;
  GraphLayoutOptions options = GRAPH_LAYOUT_OPTIONS_INIT;
  int sub = find_model_node (model, "SubBackward0", 0);
  int none = find_model_node (model, "None", 0);

  layout = graph_layout_new (model, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (layout);
  g_test_message ("Q: %d boxes, %.0fx%.0f, %.1f ms", layout->n_nodes, layout->width,
                  layout->height, layout->layout_ms);

  g_assert_cmpint (layout->n_nodes, ==, 7);
  g_assert_cmpint (layout->n_edges, ==, 6);
  g_assert_cmpint (layout->n_clusters, ==, 0);   /* no modules */
  check_layout_geometry (layout);
  check_root_above_leaves (layout, sub);

  /* The None slot is a box with a dashed edge; its label says None. */
  g_assert_cmpint (graph_layout_node_for_model (layout, none), >=, 0);
  g_assert_cmpstr (layout->nodes[graph_layout_node_for_model (layout, none)].lines[0].text, ==,
                   "None");
  for (int i = 0; i < layout->n_edges; i++)
    g_assert_true (layout->edges[i].is_none
                   == (layout->edges[i].head == graph_layout_node_for_model (layout, none)));
  g_assert_cmpstr (layout->nodes[graph_layout_node_for_model (layout, sub)].lines[0].text, ==,
                   "SubBackward0");

  /* Without None slots: one box and one edge fewer. */
  {
    g_autoptr (GraphLayout) without = NULL;

    options.show_none = FALSE;
    without = graph_layout_new (model, &options, &error);
    g_assert_no_error (error);
    g_assert_cmpint (without->n_nodes, ==, 6);
    g_assert_cmpint (without->n_edges, ==, 5);
    g_assert_cmpint (graph_layout_node_for_model (without, none), ==, -1);
    check_layout_geometry (without);
  }
}

static void
test_empty (void)
{
  g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr (GraphModel) model = graph_model_new (nodes);
  g_autoptr (GraphLayout) layout = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (model->n_nodes, ==, 0);
  layout = graph_layout_new (model, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (layout->n_nodes, ==, 0);
  g_assert_cmpint (graph_layout_node_at (layout, 0, 0), ==, -1);
  g_assert_cmpint (graph_model_search (model, "x", -1), ==, -1);
}

/* A list missing nodes (a partial snapshot) is completed through next_functions. */
static void
test_completes_list (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  g_autoptr (GPtrArray) root_only = g_ptr_array_new ();
  g_autoptr (GraphModel) model = NULL;

  g_ptr_array_add (root_only, tg->Q->grad_fn);
  model = graph_model_new (root_only);
  g_assert_cmpint (model->n_nodes, ==, 7);

  /* Listed in recording order whatever the list's order: SubBackward0 came last. */
  g_assert_true (model->nodes[model->n_nodes - 1].node == tg->Q->grad_fn);
  for (int i = 1; i < model->n_nodes; i++)
    g_assert_cmpuint (model->nodes[i - 1].id, <=, model->nodes[i].id);
  {
    g_autoptr (GPtrArray) bfs = autograd_collect_nodes (tg->Q->grad_fn);
    g_autoptr (GraphModel) again = graph_model_new (bfs);

    for (int i = 0; i < model->n_nodes; i++)
      g_assert_cmpuint (again->nodes[i].key, ==, model->nodes[i].key);
  }
}

static void
test_resnet18_layout (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_resnet18 (NULL, FALSE);
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  g_autoptr (GraphLayout) layout = NULL;
  g_autoptr (GraphLayout) again = NULL;
  g_autoptr (GError) error = NULL;
  int root = find_model_node (model, "SumBackward0", 0);
  int relu_calls = 0;

  /* PyTorch's graph: 134 nodes (62 AccumulateGrad), 141 edges; and 22 None slots:
   * 20 conv biases, conv1's input, the labels. */
  g_assert_cmpint (model->n_nodes - count_kind (model, GRAPH_NODE_NONE), ==, 134);
  g_assert_cmpint (count_kind (model, GRAPH_NODE_LEAF), ==, 62);
  g_assert_cmpint (count_kind (model, GRAPH_NODE_NONE), ==, 22);
  g_assert_cmpint (model->n_edges, ==, 141 + 22);
  g_assert_cmpint (count_name (model, "ConvolutionBackward0"), ==, 20);
  g_assert_cmpint (count_name (model, "NativeBatchNormBackward0"), ==, 20);
  g_assert_cmpint (count_name (model, "ReluBackward0"), ==, 17);
  g_assert_cmpint (count_name (model, "AddBackward0"), ==, 8);

  layout = graph_layout_new (model, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("resnet18: %d boxes, %d edges, %d clusters, %.0fx%.0f, %.1f ms",
                  layout->n_nodes, layout->n_edges, layout->n_clusters, layout->width,
                  layout->height, layout->layout_ms);
  g_assert_cmpint (layout->n_nodes, ==, 156);
  g_assert_cmpint (layout->n_edges, ==, 163);
  check_layout_geometry (layout);
  check_root_above_leaves (layout, root);
  check_clusters_exact (layout);

  /* Readable in a 1920-wide slice at 100 %: the picture is no wider than that. */
  g_assert_cmpfloat (layout->width, <=, 1920 - 2 * 24);

  /* Nested clusters by path; a BasicBlock's relu, called twice, has one cluster per call. */
  g_assert_cmpint (graph_layout_find_cluster (layout, "layer1"), >=, 0);
  g_assert_cmpint (graph_layout_find_cluster (layout, "layer1.0"), >=, 0);
  g_assert_cmpint (layout->clusters[graph_layout_find_cluster (layout, "layer1.0.conv1")].parent,
                   ==, graph_layout_find_cluster (layout, "layer1.0"));
  g_assert_cmpint (layout->clusters[graph_layout_find_cluster (layout, "layer1.0")].parent, ==,
                   graph_layout_find_cluster (layout, "layer1"));
  for (int c = 0; c < layout->n_clusters; c++)
    if (g_str_equal (layout->clusters[c].path, "layer2.1.relu"))
      {
        relu_calls++;
        g_assert_cmpint (layout->clusters[c].n_members, ==, 1);
        g_assert_cmpint (layout->clusters[c].call, ==, relu_calls - 1);
        g_assert_nonnull (strstr (layout->clusters[c].label,
                                  relu_calls == 1 ? "(call 1)" : "(call 2)"));
      }
  g_assert_cmpint (relu_calls, ==, 2);
  /* The conv's weight sits in the conv's cluster. */
  {
    int conv = graph_layout_find_cluster (layout, "layer3.0.conv1");
    int members = 0;

    for (int i = 0; i < layout->n_nodes; i++)
      if (layout->nodes[i].cluster == conv)
        {
          const GraphModelNode *mn = &model->nodes[layout->nodes[i].model_index];

          members++;
          if (mn->kind == GRAPH_NODE_LEAF)
            g_assert_cmpstr (mn->leaf_name, ==, "layer3.0.conv1.weight");
        }
    g_assert_cmpint (members, ==, 3);   /* ConvolutionBackward0, the weight, the None bias */
  }

  /* The same graph lays out the same way, to the point. */
  again = graph_layout_new (model, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->n_nodes, ==, layout->n_nodes);
  for (int i = 0; i < layout->n_nodes; i++)
    {
      g_assert_cmpfloat (again->nodes[i].rect.x, ==, layout->nodes[i].rect.x);
      g_assert_cmpfloat (again->nodes[i].rect.y, ==, layout->nodes[i].rect.y);
    }
}

static void
test_resnet18_collapsed (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_resnet18 (NULL, FALSE);
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  g_autoptr (GraphLayout) layout = NULL;
  g_autoptr (GError) error = NULL;
  const char *const collapsed[] = { "layer1", "layer2.0", "layer1.1", NULL };
  GraphLayoutOptions options = GRAPH_LAYOUT_OPTIONS_INIT;
  int box1 = -1, box2 = -1, hidden1 = 0, hidden2 = 0, crossing1 = 0, merged1 = 0;
  ParamCounts counts;

  options.collapsed = collapsed;
  layout = graph_layout_new (model, &options, &error);
  g_assert_no_error (error);
  check_layout_geometry (layout);
  check_clusters_exact (layout);
  check_root_above_leaves (layout, find_model_node (model, "SumBackward0", 0));

  for (int i = 0; i < layout->n_nodes; i++)
    {
      const GraphLayoutNode *ln = &layout->nodes[i];

      if (ln->model_index >= 0)
        {
          /* No box of a collapsed module's own nodes is left. */
          const char *module = model->nodes[ln->model_index].module;

          g_assert_false (graph_module_contains ("layer1", module));
          g_assert_false (graph_module_contains ("layer2.0", module));
        }
      else if (g_str_equal (ln->module_path, "layer1"))
        box1 = i;
      else if (g_str_equal (ln->module_path, "layer2.0"))
        box2 = i;
      else
        g_assert_not_reached ();   /* layer1.1 is inside layer1: no box of its own */
    }
  g_assert_cmpint (box1, >=, 0);
  g_assert_cmpint (box2, >=, 0);
  g_assert_cmpint (layout->nodes[box1].key, ==, graph_layout_module_key ("layer1"));
  g_assert_cmpint (graph_layout_find_key (layout, graph_layout_module_key ("layer1")), ==, box1);

  for (int i = 0; i < model->n_nodes; i++)
    {
      if (graph_module_contains ("layer1", model->nodes[i].module))
        {
          hidden1++;
          g_assert_cmpint (graph_layout_node_for_model (layout, i), ==, box1);
        }
      if (graph_module_contains ("layer2.0", model->nodes[i].module))
        {
          hidden2++;
          g_assert_cmpint (graph_layout_node_for_model (layout, i), ==, box2);
        }
    }
  g_assert_cmpint (layout->nodes[box1].n_hidden, ==, hidden1);
  g_assert_cmpint (layout->nodes[box2].n_hidden, ==, hidden2);
  /* layer1: 2 blocks × (2 convs, 2 BNs, 2 relus, 1 add) + 12 parameters + 4 None biases. */
  g_assert_cmpint (hidden1, ==, 2 * 7 + 12 + 4);

  /* Its parameter count is the module's (all trainable: all in the graph). */
  module_count_parameters (module_find (tg->model, "layer1"), &counts);
  g_assert_cmpint (layout->nodes[box1].n_params, ==, counts.total);
  g_assert_cmpint (counts.total, ==, 147968);
  g_assert_cmpstr (layout->nodes[box1].lines[1].text, ==, "30 nodes · 147,968 parameters");
  module_count_parameters (module_find (tg->model, "layer2.0"), &counts);
  g_assert_cmpint (layout->nodes[box2].n_params, ==, counts.total);

  /* The box sits in its parent's cluster (layer2.0 in layer2; layer1 at the top). */
  g_assert_cmpint (layout->nodes[box1].cluster, ==, -1);
  g_assert_cmpstr (layout->clusters[layout->nodes[box2].cluster].path, ==, "layer2");
  g_assert_cmpint (graph_layout_find_cluster (layout, "layer1"), ==, -1);
  g_assert_cmpint (graph_layout_find_cluster (layout, "layer2.0.conv1"), ==, -1);

  /* Edges into or out of layer1 merge, one per pair of boxes, counting what they merge. */
  for (int i = 0; i < model->n_edges; i++)
    {
      gboolean s = graph_module_contains ("layer1", model->nodes[model->edges[i].source].module);
      gboolean t = graph_module_contains ("layer1", model->nodes[model->edges[i].target].module);

      crossing1 += s != t;
    }
  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];

      g_assert_cmpint (le->tail, !=, le->head);
      if (le->tail == box1 || le->head == box1)
        merged1 += le->multiplicity;
      for (int j = 0; j < i; j++)
        if (le->multiplicity > 1 || layout->edges[j].multiplicity > 1)
          g_assert_false (layout->edges[j].tail == le->tail && layout->edges[j].head == le->head);
    }
  g_assert_cmpint (crossing1, >, 0);
  g_assert_cmpint (merged1, ==, crossing1);
}

static void
test_resnet18_frozen (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_resnet18 ("layer1", FALSE);
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  g_autoptr (GraphLayout) layout = NULL;
  g_autoptr (GError) error = NULL;
  int frozen = 0;

  /* layer1's parameters ask no gradient: no AccumulateGrad, and each conv and batch
   * norm has None slots named after the frozen parameter. */
  g_assert_cmpint (count_kind (model, GRAPH_NODE_LEAF), ==, 62 - 12);
  for (int i = 0; i < model->n_nodes; i++)
    {
      const GraphModelNode *mn = &model->nodes[i];

      if (mn->kind == GRAPH_NODE_NONE && mn->frozen)
        {
          frozen++;
          g_assert_true (graph_module_contains ("layer1", mn->module));
          g_assert_true (g_str_has_prefix (mn->leaf_name, mn->module));
          g_assert_true (g_str_has_suffix (mn->leaf_name, ".weight")
                         || g_str_has_suffix (mn->leaf_name, ".bias"));
          g_assert_cmpint (mn->numel, >, 0);
        }
    }
  g_assert_cmpint (frozen, ==, 12);
  g_assert_cmpint (graph_model_count_params (model, "layer1"), ==, 147968);
  g_assert_cmpint (find_model_node (model, "None", 0), >=, 0);

  layout = graph_layout_new (model, NULL, &error);
  g_assert_no_error (error);
  check_layout_geometry (layout);
  check_clusters_exact (layout);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/graph-layout/q-model", test_q_model);
  g_test_add_func ("/ui/graph-layout/q-refresh-state", test_q_refresh_state);
  g_test_add_func ("/ui/graph-layout/q", test_q_layout);
  g_test_add_func ("/ui/graph-layout/empty", test_empty);
  g_test_add_func ("/ui/graph-layout/completes-list", test_completes_list);
  g_test_add_func ("/ui/graph-layout/resnet18", test_resnet18_layout);
  g_test_add_func ("/ui/graph-layout/resnet18-collapsed", test_resnet18_collapsed);
  g_test_add_func ("/ui/graph-layout/resnet18-frozen", test_resnet18_frozen);

  return g_test_run ();
}

/* test-graph-paint.c: the painter on image surfaces
 *
 * The pixels under a selected, hovered, running, ready, waiting or done node
 * differ from a plain node's, and nowhere else; gradient magnitudes change the
 * edges; a transition starts where the old layout was. The exports have
 * test-graph-export.c.
 */

#include <cairo.h>
#include <math.h>

#include "graph-paint.h"
#include "test-graph-common.h"

#define MARGIN 24.0

typedef struct
{
  TestGraph *tg;
  GraphModel *model;
  GraphLayout *layout;
  GraphTheme theme;
  Viewport viewport;
} Fixture;

static void
fixture_set_up (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  gboolean backward = GPOINTER_TO_INT (data);

  fx->tg = test_graph_new_q (backward);
  fx->model = graph_model_new (fx->tg->nodes);
  fx->layout = graph_layout_new (fx->model, NULL, &error);
  g_assert_no_error (error);
  graph_theme_init_light (&fx->theme);
  viewport_init (&fx->viewport, ceil (fx->layout->width + 2 * MARGIN),
                 ceil (fx->layout->height + 2 * MARGIN));
  viewport_anchor (&fx->viewport, 0, 0, MARGIN, MARGIN);
}

static void
fixture_tear_down (Fixture       *fx,
                   gconstpointer  data)
{
  g_clear_pointer (&fx->layout, graph_layout_free);
  g_clear_pointer (&fx->model, graph_model_unref);
  g_clear_pointer (&fx->tg, test_graph_free);
}

static cairo_surface_t *
render (const Fixture         *fx,
        const GraphPaintState *state)
{
  cairo_surface_t *surface;
  cairo_t *cr;

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) fx->viewport.width,
                                        (int) fx->viewport.height);
  cr = cairo_create (surface);
  graph_paint (cr, fx->layout, state, &fx->viewport);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  return surface;
}

static cairo_surface_t *
render_plain (const Fixture *fx)
{
  GraphPaintState state;

  graph_paint_state_init (&state, &fx->theme);
  return render (fx, &state);
}

/* Pixels that differ between a and b, inside screen rect `in` (or outside it). */
static int
count_differences (cairo_surface_t *a,
                   cairo_surface_t *b,
                   const GraphRect *in,
                   gboolean         inside)
{
  int w = cairo_image_surface_get_width (a), h = cairo_image_surface_get_height (a);
  int n = 0;

  g_assert_cmpint (w, ==, cairo_image_surface_get_width (b));
  g_assert_cmpint (h, ==, cairo_image_surface_get_height (b));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (graph_rect_contains (in, x + 0.5, y + 0.5) == inside && test_pixel (a, x, y) != test_pixel (b, x, y))
        n++;

  return n;
}

/* A box's screen rectangle, grown by d pixels. */
static GraphRect
screen_rect (const Fixture *fx,
             int            node,
             double         d)
{
  const GraphRect *r = &fx->layout->nodes[node].rect;
  double x, y;

  viewport_graph_to_screen (&fx->viewport, r->x, r->y, &x, &y);
  return (GraphRect) { x - d, y - d, r->width * fx->viewport.zoom + 2 * d,
                       r->height * fx->viewport.zoom + 2 * d };
}

static int
layout_node_named (const GraphLayout *layout,
                   const char        *name,
                   int                nth)
{
  for (int i = 0; i < layout->n_nodes; i++)
    if (g_str_equal (layout->nodes[i].lines[0].text, name) && nth-- == 0)
      return i;

  g_assert_not_reached ();
}

/* Only the pixels around `node` changed, and many of them did. */
static void
assert_only_node_changed (const Fixture   *fx,
                          cairo_surface_t *plain,
                          cairo_surface_t *marked,
                          int              node,
                          double           reach,
                          double           min_fraction)
{
  GraphRect around = screen_rect (fx, node, reach);
  GraphRect box = screen_rect (fx, node, 0);
  int inside = count_differences (plain, marked, &around, TRUE);
  int outside = count_differences (plain, marked, &around, FALSE);

  g_test_message ("%d pixels changed around node %d, %d elsewhere", inside, node, outside);
  g_assert_cmpint (inside, >, (int) (min_fraction * box.width * box.height));
  g_assert_cmpint (outside, ==, 0);
}

static void
test_selected (Fixture       *fx,
               gconstpointer  data)
{
  int mul = layout_node_named (fx->layout, "MulBackward0", 0);
  cairo_surface_t *plain = render_plain (fx);
  cairo_surface_t *selected, *hovered;
  GraphPaintState state;

  graph_paint_state_init (&state, &fx->theme);
  state.selected = mul;
  selected = render (fx, &state);
  assert_only_node_changed (fx, plain, selected, mul, 6, 0.1);

  state.selected = -1;
  state.hovered = mul;
  hovered = render (fx, &state);
  assert_only_node_changed (fx, plain, hovered, mul, 6, 0.1);
  g_assert_cmpint (count_differences (selected, hovered, &(GraphRect) { 0, 0, 1e6, 1e6 }, TRUE),
                   >, 0);

  /* Without the highlight layer (the widget's cached picture), no ring. */
  state.layers &= ~GRAPH_PAINT_HIGHLIGHTS;
  state.selected = mul;
  cairo_surface_destroy (hovered);
  hovered = render (fx, &state);
  g_assert_cmpint (count_differences (plain, hovered, &(GraphRect) { 0, 0, 1e6, 1e6 }, TRUE),
                   ==, 0);

  cairo_surface_destroy (plain);
  cairo_surface_destroy (selected);
  cairo_surface_destroy (hovered);
}

/* Running, ready, waiting and done each look different from idle, and from each
 * other; the status line tells how many gradients arrived. */
static void
test_states (Fixture       *fx,
             gconstpointer  data)
{
  int pow_b = layout_node_named (fx->layout, "PowBackward0", 0);
  GraphModelNode *mn = &fx->model->nodes[fx->layout->nodes[pow_b].model_index];
  const NodeState states[] = { NODE_RUNNING, NODE_READY, NODE_WAITING, NODE_DONE };
  cairo_surface_t *plain = render_plain (fx);
  cairo_surface_t *looks[G_N_ELEMENTS (states)];
  g_autofree char *status = NULL;
  GraphPaintState state;

  graph_paint_state_init (&state, &fx->theme);
  for (guint k = 0; k < G_N_ELEMENTS (states); k++)
    {
      mn->state = states[k];
      mn->deps_total = 3;
      mn->deps_arrived = 2;
      looks[k] = render (fx, &state);
      /* The running node's glow reaches a few pixels out. */
      assert_only_node_changed (fx, plain, looks[k], pow_b, 8, 0.1);
      for (guint j = 0; j < k; j++)
        g_assert_cmpint (count_differences (looks[j], looks[k], &(GraphRect) { 0, 0, 1e6, 1e6 },
                                            TRUE), >, 0);
    }
  mn->state = NODE_WAITING;
  status = graph_model_status_text (fx->model, fx->layout->nodes[pow_b].model_index);
  g_assert_cmpstr (status, ==, "2 of 3 gradients arrived");
  mn->state = NODE_IDLE;
  mn->deps_total = mn->deps_arrived = 0;

  /* The forward's newest op, marked current, looks like the running node. */
  state.current = pow_b;
  {
    cairo_surface_t *current = render (fx, &state);

    g_assert_cmpint (count_differences (current, looks[0], &(GraphRect) { 0, 0, 1e6, 1e6 }, TRUE),
                     ==, 0);
    cairo_surface_destroy (current);
  }

  /* Freed saved tensors change the badge. */
  state.current = -1;
  for (int i = 0; i < fx->model->n_nodes; i++)
    if (fx->model->nodes[i].has_saved && fx->model->nodes[i].kind == GRAPH_NODE_FUNCTION)
      {
        int box = graph_layout_node_for_model (fx->layout, i);
        cairo_surface_t *freed;

        fx->model->nodes[i].has_saved = FALSE;
        fx->model->nodes[i].saved_freed = TRUE;
        freed = render (fx, &state);
        /* A small badge on the corner: a few dozen pixels. */
        assert_only_node_changed (fx, plain, freed, box, 8, 0.01);
        fx->model->nodes[i].has_saved = TRUE;
        fx->model->nodes[i].saved_freed = FALSE;
        cairo_surface_destroy (freed);
        break;
      }

  for (guint k = 0; k < G_N_ELEMENTS (states); k++)
    cairo_surface_destroy (looks[k]);
  cairo_surface_destroy (plain);
}

/* After backward: .grad set on the leaves, gradient magnitudes on the edges. */
static void
test_after_backward (Fixture       *fx,
                     gconstpointer  data)
{
  cairo_surface_t *after = render_plain (fx);
  cairo_surface_t *plain;
  double lo, hi;
  int leaf = layout_node_named (fx->layout, "a", 0);

  g_assert_true (graph_layout_grad_range (fx->layout, &lo, &hi));
  /* Q's edges carry gradients of different sizes: a range to map on a log scale. */
  g_assert_cmpfloat (lo, >, 0);
  g_assert_cmpfloat (hi, >, lo);

  /* Forget the backward: idle states, no gradients, no .grad. */
  for (int i = 0; i < fx->model->n_nodes; i++)
    {
      fx->model->nodes[i].state = NODE_IDLE;
      fx->model->nodes[i].grad_defined = FALSE;
      fx->model->nodes[i].grad_passes = 0;
    }
  for (int i = 0; i < fx->model->n_edges; i++)
    fx->model->edges[i].grad_norm = 0;
  g_assert_false (graph_layout_grad_range (fx->layout, &lo, &hi));
  plain = render_plain (fx);

  /* Every edge with a gradient looks different: compare along its path's middle. */
  for (int e = 0; e < fx->layout->n_edges; e++)
    {
      const GraphLayoutEdge *le = &fx->layout->edges[e];
      double x, y;
      GraphRect probe;

      if (le->is_none)
        continue;
      viewport_graph_to_screen (&fx->viewport, le->points[2 * (le->n_points / 2)],
                                le->points[2 * (le->n_points / 2) + 1], &x, &y);
      probe = (GraphRect) { x - 4, y - 4, 8, 8 };
      g_assert_cmpint (count_differences (plain, after, &probe, TRUE), >, 0);
    }
  {
    GraphRect leaf_rect = screen_rect (fx, leaf, 0);

    /* ".grad: set" instead of ".grad: None". */
    g_assert_cmpint (count_differences (plain, after, &leaf_rect, TRUE), >, 0);
  }

  cairo_surface_destroy (plain);
  cairo_surface_destroy (after);
}

static void
test_themes_and_legend (Fixture       *fx,
                        gconstpointer  data)
{
  GraphTheme dark;
  GraphPaintState state;
  cairo_surface_t *light_s, *dark_s, *legend_s;
  double lw, lh;

  graph_theme_init_dark (&dark);
  g_assert_true (dark.dark);
  g_assert_false (fx->theme.dark);

  graph_paint_state_init (&state, &fx->theme);
  state.layers &= ~GRAPH_PAINT_LEGEND;
  light_s = render (fx, &state);
  /* The background is the theme's. */
  g_assert_cmpuint (test_pixel (light_s, 1, 1), ==, 0xffffffff);

  state.theme = &dark;
  dark_s = render (fx, &state);
  g_assert_cmpuint (test_pixel (dark_s, 1, 1), ==, 0xff1e1e1e);

  /* The legend, in the top-left corner. */
  state.theme = &fx->theme;
  state.layers |= GRAPH_PAINT_LEGEND;
  legend_s = render (fx, &state);
  graph_legend_size (fx->layout, &lw, &lh);
  g_assert_cmpfloat (lw, >, 100);
  g_assert_cmpfloat (lh, >, 100);
  g_assert_cmpint (count_differences (light_s, legend_s, &(GraphRect) { 12, 12, lw, lh }, TRUE),
                   >, 1000);
  g_assert_cmpint (count_differences (light_s, legend_s,
                                      &(GraphRect) { 11, 11, lw + 2, lh + 2 }, FALSE), ==, 0);

  cairo_surface_destroy (light_s);
  cairo_surface_destroy (dark_s);
  cairo_surface_destroy (legend_s);
}

/* A node being added: old boxes start where they were, the new one fades in. */
static void
test_transition (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr (GPtrArray) before_nodes = g_ptr_array_new ();
  g_autoptr (GraphModel) before_model = NULL;
  g_autoptr (GraphLayout) before = NULL;
  g_autoptr (GraphTransition) transition = NULL;
  g_autoptr (GError) error = NULL;
  GraphPaintState state;
  int sub = layout_node_named (fx->layout, "SubBackward0", 0);
  int moved = 0;

  /* The graph just before Q = t - b2 was recorded: everything but SubBackward0. */
  for (guint i = 0; i < fx->tg->nodes->len; i++)
    if (fx->tg->nodes->pdata[i] != fx->tg->Q->grad_fn)
      g_ptr_array_add (before_nodes, fx->tg->nodes->pdata[i]);
  before_model = graph_model_new (before_nodes);
  g_assert_cmpint (before_model->n_nodes, ==, fx->model->n_nodes - 1);
  before = graph_layout_new (before_model, NULL, &error);
  g_assert_no_error (error);
  transition = graph_transition_new (before, NULL, 1.0);

  graph_paint_state_init (&state, &fx->theme);
  state.transition = transition;

  for (int i = 0; i < fx->layout->n_nodes; i++)
    {
      GraphRect r0, r1, rh;
      int old = graph_layout_find_key (before, fx->layout->nodes[i].key);
      double a0, a1, ah;

      state.progress = 0;
      a0 = graph_paint_node_rect (fx->layout, &state, i, &r0);
      state.progress = 1;
      a1 = graph_paint_node_rect (fx->layout, &state, i, &r1);
      state.progress = 0.5;
      ah = graph_paint_node_rect (fx->layout, &state, i, &rh);

      g_assert_cmpfloat (a1, ==, 1.0);
      g_assert_cmpfloat (r1.x, ==, fx->layout->nodes[i].rect.x);
      g_assert_cmpfloat (r1.y, ==, fx->layout->nodes[i].rect.y);
      if (i == sub)
        {
          /* New: fades in at its place. */
          g_assert_cmpint (old, ==, -1);
          g_assert_cmpfloat (a0, ==, 0.0);
          g_assert_cmpfloat (ah, ==, 0.5);
          g_assert_cmpfloat (r0.x, ==, r1.x);
          continue;
        }
      g_assert_cmpint (old, >=, 0);
      g_assert_cmpfloat (a0, ==, 1.0);
      g_assert_cmpfloat (r0.x, ==, before->nodes[old].rect.x);
      g_assert_cmpfloat (r0.y, ==, before->nodes[old].rect.y);
      g_assert_cmpfloat_with_epsilon (rh.y, (r0.y + r1.y) / 2, 1e-9);
      moved += r0.x != r1.x || r0.y != r1.y;
    }
  /* The root took the top rank: everything else moved down. */
  g_assert_cmpint (moved, >, 0);

  /* Painting mid-way works, and differs from both ends. */
  {
    cairo_surface_t *end = render_plain (fx);
    cairo_surface_t *mid;

    state.progress = 0.5;
    mid = render (fx, &state);
    g_assert_cmpint (count_differences (end, mid, &(GraphRect) { 0, 0, 1e6, 1e6 }, TRUE), >, 0);
    cairo_surface_destroy (mid);
    cairo_surface_destroy (end);
  }

  /* A re-layout mid-animation starts from where the boxes are now. */
  {
    g_autoptr (GraphTransition) again = NULL;
    GraphPaintState state2;
    GraphRect r, expected;

    again = graph_transition_new (fx->layout, transition, 0.25);
    graph_paint_state_init (&state2, &fx->theme);
    state2.transition = again;
    state2.progress = 0;
    for (int i = 0; i < fx->layout->n_nodes; i++)
      {
        if (i == sub)
          continue;
        state.progress = 0.25;
        graph_paint_node_rect (fx->layout, &state, i, &expected);
        graph_paint_node_rect (fx->layout, &state2, i, &r);
        g_assert_cmpfloat_with_epsilon (r.x, expected.x, 1e-9);
        g_assert_cmpfloat_with_epsilon (r.y, expected.y, 1e-9);
      }
  }
  g_assert_cmpfloat (graph_ease_out (0), ==, 0);
  g_assert_cmpfloat (graph_ease_out (1), ==, 1);
  g_assert_cmpfloat (graph_ease_out (0.5), >, 0.5);
}

/* Zoomed out too far to read, boxes show bars instead of text; still drawn. */
static void
test_zoomed_out (Fixture       *fx,
                 gconstpointer  data)
{
  cairo_surface_t *s;
  GraphPaintState state;
  int mul = layout_node_named (fx->layout, "MulBackward0", 0);
  GraphRect r;

  graph_paint_state_init (&state, &fx->theme);
  state.layers = GRAPH_PAINT_BACKGROUND | GRAPH_PAINT_GRAPH;
  viewport_zoom_at (&fx->viewport, 0.2, 0, 0);
  s = render (fx, &state);
  r = screen_rect (fx, mul, 0);
  /* The box's fill, not the background, at its centre. */
  g_assert_cmpuint (test_pixel (s, (int) (r.x + r.width / 2), (int) (r.y + 2)), !=, 0xffffffff);
  cairo_surface_destroy (s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn, backward) \
  g_test_add ("/ui/graph-paint/" path, Fixture, GINT_TO_POINTER (backward), \
              fixture_set_up, fn, fixture_tear_down)

  ADD ("selected", test_selected, FALSE);
  ADD ("states", test_states, FALSE);
  ADD ("after-backward", test_after_backward, TRUE);
  ADD ("themes-and-legend", test_themes_and_legend, FALSE);
  ADD ("transition", test_transition, FALSE);
  ADD ("zoomed-out", test_zoomed_out, FALSE);

  return g_test_run ();
}

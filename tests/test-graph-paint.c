/* test-graph-paint.c: the painter on image surfaces, and the exports
 *
 * The pixels under a selected, hovered, running, ready, waiting or done node
 * differ from a plain node's, and nowhere else; gradient magnitudes change the
 * edges; a transition starts where the old layout was. Exported PNG, SVG and PDF
 * files are valid: the PNG reopened with cairo, the SVG parsed back with
 * GMarkup, the PDF's structure checked. resnet18's step is exported to
 * G_TEST_BUILDDIR for a person to look at.
 */

#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>

#include "graph-export.h"
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

static guint32
pixel (cairo_surface_t *s,
       int              x,
       int              y)
{
  const guchar *data = cairo_image_surface_get_data (s);

  return *(const guint32 *) (data + (gsize) y * cairo_image_surface_get_stride (s) + 4 * x);
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
      if (graph_rect_contains (in, x + 0.5, y + 0.5) == inside && pixel (a, x, y) != pixel (b, x, y))
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
  g_assert_cmpuint (pixel (light_s, 1, 1), ==, 0xffffffff);

  state.theme = &dark;
  dark_s = render (fx, &state);
  g_assert_cmpuint (pixel (dark_s, 1, 1), ==, 0xff1e1e1e);

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
  g_assert_cmpuint (pixel (s, (int) (r.x + r.width / 2), (int) (r.y + 2)), !=, 0xffffffff);
  cairo_surface_destroy (s);
}

/* --- Exports ------------------------------------------------------------ */

typedef struct
{
  int depth;
  int n_elements;
  char *root;
  char *width;
  char *height;
} SvgCheck;

static void
svg_start (GMarkupParseContext *context,
           const char          *element,
           const char         **names,
           const char         **values,
           gpointer             user_data,
           GError             **error)
{
  SvgCheck *check = user_data;

  if (check->depth++ == 0)
    {
      check->root = g_strdup (element);
      for (int i = 0; names[i] != NULL; i++)
        {
          if (g_str_equal (names[i], "width"))
            check->width = g_strdup (values[i]);
          else if (g_str_equal (names[i], "height"))
            check->height = g_strdup (values[i]);
        }
    }
  check->n_elements++;
}

static void
svg_end (GMarkupParseContext *context,
         const char          *element,
         gpointer             user_data,
         GError             **error)
{
  ((SvgCheck *) user_data)->depth--;
}

static void
check_svg (const char *path,
           double      width,
           double      height)
{
  static const GMarkupParser parser = { svg_start, svg_end, NULL, NULL, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected_w = g_strdup_printf ("%g", width);
  g_autofree char *expected_h = g_strdup_printf ("%g", height);
  SvgCheck check = { 0 };
  GMarkupParseContext *context;
  gsize length;

  g_assert_true (g_file_get_contents (path, &text, &length, &error));
  g_assert_no_error (error);
  context = g_markup_parse_context_new (&parser, G_MARKUP_IGNORE_QUALIFIED, &check, NULL);
  g_assert_true (g_markup_parse_context_parse (context, text, length, &error)
                 && g_markup_parse_context_end_parse (context, &error));
  g_assert_no_error (error);
  g_markup_parse_context_free (context);

  g_assert_cmpstr (check.root, ==, "svg");
  g_assert_cmpint (check.depth, ==, 0);
  g_assert_cmpint (check.n_elements, >, 50);
  /* cairo writes the size in points: "596pt". */
  g_assert_true (g_str_has_prefix (check.width, expected_w));
  g_assert_true (g_str_has_prefix (check.height, expected_h));
  g_free (check.root);
  g_free (check.width);
  g_free (check.height);
}

/* Binary-safe: a PDF's compressed streams hold NUL bytes. */
static const char *
find_bytes (const char *data,
            gsize       length,
            const char *needle,
            gboolean    last)
{
  gsize n = strlen (needle);
  const char *found = NULL;

  for (gsize i = 0; i + n <= length; i++)
    if (memcmp (data + i, needle, n) == 0)
      {
        found = data + i;
        if (!last)
          break;
      }

  return found;
}

static void
check_pdf (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length;
  const char *eof;

  g_assert_true (g_file_get_contents (path, &text, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (g_str_has_prefix (text, "%PDF-1."));
  /* The trailer: startxref, then %%EOF at the very end. */
  eof = find_bytes (text, length, "%%EOF", TRUE);
  g_assert_nonnull (eof);
  g_assert_cmpuint (length - (eof - text), <=, 7);
  g_assert_nonnull (find_bytes (text, length, "startxref", TRUE));
  g_assert_nonnull (find_bytes (text, length, "/Type /Page", FALSE));
  g_assert_nonnull (find_bytes (text, length, "/Type /Catalog", FALSE));
}

static void
test_export (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *png = g_test_build_filename (G_TEST_BUILT, "graph-q.png", NULL);
  g_autofree char *svg = g_test_build_filename (G_TEST_BUILT, "graph-q.svg", NULL);
  g_autofree char *pdf = g_test_build_filename (G_TEST_BUILT, "graph-q.pdf", NULL);
  GraphExportFormat format;
  cairo_surface_t *image;
  double w, h;

  graph_export_page_size (fx->layout, TRUE, &w, &h);
  g_assert_cmpfloat (w, >, fx->layout->width + 2 * GRAPH_EXPORT_MARGIN);

  /* PNG at 2×: reopened by cairo, twice the page, drawn. */
  g_assert_true (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_PNG, 2.0, TRUE, png, &error));
  g_assert_no_error (error);
  image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, (int) ceil (2 * w));
  g_assert_cmpint (cairo_image_surface_get_height (image), ==, (int) ceil (2 * h));
  g_assert_cmpuint (pixel (image, 0, 0), ==, 0xffffffff);
  {
    int dark = 0;

    for (int y = 0; y < cairo_image_surface_get_height (image); y += 2)
      for (int x = 0; x < cairo_image_surface_get_width (image); x += 2)
        dark += (pixel (image, x, y) & 0xff) < 0x80;
    g_assert_cmpint (dark, >, 500);   /* text and lines */
  }
  cairo_surface_destroy (image);

  g_assert_true (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_SVG, 1.5, TRUE, svg, &error));
  g_assert_no_error (error);
  check_svg (svg, w * 1.5, h * 1.5);

  g_assert_true (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_PDF, 1.0, FALSE, pdf, &error));
  g_assert_no_error (error);
  check_pdf (pdf);

  /* In memory: the same bytes as the file. */
  {
    g_autoptr (GBytes) bytes = NULL;
    g_autofree char *file_data = NULL;
    gsize file_length;

    bytes = graph_export_to_bytes (fx->layout, NULL, GRAPH_EXPORT_PNG, 2.0, TRUE, &error);
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (png, &file_data, &file_length, NULL));
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), file_data,
                     file_length);
    g_assert_null (graph_export_to_bytes (fx->layout, NULL, GRAPH_EXPORT_SVG, -1, TRUE, &error));
    g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
    g_clear_error (&error);
  }

  /* Formats by name and by file name. */
  g_assert_true (graph_export_format_from_string ("SVG", &format, &error));
  g_assert_cmpint (format, ==, GRAPH_EXPORT_SVG);
  g_assert_true (graph_export_format_from_filename ("slides/graph.pdf", &format));
  g_assert_cmpint (format, ==, GRAPH_EXPORT_PDF);
  g_assert_false (graph_export_format_from_filename ("graph", &format));
  g_assert_false (graph_export_format_from_string ("jpeg", &format, &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "jpeg"));
  g_clear_error (&error);
  g_assert_cmpstr (graph_export_format_to_string (GRAPH_EXPORT_PNG), ==, "png");
}

static void
test_export_errors (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *png = g_test_build_filename (G_TEST_BUILT, "graph-q-errors.png", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *again = NULL;
  const char *missing = "/nonexistent-gradlens-dir/graph.svg";

  /* A folder that does not exist: an I/O error naming the file. */
  g_assert_false (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_SVG, 1, TRUE, missing,
                                        &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* Bad scales. */
  g_assert_false (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_PNG, 0, TRUE, png, &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
  g_clear_error (&error);
  g_assert_false (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_PNG, NAN, TRUE, png,
                                        &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
  g_clear_error (&error);

  /* A PNG too large for cairo fails cleanly, leaving the file that was there. */
  g_assert_true (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_PNG, 1, TRUE, png, &error));
  g_assert_true (g_file_get_contents (png, &contents, NULL, NULL));
  g_assert_false (graph_export_to_file (fx->layout, NULL, GRAPH_EXPORT_PNG, 200, TRUE, png,
                                        &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
  g_assert_nonnull (strstr (error->message, "SVG or PDF"));
  g_assert_true (g_file_get_contents (png, &again, NULL, NULL));
  g_assert_cmpstr (contents, ==, again);
  g_unlink (png);
}

/* gradlens-cli graph NAME --format png|svg|pdf draws the same picture. */
static void
test_cli_export (void)
{
  const char *cli = g_getenv ("GRADLENS_CLI");
  const char *formats[] = { "png", "svg", "pdf" };

  if (cli == NULL)
    {
      g_test_skip ("GRADLENS_CLI is not set (run through meson test)");
      return;
    }

  for (guint k = 0; k < G_N_ELEMENTS (formats); k++)
    {
      g_autofree char *name = g_strdup_printf ("graph-cli-autograd.%s", formats[k]);
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, name, NULL);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr (GError) error = NULL;
      const char *argv[] = { cli, "graph", "autograd", "--at", "backward", "--format", formats[k],
                             "--scale", "1.5", "-o", path, NULL };
      int status;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                   &err, &status, &error));
      g_assert_no_error (error);
      g_test_message ("%s", err);
      g_assert_true (g_spawn_check_wait_status (status, NULL));

      if (k == 0)
        {
          cairo_surface_t *image = cairo_image_surface_create_from_png (path);

          g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
          g_assert_cmpint (cairo_image_surface_get_width (image), >, 300);
          cairo_surface_destroy (image);
        }
      else if (k == 1)
        {
          g_autofree char *text = NULL;

          g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
          g_assert_true (g_str_has_prefix (text, "<?xml"));
          g_assert_nonnull (strstr (text, "<svg"));
        }
      else
        check_pdf (path);
    }

  /* A bad scale is an error, with a message. */
  {
    g_autofree char *err = NULL;
    const char *argv[] = { cli, "graph", "autograd", "--format", "png", "--scale", "0", "-o",
                           "/dev/null", NULL };
    int status;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                 NULL, NULL, &err, &status, NULL));
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "scale"));
  }
}

/* resnet18's step after backward, whole, at 100 %: for a person to look at. */
static void
test_export_resnet18 (void)
{
  const char *frozen[] = { NULL, "layer1" };
  const char *names[] = { "graph-resnet18-step.png", "graph-resnet18-frozen-layer1.png" };

  for (guint k = 0; k < G_N_ELEMENTS (frozen); k++)
    {
      g_autoptr (TestGraph) tg = test_graph_new_resnet18 (frozen[k], TRUE);
      g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
      g_autoptr (GraphLayout) layout = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, names[k], NULL);
      cairo_surface_t *image;
      double w, h;

      layout = graph_layout_new (model, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, 1.0, TRUE, path,
                                           &error));
      g_assert_no_error (error);
      graph_export_page_size (layout, TRUE, &w, &h);
      image = cairo_image_surface_create_from_png (path);
      g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
      g_assert_cmpint (cairo_image_surface_get_height (image), ==, (int) h);
      /* The whole width, legend included, fits a 1920-pixel slice at 100 %. */
      g_assert_cmpint (cairo_image_surface_get_width (image), <=, 1920);
      cairo_surface_destroy (image);
      g_test_message ("saved %s (%.0fx%.0f)", path, w, h);
    }
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
  ADD ("export", test_export, TRUE);
  ADD ("export-errors", test_export_errors, FALSE);
  g_test_add_func ("/ui/graph-paint/export-resnet18", test_export_resnet18);
  g_test_add_func ("/ui/graph-paint/cli-export", test_cli_export);

  return g_test_run ();
}

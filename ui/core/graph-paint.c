/* graph-paint.c: drawing a laid-out autograd graph on any cairo surface: the
 * themes, the paint state, module clusters, and graph_paint putting the layers
 * together (the other pieces: graph-paint-private.h) */

#include "graph-paint-private.h"

#include <math.h>

#define RGB(hex) { ((hex) >> 16 & 0xff) / 255.0, ((hex) >> 8 & 0xff) / 255.0, \
                   ((hex) & 0xff) / 255.0, 1.0 }
#define RGBA(hex, a) { ((hex) >> 16 & 0xff) / 255.0, ((hex) >> 8 & 0xff) / 255.0, \
                       ((hex) & 0xff) / 255.0, (a) }

/* GNOME's palette: the light theme on white, torchviz's light blue for leaves. */
void
graph_theme_init_light (GraphTheme *theme)
{
  *theme = (GraphTheme) {
    .dark = FALSE,
    .background = RGB (0xffffff),
    .text = RGB (0x241f31),
    .text_dim = RGB (0x5e5c64),
    .node_fill = RGB (0xf6f5f4),
    .node_border = RGB (0x77767b),
    .leaf_fill = RGB (0xdbe9fb),
    .leaf_border = RGB (0x1c71d8),
    .frozen_fill = RGB (0xeeeeec),
    .frozen_border = RGB (0xa09e9a),
    .frozen_text = RGB (0x77767b),
    .none_border = RGB (0xb0aeaa),
    .none_text = RGB (0x8a8884),
    .cluster_fill = RGBA (0x3584e4, 0.045),
    .cluster_border = RGBA (0x3584e4, 0.40),
    .cluster_text = RGB (0x1a5fb4),
    .collapsed_fill = RGB (0xe3edfa),
    .collapsed_border = RGB (0x1a5fb4),
    .edge = RGB (0x77767b),
    .selection = RGB (0x3584e4),
    .running = RGB (0xe66100),
    .waiting = RGB (0x9141ac),
    .done = RGB (0x26a269),
    .saved = RGB (0x986a44),
    .grad_low = RGB (0x99c1f1),
    .grad_high = RGB (0xc01c28),
  };
}

void
graph_theme_init_dark (GraphTheme *theme)
{
  *theme = (GraphTheme) {
    .dark = TRUE,
    .background = RGB (0x1e1e1e),
    .text = RGB (0xffffff),
    .text_dim = RGB (0xc0bfbc),
    .node_fill = RGB (0x303030),
    .node_border = RGB (0x9a9996),
    .leaf_fill = RGB (0x1c3552),
    .leaf_border = RGB (0x62a0ea),
    .frozen_fill = RGB (0x2a2a2a),
    .frozen_border = RGB (0x77767b),
    .frozen_text = RGB (0x9a9996),
    .none_border = RGB (0x5e5c64),
    .none_text = RGB (0x8a8884),
    .cluster_fill = RGBA (0x62a0ea, 0.06),
    .cluster_border = RGBA (0x62a0ea, 0.45),
    .cluster_text = RGB (0x99c1f1),
    .collapsed_fill = RGB (0x1f3a5c),
    .collapsed_border = RGB (0x62a0ea),
    .edge = RGB (0x9a9996),
    .selection = RGB (0x78aeed),
    .running = RGB (0xffa348),
    .waiting = RGB (0xdc8add),
    .done = RGB (0x57e389),
    .saved = RGB (0xcdab8f),
    .grad_low = RGB (0x1c71d8),
    .grad_high = RGB (0xff7800),
  };
}

void
graph_paint_state_init (GraphPaintState *state,
                        const GraphTheme *theme)
{
  g_return_if_fail (state != NULL);

  *state = (GraphPaintState) {
    .theme = theme,
    .layers = GRAPH_PAINT_ALL,
    .selected = -1,
    .hovered = -1,
    .current = -1,
    .transition = NULL,
    .progress = 1.0,
  };
}

double
graph_ease_out (double t)
{
  t = CLAMP (t, 0.0, 1.0);
  return 1 - (1 - t) * (1 - t) * (1 - t);
}

/* --- Clusters ----------------------------------------------------------- */

/* A cluster's fill at a nesting depth: the theme's translucent tint composed over
 * the background depth + 1 times. */
static GraphColor
cluster_color (const GraphTheme *theme,
               int               depth)
{
  GraphColor c = theme->background;
  GraphColor tint = theme->cluster_fill;

  tint.alpha = 1.0;
  for (int d = 0; d <= depth; d++)
    c = color_mix (&c, &tint, theme->cluster_fill.alpha);
  c.alpha = 1.0;

  return c;
}

static void
paint_clusters (cairo_t               *cr,
                const GraphLayout     *layout,
                const GraphPaintState *state,
                const GraphRect       *visible)
{
  const GraphTheme *theme = state->theme;

  for (int i = 0; i < layout->n_clusters; i++)
    {
      GraphRect r;
      double alpha = graph_paint_cluster_rect (layout, state, i, &r);
      GraphColor fill;

      if (!graph_rect_intersects (&r, visible))
        continue;

      /* Opaque: the tint composed over the background once per nesting level, as a
       * translucent fill would look, but without blending whole screens of pixels. */
      fill = cluster_color (theme, layout->clusters[i].depth);
      rounded_rect (cr, &r, 8);
      set_color (cr, &fill, alpha);
      cairo_fill_preserve (cr);
      set_color (cr, &theme->cluster_border, alpha);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }
}

/* Labels go over the edges (an edge may cross a label strip), on their cluster's
 * colour. */
static void
paint_cluster_labels (cairo_t               *cr,
                      const GraphLayout     *layout,
                      const GraphPaintState *state,
                      const GraphRect       *visible,
                      gboolean               show_text)
{
  const GraphTheme *theme = state->theme;
  double ascent = graph_text_ascent (GRAPH_TEXT_CLUSTER);

  if (!show_text)
    return;

  graph_text_select (cr, GRAPH_TEXT_CLUSTER);
  for (int i = 0; i < layout->n_clusters; i++)
    {
      const GraphLayoutCluster *c = &layout->clusters[i];
      GraphRect r;
      double alpha = graph_paint_cluster_rect (layout, state, i, &r);
      GraphColor fill;
      double width;

      if (!graph_rect_intersects (&r, visible))
        continue;

      /* In the strip dot reserved at the top; dot made the cluster wide enough.
       * ⊟ before it: the module folds into one box (a click in the view). */
      g_autofree char *text = g_strdup_printf ("⊟ %s", c->label);

      fill = cluster_color (theme, c->depth);
      width = MIN (graph_text_width (GRAPH_TEXT_CLUSTER, text) + 4,
                   r.width - GRAPH_CLUSTER_PAD);
      set_color (cr, &fill, alpha);
      cairo_rectangle (cr, r.x + GRAPH_CLUSTER_PAD - 2, r.y + GRAPH_CLUSTER_PAD / 2,
                       width, graph_text_height (GRAPH_TEXT_CLUSTER));
      cairo_fill (cr);
      set_color (cr, &theme->cluster_text, alpha);
      cairo_move_to (cr, r.x + GRAPH_CLUSTER_PAD, r.y + GRAPH_CLUSTER_PAD / 2 + ascent);
      graph_text_show (cr, GRAPH_TEXT_CLUSTER, text);
    }
}

/* --- The picture -------------------------------------------------------- */

/* Below this many pixels an 11-point line is unreadable: boxes show grey bars
 * where their lines are, and cluster labels are left out. */
#define MIN_TEXT_PIXELS 5.0

void
graph_paint (cairo_t               *cr,
             const GraphLayout     *layout,
             const GraphPaintState *state,
             const Viewport        *viewport)
{
  GraphRect visible;

  g_return_if_fail (cr != NULL && layout != NULL && state != NULL && viewport != NULL);
  g_return_if_fail (state->theme != NULL);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, viewport->width, viewport->height);
  cairo_clip (cr);

  if (state->layers & GRAPH_PAINT_BACKGROUND)
    {
      set_color (cr, &state->theme->background, 1);
      cairo_paint (cr);
    }

  cairo_save (cr);
  cairo_scale (cr, viewport->zoom, viewport->zoom);
  cairo_translate (cr, -viewport->origin_x, -viewport->origin_y);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  viewport_get_visible (viewport, &visible);

  if (state->layers & GRAPH_PAINT_GRAPH)
    {
      gboolean show_text = graph_text_size (GRAPH_TEXT_BODY) * viewport->zoom >= MIN_TEXT_PIXELS;

      paint_clusters (cr, layout, state, &visible);
      graph_paint_edges (cr, layout, state, &visible);
      paint_cluster_labels (cr, layout, state, &visible, show_text);
      graph_paint_nodes (cr, layout, state, &visible, show_text);
      if (show_text)
        graph_paint_edge_values (cr, layout, state, &visible);
    }
  if (state->layers & GRAPH_PAINT_HIGHLIGHTS)
    graph_paint_highlights (cr, layout, state);
  cairo_restore (cr);

  if (state->layers & GRAPH_PAINT_LEGEND)
    graph_paint_legend (cr, layout, state->theme, 12, 12);

  cairo_restore (cr);
}

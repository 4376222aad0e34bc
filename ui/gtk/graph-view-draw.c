/* graph-view-draw.c: the graph view's drawing: theme, cached pictures, overlays */

#include "graph-view-private.h"

#include <math.h>
#include <string.h>

/* --- Theme -------------------------------------------------------------- */

static GraphColor
color_from_rgba (const GdkRGBA *rgba)
{
  return (GraphColor) { rgba->red, rgba->green, rgba->blue, rgba->alpha };
}

static gboolean
lookup_color (GtkStyleContext *context,
              const char      *first,
              const char      *second,
              GdkRGBA         *rgba)
{
  return gtk_style_context_lookup_color (context, first, rgba)
         || (second != NULL && gtk_style_context_lookup_color (context, second, rgba));
}

/* The palette for the current GTK theme: light or dark by the text colour, with
 * the theme's own text, view background and accent. */
static void
read_theme (GraphView  *self,
            GraphTheme *theme)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));
  GdkRGBA fg, bg, accent;
  double luminance;

  gtk_style_context_get_color (context, &fg);
  luminance = 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue;
  if (luminance > 0.5)
    graph_theme_init_dark (theme);
  else
    graph_theme_init_light (theme);

  theme->text = color_from_rgba (&fg);
  theme->text.alpha = 1.0;
  if (lookup_color (context, "view_bg_color", "theme_base_color", &bg) && bg.alpha > 0.5)
    {
      theme->background = color_from_rgba (&bg);
      theme->background.alpha = 1.0;
    }
  theme->text_dim = (GraphColor) {
    theme->text.red * 0.65 + theme->background.red * 0.35,
    theme->text.green * 0.65 + theme->background.green * 0.35,
    theme->text.blue * 0.65 + theme->background.blue * 0.35,
    1.0,
  };
  /* grad_fn boxes a shade off the theme's background, whatever it is. */
  theme->node_fill = (GraphColor) {
    theme->background.red + (theme->text.red - theme->background.red) * (theme->dark ? 0.10 : 0.04),
    theme->background.green
      + (theme->text.green - theme->background.green) * (theme->dark ? 0.10 : 0.04),
    theme->background.blue + (theme->text.blue - theme->background.blue) * (theme->dark ? 0.10 : 0.04),
    1.0,
  };
  if (lookup_color (context, "accent_bg_color", "theme_selected_bg_color", &accent))
    {
      theme->selection = color_from_rgba (&accent);
      theme->selection.alpha = 1.0;
    }
}

static void
update_theme (GraphView *self)
{
  GraphTheme theme;

  read_theme (self, &theme);
  if (!self->have_theme || memcmp (&theme, &self->theme, sizeof theme) != 0)
    {
      self->theme = theme;
      self->have_theme = TRUE;
      g_clear_pointer (&self->graph_node, gsk_render_node_unref);
      g_clear_pointer (&self->minimap_node, gsk_render_node_unref);
      g_clear_pointer (&self->legend_node, gsk_render_node_unref);
    }
}

/* --- Drawing ------------------------------------------------------------ */

static void
paint_state_init (GraphView       *self,
                  GraphPaintState *state,
                  GraphPaintLayers layers)
{
  graph_paint_state_init (state, &self->theme);
  state->layers = layers;
  state->selected = graph_view_box_of_key (self, self->selected_key);
  state->hovered = graph_view_box_of_key (self, self->hovered_key);
  state->current = graph_view_layout_index_of_key (self, self->current_key);
  if (self->transition != NULL)
    {
      state->transition = self->transition;
      state->progress = self->transition_progress;
    }
}

/* The static graph for the current camera, with PAN_MARGIN around the window. */
static GskRenderNode *
record_graph (GraphView *self)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GraphPaintState state;
  Viewport vp = self->viewport;
  cairo_t *cr;

  vp.width += 2 * PAN_MARGIN;
  vp.height += 2 * PAN_MARGIN;
  vp.origin_x -= PAN_MARGIN / vp.zoom;
  vp.origin_y -= PAN_MARGIN / vp.zoom;

  paint_state_init (self, &state, GRAPH_PAINT_GRAPH);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (-PAN_MARGIN, -PAN_MARGIN,
                                                                   vp.width, vp.height));
  cairo_translate (cr, -PAN_MARGIN, -PAN_MARGIN);
  graph_paint (cr, self->layout, &state, &vp);
  cairo_destroy (cr);

  self->graph_node_viewport = self->viewport;
  return gtk_snapshot_free_to_node (snapshot);
}

/* The cached picture still covers the window: same zoom, panned less than the margin. */
static gboolean
graph_node_usable (GraphView *self,
                   double    *dx,
                   double    *dy)
{
  const Viewport *a = &self->graph_node_viewport, *b = &self->viewport;

  if (self->graph_node == NULL || a->zoom != b->zoom || a->width != b->width
      || a->height != b->height)
    return FALSE;
  *dx = (a->origin_x - b->origin_x) * b->zoom;
  *dy = (a->origin_y - b->origin_y) * b->zoom;

  return fabs (*dx) <= PAN_MARGIN && fabs (*dy) <= PAN_MARGIN;
}

static void
snapshot_minimap (GraphView   *self,
                  GtkSnapshot *snapshot)
{
  double w, h, scale, width = self->viewport.width, height = self->viewport.height;
  GraphRect visible;
  GdkRGBA frame;
  cairo_t *cr;

  scale = MIN (MINIMAP_MAX_WIDTH / MAX (self->layout->width, 1),
               MIN (MINIMAP_MAX_HEIGHT, 0.5 * height) / MAX (self->layout->height, 1));
  w = ceil (self->layout->width * scale) + 8;
  h = ceil (self->layout->height * scale) + 8;
  /* Not when it does not fit, nor when the whole graph is in view anyway. */
  viewport_get_visible (&self->viewport, &visible);
  if (w + 2 * OVERLAY_MARGIN > width || h + 2 * OVERLAY_MARGIN > height
      || (visible.x <= 0 && visible.y <= 0 && visible.x + visible.width >= self->layout->width
          && visible.y + visible.height >= self->layout->height))
    {
      self->minimap_rect = (GraphRect) { 0, 0, 0, 0 };
      return;
    }
  self->minimap_rect = (GraphRect) { width - w - OVERLAY_MARGIN, height - h - OVERLAY_MARGIN,
                                     w, h };

  if (self->minimap_node == NULL)
    {
      GtkSnapshot *s = gtk_snapshot_new ();
      GraphPaintState state;

      viewport_init (&self->minimap_viewport, w, h);
      self->minimap_viewport.min_zoom = 0;
      self->minimap_viewport.zoom = scale;
      viewport_anchor (&self->minimap_viewport, 0, 0, 4, 4);
      graph_paint_state_init (&state, &self->theme);
      state.layers = GRAPH_PAINT_BACKGROUND | GRAPH_PAINT_GRAPH;
      state.current = graph_view_layout_index_of_key (self, self->current_key);
      cr = gtk_snapshot_append_cairo (s, &GRAPHENE_RECT_INIT (0, 0, w, h));
      graph_paint (cr, self->layout, &state, &self->minimap_viewport);
      cairo_destroy (cr);
      self->minimap_node = gtk_snapshot_free_to_node (s);
    }

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (self->minimap_rect.x,
                                                          self->minimap_rect.y));
  gtk_snapshot_append_node (snapshot, self->minimap_node);

  /* The window's part of the graph, and a frame. */
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  frame = (GdkRGBA) { self->theme.text.red, self->theme.text.green, self->theme.text.blue, 0.5 };
  gdk_cairo_set_source_rgba (cr, &frame);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, 0.5, 0.5, w - 1, h - 1);
  cairo_stroke (cr);
  {
    double x0, y0, x1, y1;

    viewport_graph_to_screen (&self->minimap_viewport, visible.x, visible.y, &x0, &y0);
    viewport_graph_to_screen (&self->minimap_viewport, visible.x + visible.width,
                              visible.y + visible.height, &x1, &y1);
    x0 = CLAMP (x0, 1, w - 1);
    x1 = CLAMP (x1, 1, w - 1);
    y0 = CLAMP (y0, 1, h - 1);
    y1 = CLAMP (y1, 1, h - 1);
    cairo_rectangle (cr, x0, y0, MAX (x1 - x0, 2), MAX (y1 - y0, 2));
    cairo_set_source_rgba (cr, self->theme.selection.red, self->theme.selection.green,
                           self->theme.selection.blue, 0.2);
    cairo_fill_preserve (cr);
    cairo_set_source_rgba (cr, self->theme.selection.red, self->theme.selection.green,
                           self->theme.selection.blue, 1);
    cairo_set_line_width (cr, 1.5);
    cairo_stroke (cr);
  }
  cairo_destroy (cr);
  gtk_snapshot_restore (snapshot);
}

static void
snapshot_legend (GraphView   *self,
                 GtkSnapshot *snapshot)
{
  if (self->legend_node == NULL)
    {
      GtkSnapshot *s = gtk_snapshot_new ();
      cairo_t *cr;

      graph_legend_size (self->layout, &self->legend_width, &self->legend_height);
      cr = gtk_snapshot_append_cairo (s, &GRAPHENE_RECT_INIT (0, 0, self->legend_width,
                                                                self->legend_height));
      graph_paint_legend (cr, self->layout, &self->theme, 0, 0);
      cairo_destroy (cr);
      self->legend_node = gtk_snapshot_free_to_node (s);
    }
  if (self->legend_width + 2 * OVERLAY_MARGIN > self->viewport.width
      || self->legend_height + 2 * OVERLAY_MARGIN > self->viewport.height)
    return;

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (OVERLAY_MARGIN, OVERLAY_MARGIN));
  gtk_snapshot_append_node (snapshot, self->legend_node);
  gtk_snapshot_restore (snapshot);
}

void
graph_view_snapshot_impl (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  GraphView *self = GRAPH_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  GdkRGBA bg;
  double dx = 0, dy = 0;

  update_theme (self);
  bg = (GdkRGBA) { self->theme.background.red, self->theme.background.green,
                   self->theme.background.blue, 1.0 };
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (self->layout == NULL || self->layout->n_nodes == 0)
    return;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  /* The static picture: redrawn when the graph, its states, the theme, the size or
   * the zoom changed, or after a pan past the margin drawn around the window.
   * (It is drawn in window coordinates, not the graph's: a GL renderer turns a
   * cairo node into one texture of its whole size, too large for resnet18.) */
  if (!graph_node_usable (self, &dx, &dy))
    {
      g_clear_pointer (&self->graph_node, gsk_render_node_unref);
      self->graph_node = record_graph (self);
      dx = dy = 0;
    }
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (dx, dy));
  gtk_snapshot_append_node (snapshot, self->graph_node);
  gtk_snapshot_restore (snapshot);

  /* Highlights on top, every frame. */
  if (graph_view_box_of_key (self, self->selected_key) >= 0 || graph_view_box_of_key (self, self->hovered_key) >= 0)
    {
      GraphPaintState state;
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot,
                                               &GRAPHENE_RECT_INIT (0, 0, width, height));

      paint_state_init (self, &state, GRAPH_PAINT_HIGHLIGHTS);
      graph_paint (cr, self->layout, &state, &self->viewport);
      cairo_destroy (cr);
    }

  if (self->show_legend)
    snapshot_legend (self, snapshot);
  if (self->show_minimap)
    snapshot_minimap (self, snapshot);
  else
    self->minimap_rect = (GraphRect) { 0, 0, 0, 0 };

  gtk_snapshot_pop (snapshot);
}


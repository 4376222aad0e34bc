/* graph-paint-edges.c: the edges of the graph, dot's Bézier splines with an
 * arrow at the head; after backward, each edge's width and colour show the
 * gradient it carried, on a log scale between the smallest and the largest. */

#include "graph-paint-private.h"

#include <math.h>

gboolean
graph_layout_grad_range (const GraphLayout *layout,
                         double            *min,
                         double            *max)
{
  double lo = G_MAXDOUBLE, hi = 0;
  const GraphModel *model;

  if (layout == NULL)
    return FALSE;
  model = layout->model;

  for (int i = 0; i < model->n_edges; i++)
    {
      double n = model->edges[i].grad_norm;

      if (n > 0 && isfinite (n))
        {
          lo = MIN (lo, n);
          hi = MAX (hi, n);
        }
    }
  if (hi <= 0)
    return FALSE;
  *min = lo;
  *max = hi;

  return TRUE;
}

/* Where n falls between lo and hi on a log scale, 0 to 1. */
static double
log_position (double n,
              double lo,
              double hi)
{
  double span = log10 (hi) - log10 (lo);

  if (span < 1e-9)
    return 1.0;

  return CLAMP ((log10 (n) - log10 (lo)) / span, 0.0, 1.0);
}

static void
arrow_head (cairo_t *cr,
            double   bx,
            double   by,
            double   tx,
            double   ty,
            double   line_width)
{
  double dx = tx - bx, dy = ty - by;
  double len = hypot (dx, dy);
  double half = MAX (len * 0.4, 1.5 * line_width);

  if (len < 1e-6)
    return;
  dx /= len;
  dy /= len;
  cairo_move_to (cr, tx, ty);
  cairo_line_to (cr, bx - dy * half, by + dx * half);
  cairo_line_to (cr, bx + dy * half, by - dx * half);
  cairo_close_path (cr);
  cairo_fill (cr);
}

void
graph_paint_edges (cairo_t               *cr,
                   const GraphLayout     *layout,
                   const GraphPaintState *state,
                   const GraphRect       *visible)
{
  const GraphTheme *theme = state->theme;
  const GraphModel *model = layout->model;
  double lo = 0, hi = 0;
  gboolean have_grads = graph_layout_grad_range (layout, &lo, &hi);
  gboolean animating = state->transition != NULL && state->progress < 1.0;

  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];
      const GraphModelEdge *me = &model->edges[le->model_edge];
      double tdx = 0, tdy = 0, hdx = 0, hdy = 0, alpha = 1.0;
      double width = 1.2, xmin, xmax, ymin, ymax;
      GraphColor color = le->is_none ? theme->none_border : theme->edge;
      GraphRect bounds;
      int n = le->n_points;

      if (n < 4)
        continue;

      if (animating)
        {
          GraphRect t, h;
          double ta = graph_paint_node_rect (layout, state, le->tail, &t);
          double ha = graph_paint_node_rect (layout, state, le->head, &h);

          tdx = t.x + t.width / 2 - (layout->nodes[le->tail].rect.x
                                     + layout->nodes[le->tail].rect.width / 2);
          tdy = t.y - layout->nodes[le->tail].rect.y;
          hdx = h.x + h.width / 2 - (layout->nodes[le->head].rect.x
                                     + layout->nodes[le->head].rect.width / 2);
          hdy = h.y - layout->nodes[le->head].rect.y;
          alpha = MIN (ta, ha);
        }

      /* Cull by the control points' box (a Bézier lies inside its hull). */
      xmin = ymin = G_MAXDOUBLE;
      xmax = ymax = -G_MAXDOUBLE;
      for (int k = 0; k < n; k++)
        {
          xmin = MIN (xmin, le->points[2 * k]);
          xmax = MAX (xmax, le->points[2 * k]);
          ymin = MIN (ymin, le->points[2 * k + 1]);
          ymax = MAX (ymax, le->points[2 * k + 1]);
        }
      if (le->has_arrow)
        {
          xmin = MIN (xmin, le->arrow_x);
          xmax = MAX (xmax, le->arrow_x);
          ymin = MIN (ymin, le->arrow_y);
          ymax = MAX (ymax, le->arrow_y);
        }
      bounds = (GraphRect) { xmin - 8 + MIN (MIN (tdx, hdx), 0), ymin - 8 + MIN (MIN (tdy, hdy), 0),
                             xmax - xmin + 16 + fabs (tdx) + fabs (hdx),
                             ymax - ymin + 16 + fabs (tdy) + fabs (hdy) };
      if (!graph_rect_intersects (&bounds, visible))
        continue;

      /* During and after backward: the gradient it carried, on a log scale. */
      if (have_grads && le->multiplicity == 1 && me->grad_norm > 0)
        {
          double t = log_position (me->grad_norm, lo, hi);

          width = 1.5 + 4.5 * t;
          color = color_mix (&theme->grad_low, &theme->grad_high, t);
        }
      else if (le->multiplicity > 1)
        width = MIN (1.2 + 0.6 * (le->multiplicity - 1), 4.0);

      set_color (cr, &color, alpha);
      cairo_set_line_width (cr, width);
      if (le->is_none)
        cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);

      /* Each point moves with its end: the tail's shift at the start, the head's at
       * the end, blended between; at rest, dot's spline exactly. */
      for (int k = 0; k < n; k++)
        {
          double f = (double) k / (n - 1);
          double x = le->points[2 * k] + tdx + (hdx - tdx) * f;
          double y = le->points[2 * k + 1] + tdy + (hdy - tdy) * f;

          if (k == 0)
            cairo_move_to (cr, x, y);
          else if ((k - 1) % 3 == 2)
            {
              double x1 = le->points[2 * (k - 2)] + tdx + (hdx - tdx) * (k - 2.0) / (n - 1);
              double y1 = le->points[2 * (k - 2) + 1] + tdy + (hdy - tdy) * (k - 2.0) / (n - 1);
              double x2 = le->points[2 * (k - 1)] + tdx + (hdx - tdx) * (k - 1.0) / (n - 1);
              double y2 = le->points[2 * (k - 1) + 1] + tdy + (hdy - tdy) * (k - 1.0) / (n - 1);

              cairo_curve_to (cr, x1, y1, x2, y2, x, y);
            }
        }
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);

      if (le->has_arrow)
        arrow_head (cr, le->points[2 * (n - 1)] + hdx, le->points[2 * (n - 1) + 1] + hdy,
                    le->arrow_x + hdx, le->arrow_y + hdy, width);
    }
}

/* Small gradients, read off the edge: the rule that made them over their
 * values, "grad · 2·self" over "[-12., -8.]", on a pill where dot left room
 * for them (else at the spline's middle: dot's splines pass through every
 * third control point). Drawn over the boxes so a long label stays whole. */
void
graph_paint_edge_values (cairo_t               *cr,
                         const GraphLayout     *layout,
                         const GraphPaintState *state,
                         const GraphRect       *visible)
{
  const GraphTheme *theme = state->theme;
  const GraphModel *model = layout->model;
  double line_h = graph_text_height (GRAPH_TEXT_BODY);
  double ascent = graph_text_ascent (GRAPH_TEXT_BODY);

  if (state->transition != NULL && state->progress < 1.0)
    return;
  for (int i = 0; i < layout->n_edges; i++)
    {
      const GraphLayoutEdge *le = &layout->edges[i];
      const GraphModelEdge *me = &model->edges[le->model_edge];
      const char *lines[2] = { me->rule, me->values };
      int n_lines = me->rule != NULL ? 2 : 1;
      int mid = 3 * ((le->n_points - 1) / 6);
      double w = 0, h, x, y;
      GraphRect pill;

      if (me->values == NULL || le->multiplicity != 1 || le->n_points < 4)
        continue;
      for (int k = 0; k < 2; k++)
        if (lines[k] != NULL)
          w = MAX (w, graph_text_width (GRAPH_TEXT_BODY, lines[k]));
      h = n_lines * line_h + (n_lines - 1) * GRAPH_LINE_GAP;
      x = le->has_label ? le->label_x : le->points[2 * mid];
      y = le->has_label ? le->label_y : le->points[2 * mid + 1];
      pill = (GraphRect) { x - w / 2 - 4, y - h / 2 - 2, w + 8, h + 4 };
      if (!graph_rect_intersects (&pill, visible))
        continue;

      set_color (cr, &theme->background, 0.92);
      rounded_rect (cr, &pill, 4);
      cairo_fill_preserve (cr);
      set_color (cr, &theme->grad_high, 0.8);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);

      graph_text_select (cr, GRAPH_TEXT_BODY);
      y = pill.y + 2 + ascent;
      for (int k = 0; k < 2; k++)
        {
          if (lines[k] == NULL)
            continue;
          set_color (cr, k == 0 ? &theme->edge : &theme->grad_high, 1);
          cairo_move_to (cr, x - graph_text_width (GRAPH_TEXT_BODY, lines[k]) / 2, y);
          graph_text_show (cr, GRAPH_TEXT_BODY, lines[k]);
          y += line_h + GRAPH_LINE_GAP;
        }
    }
}

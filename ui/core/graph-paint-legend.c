/* graph-paint-legend.c: the legend, a swatch and a line of text for each look
 * the painter uses, and the range of the gradient scale. */

#include "graph-paint-private.h"

#include <glib/gi18n.h>
#include <math.h>

#define LEGEND_PAD      10.0
#define LEGEND_ROW      22.0
#define LEGEND_SWATCH_W 34.0
#define LEGEND_SWATCH_H 16.0

typedef enum
{
  ENTRY_FUNCTION,
  ENTRY_LEAF,
  ENTRY_FROZEN,
  ENTRY_NONE,
  ENTRY_COLLAPSED,
  ENTRY_RUNNING,
  ENTRY_READY,
  ENTRY_WAITING,
  ENTRY_DONE,
  ENTRY_SAVED,
  ENTRY_FREED,
  ENTRY_GRAD,
  ENTRY_COUNT
} LegendEntry;

static const char *const legend_text[ENTRY_COUNT] = {
  [ENTRY_FUNCTION]  = N_("grad_fn: PyTorch’s name, module, shape"),
  [ENTRY_LEAF]      = N_("AccumulateGrad: parameter, shape, .grad"),
  [ENTRY_FROZEN]    = N_("frozen parameter (requires_grad=False)"),
  [ENTRY_NONE]      = N_("None in next_functions"),
  [ENTRY_COLLAPSED] = N_("collapsed module"),
  [ENTRY_RUNNING]   = N_("running now"),
  [ENTRY_READY]     = N_("ready: all gradients arrived"),
  [ENTRY_WAITING]   = N_("waiting: “2 of 3 gradients arrived”"),
  [ENTRY_DONE]      = N_("done in this backward"),
  [ENTRY_SAVED]     = N_("saved tensors held for backward"),
  [ENTRY_FREED]     = N_("saved tensors freed"),
  [ENTRY_GRAD]      = N_("‖gradient‖ along an edge, log scale"),
};

static char *
grad_range_text (const GraphLayout *layout)
{
  double lo, hi;

  if (!graph_layout_grad_range (layout, &lo, &hi))
    return g_strdup (_("(after backward)"));

  return g_strdup_printf ("%.2g … %.2g", lo, hi);
}

void
graph_legend_size (const GraphLayout *layout,
                   double            *width,
                   double            *height)
{
  g_autofree char *range = grad_range_text (layout);
  double w = graph_text_width (GRAPH_TEXT_TITLE, _("Legend"));

  for (int i = 0; i < ENTRY_COUNT; i++)
    w = MAX (w, LEGEND_SWATCH_W + 8 + graph_text_width (GRAPH_TEXT_LEGEND, _(legend_text[i])));
  w = MAX (w, LEGEND_SWATCH_W + 8 + graph_text_width (GRAPH_TEXT_LEGEND, range));

  *width = ceil (w + 2 * LEGEND_PAD);
  *height = ceil (2 * LEGEND_PAD + graph_text_height (GRAPH_TEXT_TITLE) + 6
                  + (ENTRY_COUNT + 1) * LEGEND_ROW);
}

static void
legend_swatch (cairo_t          *cr,
               const GraphTheme *theme,
               LegendEntry       entry,
               const GraphRect  *r)
{
  GraphLook look = GRAPH_LOOK_FUNCTION;
  NodeState state = NODE_IDLE;
  GraphNodeStyle style;

  switch (entry)
    {
    case ENTRY_LEAF:
      look = GRAPH_LOOK_LEAF;
      break;
    case ENTRY_FROZEN:
      look = GRAPH_LOOK_FROZEN;
      break;
    case ENTRY_NONE:
      look = GRAPH_LOOK_NONE;
      break;
    case ENTRY_COLLAPSED:
      look = GRAPH_LOOK_COLLAPSED;
      break;
    case ENTRY_RUNNING:
      state = NODE_RUNNING;
      break;
    case ENTRY_READY:
      state = NODE_READY;
      break;
    case ENTRY_WAITING:
      state = NODE_WAITING;
      break;
    case ENTRY_DONE:
      state = NODE_DONE;
      break;
    case ENTRY_SAVED:
    case ENTRY_FREED:
      graph_paint_saved_badge (cr, theme, r->x + r->width / 2, r->y + r->height / 2,
                               entry == ENTRY_SAVED, 1);
      return;
    case ENTRY_GRAD:
      for (int k = 0; k < 4; k++)
        {
          double t = k / 3.0;
          GraphColor c = color_mix (&theme->grad_low, &theme->grad_high, t);
          double x = r->x + k * r->width / 4;

          set_color (cr, &c, 1);
          cairo_set_line_width (cr, 1.5 + 4.5 * t);
          cairo_move_to (cr, x + 1, r->y + r->height / 2);
          cairo_line_to (cr, x + r->width / 4 - 1, r->y + r->height / 2);
          cairo_stroke (cr);
        }
      return;
    case ENTRY_FUNCTION:
    case ENTRY_COUNT:
    default:
      break;
    }

  /* The graph's own colours, widths and dashes for this look and state. */
  graph_node_style (theme, look, state, &style);

  if (look == GRAPH_LOOK_COLLAPSED)
    {
      rounded_rect (cr, &(GraphRect) { r->x + 3, r->y + 3, r->width - 3, r->height - 3 }, 4);
      set_color (cr, &style.fill, 1);
      cairo_fill_preserve (cr);
      set_color (cr, &style.border, 1);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }

  rounded_rect (cr, r, 4);
  set_color (cr, &style.fill, 1);
  cairo_fill_preserve (cr);
  set_color (cr, &style.border, 1);
  cairo_set_line_width (cr, style.border_width);
  if (style.dashed)
    cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (state == NODE_DONE)
    graph_paint_done_badge (cr, theme, r->x + 1, r->y + 1, 1);
}

void
graph_paint_legend (cairo_t           *cr,
                    const GraphLayout *layout,
                    const GraphTheme  *theme,
                    double             x,
                    double             y)
{
  g_autofree char *range = grad_range_text (layout);
  double w, h, row_y, ascent = graph_text_ascent (GRAPH_TEXT_LEGEND);

  g_return_if_fail (cr != NULL && theme != NULL);

  graph_legend_size (layout, &w, &h);
  cairo_save (cr);

  rounded_rect (cr, &(GraphRect) { x, y, w, h }, 8);
  set_color (cr, &theme->background, 0.92);
  cairo_fill_preserve (cr);
  set_color (cr, &theme->node_border, 0.6);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);

  graph_text_select (cr, GRAPH_TEXT_TITLE);
  set_color (cr, &theme->text, 1);
  cairo_move_to (cr, x + LEGEND_PAD, y + LEGEND_PAD + graph_text_ascent (GRAPH_TEXT_TITLE));
  graph_text_show (cr, GRAPH_TEXT_TITLE, _("Legend"));

  row_y = y + LEGEND_PAD + graph_text_height (GRAPH_TEXT_TITLE) + 6;
  for (int i = 0; i < ENTRY_COUNT; i++)
    {
      GraphRect swatch = { x + LEGEND_PAD, row_y + (LEGEND_ROW - LEGEND_SWATCH_H) / 2,
                           LEGEND_SWATCH_W, LEGEND_SWATCH_H };
      double baseline = row_y + (LEGEND_ROW - graph_text_height (GRAPH_TEXT_LEGEND)) / 2 + ascent;

      legend_swatch (cr, theme, i, &swatch);
      graph_text_select (cr, GRAPH_TEXT_LEGEND);
      set_color (cr, &theme->text, 1);
      cairo_move_to (cr, x + LEGEND_PAD + LEGEND_SWATCH_W + 8, baseline);
      graph_text_show (cr, GRAPH_TEXT_LEGEND, _(legend_text[i]));
      row_y += LEGEND_ROW;
      if (i == ENTRY_GRAD)
        {
          set_color (cr, &theme->text_dim, 1);
          cairo_move_to (cr, x + LEGEND_PAD + LEGEND_SWATCH_W + 8, baseline + LEGEND_ROW);
          graph_text_show (cr, GRAPH_TEXT_LEGEND, range);
          row_y += LEGEND_ROW;
        }
    }

  cairo_restore (cr);
}

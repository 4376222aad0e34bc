/* graph-paint-nodes.c: the boxes: how each kind looks (grad_fn, parameter,
 * frozen, None, collapsed module), its live state (running, ready, waiting,
 * done), its badges (saved tensors, done) and lines of text; the selection and
 * hover rings drawn over everything. */

#include "graph-paint-private.h"

static void
show_text_centred (cairo_t        *cr,
                   GraphTextStyle  style,
                   const char     *text,
                   double          cx,
                   double          baseline)
{
  graph_text_select (cr, style);
  cairo_move_to (cr, cx - graph_text_width (style, text) / 2, baseline);
  graph_text_show (cr, style, text);
}

static GraphLook
node_look (const GraphLayout     *layout,
           const GraphLayoutNode *ln)
{
  const GraphModelNode *mn;

  if (ln->model_index < 0)
    return GRAPH_LOOK_COLLAPSED;
  mn = &layout->model->nodes[ln->model_index];
  switch (mn->kind)
    {
    case GRAPH_NODE_LEAF:
      return mn->frozen ? GRAPH_LOOK_FROZEN : GRAPH_LOOK_LEAF;
    case GRAPH_NODE_NONE:
      return mn->frozen ? GRAPH_LOOK_FROZEN : GRAPH_LOOK_NONE;
    case GRAPH_NODE_FUNCTION:
    default:
      return GRAPH_LOOK_FUNCTION;
    }
}

static void
check_mark (cairo_t *cr,
            double   x,
            double   y,
            double   size)
{
  cairo_move_to (cr, x, y + size * 0.55);
  cairo_line_to (cr, x + size * 0.38, y + size * 0.9);
  cairo_line_to (cr, x + size, y + size * 0.1);
}

/* Badges sit on a box's corners, clear of its centred text. */
#define BADGE_RADIUS 6.0

/* The saved-tensors badge: a filled disc while held, a struck ring once freed. */
void
graph_paint_saved_badge (cairo_t          *cr,
                         const GraphTheme *theme,
                         double            cx,
                         double            cy,
                         gboolean          held,
                         double            alpha)
{
  double r = BADGE_RADIUS - 1;

  cairo_new_path (cr);
  cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
  set_color (cr, held ? &theme->saved : &theme->background, alpha);
  cairo_fill_preserve (cr);
  set_color (cr, held ? &theme->background : &theme->text_dim, alpha);
  cairo_set_line_width (cr, 1.2);
  cairo_stroke (cr);
  if (held)
    return;
  cairo_move_to (cr, cx - r * 0.7, cy + r * 0.7);
  cairo_line_to (cr, cx + r * 0.7, cy - r * 0.7);
  cairo_stroke (cr);
}

/* The done badge: a check in a disc. */
void
graph_paint_done_badge (cairo_t          *cr,
                        const GraphTheme *theme,
                        double            cx,
                        double            cy,
                        double            alpha)
{
  cairo_new_path (cr);
  cairo_arc (cr, cx, cy, BADGE_RADIUS, 0, 2 * G_PI);
  set_color (cr, &theme->done, alpha);
  cairo_fill (cr);
  set_color (cr, &theme->background, alpha);
  cairo_set_line_width (cr, 1.8);
  check_mark (cr, cx - 3.5, cy - 3.5, 7);
  cairo_stroke (cr);
}

void
graph_node_style (const GraphTheme *theme,
                  GraphLook         look,
                  NodeState         state,
                  GraphNodeStyle   *style)
{
  style->border_width = 1.2;
  style->dashed = FALSE;

  switch (look)
    {
    case GRAPH_LOOK_LEAF:
      style->fill = theme->leaf_fill;
      style->border = theme->leaf_border;
      style->text = theme->text;
      style->dim = theme->text_dim;
      break;
    case GRAPH_LOOK_FROZEN:
      style->fill = theme->frozen_fill;
      style->border = theme->frozen_border;
      style->text = style->dim = theme->frozen_text;
      style->dashed = TRUE;
      break;
    case GRAPH_LOOK_NONE:
      style->fill = theme->background;
      style->border = theme->none_border;
      style->text = style->dim = theme->none_text;
      style->dashed = TRUE;
      break;
    case GRAPH_LOOK_COLLAPSED:
      style->fill = theme->collapsed_fill;
      style->border = theme->collapsed_border;
      style->text = theme->text;
      style->dim = theme->text_dim;
      style->border_width = 1.5;
      break;
    case GRAPH_LOOK_FUNCTION:
    default:
      style->fill = theme->node_fill;
      style->border = theme->node_border;
      style->text = theme->text;
      style->dim = theme->text_dim;
      break;
    }
  style->status = style->dim;

  switch (state)
    {
    case NODE_RUNNING:
      style->border = theme->running;
      style->border_width = 3.0;
      break;
    case NODE_READY:
      style->border = theme->running;
      style->border_width = 2.0;
      style->dashed = TRUE;
      break;
    case NODE_WAITING:
      style->border = theme->waiting;
      style->border_width = 2.0;
      style->status = theme->waiting;
      break;
    case NODE_DONE:
      /* Leaves keep their colour: a parameter stays recognisable after backward. */
      if (look == GRAPH_LOOK_FUNCTION)
        style->fill = color_mix (&style->fill, &theme->done, theme->dark ? 0.30 : 0.18);
      style->border = theme->done;
      style->border_width = 1.8;
      break;
    case NODE_IDLE:
    default:
      break;
    }
}

static void
paint_node (cairo_t               *cr,
            const GraphLayout     *layout,
            const GraphPaintState *state,
            int                    index,
            const GraphRect       *r,
            double                 alpha,
            gboolean               show_text)
{
  const GraphTheme *theme = state->theme;
  const GraphLayoutNode *ln = &layout->nodes[index];
  const GraphModelNode *mn = ln->model_index >= 0 ? &layout->model->nodes[ln->model_index] : NULL;
  GraphLook look = node_look (layout, ln);
  NodeState node_state = mn != NULL ? mn->state : NODE_IDLE;
  GraphNodeStyle style;
  g_autofree char *status = NULL;
  double y;

  /* A folded module: the state of what it holds, and its status line. */
  if (mn == NULL && ln->module_path != NULL)
    {
      GraphModuleState ms;

      graph_model_module_state (layout->model, ln->module_path, &ms);
      node_state = ms.running > 0 ? NODE_RUNNING
                   : ms.active > 0 ? NODE_WAITING
                   : ms.functions > 0 && ms.done == ms.functions ? NODE_DONE
                   : NODE_IDLE;
      status = graph_module_status_text (&ms);
    }
  if (index == state->current)
    node_state = NODE_RUNNING;
  graph_node_style (theme, look, node_state, &style);

  if (node_state == NODE_RUNNING)
    {
      /* A glow around the node being run, visible when zoomed out. */
      rounded_rect (cr, &(GraphRect) { r->x - 3, r->y - 3, r->width + 6, r->height + 6 },
                    GRAPH_NODE_RADIUS + 3);
      set_color (cr, &theme->running, 0.35 * alpha);
      cairo_set_line_width (cr, 8);
      cairo_stroke (cr);
    }

  if (look == GRAPH_LOOK_COLLAPSED)
    {
      /* A stack of boxes: a module with more inside. */
      rounded_rect (cr, &(GraphRect) { r->x + 4, r->y + 4, r->width, r->height },
                    GRAPH_NODE_RADIUS);
      set_color (cr, &style.fill, alpha);
      cairo_fill_preserve (cr);
      set_color (cr, &style.border, alpha);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }

  rounded_rect (cr, r, look == GRAPH_LOOK_NONE ? r->height / 2 : GRAPH_NODE_RADIUS);
  set_color (cr, &style.fill, alpha);
  cairo_fill_preserve (cr);
  set_color (cr, &style.border, alpha);
  cairo_set_line_width (cr, style.border_width);
  if (style.dashed)
    cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (node_state == NODE_DONE)
    graph_paint_done_badge (cr, theme, r->x + 1, r->y + 1, alpha);

  if (mn != NULL && mn->kind == GRAPH_NODE_FUNCTION && (mn->has_saved || mn->saved_freed))
    graph_paint_saved_badge (cr, theme, r->x + r->width - 1, r->y + 1, mn->has_saved, alpha);

  if (!show_text)
    {
      /* Too small to read: grey bars where the lines are keep the shape. */
      y = r->y + GRAPH_NODE_PAD_Y;
      set_color (cr, &style.dim, 0.35 * alpha);
      for (int k = 0; k < ln->n_lines; k++)
        {
          double h = graph_text_height (ln->lines[k].style);
          double w = MIN (graph_text_width (ln->lines[k].style, ln->lines[k].text),
                          r->width - 2 * GRAPH_NODE_PAD_X);

          cairo_rectangle (cr, r->x + (r->width - w) / 2, y + h * 0.2, w, h * 0.6);
          y += h + GRAPH_LINE_GAP;
        }
      cairo_fill (cr);
      return;
    }

  if (mn != NULL)
    status = graph_model_status_text (layout->model, ln->model_index);

  y = r->y + GRAPH_NODE_PAD_Y;
  for (int k = 0; k < ln->n_lines; k++)
    {
      const GraphLayoutLine *line = &ln->lines[k];
      const char *s = line->text;
      GraphColor c = line->style == GRAPH_TEXT_TITLE ? style.text : style.dim;

      if (line->kind == GRAPH_LINE_STATUS && status != NULL)
        {
          s = status;
          c = style.status;
        }
      set_color (cr, &c, alpha);
      show_text_centred (cr, line->style, s, r->x + r->width / 2,
                         y + graph_text_ascent (line->style));
      y += graph_text_height (line->style) + GRAPH_LINE_GAP;
    }
}

void
graph_paint_nodes (cairo_t               *cr,
                   const GraphLayout     *layout,
                   const GraphPaintState *state,
                   const GraphRect       *visible,
                   gboolean               show_text)
{
  for (int i = 0; i < layout->n_nodes; i++)
    {
      GraphRect r;
      double alpha = graph_paint_node_rect (layout, state, i, &r);
      GraphRect bounds = rect_grow (&r, 8);

      if (alpha <= 0.0 || !graph_rect_intersects (&bounds, visible))
        continue;
      paint_node (cr, layout, state, i, &r, alpha, show_text);
    }
}

void
graph_paint_highlights (cairo_t               *cr,
                        const GraphLayout     *layout,
                        const GraphPaintState *state)
{
  const GraphTheme *theme = state->theme;

  if (state->hovered >= 0 && state->hovered < layout->n_nodes
      && state->hovered != state->selected)
    {
      GraphRect r;

      graph_paint_node_rect (layout, state, state->hovered, &r);
      r = rect_grow (&r, 3);
      rounded_rect (cr, &r, GRAPH_NODE_RADIUS + 3);
      set_color (cr, &theme->selection, 0.5);
      cairo_set_line_width (cr, 2.0);
      cairo_stroke (cr);
    }

  if (state->selected >= 0 && state->selected < layout->n_nodes)
    {
      GraphRect r;

      graph_paint_node_rect (layout, state, state->selected, &r);
      r = rect_grow (&r, 4);
      rounded_rect (cr, &r, GRAPH_NODE_RADIUS + 4);
      set_color (cr, &theme->selection, 0.25);
      cairo_fill_preserve (cr);
      set_color (cr, &theme->selection, 1.0);
      cairo_set_line_width (cr, 3.0);
      cairo_stroke (cr);
    }
}

/* graph-paint.c: drawing a laid-out autograd graph on any cairo surface */

#include "graph-paint.h"

#include <math.h>
#include <string.h>

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

/* --- Transitions -------------------------------------------------------- */

struct _GraphTransition
{
  GHashTable *nodes;      /* guint64 key → GraphRect */
  GHashTable *clusters;   /* path → GraphRect */
};

static void
rect_lerp (GraphRect       *out,
           const GraphRect *a,
           const GraphRect *b,
           double           t)
{
  out->x = a->x + (b->x - a->x) * t;
  out->y = a->y + (b->y - a->y) * t;
  out->width = a->width + (b->width - a->width) * t;
  out->height = a->height + (b->height - a->height) * t;
}

/* A module called twice has a cluster per call. */
static char *
cluster_key (const GraphLayoutCluster *c)
{
  return g_strdup_printf ("%s#%d", c->path, c->call);
}

GraphTransition *
graph_transition_new (const GraphLayout     *from,
                      const GraphTransition *running,
                      double                 progress)
{
  GraphTransition *tr = g_new0 (GraphTransition, 1);

  tr->nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  tr->clusters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (from == NULL)
    return tr;

  for (int i = 0; i < from->n_nodes; i++)
    {
      const GraphLayoutNode *ln = &from->nodes[i];
      GraphRect *rect = g_new (GraphRect, 1);
      const GraphRect *old;

      *rect = ln->rect;
      /* Mid-animation, a box is between its old place and this one. */
      if (running != NULL && (old = g_hash_table_lookup (running->nodes, &ln->key)) != NULL)
        rect_lerp (rect, old, &ln->rect, progress);
      g_hash_table_insert (tr->nodes, g_memdup2 (&ln->key, sizeof ln->key), rect);
    }

  for (int i = 0; i < from->n_clusters; i++)
    {
      const GraphLayoutCluster *c = &from->clusters[i];
      GraphRect *rect = g_new (GraphRect, 1);
      const GraphRect *old;
      char *key = cluster_key (c);

      *rect = c->rect;
      if (running != NULL && (old = g_hash_table_lookup (running->clusters, key)) != NULL)
        rect_lerp (rect, old, &c->rect, progress);
      g_hash_table_insert (tr->clusters, key, rect);
    }

  return tr;
}

void
graph_transition_free (GraphTransition *transition)
{
  if (transition == NULL)
    return;

  g_hash_table_unref (transition->nodes);
  g_hash_table_unref (transition->clusters);
  g_free (transition);
}

double
graph_paint_node_rect (const GraphLayout     *layout,
                       const GraphPaintState *state,
                       int                    node,
                       GraphRect             *rect)
{
  const GraphLayoutNode *ln;
  const GraphRect *old;

  g_return_val_if_fail (layout != NULL && node >= 0 && node < layout->n_nodes, 0);
  ln = &layout->nodes[node];
  *rect = ln->rect;

  if (state == NULL || state->transition == NULL || state->progress >= 1.0)
    return 1.0;

  old = g_hash_table_lookup (state->transition->nodes, &ln->key);
  if (old == NULL)
    return CLAMP (state->progress, 0.0, 1.0);   /* a new box fades in where it lands */
  rect_lerp (rect, old, &ln->rect, state->progress);

  return 1.0;
}

static double
cluster_rect (const GraphLayout     *layout,
              const GraphPaintState *state,
              int                    cluster,
              GraphRect             *rect)
{
  const GraphLayoutCluster *c = &layout->clusters[cluster];
  g_autofree char *key = NULL;
  const GraphRect *old;

  *rect = c->rect;
  if (state->transition == NULL || state->progress >= 1.0)
    return 1.0;

  key = cluster_key (c);
  old = g_hash_table_lookup (state->transition->clusters, key);
  if (old == NULL)
    return CLAMP (state->progress, 0.0, 1.0);
  rect_lerp (rect, old, &c->rect, state->progress);

  return 1.0;
}

/* --- Helpers ------------------------------------------------------------ */

/* Below this many pixels an 11-point line is unreadable: boxes show grey bars
 * where their lines are, and cluster labels are left out. */
#define MIN_TEXT_PIXELS 5.0

static void
set_color (cairo_t          *cr,
           const GraphColor *c,
           double            alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static GraphColor
color_mix (const GraphColor *a,
           const GraphColor *b,
           double            t)
{
  return (GraphColor) {
    a->red + (b->red - a->red) * t,
    a->green + (b->green - a->green) * t,
    a->blue + (b->blue - a->blue) * t,
    a->alpha + (b->alpha - a->alpha) * t,
  };
}

static void
rounded_rect (cairo_t         *cr,
              const GraphRect *r,
              double           radius)
{
  double x = r->x, y = r->y, w = r->width, h = r->height;

  radius = MIN (radius, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - radius, y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, x + w - radius, y + h - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, x + radius, y + h - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, x + radius, y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static GraphRect
rect_grow (const GraphRect *r,
           double           d)
{
  return (GraphRect) { r->x - d, r->y - d, r->width + 2 * d, r->height + 2 * d };
}

static void
show_text_centred (cairo_t        *cr,
                   GraphTextStyle  style,
                   const char     *text,
                   double          cx,
                   double          baseline)
{
  graph_text_select (cr, style);
  cairo_move_to (cr, cx - graph_text_width (style, text) / 2, baseline);
  cairo_show_text (cr, text);
}

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
      double alpha = cluster_rect (layout, state, i, &r);
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
      double alpha = cluster_rect (layout, state, i, &r);
      GraphColor fill;
      double width;

      if (!graph_rect_intersects (&r, visible))
        continue;

      /* In the strip dot reserved at the top; dot made the cluster wide enough. */
      fill = cluster_color (theme, c->depth);
      width = MIN (graph_text_width (GRAPH_TEXT_CLUSTER, c->label) + 4,
                   r.width - GRAPH_CLUSTER_PAD);
      set_color (cr, &fill, alpha);
      cairo_rectangle (cr, r.x + GRAPH_CLUSTER_PAD - 2, r.y + GRAPH_CLUSTER_PAD / 2,
                       width, graph_text_height (GRAPH_TEXT_CLUSTER));
      cairo_fill (cr);
      set_color (cr, &theme->cluster_text, alpha);
      cairo_move_to (cr, r.x + GRAPH_CLUSTER_PAD, r.y + GRAPH_CLUSTER_PAD / 2 + ascent);
      cairo_show_text (cr, c->label);
    }
}

/* --- Edges -------------------------------------------------------------- */

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

static void
paint_edges (cairo_t               *cr,
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

/* --- Boxes -------------------------------------------------------------- */

typedef enum
{
  LOOK_FUNCTION,
  LOOK_LEAF,
  LOOK_FROZEN,
  LOOK_NONE,
  LOOK_COLLAPSED,
} Look;

static Look
node_look (const GraphLayout     *layout,
           const GraphLayoutNode *ln)
{
  const GraphModelNode *mn;

  if (ln->model_index < 0)
    return LOOK_COLLAPSED;
  mn = &layout->model->nodes[ln->model_index];
  switch (mn->kind)
    {
    case GRAPH_NODE_LEAF:
      return mn->frozen ? LOOK_FROZEN : LOOK_LEAF;
    case GRAPH_NODE_NONE:
      return mn->frozen ? LOOK_FROZEN : LOOK_NONE;
    case GRAPH_NODE_FUNCTION:
    default:
      return LOOK_FUNCTION;
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
static void
saved_badge (cairo_t          *cr,
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
static void
done_badge (cairo_t          *cr,
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
  Look look = node_look (layout, ln);
  NodeState node_state = mn != NULL ? mn->state : NODE_IDLE;
  GraphColor fill, border, text, dim, status_color;
  double border_width = 1.2;
  gboolean dashed = FALSE;
  g_autofree char *status = NULL;
  double y;

  if (index == state->current)
    node_state = NODE_RUNNING;

  switch (look)
    {
    case LOOK_LEAF:
      fill = theme->leaf_fill;
      border = theme->leaf_border;
      text = theme->text;
      dim = theme->text_dim;
      break;
    case LOOK_FROZEN:
      fill = theme->frozen_fill;
      border = theme->frozen_border;
      text = dim = theme->frozen_text;
      dashed = TRUE;
      break;
    case LOOK_NONE:
      fill = theme->background;
      border = theme->none_border;
      text = dim = theme->none_text;
      dashed = TRUE;
      break;
    case LOOK_COLLAPSED:
      fill = theme->collapsed_fill;
      border = theme->collapsed_border;
      text = theme->text;
      dim = theme->text_dim;
      border_width = 1.5;
      break;
    case LOOK_FUNCTION:
    default:
      fill = theme->node_fill;
      border = theme->node_border;
      text = theme->text;
      dim = theme->text_dim;
      break;
    }
  status_color = dim;

  switch (node_state)
    {
    case NODE_RUNNING:
      border = theme->running;
      border_width = 3.0;
      /* A glow around the node being run, visible when zoomed out. */
      rounded_rect (cr, &(GraphRect) { r->x - 3, r->y - 3, r->width + 6, r->height + 6 },
                    GRAPH_NODE_RADIUS + 3);
      set_color (cr, &theme->running, 0.35 * alpha);
      cairo_set_line_width (cr, 8);
      cairo_stroke (cr);
      break;
    case NODE_READY:
      border = theme->running;
      border_width = 2.0;
      dashed = TRUE;
      break;
    case NODE_WAITING:
      border = theme->waiting;
      border_width = 2.0;
      status_color = theme->waiting;
      break;
    case NODE_DONE:
      /* Leaves keep their colour: a parameter stays recognisable after backward. */
      if (look == LOOK_FUNCTION)
        fill = color_mix (&fill, &theme->done, theme->dark ? 0.30 : 0.18);
      border = theme->done;
      border_width = 1.8;
      break;
    case NODE_IDLE:
    default:
      break;
    }

  if (look == LOOK_COLLAPSED)
    {
      /* A stack of boxes: a module with more inside. */
      rounded_rect (cr, &(GraphRect) { r->x + 4, r->y + 4, r->width, r->height },
                    GRAPH_NODE_RADIUS);
      set_color (cr, &fill, alpha);
      cairo_fill_preserve (cr);
      set_color (cr, &border, alpha);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }

  rounded_rect (cr, r, look == LOOK_NONE ? r->height / 2 : GRAPH_NODE_RADIUS);
  set_color (cr, &fill, alpha);
  cairo_fill_preserve (cr);
  set_color (cr, &border, alpha);
  cairo_set_line_width (cr, border_width);
  if (dashed)
    cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (node_state == NODE_DONE)
    done_badge (cr, theme, r->x + 1, r->y + 1, alpha);

  if (mn != NULL && mn->kind == GRAPH_NODE_FUNCTION && (mn->has_saved || mn->saved_freed))
    saved_badge (cr, theme, r->x + r->width - 1, r->y + 1, mn->has_saved, alpha);

  if (!show_text)
    {
      /* Too small to read: grey bars where the lines are keep the shape. */
      y = r->y + GRAPH_NODE_PAD_Y;
      set_color (cr, &dim, 0.35 * alpha);
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
      GraphColor c = line->style == GRAPH_TEXT_TITLE ? text : dim;

      if (line->kind == GRAPH_LINE_STATUS && status != NULL)
        {
          s = status;
          c = status_color;
        }
      set_color (cr, &c, alpha);
      show_text_centred (cr, line->style, s, r->x + r->width / 2,
                         y + graph_text_ascent (line->style));
      y += graph_text_height (line->style) + GRAPH_LINE_GAP;
    }
}

static void
paint_nodes (cairo_t               *cr,
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

static void
paint_highlights (cairo_t               *cr,
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

/* --- Legend ------------------------------------------------------------- */

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
  [ENTRY_FUNCTION]  = "grad_fn: PyTorch’s name, module, shape",
  [ENTRY_LEAF]      = "AccumulateGrad: parameter, shape, .grad",
  [ENTRY_FROZEN]    = "frozen parameter (requires_grad=False)",
  [ENTRY_NONE]      = "None in next_functions",
  [ENTRY_COLLAPSED] = "collapsed module",
  [ENTRY_RUNNING]   = "running now",
  [ENTRY_READY]     = "ready: all gradients arrived",
  [ENTRY_WAITING]   = "waiting: “2 of 3 gradients arrived”",
  [ENTRY_DONE]      = "done in this backward",
  [ENTRY_SAVED]     = "saved tensors held for backward",
  [ENTRY_FREED]     = "saved tensors freed",
  [ENTRY_GRAD]      = "‖gradient‖ along an edge, log scale",
};

static char *
grad_range_text (const GraphLayout *layout)
{
  double lo, hi;

  if (!graph_layout_grad_range (layout, &lo, &hi))
    return g_strdup ("(after backward)");

  return g_strdup_printf ("%.2g … %.2g", lo, hi);
}

void
graph_legend_size (const GraphLayout *layout,
                   double            *width,
                   double            *height)
{
  g_autofree char *range = grad_range_text (layout);
  double w = graph_text_width (GRAPH_TEXT_TITLE, "Legend");

  for (int i = 0; i < ENTRY_COUNT; i++)
    w = MAX (w, LEGEND_SWATCH_W + 8 + graph_text_width (GRAPH_TEXT_LEGEND, legend_text[i]));
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
  GraphColor fill = theme->node_fill, border = theme->node_border;
  double width = 1.2;
  gboolean dashed = FALSE;

  switch (entry)
    {
    case ENTRY_LEAF:
      fill = theme->leaf_fill;
      border = theme->leaf_border;
      break;
    case ENTRY_FROZEN:
      fill = theme->frozen_fill;
      border = theme->frozen_border;
      dashed = TRUE;
      break;
    case ENTRY_NONE:
      fill = theme->background;
      border = theme->none_border;
      dashed = TRUE;
      break;
    case ENTRY_COLLAPSED:
      fill = theme->collapsed_fill;
      border = theme->collapsed_border;
      rounded_rect (cr, &(GraphRect) { r->x + 3, r->y + 3, r->width - 3, r->height - 3 }, 4);
      set_color (cr, &fill, 1);
      cairo_fill_preserve (cr);
      set_color (cr, &border, 1);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
      break;
    case ENTRY_RUNNING:
      border = theme->running;
      width = 3;
      break;
    case ENTRY_READY:
      border = theme->running;
      width = 2;
      dashed = TRUE;
      break;
    case ENTRY_WAITING:
      border = theme->waiting;
      width = 2;
      break;
    case ENTRY_DONE:
      fill = color_mix (&fill, &theme->done, theme->dark ? 0.30 : 0.18);
      border = theme->done;
      width = 1.8;
      break;
    case ENTRY_SAVED:
    case ENTRY_FREED:
      saved_badge (cr, theme, r->x + r->width / 2, r->y + r->height / 2, entry == ENTRY_SAVED, 1);
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

  rounded_rect (cr, r, 4);
  set_color (cr, &fill, 1);
  cairo_fill_preserve (cr);
  set_color (cr, &border, 1);
  cairo_set_line_width (cr, width);
  if (dashed)
    cairo_set_dash (cr, (double[]){ 4, 3 }, 2, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (entry == ENTRY_DONE)
    done_badge (cr, theme, r->x + 1, r->y + 1, 1);
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
  cairo_show_text (cr, "Legend");

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
      cairo_show_text (cr, legend_text[i]);
      row_y += LEGEND_ROW;
      if (i == ENTRY_GRAD)
        {
          set_color (cr, &theme->text_dim, 1);
          cairo_move_to (cr, x + LEGEND_PAD + LEGEND_SWATCH_W + 8, baseline + LEGEND_ROW);
          cairo_show_text (cr, range);
          row_y += LEGEND_ROW;
        }
    }

  cairo_restore (cr);
}

/* --- The picture -------------------------------------------------------- */

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
      paint_edges (cr, layout, state, &visible);
      paint_cluster_labels (cr, layout, state, &visible, show_text);
      paint_nodes (cr, layout, state, &visible, show_text);
    }
  if (state->layers & GRAPH_PAINT_HIGHLIGHTS)
    paint_highlights (cr, layout, state);
  cairo_restore (cr);

  if (state->layers & GRAPH_PAINT_LEGEND)
    graph_paint_legend (cr, layout, state->theme, 12, 12);

  cairo_restore (cr);
}

/* graph-paint-private.h: what the painter's files share (graph-paint.h is the API)
 *
 *   graph-paint.c             themes, the paint state, module clusters, the whole picture
 *   graph-paint-transition.c  where boxes and clusters are, mid-animation
 *   graph-paint-edges.c       edges: splines, arrows, width and colour by gradient
 *   graph-paint-nodes.c       boxes, their badges, the selection and hover rings
 *   graph-paint-legend.c      the legend, one swatch per look
 */
#pragma once

#include "graph-paint.h"

G_BEGIN_DECLS

static inline void
set_color (cairo_t          *cr,
           const GraphColor *c,
           double            alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static inline GraphColor
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

static inline void
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

static inline GraphRect
rect_grow (const GraphRect *r,
           double           d)
{
  return (GraphRect) { r->x - d, r->y - d, r->width + 2 * d, r->height + 2 * d };
}

/* How a box looks: by what it is, then by its state in the backward pass. */
typedef enum
{
  GRAPH_LOOK_FUNCTION,
  GRAPH_LOOK_LEAF,
  GRAPH_LOOK_FROZEN,
  GRAPH_LOOK_NONE,
  GRAPH_LOOK_COLLAPSED,
} GraphLook;

typedef struct
{
  GraphColor fill, border;
  GraphColor text, dim;   /* the title line; the others */
  GraphColor status;      /* the status line ("2 of 3 gradients arrived") */
  double border_width;
  gboolean dashed;
} GraphNodeStyle;

/* graph-paint-nodes.c; the graph's boxes and the legend's swatches both. */
void   graph_node_style         (const GraphTheme      *theme,
                                 GraphLook              look,
                                 NodeState              state,
                                 GraphNodeStyle        *style);

/* A cluster's rectangle at this point of the transition; its opacity
 * (graph_paint_node_rect's twin, graph-paint-transition.c). */
double graph_paint_cluster_rect (const GraphLayout     *layout,
                                 const GraphPaintState *state,
                                 int                    cluster,
                                 GraphRect             *rect);

/* graph-paint-edges.c; visible: the graph rectangle on screen, to cull by. */
void   graph_paint_edges        (cairo_t               *cr,
                                 const GraphLayout     *layout,
                                 const GraphPaintState *state,
                                 const GraphRect       *visible);

/* Small gradients' values and their rule, on their edges (graph-paint-edges.c). */
void   graph_paint_edge_values  (cairo_t               *cr,
                                 const GraphLayout     *layout,
                                 const GraphPaintState *state,
                                 const GraphRect       *visible);
/* graph-paint-nodes.c; show_text FALSE: grey bars where the lines are. */
void   graph_paint_nodes        (cairo_t               *cr,
                                 const GraphLayout     *layout,
                                 const GraphPaintState *state,
                                 const GraphRect       *visible,
                                 gboolean               show_text);
void   graph_paint_highlights   (cairo_t               *cr,
                                 const GraphLayout     *layout,
                                 const GraphPaintState *state);
/* The saved-tensors badge (held, or freed) and the done badge, centred on (cx, cy). */
void   graph_paint_saved_badge  (cairo_t               *cr,
                                 const GraphTheme      *theme,
                                 double                 cx,
                                 double                 cy,
                                 gboolean               held,
                                 double                 alpha);
void   graph_paint_done_badge   (cairo_t               *cr,
                                 const GraphTheme      *theme,
                                 double                 cx,
                                 double                 cy,
                                 double                 alpha);

G_END_DECLS

/* viewport.c: the graph view's camera, without a widget */

#include "viewport.h"

#include <math.h>

void
viewport_init (Viewport *vp,
               double    width,
               double    height)
{
  g_return_if_fail (vp != NULL);

  *vp = (Viewport) {
    .zoom = 1.0,
    .width = MAX (width, 1.0),
    .height = MAX (height, 1.0),
    .min_zoom = VIEWPORT_MIN_ZOOM,
    .max_zoom = VIEWPORT_MAX_ZOOM,
  };
}

void
viewport_set_size (Viewport *vp,
                   double    width,
                   double    height)
{
  double cx, cy;

  g_return_if_fail (vp != NULL);

  viewport_screen_to_graph (vp, vp->width / 2, vp->height / 2, &cx, &cy);
  vp->width = MAX (width, 1.0);
  vp->height = MAX (height, 1.0);
  viewport_anchor (vp, cx, cy, vp->width / 2, vp->height / 2);
}

void
viewport_graph_to_screen (const Viewport *vp,
                          double          gx,
                          double          gy,
                          double         *sx,
                          double         *sy)
{
  *sx = (gx - vp->origin_x) * vp->zoom;
  *sy = (gy - vp->origin_y) * vp->zoom;
}

void
viewport_screen_to_graph (const Viewport *vp,
                          double          sx,
                          double          sy,
                          double         *gx,
                          double         *gy)
{
  *gx = vp->origin_x + sx / vp->zoom;
  *gy = vp->origin_y + sy / vp->zoom;
}

void
viewport_anchor (Viewport *vp,
                 double    gx,
                 double    gy,
                 double    sx,
                 double    sy)
{
  g_return_if_fail (vp != NULL);

  vp->origin_x = gx - sx / vp->zoom;
  vp->origin_y = gy - sy / vp->zoom;
}

static double
clamp_zoom (const Viewport *vp,
            double          zoom)
{
  if (!isfinite (zoom) || zoom <= 0)
    return vp->zoom;

  return CLAMP (zoom, vp->min_zoom, vp->max_zoom);
}

void
viewport_zoom_at (Viewport *vp,
                  double    zoom,
                  double    sx,
                  double    sy)
{
  double gx, gy;

  g_return_if_fail (vp != NULL);

  viewport_screen_to_graph (vp, sx, sy, &gx, &gy);
  vp->zoom = clamp_zoom (vp, zoom);
  viewport_anchor (vp, gx, gy, sx, sy);
}

void
viewport_scroll (Viewport *vp,
                 double    dx,
                 double    dy)
{
  g_return_if_fail (vp != NULL);

  vp->origin_x += dx / vp->zoom;
  vp->origin_y += dy / vp->zoom;
}

void
viewport_fit (Viewport        *vp,
              const GraphRect *rect,
              double           margin,
              double           max_zoom)
{
  double avail_w, avail_h, zoom;

  g_return_if_fail (vp != NULL && rect != NULL);

  avail_w = MAX (vp->width - 2 * margin, 1.0);
  avail_h = MAX (vp->height - 2 * margin, 1.0);
  zoom = MIN (avail_w / MAX (rect->width, 1.0), avail_h / MAX (rect->height, 1.0));
  if (max_zoom > 0)
    zoom = MIN (zoom, max_zoom);
  vp->zoom = clamp_zoom (vp, zoom);
  viewport_center_on (vp, rect->x + rect->width / 2, rect->y + rect->height / 2);
}

void
viewport_center_on (Viewport *vp,
                    double    gx,
                    double    gy)
{
  g_return_if_fail (vp != NULL);

  viewport_anchor (vp, gx, gy, vp->width / 2, vp->height / 2);
}

/* The shift along one axis that brings [lo, hi] into [view_lo, view_hi]. */
static double
shift_into (double lo,
            double hi,
            double view_lo,
            double view_hi)
{
  if (hi - lo > view_hi - view_lo)
    return (lo + hi) / 2 - (view_lo + view_hi) / 2;
  if (lo < view_lo)
    return lo - view_lo;
  if (hi > view_hi)
    return hi - view_hi;

  return 0;
}

gboolean
viewport_ensure_visible (Viewport        *vp,
                         const GraphRect *rect,
                         double           margin)
{
  GraphRect view;
  double m, dx, dy;

  g_return_val_if_fail (vp != NULL && rect != NULL, FALSE);

  viewport_get_visible (vp, &view);
  m = MIN (margin / vp->zoom, MIN (view.width, view.height) / 4);
  dx = shift_into (rect->x, rect->x + rect->width, view.x + m, view.x + view.width - m);
  dy = shift_into (rect->y, rect->y + rect->height, view.y + m, view.y + view.height - m);
  vp->origin_x += dx;
  vp->origin_y += dy;

  return dx != 0 || dy != 0;
}

void
viewport_get_visible (const Viewport *vp,
                      GraphRect      *rect)
{
  g_return_if_fail (vp != NULL && rect != NULL);

  rect->x = vp->origin_x;
  rect->y = vp->origin_y;
  rect->width = vp->width / vp->zoom;
  rect->height = vp->height / vp->zoom;
}

void
viewport_interpolate (Viewport       *out,
                      const Viewport *a,
                      const Viewport *b,
                      double          t)
{
  double acx, acy, bcx, bcy;
  Viewport result = *b;

  g_return_if_fail (out != NULL && a != NULL && b != NULL);

  t = CLAMP (t, 0.0, 1.0);
  viewport_screen_to_graph (a, a->width / 2, a->height / 2, &acx, &acy);
  viewport_screen_to_graph (b, b->width / 2, b->height / 2, &bcx, &bcy);
  result.zoom = exp (log (a->zoom) + (log (b->zoom) - log (a->zoom)) * t);
  viewport_anchor (&result, acx + (bcx - acx) * t, acy + (bcy - acy) * t,
                   result.width / 2, result.height / 2);
  *out = result;
}

gboolean
graph_rect_intersects (const GraphRect *a,
                       const GraphRect *b)
{
  return a->x < b->x + b->width && b->x < a->x + a->width
         && a->y < b->y + b->height && b->y < a->y + a->height;
}

gboolean
graph_rect_contains (const GraphRect *r,
                     double           x,
                     double           y)
{
  return x >= r->x && x <= r->x + r->width && y >= r->y && y <= r->y + r->height;
}

/* viewport.h: the graph view's camera, without a widget
 *
 * A viewport maps graph coordinates (points, y down, as the layout gives them)
 * to screen pixels:  screen = (graph − origin) × zoom.  Zoom and pan are
 * anchored (libshumate's rule): remember the graph point under the pointer when
 * a gesture starts and keep it under the pointer, never accumulate deltas.
 *
 *   Viewport vp;
 *   viewport_init (&vp, 800, 600);
 *   viewport_fit (&vp, &(GraphRect){ 0, 0, layout->width, layout->height }, 24, 1.0);
 *   viewport_zoom_at (&vp, vp.zoom * 1.25, pointer_x, pointer_y); // point stays put
 *
 * Pure arithmetic: no cairo, no GTK; tested without a display.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double x, y, width, height;
} GraphRect;

typedef struct
{
  double zoom;            /* screen pixels per graph unit */
  double origin_x;        /* the graph point at the screen's top-left corner */
  double origin_y;
  double width, height;   /* the screen area, pixels */
  double min_zoom, max_zoom;
} Viewport;

#define VIEWPORT_MIN_ZOOM 0.05
#define VIEWPORT_MAX_ZOOM 8.0

void     viewport_init             (Viewport *vp, double width, double height);
/* Keeps the graph point at the centre of the screen where it was. */
void     viewport_set_size         (Viewport *vp, double width, double height);

void     viewport_graph_to_screen  (const Viewport *vp, double gx, double gy,
                                    double *sx, double *sy);
void     viewport_screen_to_graph  (const Viewport *vp, double sx, double sy,
                                    double *gx, double *gy);

/* Moves the camera so that graph point (gx, gy) is at screen point (sx, sy). */
void     viewport_anchor           (Viewport *vp, double gx, double gy, double sx, double sy);
/* Sets the zoom (clamped) keeping the graph point under screen point (sx, sy) fixed. */
void     viewport_zoom_at          (Viewport *vp, double zoom, double sx, double sy);
/* Scrolls by a screen distance: content moves up/left for positive dx, dy. */
void     viewport_scroll           (Viewport *vp, double dx, double dy);

/* The whole rect in view, centred, with margin pixels around, zoom at most max_zoom. */
void     viewport_fit              (Viewport *vp, const GraphRect *rect, double margin,
                                    double max_zoom);
void     viewport_center_on        (Viewport *vp, double gx, double gy);
/* Pans as little as possible to bring rect (graph units) into view with margin
 * pixels around it; centres it if it cannot fit. Returns TRUE if it moved. */
gboolean viewport_ensure_visible   (Viewport *vp, const GraphRect *rect, double margin);
/* The graph area on screen. */
void     viewport_get_visible      (const Viewport *vp, GraphRect *rect);

/* The camera part way from a to b (t in [0, 1]): the zoom moves geometrically,
 * the centre linearly, so an animated zoom feels uniform. Sizes come from b. */
void     viewport_interpolate      (Viewport *out, const Viewport *a, const Viewport *b, double t);

gboolean graph_rect_intersects     (const GraphRect *a, const GraphRect *b);
gboolean graph_rect_contains       (const GraphRect *r, double x, double y);

G_END_DECLS

/* graph-view-private.h: what the graph view's files share
 *
 * The widget is one class in four files by concern: the graph, its layout and the
 * API (graph-view.c); the camera and animations (graph-view-camera.c); drawing
 * (graph-view-draw.c); gestures, keys and tooltips (graph-view-input.c).
 */
#pragma once

#include "graph-view.h"

G_BEGIN_DECLS

#define NO_KEY             G_MAXUINT64
#define GROW_ANIMATION_US  (200 * G_TIME_SPAN_MILLISECOND)
#define CAMERA_ANIMATION_US (250 * G_TIME_SPAN_MILLISECOND)
#define ZOOM_STEP          1.25
#define SCROLL_STEP        40.0    /* pixels per wheel notch */
#define FIT_MARGIN         24.0
#define FOLLOW_MARGIN      48.0
/* Following the stepper, the camera never goes below this zoom: body text at
 * 11 px × 0.8 ≈ 9 px, still read without squinting. */
#define FOLLOW_MIN_ZOOM    0.8
#define PAN_MARGIN         256.0   /* drawn around the window, so small pans reuse the picture */
#define OVERLAY_MARGIN     12.0
#define MINIMAP_MAX_WIDTH  160.0
#define MINIMAP_MAX_HEIGHT 300.0
#define DRAG_THRESHOLD     4.0

struct _GraphView
{
  GtkWidget parent_instance;

  /* The graph: the newest snapshot, and the layout on screen (whose model may be
   * an older snapshot while the newest is being laid out). */
  GraphModel *model;
  GraphLayout *layout;
  GPtrArray *collapsed;           /* char *, NULL-terminated */
  GPtrArray *retired;             /* GraphModel * to let go of while the engine is paused */

  /* Layout off the UI thread: one at a time, the newest request wins. */
  GCancellable *cancellable;
  gboolean layout_running;
  gboolean layout_again;

  /* Boxes moving from the old layout to the new one. */
  GraphTransition *transition;
  gint64 transition_start;        /* frame time (µs); 0: not started */
  double transition_progress;     /* eased, 0 → 1 */
  guint tick_id;

  /* The camera, and its animation towards a target (search, follow). */
  Viewport viewport;
  Viewport camera_from, camera_to;
  gint64 camera_start;            /* 0: not started */
  gboolean camera_animating;
  gboolean user_moved;            /* the user panned or zoomed: no more auto-fit */

  /* Gestures */
  double drag_gx, drag_gy;        /* the graph point grabbed when the drag began */
  double drag_x, drag_y;
  gboolean drag_minimap;
  gboolean dragging;
  double pinch_zoom;
  double pinch_gx, pinch_gy;
  double pointer_x, pointer_y;
  gboolean pointer_inside;

  guint64 selected_key;
  guint64 hovered_key;
  guint64 current_key;
  gboolean follow;
  gboolean show_legend;
  gboolean show_minimap;
  double bottom_inset;            /* px along the bottom under the owner's overlays */
  /* A module folded or opened by a click: the next layout puts its box (or its
   * cluster) where it was on screen, instead of moving the camera. */
  char *anchor_path;
  double anchor_sx, anchor_sy;

  /* Drawing: the theme read from GTK, and the cached pictures. */
  GraphTheme theme;
  gboolean have_theme;
  GskRenderNode *graph_node;      /* the static graph, for graph_node_viewport */
  Viewport graph_node_viewport;
  GskRenderNode *minimap_node;
  GraphRect minimap_rect;         /* on screen */
  Viewport minimap_viewport;      /* graph → minimap, in the minimap's own coordinates */
  GskRenderNode *legend_node;
  double legend_width, legend_height;
};

/* graph-view.c */
int      graph_view_layout_index_of_key   (GraphView *self, guint64 key);
int      graph_view_box_of_key            (GraphView *self, guint64 key);
void     graph_view_rect_of_box           (GraphView *self, int box, GraphRect *rect);
void     graph_view_select_key            (GraphView *self, guint64 key);
/* Drops the cached pictures and queues a draw. */
void     graph_view_invalidate_pictures   (GraphView *self);

/* graph-view-camera.c */
void     graph_view_zoom_by               (GraphView *self, double factor, double sx, double sy);
void     graph_view_user_camera_changed   (GraphView *self);
void     graph_view_stop_camera_animation (GraphView *self);
void     graph_view_fit_now               (GraphView *self);
/* Brings box into view, animated; centre: centre on it rather than the least move. */
void     graph_view_reveal_box            (GraphView *self, int box, gboolean centre);
/* Follow mode: keeps the node being run (or just recorded) in view. */
void     graph_view_follow_running        (GraphView *self);
void     graph_view_set_anchor            (GraphView *self, const char *path, double sx, double sy);
gboolean graph_view_keep_anchor           (GraphView *self);
gboolean graph_view_module_origin         (const GraphLayout *layout, const char *path,
                                           double *gx, double *gy);
/* Runs the tick callback until the transition and the camera have arrived. */
void     graph_view_ensure_ticking        (GraphView *self);

/* graph-view-draw.c */
void     graph_view_snapshot_impl         (GtkWidget *widget, GtkSnapshot *snapshot);

/* graph-view-input.c */
void     graph_view_input_class_init      (GtkWidgetClass *widget_class);
void     graph_view_input_init            (GraphView *self);
gboolean graph_view_in_minimap            (GraphView *self, double x, double y);

G_END_DECLS

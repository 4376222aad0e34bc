/* graph-view-camera.c: the graph view's camera: fit, zoom, revealing a box, follow
 * mode; and the frame clock's tick that animates the camera and the boxes moving
 * to a new layout. A camera move is an eased interpolation between two viewports,
 * never accumulated deltas. */

#include "graph-view-private.h"

void
graph_view_stop_camera_animation (GraphView *self)
{
  self->camera_animating = FALSE;
}

static void
animate_camera_to (GraphView      *self,
                   const Viewport *target)
{
  self->camera_from = self->viewport;
  self->camera_to = *target;
  self->camera_start = 0;
  self->camera_animating = TRUE;
  graph_view_ensure_ticking (self);
}

static void
camera_changed (GraphView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The user moved the camera: it stays where they put it. */
void
graph_view_user_camera_changed (GraphView *self)
{
  self->user_moved = TRUE;
  graph_view_stop_camera_animation (self);
  camera_changed (self);
}

/* The whole graph in view, beside the legend when the window is wide enough. */
static void
fit_viewport (GraphView *self,
              Viewport  *vp)
{
  GraphRect graph = { 0, 0, self->layout->width, self->layout->height };
  /* Above the owner's overlays (the window's toolbar): nothing fitted under them. */
  GraphRect area = { 0, 0, vp->width, MAX (vp->height - self->bottom_inset, vp->height / 2) };
  Viewport part;
  double lw, lh;

  if (self->show_legend)
    {
      graph_legend_size (self->layout, &lw, &lh);
      if (vp->width - lw - 2 * OVERLAY_MARGIN >= 0.4 * vp->width)
        area = (GraphRect) { lw + 2 * OVERLAY_MARGIN - FIT_MARGIN, 0,
                             vp->width - lw - 2 * OVERLAY_MARGIN + FIT_MARGIN, area.height };
    }
  part = *vp;
  viewport_set_size (&part, area.width, area.height);
  viewport_fit (&part, &graph, FIT_MARGIN, 1.0);
  vp->zoom = part.zoom;
  viewport_anchor (vp, graph.width / 2, graph.height / 2, area.x + area.width / 2,
                   area.y + area.height / 2);
}

void
graph_view_set_bottom_inset (GraphView *self,
                             double     inset)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));

  self->bottom_inset = MAX (inset, 0);
}

void
graph_view_fit_now (GraphView *self)
{
  if (self->layout == NULL || self->layout->n_nodes == 0)
    return;

  graph_view_stop_camera_animation (self);
  fit_viewport (self, &self->viewport);
  camera_changed (self);
}

void
graph_view_zoom_by (GraphView *self,
                    double     factor,
                    double     sx,
                    double     sy)
{
  if (self->camera_animating)
    {
      self->viewport = self->camera_to;
      graph_view_stop_camera_animation (self);
    }
  viewport_zoom_at (&self->viewport, self->viewport.zoom * factor, sx, sy);
  graph_view_user_camera_changed (self);
}

void
graph_view_zoom_in (GraphView *self)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));

  graph_view_zoom_by (self, ZOOM_STEP, self->viewport.width / 2, self->viewport.height / 2);
}

void
graph_view_zoom_out (GraphView *self)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));

  graph_view_zoom_by (self, 1 / ZOOM_STEP, self->viewport.width / 2, self->viewport.height / 2);
}

void
graph_view_zoom_reset (GraphView *self)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));

  graph_view_zoom_by (self, 1.0 / self->viewport.zoom, self->viewport.width / 2,
                      self->viewport.height / 2);
}

void
graph_view_zoom_fit (GraphView *self)
{
  Viewport target;

  g_return_if_fail (GRAPH_IS_VIEW (self));

  if (self->layout == NULL || self->layout->n_nodes == 0)
    return;
  target = self->viewport;
  fit_viewport (self, &target);
  self->user_moved = FALSE;
  animate_camera_to (self, &target);
}

/* Brings box into view, animated; centre: centre on it rather than the least move. */
void
graph_view_reveal_box (GraphView *self,
                       int        box,
                       gboolean   centre)
{
  Viewport target = self->camera_animating ? self->camera_to : self->viewport;
  GraphRect rect;

  if (box < 0)
    return;
  graph_view_rect_of_box (self, box, &rect);
  if (centre)
    {
      /* Readable: at least 100 % when centring on a search match. */
      if (target.zoom < 1.0)
        target.zoom = 1.0;
      viewport_center_on (&target, rect.x + rect.width / 2, rect.y + rect.height / 2);
    }
  else if (!viewport_ensure_visible (&target, &rect, FOLLOW_MARGIN))
    return;
  animate_camera_to (self, &target);
}

/* Follow mode: keep the node being run (or just recorded) in view, legible
 * (at least FOLLOW_MIN_ZOOM: a fitted resnet18 is a strip of grey bars), clear
 * of the overlays: the camera moves as if the view ended above the owner's
 * toolbar (bottom_inset) and left of the minimap in the bottom-right corner. */
void
graph_view_follow_running (GraphView *self)
{
  const GraphModel *model;
  Viewport target, part;
  GraphRect rect;
  double usable;
  int box = -1;

  if (!self->follow || self->layout == NULL)
    return;
  model = self->layout->model;
  for (int i = 0; i < model->n_nodes && box < 0; i++)
    if (model->nodes[i].state == NODE_RUNNING)
      box = graph_layout_node_for_model (self->layout, i);
  /* Paused between two nodes: the one that runs next (the engine takes the
   * ready node recorded last, as PyTorch does), else the grad_fn that ran last
   * (they run from the latest recorded back: the done one recorded first). */
  if (box < 0)
    {
      int next = -1, last = -1;

      for (int i = 0; i < model->n_nodes; i++)
        {
          const GraphModelNode *mn = &model->nodes[i];

          if (mn->state == NODE_READY && (next < 0 || mn->seq > model->nodes[next].seq))
            next = i;
          if (mn->state == NODE_DONE && mn->kind == GRAPH_NODE_FUNCTION
              && (last < 0 || mn->seq < model->nodes[last].seq))
            last = i;
        }
      box = graph_layout_node_for_model (self->layout, next >= 0 ? next : last);
    }
  if (box < 0)
    box = graph_view_box_of_key (self, self->current_key);
  if (box < 0)
    return;

  target = self->camera_animating ? self->camera_to : self->viewport;
  graph_view_rect_of_box (self, box, &rect);
  usable = MAX (target.height - self->bottom_inset, target.height / 2);
  part = target;
  /* Left of the minimap too, which a followed graph (larger than the view) shows. */
  viewport_set_size (&part, self->show_minimap
                              ? MAX (target.width - MINIMAP_MAX_WIDTH - 8 - 2 * OVERLAY_MARGIN,
                                     target.width / 2)
                              : target.width,
                     usable);
  part.origin_x = target.origin_x;
  part.origin_y = target.origin_y;
  if (part.zoom < FOLLOW_MIN_ZOOM)
    {
      part.zoom = FOLLOW_MIN_ZOOM;
      viewport_center_on (&part, rect.x + rect.width / 2, rect.y + rect.height / 2);
    }
  else if (!viewport_ensure_visible (&part, &rect, FOLLOW_MARGIN))
    return;
  target.zoom = part.zoom;
  target.origin_x = part.origin_x;
  target.origin_y = part.origin_y;
  animate_camera_to (self, &target);
}

void
graph_view_set_anchor (GraphView  *self,
                       const char *path,
                       double      sx,
                       double      sy)
{
  g_free (self->anchor_path);
  self->anchor_path = g_strdup (path);
  self->anchor_sx = sx;
  self->anchor_sy = sy;
}

/* Where module path's box or cluster starts in layout, graph units. */
gboolean
graph_view_module_origin (const GraphLayout *layout,
                          const char        *path,
                          double            *gx,
                          double            *gy)
{
  for (int i = 0; i < layout->n_nodes; i++)
    if (layout->nodes[i].model_index < 0 && g_strcmp0 (layout->nodes[i].module_path, path) == 0)
      {
        *gx = layout->nodes[i].rect.x;
        *gy = layout->nodes[i].rect.y;
        return TRUE;
      }
  for (int i = 0; i < layout->n_clusters; i++)
    if (g_strcmp0 (layout->clusters[i].path, path) == 0)
      {
        *gx = layout->clusters[i].rect.x;
        *gy = layout->clusters[i].rect.y;
        return TRUE;
      }
  return FALSE;
}

/* A new layout after a fold: the module where it was. Returns FALSE (and
 * forgets the anchor) when there is none to keep. */
gboolean
graph_view_keep_anchor (GraphView *self)
{
  g_autofree char *path = g_steal_pointer (&self->anchor_path);
  double gx, gy;

  if (path == NULL || self->layout == NULL
      || !graph_view_module_origin (self->layout, path, &gx, &gy))
    return FALSE;
  graph_view_stop_camera_animation (self);
  viewport_anchor (&self->viewport, gx, gy, self->anchor_sx, self->anchor_sy);
  camera_changed (self);
  return TRUE;
}

/* --- Animation ---------------------------------------------------------- */

static gboolean
tick (GtkWidget     *widget,
      GdkFrameClock *frame_clock,
      gpointer       user_data)
{
  GraphView *self = GRAPH_VIEW (widget);
  gint64 now = gdk_frame_clock_get_frame_time (frame_clock);

  if (self->transition != NULL)
    {
      double t;

      if (self->transition_start == 0)
        self->transition_start = now;
      t = (double) (now - self->transition_start) / GROW_ANIMATION_US;
      self->transition_progress = graph_ease_out (t);
      g_clear_pointer (&self->graph_node, gsk_render_node_unref);
      if (t >= 1.0)
        {
          g_clear_pointer (&self->transition, graph_transition_free);
          self->transition_progress = 1.0;
          graph_view_invalidate_pictures (self);
        }
      gtk_widget_queue_draw (widget);
    }

  if (self->camera_animating)
    {
      double t;

      if (self->camera_start == 0)
        self->camera_start = now;
      t = (double) (now - self->camera_start) / CAMERA_ANIMATION_US;
      viewport_interpolate (&self->viewport, &self->camera_from, &self->camera_to,
                            graph_ease_out (t));
      if (t >= 1.0)
        {
          self->viewport = self->camera_to;
          self->camera_animating = FALSE;
        }
      camera_changed (self);
    }

  if (self->transition == NULL && !self->camera_animating)
    {
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

void
graph_view_ensure_ticking (GraphView *self)
{
  if (self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick, NULL, NULL);
}

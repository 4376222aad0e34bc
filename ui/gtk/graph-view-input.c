/* graph-view-input.c: the graph view's gestures, keys, tooltips and actions */

#include "graph-view-private.h"

#include <glib/gi18n.h>
#include <math.h>

/* --- Input -------------------------------------------------------------- */

gboolean
graph_view_in_minimap (GraphView *self,
                       double     x,
                       double     y)
{
  return self->show_minimap && self->minimap_rect.width > 0
         && graph_rect_contains (&self->minimap_rect, x, y);
}

static void
centre_on_minimap_point (GraphView *self,
                         double     x,
                         double     y)
{
  double gx, gy;

  viewport_screen_to_graph (&self->minimap_viewport, x - self->minimap_rect.x,
                            y - self->minimap_rect.y, &gx, &gy);
  viewport_center_on (&self->viewport, gx, gy);
  graph_view_user_camera_changed (self);
}

static int
box_at (GraphView *self,
        double     x,
        double     y)
{
  double gx, gy;

  if (self->layout == NULL || graph_view_in_minimap (self, x, y))
    return -1;
  viewport_screen_to_graph (&self->viewport, x, y, &gx, &gy);

  return graph_layout_node_at (self->layout, gx, gy);
}

static void
drag_begin (GtkGestureDrag *gesture,
            double          x,
            double          y,
            GraphView      *self)
{
  self->drag_x = x;
  self->drag_y = y;
  self->dragging = FALSE;
  self->drag_minimap = graph_view_in_minimap (self, x, y);
  if (self->drag_minimap)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      centre_on_minimap_point (self, x, y);
      return;
    }
  viewport_screen_to_graph (&self->viewport, x, y, &self->drag_gx, &self->drag_gy);
}

static void
drag_update (GtkGestureDrag *gesture,
             double          offset_x,
             double          offset_y,
             GraphView      *self)
{
  double x = self->drag_x + offset_x, y = self->drag_y + offset_y;

  if (self->drag_minimap)
    {
      centre_on_minimap_point (self, x, y);
      return;
    }
  if (!self->dragging && hypot (offset_x, offset_y) < DRAG_THRESHOLD)
    return;
  if (!self->dragging)
    {
      self->dragging = TRUE;
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
    }
  /* Anchored: the point grabbed stays under the pointer. */
  viewport_anchor (&self->viewport, self->drag_gx, self->drag_gy, x, y);
  graph_view_user_camera_changed (self);
}

static void
drag_end (GtkGestureDrag *gesture,
          double          offset_x,
          double          offset_y,
          GraphView      *self)
{
  self->dragging = FALSE;
  self->drag_minimap = FALSE;
  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
}

/* The module folded or opened stays where it is on screen (its top-left
 * corner), so the student sees what the click did. */
static void
anchor_module (GraphView  *self,
               const char *path)
{
  double gx, gy, sx, sy;

  if (graph_view_module_origin (self->layout, path, &gx, &gy))
    {
      viewport_graph_to_screen (&self->viewport, gx, gy, &sx, &sy);
      graph_view_set_anchor (self, path, sx, sy);
    }
}

static void
click_released (GtkGestureClick *gesture,
                int              n_press,
                double           x,
                double           y,
                GraphView       *self)
{
  int box;

  if (self->layout == NULL || graph_view_in_minimap (self, x, y))
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  box = box_at (self, x, y);

  /* A click on a module's ⊟ label folds it into one box, a click on a folded
   * box (⊞) opens it: one click, as the glyphs say. The second press of a
   * double click is not a second toggle. */
  if (n_press > 1)
    return;
  if (box >= 0 && self->layout->nodes[box].model_index < 0)
    {
      anchor_module (self, self->layout->nodes[box].module_path);
      graph_view_set_module_collapsed (self, self->layout->nodes[box].module_path, FALSE);
      return;
    }
  if (box < 0)
    {
      double gx, gy;
      int cluster;

      viewport_screen_to_graph (&self->viewport, x, y, &gx, &gy);
      cluster = graph_layout_cluster_label_at (self->layout, gx, gy);
      if (cluster >= 0)
        {
          anchor_module (self, self->layout->clusters[cluster].path);
          graph_view_set_module_collapsed (self, self->layout->clusters[cluster].path, TRUE);
          return;
        }
    }

  graph_view_select_key (self, box >= 0 ? self->layout->nodes[box].key : NO_KEY);
}

static void
motion (GtkEventControllerMotion *controller,
        double                    x,
        double                    y,
        GraphView                *self)
{
  int box = box_at (self, x, y);
  guint64 key = box >= 0 ? self->layout->nodes[box].key : NO_KEY;

  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  if (key != self->hovered_key)
    {
      self->hovered_key = key;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave (GtkEventControllerMotion *controller,
       GraphView                *self)
{
  self->pointer_inside = FALSE;
  if (self->hovered_key != NO_KEY)
    {
      self->hovered_key = NO_KEY;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static gboolean
scroll (GtkEventControllerScroll *controller,
        double                    dx,
        double                    dy,
        GraphView                *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (
    GTK_EVENT_CONTROLLER (controller));
  double x = self->pointer_inside ? self->pointer_x : self->viewport.width / 2;
  double y = self->pointer_inside ? self->pointer_y : self->viewport.height / 2;

  if (state & GDK_CONTROL_MASK)
    {
      /* Zoom about the point under the pointer: 10 % a notch. */
      graph_view_zoom_by (self, pow (1.1, -dy), x, y);
      return TRUE;
    }
  if (self->camera_animating)
    {
      self->viewport = self->camera_to;
      graph_view_stop_camera_animation (self);
    }
  if (state & GDK_SHIFT_MASK)
    viewport_scroll (&self->viewport, dy * SCROLL_STEP, dx * SCROLL_STEP);
  else
    viewport_scroll (&self->viewport, dx * SCROLL_STEP, dy * SCROLL_STEP);
  graph_view_user_camera_changed (self);

  return TRUE;
}

static void
pinch_begin (GtkGesture       *gesture,
             GdkEventSequence *sequence,
             GraphView        *self)
{
  double x, y;

  if (!gtk_gesture_get_bounding_box_center (gesture, &x, &y))
    return;
  self->pinch_zoom = self->viewport.zoom;
  viewport_screen_to_graph (&self->viewport, x, y, &self->pinch_gx, &self->pinch_gy);
  graph_view_stop_camera_animation (self);
}

static void
pinch_scale_changed (GtkGestureZoom *gesture,
                     double          scale,
                     GraphView      *self)
{
  double x, y;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    return;
  /* From the zoom and point at the start of the pinch, never by increments. */
  viewport_zoom_at (&self->viewport, self->pinch_zoom * scale, x, y);
  viewport_anchor (&self->viewport, self->pinch_gx, self->pinch_gy, x, y);
  graph_view_user_camera_changed (self);
}

static gboolean
query_tooltip (GtkWidget  *widget,
               int         x,
               int         y,
               gboolean    keyboard,
               GtkTooltip *tooltip)
{
  GraphView *self = GRAPH_VIEW (widget);
  int box = keyboard ? graph_view_box_of_key (self, self->selected_key) : box_at (self, x, y);
  const GraphLayoutNode *ln;
  g_autofree char *markup = NULL;
  GraphRect r;
  double sx, sy;

  if (box < 0)
    return FALSE;
  ln = &self->layout->nodes[box];
  if (ln->model_index >= 0)
    markup = graph_model_describe (self->layout->model, ln->model_index, TRUE);
  else
    {
      g_autofree char *path = g_markup_escape_text (ln->module_path, -1);

      markup = g_strdup_printf (_("<b>%s</b> (collapsed)\n%s\nDouble-click to open it."), path,
                                ln->lines[1].text);
    }
  gtk_tooltip_set_markup (tooltip, markup);

  graph_view_rect_of_box (self, box, &r);
  viewport_graph_to_screen (&self->viewport, r.x, r.y, &sx, &sy);
  gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) {
    (int) floor (sx), (int) floor (sy),
    (int) ceil (r.width * self->viewport.zoom), (int) ceil (r.height * self->viewport.zoom) });

  return TRUE;
}

/* --- Actions ------------------------------------------------------------ */

static void
zoom_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  graph_view_zoom_in (GRAPH_VIEW (widget));
}

static void
zoom_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  graph_view_zoom_out (GRAPH_VIEW (widget));
}

static void
zoom_reset_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  graph_view_zoom_reset (GRAPH_VIEW (widget));
}

static void
zoom_fit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  graph_view_zoom_fit (GRAPH_VIEW (widget));
}

static void
add_binding (GtkWidgetClass *widget_class,
             guint           key,
             const char     *action)
{
  gtk_widget_class_add_binding_action (widget_class, key, 0, action, NULL);
  gtk_widget_class_add_binding_action (widget_class, key, GDK_CONTROL_MASK, action, NULL);
}

void
graph_view_input_class_init (GtkWidgetClass *widget_class)
{
  widget_class->query_tooltip = query_tooltip;

  gtk_widget_class_install_action (widget_class, "graph.zoom-in", NULL, zoom_in_action);
  gtk_widget_class_install_action (widget_class, "graph.zoom-out", NULL, zoom_out_action);
  gtk_widget_class_install_action (widget_class, "graph.zoom-reset", NULL, zoom_reset_action);
  gtk_widget_class_install_action (widget_class, "graph.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_property_action (widget_class, "graph.follow", "follow");
  gtk_widget_class_install_property_action (widget_class, "graph.show-legend", "show-legend");
  gtk_widget_class_install_property_action (widget_class, "graph.show-minimap", "show-minimap");

  add_binding (widget_class, GDK_KEY_plus, "graph.zoom-in");
  add_binding (widget_class, GDK_KEY_equal, "graph.zoom-in");
  add_binding (widget_class, GDK_KEY_KP_Add, "graph.zoom-in");
  add_binding (widget_class, GDK_KEY_minus, "graph.zoom-out");
  add_binding (widget_class, GDK_KEY_KP_Subtract, "graph.zoom-out");
  add_binding (widget_class, GDK_KEY_0, "graph.zoom-reset");
  add_binding (widget_class, GDK_KEY_KP_0, "graph.zoom-reset");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, 0, "graph.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, 0, "graph.show-legend", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, 0, "graph.show-minimap", NULL);
}

void
graph_view_input_init (GraphView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkGesture *drag, *click, *pinch;
  GtkEventController *motion_controller, *scroll_controller;

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "released", G_CALLBACK (click_released), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));

  pinch = gtk_gesture_zoom_new ();
  g_signal_connect (pinch, "begin", G_CALLBACK (pinch_begin), self);
  g_signal_connect (pinch, "scale-changed", G_CALLBACK (pinch_scale_changed), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (pinch));

  motion_controller = gtk_event_controller_motion_new ();
  g_signal_connect (motion_controller, "enter", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (widget, motion_controller);

  scroll_controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll_controller, "scroll", G_CALLBACK (scroll), self);
  gtk_widget_add_controller (widget, scroll_controller);
}

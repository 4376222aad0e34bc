/* test-graph-view.c: the graph widget on screen (run under Xvfb)
 *
 * The view shows the autograd lesson's Q graph, laid out off the UI thread and
 * fitted to the window; selecting a node (through the API or a click on it)
 * emits "node-selected" with that node; a click on nothing clears it; search
 * selects and centres the match; the zoom actions zoom about the centre; the
 * graph grows and its states change after backward. resnet18's graph collapses
 * a module into one box. PNG snapshots go to G_TEST_BUILDDIR.
 */

#include <math.h>

#include <gtk/gtk.h>

#include "graph-view.h"
#include "lessons.h"
#include "stepper.h"
#include "test-graph-common.h"

#define GIVE_UP_SECONDS 30

typedef struct
{
  GtkWindow *window;
  GraphView *view;
  guint n_layouts;
  guint n_selected;
  Node *selected;
  guint64 selected_id;
} Fixture;

static void
on_layout_changed (GraphView *view,
                   Fixture   *fx)
{
  fx->n_layouts++;
}

static void
on_node_selected (GraphView *view,
                  Node      *node,
                  guint64    id,
                  Fixture   *fx)
{
  fx->n_selected++;
  fx->selected = node;
  fx->selected_id = id;
}

static gboolean
give_up (gpointer data)
{
  g_error ("%s: gave up after %d s", (const char *) data, GIVE_UP_SECONDS);
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until check (fx) holds. */
static void
wait_for (Fixture    *fx,
          gboolean  (*check) (Fixture *fx),
          const char *what)
{
  guint id = g_timeout_add_seconds (GIVE_UP_SECONDS, give_up, (gpointer) what);

  while (!check (fx))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}

static guint layouts_wanted;

static gboolean
has_layouts (Fixture *fx)
{
  return fx->n_layouts >= layouts_wanted && !graph_view_is_layout_pending (fx->view);
}

static void
wait_for_layouts (Fixture *fx,
                  guint    n)
{
  layouts_wanted = n;
  wait_for (fx, has_layouts, "waiting for a layout");
}

static gboolean
is_mapped (Fixture *fx)
{
  return gtk_widget_get_mapped (GTK_WIDGET (fx->view))
         && gtk_widget_get_width (GTK_WIDGET (fx->view)) > 100;
}

static gint64 wait_until;

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static gboolean
time_passed (Fixture *fx)
{
  return g_get_monotonic_time () >= wait_until;
}

/* Lets the frame clock run animations to their end. */
static void
wait_ms (Fixture *fx,
         int      ms)
{
  wait_until = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  g_timeout_add (ms, wake_up, NULL);
  wait_for (fx, time_passed, "waiting");
}

static void
fixture_set_up (Fixture       *fx,
                gconstpointer  data)
{
  fx->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (fx->window, 900, 700);
  fx->view = GRAPH_VIEW (graph_view_new ());
  gtk_window_set_child (fx->window, GTK_WIDGET (fx->view));
  g_signal_connect (fx->view, "layout-changed", G_CALLBACK (on_layout_changed), fx);
  g_signal_connect (fx->view, "node-selected", G_CALLBACK (on_node_selected), fx);
  gtk_window_present (fx->window);
  wait_for (fx, is_mapped, "waiting for the window");
}

static void
fixture_tear_down (Fixture       *fx,
                   gconstpointer  data)
{
  gtk_window_destroy (fx->window);
  /* Let a layout still running in its thread come back and be dropped. */
  wait_ms (fx, 50);
}

static GdkTexture *
render_view (Fixture *fx)
{
  GtkWidget *widget = GTK_WIDGET (fx->view);
  g_autoptr (GskRenderNode) node = NULL;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);

  /* What the widget draws now (a GtkWidgetPaintable shows the last frame). */
  GTK_WIDGET_GET_CLASS (widget)->snapshot (widget, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);

  return gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                      node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

static guint32 *
download (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  guint32 *pixels = g_new (guint32, (gsize) w * h);

  gdk_texture_download (texture, (guchar *) pixels, (gsize) w * 4);
  return pixels;
}

static void
save_snapshot (Fixture    *fx,
               const char *name)
{
  g_autoptr (GdkTexture) texture = render_view (fx);
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_autofree guint32 *pixels = download (texture);
  g_autoptr (GHashTable) colours = g_hash_table_new (NULL, NULL);
  int n = gdk_texture_get_width (texture) * gdk_texture_get_height (texture);

  for (int i = 0; i < n && g_hash_table_size (colours) < 1000; i++)
    g_hash_table_add (colours, GUINT_TO_POINTER (pixels[i]));
  /* Text, boxes, edges: many colours, not a blank. */
  g_assert_cmpuint (g_hash_table_size (colours), >=, 64);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("saved %s", path);
}

/* Where a box is on screen: its centre. */
static void
box_centre (Fixture *fx,
            int      box,
            double  *x,
            double  *y)
{
  const GraphRect *r = &graph_view_get_layout (fx->view)->nodes[box].rect;

  viewport_graph_to_screen (graph_view_get_viewport (fx->view), r->x + r->width / 2,
                            r->y + r->height / 2, x, y);
}

static int
box_of_node (Fixture *fx,
             Node    *node)
{
  const GraphLayout *layout = graph_view_get_layout (fx->view);

  return graph_layout_node_for_model (layout, graph_model_find_node (layout->model, node));
}

/* A click as the widget's click gesture reports it. */
static void
click_at (Fixture *fx,
          double   x,
          double   y)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (fx->view));
  gboolean clicked = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller))
        {
          g_signal_emit_by_name (controller, "released", 1, x, y);
          clicked = TRUE;
        }
    }
  g_assert_true (clicked);
}

static void
test_q (Fixture       *fx,
        gconstpointer  data)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  const GraphLayout *layout;
  const Viewport *vp;
  Node *sub = tg->Q->grad_fn;
  Node *mul = sub->next[0].node;
  double x, y;

  graph_view_set_nodes (fx->view, tg->nodes);
  wait_for_layouts (fx, 1);
  layout = graph_view_get_layout (fx->view);
  g_assert_nonnull (layout);
  g_assert_cmpint (layout->n_nodes, ==, 7);

  /* Fitted: the whole graph in the window, at 100 % at most. */
  vp = graph_view_get_viewport (fx->view);
  g_assert_cmpfloat (vp->zoom, <=, 1.0);
  {
    GraphRect visible;

    viewport_get_visible (vp, &visible);
    g_assert_cmpfloat (visible.x, <=, 0);
    g_assert_cmpfloat (visible.y, <=, 0);
    g_assert_cmpfloat (visible.x + visible.width, >=, layout->width);
    g_assert_cmpfloat (visible.y + visible.height, >=, layout->height);
  }
  wait_ms (fx, 100);
  save_snapshot (fx, "graph-view-q.png");

  /* Selecting through the API emits the signal with that node, once. */
  g_assert_true (graph_view_set_selection (fx->view, mul));
  g_assert_cmpuint (fx->n_selected, ==, 1);
  g_assert_true (fx->selected == mul);
  g_assert_cmpuint (fx->selected_id, ==, mul->id);
  g_assert_true (graph_view_get_selection (fx->view) == mul);
  g_assert_true (graph_view_set_selection (fx->view, mul));
  g_assert_cmpuint (fx->n_selected, ==, 1);

  /* A click on a node selects it. */
  box_centre (fx, box_of_node (fx, sub), &x, &y);
  click_at (fx, x, y);
  g_assert_cmpuint (fx->n_selected, ==, 2);
  g_assert_true (fx->selected == sub);
  g_assert_true (graph_view_get_selection (fx->view) == sub);
  save_snapshot (fx, "graph-view-q-selected.png");

  /* A click on the None slot selects it: no engine node, its owner's id. */
  {
    int none = graph_layout_node_for_model (layout,
                                            graph_model_find_key (layout->model,
                                                                  graph_model_key (mul->id, 1)));

    box_centre (fx, none, &x, &y);
    click_at (fx, x, y);
    g_assert_cmpuint (fx->n_selected, ==, 3);
    g_assert_null (fx->selected);
    g_assert_cmpuint (fx->selected_id, ==, mul->id);
  }

  /* A click on nothing clears the selection. */
  click_at (fx, 2, 2);
  g_assert_cmpuint (fx->n_selected, ==, 4);
  g_assert_null (fx->selected);
  g_assert_cmpuint (fx->selected_id, ==, G_MAXUINT64);
  g_assert_null (graph_view_get_selection (fx->view));

  /* A node of another graph is refused. */
  {
    g_autoptr (TestGraph) other = test_graph_new_q (FALSE);

    g_assert_false (graph_view_set_selection (fx->view, other->Q->grad_fn));
    g_assert_cmpuint (fx->n_selected, ==, 4);
  }

  /* Search selects the next match and centres it. */
  g_assert_true (graph_view_search (fx->view, "powbackward"));
  g_assert_cmpuint (fx->n_selected, ==, 5);
  g_assert_cmpstr (node_name (fx->selected), ==, "PowBackward0");
  {
    Node *first = fx->selected;

    /* The camera glides there (about 300 ms of frames); on a loaded machine the
     * frame clock falls behind, so wait for it to arrive, up to 10 s. */
    for (int i = 0; i < 100; i++)
      {
        wait_ms (fx, 100);
        box_centre (fx, box_of_node (fx, first), &x, &y);
        if (fabs (x - vp->width / 2) < 1.0 && fabs (y - vp->height / 2) < 1.0)
          break;
      }
    g_assert_cmpfloat (fabs (x - vp->width / 2), <, 1.0);
    g_assert_cmpfloat (fabs (y - vp->height / 2), <, 1.0);
    g_assert_true (graph_view_search (fx->view, "powbackward"));
    g_assert_true (fx->selected != first);
    g_assert_cmpstr (node_name (fx->selected), ==, "PowBackward0");
  }
  g_assert_true (graph_view_search (fx->view, "a"));   /* a leaf's name, or a name */
  g_assert_false (graph_view_search (fx->view, "ConvolutionBackward0"));
  wait_ms (fx, 400);

  /* The zoom actions zoom about the centre of the view. */
  {
    double gx, gy, gx2, gy2, zoom = vp->zoom;

    viewport_screen_to_graph (vp, vp->width / 2, vp->height / 2, &gx, &gy);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->view), "graph.zoom-in", NULL));
    g_assert_cmpfloat_with_epsilon (vp->zoom, zoom * 1.25, 1e-9);
    viewport_screen_to_graph (vp, vp->width / 2, vp->height / 2, &gx2, &gy2);
    g_assert_cmpfloat_with_epsilon (gx2, gx, 1e-6);
    g_assert_cmpfloat_with_epsilon (gy2, gy, 1e-6);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->view), "graph.zoom-out", NULL));
    g_assert_cmpfloat_with_epsilon (vp->zoom, zoom, 1e-9);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->view), "graph.zoom-reset", NULL));
    g_assert_cmpfloat (vp->zoom, ==, 1.0);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->view), "graph.zoom-fit", NULL));
    wait_ms (fx, 400);
    g_assert_cmpfloat (vp->zoom, <=, 1.0);
  }

  /* The legend and minimap toggle; follow mode is a property action. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->view), "graph.show-legend", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->view), "graph.follow", NULL));
  g_assert_true (graph_view_get_follow (fx->view));
  save_snapshot (fx, "graph-view-q-no-legend.png");
}

static GObject *
find_controller (Fixture *fx,
                 GType    type)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (fx->view));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (controller, type))
        return controller;   /* the widget keeps it alive */
    }
  g_assert_not_reached ();
}

/* Drag and scroll as the gestures report them; tooltips' words; the dark theme. */
static void
test_gestures (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  const Viewport *vp;
  const GraphLayout *layout;
  GObject *drag, *scroll;
  double gx, gy, x, y, ox, oy;
  gboolean handled = FALSE;

  graph_view_set_nodes (fx->view, tg->nodes);
  wait_for_layouts (fx, 1);
  vp = graph_view_get_viewport (fx->view);
  layout = graph_view_get_layout (fx->view);

  /* A drag: the graph point grabbed stays under the pointer all along. */
  drag = find_controller (fx, GTK_TYPE_GESTURE_DRAG);
  viewport_screen_to_graph (vp, 300, 200, &gx, &gy);
  g_signal_emit_by_name (drag, "drag-begin", 300.0, 200.0);
  for (int k = 1; k <= 10; k++)
    {
      g_signal_emit_by_name (drag, "drag-update", 13.0 * k, -7.0 * k);
      viewport_graph_to_screen (vp, gx, gy, &x, &y);
      g_assert_cmpfloat_with_epsilon (x, 300 + 13.0 * k, 1e-6);
      g_assert_cmpfloat_with_epsilon (y, 200 - 7.0 * k, 1e-6);
    }
  g_signal_emit_by_name (drag, "drag-end", 130.0, -70.0);

  /* A scroll without Ctrl pans by 40 pixels a notch. */
  scroll = find_controller (fx, GTK_TYPE_EVENT_CONTROLLER_SCROLL);
  ox = vp->origin_x;
  oy = vp->origin_y;
  g_signal_emit_by_name (scroll, "scroll", 0.0, 2.0, &handled);
  g_assert_true (handled);
  g_assert_cmpfloat_with_epsilon ((vp->origin_y - oy) * vp->zoom, 80, 1e-6);
  g_assert_cmpfloat (vp->origin_x, ==, ox);

  /* Tooltips: valid Pango markup for every box. */
  for (int i = 0; i < layout->model->n_nodes; i++)
    {
      g_autofree char *markup = graph_model_describe (layout->model, i, TRUE);
      g_autoptr (GError) error = NULL;

      g_assert_true (pango_parse_markup (markup, -1, 0, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
    }

  /* The dark theme: the view follows GTK's colours. */
  {
    GtkSettings *settings = gtk_settings_get_default ();
    g_autoptr (GdkTexture) light = NULL;
    g_autoptr (GdkTexture) dark = NULL;
    g_autofree guint32 *lp = NULL;
    g_autofree guint32 *dp = NULL;

    g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
    wait_ms (fx, 50);
    light = render_view (fx);
    g_object_set (settings, "gtk-application-prefer-dark-theme", TRUE, NULL);
    wait_ms (fx, 50);
    dark = render_view (fx);
    save_snapshot (fx, "graph-view-q-dark.png");
    g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
    lp = download (light);
    dp = download (dark);
    /* A corner: the background, light then dark (ARGB, native endian). */
    g_test_message ("background: light %08x, dark %08x", lp[5], dp[5]);
    g_assert_cmpuint ((lp[5] >> 8) & 0xff, >, 0xc0);
    g_assert_cmpuint ((dp[5] >> 8) & 0xff, <, 0x60);
  }
}

/* The graph grows by a node, then backward runs: new layout, new states. */
static void
test_grow_and_backward (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  g_autoptr (Tensor) total = NULL;
  g_autoptr (GPtrArray) grown = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) before = NULL;
  g_autoptr (GdkTexture) after = NULL;
  g_autofree guint32 *p0 = NULL;
  g_autofree guint32 *p1 = NULL;
  const GraphLayout *layout;
  int differ = 0, n;

  graph_view_set_nodes (fx->view, tg->nodes);
  wait_for_layouts (fx, 1);

  /* Q.sum(): one node more, on top. */
  total = tensor_sum (tg->Q);
  grown = test_graph_collect (total->grad_fn);
  graph_view_set_nodes (fx->view, grown);
  wait_for_layouts (fx, 2);
  layout = graph_view_get_layout (fx->view);
  g_assert_cmpint (layout->n_nodes, ==, 8);
  g_assert_true (layout->model->nodes[graph_model_find_node (layout->model,
                                                             total->grad_fn)].is_root);
  save_snapshot (fx, "graph-view-q-growing.png");   /* mid-animation */
  wait_ms (fx, 400);
  before = render_view (fx);

  autograd_set_observer (test_graph_observe, NULL);
  g_assert_true (tensor_backward (total, NULL, FALSE, &error));
  autograd_set_observer (NULL, NULL);
  g_assert_no_error (error);
  graph_view_refresh_state (fx->view);
  wait_ms (fx, 100);
  after = render_view (fx);
  save_snapshot (fx, "graph-view-q-backward.png");

  /* Done nodes, .grad set, gradient-coloured edges: the picture changed. */
  p0 = download (before);
  p1 = download (after);
  n = gdk_texture_get_width (before) * gdk_texture_get_height (before);
  for (int i = 0; i < n; i++)
    differ += p0[i] != p1[i];
  g_assert_cmpint (differ, >, 1000);

  /* Cleared: nothing drawn, nothing selected. */
  graph_view_set_nodes (fx->view, NULL);
  g_assert_null (graph_view_get_layout (fx->view));
  g_assert_null (graph_view_get_selection (fx->view));
}

static void
test_resnet18 (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr (TestGraph) tg = test_graph_new_resnet18 ("layer1", TRUE);
  const GraphLayout *layout;
  int box = -1;

  graph_view_set_nodes (fx->view, tg->nodes);
  wait_for_layouts (fx, 1);
  layout = graph_view_get_layout (fx->view);
  g_assert_cmpint (layout->n_nodes, ==, 156);
  wait_ms (fx, 100);
  save_snapshot (fx, "graph-view-resnet18-fit.png");

  /* Find a module by name; centred at 100 %. */
  g_assert_true (graph_view_search (fx->view, "layer2.0.downsample.0"));
  g_assert_cmpstr (node_name (fx->selected), ==, "ConvolutionBackward0");
  wait_ms (fx, 400);
  g_assert_cmpfloat (graph_view_get_viewport (fx->view)->zoom, >=, 1.0);
  save_snapshot (fx, "graph-view-resnet18-search.png");

  /* Collapse layer1 (frozen): one box with its parameter count. */
  graph_view_set_module_collapsed (fx->view, "layer1", TRUE);
  g_assert_true (graph_view_get_module_collapsed (fx->view, "layer1"));
  wait_for_layouts (fx, 2);
  layout = graph_view_get_layout (fx->view);
  for (int i = 0; i < layout->n_nodes; i++)
    if (layout->nodes[i].model_index < 0)
      box = i;
  g_assert_cmpint (box, >=, 0);
  g_assert_cmpstr (layout->nodes[box].module_path, ==, "layer1");
  g_assert_cmpint (layout->nodes[box].n_params, ==, 147968);
  graph_view_zoom_fit (fx->view);
  wait_ms (fx, 400);
  save_snapshot (fx, "graph-view-resnet18-collapsed.png");

  graph_view_set_module_collapsed (fx->view, "layer1", FALSE);
  wait_for_layouts (fx, 3);
  g_assert_cmpint (graph_view_get_layout (fx->view)->n_nodes, ==, 156);
}

/* The autograd lesson through the stepper, as the window drives it: a new
 * snapshot at each recorded op, a refresh at each backward node. */
static void
test_autograd_lesson (Fixture       *fx,
                      gconstpointer  data)
{
  const Lesson *lesson = lesson_find ("autograd", NULL);
  LessonParams params;
  Stepper *stepper;
  StepperStatus status;
  guint n_recorded = 0, n_backward = 0;
  gboolean saw_waiting = FALSE, saw_running = FALSE, checked_backward = FALSE;

  g_assert_nonnull (lesson);
  lesson_params_init (&params);
  stepper = stepper_new (lesson, &params, STEPPER_STOP_OP | STEPPER_STOP_BACKWARD_NODE, NULL,
                         NULL, NULL);
  lesson_params_clear (&params);

  while ((status = stepper_step_sync (stepper)) == STEPPER_PAUSED)
    {
      const StepperEvent *event = stepper_get_event (stepper);
      const GraphLayout *layout;

      if (event->kind == EVENT_NODE_RECORDED)
        {
          int current;

          graph_view_set_nodes (fx->view, stepper_get_nodes (stepper));
          wait_for_layouts (fx, ++n_recorded);
          layout = graph_view_get_layout (fx->view);
          if (n_backward > 0 && !checked_backward)
            {
              /* 9*a**2 after Q.backward(): Q's 6 nodes done, .grad set on a and b. */
              Node *q = lesson_run_get_graph_root (stepper_get_run (stepper));
              g_autoptr (GPtrArray) q_nodes = autograd_collect_nodes (q);

              for (guint k = 0; k < q_nodes->len; k++)
                {
                  const GraphModelNode *mn =
                    &layout->model->nodes[graph_model_find_node (layout->model,
                                                                 q_nodes->pdata[k])];

                  g_assert_cmpint (mn->state, ==, NODE_DONE);
                  g_assert_true (mn->kind != GRAPH_NODE_LEAF || mn->grad_defined);
                  g_assert_false (mn->has_saved);
                }
              g_assert_cmpuint (q_nodes->len, ==, 6);
              checked_backward = TRUE;
              wait_ms (fx, 300);
              save_snapshot (fx, "graph-view-autograd-after-backward.png");
            }
          /* The op just recorded is in the picture. */
          current = graph_model_find_node (layout->model, event->node);
          g_assert_cmpint (current, >=, 0);
          g_assert_cmpint (graph_layout_node_for_model (layout, current), >=, 0);
          if (n_recorded == 6)
            {
              /* Q = 3*a**3 - b**2 whole: SubBackward0 just recorded, on top. */
              g_assert_cmpstr (node_name (event->node), ==, "SubBackward0");
              g_assert_cmpint (layout->n_nodes, ==, 7);
              wait_ms (fx, 300);
              save_snapshot (fx, "graph-view-autograd-forward.png");
            }
          continue;
        }

      /* Backward: the live states. */
      graph_view_refresh_state (fx->view);
      layout = graph_view_get_layout (fx->view);
      n_backward++;
      for (int i = 0; i < layout->model->n_nodes; i++)
        {
          saw_waiting |= layout->model->nodes[i].state == NODE_WAITING;
          saw_running |= layout->model->nodes[i].state == NODE_RUNNING;
        }
      if (n_backward == 3)
        {
          wait_ms (fx, 100);
          save_snapshot (fx, "graph-view-autograd-backward.png");
        }
    }
  g_assert_cmpint (status, ==, STEPPER_FINISHED);
  g_assert_true (stepper_get_result (stepper, NULL));
  /* Q's 6 nodes ran: PowBackward0 (b), AccumulateGrad (b), ... */
  g_assert_cmpuint (n_backward, >=, 6);
  g_assert_true (saw_waiting || saw_running);

  g_assert_true (checked_backward);

  /* The second Q.backward() failed on freed saved tensors: the picture shows the
   * graph it tried, and 9*a**2, -2*b beside it. */
  graph_view_set_nodes (fx->view, stepper_get_nodes (stepper));
  wait_for_layouts (fx, ++n_recorded);
  wait_ms (fx, 300);
  save_snapshot (fx, "graph-view-autograd-end.png");

  /* The view holds the nodes it shows; the stepper may go. */
  stepper_free (stepper);
  g_assert_nonnull (graph_view_get_layout (fx->view));
  wait_ms (fx, 50);
}

/* The window goes away while its layout is still being computed. */
static void
test_destroy_while_laying_out (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_resnet18 (NULL, FALSE);
  Fixture fx = { 0 };

  fixture_set_up (&fx, NULL);
  graph_view_set_nodes (fx.view, tg->nodes);
  g_assert_true (graph_view_is_layout_pending (fx.view));
  fixture_tear_down (&fx, NULL);
  wait_ms (&fx, 500);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add ("/ui/graph-view/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

  ADD ("q", test_q);
  ADD ("gestures", test_gestures);
  ADD ("grow-and-backward", test_grow_and_backward);
  ADD ("resnet18", test_resnet18);
  ADD ("autograd-lesson", test_autograd_lesson);
  g_test_add_func ("/ui/graph-view/destroy-while-laying-out", test_destroy_while_laying_out);

  return g_test_run ();
}

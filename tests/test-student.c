/* test-student.c: the window tried as a student would (issue 15)
 *
 * Real keys and clicks, sent through the X server (XTest, so under Xvfb), on
 * the real application: F10 steps from anywhere the first time; the phase
 * banner and the highlighted line describe the same moment; keys pressed while
 * the program runs are refused in words. Screenshots go to G_TEST_BUILDDIR
 * (student-*.png). Needs an X display: run it under xvfb-run.
 */

#include <math.h>
#include <string.h>

#include <gdk/x11/gdkx.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>

/* Screenshots: G_TEST_BUILDDIR/student-NAME.png */
#define SCREENSHOT_PREFIX "student"
#include "app-driver.h"
#include "code-view.h"
#include "event-log.h"
#include "inspector.h"
#include "module-tree-item.h"
#include "module-tree.h"
#include "plot-paint.h"

/* --- Real input, through the X server ------------------------------------------ */

static Display *
x_display (GradlensWindow *window)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));

  g_assert_true (GDK_IS_X11_DISPLAY (display));
  return gdk_x11_display_get_xdisplay (display);
}

/* Runs the main loop a little: X events in, frames out. */
static void
settle (void)
{
  for (int i = 0; i < 50; i++)
    {
      while (g_main_context_pending (NULL))
        g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

/* A point of widget (its own coordinates), in the X screen's. */
static void
screen_point (GtkWidget *widget,
              double     wx,
              double     wy,
              int       *x,
              int       *y)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GdkSurface *surface = gtk_native_get_surface (native);
  Display *dpy = gdk_x11_display_get_xdisplay (gdk_surface_get_display (surface));
  graphene_point_t centre = GRAPHENE_POINT_INIT (wx, wy);
  graphene_point_t in_native;
  double sx, sy;
  Window child;

  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native), &centre, &in_native));
  gtk_native_get_surface_transform (native, &sx, &sy);
  XTranslateCoordinates (dpy, gdk_x11_surface_get_xid (surface), DefaultRootWindow (dpy),
                         (int) (in_native.x + sx), (int) (in_native.y + sy), x, y, &child);
}

static void
click_at (GtkWidget *widget,
          double     wx,
          double     wy)
{
  Display *dpy = x_display (GRADLENS_WINDOW (gtk_widget_get_root (widget)));
  int x, y;

  screen_point (widget, wx, wy, &x, &y);
  XTestFakeMotionEvent (dpy, -1, x, y, CurrentTime);
  XTestFakeButtonEvent (dpy, 1, True, CurrentTime);
  XTestFakeButtonEvent (dpy, 1, False, CurrentTime);
  XFlush (dpy);
  settle ();
}

static void
click (GtkWidget *widget)
{
  click_at (widget, gtk_widget_get_width (widget) / 2.0, gtk_widget_get_height (widget) / 2.0);
}

static void
press_key (GradlensWindow *window,
           KeySym          keysym)
{
  Display *dpy = x_display (window);
  KeyCode code = XKeysymToKeycode (dpy, keysym);

  g_assert_cmpint (code, !=, 0);
  XTestFakeKeyEvent (dpy, code, True, CurrentTime);
  XTestFakeKeyEvent (dpy, code, False, CurrentTime);
  XFlush (dpy);
}

/* Presses the key and waits for the command it starts to pause again. */
static void
press_key_and_wait (GradlensWindow *window,
                    KeySym          keysym)
{
  guint before = current->synced;

  press_key (window, keysym);
  wait_synced (before);
}

/* The window has the X keyboard focus, as after the student clicked it. */
static void
focus_window (GradlensWindow *window)
{
  Display *dpy = x_display (window);
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));

  XRaiseWindow (dpy, gdk_x11_surface_get_xid (surface));
  XSetInputFocus (dpy, gdk_x11_surface_get_xid (surface), RevertToParent, CurrentTime);
  XFlush (dpy);
  for (int i = 0; i < 100 && !gtk_window_is_active (GTK_WINDOW (window)); i++)
    settle ();
  g_assert_true (gtk_window_is_active (GTK_WINDOW (window)));
}

static guint64
event_index (GradlensWindow *window)
{
  const StepperEvent *event = stepper_get_event (gradlens_window_get_stepper (window));

  return event != NULL ? event->index : 0;
}

/* --- 1. F10 from anywhere, the first time ------------------------------------------ */

static void
script_f10 (GradlensWindow *window)
{
  GtkWidget *log = panel (window, "event-log");
  guint64 index;

  select_lesson (window, "autograd");
  focus_window (window);

  /* At launch: the first F10 runs the first op (GTK's own F10 would move the
   * focus to the header bar instead, and nothing would run). */
  press_key_and_wait (window, XK_F10);
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);
  g_assert_cmpuint (gradlens_window_get_graph_nodes (window)->len, >, 0);

  /* After a click in the event log, still the first F10. */
  click (log);
  {
    GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
    g_assert_nonnull (focus);
    g_assert_true (focus == log || gtk_widget_is_ancestor (focus, log));
  }
  index = event_index (window);
  press_key_and_wait (window, XK_F10);
  g_assert_cmpuint (event_index (window), >, index);

  /* F6 and F8 are GtkPaned's keys too (cycle focus): F6 must play. */
  press_key (window, XK_F6);
  settle ();
  g_assert_true (gradlens_window_is_playing (window));
  press_key (window, XK_F6);
  settle ();
  g_assert_false (gradlens_window_is_playing (window));
}

/* --- 2. The banner and the line agree --------------------------------------------- */

/* The phase a statement begins, from its text; NULL: none. */
static const char *
phase_of_statement (const char *text)
{
  if (strstr (text, ".backward(") != NULL)
    return "backward";
  if (strstr (text, "optim.step()") != NULL)
    return "optimizer";
  if (strstr (text, "optim.zero_grad(") != NULL)
    return "zero-grad";
  return NULL;
}

static void
check_banner_matches_line (GradlensWindow *window,
                           const char     *lesson)
{
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  guint n_checked = 0;

  select_lesson (window, lesson);
  while (status_of (window) != STEPPER_FINISHED)
    {
      const char *action = phase_of (window) == LESSON_PHASE_BACKWARD && status_of (window)
                                                                              == STEPPER_PAUSED
                             ? "run-to-phase-end" : "step-op";
      const StepperEvent *event;

      command (window, action);
      event = stepper_get_event (gradlens_window_get_stepper (window));
      if (status_of (window) != STEPPER_PAUSED || event->kind != EVENT_PHASE)
        continue;
      /* A phase change: the banner names it, and the line lit is the call
       * that begins it (or, for a forward pass, no call of another phase). */
      {
        int line = gradlens_code_view_get_line (code);
        g_autofree char *text = gradlens_code_view_dup_line_text (code, line);
        const char *banner = gradlens_code_view_get_phase (code);
        const char *expected = phase_of_statement (text);

        if (phase_of (window) == LESSON_PHASE_DONE)
          continue;   /* after the last line */
        g_assert_cmpint (line, >, 0);
        if (g_str_equal (banner, "forward"))
          g_assert_null (expected);
        else
          g_assert_cmpstr (banner, ==, expected);
        n_checked++;
      }
    }
  g_assert_cmpuint (n_checked, >=, 1);
}

static void
script_banner (GradlensWindow *window)
{
  check_banner_matches_line (window, "autograd");
  check_banner_matches_line (window, "finetune");
  screenshot (window, "banner");
}

/* --- 8. Busy: a key while the program runs is refused, in words ---------------------- */

static void
script_busy (GradlensWindow *window)
{
  guint before;
  gint64 deadline;

  select_lesson (window, "resnet18-step");
  focus_window (window);

  /* To the end: seconds of resnet18. The status says it runs, then a key
   * pressed meanwhile says it was not taken. */
  before = current->synced;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.run-to-end", NULL));
  deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (gradlens_window_get_status (window) == NULL && current->synced == before
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  if (current->synced == before)
    {
      g_assert_nonnull (gradlens_window_get_status (window));
      g_assert_nonnull (strstr (gradlens_window_get_status (window), "Running"));
      press_key (window, XK_F10);
      settle ();
      if (current->synced == before)
        {
          g_assert_nonnull (strstr (gradlens_window_get_status (window), "F10 was not taken"));
          screenshot (window, "busy");
        }
    }
  else
    g_test_message ("the run ended before the status could be read");
  wait_synced (before);
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  /* Paused again: no "Running…". */
  g_assert_true (gradlens_window_get_status (window) == NULL
                 || strstr (gradlens_window_get_status (window), "Running") == NULL);

  /* A key that does not apply says why. */
  press_key (window, XK_F10);
  settle ();
  g_assert_nonnull (gradlens_window_get_status (window));
  g_assert_nonnull (strstr (gradlens_window_get_status (window), "reset"));
}

/* --- 3. Train checks: the view stays, the rule is said ------------------------------ */

/* The row picked in the module tree, by full name, or NULL. */
static char *
tree_selection (GradlensModuleTree *tree)
{
  GtkColumnView *view = GTK_COLUMN_VIEW (find_descendant (GTK_WIDGET (tree), GTK_TYPE_COLUMN_VIEW));
  GtkSingleSelection *selection = GTK_SINGLE_SELECTION (gtk_column_view_get_model (view));
  GtkTreeListRow *row = gtk_single_selection_get_selected_item (selection);
  g_autoptr (GradlensModuleItem) item = NULL;

  if (row == NULL)
    return NULL;
  item = gtk_tree_list_row_get_item (row);
  return g_strdup (item->full_name);
}

static GtkAdjustment *
tree_scroll (GradlensModuleTree *tree)
{
  GtkWidget *scroller = find_descendant (GTK_WIDGET (tree), GTK_TYPE_SCROLLED_WINDOW);

  return gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
}

static void
script_train (GradlensWindow *window)
{
  GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
  GradlensCodeView *code = GRADLENS_CODE_VIEW (panel (window, "code-view"));
  g_autofree char *picked = NULL;
  g_autofree char *line = NULL;
  double scrolled;
  guint before;

  /* The freeze lesson, before it runs: the student scrolls down to
   * layer4.1.bn2 and unticks layer2. */
  select_lesson (window, "freeze");
  g_assert_nonnull (strstr (gradlens_module_tree_get_note (tree), "rewrites frozen"));
  g_assert_true (gradlens_module_tree_select (tree, "layer4.1.bn2"));
  wait_painted (window);
  settle ();
  scrolled = gtk_adjustment_get_value (tree_scroll (tree));
  g_assert_cmpfloat (scrolled, >, 0);
  before = current->synced;
  g_assert_true (gradlens_module_tree_set_trainable (tree, "layer2", FALSE));
  wait_synced (before);
  line = gradlens_code_view_dup_line_text (code, 6);
  g_assert_nonnull (strstr (line, "\"layer2\""));
  g_assert_nonnull (strstr (gradlens_code_view_get_phase_detail (code), "frozen = ("));

  /* The program builds its own model (line 5): the tree swaps the preview for
   * it, and the student's place in it stays. */
  while (gradlens_code_view_get_line (code) < 6)
    command (window, "step-line");
  g_assert_true (gradlens_module_tree_get_model (tree)
                 == lesson_run_get_model (stepper_get_run (gradlens_window_get_stepper (window))));
  wait_painted (window);
  settle ();
  picked = tree_selection (tree);
  g_assert_cmpstr (picked, ==, "layer4.1.bn2");
  g_assert_cmpfloat (fabs (gtk_adjustment_get_value (tree_scroll (tree)) - scrolled), <, 2);
  /* Now it ran its frozen = (…): no change behind its back. */
  {
    gboolean editable = TRUE;
    g_object_get (tree, "editable", &editable, NULL);
    g_assert_false (editable);
  }
  g_assert_nonnull (strstr (gradlens_module_tree_get_note (tree), "reset"));
  screenshot (window, "train-kept");

  /* finetune's program sets requires_grad itself. */
  select_lesson (window, "finetune");
  command (window, "step-line");
  while (gradlens_module_tree_get_model (tree) == NULL)
    command (window, "step-line");
  {
    gboolean editable = TRUE;
    g_object_get (tree, "editable", &editable, NULL);
    g_assert_false (editable);
  }
  g_assert_nonnull (strstr (gradlens_module_tree_get_note (tree), "sets requires_grad itself"));

  /* resnet18-step: from the next forward pass, said over the program. */
  select_lesson (window, "resnet18-step");
  while (gradlens_module_tree_get_model (tree) == NULL)
    command (window, "step-line");
  g_assert_nonnull (strstr (gradlens_module_tree_get_note (tree), "next forward pass"));
  g_assert_true (gradlens_module_tree_set_trainable (tree, "layer1", FALSE));
  g_assert_nonnull (strstr (gradlens_code_view_get_phase_detail (code), "next forward pass"));
}

/* --- 4. resnet18 as an overview ---------------------------------------------------- */

static int
box_of_module (const GraphLayout *layout,
               const char        *path)
{
  for (int i = 0; i < layout->n_nodes; i++)
    if (layout->nodes[i].model_index < 0 && g_str_equal (layout->nodes[i].module_path, path))
      return i;
  return -1;
}

static int
cluster_of_module (const GraphLayout *layout,
                   const char        *path)
{
  for (int i = 0; i < layout->n_clusters; i++)
    if (g_str_equal (layout->clusters[i].path, path))
      return i;
  return -1;
}

/* Module path's box or cluster starts at (x, y) on screen, to a pixel. */
static void
assert_module_at (GraphView  *view,
                  const char *path,
                  double      x,
                  double      y)
{
  const GraphLayout *layout = graph_view_get_layout (view);
  int box = box_of_module (layout, path), cluster = cluster_of_module (layout, path);
  const GraphRect *r = box >= 0 ? &layout->nodes[box].rect : &layout->clusters[cluster].rect;
  double sx, sy;

  g_assert_true (box >= 0 || cluster >= 0);
  viewport_graph_to_screen (graph_view_get_viewport (view), r->x, r->y, &sx, &sy);
  g_test_message ("%s at %.1f, %.1f (was %.1f, %.1f)", path, sx, sy, x, y);
  g_assert_cmpfloat (fabs (sx - x), <=, 1);
  g_assert_cmpfloat (fabs (sy - y), <=, 1);
}

/* What the folded box of module path says about its gradients now. */
static const char *
module_status (GraphView  *view,
               const char *path)
{
  static char *text;
  GraphModuleState state;

  g_clear_pointer (&text, g_free);
  graph_model_module_state (graph_view_get_layout (view)->model, path, &state);
  text = graph_module_status_text (&state);
  g_test_message ("%s: %s", path, text);
  return text != NULL ? text : "";
}

static void
script_overview (GradlensWindow *window)
{
  GraphView *view = GRAPH_VIEW (panel (window, "graph"));
  const GraphLayout *layout;
  const Viewport *vp;
  int box, n_folded = 0, n_boxes;
  double sx, sy, bottom_x, bottom_y, corner_x, corner_y;

  /* Lessons without a loss show no empty plots. */
  select_lesson (window, "autograd");
  g_assert_false (gtk_widget_get_visible (panel (window, "plot-notebook")));

  /* resnet18's forward pass: one box per BasicBlock. */
  select_lesson (window, "resnet18-step");
  g_assert_true (gtk_widget_get_visible (panel (window, "plot-notebook")));
  while (phase_of (window) != LESSON_PHASE_BACKWARD)
    command (window, "run-to-phase-end");
  wait_graph (window);
  layout = graph_view_get_layout (view);
  for (int i = 0; i < layout->n_nodes; i++)
    n_folded += layout->nodes[i].model_index < 0;
  n_boxes = layout->n_nodes;
  g_assert_cmpint (n_folded, ==, 8);
  g_assert_cmpint (n_boxes, <, 40);

  /* Fitted above the toolbar (the overview is still a chain of 27 boxes:
   * fitted whole it is not yet legible, see the note). */
  graph_view_zoom_fit (view);
  wait_graph (window);
  vp = graph_view_get_viewport (view);
  g_test_message ("overview fitted at zoom %.2f", vp->zoom);
  viewport_graph_to_screen (vp, layout->width, layout->height, &bottom_x, &bottom_y);
  {
    int toolbar_top = gtk_widget_get_height (GTK_WIDGET (view))
                      - gtk_widget_get_height (panel (window, "graph-search")) - 6;
    g_assert_cmpfloat (bottom_y, <=, toolbar_top);
  }
  screenshot (window, "resnet18-overview");

  /* One click on a folded block opens it... */
  focus_window (window);
  box = box_of_module (layout, "layer2.0");
  g_assert_cmpint (box, >=, 0);
  viewport_graph_to_screen (vp, layout->nodes[box].rect.x + layout->nodes[box].rect.width / 2,
                            layout->nodes[box].rect.y + layout->nodes[box].rect.height / 2,
                            &sx, &sy);
  viewport_graph_to_screen (vp, layout->nodes[box].rect.x, layout->nodes[box].rect.y,
                            &corner_x, &corner_y);
  click_at (GTK_WIDGET (view), sx, sy);
  g_assert_false (graph_view_get_module_collapsed (view, "layer2.0"));
  wait_graph (window);
  layout = graph_view_get_layout (view);
  vp = graph_view_get_viewport (view);
  g_assert_cmpint (layout->n_nodes, >, n_boxes);
  /* The view does not jump: the opened block starts where its box was. */
  assert_module_at (view, "layer2.0", corner_x, corner_y);
  screenshot (window, "resnet18-block-open");

  /* ...and one on its ⊟ label folds it again. */
  {
    int cluster = cluster_of_module (layout, "layer2.0");
    const GraphRect *r;

    g_assert_cmpint (cluster, >=, 0);
    r = &layout->clusters[cluster].rect;
    viewport_graph_to_screen (vp, r->x + GRAPH_CLUSTER_PAD + 6, r->y + GRAPH_CLUSTER_PAD / 2 + 5,
                              &sx, &sy);
    viewport_graph_to_screen (vp, r->x, r->y, &corner_x, &corner_y);
    click_at (GTK_WIDGET (view), sx, sy);
    g_assert_true (graph_view_get_module_collapsed (view, "layer2.0"));
    wait_graph (window);
    assert_module_at (view, "layer2.0", corner_x, corner_y);
  }

  /* Each folded box says its grad state: none yet, then the backward going
   * through it, then its parameters' .grad set. */
  wait_graph (window);
  g_assert_cmpstr (module_status (view, "layer1.0"), ==, ".grad: None");
  for (int i = 0; i < 200 && !g_str_has_prefix (module_status (view, "layer4.1"), "backward: 2 "); i++)
    command (window, "step-backward-node");
  g_assert_true (g_str_has_prefix (module_status (view, "layer4.1"), "backward: 2 of "));
  wait_graph (window);
  /* The camera is on it, legible (it was fitted to the whole, 0.2), above the toolbar. */
  {
    const GraphLayout *l = graph_view_get_layout (view);
    const GraphRect *r = &l->nodes[box_of_module (l, "layer4.1")].rect;
    double x0, y0, x1, y1;
    int toolbar_top = gtk_widget_get_height (GTK_WIDGET (view))
                      - gtk_widget_get_height (panel (window, "graph-search")) - 6;

    for (int i = 0; i < 100 && graph_view_get_viewport (view)->zoom < 0.8; i++)
      settle ();
    vp = graph_view_get_viewport (view);
    g_test_message ("following at zoom %.2f", vp->zoom);
    g_assert_true (graph_view_get_follow (view));
    g_assert_cmpfloat (vp->zoom, >=, 0.8 - 1e-6);
    viewport_graph_to_screen (vp, r->x, r->y, &x0, &y0);
    viewport_graph_to_screen (vp, r->x + r->width, r->y + r->height, &x1, &y1);
    g_assert_cmpfloat (x0, >=, 0);
    g_assert_cmpfloat (y0, >=, 0);
    g_assert_cmpfloat (x1, <=, gtk_widget_get_width (GTK_WIDGET (view)) - 160 - 12);
    g_assert_cmpfloat (y1, <=, toolbar_top);
  }
  screenshot (window, "resnet18-overview-backward");
  command (window, "run-to-phase-end");
  wait_graph (window);
  g_assert_cmpstr (module_status (view, "layer1.0"), ==, ".grad: set");
  screenshot (window, "resnet18-overview-grads");
}

/* --- 6. No text cut or mangled ------------------------------------------------------ */

static void
collect (GtkWidget *widget,
         GType      type,
         GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) && gtk_widget_get_mapped (widget))
    g_ptr_array_add (found, widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    collect (c, type, found);
}

/* Every label shown inside area ends within it: wrapped, not cut. */
static void
assert_labels_inside (GtkWidget *area)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  int width = gtk_widget_get_width (area);

  collect (area, GTK_TYPE_LABEL, labels);
  g_assert_cmpuint (labels->len, >, 3);
  for (guint i = 0; i < labels->len; i++)
    {
      graphene_rect_t bounds;

      g_assert_true (gtk_widget_compute_bounds (labels->pdata[i], area, &bounds));
      if (bounds.origin.x + bounds.size.width > width + 1)
        g_error ("“%s” ends at %.0f px, past the panel's %d px",
                 gtk_label_get_text (labels->pdata[i]), bounds.origin.x + bounds.size.width,
                 width);
    }
}

static void
script_text (GradlensWindow *window)
{
  GtkWidget *inspector = panel (window, "inspector");
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  Node *pow = NULL;

  /* The settings say optim.zero_grad(), underscore and all. */
  {
    g_autoptr (GPtrArray) labels = g_ptr_array_new ();
    gboolean found = FALSE;

    gtk_menu_button_popup (GTK_MENU_BUTTON (gtk_widget_get_parent (panel (window, "settings-popover"))));
    settle ();
    collect (panel (window, "settings-popover"), GTK_TYPE_LABEL, labels);
    for (guint i = 0; i < labels->len; i++)
      found = found || g_strcmp0 (gtk_label_get_text (labels->pdata[i]),
                                  "Call optim.zero_grad() every step") == 0;
    g_assert_true (found);
    gtk_popover_popdown (GTK_POPOVER (panel (window, "settings-popover")));
    settle ();
  }

  /* The inspector wraps: a node whose saved tensors backward freed. */
  select_lesson (window, "autograd");
  command (window, "run-to-end");
  for (guint i = 0; i < nodes->len; i++)
    if (((Node *) nodes->pdata[i])->op == OP_POW && ((Node *) nodes->pdata[i])->saved_freed)
      pow = nodes->pdata[i];
  g_assert_nonnull (pow);
  /* As narrow as the pane lets it be. */
  {
    GtkPaned *paned = GTK_PANED (gtk_widget_get_parent (inspector));
    gtk_paned_set_position (paned, gtk_widget_get_width (GTK_WIDGET (paned)));
  }
  gradlens_window_select_node (window, pow);
  wait_painted (window);
  assert_labels_inside (inspector);
  screenshot (window, "inspector-wraps");

  /* ‖grad‖ in next_functions is a number, not a link. */
  for (guint i = 0; i < nodes->len; i++)
    if (((Node *) nodes->pdata[i])->op == OP_SUB)
      gradlens_window_select_node (window, nodes->pdata[i]);
  wait_painted (window);
  assert_labels_inside (inspector);
  {
    g_autoptr (GPtrArray) labels = g_ptr_array_new ();
    guint n_norms = 0;

    collect (inspector, GTK_TYPE_LABEL, labels);
    for (guint i = 0; i < labels->len; i++)
      if (g_str_has_prefix (gtk_label_get_text (labels->pdata[i]), "‖grad‖"))
        {
          g_assert_false (gtk_widget_has_css_class (labels->pdata[i], "accent"));
          g_assert_nonnull (gtk_widget_get_tooltip_text (labels->pdata[i]));
          n_norms++;
        }
    g_assert_cmpuint (n_norms, >, 0);
  }
}

/* --- 9. The numbers, when they are small ---------------------------------------- */

static gboolean
has_label (GtkWidget  *area,
           const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();

  collect (area, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_text (labels->pdata[i]), text) == 0)
      return TRUE;
  return FALSE;
}

static void
script_numbers (GradlensWindow *window)
{
  GraphView *view = GRAPH_VIEW (panel (window, "graph"));
  GtkWidget *inspector = panel (window, "inspector");
  GPtrArray *nodes;
  const GraphModel *model;
  Node *square = NULL;
  gboolean minus_12 = FALSE;

  /* Q = 3a³ − b², after its backward: the values on the edges... */
  select_lesson (window, "autograd");
  while (phase_of (window) != LESSON_PHASE_BACKWARD)
    command (window, "run-to-phase-end");
  command (window, "run-to-phase-end");
  wait_graph (window);
  model = graph_view_get_layout (view)->model;
  for (int i = 0; i < model->n_edges; i++)
    if (g_strcmp0 (model->edges[i].values, "[-12., -8.]") == 0)
      {
        minus_12 = TRUE;
        g_assert_cmpstr (model->edges[i].rule, ==, "grad · 2·self");
      }
  g_assert_true (minus_12);

  /* ...and in the inspector, with the rule that made them. */
  nodes = gradlens_window_get_graph_nodes (window);
  for (guint i = 0; i < nodes->len; i++)
    if (((Node *) nodes->pdata[i])->op == OP_POW && ((Node *) nodes->pdata[i])->scalars[0] == 2)
      square = nodes->pdata[i];
  g_assert_nonnull (square);
  gradlens_window_select_node (window, square);
  wait_painted (window);
  g_assert_true (has_label (inspector, "grad_output = [-1., -1.]"));
  g_assert_true (has_label (inspector, "grad · 2·self = [-12., -8.]"));
  screenshot (window, "numbers");
  assert_labels_inside (inspector);
}

/* --- 7. The silent moments, said --------------------------------------------------- */

static gboolean
log_has (GradlensWindow *window,
         const char     *text)
{
  GradlensEventLog *log = GRADLENS_EVENT_LOG (panel (window, "event-log"));

  for (guint i = 0; i < gradlens_event_log_get_n_entries (log); i++)
    if (strstr (gradlens_event_log_get_text (log, i), text) != NULL)
      return TRUE;
  return FALSE;
}

static void
script_words (GradlensWindow *window)
{
  GradlensSettingsPopover *popover = GRADLENS_SETTINGS_POPOVER (panel (window, "settings-popover"));
  GradlensSettings s;

  /* a = x + y records nothing, and the log says why. */
  select_lesson (window, "requires-grad");
  command (window, "run-to-end");
  g_assert_true (log_has (window, "a has no grad_fn (a.requires_grad is False): no input "
                                  "requires grad, so no grad_fn is recorded"));
  g_assert_true (log_has (window, "z is a leaf that requires grad"));
  g_assert_false (log_has (window, "b has no grad_fn"));

  /* A run whose steps are bigger than its weights says it diverges, in the
   * log and over the graph, before any NaN. */
  select_lesson (window, "resnet18-step");
  gradlens_settings_init (&s);
  s.lr = 100;
  s.steps = 10;
  apply_settings (popover, &s);
  command (window, "optimizer-step");
  g_assert_true (log_has (window, "SGD is diverging"));
  g_assert_nonnull (gradlens_window_get_status (window));
  g_assert_nonnull (strstr (gradlens_window_get_status (window), "diverging"));
  gtk_notebook_set_current_page (GTK_NOTEBOOK (panel (window, "plot-notebook")), 1);
  screenshot (window, "diverging");
  /* A sound run does not. */
  s.lr = 1e-5f;
  apply_settings (popover, &s);
  command (window, "optimizer-step");
  command (window, "optimizer-step");
  g_assert_false (log_has (window, "diverging"));
  gradlens_settings_clear (&s);
  apply_default_settings (popover);
}

static void
test_loss_words (void)
{
  const double growing[] = { 1, 3, 9, 40 }, settling[] = { 40, 9, 3, 1 };
  const double unbounded[] = { -1, -30, -900, -27000 };   /* a summed loss, minimised */
  const double broken[] = { 1, NAN };
  g_autofree char *caption = loss_plot_caption (growing, 4);
  g_autofree char *runaway = loss_plot_divergence (growing, 4);
  g_autofree char *nan = loss_plot_divergence (broken, 2);
  g_autofree char *calm = loss_plot_divergence (settling, 4);
  const LayerBar bars[] = { { "conv1", 1, 0.01, false }, { "fc", 1, 3.5, false } };
  g_autofree char *too_big = layer_chart_divergence (bars, 2);
  g_autofree char *fine = layer_chart_divergence (bars, 1);

  /* The program's numbering: the fourth loss is `step 3`. */
  g_assert_true (g_str_has_prefix (caption, "step 3: loss "));
  g_assert_nonnull (strstr (runaway, "diverging"));
  g_assert_nonnull (strstr (nan, "NaN at step 1"));
  g_assert_null (calm);
  {
    g_autofree char *falling = loss_plot_divergence (unbounded, 4);
    g_assert_null (falling);
  }
  g_assert_nonnull (strstr (too_big, "fc's weights by 3.5 times"));
  g_assert_null (fine);
}

/* The Layers chart's x-axis labels end inside the chart: painted on a surface
 * taller than the chart, nothing is drawn below it (the rotated labels of
 * resnet18's layers ran 8 px past the bottom at 260 px). */
static void
test_layer_labels_inside (void)
{
  const char *names[] = { "conv1", "bn1", "layer1.0", "layer1.1", "layer2.0", "layer2.1",
                          "layer3.0", "layer3.1", "layer4.0", "layer4.1", "fc" };
  LayerBar bars[G_N_ELEMENTS (names)];
  PlotColors colors;
  const int width = 280, height = 260, below = 40;

  plot_colors_init_default (&colors, false);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    bars[i] = (LayerBar) { names[i], 100.0 * (i + 1), 2.0 + i, false };
  for (int h = height; h >= 200; h -= 30)
    {
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, h + below);
      cairo_t *cr = cairo_create (surface);
      const guint32 *pixels;
      int stride;

      layer_chart_paint (cr, &colors, bars, G_N_ELEMENTS (bars), width, h);
      cairo_surface_flush (surface);
      pixels = (const guint32 *) cairo_image_surface_get_data (surface);
      stride = cairo_image_surface_get_stride (surface) / 4;
      for (int y = h; y < h + below; y++)
        for (int x = 0; x < width; x++)
          if (pixels[y * stride + x] != 0)
            g_error ("a label is drawn at (%d, %d), below the %d-px chart", x, y, h);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
    }
}

/* --- 5. A 1024 × 600 screen ----------------------------------------------------------- */

static void
log_panes (GradlensWindow *window,
           const char     *when)
{
  const char *names[] = { "code-view", "module-tree", "graph", "log-notebook", "plot-notebook",
                          "inspector" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_test_message ("%s: %s %d × %d", when, names[i], gtk_widget_get_width (panel (window, names[i])),
                    gtk_widget_get_height (panel (window, names[i])));
}

static void
resize_to (GradlensWindow *window,
           int             width,
           int             height)
{
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  for (int i = 0; i < 40 && (gtk_widget_get_width (GTK_WIDGET (window)) != width
                             || gtk_widget_get_height (GTK_WIDGET (window)) != height); i++)
    {
      wait_painted (window);
      settle ();
    }
  wait_painted (window);
  settle ();
  wait_painted (window);
}

static void
script_small (GradlensWindow *window)
{
  int min_width, min_height;

  /* The panes as they open. */
  select_lesson (window, "resnet18-step");
  resize_to (window, 1366, 768);
  log_panes (window, "at 1366 × 768");

  select_lesson (window, "resnet18-step");
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL,
                      NULL, NULL);
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_VERTICAL, -1, &min_height, NULL,
                      NULL, NULL);
  g_test_message ("the window needs at least %d × %d", min_width, min_height);
  g_assert_cmpint (min_width, <=, 1024);
  g_assert_cmpint (min_height, <=, 600);
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 600);
  for (int i = 0; i < 20 && gtk_widget_get_width (GTK_WIDGET (window)) > 1024; i++)
    {
      wait_painted (window);
      settle ();
    }
  /* Within the screen (the frame's own border is outside the widget). */
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 1024);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), >=, 1000);
  wait_painted (window);
  screenshot (window, "1024x600");
  log_panes (window, "at 1024 × 600");

  /* Grown again, the panes come back to their sizes, not the narrow ones. */
  resize_to (window, 1366, 768);
  log_panes (window, "back at 1366 × 768");
  g_assert_cmpint (gtk_widget_get_width (panel (window, "code-view")), >=, 380);
  g_assert_cmpint (gtk_widget_get_width (panel (window, "inspector")), >=, 260);
  g_assert_cmpint (gtk_widget_get_width (panel (window, "graph")), >=, 560);
  g_assert_cmpint (gtk_widget_get_height (panel (window, "graph")), >=, 380);
  g_assert_cmpint (gtk_widget_get_width (panel (window, "log-notebook")), >=, 280);
  screenshot (window, "1366x768-again");

  /* A width the student dragged the column to is the one that comes back. */
  {
    GtkWidget *side = gtk_widget_get_parent (panel (window, "code-view"));

    gtk_paned_set_position (GTK_PANED (gtk_widget_get_parent (side)), 340);
    wait_painted (window);
    resize_to (window, 1024, 600);
    resize_to (window, 1366, 768);
    g_assert_cmpint (gtk_widget_get_width (side), ==, 340);
  }
}

int
main (int argc, char **argv)
{
  g_autofree char *home = NULL;
  int status;

  /* Settings go to a fresh folder, never the user's. */
  home = app_home_new ("gradlens-test-student");
  g_setenv ("OPENBLAS_NUM_THREADS", "2", FALSE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ui/student/f10", script_f10, run_in_app);
  g_test_add_data_func ("/ui/student/banner-matches-line", script_banner, run_in_app);
  g_test_add_data_func ("/ui/student/busy", script_busy, run_in_app);
  g_test_add_data_func ("/ui/student/train", script_train, run_in_app);
  g_test_add_data_func ("/ui/student/overview", script_overview, run_in_app);
  g_test_add_data_func ("/ui/student/text", script_text, run_in_app);
  g_test_add_data_func ("/ui/student/words", script_words, run_in_app);
  g_test_add_data_func ("/ui/student/numbers", script_numbers, run_in_app);
  g_test_add_func ("/ui/student/loss-words", test_loss_words);
  g_test_add_func ("/ui/student/layer-labels", test_layer_labels_inside);
  g_test_add_data_func ("/ui/student/small", script_small, run_in_app);

  status = g_test_run ();
  app_home_remove (home);
  return status;
}

/* test-student.c: the window tried as a student would (issue 15)
 *
 * Real keys and clicks, sent through the X server (XTest, so under Xvfb), on
 * the real application: F10 steps from anywhere the first time; the phase
 * banner and the highlighted line describe the same moment; keys pressed while
 * the program runs are refused in words. Screenshots go to G_TEST_BUILDDIR
 * (student-*.png). Needs an X display: run it under xvfb-run.
 */

#include <string.h>

#include <gdk/x11/gdkx.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>

/* Screenshots: G_TEST_BUILDDIR/student-NAME.png */
#define SCREENSHOT_PREFIX "student"
#include "app-driver.h"
#include "code-view.h"
#include "event-log.h"

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

/* The centre of widget, in the X screen's coordinates. */
static void
screen_centre (GtkWidget *widget,
               int       *x,
               int       *y)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GdkSurface *surface = gtk_native_get_surface (native);
  Display *dpy = gdk_x11_display_get_xdisplay (gdk_surface_get_display (surface));
  graphene_point_t centre = GRAPHENE_POINT_INIT (gtk_widget_get_width (widget) / 2.0,
                                                 gtk_widget_get_height (widget) / 2.0);
  graphene_point_t in_native;
  double sx, sy;
  Window child;

  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native), &centre, &in_native));
  gtk_native_get_surface_transform (native, &sx, &sy);
  XTranslateCoordinates (dpy, gdk_x11_surface_get_xid (surface), DefaultRootWindow (dpy),
                         (int) (in_native.x + sx), (int) (in_native.y + sy), x, y, &child);
}

static void
click (GtkWidget *widget)
{
  Display *dpy = x_display (GRADLENS_WINDOW (gtk_widget_get_root (widget)));
  int x, y;

  screen_centre (widget, &x, &y);
  XTestFakeMotionEvent (dpy, -1, x, y, CurrentTime);
  XTestFakeButtonEvent (dpy, 1, True, CurrentTime);
  XTestFakeButtonEvent (dpy, 1, False, CurrentTime);
  XFlush (dpy);
  settle ();
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

  status = g_test_run ();
  app_home_remove (home);
  return status;
}

/* test-persian.c: the window in Persian, right to left
 *
 * Starts the real application under LC_ALL=fa_IR.UTF-8 with the translations
 * of this build (GRADLENS_LOCALEDIR), checks that GTK lays the window out
 * right to left, that the lesson picker, the header bar's tooltips and the
 * event log speak Persian while the program, grad_fn names and shapes stay as
 * PyTorch writes them, steps the autograd lesson until its graph is whole and
 * saves build/tests/persian-autograd.png (docs/persian.png, in the README).
 * Skips, saying why, when the fa_IR.UTF-8 locale is not installed
 * (tools/setup.sh generates it).
 */

#include <locale.h>

#include <glib/gi18n.h>

#define SCREENSHOT_PREFIX "persian"
#include "app-driver.h"
#include "event-log.h"
#include "i18n.h"

/* Does text hold at least one letter of the Arabic script (Persian)? */
static gboolean
is_persian (const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_get_script (g_utf8_get_char (p)) == G_UNICODE_SCRIPT_ARABIC)
      return TRUE;
  return FALSE;
}

static GtkWidget *
find_action_button (GtkWidget  *root,
                    const char *action)
{
  if (GTK_IS_BUTTON (root)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_action_button (child, action);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
script_persian (GradlensWindow *window)
{
  GtkWidget *widget = GTK_WIDGET (window);
  GtkWidget *step_op = find_action_button (widget, "win.step-op");
  GPtrArray *nodes = gradlens_window_get_graph_nodes (window);
  g_autofree char *sentence = NULL;
  int steps = 0;

  /* GTK mirrors the whole window: the header bar starts on the right. */
  g_assert_cmpint (gtk_widget_get_default_direction (), ==, GTK_TEXT_DIR_RTL);
  g_assert_cmpint (gtk_widget_get_direction (widget), ==, GTK_TEXT_DIR_RTL);

  /* The header bar's tooltips and the lesson's title are Persian; the keys stay. */
  g_assert_nonnull (step_op);
  g_assert_true (is_persian (gtk_widget_get_tooltip_text (step_op)));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (step_op), "F10"));

  select_lesson (window, "autograd");
  g_assert_true (is_persian (_(gradlens_window_get_lesson (window)->title)));
  while (nodes->len < 6 && steps < 20)
    {
      command (window, "step-op");
      steps++;
    }
  g_assert_cmpuint (nodes->len, ==, 6);

  /* An event sentence: Persian around PyTorch's own words. */
  sentence = stepper_describe_event (&(Event) { .kind = EVENT_BACKWARD_END }, NULL);
  g_assert_true (is_persian (sentence));

  screenshot (window, "autograd");
}

static void
skip_without_locale (void)
{
  g_test_skip ("the fa_IR.UTF-8 locale is not installed (tools/setup.sh generates it: "
               "localedef -i fa_IR -f UTF-8 fa_IR.UTF-8)");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config = NULL;
  int status;

  config = app_home_new ("gradlens-test-persian");
  g_setenv ("LC_ALL", "fa_IR.UTF-8", TRUE);
  g_setenv ("LANGUAGE", "fa", TRUE);
  if (setlocale (LC_ALL, "") == NULL)
    {
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/ui/persian/window", skip_without_locale);
      status = g_test_run ();
      app_home_remove (config);
      return status;
    }
  gradlens_i18n_init ();
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ui/persian/window", script_persian, run_in_app);

  status = g_test_run ();
  app_home_remove (config);
  return status;
}

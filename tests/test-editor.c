/* test-editor.c: the code view as an editor (issue 14), in the real window
 *
 * - the code view is a GtkSourceView: Python highlighting, line numbers, no
 *   wrapping (a long line scrolls sideways, whole), the executing line marked
 *   in the gutter in its phase's colour, Adwaita or Adwaita-dark as the theme
 *   is; screenshots editor-light.png and editor-dark.png.
 */

#include <string.h>

#include <gtk/gtk.h>
#include <gtksourceview/gtksource.h>

#define SCREENSHOT_PREFIX "editor"
#include "app-driver.h"
#include "code-view.h"
#include "event-log.h"
#include "theme.h"

static GradlensCodeView *
code_of (GradlensWindow *window)
{
  return GRADLENS_CODE_VIEW (panel (window, "code-view"));
}

/* The source mark categories on a 1-based line, joined by spaces. */
static char *
categories_at (GradlensCodeView *code,
               int               line)
{
  GtkSourceBuffer *buffer = GTK_SOURCE_BUFFER (gtk_text_view_get_buffer (gradlens_code_view_get_text_view (code)));
  GSList *marks = gtk_source_buffer_get_source_marks_at_line (buffer, line - 1, NULL);
  GString *s = g_string_new (NULL);

  for (GSList *l = marks; l != NULL; l = l->next)
    g_string_append_printf (s, "%s%s", s->len ? " " : "",
                            gtk_source_mark_get_category (GTK_SOURCE_MARK (l->data)));
  g_slist_free (marks);
  return g_string_free (s, FALSE);
}

/* The 1-based line whose text is exactly TEXT; 0: none. */
static int
find_line (GradlensCodeView *code,
           const char       *text)
{
  for (int i = 1;; i++)
    {
      g_autofree char *line = gradlens_code_view_dup_line_text (code, i);

      if (line == NULL)
        return 0;
      if (g_str_equal (line, text))
        return i;
    }
}

static void
script_source_view (GradlensWindow *window)
{
  GradlensCodeView *code = code_of (window);
  GtkTextView *text = gradlens_code_view_get_text_view (code);
  GtkSourceBuffer *buffer;
  GtkSettings *settings = gtk_settings_get_default ();
  g_autofree char *marks = NULL;

  g_assert_true (GTK_SOURCE_IS_VIEW (text));
  buffer = GTK_SOURCE_BUFFER (gtk_text_view_get_buffer (text));
  g_assert_nonnull (gtk_source_buffer_get_language (buffer));
  g_assert_true (g_str_has_prefix (gtk_source_language_get_id (gtk_source_buffer_get_language (buffer)),
                                   "python"));
  g_assert_true (gtk_source_view_get_show_line_numbers (GTK_SOURCE_VIEW (text)));
  g_assert_true (gtk_source_view_get_show_line_marks (GTK_SOURCE_VIEW (text)));
  g_assert_cmpint (gtk_text_view_get_wrap_mode (text), ==, GTK_WRAP_NONE);
  g_assert_true (gtk_text_view_get_monospace (text));
  g_assert_cmpstr (gtk_source_style_scheme_get_id (gtk_source_buffer_get_style_scheme (buffer)),
                   ==, "Adwaita");

  select_lesson (window, "autograd");
  /* Never wrapped: the long comment is one line of the view. */
  g_assert_cmpint (find_line (code, "# The gradients are dQ/da = 9a² and dQ/db = -2b:"), >, 0);

  command (window, "step-op");
  command (window, "step-op");
  g_assert_cmpstr (gradlens_code_view_get_phase (code), ==, "forward");
  g_assert_cmpint (gradlens_code_view_get_line (code), >, 0);
  marks = categories_at (code, gradlens_code_view_get_line (code));
  g_assert_cmpstr (marks, ==, "gradlens-line-forward");
  screenshot (window, "light");

  /* Backward: the arrow takes the backward colour. */
  while (phase_of (window) != LESSON_PHASE_BACKWARD)
    command (window, "run-to-phase-end");
  command (window, "step-backward-node");
  g_clear_pointer (&marks, g_free);
  marks = categories_at (code, gradlens_code_view_get_line (code));
  g_assert_cmpstr (marks, ==, "gradlens-line-backward");

  g_object_set (settings, "gtk-application-prefer-dark-theme", TRUE, NULL);
  wait_painted (window);
  g_assert_cmpstr (gtk_source_style_scheme_get_id (gtk_source_buffer_get_style_scheme (buffer)),
                   ==, "Adwaita-dark");
  screenshot (window, "dark");
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
  wait_painted (window);
  g_assert_cmpstr (gtk_source_style_scheme_get_id (gtk_source_buffer_get_style_scheme (buffer)),
                   ==, "Adwaita");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config = app_home_new ("gradlens-test-editor");

  g_setenv ("OPENBLAS_NUM_THREADS", "2", FALSE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ui/editor/source-view", script_source_view, run_in_app);

  return g_test_run ();
}

/* test-editor.c: the code view as an editor (issue 14), in the real window
 *
 * - the code view is a GtkSourceView: Python highlighting, line numbers, no
 *   wrapping (a long line scrolls sideways, whole), the executing line marked
 *   in the gutter in its phase's colour, Adwaita or Adwaita-dark as the theme
 *   is; screenshots editor-light.png and editor-dark.png;
 * - breakpoints: a click in the gutter (GtkSourceView's ::line-mark-activated),
 *   win.toggle-breakpoint (F12, Ctrl+B) at the cursor's line; play and
 *   run-to-end stop at them, the log says so; they move with their line when a
 *   line is inserted above, and the stepper's set follows; editor-breakpoints.png;
 * - errors where they happen: the second Q.backward() of the autograd lesson
 *   is logged as a failure with PyTorch's reason, not "Backward finished", its
 *   node selected in the graph (editor-backward-failed.png); the tracebacks of
 *   real Python programs (an exception; a SyntaxError, checked before anything
 *   runs) mark their line and column, the message first in the banner over the
 *   code (editor-traceback.png, editor-syntax-error.png);
 * - editing, as a student would: open a file, change a line (the run resets,
 *   the edited text is what runs, the window says it is modified), set a
 *   breakpoint and run to it, break the program and see it fail on its line,
 *   fix it, run to the end (the Output tab's badge), save, revert, new
 *   (editor-edited.png);
 * - the Examples menu: each example opens from win.open-example as a program
 *   without a file, its title in the picker, runs to the end and prints
 *   what PyTorch printed (tests/programs/examples/NAME.out); editor-example.png.
 */

#include <string.h>

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <gtksourceview/gtksource.h>

#define SCREENSHOT_PREFIX "editor"
#include "app-driver.h"
#include "tmp-dir.h"
#include "code-view.h"
#include "event-log.h"
#include "lessons.h"
#include "module-tree.h"
#include "program.h"
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

static GtkTextBuffer *
buffer_of (GradlensCodeView *code)
{
  return gtk_text_view_get_buffer (gradlens_code_view_get_text_view (code));
}

static char *
breakpoint_list (GradlensCodeView *code)
{
  g_autoptr (GArray) lines = gradlens_code_view_get_breakpoints (code);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (s, "%s%d", i ? " " : "", g_array_index (lines, int, i));
  return g_string_free (s, FALSE);
}

static const char *
last_log_entry (GradlensWindow *window)
{
  GradlensEventLog *log = GRADLENS_EVENT_LOG (panel (window, "event-log"));
  guint n = gradlens_event_log_get_n_entries (log);

  g_assert_cmpuint (n, >, 0);
  return gradlens_event_log_get_text (log, n - 1);
}

static void
script_breakpoints (GradlensWindow *window)
{
  GradlensCodeView *code = code_of (window);
  GtkTextView *text = gradlens_code_view_get_text_view (code);
  GtkTextBuffer *buffer = buffer_of (code);
  GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (panel (window, "speed"))));
  Stepper *stepper;
  GtkTextIter iter;
  g_autofree char *list = NULL;
  g_autofree char *marks = NULL;
  int backward_line, print_line;
  gint64 deadline;

  gtk_range_set_value (GTK_RANGE (find_descendant (popover, GTK_TYPE_SCALE)), 30);
  select_lesson (window, "autograd");
  stepper = gradlens_window_get_stepper (window);
  backward_line = find_line (code, "Q.backward(gradient=external_grad)");
  print_line = find_line (code, "print(a.grad)");
  g_assert_cmpint (backward_line, >, 0);

  /* The key, at the cursor's line. */
  gtk_text_buffer_get_iter_at_line (buffer, &iter, 4);
  gtk_text_buffer_place_cursor (buffer, &iter);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.toggle-breakpoint", NULL));
  g_assert_true (gradlens_code_view_has_breakpoint (code, 5));
  /* A click in the gutter (the marks renderer's activation). */
  gtk_text_buffer_get_iter_at_line (buffer, &iter, backward_line - 1);
  g_signal_emit_by_name (text, "line-mark-activated", &iter, GDK_BUTTON_PRIMARY, 0, 1);
  g_assert_true (gradlens_code_view_has_breakpoint (code, backward_line));
  g_assert_true (gradlens_window_toggle_breakpoint (window, print_line));
  g_assert_false (gradlens_window_toggle_breakpoint (window, print_line));
  g_assert_cmpuint (stepper_get_n_breakpoints (stepper), ==, 2);
  g_assert_true (stepper_has_breakpoint (stepper, 5));
  g_assert_true (stepper_has_breakpoint (stepper, backward_line));
  g_assert_false (stepper_has_breakpoint (stepper, print_line));

  /* Play stops at line 5. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.play-pause", NULL));
  deadline = g_get_monotonic_time () + WAIT_SECONDS * G_TIME_SPAN_SECOND;
  while (gradlens_window_is_playing (window) && g_get_monotonic_time () < deadline)
    wait_synced (current->synced);
  g_assert_false (gradlens_window_is_playing (window));
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);
  g_assert_true (stepper_get_event (stepper)->breakpoint);
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 5);
  g_assert_cmpstr (last_log_entry (window), ==, "Paused at the breakpoint on line 5");
  marks = categories_at (code, 5);
  g_assert_nonnull (strstr (marks, "gradlens-breakpoint"));
  g_assert_nonnull (strstr (marks, "gradlens-line-forward"));
  /* The gutter says what the dot is. */
  {
    GtkSourceBuffer *source = GTK_SOURCE_BUFFER (buffer);
    GSList *bp = gtk_source_buffer_get_source_marks_at_line (source, 4, "gradlens-breakpoint");
    GtkSourceMarkAttributes *attributes =
      gtk_source_view_get_mark_attributes (GTK_SOURCE_VIEW (text), "gradlens-breakpoint", NULL);
    g_autofree char *tip = NULL;

    g_assert_nonnull (bp);
    tip = gtk_source_mark_attributes_get_tooltip_text (attributes, bp->data);
    g_assert_true (g_str_has_prefix (tip, "Breakpoint: "));
    g_slist_free (bp);
  }
  /* The cursor follows the program: F12 now would clear this one. */
  g_assert_cmpint (gradlens_code_view_get_cursor_line (code), ==, 5);

  /* Run to the end stops at Q.backward's line. */
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, backward_line);
  g_autofree char *words = g_strdup_printf ("Paused at the breakpoint on line %d", backward_line);
  g_assert_cmpstr (last_log_entry (window), ==, words);
  screenshot (window, "breakpoints");

  /* A line inserted above: the breakpoints move with their lines, and the
   * stepper's set with them. */
  gtk_text_view_set_editable (text, TRUE);
  gtk_text_buffer_get_start_iter (buffer, &iter);
  gtk_text_buffer_insert (buffer, &iter, "# a new first line\n", -1);
  list = breakpoint_list (code);
  g_autofree char *moved = g_strdup_printf ("6 %d", backward_line + 1);
  g_assert_cmpstr (list, ==, moved);
  g_assert_true (stepper_has_breakpoint (stepper, backward_line + 1));
  g_assert_false (stepper_has_breakpoint (stepper, 5));
  /* The same program again (Reset): kept; another lesson: gone. */
  gtk_text_buffer_get_iter_at_line (buffer, &iter, 1);
  {
    GtkTextIter start;

    gtk_text_buffer_get_start_iter (buffer, &start);
    gtk_text_buffer_delete (buffer, &start, &iter);
  }
  gtk_text_view_set_editable (text, FALSE);
  command (window, "reset");
  g_clear_pointer (&list, g_free);
  list = breakpoint_list (code);
  g_autofree char *back = g_strdup_printf ("5 %d", backward_line);
  g_assert_cmpstr (list, ==, back);
  g_assert_true (stepper_has_breakpoint (gradlens_window_get_stepper (window), 5));
  select_lesson (window, "requires-grad");
  g_assert_cmpuint (gradlens_code_view_get_n_breakpoints (code), ==, 0);
  g_assert_cmpuint (stepper_get_n_breakpoints (gradlens_window_get_stepper (window)), ==, 0);
}

static void
script_backward_failure (GradlensWindow *window)
{
  GradlensEventLog *log = GRADLENS_EVENT_LOG (panel (window, "event-log"));
  GraphView *graph = GRAPH_VIEW (panel (window, "graph"));
  guint finished = 0, failed = 0;

  select_lesson (window, "autograd");
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  for (guint i = 0; i < gradlens_event_log_get_n_entries (log); i++)
    {
      const char *text = gradlens_event_log_get_text (log, i);

      if (g_str_equal (text, "Backward finished"))
        finished++;
      if (g_str_has_prefix (text, "Backward failed at PowBackward0: Trying to backward through "
                                  "the graph a second time"))
        failed++;
    }
  /* The first backward finished, the second failed. */
  g_assert_cmpuint (finished, ==, 1);
  g_assert_cmpuint (failed, ==, 1);
  g_assert_nonnull (graph_view_get_selection (graph));
  g_assert_cmpstr (node_name (graph_view_get_selection (graph)), ==, "PowBackward0");
  screenshot (window, "backward-failed");
}

/* A program's traceback, as the embedded Python gives it. */
static char *
run_program (const char  *source,
             Lesson     **lesson_out)
{
  Lesson *lesson = program_lesson_new ("oops.py", source);
  LessonRun *run = lesson_run_new (lesson, NULL);
  g_autoptr (GError) error = NULL;
  char *text;

  g_assert_false (lesson_run_execute (run, &error));
  g_assert_nonnull (error);
  text = g_strdup (error->message);
  g_test_message ("%s", text);
  lesson_run_free (run);
  *lesson_out = lesson;
  return text;
}

/* Replaces 1-based line's text as typing would (an edit, not set_code), then
 * pauses as the student would: the edited program is what runs, from its
 * first line. */
static void
type_line (GradlensCodeView *code,
           int               line,
           const char       *text)
{
  GtkTextBuffer *buffer = buffer_of (code);
  GtkTextIter start, end;
  guint before = current->synced;

  gtk_text_buffer_get_iter_at_line (buffer, &start, line - 1);
  end = start;
  gtk_text_iter_forward_to_line_end (&end);
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_delete (buffer, &start, &end);
  gtk_text_buffer_insert (buffer, &start, text, -1);
  gtk_text_buffer_end_user_action (buffer);
  wait_synced (before);
  g_assert_cmpint (status_of (GRADLENS_WINDOW (gtk_widget_get_root (GTK_WIDGET (code)))), ==,
                   STEPPER_READY);
}

static char *
output_of (GradlensWindow *window)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (panel (window, "output-view")));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
script_editing (GradlensWindow *window)
{
  static const char program[] =
    "import torch\n"
    "a = torch.tensor([2., 3.], requires_grad=True)\n"
    "b = torch.tensor([6., 4.], requires_grad=True)\n"
    "Q = 3*a**3 - b**2\n"
    "Q.sum().backward()\n"
    "print(a.grad)\n";
  GradlensCodeView *code = code_of (window);
  GtkNotebook *notebook = GTK_NOTEBOOK (panel (window, "log-notebook"));
  g_autofree char *dir = tmp_dir_new ("gradlens-editor-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "mine.py", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *text = NULL;
  g_autofree char *output = NULL;
  GPtrArray *nodes;
  gboolean has_sin = FALSE;

  g_assert_true (g_file_set_contents (path, program, -1, NULL));
  g_assert_true (gradlens_window_open_program (window, file, &error));
  g_assert_no_error (error);
  g_assert_false (gradlens_window_is_modified (window));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "mine.py — GradLens");
  g_assert_false (action_enabled (window, "revert-program"));
  command (window, "step-op");
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);

  /* An edit while paused: modified at once, the edited text runs next. */
  type_line (code, 4, "Q = a*b + a.sin()");
  g_assert_true (gradlens_window_is_modified (window));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "• mine.py — GradLens");
  g_assert_true (action_enabled (window, "revert-program"));
  command (window, "step-op");
  g_assert_nonnull (strstr (gradlens_window_get_lesson (window)->source, "a.sin()"));
  while (gradlens_code_view_get_line (code) < 5)
    command (window, "step-op");
  nodes = gradlens_window_get_graph_nodes (window);
  for (guint i = 0; i < nodes->len; i++)
    has_sin = has_sin || g_str_equal (node_name (nodes->pdata[i]), "SinBackward0");
  g_assert_true (has_sin);
  /* The picker still names the file; the banner no error. */
  g_assert_null (gradlens_code_view_get_error (code));

  /* A breakpoint on the print, and run to it. */
  g_assert_true (gradlens_window_toggle_breakpoint (window, 6));
  command (window, "reset");
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_PAUSED);
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 6);

  /* Broken: it fails on its line, with Python's message. */
  gtk_notebook_set_current_page (notebook, 0);   /* the events, not the output */
  type_line (code, 6, "print(a.grad.no_such_thing)");
  command (window, "run-to-end");   /* to the breakpoint, kept on its line */
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 6);
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 6);
  g_assert_nonnull (gradlens_code_view_get_error (code));
  g_assert_true (g_str_has_prefix (gradlens_code_view_get_error (code), "AttributeError"));
  screenshot (window, "edited");

  /* Fixed: it runs to its end and prints what PyTorch prints; the Output tab
   * says there is something new until it is shown. */
  type_line (code, 6, "print(a.grad)");
  gradlens_window_toggle_breakpoint (window, 6);
  command (window, "run-to-end");
  g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
  g_assert_null (gradlens_code_view_get_error (code));
  output = output_of (window);
  g_assert_cmpstr (output, ==, "tensor([5.5839, 3.0100])\n");
  {
    GtkWidget *page = gtk_notebook_get_nth_page (notebook, 1);
    const char *label = gtk_notebook_get_tab_label_text (notebook, page);

    g_assert_true (g_str_has_suffix (label, "●"));
    gtk_notebook_set_current_page (notebook, 1);
    g_assert_false (g_str_has_suffix (gtk_notebook_get_tab_label_text (notebook, page), "●"));
  }

  /* Saved: the file holds the text, nothing is modified any more. */
  g_assert_true (gradlens_window_save_program (window, file, &error));
  g_assert_no_error (error);
  g_assert_false (gradlens_window_is_modified (window));
  g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));
  text = gradlens_code_view_dup_text (code);
  g_assert_cmpstr (saved, ==, text);
  g_assert_nonnull (strstr (saved, "Q = a*b + a.sin()"));

  /* A save that cannot happen says why and keeps the file. */
  {
    g_autofree char *bad_path = g_build_filename (dir, "no-such-dir", "x.py", NULL);
    g_autoptr (GFile) bad = g_file_new_for_path (bad_path);

    type_line (code, 1, "import torch  # changed");
    g_assert_false (gradlens_window_save_program (window, bad, &error));
    g_assert_nonnull (strstr (error->message, "x.py"));
    g_clear_error (&error);
    g_assert_true (gradlens_window_is_modified (window));
    gradlens_window_show_error (window, NULL);
  }

  /* Revert: back to the saved text. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.revert-program", NULL));
  g_clear_pointer (&text, g_free);
  text = gradlens_code_view_dup_text (code);
  g_assert_cmpstr (text, ==, saved);
  g_assert_false (gradlens_window_is_modified (window));

  /* New: a small whole program that runs. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-program", NULL));
  g_assert_false (gradlens_window_is_modified (window));
  g_assert_cmpstr (gradlens_window_get_lesson (window)->name, ==, "untitled");
  command (window, "run-to-end");
  g_clear_pointer (&output, g_free);
  output = output_of (window);
  g_assert_cmpstr (output, ==, "tensor([2., 4., 6.])\n");

  /* An edited lesson: Revert brings the lesson back, settings and all. */
  select_lesson (window, "autograd");
  type_line (code, 1, "import torch  # mine");
  g_assert_true (gradlens_window_is_modified (window));
  command (window, "step-op");
  g_assert_false (gradlens_window_get_lesson (window)->builtin);
  /* Quit asks first; Cancel keeps the window and the edit. */
  g_action_group_activate_action (G_ACTION_GROUP (gtk_window_get_application (GTK_WINDOW (window))),
                                  "quit", NULL);
  {
    GtkWidget *question = NULL;
    gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_TIME_SPAN_SECOND;

    while (question == NULL && g_get_monotonic_time () < deadline)
      {
        GListModel *toplevels = gtk_window_get_toplevels ();   /* borrowed */

        g_main_context_iteration (NULL, FALSE);
        for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
          {
            g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);

            if (GTK_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
              question = GTK_WIDGET (w);
          }
      }
    g_assert_nonnull (question);
    gtk_dialog_response (GTK_DIALOG (question), GTK_RESPONSE_CANCEL);
  }
  g_assert_true (gradlens_window_is_modified (window));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.revert-program", NULL));
  g_assert_true (gradlens_window_get_lesson (window)->builtin);
  g_assert_false (gradlens_window_is_modified (window));

  tmp_dir_remove (dir);
}

static void
script_tracebacks (GradlensWindow *window)
{
  static const char raising[] =
    "import torch\n"
    "\n"
    "def f(x):\n"
    "    return x.sum()\n"
    "\n"
    "a = torch.tensor([1., 2.], requires_grad=True)\n"
    "y = f(a) * 2\n"
    "y.backward()\n"
    "if True:\n"
    "    y.backward()\n"
    "print('never')\n";
  static const char syntax[] =
    "import torch\n"
    "a = torch.ones(2)\n"
    "b = (a +\n";
  GradlensCodeView *code = code_of (window);
  Lesson *lesson = NULL;
  g_autofree char *text = NULL;
  g_autofree char *marks = NULL;
  const char *banner;

  select_lesson (window, "autograd");
  gradlens_code_view_set_code (code, raising);
  text = run_program (raising, &lesson);
  gradlens_code_view_show_error (code, text, 0);
  /* Raised on line 10, its call underlined from its first column (the
   * program's code and 3.11's carets under the frame, from memory)... */
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 10);
  marks = categories_at (code, 10);
  g_assert_cmpstr (marks, ==, "gradlens-error");
  g_assert_cmpint (gradlens_code_view_get_error_column (code), ==, 5);
  /* ...the message first, then Python's frames. */
  banner = gradlens_code_view_get_error (code);
  g_assert_true (g_str_has_prefix (banner, "RuntimeError: Trying to backward through the graph "
                                           "a second time"));
  g_assert_nonnull (strstr (banner, "\n\nTraceback (most recent call last):\n"));
  g_assert_nonnull (strstr (banner, "line 10, in <module>\n    y.backward()"));
  gradlens_code_view_set_phase (code, "error", "Stopped with an error", NULL);
  screenshot (window, "traceback");
  lesson_free (lesson);

  /* A program read from its file: 3.11's carets under the code say where in
   * the line, the indentation Python strips put back. */
  gradlens_code_view_show_error (code,
                                 "Traceback (most recent call last):\n"
                                 "  File \"oops.py\", line 10, in <module>\n"
                                 "    y.backward()\n"
                                 "    ^^^^^^^^^^^^\n"
                                 "RuntimeError: Trying to backward through the graph a second "
                                 "time\n", 0);
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 10);
  g_assert_cmpint (gradlens_code_view_get_error_column (code), ==, 5);
  g_assert_cmpstr (gradlens_code_view_get_error (code), ==,
                   "RuntimeError: Trying to backward through the graph a second time\n\n"
                   "Traceback (most recent call last):\n"
                   "  File \"oops.py\", line 10, in <module>\n"
                   "    y.backward()\n"
                   "    ^^^^^^^^^^^^");

  /* A SyntaxError, found before anything runs: its line and column. */
  gradlens_code_view_set_code (code, syntax);
  g_assert_null (gradlens_code_view_get_error (code));
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (program_check_syntax ("oops.py", syntax, &error));
    gradlens_code_view_show_error (code, error->message, 0);
  }
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 3);
  g_assert_cmpint (gradlens_code_view_get_error_column (code), ==, 5);
  g_assert_true (g_str_has_prefix (gradlens_code_view_get_error (code),
                                   "SyntaxError: '(' was never closed"));
  screenshot (window, "syntax-error");

  /* Not a traceback: the words as they are, the line given. */
  gradlens_code_view_show_error (code, "The input size must be 32 or more", 2);
  g_assert_cmpstr (gradlens_code_view_get_error (code), ==, "The input size must be 32 or more");
  g_assert_cmpint (gradlens_code_view_get_line (code), ==, 2);
  g_assert_cmpint (gradlens_code_view_get_error_column (code), ==, 0);
  gradlens_code_view_show_error (code, NULL, 0);
  g_assert_null (gradlens_code_view_get_error (code));
  /* The texts above went in behind the window's back: the lesson's again. */
  select_lesson (window, "autograd");
  g_assert_false (gradlens_window_is_modified (window));
}

/* The win.open-example items of a menu and its submenus, as "target label" lines. */
static void
collect_examples (GMenuModel *menu,
                  GString    *items)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *action = NULL;
      g_autofree char *label = NULL;
      g_autoptr (GVariant) target = NULL;
      g_autoptr (GMenuLinkIter) links = g_menu_model_iterate_item_links (menu, i);
      GMenuModel *link;

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &action)
          && g_str_equal (action, "win.open-example"))
        {
          g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label);
          target = g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_TARGET,
                                                          G_VARIANT_TYPE_STRING);
          g_assert_nonnull (target);
          g_string_append_printf (items, "%s %s\n", g_variant_get_string (target, NULL), label);
        }
      while (g_menu_link_iter_get_next (links, NULL, &link))
        {
          collect_examples (link, items);
          g_object_unref (link);
        }
    }
}

static void
script_examples (GradlensWindow *window)
{
  guint n;
  const Lesson *const *examples = example_list (&n);
  GtkDropDown *picker = GTK_DROP_DOWN (panel (window, "lesson-dropdown"));
  g_autoptr (GString) expected_menu = g_string_new (NULL);
  g_autoptr (GString) menu = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  GtkWidget *titlebar = gtk_window_get_titlebar (GTK_WINDOW (window));

  /* The primary menu lists them all, by title ("no__grad": not a mnemonic). */
  for (guint i = 0; i < n; i++)
    {
      g_auto (GStrv) parts = g_strsplit (_(examples[i]->title), "_", -1);
      g_autofree char *label = g_strjoinv ("__", parts);

      g_string_append_printf (expected_menu, "%s %s\n", examples[i]->name, label);
    }
  {
    g_autoptr (GPtrArray) stack = g_ptr_array_new ();

    g_ptr_array_add (stack, titlebar);
    while (stack->len > 0)
      {
        GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);

        if (GTK_IS_MENU_BUTTON (w) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)))
          collect_examples (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)), menu);
        for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
          g_ptr_array_add (stack, c);
      }
  }
  g_assert_cmpstr (menu->str, ==, expected_menu->str);

  /* No such example: refused, and the lesson stays. */
  select_lesson (window, "autograd");
  g_assert_false (gradlens_window_open_example (window, "resnet50", &error));
  g_assert_error (error, LESSON_ERROR, LESSON_ERROR_UNKNOWN);
  g_assert_cmpstr (gradlens_window_get_lesson (window)->name, ==, "autograd");
  gradlens_window_show_error (window, NULL);

  for (guint i = 0; i < n; i++)
    {
      const char *name = examples[i]->name;
      const char *title = _(examples[i]->title);
      g_autofree char *file = g_strconcat (name, ".out", NULL);
      g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "programs", "examples", file,
                                                        NULL);
      g_autofree char *expected = NULL;
      g_autofree char *output = NULL;
      guint before = current->synced;

      g_test_message ("example %s", name);
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-example", "s", name));
      wait_synced (before);
      g_assert_cmpstr (gradlens_window_get_lesson (window)->name, ==, name);
      g_assert_true (gradlens_window_get_lesson (window) != examples[i]);   /* a copy */
      /* Not a file yet: Save would ask where, under the example's file name. */
      {
        g_autofree char *file_name = g_strconcat (name, ".py", NULL);

        g_assert_nonnull (strstr (gtk_window_get_title (GTK_WINDOW (window)), file_name));
      }
      g_assert_false (gradlens_window_is_modified (window));
      g_assert_cmpstr (gtk_string_object_get_string (gtk_drop_down_get_selected_item (picker)), ==,
                       title);
      g_assert_cmpint (status_of (window), ==, STEPPER_READY);

      command (window, "run-to-end");
      g_assert_cmpint (status_of (window), ==, STEPPER_FINISHED);
      g_assert_null (gradlens_window_get_error (window));
      g_assert_true (g_file_get_contents (fixture, &expected, NULL, NULL));
      output = output_of (window);
      g_assert_cmpstr (output, ==, expected);
      if (g_str_equal (name, "cross-entropy"))
        screenshot (window, "example");
      /* A training program's loss per step and its layers, beside the log. */
      g_assert_true (gtk_widget_get_visible (panel (window, "plot-notebook"))
                     == (strstr (examples[i]->source, "optim.") != NULL));
      if (g_str_equal (name, "mlp-regression"))
        {
          gtk_notebook_set_current_page (GTK_NOTEBOOK (panel (window, "plot-notebook")), 1);
          screenshot (window, "mlp-regression-layers");
          gtk_notebook_set_current_page (GTK_NOTEBOOK (panel (window, "plot-notebook")), 0);
          screenshot (window, "mlp-regression");
        }
      if (g_str_equal (name, "custom-module"))
        {
          /* The program's own model in the module tree: its class, its layers. */
          GradlensModuleTree *tree = GRADLENS_MODULE_TREE (panel (window, "module-tree"));
          Module *model = gradlens_module_tree_get_model (tree);
          ParamCounts counts;

          g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (tree)));
          g_assert_nonnull (model);
          g_assert_cmpstr (module_type_name (model), ==, "TwoLayer");
          g_assert_true (gradlens_module_tree_select (tree, "hidden.weight"));
          gradlens_module_tree_get_counts (tree, &counts);
          g_assert_cmpint (counts.total, ==, 3 * 4 + 4 + 4 * 1 + 1);
          g_assert_cmpint (counts.trainable, ==, counts.total);
          screenshot (window, "custom-module");
        }
    }

  /* Back to a lesson from the picker. */
  select_lesson (window, "requires-grad");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "GradLens");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config = app_home_new ("gradlens-test-editor");

  g_setenv ("OPENBLAS_NUM_THREADS", "2", FALSE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ui/editor/source-view", script_source_view, run_in_app);
  g_test_add_data_func ("/ui/editor/breakpoints", script_breakpoints, run_in_app);
  g_test_add_data_func ("/ui/editor/backward-failure", script_backward_failure, run_in_app);
  g_test_add_data_func ("/ui/editor/tracebacks", script_tracebacks, run_in_app);
  g_test_add_data_func ("/ui/editor/editing", script_editing, run_in_app);
  g_test_add_data_func ("/ui/editor/examples", script_examples, run_in_app);

  return g_test_run ();
}

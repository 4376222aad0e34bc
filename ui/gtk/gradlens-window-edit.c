/* gradlens-window-edit.c: the program as the student edits, saves and opens it
 *
 * The code view is an editor. An edit resets the run without asking: once the
 * student pauses typing (or gives a command), the edited text is what runs,
 * from its first line, as a program of its own; a syntax error is marked
 * before anything runs. The program is "modified" while its text differs from
 * its origin — the lesson's own text, or the file's as last read or saved:
 * the header then offers Revert, the title says so, and closing the window,
 * opening another program or picking a lesson ask before the edits go.
 *
 * Save writes the text to its file (a new file: Save As), atomically, so a
 * failed save leaves the old file as it was. Programs opened or saved join
 * GTK's recent files, and the primary menu's Recent section lists them.
 */

#include "gradlens-window-private.h"
#include "program.h"

#include <glib/gi18n.h>

/* How long typing may pause before the edited text runs. */
#define EDIT_PAUSE_MS 600
/* How many recent programs the menu lists. */
#define RECENT_MAX 6

/* The text a new program starts with: a whole small program, so that the first
 * step already shows a graph, under a comment that says what to do with it. */
static char *
new_program_text (void)
{
  /* not translated: Python (its comments are, below) */
  return g_strdup_printf ("# title: %s\n"
                          "# %s\n"
                          "import torch\n"
                          "\n"
                          "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
                          "y = (x ** 2).sum()\n"
                          "y.backward()\n"
                          "print(x.grad)\n",
                          _("My program"),
                          _("A PyTorch program of your own: change it, then step through it "
                            "(F10)."));
}

static char *
current_text (GradlensWindow *self)
{
  return gradlens_code_view_dup_text (self->code_view);
}

/* The program's file name: the saved file's path, the lesson's file, or the
 * name a new program will be saved under. */
static char *
program_path (GradlensWindow *self)
{
  if (self->file != NULL)
    {
      char *path = g_file_get_path (self->file);
      if (path != NULL)
        return path;
    }
  if (self->origin_lesson != NULL)
    return g_strdup (self->origin_lesson->filename);
  if (self->lesson != NULL && !self->lesson->builtin)
    return g_strdup (self->lesson->filename);
  return g_strdup ("untitled.py");
}

gboolean
_gradlens_window_is_modified (GradlensWindow *self)
{
  g_autofree char *text = NULL;

  if (self->origin == NULL)
    return FALSE;
  text = current_text (self);
  return !g_str_equal (text, self->origin);
}

/* The title and Revert say whether the text is the origin's. */
static void
update_modified (GradlensWindow *self)
{
  gboolean modified = _gradlens_window_is_modified (self);
  g_autofree char *path = program_path (self);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *title = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->revert_button), modified);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->revert_button),
                               self->origin_lesson != NULL
                                 ? _("Undo your changes: back to the lesson’s own program")
                                 : _("Undo your changes: back to the program as it was saved"));
  /* not translated: the application's name */
  if (modified)
    title = g_strdup_printf ("• %s — GradLens", base);
  else if (self->origin_lesson != NULL)
    title = g_strdup ("GradLens");
  else
    title = g_strdup_printf ("%s — GradLens", base);
  gtk_window_set_title (GTK_WINDOW (self), title);
  _gradlens_window_update_actions (self);
}

void
_gradlens_window_set_origin (GradlensWindow *self,
                             const char     *text,
                             const Lesson   *lesson,
                             GFile          *file)
{
  char *copy = g_strdup (text);   /* text may be the origin itself */

  g_free (self->origin);
  self->origin = copy;
  self->origin_lesson = lesson;
  if (file != self->file)
    {
      g_clear_object (&self->file);
      self->file = file != NULL ? g_object_ref (file) : NULL;
    }
  update_modified (self);
}

/* --- Edits run ---------------------------------------------------------------- */

void
_gradlens_window_apply_edit (GradlensWindow *self)
{
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;

  if (self->edit_id == 0)
    return;
  g_clear_handle_id (&self->edit_id, g_source_remove);
  text = current_text (self);
  if (self->stepper != NULL
      && g_str_equal (text, lesson_run_get_source (stepper_get_run (self->stepper))))
    return;
  /* Back to the lesson's own text: the lesson again, its settings with it. */
  if (self->origin_lesson != NULL && g_str_equal (text, self->origin))
    {
      _gradlens_window_select_builtin (self, self->origin_lesson);
      return;
    }
  path = program_path (self);
  {
    const Lesson *lesson = self->origin_lesson;
    g_autofree char *origin = g_strdup (self->origin);
    g_autoptr (GFile) file = self->file != NULL ? g_object_ref (self->file) : NULL;

    /* An edited lesson stays under its name in the picker; a file under its own. */
    _gradlens_window_run_program (self, program_lesson_new (path, text),
                                  lesson != NULL ? NULL : path);
    _gradlens_window_set_origin (self, origin, lesson, file);
  }
}

static gboolean
on_edit_pause (gpointer user_data)
{
  GradlensWindow *self = user_data;

  /* apply_edit clears edit_id itself; the source is gone when it returns. */
  _gradlens_window_apply_edit (self);
  return G_SOURCE_REMOVE;
}

static void
on_edited (GradlensCodeView *code_view,
           GradlensWindow   *self)
{
  g_clear_handle_id (&self->edit_id, g_source_remove);
  self->edit_id = g_timeout_add (EDIT_PAUSE_MS, on_edit_pause, self);
  /* A running program stops at once: what it runs is no longer what is shown. */
  if (self->stepper != NULL && stepper_get_status (self->stepper) == STEPPER_RUNNING)
    _gradlens_window_apply_edit (self);
  update_modified (self);
}

/* --- Save ---------------------------------------------------------------------- */

gboolean
gradlens_window_save_program (GradlensWindow *self,
                              GFile          *file,
                              GError        **error)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  path = g_file_get_path (file);
  text = current_text (self);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (&local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot save to %s: only local files can be written"), uri);
    }
  /* A temporary file renamed over the old one: a failure leaves it as it was. */
  else if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                      &local))
    g_prefix_error (&local, _("Cannot save the program: "));
  if (local != NULL)
    {
      gradlens_window_show_error (self, local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  _gradlens_window_set_origin (self, text, NULL, file);
  _gradlens_window_remember_recent (self, file);
  /* The picker names a program by its file. */
  if (self->program != NULL && self->lesson == self->program)
    _gradlens_window_show_program_in_picker (self, path);
  {
    /* Translators: %s is the file the program was saved to. */
    g_autofree char *saved = g_strdup_printf (_("Saved the program to %s"), path);
    gradlens_event_log_append (self->event_log, "info", saved);
  }
  return TRUE;
}

gboolean
gradlens_window_is_modified (GradlensWindow *self)
{
  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);

  return _gradlens_window_is_modified (self);
}

/* What to do once the edits are saved or may go: then (self, data); data is
 * the continuation's, freed with it whether then ran or the student cancelled. */
typedef struct
{
  void         (*then) (GradlensWindow *self, gpointer data);
  gpointer       data;
  GDestroyNotify data_free;
} Continuation;

static void
continuation_free (Continuation *next)
{
  if (next->data_free != NULL)
    next->data_free (next->data);
  g_free (next);
}

static void
on_save_response (GtkNativeDialog *dialog,
                  int              response,
                  GradlensWindow  *self)
{
  Continuation *next = g_object_get_data (G_OBJECT (dialog), "then");
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  if (file != NULL && gradlens_window_save_program (self, file, NULL)
      && next != NULL && next->then != NULL)
    next->then (self, next->data);
  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (dialog));
  g_object_unref (dialog);
}

static void
choose_file_to_save (GradlensWindow *self,
                     Continuation   *next)   /* owned, may be NULL */
{
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;
  g_autofree char *path = program_path (self);
  g_autofree char *base = g_path_get_basename (path);

  chooser = gtk_file_chooser_native_new (_("Save Program"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Python programs (.py)"));
  gtk_file_filter_add_pattern (filter, "*.py");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  if (self->file != NULL)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), self->file, NULL);
  else
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), base);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data_full (G_OBJECT (chooser), "then", next, (GDestroyNotify) continuation_free);
  g_signal_connect (chooser, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
_gradlens_window_choose_program_to_save (GradlensWindow *self)
{
  choose_file_to_save (self, NULL);
}

void
_gradlens_window_save_program (GradlensWindow *self)
{
  if (self->file != NULL)
    gradlens_window_save_program (self, self->file, NULL);
  else
    choose_file_to_save (self, NULL);
}

/* --- Edits that would be lost ---------------------------------------------------- */

static void
on_discard_response (GtkDialog      *dialog,
                     int             response,
                     GradlensWindow *self)
{
  Continuation *next = g_object_steal_data (G_OBJECT (dialog), "then");

  gtk_window_destroy (GTK_WINDOW (dialog));
  if (response == GTK_RESPONSE_REJECT)        /* Discard */
    next->then (self, next->data);
  else if (response == GTK_RESPONSE_ACCEPT)   /* Save, then go on */
    {
      if (self->file != NULL)
        {
          if (gradlens_window_save_program (self, self->file, NULL))
            next->then (self, next->data);
        }
      else
        {
          choose_file_to_save (self, next);
          return;
        }
    }
  continuation_free (next);
}

void
_gradlens_window_confirm_discard (GradlensWindow *self,
                                  void          (*then) (GradlensWindow *self, gpointer data),
                                  gpointer        data,
                                  GDestroyNotify  data_free)
{
  GtkWidget *dialog;
  Continuation *next;
  g_autofree char *path = NULL;
  g_autofree char *base = NULL;

  if (!_gradlens_window_is_modified (self))
    {
      then (self, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  path = program_path (self);
  base = g_path_get_basename (path);
  /* Translators: %s is the program's file name. */
  dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("Save your changes to “%s”?"), base);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("If you don’t save, your changes to the program are lost."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("_Discard"), GTK_RESPONSE_REJECT,
                          _("_Save…"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_widget_add_css_class (gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_REJECT),
                            "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  next = g_new0 (Continuation, 1);
  next->then = then;
  next->data = data;
  next->data_free = data_free;
  g_object_set_data_full (G_OBJECT (dialog), "then", next, (GDestroyNotify) continuation_free);
  g_signal_connect (dialog, "response", G_CALLBACK (on_discard_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
close_now (GradlensWindow *self,
           gpointer        data)
{
  self->closing = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

static gboolean
on_close_request (GtkWindow      *window,
                  GradlensWindow *self)
{
  if (self->closing || !_gradlens_window_is_modified (self))
    return FALSE;
  _gradlens_window_confirm_discard (self, close_now, NULL, NULL);
  return TRUE;   /* not yet */
}

/* --- New, Revert, Open ------------------------------------------------------------ */

static void
new_program_now (GradlensWindow *self,
                 gpointer        data)
{
  g_autofree char *text = new_program_text ();

  _gradlens_window_run_program (self, program_lesson_new ("untitled.py", text), "untitled.py");
  _gradlens_window_set_origin (self, text, NULL, NULL);
}

void
_gradlens_window_new_program (GradlensWindow *self)
{
  _gradlens_window_confirm_discard (self, new_program_now, NULL, NULL);
}

void
_gradlens_window_revert_program (GradlensWindow *self)
{
  g_autofree char *path = NULL;
  g_autofree char *origin = NULL;
  g_autoptr (GFile) file = NULL;

  g_clear_handle_id (&self->edit_id, g_source_remove);
  if (self->origin == NULL)
    return;
  if (self->origin_lesson != NULL)
    {
      _gradlens_window_select_builtin (self, self->origin_lesson);
      return;
    }
  path = program_path (self);
  origin = g_strdup (self->origin);
  file = self->file != NULL ? g_object_ref (self->file) : NULL;
  _gradlens_window_run_program (self, program_lesson_new (path, origin), path);
  _gradlens_window_set_origin (self, origin, NULL, file);
}

/* --- Recent programs ---------------------------------------------------------------- */

void
_gradlens_window_remember_recent (GradlensWindow *self,
                                  GFile          *file)
{
  g_autofree char *uri = g_file_get_uri (file);

  gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
}

static int
newest_first (gconstpointer a,
              gconstpointer b)
{
  GDateTime *ta = gtk_recent_info_get_modified (*(GtkRecentInfo **) a);
  GDateTime *tb = gtk_recent_info_get_modified (*(GtkRecentInfo **) b);

  return g_date_time_compare (tb, ta);
}

/* The Recent section: this application's .py files that still exist, newest first. */
static void
update_recent (GtkRecentManager *manager,
               GradlensWindow   *self)
{
  GList *items = gtk_recent_manager_get_items (manager);
  g_autoptr (GPtrArray) mine = g_ptr_array_new ();
  const char *app = g_get_application_name ();

  for (GList *l = items; l != NULL; l = l->next)
    {
      GtkRecentInfo *info = l->data;

      if (g_str_has_suffix (gtk_recent_info_get_uri (info), ".py")
          && gtk_recent_info_is_local (info) && gtk_recent_info_exists (info)
          && (app == NULL || gtk_recent_info_has_application (info, app)))
        g_ptr_array_add (mine, info);
    }
  g_ptr_array_sort (mine, newest_first);

  g_menu_remove_all (self->recent_menu);
  for (guint i = 0; i < mine->len && i < RECENT_MAX; i++)
    {
      GtkRecentInfo *info = g_ptr_array_index (mine, i);
      g_autoptr (GMenuItem) item = g_menu_item_new (gtk_recent_info_get_display_name (info), NULL);

      g_menu_item_set_action_and_target (item, "win.open-recent", "s", gtk_recent_info_get_uri (info));
      g_menu_append_item (self->recent_menu, item);
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
}

/* --- Files dropped on the window ----------------------------------------------------- */

static void
open_dropped (GradlensWindow *self,
              gpointer        data)
{
  gradlens_window_open_program (self, data, NULL);
}

static gboolean
on_drop (GtkDropTarget  *target,
         const GValue   *value,
         double          x,
         double          y,
         GradlensWindow *self)
{
  GFile *file = g_value_get_object (value);
  g_autofree char *name = NULL;

  if (file == NULL)
    return FALSE;
  name = g_file_get_basename (file);
  if (name != NULL && g_str_has_suffix (name, ".py"))
    _gradlens_window_confirm_discard (self, open_dropped, g_object_ref (file), g_object_unref);
  else
    /* Weights, or anything else: open_weights says what it cannot read. */
    gradlens_window_open_weights (self, file, NULL);
  return TRUE;
}

/* --- The Output tab's badge ----------------------------------------------------------- */

static void
set_output_badge (GradlensWindow *self,
                  gboolean        unseen)
{
  g_autofree char *label = unseen ? g_strdup_printf ("%s ●", _("Output")) : g_strdup (_("Output"));

  gtk_label_set_text (self->output_tab_label, label);
}

void
_gradlens_window_output_grew (GradlensWindow *self)
{
  GtkWidget *page = gtk_widget_get_ancestor (GTK_WIDGET (self->output_view), GTK_TYPE_SCROLLED_WINDOW);

  if (gtk_notebook_get_current_page (self->log_notebook) != gtk_notebook_page_num (self->log_notebook, page))
    set_output_badge (self, TRUE);
}

static void
on_log_page_switched (GtkNotebook    *notebook,
                      GtkWidget      *page,
                      guint           page_num,
                      GradlensWindow *self)
{
  if (gtk_widget_is_ancestor (GTK_WIDGET (self->output_view), page))
    set_output_badge (self, FALSE);
}

/* --- Life cycle --------------------------------------------------------------------------- */

void
_gradlens_window_edit_init (GradlensWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  GtkRecentManager *recent = gtk_recent_manager_get_default ();

  g_signal_connect (self->code_view, "edited", G_CALLBACK (on_edited), self);
  g_signal_connect (self, "close-request", G_CALLBACK (on_close_request), self);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  g_signal_connect (self->log_notebook, "switch-page", G_CALLBACK (on_log_page_switched), self);
  g_signal_connect_object (recent, "changed", G_CALLBACK (update_recent), self, 0);
  update_recent (recent, self);
}

void
_gradlens_window_edit_dispose (GradlensWindow *self)
{
  g_clear_handle_id (&self->edit_id, g_source_remove);
  g_clear_pointer (&self->origin, g_free);
  g_clear_object (&self->file);
}

/* gradlens-window-files.c: weights in and out, and the graph as a picture
 *
 * GTK 4.8 has no GtkFileDialog: the choosers are GtkFileChooserNative (a
 * portal where there is one). Every failure ends in the window's banner with
 * the file and the reason.
 */

#include "gradlens-window-private.h"
#include "graph-export.h"
#include "graph-layout.h"
#include "graph-model.h"
#include "module.h"
#include "pth.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

/* --- Open ------------------------------------------------------------------- */

/* A .pth becomes a .safetensors in the cache, which the lesson's program loads
 * (`model.load_state_dict(load_file(...))`, as Python would with safetensors). */
static char *
convert_pth (const char *path,
             StateDict  *sd,
             GError    **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "gradlens", NULL);
  g_autofree char *out = NULL;
  char *dot = strrchr (base, '.');

  if (dot != NULL)
    *dot = '\0';
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot create the folder %s for the converted weights"), dir);
      return NULL;
    }
  out = g_strdup_printf ("%s/%s.safetensors", dir, base);
  if (!safetensors_save (sd, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

/* A zip ("PK\3\4") or a pickle (protocol 2: 0x80 0x02) is PyTorch's; as in
 * state_dict_load_any, anything else was read as .safetensors. */
static gboolean
is_pytorch_file (const char *path)
{
  guchar head[4] = { 0 };
  FILE *f = fopen (path, "rb");
  size_t n;

  if (f == NULL)
    return FALSE;
  n = fread (head, 1, sizeof head, f);
  fclose (f);
  return (n == 4 && memcmp (head, "PK\3\4", 4) == 0) || (n >= 1 && head[0] == 0x80);
}

gboolean
gradlens_window_open_weights (GradlensWindow *self,
                              GFile          *file,
                              GError        **error)
{
  g_autofree char *path = NULL;
  g_autofree char *usable = NULL;
  g_autoptr (StateDict) sd = NULL;
  g_autoptr (GPtrArray) unexpected = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (Module) check = NULL;
  g_autofree char *message = NULL;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (&local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot open %s: only local files can be loaded"), uri);
      goto fail;
    }

  /* .pth (PyTorch's zip or legacy pickle) or .safetensors, by content. */
  sd = state_dict_load_any (path, &local);
  if (sd == NULL)
    goto fail;

  /* The lesson loads it into resnet18 with 1000 classes: try that now, so a
   * wrong file is refused here with its reason, not halfway through a lesson. */
  check = resnet18_new (1000, self->settings.seed);
  if (!module_load_state_dict (check, sd, &unexpected, &local))
    {
      g_prefix_error (&local, _("Cannot use %s as resnet18 weights: "), path);
      goto fail;
    }

  if (!is_pytorch_file (path))
    usable = g_strdup (path);
  else if ((usable = convert_pth (path, sd, &local)) == NULL)
    goto fail;

  g_free (self->weights);
  self->weights = g_steal_pointer (&usable);
  gradlens_window_show_error (self, NULL);
  gradlens_window_reset (self);

  message = unexpected != NULL && unexpected->len > 0
    /* Translators: %1$s is a file, %2$u the tensors it holds, %3$u of them ignored. */
    ? g_strdup_printf (ngettext ("Weights loaded from %1$s (%2$u tensors; %3$u not in resnet18 "
                                 "was ignored)",
                                 "Weights loaded from %1$s (%2$u tensors; %3$u not in resnet18 "
                                 "were ignored)", unexpected->len),
                       path, state_dict_size (sd), unexpected->len)
    : g_strdup_printf (ngettext ("Weights loaded from %s (%u tensor)",
                                 "Weights loaded from %s (%u tensors)", state_dict_size (sd)),
                       path, state_dict_size (sd));
  gradlens_event_log_append (self->event_log, "info", message);
  return TRUE;

fail:
  gradlens_window_show_error (self, local->message);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* What an Open dialog opens its file with. */
typedef gboolean (*OpenFileFn) (GradlensWindow *self, GFile *file, GError **error);

static void
on_open_response (GtkNativeDialog *dialog,
                  int              response,
                  GradlensWindow  *self)
{
  OpenFileFn open_file = g_object_get_data (G_OBJECT (dialog), "open-file");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        open_file (self, file, NULL);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

/* A modal Open dialog: a filter of what it is for (glob patterns, NULL-ended;
 * mime_type may be NULL), then all files; the chosen file goes to open_file,
 * which says what went wrong itself. */
static void
choose_file_to_open (GradlensWindow     *self,
                     const char         *title,
                     const char         *filter_name,
                     const char *const  *patterns,
                     const char         *mime_type,
                     OpenFileFn          open_file)
{
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;

  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Open"), _("_Cancel"));
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, filter_name);
  for (int i = 0; patterns[i] != NULL; i++)
    gtk_file_filter_add_pattern (filter, patterns[i]);
  if (mime_type != NULL)
    gtk_file_filter_add_mime_type (filter, mime_type);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("All files"));
  gtk_file_filter_add_pattern (filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "open-file", open_file);
  g_signal_connect (chooser, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
_gradlens_window_choose_program_to_open (GradlensWindow *self)
{
  static const char *const patterns[] = { "*.py", NULL };

  choose_file_to_open (self, _("Open Program"), _("Python programs (.py)"), patterns,
                       "text/x-python", gradlens_window_open_program);
}

void
_gradlens_window_choose_weights_to_open (GradlensWindow *self)
{
  static const char *const patterns[] = { "*.safetensors", "*.pth", "*.pt", NULL };

  choose_file_to_open (self, _("Open Weights"), _("resnet18 weights (.safetensors, .pth)"),
                       patterns, NULL, gradlens_window_open_weights);
}

/* --- Save ------------------------------------------------------------------- */

gboolean
gradlens_window_save_weights (GradlensWindow *self,
                              GFile          *file,
                              GError        **error)
{
  g_autofree char *path = NULL;
  g_autoptr (StateDict) sd = NULL;
  g_autoptr (GError) local = NULL;
  Module *model;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  model = _gradlens_window_get_model (self);
  path = g_file_get_path (file);
  if (model == NULL)
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _("There are no weights to save: the lesson has not built its model yet "
                   "(or it is running; pause it first)"));
  else if (path == NULL)
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 _("Cannot save there: only local files can be written"));
  else
    {
      /* Written to a temporary file and renamed: an old file survives a failure. */
      sd = module_state_dict (model);
      if (safetensors_save (sd, path, &local))
        {
          g_autofree char *message
            = g_strdup_printf (ngettext ("Weights saved to %s (%u tensor)",
                                         "Weights saved to %s (%u tensors)", state_dict_size (sd)),
                               path, state_dict_size (sd));
          gradlens_event_log_append (self->event_log, "info", message);
          return TRUE;
        }
    }

  gradlens_window_show_error (self, local->message);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

static void
on_save_response (GtkNativeDialog *dialog,
                  int              response,
                  GradlensWindow  *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        gradlens_window_save_weights (self, file, NULL);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

void
_gradlens_window_choose_weights_to_save (GradlensWindow *self)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Save Weights"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "resnet18.safetensors");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* --- Export the graph -------------------------------------------------------------- */

gboolean
gradlens_window_export_graph (GradlensWindow *self,
                              GFile          *file,
                              const char     *format_name,
                              GError        **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GraphModel) model = NULL;
  g_autoptr (GraphLayout) layout = NULL;
  GraphLayoutOptions options = GRAPH_LAYOUT_OPTIONS_INIT;
  GraphExportFormat format;

  g_return_val_if_fail (GRADLENS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  path = g_file_get_path (file);
  if (path == NULL)
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 _("Cannot export there: only local files can be written"));
  else if (gradlens_window_is_busy (self))
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_BUSY,
                 _("The lesson is running: pause it to export its graph"));
  else if (self->graph_nodes->len == 0)
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _("There is no graph to export yet: step the lesson first"));
  else if (format_name == NULL && !graph_export_format_from_filename (path, &format))
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 _("%s: name the file .png, .svg or .pdf"), path);
  else if (format_name == NULL || graph_export_format_from_string (format_name, &format, &local))
    {
      double scale = format == GRAPH_EXPORT_PNG ? 2.0 : 1.0;
      gboolean ok;

      /* What the graph view shows (its collapsed modules too), drawn by the
       * same painter as gradlens-cli graph; if its layout is not there yet,
       * one made here. */
      if (graph_view_get_layout (self->graph_view) != NULL
          && !graph_view_is_layout_pending (self->graph_view))
        ok = graph_view_export (self->graph_view, path, format, scale, &local);
      else
        {
          model = graph_model_new (self->graph_nodes);
          layout = graph_layout_new (model, &options, &local);
          ok = layout != NULL
               && graph_export_to_file (layout, NULL, format, scale, TRUE, path, &local);
        }
      if (ok)
        {
          g_autofree char *message = g_strdup_printf (_("Graph exported to %s"), path);
          gradlens_event_log_append (self->event_log, "info", message);
          return TRUE;
        }
    }

  if (local == NULL)
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot export the graph to %s"), path);
  else
    g_prefix_error (&local, _("Cannot export the graph: "));
  gradlens_window_show_error (self, local->message);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    GradlensWindow  *self)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "format");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        gradlens_window_export_graph (self, file, format, NULL);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

void
_gradlens_window_choose_graph_export (GradlensWindow *self,
                                      const char     *format)
{
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;
  g_autofree char *title = NULL;

  title = g_strdup_printf (_("Export Graph as %s"), format);
  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  name = g_strdup_printf ("%s-graph.%s", self->lesson != NULL ? self->lesson->name : "gradlens",
                          format);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_object_set_data_full (G_OBJECT (chooser), "format", g_strdup (format), g_free);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* gradlens-application-actions.c: the app.* actions and their accelerators
 *
 * One function behind each action: the primary menu, the shortcuts window
 * and the keyboard all go through these.
 */

#include "cpu.h"
#include "gradlens-application-private.h"
#include "gradlens-window.h"

#include <glib/gi18n.h>

static void
gradlens_application_quit (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  g_autoptr (GList) windows = NULL;
  gboolean asking = FALSE;

  /* Destroy the windows first so that they tear down in order (and take
   * their dialogs with them) rather than being dropped at exit. A window
   * whose program has unsaved edits is closed instead: it asks first, and the
   * application ends with its last window. */
  windows = g_list_copy (gtk_application_get_windows (app));
  for (const GList *l = windows; l != NULL; l = l->next)
    if (GRADLENS_IS_WINDOW (l->data) && gradlens_window_is_modified (l->data))
      {
        gtk_window_close (GTK_WINDOW (l->data));
        asking = TRUE;
      }
    else
      gtk_window_destroy (GTK_WINDOW (l->data));

  if (!asking)
    g_application_quit (G_APPLICATION (app));
}

static void
gradlens_application_about (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  /* not translated: a name */
  static const char *authors[] = { "The GradLens authors", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  g_autofree char *kernels = cpu_describe ();   /* the About window's System tab */

  gtk_show_about_dialog (parent,
                         "program-name", "GradLens",
                         "logo-icon-name", GRADLENS_APPLICATION_ID,
                         "version", GRADLENS_VERSION,
                         "comments", _("Watch PyTorch-style autograd build its graph "
                                       "and send gradients back through it, one step at a time."),
                         "copyright", _("© 2026 The GradLens authors"),
                         /* Translators: your names, one a line, shown in the About window. */
                         "translator-credits", _("translator-credits"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         "system-information", kernels,
                         NULL);
}

static void
gradlens_application_shortcuts (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  GtkShortcutsWindow *overlay;

  if (!GTK_IS_APPLICATION_WINDOW (window))
    return;

  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  if (overlay != NULL)
    gtk_window_present (GTK_WINDOW (overlay));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = gradlens_application_quit },
  { .name = "about", .activate = gradlens_application_about },
  { .name = "shortcuts", .activate = gradlens_application_shortcuts },
};

static const struct {
  const char *action;
  const char *accels[3];
} app_accels[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "app.shortcuts", { "<Control>question", NULL } },
};

void
_gradlens_application_actions_init (GradlensApplication *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions, G_N_ELEMENTS (app_actions),
                                   self);

  for (guint i = 0; i < G_N_ELEMENTS (app_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                           app_accels[i].action,
                                           app_accels[i].accels);
}

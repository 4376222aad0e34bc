/* gradlens-application.c: the GTK application */

#include "gradlens-application-private.h"
#include "gradlens-window.h"

struct _GradlensApplication
{
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (GradlensApplication, gradlens_application, GTK_TYPE_APPLICATION)

static void
gradlens_application_startup (GApplication *application)
{
  g_autoptr (GtkCssProvider) provider = NULL;

  G_APPLICATION_CLASS (gradlens_application_parent_class)->startup (application);

  _gradlens_application_actions_init (GRADLENS_APPLICATION (application));

  /* GtkApplication already added <resource-base-path>/icons to the icon theme,
   * so the app icon resolves even when GradLens runs from the build folder. */
  gtk_window_set_default_icon_name (GRADLENS_APPLICATION_ID);

  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, "/io/github/gradlens/GradLens/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
gradlens_application_activate (GApplication *application)
{
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (application));
  if (window == NULL)
    window = GTK_WINDOW (gradlens_window_new (GRADLENS_APPLICATION (application)));

  gtk_window_present (window);
}

/* gradlens PROGRAM.py: the window opens the program (the last one named, if
 * several: one window shows one program). */
static void
gradlens_application_open (GApplication  *application,
                           GFile        **files,
                           int            n_files,
                           const char    *hint)
{
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (application));
  if (window == NULL)
    window = GTK_WINDOW (gradlens_window_new (GRADLENS_APPLICATION (application)));
  if (n_files > 0)
    gradlens_window_open_program (GRADLENS_WINDOW (window), files[n_files - 1], NULL);
  gtk_window_present (window);
}

static void
gradlens_application_class_init (GradlensApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = gradlens_application_startup;
  app_class->activate = gradlens_application_activate;
  app_class->open = gradlens_application_open;
}

static void
gradlens_application_init (GradlensApplication *self)
{
}

GradlensApplication *
gradlens_application_new (void)
{
  return g_object_new (GRADLENS_TYPE_APPLICATION,
                       "application-id", GRADLENS_APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/gradlens/GradLens",
                       NULL);
}

/* gradlens-window.c: the main window */

#include "gradlens-window.h"
#include "gradlens-placeholder.h"

struct _GradlensWindow
{
  GtkApplicationWindow parent_instance;

  /* Template children. GtkWindow destroys its titlebar and child itself, so
   * there is no dispose here (gtk_widget_dispose_template would unparent them
   * a second time). */
  GtkHeaderBar        *header_bar;
  GtkMenuButton       *primary_menu_button;
  GtkPaned            *main_paned;
  GtkPaned            *content_paned;
  GradlensPlaceholder *code_placeholder;
  GradlensPlaceholder *graph_placeholder;
  GradlensPlaceholder *inspector_placeholder;
};

G_DEFINE_FINAL_TYPE (GradlensWindow, gradlens_window, GTK_TYPE_APPLICATION_WINDOW)

static void
gradlens_window_class_init (GradlensWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* The template names GradlensPlaceholder: make sure the type exists. */
  g_type_ensure (GRADLENS_TYPE_PLACEHOLDER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/window.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, main_paned);
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, content_paned);
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, code_placeholder);
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, graph_placeholder);
  gtk_widget_class_bind_template_child (widget_class, GradlensWindow, inspector_placeholder);
}

static void
gradlens_window_init (GradlensWindow *self)
{
  g_autoptr (GtkBuilder) builder = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  /* GtkApplicationWindow owns the overlay from here on (and destroys it with us). */
  builder = gtk_builder_new_from_resource ("/io/github/gradlens/GradLens/ui/help-overlay.ui");
  gtk_application_window_set_help_overlay (
    GTK_APPLICATION_WINDOW (self),
    GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));
}

GradlensWindow *
gradlens_window_new (GradlensApplication *application)
{
  g_return_val_if_fail (GRADLENS_IS_APPLICATION (application), NULL);

  return g_object_new (GRADLENS_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

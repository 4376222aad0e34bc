/* gradlens-application.h: the GTK application
 *
 * GradlensApplication (id io.github.gradlens.GradLens) loads the style sheet,
 * installs the app actions (app.quit, app.about, app.shortcuts) and their
 * accelerators, and opens a GradlensWindow on activation.
 *
 *   g_autoptr (GradlensApplication) app = gradlens_application_new ();
 *   return g_application_run (G_APPLICATION (app), argc, argv);
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADLENS_APPLICATION_ID "io.github.gradlens.GradLens"

#define GRADLENS_TYPE_APPLICATION (gradlens_application_get_type ())

G_DECLARE_FINAL_TYPE (GradlensApplication, gradlens_application, GRADLENS, APPLICATION, GtkApplication)

GradlensApplication *gradlens_application_new (void);

G_END_DECLS

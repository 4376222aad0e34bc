/* gradlens-window.h: the main window
 *
 * A GtkApplicationWindow built from resources/ui/window.ui: a header bar with
 * the primary menu, the lesson code pane on the left and, on the right, the
 * graph above the inspector. Its help overlay (Keyboard Shortcuts) comes from
 * resources/ui/help-overlay.ui.
 */
#pragma once

#include <gtk/gtk.h>

#include "gradlens-application.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_WINDOW (gradlens_window_get_type ())

G_DECLARE_FINAL_TYPE (GradlensWindow, gradlens_window, GRADLENS, WINDOW, GtkApplicationWindow)

GradlensWindow *gradlens_window_new (GradlensApplication *application);

G_END_DECLS

/* theme.h: colours from the GTK theme, and light/dark following the system
 *
 * The charts paint with plot-paint.h's PlotColors; these fill them from the
 * widget's style so they match the theme, light or dark. GTK 4.8 does not
 * follow the desktop's dark preference by itself (libadwaita does), so
 * theme_follow_color_scheme() reads it from the XDG desktop portal
 * (org.freedesktop.appearance color-scheme) and keeps
 * gtk-application-prefer-dark-theme in step with it.
 */
#pragma once

#include <gtk/gtk.h>

#include "plot-paint.h"

G_BEGIN_DECLS

gboolean theme_is_dark            (GtkWidget *widget);
void     theme_plot_colors        (GtkWidget *widget, PlotColors *colors);
/* The colour of a phase ("forward", "backward", "optimizer", "zero-grad",
 * "error"; anything else: a neutral grey), the same as style.css's
 * .phase-banner and .event-dot classes. Opaque; callers add their alpha. */
void     theme_phase_color        (const char *phase, GdkRGBA *rgba);
/* Asynchronous, once per process; a missing portal leaves the theme alone. */
void     theme_follow_color_scheme (void);

G_END_DECLS

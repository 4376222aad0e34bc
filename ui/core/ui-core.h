/* ui-core.h: the toolkit-free part of ui/
 *
 * Everything here draws with cairo and lays out with Graphviz's libgvc, and
 * never touches GTK, so that gradlens-cli can export the same pictures the
 * application shows. This header names the libraries it was linked with:
 *
 *   g_print ("cairo %s, Graphviz %s\n",
 *            ui_core_cairo_version (), ui_core_graphviz_version ());
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *ui_core_cairo_version    (void);
const char *ui_core_graphviz_version (void);

G_END_DECLS

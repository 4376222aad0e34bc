/* ui-core.c: versions of the libraries ui's toolkit-free part draws with */

#include "ui-core.h"

#include <cairo.h>
#include <gvc.h>

const char *
ui_core_cairo_version (void)
{
  return cairo_version_string ();
}

/* The version of the libgvc actually loaded, not the one compiled against:
 * layout differences between Graphviz releases show up in screenshots. */
const char *
ui_core_graphviz_version (void)
{
  static gsize version = 0;

  if (g_once_init_enter (&version))
    {
      GVC_t *gvc = gvContext ();
      char *v = g_strdup (gvcVersion (gvc));

      gvFreeContext (gvc);
      g_once_init_leave (&version, (gsize) v);
    }

  return (const char *) version;
}

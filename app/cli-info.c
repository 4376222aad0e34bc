/* cli-info.c: `gradlens-cli info`, the versions GradLens runs with */

#include <glib/gi18n.h>

#include "cli.h"
#include "cpu.h"
#include "ui-core.h"

gboolean
cli_info (int      argc,
          char   **argv,
          GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *kernels = NULL;

  context = cli_option_context_new ("info", NULL,
                                    _("Show the versions of GradLens and of the libraries it "
                                      "runs with, and which kernels run on this CPU."));
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;

  if (argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unexpected argument “%s”"), argv[1]);
      return FALSE;
    }

  g_print ("GradLens %s\n", GRADLENS_VERSION);
  g_print ("GLib %u.%u.%u\n", glib_major_version, glib_minor_version, glib_micro_version);
  g_print ("cairo %s\n", ui_core_cairo_version ());
  g_print ("Graphviz %s\n", ui_core_graphviz_version ());
  kernels = cpu_describe ();
  g_print ("%s\n", kernels);

  return TRUE;
}

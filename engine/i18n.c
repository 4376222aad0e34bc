/* i18n.c — see i18n.h */

#include <locale.h>
#include <libintl.h>

#include "i18n.h"

const char *
gradlens_i18n_localedir (void)
{
  const char *dir = g_getenv ("GRADLENS_LOCALEDIR");

  return dir != NULL && *dir != '\0' ? dir : GRADLENS_LOCALEDIR;
}

void
gradlens_i18n_init (void)
{
  /* setlocale first: gettext picks the catalogue from LC_MESSAGES, and GLib's
   * printf formats numbers from LC_NUMERIC. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, gradlens_i18n_localedir ());
  /* Every string GLib and GTK take is UTF-8, whatever the locale's charset. */
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

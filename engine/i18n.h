/* i18n.h — GradLens's translations (gettext, one domain for the whole program).
 *
 * Both programs call gradlens_i18n_init() first thing in main(); the tests that
 * check translations call it too. It takes the locale from the environment
 * (LANG, LC_ALL, LC_MESSAGES) and binds the "gradlens" domain to the installed
 * catalogues, or to $GRADLENS_LOCALEDIR when set (an uninstalled build:
 * tools/run.sh and the tests point it at build/po).
 *
 *   int main (int argc, char *argv[])
 *   {
 *     gradlens_i18n_init ();
 *     g_print ("%s\n", _("The lesson finished"));
 *
 * Marking strings: ui/ and app/ include <glib/gi18n.h> (_() looks in the
 * default domain, set here); the engine includes <glib/gi18n-lib.h>, whose _()
 * names the domain itself (g_dgettext), so a test that links the engine alone
 * still reads the same catalogue.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void         gradlens_i18n_init       (void);
const char  *gradlens_i18n_localedir  (void);

G_END_DECLS

/* main.c: gradlens, the GTK application */

#include "cpu.h"
#include "gradlens-application.h"
#include "i18n.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GradlensApplication) app = NULL;

  /* First: it may run the program again with the OpenBLAS core this CPU can run. */
  cpu_fix_openblas_core (argv);
  gradlens_i18n_init ();
  g_set_application_name ("GradLens");

  app = gradlens_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}

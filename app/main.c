/* main.c: gradlens, the GTK application */

#include "gradlens-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GradlensApplication) app = NULL;

  g_set_application_name ("GradLens");

  app = gradlens_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}

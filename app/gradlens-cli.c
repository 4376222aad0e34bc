/* gradlens-cli.c: GradLens without a window
 *
 *   gradlens-cli [--help|--version] COMMAND [ARGS…]
 *
 * Runs the engine and ui's toolkit-free part (never GTK). To add a command,
 * write its function (see cli.h), declare it in cli.h and add a row below.
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cpu.h"

static const CliCommand commands[] = {
  { "info", "Show versions of GradLens and its libraries", cli_info },
  { "train", "Train resnet18 with SGD on one batch: loss, step times, gradients", cli_train },
  { "lesson", "Run a lesson without pauses, printing what its PyTorch program prints", cli_lesson },
  { "graph", "Write a lesson's autograd graph as JSON or Graphviz DOT", cli_graph },
  { "weights", "Look for torchvision's pretrained resnet18 weights (torch.hub's cache)", cli_weights },
  { "predict", "Classify a picture with resnet18: the top-5 ImageNet classes", cli_predict },
};

static const CliCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];

  return NULL;
}

static char *
commands_summary (void)
{
  GString *s = g_string_new ("Commands:");
  int width = 0;

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    width = MAX (width, (int) strlen (commands[i].name));

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "\n  %-*s  %s", width, commands[i].name, commands[i].summary);

  g_string_append (s, "\n\nRun “gradlens-cli COMMAND --help” for a command’s options.");

  return g_string_free (s, FALSE);
}

GOptionContext *
cli_option_context_new (const char *command,
                        const char *parameter_string,
                        const char *summary)
{
  g_autofree char *prgname = NULL;
  GOptionContext *context;

  g_return_val_if_fail (command != NULL, NULL);

  /* GOption prints g_get_prgname() in the usage line: make it "gradlens-cli info". */
  prgname = g_strdup_printf ("gradlens-cli %s", command);
  g_set_prgname (prgname);
  context = g_option_context_new (parameter_string);
  if (summary != NULL)
    g_option_context_set_summary (context, summary);

  return context;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *summary = NULL;
  gboolean version = FALSE;
  const CliCommand *command;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the program version and exit", NULL },
    { NULL }
  };

  /* First: it may run the program again with the OpenBLAS core this CPU can run. */
  cpu_fix_openblas_core (argv);
  setlocale (LC_ALL, "");
  g_set_prgname ("gradlens-cli");

  summary = commands_summary ();
  context = g_option_context_new ("COMMAND [ARGS…]");
  g_option_context_set_summary (context, "Run GradLens lessons and exports without a window.");
  g_option_context_set_description (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Stop at COMMAND: what follows it belongs to the command. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("gradlens-cli: %s\nRun “gradlens-cli --help” for usage.\n", error->message);
      return 2;
    }

  if (version)
    {
      g_print ("gradlens-cli %s\n", GRADLENS_VERSION);
      return EXIT_SUCCESS;
    }

  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return 2;
    }

  command = find_command (argv[1]);
  if (command == NULL)
    {
      g_printerr ("gradlens-cli: unknown command “%s”\nRun “gradlens-cli --help” for the list.\n",
                  argv[1]);
      return 2;
    }

  if (!command->run (argc - 1, argv + 1, &error))
    {
      g_printerr ("gradlens-cli %s: %s\n", command->name, error->message);
      /* A usage error exits like one at the top level. */
      return g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION)
               || g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE)
               ? 2 : EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}

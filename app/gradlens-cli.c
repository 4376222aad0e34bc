/* gradlens-cli.c: GradLens without a window
 *
 *   gradlens-cli [--help|--version] COMMAND [ARGS…]
 *
 * Runs the engine and ui's toolkit-free part (never GTK). To add a command,
 * write its function (see cli.h), declare it in cli.h and add a row below.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "cli.h"
#include "cpu.h"
#include "i18n.h"

static const CliCommand commands[] = {
  { "info", N_("Show versions of GradLens and its libraries"), cli_info },
  { "train", N_("Train resnet18 with SGD on one batch: loss, step times, gradients"), cli_train },
  { "run", N_("Run a PyTorch program (PROGRAM.py) on GradLens's engine, printing what it prints"), cli_run },
  { "lesson", N_("Run a lesson without pauses, printing what its PyTorch program prints"), cli_lesson },
  { "graph", N_("Write a lesson's autograd graph: JSON, Graphviz DOT, or a PNG, SVG or PDF picture"),
    cli_graph },
  { "weights", N_("Look for torchvision's pretrained resnet18 weights (torch.hub's cache)"), cli_weights },
  { "predict", N_("Classify a picture with resnet18: the top-5 ImageNet classes"), cli_predict },
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
    g_string_append_printf (s, "\n  %-*s  %s", width, commands[i].name, _(commands[i].summary));

  g_string_append (s, _("\n\nRun “gradlens-cli COMMAND --help” for a command’s options."));

  return g_string_free (s, FALSE);
}

/* --- Standard output, as a careful Unix tool writes it ------------------------ */

/* The first error writing stdout (0: none), reported when the command ends: a
 * full disk or a closed stdout is a failure with a message, never lost output. */
static int stdout_errno;

void
cli_write_stdout (const void *data,
                  gsize       length)
{
  if (stdout_errno != 0 || length == 0)
    return;
  errno = 0;
  if (fwrite (data, 1, length, stdout) != length || fflush (stdout) != 0)
    stdout_errno = errno ? errno : EIO;
}

static void
print_to_stdout (const char *text)
{
  cli_write_stdout (text, strlen (text));
}

/* A standard stream closed at start gets a read-only /dev/null: no file the
 * command opens can take its number (and receive what it prints), and every
 * write to it fails with EBADF, which is then reported. */
static void
hold_closed_standard_streams (void)
{
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl (fd, F_GETFD) == -1 && errno == EBADF)
      {
        int null_fd = open ("/dev/null", O_RDONLY);
        if (null_fd >= 0 && null_fd != fd)
          {
            dup2 (null_fd, fd);
            close (null_fd);
          }
      }
}

/* Everything written to stdout reached it: FALSE, errno set, if not. */
static gboolean
close_stdout (void)
{
  errno = 0;
  if (stdout_errno == 0 && (fflush (stdout) != 0 || ferror (stdout)))
    stdout_errno = errno ? errno : EIO;
  if (fclose (stdout) != 0 && stdout_errno == 0)
    stdout_errno = errno ? errno : EIO;
  errno = stdout_errno;
  return stdout_errno == 0;
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

gboolean
cli_parse_zero_grad (const char *option_name,
                     const char *value,
                     gboolean   *zero_grad,
                     GError    **error)
{
  /* GOption would read --zero-grad=no as --zero-grad: the value is refused here. */
  if (value != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("%s takes no value (“%s”): give --zero-grad or --no-zero-grad"),
                   option_name, value);
      return FALSE;
    }
  *zero_grad = g_str_equal (option_name, "--zero-grad");
  return TRUE;
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
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the program version and exit"), NULL },
    { NULL }
  };

  /* First: it may run the program again with the OpenBLAS core this CPU can run. */
  cpu_fix_openblas_core (argv);
  hold_closed_standard_streams ();
  gradlens_i18n_init ();
  g_set_prgname ("gradlens-cli");
  g_set_print_handler (print_to_stdout);

  summary = commands_summary ();
  /* not translated: the usage's placeholders, as the commands' --help spell them */
  context = g_option_context_new ("COMMAND [ARGS…]");
  g_option_context_set_summary (context, _("Run GradLens lessons and exports without a window."));
  g_option_context_set_description (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Stop at COMMAND: what follows it belongs to the command. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr (_("gradlens-cli: %s\nRun “gradlens-cli --help” for usage.\n"), error->message);
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
      g_printerr (_("gradlens-cli: unknown command “%s”\nRun “gradlens-cli --help” for the list.\n"),
                  argv[1]);
      return 2;
    }

  if (!command->run (argc - 1, argv + 1, &error))
    {
      g_printerr ("gradlens-cli %s: %s\n", command->name,
                  error ? error->message : _("failed (no reason given)"));
      /* A usage error exits like one at the top level. */
      return g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION)
               || g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE)
               ? 2 : EXIT_FAILURE;
    }
  if (!close_stdout ())
    {
      g_printerr (_("gradlens-cli %s: cannot write to standard output: %s\n"), command->name,
                  g_strerror (errno));
      return EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}

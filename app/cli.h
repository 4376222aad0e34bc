/* cli.h: gradlens-cli's subcommands
 *
 * Each subcommand is one function and one row of the table in gradlens-cli.c:
 *
 *   { "info", "Show versions of GradLens and its libraries", cli_info },
 *
 * It receives its own name as argv[0] followed by its arguments, parses them
 * itself (cli_option_context_new gives a context with the right usage line),
 * prints its results on stdout (g_print, or cli_write_stdout for bytes), and
 * returns FALSE with @error set on failure; the dispatcher prints the error and
 * exits with status 1. It also exits 1, saying why, when stdout could not take
 * everything (a full disk, a closed stdout).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gboolean (*CliCommandFunc) (int      argc,
                                    char   **argv,
                                    GError **error);

typedef struct
{
  const char     *name;
  const char     *summary;
  CliCommandFunc  run;
} CliCommand;

GOptionContext *cli_option_context_new (const char *command,
                                        const char *parameter_string,
                                        const char *summary);

/* Writes to stdout; a failure is remembered and reported when the command ends. */
void cli_write_stdout (const void *data, gsize length);

/* Freezes each --freeze pattern in model by the freeze lesson's Python rule
 * (module.h); one that matches no parameter freezes nothing, and a warning on
 * stderr says so. */
typedef struct _Module Module;
void cli_freeze (Module *model, char **patterns);

/* --zero-grad and --no-zero-grad, one spelling and one default for every command
 * that trains: on (optim.zero_grad() at the start of each step, as the lessons'
 * programs show it); switches that take no value (--zero-grad=no is refused, not
 * read as yes). In a command's entries, with a callback that hands its options'
 * zero_grad to cli_parse_zero_grad:
 *
 *   CLI_ZERO_GRAD_ENTRIES (parse_zero_grad),
 */
#define CLI_ZERO_GRAD_ENTRIES(callback)                                              \
  { "zero-grad", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, (callback),   \
    "Call optim.zero_grad() at the start of each step (the default)", NULL },         \
  { "no-zero-grad", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, (callback),\
    "Do not: .grad accumulates over the steps", NULL }

gboolean cli_parse_zero_grad (const char *option_name,
                              const char *value,
                              gboolean   *zero_grad,
                              GError    **error);

/* torchvision's resnet18 weights are not in torch.hub's cache: the error of
 * `weights` and `predict --pretrained` alike (exit status 1), saying where they
 * were looked for and how to get them. */
void cli_set_no_pretrained_error (GError **error);

/* One line per subcommand, in the table's order. */
gboolean cli_info (int argc, char **argv, GError **error);
gboolean cli_train (int argc, char **argv, GError **error);
gboolean cli_lesson (int argc, char **argv, GError **error);
gboolean cli_graph (int argc, char **argv, GError **error);
gboolean cli_weights (int argc, char **argv, GError **error);
gboolean cli_predict (int argc, char **argv, GError **error);
gboolean cli_run (int argc, char **argv, GError **error);

G_END_DECLS

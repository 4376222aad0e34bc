/* test-cli-common.h: running gradlens-cli as a real process, for test-cli.c and
 * test-cli-train.c. meson sets GRADLENS_CLI to the built program.
 *
 *   g_auto (Run) run = { 0 };
 *   if (!run_cli (&run, "info", NULL))
 *     return;                                   // skipped: no GRADLENS_CLI
 *   g_assert_cmpint (run.status, ==, 0);
 */
#pragma once

#include <stdarg.h>
#include <sys/wait.h>

#include <glib.h>

typedef struct
{
  char *out;
  char *err;
  int   status;   /* exit status */
} Run;

static inline void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* gradlens-cli FIRST ARGS… (ARGS from `args`, up to a NULL; FIRST NULL: no
 * arguments at all): its output, errors and exit status in run. FALSE, with the
 * test skipped, when GRADLENS_CLI is not set. */
static inline gboolean
run_cli_va (Run        *run,
            const char *first,
            va_list     args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *cli = g_getenv ("GRADLENS_CLI");
  int wait_status = 0;

  if (cli == NULL)
    {
      g_test_skip ("GRADLENS_CLI is not set (run through meson test)");
      return FALSE;
    }

  g_ptr_array_add (argv, (char *) cli);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  return TRUE;
}

/* gradlens-cli FIRST_ARG…, NULL-terminated. */
static inline gboolean
run_cli (Run        *run,
         const char *first_arg,
         ...)
{
  va_list args;
  gboolean ran;

  va_start (args, first_arg);
  ran = run_cli_va (run, first_arg, args);
  va_end (args);
  return ran;
}

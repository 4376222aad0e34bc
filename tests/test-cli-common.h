/* test-cli-common.h: running gradlens-cli as a real process, for test-cli.c,
 * test-cli-train.c and test-anomaly.c. The program is GRADLENS_CLI (meson sets it
 * for the ui suite), else the one built next to the tests (the engine suite of a
 * gui build); a build without it (-Dgui=false) skips.
 *
 *   g_auto (Run) run = { 0 };
 *   if (!run_cli (&run, "info", NULL))
 *     return;                                   // skipped: no gradlens-cli
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

/* GRADLENS_CLI, else G_TEST_BUILDDIR/../app/gradlens-cli if it was built; NULL
 * when there is neither. */
static inline char *
find_cli (void)
{
  const char *env = g_getenv ("GRADLENS_CLI");
  const char *builddir = g_getenv ("G_TEST_BUILDDIR");
  g_autofree char *path = NULL;

  if (env != NULL)
    return g_strdup (env);
  path = g_build_filename (builddir ? builddir : ".", "..", "app", "gradlens-cli", NULL);
  if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&path);
  return NULL;
}

/* gradlens-cli FIRST ARGS… (ARGS from `args`, up to a NULL; FIRST NULL: no
 * arguments at all): its output, errors and exit status in run. With redirect,
 * a shell runs it with that redirection of its own (">/dev/full", ">&-" for a
 * closed stdout). FALSE, with the test skipped, when there is no gradlens-cli
 * (find_cli). */
static inline gboolean
run_cli_redirected_va (Run        *run,
                       const char *redirect,
                       const char *first,
                       va_list     args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *cli = find_cli ();
  int wait_status = 0;

  if (cli == NULL)
    {
      g_test_skip ("no gradlens-cli: GRADLENS_CLI is not set and this build has none "
                   "(-Dgui=false)");
      return FALSE;
    }

  if (redirect != NULL)
    {
      g_ptr_array_add (argv, (char *) "/bin/sh");
      g_ptr_array_add (argv, (char *) "-c");
      g_ptr_array_add (argv, g_strdup_printf ("exec \"$0\" \"$@\" %s", redirect));
    }
  g_ptr_array_add (argv, cli);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  if (redirect != NULL)
    g_free (g_ptr_array_index (argv, 2));
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  return TRUE;
}

static inline gboolean
run_cli_va (Run        *run,
            const char *first,
            va_list     args)
{
  return run_cli_redirected_va (run, NULL, first, args);
}

/* gradlens-cli FIRST_ARG… REDIRECT, NULL-terminated (see run_cli_redirected_va). */
static inline gboolean
run_cli_redirected (Run        *run,
                    const char *redirect,
                    const char *first_arg,
                    ...)
{
  va_list args;
  gboolean ran;

  va_start (args, first_arg);
  ran = run_cli_redirected_va (run, redirect, first_arg, args);
  va_end (args);
  return ran;
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

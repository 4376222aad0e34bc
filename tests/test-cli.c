/* test-cli.c: gradlens-cli's dispatch, run as a real process (test-cli-common.h) */

#include <string.h>

#include "test-cli-common.h"

static void
test_cli_version (void)
{
  g_auto (Run) run = { 0 };

  run_cli (&run, "--version", NULL);
  if (g_test_failed () || run.out == NULL)
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, "gradlens-cli " GRADLENS_VERSION "\n");
}

static void
test_cli_help (void)
{
  g_auto (Run) run = { 0 };

  run_cli (&run, "--help", NULL);
  if (run.out == NULL)
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "gradlens-cli [OPTION…] COMMAND [ARGS…]"));
  /* Every command of the table is listed. */
  g_assert_nonnull (strstr (run.out, "\n  info "));
}

static void
test_cli_no_command (void)
{
  g_auto (Run) run = { 0 };

  run_cli (&run, NULL);
  if (run.out == NULL)
    return;
  g_assert_cmpint (run.status, ==, 2);
  g_assert_cmpstr (run.out, ==, "");
  g_assert_nonnull (strstr (run.err, "Usage:"));
}

static void
test_cli_unknown_command (void)
{
  g_auto (Run) run = { 0 };

  run_cli (&run, "frobnicate", "--fast", NULL);
  if (run.out == NULL)
    return;
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "unknown command “frobnicate”"));
}

static void
test_cli_info (void)
{
  g_auto (Run) run = { 0 };

  run_cli (&run, "info", NULL);
  if (run.out == NULL)
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_str_has_prefix (run.out, "GradLens " GRADLENS_VERSION "\n"));
  g_assert_nonnull (strstr (run.out, "\ncairo 1."));
  g_assert_nonnull (strstr (run.out, "\nGraphviz "));
  /* Which kernels run (cpu.h): the CPU, OpenBLAS's core, the engine's level. */
  g_assert_nonnull (strstr (run.out, "\nCPU: "));
  g_assert_nonnull (strstr (run.out, "\nOpenBLAS: "));
  g_assert_nonnull (strstr (run.out, ", core "));
  g_assert_nonnull (strstr (run.out, "\nEngine kernels: "));
}

static void
test_cli_command_options (void)
{
  g_auto (Run) run = { 0 };

  /* A command parses its own options: --help is its own ... */
  run_cli (&run, "info", "--help", NULL);
  if (run.out == NULL)
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "gradlens-cli info [OPTION…]"));
  run_clear (&run);

  /* ... and an option it does not know is a usage error. */
  run_cli (&run, "info", "--bogus", NULL);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "--bogus"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/cli/version", test_cli_version);
  g_test_add_func ("/ui/cli/help", test_cli_help);
  g_test_add_func ("/ui/cli/no-command", test_cli_no_command);
  g_test_add_func ("/ui/cli/unknown-command", test_cli_unknown_command);
  g_test_add_func ("/ui/cli/info", test_cli_info);
  g_test_add_func ("/ui/cli/command-options", test_cli_command_options);

  return g_test_run ();
}

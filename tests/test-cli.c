/* test-cli.c: gradlens-cli's dispatch, run as a real process (test-cli-common.h) */

#include <locale.h>
#include <string.h>

#include "test-cli-common.h"
#include "tmp-dir.h"

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

/* Issue 18: the engine's own error messages are translated too. Under
 * fa_IR.UTF-8, a broken weights file and a folder that does not exist are
 * refused in Persian, naming the file. */
static void
test_cli_persian_errors (void)
{
  locale_t fa = newlocale (LC_ALL_MASK, "fa_IR.UTF-8", (locale_t) 0);
  if (fa == (locale_t) 0)
    {
      g_test_skip ("the fa_IR.UTF-8 locale is not installed (tools/setup.sh generates it: "
                   "localedef -i fa_IR -f UTF-8 fa_IR.UTF-8)");
      return;
    }
  freelocale (fa);

  /* torch.hub's cache with a resnet18 file that starts like a zip archive but
   * is not one (no end of central directory). */
  g_autofree char *dir = tmp_dir_new ("gradlens-cli-fa-XXXXXX");
  g_autofree char *hub = g_build_filename (dir, "hub", NULL);
  g_autofree char *checkpoints = g_build_filename (hub, "checkpoints", NULL);
  g_assert_cmpint (g_mkdir_with_parents (checkpoints, 0700), ==, 0);
  g_autofree char *weights = g_build_filename (checkpoints, "resnet18-f37072fd.pth", NULL);
  static const char broken[] = "PK\3\4 and then nothing a zip archive needs";
  g_assert_true (g_file_set_contents (weights, broken, sizeof broken - 1, NULL));
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "graph.json", NULL);

  g_setenv ("LC_ALL", "fa_IR.UTF-8", TRUE);
  g_setenv ("LANGUAGE", "fa", TRUE);
  g_setenv ("TORCH_HOME", dir, TRUE);
  g_auto (Run) load = { 0 };
  g_auto (Run) save = { 0 };
  gboolean ran = run_cli (&load, "weights", NULL)
                 && run_cli (&save, "graph", "autograd", "-o", missing, NULL);
  g_unsetenv ("TORCH_HOME");
  g_unsetenv ("LANGUAGE");
  g_unsetenv ("LC_ALL");
  g_unlink (weights);
  g_rmdir (checkpoints);
  g_rmdir (hub);
  tmp_dir_remove (dir);
  if (!ran)
    return;

  /* pth-zip.c's reason inside state-dict.c's “Cannot load “FILE”: …”; the file
   * name between left-to-right marks, so that its slashes stay in place in
   * right-to-left text. */
  g_autofree char *named = g_strdup_printf ("«\u200e%s\u200e»", weights);
  g_assert_cmpint (load.status, !=, 0);
  g_assert_nonnull (strstr (load.err, "بارگذاری"));
  g_assert_nonnull (strstr (load.err, named));
  g_assert_nonnull (strstr (load.err, "یک بایگانی zip نیست"));
  g_assert_null (strstr (load.err, "Cannot load"));

  /* output-file.c's whole sentences: what failed, why, and that nothing was written. */
  g_autofree char *target = g_strdup_printf ("«\u200e%s\u200e»", missing);
  g_assert_cmpint (save.status, !=, 0);
  g_assert_nonnull (strstr (save.err, target));
  g_assert_nonnull (strstr (save.err, "ممکن نیست"));
  g_assert_nonnull (strstr (save.err, "ساختن پرونده‌ای موقت در پوشهٔ"));
  g_assert_nonnull (strstr (save.err, "هیچ پرونده‌ای نوشته نشد."));
  g_assert_null (strstr (save.err, "Cannot write"));
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
  g_test_add_func ("/ui/cli/persian-errors", test_cli_persian_errors);

  return g_test_run ();
}

/* test-cli-commands.c: gradlens-cli's help, graph, weights and predict, run as a
 * real process (test-cli-common.h): what a newcomer types after reading --help. */

#define _XOPEN_SOURCE 700   /* posix_openpt, grantpt, unlockpt, ptsname */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-cli-common.h"

/* --help names every format graph writes; graph --help lists them with the rule
 * for -o. */
static void
test_help_formats (void)
{
  g_auto (Run) top = { 0 };
  g_auto (Run) graph = { 0 };

  if (!run_cli (&top, "--help", NULL))
    return;
  g_assert_cmpint (top.status, ==, 0);
  g_assert_nonnull (strstr (top.out, "JSON, Graphviz DOT, or a PNG, SVG or PDF picture"));
  g_assert_true (run_cli (&graph, "graph", "--help", NULL));
  g_assert_cmpint (graph.status, ==, 0);
  g_assert_nonnull (strstr (graph.out, "json, dot, or a picture: png, svg, pdf"));
  g_assert_nonnull (strstr (graph.out, "-o's extension"));
}

/* graph -o FILE without --format: the format is FILE's extension. */
static void
test_graph_format_from_extension (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gradlens-cli-graph-XXXXXX", &error);
  static const struct { const char *name; const char *magic; } cases[] = {
    { "g.png", "\x89PNG" },
    { "g.PDF", "%PDF" },
    { "g.svg", "<?xml" },
    { "g.dot", "digraph" },
    { "g.json", "{" },
    { "g", "{" },               /* no extension: JSON, as on stdout */
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };
      g_autofree char *path = g_build_filename (dir, cases[i].name, NULL);
      g_autofree char *contents = NULL;

      if (!run_cli (&run, "graph", "autograd", "-o", path, NULL))
        return;
      g_assert_cmpstr (run.err, ==, "");
      g_assert_cmpint (run.status, ==, 0);
      g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
      g_test_message ("graph -o %s", cases[i].name);
      g_assert_true (g_str_has_prefix (contents, cases[i].magic));
      g_assert_cmpint (g_remove (path), ==, 0);
    }

  /* An extension that is no format is refused, and nothing is written. */
  {
    g_auto (Run) run = { 0 };
    g_autofree char *path = g_build_filename (dir, "g.jpg", NULL);

    g_assert_true (run_cli (&run, "graph", "autograd", "-o", path, NULL));
    g_assert_cmpint (run.status, ==, 2);
    g_assert_nonnull (strstr (run.err, "“.jpg” is not a format"));
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  /* --format wins over the extension. */
  {
    g_auto (Run) run = { 0 };
    g_autofree char *path = g_build_filename (dir, "g.png", NULL);
    g_autofree char *contents = NULL;

    g_assert_true (run_cli (&run, "graph", "autograd", "--format", "dot", "-o", path, NULL));
    g_assert_cmpint (run.status, ==, 0);
    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    g_assert_true (g_str_has_prefix (contents, "digraph"));
    g_assert_cmpint (g_remove (path), ==, 0);
  }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* gradlens-cli ARGS with stdout on a pseudo-terminal: its exit status, and how
 * many bytes reached the terminal (drained as they come, so a program that does
 * write cannot block on a full terminal). */
static int
run_on_terminal (const char *const *args, gsize *written)
{
  g_autofree char *cli = find_cli ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int master, slave, wait_status = 0;
  GPid pid;
  char buf[4096];
  gint64 deadline = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  g_ptr_array_add (argv, cli);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  master = posix_openpt (O_RDWR | O_NOCTTY);
  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  slave = open (ptsname (master), O_RDWR | O_NOCTTY);
  g_assert_cmpint (slave, >=, 0);
  g_assert_true (isatty (slave));
  g_assert_cmpint (fcntl (master, F_SETFL, O_NONBLOCK), ==, 0);

  g_spawn_async_with_fds (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                          NULL, NULL, &pid, -1, slave, -1, &error);
  g_assert_no_error (error);
  close (slave);

  *written = 0;
  for (;;)
    {
      ssize_t n;
      while ((n = read (master, buf, sizeof buf)) > 0)
        *written += (gsize) n;
      if (waitpid (pid, &wait_status, WNOHANG) == pid)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (10000);
    }
  close (master);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (wait_status));
  return WEXITSTATUS (wait_status);
}

/* PNG and PDF are not written to a terminal; text formats are. */
static void
test_graph_binary_to_terminal (void)
{
  static const char *const png[] = { "graph", "autograd", "--format", "png", NULL };
  static const char *const pdf[] = { "graph", "autograd", "--format", "pdf", NULL };
  static const char *const dot[] = { "graph", "autograd", "--format", "dot", NULL };
  g_autofree char *cli = find_cli ();
  gsize written;

  if (cli == NULL)
    {
      g_test_skip ("no gradlens-cli");
      return;
    }
  g_assert_cmpint (run_on_terminal (png, &written), ==, 2);
  g_assert_cmpuint (written, ==, 0);
  g_assert_cmpint (run_on_terminal (pdf, &written), ==, 2);
  g_assert_cmpuint (written, ==, 0);
  g_assert_cmpint (run_on_terminal (dot, &written), ==, 0);
  g_assert_cmpuint (written, >, 0);
}

/* No torchvision weights in torch.hub's cache: `weights` and `predict --pretrained`
 * both fail, with status 1 and the same explanation. */
static void
test_weights_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_dir_make_tmp ("gradlens-torch-XXXXXX", &error);
  g_autofree char *image = g_test_build_filename (G_TEST_DIST, "data", "images", "photo-224.png",
                                                  NULL);
  g_auto (Run) weights = { 0 };
  g_auto (Run) predict = { 0 };

  g_assert_no_error (error);
  g_setenv ("TORCH_HOME", home, TRUE);
  if (!run_cli (&weights, "weights", NULL))
    return;
  g_assert_true (run_cli (&predict, "predict", "--image", image, "--pretrained", NULL));
  g_unsetenv ("TORCH_HOME");
  g_assert_cmpint (weights.status, ==, 1);
  g_assert_cmpint (predict.status, ==, 1);
  g_assert_cmpstr (weights.out, ==, "");
  g_assert_cmpstr (predict.out, ==, "");
  g_assert_nonnull (strstr (weights.err, "holds no resnet18-*.pth"));
  g_assert_cmpstr (strchr (weights.err, ':'), ==, strchr (predict.err, ':'));
  g_assert_cmpint (g_rmdir (home), ==, 0);
}

/* predict's table has its column headings, and its rows are under them. */
static void
test_predict_headings (void)
{
  g_autofree char *image = g_test_build_filename (G_TEST_DIST, "data", "images", "photo-224.png",
                                                  NULL);
  g_auto (Run) run = { 0 };

  if (!run_cli (&run, "predict", "--image", image, "--top", "3", NULL))
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_auto (GStrv) lines = g_strsplit (run.out, "\n", -1);
  int top = -1;
  for (int i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "top-3"))
      top = i;
  g_assert_cmpint (top, >=, 0);
  g_auto (GStrv) heading = g_strsplit_set (g_strstrip (lines[top + 1]), " ", -1);
  g_autofree char *joined = NULL;
  {
    g_autoptr (GStrvBuilder) words = g_strv_builder_new ();
    for (int i = 0; heading[i]; i++)
      if (*heading[i])
        g_strv_builder_add (words, heading[i]);
    g_auto (GStrv) w = g_strv_builder_end (words);
    joined = g_strjoinv (" ", w);
  }
  g_assert_cmpstr (joined, ==, "class probability logit name");
  for (int j = 0; j < 3; j++)
    {
      int index;
      double p, logit;
      g_assert_cmpint (sscanf (lines[top + 2 + j], "%d %lf %lf", &index, &p, &logit), ==, 3);
      g_assert_cmpfloat (p, >, 0);
      g_assert_cmpfloat (p, <, 1);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/commands/help-formats", test_help_formats);
  g_test_add_func ("/cli/commands/graph-format-from-extension", test_graph_format_from_extension);
  g_test_add_func ("/cli/commands/graph-binary-to-terminal", test_graph_binary_to_terminal);
  g_test_add_func ("/cli/commands/weights-missing", test_weights_missing);
  g_test_add_func ("/cli/commands/predict-headings", test_predict_headings);

  return g_test_run ();
}

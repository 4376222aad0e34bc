/* test-cli-files.c: gradlens-cli treats the user's files and streams as a careful
 * Unix tool does (engine/output-file.h): a stdout that cannot take the output is
 * an error (exit 1, a message), never a crash or a silent success; -o and --trace
 * follow symbolic links, keep modes, write FIFOs and devices without replacing
 * them, leave the old file when a run fails, and clear their own stale temporary
 * files; train checks its outputs before it trains.
 */
#include "tmp-dir.h"
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "test-cli-common.h"


static char *
read_file (const char *path)
{
  char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* --- 1. stdout ----------------------------------------------------------------- */

static void
assert_stdout_error (Run *run, const char *reason)
{
  g_test_message ("status %d, stderr: %s", run->status, run->err);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "cannot write to standard output"));
  g_assert_nonnull (strstr (run->err, reason));
}

static void
test_stdout_full_or_closed (void)
{
  static const char *const commands[][6] = {
    { "info" },
    { "graph", "autograd" },
    { "graph", "autograd", "-f", "png" },
    { "lesson", "autograd" },
    { "lesson", "--list" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *const *a = commands[i];
      g_auto (Run) full = { 0 };
      g_auto (Run) closed = { 0 };
      if (!run_cli_redirected (&full, ">/dev/full", a[0], a[1], a[2], a[3], NULL))
        return;
      assert_stdout_error (&full, g_strerror (ENOSPC));
      g_assert_true (run_cli_redirected (&closed, ">&-", a[0], a[1], a[2], a[3], NULL));
      assert_stdout_error (&closed, g_strerror (EBADF));
    }
}

/* --- 3, 4. links, modes, FIFOs, devices -------------------------------------------- */

static void
test_output_symlink_and_mode (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-cli-files-XXXXXX");
  g_autofree char *real = g_build_filename (dir, "real.json", NULL);
  g_autofree char *link = g_build_filename (dir, "link.json", NULL);
  g_autofree char *dangling = g_build_filename (dir, "dangling.json", NULL);
  g_autofree char *later = g_build_filename (dir, "later.json", NULL);
  g_assert_true (g_file_set_contents (real, "old", -1, NULL));
  g_assert_cmpint (g_chmod (real, 0600), ==, 0);
  g_assert_cmpint (symlink ("real.json", link), ==, 0);
  g_assert_cmpint (symlink ("later.json", dangling), ==, 0);

  g_auto (Run) run = { 0 };
  if (!run_cli (&run, "graph", "autograd", "-o", link, NULL))
    return;
  g_assert_cmpint (run.status, ==, 0);
  struct stat st;
  g_assert_cmpint (g_lstat (link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));                      /* still a link */
  g_assert_cmpint (g_lstat (real, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);            /* its mode kept */
  g_autofree char *text = read_file (real);
  g_assert_true (g_str_has_prefix (text, "{"));

  /* A link to nothing yet: the file appears where it points. */
  g_auto (Run) again = { 0 };
  g_assert_true (run_cli (&again, "graph", "autograd", "-f", "dot", "-o", dangling, NULL));
  g_assert_cmpint (again.status, ==, 0);
  g_assert_cmpint (g_lstat (dangling, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_autofree char *dot = read_file (later);
  g_assert_true (g_str_has_prefix (dot, "digraph"));

  /* A plain file keeps its mode too. */
  g_assert_cmpint (g_chmod (later, 0640), ==, 0);
  g_auto (Run) third = { 0 };
  g_assert_true (run_cli (&third, "graph", "autograd", "-o", later, NULL));
  g_assert_cmpint (third.status, ==, 0);
  g_assert_cmpint (g_stat (later, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
  tmp_dir_remove (dir);
}

static void
test_output_fifo_and_device (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-cli-files-XXXXXX");
  g_autofree char *fifo = g_build_filename (dir, "pipe", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);

  /* Our end of the FIFO, open before the program runs, so that its open for
   * writing does not wait; it reads what the program wrote (EOF when it closed,
   * or at once if it never opened the FIFO). The graph, 577 bytes, fits in the
   * pipe's buffer while nobody reads. */
  int reader = g_open (fifo, O_RDONLY | O_NONBLOCK, 0);
  g_assert_cmpint (reader, >=, 0);
  g_auto (Run) run = { 0 };
  if (!run_cli (&run, "graph", "autograd", "-o", fifo, NULL))
    {
      close (reader);
      tmp_dir_remove (dir);
      return;
    }
  g_autoptr (GString) got = g_string_new (NULL);
  char buf[4096];
  ssize_t n;
  while ((n = read (reader, buf, sizeof buf)) > 0)
    g_string_append_len (got, buf, n);
  close (reader);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_str_has_prefix (got->str, "{"));
  struct stat st;
  g_assert_cmpint (g_lstat (fifo, &st), ==, 0);
  g_assert_true (S_ISFIFO (st.st_mode));

  /* A character device (a null device of our own, where we may make one). */
  g_autofree char *null = g_build_filename (dir, "null", NULL);
  if (mknod (null, S_IFCHR | 0666, makedev (1, 3)) == 0)
    {
      g_auto (Run) dev = { 0 };
      g_assert_true (run_cli (&dev, "graph", "autograd", "-o", null, NULL));
      g_assert_cmpint (dev.status, ==, 0);
      g_assert_cmpint (g_lstat (null, &st), ==, 0);
      g_assert_true (S_ISCHR (st.st_mode));
    }
  else
    g_test_message ("mknod: %s: the device case is left out", g_strerror (errno));

  /* A full device: the error names it. */
  g_auto (Run) full = { 0 };
  g_assert_true (run_cli (&full, "graph", "autograd", "-o", "/dev/full", NULL));
  g_assert_cmpint (full.status, ==, 1);
  g_assert_nonnull (strstr (full.err, "“/dev/full”"));
  g_assert_nonnull (strstr (full.err, g_strerror (ENOSPC)));
  g_assert_cmpint (g_lstat ("/dev/full", &st), ==, 0);
  g_assert_true (S_ISCHR (st.st_mode));
  tmp_dir_remove (dir);
}

/* --- 5. a failed run leaves the old trace -------------------------------------- */

static void
test_trace_atomic (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-cli-files-XXXXXX");
  g_autofree char *trace = g_build_filename (dir, "run.jsonl", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_assert_true (g_file_set_contents (trace, "the old trace\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad, "not weights", -1, NULL));

  /* The weights fail to load inside the run, after the trace was opened. */
  g_auto (Run) failed = { 0 };
  if (!run_cli (&failed, "lesson", "resnet18-step", "--weights", bad, "--trace", trace, NULL))
    return;
  g_assert_cmpint (failed.status, ==, 1);
  g_autofree char *kept = read_file (trace);
  g_assert_cmpstr (kept, ==, "the old trace\n");

  g_auto (Run) ok = { 0 };
  g_assert_true (run_cli (&ok, "lesson", "autograd", "--trace", trace, NULL));
  g_assert_cmpint (ok.status, ==, 0);
  g_autofree char *fresh = read_file (trace);
  g_assert_true (g_str_has_prefix (fresh, "{"));

  /* Nothing else is left in the folder: no temporary file. */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (d))
    n++;
  g_assert_cmpuint (n, ==, 2);
  tmp_dir_remove (dir);
}

/* --- 6. stale temporaries -------------------------------------------------------- */

static void
test_stale_temporaries (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-cli-files-XXXXXX");
  /* A process that has ended: its pid names a writer that is gone. */
  pid_t dead = fork ();
  if (dead == 0)
    _exit (0);
  g_assert_cmpint (waitpid (dead, NULL, 0), ==, dead);
  g_autofree char *stale_name = g_strdup_printf (".old.json.gradlens-%d-a1B2c3", (int) dead);
  g_autofree char *live_name = g_strdup_printf (".g.json.gradlens-%d-zzzzzz", (int) getpid ());
  g_autofree char *stale = g_build_filename (dir, stale_name, NULL);
  g_autofree char *live = g_build_filename (dir, live_name, NULL);
  g_autofree char *user = g_build_filename (dir, ".notes.gradlens-x", NULL);
  g_assert_true (g_file_set_contents (stale, "half a save", -1, NULL));
  g_assert_true (g_file_set_contents (live, "being written", -1, NULL));
  g_assert_true (g_file_set_contents (user, "mine", -1, NULL));

  g_autofree char *out = g_build_filename (dir, "g.json", NULL);
  g_auto (Run) run = { 0 };
  if (!run_cli (&run, "graph", "autograd", "-o", out, NULL))
    return;
  g_assert_cmpint (run.status, ==, 0);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));   /* its writer is gone */
  g_assert_true (g_file_test (live, G_FILE_TEST_EXISTS));     /* its writer runs */
  g_assert_true (g_file_test (user, G_FILE_TEST_EXISTS));     /* not our pattern */
  tmp_dir_remove (dir);
}

/* --- 7. train checks its outputs first ---------------------------------------- */

static void
test_train_outputs_first (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-cli-files-XXXXXX");
  g_autofree char *same = g_build_filename (dir, "x.safetensors", NULL);
  g_autofree char *nowhere = g_build_filename (dir, "no-such-folder", "w.safetensors", NULL);
  const char *cases[][4] = {
    { "--save-weights", same, "--save-grads", same },
    { "--save-weights", "", NULL },
    { "--save-grads", nowhere, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };
      if (!run_cli (&run, "train", "--size", "32", "--batch", "2", cases[i][0], cases[i][1],
                    cases[i][2], cases[i][3], NULL))
        return;
      g_test_message ("%s “%s” → %d: %s", cases[i][0], cases[i][1], run.status, run.err);
      g_assert_cmpint (run.status, !=, 0);
      g_assert_null (strstr (run.out, "step 1"));            /* refused before training */
      g_assert_true (g_str_has_prefix (run.err, "gradlens-cli train: "));
    }
  g_assert_false (g_file_test (same, G_FILE_TEST_EXISTS));
  tmp_dir_remove (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/files/stdout-full-or-closed", test_stdout_full_or_closed);
  g_test_add_func ("/cli/files/symlink-and-mode", test_output_symlink_and_mode);
  g_test_add_func ("/cli/files/fifo-and-device", test_output_fifo_and_device);
  g_test_add_func ("/cli/files/trace-atomic", test_trace_atomic);
  g_test_add_func ("/cli/files/stale-temporaries", test_stale_temporaries);
  g_test_add_func ("/cli/files/train-outputs-first", test_train_outputs_first);

  return g_test_run ();
}

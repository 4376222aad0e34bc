/* test-settings.c: settings.ini is read and written with care (ui/gtk/settings.h).
 *
 * A FIFO does not hang the start (it is refused at once); a binary file or a
 * folder is refused with a message naming it; seed=-1 and zero-grad=maybe are
 * refused and said, not turned into 18446744073709551615 and false; saving keeps
 * comments, unknown keys and other groups, writes only when a setting changed,
 * and replaces the file a symbolic link points to, not the link.
 */
#include "tmp-dir.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"


static char *
contents (const char *path)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
test_not_a_file (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-settings-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "settings.ini", NULL);
  g_autoptr (GError) error = NULL;
  GradlensSettings s;

  /* A FIFO: refused at once, never waited on (the alarm fails a hang). */
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  alarm (20);
  gradlens_settings_init (&s);
  g_assert_false (gradlens_settings_load (&s, path, &error));
  alarm (0);
  g_assert_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "a FIFO"));
  g_clear_error (&error);
  s.lr = 0.5;                                   /* a change: still not written into it */
  g_assert_false (gradlens_settings_save (&s, path, &error));
  g_assert_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_WRITE);
  g_clear_error (&error);
  struct stat st;
  g_assert_cmpint (g_lstat (path, &st), ==, 0);
  g_assert_true (S_ISFIFO (st.st_mode));
  g_unlink (path);

  /* A folder. */
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  g_assert_false (gradlens_settings_load (&s, path, &error));
  g_assert_nonnull (strstr (error->message, "a folder"));
  g_clear_error (&error);
  g_assert_false (gradlens_settings_save (&s, path, &error));
  g_clear_error (&error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
  g_rmdir (path);

  /* Binary garbage: said, the defaults used, and the file left as it is while
   * no setting changes. */
  g_assert_true (g_file_set_contents (path, "\x89PNG\r\n\x1a\n\xff\xfe", 10, NULL));
  gradlens_settings_clear (&s);
  gradlens_settings_init (&s);
  g_assert_false (gradlens_settings_load (&s, path, &error));
  g_assert_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  g_assert_cmpfloat (s.lr, ==, 1e-2);
  gsize length = 0;
  g_autofree char *before = NULL;
  g_assert_true (g_file_get_contents (path, &before, &length, NULL));
  g_assert_cmpuint (length, ==, 10);
  gradlens_settings_clear (&s);
  tmp_dir_remove (dir);
}

static void
test_refused_values (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-settings-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "settings.ini", NULL);
  g_autoptr (GError) error = NULL;
  GradlensSettings s;

  g_assert_true (g_file_set_contents (path, "[lesson]\nseed=-1\nzero-grad=maybe\nlr=0.5\n", -1,
                                      NULL));
  gradlens_settings_init (&s);
  g_assert_false (gradlens_settings_load (&s, path, &error));
  g_assert_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_VALUE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "seed=-1"));
  g_assert_nonnull (strstr (error->message, "zero-grad=maybe"));
  g_assert_cmpuint (s.seed, ==, 0);                 /* not 18446744073709551615 */
  g_assert_true (s.zero_grad);                      /* the default, not false */
  g_assert_cmpfloat (s.lr, ==, 0.5);                /* the good value is taken */
  gradlens_settings_clear (&s);
  tmp_dir_remove (dir);
}

static void
test_keeps_what_it_does_not_know (void)
{
  g_autofree char *dir = tmp_dir_new ("gradlens-settings-XXXXXX");
  g_autofree char *real = g_build_filename (dir, "real.ini", NULL);
  g_autofree char *path = g_build_filename (dir, "settings.ini", NULL);
  g_autoptr (GError) error = NULL;
  const char *text = "# my notes\n[lesson]\n# the rate I like\nlr=0.500\ncolor=blue\n\n"
                     "[other]\nx=1\n";
  GradlensSettings s;

  g_assert_true (g_file_set_contents (real, text, -1, NULL));
  g_assert_cmpint (g_chmod (real, 0640), ==, 0);
  g_assert_cmpint (symlink ("real.ini", path), ==, 0);

  gradlens_settings_init (&s);
  g_assert_true (gradlens_settings_load (&s, path, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (s.lr, ==, 0.5);

  /* Nothing changed: nothing written (lr=0.500 stays as the user wrote it). */
  g_assert_true (gradlens_settings_save (&s, path, &error));
  g_assert_no_error (error);
  g_autofree char *same = contents (real);
  g_assert_cmpstr (same, ==, text);

  /* A change: that key rewritten, everything else kept, the link still a link. */
  s.lr = 0.25;
  g_assert_true (gradlens_settings_save (&s, path, &error));
  g_assert_no_error (error);
  g_autofree char *after = contents (real);
  g_test_message ("%s", after);
  g_assert_nonnull (strstr (after, "# my notes"));
  g_assert_nonnull (strstr (after, "# the rate I like"));
  g_assert_nonnull (strstr (after, "lr=0.25\n"));
  g_assert_nonnull (strstr (after, "color=blue"));
  g_assert_nonnull (strstr (after, "[other]\nx=1"));
  g_assert_null (strstr (after, "seed="));          /* defaults are not added */
  struct stat st;
  g_assert_cmpint (g_lstat (path, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_assert_cmpint (g_stat (real, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0640);
  gradlens_settings_clear (&s);
  tmp_dir_remove (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/settings/not-a-file", test_not_a_file);
  g_test_add_func ("/ui/settings/refused-values", test_refused_values);
  g_test_add_func ("/ui/settings/keeps-what-it-does-not-know", test_keeps_what_it_does_not_know);

  return g_test_run ();
}

/* test-safetensors-save.c — saves that fail leave the old file as it was and
 * no temporary file behind: a file size limit, a full disk (a small tmpfs in a
 * user and mount namespace of a child process), a read-only folder, targets
 * that cannot be written. */
#define _GNU_SOURCE
#include "state-dict.h"
#include "test-state-dict-common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- safetensors: saves that fail ----------------------------------------- */

/* A state dict of 64 KiB of floats: more than the limits below allow. */
static StateDict *
big_state_dict (void)
{
  StateDict *sd = state_dict_new ();
  g_autoptr (Tensor) t = tensor_arange (2, (int64_t[]){ 128, 128 }, 0, 1);
  state_dict_add_f32 (sd, "big.weight", t);
  return sd;
}

static const char old_contents[] = "the old weights, which must survive a failed save";

static char *
write_old_file (const char *dir)
{
  char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_true (g_file_set_contents (path, old_contents, sizeof old_contents, NULL));
  return path;
}

static gboolean
old_file_intact (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;
  return g_file_get_contents (path, &contents, &len, NULL) && len == sizeof old_contents
         && memcmp (contents, old_contents, len) == 0;
}

/* In a child process (the limit and the signal stay there): exit 0 when the
 * save failed with `reason`, the old file is intact and no temporary is left. */
static int
child_save_fails (const char *dir, const char *path, const char *reason)
{
  g_autoptr (StateDict) sd = big_state_dict ();
  GError *error = NULL;
  if (safetensors_save (sd, path, &error))
    return 10;
  g_autofree char *file_part = g_strdup_printf ("Cannot save “%s”: ", path);
  int rc = 0;
  if (!g_str_has_prefix (error->message, file_part) || !strstr (error->message, reason)
      || !strstr (error->message, "The existing file was left untouched."))
    {
      g_printerr ("unexpected message: %s\n", error->message);
      rc = 11;
    }
  else if (!old_file_intact (path))
    rc = 12;
  else if (count_files (dir) != 1)
    rc = 13;
  g_printerr ("child: %s\n", error->message);
  g_error_free (error);
  return rc;
}

/* RLIMIT_FSIZE: writes past 16 KiB fail with EFBIG, as on a full quota. */
static void
test_save_fsize_limit (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = write_old_file (dir);
  fflush (NULL);
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rlimit lim = { 16384, 16384 };
      signal (SIGXFSZ, SIG_IGN);           /* else the kernel kills us at the limit */
      if (setrlimit (RLIMIT_FSIZE, &lim) != 0)
        _exit (20);
      _exit (child_save_fails (dir, path, g_strerror (EFBIG)));
    }
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (old_file_intact (path));
  g_assert_cmpuint (count_files (dir), ==, 1);
  remove_tmp_dir (dir);
}

/* In place: g_file_set_contents would write a temporary file and rename it. */
static gboolean
write_proc (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean ok = write (fd, text, strlen (text)) == (ssize_t) strlen (text);
  close (fd);
  return ok;
}

/* A full disk: a 32 KiB tmpfs, mounted in a private user and mount namespace so
 * no privilege is needed and nothing outlives the child. Skipped where the
 * kernel does not allow unprivileged namespaces. */
static int
child_full_disk (const char *dir)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return 77;
  g_autofree char *uid_map = g_strdup_printf ("0 %u 1\n", (unsigned) uid);
  g_autofree char *gid_map = g_strdup_printf ("0 %u 1\n", (unsigned) gid);
  if (!write_proc ("/proc/self/setgroups", "deny") || !write_proc ("/proc/self/uid_map", uid_map)
      || !write_proc ("/proc/self/gid_map", gid_map))
    return 77;
  if (mount ("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
      || mount ("gradlens-test", dir, "tmpfs", 0, "size=32k") != 0)
    return 77;
  g_autofree char *path = write_old_file (dir);
  return child_save_fails (dir, path, g_strerror (ENOSPC));
}

static void
test_save_full_disk (void)
{
  g_autofree char *dir = make_tmp_dir ();
  fflush (NULL);
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (child_full_disk (dir));
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  remove_tmp_dir (dir);
  if (WEXITSTATUS (status) == 77)
    g_test_skip ("cannot mount a small tmpfs here (no unprivileged user namespaces)");
  else
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* A folder nobody may write to. As root, permission bits do not stop writes:
 * the folder is made immutable instead (FS_IMMUTABLE_FL, chattr +i), where the
 * file system allows it. */
static void
test_save_read_only_folder (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = write_old_file (dir);
  g_autoptr (StateDict) sd = big_state_dict ();
  int dfd = -1, flags = 0;
  gboolean immutable = FALSE;
  if (geteuid () != 0)
    g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
  else
    {
      dfd = open (dir, O_RDONLY | O_DIRECTORY);
      g_assert_cmpint (dfd, >=, 0);
      int want = 0;
      if (ioctl (dfd, FS_IOC_GETFLAGS, &flags) == 0)
        {
          want = flags | FS_IMMUTABLE_FL;
          immutable = ioctl (dfd, FS_IOC_SETFLAGS, &want) == 0;
        }
      if (!immutable)
        {
          close (dfd);
          remove_tmp_dir (dir);
          g_test_skip ("running as root on a file system without chattr +i");
          return;
        }
    }

  GError *error = NULL;
  gboolean saved = safetensors_save (sd, path, &error);
  gboolean intact = old_file_intact (path);
  guint n_files = count_files (dir);
  /* Undo before asserting, so a failure leaves nothing undeletable behind. */
  if (immutable)
    {
      ioctl (dfd, FS_IOC_SETFLAGS, &flags);
      close (dfd);
    }
  else
    g_chmod (dir, 0755);
  remove_tmp_dir (dir);

  g_assert_false (saved);
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_test_message ("%s", error->message);
  g_autofree char *want = g_strdup_printf ("Cannot save “%s”: cannot create a temporary file in "
                                           "the folder “%s”: %s. The existing file was left "
                                           "untouched.", path, dir,
                                           g_strerror (immutable ? EPERM : EACCES));
  g_assert_cmpstr (error->message, ==, want);
  g_assert_true (intact);
  g_assert_cmpuint (n_files, ==, 1);
  g_error_free (error);
}

static void
test_save_bad_targets (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autoptr (StateDict) sd = big_state_dict ();
  g_autoptr (GError) error = NULL;

  /* The target is a folder. */
  g_autofree char *sub = g_build_filename (dir, "checkpoints", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_assert_false (safetensors_save (sd, sub, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_autofree char *want = g_strdup_printf ("Cannot save “%s”: it is a folder; give a file name "
                                           "such as “%s/model.safetensors”", sub, sub);
  g_assert_cmpstr (error->message, ==, want);
  g_assert_cmpuint (count_files (sub), ==, 0);
  g_clear_error (&error);

  /* In a folder that does not exist. */
  g_autofree char *nowhere = g_build_filename (dir, "no-such-folder", "model.safetensors", NULL);
  g_assert_false (safetensors_save (sd, nowhere, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, nowhere));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOENT)));
  g_assert_nonnull (strstr (error->message, "No file was written."));
  g_clear_error (&error);

  /* In a "folder" that is a file. */
  g_autofree char *plain = g_build_filename (dir, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (plain, "x", 1, NULL));
  g_autofree char *under = g_build_filename (plain, "model.safetensors", NULL);
  g_assert_false (safetensors_save (sd, under, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, g_strerror (ENOTDIR)));
  g_clear_error (&error);

  /* Names safetensors cannot carry. */
  g_autofree char *ok_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (Tensor) t = tensor_new_ones (1, (int64_t[]){ 2 });
  g_autoptr (StateDict) reserved = state_dict_new ();
  state_dict_add_f32 (reserved, "__metadata__", t);
  g_assert_false (safetensors_save (reserved, ok_path, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "no tensor may be called “__metadata__”"));
  g_clear_error (&error);
  g_autoptr (StateDict) latin1 = state_dict_new ();
  state_dict_add_f32 (latin1, "gr\xfc\xdf" "e", t);
  g_assert_false (safetensors_save (latin1, ok_path, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "not valid UTF-8"));
  g_clear_error (&error);

  g_assert_cmpuint (count_files (dir), ==, 2);
  remove_tmp_dir (dir);
}

/* Through a symbolic link: the file it points to is replaced, mode kept, and the
 * link stays a link (it was replaced by a regular file). */
static void
test_save_through_symlink (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *real = g_build_filename (dir, "real.safetensors", NULL);
  g_autofree char *link = g_build_filename (dir, "link.safetensors", NULL);
  g_assert_true (g_file_set_contents (real, "old", -1, NULL));
  g_assert_cmpint (g_chmod (real, 0600), ==, 0);
  g_assert_cmpint (symlink ("real.safetensors", link), ==, 0);

  g_autoptr (StateDict) sd = state_dict_new ();
  g_autoptr (Tensor) t = tensor_new_ones (1, (int64_t[]){ 4 });
  state_dict_add_f32 (sd, "t", t);
  g_autoptr (GError) error = NULL;
  g_assert_true (safetensors_save (sd, link, &error));
  g_assert_no_error (error);

  struct stat st;
  g_assert_cmpint (g_lstat (link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_assert_cmpint (g_lstat (real, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_autoptr (StateDict) back = safetensors_load (real, &error);
  g_assert_no_error (error);
  g_assert_nonnull (state_dict_lookup (back, "t"));
  g_assert_cmpuint (count_files (dir), ==, 2);
  remove_tmp_dir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/safetensors/save/fsize-limit", test_save_fsize_limit);
  g_test_add_func ("/engine/safetensors/save/full-disk", test_save_full_disk);
  g_test_add_func ("/engine/safetensors/save/read-only-folder", test_save_read_only_folder);
  g_test_add_func ("/engine/safetensors/save/bad-targets", test_save_bad_targets);
  g_test_add_func ("/engine/safetensors/save/through-symlink", test_save_through_symlink);
  return g_test_run ();
}

/* output-file.c — atomic replacement of regular files, direct writes to devices
 * and FIFOs, links followed, modes kept (the guarantees are in output-file.h). */
#include "output-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_MARK ".gradlens-"

struct _OutputFile
{
  char *display;        /* the path as the user gave it, for messages */
  char *verb;
  char *target;         /* the file replaced: path, or where its links lead */
  char *tmp;            /* the temporary file; NULL when writing directly */
  int fd;
  FILE *stream;
  gboolean had_old;
  int errsv;            /* the first failed write's errno, 0 if none */
};

/* The first sentence of every error, one whole sentence per verb so that a
 * translator never meets a verb on its own: "Cannot VERB “FILE”: REASON." A verb
 * not listed here gets the English sentence; add it here with its caller. */
static char *
first_sentence (const char *verb, const char *file, const char *reason)
{
  /* not translated: the verbs the callers pass (output-file.h) */
  static const char *const verbs[] = {
    "save", "write", "export",
    "export the graph to",    /* not translated: a caller's verb */
    "save the settings to",   /* not translated: a caller's verb */
    "write the trace to",     /* not translated: a caller's verb */
  };
  guint i = 0;
  while (i < G_N_ELEMENTS (verbs) && !g_str_equal (verb, verbs[i]))
    i++;
  switch (i)
    {
    /* Translators: the first %s is a file name, the second the reason, a clause
     * such as “it is a folder; give a file name” or “No space left on device”. */
    case 0: return g_strdup_printf (_("Cannot save “%s”: %s."), file, reason);
    case 1: return g_strdup_printf (_("Cannot write “%s”: %s."), file, reason);
    case 2: return g_strdup_printf (_("Cannot export “%s”: %s."), file, reason);
    case 3: return g_strdup_printf (_("Cannot export the graph to “%s”: %s."), file, reason);
    case 4: return g_strdup_printf (_("Cannot save the settings to “%s”: %s."), file, reason);
    case 5: return g_strdup_printf (_("Cannot write the trace to “%s”: %s."), file, reason);
    default:
      /* not translated: a verb without its sentence above */
      return g_strdup_printf ("Cannot %s “%s”: %s.", verb, file, reason);
    }
}

static void G_GNUC_PRINTF (4, 5)
set_error (GError **error, int errsv, const OutputFile *out, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *first = first_sentence (out->verb, out->display, reason);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s %s", first,
               out->had_old ? _("The existing file was left untouched.")
                            : _("No file was written."));
}

/* Why a path that exists cannot be written: a whole clause for each kind. */
static const char *
refusal_of (mode_t mode)
{
  return S_ISDIR (mode) ? _("it is a folder; give a file name")
         : S_ISSOCK (mode) ? _("it is a socket; give a file name")
         : S_ISBLK (mode) ? _("it is a block device; give a file name")
         : _("it is not a file; give a file name");
}

/* Where a chain of symbolic links that ends nowhere leads: each link's text,
 * relative ones taken from the link's folder. NULL (errno set) on a loop. */
static char *
follow_dangling_links (const char *path)
{
  g_autofree char *at = g_strdup (path);
  for (int hops = 0; hops < 40; hops++)
    {
      struct stat st;
      if (g_lstat (at, &st) != 0 || !S_ISLNK (st.st_mode))
        return g_steal_pointer (&at);
      g_autofree char *link = g_file_read_link (at, NULL);
      if (link == NULL)
        return NULL;
      if (!g_path_is_absolute (link))
        {
          g_autofree char *dir = g_path_get_dirname (at);
          g_free (at);
          at = g_build_filename (dir, link, NULL);
        }
      else
        {
          g_free (at);
          at = g_steal_pointer (&link);
        }
    }
  errno = ELOOP;
  return NULL;
}

/* ".NAME.gradlens-PID-XXXXXX" → PID, or 0 when name is not one of ours. */
static pid_t
tmp_owner_pid (const char *name)
{
  const char *mark = name[0] == '.' ? g_strrstr (name, TMP_MARK) : NULL;
  if (mark == NULL)
    return 0;
  char *end = NULL;
  guint64 pid = g_ascii_strtoull (mark + strlen (TMP_MARK), &end, 10);
  if (end == mark + strlen (TMP_MARK) || *end != '-' || strlen (end + 1) != 6
      || pid == 0 || pid > INT_MAX)
    return 0;
  return (pid_t) pid;
}

/* Our temporary files in dir whose writer is gone (killed mid-save): regular
 * files of ours, named by tmp_owner_pid, whose process no longer exists. */
static void
remove_stale_temporaries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      pid_t pid = tmp_owner_pid (name);
      if (pid == 0 || pid == getpid () || kill (pid, 0) == 0 || errno != ESRCH)
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      struct stat st;
      if (g_lstat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == geteuid ())
        (void) g_unlink (path);
    }
}

/* output_file_open, or (check_only) as far as it can go without writing: a
 * device or FIFO is not opened (a FIFO would wait for its reader). */
static OutputFile *
open_file (const char *path, const char *verb, gboolean check_only, GError **error)
{

  g_autofree char *dir = NULL, *base = NULL, *tmp_base = NULL;
  OutputFile *out = g_new0 (OutputFile, 1);
  out->display = g_filename_display_name (path);
  out->verb = g_strdup (verb);
  out->fd = -1;

  struct stat st;
  if (path[0] == '\0')
    {
      set_error (error, ENOENT, out, "%s", _("no file name given"));
      goto fail;
    }
  if (g_stat (path, &st) == 0)
    {
      out->had_old = TRUE;
      if (S_ISCHR (st.st_mode) || S_ISFIFO (st.st_mode))
        {
          /* /dev/null, a terminal, a pipe: write to it, never replace it. */
          if (check_only)
            return out;
          out->fd = g_open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
          if (out->fd < 0)
            {
              set_error (error, errno, out, "%s", g_strerror (errno));
              goto fail;
            }
          return out;
        }
      if (!S_ISREG (st.st_mode))
        {
          set_error (error, EISDIR, out, "%s", refusal_of (st.st_mode));
          goto fail;
        }
      struct stat lst;
      if (g_lstat (path, &lst) == 0 && S_ISLNK (lst.st_mode))
        {
          /* Replace what the link points to; the link stays. */
          out->target = realpath (path, NULL);
          if (out->target == NULL)
            {
              set_error (error, errno, out, "%s", g_strerror (errno));
              goto fail;
            }
        }
    }
  else if (errno == ENOENT)
    {
      out->target = follow_dangling_links (path);
      if (out->target == NULL)
        {
          set_error (error, errno, out, "%s", g_strerror (errno));
          goto fail;
        }
    }
  else
    {
      set_error (error, errno, out, "%s", g_strerror (errno));
      goto fail;
    }
  if (out->target == NULL)
    out->target = g_strdup (path);

  /* The temporary file beside the target: same file system, so the rename is
   * atomic. Its name is cut so that it fits in NAME_MAX. */
  dir = g_path_get_dirname (out->target);
  base = g_path_get_basename (out->target);
  remove_stale_temporaries (dir);
  tmp_base = g_strdup_printf (".%.200s" TMP_MARK "%d-XXXXXX", base,
                                               (int) getpid ());
  out->tmp = g_build_filename (dir, tmp_base, NULL);
  out->fd = g_mkstemp_full (out->tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (out->fd < 0)
    {
      int e = errno;
      g_autofree char *dir_name = g_filename_display_name (dir);
      g_clear_pointer (&out->tmp, g_free);
      set_error (error, e, out, _("cannot create a temporary file in the folder “%s”: %s"),
                 dir_name, g_strerror (e));
      goto fail;
    }
  if (out->had_old)
    {
      /* The replacement keeps the permissions (and, where allowed, the owner). */
      (void) fchmod (out->fd, st.st_mode & 07777);
      if (st.st_uid != geteuid () || st.st_gid != getegid ())
        if (fchown (out->fd, st.st_uid, st.st_gid) == 0)
          (void) fchmod (out->fd, st.st_mode & 07777);   /* chown clears set-id bits */
    }
  return out;

fail:
  output_file_abort (out);
  return NULL;
}

OutputFile *
output_file_open (const char *path, const char *verb, GError **error)
{
  g_return_val_if_fail (path != NULL && verb != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return open_file (path, verb, FALSE, error);
}

gboolean
output_file_check (const char *path, const char *verb, GError **error)
{
  g_return_val_if_fail (path != NULL && verb != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  OutputFile *out = open_file (path, verb, TRUE, error);
  output_file_abort (out);
  return out != NULL;
}

gboolean
output_file_same (const char *a, const char *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  struct stat sa, sb;
  if (g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  g_autofree char *ca = g_canonicalize_filename (a, NULL);
  g_autofree char *cb = g_canonicalize_filename (b, NULL);
  return g_str_equal (ca, cb);
}

gboolean
output_file_write (OutputFile *out, const void *data, gsize length)
{
  g_return_val_if_fail (out != NULL && out->stream == NULL, FALSE);
  const char *p = data;
  while (length > 0 && out->errsv == 0)
    {
      ssize_t w = write (out->fd, p, MIN (length, (gsize) 1 << 30));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          out->errsv = w < 0 ? errno : EIO;
          break;
        }
      p += w;
      length -= (gsize) w;
    }
  return out->errsv == 0;
}

FILE *
output_file_stream (OutputFile *out)
{
  g_return_val_if_fail (out != NULL, NULL);
  if (out->stream == NULL)
    {
      out->stream = fdopen (out->fd, "w");
      if (out->stream == NULL)
        g_error ("fdopen: %s", g_strerror (errno));   /* only fails out of memory */
    }
  return out->stream;
}

/* Closes the file (its stream first): FALSE with errsv set if that failed. */
static gboolean
close_file (OutputFile *out)
{
  int rc;
  if (out->stream)
    {
      if (fflush (out->stream) != 0 && out->errsv == 0)
        out->errsv = errno;
      if (ferror (out->stream) && out->errsv == 0)
        out->errsv = EIO;
      rc = fclose (out->stream);
      out->stream = NULL;
    }
  else
    rc = close (out->fd);
  out->fd = -1;
  if (rc != 0 && out->errsv == 0)
    out->errsv = errno;
  return out->errsv == 0;
}

gboolean
output_file_commit (OutputFile *out, GError **error)
{
  g_return_val_if_fail (out != NULL, FALSE);
  enum { WRITING, FLUSHING, CLOSING, RENAMING } step = WRITING;
  if (out->errsv == 0 && out->tmp)
    {
      if (out->stream && fflush (out->stream) != 0)
        out->errsv = errno;
      else if (fsync (out->fd) != 0)
        {
          out->errsv = errno;
          step = FLUSHING;
        }
    }
  if (out->errsv == 0 && !close_file (out))
    step = CLOSING;
  if (out->errsv == 0 && out->tmp)
    {
      if (g_rename (out->tmp, out->target) != 0)
        {
          out->errsv = errno;
          step = RENAMING;
        }
      else
        {
          g_clear_pointer (&out->tmp, g_free);
          /* Make the rename itself durable; a failure here loses nothing. */
          g_autofree char *dir = g_path_get_dirname (out->target);
          int dfd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
          if (dfd >= 0)
            {
              (void) fsync (dfd);
              close (dfd);
            }
        }
    }
  if (out->errsv != 0)
    {
      /* Translators: %s is the system's reason, such as “No space left on device”. */
      const char *why = g_strerror (out->errsv);
      if (step == FLUSHING)
        set_error (error, out->errsv, out, _("flushing to disk failed: %s"), why);
      else if (step == CLOSING)
        set_error (error, out->errsv, out, _("closing failed: %s"), why);
      else if (step == RENAMING)
        set_error (error, out->errsv, out, _("renaming the temporary file over it failed: %s"),
                   why);
      else
        set_error (error, out->errsv, out, _("writing failed: %s"), why);
      output_file_abort (out);
      return FALSE;
    }
  output_file_abort (out);
  return TRUE;
}

void
output_file_abort (OutputFile *out)
{
  if (out == NULL)
    return;
  if (out->stream)
    fclose (out->stream);
  else if (out->fd >= 0)
    close (out->fd);
  if (out->tmp)
    g_unlink (out->tmp);     /* ours, a regular file: the only thing ever unlinked */
  g_free (out->display);
  g_free (out->verb);
  g_free (out->target);
  g_free (out->tmp);
  g_free (out);
}

gboolean
output_file_set_contents (const char *path, const void *data, gsize length, const char *verb,
                          GError **error)
{
  OutputFile *out = output_file_open (path, verb, error);
  if (out == NULL)
    return FALSE;
  output_file_write (out, data, length);
  return output_file_commit (out, error);
}

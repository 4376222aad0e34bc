/* tmp-dir.h — a temporary folder for a test, and its removal (files and empty
 * subfolders inside it, then itself). */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

static inline char *
tmp_dir_new (const char *pattern)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (pattern, &error);
  g_assert_no_error (error);
  return dir;
}

static inline void
tmp_dir_remove (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_rmdir (path) != 0)
        g_unlink (path);
    }
  g_rmdir (dir);
}

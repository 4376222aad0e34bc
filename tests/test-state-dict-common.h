/* test-state-dict-common.h: what the .safetensors tests share (test-safetensors.c,
 * test-safetensors-save.c): scratch folders, and tensors with known values. */
#pragma once

#include "state-dict.h"

#include <glib/gstdio.h>

static inline char *
make_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("gradlens-safetensors-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

/* Removes a folder this test made and the files in it (one level). */
static inline void
remove_tmp_dir (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tmp_dir (path);
      else
        g_unlink (path);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

static inline guint
count_files (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  guint n = 0;
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

static inline Tensor *
tensor_arange (int ndim, const int64_t *shape, float start, float step)
{
  Tensor *t = tensor_new_empty (ndim, shape);
  for (int64_t i = 0; i < t->numel; i++)
    t->data[i] = start + step * i;
  return t;
}

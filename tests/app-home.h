/* app-home.h: a fresh folder for the application's settings and cache in a test
 * (shared by test-window.c and app-driver.h). */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* A fresh folder, named after PREFIX, for the application's settings and cache
 * (XDG_CONFIG_HOME and XDG_CACHE_HOME), never the user's. Call it before
 * gtk_test_init(); app_home_remove() takes it away with the settings saved. */
G_GNUC_UNUSED static char *
app_home_new (const char *prefix)
{
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", prefix);
  char *home = g_dir_make_tmp (template, NULL);

  g_assert_nonnull (home);
  g_setenv ("XDG_CONFIG_HOME", home, TRUE);
  g_setenv ("XDG_CACHE_HOME", home, TRUE);
  return home;
}

/* The folder and all in it: the settings, and what else lands in the cache
 * (Mesa's shader cache, when GL is on). */
G_GNUC_UNUSED static void
app_home_remove (const char *home)
{
  GDir *dir = g_dir_open (home, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (home, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        app_home_remove (path);
      else
        g_remove (path);
    }
  g_clear_pointer (&dir, g_dir_close);
  g_rmdir (home);
}

/* settings.c: the lesson settings, remembered between runs */

#include "settings.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>

#define GROUP "lesson"

G_DEFINE_QUARK (gradlens-settings-error-quark, gradlens_settings_error)

void
gradlens_settings_init (GradlensSettings *settings)
{
  g_return_if_fail (settings != NULL);

  /* The tutorial's values: rand(1, 3, 64, 64), SGD(lr=1e-2, momentum=0.9); three
   * steps, so the loss plot has a line and momentum shows. */
  *settings = (GradlensSettings) {
    .lesson = NULL,
    .input_size = 64,
    .seed = 0,
    .lr = 1e-2,
    .momentum = 0.9,
    .steps = 3,
    .zero_grad = TRUE,
    .speed = 4,
  };
}

void
gradlens_settings_clear (GradlensSettings *settings)
{
  g_return_if_fail (settings != NULL);

  g_clear_pointer (&settings->lesson, g_free);
}

void
gradlens_settings_copy (GradlensSettings       *dest,
                        const GradlensSettings *src)
{
  g_return_if_fail (dest != NULL && src != NULL);

  if (dest == src)
    return;
  gradlens_settings_clear (dest);
  *dest = *src;
  dest->lesson = g_strdup (src->lesson);
}

char *
gradlens_settings_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "gradlens", "settings.ini", NULL);
}

gboolean
gradlens_settings_load (GradlensSettings *settings,
                        const char       *path,
                        GError          **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  GradlensSettings defaults;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE,
                   "Cannot read the settings in %s: %s (the defaults are used)",
                   path, local->message);
      return FALSE;
    }

  gradlens_settings_init (&defaults);

  /* Each key on its own: one bad value does not cost the others. */
  if (g_key_file_has_key (kf, GROUP, "lesson", NULL))
    {
      g_free (settings->lesson);
      settings->lesson = g_key_file_get_string (kf, GROUP, "lesson", NULL);
    }
  if (g_key_file_has_key (kf, GROUP, "input-size", NULL))
    {
      int v = g_key_file_get_integer (kf, GROUP, "input-size", NULL);
      settings->input_size = v == 64 || v == 224 ? v : defaults.input_size;
    }
  if (g_key_file_has_key (kf, GROUP, "seed", NULL))
    settings->seed = g_key_file_get_uint64 (kf, GROUP, "seed", NULL);
  if (g_key_file_has_key (kf, GROUP, "lr", NULL))
    {
      double v = g_key_file_get_double (kf, GROUP, "lr", NULL);
      settings->lr = isfinite (v) && v > 0 && v <= 100 ? v : defaults.lr;
    }
  if (g_key_file_has_key (kf, GROUP, "momentum", NULL))
    {
      double v = g_key_file_get_double (kf, GROUP, "momentum", NULL);
      settings->momentum = isfinite (v) && v >= 0 && v < 1 ? v : defaults.momentum;
    }
  if (g_key_file_has_key (kf, GROUP, "steps", NULL))
    {
      int v = g_key_file_get_integer (kf, GROUP, "steps", NULL);
      settings->steps = v >= 1 && v <= 1000 ? v : defaults.steps;
    }
  if (g_key_file_has_key (kf, GROUP, "zero-grad", NULL))
    settings->zero_grad = g_key_file_get_boolean (kf, GROUP, "zero-grad", NULL);
  if (g_key_file_has_key (kf, GROUP, "speed", NULL))
    {
      double v = g_key_file_get_double (kf, GROUP, "speed", NULL);
      settings->speed = isfinite (v) && v >= 0.5 && v <= 60 ? v : defaults.speed;
    }

  return TRUE;
}

/* "0.9", not g_key_file_set_double's "0.90000000000000002". */
static void
set_number (GKeyFile   *kf,
            const char *key,
            double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_key_file_set_value (kf, GROUP, key, g_ascii_formatd (buf, sizeof buf, "%.9g", value));
}

gboolean
gradlens_settings_save (const GradlensSettings *settings,
                        const char             *path,
                        GError                **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (settings->lesson != NULL)
    g_key_file_set_string (kf, GROUP, "lesson", settings->lesson);
  g_key_file_set_integer (kf, GROUP, "input-size", settings->input_size);
  g_key_file_set_uint64 (kf, GROUP, "seed", settings->seed);
  set_number (kf, "lr", settings->lr);
  set_number (kf, "momentum", settings->momentum);
  g_key_file_set_integer (kf, GROUP, "steps", settings->steps);
  g_key_file_set_boolean (kf, GROUP, "zero-grad", settings->zero_grad);
  set_number (kf, "speed", settings->speed);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_WRITE,
                   "Cannot create the folder %s for the settings: %s", dir, g_strerror (saved));
      return FALSE;
    }
  /* g_key_file_save_to_file writes a temporary file and renames it. */
  if (!g_key_file_save_to_file (kf, path, &local))
    {
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_WRITE,
                   "Cannot save the settings to %s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

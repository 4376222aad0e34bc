/* settings.h: the lesson settings, remembered between runs
 *
 * Input size (64 or 224), seed, learning rate, momentum, the number of
 * training steps, whether the resnet lessons call optim.zero_grad() each step, the play speed and the
 * last lesson, kept in a GKeyFile at g_get_user_config_dir()/gradlens/settings.ini
 * (GSettings would need a schema installed; a key file works from the build
 * folder). The file is read carefully: only a regular file (a FIFO, a folder
 * or a device is refused, never waited on), values checked one by one (seed=-1 or
 * zero-grad=maybe is refused and said, the default used). Saving keeps what the
 * file holds besides (comments, unknown keys, other groups), writes only when a
 * setting changed, and replaces the file as every output is (output-file.h:
 * atomically, its mode kept, a symbolic link followed).
 *
 *   GradlensSettings s;
 *   g_autofree char *path = gradlens_settings_default_path ();
 *   gradlens_settings_init (&s);
 *   gradlens_settings_load (&s, path, &error);     // a missing file is not an error
 *   s.lr = 0.1;
 *   gradlens_settings_save (&s, path, &error);
 *   gradlens_settings_clear (&s);
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GRADLENS_SETTINGS_ERROR (gradlens_settings_error_quark ())
GQuark gradlens_settings_error_quark (void);

typedef enum
{
  GRADLENS_SETTINGS_ERROR_PARSE,   /* the file cannot be read: the defaults are used */
  GRADLENS_SETTINGS_ERROR_VALUE,   /* some values were refused: their defaults are used */
  GRADLENS_SETTINGS_ERROR_WRITE,
} GradlensSettingsError;

typedef struct
{
  char    *lesson;        /* last lesson's id, or NULL */
  int      input_size;    /* 64 or 224 */
  guint64  seed;
  double   lr;            /* > 0 */
  double   momentum;      /* [0, 1) */
  int      steps;         /* training steps of the resnet lessons, [1, 1000] */
  gboolean zero_grad;     /* resnet lessons: optim.zero_grad() at each step */
  double   speed;         /* play: pauses per second, [0.5, 60] */
} GradlensSettings;

void      gradlens_settings_init         (GradlensSettings *settings);   /* defaults */
void      gradlens_settings_clear        (GradlensSettings *settings);
void      gradlens_settings_copy         (GradlensSettings *dest, const GradlensSettings *src);
char     *gradlens_settings_default_path (void);
/* A missing file leaves the defaults and returns TRUE. FALSE with error (to tell
 * the user once) when the file cannot be read or some values were refused; the
 * settings then hold the defaults for what was wrong and the file's other values. */
gboolean  gradlens_settings_load         (GradlensSettings *settings, const char *path,
                                          GError **error);
/* Creates the folder if needed; writes nothing when the file already says all
 * this (or leaves out only defaults). */
gboolean  gradlens_settings_save         (const GradlensSettings *settings, const char *path,
                                          GError **error);

G_END_DECLS

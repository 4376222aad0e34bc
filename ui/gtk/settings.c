/* settings.c: the lesson settings, remembered between runs */

#include "settings.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output-file.h"

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

/* The settings file's text, read carefully: only a regular file (a FIFO would
 * block the window, a folder or device is not ours), at most 1 MiB. NULL with
 * *missing set when there is none; NULL with error set when it cannot be used. */
static char *
read_settings_file (const char  *path,
                    gboolean    *missing,
                    GError     **error)
{
  struct stat st;
  int fd;

  *missing = FALSE;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      int e = errno;
      *missing = e == ENOENT;
      if (!*missing)
        g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE,
                     _("Cannot read the settings in %s: %s"), path, g_strerror (e));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > (1 << 20))
    {
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE,
                   _("Cannot read the settings in %s: it is %s"), path,
                   S_ISDIR (st.st_mode) ? _("a folder") : S_ISFIFO (st.st_mode) ? _("a FIFO")
                   : S_ISREG (st.st_mode) ? _("larger than 1 MiB") : _("not a regular file"));
      close (fd);
      return NULL;
    }
  GString *text = g_string_new (NULL);
  char buf[4096];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      g_string_append_len (text, buf, n);
  int e = errno;
  close (fd);
  if (n < 0)
    {
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE,
                   _("Cannot read the settings in %s: %s"), path, g_strerror (e));
      g_string_free (text, TRUE);
      return NULL;
    }
  return g_string_free (text, FALSE);
}

/* The file as a key file, comments kept; NULL with error if it is not one. */
static GKeyFile *
load_key_file (const char  *path,
               gboolean    *missing,
               GError     **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *text = read_settings_file (path, missing, error);

  if (text == NULL)
    return NULL;
  if (!g_utf8_validate (text, -1, NULL)
      || !g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_KEEP_COMMENTS
                                                   | G_KEY_FILE_KEEP_TRANSLATIONS, &local))
    {
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE,
                   _("Cannot read the settings in %s: %s"), path,
                   local ? local->message : _("it is not text (UTF-8)"));
      return NULL;
    }
  return g_steal_pointer (&kf);
}

/* The settings' keys, each with how its value is read and checked. */
typedef enum { KEY_STRING, KEY_SIZE, KEY_SEED, KEY_LR, KEY_MOMENTUM, KEY_STEPS,
               KEY_BOOLEAN, KEY_SPEED } KeyKind;

/* text as a value of kind into *out: FALSE, *why saying what is expected, if it
 * is refused. */
static gboolean
parse_value (const char *text,
             KeyKind     kind,
             gpointer    out,
             const char **why)
{
  gint64 i = 0;
  guint64 u = 0;
  char *end = NULL;
  double d;

  switch (kind)
    {
    case KEY_STRING:
      *(char **) out = g_strdup (text);
      return TRUE;
    case KEY_SIZE:
      *why = _("the lessons take 64 or 224");
      if (!g_ascii_string_to_signed (text, 10, 64, 224, &i, NULL) || (i != 64 && i != 224))
        return FALSE;
      *(int *) out = (int) i;
      return TRUE;
    case KEY_SEED:
      *why = _("a seed is a whole number from 0 to 18446744073709551615");
      if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &u, NULL))
        return FALSE;
      *(guint64 *) out = u;
      return TRUE;
    case KEY_STEPS:
      *why = "give 1 to 1000 steps";
      if (!g_ascii_string_to_signed (text, 10, 1, 1000, &i, NULL))
        return FALSE;
      *(int *) out = (int) i;
      return TRUE;
    case KEY_BOOLEAN:
      *why = _("give true or false");
      if (g_str_equal (text, "true") || g_str_equal (text, "false"))
        {
          *(gboolean *) out = g_str_equal (text, "true");
          return TRUE;
        }
      return FALSE;
    case KEY_LR:
    case KEY_MOMENTUM:
    case KEY_SPEED:
      d = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0' || !isfinite (d))
        {
          *why = "not a number";
          return FALSE;
        }
      *why = kind == KEY_LR ? _("a learning rate is above 0 and at most 100")
             : kind == KEY_MOMENTUM ? _("momentum is from 0 up to (not including) 1")
             : _("the speed is 0.5 to 60 pauses a second");
      if ((kind == KEY_LR && !(d > 0 && d <= 100)) || (kind == KEY_MOMENTUM && !(d >= 0 && d < 1))
          || (kind == KEY_SPEED && !(d >= 0.5 && d <= 60)))
        return FALSE;
      *(double *) out = d;
      return TRUE;
    }
  g_assert_not_reached ();
}

static const struct
{
  const char *key;
  KeyKind kind;
  gsize offset;
} keys[] = {
  { "lesson", KEY_STRING, G_STRUCT_OFFSET (GradlensSettings, lesson) },
  { "input-size", KEY_SIZE, G_STRUCT_OFFSET (GradlensSettings, input_size) },
  { "seed", KEY_SEED, G_STRUCT_OFFSET (GradlensSettings, seed) },
  { "lr", KEY_LR, G_STRUCT_OFFSET (GradlensSettings, lr) },
  { "momentum", KEY_MOMENTUM, G_STRUCT_OFFSET (GradlensSettings, momentum) },
  { "steps", KEY_STEPS, G_STRUCT_OFFSET (GradlensSettings, steps) },
  { "zero-grad", KEY_BOOLEAN, G_STRUCT_OFFSET (GradlensSettings, zero_grad) },
  { "speed", KEY_SPEED, G_STRUCT_OFFSET (GradlensSettings, speed) },
};

gboolean
gradlens_settings_load (GradlensSettings *settings,
                        const char       *path,
                        GError          **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) refused = g_string_new (NULL);
  gboolean missing;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  kf = load_key_file (path, &missing, &local);
  if (kf == NULL)
    {
      if (missing)
        return TRUE;
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_PARSE,
                   _("%s. The defaults are used; the file is left as it is until you change "
                     "a setting."), local->message);
      return FALSE;
    }

  /* Each key on its own: one bad value does not cost the others. */
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *text = g_key_file_get_value (kf, GROUP, keys[i].key, NULL);
      gpointer field = G_STRUCT_MEMBER_P (settings, keys[i].offset);
      const char *why = NULL;

      if (text == NULL)
        continue;
      if (keys[i].kind == KEY_STRING)
        g_free (*(char **) field);
      if (!parse_value (text, keys[i].kind, field, &why))
        g_string_append_printf (refused, "%s%s=%s (%s)", refused->len ? "; " : "",
                                keys[i].key, text, why);
    }
  if (refused->len > 0)
    {
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_VALUE,
                   _("Some settings in %s were refused, and their defaults used: %s"), path,
                   refused->str);
      return FALSE;
    }
  return TRUE;
}

/* Writes value into kf unless the file already says it (or, for a key the
 * file does not have, unless it is the default): TRUE if kf changed. */
static gboolean
update_key (GKeyFile   *kf,
            KeyKind     kind,
            const char *key,
            const char *value,
            const char *default_value)
{
  g_autofree char *current = g_key_file_get_value (kf, GROUP, key, NULL);
  const char *why;

  if (current == NULL && g_strcmp0 (value, default_value) == 0)
    return FALSE;
  if (current != NULL)
    {
      /* The same value in other words ("0.010" for 0.01) is left as written. */
      union { char *s; int i; guint64 u; double d; gboolean b; } a = { 0 }, b = { 0 };
      gboolean same = parse_value (current, kind, &a, &why) && parse_value (value, kind, &b, &why)
                      && (kind == KEY_STRING ? g_str_equal (a.s, b.s)
                          : kind == KEY_SEED ? a.u == b.u
                          : kind == KEY_LR || kind == KEY_MOMENTUM || kind == KEY_SPEED ? a.d == b.d
                          : kind == KEY_BOOLEAN ? a.b == b.b : a.i == b.i);
      if (kind == KEY_STRING)
        {
          g_free (a.s);
          g_free (b.s);
        }
      if (same)
        return FALSE;
    }
  g_key_file_set_value (kf, GROUP, key, value);
  return TRUE;
}

/* A setting as the file writes it: "0.9", not "0.90000000000000002". */
static char *
format_value (const GradlensSettings *s,
              guint                   i)
{
  gconstpointer field = G_STRUCT_MEMBER_P (s, keys[i].offset);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  switch (keys[i].kind)
    {
    case KEY_STRING:
      return g_strdup (*(char *const *) field);
    case KEY_SIZE:
    case KEY_STEPS:
      return g_strdup_printf ("%d", *(const int *) field);
    case KEY_SEED:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, *(const guint64 *) field);
    case KEY_BOOLEAN:
      return g_strdup (*(const gboolean *) field ? "true" : "false");
    default:
      return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.9g", *(const double *) field));
    }
}

gboolean
gradlens_settings_save (const GradlensSettings *settings,
                        const char             *path,
                        GError                **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GError) unreadable = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  GradlensSettings defaults;
  gboolean missing, changed = FALSE;
  gsize length;
  struct stat st;

  g_return_val_if_fail (settings != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* Not ours to replace: a folder, a FIFO, a device. */
  if (g_stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_WRITE,
                   _("Cannot save the settings to %s: it is not a regular file"), path);
      return FALSE;
    }
  /* What the file holds is kept (comments, other keys and groups); only the
   * settings that changed are written. An unreadable file is replaced. */
  kf = load_key_file (path, &missing, &unreadable);
  if (kf == NULL)
    {
      kf = g_key_file_new ();
      changed = !missing;
    }
  gradlens_settings_init (&defaults);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *value = format_value (settings, i);
      g_autofree char *default_value = format_value (&defaults, i);
      if (value != NULL)
        changed |= update_key (kf, keys[i].kind, keys[i].key, value, default_value);
    }
  if (!changed)
    return TRUE;

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, GRADLENS_SETTINGS_ERROR, GRADLENS_SETTINGS_ERROR_WRITE,
                   _("Cannot create the folder %s for the settings: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  /* Atomic, mode kept, a symbolic link followed (output-file.h). */
  data = g_key_file_to_data (kf, &length, NULL);
  /* not translated: output-file.c's name for its whole translated sentence */
  return output_file_set_contents (path, data, length, "save the settings to", error);
}

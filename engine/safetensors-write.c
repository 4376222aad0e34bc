/* safetensors-write.c — writing .safetensors files (F32 and I64 tensors); the
 * format is described in safetensors-private.h.
 *
 * The writer lays a file out as the safetensors library does (so our files and
 * safetensors.torch.save_file's are byte-for-byte alike) and replaces the target
 * atomically through output-file.h: temporary file in the same folder, fsync,
 * rename.
 */
#include "output-file.h"
#include "safetensors-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The row of safetensors_dtypes[] that a StateDtype is written as. */
static int
dtype_index (StateDtype dtype)
{
  return dtype == STATE_DTYPE_F32 ? SAFETENSORS_DTYPE_F32 : SAFETENSORS_DTYPE_I64;
}

/* The safetensors library's order: by dtype, highest alignment first (so I64
 * before F32), then by name, bytewise. */
static int
entry_compare_for_file (const void *a, const void *b)
{
  const StateEntry *x = *(const StateEntry *const *) a, *y = *(const StateEntry *const *) b;
  int dx = dtype_index (x->dtype), dy = dtype_index (y->dtype);
  if (dx != dy)
    return dx > dy ? -1 : 1;
  return strcmp (x->name, y->name);
}

static int
entry_ndim (const StateEntry *e)
{
  return e->dtype == STATE_DTYPE_F32 ? e->f32->ndim : e->ndim;
}

static const int64_t *
entry_shape (const StateEntry *e)
{
  return e->dtype == STATE_DTYPE_F32 ? e->f32->shape : e->shape;
}

static uint64_t
entry_nbytes (const StateEntry *e)
{
  return e->dtype == STATE_DTYPE_F32 ? (uint64_t) e->f32->numel * 4
                                     : (uint64_t) state_entry_numel (e) * 8;
}

/* A JSON string as serde_json writes it: quotes, backslashes and control
 * characters escaped, everything else (UTF-8 included) as is. */
static void
append_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guint8 *p = (const guint8 *) s; *p; p++)
    switch (*p)
      {
      case '"': g_string_append (out, "\\\""); break;
      case '\\': g_string_append (out, "\\\\"); break;
      case '\b': g_string_append (out, "\\b"); break;
      case '\f': g_string_append (out, "\\f"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\r': g_string_append (out, "\\r"); break;
      case '\t': g_string_append (out, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, *p);
      }
  g_string_append_c (out, '"');
}

/* The entries in file order (a new array of borrowed pointers) and the
 * header: length word, JSON, spaces up to a multiple of 8. */
static GString *
build_header (const StateDict *sd, const StateEntry ***order)
{
  guint n = state_dict_size (sd);
  const StateEntry **sorted = g_new (const StateEntry *, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    sorted[i] = state_dict_entry (sd, i);
  qsort (sorted, n, sizeof *sorted, entry_compare_for_file);

  GString *h = g_string_new (NULL);
  g_string_append_len (h, "\0\0\0\0\0\0\0\0", 8);
  g_string_append_c (h, '{');
  uint64_t at = 0;
  for (guint i = 0; i < n; i++)
    {
      const StateEntry *e = sorted[i];
      if (i > 0)
        g_string_append_c (h, ',');
      append_json_string (h, e->name);
      g_string_append_printf (h, ":{\"dtype\":\"%s\",\"shape\":[",
                              safetensors_dtypes[dtype_index (e->dtype)].name);
      for (int k = 0; k < entry_ndim (e); k++)
        g_string_append_printf (h, k ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                                entry_shape (e)[k]);
      uint64_t nbytes = entry_nbytes (e);
      g_string_append_printf (h, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              at, at + nbytes);
      at += nbytes;
    }
  g_string_append_c (h, '}');
  while (h->len % 8 != 0)
    g_string_append_c (h, ' ');
  guint64 le = GUINT64_TO_LE ((guint64) (h->len - 8));
  memcpy (h->str, &le, 8);
  *order = sorted;
  return h;
}

/* Where the bytes go: a memory buffer, or a file being written. */
typedef struct
{
  GByteArray *bytes;
  OutputFile *out;
} Sink;

static gboolean
sink_write (Sink *sink, const void *buf, size_t n)
{
  if (sink->bytes)
    {
      g_byte_array_append (sink->bytes, buf, n);
      return TRUE;
    }
  return output_file_write (sink->out, buf, n);
}

/* A tensor's elements, little-endian, elem bytes each. */
static gboolean
sink_write_le (Sink *sink, const void *data, size_t n, size_t elem)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  (void) elem;
  return sink_write (sink, data, n * elem);
#else
  guint8 buf[8192];
  const guint8 *src = data;
  while (n > 0)
    {
      size_t k = MIN (n, sizeof buf / elem);
      for (size_t i = 0; i < k; i++)
        for (size_t b = 0; b < elem; b++)
          buf[i * elem + b] = src[i * elem + elem - 1 - b];
      if (!sink_write (sink, buf, k * elem))
        return FALSE;
      src += k * elem;
      n -= k;
    }
  return TRUE;
#endif
}

static gboolean
write_file_contents (const StateDict *sd, Sink *sink)
{
  g_autofree const StateEntry **order = NULL;
  g_autoptr (GString) header = build_header (sd, &order);
  if (!sink_write (sink, header->str, header->len))
    return FALSE;
  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = order[i];
      gboolean ok = e->dtype == STATE_DTYPE_F32
                        ? sink_write_le (sink, e->f32->data, e->f32->numel, 4)
                        : sink_write_le (sink, e->i64, state_entry_numel (e), 8);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

GBytes *
safetensors_save_bytes (const StateDict *sd)
{
  g_return_val_if_fail (sd != NULL, NULL);
  Sink sink = { .bytes = g_byte_array_new () };
  write_file_contents (sd, &sink);
  return g_byte_array_free_to_bytes (sink.bytes);
}

/* "Cannot save “FILE”: REASON" */
static void G_GNUC_PRINTF (4, 5)
save_error (GError **error, StateDictError code, const char *file, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  /* Translators: a file name and why it cannot be saved, a clause. */
  g_set_error (error, STATE_DICT_ERROR, code, _("Cannot save “%s”: %s"), file, reason);
}

gboolean
safetensors_save (const StateDict *sd, const char *path, GError **error)
{
  g_return_val_if_fail (sd != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *file = g_filename_display_name (path);
  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const char *name = state_dict_entry (sd, i)->name;
      if (!g_utf8_validate (name, -1, NULL))
        {
          save_error (error, STATE_DICT_ERROR_FORMAT, file,
                      _("a tensor name is not valid UTF-8, which safetensors requires"));
          return FALSE;
        }
      if (strcmp (name, "__metadata__") == 0)
        {
          save_error (error, STATE_DICT_ERROR_FORMAT, file,
                      _("no tensor may be called “__metadata__”: safetensors keeps that name "
                        "for the file's metadata"));
          return FALSE;
        }
    }

  struct stat old;
  if (g_stat (path, &old) == 0 && S_ISDIR (old.st_mode))
    {
      save_error (error, STATE_DICT_ERROR_IO, file,
                  _("it is a folder; give a file name such as “%s%smodel.safetensors”"), file,
                  g_str_has_suffix (file, G_DIR_SEPARATOR_S) ? "" : G_DIR_SEPARATOR_S);
      return FALSE;
    }
  /* Atomic, mode kept, links followed, devices written directly (output-file.h);
   * its errors read “Cannot save “FILE”: …”, in the state dict's domain here. */
  g_autoptr (GError) local = NULL;
  Sink sink = { .out = output_file_open (path, "save", &local) };
  if (sink.out != NULL)
    {
      write_file_contents (sd, &sink);
      if (output_file_commit (sink.out, &local))
        return TRUE;
    }
  g_set_error_literal (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO, local->message);
  return FALSE;
}

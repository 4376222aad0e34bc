/* safetensors-read.c — reading .safetensors files (F32 and I64 tensors); the
 * format is described in safetensors-private.h.
 *
 * A file may come from anywhere, so the reader trusts nothing: it checks the
 * whole header — lengths, JSON, dtypes, shapes, byte counts, and that the
 * tensors tile the data area exactly (no overlap, no gap, nothing after) — and
 * only then allocates tensors. Every error names the file, the tensor and what
 * is wrong, in words that say what to do.
 */
#include "safetensors-private.h"
#include "state-dict-private.h"
#include "json.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

/* The safetensors library refuses headers over 100 MB; so do we. A header
 * entry takes about ten JSON values, so the value limit leaves room for some
 * 100,000 tensors (resnet18 has 122) while bounding the parse tree's memory. */
#define HEADER_MAX_BYTES   (100 * 1000 * 1000)
#define HEADER_MAX_VALUES  (1u << 20)
#define HEADER_MAX_DEPTH   8

/* Every dtype of the format, with its element size and torch's name: the
 * library's order, which the writer's sort relies on. */
const SafetensorsDtype safetensors_dtypes[] = {
  { "BOOL", 1, "torch.bool" },          { "U8", 1, "torch.uint8" },
  { "I8", 1, "torch.int8" },            { "F8_E5M2", 1, "torch.float8_e5m2" },
  { "F8_E4M3", 1, "torch.float8_e4m3fn" }, { "I16", 2, "torch.int16" },
  { "U16", 2, "torch.uint16" },         { "F16", 2, "torch.float16" },
  { "BF16", 2, "torch.bfloat16" },      { "I32", 4, "torch.int32" },
  { "U32", 4, "torch.uint32" },         { "F32", 4, "torch.float32" },
  { "F64", 8, "torch.float64" },        { "I64", 8, "torch.int64" },
  { "U64", 8, "torch.uint64" },
};

/* Offsets and sizes for the translated messages' %llu (a literal format: no
 * G_GUINT64_FORMAT, which xgettext cannot read). */
#define ULL(x) ((unsigned long long) (x))

/* One tensor of a header, checked; name borrowed from the JSON tree. */
typedef struct
{
  const char *name;
  StateDtype dtype;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  uint64_t begin, end;          /* bytes, relative to the data area */
} TensorInfo;

static char *
shape_of_json (const JsonValue *shape)
{
  GString *s = g_string_new ("[");
  for (size_t i = 0; i < shape->array.n && i < 8; i++)
    {
      const JsonValue *d = shape->array.items[i];
      if (i > 0)
        g_string_append (s, ", ");
      if (d->type == JSON_NUMBER && d->number.is_integer)
        g_string_append_printf (s, "%" G_GINT64_FORMAT, d->number.integer);
      else if (d->type == JSON_NUMBER)
        g_string_append_printf (s, "%g", d->number.value);
      else
        g_string_append (s, "…");
    }
  g_string_append (s, shape->array.n > 8 ? ", …]" : "]");
  return g_string_free (s, FALSE);
}

/* A whole number ≥ 0 from the header, or an error saying what `what` is. */
static gboolean
get_count (const JsonValue *v, uint64_t *out, const char *file, const char *tensor,
           const char *what, GError **error)
{
  if (v->type != JSON_NUMBER)
    {
      FORMAT_ERROR (file, tensor,
                    _("%s must be a whole number, but it is %s"), what, json_type_describe (v->type));
      return FALSE;
    }
  if (!v->number.is_integer)
    {
      /* Past int64: not a fraction, just larger than any file. */
      if (v->number.value >= 9.2e18)
        FORMAT_ERROR (file, tensor,
                      _("%s is %g, too large for any file"), what, v->number.value);
      else
        FORMAT_ERROR (file, tensor,
                      _("%s must be a whole number, written without a decimal point or an "
                        "exponent, but it is %g written with one"), what, v->number.value);
      return FALSE;
    }
  if (v->number.integer < 0)
    {
      FORMAT_ERROR (file, tensor,
                    _("%s is %lld, but sizes and offsets cannot be negative"), what,
                    (long long) v->number.integer);
      return FALSE;
    }
  *out = (uint64_t) v->number.integer;
  return TRUE;
}

/* Checks one header entry {dtype, shape, data_offsets} against the data area. */
static gboolean
check_tensor (const char *file, const char *name, const JsonValue *v, uint64_t data_size,
              TensorInfo *info, GError **error)
{
  if (v->type != JSON_OBJECT)
    {
      FORMAT_ERROR (file, name,
                    _("its header entry must be an object {\"dtype\", \"shape\", \"data_offsets\"}, "
                      "but it is %s"), json_type_describe (v->type));
      return FALSE;
    }
  const JsonValue *dtype = json_value_member (v, "dtype");
  const JsonValue *shape = json_value_member (v, "shape");
  const JsonValue *offsets = json_value_member (v, "data_offsets");
  const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
  if (missing)
    {
      FORMAT_ERROR (file, name,
                    _("its header entry has no “%s”; every tensor needs \"dtype\", \"shape\" and "
                      "\"data_offsets\""), missing);
      return FALSE;
    }

  /* dtype: one of the format's, and F32 or I64 for us. */
  if (dtype->type != JSON_STRING)
    {
      FORMAT_ERROR (file, name,
                    _("“dtype” must be a string such as \"F32\", but it is %s"),
                    json_type_describe (dtype->type));
      return FALSE;
    }
  int d = -1;
  for (int i = 0; i < (int) G_N_ELEMENTS (safetensors_dtypes); i++)
    if (strlen (safetensors_dtypes[i].name) == dtype->string.len
        && strcmp (safetensors_dtypes[i].name, dtype->string.str) == 0)
      d = i;
  if (d < 0)
    {
      FORMAT_ERROR (file, name,
                    _("unknown dtype “%s” (safetensors dtypes are F32, F16, BF16, F64, I64, I32, "
                      "I16, I8, U8, BOOL, ...)"), dtype->string.str);
      return FALSE;
    }
  if (d != SAFETENSORS_DTYPE_F32 && d != SAFETENSORS_DTYPE_I64)
    {
      state_dict_load_error (error, STATE_DICT_ERROR_DTYPE, file, name,
                             _("its dtype is %s (%s), but GradLens reads only F32 (torch.float32) "
                               "and I64 (torch.int64) tensors. Convert the state dict before "
                               "saving it, e.g. {k: v.float() if v.is_floating_point() else "
                               "v.long() for k, v in sd.items()}"),
                             safetensors_dtypes[d].name, safetensors_dtypes[d].torch);
      return FALSE;
    }
  info->dtype = d == SAFETENSORS_DTYPE_F32 ? STATE_DTYPE_F32 : STATE_DTYPE_I64;

  /* shape: at most four sizes ≥ 0, whose byte count fits 64 bits. */
  if (shape->type != JSON_ARRAY)
    {
      FORMAT_ERROR (file, name,
                    _("“shape” must be an array of sizes such as [64, 3, 7, 7], but it is %s"),
                    json_type_describe (shape->type));
      return FALSE;
    }
  if (shape->array.n > TENSOR_MAX_DIMS)
    {
      g_autofree char *s = shape_of_json (shape);
      state_dict_load_error (error, STATE_DICT_ERROR_SHAPE, file, name,
                             _("its shape %s has %zu dimensions, but GradLens tensors have at "
                               "most %d"), s, shape->array.n, TENSOR_MAX_DIMS);
      return FALSE;
    }
  /* The product of the sizes, zeros counted as ones, must fit too: an empty
   * (0, 2^62, 2^62) tensor holds no bytes, but its strides would overflow. */
  info->ndim = (int) shape->array.n;
  uint64_t span = safetensors_dtypes[d].size;
  bool overflow = false, empty = false;
  for (int i = 0; i < info->ndim; i++)
    {
      /* Translators: a noun phrase, the subject of messages such as “%s must be
       * a whole number, but it is a string”. */
      g_autofree char *what = g_strdup_printf (_("size %d of its shape"), i);
      uint64_t size;
      if (!get_count (shape->array.items[i], &size, file, name, what, error))
        return FALSE;
      info->shape[i] = (int64_t) size;
      empty |= size == 0;
      overflow |= !g_uint64_checked_mul (&span, span, MAX (size, 1));
    }
  uint64_t nbytes = empty ? 0 : span;
  if (overflow || span > G_MAXINT64)
    {
      g_autofree char *s = shape_of_json (shape);
      FORMAT_ERROR (file, name,
                    _("its shape %s is impossibly large (more than 2^63 bytes)"), s);
      return FALSE;
    }

  /* data_offsets: [begin, end], end - begin bytes of the data area. */
  if (offsets->type != JSON_ARRAY || offsets->array.n != 2)
    {
      FORMAT_ERROR (file, name,
                    _("“data_offsets” must be an array [begin, end] of two byte offsets, but it "
                      "is %s"),
                    offsets->type == JSON_ARRAY ? _("an array of another length")
                                                : json_type_describe (offsets->type));
      return FALSE;
    }
  /* Translators: noun phrases, as “size %d of its shape” above. */
  if (!get_count (offsets->array.items[0], &info->begin, file, name, _("its begin offset"), error)
      || !get_count (offsets->array.items[1], &info->end, file, name, _("its end offset"), error))
    return FALSE;
  if (info->end < info->begin)
    {
      FORMAT_ERROR (file, name,
                    _("its data_offsets [%llu, %llu] end before they begin"), ULL (info->begin),
                    ULL (info->end));
      return FALSE;
    }
  if (info->end - info->begin != nbytes)
    {
      g_autofree char *s = shape_of_json (shape);
      FORMAT_ERROR (file, name,
                    _("an %s tensor of shape %s takes %llu bytes, but its "
                      "data_offsets [%llu, %llu] hold %llu"),
                    safetensors_dtypes[d].name, s, ULL (nbytes), ULL (info->begin),
                    ULL (info->end), ULL (info->end - info->begin));
      return FALSE;
    }
  if (info->end > data_size)
    {
      FORMAT_ERROR (file, name,
                    _("its data_offsets [%llu, %llu] go past the "
                      "end of the data, which is %llu bytes long: the file is "
                      "truncated or its header is wrong"),
                    ULL (info->begin), ULL (info->end), ULL (data_size));
      return FALSE;
    }
  return TRUE;
}

static int
info_compare_offsets (const void *a, const void *b)
{
  const TensorInfo *x = *(const TensorInfo *const *) a, *y = *(const TensorInfo *const *) b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* The tensors must tile the data area: sorted by offset, each begins where the
 * previous one ended, and the last ends at the end of the file. */
static gboolean
check_tiling (const char *file, TensorInfo *infos, size_t n, uint64_t data_size, GError **error)
{
  g_autofree TensorInfo **sorted = g_new (TensorInfo *, MAX (n, 1));
  for (size_t i = 0; i < n; i++)
    sorted[i] = &infos[i];
  qsort (sorted, n, sizeof *sorted, info_compare_offsets);

  uint64_t at = 0;
  const TensorInfo *prev = NULL;
  for (size_t i = 0; i < n; i++)
    {
      const TensorInfo *t = sorted[i];
      if (t->begin < at)
        {
          FORMAT_ERROR (file, NULL,
                        _("tensors “%s” (data bytes %llu–%llu) and "
                          "“%s” (data bytes %llu–%llu) overlap"),
                        prev->name, ULL (prev->begin), ULL (prev->end), t->name, ULL (t->begin),
                        ULL (t->end));
          return FALSE;
        }
      if (t->begin > at)
        {
          FORMAT_ERROR (file, NULL,
                        _("data bytes %llu–%llu belong to no "
                          "tensor (a gap before tensor “%s”)"), ULL (at), ULL (t->begin), t->name);
          return FALSE;
        }
      at = t->end;
      prev = t;
    }
  if (at != data_size)
    {
      FORMAT_ERROR (file, NULL,
                    _("%llu bytes follow the last tensor's data (trailing garbage): "
                      "the file was damaged or something was appended to it"),
                    ULL (data_size - at));
      return FALSE;
    }
  return TRUE;
}

/* Checks the __metadata__ entry: an object of strings. */
static gboolean
check_metadata (const char *file, const JsonValue *v, GError **error)
{
  if (v->type != JSON_OBJECT)
    {
      FORMAT_ERROR (file, NULL,
                    _("“__metadata__” must be an object of strings, but it is %s"),
                    json_type_describe (v->type));
      return FALSE;
    }
  for (size_t i = 0; i < v->object.n; i++)
    if (v->object.members[i].value->type != JSON_STRING)
      {
        FORMAT_ERROR (file, NULL,
                      _("“__metadata__” must map names to strings, but “%s” is %s"),
                      v->object.members[i].key,
                      json_type_describe (v->object.members[i].value->type));
        return FALSE;
      }
  return TRUE;
}

/* The length word and the header; sets *header_len. */
static JsonValue *
parse_header (const guint8 *data, gsize size, const char *file, uint64_t *header_len,
              GError **error)
{
  if (size < 8)
    {
      FORMAT_ERROR (file, NULL,
                    _("the file is %zu bytes long, too short for a safetensors file, which starts "
                      "with an 8-byte header length: it is empty, truncated or of another format"),
                    (size_t) size);
      return NULL;
    }
  guint64 raw;
  memcpy (&raw, data, 8);
  uint64_t n = GUINT64_FROM_LE (raw);
  if (n > size - 8)
    {
      /* The usual reason: a PyTorch file, which starts with a zip archive's
       * "PK\3\4" (torch.save since 1.6) or a pickle's "\x80\x02" (older ones). */
      if (memcmp (data, "PK\x03\x04", 4) == 0)
        {
          FORMAT_ERROR (file, NULL,
                        _("this is a zip archive, probably a PyTorch .pth/.pt file saved with "
                          "torch.save, not a safetensors file. Open it as a .pth file, or convert "
                          "it with safetensors.torch.save_file(torch.load(\"model.pth\"), "
                          "\"model.safetensors\")"));
          return NULL;
        }
      if (data[0] == 0x80 && data[1] >= 2 && data[1] <= 5)
        {
          FORMAT_ERROR (file, NULL,
                        _("this is a pickle, probably a PyTorch .pth/.pt file saved with "
                          "torch.save, not a safetensors file. Open it as a .pth file, or convert "
                          "it with safetensors.torch.save_file(torch.load(\"model.pth\"), "
                          "\"model.safetensors\")"));
          return NULL;
        }
      FORMAT_ERROR (file, NULL,
                    _("its first 8 bytes announce a header of %llu bytes, but only "
                      "%zu bytes follow: the file is truncated or not a safetensors file"), ULL (n),
                    (size_t) (size - 8));
      return NULL;
    }
  if (n > HEADER_MAX_BYTES)
    {
      state_dict_load_error (error, STATE_DICT_ERROR_TOO_LARGE, file, NULL,
                             _("its header is %llu bytes long, more than the "
                               "100 MB that safetensors allows"), ULL (n));
      return NULL;
    }
  const JsonLimits limits = { .max_depth = HEADER_MAX_DEPTH, .max_values = HEADER_MAX_VALUES };
  g_autoptr (GError) json_error = NULL;
  JsonValue *header = json_parse ((const char *) data + 8, n, &limits, &json_error);
  if (header == NULL)
    {
      state_dict_load_error (error,
                             g_error_matches (json_error, JSON_ERROR, JSON_ERROR_LIMIT)
                                 ? STATE_DICT_ERROR_TOO_LARGE : STATE_DICT_ERROR_FORMAT,
                             file, NULL, _("its header (the JSON after the first 8 bytes) is not "
                               "valid JSON: %s"), json_error->message);
      return NULL;
    }
  if (header->type != JSON_OBJECT)
    {
      FORMAT_ERROR (file, NULL,
                    _("its header must be a JSON object {\"name\": {\"dtype\", \"shape\", "
                      "\"data_offsets\"}, ...}, but it is %s"), json_type_describe (header->type));
      json_value_free (header);
      return NULL;
    }
  *header_len = n;
  return header;
}

/* Little-endian bytes to host values. */
static void
copy_f32 (float *dst, const guint8 *src, size_t n)
{
  memcpy (dst, src, n * sizeof (float));
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (size_t i = 0; i < n; i++)
    {
      guint32 u;
      memcpy (&u, &dst[i], 4);
      u = GUINT32_FROM_LE (u);
      memcpy (&dst[i], &u, 4);
    }
#endif
}

static void
copy_i64 (int64_t *dst, const guint8 *src, size_t n)
{
  memcpy (dst, src, n * sizeof (int64_t));
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (size_t i = 0; i < n; i++)
    dst[i] = GINT64_FROM_LE (dst[i]);
#endif
}

StateDict *
safetensors_load_bytes (const guint8 *data, gsize size, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  /* Translators: the file name in messages about safetensors bytes read from
   * memory rather than from a file. */
  const char *file = name ? name : _("(memory)");

  /* 1. Check everything; allocate nothing but the header's parse. */
  uint64_t header_len;
  g_autoptr (JsonValue) header = parse_header (data, size, file, &header_len, error);
  if (header == NULL)
    return NULL;
  const guint8 *area = data + 8 + header_len;
  uint64_t data_size = size - 8 - header_len;

  g_autofree TensorInfo *infos = g_new0 (TensorInfo, MAX (header->object.n, 1));
  size_t n = 0;
  for (size_t i = 0; i < header->object.n; i++)
    {
      const JsonMember *m = &header->object.members[i];
      if (strcmp (m->key, "__metadata__") == 0 && m->key_len == strlen ("__metadata__"))
        {
          if (!check_metadata (file, m->value, error))
            return NULL;
          continue;
        }
      if (strlen (m->key) != m->key_len)
        {
          FORMAT_ERROR (file, m->key,
                        _("its name holds a NUL character (\\u0000)"));
          return NULL;
        }
      infos[n].name = m->key;
      if (!check_tensor (file, m->key, m->value, data_size, &infos[n], error))
        return NULL;
      n++;
    }
  if (!check_tiling (file, infos, n, data_size, error))
    return NULL;

  /* 2. Every byte is accounted for: build the tensors, in header order. */
  StateDict *sd = state_dict_new ();
  for (size_t i = 0; i < n; i++)
    {
      const TensorInfo *t = &infos[i];
      size_t numel = (t->end - t->begin) / (t->dtype == STATE_DTYPE_F32 ? 4 : 8);
      if (t->dtype == STATE_DTYPE_F32)
        {
          g_autoptr (Tensor) x = tensor_new_empty (t->ndim, t->shape);
          copy_f32 (x->data, area + t->begin, numel);
          state_dict_add_f32 (sd, t->name, x);
        }
      else
        {
          g_autofree int64_t *v = g_new (int64_t, MAX (numel, 1));
          copy_i64 (v, area + t->begin, numel);
          state_dict_add_i64 (sd, t->name, t->ndim, t->shape, v);
        }
    }
  return sd;
}

StateDict *
safetensors_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *file = g_filename_display_name (path);
  const guint8 *data;
  gsize size;
  g_autoptr (GMappedFile) map = state_dict_map_file (path, file, &data, &size, error);
  if (map == NULL)
    return NULL;
  return safetensors_load_bytes (data, size, file, error);
}

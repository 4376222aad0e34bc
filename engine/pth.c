/* pth.c — reading PyTorch's .pth state_dicts: a strict zip reader, a strict
 * pickle reader that never calls anything, and the tensors they describe.
 *
 * Layers, bottom up:
 *   zip       end of central directory (ZIP64 too) → central directory → local
 *             headers; every offset checked against the file; entries must be
 *             stored (torch.save never compresses) and pass their CRC-32.
 *   pickle    a stack machine over the opcodes a state_dict uses. Values live in
 *             an arena freed at once. GLOBAL resolves only a short list of names
 *             (OrderedDict, _rebuild_tensor_v2, the storage types); REDUCE "calls"
 *             only those, by building a value, never by running code.
 *   tensors   _rebuild_tensor_v2 (storage, offset, size, stride, …) is a view of a
 *             storage: element (i0, …, ik) is storage[offset + Σ ij·stride_j].
 *             Views are checked to stay inside their storage and copied out
 *             row-major; big-endian files are byte-swapped.
 *
 * A file may come from anywhere: nothing is trusted, nothing is recursed into,
 * and the tensors' total size is bounded by a multiple of the file's size (views
 * may share a storage), so a small file cannot ask for gigabytes.
 */
#include "pth.h"

#include <string.h>

/* ---------------------------------------------------------------------------
 * Errors: "Cannot load “FILE”: [tensor “NAME”: ]REASON", as safetensors.c. */

static void G_GNUC_PRINTF (5, 6)
pth_error (GError **error, StateDictError code, const char *file, const char *tensor,
           const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  if (error == NULL || *error != NULL)
    return;
  if (tensor)
    g_set_error (error, STATE_DICT_ERROR, code, "Cannot load “%s”: tensor “%s”: %s", file,
                 tensor, reason);
  else
    g_set_error (error, STATE_DICT_ERROR, code, "Cannot load “%s”: %s", file, reason);
}

#define FORMAT_ERROR(...) pth_error (error, STATE_DICT_ERROR_FORMAT, __VA_ARGS__)

static inline guint32
rd16 (const guint8 *p)
{
  return p[0] | (guint32) p[1] << 8;
}

static inline guint32
rd32 (const guint8 *p)
{
  return p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static inline guint64
rd64 (const guint8 *p)
{
  return rd32 (p) | (guint64) rd32 (p + 4) << 32;
}

/* ---------------------------------------------------------------------------
 * CRC-32 (zip's: reflected polynomial 0xEDB88320), slicing by eight bytes:
 * table[t][b] is the CRC of byte b followed by t zero bytes. */

static guint32 crc_table[8][256];

static void
crc_init (void)
{
  static gsize done = 0;
  if (!g_once_init_enter (&done))
    return;
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[0][i] = c;
    }
  for (guint32 i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^ (crc_table[t - 1][i] >> 8);
  g_once_init_leave (&done, 1);
}

static guint32
crc32_of (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;
  crc_init ();
  for (; n >= 8; p += 8, n -= 8)
    {
      guint32 lo = c ^ rd32 (p), hi = rd32 (p + 4);
      c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff]
          ^ crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24]
          ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff]
          ^ crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    }
  for (; n > 0; p++, n--)
    c = crc_table[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

/* ---------------------------------------------------------------------------
 * Zip: just enough to read torch.save's archives, strictly. */

#define ZIP_EOCD_SIG      0x06054b50u
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define ZIP64_EOCD_SIG    0x06064b50u
#define ZIP_CENTRAL_SIG   0x02014b50u
#define ZIP_LOCAL_SIG     0x04034b50u

typedef struct
{
  const guint8 *data;   /* (size) bytes inside the file */
  guint64 size;
  guint32 crc;
  gboolean crc_ok;      /* checked once, on first use */
} ZipEntry;

typedef struct
{
  GHashTable *entries;  /* name → ZipEntry * */
  GPtrArray *names;     /* in central directory order */
} Zip;

static void
zip_clear (Zip *zip)
{
  g_clear_pointer (&zip->entries, g_hash_table_unref);
  g_clear_pointer (&zip->names, g_ptr_array_unref);
}

/* The ZIP64 extended information field of a central directory entry replaces
 * those of usize, csize and offset that are 0xffffffff, in that order. */
static gboolean
zip64_extra (const guint8 *x, guint32 n, guint64 *usize, guint64 *csize, guint64 *offset)
{
  while (n >= 4)
    {
      guint32 id = rd16 (x), len = rd16 (x + 2);
      if (len > n - 4)
        return FALSE;
      if (id == 0x0001)
        {
          guint64 *fields[3] = { usize, csize, offset };
          guint32 at = 0;
          for (int i = 0; i < 3; i++)
            if (*fields[i] == 0xffffffffu)
              {
                if (len - at < 8)
                  return FALSE;
                *fields[i] = rd64 (x + 4 + at);
                at += 8;
              }
        }
      x += 4 + len;
      n -= 4 + len;
    }
  return n == 0;
}

static gboolean
zip_open (Zip *zip, const guint8 *data, gsize size, const char *file, GError **error)
{
  if (size < 22)
    {
      FORMAT_ERROR (file, NULL, "the file is too short to be a zip archive (%zu bytes)", size);
      return FALSE;
    }

  /* End of central directory: the last 22 bytes, unless a comment follows. */
  gsize eocd = G_MAXSIZE;
  gsize lowest = size - 22 > 0xffff ? size - 22 - 0xffff : 0;
  for (gsize p = size - 22 + 1; p-- > lowest;)
    if (rd32 (data + p) == ZIP_EOCD_SIG && p + 22 + rd16 (data + p + 20) == size)
      {
        eocd = p;
        break;
      }
  if (eocd == G_MAXSIZE)
    {
      FORMAT_ERROR (file, NULL, "not a zip archive (no end of central directory): "
                                "truncated, or not written by torch.save");
      return FALSE;
    }

  const guint8 *e = data + eocd;
  guint64 disk = rd16 (e + 4), cd_disk = rd16 (e + 6);
  guint64 n_here = rd16 (e + 8), n = rd16 (e + 10);
  guint64 cd_size = rd32 (e + 12), cd_off = rd32 (e + 16);
  guint64 cd_limit = eocd;      /* the central directory ends before this */

  if (n == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
    {
      if (eocd < 20 || rd32 (e - 20) != ZIP64_LOCATOR_SIG)
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: ZIP64 end of central directory missing");
          return FALSE;
        }
      guint64 z = rd64 (e - 20 + 8);
      if (rd32 (e - 20 + 4) != 0 || rd32 (e - 20 + 16) > 1 || z > eocd - 20
          || eocd - 20 - z < 56 || rd32 (data + z) != ZIP64_EOCD_SIG)
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: bad ZIP64 end of central directory");
          return FALSE;
        }
      disk = rd32 (data + z + 16);
      cd_disk = rd32 (data + z + 20);
      n_here = rd64 (data + z + 24);
      n = rd64 (data + z + 32);
      cd_size = rd64 (data + z + 40);
      cd_off = rd64 (data + z + 48);
      cd_limit = z;
    }

  if (disk != 0 || cd_disk != 0 || n_here != n)
    {
      FORMAT_ERROR (file, NULL, "a multi-part zip archive");
      return FALSE;
    }
  if (cd_off > cd_limit || cd_size > cd_limit - cd_off || n > cd_size / 46)
    {
      FORMAT_ERROR (file, NULL, "broken zip archive: the central directory (%" G_GUINT64_FORMAT
                    " entries, %" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT
                    ") does not fit in the file", n, cd_size, cd_off);
      return FALSE;
    }

  zip->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  zip->names = g_ptr_array_new ();

  const guint8 *cd = data + cd_off;
  guint64 at = 0;
  for (guint64 i = 0; i < n; i++)
    {
      if (cd_size - at < 46 || rd32 (cd + at) != ZIP_CENTRAL_SIG)
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: central directory entry %" G_GUINT64_FORMAT
                        " is damaged", i);
          return FALSE;
        }
      const guint8 *c = cd + at;
      guint32 flags = rd16 (c + 8), method = rd16 (c + 10), crc = rd32 (c + 16);
      guint64 csize = rd32 (c + 20), usize = rd32 (c + 24);
      guint32 nl = rd16 (c + 28), xl = rd16 (c + 30), cl = rd16 (c + 32);
      guint64 lho = rd32 (c + 42);
      if ((guint64) 46 + nl + xl + cl > cd_size - at)
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: central directory entry %" G_GUINT64_FORMAT
                        " overruns the directory", i);
          return FALSE;
        }
      const guint8 *name = c + 46;
      if (nl == 0 || memchr (name, 0, nl) != NULL || !g_utf8_validate ((const char *) name, nl, NULL))
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: entry %" G_GUINT64_FORMAT
                        " has an invalid name", i);
          return FALSE;
        }
      g_autofree char *entry_name = g_strndup ((const char *) name, nl);
      if (!zip64_extra (name + nl, xl, &usize, &csize, &lho))
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: bad extra field in entry “%s”", entry_name);
          return FALSE;
        }
      if (flags & 1)
        {
          FORMAT_ERROR (file, NULL, "zip entry “%s” is encrypted", entry_name);
          return FALSE;
        }
      if (method != 0 || csize != usize)
        {
          FORMAT_ERROR (file, NULL, "zip entry “%s” is compressed (method %u); torch.save stores "
                        "its entries uncompressed", entry_name, method);
          return FALSE;
        }
      /* The local header repeats the name; its extra field (torch pads data to
       * 64 bytes there) may differ from the central one. Sizes are taken from
       * the central directory: torch.save writes them after the data. */
      if (lho > cd_off || cd_off - lho < 30 || rd32 (data + lho) != ZIP_LOCAL_SIG)
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: local header of “%s” is missing",
                        entry_name);
          return FALSE;
        }
      const guint8 *l = data + lho;
      guint64 data_off = lho + 30 + rd16 (l + 26) + rd16 (l + 28);
      if (rd16 (l + 26) != nl || memcmp (l + 30, name, nl) != 0 || rd16 (l + 8) != 0
          || data_off > cd_off || usize > cd_off - data_off)
        {
          FORMAT_ERROR (file, NULL, "broken zip archive: entry “%s” does not fit in the file "
                        "(%" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT ")",
                        entry_name, usize, data_off);
          return FALSE;
        }
      if (g_hash_table_contains (zip->entries, entry_name))
        {
          FORMAT_ERROR (file, NULL, "zip entry “%s” appears twice", entry_name);
          return FALSE;
        }
      ZipEntry *ze = g_new0 (ZipEntry, 1);
      ze->data = data + data_off;
      ze->size = usize;
      ze->crc = crc;
      g_ptr_array_add (zip->names, entry_name);
      g_hash_table_insert (zip->entries, g_steal_pointer (&entry_name), ze);
      at += 46 + nl + xl + cl;
    }
  return TRUE;
}

/* An entry by name, its CRC checked; NULL (no error) when absent. */
static const ZipEntry *
zip_get (Zip *zip, const char *name, const char *file, GError **error)
{
  ZipEntry *ze = g_hash_table_lookup (zip->entries, name);
  if (ze == NULL || ze->crc_ok)
    return ze;
  guint32 crc = crc32_of (ze->data, ze->size);
  if (crc != ze->crc)
    {
      FORMAT_ERROR (file, NULL, "zip entry “%s” is corrupted (CRC-32 %08x, expected %08x)", name,
                    crc, ze->crc);
      return NULL;
    }
  ze->crc_ok = TRUE;
  return ze;
}

/* ---------------------------------------------------------------------------
 * The storage types torch pickles (torch.FloatStorage, …): the two GradLens
 * reads, and the others by name so that an error can say which dtype it met. */

typedef struct
{
  const char *name;     /* torch.<name> */
  const char *dtype;    /* torch.<dtype> */
  int elsize;
  int state_dtype;      /* StateDtype, or -1: refused */
} StorageType;

static const StorageType storage_types[] = {
  { "FloatStorage", "float32", 4, STATE_DTYPE_F32 },
  { "LongStorage", "int64", 8, STATE_DTYPE_I64 },
  { "DoubleStorage", "float64", 8, -1 },
  { "HalfStorage", "float16", 2, -1 },
  { "BFloat16Storage", "bfloat16", 2, -1 },
  { "IntStorage", "int32", 4, -1 },
  { "ShortStorage", "int16", 2, -1 },
  { "CharStorage", "int8", 1, -1 },
  { "ByteStorage", "uint8", 1, -1 },
  { "BoolStorage", "bool", 1, -1 },
  { "ComplexFloatStorage", "complex64", 8, -1 },
  { "ComplexDoubleStorage", "complex128", 16, -1 },
};

/* ---------------------------------------------------------------------------
 * Pickle values. */

typedef enum
{
  PV_NONE,
  PV_BOOL,
  PV_INT,
  PV_STR,
  PV_TUPLE,
  PV_LIST,
  PV_DICT,              /* items: key, value, key, value… (OrderedDict too) */
  PV_GLOBAL,
  PV_STORAGE,
  PV_TENSOR,
} PvKind;

typedef enum
{
  GLOBAL_ORDERED_DICT,
  GLOBAL_REBUILD_TENSOR_V2,
  GLOBAL_REBUILD_PARAMETER,
  GLOBAL_STORAGE_TYPE,
} GlobalKind;

typedef struct _Pv Pv;
struct _Pv
{
  PvKind kind;
  gint64 i;                     /* BOOL, INT; GLOBAL: its GlobalKind */
  char *s;                      /* STR; STORAGE: its key */
  GPtrArray *items;             /* TUPLE, LIST, DICT (borrowed Pv *) */
  const StorageType *type;      /* GLOBAL_STORAGE_TYPE, STORAGE */
  gint64 numel;                 /* STORAGE: elements */
  const guint8 *bytes;          /* STORAGE: (numel * elsize), once located */
  Pv *storage;                  /* TENSOR: _rebuild_tensor_v2's arguments */
  gint64 offset;
  Pv *size, *stride;            /* TENSOR: tuples of INT */
};

static const char *
pv_describe (const Pv *v)
{
  static const char *const names[] = {
    [PV_NONE] = "None", [PV_BOOL] = "a bool", [PV_INT] = "an int", [PV_STR] = "a string",
    [PV_TUPLE] = "a tuple", [PV_LIST] = "a list", [PV_DICT] = "a dict", [PV_GLOBAL] = "a class",
    [PV_STORAGE] = "a storage", [PV_TENSOR] = "a tensor",
  };
  return names[v->kind];
}

static void
pv_free (gpointer p)
{
  Pv *v = p;
  g_free (v->s);
  if (v->items)
    g_ptr_array_unref (v->items);
  g_free (v);
}

/* ---------------------------------------------------------------------------
 * The pickle machine. */

typedef struct
{
  const char *file;             /* for errors */
  const char *what;             /* "data.pkl", … */
  const guint8 *start, *p, *end;
  GPtrArray *arena;             /* owns every Pv */
  GPtrArray *stack;             /* Pv * */
  GArray *marks;                /* guint: stack lengths at each MARK */
  GHashTable *memo;             /* index → Pv * */
  GHashTable *storages;         /* key → STORAGE Pv *: one per key */
  gboolean legacy;              /* persistent ids have a 6th field (view metadata) */
  GError **error;
} Unpickler;

static void
unpickler_init (Unpickler *u, const char *file, gboolean legacy, GError **error)
{
  memset (u, 0, sizeof *u);
  u->file = file;
  u->legacy = legacy;
  u->error = error;
  u->arena = g_ptr_array_new_with_free_func (pv_free);
  u->stack = g_ptr_array_new ();
  u->marks = g_array_new (FALSE, FALSE, sizeof (guint));
  u->memo = g_hash_table_new (NULL, NULL);
  u->storages = g_hash_table_new (g_str_hash, g_str_equal);
}

static void
unpickler_clear (Unpickler *u)
{
  g_clear_pointer (&u->storages, g_hash_table_unref);
  g_clear_pointer (&u->memo, g_hash_table_unref);
  g_clear_pointer (&u->marks, g_array_unref);
  g_clear_pointer (&u->stack, g_ptr_array_unref);
  g_clear_pointer (&u->arena, g_ptr_array_unref);
}

static void G_GNUC_PRINTF (2, 3)
pickle_fail (Unpickler *u, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  pth_error (u->error, STATE_DICT_ERROR_FORMAT, u->file, NULL, "%s", reason);
}

static void
pickle_malformed (Unpickler *u, const char *why)
{
  pickle_fail (u, "broken pickle in %s at byte %td: %s", u->what, u->p - u->start, why);
}

static Pv *
pv_new (Unpickler *u, PvKind kind)
{
  Pv *v = g_new0 (Pv, 1);
  v->kind = kind;
  if (kind == PV_TUPLE || kind == PV_LIST || kind == PV_DICT)
    v->items = g_ptr_array_new ();
  g_ptr_array_add (u->arena, v);
  return v;
}

static void
push (Unpickler *u, Pv *v)
{
  g_ptr_array_add (u->stack, v);
}

static guint
frame_base (Unpickler *u)
{
  return u->marks->len ? g_array_index (u->marks, guint, u->marks->len - 1) : 0;
}

static Pv *
pop (Unpickler *u)
{
  if (u->stack->len <= frame_base (u))
    {
      pickle_malformed (u, "stack underflow");
      return NULL;
    }
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

static Pv *
top (Unpickler *u)
{
  if (u->stack->len <= frame_base (u))
    {
      pickle_malformed (u, "stack underflow");
      return NULL;
    }
  return u->stack->pdata[u->stack->len - 1];
}

/* Everything above the last MARK, as a new array (borrowed values); the mark goes. */
static GPtrArray *
pop_mark (Unpickler *u)
{
  if (u->marks->len == 0)
    {
      pickle_malformed (u, "no MARK");
      return NULL;
    }
  guint base = frame_base (u);
  g_array_set_size (u->marks, u->marks->len - 1);
  GPtrArray *items = g_ptr_array_sized_new (u->stack->len - base);
  for (guint i = base; i < u->stack->len; i++)
    g_ptr_array_add (items, u->stack->pdata[i]);
  g_ptr_array_set_size (u->stack, base);
  return items;
}

/* n bytes of operand, or NULL (error set) when the pickle ends first. */
static const guint8 *
take (Unpickler *u, guint64 n)
{
  if ((guint64) (u->end - u->p) < n)
    {
      pickle_malformed (u, "truncated");
      return NULL;
    }
  const guint8 *p = u->p;
  u->p += n;
  return p;
}

static Pv *
new_str (Unpickler *u, const guint8 *s, guint64 n)
{
  if (memchr (s, 0, n) != NULL || !g_utf8_validate ((const char *) s, n, NULL))
    {
      pickle_malformed (u, "a string that is not valid UTF-8");
      return NULL;
    }
  Pv *v = pv_new (u, PV_STR);
  v->s = g_strndup ((const char *) s, n);
  return v;
}

/* GLOBAL module name: only what a state_dict pickles resolves; the rest is refused. */
static Pv *
find_global (Unpickler *u, const char *module, const char *name)
{
  GlobalKind kind = GLOBAL_STORAGE_TYPE;
  const StorageType *type = NULL;

  if (g_str_equal (module, "collections") && g_str_equal (name, "OrderedDict"))
    kind = GLOBAL_ORDERED_DICT;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_tensor_v2"))
    kind = GLOBAL_REBUILD_TENSOR_V2;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_parameter"))
    kind = GLOBAL_REBUILD_PARAMETER;
  else if (g_str_equal (module, "torch"))
    for (guint i = 0; i < G_N_ELEMENTS (storage_types); i++)
      if (g_str_equal (name, storage_types[i].name))
        type = &storage_types[i];

  if (kind == GLOBAL_STORAGE_TYPE && type == NULL)
    {
      pickle_fail (u, "not a PyTorch state_dict: found a pickled “%s.%s” (GradLens reads "
                   "tensors in a dict and never runs pickled code; save model.state_dict ())",
                   module, name);
      return NULL;
    }
  Pv *v = pv_new (u, PV_GLOBAL);
  v->i = kind;
  v->type = type;
  return v;
}

/* A line of a GLOBAL operand: printable ASCII up to '\n'. */
static char *
read_line (Unpickler *u)
{
  const guint8 *nl = memchr (u->p, '\n', MIN ((gsize) (u->end - u->p), 256));
  if (nl == NULL)
    {
      pickle_malformed (u, "GLOBAL without its end of line");
      return NULL;
    }
  for (const guint8 *q = u->p; q < nl; q++)
    if (*q < 0x20 || *q > 0x7e)
      {
        pickle_malformed (u, "GLOBAL with a non-ASCII name");
        return NULL;
      }
  char *s = g_strndup ((const char *) u->p, nl - u->p);
  u->p = nl + 1;
  return s;
}

static gboolean
is_int (const Pv *v)
{
  return v->kind == PV_INT;
}

static gboolean
is_int_tuple (const Pv *v)
{
  if (v->kind != PV_TUPLE)
    return FALSE;
  for (guint i = 0; i < v->items->len; i++)
    if (!is_int (v->items->pdata[i]))
      return FALSE;
  return TRUE;
}

#define ARG(k) ((Pv *) args->items->pdata[k])

/* REDUCE: callable (*args). Only three callables exist here, and each just
 * builds a value from its arguments. */
static Pv *
reduce (Unpickler *u, Pv *callable, Pv *args)
{
  if (callable->kind != PV_GLOBAL || args->kind != PV_TUPLE)
    {
      pickle_malformed (u, "REDUCE of something that is not a class");
      return NULL;
    }
  guint n = args->items->len;
  switch ((GlobalKind) callable->i)
    {
    case GLOBAL_ORDERED_DICT:
      if (n == 0)
        return pv_new (u, PV_DICT);
      break;

    case GLOBAL_REBUILD_TENSOR_V2:
      /* (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
      if ((n == 6 || n == 7) && ARG (0)->kind == PV_STORAGE && is_int (ARG (1))
          && is_int_tuple (ARG (2)) && is_int_tuple (ARG (3)) && ARG (4)->kind == PV_BOOL
          && ARG (5)->kind == PV_DICT && (n == 6 || ARG (6)->kind == PV_DICT || ARG (6)->kind == PV_NONE))
        {
          Pv *t = pv_new (u, PV_TENSOR);
          t->storage = ARG (0);
          t->offset = ARG (1)->i;
          t->size = ARG (2);
          t->stride = ARG (3);
          return t;
        }
      break;

    case GLOBAL_REBUILD_PARAMETER:
      /* (data, requires_grad, backward_hooks): a Parameter is its data here. */
      if (n == 3 && ARG (0)->kind == PV_TENSOR && ARG (1)->kind == PV_BOOL
          && ARG (2)->kind == PV_DICT)
        return ARG (0);
      break;

    case GLOBAL_STORAGE_TYPE:
      break;
    }
  pickle_fail (u, "not a PyTorch state_dict: a call in %s has unexpected arguments", u->what);
  return NULL;
}

/* BINPERSID: ('storage', storage_type, key, location, numel[, view_metadata]). */
static Pv *
persistent_load (Unpickler *u, Pv *pid)
{
  guint n = pid->kind == PV_TUPLE ? pid->items->len : 0;
  Pv **f = n ? (Pv **) pid->items->pdata : NULL;
  if (n != (u->legacy ? 6u : 5u) || f[0]->kind != PV_STR || !g_str_equal (f[0]->s, "storage")
      || f[1]->kind != PV_GLOBAL || f[1]->i != GLOBAL_STORAGE_TYPE || f[2]->kind != PV_STR
      || f[3]->kind != PV_STR || !is_int (f[4]) || f[4]->i < 0
      || (u->legacy && f[5]->kind != PV_NONE))
    {
      pickle_fail (u, "not a PyTorch state_dict: unexpected persistent id in %s", u->what);
      return NULL;
    }
  Pv *s = g_hash_table_lookup (u->storages, f[2]->s);
  if (s != NULL)
    {
      if (s->type != f[1]->type || s->numel != f[4]->i)
        {
          pickle_fail (u, "storage “%s” is described twice, differently", f[2]->s);
          return NULL;
        }
      return s;
    }
  s = pv_new (u, PV_STORAGE);
  s->s = g_strdup (f[2]->s);
  s->type = f[1]->type;
  s->numel = f[4]->i;
  g_hash_table_insert (u->storages, s->s, s);
  return s;
}

static gboolean
memo_put (Unpickler *u, guint64 index)
{
  Pv *v = top (u);
  if (v == NULL)
    return FALSE;
  g_hash_table_insert (u->memo, GSIZE_TO_POINTER ((gsize) index), v);
  return TRUE;
}

static gboolean
memo_get (Unpickler *u, guint64 index)
{
  Pv *v = g_hash_table_lookup (u->memo, GSIZE_TO_POINTER ((gsize) index));
  if (v == NULL)
    {
      pickle_malformed (u, "memo lookup of an index never stored");
      return FALSE;
    }
  push (u, v);
  return TRUE;
}

/* Runs one pickle from u->p to its STOP; returns the value, u->p after STOP. */
static Pv *
unpickle (Unpickler *u, const guint8 *data, gsize size, const char *what)
{
  const guint8 *q;
  Pv *v, *k, *w;
  GPtrArray *items;

  u->what = what;
  u->start = u->p = data;
  u->end = data + size;
  g_ptr_array_set_size (u->stack, 0);
  g_array_set_size (u->marks, 0);
  g_hash_table_remove_all (u->memo);

#define NEED(n) G_STMT_START { if ((q = take (u, (n))) == NULL) return NULL; } G_STMT_END
#define POP(x) G_STMT_START { if (((x) = pop (u)) == NULL) return NULL; } G_STMT_END

  for (;;)
    {
      if (u->p >= u->end)
        {
          pickle_malformed (u, "truncated (no STOP)");
          return NULL;
        }
      guint8 op = *u->p++;
      switch (op)
        {
        case 0x80:              /* PROTO */
          NEED (1);
          if (q[0] < 2 || q[0] > 5)
            {
              pickle_malformed (u, "unsupported pickle protocol");
              return NULL;
            }
          break;
        case 0x95:              /* FRAME: a length hint, nothing to do */
          NEED (8);
          if (rd64 (q) > (guint64) (u->end - u->p))
            {
              pickle_malformed (u, "FRAME longer than the pickle");
              return NULL;
            }
          break;
        case '(':               /* MARK */
          g_array_append_val (u->marks, u->stack->len);
          break;
        case '.':               /* STOP */
          if (u->stack->len != 1 || u->marks->len != 0)
            {
              pickle_malformed (u, "STOP with a stack that is not one value");
              return NULL;
            }
          return u->stack->pdata[0];
        case 'N':
          push (u, pv_new (u, PV_NONE));
          break;
        case 0x88:              /* NEWTRUE */
        case 0x89:              /* NEWFALSE */
          v = pv_new (u, PV_BOOL);
          v->i = op == 0x88;
          push (u, v);
          break;
        case 'J':               /* BININT: int32 */
          NEED (4);
          v = pv_new (u, PV_INT);
          v->i = (gint32) rd32 (q);
          push (u, v);
          break;
        case 'K':               /* BININT1 */
          NEED (1);
          v = pv_new (u, PV_INT);
          v->i = q[0];
          push (u, v);
          break;
        case 'M':               /* BININT2 */
          NEED (2);
          v = pv_new (u, PV_INT);
          v->i = rd16 (q);
          push (u, v);
          break;
        case 0x8a:              /* LONG1: n bytes, two's complement, little-endian */
          {
            NEED (1);
            guint n = q[0];
            if (n > 8)
              {
                pickle_malformed (u, "an integer beyond 64 bits");
                return NULL;
              }
            NEED (n);
            guint64 x = 0;
            for (guint b = 0; b < n; b++)
              x |= (guint64) q[b] << (8 * b);
            if (n > 0 && n < 8 && (q[n - 1] & 0x80))
              x |= ~(guint64) 0 << (8 * n);
            v = pv_new (u, PV_INT);
            v->i = (gint64) x;
            push (u, v);
          }
          break;
        case 'X':               /* BINUNICODE */
        case 0x8c:              /* SHORT_BINUNICODE */
        case 0x8d:              /* BINUNICODE8 */
          {
            guint64 n;
            if (op == 'X')
              {
                NEED (4);
                n = rd32 (q);
              }
            else if (op == 0x8c)
              {
                NEED (1);
                n = q[0];
              }
            else
              {
                NEED (8);
                n = rd64 (q);
              }
            NEED (n);
            if ((v = new_str (u, q, n)) == NULL)
              return NULL;
            push (u, v);
          }
          break;
        case ')':               /* EMPTY_TUPLE */
          push (u, pv_new (u, PV_TUPLE));
          break;
        case 't':               /* TUPLE */
          if ((items = pop_mark (u)) == NULL)
            return NULL;
          v = pv_new (u, PV_TUPLE);
          g_ptr_array_unref (v->items);
          v->items = items;
          push (u, v);
          break;
        case 0x85:              /* TUPLE1 */
        case 0x86:              /* TUPLE2 */
        case 0x87:              /* TUPLE3 */
          {
            guint n = op - 0x84;
            if (u->stack->len < frame_base (u) + n)
              {
                pickle_malformed (u, "stack underflow");
                return NULL;
              }
            v = pv_new (u, PV_TUPLE);
            for (guint i = u->stack->len - n; i < u->stack->len; i++)
              g_ptr_array_add (v->items, u->stack->pdata[i]);
            g_ptr_array_set_size (u->stack, u->stack->len - n);
            push (u, v);
          }
          break;
        case ']':               /* EMPTY_LIST */
          push (u, pv_new (u, PV_LIST));
          break;
        case '}':               /* EMPTY_DICT */
          push (u, pv_new (u, PV_DICT));
          break;
        case 'a':               /* APPEND */
          POP (w);
          if ((v = top (u)) == NULL)
            return NULL;
          if (v->kind != PV_LIST)
            {
              pickle_malformed (u, "APPEND to something that is not a list");
              return NULL;
            }
          g_ptr_array_add (v->items, w);
          break;
        case 'e':               /* APPENDS */
        case 'u':               /* SETITEMS */
          {
            if ((items = pop_mark (u)) == NULL)
              return NULL;
            g_autoptr (GPtrArray) owned = items;
            if ((v = top (u)) == NULL)
              return NULL;
            if (v->kind != (op == 'e' ? PV_LIST : PV_DICT) || (op == 'u' && items->len % 2))
              {
                pickle_malformed (u, op == 'e' ? "APPENDS to something that is not a list"
                                               : "SETITEMS on something that is not a dict");
                return NULL;
              }
            for (guint i = 0; i < items->len; i++)
              g_ptr_array_add (v->items, items->pdata[i]);
          }
          break;
        case 's':               /* SETITEM: duplicate keys are resolved by the reader */
          POP (w);
          POP (k);
          if ((v = top (u)) == NULL)
            return NULL;
          if (v->kind != PV_DICT)
            {
              pickle_malformed (u, "SETITEM on something that is not a dict");
              return NULL;
            }
          g_ptr_array_add (v->items, k);
          g_ptr_array_add (v->items, w);
          break;
        case 'c':               /* GLOBAL "module\nname\n" */
          {
            g_autofree char *module = read_line (u);
            if (module == NULL)
              return NULL;
            g_autofree char *name = read_line (u);
            if (name == NULL || (v = find_global (u, module, name)) == NULL)
              return NULL;
            push (u, v);
          }
          break;
        case 0x93:              /* STACK_GLOBAL */
          POP (w);
          POP (k);
          if (k->kind != PV_STR || w->kind != PV_STR)
            {
              pickle_malformed (u, "STACK_GLOBAL of something that is not a name");
              return NULL;
            }
          if ((v = find_global (u, k->s, w->s)) == NULL)
            return NULL;
          push (u, v);
          break;
        case 'R':               /* REDUCE */
          POP (w);
          POP (k);
          if ((v = reduce (u, k, w)) == NULL)
            return NULL;
          push (u, v);
          break;
        case 'b':               /* BUILD: only OrderedDict's _metadata, which is ignored */
          POP (w);
          if ((v = top (u)) == NULL)
            return NULL;
          if (v->kind != PV_DICT || w->kind != PV_DICT)
            {
              pickle_fail (u, "not a PyTorch state_dict: %s sets the state of %s", u->what,
                           pv_describe (v));
              return NULL;
            }
          break;
        case 'Q':               /* BINPERSID */
          POP (w);
          if ((v = persistent_load (u, w)) == NULL)
            return NULL;
          push (u, v);
          break;
        case 'q':               /* BINPUT */
          NEED (1);
          if (!memo_put (u, q[0]))
            return NULL;
          break;
        case 'r':               /* LONG_BINPUT */
          NEED (4);
          if (!memo_put (u, rd32 (q)))
            return NULL;
          break;
        case 0x94:              /* MEMOIZE */
          if (!memo_put (u, g_hash_table_size (u->memo)))
            return NULL;
          break;
        case 'h':               /* BINGET */
          NEED (1);
          if (!memo_get (u, q[0]))
            return NULL;
          break;
        case 'j':               /* LONG_BINGET */
          NEED (4);
          if (!memo_get (u, rd32 (q)))
            return NULL;
          break;
        default:
          {
            char shown[16] = "";
            if (g_ascii_isgraph (op))
              g_snprintf (shown, sizeof shown, " ‘%c’", op);
            pickle_fail (u, "not a PyTorch state_dict: pickle opcode 0x%02x%s at byte %td of %s "
                         "is not one a state_dict uses", op, shown, u->p - 1 - u->start, u->what);
            return NULL;
          }
        }
    }
#undef NEED
#undef POP
}

/* ---------------------------------------------------------------------------
 * From pickled tensors to a StateDict. */

typedef struct
{
  const char *file;
  gboolean big_endian;
  Zip *zip;                     /* the zip format: storages are entries */
  char *prefix;                 /* "resnet18" of "resnet18/data.pkl" */
  guint64 out_bytes;            /* tensor bytes made so far */
  guint64 budget;               /* at most this many */
} Loader;

/* A storage's bytes: (numel * elsize), exactly what the file holds for it. */
static gboolean
storage_locate (Loader *ld, Pv *st, const char *tensor, GError **error)
{
  if (st->bytes != NULL)
    return TRUE;
  guint64 nbytes = (guint64) st->numel * st->type->elsize;
  if (st->numel > G_MAXINT64 / 16)
    nbytes = G_MAXUINT64;
  if (ld->zip == NULL)
    {
      FORMAT_ERROR (ld->file, tensor, "its storage “%s” is missing from the file", st->s);
      return FALSE;
    }
  g_autofree char *entry = g_strdup_printf ("%s/data/%s", ld->prefix, st->s);
  const ZipEntry *ze = zip_get (ld->zip, entry, ld->file, error);
  if (ze == NULL)
    {
      if (error == NULL || *error == NULL)
        FORMAT_ERROR (ld->file, tensor, "its storage “%s” is missing from the archive", entry);
      return FALSE;
    }
  if (ze->size != nbytes)
    {
      FORMAT_ERROR (ld->file, tensor, "its storage “%s” holds %" G_GUINT64_FORMAT " bytes, but "
                    "%" G_GINT64_FORMAT " %s elements need %" G_GUINT64_FORMAT,
                    entry, ze->size, st->numel, st->type->dtype, nbytes);
      return FALSE;
    }
  st->bytes = ze->data;
  return TRUE;
}

/* dst[n] = storage[offset + Σ idx_j·stride_j] over idx in row-major order. */
static void
copy_view (guint8 *dst, const guint8 *src, int elsize, int ndim, const gint64 *size,
           const gint64 *stride, gint64 offset, gint64 numel, gboolean swap)
{
  gboolean contiguous = TRUE;
  gint64 expect = 1;
  for (int d = ndim - 1; d >= 0; d--)
    {
      if (size[d] != 1 && stride[d] != expect)
        contiguous = FALSE;
      expect *= size[d];
    }

  if (contiguous)
    memcpy (dst, src + offset * elsize, numel * elsize);
  else
    {
      gint64 idx[TENSOR_MAX_DIMS] = { 0 };
      for (gint64 n = 0; n < numel; n++)
        {
          gint64 at = offset;
          for (int d = 0; d < ndim; d++)
            at += idx[d] * stride[d];
          memcpy (dst + n * elsize, src + at * elsize, elsize);
          for (int d = ndim - 1; d >= 0 && ++idx[d] == size[d]; d--)
            idx[d] = 0;
        }
    }

  if (swap)
    for (gint64 n = 0; n < numel; n++)
      for (int b = 0; b < elsize / 2; b++)
        {
          guint8 t = dst[n * elsize + b];
          dst[n * elsize + b] = dst[n * elsize + elsize - 1 - b];
          dst[n * elsize + elsize - 1 - b] = t;
        }
}

static gboolean
add_tensor (Loader *ld, StateDict *sd, const char *name, const Pv *t, GError **error)
{
  const Pv *st = t->storage;
  const char *file = ld->file;

  if (st->type->state_dtype < 0)
    {
      pth_error (error, STATE_DICT_ERROR_DTYPE, file, name,
                 "dtype torch.%s; GradLens reads float32 and int64 tensors (convert with "
                 ".float () before saving)", st->type->dtype);
      return FALSE;
    }

  int ndim = t->size->items->len;
  if (t->stride->items->len != (guint) ndim)
    {
      FORMAT_ERROR (file, name, "%d sizes but %u strides", ndim, t->stride->items->len);
      return FALSE;
    }
  if (ndim > TENSOR_MAX_DIMS)
    {
      pth_error (error, STATE_DICT_ERROR_SHAPE, file, name,
                 "%d dimensions; GradLens's tensors have at most %d", ndim, TENSOR_MAX_DIMS);
      return FALSE;
    }

  gint64 size[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
  gint64 numel = 1, reach = t->offset;  /* reach: the last element's index */
  gboolean overflow = t->offset < 0;
  for (int d = 0; d < ndim; d++)
    {
      size[d] = ((Pv *) t->size->items->pdata[d])->i;
      stride[d] = ((Pv *) t->stride->items->pdata[d])->i;
      if (size[d] < 0 || stride[d] < 0)
        {
          FORMAT_ERROR (file, name, "a negative size or stride");
          return FALSE;
        }
      gint64 span;
      overflow |= __builtin_mul_overflow (numel, size[d], &numel);
      overflow |= __builtin_mul_overflow (size[d] ? size[d] - 1 : 0, stride[d], &span);
      overflow |= __builtin_add_overflow (reach, span, &reach);
    }
  if (!overflow && numel == 0)
    reach = t->offset - 1;      /* nothing read: the offset may sit at the end */
  if (!overflow && numel > st->numel)
    {
      /* expand () makes these (stride 0); a state_dict never holds one. */
      FORMAT_ERROR (file, name, "a view of %" G_GINT64_FORMAT " elements on a storage of %"
                    G_GINT64_FORMAT " (an expanded tensor? save it .contiguous ())", numel,
                    st->numel);
      return FALSE;
    }
  if (overflow || reach >= st->numel)
    {
      g_autofree char *shape = shape_to_string (ndim, size);
      g_autofree char *strides = shape_to_string (ndim, stride);
      FORMAT_ERROR (file, name, "its view (offset %" G_GINT64_FORMAT ", size %s, stride %s) "
                    "reaches past its storage “%s” of %" G_GINT64_FORMAT " elements",
                    t->offset, shape, strides, st->s, st->numel);
      return FALSE;
    }

  if (!storage_locate (ld, (Pv *) st, name, error))
    return FALSE;
  int elsize = st->type->elsize;
  ld->out_bytes += (guint64) numel * elsize;
  if (ld->out_bytes > ld->budget)
    {
      pth_error (error, STATE_DICT_ERROR_TOO_LARGE, file, name,
                 "the tensors add up to more than %" G_GUINT64_FORMAT " bytes, which a file "
                 "of this size cannot hold", ld->budget);
      return FALSE;
    }

  if (st->type->state_dtype == STATE_DTYPE_F32)
    {
      g_autoptr (Tensor) x = tensor_new_empty (ndim, size);
      if (numel > 0)
        copy_view ((guint8 *) x->data, st->bytes, elsize, ndim, size, stride, t->offset, numel,
                 ld->big_endian);
      tensor_set_name (x, name);
      state_dict_add_f32 (sd, name, x);
    }
  else
    {
      g_autofree gint64 *values = g_new0 (gint64, MAX (numel, 1));
      if (numel > 0)
        copy_view ((guint8 *) values, st->bytes, elsize, ndim, size, stride, t->offset, numel,
                 ld->big_endian);
      state_dict_add_i64 (sd, name, ndim, size, values);
    }
  return TRUE;
}

/* The pickled object must be a dict (or OrderedDict) of name → tensor. */
static StateDict *
state_dict_from_pickle (Loader *ld, const Pv *root, GError **error)
{
  if (root->kind != PV_DICT)
    {
      FORMAT_ERROR (ld->file, NULL, "not a PyTorch state_dict: the file holds %s, not a dict "
                    "of tensors", pv_describe (root));
      return NULL;
    }

  g_autoptr (StateDict) sd = state_dict_new ();
  for (guint i = 0; i + 1 < root->items->len; i += 2)
    {
      const Pv *k = root->items->pdata[i], *v = root->items->pdata[i + 1];
      if (k->kind != PV_STR)
        {
          FORMAT_ERROR (ld->file, NULL, "not a PyTorch state_dict: a key is %s, not a name",
                        pv_describe (k));
          return NULL;
        }
      if (v->kind != PV_TENSOR)
        {
          FORMAT_ERROR (ld->file, NULL, "not a PyTorch state_dict: “%s” is %s, not a tensor%s",
                        k->s, pv_describe (v),
                        v->kind == PV_DICT ? " (a checkpoint that holds a state_dict? save "
                                             "model.state_dict () itself)" : "");
          return NULL;
        }
      if (!add_tensor (ld, sd, k->s, v, error))
        return NULL;
    }
  return g_steal_pointer (&sd);
}

/* A small text entry ("3\n", "little"), or NULL when absent. */
static char *
zip_text (Zip *zip, const char *prefix, const char *name, const char *file, GError **error)
{
  g_autofree char *entry = g_strdup_printf ("%s/%s", prefix, name);
  const ZipEntry *ze = zip_get (zip, entry, file, error);
  if (ze == NULL)
    return NULL;
  char *text = g_strndup ((const char *) ze->data, MIN (ze->size, 32));
  return g_strchomp (text);
}

static StateDict *
load_zip_entries (Loader *ld, Zip *zip, GError **error)
{
  /* "<archive>/data.pkl": exactly one, at the top folder. */
  const char *prefix_end = NULL, *pkl_name = NULL;
  for (guint i = 0; i < zip->names->len; i++)
    {
      const char *name = zip->names->pdata[i];
      const char *slash = strchr (name, '/');
      if (slash && slash > name && g_str_equal (slash + 1, "data.pkl"))
        {
          if (pkl_name)
            {
              FORMAT_ERROR (ld->file, NULL, "the archive holds two data.pkl");
              return NULL;
            }
          pkl_name = name;
          prefix_end = slash;
        }
    }
  if (pkl_name == NULL)
    {
      FORMAT_ERROR (ld->file, NULL, "a zip archive without data.pkl: not a file written by "
                    "torch.save");
      return NULL;
    }
  ld->prefix = g_strndup (pkl_name, prefix_end - pkl_name);

  const ZipEntry *pkl = zip_get (zip, pkl_name, ld->file, error);
  if (pkl == NULL)
    return NULL;

  g_autofree char *version = zip_text (zip, ld->prefix, "version", ld->file, error);
  if (*error)
    return NULL;
  if (version && !g_ascii_string_to_unsigned (version, 10, 1, 10, NULL, NULL))
    {
      FORMAT_ERROR (ld->file, NULL, "unknown serialization format version “%s”", version);
      return NULL;
    }

  g_autofree char *order = zip_text (zip, ld->prefix, "byteorder", ld->file, error);
  if (*error)
    return NULL;
  if (order && g_str_equal (order, "big"))
    ld->big_endian = TRUE;
  else if (order && !g_str_equal (order, "little"))
    {
      FORMAT_ERROR (ld->file, NULL, "unknown byte order “%s”", order);
      return NULL;
    }

  Unpickler u;
  StateDict *sd = NULL;
  unpickler_init (&u, ld->file, FALSE, error);
  const Pv *root = unpickle (&u, pkl->data, pkl->size, "data.pkl");
  if (root)
    sd = state_dict_from_pickle (ld, root, error);
  unpickler_clear (&u);
  return sd;
}

/* The zip format (torch ≥ 1.6). */
static StateDict *
load_zip (Loader *ld, const guint8 *data, gsize size, GError **error)
{
  Zip zip = { 0 };
  StateDict *sd = NULL;

  if (zip_open (&zip, data, size, ld->file, error))
    {
      ld->zip = &zip;
      sd = load_zip_entries (ld, &zip, error);
      ld->zip = NULL;
    }
  zip_clear (&zip);
  g_clear_pointer (&ld->prefix, g_free);
  return sd;
}

/* The legacy format (torch < 1.6, or _use_new_zipfile_serialization=False):
 * pickles of the magic number, the protocol version (1001) and sys_info, then the
 * state_dict, then the list of storage keys, then each storage as an int64
 * element count followed by its elements. */
static const guint8 legacy_magic[] = {
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
};

static StateDict *
load_legacy (Loader *ld, const guint8 *data, gsize size, GError **error)
{
  Unpickler u;
  StateDict *sd = NULL;
  const guint8 *p = data + sizeof legacy_magic, *end = data + size;
  const Pv *v, *root, *keys;

  unpickler_init (&u, ld->file, TRUE, error);

  /* Each pickle runs to its STOP; the next starts right after it. */
#define NEXT_PICKLE(var, what) \
  G_STMT_START { \
    if (((var) = unpickle (&u, p, end - p, (what))) == NULL) \
      goto out; \
    p = u.p; \
  } G_STMT_END

  NEXT_PICKLE (v, "the protocol version");
  if (v->kind != PV_INT || v->i != 1001)
    {
      FORMAT_ERROR (ld->file, NULL, "unknown legacy protocol version");
      goto out;
    }
  NEXT_PICKLE (v, "sys_info");
  if (v->kind != PV_DICT)
    {
      FORMAT_ERROR (ld->file, NULL, "broken legacy file: sys_info is not a dict");
      goto out;
    }
  for (guint i = 0; i + 1 < v->items->len; i += 2)
    {
      const Pv *key = v->items->pdata[i], *val = v->items->pdata[i + 1];
      if (key->kind == PV_STR && g_str_equal (key->s, "little_endian") && val->kind == PV_BOOL)
        ld->big_endian = !val->i;
    }
  NEXT_PICKLE (root, "the state_dict pickle");
  NEXT_PICKLE (keys, "the storage keys");
#undef NEXT_PICKLE

  if (keys->kind != PV_LIST)
    {
      FORMAT_ERROR (ld->file, NULL, "broken legacy file: the storage keys are not a list");
      goto out;
    }
  for (guint i = 0; i < keys->items->len; i++)
    {
      const Pv *key = keys->items->pdata[i];
      Pv *st = key->kind == PV_STR ? g_hash_table_lookup (u.storages, key->s) : NULL;
      if (st == NULL || st->bytes != NULL)
        {
          FORMAT_ERROR (ld->file, NULL, "broken legacy file: storage key %u is unknown or repeated",
                        i);
          goto out;
        }
      if (end - p < 8)
        {
          FORMAT_ERROR (ld->file, NULL, "truncated: storage “%s” is missing", st->s);
          goto out;
        }
      guint64 count = rd64 (p);
      if (ld->big_endian)
        count = GUINT64_SWAP_LE_BE (count);
      p += 8;
      if (count != (guint64) st->numel || count > (guint64) (end - p) / st->type->elsize)
        {
          FORMAT_ERROR (ld->file, NULL, "truncated or broken: storage “%s” should hold %"
                        G_GINT64_FORMAT " elements", st->s, st->numel);
          goto out;
        }
      st->bytes = p;
      p += count * st->type->elsize;
    }
  if (p != end)
    {
      FORMAT_ERROR (ld->file, NULL, "%td unexpected bytes after the last storage", end - p);
      goto out;
    }
  sd = state_dict_from_pickle (ld, root, error);

out:
  unpickler_clear (&u);
  return sd;
}

StateDict *
pth_load_bytes (const guint8 *data, gsize size, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Internally error is never NULL: a failure must stop the load even when
   * the caller does not want to know why. */
  g_autoptr (GError) local = NULL;
  StateDict *sd = NULL;
  Loader ld = { .file = name };
  /* Views may share a storage (tied weights): allow the tensors to add up to a
   * few times the file, never more. */
  ld.budget = (guint64) size * 8 + (1 << 20);

  if (size >= 4 && memcmp (data, "PK", 2) == 0)
    sd = load_zip (&ld, data, size, &local);
  else if (size >= sizeof legacy_magic && memcmp (data, legacy_magic, sizeof legacy_magic) == 0)
    sd = load_legacy (&ld, data, size, &local);
  else if (size >= 2 && data[0] == 0x80)
    pth_error (&local, STATE_DICT_ERROR_FORMAT, name, NULL,
               "a bare pickle, not a file written by torch.save");
  else
    pth_error (&local, STATE_DICT_ERROR_FORMAT, name, NULL,
               "not a PyTorch file (neither a zip archive nor a legacy torch.save stream)");

  g_assert ((sd == NULL) == (local != NULL));
  if (local)
    g_propagate_error (error, g_steal_pointer (&local));
  return sd;
}

StateDict *
pth_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GError) local = NULL;
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      pth_error (error, STATE_DICT_ERROR_IO, path, NULL, "%s", local->message);
      return NULL;
    }
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map);
  gsize size = g_mapped_file_get_length (map);
  static const guint8 empty[1];
  return pth_load_bytes (data ? data : empty, size, path, error);
}

StateDict *
state_dict_load_any (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GError) local = NULL;
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      pth_error (error, STATE_DICT_ERROR_IO, path, NULL, "%s", local->message);
      return NULL;
    }
  static const guint8 empty[1];
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map);
  gsize size = g_mapped_file_get_length (map);
  if (data == NULL)
    data = empty;

  /* A .pth starts with "PK" (zip) or a pickle's PROTO; a .safetensors with its
   * header length, whose high bytes are zero. A file that is neither is judged
   * by its extension, for the clearer error. */
  gboolean is_pth = size >= 2 && (memcmp (data, "PK", 2) == 0 || data[0] == 0x80);
  if (!is_pth && !(size >= 9 && data[8] == '{'))
    is_pth = g_str_has_suffix (path, ".pth") || g_str_has_suffix (path, ".pt")
             || g_str_has_suffix (path, ".tar");
  if (is_pth)
    return pth_load_bytes (data, size, path, error);
  return safetensors_load_bytes (data, size, path, error);
}

/* ---------------------------------------------------------------------------
 * torchvision's weights in torch.hub's cache. */

static char *
expand_user (const char *path)
{
  if (g_str_equal (path, "~"))
    return g_strdup (g_get_home_dir ());
  if (g_str_has_prefix (path, "~/"))
    return g_build_filename (g_get_home_dir (), path + 2, NULL);
  return g_strdup (path);
}

char *
pth_torch_hub_checkpoints_dir (void)
{
  /* torch.hub: TORCH_HOME, else $XDG_CACHE_HOME/torch, else ~/.cache/torch;
   * expanduser on the result; then hub/checkpoints. */
  const char *torch_home = g_getenv ("TORCH_HOME");
  const char *cache = g_getenv ("XDG_CACHE_HOME");
  g_autofree char *home = NULL;

  if (torch_home && *torch_home)
    home = expand_user (torch_home);
  else if (cache && *cache)
    {
      g_autofree char *c = expand_user (cache);
      home = g_build_filename (c, "torch", NULL);
    }
  else
    home = g_build_filename (g_get_home_dir (), ".cache", "torch", NULL);
  return g_build_filename (home, "hub", "checkpoints", NULL);
}

char *
pth_find_torchvision_resnet18 (void)
{
  g_autofree char *dir = pth_torch_hub_checkpoints_dir ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *best = NULL;
  const char *name;

  if (d == NULL)
    return NULL;
  /* IMAGENET1K_V1 (resnet18-f37072fd.pth) first, then any other in name order. */
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_prefix (name, "resnet18-") || !g_str_has_suffix (name, ".pth"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      if (best == NULL || g_str_equal (name, "resnet18-f37072fd.pth")
          || (!g_str_has_suffix (best, G_DIR_SEPARATOR_S "resnet18-f37072fd.pth")
              && strcmp (path, best) < 0))
        {
          g_free (best);
          best = g_steal_pointer (&path);
        }
    }
  return g_steal_pointer (&best);
}

/* pth.c — reading PyTorch's .pth state_dicts: the two file formats, the tensors
 * their pickles describe, and torch.hub's cache. The zip archive is read by
 * pth-zip.c, the pickle by pth-pickle.c (see pth-private.h).
 *
 * A pickled tensor is _rebuild_tensor_v2 (storage, offset, size, stride, …): a view
 * of a storage, element (i0, …, ik) = storage[offset + Σ ij·stride_j]. Views are
 * checked to stay inside their storage and copied out row-major; big-endian files
 * are byte-swapped.
 *
 * A file may come from anywhere: nothing is trusted, nothing is recursed into,
 * and the tensors' total size is bounded by a multiple of the file's size (views
 * may share a storage), so a small file cannot ask for gigabytes.
 */
#include "pth-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

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
      FORMAT_ERROR (ld->file, tensor, _("its storage “%s” is missing from the file"), st->s);
      return FALSE;
    }
  g_autofree char *entry = g_strdup_printf ("%s/data/%s", ld->prefix, st->s);
  const ZipEntry *ze = pth_zip_get (ld->zip, entry, ld->file, error);
  if (ze == NULL)
    {
      if (error == NULL || *error == NULL)
        FORMAT_ERROR (ld->file, tensor, _("its storage “%s” is missing from the archive"), entry);
      return FALSE;
    }
  if (ze->size != nbytes)
    {
      FORMAT_ERROR (ld->file, tensor, _("its storage “%s” holds %llu bytes, but "
                                        "%lld %s elements need %llu"),
                    entry, (unsigned long long) ze->size, (long long) st->numel,
                    st->type->dtype, (unsigned long long) nbytes);
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
      state_dict_load_error (error, STATE_DICT_ERROR_DTYPE, file, name,
                             _("dtype torch.%s; GradLens reads float32 and int64 tensors "
                               "(convert with .float () before saving)"), st->type->dtype);
      return FALSE;
    }

  int ndim = t->size->items->len;
  if (t->stride->items->len != (guint) ndim)
    {
      FORMAT_ERROR (file, name, _("%d sizes but %u strides"), ndim, t->stride->items->len);
      return FALSE;
    }
  if (ndim > TENSOR_MAX_DIMS)
    {
      state_dict_load_error (error, STATE_DICT_ERROR_SHAPE, file, name,
                             _("%d dimensions; GradLens's tensors have at most %d"), ndim,
                             TENSOR_MAX_DIMS);
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
          FORMAT_ERROR (file, name, _("a negative size or stride"));
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
      FORMAT_ERROR (file, name, _("a view of %lld elements on a storage of %lld (an expanded "
                                  "tensor? save it .contiguous ())"),
                    (long long) numel, (long long) st->numel);
      return FALSE;
    }
  if (overflow || reach >= st->numel)
    {
      g_autofree char *shape = shape_to_string (ndim, size);
      g_autofree char *strides = shape_to_string (ndim, stride);
      FORMAT_ERROR (file, name, _("its view (offset %lld, size %s, stride %s) "
                                  "reaches past its storage “%s” of %lld elements"),
                    (long long) t->offset, shape, strides, st->s, (long long) st->numel);
      return FALSE;
    }

  if (!storage_locate (ld, (Pv *) st, name, error))
    return FALSE;
  int elsize = st->type->elsize;
  ld->out_bytes += (guint64) numel * elsize;
  if (ld->out_bytes > ld->budget)
    {
      state_dict_load_error (error, STATE_DICT_ERROR_TOO_LARGE, file, name,
                             _("the tensors add up to more than %llu bytes, "
                               "which a file of this size cannot hold"),
                             (unsigned long long) ld->budget);
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
      FORMAT_ERROR (ld->file, NULL, _("not a PyTorch state_dict: the file holds %s, not a dict "
                      "of tensors"), pth_pv_describe (root));
      return NULL;
    }

  g_autoptr (StateDict) sd = state_dict_new ();
  for (guint i = 0; i + 1 < root->items->len; i += 2)
    {
      const Pv *k = root->items->pdata[i], *v = root->items->pdata[i + 1];
      if (k->kind != PV_STR)
        {
          FORMAT_ERROR (ld->file, NULL, _("not a PyTorch state_dict: a key is %s, not a name"),
                        pth_pv_describe (k));
          return NULL;
        }
      if (v->kind != PV_TENSOR)
        {
          FORMAT_ERROR (ld->file, NULL, v->kind == PV_DICT
                      ? _("not a PyTorch state_dict: “%s” is %s, not a tensor (a checkpoint "
                          "that holds a state_dict? save model.state_dict () itself)")
                      : _("not a PyTorch state_dict: “%s” is %s, not a tensor"),
                      k->s, pth_pv_describe (v));
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
  const ZipEntry *ze = pth_zip_get (zip, entry, file, error);
  if (ze == NULL)
    return NULL;
  /* Escaped (\377, \n…): it may end up in an error message. */
  g_autofree char *text = g_strndup ((const char *) ze->data, MIN (ze->size, 32));
  return g_strescape (g_strchomp (text), NULL);
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
              FORMAT_ERROR (ld->file, NULL, _("the archive holds two data.pkl"));
              return NULL;
            }
          pkl_name = name;
          prefix_end = slash;
        }
    }
  if (pkl_name == NULL)
    {
      FORMAT_ERROR (ld->file, NULL, _("a zip archive without data.pkl: not a file written by "
                      "torch.save"));
      return NULL;
    }
  ld->prefix = g_strndup (pkl_name, prefix_end - pkl_name);

  const ZipEntry *pkl = pth_zip_get (zip, pkl_name, ld->file, error);
  if (pkl == NULL)
    return NULL;

  g_autofree char *version = zip_text (zip, ld->prefix, "version", ld->file, error);
  if (*error)
    return NULL;
  if (version && !g_ascii_string_to_unsigned (version, 10, 1, 10, NULL, NULL))
    {
      FORMAT_ERROR (ld->file, NULL, _("unknown serialization format version “%s”"), version);
      return NULL;
    }

  g_autofree char *order = zip_text (zip, ld->prefix, "byteorder", ld->file, error);
  if (*error)
    return NULL;
  if (order && g_str_equal (order, "big"))
    ld->big_endian = TRUE;
  else if (order && !g_str_equal (order, "little"))
    {
      FORMAT_ERROR (ld->file, NULL, _("unknown byte order “%s”"), order);
      return NULL;
    }

  Unpickler u;
  StateDict *sd = NULL;
  pth_unpickler_init (&u, ld->file, FALSE, error);
  const Pv *root = pth_unpickle (&u, pkl->data, pkl->size, "data.pkl");
  if (root)
    sd = state_dict_from_pickle (ld, root, error);
  pth_unpickler_clear (&u);
  return sd;
}

/* The zip format (torch ≥ 1.6). */
static StateDict *
load_zip (Loader *ld, const guint8 *data, gsize size, GError **error)
{
  Zip zip = { 0 };
  StateDict *sd = NULL;

  if (pth_zip_open (&zip, data, size, ld->file, error))
    {
      ld->zip = &zip;
      sd = load_zip_entries (ld, &zip, error);
      ld->zip = NULL;
    }
  pth_zip_clear (&zip);
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

  pth_unpickler_init (&u, ld->file, TRUE, error);

  /* Each pickle runs to its STOP; the next starts right after it. */
#define NEXT_PICKLE(var, what) \
  G_STMT_START { \
    if (((var) = pth_unpickle (&u, p, end - p, (what))) == NULL) \
      goto out; \
    p = u.p; \
  } G_STMT_END

  /* Translators: the parts of a legacy torch.save file, named in messages such as
   * “broken pickle in the storage keys at byte 12: truncated”. */
  NEXT_PICKLE (v, _("the protocol version"));
  if (v->kind != PV_INT || v->i != 1001)
    {
      FORMAT_ERROR (ld->file, NULL, _("unknown legacy protocol version"));
      goto out;
    }
  NEXT_PICKLE (v, "sys_info");          /* not translated: its name in the file */
  if (v->kind != PV_DICT)
    {
      FORMAT_ERROR (ld->file, NULL, _("broken legacy file: sys_info is not a dict"));
      goto out;
    }
  for (guint i = 0; i + 1 < v->items->len; i += 2)
    {
      const Pv *key = v->items->pdata[i], *val = v->items->pdata[i + 1];
      if (key->kind == PV_STR && g_str_equal (key->s, "little_endian") && val->kind == PV_BOOL)
        ld->big_endian = !val->i;
    }
  NEXT_PICKLE (root, _("the state_dict pickle"));
  NEXT_PICKLE (keys, _("the storage keys"));
#undef NEXT_PICKLE

  if (keys->kind != PV_LIST)
    {
      FORMAT_ERROR (ld->file, NULL, _("broken legacy file: the storage keys are not a list"));
      goto out;
    }
  for (guint i = 0; i < keys->items->len; i++)
    {
      const Pv *key = keys->items->pdata[i];
      Pv *st = key->kind == PV_STR ? g_hash_table_lookup (u.storages, key->s) : NULL;
      if (st == NULL || st->bytes != NULL)
        {
          FORMAT_ERROR (ld->file, NULL, _("broken legacy file: storage key %u is unknown or repeated"),
                        i);
          goto out;
        }
      if (end - p < 8)
        {
          FORMAT_ERROR (ld->file, NULL, _("truncated: storage “%s” is missing"), st->s);
          goto out;
        }
      guint64 count = rd64 (p);
      if (ld->big_endian)
        count = GUINT64_SWAP_LE_BE (count);
      p += 8;
      if (count != (guint64) st->numel || count > (guint64) (end - p) / st->type->elsize)
        {
          FORMAT_ERROR (ld->file, NULL, _("truncated or broken: storage “%s” should hold %lld "
                                          "elements"), st->s, (long long) st->numel);
          goto out;
        }
      st->bytes = p;
      p += count * st->type->elsize;
    }
  if (p != end)
    {
      FORMAT_ERROR (ld->file, NULL, _("%td unexpected bytes after the last storage"), end - p);
      goto out;
    }
  sd = state_dict_from_pickle (ld, root, error);

out:
  pth_unpickler_clear (&u);
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
    state_dict_load_error (&local, STATE_DICT_ERROR_FORMAT, name, NULL,
                           _("a bare pickle, not a file written by torch.save"));
  else
    state_dict_load_error (&local, STATE_DICT_ERROR_FORMAT, name, NULL,
                           _("not a PyTorch file (neither a zip archive nor a legacy torch.save "
                             "stream)"));

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

  const guint8 *data;
  gsize size;
  g_autoptr (GMappedFile) map = state_dict_map_file (path, path, &data, &size, error);
  if (map == NULL)
    return NULL;
  return pth_load_bytes (data, size, path, error);
}

StateDict *
state_dict_load_any (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const guint8 *data;
  gsize size;
  g_autoptr (GMappedFile) map = state_dict_map_file (path, path, &data, &size, error);
  if (map == NULL)
    return NULL;

  /* The format is what parses. A .safetensors starts with its header's length
   * (little-endian: its first byte is anything, 0x80 included) and a '{'; a .pth
   * with "PK" (zip) or a pickle's PROTO (0x80). A file that looks like both is
   * tried as both, the format its extension names first; one that looks like
   * neither is reported as the format its extension names (safetensors if none). */
  guint64 header_length = 0;
  if (size >= 8)
    memcpy (&header_length, data, 8);
  header_length = GUINT64_FROM_LE (header_length);
  gboolean looks_safetensors = size >= 9 && data[8] == '{' && header_length <= size - 8;
  gboolean looks_pth = size >= 2 && (memcmp (data, "PK", 2) == 0 || data[0] == 0x80);
  gboolean named_pth = g_str_has_suffix (path, ".pth") || g_str_has_suffix (path, ".pt")
                       || g_str_has_suffix (path, ".tar");
  if (!looks_safetensors && !looks_pth)
    return named_pth ? pth_load_bytes (data, size, path, error)
                     : safetensors_load_bytes (data, size, path, error);
  if (!looks_safetensors || !looks_pth)
    return looks_pth ? pth_load_bytes (data, size, path, error)
                     : safetensors_load_bytes (data, size, path, error);

  g_autoptr (GError) first_error = NULL;
  StateDict *sd = named_pth ? pth_load_bytes (data, size, path, &first_error)
                            : safetensors_load_bytes (data, size, path, &first_error);
  if (sd == NULL)
    sd = named_pth ? safetensors_load_bytes (data, size, path, NULL)
                   : pth_load_bytes (data, size, path, NULL);
  if (sd == NULL)
    g_propagate_error (error, g_steal_pointer (&first_error));
  return sd;
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

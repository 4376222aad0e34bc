/* state-dict.c — an ordered map of named tensors, like PyTorch's state_dict
 * (an OrderedDict): entries keep insertion order, names are unique, and
 * assigning an existing name replaces its value in place. */
#include "state-dict-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (state-dict-error-quark, state_dict_error)

struct _StateDict
{
  GPtrArray *entries;           /* of StateEntry *, insertion order; owns them */
  GHashTable *index;            /* name (the entry's own string) → StateEntry * */
};

static void
state_entry_free (StateEntry *e)
{
  g_clear_pointer (&e->f32, tensor_unref);
  g_free (e->i64);
  g_free (e->name);
  g_free (e);
}

StateDict *
state_dict_new (void)
{
  StateDict *sd = g_new0 (StateDict, 1);
  sd->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) state_entry_free);
  sd->index = g_hash_table_new (g_str_hash, g_str_equal);
  return sd;
}

void
state_dict_free (StateDict *sd)
{
  if (sd == NULL)
    return;
  g_hash_table_unref (sd->index);
  g_ptr_array_unref (sd->entries);
  g_free (sd);
}

/* Puts e under its name: in the old entry's place when the name is taken. */
static void
state_dict_insert (StateDict *sd, StateEntry *e)
{
  StateEntry *old = g_hash_table_lookup (sd->index, e->name);
  if (old)
    {
      guint i;
      gboolean found = g_ptr_array_find (sd->entries, old, &i);
      g_assert (found);
      g_hash_table_remove (sd->index, old->name);
      state_entry_free (g_steal_pointer (&sd->entries->pdata[i]));
      sd->entries->pdata[i] = e;
    }
  else
    g_ptr_array_add (sd->entries, e);
  g_hash_table_insert (sd->index, e->name, e);
}

void
state_dict_add_f32 (StateDict *sd, const char *name, Tensor *t)
{
  g_return_if_fail (sd != NULL && name != NULL && t != NULL);

  StateEntry *e = g_new0 (StateEntry, 1);
  e->name = g_strdup (name);
  e->dtype = STATE_DTYPE_F32;
  e->ndim = t->ndim;
  memcpy (e->shape, t->shape, sizeof e->shape);
  e->f32 = tensor_ref (t);
  state_dict_insert (sd, e);
}

void
state_dict_add_i64 (StateDict *sd, const char *name, int ndim, const int64_t *shape,
                    const int64_t *values)
{
  g_return_if_fail (sd != NULL && name != NULL);
  g_return_if_fail (ndim >= 0 && ndim <= TENSOR_MAX_DIMS);
  g_return_if_fail (ndim == 0 || shape != NULL);

  int64_t numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      g_return_if_fail (shape[i] >= 0);
      numel *= shape[i];
    }
  g_return_if_fail (numel == 0 || values != NULL);

  StateEntry *e = g_new0 (StateEntry, 1);
  e->name = g_strdup (name);
  e->dtype = STATE_DTYPE_I64;
  e->ndim = ndim;
  if (ndim > 0)
    memcpy (e->shape, shape, ndim * sizeof (int64_t));
  /* At least one element's worth, so i64 is never NULL. */
  e->i64 = g_new0 (int64_t, MAX (numel, 1));
  if (numel > 0)
    memcpy (e->i64, values, numel * sizeof (int64_t));
  state_dict_insert (sd, e);
}

const StateEntry *
state_dict_lookup (const StateDict *sd, const char *name)
{
  g_return_val_if_fail (sd != NULL && name != NULL, NULL);
  return g_hash_table_lookup (sd->index, name);
}

guint
state_dict_size (const StateDict *sd)
{
  g_return_val_if_fail (sd != NULL, 0);
  return sd->entries->len;
}

const StateEntry *
state_dict_entry (const StateDict *sd, guint i)
{
  g_return_val_if_fail (sd != NULL && i < sd->entries->len, NULL);
  return g_ptr_array_index (sd->entries, i);
}

int64_t
state_entry_numel (const StateEntry *e)
{
  g_return_val_if_fail (e != NULL, 0);
  int64_t n = 1;
  for (int i = 0; i < e->ndim; i++)
    n *= e->shape[i];
  return n;
}

void
state_dict_load_error (GError **error, StateDictError code, const char *file,
                       const char *tensor, const char *format, ...)
{
  if (error == NULL || *error != NULL)
    return;
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  if (tensor)
    /* Translators: a file name, a tensor's name (conv1.weight) and what is wrong
     * with it, a clause such as “its dtype is F16 (torch.float16), but …”. */
    g_set_error (error, STATE_DICT_ERROR, code, _("Cannot load “%s”: tensor “%s”: %s"), file,
                 tensor, reason);
  else
    /* Translators: a file name and what is wrong with it, a clause. */
    g_set_error (error, STATE_DICT_ERROR, code, _("Cannot load “%s”: %s"), file, reason);
}

GMappedFile *
state_dict_map_file (const char *path, const char *file, const guint8 **data, gsize *size,
                     GError **error)
{
  static const guint8 empty[1];
  /* O_NONBLOCK: opening a pipe would wait for a writer before fstat could say
   * what it is; it changes nothing for a regular file. */
  int fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int e = errno;
      state_dict_load_error (error, STATE_DICT_ERROR_IO, file, NULL, "%s", g_strerror (e));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      int e = errno;
      close (fd);
      state_dict_load_error (error, STATE_DICT_ERROR_IO, file, NULL, "%s", g_strerror (e));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      state_dict_load_error (error, STATE_DICT_ERROR_IO, file, NULL, "%s",
                             S_ISDIR (st.st_mode) ? _("it is a folder, not a file")
                                                  : _("it is a device or a pipe, not a file"));
      return NULL;
    }
  g_autoptr (GError) map_error = NULL;
  GMappedFile *map = g_mapped_file_new_from_fd (fd, FALSE, &map_error);
  close (fd);
  if (map == NULL)
    {
      state_dict_load_error (error, STATE_DICT_ERROR_IO, file, NULL, "%s", map_error->message);
      return NULL;
    }
  *data = (const guint8 *) g_mapped_file_get_contents (map);
  if (*data == NULL)
    *data = empty;
  *size = g_mapped_file_get_length (map);
  return map;
}

/* fuzz-safetensors.c — libFuzzer target for the safetensors reader.
 *
 * Any input: a StateDict or a STATE_DICT_ERROR naming the file, never both,
 * and no tensor made when it fails (validation comes before allocation). A
 * file that loads must write back (as the safetensors library would) to bytes
 * that load to the same tensors and write back to the same bytes again. */
#include "state-dict.h"

#include <string.h>

static void
assert_same (const StateDict *a, const StateDict *b)
{
  g_assert (state_dict_size (a) == state_dict_size (b));
  for (guint i = 0; i < state_dict_size (a); i++)
    {
      const StateEntry *x = state_dict_entry (a, i);
      const StateEntry *y = state_dict_lookup (b, x->name);
      g_assert (y != NULL);
      g_assert (x->dtype == y->dtype && x->ndim == y->ndim);
      g_assert (memcmp (x->shape, y->shape, x->ndim * sizeof (int64_t)) == 0);
      int64_t n = state_entry_numel (x);
      if (x->dtype == STATE_DTYPE_F32)
        {
          g_assert (x->f32->numel == n && y->f32->numel == n);
          g_assert (memcmp (x->f32->data, y->f32->data, n * sizeof (float)) == 0);
        }
      else
        g_assert (memcmp (x->i64, y->i64, n * sizeof (int64_t)) == 0);
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gint live = tensor_live_count ();
  GError *error = NULL;
  StateDict *sd = safetensors_load_bytes (data, size, "fuzz.safetensors", &error);
  g_assert ((sd == NULL) != (error == NULL));
  if (sd == NULL)
    {
      g_assert (error->domain == STATE_DICT_ERROR);
      g_assert (g_str_has_prefix (error->message, "Cannot load “fuzz.safetensors”: "));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      g_assert (tensor_live_count () == live);
      g_error_free (error);
      return 0;
    }

  GBytes *bytes = safetensors_save_bytes (sd);
  gsize len;
  const guint8 *out = g_bytes_get_data (bytes, &len);
  guint64 header_len;
  g_assert (len >= 16);
  memcpy (&header_len, out, 8);
  g_assert (GUINT64_FROM_LE (header_len) % 8 == 0);      /* padded, as the library pads */
  StateDict *back = safetensors_load_bytes (out, len, "written", &error);
  if (back == NULL)
    g_error ("a loaded file wrote back unreadable: %s", error->message);
  assert_same (sd, back);
  GBytes *again = safetensors_save_bytes (back);
  g_assert (g_bytes_equal (bytes, again));

  g_bytes_unref (again);
  state_dict_free (back);
  g_bytes_unref (bytes);
  state_dict_free (sd);
  g_assert (tensor_live_count () == live);
  return 0;
}

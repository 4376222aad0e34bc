/* fuzz-pth.c — libFuzzer target for the PyTorch .pth reader (engine/pth*.c).
 *
 * Any input: a StateDict or a STATE_DICT_ERROR naming the file, never both, in
 * valid UTF-8, and no tensor left behind when it fails. The zip reader's CRC
 * check is off here, so that mutated archives reach the pickle machine (the
 * legacy-format seeds have no CRC anyway); test-pth checks the CRC.
 *
 * A state dict that loads must survive the trip through safetensors (write, read
 * back, same tensors), and loading the same bytes twice gives the same tensors.
 *
 * Seeds: tests/data/fuzz/pth/ (tools/make-pth-fixtures.py copies them there). */
#include "pth-private.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
assert_same (const StateDict *a, const StateDict *b)
{
  g_assert (state_dict_size (a) == state_dict_size (b));
  for (guint i = 0; i < state_dict_size (a); i++)
    {
      const StateEntry *x = state_dict_entry (a, i);
      const StateEntry *y = state_dict_lookup (b, x->name);
      g_assert (y != NULL && y->dtype == x->dtype && y->ndim == x->ndim);
      g_assert (memcmp (x->shape, y->shape, x->ndim * sizeof (int64_t)) == 0);
      int64_t n = state_entry_numel (x);
      if (x->dtype == STATE_DTYPE_F32)
        g_assert (x->f32->numel == n && y->f32->numel == n
                  && memcmp (x->f32->data, y->f32->data, n * sizeof (float)) == 0);
      else
        g_assert (memcmp (x->i64, y->i64, n * sizeof (int64_t)) == 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  pth_zip_verify_crc = FALSE;

  gint live = tensor_live_count ();
  GError *error = NULL;
  StateDict *sd = pth_load_bytes (data, size, "fuzz.pth", &error);
  g_assert ((sd == NULL) != (error == NULL));
  if (sd == NULL)
    {
      g_assert (error->domain == STATE_DICT_ERROR);
      g_assert (g_str_has_prefix (error->message, "Cannot load “fuzz.pth”: "));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      g_assert (tensor_live_count () == live);
      g_error_free (error);
      return 0;
    }

  StateDict *again = pth_load_bytes (data, size, "fuzz.pth", &error);
  g_assert (again != NULL && error == NULL);
  assert_same (sd, again);
  state_dict_free (again);

  GBytes *bytes = safetensors_save_bytes (sd);
  StateDict *back = safetensors_load_bytes (g_bytes_get_data (bytes, NULL),
                                            g_bytes_get_size (bytes), "written", &error);
  if (back == NULL)
    g_error ("a loaded .pth wrote back unreadable: %s", error->message);
  assert_same (sd, back);

  state_dict_free (back);
  g_bytes_unref (bytes);
  state_dict_free (sd);
  g_assert (tensor_live_count () == live);
  return 0;
}

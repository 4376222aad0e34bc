/* test-pth.c — PyTorch .pth files: torch.save's formats, views, byte orders, a
 * narrow resnet18 end to end, discovery of torchvision's cache, and refusals.
 *
 * Fixtures: tests/data/pth/, made by tools/make-pth-fixtures.py with PyTorch 1.13
 * (which loaded every good file back and compared it with what it saved).
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "module.h"
#include "pth-private.h"     /* pth_zip_verify_crc, for the crashers */

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "pth", name, NULL);
}

static StateDict *
load_fixture (const char *name)
{
  g_autofree char *path = fixture (name);
  g_autoptr (GError) error = NULL;
  StateDict *sd = pth_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sd);
  return sd;
}

static const StateEntry *
entry_f32 (const StateDict *sd, const char *name, int ndim, const int64_t *shape)
{
  const StateEntry *e = state_dict_lookup (sd, name);
  g_assert_nonnull (e);
  g_assert_cmpint (e->dtype, ==, STATE_DTYPE_F32);
  g_assert_cmpint (e->ndim, ==, ndim);
  g_assert_nonnull (e->f32);
  g_assert_cmpint (e->f32->ndim, ==, ndim);
  for (int d = 0; d < ndim; d++)
    {
      g_assert_cmpint (e->shape[d], ==, shape[d]);
      g_assert_cmpint (e->f32->shape[d], ==, shape[d]);
    }
  return e;
}

/* small.pth and its variants: the formulas of make-pth-fixtures.py, exactly. */
static void
check_small (const StateDict *sd)
{
  static const char *const order[] = { "weight", "bias", "w4", "scalar", "count", "ids" };
  g_assert_cmpuint (state_dict_size (sd), ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpstr (state_dict_entry (sd, i)->name, ==, order[i]);

  const StateEntry *e = entry_f32 (sd, "weight", 3, (int64_t[]){ 2, 3, 4 });
  for (int i = 0; i < 24; i++)
    g_assert_cmpfloat (e->f32->data[i], ==, 0.5f * i - 3);

  e = entry_f32 (sd, "bias", 1, (int64_t[]){ 3 });
  g_assert_cmpfloat (e->f32->data[0], ==, 1.5f);
  g_assert_cmpfloat (e->f32->data[1], ==, -2.25f);
  g_assert_cmpfloat (e->f32->data[2], ==, 0.001f);

  e = entry_f32 (sd, "w4", 4, (int64_t[]){ 2, 3, 2, 2 });
  for (int i = 0; i < 24; i++)
    g_assert_cmpfloat (e->f32->data[i], ==, (float) i / 7.0f);

  e = entry_f32 (sd, "scalar", 0, NULL);
  g_assert_cmpint (e->f32->numel, ==, 1);
  g_assert_cmpfloat (e->f32->data[0], ==, 3.25f);

  e = state_dict_lookup (sd, "count");
  g_assert_cmpint (e->dtype, ==, STATE_DTYPE_I64);
  g_assert_cmpint (e->ndim, ==, 0);
  g_assert_cmpint (e->i64[0], ==, 7);

  e = state_dict_lookup (sd, "ids");
  g_assert_cmpint (e->dtype, ==, STATE_DTYPE_I64);
  g_assert_cmpint (e->ndim, ==, 1);
  g_assert_cmpint (e->shape[0], ==, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (e->i64[i], ==, i * G_GINT64_CONSTANT (1000000000000) - 3);
}

static void
test_small (gconstpointer data)
{
  g_autoptr (StateDict) sd = load_fixture (data);
  check_small (sd);
}

/* Views of one 4x5 storage, value 5 * row + col: strides, offsets, 0-d. */
static void
test_views (void)
{
  g_autoptr (StateDict) sd = load_fixture ("views.pth");
  const StateEntry *e;

  e = entry_f32 (sd, "base", 2, (int64_t[]){ 4, 5 });
  for (int i = 0; i < 20; i++)
    g_assert_cmpfloat (e->f32->data[i], ==, i);

  e = entry_f32 (sd, "t", 2, (int64_t[]){ 5, 4 });          /* t[c][r] = base[r][c] */
  for (int c = 0; c < 5; c++)
    for (int r = 0; r < 4; r++)
      g_assert_cmpfloat (e->f32->data[c * 4 + r], ==, 5 * r + c);

  e = entry_f32 (sd, "rows", 2, (int64_t[]){ 2, 5 });       /* base[1:3] */
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 5; c++)
      g_assert_cmpfloat (e->f32->data[r * 5 + c], ==, 5 * (r + 1) + c);

  e = entry_f32 (sd, "cols", 2, (int64_t[]){ 4, 3 });       /* base[:, 1:4] */
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat (e->f32->data[r * 3 + c], ==, 5 * r + c + 1);

  e = entry_f32 (sd, "step", 2, (int64_t[]){ 2, 3 });       /* base[::2, ::2] */
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat (e->f32->data[r * 3 + c], ==, 5 * 2 * r + 2 * c);

  e = entry_f32 (sd, "elem", 0, NULL);                      /* base[2, 3] */
  g_assert_cmpfloat (e->f32->data[0], ==, 13);

  e = entry_f32 (sd, "param", 1, (int64_t[]){ 3 });         /* nn.Parameter */
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (e->f32->data[i], ==, i + 0.5f);

  /* Copies, not aliases: changing one view leaves the others alone. */
  entry_f32 (sd, "base", 2, (int64_t[]){ 4, 5 })->f32->data[13] = -1;
  g_assert_cmpfloat (entry_f32 (sd, "elem", 0, NULL)->f32->data[0], ==, 13);
}

/* The same bytes from memory; the name given is the one errors use. */
static void
test_bytes (void)
{
  g_autofree char *path = fixture ("small.pth");
  g_autofree char *contents = NULL;
  gsize size = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &contents, &size, &error));
  g_autoptr (StateDict) sd = pth_load_bytes ((const guint8 *) contents, size, "memory.pth", &error);
  g_assert_no_error (error);
  check_small (sd);

  g_assert_null (pth_load_bytes ((const guint8 *) contents, size / 2, "memory.pth", &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_FORMAT);
  g_assert_true (g_str_has_prefix (error->message, "Cannot load “memory.pth”: "));
  g_clear_error (&error);

  /* Without a GError, failure is still failure. */
  g_assert_null (pth_load_bytes ((const guint8 *) contents, size - 1, "memory.pth", NULL));
  g_assert_null (pth_load_bytes ((const guint8 *) "", 0, "empty.pth", NULL));
}

/* --weights takes either format, judged by content, not by name. */
static void
test_load_any (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pth = fixture ("small.pth");
  g_autofree char *st = g_test_build_filename (G_TEST_DIST, "data", "safetensors",
                                               "small.safetensors", NULL);

  g_autoptr (StateDict) a = state_dict_load_any (pth, &error);
  g_assert_no_error (error);
  check_small (a);

  g_autoptr (StateDict) b = state_dict_load_any (st, &error);
  g_assert_no_error (error);
  g_autoptr (StateDict) b2 = safetensors_load (st, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (state_dict_size (b), ==, state_dict_size (b2));
  g_assert_cmpuint (state_dict_size (b), >, 0);

  /* A .pth under a misleading name is still a .pth. */
  g_autofree char *dir = g_dir_make_tmp ("gradlens-pth-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *renamed = g_build_filename (dir, "weights.safetensors", NULL);
  g_autofree char *contents = NULL;
  gsize size;
  g_assert_true (g_file_get_contents (pth, &contents, &size, NULL));
  g_assert_true (g_file_set_contents (renamed, contents, size, NULL));
  g_autoptr (StateDict) c = state_dict_load_any (renamed, &error);
  g_assert_no_error (error);
  check_small (c);

  g_autofree char *missing = g_build_filename (dir, "missing.pth", NULL);
  g_assert_null (state_dict_load_any (missing, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "missing.pth"));
  g_clear_error (&error);
  g_assert_null (pth_load (missing, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_clear_error (&error);

  /* Not files: a folder, and a pipe with no writer, which must be refused, not
   * waited on (the alarm fails the test if any reader blocks). */
  g_assert_null (state_dict_load_any (dir, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_autofree char *want = g_strdup_printf ("Cannot load “%s”: it is a folder, not a file", dir);
  g_assert_cmpstr (error->message, ==, want);
  g_clear_error (&error);
  g_autofree char *fifo = g_build_filename (dir, "weights.pth", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  alarm (20);
  g_assert_null (pth_load (fifo, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "it is a device or a pipe, not a file"));
  g_clear_error (&error);
  g_assert_null (state_dict_load_any (fifo, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (safetensors_load (fifo, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
  g_clear_error (&error);
  alarm (0);

  g_assert_cmpint (g_remove (fifo), ==, 0);
  g_assert_cmpint (g_remove (renamed), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Every refusal: its code, and words that say what is wrong. */
static void
test_bad (void)
{
  static const struct
  {
    const char *file;
    int code;
    const char *says;
  } cases[] = {
    { "bad-truncated.pth", STATE_DICT_ERROR_FORMAT, "no end of central directory" },
    { "bad-text.pth", STATE_DICT_ERROR_FORMAT, "not a PyTorch file" },
    { "bad-crc.pth", STATE_DICT_ERROR_FORMAT, "is corrupted (CRC-32" },
    { "bad-pickle.pth", STATE_DICT_ERROR_FORMAT, "broken pickle in data.pkl" },
    { "bad-global.pth", STATE_DICT_ERROR_FORMAT,
      "not a PyTorch state_dict: found a pickled “os.system”" },
    { "bad-deflate.pth", STATE_DICT_ERROR_FORMAT, "is compressed" },
    { "bad-short-storage.pth", STATE_DICT_ERROR_FORMAT, "tensor “weight”: its storage" },
    { "bad-view.pth", STATE_DICT_ERROR_FORMAT, "tensor “bias”: its view (offset 2" },
    { "bad-opcode.pth", STATE_DICT_ERROR_FORMAT, "pickle opcode 0x69 ‘i’ at byte 0 of data.pkl" },
    { "bad-list.pth", STATE_DICT_ERROR_FORMAT, "the file holds a list, not a dict of tensors" },
    { "bad-float64.pth", STATE_DICT_ERROR_DTYPE, "tensor “x”: dtype torch.float64" },
    { "bad-checkpoint.pth", STATE_DICT_ERROR_FORMAT, "“model” is a dict, not a tensor (a checkpoint" },
    { "bad-5d.pth", STATE_DICT_ERROR_SHAPE, "tensor “x”: 5 dimensions" },
    { "bad-expand.pth", STATE_DICT_ERROR_FORMAT, "tensor “x”: a view of 6 elements on a storage of 2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = fixture (cases[i].file);
      g_autoptr (GError) error = NULL;
      g_autofree char *prefix = g_strdup_printf ("Cannot load “%s”: ", path);

      g_test_message ("%s", cases[i].file);
      g_assert_null (pth_load (path, &error));
      g_assert_error (error, STATE_DICT_ERROR, cases[i].code);
      g_test_message ("  %s", error->message);
      g_assert_true (g_str_has_prefix (error->message, prefix));
      g_assert_nonnull (strstr (error->message, cases[i].says));
    }
}

/* No byte of a file can make the reader crash or accept garbage silently: every
 * truncation fails, and every single-byte change either fails with a load error
 * or still gives a state_dict. Meaningful under ASan and UBSan (the CI runs both). */
static void
test_mutations (gconstpointer data)
{
  g_autofree char *path = fixture (data);
  g_autofree char *contents = NULL;
  gsize size;
  guint ok = 0, refused = 0;

  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  guint8 *bytes = (guint8 *) contents;
  /* As the fuzzer: past the CRC, so that changes to data.pkl reach the pickle machine. */
  pth_zip_verify_crc = FALSE;

  for (gsize n = 0; n < size; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *prefix = g_memdup2 (bytes, n);
      g_assert_null (pth_load_bytes (prefix ? prefix : (const guint8 *) "", n, "cut.pth", &error));
      g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_FORMAT);
    }

  static const guint8 values[] = { 0x00, 0xff, 0x7f, 0x80 };
  for (gsize i = 0; i < size; i++)
    for (guint v = 0; v < G_N_ELEMENTS (values) + 1; v++)
      {
        g_autoptr (GError) error = NULL;
        guint8 old = bytes[i];
        bytes[i] = v < G_N_ELEMENTS (values) ? values[v] : old ^ 0x01;
        if (bytes[i] == old)
          continue;
        g_autoptr (StateDict) sd = pth_load_bytes (bytes, size, "mutant.pth", &error);
        bytes[i] = old;
        if (sd)
          ok++;
        else
          {
            g_assert_true (error->domain == STATE_DICT_ERROR);
            g_assert_true (g_str_has_prefix (error->message, "Cannot load “mutant.pth”: "));
            refused++;
          }
      }
  pth_zip_verify_crc = TRUE;
  g_test_message ("%s: %u mutants loaded, %u refused", (const char *) data, ok, refused);
  g_assert_cmpuint (refused, >, 0);
}

/* Inputs that once broke the fuzzer (tests/data/crashers/pth-*): with the CRC
 * check as in the fuzzer (off) and as shipped (on). */
static void
test_crashers (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "crashers", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_prefix (name, "pth-"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize size;
      g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
      for (int crc = 0; crc < 2; crc++)
        {
          g_autoptr (GError) error = NULL;
          pth_zip_verify_crc = crc;
          g_autoptr (StateDict) sd = pth_load_bytes ((const guint8 *) contents, size, name, &error);
          g_assert_true ((sd == NULL) != (error == NULL));
          if (error)
            g_assert_true (g_utf8_validate (error->message, -1, NULL));
        }
      n++;
    }
  pth_zip_verify_crc = TRUE;
  g_test_message ("%u crashers replayed", n);
  g_assert_cmpuint (n, >, 0);
}

static void
fill_formula (Tensor *x)
{
  /* x[i] = ((37 i) mod 101) / 50 - 1 in float32, as the fixture script. */
  for (int64_t i = 0; i < x->numel; i++)
    x->data[i] = (float) ((37 * i) % 101) / 50.0f - 1.0f;
}

/* A narrow resnet18 saved by torch.save loads into GradLens's and predicts what
 * PyTorch predicted. */
static void
test_narrow_resnet (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StateDict) sd = load_fixture ("narrow.pth");
  g_autoptr (GPtrArray) unexpected = NULL;
  g_autoptr (Module) model = resnet18_new_with_width (10, 4, 12345);

  g_assert_cmpuint (state_dict_size (sd), ==, 122);
  const StateEntry *nbt = state_dict_lookup (sd, "layer3.1.bn2.num_batches_tracked");
  g_assert_nonnull (nbt);
  g_assert_cmpint (nbt->dtype, ==, STATE_DTYPE_I64);
  g_assert_cmpint (nbt->i64[0], ==, 3);

  g_assert_true (module_load_state_dict (model, sd, &unexpected, &error));
  g_assert_no_error (error);
  g_assert_true (unexpected == NULL || unexpected->len == 0);
  module_train (model, false);

  g_autoptr (Tensor) x = tensor_new_empty (4, (int64_t[]){ 1, 3, 32, 32 });
  fill_formula (x);
  g_autoptr (Tensor) y = module_forward (model, x, &error);
  g_assert_no_error (error);
  g_assert_cmpint (y->numel, ==, 10);

  g_autofree char *path = fixture ("narrow-logits.bin");
  g_autofree char *expected = NULL;
  gsize size;
  g_assert_true (g_file_get_contents (path, &expected, &size, NULL));
  g_assert_cmpuint (size, ==, 10 * sizeof (float));
  float worst = 0;
  for (int i = 0; i < 10; i++)
    {
      float e;
      memcpy (&e, expected + 4 * i, 4);
      worst = MAX (worst, fabsf (y->data[i] - e));
    }
  g_test_message ("narrow resnet18: max |GradLens - PyTorch| = %g", worst);
  g_assert_cmpfloat (worst, <=, 1e-4);
}

static void
touch (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
}

/* torch.hub's folder, as torch computes it, and the resnet18 weights in it. */
static void
test_discovery (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("gradlens-hub-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *checkpoints = g_build_filename (tmp, "hub", "checkpoints", NULL);
  g_autofree char *xdg_checkpoints = g_build_filename (tmp, "torch", "hub", "checkpoints", NULL);

  g_unsetenv ("TORCH_HOME");
  g_unsetenv ("XDG_CACHE_HOME");
  g_autofree char *fallback = pth_torch_hub_checkpoints_dir ();
  g_autofree char *expected = g_build_filename (g_get_home_dir (), ".cache", "torch", "hub",
                                                "checkpoints", NULL);
  g_assert_cmpstr (fallback, ==, expected);

  g_setenv ("XDG_CACHE_HOME", tmp, TRUE);
  g_autofree char *xdg = pth_torch_hub_checkpoints_dir ();
  g_assert_cmpstr (xdg, ==, xdg_checkpoints);

  g_setenv ("TORCH_HOME", tmp, TRUE);           /* TORCH_HOME wins */
  g_autofree char *home = pth_torch_hub_checkpoints_dir ();
  g_assert_cmpstr (home, ==, checkpoints);

  g_assert_null (pth_find_torchvision_resnet18 ());        /* no folder */
  g_assert_cmpint (g_mkdir_with_parents (checkpoints, 0700), ==, 0);
  touch (checkpoints, "resnet50-0676ba61.pth");
  touch (checkpoints, "resnet18.txt");
  g_assert_null (pth_find_torchvision_resnet18 ());        /* nothing that fits */

  touch (checkpoints, "resnet18-zzz.pth");
  touch (checkpoints, "resnet18-5c106cde.pth");
  g_autofree char *found = pth_find_torchvision_resnet18 ();
  g_autofree char *older = g_build_filename (checkpoints, "resnet18-5c106cde.pth", NULL);
  g_assert_cmpstr (found, ==, older);                      /* first by name */

  touch (checkpoints, "resnet18-f37072fd.pth");
  g_autofree char *v1 = pth_find_torchvision_resnet18 ();
  g_autofree char *v1_path = g_build_filename (checkpoints, "resnet18-f37072fd.pth", NULL);
  g_assert_cmpstr (v1, ==, v1_path);                       /* torchvision's IMAGENET1K_V1 */

  const char *names[] = { "resnet50-0676ba61.pth", "resnet18.txt", "resnet18-zzz.pth",
                          "resnet18-5c106cde.pth", "resnet18-f37072fd.pth" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (checkpoints, names[i], NULL);
      g_assert_cmpint (g_remove (p), ==, 0);
    }
  g_autofree char *hub = g_build_filename (tmp, "hub", NULL);
  g_assert_cmpint (g_rmdir (checkpoints), ==, 0);
  g_assert_cmpint (g_rmdir (hub), ==, 0);
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
  g_unsetenv ("TORCH_HOME");
  g_unsetenv ("XDG_CACHE_HOME");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/engine/pth/small", "small.pth", test_small);
  g_test_add_data_func ("/engine/pth/legacy", "small-legacy.pth", test_small);
  g_test_add_data_func ("/engine/pth/protocol-4", "small-proto4.pth", test_small);
  g_test_add_data_func ("/engine/pth/big-endian", "small-big.pth", test_small);
  g_test_add_func ("/engine/pth/views", test_views);
  g_test_add_func ("/engine/pth/bytes", test_bytes);
  g_test_add_func ("/engine/pth/load-any", test_load_any);
  g_test_add_func ("/engine/pth/bad", test_bad);
  g_test_add_data_func ("/engine/pth/mutations/zip", "small.pth", test_mutations);
  g_test_add_data_func ("/engine/pth/mutations/legacy", "small-legacy.pth", test_mutations);
  g_test_add_func ("/engine/pth/crashers", test_crashers);
  g_test_add_func ("/engine/pth/narrow-resnet", test_narrow_resnet);
  g_test_add_func ("/engine/pth/discovery", test_discovery);

  return g_test_run ();
}

/* test-safetensors.c — StateDict and .safetensors files: round trips,
 * PyTorch-made fixtures, the safetensors library's own byte layout, a table of
 * broken files, and every fuzzer crasher replayed through every reader. The JSON
 * parser has test-json.c, saves that fail test-safetensors-save.c. */
#include "json.h"
#include "pth.h"
#include "state-dict.h"
#include "test-state-dict-common.h"

#include <math.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

/* A few tensors of every kind the format carries for us. */
static StateDict *
sample_state_dict (void)
{
  StateDict *sd = state_dict_new ();
  g_autoptr (Tensor) w4 = tensor_arange (4, (int64_t[]){ 2, 3, 2, 2 }, -1.5f, 0.25f);
  g_autoptr (Tensor) b1 = tensor_arange (1, (int64_t[]){ 5 }, 0.1f, 1e-3f);
  g_autoptr (Tensor) s0 = tensor_new_scalar (-0.0f);
  g_autoptr (Tensor) e2 = tensor_new_zeros (2, (int64_t[]){ 0, 7 });
  g_autoptr (Tensor) sp = tensor_new_from_data (1, (int64_t[]){ 5 },
                                                (float[]){ INFINITY, -INFINITY, NAN, 1e-45f,
                                                           3.4028235e38f });
  state_dict_add_f32 (sd, "layer1.0.conv1.weight", w4);
  state_dict_add_f32 (sd, "fc.bias", b1);
  state_dict_add_f32 (sd, "scalar", s0);
  state_dict_add_f32 (sd, "empty", e2);
  state_dict_add_f32 (sd, "special", sp);
  state_dict_add_i64 (sd, "bn1.num_batches_tracked", 0, NULL, (int64_t[]){ 42 });
  state_dict_add_i64 (sd, "counts", 2, (int64_t[]){ 2, 2 },
                      (int64_t[]){ -1, G_MAXINT64, G_MININT64, (int64_t) 1 << 40 });
  return sd;
}

/* Same names in the same order, same dtypes, shapes and bits. */
static void
assert_state_dicts_equal (const StateDict *a, const StateDict *b)
{
  g_assert_cmpuint (state_dict_size (a), ==, state_dict_size (b));
  for (guint i = 0; i < state_dict_size (a); i++)
    {
      const StateEntry *x = state_dict_entry (a, i);
      const StateEntry *y = state_dict_lookup (b, x->name);
      g_assert_nonnull (y);
      g_assert_cmpint (x->dtype, ==, y->dtype);
      g_assert_cmpint (x->ndim, ==, y->ndim);
      for (int k = 0; k < x->ndim; k++)
        g_assert_cmpint (x->shape[k], ==, y->shape[k]);
      int64_t n = state_entry_numel (x);
      if (x->dtype == STATE_DTYPE_F32)
        {
          g_assert_cmpint (x->f32->numel, ==, n);
          g_assert_cmpint (y->f32->numel, ==, n);
          g_assert_cmpmem (x->f32->data, n * 4, y->f32->data, n * 4);
        }
      else
        g_assert_cmpmem (x->i64, n * 8, y->i64, n * 8);
    }
}

static GBytes *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents;
  gsize len;
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

/* ---- StateDict ------------------------------------------------------------- */

static void
test_state_dict_order (void)
{
  gint live = tensor_live_count ();
  {
    g_autoptr (StateDict) sd = state_dict_new ();
    g_autoptr (Tensor) a = tensor_new_ones (1, (int64_t[]){ 3 });
    g_autoptr (Tensor) b = tensor_new_zeros (2, (int64_t[]){ 2, 2 });
    state_dict_add_f32 (sd, "z.weight", a);
    state_dict_add_i64 (sd, "a.count", 1, (int64_t[]){ 2 }, (int64_t[]){ 5, 6 });
    state_dict_add_f32 (sd, "m.bias", b);
    g_assert_cmpuint (state_dict_size (sd), ==, 3);
    g_assert_cmpstr (state_dict_entry (sd, 0)->name, ==, "z.weight");
    g_assert_cmpstr (state_dict_entry (sd, 1)->name, ==, "a.count");
    g_assert_cmpstr (state_dict_entry (sd, 2)->name, ==, "m.bias");
    g_assert_true (state_dict_lookup (sd, "z.weight")->f32 == a);    /* a reference, not a copy */
    g_assert_cmpint (a->ref_count, ==, 2);
    g_assert_cmpint (state_dict_lookup (sd, "a.count")->i64[1], ==, 6);
    g_assert_cmpint (state_entry_numel (state_dict_lookup (sd, "m.bias")), ==, 4);
    g_assert_null (state_dict_lookup (sd, "nope"));

    /* Assigning an existing name replaces it in place, as in an OrderedDict. */
    state_dict_add_f32 (sd, "a.count", b);
    g_assert_cmpuint (state_dict_size (sd), ==, 3);
    g_assert_cmpstr (state_dict_entry (sd, 1)->name, ==, "a.count");
    g_assert_cmpint (state_dict_entry (sd, 1)->dtype, ==, STATE_DTYPE_F32);
    g_assert_true (state_dict_lookup (sd, "a.count") == state_dict_entry (sd, 1));
    state_dict_add_i64 (sd, "z.weight", 0, NULL, (int64_t[]){ 9 });
    g_assert_cmpint (a->ref_count, ==, 1);
    g_assert_cmpint (state_dict_entry (sd, 0)->i64[0], ==, 9);
    g_assert_cmpint (state_entry_numel (state_dict_entry (sd, 0)), ==, 1);
  }
  g_assert_cmpint (tensor_live_count (), ==, live);
}

/* ---- safetensors: layout and round trips ---------------------------------- */

/* The safetensors library's own unit tests (safetensors/src/tensor.rs,
 * test_serialization and test_empty): the exact bytes it writes. */
static void
test_reference_bytes (void)
{
  static const guint8 attn[] = {
    64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
    116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
    58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
    101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
    0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64
  };
  static const guint8 empty[] = { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 };

  g_autoptr (StateDict) sd = state_dict_new ();
  g_autoptr (Tensor) t = tensor_arange (3, (int64_t[]){ 1, 2, 3 }, 0, 1);
  state_dict_add_f32 (sd, "attn.0", t);
  g_autoptr (GBytes) bytes = safetensors_save_bytes (sd);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_assert_cmpmem (data, len, attn, sizeof attn);

  g_autoptr (StateDict) none = state_dict_new ();
  g_autoptr (GBytes) none_bytes = safetensors_save_bytes (none);
  data = g_bytes_get_data (none_bytes, &len);
  g_assert_cmpmem (data, len, empty, sizeof empty);

  g_autoptr (GError) error = NULL;
  g_autoptr (StateDict) back = safetensors_load_bytes (attn, sizeof attn, "attn", &error);
  g_assert_no_error (error);
  assert_state_dicts_equal (sd, back);
  g_autoptr (StateDict) back0 = safetensors_load_bytes (empty, sizeof empty, "empty", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (state_dict_size (back0), ==, 0);
}

static void
test_round_trip (void)
{
  gint live = tensor_live_count ();
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "weights.safetensors", NULL);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (StateDict) sd = sample_state_dict ();
    g_assert_true (safetensors_save (sd, path, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_files (dir), ==, 1);          /* no temporary file left */

    /* The file is what safetensors_save_bytes describes, in the library's layout:
     * header a multiple of 8 long, I64 tensors first, then F32, each by name. */
    g_autoptr (GBytes) file = read_file (path);
    g_autoptr (GBytes) mem = safetensors_save_bytes (sd);
    g_assert_true (g_bytes_equal (file, mem));
    gsize len;
    const char *data = g_bytes_get_data (file, &len);
    guint64 n;
    memcpy (&n, data, 8);
    n = GUINT64_FROM_LE (n);
    g_assert_cmpuint (n % 8, ==, 0);
    g_autofree char *header = g_strndup (data + 8, n);
    const char *order[] = { "\"bn1.num_batches_tracked\"", "\"counts\"", "\"empty\"",
                            "\"fc.bias\"", "\"layer1.0.conv1.weight\"", "\"scalar\"",
                            "\"special\"" };
    const char *at = header;
    for (guint i = 0; i < G_N_ELEMENTS (order); i++)
      {
        const char *p = strstr (header, order[i]);
        g_assert_nonnull (p);
        g_assert_true (p > at || i == 0);
        at = p;
      }
    g_assert_nonnull (strstr (header, "\"counts\":{\"dtype\":\"I64\",\"shape\":[2,2],"
                                      "\"data_offsets\":[8,40]}"));
    g_assert_nonnull (strstr (header, "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],"));
    g_assert_nonnull (strstr (header, "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,7],"));

    g_autoptr (StateDict) back = safetensors_load (path, &error);
    g_assert_no_error (error);
    assert_state_dicts_equal (sd, back);
    /* Loaded in file order. */
    g_assert_cmpstr (state_dict_entry (back, 0)->name, ==, "bn1.num_batches_tracked");
    g_assert_cmpstr (state_dict_entry (back, 6)->name, ==, "special");
    g_assert_cmpint (state_dict_lookup (back, "counts")->i64[2], ==, G_MININT64);
    g_assert_true (signbit (state_dict_lookup (back, "scalar")->f32->data[0]));

    /* Saving over an existing file replaces it and keeps its permissions. */
    g_assert_cmpint (g_chmod (path, 0640), ==, 0);
    g_autoptr (Tensor) extra = tensor_new_ones (1, (int64_t[]){ 1000 });
    state_dict_add_f32 (sd, "extra", extra);
    g_assert_true (safetensors_save (sd, path, &error));
    g_assert_no_error (error);
    GStatBuf st;
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0640);
    g_assert_cmpuint (count_files (dir), ==, 1);
    g_autoptr (StateDict) back2 = safetensors_load (path, &error);
    g_assert_no_error (error);
    assert_state_dicts_equal (sd, back2);

    /* A new file gets 0666 less the umask, like any file (not mkstemp's 0600). */
    g_autofree char *fresh = g_build_filename (dir, "fresh.safetensors", NULL);
    mode_t mask = umask (022);
    g_assert_true (safetensors_save (sd, fresh, &error));
    umask (mask);
    g_assert_cmpint (g_stat (fresh, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  }
  remove_tmp_dir (dir);
  g_assert_cmpint (tensor_live_count (), ==, live);
}

/* ---- safetensors: PyTorch-made fixtures ----------------------------------- */

/* expected.txt: name \t dtype \t shape \t values, one line per tensor. */
static void
assert_matches_expected (const StateDict *sd, const char *expected_path)
{
  g_autoptr (GBytes) text = read_file (expected_path);
  g_autofree char *copy = g_strndup (g_bytes_get_data (text, NULL), g_bytes_get_size (text));
  g_auto (GStrv) lines = g_strsplit (copy, "\n", -1);
  guint n_lines = 0;
  for (guint i = 0; lines[i] && lines[i][0]; i++, n_lines++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", 4);
      g_assert_cmpuint (g_strv_length (f), ==, 4);
      const StateEntry *e = state_dict_lookup (sd, f[0]);
      if (e == NULL)
        g_error ("tensor “%s” missing", f[0]);
      g_assert_cmpint (e->dtype, ==, strcmp (f[1], "F32") == 0 ? STATE_DTYPE_F32 : STATE_DTYPE_I64);
      g_auto (GStrv) dims = g_strsplit (f[2], ",", -1);
      g_assert_cmpint (e->ndim, ==, f[2][0] ? (int) g_strv_length (dims) : 0);
      for (int k = 0; k < e->ndim; k++)
        g_assert_cmpint (e->shape[k], ==, g_ascii_strtoll (dims[k], NULL, 10));
      g_auto (GStrv) values = g_strsplit (f[3], " ", -1);
      int64_t numel = state_entry_numel (e);
      g_assert_cmpint (f[3][0] ? (int64_t) g_strv_length (values) : 0, ==, numel);
      for (int64_t k = 0; k < numel; k++)
        if (e->dtype == STATE_DTYPE_F32)
          {
            float want = (float) g_ascii_strtod (values[k], NULL), got = e->f32->data[k];
            if (isnan (want))
              g_assert_true (isnan (got));
            else
              g_assert_cmpmem (&got, 4, &want, 4);       /* bits: -0. and denormals too */
          }
        else
          g_assert_cmpint (e->i64[k], ==, g_ascii_strtoll (values[k], NULL, 10));
    }
  g_assert_cmpuint (n_lines, ==, state_dict_size (sd));
}

static void
test_pytorch_fixtures (void)
{
  g_autofree char *expected = g_test_build_filename (G_TEST_DIST, "data", "safetensors",
                                                     "expected.txt", NULL);
  g_autofree char *small = g_test_build_filename (G_TEST_DIST, "data", "safetensors",
                                                  "small.safetensors", NULL);
  g_autofree char *unordered = g_test_build_filename (G_TEST_DIST, "data", "safetensors",
                                                      "unordered.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (StateDict) a = safetensors_load (small, &error);
  g_assert_no_error (error);
  assert_matches_expected (a, expected);
  g_autoptr (StateDict) b = safetensors_load (unordered, &error);
  g_assert_no_error (error);
  assert_matches_expected (b, expected);
  g_assert_cmpstr (state_dict_entry (b, 0)->name, ==, "😀.bias");   /* header order */

  /* Written back, both are byte for byte the file laid out as the library does. */
  g_autoptr (GBytes) want = read_file (small);
  g_autoptr (GBytes) from_a = safetensors_save_bytes (a);
  g_autoptr (GBytes) from_b = safetensors_save_bytes (b);
  g_assert_true (g_bytes_equal (from_a, want));
  g_assert_true (g_bytes_equal (from_b, want));
}

/* ---- safetensors: bad files ----------------------------------------------- */

/* The valid file every bad one is made from: n (I64, scalar), a (F32, 2×3),
 * b (F32, 4); its header is
 *   {"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},
 *    "a":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]},
 *    "b":{"dtype":"F32","shape":[4],"data_offsets":[32,48]}}     */
static GBytes *
base_file (void)
{
  g_autoptr (StateDict) sd = state_dict_new ();
  g_autoptr (Tensor) a = tensor_arange (2, (int64_t[]){ 2, 3 }, 1, 1);
  g_autoptr (Tensor) b = tensor_arange (1, (int64_t[]){ 4 }, -1, 0.5f);
  state_dict_add_f32 (sd, "a", a);
  state_dict_add_f32 (sd, "b", b);
  state_dict_add_i64 (sd, "n", 0, NULL, (int64_t[]){ 3 });
  return safetensors_save_bytes (sd);
}

typedef struct
{
  const char *name;
  const char *find, *replace;   /* an edit of the header text, or NULL */
  int data_delta;               /* bytes added to (> 0) or cut from (< 0) the end */
  guint64 length_word;          /* written instead of the header length, if not 0 */
  int truncate_to;              /* the whole file cut to this many bytes, if ≥ 0 */
  const char *raw;              /* instead of all that: these raw_len bytes */
  gsize raw_len;
  StateDictError code;
  const char *tensor;           /* the tensor the message must name, or NULL */
  const char *reason;           /* what the message must say */
} BadFile;

#define A "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}"
#define B "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[32,48]}"
#define KEEP .truncate_to = -1

static const BadFile bad_files[] = {
  { "empty", .truncate_to = 0, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "is 0 bytes long, too short for a safetensors file" },
  { "truncated-header", .truncate_to = 5, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "is 5 bytes long, too short" },
  { "cut-in-header", .truncate_to = 60, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "announce a header of 164 bytes, but only 52 bytes follow" },
  { "header-length-beyond-file", .length_word = (guint64) 1 << 40, KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .reason = "announce a header of 1099511627776 bytes" },
  { "header-length-max", .length_word = G_MAXUINT64, KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "announce a header of 18446744073709551615 bytes" },
  { "header-length-short", .length_word = 100, KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "not valid JSON" },
  { "bad-json", "\"dtype\":\"F32\",\"shape\":[4]", "\"dtype\":F32,\"shape\":[4]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .reason = "is not valid JSON: at byte 122: expected a value, found ‘F’" },
  { "json-trailing-comma", "]}}", "]},}", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "not valid JSON" },
  { "json-garbage-after", "]}}", "]}}}", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "(trailing garbage)" },
  { "json-too-deep", "\"shape\":[4]", "\"shape\":[[[[[[[[[4]]]]]]]]]", KEEP,
    .code = STATE_DICT_ERROR_TOO_LARGE, .reason = "nested more than 8 deep" },
  { "json-invalid-utf8", "\"b\":", "\"\xff\":", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "invalid UTF-8" },
  { "unclosed-array", "{\"n\"", "[{\"n\"", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "at byte 165: expected ‘,’ or ‘]’ in an array, found the end of the text" },
  { "array-header", "*", "[1, 2, 3]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "its header must be a JSON object {\"name\": {\"dtype\", \"shape\", \"data_offsets\"}, "
              "...}, but it is an array" },
  { "string-header", "*", "\"weights\"", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "but it is a string" },
  { "entry-not-object", A, "\"a\":[8,32]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "a", .reason = "its header entry must be an object" },
  { "unknown-dtype", "\"dtype\":\"F32\",\"shape\":[2", "\"dtype\":\"F33\",\"shape\":[2", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "a", .reason = "unknown dtype “F33”" },
  { "dtype-f16", "\"dtype\":\"F32\",\"shape\":[2", "\"dtype\":\"F16\",\"shape\":[2", KEEP,
    .code = STATE_DICT_ERROR_DTYPE, .tensor = "a",
    .reason = "its dtype is F16 (torch.float16), but GradLens reads only F32" },
  { "dtype-bf16", "\"dtype\":\"F32\",\"shape\":[4", "\"dtype\":\"BF16\",\"shape\":[4", KEEP,
    .code = STATE_DICT_ERROR_DTYPE, .tensor = "b", .reason = "BF16 (torch.bfloat16)" },
  { "dtype-f64", "\"dtype\":\"F32\",\"shape\":[4", "\"dtype\":\"F64\",\"shape\":[4", KEEP,
    .code = STATE_DICT_ERROR_DTYPE, .tensor = "b", .reason = "F64 (torch.float64)" },
  { "dtype-i32", "\"dtype\":\"I64\"", "\"dtype\":\"I32\"", KEEP, .code = STATE_DICT_ERROR_DTYPE,
    .tensor = "n", .reason = "I32 (torch.int32)" },
  { "dtype-not-string", "\"dtype\":\"I64\"", "\"dtype\":64", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "n", .reason = "“dtype” must be a string such as \"F32\", but it is a number" },
  { "negative-shape", "[2,3]", "[-2,3]", KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "size 0 of its shape is -2, but sizes and offsets cannot be negative" },
  { "fractional-shape", "[2,3]", "[2,3.0]", KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "size 1 of its shape must be a whole number" },
  { "shape-not-numbers", "[2,3]", "[2,\"3\"]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "a", .reason = "size 1 of its shape must be a whole number, but it is a string" },
  { "overflowing-shape", "[2,3]", "[4294967296,4294967296]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "its shape [4294967296, 4294967296] is impossibly large (more than 2^63 bytes)" },
  { "overflowing-shape-2", "[2,3]", "[9223372036854775807,2]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "a", .reason = "(more than 2^63 bytes)" },
  { "empty-but-huge", "[2,3]", "[0,4611686018427387904,4611686018427387904]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "a", .reason = "is impossibly large" },
  { "shape-past-int64", "[2,3]", "[18446744073709551616,0]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "size 0 of its shape is 1.84467e+19, too large for any file" },
  { "five-dims", "[2,3]", "[1,1,1,2,3]", KEEP, .code = STATE_DICT_ERROR_SHAPE, .tensor = "a",
    .reason = "its shape [1, 1, 1, 2, 3] has 5 dimensions, but GradLens tensors have at most 4" },
  { "shape-not-array", "[2,3]", "6", KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "“shape” must be an array" },
  { "wrong-byte-count", "[2,3]", "[2,2]", KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "an F32 tensor of shape [2, 2] takes 16 bytes, but its data_offsets [8, 32] hold 24" },
  { "zero-size-but-bytes", "[2,3]", "[0,3]", KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "a",
    .reason = "takes 0 bytes" },
  { "offsets-out-of-range", "[4],\"data_offsets\":[32,48]", "[4],\"data_offsets\":[48,64]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "b",
    .reason = "its data_offsets [48, 64] go past the end of the data, which is 48 bytes long" },
  { "offsets-huge", "[32,48]", "[18446744073709551600,18446744073709551616]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "b", .reason = "too large for any file" },
  { "offsets-negative", "[32,48]", "[-16,0]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "b", .reason = "its begin offset is -16, but sizes and offsets cannot be negative" },
  { "offsets-reversed", "[32,48]", "[48,32]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "b", .reason = "its data_offsets [48, 32] end before they begin" },
  { "overlapping-offsets", "[32,48]", "[24,40]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "tensors “a” (data bytes 8–32) and “b” (data bytes 24–40) overlap" },
  { "same-offsets", "\"data_offsets\":[0,8]", "\"data_offsets\":[32,40]", .data_delta = 0, KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .reason = "data bytes 0–8 belong to no tensor" },
  { "gap", "[32,48]", "[36,52]", .data_delta = 4, KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "data bytes 32–36 belong to no tensor (a gap before tensor “b”)" },
  { "trailing-garbage", .data_delta = 3, KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "3 bytes follow the last tensor's data (trailing garbage)" },
  { "truncated-data", .data_delta = -4, KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "b",
    .reason = "which is 44 bytes long: the file is truncated" },
  { "missing-data-offsets", ",\"data_offsets\":[8,32]", "", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "a", .reason = "its header entry has no “data_offsets”" },
  { "missing-dtype", "\"dtype\":\"F32\",\"shape\":[4]", "\"shape\":[4]", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .tensor = "b", .reason = "has no “dtype”" },
  { "missing-shape", "\"shape\":[4],", "", KEEP, .code = STATE_DICT_ERROR_FORMAT, .tensor = "b",
    .reason = "has no “shape”" },
  { "offsets-one-number", "[32,48]", "[32]", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "b", .reason = "“data_offsets” must be an array [begin, end] of two byte offsets" },
  { "offsets-not-array", "[32,48]", "\"32-48\"", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "b", .reason = "but it is a string" },
  { "duplicate-name", B, "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[32,48]}", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .reason = "has the key “a” twice" },
  { "nul-in-name", "\"b\":", "\"b\\u0000x\":", KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .tensor = "b", .reason = "its name holds a NUL character" },
  { "metadata-not-strings", "{\"n\"", "{\"__metadata__\":{\"epoch\":3},\"n\"", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .reason = "“__metadata__” must map names to strings, but “epoch” is a number" },
  { "metadata-not-object", "{\"n\"", "{\"__metadata__\":[],\"n\"", KEEP,
    .code = STATE_DICT_ERROR_FORMAT, .reason = "“__metadata__” must be an object of strings" },
  /* The starts of what torch.save writes: a zip archive, or (before 1.6) pickles. */
  { "pytorch-zip", .raw = "PK\x03\x04\x14\0\0\0\0\0\0\0!\0", .raw_len = 14, KEEP,
    .code = STATE_DICT_ERROR_FORMAT,
    .reason = "this is a zip archive, probably a PyTorch .pth/.pt file saved with torch.save" },
  { "pytorch-pickle", .raw = "\x80\x02\x8a\x0alz\xfc\x9c" "F\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.",
    .raw_len = 22, KEEP, .code = STATE_DICT_ERROR_FORMAT,
    .reason = "this is a pickle, probably a PyTorch .pth/.pt file" },
};

/* Applies one BadFile's mutation to the base file. */
static GBytes *
mutate (GBytes *base, const BadFile *c)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (base, &size);
  guint64 n;
  memcpy (&n, data, 8);
  n = GUINT64_FROM_LE (n);
  g_autofree char *header = g_strndup ((const char *) data + 8, n);
  g_strchomp (header);                       /* the padding; any length loads */

  if (c->raw)
    return g_bytes_new (c->raw, c->raw_len);
  if (c->find && strcmp (c->find, "*") == 0)
    {
      g_free (header);
      header = g_strdup (c->replace);
    }
  else if (c->find)
    {
      char *at = strstr (header, c->find);
      g_assert_nonnull (at);                  /* the base has what the case edits */
      *at = '\0';
      char *edited = g_strconcat (header, c->replace, at + strlen (c->find), NULL);
      g_free (header);
      header = edited;
    }

  GByteArray *out = g_byte_array_new ();
  guint64 word = GUINT64_TO_LE (c->length_word ? c->length_word : strlen (header));
  g_byte_array_append (out, (const guint8 *) &word, 8);
  g_byte_array_append (out, (const guint8 *) header, strlen (header));
  gsize data_len = size - 8 - n;
  g_byte_array_append (out, data + 8 + n, c->data_delta < 0 ? data_len + c->data_delta : data_len);
  for (int i = 0; i < c->data_delta; i++)
    g_byte_array_append (out, (const guint8 *) "\x7f", 1);
  if (c->truncate_to >= 0)
    g_byte_array_set_size (out, MIN ((guint) c->truncate_to, out->len));
  return g_byte_array_free_to_bytes (out);
}

static void
test_bad_files (void)
{
  g_autoptr (GBytes) base = base_file ();
  g_autofree char *dir = make_tmp_dir ();

  /* The base itself loads, through the same path as the bad ones. */
  {
    g_autofree char *path = g_build_filename (dir, "base.safetensors", NULL);
    g_assert_true (g_file_set_contents (path, g_bytes_get_data (base, NULL),
                                        g_bytes_get_size (base), NULL));
    g_autoptr (GError) error = NULL;
    g_autoptr (StateDict) sd = safetensors_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (state_dict_size (sd), ==, 3);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      const BadFile *c = &bad_files[i];
      g_autoptr (GBytes) bytes = mutate (base, c);
      g_autofree char *base_name = g_strdup_printf ("%s.safetensors", c->name);
      g_autofree char *path = g_build_filename (dir, base_name, NULL);
      g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                          g_bytes_get_size (bytes), NULL));

      gint live = tensor_live_count ();
      g_autoptr (GError) error = NULL;
      g_autoptr (StateDict) sd = safetensors_load (path, &error);
      g_test_message ("%s: %s", c->name, error ? error->message : "(loaded)");
      if (sd != NULL)
        g_error ("%s: loaded", c->name);
      /* Rejected before a single tensor was made. */
      g_assert_cmpint (tensor_live_count (), ==, live);
      g_assert_nonnull (error);
      g_assert_true (error->domain == STATE_DICT_ERROR);
      if (error->code != (int) c->code)
        g_error ("%s: error code %d, expected %d (%s)", c->name, error->code, c->code,
                 error->message);
      g_autofree char *says_file = g_strdup_printf ("Cannot load “%s”: ", path);
      g_autofree char *says_tensor = c->tensor ? g_strdup_printf ("tensor “%s”: ", c->tensor)
                                               : NULL;
      if (!g_str_has_prefix (error->message, says_file)
          || (says_tensor && strstr (error->message, says_tensor) == NULL)
          || strstr (error->message, c->reason) == NULL)
        g_error ("%s: “%s” should name the file%s%s and say “%s”", c->name, error->message,
                 c->tensor ? " and tensor " : "", c->tensor ? c->tensor : "", c->reason);

      /* From memory: the same verdict, under the given name. */
      g_autoptr (GError) error2 = NULL;
      g_autoptr (StateDict) sd2 = safetensors_load_bytes (g_bytes_get_data (bytes, NULL),
                                                          g_bytes_get_size (bytes), "mem.st",
                                                          &error2);
      g_assert_null (sd2);
      g_assert_error (error2, STATE_DICT_ERROR, c->code);
      g_assert_true (g_str_has_prefix (error2->message, "Cannot load “mem.st”: "));
    }

  /* Files that are not there, or not files. */
  {
    g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
    g_autoptr (GError) error = NULL;
    g_assert_null (safetensors_load (missing, &error));
    g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
    g_autofree char *want = g_strdup_printf ("Cannot load “%s”: %s", missing, g_strerror (ENOENT));
    g_assert_cmpstr (error->message, ==, want);
    g_clear_error (&error);
    g_assert_null (safetensors_load (dir, &error));
    g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "it is a folder, not a file"));
  }
  remove_tmp_dir (dir);
}

/* ---- crashers and seed corpora -------------------------------------------- */

/* Every input a fuzzer ever crashed on, and every seed, through every reader
 * (JSON, safetensors, .pth): none may crash; the JSON and safetensors seeds
 * must load (the .pth seeds include broken files on purpose). */
static void
replay_folder (const char *sub, const char *kind, gboolean must_load)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", sub, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  guint n = 0;
  while ((name = g_dir_read_name (d)))
    {
      if (g_str_has_prefix (name, "README"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GBytes) bytes = read_file (path);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      gint live = tensor_live_count ();
      g_autoptr (GError) json_error = NULL;
      g_autoptr (JsonValue) v = json_parse ((const char *) data, len, NULL, &json_error);
      g_autoptr (GError) st_error = NULL;
      g_autoptr (StateDict) sd = safetensors_load_bytes (data, len, name, &st_error);
      g_autoptr (GError) pth_error = NULL;
      g_autoptr (StateDict) pth = pth_load_bytes (data, len, name, &pth_error);
      g_test_message ("%s/%s: json %s, safetensors %s, pth %s", sub, name,
                      v ? "ok" : json_error->message, sd ? "ok" : st_error->message,
                      pth ? "ok" : pth_error->message);
      g_assert_true ((v == NULL) == (json_error != NULL));
      g_assert_true ((sd == NULL) == (st_error != NULL));
      g_assert_true ((pth == NULL) == (pth_error != NULL));
      if (sd == NULL && pth == NULL)
        g_assert_cmpint (tensor_live_count (), ==, live);
      if (must_load && strcmp (kind, "json") == 0)
        g_assert_no_error (json_error);
      if (must_load && strcmp (kind, "safetensors") == 0)
        g_assert_no_error (st_error);
      n++;
    }
  g_test_message ("%s: %u files", sub, n);
}

static void
test_crashers (void)
{
  replay_folder ("crashers", "any", FALSE);
  replay_folder ("fuzz/safetensors", "safetensors", TRUE);
  replay_folder ("fuzz/json", "json", TRUE);
  replay_folder ("fuzz/pth", "pth", FALSE);
}

/* A valid file whose header length is 128 mod 256 starts with 0x80, a pickle's
 * PROTO byte: it must still load as the safetensors it is, by any name. */
static void
test_header_length_0x80 (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autoptr (Tensor) t = tensor_new_ones (1, (int64_t[]){ 3 });
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *name = NULL;
  for (int pad = 0; pad < 256; pad++)
    {
      g_autoptr (StateDict) sd = state_dict_new ();
      g_free (name);
      name = g_strnfill (pad + 1, 'w');
      state_dict_add_f32 (sd, name, t);
      g_clear_pointer (&bytes, g_bytes_unref);
      bytes = safetensors_save_bytes (sd);
      if (((const guint8 *) g_bytes_get_data (bytes, NULL))[0] == 0x80)
        break;
    }
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (bytes, NULL))[0], ==, 0x80);

  const char *names[] = { "w.safetensors", "w.bin", "w.pth" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                          (gssize) g_bytes_get_size (bytes), NULL));
      g_autoptr (GError) error = NULL;
      g_autoptr (StateDict) back = state_dict_load_any (path, &error);
      g_assert_no_error (error);
      g_assert_nonnull (state_dict_lookup (back, name));
      g_unlink (path);
    }
  remove_tmp_dir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/state-dict/order", test_state_dict_order);
  g_test_add_func ("/engine/safetensors/reference-bytes", test_reference_bytes);
  g_test_add_func ("/engine/safetensors/round-trip", test_round_trip);
  g_test_add_func ("/engine/safetensors/pytorch-fixtures", test_pytorch_fixtures);
  g_test_add_func ("/engine/safetensors/bad-files", test_bad_files);
  g_test_add_func ("/engine/safetensors/crashers", test_crashers);
  g_test_add_func ("/engine/safetensors/header-length-0x80", test_header_length_0x80);
  return g_test_run ();
}

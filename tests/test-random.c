/* test-random.c — torch's seeded random numbers, bit for bit.
 *
 * tests/data/random/torch-random.ini holds what PyTorch 1.13 drew (made by
 * tools/make-random-fixtures.py, which describes the format): torch.randn and
 * torch.rand of a few shapes (below 16 elements one draw at a time with the
 * cached second Box–Muller sample, from 16 on the vectorised kernel), uniform_
 * and normal_ with bounds, means and deviations, several calls on one generator,
 * and torchvision's resnet18 initialised from seeds 0, 1 and 7 (a SHA-256 of each
 * float tensor). Every float must have PyTorch's bits. And the dynamic lesson,
 * whose while loop runs as long as torch.randn(3) asks, builds PyTorch's graph:
 * as many nodes as PyTorch's program for seeds 0..7.
 */
#include "autograd.h"
#include "module.h"
#include "stepper.h"
#include "vec.h"

#include <string.h>

static GKeyFile *
fixtures (void)
{
  static GKeyFile *keys;
  if (keys == NULL)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "random",
                                                     "torch-random.ini", NULL);
      g_autoptr (GError) error = NULL;
      keys = g_key_file_new ();
      g_key_file_load_from_file (keys, path, G_KEY_FILE_NONE, &error);
      g_assert_no_error (error);
    }
  return keys;
}

static uint32_t
bits_of (float x)
{
  uint32_t u;
  memcpy (&u, &x, sizeof u);
  return u;
}

/* "randn 2x3" etc. (see the script): a new tensor drawn from gen. */
static Tensor *
run_call (const char *call, Generator *gen)
{
  g_auto (GStrv) words = g_strsplit (call, " ", -1);
  g_auto (GStrv) sizes = g_strsplit (words[1], "x", -1);
  int ndim = (int) g_strv_length (sizes);
  int64_t shape[TENSOR_MAX_DIMS];
  g_assert_cmpint (ndim, <=, TENSOR_MAX_DIMS);
  for (int i = 0; i < ndim; i++)
    shape[i] = g_ascii_strtoll (sizes[i], NULL, 10);

  if (g_str_equal (words[0], "randn"))
    return tensor_new_randn (ndim, shape, gen);
  if (g_str_equal (words[0], "rand"))
    return tensor_new_rand (ndim, shape, gen);
  Tensor *t = tensor_new_empty (ndim, shape);
  double a = g_ascii_strtod (words[2], NULL), b = g_ascii_strtod (words[3], NULL);
  if (g_str_equal (words[0], "uniform"))
    tensor_fill_uniform (t, gen, a, b);
  else if (g_str_equal (words[0], "normal"))
    tensor_fill_normal (t, gen, a, b);
  else
    g_error ("unknown call “%s”", call);
  return t;
}

static void
test_case (gconstpointer data)
{
  const char *group = data;
  GKeyFile *keys = fixtures ();
  g_autoptr (GError) error = NULL;
  gint64 seed = g_key_file_get_int64 (keys, group, "seed", &error);
  g_assert_no_error (error);
  g_auto (GStrv) calls = g_key_file_get_string_list (keys, group, "calls", NULL, &error);
  g_assert_no_error (error);
  g_auto (GStrv) expected = g_key_file_get_string_list (keys, group, "bits", NULL, &error);
  g_assert_no_error (error);

  Generator gen;
  generator_init (&gen, (uint64_t) seed);
  guint k = 0, wrong = 0;
  g_autoptr (GString) report = g_string_new (NULL);
  for (guint c = 0; calls[c]; c++)
    {
      g_autoptr (Tensor) t = run_call (calls[c], &gen);
      for (int64_t i = 0; i < t->numel; i++, k++)
        {
          g_assert_nonnull (expected[k]);
          uint32_t want = (uint32_t) g_ascii_strtoull (expected[k], NULL, 16);
          if (bits_of (t->data[i]) != want)
            {
              float w;
              memcpy (&w, &want, sizeof w);
              if (wrong++ < 5)
                g_string_append_printf (report, "\n  %s [%" G_GINT64_FORMAT "]: %.9g, torch %.9g",
                                        calls[c], i, t->data[i], w);
            }
        }
    }
  g_assert_null (expected[k]);      /* as many floats as PyTorch drew */
  if (wrong)
    {
      g_test_message ("%s: %u of %u floats differ from PyTorch's:%s", group, wrong, k,
                      report->str);
      g_test_fail ();
    }
}

static char *
sha256_of (const Tensor *t)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) t->data,
                                      (gsize) t->numel * sizeof (float));
}

/* torch.manual_seed(seed); torchvision.models.resnet18(): every float tensor of
 * the state dict, by name and in order, has PyTorch's bytes. */
static void
test_resnet18 (gconstpointer data)
{
  const char *group = data;
  GKeyFile *keys = fixtures ();
  g_autoptr (GError) error = NULL;
  int seed = atoi (group + strlen ("resnet18-seed"));
  g_autoptr (Module) model = resnet18_new (1000, (uint64_t) seed);
  g_autoptr (StateDict) sd = module_state_dict (model);
  gsize n_keys = 0;
  g_auto (GStrv) names = g_key_file_get_keys (keys, group, &n_keys, &error);
  g_assert_no_error (error);
  guint k = 0, wrong = 0;
  g_autoptr (GString) report = g_string_new (NULL);

  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      if (e->dtype != STATE_DTYPE_F32)
        continue;
      g_assert_cmpuint (k, <, n_keys);
      g_assert_cmpstr (e->name, ==, names[k]);
      g_autofree char *want = g_key_file_get_string (keys, group, names[k], &error);
      g_assert_no_error (error);
      g_autofree char *got = sha256_of (e->f32);
      if (!g_str_equal (got, want))
        {
          wrong++;
          g_string_append_printf (report, " %s", e->name);
        }
      k++;
    }
  g_assert_cmpuint (k, ==, n_keys);
  if (wrong)
    {
      g_test_message ("%s: %u of %u tensors differ from PyTorch's:%s", group, wrong, k,
                      report->str);
      g_test_fail ();
    }
}

/* normal_'s 16-element step on AVX2 with FMA is the scalar code's, bit for bit, on
 * every float a uniform draw gives (k·2⁻²⁴, k < 2²⁴) as u1 and as u2, with a mean
 * and std that are not 0 and 1 (resnet18's kaiming std). */
static void
test_normal_kernels (void)
{
  if (vec_level_of_cpu () < VEC_AVX2)
    {
      g_test_skip ("no AVX2 and FMA: only the scalar kernel runs here");
      return;
    }
  const int n = 1 << 24;
  guint64 differ = 0;
  for (int k = 0; k < n; k += 8)
    {
      float a[16], b[16];
      for (int l = 0; l < 8; l++)
        {
          a[l] = (float) (k + l) * 0x1p-24f;                 /* u1 = 1 − this */
          a[8 + l] = (float) ((n - 1 - k - l) ^ 0x5a5a5) * 0x1p-24f;   /* θ = 2π·this */
        }
      memcpy (b, a, sizeof a);
      normal_fill_16_for_test (a, 0.25f, 0.0589f, false);
      normal_fill_16_for_test (b, 0.25f, 0.0589f, true);
      if (memcmp (a, b, sizeof a) != 0)
        {
          for (int l = 0; l < 16; l++)
            if (memcmp (&a[l], &b[l], sizeof (float)) != 0 && differ++ < 5)
              g_test_message ("block at %d, lane %d: scalar %a, AVX2 %a", k, l, a[l], b[l]);
        }
    }
  g_assert_cmpuint (differ, ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/random/normal-kernels", test_normal_kernels);
  g_auto (GStrv) groups = g_key_file_get_groups (fixtures (), NULL);
  for (guint i = 0; groups[i]; i++)
    {
      if (g_str_equal (groups[i], "dynamic-lesson"))
        continue;               /* test-lessons' */
      g_autofree char *path = g_strdup_printf ("/engine/random/%s", groups[i]);
      if (g_str_has_prefix (groups[i], "resnet18-seed"))
        g_test_add_data_func (path, groups[i], test_resnet18);
      else
        g_test_add_data_func (path, groups[i], test_case);
    }
  return g_test_run ();
}

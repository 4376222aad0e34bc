/* test-image-input.c — pictures as resnet18's input, against torchvision.
 *
 * Fixtures: tests/data/images/, made by tools/make-pth-fixtures.py with
 * torchvision 0.14 and Pillow: photo-224.bin is ToTensor + Normalize of
 * photo-224.png; each *-crop.png is torchvision's Resize (256) + CenterCrop (224)
 * of its picture, stored losslessly (the script checked that ToTensor + Normalize
 * of it is exactly torchvision's whole transform).
 */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "image-input.h"
#include "ops.h"

static char *
image_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "images", name, NULL);
}

static ImageRgb *
load_image (const char *name)
{
  g_autofree char *path = image_path (name);
  g_autoptr (GError) error = NULL;
  ImageRgb *img = image_rgb_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (img);
  return img;
}

/* A picture of 224×224 is taken as prepared: ToTensor + Normalize, to 1e-5 of
 * torchvision (in fact to the bit: the same float32 operations). */
static void
test_normalize_224 (void)
{
  g_autofree char *path = image_path ("photo-224.png");
  g_autofree char *bin = image_path ("photo-224.bin");
  g_autoptr (GError) error = NULL;
  g_autoptr (ImageRgb) shown = NULL;
  g_autofree char *expected = NULL;
  gsize size;

  g_autoptr (Tensor) x = image_input_load (path, &shown, &error);
  g_assert_no_error (error);
  g_assert_cmpint (x->ndim, ==, 4);
  g_assert_cmpint (x->shape[0], ==, 1);
  g_assert_cmpint (x->shape[1], ==, 3);
  g_assert_cmpint (x->shape[2], ==, 224);
  g_assert_cmpint (x->shape[3], ==, 224);
  g_assert_nonnull (shown);
  g_assert_cmpint (shown->width, ==, 224);

  g_assert_true (g_file_get_contents (bin, &expected, &size, NULL));
  g_assert_cmpuint (size, ==, x->numel * sizeof (float));
  float worst = 0;
  for (int64_t i = 0; i < x->numel; i++)
    {
      float e;
      memcpy (&e, expected + 4 * i, 4);
      worst = MAX (worst, fabsf (x->data[i] - e));
    }
  g_test_message ("224x224: max |GradLens - torchvision| = %g", worst);
  g_assert_cmpfloat (worst, <=, 1e-5);

  /* The whole transform would have upscaled it to 256 and cropped: different. */
  g_autoptr (Tensor) full = image_input_transform (shown);
  g_assert_false (tensor_allclose (full, x, 0, 1e-3f));
}

/* Larger and smaller pictures: the whole transform against torchvision's. The
 * resampling is Pillow's, so where decoding is the same (PNG) the pixels are the
 * same; the JPEG is held to the bound, mean |difference| ≤ 0.02. */
static void
test_transform (gconstpointer data)
{
  const char *const *names = data;     /* picture, its crop, exact? */
  g_autoptr (ImageRgb) img = load_image (names[0]);
  g_autoptr (ImageRgb) crop = load_image (names[1]);
  gboolean exact = names[2] != NULL;

  g_autoptr (ImageRgb) ours = image_input_resize_crop (img);
  g_assert_cmpint (ours->width, ==, 224);
  g_assert_cmpint (ours->height, ==, 224);
  g_assert_cmpint (crop->width, ==, 224);
  g_assert_cmpint (crop->height, ==, 224);
  guint differ = 0;
  for (gsize i = 0; i < 224 * 224 * 3; i++)
    differ += ours->rgb[i] != crop->rgb[i];

  g_autoptr (Tensor) x = image_input_transform (img);
  g_autoptr (Tensor) e = image_input_normalize (crop);
  double sum = 0;
  float worst = 0;
  for (int64_t i = 0; i < x->numel; i++)
    {
      float d = fabsf (x->data[i] - e->data[i]);
      sum += d;
      worst = MAX (worst, d);
    }
  double mean = sum / x->numel;
  g_test_message ("%s (%dx%d): %u of %d bytes differ; mean |diff| %.3g, max %.3g", names[0],
                  img->width, img->height, differ, 224 * 224 * 3, mean, worst);
  g_assert_cmpfloat (mean, <=, 0.02);
  if (exact)
    g_assert_cmpuint (differ, ==, 0);
}

/* Pillow's resampling, by hand on tiny pictures. */
static void
test_resize (void)
{
  /* Halving a 4-pixel row: center 1.0 and 3.0, support 2: weights over pixels
   * (0, 1, 2) are f(-0.25), f(0.25), f(0.75) = 0.75, 0.75, 0.25 → / 1.75. */
  g_autoptr (ImageRgb) row = image_rgb_new (4, 1);
  const guint8 v[4] = { 0, 100, 200, 255 };
  for (int i = 0; i < 4; i++)
    memset (row->rgb + 3 * i, v[i], 3);
  g_autoptr (ImageRgb) half = image_rgb_resize (row, 2, 1);
  g_assert_cmpint (half->width, ==, 2);
  g_assert_cmpint (half->height, ==, 1);
  /* (0·0.75 + 100·0.75 + 200·0.25) / 1.75 = 71.43 → 71; (100·0.25 + 200·0.75 + 255·0.75) / 1.75
   * = 209.3 → 209 (fixed-point, rounded). */
  g_assert_cmpint (half->rgb[0], ==, 71);
  g_assert_cmpint (half->rgb[3], ==, 209);

  /* Same size: a copy. Constant pictures stay constant at any size. */
  g_autoptr (ImageRgb) same = image_rgb_resize (row, 4, 1);
  g_assert_cmpmem (same->rgb, 12, row->rgb, 12);
  g_autoptr (ImageRgb) flat = image_rgb_new (7, 5);
  memset (flat->rgb, 77, 7 * 5 * 3);
  g_autoptr (ImageRgb) big = image_rgb_resize (flat, 19, 3);
  for (int i = 0; i < 19 * 3 * 3; i++)
    g_assert_cmpint (big->rgb[i], ==, 77);

  /* Output sizes: shorter side 256, longer int (256 * long / short). */
  g_autoptr (ImageRgb) wide = image_rgb_new (333, 250);
  g_autoptr (ImageRgb) crop = image_input_resize_crop (wide);
  g_assert_cmpint (crop->width, ==, 224);
  g_assert_cmpint (crop->height, ==, 224);
}

static void
test_pixbuf_round_trip (void)
{
  g_autoptr (ImageRgb) img = load_image ("alpha.png");
  g_autoptr (GdkPixbuf) pixbuf = image_rgb_to_pixbuf (img);
  g_assert_false (gdk_pixbuf_get_has_alpha (pixbuf));
  g_autoptr (ImageRgb) back = image_rgb_new_from_pixbuf (pixbuf);
  g_assert_cmpint (back->width, ==, img->width);
  g_assert_cmpint (back->height, ==, img->height);
  g_assert_cmpmem (back->rgb, (gsize) img->width * img->height * 3, img->rgb,
                   (gsize) img->width * img->height * 3);
}

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = image_path ("no-such-picture.png");
  g_assert_null (image_input_load (missing, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "Cannot open the picture “"));
  g_assert_nonnull (strstr (error->message, "no-such-picture.png"));
  g_clear_error (&error);

  g_autofree char *text = g_test_build_filename (G_TEST_DIST, "data", "pth", "bad-text.pth", NULL);
  g_assert_null (image_rgb_load (text, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "bad-text.pth"));
}

static void
test_class_names (void)
{
  g_assert_cmpstr (imagenet_class_name (0), ==, "tench");
  g_assert_cmpstr (imagenet_class_name (1), ==, "goldfish");
  g_assert_cmpstr (imagenet_class_name (281), ==, "tabby");
  g_assert_cmpstr (imagenet_class_name (999), ==, "toilet tissue");
  for (int i = 0; i < IMAGENET_N_CLASSES; i++)
    g_assert_true (imagenet_class_name (i) != NULL && *imagenet_class_name (i) != '\0');
}

static void
test_top_k (void)
{
  g_autoptr (Tensor) logits = tensor_new_zeros (2, (int64_t[]){ 1, 1000 });
  logits->data[7] = 2;
  logits->data[3] = 2;                   /* a tie: lower index first */
  logits->data[1] = 1;
  logits->data[999] = -1;
  ImagePrediction top[5];

  g_assert_cmpint (image_input_top_k (logits, 5, top), ==, 5);
  double z = 996 + 2 * exp (2) + exp (1) + exp (-1);
  g_assert_cmpint (top[0].index, ==, 3);
  g_assert_cmpint (top[1].index, ==, 7);
  g_assert_cmpint (top[2].index, ==, 1);
  g_assert_cmpint (top[3].index, ==, 0);   /* the zeros, by index */
  g_assert_cmpint (top[4].index, ==, 2);
  g_assert_cmpfloat_with_epsilon (top[0].probability, exp (2) / z, 1e-7);
  g_assert_cmpfloat_with_epsilon (top[2].probability, exp (1) / z, 1e-7);
  g_assert_cmpfloat_with_epsilon (top[3].probability, 1 / z, 1e-7);
  g_assert_cmpstr (top[0].name, ==, "tiger shark");
  g_assert_cmpstr (top[2].name, ==, "goldfish");

  /* Large logits do not overflow; ten classes have no names; k past C gives C. */
  g_autoptr (Tensor) ten = tensor_new_full (1, (int64_t[]){ 10 }, 1000.0f);
  ten->data[4] = 1001.0f;
  g_assert_cmpint (image_input_top_k (ten, 5, top), ==, 5);
  g_assert_cmpint (top[0].index, ==, 4);
  g_assert_cmpfloat_with_epsilon (top[0].probability, exp (1) / (exp (1) + 9), 1e-6);
  g_assert_null (top[0].name);
  g_autoptr (Tensor) three = tensor_new_from_data (1, (int64_t[]){ 3 }, (float[]){ 0, 1, 2 });
  g_assert_cmpint (image_input_top_k (three, 5, top), ==, 3);
  g_assert_cmpint (top[2].index, ==, 0);
}

/* gradlens-cli, end to end. Its path comes from the build (GRADLENS_CLI). */
static char *
run_cli (const char *torch_home, int *status, const char *first, ...)
{
  const char *cli = g_getenv ("GRADLENS_CLI");
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "TORCH_HOME", torch_home, TRUE);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  va_list ap;

  g_assert_nonnull (cli);
  g_ptr_array_add (args, (char *) cli);
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, status, &error));
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  return g_strconcat (out, err, NULL);
}

/* predict with a narrow resnet18 from a .pth: PyTorch's top classes and
 * probabilities; weights finds (or not) torchvision's file in torch.hub's cache. */
static void
test_cli (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_dir_make_tmp ("gradlens-torch-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *image = image_path ("photo-224.png");
  g_autofree char *narrow = g_test_build_filename (G_TEST_DIST, "data", "pth", "narrow.pth", NULL);
  g_autofree char *bin = g_test_build_filename (G_TEST_DIST, "data", "pth",
                                                "narrow-photo-224-logits.bin", NULL);
  int status;

  /* PyTorch's answer: softmax of its logits, best first. */
  g_autofree char *raw = NULL;
  gsize size;
  g_assert_true (g_file_get_contents (bin, &raw, &size, NULL));
  g_assert_cmpuint (size, ==, 10 * sizeof (float));
  g_autoptr (Tensor) logits = tensor_new_from_data (1, (int64_t[]){ 10 }, (const float *) raw);
  ImagePrediction expected[5];
  g_assert_cmpint (image_input_top_k (logits, 5, expected), ==, 5);

  g_autofree char *out = run_cli (home, &status, "predict", "--image", image, "--weights", narrow,
                                  NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (out, "meaningless"));
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  int row = -1;
  for (int i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "top-5"))
      row = i + 2;   /* under the column headings */
  g_assert_cmpint (row, >, 0);
  for (int j = 0; j < 5; j++)
    {
      int index;
      double p;
      g_assert_nonnull (lines[row + j]);
      g_assert_cmpint (sscanf (lines[row + j], "%d %lf", &index, &p), ==, 2);
      g_assert_cmpint (index, ==, expected[j].index);
      g_assert_cmpfloat_with_epsilon (p, expected[j].probability, 1e-4);
    }

  /* No weights: torchvision's initialisation, labelled. */
  g_autofree char *random = run_cli (home, &status, "predict", "--image", image, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (random, "top-5 (random weights: meaningless):"));

  /* weights: nothing in the cache (an error, as predict --pretrained's), then a
   * resnet18-*.pth. */
  g_autofree char *none = run_cli (home, &status, "weights", NULL);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (none, "random initialisation"));

  g_autofree char *dir = g_build_filename (home, "hub", "checkpoints", NULL);
  g_autofree char *cached = g_build_filename (dir, "resnet18-0123abcd.pth", NULL);
  g_autofree char *contents = NULL;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_get_contents (narrow, &contents, &size, NULL));
  g_assert_true (g_file_set_contents (cached, contents, size, NULL));
  g_autofree char *found = run_cli (home, &status, "weights", NULL);
  g_autofree char *line = g_strdup_printf ("pretrained weights found: %s\n", cached);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (found, line));
  g_assert_nonnull (strstr (found, "122 tensors"));
  g_assert_nonnull (strstr (found, "resnet18 of width 4 with 10 classes"));

  /* --pretrained takes it; a broken one is an error naming it. */
  g_autofree char *pre = run_cli (home, &status, "predict", "--image", image, "--pretrained", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (pre, cached));
  g_assert_true (g_file_set_contents (cached, contents, size / 2, NULL));
  g_autofree char *broken = run_cli (home, &status, "weights", NULL);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (broken, "Cannot load"));

  g_assert_cmpint (g_remove (cached), ==, 0);
  g_autofree char *hub = g_build_filename (home, "hub", NULL);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_assert_cmpint (g_rmdir (hub), ==, 0);
  g_assert_cmpint (g_rmdir (home), ==, 0);
}

int
main (int argc, char *argv[])
{
  static const char *const large[] = { "photo-large.jpg", "photo-large-crop.png", NULL };
  static const char *const up[] = { "small-up.png", "small-up-crop.png", "exact" };
  static const char *const alpha[] = { "alpha.png", "alpha-crop.png", "exact" };

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/image-input/normalize-224", test_normalize_224);
  g_test_add_data_func ("/ui/image-input/transform/jpeg-400x300", large, test_transform);
  g_test_add_data_func ("/ui/image-input/transform/upscale-150x100", up, test_transform);
  g_test_add_data_func ("/ui/image-input/transform/alpha-240x230", alpha, test_transform);
  g_test_add_func ("/ui/image-input/resize", test_resize);
  g_test_add_func ("/ui/image-input/pixbuf", test_pixbuf_round_trip);
  g_test_add_func ("/ui/image-input/errors", test_errors);
  g_test_add_func ("/ui/image-input/class-names", test_class_names);
  g_test_add_func ("/ui/image-input/top-k", test_top_k);
  g_test_add_func ("/ui/image-input/cli", test_cli);

  return g_test_run ();
}

/* image-input.c — torchvision's ImageNet transform on gdk-pixbuf's pixels, and top-k
 * predictions with ImageNet's class names. See image-input.h. */
#include "image-input.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "imagenet-resources.h"

const float image_input_mean[3] = { 0.485f, 0.456f, 0.406f };
const float image_input_std[3] = { 0.229f, 0.224f, 0.225f };

/* ---------------------------------------------------------------------------
 * Pixels. */

ImageRgb *
image_rgb_new (int width, int height)
{
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail ((gsize) width * height <= G_MAXSIZE / 3, NULL);

  ImageRgb *img = g_new0 (ImageRgb, 1);
  img->width = width;
  img->height = height;
  img->rgb = g_new0 (guint8, (gsize) width * height * 3);
  return img;
}

void
image_rgb_free (ImageRgb *img)
{
  if (img == NULL)
    return;
  g_free (img->rgb);
  g_free (img);
}

ImageRgb *
image_rgb_new_from_pixbuf (GdkPixbuf *pixbuf)
{
  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_colorspace (pixbuf) == GDK_COLORSPACE_RGB, NULL);
  g_return_val_if_fail (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8, NULL);

  int w = gdk_pixbuf_get_width (pixbuf), h = gdk_pixbuf_get_height (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  g_return_val_if_fail (channels == 3 || channels == 4, NULL);

  ImageRgb *img = image_rgb_new (w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy (img->rgb + ((gsize) y * w + x) * 3, src + (gsize) y * stride + x * channels, 3);
  return img;
}

ImageRgb *
image_rgb_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr (GError) local = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &local);
  if (pixbuf == NULL)
    {
      g_set_error (error, local->domain, local->code, _("Cannot open the picture “%s”: %s"), path,
                   local->message);
      return NULL;
    }
  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8
      || gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE,
                   _("Cannot open the picture “%s”: not 8-bit RGB"), path);
      return NULL;
    }
  return image_rgb_new_from_pixbuf (pixbuf);
}

GdkPixbuf *
image_rgb_to_pixbuf (const ImageRgb *img)
{
  g_return_val_if_fail (img != NULL, NULL);

  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, img->width, img->height);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *dst = gdk_pixbuf_get_pixels (pixbuf);
  for (int y = 0; y < img->height; y++)
    memcpy (dst + (gsize) y * stride, img->rgb + (gsize) y * img->width * 3, img->width * 3);
  return pixbuf;
}

ImageRgb *
image_rgb_crop (const ImageRgb *img, int left, int top, int width, int height)
{
  g_return_val_if_fail (img != NULL, NULL);
  g_return_val_if_fail (left >= 0 && top >= 0 && width > 0 && height > 0, NULL);
  g_return_val_if_fail (left + width <= img->width && top + height <= img->height, NULL);

  ImageRgb *out = image_rgb_new (width, height);
  for (int y = 0; y < height; y++)
    memcpy (out->rgb + (gsize) y * width * 3,
            img->rgb + ((gsize) (top + y) * img->width + left) * 3, (gsize) width * 3);
  return out;
}

/* ---------------------------------------------------------------------------
 * Pillow's bilinear resampling (PIL.Image.resize, Image.BILINEAR), exactly.
 *
 * Separable: rows first, then columns. Output pixel xx of a pass covers the input
 * around center = (xx + 0.5)·scale, scale = in / out. The filter is the triangle
 * f(t) = max (0, 1 - |t|), stretched by s = max (scale, 1) when shrinking (this
 * is the antialiasing), so its support is ±s input pixels:
 *
 *   w_x = f ((x - center + 0.5) / s)  for x in [xmin, xmax),  normalised to Σ w = 1,
 *
 * with xmin = (int) (center - s + 0.5) and xmax = (int) (center + s + 0.5) clamped to
 * the image. Weights become 22-bit fixed point (rounded half away from zero); a
 * pass sums byte · weight in 32-bit integers from 2^21 (for rounding), shifts
 * right by 22 and clamps to a byte. Pillow's own code keeps this shape too. */

#define PRECISION_BITS 22

typedef struct
{
  int ksize;            /* weights per output pixel (the longest run) */
  int *bounds;          /* (out, 2): xmin, count */
  gint32 *weights;      /* (out, ksize): fixed point */
} Coeffs;

static void
coeffs_clear (Coeffs *c)
{
  g_free (c->bounds);
  g_free (c->weights);
}

static double
triangle (double t)
{
  t = fabs (t);
  return t < 1.0 ? 1.0 - t : 0.0;
}

static void
coeffs_init (Coeffs *c, int in_size, int out_size)
{
  double scale = (double) in_size / out_size;
  double filterscale = MAX (scale, 1.0);
  double support = 1.0 * filterscale;   /* the triangle's support is 1 */
  c->ksize = (int) ceil (support) * 2 + 1;
  c->bounds = g_new (int, (gsize) out_size * 2);
  c->weights = g_new0 (gint32, (gsize) out_size * c->ksize);
  g_autofree double *k = g_new (double, c->ksize);

  for (int xx = 0; xx < out_size; xx++)
    {
      double center = (xx + 0.5) * scale;
      double ww = 0.0, ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      int xmax = (int) (center + support + 0.5);
      xmin = MAX (xmin, 0);
      xmax = MIN (xmax, in_size) - xmin;
      for (int x = 0; x < xmax; x++)
        {
          k[x] = triangle ((x + xmin - center + 0.5) * ss);
          ww += k[x];
        }
      gint32 *w = c->weights + (gsize) xx * c->ksize;
      for (int x = 0; x < xmax; x++)
        {
          double v = ww != 0.0 ? k[x] / ww : k[x];
          w[x] = v < 0 ? (gint32) (-0.5 + v * (1 << PRECISION_BITS))
                       : (gint32) (0.5 + v * (1 << PRECISION_BITS));
        }
      c->bounds[xx * 2] = xmin;
      c->bounds[xx * 2 + 1] = xmax;
    }
}

static inline guint8
clip8 (gint32 ss)
{
  gint32 v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (guint8) v;
}

/* One pass over rows (horizontal) or columns (vertical): out[i] = Σ in[j]·w. */
static ImageRgb *
resample_pass (const ImageRgb *in, int out_size, gboolean horizontal)
{
  Coeffs c;
  coeffs_init (&c, horizontal ? in->width : in->height, out_size);
  ImageRgb *out = horizontal ? image_rgb_new (out_size, in->height)
                             : image_rgb_new (in->width, out_size);
  /* Step between neighbours along the pass, in bytes. */
  gsize step = horizontal ? 3 : (gsize) in->width * 3;

  for (int y = 0; y < out->height; y++)
    for (int x = 0; x < out->width; x++)
      {
        int i = horizontal ? x : y;
        int first = c.bounds[i * 2], count = c.bounds[i * 2 + 1];
        const gint32 *w = c.weights + (gsize) i * c.ksize;
        const guint8 *src = horizontal ? in->rgb + ((gsize) y * in->width + first) * 3
                                       : in->rgb + ((gsize) first * in->width + x) * 3;
        gint32 s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
        for (int j = 0; j < count; j++, src += step)
          {
            s0 += src[0] * w[j];
            s1 += src[1] * w[j];
            s2 += src[2] * w[j];
          }
        guint8 *dst = out->rgb + ((gsize) y * out->width + x) * 3;
        dst[0] = clip8 (s0);
        dst[1] = clip8 (s1);
        dst[2] = clip8 (s2);
      }
  coeffs_clear (&c);
  return out;
}

ImageRgb *
image_rgb_resize (const ImageRgb *img, int width, int height)
{
  g_return_val_if_fail (img != NULL && width > 0 && height > 0, NULL);

  /* Pillow skips a pass whose size does not change (a plain copy). */
  g_autoptr (ImageRgb) rows = width != img->width ? resample_pass (img, width, TRUE) : NULL;
  const ImageRgb *mid = rows ? rows : img;
  if (height != img->height)
    return resample_pass (mid, height, FALSE);
  return rows ? g_steal_pointer (&rows) : image_rgb_crop (img, 0, 0, img->width, img->height);
}

/* ---------------------------------------------------------------------------
 * The transform. */

ImageRgb *
image_input_resize_crop (const ImageRgb *img)
{
  g_return_val_if_fail (img != NULL, NULL);

  /* Resize (256): torchvision's _compute_resized_output_size, shorter side to 256,
   * longer = int (256 * long / short) (a float division, truncated). */
  int w = img->width, h = img->height;
  int shorter = MIN (w, h), longer = MAX (w, h);
  int new_long = (int) ((double) IMAGE_INPUT_RESIZE * longer / shorter);
  int new_w = w <= h ? IMAGE_INPUT_RESIZE : new_long;
  int new_h = w <= h ? new_long : IMAGE_INPUT_RESIZE;
  g_autoptr (ImageRgb) resized = image_rgb_resize (img, new_w, new_h);

  /* CenterCrop (224): top = int (round ((h - 224) / 2.0)), Python's round, which
   * rounds halves to even, as rint does. */
  int top = (int) rint ((new_h - IMAGE_INPUT_SIZE) / 2.0);
  int left = (int) rint ((new_w - IMAGE_INPUT_SIZE) / 2.0);
  return image_rgb_crop (resized, left, top, IMAGE_INPUT_SIZE, IMAGE_INPUT_SIZE);
}

Tensor *
image_input_normalize (const ImageRgb *img)
{
  g_return_val_if_fail (img != NULL, NULL);

  /* ToTensor: float (byte) / 255; Normalize: (x - mean) / std; float32 throughout,
   * one rounding per operation as torch's kernels. */
  gsize plane = (gsize) img->width * img->height;
  Tensor *x = tensor_new_empty (4, (int64_t[]){ 1, 3, img->height, img->width });
  for (int c = 0; c < 3; c++)
    {
      float *out = x->data + c * plane;   /* (H, W) */
      for (gsize i = 0; i < plane; i++)
        {
          float v = (float) img->rgb[i * 3 + c] / 255.0f;
          out[i] = (v - image_input_mean[c]) / image_input_std[c];
        }
    }
  return x;
}

Tensor *
image_input_transform (const ImageRgb *img)
{
  g_return_val_if_fail (img != NULL, NULL);

  g_autoptr (ImageRgb) crop = image_input_resize_crop (img);
  return image_input_normalize (crop);
}

Tensor *
image_input_prepare (const ImageRgb *img, ImageRgb **shown)
{
  g_return_val_if_fail (img != NULL, NULL);

  g_autoptr (ImageRgb) crop = NULL;
  if (img->width == IMAGE_INPUT_SIZE && img->height == IMAGE_INPUT_SIZE)
    crop = image_rgb_crop (img, 0, 0, IMAGE_INPUT_SIZE, IMAGE_INPUT_SIZE);
  else
    crop = image_input_resize_crop (img);
  Tensor *x = image_input_normalize (crop);
  if (shown)
    *shown = g_steal_pointer (&crop);
  return x;
}

Tensor *
image_input_load (const char *path, ImageRgb **shown, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr (ImageRgb) img = image_rgb_load (path, error);
  if (img == NULL)
    return NULL;
  return image_input_prepare (img, shown);
}

/* ---------------------------------------------------------------------------
 * ImageNet's classes and predictions. */

static const char *const *
class_names (void)
{
  static const char **names = NULL;

  if (g_once_init_enter (&names))
    {
      g_autoptr (GBytes) bytes = g_resource_lookup_data (gradlens_imagenet_get_resource (),
                                                         "/io/github/gradlens/GradLens/imagenet-classes.txt",
                                                         G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      g_assert (bytes != NULL);
      gsize len;
      const char *text = g_bytes_get_data (bytes, &len);
      g_autofree char *copy = g_strndup (text, len);
      char **lines = g_strsplit (g_strchomp (copy), "\n", -1);
      g_assert (g_strv_length (lines) == IMAGENET_N_CLASSES);
      g_once_init_leave (&names, (const char **) lines);
    }
  return names;
}

const char *
imagenet_class_name (int index)
{
  g_return_val_if_fail (index >= 0 && index < IMAGENET_N_CLASSES, NULL);
  return class_names ()[index];
}

int
image_input_top_k (const Tensor *logits, int k, ImagePrediction *top)
{
  g_return_val_if_fail (logits != NULL && top != NULL && k >= 0, 0);
  g_return_val_if_fail (logits->ndim == 1 || (logits->ndim == 2 && logits->shape[0] == 1), 0);

  int n = (int) logits->numel;
  const float *z = logits->data;

  /* softmax: exp (z_i - max) / Σ exp (z_j - max), summed in double. */
  float zmax = -INFINITY;
  for (int i = 0; i < n; i++)
    zmax = MAX (zmax, z[i]);
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += exp ((double) z[i] - zmax);

  /* Selection of the k largest, higher logit first, lower index on ties. */
  k = MIN (k, n);
  for (int j = 0; j < k; j++)
    {
      int best = -1;
      for (int i = 0; i < n; i++)
        {
          gboolean taken = FALSE;
          for (int t = 0; t < j && !taken; t++)
            taken = top[t].index == i;
          if (!taken && (best < 0 || z[i] > z[best]))
            best = i;
        }
      top[j].index = best;
      top[j].probability = (float) (exp ((double) z[best] - zmax) / sum);
      top[j].name = n == IMAGENET_N_CLASSES ? imagenet_class_name (best) : NULL;
    }
  return k;
}

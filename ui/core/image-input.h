/* image-input.h — a picture as resnet18's input, prepared as torchvision prepares it,
 * and the model's answer as ImageNet class names.
 *
 * torchvision's standard ImageNet transform, step by step:
 *
 *   T.Compose ([T.Resize (256),          shorter side to 256, PIL's antialiased bilinear
 *               T.CenterCrop (224),      the middle 224×224
 *               T.ToTensor (),           (3, 224, 224), value = byte / 255
 *               T.Normalize (mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
 *
 * Resize reproduces Pillow's resampling exactly (its two separable passes with 22-bit
 * fixed-point weights and a rounding to bytes after each pass), so from the same
 * decoded pixels the tensor is torchvision's to the last bit. Decoding is
 * gdk-pixbuf's (PNG, JPEG, …); alpha is dropped, as PIL's convert ("RGB") does.
 *
 *   g_autoptr (ImageRgb) shown = NULL;
 *   g_autoptr (Tensor) x = image_input_load ("cat.jpg", &shown, &error);   // (1, 3, 224, 224)
 *   g_autoptr (Tensor) logits = module_forward (model, x, &error);          // eval mode
 *   ImagePrediction top[5];
 *   int n = image_input_top_k (logits, 5, top);    // "tabby, tabby cat  0.62", …
 *
 * Toolkit-free: gdk-pixbuf and GLib, no GTK (gradlens-cli uses it too).
 */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "tensor.h"

G_BEGIN_DECLS

#define IMAGE_INPUT_RESIZE 256          /* Resize (256): the shorter side */
#define IMAGE_INPUT_SIZE   224          /* CenterCrop (224) */
#define IMAGENET_N_CLASSES 1000

extern const float image_input_mean[3];
extern const float image_input_std[3];

/* 8-bit RGB pixels, packed rows: pixel (x, y) channel c is rgb[(y * width + x) * 3 + c]. */
typedef struct
{
  int width, height;
  guint8 *rgb;                          /* (height, width, 3) */
} ImageRgb;

ImageRgb  *image_rgb_new              (int width, int height);     /* zeros */
void       image_rgb_free             (ImageRgb *img);
/* Any pixbuf (8 bits per sample, RGB or RGBA): alpha dropped. */
ImageRgb  *image_rgb_new_from_pixbuf  (GdkPixbuf *pixbuf);
/* PNG, JPEG or any format gdk-pixbuf reads; errors name the file. */
ImageRgb  *image_rgb_load             (const char *path, GError **error);
GdkPixbuf *image_rgb_to_pixbuf        (const ImageRgb *img);      /* for showing it */

/* PIL's Image.resize ((width, height), Image.BILINEAR), bit for bit. */
ImageRgb  *image_rgb_resize           (const ImageRgb *img, int width, int height);
/* The rectangle [left, left + width) × [top, top + height), inside img. */
ImageRgb  *image_rgb_crop             (const ImageRgb *img, int left, int top, int width,
                                       int height);

/* Resize (256) then CenterCrop (224): the 224×224 picture the model sees. */
ImageRgb  *image_input_resize_crop    (const ImageRgb *img);
/* ToTensor + Normalize: (1, 3, height, width), (byte / 255 - mean[c]) / std[c] in float32. */
Tensor    *image_input_normalize      (const ImageRgb *img);
/* The whole transform: image_input_normalize (image_input_resize_crop (img)). */
Tensor    *image_input_transform      (const ImageRgb *img);
/* A picture as the model's input: one of exactly 224×224 is taken as already
 * prepared (ToTensor + Normalize only); any other size gets the whole transform.
 * *shown (may be NULL) receives the 224×224 picture the tensor was made from. */
Tensor    *image_input_prepare        (const ImageRgb *img, ImageRgb **shown);
/* The same from a file. */
Tensor    *image_input_load           (const char *path, ImageRgb **shown, GError **error);

/* ImageNet's 1000 class names in torchvision's order (ResNet18_Weights.IMAGENET1K_V1
 * .meta["categories"]), from resources/imagenet-classes.txt; "tench" is 0. */
const char *imagenet_class_name       (int index);

typedef struct
{
  int index;                            /* class */
  float probability;                    /* softmax of the logits */
  const char *name;                     /* ImageNet's name when there are 1000 classes, else NULL */
} ImagePrediction;

/* The k most probable classes of logits ((C) or (1, C)), most probable first (ties:
 * lower index first). Returns how many were written: MIN (k, C). */
int         image_input_top_k         (const Tensor *logits, int k, ImagePrediction *top);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageRgb, image_rgb_free)

G_END_DECLS

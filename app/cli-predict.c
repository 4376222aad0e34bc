/* cli-predict.c: `gradlens-cli predict`, what resnet18 sees in a picture.
 *
 * The PyTorch program it mirrors:
 *
 *   model = torchvision.models.resnet18()                 # seeded, or:
 *   model.load_state_dict(torch.load(W))                  # --weights W (.pth or .safetensors)
 *   model.eval()
 *   x = preprocess(Image.open(F).convert("RGB"))          # --image F: Resize(256),
 *   with torch.no_grad():                                 #   CenterCrop(224), ToTensor,
 *       p = model(x.unsqueeze(0)).softmax(1)              #   Normalize (ImageNet's)
 *   print(p.topk(5))
 *
 * A picture of exactly 224×224 is taken as already prepared (ToTensor + Normalize
 * only). The width and number of classes come from the weights (conv1, fc). Without
 * weights the answer is labelled meaningless, and torchvision's weights are offered
 * if they are in torch.hub's cache.
 */

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "image-input.h"
#include "module.h"
#include "pth.h"

typedef struct
{
  char *image, *weights;
  gboolean pretrained, logits;
  int top, seed;
} PredictOptions;

static void
predict_options_clear (PredictOptions *o)
{
  g_free (o->image);
  g_free (o->weights);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PredictOptions, predict_options_clear)

static gboolean
bad_value (GError **error, const char *message)
{
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
  return FALSE;
}

/* resnet18 for these weights: width from conv1 (w, 3, 7, 7), classes from fc (C, 8w). */
static Module *
model_for_weights (const char *path, const StateDict *sd, GError **error)
{
  const StateEntry *conv1 = state_dict_lookup (sd, "conv1.weight");
  const StateEntry *fc = state_dict_lookup (sd, "fc.weight");
  if (conv1 == NULL || fc == NULL || conv1->ndim != 4 || fc->ndim != 2
      || conv1->shape[0] < 1 || conv1->shape[0] > 4096 || fc->shape[0] < 1
      || fc->shape[0] > 100000)
    {
      g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_MISSING,
                   _("%s: not a resnet18 state_dict (conv1.weight and fc.weight are missing or odd)"),
                   path);
      return NULL;
    }
  g_autoptr (Module) model = resnet18_new_with_width ((int) fc->shape[0], (int) conv1->shape[0], 0);
  g_autoptr (GPtrArray) unexpected = NULL;
  if (!module_load_state_dict (model, sd, &unexpected, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  if (unexpected && unexpected->len > 0)
    g_printerr (_("gradlens-cli predict: warning: %s: ignoring %u tensors resnet18 does not have "
                "(the first: %s)\n"), path, unexpected->len,
                (const char *) g_ptr_array_index (unexpected, 0));
  return g_steal_pointer (&model);
}

gboolean
cli_predict (int      argc,
             char   **argv,
             GError **error)
{
  g_auto (PredictOptions) o = { .top = 5 };
  const GOptionEntry entries[] = {
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &o.image,
      N_("The picture (PNG, JPEG, …)"), "FILE" },
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &o.weights,
      N_("resnet18 weights: a PyTorch .pth state_dict or .safetensors"), "FILE" },
    { "pretrained", 0, 0, G_OPTION_ARG_NONE, &o.pretrained,
      N_("Use torchvision's weights from torch.hub's cache (see “gradlens-cli weights”)"), NULL },
    { "top", 'k', 0, G_OPTION_ARG_INT, &o.top, N_("How many classes to show (default 5)"), "K" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &o.seed,
      N_("Seed of the random initialisation without weights (default 0)"), "N" },
    { "logits", 0, 0, G_OPTION_ARG_NONE, &o.logits,
      N_("Also print every logit, one per line (to compare with PyTorch)"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    cli_option_context_new ("predict", NULL,
                            _("Classify a picture with resnet18, prepared as torchvision's "
                            "ImageNet transform prepares it; print the most probable classes."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unexpected argument “%s”"), argv[1]);
      return FALSE;
    }
  if (o.image == NULL)
    return bad_value (error, _("--image FILE is required"));
  if (o.weights && o.pretrained)
    return bad_value (error, _("--weights and --pretrained exclude each other"));
  if (o.top < 1)
    return bad_value (error, _("--top must be at least 1"));
  if (o.seed < 0)
    return bad_value (error, _("--seed must be non-negative"));

  g_autofree char *found = pth_find_torchvision_resnet18 ();
  if (o.pretrained)
    {
      if (found == NULL)
        {
          cli_set_no_pretrained_error (error);
          return FALSE;
        }
      o.weights = g_strdup (found);
    }

  g_autoptr (ImageRgb) shown = NULL;
  g_autoptr (ImageRgb) original = image_rgb_load (o.image, error);
  if (original == NULL)
    return FALSE;
  g_autoptr (Tensor) x = image_input_prepare (original, &shown);

  g_autoptr (Module) model = NULL;
  if (o.weights)
    {
      g_autoptr (StateDict) sd = state_dict_load_any (o.weights, error);
      if (sd == NULL || (model = model_for_weights (o.weights, sd, error)) == NULL)
        return FALSE;
    }
  else
    model = resnet18_new (IMAGENET_N_CLASSES, (uint64_t) o.seed);

  /* model.eval (); torch.no_grad (): nothing requires grad, so no graph is kept. */
  module_train (model, false);
  module_set_requires_grad (model, false);
  g_autoptr (Tensor) logits = module_forward (model, x, error);
  if (logits == NULL)
    return FALSE;

  if (original->width == IMAGE_INPUT_SIZE && original->height == IMAGE_INPUT_SIZE)
    g_print (_("image: %s (224×224, taken as prepared: ToTensor, Normalize)\n"), o.image);
  else
    g_print ("image: %s (%d×%d → Resize(256), CenterCrop(224), ToTensor, Normalize)\n", o.image,
             original->width, original->height);
  if (o.weights)
    g_print ("weights: %s%s\n", o.weights, o.pretrained ? " (torchvision's, pretrained)" : "");
  else
    {
      g_print (_("weights: none, torchvision's random initialisation (seed %d)\n"), o.seed);
      if (found)
        g_print (_("pretrained weights found: %s (use --pretrained)\n"), found);
    }

  g_autofree ImagePrediction *top = g_new0 (ImagePrediction, o.top);
  int n = image_input_top_k (logits, o.top, top);
  g_print (_("top-%d%s:\n"), n, o.weights ? "" : _(" (random weights: meaningless)"));
  g_print ("  %5s  %11s  %11s  %s\n", "class", "probability", "logit", "name");
  for (int i = 0; i < n; i++)
    {
      g_autofree char *fallback = g_strdup_printf ("class %d", top[i].index);
      g_print ("  %5d  %11.6f  %+11.6f  %s\n", top[i].index, top[i].probability,
               logits->data[top[i].index], top[i].name ? top[i].name : fallback);
    }
  if (o.logits)
    {
      g_print ("logits:\n");
      for (int64_t i = 0; i < logits->numel; i++)
        g_print ("%.9g\n", logits->data[i]);
    }
  return TRUE;
}

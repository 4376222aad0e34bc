/* cli-weights.c: `gradlens-cli weights`, are torchvision's resnet18 weights here?
 *
 * torchvision keeps what resnet18 (weights="IMAGENET1K_V1") downloads in torch.hub's
 * cache ($TORCH_HOME/hub/checkpoints, else ~/.cache/torch/hub/checkpoints). If a
 * resnet18-*.pth is there it is loaded (every check of the .pth reader) and
 * described; otherwise it fails (exit status 1, as `predict --pretrained` does),
 * saying that resnet18 then starts from torchvision's random initialisation, and
 * how to get the weights.
 */

#include "cli.h"
#include "pth.h"

#include <glib/gi18n.h>

void
cli_set_no_pretrained_error (GError **error)
{
  g_autofree char *dir = pth_torch_hub_checkpoints_dir ();

  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
               _("no pretrained weights: %s holds no resnet18-*.pth\n"
               "without them, resnet18 starts from torchvision's random initialisation "
               "(seeded)\n"
               "to download torchvision's weights (45 MB), with PyTorch installed:\n"
               "  python3 -c \"import torchvision; "
               "torchvision.models.resnet18(weights='IMAGENET1K_V1')\""), dir);
}

gboolean
cli_weights (int      argc,
             char   **argv,
             GError **error)
{
  g_autoptr (GOptionContext) context = NULL;

  context = cli_option_context_new ("weights", NULL,
                                    _("Look for torchvision's pretrained resnet18 weights in "
                                    "torch.hub's cache ($TORCH_HOME/hub/checkpoints or "
                                    "~/.cache/torch/hub/checkpoints) and check that they load."));
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unexpected argument “%s”"), argv[1]);
      return FALSE;
    }

  g_autofree char *path = pth_find_torchvision_resnet18 ();
  if (path == NULL)
    {
      cli_set_no_pretrained_error (error);
      return FALSE;
    }

  g_print (_("pretrained weights found: %s\n"), path);
  g_autoptr (StateDict) sd = pth_load (path, error);
  if (sd == NULL)
    return FALSE;

  /* What the file was made for: conv1 (width, 3, 7, 7), fc (classes, 8 width). */
  const StateEntry *conv1 = state_dict_lookup (sd, "conv1.weight");
  const StateEntry *fc = state_dict_lookup (sd, "fc.weight");
  if (conv1 == NULL || fc == NULL || conv1->ndim != 4 || fc->ndim != 2)
    {
      g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_MISSING,
                   _("%s: not a resnet18 state_dict (no conv1.weight and fc.weight)"), path);
      return FALSE;
    }
  int64_t params = 0;
  for (guint i = 0; i < state_dict_size (sd); i++)
    if (state_dict_entry (sd, i)->dtype == STATE_DTYPE_F32)
      params += state_entry_numel (state_dict_entry (sd, i));
  g_print (_("%u tensors (%lld floats): resnet18 of width %lld with %lld classes\n"),
           state_dict_size (sd), (long long) params, (long long) conv1->shape[0],
           (long long) fc->shape[0]);
  g_print (_("use them with --weights %s\n"), path);
  return TRUE;
}

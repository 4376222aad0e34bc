/* pth.h — PyTorch's own weight files: what torch.save (model.state_dict (), path) writes.
 *
 * A .pth file from PyTorch ≥ 1.6 is a zip archive of stored (uncompressed) entries:
 *
 *   resnet18/data.pkl      the state_dict, pickled (protocol 2)
 *   resnet18/data/0 …      one raw storage per key, little-endian
 *   resnet18/version       "3\n"
 *   resnet18/byteorder     "little" or "big" (absent before PyTorch 2.1: little)
 *
 * Older files (PyTorch < 1.6, or _use_new_zipfile_serialization=False) are one
 * stream of pickles followed by the raw storages; both are read.
 *
 * The pickle is read by a strict interpreter of the subset a state_dict uses
 * (OrderedDict, torch._utils._rebuild_tensor_v2, the storage types, persistent ids
 * naming storages). It never calls anything: every other global, every other
 * opcode is refused with an error naming the file and what was found. Tensors
 * may be views (storage offset, any non-negative strides, shared storages): they
 * are copied out contiguous. float32 tensors become Tensors, int64 ones
 * (num_batches_tracked) I64 entries; other dtypes are refused.
 *
 *   g_autoptr (StateDict) sd = pth_load ("resnet18-f37072fd.pth", &error);
 *   g_autoptr (Module) model = resnet18_new (1000, 0);
 *   module_load_state_dict (model, sd, NULL, &error);
 *
 * Errors are STATE_DICT_ERROR: FORMAT (not a valid file, not a state_dict),
 * DTYPE, TOO_LARGE, IO; messages read "Cannot load “FILE”: [tensor “NAME”: ]reason".
 */
#pragma once

#include "state-dict.h"

G_BEGIN_DECLS

StateDict *pth_load                       (const char *path, GError **error);
/* The same from memory; name is the file name used in error messages. */
StateDict *pth_load_bytes                 (const guint8 *data, gsize size, const char *name,
                                           GError **error);

/* By content: a zip ("PK\3\4") or a legacy pickle is a .pth, anything else is
 * tried as .safetensors (8-byte header length, then "{"). What --weights takes. */
StateDict *state_dict_load_any            (const char *path, GError **error);

/* torch.hub's checkpoint folder, as torch.hub.get_dir () computes it:
 * $TORCH_HOME/hub/checkpoints, else $XDG_CACHE_HOME/torch/hub/checkpoints, else
 * ~/.cache/torch/hub/checkpoints. Read from the environment at each call. */
char      *pth_torch_hub_checkpoints_dir  (void);
/* torchvision's resnet18 weights in that folder (resnet18-*.pth; torchvision's
 * IMAGENET1K_V1 file resnet18-f37072fd.pth first), or NULL. */
char      *pth_find_torchvision_resnet18  (void);

G_END_DECLS

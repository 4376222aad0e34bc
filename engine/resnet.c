/* resnet.c — torchvision.models.resnet18, built and initialised as torchvision does.
 *
 *   conv1 7×7/2 (w) → bn1 → relu → maxpool 3×3/2
 *   → layer1 (w) → layer2 (2w, /2) → layer3 (4w, /2) → layer4 (8w, /2)   2 BasicBlocks each
 *   → avgpool (1, 1) → flatten → fc (8w → num_classes)                   w = 64 for resnet18
 *
 * Random draws happen in PyTorch's order, from a generator that reproduces torch's:
 * each module's own reset_parameters() as it is constructed (a layer's downsample is
 * built before its first block), then torchvision's loop over model.modules() that
 * redraws every conv weight from kaiming_normal_(mode='fan_out', nonlinearity='relu').
 * So `torch.manual_seed(s); resnet18()` and resnet18_new (1000, s) hold the same
 * numbers, bit for bit (tests/test-random.c checks the state dict's hashes).
 */
#include "module.h"

#include <math.h>

/* nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu'):
 * std = √2 / √(out_channels·kh·kw). */
static void
init_kaiming_normal_fan_out (Module *conv, Generator *gen)
{
  Tensor *w = g_array_index (conv->params, NamedTensor, 0).tensor;  /* (O, C, kh, kw) */
  int64_t fan_out = w->shape[0] * w->shape[2] * w->shape[3];
  double std = sqrt (2.0) / sqrt ((double) fan_out);
  tensor_fill_normal (w, gen, 0.0, std);
}

/* torchvision's loop: for m in self.modules(): Conv2d → kaiming normal; BatchNorm
 * weight 1 and bias 0 (batch_norm2d_new already holds those). Pre-order. */
static void
reinit_modules (Module *m, Generator *gen)
{
  if (m->kind == MODULE_CONV2D)
    init_kaiming_normal_fan_out (m, gen);
  for (guint i = 0; i < m->children->len; i++)
    reinit_modules (g_ptr_array_index (m->children, i), gen);
}

static Module *
basic_block_new (int inplanes, int planes, int stride, Module *downsample, Generator *gen)
{
  Module *conv1 = conv2d_new (inplanes, planes, 3, stride, 1, false, gen);
  Module *bn1 = batch_norm2d_new (planes);
  Module *relu = relu_new ();
  Module *conv2 = conv2d_new (planes, planes, 3, 1, 1, false, gen);
  Module *bn2 = batch_norm2d_new (planes);

  Module *block = sequential_new ();
  block->kind = MODULE_BASIC_BLOCK;
  block->in_channels = inplanes;
  block->out_channels = planes;
  block->stride = stride;
  module_add_child (block, "conv1", conv1);
  module_add_child (block, "bn1", bn1);
  module_add_child (block, "relu", relu);
  module_add_child (block, "conv2", conv2);
  module_add_child (block, "bn2", bn2);
  if (downsample)
    module_add_child (block, "downsample", downsample);
  return block;
}

/* ResNet._make_layer: the downsample (1×1 conv with the stride, then BN) exists
 * when the layer changes the shape, and is constructed before the blocks. */
static Module *
make_layer (int *inplanes, int planes, int blocks, int stride, Generator *gen)
{
  Module *downsample = NULL;
  if (stride != 1 || *inplanes != planes)
    {
      downsample = sequential_new ();
      module_add_child (downsample, "0", conv2d_new (*inplanes, planes, 1, stride, 0, false, gen));
      module_add_child (downsample, "1", batch_norm2d_new (planes));
    }
  Module *layer = sequential_new ();
  module_add_child (layer, "0", basic_block_new (*inplanes, planes, stride, downsample, gen));
  *inplanes = planes;
  for (int i = 1; i < blocks; i++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "%d", i);
      module_add_child (layer, name, basic_block_new (planes, planes, 1, NULL, gen));
    }
  return layer;
}

Module *
resnet18_new_from_generator (int num_classes, int width, Generator *gen)
{
  g_return_val_if_fail (num_classes > 0 && width > 0 && gen != NULL, NULL);
  int inplanes = width;
  /* Construction order is draw order. */
  Module *conv1 = conv2d_new (3, width, 7, 2, 3, false, gen);
  Module *bn1 = batch_norm2d_new (width);
  Module *relu = relu_new ();
  Module *maxpool = max_pool2d_new (3, 2, 1);
  Module *layer1 = make_layer (&inplanes, width, 2, 1, gen);
  Module *layer2 = make_layer (&inplanes, 2 * width, 2, 2, gen);
  Module *layer3 = make_layer (&inplanes, 4 * width, 2, 2, gen);
  Module *layer4 = make_layer (&inplanes, 8 * width, 2, 2, gen);
  Module *avgpool = adaptive_avg_pool2d_new ();
  Module *fc = linear_new (8 * width, num_classes, gen);

  Module *model = sequential_new ();
  model->kind = MODULE_RESNET;
  model->in_channels = 3;
  model->out_channels = num_classes;
  module_add_child (model, "conv1", conv1);
  module_add_child (model, "bn1", bn1);
  module_add_child (model, "relu", relu);
  module_add_child (model, "maxpool", maxpool);
  module_add_child (model, "layer1", layer1);
  module_add_child (model, "layer2", layer2);
  module_add_child (model, "layer3", layer3);
  module_add_child (model, "layer4", layer4);
  module_add_child (model, "avgpool", avgpool);
  module_add_child (model, "fc", fc);

  reinit_modules (model, gen);
  return model;
}

Module *
resnet18_new_with_width (int num_classes, int width, uint64_t seed)
{
  Generator gen;
  generator_init (&gen, seed);
  return resnet18_new_from_generator (num_classes, width, &gen);
}

Module *
resnet18_new (int num_classes, uint64_t seed)
{
  return resnet18_new_with_width (num_classes, 64, seed);
}

void
resnet18_shape_of_state_dict (const StateDict *sd, int *width, int *classes)
{
  const StateEntry *conv1 = state_dict_lookup (sd, "conv1.weight");
  const StateEntry *fc = state_dict_lookup (sd, "fc.weight");

  if (conv1 && conv1->ndim == 4 && conv1->shape[0] > 0 && conv1->shape[0] <= 4096)
    *width = (int) conv1->shape[0];
  if (fc && fc->ndim == 2 && fc->shape[0] > 0 && fc->shape[0] <= 1000000)
    *classes = (int) fc->shape[0];
}

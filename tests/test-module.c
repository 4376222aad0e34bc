/* test-module.c — resnet18's module tree: torchvision's names and order, parameter
 * counts, torchvision's initialisation (numbers from PyTorch), freezing, fine-tuning,
 * the graph of one forward pass (PyTorch's 134 nodes and 141 edges) with module
 * paths on its nodes, and loading a state dict. */
#include "module.h"

#include <math.h>
#include <string.h>

/* list(torchvision.models.resnet18().state_dict().keys()): its first and last 12. */
static const char *const sd_first[] = {
  "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
  "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn1.weight",
  "layer1.0.bn1.bias", "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
  "layer1.0.bn1.num_batches_tracked",
};
static const char *const sd_last[] = {
  "layer4.1.bn1.bias", "layer4.1.bn1.running_mean", "layer4.1.bn1.running_var",
  "layer4.1.bn1.num_batches_tracked", "layer4.1.conv2.weight", "layer4.1.bn2.weight",
  "layer4.1.bn2.bias", "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var",
  "layer4.1.bn2.num_batches_tracked", "fc.weight", "fc.bias",
};

#define RESNET18_PARAMS 11689512

static Module *
narrow_resnet (int num_classes, uint64_t seed)
{
  return resnet18_new_with_width (num_classes, 4, seed);
}

static const ModuleTensor *
find_tensor (GPtrArray *list, const char *name)
{
  for (guint i = 0; i < list->len; i++)
    {
      const ModuleTensor *mt = g_ptr_array_index (list, i);
      if (g_str_equal (mt->name, name))
        return mt;
    }
  return NULL;
}

static Tensor *
param (Module *m, const char *name)
{
  g_autoptr (GPtrArray) tensors = module_named_tensors (m);
  const ModuleTensor *mt = find_tensor (tensors, name);
  g_assert_nonnull (mt);
  return mt->tensor;
}

static void
assert_shape (const Tensor *t, int ndim, const int64_t *shape)
{
  g_assert_cmpint (t->ndim, ==, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (t->shape[i], ==, shape[i]);
}

static void
test_state_dict_names (void)
{
  g_autoptr (Module) model = resnet18_new (1000, 0);
  g_autoptr (StateDict) sd = module_state_dict (model);
  guint n = state_dict_size (sd);
  g_assert_cmpuint (n, ==, 122);
  for (guint i = 0; i < G_N_ELEMENTS (sd_first); i++)
    g_assert_cmpstr (state_dict_entry (sd, i)->name, ==, sd_first[i]);
  for (guint i = 0; i < G_N_ELEMENTS (sd_last); i++)
    g_assert_cmpstr (state_dict_entry (sd, n - G_N_ELEMENTS (sd_last) + i)->name, ==,
                     sd_last[i]);

  /* 20 BatchNorms: one I64 scalar num_batches_tracked each, the rest F32. */
  int n_i64 = 0;
  for (guint i = 0; i < n; i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      if (e->dtype == STATE_DTYPE_I64)
        {
          n_i64++;
          g_assert_true (g_str_has_suffix (e->name, ".num_batches_tracked"));
          g_assert_cmpint (e->ndim, ==, 0);
          g_assert_cmpint (e->i64[0], ==, 0);
        }
    }
  g_assert_cmpint (n_i64, ==, 20);
  const StateEntry *ds = state_dict_lookup (sd, "layer2.0.downsample.1.running_var");
  g_assert_nonnull (ds);
  assert_shape (ds->f32, 1, (int64_t[]){ 128 });

  /* named_parameters: 62, in the state dict's order without buffers. */
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  g_assert_cmpuint (params->len, ==, 62);
  g_autoptr (GPtrArray) tensors = module_named_tensors (model);
  g_assert_cmpuint (tensors->len, ==, 102);
  guint k = 0;
  for (guint i = 0; i < n; i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      if (e->dtype == STATE_DTYPE_I64)
        continue;
      const ModuleTensor *mt = g_ptr_array_index (tensors, k++);
      g_assert_cmpstr (mt->name, ==, e->name);
      g_assert_true (mt->is_buffer == (g_str_has_suffix (e->name, "running_mean")
                                       || g_str_has_suffix (e->name, "running_var")));
      /* The state dict holds the model's data (detached), not a copy. */
      g_assert_true (e->f32->data == mt->tensor->data);
      g_assert_null (e->f32->grad_fn);
    }
  g_assert_cmpuint (k, ==, tensors->len);
  g_assert_cmpstr (((ModuleTensor *) g_ptr_array_index (params, 61))->name, ==, "fc.bias");
  g_assert_cmpstr (param (model, "layer1.1.conv2.weight")->name, ==, "layer1.1.conv2.weight");

  /* A submodule's names are relative to it, as PyTorch's. */
  g_autoptr (GPtrArray) sub = module_named_parameters (module_find (model, "layer2.0"));
  g_assert_cmpuint (sub->len, ==, 9);
  g_assert_cmpstr (((ModuleTensor *) g_ptr_array_index (sub, 0))->name, ==, "conv1.weight");
  g_assert_cmpstr (((ModuleTensor *) g_ptr_array_index (sub, 8))->name, ==,
                   "downsample.1.bias");
}

static void
test_tree (void)
{
  g_autoptr (Module) model = resnet18_new (1000, 0);
  g_assert_cmpint (model->kind, ==, MODULE_RESNET);
  g_assert_cmpstr (module_kind_name (model->kind), ==, "ResNet");
  static const char *const children[] = { "conv1", "bn1", "relu", "maxpool", "layer1",
                                          "layer2", "layer3", "layer4", "avgpool", "fc" };
  g_assert_cmpuint (model->children->len, ==, G_N_ELEMENTS (children));
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    g_assert_cmpstr (((Module *) g_ptr_array_index (model->children, i))->name, ==,
                     children[i]);

  Module *ds = module_find (model, "layer2.0.downsample.1");
  g_assert_nonnull (ds);
  g_assert_cmpstr (module_kind_name (ds->kind), ==, "BatchNorm2d");
  g_assert_cmpstr (ds->path, ==, "layer2.0.downsample.1");
  g_assert_true (ds->parent == module_find (model, "layer2.0.downsample"));
  g_assert_cmpstr (module_kind_name (module_find (model, "layer3.1")->kind), ==, "BasicBlock");
  g_assert_cmpstr (module_kind_name (module_find (model, "layer3")->kind), ==, "Sequential");
  g_assert_null (module_find (model, "layer1.0.downsample"));
  g_assert_null (module_find (model, "layer5"));
  g_assert_true (module_find (model, "") == model);

  Module *conv = module_find (model, "layer3.0.conv1");
  g_assert_cmpint (conv->stride, ==, 2);
  g_assert_cmpint (conv->padding, ==, 1);
  g_assert_cmpint (conv->kernel, ==, 3);
  Module *pool = module_find (model, "maxpool");
  g_assert_cmpint (pool->kernel, ==, 3);
  g_assert_cmpint (pool->stride, ==, 2);
  g_assert_cmpint (pool->padding, ==, 1);
  assert_shape (param (model, "conv1.weight"), 4, (int64_t[]){ 64, 3, 7, 7 });
  assert_shape (param (model, "layer2.0.downsample.0.weight"), 4, (int64_t[]){ 128, 64, 1, 1 });
  assert_shape (param (model, "layer4.1.conv2.weight"), 4, (int64_t[]){ 512, 512, 3, 3 });
  assert_shape (param (model, "fc.weight"), 2, (int64_t[]){ 1000, 512 });

  module_train (model, false);
  g_assert_false (model->training);
  g_assert_false (module_find (model, "layer4.1.bn2")->training);
  module_train (model, true);
  g_assert_true (module_find (model, "layer4.1.bn2")->training);
}

static void
test_parameter_counts (void)
{
  g_autoptr (Module) model = resnet18_new (1000, 0);
  ParamCounts c;
  module_count_parameters (model, &c);
  g_assert_cmpint (c.total, ==, RESNET18_PARAMS);
  g_assert_cmpint (c.trainable, ==, RESNET18_PARAMS);
  g_assert_cmpint (c.frozen, ==, 0);

  /* The narrow resnet: the same 62 tensors, widths 4..32. */
  g_autoptr (Module) narrow = narrow_resnet (10, 0);
  g_autoptr (GPtrArray) params = module_named_parameters (narrow);
  g_assert_cmpuint (params->len, ==, 62);
  assert_shape (param (narrow, "fc.weight"), 2, (int64_t[]){ 10, 32 });
  assert_shape (param (narrow, "layer4.0.downsample.0.weight"), 4, (int64_t[]){ 32, 16, 1, 1 });
  module_count_parameters (narrow, &c);
  /* Convolutions and BN of widths 4, 8, 16, 32 (44,772), plus fc 32·10 + 10. */
  g_assert_cmpint (c.total, ==, 44772 + 330);
}

/* torch.manual_seed(0); m = torchvision.models.resnet18(): numbers printed by
 * PyTorch 1.13. fc is drawn by uniform_ (bit for bit); the convolutions by normal_
 * (vectorised log/sin/cos in torch: equal to a few float ulps). */
static void
test_init_matches_torch (void)
{
  g_autoptr (Module) model = resnet18_new (1000, 0);
  const float fc_w[] = { -0.020315496250987053f, 0.018677866086363792f, 0.03755621984601021f,
                         0.022368507459759712f };
  const float fc_b[] = { -0.017327722162008286f, -0.04316460341215134f,
                         0.008684394881129265f, 0.013802039436995983f };
  const double conv1_w[] = { 0.024109674617648125, 0.007528774905949831, 0.04665837436914444,
                             -0.0017881278181448579 };
  const double l4_tail[] = { -0.0012728667352348566, 0.007110757287591696,
                             -0.020014384761452675 };
  Tensor *w = param (model, "fc.weight"), *b = param (model, "fc.bias");
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpfloat (w->data[i], ==, fc_w[i]);
      g_assert_cmpfloat (b->data[i], ==, fc_b[i]);
    }
  g_assert_cmpfloat (w->data[999 * 512 + 510], ==, -0.035581476986408234f);
  g_assert_cmpfloat (w->data[999 * 512 + 511], ==, 0.03513889014720917f);

  Tensor *c1 = param (model, "conv1.weight");
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (c1->data[i], conv1_w[i], 1e-7);
  double abs_sum = 0;
  for (int64_t i = 0; i < c1->numel; i++)
    abs_sum += fabs (c1->data[i]);
  g_assert_cmpfloat_with_epsilon (abs_sum, 188.92455963260977, 1e-4);
  Tensor *l4 = param (model, "layer4.1.conv2.weight");
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (l4->data[l4->numel - 3 + i], l4_tail[i], 1e-7);

  /* kaiming_normal_(fan_out): std √(2 / (512·9)); BN 1 and 0; running stats 0 and 1. */
  TensorStats st;
  tensor_stats (l4, &st);
  g_assert_cmpfloat_with_epsilon (st.std, sqrt (2.0 / (512 * 9)), 1e-3 * st.std);
  g_assert_cmpfloat (fabs (st.mean), <, 1e-4);
  tensor_stats (param (model, "layer3.1.bn2.weight"), &st);
  g_assert_true (st.min == 1 && st.max == 1);
  tensor_stats (param (model, "layer3.1.bn2.bias"), &st);
  g_assert_true (st.min == 0 && st.max == 0);
  tensor_stats (param (model, "layer3.1.bn2.running_var"), &st);
  g_assert_true (st.min == 1 && st.max == 1);
  g_assert_false (param (model, "layer3.1.bn2.running_var")->requires_grad);

  /* Seeded: the same seed gives the same model, another seed another one. */
  g_autoptr (Module) again = resnet18_new (1000, 0);
  g_autoptr (Module) other = resnet18_new (1000, 1);
  Tensor *a = param (again, "layer2.1.conv1.weight"), *o = param (other, "layer2.1.conv1.weight");
  g_assert_true (tensor_equal_values (a, param (model, "layer2.1.conv1.weight")));
  g_assert_false (tensor_equal_values (a, o));

  /* After the model, the generator is where torch's is: model.fc = nn.Linear(512, 10)
   * right after torch.manual_seed(0); resnet18() draws these. */
  Generator gen;
  generator_init (&gen, 0);
  g_autoptr (Module) m2 = resnet18_new_from_generator (1000, 64, &gen);
  g_autoptr (Module) fc = linear_new (512, 10, &gen);
  Tensor *fw = g_array_index (fc->params, NamedTensor, 0).tensor;
  Tensor *fb = g_array_index (fc->params, NamedTensor, 1).tensor;
  g_assert_cmpfloat (fw->data[0], ==, 0.03416436165571213f);
  g_assert_cmpfloat (fw->data[1], ==, -0.02553379349410534f);
  g_assert_cmpfloat (fw->data[2], ==, 0.024930834770202637f);
  g_assert_cmpfloat (fb->data[0], ==, 0.018140219151973724f);
  g_assert_cmpfloat (fb->data[1], ==, -0.041590794920921326f);
  g_assert_cmpfloat (fb->data[2], ==, -0.020720724016427994f);
}

static void
test_finetune_counts (void)
{
  g_autoptr (Module) model = resnet18_new (1000, 0);
  Generator gen;
  generator_init (&gen, 7);
  module_set_requires_grad (model, false);
  Module *old_fc = module_ref (module_find (model, "fc"));
  module_replace_child (model, "fc", linear_new (512, 10, &gen));

  Module *fc = module_find (model, "fc");
  g_assert_true (fc != old_fc);
  g_assert_true (fc->parent == model);
  g_assert_cmpstr (fc->path, ==, "fc");
  g_assert_null (old_fc->parent);
  g_assert_cmpstr (old_fc->path, ==, "");
  module_unref (old_fc);
  /* Still the last child, under the same name. */
  g_assert_true (g_ptr_array_index (model->children, model->children->len - 1) == fc);
  assert_shape (param (model, "fc.weight"), 2, (int64_t[]){ 10, 512 });
  g_assert_cmpstr (param (model, "fc.bias")->name, ==, "fc.bias");

  ParamCounts c;
  module_count_parameters (model, &c);
  g_assert_cmpint (c.trainable, ==, 5130);
  g_assert_cmpint (c.total, ==, RESNET18_PARAMS - 513000 + 5130);
  g_assert_cmpint (c.frozen, ==, RESNET18_PARAMS - 513000);

  g_autoptr (StateDict) sd = module_state_dict (model);
  g_assert_cmpuint (state_dict_size (sd), ==, 122);
  g_assert_cmpstr (state_dict_entry (sd, 121)->name, ==, "fc.bias");
}

static void
test_freeze_prefix (void)
{
  g_autoptr (Module) model = resnet18_new_with_width (1000, 8, 0);
  ParamCounts c, all;
  module_count_parameters (model, &all);

  /* layer1: 2 blocks × (2 convs + 2 BNs × (weight, bias)). */
  g_assert_cmpint (module_set_requires_grad_prefix (model, "layer1", false), ==, 12);
  g_assert_false (param (model, "layer1.1.bn2.bias")->requires_grad);
  g_assert_true (param (model, "layer2.0.conv1.weight")->requires_grad);
  g_assert_true (param (model, "conv1.weight")->requires_grad);
  module_count_parameters (model, &c);
  int64_t layer1 = 2 * 2 * (8 * 8 * 9 + 2 * 8);
  g_assert_cmpint (c.frozen, ==, layer1);
  g_assert_cmpint (c.trainable, ==, all.total - layer1);

  /* A parameter by its full name; whole components only: "layer2.0.bn" is no module. */
  g_assert_cmpint (module_set_requires_grad_prefix (model, "conv1.weight", false), ==, 1);
  g_assert_false (param (model, "conv1.weight")->requires_grad);
  g_assert_true (param (model, "layer2.0.conv1.weight")->requires_grad);
  g_assert_cmpint (module_set_requires_grad_prefix (model, "layer2.0.bn", false), ==, 0);
  g_assert_cmpint (module_set_requires_grad_prefix (model, "layer2.0.bn1", false), ==, 2);
  g_assert_cmpint (module_set_requires_grad_prefix (model, "layer2.0.downsample", false), ==, 3);
  g_assert_cmpint (module_set_requires_grad_prefix (model, "nothing", false), ==, 0);

  /* Per module: unfreeze one block again. */
  module_set_requires_grad (module_find (model, "layer1.1"), true);
  g_assert_true (param (model, "layer1.1.bn2.bias")->requires_grad);
  g_assert_false (param (model, "layer1.0.bn2.bias")->requires_grad);

  /* "" matches nothing, as in the freeze lesson's Python (name == f or
   * name.startswith(f + ".")); the whole model is module_set_requires_grad. */
  g_assert_cmpint (module_set_requires_grad_prefix (model, "", true), ==, 0);
  module_set_requires_grad (model, true);
  module_count_parameters (model, &c);
  g_assert_cmpint (c.frozen, ==, 0);
}

/* --- The graph of one forward pass --------------------------------------------- */

typedef struct
{
  int enters, leaves, recorded;
  GPtrArray *entered;  /* paths, in order */
} Trace;

static gboolean
trace_event (const Event *ev, gpointer data)
{
  Trace *t = data;
  if (ev->kind == EVENT_MODULE_ENTER)
    {
      t->enters++;
      g_ptr_array_add (t->entered, g_strdup (ev->module));
    }
  else if (ev->kind == EVENT_MODULE_LEAVE)
    t->leaves++;
  else if (ev->kind == EVENT_NODE_RECORDED)
    t->recorded++;
  return TRUE;
}

/* loss = (model(data) - labels).sum() with torch.rand-like data and labels. */
static Tensor *
forward_loss (Module *model, int batch, int size, int classes, uint64_t seed)
{
  Generator gen;
  generator_init (&gen, seed);
  g_autoptr (Tensor) data = tensor_new_rand (4, (int64_t[]){ batch, 3, size, size }, &gen);
  g_autoptr (Tensor) labels = tensor_new_rand (2, (int64_t[]){ batch, classes }, &gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) pred = module_forward (model, data, &error);
  g_assert_no_error (error);
  assert_shape (pred, 2, (int64_t[]){ batch, classes });
  g_autoptr (Tensor) diff = tensor_sub (pred, labels, &error);
  g_assert_no_error (error);
  return tensor_sum (diff);
}

static int
count_edges (GPtrArray *nodes)
{
  int edges = 0;
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      for (int j = 0; j < n->n_next; j++)
        edges += n->next[j].node != NULL;
    }
  return edges;
}

static int
count_named (GPtrArray *nodes, const char *name, const char *module)
{
  int k = 0;
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      if (g_str_equal (node_name (n), name) && (module == NULL || g_str_equal (n->module, module)))
        k++;
    }
  return k;
}

static void
test_resnet18_graph (void)
{
  g_autoptr (Module) model = resnet18_new (1000, 0);
  Trace trace = { .entered = g_ptr_array_new_with_free_func (g_free) };
  autograd_set_observer (trace_event, &trace);
  g_autoptr (Tensor) loss = forward_loss (model, 1, 64, 1000, 0);
  autograd_set_observer (NULL, NULL);
  g_assert_cmpstr (autograd_module_current (), ==, "");

  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (loss->grad_fn);
  g_assert_cmpuint (nodes->len, ==, 134);
  g_assert_cmpint (count_edges (nodes), ==, 141);
  g_assert_cmpint (trace.recorded, ==, 134);

  static const struct { const char *name; int count; } expected[] = {
    { "AccumulateGrad", 62 }, { "ConvolutionBackward0", 20 },
    { "NativeBatchNormBackward0", 20 }, { "ReluBackward0", 17 }, { "AddBackward0", 8 },
    { "MaxPool2DWithIndicesBackward0", 1 }, { "MeanBackward1", 1 }, { "ViewBackward0", 1 },
    { "TBackward0", 1 }, { "AddmmBackward0", 1 }, { "SubBackward0", 1 }, { "SumBackward0", 1 },
  };
  int total = 0;
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpint (count_named (nodes, expected[i].name, NULL), ==, expected[i].count);
      total += expected[i].count;
    }
  g_assert_cmpint (total, ==, 134);

  /* Module paths: every conv and BN node names its module; the block's add and its
   * two ReLUs; flatten at the top of ResNet.forward; the loss outside any module. */
  g_assert_cmpint (count_named (nodes, "ConvolutionBackward0", "layer1.0.conv1"), ==, 1);
  g_assert_cmpint (count_named (nodes, "ConvolutionBackward0", "layer3.0.downsample.0"), ==, 1);
  g_assert_cmpint (count_named (nodes, "NativeBatchNormBackward0", "layer4.1.bn2"), ==, 1);
  g_assert_cmpint (count_named (nodes, "ReluBackward0", "layer2.1.relu"), ==, 2);
  g_assert_cmpint (count_named (nodes, "ReluBackward0", "relu"), ==, 1);
  g_assert_cmpint (count_named (nodes, "AddBackward0", "layer2.1"), ==, 1);
  g_assert_cmpint (count_named (nodes, "MaxPool2DWithIndicesBackward0", "maxpool"), ==, 1);
  g_assert_cmpint (count_named (nodes, "MeanBackward1", "avgpool"), ==, 1);
  g_assert_cmpint (count_named (nodes, "ViewBackward0", ""), ==, 1);
  g_assert_cmpint (count_named (nodes, "AddmmBackward0", "fc"), ==, 1);
  g_assert_cmpint (count_named (nodes, "TBackward0", "fc"), ==, 1);
  g_assert_cmpint (count_named (nodes, "SubBackward0", ""), ==, 1);
  g_assert_cmpint (count_named (nodes, "AccumulateGrad", "layer1.0.conv1"), ==, 1);
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      if (n->op == OP_CONV2D)
        {
          /* (x, weight, None): bias=False; the weight's AccumulateGrad is its module's. */
          g_assert_cmpint (n->n_next, ==, 3);
          g_assert_null (n->next[2].node);
          Node *acc = n->next[1].node;
          g_assert_cmpint (acc->op, ==, OP_ACCUMULATE_GRAD);
          g_autofree char *wname = g_strconcat (n->module, ".weight", NULL);
          g_assert_cmpstr (acc->variable->name, ==, wname);
          g_assert_cmpstr (acc->module, ==, n->module);
          g_assert_cmpint (module_find (model, n->module)->kind, ==, MODULE_CONV2D);
        }
      if (n->op == OP_BATCH_NORM)
        g_assert_cmpint (module_find (model, n->module)->kind, ==, MODULE_BATCH_NORM2D);
    }
  /* The first conv's input is the data: a None edge. */
  g_assert_cmpint (count_named (nodes, "ConvolutionBackward0", "conv1"), ==, 1);

  /* One enter and one leave per module call: ResNet, its 4 stem modules, 4 layers,
   * 8 blocks × (5 modules + the second relu + itself), 3 downsamples × 3, avgpool, fc. */
  g_assert_cmpint (trace.enters, ==, 1 + 4 + 4 + 8 * 7 + 3 * 3 + 2);
  g_assert_cmpint (trace.leaves, ==, trace.enters);
  g_assert_cmpstr (g_ptr_array_index (trace.entered, 0), ==, "");
  g_assert_cmpstr (g_ptr_array_index (trace.entered, 1), ==, "conv1");
  g_assert_cmpstr (g_ptr_array_index (trace.entered, trace.enters - 1), ==, "fc");
  g_ptr_array_unref (trace.entered);

  /* BatchNorm in train mode counted the batch. */
  g_assert_cmpint (module_find (model, "layer3.0.downsample.1")->num_batches_tracked, ==, 1);

  /* backward fills every parameter's .grad, with its shape. */
  g_autoptr (GError) error = NULL;
  g_assert_true (tensor_backward (loss, NULL, false, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  for (guint i = 0; i < params->len; i++)
    {
      Tensor *p = ((ModuleTensor *) g_ptr_array_index (params, i))->tensor;
      g_assert_nonnull (p->grad);
      g_assert_true (tensor_same_shape (p->grad, p));
      g_assert_true (tensor_all_finite (p->grad));
    }
  /* d loss / d fc.bias = 1 for every class (batch 1). */
  TensorStats st;
  tensor_stats (param (model, "fc.bias")->grad, &st);
  g_assert_true (st.min == 1 && st.max == 1);
}

static void
test_finetune_graph (void)
{
  g_autoptr (Module) model = resnet18_new_with_width (1000, 16, 0);
  Generator gen;
  generator_init (&gen, 3);
  module_set_requires_grad (model, false);
  module_replace_child (model, "fc", linear_new (128, 10, &gen));
  g_autoptr (StateDict) before = module_state_dict (model);
  Tensor *rv = param (model, "layer1.0.bn1.running_var");
  g_autoptr (Tensor) rv0 = tensor_copy (rv);

  g_autoptr (Tensor) loss = forward_loss (model, 1, 64, 10, 1);
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (loss->grad_fn);
  g_assert_cmpuint (nodes->len, ==, 6);
  g_assert_cmpint (count_edges (nodes), ==, 5);

  Node *sum = loss->grad_fn;
  g_assert_cmpstr (node_name (sum), ==, "SumBackward0");
  Node *sub = sum->next[0].node;
  g_assert_cmpstr (node_name (sub), ==, "SubBackward0");
  g_assert_null (sub->next[1].node);               /* labels */
  Node *addmm = sub->next[0].node;
  g_assert_cmpstr (node_name (addmm), ==, "AddmmBackward0");
  g_assert_cmpint (addmm->n_next, ==, 3);
  g_assert_null (addmm->next[1].node);             /* the frozen features */
  g_assert_cmpstr (node_name (addmm->next[0].node), ==, "AccumulateGrad");
  g_assert_cmpstr (addmm->next[0].node->variable->name, ==, "fc.bias");
  Node *t = addmm->next[2].node;
  g_assert_cmpstr (node_name (t), ==, "TBackward0");
  g_assert_cmpstr (t->next[0].node->variable->name, ==, "fc.weight");

  g_autoptr (GError) error = NULL;
  g_assert_true (tensor_backward (loss, NULL, false, &error));
  g_assert_no_error (error);
  g_assert_nonnull (param (model, "fc.weight")->grad);
  g_assert_nonnull (param (model, "fc.bias")->grad);
  g_assert_null (param (model, "conv1.weight")->grad);
  g_assert_null (param (model, "layer4.1.bn2.weight")->grad);
  /* Frozen BatchNorms still update their running statistics in train mode. */
  g_assert_false (tensor_equal_values (rv, rv0));
  g_assert_cmpint (module_find (model, "bn1")->num_batches_tracked, ==, 1);
}

static void
test_eval_mode (void)
{
  g_autoptr (Module) model = narrow_resnet (10, 0);
  module_train (model, false);
  Tensor *rm = param (model, "layer2.0.bn2.running_mean");
  g_autoptr (Tensor) rm0 = tensor_copy (rm);
  g_autoptr (Tensor) loss = forward_loss (model, 2, 32, 10, 0);
  g_assert_true (tensor_equal_values (rm, rm0));
  g_assert_cmpint (module_find (model, "layer2.0.bn2")->num_batches_tracked, ==, 0);
  /* Same graph shape as in training (batch norm still records its node). */
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (loss->grad_fn);
  g_assert_cmpuint (nodes->len, ==, 134);
}

static void
test_forward_errors (void)
{
  g_autoptr (Module) model = narrow_resnet (10, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) x = tensor_new_zeros (4, (int64_t[]){ 1, 4, 32, 32 });
  g_assert_null (module_forward (model, x, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "(1, 4, 32, 32)"));
  g_assert_cmpstr (autograd_module_current (), ==, "");
  g_clear_error (&error);

  /* A Linear fed the wrong width fails with a message naming it. */
  Module *fc = module_find (model, "fc");
  g_autoptr (Tensor) v = tensor_new_zeros (2, (int64_t[]){ 1, 7 });
  g_assert_null (module_forward (fc, v, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "fc"));
  g_assert_cmpstr (autograd_module_current (), ==, "");
}

/* --- Loading a state dict ---------------------------------------------------------- */

/* A copy of sd's entries, without `skip` and with `replace` swapped in for its name. */
static StateDict *
state_dict_edit (const StateDict *sd, const char *skip, const char *replace, Tensor *with)
{
  StateDict *out = state_dict_new ();
  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      if (skip && g_str_equal (e->name, skip))
        continue;
      if (replace && g_str_equal (e->name, replace))
        state_dict_add_f32 (out, e->name, with);
      else if (e->dtype == STATE_DTYPE_F32)
        {
          g_autoptr (Tensor) copy = tensor_copy (e->f32);
          state_dict_add_f32 (out, e->name, copy);
        }
      else
        state_dict_add_i64 (out, e->name, e->ndim, e->shape, e->i64);
    }
  return out;
}

static gboolean
models_equal (Module *a, Module *b)
{
  g_autoptr (GPtrArray) ta = module_named_tensors (a);
  g_autoptr (GPtrArray) tb = module_named_tensors (b);
  if (ta->len != tb->len)
    return FALSE;
  for (guint i = 0; i < ta->len; i++)
    if (!tensor_equal_values (((ModuleTensor *) g_ptr_array_index (ta, i))->tensor,
                              ((ModuleTensor *) g_ptr_array_index (tb, i))->tensor))
      return FALSE;
  return TRUE;
}

static void
test_load_state_dict (void)
{
  g_autoptr (Module) src = narrow_resnet (10, 1);
  g_autoptr (Module) dst = narrow_resnet (10, 2);
  g_autoptr (Module) dst0 = narrow_resnet (10, 2);  /* dst as built */
  g_autoptr (GError) error = NULL;
  /* Make src's running stats and counters non-trivial. */
  g_autoptr (Tensor) loss = forward_loss (src, 2, 32, 10, 5);
  g_assert_cmpint (module_find (src, "bn1")->num_batches_tracked, ==, 1);
  g_assert_false (models_equal (src, dst));

  g_autoptr (StateDict) sd = module_state_dict (src);

  /* Missing: an error naming the tensor; nothing copied. */
  g_autoptr (StateDict) missing = state_dict_edit (sd, "layer3.1.bn2.running_var", NULL, NULL);
  g_assert_false (module_load_state_dict (dst, missing, NULL, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "layer3.1.bn2.running_var"));
  g_assert_true (models_equal (dst, dst0));
  g_clear_error (&error);

  /* Mis-shaped (fc for 11 classes), late in the order: still nothing copied. */
  g_autoptr (Tensor) wrong = tensor_new_zeros (2, (int64_t[]){ 11, 32 });
  g_autoptr (StateDict) bad = state_dict_edit (sd, NULL, "fc.weight", wrong);
  g_assert_false (module_load_state_dict (dst, bad, NULL, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "fc.weight"));
  g_assert_nonnull (strstr (error->message, "(11, 32)"));
  g_assert_nonnull (strstr (error->message, "(10, 32)"));
  g_assert_true (models_equal (dst, dst0));
  g_assert_cmpint (module_find (dst, "bn1")->num_batches_tracked, ==, 0);
  g_clear_error (&error);

  /* Extra tensors (a file that also carries input and labels) are listed. */
  g_autoptr (StateDict) extra = state_dict_edit (sd, NULL, NULL, NULL);
  g_autoptr (Tensor) input = tensor_new_zeros (4, (int64_t[]){ 1, 3, 8, 8 });
  state_dict_add_f32 (extra, "input", input);
  state_dict_add_f32 (extra, "labels", wrong);
  g_autoptr (GPtrArray) unexpected = NULL;
  Tensor *conv1 = param (dst, "conv1.weight");
  g_assert_true (module_load_state_dict (dst, extra, &unexpected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (unexpected->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (unexpected, 0), ==, "input");
  g_assert_cmpstr (g_ptr_array_index (unexpected, 1), ==, "labels");
  g_assert_true (models_equal (dst, src));
  g_assert_true (param (dst, "conv1.weight") == conv1);  /* copied in place */
  g_assert_cmpint (module_find (dst, "layer4.1.bn2")->num_batches_tracked, ==, 1);

  /* torchvision's published checkpoints predate num_batches_tracked: it loads as 0. */
  g_autoptr (StateDict) old = state_dict_edit (sd, "bn1.num_batches_tracked", NULL, NULL);
  g_assert_true (module_load_state_dict (dst, old, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (module_find (dst, "bn1")->num_batches_tracked, ==, 0);
  g_assert_cmpint (module_find (dst, "layer1.0.bn1")->num_batches_tracked, ==, 1);

  /* An I64 tensor where a float one belongs is an error naming it. */
  g_autoptr (StateDict) ints = state_dict_new ();
  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      if (g_str_equal (e->name, "bn1.bias"))
        state_dict_add_i64 (ints, e->name, 1, (int64_t[]){ 4 }, (int64_t[]){ 0, 0, 0, 0 });
      else if (e->dtype == STATE_DTYPE_F32)
        state_dict_add_f32 (ints, e->name, e->f32);
    }
  g_assert_false (module_load_state_dict (dst, ints, NULL, &error));
  g_assert_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_DTYPE);
  g_assert_nonnull (strstr (error->message, "bn1.bias"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/module/state-dict-names", test_state_dict_names);
  g_test_add_func ("/engine/module/tree", test_tree);
  g_test_add_func ("/engine/module/parameter-counts", test_parameter_counts);
  g_test_add_func ("/engine/module/init-matches-torch", test_init_matches_torch);
  g_test_add_func ("/engine/module/finetune-counts", test_finetune_counts);
  g_test_add_func ("/engine/module/freeze-prefix", test_freeze_prefix);
  g_test_add_func ("/engine/module/resnet18-graph", test_resnet18_graph);
  g_test_add_func ("/engine/module/finetune-graph", test_finetune_graph);
  g_test_add_func ("/engine/module/eval-mode", test_eval_mode);
  g_test_add_func ("/engine/module/forward-errors", test_forward_errors);
  g_test_add_func ("/engine/module/load-state-dict", test_load_state_dict);
  return g_test_run ();
}

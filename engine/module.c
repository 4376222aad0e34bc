/* module.c — nn.Module: the tree, names, forward by kind, requires_grad, counts,
 * and the state dict.
 *
 * A module's parameters and buffers are leaves it owns. Their full names are
 * torchvision's, built from the module path: for each module, its own parameters,
 * then its own buffers (then, in the state dict, num_batches_tracked), then its
 * children in registration order — exactly nn.Module.named_parameters() and
 * state_dict().
 */
#include "module.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

static const char *const kind_names[] = {
  [MODULE_SEQUENTIAL]          = "Sequential",
  [MODULE_CONV2D]              = "Conv2d",
  [MODULE_BATCH_NORM2D]        = "BatchNorm2d",
  [MODULE_RELU]                = "ReLU",
  [MODULE_MAX_POOL2D]          = "MaxPool2d",
  [MODULE_ADAPTIVE_AVG_POOL2D] = "AdaptiveAvgPool2d",
  [MODULE_LINEAR]              = "Linear",
  [MODULE_BASIC_BLOCK]         = "BasicBlock",
  [MODULE_RESNET]              = "ResNet",
  [MODULE_PROGRAM]             = "Module",
};
_Static_assert (G_N_ELEMENTS (kind_names) == MODULE_KIND_COUNT,
                "kind_names needs one row per ModuleKind");

const char *
module_kind_name (ModuleKind kind)
{
  g_return_val_if_fail (kind >= 0 && kind < MODULE_KIND_COUNT, NULL);
  return kind_names[kind];
}

const char *
module_type_name (const Module *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->type_name ? m->type_name : module_kind_name (m->kind);
}

/* --- Lifetime ------------------------------------------------------------- */

static void
named_tensor_clear (gpointer p)
{
  NamedTensor *nt = p;
  g_clear_pointer (&nt->name, g_free);
  g_clear_pointer (&nt->tensor, tensor_unref);
}

static Module *
module_new (ModuleKind kind)
{
  Module *m = g_new0 (Module, 1);
  m->ref_count = 1;
  m->kind = kind;
  m->name = g_strdup ("");
  m->path = g_strdup ("");
  m->children = g_ptr_array_new ();
  m->params = g_array_new (FALSE, TRUE, sizeof (NamedTensor));
  g_array_set_clear_func (m->params, named_tensor_clear);
  m->buffers = g_array_new (FALSE, TRUE, sizeof (NamedTensor));
  g_array_set_clear_func (m->buffers, named_tensor_clear);
  m->training = true;
  return m;
}

Module *
module_ref (Module *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_atomic_int_inc (&m->ref_count);
  return m;
}

void
module_unref (Module *m)
{
  if (m == NULL || !g_atomic_int_dec_and_test (&m->ref_count))
    return;
  for (guint i = 0; i < m->children->len; i++)
    {
      Module *c = g_ptr_array_index (m->children, i);
      c->parent = NULL;  /* it may outlive us */
      module_unref (c);
    }
  g_ptr_array_unref (m->children);
  g_array_unref (m->params);
  g_array_unref (m->buffers);
  g_free (m->name);
  g_free (m->path);
  g_free (m->type_name);
  g_free (m);
}

/* "layer1.0" + "conv1" → "layer1.0.conv1"; the root's children are their names. */
static char *
join_path (const char *path, const char *name)
{
  return *path ? g_strconcat (path, ".", name, NULL) : g_strdup (name);
}

/* Recomputes the paths below m (after m got a new parent or name), and names the
 * parameter tensors by their full names, for pictures and messages. */
static void
module_repath (Module *m)
{
  g_free (m->path);
  m->path = m->parent ? join_path (m->parent->path, m->name) : g_strdup ("");
  GArray *lists[2] = { m->params, m->buffers };
  for (int l = 0; l < 2; l++)
    for (guint i = 0; i < lists[l]->len; i++)
      {
        NamedTensor *nt = &g_array_index (lists[l], NamedTensor, i);
        g_autofree char *full = join_path (m->path, nt->name);
        tensor_set_name (nt->tensor, full);
      }
  for (guint i = 0; i < m->children->len; i++)
    module_repath (g_ptr_array_index (m->children, i));
}

void
module_add_child (Module *m, const char *name, Module *child)
{
  g_return_if_fail (m != NULL && name != NULL && child != NULL);
  g_return_if_fail (child->parent == NULL);
  g_return_if_fail (module_get_child (m, name) == NULL);
  g_free (child->name);
  child->name = g_strdup (name);
  child->parent = m;
  g_ptr_array_add (m->children, child);
  module_repath (child);
}

void
module_replace_child (Module *m, const char *name, Module *child)
{
  g_return_if_fail (m != NULL && name != NULL && child != NULL);
  g_return_if_fail (child->parent == NULL);
  for (guint i = 0; i < m->children->len; i++)
    {
      Module *old = g_ptr_array_index (m->children, i);
      if (!g_str_equal (old->name, name))
        continue;
      g_free (child->name);
      child->name = g_strdup (name);
      child->parent = m;
      m->children->pdata[i] = child;
      module_repath (child);
      /* The old child may live on elsewhere: as a tree of its own. */
      old->parent = NULL;
      module_repath (old);
      module_unref (old);
      return;
    }
  g_critical ("module_replace_child: “%s” has no child “%s”", m->path, name);
  module_unref (child);
}

bool
module_remove_child (Module *m, const char *name)
{
  g_return_val_if_fail (m != NULL && name != NULL, false);
  for (guint i = 0; i < m->children->len; i++)
    {
      Module *old = g_ptr_array_index (m->children, i);
      if (!g_str_equal (old->name, name))
        continue;
      g_ptr_array_remove_index (m->children, i);
      old->parent = NULL;
      module_repath (old);
      module_unref (old);
      return true;
    }
  return false;
}

Module *
module_get_child (Module *m, const char *name)
{
  g_return_val_if_fail (m != NULL && name != NULL, NULL);
  for (guint i = 0; i < m->children->len; i++)
    {
      Module *c = g_ptr_array_index (m->children, i);
      if (g_str_equal (c->name, name))
        return c;
    }
  return NULL;
}

Module *
module_find (Module *m, const char *path)
{
  g_return_val_if_fail (m != NULL && path != NULL, NULL);
  if (*path == '\0')
    return m;
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  for (int i = 0; parts[i] && m; i++)
    m = module_get_child (m, parts[i]);
  return m;
}

static void
add_param (Module *m, GArray *list, const char *name, Tensor *t)
{
  NamedTensor nt = { g_strdup (name), t };
  g_array_append_val (list, nt);
  g_autofree char *full = join_path (m->path, name);
  tensor_set_name (t, full);
}

static Tensor *
own_tensor (GArray *list, const char *name)
{
  for (guint i = 0; i < list->len; i++)
    {
      NamedTensor *nt = &g_array_index (list, NamedTensor, i);
      if (g_str_equal (nt->name, name))
        return nt->tensor;
    }
  return NULL;
}

#define PARAM(m, name) own_tensor ((m)->params, (name))
#define BUFFER(m, name) own_tensor ((m)->buffers, (name))

/* --- Builders -------------------------------------------------------------- */

/* nn.init.kaiming_uniform_(w, a=√5) and the bias's U(±1/√fan_in), bounds computed
 * in double as torch.nn.init does, then drawn in float. */
static void
init_default (Tensor *weight, Tensor *bias, int64_t fan_in, Generator *gen)
{
  double a = sqrt (5.0);
  double gain = sqrt (2.0 / (1 + a * a));
  double std = gain / sqrt ((double) fan_in);
  double bound = sqrt (3.0) * std;
  tensor_fill_uniform (weight, gen, -bound, bound);
  if (bias)
    {
      double b = fan_in > 0 ? 1 / sqrt ((double) fan_in) : 0;
      tensor_fill_uniform (bias, gen, -b, b);
    }
}

static Tensor *
new_param (int ndim, const int64_t *shape)
{
  Tensor *t = tensor_new_zeros (ndim, shape);
  t->requires_grad = true;
  return t;
}

Module *
conv2d_new (int in_ch, int out_ch, int kernel, int stride, int padding, bool bias,
            Generator *gen)
{
  g_return_val_if_fail (in_ch > 0 && out_ch > 0 && kernel > 0 && stride > 0 && padding >= 0,
                        NULL);
  g_return_val_if_fail (gen != NULL, NULL);
  Module *m = module_new (MODULE_CONV2D);
  m->in_channels = in_ch;
  m->out_channels = out_ch;
  m->kernel = kernel;
  m->stride = stride;
  m->padding = padding;
  Tensor *w = new_param (4, (int64_t[]){ out_ch, in_ch, kernel, kernel });  /* (O, C, kh, kw) */
  Tensor *b = bias ? new_param (1, (int64_t[]){ out_ch }) : NULL;           /* (O) */
  init_default (w, b, (int64_t) in_ch * kernel * kernel, gen);
  add_param (m, m->params, "weight", w);
  if (b)
    add_param (m, m->params, "bias", b);
  return m;
}

Module *
batch_norm2d_new (int channels)
{
  g_return_val_if_fail (channels > 0, NULL);
  Module *m = module_new (MODULE_BATCH_NORM2D);
  m->in_channels = m->out_channels = channels;
  m->eps = 1e-5f;
  m->momentum = 0.1f;
  int64_t c[1] = { channels };
  Tensor *w = new_param (1, c);
  for (int i = 0; i < channels; i++)
    w->data[i] = 1;
  add_param (m, m->params, "weight", w);
  add_param (m, m->params, "bias", new_param (1, c));
  add_param (m, m->buffers, "running_mean", tensor_new_zeros (1, c));
  add_param (m, m->buffers, "running_var", tensor_new_ones (1, c));
  m->num_batches_tracked = 0;
  return m;
}

Module *
linear_new (int in_features, int out_features, Generator *gen)
{
  g_return_val_if_fail (in_features > 0 && out_features > 0 && gen != NULL, NULL);
  Module *m = module_new (MODULE_LINEAR);
  m->in_channels = in_features;
  m->out_channels = out_features;
  Tensor *w = new_param (2, (int64_t[]){ out_features, in_features });  /* (out, in) */
  Tensor *b = new_param (1, (int64_t[]){ out_features });               /* (out) */
  init_default (w, b, in_features, gen);
  add_param (m, m->params, "weight", w);
  add_param (m, m->params, "bias", b);
  return m;
}

Module *
relu_new (void)
{
  return module_new (MODULE_RELU);
}

Module *
max_pool2d_new (int kernel, int stride, int padding)
{
  g_return_val_if_fail (kernel > 0 && stride > 0 && padding >= 0, NULL);
  Module *m = module_new (MODULE_MAX_POOL2D);
  m->kernel = kernel;
  m->stride = stride;
  m->padding = padding;
  return m;
}

Module *
adaptive_avg_pool2d_new (void)
{
  return module_new (MODULE_ADAPTIVE_AVG_POOL2D);
}

Module *
sequential_new (void)
{
  return module_new (MODULE_SEQUENTIAL);
}

Module *
module_program_new (const char *type_name)
{
  g_return_val_if_fail (type_name != NULL, NULL);
  Module *m = module_new (MODULE_PROGRAM);
  m->type_name = g_strdup (type_name);
  return m;
}

/* Replaces the tensor named name in list in its place (t NULL: removes it), or
 * appends t. */
static void
set_named (Module *m, GArray *list, const char *name, Tensor *t)
{
  for (guint i = 0; i < list->len; i++)
    {
      NamedTensor *nt = &g_array_index (list, NamedTensor, i);
      if (!g_str_equal (nt->name, name))
        continue;
      if (t == NULL)
        {
          g_array_remove_index (list, i);
          return;
        }
      tensor_ref (t);
      tensor_unref (nt->tensor);
      nt->tensor = t;
      g_autofree char *full = join_path (m->path, name);
      tensor_set_name (t, full);
      return;
    }
  if (t != NULL)
    add_param (m, list, name, tensor_ref (t));
}

void
module_set_param (Module *m, const char *name, Tensor *t)
{
  g_return_if_fail (m != NULL && name != NULL);
  g_return_if_fail (t != NULL || m->kind == MODULE_PROGRAM);   /* a layer's forward needs it */
  set_named (m, m->params, name, t);
}

void
module_set_buffer (Module *m, const char *name, Tensor *t)
{
  g_return_if_fail (m != NULL && name != NULL);
  g_return_if_fail (t != NULL || m->kind == MODULE_PROGRAM);
  set_named (m, m->buffers, name, t);
}

/* --- Forward ---------------------------------------------------------------- */

static Tensor *
child_forward (Module *m, const char *name, Tensor *x, GError **error)
{
  Module *c = module_get_child (m, name);
  if (c == NULL)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   /* Translators: a module's class (BasicBlock), its path (layer1.0) and the
                    * name of the child it lacks (conv1). */
                   _("%s “%s” has no child “%s”"), module_kind_name (m->kind), m->path, name);
      return NULL;
    }
  return module_forward (c, x, error);
}

/* Runs children named names[0..n) in turn on x (a borrowed reference). */
static Tensor *
chain_forward (Module *m, const char *const *names, int n, Tensor *x, GError **error)
{
  Tensor *cur = tensor_ref (x);
  for (int i = 0; i < n && cur; i++)
    {
      Tensor *next = child_forward (m, names[i], cur, error);
      tensor_unref (cur);
      cur = next;
    }
  return cur;
}

/* BasicBlock.forward: out = relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), with
 * identity = downsample(x) when the block changes shape. The same ReLU module runs
 * twice, as in torchvision. */
static Tensor *
basic_block_forward (Module *m, Tensor *x, GError **error)
{
  static const char *const main_path[] = { "conv1", "bn1", "relu", "conv2", "bn2" };
  g_autoptr (Tensor) out = chain_forward (m, main_path, G_N_ELEMENTS (main_path), x, error);
  if (out == NULL)
    return NULL;
  g_autoptr (Tensor) identity = NULL;
  if (module_get_child (m, "downsample"))
    identity = child_forward (m, "downsample", x, error);
  else
    identity = tensor_ref (x);
  if (identity == NULL)
    return NULL;
  g_autoptr (Tensor) sum = tensor_add (out, identity, error);   /* out += identity */
  if (sum == NULL)
    return NULL;
  return child_forward (m, "relu", sum, error);
}

/* ResNet._forward_impl: conv1 bn1 relu maxpool layer1..4 avgpool, flatten, fc. */
static Tensor *
resnet_forward (Module *m, Tensor *x, GError **error)
{
  static const char *const body[] = { "conv1", "bn1", "relu", "maxpool", "layer1",
                                      "layer2", "layer3", "layer4", "avgpool" };
  if (x->ndim != 4 || x->shape[1] != 3)
    {
      g_autofree char *s = tensor_shape_string (x);
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   _("ResNet: input of shape %s, expected (N, 3, H, W)"), s);
      return NULL;
    }
  g_autoptr (Tensor) features = chain_forward (m, body, G_N_ELEMENTS (body), x, error);
  if (features == NULL)
    return NULL;
  g_autoptr (Tensor) flat = tensor_flatten (features, 1);      /* (N, C) */
  return child_forward (m, "fc", flat, error);
}

static Tensor *
module_forward_kind (Module *m, Tensor *x, GError **error)
{
  switch (m->kind)
    {
    case MODULE_SEQUENTIAL:
      {
        Tensor *cur = tensor_ref (x);
        for (guint i = 0; i < m->children->len && cur; i++)
          {
            Tensor *next = module_forward (g_ptr_array_index (m->children, i), cur, error);
            tensor_unref (cur);
            cur = next;
          }
        return cur;
      }
    case MODULE_CONV2D:
      return tensor_conv2d (x, PARAM (m, "weight"), PARAM (m, "bias"), m->stride, m->padding,
                            error);
    case MODULE_BATCH_NORM2D:
      return tensor_batch_norm (x, PARAM (m, "weight"), PARAM (m, "bias"),
                                BUFFER (m, "running_mean"), BUFFER (m, "running_var"),
                                &m->num_batches_tracked, m->training, m->momentum, m->eps,
                                error);
    case MODULE_RELU:
      return tensor_relu (x);
    case MODULE_MAX_POOL2D:
      return tensor_max_pool2d (x, m->kernel, m->stride, m->padding, error);
    case MODULE_ADAPTIVE_AVG_POOL2D:
      return tensor_adaptive_avg_pool2d_1x1 (x, error);
    case MODULE_LINEAR:
      if (x->ndim != 2 || x->shape[1] != m->in_channels)
        {
          g_autofree char *s = tensor_shape_string (x);
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       _("Linear “%s”: input of shape %s, expected (N, %d)"), m->path, s,
                       m->in_channels);
          return NULL;
        }
      return tensor_linear (x, PARAM (m, "weight"), PARAM (m, "bias"), error);
    case MODULE_BASIC_BLOCK:
      return basic_block_forward (m, x, error);
    case MODULE_RESNET:
      return resnet_forward (m, x, error);
    case MODULE_PROGRAM:
      /* torch.nn never asks: a program's module runs its own forward in Python. */
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   _("%s “%s”: its forward is the program’s, not the engine’s"), m->type_name,
                   m->path);
      return NULL;
    case MODULE_KIND_COUNT:
      break;
    }
  g_assert_not_reached ();
}

Tensor *
module_forward (Module *m, Tensor *x, GError **error)
{
  g_return_val_if_fail (m != NULL && x != NULL, NULL);
  autograd_module_push (m->path);
  Tensor *out = module_forward_kind (m, x, error);
  autograd_module_pop ();
  return out;
}

/* --- Names -------------------------------------------------------------------- */

static void
module_tensor_free (gpointer p)
{
  ModuleTensor *mt = p;
  g_free (mt->name);
  g_free (mt);
}

static void
collect_tensors (Module *m, GPtrArray *out, bool with_buffers)
{
  GArray *lists[2] = { m->params, m->buffers };
  for (int l = 0; l < (with_buffers ? 2 : 1); l++)
    for (guint i = 0; i < lists[l]->len; i++)
      {
        NamedTensor *nt = &g_array_index (lists[l], NamedTensor, i);
        ModuleTensor *mt = g_new0 (ModuleTensor, 1);
        mt->name = join_path (m->path, nt->name);
        mt->tensor = nt->tensor;
        mt->module = m;
        mt->is_buffer = l == 1;
        g_ptr_array_add (out, mt);
      }
  for (guint i = 0; i < m->children->len; i++)
    collect_tensors (g_ptr_array_index (m->children, i), out, with_buffers);
}

/* Names are relative to m, as PyTorch's are for a submodule's named_parameters(). */
static GPtrArray *
named_relative (Module *m, bool with_buffers)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (module_tensor_free);
  collect_tensors (m, out, with_buffers);
  if (*m->path)
    {
      size_t skip = strlen (m->path) + 1;
      for (guint i = 0; i < out->len; i++)
        {
          ModuleTensor *mt = g_ptr_array_index (out, i);
          char *rel = g_strdup (mt->name + skip);
          g_free (mt->name);
          mt->name = rel;
        }
    }
  return out;
}

GPtrArray *
module_named_parameters (Module *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return named_relative (m, false);
}

GPtrArray *
module_named_tensors (Module *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return named_relative (m, true);
}

/* --- requires_grad, train/eval, grads, counts ------------------------------------ */

void
module_set_requires_grad (Module *m, bool requires_grad)
{
  g_return_if_fail (m != NULL);
  for (guint i = 0; i < m->params->len; i++)
    g_array_index (m->params, NamedTensor, i).tensor->requires_grad = requires_grad;
  for (guint i = 0; i < m->children->len; i++)
    module_set_requires_grad (g_ptr_array_index (m->children, i), requires_grad);
}

static bool
name_has_prefix (const char *name, const char *prefix)
{
  /* Python's name == f or name.startswith(f + "."): "" matches nothing. */
  size_t n = strlen (prefix);
  return n > 0 && strncmp (name, prefix, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

int
module_set_requires_grad_prefix (Module *m, const char *prefix, bool requires_grad)
{
  g_return_val_if_fail (m != NULL && prefix != NULL, 0);
  g_autoptr (GPtrArray) params = module_named_parameters (m);
  int matched = 0;
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      if (name_has_prefix (mt->name, prefix))
        {
          mt->tensor->requires_grad = requires_grad;
          matched++;
        }
    }
  return matched;
}

void
module_train (Module *m, bool training)
{
  g_return_if_fail (m != NULL);
  m->training = training;
  for (guint i = 0; i < m->children->len; i++)
    module_train (g_ptr_array_index (m->children, i), training);
}

static void
zero_grad_below (Module *m)
{
  for (guint i = 0; i < m->params->len; i++)
    tensor_zero_grad (g_array_index (m->params, NamedTensor, i).tensor);
  for (guint i = 0; i < m->children->len; i++)
    zero_grad_below (g_ptr_array_index (m->children, i));
}

void
module_zero_grad (Module *m)
{
  g_return_if_fail (m != NULL);
  zero_grad_below (m);
  autograd_emit (&(Event){ .kind = EVENT_GRADS_ZEROED, .module = m->path,
                           .text = "model.zero_grad()" });
}

void
module_count_parameters (Module *m, ParamCounts *counts)
{
  g_return_if_fail (m != NULL && counts != NULL);
  memset (counts, 0, sizeof *counts);
  g_autoptr (GPtrArray) params = module_named_parameters (m);
  for (guint i = 0; i < params->len; i++)
    {
      Tensor *t = ((ModuleTensor *) g_ptr_array_index (params, i))->tensor;
      counts->total += t->numel;
      if (t->requires_grad)
        counts->trainable += t->numel;
      else
        counts->frozen += t->numel;
    }
}

/* --- State dict ---------------------------------------------------------------- */

static void
state_dict_fill (Module *m, StateDict *sd, const char *root_path)
{
  size_t skip = *root_path ? strlen (root_path) + 1 : 0;
  GArray *lists[2] = { m->params, m->buffers };
  for (int l = 0; l < 2; l++)
    for (guint i = 0; i < lists[l]->len; i++)
      {
        NamedTensor *nt = &g_array_index (lists[l], NamedTensor, i);
        g_autofree char *full = join_path (m->path, nt->name);
        /* A detached alias, as PyTorch's state_dict holds: same data, no grad. */
        g_autoptr (Tensor) alias = tensor_detach (nt->tensor);
        state_dict_add_f32 (sd, full + skip, alias);
      }
  if (m->kind == MODULE_BATCH_NORM2D)
    {
      g_autofree char *full = join_path (m->path, "num_batches_tracked");
      state_dict_add_i64 (sd, full + skip, 0, NULL, &m->num_batches_tracked);
    }
  for (guint i = 0; i < m->children->len; i++)
    state_dict_fill (g_ptr_array_index (m->children, i), sd, root_path);
}

StateDict *
module_state_dict (Module *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  StateDict *sd = state_dict_new ();
  state_dict_fill (m, sd, m->path);
  return sd;
}

static void
collect_batch_norms (Module *m, GPtrArray *out)
{
  if (m->kind == MODULE_BATCH_NORM2D)
    g_ptr_array_add (out, m);
  for (guint i = 0; i < m->children->len; i++)
    collect_batch_norms (g_ptr_array_index (m->children, i), out);
}

static const char *
dtype_name (StateDtype dtype)
{
  return dtype == STATE_DTYPE_I64 ? "I64" : "F32";
}

static gboolean
entry_same_shape (const StateEntry *e, const Tensor *t)
{
  if (e->ndim != t->ndim)
    return FALSE;
  for (int i = 0; i < t->ndim; i++)
    if (e->shape[i] != t->shape[i])
      return FALSE;
  return TRUE;
}

/* num_batches_tracked: an I64 (or F32, as some exporters write it) scalar. */
static gboolean
entry_count_value (const StateEntry *e, const char *name, int64_t *value, GError **error)
{
  if (state_entry_numel (e) != 1)
    {
      g_autofree char *s = shape_to_string (e->ndim, e->shape);
      g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_SHAPE,
                   _("tensor “%s” has shape %s, expected a single count ()"), name, s);
      return FALSE;
    }
  if (value)
    *value = e->dtype == STATE_DTYPE_I64 ? e->i64[0] : (int64_t) e->f32->data[0];
  return TRUE;
}

gboolean
module_load_state_dict (Module *m, const StateDict *state, GPtrArray **unexpected,
                        GError **error)
{
  g_return_val_if_fail (m != NULL && state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (GPtrArray) tensors = module_named_tensors (m);
  g_autoptr (GPtrArray) norms = g_ptr_array_new ();
  collect_batch_norms (m, norms);
  g_autoptr (GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  size_t skip = *m->path ? strlen (m->path) + 1 : 0;

  /* Check everything first: a failure leaves the model as it was. */
  for (guint i = 0; i < tensors->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (tensors, i);
      g_hash_table_add (known, g_strdup (mt->name));
      const StateEntry *e = state_dict_lookup (state, mt->name);
      g_autofree char *want = tensor_shape_string (mt->tensor);
      if (e == NULL)
        {
          g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_MISSING,
                       _("missing tensor “%s” (F32, shape %s)"), mt->name, want);
          return FALSE;
        }
      if (e->dtype != STATE_DTYPE_F32)
        {
          g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_DTYPE,
                       _("tensor “%s” is %s, expected F32"), mt->name, dtype_name (e->dtype));
          return FALSE;
        }
      if (!entry_same_shape (e, mt->tensor))
        {
          g_autofree char *have = shape_to_string (e->ndim, e->shape);
          g_set_error (error, STATE_DICT_ERROR, STATE_DICT_ERROR_SHAPE,
                       _("tensor “%s” has shape %s, the model's is %s"), mt->name, have, want);
          return FALSE;
        }
    }
  for (guint i = 0; i < norms->len; i++)
    {
      Module *bn = g_ptr_array_index (norms, i);
      g_autofree char *full = join_path (bn->path, "num_batches_tracked");
      const char *name = full + skip;
      g_hash_table_add (known, g_strdup (name));
      const StateEntry *e = state_dict_lookup (state, name);
      if (e && !entry_count_value (e, name, NULL, error))
        return FALSE;
    }

  /* Then copy, in place: optimizers and graphs keep their references. */
  for (guint i = 0; i < tensors->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (tensors, i);
      const StateEntry *e = state_dict_lookup (state, mt->name);
      if (e->f32->data != mt->tensor->data)
        memcpy (mt->tensor->data, e->f32->data, mt->tensor->numel * sizeof (float));
    }
  for (guint i = 0; i < norms->len; i++)
    {
      Module *bn = g_ptr_array_index (norms, i);
      g_autofree char *full = join_path (bn->path, "num_batches_tracked");
      const StateEntry *e = state_dict_lookup (state, full + skip);
      /* Checkpoints older than the buffer (torchvision's own resnet18 weights) lack it:
       * PyTorch's BatchNorm then loads 0. */
      if (e == NULL)
        bn->num_batches_tracked = 0;
      else
        entry_count_value (e, full + skip, &bn->num_batches_tracked, NULL);
    }

  if (unexpected)
    {
      *unexpected = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < state_dict_size (state); i++)
        {
          const StateEntry *e = state_dict_entry (state, i);
          if (!g_hash_table_contains (known, e->name))
            g_ptr_array_add (*unexpected, g_strdup (e->name));
        }
    }
  return TRUE;
}

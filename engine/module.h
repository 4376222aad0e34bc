/* module.h — nn.Module: a tree of named modules with parameters and buffers.
 *
 * Names are torchvision's: a parameter's full name is its module path and its own
 * name ("layer2.0.downsample.1.running_var", "fc.bias"). Forward passes push the
 * module path on the autograd module stack, so every node knows where it was made.
 *
 *   g_autoptr (Module) model = resnet18_new (1000, 0);          // torchvision's init, seeded
 *   g_autoptr (Tensor) pred = module_forward (model, data, &error);
 *   module_set_requires_grad (model, FALSE);                    // freeze everything
 *   module_replace_child (model, "fc", linear_new (512, 10, &gen));
 *
 * The type of module decides forward; a module is one struct with a kind tag and
 * the few fields its kind uses.
 */
#pragma once

#include "nn.h"
#include "state-dict.h"

G_BEGIN_DECLS

typedef enum
{
  MODULE_SEQUENTIAL,    /* children in order (layer1, downsample) */
  MODULE_CONV2D,
  MODULE_BATCH_NORM2D,
  MODULE_RELU,
  MODULE_MAX_POOL2D,
  MODULE_ADAPTIVE_AVG_POOL2D,
  MODULE_LINEAR,
  MODULE_BASIC_BLOCK,   /* conv1 bn1 relu conv2 bn2 (+ downsample), out += identity, relu */
  MODULE_RESNET,        /* conv1 bn1 relu maxpool layer1..4 avgpool flatten fc */
  MODULE_PROGRAM,       /* a program's own nn.Module subclass (or torch's Python-only
                         * ones: Sigmoid, MSELoss...): its forward is Python's; here it
                         * holds its children and own parameters, for the module tree */
  MODULE_KIND_COUNT
} ModuleKind;

typedef struct _Module Module;

typedef struct
{
  char *name;           /* own name: "weight", "running_mean" */
  Tensor *tensor;       /* parameters: leaves that may require grad */
} NamedTensor;

struct _Module
{
  gint ref_count;
  ModuleKind kind;
  char *name;           /* own name in its parent: "0", "conv1", "fc"; "" for the root */
  char *path;           /* full path: "layer1.0.conv1"; "" for the root */
  Module *parent;       /* weak */
  GPtrArray *children;  /* of Module *, in registration order */
  GArray *params;       /* of NamedTensor: weight, bias */
  GArray *buffers;      /* of NamedTensor: running_mean, running_var (float) */
  int64_t num_batches_tracked;  /* BatchNorm2d's int64 buffer */
  bool training;

  char *type_name;      /* MODULE_PROGRAM: the class's name ("Net"); NULL otherwise */

  /* Hyper-parameters by kind. */
  int in_channels, out_channels, kernel, stride, padding;
  float eps, momentum;  /* batch norm */
};

Module     *module_ref                 (Module *m);
void        module_unref               (Module *m);

Tensor     *module_forward             (Module *m, Tensor *x, GError **error);
const char *module_kind_name           (ModuleKind kind);   /* "Conv2d", "BasicBlock", ... */
/* What print(model) calls it: its kind's name, or a program module's class name. */
const char *module_type_name           (const Module *m);

/* A program's own module (class type_name): children and parameters as the program
 * assigns them (module_add_child, module_set_param); module_forward refuses it. */
Module     *module_program_new         (const char *type_name);
/* `m.name = nn.Parameter(t)`: added, or replacing the one of that name in its place
 * (a layer's forward then uses t). t NULL, on a program module only: removed. */
void        module_set_param           (Module *m, const char *name, Tensor *t);
/* The same for a buffer (`bn.running_mean = t`: BatchNorm's forward then uses t). */
void        module_set_buffer          (Module *m, const char *name, Tensor *t);

Module     *module_get_child           (Module *m, const char *name);
/* Looks up "layer1.0.conv1" from m. */
Module     *module_find                (Module *m, const char *path);
/* model.fc = Linear(512, 10): the new child takes the old one's name and place.
 * Takes the reference to child; the old child is released (and detached from m). */
void        module_replace_child       (Module *m, const char *name, Module *child);
/* Appends child under name (setattr in __init__). Takes the reference to child. */
void        module_add_child           (Module *m, const char *name, Module *child);
/* `del m.name` (or m.name = None): the child leaves, a tree of its own if it lives on.
 * FALSE: m has no such child. */
bool        module_remove_child        (Module *m, const char *name);

/* Every parameter below m as (full name, tensor), in torchvision's order
 * (model.named_parameters()); names are relative to m, as PyTorch's. Free with
 * g_ptr_array_unref (it frees the entries); tensor and module are borrowed. */
typedef struct
{
  char *name;           /* full: "layer1.0.bn1.weight" */
  Tensor *tensor;
  Module *module;       /* its owner */
  bool is_buffer;
} ModuleTensor;
GPtrArray  *module_named_parameters    (Module *m);
/* Parameters and buffers (num_batches_tracked excluded: see module_state_dict). */
GPtrArray  *module_named_tensors       (Module *m);

void        module_set_requires_grad   (Module *m, bool requires_grad);  /* m and below */
/* Sets requires_grad of every parameter whose full name is prefix or starts with
 * prefix followed by '.': a module ("layer1", "layer2.0.bn1") or a parameter
 * ("conv1.weight"); the freeze lesson's Python rule, `name == f or
 * name.startswith(f + ".")`, so "" or "layer" match nothing. Returns how many
 * parameters matched. */
int         module_set_requires_grad_prefix (Module *m, const char *prefix, bool requires_grad);
void        module_train               (Module *m, bool training);       /* m and below */
void        module_zero_grad           (Module *m);  /* .grad = None; EVENT_GRADS_ZEROED */

typedef struct
{
  int64_t total, trainable, frozen;
} ParamCounts;
void        module_count_parameters    (Module *m, ParamCounts *counts);

/* torchvision's state_dict: parameters, running stats and num_batches_tracked (I64, 0-d),
 * in state_dict() order. F32 entries are detached aliases of the model's data (no
 * copy, as PyTorch's), so they follow later updates. */
StateDict  *module_state_dict          (Module *m);
/* Copies every tensor of m from state, in place (a missing, mis-shaped or I64 one is an
 * error naming it, and m is left unchanged: everything is checked before anything is
 * copied); names in state that m lacks go to *unexpected (a new array of strings; may
 * be NULL) and are otherwise ignored. A missing num_batches_tracked loads as 0, as
 * PyTorch does for checkpoints older than the buffer (torchvision's own weights). */
gboolean    module_load_state_dict     (Module *m, const StateDict *state,
                                        GPtrArray **unexpected, GError **error);

/* Builders. gen drives the initialisation, drawing from it exactly as PyTorch's
 * reset_parameters() does from torch's generator: Conv2d and Linear weights
 * kaiming_uniform_(a=√5), i.e. U(±1/√fan_in), biases U(±1/√fan_in). */
Module     *conv2d_new                 (int in_ch, int out_ch, int kernel, int stride,
                                        int padding, bool bias, Generator *gen);
Module     *batch_norm2d_new           (int channels);
Module     *linear_new                 (int in_features, int out_features, Generator *gen);
Module     *relu_new                   (void);
Module     *max_pool2d_new             (int kernel, int stride, int padding);
Module     *adaptive_avg_pool2d_new    (void);                       /* output (1, 1) */
Module     *sequential_new             (void);                       /* add with module_add_child */

/* torchvision.models.resnet18 (num_classes), initialised from seed; width is the
 * first stage's channels (64 for resnet18; smaller gives a narrow resnet of the same
 * topology, for small fixtures). */
Module     *resnet18_new               (int num_classes, uint64_t seed);
Module     *resnet18_new_with_width    (int num_classes, int width, uint64_t seed);
/* The same from a generator, left where torch's would be after
 * `torch.manual_seed(seed); model = resnet18(num_classes)`: the next draws from gen
 * (say, linear_new for a new fc) match PyTorch's next ones. Constructing draws the
 * modules' own default init (construction order), then torchvision's re-init: conv
 * weights kaiming_normal_(mode='fan_out', nonlinearity='relu') = N(0, √(2/fan_out)),
 * by torch's normal_ algorithm for float tensors; BN weight 1, bias 0. */
Module     *resnet18_new_from_generator(int num_classes, int width, Generator *gen);
/* The resnet18 a state dict was saved from: width from conv1.weight (width, 3, 7, 7),
 * classes from fc.weight (classes, 8·width). Missing or odd entries leave *width
 * and *classes as they are (loading the file then names the mismatch). The one rule
 * of `gradlens-cli train`, `lesson`, `graph` and `predict` for a weights file. */
void        resnet18_shape_of_state_dict (const StateDict *sd, int *width, int *classes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Module, module_unref)

G_END_DECLS

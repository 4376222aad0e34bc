/* tensor.h — GradLens's tensors and their autograd graph: the engine's manual.
 *
 * A Tensor is a float32, contiguous, row-major array of up to four dimensions,
 * reference-counted, that may require a gradient. Every op whose output requires
 * grad records a Node (PyTorch's grad_fn) that knows how to push a gradient back to
 * its inputs. tensor_backward() walks that graph exactly as PyTorch's engine does.
 *
 * The tutorial's first example, line for line:
 *
 *   a = torch.tensor([2., 3.], requires_grad=True)
 *   b = torch.tensor([6., 4.], requires_grad=True)
 *   Q = 3*a**3 - b**2
 *   Q.backward(gradient=torch.tensor([1., 1.]))
 *
 *   g_autoptr (Tensor) a = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ 2, 3 });
 *   g_autoptr (Tensor) b = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ 6, 4 });
 *   tensor_set_requires_grad (a, TRUE, NULL);
 *   tensor_set_requires_grad (b, TRUE, NULL);
 *   g_autoptr (Tensor) a3 = tensor_pow_scalar (a, 3);          // PowBackward0
 *   g_autoptr (Tensor) t = tensor_mul_scalar (a3, 3);          // MulBackward0 (a3, None)
 *   g_autoptr (Tensor) b2 = tensor_pow_scalar (b, 2);          // PowBackward0
 *   g_autoptr (Tensor) Q = tensor_sub (t, b2);                 // SubBackward0
 *   g_autoptr (Tensor) ones = tensor_new_ones (1, (int64_t[]){ 2 });
 *   tensor_backward (Q, ones, FALSE, &error);                  // a->grad = [36, 81]
 *
 * Ownership: every function that returns a Tensor * returns a new reference;
 * release it with tensor_unref (or g_autoptr). Inputs are borrowed.
 *
 * Ops live in ops.h (elementwise, reductions, matmul) and nn.h (conv, batch norm,
 * pooling); the graph, its nodes and the backward engine in autograd.h.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

#define TENSOR_MAX_DIMS 4

typedef struct _Tensor Tensor;
typedef struct _Node Node;
typedef struct _TensorStorage TensorStorage;

/* How a tensor's float32 data is read, as torch.dtype: INT64 and BOOL tensors hold
 * exact whole numbers (|v| <= 2^24, checked where they are made) and 0/1 in the same
 * float storage. Only printing and the Python layer look at it; ops compute in
 * float32 and never record a grad_fn for them (they cannot require grad). */
typedef enum
{
  TENSOR_FLOAT32,                  /* torch.float32, the default */
  TENSOR_INT64,                    /* torch.int64: indices, class targets, arange */
  TENSOR_BOOL,                     /* torch.bool: comparisons */
} TensorDType;

struct _Tensor
{
  gint ref_count;
  int ndim;                        /* 0 (a scalar) to TENSOR_MAX_DIMS */
  int64_t shape[TENSOR_MAX_DIMS];
  int64_t numel;
  float *data;                     /* (numel), row-major, contiguous; owned by storage */
  TensorStorage *storage;          /* shared by views and saved aliases */
  char *name;                      /* optional: "a", "conv1.weight", ... */
  TensorDType dtype;               /* TENSOR_FLOAT32 unless the Python layer says otherwise */

  bool requires_grad;              /* a leaf: as set; a non-leaf: true iff it has a grad_fn */
  bool retains_grad;               /* a non-leaf whose .grad backward fills (retain_grad) */
  Tensor *grad;                    /* .grad: NULL is None, until the first backward */
  int grad_passes;                 /* how many backward passes have summed into .grad */
  Node *grad_fn;                   /* strong; NULL for a leaf */
  Node *grad_accumulator;          /* weak: the leaf's AccumulateGrad, while a graph holds it */
  GArray *hooks;                   /* a leaf's register_hook (GradHook), or NULL */
};

/* Creation. shape has ndim entries; data is copied. */
Tensor  *tensor_new_zeros          (int ndim, const int64_t *shape);
Tensor  *tensor_new_ones           (int ndim, const int64_t *shape);
Tensor  *tensor_new_full           (int ndim, const int64_t *shape, float value);
Tensor  *tensor_new_from_data      (int ndim, const int64_t *shape, const float *data);
Tensor  *tensor_new_scalar         (float value);
Tensor  *tensor_new_like           (const Tensor *t);               /* zeros of t's shape */
Tensor  *tensor_new_empty          (int ndim, const int64_t *shape); /* uninitialised */
Tensor  *tensor_copy               (const Tensor *t);                /* data only: a new leaf */

Tensor  *tensor_ref                (Tensor *t);
/* Tensors alive in the process: for leak checks in tests. */
gint     tensor_live_count         (void);
void     tensor_unref              (Tensor *t);

bool     tensor_is_leaf            (const Tensor *t);
void     tensor_set_name           (Tensor *t, const char *name);
gboolean tensor_set_requires_grad  (Tensor *t, bool requires_grad, GError **error);
gboolean tensor_retain_grad        (Tensor *t, GError **error);
Tensor  *tensor_detach             (Tensor *t);    /* shares data; no grad_fn, no grad */
void     tensor_zero_grad          (Tensor *t);    /* .grad = None (set_to_none=True) */
bool     tensor_same_shape         (const Tensor *a, const Tensor *b);
gboolean tensor_reshape_inplace    (Tensor *t, int ndim, const int64_t *shape);

/* An alias of t's data without grad_fn or grad: what a node saves for backward
 * (PyTorch's SavedVariable), so a node that saves its own output makes no cycle. */
Tensor  *tensor_alias              (const Tensor *t);
/* Nothing else refers to t or its data: it may be taken over instead of copied. */
bool     tensor_is_exclusive       (const Tensor *t);

/* "(2, 3)" / "(1, 3, 64, 64)"; "()" for a scalar. */
char    *tensor_shape_string       (const Tensor *t);
char    *shape_to_string           (int ndim, const int64_t *shape);
/* torch.Size's and PyTorch's messages' way: "[2, 3]", "[]" for a scalar. */
char    *shape_to_size_list        (int ndim, const int64_t *shape);
/* PyTorch's repr: "tensor([-12., 65.], grad_fn=<SubBackward0>)". Summarised past
 * 1000 elements, like torch's print options. */
char    *tensor_to_string          (const Tensor *t);

/* Summary statistics for the inspector: over all elements. */
typedef struct
{
  float min, max, mean, std;       /* std: unbiased, as torch.std */
  double norm;                     /* L2 */
  int64_t n_nan, n_inf;
} TensorStats;
void     tensor_stats              (const Tensor *t, TensorStats *stats);
double   tensor_norm2              (const Tensor *t);
bool     tensor_all_finite         (const Tensor *t);

/* torch's default CPU generator and its draws, bit for bit (random.c):
 *
 *   torch.manual_seed(0)            generator_init (&gen, 0);
 *   x = torch.randn(3)              x = tensor_new_randn (1, (int64_t[]){ 3 }, &gen);
 *   w = torch.rand(2, 3)            w = tensor_new_rand (2, (int64_t[]){ 2, 3 }, &gen);
 *   w.uniform_(-b, b)               tensor_fill_uniform (w, &gen, -b, b);
 *   w.normal_(0, std)               tensor_fill_normal (w, &gen, 0, std);
 *
 * Bounds, means and standard deviations are doubles, as Python passes them
 * (torch.nn.init computes them in Python floats). One Generator is one torch
 * generator: draw from it in the order the program does. */
typedef struct
{
  uint32_t mt[624];                /* mt19937's state */
  int index;
  bool has_next_normal;            /* the cached second Box–Muller sample (double) */
  double next_normal;
} Generator;

/* torch.manual_seed(seed): the low 32 bits seed mt19937; the cached normal goes. */
void     generator_init            (Generator *gen, uint64_t seed);
uint32_t generator_next_u32        (Generator *gen);
uint64_t generator_next_u64        (Generator *gen);     /* (first << 32) | second */
float    generator_uniform_float   (Generator *gen);     /* [0, 1): low 24 bits of one draw */
double   generator_uniform_double  (Generator *gen);     /* [0, 1): low 53 bits of a u64 */
/* N(0, 1) as at::normal_distribution<double>: Box–Muller on two uniform doubles,
 * the second value kept for the next call. */
double   generator_normal          (Generator *gen);

/* Tensor.uniform_(from, to): bounds rounded to float, then u·(to − from) + from
 * per element in float (fused multiply-add, as torch's kernel is compiled). */
void     tensor_fill_uniform       (Tensor *t, Generator *gen, double from, double to);
/* Tensor.bernoulli_(p): 1 with probability p, else 0, one uniform double each. */
void     tensor_fill_bernoulli     (Tensor *t, Generator *gen, double p);
/* Tensor.normal_(mean, std): below 16 elements one generator_normal per element
 * (·std + mean in double); from 16 on, torch's vectorised kernel (uniform floats,
 * then Box–Muller 16 at a time with its float log/sin/cos, the last 16 redrawn
 * when the size is not a multiple of 16). */
void     tensor_fill_normal        (Tensor *t, Generator *gen, double mean, double std);
/* For tests: that kernel's 16-element Box–Muller step, its scalar code or (on a CPU
 * with AVX2 and FMA) its eight-lane one, which must agree bit for bit. */
void     normal_fill_16_for_test   (float *data, float mean, float std, bool vector);
Tensor  *tensor_new_rand           (int ndim, const int64_t *shape, Generator *gen);  /* torch.rand */
Tensor  *tensor_new_randn          (int ndim, const int64_t *shape, Generator *gen);  /* torch.randn */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tensor, tensor_unref)

G_END_DECLS

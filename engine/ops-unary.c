/* ops-unary.c — sin, cos, tanh, sigmoid, sqrt, abs, clamp, reciprocal and the
 * two pows with a tensor exponent: forward and backward side by side.
 *
 * Each op saves what PyTorch's derivatives.yaml saves: the result where the
 * derivative is cheapest in it (tanh, sigmoid, sqrt, reciprocal), the input
 * otherwise.
 */
#include "ops-private.h"
#include "backward.h"
#include "parallel.h"

#include <math.h>

typedef enum { U_SIN, U_COS, U_TANH, U_SIGMOID, U_SQRT, U_ABS, U_RECIPROCAL } UnaryFn;

typedef struct
{
  UnaryFn fn;
  const float *x;
  float *y;
} UnaryJob;

static void
unary_range (gpointer data, int64_t begin, int64_t end)
{
  const UnaryJob *j = data;
  const float *restrict x = j->x;
  float *restrict y = j->y;
  switch (j->fn)
    {
    case U_SIN: for (int64_t i = begin; i < end; i++) y[i] = sinf (x[i]); break;
    case U_COS: for (int64_t i = begin; i < end; i++) y[i] = cosf (x[i]); break;
    case U_TANH: for (int64_t i = begin; i < end; i++) y[i] = tanhf (x[i]); break;
    /* 1 / (1 + e^-x), as PyTorch's CPU kernel writes it. */
    case U_SIGMOID: for (int64_t i = begin; i < end; i++) y[i] = 1.0f / (1.0f + expf (-x[i])); break;
    case U_SQRT: for (int64_t i = begin; i < end; i++) y[i] = sqrtf (x[i]); break;
    case U_ABS: for (int64_t i = begin; i < end; i++) y[i] = fabsf (x[i]); break;
    case U_RECIPROCAL: for (int64_t i = begin; i < end; i++) y[i] = 1.0f / x[i]; break;
    }
}

static Tensor *
unary (UnaryFn fn, OpKind op, Tensor *a)
{
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  UnaryJob job = { fn, a->data, out->data };
  parallel_for (a->numel, ELEMENTWISE_GRAIN, unary_range, &job);
  Node *node = autograd_record (op, out, 1, (Tensor *[]){ a });
  if (node)
    {
      bool saves_result = fn == U_TANH || fn == U_SIGMOID || fn == U_SQRT || fn == U_RECIPROCAL;
      node_save (node, saves_result ? "result" : "self", saves_result ? out : a);
      autograd_commit (node);
    }
  return out;
}

Tensor *tensor_sin (Tensor *a) { return unary (U_SIN, OP_SIN, a); }
Tensor *tensor_cos (Tensor *a) { return unary (U_COS, OP_COS, a); }
Tensor *tensor_tanh (Tensor *a) { return unary (U_TANH, OP_TANH, a); }
Tensor *tensor_sigmoid (Tensor *a) { return unary (U_SIGMOID, OP_SIGMOID, a); }
Tensor *tensor_sqrt (Tensor *a) { return unary (U_SQRT, OP_SQRT, a); }
Tensor *tensor_abs (Tensor *a) { return unary (U_ABS, OP_ABS, a); }
Tensor *tensor_reciprocal (Tensor *a) { return unary (U_RECIPROCAL, OP_RECIPROCAL, a); }

/* gi[0] = grad · f'(s), where s is the saved tensor (input or result). */
#define UNARY_BACKWARD(name, expr)                                            \
  void name (Node *node, const Tensor *grad, Tensor **gi)                     \
  {                                                                           \
    const float *s = node->saved[0]->data;                                    \
    const float *g = grad->data;                                              \
    gi[0] = grad_like (grad);                                                 \
    float *d = gi[0]->data;                                                   \
    for (int64_t k = 0; k < grad->numel; k++)                                 \
      d[k] = (expr);                                                          \
  }

UNARY_BACKWARD (sin_backward, g[k] * cosf (s[k]))                 /* d sin x = cos x */
UNARY_BACKWARD (cos_backward, -g[k] * sinf (s[k]))                /* d cos x = −sin x */
UNARY_BACKWARD (tanh_backward, g[k] * (1 - s[k] * s[k]))          /* d tanh = 1 − y² */
UNARY_BACKWARD (sigmoid_backward, g[k] * (1 - s[k]) * s[k])       /* d σ = σ(1 − σ) */
UNARY_BACKWARD (sqrt_backward, g[k] / (2 * s[k]))                 /* d √x = 1 / 2y */
/* d |x| = sgn x, 0 at 0 (PyTorch's sgn). */
UNARY_BACKWARD (abs_backward, s[k] > 0 ? g[k] : s[k] < 0 ? -g[k] : 0)
UNARY_BACKWARD (reciprocal_backward, -g[k] * s[k] * s[k])         /* d 1/x = −y² */

Tensor *
tensor_rdiv_scalar (float s, Tensor *a)
{
  /* Tensor.__rdiv__ is `self.reciprocal() * other`: two nodes. */
  g_autoptr (Tensor) r = tensor_reciprocal (a);
  return tensor_mul_scalar (r, s);
}

/* --- clamp ------------------------------------------------------------------- */

Tensor *
tensor_clamp (Tensor *a, bool has_min, float min, bool has_max, float max, GError **error)
{
  if (!has_min && !has_max)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                   "torch.clamp: At least one of 'min' or 'max' must not be None");
      return NULL;
    }
  float lo = has_min ? min : -INFINITY, hi = has_max ? max : INFINITY;
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  for (int64_t i = 0; i < a->numel; i++)
    {
      /* PyTorch: min(max(x, lo), hi), NaN kept; with lo > hi every value is hi. */
      float x = a->data[i];
      out->data[i] = isnan (x) ? x : fminf (fmaxf (x, lo), hi);
    }
  Node *node = autograd_record (OP_CLAMP, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->scalars[0] = lo;
      node->scalars[1] = hi;
      node_save (node, "self", a);
      autograd_commit (node);
    }
  return out;
}

/* The gradient passes where lo ≤ x ≤ hi (bounds included, as clamp_backward). */
void
clamp_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const float *x = node->saved[0]->data;
  float lo = node->scalars[0], hi = node->scalars[1];
  gi[0] = grad_like (grad);
  for (int64_t k = 0; k < grad->numel; k++)
    gi[0]->data[k] = x[k] >= lo && x[k] <= hi ? grad->data[k] : 0;
}

/* --- pow with a tensor exponent ---------------------------------------------- */

Tensor *
tensor_pow (Tensor *a, Tensor *b, GError **error)
{
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!broadcast_shapes (a->ndim, a->shape, b->ndim, b->shape, &ndim, shape))
    {
      set_shape_error (error, "pow", a, b);
      return NULL;
    }
  Tensor *out = tensor_new_empty (ndim, shape);
  FOR_BROADCAST_PAIR (a, b, ndim, shape, o, ia, ib,
                      out->data[o] = powf (a->data[ia], b->data[ib]));
  Node *node = autograd_record (OP_POW_TENSOR, out, 2, (Tensor *[]){ a, b });
  if (node)
    {
      node_save (node, "self", a);
      node_save (node, "exponent", b);
      node_save (node, "result", out);
      autograd_commit (node);
    }
  return out;
}

/* y = aᵇ: ∂y/∂a = b·aᵇ⁻¹ (0 where b = 0); ∂y/∂b = y·ln a (0 where a = 0 and b ≥ 0,
 * PyTorch's pow_backward_exponent). Each summed back over its broadcast dims. */
void
pow_tensor_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const Tensor *a = node->saved[0], *b = node->saved[1], *y = node->saved[2];
  g_autoptr (Tensor) ga = node->next[0].node ? grad_like (grad) : NULL;
  g_autoptr (Tensor) gb = node->next[1].node ? grad_like (grad) : NULL;
  FOR_BROADCAST_PAIR (a, b, grad->ndim, grad->shape, o, ia, ib, {
    float x = a->data[ia], p = b->data[ib], g = grad->data[o];
    if (ga)
      ga->data[o] = p == 0 ? 0 : g * p * powf (x, p - 1);
    if (gb)
      gb->data[o] = x == 0 && p >= 0 ? 0 : g * y->data[o] * logf (x);
  });
  if (ga)
    gi[0] = tensor_sum_to_shape (ga, node->input_ndim[0], node->input_shape[0]);
  if (gb)
    gi[1] = tensor_sum_to_shape (gb, node->input_ndim[1], node->input_shape[1]);
}

Tensor *
tensor_pow_scalar_base (float base, Tensor *a)
{
  Tensor *out = tensor_new_empty (a->ndim, a->shape);
  for (int64_t i = 0; i < a->numel; i++)
    out->data[i] = powf (base, a->data[i]);
  Node *node = autograd_record (OP_POW_SCALAR_BASE, out, 1, (Tensor *[]){ a });
  if (node)
    {
      node->scalars[0] = base;
      node_save (node, "exponent", a);
      node_save (node, "result", out);
      autograd_commit (node);
    }
  return out;
}

/* y = sˣ: ∂y/∂x = y·ln s (0 where s = 0 and x ≥ 0). */
void
pow_scalar_base_backward (Node *node, const Tensor *grad, Tensor **gi)
{
  const float *x = node->saved[0]->data, *y = node->saved[1]->data;
  float s = node->scalars[0], ln_s = logf (s);
  gi[0] = grad_like (grad);
  for (int64_t k = 0; k < grad->numel; k++)
    gi[0]->data[k] = s == 0 && x[k] >= 0 ? 0 : grad->data[k] * y[k] * ln_s;
}

/* gradcheck.h — central finite differences against every backward (torch.autograd.gradcheck
 * in float32). Shared by the engine tests.
 *
 *   GradcheckFn f: builds the op's output from inputs[0..n) (recording the graph).
 *   gradcheck (f, data, n, inputs, eps, tol): for a random projection R of the output,
 *   compares ∂(Σ R·f)/∂input from backward with (L(x+eps) − L(x−eps)) / 2eps.
 */
#pragma once

#include "ops.h"

#include <math.h>

typedef Tensor *(*GradcheckFn) (Tensor **inputs, gpointer data);

static inline double
gradcheck_loss (GradcheckFn f, gpointer data, Tensor **inputs, const Tensor *r)
{
  bool was = grad_mode_set_enabled (false);
  Tensor *out = f (inputs, data);
  grad_mode_set_enabled (was);
  double s = 0;
  for (int64_t i = 0; i < out->numel; i++)
    s += (double) out->data[i] * r->data[i];
  tensor_unref (out);
  return s;
}

/* Returns the worst |analytic − numeric| / max(1, |numeric|) over all checked entries;
 * at most max_checks entries per input (spread over it). */
static inline double
gradcheck (GradcheckFn f, gpointer data, int n, Tensor **inputs, float eps, int max_checks)
{
  Generator gen;
  generator_init (&gen, 1234);
  for (int i = 0; i < n; i++)
    if (inputs[i])
      tensor_zero_grad (inputs[i]);
  Tensor *out = f (inputs, data);
  g_assert_nonnull (out);
  Tensor *r = tensor_new_empty (out->ndim, out->shape);
  tensor_fill_uniform (r, &gen, -1, 1);
  g_assert_true (tensor_backward (out, r, false, NULL));
  tensor_unref (out);

  double worst = 0;
  for (int i = 0; i < n; i++)
    {
      Tensor *x = inputs[i];
      if (x == NULL || !x->requires_grad)
        continue;
      g_assert_nonnull (x->grad);
      int64_t step = MAX (1, x->numel / max_checks);
      for (int64_t k = 0; k < x->numel; k += step)
        {
          float saved = x->data[k];
          x->data[k] = saved + eps;
          double lp = gradcheck_loss (f, data, inputs, r);
          x->data[k] = saved - eps;
          double lm = gradcheck_loss (f, data, inputs, r);
          x->data[k] = saved;
          double numeric = (lp - lm) / (2.0 * eps);
          double err = fabs (x->grad->data[k] - numeric) / MAX (1.0, fabs (numeric));
          if (err > worst)
            worst = err;
          if (err > 5e-2)
            g_test_message ("input %d entry %" G_GINT64_FORMAT ": analytic %g numeric %g",
                            i, k, x->grad->data[k], numeric);
        }
    }
  tensor_unref (r);
  return worst;
}

static inline Tensor *
gradcheck_input (int ndim, const int64_t *shape, Generator *gen, float lo, float hi)
{
  Tensor *t = tensor_new_empty (ndim, shape);
  tensor_fill_uniform (t, gen, lo, hi);
  tensor_set_requires_grad (t, true, NULL);
  return t;
}

/* backward-rule.c: each grad_fn's local rule, as PyTorch's derivatives.yaml
 * writes it; small tensors printed as PyTorch prints them. */

#include "backward-rule.h"

#include <string.h>

/* One row per op: the rule for each input slot (the last one repeats for ops
 * with more inputs, cat and stack). Names: grad, the gradient the node
 * receives; self, other, mat1, mat2: its inputs; result: its output. */
typedef struct
{
  OpKind op;
  const char *slots[3];
} Rule;

static const Rule rules[] = {
  { OP_ACCUMULATE_GRAD, { ".grad += grad" } },
  { OP_ADD, { "grad", "grad" } },
  { OP_SUB, { "grad", "−grad" } },
  { OP_RSUB, { "−grad" } },
  { OP_MUL, { "grad · other", "grad · self" } },
  { OP_DIV, { "grad / other", "−grad · self / other²" } },
  { OP_NEG, { "−grad" } },
  { OP_EXP, { "grad · result" } },
  { OP_LOG, { "grad / self" } },
  { OP_RELU, { "grad · (result > 0)" } },
  { OP_SUM, { "grad, expanded to self's shape" } },
  { OP_SUM_DIM, { "grad, expanded along dim" } },
  { OP_MEAN, { "grad / self.numel(), expanded" } },
  { OP_MEAN_DIM, { "grad / self.size(dim), expanded" } },
  { OP_VIEW, { "grad.reshape(self.shape)" } },
  { OP_UNSAFE_VIEW, { "grad.reshape(self.shape)" } },
  { OP_UNSQUEEZE, { "grad.squeeze(dim)" } },
  { OP_SQUEEZE, { "grad.reshape(self.shape)" } },
  { OP_SQUEEZE_DIM, { "grad.unsqueeze(dim)" } },
  { OP_SQUEEZE_DIM_INPLACE, { "grad.unsqueeze(dim)" } },
  { OP_T, { "gradᵀ" } },
  { OP_TRANSPOSE, { "grad.transpose(dim0, dim1)" } },
  { OP_PERMUTE, { "grad, permuted back" } },
  { OP_EXPAND, { "grad, summed to self's shape" } },
  { OP_SELECT, { "zeros, grad at [index]" } },
  { OP_SLICE, { "zeros, grad in [start:end]" } },
  { OP_CLONE, { "grad" } },
  { OP_INDEX, { "zeros, grad added at the picked elements" } },
  { OP_INDEX_PUT, { "grad, 0 where assigned", "grad at the assigned elements" } },
  { OP_COPY_SLICES, { "grad, 0 where assigned", "grad at the assigned elements" } },
  { OP_CAT, { "grad's slice for this tensor" } },
  { OP_STACK, { "grad[i] for this tensor" } },
  { OP_MM, { "grad @ mat2ᵀ", "selfᵀ @ grad" } },
  { OP_ADDMM, { "grad, summed to self's shape", "grad @ mat2ᵀ", "mat1ᵀ @ grad" } },
  { OP_MV, { "grad ⊗ vec", "selfᵀ @ grad" } },
  { OP_DOT, { "grad · tensor", "grad · self" } },
  { OP_BMM, { "grad @ mat2ᵀ", "selfᵀ @ grad" } },
  { OP_NORM, { "grad · self / result" } },
  { OP_SIN, { "grad · cos(self)" } },
  { OP_COS, { "−grad · sin(self)" } },
  { OP_TANH, { "grad · (1 − result²)" } },
  { OP_SIGMOID, { "grad · result · (1 − result)" } },
  { OP_SQRT, { "grad / (2·result)" } },
  { OP_ABS, { "grad · sign(self)" } },
  { OP_CLAMP, { "grad · (min ≤ self ≤ max)" } },
  { OP_RECIPROCAL, { "−grad · result²" } },
  { OP_POW_TENSOR, { "grad · exponent · self^(exponent−1)", "grad · result · ln(self)" } },
  { OP_POW_SCALAR_BASE, { "grad · result · ln(self)" } },
  { OP_SOFTMAX, { "result · (grad − Σ grad·result)" } },
  { OP_LOG_SOFTMAX, { "grad − exp(result) · Σ grad" } },
  { OP_MAX, { "grad at the max, shared among ties" } },
  { OP_MIN, { "grad at the min, shared among ties" } },
  { OP_MAX_DIM, { "grad at each max's index" } },
  { OP_MIN_DIM, { "grad at each min's index" } },
  { OP_MSE_LOSS, { "grad · 2·(self − target) / n" } },
  { OP_NLL_LOSS, { "−grad / n at each target" } },
  { OP_CONV2D, { "conv_transpose(grad, weight)", "conv(self, grad)", "grad summed over N, H, W" } },
  { OP_BATCH_NORM, { "(grad − mean − x̂·mean(grad·x̂)) · γ/σ", "Σ grad · x̂", "Σ grad" } },
  { OP_MAX_POOL2D, { "grad at each window's max" } },
};

/* A constant as the rule writes it: 2, 0.5, −3. */
static char *
constant (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%g", v);
  if (buf[0] == '-')
    return g_strconcat ("−", buf + 1, NULL);
  return g_strdup (buf);
}

char *
backward_rule_text (const Node *node,
                    int         slot)
{
  g_return_val_if_fail (node != NULL && slot >= 0, NULL);

  /* A Python scalar operand: its value, written in. */
  if ((node->op == OP_MUL || node->op == OP_DIV) && node->ints[0])
    {
      g_autofree char *s = constant (node->scalars[0]);
      return g_strdup_printf (node->op == OP_MUL ? "grad · %s" : "grad / %s", s);
    }
  /* d xⁿ = n·xⁿ⁻¹, n written in: b**2 → grad · 2·self. */
  if (node->op == OP_POW)
    {
      double n = node->scalars[0];
      g_autofree char *ns = constant (n);
      g_autofree char *n1 = constant (n - 1);

      if (n == 0)
        return g_strdup ("0");
      if (n == 1)
        return g_strdup ("grad");
      if (n == 2)
        return g_strdup_printf ("grad · %s·self", ns);
      return g_strdup_printf ("grad · %s·self^%s", ns, n1);
    }

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    if (rules[i].op == node->op)
      {
        int last = 0;

        while (last + 1 < (int) G_N_ELEMENTS (rules[i].slots) && rules[i].slots[last + 1])
          last++;
        return g_strdup (rules[i].slots[MIN (slot, last)]);
      }
  return NULL;
}

char *
backward_values_text (const Tensor *t)
{
  g_autofree char *repr = NULL;
  GString *s;
  const char *p, *end;
  gboolean space = FALSE;

  if (t == NULL)
    return NULL;
  /* tensor([-12.,  -8.]) → [-12., -8.]: PyTorch's numbers, one line. The copy
   * is a plain leaf: no grad_fn or requires_grad to strip. */
  repr = tensor_to_string (t);
  p = repr;
  end = repr + strlen (repr);
  if (g_str_has_prefix (p, "tensor("))
    p += strlen ("tensor(");
  if (end > p && end[-1] == ')')
    end--;
  s = g_string_new (NULL);
  for (; p < end; p++)
    {
      if (*p == ' ' || *p == '\n')
        {
          space = TRUE;
          continue;
        }
      if (space && s->len > 0 && s->str[s->len - 1] != '[')
        g_string_append_c (s, ' ');
      space = FALSE;
      g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

/* backward-rule.h: the local rule of each backward node, and small tensors as
 * PyTorch prints them, so the chain rule can be read off the screen
 *
 * A grad_fn's backward turns the gradient it receives (grad, PyTorch's
 * grad_output) into one gradient per input, by a rule local to the op, as
 * PyTorch's derivatives.yaml writes it (self, other, result: the op's inputs
 * and output, n: the exponent):
 *
 *   backward_rule_text (mul, 1)    // "grad · self"     (MulBackward0)
 *   backward_rule_text (sub, 1)    // "−grad"           (SubBackward0)
 *   backward_rule_text (pow, 0)    // "grad · 2·self"   (PowBackward0 of b**2)
 *   backward_rule_text (times3, 0) // "grad · 3"        (MulBackward0 of 3*a)
 *
 * The formulas are PyTorch's names and mathematics, the same in every language.
 */
#pragma once

#include <glib.h>

#include "autograd.h"

G_BEGIN_DECLS

/* The rule by which node's backward makes the gradient of its input `slot`,
 * with the node's constants written in (PowBackward0's exponent, a Python
 * scalar factor). NULL for an op the table does not know. Free with g_free. */
char *backward_rule_text   (const Node *node, int slot);

/* A small tensor's values as PyTorch prints them, on one line: "[-12., -8.]",
 * "[[1., 0.], [0., 1.]]", "1.". NULL for NULL. */
char *backward_values_text (const Tensor *t);

G_END_DECLS

/* test-backward-rule.c: each grad_fn's local rule, and the small gradients the
 * graph shows on its edges (issue 15, point 9)
 *
 * On the tutorial's Q = 3a³ − b², backward with [1, 1]: the numbers on each
 * edge are what PyTorch computes, printed as PyTorch prints them, with the
 * rule that made them; a gradient of more than 16 elements shows none.
 */

#include <string.h>

#include "backward-rule.h"
#include "graph-model.h"
#include "test-graph-common.h"

static void
assert_rule (OpKind      op,
             int         slot,
             const char *expected)
{
  Node node = { .op = op };
  g_autofree char *rule = backward_rule_text (&node, slot);

  g_assert_cmpstr (rule, ==, expected);
}

static void
test_rules (void)
{
  assert_rule (OP_MUL, 0, "grad · other");
  assert_rule (OP_MUL, 1, "grad · self");
  assert_rule (OP_SUB, 0, "grad");
  assert_rule (OP_SUB, 1, "−grad");
  assert_rule (OP_ADD, 1, "grad");
  assert_rule (OP_MM, 1, "selfᵀ @ grad");
  assert_rule (OP_ACCUMULATE_GRAD, 0, ".grad += grad");
  /* cat's seventh tensor has the first one's rule. */
  assert_rule (OP_CAT, 6, "grad's slice for this tensor");

  /* The node's constants written in. */
  {
    Node square = { .op = OP_POW, .scalars = { 2 } };
    Node cube = { .op = OP_POW, .scalars = { 3 } };
    Node root = { .op = OP_POW, .scalars = { -0.5 } };
    Node times3 = { .op = OP_MUL, .scalars = { 3 }, .ints = { 1 } };
    g_autofree char *s = backward_rule_text (&square, 0);
    g_autofree char *c = backward_rule_text (&cube, 0);
    g_autofree char *r = backward_rule_text (&root, 0);
    g_autofree char *t = backward_rule_text (&times3, 0);

    g_assert_cmpstr (s, ==, "grad · 2·self");
    g_assert_cmpstr (c, ==, "grad · 3·self^2");
    g_assert_cmpstr (r, ==, "grad · −0.5·self^−1.5");
    g_assert_cmpstr (t, ==, "grad · 3");
  }

  /* Every op has one. */
  for (int op = 0; op < OP_COUNT; op++)
    {
      Node node = { .op = op, .scalars = { 2 } };
      g_autofree char *rule = backward_rule_text (&node, 0);

      if (rule == NULL)
        g_error ("%s has no rule", op_info[op].name);
    }
}

static void
test_values_text (void)
{
  g_autoptr (Tensor) v = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ -12, -8 });
  g_autoptr (Tensor) m = tensor_new_from_data (2, (int64_t[]){ 2, 2 }, (float[]){ 1, 0.5, 0, 1 });
  g_autoptr (Tensor) s = tensor_new_scalar (1);
  g_autofree char *vt = backward_values_text (v);
  g_autofree char *mt = backward_values_text (m);
  g_autofree char *st = backward_values_text (s);

  g_assert_cmpstr (vt, ==, "[-12., -8.]");
  g_assert_cmpstr (mt, ==, "[[1.0000, 0.5000], [0.0000, 1.0000]]");
  g_assert_cmpstr (st, ==, "1.");
  g_assert_null (backward_values_text (NULL));
}

/* The edge from the node named `from` to the one named `to` (leaf names for
 * AccumulateGrad). */
static const GraphModelEdge *
edge (const GraphModel *model,
      const char       *from,
      const char       *to)
{
  for (int i = 0; i < model->n_edges; i++)
    {
      const GraphModelNode *s = &model->nodes[model->edges[i].source];
      const GraphModelNode *t = &model->nodes[model->edges[i].target];
      const char *tname = t->leaf_name != NULL ? t->leaf_name : t->name;

      if (strcmp (s->name, from) == 0 && g_strcmp0 (tname, to) == 0)
        return &model->edges[i];
    }
  g_error ("no edge %s → %s", from, to);
  return NULL;
}

static void
test_q_edges (void)
{
  TestGraph *tg = test_graph_new_q (TRUE);
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  const GraphModelEdge *e;

  /* Q = 3a³ − b²: ∂Q/∂(b²) = −1, ∂Q/∂b = −2b = [−12, −8], ∂Q/∂a = 9a² = [36, 81]. */
  e = edge (model, "SubBackward0", "MulBackward0");
  g_assert_cmpstr (e->values, ==, "[1., 1.]");
  g_assert_cmpstr (e->rule, ==, "grad");
  e = edge (model, "SubBackward0", "PowBackward0");
  g_assert_cmpstr (e->values, ==, "[-1., -1.]");
  g_assert_cmpstr (e->rule, ==, "−grad");
  e = edge (model, "MulBackward0", "PowBackward0");
  g_assert_cmpstr (e->values, ==, "[3., 3.]");
  g_assert_cmpstr (e->rule, ==, "grad · 3");
  e = edge (model, "PowBackward0", "b");
  g_assert_cmpstr (e->values, ==, "[-12., -8.]");
  g_assert_cmpstr (e->rule, ==, "grad · 2·self");
  e = edge (model, "PowBackward0", "a");
  g_assert_cmpstr (e->values, ==, "[36., 81.]");
  g_assert_cmpstr (e->rule, ==, "grad · 3·self^2");
  /* What the root received: the gradient passed to backward. */
  for (int i = 0; i < model->n_nodes; i++)
    if (model->nodes[i].is_root)
      g_assert_cmpstr (model->nodes[i].grad_values, ==, "[1., 1.]");
  test_graph_free (tg);

  /* Before backward: no numbers. */
  tg = test_graph_new_q (FALSE);
  {
    g_autoptr (GraphModel) before = graph_model_new (tg->nodes);

    for (int i = 0; i < before->n_edges; i++)
      g_assert_null (before->edges[i].values);
  }
  test_graph_free (tg);
}

static void
test_large_not_kept (void)
{
  g_autoptr (Tensor) x = tensor_new_ones (1, (int64_t[]){ 17 });
  g_autoptr (Tensor) y = NULL;
  g_autoptr (Tensor) z = NULL;
  g_autoptr (GPtrArray) nodes = NULL;
  g_autoptr (GraphModel) model = NULL;

  g_assert_true (tensor_set_requires_grad (x, TRUE, NULL));
  y = tensor_mul_scalar (x, 2);
  z = tensor_sum (y);
  autograd_set_observer (test_graph_observe, NULL);
  g_assert_true (tensor_backward (z, NULL, FALSE, NULL));
  autograd_set_observer (NULL, NULL);
  nodes = test_graph_collect (z->grad_fn);
  model = graph_model_new (nodes);
  /* 17 elements: a norm, no values; the scalar loss's own gradient, 1. */
  for (int i = 0; i < model->n_edges; i++)
    {
      if (!model->edges[i].is_none)
        g_assert_cmpfloat (model->edges[i].grad_norm, >, 0);
      g_assert_null (model->edges[i].values);
    }
  for (int i = 0; i < model->n_nodes; i++)
    if (model->nodes[i].is_root)
      g_assert_cmpstr (model->nodes[i].grad_values, ==, "1.");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/backward-rule/rules", test_rules);
  g_test_add_func ("/backward-rule/values-text", test_values_text);
  g_test_add_func ("/backward-rule/q-edges", test_q_edges);
  g_test_add_func ("/backward-rule/large-not-kept", test_large_not_kept);

  return g_test_run ();
}

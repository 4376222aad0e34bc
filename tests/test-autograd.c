/* test-autograd.c — the tutorial's autograd examples and PyTorch's engine rules. */
#include "ops.h"

#include <math.h>
#include <string.h>

static Tensor *
vec2 (float x, float y, bool requires_grad)
{
  Tensor *t = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ x, y });
  g_assert_true (tensor_set_requires_grad (t, requires_grad, NULL));
  return t;
}

static void
assert_values (const Tensor *t, int n, const float *expected)
{
  g_assert_nonnull (t);
  g_assert_cmpint (t->numel, ==, n);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (t->data[i], expected[i], 1e-5);
}

/* Q = 3a³ − b², built as the tutorial writes it. */
static Tensor *
build_q (Tensor *a, Tensor *b)
{
  g_autoptr (Tensor) a3 = tensor_pow_scalar (a, 3);
  g_autoptr (Tensor) t = tensor_mul_scalar (a3, 3);
  g_autoptr (Tensor) b2 = tensor_pow_scalar (b, 2);
  return tensor_sub (t, b2, NULL);
}

static void
test_q_example (void)
{
  gint tensors_before = tensor_live_count ();
  gint nodes_before = node_live_count ();
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (Tensor) a = vec2 (2, 3, true);
    g_autoptr (Tensor) b = vec2 (6, 4, true);
    g_autoptr (Tensor) Q = build_q (a, b);
    assert_values (Q, 2, (float[]){ -12, 65 });

    /* The graph: SubBackward0 → (MulBackward0 → (PowBackward0 → AccumulateGrad(a), None),
     *                            PowBackward0 → AccumulateGrad(b)). */
    Node *sub = Q->grad_fn;
    g_assert_cmpstr (node_name (sub), ==, "SubBackward0");
    g_assert_cmpint (sub->n_next, ==, 2);
    Node *mul = sub->next[0].node, *pow_b = sub->next[1].node;
    g_assert_cmpstr (node_name (mul), ==, "MulBackward0");
    g_assert_cmpstr (node_name (pow_b), ==, "PowBackward0");
    g_assert_cmpint (mul->n_next, ==, 2);
    g_assert_null (mul->next[1].node);
    Node *pow_a = mul->next[0].node;
    g_assert_cmpstr (node_name (pow_a), ==, "PowBackward0");
    g_assert_cmpstr (node_name (pow_a->next[0].node), ==, "AccumulateGrad");
    g_assert_true (pow_a->next[0].node->variable == a);
    g_assert_true (pow_b->next[0].node->variable == b);
    g_assert_true (pow_a->seq < mul->seq && mul->seq < pow_b->seq && pow_b->seq < sub->seq);
    g_assert_true (tensor_is_leaf (a) && !tensor_is_leaf (Q));
    g_assert_null (a->grad);

    g_autofree char *repr = tensor_to_string (Q);
    g_assert_cmpstr (repr, ==, "tensor([-12.,  65.], grad_fn=<SubBackward0>)");

    /* Without a gradient, a non-scalar root fails with PyTorch's message. */
    g_assert_false (tensor_backward (Q, NULL, false, &error));
    g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_SCALAR);
    g_assert_cmpstr (error->message, ==, "grad can be implicitly created only for scalar outputs");
    g_clear_error (&error);

    g_autoptr (Tensor) ones = tensor_new_ones (1, (int64_t[]){ 2 });
    g_assert_true (tensor_backward (Q, ones, false, &error));
    g_assert_no_error (error);
    assert_values (a->grad, 2, (float[]){ 36, 81 });
    assert_values (b->grad, 2, (float[]){ -12, -8 });

    /* 9*a**2 == a.grad and -2*b == b.grad, exactly. */
    g_autoptr (Tensor) a2 = tensor_pow_scalar (a, 2);
    g_autoptr (Tensor) nine_a2 = tensor_mul_scalar (a2, 9);
    g_autoptr (Tensor) minus_2b = tensor_mul_scalar (b, -2);
    g_assert_true (tensor_equal_values (nine_a2, a->grad));
    g_assert_true (tensor_equal_values (minus_2b, b->grad));

    /* A second backward through freed saved tensors fails, crash-free. */
    g_assert_false (tensor_backward (Q, ones, false, &error));
    g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_GRAPH_FREED);
    g_assert_true (g_str_has_prefix (error->message,
                                     "Trying to backward through the graph a second time"));
    g_assert_true (g_str_has_suffix (error->message, "after calling backward."));
    g_clear_error (&error);
    assert_values (a->grad, 2, (float[]){ 36, 81 });

    /* Rebuilding Q and backpropagating again accumulates. */
    g_autoptr (Tensor) Q2 = build_q (a, b);
    g_assert_true (tensor_backward (Q2, ones, false, &error));
    assert_values (a->grad, 2, (float[]){ 72, 162 });
    assert_values (b->grad, 2, (float[]){ -24, -16 });
    g_assert_cmpint (a->grad_passes, ==, 2);
  }
  /* Nothing leaks once the roots are gone. */
  g_assert_cmpint (tensor_live_count (), ==, tensors_before);
  g_assert_cmpint (node_live_count (), ==, nodes_before);
}

static void
test_requires_grad (void)
{
  Generator gen;
  generator_init (&gen, 0);
  int64_t shape[] = { 5, 5 };
  g_autoptr (Tensor) x = tensor_new_rand (2, shape, &gen);
  g_autoptr (Tensor) y = tensor_new_rand (2, shape, &gen);
  g_autoptr (Tensor) z = tensor_new_rand (2, shape, &gen);
  tensor_set_requires_grad (z, true, NULL);

  g_autoptr (Tensor) a = tensor_add (x, y, NULL);
  g_assert_false (a->requires_grad);
  g_assert_null (a->grad_fn);
  g_assert_true (tensor_is_leaf (a));

  g_autoptr (Tensor) b = tensor_add (x, z, NULL);
  g_assert_true (b->requires_grad);
  g_assert_cmpstr (node_name (b->grad_fn), ==, "AddBackward0");
  g_assert_null (b->grad_fn->next[0].node);  /* x: a None slot */
  g_assert_cmpstr (node_name (b->grad_fn->next[1].node), ==, "AccumulateGrad");

  /* backward on a tensor that does not require grad. */
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) s = tensor_sum (a);
  g_assert_false (tensor_backward (s, NULL, false, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NO_GRAD);
  g_assert_cmpstr (error->message, ==,
                   "element 0 of tensors does not require grad and does not have a grad_fn");

  /* no_grad records nothing. */
  bool was = grad_mode_set_enabled (false);
  g_autoptr (Tensor) c = tensor_mul (z, z, NULL);
  grad_mode_set_enabled (was);
  g_assert_null (c->grad_fn);
  g_assert_false (c->requires_grad);

  /* requires_grad can only be set on leaves. */
  g_clear_error (&error);
  g_assert_false (tensor_set_requires_grad (b, false, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_LEAF);

  /* detach shares data and has no history. */
  g_autoptr (Tensor) d = tensor_detach (b);
  g_assert_null (d->grad_fn);
  g_assert_false (d->requires_grad);
  g_assert_true (d->data == b->data);
}

/* torch.manual_seed(0); torch.rand(5) */
static void
test_rand_matches_torch (void)
{
  Generator gen;
  generator_init (&gen, 0);
  g_autoptr (Tensor) t = tensor_new_rand (1, (int64_t[]){ 5 }, &gen);
  assert_values (t, 5, (float[]){ 0.4962566f, 0.7682218f, 0.08847743f, 0.13203049f, 0.30742282f });
}

/* A diamond: y = x·2, u = y³, v = exp(y), out = (u + v).sum(). y gets two
 * gradients, summed before MulBackward0 runs once. */
typedef struct
{
  GPtrArray *order;
} Recorder;

static gboolean
record_event (const Event *event, gpointer user_data)
{
  Recorder *r = user_data;
  if (event->kind == EVENT_NODE_BEGIN)
    g_ptr_array_add (r->order, (gpointer) node_name (event->node));
  return TRUE;
}

static void
test_diamond_order (void)
{
  g_autoptr (Tensor) x = vec2 (0.5f, -1.0f, true);
  g_autoptr (Tensor) y = tensor_mul_scalar (x, 2);
  g_autoptr (Tensor) u = tensor_pow_scalar (y, 3);
  g_autoptr (Tensor) v = tensor_exp (y);
  g_autoptr (Tensor) w = tensor_add (u, v, NULL);
  g_autoptr (Tensor) out = tensor_sum (w);

  Recorder r = { g_ptr_array_new () };
  autograd_set_observer (record_event, &r);
  g_assert_true (tensor_backward (out, NULL, true, NULL));
  autograd_set_observer (NULL, NULL);

  const char *expected[] = { "SumBackward0", "AddBackward0", "ExpBackward0", "PowBackward0",
                             "MulBackward0", "AccumulateGrad" };
  g_assert_cmpint (r.order->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (g_ptr_array_index (r.order, i), ==, expected[i]);
  g_ptr_array_unref (r.order);

  /* d/dx = 2·(3y² + eʸ) */
  for (int i = 0; i < 2; i++)
    {
      double yi = 2 * x->data[i];
      g_assert_cmpfloat_with_epsilon (x->grad->data[i], 2 * (3 * yi * yi + exp (yi)), 1e-4);
    }

  /* retain_graph: a second pass works and accumulates. */
  float first = x->grad->data[0];
  g_assert_true (tensor_backward (out, NULL, false, NULL));
  g_assert_cmpfloat_with_epsilon (x->grad->data[0], 2 * first, 1e-4);
}

static void
test_retain_grad (void)
{
  g_autoptr (Tensor) x = vec2 (1, 2, true);
  g_autoptr (Tensor) y = tensor_mul_scalar (x, 3);
  g_autoptr (Tensor) z = tensor_pow_scalar (y, 2);
  g_autoptr (Tensor) s = tensor_sum (z);
  g_assert_true (tensor_retain_grad (y, NULL));
  g_assert_true (tensor_backward (s, NULL, false, NULL));
  assert_values (y->grad, 2, (float[]){ 6, 12 });     /* 2y */
  assert_values (x->grad, 2, (float[]){ 18, 36 });    /* 3·2y */
  g_assert_null (z->grad);                             /* not retained: None */
}

/* A hook that doubles the gradient and counts its calls. */
static gboolean
double_hook (const Tensor *grad, Tensor **replacement, gpointer user_data, GError **error)
{
  (*(int *) user_data)++;
  *replacement = tensor_mul_scalar ((Tensor *) grad, 2);
  return TRUE;
}

static void
test_hooks (void)
{
  int calls = 0;
  g_autoptr (Tensor) x = vec2 (1, 2, true);
  g_autoptr (Tensor) y = tensor_mul_scalar (x, 3);
  g_autoptr (Tensor) s = tensor_sum (y);
  g_assert_true (tensor_retain_grad (y, NULL));       /* asked first: sees the original */
  guint id = autograd_add_hook (y, double_hook, &calls, NULL);
  autograd_add_hook (x, double_hook, &calls, NULL);   /* a leaf's: before AccumulateGrad */
  g_assert_true (tensor_backward (s, NULL, true, NULL));
  g_assert_cmpint (calls, ==, 2);
  assert_values (y->grad, 2, (float[]){ 1, 1 });
  assert_values (x->grad, 2, (float[]){ 12, 12 });    /* 3·2, doubled again */
  autograd_remove_hook (y, id);
  autograd_remove_hook (y, id);                       /* a second removal does nothing */
  g_assert_true (tensor_backward (s, NULL, false, NULL));
  g_assert_cmpint (calls, ==, 3);
  assert_values (x->grad, 2, (float[]){ 18, 18 });
}

static void
test_grad (void)
{
  g_autoptr (Tensor) x = vec2 (1, 2, true);
  g_autoptr (Tensor) w = vec2 (3, 4, true);
  g_autoptr (Tensor) h = tensor_mul (x, x, NULL);
  g_autoptr (Tensor) p = tensor_mul (h, w, NULL);
  g_autoptr (Tensor) s = tensor_sum (p);
  Tensor *grads[2];
  g_assert_true (autograd_grad (1, &s, NULL, 2, (Tensor *[]){ h, x }, true, false, grads, NULL));
  assert_values (grads[0], 2, (float[]){ 3, 4 });     /* w */
  assert_values (grads[1], 2, (float[]){ 6, 16 });    /* 2xw */
  g_assert_null (x->grad);                            /* .grad untouched */
  g_assert_null (w->grad);
  tensor_unref (grads[0]);
  tensor_unref (grads[1]);
  g_autoptr (Tensor) unused = vec2 (0, 0, true);
  g_autoptr (GError) error = NULL;
  g_assert_false (autograd_grad (1, &s, NULL, 1, &unused, true, false, grads, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_UNUSED);
  g_assert_true (autograd_grad (1, &s, NULL, 1, &unused, false, true, grads, NULL));
  g_assert_null (grads[0]);
}

static void
test_zero_grad_and_leaf_root (void)
{
  g_autoptr (Tensor) x = vec2 (1, 2, true);
  g_autoptr (Tensor) g = tensor_new_ones (1, (int64_t[]){ 2 });
  g_assert_true (tensor_backward (x, g, false, NULL));  /* a leaf root */
  assert_values (x->grad, 2, (float[]){ 1, 1 });
  tensor_zero_grad (x);
  g_assert_null (x->grad);
}

static void
test_op_table (void)
{
  for (int op = 0; op < OP_COUNT; op++)
    {
      g_assert_nonnull (op_info[op].name);
      g_assert_nonnull (op_info[op].symbol);
      g_assert_true (op == OP_ACCUMULATE_GRAD || op_info[op].backward != NULL);
    }
}

static void
test_print (void)
{
  g_autoptr (Tensor) a = vec2 (2, 3, true);
  g_autofree char *s1 = tensor_to_string (a);
  g_assert_cmpstr (s1, ==, "tensor([2., 3.], requires_grad=True)");
  g_autoptr (Tensor) m = tensor_new_from_data (2, (int64_t[]){ 2, 2 },
                                               (float[]){ 0.5f, -1.25f, 3, 10.125f });
  g_autofree char *s2 = tensor_to_string (m);
  g_assert_cmpstr (s2, ==, "tensor([[ 0.5000, -1.2500],\n        [ 3.0000, 10.1250]])");
  g_autoptr (Tensor) sc = tensor_new_scalar (1e-5f);
  g_autofree char *s3 = tensor_to_string (sc);
  g_assert_cmpstr (s3, ==, "tensor(1.0000e-05)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/autograd/q-example", test_q_example);
  g_test_add_func ("/engine/autograd/requires-grad", test_requires_grad);
  g_test_add_func ("/engine/autograd/rand-matches-torch", test_rand_matches_torch);
  g_test_add_func ("/engine/autograd/diamond-order", test_diamond_order);
  g_test_add_func ("/engine/autograd/retain-grad", test_retain_grad);
  g_test_add_func ("/engine/autograd/zero-grad", test_zero_grad_and_leaf_root);
  g_test_add_func ("/engine/autograd/hooks", test_hooks);
  g_test_add_func ("/engine/autograd/grad", test_grad);
  g_test_add_func ("/engine/autograd/op-table", test_op_table);
  g_test_add_func ("/engine/autograd/print", test_print);
  return g_test_run ();
}

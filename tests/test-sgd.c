/* test-sgd.c — torch.optim.SGD: the two-step momentum formula, weight decay,
 * dampening and nesterov against hand computation, frozen parameters, zero_grad,
 * the events, and BatchNorm's running statistics under a frozen model. */
#include "sgd.h"

#include <math.h>
#include <string.h>

/* A tiny model: Sequential(Linear(3, 2), ReLU, Linear(2, 2)), names "0.weight", ... */
static Module *
tiny_model (uint64_t seed)
{
  Generator gen;
  generator_init (&gen, seed);
  Module *m = sequential_new ();
  module_add_child (m, "0", linear_new (3, 2, &gen));
  module_add_child (m, "1", relu_new ());
  module_add_child (m, "2", linear_new (2, 2, &gen));
  return m;
}

static Tensor *
param (Module *m, const char *name)
{
  g_autoptr (GPtrArray) params = module_named_tensors (m);
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      if (g_str_equal (mt->name, name))
        return mt->tensor;
    }
  g_assert_not_reached ();
}

/* Sets p.grad to a seeded random tensor (a copy is returned for hand computation). */
static Tensor *
set_grad (Tensor *p, Generator *gen)
{
  g_clear_pointer (&p->grad, tensor_unref);
  p->grad = tensor_new_empty (p->ndim, p->shape);
  tensor_fill_uniform (p->grad, gen, -1, 1);
  return tensor_copy (p->grad);
}

static void
assert_close (const Tensor *t, const double *expected, double tol)
{
  for (int64_t i = 0; i < t->numel; i++)
    g_assert_cmpfloat_with_epsilon (t->data[i], expected[i], tol * MAX (1.0, fabs (expected[i])));
}

/* lr = 1e-2, momentum = 0.9: step 1 is p −= 0.01·g1, step 2 is p −= 0.01·(0.9·g1 + g2). */
static void
test_two_step_momentum (void)
{
  g_autoptr (Module) model = tiny_model (0);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2f, .momentum = 0.9f });
  g_assert_cmpuint (optim->params->len, ==, 4);
  g_assert_cmpstr (g_array_index (optim->params, SgdParam, 0).name, ==, "0.weight");
  g_assert_cmpstr (g_array_index (optim->params, SgdParam, 3).name, ==, "2.bias");

  Tensor *w = param (model, "0.weight");
  g_autoptr (Tensor) p0 = tensor_copy (w);
  Generator gen;
  generator_init (&gen, 11);
  g_autoptr (Tensor) g1 = set_grad (w, &gen);

  const SgdParam *sp = sgd_find (optim, "0.weight");
  g_assert_nonnull (sp);
  g_assert_null (sp->momentum_buffer);
  sgd_step (optim);
  double expect[6];
  for (int i = 0; i < 6; i++)
    expect[i] = p0->data[i] - 0.01 * g1->data[i];
  assert_close (w, expect, 1e-6);
  /* The buffer is a copy of g1, and the last update is what p moved by. */
  g_assert_nonnull (sp->momentum_buffer);
  g_assert_true (tensor_equal_values (sp->momentum_buffer, g1));
  g_assert_true (sp->momentum_buffer->data != w->grad->data);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (sp->last_update->data[i], -0.01 * g1->data[i], 1e-7);
  /* Parameters without .grad were skipped. */
  g_assert_null (sgd_find (optim, "2.weight")->momentum_buffer);
  g_assert_null (sgd_find (optim, "2.weight")->last_update);

  g_autoptr (Tensor) g2 = set_grad (w, &gen);
  sgd_step (optim);
  for (int i = 0; i < 6; i++)
    expect[i] = p0->data[i] - 0.01 * g1->data[i] - 0.01 * (0.9 * g1->data[i] + g2->data[i]);
  assert_close (w, expect, 1e-6);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (sp->momentum_buffer->data[i],
                                    0.9 * g1->data[i] + g2->data[i], 1e-6);
  g_assert_cmpint (optim->steps, ==, 2);
  g_assert_null (sgd_find (optim, "nope"));
}

/* weight_decay, dampening and nesterov, by hand in double over three steps. */
static void
check_options (const SgdOptions *o)
{
  g_autoptr (Module) model = tiny_model (1);
  g_autoptr (Sgd) optim = sgd_new (model, o);
  Tensor *b = param (model, "0.bias");
  double p[2] = { b->data[0], b->data[1] }, buf[2] = { 0, 0 };
  Generator gen;
  generator_init (&gen, 5);
  for (int step = 0; step < 3; step++)
    {
      g_autoptr (Tensor) g = set_grad (b, &gen);
      sgd_step (optim);
      for (int i = 0; i < 2; i++)
        {
          double d = g->data[i] + o->weight_decay * p[i];
          if (o->momentum != 0)
            {
              buf[i] = step == 0 ? d : o->momentum * buf[i] + (1 - o->dampening) * d;
              d = o->nesterov ? d + o->momentum * buf[i] : buf[i];
            }
          p[i] -= o->lr * d;
        }
      assert_close (b, p, 1e-6);
    }
  const SgdParam *sp = sgd_find (optim, "0.bias");
  if (o->momentum != 0)
    assert_close (sp->momentum_buffer, buf, 1e-6);
  else
    g_assert_null (sp->momentum_buffer);
}

static void
test_options (void)
{
  check_options (&(SgdOptions){ .lr = 0.1f });
  check_options (&(SgdOptions){ .lr = 0.05f, .weight_decay = 0.3f });
  check_options (&(SgdOptions){ .lr = 0.05f, .momentum = 0.8f, .dampening = 0.25f });
  check_options (&(SgdOptions){ .lr = 0.05f, .momentum = 0.9f, .nesterov = true });
  check_options (&(SgdOptions){ .lr = 0.02f, .momentum = 0.5f, .weight_decay = 0.1f,
                                .nesterov = true });
}

typedef struct
{
  int updated, zeroed;
  GPtrArray *names;
} Counts;

static gboolean
count_events (const Event *ev, gpointer data)
{
  Counts *c = data;
  if (ev->kind == EVENT_PARAM_UPDATED)
    {
      c->updated++;
      g_ptr_array_add (c->names, g_strdup (ev->tensor->name));
    }
  else if (ev->kind == EVENT_GRADS_ZEROED)
    c->zeroed++;
  return TRUE;
}

/* A real forward and backward: the frozen first layer gets no .grad, so no buffer,
 * and does not move; zero_grad sets every .grad to None. */
static void
test_frozen_and_zero_grad (void)
{
  g_autoptr (Module) model = tiny_model (2);
  module_set_requires_grad (module_find (model, "0"), false);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2f, .momentum = 0.9f });
  g_assert_cmpuint (optim->params->len, ==, 4);  /* frozen ones too, as model.parameters() */

  Tensor *w0 = param (model, "0.weight"), *w2 = param (model, "2.weight");
  g_autoptr (Tensor) w0_before = tensor_copy (w0);
  g_autoptr (Tensor) w2_before = tensor_copy (w2);
  g_autoptr (Tensor) first_grad = NULL;
  Counts counts = { .names = g_ptr_array_new_with_free_func (g_free) };
  autograd_set_observer (count_events, &counts);
  for (int step = 0; step < 2; step++)
    {
      g_autoptr (Tensor) x = tensor_new_from_data (2, (int64_t[]){ 2, 3 },
                                                   (float[]){ 1, 2, 3, -1, 0.5f, 2 });
      g_autoptr (GError) error = NULL;
      g_autoptr (Tensor) y = module_forward (model, x, &error);
      g_assert_no_error (error);
      g_autoptr (Tensor) loss = tensor_sum (y);
      g_assert_true (tensor_backward (loss, NULL, false, &error));
      if (step == 0)
        first_grad = tensor_copy (w2->grad);
      sgd_step (optim);
    }
  autograd_set_observer (NULL, NULL);

  g_assert_null (w0->grad);
  g_assert_true (tensor_equal_values (w0, w0_before));
  g_assert_null (sgd_find (optim, "0.weight")->momentum_buffer);
  g_assert_null (sgd_find (optim, "0.bias")->momentum_buffer);
  g_assert_nonnull (w2->grad);
  g_assert_false (tensor_equal_values (w2, w2_before));
  g_assert_nonnull (sgd_find (optim, "2.weight")->momentum_buffer);
  g_assert_nonnull (sgd_find (optim, "2.bias")->momentum_buffer);
  /* Two steps × the two trainable parameters, each named. */
  g_assert_cmpint (counts.updated, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (counts.names, 0), ==, "2.weight");
  g_assert_cmpstr (g_ptr_array_index (counts.names, 1), ==, "2.bias");
  /* Without zero_grad, the second backward added to the first: y is linear in w2
   * with the same input, so .grad is twice one pass's. */
  g_assert_cmpint (w2->grad_passes, ==, 2);
  for (int64_t i = 0; i < w2->numel; i++)
    g_assert_cmpfloat_with_epsilon (w2->grad->data[i], 2 * first_grad->data[i], 1e-6);

  autograd_set_observer (count_events, &counts);
  sgd_zero_grad (optim);
  autograd_set_observer (NULL, NULL);
  g_assert_cmpint (counts.zeroed, ==, 1);
  g_assert_null (w2->grad);
  g_assert_null (param (model, "2.bias")->grad);
  /* A step with every .grad None moves nothing. */
  g_autoptr (Tensor) w2_after = tensor_copy (w2);
  sgd_step (optim);
  g_assert_true (tensor_equal_values (w2, w2_after));
  g_assert_null (sgd_find (optim, "2.weight")->last_update);
  g_ptr_array_unref (counts.names);

  /* module_zero_grad does the same from the model's side. */
  g_autoptr (Tensor) x = tensor_new_ones (2, (int64_t[]){ 1, 3 });
  g_autoptr (Tensor) y = module_forward (model, x, NULL);
  g_autoptr (Tensor) loss = tensor_sum (y);
  g_assert_true (tensor_backward (loss, NULL, false, NULL));
  g_assert_nonnull (w2->grad);
  module_zero_grad (model);
  g_assert_null (w2->grad);
}

/* As in PyTorch, .grad decides, not requires_grad: a parameter frozen after its
 * backward still moves on the next step. */
static void
test_grad_decides (void)
{
  g_autoptr (Module) model = tiny_model (3);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 0.5f });
  Tensor *b = param (model, "2.bias");
  Generator gen;
  generator_init (&gen, 9);
  g_autoptr (Tensor) g = set_grad (b, &gen);
  b->requires_grad = false;
  float before = b->data[0];
  sgd_step (optim);
  g_assert_cmpfloat_with_epsilon (b->data[0], before - 0.5 * g->data[0], 1e-6);
}

/* A frozen conv + BN: no parameter gets a gradient, yet BatchNorm in training mode
 * updates its running statistics and counter; SGD leaves everything in place. */
static void
test_frozen_batch_norm_stats (void)
{
  Generator gen;
  generator_init (&gen, 4);
  g_autoptr (Module) model = sequential_new ();
  module_add_child (model, "0", conv2d_new (2, 3, 3, 1, 1, false, &gen));
  module_add_child (model, "1", batch_norm2d_new (3));
  module_add_child (model, "2", relu_new ());
  Module *bn = module_find (model, "1");
  module_set_requires_grad (model, false);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2f, .momentum = 0.9f });

  g_autoptr (Tensor) x = tensor_new_rand (4, (int64_t[]){ 2, 2, 4, 4 }, &gen);
  tensor_set_requires_grad (x, true, NULL);  /* something to backward through */
  Tensor *rm = param (model, "1.running_mean"), *rv = param (model, "1.running_var");
  g_autoptr (Tensor) rm0 = tensor_copy (rm);
  g_autoptr (Tensor) rv0 = tensor_copy (rv);
  g_autoptr (Tensor) bn_w0 = tensor_copy (param (model, "1.weight"));

  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) y = module_forward (model, x, &error);
  g_assert_no_error (error);
  g_autoptr (Tensor) loss = tensor_sum (y);
  g_assert_true (tensor_backward (loss, NULL, false, &error));
  sgd_step (optim);

  g_assert_cmpint (bn->num_batches_tracked, ==, 1);
  g_assert_false (tensor_equal_values (rm, rm0));
  g_assert_false (tensor_equal_values (rv, rv0));
  g_assert_null (param (model, "1.weight")->grad);
  g_assert_true (tensor_equal_values (param (model, "1.weight"), bn_w0));
  for (guint i = 0; i < optim->params->len; i++)
    g_assert_null (g_array_index (optim->params, SgdParam, i).momentum_buffer);
  g_assert_nonnull (x->grad);

  /* The running mean moved by momentum 0.1 toward the batch mean of the conv output. */
  g_autoptr (Tensor) conv_out = module_forward (module_find (model, "0"), x, NULL);
  int64_t hw = 16, n = 2;
  for (int c = 0; c < 3; c++)
    {
      double mean = 0;
      for (int64_t b = 0; b < n; b++)
        for (int64_t k = 0; k < hw; k++)
          mean += conv_out->data[(b * 3 + c) * hw + k];
      mean /= n * hw;
      g_assert_cmpfloat_with_epsilon (rm->data[c], 0.1 * mean, 1e-6);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/sgd/two-step-momentum", test_two_step_momentum);
  g_test_add_func ("/engine/sgd/options", test_options);
  g_test_add_func ("/engine/sgd/frozen-and-zero-grad", test_frozen_and_zero_grad);
  g_test_add_func ("/engine/sgd/grad-decides", test_grad_decides);
  g_test_add_func ("/engine/sgd/frozen-batch-norm-stats", test_frozen_batch_norm_stats);
  return g_test_run ();
}

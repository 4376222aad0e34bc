/* test-ops.c — finite-difference checks of every op's backward, broadcasting,
 * names and edges, and the BLAS matmul against its naive reference. */
#include "gradcheck.h"

#define TOL 1e-2

typedef enum
{
  CASE_ADD, CASE_SUB, CASE_MUL, CASE_DIV, CASE_ADD_S, CASE_MUL_S, CASE_DIV_S, CASE_RSUB_S,
  CASE_POW, CASE_NEG, CASE_EXP, CASE_LOG, CASE_RELU, CASE_SUM, CASE_MEAN, CASE_SUM_DIMS,
  CASE_MEAN_DIMS, CASE_VIEW, CASE_T, CASE_MM, CASE_ADDMM, CASE_LINEAR, CASE_NORM,
  CASE_COUNT
} Case;

static const char *case_names[CASE_COUNT] = {
  "add", "sub", "mul", "div", "add-scalar", "mul-scalar", "div-scalar", "rsub-scalar",
  "pow", "neg", "exp", "log", "relu", "sum", "mean", "sum-dims", "mean-dims", "view", "t",
  "mm", "addmm", "linear", "norm",
};

/* grad_fn names PyTorch gives each case. */
static const char *case_grad_fn[CASE_COUNT] = {
  "AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0", "AddBackward0",
  "MulBackward0", "DivBackward0", "RsubBackward1", "PowBackward0", "NegBackward0",
  "ExpBackward0", "LogBackward0", "ReluBackward0", "SumBackward0", "MeanBackward0",
  "SumBackward1", "MeanBackward1", "ViewBackward0", "TBackward0", "MmBackward0",
  "AddmmBackward0", "AddmmBackward0", "NormBackward1",
};

static Tensor *
run_case (Tensor **in, gpointer data)
{
  Case c = GPOINTER_TO_INT (data);
  switch (c)
    {
    case CASE_ADD: return tensor_add (in[0], in[1], NULL);
    case CASE_SUB: return tensor_sub (in[0], in[1], NULL);
    case CASE_MUL: return tensor_mul (in[0], in[1], NULL);
    case CASE_DIV: return tensor_div (in[0], in[1], NULL);
    case CASE_ADD_S: return tensor_add_scalar (in[0], 1.5f);
    case CASE_MUL_S: return tensor_mul_scalar (in[0], -2.5f);
    case CASE_DIV_S: return tensor_div_scalar (in[0], 4.0f);
    case CASE_RSUB_S: return tensor_rsub_scalar (in[0], 2.0f);
    case CASE_POW: return tensor_pow_scalar (in[0], 3.0f);
    case CASE_NEG: return tensor_neg (in[0]);
    case CASE_EXP: return tensor_exp (in[0]);
    case CASE_LOG: return tensor_log (in[0]);
    case CASE_RELU: return tensor_relu (in[0]);
    case CASE_SUM: return tensor_sum (in[0]);
    case CASE_MEAN: return tensor_mean (in[0]);
    case CASE_SUM_DIMS: return tensor_sum_dims (in[0], 2, (int[]){ 0, -1 }, false, NULL);
    case CASE_MEAN_DIMS: return tensor_mean_dims (in[0], 2, (int[]){ 2, 3 }, true, NULL);
    case CASE_VIEW: return tensor_view (in[0], 2, (int64_t[]){ -1, 6 }, NULL);
    case CASE_T: return tensor_t (in[0], NULL);
    case CASE_MM: return tensor_mm (in[0], in[1], NULL);
    case CASE_ADDMM: return tensor_addmm (in[2], in[0], in[1], NULL);
    case CASE_LINEAR: return tensor_linear (in[0], in[1], in[2], NULL);
    case CASE_NORM: return tensor_norm (in[0]);
    case CASE_COUNT: break;
    }
  g_assert_not_reached ();
}

static void
test_op_gradient (gconstpointer data)
{
  Case c = GPOINTER_TO_INT (data);
  Generator gen;
  generator_init (&gen, 42 + c);
  Tensor *in[3] = { NULL };
  int n = 1;
  /* A random shape for elementwise cases, (2..4, 3, 2..3, 2) so view(-1, 6) fits. */
  int64_t shape[4] = { 2 + generator_next_u32 (&gen) % 3, 3, 2 + generator_next_u32 (&gen) % 2, 2 };
  switch (c)
    {
    case CASE_ADD: case CASE_SUB: case CASE_MUL: case CASE_DIV:
      /* Broadcast a (N, 3, H, W) tensor against a (3, 1, W) one. */
      in[0] = gradcheck_input (4, shape, &gen, 0.5f, 2.0f);
      in[1] = gradcheck_input (3, (int64_t[]){ 3, 1, 2 }, &gen, 0.5f, 2.0f);
      n = 2;
      break;
    case CASE_LOG:
      in[0] = gradcheck_input (4, shape, &gen, 0.5f, 2.0f);
      break;
    case CASE_RELU:
      in[0] = gradcheck_input (4, shape, &gen, -1.0f, 1.0f);
      /* Keep clear of the kink, where finite differences lie. */
      for (int64_t k = 0; k < in[0]->numel; k++)
        if (fabsf (in[0]->data[k]) < 0.05f)
          in[0]->data[k] = 0.3f;
      break;
    case CASE_T:
      in[0] = gradcheck_input (2, (int64_t[]){ 3, 5 }, &gen, -1, 1);
      break;
    case CASE_MM: case CASE_ADDMM:
      in[0] = gradcheck_input (2, (int64_t[]){ 4, 5 }, &gen, -1, 1);
      in[1] = gradcheck_input (2, (int64_t[]){ 5, 3 }, &gen, -1, 1);
      in[2] = gradcheck_input (1, (int64_t[]){ 3 }, &gen, -1, 1);
      n = c == CASE_MM ? 2 : 3;
      break;
    case CASE_LINEAR:
      in[0] = gradcheck_input (2, (int64_t[]){ 4, 5 }, &gen, -1, 1);
      in[1] = gradcheck_input (2, (int64_t[]){ 3, 5 }, &gen, -1, 1);
      in[2] = gradcheck_input (1, (int64_t[]){ 3 }, &gen, -1, 1);
      n = 3;
      break;
    default:
      in[0] = gradcheck_input (4, shape, &gen, -1.0f, 1.0f);
      break;
    }

  /* The recorded node has PyTorch's name and one edge per input. */
  {
    g_autoptr (Tensor) out = run_case (in, GINT_TO_POINTER (c));
    g_assert_nonnull (out);
    g_assert_nonnull (out->grad_fn);
    g_assert_cmpstr (node_name (out->grad_fn), ==, case_grad_fn[c]);
  }

  double worst = gradcheck (run_case, GINT_TO_POINTER (c), n, in, 1e-2f, 64);
  g_test_message ("%s: worst relative error %.2e", case_names[c], worst);
  g_assert_cmpfloat (worst, <, TOL);
  for (int i = 0; i < 3; i++)
    g_clear_pointer (&in[i], tensor_unref);
}

/* linear(x, W, b) records AddmmBackward0 → (b, x, TBackward0 → W); an x that needs no
 * grad is a None slot, as in the fine-tuning graph. */
static void
test_linear_edges (void)
{
  Generator gen;
  generator_init (&gen, 7);
  g_autoptr (Tensor) x = tensor_new_rand (2, (int64_t[]){ 1, 512 }, &gen);
  g_autoptr (Tensor) w = gradcheck_input (2, (int64_t[]){ 10, 512 }, &gen, -0.1f, 0.1f);
  g_autoptr (Tensor) b = gradcheck_input (1, (int64_t[]){ 10 }, &gen, -0.1f, 0.1f);
  g_autoptr (Tensor) y = tensor_linear (x, w, b, NULL);
  Node *addmm = y->grad_fn;
  g_assert_cmpstr (node_name (addmm), ==, "AddmmBackward0");
  g_assert_cmpint (addmm->n_next, ==, 3);
  g_assert_true (addmm->next[0].node->variable == b);
  g_assert_null (addmm->next[1].node);
  g_assert_cmpstr (node_name (addmm->next[2].node), ==, "TBackward0");
  g_assert_true (addmm->next[2].node->next[0].node->variable == w);
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (addmm);
  g_assert_cmpint (nodes->len, ==, 4);
}

static void
test_matmul_naive (void)
{
  Generator gen;
  generator_init (&gen, 3);
  for (int trial = 0; trial < 8; trial++)
    {
      int m = 1 + generator_next_u32 (&gen) % 70, n = 1 + generator_next_u32 (&gen) % 70;
      int k = 1 + generator_next_u32 (&gen) % 200;
      bool ta = trial & 1, tb = trial & 2;
      g_autoptr (Tensor) a = tensor_new_rand (1, (int64_t[]){ m * k }, &gen);
      g_autoptr (Tensor) b = tensor_new_rand (1, (int64_t[]){ k * n }, &gen);
      g_autoptr (Tensor) c1 = tensor_new_rand (1, (int64_t[]){ m * n }, &gen);
      g_autoptr (Tensor) c2 = tensor_copy (c1);
      float beta = trial & 4 ? 1.0f : 0.0f;
      matmul_forward (c1->data, a->data, b->data, ta, tb, 0.5f, beta, m, n, k);
      matmul_forward_naive (c2->data, a->data, b->data, ta, tb, 0.5f, beta, m, n, k);
      g_assert_true (tensor_allclose (c1, c2, 1e-5f, 1e-4f));
    }
}

static void
test_broadcast_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) a = tensor_new_zeros (2, (int64_t[]){ 2, 3 });
  g_autoptr (Tensor) b = tensor_new_zeros (2, (int64_t[]){ 2, 4 });
  g_assert_null (tensor_add (a, b, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_null (tensor_mm (a, b, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_null (tensor_view (a, 2, (int64_t[]){ 4, -1 }, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int c = 0; c < CASE_COUNT; c++)
    {
      g_autofree char *path = g_strdup_printf ("/engine/ops/gradcheck/%s", case_names[c]);
      g_test_add_data_func (path, GINT_TO_POINTER (c), test_op_gradient);
    }
  g_test_add_func ("/engine/ops/linear-edges", test_linear_edges);
  g_test_add_func ("/engine/ops/matmul-naive", test_matmul_naive);
  g_test_add_func ("/engine/ops/shape-errors", test_broadcast_errors);
  return g_test_run ();
}

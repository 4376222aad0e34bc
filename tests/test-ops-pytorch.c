/* test-ops-pytorch.c — the ops of ops-unary.c, ops-softmax.c, ops-shape.c,
 * ops-matmul.c, ops-index.c and nn-loss.c against PyTorch, case by case, from
 * tests/data/ops/ops.json (made by make-ops-fixtures.py beside it, PyTorch 1.13
 * with 2.x's names where they differ). For each case:
 *
 *   - the whole grad_fn graph, as text: names, edge order, None slots;
 *   - the forward values, and each input's .grad after backward(grad_output),
 *     within |got − want| ≤ 1e-5 + 1e-5·|want|;
 *   - central finite differences against the backward (gradcheck.h).
 *
 * And: every OpKind these files add shows up in some case's graph; PyTorch's
 * error messages for shapes that do not fit (checked against 1.13, 2.x's words
 * where they differ); comparisons; max's ties; views that share data.
 */
#include "gradcheck.h"
#include "json.h"
#include "nn.h"

#include <string.h>

#define RTOL 1e-5
#define ATOL 1e-5
#define FD_TOL 1e-2

typedef struct
{
  const JsonValue *json;
  int n_inputs;
  int64_t target[8];
  int n_target;
  int64_t indices[64];             /* max_dim / min_dim: what they returned */
} Case;

static JsonValue *fixture;

static const JsonValue *
member (const JsonValue *v, const char *key)
{
  const JsonValue *m = json_value_member (v, key);
  g_assert_nonnull (m);
  return m;
}

static double
number (const JsonValue *v, const char *key, double fallback)
{
  const JsonValue *m = json_value_member (v, key);
  return m ? m->number.value : fallback;
}

static int
shape_of (const JsonValue *shape, int64_t *out)
{
  for (size_t i = 0; i < shape->array.n; i++)
    out[i] = shape->array.items[i]->number.integer;
  return shape->array.n;
}

static LossReduction
reduction_of (const JsonValue *op)
{
  const char *r = member (op, "reduction")->string.str;
  return g_str_equal (r, "none") ? LOSS_REDUCTION_NONE
         : g_str_equal (r, "sum") ? LOSS_REDUCTION_SUM : LOSS_REDUCTION_MEAN;
}

/* One op of a chain: x holds its tensor inputs (n of them). */
static Tensor *
apply_op (const JsonValue *op, Tensor **x, int n, const Case *c, GError **error)
{
  const char *name = member (op, "op")->string.str;
  int dim = number (op, "dim", 0);
  int64_t shape[TENSOR_MAX_DIMS];
  if (g_str_equal (name, "sin")) return tensor_sin (x[0]);
  if (g_str_equal (name, "cos")) return tensor_cos (x[0]);
  if (g_str_equal (name, "tanh")) return tensor_tanh (x[0]);
  if (g_str_equal (name, "sigmoid")) return tensor_sigmoid (x[0]);
  if (g_str_equal (name, "sqrt")) return tensor_sqrt (x[0]);
  if (g_str_equal (name, "abs")) return tensor_abs (x[0]);
  if (g_str_equal (name, "reciprocal")) return tensor_reciprocal (x[0]);
  if (g_str_equal (name, "rdiv_scalar")) return tensor_rdiv_scalar (number (op, "s", 0), x[0]);
  if (g_str_equal (name, "clamp"))
    return tensor_clamp (x[0], json_value_member (op, "min") != NULL, number (op, "min", 0),
                         json_value_member (op, "max") != NULL, number (op, "max", 0), error);
  if (g_str_equal (name, "pow")) return tensor_pow (x[0], x[1], error);
  if (g_str_equal (name, "pow_scalar_base"))
    return tensor_pow_scalar_base (number (op, "s", 0), x[0]);
  if (g_str_equal (name, "softmax")) return tensor_softmax (x[0], dim, error);
  if (g_str_equal (name, "log_softmax")) return tensor_log_softmax (x[0], dim, error);
  if (g_str_equal (name, "max")) return tensor_max (x[0], error);
  if (g_str_equal (name, "min")) return tensor_min (x[0], error);
  bool keepdim = json_value_member (op, "keepdim") != NULL;
  if (g_str_equal (name, "max_dim"))
    return tensor_max_dim (x[0], dim, keepdim, (int64_t *) c->indices, error);
  if (g_str_equal (name, "min_dim"))
    return tensor_min_dim (x[0], dim, keepdim, (int64_t *) c->indices, error);
  if (g_str_equal (name, "sub_scalar")) return tensor_sub_scalar (x[0], number (op, "s", 0));
  if (g_str_equal (name, "mse_loss")) return tensor_mse_loss (x[0], x[1], reduction_of (op), error);
  if (g_str_equal (name, "nll_loss"))
    return tensor_nll_loss (x[0], c->target, c->n_target, reduction_of (op), error);
  if (g_str_equal (name, "cross_entropy"))
    return tensor_cross_entropy (x[0], c->target, c->n_target, reduction_of (op), error);
  if (g_str_equal (name, "unsqueeze")) return tensor_unsqueeze (x[0], dim, error);
  if (g_str_equal (name, "squeeze")) return tensor_squeeze (x[0]);
  if (g_str_equal (name, "squeeze_dim")) return tensor_squeeze_dim (x[0], dim, error);
  if (g_str_equal (name, "reshape"))
    return tensor_reshape (x[0], shape_of (member (op, "shape"), shape), shape, error);
  if (g_str_equal (name, "transpose"))
    return tensor_transpose (x[0], number (op, "dim0", 0), number (op, "dim1", 0), error);
  if (g_str_equal (name, "permute"))
    {
      int64_t d[TENSOR_MAX_DIMS];
      int nd = shape_of (member (op, "dims"), d);
      int dims[TENSOR_MAX_DIMS];
      for (int i = 0; i < nd; i++)
        dims[i] = d[i];
      return tensor_permute (x[0], nd, dims, error);
    }
  if (g_str_equal (name, "T")) return tensor_T (x[0], error);
  if (g_str_equal (name, "t")) return tensor_t (x[0], error);
  if (g_str_equal (name, "expand"))
    return tensor_expand (x[0], shape_of (member (op, "shape"), shape), shape, error);
  if (g_str_equal (name, "select"))
    return tensor_select (x[0], dim, member (op, "index")->number.integer, error);
  if (g_str_equal (name, "slice"))
    return tensor_slice (x[0], dim, member (op, "start")->number.integer,
                         member (op, "end")->number.integer, member (op, "step")->number.integer,
                         error);
  if (g_str_equal (name, "clone")) return tensor_clone (x[0]);
  if (g_str_equal (name, "cat")) return tensor_cat (n, x, dim, error);
  if (g_str_equal (name, "stack")) return tensor_stack (n, x, dim, error);
  if (g_str_equal (name, "mv")) return tensor_mv (x[0], x[1], error);
  if (g_str_equal (name, "dot")) return tensor_dot (x[0], x[1], error);
  if (g_str_equal (name, "bmm")) return tensor_bmm (x[0], x[1], error);
  if (g_str_equal (name, "matmul")) return tensor_matmul (x[0], x[1], error);
  if (g_str_equal (name, "index") || g_str_equal (name, "index_put")
      || g_str_equal (name, "copy_slices"))
    {
      const JsonValue *offs = member (op, "offsets");
      g_autofree int64_t *offsets = g_new (int64_t, offs->array.n + 1);
      for (size_t i = 0; i < offs->array.n; i++)
        offsets[i] = offs->array.items[i]->number.integer;
      int nd = shape_of (member (op, "shape"), shape);
      if (g_str_equal (name, "index"))
        return tensor_index (x[0], offsets, offs->array.n, nd, shape, error);
      /* b = a.clone(); b[key] = v: a needs no grad, so b starts as a plain copy. */
      Tensor *b = tensor_copy (x[0]);
      if (!tensor_index_put_ (b, offsets, offs->array.n, nd, shape, x[1],
                              g_str_equal (name, "index_put"), error))
        g_clear_pointer (&b, tensor_unref);
      return b;
    }
  g_error ("unknown op %s in ops.json", name);
}

/* The case's chain: the first op takes the inputs, each next op the last result. */
static Tensor *
run_case (Tensor **inputs, gpointer data)
{
  const Case *c = data;
  const JsonValue *chain = member (c->json, "chain");
  Tensor *t = NULL;
  for (size_t i = 0; i < chain->array.n; i++)
    {
      g_autoptr (GError) error = NULL;
      Tensor *next = i == 0 ? apply_op (chain->array.items[i], inputs, c->n_inputs, c, &error)
                            : apply_op (chain->array.items[i], &t, 1, c, &error);
      g_assert_no_error (error);
      g_clear_pointer (&t, tensor_unref);
      t = next;
    }
  return t;
}

static void
append_graph (GString *s, const Node *node)
{
  if (node == NULL)
    {
      g_string_append (s, "None");
      return;
    }
  g_string_append (s, node_name (node));
  if (node->op == OP_ACCUMULATE_GRAD)
    return;
  g_string_append_c (s, '(');
  for (int i = 0; i < node->n_next; i++)
    {
      if (i)
        g_string_append (s, ", ");
      append_graph (s, node->next[i].node);
    }
  g_string_append_c (s, ')');
}

static char *
graph_string (const Tensor *t)
{
  GString *s = g_string_new (NULL);
  append_graph (s, t->grad_fn);
  return g_string_free (s, FALSE);
}

static void
assert_values (const char *what, const Tensor *got, const JsonValue *want)
{
  g_assert_cmpint (got->numel, ==, want->array.n);
  for (int64_t i = 0; i < got->numel; i++)
    {
      double w = want->array.items[i]->number.value;
      if (!(fabs (got->data[i] - w) <= ATOL + RTOL * fabs (w)))
        g_error ("%s[%" G_GINT64_FORMAT "]: got %.9g, PyTorch %.9g", what, i, got->data[i], w);
    }
}

static void
test_case (gconstpointer data)
{
  Case c = { .json = data };
  const JsonValue *inputs = member (c.json, "inputs");
  const JsonValue *target = json_value_member (c.json, "target");
  c.n_inputs = inputs->array.n;
  if (target)
    {
      c.n_target = target->array.n;
      for (int i = 0; i < c.n_target; i++)
        c.target[i] = target->array.items[i]->number.integer;
    }
  Tensor *x[NODE_MAX_EDGES] = { NULL };
  for (int i = 0; i < c.n_inputs; i++)
    {
      const JsonValue *in = inputs->array.items[i];
      const JsonValue *values = member (in, "data");
      int64_t shape[TENSOR_MAX_DIMS];
      int ndim = shape_of (member (in, "shape"), shape);
      x[i] = tensor_new_empty (ndim, shape);
      g_assert_cmpint (x[i]->numel, ==, values->array.n);
      for (int64_t k = 0; k < x[i]->numel; k++)
        x[i]->data[k] = values->array.items[k]->number.value;
      if (member (in, "requires_grad")->type == JSON_TRUE)
        tensor_set_requires_grad (x[i], true, NULL);
    }

  /* Graph and forward values. */
  g_autoptr (Tensor) y = run_case (x, &c);
  g_autofree char *graph = graph_string (y);
  g_assert_cmpstr (graph, ==, member (c.json, "grad_fn")->string.str);
  const JsonValue *output = member (c.json, "output");
  int64_t shape[TENSOR_MAX_DIMS];
  int ndim = shape_of (member (output, "shape"), shape);
  g_assert_cmpint (y->ndim, ==, ndim);
  for (int d = 0; d < ndim; d++)
    g_assert_cmpint (y->shape[d], ==, shape[d]);
  assert_values ("output", y, member (output, "data"));
  const JsonValue *indices = json_value_member (c.json, "indices");
  for (size_t k = 0; indices && k < indices->array.n; k++)
    g_assert_cmpint (c.indices[k], ==, indices->array.items[k]->number.integer);

  /* Gradients after backward (grad_output). */
  g_autoptr (Tensor) r = tensor_new_empty (y->ndim, y->shape);
  const JsonValue *rv = member (c.json, "grad_output");
  for (int64_t k = 0; k < r->numel; k++)
    r->data[k] = rv->array.items[k]->number.value;
  g_assert_true (tensor_backward (y, r, false, NULL));
  const JsonValue *grads = member (c.json, "grads");
  for (int i = 0; i < c.n_inputs; i++)
    {
      const JsonValue *want = grads->array.items[i];
      if (want->type == JSON_NULL)
        {
          g_assert_null (x[i]->grad);
          continue;
        }
      g_assert_nonnull (x[i]->grad);
      assert_values ("grad", x[i]->grad, want);
    }

  /* Finite differences, except on a kink (ties of max: no derivative there;
   * max-dim-keepdim and min-dim-3d check the same backward on smooth inputs). */
  if (json_value_member (c.json, "kink") == NULL)
    {
      double worst = gradcheck (run_case, &c, c.n_inputs, x, 1e-3f, 64);
      g_test_message ("%s: worst finite-difference error %.2g",
                      member (c.json, "name")->string.str, worst);
      g_assert_cmpfloat (worst, <, FD_TOL);
    }
  for (int i = 0; i < c.n_inputs; i++)
    tensor_unref (x[i]);
}

/* Every op these files add is exercised by some case. */
static void
test_coverage (void)
{
  const JsonValue *cases = member (fixture, "cases");
  g_autoptr (GString) all = g_string_new (NULL);
  for (size_t i = 0; i < cases->array.n; i++)
    g_string_append_printf (all, "%s ", member (cases->array.items[i], "grad_fn")->string.str);
  for (int op = OP_SIN; op < OP_COUNT; op++)
    {
      g_autofree char *called = g_strconcat (op_info[op].name, "(", NULL);
      if (strstr (all->str, called) == NULL)
        g_error ("no case of ops.json records %s", op_info[op].name);
    }
}

static Tensor *
new_tensor (int ndim, const int64_t *shape, const float *data)
{
  return tensor_new_from_data (ndim, shape, data);
}

/* PyTorch 1.13's messages, word for word (mv: 2.x's, which names the operands). */
static void
test_errors (void)
{
  g_autoptr (Tensor) m23 = tensor_new_zeros (2, (int64_t[]){ 2, 3 });
  g_autoptr (Tensor) m24 = tensor_new_zeros (2, (int64_t[]){ 2, 4 });
  g_autoptr (Tensor) m42 = tensor_new_zeros (2, (int64_t[]){ 4, 2 });
  g_autoptr (Tensor) m32 = tensor_new_zeros (2, (int64_t[]){ 3, 2 });
  g_autoptr (Tensor) v3 = tensor_new_zeros (1, (int64_t[]){ 3 });
  g_autoptr (Tensor) v4 = tensor_new_zeros (1, (int64_t[]){ 4 });
  g_autoptr (Tensor) b234 = tensor_new_zeros (3, (int64_t[]){ 2, 3, 4 });
  g_autoptr (Tensor) b232 = tensor_new_zeros (3, (int64_t[]){ 2, 3, 2 });
  struct { Tensor *result; const char *message; } cases[8];
  GError *errors[G_N_ELEMENTS (cases)] = { NULL };
  cases[0].result = tensor_softmax (m23, 2, &errors[0]);
  cases[0].message = "Dimension out of range (expected to be in range of [-2, 1], but got 2)";
  cases[1].result = tensor_select (m23, 0, 5, &errors[1]);
  cases[1].message = "index 5 is out of bounds for dimension 0 with size 2";
  cases[2].result = tensor_cat (2, (Tensor *[]){ m23, m24 }, 0, &errors[2]);
  cases[2].message = "Sizes of tensors must match except in dimension 0. Expected size 3 but "
                     "got size 4 for tensor number 1 in the list.";
  cases[3].result = tensor_matmul (v3, m42, &errors[3]);
  cases[3].message = "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x2)";
  cases[4].result = tensor_expand (m23, 2, (int64_t[]){ 4, 3 }, &errors[4]);
  cases[4].message = "The expanded size of the tensor (4) must match the existing size (2) at "
                     "non-singleton dimension 0.  Target sizes: [4, 3].  Tensor sizes: [2, 3]";
  cases[5].result = tensor_stack (2, (Tensor *[]){ m23, m32 }, 0, &errors[5]);
  cases[5].message = "stack expects each tensor to be equal size, but got [2, 3] at entry 0 "
                     "and [3, 2] at entry 1";
  cases[6].result = tensor_matmul (b234, m32, &errors[6]);
  cases[6].message = "mat1 and mat2 shapes cannot be multiplied (6x4 and 3x2)";
  cases[7].result = tensor_matmul (b234, b232, &errors[7]);
  cases[7].message = "Expected size for first two dimensions of batch2 tensor to be: [2, 4] "
                     "but got: [2, 3].";
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_null (cases[i].result);
      g_assert_error (errors[i], AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
      g_assert_cmpstr (errors[i]->message, ==, cases[i].message);
      g_error_free (errors[i]);
    }
  g_autoptr (GError) error = NULL;
  g_assert_null (tensor_dot (v3, v4, &error));
  g_assert_cmpstr (error->message, ==, "inconsistent tensor size, expected tensor [3] and src "
                   "[4] to have the same number of elements, but got 3 and 4 elements "
                   "respectively");
  g_clear_error (&error);
  g_assert_null (tensor_mv (m23, v4, &error));
  g_assert_cmpstr (error->message, ==, "size mismatch, got input (2), mat (2x3), vec (4)");
  g_clear_error (&error);
  g_assert_null (tensor_clamp (m23, false, 0, false, 0, &error));
  g_assert_cmpstr (error->message, ==,
                   "torch.clamp: At least one of 'min' or 'max' must not be None");
  g_clear_error (&error);
  g_assert_null (tensor_nll_loss (m23, (int64_t[]){ 0, 3 }, 2, LOSS_REDUCTION_MEAN, &error));
  g_assert_cmpstr (error->message, ==, "Target 3 is out of bounds.");
  g_clear_error (&error);
  /* More inputs than a node has edges: an error, not a crash. */
  Tensor *many[NODE_MAX_EDGES + 1];
  for (int i = 0; i <= NODE_MAX_EDGES; i++)
    many[i] = v3;
  g_assert_null (tensor_cat (NODE_MAX_EDGES + 1, many, 0, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
}

/* PyTorch: a = [[1, 2], [3, nan]], b = [2, 2]: a == b, a != b, a < b, a >= 2. */
static void
test_compare (void)
{
  g_autoptr (Tensor) a = new_tensor (2, (int64_t[]){ 2, 2 }, (float[]){ 1, 2, 3, NAN });
  g_autoptr (Tensor) b = new_tensor (1, (int64_t[]){ 2 }, (float[]){ 2, 2 });
  tensor_set_requires_grad (a, true, NULL);
  const float want[4][4] = { { 0, 1, 0, 0 }, { 1, 0, 1, 1 }, { 1, 0, 0, 0 }, { 0, 1, 1, 0 } };
  g_autoptr (Tensor) eq = tensor_compare (COMPARE_EQ, a, b, NULL);
  g_autoptr (Tensor) ne = tensor_compare (COMPARE_NE, a, b, NULL);
  g_autoptr (Tensor) lt = tensor_compare (COMPARE_LT, a, b, NULL);
  g_autoptr (Tensor) ge = tensor_compare_scalar (COMPARE_GE, a, 2);
  const Tensor *got[4] = { eq, ne, lt, ge };
  for (int i = 0; i < 4; i++)
    {
      g_assert_null (got[i]->grad_fn);
      g_assert_false (got[i]->requires_grad);
      for (int k = 0; k < 4; k++)
        g_assert_cmpfloat (got[i]->data[k], ==, want[i][k]);
    }
  g_autoptr (Tensor) c = tensor_new_zeros (1, (int64_t[]){ 3 });
  g_autoptr (GError) error = NULL;
  g_assert_null (tensor_compare (COMPARE_LE, a, c, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
}

/* PyTorch: [[1, 3], [3, 0]].max() sends half the gradient to each 3; nll_loss
 * with every target ignored is nan; max along a dim takes a NaN. */
static void
test_ties_and_ignored (void)
{
  g_autoptr (Tensor) x = new_tensor (2, (int64_t[]){ 2, 2 }, (float[]){ 1, 3, 3, 0 });
  tensor_set_requires_grad (x, true, NULL);
  g_autoptr (Tensor) m = tensor_max (x, NULL);
  g_assert_true (tensor_backward (m, NULL, false, NULL));
  const float want[] = { 0, 0.5f, 0.5f, 0 };
  for (int k = 0; k < 4; k++)
    g_assert_cmpfloat (x->grad->data[k], ==, want[k]);
  g_autoptr (Tensor) l = tensor_nll_loss (x, (int64_t[]){ -100, -100 }, 2, LOSS_REDUCTION_MEAN,
                                          NULL);
  g_assert_true (isnan (l->data[0]));

  /* [[2, 1], [nan, 5]].max (1): values [2, nan], indices [0, 0] (a NaN wins). */
  g_autoptr (Tensor) y = new_tensor (2, (int64_t[]){ 2, 2 }, (float[]){ 2, 1, NAN, 5 });
  int64_t indices[2];
  g_autoptr (Tensor) v = tensor_max_dim (y, 1, false, indices, NULL);
  g_assert_cmpfloat (v->data[0], ==, 2);
  g_assert_true (isnan (v->data[1]));
  g_assert_cmpint (indices[0], ==, 0);
  g_assert_cmpint (indices[1], ==, 0);
}

/* unsqueeze, squeeze and reshape share their input's data, as PyTorch's views. */
static void
test_views_share (void)
{
  g_autoptr (Tensor) x = tensor_new_zeros (2, (int64_t[]){ 2, 3 });
  g_autoptr (Tensor) u = tensor_unsqueeze (x, 1, NULL);
  g_autoptr (Tensor) s = tensor_squeeze (u);
  g_autoptr (Tensor) r = tensor_reshape (s, 1, (int64_t[]){ -1 }, NULL);
  g_assert_true (u->data == x->data && s->data == x->data && r->data == x->data);
  g_assert_cmpint (u->ndim, ==, 3);
  g_assert_cmpint (u->shape[1], ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "ops", "ops.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  fixture = json_parse (text, -1, NULL, &error);
  g_assert_no_error (error);

  const JsonValue *cases = member (fixture, "cases");
  for (size_t i = 0; i < cases->array.n; i++)
    {
      const JsonValue *c = cases->array.items[i];
      g_autofree char *name = g_strconcat ("/engine/ops-pytorch/", member (c, "name")->string.str,
                                           NULL);
      g_test_add_data_func (name, c, test_case);
    }
  g_test_add_func ("/engine/ops-pytorch/coverage", test_coverage);
  g_test_add_func ("/engine/ops-pytorch/errors", test_errors);
  g_test_add_func ("/engine/ops-pytorch/compare", test_compare);
  g_test_add_func ("/engine/ops-pytorch/ties-and-ignored", test_ties_and_ignored);
  g_test_add_func ("/engine/ops-pytorch/views-share", test_views_share);
  int status = g_test_run ();
  json_value_free (fixture);
  return status;
}

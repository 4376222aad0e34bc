/* lessons-basics.c — the small lessons: autograd, requires-grad, dynamic.
 *
 * Each C function follows its program statement by statement; the comment before
 * each LESSON_LINE repeats the line it announces.
 */
#include <glib/gi18n-lib.h>

#include "lesson.h"
#include "ops.h"

#include <math.h>

/* `x == y` printed: a bool tensor's repr, "tensor([True, True])", each element
 * padded to the widest ("tensor([ True, False])"), as torch prints it. */
static char *
equal_repr (const Tensor *x, const Tensor *y)
{
  g_return_val_if_fail (tensor_same_shape (x, y) && x->ndim == 1, g_strdup ("tensor([])"));
  bool any_false = false;
  for (int64_t i = 0; i < x->numel; i++)
    any_false = any_false || x->data[i] != y->data[i];
  GString *s = g_string_new ("tensor([");
  for (int64_t i = 0; i < x->numel; i++)
    g_string_append_printf (s, "%s%*s", i ? ", " : "", any_false ? 5 : 4,
                            x->data[i] == y->data[i] ? "True" : "False");
  g_string_append (s, "])");
  return g_string_free (s, FALSE);
}

static Tensor *
vector_new (int n, const float *values)
{
  return tensor_new_from_data (1, (int64_t[]){ n }, values);
}

/* --- autograd ---------------------------------------------------------------- */

static gboolean
run_autograd (LessonRun *run, GError **error)
{
  LESSON_PHASE (run, LESSON_PHASE_FORWARD);
  /* import torch */
  LESSON_LINE (run, 1);

  /* a = torch.tensor([2., 3.], requires_grad=True) */
  LESSON_LINE (run, 3);
  Tensor *a = lesson_run_keep (run, "a", vector_new (2, (float[]){ 2, 3 }));
  tensor_set_requires_grad (a, true, NULL);
  /* b = torch.tensor([6., 4.], requires_grad=True) */
  LESSON_LINE (run, 4);
  Tensor *b = lesson_run_keep (run, "b", vector_new (2, (float[]){ 6, 4 }));
  tensor_set_requires_grad (b, true, NULL);

  /* Q = 3*a**3 - b**2: a**3 (PowBackward0), 3*… (MulBackward0), b**2 (PowBackward0),
   * … - … (SubBackward0), in Python's evaluation order. */
  LESSON_LINE (run, 5);
  Tensor *Q;
  {
    g_autoptr (Tensor) a3 = tensor_pow_scalar (a, 3);
    g_autoptr (Tensor) three_a3 = tensor_mul_scalar (a3, 3);
    g_autoptr (Tensor) b2 = tensor_pow_scalar (b, 2);
    Tensor *q = tensor_sub (three_a3, b2, error);
    if (q == NULL)
      return FALSE;
    Q = lesson_run_keep (run, "Q", q);
  }
  /* print(Q) */
  LESSON_LINE (run, 6);
  lesson_print_tensor (run, Q);

  /* external_grad = torch.tensor([1., 1.]) */
  LESSON_LINE (run, 8);
  Tensor *external_grad = lesson_run_keep (run, "external_grad", vector_new (2, (float[]){ 1, 1 }));
  /* Q.backward(gradient=external_grad) */
  LESSON_PHASE (run, LESSON_PHASE_BACKWARD);
  LESSON_LINE (run, 9);
  if (!tensor_backward (Q, external_grad, false, error))
    return FALSE;
  /* print(a.grad) */
  LESSON_LINE (run, 10);
  lesson_print_tensor (run, a->grad);
  /* print(b.grad) */
  LESSON_LINE (run, 11);
  lesson_print_tensor (run, b->grad);

  /* print(9*a**2 == a.grad): new ops on a, so a new (small) graph. */
  LESSON_PHASE (run, LESSON_PHASE_FORWARD);
  LESSON_LINE (run, 14);
  {
    g_autoptr (Tensor) a2 = tensor_pow_scalar (a, 2);
    g_autoptr (Tensor) nine_a2 = tensor_mul_scalar (a2, 9);
    g_autofree char *repr = equal_repr (nine_a2, a->grad);
    lesson_print (run, "%s", repr);
  }
  /* print(-2*b == b.grad) */
  LESSON_LINE (run, 15);
  {
    g_autoptr (Tensor) minus_2b = tensor_mul_scalar (b, -2);
    g_autofree char *repr = equal_repr (minus_2b, b->grad);
    lesson_print (run, "%s", repr);
  }

  /* try: */
  LESSON_LINE (run, 18);
  /*     Q.backward(gradient=external_grad) */
  LESSON_PHASE (run, LESSON_PHASE_BACKWARD);
  LESSON_LINE (run, 19);
  g_autoptr (GError) backward_error = NULL;
  if (!tensor_backward (Q, external_grad, false, &backward_error))
    {
      if (!g_error_matches (backward_error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_GRAPH_FREED))
        {
          g_propagate_error (error, g_steal_pointer (&backward_error));
          return FALSE;
        }
      /* except RuntimeError as e: */
      LESSON_LINE (run, 20);
      /*     print(f"RuntimeError: {e}") */
      LESSON_LINE (run, 21);
      lesson_print (run, "RuntimeError: %s", backward_error->message);
    }
  return TRUE;
}

const Lesson lesson_autograd = {
  .name = "autograd",
  .title = N_("Autograd basics"),
  .summary = N_("Q = 3a³ − b²: the graph of grad_fns, .grad of the leaves, and why a second "
                "backward fails"),
  .graph_variable = "Q",
  .run = run_autograd,
  .source =
    "import torch\n"
    "\n"
    "a = torch.tensor([2., 3.], requires_grad=True)\n"
    "b = torch.tensor([6., 4.], requires_grad=True)\n"
    "Q = 3*a**3 - b**2\n"
    "print(Q)\n"
    "\n"
    "external_grad = torch.tensor([1., 1.])\n"
    "Q.backward(gradient=external_grad)\n"
    "print(a.grad)\n"
    "print(b.grad)\n"
    "\n"
    "# The gradients are dQ/da = 9a² and dQ/db = -2b:\n"
    "print(9*a**2 == a.grad)\n"
    "print(-2*b == b.grad)\n"
    "\n"
    "# The first backward freed the graph's saved tensors:\n"
    "try:\n"
    "    Q.backward(gradient=external_grad)\n"
    "except RuntimeError as e:\n"
    "    print(f\"RuntimeError: {e}\")\n",
};

/* --- requires-grad ------------------------------------------------------------- */

static gboolean
run_requires_grad (LessonRun *run, GError **error)
{
  int64_t shape[] = { 5, 5 };
  Generator gen;

  LESSON_PHASE (run, LESSON_PHASE_FORWARD);
  /* import torch */
  LESSON_LINE (run, 1);
  /* torch.manual_seed(SEED) */
  LESSON_LINE (run, 3);
  lesson_run_seed (run, &gen);
  /* x = torch.rand(5, 5) */
  LESSON_LINE (run, 4);
  Tensor *x = lesson_run_keep (run, "x", tensor_new_rand (2, shape, &gen));
  /* y = torch.rand(5, 5) */
  LESSON_LINE (run, 5);
  Tensor *y = lesson_run_keep (run, "y", tensor_new_rand (2, shape, &gen));
  /* z = torch.rand((5, 5), requires_grad=True) */
  LESSON_LINE (run, 6);
  Tensor *z = lesson_run_keep (run, "z", tensor_new_rand (2, shape, &gen));
  tensor_set_requires_grad (z, true, NULL);

  /* a = x + y: no input requires grad, so nothing is recorded. */
  LESSON_LINE (run, 8);
  Tensor *sum = tensor_add (x, y, error);
  if (sum == NULL)
    return FALSE;
  Tensor *a = lesson_run_keep (run, "a", sum);
  /* print(f"Does `a` require gradients?: {a.requires_grad}") */
  LESSON_LINE (run, 9);
  lesson_print (run, "Does `a` require gradients?: %s", a->requires_grad ? "True" : "False");
  /* b = x + z: AddBackward0 (None, AccumulateGrad(z)) */
  LESSON_LINE (run, 10);
  sum = tensor_add (x, z, error);
  if (sum == NULL)
    return FALSE;
  Tensor *b = lesson_run_keep (run, "b", sum);
  /* print(f"Does `b` require gradients?: {b.requires_grad}") */
  LESSON_LINE (run, 11);
  lesson_print (run, "Does `b` require gradients?: %s", b->requires_grad ? "True" : "False");
  /* print(a.grad_fn) */
  LESSON_LINE (run, 12);
  lesson_print (run, "%s", a->grad_fn ? node_name (a->grad_fn) : "None");
  /* print(b.grad_fn.name()) */
  LESSON_LINE (run, 13);
  lesson_print (run, "%s", b->grad_fn ? node_name (b->grad_fn) : "None");
  /* print(b) */
  LESSON_LINE (run, 14);
  lesson_print_tensor (run, b);
  return TRUE;
}

const Lesson lesson_requires_grad = {
  .name = "requires-grad",
  .title = N_("Who requires grad?"),
  .summary = N_("An op records a grad_fn only when one of its inputs requires grad"),
  .graph_variable = "b",
  .run = run_requires_grad,
  .source =
    "import torch\n"
    "\n"
    "torch.manual_seed(@SEED@)\n"
    "x = torch.rand(5, 5)\n"
    "y = torch.rand(5, 5)\n"
    "z = torch.rand((5, 5), requires_grad=True)\n"
    "\n"
    "a = x + y\n"
    "print(f\"Does `a` require gradients?: {a.requires_grad}\")\n"
    "b = x + z\n"
    "print(f\"Does `b` require gradients?: {b.requires_grad}\")\n"
    "print(a.grad_fn)\n"
    "print(b.grad_fn.name())\n"
    "print(b)\n",
};

/* --- dynamic ----------------------------------------------------------------- */

static gboolean
run_dynamic (LessonRun *run, GError **error)
{
  Generator gen;

  LESSON_PHASE (run, LESSON_PHASE_FORWARD);
  /* import torch */
  LESSON_LINE (run, 1);
  /* torch.manual_seed(SEED) */
  LESSON_LINE (run, 3);
  lesson_run_seed (run, &gen);
  /* x = torch.randn(3, requires_grad=True) */
  LESSON_LINE (run, 5);
  Tensor *x = lesson_run_keep (run, "x", tensor_new_empty (1, (int64_t[]){ 3 }));
  tensor_fill_normal (x, &gen, 0, 1);
  tensor_set_requires_grad (x, true, NULL);

  /* y = x * 2 */
  LESSON_LINE (run, 7);
  Tensor *y = lesson_run_keep (run, "y", tensor_mul_scalar (x, 2));
  /* while y.data.norm() < 1000: the data decides how long the graph gets. A
   * zero x would never get there: torch would loop forever, we stop at 2¹²⁸. */
  for (int n = 0; n < 128; n++)
    {
      LESSON_LINE (run, 8);
      if ((float) tensor_norm2 (y) >= 1000)
        break;
      /*     y = y * 2 */
      LESSON_LINE (run, 9);
      y = lesson_run_keep (run, "y", tensor_mul_scalar (y, 2));
    }
  /* print(y) */
  LESSON_LINE (run, 10);
  lesson_print_tensor (run, y);

  /* v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float) */
  LESSON_LINE (run, 12);
  Tensor *v = lesson_run_keep (run, "v", vector_new (3, (float[]){ 0.1f, 1.0f, 0.0001f }));
  /* y.backward(v) */
  LESSON_PHASE (run, LESSON_PHASE_BACKWARD);
  LESSON_LINE (run, 13);
  if (!tensor_backward (y, v, false, error))
    return FALSE;
  /* print(x.grad) */
  LESSON_LINE (run, 14);
  lesson_print_tensor (run, x->grad);
  return TRUE;
}

const Lesson lesson_dynamic = {
  .name = "dynamic",
  .title = N_("A dynamic graph"),
  .summary = N_("A while loop that depends on the data: each seed builds a graph of another length"),
  .graph_variable = "y",
  .run = run_dynamic,
  .source =
    "import torch\n"
    "\n"
    "torch.manual_seed(@SEED@)\n"
    "# x decides how often the loop runs: each seed draws another graph\n"
    "x = torch.randn(3, requires_grad=True)\n"
    "\n"
    "y = x * 2\n"
    "while y.data.norm() < 1000:\n"
    "    y = y * 2\n"
    "print(y)\n"
    "\n"
    "v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)\n"
    "y.backward(v)\n"
    "print(x.grad)\n",
};

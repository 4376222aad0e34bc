/* ext-ops.c — the functions of _gradlens: making tensors, the engine's ops, grad
 * mode, the default generator. Each op is one row of a table; the engine computes
 * it (with the GIL released: recording a grad_fn may pause the program).
 */
#include "ext.h"

#include "ops.h"

#include <math.h>

/* --- Shapes and scalars from Python ----------------------------------------- */

static bool
parse_shape (PyObject *seq, int *ndim, int64_t *shape)
{
  PyObject *fast = PySequence_Fast (seq, "a shape must be a sequence of ints");
  if (fast == NULL)
    return false;
  Py_ssize_t n = PySequence_Fast_GET_SIZE (fast);
  if (n > TENSOR_MAX_DIMS)
    {
      Py_DECREF (fast);
      PyErr_Format (PyExc_RuntimeError,
                    "GradLens's torch: tensors have at most %d dimensions, not %zd",
                    TENSOR_MAX_DIMS, n);
      return false;
    }
  for (Py_ssize_t i = 0; i < n; i++)
    {
      long long v = PyLong_AsLongLong (PySequence_Fast_GET_ITEM (fast, i));
      if (v == -1 && PyErr_Occurred ())
        {
          Py_DECREF (fast);
          return false;
        }
      shape[i] = v;
    }
  *ndim = (int) n;
  Py_DECREF (fast);
  return true;
}

/* --- Making tensors ---------------------------------------------------------- */

/* from_list(values, shape, dtype_code): a new leaf holding the flat values. */
static PyObject *
ext_from_list (PyObject *module, PyObject *args)
{
  PyObject *values, *shape_obj;
  int dtype = TENSOR_FLOAT32;
  if (!PyArg_ParseTuple (args, "OO|i:from_list", &values, &shape_obj, &dtype))
    return NULL;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!parse_shape (shape_obj, &ndim, shape))
    return NULL;
  PyObject *fast = PySequence_Fast (values, "values must be a sequence of numbers");
  if (fast == NULL)
    return NULL;
  Tensor *t = tensor_new_empty (ndim, shape);
  t->dtype = (TensorDType) dtype;
  if (PySequence_Fast_GET_SIZE (fast) != t->numel)
    {
      Py_DECREF (fast);
      tensor_unref (t);
      PyErr_SetString (PyExc_ValueError, "from_list: as many values as the shape holds");
      return NULL;
    }
  for (int64_t i = 0; i < t->numel; i++)
    {
      double v = PyFloat_AsDouble (PySequence_Fast_GET_ITEM (fast, i));
      if (v == -1.0 && PyErr_Occurred ())
        {
          Py_DECREF (fast);
          tensor_unref (t);
          return NULL;
        }
      if (dtype == TENSOR_INT64 && fabs (v) > 16777216.0)
        {
          Py_DECREF (fast);
          tensor_unref (t);
          PyErr_Format (PyExc_OverflowError,
                        "GradLens's torch keeps int64 values within ±2^24 (16777216): %.0f", v);
          return NULL;
        }
      t->data[i] = (float) v;
    }
  Py_DECREF (fast);
  return ext_tensor_wrap (t, NULL);
}

static PyObject *
ext_full (PyObject *module, PyObject *args)
{
  PyObject *shape_obj;
  double value;
  int dtype = TENSOR_FLOAT32;
  if (!PyArg_ParseTuple (args, "Od|i:full", &shape_obj, &value, &dtype))
    return NULL;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!parse_shape (shape_obj, &ndim, shape))
    return NULL;
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0)
      {
        PyErr_Format (PyExc_RuntimeError,
                      "Trying to create tensor with negative dimension %lld", (long long) shape[i]);
        return NULL;
      }
  Tensor *t = tensor_new_full (ndim, shape, (float) value);
  t->dtype = (TensorDType) dtype;
  return ext_tensor_wrap (t, NULL);
}

/* --- The default generator: torch.manual_seed, rand, randn, randint ---------- */

/* PyTorch's default CPU generator starts from this seed (c10's default_rng_seed_val). */
#define DEFAULT_SEED G_GUINT64_CONSTANT (67280421310721)

static Generator default_generator;
static guint64 default_seed;

Generator *
ext_default_generator (void)
{
  return &default_generator;
}

void
ext_reset_state (void)
{
  default_seed = DEFAULT_SEED;
  generator_init (&default_generator, default_seed);
  grad_mode_set_enabled (true);
}

static PyObject *
ext_manual_seed (PyObject *module, PyObject *arg)
{
  unsigned long long seed = PyLong_AsUnsignedLongLongMask (arg);
  if (PyErr_Occurred ())
    return NULL;
  default_seed = seed;
  generator_init (&default_generator, seed);
  Py_RETURN_NONE;
}

static PyObject *
ext_initial_seed (PyObject *module, PyObject *unused)
{
  return PyLong_FromUnsignedLongLong (default_seed);
}

static PyObject *unknown_op (const char *kind, const char *name);

/* random(shape, kind, a, b): a new tensor drawn as torch draws it, by the engine's
 * fills with their own parameters (PyTorch scales inside the kernel: scaling a
 * standard draw afterwards rounds differently): "uniform" on [a, b) (rand,
 * uniform_), "normal" with mean a and std b (randn, normal_), "bernoulli" with
 * probability a (bernoulli_, dropout). */
static PyObject *
ext_random (PyObject *module, PyObject *args)
{
  PyObject *shape_obj;
  const char *kind;
  double a = 0, b = 1;
  if (!PyArg_ParseTuple (args, "Os|dd:random", &shape_obj, &kind, &a, &b))
    return NULL;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!parse_shape (shape_obj, &ndim, shape))
    return NULL;
  if (!g_str_equal (kind, "uniform") && !g_str_equal (kind, "normal")
      && !g_str_equal (kind, "bernoulli"))
    return unknown_op ("random", kind);
  Tensor *t = tensor_new_empty (ndim, shape);
  if (g_str_equal (kind, "uniform"))
    tensor_fill_uniform (t, &default_generator, a, b);
  else if (g_str_equal (kind, "normal"))
    tensor_fill_normal (t, &default_generator, a, b);
  else
    tensor_fill_bernoulli (t, &default_generator, a);
  return ext_tensor_wrap (t, NULL);
}

/* randint(low, high, shape): int64 values in [low, high), as ATen's random_from_to:
 * a 32-bit draw modulo the range (a 64-bit one for ranges of 2^32 or more). */
static PyObject *
ext_randint (PyObject *module, PyObject *args)
{
  long long low, high;
  PyObject *shape_obj;
  if (!PyArg_ParseTuple (args, "LLO:randint", &low, &high, &shape_obj))
    return NULL;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (!parse_shape (shape_obj, &ndim, shape))
    return NULL;
  if (high <= low)
    {
      PyErr_Format (PyExc_RuntimeError,
                    "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
                    low, high);
      return NULL;
    }
  if (llabs (low) > 16777216 || llabs (high) > 16777217)
    {
      PyErr_SetString (PyExc_OverflowError, "GradLens's torch keeps int64 values within ±2^24");
      return NULL;
    }
  guint64 range = (guint64) (high - low);
  Tensor *t = tensor_new_empty (ndim, shape);
  t->dtype = TENSOR_INT64;
  for (int64_t i = 0; i < t->numel; i++)
    {
      guint64 r = range >= (G_GUINT64_CONSTANT (1) << 32)
                    ? generator_next_u64 (&default_generator)
                    : generator_next_u32 (&default_generator);
      t->data[i] = (float) ((long long) (r % range) + low);
    }
  return ext_tensor_wrap (t, NULL);
}

/* --- Ops ---------------------------------------------------------------------- */

typedef Tensor *(*UnaryFn) (Tensor *);
typedef Tensor *(*ScalarFn) (Tensor *, float);
typedef Tensor *(*BinaryFn) (Tensor *, Tensor *, GError **);

static const struct { const char *name; UnaryFn fn; } unary_ops[] = {
  { "neg", tensor_neg },         { "exp", tensor_exp },         { "log", tensor_log },
  { "relu", tensor_relu },       { "sum", tensor_sum },         { "mean", tensor_mean },
  { "norm", tensor_norm },       { "sin", tensor_sin },         { "cos", tensor_cos },
  { "tanh", tensor_tanh },       { "sigmoid", tensor_sigmoid }, { "sqrt", tensor_sqrt },
  { "abs", tensor_abs },         { "reciprocal", tensor_reciprocal },
  { "clone", tensor_clone },     { "squeeze", tensor_squeeze },
};

static Tensor *rdiv_scalar (Tensor *a, float s) { return tensor_rdiv_scalar (s, a); }
static Tensor *rpow_scalar (Tensor *a, float s) { return tensor_pow_scalar_base (s, a); }

static const struct { const char *name; ScalarFn fn; } scalar_ops[] = {
  { "add", tensor_add_scalar }, { "sub", tensor_sub_scalar }, { "rsub", tensor_rsub_scalar },
  { "mul", tensor_mul_scalar }, { "div", tensor_div_scalar }, { "pow", tensor_pow_scalar },
  { "rdiv", rdiv_scalar },      { "rpow", rpow_scalar },
};

static const struct { const char *name; BinaryFn fn; } binary_ops[] = {
  { "add", tensor_add }, { "sub", tensor_sub }, { "mul", tensor_mul },
  { "div", tensor_div }, { "mm", tensor_mm },   { "pow", tensor_pow },
  { "mv", tensor_mv },   { "dot", tensor_dot }, { "bmm", tensor_bmm },
  { "matmul", tensor_matmul },
};

#define FIND_OP(table, name)                                   \
  ({                                                           \
    int found_ = -1;                                           \
    for (guint i_ = 0; i_ < G_N_ELEMENTS (table); i_++)        \
      if (strcmp (table[i_].name, name) == 0)                  \
        found_ = (int) i_;                                     \
    found_;                                                    \
  })

static PyObject *
unknown_op (const char *kind, const char *name)
{
  PyErr_Format (PyExc_NotImplementedError, "GradLens's torch has no %s op '%s'", kind, name);
  return NULL;
}

/* unary(name, x) */
static PyObject *
ext_unary (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *x_obj;
  if (!PyArg_ParseTuple (args, "sO:unary", &name, &x_obj))
    return NULL;
  int k = FIND_OP (unary_ops, name);
  Tensor *x = ext_tensor_get (x_obj, "input");
  if (x == NULL)
    return NULL;
  if (k < 0)
    return unknown_op ("unary", name);
  Tensor *out;
  Py_BEGIN_ALLOW_THREADS
  out = unary_ops[k].fn (x);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, NULL);
}

/* scalar(name, x, s): x ∘ s for a Python number s (a None slot in next_functions). */
static PyObject *
ext_scalar (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *x_obj;
  double s;
  if (!PyArg_ParseTuple (args, "sOd:scalar", &name, &x_obj, &s))
    return NULL;
  int k = FIND_OP (scalar_ops, name);
  Tensor *x = ext_tensor_get (x_obj, "input");
  if (x == NULL)
    return NULL;
  if (k < 0)
    return unknown_op ("scalar", name);
  Tensor *out;
  Py_BEGIN_ALLOW_THREADS
  out = scalar_ops[k].fn (x, (float) s);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, NULL);
}

/* binary(name, a, b) */
static PyObject *
ext_binary (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *a_obj, *b_obj;
  if (!PyArg_ParseTuple (args, "sOO:binary", &name, &a_obj, &b_obj))
    return NULL;
  int k = FIND_OP (binary_ops, name);
  Tensor *a = ext_tensor_get (a_obj, "input"), *b = a ? ext_tensor_get (b_obj, "other") : NULL;
  if (b == NULL)
    return NULL;
  if (k < 0)
    return unknown_op ("binary", name);
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = binary_ops[k].fn (a, b, &error);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, error);
}

/* reduce(name, x, dims, keepdim): sum/mean over dims (SumBackward1, MeanBackward1). */
static PyObject *
ext_reduce (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *x_obj, *dims_obj;
  int keepdim;
  if (!PyArg_ParseTuple (args, "sOOp:reduce", &name, &x_obj, &dims_obj, &keepdim))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  int n_dims;
  int64_t dims64[TENSOR_MAX_DIMS];
  if (x == NULL || !parse_shape (dims_obj, &n_dims, dims64))
    return NULL;
  int dims[TENSOR_MAX_DIMS];
  for (int i = 0; i < n_dims; i++)
    dims[i] = (int) dims64[i];
  bool mean = strcmp (name, "mean") == 0;
  if (!mean && strcmp (name, "sum") != 0)
    return unknown_op ("reduction", name);
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = mean ? tensor_mean_dims (x, n_dims, dims, keepdim, &error)
             : tensor_sum_dims (x, n_dims, dims, keepdim, &error);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, error);
}

static PyObject *
ext_view (PyObject *module, PyObject *args)
{
  PyObject *x_obj, *shape_obj;
  if (!PyArg_ParseTuple (args, "OO:view", &x_obj, &shape_obj))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  if (x == NULL || !parse_shape (shape_obj, &ndim, shape))
    return NULL;
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = tensor_view (x, ndim, shape, &error);
  Py_END_ALLOW_THREADS
  if (out)
    out->dtype = x->dtype;
  return ext_tensor_wrap (out, error);
}

static PyObject *
ext_transpose2d (PyObject *module, PyObject *arg)
{
  Tensor *x = ext_tensor_get (arg, "input");
  if (x == NULL)
    return NULL;
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = tensor_t (x, &error);
  Py_END_ALLOW_THREADS
  if (out)
    out->dtype = x->dtype;
  return ext_tensor_wrap (out, error);
}

/* linear(x, weight, bias or None): AddmmBackward0 (bias, x, TBackward0 → weight). */
static PyObject *
ext_linear (PyObject *module, PyObject *args)
{
  PyObject *x_obj, *w_obj, *b_obj;
  if (!PyArg_ParseTuple (args, "OOO:linear", &x_obj, &w_obj, &b_obj))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input"), *w = x ? ext_tensor_get (w_obj, "weight") : NULL;
  Tensor *b = NULL;
  if (w == NULL || (b_obj != Py_None && (b = ext_tensor_get (b_obj, "bias")) == NULL))
    return NULL;
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = tensor_linear (x, w, b, &error);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, error);
}

/* compare(op, a, b): a bool tensor, no autograd; b is a tensor or a number. */
static PyObject *
ext_compare (PyObject *module, PyObject *args)
{
  static const char *const names[] = { "eq", "ne", "lt", "le", "gt", "ge" };
  const char *op;
  PyObject *a_obj, *b_obj;
  if (!PyArg_ParseTuple (args, "sOO:compare", &op, &a_obj, &b_obj))
    return NULL;
  Tensor *a = ext_tensor_get (a_obj, "input");
  if (a == NULL)
    return NULL;
  int kind = -1;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (op, names[i]))
      kind = (int) i;
  if (kind < 0)
    return unknown_op ("comparison", op);
  Tensor *out;
  GError *error = NULL;
  if (PyObject_TypeCheck (b_obj, &TensorBaseType))
    out = tensor_compare ((CompareKind) kind, a, ((TensorObject *) b_obj)->tensor, &error);
  else
    {
      double s = PyFloat_AsDouble (b_obj);
      if (s == -1.0 && PyErr_Occurred ())
        return NULL;
      out = tensor_compare_scalar ((CompareKind) kind, a, (float) s);
    }
  if (out)
    out->dtype = TENSOR_BOOL;
  return ext_tensor_wrap (out, error);
}

/* --- Grad mode, phases, modules -------------------------------------------------- */

static PyObject *
ext_set_grad_enabled (PyObject *module, PyObject *arg)
{
  int on = PyObject_IsTrue (arg);
  if (on < 0)
    return NULL;
  return PyBool_FromLong (grad_mode_set_enabled (on));
}

static PyObject *
ext_is_grad_enabled (PyObject *module, PyObject *unused)
{
  return PyBool_FromLong (grad_mode_is_enabled ());
}

/* _phase(n): the program enters LessonPhase n (optimizer step, zero_grad, forward). */
static PyObject *
ext_phase_py (PyObject *module, PyObject *arg)
{
  long phase = PyLong_AsLong (arg);
  if (phase < 0 || phase >= LESSON_PHASE_COUNT)
    {
      if (!PyErr_Occurred ())
        PyErr_SetString (PyExc_ValueError, "no such phase");
      return NULL;
    }
  gboolean ok;
  Py_BEGIN_ALLOW_THREADS
  ok = ext_phase ((LessonPhase) phase);
  Py_END_ALLOW_THREADS
  if (!ok)
    {
      PyErr_SetString (ext_stopped_error, "the program was stopped");
      return NULL;
    }
  Py_RETURN_NONE;
}

PyMethodDef ext_ops_methods[] = {
  { "_set_tensor_class", ext_set_tensor_class, METH_O, NULL },
  { "rewrap", ext_rewrap, METH_VARARGS, "rewrap(cls, tensor)" },
  { "from_list", ext_from_list, METH_VARARGS, "from_list(values, shape, dtype)" },
  { "full", ext_full, METH_VARARGS, "full(shape, value, dtype)" },
  { "manual_seed", ext_manual_seed, METH_O, NULL },
  { "initial_seed", ext_initial_seed, METH_NOARGS, NULL },
  { "random", ext_random, METH_VARARGS, "random(shape, kind, a, b)" },
  { "randint", ext_randint, METH_VARARGS, "randint(low, high, shape)" },
  { "unary", ext_unary, METH_VARARGS, "unary(name, x)" },
  { "scalar", ext_scalar, METH_VARARGS, "scalar(name, x, s)" },
  { "binary", ext_binary, METH_VARARGS, "binary(name, a, b)" },
  { "reduce", ext_reduce, METH_VARARGS, "reduce(name, x, dims, keepdim)" },
  { "view", ext_view, METH_VARARGS, "view(x, shape)" },
  { "t", ext_transpose2d, METH_O, NULL },
  { "linear", ext_linear, METH_VARARGS, "linear(x, weight, bias)" },
  { "compare", ext_compare, METH_VARARGS, "compare(op, a, b)" },
  { "dim_op", ext_dim_op, METH_VARARGS, "dim_op(name, x, dim, ...)" },
  { "shape_op", ext_shape_op, METH_VARARGS, "shape_op(name, x, ints)" },
  { "join", ext_join, METH_VARARGS, "join(name, tensors, dim)" },
  { "clamp", ext_clamp, METH_VARARGS, "clamp(x, min or None, max or None)" },
  { "loss", ext_loss, METH_VARARGS, "loss(name, input, target, reduction)" },
  { "extremum", ext_extremum, METH_VARARGS, "extremum(name, x, dim, keepdim)" },
  { "set_grad_enabled", ext_set_grad_enabled, METH_O, NULL },
  { "is_grad_enabled", ext_is_grad_enabled, METH_NOARGS, NULL },
  { "_phase", ext_phase_py, METH_O, NULL },
  { NULL },
};

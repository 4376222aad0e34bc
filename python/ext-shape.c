/* ext-shape.c — the engine's ops that take dims, shapes, lists of tensors, bounds or
 * class targets, for torch's functions and Tensor's methods (lib/torch/_functions.py).
 */
#include "ext.h"

#include "nn.h"
#include "ops.h"

bool
ext_parse_ints (PyObject *seq, int max, int *n, int64_t *values)
{
  PyObject *fast = PySequence_Fast (seq, "expected a sequence of ints");
  if (fast == NULL)
    return false;
  Py_ssize_t len = PySequence_Fast_GET_SIZE (fast);
  if (len > max)
    {
      Py_DECREF (fast);
      PyErr_Format (PyExc_RuntimeError, "GradLens's torch: at most %d values here, not %zd",
                    max, len);
      return false;
    }
  for (Py_ssize_t i = 0; i < len; i++)
    {
      values[i] = PyLong_AsLongLong (PySequence_Fast_GET_ITEM (fast, i));
      if (values[i] == -1 && PyErr_Occurred ())
        {
          Py_DECREF (fast);
          return false;
        }
    }
  *n = (int) len;
  Py_DECREF (fast);
  return true;
}

static PyObject *
finish (Tensor *out, GError *error, const Tensor *like)
{
  if (out && like)
    out->dtype = like->dtype;
  return ext_tensor_wrap (out, error);
}

/* dim_op(name, x, dim[, a, b, c]): softmax, log_softmax, unsqueeze, squeeze_dim,
 * transpose (dim, a), select (dim, index a), slice (dim, start a, end b, step c);
 * max and min of all elements (dim unused). */
PyObject *
ext_dim_op (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *x_obj;
  int dim;
  long long a = 0, b = 0, c = 1;
  if (!PyArg_ParseTuple (args, "sOi|LLL:dim_op", &name, &x_obj, &dim, &a, &b, &c))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  if (x == NULL)
    return NULL;
  Tensor *out = NULL;
  GError *error = NULL;
  bool keeps_dtype = true;
  Py_BEGIN_ALLOW_THREADS
  if (g_str_equal (name, "softmax"))
    out = tensor_softmax (x, dim, &error), keeps_dtype = false;
  else if (g_str_equal (name, "log_softmax"))
    out = tensor_log_softmax (x, dim, &error), keeps_dtype = false;
  else if (g_str_equal (name, "unsqueeze"))
    out = tensor_unsqueeze (x, dim, &error);
  else if (g_str_equal (name, "squeeze_dim"))
    out = tensor_squeeze_dim (x, dim, &error);
  else if (g_str_equal (name, "transpose"))
    out = tensor_transpose (x, dim, (int) a, &error);
  else if (g_str_equal (name, "select"))
    out = tensor_select (x, dim, a, &error);
  else if (g_str_equal (name, "slice"))
    out = tensor_slice (x, dim, a, b, c, &error);
  else if (g_str_equal (name, "max"))
    out = tensor_max (x, &error);
  else if (g_str_equal (name, "min"))
    out = tensor_min (x, &error);
  else
    g_set_error (&error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                 "GradLens's torch has no op %s", name);
  Py_END_ALLOW_THREADS
  return finish (out, error, keeps_dtype ? x : NULL);
}

/* extremum(name, x, dim, keepdim): x.max(dim) / x.min(dim) as (values, indices),
 * indices an int64 tensor of the values' shape. */
PyObject *
ext_extremum (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *x_obj;
  int dim, keepdim;
  if (!PyArg_ParseTuple (args, "sOip:extremum", &name, &x_obj, &dim, &keepdim))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  if (x == NULL)
    return NULL;
  bool max = g_str_equal (name, "max");
  g_autofree int64_t *indices = g_new (int64_t, MAX (x->numel, 1));
  Tensor *values;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  values = max ? tensor_max_dim (x, dim, keepdim, indices, &error)
               : tensor_min_dim (x, dim, keepdim, indices, &error);
  Py_END_ALLOW_THREADS
  if (values == NULL)
    return ext_raise_gerror (error);
  values->dtype = x->dtype;
  Tensor *idx = tensor_new_empty (values->ndim, values->shape);
  idx->dtype = TENSOR_INT64;
  for (int64_t i = 0; i < idx->numel; i++)
    idx->data[i] = (float) indices[i];
  return Py_BuildValue ("(NN)", ext_tensor_wrap (values, NULL), ext_tensor_wrap (idx, NULL));
}

/* shape_op(name, x, ints): reshape, expand, permute. */
PyObject *
ext_shape_op (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *x_obj, *ints_obj;
  if (!PyArg_ParseTuple (args, "sOO:shape_op", &name, &x_obj, &ints_obj))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  int n;
  int64_t ints[TENSOR_MAX_DIMS];
  if (x == NULL || !ext_parse_ints (ints_obj, TENSOR_MAX_DIMS, &n, ints))
    return NULL;
  int dims[TENSOR_MAX_DIMS];
  for (int i = 0; i < n; i++)
    dims[i] = (int) ints[i];
  Tensor *out = NULL;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  if (g_str_equal (name, "reshape"))
    out = tensor_reshape (x, n, ints, &error);
  else if (g_str_equal (name, "expand"))
    out = tensor_expand (x, n, ints, &error);
  else if (g_str_equal (name, "permute"))
    out = tensor_permute (x, n, dims, &error);
  else if (g_str_equal (name, "T"))
    out = tensor_T (x, &error);
  else
    g_set_error (&error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                 "GradLens's torch has no op %s", name);
  Py_END_ALLOW_THREADS
  return finish (out, error, x);
}

/* join(name, tensors, dim): cat or stack. */
PyObject *
ext_join (PyObject *module, PyObject *args)
{
  const char *name;
  PyObject *list;
  int dim;
  if (!PyArg_ParseTuple (args, "sOi:join", &name, &list, &dim))
    return NULL;
  PyObject *fast = PySequence_Fast (list, "expected a sequence of tensors");
  if (fast == NULL)
    return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE (fast);
  g_autofree Tensor **ts = g_new0 (Tensor *, n + 1);
  for (Py_ssize_t i = 0; i < n; i++)
    if ((ts[i] = ext_tensor_get (PySequence_Fast_GET_ITEM (fast, i), "tensors")) == NULL)
      {
        Py_DECREF (fast);
        return NULL;
      }
  Py_DECREF (fast);
  Tensor *out;
  GError *error = NULL;
  bool stack = g_str_equal (name, "stack");
  Py_BEGIN_ALLOW_THREADS
  out = stack ? tensor_stack ((int) n, ts, dim, &error) : tensor_cat ((int) n, ts, dim, &error);
  Py_END_ALLOW_THREADS
  return finish (out, error, n > 0 ? ts[0] : NULL);
}

/* clamp(x, min or None, max or None) */
PyObject *
ext_clamp (PyObject *module, PyObject *args)
{
  PyObject *x_obj, *lo_obj, *hi_obj;
  if (!PyArg_ParseTuple (args, "OOO:clamp", &x_obj, &lo_obj, &hi_obj))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  if (x == NULL)
    return NULL;
  bool has_lo = lo_obj != Py_None, has_hi = hi_obj != Py_None;
  double lo = has_lo ? PyFloat_AsDouble (lo_obj) : 0, hi = has_hi ? PyFloat_AsDouble (hi_obj) : 0;
  if (PyErr_Occurred ())
    return NULL;
  if (!has_lo && !has_hi)
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "torch.clamp: At least one of 'min' or 'max' must not be None");
      return NULL;
    }
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = tensor_clamp (x, has_lo, (float) lo, has_hi, (float) hi, &error);
  Py_END_ALLOW_THREADS
  return finish (out, error, x);
}

/* loss(name, input, target, reduction): mse_loss (target a tensor), nll_loss and
 * cross_entropy (target an int64 tensor of class indices). */
PyObject *
ext_loss (PyObject *module, PyObject *args)
{
  const char *name, *reduction_name;
  PyObject *in_obj, *target_obj;
  if (!PyArg_ParseTuple (args, "sOOs:loss", &name, &in_obj, &target_obj, &reduction_name))
    return NULL;
  Tensor *input = ext_tensor_get (in_obj, "input");
  Tensor *target = input ? ext_tensor_get (target_obj, "target") : NULL;
  if (target == NULL)
    return NULL;
  LossReduction reduction;
  if (g_str_equal (reduction_name, "mean"))
    reduction = LOSS_REDUCTION_MEAN;
  else if (g_str_equal (reduction_name, "sum"))
    reduction = LOSS_REDUCTION_SUM;
  else if (g_str_equal (reduction_name, "none"))
    reduction = LOSS_REDUCTION_NONE;
  else
    {
      PyErr_Format (PyExc_ValueError, "%s is not a valid value for reduction", reduction_name);
      return NULL;
    }
  bool mse = g_str_equal (name, "mse_loss");
  if (!mse && target->dtype != TENSOR_INT64)
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "GradLens's torch: the target of nll_loss and cross_entropy must be "
                       "class indices (an int64 tensor)");
      return NULL;
    }
  g_autofree int64_t *classes = NULL;
  if (!mse)
    {
      classes = g_new (int64_t, MAX (target->numel, 1));
      for (int64_t i = 0; i < target->numel; i++)
        classes[i] = (int64_t) target->data[i];
    }
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  if (mse)
    out = tensor_mse_loss (input, target, reduction, &error);
  else if (g_str_equal (name, "nll_loss"))
    out = tensor_nll_loss (input, classes, target->numel, reduction, &error);
  else
    out = tensor_cross_entropy (input, classes, target->numel, reduction, &error);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, error);
}

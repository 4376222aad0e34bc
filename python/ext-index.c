/* ext-index.c — advanced indexing and item assignment: torch.Tensor's __getitem__
 * and __setitem__ turn a key into flat element offsets (lib/torch/_indexing.py);
 * the engine gathers and scatters them (ops-index.c).
 */
#include "ext.h"

#include "ops.h"

/* A list of ints as a new int64 array (its length in *n), or NULL with an error. */
static int64_t *
offsets_of (PyObject *list, int64_t *n)
{
  PyObject *fast = PySequence_Fast (list, "offsets must be a sequence of ints");
  if (fast == NULL)
    return NULL;
  *n = PySequence_Fast_GET_SIZE (fast);
  int64_t *out = g_new (int64_t, *n ? *n : 1);
  for (int64_t i = 0; i < *n; i++)
    {
      out[i] = PyLong_AsLongLong (PySequence_Fast_GET_ITEM (fast, i));
      if (out[i] == -1 && PyErr_Occurred ())
        {
          Py_DECREF (fast);
          g_free (out);
          return NULL;
        }
    }
  Py_DECREF (fast);
  return out;
}

/* index(x, offsets, shape): x.flat[offsets] as shape (IndexBackward0). */
static PyObject *
ext_index (PyObject *module, PyObject *args)
{
  PyObject *x_obj, *off_obj, *shape_obj;
  if (!PyArg_ParseTuple (args, "OOO:index", &x_obj, &off_obj, &shape_obj))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS], n;
  if (x == NULL || !ext_parse_ints (shape_obj, TENSOR_MAX_DIMS, &ndim, shape))
    return NULL;
  g_autofree int64_t *offsets = offsets_of (off_obj, &n);
  if (offsets == NULL)
    return NULL;
  GError *error = NULL;
  Tensor *out;
  Py_BEGIN_ALLOW_THREADS
  out = tensor_index (x, offsets, n, ndim, shape, &error);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, error);
}

/* index_put_(x, offsets, shape, value, advanced): x.flat[offsets] = value, in place. */
static PyObject *
ext_index_put (PyObject *module, PyObject *args)
{
  PyObject *x_obj, *off_obj, *shape_obj, *v_obj;
  int advanced;
  if (!PyArg_ParseTuple (args, "OOOOp:index_put_", &x_obj, &off_obj, &shape_obj, &v_obj,
                         &advanced))
    return NULL;
  Tensor *x = ext_tensor_get (x_obj, "input");
  Tensor *v = x ? ext_tensor_get (v_obj, "value") : NULL;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS], n;
  if (v == NULL || !ext_parse_ints (shape_obj, TENSOR_MAX_DIMS, &ndim, shape))
    return NULL;
  g_autofree int64_t *offsets = offsets_of (off_obj, &n);
  if (offsets == NULL)
    return NULL;
  GError *error = NULL;
  gboolean ok;
  Py_BEGIN_ALLOW_THREADS
  ok = tensor_index_put_ (x, offsets, n, ndim, shape, v, advanced, &error);
  Py_END_ALLOW_THREADS
  if (!ok)
    return ext_raise_gerror (error);
  Py_RETURN_NONE;
}

PyMethodDef ext_index_methods[] = {
  { "index", ext_index, METH_VARARGS, "index(x, offsets, shape)" },
  { "index_put_", ext_index_put, METH_VARARGS, "index_put_(x, offsets, shape, value, advanced)" },
  { NULL },
};

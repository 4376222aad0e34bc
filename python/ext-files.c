/* ext-files.c — torch.load's reading of weight files, through the engine's readers
 * (pth.h: PyTorch's zip and legacy .pth, never calling anything a pickle names;
 * state-dict.h: .safetensors). torch.save is Python's (lib/torch/serialization.py).
 */
#include "ext.h"

#include "pth.h"

#include <string.h>

/* load_state_dict(path): [(name, tensor), ...] in the file's order; int64 entries
 * (num_batches_tracked) as int64 tensors. RuntimeError with the engine's message,
 * which names the file, otherwise. */
static PyObject *
ext_load_state_dict (PyObject *module, PyObject *arg)
{
  PyObject *bytes = NULL;
  if (!PyUnicode_FSConverter (arg, &bytes))
    return NULL;
  g_autofree char *path = g_strdup (PyBytes_AS_STRING (bytes));
  Py_DECREF (bytes);

  g_autoptr (GError) error = NULL;
  StateDict *sd;
  Py_BEGIN_ALLOW_THREADS
  sd = state_dict_load_any (path, &error);
  Py_END_ALLOW_THREADS
  if (sd == NULL)
    return ext_raise_gerror (g_steal_pointer (&error));

  guint n = state_dict_size (sd);
  PyObject *list = PyList_New (n);
  for (guint i = 0; list && i < n; i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      Tensor *t;
      if (e->dtype == STATE_DTYPE_F32)
        t = tensor_copy (e->f32);
      else
        {
          /* The engine keeps whole numbers in float storage (tensor.h), exact
           * within ±2^24, as a step counter is. */
          t = tensor_new_empty (e->ndim, e->shape);
          for (int64_t j = 0; j < t->numel; j++)
            t->data[j] = (float) e->i64[j];
          t->dtype = TENSOR_INT64;
        }
      PyObject *pair = Py_BuildValue ("(sN)", e->name, ext_tensor_wrap (t, NULL));
      if (pair == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, i, pair);
    }
  state_dict_free (sd);
  return list;
}

/* tensor_bytes(t): its values as torch.save stores them, little-endian: float32
 * as they are, int64 (and bool, as uint8) converted from the engine's floats. */
static PyObject *
ext_tensor_bytes (PyObject *module, PyObject *arg)
{
  Tensor *t = ext_tensor_get (arg, "tensor");
  if (t == NULL)
    return NULL;
  if (t->dtype == TENSOR_FLOAT32)
    return PyBytes_FromStringAndSize ((const char *) t->data, t->numel * (Py_ssize_t) sizeof (float));
  gsize size = t->numel * (t->dtype == TENSOR_INT64 ? sizeof (int64_t) : 1);
  PyObject *out = PyBytes_FromStringAndSize (NULL, (Py_ssize_t) size);
  if (out == NULL)
    return NULL;
  char *dst = PyBytes_AS_STRING (out);
  for (int64_t i = 0; i < t->numel; i++)
    if (t->dtype == TENSOR_INT64)
      {
        int64_t v = GINT64_TO_LE ((int64_t) t->data[i]);
        memcpy (dst + i * sizeof v, &v, sizeof v);
      }
    else
      dst[i] = t->data[i] != 0;
  return out;
}

PyMethodDef ext_files_methods[] = {
  { "tensor_bytes", ext_tensor_bytes, METH_O, "tensor_bytes(t)" },
  { "load_state_dict", ext_load_state_dict, METH_O, "load_state_dict(path)" },
  { NULL },
};

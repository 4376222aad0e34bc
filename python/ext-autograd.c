/* ext-autograd.c — Tensor.register_hook and torch.autograd.grad over the engine.
 *
 * A hook is a Python callable the engine calls back (autograd.h's GradHookFn) from
 * inside a backward pass, which runs without the GIL: the callback takes it, calls
 * the function on the gradient, and gives the engine what it returned. An exception
 * in the hook stops the pass; it is kept (per thread) and raised again from the
 * backward() or grad() call, as PyTorch's does.
 */
#include "ext.h"

/* The exception a hook raised on this thread, until its backward returns. */
static _Thread_local PyObject *hook_type, *hook_value, *hook_traceback;

/* Hooks' functions dropped by a thread that did not hold the GIL (a graph freed by
 * the window), released the next time Python runs here. */
static GMutex dropped_lock;
static GPtrArray *dropped;

static void
release_dropped (void)
{
  g_mutex_lock (&dropped_lock);
  GPtrArray *list = g_steal_pointer (&dropped);
  g_mutex_unlock (&dropped_lock);
  if (list == NULL)
    return;
  for (guint i = 0; i < list->len; i++)
    Py_DECREF ((PyObject *) g_ptr_array_index (list, i));
  g_ptr_array_unref (list);
}

/* Every hook a run registered, with what holds it (a node, or a leaf tensor), so
 * that the run's end can take them away: a hook's function usually refers to the
 * tensors it watches, a cycle through the engine that Python's collector cannot
 * see. Only touched with the GIL held. */
typedef struct
{
  LessonRun *run;
  Node *node;                      /* strong, or NULL: a leaf's */
  Tensor *leaf;                    /* strong, or NULL */
  guint id;
} Registered;

static GArray *registered;

static void
registered_clear (gpointer data)
{
  Registered *r = data;
  if (r->node)
    {
      autograd_node_remove_hook (r->node, r->id);
      node_unref (r->node);
    }
  if (r->leaf)
    {
      autograd_remove_hook (r->leaf, r->id);
      tensor_unref (r->leaf);
    }
}

void
ext_hooks_release_run (LessonRun *run)
{
  for (guint i = registered ? registered->len : 0; i-- > 0;)
    if (g_array_index (registered, Registered, i).run == run)
      g_array_remove_index (registered, i);
}

static void
hook_destroy (gpointer data)
{
  if (Py_IsInitialized () && PyGILState_Check ())
    {
      Py_DECREF ((PyObject *) data);
      return;
    }
  g_mutex_lock (&dropped_lock);
  if (dropped == NULL)
    dropped = g_ptr_array_new ();
  g_ptr_array_add (dropped, data);
  g_mutex_unlock (&dropped_lock);
}

static gboolean
hook_call (const Tensor *grad, Tensor **replacement, gpointer user_data, GError **error)
{
  PyObject *fn = user_data;
  PyGILState_STATE gil = PyGILState_Ensure ();
  gboolean ok = TRUE;
  Py_INCREF (fn);   /* the hook may remove itself */
  PyObject *arg = ext_tensor_wrap (tensor_ref ((Tensor *) grad), NULL);
  PyObject *result = arg ? PyObject_CallOneArg (fn, arg) : NULL;
  if (result && result != Py_None)
    {
      if (!PyObject_TypeCheck (result, &TensorBaseType))
        PyErr_Format (PyExc_TypeError, "expected Variable or None (got %.100s)",
                      Py_TYPE (result)->tp_name);
      else
        {
          Tensor *r = ((TensorObject *) result)->tensor;
          if (!tensor_same_shape (r, grad))
            {
              PyObject *name = PyObject_GetAttrString (fn, "__name__");
              PyErr_Clear ();
              PyErr_Format (PyExc_RuntimeError, "hook '%s' has changed the size of value",
                            name && PyUnicode_Check (name) ? PyUnicode_AsUTF8 (name) : "?");
              Py_XDECREF (name);
            }
          else
            *replacement = tensor_ref (r);
        }
    }
  if (PyErr_Occurred ())
    {
      g_clear_pointer (replacement, tensor_unref);
      Py_XDECREF (hook_type);
      Py_XDECREF (hook_value);
      Py_XDECREF (hook_traceback);
      PyErr_Fetch (&hook_type, &hook_value, &hook_traceback);
      g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_HOOK, "a hook raised");
      ok = FALSE;
    }
  Py_XDECREF (result);
  Py_XDECREF (arg);
  Py_DECREF (fn);
  PyGILState_Release (gil);
  return ok;
}

PyObject *
ext_raise_autograd_error (GError *error)
{
  if (g_error_matches (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_HOOK) && hook_type)
    {
      g_clear_error (&error);
      PyErr_Restore (hook_type, hook_value, hook_traceback);
      hook_type = hook_value = hook_traceback = NULL;
      return NULL;
    }
  return ext_raise_gerror (error);
}

/* _add_hook(tensor, fn) -> id */
static PyObject *
ext_add_hook (PyObject *module, PyObject *args)
{
  PyObject *obj, *fn;
  if (!PyArg_ParseTuple (args, "OO:_add_hook", &obj, &fn))
    return NULL;
  Tensor *t = ext_tensor_get (obj, "tensor");
  if (t == NULL)
    return NULL;
  release_dropped ();
  if (!t->requires_grad)
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "cannot register a hook on a tensor that doesn't require gradient");
      return NULL;
    }
  Node *holder = t->grad_fn;
  guint id = autograd_add_hook (t, hook_call, Py_NewRef (fn), hook_destroy);
  if (registered == NULL)
    {
      registered = g_array_new (FALSE, FALSE, sizeof (Registered));
      g_array_set_clear_func (registered, registered_clear);
    }
  Registered r = { ext_current_run (), holder ? node_ref (holder) : NULL,
                   holder ? NULL : tensor_ref (t), id };
  g_array_append_val (registered, r);
  return PyLong_FromUnsignedLong (id);
}

/* _remove_hook(tensor, id) */
static PyObject *
ext_remove_hook (PyObject *module, PyObject *args)
{
  PyObject *obj;
  unsigned long id;
  if (!PyArg_ParseTuple (args, "Ok:_remove_hook", &obj, &id))
    return NULL;
  Tensor *t = ext_tensor_get (obj, "tensor");
  if (t == NULL)
    return NULL;
  /* From where it was added: a grad_fn that an assignment since replaced keeps it. */
  for (guint i = 0; registered && i < registered->len; i++)
    if (g_array_index (registered, Registered, i).id == (guint) id)
      {
        g_array_remove_index (registered, i);
        release_dropped ();
        Py_RETURN_NONE;
      }
  autograd_remove_hook (t, (guint) id);
  release_dropped ();
  Py_RETURN_NONE;
}

/* The engine tensors of a tuple of Tensors (or None where allowed), borrowed. */
static Tensor **
tensors_of (PyObject *tuple, bool none_ok, const char *what)
{
  Py_ssize_t n = PyTuple_GET_SIZE (tuple);
  Tensor **out = g_new0 (Tensor *, n ? n : 1);
  for (Py_ssize_t i = 0; i < n; i++)
    {
      PyObject *item = PyTuple_GET_ITEM (tuple, i);
      if (none_ok && item == Py_None)
        continue;
      if ((out[i] = ext_tensor_get (item, what)) == NULL)
        {
          g_free (out);
          return NULL;
        }
    }
  return out;
}

/* _grad(outputs, inputs, grad_outputs or None, retain_graph, allow_unused): a tuple
 * of gradients (None for an unused input). The run is in its backward phase
 * meanwhile, as for backward(). */
static PyObject *
ext_grad (PyObject *module, PyObject *args)
{
  PyObject *outputs, *inputs, *grad_outputs;
  int retain_graph, allow_unused;
  if (!PyArg_ParseTuple (args, "O!O!Opp:_grad", &PyTuple_Type, &outputs, &PyTuple_Type, &inputs,
                         &grad_outputs, &retain_graph, &allow_unused))
    return NULL;
  Py_ssize_t n_out = PyTuple_GET_SIZE (outputs), n_in = PyTuple_GET_SIZE (inputs);
  if (n_out == 0 || n_in == 0)
    {
      PyErr_SetString (PyExc_RuntimeError, n_out == 0 ? "grad requires non-empty outputs"
                                                      : "grad requires non-empty inputs.");
      return NULL;
    }
  if (grad_outputs != Py_None
      && (!PyTuple_Check (grad_outputs) || PyTuple_GET_SIZE (grad_outputs) != n_out))
    {
      PyErr_Format (PyExc_RuntimeError, "grad_outputs should be a sequence of length %zd",
                    n_out);
      return NULL;
    }
  g_autofree Tensor **outs = tensors_of (outputs, false, "outputs");
  g_autofree Tensor **ins = outs ? tensors_of (inputs, false, "inputs") : NULL;
  g_autofree Tensor **gos = ins && grad_outputs != Py_None
                              ? tensors_of (grad_outputs, true, "grad_outputs") : NULL;
  if (ins == NULL || (grad_outputs != Py_None && gos == NULL))
    return NULL;
  release_dropped ();

  g_autofree Tensor **grads = g_new0 (Tensor *, n_in);
  g_autoptr (GError) error = NULL;
  gboolean ok, stopped = FALSE;
  Py_BEGIN_ALLOW_THREADS
  if (!ext_phase_enter (LESSON_PHASE_BACKWARD))
    stopped = TRUE, ok = FALSE;
  else
    {
      ok = autograd_grad ((int) n_out, outs, (const Tensor *const *) gos, (int) n_in, ins,
                          retain_graph, allow_unused, grads, &error);
      if (!ok && g_error_matches (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_CANCELLED))
        stopped = TRUE;
    }
  ext_phase_leave ();
  Py_END_ALLOW_THREADS
  if (stopped)
    {
      for (Py_ssize_t i = 0; i < n_in; i++)
        g_clear_pointer (&grads[i], tensor_unref);
      PyErr_SetString (ext_stopped_error, "the program was stopped");
      return NULL;
    }
  if (!ok)
    return ext_raise_autograd_error (g_steal_pointer (&error));
  PyObject *result = PyTuple_New (n_in);
  for (Py_ssize_t i = 0; i < n_in; i++)
    {
      PyObject *g = grads[i] ? ext_tensor_wrap (grads[i], NULL) : Py_NewRef (Py_None);
      if (g == NULL)
        {
          for (Py_ssize_t j = i + 1; j < n_in; j++)
            g_clear_pointer (&grads[j], tensor_unref);
          Py_DECREF (result);
          return NULL;
        }
      PyTuple_SET_ITEM (result, i, g);
    }
  return result;
}

/* _backward(tensors, grad_tensors or None, retain_graph): one backward pass from them
 * all (torch.autograd.backward). */
static PyObject *
ext_backward (PyObject *module, PyObject *args)
{
  PyObject *tensors, *grads_obj;
  int retain_graph;
  if (!PyArg_ParseTuple (args, "O!Op:_backward", &PyTuple_Type, &tensors, &grads_obj,
                         &retain_graph))
    return NULL;
  Py_ssize_t n = PyTuple_GET_SIZE (tensors);
  if (n == 0)
    Py_RETURN_NONE;
  if (grads_obj != Py_None && (!PyTuple_Check (grads_obj) || PyTuple_GET_SIZE (grads_obj) != n))
    {
      PyErr_Format (PyExc_RuntimeError, "grad can be implicitly created only for scalar outputs");
      return NULL;
    }
  g_autofree Tensor **roots = tensors_of (tensors, false, "tensors");
  g_autofree Tensor **grads = roots && grads_obj != Py_None
                                ? tensors_of (grads_obj, true, "grad_tensors") : NULL;
  if (roots == NULL || (grads_obj != Py_None && grads == NULL))
    return NULL;
  release_dropped ();

  g_autoptr (GError) error = NULL;
  gboolean ok, stopped = FALSE;
  Py_BEGIN_ALLOW_THREADS
  if (!ext_phase_enter (LESSON_PHASE_BACKWARD))
    stopped = TRUE, ok = FALSE;
  else
    {
      ok = autograd_backward ((int) n, roots, (const Tensor *const *) grads, retain_graph,
                              &error);
      if (!ok && g_error_matches (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_CANCELLED))
        stopped = TRUE;
    }
  ext_phase_leave ();
  Py_END_ALLOW_THREADS
  if (stopped)
    {
      PyErr_SetString (ext_stopped_error, "the program was stopped");
      return NULL;
    }
  if (!ok)
    return ext_raise_autograd_error (g_steal_pointer (&error));
  Py_RETURN_NONE;
}

PyMethodDef ext_autograd_methods[] = {
  { "_backward", ext_backward, METH_VARARGS, "_backward(tensors, grad_tensors, retain_graph)" },
  { "_add_hook", ext_add_hook, METH_VARARGS, "_add_hook(tensor, fn) -> id" },
  { "_remove_hook", ext_remove_hook, METH_VARARGS, "_remove_hook(tensor, id)" },
  { "_grad", ext_grad, METH_VARARGS,
    "_grad(outputs, inputs, grad_outputs, retain_graph, allow_unused)" },
  { NULL },
};

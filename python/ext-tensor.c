/* ext-tensor.c — _gradlens.TensorBase and _gradlens.Node: the engine's Tensor and
 * grad_fn as Python objects. torch.Tensor (lib/torch/_tensor.py) subclasses
 * TensorBase and adds the operators; what needs the engine's fields lives here.
 */
#include "ext.h"

#include "ops.h"

#include <math.h>

static PyTypeObject *tensor_class;   /* torch.Tensor, once torch is imported */

PyObject *
ext_raise_gerror (GError *error)
{
  PyErr_SetString (g_error_matches (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_VALUE)
                     ? PyExc_ValueError : PyExc_RuntimeError,
                   error ? error->message : "the engine failed");
  g_clear_error (&error);
  return NULL;
}

PyObject *
ext_tensor_wrap (Tensor *t, GError *error)
{
  if (t == NULL)
    return ext_raise_gerror (error);
  PyTypeObject *type = tensor_class ? tensor_class : &TensorBaseType;
  TensorObject *self = (TensorObject *) type->tp_alloc (type, 0);
  if (self == NULL)
    {
      tensor_unref (t);
      return NULL;
    }
  self->tensor = t;
  return (PyObject *) self;
}

Tensor *
ext_tensor_get (PyObject *obj, const char *what)
{
  if (!PyObject_TypeCheck (obj, &TensorBaseType))
    {
      PyErr_Format (PyExc_TypeError, "%s must be a Tensor, not %.100s", what,
                    Py_TYPE (obj)->tp_name);
      return NULL;
    }
  return ((TensorObject *) obj)->tensor;
}

PyObject *
ext_node_wrap (Node *node)
{
  if (node == NULL)
    Py_RETURN_NONE;
  NodeObject *self = PyObject_New (NodeObject, &NodeType);
  if (self)
    self->node = node_ref (node);
  return (PyObject *) self;
}

PyObject *
ext_set_tensor_class (PyObject *module, PyObject *cls)
{
  if (!PyType_Check (cls) || !PyType_IsSubtype ((PyTypeObject *) cls, &TensorBaseType))
    {
      PyErr_SetString (PyExc_TypeError, "_set_tensor_class needs a subclass of TensorBase");
      return NULL;
    }
  Py_XDECREF (tensor_class);
  tensor_class = (PyTypeObject *) Py_NewRef (cls);
  Py_RETURN_NONE;
}

/* rewrap(cls, t): a new object of cls (torch.Tensor or a subclass: nn.Parameter) for
 * t's engine tensor, shared. */
PyObject *
ext_rewrap (PyObject *module, PyObject *args)
{
  PyObject *cls, *obj;
  if (!PyArg_ParseTuple (args, "OO:rewrap", &cls, &obj))
    return NULL;
  Tensor *t = ext_tensor_get (obj, "tensor");
  if (t == NULL)
    return NULL;
  if (!PyType_Check (cls) || !PyType_IsSubtype ((PyTypeObject *) cls, &TensorBaseType))
    {
      PyErr_SetString (PyExc_TypeError, "rewrap needs a subclass of TensorBase");
      return NULL;
    }
  TensorObject *self = (TensorObject *) ((PyTypeObject *) cls)->tp_alloc ((PyTypeObject *) cls, 0);
  if (self)
    self->tensor = tensor_ref (t);
  return (PyObject *) self;
}

/* --- TensorBase --------------------------------------------------------------- */

#define SELF(o) (((TensorObject *) (o))->tensor)

static void
tensor_dealloc (PyObject *self)
{
  Tensor *t = SELF (self);
  /* The last reference to a graph frees its nodes: no event, so no pause. */
  if (t)
    tensor_unref (t);
  Py_TYPE (self)->tp_free (self);
}

static PyObject *
tensor_repr (PyObject *self)
{
  g_autofree char *s = tensor_to_string (SELF (self));
  return PyUnicode_FromString (s);
}

static PyObject *
value_object (const Tensor *t, float v)
{
  switch (t->dtype)
    {
    case TENSOR_INT64:
      return PyLong_FromLongLong ((long long) v);
    case TENSOR_BOOL:
      return PyBool_FromLong (v != 0);
    case TENSOR_FLOAT32:
    default:
      return PyFloat_FromDouble ((double) v);
    }
}

static PyObject *
tensor_get_shape (PyObject *self, void *closure)
{
  Tensor *t = SELF (self);
  PyObject *shape = PyTuple_New (t->ndim);
  for (int i = 0; shape && i < t->ndim; i++)
    PyTuple_SET_ITEM (shape, i, PyLong_FromLongLong (t->shape[i]));
  return shape;
}

static PyObject *
tensor_get_requires_grad (PyObject *self, void *closure)
{
  return PyBool_FromLong (SELF (self)->requires_grad);
}

static int
tensor_set_requires_grad_py (PyObject *self, PyObject *value, void *closure)
{
  if (value == NULL || !PyBool_Check (value))
    {
      PyErr_SetString (PyExc_TypeError, "requires_grad must be a bool");
      return -1;
    }
  Tensor *t = SELF (self);
  bool on = value == Py_True;
  if (on && t->dtype != TENSOR_FLOAT32)
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "Only Tensors of floating point and complex dtype can require gradients");
      return -1;
    }
  if (!tensor_is_leaf (t))
    {
      /* PyTorch's words (the engine's error is about its own API). */
      PyErr_SetString (PyExc_RuntimeError,
                       on ? "you can only change requires_grad flags of leaf variables."
                          : "you can only change requires_grad flags of leaf variables. If you "
                            "want to use a computed variable in a subgraph that doesn't require "
                            "differentiation use var_no_grad = var.detach().");
      return -1;
    }
  g_autoptr (GError) error = NULL;
  if (!tensor_set_requires_grad (t, on, &error))
    {
      PyErr_SetString (PyExc_RuntimeError, error->message);
      return -1;
    }
  return 0;
}

static PyObject *
tensor_get_is_leaf (PyObject *self, void *closure)
{
  return PyBool_FromLong (tensor_is_leaf (SELF (self)));
}

static PyObject *
tensor_get_grad (PyObject *self, void *closure)
{
  Tensor *g = SELF (self)->grad;
  if (g == NULL)
    Py_RETURN_NONE;
  return ext_tensor_wrap (tensor_ref (g), NULL);
}

static int
tensor_set_grad (PyObject *self, PyObject *value, void *closure)
{
  Tensor *t = SELF (self);
  if (value == NULL || value == Py_None)
    {
      tensor_zero_grad (t);
      return 0;
    }
  Tensor *g = ext_tensor_get (value, "grad");
  if (g == NULL)
    return -1;
  if (!tensor_same_shape (g, t))
    {
      g_autofree char *gs = tensor_shape_string (g);
      g_autofree char *ts = tensor_shape_string (t);
      PyErr_Format (PyExc_RuntimeError, "assigned grad has data of a different size: %s, not %s",
                    gs, ts);
      return -1;
    }
  Tensor *old = t->grad;
  t->grad = tensor_detach (g);
  if (old)
    tensor_unref (old);
  return 0;
}

static PyObject *
tensor_get_grad_fn (PyObject *self, void *closure)
{
  return ext_node_wrap (SELF (self)->grad_fn);
}

static PyObject *
tensor_get_dtype_code (PyObject *self, void *closure)
{
  return PyLong_FromLong (SELF (self)->dtype);
}

static int
tensor_set_dtype_code (PyObject *self, PyObject *value, void *closure)
{
  long code = value ? PyLong_AsLong (value) : -1;
  if (code < TENSOR_FLOAT32 || code > TENSOR_BOOL)
    {
      if (!PyErr_Occurred ())
        PyErr_SetString (PyExc_ValueError, "unknown dtype code");
      return -1;
    }
  SELF (self)->dtype = (TensorDType) code;
  return 0;
}

static PyObject *
tensor_get_id (PyObject *self, void *closure)
{
  return PyLong_FromVoidPtr (SELF (self));
}

static PyGetSetDef tensor_getset[] = {
  { "shape", tensor_get_shape, NULL, "the shape, as a tuple (torch.Size wraps it)", NULL },
  { "requires_grad", tensor_get_requires_grad, tensor_set_requires_grad_py, NULL, NULL },
  { "is_leaf", tensor_get_is_leaf, NULL, NULL, NULL },
  { "grad", tensor_get_grad, tensor_set_grad, NULL, NULL },
  { "grad_fn", tensor_get_grad_fn, NULL, NULL, NULL },
  { "_dtype_code", tensor_get_dtype_code, tensor_set_dtype_code, NULL, NULL },
  { "_engine_id", tensor_get_id, NULL, "the engine tensor's address: same data, same id", NULL },
  { NULL },
};

static PyObject *
tensor_item (PyObject *self, PyObject *unused)
{
  Tensor *t = SELF (self);
  if (t->numel != 1)
    {
      PyErr_Format (PyExc_RuntimeError,
                    "a Tensor with %" G_GINT64_FORMAT " elements cannot be converted to Scalar",
                    t->numel);
      return NULL;
    }
  return value_object (t, t->data[0]);
}

static PyObject *
list_of (const Tensor *t, int dim, int64_t offset)
{
  if (dim >= t->ndim || dim >= TENSOR_MAX_DIMS)
    return value_object (t, t->data[offset]);
  int64_t stride = 1;
  for (int d = dim + 1; d < MIN (t->ndim, TENSOR_MAX_DIMS); d++)
    stride *= t->shape[d];
  PyObject *list = PyList_New (t->shape[dim]);
  for (int64_t i = 0; list && i < t->shape[dim]; i++)
    {
      PyObject *item = list_of (t, dim + 1, offset + i * stride);
      if (item == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, i, item);
    }
  return list;
}

static PyObject *
tensor_tolist (PyObject *self, PyObject *unused)
{
  return list_of (SELF (self), 0, 0);
}

static PyObject *
tensor_numel (PyObject *self, PyObject *unused)
{
  return PyLong_FromLongLong (SELF (self)->numel);
}

static PyObject *
tensor_dim (PyObject *self, PyObject *unused)
{
  return PyLong_FromLong (SELF (self)->ndim);
}

/* tensor.backward(gradient=None, retain_graph=None): the run enters its backward
 * phase (if the line did not begin it already) and the engine runs the pass (and
 * may pause at each node); the next statement's line begins its own phase. */
static PyObject *
tensor_backward_py (PyObject *self, PyObject *args, PyObject *kwargs)
{
  static char *keywords[] = { (char *) "gradient", (char *) "retain_graph",
                              (char *) "create_graph", (char *) "inputs", NULL };
  PyObject *gradient = Py_None, *retain = Py_None, *create = Py_False, *inputs = Py_None;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|OOOO:backward", keywords, &gradient, &retain,
                                    &create, &inputs))
    return NULL;
  if (PyObject_IsTrue (create) == 1 || inputs != Py_None)
    {
      PyErr_SetString (PyExc_NotImplementedError,
                       "GradLens's torch: backward(create_graph=True) and backward(inputs=...) "
                       "are not supported");
      return NULL;
    }
  Tensor *t = SELF (self);
  const Tensor *g = NULL;
  if (gradient != Py_None && (g = ext_tensor_get (gradient, "gradient")) == NULL)
    return NULL;
  bool retain_graph = retain != Py_None && PyObject_IsTrue (retain) == 1;

  /* A scalar's backward is a loss's: the run keeps its value for the loss plot. */
  LessonRun *run = ext_current_run ();
  if (run && g == NULL && t->numel == 1 && t->grad_fn)
    lesson_run_push_loss (run, t->data[0]);

  g_autoptr (GError) error = NULL;
  gboolean ok, stopped = FALSE;
  Py_BEGIN_ALLOW_THREADS
  if (!ext_phase_enter (LESSON_PHASE_BACKWARD))
    stopped = TRUE, ok = FALSE;
  else
    {
      ok = tensor_backward (t, g, retain_graph, &error);
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

static PyObject *
tensor_retain_grad_py (PyObject *self, PyObject *unused)
{
  g_autoptr (GError) error = NULL;
  Tensor *t = SELF (self);
  if (!t->requires_grad)
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "can't retain_grad on Tensor that has requires_grad=False");
      return NULL;
    }
  if (!tensor_is_leaf (t) && !tensor_retain_grad (t, &error))
    return ext_raise_gerror (g_steal_pointer (&error));
  Py_RETURN_NONE;
}

static PyObject *
tensor_detach_py (PyObject *self, PyObject *unused)
{
  Tensor *d = tensor_detach (SELF (self));
  d->dtype = SELF (self)->dtype;
  return ext_tensor_wrap (d, NULL);
}

/* x._cast(dtype code): a new leaf of that dtype, as PyTorch converts: to int64 toward
 * zero, to bool whether it is not 0 (the engine holds every dtype's values as floats). */
static PyObject *
tensor_cast_py (PyObject *self, PyObject *arg)
{
  long code = PyLong_AsLong (arg);
  if (code < TENSOR_FLOAT32 || code > TENSOR_BOOL)
    {
      if (!PyErr_Occurred ())
        PyErr_SetString (PyExc_ValueError, "unknown dtype code");
      return NULL;
    }
  Tensor *out = tensor_copy (SELF (self));
  out->dtype = (TensorDType) code;
  for (int64_t i = 0; i < out->numel; i++)
    if (code == TENSOR_INT64)
      out->data[i] = truncf (out->data[i]);
    else if (code == TENSOR_BOOL)
      out->data[i] = out->data[i] != 0;
  return ext_tensor_wrap (out, NULL);
}

/* x.detach_(): x itself becomes a leaf that does not require grad. */
static PyObject *
tensor_detach_inplace (PyObject *self, PyObject *unused)
{
  Tensor *t = SELF (self);
  Node *fn = g_steal_pointer (&t->grad_fn);
  t->requires_grad = false;
  if (fn)
    node_unref (fn);
  return Py_NewRef (self);
}

/* Copies src's values into self (same number of elements), bypassing autograd:
 * what in-place updates (`p.data -= ...`, zero_(), fill_(), copy_()) end in. */
static PyObject *
tensor_assign_values (PyObject *self, PyObject *arg)
{
  Tensor *dst = SELF (self);
  Tensor *src = ext_tensor_get (arg, "source");
  if (src == NULL)
    return NULL;
  if (src->numel != dst->numel && src->numel != 1)
    {
      g_autofree char *ds = tensor_shape_string (dst);
      g_autofree char *ss = tensor_shape_string (src);
      PyErr_Format (PyExc_RuntimeError,
                    "output with shape %s doesn't match the broadcast shape %s", ds, ss);
      return NULL;
    }
  for (int64_t i = 0; i < dst->numel; i++)
    dst->data[i] = src->data[src->numel == 1 ? 0 : i];
  Py_RETURN_NONE;
}

static PyMethodDef tensor_methods[] = {
  { "item", tensor_item, METH_NOARGS, NULL },
  { "tolist", tensor_tolist, METH_NOARGS, NULL },
  { "numel", tensor_numel, METH_NOARGS, NULL },
  { "dim", tensor_dim, METH_NOARGS, NULL },
  { "backward", (PyCFunction) (void (*) (void)) tensor_backward_py,
    METH_VARARGS | METH_KEYWORDS, NULL },
  { "retain_grad", tensor_retain_grad_py, METH_NOARGS, NULL },
  { "detach", tensor_detach_py, METH_NOARGS, NULL },
  { "_cast", tensor_cast_py, METH_O, NULL },
  { "detach_", tensor_detach_inplace, METH_NOARGS, NULL },
  { "_assign_values", tensor_assign_values, METH_O, NULL },
  { NULL },
};

PyTypeObject TensorBaseType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_gradlens.TensorBase",
  .tp_basicsize = sizeof (TensorObject),
  .tp_dealloc = tensor_dealloc,
  .tp_repr = tensor_repr,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
  .tp_doc = "The engine's tensor; torch.Tensor subclasses it.",
  .tp_methods = tensor_methods,
  .tp_getset = tensor_getset,
};

/* --- Node (grad_fn) -------------------------------------------------------------- */

#define NODE(o) (((NodeObject *) (o))->node)

static void
node_dealloc (PyObject *self)
{
  node_unref (NODE (self));
  PyObject_Free (self);
}

/* grad_fn.name(): the class name; the two nodes PyTorch writes by hand, not generated
 * from derivatives.yaml, carry their C++ namespace: "torch::autograd::AccumulateGrad",
 * "torch::autograd::CopySlices". */
static PyObject *
node_name_py (PyObject *self, PyObject *unused)
{
  Node *node = NODE (self);
  if (node->op == OP_ACCUMULATE_GRAD || node->op == OP_COPY_SLICES)
    return PyUnicode_FromFormat ("torch::autograd::%s", node_name (node));
  return PyUnicode_FromString (node_name (node));
}

static PyObject *
node_repr (PyObject *self)
{
  return PyUnicode_FromFormat ("<%s object at %p>", node_name (NODE (self)), (void *) self);
}

static PyObject *
node_get_next_functions (PyObject *self, void *closure)
{
  Node *node = NODE (self);
  PyObject *next = PyTuple_New (node->n_next);
  for (int i = 0; next && i < node->n_next; i++)
    {
      PyObject *pair = Py_BuildValue ("(Ni)", ext_node_wrap (node->next[i].node),
                                      node->next[i].input_nr);
      if (pair == NULL)
        {
          Py_CLEAR (next);
          break;
        }
      PyTuple_SET_ITEM (next, i, pair);
    }
  return next;
}

static PyObject *
node_get_variable (PyObject *self, void *closure)
{
  Node *node = NODE (self);
  if (node->op != OP_ACCUMULATE_GRAD || node->variable == NULL)
    {
      PyErr_Format (PyExc_AttributeError, "'%s' object has no attribute 'variable'",
                    node_name (node));
      return NULL;
    }
  return ext_tensor_wrap (tensor_ref (node->variable), NULL);
}

static PyObject *
node_get_type_name (PyObject *self, void *closure)
{
  return PyUnicode_FromString (node_name (NODE (self)));
}

static PyObject *
node_richcompare (PyObject *a, PyObject *b, int op)
{
  if (!PyObject_TypeCheck (b, &NodeType) || (op != Py_EQ && op != Py_NE))
    Py_RETURN_NOTIMPLEMENTED;
  bool same = NODE (a) == NODE (b);
  return PyBool_FromLong (op == Py_EQ ? same : !same);
}

static Py_hash_t
node_hash (PyObject *self)
{
  return _Py_HashPointer (NODE (self));
}

static PyMethodDef node_methods[] = {
  { "name", node_name_py, METH_NOARGS, NULL },
  { NULL },
};

static PyGetSetDef node_getset[] = {
  { "next_functions", node_get_next_functions, NULL, NULL, NULL },
  { "variable", node_get_variable, NULL, NULL, NULL },
  { "_class_name", node_get_type_name, NULL, "PyTorch's class name: SubBackward0", NULL },
  { NULL },
};

PyTypeObject NodeType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_gradlens.Node",
  .tp_basicsize = sizeof (NodeObject),
  .tp_dealloc = node_dealloc,
  .tp_repr = node_repr,
  .tp_hash = node_hash,
  .tp_richcompare = node_richcompare,
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "A grad_fn: a node of the backward graph.",
  .tp_methods = node_methods,
  .tp_getset = node_getset,
};

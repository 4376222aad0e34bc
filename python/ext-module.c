/* ext-module.c — the engine's nn modules and SGD for torch.nn and torch.optim.
 *
 * torch.nn's built-in layers and torchvision's resnet18 are engine Modules (module.h),
 * made by the engine's builders from torch's default generator (so the same seed gives
 * PyTorch's initial weights) and run by module_forward; the Python classes around them
 * (lib/torch/nn/) keep PyTorch's bookkeeping. torch.optim.SGD is the engine's Sgd.
 */
#include "ext.h"

#include "sgd.h"

typedef struct
{
  PyObject_HEAD
  Module *module;                /* strong */
} EngineModuleObject;

static void
engine_module_dealloc (PyObject *self)
{
  module_unref (((EngineModuleObject *) self)->module);
  PyObject_Free (self);
}

PyTypeObject EngineModuleType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_gradlens.EngineModule",
  .tp_basicsize = sizeof (EngineModuleObject),
  .tp_dealloc = engine_module_dealloc,
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "An engine nn module (module.h).",
};

PyObject *
ext_module_wrap (Module *m)
{
  if (m == NULL)
    {
      PyErr_SetString (PyExc_ValueError, "GradLens's torch: bad module arguments");
      return NULL;
    }
  EngineModuleObject *self = PyObject_New (EngineModuleObject, &EngineModuleType);
  if (self)
    self->module = m;
  else
    module_unref (m);
  return (PyObject *) self;
}

Module *
ext_module_get (PyObject *obj)
{
  if (!PyObject_TypeCheck (obj, &EngineModuleType))
    {
      PyErr_SetString (PyExc_TypeError, "expected an engine module");
      return NULL;
    }
  return ((EngineModuleObject *) obj)->module;
}

/* new_module(kind, ...): "conv2d" (in, out, kernel, stride, padding, bias), "batch_norm2d"
 * (channels), "linear" (in, out), "relu", "max_pool2d" (kernel, stride, padding),
 * "adaptive_avg_pool2d", "sequential", "resnet18" (num_classes). */
static PyObject *
ext_new_module (PyObject *module, PyObject *args)
{
  const char *kind;
  int a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;
  if (!PyArg_ParseTuple (args, "s|iiiiii:new_module", &kind, &a, &b, &c, &d, &e, &f))
    return NULL;
  Generator *gen = ext_default_generator ();
  Module *m = NULL;
  if (g_str_equal (kind, "conv2d"))
    m = conv2d_new (a, b, c, d, e, f, gen);
  else if (g_str_equal (kind, "batch_norm2d"))
    m = batch_norm2d_new (a);
  else if (g_str_equal (kind, "linear"))
    m = linear_new (a, b, gen);
  else if (g_str_equal (kind, "relu"))
    m = relu_new ();
  else if (g_str_equal (kind, "max_pool2d"))
    m = max_pool2d_new (a, b, c);
  else if (g_str_equal (kind, "adaptive_avg_pool2d"))
    m = adaptive_avg_pool2d_new ();
  else if (g_str_equal (kind, "sequential"))
    m = sequential_new ();
  else if (g_str_equal (kind, "resnet18"))
    m = resnet18_new_from_generator (a, 64, gen);
  else
    {
      PyErr_Format (PyExc_ValueError, "no engine module '%s'", kind);
      return NULL;
    }
  return ext_module_wrap (m);
}

/* new_program_module(class name): the engine's side of a program's own module. */
static PyObject *
ext_new_program_module (PyObject *module, PyObject *arg)
{
  const char *name = PyUnicode_Check (arg) ? PyUnicode_AsUTF8 (arg) : NULL;
  if (name == NULL)
    {
      PyErr_SetString (PyExc_TypeError, "new_program_module: expected a class name");
      return NULL;
    }
  return ext_module_wrap (module_program_new (name));
}

/* module_set_param(m, name, parameter or None, buffer=False): `m.name = Parameter(...)`
 * (or a buffer's tensor) — on a built-in layer too, whose forward then uses it, as
 * PyTorch's does. */
static PyObject *
ext_module_set_param (PyObject *module, PyObject *args)
{
  PyObject *m_obj, *t_obj;
  const char *name;
  int buffer = 0;
  if (!PyArg_ParseTuple (args, "OsO|p:module_set_param", &m_obj, &name, &t_obj, &buffer))
    return NULL;
  Module *m = ext_module_get (m_obj);
  if (m == NULL)
    return NULL;
  Tensor *t = NULL;
  if (t_obj != Py_None && (t = ext_tensor_get (t_obj, "parameter")) == NULL)
    return NULL;
  (buffer ? module_set_buffer : module_set_param) (m, name, t);
  Py_RETURN_NONE;
}

/* module_remove_child(parent, name): `del parent.name`, or a module replaced by None. */
static PyObject *
ext_module_remove_child (PyObject *module, PyObject *args)
{
  PyObject *p_obj;
  const char *name;
  if (!PyArg_ParseTuple (args, "Os:module_remove_child", &p_obj, &name))
    return NULL;
  Module *parent = ext_module_get (p_obj);
  if (parent == NULL)
    return NULL;
  module_remove_child (parent, name);
  Py_RETURN_NONE;
}

/* module_enter(m) → whether it entered; module_leave() after one that did: a program
 * module's forward, announced as the engine announces its own layers' (the stepper
 * may pause: without the GIL). Not a loss or an activation called on its own (a root
 * without parameters): its path, "", is the model's. */
static PyObject *
ext_module_enter (PyObject *module, PyObject *arg)
{
  Module *m = ext_module_get (arg);
  if (m == NULL)
    return NULL;
  ParamCounts counts = { 0 };
  if (m->parent == NULL)
    module_count_parameters (m, &counts);
  if (m->parent == NULL && counts.total == 0)
    Py_RETURN_FALSE;
  Py_BEGIN_ALLOW_THREADS
  autograd_module_push (m->path);
  Py_END_ALLOW_THREADS
  Py_RETURN_TRUE;
}

static PyObject *
ext_module_leave (PyObject *module, PyObject *unused)
{
  Py_BEGIN_ALLOW_THREADS
  autograd_module_pop ();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

/* module_info(m): (kind name, path, training, [(name, child)], [(name, param)],
 * [(name, buffer)], num_batches_tracked, (in, out, kernel, stride, padding)). */
static PyObject *
ext_module_info (PyObject *module, PyObject *arg)
{
  Module *m = ext_module_get (arg);
  if (m == NULL)
    return NULL;
  PyObject *children = PyList_New (0), *params = PyList_New (0), *buffers = PyList_New (0);
  for (guint i = 0; i < m->children->len; i++)
    {
      Module *child = g_ptr_array_index (m->children, i);
      PyObject *item = Py_BuildValue ("(sN)", child->name, ext_module_wrap (module_ref (child)));
      PyList_Append (children, item);
      Py_XDECREF (item);
    }
  GArray *lists[2] = { m->params, m->buffers };
  PyObject *outs[2] = { params, buffers };
  for (int l = 0; l < 2; l++)
    for (guint i = 0; i < lists[l]->len; i++)
      {
        NamedTensor *nt = &g_array_index (lists[l], NamedTensor, i);
        PyObject *item = Py_BuildValue ("(sN)", nt->name,
                                        ext_tensor_wrap (tensor_ref (nt->tensor), NULL));
        PyList_Append (outs[l], item);
        Py_XDECREF (item);
      }
  return Py_BuildValue ("(ssONNNL(iiiii))", module_type_name (m), m->path,
                        m->training ? Py_True : Py_False, children, params, buffers,
                        (long long) m->num_batches_tracked, m->in_channels, m->out_channels,
                        m->kernel, m->stride, m->padding);
}

/* module_forward(m, x): the engine's forward of m (it announces m's path). */
static PyObject *
ext_module_forward (PyObject *module, PyObject *args)
{
  PyObject *m_obj, *x_obj;
  if (!PyArg_ParseTuple (args, "OO:module_forward", &m_obj, &x_obj))
    return NULL;
  Module *m = ext_module_get (m_obj);
  Tensor *x = m ? ext_tensor_get (x_obj, "input") : NULL;
  if (x == NULL)
    return NULL;
  Tensor *out;
  GError *error = NULL;
  Py_BEGIN_ALLOW_THREADS
  out = module_forward (m, x, &error);
  Py_END_ALLOW_THREADS
  return ext_tensor_wrap (out, error);
}

/* module_set_child(parent, name, child): `parent.name = child`, added or replaced. */
static PyObject *
ext_module_set_child (PyObject *module, PyObject *args)
{
  PyObject *p_obj, *c_obj;
  const char *name;
  if (!PyArg_ParseTuple (args, "OsO:module_set_child", &p_obj, &name, &c_obj))
    return NULL;
  Module *parent = ext_module_get (p_obj), *child = parent ? ext_module_get (c_obj) : NULL;
  if (child == NULL)
    return NULL;
  if (child->parent == parent && module_get_child (parent, name) == child)
    Py_RETURN_NONE;
  if (child->parent && parent->kind == MODULE_PROGRAM)
    /* PyTorch lets a program hold one layer under two names: the engine's tree, which
     * only pictures a program's modules, shows it at its first place. */
    Py_RETURN_NONE;
  if (child->parent)
    {
      /* An engine container runs its children itself: a layer in two places would
       * run once. */
      PyErr_SetString (PyExc_RuntimeError,
                       "GradLens's torch: a layer can have only one parent module");
      return NULL;
    }
  if (module_get_child (parent, name))
    module_replace_child (parent, name, module_ref (child));
  else
    module_add_child (parent, name, module_ref (child));
  Py_RETURN_NONE;
}

static PyObject *
ext_module_train (PyObject *module, PyObject *args)
{
  PyObject *m_obj;
  int training;
  if (!PyArg_ParseTuple (args, "Op:module_train", &m_obj, &training))
    return NULL;
  Module *m = ext_module_get (m_obj);
  if (m == NULL)
    return NULL;
  module_train (m, training);
  Py_RETURN_NONE;
}

/* module_batches(m[, n]): a BatchNorm2d's num_batches_tracked, read or set (a state
 * dict's int64 buffer). */
static PyObject *
ext_module_batches (PyObject *module, PyObject *args)
{
  PyObject *m_obj;
  long long n = -1;
  if (!PyArg_ParseTuple (args, "O|L:module_batches", &m_obj, &n))
    return NULL;
  Module *m = ext_module_get (m_obj);
  if (m == NULL)
    return NULL;
  if (n >= 0)
    m->num_batches_tracked = n;
  return PyLong_FromLongLong (m->num_batches_tracked);
}

/* --- SGD ------------------------------------------------------------------------ */

typedef struct
{
  PyObject_HEAD
  Sgd *sgd;
} SgdObject;

static void
sgd_object_dealloc (PyObject *self)
{
  sgd_free (((SgdObject *) self)->sgd);
  PyObject_Free (self);
}

PyTypeObject SgdType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_gradlens.EngineSGD",
  .tp_basicsize = sizeof (SgdObject),
  .tp_dealloc = sgd_object_dealloc,
  .tp_flags = Py_TPFLAGS_DEFAULT,
};

Sgd *
ext_sgd_get (PyObject *obj)
{
  return PyObject_TypeCheck (obj, &SgdType) ? ((SgdObject *) obj)->sgd : NULL;
}

/* The engine optimizer over params (a sequence of tensors). */
static PyObject *
optimizer_new (PyObject *params, const SgdOptions *options)
{
  PyObject *fast = PySequence_Fast (params, "params must be a sequence of tensors");
  if (fast == NULL)
    return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE (fast);
  g_autofree Tensor **tensors = g_new0 (Tensor *, n + 1);
  for (Py_ssize_t i = 0; i < n; i++)
    if ((tensors[i] = ext_tensor_get (PySequence_Fast_GET_ITEM (fast, i), "param")) == NULL)
      {
        Py_DECREF (fast);
        return NULL;
      }
  Py_DECREF (fast);
  SgdObject *self = PyObject_New (SgdObject, &SgdType);
  if (self)
    self->sgd = sgd_new_for_tensors (tensors, (int) n, options);
  return (PyObject *) self;
}

/* sgd_new(params, lr, momentum, dampening, weight_decay, nesterov) */
static PyObject *
ext_sgd_new (PyObject *module, PyObject *args)
{
  PyObject *params;
  double lr, momentum, dampening, weight_decay;
  int nesterov;
  if (!PyArg_ParseTuple (args, "Oddddp:sgd_new", &params, &lr, &momentum, &dampening,
                         &weight_decay, &nesterov))
    return NULL;
  SgdOptions options = { (float) lr, (float) momentum, (float) dampening,
                         (float) weight_decay, nesterov };
  return optimizer_new (params, &options);
}

/* adam_new(params, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize): the
 * engine's Adam (adam.c), one optimizer object with SGD's. */
static PyObject *
ext_adam_new (PyObject *module, PyObject *args)
{
  PyObject *params;
  AdamOptions adam;
  int amsgrad, maximize;
  if (!PyArg_ParseTuple (args, "Odddddpp:adam_new", &params, &adam.lr, &adam.beta1, &adam.beta2,
                         &adam.eps, &adam.weight_decay, &amsgrad, &maximize))
    return NULL;
  adam.amsgrad = amsgrad;
  adam.maximize = maximize;
  SgdOptions options = { .lr = (float) adam.lr, .weight_decay = (float) adam.weight_decay,
                         .kind = OPTIM_ADAM, .adam = adam };
  return optimizer_new (params, &options);
}

/* optimizer_set_lr(opt, lr): param_groups[0]['lr'] as the program set it (a schedule). */
static PyObject *
ext_optimizer_set_lr (PyObject *module, PyObject *args)
{
  PyObject *obj;
  double lr;
  if (!PyArg_ParseTuple (args, "Od:optimizer_set_lr", &obj, &lr))
    return NULL;
  Sgd *sgd = ext_sgd_get (obj);
  if (sgd == NULL)
    {
      PyErr_SetString (PyExc_TypeError, "expected an engine optimizer");
      return NULL;
    }
  sgd->options.lr = (float) lr;
  sgd->options.adam.lr = lr;
  Py_RETURN_NONE;
}

/* adam_state(opt, i): (step, exp_avg, exp_avg_sq, max_exp_avg_sq or None), or None
 * before the parameter's first update. */
static PyObject *
ext_adam_state (PyObject *module, PyObject *args)
{
  PyObject *obj;
  int i;
  if (!PyArg_ParseTuple (args, "Oi:adam_state", &obj, &i))
    return NULL;
  Sgd *sgd = ext_sgd_get (obj);
  if (sgd == NULL || i < 0 || (guint) i >= sgd->params->len)
    {
      PyErr_SetString (PyExc_IndexError, "no such parameter");
      return NULL;
    }
  const SgdParam *sp = &g_array_index (sgd->params, SgdParam, i);
  if (sp->exp_avg == NULL)
    Py_RETURN_NONE;
  PyObject *vmax = sp->max_exp_avg_sq ? ext_tensor_wrap (tensor_ref (sp->max_exp_avg_sq), NULL)
                                      : Py_NewRef (Py_None);
  return Py_BuildValue ("LNNN", (long long) sp->step,
                        ext_tensor_wrap (tensor_ref (sp->exp_avg), NULL),
                        ext_tensor_wrap (tensor_ref (sp->exp_avg_sq), NULL), vmax);
}

/* sgd_step(sgd) / sgd_zero_grad(sgd): the optimizer's phase, then the engine's step
 * (an event per parameter). */
static PyObject *
sgd_call (PyObject *arg, LessonPhase phase, void (*fn) (Sgd *))
{
  Sgd *sgd = ext_sgd_get (arg);
  if (sgd == NULL)
    {
      PyErr_SetString (PyExc_TypeError, "expected an engine optimizer");
      return NULL;
    }
  gboolean ok;
  Py_BEGIN_ALLOW_THREADS
  ok = ext_phase (phase);
  if (ok)
    fn (sgd);
  Py_END_ALLOW_THREADS
  if (!ok)
    {
      PyErr_SetString (ext_stopped_error, "the program was stopped");
      return NULL;
    }
  Py_RETURN_NONE;
}

static PyObject *
ext_sgd_step (PyObject *module, PyObject *arg)
{
  return sgd_call (arg, LESSON_PHASE_OPTIMIZER, sgd_step);
}

static PyObject *
ext_sgd_zero_grad (PyObject *module, PyObject *arg)
{
  return sgd_call (arg, LESSON_PHASE_ZERO_GRAD, sgd_zero_grad);
}

/* sgd_momentum_buffer(sgd, i): the i-th parameter's buffer, or None. */
static PyObject *
ext_sgd_momentum_buffer (PyObject *module, PyObject *args)
{
  PyObject *obj;
  int i;
  if (!PyArg_ParseTuple (args, "Oi:sgd_momentum_buffer", &obj, &i))
    return NULL;
  Sgd *sgd = ext_sgd_get (obj);
  if (sgd == NULL || i < 0 || (guint) i >= sgd->params->len)
    {
      PyErr_SetString (PyExc_IndexError, "no such parameter");
      return NULL;
    }
  Tensor *buf = g_array_index (sgd->params, SgdParam, i).momentum_buffer;
  if (buf == NULL)
    Py_RETURN_NONE;
  return ext_tensor_wrap (tensor_ref (buf), NULL);
}

PyMethodDef ext_module_methods[] = {
  { "new_module", ext_new_module, METH_VARARGS, NULL },
  { "module_info", ext_module_info, METH_O, NULL },
  { "module_forward", ext_module_forward, METH_VARARGS, NULL },
  { "module_set_child", ext_module_set_child, METH_VARARGS, NULL },
  { "new_program_module", ext_new_program_module, METH_O, NULL },
  { "module_set_param", ext_module_set_param, METH_VARARGS, NULL },
  { "module_remove_child", ext_module_remove_child, METH_VARARGS, NULL },
  { "module_enter", ext_module_enter, METH_O, NULL },
  { "module_leave", ext_module_leave, METH_NOARGS, NULL },
  { "module_train", ext_module_train, METH_VARARGS, NULL },
  { "module_batches", ext_module_batches, METH_VARARGS, NULL },
  { "sgd_new", ext_sgd_new, METH_VARARGS, NULL },
  { "sgd_step", ext_sgd_step, METH_O, NULL },
  { "sgd_zero_grad", ext_sgd_zero_grad, METH_O, NULL },
  { "sgd_momentum_buffer", ext_sgd_momentum_buffer, METH_VARARGS, NULL },
  { "adam_new", ext_adam_new, METH_VARARGS, NULL },
  { "adam_state", ext_adam_state, METH_VARARGS, NULL },
  { "optimizer_set_lr", ext_optimizer_set_lr, METH_VARARGS, NULL },
  { NULL },
};

/* ext.h — the `_gradlens` extension module, private to python/.
 *
 * Two types wrap the engine's objects: _gradlens.TensorBase (a Tensor *; torch.Tensor
 * subclasses it in Python) and _gradlens.Node (a grad_fn). Every op is a function of
 * the module that calls the engine's op with the GIL released, since the op may
 * pause inside the stepper's observer: while a program is paused nothing holds the
 * GIL, and another program can run (or be reset) meanwhile.
 */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "lesson.h"

typedef struct
{
  PyObject_HEAD
  Tensor *tensor;                /* strong */
} TensorObject;

typedef struct
{
  PyObject_HEAD
  Node *node;                    /* strong */
} NodeObject;

extern PyTypeObject TensorBaseType;
extern PyTypeObject NodeType;

/* _gradlens.Stopped: raised into a program the stepper stopped (a BaseException,
 * so `except Exception` in the program does not swallow it). */
extern PyObject *ext_stopped_error;

PyObject *ext_module_init            (void);

/* A new torch.Tensor owning t (the reference is taken over); NULL t: Python's
 * exception from error (or RuntimeError) is raised and NULL returned. */
PyObject *ext_tensor_wrap            (Tensor *t, GError *error);
/* Borrowed engine tensor of a TensorBase, or NULL with TypeError set. */
Tensor   *ext_tensor_get             (PyObject *obj, const char *what);
PyObject *ext_node_wrap              (Node *node);          /* None for NULL */
/* _gradlens._set_tensor_class(torch.Tensor): the class ext_tensor_wrap makes. */
PyObject *ext_set_tensor_class       (PyObject *module, PyObject *cls);
PyObject *ext_rewrap                 (PyObject *module, PyObject *args);

/* Python's exception for an engine error: RuntimeError with its message. Steals error. */
PyObject *ext_raise_gerror           (GError *error);

/* The run the calling thread executes (NULL outside a program). */
LessonRun *ext_current_run           (void);
void       ext_set_current_run       (LessonRun *run);
/* Announces a phase of the current run; FALSE: the stepper stopped the program
 * (Stopped is then set). Called without the GIL held. */
gboolean   ext_phase                 (LessonPhase phase);
/* A phase call (backward, optimizer.step, zero_grad) begins and ends: the program's
 * lines run meanwhile (hooks) stay in its phase; after it, the next line's own
 * phase begins with that line (runtime.c's trace). Without the GIL held. */
gboolean   ext_phase_enter           (LessonPhase phase);
void       ext_phase_leave           (void);

/* Fresh torch state for a new run: the default generator's seed, grad mode on. */
void       ext_reset_state           (void);

/* torch's default generator (torch.manual_seed seeds it). */
Generator *ext_default_generator     (void);

/* Engine modules and SGD (ext-module.c): what torch.nn's layers and torch.optim.SGD
 * hold, and what the run shows as its model and optimizer. */
#include "module.h"
#include "sgd.h"
extern PyTypeObject EngineModuleType;
extern PyTypeObject SgdType;
PyObject  *ext_module_wrap           (Module *m);           /* takes the reference */
Module    *ext_module_get            (PyObject *obj);       /* borrowed; NULL: TypeError */
Sgd       *ext_sgd_get               (PyObject *obj);       /* borrowed; NULL if not one */

/* Ops with dims, shapes, lists and targets (ext-shape.c), in ext_ops_methods. */
PyObject *ext_dim_op                 (PyObject *module, PyObject *args);
PyObject *ext_shape_op               (PyObject *module, PyObject *args);
PyObject *ext_join                   (PyObject *module, PyObject *args);
PyObject *ext_clamp                  (PyObject *module, PyObject *args);
PyObject *ext_loss                   (PyObject *module, PyObject *args);
PyObject *ext_extremum               (PyObject *module, PyObject *args);
bool      ext_parse_ints             (PyObject *seq, int max, int *n, int64_t *values);

/* The module's functions: tensors and ops (ext-ops.c), modules and SGD (ext-module.c),
 * hooks and autograd.grad (ext-autograd.c). */
extern PyMethodDef ext_ops_methods[];
extern PyMethodDef ext_module_methods[];
extern PyMethodDef ext_autograd_methods[];
extern PyMethodDef ext_files_methods[];
extern PyMethodDef ext_index_methods[];   /* x[idx], x[key] = v (ext-index.c) */   /* torch.load's reading (ext-files.c) */

/* A failed backward's exception: the one a hook raised (kept by ext-autograd.c), or
 * RuntimeError with the engine's message. Steals error; returns NULL. */
PyObject *ext_raise_autograd_error   (GError *error);
/* Takes away every hook the run registered (the end of a run; GIL held). */
void      ext_hooks_release_run      (LessonRun *run);

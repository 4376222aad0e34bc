/* runtime.c — the embedded interpreter and the run of one program.
 *
 * One isolated CPython per process, started on first use. A run executes the
 * program's text in fresh globals on the calling thread (the stepper's worker):
 * a C trace function sees each line of the program's own frames, makes the
 * program's variables the run's, and announces the line (EVENT_LINE), where the
 * stepper may pause. The GIL is released around every announcement and every
 * engine call, so a paused program holds nothing another thread needs.
 */
#include "program.h"

#include "ext.h"

#include <string.h>
#include <unistd.h>

/* --- The interpreter ----------------------------------------------------------- */

static char *package_dir;

/* The package folder: GRADLENS_PYTHON_DIR if set; the source tree's python/lib when
 * the running program is the build tree's; the installed copy otherwise. */
static char *
find_package_dir (void)
{
  const char *env = g_getenv ("GRADLENS_PYTHON_DIR");
  if (env && *env)
    return g_strdup (env);
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe && g_str_has_prefix (exe, GRADLENS_BUILD_ROOT "/"))
    return g_strdup (GRADLENS_PYTHON_SOURCE_DIR);
  return g_strdup (GRADLENS_PYTHON_INSTALL_DIR);
}

const char *
program_package_dir (void)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      package_dir = find_package_dir ();
      g_once_init_leave (&once, 1);
    }
  return package_dir;
}

static char *init_error;

static gpointer
start_interpreter (gpointer unused)
{
  PyPreConfig preconfig;
  PyPreConfig_InitIsolatedConfig (&preconfig);
  preconfig.utf8_mode = 1;     /* UTF-8 whatever the locale; the locale is the app's */
  PyStatus status = Py_PreInitialize (&preconfig);
  if (PyStatus_Exception (status))
    return g_strdup_printf ("Python could not start: %s", status.err_msg);

  if (PyImport_AppendInittab ("_gradlens", ext_module_init) < 0)
    return g_strdup ("Python could not register the _gradlens module");

  PyConfig config;
  PyConfig_InitIsolatedConfig (&config);
  config.site_import = 0;              /* no site-packages: `import torch` is ours */
  config.user_site_directory = 0;
  config.write_bytecode = 0;           /* never write into the package folder */
  config.install_signal_handlers = 0;  /* SIGINT stays the application's */
  config.parse_argv = 0;
  status = PyConfig_SetBytesString (&config, &config.program_name, "gradlens");
  if (!PyStatus_Exception (status))
    status = Py_InitializeFromConfig (&config);
  PyConfig_Clear (&config);
  if (PyStatus_Exception (status))
    return g_strdup_printf ("Python could not start: %s", status.err_msg ? status.err_msg : "?");

  PyObject *path = PySys_GetObject ("path");   /* borrowed */
  PyObject *dir = PyUnicode_DecodeFSDefault (program_package_dir ());
  if (path == NULL || dir == NULL || PyList_Insert (path, 0, dir) < 0)
    {
      Py_XDECREF (dir);
      PyErr_Clear ();
      return g_strdup ("Python could not set sys.path");
    }
  Py_DECREF (dir);
  /* Import torch once now: its errors are GradLens's, not a program's. */
  PyObject *torch = PyImport_ImportModule ("torch");
  if (torch == NULL)
    {
      PyErr_Print ();
      return g_strdup_printf ("GradLens's torch package could not be imported from %s",
                              program_package_dir ());
    }
  Py_DECREF (torch);
  /* From here on the GIL is taken by whichever thread runs a program. */
  PyEval_SaveThread ();
  return NULL;
}

gboolean
program_runtime_init (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, start_interpreter, NULL);
  init_error = once.retval;
  if (init_error)
    {
      g_set_error_literal (error, LESSON_ERROR, LESSON_ERROR_PROGRAM, init_error);
      return FALSE;
    }
  return TRUE;
}

/* --- The current run ------------------------------------------------------------- */

static GPrivate current_run;

LessonRun *
ext_current_run (void)
{
  return g_private_get (&current_run);
}

void
ext_set_current_run (LessonRun *run)
{
  g_private_set (&current_run, run);
}

gboolean
ext_phase (LessonPhase phase)
{
  LessonRun *run = ext_current_run ();
  if (run == NULL || lesson_run_get_phase (run) == phase)
    return TRUE;
  return lesson_phase_now (run, phase);
}

/* How many phase calls (backward, step, zero_grad) the thread is inside: the lines
 * a hook runs meanwhile are in that call's phase. */
static GPrivate phase_depth;

gboolean
ext_phase_enter (LessonPhase phase)
{
  g_private_set (&phase_depth, GINT_TO_POINTER (GPOINTER_TO_INT (g_private_get (&phase_depth)) + 1));
  return ext_phase (phase);
}

void
ext_phase_leave (void)
{
  g_private_set (&phase_depth, GINT_TO_POINTER (GPOINTER_TO_INT (g_private_get (&phase_depth)) - 1));
}

/* --- Output: sys.stdout and sys.stderr write into the run ------------------------ */

typedef struct
{
  PyObject_HEAD
  LessonRun *run;
} OutputObject;

static PyObject *
output_write (PyObject *self, PyObject *arg)
{
  Py_ssize_t len;
  const char *text = PyUnicode_AsUTF8AndSize (arg, &len);
  if (text == NULL)
    return NULL;
  lesson_run_write (((OutputObject *) self)->run, text);
  return PyLong_FromSsize_t (PyUnicode_GetLength (arg));
}

static PyObject *
output_flush (PyObject *self, PyObject *unused)
{
  Py_RETURN_NONE;
}

static PyMethodDef output_methods[] = {
  { "write", output_write, METH_O, NULL },
  { "flush", output_flush, METH_NOARGS, NULL },
  { NULL },
};

static PyTypeObject OutputType = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "_gradlens.Output",
  .tp_basicsize = sizeof (OutputObject),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_methods = output_methods,
};

/* --- Variables: the program's names become the run's --------------------------- */

static bool
is_program_name (PyObject *key)
{
  const char *name = PyUnicode_Check (key) ? PyUnicode_AsUTF8 (key) : NULL;
  return name && name[0] != '_';
}

/* An engine object behind a torch.nn module (its `_engine`) or an optimizer (its
 * `_engine_sgd`), borrowed; NULL for anything else. */
static gpointer
engine_object_of (PyObject *value, LessonVarKind *kind)
{
  /* Not functions: a module (nn.Module) is callable too, and is what is wanted. */
  if (PyObject_TypeCheck (value, &TensorBaseType) || PyType_Check (value)
      || PyModule_Check (value) || PyFunction_Check (value) || PyCFunction_Check (value)
      || PyMethod_Check (value))
    return NULL;
  static const struct { const char *attr; LessonVarKind kind; } attrs[] = {
    { "_engine", LESSON_VAR_MODULE }, { "_engine_sgd", LESSON_VAR_OPTIMIZER },
  };
  /* Only the instance's own dict: a program's __getattr__ never runs from here. */
  PyObject *dict = PyObject_GetAttrString (value, "__dict__");
  if (dict == NULL || !PyDict_Check (dict))
    {
      PyErr_Clear ();
      Py_XDECREF (dict);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (attrs); i++)
    {
      PyObject *obj = Py_XNewRef (PyDict_GetItemString (dict, attrs[i].attr));
      if (obj == NULL)
        continue;
      gpointer p = NULL;
      if (attrs[i].kind == LESSON_VAR_MODULE && PyObject_TypeCheck (obj, &EngineModuleType))
        p = ext_module_get (obj);
      else if (attrs[i].kind == LESSON_VAR_OPTIMIZER)
        p = ext_sgd_get (obj);
      Py_DECREF (obj);
      if (p)
        {
          *kind = attrs[i].kind;
          Py_DECREF (dict);
          return p;
        }
    }
  Py_DECREF (dict);
  return NULL;
}

/* Binds every tensor, model and optimizer among names (a dict) in the run, unless
 * it is bound already. */
static void
sync_names (LessonRun *run, PyObject *names, GHashTable *seen)
{
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next (names, &pos, &key, &value))
    {
      if (!is_program_name (key))
        continue;
      const char *name = PyUnicode_AsUTF8 (key);
      LessonVarKind kind = LESSON_VAR_TENSOR;
      gpointer object = PyObject_TypeCheck (value, &TensorBaseType)
                          ? ((TensorObject *) value)->tensor
                          : engine_object_of (value, &kind);
      if (object == NULL)
        continue;
      g_hash_table_add (seen, (gpointer) name);
      const LessonVar *var = lesson_run_lookup (run, name);
      if (var && var->value == object)
        continue;
      if (kind == LESSON_VAR_TENSOR)
        lesson_run_keep (run, name, tensor_ref (object));
      else if (kind == LESSON_VAR_MODULE)
        lesson_run_keep_object (run, name, kind, module_ref (object),
                                (GDestroyNotify) module_unref);
      else
        lesson_run_keep_object (run, name, kind, sgd_ref (object), (GDestroyNotify) sgd_free);
    }
}

/* The run's variables follow the program's globals and the running frame's locals
 * (which shadow them, as Python resolves names). */
static void
sync_variables (LessonRun *run, PyObject *globals, PyFrameObject *frame)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  sync_names (run, globals, seen);
  PyObject *locals = frame ? PyFrame_GetLocals (frame) : NULL;
  if (locals && locals != globals && PyDict_Check (locals))
    sync_names (run, locals, seen);
  Py_XDECREF (locals);
  PyErr_Clear ();

  GPtrArray *vars = lesson_run_get_variables (run);
  for (guint i = vars->len; i > 0; i--)
    {
      const LessonVar *var = g_ptr_array_index (vars, i - 1);
      if (!g_hash_table_contains (seen, var->name))
        lesson_run_forget (run, var->name);
    }
}

/* --- Tracing the program's lines --------------------------------------------------- */

typedef struct
{
  LessonRun *run;
  PyObject *filename;   /* the program's code objects share this object */
  PyObject *globals;
  GHashTable *phase_lines;   /* line → LessonPhase + 1, for the lines that begin one */
} Trace;

/* The lines that begin a phase other than the forward pass (torch._phases reads
 * them off the program's syntax tree): a pause before `loss.backward()` shows the
 * backward phase, as the statement it is about to run. */
static GHashTable *
phase_lines_of (const char *source)
{
  GHashTable *lines = g_hash_table_new (NULL, NULL);
  PyObject *phases = PyImport_ImportModule ("torch._phases");
  PyObject *dict = phases ? PyObject_CallMethod (phases, "phase_lines", "s", source) : NULL;
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (dict && PyDict_Check (dict) && PyDict_Next (dict, &pos, &key, &value))
    {
      const char *name = PyUnicode_AsUTF8 (value);
      for (int p = 0; name && p < LESSON_PHASE_COUNT; p++)
        if (g_str_equal (name, lesson_phase_name (p)))
          g_hash_table_insert (lines, GINT_TO_POINTER ((int) PyLong_AsLong (key)),
                               GINT_TO_POINTER (p + 1));
    }
  Py_XDECREF (dict);
  Py_XDECREF (phases);
  PyErr_Clear ();
  return lines;
}

static int
trace_line (PyObject *capsule, PyFrameObject *frame, int what, PyObject *arg)
{
  /* Reset stops a program at its next line; code that runs without one of the
   * program's lines (torch's own Python, a string given to exec) stops at its
   * next line or call. */
  if (G_UNLIKELY (autograd_cancel_requested ()))
    {
      PyErr_SetString (ext_stopped_error, "the program was stopped");
      return -1;
    }
  if (what != PyTrace_LINE)
    return 0;
  Trace *trace = PyCapsule_GetPointer (capsule, NULL);
  PyCodeObject *code = PyFrame_GetCode (frame);
  bool mine = code->co_filename == trace->filename
              || PyUnicode_Compare (code->co_filename, trace->filename) == 0;
  Py_DECREF (code);
  if (!mine)
    return 0;
  sync_variables (trace->run, trace->globals, frame);
  int line = PyFrame_GetLineNumber (frame);
  /* Outside a phase call, the statement's own phase begins with its line. */
  if (GPOINTER_TO_INT (g_private_get (&phase_depth)) == 0)
    {
      gpointer p = g_hash_table_lookup (trace->phase_lines, GINT_TO_POINTER (line));
      LessonPhase phase = p ? (LessonPhase) (GPOINTER_TO_INT (p) - 1) : LESSON_PHASE_FORWARD;
      if (phase != lesson_run_get_phase (trace->run))
        lesson_phase (trace->run, phase);
    }
  gboolean go_on;
  Py_BEGIN_ALLOW_THREADS
  go_on = lesson_line (trace->run, line);
  Py_END_ALLOW_THREADS
  if (!go_on)
    {
      PyErr_SetString (ext_stopped_error, "the program was stopped");
      return -1;
    }
  return 0;
}

/* --- A run ------------------------------------------------------------------------- */

/* Python's traceback of the exception being handled, as Python prints it, less the
 * frames inside GradLens's torch package (torch._traceback). */
static char *
format_exception (void)
{
  PyObject *type, *value, *tb;
  PyErr_Fetch (&type, &value, &tb);
  PyErr_NormalizeException (&type, &value, &tb);
  if (tb && value)
    PyException_SetTraceback (value, tb);
  char *text = NULL;
  PyObject *helper = PyImport_ImportModule ("torch._traceback");
  PyObject *joined = helper && value ? PyObject_CallMethod (helper, "format_exception", "O", value)
                                     : NULL;
  if (joined && PyUnicode_Check (joined))
    text = g_strdup (PyUnicode_AsUTF8 (joined));
  else
    text = g_strdup ("the program raised an exception that could not be printed\n");
  Py_XDECREF (joined);
  Py_XDECREF (helper);
  Py_XDECREF (type);
  Py_XDECREF (value);
  Py_XDECREF (tb);
  PyErr_Clear ();
  return text;
}

/* A traceback shows each frame's line of code (and 3.11's carets under the
 * failing expression) from linecache, which reads files: a program edited in
 * the window, or given as text, has none, or one that says something else.
 * Its entry is the program's own text (mtime None: checkcache keeps it). */
static void
prime_linecache (const char *filename, const char *source)
{
  PyObject *linecache = PyImport_ImportModule ("linecache");
  PyObject *cache = linecache ? PyObject_GetAttrString (linecache, "cache") : NULL;
  PyObject *text = PyUnicode_FromString (source);
  PyObject *lines = text ? PyObject_CallMethod (text, "splitlines", "O", Py_True) : NULL;
  PyObject *entry = lines ? Py_BuildValue ("(nOOs)", (Py_ssize_t) strlen (source), Py_None,
                                           lines, filename)
                          : NULL;

  if (cache && entry && PyDict_Check (cache))
    PyDict_SetItemString (cache, filename, entry);
  Py_XDECREF (entry);
  Py_XDECREF (lines);
  Py_XDECREF (text);
  Py_XDECREF (cache);
  Py_XDECREF (linecache);
  PyErr_Clear ();
}

/* Compiles source; NULL and the SyntaxError, as Python prints it, in error. */
static PyObject *
compile_program (const char *filename, const char *source, GError **error)
{
  prime_linecache (filename, source);
  PyObject *code = Py_CompileStringExFlags (source, filename, Py_file_input, NULL, -1);
  if (code == NULL)
    {
      g_autofree char *text = format_exception ();
      g_set_error_literal (error, LESSON_ERROR, LESSON_ERROR_PROGRAM, text);
    }
  return code;
}

gboolean
program_check_syntax (const char *filename, const char *source, GError **error)
{
  g_return_val_if_fail (filename != NULL && source != NULL, FALSE);

  if (!program_runtime_init (error))
    return FALSE;
  PyGILState_STATE gil = PyGILState_Ensure ();
  PyObject *code = compile_program (filename, source, error);
  gboolean ok = code != NULL;
  Py_XDECREF (code);
  PyGILState_Release (gil);
  return ok;
}

static gboolean
run_locked (LessonRun *run, GError **error)
{
  const Lesson *lesson = lesson_run_get_lesson (run);
  PyObject *code = compile_program (lesson->filename, lesson_run_get_source (run), error);
  if (code == NULL)
    return FALSE;

  ext_reset_state ();
  PyObject *globals = PyDict_New ();
  PyDict_SetItemString (globals, "__name__", PyUnicode_FromString ("__main__"));
  PyDict_SetItemString (globals, "__builtins__", PyEval_GetBuiltins ());
  PyObject *file = PyUnicode_FromString (lesson->filename);
  PyDict_SetItemString (globals, "__file__", file);
  Py_DECREF (file);

  OutputObject *out = PyObject_New (OutputObject, &OutputType);
  out->run = run;
  PyObject *old_stdout = Py_XNewRef (PySys_GetObject ("stdout"));
  PyObject *old_stderr = Py_XNewRef (PySys_GetObject ("stderr"));
  PySys_SetObject ("stdout", (PyObject *) out);
  PySys_SetObject ("stderr", (PyObject *) out);

  Trace trace = {
    .run = run,
    .filename = ((PyCodeObject *) code)->co_filename,
    .globals = globals,
    .phase_lines = phase_lines_of (lesson_run_get_source (run)),
  };
  PyObject *capsule = PyCapsule_New (&trace, NULL, NULL);
  /* The program opens with the forward pass, said with its first line. */
  lesson_phase (run, LESSON_PHASE_FORWARD);
  ext_set_current_run (run);
  PyEval_SetTrace (trace_line, capsule);
  PyObject *result = PyEval_EvalCode (code, globals, globals);
  PyEval_SetTrace (NULL, NULL);

  gboolean ok = result != NULL;
  if (!ok)
    {
      if (PyErr_ExceptionMatches (ext_stopped_error))
        {
          PyErr_Clear ();
          lesson_cancelled (error);
        }
      else
        {
          g_autofree char *text = format_exception ();
          g_set_error_literal (error, LESSON_ERROR, LESSON_ERROR_PROGRAM, text);
        }
    }
  else
    sync_variables (run, globals, NULL);
  ext_set_current_run (NULL);
  Py_XDECREF (result);

  PySys_SetObject ("stdout", old_stdout);
  PySys_SetObject ("stderr", old_stderr);
  Py_XDECREF (old_stdout);
  Py_XDECREF (old_stderr);
  Py_DECREF (out);
  Py_DECREF (capsule);
  g_hash_table_unref (trace.phase_lines);
  /* The program's objects go with its globals; the run keeps its own references
   * to the tensors it shows. */
  PyDict_Clear (globals);
  ext_hooks_release_run (run);
  Py_DECREF (globals);
  Py_DECREF (code);
  PyGC_Collect ();
  return ok;
}

gboolean
program_run (LessonRun *run, GError **error)
{
  if (!program_runtime_init (error))
    return FALSE;
  PyGILState_STATE gil = PyGILState_Ensure ();
  gboolean ok = run_locked (run, error);
  PyGILState_Release (gil);
  return ok;
}

/* --- Lessons from programs ------------------------------------------------------- */

/* A header comment's value: "# key: value" among the first comment lines. */
static char *
header_value (const char *source, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (source, "\n", 16);
  g_autofree char *prefix = g_strdup_printf ("# %s:", key);
  for (int i = 0; lines[i] && lines[i][0] == '#'; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strstrip (g_strdup (lines[i] + strlen (prefix)));
  return NULL;
}

Lesson *
program_lesson_new (const char *filename, const char *source)
{
  g_autofree char *base = g_path_get_basename (filename);
  char *dot = strrchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  g_autofree char *title = header_value (source, "title");
  g_autofree char *summary = header_value (source, "summary");
  g_autofree char *graph = header_value (source, "graph");
  return lesson_new_program (base, title ? title : base, summary, source, filename, graph,
                             program_run);
}

Lesson *
program_lesson_new_from_file (const char *path, GError **error)
{
  g_autofree char *source = NULL;
  gsize len;
  if (!g_file_get_contents (path, &source, &len, error))
    return NULL;
  if (!g_utf8_validate_len (source, len, NULL))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s is not a Python program: it is not UTF-8 text", path);
      return NULL;
    }
  return program_lesson_new (path, source);
}

/* --- The module ---------------------------------------------------------------- */

PyObject *ext_stopped_error;

static struct PyModuleDef gradlens_module = {
  PyModuleDef_HEAD_INIT,
  .m_name = "_gradlens",
  .m_doc = "GradLens's engine, for its torch package.",
  .m_size = -1,
};

PyObject *
ext_module_init (void)
{
  gradlens_module.m_methods = ext_ops_methods;
  if (PyType_Ready (&TensorBaseType) < 0 || PyType_Ready (&NodeType) < 0
      || PyType_Ready (&OutputType) < 0 || PyType_Ready (&EngineModuleType) < 0
      || PyType_Ready (&SgdType) < 0)
    return NULL;
  PyObject *m = PyModule_Create (&gradlens_module);
  if (m == NULL)
    return NULL;
  if (PyModule_AddFunctions (m, ext_module_methods) < 0
      || PyModule_AddFunctions (m, ext_autograd_methods) < 0
      || PyModule_AddFunctions (m, ext_files_methods) < 0
      || PyModule_AddFunctions (m, ext_index_methods) < 0)
    {
      Py_DECREF (m);
      return NULL;
    }
  ext_stopped_error = PyErr_NewExceptionWithDoc ("_gradlens.Stopped",
                                                 "The stepper stopped the program.",
                                                 PyExc_BaseException, NULL);
  if (PyModule_AddObjectRef (m, "TensorBase", (PyObject *) &TensorBaseType) < 0
      || PyModule_AddObjectRef (m, "Node", (PyObject *) &NodeType) < 0
      || PyModule_AddObjectRef (m, "Stopped", ext_stopped_error) < 0)
    {
      Py_DECREF (m);
      return NULL;
    }
  ext_reset_state ();
  return m;
}

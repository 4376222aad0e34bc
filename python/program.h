/* program.h — real Python programs on the engine: an embedded, isolated CPython 3.11
 * whose `import torch` is GradLens's own package (python/lib/torch) over the engine.
 *
 * A program is a Lesson whose run function executes its text: Python's tracing of
 * the program's own frames announces its lines (EVENT_LINE), the engine announces
 * everything else (ops, modules, backward nodes, the optimizer), so the stepper
 * pauses a program exactly as it pauses a built-in lesson. What the program prints
 * is the run's output; its tensors, models and optimizers are the run's variables,
 * under their Python names, whenever it pauses.
 *
 *   g_autoptr (GError) error = NULL;
 *   Lesson *lesson = program_lesson_new_from_file ("mlp.py", &error);
 *   LessonRun *run = lesson_run_new (lesson, NULL);
 *   if (!lesson_run_execute (run, &error))     // LESSON_ERROR_PROGRAM: the traceback
 *     g_printerr ("%s", error->message);
 *   g_print ("%s", lesson_run_get_output (run));
 *   lesson_run_free (run);
 *   lesson_free (lesson);
 *
 * The interpreter starts once per process, on first use (program_runtime_init), in
 * isolated mode: no environment variables, no user site-packages, sys.path = the
 * torch package's folder + the standard library, so `import torch` never finds a
 * PyTorch installed on the machine. Every run gets fresh globals and a fresh torch
 * state (the default generator's seed, grad mode on), as a new process would.
 */
#pragma once

#include "lesson.h"

G_BEGIN_DECLS

/* Starts the interpreter if it is not running. Thread-safe; cheap once started. */
gboolean  program_runtime_init        (GError **error);
/* The folder whose torch/ and torchvision/ packages `import` finds. */
const char *program_package_dir       (void);

/* A lesson that runs source as a Python program named filename (for tracebacks).
 * Its name is the file's base name; its first comment lines may give the rest:
 *   # title: Autograd basics
 *   # summary: Q = 3a³ − b²: ...
 *   # graph: Q              (the variable whose grad_fn is the lesson's graph)
 * Free with lesson_free. */
Lesson   *program_lesson_new          (const char *filename, const char *source);
/* Reads path (UTF-8 Python source) into a program lesson. */
Lesson   *program_lesson_new_from_file(const char *path, GError **error);

/* Compiles source without running it: FALSE and LESSON_ERROR_PROGRAM with the
 * SyntaxError as Python prints it (file, line, the code, a caret under the
 * column) when it does not compile; for an editor, before anything runs. */
gboolean  program_check_syntax        (const char *filename, const char *source,
                                       GError **error);

/* The lesson's run function (LessonFn): runs the program on the calling thread. */
gboolean  program_run                 (LessonRun *run, GError **error);

G_END_DECLS

/* lessons.h — the six built-in lessons and the examples: PyTorch programs that
 * GradLens ships.
 *
 * Each lesson is a plain Python file (resources/lessons/NAME.py, bundled into this
 * library), run like any program the user opens: real PyTorch 1.13 runs the same
 * file and prints the same text (tests/programs/lessons/). What a lesson needs
 * beyond its program — its title and summary, translated, and the variable whose
 * graph it draws — is the table in lessons.c. The settings and options (seed,
 * size, lr, …) are written into the program's text (lesson_source), so the text
 * shown is the text that runs.
 *
 * The examples (resources/examples/NAME.py) are short programs of the kind students
 * write: they run as written, as a file the user opens would, with no parameters
 * (tests/programs/examples/ holds what PyTorch prints).
 *
 *   const Lesson *lesson = lesson_find ("autograd", &error);
 *   LessonRun *run = lesson_run_new (lesson, NULL);
 *   lesson_run_execute (run, &error);
 */
#pragma once

#include "lesson.h"

G_BEGIN_DECLS

/* The six lessons, in teaching order (loaded on first use). */
const Lesson *const *lesson_list  (guint *n_lessons);
const Lesson       *lesson_find   (const char *name, GError **error);

/* The examples, in the menu's order (loaded on first use). */
const Lesson *const *example_list (guint *n_examples);
/* A copy of the example NAME, the caller's to free (lesson_free), as a program
 * read from a file is; NULL and LESSON_ERROR_UNKNOWN if there is none. */
Lesson             *example_new   (const char *name, GError **error);

G_END_DECLS

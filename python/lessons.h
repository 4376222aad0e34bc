/* lessons.h — the six built-in lessons: PyTorch programs that GradLens ships.
 *
 * Each lesson is a plain Python file (resources/lessons/NAME.py, bundled into this
 * library), run like any program the user opens: real PyTorch 1.13 runs the same
 * file and prints the same text (tests/programs/lessons/). What a lesson needs
 * beyond its program — its title and summary, translated, and the variable whose
 * graph it draws — is the table in lessons.c. The settings and options (seed,
 * size, lr, …) are written into the program's text (lesson_source), so the text
 * shown is the text that runs.
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

G_END_DECLS

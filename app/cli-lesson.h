/* cli-lesson.h: lesson parameters as command-line options, shared by
 * `gradlens-cli lesson` and `gradlens-cli graph`.
 *
 *   CliLessonOptions opts;
 *   context = cli_lesson_option_context_new ("graph", summary, entries, &opts);
 *   ... g_option_context_parse ...
 *   if (!cli_lesson_options_finish (&opts, &params, error)) ...
 *   cli_lesson_options_clear (&opts);
 */
#pragma once

#include "lesson.h"

G_BEGIN_DECLS

typedef struct
{
  int size;
  gint64 seed;
  double lr;
  double momentum;
  int steps;
  gboolean zero_grad;
  char **freeze;        /* --freeze, repeatable */
  gboolean freeze_given;
  char *weights;
} CliLessonOptions;

/* `gradlens-cli COMMAND NAME`'s options: opts initialised to the defaults, and the
 * lesson options (--size --seed --lr --momentum --steps --zero-grad
 * --no-zero-grad --freeze --weights, writing into opts) with the command's own
 * entries in the main group, so that --help lists them together. */
GOptionContext *cli_lesson_option_context_new (const char         *command,
                                               const char         *summary,
                                               const GOptionEntry *entries,
                                               CliLessonOptions   *opts);
void          cli_lesson_options_clear  (CliLessonOptions *opts);
/* Checks the values and fills params (lesson_params_clear it afterwards). */
gboolean      cli_lesson_options_finish (CliLessonOptions *opts, LessonParams *params,
                                         GError **error);
/* The lesson named by argv[1] after parsing: exactly one NAME, or a program file
 * (PROGRAM.py: cli_program_load). */
const Lesson *cli_lesson_from_args      (int argc, char **argv, GError **error);
/* A Python program as a lesson, kept until the process exits. */
const Lesson *cli_program_load          (const char *path, GError **error);

G_END_DECLS

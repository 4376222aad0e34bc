/* cli-lesson.h: lesson parameters as command-line options, shared by
 * `gradlens-cli lesson` and `gradlens-cli graph`.
 *
 *   CliLessonOptions opts;
 *   cli_lesson_options_init (&opts);
 *   g_option_context_add_group (context, cli_lesson_options_group (&opts));
 *   ... parse ...
 *   if (!cli_lesson_options_finish (&opts, &params, error)) ...
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

void          cli_lesson_options_init   (CliLessonOptions *opts);
void          cli_lesson_options_clear  (CliLessonOptions *opts);
/* The options --size --seed --lr --momentum --steps --zero-grad[=yes|no]
 * --no-zero-grad --freeze --weights, writing into opts. */
GOptionGroup *cli_lesson_options_group  (CliLessonOptions *opts);
/* Checks the values and fills params (lesson_params_clear it afterwards). */
gboolean      cli_lesson_options_finish (CliLessonOptions *opts, LessonParams *params,
                                         GError **error);
/* The lesson named by argv[1] after parsing: exactly one NAME. */
const Lesson *cli_lesson_from_args      (int argc, char **argv, GError **error);

G_END_DECLS

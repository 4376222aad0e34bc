/* cli-lesson.c: `gradlens-cli lesson NAME`, a lesson run straight through
 *
 *   gradlens-cli lesson --list
 *   gradlens-cli lesson autograd                 prints what PyTorch prints
 *   gradlens-cli lesson resnet18-step --steps 3 --no-zero-grad --trace run.jsonl
 *   gradlens-cli lesson freeze --freeze layer1 --freeze fc --source
 *
 * It runs the lesson through the stepper without pauses: the code path the
 * window steps through, so what the tests check is what the student sees.
 */

#include <glib/gi18n.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli-lesson.h"
#include "lessons.h"
#include "module.h"
#include "output-file.h"
#include "program.h"
#include "stepper.h"

/* --- Options shared with `graph` ------------------------------------------------ */

static void
cli_lesson_options_init (CliLessonOptions *opts)
{
  LessonParams defaults;

  lesson_params_init (&defaults);
  *opts = (CliLessonOptions){
    .size = defaults.size,
    .seed = (gint64) defaults.seed,
    .lr = defaults.lr,
    .momentum = defaults.momentum,
    .steps = defaults.steps,
    .zero_grad = defaults.zero_grad,
  };
}

void
cli_lesson_options_clear (CliLessonOptions *opts)
{
  g_clear_pointer (&opts->freeze, g_strfreev);
  g_clear_pointer (&opts->weights, g_free);
}

static gboolean
parse_zero_grad (const char *option_name,
                 const char *value,
                 gpointer    data,
                 GError    **error)
{
  CliLessonOptions *opts = data;

  return cli_parse_zero_grad (option_name, value, &opts->zero_grad, error);
}

static gboolean
parse_freeze (const char *option_name,
              const char *value,
              gpointer    data,
              GError    **error)
{
  CliLessonOptions *opts = data;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  /* --freeze= (empty) freezes nothing, overriding the freeze lesson's default. */
  opts->freeze_given = TRUE;
  if (opts->freeze)
    g_strv_builder_addv (builder, (const char **) opts->freeze);
  if (value && *value)
    g_strv_builder_add (builder, value);
  g_strfreev (opts->freeze);
  opts->freeze = g_strv_builder_end (builder);
  return TRUE;
}

static GOptionGroup *
cli_lesson_options_group (CliLessonOptions *opts)
{
  const GOptionEntry entries[] = {
    { "size", 0, 0, G_OPTION_ARG_INT, &opts->size,
      N_("Input height and width of resnet lessons: 64 or 224 (64)"), "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &opts->seed, "torch.manual_seed (0)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &opts->lr, N_("SGD learning rate (0.01)"), "X" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &opts->momentum, N_("SGD momentum (0.9)"), "X" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &opts->steps, N_("Training steps (1)"), "N" },
    CLI_ZERO_GRAD_ENTRIES (parse_zero_grad),
    { "freeze", 0, 0, G_OPTION_ARG_CALLBACK, parse_freeze,
      N_("Freeze a module or parameter (freeze lesson; repeatable; --freeze= for none)"), "NAME" },
    { "weights", 0, 0, G_OPTION_ARG_FILENAME, &opts->weights,
      N_("Load resnet18 weights from a .safetensors or PyTorch .pth file"), "FILE" },
    { NULL }
  };
  GOptionGroup *group;

  /* not translated: the group's name, --help-lesson */
  group = g_option_group_new ("lesson", _("Lesson parameters:"), _("Show the lesson parameters"),
                              opts, NULL);
  /* The entries' descriptions are N_(): --help translates them. */
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_option_group_add_entries (group, entries);
  return group;
}

GOptionContext *
cli_lesson_option_context_new (const char         *command,
                               const char         *summary,
                               const GOptionEntry *entries,
                               CliLessonOptions   *opts)
{
  GOptionContext *context;
  GOptionGroup *group;

  cli_lesson_options_init (opts);
  context = cli_option_context_new (command, "NAME", summary);
  group = cli_lesson_options_group (opts);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  return context;
}

gboolean
cli_lesson_options_finish (CliLessonOptions *opts,
                           LessonParams     *params,
                           GError          **error)
{
  if (opts->size != 64 && opts->size != 224)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--size %d: the lessons take 64 or 224"), opts->size);
      return FALSE;
    }
  if (opts->seed < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--seed %lld: give a non-negative seed"), (long long) opts->seed);
      return FALSE;
    }
  if (opts->steps < 1 || opts->steps > 10000)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--steps %d: give between 1 and 10000"), opts->steps);
      return FALSE;
    }
  if (!(opts->lr >= 0 && opts->lr < 1e6) || !(opts->momentum >= 0 && opts->momentum < 1e6))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--lr and --momentum take non-negative numbers"));
      return FALSE;
    }
  if (opts->weights && !g_file_test (opts->weights, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("--weights %s: no such file"), opts->weights);
      return FALSE;
    }

  lesson_params_init (params);
  params->size = opts->size;
  params->seed = (guint64) opts->seed;
  params->lr = (float) opts->lr;
  params->momentum = (float) opts->momentum;
  params->steps = opts->steps;
  params->zero_grad = opts->zero_grad;
  if (opts->freeze_given)
    {
      params->frozen = opts->freeze ? g_strdupv (opts->freeze) : g_new0 (char *, 1);
      /* resnet18 of width 1: torchvision's names, none of its weight. */
      g_autoptr (Module) names = resnet18_new_with_width (10, 1, 0);
      cli_freeze (names, params->frozen);
    }
  params->weights = g_strdup (opts->weights);
  return TRUE;
}

const Lesson *
cli_lesson_from_args (int      argc,
                      char   **argv,
                      GError **error)
{
  if (argc < 2)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("which lesson? Give its NAME (see --list)"));
      return NULL;
    }
  if (argc > 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unexpected argument “%s”"), argv[2]);
      return NULL;
    }
  if (g_str_has_suffix (argv[1], ".py") || g_file_test (argv[1], G_FILE_TEST_IS_REGULAR))
    return cli_program_load (argv[1], error);
  return lesson_find (argv[1], error);
}

void
cli_freeze (Module  *model,
            char   **patterns)
{
  for (int i = 0; patterns && patterns[i]; i++)
    if (module_set_requires_grad_prefix (model, patterns[i], false) == 0)
      g_printerr (_("%s: warning: --freeze “%s” freezes nothing: no parameter is called "
                  "“%s” or starts with “%s.” (the program's rule: name == f or "
                  "name.startswith(f + \".\")); try conv1, layer1, layer2.0.bn1, fc.weight\n"),
                  g_get_prgname (), patterns[i], patterns[i], patterns[i]);
}

/* A program file given for NAME: loaded once, kept until the process exits. */
static Lesson *program_lesson;

static void
program_lesson_free (void)
{
  g_clear_pointer (&program_lesson, lesson_free);
}

const Lesson *
cli_program_load (const char *path,
                  GError    **error)
{
  g_clear_pointer (&program_lesson, lesson_free);
  program_lesson = program_lesson_new_from_file (path, error);
  if (program_lesson)
    atexit (program_lesson_free);
  return program_lesson;
}

/* --- lesson ------------------------------------------------------------------- */

typedef struct
{
  OutputFile *out;      /* written atomically: a failed run leaves the old trace */
  FILE *file;           /* --trace, or NULL */
  gboolean narrate;     /* the phases' sentences on stderr */
} Trace;

/* On the lesson's thread: the narration (each phase's sentence, in the user's
 * language, as a Python comment on stderr, so stdout stays exactly what the
 * PyTorch program prints) and one JSON object per event for --trace. */
static void
trace_event (const Event *event,
             LessonRun   *run,
             guint64      index,
             gpointer     data)
{
  Trace *trace = data;
  g_autofree char *json = NULL;

  if (trace->narrate && event->kind == EVENT_PHASE)
    {
      g_autofree char *sentence = stepper_describe_event (event, run);

      fflush (stdout);
      g_printerr ("# %s\n", sentence);
    }
  if (trace->file == NULL || ferror (trace->file))
    return;                               /* reported by output_file_commit */
  json = stepper_event_to_json (event, run, index);
  fputs (json, trace->file);
  fputc ('\n', trace->file);
}

static void
print_output (const char *text,
              gpointer    data)
{
  g_print ("%s", text);
}

static void
list_lessons (void)
{
  guint n;
  const Lesson *const *lessons = lesson_list (&n);
  int width = 0;

  for (guint i = 0; i < n; i++)
    width = MAX (width, (int) strlen (lessons[i]->name));
  for (guint i = 0; i < n; i++)
    g_print ("%-*s  %s\n", width, lessons[i]->name, _(lessons[i]->summary));
}

gboolean
cli_lesson (int      argc,
            char   **argv,
            GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  CliLessonOptions opts;
  LessonParams params;
  gboolean list = FALSE, source = FALSE, quiet = FALSE, ok;
  g_autofree char *trace_path = NULL;
  const Lesson *lesson;
  Trace trace = { NULL };
  Stepper *stepper;
  const GOptionEntry entries[] = {
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, N_("List the lessons, one line each"), NULL },
    { "source", 0, 0, G_OPTION_ARG_NONE, &source,
      N_("Print the lesson's PyTorch program (with the parameters) instead of running it"), NULL },
    { "trace", 't', 0, G_OPTION_ARG_FILENAME, &trace_path,
      N_("Write every event as one JSON object per line to FILE"), "FILE.jsonl" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
      N_("Do not narrate the lesson's phases on stderr: print only what the program prints"),
      NULL },
    { NULL }
  };

  context = cli_lesson_option_context_new (argv[0],
                                           _("Run a lesson without pauses and print what its "
                                             "PyTorch program prints, narrating its phases on "
                                             "stderr."), entries, &opts);
  if (!g_option_context_parse (context, &argc, &argv, error))
    {
      cli_lesson_options_clear (&opts);
      return FALSE;
    }

  if (list)
    {
      cli_lesson_options_clear (&opts);
      list_lessons ();
      return TRUE;
    }

  lesson = cli_lesson_from_args (argc, argv, error);
  ok = lesson != NULL && cli_lesson_options_finish (&opts, &params, error);
  cli_lesson_options_clear (&opts);
  if (!ok)
    return FALSE;

  if (source)
    {
      g_autofree char *text = lesson_source (lesson, &params);

      g_print ("%s", text);
      lesson_params_clear (&params);
      return TRUE;
    }

  if (trace_path)
    {
      /* not translated: output-file.c's name for its whole translated sentence */
      trace.out = output_file_open (trace_path, "write the trace to", error);
      if (trace.out == NULL)
        {
          lesson_params_clear (&params);
          return FALSE;
        }
      trace.file = output_file_stream (trace.out);
    }

  trace.narrate = !quiet;
  if (trace.narrate)
    g_printerr ("# %s: %s\n", _(lesson->title), _(lesson->summary));
  stepper = stepper_new (lesson, &params, 0, NULL, NULL, NULL);
  lesson_params_clear (&params);
  lesson_run_set_output_func (stepper_get_run (stepper), print_output, NULL);
  if (trace.file || trace.narrate)
    stepper_set_event_hook (stepper, trace_event, &trace);

  stepper_run_to_end_sync (stepper);
  ok = stepper_get_result (stepper, error);
  stepper_free (stepper);
  if (!ok && g_error_matches (*error, LESSON_ERROR, LESSON_ERROR_PROGRAM))
    {
      /* Python's traceback, as Python prints it, then the dispatcher's one line. */
      fflush (stdout);
      fputs ((*error)->message, stderr);
      g_clear_error (error);
      g_set_error (error, LESSON_ERROR, LESSON_ERROR_PROGRAM,
                   _("%s stopped with an exception (the traceback is above)"),
                   lesson->filename);
    }

  if (trace.out && ok)
    return output_file_commit (trace.out, error);
  output_file_abort (trace.out);
  return ok;
}

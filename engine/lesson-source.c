/* lesson-source.c — a lesson's program text with the user's parameters written in.
 *
 * The built-in lessons are plain PyTorch programs (resources/lessons/NAME.py) with the
 * tutorial's values as literals: `torch.manual_seed(0)`, `torch.rand(1, 3, 64, 64)`,
 * `lr=0.01`. The window's settings and the command line's options change those
 * literals in the text, so the program the student reads is always the one that
 * runs, and real PyTorch runs it too. Every rewrite keeps the line structure (a
 * statement becomes another statement on the same line): the stepper's lines, the
 * breakpoints and the fixtures' line numbers stay put.
 *
 * A program the user opened runs as written: its text is theirs to change.
 */
#include "lesson.h"

#include <string.h>

/* A float as Python would write it: 0.01, 0.9, 1e-05. */
static char *
python_float (float v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%g", v);
  if (!strpbrk (buf, ".eni"))
    return g_strconcat (buf, ".0", NULL);
  return g_strdup (buf);
}

/* ("conv1", "bn1") — and ("conv1",) for one, () for none. */
static char *
python_str_tuple (char *const *names)
{
  GString *s = g_string_new ("(");
  guint n = names ? g_strv_length ((char **) names) : 0;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *escaped = g_strescape (names[i], NULL);
      g_string_append_printf (s, "%s\"%s\"", i ? ", " : "", escaped);
    }
  if (n == 1)
    g_string_append_c (s, ',');
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* The parameters, each the first capture group of its pattern (multi-line mode:
 * ^ and $ are a line's ends). */
static const char *const param_patterns[LESSON_PARAM_COUNT] = {
  [LESSON_PARAM_SEED] = "torch\\.manual_seed\\((\\d+)\\)",
  [LESSON_PARAM_SIZE] = "torch\\.rand\\(\\d+, 3, (\\d+, \\d+)\\)",
  [LESSON_PARAM_LR] = "\\blr=([0-9.eE+-]+)",
  [LESSON_PARAM_MOMENTUM] = "\\bmomentum=([0-9.eE+-]+)",
  [LESSON_PARAM_STEPS] = "^for step in range\\((\\d+)\\):",
  [LESSON_PARAM_ZERO_GRAD] = "^[ \\t]+(optim\\.zero_grad\\(set_to_none=True\\))",
  [LESSON_PARAM_FROZEN] = "^frozen = (\\([^)\\n]*\\))",
  [LESSON_PARAM_WEIGHTS] = "^model = resnet18\\(\\)()",
};

static GRegex *
param_regex (LessonParam param)
{
  static GRegex *regexes[LESSON_PARAM_COUNT];
  static gsize once;
  if (g_once_init_enter (&once))
    {
      for (int i = 0; i < LESSON_PARAM_COUNT; i++)
        regexes[i] = g_regex_new (param_patterns[i], G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0,
                                  NULL);
      g_once_init_leave (&once, 1);
    }
  return regexes[param];
}

/* text with every match of param's pattern's first group replaced by value. */
static char *
replace_param (const char *text, LessonParam param, const char *value)
{
  g_autoptr (GMatchInfo) match = NULL;
  GString *s = g_string_new (NULL);
  const char *done = text;
  g_regex_match (param_regex (param), text, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      int start, end;
      g_match_info_fetch_pos (match, 1, &start, &end);
      g_string_append_len (s, done, text + start - done);
      g_string_append (s, value);
      done = text + end;
    }
  g_string_append (s, done);
  return g_string_free (s, FALSE);
}

/* The weights file's loading, on the line that makes the model (not translated:
 * Python code). A .pth is PyTorch's own format; a .safetensors goes through the
 * safetensors package, as in PyTorch. */
static char *
weights_statement (const char *file)
{
  g_autofree char *escaped = g_strescape (file, NULL);
  if (g_str_has_suffix (file, ".safetensors"))
    return g_strdup_printf ("; from safetensors.torch import load_file; "
                            "model.load_state_dict(load_file(\"%s\"))", escaped);
  return g_strdup_printf ("; model.load_state_dict(torch.load(\"%s\"))", escaped);
}

char *
lesson_source (const Lesson *lesson, const LessonParams *params)
{
  g_return_val_if_fail (lesson != NULL && params != NULL, NULL);
  char *text = g_strdup (lesson->source);
  if (!lesson->builtin)
    return text;

  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, params->seed);
  g_autofree char *size = g_strdup_printf ("%d, %d", params->size, params->size);
  g_autofree char *lr = python_float (params->lr);
  g_autofree char *momentum = python_float (params->momentum);
  g_autofree char *steps = g_strdup_printf ("%d", params->steps);
  g_autofree char *frozen = params->frozen ? python_str_tuple (params->frozen) : NULL;
  g_autofree char *weights = params->weights ? weights_statement (params->weights) : NULL;
  const char *values[LESSON_PARAM_COUNT] = {
    [LESSON_PARAM_SEED] = seed,
    [LESSON_PARAM_SIZE] = size,
    [LESSON_PARAM_LR] = lr,
    [LESSON_PARAM_MOMENTUM] = momentum,
    [LESSON_PARAM_STEPS] = steps,
    /* not translated: Python code */
    [LESSON_PARAM_ZERO_GRAD] = params->zero_grad
                                 ? NULL
                                 : "pass  # optim.zero_grad() is off: gradients accumulate",
    [LESSON_PARAM_FROZEN] = frozen,
    [LESSON_PARAM_WEIGHTS] = weights,
  };
  for (int i = 0; i < LESSON_PARAM_COUNT; i++)
    if (values[i])
      {
        char *next = replace_param (text, i, values[i]);
        g_free (text);
        text = next;
      }
  return text;
}

/* The names in the program's `frozen = ("conv1", "bn1")`, or params->frozen. */
char **
lesson_frozen_names (const Lesson *lesson, const LessonParams *params)
{
  if (params->frozen)
    return g_strdupv (params->frozen);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GMatchInfo) match = NULL;
  if (lesson->builtin && g_regex_match (param_regex (LESSON_PARAM_FROZEN), lesson->source, 0,
                                        &match))
    {
      g_autofree char *tuple = g_match_info_fetch (match, 1);
      g_autoptr (GRegex) string = g_regex_new ("\"([^\"\\\\]*)\"", 0, 0, NULL);
      g_autoptr (GMatchInfo) item = NULL;
      for (g_regex_match (string, tuple, 0, &item); g_match_info_matches (item);
           g_match_info_next (item, NULL))
        g_ptr_array_add (names, g_match_info_fetch (item, 1));
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_steal (names, NULL);
}

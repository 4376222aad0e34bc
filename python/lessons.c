/* lessons.c — the built-in lessons: their table, and their programs from the
 * library's resources. */
#include "lessons.h"

#include "program.h"
#include "lessons-resources.h"

#include <glib/gi18n-lib.h>

/* name: the file resources/lessons/NAME.py and the command line's NAME.
 * title and summary are English marked with N_(): show them through _(). */
static const struct
{
  const char *name, *title, *summary;
  const char *graph;            /* the variable whose grad_fn is the lesson's graph */
} table[] = {
  { "autograd", N_("Autograd basics"),
    N_("Q = 3a³ − b²: the graph of grad_fns, .grad of the leaves, and why a second "
       "backward fails"), "Q" },
  { "requires-grad", N_("Who requires grad?"),
    N_("An op records a grad_fn only when one of its inputs requires grad"), "b" },
  { "resnet18-step", N_("One training step of resnet18"),
    N_("Forward, loss, backward and an SGD step through torchvision's resnet18; repeated "
       "steps show .grad accumulating without zero_grad"), "loss" },
  { "finetune", N_("Fine-tuning a frozen resnet18"),
    N_("Every parameter frozen, a new fc head: the backward graph shrinks to the head "
       "and only fc moves"), "loss" },
  { "dynamic", N_("A dynamic graph"),
    N_("A while loop that depends on the data: each seed builds a graph of another length"),
    "y" },
  { "freeze", N_("Your own freezing"),
    N_("resnet18 with the modules you froze: the graph loses their branches and SGD "
       "leaves them alone"), "loss" },
};

static const Lesson *lessons[G_N_ELEMENTS (table)];

static void
load_lessons (void)
{
  GResource *resource = gradlens_lessons_get_resource ();
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autofree char *file = g_strconcat (table[i].name, ".py", NULL);
      g_autofree char *path = g_strconcat ("/io/github/gradlens/GradLens/lessons/", file, NULL);
      g_autoptr (GBytes) bytes = g_resource_lookup_data (resource, path, 0, NULL);
      /* Built in: a missing file is a build error, not the user's. */
      g_assert (bytes != NULL);
      g_autofree char *source = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      Lesson *lesson = program_lesson_new (file, source);
      g_free ((char *) lesson->title);
      g_free ((char *) lesson->summary);
      lesson->title = g_strdup (table[i].title);
      lesson->summary = g_strdup (table[i].summary);
      g_free ((char *) lesson->graph_variable);
      lesson->graph_variable = g_strdup (table[i].graph);
      lesson->builtin = true;
      lessons[i] = lesson;
    }
}

const Lesson *const *
lesson_list (guint *n_lessons)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      load_lessons ();
      g_once_init_leave (&once, 1);
    }
  if (n_lessons)
    *n_lessons = G_N_ELEMENTS (lessons);
  return lessons;
}

const Lesson *
lesson_find (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  guint n;
  const Lesson *const *list = lesson_list (&n);
  for (guint i = 0; i < n; i++)
    if (g_str_equal (list[i]->name, name))
      return list[i];
  g_autoptr (GString) names = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "", list[i]->name);
  g_set_error (error, LESSON_ERROR, LESSON_ERROR_UNKNOWN,
               _("no lesson named “%s” (the lessons are %s)"), name, names->str);
  return NULL;
}

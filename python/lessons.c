/* lessons.c — the built-in lessons and the examples: their tables, and their
 * programs from the library's resources. */
#include "lessons.h"

#include "program.h"
#include "lessons-resources.h"

#include <glib/gi18n-lib.h>

/* name: the file resources/FOLDER/NAME.py and the command line's NAME.
 * title and summary are English marked with N_(): show them through _(). */
typedef struct
{
  const char *name, *title, *summary;
  const char *graph;            /* the variable whose grad_fn is the lesson's graph, or
                                 * NULL: the program's own header's (# graph: loss) */
} Entry;

static const Entry lesson_table[] = {
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

/* The examples, in the menu's order. Each program's header says the same title
 * and summary (# title:, # summary:, for whoever reads the file; test-lessons
 * checks they agree): here they are marked for translation. */
static const Entry example_table[] = {
  { "mlp-regression", N_("An MLP on a toy regression"),
    N_("A small network learns y = x² from twenty points: forward, loss, backward and an "
       "SGD step, over and over"), NULL },
  { "custom-module", N_("A custom nn.Module"),
    N_("Layers assigned in __init__ become the module's parameters; forward is plain "
       "Python that autograd records"), NULL },
  { "gradient-accumulation", N_("Gradient accumulation"),
    N_("backward() adds to .grad: four small batches give the gradient of one big batch, "
       "then one SGD step"), NULL },
  { "no-grad-detach", N_("no_grad and detach"),
    N_("Inside torch.no_grad() nothing is recorded; detach() cuts a tensor off the graph, "
       "so no gradient flows through it"), NULL },
  { "tensor-hooks", N_("Tensor hooks"),
    N_("register_hook runs a function when the gradient reaches a tensor: to look at it, "
       "or to change it"), NULL },
  { "cross-entropy", N_("Cross-entropy on three classes"),
    N_("Logits for three classes, a softmax, the loss of the right class; the gradient is "
       "softmax minus one-hot"), NULL },
  { "dynamic-loop", N_("A dynamic loop"),
    N_("Python's own control flow decides the graph: a loop that runs until the value is "
       "large enough"), NULL },
  { "frozen-backbone", N_("A frozen backbone"),
    N_("A backbone whose parameters do not require grad: backward stops at the new head, "
       "and only the head learns"), NULL },
};

/* A new program lesson from resources/FOLDER/NAME.py, with the table's words. */
static Lesson *
load (const char  *folder,
      const Entry *entry)
{
  g_autofree char *file = g_strconcat (entry->name, ".py", NULL);
  g_autofree char *path = g_strconcat ("/io/github/gradlens/GradLens/", folder, "/", file, NULL);
  g_autoptr (GBytes) bytes = g_resource_lookup_data (gradlens_lessons_get_resource (), path, 0,
                                                     NULL);
  /* Built in: a missing file is a build error, not the user's. */
  g_assert (bytes != NULL);
  g_autofree char *source = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  Lesson *lesson = program_lesson_new (file, source);
  g_free ((char *) lesson->title);
  g_free ((char *) lesson->summary);
  lesson->title = g_strdup (entry->title);
  lesson->summary = g_strdup (entry->summary);
  if (entry->graph != NULL)
    {
      g_free ((char *) lesson->graph_variable);
      lesson->graph_variable = g_strdup (entry->graph);
    }
  lesson->bundled = true;
  return lesson;
}

static const Lesson *lessons[G_N_ELEMENTS (lesson_table)];

static void
load_lessons (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (lesson_table); i++)
    {
      Lesson *lesson = load ("lessons", &lesson_table[i]);
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

/* --- Examples ---------------------------------------------------------------- */

static const Lesson *examples[G_N_ELEMENTS (example_table)];

const Lesson *const *
example_list (guint *n_examples)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      for (guint i = 0; i < G_N_ELEMENTS (example_table); i++)
        examples[i] = load ("examples", &example_table[i]);
      g_once_init_leave (&once, 1);
    }
  if (n_examples)
    *n_examples = G_N_ELEMENTS (examples);
  return examples;
}

Lesson *
example_new (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (example_table); i++)
    if (g_str_equal (example_table[i].name, name))
      return load ("examples", &example_table[i]);
  g_set_error (error, LESSON_ERROR, LESSON_ERROR_UNKNOWN, _("no example named “%s”"), name);
  return NULL;
}

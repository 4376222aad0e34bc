/* lesson.c — a program, and a run's text, output, phase and variables. */
#include "lesson.h"
#include "module.h"

#include <glib/gi18n-lib.h>

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (lesson-error-quark, lesson_error)

static const char *const phase_names[] = {
  [LESSON_PHASE_FORWARD] = "forward",
  [LESSON_PHASE_BACKWARD] = "backward",
  [LESSON_PHASE_OPTIMIZER] = "optimizer",
  [LESSON_PHASE_ZERO_GRAD] = "zero_grad",
  [LESSON_PHASE_DONE] = "done",
};
_Static_assert (G_N_ELEMENTS (phase_names) == LESSON_PHASE_COUNT, "one name per LessonPhase");

const char *
lesson_phase_name (LessonPhase phase)
{
  g_return_val_if_fail (phase < LESSON_PHASE_COUNT, "?");
  return phase_names[phase];
}

/* --- Parameters ------------------------------------------------------------ */

void
lesson_params_init (LessonParams *params)
{
  *params = (LessonParams){
    .size = 64,
    .seed = 0,
    .lr = 1e-2f,
    .momentum = 0.9f,
    .steps = 1,
    .zero_grad = true,
  };
}

void
lesson_params_copy (LessonParams *dest, const LessonParams *src)
{
  *dest = *src;
  dest->frozen = g_strdupv (src->frozen);
  dest->weights = g_strdup (src->weights);
}

void
lesson_params_clear (LessonParams *params)
{
  g_clear_pointer (&params->frozen, g_strfreev);
  g_clear_pointer (&params->weights, g_free);
}

Lesson *
lesson_new_program (const char *name, const char *title, const char *summary,
                    const char *source, const char *filename, const char *graph_variable,
                    LessonFn run)
{
  g_return_val_if_fail (name != NULL && source != NULL && filename != NULL && run != NULL, NULL);
  Lesson *lesson = g_new0 (Lesson, 1);
  lesson->name = g_strdup (name);
  lesson->title = g_strdup (title ? title : name);
  lesson->summary = g_strdup (summary ? summary : "");
  lesson->source = g_strdup (source);
  lesson->filename = g_strdup (filename);
  lesson->graph_variable = g_strdup (graph_variable);
  lesson->run = run;
  lesson->uses_resnet = strstr (source, "resnet18(") != NULL;
  /* A program that builds modules (nn.Linear, class Net(nn.Module)) shows its model
   * once it has one; decided from the text, so the tree does not come and go. */
  lesson->uses_modules = lesson->uses_resnet || strstr (source, "torch.nn") != NULL
                         || strstr (source, "nn.") != NULL;
  lesson->uses_optimizer = lesson->uses_resnet || strstr (source, "torch.optim") != NULL
                           || strstr (source, "optim.") != NULL;
  return lesson;
}

void
lesson_free (Lesson *lesson)
{
  if (lesson == NULL)
    return;
  g_free ((char *) lesson->name);
  g_free ((char *) lesson->title);
  g_free ((char *) lesson->summary);
  g_free ((char *) lesson->source);
  g_free ((char *) lesson->filename);
  g_free ((char *) lesson->graph_variable);
  g_free (lesson);
}

/* --- A run ----------------------------------------------------------------- */

struct _LessonRun
{
  const Lesson *lesson;
  LessonParams params;
  char *source;
  char **lines;                 /* source split at newlines */
  int n_lines;

  GString *output;
  LessonOutputFn output_fn;
  gpointer output_data;

  LessonPhase phase;
  LessonPhase next_phase;       /* announced by lesson_phase, begins at the next line */
  bool phase_pending;
  int line;
  bool executed;
  GArray *losses;               /* of double */
  Anomaly *anomaly;             /* the run's first, once it ended */

  GPtrArray *variables;         /* of LessonVar *, creation order */
  char *graph_hint;             /* the tensor variable with a grad_fn bound last */
  GHashTable *tensor_names;     /* const Tensor * → char * (params of the model) */
};

static void
lesson_var_free (LessonVar *var)
{
  if (var->value && var->destroy)
    var->destroy (var->value);
  g_free (var->name);
  g_free (var);
}

LessonRun *
lesson_run_new (const Lesson *lesson, const LessonParams *params)
{
  g_return_val_if_fail (lesson != NULL, NULL);

  LessonRun *run = g_new0 (LessonRun, 1);
  run->lesson = lesson;
  if (params)
    lesson_params_copy (&run->params, params);
  else
    lesson_params_init (&run->params);
  run->source = lesson_source (lesson, &run->params);
  run->lines = g_strsplit (run->source, "\n", -1);
  run->n_lines = (int) g_strv_length (run->lines);
  /* A final newline ends the last line rather than starting an empty one. */
  if (run->n_lines > 0 && run->lines[run->n_lines - 1][0] == '\0')
    run->n_lines--;
  run->output = g_string_new (NULL);
  run->phase = LESSON_PHASE_FORWARD;
  run->losses = g_array_new (FALSE, FALSE, sizeof (double));
  run->variables = g_ptr_array_new_with_free_func ((GDestroyNotify) lesson_var_free);
  run->tensor_names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return run;
}

void
lesson_run_free (LessonRun *run)
{
  if (run == NULL)
    return;
  /* Later variables may hold what earlier ones need (an optimizer holds the
   * model's parameters): release them newest first. */
  while (run->variables->len > 0)
    g_ptr_array_remove_index (run->variables, run->variables->len - 1);
  g_ptr_array_unref (run->variables);
  g_hash_table_unref (run->tensor_names);
  g_free (run->graph_hint);
  g_array_unref (run->losses);
  anomaly_free (run->anomaly);
  g_string_free (run->output, TRUE);
  g_strfreev (run->lines);
  g_free (run->source);
  lesson_params_clear (&run->params);
  g_free (run);
}

void
lesson_run_set_output_func (LessonRun *run, LessonOutputFn fn, gpointer user_data)
{
  g_return_if_fail (run != NULL);
  run->output_fn = fn;
  run->output_data = user_data;
}

gboolean
lesson_run_execute (LessonRun *run, GError **error)
{
  g_return_val_if_fail (run != NULL, FALSE);
  if (run->executed)
    {
      g_set_error (error, LESSON_ERROR, LESSON_ERROR_PARAMS,
                   _("lesson %s has already run: make a new run to start again"),
                   run->lesson->name);
      return FALSE;
    }
  run->executed = true;
  bool anomaly_was = anomaly_mode_set_enabled (run->params.detect_anomaly
                                               || anomaly_mode_is_enabled ());
  anomaly_clear ();
  gboolean ok = run->lesson->run (run, error);
  run->anomaly = anomaly_steal_first ();
  anomaly_mode_set_enabled (anomaly_was);
  if (ok)
    {
      run->phase = LESSON_PHASE_DONE;
      autograd_emit (&(Event){ .kind = EVENT_PHASE, .line = LESSON_PHASE_DONE });
    }
  return ok;
}

const Anomaly *
lesson_run_get_anomaly (LessonRun *run)
{
  return run->anomaly;
}

const Lesson *
lesson_run_get_lesson (LessonRun *run)
{
  return run->lesson;
}

const LessonParams *
lesson_run_get_params (LessonRun *run)
{
  return &run->params;
}

const char *
lesson_run_get_source (LessonRun *run)
{
  return run->source;
}

const char *
lesson_run_get_source_line (LessonRun *run, int line)
{
  if (line < 1 || line > run->n_lines)
    return "";
  return run->lines[line - 1];
}

int
lesson_run_get_n_lines (LessonRun *run)
{
  return run->n_lines;
}

const char *
lesson_run_get_output (LessonRun *run)
{
  return run->output->str;
}

LessonPhase
lesson_run_get_phase (LessonRun *run)
{
  return run->phase;
}

int
lesson_run_get_line (LessonRun *run)
{
  return run->line;
}

GArray *
lesson_run_get_losses (LessonRun *run)
{
  return run->losses;
}

GPtrArray *
lesson_run_get_variables (LessonRun *run)
{
  return run->variables;
}

const LessonVar *
lesson_run_lookup (LessonRun *run, const char *name)
{
  for (guint i = 0; i < run->variables->len; i++)
    {
      const LessonVar *var = g_ptr_array_index (run->variables, i);
      if (g_str_equal (var->name, name))
        return var;
    }
  return NULL;
}

Tensor *
lesson_run_get_tensor (LessonRun *run, const char *name)
{
  const LessonVar *var = lesson_run_lookup (run, name);
  return var && var->kind == LESSON_VAR_TENSOR ? var->value : NULL;
}

static gpointer
first_of_kind (LessonRun *run, LessonVarKind kind)
{
  for (guint i = 0; i < run->variables->len; i++)
    {
      const LessonVar *var = g_ptr_array_index (run->variables, i);
      if (var->kind == kind)
        return var->value;
    }
  return NULL;
}

/* The program's model: of its modules, the one with the most parameters (a loss
 * function or an activation has none), the first of equals. */
static const LessonVar *
model_variable (LessonRun *run)
{
  const LessonVar *model = NULL;
  int64_t most = -1;
  for (guint i = 0; i < run->variables->len; i++)
    {
      const LessonVar *var = g_ptr_array_index (run->variables, i);
      if (var->kind != LESSON_VAR_MODULE)
        continue;
      ParamCounts counts;
      module_count_parameters (var->value, &counts);
      if (counts.total > most)
        {
          model = var;
          most = counts.total;
        }
    }
  return model;
}

gpointer
lesson_run_get_model (LessonRun *run)
{
  const LessonVar *var = model_variable (run);
  return var ? var->value : NULL;
}

const char *
lesson_run_get_model_name (LessonRun *run)
{
  const LessonVar *var = model_variable (run);
  return var ? var->name : NULL;
}

gpointer
lesson_run_get_optimizer (LessonRun *run)
{
  return first_of_kind (run, LESSON_VAR_OPTIMIZER);
}

Node *
lesson_run_get_graph_root (LessonRun *run)
{
  const char *name = run->lesson->graph_variable ? run->lesson->graph_variable : run->graph_hint;
  Tensor *t = name ? lesson_run_get_tensor (run, name) : NULL;
  return t ? t->grad_fn : NULL;
}

const char *
lesson_run_module_kind (LessonRun *run, const char *path)
{
  Module *model = lesson_run_get_model (run);
  if (model == NULL || path == NULL)
    return NULL;
  Module *m = module_find (model, path);
  return m ? module_type_name (m) : NULL;
}

const char *
lesson_run_tensor_name (LessonRun *run, const Tensor *t)
{
  if (t == NULL)
    return NULL;
  const char *name = g_hash_table_lookup (run->tensor_names, t);
  if (name)
    return name;
  /* The newest variable bound to it: `y = y * 2` rebinds y to a new tensor. */
  for (guint i = run->variables->len; i > 0; i--)
    {
      const LessonVar *var = g_ptr_array_index (run->variables, i - 1);
      if (var->kind == LESSON_VAR_TENSOR && var->value == t)
        return var->name;
    }
  return t->name;
}

/* --- For the lessons' code ------------------------------------------------- */

gboolean
lesson_line (LessonRun *run, int line)
{
  run->line = line;
  /* The phase the statement begins: a pause at the phase change shows the
   * statement that makes it (loss.backward()), not the one before. */
  if (run->phase_pending)
    {
      run->phase_pending = false;
      run->phase = run->next_phase;
      if (!autograd_emit (&(Event){ .kind = EVENT_PHASE, .line = (int) run->phase,
                                    .text = lesson_phase_name (run->phase) }))
        return FALSE;
    }
  return autograd_emit (&(Event){ .kind = EVENT_LINE, .line = line,
                                  .text = lesson_run_get_source_line (run, line) });
}

gboolean
lesson_phase (LessonRun *run, LessonPhase phase)
{
  run->next_phase = phase;
  run->phase_pending = true;
  return TRUE;
}

gboolean
lesson_phase_now (LessonRun *run, LessonPhase phase)
{
  run->phase_pending = false;
  run->phase = phase;
  return autograd_emit (&(Event){ .kind = EVENT_PHASE, .line = (int) phase,
                                  .text = lesson_phase_name (phase) });
}

gboolean
lesson_cancelled (GError **error)
{
  g_set_error_literal (error, LESSON_ERROR, LESSON_ERROR_CANCELLED, _("the lesson was stopped"));
  return FALSE;
}

void
lesson_run_write (LessonRun *run, const char *text)
{
  g_string_append (run->output, text);
  if (run->output_fn)
    run->output_fn (text, run->output_data);
}

void
lesson_print (LessonRun *run, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *line = g_strconcat (text, "\n", NULL);
  lesson_run_write (run, line);
}

void
lesson_print_tensor (LessonRun *run, const Tensor *t)
{
  g_autofree char *repr = tensor_to_string (t);
  lesson_print (run, "%s", repr);
}

void
lesson_run_keep_object (LessonRun *run, const char *name, LessonVarKind kind, gpointer value,
                        GDestroyNotify destroy)
{
  g_return_if_fail (run != NULL && name != NULL);
  for (guint i = 0; i < run->variables->len; i++)
    {
      LessonVar *var = g_ptr_array_index (run->variables, i);
      if (g_str_equal (var->name, name))
        {
          /* Rebinding: the old value goes, the name keeps its place. */
          gpointer old = var->value;
          GDestroyNotify old_destroy = var->destroy;
          var->kind = kind;
          var->value = value;
          var->destroy = destroy;
          if (old && old_destroy)
            old_destroy (old);
          return;
        }
    }
  LessonVar *var = g_new0 (LessonVar, 1);
  var->name = g_strdup (name);
  var->kind = kind;
  var->value = value;
  var->destroy = destroy;
  g_ptr_array_add (run->variables, var);
}

Tensor *
lesson_run_keep (LessonRun *run, const char *name, Tensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  if (t->name == NULL)
    tensor_set_name (t, name);
  if (t->grad_fn && g_strcmp0 (run->graph_hint, name) != 0)
    {
      g_free (run->graph_hint);
      run->graph_hint = g_strdup (name);
    }
  lesson_run_keep_object (run, name, LESSON_VAR_TENSOR, t, (GDestroyNotify) tensor_unref);
  return t;
}

void
lesson_run_forget (LessonRun *run, const char *name)
{
  g_return_if_fail (run != NULL && name != NULL);
  for (guint i = 0; i < run->variables->len; i++)
    {
      LessonVar *var = g_ptr_array_index (run->variables, i);
      if (g_str_equal (var->name, name))
        {
          g_ptr_array_remove_index (run->variables, i);
          return;
        }
    }
}

void
lesson_run_name_tensor (LessonRun *run, const Tensor *t, const char *name)
{
  g_hash_table_replace (run->tensor_names, (gpointer) t, g_strdup (name));
}

void
lesson_run_push_loss (LessonRun *run, double loss)
{
  g_array_append_val (run->losses, loss);
}

void
lesson_run_seed (LessonRun *run, Generator *gen)
{
  generator_init (gen, run->params.seed);
}

/* --- The graph, exported ------------------------------------------------------ */

static void
json_escape (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const unsigned char *p = (const unsigned char *) str; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (s, "\\%c", *p);
      else if (*p < 0x20)
        g_string_append_printf (s, "\\u%04x", *p);
      else
        g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static void
json_shape (GString *s, int ndim, const int64_t *shape)
{
  g_string_append_c (s, '[');
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
}

static const char *
graph_leaf_name (LessonRun *run, const Node *node)
{
  const char *name = run ? lesson_run_tensor_name (run, node->variable) : NULL;
  if (name == NULL)
    name = node->variable->name;
  return name ? name : "";
}

char *
lesson_graph_to_json (LessonRun *run, Node *root)
{
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (root);
  GString *s = g_string_new ("{\n  \"nodes\": [");
  for (guint i = 0; i < nodes->len; i++)
    {
      const Node *n = g_ptr_array_index (nodes, i);
      g_string_append_printf (s, "%s\n    {\"id\": %" G_GUINT64_FORMAT ", \"type\": ",
                              i ? "," : "", n->id);
      json_escape (s, node_name (n));
      g_string_append (s, ", \"module\": ");
      json_escape (s, n->module);
      g_string_append (s, ", \"shape\": ");
      json_shape (s, n->out_ndim, n->out_shape);
      g_string_append (s, ", \"next_functions\": [");
      for (int j = 0; j < n->n_next; j++)
        if (n->next[j].node)
          g_string_append_printf (s, "%s[%" G_GUINT64_FORMAT ", %d]", j ? ", " : "",
                                  n->next[j].node->id, n->next[j].input_nr);
        else
          g_string_append_printf (s, "%snull", j ? ", " : "");
      g_string_append_c (s, ']');
      if (n->op == OP_ACCUMULATE_GRAD && n->variable)
        {
          g_string_append (s, ", \"leaf_name\": ");
          json_escape (s, graph_leaf_name (run, n));
          g_string_append (s, ", \"leaf_shape\": ");
          json_shape (s, n->variable->ndim, n->variable->shape);
        }
      g_string_append_c (s, '}');
    }
  g_string_append (s, "\n  ],\n  \"edges\": [");
  bool first = true;
  for (guint i = 0; i < nodes->len; i++)
    {
      const Node *n = g_ptr_array_index (nodes, i);
      for (int j = 0; j < n->n_next; j++)
        if (n->next[j].node)
          {
            g_string_append_printf (s, "%s\n    [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]",
                                    first ? "" : ",", n->id, n->next[j].node->id);
            first = false;
          }
    }
  g_string_append (s, "\n  ]\n}\n");
  return g_string_free (s, FALSE);
}

/* "1×64×16×16"; "scalar" for a 0-d tensor. */
static char *
dot_shape (int ndim, const int64_t *shape)
{
  if (ndim == 0)
    return g_strdup ("scalar");
  GString *s = g_string_new (NULL);
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "×" : "", shape[i]);
  return g_string_free (s, FALSE);
}

static void
dot_escape (GString *s, const char *str)
{
  for (const char *p = str; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
}

char *
lesson_graph_to_dot (LessonRun *run, Node *root)
{
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (root);
  /* not translated: Graphviz's DOT language */
  GString *s = g_string_new ("digraph autograd {\n"
                             "  node [shape=box, style=rounded, fontname=\"Sans\"];\n");
  for (guint i = 0; i < nodes->len; i++)
    {
      const Node *n = g_ptr_array_index (nodes, i);
      g_autofree char *shape = dot_shape (n->out_ndim, n->out_shape);
      g_string_append_printf (s, "  n%" G_GUINT64_FORMAT " [label=\"", n->id);
      dot_escape (s, node_name (n));
      if (n->op == OP_ACCUMULATE_GRAD && n->variable)
        {
          g_string_append (s, "\\n");
          dot_escape (s, graph_leaf_name (run, n));
        }
      else if (*n->module)
        {
          g_string_append (s, "\\n");
          dot_escape (s, n->module);
        }
      g_string_append_printf (s, "\\n%s\"%s];\n", shape,
                              n->op == OP_ACCUMULATE_GRAD ? ", style=\"rounded,filled\", "
                                                            "fillcolor=\"#dbeafe\"" : "");
    }
  for (guint i = 0; i < nodes->len; i++)
    {
      const Node *n = g_ptr_array_index (nodes, i);
      for (int j = 0; j < n->n_next; j++)
        if (n->next[j].node)
          g_string_append_printf (s, "  n%" G_GUINT64_FORMAT " -> n%" G_GUINT64_FORMAT
                                  " [comment=\"next_functions[%d]\"];\n",
                                  n->id, n->next[j].node->id, j);
        else
          g_string_append_printf (s, "  n%" G_GUINT64_FORMAT "_none%d [label=\"None\", "
                                  "shape=box, style=\"rounded,dashed\", color=\"#9ca3af\", "
                                  "fontcolor=\"#9ca3af\"];\n"
                                  "  n%" G_GUINT64_FORMAT " -> n%" G_GUINT64_FORMAT "_none%d "
                                  "[comment=\"next_functions[%d]\", style=dashed, "
                                  "color=\"#9ca3af\"];\n",
                                  n->id, j, n->id, n->id, j, j);
    }
  g_string_append (s, "}\n");
  return g_string_free (s, FALSE);
}

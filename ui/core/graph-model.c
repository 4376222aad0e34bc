/* graph-model.c: a snapshot of the engine's grad_fn graph, for drawing */

#include "graph-model.h"
#include "backward-rule.h"

#include <glib/gi18n.h>
#include <string.h>

guint64
graph_model_key (guint64 id,
                 int     none_slot)
{
  /* Three low bits: 0 for the node itself, 1 + slot for a None slot of it. */
  G_STATIC_ASSERT (NODE_MAX_EDGES < 8);
  return (id << 3) | (guint64) (none_slot < 0 ? 0 : none_slot + 1);
}

gboolean
graph_module_contains (const char *path,
                       const char *module)
{
  size_t n;

  if (path == NULL || path[0] == '\0')
    return TRUE;
  if (module == NULL)
    return FALSE;
  n = strlen (path);

  return strncmp (path, module, n) == 0 && (module[n] == '\0' || module[n] == '.');
}

static gint64
shape_numel (int ndim, const int64_t *shape)
{
  gint64 n = 1;

  for (int i = 0; i < ndim; i++)
    n *= shape[i];

  return n;
}

/* The parameter an op takes in next_functions slot `slot`, when it runs inside a
 * module: conv and batch norm take (input, weight, bias), F.linear's addmm takes
 * (bias, input, weight.T). A None there is a parameter that asks no gradient. */
static char *
parameter_in_slot (const Node *node,
                   int         slot)
{
  const char *module = node->module;

  if (module == NULL || module[0] == '\0' || node->input_ndim[slot] == 0)
    return NULL;

  switch (node->op)
    {
    case OP_CONV2D:
    case OP_BATCH_NORM:
      if (slot == 1)
        return g_strconcat (module, ".weight", NULL);
      if (slot == 2)
        return g_strconcat (module, ".bias", NULL);
      return NULL;

    case OP_ADDMM:
      if (slot == 0)
        return g_strconcat (module, ".bias", NULL);
      if (slot == 2)
        return g_strconcat (module, ".weight.T", NULL);
      return NULL;

    default:
      return NULL;
    }
}

/* *text = fresh (owned); *changed when they differ. */
static void
replace_text (char     **text,
              char      *fresh,
              gboolean  *changed)
{
  if (g_strcmp0 (*text, fresh) != 0)
    *changed = TRUE;
  g_free (*text);
  *text = fresh;
}

static void
read_live_state (GraphModelNode *mn,
                 gboolean       *changed)
{
  const Node *node = mn->node;
  NodeState state;
  int deps_total, deps_arrived, grad_passes;
  gboolean has_saved, saved_freed, grad_defined, frozen;

  if (node == NULL)
    return;

  state = node->state;
  deps_total = node->deps_total;
  deps_arrived = node->deps_arrived;
  has_saved = node_has_saved (node);
  saved_freed = node->saved_freed;
  grad_defined = FALSE;
  grad_passes = 0;
  frozen = mn->frozen;

  if (node->variable != NULL)
    {
      grad_defined = node->variable->grad != NULL;
      grad_passes = grad_defined ? node->variable->grad_passes : 0;
      frozen = !node->variable->requires_grad;
    }

  if (state != mn->state || deps_total != mn->deps_total || deps_arrived != mn->deps_arrived
      || has_saved != mn->has_saved || saved_freed != mn->saved_freed
      || grad_defined != mn->grad_defined || grad_passes != mn->grad_passes
      || frozen != mn->frozen)
    *changed = TRUE;

  mn->state = state;
  mn->deps_total = deps_total;
  mn->deps_arrived = deps_arrived;
  mn->has_saved = has_saved;
  mn->saved_freed = saved_freed;
  mn->grad_defined = grad_defined;
  mn->grad_passes = grad_passes;
  mn->frozen = frozen;
  replace_text (&mn->grad_values, backward_values_text (node->grad_received), changed);
  mn->saves_buffer = mn->saves_buffer || node->extra != NULL;
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  const Node *x = *(Node *const *) a, *y = *(Node *const *) b;

  return x->id < y->id ? -1 : x->id > y->id;
}

/* Every node of the list, then what they reach and the list lacks, each once. */
static GPtrArray *
complete_node_list (GPtrArray *nodes)
{
  GPtrArray *all = g_ptr_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; nodes != NULL && i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);

      if (node != NULL && g_hash_table_add (seen, node))
        g_ptr_array_add (all, node);
    }

  for (guint i = 0; i < all->len; i++)
    {
      Node *node = g_ptr_array_index (all, i);

      for (int j = 0; j < node->n_next; j++)
        {
          Node *next = node->next[j].node;

          if (next != NULL && g_hash_table_add (seen, next))
            g_ptr_array_add (all, next);
        }
    }

  /* Ids grow as nodes are made: recording order, whichever order the list was in
   * (the stepper's, or autograd_collect_nodes's breadth-first), so that the same
   * graph always lays out the same way. */
  g_ptr_array_sort (all, compare_ids);

  return all;
}

GraphModel *
graph_model_new (GPtrArray *nodes)
{
  g_autoptr (GPtrArray) all = complete_node_list (nodes);
  GraphModel *model = g_new0 (GraphModel, 1);
  int n_nodes = 0, n_edges = 0;

  model->ref_count = 1;
  model->by_key = g_hash_table_new (g_int64_hash, g_int64_equal);
  model->by_node = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < all->len; i++)
    {
      Node *node = g_ptr_array_index (all, i);

      n_nodes++;
      for (int j = 0; j < node->n_next; j++)
        {
          n_edges++;
          if (node->next[j].node == NULL)
            n_nodes++;
        }
    }

  model->nodes = g_new0 (GraphModelNode, MAX (n_nodes, 1));
  model->edges = g_new0 (GraphModelEdge, MAX (n_edges, 1));

  /* First pass: the nodes, each followed by its None slots, so that a None sits
   * next to its owner in every list the layout is built from. */
  for (guint i = 0; i < all->len; i++)
    {
      Node *node = g_ptr_array_index (all, i);
      int index = model->n_nodes++;
      GraphModelNode *mn = &model->nodes[index];
      gboolean unused = FALSE;

      mn->kind = node->op == OP_ACCUMULATE_GRAD ? GRAPH_NODE_LEAF : GRAPH_NODE_FUNCTION;
      mn->node = node_ref (node);
      mn->id = node->id;
      mn->key = graph_model_key (node->id, -1);
      mn->op = node->op;
      mn->name = node_name (node);
      mn->module = node->module != NULL ? node->module : "";
      mn->owner = -1;
      mn->slot = -1;
      mn->seq = node->seq;
      mn->n_saved = node->n_saved;
      for (int j = 0; j < node->n_saved && j < NODE_MAX_SAVED; j++)
        mn->saved_names[j] = node->saved_names[j];
      mn->saves_buffer = node->extra != NULL;

      if (node->variable != NULL)
        {
          const Tensor *v = node->variable;

          mn->shape = tensor_shape_string (v);
          mn->leaf_name = g_strdup (v->name);
          mn->numel = v->numel;
        }
      else
        {
          mn->shape = shape_to_string (node->out_ndim, node->out_shape);
          for (int j = 0; j < node->n_next; j++)
            {
              /* A Python scalar leaves no shape: input_ndim 0 with no tensor. */
              if (node->next[j].node != NULL || node->input_ndim[j] > 0)
                mn->input_shapes[j] = shape_to_string (node->input_ndim[j], node->input_shape[j]);
            }
        }
      read_live_state (mn, &unused);
      g_hash_table_insert (model->by_key, &mn->key, GINT_TO_POINTER (index + 1));
      g_hash_table_insert (model->by_node, node, GINT_TO_POINTER (index + 1));

      for (int j = 0; j < node->n_next; j++)
        {
          GraphModelNode *none;

          if (node->next[j].node != NULL)
            continue;
          none = &model->nodes[model->n_nodes++];
          none->kind = GRAPH_NODE_NONE;
          none->id = node->id;
          none->key = graph_model_key (node->id, j);
          none->op = node->op;
          none->name = "None";
          none->module = mn->module;
          none->owner = index;
          none->slot = j;
          none->seq = node->seq;
          none->state = NODE_IDLE;
          none->leaf_name = parameter_in_slot (node, j);
          none->frozen = none->leaf_name != NULL;
          if (node->input_ndim[j] > 0)
            {
              none->shape = shape_to_string (node->input_ndim[j], node->input_shape[j]);
              none->numel = none->frozen ? shape_numel (node->input_ndim[j],
                                                        node->input_shape[j]) : 0;
            }
          g_hash_table_insert (model->by_key, &none->key,
                               GINT_TO_POINTER ((int) (none - model->nodes) + 1));
        }
    }
  g_assert (model->n_nodes == n_nodes);

  /* Second pass: the edges, in next_functions order. */
  for (int i = 0; i < model->n_nodes; i++)
    {
      GraphModelNode *mn = &model->nodes[i];
      const Node *node = mn->node;

      if (node == NULL)
        continue;
      mn->first_edge = model->n_edges;
      mn->n_edges = node->n_next;
      for (int j = 0; j < node->n_next; j++)
        {
          GraphModelEdge *e = &model->edges[model->n_edges++];

          e->source = i;
          e->slot = j;
          e->is_none = node->next[j].node == NULL;
          e->target = e->is_none
                        ? graph_model_find_key (model, graph_model_key (node->id, j))
                        : graph_model_find_node (model, node->next[j].node);
          e->grad_norm = node->grad_norm_out[j];
          e->values = backward_values_text (node->grad_sent[j]);
          e->rule = e->is_none ? NULL : backward_rule_text (node, j);
          g_assert (e->target >= 0);
          model->nodes[e->target].n_incoming++;
        }
    }
  g_assert (model->n_edges == n_edges);

  for (int i = 0; i < model->n_nodes; i++)
    model->nodes[i].is_root = model->nodes[i].kind != GRAPH_NODE_NONE
                              && model->nodes[i].n_incoming == 0;

  return model;
}

GraphModel *
graph_model_ref (GraphModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_atomic_int_inc (&model->ref_count);
  return model;
}

void
graph_model_unref (GraphModel *model)
{
  if (model == NULL || !g_atomic_int_dec_and_test (&model->ref_count))
    return;

  for (int i = 0; i < model->n_nodes; i++)
    {
      GraphModelNode *mn = &model->nodes[i];

      g_clear_pointer (&mn->node, node_unref);
      g_free (mn->shape);
      g_free (mn->leaf_name);
      for (int j = 0; j < NODE_MAX_EDGES; j++)
        g_free (mn->input_shapes[j]);
      g_free (mn->grad_values);
    }
  for (int i = 0; i < model->n_edges; i++)
    {
      g_free (model->edges[i].values);
      g_free (model->edges[i].rule);
    }
  g_hash_table_unref (model->by_key);
  g_hash_table_unref (model->by_node);
  g_free (model->nodes);
  g_free (model->edges);
  g_free (model);
}

gboolean
graph_model_refresh_state (GraphModel *model)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (model != NULL, FALSE);

  for (int i = 0; i < model->n_nodes; i++)
    read_live_state (&model->nodes[i], &changed);

  for (int i = 0; i < model->n_edges; i++)
    {
      GraphModelEdge *e = &model->edges[i];
      double norm = model->nodes[e->source].node->grad_norm_out[e->slot];

      if (norm != e->grad_norm)
        changed = TRUE;
      e->grad_norm = norm;
      replace_text (&e->values,
                    backward_values_text (model->nodes[e->source].node->grad_sent[e->slot]),
                    &changed);
    }

  return changed;
}

int
graph_model_find_key (const GraphModel *model,
                      guint64           key)
{
  g_return_val_if_fail (model != NULL, -1);

  return GPOINTER_TO_INT (g_hash_table_lookup (model->by_key, &key)) - 1;
}

int
graph_model_find_node (const GraphModel *model,
                       const Node       *node)
{
  g_return_val_if_fail (model != NULL, -1);

  return GPOINTER_TO_INT (g_hash_table_lookup (model->by_node, node)) - 1;
}

static gboolean
contains_casefold (const char *haystack,
                   const char *needle_folded)
{
  g_autofree char *folded = NULL;

  if (haystack == NULL || haystack[0] == '\0')
    return FALSE;
  folded = g_utf8_casefold (haystack, -1);

  return strstr (folded, needle_folded) != NULL;
}

int
graph_model_search (const GraphModel *model,
                    const char       *text,
                    int               after)
{
  g_autofree char *needle = NULL;

  g_return_val_if_fail (model != NULL, -1);

  if (text == NULL || text[0] == '\0' || model->n_nodes == 0)
    return -1;
  needle = g_utf8_casefold (text, -1);

  for (int k = 1; k <= model->n_nodes; k++)
    {
      int i = ((after < 0 ? -1 : after) + k) % model->n_nodes;
      const GraphModelNode *mn = &model->nodes[i];

      if (contains_casefold (mn->name, needle) || contains_casefold (mn->module, needle)
          || contains_casefold (mn->leaf_name, needle))
        return i;
    }

  return -1;
}

gint64
graph_model_count_params (const GraphModel *model,
                          const char       *path)
{
  gint64 total = 0;

  g_return_val_if_fail (model != NULL, 0);

  for (int i = 0; i < model->n_nodes; i++)
    {
      const GraphModelNode *mn = &model->nodes[i];

      if (graph_module_contains (path, mn->module)
          && (mn->kind == GRAPH_NODE_LEAF || (mn->kind == GRAPH_NODE_NONE && mn->frozen)))
        total += mn->numel;
    }

  return total;
}

char *
graph_model_status_text (const GraphModel *model,
                         int               i)
{
  const GraphModelNode *mn;

  g_return_val_if_fail (model != NULL && i >= 0 && i < model->n_nodes, NULL);
  mn = &model->nodes[i];

  switch (mn->kind)
    {
    case GRAPH_NODE_LEAF:
      return graph_leaf_status_text (mn->grad_passes, mn->grad_defined, mn->frozen);

    case GRAPH_NODE_FUNCTION:
      if (mn->state == NODE_WAITING && mn->deps_total > 0)
        return graph_waiting_status_text (mn->deps_arrived, mn->deps_total);
      return NULL;

    case GRAPH_NODE_NONE:
    default:
      return NULL;
    }
}

char *
graph_leaf_status_text (int      passes,
                        gboolean defined,
                        gboolean frozen)
{
  if (!defined)
    return g_strdup (frozen ? _(".grad: None · frozen") : ".grad: None");
  if (passes > 1)
    return g_strdup_printf (frozen ? ngettext (".grad: sum of %d pass · frozen",
                                               ".grad: sum of %d passes · frozen", passes)
                                   : ngettext (".grad: sum of %d pass",
                                               ".grad: sum of %d passes", passes),
                            passes);
  return g_strdup (frozen ? _(".grad: set · frozen") : _(".grad: set"));
}

char *
graph_waiting_status_text (int arrived,
                           int total)
{
  return g_strdup_printf (ngettext ("%d of %d gradient arrived", "%d of %d gradients arrived",
                                    total),
                          arrived, total);
}

void
graph_model_module_state (const GraphModel *model,
                          const char       *path,
                          GraphModuleState *state)
{
  g_return_if_fail (model != NULL && path != NULL && state != NULL);

  memset (state, 0, sizeof *state);
  for (int i = 0; i < model->n_nodes; i++)
    {
      const GraphModelNode *mn = &model->nodes[i];

      if (!graph_module_contains (path, mn->module))
        continue;
      switch (mn->kind)
        {
        case GRAPH_NODE_FUNCTION:
          state->functions++;
          state->done += mn->state == NODE_DONE;
          state->running += mn->state == NODE_RUNNING;
          state->active += mn->state == NODE_WAITING || mn->state == NODE_READY
                           || mn->state == NODE_RUNNING;
          break;
        case GRAPH_NODE_LEAF:
          state->params++;
          state->frozen += mn->frozen;
          state->with_grad += !mn->frozen && mn->grad_defined;
          break;
        case GRAPH_NODE_NONE:
        default:
          if (mn->frozen)
            {
              state->params++;
              state->frozen++;
            }
          break;
        }
    }
}

char *
graph_module_status_text (const GraphModuleState *state)
{
  int trainable = state->params - state->frozen;
  g_autofree char *grads = NULL;

  /* A backward going through it: how far it got. */
  if (state->active > 0)
    return g_strdup_printf (ngettext ("backward: %d of %d grad_fn run",
                                      "backward: %d of %d grad_fns run", state->functions),
                            state->done, state->functions);
  if (state->params == 0)
    return NULL;
  if (trainable == 0)
    return g_strdup (_("frozen: no .grad"));
  if (state->with_grad == 0)
    grads = g_strdup (".grad: None");
  else if (state->with_grad == trainable)
    grads = g_strdup (_(".grad: set"));
  else
    grads = g_strdup_printf (_(".grad: set on %d of %d"), state->with_grad, trainable);
  if (state->frozen == 0)
    return g_steal_pointer (&grads);
  return g_strdup_printf (ngettext ("%s · %d frozen", "%s · %d frozen", state->frozen), grads,
                          state->frozen);
}

static const char *
state_name (NodeState state)
{
  switch (state)
    {
    case NODE_WAITING: return _("waiting for gradients");
    case NODE_READY:   return _("ready: all gradients arrived, queued");
    case NODE_RUNNING: return _("running now");
    case NODE_DONE:    return _("done: ran in the last backward");
    case NODE_IDLE:
    default:           return NULL;
    }
}

static void
append (GString    *s,
        gboolean    markup,
        const char *format,
        ...) G_GNUC_PRINTF (3, 4);

/* Appends format with every %s argument escaped for markup when markup is set. */
static void
append (GString    *s,
        gboolean    markup,
        const char *format,
        ...)
{
  va_list args;

  va_start (args, format);
  if (markup)
    {
      g_autofree char *text = g_markup_vprintf_escaped (format, args);
      g_string_append (s, text);
    }
  else
    g_string_append_vprintf (s, format, args);
  va_end (args);
}

static const char *
bold_open (gboolean markup)
{
  return markup ? "<b>" : "";
}

static const char *
bold_close (gboolean markup)
{
  return markup ? "</b>" : "";
}

char *
graph_model_describe (const GraphModel *model,
                      int               i,
                      gboolean          markup)
{
  const GraphModelNode *mn;
  g_autofree char *status = NULL;
  GString *s;

  g_return_val_if_fail (model != NULL && i >= 0 && i < model->n_nodes, NULL);
  mn = &model->nodes[i];
  s = g_string_new (NULL);

  g_string_append (s, bold_open (markup));
  append (s, markup, "%s", mn->name);
  g_string_append (s, bold_close (markup));

  switch (mn->kind)
    {
    case GRAPH_NODE_LEAF:
      append (s, markup, _("\nleaf: %s %s"), mn->leaf_name ? mn->leaf_name : _("(unnamed tensor)"),
              mn->shape);
      append (s, markup, "\nrequires_grad=%s", mn->frozen ? _("False (frozen)") : "True");
      status = graph_model_status_text (model, i);
      append (s, markup, "\n%s", status);
      break;

    case GRAPH_NODE_NONE:
      {
        const GraphModelNode *owner = &model->nodes[mn->owner];

        append (s, markup, _("\nslot %d of %s’s next_functions"), mn->slot, owner->name);
        if (mn->frozen)
          append (s, markup, _("\n%s %s: a parameter with requires_grad=False (frozen)"),
                  mn->leaf_name, mn->shape ? mn->shape : "");
        else if (mn->shape != NULL)
          append (s, markup, _("\nan input %s that does not require grad"), mn->shape);
        else
          append (s, markup, _("\na Python number, not a tensor"));
      }
      break;

    case GRAPH_NODE_FUNCTION:
    default:
      if (mn->module[0] != '\0')
        append (s, markup, _("\nmodule: %s"), mn->module);
      append (s, markup, "\ngrad_output: %s", mn->shape);
      if (mn->n_edges > 0)
        append (s, markup, "\nnext_functions:");
      for (int j = 0; j < mn->n_edges; j++)
        {
          const GraphModelEdge *e = &model->edges[mn->first_edge + j];
          const GraphModelNode *t = &model->nodes[e->target];

          if (t->kind == GRAPH_NODE_LEAF)
            append (s, markup, "\n  %d: AccumulateGrad (%s) %s", j,
                    t->leaf_name ? t->leaf_name : _("leaf"), t->shape);
          else if (t->kind == GRAPH_NODE_NONE)
            {
              if (t->frozen)
                append (s, markup, _("\n  %d: None — frozen %s"), j, t->leaf_name);
              else
                append (s, markup, "\n  %d: None", j);
            }
          else
            append (s, markup, "\n  %d: %s %s", j, t->name,
                    mn->input_shapes[j] ? mn->input_shapes[j] : "");
          if (e->grad_norm > 0)
            append (s, markup, "  ‖grad‖ = %.3g", e->grad_norm);
        }
      if (mn->n_saved > 0 || mn->saves_buffer)
        {
          GString *names = g_string_new (NULL);

          for (int j = 0; j < mn->n_saved; j++)
            g_string_append_printf (names, "%s%s", j > 0 ? ", " : "", mn->saved_names[j]);
          if (mn->saves_buffer)
            g_string_append_printf (names, "%s%s", names->len > 0 ? ", " : "",
                                    mn->op == OP_MAX_POOL2D ? _("indices") : _("statistics"));
          if (mn->saved_freed && !mn->has_saved)
            append (s, markup, _("\nsaved: %s (freed by backward)"), names->str);
          else
            append (s, markup, _("\nsaved: %s"), names->str);
          g_string_free (names, TRUE);
        }
      else
        append (s, markup, _("\nsaved: nothing"));
      if (state_name (mn->state) != NULL)
        append (s, markup, _("\nstate: %s"), state_name (mn->state));
      status = graph_model_status_text (model, i);
      if (status != NULL)
        append (s, markup, " (%s)", status);
      break;
    }

  return g_string_free (s, FALSE);
}

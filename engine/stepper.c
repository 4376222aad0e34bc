/* stepper.c — a lesson on a worker thread, paused inside the autograd observer.
 *
 * One mutex guards the status, the command serial and the paused event. The worker
 * runs freely between pauses: the observer only reads two atomics (cancel, mode)
 * and the stops unless the event is one to pause at. A pause publishes the event,
 * wakes whoever waits for it (stepper_wait, the notification), and sleeps on
 * worker_cond until the command serial changes or the run is cancelled.
 *
 * Breakpoints have a mutex of their own (the UI sets them while the worker
 * runs) and an atomic count, so a lesson without any pays one load per line.
 */
#include "stepper.h"

#include <string.h>

#include <glib/gi18n-lib.h>

typedef enum
{
  MODE_STEP,            /* pause at the next event of the stops */
  MODE_LINE,            /* pause at the next line */
  MODE_PHASE,           /* pause at the next phase change */
  MODE_END,             /* no more pauses */
} RunMode;

struct _Stepper
{
  gint ref_count;       /* the owner's, plus one per pending notification */
  GMutex mutex;
  GCond worker_cond;    /* the worker waits here for a command */
  GCond control_cond;   /* stepper_wait waits here for a pause or the end */

  const Lesson *lesson;
  LessonParams params;
  LessonRun *run;
  GThread *thread;

  gint stops;           /* StepperStops, atomic */
  gint mode;            /* RunMode, atomic */
  gint cancel;          /* atomic: the run is being discarded */

  /* Under mutex. */
  StepperStatus status;
  guint64 serial;       /* one per command */
  StepperEvent event;
  bool has_event;
  gboolean ok;
  GError *error;

  /* Worker-owned while running; read by the controller while paused. */
  GPtrArray *nodes;     /* of Node *, referenced */
  guint64 n_events;

  GMainContext *context;
  StepperNotify notify; /* cleared by stepper_free, under mutex */
  gpointer user_data;
  StepperEventHook hook;
  gpointer hook_data;

  GMutex breakpoints_mutex;
  GHashTable *breakpoints;  /* line (GINT_TO_POINTER) -> itself; under breakpoints_mutex */
  gint n_breakpoints;       /* atomic: g_hash_table_size (breakpoints) */
};

/* --- Words ------------------------------------------------------------------- */

static const char *const event_kind_names[] = {
  [EVENT_NODE_RECORDED] = "node_recorded",
  [EVENT_BACKWARD_BEGIN] = "backward_begin",
  [EVENT_NODE_BEGIN] = "node_begin",
  [EVENT_NODE_END] = "node_end",
  [EVENT_GRAD_ACCUMULATED] = "grad_accumulated",
  [EVENT_BACKWARD_END] = "backward_end",
  [EVENT_GRAPH_FREED] = "graph_freed",
  [EVENT_GRADS_ZEROED] = "grads_zeroed",
  [EVENT_PARAM_UPDATED] = "param_updated",
  [EVENT_MODULE_ENTER] = "module_enter",
  [EVENT_MODULE_LEAVE] = "module_leave",
  [EVENT_LINE] = "line",
  [EVENT_PHASE] = "phase",
  [EVENT_ANOMALY] = "anomaly",
};
_Static_assert (G_N_ELEMENTS (event_kind_names) == EVENT_COUNT, "one name per EventKind");

const char *
event_kind_name (EventKind kind)
{
  g_return_val_if_fail (kind < EVENT_COUNT, "?");
  return event_kind_names[kind];
}

/* What each next_functions slot of an op is the gradient for, in words (marked
 * with N_(), translated where a sentence takes them). */
static const char *const slot_names[OP_COUNT][NODE_MAX_EDGES] = {
  [OP_ACCUMULATE_GRAD] = { NULL },
  [OP_ADD] = { N_("left operand"), N_("right operand") },
  [OP_SUB] = { N_("left operand"), N_("right operand") },
  [OP_RSUB] = { N_("input") },
  [OP_MUL] = { N_("left operand"), N_("right operand") },
  [OP_DIV] = { N_("numerator"), N_("denominator") },
  [OP_NEG] = { N_("input") },
  [OP_POW] = { N_("input") },
  [OP_EXP] = { N_("input") },
  [OP_LOG] = { N_("input") },
  [OP_RELU] = { N_("input") },
  [OP_SUM] = { N_("input") },
  [OP_SUM_DIM] = { N_("input") },
  [OP_MEAN] = { N_("input") },
  [OP_MEAN_DIM] = { N_("input") },
  [OP_VIEW] = { N_("input") },
  [OP_T] = { N_("input") },
  [OP_MM] = { N_("left matrix"), N_("right matrix") },
  [OP_ADDMM] = { N_("bias"), N_("input"), N_("transposed weight") },
  [OP_NORM] = { N_("input") },
  [OP_CONV2D] = { N_("input"), N_("weight"), N_("bias") },
  [OP_BATCH_NORM] = { N_("input"), N_("weight"), N_("bias") },
  [OP_MAX_POOL2D] = { N_("input") },
  [OP_SIN] = { N_("input") },
  [OP_COS] = { N_("input") },
  [OP_TANH] = { N_("input") },
  [OP_SIGMOID] = { N_("input") },
  [OP_SQRT] = { N_("input") },
  [OP_ABS] = { N_("input") },
  [OP_CLAMP] = { N_("input") },
  [OP_RECIPROCAL] = { N_("input") },
  [OP_POW_TENSOR] = { N_("base"), N_("exponent") },
  [OP_POW_SCALAR_BASE] = { N_("exponent") },
  [OP_SOFTMAX] = { N_("input") },
  [OP_LOG_SOFTMAX] = { N_("input") },
  [OP_MAX] = { N_("input") },
  [OP_MIN] = { N_("input") },
  [OP_MAX_DIM] = { N_("input") },
  [OP_MIN_DIM] = { N_("input") },
  [OP_MSE_LOSS] = { N_("input"), N_("target") },
  [OP_NLL_LOSS] = { N_("input") },
  [OP_UNSQUEEZE] = { N_("input") },
  [OP_SQUEEZE] = { N_("input") },
  [OP_SQUEEZE_DIM] = { N_("input") },
  [OP_SQUEEZE_DIM_INPLACE] = { N_("input") },
  [OP_TRANSPOSE] = { N_("input") },
  [OP_PERMUTE] = { N_("input") },
  [OP_EXPAND] = { N_("input") },
  [OP_SELECT] = { N_("input") },
  [OP_SLICE] = { N_("input") },
  [OP_CLONE] = { N_("input") },
  [OP_CAT] = { N_("tensor 0"), N_("tensor 1"), N_("tensor 2"), N_("tensor 3"),
               N_("tensor 4"), N_("tensor 5"), N_("tensor 6") },
  [OP_STACK] = { N_("tensor 0"), N_("tensor 1"), N_("tensor 2"), N_("tensor 3"),
                 N_("tensor 4"), N_("tensor 5"), N_("tensor 6") },
  [OP_MV] = { N_("matrix"), N_("vector") },
  [OP_DOT] = { N_("left vector"), N_("right vector") },
  [OP_BMM] = { N_("left batch"), N_("right batch") },
  [OP_UNSAFE_VIEW] = { N_("input") },
  [OP_INDEX] = { N_("input") },
  [OP_INDEX_PUT] = { N_("input"), N_("assigned values") },
  [OP_COPY_SLICES] = { N_("input"), N_("assigned values") },
};

static const char *const phase_sentences[] = {
  [LESSON_PHASE_FORWARD] = N_("Forward pass: each op computes its result and records its grad_fn"),
  [LESSON_PHASE_BACKWARD] = N_("Backward pass: gradients flow from the output back to the leaves"),
  [LESSON_PHASE_OPTIMIZER] = N_("Optimizer step: SGD moves every parameter that has a .grad"),
  [LESSON_PHASE_ZERO_GRAD] = N_("zero_grad: the parameters' .grad are set to None"),
  [LESSON_PHASE_DONE] = N_("The lesson finished"),
};
_Static_assert (G_N_ELEMENTS (phase_sentences) == LESSON_PHASE_COUNT, "one per LessonPhase");

static const char *
leaf_name (LessonRun *run, const Tensor *t)
{
  const char *name = run ? lesson_run_tensor_name (run, t) : NULL;
  if (name == NULL && t)
    name = t->name;
  return name ? name : _("a leaf");
}

/* The slots' words as one phrase: "input", "left operand and right operand",
 * "bias, input and transposed weight" (cat and stack name up to seven). */
static char *
slot_list (const char *const *items, int n)
{
  g_autofree char *list = NULL;

  if (n == 0)
    return g_strdup ("");
  list = g_strdup (_(items[0]));
  for (int i = 1; i < n; i++)
    {
      char *longer = i < n - 1
        /* Translators: a list of an op's inputs, continued: "bias, input". */
        ? g_strdup_printf (_("%s, %s"), list, _(items[i]))
        /* Translators: the last input of the list, as in "the gradient of its left
         * operand and right operand" or "of its bias, input and transposed weight". */
        : g_strdup_printf (_("%s and %s"), list, _(items[i]));

      g_free (list);
      list = longer;
    }
  return g_steal_pointer (&list);
}

/* Each event is one whole sentence for the translators, with or without the
 * module it ran in, so a translation can put every piece where its grammar
 * wants it. */
char *
stepper_describe_event (const Event *ev, LessonRun *run)
{
  g_return_val_if_fail (ev != NULL, NULL);
  const Node *node = ev->node;
  const char *module = node && node->module && *node->module ? node->module : NULL;

  switch (ev->kind)
    {
    case EVENT_NODE_RECORDED:
      {
        g_autofree char *shape = shape_to_size_list (node->out_ndim, node->out_shape);
        g_autoptr (GString) next = g_string_new (NULL);

        if (node->op == OP_ACCUMULATE_GRAD)
          {
            const char *name = leaf_name (run, node->variable);
            /* Translators: %1$s names a leaf tensor (a, w, conv1.weight), %2$s is its
             * torch.Size, like [2, 3]. */
            return g_strdup_printf (_("AccumulateGrad created for %1$s (shape %2$s): backward "
                                      "will put its gradient in %1$s.grad"), name, shape);
          }
        for (int i = 0; i < node->n_next; i++)
          g_string_append_printf (next, "%s%s", i ? ", " : "",
                                  node->next[i].node ? node_name (node->next[i].node) : "None");
        if (module != NULL)
          /* Translators: %1$s is a grad_fn (MulBackward0), %2$s the module it ran in
           * (layer1.0.conv1), %3$s a torch.Size, %4$s the grad_fns it points to. */
          return g_strdup_printf (_("%1$s recorded for %2$s: the grad_fn of a new tensor of "
                                    "shape %3$s; next_functions (%4$s)"),
                                  node_name (node), module, shape, next->str);
        return g_strdup_printf (_("%1$s recorded: the grad_fn of a new tensor of shape %2$s; "
                                  "next_functions (%3$s)"), node_name (node), shape, next->str);
      }

    case EVENT_BACKWARD_BEGIN:
      {
        const char *name = run ? lesson_run_tensor_name (run, ev->tensor) : NULL;
        /* Translators: %1$s is a Python variable (loss, Q), %2$s a grad_fn. */
        return g_strdup_printf (_("%1$s.backward(): the engine counts the gradients each node "
                                  "will receive and starts at %2$s"),
                                name ? name : "output", node ? node_name (node) : _("its grad_fn"));
      }

    case EVENT_NODE_BEGIN:
      if (module != NULL)
        /* Translators: %1$s is a grad_fn, %2$s the module it ran in. */
        return g_strdup_printf (_("%1$s for %2$s has received all its gradients and runs"),
                                node_name (node), module);
      return g_strdup_printf (_("%s has received all its gradients and runs"), node_name (node));

    case EVENT_NODE_END:
      if (node->op == OP_ACCUMULATE_GRAD)
        return g_strdup_printf (_("AccumulateGrad for %s ran"), leaf_name (run, node->variable));
      {
        const char *items[NODE_MAX_EDGES];
        g_autofree char *slots = NULL;
        int n = 0;

        for (int i = 0; i < node->n_next; i++)
          if (node->next[i].node && slot_names[node->op][i])
            items[n++] = slot_names[node->op][i];
        slots = slot_list (items, n);
        if (module != NULL)
          /* Translators: %1$s is a grad_fn, %2$s its module, %3$s its inputs
           * ("left operand and right operand"). */
          return g_strdup_printf (_("%1$s for %2$s computed the gradient of its %3$s"),
                                  node_name (node), module, slots);
        /* Translators: %1$s is a grad_fn, %2$s its inputs ("left operand and right operand"). */
        return g_strdup_printf (_("%1$s computed the gradient of its %2$s"), node_name (node),
                                slots);
      }

    case EVENT_GRAD_ACCUMULATED:
      {
        const char *name = leaf_name (run, ev->tensor);
        int passes = ev->tensor ? ev->tensor->grad_passes : 1;

        if (passes <= 1)
          return g_strdup_printf (_("AccumulateGrad stored the gradient in %s.grad"), name);
        /* Translators: %1$s names a leaf tensor; %2$d ≥ 2. */
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "AccumulateGrad added the gradient to %1$s.grad "
                                             "(now the sum of %2$d backward pass)",
                                             "AccumulateGrad added the gradient to %1$s.grad "
                                             "(now the sum of %2$d backward passes)", passes),
                                name, passes);
      }

    case EVENT_BACKWARD_END:
      if (ev->text != NULL)
        /* Translators: %1$s is the grad_fn backward failed at (SubBackward0), %2$s
         * PyTorch's own message, which stays in English as PyTorch prints it. */
        return g_strdup_printf (_("Backward failed at %1$s: %2$s"),
                                node ? node_name (node) : "?", ev->text);
      return g_strdup (_("Backward finished"));

    case EVENT_GRAPH_FREED:
      return g_strdup (_("The graph's saved tensors were freed (no retain_graph=True): "
                         "it cannot run backward again"));

    case EVENT_GRADS_ZEROED:
      if (ev->tensor)
        return g_strdup_printf (_("optim.zero_grad() set %s.grad to None"),
                                leaf_name (run, ev->tensor));
      return g_strdup (_("optim.zero_grad() set every parameter's .grad to None"));

    case EVENT_PARAM_UPDATED:
      {
        const char *name = leaf_name (run, ev->tensor);

        if (run && lesson_run_get_params (run)->momentum != 0)
          /* Translators: %1$s names a parameter (fc.weight); the formula stays as it is. */
          return g_strdup_printf (_("SGD updated %1$s: %1$s -= lr · its momentum buffer"), name);
        /* Translators: %1$s names a parameter (fc.weight); the formula stays as it is. */
        return g_strdup_printf (_("SGD updated %1$s: %1$s -= lr · its .grad"), name);
      }

    case EVENT_MODULE_ENTER:
    case EVENT_MODULE_LEAVE:
      {
        const char *kind = run ? lesson_run_module_kind (run, ev->module) : NULL;
        const char *model = run ? lesson_run_get_model_name (run) : NULL;
        const char *path = ev->module && *ev->module ? ev->module : model ? model : "model";
        gboolean enter = ev->kind == EVENT_MODULE_ENTER;

        if (kind)
          /* Translators: %1$s is a module's path (layer1.0), %2$s its class (BasicBlock). */
          return g_strdup_printf (enter ? _("Entering %1$s (%2$s)") : _("Leaving %1$s (%2$s)"),
                                  path, kind);
        return g_strdup_printf (enter ? _("Entering %s") : _("Leaving %s"), path);
      }

    case EVENT_LINE:
      {
        g_autofree char *text = g_strdup (run ? lesson_run_get_source_line (run, ev->line)
                                              : ev->text ? ev->text : "");
        /* Translators: %1$d is a line number, %2$s that line of the Python program. */
        return g_strdup_printf (_("Line %1$d: %2$s"), ev->line, g_strstrip (text));
      }

    case EVENT_PHASE:
      return g_strdup (ev->line >= 0 && ev->line < LESSON_PHASE_COUNT
                         ? _(phase_sentences[ev->line]) : "?");

    case EVENT_ANOMALY:
      /* Translators: %s says what went wrong, as the engine reports it. */
      return g_strdup_printf (_("Anomaly: %s"), ev->text ? ev->text : _("a NaN or an Inf"));

    case EVENT_COUNT:
    default:
      return g_strdup ("?");
    }
}

/* --- The trace ---------------------------------------------------------------- */

static void
json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const unsigned char *p = (const unsigned char *) str; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (s, "\\%c", *p);
      else if (*p == '\n')
        g_string_append (s, "\\n");
      else if (*p < 0x20)
        g_string_append_printf (s, "\\u%04x", *p);
      else
        g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

char *
stepper_event_to_json (const Event *ev, LessonRun *run, guint64 index)
{
  GString *s = g_string_new (NULL);
  LessonPhase phase = run ? lesson_run_get_phase (run) : LESSON_PHASE_FORWARD;
  if (ev->kind == EVENT_PHASE)
    phase = (LessonPhase) ev->line;
  g_string_append_printf (s, "{\"i\": %" G_GUINT64_FORMAT ", \"phase\": \"%s\", \"kind\": \"%s\"",
                          index, lesson_phase_name (phase), event_kind_name (ev->kind));
  int line = ev->kind == EVENT_LINE ? ev->line : run ? lesson_run_get_line (run) : 0;
  g_string_append_printf (s, ", \"line\": %d", line);
  if (ev->node)
    {
      g_string_append_printf (s, ", \"node\": %" G_GUINT64_FORMAT ", \"grad_fn\": ",
                              ev->node->id);
      json_string (s, node_name (ev->node));
    }
  const char *module = ev->node ? ev->node->module : ev->module;
  if (module && (ev->node || ev->kind == EVENT_MODULE_ENTER || ev->kind == EVENT_MODULE_LEAVE))
    {
      g_string_append (s, ", \"module\": ");
      json_string (s, module);
    }
  const Tensor *t = ev->tensor;
  if (t == NULL && ev->node && ev->node->op == OP_ACCUMULATE_GRAD)
    t = ev->node->variable;
  const char *name = t && run ? lesson_run_tensor_name (run, t) : t ? t->name : NULL;
  if (name)
    {
      g_string_append (s, ", \"tensor\": ");
      json_string (s, name);
    }
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* --- The worker ----------------------------------------------------------------- */

static Stepper *
stepper_ref (Stepper *s)
{
  g_atomic_int_inc (&s->ref_count);
  return s;
}

static void
stepper_event_clear (StepperEvent *e)
{
  g_clear_pointer (&e->node, node_unref);
  g_clear_pointer (&e->tensor, tensor_unref);
  g_clear_pointer (&e->sentence, g_free);
  memset (e, 0, sizeof *e);
}

static void
stepper_unref (Stepper *s)
{
  if (!g_atomic_int_dec_and_test (&s->ref_count))
    return;
  g_assert (s->thread == NULL);
  stepper_event_clear (&s->event);
  g_mutex_clear (&s->mutex);
  g_cond_clear (&s->worker_cond);
  g_cond_clear (&s->control_cond);
  if (s->context)
    g_main_context_unref (s->context);
  g_mutex_clear (&s->breakpoints_mutex);
  g_hash_table_unref (s->breakpoints);
  lesson_params_clear (&s->params);
  g_free (s);
}

static gboolean
notify_dispatch (gpointer data)
{
  Stepper *s = data;
  g_mutex_lock (&s->mutex);
  StepperNotify notify = s->notify;
  gpointer user_data = s->user_data;
  g_mutex_unlock (&s->mutex);
  if (notify)
    notify (s, user_data);
  return G_SOURCE_REMOVE;
}

/* An idle source in the controller's context, not g_main_context_invoke: with the
 * global default context, invoke would run the callback right here on the worker
 * whenever it can acquire that context (no main loop running yet). */
static void
schedule_notify (Stepper *s)
{
  if (s->context == NULL)
    return;
  /* stepper_free clears notify under the mutex while the worker may be here. */
  g_mutex_lock (&s->mutex);
  bool wanted = s->notify != NULL;
  g_mutex_unlock (&s->mutex);
  if (!wanted)
    return;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, notify_dispatch, stepper_ref (s), (GDestroyNotify) stepper_unref);
  g_source_set_static_name (source, "[gradlens] stepper notify");
  g_source_attach (source, s->context);
  g_source_unref (source);
}

static StepperStops
event_stop (const Event *ev)
{
  switch (ev->kind)
    {
    case EVENT_LINE:
      return STEPPER_STOP_LINE;
    case EVENT_MODULE_ENTER:
    case EVENT_MODULE_LEAVE:
      return STEPPER_STOP_MODULE;
    case EVENT_NODE_RECORDED:
      return STEPPER_STOP_OP;
    case EVENT_NODE_END:
      /* An AccumulateGrad pauses once, when .grad has been updated. */
      return ev->node->op == OP_ACCUMULATE_GRAD ? 0 : STEPPER_STOP_BACKWARD_NODE;
    case EVENT_GRAD_ACCUMULATED:
      return STEPPER_STOP_BACKWARD_NODE;
    case EVENT_PARAM_UPDATED:
    case EVENT_GRADS_ZEROED:
      return STEPPER_STOP_OPTIMIZER;
    case EVENT_PHASE:
      return STEPPER_STOP_PHASE;
    case EVENT_ANOMALY:
      return STEPPER_STOP_ANOMALY;
    default:
      return 0;
    }
}

/* Publish the event, then sleep until the next command. FALSE: cancelled. */
static gboolean
stepper_pause (Stepper *s, const Event *ev, guint64 index, gboolean breakpoint)
{
  StepperEvent paused = {
    .kind = ev->kind,
    .node = ev->node ? node_ref (ev->node) : NULL,
    .tensor = ev->tensor ? tensor_ref (ev->tensor) : NULL,
    .module = ev->node ? ev->node->module : ev->module ? ev->module : "",
    .line = lesson_run_get_line (s->run),
    .phase = lesson_run_get_phase (s->run),
    .index = index,
    .sentence = stepper_describe_event (ev, s->run),
    .breakpoint = breakpoint,
  };

  g_mutex_lock (&s->mutex);
  stepper_event_clear (&s->event);
  s->event = paused;
  s->has_event = true;
  s->status = STEPPER_PAUSED;
  guint64 serial = s->serial;
  g_cond_broadcast (&s->control_cond);
  g_mutex_unlock (&s->mutex);

  schedule_notify (s);

  g_mutex_lock (&s->mutex);
  while (s->serial == serial && !g_atomic_int_get (&s->cancel))
    g_cond_wait (&s->worker_cond, &s->mutex);
  gboolean go_on = !g_atomic_int_get (&s->cancel);
  s->status = STEPPER_RUNNING;
  g_mutex_unlock (&s->mutex);
  return go_on;
}

/* A new forward pass: forget the nodes only this list still holds (graphs whose
 * tensors are gone), so a long training run does not keep every step's graph.
 * Newest first: a consumer lets go of its inputs before they are looked at. */
static void
stepper_prune_nodes (Stepper *s)
{
  for (guint i = s->nodes->len; i > 0; i--)
    {
      Node *node = g_ptr_array_index (s->nodes, i - 1);
      if (g_atomic_int_get (&node->ref_count) == 1)
        g_ptr_array_remove_index (s->nodes, i - 1);
    }
}

static gboolean
stepper_observe (const Event *ev, gpointer data)
{
  Stepper *s = data;
  guint64 index = s->n_events++;

  if (ev->kind == EVENT_NODE_RECORDED)
    g_ptr_array_add (s->nodes, node_ref (ev->node));
  else if (ev->kind == EVENT_PHASE && ev->line == LESSON_PHASE_FORWARD && s->nodes->len > 0)
    stepper_prune_nodes (s);
  if (s->hook)
    s->hook (ev, s->run, index, s->hook_data);

  if (G_UNLIKELY (g_atomic_int_get (&s->cancel)))
    return FALSE;
  /* An anomaly is a breakpoint: it pauses in every mode when it is among the stops. */
  if (G_UNLIKELY (ev->kind == EVENT_ANOMALY)
      && (g_atomic_int_get (&s->stops) & STEPPER_STOP_ANOMALY))
    return stepper_pause (s, ev, index, FALSE);
  /* A breakpoint's line pauses in every mode, MODE_END too. */
  if (ev->kind == EVENT_LINE && g_atomic_int_get (&s->n_breakpoints) > 0
      && stepper_has_breakpoint (s, ev->line))
    return stepper_pause (s, ev, index, TRUE);
  bool pause;
  switch (g_atomic_int_get (&s->mode))
    {
    case MODE_END:
      return TRUE;
    case MODE_LINE:
      pause = ev->kind == EVENT_LINE;
      break;
    case MODE_PHASE:
      pause = ev->kind == EVENT_PHASE;
      break;
    case MODE_STEP:
    default:
      pause = (event_stop (ev) & g_atomic_int_get (&s->stops)) != 0;
      break;
    }
  if (!pause)
    return TRUE;
  return stepper_pause (s, ev, index, FALSE);
}

static gpointer
stepper_worker (gpointer data)
{
  Stepper *s = data;
  GError *error = NULL;

  autograd_set_observer (stepper_observe, s);
  autograd_set_cancel_flag (&s->cancel);
  /* Breaking at anomalies needs anomaly mode: asking for it turns it on. */
  anomaly_mode_set_enabled ((g_atomic_int_get (&s->stops) & STEPPER_STOP_ANOMALY) != 0);
  gboolean ok = lesson_run_execute (s->run, &error);
  autograd_set_observer (NULL, NULL);
  autograd_set_cancel_flag (NULL);

  LessonPhase phase = lesson_run_get_phase (s->run);
  StepperEvent done = {
    .kind = EVENT_PHASE,
    .module = "",
    .line = lesson_run_get_line (s->run),
    .phase = phase,
    .index = s->n_events,
    .sentence = ok ? g_strdup (_(phase_sentences[LESSON_PHASE_DONE]))
                   : g_strdup_printf (_("The lesson stopped: %s"), error->message),
  };

  g_mutex_lock (&s->mutex);
  stepper_event_clear (&s->event);
  s->event = done;
  s->has_event = true;
  s->ok = ok;
  s->error = error;
  s->status = STEPPER_FINISHED;
  g_cond_broadcast (&s->control_cond);
  g_mutex_unlock (&s->mutex);

  if (!g_atomic_int_get (&s->cancel))
    schedule_notify (s);
  return NULL;
}

/* --- Life cycle ------------------------------------------------------------------ */

static void
stepper_prepare (Stepper *s)
{
  s->run = lesson_run_new (s->lesson, &s->params);
  s->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_unref);
  s->n_events = 0;
  s->status = STEPPER_READY;
  s->serial = 0;
  s->ok = FALSE;
  g_atomic_int_set (&s->mode, MODE_STEP);
  g_atomic_int_set (&s->cancel, 0);
}

/* Cancel the worker, join it, free the run. */
static void
stepper_discard (Stepper *s)
{
  if (s->thread)
    {
      g_mutex_lock (&s->mutex);
      g_atomic_int_set (&s->cancel, 1);
      g_cond_broadcast (&s->worker_cond);
      g_mutex_unlock (&s->mutex);
      g_thread_join (s->thread);
      s->thread = NULL;
    }
  g_mutex_lock (&s->mutex);
  stepper_event_clear (&s->event);
  s->has_event = false;
  g_clear_error (&s->error);
  g_mutex_unlock (&s->mutex);
  /* The graph first (nodes hold parameters), then the variables. */
  g_clear_pointer (&s->nodes, g_ptr_array_unref);
  g_clear_pointer (&s->run, lesson_run_free);
}

Stepper *
stepper_new (const Lesson *lesson, const LessonParams *params, StepperStops stops,
             GMainContext *context, StepperNotify notify, gpointer user_data)
{
  g_return_val_if_fail (lesson != NULL, NULL);

  Stepper *s = g_new0 (Stepper, 1);
  s->ref_count = 1;
  g_mutex_init (&s->mutex);
  g_cond_init (&s->worker_cond);
  g_cond_init (&s->control_cond);
  g_mutex_init (&s->breakpoints_mutex);
  s->breakpoints = g_hash_table_new (NULL, NULL);
  s->lesson = lesson;
  if (params)
    lesson_params_copy (&s->params, params);
  else
    lesson_params_init (&s->params);
  s->stops = (gint) stops;
  s->context = context ? g_main_context_ref (context) : NULL;
  s->notify = notify;
  s->user_data = user_data;
  stepper_prepare (s);
  return s;
}

void
stepper_free (Stepper *s)
{
  if (s == NULL)
    return;
  g_mutex_lock (&s->mutex);
  s->notify = NULL;
  g_mutex_unlock (&s->mutex);
  stepper_discard (s);
  stepper_unref (s);
}

void
stepper_reset (Stepper *s, const LessonParams *params)
{
  g_return_if_fail (s != NULL);
  stepper_discard (s);
  if (params)
    {
      lesson_params_clear (&s->params);
      lesson_params_copy (&s->params, params);
    }
  stepper_prepare (s);
}

void
stepper_set_stops (Stepper *s, StepperStops stops)
{
  g_atomic_int_set (&s->stops, (gint) stops);
}

StepperStops
stepper_get_stops (Stepper *s)
{
  return (StepperStops) g_atomic_int_get (&s->stops);
}

void
stepper_set_event_hook (Stepper *s, StepperEventHook hook, gpointer user_data)
{
  g_return_if_fail (s->thread == NULL);
  s->hook = hook;
  s->hook_data = user_data;
}

void
stepper_set_breakpoints (Stepper *s, const int *lines, guint n)
{
  g_return_if_fail (s != NULL);
  g_return_if_fail (lines != NULL || n == 0);

  g_mutex_lock (&s->breakpoints_mutex);
  g_hash_table_remove_all (s->breakpoints);
  for (guint i = 0; i < n; i++)
    if (lines[i] > 0)
      g_hash_table_add (s->breakpoints, GINT_TO_POINTER (lines[i]));
  g_atomic_int_set (&s->n_breakpoints, (gint) g_hash_table_size (s->breakpoints));
  g_mutex_unlock (&s->breakpoints_mutex);
}

gboolean
stepper_has_breakpoint (Stepper *s, int line)
{
  g_return_val_if_fail (s != NULL, FALSE);

  g_mutex_lock (&s->breakpoints_mutex);
  gboolean found = line > 0 && g_hash_table_contains (s->breakpoints, GINT_TO_POINTER (line));
  g_mutex_unlock (&s->breakpoints_mutex);
  return found;
}

guint
stepper_get_n_breakpoints (Stepper *s)
{
  g_return_val_if_fail (s != NULL, 0);

  return (guint) g_atomic_int_get (&s->n_breakpoints);
}

static void
stepper_command (Stepper *s, RunMode mode)
{
  g_return_if_fail (s != NULL);
  g_mutex_lock (&s->mutex);
  if (s->status == STEPPER_FINISHED)
    {
      g_mutex_unlock (&s->mutex);
      return;
    }
  g_atomic_int_set (&s->mode, mode);
  s->status = STEPPER_RUNNING;
  s->serial++;
  if (s->thread == NULL)
    s->thread = g_thread_new ("gradlens-lesson", stepper_worker, s);
  g_cond_broadcast (&s->worker_cond);
  g_mutex_unlock (&s->mutex);
}

void
stepper_step (Stepper *s)
{
  stepper_command (s, MODE_STEP);
}

void
stepper_run_to_line_end (Stepper *s)
{
  stepper_command (s, MODE_LINE);
}

void
stepper_run_to_phase_end (Stepper *s)
{
  stepper_command (s, MODE_PHASE);
}

void
stepper_run_to_end (Stepper *s)
{
  stepper_command (s, MODE_END);
}

StepperStatus
stepper_wait (Stepper *s)
{
  g_mutex_lock (&s->mutex);
  while (s->status == STEPPER_RUNNING)
    g_cond_wait (&s->control_cond, &s->mutex);
  StepperStatus status = s->status;
  g_mutex_unlock (&s->mutex);
  return status;
}

StepperStatus
stepper_step_sync (Stepper *s)
{
  stepper_step (s);
  return stepper_wait (s);
}

StepperStatus
stepper_run_to_line_end_sync (Stepper *s)
{
  stepper_run_to_line_end (s);
  return stepper_wait (s);
}

StepperStatus
stepper_run_to_phase_end_sync (Stepper *s)
{
  stepper_run_to_phase_end (s);
  return stepper_wait (s);
}

StepperStatus
stepper_run_to_end_sync (Stepper *s)
{
  stepper_run_to_end (s);
  return stepper_wait (s);
}

StepperStatus
stepper_run_to_phase_sync (Stepper *s, LessonPhase phase)
{
  for (;;)
    {
      StepperStatus status = stepper_run_to_phase_end_sync (s);
      if (status != STEPPER_PAUSED)
        return status;
      if (s->event.kind == EVENT_PHASE && lesson_run_get_phase (s->run) == phase)
        return status;
    }
}

/* --- State ---------------------------------------------------------------------- */

StepperStatus
stepper_get_status (Stepper *s)
{
  g_mutex_lock (&s->mutex);
  StepperStatus status = s->status;
  g_mutex_unlock (&s->mutex);
  return status;
}

LessonPhase
stepper_get_phase (Stepper *s)
{
  return lesson_run_get_phase (s->run);
}

int
stepper_get_line (Stepper *s)
{
  return lesson_run_get_line (s->run);
}

const StepperEvent *
stepper_get_event (Stepper *s)
{
  return s->has_event ? &s->event : NULL;
}

GPtrArray *
stepper_get_nodes (Stepper *s)
{
  return s->nodes;
}

LessonRun *
stepper_get_run (Stepper *s)
{
  return s->run;
}

guint64
stepper_get_n_events (Stepper *s)
{
  return s->n_events;
}

gboolean
stepper_get_result (Stepper *s, GError **error)
{
  g_mutex_lock (&s->mutex);
  gboolean finished = s->status == STEPPER_FINISHED;
  gboolean ok = s->ok;
  if (finished && !ok && s->error)
    g_propagate_error (error, g_error_copy (s->error));
  g_mutex_unlock (&s->mutex);
  return finished && ok;
}

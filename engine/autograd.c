/* autograd.c — recording nodes, PyTorch's backward engine, and events. */
#include "autograd.h"
#include "ops.h"
#include "parallel.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (autograd-error-quark, autograd_error)

/* Per-thread state, as in PyTorch: grad mode, anomaly mode, the observer and the
 * module stack belong to the thread that runs the computation. */
static _Thread_local bool grad_disabled;
static _Thread_local bool anomaly_enabled;
static _Thread_local EventFn observer_fn;
static _Thread_local const gint *cancel_flag;   /* autograd_set_cancel_flag */
static _Thread_local gpointer observer_data;
static _Thread_local GPtrArray *module_stack;   /* of interned paths */
/* Anomaly mode only: the output autograd_record gave the node autograd_commit will
 * announce (borrowed; the op holds it in between). */
static _Thread_local Node *pending_node;
static _Thread_local Tensor *pending_out;
/* The thread's first anomaly (Anomaly *), freed with the thread. */
static GPrivate first_anomaly = G_PRIVATE_INIT ((GDestroyNotify) anomaly_free);

/* Sequence numbers count per thread, like PyTorch's (at::sequence_number is
 * thread_local): a program run on a fresh thread, as the stepper runs each
 * run, numbers its nodes from 0, as a fresh PyTorch process would. Ids are
 * unique across threads. */
static _Thread_local uint64_t next_seq;
static gint next_id;
static gint live_nodes;

gint
node_live_count (void)
{
  return g_atomic_int_get (&live_nodes);
}

bool
grad_mode_is_enabled (void)
{
  return !grad_disabled;
}

bool
grad_mode_set_enabled (bool enabled)
{
  bool previous = !grad_disabled;
  grad_disabled = !enabled;
  return previous;
}

bool
anomaly_mode_is_enabled (void)
{
  return anomaly_enabled;
}

bool
anomaly_mode_set_enabled (bool enabled)
{
  bool previous = anomaly_enabled;
  anomaly_enabled = enabled;
  return previous;
}

/* --- Anomalies ------------------------------------------------------------ */

void
anomaly_free (Anomaly *anomaly)
{
  if (anomaly == NULL)
    return;
  g_clear_pointer (&anomaly->node, node_unref);
  g_free (anomaly->message);
  g_free (anomaly);
}

const Anomaly *
anomaly_get_first (void)
{
  return g_private_get (&first_anomaly);
}

Anomaly *
anomaly_steal_first (void)
{
  Anomaly *anomaly = g_private_get (&first_anomaly);
  g_private_set (&first_anomaly, NULL);
  return anomaly;
}

void
anomaly_clear (void)
{
  anomaly_free (anomaly_steal_first ());
}

/* Only called once t is known to hold a NaN or an Inf. */
static void
count_not_finite (const Tensor *t, int64_t *n_nan, int64_t *n_inf)
{
  *n_nan = *n_inf = 0;
  for (int64_t i = 0; i < t->numel; i++)
    {
      float v = t->data[i];
      if (isnan (v))
        (*n_nan)++;
      else if (isinf (v))
        (*n_inf)++;
    }
}

/* Remember the thread's first anomaly, node's output (backward: its gradient for
 * input slot) t, and tell the observer. */
static const Anomaly *
anomaly_report (Node *node, Tensor *t, bool backward, int slot)
{
  Anomaly *a = g_new0 (Anomaly, 1);
  a->node = node_ref (node);
  a->backward = backward;
  a->slot = slot;
  a->numel = t->numel;
  count_not_finite (t, &a->n_nan, &a->n_inf);
  const char *what = a->n_nan && a->n_inf ? "nan and inf" : a->n_nan ? "nan" : "inf";
  g_autofree char *where = backward ? g_strdup_printf ("its gradient for input %d", slot)
                                    : g_strdup ("its output");
  a->message = g_strdup_printf ("%s%s%s produced %s in %s (%" G_GINT64_FORMAT " of %"
                                G_GINT64_FORMAT " values)",
                                node_name (node), *node->module ? " in " : "", node->module,
                                what, where, a->n_nan + a->n_inf, a->numel);
  g_private_replace (&first_anomaly, a);
  autograd_emit (&(Event){ .kind = EVENT_ANOMALY, .node = node, .tensor = t,
                           .module = node->module, .text = a->message });
  return a;
}

/* Forward: the output of the node just recorded, unless an anomaly came before. */
static void
anomaly_check_output (Node *node)
{
  Tensor *out = pending_node == node ? pending_out : NULL;
  pending_node = NULL;
  pending_out = NULL;
  if (out == NULL || g_private_get (&first_anomaly) != NULL || tensor_all_finite (out))
    return;
  anomaly_report (node, out, false, 0);
}

void
autograd_set_observer (EventFn fn, gpointer user_data)
{
  observer_fn = fn;
  observer_data = user_data;
}

bool
autograd_has_observer (void)
{
  return observer_fn != NULL;
}

void
autograd_set_cancel_flag (const gint *flag)
{
  cancel_flag = flag;
}

bool
autograd_cancel_requested (void)
{
  return cancel_flag != NULL && g_atomic_int_get (cancel_flag) != 0;
}

gboolean
autograd_emit (const Event *event)
{
  if (G_LIKELY (observer_fn == NULL))
    return TRUE;
  return observer_fn (event, observer_data);
}

/* --- Modules ------------------------------------------------------------- */

void
autograd_module_push (const char *path)
{
  if (module_stack == NULL)
    module_stack = g_ptr_array_new ();
  const char *interned = g_intern_string (path);
  g_ptr_array_add (module_stack, (gpointer) interned);
  autograd_emit (&(Event){ .kind = EVENT_MODULE_ENTER, .module = interned });
}

void
autograd_module_pop (void)
{
  g_return_if_fail (module_stack != NULL && module_stack->len > 0);
  const char *path = g_ptr_array_steal_index (module_stack, module_stack->len - 1);
  autograd_emit (&(Event){ .kind = EVENT_MODULE_LEAVE, .module = path });
  if (module_stack->len == 0)
    g_clear_pointer (&module_stack, g_ptr_array_unref);
}

const char *
autograd_module_current (void)
{
  if (module_stack == NULL || module_stack->len == 0)
    return "";
  return g_ptr_array_index (module_stack, module_stack->len - 1);
}

/* --- Nodes --------------------------------------------------------------- */

const char *
node_name (const Node *node)
{
  return op_info[node->op].name;
}

Node *
node_ref (Node *node)
{
  g_atomic_int_inc (&node->ref_count);
  return node;
}

static void
node_free_saved (Node *node)
{
  bool had = node_has_saved (node);
  for (int i = 0; i < node->n_saved; i++)
    g_clear_pointer (&node->saved[i], tensor_unref);
  if (node->extra && node->extra_free)
    node->extra_free (node->extra);
  node->extra = NULL;
  node->saved_freed = node->saved_freed || had;
}

/* Node::grad_received and grad_sent: none. */
static void
node_clear_small_grads (Node *node)
{
  g_clear_pointer (&node->grad_received, tensor_unref);
  for (int i = 0; i < NODE_MAX_EDGES; i++)
    g_clear_pointer (&node->grad_sent[i], tensor_unref);
}

/* A copy of t if it is small enough to be read off a picture, else NULL. */
static Tensor *
small_copy (const Tensor *t)
{
  return t != NULL && t->numel <= NODE_SMALL_GRAD ? tensor_copy (t) : NULL;
}

void
node_unref (Node *node)
{
  if (node == NULL || !g_atomic_int_dec_and_test (&node->ref_count))
    return;
  /* Deep graphs (resnet18 has ~70 nodes in a chain) recurse through edges; the
   * depth stays small enough for the stack. */
  node_free_saved (node);
  g_clear_pointer (&node->grad_buffer, tensor_unref);
  g_clear_pointer (&node->hooks, g_array_unref);
  node_clear_small_grads (node);
  for (int i = 0; i < node->n_next; i++)
    node_unref (node->next[i].node);
  if (node->variable)
    {
      if (node->variable->grad_accumulator == node)
        node->variable->grad_accumulator = NULL;
      tensor_unref (node->variable);
    }
  g_free (node);
  g_atomic_int_add (&live_nodes, -1);
}

bool
node_has_saved (const Node *node)
{
  for (int i = 0; i < node->n_saved; i++)
    if (node->saved[i])
      return true;
  return node->extra != NULL;
}

static Node *
node_new (OpKind op)
{
  Node *node = g_new0 (Node, 1);
  node->ref_count = 1;
  g_atomic_int_inc (&live_nodes);
  node->op = op;
  node->id = (guint) g_atomic_int_add (&next_id, 1);
  node->seq = op == OP_ACCUMULATE_GRAD ? UINT64_MAX : next_seq++;
  node->module = g_intern_string (autograd_module_current ());
  return node;
}

/* The leaf's AccumulateGrad: one per leaf while any graph holds it (PyTorch keeps a
 * weak pointer in the leaf, strong ones in the graph). */
static Node *
accumulate_grad_for (Tensor *leaf)
{
  if (leaf->grad_accumulator)
    return node_ref (leaf->grad_accumulator);
  Node *node = node_new (OP_ACCUMULATE_GRAD);
  node->variable = tensor_ref (leaf);
  node->out_ndim = leaf->ndim;
  memcpy (node->out_shape, leaf->shape, sizeof leaf->shape);
  leaf->grad_accumulator = node;
  autograd_emit (&(Event){ .kind = EVENT_NODE_RECORDED, .node = node, .tensor = leaf,
                           .module = node->module });
  return node;
}

bool
autograd_any_requires_grad (int n_inputs, Tensor *const *inputs)
{
  for (int i = 0; i < n_inputs; i++)
    if (inputs[i] && inputs[i]->requires_grad)
      return true;
  return false;
}

Node *
autograd_record (OpKind op, Tensor *out, int n_inputs, Tensor *const *inputs)
{
  g_assert (n_inputs <= NODE_MAX_EDGES);
  if (grad_disabled || !autograd_any_requires_grad (n_inputs, inputs))
    return NULL;

  Node *node = node_new (op);
  node->n_next = n_inputs;
  for (int i = 0; i < n_inputs; i++)
    {
      Tensor *in = inputs[i];
      if (in)
        {
          node->input_ndim[i] = in->ndim;
          memcpy (node->input_shape[i], in->shape, sizeof in->shape);
        }
      if (in == NULL || !in->requires_grad)
        continue;  /* a None slot */
      node->next[i].node = in->grad_fn ? node_ref (in->grad_fn) : accumulate_grad_for (in);
    }
  node->out_ndim = out->ndim;
  memcpy (node->out_shape, out->shape, sizeof out->shape);
  g_clear_pointer (&out->grad_fn, node_unref);
  out->grad_fn = node;
  out->requires_grad = true;
  if (G_UNLIKELY (anomaly_enabled))
    {
      pending_node = node;
      pending_out = out;
    }
  return node;
}

void
node_save (Node *node, const char *name, const Tensor *t)
{
  g_assert (node->n_saved < NODE_MAX_SAVED);
  node->saved_names[node->n_saved] = name;
  node->saved[node->n_saved] = tensor_alias (t);
  node->n_saved++;
}

void
node_set_extra (Node *node, void *extra, GDestroyNotify extra_free)
{
  node->extra = extra;
  node->extra_free = extra_free;
}

void
autograd_commit (Node *node)
{
  autograd_emit (&(Event){ .kind = EVENT_NODE_RECORDED, .node = node, .module = node->module });
  if (G_UNLIKELY (anomaly_enabled))
    anomaly_check_output (node);
}

GPtrArray *
autograd_collect_nodes (Node *root)
{
  GPtrArray *nodes = g_ptr_array_new ();
  if (root == NULL)
    return nodes;
  GHashTable *seen = g_hash_table_new (NULL, NULL);
  g_ptr_array_add (nodes, root);
  g_hash_table_add (seen, root);
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      for (int j = 0; j < n->n_next; j++)
        {
          Node *m = n->next[j].node;
          if (m && !g_hash_table_contains (seen, m))
            {
              g_hash_table_add (seen, m);
              g_ptr_array_add (nodes, m);
            }
        }
    }
  g_hash_table_unref (seen);
  return nodes;
}

/* --- Backward ------------------------------------------------------------ */

/* Ready nodes by priority: AccumulateGrad (seq UINT64_MAX) first, then the highest
 * sequence number. A sorted insert: graphs here have at most a few ready nodes. */
static void
ready_push (GPtrArray *ready, Node *node)
{
  guint i = 0;
  while (i < ready->len && ((Node *) g_ptr_array_index (ready, i))->seq < node->seq)
    i++;
  g_ptr_array_insert (ready, i, node);
  node->state = NODE_READY;
}

/* sum += grad, elementwise, in slices on the engine's threads. */
typedef struct
{
  float *sum;
  const float *grad;
} AddJob;

static void
add_range (gpointer data, int64_t begin, int64_t end)
{
  const AddJob *j = data;
  float *restrict sum = j->sum;
  const float *restrict grad = j->grad;
  for (int64_t i = begin; i < end; i++)
    sum[i] += grad[i];
}

static void
add_into (Tensor *sum, const Tensor *grad)
{
  AddJob job = { sum->data, grad->data };
  parallel_for (sum->numel, 16384, add_range, &job);
}

static void
accumulate_into (Tensor **slot, Tensor *grad)
{
  if (*slot == NULL)
    {
      *slot = grad;  /* takes the reference */
      return;
    }
  /* A gradient may share its data (AddBackward0 hands the same one to both
   * inputs): add in place only into one that nothing else holds. */
  if (!tensor_is_exclusive (*slot) && tensor_is_exclusive (grad))
    {
      Tensor *t = *slot;
      *slot = grad;
      grad = t;
    }
  if (!tensor_is_exclusive (*slot))
    {
      Tensor *copy = tensor_copy (*slot);
      tensor_unref (*slot);
      *slot = copy;
    }
  add_into (*slot, grad);
  tensor_unref (grad);
}

/* Takes grad (the node's summed buffer). */
static void
run_accumulate_grad (Node *node, Tensor *grad)
{
  Tensor *leaf = node->variable;
  if (leaf->grad == NULL)
    {
      /* The first backward sets .grad. The buffer is the engine's own and nothing
       * else holds it, so it becomes .grad without a copy (PyTorch steals it too). */
      leaf->grad = tensor_is_exclusive (grad) ? tensor_ref (grad) : tensor_copy (grad);
      leaf->grad_passes = 1;
    }
  else
    {
      add_into (leaf->grad, grad);
      leaf->grad_passes++;
    }
}

/* Anomaly mode: PyTorch's error for the first gradient holding NaN or Inf, and the
 * thread's first anomaly if it is that one; when the first came earlier (in the
 * forward pass), the error says where. */
static gboolean
check_finite (Node *node, Tensor *const *grads, GError **error)
{
  for (int i = 0; i < node->n_next; i++)
    if (grads[i] && !tensor_all_finite (grads[i]))
      {
        const Anomaly *first = g_private_get (&first_anomaly);
        if (first == NULL)
          first = anomaly_report (node, grads[i], true, i);
        g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_FINITE,
                     "Function '%s'%s%s returned nan values in its %dth output.%s%s%s",
                     node_name (node), *node->module ? " in " : "", node->module, i,
                     first->backward ? "" : " The first nan or inf came earlier, in the "
                                            "forward pass: ",
                     first->backward ? "" : first->message, first->backward ? "" : ".");
        return FALSE;
      }
  return TRUE;
}

/* One backward pass from n_roots roots (PyTorch's GraphRoot, whose edges are the
 * roots). With captures (autograd_grad), capture[i] is the node where input i's
 * gradient arrives: its buffer is taken there, and only the nodes on a path to a
 * capture run. Without, every reachable node runs (tensor_backward). */
typedef struct
{
  int n_roots;
  Tensor *const *roots;
  Tensor *const *seeds;            /* owned by the caller; copied in */
  int n_captures;
  Node *const *captures;
  Tensor **captured;               /* out: n_captures, new references or NULL */
  bool retain_graph;
} Pass;

/* Which nodes lead to a capture (exec_info's needed_): a fixpoint over the graph,
 * whose breadth-first order makes it converge in a pass or two. */
static GHashTable *
needed_nodes (GPtrArray *nodes, const Pass *pass)
{
  GHashTable *needed = g_hash_table_new (NULL, NULL);
  GHashTable *captures = g_hash_table_new (NULL, NULL);
  for (int i = 0; i < pass->n_captures; i++)
    if (pass->captures[i])
      g_hash_table_add (captures, pass->captures[i]);
  bool changed = true;
  while (changed)
    {
      changed = false;
      for (guint i = nodes->len; i-- > 0;)
        {
          Node *n = g_ptr_array_index (nodes, i);
          if (g_hash_table_contains (needed, n))
            continue;
          for (int j = 0; j < n->n_next; j++)
            {
              Node *m = n->next[j].node;
              if (m && (g_hash_table_contains (captures, m) || g_hash_table_contains (needed, m)))
                {
                  g_hash_table_add (needed, n);
                  changed = true;
                  break;
                }
            }
        }
    }
  g_hash_table_unref (captures);
  return needed;
}

static gboolean
run_pass (const Pass *pass, GError **caller_error)
{
  /* The error stays here until the end: EVENT_BACKWARD_END says why a pass
   * failed, and at which node, whether or not the caller asked for it. */
  GError *local_error = NULL;
  GError **error = &local_error;
  Node *failed = NULL;
  g_autofree Node **root_nodes = g_new (Node *, pass->n_roots);
  for (int i = 0; i < pass->n_roots; i++)
    {
      Tensor *root = pass->roots[i];
      /* A leaf root: its own AccumulateGrad, as in PyTorch. */
      root_nodes[i] = root->grad_fn ? node_ref (root->grad_fn) : accumulate_grad_for (root);
    }
  Node *root_node = root_nodes[0];
  Tensor *root = pass->roots[0];

  bool was_enabled = grad_mode_set_enabled (false);
  gboolean ok = TRUE;

  /* Count dependencies: how many edges point at each node, the GraphRoot's included. */
  g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  for (int r = 0; r < pass->n_roots; r++)
    {
      g_autoptr (GPtrArray) reached = autograd_collect_nodes (root_nodes[r]);
      for (guint i = 0; i < reached->len; i++)
        if (g_hash_table_add (seen, g_ptr_array_index (reached, i)))
          g_ptr_array_add (nodes, g_ptr_array_index (reached, i));
    }
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      n->deps_total = n->deps_arrived = 0;
      n->state = NODE_WAITING;
      g_clear_pointer (&n->grad_buffer, tensor_unref);
      memset (n->grad_norm_out, 0, sizeof n->grad_norm_out);
      node_clear_small_grads (n);
    }
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      for (int j = 0; j < n->n_next; j++)
        if (n->next[j].node)
          n->next[j].node->deps_total++;
    }
  for (int r = 0; r < pass->n_roots; r++)
    root_nodes[r]->deps_total++;
  g_autoptr (GHashTable) needed = pass->n_captures ? needed_nodes (nodes, pass) : NULL;

  autograd_emit (&(Event){ .kind = EVENT_BACKWARD_BEGIN, .node = root_node, .tensor = root });

  g_autoptr (GPtrArray) ready = g_ptr_array_new ();
  for (int r = 0; r < pass->n_roots; r++)
    {
      Node *n = root_nodes[r];
      Tensor *seed = tensor_copy (pass->seeds[r]);
      tensor_reshape_inplace (seed, pass->roots[r]->ndim, pass->roots[r]->shape);
      accumulate_into (&n->grad_buffer, seed);
      if (++n->deps_arrived == n->deps_total)
        ready_push (ready, n);
    }

  while (ok && ready->len > 0)
    {
      Node *node = g_ptr_array_steal_index (ready, ready->len - 1);
      Tensor *grad = g_steal_pointer (&node->grad_buffer);

      /* autograd.grad: an input's gradient, as it arrives (1.13 takes it before the
       * node's hooks); then the node runs only if it leads to another input. */
      for (int i = 0; i < pass->n_captures; i++)
        if (pass->captures[i] == node && pass->captured[i] == NULL)
          pass->captured[i] = tensor_copy (grad);
      if (needed && !g_hash_table_contains (needed, node))
        {
          tensor_unref (grad);
          node->state = NODE_IDLE;
          continue;
        }

      if (node->saved_freed)
        {
          g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_GRAPH_FREED,
                               "Trying to backward through the graph a second time (or directly "
                               "access saved tensors after they have already been freed). Saved "
                               "intermediate values of the graph are freed when you call "
                               ".backward() or autograd.grad(). Specify retain_graph=True if you "
                               "need to backward through the graph a second time or if you need "
                               "to access saved tensors after calling backward.");
          tensor_unref (grad);
          ok = FALSE;
          failed = node;
          break;
        }

      node->state = NODE_RUNNING;
      if (!autograd_emit (&(Event){ .kind = EVENT_NODE_BEGIN, .node = node,
                                    .module = node->module }))
        {
          tensor_unref (grad);
          ok = FALSE;
          g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_CANCELLED, "cancelled");
          break;
        }

      if ((node->hooks || node->retained || (node->variable && node->variable->hooks))
          && !autograd_hooks_run (node, &grad, error))
        {
          tensor_unref (grad);
          ok = FALSE;
          failed = node;
          break;
        }
      if (autograd_has_observer ())
        node->grad_received = small_copy (grad);

      Tensor *grads[NODE_MAX_EDGES] = { NULL };
      if (node->op == OP_ACCUMULATE_GRAD)
        {
          run_accumulate_grad (node, grad);
          node->state = NODE_DONE;
          autograd_emit (&(Event){ .kind = EVENT_NODE_END, .node = node, .module = node->module });
          autograd_emit (&(Event){ .kind = EVENT_GRAD_ACCUMULATED, .node = node,
                                   .tensor = node->variable, .module = node->module });
          tensor_unref (grad);
          continue;
        }

      op_info[node->op].backward (node, grad, grads);
      tensor_unref (grad);
      if (anomaly_enabled && !check_finite (node, grads, error))
        {
          ok = FALSE;
          failed = node;
        }
      /* Edge magnitudes are for pictures: only worth a pass when someone watches.
       * A backward that measured a gradient as it wrote it (conv2d_backward, for a
       * weight's: no second pass over 9 MB) left the norm here already. */
      if (autograd_has_observer ())
        for (int j = 0; j < node->n_next; j++)
          if (grads[j] && node->grad_norm_out[j] == 0)
            node->grad_norm_out[j] = tensor_norm2 (grads[j]);
      if (autograd_has_observer ())
        for (int j = 0; j < node->n_next; j++)
          node->grad_sent[j] = small_copy (grads[j]);
      node->state = NODE_DONE;
      if (!autograd_emit (&(Event){ .kind = EVENT_NODE_END, .node = node, .module = node->module,
                                    .grads = grads, .n_grads = node->n_next }))
        {
          ok = FALSE;
          g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_CANCELLED, "cancelled");
        }

      for (int j = 0; j < node->n_next; j++)
        {
          Node *next = node->next[j].node;
          if (next == NULL || !ok)
            {
              g_clear_pointer (&grads[j], tensor_unref);
              continue;
            }
          g_assert (grads[j] != NULL);
          accumulate_into (&next->grad_buffer, g_steal_pointer (&grads[j]));
          next->deps_arrived++;
          if (next->deps_arrived == next->deps_total)
            ready_push (ready, next);
        }
    }

  /* Whatever did not run keeps no stale buffers. */
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *n = g_ptr_array_index (nodes, i);
      g_clear_pointer (&n->grad_buffer, tensor_unref);
      if (n->state != NODE_DONE)
        n->state = NODE_IDLE;
    }

  if (!pass->retain_graph)
    {
      /* autograd.grad frees what ran, as PyTorch's nodes release their variables as
       * they run; backward, the whole graph. */
      for (guint i = 0; i < nodes->len; i++)
        {
          Node *n = g_ptr_array_index (nodes, i);
          if (!needed || n->state == NODE_DONE)
            node_free_saved (n);
        }
      /* A second backward found the graph freed already: nothing new was. */
      if (!g_error_matches (local_error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_GRAPH_FREED))
        autograd_emit (&(Event){ .kind = EVENT_GRAPH_FREED, .node = root_node, .tensor = root });
    }
  /* A failure is no "finished": the event names the node it failed at and
   * PyTorch's message (a cancelled run is no failure of the student's). */
  if (failed != NULL)
    autograd_emit (&(Event){ .kind = EVENT_BACKWARD_END, .node = failed, .tensor = root,
                             .text = local_error != NULL ? local_error->message : NULL });
  else
    autograd_emit (&(Event){ .kind = EVENT_BACKWARD_END, .node = root_node, .tensor = root });
  if (local_error != NULL)
    g_propagate_error (caller_error, local_error);

  grad_mode_set_enabled (was_enabled);
  for (int r = 0; r < pass->n_roots; r++)
    node_unref (root_nodes[r]);
  return ok;
}

/* PyTorch's checks of the outputs and their gradients; the seed of each (ones for a
 * scalar) into seeds[i]. */
static gboolean
make_seeds (int n, Tensor *const *outputs, const Tensor *const *gradients, Tensor **seeds,
            GError **error)
{
  for (int i = 0; i < n; i++)
    {
      Tensor *root = outputs[i];
      const Tensor *gradient = gradients ? gradients[i] : NULL;
      if (!root->requires_grad)
        {
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NO_GRAD,
                       "element %d of tensors does not require grad and does not have a grad_fn",
                       i);
          return FALSE;
        }
      if (gradient == NULL && root->numel != 1)
        {
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_SCALAR,
                       "grad can be implicitly created only for scalar outputs");
          return FALSE;
        }
      if (gradient && gradient->numel != root->numel)
        {
          g_autofree char *gs = shape_to_size_list (gradient->ndim, gradient->shape);
          g_autofree char *rs = shape_to_size_list (root->ndim, root->shape);
          g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE,
                       "Mismatch in shape: grad_output[%d] has a shape of torch.Size(%s) and "
                       "output[%d] has a shape of torch.Size(%s).", i, gs, i, rs);
          return FALSE;
        }
      seeds[i] = gradient ? tensor_copy (gradient) : tensor_new_ones (root->ndim, root->shape);
    }
  return TRUE;
}

static void
free_seeds (int n, Tensor **seeds)
{
  for (int i = 0; i < n; i++)
    g_clear_pointer (&seeds[i], tensor_unref);
}

gboolean
tensor_backward (Tensor *root, const Tensor *gradient, bool retain_graph, GError **error)
{
  g_return_val_if_fail (root != NULL, FALSE);
  Tensor *seed = NULL;
  if (!make_seeds (1, &root, gradient ? &gradient : NULL, &seed, error))
    return FALSE;
  Pass pass = { .n_roots = 1, .roots = &root, .seeds = &seed, .retain_graph = retain_graph };
  gboolean ok = run_pass (&pass, error);
  tensor_unref (seed);
  return ok;
}

gboolean
autograd_backward (int n_roots, Tensor *const *roots, const Tensor *const *gradients,
                   bool retain_graph, GError **error)
{
  g_return_val_if_fail (n_roots > 0, FALSE);
  g_autofree Tensor **seeds = g_new0 (Tensor *, n_roots);
  gboolean ok = make_seeds (n_roots, roots, gradients, seeds, error);
  if (ok)
    {
      Pass pass = { .n_roots = n_roots, .roots = roots, .seeds = seeds,
                    .retain_graph = retain_graph };
      ok = run_pass (&pass, error);
    }
  free_seeds (n_roots, seeds);
  return ok;
}

gboolean
autograd_grad (int n_outputs, Tensor *const *outputs, const Tensor *const *grad_outputs,
               int n_inputs, Tensor *const *inputs, bool retain_graph, bool allow_unused,
               Tensor **grads, GError **error)
{
  g_return_val_if_fail (n_outputs > 0 && n_inputs > 0, FALSE);
  for (int i = 0; i < n_inputs; i++)
    grads[i] = NULL;
  for (int i = 0; i < n_inputs; i++)
    if (!inputs[i]->requires_grad)
      {
        g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NO_GRAD,
                             "One of the differentiated Tensors does not require grad");
        return FALSE;
      }
  g_autofree Tensor **seeds = g_new0 (Tensor *, n_outputs);
  if (!make_seeds (n_outputs, outputs, grad_outputs, seeds, error))
    {
      free_seeds (n_outputs, seeds);
      return FALSE;
    }
  /* Where each input's gradient arrives: its grad_fn, or its leaf's AccumulateGrad
   * (made if no graph holds one yet: then nothing reaches it). */
  g_autofree Node **captures = g_new (Node *, n_inputs);
  for (int i = 0; i < n_inputs; i++)
    captures[i] = inputs[i]->grad_fn ? node_ref (inputs[i]->grad_fn)
                                     : accumulate_grad_for (inputs[i]);
  Pass pass = { .n_roots = n_outputs, .roots = outputs, .seeds = seeds,
                .n_captures = n_inputs, .captures = captures, .captured = grads,
                .retain_graph = retain_graph };
  gboolean ok = run_pass (&pass, error);
  free_seeds (n_outputs, seeds);
  for (int i = 0; i < n_inputs; i++)
    node_unref (captures[i]);
  for (int i = 0; ok && i < n_inputs; i++)
    if (grads[i] == NULL && !allow_unused)
      {
        g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_UNUSED,
                             "One of the differentiated Tensors appears to not have been used "
                             "in the graph. Set allow_unused=True if this is the desired "
                             "behavior.");
        ok = FALSE;
      }
  if (!ok)
    for (int i = 0; i < n_inputs; i++)
      g_clear_pointer (&grads[i], tensor_unref);
  return ok;
}

/* autograd-hooks.c — Tensor.register_hook: callbacks on the gradient reaching a tensor.
 *
 * PyTorch 1.13 keeps a non-leaf's hooks on its grad_fn (pre-hooks: they see the
 * gradient the node received, before it runs) and a leaf's on the leaf (applied
 * before AccumulateGrad adds to .grad). retain_grad is a hook there too, in the
 * order it was asked for:
 *
 *   b = a * 2; b.retain_grad(); b.register_hook(lambda g: g * 10)
 *   (b * b).sum().backward()   # b.grad: the gradient before the hook; a.grad: 10× it
 *
 * The engine stays free of Python: a hook is a C function and its user_data; the
 * Python extension's calls back into the interpreter.
 */
#include "autograd.h"

static guint next_hook_id;

static void
hook_clear (gpointer data)
{
  GradHook *hook = data;
  if (hook->destroy)
    hook->destroy (hook->user_data);
  hook->destroy = NULL;
}

GArray *
autograd_hooks_new (void)
{
  GArray *hooks = g_array_new (FALSE, TRUE, sizeof (GradHook));
  g_array_set_clear_func (hooks, hook_clear);
  return hooks;
}

guint
autograd_add_hook (Tensor *t, GradHookFn fn, gpointer user_data, GDestroyNotify destroy)
{
  g_return_val_if_fail (t != NULL && fn != NULL, 0);
  GArray **hooks = t->grad_fn ? &t->grad_fn->hooks : &t->hooks;
  if (*hooks == NULL)
    *hooks = autograd_hooks_new ();
  GradHook hook = { g_atomic_int_add ((gint *) &next_hook_id, 1) + 1, fn, user_data, destroy };
  g_array_append_val (*hooks, hook);
  return hook.id;
}

static bool
remove_from (GArray *hooks, guint id, guint *retain_at)
{
  for (guint i = 0; hooks && i < hooks->len; i++)
    if (g_array_index (hooks, GradHook, i).id == id)
      {
        g_array_remove_index (hooks, i);
        if (retain_at && *retain_at > i)
          (*retain_at)--;
        return true;
      }
  return false;
}

void
autograd_remove_hook (Tensor *t, guint id)
{
  if (t->grad_fn && remove_from (t->grad_fn->hooks, id, &t->grad_fn->retain_at))
    return;
  remove_from (t->hooks, id, NULL);
}

void
autograd_node_remove_hook (Node *node, guint id)
{
  remove_from (node->hooks, id, &node->retain_at);
}

/* retain_grad: a non-leaf's .grad is the whole gradient its grad_fn received. */
static void
retain_into (Tensor *t, const Tensor *grad)
{
  if (t->grad == NULL)
    {
      t->grad = tensor_copy (grad);
      t->grad_passes = 1;
      return;
    }
  for (int64_t i = 0; i < t->grad->numel; i++)
    t->grad->data[i] += grad->data[i];
  t->grad_passes++;
}

static gboolean
run_one (const GradHook *hook, Tensor **grad, GError **error)
{
  Tensor *replacement = NULL;
  if (!hook->fn (*grad, &replacement, hook->user_data, error))
    {
      g_clear_pointer (&replacement, tensor_unref);
      if (error && *error == NULL)
        g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_HOOK, "a gradient hook failed");
      return FALSE;
    }
  if (replacement == NULL)
    return TRUE;
  if (replacement->numel != (*grad)->numel)
    {
      tensor_unref (replacement);
      g_set_error_literal (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_HOOK,
                           "hook has changed the size of value");
      return FALSE;
    }
  /* A copy: what the hook returned may be a tensor the program keeps (or a view of
   * one), and the engine adds into the gradients it passes on. */
  Tensor *own = tensor_copy (replacement);
  tensor_reshape_inplace (own, (*grad)->ndim, (*grad)->shape);
  tensor_unref (replacement);
  tensor_unref (*grad);
  *grad = own;
  return TRUE;
}

/* The hooks of node (its own, or its leaf's for an AccumulateGrad) on *grad, which
 * it owns and may replace; retain_grad's copy at its place. */
gboolean
autograd_hooks_run (Node *node, Tensor **grad, GError **error)
{
  GArray *hooks = node->variable ? node->variable->hooks : node->hooks;
  guint n = hooks ? hooks->len : 0;
  for (guint i = 0; i <= n; i++)
    {
      if (node->retained && i == MIN (node->retain_at, n))
        retain_into (node->retained, *grad);
      /* A hook may remove hooks (its own handle): read the array again each time. */
      hooks = node->variable ? node->variable->hooks : node->hooks;
      if (i < n && hooks && i < hooks->len)
        {
          GradHook hook = g_array_index (hooks, GradHook, i);
          if (!run_one (&hook, grad, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* test-graph-common.h: the graphs the graph tests draw, built with the engine
 *
 * The tutorial's Q = 3a³ − b² and resnet18's training step (1×3×64×64 input,
 * loss = (prediction − labels).sum()), optionally with a module frozen and after
 * backward. Nodes are listed in recording order, as the stepper lists them.
 */
#pragma once

#include <cairo.h>
#include <string.h>

#include "module.h"
#include "ops.h"

typedef struct
{
  Tensor *a, *b, *Q;
  Module *model;
  Tensor *data, *labels, *prediction, *loss;
  GPtrArray *nodes;                 /* Node *, borrowed from the graph */
} TestGraph;

static inline gint
compare_node_ids (gconstpointer a,
                  gconstpointer b)
{
  const Node *x = *(Node *const *) a, *y = *(Node *const *) b;

  return x->id < y->id ? -1 : x->id > y->id;
}

/* Every node below root, in recording order (ids grow as nodes are made). */
static inline GPtrArray *
test_graph_collect (Node *root)
{
  GPtrArray *nodes = autograd_collect_nodes (root);

  g_ptr_array_sort (nodes, compare_node_ids);
  return nodes;
}

static inline gboolean
test_graph_observe (const Event *event,
                    gpointer     user_data)
{
  return TRUE;   /* an observer makes the engine record each edge's gradient norm */
}

static inline Tensor *
test_graph_vec2 (const char *name,
                 float       x,
                 float       y)
{
  Tensor *t = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ x, y });

  tensor_set_name (t, name);
  g_assert_true (tensor_set_requires_grad (t, TRUE, NULL));
  return t;
}

/* Q = 3*a**3 - b**2, a = [2, 3], b = [6, 4]; backward with gradient [1, 1] if asked. */
static inline TestGraph *
test_graph_new_q (gboolean backward)
{
  TestGraph *tg = g_new0 (TestGraph, 1);
  g_autoptr (Tensor) a3 = NULL;
  g_autoptr (Tensor) t = NULL;
  g_autoptr (Tensor) b2 = NULL;

  tg->a = test_graph_vec2 ("a", 2, 3);
  tg->b = test_graph_vec2 ("b", 6, 4);
  a3 = tensor_pow_scalar (tg->a, 3);
  t = tensor_mul_scalar (a3, 3);
  b2 = tensor_pow_scalar (tg->b, 2);
  tg->Q = tensor_sub (t, b2, NULL);
  g_assert_nonnull (tg->Q);
  tg->nodes = test_graph_collect (tg->Q->grad_fn);

  if (backward)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (Tensor) ones = tensor_new_ones (1, (int64_t[]){ 2 });

      autograd_set_observer (test_graph_observe, NULL);
      g_assert_true (tensor_backward (tg->Q, ones, FALSE, &error));
      g_assert_no_error (error);
      autograd_set_observer (NULL, NULL);
    }

  return tg;
}

/* resnet18's step; frozen: a module path to freeze before the forward pass, or NULL. */
static inline TestGraph *
test_graph_new_resnet18 (const char *frozen,
                         gboolean    backward)
{
  TestGraph *tg = g_new0 (TestGraph, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) diff = NULL;
  Generator gen;

  tg->model = resnet18_new (1000, 0);
  g_assert_nonnull (tg->model);
  if (frozen != NULL)
    {
      Module *m = module_find (tg->model, frozen);

      g_assert_nonnull (m);
      module_set_requires_grad (m, FALSE);
    }
  generator_init (&gen, 0);
  tg->data = tensor_new_rand (4, (int64_t[]){ 1, 3, 64, 64 }, &gen);
  tg->labels = tensor_new_rand (2, (int64_t[]){ 1, 1000 }, &gen);
  tg->prediction = module_forward (tg->model, tg->data, &error);
  g_assert_no_error (error);
  diff = tensor_sub (tg->prediction, tg->labels, &error);
  g_assert_no_error (error);
  tg->loss = tensor_sum (diff);
  tg->nodes = test_graph_collect (tg->loss->grad_fn);

  if (backward)
    {
      autograd_set_observer (test_graph_observe, NULL);
      g_assert_true (tensor_backward (tg->loss, NULL, FALSE, &error));
      g_assert_no_error (error);
      autograd_set_observer (NULL, NULL);
    }

  return tg;
}

static inline void
test_graph_free (TestGraph *tg)
{
  if (tg == NULL)
    return;

  g_clear_pointer (&tg->nodes, g_ptr_array_unref);
  g_clear_pointer (&tg->Q, tensor_unref);
  g_clear_pointer (&tg->a, tensor_unref);
  g_clear_pointer (&tg->b, tensor_unref);
  g_clear_pointer (&tg->loss, tensor_unref);
  g_clear_pointer (&tg->prediction, tensor_unref);
  g_clear_pointer (&tg->labels, tensor_unref);
  g_clear_pointer (&tg->data, tensor_unref);
  g_clear_pointer (&tg->model, module_unref);
  g_free (tg);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestGraph, test_graph_free)

/* The ARGB32 pixel at (x, y) of an image surface. */
static inline guint32
test_pixel (cairo_surface_t *s,
            int              x,
            int              y)
{
  const guchar *data = cairo_image_surface_get_data (s);

  return *(const guint32 *) (data + (gsize) y * cairo_image_surface_get_stride (s) + 4 * x);
}

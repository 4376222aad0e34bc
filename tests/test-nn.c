/* test-nn.c — the layers of resnet18: finite-difference checks of every backward,
 * the im2col + sgemm conv against its naive loops, batch norm's running statistics,
 * PyTorch's grad_fn names and edges, saved tensors freed after backward, and a small
 * conv/bn/pool chain against numbers made by PyTorch (tools/make-nn-fixtures.py). */
#include "gradcheck.h"
#include "nn.h"

#include <string.h>

/* max |t − expected| / max |expected|: the per-tensor tolerance of the PyTorch checks. */
static double
rel_diff (const float *t, const float *expected, int64_t n)
{
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < n; i++)
    {
      worst = MAX (worst, fabs ((double) t[i] - expected[i]));
      scale = MAX (scale, fabs ((double) expected[i]));
    }
  return scale > 0 ? worst / scale : worst;
}

static void
assert_rel_close (const char *what, const Tensor *t, const float *expected, int64_t n, double tol)
{
  g_assert_nonnull (t);
  g_assert_cmpint (t->numel, ==, n);
  double d = rel_diff (t->data, expected, n);
  g_test_message ("%s: max|diff|/max|expected| = %.2e", what, d);
  if (d > tol)
    g_error ("%s: relative difference %.3e exceeds %.1e", what, d, tol);
}

/* --- conv2d: im2col + sgemm against the naive loops --------------------------- */

typedef struct
{
  int n, c, h, w, o, kh, kw, stride, padding;
  bool bias;
} ConvShape;

static const ConvShape conv_shapes[] = {
  { 2, 3, 8, 8, 4, 3, 3, 1, 1, true },      /* resnet's 3×3/1 */
  { 1, 3, 17, 15, 5, 7, 7, 2, 3, true },    /* conv1's 7×7/2, odd sizes */
  { 2, 4, 6, 6, 8, 1, 1, 1, 0, false },     /* pointwise: no im2col */
  { 2, 4, 7, 7, 6, 1, 1, 2, 0, true },      /* downsample 1×1/2 */
  { 1, 2, 9, 10, 3, 3, 3, 2, 1, false },    /* 3×3/2 */
  { 3, 5, 5, 5, 2, 5, 3, 1, 2, true },      /* a non-square kernel */
  { 1, 1, 4, 4, 1, 4, 4, 1, 0, false },     /* the kernel covers the image */
  { 1, 3, 11, 11, 4, 3, 3, 3, 0, true },    /* stride 3 */
};

static void
test_conv_naive (void)
{
  Generator gen;
  generator_init (&gen, 11);
  for (guint s = 0; s < G_N_ELEMENTS (conv_shapes); s++)
    {
      const ConvShape *cs = &conv_shapes[s];
      int oh = (cs->h + 2 * cs->padding - cs->kh) / cs->stride + 1;
      int ow = (cs->w + 2 * cs->padding - cs->kw) / cs->stride + 1;
      g_autoptr (Tensor) x = tensor_new_empty (4, (int64_t[]){ cs->n, cs->c, cs->h, cs->w });
      g_autoptr (Tensor) w = tensor_new_empty (4, (int64_t[]){ cs->o, cs->c, cs->kh, cs->kw });
      g_autoptr (Tensor) b = tensor_new_empty (1, (int64_t[]){ cs->o });
      tensor_fill_uniform (x, &gen, -1, 1);
      tensor_fill_uniform (w, &gen, -1, 1);
      tensor_fill_uniform (b, &gen, -1, 1);
      const float *bias = cs->bias ? b->data : NULL;
      int64_t shape[4] = { cs->n, cs->o, oh, ow };
      g_autoptr (Tensor) fast = tensor_new_full (4, shape, NAN);
      g_autoptr (Tensor) naive = tensor_new_full (4, shape, NAN);
      conv2d_forward (fast->data, x->data, w->data, bias, cs->n, cs->c, cs->h, cs->w, cs->o,
                      cs->kh, cs->kw, cs->stride, cs->padding, oh, ow);
      conv2d_forward_naive (naive->data, x->data, w->data, bias, cs->n, cs->c, cs->h, cs->w,
                            cs->o, cs->kh, cs->kw, cs->stride, cs->padding, oh, ow);
      g_assert_true (tensor_all_finite (fast));
      g_autofree char *what = g_strdup_printf ("conv shape %u", s);
      assert_rel_close (what, fast, naive->data, naive->numel, 1e-4);

      /* tensor_conv2d gives the same, with the output shape PyTorch gives. */
      g_autoptr (Tensor) y = tensor_conv2d (x, w, cs->bias ? b : NULL, cs->stride, cs->padding,
                                            NULL);
      g_assert_nonnull (y);
      g_assert_true (memcmp (y->shape, shape, sizeof shape) == 0);
      assert_rel_close (what, y, naive->data, naive->numel, 1e-4);
    }
}

/* --- Finite differences of every layer's backward ----------------------------- */

typedef enum { K_CONV, K_BN, K_MAXPOOL, K_AVGPOOL } LayerKind;

typedef struct
{
  const char *name;
  LayerKind kind;
  int64_t x_shape[4];
  int64_t w_shape[4];      /* conv: (O, C, kh, kw) */
  int stride, padding, kernel;
  bool bias;               /* conv: with bias; bn: with weight and bias */
  bool training;           /* bn */
  bool x_grad, w_grad;     /* which inputs require grad (w_grad: weight and bias) */
} LayerCase;

/* CONV (name, x shape, w shape, stride, padding, bias, x requires grad, w/b require grad);
 * BN (name, x shape, affine, training, x grad, w/b grad); MAXPOOL (name, x, k, s, p). */
#define CONV(nm, x, w, s, p, b, xg, wg) \
  { .name = nm, .kind = K_CONV, .x_shape = x, .w_shape = w, .stride = s, .padding = p, \
    .bias = b, .x_grad = xg, .w_grad = wg }
#define BN(nm, x, affine, train, xg, wg) \
  { .name = nm, .kind = K_BN, .x_shape = x, .bias = affine, .training = train, \
    .x_grad = xg, .w_grad = wg }
#define MAXPOOL(nm, x, k, s, p) \
  { .name = nm, .kind = K_MAXPOOL, .x_shape = x, .kernel = k, .stride = s, .padding = p, \
    .x_grad = true }
#define S4(a, b, c, d) { a, b, c, d }

static const LayerCase layer_cases[] = {
  CONV ("conv-s1-p0-bias", S4 (2, 3, 5, 6), S4 (4, 3, 3, 3), 1, 0, true, true, true),
  CONV ("conv-s1-p1", S4 (2, 2, 5, 5), S4 (3, 2, 3, 3), 1, 1, false, true, true),
  CONV ("conv-s2-p1", S4 (1, 3, 7, 6), S4 (2, 3, 3, 3), 2, 1, false, true, true),
  CONV ("conv-s2-p3-bias", S4 (2, 2, 9, 9), S4 (3, 2, 7, 7), 2, 3, true, true, true),
  CONV ("conv-1x1-s1", S4 (2, 4, 3, 3), S4 (5, 4, 1, 1), 1, 0, true, true, true),
  CONV ("conv-1x1-s2-p0", S4 (2, 4, 5, 5), S4 (3, 4, 1, 1), 2, 0, false, true, true),
  CONV ("conv-frozen-input", S4 (1, 3, 6, 6), S4 (2, 3, 3, 3), 2, 1, true, false, true),
  CONV ("conv-frozen-weight", S4 (2, 2, 5, 5), S4 (3, 2, 3, 3), 1, 1, true, true, false),
  BN ("bn-train-n2", S4 (2, 3, 3, 4), true, true, true, true),
  BN ("bn-train-n1", S4 (1, 3, 2, 3), true, true, true, true),
  BN ("bn-train-frozen-input", S4 (2, 2, 2, 3), true, true, false, true),
  BN ("bn-train-frozen-affine", S4 (2, 2, 2, 3), true, true, true, false),
  BN ("bn-train-no-affine", S4 (3, 2, 2, 2), false, true, true, false),
  BN ("bn-eval", S4 (2, 3, 3, 2), true, false, true, true),
  MAXPOOL ("maxpool-3-2-1", S4 (2, 2, 7, 6), 3, 2, 1),
  MAXPOOL ("maxpool-2-2-0", S4 (1, 3, 6, 5), 2, 2, 0),
  MAXPOOL ("maxpool-3-1-1", S4 (1, 2, 5, 5), 3, 1, 1),
  { .name = "avgpool-1x1", .kind = K_AVGPOOL, .x_shape = S4 (2, 3, 3, 4), .x_grad = true },
};

/* The batch-norm buffers a case runs with (the running stats move in training). */
typedef struct
{
  const LayerCase *lc;
  Tensor *running_mean, *running_var;
  int64_t num_batches_tracked;
} LayerRun;

/* inputs: x, then weight and bias (conv or bn), each possibly NULL. */
static Tensor *
run_layer (Tensor **in, gpointer data)
{
  LayerRun *run = data;
  const LayerCase *lc = run->lc;
  switch (lc->kind)
    {
    case K_CONV:
      return tensor_conv2d (in[0], in[1], in[2], lc->stride, lc->padding, NULL);
    case K_BN:
      return tensor_batch_norm (in[0], in[1], in[2], run->running_mean, run->running_var,
                                &run->num_batches_tracked, lc->training, 0.1f, 1e-5f, NULL);
    case K_MAXPOOL:
      return tensor_max_pool2d (in[0], lc->kernel, lc->stride, lc->padding, NULL);
    case K_AVGPOOL:
      return tensor_adaptive_avg_pool2d_1x1 (in[0], NULL);
    }
  g_assert_not_reached ();
}

/* Distinct values at least 0.05 apart, shuffled: no ties and no argmax change
 * under the ±0.01 steps of the finite differences. */
static void
fill_distinct (Tensor *t, Generator *gen)
{
  for (int64_t i = 0; i < t->numel; i++)
    t->data[i] = (float) i * 0.05f - (float) t->numel * 0.025f;
  for (int64_t i = t->numel - 1; i > 0; i--)
    {
      int64_t j = generator_next_u32 (gen) % (i + 1);
      float tmp = t->data[i];
      t->data[i] = t->data[j];
      t->data[j] = tmp;
    }
}

static const char *layer_grad_fn[] = {
  [K_CONV] = "ConvolutionBackward0",
  [K_BN] = "NativeBatchNormBackward0",
  [K_MAXPOOL] = "MaxPool2DWithIndicesBackward0",
  [K_AVGPOOL] = "MeanBackward1",
};

static void
test_layer_gradient (gconstpointer data)
{
  const LayerCase *lc = data;
  Generator gen;
  generator_init (&gen, 77 + (lc - layer_cases));
  LayerRun run = { .lc = lc };
  Tensor *in[3] = { NULL };
  in[0] = gradcheck_input (4, lc->x_shape, &gen, -1, 1);
  int64_t c = lc->x_shape[1];
  if (lc->kind == K_MAXPOOL)
    fill_distinct (in[0], &gen);
  if (lc->kind == K_CONV)
    {
      in[1] = gradcheck_input (4, lc->w_shape, &gen, -1, 1);
      if (lc->bias)
        in[2] = gradcheck_input (1, (int64_t[]){ lc->w_shape[0] }, &gen, -1, 1);
    }
  if (lc->kind == K_BN)
    {
      if (lc->bias)
        {
          in[1] = gradcheck_input (1, &c, &gen, 0.5f, 1.5f);
          in[2] = gradcheck_input (1, &c, &gen, -0.5f, 0.5f);
        }
      run.running_mean = tensor_new_empty (1, &c);
      run.running_var = tensor_new_empty (1, &c);
      tensor_fill_uniform (run.running_mean, &gen, -0.5f, 0.5f);
      tensor_fill_uniform (run.running_var, &gen, 0.5f, 1.5f);
    }
  g_assert_true (tensor_set_requires_grad (in[0], lc->x_grad, NULL));
  for (int i = 1; i < 3; i++)
    if (in[i])
      g_assert_true (tensor_set_requires_grad (in[i], lc->w_grad, NULL));

  /* The recorded node: PyTorch's name, one slot per input, None where no grad. */
  {
    g_autoptr (Tensor) out = run_layer (in, &run);
    g_assert_nonnull (out);
    Node *node = out->grad_fn;
    g_assert_nonnull (node);
    g_assert_cmpstr (node_name (node), ==, layer_grad_fn[lc->kind]);
    int n_edges = lc->kind == K_CONV || lc->kind == K_BN ? 3 : 1;
    g_assert_cmpint (node->n_next, ==, n_edges);
    for (int i = 0; i < n_edges; i++)
      {
        bool want = in[i] && in[i]->requires_grad;
        g_assert_true ((node->next[i].node != NULL) == want);
        if (want)
          g_assert_true (node->next[i].node->variable == in[i]);
      }
  }

  double worst = gradcheck (run_layer, &run, 3, in, 1e-2f, 96);
  g_test_message ("%s: worst relative error %.2e", lc->name, worst);
  g_assert_cmpfloat (worst, <, 1e-2);
  for (int i = 0; i < 3; i++)
    if (in[i] && !in[i]->requires_grad)
      g_assert_null (in[i]->grad);

  for (int i = 0; i < 3; i++)
    g_clear_pointer (&in[i], tensor_unref);
  g_clear_pointer (&run.running_mean, tensor_unref);
  g_clear_pointer (&run.running_var, tensor_unref);
}

/* --- Batch norm's running statistics, by hand ---------------------------------- */

static void
test_bn_running_stats (void)
{
  /* x (2, 2, 1, 2): channel 0 holds 1, 2 | 3, 4 and channel 1 holds 0, 4 | −2, 2. */
  g_autoptr (Tensor) x = tensor_new_from_data (4, (int64_t[]){ 2, 2, 1, 2 },
                                               (float[]){ 1, 2, 0, 4, 3, 4, -2, 2 });
  g_autoptr (Tensor) w = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ 2, 1 });
  g_autoptr (Tensor) b = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ 0, 0.5f });
  g_autoptr (Tensor) rm = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ 0.5f, -1 });
  g_autoptr (Tensor) rv = tensor_new_from_data (1, (int64_t[]){ 2 }, (float[]){ 1, 2 });
  int64_t tracked = 0;
  const float eps = 1e-5f;

  /* Channel 0: mean 2.5, biased var (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, unbiased 5/3.
   * Channel 1: mean 1, deviations −1, 3, −3, 1: biased var 20/4 = 5, unbiased 20/3.
   * Nothing requires grad (frozen weight and bias): the buffers move all the same. */
  g_autoptr (Tensor) y = tensor_batch_norm (x, w, b, rm, rv, &tracked, true, 0.1f, eps, NULL);
  g_assert_nonnull (y);
  g_assert_null (y->grad_fn);
  g_assert_false (y->requires_grad);
  g_assert_cmpint (tracked, ==, 1);
  g_assert_cmpfloat_with_epsilon (rm->data[0], 0.9 * 0.5 + 0.1 * 2.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (rm->data[1], 0.9 * -1 + 0.1 * 1, 1e-6);
  g_assert_cmpfloat_with_epsilon (rv->data[0], 0.9 * 1 + 0.1 * 5.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (rv->data[1], 0.9 * 2 + 0.1 * 20.0 / 3.0, 1e-6);
  /* y = (x − mean)/√(var + eps)·w + b, with the batch's biased variance. */
  g_assert_cmpfloat_with_epsilon (y->data[0], (1 - 2.5) / sqrt (1.25 + eps) * 2, 1e-5);
  g_assert_cmpfloat_with_epsilon (y->data[3], (4 - 1) / sqrt (5 + eps) * 1 + 0.5, 1e-5);
  g_assert_cmpfloat_with_epsilon (y->data[6], (-2 - 1) / sqrt (5 + eps) * 1 + 0.5, 1e-5);

  /* Under no_grad, with x requiring grad: still updated, nothing recorded. */
  g_autoptr (Tensor) xg = tensor_copy (x);
  tensor_set_requires_grad (xg, true, NULL);
  bool was = grad_mode_set_enabled (false);
  g_autoptr (Tensor) y2 = tensor_batch_norm (xg, w, b, rm, rv, &tracked, true, 0.1f, eps, NULL);
  grad_mode_set_enabled (was);
  g_assert_null (y2->grad_fn);
  g_assert_cmpint (tracked, ==, 2);
  g_assert_cmpfloat_with_epsilon (rm->data[0], 0.9 * (0.9 * 0.5 + 0.25) + 0.25, 1e-6);

  /* No running stats at all (track_running_stats=False): batch statistics only. */
  g_autoptr (Tensor) y3 = tensor_batch_norm (x, w, b, NULL, NULL, NULL, true, 0.1f, eps, NULL);
  g_assert_true (tensor_allclose (y3, y, 0, 0));

  /* Eval: the running stats normalise, and nothing moves. */
  float rm0 = rm->data[0], rv0 = rv->data[0];
  g_autoptr (Tensor) e = tensor_batch_norm (xg, w, b, rm, rv, &tracked, false, 0.1f, eps, NULL);
  g_assert_cmpint (tracked, ==, 2);
  g_assert_cmpfloat (rm->data[0], ==, rm0);
  g_assert_cmpfloat (rv->data[0], ==, rv0);
  g_assert_cmpfloat_with_epsilon (e->data[5], (4 - rm0) / sqrt (rv0 + eps) * 2, 1e-5);
  g_assert_cmpstr (node_name (e->grad_fn), ==, "NativeBatchNormBackward0");
  g_assert_cmpstr (e->grad_fn->saved_names[2], ==, "running_mean");

  /* The eval graph saved copies: a later training step moving the buffers does not
   * change its backward (grad_x = g·w/√(running_var + eps)). */
  g_autoptr (Tensor) y4 = tensor_batch_norm (x, w, b, rm, rv, &tracked, true, 0.1f, eps, NULL);
  g_assert_cmpint (tracked, ==, 3);
  g_autoptr (Tensor) s = tensor_sum (e);
  g_assert_true (tensor_backward (s, NULL, false, NULL));
  g_assert_cmpfloat_with_epsilon (xg->grad->data[0], 2 / sqrt (rv0 + eps), 1e-5);
}

/* --- Names, edges and saved tensors ------------------------------------------- */

static Tensor *
param (int ndim, const int64_t *shape, Generator *gen, bool requires_grad)
{
  Tensor *t = tensor_new_empty (ndim, shape);
  tensor_fill_uniform (t, gen, -0.5f, 0.5f);
  tensor_set_requires_grad (t, requires_grad, NULL);
  return t;
}

static void
test_edges_and_saved (void)
{
  gint tensors_before = tensor_live_count ();
  gint nodes_before = node_live_count ();
  {
    g_autoptr (GError) error = NULL;
    Generator gen;
    generator_init (&gen, 5);
    /* A resnet stem: conv1 (input needs no grad, no bias) → bn1 → relu → maxpool →
     * conv (frozen weight) → bn (frozen) → avgpool → sum. */
    g_autoptr (Tensor) x = tensor_new_rand (4, (int64_t[]){ 1, 3, 12, 12 }, &gen);
    g_autoptr (Tensor) w1 = param (4, (int64_t[]){ 4, 3, 7, 7 }, &gen, true);
    g_autoptr (Tensor) g1 = tensor_new_ones (1, (int64_t[]){ 4 });
    g_autoptr (Tensor) b1 = tensor_new_zeros (1, (int64_t[]){ 4 });
    tensor_set_requires_grad (g1, true, NULL);
    tensor_set_requires_grad (b1, true, NULL);
    g_autoptr (Tensor) rm1 = tensor_new_zeros (1, (int64_t[]){ 4 });
    g_autoptr (Tensor) rv1 = tensor_new_ones (1, (int64_t[]){ 4 });
    g_autoptr (Tensor) w2 = param (4, (int64_t[]){ 5, 4, 3, 3 }, &gen, false);
    g_autoptr (Tensor) g2 = tensor_new_ones (1, (int64_t[]){ 5 });
    g_autoptr (Tensor) b2 = tensor_new_zeros (1, (int64_t[]){ 5 });
    g_autoptr (Tensor) rm2 = tensor_new_zeros (1, (int64_t[]){ 5 });
    g_autoptr (Tensor) rv2 = tensor_new_ones (1, (int64_t[]){ 5 });
    int64_t t1 = 0, t2 = 0;

    g_autoptr (Tensor) c1 = tensor_conv2d (x, w1, NULL, 2, 3, &error);
    g_assert_no_error (error);
    g_autoptr (Tensor) n1 = tensor_batch_norm (c1, g1, b1, rm1, rv1, &t1, true, 0.1f, 1e-5f,
                                               &error);
    g_autoptr (Tensor) r1 = tensor_relu (n1);
    g_autoptr (Tensor) p1 = tensor_max_pool2d (r1, 3, 2, 1, &error);
    g_autoptr (Tensor) c2 = tensor_conv2d (p1, w2, NULL, 1, 1, &error);
    g_autoptr (Tensor) n2 = tensor_batch_norm (c2, g2, b2, rm2, rv2, &t2, true, 0.1f, 1e-5f,
                                               &error);
    g_autoptr (Tensor) a = tensor_adaptive_avg_pool2d_1x1 (n2, &error);
    g_assert_no_error (error);
    g_autoptr (Tensor) loss = tensor_sum (a);

    g_assert_true (c1->shape[2] == 6 && c1->shape[3] == 6);
    g_assert_true (p1->shape[2] == 3 && p1->shape[3] == 3);
    g_assert_true (a->ndim == 4 && a->shape[1] == 5 && a->shape[2] == 1 && a->shape[3] == 1);
    g_assert_cmpint (t1, ==, 1);
    g_assert_cmpint (t2, ==, 1);

    Node *mean = a->grad_fn, *bn2 = n2->grad_fn, *conv2 = c2->grad_fn, *pool = p1->grad_fn;
    Node *relu = r1->grad_fn, *bn1 = n1->grad_fn, *conv1 = c1->grad_fn;
    g_assert_cmpstr (node_name (mean), ==, "MeanBackward1");
    g_assert_true (mean->n_next == 1 && mean->next[0].node == bn2);
    /* The frozen bn: (x, None, None); the frozen conv: (x, None, None). */
    g_assert_cmpstr (node_name (bn2), ==, "NativeBatchNormBackward0");
    g_assert_true (bn2->n_next == 3 && bn2->next[0].node == conv2);
    g_assert_true (bn2->next[1].node == NULL && bn2->next[2].node == NULL);
    g_assert_cmpstr (node_name (conv2), ==, "ConvolutionBackward0");
    g_assert_true (conv2->n_next == 3 && conv2->next[0].node == pool);
    g_assert_true (conv2->next[1].node == NULL && conv2->next[2].node == NULL);
    g_assert_cmpstr (node_name (pool), ==, "MaxPool2DWithIndicesBackward0");
    g_assert_true (pool->n_next == 1 && pool->next[0].node == relu);
    g_assert_nonnull (pool->extra);
    g_assert_true (relu->next[0].node == bn1);
    g_assert_true (bn1->next[0].node == conv1);
    g_assert_true (bn1->next[1].node->variable == g1 && bn1->next[2].node->variable == b1);
    /* conv1: (None, AccumulateGrad (w1), None) — the image needs no grad, no bias. */
    g_assert_true (conv1->n_next == 3 && conv1->next[0].node == NULL);
    g_assert_cmpstr (node_name (conv1->next[1].node), ==, "AccumulateGrad");
    g_assert_true (conv1->next[1].node->variable == w1);
    g_assert_null (conv1->next[2].node);

    /* What each saves, under PyTorch's names. */
    g_assert_cmpint (conv1->n_saved, ==, 2);
    g_assert_cmpstr (conv1->saved_names[0], ==, "input");
    g_assert_cmpstr (conv1->saved_names[1], ==, "weight");
    g_assert_cmpint (bn1->n_saved, ==, 4);
    g_assert_cmpstr (bn1->saved_names[0], ==, "input");
    g_assert_cmpstr (bn1->saved_names[1], ==, "weight");
    g_assert_cmpstr (bn1->saved_names[2], ==, "result1");
    g_assert_cmpstr (bn1->saved_names[3], ==, "result2");

    /* retain_graph keeps them: a second pass runs and accumulates exactly twice. */
    g_assert_true (tensor_backward (loss, NULL, true, &error));
    g_assert_no_error (error);
    g_assert_null (x->grad);
    g_assert_null (w2->grad);
    g_assert_nonnull (w1->grad);
    g_autoptr (Tensor) w1_grad = tensor_copy (w1->grad);
    g_autoptr (Tensor) g1_grad = tensor_copy (g1->grad);
    g_assert_false (conv1->saved_freed);
    g_assert_true (tensor_backward (loss, NULL, false, &error));
    g_assert_no_error (error);
    for (int64_t i = 0; i < w1_grad->numel; i++)
      g_assert_cmpfloat (w1->grad->data[i], ==, 2 * w1_grad->data[i]);
    for (int64_t i = 0; i < g1_grad->numel; i++)
      g_assert_cmpfloat (g1->grad->data[i], ==, 2 * g1_grad->data[i]);

    /* Without retain_graph, saved tensors and the indices are gone... */
    Node *saving[] = { conv1, bn1, pool, conv2, bn2 };
    for (guint i = 0; i < G_N_ELEMENTS (saving); i++)
      {
        g_assert_true (saving[i]->saved_freed);
        g_assert_false (node_has_saved (saving[i]));
        for (int j = 0; j < saving[i]->n_saved; j++)
          g_assert_null (saving[i]->saved[j]);
      }
    g_assert_null (pool->extra);
    /* ... and a third backward fails with PyTorch's error, leaving .grad alone. */
    g_assert_false (tensor_backward (loss, NULL, false, &error));
    g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_GRAPH_FREED);
    g_clear_error (&error);
    for (int64_t i = 0; i < w1_grad->numel; i++)
      g_assert_cmpfloat (w1->grad->data[i], ==, 2 * w1_grad->data[i]);

    /* A freed subgraph fails too: a new head on bn1's output reaches freed nodes. */
    g_autoptr (Tensor) again = tensor_sum (n1);
    g_assert_false (tensor_backward (again, NULL, false, &error));
    g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_GRAPH_FREED);
  }
  g_assert_cmpint (tensor_live_count (), ==, tensors_before);
  g_assert_cmpint (node_live_count (), ==, nodes_before);
}

/* Ties go to the first maximum in scan order, as PyTorch's CPU kernel; a NaN wins. */
static void
test_maxpool_ties (void)
{
  g_autoptr (Tensor) x = tensor_new_zeros (4, (int64_t[]){ 1, 1, 3, 3 });
  tensor_set_requires_grad (x, true, NULL);
  g_autoptr (Tensor) y = tensor_max_pool2d (x, 3, 2, 1, NULL);
  g_assert_true (y->shape[2] == 2 && y->shape[3] == 2);
  /* torch.nn.functional.max_pool2d (zeros (1, 1, 3, 3), 3, 2, 1, return_indices=True)
   * gives indices [[0, 1], [3, 4]]. */
  const int32_t *idx = y->grad_fn->extra;
  g_assert_cmpint (idx[0], ==, 0);
  g_assert_cmpint (idx[1], ==, 1);
  g_assert_cmpint (idx[2], ==, 3);
  g_assert_cmpint (idx[3], ==, 4);
  g_autoptr (Tensor) s = tensor_sum (y);
  g_assert_true (tensor_backward (s, NULL, false, NULL));
  const float want[9] = { 1, 1, 0, 1, 1, 0, 0, 0, 0 };
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (x->grad->data[i], ==, want[i]);

  g_autoptr (Tensor) z = tensor_new_from_data (4, (int64_t[]){ 1, 1, 2, 2 },
                                               (float[]){ 1, NAN, 3, -INFINITY });
  g_autoptr (Tensor) m = tensor_max_pool2d (z, 2, 2, 0, NULL);
  g_assert_true (isnan (m->data[0]));
}

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) x = tensor_new_zeros (4, (int64_t[]){ 2, 3, 4, 4 });
  g_autoptr (Tensor) w = tensor_new_zeros (4, (int64_t[]){ 4, 2, 3, 3 });
  g_assert_null (tensor_conv2d (x, w, NULL, 1, 0, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_assert_cmpstr (error->message, ==, "Given groups=1, weight of size (4, 2, 3, 3), expected "
                   "input(2, 3, 4, 4) to have 2 channels, but got 3 channels instead");
  g_clear_error (&error);

  g_autoptr (Tensor) w7 = tensor_new_zeros (4, (int64_t[]){ 4, 3, 7, 7 });
  g_assert_null (tensor_conv2d (x, w7, NULL, 1, 0, &error));
  g_assert_cmpstr (error->message, ==, "Calculated padded input size per channel: (4 x 4). "
                   "Kernel size: (7 x 7). Kernel size can't be greater than actual input size");
  g_clear_error (&error);

  g_autoptr (Tensor) w3 = tensor_new_zeros (4, (int64_t[]){ 4, 3, 3, 3 });
  g_autoptr (Tensor) bad_bias = tensor_new_zeros (1, (int64_t[]){ 3 });
  g_assert_null (tensor_conv2d (x, w3, bad_bias, 1, 0, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_null (tensor_conv2d (x, w3, NULL, 0, 0, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);
  g_autoptr (Tensor) flat = tensor_new_zeros (2, (int64_t[]){ 3, 16 });
  g_assert_null (tensor_conv2d (flat, w3, NULL, 1, 0, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);

  g_autoptr (Tensor) one = tensor_new_zeros (4, (int64_t[]){ 1, 3, 1, 1 });
  g_autoptr (Tensor) c3 = tensor_new_ones (1, (int64_t[]){ 3 });
  g_autoptr (Tensor) rm = tensor_new_zeros (1, (int64_t[]){ 3 });
  g_autoptr (Tensor) rv = tensor_new_ones (1, (int64_t[]){ 3 });
  int64_t tracked = 0;
  g_assert_null (tensor_batch_norm (one, c3, c3, rm, rv, &tracked, true, 0.1f, 1e-5f, &error));
  g_assert_cmpstr (error->message, ==, "Expected more than 1 value per channel when training, "
                   "got input size torch.Size([1, 3, 1, 1])");
  g_assert_cmpint (tracked, ==, 0);
  g_clear_error (&error);
  g_assert_null (tensor_batch_norm (x, c3, c3, NULL, NULL, NULL, false, 0.1f, 1e-5f, &error));
  g_assert_cmpstr (error->message, ==, "running_mean must be defined in evaluation mode");
  g_clear_error (&error);
  g_autoptr (Tensor) c4 = tensor_new_ones (1, (int64_t[]){ 4 });
  g_assert_null (tensor_batch_norm (x, c4, c3, rm, rv, NULL, true, 0.1f, 1e-5f, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);

  g_assert_null (tensor_max_pool2d (x, 3, 2, 2, &error));
  g_assert_cmpstr (error->message, ==,
                   "pad should be at most half of kernel size, but got pad=2 and kernel_size=3");
  g_clear_error (&error);
  g_assert_null (tensor_max_pool2d (x, 5, 1, 0, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
  g_clear_error (&error);
  g_assert_null (tensor_adaptive_avg_pool2d_1x1 (flat, &error));
  g_assert_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_SHAPE);
}

/* --- Against PyTorch ------------------------------------------------------------ */

/* The expected values below were printed by tools/make-nn-fixtures.py (PyTorch 1.13);
 * rerun it and paste its output here if the chain changes. */
static const float fx_loss[1] = {
  -0.658510804
};
static const float fx_pool[27] = {
  0, 0, 0.461711198, 1.41461766, 1.41461766, 1.25550985,
  0.274368197, 0.277816147, 0.277816147, 0.766901135, 0.766901135, 0.447326809,
  1.13903868, 1.13903868, 1.03813577, 1.13903868, 1.13903868, 0.0667987838,
  0.473564088, 0.983065069, 0.57862699, 0.984259486, 0.897702157, 0,
  0.984259486, 0.897702157, 0.106726848
};
static const float fx_avg[4] = {
  -0.298110992, 0.407129824, 0.23263976, -1.13866699
};
static const float fx_rm1[3] = {
  0.00837429706, -0.00858045742, -0.0166851189
};
static const float fx_rv1[3] = {
  0.942380786, 0.9345783, 0.933616757
};
static const float fx_x_grad[50] = {
  -0.0506401733, -0.218479723, -0.0719251186, -0.0289322808, 0.0607872829, 0.0211544354,
  0.166182399, -0.0628701448, 0.230094329, 0.05243738, 0.240009665, 0.415263116,
  0.458301276, -0.205519959, 0.000739365816, 0.5337376, -0.155875638, -0.363313287,
  0.153188989, -0.0430926532, -0.162671745, 0.147066966, -0.0619749948, -0.0454569161,
  -0.0220399797, 0.0470654406, -0.0220415257, 0.175222844, 0.0508022793, 0.126649648,
  0.0579324886, 0.0362524092, 0.29054296, -0.0638802797, -0.000969864428, 0.271043092,
  0.0648927093, -0.179980755, -0.0990097672, 0.0218612161, -0.346390158, -0.185989693,
  -0.00261079893, 0.0959907174, -0.0602831319, -0.26985383, 0.224267527, -0.16011627,
  0.0283207186, 0.0420696363
};
static const float fx_w1_grad[54] = {
  -0.0241480004, 0.103179805, -0.10982459, -0.140285626, -0.0836350396, -0.128638551,
  -0.101106323, 0.0281385127, 0.0153168971, 0.0808219314, 0.0349925645, 0.0151376314,
  0.0386574157, 0.046424415, 0.0184558965, 0.0508354455, -0.109003641, 0.140978828,
  0.6189996, -0.190238252, 0.405980736, -0.0984401405, -0.494770348, 0.031739343,
  -0.708076894, 0.328265607, -0.587579548, -0.664102137, 0.197181761, 0.278014451,
  0.396205515, 0.870616972, -0.915982246, -0.837588549, -0.324331254, 0.760672748,
  -0.118000381, 0.0673133954, -0.0887192711, 0.00264663552, -0.0618383363, -0.0619268641,
  0.176081285, -0.109825082, 0.101225153, 0.184968621, 0.170616195, 0.0677225888,
  -0.0916608498, -0.104068115, -0.0258015748, 0.105377316, 0.0161987655, -0.12838091
};
static const float fx_b1_grad[3] = {
  1.49011612e-08, -1.49011612e-08, -7.4505806e-08
};
static const float fx_g1_grad[3] = {
  0.721742809, -1.94630456, -1.00002682
};
static const float fx_beta1_grad[3] = {
  0.192498237, -1.29568613, -0.797009587
};
static const float fx_w2_grad[108] = {
  -0.249729946, -0.47137174, -0.249729946, -0.0490443558, -0.178988352, -0.0490443558,
  -0.249729946, -0.47137174, -0.249729946, -0.201080531, -0.384348124, -0.201080531,
  -0.336465627, -0.427226931, -0.336465627, -0.201080531, -0.384348124, -0.201080531,
  -0.158476114, -0.17375654, -0.158476114, -0.332021773, -0.378346443, -0.332021773,
  -0.158476114, -0.17375654, -0.158476114, 0.19158271, 0.361617327, 0.19158271,
  0.0376248471, 0.137312621, 0.0376248471, 0.19158271, 0.361617327, 0.19158271,
  0.154260844, 0.29485634, 0.154260844, 0.258122832, 0.327751249, 0.258122832,
  0.154260844, 0.29485634, 0.154260844, 0.121576466, 0.133298993, 0.121576466,
  0.254713684, 0.29025209, 0.254713684, 0.121576466, 0.133298993, 0.121576466,
  -0.0857063979, -0.161773041, -0.0857063979, -0.0168318413, -0.0614281408, -0.0168318413,
  -0.0857063979, -0.161773041, -0.0857063979, -0.0690100938, -0.131906867, -0.0690100938,
  -0.11547377, -0.146622732, -0.11547377, -0.0690100938, -0.131906867, -0.0690100938,
  -0.0543884188, -0.0596326031, -0.0543884188, -0.113948658, -0.129847109, -0.113948658,
  -0.0543884188, -0.0596326031, -0.0543884188, 0.367720485, 0.694081962, 0.367720485,
  0.0722164661, 0.263555408, 0.0722164661, 0.367720485, 0.694081962, 0.367720485,
  0.296085536, 0.565942049, 0.296085536, 0.4954364, 0.629079938, 0.4954364,
  0.296085536, 0.565942049, 0.296085536, 0.233351722, 0.255851716, 0.233351722,
  0.488892943, 0.557104766, 0.488892943, 0.233351722, 0.255851716, 0.233351722
};
static const float fx_g2_grad[4] = {
  -0.172048688, 0.183645085, -0.0915677249, -0.952998281
};
static const float fx_beta2_grad[4] = {
  -0.667244673, 0.804402113, -0.298278809, 0.979679227
};
static const float fx_w3_grad[12] = {
  -0.169129103, -0.403693944, -0.357505918, 0.203894928, 0.486676425, 0.430994123,
  -0.0756058916, -0.180463552, -0.159816101, 0.248323098, 0.592721939, 0.524906576
};

/* The LCG of tools/make-nn-fixtures.py: every value k/2^24 scaled by a power of two,
 * so float32 holds exactly what PyTorch got. */
static Tensor *
lcg_tensor (int ndim, const int64_t *shape, uint32_t seed, bool positive, float scale,
            bool requires_grad)
{
  Tensor *t = tensor_new_empty (ndim, shape);
  uint64_t state = seed;
  for (int64_t i = 0; i < t->numel; i++)
    {
      state = (state * 1103515245u + 12345u) % (1u << 31);
      double u = (double) (state >> 7) / (double) (1u << 24);
      t->data[i] = (float) (positive ? 0.5 + 0.5 * u : (2 * u - 1) * scale);
    }
  tensor_set_requires_grad (t, requires_grad, NULL);
  return t;
}

static void
test_pytorch_chain (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Tensor) x = lcg_tensor (4, (int64_t[]){ 1, 2, 5, 5 }, 1, false, 1.0f, true);
  g_autoptr (Tensor) w1 = lcg_tensor (4, (int64_t[]){ 3, 2, 3, 3 }, 2, false, 0.5f, true);
  g_autoptr (Tensor) b1 = lcg_tensor (1, (int64_t[]){ 3 }, 3, false, 0.5f, true);
  g_autoptr (Tensor) g1 = lcg_tensor (1, (int64_t[]){ 3 }, 4, true, 1, true);
  g_autoptr (Tensor) beta1 = lcg_tensor (1, (int64_t[]){ 3 }, 5, false, 0.5f, true);
  g_autoptr (Tensor) rm1 = tensor_new_zeros (1, (int64_t[]){ 3 });
  g_autoptr (Tensor) rv1 = tensor_new_ones (1, (int64_t[]){ 3 });
  g_autoptr (Tensor) w2 = lcg_tensor (4, (int64_t[]){ 4, 3, 3, 3 }, 6, false, 0.5f, true);
  g_autoptr (Tensor) g2 = lcg_tensor (1, (int64_t[]){ 4 }, 7, true, 1, true);
  g_autoptr (Tensor) beta2 = lcg_tensor (1, (int64_t[]){ 4 }, 8, false, 0.5f, true);
  g_autoptr (Tensor) rm2 = lcg_tensor (1, (int64_t[]){ 4 }, 9, false, 0.5f, false);
  g_autoptr (Tensor) rv2 = lcg_tensor (1, (int64_t[]){ 4 }, 10, true, 1, false);
  g_autoptr (Tensor) w3 = lcg_tensor (4, (int64_t[]){ 4, 3, 1, 1 }, 11, false, 0.5f, true);
  g_autoptr (Tensor) r = lcg_tensor (4, (int64_t[]){ 1, 4, 1, 1 }, 12, false, 1.0f, false);
  int64_t tracked1 = 0, tracked2 = 0;

  g_autoptr (Tensor) c1 = tensor_conv2d (x, w1, b1, 1, 1, &error);
  g_autoptr (Tensor) n1 = tensor_batch_norm (c1, g1, beta1, rm1, rv1, &tracked1, true,
                                             0.1f, 1e-5f, &error);
  g_autoptr (Tensor) h = tensor_relu (n1);
  g_autoptr (Tensor) p = tensor_max_pool2d (h, 3, 2, 1, &error);
  g_autoptr (Tensor) c2 = tensor_conv2d (p, w2, NULL, 2, 1, &error);
  g_autoptr (Tensor) n2 = tensor_batch_norm (c2, g2, beta2, rm2, rv2, &tracked2, false,
                                             0.1f, 1e-5f, &error);
  g_autoptr (Tensor) d = tensor_conv2d (p, w3, NULL, 2, 0, &error);
  g_autoptr (Tensor) e = tensor_add (n2, d, &error);
  g_autoptr (Tensor) a = tensor_adaptive_avg_pool2d_1x1 (e, &error);
  g_autoptr (Tensor) ar = tensor_mul (a, r, &error);
  g_autoptr (Tensor) loss = tensor_sum (ar);
  g_assert_no_error (error);
  g_assert_true (tensor_backward (loss, NULL, false, &error));
  g_assert_no_error (error);

  const double tol = 1e-4;
  assert_rel_close ("loss", loss, fx_loss, 1, tol);
  assert_rel_close ("max_pool2d output", p, fx_pool, G_N_ELEMENTS (fx_pool), tol);
  assert_rel_close ("adaptive_avg_pool2d output", a, fx_avg, G_N_ELEMENTS (fx_avg), tol);
  assert_rel_close ("bn1.running_mean", rm1, fx_rm1, G_N_ELEMENTS (fx_rm1), tol);
  assert_rel_close ("bn1.running_var", rv1, fx_rv1, G_N_ELEMENTS (fx_rv1), tol);
  g_assert_cmpint (tracked1, ==, 1);
  g_assert_cmpint (tracked2, ==, 0);
  assert_rel_close ("x.grad", x->grad, fx_x_grad, G_N_ELEMENTS (fx_x_grad), tol);
  assert_rel_close ("w1.grad", w1->grad, fx_w1_grad, G_N_ELEMENTS (fx_w1_grad), tol);
  /* A conv bias right before a training-mode batch norm has zero gradient (the batch
   * mean absorbs it): PyTorch's values are rounding noise, so compare absolutely. */
  for (guint i = 0; i < G_N_ELEMENTS (fx_b1_grad); i++)
    g_assert_cmpfloat_with_epsilon (b1->grad->data[i], fx_b1_grad[i], 1e-6);
  assert_rel_close ("g1.grad", g1->grad, fx_g1_grad, G_N_ELEMENTS (fx_g1_grad), tol);
  assert_rel_close ("beta1.grad", beta1->grad, fx_beta1_grad, G_N_ELEMENTS (fx_beta1_grad), tol);
  assert_rel_close ("w2.grad", w2->grad, fx_w2_grad, G_N_ELEMENTS (fx_w2_grad), tol);
  assert_rel_close ("g2.grad", g2->grad, fx_g2_grad, G_N_ELEMENTS (fx_g2_grad), tol);
  assert_rel_close ("beta2.grad", beta2->grad, fx_beta2_grad, G_N_ELEMENTS (fx_beta2_grad), tol);
  assert_rel_close ("w3.grad", w3->grad, fx_w3_grad, G_N_ELEMENTS (fx_w3_grad), tol);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/nn/conv-naive", test_conv_naive);
  for (guint i = 0; i < G_N_ELEMENTS (layer_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/engine/nn/gradcheck/%s", layer_cases[i].name);
      g_test_add_data_func (path, &layer_cases[i], test_layer_gradient);
    }
  g_test_add_func ("/engine/nn/bn-running-stats", test_bn_running_stats);
  g_test_add_func ("/engine/nn/edges-and-saved", test_edges_and_saved);
  g_test_add_func ("/engine/nn/maxpool-ties", test_maxpool_ties);
  g_test_add_func ("/engine/nn/errors", test_errors);
  g_test_add_func ("/engine/nn/pytorch-chain", test_pytorch_chain);
  return g_test_run ();
}

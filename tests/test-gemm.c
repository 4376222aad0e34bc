/* test-gemm.c — the fast kernels against plain references: gemm (OpenBLAS or the
 * direct kernels, on the pool) against the naive three loops, on every path and
 * transposition, thread counts agreeing bit for bit; the pool itself; max pooling's
 * vectorised rows against the definition, ties and NaNs included. */
#include "gemm.h"
#include "nn.h"
#include "autograd.h"
#include "parallel.h"
#include "vec.h"
#include "winograd.h"

#include <math.h>

typedef struct
{
  int m, n, k;
  const char *why;
} Shape;

/* resnet18's products at 64×64 and 224×224, and the edges of each path. */
static const Shape shapes[] = {
  { 512, 4, 4608, "layer4 forward at 64×64: dot" },
  { 4608, 4, 512, "layer4 input grad at 64×64: direct on the transpose" },
  { 512, 4608, 4, "layer4 weight grad at 64×64: short inner dimension" },
  { 256, 16, 2304, "layer3 forward at 64×64: direct" },
  { 2304, 16, 256, "layer3 input grad" },
  { 128, 64, 1152, "layer2 forward" },
  { 256, 49, 1152, "layer4-like forward at 224×224" },
  { 64, 256, 576, "layer1 forward at 64×64: OpenBLAS" },
  { 64, 576, 256, "layer1 weight grad at 64×64" },
  { 3, 5, 7, "tiny" },
  { 37, 1, 300, "one column" },
  { 1, 37, 300, "one row" },
  { 29, 7, 33, "odd dot" },
  { 13, 61, 100, "odd direct" },
  { 130, 200, 9, "short inner, odd" },
  { 200, 130, 150, "odd OpenBLAS" },
};

static void
fill (float *x, size_t n, Generator *gen)
{
  for (size_t i = 0; i < n; i++)
    x[i] = generator_uniform_float (gen) * 2 - 1;
}

/* One product with every transposition, alpha/beta pair and padded leading dims. */
static void
check_shape (const Shape *s, Generator *gen)
{
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int ab = 0; ab < 2; ab++)
        {
          int m = s->m, n = s->n, k = s->k;
          float alpha = ab ? 0.5f : 1.0f, beta = ab ? -1.5f : 0.0f;
          int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
          size_t na = (size_t) (ta ? k : m) * lda, nb = (size_t) (tb ? n : k) * ldb;
          size_t nc = (size_t) m * ldc;
          float *a = g_new (float, na), *b = g_new (float, nb);
          float *c = g_new (float, nc), *ref = g_new (float, nc);
          fill (a, na, gen);
          fill (b, nb, gen);
          fill (c, nc, gen);
          memcpy (ref, c, nc * sizeof (float));

          /* Streamed C (weight gradients) on every other combination. */
          if ((ta + tb + ab) % 2)
            gemm_stream_c (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
          else
            gemm (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
          gemm_naive (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc);
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
              {
                float got = c[(size_t) i * ldc + j], want = ref[(size_t) i * ldc + j];
                /* Sums of k products of numbers in [-1, 1]: error grows like √k. */
                float tol = 1e-5f * sqrtf ((float) k) * (1 + fabsf (want));
                if (!(fabsf (got - want) <= tol))
                  g_error ("%s (%d×%d×%d, %s%s, %s): C[%d][%d] = %g, expected %g",
                           s->why, m, n, k, ta ? "Aᵀ" : "A", tb ? "Bᵀ" : "B",
                           gemm_path (ta, tb, m, n, k), i, j, got, want);
              }
          /* The padding between rows of C is left alone. */
          for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++)
              g_assert_cmpfloat (c[(size_t) i * ldc + j], ==, ref[(size_t) i * ldc + j]);
          g_free (a);
          g_free (b);
          g_free (c);
          g_free (ref);
        }
}

static void
test_paths (void)
{
  Generator gen;
  generator_init (&gen, 1);
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    check_shape (&shapes[i], &gen);
}

/* The same shapes with the direct kernels off: OpenBLAS alone, split on the pool. */
static void
test_openblas (void)
{
  Generator gen;
  generator_init (&gen, 2);
  gemm_set_direct_enabled (false);
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      g_assert_cmpstr (gemm_path (false, false, shapes[i].m, shapes[i].n, shapes[i].k), ==,
                       "openblas");
      check_shape (&shapes[i], &gen);
    }
  gemm_set_direct_enabled (true);
}

/* A weight gradient's shape with C in whole aligned lines: the streamed stores. */
static void
test_stream (void)
{
  Generator gen;
  generator_init (&gen, 5);
  int m = 512, n = 2304, k = 9;
  float *a = g_new (float, m * k), *b = g_new (float, n * k);
  float *c = g_aligned_alloc (m * n, sizeof (float), 64);
  float *ref = g_new (float, m * n);
  fill (a, m * k, &gen);
  fill (b, n * k, &gen);
  fill (c, m * n, &gen);
  gemm_stream_c (false, true, m, n, k, 1, a, k, b, k, 0, c, n);
  gemm_naive (false, true, m, n, k, 1, a, k, b, k, 0, ref, n);
  for (int i = 0; i < m * n; i++)
    g_assert_cmpfloat_with_epsilon (c[i], ref[i], 1e-5f * 3 * (1 + fabsf (ref[i])));
  g_free (a);
  g_free (b);
  g_aligned_free (c);
  g_free (ref);
}

/* The paths the engine counts on for resnet18's thin layers are the ones taken. */
static void
test_choice (void)
{
  if (g_strcmp0 (gemm_path (false, false, 512, 4, 4608), "openblas") == 0)
    {
      g_test_skip ("no AVX-512: every product goes to OpenBLAS");
      return;
    }
  g_assert_cmpstr (gemm_path (false, false, 512, 4, 4608), ==, "dot");
  g_assert_cmpstr (gemm_path (true, false, 4608, 4, 512), ==, "direct-t");
  g_assert_cmpstr (gemm_path (false, true, 512, 4608, 4), ==, "direct");
  g_assert_cmpstr (gemm_path (false, false, 256, 16, 2304), ==, "direct");
  g_assert_cmpstr (gemm_path (false, false, 64, 3136, 576), ==, "openblas");
}

/* Each element is summed in the same order on 1 or 2 threads: identical bits. */
static void
test_threads_agree (void)
{
  Generator gen;
  generator_init (&gen, 3);
  int saved = parallel_get_num_threads ();
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      const Shape *s = &shapes[i];
      size_t na = (size_t) s->m * s->k, nb = (size_t) s->k * s->n, nc = (size_t) s->m * s->n;
      float *a = g_new (float, na), *b = g_new (float, nb);
      float *c1 = g_new0 (float, nc), *c2 = g_new0 (float, nc);
      fill (a, na, &gen);
      fill (b, nb, &gen);
      parallel_set_num_threads (1);
      gemm (false, false, s->m, s->n, s->k, 1, a, s->k, b, s->n, 0, c1, s->n);
      parallel_set_num_threads (2);
      gemm (false, false, s->m, s->n, s->k, 1, a, s->k, b, s->n, 0, c2, s->n);
      g_assert_cmpmem (c1, nc * sizeof (float), c2, nc * sizeof (float));
      g_free (a);
      g_free (b);
      g_free (c1);
      g_free (c2);
    }
  parallel_set_num_threads (saved);
}

/* parallel_for covers [0, n) exactly once, in slices of at least the grain. */
typedef struct
{
  gint *hits;
  gint calls;
} Cover;

static void
cover_range (gpointer data, int64_t begin, int64_t end)
{
  Cover *cv = data;
  g_atomic_int_inc (&cv->calls);
  for (int64_t i = begin; i < end; i++)
    g_atomic_int_inc (&cv->hits[i]);
}

static void
test_parallel_for (void)
{
  int saved = parallel_get_num_threads ();
  parallel_set_num_threads (2);
  for (int64_t n = 1; n < 3000; n = n * 3 + 1)
    {
      Cover cv = { g_new0 (gint, n), 0 };
      parallel_for (n, 100, cover_range, &cv);
      for (int64_t i = 0; i < n; i++)
        g_assert_cmpint (cv.hits[i], ==, 1);
      /* Up to four slices per thread, each at least the grain. */
      g_assert_cmpint (cv.calls, ==, n >= 200 ? MIN (8, n / 100) : 1);
      g_free (cv.hits);
    }
  /* Many short jobs back to back, and resizes between them: every index once. */
  for (int round = 0; round < 200; round++)
    {
      if (round % 50 == 0)
        parallel_set_num_threads (1 + round / 50 % 3);
      int64_t n = 1000 + round;
      Cover cv = { g_new0 (gint, n), 0 };
      if (round % 2)
        parallel_for (n, 10, cover_range, &cv);
      else
        parallel_for_each ((int) n, cover_range, &cv);
      for (int64_t i = 0; i < n; i++)
        g_assert_cmpint (cv.hits[i], ==, 1);
      g_free (cv.hits);
    }
  parallel_set_num_threads (saved);
}

/* max_pool2d (x, k, s, p) by the definition: first maximum in scan order, a NaN
 * replaces anything. */
static void
max_pool_reference (const Tensor *x, int k, int s, int p, float *y, int32_t *idx)
{
  int64_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
  int64_t oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  for (int64_t pl = 0; pl < planes; pl++)
    for (int64_t oy = 0; oy < oh; oy++)
      for (int64_t ox = 0; ox < ow; ox++)
        {
          float best = -INFINITY;
          int64_t bi = MAX (oy * s - p, 0) * w + MAX (ox * s - p, 0);
          for (int64_t iy = oy * s - p; iy < oy * s - p + k; iy++)
            for (int64_t ix = ox * s - p; ix < ox * s - p + k; ix++)
              {
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  continue;
                float v = x->data[(pl * h + iy) * w + ix];
                if (v > best || isnan (v))
                  {
                    best = v;
                    bi = iy * w + ix;
                  }
              }
          y[(pl * oh + oy) * ow + ox] = best;
          idx[(pl * oh + oy) * ow + ox] = (int32_t) bi;
        }
}

static void
test_max_pool (void)
{
  static const int configs[][3] = { { 3, 2, 1 }, { 2, 2, 0 }, { 3, 1, 1 }, { 3, 3, 0 } };
  Generator gen;
  generator_init (&gen, 4);
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      int k = configs[c][0], s = configs[c][1], p = configs[c][2];
      g_autoptr (Tensor) x = tensor_new_empty (4, (int64_t[]){ 2, 3, 19, 23 });
      /* Few distinct values: many ties. A few NaNs and -inf. */
      for (int64_t i = 0; i < x->numel; i++)
        {
          uint32_t r = generator_next_u32 (&gen) % 64;
          x->data[i] = r == 0 ? NAN : r == 1 ? -INFINITY : (float) (r % 3);
        }
      tensor_set_requires_grad (x, true, NULL);
      g_autoptr (Tensor) y = tensor_max_pool2d (x, k, s, p, NULL);
      float *want = g_new (float, y->numel);
      int32_t *want_idx = g_new (int32_t, y->numel);
      max_pool_reference (x, k, s, p, want, want_idx);
      const int32_t *idx = y->grad_fn->extra;
      for (int64_t i = 0; i < y->numel; i++)
        {
          g_assert_cmpint (idx[i], ==, want_idx[i]);
          if (isnan (want[i]))
            g_assert_true (isnan (y->data[i]));
          else
            g_assert_cmpfloat (y->data[i], ==, want[i]);
        }
      g_free (want);
      g_free (want_idx);
    }
}

/* The vectorised SGD step gives the plain loop's floats, bit for bit, whatever the
 * alignment of its slice. */
static void
test_sgd_kernel (void)
{
  Generator gen;
  generator_init (&gen, 6);
  int n = 1000;
  for (int offset = 0; offset < 17; offset += 5)
    {
      float *w = g_new (float, n), *g = g_new (float, n), *buf = g_new (float, n);
      float *upd = g_new (float, n);
      float *w2 = g_new (float, n), *buf2 = g_new (float, n);
      fill (w, n, &gen);
      fill (g, n, &gen);
      fill (buf, n, &gen);
      memcpy (w2, w, n * sizeof (float));
      memcpy (buf2, buf, n * sizeof (float));
      float mom = 0.9f, omd = 0.75f, neg_lr = -0.01f;
      vec_sgd_momentum (w + offset, g + offset, buf + offset, upd + offset, n - offset, mom, omd,
                        neg_lr);
      for (int i = offset; i < n; i++)
        {
          volatile float scaled = buf2[i] * mom;
          volatile float gd = omd * g[i];
          float b = scaled + gd;
          float before = w2[i];
          volatile float step = neg_lr * b;
          float after = before + step;
          g_assert_cmpfloat (buf[i], ==, b);
          g_assert_cmpfloat (w[i], ==, after);
          g_assert_cmpfloat (upd[i], ==, after - before);
        }
      g_free (w);
      g_free (g);
      g_free (buf);
      g_free (upd);
      g_free (w2);
      g_free (buf2);
    }
}

/* vec_transpose: in-register 16×16 blocks and the ragged edges, on a slice of rows. */
static void
test_transpose (void)
{
  static const int sizes[][2] = { { 37, 53 }, { 64, 48 }, { 1000, 512 }, { 5, 3 }, { 16, 17 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int rows = sizes[i][0], cols = sizes[i][1], lda = cols + 3, ldo = rows + 1;
      float *a = g_new (float, (size_t) rows * lda), *out = g_new0 (float, (size_t) cols * ldo);
      for (int k = 0; k < rows * lda; k++)
        a[k] = (float) k;
      int r0 = rows > 20 ? 3 : 0;
      vec_transpose (out, ldo, a, lda, r0, rows, cols);
      for (int c = 0; c < cols; c++)
        for (int r = 0; r < rows; r++)
          g_assert_cmpfloat (out[(size_t) c * ldo + r], ==, r < r0 ? 0 : a[(size_t) r * lda + c]);
      g_free (a);
      g_free (out);
    }
}

/* Winograd's F(2×2, 3×3) against the definition: odd and even sizes, bias, the
 * flipped kernel of input gradients, a group of several images, and a batch cut
 * into groups. */
static void
test_winograd (void)
{
  static const int cases[][5] = {  /* n, ci, h, w, co */
    { 1, 3, 4, 4, 2 }, { 2, 5, 7, 9, 6 }, { 3, 4, 6, 5, 3 }, { 1, 64, 16, 16, 64 },
    { 2, 16, 14, 14, 32 }, { 1, 1, 1, 1, 1 }, { 1, 2, 3, 2, 2 },
    { 1, 17, 34, 40, 8 }, { 2, 3, 33, 65, 2 },   /* 16 tiles per vector, and the rest */
    { 2, 32, 92, 91, 32 },   /* 16·2116 tiles·32 channels > GROUP_FLOATS: a group per image */
  };
  Generator gen;
  generator_init (&gen, 7);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int flip = 0; flip < 2; flip++)
      {
        int n = cases[i][0], ci = cases[i][1], h = cases[i][2], w = cases[i][3];
        int co = cases[i][4];
        size_t nx = (size_t) n * ci * h * w, nw = (size_t) co * ci * 9, ny = (size_t) n * co * h * w;
        float *x = g_new (float, nx), *k = g_new (float, nw), *bias = g_new (float, co);
        float *y = g_new (float, ny), *ref = g_new (float, ny);
        fill (x, nx, &gen);
        fill (k, nw, &gen);
        fill (bias, co, &gen);
        if (flip)
          {
            /* The weight gradient too: x (n, ci, h, w), g (n, co, h, w). */
            float *g = g_new (float, ny), *dw = g_new (float, nw), *dw_ref = g_new (float, nw);
            fill (g, ny, &gen);
            conv3x3_winograd_weight_grad (dw, x, g, n, ci, h, w, co);
            conv3x3_weight_grad_naive (dw_ref, x, g, n, ci, h, w, co);
            for (size_t e = 0; e < nw; e++)
              if (!(fabsf (dw[e] - dw_ref[e])
                    <= 3e-5f * sqrtf ((float) n * h * w) * (1 + fabsf (dw_ref[e]))))
                g_error ("winograd weight grad %d×%d×%d×%d → %d: dw[%zu] = %g, expected %g", n,
                         ci, h, w, co, e, dw[e], dw_ref[e]);
            g_free (g);
            g_free (dw);
            g_free (dw_ref);
          }
        conv3x3_winograd (y, x, k, flip ? NULL : bias, n, ci, h, w, co, flip);
        conv3x3_winograd_naive (ref, x, k, flip ? NULL : bias, n, ci, h, w, co, flip);
        for (size_t e = 0; e < ny; e++)
          if (!(fabsf (y[e] - ref[e]) <= 2e-5f * sqrtf (9.0f * ci) * (1 + fabsf (ref[e]))))
            g_error ("winograd %d×%d×%d×%d → %d%s: out[%zu] = %g, expected %g", n, ci, h, w, co,
                     flip ? " (flipped)" : "", e, y[e], ref[e]);
        g_free (x);
        g_free (k);
        g_free (bias);
        g_free (y);
        g_free (ref);
      }
}

/* Σ c² as gemm_stream_c_sumsq measures it — from the Gram matrices for a short inner
 * dimension, block by block after OpenBLAS, in the direct kernel — is a pass over C in
 * double, for either operand stored transposed, with and without the direct kernels. */
static void
test_sumsq (void)
{
  static const int shapes[][3] = { { 512, 4608, 4 }, { 300, 500, 3 }, { 64, 1000, 16 },
                                   { 256, 2304, 16 }, { 64, 576, 256 }, { 40, 30, 2 } };
  Generator gen;
  generator_init (&gen, 9);
  for (int direct = 1; direct >= 0; direct--)
    for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
      for (int t = 0; t < 4; t++)
        {
          bool ta = t & 1, tb = t & 2;
          int m = shapes[i][0], n = shapes[i][1], k = shapes[i][2];
          float *a = g_new (float, (size_t) m * k), *b = g_new (float, (size_t) k * n);
          float *c = g_aligned_alloc ((size_t) m * n, sizeof (float), 64);
          fill (a, m * k, &gen);
          fill (b, k * n, &gen);
          gemm_set_direct_enabled (direct);
          double got = gemm_stream_c_sumsq (ta, tb, m, n, k, 0.5f, a, ta ? m : k, b,
                                            tb ? k : n, 0, c, n);
          gemm_set_direct_enabled (true);
          double want = 0;
          for (int64_t e = 0; e < (int64_t) m * n; e++)
            want += (double) c[e] * c[e];
          if (!(fabs (got - want) <= 1e-6 * want))
            g_error ("sum of c^2 of A (%d, %d)%s times B (%d, %d)%s (%s): %.9g, a pass over C "
                     "%.9g", m, k, ta ? " stored transposed" : "", k, n,
                     tb ? " stored transposed" : "", direct ? "direct on" : "OpenBLAS only", got,
                     want);
          g_free (a);
          g_free (b);
          g_aligned_free (c);
        }
}

/* With an observer, a convolution's weight gradient is measured as it is written
 * (gemm_stream_c_sumsq): its edge norm is that of the .grad it becomes. */
static gboolean
observe_nothing (const Event *event, gpointer data)
{
  return TRUE;
}

static void
test_weight_grad_norm (void)
{
  /* c, h = w, o, kernel: the last is layer4's at 64×64 (an inner dimension of 4) */
  static const int shapes[][4] = { { 64, 4, 128, 3 }, { 16, 8, 32, 1 }, { 8, 20, 8, 3 },
                                   { 256, 2, 512, 3 } };
  Generator gen;
  generator_init (&gen, 8);
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      int c = shapes[i][0], hw = shapes[i][1], o = shapes[i][2], k = shapes[i][3];
      g_autoptr (Tensor) x = tensor_new_rand (4, (int64_t[]){ 2, c, hw, hw }, &gen);
      g_autoptr (Tensor) w = tensor_new_rand (4, (int64_t[]){ o, c, k, k }, &gen);
      tensor_set_requires_grad (w, true, NULL);
      g_autoptr (Tensor) y = tensor_conv2d (x, w, NULL, 1, k / 2, NULL);
      g_autoptr (Tensor) s = tensor_sum (y);
      Node *conv = s->grad_fn->next[0].node;
      g_assert_cmpstr (node_name (conv), ==, "ConvolutionBackward0");
      autograd_set_observer (observe_nothing, NULL);
      g_assert_true (tensor_backward (s, NULL, false, NULL));
      autograd_set_observer (NULL, NULL);
      double want = tensor_norm2 (w->grad);
      g_assert_cmpfloat (want, >, 0);
      g_assert_cmpfloat_with_epsilon (conv->grad_norm_out[1], want, 1e-5 * want);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/gemm/paths", test_paths);
  g_test_add_func ("/engine/gemm/openblas", test_openblas);
  g_test_add_func ("/engine/gemm/choice", test_choice);
  g_test_add_func ("/engine/gemm/stream", test_stream);
  g_test_add_func ("/engine/gemm/threads-agree", test_threads_agree);
  g_test_add_func ("/engine/gemm/parallel-for", test_parallel_for);
  g_test_add_func ("/engine/gemm/max-pool", test_max_pool);
  g_test_add_func ("/engine/gemm/sgd-kernel", test_sgd_kernel);
  g_test_add_func ("/engine/gemm/winograd", test_winograd);
  g_test_add_func ("/engine/gemm/transpose", test_transpose);
  g_test_add_func ("/engine/gemm/sumsq", test_sumsq);
  g_test_add_func ("/engine/gemm/weight-grad-norm", test_weight_grad_norm);
  return g_test_run ();
}

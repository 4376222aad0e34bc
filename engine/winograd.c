/* winograd.c — F(2×2, 3×3) convolutions: transforms and the 16 products (winograd.h).
 *
 * Layouts, for a group of G images with T = th·tw tiles each (th = ⌈h/2⌉, tw = ⌈w/2⌉),
 * tile t = image·T + ty·tw + tx, ld = G·T:
 *
 *   U (16, co, ci)     U[ξ][o][c] = (G g_oc Gᵀ)[ξ]
 *   V (16, ci, ld)     V[ξ][c][t] = (Bᵀ d_ct B)[ξ]
 *   M (16, co, ld)     M[ξ] = U[ξ] · V[ξ]
 *   out[o][2ty + i][2tx + j] = (Aᵀ M_ot A)[i][j]   (cropped at odd edges)
 *
 * The 16 planes of each lie plane_stride () floats apart: a little more than a
 * plane, so that the 16 streams a transform writes or reads at once do not fall in
 * the same cache set (co·ci is a power of two for every layer of resnet18).
 *
 * With AVX-512 the transforms take 16 tiles (or 16 input channels) per vector; the
 * plain loops below are the reference and the fallback.
 */
#include "winograd.h"
#include "gemm.h"
#include "nn.h"
#include "parallel.h"
#include "tensor.h"
#include "vec.h"

#include <immintrin.h>
#include <string.h>

/* Images per group: V and M of about GROUP_FLOATS floats each at most. */
#define GROUP_FLOATS (2 << 20)

/* Floats between two of the 16 planes of n floats: whole lines, plus one. */
static int64_t
plane_stride (int64_t n)
{
  return (n + 15) / 16 * 16 + 16;
}

/* --- Shared by the convolution and its weight gradient -------------------------------- */

/* How a call cuts its batch, and the planes of its three buffers: U or Z (16, co, ci),
 * V (16, ci, G·T), M or Mg (16, co, G·T). */
typedef struct
{
  int h, w, th, tw;                /* image, and tiles along each side */
  int64_t tiles;                   /* per image: th·tw */
  int group;                       /* images per group */
  int64_t u_plane, v_plane, m_plane;
} Tiling;

static Tiling
tiling_new (int n, int ci, int h, int w, int co)
{
  Tiling t = { h, w, (h + 1) / 2, (w + 1) / 2 };
  t.tiles = (int64_t) t.th * t.tw;
  int64_t per_image = 16 * t.tiles * MAX (ci, co);
  t.group = (int) CLAMP (GROUP_FLOATS / MAX (per_image, 1), 1, MAX (n, 1));
  t.u_plane = plane_stride ((int64_t) co * ci);
  t.v_plane = plane_stride (ci * t.group * t.tiles);
  t.m_plane = plane_stride (co * t.group * t.tiles);
  return t;
}

/* 16 planes, `plane` floats apart: scratch from tensor storage, reused step after
 * step (tensor.c). */
static Tensor *
planes_new (int64_t plane)
{
  return tensor_new_empty (1, (int64_t[]){ 16 * plane });
}

/* A transform between a group's images (G, channels, h, w) and the transformed
 * domain (16, channels, ld), ld = G·tiles, planes `plane` floats apart; sliced over
 * the group's image planes, image·channels + c. */
typedef struct
{
  const float *src;
  float *dst;
  const float *bias;               /* output: (channels) or NULL */
  int channels;
  int64_t ld, plane;
  Tiling t;
} TransformJob;

static void
transform (ParallelFn range, const Tiling *t, int channels, int images, const float *src,
           float *dst, int64_t plane, const float *bias)
{
  TransformJob j = { src, dst, bias, channels, images * t->tiles, plane, *t };
  int64_t grain = MAX (1, 16384 / MAX (t->h * t->w, 1));   /* about 16K pixels a slice */
  parallel_for ((int64_t) images * channels, grain, range, &j);
}

/* rows (count, width) = rows y0 … y0 + count − 1 of the plane (h, w), each placed at
 * column `at`, zero around it and past the plane's edges. */
static inline void
stage_rows (float *rows, int width, int count, const float *plane, int h, int w, int y0, int at)
{
  for (int r = 0; r < count; r++)
    {
      float *row = rows + r * width;
      int y = y0 + r;
      memset (row, 0, width * sizeof (float));
      if (y >= 0 && y < h)
        memcpy (row + at, plane + (int64_t) y * w, w * sizeof (float));
    }
}

/* C[ξ] = A[ξ] · op(B[ξ]) + beta·C[ξ] for the 16 ξ, each operand's planes apart. */
typedef struct
{
  bool trans_b;
  int m, n, k;
  const float *a, *b;
  float *c;
  int lda, ldb, ldc;
  int64_t a_plane, b_plane, c_plane;
  float beta;
} ProductJob;

static void
product_range (gpointer data, int64_t x0, int64_t x1)
{
  const ProductJob *j = data;
  for (int64_t xi = x0; xi < x1; xi++)   /* serial inside a slice */
    gemm (false, j->trans_b, j->m, j->n, j->k, 1, j->a + xi * j->a_plane, j->lda,
          j->b + xi * j->b_plane, j->ldb, j->beta, j->c + xi * j->c_plane, j->ldc);
}

/* --- Kernel: U = G g Gᵀ --------------------------------------------------------------- */

typedef struct
{
  float *u;                        /* (16, co, ci), planes `plane` floats apart */
  const float *wt;                 /* (co, 9, ci): tap k of kernel (o, c) at wt[(o·9 + k)·ci + c] */
  int ci, co;
  int64_t plane;
  bool flip;                       /* taps read turned by 180° */
} WeightJob;

/* G g Gᵀ for one kernel g (3×3) into u[ξ·plane]. */
static inline void
weight_one (const float g[3][3], float *u, int64_t plane)
{
  /* G g (4×3), then (G g) Gᵀ (4×4). */
  float t[4][3];
  for (int k = 0; k < 3; k++)
    {
      t[0][k] = g[0][k];
      t[1][k] = 0.5f * (g[0][k] + g[1][k] + g[2][k]);
      t[2][k] = 0.5f * (g[0][k] - g[1][k] + g[2][k]);
      t[3][k] = g[2][k];
    }
  for (int i = 0; i < 4; i++)
    {
      u[(4 * i + 0) * plane] = t[i][0];
      u[(4 * i + 1) * plane] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
      u[(4 * i + 2) * plane] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
      u[(4 * i + 3) * plane] = t[i][2];
    }
}

/* Tap (i, k) of the kernel as used: turned by 180° when flipped. */
static inline int
tap (bool flip, int i, int k)
{
  return flip ? (2 - i) * 3 + (2 - k) : i * 3 + k;
}

/* Sixteen input channels c0 … c0 + 15 of output channel o at once, the same
 * arithmetic: each tap of the sixteen kernels is one load from wt. */
__attribute__ ((target ("avx512f"))) static void
weight_16 (const WeightJob *j, int64_t o, int c0)
{
  const float *base = j->wt + o * 9 * j->ci + c0;
  __m512 g[3][3];
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 3; k++)
      g[i][k] = _mm512_loadu_ps (base + tap (j->flip, i, k) * j->ci);
  __m512 half = _mm512_set1_ps (0.5f), t[4][3];
  for (int k = 0; k < 3; k++)
    {
      t[0][k] = g[0][k];
      t[1][k] = _mm512_mul_ps (half, _mm512_add_ps (_mm512_add_ps (g[0][k], g[1][k]), g[2][k]));
      t[2][k] = _mm512_mul_ps (half, _mm512_add_ps (_mm512_sub_ps (g[0][k], g[1][k]), g[2][k]));
      t[3][k] = g[2][k];
    }
  float *u = j->u + o * j->ci + c0;
  for (int i = 0; i < 4; i++)
    {
      __m512 a = _mm512_add_ps (_mm512_add_ps (t[i][0], t[i][1]), t[i][2]);
      __m512 b = _mm512_add_ps (_mm512_sub_ps (t[i][0], t[i][1]), t[i][2]);
      _mm512_storeu_ps (u + (4 * i + 0) * j->plane, t[i][0]);
      _mm512_storeu_ps (u + (4 * i + 1) * j->plane, _mm512_mul_ps (half, a));
      _mm512_storeu_ps (u + (4 * i + 2) * j->plane, _mm512_mul_ps (half, b));
      _mm512_storeu_ps (u + (4 * i + 3) * j->plane, t[i][2]);
    }
}

static void
weight_range (gpointer data, int64_t o0, int64_t o1)
{
  const WeightJob *j = data;
  bool vec = vec_have_avx512 ();
  for (int64_t o = o0; o < o1; o++)
    {
      int c = 0;
      if (vec)
        for (; c + 16 <= j->ci; c += 16)
          weight_16 (j, o, c);
      for (; c < j->ci; c++)
        {
          float g[3][3];
          for (int i = 0; i < 3; i++)
            for (int k = 0; k < 3; k++)
              g[i][k] = j->wt[(o * 9 + tap (j->flip, i, k)) * j->ci + c];
          weight_one (g, j->u + o * j->ci + c, j->plane);
        }
    }
}

/* wt (co, 9, ci) from the kernel: w (co, ci, 3, 3) as it is, each (ci, 9) block
 * transposed; flipped, w (ci, co, 3, 3) seen as (ci, co·9), transposed whole. */
typedef struct
{
  float *wt;
  const float *w;
  int ci, co;
} KernelJob;

static void
kernel_range (gpointer data, int64_t o0, int64_t o1)
{
  const KernelJob *j = data;
  for (int64_t o = o0; o < o1; o++)
    vec_transpose (j->wt + o * 9 * j->ci, j->ci, j->w + o * j->ci * 9, 9, 0, j->ci, 9);
}

static void
kernel_flip_range (gpointer data, int64_t r0, int64_t r1)
{
  const KernelJob *j = data;
  /* Rows r of w (ci, co·9) become columns r of wt (co·9, ci). */
  vec_transpose (j->wt, j->ci, j->w, (int64_t) j->co * 9, r0, r1, (int64_t) j->co * 9);
}

/* --- Input: V = Bᵀ d B -------------------------------------------------------------- */

/* One row of tiles: rows r[0..3] are the tiles' four input rows, padded (column −1
 * at index 0) and zero past the image, with room to read 34 floats past tile tw − 1;
 * tile tx starts at column 2·tx. Writes v[ξ·stride + tx]. */
static void
input_row (const float *r0, const float *r1, const float *r2, const float *r3, int tw,
           float *v, int64_t stride, int tx0)
{
  for (int tx = tx0; tx < tw; tx++)
    {
      const int s = 2 * tx;
      float t[4][4];
      for (int k = 0; k < 4; k++)
        {
          t[0][k] = r0[s + k] - r2[s + k];
          t[1][k] = r1[s + k] + r2[s + k];
          t[2][k] = r2[s + k] - r1[s + k];
          t[3][k] = r1[s + k] - r3[s + k];
        }
      for (int i = 0; i < 4; i++)
        {
          v[(4 * i + 0) * stride + tx] = t[i][0] - t[i][2];
          v[(4 * i + 1) * stride + tx] = t[i][1] + t[i][2];
          v[(4 * i + 2) * stride + tx] = t[i][2] - t[i][1];
          v[(4 * i + 3) * stride + tx] = t[i][1] - t[i][3];
        }
    }
}

/* Columns s, s + 1, s + 2, s + 3 of 16 tiles (s = 2·tx): the even and odd lanes of
 * the 32 floats from 2·tx0 and of the 32 from 2·tx0 + 2. */
__attribute__ ((target ("avx512f"))) static inline void
load_columns (const float *row, __m512 d[4])
{
  const __m512i even = _mm512_set_epi32 (30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32 (31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  __m512 a0 = _mm512_loadu_ps (row), a1 = _mm512_loadu_ps (row + 16);
  __m512 b0 = _mm512_loadu_ps (row + 2), b1 = _mm512_loadu_ps (row + 18);
  d[0] = _mm512_permutex2var_ps (a0, even, a1);
  d[1] = _mm512_permutex2var_ps (a0, odd, a1);
  d[2] = _mm512_permutex2var_ps (b0, even, b1);
  d[3] = _mm512_permutex2var_ps (b0, odd, b1);
}

/* Tiles [0, 16·⌊tw/16⌋) sixteen at a time; returns where the plain loop goes on. */
__attribute__ ((target ("avx512f"))) static int
input_row_16 (const float *r0, const float *r1, const float *r2, const float *r3, int tw,
              float *v, int64_t stride)
{
  int tx = 0;
  for (; tx + 16 <= tw; tx += 16)
    {
      __m512 d0[4], d1[4], d2[4], d3[4], t[4][4];
      load_columns (r0 + 2 * tx, d0);
      load_columns (r1 + 2 * tx, d1);
      load_columns (r2 + 2 * tx, d2);
      load_columns (r3 + 2 * tx, d3);
      for (int k = 0; k < 4; k++)
        {
          t[0][k] = _mm512_sub_ps (d0[k], d2[k]);
          t[1][k] = _mm512_add_ps (d1[k], d2[k]);
          t[2][k] = _mm512_sub_ps (d2[k], d1[k]);
          t[3][k] = _mm512_sub_ps (d1[k], d3[k]);
        }
      for (int i = 0; i < 4; i++)
        {
          _mm512_storeu_ps (v + (4 * i + 0) * stride + tx, _mm512_sub_ps (t[i][0], t[i][2]));
          _mm512_storeu_ps (v + (4 * i + 1) * stride + tx, _mm512_add_ps (t[i][1], t[i][2]));
          _mm512_storeu_ps (v + (4 * i + 2) * stride + tx, _mm512_sub_ps (t[i][2], t[i][1]));
          _mm512_storeu_ps (v + (4 * i + 3) * stride + tx, _mm512_sub_ps (t[i][1], t[i][3]));
        }
    }
  return tx;
}

/* TransformJob: src the images x, dst V (16, ci, ld). */
static void
input_range (gpointer data, int64_t p0, int64_t p1)
{
  const TransformJob *j = data;
  const Tiling *t = &j->t;
  int width = 2 * t->tw + 2 + 32;  /* padded row: columns −1 … 2·tw, and room for vectors */
  float *rows = g_new (float, 4 * width);
  bool vec = vec_have_avx512 ();
  for (int64_t p = p0; p < p1; p++)
    {
      int64_t b = p / j->channels, c = p % j->channels;
      const float *xp = j->src + p * t->h * t->w;
      for (int ty = 0; ty < t->th; ty++)
        {
          stage_rows (rows, width, 4, xp, t->h, t->w, 2 * ty - 1, 1);
          float *v = j->dst + c * j->ld + b * t->tiles + (int64_t) ty * t->tw;
          int tx0 = vec ? input_row_16 (rows, rows + width, rows + 2 * width, rows + 3 * width,
                                        t->tw, v, j->plane)
                        : 0;
          input_row (rows, rows + width, rows + 2 * width, rows + 3 * width, t->tw, v,
                     j->plane, tx0);
        }
    }
  g_free (rows);
}

/* --- Output: Y = Aᵀ M A ---------------------------------------------------------------- */

/* One row of tiles of one output channel: m[ξ·stride + tx] → the two output rows
 * y0, y1 (2·tw columns), plus bias. */
static void
output_row (const float *m, int64_t stride, int tw, float bias, float *y0, float *y1, int tx0)
{
  for (int tx = tx0; tx < tw; tx++)
    {
      float q[16];
      for (int k = 0; k < 16; k++)
        q[k] = m[k * stride + tx];
      float s0[4], s1[4];
      for (int k = 0; k < 4; k++)
        {
          s0[k] = q[k] + q[4 + k] + q[8 + k];
          s1[k] = q[4 + k] - q[8 + k] - q[12 + k];
        }
      y0[2 * tx] = s0[0] + s0[1] + s0[2] + bias;
      y0[2 * tx + 1] = s0[1] - s0[2] - s0[3] + bias;
      y1[2 * tx] = s1[0] + s1[1] + s1[2] + bias;
      y1[2 * tx + 1] = s1[1] - s1[2] - s1[3] + bias;
    }
}

/* Sixteen tiles at a time: even and odd output columns interleaved on the way out. */
__attribute__ ((target ("avx512f"))) static int
output_row_16 (const float *m, int64_t stride, int tw, float bias, float *y0, float *y1)
{
  const __m512i lo = _mm512_set_epi32 (23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32 (31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                       24, 8);
  __m512 vb = _mm512_set1_ps (bias);
  int tx = 0;
  for (; tx + 16 <= tw; tx += 16)
    {
      __m512 q[16], s0[4], s1[4];
      for (int k = 0; k < 16; k++)
        q[k] = _mm512_loadu_ps (m + k * stride + tx);
      for (int k = 0; k < 4; k++)
        {
          s0[k] = _mm512_add_ps (_mm512_add_ps (q[k], q[4 + k]), q[8 + k]);
          s1[k] = _mm512_sub_ps (_mm512_sub_ps (q[4 + k], q[8 + k]), q[12 + k]);
        }
      __m512 e0 = _mm512_add_ps (_mm512_add_ps (_mm512_add_ps (s0[0], s0[1]), s0[2]), vb);
      __m512 o0 = _mm512_add_ps (_mm512_sub_ps (_mm512_sub_ps (s0[1], s0[2]), s0[3]), vb);
      __m512 e1 = _mm512_add_ps (_mm512_add_ps (_mm512_add_ps (s1[0], s1[1]), s1[2]), vb);
      __m512 o1 = _mm512_add_ps (_mm512_sub_ps (_mm512_sub_ps (s1[1], s1[2]), s1[3]), vb);
      _mm512_storeu_ps (y0 + 2 * tx, _mm512_permutex2var_ps (e0, lo, o0));
      _mm512_storeu_ps (y0 + 2 * tx + 16, _mm512_permutex2var_ps (e0, hi, o0));
      _mm512_storeu_ps (y1 + 2 * tx, _mm512_permutex2var_ps (e1, lo, o1));
      _mm512_storeu_ps (y1 + 2 * tx + 16, _mm512_permutex2var_ps (e1, hi, o1));
    }
  return tx;
}

/* TransformJob: src M (16, co, ld), dst the outputs, plus the bias. */
static void
output_range (gpointer data, int64_t p0, int64_t p1)
{
  const TransformJob *j = data;
  const Tiling *t = &j->t;
  float *rows = g_new (float, 4 * t->tw);
  bool vec = vec_have_avx512 ();
  for (int64_t p = p0; p < p1; p++)
    {
      int64_t b = p / j->channels, o = p % j->channels;
      float *yp = j->dst + p * t->h * t->w;
      float bias = j->bias ? j->bias[o] : 0.0f;
      for (int ty = 0; ty < t->th; ty++)
        {
          const float *m = j->src + o * j->ld + b * t->tiles + (int64_t) ty * t->tw;
          bool crop = 2 * t->tw != t->w;
          float *y0 = crop ? rows : yp + (int64_t) (2 * ty) * t->w;
          float *y1 = crop ? rows + 2 * t->tw
                           : 2 * ty + 1 < t->h ? yp + (int64_t) (2 * ty + 1) * t->w : rows;
          int tx0 = vec ? output_row_16 (m, j->plane, t->tw, bias, y0, y1) : 0;
          output_row (m, j->plane, t->tw, bias, y0, y1, tx0);
          if (crop)
            {
              memcpy (yp + (int64_t) (2 * ty) * t->w, y0, t->w * sizeof (float));
              if (2 * ty + 1 < t->h)
                memcpy (yp + (int64_t) (2 * ty + 1) * t->w, y1, t->w * sizeof (float));
            }
        }
    }
  g_free (rows);
}

/* --- The convolution ----------------------------------------------------------------- */

void
conv3x3_winograd (float *out, const float *x, const float *w, const float *bias, int n, int ci,
                  int h, int wd, int co, bool flip)
{
  Tiling t = tiling_new (n, ci, h, wd, co);
  g_autoptr (Tensor) u = planes_new (t.u_plane);
  g_autoptr (Tensor) v = planes_new (t.v_plane);
  g_autoptr (Tensor) m = planes_new (t.m_plane);

  g_autoptr (Tensor) wt = tensor_new_empty (1, (int64_t[]){ (int64_t) co * 9 * ci });
  KernelJob kj = { wt->data, w, ci, co };
  if (flip)
    parallel_for (ci, 16, kernel_flip_range, &kj);
  else
    parallel_for (co, MAX (1, 2048 / MAX (ci, 1)), kernel_range, &kj);
  WeightJob wj = { u->data, wt->data, ci, co, t.u_plane, flip };
  parallel_for (co, MAX (1, 2048 / MAX (ci, 1)), weight_range, &wj);

  for (int b0 = 0; b0 < n; b0 += t.group)
    {
      int g = MIN (t.group, n - b0);
      int64_t ld = g * t.tiles;
      transform (input_range, &t, ci, g, x + (int64_t) b0 * ci * h * wd, v->data, t.v_plane,
                 NULL);
      /* M[ξ] (co, ld) = U[ξ] (co, ci) · V[ξ] (ci, ld) */
      ProductJob pj = { .m = co, .n = ld, .k = ci,
                        .a = u->data, .lda = ci, .a_plane = t.u_plane,
                        .b = v->data, .ldb = ld, .b_plane = t.v_plane,
                        .c = m->data, .ldc = ld, .c_plane = t.m_plane };
      parallel_for_each (16, product_range, &pj);
      transform (output_range, &t, co, g, m->data, out + (int64_t) b0 * co * h * wd, t.m_plane,
                 bias);
    }
}

/* --- The weight gradient --------------------------------------------------------------
 *
 * y = Aᵀ [(G w Gᵀ) ⊙ V] A is linear in w, so for the gradient g (2×2) of one tile
 * ∂L/∂(G w Gᵀ) = (A g Aᵀ) ⊙ V and ∂L/∂w = Gᵀ [(A g Aᵀ) ⊙ V] G; summed over tiles:
 *
 *   Z[ξ] (co, ci) = Σ_t Mg[ξ][o][t] · V[ξ][c][t]      Mg = A g Aᵀ, V = Bᵀ d B as forward
 *   dW[o][c] = Gᵀ Z[o][c] G
 *
 * 16 products of (co, T)·(T, ci) instead of one of (co, T·4)·(T·4, ci·9), with
 * A = | 1  0 |   (so A g Aᵀ has rows g₀, g₀ + g₁, g₀ − g₁, −g₁, likewise its columns).
 *     | 1  1 |
 *     | 1 −1 |
 *     | 0 −1 |
 */

/* One row of tiles of one output channel's gradient: rows q0, q1 (the tile row's two
 * output rows, zero past the image, 2·tw + 32 floats) → mg[ξ·stride + tx]. */
static void
grad_row (const float *q0, const float *q1, int tw, float *mg, int64_t stride, int tx0)
{
  for (int tx = tx0; tx < tw; tx++)
    {
      float a0 = q0[2 * tx], b0 = q0[2 * tx + 1], a1 = q1[2 * tx], b1 = q1[2 * tx + 1];
      float r[4][2] = { { a0, b0 }, { a0 + a1, b0 + b1 }, { a0 - a1, b0 - b1 }, { -a1, -b1 } };
      for (int i = 0; i < 4; i++)
        {
          mg[(4 * i + 0) * stride + tx] = r[i][0];
          mg[(4 * i + 1) * stride + tx] = r[i][0] + r[i][1];
          mg[(4 * i + 2) * stride + tx] = r[i][0] - r[i][1];
          mg[(4 * i + 3) * stride + tx] = -r[i][1];
        }
    }
}

__attribute__ ((target ("avx512f"))) static int
grad_row_16 (const float *q0, const float *q1, int tw, float *mg, int64_t stride)
{
  const __m512i even = _mm512_set_epi32 (30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32 (31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  int tx = 0;
  for (; tx + 16 <= tw; tx += 16)
    {
      __m512 l0 = _mm512_loadu_ps (q0 + 2 * tx), h0 = _mm512_loadu_ps (q0 + 2 * tx + 16);
      __m512 l1 = _mm512_loadu_ps (q1 + 2 * tx), h1 = _mm512_loadu_ps (q1 + 2 * tx + 16);
      __m512 a0 = _mm512_permutex2var_ps (l0, even, h0), b0 = _mm512_permutex2var_ps (l0, odd, h0);
      __m512 a1 = _mm512_permutex2var_ps (l1, even, h1), b1 = _mm512_permutex2var_ps (l1, odd, h1);
      __m512 zero = _mm512_setzero_ps ();
      __m512 r[4][2] = { { a0, b0 },
                         { _mm512_add_ps (a0, a1), _mm512_add_ps (b0, b1) },
                         { _mm512_sub_ps (a0, a1), _mm512_sub_ps (b0, b1) },
                         { _mm512_sub_ps (zero, a1), _mm512_sub_ps (zero, b1) } };
      for (int i = 0; i < 4; i++)
        {
          _mm512_storeu_ps (mg + (4 * i + 0) * stride + tx, r[i][0]);
          _mm512_storeu_ps (mg + (4 * i + 1) * stride + tx, _mm512_add_ps (r[i][0], r[i][1]));
          _mm512_storeu_ps (mg + (4 * i + 2) * stride + tx, _mm512_sub_ps (r[i][0], r[i][1]));
          _mm512_storeu_ps (mg + (4 * i + 3) * stride + tx, _mm512_sub_ps (zero, r[i][1]));
        }
    }
  return tx;
}

/* TransformJob: src the gradients g (G, co, h, w), dst Mg (16, co, ld). */
static void
grad_range (gpointer data, int64_t p0, int64_t p1)
{
  const TransformJob *j = data;
  const Tiling *t = &j->t;
  int width = 2 * t->tw + 32;
  float *rows = g_new (float, 2 * width);
  bool vec = vec_have_avx512 ();
  for (int64_t p = p0; p < p1; p++)
    {
      int64_t b = p / j->channels, o = p % j->channels;
      const float *gp = j->src + p * t->h * t->w;
      for (int ty = 0; ty < t->th; ty++)
        {
          stage_rows (rows, width, 2, gp, t->h, t->w, 2 * ty, 0);
          float *mg = j->dst + o * j->ld + b * t->tiles + (int64_t) ty * t->tw;
          int tx0 = vec ? grad_row_16 (rows, rows + width, t->tw, mg, j->plane) : 0;
          grad_row (rows, rows + width, t->tw, mg, j->plane, tx0);
        }
    }
  g_free (rows);
}

typedef struct
{
  const float *z;
  float *dw;                       /* (co, ci, 3, 3) */
  int ci;
  int64_t z_plane;
} WeightBackJob;

/* dW[o][c] = Gᵀ Z[o][c] G, for output channels [o0, o1). */
static void
weight_back_range (gpointer data, int64_t o0, int64_t o1)
{
  const WeightBackJob *j = data;
  for (int64_t o = o0; o < o1; o++)
    for (int c = 0; c < j->ci; c++)
      {
        const float *z = j->z + o * j->ci + c;
        float q[4][4], r[3][4];
        for (int k = 0; k < 16; k++)
          q[k / 4][k % 4] = z[k * j->z_plane];
        for (int k = 0; k < 4; k++)
          {
            r[0][k] = q[0][k] + 0.5f * (q[1][k] + q[2][k]);
            r[1][k] = 0.5f * (q[1][k] - q[2][k]);
            r[2][k] = 0.5f * (q[1][k] + q[2][k]) + q[3][k];
          }
        float *dw = j->dw + (o * j->ci + c) * 9;
        for (int i = 0; i < 3; i++)
          {
            dw[i * 3 + 0] = r[i][0] + 0.5f * (r[i][1] + r[i][2]);
            dw[i * 3 + 1] = 0.5f * (r[i][1] - r[i][2]);
            dw[i * 3 + 2] = 0.5f * (r[i][1] + r[i][2]) + r[i][3];
          }
      }
}

void
conv3x3_winograd_weight_grad (float *dw, const float *x, const float *g, int n, int ci, int h,
                              int wd, int co)
{
  Tiling t = tiling_new (n, ci, h, wd, co);
  g_autoptr (Tensor) z = planes_new (t.u_plane);
  g_autoptr (Tensor) v = planes_new (t.v_plane);
  g_autoptr (Tensor) mg = planes_new (t.m_plane);

  for (int b0 = 0; b0 < n; b0 += t.group)
    {
      int gi = MIN (t.group, n - b0);
      int64_t ld = gi * t.tiles;
      transform (input_range, &t, ci, gi, x + (int64_t) b0 * ci * h * wd, v->data, t.v_plane,
                 NULL);
      transform (grad_range, &t, co, gi, g + (int64_t) b0 * co * h * wd, mg->data, t.m_plane,
                 NULL);
      /* Z[ξ] (co, ci) (+)= Mg[ξ] (co, ld) · V[ξ]ᵀ (ld, ci) */
      ProductJob pj = { .trans_b = true, .m = co, .n = ci, .k = ld,
                        .a = mg->data, .lda = ld, .a_plane = t.m_plane,
                        .b = v->data, .ldb = ld, .b_plane = t.v_plane,
                        .c = z->data, .ldc = ci, .c_plane = t.u_plane,
                        .beta = b0 == 0 ? 0.0f : 1.0f };
      parallel_for_each (16, product_range, &pj);
    }
  if (n == 0)
    memset (z->data, 0, 16 * t.u_plane * sizeof (float));
  WeightBackJob bj = { z->data, dw, ci, t.u_plane };
  parallel_for (co, MAX (1, 2048 / MAX (ci, 1)), weight_back_range, &bj);
}

void
conv3x3_weight_grad_naive (float *dw, const float *x, const float *g, int n, int ci, int h,
                           int wd, int co)
{
  for (int o = 0; o < co; o++)
    for (int c = 0; c < ci; c++)
      for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
          {
            double acc = 0;
            for (int b = 0; b < n; b++)
              for (int y = 0; y < h; y++)
                for (int xx = 0; xx < wd; xx++)
                  {
                    int iy = y - 1 + i, ix = xx - 1 + k;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                      continue;
                    acc += (double) g[(((int64_t) b * co + o) * h + y) * wd + xx]
                           * x[(((int64_t) b * ci + c) * h + iy) * wd + ix];
                  }
            dw[(((int64_t) o * ci + c) * 3 + i) * 3 + k] = (float) acc;
          }
}

void
conv3x3_winograd_naive (float *out, const float *x, const float *w, const float *bias, int n,
                        int ci, int h, int wd, int co, bool flip)
{
  /* Flipped: kernel[o][c][t] = w[c][o][8 − t], t = 3i + j (turned by 180°). */
  g_autofree float *turned = NULL;
  if (flip)
    {
      turned = g_new (float, (size_t) co * ci * 9);
      for (int64_t o = 0; o < co; o++)
        for (int64_t c = 0; c < ci; c++)
          for (int t = 0; t < 9; t++)
            turned[(o * ci + c) * 9 + t] = w[(c * co + o) * 9 + 8 - t];
    }
  conv2d_forward_naive (out, x, flip ? turned : w, bias, n, ci, h, wd, co, 3, 3, 1, 1, h, wd);
}

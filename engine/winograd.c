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

typedef struct
{
  const float *x;                  /* the group's images (G, ci, h, w) */
  float *v;                        /* (16, ci, ld), planes `plane` floats apart */
  int ci, h, w, th, tw;
  int64_t ld, tiles;               /* tiles per image */
  int64_t plane;
} InputJob;

/* Planes [p0, p1) of the group, plane = image·ci + c. */
static void
input_range (gpointer data, int64_t p0, int64_t p1)
{
  const InputJob *j = data;
  int width = 2 * j->tw + 2 + 32;  /* padded row: columns −1 … 2·tw, and room for vectors */
  float *rows = g_new (float, 4 * width);
  bool vec = vec_have_avx512 ();
  for (int64_t p = p0; p < p1; p++)
    {
      int64_t b = p / j->ci, c = p % j->ci;
      const float *xp = j->x + p * j->h * j->w;
      for (int ty = 0; ty < j->th; ty++)
        {
          for (int r = 0; r < 4; r++)
            {
              float *row = rows + r * width;
              int iy = 2 * ty - 1 + r;
              memset (row, 0, width * sizeof (float));
              if (iy >= 0 && iy < j->h)
                memcpy (row + 1, xp + (int64_t) iy * j->w, j->w * sizeof (float));
            }
          float *v = j->v + c * j->ld + b * j->tiles + (int64_t) ty * j->tw;
          int tx0 = vec ? input_row_16 (rows, rows + width, rows + 2 * width, rows + 3 * width,
                                        j->tw, v, j->plane)
                        : 0;
          input_row (rows, rows + width, rows + 2 * width, rows + 3 * width, j->tw, v,
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

typedef struct
{
  const float *m;                  /* (16, co, ld), planes `plane` floats apart */
  float *out;                      /* the group's outputs (G, co, h, w) */
  const float *bias;
  int co, h, w, th, tw;
  int64_t ld, tiles;
  int64_t plane;
} OutputJob;

static void
output_range (gpointer data, int64_t p0, int64_t p1)
{
  const OutputJob *j = data;
  float *rows = g_new (float, 4 * j->tw);
  bool vec = vec_have_avx512 ();
  for (int64_t p = p0; p < p1; p++)
    {
      int64_t b = p / j->co, o = p % j->co;
      float *yp = j->out + p * j->h * j->w;
      float bias = j->bias ? j->bias[o] : 0.0f;
      for (int ty = 0; ty < j->th; ty++)
        {
          const float *m = j->m + o * j->ld + b * j->tiles + (int64_t) ty * j->tw;
          bool crop = 2 * j->tw != j->w;
          float *y0 = crop ? rows : yp + (int64_t) (2 * ty) * j->w;
          float *y1 = crop ? rows + 2 * j->tw
                           : 2 * ty + 1 < j->h ? yp + (int64_t) (2 * ty + 1) * j->w : rows;
          int tx0 = vec ? output_row_16 (m, j->plane, j->tw, bias, y0, y1) : 0;
          output_row (m, j->plane, j->tw, bias, y0, y1, tx0);
          if (crop)
            {
              memcpy (yp + (int64_t) (2 * ty) * j->w, y0, j->w * sizeof (float));
              if (2 * ty + 1 < j->h)
                memcpy (yp + (int64_t) (2 * ty + 1) * j->w, y1, j->w * sizeof (float));
            }
        }
    }
  g_free (rows);
}

/* --- The 16 products ------------------------------------------------------------------ */

typedef struct
{
  const float *u, *v;
  float *m;
  int ci, co;
  int64_t ld;
  int64_t u_plane, v_plane, m_plane;
} ProductJob;

static void
product_range (gpointer data, int64_t x0, int64_t x1)
{
  const ProductJob *j = data;
  for (int64_t xi = x0; xi < x1; xi++)
    /* M[ξ] (co, ld) = U[ξ] (co, ci) · V[ξ] (ci, ld); serial inside a slice. */
    gemm (false, false, j->co, j->ld, j->ci, 1, j->u + xi * j->u_plane, j->ci,
          j->v + xi * j->v_plane, j->ld, 0, j->m + xi * j->m_plane, j->ld);
}

void
conv3x3_winograd (float *out, const float *x, const float *w, const float *bias, int n, int ci,
                  int h, int wd, int co, bool flip)
{
  int th = (h + 1) / 2, tw = (wd + 1) / 2;
  int64_t tiles = (int64_t) th * tw;
  int64_t per_image = 16 * tiles * MAX (ci, co);
  int group = (int) CLAMP (GROUP_FLOATS / MAX (per_image, 1), 1, MAX (n, 1));

  int64_t u_plane = plane_stride ((int64_t) co * ci);
  int64_t v_plane = plane_stride (ci * group * tiles), m_plane = plane_stride (co * group * tiles);
  /* Scratch from tensor storage, reused step after step (tensor.c). */
  g_autoptr (Tensor) u = tensor_new_empty (1, (int64_t[]){ 16 * u_plane });
  g_autoptr (Tensor) v = tensor_new_empty (1, (int64_t[]){ 16 * v_plane });
  g_autoptr (Tensor) m = tensor_new_empty (1, (int64_t[]){ 16 * m_plane });

  g_autoptr (Tensor) wt = tensor_new_empty (1, (int64_t[]){ (int64_t) co * 9 * ci });
  KernelJob kj = { wt->data, w, ci, co };
  if (flip)
    parallel_for (ci, 16, kernel_flip_range, &kj);
  else
    parallel_for (co, MAX (1, 2048 / MAX (ci, 1)), kernel_range, &kj);
  WeightJob wj = { u->data, wt->data, ci, co, u_plane, flip };
  parallel_for (co, MAX (1, 2048 / MAX (ci, 1)), weight_range, &wj);

  for (int b0 = 0; b0 < n; b0 += group)
    {
      int g = MIN (group, n - b0);
      int64_t ld = g * tiles;
      InputJob ij = { x + (int64_t) b0 * ci * h * wd, v->data, ci, h, wd, th, tw, ld, tiles,
                      v_plane };
      parallel_for ((int64_t) g * ci, MAX (1, 16384 / MAX (h * wd, 1)), input_range, &ij);
      ProductJob pj = { u->data, v->data, m->data, ci, co, ld, u_plane, v_plane, m_plane };
      parallel_for_each (16, product_range, &pj);
      OutputJob oj = { m->data, out + (int64_t) b0 * co * h * wd, bias, co, h, wd, th, tw, ld,
                       tiles, m_plane };
      parallel_for ((int64_t) g * co, MAX (1, 16384 / MAX (h * wd, 1)), output_range, &oj);
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

typedef struct
{
  const float *g;                  /* the group's gradients (G, co, h, w) */
  float *mg;                       /* (16, co, ld), planes `plane` floats apart */
  int co, h, w, th, tw;
  int64_t ld, tiles, plane;
} GradJob;

static void
grad_range (gpointer data, int64_t p0, int64_t p1)
{
  const GradJob *j = data;
  int width = 2 * j->tw + 32;
  float *rows = g_new0 (float, 2 * width);
  bool vec = vec_have_avx512 ();
  for (int64_t p = p0; p < p1; p++)
    {
      int64_t b = p / j->co, o = p % j->co;
      const float *gp = j->g + p * j->h * j->w;
      for (int ty = 0; ty < j->th; ty++)
        {
          for (int r = 0; r < 2; r++)
            {
              float *row = rows + r * width;
              int y = 2 * ty + r;
              memset (row, 0, width * sizeof (float));
              if (y < j->h)
                memcpy (row, gp + (int64_t) y * j->w, j->w * sizeof (float));
            }
          float *mg = j->mg + o * j->ld + b * j->tiles + (int64_t) ty * j->tw;
          int tx0 = vec ? grad_row_16 (rows, rows + width, j->tw, mg, j->plane) : 0;
          grad_row (rows, rows + width, j->tw, mg, j->plane, tx0);
        }
    }
  g_free (rows);
}

typedef struct
{
  const float *mg, *v;
  float *z;                        /* (16, co, ci), planes z_plane apart */
  int ci, co;
  int64_t ld, mg_plane, v_plane, z_plane;
  float beta;
} WeightGradJob;

static void
weight_grad_product_range (gpointer data, int64_t x0, int64_t x1)
{
  const WeightGradJob *j = data;
  for (int64_t xi = x0; xi < x1; xi++)
    /* Z[ξ] (co, ci) (+)= Mg[ξ] (co, ld) · V[ξ]ᵀ (ld, ci) */
    gemm (false, true, j->co, j->ci, j->ld, 1, j->mg + xi * j->mg_plane, j->ld,
          j->v + xi * j->v_plane, j->ld, j->beta, j->z + xi * j->z_plane, j->ci);
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
  int th = (h + 1) / 2, tw = (wd + 1) / 2;
  int64_t tiles = (int64_t) th * tw;
  int64_t per_image = 16 * tiles * MAX (ci, co);
  int group = (int) CLAMP (GROUP_FLOATS / MAX (per_image, 1), 1, MAX (n, 1));

  int64_t z_plane = plane_stride ((int64_t) co * ci);
  int64_t v_plane = plane_stride (ci * group * tiles), mg_plane = plane_stride (co * group * tiles);
  g_autoptr (Tensor) z = tensor_new_empty (1, (int64_t[]){ 16 * z_plane });
  g_autoptr (Tensor) v = tensor_new_empty (1, (int64_t[]){ 16 * v_plane });
  g_autoptr (Tensor) mg = tensor_new_empty (1, (int64_t[]){ 16 * mg_plane });

  for (int b0 = 0; b0 < n; b0 += group)
    {
      int gi = MIN (group, n - b0);
      int64_t ld = gi * tiles;
      InputJob ij = { x + (int64_t) b0 * ci * h * wd, v->data, ci, h, wd, th, tw, ld, tiles,
                      v_plane };
      parallel_for ((int64_t) gi * ci, MAX (1, 16384 / MAX (h * wd, 1)), input_range, &ij);
      GradJob gj = { g + (int64_t) b0 * co * h * wd, mg->data, co, h, wd, th, tw, ld, tiles,
                     mg_plane };
      parallel_for ((int64_t) gi * co, MAX (1, 16384 / MAX (h * wd, 1)), grad_range, &gj);
      WeightGradJob pj = { mg->data, v->data, z->data, ci, co, ld, mg_plane, v_plane, z_plane,
                           b0 == 0 ? 0.0f : 1.0f };
      parallel_for_each (16, weight_grad_product_range, &pj);
    }
  if (n == 0)
    memset (z->data, 0, 16 * z_plane * sizeof (float));
  WeightBackJob bj = { z->data, dw, ci, z_plane };
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
  for (int b = 0; b < n; b++)
    for (int o = 0; o < co; o++)
      for (int y = 0; y < h; y++)
        for (int xx = 0; xx < wd; xx++)
          {
            double acc = bias ? bias[o] : 0;
            for (int c = 0; c < ci; c++)
              for (int i = 0; i < 3; i++)
                for (int k = 0; k < 3; k++)
                  {
                    int iy = y - 1 + i, ix = xx - 1 + k;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                      continue;
                    float g = flip ? w[((int64_t) c * co + o) * 9 + (2 - i) * 3 + (2 - k)]
                                   : w[((int64_t) o * ci + c) * 9 + i * 3 + k];
                    acc += (double) x[(((int64_t) b * ci + c) * h + iy) * wd + ix] * g;
                  }
            out[(((int64_t) b * co + o) * h + y) * wd + xx] = (float) acc;
          }
}

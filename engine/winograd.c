/* winograd.c — F(2×2, 3×3) convolutions: transforms and the 16 products (winograd.h).
 *
 * Layouts, for a group of G images with T = th·tw tiles each (th = ⌈h/2⌉, tw = ⌈w/2⌉),
 * tile t = image·T + ty·tw + tx, ld = G·T:
 *
 *   U (16, co, ci)     U[ξ][o][c] = (G g_oc Gᵀ)[ξ]
 *   V (16, ci, ld)     V[ξ][c][t] = (Bᵀ d_ct B)[ξ]
 *   M (16, co, ld)     M[ξ] = U[ξ] · V[ξ]
 *   out[o][2ty + i][2tx + j] = (Aᵀ M_ot A)[i][j]   (cropped at odd edges)
 */
#include "winograd.h"
#include "gemm.h"
#include "parallel.h"
#include "tensor.h"

#include <string.h>

#define CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))

/* Images per group: V and M of about GROUP_FLOATS floats each at most. */
#define GROUP_FLOATS (2 << 20)

/* --- Kernel: U = G g Gᵀ --------------------------------------------------------------- */

typedef struct
{
  float *u;                        /* (16, co, ci) */
  const float *w;
  int ci, co;
  bool flip;
} WeightJob;

static void
weight_range (gpointer data, int64_t o0, int64_t o1)
{
  const WeightJob *j = data;
  int64_t plane = (int64_t) j->co * j->ci;
  for (int64_t o = o0; o < o1; o++)
    for (int c = 0; c < j->ci; c++)
      {
        float g[3][3];
        for (int i = 0; i < 3; i++)
          for (int k = 0; k < 3; k++)
            g[i][k] = j->flip ? j->w[((int64_t) c * j->co + o) * 9 + (2 - i) * 3 + (2 - k)]
                              : j->w[((int64_t) o * j->ci + c) * 9 + i * 3 + k];
        /* G g (4×3), then (G g) Gᵀ (4×4). */
        float t[4][3];
        for (int k = 0; k < 3; k++)
          {
            t[0][k] = g[0][k];
            t[1][k] = 0.5f * (g[0][k] + g[1][k] + g[2][k]);
            t[2][k] = 0.5f * (g[0][k] - g[1][k] + g[2][k]);
            t[3][k] = g[2][k];
          }
        float *u = j->u + o * j->ci + c;
        for (int i = 0; i < 4; i++)
          {
            u[(4 * i + 0) * plane] = t[i][0];
            u[(4 * i + 1) * plane] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
            u[(4 * i + 2) * plane] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
            u[(4 * i + 3) * plane] = t[i][2];
          }
      }
}

/* --- Input: V = Bᵀ d B -------------------------------------------------------------- */

/* One row of tiles: rows r[0..3] are the tiles' four input rows, padded (column −1
 * at index 0) and zero past the image; tile tx starts at column 2·tx. Writes
 * v[ξ·stride + tx]. */
CLONES static void
input_row (const float *r0, const float *r1, const float *r2, const float *r3, int tw,
           float *v, int64_t stride)
{
  for (int tx = 0; tx < tw; tx++)
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

typedef struct
{
  const float *x;                  /* the group's images (G, ci, h, w) */
  float *v;                        /* (16, ci, ld) */
  int ci, h, w, th, tw;
  int64_t ld, tiles;               /* tiles per image */
} InputJob;

/* Planes [p0, p1) of the group, plane = image·ci + c. */
static void
input_range (gpointer data, int64_t p0, int64_t p1)
{
  const InputJob *j = data;
  int width = 2 * j->tw + 2;       /* padded row: columns −1 … 2·tw */
  float *rows = g_new (float, 4 * width);
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
          input_row (rows, rows + width, rows + 2 * width, rows + 3 * width, j->tw,
                     j->v + c * j->ld + b * j->tiles + (int64_t) ty * j->tw,
                     (int64_t) j->ci * j->ld);
        }
    }
  g_free (rows);
}

/* --- Output: Y = Aᵀ M A ---------------------------------------------------------------- */

/* One row of tiles of one output channel: m[ξ·stride + tx] → the two output rows
 * y0, y1 (2·tw columns), plus bias. */
CLONES static void
output_row (const float *m, int64_t stride, int tw, float bias, float *y0, float *y1)
{
  for (int tx = 0; tx < tw; tx++)
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

typedef struct
{
  const float *m;                  /* (16, co, ld) */
  float *out;                      /* the group's outputs (G, co, h, w) */
  const float *bias;
  int co, h, w, th, tw;
  int64_t ld, tiles;
} OutputJob;

static void
output_range (gpointer data, int64_t p0, int64_t p1)
{
  const OutputJob *j = data;
  float *rows = g_new (float, 4 * j->tw);
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
          output_row (m, (int64_t) j->co * j->ld, j->tw, bias, y0, y1);
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
} ProductJob;

static void
product_range (gpointer data, int64_t x0, int64_t x1)
{
  const ProductJob *j = data;
  for (int64_t xi = x0; xi < x1; xi++)
    /* M[ξ] (co, ld) = U[ξ] (co, ci) · V[ξ] (ci, ld); serial inside a slice. */
    gemm (false, false, j->co, j->ld, j->ci, 1, j->u + xi * j->co * j->ci, j->ci,
          j->v + xi * j->ci * j->ld, j->ld, 0, j->m + xi * j->co * j->ld, j->ld);
}

void
conv3x3_winograd (float *out, const float *x, const float *w, const float *bias, int n, int ci,
                  int h, int wd, int co, bool flip)
{
  int th = (h + 1) / 2, tw = (wd + 1) / 2;
  int64_t tiles = (int64_t) th * tw;
  int64_t per_image = 16 * tiles * MAX (ci, co);
  int group = (int) CLAMP (GROUP_FLOATS / MAX (per_image, 1), 1, MAX (n, 1));

  /* Scratch from tensor storage, reused step after step (tensor.c). */
  g_autoptr (Tensor) u = tensor_new_empty (1, (int64_t[]){ 16 * (int64_t) co * ci });
  g_autoptr (Tensor) v = tensor_new_empty (1, (int64_t[]){ 16 * ci * group * tiles });
  g_autoptr (Tensor) m = tensor_new_empty (1, (int64_t[]){ 16 * co * group * tiles });

  WeightJob wj = { u->data, w, ci, co, flip };
  parallel_for (co, MAX (1, 2048 / MAX (ci, 1)), weight_range, &wj);

  for (int b0 = 0; b0 < n; b0 += group)
    {
      int g = MIN (group, n - b0);
      int64_t ld = g * tiles;
      InputJob ij = { x + (int64_t) b0 * ci * h * wd, v->data, ci, h, wd, th, tw, ld, tiles };
      parallel_for ((int64_t) g * ci, MAX (1, 16384 / MAX (h * wd, 1)), input_range, &ij);
      ProductJob pj = { u->data, v->data, m->data, ci, co, ld };
      parallel_for_each (16, product_range, &pj);
      OutputJob oj = { m->data, out + (int64_t) b0 * co * h * wd, bias, co, h, wd, th, tw, ld,
                       tiles };
      parallel_for ((int64_t) g * co, MAX (1, 16384 / MAX (h * wd, 1)), output_range, &oj);
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

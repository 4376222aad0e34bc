/* gemm.c — matrix products on the engine's threads: OpenBLAS for the large ones,
 * direct AVX-512 kernels for the thin ones.
 *
 * Two kernels, neither packs its operands:
 *
 *   direct  C (m, n) = A' (m, k) · B (k, n), B's rows contiguous. A tile of R rows ×
 *           16·J columns of C lives in registers; for each kk one row of B is loaded
 *           (J vectors) and each A'(r, kk) is broadcast against it. A' is read
 *           through strides (as_i, as_k), so it may be A or Aᵀ as stored.
 *   dot     C (m, n ≤ 8) = A (m, k) · Btᵀ, A's and Bt's rows contiguous along k: R×n
 *           accumulators of 16 lanes along k, summed across lanes at the end.
 *
 * How resnet18's products map onto them (conv: W (O, K), col (K, P), g (O, P)):
 *
 *   forward        out = W · col          P ≤ 8: dot (colᵀ copied);  P ≤ 64: direct
 *   input grad     gcol = Wᵀ · g          P ≤ 8: direct on gcolᵀ = gᵀ · W, W streamed
 *                                         row block by row block;    P ≤ 64: direct
 *   weight grad    gW = g · colᵀ          inner P ≤ 64: direct (colᵀ copied)
 *
 * Everything else goes to cblas_sgemm, one call per thread on its block of C.
 */
#include "gemm.h"
#include "parallel.h"
#include "vec.h"

#include <cblas.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* Shape limits, measured on Zen 4 against OpenBLAS 0.3.21 (bench notes in README). */
#define DOT_MAX_N 8        /* at most this many columns: dot */
#define DIRECT_MAX_N 64    /* at most this many columns: direct */
#define DIRECT_MAX_K 64    /* an inner dimension at most this long: direct */
#define SMALL_FLOPS 32768  /* m·n·k below this: one serial OpenBLAS call */
#define STREAM_MIN_BYTES (1 << 20)   /* a C this large is streamed to memory */
#define B_BLOCK_FLOATS 65536         /* 256 KB of B in use at a time: a quarter of L2 */

static bool direct_enabled = true;

void
gemm_set_direct_enabled (bool enabled)
{
  direct_enabled = enabled;
}

static bool
direct_available (void)
{
  return vec_have_avx512 () && direct_enabled;
}

/* --- Scratch: one growing buffer per thread for the copies (colᵀ, a result to
 * transpose back). Freed when the thread ends. */

typedef struct
{
  float *data;
  size_t cap;                      /* floats */
} Scratch;

static void
scratch_free (gpointer p)
{
  Scratch *s = p;   /* both slots */
  free (s[0].data);
  free (s[1].data);
  g_free (s);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

/* slot 0 or 1: two independent buffers. */
static float *
scratch_get (int slot, size_t n)
{
  Scratch *s = g_private_get (&scratch_key);
  if (s == NULL)
    {
      s = g_new0 (Scratch, 2);
      g_private_set (&scratch_key, s);
    }
  s += slot;
  if (s->cap < n)
    {
      free (s->data);
      s->cap = MAX (n, s->cap * 2);
      s->data = aligned_alloc (64, ((s->cap * sizeof (float)) + 63) & ~(size_t) 63);
      if (s->data == NULL)
        g_error ("out of memory: %zu floats of gemm scratch", s->cap);
    }
  return s->data;
}

/* dst (cols, rows) = srcᵀ, src (rows, cols) with leading dimension ld. */
static void
transpose (float *dst, const float *src, int rows, int cols, int ld)
{
  vec_transpose (dst, rows, src, ld, 0, rows, cols);
}

/* --- Cutting C into blocks for the threads ------------------------------------------ */

/* Block t of `parts` of C (m, n): all its rows and a slice of the columns (aligned to
 * col_align), or a slice of the rows (aligned to row_align) and all the columns.
 * FALSE when the block is empty. */
static bool
c_block (int m, int n, bool split_columns, int parts, int64_t t, int64_t col_align,
         int64_t row_align, int *r0, int *r1, int *c0, int *c1)
{
  int64_t lo, hi;
  parallel_slice (split_columns ? n : m, parts, t, split_columns ? col_align : row_align, &lo,
                  &hi);
  *r0 = split_columns ? 0 : (int) lo;
  *r1 = split_columns ? m : (int) hi;
  *c0 = split_columns ? (int) lo : 0;
  *c1 = split_columns ? (int) hi : n;
  return lo < hi;
}

/* How many blocks a product is cut into: `parts`, or one (run on the calling thread)
 * when it is too small to share, below `serial_flops`. */
static int
c_parts (double flops, double serial_flops, int64_t parts)
{
  return flops < serial_flops || parts < 2 ? 1 : (int) parts;
}

/* --- The reference ----------------------------------------------------------------- */

void
gemm_naive (bool trans_a, bool trans_b, int m, int n, int k, float alpha,
            const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double acc = 0;
        for (int p = 0; p < k; p++)
          {
            float x = trans_a ? a[(int64_t) p * lda + i] : a[(int64_t) i * lda + p];
            float y = trans_b ? b[(int64_t) j * ldb + p] : b[(int64_t) p * ldb + j];
            acc += (double) x * y;
          }
        float *out = &c[(int64_t) i * ldc + j];
        *out = alpha * (float) acc + (beta == 0 ? 0 : beta * *out);
      }
}

/* --- The direct kernel -------------------------------------------------------------- */

#define TARGET __attribute__ ((target ("avx512f,avx512vl,avx512dq,avx2,fma")))
#define INLINE static inline __attribute__ ((always_inline))

#define MAX_J 4

/* Stores a 16-lane row piece of C: alpha·acc + beta·C (beta 0: C is not read).
 * With `stream` (beta 0, whole aligned lines) writes around the caches:
 * a weight gradient is read again only by the optimizer, after the whole backward,
 * and streaming it saves the read-for-ownership and keeps the weights in cache. */
INLINE TARGET void
store_c (float *c, __m512 acc, __mmask16 mask, float alpha, float beta, bool stream, __m512 *ss)
{
  if (alpha != 1)
    acc = _mm512_mul_ps (acc, _mm512_set1_ps (alpha));
  if (beta != 0 && !(stream && mask == 0xffff))
    acc = _mm512_fmadd_ps (_mm512_set1_ps (beta), _mm512_maskz_loadu_ps (mask, c), acc);
  /* Σ c², of what is stored, for the caller that wants C's norm (masked-off lanes
   * hold zeros: their B lanes were loaded as zeros). */
  if (ss)
    *ss = _mm512_fmadd_ps (acc, acc, *ss);
  if (stream && mask == 0xffff)
    _mm512_stream_ps (c, acc);
  else
    _mm512_mask_storeu_ps (c, mask, acc);
}

/* Σ of the 16 lanes, in double (once per tile: through memory is fine). */
INLINE TARGET double
hsum_double (__m512 v)
{
  float lanes[16];
  _mm512_storeu_ps (lanes, v);
  double s = 0;
  for (int l = 0; l < 16; l++)
    s += lanes[l];
  return s;
}

/* One tile: C[0..R)[0..16·J) with the last vector masked by last. R and J are
 * constants after inlining; the accumulators are named variables (cRJ), so they
 * live in registers (an array of them would be kept on the stack by GCC 12) and
 * those beyond R×J are dropped as dead code. */
#define ACC_ROW(r)                                                                  \
  __m512 c##r##0 = _mm512_setzero_ps (), c##r##1 = c##r##0, c##r##2 = c##r##0,     \
         c##r##3 = c##r##0;
#define FMA_ROW(r)                                                                  \
  if (R > r)                                                                        \
    {                                                                               \
      __m512 av = _mm512_set1_ps (acol[r * as_i]);                                  \
      c##r##0 = _mm512_fmadd_ps (av, b0, c##r##0);                                  \
      if (J > 1)                                                                    \
        c##r##1 = _mm512_fmadd_ps (av, b1, c##r##1);                                \
      if (J > 2)                                                                    \
        c##r##2 = _mm512_fmadd_ps (av, b2, c##r##2);                                \
      if (J > 3)                                                                    \
        c##r##3 = _mm512_fmadd_ps (av, b3, c##r##3);                                \
    }
#define STORE_ROW(r)                                                                \
  if (R > r)                                                                        \
    {                                                                               \
      float *cr = c + r * ldc;                                                      \
      store_c (cr, c##r##0, J == 1 ? last : 0xffff, alpha, beta, stream, ssp);                   \
      if (J > 1)                                                                    \
        store_c (cr + 16, c##r##1, J == 2 ? last : 0xffff, alpha, beta, stream, ssp);            \
      if (J > 2)                                                                    \
        store_c (cr + 32, c##r##2, J == 3 ? last : 0xffff, alpha, beta, stream, ssp);            \
      if (J > 3)                                                                    \
        store_c (cr + 48, c##r##3, last, alpha, beta, stream, ssp);                              \
    }

INLINE TARGET void
direct_tile (int R, int J, int k, const float *a, int64_t as_i, int64_t as_k,
             const float *b, int64_t ldb, __mmask16 last, float *c, int64_t ldc,
             float alpha, float beta, bool stream, double *ss)
{
  __m512 ssv = _mm512_setzero_ps ();
  __m512 *ssp = ss ? &ssv : NULL;
  ACC_ROW (0) ACC_ROW (1) ACC_ROW (2) ACC_ROW (3) ACC_ROW (4) ACC_ROW (5)
  ACC_ROW (6) ACC_ROW (7) ACC_ROW (8) ACC_ROW (9) ACC_ROW (10) ACC_ROW (11)
  for (int kk = 0; kk < k; kk++)
    {
      const float *brow = b + kk * ldb;   /* (16·J) */
      const float *acol = a + kk * as_k;  /* A'(·, kk) */
      /* A' streams from memory, R rows at once: more streams than the hardware
       * prefetcher follows, so fetch ahead by hand — four lines ahead along each
       * row (rows along k), or eight columns ahead (A stored transposed). */
      if (as_k == 1)
        {
          if ((kk & 15) == 0)
            {
#pragma GCC unroll 12
              for (int r = 0; r < R; r++)
                _mm_prefetch ((const char *) (acol + r * as_i + 64), _MM_HINT_T0);
            }
        }
      else
        _mm_prefetch ((const char *) (acol + 8 * as_k), _MM_HINT_T0);
      __m512 b0, b1 = _mm512_setzero_ps (), b2 = b1, b3 = b1;
      b0 = J == 1 ? _mm512_maskz_loadu_ps (last, brow) : _mm512_loadu_ps (brow);
      if (J > 1)
        b1 = J == 2 ? _mm512_maskz_loadu_ps (last, brow + 16) : _mm512_loadu_ps (brow + 16);
      if (J > 2)
        b2 = J == 3 ? _mm512_maskz_loadu_ps (last, brow + 32) : _mm512_loadu_ps (brow + 32);
      if (J > 3)
        b3 = _mm512_maskz_loadu_ps (last, brow + 48);
      FMA_ROW (0) FMA_ROW (1) FMA_ROW (2) FMA_ROW (3) FMA_ROW (4) FMA_ROW (5)
      FMA_ROW (6) FMA_ROW (7) FMA_ROW (8) FMA_ROW (9) FMA_ROW (10) FMA_ROW (11)
    }
  STORE_ROW (0) STORE_ROW (1) STORE_ROW (2) STORE_ROW (3) STORE_ROW (4) STORE_ROW (5)
  STORE_ROW (6) STORE_ROW (7) STORE_ROW (8) STORE_ROW (9) STORE_ROW (10) STORE_ROW (11)
  if (ss)
    *ss += hsum_double (ssv);
}

/* Rows per tile for J vectors of columns: R·J accumulators + J + 1 ≤ 32 registers. */
static const int direct_rows[MAX_J + 1] = { 0, 12, 10, 7, 5 };

typedef struct
{
  int m, n, k, kc;                 /* kc: inner block length (C updated in memory between blocks) */
  int nc;                          /* column block width, a multiple of the tile width */
  int J;                           /* vectors per column tile */
  const float *a;
  int64_t as_i, as_k;
  const float *b;
  int64_t ldb;
  float *c;
  int64_t ldc;
  float alpha, beta;
  bool split_columns;              /* threads take column tiles (else row tiles) */
  bool stream;                     /* C written around the caches (see store_c) */
  int parts;                       /* blocks of C, claimed by the threads */
  double *sumsq;                   /* (parts): Σ c² of each block's final C, or NULL */
} DirectJob;

#define DISPATCH_R(R_, ...)                                                 \
  switch (R_)                                                              \
    {                                                                      \
    case 1: direct_tile (1, __VA_ARGS__); break;                           \
    case 2: direct_tile (2, __VA_ARGS__); break;                           \
    case 3: direct_tile (3, __VA_ARGS__); break;                           \
    case 4: direct_tile (4, __VA_ARGS__); break;                           \
    case 5: direct_tile (5, __VA_ARGS__); break;                           \
    case 6: direct_tile (6, __VA_ARGS__); break;                           \
    case 7: direct_tile (7, __VA_ARGS__); break;                           \
    case 8: direct_tile (8, __VA_ARGS__); break;                           \
    case 9: direct_tile (9, __VA_ARGS__); break;                           \
    case 10: direct_tile (10, __VA_ARGS__); break;                         \
    case 11: direct_tile (11, __VA_ARGS__); break;                         \
    case 12: direct_tile (12, __VA_ARGS__); break;                         \
    default: g_assert_not_reached ();                                      \
    }

/* ss: NULL, or where to add Σ c² of the tile (then the variant that measures). */
TARGET static void
direct_tile_any (int R, int J, int k, const float *a, int64_t as_i, int64_t as_k,
                 const float *b, int64_t ldb, __mmask16 last, float *c, int64_t ldc,
                 float alpha, float beta, bool stream, double *ss)
{
  if (stream)
    switch (J)
      {
      case 1: DISPATCH_R (R, 1, k, a, as_i, as_k, b, ldb, last, c, ldc, 1, 0, true, ss); return;
      case 2: DISPATCH_R (R, 2, k, a, as_i, as_k, b, ldb, last, c, ldc, 1, 0, true, ss); return;
      case 3: DISPATCH_R (R, 3, k, a, as_i, as_k, b, ldb, last, c, ldc, 1, 0, true, ss); return;
      case 4: DISPATCH_R (R, 4, k, a, as_i, as_k, b, ldb, last, c, ldc, 1, 0, true, ss); return;
      default: g_assert_not_reached ();
      }
  if (ss)
    switch (J)
      {
      case 1: DISPATCH_R (R, 1, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, ss); return;
      case 2: DISPATCH_R (R, 2, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, ss); return;
      case 3: DISPATCH_R (R, 3, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, ss); return;
      case 4: DISPATCH_R (R, 4, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, ss); return;
      default: g_assert_not_reached ();
      }
  switch (J)
    {
    case 1: DISPATCH_R (R, 1, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, NULL); break;
    case 2: DISPATCH_R (R, 2, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, NULL); break;
    case 3: DISPATCH_R (R, 3, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, NULL); break;
    case 4: DISPATCH_R (R, 4, k, a, as_i, as_k, b, ldb, last, c, ldc, alpha, beta, false, NULL); break;
    default: g_assert_not_reached ();
    }
}

/* Rows [r0, r1) × columns [c0, c1) of C, every inner block. Blocked so that the
 * block of B in use (kb rows × nc columns) stays in L2 while the row tiles sweep
 * over it: kc limits the inner dimension (C is then added to block after block),
 * nc the columns (A' is then read once per column block). */
static void
direct_block (const DirectJob *job, int r0, int r1, int c0, int c1, double *sumsq)
{
  int R = direct_rows[job->J], width = 16 * job->J;
  for (int k0 = 0; k0 < job->k; k0 += job->kc)
    {
      int kb = MIN (job->kc, job->k - k0);
      /* C = beta·C + Σ over blocks of alpha·A'_blk·B_blk. */
      float beta = k0 == 0 ? job->beta : 1;
      float alpha = job->alpha;
      const float *a = job->a + k0 * job->as_k;
      const float *b = job->b + k0 * job->ldb;
      for (int cb = c0; cb < c1; cb += job->nc)
        {
          int cb_end = MIN (c1, cb + job->nc);
          /* Row tiles outer: C and A' are swept row block by row block, in order;
           * the block of B is the operand read again, from cache. */
          for (int ri = r0; ri < r1; ri += R)
            for (int cj = cb; cj < cb_end; cj += width)
              {
                int cols = MIN (width, cb_end - cj);
                int J = (cols + 15) / 16;
                int rem = cols - 16 * (J - 1);
                __mmask16 last = (__mmask16) (rem == 16 ? 0xffff : (1u << rem) - 1);
                direct_tile_any (MIN (R, r1 - ri), J, kb, a + ri * job->as_i, job->as_i,
                                 job->as_k, b + cj, job->ldb, last,
                                 job->c + ri * job->ldc + cj, job->ldc, alpha, beta,
                                 job->stream && job->kc >= job->k,
                                 k0 + kb >= job->k ? sumsq : NULL);
              }
        }
    }
  if (job->stream)
    _mm_sfence ();   /* streamed stores are weakly ordered: finish them before the join */
}

static void
direct_range (gpointer data, int64_t begin, int64_t end)
{
  const DirectJob *job = data;
  /* begin/end are block indices: each block is a slice of the tiles. */
  for (int64_t t = begin; t < end; t++)
    {
      int r0, r1, c0, c1;
      if (c_block (job->m, job->n, job->split_columns, job->parts, t, 16 * job->J,
                   direct_rows[job->J], &r0, &r1, &c0, &c1))
        direct_block (job, r0, r1, c0, c1, job->sumsq ? &job->sumsq[t] : NULL);
    }
}

/* C (m, n) = alpha · A' · B + beta · C with A'(i, kk) = a[i·as_i + kk·as_k], B (k, n)
 * rows contiguous. kc < k: C is updated block of the inner dimension by block, so
 * each block of B rows is read once, in order. */
/* sumsq: NULL, or where to put Σ c² of the final C. */
static void
direct_gemm (int m, int n, int k, float alpha, const float *a, int64_t as_i, int64_t as_k,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc, int kc,
             bool stream, double *sumsq)
{
  DirectJob job = {
    .m = m, .n = n, .k = k, .kc = kc > 0 ? kc : k,
    .a = a, .as_i = as_i, .as_k = as_k, .b = b, .ldb = ldb,
    .c = c, .ldc = ldc, .alpha = alpha, .beta = beta,
  };
  job.J = MIN (MAX_J, (n + 15) / 16);
  /* Few rows (a transposed problem): fewer columns per tile, all rows in one. */
  if (m <= direct_rows[1])
    while (direct_rows[job.J] < m)
      job.J--;
  int R = direct_rows[job.J];
  int width = 16 * job.J;
  /* Blocks of B of at most B_BLOCK_FLOATS: a short inner dimension with many columns
   * (weight gradients) is cut along the columns, a long one with few columns (the
   * products of layer4) along the inner dimension. */
  int64_t n_padded = (n + width - 1) / width * width;
  if (kc <= 0)
    {
      if (n_padded <= 256)
        job.kc = (int) MIN ((int64_t) k, MAX (64, B_BLOCK_FLOATS / n_padded));
      job.nc = n;
      if ((int64_t) job.kc * n_padded > B_BLOCK_FLOATS)
        job.nc = (int) MAX ((int64_t) width, B_BLOCK_FLOATS / job.kc / width * width);
    }
  else
    job.nc = n;
  int threads = parallel_get_num_threads ();
  int64_t row_tiles = (m + R - 1) / R, col_tiles = (n + 16 * job.J - 1) / (16 * job.J);
  job.split_columns = row_tiles < 2 * threads && col_tiles > row_tiles;
  /* Stream a C larger than the caches keep for long, written whole (beta 0, alpha
   * 1) in aligned lines. */
  job.stream = stream && beta == 0 && alpha == 1 && job.kc >= k
               && (double) m * n * 4 > STREAM_MIN_BYTES && ldc % 16 == 0
               && ((uintptr_t) c & 63) == 0;
  int64_t tiles = job.split_columns ? col_tiles : row_tiles;
  job.parts = c_parts ((double) m * n * k, 4 * SMALL_FLOPS, MIN (tiles, (int64_t) 4 * threads));
  double parts_sumsq[4 * 64] = { 0 };
  if (sumsq)
    job.sumsq = parts_sumsq;
  parallel_for_each (job.parts, direct_range, &job);
  if (sumsq)
    {
      *sumsq = 0;
      for (int t = 0; t < job.parts; t++)
        *sumsq += parts_sumsq[t];
    }
}

/* --- The dot kernel --------------------------------------------------------------------- */

/* Σ of the 16 lanes, pairwise. */
INLINE TARGET float
hsum (__m512 v)
{
  __m256 h = _mm256_add_ps (_mm512_extractf32x8_ps (v, 0), _mm512_extractf32x8_ps (v, 1));
  __m128 q = _mm_add_ps (_mm256_castps256_ps128 (h), _mm256_extractf128_ps (h, 1));
  q = _mm_add_ps (q, _mm_movehl_ps (q, q));
  q = _mm_add_ss (q, _mm_movehdup_ps (q));
  return _mm_cvtss_f32 (q);
}

/* The dot tile: R rows of A × N columns (rows of Bt), accumulators dRN named as
 * in direct_tile. */
#define DACC_ROW(r)                                                                 \
  __m512 d##r##0 = _mm512_setzero_ps (), d##r##1 = d##r##0, d##r##2 = d##r##0,      \
         d##r##3 = d##r##0, d##r##4 = d##r##0, d##r##5 = d##r##0, d##r##6 = d##r##0, \
         d##r##7 = d##r##0;
#define DFMA(r, j)                                                                  \
  if (N > j)                                                                        \
    d##r##j = _mm512_fmadd_ps (av, bv##j, d##r##j);
#define DFMA_ROW(r)                                                                 \
  if (R > r)                                                                        \
    {                                                                               \
      __m512 av = _mm512_maskz_loadu_ps (mask, a + r * lda + kk);                   \
      DFMA (r, 0) DFMA (r, 1) DFMA (r, 2) DFMA (r, 3)                               \
      DFMA (r, 4) DFMA (r, 5) DFMA (r, 6) DFMA (r, 7)                               \
    }
#define DLOAD(j)                                                                    \
  __m512 bv##j = N > j ? _mm512_maskz_loadu_ps (mask, bt + j * ldbt + kk)           \
                       : _mm512_setzero_ps ();
#define DSTORE(r, j)                                                                \
  if (N > j)                                                                        \
    {                                                                               \
      float s = alpha * hsum (d##r##j);                                             \
      float *out = c + r * ldc + j;                                                 \
      *out = beta == 0 ? s : s + beta * *out;                                       \
    }
#define DSTORE_ROW(r)                                                               \
  if (R > r)                                                                        \
    {                                                                               \
      DSTORE (r, 0) DSTORE (r, 1) DSTORE (r, 2) DSTORE (r, 3)                       \
      DSTORE (r, 4) DSTORE (r, 5) DSTORE (r, 6) DSTORE (r, 7)                       \
    }

INLINE TARGET void
dot_tile (int R, int N, int k, const float *a, int64_t lda, const float *bt, int64_t ldbt,
          float *c, int64_t ldc, float alpha, float beta)
{
  DACC_ROW (0) DACC_ROW (1) DACC_ROW (2) DACC_ROW (3)
  DACC_ROW (4) DACC_ROW (5) DACC_ROW (6) DACC_ROW (7)
  for (int kk = 0; kk < k; kk += 16)
    {
      __mmask16 mask = k - kk >= 16 ? 0xffff : (__mmask16) ((1u << (k - kk)) - 1);
      DLOAD (0) DLOAD (1) DLOAD (2) DLOAD (3) DLOAD (4) DLOAD (5) DLOAD (6) DLOAD (7)
      DFMA_ROW (0) DFMA_ROW (1) DFMA_ROW (2) DFMA_ROW (3)
      DFMA_ROW (4) DFMA_ROW (5) DFMA_ROW (6) DFMA_ROW (7)
    }
  DSTORE_ROW (0) DSTORE_ROW (1) DSTORE_ROW (2) DSTORE_ROW (3)
  DSTORE_ROW (4) DSTORE_ROW (5) DSTORE_ROW (6) DSTORE_ROW (7)
}

/* Rows per dot tile for n columns: R·n + R + n ≤ 32. */
static const int dot_rows[DOT_MAX_N + 1] = { 0, 8, 8, 6, 5, 4, 3, 3, 2 };

#define DOT_R(R_, N_)                                                          \
  case R_: dot_tile (R_, N_, k, a, lda, bt, ldbt, c, ldc, alpha, beta); break;

#define DOT_N(N_)                                                              \
  case N_:                                                                     \
    switch (R)                                                                 \
      {                                                                        \
        DOT_R (1, N_) DOT_R (2, N_) DOT_R (3, N_) DOT_R (4, N_)                \
        DOT_R (5, N_) DOT_R (6, N_) DOT_R (7, N_) DOT_R (8, N_)                \
      default: g_assert_not_reached ();                                        \
      }                                                                        \
    break;

TARGET static void
dot_tile_any (int R, int n, int k, const float *a, int64_t lda, const float *bt, int64_t ldbt,
              float *c, int64_t ldc, float alpha, float beta)
{
  switch (n)
    {
      DOT_N (1) DOT_N (2) DOT_N (3) DOT_N (4) DOT_N (5) DOT_N (6) DOT_N (7) DOT_N (8)
    default: g_assert_not_reached ();
    }
}

typedef struct
{
  int m, n, k;
  const float *a;
  int64_t lda;
  const float *bt;
  int64_t ldbt;
  float *c;
  int64_t ldc;
  float alpha, beta;
  int parts;
} DotJob;

/* Blocks [begin, end) of the rows. */
static void
dot_range (gpointer data, int64_t begin, int64_t end)
{
  const DotJob *job = data;
  int R = dot_rows[job->n];
  for (int64_t t = begin; t < end; t++)
    {
      int r0, r1, c0, c1;
      if (!c_block (job->m, job->n, false, job->parts, t, 1, R, &r0, &r1, &c0, &c1))
        continue;
      for (int r = r0; r < r1; r += R)
        dot_tile_any (MIN (R, r1 - r), job->n, job->k, job->a + r * job->lda, job->lda,
                      job->bt, job->ldbt, job->c + r * job->ldc, job->ldc, job->alpha,
                      job->beta);
    }
}

/* C (m, n) = alpha · A (m, k) · Btᵀ + beta · C, Bt (n, k); rows of A and Bt contiguous. */
static void
dot_gemm (int m, int n, int k, float alpha, const float *a, int64_t lda, const float *bt,
          int64_t ldbt, float beta, float *c, int64_t ldc)
{
  DotJob job = { m, n, k, a, lda, bt, ldbt, c, ldc, alpha, beta, 0 };
  int threads = parallel_get_num_threads ();
  job.parts = c_parts ((double) m * n * k, 4 * SMALL_FLOPS,
                       MIN ((int64_t) 4 * threads, m / dot_rows[n]));
  parallel_for_each (job.parts, dot_range, &job);
}

/* Σ c² over C (m, n), rows ldc apart, each row in double over 16 lanes. */
static inline __attribute__ ((always_inline)) double
sum_squares_c_body (const float *c, int m, int n, int ldc)
{
  double total = 0;
  for (int i = 0; i < m; i++)
    {
      const float *row = c + (int64_t) i * ldc;
      double s[16] = { 0 };
      int j = 0;
      for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++)
          s[l] += (double) row[j + l] * row[j + l];
      for (; j < n; j++)
        s[0] += (double) row[j] * row[j];
      for (int l = 0; l < 16; l++)
        total += s[l];
    }
  return total;
}

VEC_CLONES_RETURN (double, sum_squares_c, (const float *c, int m, int n, int ldc), (c, m, n, ldc))

/* --- OpenBLAS, one call per thread ---------------------------------------------------------- */

typedef struct
{
  bool trans_a, trans_b;
  int m, n, k;
  float alpha, beta;
  const float *a;
  int lda;
  const float *b;
  int ldb;
  float *c;
  int ldc;
  bool split_columns;
  int parts;
  double *part_sumsq;          /* NULL, or Σ c² of each part's block, measured while hot */
} BlasJob;

static void
blas_call (const BlasJob *j, int r0, int r1, int c0, int c1)
{
  const float *a = j->trans_a ? j->a + r0 : j->a + (int64_t) r0 * j->lda;
  const float *b = j->trans_b ? j->b + (int64_t) c0 * j->ldb : j->b + c0;
  cblas_sgemm (CblasRowMajor, j->trans_a ? CblasTrans : CblasNoTrans,
               j->trans_b ? CblasTrans : CblasNoTrans, r1 - r0, c1 - c0, j->k, j->alpha,
               a, j->lda, b, j->ldb, j->beta, j->c + (int64_t) r0 * j->ldc + c0, j->ldc);
}

static void
blas_range (gpointer data, int64_t begin, int64_t end)
{
  const BlasJob *j = data;
  for (int64_t t = begin; t < end; t++)
    {
      int r0, r1, c0, c1;
      if (!c_block (j->m, j->n, j->split_columns, j->parts, t, 16, 16, &r0, &r1, &c0, &c1))
        continue;
      blas_call (j, r0, r1, c0, c1);
      if (j->part_sumsq)
        j->part_sumsq[t] = sum_squares_c (j->c + (int64_t) r0 * j->ldc + c0, r1 - r0, c1 - c0,
                                          j->ldc);
    }
}

#define BLAS_PARTS 4

/* sumsq: NULL, or where to put Σ c²: each block measured by its own thread just after
 * OpenBLAS wrote it (what is still in cache is read from there, and both threads read),
 * summed in block order: the same bits on any number of threads, as the blocks do not
 * depend on it. */
static void
blas_gemm (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
           int lda, const float *b, int ldb, float beta, float *c, int ldc, double *sumsq)
{
  double part_sumsq[BLAS_PARTS] = { 0 };
  BlasJob job = { trans_a, trans_b, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc, n >= m, 0,
                  sumsq ? part_sumsq : NULL };
  /* A fixed number of blocks, never the thread count: OpenBLAS's kernels may round an
   * element differently in blocks of another width (its Haswell kernels do), and the
   * same product must give the same bits on 1 or 2 threads. Four is two blocks per
   * thread on two cores: each block packs the other operand again, but a thread that
   * starts late leaves less to wait for. */
  job.parts = c_parts ((double) m * n * k, 8 * SMALL_FLOPS, MIN (BLAS_PARTS, MAX (m, n) / 64));
  parallel_for_each (job.parts, blas_range, &job);
  if (sumsq)
    {
      *sumsq = 0;
      for (int t = 0; t < job.parts; t++)
        *sumsq += part_sumsq[t];
    }
}

/* --- The entry point ------------------------------------------------------------------------ */

typedef enum { PATH_BLAS, PATH_DIRECT, PATH_DOT, PATH_DIRECT_T } GemmPath;

static GemmPath
choose_path (bool trans_a, bool trans_b, int m, int n, int k)
{
  if (!direct_available () || (double) m * n * k < SMALL_FLOPS)
    return PATH_BLAS;
  if (n <= DOT_MAX_N && k >= 16)
    /* A (m, k) with rows along k: dot. Aᵀ stored: the transposed problem, where
     * the n rows are the short side and the long side streams. */
    return trans_a ? PATH_DIRECT_T : PATH_DOT;
  if (n <= DIRECT_MAX_N || k <= DIRECT_MAX_K)
    return PATH_DIRECT;
  return PATH_BLAS;
}

const char *
gemm_path (bool trans_a, bool trans_b, int m, int n, int k)
{
  static const char *const names[] = { "openblas", "direct", "dot", "direct-t" };
  return names[choose_path (trans_a, trans_b, m, n, k)];
}

/* ‖A·B‖² for a short inner dimension, without reading C. With A (m, k) and B (k, n),
 *   ‖A·B‖²_F = tr(Bᵀ Aᵀ A B) = Σ_pq (AᵀA)_pq (B Bᵀ)_pq,
 * two k×k Gram matrices: k²/2·(m + n) products instead of a pass over m·n floats. A
 * weight gradient with a small inner dimension (resnet18's layer4 at 64×64: P = 4, C
 * 512×4608) is 9 MB that the pass would read back from memory; the Gram matrices are
 * 40 KB of operands still in cache. It is the norm of the exact product (C holds it
 * rounded to float): the same to about 1e-7, for a picture's edge. */
#define GRAM_MAX_K 16

static bool
gram_is_cheaper (int m, int n, int k)
{
  return k <= GRAM_MAX_K && (double) k * k * (m + n) <= 0.25 * m * n;
}

static double
gram_sum_squares (int m, int n, int k, const float *a, int64_t as_i, int64_t as_k,
                  const float *b, int64_t bs_k, int64_t bs_j)
{
  double ga[GRAM_MAX_K][GRAM_MAX_K] = { { 0 } }, gb[GRAM_MAX_K][GRAM_MAX_K] = { { 0 } };
  double v[GRAM_MAX_K];
  for (int i = 0; i < m; i++)
    {
      for (int p = 0; p < k; p++)
        v[p] = a[i * as_i + p * as_k];
      for (int p = 0; p < k; p++)
        for (int q = p; q < k; q++)
          ga[p][q] += v[p] * v[q];
    }
  for (int j = 0; j < n; j++)
    {
      for (int p = 0; p < k; p++)
        v[p] = b[p * bs_k + j * bs_j];
      for (int p = 0; p < k; p++)
        for (int q = p; q < k; q++)
          gb[p][q] += v[p] * v[q];
    }
  double s = 0;
  for (int p = 0; p < k; p++)
    {
      s += ga[p][p] * gb[p][p];
      for (int q = p + 1; q < k; q++)
        s += 2 * ga[p][q] * gb[p][q];
    }
  return MAX (s, 0);   /* rounding may leave a zero product a hair below 0 */
}

/* sumsq: NULL, or where to put Σ c² of the final C: measured by the direct kernel as
 * it stores C, or by a pass over C (still in cache) after the other paths. */
static void
gemm_any (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
          int lda, const float *b, int ldb, float beta, float *c, int ldc, bool stream,
          double *sumsq)
{
  if (m <= 0 || n <= 0)
    {
      if (sumsq)
        *sumsq = 0;
      return;
    }
  int64_t as_i = trans_a ? 1 : lda, as_k = trans_a ? lda : 1;
  if (sumsq && beta == 0 && k > 0 && gram_is_cheaper (m, n, k))
    {
      *sumsq = (double) alpha * alpha
               * gram_sum_squares (m, n, k, a, as_i, as_k, b, trans_b ? 1 : ldb,
                                   trans_b ? ldb : 1);
      sumsq = NULL;
    }
  GemmPath path = k <= 0 || alpha == 0 ? PATH_BLAS : choose_path (trans_a, trans_b, m, n, k);
  if (k <= 0 || alpha == 0)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++)
        c[(int64_t) i * ldc + j] = beta == 0 ? 0 : beta * c[(int64_t) i * ldc + j];
  else
    switch (path)
      {
      case PATH_BLAS:
        blas_gemm (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, sumsq);
        return;

      case PATH_DOT:
        {
          /* Bt (n, k): B itself when trans_b, else a copy of Bᵀ. */
          const float *bt = b;
          int64_t ldbt = ldb;
          if (!trans_b)
            {
              float *t = scratch_get (0, (size_t) n * k);
              transpose (t, b, k, n, ldb);
              bt = t;
              ldbt = k;
            }
          dot_gemm (m, n, k, alpha, a, lda, bt, ldbt, beta, c, ldc);
          break;
        }

      case PATH_DIRECT_T:
        {
          /* Cᵀ (n, m) = op(B)ᵀ (n, k) · Aᵀ... with A stored (k, m): op(A)ᵀ = A, rows
           * contiguous; op(B)ᵀ(j, kk) is b[kk·ldb + j] (or b[j·ldb + kk] if trans_b).
           * Inner blocks of 8 rows of A: A streams once, in order. */
          float *ct = scratch_get (1, (size_t) n * m);   /* (n, m) */
          direct_gemm (n, m, k, 1, b, trans_b ? ldb : 1, trans_b ? 1 : ldb, a, lda, 0, ct, m,
                       8, false, NULL);
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
              {
                float *out = &c[(int64_t) i * ldc + j];
                float v = alpha * ct[(int64_t) j * m + i];
                *out = beta == 0 ? v : v + beta * *out;
              }
          break;
        }

      case PATH_DIRECT:
        {
          const float *bb = b;
          int64_t ldbb = ldb;
          if (trans_b)
            {
              /* B (k, n) with rows contiguous: a copy of the stored (n, k). */
              float *t = scratch_get (0, (size_t) k * n);
              transpose (t, b, n, k, ldb);
              bb = t;
              ldbb = n;
            }
          direct_gemm (m, n, k, alpha, a, as_i, as_k, bb, ldbb, beta, c, ldc, 0, stream, sumsq);
          return;
        }
      }
  if (sumsq)
    *sumsq = sum_squares_c (c, m, n, ldc);
}

void
gemm (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
      const float *b, int ldb, float beta, float *c, int ldc)
{
  gemm_any (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, false, NULL);
}

void
gemm_stream_c (bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
               int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  gemm_any (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, true, NULL);
}

double
gemm_stream_c_sumsq (bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb, float beta, float *c,
                     int ldc)
{
  double sumsq = 0;
  gemm_any (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, true, &sumsq);
  return sumsq;
}

/* vec.c — hand-vectorised memory-bound passes (see vec.h). */
#include "vec.h"
#include "cpu.h"

#include <immintrin.h>
#include <stdbool.h>

VecLevel
vec_level_of_cpu (void)
{
  const CpuFeatures *f = cpu_features ();
  if (f->avx512f && f->avx512dq && f->avx512vl && f->fma)
    return VEC_AVX512;
  if (f->avx2 && f->fma)
    return VEC_AVX2;
  return VEC_GENERIC;
}

static const char *const level_names[] = { "generic", "avx2", "avx512" };

bool
vec_level_parse (const char *name, VecLevel *level)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (level_names); i++)
    if (g_ascii_strcasecmp (name, level_names[i]) == 0)
      {
        *level = (VecLevel) i;
        return true;
      }
  return false;
}

const char *
vec_level_name (VecLevel level)
{
  static const char *const shown[] = { "generic", "AVX2", "AVX-512" };
  return shown[CLAMP ((int) level, 0, 2)];
}

static gpointer
decide_level (gpointer unused)
{
  (void) unused;
  VecLevel level = vec_level_of_cpu (), asked;
  const char *env = g_getenv ("GRADLENS_ISA");
  if (env != NULL && *env != '\0')
    {
      if (!vec_level_parse (env, &asked))
        g_warning ("GRADLENS_ISA=%s is not avx512, avx2 or generic: ignored", env);
      else
        level = MIN (level, asked);
    }
  return GINT_TO_POINTER (level + 1);   /* g_once's NULL means "not yet" */
}

VecLevel
vec_level (void)
{
  static GOnce once = G_ONCE_INIT;
  return (VecLevel) (GPOINTER_TO_INT (g_once (&once, decide_level, NULL)) - 1);
}

bool
vec_have_avx512 (void)
{
  return vec_level () == VEC_AVX512;
}

/* Element i, in float, exactly the plain loop's operations. */
static inline void
sgd_one (float *w, const float *g, float *buf, float *upd, int64_t i, float momentum,
         float one_minus_damp, float neg_lr)
{
  float scaled = buf[i] * momentum;
  float b = scaled + one_minus_damp * g[i];
  float before = w[i];
  float after = before + neg_lr * b;
  buf[i] = b;
  w[i] = after;
  upd[i] = after - before;
}

/* A product that the compiler may not fuse with the addition that follows (GCC
 * contracts vector a·b + c into one fused multiply-add, which rounds once). */
#define MUL_ROUNDED(a, b)                                                       \
  ({                                                                            \
    __m512 p_ = _mm512_mul_ps ((a), (b));                                       \
    __asm__ ("" : "+v" (p_));                                                   \
    p_;                                                                         \
  })

/* Elements [0, n), n a multiple of 16, upd on a 64-byte line. */
__attribute__ ((target ("avx512f"))) static void
sgd_avx512 (float *w, const float *g, float *buf, float *upd, int64_t n, float momentum,
            float one_minus_damp, float neg_lr)
{
  __m512 mom = _mm512_set1_ps (momentum), omd = _mm512_set1_ps (one_minus_damp);
  __m512 lr = _mm512_set1_ps (neg_lr);
  for (int64_t i = 0; i < n; i += 16)
    {
      __m512 scaled = MUL_ROUNDED (_mm512_loadu_ps (buf + i), mom);
      __m512 b = _mm512_add_ps (scaled, MUL_ROUNDED (omd, _mm512_loadu_ps (g + i)));
      __m512 before = _mm512_loadu_ps (w + i);
      __m512 after = _mm512_add_ps (before, MUL_ROUNDED (lr, b));
      _mm512_storeu_ps (buf + i, b);
      _mm512_storeu_ps (w + i, after);
      /* upd is read by the UI only, if at all: write it around the caches. */
      _mm512_stream_ps (upd + i, _mm512_sub_ps (after, before));
    }
  _mm_sfence ();   /* the streamed stores are done before anyone reads upd */
}

void
vec_sgd_momentum (float *w, const float *g, float *buf, float *upd, int64_t n, float momentum,
                  float one_minus_damp, float neg_lr)
{
  int64_t i = 0;
  if (vec_have_avx512 ())
    {
      /* The plain loop until upd is on a line (streamed stores write whole lines),
       * the vectors, then the plain loop for the tail. */
      for (; i < n && ((uintptr_t) (upd + i) & 63) != 0; i++)
        sgd_one (w, g, buf, upd, i, momentum, one_minus_damp, neg_lr);
      int64_t body = (n - i) / 16 * 16;
      sgd_avx512 (w + i, g + i, buf + i, upd + i, body, momentum, one_minus_damp, neg_lr);
      i += body;
    }
  for (; i < n; i++)
    sgd_one (w, g, buf, upd, i, momentum, one_minus_damp, neg_lr);
}

/* --- Transposes ----------------------------------------------------------------------- */

/* The 16×16 block at a (rows lda apart) to out (rows ldo apart), transposed in
 * registers: unpack pairs, then quads, then 128-bit lanes twice. (GCC 12's headers
 * build these intrinsics on _mm512_undefined_ps, which it then warns about.) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__ ((target ("avx512f"))) static inline void
transpose_16x16 (float *out, int64_t ldo, const float *a, int64_t lda)
{
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++)
    r[i] = _mm512_loadu_ps (a + i * lda);
  for (int i = 0; i < 16; i += 2)
    {
      t[i] = _mm512_unpacklo_ps (r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps (r[i], r[i + 1]);
    }
  for (int i = 0; i < 16; i += 4)
    {
      r[i] = _mm512_shuffle_ps (t[i], t[i + 2], _MM_SHUFFLE (1, 0, 1, 0));
      r[i + 1] = _mm512_shuffle_ps (t[i], t[i + 2], _MM_SHUFFLE (3, 2, 3, 2));
      r[i + 2] = _mm512_shuffle_ps (t[i + 1], t[i + 3], _MM_SHUFFLE (1, 0, 1, 0));
      r[i + 3] = _mm512_shuffle_ps (t[i + 1], t[i + 3], _MM_SHUFFLE (3, 2, 3, 2));
    }
  for (int i = 0; i < 4; i++)
    {
      t[i] = _mm512_shuffle_f32x4 (r[i], r[i + 4], 0x88);
      t[i + 4] = _mm512_shuffle_f32x4 (r[i], r[i + 4], 0xdd);
      t[i + 8] = _mm512_shuffle_f32x4 (r[i + 8], r[i + 12], 0x88);
      t[i + 12] = _mm512_shuffle_f32x4 (r[i + 8], r[i + 12], 0xdd);
    }
  for (int i = 0; i < 4; i++)
    {
      r[i] = _mm512_shuffle_f32x4 (t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4 (t[i], t[i + 8], 0xdd);
      r[i + 4] = _mm512_shuffle_f32x4 (t[i + 4], t[i + 12], 0x88);
      r[i + 12] = _mm512_shuffle_f32x4 (t[i + 4], t[i + 12], 0xdd);
    }
  for (int i = 0; i < 16; i++)
    _mm512_storeu_ps (out + i * ldo, r[i]);
}
#pragma GCC diagnostic pop

__attribute__ ((target ("avx512f"))) static void
transpose_avx512 (float *out, int64_t ldo, const float *a, int64_t lda, int64_t r0, int64_t r1,
                  int64_t cols)
{
  int64_t r = r0;
  for (; r + 16 <= r1; r += 16)
    {
      int64_t c = 0;
      for (; c + 16 <= cols; c += 16)
        transpose_16x16 (out + c * ldo + r, ldo, a + r * lda + c, lda);
      for (; c < cols; c++)
        for (int64_t i = r; i < r + 16; i++)
          out[c * ldo + i] = a[i * lda + c];
    }
  for (; r < r1; r++)
    for (int64_t c = 0; c < cols; c++)
      out[c * ldo + r] = a[r * lda + c];
}

void
vec_transpose (float *out, int64_t ldo, const float *a, int64_t lda, int64_t r0, int64_t r1,
               int64_t cols)
{
  if (vec_have_avx512 ())
    {
      transpose_avx512 (out, ldo, a, lda, r0, r1, cols);
      return;
    }
  /* 16×16 blocks: the 16 lines read and the 16 written stay in L1. */
  for (int64_t rb = r0; rb < r1; rb += 16)
    for (int64_t cb = 0; cb < cols; cb += 16)
      {
        int64_t re = MIN (rb + 16, r1), ce = MIN (cb + 16, cols);
        for (int64_t c = cb; c < ce; c++)
          for (int64_t i = rb; i < re; i++)
            out[c * ldo + i] = a[i * lda + c];
      }
}

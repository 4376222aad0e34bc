/* vec.c — hand-vectorised memory-bound passes (see vec.h). */
#include "vec.h"

#include <immintrin.h>
#include <stdbool.h>

static int have_avx512 = -1;

static bool
avx512_available (void)
{
  if (have_avx512 < 0)
    {
      __builtin_cpu_init ();
      have_avx512 = __builtin_cpu_supports ("avx512f");
    }
  return have_avx512;
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
  if (avx512_available ())
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

/* random.c — torch's CPU generator and the draws of torch.rand, torch.randn,
 * Tensor.uniform_ and Tensor.normal_, bit for bit (checked against PyTorch 1.13 by
 * tests/test-random.c with tools/make-random-fixtures.py's numbers).
 *
 * Where the arithmetic comes from (ATen, read, not copied):
 *   - the generator: at::mt19937 seeded with the low 32 bits of the seed;
 *     random64() = (first draw << 32) | second draw.
 *   - TransformationHelper.h, uniform_real: a float takes the LOW 24 bits of one
 *     32-bit draw, a double the LOW 53 bits of one 64-bit draw, × 2^-digits, then
 *     x·(to − from) + from in the type's own precision.
 *   - DistributionsHelper.h, normal_distribution<double>: Box–Muller on u1, u2
 *     (uniform doubles, drawn in that order), r = √(−2·ln(1 − u2)), θ = 2π·u1;
 *     returns r·cos θ and keeps r·sin θ in the generator for the next call
 *     (torch.manual_seed forgets it); then ·std + mean in double.
 *   - cpu/DistributionTemplates.h, normal_kernel: a contiguous float tensor of
 *     16 or more elements is first filled with uniform floats, then transformed 16
 *     at a time (u1 = 1 − data[j], u2 = data[j + 8] for j < 8) by the AVX2 kernel
 *     normal_fill_16_AVX2, with avx_mathfun.h's 8-lane cephes logf and sincosf; a
 *     ragged end draws 16 new uniforms for the last 16 elements and transforms
 *     them again. Smaller tensors take one double normal per element.
 *   - Those kernels are compiled with -mavx2 -mfma by GCC, whose default
 *     -ffp-contract=fast fuses a product into the sum that consumes it. So where
 *     ATen writes a*b + c, the float result is fmaf (a, b, c): written out below,
 *     one fmaf per fused pair (this file itself is compiled without FMA, so a
 *     plain a*b + c here is two roundings, as written).
 */
#include "tensor.h"
#include "vec.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

/* --- The generator: mt19937 ------------------------------------------------ */

void
generator_init (Generator *gen, uint64_t seed)
{
  /* at::mt19937 seeds with the low 32 bits, the standard recurrence. */
  gen->mt[0] = (uint32_t) (seed & 0xffffffffu);
  for (int i = 1; i < 624; i++)
    gen->mt[i] = 1812433253u * (gen->mt[i - 1] ^ (gen->mt[i - 1] >> 30)) + i;
  gen->index = 624;
  gen->has_next_normal = false;
}

uint32_t
generator_next_u32 (Generator *gen)
{
  if (gen->index >= 624)
    {
      /* The twist, the standard recurrence mt[i] = mt[i + 397] ^ twist (mt[i],
       * mt[i + 1]), indices mod 624, in three runs so that none needs the modulo
       * (it was most of the cost of resnet18()'s 23 million draws). */
#define MT_TWIST(i, next, far)                                                       \
      do {                                                                        \
        uint32_t y = (gen->mt[i] & 0x80000000u) | (gen->mt[next] & 0x7fffffffu);  \
        gen->mt[i] = gen->mt[far] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);      \
      } while (0)
      int i = 0;
      for (; i < 624 - 397; i++)
        MT_TWIST (i, i + 1, i + 397);
      for (; i < 623; i++)
        MT_TWIST (i, i + 1, i + 397 - 624);
      MT_TWIST (623, 0, 396);
#undef MT_TWIST
      gen->index = 0;
    }
  uint32_t y = gen->mt[gen->index++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t
generator_next_u64 (Generator *gen)
{
  uint64_t hi = generator_next_u32 (gen);
  uint64_t lo = generator_next_u32 (gen);
  return (hi << 32) | lo;
}

float
generator_uniform_float (Generator *gen)
{
  /* The low 24 bits of one draw, / 2^24: [0, 1). */
  return (float) (generator_next_u32 (gen) & ((1u << 24) - 1)) * (1.0f / (1u << 24));
}

double
generator_uniform_double (Generator *gen)
{
  /* The low 53 bits of one 64-bit draw, / 2^53: [0, 1). */
  return (double) (generator_next_u64 (gen) & ((UINT64_C (1) << 53) - 1))
         * (1.0 / (double) (UINT64_C (1) << 53));
}

double
generator_normal (Generator *gen)
{
  if (gen->has_next_normal)
    {
      gen->has_next_normal = false;
      return gen->next_normal;
    }
  double u1 = generator_uniform_double (gen);
  double u2 = generator_uniform_double (gen);
  double r = sqrt (-2.0 * log (1.0 - u2));
  double theta = 2.0 * G_PI * u1;
  gen->next_normal = r * sin (theta);
  gen->has_next_normal = true;
  return r * cos (theta);
}

/* --- Tensor.uniform_ ---------------------------------------------------------- */

void
tensor_fill_uniform (Tensor *t, Generator *gen, double from, double to)
{
  g_return_if_fail (t != NULL && gen != NULL);
  /* The bounds become floats first; then u·(to − from) + from, fused. */
  float lo = (float) from, hi = (float) to;
  float range = hi - lo;
  for (int64_t i = 0; i < t->numel; i++)
    t->data[i] = fmaf (generator_uniform_float (gen), range, lo);
}

void
tensor_fill_bernoulli (Tensor *t, Generator *gen, double p)
{
  g_return_if_fail (t != NULL && gen != NULL);
  /* ATen's CPU kernel without MKL (Debian's build): bernoulli_distribution<double>,
   * one uniform double per element in order, 1 where it is below p. */
  for (int64_t i = 0; i < t->numel; i++)
    t->data[i] = generator_uniform_double (gen) < p ? 1.0f : 0.0f;
}

Tensor *
tensor_new_rand (int ndim, const int64_t *shape, Generator *gen)
{
  Tensor *t = tensor_new_empty (ndim, shape);
  tensor_fill_uniform (t, gen, 0.0, 1.0);
  return t;
}

/* --- The 8-lane cephes logf and sincosf of normal_fill_16_AVX2 ------------------
 *
 * One lane at a time: each lane of the vector code is an independent float
 * computation, so the same operations in the same order give the same bits. The
 * constants are cephes' decimal ones, each rounded to double and then to float,
 * as ATen's tables of floats initialised from double literals are. */

static inline uint32_t
float_bits (float x)
{
  uint32_t u;
  memcpy (&u, &x, sizeof u);
  return u;
}

static inline float
bits_float (uint32_t u)
{
  float x;
  memcpy (&x, &u, sizeof x);
  return x;
}

/* ln x for x in (0, 1] (normal_ only takes it of 1 − u): x = m·2^e with m in
 * [√½, √2), ln x = ln m + e·ln 2, ln m by cephes' degree-9 polynomial in m − 1,
 * ln 2 split in q2 + q1 (q2 exact in few bits) so e·ln 2 loses nothing. */
static float
cephes_logf (float x)
{
  x = fmaxf (x, FLT_MIN);                        /* denormals cut off */
  uint32_t bits = float_bits (x);
  float e = (float) ((int32_t) (bits >> 23) - 0x7f);
  float m = bits_float ((bits & ~0x7f800000u) | float_bits (0.5f));   /* [0.5, 1) */
  e = e + 1.0f;
  bool below = m < (float) 0.707106781186547524;
  float extra = below ? m : 0.0f;
  m = m - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  m = m + extra;                                 /* m − 1, or 2m − 1 below √½ */

  float z = m * m;
  float y = fmaf ((float) 7.0376836292E-2, m, -(float) 1.1514610310E-1);
  y = fmaf (y, m, (float) 1.1676998740E-1);
  y = fmaf (y, m, -(float) 1.2420140846E-1);
  y = fmaf (y, m, (float) 1.4249322787E-1);
  y = fmaf (y, m, -(float) 1.6668057665E-1);
  y = fmaf (y, m, (float) 2.0000714765E-1);
  y = fmaf (y, m, -(float) 2.4999993993E-1);
  y = fmaf (y, m, (float) 3.3333331174E-1);
  y = y * m;
  y = fmaf (y, z, e * -(float) 2.12194440e-4);   /* y·z + e·q1: the first product fuses */
  y = fmaf (-z, 0.5f, y);                        /* − z/2 */
  return fmaf (e, (float) 0.693359375, m + y);   /* + e·q2 */
}

/* sin x and cos x for x in [0, 2π) (normal_ only takes them of 2π·u): reduce by
 * the multiple j of π/4 (rounded up to even) in three exact-ish steps (cephes'
 * DP1 + DP2 + DP3 = π/4), then one polynomial for sin and one for cos on
 * [−π/4, π/4], swapped and signed by j. */
static void
cephes_sincosf (float x, float *sin_x, float *cos_x)
{
  uint32_t sign_sin = float_bits (x) & 0x80000000u;
  x = fabsf (x);
  int32_t j = (int32_t) (x * (float) 1.27323954473516);   /* x·4/π, truncated */
  j = (j + 1) & ~1;
  float y = (float) j;
  sign_sin ^= (uint32_t) (j & 4) << 29;
  bool use_sin_poly_for_sin = (j & 2) == 0;
  uint32_t sign_cos = (uint32_t) (~(j - 2) & 4) << 29;

  x = fmaf (y, -(float) 0.78515625, x);
  x = fmaf (y, -(float) 2.4187564849853515625e-4, x);
  x = fmaf (y, -(float) 3.77489497744594108e-8, x);

  float z = x * x;
  float c = fmaf ((float) 2.443315711809948E-005, z, -(float) 1.388731625493765E-003);
  c = fmaf (c, z, (float) 4.166664568298827E-002);
  c = c * z;
  c = fmaf (c, z, -(z * 0.5f));                  /* c·z − z/2: the first product fuses */
  c = c + 1.0f;

  float s = fmaf (-(float) 1.9515295891E-4, z, (float) 8.3321608736E-3);
  s = fmaf (s, z, -(float) 1.6666654611E-1);
  s = s * z;
  s = fmaf (s, x, x);

  /* The vector code selects with masks and sums: kept as written, since 0 + (−0)
   * is +0 and the sign of a zero is part of the bits. */
  float s_part = use_sin_poly_for_sin ? s : 0.0f;
  float c_part = use_sin_poly_for_sin ? 0.0f : c;
  float sin_abs = c_part + s_part;
  float cos_abs = (c - c_part) + (s - s_part);
  *sin_x = bits_float (float_bits (sin_abs) ^ sign_sin);
  *cos_x = bits_float (float_bits (cos_abs) ^ sign_cos);
}

/* Eight Box–Muller pairs over 16 uniforms in place: data[j] ← r·cos θ·std + mean,
 * data[j + 8] ← r·sin θ·std + mean, r = √(−2·ln(1 − data[j])), θ = 2π·data[j + 8]. */
static void
normal_fill_16 (float *data, float mean, float std)   /* data: (16) */
{
  const float two_pi = (float) (2.0f * G_PI);
  for (int j = 0; j < 8; j++)
    {
      float u1 = 1.0f - data[j];
      float u2 = data[j + 8];
      float radius = sqrtf (-2.0f * cephes_logf (u1));
      float theta = two_pi * u2;
      float s, c;
      cephes_sincosf (theta, &s, &c);
      data[j] = fmaf (radius * c, std, mean);
      data[j + 8] = fmaf (radius * s, std, mean);
    }
}

/* The same, eight lanes at once with AVX2 and FMA, as ATen runs it: each line below
 * is the lane-wise operation of the scalar code above, an fmaf one FMA, every other
 * product and sum rounded on its own. GCC would fuse a product into the sum that
 * takes it (its default -ffp-contract=fast, with FMA in the target): off here, so
 * the lanes give the scalar code's bits (test-random compares them on every float
 * the uniform draws can give). clang fuses only within one expression, which the
 * intrinsics never are. resnet18()'s 11 million normals: 4× faster than the scalar
 * code and its libm fmaf calls. */
#if defined(__clang__)
#define NO_FP_CONTRACT
#else
#define NO_FP_CONTRACT __attribute__ ((optimize ("fp-contract=off")))
#endif
#define SET1 _mm256_set1_ps
__attribute__ ((target ("avx2,fma"))) NO_FP_CONTRACT static void
normal_fill_16_avx2 (float *data, float mean, float std)   /* data: (16) */
{
  const __m256 one = SET1 (1.0f);
  const __m256i sign_bit = _mm256_set1_epi32 ((int) 0x80000000u);

  /* log(u1), u1 = 1 − data[0..8): cephes_logf */
  __m256 x = _mm256_max_ps (_mm256_sub_ps (one, _mm256_loadu_ps (data)), SET1 (FLT_MIN));
  __m256i bits = _mm256_castps_si256 (x);
  __m256 e = _mm256_cvtepi32_ps (_mm256_sub_epi32 (_mm256_srli_epi32 (bits, 23),
                                                   _mm256_set1_epi32 (0x7f)));
  __m256 m = _mm256_castsi256_ps (
    _mm256_or_si256 (_mm256_and_si256 (bits, _mm256_set1_epi32 ((int) ~0x7f800000u)),
                     _mm256_castps_si256 (SET1 (0.5f))));
  e = _mm256_add_ps (e, one);
  __m256 below = _mm256_cmp_ps (m, SET1 ((float) 0.707106781186547524), _CMP_LT_OQ);
  __m256 extra = _mm256_and_ps (below, m);
  m = _mm256_sub_ps (m, one);
  e = _mm256_sub_ps (e, _mm256_and_ps (below, one));
  m = _mm256_add_ps (m, extra);
  __m256 z = _mm256_mul_ps (m, m);
  __m256 y = _mm256_fmadd_ps (SET1 ((float) 7.0376836292E-2), m, SET1 (-(float) 1.1514610310E-1));
  y = _mm256_fmadd_ps (y, m, SET1 ((float) 1.1676998740E-1));
  y = _mm256_fmadd_ps (y, m, SET1 (-(float) 1.2420140846E-1));
  y = _mm256_fmadd_ps (y, m, SET1 ((float) 1.4249322787E-1));
  y = _mm256_fmadd_ps (y, m, SET1 (-(float) 1.6668057665E-1));
  y = _mm256_fmadd_ps (y, m, SET1 ((float) 2.0000714765E-1));
  y = _mm256_fmadd_ps (y, m, SET1 (-(float) 2.4999993993E-1));
  y = _mm256_fmadd_ps (y, m, SET1 ((float) 3.3333331174E-1));
  y = _mm256_mul_ps (y, m);
  y = _mm256_fmadd_ps (y, z, _mm256_mul_ps (e, SET1 (-(float) 2.12194440e-4)));
  y = _mm256_fmadd_ps (_mm256_xor_ps (z, _mm256_castsi256_ps (sign_bit)), SET1 (0.5f), y);
  __m256 log_u1 = _mm256_fmadd_ps (e, SET1 ((float) 0.693359375), _mm256_add_ps (m, y));
  __m256 radius = _mm256_sqrt_ps (_mm256_mul_ps (SET1 (-2.0f), log_u1));

  /* sin θ, cos θ, θ = 2π·data[8..16): cephes_sincosf */
  x = _mm256_mul_ps (SET1 ((float) (2.0f * G_PI)), _mm256_loadu_ps (data + 8));
  __m256i sign_sin = _mm256_and_si256 (_mm256_castps_si256 (x), sign_bit);
  x = _mm256_andnot_ps (_mm256_castsi256_ps (sign_bit), x);
  __m256i j = _mm256_cvttps_epi32 (_mm256_mul_ps (x, SET1 ((float) 1.27323954473516)));
  j = _mm256_and_si256 (_mm256_add_epi32 (j, _mm256_set1_epi32 (1)), _mm256_set1_epi32 (~1));
  y = _mm256_cvtepi32_ps (j);
  sign_sin = _mm256_xor_si256 (sign_sin,
                               _mm256_slli_epi32 (_mm256_and_si256 (j, _mm256_set1_epi32 (4)), 29));
  __m256 sin_poly = _mm256_castsi256_ps (
    _mm256_cmpeq_epi32 (_mm256_and_si256 (j, _mm256_set1_epi32 (2)), _mm256_setzero_si256 ()));
  __m256i sign_cos = _mm256_slli_epi32 (
    _mm256_andnot_si256 (_mm256_sub_epi32 (j, _mm256_set1_epi32 (2)), _mm256_set1_epi32 (4)), 29);
  x = _mm256_fmadd_ps (y, SET1 (-(float) 0.78515625), x);
  x = _mm256_fmadd_ps (y, SET1 (-(float) 2.4187564849853515625e-4), x);
  x = _mm256_fmadd_ps (y, SET1 (-(float) 3.77489497744594108e-8), x);
  z = _mm256_mul_ps (x, x);
  __m256 c = _mm256_fmadd_ps (SET1 ((float) 2.443315711809948E-005), z,
                              SET1 (-(float) 1.388731625493765E-003));
  c = _mm256_fmadd_ps (c, z, SET1 ((float) 4.166664568298827E-002));
  c = _mm256_mul_ps (c, z);
  c = _mm256_fmadd_ps (c, z, _mm256_xor_ps (_mm256_mul_ps (z, SET1 (0.5f)),
                                            _mm256_castsi256_ps (sign_bit)));
  c = _mm256_add_ps (c, one);
  __m256 s = _mm256_fmadd_ps (SET1 (-(float) 1.9515295891E-4), z, SET1 ((float) 8.3321608736E-3));
  s = _mm256_fmadd_ps (s, z, SET1 (-(float) 1.6666654611E-1));
  s = _mm256_mul_ps (s, z);
  s = _mm256_fmadd_ps (s, x, x);
  __m256 s_part = _mm256_and_ps (sin_poly, s);
  __m256 c_part = _mm256_andnot_ps (sin_poly, c);
  __m256 sin_t = _mm256_xor_ps (_mm256_add_ps (c_part, s_part), _mm256_castsi256_ps (sign_sin));
  __m256 cos_t = _mm256_xor_ps (_mm256_add_ps (_mm256_sub_ps (c, c_part), _mm256_sub_ps (s, s_part)),
                                _mm256_castsi256_ps (sign_cos));

  _mm256_storeu_ps (data, _mm256_fmadd_ps (_mm256_mul_ps (radius, cos_t), SET1 (std), SET1 (mean)));
  _mm256_storeu_ps (data + 8,
                    _mm256_fmadd_ps (_mm256_mul_ps (radius, sin_t), SET1 (std), SET1 (mean)));
}
#undef SET1
#undef NO_FP_CONTRACT

void
normal_fill_16_for_test (float *data, float mean, float std, bool vector)
{
  if (vector)
    normal_fill_16_avx2 (data, mean, std);
  else
    normal_fill_16 (data, mean, std);
}

/* --- Tensor.normal_ -------------------------------------------------------------- */

void
tensor_fill_normal (Tensor *t, Generator *gen, double mean, double std)
{
  g_return_if_fail (t != NULL && gen != NULL);
  int64_t n = t->numel;
  float *data = t->data;  /* (n) */

  if (n < 16)
    {
      /* One double normal each, then ·std + mean in double (fused, as compiled). */
      for (int64_t i = 0; i < n; i++)
        data[i] = (float) fma (generator_normal (gen), std, mean);
      return;
    }
  void (*fill_16) (float *, float, float) = vec_level () >= VEC_AVX2 ? normal_fill_16_avx2
                                                                       : normal_fill_16;
  for (int64_t i = 0; i < n; i++)
    data[i] = generator_uniform_float (gen);
  for (int64_t i = 0; i + 16 <= n; i += 16)
    fill_16 (data + i, (float) mean, (float) std);
  if (n % 16 != 0)
    {
      float *tail = data + n - 16;  /* (16): overlaps the last full block */
      for (int i = 0; i < 16; i++)
        tail[i] = generator_uniform_float (gen);
      fill_16 (tail, (float) mean, (float) std);
    }
}

Tensor *
tensor_new_randn (int ndim, const int64_t *shape, Generator *gen)
{
  Tensor *t = tensor_new_empty (ndim, shape);
  tensor_fill_normal (t, gen, 0.0, 1.0);
  return t;
}

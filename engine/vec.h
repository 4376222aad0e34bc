/* vec.h — the engine's memory-bound passes, vectorised by hand where it pays.
 *
 * The same float operations, in the same order, as the plain loops they replace:
 * only the width of the registers and the kind of store change. On a CPU with
 * AVX-512, results that nothing reads soon are written with streaming stores
 * (no read for ownership, no eviction of what the caches hold for the next pass).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The engine's kernel levels: which of its own kernels run (OpenBLAS chooses its own,
 * cpu.h). AVX-512: the direct products (gemm.c), Winograd's transforms and products
 * (winograd.c), the passes below; AVX2 and generic: the loops built for each level
 * with VEC_CLONES. */
typedef enum
{
  VEC_GENERIC,                     /* SSE2, the x86-64 baseline */
  VEC_AVX2,                        /* AVX2 and FMA */
  VEC_AVX512,                      /* AVX-512 F, DQ and VL, and FMA */
} VecLevel;

/* The level the engine runs: the highest this CPU has (CPUID, cpu.h), lowered by
 * GRADLENS_ISA=avx512|avx2|generic (a level above the CPU's is not raised; an
 * unknown name is warned about and ignored). Decided once, under g_once: the pool's
 * threads may all ask first at once. */
VecLevel vec_level (void);
/* The highest level this CPU has, whatever GRADLENS_ISA says. */
VecLevel vec_level_of_cpu (void);
/* "AVX-512", "AVX2", "generic". */
const char *vec_level_name (VecLevel level);
/* GRADLENS_ISA's names: "avx512", "avx2", "generic". FALSE for anything else. */
bool vec_level_parse (const char *name, VecLevel *level);

/* vec_level () == VEC_AVX512: the engine's AVX-512 kernels run. */
bool vec_have_avx512 (void);

/* Defines `static void NAME PARAMS`, which runs NAME##_body (a static inline function
 * of the same parameters) compiled three times, for AVX-512, AVX2 and the baseline,
 * and picks by vec_level (). What GCC's target_clones does, except that the choice
 * follows GRADLENS_ISA (target_clones' resolver runs at load, from CPUID alone).
 *   VEC_CLONES (row_max, (const float *x, int64_t n), (x, n))
 * VEC_CLONES_RETURN likewise for a function that returns RET. */
#define VEC_CLONES_RETURN(ret, name, params, args)                                  \
  __attribute__ ((target ("avx512f"))) static ret name##_avx512 params             \
  {                                                                                \
    return name##_body args;                                                       \
  }                                                                                \
  __attribute__ ((target ("avx2"))) static ret name##_avx2 params                  \
  {                                                                                \
    return name##_body args;                                                       \
  }                                                                                \
  static ret name params                                                           \
  {                                                                                \
    switch (vec_level ())                                                          \
      {                                                                            \
      case VEC_AVX512:                                                             \
        return name##_avx512 args;                                                 \
      case VEC_AVX2:                                                               \
        return name##_avx2 args;                                                   \
      default:                                                                     \
        return name##_body args;                                                   \
      }                                                                            \
  }
#define VEC_CLONES(name, params, args)                                              \
  __attribute__ ((target ("avx512f"))) static void name##_avx512 params            \
  {                                                                                \
    name##_body args;                                                              \
  }                                                                                \
  __attribute__ ((target ("avx2"))) static void name##_avx2 params                 \
  {                                                                                \
    name##_body args;                                                              \
  }                                                                                \
  static void name params                                                          \
  {                                                                                \
    switch (vec_level ())                                                          \
      {                                                                            \
      case VEC_AVX512:                                                             \
        name##_avx512 args;                                                        \
        break;                                                                     \
      case VEC_AVX2:                                                               \
        name##_avx2 args;                                                          \
        break;                                                                     \
      default:                                                                     \
        name##_body args;                                                          \
      }                                                                            \
  }

/* SGD with momentum, no weight decay, no Nesterov, after the first step, per element:
 *   buf = buf·momentum + one_minus_damp·g;  w_after = w + neg_lr·buf;
 *   upd = w_after − w;  w = w_after
 * upd (the update, read by the UI only) is streamed. */
void vec_sgd_momentum (float *w, const float *g, float *buf, float *upd, int64_t n,
                       float momentum, float one_minus_damp, float neg_lr);

/* out (cols, rows) = aᵀ for rows [r0, r1) of a (rows, cols), a's rows lda apart,
 * out's rows ldo apart: in-register 16×16 blocks where the CPU has AVX-512. */
void vec_transpose    (float *out, int64_t ldo, const float *a, int64_t lda,
                       int64_t r0, int64_t r1, int64_t cols);

G_END_DECLS

/* cpu.h — which kernels run on this CPU: its features, the OpenBLAS core and the
 * engine's own kernel level, all decided from CPUID's feature bits, never from
 * model numbers (a CPU newer than the library still reports what it can run).
 *
 *   int main (int argc, char **argv)
 *   {
 *     cpu_fix_openblas_core (argv);   // first: may re-execute the program
 *     ...
 *     g_autofree char *text = cpu_describe ();   // for `gradlens-cli info`, About
 *   }
 *
 * OpenBLAS 0.3.21 (Debian 12) picks its core from the CPU's family and model in a
 * library constructor, before main(); on a model it does not know (an Intel Xeon of
 * family 6, model 207, for one) it falls back to Prescott's SSE3 kernels, 5–7× slower
 * than its AVX-512 ones there. It reads OPENBLAS_CORETYPE only in that constructor,
 * so the only way to change its choice is to set the variable and execute the
 * program again (README, Performance).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* The CPUID bits the kernels depend on, each also enabled by the OS (XCR0) where the
 * registers need saving: AVX and AVX-512 are false on a kernel that does not save
 * their state. */
typedef struct
{
  bool sse4_2, avx, fma, avx2;
  bool avx512f, avx512dq, avx512cd, avx512bw, avx512vl, avx512_bf16, avx512_fp16;
  bool amx_tile, amx_bf16;
} CpuFeatures;

/* This CPU's features, asked once. */
const CpuFeatures *cpu_features (void);

/* The features as text, in the order above: "sse4.2 avx fma avx2 avx512f …". */
char *cpu_features_string (const CpuFeatures *f);

/* The CPU's brand string ("AMD EPYC", "Intel(R) Xeon(R) …"), or "unknown CPU". */
char *cpu_name (void);

/* The best OpenBLAS 0.3.21 x86-64 core the features allow, by the instructions its
 * kernels use: Cooperlake (AVX-512 with BF16), SkylakeX (AVX-512 F/CD/BW/DQ/VL),
 * Haswell (AVX2 + FMA), Sandybridge (AVX); NULL below AVX. */
const char *cpu_openblas_core_for (const CpuFeatures *f);

/* The core OpenBLAS should be told to use instead of `chosen` (its own choice) on a
 * CPU with `f`, or NULL to leave it: NULL unless `chosen` is a core OpenBLAS 0.3.21
 * knows and it needs fewer features than cpu_openblas_core_for (f) (a core name we do
 * not know is a newer OpenBLAS's: it knows best). Zen counts as Haswell (AVX2). */
const char *cpu_openblas_core_upgrade (const char *chosen, const CpuFeatures *f);

/* When OPENBLAS_CORETYPE is unset (or empty) and cpu_openblas_core_upgrade says
 * OpenBLAS chose too old a core, sets OPENBLAS_CORETYPE to the better one (and
 * GRADLENS_OPENBLAS_OWN_CORE to OpenBLAS's own choice, for cpu_describe) and executes
 * /proc/self/exe again with `argv`. Returns when nothing needs changing, or when the
 * exec failed (the program goes on with OpenBLAS's choice). Call it first in main(),
 * before any thread or file is opened. */
void cpu_fix_openblas_core (char **argv);

/* Its exec: OPENBLAS_CORETYPE=core, GRADLENS_OPENBLAS_OWN_CORE=chosen, /proc/self/exe
 * with argv. Returns only when the exec failed, with both variables unset again. */
void cpu_exec_with_openblas_core (char **argv, const char *core, const char *chosen);

/* Three lines, each "Label: value", no trailing newline:
 *   CPU: AMD EPYC (sse4.2 avx fma avx2 avx512f …)
 *   OpenBLAS: 0.3.21, core Cooperlake (its own choice)
 *   Engine kernels: AVX-512
 * The core's line says who chose it: OpenBLAS, GradLens (and OpenBLAS's own choice),
 * or OPENBLAS_CORETYPE, and when the CPU could run a better one. */
char *cpu_describe (void);

/* The OpenBLAS core in use (openblas_get_corename) and the library's version. */
const char *cpu_openblas_core (void);
char *cpu_openblas_version (void);

G_END_DECLS

/* cpu.c — the CPU's features, the OpenBLAS core they allow, and the re-exec that
 * gets OpenBLAS to use it (see cpu.h). */
#include "cpu.h"
#include "vec.h"

#include <cblas.h>
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* XCR0: which register states the OS saves on a context switch. */
#define XCR0_AVX (0x2 | 0x4)              /* XMM, YMM */
#define XCR0_AVX512 (0x20 | 0x40 | 0x80)  /* opmask, ZMM0–15 upper halves, ZMM16–31 */
#define XCR0_AMX (0x20000 | 0x40000)      /* TILECFG, TILEDATA */

static gpointer
detect_features (gpointer data)
{
  CpuFeatures *f = data;
  unsigned a, b, c, d;
  if (!__get_cpuid (1, &a, &b, &c, &d))
    return f;
  f->sse4_2 = c & bit_SSE4_2;
  /* OSXSAVE: XGETBV may be asked which states the OS saves. */
  uint64_t xcr0 = 0;
  if (c & bit_OSXSAVE)
    {
      unsigned lo, hi;
      __asm__ ("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
      xcr0 = ((uint64_t) hi << 32) | lo;
    }
  bool os_avx = (xcr0 & XCR0_AVX) == XCR0_AVX;
  bool os_avx512 = os_avx && (xcr0 & XCR0_AVX512) == XCR0_AVX512;
  bool os_amx = (xcr0 & XCR0_AMX) == XCR0_AMX;
  f->avx = os_avx && (c & bit_AVX);
  f->fma = os_avx && (c & bit_FMA);
  if (__get_cpuid_max (0, NULL) < 7)
    return f;
  __cpuid_count (7, 0, a, b, c, d);
  f->avx2 = os_avx && (b & bit_AVX2);
  f->avx512f = os_avx512 && (b & bit_AVX512F);
  f->avx512dq = os_avx512 && (b & bit_AVX512DQ);
  f->avx512cd = os_avx512 && (b & bit_AVX512CD);
  f->avx512bw = os_avx512 && (b & bit_AVX512BW);
  f->avx512vl = os_avx512 && (b & bit_AVX512VL);
  f->avx512_fp16 = os_avx512 && (d & (1u << 23));
  f->amx_bf16 = os_amx && (d & (1u << 22));
  f->amx_tile = os_amx && (d & (1u << 24));
  unsigned max_sub = a;
  if (max_sub >= 1)
    {
      __cpuid_count (7, 1, a, b, c, d);
      f->avx512_bf16 = os_avx512 && (a & (1u << 5));
    }
  return f;
}

const CpuFeatures *
cpu_features (void)
{
  static CpuFeatures features;
  static GOnce once = G_ONCE_INIT;
  return g_once (&once, detect_features, &features);
}

char *
cpu_features_string (const CpuFeatures *f)
{
  const struct { bool has; const char *name; } list[] = {
    { f->sse4_2, "sse4.2" }, { f->avx, "avx" }, { f->fma, "fma" }, { f->avx2, "avx2" },
    { f->avx512f, "avx512f" }, { f->avx512dq, "avx512dq" }, { f->avx512cd, "avx512cd" },
    { f->avx512bw, "avx512bw" }, { f->avx512vl, "avx512vl" },
    { f->avx512_bf16, "avx512_bf16" }, { f->avx512_fp16, "avx512_fp16" },
    { f->amx_tile, "amx_tile" }, { f->amx_bf16, "amx_bf16" },
  };
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (list); i++)
    if (list[i].has)
      g_string_append_printf (s, "%s%s", s->len ? " " : "", list[i].name);
  return g_string_free (s, FALSE);
}

char *
cpu_name (void)
{
  unsigned regs[12];
  if (__get_cpuid_max (0x80000000, NULL) < 0x80000004)
    return g_strdup ("unknown CPU");
  for (unsigned leaf = 0; leaf < 3; leaf++)
    __get_cpuid (0x80000002 + leaf, &regs[4 * leaf], &regs[4 * leaf + 1], &regs[4 * leaf + 2],
                 &regs[4 * leaf + 3]);
  char *name = g_strndup ((const char *) regs, sizeof regs);
  g_strstrip (name);
  if (*name == '\0')
    {
      g_free (name);
      return g_strdup ("unknown CPU");
    }
  return name;
}

/* --- OpenBLAS's cores --------------------------------------------------------------- */

/* OpenBLAS 0.3.21's x86-64 cores by the widest instructions their kernels use:
 * 0 SSE, 1 AVX, 2 AVX2 + FMA, 3 AVX-512, 4 AVX-512 with BF16. */
static const struct
{
  const char *name;
  int rank;
} cores[] = {
  { "Katmai", 0 },    { "Coppermine", 0 }, { "Northwood", 0 },    { "Prescott", 0 },
  { "Banias", 0 },    { "Atom", 0 },       { "Core2", 0 },        { "Penryn", 0 },
  { "Dunnington", 0 }, { "Nehalem", 0 },   { "Athlon", 0 },       { "Opteron", 0 },
  { "Opteron_SSE3", 0 }, { "Barcelona", 0 }, { "Nano", 0 },       { "Bobcat", 0 },
  { "Sandybridge", 1 }, { "Bulldozer", 1 }, { "Piledriver", 1 }, { "Steamroller", 1 },
  { "Excavator", 1 }, { "Haswell", 2 },    { "Zen", 2 },          { "SkylakeX", 3 },
  { "Cooperlake", 4 },
};

/* -1: a name OpenBLAS 0.3.21 does not have. */
static int
core_rank (const char *name)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (cores); i++)
    if (g_ascii_strcasecmp (cores[i].name, name) == 0)
      return cores[i].rank;
  return -1;
}

const char *
cpu_openblas_core_for (const CpuFeatures *f)
{
  bool avx512 = f->avx512f && f->avx512cd && f->avx512bw && f->avx512dq && f->avx512vl;
  if (avx512 && f->avx512_bf16)
    return "Cooperlake";
  if (avx512)
    return "SkylakeX";
  if (f->avx2 && f->fma)
    return "Haswell";
  if (f->avx)
    return "Sandybridge";
  return NULL;
}

const char *
cpu_openblas_core_upgrade (const char *chosen, const CpuFeatures *f)
{
  const char *best = cpu_openblas_core_for (f);
  int have = core_rank (chosen);
  if (best == NULL || have < 0)
    return NULL;
  return have < core_rank (best) ? best : NULL;
}

const char *
cpu_openblas_core (void)
{
  return openblas_get_corename ();
}

/* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH …": the second word. */
char *
cpu_openblas_version (void)
{
  g_auto (GStrv) words = g_strsplit (openblas_get_config (), " ", 3);
  return g_strdup (words[0] && words[1] ? words[1] : "unknown");
}

#define OWN_CORE_VAR "GRADLENS_OPENBLAS_OWN_CORE"

void
cpu_fix_openblas_core (char **argv)
{
  const char *set = g_getenv ("OPENBLAS_CORETYPE");
  if (set != NULL && *set != '\0')
    return;   /* the user's choice (or ours, after the exec) */
  const char *chosen = openblas_get_corename ();
  const char *better = cpu_openblas_core_upgrade (chosen, cpu_features ());
  if (better != NULL)
    cpu_exec_with_openblas_core (argv, better, chosen);
}

void
cpu_exec_with_openblas_core (char **argv, const char *core, const char *chosen)
{
  g_setenv (OWN_CORE_VAR, chosen, TRUE);
  g_setenv ("OPENBLAS_CORETYPE", core, TRUE);
  execv ("/proc/self/exe", argv);
  /* No /proc, or no exec allowed: go on as OpenBLAS chose, and say so (cpu_describe). */
  int saved = errno;
  g_unsetenv ("OPENBLAS_CORETYPE");
  g_unsetenv (OWN_CORE_VAR);
  g_debug ("could not execute the program again with OPENBLAS_CORETYPE=%s: %s", core,
           g_strerror (saved));
}

char *
cpu_describe (void)
{
  const CpuFeatures *f = cpu_features ();
  g_autofree char *name = cpu_name ();
  g_autofree char *features = cpu_features_string (f);
  g_autofree char *version = cpu_openblas_version ();
  const char *core = cpu_openblas_core ();
  const char *set = g_getenv ("OPENBLAS_CORETYPE");
  const char *own = g_getenv (OWN_CORE_VAR);
  const char *best = cpu_openblas_core_for (f);
  g_autofree char *who = NULL;

  if (set == NULL || *set == '\0')
    who = g_strdup ("its own choice");
  else if (own != NULL && g_ascii_strcasecmp (set, core) == 0)
    who = g_strdup_printf ("chosen by GradLens from the CPU's features; OpenBLAS chose %s",
                           own);
  else
    who = g_strdup ("set by OPENBLAS_CORETYPE");
  if (best != NULL && core_rank (core) >= 0 && core_rank (core) < core_rank (best))
    {
      char *more = g_strdup_printf ("%s; this CPU can run %s", who, best);
      g_free (who);
      who = more;
    }
  VecLevel level = vec_level (), cpu_level = vec_level_of_cpu ();
  g_autofree char *lowered = level < cpu_level
    ? g_strdup_printf (" (GRADLENS_ISA; this CPU can run %s)", vec_level_name (cpu_level))
    : g_strdup ("");
  return g_strdup_printf ("CPU: %s (%s)\nOpenBLAS: %s, core %s (%s)\nEngine kernels: %s%s",
                          name, *features ? features : "no SIMD beyond SSE2", version, core, who,
                          vec_level_name (level), lowered);
}

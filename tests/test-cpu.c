/* test-cpu.c: the kernels chosen from the CPU's features (cpu.h, vec.h): the OpenBLAS
 * core for a feature set, when OpenBLAS's own choice is replaced, GRADLENS_ISA, and
 * the re-exec itself, and GRADLENS_ISA through gradlens-cli info. */
#include "cpu.h"
#include "vec.h"

#include <string.h>
#include <sys/wait.h>

#include "test-cli-common.h"

/* Feature sets of real CPUs, as CPUID reports them (OS support on). */
static const CpuFeatures sse_only = { .sse4_2 = true };
static const CpuFeatures sandy_bridge = { .sse4_2 = true, .avx = true };
static const CpuFeatures haswell = { .sse4_2 = true, .avx = true, .fma = true, .avx2 = true };
static const CpuFeatures skylake_sp = {
  .sse4_2 = true, .avx = true, .fma = true, .avx2 = true, .avx512f = true, .avx512dq = true,
  .avx512cd = true, .avx512bw = true, .avx512vl = true,
};
/* The Xeon (family 6, model 207): AVX-512 with BF16 and FP16, and AMX. */
static const CpuFeatures emerald_rapids = {
  .sse4_2 = true, .avx = true, .fma = true, .avx2 = true, .avx512f = true, .avx512dq = true,
  .avx512cd = true, .avx512bw = true, .avx512vl = true, .avx512_bf16 = true,
  .avx512_fp16 = true, .amx_tile = true, .amx_bf16 = true,
};
/* Zen 4 and 5: AVX-512 with BF16, no AMX. */
static const CpuFeatures zen5 = {
  .sse4_2 = true, .avx = true, .fma = true, .avx2 = true, .avx512f = true, .avx512dq = true,
  .avx512cd = true, .avx512bw = true, .avx512vl = true, .avx512_bf16 = true,
};
/* AVX-512 F alone (Knights Landing has no BW/DQ/VL): not enough for SkylakeX's kernels. */
static const CpuFeatures knights_landing = {
  .sse4_2 = true, .avx = true, .fma = true, .avx2 = true, .avx512f = true, .avx512cd = true,
};

static void
test_core_for (void)
{
  g_assert_null (cpu_openblas_core_for (&sse_only));
  g_assert_cmpstr (cpu_openblas_core_for (&sandy_bridge), ==, "Sandybridge");
  g_assert_cmpstr (cpu_openblas_core_for (&haswell), ==, "Haswell");
  g_assert_cmpstr (cpu_openblas_core_for (&knights_landing), ==, "Haswell");
  g_assert_cmpstr (cpu_openblas_core_for (&skylake_sp), ==, "SkylakeX");
  g_assert_cmpstr (cpu_openblas_core_for (&emerald_rapids), ==, "Cooperlake");
  g_assert_cmpstr (cpu_openblas_core_for (&zen5), ==, "Cooperlake");
}

static void
test_core_upgrade (void)
{
  /* The issue: OpenBLAS 0.3.21 does not know model 207 and falls back to Prescott. */
  g_assert_cmpstr (cpu_openblas_core_upgrade ("Prescott", &emerald_rapids), ==, "Cooperlake");
  g_assert_cmpstr (cpu_openblas_core_upgrade ("Haswell", &skylake_sp), ==, "SkylakeX");
  g_assert_cmpstr (cpu_openblas_core_upgrade ("Nehalem", &haswell), ==, "Haswell");
  /* Already the best it can run (OpenBLAS's names are matched without case). */
  g_assert_null (cpu_openblas_core_upgrade ("Cooperlake", &zen5));
  g_assert_null (cpu_openblas_core_upgrade ("COOPERLAKE", &emerald_rapids));
  g_assert_null (cpu_openblas_core_upgrade ("SkylakeX", &skylake_sp));
  /* Zen's kernels are AVX2's, as Haswell's: nothing to gain on an AVX2 CPU. */
  g_assert_null (cpu_openblas_core_upgrade ("Zen", &haswell));
  /* Better than the features say (the user's choice): never lowered. */
  g_assert_null (cpu_openblas_core_upgrade ("SkylakeX", &haswell));
  /* A core this table does not know is a newer OpenBLAS's: it knows the CPU. */
  g_assert_null (cpu_openblas_core_upgrade ("SapphireRapids", &emerald_rapids));
  g_assert_null (cpu_openblas_core_upgrade ("Unknown", &emerald_rapids));
  g_assert_null (cpu_openblas_core_upgrade ("Prescott", &sse_only));
}

static void
test_features_string (void)
{
  g_autofree char *s = cpu_features_string (&zen5);
  g_assert_cmpstr (s, ==, "sse4.2 avx fma avx2 avx512f avx512dq avx512cd avx512bw avx512vl "
                          "avx512_bf16");
  g_autofree char *none = cpu_features_string (&(CpuFeatures) { 0 });
  g_assert_cmpstr (none, ==, "");
}

static void
test_level (void)
{
  VecLevel level;
  g_assert_true (vec_level_parse ("avx512", &level));
  g_assert_cmpint (level, ==, VEC_AVX512);
  g_assert_true (vec_level_parse ("AVX2", &level));
  g_assert_cmpint (level, ==, VEC_AVX2);
  g_assert_true (vec_level_parse ("generic", &level));
  g_assert_cmpint (level, ==, VEC_GENERIC);
  g_assert_false (vec_level_parse ("sse", &level));
  g_assert_false (vec_level_parse (NULL, &level));
  g_assert_cmpstr (vec_level_name (VEC_AVX512), ==, "AVX-512");

  /* The level this run uses: the CPU's, lowered by GRADLENS_ISA (CI runs this suite
   * at each level), and the AVX-512 kernels run exactly at AVX-512. */
  VecLevel expected = vec_level_of_cpu ();
  const char *env = g_getenv ("GRADLENS_ISA");
  if (env != NULL && vec_level_parse (env, &level))
    expected = MIN (expected, level);
  g_assert_cmpint (vec_level (), ==, expected);
  g_assert_true (vec_have_avx512 () == (expected == VEC_AVX512));
  g_test_message ("kernel level: %s", vec_level_name (vec_level ()));
}

static void
test_describe (void)
{
  g_autofree char *text = cpu_describe ();
  g_autofree char *core = g_strdup_printf ("core %s (", cpu_openblas_core ());
  g_assert_true (g_str_has_prefix (text, "CPU: "));
  g_assert_nonnull (strstr (text, "\nOpenBLAS: "));
  g_assert_nonnull (strstr (text, core));
  g_assert_nonnull (strstr (text, "\nEngine kernels: "));
  g_assert_nonnull (strstr (text, vec_level_name (vec_level ())));
}

/* The re-exec: this test program run again as a child with OPENBLAS_CORETYPE unset; the
 * child (main, --exec-child) pretends OpenBLAS chose Prescott, as 0.3.21 does on a CPU
 * it does not know (this one it may know), and executes itself again through
 * cpu_exec_with_openblas_core; after the exec, with the variable set, it prints
 * cpu_describe and its arguments: OpenBLAS must have loaded the better core, said to
 * be GradLens's choice, and the arguments must have come through. */
static void
test_reexec (void)
{
  const char *best = cpu_openblas_core_for (cpu_features ());
  if (best == NULL)
    {
      g_test_skip ("this CPU has no AVX: Prescott is the best OpenBLAS core for it");
      return;
    }
  const char *argv[] = { "/proc/self/exe", "--exec-child", "an argument", NULL };
  g_auto (GStrv) env = g_environ_unsetenv (g_get_environ (), "OPENBLAS_CORETYPE");
  env = g_environ_unsetenv (env, "GRADLENS_OPENBLAS_OWN_CORE");
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_autofree char *line = g_strdup_printf ("core %s (chosen by GradLens from the CPU's "
                                           "features; OpenBLAS chose Prescott)", best);
  g_assert_nonnull (strstr (out, line));
  g_assert_nonnull (strstr (out, "\nargument: an argument\n"));
}

static int
exec_child (char **argv)
{
  if (g_getenv ("OPENBLAS_CORETYPE") == NULL)
    {
      cpu_exec_with_openblas_core (argv, cpu_openblas_core_for (cpu_features ()), "Prescott");
      g_printerr ("the exec failed\n");
      return 1;
    }
  g_autofree char *text = cpu_describe ();
  g_print ("%s\nargument: %s\n", text, argv[2]);
  return 0;
}

/* gradlens-cli info with `var`=`value`: its output. */
static char *
cli_info_with (const char *var, const char *value)
{
  g_autofree char *cli = find_cli ();
  if (cli == NULL)
    {
      g_test_skip ("no gradlens-cli in this build (-Dgui=false)");
      return NULL;
    }
  const char *argv[] = { cli, "info", NULL };
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), var, value, TRUE);
  env = g_environ_unsetenv (env, "GRADLENS_OPENBLAS_OWN_CORE");
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return g_steal_pointer (&out);
}

static void
test_isa_env (void)
{
  g_autofree char *out = cli_info_with ("GRADLENS_ISA", "generic");
  if (out == NULL)
    return;
  g_assert_nonnull (strstr (out, "\nEngine kernels: generic"));
}

int
main (int argc, char **argv)
{
  if (argc == 3 && g_str_equal (argv[1], "--exec-child"))
    return exec_child (argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/cpu/openblas-core", test_core_for);
  g_test_add_func ("/engine/cpu/openblas-upgrade", test_core_upgrade);
  g_test_add_func ("/engine/cpu/features-string", test_features_string);
  g_test_add_func ("/engine/cpu/level", test_level);
  g_test_add_func ("/engine/cpu/describe", test_describe);
  g_test_add_func ("/engine/cpu/reexec", test_reexec);
  g_test_add_func ("/engine/cpu/isa-env", test_isa_env);
  return g_test_run ();
}

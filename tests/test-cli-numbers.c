/* test-cli-numbers.c: gradlens-cli's numbers and names mean what they say: a
 * value given is checked like any other (−1 is not "unset", 0 classes is not "no
 * fine-tuning", inf is not a learning rate), freeze patterns follow the rule of
 * the PyTorch program the lesson prints, and a refusal names the layer PyTorch
 * names.
 */
#include <string.h>

#include "test-cli-common.h"

/* Refused before anything runs (usage errors, status 2), each with its message. */
static void
test_train_refuses_numbers (void)
{
  static const struct { const char *option, *value, *message; } cases[] = {
    { "--size", "-1", "--size -1: give a positive whole number" },
    { "--size", "0", "--size 0: give a positive whole number" },
    { "--batch", "-1", "--batch -1: give a positive whole number" },
    { "--finetune", "0", "--finetune 0: give a positive number of classes" },
    { "--finetune", "-3", "--finetune -3: give a positive number of classes" },
    { "--lr", "inf", "--lr and --momentum must be finite non-negative numbers" },
    { "--lr", "nan", "--lr and --momentum must be finite non-negative numbers" },
    { "--momentum", "inf", "--lr and --momentum must be finite non-negative numbers" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };
      g_autofree char *arg = g_strdup_printf ("%s=%s", cases[i].option, cases[i].value);
      if (!run_cli (&run, "train", arg, NULL))
        return;
      g_test_message ("%s → %d: %s", arg, run.status, run.err);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_nonnull (strstr (run.err, cases[i].message));
      g_assert_null (strstr (run.out, "step 1"));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/numbers/train-refuses", test_train_refuses_numbers);

  return g_test_run ();
}

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

/* At a batch of 1 and a size of 1 or 2, bn1 sees one value per channel: PyTorch
 * fails there ("Expected more than 1 value per channel when training"), so the
 * refusal names bn1, not a layer after it. */
static void
test_train_names_first_failing_layer (void)
{
  const char *sizes[] = { "1", "2" };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_auto (Run) run = { 0 };
      if (!run_cli (&run, "train", "--size", sizes[i], "--batch", "1", NULL))
        return;
      g_test_message ("--size %s → %d: %s", sizes[i], run.status, run.err);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_nonnull (strstr (run.err, "at bn1 its BatchNorm would see a single value"));
      g_assert_null (strstr (run.err, "maxpool"));
    }
}

/* One freeze rule everywhere, the program's: name == f or name.startswith(f + ".").
 * A pattern that matches nothing ("", "layer") freezes nothing, in train as in the
 * freeze lesson (whose printed program runs and freezes nothing), with a warning. */
static void
test_freeze_rule (void)
{
  g_auto (Run) train = { 0 };
  if (!run_cli (&train, "train", "--size", "32", "--batch", "2", "--freeze", "", NULL))
    return;
  g_test_message ("train --freeze '' → %d: %s", train.status, train.err);
  g_assert_cmpint (train.status, ==, 0);
  g_assert_nonnull (strstr (train.out, " 0 frozen\n"));
  g_assert_nonnull (strstr (train.err, "warning: --freeze “” freezes nothing"));

  g_auto (Run) lesson = { 0 };
  g_assert_true (run_cli (&lesson, "lesson", "freeze", "--freeze", "layer", NULL));
  g_test_message ("lesson freeze --freeze layer → %d: %s", lesson.status, lesson.err);
  g_assert_cmpint (lesson.status, ==, 0);
  g_assert_nonnull (strstr (lesson.err, "warning: --freeze “layer” freezes nothing"));

  /* A real name is frozen without a word. */
  g_auto (Run) real = { 0 };
  g_assert_true (run_cli (&real, "train", "--size", "32", "--batch", "2", "--freeze", "layer1",
                          NULL));
  g_assert_cmpint (real.status, ==, 0);
  g_assert_null (strstr (real.out, " 0 frozen\n"));
  g_assert_null (strstr (real.err, "warning"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/numbers/train-refuses", test_train_refuses_numbers);
  g_test_add_func ("/cli/numbers/first-failing-layer", test_train_names_first_failing_layer);
  g_test_add_func ("/cli/numbers/freeze-rule", test_freeze_rule);

  return g_test_run ();
}

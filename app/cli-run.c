/* cli-run.c: `gradlens-cli run PROGRAM.py`, a PyTorch program on GradLens's engine
 *
 *   gradlens-cli run mlp.py                      prints what the program prints
 *   gradlens-cli run mlp.py --trace run.jsonl    and every event, one JSON object a line
 *
 * The program runs in GradLens's embedded Python (python/program.h), through the
 * stepper without pauses, exactly as `gradlens-cli lesson PROGRAM.py` runs it: an
 * uncaught exception prints Python's traceback on stderr and exits with status 1.
 */

#include "cli.h"

gboolean
cli_run (int      argc,
         char   **argv,
         GError **error)
{
  /* `lesson` takes a program file for its NAME; `run` is that, named for programs. */
  if (argc >= 2 && argv[1][0] != '-' && !g_str_has_suffix (argv[1], ".py")
      && !g_file_test (argv[1], G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "no program %s (give the path of a .py file)", argv[1]);
      return FALSE;
    }
  return cli_lesson (argc, argv, error);
}

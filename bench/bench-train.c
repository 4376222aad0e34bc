/* bench-train.c — gradlens-bench: how fast the engine trains resnet18.
 *
 * One training step is what lesson 3 runs:
 *
 *   prediction = model(data)                    forward
 *   loss = (prediction - labels).sum()          forward
 *   loss.backward()                             backward
 *   optim.step(); optim.zero_grad()             optimizer (SGD, lr 1e-2, momentum 0.9)
 *
 * Cases (--case, comma separated; default all):
 *   b1-64        batch 1, 64×64
 *   b1-224       batch 1, 224×224
 *   b8-224       batch 8, 224×224
 *   finetune-224 batch 1, 224×224, every parameter frozen, fc replaced by Linear(512, 10)
 *   lesson       lesson 3 ("resnet18-step", 64×64) run through the stepper without
 *                pauses, as the command line runs it: its observer sees every event
 *                (and makes the engine compute the edge norms the UI draws)
 *
 * Each case runs in its own process (this program started again with --child), so
 * its peak RSS is its own. A case warms up (--warmup steps), then times --steps
 * steps and prints, per phase, the median and the minimum, the GFLOP/s of the
 * step's median (FLOPs counted from the layer shapes: 2·MACs for every conv and
 * linear forward, and 2·MACs again for each backward product computed: the input's
 * gradient when the input requires grad, the weight's when the weight does), that
 * rate as a percentage of the sgemm peak measured in the same run (cblas_sgemm,
 * 2048×2048×2048, the same threads), the peak RSS and the minor page faults per
 * timed step.
 *
 *   OPENBLAS_NUM_THREADS=2 gradlens-bench --threads 2 --case b1-64,b1-224
 *   gradlens-bench --json        # one JSON object per case, for compare-pytorch.py
 *
 * The header (and the --json run's first object) names the CPU, the OpenBLAS core and
 * the engine's kernel level (cpu.h): figures from different cores do not compare.
 */
#include "cpu.h"
#include "lessons.h"
#include "module.h"
#include "sgd.h"
#include "parallel.h"
#include "stepper.h"
#include "vec.h"

#include <cblas.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct
{
  const char *name;
  int batch, size;
  bool finetune;
  bool lesson;
} BenchCase;

static const BenchCase cases[] = {
  { "b1-64", 1, 64, false, false },
  { "b1-224", 1, 224, false, false },
  { "b8-224", 8, 224, false, false },
  { "finetune-224", 1, 224, true, false },
  { "lesson", 1, 64, false, true },
};

enum { PHASE_FORWARD, PHASE_BACKWARD, PHASE_OPTIMIZER, PHASE_STEP, N_PHASES };
static const char *const phase_names[N_PHASES] = { "forward", "backward", "optimizer", "step" };

static int opt_threads = 0;
static int opt_steps = 20;
static int opt_warmup = 3;
static int opt_rounds = 1;
static char *opt_cases = NULL;
static char *opt_child = NULL;
static gboolean opt_json = FALSE;
static gboolean opt_no_peak = FALSE;
static gboolean opt_profile = FALSE;
static gboolean opt_profile_layers = FALSE;

static GOptionEntry entries[] = {
  { "case", 'c', 0, G_OPTION_ARG_STRING, &opt_cases,
    "Cases to run, comma separated: b1-64, b1-224, b8-224, finetune-224, lesson (default all)",
    "LIST" },
  { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads,
    "Threads for OpenBLAS and the engine (default: OPENBLAS_NUM_THREADS, else 2)", "N" },
  { "steps", 's', 0, G_OPTION_ARG_INT, &opt_steps, "Timed steps per case (default 20)", "N" },
  { "warmup", 'w', 0, G_OPTION_ARG_INT, &opt_warmup, "Untimed steps first (default 3)", "N" },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds,
    "Run the cases in turn this many times, each in a new process; print the median of "
    "their medians, and the lesson's ratio to b1-64 round by round (default 1)", "N" },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "One JSON object per case", NULL },
  { "no-peak", 0, 0, G_OPTION_ARG_NONE, &opt_no_peak, "Do not measure the sgemm peak", NULL },
  { "profile", 'p', 0, G_OPTION_ARG_NONE, &opt_profile,
    "Also time every layer kind and backward node (through an observer: adds the edge norms "
    "the UI draws)", NULL },
  { "profile-layers", 0, 0, G_OPTION_ARG_NONE, &opt_profile_layers,
    "With --profile: one line per convolution (by module path)", NULL },
  { "child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_child, NULL, NULL },
  { NULL }
};

/* --- FLOPs from the layer shapes ----------------------------------------------- */

typedef struct
{
  double forward, backward;        /* FLOPs */
} Flops;

/* Walks m with an input of shape (n, c, h, w) (for a linear, (n, c)), whether that
 * input requires grad in *grad; leaves the output's shape and requires_grad there. */
static void
count_module (Module *m, int64_t *n, int64_t *c, int64_t *h, int64_t *w, bool *grad,
              Flops *flops)
{
  switch (m->kind)
    {
    case MODULE_SEQUENTIAL:
    case MODULE_RESNET:
      for (guint i = 0; i < m->children->len; i++)
        count_module (g_ptr_array_index (m->children, i), n, c, h, w, grad, flops);
      return;
    case MODULE_BASIC_BLOCK:
      {
        int64_t n1 = *n, c1 = *c, h1 = *h, w1 = *w;
        bool g1 = *grad, main_grad = *grad;
        Module *down = module_get_child (m, "downsample");
        for (guint i = 0; i < m->children->len; i++)
          {
            Module *child = g_ptr_array_index (m->children, i);
            if (child != down)
              count_module (child, n, c, h, w, &main_grad, flops);
          }
        if (down)
          count_module (down, &n1, &c1, &h1, &w1, &g1, flops);
        *grad = main_grad || g1;
        return;
      }
    case MODULE_CONV2D:
    case MODULE_LINEAR:
      {
        Tensor *weight = g_array_index (m->params, NamedTensor, 0).tensor;
        bool any_param = false;
        for (guint i = 0; i < m->params->len; i++)
          any_param |= g_array_index (m->params, NamedTensor, i).tensor->requires_grad;
        double macs;
        if (m->kind == MODULE_CONV2D)
          {
            int64_t oh = (*h + 2 * m->padding - m->kernel) / m->stride + 1;
            int64_t ow = (*w + 2 * m->padding - m->kernel) / m->stride + 1;
            macs = (double) *n * m->out_channels * oh * ow * *c * m->kernel * m->kernel;
            *h = oh;
            *w = ow;
          }
        else
          macs = (double) *n * m->out_channels * *c;
        flops->forward += 2 * macs;
        if (*grad)
          flops->backward += 2 * macs;
        if (weight->requires_grad)
          flops->backward += 2 * macs;
        *c = m->out_channels;
        *grad = *grad || any_param;
        return;
      }
    case MODULE_BATCH_NORM2D:
      for (guint i = 0; i < m->params->len; i++)
        *grad |= g_array_index (m->params, NamedTensor, i).tensor->requires_grad;
      return;
    case MODULE_MAX_POOL2D:
      *h = (*h + 2 * m->padding - m->kernel) / m->stride + 1;
      *w = (*w + 2 * m->padding - m->kernel) / m->stride + 1;
      return;
    case MODULE_ADAPTIVE_AVG_POOL2D:
      *h = *w = 1;
      return;
    case MODULE_RELU:
    case MODULE_PROGRAM:     /* never in the bench's resnet18 */
    case MODULE_KIND_COUNT:
      return;
    }
}

static Flops
count_flops (Module *model, int batch, int size)
{
  Flops flops = { 0, 0 };
  int64_t n = batch, c = 3, h = size, w = size;
  bool grad = false;
  count_module (model, &n, &c, &h, &w, &grad, &flops);
  return flops;
}

/* --- Measurements ---------------------------------------------------------------- */

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
minimum (const double *v, int n)
{
  double m = v[0];
  for (int i = 1; i < n; i++)
    m = MIN (m, v[i]);
  return m;
}

/* GFLOP/s of cblas_sgemm on 2048³, the best of five after one warm-up call. */
static double
measure_sgemm_peak (void)
{
  const int n = 2048;
  float *a = g_new (float, (size_t) n * n), *b = g_new (float, (size_t) n * n);
  float *c = g_new0 (float, (size_t) n * n);
  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      a[i] = (float) (i % 7) * 0.1f;
      b[i] = (float) (i % 5) * 0.1f;
    }
  double best = 1e30;
  for (int r = 0; r < 6; r++)
    {
      double t0 = now_ms ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
      double t = now_ms () - t0;
      if (r > 0)
        best = MIN (best, t);
    }
  g_free (a);
  g_free (b);
  g_free (c);
  return 2.0 * n * n * n / (best * 1e6);
}

static long
minor_faults (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static double
peak_rss_mb (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;   /* kB on Linux */
}

/* --- One case, in this process ----------------------------------------------------- */

typedef struct
{
  double median[N_PHASES], min[N_PHASES];
  double faults_per_step, rss_mb;
  Flops flops;
} CaseResult;

/* --- The profile: time per module kind (forward, exclusive of children) and per
 * backward node, through the autograd observer. --------------------------------------- */

typedef struct
{
  char *path;
  double t_enter, children;
} ProfileFrame;

typedef struct
{
  Module *model;
  GHashTable *kinds;               /* path → module kind name */
  GHashTable *ms;                  /* bucket name → double * (ms over the timed steps) */
  GArray *stack;                   /* of ProfileFrame */
  double t_node, t_last_end;
  bool timing;
} Profile;

/* A bucket: this step's sum, and one sum per timed step so far. */
typedef struct
{
  double current;
  GArray *steps;                   /* of double */
} Bucket;

static void
bucket_free (gpointer p)
{
  Bucket *b = p;
  g_array_unref (b->steps);
  g_free (b);
}

static void
profile_add (Profile *pr, const char *bucket, double ms)
{
  if (!pr->timing)
    return;
  Bucket *b = g_hash_table_lookup (pr->ms, bucket);
  if (b == NULL)
    {
      b = g_new0 (Bucket, 1);
      b->steps = g_array_new (FALSE, TRUE, sizeof (double));
      g_hash_table_insert (pr->ms, g_strdup (bucket), b);
    }
  b->current += ms;
}

/* The end of a timed step: every bucket records its sum for the step. */
static void
profile_step_done (Profile *pr, int step)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, pr->ms);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Bucket *b = value;
      g_array_set_size (b->steps, step + 1);   /* steps it missed count as 0 */
      g_array_index (b->steps, double, step) = b->current;
      b->current = 0;
    }
}

static double
bucket_median (Bucket *b)
{
  return median ((double *) b->steps->data, b->steps->len);
}

static gboolean
profile_observe (const Event *ev, gpointer data)
{
  Profile *pr = data;
  double t = now_ms ();
  switch (ev->kind)
    {
    case EVENT_MODULE_ENTER:
      {
        ProfileFrame f = { (char *) ev->module, t, 0 };
        g_array_append_val (pr->stack, f);
        break;
      }
    case EVENT_MODULE_LEAVE:
      {
        if (pr->stack->len == 0)
          break;
        ProfileFrame f = g_array_index (pr->stack, ProfileFrame, pr->stack->len - 1);
        g_array_set_size (pr->stack, pr->stack->len - 1);
        double dur = t - f.t_enter;
        if (pr->stack->len > 0)
          g_array_index (pr->stack, ProfileFrame, pr->stack->len - 1).children += dur;
        const char *kind = g_hash_table_lookup (pr->kinds, f.path);
        if (kind == NULL)
          {
            Module *m = module_find (pr->model, f.path);
            kind = m ? module_kind_name (m->kind) : "?";
            g_hash_table_insert (pr->kinds, (char *) f.path, (char *) kind);
          }
        g_autofree char *bucket = opt_profile_layers && g_str_equal (kind, "Conv2d")
                                    ? g_strdup_printf ("forward  Conv2d %s", f.path)
                                    : g_strdup_printf ("forward  %s", kind);
        profile_add (pr, bucket, dur - f.children);
        break;
      }
    case EVENT_BACKWARD_BEGIN:
      pr->t_last_end = t;
      break;
    case EVENT_NODE_BEGIN:
      profile_add (pr, "backward (engine between nodes)", t - pr->t_last_end);
      pr->t_node = t;
      break;
    case EVENT_NODE_END:
      {
        g_autofree char *bucket = opt_profile_layers && ev->node->op == OP_CONV2D
                                    ? g_strdup_printf ("backward %s %s", node_name (ev->node),
                                                       ev->node->module)
                                    : g_strdup_printf ("backward %s", node_name (ev->node));
        profile_add (pr, bucket, t - pr->t_node);
        pr->t_last_end = t;
        break;
      }
    default:
      break;
    }
  return TRUE;
}

static int
compare_bucket (gconstpointer a, gconstpointer b, gpointer data)
{
  GHashTable *ms = data;
  double x = bucket_median (g_hash_table_lookup (ms, *(char **) a));
  double y = bucket_median (g_hash_table_lookup (ms, *(char **) b));
  return (x < y) - (x > y);
}

static void
profile_print (Profile *pr, const char *case_name, int steps)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, pr->ms);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort_with_data (names, compare_bucket, pr->ms);
  g_printerr ("profile of %s, ms per step over %d steps (median, min):\n", case_name, steps);
  double total = 0;
  for (guint i = 0; i < names->len; i++)
    {
      Bucket *b = g_hash_table_lookup (pr->ms, names->pdata[i]);
      double med = bucket_median (b);
      total += med;
      g_printerr ("  %-56s %8.3f %8.3f\n", (char *) names->pdata[i], med,
                  minimum ((double *) b->steps->data, b->steps->len));
    }
  g_printerr ("  %-56s %8.3f\n", "(sum of the medians)", total);
}

static gboolean
train_step (Module *model, Sgd *optim, Tensor *data, Tensor *labels, double t[N_PHASES],
            GError **error)
{
  double t0 = now_ms ();
  g_autoptr (Tensor) pred = module_forward (model, data, error);
  if (pred == NULL)
    return FALSE;
  g_autoptr (Tensor) diff = tensor_sub (pred, labels, error);
  if (diff == NULL)
    return FALSE;
  g_autoptr (Tensor) loss = tensor_sum (diff);
  double t1 = now_ms ();
  if (!tensor_backward (loss, NULL, false, error))
    return FALSE;
  double t2 = now_ms ();
  sgd_step (optim);
  sgd_zero_grad (optim);
  /* The step's graph goes within the step, as a program's goes when its names are
   * bound to the next step's tensors: the lesson case pays for it too. */
  g_clear_pointer (&loss, tensor_unref);
  g_clear_pointer (&diff, tensor_unref);
  g_clear_pointer (&pred, tensor_unref);
  double t3 = now_ms ();
  t[PHASE_FORWARD] = t1 - t0;
  t[PHASE_BACKWARD] = t2 - t1;
  t[PHASE_OPTIMIZER] = t3 - t2;
  t[PHASE_STEP] = t3 - t0;
  return TRUE;
}

static gboolean
run_train_case (const BenchCase *bc, CaseResult *res, GError **error)
{
  Generator gen;
  generator_init (&gen, 0);
  g_autoptr (Module) model = resnet18_new_from_generator (1000, 64, &gen);
  int classes = 1000;
  if (bc->finetune)
    {
      module_set_requires_grad (model, false);
      module_replace_child (model, "fc", linear_new (512, 10, &gen));
      classes = 10;
    }
  g_autoptr (Tensor) data = tensor_new_rand (4, (int64_t[]){ bc->batch, 3, bc->size, bc->size },
                                             &gen);
  g_autoptr (Tensor) labels = tensor_new_rand (2, (int64_t[]){ bc->batch, classes }, &gen);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2f, .momentum = 0.9f });
  res->flops = count_flops (model, bc->batch, bc->size);

  Profile pr = { model, g_hash_table_new (g_str_hash, g_str_equal),
                 g_hash_table_new_full (g_str_hash, g_str_equal, g_free, bucket_free),
                 g_array_new (FALSE, FALSE, sizeof (ProfileFrame)), 0, 0, false };
  if (opt_profile)
    autograd_set_observer (profile_observe, &pr);

  double t[N_PHASES];
  for (int i = 0; i < opt_warmup; i++)
    if (!train_step (model, optim, data, labels, t, error))
      return FALSE;
  pr.timing = true;

  double *times[N_PHASES];
  for (int p = 0; p < N_PHASES; p++)
    times[p] = g_new (double, opt_steps);
  long faults0 = minor_faults ();
  for (int i = 0; i < opt_steps; i++)
    {
      if (!train_step (model, optim, data, labels, t, error))
        return FALSE;
      profile_add (&pr, "optimizer (step, zero_grad)", t[PHASE_OPTIMIZER]);
      profile_step_done (&pr, i);
      for (int p = 0; p < N_PHASES; p++)
        times[p][i] = t[p];
    }
  res->faults_per_step = (double) (minor_faults () - faults0) / opt_steps;
  for (int p = 0; p < N_PHASES; p++)
    {
      res->min[p] = minimum (times[p], opt_steps);
      res->median[p] = median (times[p], opt_steps);
      g_free (times[p]);
    }
  res->rss_mb = peak_rss_mb ();
  if (opt_profile)
    {
      autograd_set_observer (NULL, NULL);
      profile_print (&pr, bc->name, opt_steps);
    }
  g_hash_table_unref (pr.kinds);
  g_hash_table_unref (pr.ms);
  g_array_unref (pr.stack);
  return TRUE;
}


/* --- The lesson through the stepper ----------------------------------------------------- */

/* Each training step of the lesson starts with its zero_grad phase; the phase events
 * split it into forward (with the loss), backward and optimizer (with the next
 * zero_grad). Times are taken on the worker thread, in the stepper's event hook. */
typedef struct
{
  GArray *phase_t[LESSON_PHASE_COUNT];   /* of double: when each phase began, per step */
  long faults_at_timing, faults_after_timing;
  int timed_from, timed_to;              /* the steps where timing starts and stops */
} LessonTimes;

static void
lesson_hook (const Event *ev, LessonRun *run, guint64 index, gpointer data)
{
  LessonTimes *lt = data;
  if (ev->kind != EVENT_PHASE || ev->line < 0 || ev->line >= LESSON_PHASE_COUNT)
    return;
  double t = now_ms ();
  GArray *a = lt->phase_t[ev->line];
  if (ev->line == LESSON_PHASE_ZERO_GRAD && (int) a->len == lt->timed_from)
    lt->faults_at_timing = minor_faults ();
  if (ev->line == LESSON_PHASE_ZERO_GRAD && (int) a->len == lt->timed_to)
    lt->faults_after_timing = minor_faults ();
  g_array_append_val (a, t);
}

static gboolean
run_lesson_case (const BenchCase *bc, CaseResult *res, GError **error)
{
  const Lesson *lesson = lesson_find ("resnet18-step", error);
  if (lesson == NULL)
    return FALSE;
  LessonParams params;
  lesson_params_init (&params);
  params.size = bc->size;
  /* One more step than timed: its zero_grad phase closes the last timed one. */
  params.steps = opt_warmup + opt_steps + 1;
  LessonTimes lt = { .timed_from = opt_warmup, .timed_to = opt_warmup + opt_steps };
  for (int p = 0; p < LESSON_PHASE_COUNT; p++)
    lt.phase_t[p] = g_array_new (FALSE, FALSE, sizeof (double));

  Stepper *stepper = stepper_new (lesson, &params, 0, NULL, NULL, NULL);
  stepper_set_event_hook (stepper, lesson_hook, &lt);
  stepper_run_to_end_sync (stepper);
  gboolean ok = stepper_get_result (stepper, error);
  res->rss_mb = peak_rss_mb ();
  stepper_free (stepper);
  lesson_params_clear (&params);

  GArray *zg = lt.phase_t[LESSON_PHASE_ZERO_GRAD], *fw = lt.phase_t[LESSON_PHASE_FORWARD];
  GArray *bw = lt.phase_t[LESSON_PHASE_BACKWARD], *op = lt.phase_t[LESSON_PHASE_OPTIMIZER];
  if (ok && ((int) zg->len < opt_warmup + opt_steps + 1 || bw->len < zg->len - 1
             || op->len < zg->len - 1 || fw->len < zg->len))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "the lesson's phases were not those of %d training steps",
                   opt_warmup + opt_steps + 1);
      ok = FALSE;
    }
  if (ok)
    {
      double *times[N_PHASES];
      for (int p = 0; p < N_PHASES; p++)
        times[p] = g_new (double, opt_steps);
      /* The forward phase also begins at the set-up and at each `for` line: a
       * step's forward pass is the first forward phase after its zero_grad. */
      guint k = 0;
      for (int i = 0; i < opt_steps; i++)
        {
          int s = opt_warmup + i;
          double z = g_array_index (zg, double, s), z_next = g_array_index (zg, double, s + 1);
          while (k + 1 < fw->len && g_array_index (fw, double, k) < z)
            k++;
          double f = g_array_index (fw, double, k);
          double b = g_array_index (bw, double, s), o = g_array_index (op, double, s);
          times[PHASE_FORWARD][i] = b - f;
          times[PHASE_BACKWARD][i] = o - b;
          times[PHASE_OPTIMIZER][i] = z_next - o + (f - z);   /* step, then zero_grad */
          times[PHASE_STEP][i] = z_next - z;
        }
      for (int p = 0; p < N_PHASES; p++)
        {
          res->min[p] = minimum (times[p], opt_steps);
          res->median[p] = median (times[p], opt_steps);
          g_free (times[p]);
        }
      /* Between the zero_grad phases that open the first timed step and the one
       * after the last: the timed steps alone, as in the other cases. */
      res->faults_per_step = (double) (lt.faults_after_timing - lt.faults_at_timing) / opt_steps;
      g_autoptr (Module) model = resnet18_new (1000, 0);
      res->flops = count_flops (model, bc->batch, bc->size);
    }
  for (int p = 0; p < LESSON_PHASE_COUNT; p++)
    g_array_unref (lt.phase_t[p]);
  return ok;
}

static gboolean
run_case (const BenchCase *bc, CaseResult *res, GError **error)
{
  memset (res, 0, sizeof *res);
  if (bc->lesson)
    return run_lesson_case (bc, res, error);
  return run_train_case (bc, res, error);
}

static void
print_json (const BenchCase *bc, const CaseResult *r, int threads)
{
  g_print ("{\"case\": \"%s\", \"threads\": %d, \"steps\": %d, \"gflop\": %.4f, "
           "\"gflop_forward\": %.4f, \"gflop_backward\": %.4f",
           bc->name, threads, opt_steps, (r->flops.forward + r->flops.backward) / 1e9,
           r->flops.forward / 1e9, r->flops.backward / 1e9);
  for (int p = 0; p < N_PHASES; p++)
    g_print (", \"%s_median_ms\": %.3f, \"%s_min_ms\": %.3f",
             phase_names[p], r->median[p], phase_names[p], r->min[p]);
  g_print (", \"faults_per_step\": %.1f, \"peak_rss_mb\": %.1f}\n", r->faults_per_step,
           r->rss_mb);
}

/* --- The parent: start one child per case, gather, print ------------------------------ */

static gboolean
parse_json_result (const char *line, CaseResult *r)
{
  /* Our own output: look the keys up by name. */
  static const char *const keys[] = { "gflop_forward", "gflop_backward", "faults_per_step",
                                      "peak_rss_mb" };
  double v[G_N_ELEMENTS (keys)];
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *k = g_strdup_printf ("\"%s\": ", keys[i]);
      const char *at = strstr (line, k);
      if (at == NULL)
        return FALSE;
      v[i] = g_ascii_strtod (at + strlen (k), NULL);
    }
  r->flops.forward = v[0] * 1e9;
  r->flops.backward = v[1] * 1e9;
  r->faults_per_step = v[2];
  r->rss_mb = v[3];
  for (int p = 0; p < N_PHASES; p++)
    {
      g_autofree char *km = g_strdup_printf ("\"%s_median_ms\": ", phase_names[p]);
      g_autofree char *kn = g_strdup_printf ("\"%s_min_ms\": ", phase_names[p]);
      const char *am = strstr (line, km), *an = strstr (line, kn);
      if (am == NULL || an == NULL)
        return FALSE;
      r->median[p] = g_ascii_strtod (am + strlen (km), NULL);
      r->min[p] = g_ascii_strtod (an + strlen (kn), NULL);
    }
  return TRUE;
}

static void
print_table_header (double peak, int threads)
{
  g_autofree char *kernels = cpu_describe ();
  g_print ("%s\n", kernels);
  g_print ("gradlens-bench: %d thread%s, %d warm-up + %d timed steps per case", threads,
           threads == 1 ? "" : "s", opt_warmup, opt_steps);
  if (opt_rounds > 1)
    g_print (" in each of %d rounds (medians of the rounds' medians)", opt_rounds);
  g_print (", ");
  if (peak > 0)
    g_print ("sgemm peak %.1f GFLOP/s\n\n", peak);
  else
    g_print ("sgemm peak not measured (--no-peak)\n\n");
  g_print ("%-13s %-9s %9s %9s   %7s %7s %6s %9s %8s\n", "case", "phase", "median", "min",
           "GFLOP", "GFLOP/s", "%peak", "faults", "RSS MB");
}

static void
print_table_case (const BenchCase *bc, const CaseResult *r, double peak)
{
  double gflop[N_PHASES] = { r->flops.forward / 1e9, r->flops.backward / 1e9, 0,
                             (r->flops.forward + r->flops.backward) / 1e9 };
  for (int p = 0; p < N_PHASES; p++)
    {
      g_print ("%-13s %-9s %6.2f ms %6.2f ms", p == 0 ? bc->name : "", phase_names[p],
               r->median[p], r->min[p]);
      if (gflop[p] > 0 && r->median[p] > 0)
        {
          double rate = gflop[p] / (r->median[p] / 1e3);
          g_print ("   %7.3f %7.1f", gflop[p], rate);
          if (peak > 0)
            g_print (" %5.0f%%", 100 * rate / peak);
          else
            g_print (" %6s", "");
        }
      else
        g_print ("   %7s %7s %6s", "", "", "");
      if (p == PHASE_STEP)
        g_print (" %9.1f %8.1f", r->faults_per_step, r->rss_mb);
      g_print ("\n");
    }
}

static const BenchCase *
find_case (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    if (g_str_equal (cases[i].name, name))
      return &cases[i];
  return NULL;
}

/* Runs one case in a new process (its own heap, its own OpenBLAS state). In --json
 * mode prints the child's line; otherwise reads it into r. FALSE: the case failed. */
static gboolean
run_child (const BenchCase *bc, CaseResult *r)
{
  g_autofree char *threads = g_strdup_printf ("%d", opt_threads);
  g_autofree char *steps = g_strdup_printf ("%d", opt_steps);
  g_autofree char *warmup = g_strdup_printf ("%d", opt_warmup);
  const char *child_argv[] = { "/proc/self/exe", "--child", bc->name, "--threads", threads,
                               "--steps", steps, "--warmup", warmup,
                               opt_profile ? "--profile" : NULL,
                               opt_profile_layers ? "--profile-layers" : NULL, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int wait_status = 0;
  g_autoptr (GError) spawn_error = NULL;
  if (!g_spawn_sync (NULL, (char **) child_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &wait_status, &spawn_error)
      || !g_spawn_check_wait_status (wait_status, &spawn_error))
    {
      g_printerr ("gradlens-bench: %s: %s%s%s\n", bc->name,
                  spawn_error ? spawn_error->message : "failed",
                  err && *err ? "\n" : "", err ? err : "");
      return FALSE;
    }
  if (opt_profile && err)
    g_printerr ("%s", err);
  if (opt_json)
    {
      g_print ("%s", out);
      return TRUE;
    }
  if (!parse_json_result (out, r))
    {
      g_printerr ("gradlens-bench: %s: unreadable result: %s\n", bc->name, out);
      return FALSE;
    }
  return TRUE;
}

/* One case over the rounds (its results every `stride` entries): the median of the
 * rounds' medians, the least minimum, the median faults and the largest RSS. */
static gboolean
summarize_rounds (const CaseResult *results, const gboolean *have, int stride,
                  CaseResult *summary)
{
  g_autofree double *v = g_new (double, opt_rounds);
  int n = 0;
  *summary = (CaseResult){ 0 };
  for (int p = 0; p < N_PHASES; p++)
    summary->min[p] = INFINITY;
  for (int round = 0; round < opt_rounds; round++)
    {
      const CaseResult *r = &results[round * stride];
      if (!have[round * stride])
        continue;
      summary->flops = r->flops;
      summary->rss_mb = MAX (summary->rss_mb, r->rss_mb);
      for (int p = 0; p < N_PHASES; p++)
        summary->min[p] = MIN (summary->min[p], r->min[p]);
      n++;
    }
  if (n == 0)
    return FALSE;
  for (int p = 0; p <= N_PHASES; p++)
    {
      int k = 0;
      for (int round = 0; round < opt_rounds; round++)
        if (have[round * stride])
          v[k++] = p < N_PHASES ? results[round * stride].median[p]
                                : results[round * stride].faults_per_step;
      if (p < N_PHASES)
        summary->median[p] = median (v, k);
      else
        summary->faults_per_step = median (v, k);
    }
  return TRUE;
}

/* The lesson's step over the engine's (b1-64: the same model, input and optimizer),
 * round by round: each ratio's two cases ran one after the other, so a slow spell of a
 * shared machine touches both more often than a comparison of separate runs. */
static void
print_lesson_ratio (char **names, const CaseResult *results, const gboolean *have,
                    int n_cases)
{
  int engine = -1, lesson = -1;
  for (int i = 0; i < n_cases; i++)
    if (g_str_equal (names[i], "b1-64"))
      engine = i;
    else if (g_str_equal (names[i], "lesson"))
      lesson = i;
  if (engine < 0 || lesson < 0)
    return;
  /* Each round's ratio of the medians, and of the fastest steps: the fastest are what
   * a step costs when nothing else on the machine got in its way. */
  g_autofree double *ratio = g_new (double, opt_rounds);
  g_autofree double *ratio_min = g_new (double, opt_rounds);
  int n = 0;
  g_autoptr (GString) list = g_string_new (NULL);
  for (int round = 0; round < opt_rounds; round++)
    {
      const CaseResult *e = &results[round * n_cases + engine];
      const CaseResult *l = &results[round * n_cases + lesson];
      if (!have[round * n_cases + engine] || !have[round * n_cases + lesson])
        continue;
      ratio[n] = l->median[PHASE_STEP] / e->median[PHASE_STEP];
      ratio_min[n] = l->min[PHASE_STEP] / e->min[PHASE_STEP];
      g_string_append_printf (list, "%s%.3f", n ? " " : "", ratio[n]);
      n++;
    }
  if (n == 0)
    return;
  g_print ("\nlesson / b1-64 step, round by round: %s\n", list->str);
  g_print ("lesson / b1-64 step, median of %d round%s: %.3f (of the fastest steps: %.3f)\n", n,
           n == 1 ? "" : "s", median (ratio, n), median (ratio_min, n));
}

int
main (int argc, char **argv)
{
  /* First: it may run the program again with the OpenBLAS core this CPU can run. */
  cpu_fix_openblas_core (argv);
  /* The user's locale for --help's text (UTF-8: … and —), C's for the numbers: the
   * JSON lines are read by compare-pytorch.py. */
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— time resnet18 training steps");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("gradlens-bench: %s\n", error->message);
      return 2;
    }
  if (opt_threads <= 0)
    {
      const char *env = g_getenv ("OPENBLAS_NUM_THREADS");
      opt_threads = env ? atoi (env) : 2;
      if (opt_threads <= 0)
        opt_threads = 2;
    }
  if (opt_steps < 1 || opt_warmup < 0 || opt_rounds < 1)
    {
      g_printerr ("gradlens-bench: --steps and --rounds must be at least 1 and --warmup not "
                  "negative\n");
      return 2;
    }
  openblas_set_num_threads (opt_threads);

  if (opt_child)
    {
      /* The engine's pool runs OpenBLAS one thread per block (parallel.h). */
      parallel_set_num_threads (opt_threads);
      const BenchCase *bc = find_case (opt_child);
      CaseResult res;
      if (bc == NULL)
        {
          g_printerr ("gradlens-bench: no case “%s”\n", opt_child);
          return 2;
        }
      if (!run_case (bc, &res, &error))
        {
          g_printerr ("gradlens-bench: %s: %s\n", bc->name, error->message);
          return 1;
        }
      print_json (bc, &res, opt_threads);
      return 0;
    }

  g_auto (GStrv) names = g_strsplit (opt_cases ? opt_cases : "b1-64,b1-224,b8-224,finetune-224,lesson",
                                     ",", -1);
  for (int i = 0; names[i]; i++)
    if (find_case (g_strstrip (names[i])) == NULL)
      {
        g_printerr ("gradlens-bench: no case “%s” (b1-64, b1-224, b8-224, finetune-224, lesson)\n",
                    names[i]);
        return 2;
      }

  double peak = opt_no_peak ? 0 : measure_sgemm_peak ();
  if (opt_json)
    {
      g_autofree char *peak_text = peak > 0 ? g_strdup_printf ("%.1f", peak) : g_strdup ("null");
      g_autofree char *cpu = cpu_name ();
      g_autofree char *cpu_text = g_strescape (cpu, NULL);
      g_print ("{\"sgemm_peak_gflops\": %s, \"threads\": %d, \"cpu\": \"%s\", "
               "\"openblas_core\": \"%s\", \"kernels\": \"%s\"}\n",
               peak_text, opt_threads, cpu_text, cpu_openblas_core (),
               vec_level_name (vec_level ()));
    }
  else
    print_table_header (peak, opt_threads);

  int n_cases = g_strv_length (names);
  /* results[round · n_cases + case]; a case that failed in a round is left out of it. */
  g_autofree CaseResult *results = g_new0 (CaseResult, (gsize) opt_rounds * n_cases);
  g_autofree gboolean *have = g_new0 (gboolean, (gsize) opt_rounds * n_cases);
  int status = 0;
  for (int round = 0; round < opt_rounds; round++)
    for (int i = 0; i < n_cases; i++)
      {
        const BenchCase *bc = find_case (names[i]);
        CaseResult *r = &results[round * n_cases + i];
        if (!run_child (bc, r))
          status = 1;
        else
          have[round * n_cases + i] = !opt_json;
      }
  if (opt_json)
    return status;

  for (int i = 0; i < n_cases; i++)
    {
      CaseResult summary;
      if (summarize_rounds (results + i, have + i, n_cases, &summary))
        print_table_case (find_case (names[i]), &summary, peak);
    }
  print_lesson_ratio (names, results, have, n_cases);
  return status;
}

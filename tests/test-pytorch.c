/* test-pytorch.c — GradLens against PyTorch: the tutorial's training step,
 *
 *   loss = (model(x) - labels).sum(); loss.backward(); optim.step()   (twice)
 *
 * on fixtures made by tools/make-fixtures.py with PyTorch 1.13 / torchvision 0.14
 * (tests/data/pytorch/, described in that script). Tolerance: for each tensor,
 * max |got - expected| / max |expected| ≤ 1e-4.
 *
 *   narrow/…     a narrow resnet18 (widths 4..32, torchvision's names), batch 2:
 *                every .grad after each backward and the whole state dict (running
 *                stats and num_batches_tracked included) after each SGD step, for the
 *                tutorial's loop (no zero_grad), with zero_grad, and with frozen
 *                layers under nesterov + weight decay.
 *   fill-*       the deterministic weights (fixture-fill.h) are PyTorch's, bit for bit.
 *   resnet18     the real resnet18 at 1×3×64×64, 1000 labels, from the seeded fill:
 *                the losses and a summary of every gradient and state tensor.
 *   finetune     all frozen, fc = Linear(512, 10): only fc moves, the frozen
 *                parameters get no .grad and no momentum buffer, BN stats still move.
 *
 * The real resnet18 at 64×64 and batch 1 is numerically ill-conditioned (layer4's
 * batch norms see 4 values per channel, and step 1 moves the weights far): float32
 * PyTorch itself is ~1e-4 from float64 PyTorch in step 1 and ~1e-2 in step 2. Its
 * fixture carries the float64 results too, and each entry's tolerance is
 * max(1e-4, 4 × |float32 PyTorch − float64 PyTorch|), so GradLens is held to
 * PyTorch's own accuracy where 1e-4 is beyond it.
 */
#include "autograd.h"
#include "fixture-fill.h"
#include "sgd.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define TOL 1e-4
#define N_SAMPLES 16

/* --- Fixtures ------------------------------------------------------------- */

static StateDict *
fixture_load (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "pytorch", name, NULL);
  g_autoptr (GError) error = NULL;
  StateDict *sd = safetensors_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sd);
  return sd;
}

static const StateEntry *
fixture_find (const StateDict *fx, const char *format, ...) G_GNUC_PRINTF (2, 3);

static const StateEntry *
fixture_find (const StateDict *fx, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);
  return state_dict_lookup (fx, name);
}

static const StateEntry *
fixture_get_f32 (const StateDict *fx, const char *name)
{
  const StateEntry *e = state_dict_lookup (fx, name);
  if (e == NULL)
    g_error ("fixture: no tensor “%s”", name);
  g_assert_cmpint (e->dtype, ==, STATE_DTYPE_F32);
  return e;
}

static uint64_t
fixture_seed (const StateDict *fx)
{
  const StateEntry *e = state_dict_lookup (fx, "fill_seed");
  g_assert_nonnull (e);
  g_assert_cmpint (e->dtype, ==, STATE_DTYPE_I64);
  return (uint64_t) e->i64[0];
}

/* The entries whose names start with prefix, without it (F32 ones shared). */
static StateDict *
fixture_sub (const StateDict *fx, const char *prefix)
{
  StateDict *sd = state_dict_new ();
  size_t len = strlen (prefix);
  for (guint i = 0; i < state_dict_size (fx); i++)
    {
      const StateEntry *e = state_dict_entry (fx, i);
      if (strncmp (e->name, prefix, len) != 0)
        continue;
      if (e->dtype == STATE_DTYPE_F32)
        state_dict_add_f32 (sd, e->name + len, e->f32);
      else
        state_dict_add_i64 (sd, e->name + len, e->ndim, e->shape, e->i64);
    }
  return sd;
}

/* --- Comparison ----------------------------------------------------------- */

/* The worst ratio of a case, for the log. */
typedef struct
{
  const char *label;
  double worst;
  char where[160];
  int n;
} Report;

static void
report_add (Report *r, double ratio, const char *what)
{
  r->n++;
  if (isnan (ratio))
    ratio = INFINITY;
  if (ratio >= r->worst)
    {
      r->worst = ratio;
      g_strlcpy (r->where, what, sizeof r->where);
    }
}

static void
report_print (const Report *r)
{
  g_test_message ("%s: %d compared, worst %.3g (%s)", r->label, r->n, r->worst, r->where);
}

/* max |got - want| / max |want| (NaN or Inf in got: infinity). */
static double
max_ratio (const float *got, const float *want, int64_t n)
{
  double d = 0, m = 0;
  for (int64_t i = 0; i < n; i++)
    {
      if (!isfinite (got[i]))
        return INFINITY;
      d = MAX (d, fabs ((double) got[i] - want[i]));
      m = MAX (m, fabs ((double) want[i]));
    }
  return m > 0 ? d / m : d;
}

static void
assert_same_shape (const Tensor *t, const StateEntry *e, const char *what)
{
  gboolean same = t->ndim == e->ndim;
  for (int i = 0; same && i < t->ndim; i++)
    same = t->shape[i] == e->shape[i];
  if (!same)
    {
      g_autofree char *have = tensor_shape_string (t);
      g_autofree char *want = shape_to_string (e->ndim, e->shape);
      g_error ("%s: shape %s, PyTorch's is %s", what, have, want);
    }
}

/* Compares t with PyTorch's tensor at 1e-4; returns the ratio. */
static double
check_tensor (Report *r, const Tensor *t, const StateEntry *want, const char *what)
{
  g_assert_nonnull (want);
  g_assert_cmpint (want->dtype, ==, STATE_DTYPE_F32);
  assert_same_shape (t, want, what);
  double ratio = max_ratio (t->data, want->f32->data, t->numel);
  report_add (r, ratio, what);
  if (!(ratio <= TOL))
    g_error ("%s: max|diff|/max|expected| = %.3g > %g", what, ratio, TOL);
  return ratio;
}

/* A summary of a tensor, as make-fixtures.py's summary(): sum, sum |t|, max |t|,
 * then t[i·numel/16] for i in 0..15. */
typedef struct
{
  double v[3 + N_SAMPLES];
} Summary;

static void
summarize (const float *x, int64_t n, Summary *s)
{
  double sum = 0, abs_sum = 0, abs_max = 0;
  for (int64_t i = 0; i < n; i++)
    {
      sum += x[i];
      abs_sum += fabs (x[i]);
      abs_max = isnan (x[i]) ? NAN : MAX (abs_max, fabs (x[i]));
    }
  s->v[0] = sum;
  s->v[1] = abs_sum;
  s->v[2] = abs_max;
  for (int i = 0; i < N_SAMPLES; i++)
    s->v[3 + i] = x[(int64_t) i * n / N_SAMPLES];
}

static void
summary_from_entry (const StateEntry *e, Summary *s)
{
  g_assert_nonnull (e);
  g_assert_cmpint (e->dtype, ==, STATE_DTYPE_F32);
  g_assert_cmpint (e->f32->numel, ==, 3 + N_SAMPLES);
  for (int i = 0; i < 3 + N_SAMPLES; i++)
    s->v[i] = e->f32->data[i];
}

/* make-fixtures.py's summary_ratio: max(|Δsum| / Σ|e|, |ΔΣ|t|| / Σ|e|,
 * |Δmax|t|| / max|e|, max |Δsample| / max|e|). */
static double
summary_ratio (const Summary *a, const Summary *e)
{
  double s = MAX (e->v[1], 1e-30), m = MAX (e->v[2], 1e-30);
  double r = MAX (fabs (a->v[0] - e->v[0]) / s, fabs (a->v[1] - e->v[1]) / s);
  r = MAX (r, fabs (a->v[2] - e->v[2]) / m);
  for (int i = 0; i < N_SAMPLES; i++)
    r = MAX (r, fabs (a->v[3 + i] - e->v[3 + i]) / m);
  for (int i = 0; i < 3 + N_SAMPLES; i++)
    if (!isfinite (a->v[i]))
      return INFINITY;
  return r;
}

/* The real resnet18's comparisons: against float32 PyTorch, with the tolerance of
 * the step (step_tolerance), and against float64 PyTorch for the log. */
typedef struct
{
  Report vs32;          /* ratio to float32 PyTorch */
  Report vs64;          /* ratio to float64 PyTorch */
  Report pytorch;       /* float32 PyTorch's own ratio to float64 PyTorch */
} SummaryReport;

/* How well-conditioned a step is: max(1e-4, 4 × the largest distance between float32
 * and float64 PyTorch over the summaries named prefix*). A single entry's distance
 * is no measure: where float32 PyTorch happens to land close to float64, another
 * float32 implementation need not. */
static double
step_tolerance (const StateDict *fx, const char *prefix, double *pytorch_error)
{
  double worst = 0;
  for (guint i = 0; i < state_dict_size (fx); i++)
    {
      const StateEntry *e = state_dict_entry (fx, i);
      if (!g_str_has_prefix (e->name, prefix) || e->dtype != STATE_DTYPE_F32)
        continue;
      g_autofree char *name64 = g_strconcat ("ref64.", e->name, NULL);
      Summary want, want64;
      summary_from_entry (e, &want);
      summary_from_entry (state_dict_lookup (fx, name64), &want64);
      worst = MAX (worst, summary_ratio (&want, &want64));
    }
  *pytorch_error = worst;
  return MAX (TOL, 4 * worst);
}

static void
check_summary (SummaryReport *r, const float *x, int64_t n, const StateDict *fx,
               const char *name, double tol)
{
  Summary got, want, want64;
  summarize (x, n, &got);
  summary_from_entry (state_dict_lookup (fx, name), &want);
  g_autofree char *name64 = g_strconcat ("ref64.", name, NULL);
  summary_from_entry (state_dict_lookup (fx, name64), &want64);

  double ratio = summary_ratio (&got, &want);
  double ratio64 = summary_ratio (&got, &want64);
  report_add (&r->vs32, ratio, name);
  report_add (&r->vs64, ratio64, name);
  report_add (&r->pytorch, summary_ratio (&want, &want64), name);
  if (!(ratio <= tol))
    g_error ("%s: summary ratio %.3g > tolerance %.3g (to float64 PyTorch: GradLens %.3g, "
             "float32 PyTorch %.3g)", name, ratio, tol, ratio64, summary_ratio (&want, &want64));
}

/* The filled tensors are PyTorch's: samples bit for bit, sums to rounding. */
static void
check_fill_summary (const float *x, int64_t n, const StateDict *fx, const char *name)
{
  Summary got, want;
  summarize (x, n, &got);
  summary_from_entry (state_dict_lookup (fx, name), &want);
  for (int i = 0; i < N_SAMPLES; i++)
    if (got.v[3 + i] != want.v[3 + i])
      g_error ("%s: element %" G_GINT64_FORMAT " is %.9g, PyTorch's %.9g", name,
               (int64_t) i * n / N_SAMPLES, got.v[3 + i], want.v[3 + i]);
  g_assert_cmpfloat (fabs (got.v[0] - want.v[0]), <=, 1e-6 * want.v[1]);
  g_assert_cmpfloat (fabs (got.v[1] - want.v[1]), <=, 1e-6 * want.v[1]);
  g_assert_cmpfloat (got.v[2], ==, want.v[2]);
}

/* --- The tutorial's step ---------------------------------------------------- */

/* [zero_grad]; loss = (model(x) - labels).sum(); loss.backward(). */
static float
forward_backward (Module *model, Sgd *optim, Tensor *x, Tensor *labels, bool zero_grad,
                  double *ms)
{
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  if (zero_grad)
    sgd_zero_grad (optim);
  g_autoptr (Tensor) pred = module_forward (model, x, &error);
  g_assert_no_error (error);
  g_autoptr (Tensor) diff = tensor_sub (pred, labels, &error);
  g_assert_no_error (error);
  g_autoptr (Tensor) loss = tensor_sum (diff);
  g_assert_cmpint (loss->ndim, ==, 0);
  g_assert_nonnull (loss->grad_fn);
  g_assert_cmpstr (node_name (loss->grad_fn), ==, "SumBackward0");
  float value = loss->data[0];
  g_assert_true (tensor_backward (loss, NULL, FALSE, &error));
  g_assert_no_error (error);
  if (ms)
    *ms = (g_get_monotonic_time () - t0) / 1000.0;
  return value;
}

static void
check_loss (Report *r, float got, const StateDict *fx, const char *name, int k)
{
  const StateEntry *e = fixture_get_f32 (fx, name);
  g_assert_cmpint (e->f32->numel, >=, k);
  double want = e->f32->data[k - 1];
  double ratio = fabs (got - want) / fabs (want);
  g_autofree char *what = g_strdup_printf ("%s[%d]", name, k - 1);
  report_add (r, ratio, what);
  g_test_message ("%s step %d: loss %.9g, PyTorch %.9g (ratio %.2g)", r->label, k, got,
                  want, ratio);
  if (!(ratio <= TOL))
    g_error ("%s: loss %.9g, PyTorch's %.9g", what, got, want);
}

/* --- The narrow resnet: every tensor ------------------------------------------ */

typedef struct
{
  const char *name;
  bool zero_grad;
  const char *const *frozen;    /* NULL-terminated prefixes, or NULL */
  SgdOptions sgd;
} NarrowVariant;

static const char *const narrow_frozen[] = { "conv1", "bn1", "layer1", NULL };

static const NarrowVariant narrow_variants[] = {
  { "accum", false, NULL, { .lr = 1e-2f, .momentum = 0.9f } },
  { "zero", true, NULL, { .lr = 1e-2f, .momentum = 0.9f } },
  { "freeze", true, narrow_frozen,
    { .lr = 1e-2f, .momentum = 0.9f, .nesterov = true, .weight_decay = 1e-3f } },
};

#define NARROW_FIXTURE "narrow-w4-b2.safetensors"

static bool
is_frozen (const NarrowVariant *v, const char *name)
{
  for (int i = 0; v->frozen && v->frozen[i]; i++)
    {
      size_t len = strlen (v->frozen[i]);
      if (strncmp (name, v->frozen[i], len) == 0 && (name[len] == '\0' || name[len] == '.'))
        return true;
    }
  return false;
}

/* resnet18_new_with_width with the fixture's initial state. */
static Module *
narrow_model (const StateDict *fx)
{
  const StateEntry *conv1 = fixture_get_f32 (fx, "init.conv1.weight");
  const StateEntry *labels = fixture_get_f32 (fx, "labels");
  Module *model = resnet18_new_with_width ((int) labels->shape[1], (int) conv1->shape[0], 0);
  g_assert_nonnull (model);

  g_autoptr (StateDict) init = fixture_sub (fx, "init.");
  g_autoptr (GPtrArray) unexpected = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (module_load_state_dict (model, init, &unexpected, &error));
  g_assert_no_error (error);
  /* init.* is exactly the model's state dict. */
  g_assert_true (unexpected == NULL || unexpected->len == 0);
  g_autoptr (StateDict) mine = module_state_dict (model);
  g_assert_cmpuint (state_dict_size (mine), ==, state_dict_size (init));
  module_train (model, true);
  return model;
}

static void
check_grads (Report *r, Module *model, const StateDict *fx, const NarrowVariant *v, int k)
{
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  int n_grads = 0;
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      const StateEntry *want = fixture_find (fx, "%s.grad%d.%s", v->name, k, mt->name);
      g_autofree char *what = g_strdup_printf ("%s .grad of %s after backward %d",
                                               v->name, mt->name, k);
      if (want == NULL)
        {
          /* PyTorch's .grad is None: frozen. */
          if (mt->tensor->grad != NULL)
            g_error ("%s: PyTorch's is None, GradLens's is set", what);
          g_assert_true (is_frozen (v, mt->name));
          continue;
        }
      if (mt->tensor->grad == NULL)
        g_error ("%s: None, PyTorch's is set", what);
      check_tensor (r, mt->tensor->grad, want, what);
      n_grads++;
    }
  /* No gradient in the fixture that the model lacks. */
  int n_want = 0;
  g_autofree char *prefix = g_strdup_printf ("%s.grad%d.", v->name, k);
  for (guint i = 0; i < state_dict_size (fx); i++)
    n_want += g_str_has_prefix (state_dict_entry (fx, i)->name, prefix);
  g_assert_cmpint (n_grads, ==, n_want);
}

static void
check_state (Report *r, Module *model, const StateDict *fx, const char *prefix,
             const char *label)
{
  g_autoptr (StateDict) mine = module_state_dict (model);
  int n_want = 0;
  for (guint i = 0; i < state_dict_size (fx); i++)
    n_want += g_str_has_prefix (state_dict_entry (fx, i)->name, prefix);
  g_assert_cmpint (state_dict_size (mine), ==, n_want);
  for (guint i = 0; i < state_dict_size (mine); i++)
    {
      const StateEntry *e = state_dict_entry (mine, i);
      const StateEntry *want = fixture_find (fx, "%s%s", prefix, e->name);
      g_autofree char *what = g_strdup_printf ("%s %s", label, e->name);
      if (want == NULL)
        g_error ("%s: not in PyTorch's state dict", what);
      g_assert_cmpint (e->dtype, ==, want->dtype);
      if (e->dtype == STATE_DTYPE_I64)
        {
          g_assert_cmpint (state_entry_numel (e), ==, 1);
          if (e->i64[0] != want->i64[0])
            g_error ("%s: %" G_GINT64_FORMAT ", PyTorch's %" G_GINT64_FORMAT, what,
                     e->i64[0], want->i64[0]);
          report_add (r, 0, what);
        }
      else
        check_tensor (r, e->f32, want, what);
    }
}

static void
test_narrow (gconstpointer data)
{
  const NarrowVariant *v = data;
  g_autoptr (StateDict) fx = fixture_load (NARROW_FIXTURE);
  g_autoptr (Module) model = narrow_model (fx);
  for (int i = 0; v->frozen && v->frozen[i]; i++)
    g_assert_cmpint (module_set_requires_grad_prefix (model, v->frozen[i], false), >, 0);
  g_autoptr (Sgd) optim = sgd_new (model, &v->sgd);
  g_assert_nonnull (optim);
  Tensor *x = fixture_get_f32 (fx, "input")->f32;
  Tensor *labels = fixture_get_f32 (fx, "labels")->f32;
  g_autofree char *label = g_strdup_printf ("narrow %s", v->name);
  Report r = { .label = label };

  for (int k = 1; k <= 2; k++)
    {
      float loss = forward_backward (model, optim, x, labels, v->zero_grad, NULL);
      g_autofree char *loss_name = g_strdup_printf ("%s.loss", v->name);
      check_loss (&r, loss, fx, loss_name, k);
      /* Step 1 with and without zero_grad is the same: the fixture keeps accum's. */
      const NarrowVariant *stored = v;
      if (k == 1 && fixture_find (fx, "%s.grad1.fc.bias", v->name) == NULL && v->frozen == NULL)
        stored = &narrow_variants[0];
      if (fixture_find (fx, "%s.grad%d.fc.bias", stored->name, k))
        check_grads (&r, model, fx, stored, k);

      sgd_step (optim);
      g_autofree char *prefix = g_strdup_printf ("%s.state%d.", stored->name, k);
      g_autofree char *what = g_strdup_printf ("%s state after step %d:", v->name, k);
      if (fixture_find (fx, "%sfc.bias", prefix))
        check_state (&r, model, fx, prefix, what);
    }

  /* Frozen parameters: no .grad, no momentum buffer, not moved (bit for bit). */
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  int n_frozen = 0;
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      const SgdParam *sp = sgd_find (optim, mt->name);
      g_assert_nonnull (sp);
      if (!is_frozen (v, mt->name))
        {
          g_assert_true (mt->tensor->requires_grad);
          g_assert_nonnull (sp->momentum_buffer);
          continue;
        }
      n_frozen++;
      g_assert_false (mt->tensor->requires_grad);
      g_assert_null (mt->tensor->grad);
      g_assert_null (sp->momentum_buffer);
      const StateEntry *init = fixture_find (fx, "init.%s", mt->name);
      g_assert_nonnull (init);
      g_assert_cmpmem (mt->tensor->data, mt->tensor->numel * sizeof (float),
                       init->f32->data, init->f32->numel * sizeof (float));
    }
  if (v->frozen)
    g_assert_cmpint (n_frozen, ==, 3 + 12);  /* conv1, bn1 ×2, layer1: 2 × (2 convs + 4 BN) */
  report_print (&r);
}

/* fixture_fill_state_dict + torch.rand give the narrow fixture's state, input and
 * labels bit for bit. */
static void
test_fill_narrow (void)
{
  g_autoptr (StateDict) fx = fixture_load (NARROW_FIXTURE);
  const StateEntry *conv1 = fixture_get_f32 (fx, "init.conv1.weight");
  const StateEntry *in = fixture_get_f32 (fx, "input");
  const StateEntry *lab = fixture_get_f32 (fx, "labels");
  g_autoptr (Module) model = resnet18_new_with_width ((int) lab->shape[1],
                                                      (int) conv1->shape[0], 0);
  g_autoptr (StateDict) sd = fixture_state_dict_like (model);
  g_autoptr (GError) error = NULL;
  Generator gen;
  generator_init (&gen, fixture_seed (fx));
  g_assert_true (fixture_fill_state_dict (sd, &gen, &error));
  g_assert_no_error (error);
  g_autoptr (Tensor) x = tensor_new_rand (in->ndim, in->shape, &gen);
  g_autoptr (Tensor) labels = tensor_new_rand (lab->ndim, lab->shape, &gen);

  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      const StateEntry *want = fixture_find (fx, "init.%s", e->name);
      g_assert_nonnull (want);
      g_assert_cmpint (e->dtype, ==, want->dtype);
      if (e->dtype == STATE_DTYPE_I64)
        g_assert_cmpint (e->i64[0], ==, want->i64[0]);
      else
        g_assert_cmpmem (e->f32->data, e->f32->numel * sizeof (float),
                         want->f32->data, want->f32->numel * sizeof (float));
    }
  g_assert_cmpmem (x->data, x->numel * sizeof (float), in->f32->data, in->f32->numel * sizeof (float));
  g_assert_cmpmem (labels->data, labels->numel * sizeof (float),
                   lab->f32->data, lab->f32->numel * sizeof (float));
}

/* --- The real resnet18: summaries -------------------------------------------- */

/* resnet18 (finetune ? fc = Linear(512, finetune) over a frozen model : 1000 classes),
 * filled from the fixture's seed, with x and labels drawn after; checks the fill. */
static Module *
real_model (const StateDict *fx, int finetune, Tensor **x, Tensor **labels,
            StateDict **filled)
{
  Module *model = resnet18_new (1000, 0);
  g_assert_nonnull (model);
  if (finetune)
    {
      module_set_requires_grad (model, false);
      Generator other;
      generator_init (&other, 1);
      module_replace_child (model, "fc", linear_new (512, finetune, &other));
    }
  g_autoptr (StateDict) sd = fixture_state_dict_like (model);
  g_autoptr (GError) error = NULL;
  Generator gen;
  generator_init (&gen, fixture_seed (fx));
  g_assert_true (fixture_fill_state_dict (sd, &gen, &error));
  g_assert_no_error (error);
  *x = tensor_new_rand (4, (int64_t[]){ 1, 3, 64, 64 }, &gen);
  *labels = tensor_new_rand (2, (int64_t[]){ 1, finetune ? finetune : 1000 }, &gen);

  for (guint i = 0; i < state_dict_size (sd); i++)
    {
      const StateEntry *e = state_dict_entry (sd, i);
      if (e->dtype != STATE_DTYPE_F32)
        continue;
      g_autofree char *name = g_strconcat ("fill.", e->name, NULL);
      check_fill_summary (e->f32->data, e->f32->numel, fx, name);
    }
  check_fill_summary ((*x)->data, (*x)->numel, fx, "fill.input");
  check_fill_summary ((*labels)->data, (*labels)->numel, fx, "fill.labels");

  g_autoptr (GPtrArray) unexpected = NULL;
  g_assert_true (module_load_state_dict (model, sd, &unexpected, &error));
  g_assert_no_error (error);
  g_assert_true (unexpected == NULL || unexpected->len == 0);
  module_train (model, true);
  *filled = g_steal_pointer (&sd);
  return model;
}

static void
check_state_summaries (SummaryReport *r, Module *model, const StateDict *fx, int k,
                       const char *label)
{
  g_autoptr (StateDict) mine = module_state_dict (model);
  g_autofree char *prefix = g_strdup_printf ("state%d.", k);
  double pytorch_error;
  double tol = step_tolerance (fx, prefix, &pytorch_error);
  g_test_message ("%s state after step %d: float32 PyTorch within %.2g of float64, "
                  "tolerance %.2g", label, k, pytorch_error, tol);
  for (guint i = 0; i < state_dict_size (mine); i++)
    {
      const StateEntry *e = state_dict_entry (mine, i);
      g_autofree char *name = g_strdup_printf ("state%d.%s", k, e->name);
      if (e->dtype == STATE_DTYPE_I64)
        {
          const StateEntry *want = state_dict_lookup (fx, name);
          g_assert_nonnull (want);
          g_assert_cmpint (want->dtype, ==, STATE_DTYPE_I64);
          g_assert_cmpint (e->i64[0], ==, want->i64[0]);
          g_assert_cmpint (e->i64[0], ==, k);
        }
      else
        check_summary (r, e->f32->data, e->f32->numel, fx, name, tol);
    }
}

static void
summary_report_print (const SummaryReport *r, const char *label)
{
  g_test_message ("%s: %d summaries; worst ratio to float32 PyTorch %.3g (%s); to float64 "
                  "PyTorch: GradLens %.3g (%s), float32 PyTorch %.3g (%s)", label, r->vs32.n,
                  r->vs32.worst, r->vs32.where, r->vs64.worst, r->vs64.where,
                  r->pytorch.worst, r->pytorch.where);
}

/* The .grad summaries of backward k (NULL grads skipped: the caller checks them). */
static void
check_grad_summaries (SummaryReport *r, Module *model, const StateDict *fx, int k,
                      const char *label)
{
  g_autofree char *prefix = g_strdup_printf ("grad%d.", k);
  double pytorch_error;
  double tol = step_tolerance (fx, prefix, &pytorch_error);
  g_test_message ("%s .grad after backward %d: float32 PyTorch within %.2g of float64, "
                  "tolerance %.2g", label, k, pytorch_error, tol);
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      if (mt->tensor->grad == NULL)
        continue;
      g_autofree char *name = g_strdup_printf ("grad%d.%s", k, mt->name);
      check_summary (r, mt->tensor->grad->data, mt->tensor->grad->numel, fx, name, tol);
    }
}

static void
test_resnet18 (void)
{
  g_autoptr (StateDict) fx = fixture_load ("resnet18-64.safetensors");
  g_autoptr (Tensor) x = NULL;
  g_autoptr (Tensor) labels = NULL;
  g_autoptr (StateDict) filled = NULL;
  g_autoptr (Module) model = real_model (fx, 0, &x, &labels, &filled);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2f, .momentum = 0.9f });
  Report losses = { .label = "resnet18 64x64" };
  SummaryReport r = { 0 };

  for (int k = 1; k <= 2; k++)
    {
      double ms;
      float loss = forward_backward (model, optim, x, labels, false, &ms);
      g_test_message ("resnet18 64x64 step %d: forward + backward %.0f ms", k, ms);
      check_loss (&losses, loss, fx, "loss", k);
      g_autoptr (GPtrArray) params = module_named_parameters (model);
      g_assert_cmpuint (params->len, ==, 62);
      for (guint i = 0; i < params->len; i++)
        g_assert_nonnull (((ModuleTensor *) g_ptr_array_index (params, i))->tensor->grad);
      check_grad_summaries (&r, model, fx, k, "resnet18 64x64");
      sgd_step (optim);
      check_state_summaries (&r, model, fx, k, "resnet18 64x64");
    }
  summary_report_print (&r, "resnet18 64x64");
}

static void
test_resnet18_finetune (void)
{
  g_autoptr (StateDict) fx = fixture_load ("resnet18-finetune-64.safetensors");
  g_autoptr (Tensor) x = NULL;
  g_autoptr (Tensor) labels = NULL;
  g_autoptr (StateDict) filled = NULL;
  g_autoptr (Module) model = real_model (fx, 10, &x, &labels, &filled);
  g_autoptr (Sgd) optim = sgd_new (model, &(SgdOptions){ .lr = 1e-2f, .momentum = 0.9f });
  ParamCounts counts;
  module_count_parameters (model, &counts);
  g_assert_cmpint (counts.trainable, ==, 512 * 10 + 10);
  g_assert_cmpint (counts.frozen, ==, 11689512 - 512 * 1000 - 1000);

  Report r = { .label = "resnet18 finetune 64x64" };
  SummaryReport sr = { 0 };
  for (int k = 1; k <= 2; k++)
    {
      double ms;
      float loss = forward_backward (model, optim, x, labels, false, &ms);
      g_test_message ("resnet18 finetune 64x64 step %d: forward + backward %.0f ms", k, ms);
      check_loss (&r, loss, fx, "loss", k);
      g_autoptr (GPtrArray) params = module_named_parameters (model);
      for (guint i = 0; i < params->len; i++)
        {
          ModuleTensor *mt = g_ptr_array_index (params, i);
          bool is_fc = g_str_has_prefix (mt->name, "fc.");
          g_assert_true (mt->tensor->requires_grad == is_fc);
          if (!is_fc)
            {
              g_assert_null (mt->tensor->grad);
              continue;
            }
          g_assert_nonnull (mt->tensor->grad);
          g_autofree char *full = g_strdup_printf ("full.grad%d.%s", k, mt->name);
          check_tensor (&r, mt->tensor->grad, fixture_get_f32 (fx, full), full);
        }
      check_grad_summaries (&sr, model, fx, k, "resnet18 finetune 64x64");
      sgd_step (optim);
      check_state_summaries (&sr, model, fx, k, "resnet18 finetune 64x64");
      for (const char *const *n = (const char *const[]){ "fc.weight", "fc.bias", NULL }; *n; n++)
        {
          g_autofree char *full = g_strdup_printf ("full.state%d.%s", k, *n);
          Module *fc = module_find (model, "fc");
          g_assert_nonnull (fc);
          const NamedTensor *p = &g_array_index (fc->params, NamedTensor,
                                                 g_str_equal (*n, "fc.weight") ? 0 : 1);
          g_assert_cmpstr (p->name, ==, *n + 3);
          check_tensor (&r, p->tensor, fixture_get_f32 (fx, full), full);
        }
    }

  /* Only fc moved and has momentum buffers; the frozen parameters are the fill's,
   * bit for bit, while BN's running statistics did move. */
  g_autoptr (GPtrArray) params = module_named_parameters (model);
  for (guint i = 0; i < params->len; i++)
    {
      ModuleTensor *mt = g_ptr_array_index (params, i);
      const SgdParam *sp = sgd_find (optim, mt->name);
      g_assert_nonnull (sp);
      if (g_str_has_prefix (mt->name, "fc."))
        {
          g_assert_nonnull (sp->momentum_buffer);
          continue;
        }
      g_assert_null (sp->momentum_buffer);
      const StateEntry *e = state_dict_lookup (filled, mt->name);
      g_assert_nonnull (e);
      g_assert_cmpmem (mt->tensor->data, mt->tensor->numel * sizeof (float),
                       e->f32->data, e->f32->numel * sizeof (float));
    }
  Module *bn = module_find (model, "layer4.1.bn2");
  g_assert_nonnull (bn);
  g_assert_cmpint (bn->num_batches_tracked, ==, 2);
  report_print (&r);
  summary_report_print (&sr, "resnet18 finetune 64x64");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/pytorch/fill-narrow", test_fill_narrow);
  for (guint i = 0; i < G_N_ELEMENTS (narrow_variants); i++)
    {
      g_autofree char *path = g_strdup_printf ("/engine/pytorch/narrow/%s",
                                               narrow_variants[i].name);
      g_test_add_data_func (path, &narrow_variants[i], test_narrow);
    }
  g_test_add_func ("/engine/pytorch/resnet18", test_resnet18);
  g_test_add_func ("/engine/pytorch/resnet18-finetune", test_resnet18_finetune);
  return g_test_run ();
}

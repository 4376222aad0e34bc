/* memory-estimate.c — resnet18's training step, counted in floats layer by layer.
 *
 * The walk follows resnet.c's topology and what each op of the engine allocates and
 * keeps (nn-conv.c, nn-batchnorm.c, nn-pool.c, module.c):
 *
 *   op              kept for backward                 alive while its backward runs
 *   conv2d          its input (already counted)       grad_out, grad_in, col and grad_col
 *                                                     (K × G·P each), the regrouped grad
 *   batch_norm      its input = the conv's output     grad_out, grad_in
 *   relu            its result                        grad_out, grad_in
 *   max_pool2d      int32 indices of its output       grad_out, grad_in (the larger)
 *   add (residual)  nothing                           the branch gradient waiting
 *
 * with K = C_in·kh·kw, P = oh·ow and G the images conv2d groups (G·P ≥ 384).
 */
#include "memory-estimate.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

G_DEFINE_QUARK (memory-error-quark, memory_error)

/* The process before any tensor: code and libraries, OpenBLAS's and the pool's
 * threads, gemm's scratch. Measured: a training step at width 4 on a 64×64 batch
 * of 2 peaks at about 9 MB resident. */
#define OVERHEAD_BYTES (24.0 * 1000 * 1000)

typedef struct
{
  int64_t n, c, h, w;              /* the current activation (N, C, H, W) */
  double params, buffers;          /* floats */
  double saved;                    /* floats the graph keeps */
  double transient;                /* floats: the largest backward working set */
  double pending;                  /* floats: the residual gradient waiting in the block's add */
  const char *layer;               /* where we are: "conv1", "layer2", ... */
  const char *invalid;             /* why the input does not fit, or NULL */
  const char *invalid_layer;       /* the first layer that cannot take it: PyTorch's error */
} Walk;

static double
act (const Walk *w)
{
  return (double) w->n * w->c * w->h * w->w;
}

static void
walk_peak (Walk *w, double floats)
{
  w->transient = MAX (w->transient, floats + w->pending);
}

static int64_t
out_dim (int64_t in, int k, int stride, int padding)
{
  if (in + 2 * padding < k)
    return 0;
  return (in + 2 * padding - k) / stride + 1;
}

/* The input cannot go through this layer. The walk goes on (the shapes stay
 * meaningful), but the first failure is the one PyTorch raises, so it is kept. */
static void
walk_fail (Walk *w, const char *why)
{
  if (w->invalid == NULL)
    {
      w->invalid = why;
      w->invalid_layer = w->layer;
    }
}

/* conv2d (bias-free, as in resnet18); need_grad_in: its input needs a gradient. */
static void
walk_conv (Walk *w, int out_ch, int k, int stride, int padding, bool need_grad_in)
{
  double in = act (w);
  int64_t oh = out_dim (w->h, k, stride, padding), ow = out_dim (w->w, k, stride, padding);
  if (oh < 1 || ow < 1)
    {
      walk_fail (w, _("its convolution's kernel would be larger than its padded input"));
      return;
    }
  double kk = (double) w->c * k * k;                 /* K */
  double p = (double) oh * ow;                       /* P */
  double group = CLAMP (ceil (384.0 / p), 1.0, (double) w->n);
  bool pointwise = k == 1 && stride == 1 && padding == 0 && group == 1;
  w->params += kk * out_ch;
  w->c = out_ch;
  w->h = oh;
  w->w = ow;
  double out = act (w);
  w->saved += out;                                   /* saved by the BatchNorm after it */
  double work = pointwise ? 0 : kk * group * p * (need_grad_in ? 2 : 1);
  if (group > 1)
    work += out_ch * group * p;
  walk_peak (w, out + (need_grad_in ? in : 0) + work);
}

static void
walk_bn (Walk *w)
{
  /* Training BatchNorm needs more than one value per channel (PyTorch refuses). */
  if ((double) w->n * w->h * w->w <= 1)
    walk_fail (w, _("its BatchNorm would see a single value per channel"));
  w->params += 2.0 * w->c;
  w->buffers += 2.0 * w->c;
  walk_peak (w, 2 * act (w));
}

static void
walk_relu (Walk *w)
{
  w->saved += act (w);                               /* its result */
  walk_peak (w, 2 * act (w));
}

static void
walk_max_pool (Walk *w, int k, int stride, int padding)
{
  double in = act (w);
  w->h = out_dim (w->h, k, stride, padding);
  w->w = out_dim (w->w, k, stride, padding);
  if (w->h < 1 || w->w < 1)
    {
      walk_fail (w, _("its max-pool window would be larger than its padded input"));
      return;
    }
  w->saved += act (w);                               /* int32 indices, one per output */
  w->saved += act (w);                               /* the output, saved by the next conv */
  walk_peak (w, in + act (w));
}

/* BasicBlock: conv1 bn1 relu conv2 bn2, the downsample (conv 1×1 with the stride,
 * bn) on the block's input when the shape changes, add, relu. */
static void
walk_block (Walk *w, int planes, int stride)
{
  bool downsample = stride != 1 || w->c != planes;
  Walk input = *w;                                   /* the block's input shape */
  w->pending = act (w);                              /* the identity's gradient waits */
  walk_conv (w, planes, 3, stride, 1, true);
  walk_bn (w);
  walk_relu (w);
  walk_conv (w, planes, 3, 1, 1, true);
  walk_bn (w);
  if (downsample)
    {
      /* Same counts, from the input's shape; the main branch's gradient waits. */
      input.params = w->params;
      input.buffers = w->buffers;
      input.saved = w->saved;
      input.transient = w->transient;
      input.pending = act (w);
      walk_conv (&input, planes, 1, stride, 0, true);
      walk_bn (&input);
      w->params = input.params;
      w->buffers = input.buffers;
      w->saved = input.saved;
      w->transient = input.transient;
    }
  w->pending = 0;
  walk_relu (w);
}

/* GRADLENS_TENSOR_CACHE_MB, as tensor.c reads it. */
static double
tensor_cache_limit (void)
{
#ifdef __SANITIZE_ADDRESS__
  return 0;
#endif
  const char *env = g_getenv ("GRADLENS_TENSOR_CACHE_MB");
  return (env ? (double) g_ascii_strtoull (env, NULL, 10) : 1024) * 1024 * 1024;
}

gboolean
resnet_estimate_memory (int64_t batch, int64_t height, int64_t image_width, int width,
                        int num_classes, MemoryEstimate *estimate, GError **error)
{
  g_return_val_if_fail (estimate != NULL, FALSE);
  if (batch < 1 || height < 1 || image_width < 1 || width < 1 || num_classes < 1)
    {
      g_set_error (error, MEMORY_ERROR, MEMORY_ERROR_INVALID,
                   _("resnet18 (width %d, %d classes), batch %lld at %lld×%lld: every size "
                     "must be positive"),
                   width, num_classes, (long long) batch, (long long) height,
                   (long long) image_width);
      return FALSE;
    }

  Walk w = { .n = batch, .c = 3, .h = height, .w = image_width };
  double input = act (&w) + (double) batch * num_classes;   /* data and labels */

  /* Stem: conv1 7×7/2 (its input needs no gradient), bn1, relu, maxpool 3×3/2. */
  w.layer = "conv1";
  walk_conv (&w, width, 7, 2, 3, false);
  w.layer = "bn1";
  walk_bn (&w);
  walk_relu (&w);
  w.layer = "maxpool";
  walk_max_pool (&w, 3, 2, 1);
  /* layer1..layer4: two BasicBlocks each. */
  static const char *const layers[] = { "layer1", "layer2", "layer3", "layer4" };
  for (int stage = 0; stage < 4 && !w.invalid; stage++)
    {
      int planes = width << stage;
      w.layer = layers[stage];
      walk_block (&w, planes, stage == 0 ? 1 : 2);
      walk_block (&w, planes, 1);
    }
  if (w.invalid)
    {
      g_set_error (error, MEMORY_ERROR, MEMORY_ERROR_INVALID,
                   /* Translators: the batch size, the image's height and width, a layer's
                    * name (layer2) and why it cannot take its input, a clause such as
                    * “its BatchNorm would see a single value per channel”. */
                   _("resnet18 cannot train on a batch of %lld at %lld×%lld: at %s %s (the "
                     "input is halved five times: give a larger image or batch)"),
                   (long long) batch, (long long) height, (long long) image_width,
                   w.invalid_layer, w.invalid);
      return FALSE;
    }
  /* avgpool, flatten, fc: (N, 8w) · (8w, classes); prediction, diff, loss. */
  w.params += 8.0 * width * num_classes + num_classes;
  w.saved += (double) batch * 8 * width + 3.0 * batch * num_classes;

  const double f = sizeof (float);
  *estimate = (MemoryEstimate){
    .parameters = (w.params + w.buffers) * f,
    .gradients = w.params * f,
    .optimizer = 2 * w.params * f,
    .activations = (input + w.saved) * f,
    .transient = w.transient * f,
    .overhead = OVERHEAD_BYTES,
  };
  /* Freed blocks the tensor cache keeps for the next step (tensor.c): measured,
   * about three quarters of what the step itself allocates, up to its limit. */
  estimate->cache = MIN (tensor_cache_limit (),
                         0.75 * (estimate->activations + estimate->transient));
  estimate->total = estimate->parameters + estimate->gradients + estimate->optimizer
                    + estimate->activations + estimate->transient + estimate->cache
                    + estimate->overhead;
  return TRUE;
}

/* --- What the machine has -------------------------------------------------------- */

/* "MemAvailable:   20123456 kB" → bytes; 0 if absent. */
static double
meminfo_field (const char *text, const char *field)
{
  const char *p = strstr (text, field);
  if (p == NULL)
    return 0;
  p += strlen (field);
  while (*p == ' ' || *p == ':' || *p == '\t')
    p++;
  guint64 kb = g_ascii_strtoull (p, NULL, 10);
  return (double) kb * 1024;
}

/* A cgroup v2 limit on this process: memory.max − memory.current; 0 if none. */
static double
cgroup_available (void)
{
  g_autofree char *cgroup = NULL;
  if (!g_file_get_contents ("/proc/self/cgroup", &cgroup, NULL, NULL))
    return 0;
  /* "0::/user.slice/..." */
  const char *path = strstr (cgroup, "0::");
  if (path == NULL)
    return 0;
  g_autofree char *rel = g_strndup (path + 3, strcspn (path + 3, "\n"));
  g_autofree char *max_file = g_build_filename ("/sys/fs/cgroup", rel, "memory.max", NULL);
  g_autofree char *cur_file = g_build_filename ("/sys/fs/cgroup", rel, "memory.current", NULL);
  g_autofree char *max = NULL, *cur = NULL;
  if (!g_file_get_contents (max_file, &max, NULL, NULL) || g_str_has_prefix (max, "max"))
    return 0;
  double limit = (double) g_ascii_strtoull (max, NULL, 10);
  double used = g_file_get_contents (cur_file, &cur, NULL, NULL)
                  ? (double) g_ascii_strtoull (cur, NULL, 10) : 0;
  return limit > used ? limit - used : 1;
}

/* RLIMIT_AS less what the process already maps; 0 if unlimited. */
static double
rlimit_available (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return 0;
  g_autofree char *statm = NULL;
  double mapped = 0;
  if (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    mapped = (double) g_ascii_strtoull (statm, NULL, 10) * sysconf (_SC_PAGESIZE);
  double limit = (double) rl.rlim_cur;
  return limit > mapped ? limit - mapped : 1;
}

double
memory_available (void)
{
  double have = 0;
  g_autofree char *meminfo = NULL;
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    have = meminfo_field (meminfo, "MemAvailable");
  if (have <= 0)
    {
      long pages = sysconf (_SC_AVPHYS_PAGES), page = sysconf (_SC_PAGESIZE);
      have = pages > 0 && page > 0 ? (double) pages * page : 0;
    }
  double limits[] = { cgroup_available (), rlimit_available () };
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
    if (limits[i] > 0 && (have <= 0 || limits[i] < have))
      have = limits[i];
  return have;
}

char *
memory_format_size (double bytes)
{
  if (bytes >= 1e9)
    /* Translators: a size in gigabytes (10^9 bytes), as in “needs about 41.2 GB”. */
    return g_strdup_printf (_("%.1f GB"), bytes / 1e9);
  /* Translators: a size in megabytes (10^6 bytes). */
  return g_strdup_printf (_("%.0f MB"), MAX (bytes / 1e6, 1));
}

gboolean
resnet_check_memory_with (int64_t batch, int64_t height, int64_t image_width, int width,
                          int num_classes, double available, GError **error)
{
  MemoryEstimate e;
  if (!resnet_estimate_memory (batch, height, image_width, width, num_classes, &e, error))
    return FALSE;
  if (available > 0 && e.total > available)
    {
      g_autofree char *need = memory_format_size (e.total);
      g_autofree char *have = memory_format_size (available);
      g_autofree char *acts = memory_format_size (e.activations + e.transient + e.cache);
      g_autofree char *params = memory_format_size (e.parameters + e.gradients + e.optimizer);
      g_set_error (error, MEMORY_ERROR, MEMORY_ERROR_TOO_LARGE,
                   _("resnet18 (width %d, %d classes): batch %lld at %lld×%lld needs about %s "
                     "for a training step (%s of activations and gradients, %s of parameters "
                     "with their gradients and SGD's buffers); this machine has %s available. "
                     "Try a smaller batch or image size."),
                   width, num_classes, (long long) batch, (long long) height,
                   (long long) image_width, need, acts, params, have);
      return FALSE;
    }
  return TRUE;
}

gboolean
resnet_check_memory (int64_t batch, int64_t height, int64_t image_width, int width,
                     int num_classes, GError **error)
{
  return resnet_check_memory_with (batch, height, image_width, width, num_classes,
                                   memory_available (), error);
}

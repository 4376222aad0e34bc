/* tensor.c — tensor lifetime, shapes and statistics (random draws: random.c). */
#include "autograd.h"
#include "parallel.h"
#include "vec.h"

#include <malloc.h>
#include <math.h>
#include <string.h>

struct _TensorStorage
{
  gint ref_count;
  size_t n;
  float *data;                     /* (n), 64-byte aligned */
};

/* Where tensor memory comes from. A training step allocates and frees the same
 * tensors every time; memory handed back to the kernel between steps comes back as
 * page faults (about 12 000 per step at 64×64: the kernel zeroes every page again).
 * So:
 *
 *  - below 32 MB, glibc's heap, told (once, storage_setup) to serve those sizes
 *    itself instead of with mmap, and not to give memory back before 256 MB are
 *    free: freed blocks are reused, best fit, for the next tensors of any size, and
 *    the resident memory stays near the largest live set (these settings are
 *    process-wide: they suit the application as well);
 *  - from 32 MB (glibc would mmap these whatever we say), an exact-size cache:
 *    freed blocks wait there for the next tensor of that size. A free block holds
 *    the link to the next of its size in its first bytes. The cache keeps at most
 *    cache_limit bytes (GRADLENS_TENSOR_CACHE_MB, default 1024; 0 turns it off).
 */
#define CACHE_MIN_BYTES ((size_t) 32 << 20)

static void
storage_setup (void)
{
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  mallopt (M_MMAP_THRESHOLD, (int) CACHE_MIN_BYTES);
  mallopt (M_TRIM_THRESHOLD, 256 << 20);
  /* Threads other than the main one (the stepper's worker) get heaps of 64 MB, and
   * glibc unmaps such a heap as soon as it is empty, whatever the trim threshold,
   * unless the top pad is that large: 2300 page faults per step without it. The
   * pad is address space, not memory: pages count once they are touched. */
  mallopt (M_TOP_PAD, 64 << 20);
#endif
}

static GMutex cache_lock;
static GHashTable *cache;          /* bytes → the first free block of that size */
static size_t cache_bytes;
static size_t cache_limit = (size_t) -1;  /* -1: not read yet */

static size_t
cache_read_limit (void)
{
#ifdef __SANITIZE_ADDRESS__
  return 0;   /* AddressSanitizer must see every free, to catch a use after it */
#endif
  const char *env = g_getenv ("GRADLENS_TENSOR_CACHE_MB");
  return (env ? (size_t) g_ascii_strtoull (env, NULL, 10) : 1024) << 20;
}

/* A cached block of exactly bytes, or NULL. */
static float *
cache_take (size_t bytes)
{
  if (bytes < CACHE_MIN_BYTES)
    return NULL;
  float *data = NULL;
  g_mutex_lock (&cache_lock);
  void **head = cache ? g_hash_table_lookup (cache, GSIZE_TO_POINTER (bytes)) : NULL;
  if (head)
    {
      data = (float *) head;
      if (*head)
        g_hash_table_insert (cache, GSIZE_TO_POINTER (bytes), *head);
      else
        g_hash_table_remove (cache, GSIZE_TO_POINTER (bytes));
      cache_bytes -= bytes;
    }
  g_mutex_unlock (&cache_lock);
  return data;
}

/* Keeps data for reuse; FALSE if it is too small or the cache is full. */
static bool
cache_give (float *data, size_t bytes)
{
  if (bytes < CACHE_MIN_BYTES)
    return false;
  bool kept = false;
  g_mutex_lock (&cache_lock);
  if (cache_limit == (size_t) -1)
    cache_limit = cache_read_limit ();
  if (cache_bytes + bytes <= cache_limit)
    {
      if (cache == NULL)
        cache = g_hash_table_new (NULL, NULL);
      void **block = (void **) data;
      *block = g_hash_table_lookup (cache, GSIZE_TO_POINTER (bytes));
      g_hash_table_insert (cache, GSIZE_TO_POINTER (bytes), block);
      cache_bytes += bytes;
      kept = true;
    }
  g_mutex_unlock (&cache_lock);
  return kept;
}

static size_t
storage_bytes (size_t n)
{
  /* At least one float so data is never NULL; whole 64-byte lines. */
  size_t bytes = (n > 0 ? n : 1) * sizeof (float);
  return (bytes + 63) & ~(size_t) 63;
}

static TensorStorage *
storage_new (size_t n, bool zero)
{
  static gsize setup_done;
  if (g_once_init_enter (&setup_done))
    {
      storage_setup ();
      g_once_init_leave (&setup_done, 1);
    }
  TensorStorage *s = g_new (TensorStorage, 1);
  s->ref_count = 1;
  s->n = n;
  /* Aligned for AVX-512 loads. */
  size_t bytes = storage_bytes (n);
  s->data = cache_take (bytes);
  if (s->data == NULL)
    s->data = aligned_alloc (64, bytes);
  if (s->data == NULL)
    g_error ("out of memory allocating %zu bytes for a tensor", bytes);
  if (zero)
    memset (s->data, 0, bytes);
  return s;
}

static void
storage_unref (TensorStorage *s)
{
  if (g_atomic_int_dec_and_test (&s->ref_count))
    {
      if (!cache_give (s->data, storage_bytes (s->n)))
        free (s->data);
      g_free (s);
    }
}

static gint live_tensors;

gint
tensor_live_count (void)
{
  return g_atomic_int_get (&live_tensors);
}

static Tensor *
tensor_alloc (int ndim, const int64_t *shape, TensorStorage *storage, bool zero)
{
  g_assert (ndim >= 0 && ndim <= TENSOR_MAX_DIMS);
  Tensor *t = g_new0 (Tensor, 1);
  t->ref_count = 1;
  g_atomic_int_inc (&live_tensors);
  t->ndim = ndim;
  t->numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      g_assert (shape[i] >= 0);
      t->shape[i] = shape[i];
      t->numel *= shape[i];
    }
  if (storage)
    {
      g_atomic_int_inc (&storage->ref_count);
      t->storage = storage;
    }
  else
    t->storage = storage_new (t->numel, zero);
  t->data = t->storage->data;
  return t;
}

Tensor *
tensor_new_empty (int ndim, const int64_t *shape)
{
  return tensor_alloc (ndim, shape, NULL, false);
}

Tensor *
tensor_new_zeros (int ndim, const int64_t *shape)
{
  return tensor_alloc (ndim, shape, NULL, true);
}

Tensor *
tensor_new_full (int ndim, const int64_t *shape, float value)
{
  Tensor *t = tensor_alloc (ndim, shape, NULL, false);
  for (int64_t i = 0; i < t->numel; i++)
    t->data[i] = value;
  return t;
}

Tensor *
tensor_new_ones (int ndim, const int64_t *shape)
{
  return tensor_new_full (ndim, shape, 1.0f);
}

Tensor *
tensor_new_from_data (int ndim, const int64_t *shape, const float *data)
{
  Tensor *t = tensor_alloc (ndim, shape, NULL, false);
  memcpy (t->data, data, t->numel * sizeof (float));
  return t;
}

Tensor *
tensor_new_scalar (float value)
{
  return tensor_new_full (0, NULL, value);
}

Tensor *
tensor_new_like (const Tensor *t)
{
  return tensor_new_zeros (t->ndim, t->shape);
}

Tensor *
tensor_copy (const Tensor *t)
{
  return tensor_new_from_data (t->ndim, t->shape, t->data);
}

Tensor *
tensor_alias (const Tensor *t)
{
  return tensor_alloc (t->ndim, t->shape, t->storage, false);
}

bool
tensor_is_exclusive (const Tensor *t)
{
  return g_atomic_int_get (&t->ref_count) == 1 && g_atomic_int_get (&t->storage->ref_count) == 1;
}

Tensor *
tensor_ref (Tensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  g_atomic_int_inc (&t->ref_count);
  return t;
}

void
tensor_unref (Tensor *t)
{
  if (t == NULL || !g_atomic_int_dec_and_test (&t->ref_count))
    return;
  /* The AccumulateGrad node holds its leaf strongly, so a leaf that dies has
   * no accumulator left pointing at it. */
  g_assert (t->grad_accumulator == NULL);
  if (t->grad_fn && t->grad_fn->retained == t)
    t->grad_fn->retained = NULL;
  g_clear_pointer (&t->grad, tensor_unref);
  g_clear_pointer (&t->grad_fn, node_unref);
  g_clear_pointer (&t->hooks, g_array_unref);
  storage_unref (t->storage);
  g_free (t->name);
  g_free (t);
  g_atomic_int_add (&live_tensors, -1);
}

bool
tensor_is_leaf (const Tensor *t)
{
  return t->grad_fn == NULL;
}

void
tensor_set_name (Tensor *t, const char *name)
{
  g_free (t->name);
  t->name = g_strdup (name);
}

gboolean
tensor_set_requires_grad (Tensor *t, bool requires_grad, GError **error)
{
  if (!tensor_is_leaf (t))
    {
      /* PyTorch's wording for x.requires_grad_() on a non-leaf. */
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NOT_LEAF,
                   "you can only change requires_grad flags of leaf variables.");
      return FALSE;
    }
  t->requires_grad = requires_grad;
  return TRUE;
}

gboolean
tensor_retain_grad (Tensor *t, GError **error)
{
  if (!t->requires_grad)
    {
      g_set_error (error, AUTOGRAD_ERROR, AUTOGRAD_ERROR_NO_GRAD,
                   "can't retain_grad on Tensor that has requires_grad=False");
      return FALSE;
    }
  if (!tensor_is_leaf (t) && t->grad_fn->retained != t)
    {
      /* Among the hooks already registered, the copy runs after them (1.13's order). */
      t->retains_grad = true;
      t->grad_fn->retained = t;
      t->grad_fn->retain_at = t->grad_fn->hooks ? t->grad_fn->hooks->len : 0;
    }
  return TRUE;
}

Tensor *
tensor_detach (Tensor *t)
{
  Tensor *d = tensor_alias (t);
  if (t->name)
    d->name = g_strdup (t->name);
  return d;
}

void
tensor_zero_grad (Tensor *t)
{
  g_clear_pointer (&t->grad, tensor_unref);
  t->grad_passes = 0;
}

bool
tensor_same_shape (const Tensor *a, const Tensor *b)
{
  if (a->ndim != b->ndim)
    return false;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return false;
  return true;
}

gboolean
tensor_reshape_inplace (Tensor *t, int ndim, const int64_t *shape)
{
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= shape[i];
  if (n != t->numel || ndim > TENSOR_MAX_DIMS)
    return FALSE;
  t->ndim = ndim;
  memset (t->shape, 0, sizeof t->shape);
  memcpy (t->shape, shape, ndim * sizeof (int64_t));
  return TRUE;
}

static char *
shape_join (int ndim, const int64_t *shape, char open, char close)
{
  GString *s = g_string_new (NULL);
  g_string_append_c (s, open);
  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, close);
  return g_string_free (s, FALSE);
}

char *
shape_to_string (int ndim, const int64_t *shape)
{
  return shape_join (ndim, shape, '(', ')');
}

char *
shape_to_size_list (int ndim, const int64_t *shape)
{
  return shape_join (ndim, shape, '[', ']');
}

char *
tensor_shape_string (const Tensor *t)
{
  return shape_to_string (t->ndim, t->shape);
}

/* --- Statistics ---------------------------------------------------------- */

void
tensor_stats (const Tensor *t, TensorStats *st)
{
  double sum = 0, sumsq = 0;
  int64_t n = 0;
  memset (st, 0, sizeof *st);
  st->min = INFINITY;
  st->max = -INFINITY;
  for (int64_t i = 0; i < t->numel; i++)
    {
      float v = t->data[i];
      if (isnan (v))
        {
          st->n_nan++;
          continue;
        }
      if (isinf (v))
        {
          st->n_inf++;
          continue;
        }
      st->min = MIN (st->min, v);
      st->max = MAX (st->max, v);
      sum += v;
      sumsq += (double) v * v;
      n++;
    }
  if (n == 0)
    {
      st->min = st->max = st->mean = st->std = NAN;
      return;
    }
  double mean = sum / n;
  st->mean = mean;
  /* Unbiased, as torch.std; by the two-pass formula for accuracy. */
  double ss = 0;
  for (int64_t i = 0; i < t->numel; i++)
    if (isfinite (t->data[i]))
      ss += (t->data[i] - mean) * (t->data[i] - mean);
  st->std = n > 1 ? sqrt (ss / (n - 1)) : NAN;
  st->norm = sqrt (sumsq);
}

/* Σ x² over blocks of NORM_BLOCK elements, each block's sum in double over 16 lanes,
 * the blocks' sums added in order: the same bits whatever the number of threads.
 * The observer computes one per gradient edge (autograd.c), so it has to be fast. */
#define NORM_BLOCK 16384

static inline __attribute__ ((always_inline)) double
sum_squares_body (const float *x, int64_t n)
{
  double s[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++)
      s[l] += (double) x[i + l] * x[i + l];
  double t = 0;
  for (int l = 0; l < 16; l++)
    t += s[l];
  for (; i < n; i++)
    t += (double) x[i] * x[i];
  return t;
}

VEC_CLONES_RETURN (double, sum_squares, (const float *x, int64_t n), (x, n))

typedef struct
{
  const float *x;
  int64_t n;
  double *partial;                 /* one per block */
} NormJob;

static void
norm_range (gpointer data, int64_t b0, int64_t b1)
{
  const NormJob *j = data;
  for (int64_t b = b0; b < b1; b++)
    j->partial[b] = sum_squares (j->x + b * NORM_BLOCK, MIN (NORM_BLOCK, j->n - b * NORM_BLOCK));
}

double
tensor_norm2 (const Tensor *t)
{
  int64_t blocks = (t->numel + NORM_BLOCK - 1) / NORM_BLOCK;
  if (blocks <= 1)
    return sqrt (sum_squares (t->data, t->numel));
  double *partial = g_new (double, blocks);
  NormJob job = { t->data, t->numel, partial };
  parallel_for (blocks, 2, norm_range, &job);
  double s = 0;
  for (int64_t b = 0; b < blocks; b++)
    s += partial[b];
  g_free (partial);
  return sqrt (s);
}

/* NaN and ±Inf are the floats whose exponent bits are all set. An OR over a block
 * vectorises (integer compares, no reassociation), a block at a time so the first
 * bad block ends the scan; it runs at memory speed (1.7× isfinite's element loop on
 * cached data), which matters for the gradients: 11.7 million floats per resnet18
 * backward, about 10% of a 64×64 step in anomaly mode. */
bool
tensor_all_finite (const Tensor *t)
{
  const float *x = t->data;
  for (int64_t start = 0; start < t->numel; start += 4096)
    {
      int64_t end = MIN (start + 4096, t->numel);
      uint32_t bad = 0;
      for (int64_t i = start; i < end; i++)
        {
          uint32_t bits;
          memcpy (&bits, &x[i], sizeof bits);
          bad |= (bits & 0x7f800000u) == 0x7f800000u;
        }
      if (bad)
        return false;
    }
  return true;
}

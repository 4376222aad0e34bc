/* parallel.c — a fork-join pool: workers wait for a generation number to change,
 * run their slice of the current job, and count themselves done.
 *
 * Waiting spins for a while (the engine's loops come microseconds apart during a
 * training step), then sleeps on a condition variable, so an idle application
 * costs no CPU. The caller always runs slice 0 itself.
 */
#include "parallel.h"

#include <cblas.h>
#include <immintrin.h>
#include <x86intrin.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define MAX_THREADS 64
/* How long a worker polls before it sleeps, in TSC cycles (about 1 ms): a training
 * step's serial stretches are shorter than that, and waking a sleeping thread costs
 * up to a millisecond on a busy machine. OpenBLAS's own workers poll for 2^28. */
#define SPIN_CYCLES (2u << 20)
/* The caller's wait for the last slices: poll, then yield now and then. */
#define WAIT_SPINS 20000

typedef struct
{
  /* The job: written by the caller before it bumps generation. */
  ParallelFn fn;
  gpointer data;
  int64_t n, grain;
  int parts;

  _Atomic unsigned generation;
  _Atomic int pending;             /* workers still running the job */
  _Atomic int sleepers;
  _Atomic bool busy;               /* a job is being run: a second caller runs serially */
  _Atomic bool stop;

  GMutex lock;
  GCond wake;
  unsigned start_generation;       /* the generation when the workers were started */
  int n_threads;                   /* caller included */
  GThread *workers[MAX_THREADS];
} Pool;

static Pool pool;
static GOnce pool_once = G_ONCE_INIT;
static GMutex resize_lock;
static _Thread_local bool in_worker;

void
parallel_slice (int64_t n, int parts, int index, int64_t align, int64_t *begin, int64_t *end)
{
  if (align < 1)
    align = 1;
  int64_t units = (n + align - 1) / align;
  int64_t b = units * index / parts * align, e = units * (index + 1) / parts * align;
  *begin = MIN (b, n);
  *end = index == parts - 1 ? n : MIN (e, n);
}

static void
run_slice (int index)
{
  int64_t begin, end;
  parallel_slice (pool.n, pool.parts, index, 1, &begin, &end);
  if (begin < end)
    pool.fn (pool.data, begin, end);
}

static gpointer
worker_main (gpointer p)
{
  int index = GPOINTER_TO_INT (p);
  /* Not the current generation: a job may have been posted before this thread ran. */
  unsigned seen = pool.start_generation;
  in_worker = true;
  for (;;)
    {
      unsigned gen;
      uint64_t start = __rdtsc ();
      while ((gen = atomic_load_explicit (&pool.generation, memory_order_acquire)) == seen
             && __rdtsc () - start < SPIN_CYCLES)
        _mm_pause ();
      if (gen == seen)
        {
          g_mutex_lock (&pool.lock);
          atomic_fetch_add (&pool.sleepers, 1);
          while ((gen = atomic_load (&pool.generation)) == seen)
            g_cond_wait (&pool.wake, &pool.lock);
          atomic_fetch_sub (&pool.sleepers, 1);
          g_mutex_unlock (&pool.lock);
        }
      seen = gen;
      if (atomic_load (&pool.stop))
        {
          atomic_fetch_sub_explicit (&pool.pending, 1, memory_order_release);
          return NULL;
        }
      if (index < pool.parts)
        run_slice (index);
      atomic_fetch_sub_explicit (&pool.pending, 1, memory_order_release);
    }
}

/* Publishes the job to every worker and wakes the sleeping ones. */
static void
pool_kick (void)
{
  atomic_store (&pool.pending, pool.n_threads - 1);
  atomic_fetch_add (&pool.generation, 1);
  if (atomic_load (&pool.sleepers) > 0)
    {
      g_mutex_lock (&pool.lock);
      g_cond_broadcast (&pool.wake);
      g_mutex_unlock (&pool.lock);
    }
}

static void
pool_wait (void)
{
  int spins = 0;
  while (atomic_load_explicit (&pool.pending, memory_order_acquire) > 0)
    {
      _mm_pause ();
      if (++spins > WAIT_SPINS)
        g_thread_yield ();
    }
}

static void
pool_stop_workers (void)
{
  if (pool.n_threads <= 1)
    return;
  atomic_store (&pool.stop, true);
  pool_kick ();
  for (int i = 1; i < pool.n_threads; i++)
    g_thread_join (pool.workers[i]);
  atomic_store (&pool.stop, false);
  pool.n_threads = 1;
}

static void
pool_start_workers (int n_threads)
{
  n_threads = CLAMP (n_threads, 1, MAX_THREADS);
  pool.n_threads = n_threads;
  pool.start_generation = atomic_load (&pool.generation);
  for (int i = 1; i < n_threads; i++)
    {
      g_autofree char *name = g_strdup_printf ("gradlens-%d", i);
      pool.workers[i] = g_thread_new (name, worker_main, GINT_TO_POINTER (i));
    }
  /* Our threads each run OpenBLAS on their own block: OpenBLAS itself stays serial. */
  openblas_set_num_threads (1);
}

static int
default_threads (void)
{
  const char *vars[] = { "GRADLENS_NUM_THREADS", "OPENBLAS_NUM_THREADS" };
  for (guint i = 0; i < G_N_ELEMENTS (vars); i++)
    {
      const char *v = g_getenv (vars[i]);
      if (v && atoi (v) > 0)
        return atoi (v);
    }
  return MIN (g_get_num_processors (), 8);
}

static gpointer
pool_init (gpointer unused)
{
  g_mutex_init (&pool.lock);
  g_cond_init (&pool.wake);
  pool.n_threads = 1;
  pool_start_workers (default_threads ());
  return NULL;
}

static void
pool_ensure (void)
{
  g_once (&pool_once, pool_init, NULL);
}

void
parallel_set_num_threads (int n_threads)
{
  pool_ensure ();
  g_mutex_lock (&resize_lock);
  pool_stop_workers ();
  pool_start_workers (n_threads);
  g_mutex_unlock (&resize_lock);
}

int
parallel_get_num_threads (void)
{
  pool_ensure ();
  return pool.n_threads;
}

void
parallel_for (int64_t n, int64_t grain, ParallelFn fn, gpointer data)
{
  if (n <= 0)
    return;
  pool_ensure ();
  grain = MAX (grain, 1);
  int parts = (int) MIN ((int64_t) pool.n_threads, n / grain);
  bool expected = false;
  if (parts < 2 || in_worker
      || !atomic_compare_exchange_strong (&pool.busy, &expected, true))
    {
      fn (data, 0, n);
      return;
    }
  pool.fn = fn;
  pool.data = data;
  pool.n = n;
  pool.grain = grain;
  pool.parts = parts;
  pool_kick ();
  bool was_worker = in_worker;
  in_worker = true;   /* a nested parallel_for from slice 0 runs serially */
  run_slice (0);
  in_worker = was_worker;
  pool_wait ();
  atomic_store (&pool.busy, false);
}

/* parallel.c — a fork-join pool with claimed chunks.
 *
 * A job is [0, n) cut into a fixed number of chunks (fixed by n, the grain and the
 * pool size: never by timing, so results do not depend on it). The caller posts
 * the job by bumping a generation number, then claims chunks itself, one at a
 * time, like every worker: a claim is a compare-and-swap on one 64-bit word that
 * holds the generation, the job's chunk count and the next chunk, so a worker that
 * wakes up late can never claim a chunk of a job that is over, nor read the size of
 * the next job while its caller writes it (ThreadSanitizer found that one: a late
 * worker could claim and run a chunk of a half-posted job). When every chunk is
 * claimed the caller waits only for those still running elsewhere. On a machine
 * shared with other work a worker that is not scheduled simply claims nothing:
 * the caller does its chunks and never waits for a sleeping thread.
 *
 * Idle workers poll for a while (the engine's loops come microseconds apart during
 * a training step), then sleep on a condition variable, so an idle application
 * costs no CPU.
 */
#include "parallel.h"

#include <cblas.h>
#include <immintrin.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <x86intrin.h>

#define MAX_THREADS 64
/* Chunks per thread in a job: enough to even out threads that start late. */
#define CHUNKS_PER_THREAD 4
/* How long a worker polls before it sleeps, in TSC cycles (about 1 ms): a training
 * step's serial stretches are shorter than that, and waking a sleeping thread costs
 * up to a millisecond on a busy machine. (OpenBLAS's own workers poll for 2^28.) */
#define SPIN_CYCLES (2u << 20)
/* The caller's wait for chunks running elsewhere: poll, then yield now and then. */
#define WAIT_SPINS 4000

typedef struct
{
  /* The job: written by the caller before it publishes the new generation. */
  ParallelFn fn;
  gpointer data;
  int64_t n;
  int chunks;

  _Atomic uint64_t claim;          /* generation | chunks | next chunk to claim (CLAIM_BITS) */
  _Atomic int done;                /* chunks finished in this job */
  _Atomic int sleepers;
  _Atomic bool busy;               /* a job is running: a second caller runs serially */
  _Atomic bool stop;

  GMutex lock;
  GCond wake;
  unsigned start_generation;       /* when the workers were started */
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

/* The claim word: generation (24 bits) << 40 | the job's chunks << 20 | next chunk. */
#define CLAIM_BITS 20
#define CLAIM_MASK ((1u << CLAIM_BITS) - 1)
#define CLAIM_MAX_CHUNKS ((int) CLAIM_MASK)

static inline unsigned
claim_generation (uint64_t claim)
{
  return (unsigned) (claim >> (2 * CLAIM_BITS));
}

static inline int
claim_chunks (uint64_t claim)
{
  return (int) ((claim >> CLAIM_BITS) & CLAIM_MASK);
}

static inline int
claim_next (uint64_t claim)
{
  return (int) (claim & CLAIM_MASK);
}

/* Claims and runs chunks of generation gen until none is left. */
static void
run_chunks (unsigned gen)
{
  uint64_t cur = atomic_load_explicit (&pool.claim, memory_order_acquire);
  for (;;)
    {
      if (claim_generation (cur) != gen || claim_next (cur) >= claim_chunks (cur))
        return;
      if (!atomic_compare_exchange_weak_explicit (&pool.claim, &cur, cur + 1,
                                                  memory_order_acq_rel, memory_order_acquire))
        continue;   /* cur holds the new value: look again */
      /* A chunk of the current job: its caller waits for it, the job stays put. */
      int index = claim_next (cur);
      int64_t begin, end;
      parallel_slice (pool.n, claim_chunks (cur), index, 1, &begin, &end);
      if (begin < end)
        pool.fn (pool.data, begin, end);
      atomic_fetch_add_explicit (&pool.done, 1, memory_order_release);
      cur = atomic_load_explicit (&pool.claim, memory_order_acquire);
    }
}

static gpointer
worker_main (gpointer unused)
{
  in_worker = true;
  /* Not the current generation: a job may have been posted before this thread ran. */
  unsigned seen = pool.start_generation;
  for (;;)
    {
      unsigned gen;
      uint64_t start = __rdtsc ();
      while ((gen = claim_generation (atomic_load_explicit (&pool.claim, memory_order_acquire)))
             == seen
             && __rdtsc () - start < SPIN_CYCLES)
        _mm_pause ();
      if (gen == seen)
        {
          g_mutex_lock (&pool.lock);
          atomic_fetch_add (&pool.sleepers, 1);
          while ((gen = claim_generation (atomic_load (&pool.claim))) == seen)
            g_cond_wait (&pool.wake, &pool.lock);
          atomic_fetch_sub (&pool.sleepers, 1);
          g_mutex_unlock (&pool.lock);
        }
      seen = gen;
      if (atomic_load (&pool.stop))
        return NULL;
      run_chunks (gen);
    }
}

/* Publishes the job (a new generation, chunk 0 next) and wakes sleeping workers.
 * Returns the generation. */
static unsigned
pool_post (void)
{
  atomic_store_explicit (&pool.done, 0, memory_order_relaxed);
  unsigned gen = (claim_generation (atomic_load (&pool.claim)) + 1) & 0xffffffu;
  atomic_store (&pool.claim, (uint64_t) gen << (2 * CLAIM_BITS)
                               | (uint64_t) pool.chunks << CLAIM_BITS);
  if (atomic_load (&pool.sleepers) > 0)
    {
      g_mutex_lock (&pool.lock);
      g_cond_broadcast (&pool.wake);
      g_mutex_unlock (&pool.lock);
    }
  return gen;
}

static void
pool_wait (void)
{
  int spins = 0;
  while (atomic_load_explicit (&pool.done, memory_order_acquire) < pool.chunks)
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
  pool.chunks = 0;
  pool_post ();
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
  pool.start_generation = claim_generation (atomic_load (&pool.claim));
  for (int i = 1; i < n_threads; i++)
    {
      g_autofree char *name = g_strdup_printf ("gradlens-%d", i);
      pool.workers[i] = g_thread_new (name, worker_main, NULL);
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

/* Runs fn over [0, n) in `chunks` chunks on the pool, or on the calling thread alone
 * when there is nothing to share (one chunk, no workers, a loop inside a chunk, or
 * the pool busy with another caller's job). */
static void
pool_run (int64_t n, int64_t chunks, ParallelFn fn, gpointer data)
{
  bool expected = false;
  if (pool.n_threads < 2 || chunks < 2 || chunks > CLAIM_MAX_CHUNKS || in_worker
      || !atomic_compare_exchange_strong (&pool.busy, &expected, true))
    {
      fn (data, 0, n);
      return;
    }
  pool.fn = fn;
  pool.data = data;
  pool.n = n;
  pool.chunks = (int) chunks;
  unsigned gen = pool_post ();
  in_worker = true;   /* a parallel_for inside a chunk runs serially */
  run_chunks (gen);
  in_worker = false;
  pool_wait ();
  atomic_store (&pool.busy, false);
}

void
parallel_for (int64_t n, int64_t grain, ParallelFn fn, gpointer data)
{
  if (n <= 0)
    return;
  pool_ensure ();
  grain = MAX (grain, 1);
  pool_run (n, MIN ((int64_t) pool.n_threads * CHUNKS_PER_THREAD, n / grain), fn, data);
}

void
parallel_for_each (int n_items, ParallelFn fn, gpointer data)
{
  if (n_items <= 0)
    return;
  pool_ensure ();
  pool_run (n_items, n_items, fn, data);   /* one chunk per item */
}

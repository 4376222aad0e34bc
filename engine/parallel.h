/* parallel.h — the engine's one threading scheme: a small fork-join pool.
 *
 * Every parallel loop of the engine goes through parallel_for, GEMMs included:
 * OpenBLAS is set to one thread and each of our threads calls cblas_sgemm on its
 * own block of the product (gemm.h). One pool, so no two pools of spinning
 * threads fight over the cores. Its size comes, in this order, from
 * parallel_set_num_threads, GRADLENS_NUM_THREADS, OPENBLAS_NUM_THREADS, or the
 * number of processors (at most 8).
 *
 *   static void
 *   scale_range (gpointer data, int64_t begin, int64_t end)
 *   {
 *     float *x = data;
 *     for (int64_t i = begin; i < end; i++)
 *       x[i] *= 2;
 *   }
 *   parallel_for (n, 4096, scale_range, x);   // [0, n) in one slice per thread
 *
 * Slices are contiguous and fixed by n, the grain and the pool size alone, so
 * results do not depend on timing; which thread runs a slice does (the caller takes
 * the slices of a worker that is not scheduled). A loop shorter than two grains, a
 * loop started from inside another one, or from a second thread while the pool is
 * busy, runs on the calling thread. Idle workers poll for about a millisecond, then
 * sleep.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef void (*ParallelFn) (gpointer data, int64_t begin, int64_t end);

/* Threads in the pool, the caller included (1 = no workers). Resizing joins the
 * old workers; call it while no loop runs. */
void parallel_set_num_threads (int n_threads);
int  parallel_get_num_threads (void);

/* Runs fn over [0, n) in contiguous slices of at least grain items (up to four per
 * thread, claimed by whichever thread is free); returns when every slice is done. */
void parallel_for             (int64_t n, int64_t grain, ParallelFn fn, gpointer data);

/* Runs fn (data, i, i + 1) for every i in [0, n_items), items spread over the
 * threads: for work already cut into parts (gemm's blocks of C). */
void parallel_for_each        (int n_items, ParallelFn fn, gpointer data);

/* The slice [*begin, *end) that part `index` of `parts` gets of [0, n),
 * rounded to multiples of `align` (the last slice takes the remainder). */
void parallel_slice           (int64_t n, int parts, int index, int64_t align,
                               int64_t *begin, int64_t *end);

G_END_DECLS

/* tsan-glib.c — GLib's locks made visible to ThreadSanitizer (-Db_sanitize=thread only).
 *
 * On Linux GMutex and GCond sit directly on futexes: ThreadSanitizer knows
 * pthread's locks but sees none of GLib's, so every access a GMutex guards would be
 * reported as a race (the stepper, the tensor cache, the pool's sleep). In TSan
 * builds this file interposes the g_mutex_* and g_cond_wait* calls the engine and
 * the tests make, forwards them to GLib, and tells TSan what happened through its
 * mutex annotations (so it checks lock order, deadlocks, too). GLib's calls inside
 * GLib stay direct, and GLib itself is not instrumented, so nothing is reported there.
 * g_once_impl gets a release after it returns: the fast path of g_once is an atomic
 * load in our code, whose matching store is inside GLib, out of TSan's sight.
 *
 * The archive member is pulled into every program that links the engine and calls
 * g_mutex_lock, ahead of libglib, so these definitions win for those calls.
 */
#ifdef __SANITIZE_THREAD__

#include <dlfcn.h>
#include <glib.h>
#include <sanitizer/tsan_interface.h>

/* GLib's own, found at start-up (before any thread: constructors run single-threaded),
 * or at the first call, when a library's constructor (GObject's) locks before ours ran. */
static void (*real_mutex_init) (GMutex *);
static void (*real_mutex_clear) (GMutex *);
static void (*real_mutex_lock) (GMutex *);
static gboolean (*real_mutex_trylock) (GMutex *);
static void (*real_mutex_unlock) (GMutex *);
static void (*real_cond_wait) (GCond *, GMutex *);
static gboolean (*real_cond_wait_until) (GCond *, GMutex *, gint64);
static gpointer (*real_once_impl) (GOnce *, GThreadFunc, gpointer);

static void
resolve (void **slot, const char *name)
{
  *slot = dlsym (RTLD_NEXT, name);
  if (*slot == NULL)
    g_error ("tsan-glib: GLib's %s not found", name);
}

__attribute__ ((constructor)) static void
tsan_glib_init (void)
{
  if (real_once_impl != NULL)
    return;
  resolve ((void **) &real_mutex_init, "g_mutex_init");
  resolve ((void **) &real_mutex_clear, "g_mutex_clear");
  resolve ((void **) &real_mutex_lock, "g_mutex_lock");
  resolve ((void **) &real_mutex_trylock, "g_mutex_trylock");
  resolve ((void **) &real_mutex_unlock, "g_mutex_unlock");
  resolve ((void **) &real_cond_wait, "g_cond_wait");
  resolve ((void **) &real_cond_wait_until, "g_cond_wait_until");
  resolve ((void **) &real_once_impl, "g_once_impl");
}

static inline void
ready (void)
{
  if (G_UNLIKELY (real_once_impl == NULL))
    tsan_glib_init ();
}

void g_mutex_init (GMutex *mutex);
void g_mutex_clear (GMutex *mutex);
void g_mutex_lock (GMutex *mutex);
gboolean g_mutex_trylock (GMutex *mutex);
void g_mutex_unlock (GMutex *mutex);
void g_cond_wait (GCond *cond, GMutex *mutex);
gboolean g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time);
gpointer g_once_impl (GOnce *once, GThreadFunc func, gpointer arg);

void
g_mutex_init (GMutex *mutex)
{
  ready ();
  real_mutex_init (mutex);
  __tsan_mutex_create (mutex, 0);
}

void
g_mutex_clear (GMutex *mutex)
{
  ready ();
  __tsan_mutex_destroy (mutex, 0);
  real_mutex_clear (mutex);
}

/* Static GMutexes are used without g_mutex_init: linker_init says so. */
void
g_mutex_lock (GMutex *mutex)
{
  ready ();
  __tsan_mutex_pre_lock (mutex, __tsan_mutex_linker_init);
  real_mutex_lock (mutex);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_linker_init, 0);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  ready ();
  unsigned flags = __tsan_mutex_linker_init | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock (mutex, flags);
  gboolean locked = real_mutex_trylock (mutex);
  __tsan_mutex_post_lock (mutex, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  ready ();
  __tsan_mutex_pre_unlock (mutex, __tsan_mutex_linker_init);
  real_mutex_unlock (mutex);
  __tsan_mutex_post_unlock (mutex, __tsan_mutex_linker_init);
}

/* Waiting releases the mutex and takes it again before returning. */
void
g_cond_wait (GCond *cond, GMutex *mutex)
{
  ready ();
  __tsan_mutex_pre_unlock (mutex, __tsan_mutex_linker_init);
  __tsan_mutex_post_unlock (mutex, __tsan_mutex_linker_init);
  real_cond_wait (cond, mutex);
  __tsan_mutex_pre_lock (mutex, __tsan_mutex_linker_init);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_linker_init, 0);
}

gboolean
g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time)
{
  ready ();
  __tsan_mutex_pre_unlock (mutex, __tsan_mutex_linker_init);
  __tsan_mutex_post_unlock (mutex, __tsan_mutex_linker_init);
  gboolean signalled = real_cond_wait_until (cond, mutex, end_time);
  __tsan_mutex_pre_lock (mutex, __tsan_mutex_linker_init);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_linker_init, 0);
  return signalled;
}

/* The thread that ran func published its results; one that waited for it sees them. */
gpointer
g_once_impl (GOnce *once, GThreadFunc func, gpointer arg)
{
  ready ();
  gpointer result = real_once_impl (once, func, arg);
  __tsan_acquire ((void *) &once->status);
  __tsan_release ((void *) &once->status);
  return result;
}

#else

/* Not a TSan build: nothing here (ISO C wants a declaration). */
typedef int tsan_glib_unused;

#endif

/* bench-graph.c: how fast resnet18's graph is laid out and painted
 *
 *   gradlens-bench-graph [--runs N]
 *
 * Builds resnet18's training step (1×3×64×64, loss = (prediction − labels).sum(),
 * backward, so every node is done and every edge carries a gradient: the most
 * paint), then times, as the median of N runs (default 20):
 *   - the snapshot of the graph (graph_model_new),
 *   - its layout by Graphviz's dot (target ≤ 30 ms),
 *   - painting it on a 1920×1080 image surface (target ≤ 8 ms): the whole graph
 *     fitted in the window, and a window at 100 % at the top and in the middle,
 *   - a frame of the grow animation (a transition in flight), at 100 %;
 * and replays the forward pass as the graph view sees it, one recorded node at a
 * time: snapshot + layout + start of the animation per step (must fit a 60 fps
 * frame, 16.7 ms, for the step not to drop one).
 */

#include <cairo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graph-layout.h"
#include "graph-paint.h"
#include "module.h"

static gboolean
observe (const Event *event,
         gpointer     user_data)
{
  return TRUE;   /* with an observer, the engine records each edge's gradient norm */
}

static gint
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

typedef struct
{
  double median, min, max;
} Stats;

static Stats
stats_of (GArray *ms)
{
  Stats s;

  g_array_sort (ms, compare_doubles);
  s.min = g_array_index (ms, double, 0);
  s.max = g_array_index (ms, double, ms->len - 1);
  s.median = ms->len % 2 ? g_array_index (ms, double, ms->len / 2)
                         : (g_array_index (ms, double, ms->len / 2 - 1)
                            + g_array_index (ms, double, ms->len / 2)) / 2;
  return s;
}

/* The machine may be shared: besides the wall clock, the CPU time of this thread
 * says what the work costs when it has a core to itself. */
static GArray *cpu_ms;

static void
report (const char *what,
        GArray     *ms,
        double      target)
{
  Stats s = stats_of (ms);
  Stats c = stats_of (cpu_ms);

  g_print ("%-42s %7.2f ms  (min %6.2f, max %6.2f; CPU %6.2f)  %3u runs", what, s.median, s.min,
           s.max, c.median, ms->len);
  if (target > 0)
    g_print ("  target ≤ %.0f ms: %s", target,
             s.median <= target ? "met" : c.median <= target ? "met in CPU time" : "MISSED");
  g_print ("\n");
  g_array_set_size (ms, 0);
  g_array_set_size (cpu_ms, 0);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static double
cpu_now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Brackets a measurement: start, then stop appends wall and CPU times. */
typedef struct
{
  double wall, cpu;
} Clock;

static Clock
clock_start (void)
{
  return (Clock) { now_ms (), cpu_now_ms () };
}

static double
clock_stop (Clock   c,
            GArray *ms)
{
  double wall = now_ms () - c.wall, cpu = cpu_now_ms () - c.cpu;

  g_array_append_val (ms, wall);
  g_array_append_val (cpu_ms, cpu);
  return wall;
}

static void
time_paint (cairo_surface_t       *surface,
            const GraphLayout     *layout,
            const GraphPaintState *state,
            const Viewport        *viewport,
            GArray                *ms)
{
  Clock c = clock_start ();
  cairo_t *cr = cairo_create (surface);

  graph_paint (cr, layout, state, viewport);
  cairo_surface_flush (surface);
  cairo_destroy (cr);
  clock_stop (c, ms);
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  const Node *x = *(Node *const *) a, *y = *(Node *const *) b;

  return x->id < y->id ? -1 : x->id > y->id;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Module) model = NULL;
  g_autoptr (Tensor) data = NULL;
  g_autoptr (Tensor) labels = NULL;
  g_autoptr (Tensor) prediction = NULL;
  g_autoptr (Tensor) diff = NULL;
  g_autoptr (Tensor) loss = NULL;
  g_autoptr (GPtrArray) nodes = NULL;
  g_autoptr (GraphModel) graph = NULL;
  g_autoptr (GraphLayout) layout = NULL;
  g_autoptr (GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));
  GraphTheme theme;
  GraphPaintState state;
  Viewport viewport;
  cairo_surface_t *surface;
  Generator gen;
  int runs = 20;
  double first_layout = 0;
  const GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs per measurement (at least 10)", "N" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("— time the graph view's layout and painting");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  runs = MAX (runs, 10);
  cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));

  /* resnet18's step, after backward. */
  model = resnet18_new (1000, 0);
  generator_init (&gen, 0);
  data = tensor_new_rand (4, (int64_t[]){ 1, 3, 64, 64 }, &gen);
  labels = tensor_new_rand (2, (int64_t[]){ 1, 1000 }, &gen);
  prediction = module_forward (model, data, &error);
  if (prediction == NULL)
    {
      g_printerr ("resnet18 forward: %s\n", error->message);
      return 1;
    }
  diff = tensor_sub (prediction, labels, &error);
  loss = tensor_sum (diff);
  nodes = autograd_collect_nodes (loss->grad_fn);
  g_ptr_array_sort (nodes, compare_ids);   /* recording order, as the stepper lists them */
  autograd_set_observer (observe, NULL);
  if (!tensor_backward (loss, NULL, FALSE, &error))
    {
      g_printerr ("backward: %s\n", error->message);
      return 1;
    }
  autograd_set_observer (NULL, NULL);

  g_print ("resnet18 step, after backward: %u grad_fn nodes\n", nodes->len);

  /* Snapshot. */
  for (int i = 0; i < runs; i++)
    {
      Clock c = clock_start ();
      GraphModel *m = graph_model_new (nodes);

      clock_stop (c, ms);
      graph_model_unref (m);
    }
  report ("snapshot (graph_model_new)", ms, 0);
  graph = graph_model_new (nodes);

  /* Layout: the first call also starts Graphviz. */
  for (int i = 0; i <= runs; i++)
    {
      Clock c = clock_start ();
      GraphLayout *l = graph_layout_new (graph, NULL, &error);

      if (l == NULL)
        {
          g_printerr ("layout: %s\n", error->message);
          return 1;
        }
      if (i == 0)
        {
          first_layout = now_ms () - c.wall;
          g_print ("layout: %d boxes, %d edges, %d clusters, %.0f × %.0f points\n", l->n_nodes,
                   l->n_edges, l->n_clusters, l->width, l->height);
        }
      else
        clock_stop (c, ms);
      graph_layout_free (l);
    }
  g_print ("%-44s %8.2f ms\n", "layout, first call (starts Graphviz)", first_layout);
  report ("layout of the full graph (dot)", ms, 30);
  layout = graph_layout_new (graph, NULL, &error);

  /* Painting at 1920×1080. */
  graph_theme_init_light (&theme);
  graph_paint_state_init (&state, &theme);
  state.selected = layout->n_nodes / 2;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1920, 1080);

  viewport_init (&viewport, 1920, 1080);
  viewport_fit (&viewport, &(GraphRect) { 0, 0, layout->width, layout->height }, 24, 1.0);
  for (int i = 0; i < runs; i++)
    time_paint (surface, layout, &state, &viewport, ms);
  {
    g_autofree char *what = g_strdup_printf ("paint 1920×1080, whole graph (zoom %.2f)",
                                             viewport.zoom);
    report (what, ms, 8);
  }

  viewport_init (&viewport, 1920, 1080);
  viewport_anchor (&viewport, 0, 0, 24, 24);
  for (int i = 0; i < runs; i++)
    time_paint (surface, layout, &state, &viewport, ms);
  report ("paint 1920×1080 at 100 %, top (legend)", ms, 8);

  viewport_center_on (&viewport, layout->width / 2, layout->height / 2);
  for (int i = 0; i < runs; i++)
    time_paint (surface, layout, &state, &viewport, ms);
  report ("paint 1920×1080 at 100 %, middle", ms, 8);

  /* One frame of the grow animation, mid-way. */
  {
    g_autoptr (GraphTransition) transition = graph_transition_new (layout, NULL, 1.0);

    state.transition = transition;
    state.progress = 0.5;
    for (int i = 0; i < runs; i++)
      time_paint (surface, layout, &state, &viewport, ms);
    report ("animation frame 1920×1080 at 100 %", ms, 8);
    state.transition = NULL;
  }
  cairo_surface_destroy (surface);

  /* The forward pass as the graph view sees it: after each recorded node, a new
   * snapshot, a new layout and the start of the animation from the old one. */
  {
    g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (double));
    GraphLayout *previous = NULL;
    GraphTransition *transition = NULL;
    int over_frame = 0, over_frame_cpu = 0;

    for (guint k = 1; k <= nodes->len; k++)
      {
        g_autoptr (GPtrArray) prefix = g_ptr_array_new ();
        GraphModel *m;
        GraphLayout *l;
        Clock c;

        for (guint i = 0; i < k; i++)
          g_ptr_array_add (prefix, nodes->pdata[i]);
        c = clock_start ();
        m = graph_model_new (prefix);
        l = graph_layout_new (m, NULL, &error);
        graph_model_unref (m);
        if (l == NULL)
          {
            g_printerr ("layout at step %u: %s\n", k, error->message);
            return 1;
          }
        g_clear_pointer (&transition, graph_transition_free);
        transition = graph_transition_new (previous, NULL, 1.0);
        over_frame += clock_stop (c, steps) > 1000.0 / 60;
        over_frame_cpu += g_array_index (cpu_ms, double, cpu_ms->len - 1) > 1000.0 / 60;
        g_clear_pointer (&previous, graph_layout_free);
        previous = l;
      }
    g_clear_pointer (&transition, graph_transition_free);
    g_clear_pointer (&previous, graph_layout_free);
    g_print ("forward pass, one step per recorded node: %d of %u steps took longer than a\n"
             "60 fps frame (16.7 ms) by the wall clock, %d in CPU time\n", over_frame, nodes->len,
             over_frame_cpu);
    report ("forward step: snapshot + layout + animation", steps, 0);
  }

  return EXIT_SUCCESS;
}

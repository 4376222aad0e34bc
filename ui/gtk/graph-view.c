/* graph-view.c: the autograd graph, live, in a widget: the graph and its layout
 * (made off the UI thread), the public API, size and GObject plumbing */

#include "graph-view-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
/* GTask passes the layout job to GLib's thread pool, and the result back, under
 * GLib's own locks, which ThreadSanitizer cannot see (GLib is not instrumented):
 * these mark the hand-offs it makes. */
#define HANDED_OVER(p) __tsan_release (p)
#define TAKEN_OVER(p) __tsan_acquire (p)
#else
#define HANDED_OVER(p) ((void) (p))
#define TAKEN_OVER(p) ((void) (p))
#endif

G_DEFINE_FINAL_TYPE (GraphView, graph_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_FOLLOW,
  PROP_SHOW_LEGEND,
  PROP_SHOW_MINIMAP,
  N_PROPS
};

enum
{
  NODE_SELECTED,
  LAYOUT_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void start_layout (GraphView *self);

/* --- Lifetimes ---------------------------------------------------------- */

/* Snapshots hold references on the engine's nodes. Dropping the last one frees a
 * node, and the engine may be using its leaf at that moment (a parameter's
 * AccumulateGrad is shared through a weak pointer): snapshots are let go of only
 * while the engine is paused, that is in graph_view_set_nodes() and
 * graph_view_refresh_state(). Until then they wait here. */
static void
retire_model (GraphView  *self,
              GraphModel *model)   /* taken */
{
  if (model != NULL)
    g_ptr_array_add (self->retired, model);
}

static void
retire_layout (GraphView   *self,
               GraphLayout *layout)   /* taken */
{
  if (layout == NULL)
    return;
  retire_model (self, graph_model_ref (layout->model));
  graph_layout_free (layout);
}

static void
release_retired (GraphView *self)
{
  g_ptr_array_set_size (self->retired, 0);
}

/* --- Helpers ------------------------------------------------------------ */

void
graph_view_invalidate_pictures (GraphView *self)
{
  g_clear_pointer (&self->graph_node, gsk_render_node_unref);
  g_clear_pointer (&self->minimap_node, gsk_render_node_unref);
  g_clear_pointer (&self->legend_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
graph_view_layout_index_of_key (GraphView *self,
                                guint64    key)
{
  if (self->layout == NULL || key == NO_KEY)
    return -1;

  return graph_layout_find_key (self->layout, key);
}

/* The box showing key: itself, or the collapsed module hiding it. */
int
graph_view_box_of_key (GraphView *self,
                       guint64    key)
{
  int i = graph_view_layout_index_of_key (self, key);
  int m;

  if (i >= 0 || self->layout == NULL || key == NO_KEY)
    return i;
  m = graph_model_find_key (self->layout->model, key);

  return graph_layout_node_for_model (self->layout, m);
}

static Node *
node_of_key (GraphView *self,
             guint64    key)
{
  GraphModel *model = self->layout != NULL ? self->layout->model : self->model;
  int m;

  if (model == NULL || key == NO_KEY)
    return NULL;
  m = graph_model_find_key (model, key);
  if (m < 0 && self->model != NULL && self->model != model)
    {
      model = self->model;
      m = graph_model_find_key (model, key);
    }

  return m >= 0 ? model->nodes[m].node : NULL;
}

/* The engine id behind key (a None slot's owner's), or NO_KEY. */
static guint64
id_of_key (GraphView *self,
           guint64    key)
{
  GraphModel *model = self->layout != NULL ? self->layout->model : self->model;
  int m;

  if (model == NULL || key == NO_KEY)
    return NO_KEY;
  m = graph_model_find_key (model, key);

  return m >= 0 ? model->nodes[m].id : NO_KEY;
}

void
graph_view_rect_of_box (GraphView *self,
                        int        box,
                        GraphRect *rect)
{
  *rect = self->layout->nodes[box].rect;
}

/* --- Layout ------------------------------------------------------------- */

typedef struct
{
  GraphModel *model;
  char **collapsed;
} LayoutJob;

static void
layout_job_free (gpointer data)
{
  LayoutJob *job = data;

  /* In whichever thread lets go of the task last. */
  TAKEN_OVER (job);
  g_clear_pointer (&job->model, graph_model_unref);   /* given to retire_model () */
  g_strfreev (job->collapsed);
  g_free (job);
}

static void
layout_in_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  LayoutJob *job = task_data;
  GraphLayoutOptions options = GRAPH_LAYOUT_OPTIONS_INIT;
  GError *error = NULL;
  GraphLayout *layout;

  TAKEN_OVER (job);
  options.collapsed = (const char *const *) job->collapsed;
  layout = graph_layout_new (job->model, &options, &error);
  HANDED_OVER (job);
  if (layout == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, layout, (GDestroyNotify) graph_layout_free);
}

/* Shares a key with the old layout: the same graph grown, not a new one. */
static gboolean
layouts_related (const GraphLayout *a,
                 const GraphLayout *b)
{
  for (int i = 0; i < b->n_nodes; i++)
    if (b->nodes[i].model_index >= 0 && graph_layout_find_key (a, b->nodes[i].key) >= 0)
      return TRUE;

  return FALSE;
}

static void
install_layout (GraphView   *self,
                GraphLayout *layout)   /* taken */
{
  GraphLayout *old = self->layout;
  gboolean related = old != NULL && old->n_nodes > 0 && layouts_related (old, layout);

  if (related && gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      /* Move from where things are now, mid-animation included. */
      GraphTransition *transition = graph_transition_new (old, self->transition,
                                                          self->transition_progress);

      g_clear_pointer (&self->transition, graph_transition_free);
      self->transition = transition;
      self->transition_start = 0;
      self->transition_progress = 0;
      graph_view_ensure_ticking (self);
    }
  else
    {
      g_clear_pointer (&self->transition, graph_transition_free);
      self->transition_progress = 1.0;
    }

  self->layout = layout;
  retire_layout (self, old);
  graph_view_invalidate_pictures (self);

  /* A fold or an opening by a click keeps that module where it was on screen.
   * A new graph is shown whole (followed instead when whole is not legible). A
   * growing one keeps the camera where the user put it, follows the newest node
   * in follow mode, and is refitted otherwise. */
  if (graph_view_keep_anchor (self))
    ;
  else if (!related)
    {
      self->user_moved = FALSE;
      graph_view_fit_now (self);
      /* Fitted whole it is not legible: follow the stepper instead. */
      if (self->follow && self->viewport.zoom < FOLLOW_MIN_ZOOM)
        graph_view_follow_running (self);
    }
  else if (self->follow)
    graph_view_follow_running (self);
  else if (!self->user_moved)
    graph_view_fit_now (self);

  g_signal_emit (self, signals[LAYOUT_CHANGED], 0);
}

static void
layout_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GraphView *self = GRAPH_VIEW (source);
  LayoutJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  GraphLayout *layout;

  TAKEN_OVER (job);
  layout = g_task_propagate_pointer (G_TASK (result), &error);
  self->layout_running = FALSE;
  retire_model (self, g_steal_pointer (&job->model));
  HANDED_OVER (job);

  if (layout == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not lay out the autograd graph: %s", error->message);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable) || self->model == NULL)
    {
      retire_layout (self, layout);
      return;
    }

  install_layout (self, layout);
  if (self->layout_again)
    {
      self->layout_again = FALSE;
      start_layout (self);
    }
}

static void
start_layout (GraphView *self)
{
  g_autoptr (GTask) task = NULL;
  LayoutJob *job;

  if (self->layout_running)
    {
      self->layout_again = TRUE;
      return;
    }
  if (self->model == NULL)
    return;

  job = g_new0 (LayoutJob, 1);
  job->model = graph_model_ref (self->model);
  job->collapsed = g_strdupv ((char **) self->collapsed->pdata);

  self->layout_running = TRUE;
  task = g_task_new (self, self->cancellable, layout_done, NULL);
  g_task_set_source_tag (task, start_layout);
  g_task_set_task_data (task, job, layout_job_free);
  HANDED_OVER (job);
  g_task_run_in_thread (task, layout_in_thread);
}

/* --- Public API --------------------------------------------------------- */

GtkWidget *
graph_view_new (void)
{
  return g_object_new (GRAPH_TYPE_VIEW, NULL);
}

void
graph_view_set_nodes (GraphView *self,
                      GPtrArray *nodes)
{
  GraphModel *old;

  g_return_if_fail (GRAPH_IS_VIEW (self));

  old = self->model;
  if (nodes == NULL || nodes->len == 0)
    {
      self->model = NULL;
      g_clear_pointer (&old, graph_model_unref);
      g_clear_pointer (&self->transition, graph_transition_free);
      retire_layout (self, g_steal_pointer (&self->layout));
      release_retired (self);
      self->selected_key = self->hovered_key = self->current_key = NO_KEY;
      self->user_moved = FALSE;
      graph_view_invalidate_pictures (self);
      g_signal_emit (self, signals[LAYOUT_CHANGED], 0);
      return;
    }

  self->model = graph_model_new (nodes);

  /* The newest node the picture has not shown yet: the op just recorded. */
  for (int i = (int) nodes->len - 1; i >= 0; i--)
    {
      Node *node = g_ptr_array_index (nodes, i);

      if (old == NULL || graph_model_find_node (old, node) < 0)
        {
          self->current_key = graph_model_key (node->id, -1);
          break;
        }
    }
  g_clear_pointer (&old, graph_model_unref);
  release_retired (self);

  start_layout (self);
}

void
graph_view_refresh_state (GraphView *self)
{
  gboolean changed = FALSE;

  g_return_if_fail (GRAPH_IS_VIEW (self));

  release_retired (self);
  if (self->model != NULL)
    changed |= graph_model_refresh_state (self->model);
  if (self->layout != NULL && self->layout->model != self->model)
    changed |= graph_model_refresh_state (self->layout->model);

  if (!changed)
    return;

  /* Backward started: the engine's RUNNING node takes over from the recorded one. */
  for (int i = 0; self->model != NULL && i < self->model->n_nodes; i++)
    if (self->model->nodes[i].state != NODE_IDLE)
      {
        self->current_key = NO_KEY;
        break;
      }

  graph_view_invalidate_pictures (self);
  graph_view_follow_running (self);
}

void
graph_view_select_key (GraphView *self,
                       guint64    key)
{
  Node *node;

  if (key == self->selected_key)
    return;

  self->selected_key = key;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  node = node_of_key (self, key);
  g_signal_emit (self, signals[NODE_SELECTED], 0, node, id_of_key (self, key));
}

gboolean
graph_view_set_selection (GraphView *self,
                          Node      *node)
{
  int m;

  g_return_val_if_fail (GRAPH_IS_VIEW (self), FALSE);

  if (node == NULL)
    {
      graph_view_select_key (self, NO_KEY);
      return TRUE;
    }
  if (self->model == NULL || (m = graph_model_find_node (self->model, node)) < 0)
    return FALSE;

  graph_view_select_key (self, self->model->nodes[m].key);
  return TRUE;
}

Node *
graph_view_get_selection (GraphView *self)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), NULL);

  return node_of_key (self, self->selected_key);
}

void
graph_view_set_current_node (GraphView *self,
                             Node      *node)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));

  self->current_key = node != NULL ? graph_model_key (node->id, -1) : NO_KEY;
  graph_view_invalidate_pictures (self);
  graph_view_follow_running (self);
}

void
graph_view_set_follow (GraphView *self,
                       gboolean   follow)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));

  follow = !!follow;
  if (follow == self->follow)
    return;
  self->follow = follow;
  graph_view_follow_running (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW]);
}

gboolean
graph_view_get_follow (GraphView *self)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), FALSE);

  return self->follow;
}

gboolean
graph_view_search (GraphView  *self,
                   const char *text)
{
  const GraphModel *model;
  int after = -1, found;

  g_return_val_if_fail (GRAPH_IS_VIEW (self), FALSE);

  if (self->layout == NULL)
    return FALSE;
  model = self->layout->model;
  if (self->selected_key != NO_KEY)
    after = graph_model_find_key (model, self->selected_key);
  found = graph_model_search (model, text, after);
  if (found < 0)
    return FALSE;

  graph_view_select_key (self, model->nodes[found].key);
  graph_view_reveal_box (self, graph_layout_node_for_model (self->layout, found), TRUE);
  return TRUE;
}

static gboolean
is_collapsed (GraphView  *self,
              const char *path)
{
  for (guint i = 0; i + 1 < self->collapsed->len; i++)
    if (g_str_equal (self->collapsed->pdata[i], path))
      return TRUE;

  return FALSE;
}

void
graph_view_set_module_collapsed (GraphView  *self,
                                 const char *path,
                                 gboolean    collapsed)
{
  g_return_if_fail (GRAPH_IS_VIEW (self));
  g_return_if_fail (path != NULL && path[0] != '\0');

  if (!!collapsed == is_collapsed (self, path))
    return;

  /* Keep the list NULL-terminated for GraphLayoutOptions. */
  g_ptr_array_remove_index (self->collapsed, self->collapsed->len - 1);
  if (collapsed)
    g_ptr_array_add (self->collapsed, g_strdup (path));
  else
    for (guint i = 0; i < self->collapsed->len; i++)
      if (g_str_equal (self->collapsed->pdata[i], path))
        {
          g_ptr_array_remove_index (self->collapsed, i);
          break;
        }
  g_ptr_array_add (self->collapsed, NULL);

  start_layout (self);
}

gboolean
graph_view_get_module_collapsed (GraphView  *self,
                                 const char *path)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), FALSE);

  return path != NULL && is_collapsed (self, path);
}

gboolean
graph_view_export (GraphView          *self,
                   const char         *path,
                   GraphExportFormat   format,
                   double              scale,
                   GError            **error)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), FALSE);

  if (self->layout == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("Cannot export “%s”: there is no graph yet"), path);
      return FALSE;
    }

  return graph_export_to_file (self->layout, NULL, format, scale, TRUE, path, error);
}

const GraphLayout *
graph_view_get_layout (GraphView *self)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), NULL);

  return self->layout;
}

const Viewport *
graph_view_get_viewport (GraphView *self)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), NULL);

  return &self->viewport;
}

gboolean
graph_view_is_layout_pending (GraphView *self)
{
  g_return_val_if_fail (GRAPH_IS_VIEW (self), FALSE);

  return self->layout_running;
}

/* --- Size ----------------------------------------------------------------- */

static void
graph_view_measure (GtkWidget      *widget,
                    GtkOrientation  orientation,
                    int             for_size,
                    int            *minimum,
                    int            *natural,
                    int            *minimum_baseline,
                    int            *natural_baseline)
{
  *minimum = 100;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 400;
}

static void
graph_view_size_allocate (GtkWidget *widget,
                          int        width,
                          int        height,
                          int        baseline)
{
  GraphView *self = GRAPH_VIEW (widget);

  viewport_set_size (&self->viewport, width, height);
  if (self->camera_animating)
    {
      viewport_set_size (&self->camera_to, width, height);
      viewport_set_size (&self->camera_from, width, height);
    }
  g_clear_pointer (&self->graph_node, gsk_render_node_unref);
  g_clear_pointer (&self->minimap_node, gsk_render_node_unref);
  if (!self->user_moved && !self->follow)
    graph_view_fit_now (self);
}

/* --- GObject ------------------------------------------------------------ */

static void
graph_view_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  GraphView *self = GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOLLOW:
      g_value_set_boolean (value, self->follow);
      break;
    case PROP_SHOW_LEGEND:
      g_value_set_boolean (value, self->show_legend);
      break;
    case PROP_SHOW_MINIMAP:
      g_value_set_boolean (value, self->show_minimap);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graph_view_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  GraphView *self = GRAPH_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOLLOW:
      graph_view_set_follow (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_LEGEND:
      if (self->show_legend != g_value_get_boolean (value))
        {
          self->show_legend = g_value_get_boolean (value);
          gtk_widget_queue_draw (GTK_WIDGET (self));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SHOW_MINIMAP:
      if (self->show_minimap != g_value_get_boolean (value))
        {
          self->show_minimap = g_value_get_boolean (value);
          gtk_widget_queue_draw (GTK_WIDGET (self));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graph_view_dispose (GObject *object)
{
  GraphView *self = GRAPH_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  g_clear_pointer (&self->transition, graph_transition_free);
  /* Let go of the graph: destroy the view while the engine is paused or done. */
  g_clear_pointer (&self->layout, graph_layout_free);
  g_clear_pointer (&self->model, graph_model_unref);
  release_retired (self);
  g_clear_pointer (&self->graph_node, gsk_render_node_unref);
  g_clear_pointer (&self->minimap_node, gsk_render_node_unref);
  g_clear_pointer (&self->legend_node, gsk_render_node_unref);

  G_OBJECT_CLASS (graph_view_parent_class)->dispose (object);
}

static void
graph_view_finalize (GObject *object)
{
  GraphView *self = GRAPH_VIEW (object);

  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->collapsed);
  g_free (self->anchor_path);
  g_ptr_array_unref (self->retired);

  G_OBJECT_CLASS (graph_view_parent_class)->finalize (object);
}

static void
graph_view_class_init (GraphViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = graph_view_get_property;
  object_class->set_property = graph_view_set_property;
  object_class->dispose = graph_view_dispose;
  object_class->finalize = graph_view_finalize;

  widget_class->snapshot = graph_view_snapshot_impl;
  widget_class->measure = graph_view_measure;
  widget_class->size_allocate = graph_view_size_allocate;

  properties[PROP_FOLLOW] =
    g_param_spec_boolean ("follow", NULL, "Keep the node being run in view", FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_LEGEND] =
    g_param_spec_boolean ("show-legend", NULL, "Show the legend in a corner", TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_MINIMAP] =
    g_param_spec_boolean ("show-minimap", NULL, "Show the whole graph in a corner", TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GraphView::node-selected:
   * @node: (nullable): the engine's node, or NULL (nothing selected, a None slot,
   *   a collapsed module)
   * @id: the node's id (a None slot's owner's; G_MAXUINT64 for no selection)
   */
  signals[NODE_SELECTED] =
    g_signal_new ("node-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_UINT64);
  /* A new layout is on screen (its animation may still run). */
  signals[LAYOUT_CHANGED] =
    g_signal_new ("layout-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);

  graph_view_input_class_init (widget_class);

  gtk_widget_class_set_css_name (widget_class, "graphview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
graph_view_init (GraphView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  self->collapsed = g_ptr_array_new_with_free_func (g_free);
  self->retired = g_ptr_array_new_with_free_func ((GDestroyNotify) graph_model_unref);
  g_ptr_array_add (self->collapsed, NULL);
  self->cancellable = g_cancellable_new ();
  self->selected_key = self->hovered_key = self->current_key = NO_KEY;
  self->transition_progress = 1.0;
  self->show_legend = TRUE;
  self->show_minimap = TRUE;
  viewport_init (&self->viewport, 1, 1);

  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_focus_on_click (widget, TRUE);
  gtk_widget_set_has_tooltip (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Autograd graph"), -1);

  graph_view_input_init (self);
}

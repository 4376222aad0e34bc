/* gradlens-window-panes.c: the panes come back when the window grows
 *
 * GtkPaned keeps a position in pixels. A window made small (1024 × 600) clamps
 * the code column to what fits; grown again, the column did not follow: the
 * paned's start child does not resize (resize-start-child is FALSE, so a wider
 * window widens the graph) and it kept the clamped width ("mo…" in the module
 * tree). So the window remembers the width the column should have, the
 * template's or the one the student dragged it to, and after each allocation
 * in which the paned could give it more room, asks for it again. A position
 * set while the window allocates is GTK's clamping, not the student's wish.
 */

#include "gradlens-window-private.h"

static void
on_side_position (GtkPaned       *paned,
                  GParamSpec     *pspec,
                  GradlensWindow *self)
{
  if (!self->allocating && !self->restoring_panes)
    self->side_width_wanted = gtk_paned_get_position (paned);
}

static gboolean
restore_panes (gpointer user_data)
{
  GradlensWindow *self = user_data;
  int position = gtk_paned_get_position (self->main_paned);
  int room = 0;

  self->panes_idle = 0;
  g_object_get (self->main_paned, "max-position", &room, NULL);
  if (position < self->side_width_wanted && room > position)
    {
      self->restoring_panes = TRUE;
      gtk_paned_set_position (self->main_paned, MIN (self->side_width_wanted, room));
      self->restoring_panes = FALSE;
    }
  return G_SOURCE_REMOVE;
}

/* GtkWidget::size_allocate: chained up from the window's. */
void
_gradlens_window_panes_allocated (GradlensWindow *self)
{
  int room = 0;

  g_object_get (self->main_paned, "max-position", &room, NULL);
  if (self->panes_idle == 0 && gtk_paned_get_position (self->main_paned) < self->side_width_wanted
      && room > gtk_paned_get_position (self->main_paned))
    self->panes_idle = g_idle_add (restore_panes, self);
}

void
_gradlens_window_panes_init (GradlensWindow *self)
{
  self->side_width_wanted = gtk_paned_get_position (self->main_paned);
  g_signal_connect (self->main_paned, "notify::position", G_CALLBACK (on_side_position), self);
}

void
_gradlens_window_panes_dispose (GradlensWindow *self)
{
  g_clear_handle_id (&self->panes_idle, g_source_remove);
}

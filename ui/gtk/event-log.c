/* event-log.c: what the stepper did, one sentence per event
 *
 * A read-only GtkTextView, not a list of wrapping labels: a resnet18 step
 * appends hundreds of sentences, and GtkListView (GTK 4.8) re-measures every
 * realized row's wrapped label whenever the window is allocated — a third of
 * the main thread's time during a step, seconds under a sanitizer. The text
 * view lays out only what it shows and appends in place; the student can also
 * select and copy a sentence.
 *
 * Each entry is one paragraph, "●\t<sentence>", the dot in its phase's colour
 * (a tag per phase) and wrapped lines hanging under the sentence. The entries'
 * sentences are kept beside the buffer (for get_text and for dropping the
 * oldest: a sentence may itself hold newlines, so each remembers its lines).
 */

#include "event-log.h"

#include <string.h>

struct _GradlensEventLog
{
  GtkWidget parent_instance;

  GtkScrolledWindow *scroller;
  GtkTextView       *text_view;

  GPtrArray *entries;             /* char *: the sentences, oldest first */
  GArray    *entry_lines;         /* guint: buffer lines of each entry */
  guint      first;               /* entries[first] is the oldest kept */
  gboolean   follow;              /* keep the newest entry in view */
  guint      scroll_id;
};

G_DEFINE_FINAL_TYPE (GradlensEventLog, gradlens_event_log, GTK_TYPE_WIDGET)

/* The phases' colours, as in style.css (.phase-banner, .phase-title). */
static const struct { const char *phase; const char *colour; } phase_colours[] = {
  { "forward",   "#3584e4" },
  { "backward",  "#e66100" },
  { "optimizer", "#2ec27e" },
  { "zero-grad", "#9141ac" },
  { "error",     "#e01b24" },
};

/* The tag of a phase's dot; "info", "done" and unknown phases get a grey one. */
static GtkTextTag *
dot_tag (GradlensEventLog *self,
         const char       *phase)
{
  GtkTextTagTable *table = gtk_text_buffer_get_tag_table (gtk_text_view_get_buffer (self->text_view));
  g_autofree char *name = g_strdup_printf ("dot-%s", phase);
  GtkTextTag *tag = gtk_text_tag_table_lookup (table, name);

  return tag != NULL ? tag : gtk_text_tag_table_lookup (table, "dot-info");
}

/* A hanging indent: the dot and a tab stop at DOT_WIDTH, and every wrapped
 * line of the sentence starts at the tab stop. */
#define DOT_WIDTH 16

static void
create_tags (GradlensEventLog *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  PangoTabArray *tabs = pango_tab_array_new_with_positions (1, TRUE, PANGO_TAB_LEFT, DOT_WIDTH);

  gtk_text_buffer_create_tag (buffer, "entry", "left-margin", 8 + DOT_WIDTH, "indent", -DOT_WIDTH,
                              "tabs", tabs, "pixels-below-lines", 3, NULL);
  pango_tab_array_free (tabs);
  for (guint i = 0; i < G_N_ELEMENTS (phase_colours); i++)
    {
      g_autofree char *name = g_strdup_printf ("dot-%s", phase_colours[i].phase);
      gtk_text_buffer_create_tag (buffer, name, "foreground", phase_colours[i].colour,
                                  "scale", 0.8, NULL);
    }
  gtk_text_buffer_create_tag (buffer, "dot-info", "foreground-rgba", &(GdkRGBA) { 0.5, 0.5, 0.5, 0.8 },
                              "scale", 0.8, NULL);
}

static gboolean
at_bottom (GradlensEventLog *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  return gtk_adjustment_get_value (adj)
         >= gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) - 8;
}

/* To the bottom, once this main-loop turn's appends (and allocation) are done. */
static gboolean
scroll_to_newest (gpointer user_data)
{
  GradlensEventLog *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->scroll_id = 0;
  /* Only when there is somewhere to go (a log shorter than its pane stays). */
  if (self->follow && gtk_widget_get_mapped (GTK_WIDGET (self))
      && gtk_adjustment_get_value (adj) < gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj))
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  return G_SOURCE_REMOVE;
}

static void
queue_scroll_to_newest (GradlensEventLog *self)
{
  if (self->scroll_id == 0 && self->follow)
    self->scroll_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, scroll_to_newest, self, NULL);
}

/* The student scrolls up to read: stop following; back at the bottom: follow. */
static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           GradlensEventLog         *self)
{
  if (dy < 0)
    self->follow = FALSE;
  return FALSE;
}

static void
on_value_changed (GtkAdjustment    *adjustment,
                  GradlensEventLog *self)
{
  if (!self->follow && at_bottom (self))
    self->follow = TRUE;
}

/* The text view measures its lines lazily: the height it estimated for lines
 * not yet shown grows once they are laid out, during its allocation. Back to
 * the bottom after it (not in it: a scrollbar moved while GTK allocates is
 * drawn unallocated). Not while the log is hidden behind another tab: a
 * scrolled window moved while unmapped leaves its scrollbars' fade half set up
 * (GTK 4.8 then disconnects handler 0 from the frame clock when it unmaps
 * them); mapping scrolls. */
static void
on_range_changed (GtkAdjustment    *adjustment,
                  GradlensEventLog *self)
{
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    queue_scroll_to_newest (self);
}

static void
gradlens_event_log_map (GtkWidget *widget)
{
  GradlensEventLog *self = GRADLENS_EVENT_LOG (widget);

  GTK_WIDGET_CLASS (gradlens_event_log_parent_class)->map (widget);
  queue_scroll_to_newest (self);
}

static void
gradlens_event_log_dispose (GObject *object)
{
  GradlensEventLog *self = GRADLENS_EVENT_LOG (object);

  g_clear_handle_id (&self->scroll_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_EVENT_LOG);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->entry_lines, g_array_unref);

  G_OBJECT_CLASS (gradlens_event_log_parent_class)->dispose (object);
}

static void
gradlens_event_log_class_init (GradlensEventLogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_event_log_dispose;
  widget_class->map = gradlens_event_log_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/event-log.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensEventLog, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensEventLog, text_view);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "eventlog");
}

static void
gradlens_event_log_init (GradlensEventLog *self)
{
  GtkEventController *scroll;
  gtk_widget_init_template (GTK_WIDGET (self));

  self->entries = g_ptr_array_new_with_free_func (g_free);
  self->entry_lines = g_array_new (FALSE, FALSE, sizeof (guint));
  create_tags (self);

  self->follow = TRUE;
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self->scroller), scroll);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller), "value-changed",
                           G_CALLBACK (on_value_changed), self, 0);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller), "changed",
                           G_CALLBACK (on_range_changed), self, 0);
}

GtkWidget *
gradlens_event_log_new (void)
{
  return g_object_new (GRADLENS_TYPE_EVENT_LOG, NULL);
}

/* Forget the oldest n entries, and their lines in the buffer. */
static void
drop_oldest (GradlensEventLog *self,
             guint             n)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, cut;
  guint lines = 0;

  for (guint i = self->first; i < self->first + n; i++)
    lines += g_array_index (self->entry_lines, guint, i);
  self->first += n;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_get_iter_at_line (buffer, &cut, (int) lines);
  gtk_text_buffer_delete (buffer, &start, &cut);

  /* Compact the arrays once the dropped entries are as many as the kept. */
  if (self->first >= self->entries->len / 2)
    {
      g_ptr_array_remove_range (self->entries, 0, self->first);
      g_array_remove_range (self->entry_lines, 0, self->first);
      self->first = 0;
    }
}

void
gradlens_event_log_append (GradlensEventLog *self,
                           const char       *phase,
                           const char       *text)
{
  GtkTextBuffer *buffer;
  GtkTextIter end;
  guint lines = 1;

  g_return_if_fail (GRADLENS_IS_EVENT_LOG (self));
  g_return_if_fail (text != NULL);

  if (gradlens_event_log_get_n_entries (self) >= GRADLENS_EVENT_LOG_LIMIT)
    drop_oldest (self, GRADLENS_EVENT_LOG_LIMIT / 10);   /* a tenth in one go */

  /* Follow the newest entry unless the student scrolled up to read. */
  queue_scroll_to_newest (self);

  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_get_end_iter (buffer, &end);
  /* Each entry ends its paragraph: the newline goes before every entry but the first. */
  if (gradlens_event_log_get_n_entries (self) > 0)
    gtk_text_buffer_insert (buffer, &end, "\n", 1);
  gtk_text_buffer_insert_with_tags (buffer, &end, "●", -1,
                                    dot_tag (self, phase != NULL ? phase : "info"),
                                    gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), "entry"),
                                    NULL);
  gtk_text_buffer_insert_with_tags_by_name (buffer, &end, "\t", -1, "entry", NULL);
  {
    const char *more = strchr (text, '\n');

    gtk_text_buffer_insert_with_tags_by_name (buffer, &end, text, more != NULL ? more - text : -1,
                                              "entry", NULL);
    /* The lines after a sentence's own newlines (a traceback's) start at the
     * tab stop too, under its first line's text. */
    if (more != NULL)
      {
        g_auto (GStrv) lines_of = g_strsplit (more, "\n", -1);
        g_autofree char *tabbed = g_strjoinv ("\n\t", lines_of);

        gtk_text_buffer_insert_with_tags_by_name (buffer, &end, tabbed, -1, "entry", NULL);
      }
    for (const char *p = more; p != NULL; p = strchr (p + 1, '\n'))
      lines++;
  }

  g_ptr_array_add (self->entries, g_strdup (text));
  g_array_append_val (self->entry_lines, lines);
}

void
gradlens_event_log_clear (GradlensEventLog *self)
{
  g_return_if_fail (GRADLENS_IS_EVENT_LOG (self));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), "", 0);
  g_ptr_array_set_size (self->entries, 0);
  g_array_set_size (self->entry_lines, 0);
  self->first = 0;
  self->follow = TRUE;
}

guint
gradlens_event_log_get_n_entries (GradlensEventLog *self)
{
  g_return_val_if_fail (GRADLENS_IS_EVENT_LOG (self), 0);

  return self->entries->len - self->first;
}

const char *
gradlens_event_log_get_text (GradlensEventLog *self,
                             guint             i)
{
  g_return_val_if_fail (GRADLENS_IS_EVENT_LOG (self), NULL);

  if (i >= gradlens_event_log_get_n_entries (self))
    return NULL;
  return g_ptr_array_index (self->entries, self->first + i);
}

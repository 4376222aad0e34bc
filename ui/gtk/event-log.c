/* event-log.c: what the stepper did, one sentence per event */

#include "event-log.h"

#include <string.h>

/* Each entry is one GtkStringObject: "<phase>\x1f<sentence>". */
#define SEP '\x1f'

struct _GradlensEventLog
{
  GtkWidget parent_instance;

  GtkScrolledWindow *scroller;
  GtkListView       *list_view;

  GtkStringList *entries;
  gboolean       follow;          /* keep the newest entry in view */
  guint          scroll_id;
};

G_DEFINE_FINAL_TYPE (GradlensEventLog, gradlens_event_log, GTK_TYPE_WIDGET)

static const char *
entry_text (const char *entry)
{
  const char *sep = entry != NULL ? strchr (entry, SEP) : NULL;

  return sep != NULL ? sep + 1 : entry;
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *dot = gtk_label_new ("●");
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_add_css_class (dot, "event-dot");
  gtk_widget_set_valign (dot, GTK_ALIGN_START);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), dot);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_item_set_child (item, box);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *dot = gtk_widget_get_first_child (box);
  GtkWidget *label = gtk_widget_get_next_sibling (dot);
  const char *entry = gtk_string_object_get_string (gtk_list_item_get_item (item));
  const char *sep = strchr (entry, SEP);
  g_autofree char *phase = sep != NULL ? g_strndup (entry, sep - entry) : g_strdup ("info");
  const char *classes[] = { "event-dot", NULL, NULL };
  g_autofree char *phase_class = g_strdup_printf ("phase-%s", phase);

  classes[1] = phase_class;
  gtk_widget_set_css_classes (dot, classes);
  gtk_label_set_text (GTK_LABEL (label), entry_text (entry));
}

static gboolean
at_bottom (GradlensEventLog *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  return gtk_adjustment_get_value (adj)
         >= gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) - 8;
}

/* GtkListView keeps its anchor row in place as rows come: scroll to the
 * newest one ourselves, once the appends of this main-loop turn are done. */
static gboolean
scroll_to_newest (gpointer user_data)
{
  GradlensEventLog *self = user_data;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->entries));

  self->scroll_id = 0;
  if (n > 0 && self->follow)
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", n - 1);
  return G_SOURCE_REMOVE;
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

static void
gradlens_event_log_dispose (GObject *object)
{
  GradlensEventLog *self = GRADLENS_EVENT_LOG (object);

  g_clear_handle_id (&self->scroll_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_EVENT_LOG);
  g_clear_object (&self->entries);

  G_OBJECT_CLASS (gradlens_event_log_parent_class)->dispose (object);
}

static void
gradlens_event_log_class_init (GradlensEventLogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_event_log_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/event-log.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensEventLog, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensEventLog, list_view);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "eventlog");
}

static void
gradlens_event_log_init (GradlensEventLog *self)
{
  GtkListItemFactory *factory;
  GtkEventController *scroll;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->entries = gtk_string_list_new (NULL);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->list_view,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (
                             G_LIST_MODEL (g_object_ref (self->entries)))));

  self->follow = TRUE;
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self->scroller), scroll);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller), "value-changed",
                           G_CALLBACK (on_value_changed), self, 0);

}

GtkWidget *
gradlens_event_log_new (void)
{
  return g_object_new (GRADLENS_TYPE_EVENT_LOG, NULL);
}

void
gradlens_event_log_append (GradlensEventLog *self,
                           const char       *phase,
                           const char       *text)
{
  g_autofree char *entry = NULL;
  guint n;

  g_return_if_fail (GRADLENS_IS_EVENT_LOG (self));
  g_return_if_fail (text != NULL);

  /* Follow the newest entry unless the student scrolled up to read. */
  if (self->scroll_id == 0 && self->follow)
    self->scroll_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, scroll_to_newest, self, NULL);
  entry = g_strdup_printf ("%s%c%s", phase != NULL ? phase : "info", SEP, text);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->entries));
  if (n >= GRADLENS_EVENT_LOG_LIMIT)
    {
      /* Drop the oldest tenth in one go: one items-changed, not one per entry. */
      guint drop = GRADLENS_EVENT_LOG_LIMIT / 10;
      gtk_string_list_splice (self->entries, 0, drop, NULL);
    }
  gtk_string_list_append (self->entries, entry);
}

void
gradlens_event_log_clear (GradlensEventLog *self)
{
  g_return_if_fail (GRADLENS_IS_EVENT_LOG (self));

  gtk_string_list_splice (self->entries, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->entries)), NULL);
  self->follow = TRUE;
}

guint
gradlens_event_log_get_n_entries (GradlensEventLog *self)
{
  g_return_val_if_fail (GRADLENS_IS_EVENT_LOG (self), 0);

  return g_list_model_get_n_items (G_LIST_MODEL (self->entries));
}

const char *
gradlens_event_log_get_text (GradlensEventLog *self,
                             guint             i)
{
  g_return_val_if_fail (GRADLENS_IS_EVENT_LOG (self), NULL);

  return entry_text (gtk_string_list_get_string (self->entries, i));
}

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

static void
on_adjustment_changed (GtkAdjustment    *adjustment,
                       GradlensEventLog *self)
{
  /* The content grew (or shrank): stay at the bottom if we were there. */
  if (self->follow)
    gtk_adjustment_set_value (adjustment,
                              gtk_adjustment_get_upper (adjustment)
                              - gtk_adjustment_get_page_size (adjustment));
}

static void
on_value_changed (GtkAdjustment    *adjustment,
                  GradlensEventLog *self)
{
  double bottom = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment);

  self->follow = gtk_adjustment_get_value (adjustment) >= bottom - 4;
}

static void
gradlens_event_log_dispose (GObject *object)
{
  GradlensEventLog *self = GRADLENS_EVENT_LOG (object);

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
  GtkAdjustment *vadj;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->entries = gtk_string_list_new (NULL);
  self->follow = TRUE;

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->list_view,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (
                             G_LIST_MODEL (g_object_ref (self->entries)))));

  vadj = gtk_scrolled_window_get_vadjustment (self->scroller);
  g_signal_connect_object (vadj, "changed", G_CALLBACK (on_adjustment_changed), self, 0);
  g_signal_connect_object (vadj, "value-changed", G_CALLBACK (on_value_changed), self, 0);
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

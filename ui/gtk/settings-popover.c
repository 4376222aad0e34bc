/* settings-popover.c: the lesson settings, edited in a popover */

#include "settings-popover.h"

#include <math.h>

struct _GradlensSettingsPopover
{
  GtkPopover parent_instance;

  GtkDropDown    *size_dropdown;
  GtkSpinButton  *seed_spin;
  GtkSpinButton  *lr_spin;
  GtkSpinButton  *momentum_spin;
  GtkSpinButton  *steps_spin;
  GtkCheckButton *zero_grad_check;
  GtkButton      *apply_button;
};

G_DEFINE_FINAL_TYPE (GradlensSettingsPopover, gradlens_settings_popover, GTK_TYPE_POPOVER)

enum {
  SIGNAL_APPLY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_apply_clicked (GtkButton               *button,
                  GradlensSettingsPopover *self)
{
  /* Take a half-typed number too. */
  gtk_spin_button_update (self->seed_spin);
  gtk_spin_button_update (self->lr_spin);
  gtk_spin_button_update (self->momentum_spin);
  gtk_spin_button_update (self->steps_spin);
  gtk_popover_popdown (GTK_POPOVER (self));
  g_signal_emit (self, signals[SIGNAL_APPLY], 0);
}

static void
gradlens_settings_popover_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), GRADLENS_TYPE_SETTINGS_POPOVER);

  G_OBJECT_CLASS (gradlens_settings_popover_parent_class)->dispose (object);
}

static void
gradlens_settings_popover_class_init (GradlensSettingsPopoverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_settings_popover_dispose;

  /**
   * GradlensSettingsPopover::apply:
   *
   * The student asked to restart the lesson with the settings shown.
   */
  signals[SIGNAL_APPLY] = g_signal_new ("apply", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/io/github/gradlens/GradLens/ui/settings-popover.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, size_dropdown);
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, lr_spin);
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, momentum_spin);
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, steps_spin);
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, zero_grad_check);
  gtk_widget_class_bind_template_child (widget_class, GradlensSettingsPopover, apply_button);
}

static void
gradlens_settings_popover_init (GradlensSettingsPopover *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->apply_button, "clicked", G_CALLBACK (on_apply_clicked), self);
}

GtkWidget *
gradlens_settings_popover_new (void)
{
  return g_object_new (GRADLENS_TYPE_SETTINGS_POPOVER, NULL);
}

void
gradlens_settings_popover_set (GradlensSettingsPopover *self,
                               const GradlensSettings  *s)
{
  g_return_if_fail (GRADLENS_IS_SETTINGS_POPOVER (self));
  g_return_if_fail (s != NULL);

  gtk_drop_down_set_selected (self->size_dropdown, s->input_size == 224 ? 1 : 0);
  gtk_spin_button_set_value (self->seed_spin, (double) s->seed);
  gtk_spin_button_set_value (self->lr_spin, s->lr);
  gtk_spin_button_set_value (self->momentum_spin, s->momentum);
  gtk_spin_button_set_value (self->steps_spin, s->steps);
  gtk_check_button_set_active (self->zero_grad_check, s->zero_grad);
}

void
gradlens_settings_popover_get (GradlensSettingsPopover *self,
                               GradlensSettings        *s)
{
  g_return_if_fail (GRADLENS_IS_SETTINGS_POPOVER (self));
  g_return_if_fail (s != NULL);

  s->input_size = gtk_drop_down_get_selected (self->size_dropdown) == 1 ? 224 : 64;
  s->seed = (guint64) llround (gtk_spin_button_get_value (self->seed_spin));
  s->lr = gtk_spin_button_get_value (self->lr_spin);
  s->momentum = gtk_spin_button_get_value (self->momentum_spin);
  s->steps = gtk_spin_button_get_value_as_int (self->steps_spin);
  s->zero_grad = gtk_check_button_get_active (self->zero_grad_check);
}

/* loss-plot.c: the loss after each optimizer step, drawn live */

#include "loss-plot.h"
#include "plot-paint.h"
#include "theme.h"

#include <glib/gi18n.h>

struct _GradlensLossPlot
{
  GtkWidget parent_instance;

  GArray *values;   /* of double */
};

G_DEFINE_FINAL_TYPE (GradlensLossPlot, gradlens_loss_plot, GTK_TYPE_WIDGET)

static void
gradlens_loss_plot_snapshot (GtkWidget   *widget,
                             GtkSnapshot *snapshot)
{
  GradlensLossPlot *self = GRADLENS_LOSS_PLOT (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  PlotColors colors;
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;

  theme_plot_colors (widget, &colors);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  loss_plot_paint (cr, &colors, (const double *) self->values->data, self->values->len,
                   width, height);
  cairo_destroy (cr);
}

static void
gradlens_loss_plot_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = 160, *natural = 360;
  else
    *minimum = 90, *natural = 160;
}

static void
gradlens_loss_plot_css_changed (GtkWidget         *widget,
                                GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (gradlens_loss_plot_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);   /* light/dark switch: new colours */
}

static void
gradlens_loss_plot_finalize (GObject *object)
{
  GradlensLossPlot *self = GRADLENS_LOSS_PLOT (object);

  g_clear_pointer (&self->values, g_array_unref);

  G_OBJECT_CLASS (gradlens_loss_plot_parent_class)->finalize (object);
}

static void
gradlens_loss_plot_class_init (GradlensLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = gradlens_loss_plot_finalize;
  widget_class->snapshot = gradlens_loss_plot_snapshot;
  widget_class->measure = gradlens_loss_plot_measure;
  widget_class->css_changed = gradlens_loss_plot_css_changed;

  gtk_widget_class_set_css_name (widget_class, "lossplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
update_accessible (GradlensLossPlot *self)
{
  g_autofree char *text = NULL;

  if (self->values->len == 0)
    text = g_strdup (_("Loss plot: no steps yet"));
  else
    text = g_strdup_printf (ngettext ("Loss plot: %u step, last loss %g",
                                      "Loss plot: %u steps, last loss %g", self->values->len),
                            self->values->len,
                            g_array_index (self->values, double, self->values->len - 1));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), text);
}

static void
gradlens_loss_plot_init (GradlensLossPlot *self)
{
  self->values = g_array_new (FALSE, FALSE, sizeof (double));
  update_accessible (self);
}

GtkWidget *
gradlens_loss_plot_new (void)
{
  return g_object_new (GRADLENS_TYPE_LOSS_PLOT, NULL);
}

void
gradlens_loss_plot_append (GradlensLossPlot *self,
                           double            loss)
{
  g_return_if_fail (GRADLENS_IS_LOSS_PLOT (self));

  g_array_append_val (self->values, loss);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gradlens_loss_plot_clear (GradlensLossPlot *self)
{
  g_return_if_fail (GRADLENS_IS_LOSS_PLOT (self));

  g_array_set_size (self->values, 0);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
gradlens_loss_plot_get_n_values (GradlensLossPlot *self)
{
  g_return_val_if_fail (GRADLENS_IS_LOSS_PLOT (self), 0);

  return self->values->len;
}

const double *
gradlens_loss_plot_get_values (GradlensLossPlot *self,
                               guint            *n)
{
  g_return_val_if_fail (GRADLENS_IS_LOSS_PLOT (self), NULL);

  if (n != NULL)
    *n = self->values->len;
  return (const double *) self->values->data;
}

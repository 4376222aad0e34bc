/* loss-plot.h: the loss after each optimizer step, drawn live
 *
 * The window appends the lesson's loss whenever a step completes; the plot
 * keeps the numbers it was given (it never reads the engine) and repaints
 * with plot-paint.h's loss_plot_paint. A NaN or Inf shows as "diverged".
 *
 *   GtkWidget *plot = gradlens_loss_plot_new ();
 *   gradlens_loss_plot_append (GRADLENS_LOSS_PLOT (plot), 2731.4);
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADLENS_TYPE_LOSS_PLOT (gradlens_loss_plot_get_type ())

G_DECLARE_FINAL_TYPE (GradlensLossPlot, gradlens_loss_plot, GRADLENS, LOSS_PLOT, GtkWidget)

GtkWidget    *gradlens_loss_plot_new        (void);
void          gradlens_loss_plot_append     (GradlensLossPlot *self, double loss);
void          gradlens_loss_plot_clear      (GradlensLossPlot *self);
guint         gradlens_loss_plot_get_n_values (GradlensLossPlot *self);
/* The values appended so far, oldest first (n of them). */
const double *gradlens_loss_plot_get_values (GradlensLossPlot *self, guint *n);

G_END_DECLS

/* layer-chart.h: gradient norm and update ratio, layer by layer
 *
 * Two bar charts on log scales, one group per layer of the model (conv1,
 * bn1, layer1.0 … layer4.1, fc): ‖grad‖ over the group's parameters, and the
 * last SGD step's ‖Δw‖/‖w‖, so a student sees where gradients vanish and
 * which layers a step really moves. Frozen groups are greyed.
 *
 * The numbers are computed when the window updates the chart (while the
 * stepper is paused) and kept; painting never reads the engine.
 *
 *   gradlens_layer_chart_update (chart, params, sgd);   // ModuleTensor *, Sgd or NULL
 */
#pragma once

#include <gtk/gtk.h>

#include "sgd.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_LAYER_CHART (gradlens_layer_chart_get_type ())

G_DECLARE_FINAL_TYPE (GradlensLayerChart, gradlens_layer_chart, GRADLENS, LAYER_CHART, GtkWidget)

GtkWidget  *gradlens_layer_chart_new        (void);
/* params: GPtrArray of ModuleTensor * (module_named_parameters), or NULL to clear;
 * sgd: the lesson's optimizer, or NULL before it exists. */
void        gradlens_layer_chart_update     (GradlensLayerChart *self,
                                             GPtrArray          *params,
                                             const Sgd          *sgd);
guint       gradlens_layer_chart_get_n_groups (GradlensLayerChart *self);
/* For tests and tooltips: the group's label, ‖grad‖ and ‖Δw‖/‖w‖ (0 if none). */
const char *gradlens_layer_chart_get_group  (GradlensLayerChart *self, guint i,
                                             double *grad_norm, double *update_ratio,
                                             gboolean *frozen);

/* The group a parameter belongs to: "layer2.1.conv1.weight" → "layer2.1",
 * "conv1.weight" → "conv1". Free with g_free. */
char       *gradlens_layer_group_name       (const char *param_name);

/* ‖Δw‖ / ‖w before the step‖ for one SGD update (0 when there was none). */
double      gradlens_update_ratio           (const Tensor *param, const Tensor *last_update);
/* layer_chart_divergence () of the groups shown: plain words, or NULL. */
char       *gradlens_layer_chart_dup_divergence (GradlensLayerChart *self);

/* The optimizer's entry for param (by identity; sgd_find goes by name), or
 * NULL: not one of its parameters, or sgd NULL. */
const SgdParam *gradlens_sgd_param_of      (const Sgd *sgd, const Tensor *param);

G_END_DECLS

/* layer-chart.c: gradient norm and update ratio, layer by layer */

#include "layer-chart.h"
#include "plot-paint.h"
#include "theme.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

typedef struct
{
  char *label;
  double grad_sq;       /* Σ grad² over the group */
  double update_sq;     /* Σ Δw² */
  double before_sq;     /* Σ (w − Δw)² of the updated parameters */
  gboolean any_grad, any_update, any_trainable;
} Group;

struct _GradlensLayerChart
{
  GtkWidget parent_instance;

  GArray *groups;       /* of Group */
};

G_DEFINE_FINAL_TYPE (GradlensLayerChart, gradlens_layer_chart, GTK_TYPE_WIDGET)

static void
group_clear (gpointer data)
{
  Group *g = data;

  g_clear_pointer (&g->label, g_free);
}

char *
gradlens_layer_group_name (const char *param_name)
{
  g_auto (GStrv) parts = NULL;

  g_return_val_if_fail (param_name != NULL, NULL);

  parts = g_strsplit (param_name, ".", -1);
  /* layerN.M.…: the BasicBlock is the layer a student thinks of. */
  if (g_str_has_prefix (param_name, "layer") && parts[0] && parts[1] && parts[2])
    return g_strdup_printf ("%s.%s", parts[0], parts[1]);
  if (parts[0] != NULL && parts[1] != NULL)
    return g_strdup (parts[0]);
  return g_strdup (param_name);
}

static double
sum_sq (const Tensor *t)
{
  double s = 0;

  for (int64_t i = 0; i < t->numel; i++)
    s += (double) t->data[i] * t->data[i];
  return s;
}

static double
sum_sq_before (const Tensor *param,
               const Tensor *update)
{
  double s = 0;

  for (int64_t i = 0; i < param->numel && i < update->numel; i++)
    {
      double w = (double) param->data[i] - update->data[i];
      s += w * w;
    }
  return s;
}

double
gradlens_update_ratio (const Tensor *param,
                       const Tensor *last_update)
{
  double before;

  if (param == NULL || last_update == NULL)
    return 0;
  before = sum_sq_before (param, last_update);
  return before > 0 ? sqrt (sum_sq (last_update) / before) : 0;
}

const SgdParam *
gradlens_sgd_param_of (const Sgd    *sgd,
                       const Tensor *param)
{
  if (sgd == NULL || sgd->params == NULL)
    return NULL;
  for (guint i = 0; i < sgd->params->len; i++)
    {
      const SgdParam *p = &g_array_index (sgd->params, SgdParam, i);
      if (p->param == param)
        return p;
    }
  return NULL;
}

void
gradlens_layer_chart_update (GradlensLayerChart *self,
                             GPtrArray          *params,
                             const Sgd          *sgd)
{
  g_return_if_fail (GRADLENS_IS_LAYER_CHART (self));

  g_array_set_size (self->groups, 0);

  for (guint i = 0; params != NULL && i < params->len; i++)
    {
      const ModuleTensor *mt = g_ptr_array_index (params, i);
      const Tensor *t = mt->tensor;
      const SgdParam *sp;
      g_autofree char *label = NULL;
      Group *g = NULL;

      if (mt->is_buffer || t == NULL)
        continue;

      label = gradlens_layer_group_name (mt->name);
      if (self->groups->len > 0)
        {
          Group *last = &g_array_index (self->groups, Group, self->groups->len - 1);
          if (g_strcmp0 (last->label, label) == 0)
            g = last;
        }
      if (g == NULL)
        {
          Group fresh = { .label = g_steal_pointer (&label) };
          g_array_append_val (self->groups, fresh);
          g = &g_array_index (self->groups, Group, self->groups->len - 1);
        }

      if (t->requires_grad)
        g->any_trainable = TRUE;
      if (t->grad != NULL)
        {
          g->grad_sq += sum_sq (t->grad);
          g->any_grad = TRUE;
        }
      sp = gradlens_sgd_param_of (sgd, t);
      if (sp != NULL && sp->last_update != NULL)
        {
          g->update_sq += sum_sq (sp->last_update);
          g->before_sq += sum_sq_before (t, sp->last_update);
          g->any_update = TRUE;
        }
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
gradlens_layer_chart_get_n_groups (GradlensLayerChart *self)
{
  g_return_val_if_fail (GRADLENS_IS_LAYER_CHART (self), 0);

  return self->groups->len;
}

static void
group_values (const Group *g,
              double      *grad_norm,
              double      *update_ratio)
{
  *grad_norm = g->any_grad ? sqrt (g->grad_sq) : 0;
  *update_ratio = g->any_update && g->before_sq > 0 ? sqrt (g->update_sq / g->before_sq) : 0;
}

const char *
gradlens_layer_chart_get_group (GradlensLayerChart *self,
                                guint               i,
                                double             *grad_norm,
                                double             *update_ratio,
                                gboolean           *frozen)
{
  const Group *g;
  double gn, ur;

  g_return_val_if_fail (GRADLENS_IS_LAYER_CHART (self), NULL);
  g_return_val_if_fail (i < self->groups->len, NULL);

  g = &g_array_index (self->groups, Group, i);
  group_values (g, &gn, &ur);
  if (grad_norm)
    *grad_norm = gn;
  if (update_ratio)
    *update_ratio = ur;
  if (frozen)
    *frozen = !g->any_trainable;
  return g->label;
}

/* The groups as the painter takes them; labels borrowed from the groups. */
static LayerBar *
new_bars (GradlensLayerChart *self)
{
  LayerBar *bars = g_new0 (LayerBar, MAX (self->groups->len, 1));

  for (guint i = 0; i < self->groups->len; i++)
    {
      const Group *g = &g_array_index (self->groups, Group, i);
      bars[i].label = g->label;
      bars[i].frozen = !g->any_trainable;
      group_values (g, &bars[i].grad_norm, &bars[i].update_ratio);
    }
  return bars;
}

char *
gradlens_layer_chart_dup_divergence (GradlensLayerChart *self)
{
  g_autofree LayerBar *bars = NULL;

  g_return_val_if_fail (GRADLENS_IS_LAYER_CHART (self), NULL);

  bars = new_bars (self);
  return layer_chart_divergence (bars, self->groups->len);
}

static void
gradlens_layer_chart_snapshot (GtkWidget   *widget,
                               GtkSnapshot *snapshot)
{
  GradlensLayerChart *self = GRADLENS_LAYER_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autofree LayerBar *bars = NULL;
  PlotColors colors;
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;

  bars = new_bars (self);

  theme_plot_colors (widget, &colors);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  layer_chart_paint (cr, &colors, bars, self->groups->len, width, height);
  cairo_destroy (cr);
}

static void
gradlens_layer_chart_measure (GtkWidget      *widget,
                              GtkOrientation  orientation,
                              int             for_size,
                              int            *minimum,
                              int            *natural,
                              int            *minimum_baseline,
                              int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = 200, *natural = 420;
  else
    *minimum = 120, *natural = 200;
}

static void
gradlens_layer_chart_css_changed (GtkWidget         *widget,
                                  GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (gradlens_layer_chart_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);
}

static gboolean
gradlens_layer_chart_query_tooltip (GtkWidget  *widget,
                                    int         x,
                                    int         y,
                                    gboolean    keyboard,
                                    GtkTooltip *tooltip)
{
  GradlensLayerChart *self = GRADLENS_LAYER_CHART (widget);
  const double left = 52, right = 8;   /* as layer_chart_paint */
  double slot;
  int i;
  double gn, ur;
  gboolean frozen;
  const char *label;
  g_autofree char *gn_text = NULL;
  g_autofree char *ur_text = NULL;
  g_autofree char *text = NULL;

  if (self->groups->len == 0)
    return FALSE;
  slot = (gtk_widget_get_width (widget) - left - right) / self->groups->len;
  i = (int) floor ((x - left) / slot);
  if (slot <= 0 || i < 0 || i >= (int) self->groups->len)
    return FALSE;

  label = gradlens_layer_chart_get_group (self, i, &gn, &ur, &frozen);
  gn_text = gn > 0 ? g_strdup_printf ("%.4g", gn) : g_strdup ("None");
  ur_text = ur > 0 ? g_strdup_printf ("%.3g", ur) : g_strdup (_("no step yet"));
  text = g_markup_printf_escaped ("<b>%s</b>%s\n‖grad‖ = %s\n‖Δw‖/‖w‖ = %s", label,
                                  frozen ? _(" (frozen)") : "", gn_text, ur_text);
  gtk_tooltip_set_markup (tooltip, text);
  return TRUE;
}

static void
gradlens_layer_chart_finalize (GObject *object)
{
  GradlensLayerChart *self = GRADLENS_LAYER_CHART (object);

  g_clear_pointer (&self->groups, g_array_unref);

  G_OBJECT_CLASS (gradlens_layer_chart_parent_class)->finalize (object);
}

static void
gradlens_layer_chart_class_init (GradlensLayerChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = gradlens_layer_chart_finalize;
  widget_class->snapshot = gradlens_layer_chart_snapshot;
  widget_class->measure = gradlens_layer_chart_measure;
  widget_class->css_changed = gradlens_layer_chart_css_changed;
  widget_class->query_tooltip = gradlens_layer_chart_query_tooltip;

  gtk_widget_class_set_css_name (widget_class, "layerchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
gradlens_layer_chart_init (GradlensLayerChart *self)
{
  self->groups = g_array_new (FALSE, TRUE, sizeof (Group));
  g_array_set_clear_func (self->groups, group_clear);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
}

GtkWidget *
gradlens_layer_chart_new (void)
{
  return g_object_new (GRADLENS_TYPE_LAYER_CHART, NULL);
}

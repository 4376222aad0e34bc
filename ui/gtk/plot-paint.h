/* plot-paint.h: the charts' pictures, as pure functions of their data
 *
 * Every plot GradLens draws outside the graph: the loss over steps, the
 * per-layer bars of gradient norm and update ratio, a tensor's histogram, a
 * 2-D slice as a heat map and conv1's filters as little RGB images. Each takes
 * a cairo context and the numbers (already copied out of the engine), so the
 * widgets call them from their snapshot and the tests call them on an image
 * surface. No GTK here.
 *
 *   PlotColors colors = { .fg = { 0, 0, 0, 1 }, .bg = { 1, 1, 1, 1 }, ... };
 *   Histogram h;
 *   histogram_compute (&h, t->data, t->numel, 40);
 *   histogram_paint (cr, &h, &colors, 300, 120);
 *   histogram_clear (&h);
 */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  double r, g, b, a;
} PlotColor;

typedef struct
{
  PlotColor fg;        /* text, axes */
  PlotColor bg;        /* behind the plot (the widget's own background if a = 0) */
  PlotColor accent;    /* the data: the loss line, histogram bars, grad-norm bars */
  PlotColor second;    /* the second series: update ratio */
  PlotColor warning;   /* NaN/Inf markers, divergence */
} PlotColors;

/* Light-theme defaults; widgets overwrite fg/bg with the theme's colours. */
void plot_colors_init_default (PlotColors *colors, bool dark);

/* --- Loss over steps ----------------------------------------------------
 * values[i] is the loss the program printed at `step i` (its numbering, from
 * 0); NaN/Inf are drawn as warning marks on the top edge ("diverged"). Linear
 * y axis with "nice" ticks. */
void loss_plot_paint (cairo_t *cr, const PlotColors *colors,
                      const double *values, int n_values,
                      double width, double height);
/* The top-right caption: "step 2: loss -121". */
char *loss_plot_caption (const double *values, int n_values);
/* Plain words when the loss runs away, or NULL: a NaN or Inf, or a loss that
 * rose at each of the last three steps, by ten times its size at step 0. */
char *loss_plot_divergence (const double *values, int n_values);

/* --- Per-layer bars -----------------------------------------------------
 * Two log-scale series per group: ‖grad‖ and ‖Δw‖/‖w‖. A value ≤ 0 or NaN is
 * "none" (no bar); frozen groups are drawn greyed with "frozen". */
typedef struct
{
  const char *label;   /* "layer1.0" */
  double grad_norm;    /* ‖.grad‖ over the group's parameters, 0 if all None */
  double update_ratio; /* ‖Δw‖/‖w‖ of the last SGD step, 0 if none */
  bool frozen;
} LayerBar;

void layer_chart_paint (cairo_t *cr, const PlotColors *colors,
                        const LayerBar *bars, int n_bars,
                        double width, double height);
/* Plain words when a step moved some group's weights by more than their own
 * size (‖Δw‖/‖w‖ > 1: SGD is diverging), naming the worst; NULL otherwise. */
char *layer_chart_divergence (const LayerBar *bars, int n_bars);

/* --- Histogram of a tensor's values ------------------------------------- */
typedef struct
{
  int n_bins;
  double lo, hi;       /* the finite values' range */
  int64_t *counts;     /* (n_bins) */
  int64_t max_count;
  int64_t n_values, n_nonfinite;
} Histogram;

void histogram_compute (Histogram *hist, const float *data, int64_t n, int n_bins);
void histogram_clear   (Histogram *hist);
void histogram_paint   (cairo_t *cr, const Histogram *hist, const PlotColors *colors,
                        double width, double height);

/* --- A 2-D slice as a heat map ------------------------------------------
 * Diverging colours around 0 (blue negative, red positive), scaled by the
 * largest |value|; each element is one pixel of the returned RGB24 surface,
 * to be painted scaled up with a nearest filter. */
cairo_surface_t *heatmap_surface_new (const float *data, int rows, int cols,
                                      float *abs_max);
/* Paints the surface centred in width × height, square cells, with a colour
 * bar and ±abs_max beside it. */
void heatmap_paint (cairo_t *cr, cairo_surface_t *surface, float abs_max,
                    const PlotColors *colors, double width, double height);

/* --- Convolution filters as images --------------------------------------
 * weight (n, 3, kh, kw): each filter min–max normalised to [0, 1] on its own
 * and drawn as an RGB image of kh × kw pixels, in a grid of `cols` columns with
 * a one-pixel gap. Returns the RGB24 surface; NULL unless c == 3. */
cairo_surface_t *filters_surface_new (const float *weight, int n, int c, int kh, int kw,
                                      int cols);
void filters_paint (cairo_t *cr, cairo_surface_t *surface, double width, double height);

/* "1.23e-04", "0.0123", "12.3", "1,234": compact numbers for axes and labels. */
char *plot_format_value (double v);

G_END_DECLS

/* plot-paint.c: the charts' pictures, as pure functions of their data */

#include "plot-paint.h"

#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#define FONT "Sans 8"

void
plot_colors_init_default (PlotColors *colors,
                          bool        dark)
{
  g_return_if_fail (colors != NULL);

  if (dark)
    {
      colors->fg = (PlotColor) { 0.93, 0.93, 0.93, 1 };
      colors->bg = (PlotColor) { 0.14, 0.14, 0.14, 1 };
      colors->accent = (PlotColor) { 0.38, 0.63, 0.98, 1 };
      colors->second = (PlotColor) { 0.98, 0.62, 0.24, 1 };
      colors->warning = (PlotColor) { 0.96, 0.38, 0.32, 1 };
    }
  else
    {
      colors->fg = (PlotColor) { 0.15, 0.15, 0.15, 1 };
      colors->bg = (PlotColor) { 1, 1, 1, 1 };
      colors->accent = (PlotColor) { 0.11, 0.44, 0.85, 1 };
      colors->second = (PlotColor) { 0.90, 0.38, 0.0, 1 };
      colors->warning = (PlotColor) { 0.82, 0.11, 0.16, 1 };
    }
}

static void
set_color (cairo_t         *cr,
           const PlotColor *c,
           double           alpha)
{
  cairo_set_source_rgba (cr, c->r, c->g, c->b, c->a * alpha);
}

char *
plot_format_value (double v)
{
  double a = fabs (v);

  if (isnan (v))
    return g_strdup ("nan");
  if (isinf (v))
    return g_strdup (v > 0 ? "inf" : "-inf");
  if (v == 0)
    return g_strdup ("0");
  if (a >= 1e5 || a < 1e-3)
    return g_strdup_printf ("%.2e", v);
  if (a >= 100)
    return g_strdup_printf ("%.0f", v);
  return g_strdup_printf ("%.3g", v);
}

/* Text at (x, y); xalign/yalign 0 = left/top, 0.5 = centre, 1 = right/bottom. */
static void
draw_text (cairo_t         *cr,
           const PlotColor *color,
           double           alpha,
           const char      *text,
           double           x,
           double           y,
           double           xalign,
           double           yalign)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string (FONT);
  int w, h;

  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  set_color (cr, color, alpha);
  cairo_move_to (cr, x - xalign * w, y - yalign * h);
  pango_cairo_show_layout (cr, layout);

  pango_font_description_free (font);
  g_object_unref (layout);
}

/* One line's height in the plots' font. */
static double
text_height (cairo_t *cr)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string (FONT);
  int w, h;

  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, "Ag", -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  pango_font_description_free (font);
  g_object_unref (layout);
  return h;
}

static double
text_width (cairo_t    *cr,
            const char *text)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string (FONT);
  int w, h;

  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  pango_font_description_free (font);
  g_object_unref (layout);

  return w;
}

static void
paint_background (cairo_t          *cr,
                  const PlotColors *colors,
                  double            width,
                  double            height)
{
  if (colors->bg.a <= 0)
    return;
  set_color (cr, &colors->bg, 1);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
}

/* 1, 2 or 5 times a power of ten, about range / n. */
static double
nice_step (double range,
           int    n)
{
  double raw = range / MAX (n, 1);
  double p = pow (10, floor (log10 (raw)));
  double m = raw / p;

  if (m < 1.5)
    return p;
  if (m < 3.5)
    return 2 * p;
  if (m < 7.5)
    return 5 * p;
  return 10 * p;
}

/* --- Loss over steps ---------------------------------------------------- */

void
loss_plot_paint (cairo_t          *cr,
                 const PlotColors *colors,
                 const double     *values,
                 int               n_values,
                 double            width,
                 double            height)
{
  const double right = 12, top = 10, bottom = 22;
  double left = 52, pw, ph = height - top - bottom;
  double lo = INFINITY, hi = -INFINITY, step = 1;
  int n_finite = 0;

  paint_background (cr, colors, width, height);

  for (int i = 0; i < n_values; i++)
    if (isfinite (values[i]))
      {
        lo = MIN (lo, values[i]);
        hi = MAX (hi, values[i]);
        n_finite++;
      }

  if (n_values > 0)
    {
      if (n_finite == 0)
        lo = 0, hi = 1;
      if (hi - lo < 1e-12 * MAX (1, fabs (hi)))
        {
          double pad = MAX (fabs (hi) * 0.05, 1e-6);
          lo -= pad;
          hi += pad;
        }
      step = nice_step (hi - lo, 4);
      lo = floor (lo / step) * step;
      hi = ceil (hi / step) * step;

      /* Room for the widest y label ("-1.00e+31"). */
      for (double v = lo; v <= hi + step * 0.5 && v - lo < 20 * step; v += step)
        {
          g_autofree char *label = plot_format_value (fabs (v) < step * 1e-6 ? 0 : v);
          left = MAX (left, text_width (cr, label) + 10);
        }
    }

  pw = width - left - right;
  if (pw < 20 || ph < 20)
    return;

  /* Axes. */
  set_color (cr, &colors->fg, 0.45);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, left + 0.5, top);
  cairo_line_to (cr, left + 0.5, top + ph + 0.5);
  cairo_line_to (cr, left + pw, top + ph + 0.5);
  cairo_stroke (cr);

  if (n_values == 0)
    {
      draw_text (cr, &colors->fg, 0.55, _("No steps yet: each step adds its loss"),
                 left + pw / 2, top + ph / 2, 0.5, 0.5);
      return;
    }

  /* Horizontal grid and y labels (a handful: the guard is for rounding). */
  for (double v = lo; v <= hi + step * 0.5 && v - lo < 20 * step; v += step)
    {
      double y = top + ph - (v - lo) / (hi - lo) * ph;
      g_autofree char *label = plot_format_value (fabs (v) < step * 1e-6 ? 0 : v);

      set_color (cr, &colors->fg, 0.10);
      cairo_move_to (cr, left + 1, round (y) + 0.5);
      cairo_line_to (cr, left + pw, round (y) + 0.5);
      cairo_stroke (cr);
      draw_text (cr, &colors->fg, 0.7, label, left - 4, y, 1, 0.5);
    }

  /* x: the program's `step`, 0..n-1 (range(steps)), the first and last
   * labelled, and a few in between. */
  {
    int last = n_values - 1;
    int xs = MAX (1, (int) nice_step (MAX (last, 1), 5));
    for (int s = 0; s <= last; s++)
      if (s == 0 || s == last || s % xs == 0)
        {
          double x = n_values == 1 ? left + pw / 2 : left + s * pw / last;
          g_autofree char *label = g_strdup_printf ("%d", s);

          if (s != 0 && s != last && (last - s) * pw / MAX (last, 1) < 24)
            continue;
          draw_text (cr, &colors->fg, 0.7, label, x, top + ph + 4, 0.5, 0);
        }
  }

  /* The line, then the points. */
  set_color (cr, &colors->accent, 1);
  cairo_set_line_width (cr, 2);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  {
    bool pen_down = false;
    for (int i = 0; i < n_values; i++)
      {
        double x = n_values == 1 ? left + pw / 2 : left + i * pw / (n_values - 1);
        double y;

        if (!isfinite (values[i]))
          {
            pen_down = false;
            continue;
          }
        y = top + ph - (values[i] - lo) / (hi - lo) * ph;
        if (pen_down)
          cairo_line_to (cr, x, y);
        else
          cairo_move_to (cr, x, y);
        pen_down = true;
      }
    cairo_stroke (cr);
  }

  for (int i = 0; i < n_values; i++)
    {
      double x = n_values == 1 ? left + pw / 2 : left + i * pw / (n_values - 1);

      if (isfinite (values[i]))
        {
          double y = top + ph - (values[i] - lo) / (hi - lo) * ph;
          set_color (cr, &colors->accent, 1);
          cairo_arc (cr, x, y, n_values > 60 ? 1.5 : 3, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      else
        {
          /* Diverged: a warning triangle on the top edge. */
          set_color (cr, &colors->warning, 1);
          cairo_move_to (cr, x, top + 1);
          cairo_line_to (cr, x - 5, top + 10);
          cairo_line_to (cr, x + 5, top + 10);
          cairo_close_path (cr);
          cairo_fill (cr);
        }
    }

  /* The latest value, top right; below it, a run that diverges says so. */
  {
    g_autofree char *text = loss_plot_caption (values, n_values);
    g_autofree char *diverging = loss_plot_divergence (values, n_values);

    draw_text (cr, diverging == NULL ? &colors->fg : &colors->warning, 0.9, text,
               left + pw - 2, top + 2, 1, 0);
    if (diverging != NULL)
      draw_text (cr, &colors->warning, 0.9, _("diverging: see the event log"),
                 left + pw - 2, top + 18, 1, 0);
  }
}

char *
loss_plot_caption (const double *values,
                   int           n_values)
{
  double last;
  g_autofree char *v = NULL;

  if (n_values <= 0)
    return NULL;
  last = values[n_values - 1];
  v = plot_format_value (last);
  /* The program prints `step {step}` from range(steps): 0 first. */
  return isfinite (last) ? g_strdup_printf ("step %d: loss %s", n_values - 1, v)
                         : g_strdup_printf (_("step %d: loss %s (diverged)"), n_values - 1, v);
}

char *
loss_plot_divergence (const double *values,
                      int           n_values)
{
  for (int i = 0; i < n_values; i++)
    if (!isfinite (values[i]))
      return g_strdup_printf (_("The loss is %s at step %d: the run has diverged (the "
                                "learning rate is too large for this model)."),
                              isnan (values[i]) ? "NaN" : "infinite", i);
  /* Rising, not merely growing in size: a loss with no minimum (the resnet
   * lessons' summed one) falls without end, and that is SGD working. */
  if (n_values >= 4)
    {
      double first = values[0], last = values[n_values - 1];
      bool rising = true;

      for (int i = n_values - 3; i < n_values; i++)
        rising = rising && values[i] > values[i - 1];
      if (rising && last - first > 10 * MAX (fabs (first), 1e-12))
        return g_strdup_printf (_("The loss is running away: it rose at each of the last "
                                  "steps, from %.4g at step 0 to %.4g. Training is diverging; "
                                  "a smaller learning rate would settle it."), first, last);
    }
  return NULL;
}

/* --- Per-layer bars ----------------------------------------------------- */

char *
layer_chart_divergence (const LayerBar *bars,
                        int             n_bars)
{
  int worst = -1;

  for (int i = 0; i < n_bars; i++)
    if (isfinite (bars[i].update_ratio) && bars[i].update_ratio > 1
        && (worst < 0 || bars[i].update_ratio > bars[worst].update_ratio))
      worst = i;
  if (worst < 0)
    return NULL;
  return g_strdup_printf (_("The last step moved %s's weights by %.3g times their own size "
                            "(‖Δw‖/‖w‖ > 1): SGD is diverging, not learning; lower the "
                            "learning rate."), bars[worst].label, bars[worst].update_ratio);
}

/* A frozen layer has no gradient and no step: "frozen" in its slot, across
 * when it fits, else upwards, else a short dash (the x-axis label, dimmed,
 * still names it). Side by side the words ran into one smear. */
static void
draw_frozen_mark (cairo_t          *cr,
                  const PlotColors *colors,
                  double            x,
                  double            slot,
                  double            bottom)
{
  cairo_font_extents_t font;

  cairo_font_extents (cr, &font);
  if (text_width (cr, "frozen") <= slot - 4)
    {
      draw_text (cr, &colors->fg, 0.4, "frozen", x + slot / 2, bottom - 2, 0.5, 1);
      return;
    }
  if (font.height <= slot - 1)
    {
      cairo_save (cr);
      cairo_translate (cr, x + slot / 2, bottom - 2);
      cairo_rotate (cr, -G_PI / 2);
      draw_text (cr, &colors->fg, 0.4, "frozen", 0, 0, 0, 0.5);
      cairo_restore (cr);
      return;
    }
  set_color (cr, &colors->fg, 0.3);
  cairo_rectangle (cr, x + slot * 0.2, bottom - 2, MAX (1, slot * 0.6), 1);
  cairo_fill (cr);
}

/* One log-scale panel of bars: series 0 = grad norm, 1 = update ratio. */
static void
layer_panel_paint (cairo_t          *cr,
                   const PlotColors *colors,
                   const LayerBar   *bars,
                   int               n_bars,
                   int               series,
                   double            x0,
                   double            y0,
                   double            pw,
                   double            ph)
{
  const PlotColor *color = series == 0 ? &colors->accent : &colors->second;
  g_autofree char *diverging = series == 1 ? layer_chart_divergence (bars, n_bars) : NULL;
  const char *title = series == 0 ? "‖grad‖"
                      : diverging != NULL ? _("‖Δw‖ / ‖w‖ (last step): above 1, diverging")
                      : _("‖Δw‖ / ‖w‖ (last step)");
  double lo = INFINITY, hi = -INFINITY;
  double slot = pw / MAX (n_bars, 1);
  int n_values = 0;

  for (int i = 0; i < n_bars; i++)
    {
      double v = series == 0 ? bars[i].grad_norm : bars[i].update_ratio;
      if (isfinite (v) && v > 0)
        {
          lo = MIN (lo, log10 (v));
          hi = MAX (hi, log10 (v));
          n_values++;
        }
    }

  /* A narrow panel: the short title, in the warning colour when diverging
   * (the long one was cut at the edge). */
  if (text_width (cr, title) > pw - 4)
    title = series == 0 ? title : _("‖Δw‖ / ‖w‖ (last step)");
  draw_text (cr, diverging != NULL ? &colors->warning : color, 1, title, x0 + 2, y0, 0, 0);
  y0 += 14;
  ph -= 14;

  set_color (cr, &colors->fg, 0.35);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, x0 + 0.5, y0);
  cairo_line_to (cr, x0 + 0.5, y0 + ph + 0.5);
  cairo_line_to (cr, x0 + pw, y0 + ph + 0.5);
  cairo_stroke (cr);

  if (n_values == 0)
    {
      draw_text (cr, &colors->fg, 0.5,
                 series == 0 ? _("no gradients yet (every .grad is None)")
                             : _("no SGD step yet"),
                 x0 + pw / 2, y0 + ph / 2, 0.5, 0.5);
      return;
    }

  lo = floor (lo);
  hi = ceil (hi);
  if (hi - lo < 1)
    hi = lo + 1;

  /* Decades as grid lines. */
  for (double d = lo; d <= hi; d += 1)
    {
      double y = y0 + ph - (d - lo) / (hi - lo) * ph;
      g_autofree char *label = g_strdup_printf ("1e%+.0f", d);

      if ((hi - lo) > 6 && fmod (d - lo, 2) != 0 && d != hi)
        continue;
      set_color (cr, &colors->fg, 0.10);
      cairo_move_to (cr, x0 + 1, round (y) + 0.5);
      cairo_line_to (cr, x0 + pw, round (y) + 0.5);
      cairo_stroke (cr);
      draw_text (cr, &colors->fg, 0.7, label, x0 - 4, y, 1, 0.5);
    }

  for (int i = 0; i < n_bars; i++)
    {
      double v = series == 0 ? bars[i].grad_norm : bars[i].update_ratio;
      double bw = MAX (2, slot * 0.6);
      double x = x0 + i * slot + (slot - bw) / 2;

      if (!(isfinite (v) && v > 0))
        {
          if (bars[i].frozen)
            draw_frozen_mark (cr, colors, x0 + i * slot, slot, y0 + ph);
          continue;
        }
      double y = y0 + ph - (log10 (v) - lo) / (hi - lo) * ph;
      /* A step bigger than the weights themselves, in the warning colour. */
      const PlotColor *c = bars[i].frozen ? &colors->fg
                           : series == 1 && v > 1 ? &colors->warning : color;
      set_color (cr, c, bars[i].frozen ? 0.3 : 0.85);
      cairo_rectangle (cr, x, y, bw, y0 + ph - y);
      cairo_fill (cr);
    }
}

void
layer_chart_paint (cairo_t          *cr,
                   const PlotColors *colors,
                   const LayerBar   *bars,
                   int               n_bars,
                   double            width,
                   double            height)
{
  const double left = 52, right = 8, top = 6;
  double label_h = 16, pw = width - left - right;
  double slot;
  bool rotate = false;

  paint_background (cr, colors, width, height);
  if (n_bars == 0)
    {
      draw_text (cr, &colors->fg, 0.55, _("This lesson has no layers"),
                 width / 2, height / 2, 0.5, 0.5);
      return;
    }
  if (pw < 20 || height < 60)
    return;

  slot = pw / n_bars;
  for (int i = 0; i < n_bars; i++)
    if (text_width (cr, bars[i].label) > slot - 4)
      rotate = true;
  if (rotate)
    {
      /* A label w wide and h high turned by 45° reaches (w + h)·sin 45° below
       * its anchor: room for all of it (the old 0.75·w cut the longest ones). */
      double longest = 0, line_h = text_height (cr);
      for (int i = 0; i < n_bars; i++)
        longest = MAX (longest, text_width (cr, bars[i].label));
      label_h = MIN ((longest + line_h) * G_SQRT2 / 2 + 6, height * 0.45);
    }

  {
    double ph = (height - top - label_h - 8) / 2;
    layer_panel_paint (cr, colors, bars, n_bars, 0, left, top, pw, ph - 4);
    layer_panel_paint (cr, colors, bars, n_bars, 1, left, top + ph + 4, pw, ph);

    for (int i = 0; i < n_bars; i++)
      {
        double x = left + i * slot + slot / 2;
        double y = top + 2 * ph + 8 + 2;

        if (!rotate)
          {
            draw_text (cr, &colors->fg, bars[i].frozen ? 0.45 : 0.8, bars[i].label,
                       x, y, 0.5, 0);
            continue;
          }
        cairo_save (cr);
        cairo_translate (cr, x + 3, y);
        cairo_rotate (cr, -G_PI / 4);
        draw_text (cr, &colors->fg, bars[i].frozen ? 0.45 : 0.8, bars[i].label, 0, 0, 1, 0);
        cairo_restore (cr);
      }
  }
}

/* --- Histogram ---------------------------------------------------------- */

void
histogram_compute (Histogram   *hist,
                   const float *data,
                   int64_t      n,
                   int          n_bins)
{
  g_return_if_fail (hist != NULL);
  g_return_if_fail (n_bins > 0);

  memset (hist, 0, sizeof *hist);
  hist->n_bins = n_bins;
  hist->counts = g_new0 (int64_t, n_bins);
  hist->lo = INFINITY;
  hist->hi = -INFINITY;
  hist->n_values = n;

  for (int64_t i = 0; i < n; i++)
    {
      if (!isfinite (data[i]))
        {
          hist->n_nonfinite++;
          continue;
        }
      hist->lo = MIN (hist->lo, data[i]);
      hist->hi = MAX (hist->hi, data[i]);
    }
  if (hist->n_nonfinite == n)
    {
      hist->lo = 0;
      hist->hi = 0;
      return;
    }

  for (int64_t i = 0; i < n; i++)
    {
      int b;

      if (!isfinite (data[i]))
        continue;
      if (hist->hi > hist->lo)
        b = (int) ((data[i] - hist->lo) / (hist->hi - hist->lo) * n_bins);
      else
        b = n_bins / 2;
      b = CLAMP (b, 0, n_bins - 1);
      hist->counts[b]++;
    }
  for (int b = 0; b < n_bins; b++)
    hist->max_count = MAX (hist->max_count, hist->counts[b]);
}

void
histogram_clear (Histogram *hist)
{
  g_clear_pointer (&hist->counts, g_free);
  hist->n_bins = 0;
}

void
histogram_paint (cairo_t          *cr,
                 const Histogram  *hist,
                 const PlotColors *colors,
                 double            width,
                 double            height)
{
  const double left = 6, right = 6, top = 14, bottom = 18;
  double pw = width - left - right, ph = height - top - bottom;

  paint_background (cr, colors, width, height);
  if (hist == NULL || hist->n_bins == 0 || pw < 10 || ph < 10)
    return;

  {
    /* Translators: the histogram's counts: "1728 values, tallest bar 96". */
    g_autofree char *count = g_strdup_printf (_("%lld values, tallest bar %lld"),
                                              (long long) hist->n_values,
                                              (long long) hist->max_count);
    draw_text (cr, &colors->fg, 0.6, count, left, 0, 0, 0);
  }

  set_color (cr, &colors->accent, 0.85);
  for (int b = 0; b < hist->n_bins && hist->max_count > 0; b++)
    {
      double bw = pw / hist->n_bins;
      /* sqrt scale: a few outliers stay visible next to a tall centre. */
      double h = sqrt ((double) hist->counts[b] / hist->max_count) * ph;
      if (hist->counts[b] == 0)
        continue;
      cairo_rectangle (cr, left + b * bw + 0.5, top + ph - h, MAX (bw - 1, 1), h);
    }
  cairo_fill (cr);

  set_color (cr, &colors->fg, 0.4);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, left, top + ph + 0.5);
  cairo_line_to (cr, left + pw, top + ph + 0.5);
  cairo_stroke (cr);

  /* Zero, when it is inside the range. */
  if (hist->lo < 0 && hist->hi > 0)
    {
      double x = left + (0 - hist->lo) / (hist->hi - hist->lo) * pw;
      set_color (cr, &colors->fg, 0.5);
      cairo_set_dash (cr, (double[]) { 3, 2 }, 2, 0);
      cairo_move_to (cr, round (x) + 0.5, top);
      cairo_line_to (cr, round (x) + 0.5, top + ph);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      draw_text (cr, &colors->fg, 0.6, "0", x, top + ph + 2, 0.5, 0);
    }

  {
    g_autofree char *lo = plot_format_value (hist->lo);
    g_autofree char *hi = plot_format_value (hist->hi);
    draw_text (cr, &colors->fg, 0.8, lo, left, top + ph + 2, 0, 0);
    draw_text (cr, &colors->fg, 0.8, hi, left + pw, top + ph + 2, 1, 0);
  }
  if (hist->n_nonfinite > 0)
    {
      g_autofree char *t = g_strdup_printf ("%" G_GINT64_FORMAT " NaN/Inf", hist->n_nonfinite);
      draw_text (cr, &colors->warning, 1, t, left + pw, 0, 1, 0);
    }
}

/* --- Heat map ----------------------------------------------------------- */

/* Diverging: -1 blue, 0 white, +1 red (ColorBrewer's RdBu ends). */
static guint32
diverging_rgb (double t)
{
  static const double neg[3] = { 0.13, 0.40, 0.67 };
  static const double pos[3] = { 0.70, 0.09, 0.17 };
  const double *end = t < 0 ? neg : pos;
  double a = MIN (fabs (t), 1);
  guint32 r, g, b;

  if (!isfinite (t))
    return 0x00ff00ff;  /* magenta: NaN/Inf */
  r = (guint32) round (255 * (1 - a + a * end[0]));
  g = (guint32) round (255 * (1 - a + a * end[1]));
  b = (guint32) round (255 * (1 - a + a * end[2]));
  return (r << 16) | (g << 8) | b;
}

cairo_surface_t *
heatmap_surface_new (const float *data,
                     int          rows,
                     int          cols,
                     float       *abs_max)
{
  cairo_surface_t *surface;
  unsigned char *pixels;
  int stride;
  float m = 0;

  g_return_val_if_fail (data != NULL && rows > 0 && cols > 0, NULL);

  for (int64_t i = 0; i < (int64_t) rows * cols; i++)
    if (isfinite (data[i]))
      m = MAX (m, fabsf (data[i]));

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, cols, rows);
  cairo_surface_flush (surface);
  pixels = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int r = 0; r < rows; r++)
    {
      guint32 *row = (guint32 *) (pixels + (size_t) r * stride);
      for (int c = 0; c < cols; c++)
        {
          float v = data[(int64_t) r * cols + c];
          row[c] = diverging_rgb (!isfinite (v) ? v : m > 0 ? v / m : 0);
        }
    }
  cairo_surface_mark_dirty (surface);

  if (abs_max != NULL)
    *abs_max = m;
  return surface;
}

static void
paint_surface_nearest (cairo_t         *cr,
                       cairo_surface_t *surface,
                       double           x,
                       double           y,
                       double           sx,
                       double           sy)
{
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, sx, sy);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
}

void
heatmap_paint (cairo_t          *cr,
               cairo_surface_t  *surface,
               float             abs_max,
               const PlotColors *colors,
               double            width,
               double            height)
{
  const double bar_w = 10, gap = 8, label_w = 56;
  int cols, rows;
  double avail_w, scale, sx, sy, x, y;

  paint_background (cr, colors, width, height);
  if (surface == NULL)
    return;

  cols = cairo_image_surface_get_width (surface);
  rows = cairo_image_surface_get_height (surface);
  avail_w = width - bar_w - gap - label_w;
  if (avail_w < 4 || height < 4)
    return;
  /* Square cells where they fit; a long, flat slice (10 × 512) may stretch
   * its cells up to 8:1 rather than shrink to a line. */
  scale = MIN (avail_w / cols, height / rows);
  sx = MIN (avail_w / cols, scale * 8);
  sy = MIN (height / rows, scale * 8);
  if (sx >= 1)
    sx = floor (sx);
  if (sy >= 1)
    sy = floor (sy);
  x = floor ((avail_w - cols * sx) / 2);
  y = floor ((height - rows * sy) / 2);
  paint_surface_nearest (cr, surface, x, y, sx, sy);

  /* Colour bar: +max at the top, −max at the bottom. */
  {
    double bx = x + cols * sx + gap, by = y, bh = rows * sy;
    g_autofree char *hi = plot_format_value (abs_max);
    g_autofree char *lo = plot_format_value (-abs_max);

    if (bh < 40)
      bh = MIN (height, 40), by = (height - bh) / 2;
    for (int i = 0; i < (int) bh; i++)
      {
        guint32 rgb = diverging_rgb (1 - 2.0 * i / MAX (bh - 1, 1));
        cairo_set_source_rgb (cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                              (rgb & 0xff) / 255.0);
        cairo_rectangle (cr, bx, by + i, bar_w, 1);
        cairo_fill (cr);
      }
    draw_text (cr, &colors->fg, 0.8, hi, bx + bar_w + 3, by, 0, 0);
    draw_text (cr, &colors->fg, 0.8, "0", bx + bar_w + 3, by + bh / 2, 0, 0.5);
    draw_text (cr, &colors->fg, 0.8, lo, bx + bar_w + 3, by + bh, 0, 1);
  }
}

/* --- Filters ------------------------------------------------------------ */

cairo_surface_t *
filters_surface_new (const float *weight,
                     int          n,
                     int          c,
                     int          kh,
                     int          kw,
                     int          cols)
{
  cairo_surface_t *surface;
  unsigned char *pixels;
  int rows, stride, width, height;

  g_return_val_if_fail (weight != NULL && n > 0 && kh > 0 && kw > 0 && cols > 0, NULL);
  if (c != 3)
    return NULL;

  rows = (n + cols - 1) / cols;
  width = cols * (kw + 1) - 1;
  height = rows * (kh + 1) - 1;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_surface_flush (surface);
  pixels = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  memset (pixels, 0, (size_t) stride * height);   /* transparent gaps */

  for (int f = 0; f < n; f++)
    {
      const float *w = weight + (int64_t) f * c * kh * kw;   /* (3, kh, kw) */
      float lo = INFINITY, hi = -INFINITY;
      int gx = (f % cols) * (kw + 1), gy = (f / cols) * (kh + 1);

      for (int i = 0; i < c * kh * kw; i++)
        if (isfinite (w[i]))
          {
            lo = MIN (lo, w[i]);
            hi = MAX (hi, w[i]);
          }
      for (int y = 0; y < kh; y++)
        {
          guint32 *row = (guint32 *) (pixels + (size_t) (gy + y) * stride);
          for (int x = 0; x < kw; x++)
            {
              guint32 rgb[3];
              for (int ch = 0; ch < 3; ch++)
                {
                  float v = w[(ch * kh + y) * kw + x];
                  double t = hi > lo && isfinite (v) ? (v - lo) / (hi - lo) : 0.5;
                  rgb[ch] = (guint32) round (255 * CLAMP (t, 0, 1));
                }
              row[gx + x] = 0xff000000u | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
            }
        }
    }
  cairo_surface_mark_dirty (surface);

  return surface;
}

void
filters_paint (cairo_t         *cr,
               cairo_surface_t *surface,
               double           width,
               double           height)
{
  int w, h;
  double scale;

  if (surface == NULL)
    return;
  w = cairo_image_surface_get_width (surface);
  h = cairo_image_surface_get_height (surface);
  scale = MIN (width / w, height / h);
  if (scale >= 1)
    scale = floor (scale);
  paint_surface_nearest (cr, surface, floor ((width - w * scale) / 2), 0, scale, scale);
}

/* inspector-pictures.c: the inspector's pictures of a tensor and its labels
 *
 * A histogram of the values, a heat map of a 2-D slice chosen with spin
 * buttons, and a convolution's RGB filters, each a GtkDrawingArea over data
 * copied when it is made (the engine may run on while they are shown); and
 * the labels every section uses.
 */

#include "inspector-pictures.h"
#include "plot-paint.h"
#include "theme.h"

#include <glib/gi18n.h>
#include <string.h>

/* --- Labels ------------------------------------------------------------------ */

GtkWidget *
inspector_add_label (GtkBox     *box,
                     const char *text,
                     const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  /* A printed tensor reads as PyTorch prints it, left to right and flush left,
   * even in a right-to-left window. */
  if (g_strcmp0 (css_class, "tensor-values") == 0)
    gtk_widget_set_direction (label, GTK_TEXT_DIR_LTR);
  gtk_box_append (box, label);
  return label;
}

void
inspector_add_heading (GtkBox     *box,
                       const char *text)
{
  GtkWidget *label = inspector_add_label (box, text, "heading");

  gtk_widget_set_margin_top (label, 10);
}

/* --- Pictures: histogram, heat map, filters ------------------------------------ */

static void
draw_histogram (GtkDrawingArea *area,
                cairo_t        *cr,
                int             width,
                int             height,
                gpointer        user_data)
{
  PlotColors colors;

  theme_plot_colors (GTK_WIDGET (area), &colors);
  histogram_paint (cr, user_data, &colors, width, height);
}

static void
histogram_free (gpointer data)
{
  histogram_clear (data);
  g_free (data);
}

void
inspector_add_histogram (GtkBox       *box,
                         const Tensor *t)
{
  GtkWidget *area = gtk_drawing_area_new ();
  Histogram *hist = g_new0 (Histogram, 1);

  histogram_compute (hist, t->data, t->numel, t->numel < 64 ? 16 : 48);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (area), 96);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_histogram, hist, histogram_free);
  gtk_widget_set_tooltip_text (area, _("Histogram of the values (bar heights on a square-root scale)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Histogram of the values"), -1);
  gtk_box_append (box, area);
}

/* A copy of the tensor, and the slice t[i, j, :, :] being shown. */
typedef struct
{
  float *data;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  int index[2];
  cairo_surface_t *surface;
  float abs_max;
  GtkWidget *area;
  GtkWidget *caption;
} Heatmap;

static void
heatmap_free (gpointer data)
{
  Heatmap *hm = data;

  g_free (hm->data);
  g_clear_pointer (&hm->surface, cairo_surface_destroy);
  g_free (hm);
}

static void
heatmap_update (Heatmap *hm)
{
  int rows = (int) hm->shape[hm->ndim - 2], cols = (int) hm->shape[hm->ndim - 1];
  int64_t offset = 0;
  g_autofree char *caption = NULL;

  if (hm->ndim == 4)
    offset = ((int64_t) hm->index[0] * hm->shape[1] + hm->index[1]) * rows * cols;
  else if (hm->ndim == 3)
    offset = (int64_t) hm->index[0] * rows * cols;

  g_clear_pointer (&hm->surface, cairo_surface_destroy);
  hm->surface = heatmap_surface_new (hm->data + offset, rows, cols, &hm->abs_max);

  if (hm->ndim == 4)
    caption = g_strdup_printf ("[%d, %d, :, :] — %d × %d", hm->index[0], hm->index[1], rows, cols);
  else if (hm->ndim == 3)
    caption = g_strdup_printf ("[%d, :, :] — %d × %d", hm->index[0], rows, cols);
  else
    caption = g_strdup_printf ("%d × %d", rows, cols);
  gtk_label_set_text (GTK_LABEL (hm->caption), caption);
  gtk_widget_queue_draw (hm->area);
}

static void
draw_heatmap (GtkDrawingArea *area,
              cairo_t        *cr,
              int             width,
              int             height,
              gpointer        user_data)
{
  Heatmap *hm = user_data;
  PlotColors colors;

  theme_plot_colors (GTK_WIDGET (area), &colors);
  heatmap_paint (cr, hm->surface, hm->abs_max, &colors, width, height);
}

static void
on_slice_changed (GtkSpinButton *spin,
                  Heatmap       *hm)
{
  int which = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spin), "dim"));

  hm->index[which] = gtk_spin_button_get_value_as_int (spin);
  heatmap_update (hm);
}

void
inspector_add_heatmap (GtkBox       *box,
                       const Tensor *t,
                       const char   *what)
{
  static const char *const dim_names[] = { "i", "j" };
  Heatmap *hm;
  GtkWidget *row, *area;
  int n_lead;

  if (t->ndim < 2 || t->shape[t->ndim - 1] < 1 || t->shape[t->ndim - 2] < 1)
    return;

  hm = g_new0 (Heatmap, 1);
  hm->ndim = t->ndim;
  memcpy (hm->shape, t->shape, sizeof hm->shape);
  hm->data = g_memdup2 (t->data, sizeof (float) * t->numel);

  /* "Slice [i, j, :, :]" with i and j chosen by spin buttons, on one line;
   * the caption on the next, so the inspector stays narrow. */
  inspector_add_label (box, what, "caption-heading");
  n_lead = t->ndim - 2;
  row = n_lead > 0 ? gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6) : NULL;
  for (int d = 0; d < n_lead; d++)
    {
      GtkWidget *spin = gtk_spin_button_new_with_range (0, (double) t->shape[d] - 1, 1);
      gtk_editable_set_width_chars (GTK_EDITABLE (spin), 3);
      /* Translators: %1$s is i or j, %2$d a dimension of the tensor, %3$lld its size. */
      g_autofree char *tip = g_strdup_printf (_("Index %1$s along dimension %2$d (size %3$lld)"),
                                              dim_names[d], d, (long long) t->shape[d]);

      gtk_widget_set_tooltip_text (spin, tip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, tip, -1);
      g_object_set_data (G_OBJECT (spin), "dim", GINT_TO_POINTER (d));
      g_signal_connect (spin, "value-changed", G_CALLBACK (on_slice_changed), hm);
      gtk_box_append (GTK_BOX (row), gtk_label_new (dim_names[d]));
      gtk_box_append (GTK_BOX (row), spin);
    }
  hm->caption = gtk_label_new (NULL);
  gtk_widget_add_css_class (hm->caption, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (hm->caption), 0);
  gtk_label_set_wrap (GTK_LABEL (hm->caption), TRUE);
  if (n_lead > 0)
    gtk_box_append (box, row);
  gtk_box_append (box, hm->caption);

  area = gtk_drawing_area_new ();
  hm->area = area;
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (area),
                                       CLAMP ((int) t->shape[t->ndim - 2] * 8, 64, 180));
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_heatmap, hm, heatmap_free);
  gtk_widget_set_tooltip_text (area, _("Blue is negative, red positive, white zero; "
                                       "scaled by the largest |value| of the slice"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Heat map of a 2-D slice"), -1);
  gtk_box_append (box, area);
  heatmap_update (hm);
}

static void
draw_filters (GtkDrawingArea *area,
              cairo_t        *cr,
              int             width,
              int             height,
              gpointer        user_data)
{
  filters_paint (cr, user_data, width, height);
}

/* conv1.weight (64, 3, 7, 7): the filters as the RGB patterns they match. */
void
inspector_add_filters (GtkBox       *box,
                       const Tensor *t)
{
  cairo_surface_t *surface;
  GtkWidget *area;
  int cols = 8;

  if (t->ndim != 4 || t->shape[1] != 3 || t->shape[0] > 256)
    return;
  surface = filters_surface_new (t->data, (int) t->shape[0], 3, (int) t->shape[2],
                                 (int) t->shape[3], cols);
  if (surface == NULL)
    return;

  inspector_add_heading (box, _("Filters as images"));
  inspector_add_label (box, _("Each filter min–max scaled to itself; its three input "
                              "channels as red, green and blue."), "dim-label");
  area = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (
    GTK_DRAWING_AREA (area),
    MIN (cairo_image_surface_get_height (surface) * 3, 8 * 4 * ((int) t->shape[2] + 1)));
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_filters, surface,
                                  (GDestroyNotify) cairo_surface_destroy);
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The convolution filters as RGB images"), -1);
  gtk_box_append (box, area);
}


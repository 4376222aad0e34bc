/* graph-export.c: the graph as PNG, SVG or PDF, for slides and papers */

#include "graph-export.h"
#include "output-file.h"

#include <glib/gi18n.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <gio/gio.h>
#include <math.h>

G_DEFINE_QUARK (graph-export-error-quark, graph_export_error)

/* cairo's image surfaces address pixels with 16-bit coordinates. */
#define PNG_MAX_SIDE 32767
/* SVG and PDF: text is drawn at 13 pt × scale, and FreeType refuses glyphs above
 * 65535 pixels (scale ≈ 5000 fails with "error occurred in libfreetype"); cairo's
 * coordinates are 24.8 fixed point (a PDF page over 2²³ points a side is "too
 * big"). Well inside both: */
#define VECTOR_MAX_SCALE 1000
#define VECTOR_MAX_SIDE 1000000   /* points, about 350 m */

static const char *const format_names[] = {
  [GRAPH_EXPORT_PNG] = "png",
  [GRAPH_EXPORT_SVG] = "svg",
  [GRAPH_EXPORT_PDF] = "pdf",
};

gboolean
graph_export_format_from_string (const char        *name,
                                 GraphExportFormat *format,
                                 GError           **error)
{
  g_return_val_if_fail (format != NULL, FALSE);

  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (format_names); i++)
    if (g_ascii_strcasecmp (name, format_names[i]) == 0)
      {
        *format = i;
        return TRUE;
      }

  g_set_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_FORMAT,
               _("Unknown picture format “%s” (expected png, svg or pdf)"), name ? name : "");
  return FALSE;
}

gboolean
graph_export_format_from_filename (const char        *filename,
                                   GraphExportFormat *format)
{
  const char *dot;

  g_return_val_if_fail (format != NULL, FALSE);

  dot = filename != NULL ? strrchr (filename, '.') : NULL;
  if (dot == NULL)
    return FALSE;

  return graph_export_format_from_string (dot + 1, format, NULL);
}

const char *
graph_export_format_to_string (GraphExportFormat format)
{
  g_return_val_if_fail (format < G_N_ELEMENTS (format_names), NULL);

  return format_names[format];
}

void
graph_export_page_size (const GraphLayout *layout,
                        gboolean           legend,
                        double            *width,
                        double            *height)
{
  double w = layout->width + 2 * GRAPH_EXPORT_MARGIN;
  double h = layout->height + 2 * GRAPH_EXPORT_MARGIN;

  if (legend)
    {
      double lw, lh;

      graph_legend_size (layout, &lw, &lh);
      w += lw + GRAPH_EXPORT_MARGIN;
      h = MAX (h, lh + 2 * GRAPH_EXPORT_MARGIN);
    }

  *width = ceil (w);
  *height = ceil (h);
}

void
graph_export_paint (cairo_t           *cr,
                    const GraphLayout *layout,
                    const GraphTheme  *theme,
                    double             scale,
                    gboolean           legend)
{
  GraphPaintState state;
  Viewport viewport;
  double w, h;

  g_return_if_fail (cr != NULL && layout != NULL && theme != NULL && scale > 0);

  graph_export_page_size (layout, legend, &w, &h);
  graph_paint_state_init (&state, theme);
  state.layers = GRAPH_PAINT_BACKGROUND | GRAPH_PAINT_GRAPH;

  viewport_init (&viewport, w, h);
  viewport.min_zoom = viewport.max_zoom = 1.0;
  viewport_anchor (&viewport, 0, 0, GRAPH_EXPORT_MARGIN, GRAPH_EXPORT_MARGIN);

  cairo_save (cr);
  cairo_scale (cr, scale, scale);
  graph_paint (cr, layout, &state, &viewport);
  if (legend)
    graph_paint_legend (cr, layout, theme, layout->width + 2 * GRAPH_EXPORT_MARGIN,
                        GRAPH_EXPORT_MARGIN);
  cairo_restore (cr);
}

/* cairo's write function: the file's bytes, appended to a GByteArray. */
static cairo_status_t
append_bytes (void                *closure,
              const unsigned char *data,
              unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
check_arguments (const GraphLayout *layout,
                 GraphExportFormat  format,
                 double             scale,
                 gboolean           legend,
                 const char        *what,
                 GError           **error)
{
  double w, h;

  if (!(scale > 0) || !isfinite (scale))
    {
      g_set_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE,
                   _("Cannot export %s at scale %g: the scale must be positive"), what, scale);
      return FALSE;
    }
  if (format > GRAPH_EXPORT_PDF)
    {
      g_set_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_FORMAT,
                   _("Cannot export %s: unknown format %d"), what, (int) format);
      return FALSE;
    }
  graph_export_page_size (layout, legend, &w, &h);
  if (format != GRAPH_EXPORT_PNG
      && (scale > VECTOR_MAX_SCALE || w * scale > VECTOR_MAX_SIDE || h * scale > VECTOR_MAX_SIDE))
    {
      g_set_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE,
                   _("Cannot export %s at scale %g: SVG and PDF take scales up to %d and pages "
                   "up to %d points a side (this one would be %.0f×%.0f); a vector picture "
                   "can be zoomed instead"), what, scale, VECTOR_MAX_SCALE, VECTOR_MAX_SIDE,
                   ceil (w * scale), ceil (h * scale));
      return FALSE;
    }
  if (format == GRAPH_EXPORT_PNG
      && (ceil (w * scale) > PNG_MAX_SIDE || ceil (h * scale) > PNG_MAX_SIDE))
    {
      g_set_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE,
                   _("Cannot export %s: %.0f×%.0f pixels at scale %g is larger than a PNG "
                     "cairo can draw (%d pixels a side); use a smaller scale, or SVG or PDF"),
                   what, ceil (w * scale), ceil (h * scale), scale, PNG_MAX_SIDE);
      return FALSE;
    }

  return TRUE;
}

/* Draws the page and appends the file's bytes to bytes. */
static cairo_status_t
render (const GraphLayout *layout,
        const GraphTheme  *theme,
        GraphExportFormat  format,
        double             scale,
        gboolean           legend,
        GByteArray        *bytes)
{
  GraphTheme light;
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  double w, h;

  if (theme == NULL)
    {
      graph_theme_init_light (&light);
      theme = &light;
    }
  graph_export_page_size (layout, legend, &w, &h);

  switch (format)
    {
    case GRAPH_EXPORT_SVG:
      surface = cairo_svg_surface_create_for_stream (append_bytes, bytes, w * scale, h * scale);
      break;
    case GRAPH_EXPORT_PDF:
      surface = cairo_pdf_surface_create_for_stream (append_bytes, bytes, w * scale, h * scale);
      cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, "Autograd graph");
      cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR,
                                      "GradLens " GRADLENS_VERSION);
      break;
    case GRAPH_EXPORT_PNG:
    default:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (w * scale),
                                            (int) ceil (h * scale));
      break;
    }

  cr = cairo_create (surface);
  graph_export_paint (cr, layout, theme, scale, legend);
  status = cairo_status (cr);
  cairo_destroy (cr);

  if (status == CAIRO_STATUS_SUCCESS && format == GRAPH_EXPORT_PNG)
    status = cairo_surface_write_to_png_stream (surface, append_bytes, bytes);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  return status;
}

gboolean
graph_export_to_file (const GraphLayout *layout,
                      const GraphTheme  *theme,
                      GraphExportFormat  format,
                      double             scale,
                      gboolean           legend,
                      const char        *path,
                      GError           **error)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (layout != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Drawn first, then written as every output is (output-file.h): atomically,
   * mode kept, links followed, devices and FIFOs written, never replaced. */
  bytes = graph_export_to_bytes (layout, theme, format, scale, legend, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "“%s”: ", path);
      return FALSE;
    }
  /* not translated: output-file.c's name for its whole translated sentence */
  return output_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   "export the graph to", error);
}

GBytes *
graph_export_to_bytes (const GraphLayout *layout,
                       const GraphTheme  *theme,
                       GraphExportFormat  format,
                       double             scale,
                       gboolean           legend,
                       GError           **error)
{
  g_autofree char *what = NULL;
  GByteArray *bytes;
  cairo_status_t status;

  g_return_val_if_fail (layout != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  what = format <= GRAPH_EXPORT_PDF
           ? g_strdup_printf (_("the graph as %s"), graph_export_format_to_string (format))
           : g_strdup (_("the graph"));
  if (!check_arguments (layout, format, scale, legend, what, error))
    return NULL;

  bytes = g_byte_array_new ();
  status = render (layout, theme, format, scale, legend, bytes);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_CAIRO,
                   _("Could not draw %s: %s"), what, cairo_status_to_string (status));
      g_byte_array_unref (bytes);
      return NULL;
    }

  return g_byte_array_free_to_bytes (bytes);
}

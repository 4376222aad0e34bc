/* graph-export.h: the graph as PNG, SVG or PDF, for slides and papers
 *
 * The same painter as the window, on a cairo image, SVG or PDF surface: the
 * whole graph at a scale (1.0 = 100 %, one graph unit per pixel or point), a
 * margin around it and the legend at its top right.
 *
 *   GraphExportFormat format;
 *   graph_export_format_from_string ("svg", &format);
 *   if (!graph_export_to_file (layout, NULL, format, 2.0, TRUE, "graph.svg", &error))
 *     g_printerr ("%s\n", error->message);
 *
 * The file is replaced atomically: readers never see half of it.
 */
#pragma once

#include "graph-paint.h"

G_BEGIN_DECLS

#define GRAPH_EXPORT_ERROR (graph_export_error_quark ())
GQuark graph_export_error_quark (void);

typedef enum
{
  GRAPH_EXPORT_ERROR_FORMAT,     /* unknown format name */
  GRAPH_EXPORT_ERROR_SCALE,      /* scale not positive, or a PNG too large */
  GRAPH_EXPORT_ERROR_CAIRO,      /* cairo failed to draw */
} GraphExportError;

typedef enum
{
  GRAPH_EXPORT_PNG,
  GRAPH_EXPORT_SVG,
  GRAPH_EXPORT_PDF,
} GraphExportFormat;

#define GRAPH_EXPORT_MARGIN 24.0

/* "png", "svg", "pdf" (any case). */
gboolean    graph_export_format_from_string   (const char        *name,
                                               GraphExportFormat *format,
                                               GError           **error);
/* From a file name's extension. */
gboolean    graph_export_format_from_filename (const char        *filename,
                                               GraphExportFormat *format);
const char *graph_export_format_to_string     (GraphExportFormat  format);

/* The page in graph units (multiply by scale for pixels or points). */
void        graph_export_page_size            (const GraphLayout *layout,
                                               gboolean           legend,
                                               double            *width,
                                               double            *height);

/* Paints the page at scale on cr (whose origin is the page's top-left corner). */
void        graph_export_paint                (cairo_t           *cr,
                                               const GraphLayout *layout,
                                               const GraphTheme  *theme,
                                               double             scale,
                                               gboolean           legend);

/* theme: NULL for the light palette. */
gboolean    graph_export_to_file              (const GraphLayout *layout,
                                               const GraphTheme  *theme,
                                               GraphExportFormat  format,
                                               double             scale,
                                               gboolean           legend,
                                               const char        *path,
                                               GError           **error);

/* The same, in memory: the file's bytes (for stdout, or a GFile of one's own). */
GBytes     *graph_export_to_bytes             (const GraphLayout *layout,
                                               const GraphTheme  *theme,
                                               GraphExportFormat  format,
                                               double             scale,
                                               gboolean           legend,
                                               GError           **error);

G_END_DECLS

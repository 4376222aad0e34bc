/* test-graph-export.c: the graph's exports (graph-export.h) and gradlens-cli
 * graph's pictures: PNG reopened with cairo, SVG parsed back with GMarkup, the
 * PDF's structure checked, errors that name the file or the scale; resnet18's
 * step is exported to G_TEST_BUILDDIR for a person to look at.
 */

#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>

#include "graph-export.h"
#include "test-cli-common.h"
#include "test-graph-common.h"

/* A test graph's layout (which holds its model). */
static GraphLayout *
layout_of (TestGraph *tg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraphModel) model = graph_model_new (tg->nodes);
  GraphLayout *layout = graph_layout_new (model, NULL, &error);

  g_assert_no_error (error);
  return layout;
}

typedef struct
{
  int depth;
  int n_elements;
  char *root;
  char *width;
  char *height;
} SvgCheck;

static void
svg_start (GMarkupParseContext *context,
           const char          *element,
           const char         **names,
           const char         **values,
           gpointer             user_data,
           GError             **error)
{
  SvgCheck *check = user_data;

  if (check->depth++ == 0)
    {
      check->root = g_strdup (element);
      for (int i = 0; names[i] != NULL; i++)
        {
          if (g_str_equal (names[i], "width"))
            check->width = g_strdup (values[i]);
          else if (g_str_equal (names[i], "height"))
            check->height = g_strdup (values[i]);
        }
    }
  check->n_elements++;
}

static void
svg_end (GMarkupParseContext *context,
         const char          *element,
         gpointer             user_data,
         GError             **error)
{
  ((SvgCheck *) user_data)->depth--;
}

static void
check_svg (const char *path,
           double      width,
           double      height)
{
  static const GMarkupParser parser = { svg_start, svg_end, NULL, NULL, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected_w = g_strdup_printf ("%g", width);
  g_autofree char *expected_h = g_strdup_printf ("%g", height);
  SvgCheck check = { 0 };
  GMarkupParseContext *context;
  gsize length;

  g_assert_true (g_file_get_contents (path, &text, &length, &error));
  g_assert_no_error (error);
  context = g_markup_parse_context_new (&parser, G_MARKUP_IGNORE_QUALIFIED, &check, NULL);
  g_assert_true (g_markup_parse_context_parse (context, text, length, &error)
                 && g_markup_parse_context_end_parse (context, &error));
  g_assert_no_error (error);
  g_markup_parse_context_free (context);

  g_assert_cmpstr (check.root, ==, "svg");
  g_assert_cmpint (check.depth, ==, 0);
  g_assert_cmpint (check.n_elements, >, 50);
  /* cairo writes the size in points: "596pt". */
  g_assert_true (g_str_has_prefix (check.width, expected_w));
  g_assert_true (g_str_has_prefix (check.height, expected_h));
  g_free (check.root);
  g_free (check.width);
  g_free (check.height);
}

/* Binary-safe: a PDF's compressed streams hold NUL bytes. */
static const char *
find_bytes (const char *data,
            gsize       length,
            const char *needle,
            gboolean    last)
{
  gsize n = strlen (needle);
  const char *found = NULL;

  for (gsize i = 0; i + n <= length; i++)
    if (memcmp (data + i, needle, n) == 0)
      {
        found = data + i;
        if (!last)
          break;
      }

  return found;
}

static void
check_pdf (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length;
  const char *eof;

  g_assert_true (g_file_get_contents (path, &text, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (g_str_has_prefix (text, "%PDF-1."));
  /* The trailer: startxref, then %%EOF at the very end. */
  eof = find_bytes (text, length, "%%EOF", TRUE);
  g_assert_nonnull (eof);
  g_assert_cmpuint (length - (eof - text), <=, 7);
  g_assert_nonnull (find_bytes (text, length, "startxref", TRUE));
  g_assert_nonnull (find_bytes (text, length, "/Type /Page", FALSE));
  g_assert_nonnull (find_bytes (text, length, "/Type /Catalog", FALSE));
}

static void
test_export (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (TRUE);
  g_autoptr (GraphLayout) layout = layout_of (tg);
  g_autoptr (GError) error = NULL;
  g_autofree char *png = g_test_build_filename (G_TEST_BUILT, "graph-q.png", NULL);
  g_autofree char *svg = g_test_build_filename (G_TEST_BUILT, "graph-q.svg", NULL);
  g_autofree char *pdf = g_test_build_filename (G_TEST_BUILT, "graph-q.pdf", NULL);
  GraphExportFormat format;
  cairo_surface_t *image;
  double w, h;

  graph_export_page_size (layout, TRUE, &w, &h);
  g_assert_cmpfloat (w, >, layout->width + 2 * GRAPH_EXPORT_MARGIN);

  /* PNG at 2×: reopened by cairo, twice the page, drawn. */
  g_assert_true (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, 2.0, TRUE, png, &error));
  g_assert_no_error (error);
  image = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (image), ==, (int) ceil (2 * w));
  g_assert_cmpint (cairo_image_surface_get_height (image), ==, (int) ceil (2 * h));
  g_assert_cmpuint (test_pixel (image, 0, 0), ==, 0xffffffff);
  {
    int dark = 0;

    for (int y = 0; y < cairo_image_surface_get_height (image); y += 2)
      for (int x = 0; x < cairo_image_surface_get_width (image); x += 2)
        dark += (test_pixel (image, x, y) & 0xff) < 0x80;
    g_assert_cmpint (dark, >, 500);   /* text and lines */
  }
  cairo_surface_destroy (image);

  g_assert_true (graph_export_to_file (layout, NULL, GRAPH_EXPORT_SVG, 1.5, TRUE, svg, &error));
  g_assert_no_error (error);
  check_svg (svg, w * 1.5, h * 1.5);

  g_assert_true (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PDF, 1.0, FALSE, pdf, &error));
  g_assert_no_error (error);
  check_pdf (pdf);

  /* In memory: the same bytes as the file. */
  {
    g_autoptr (GBytes) bytes = NULL;
    g_autofree char *file_data = NULL;
    gsize file_length;

    bytes = graph_export_to_bytes (layout, NULL, GRAPH_EXPORT_PNG, 2.0, TRUE, &error);
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (png, &file_data, &file_length, NULL));
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), file_data,
                     file_length);
    g_assert_null (graph_export_to_bytes (layout, NULL, GRAPH_EXPORT_SVG, -1, TRUE, &error));
    g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
    g_clear_error (&error);
  }

  /* Formats by name and by file name. */
  g_assert_true (graph_export_format_from_string ("SVG", &format, &error));
  g_assert_cmpint (format, ==, GRAPH_EXPORT_SVG);
  g_assert_true (graph_export_format_from_filename ("slides/graph.pdf", &format));
  g_assert_cmpint (format, ==, GRAPH_EXPORT_PDF);
  g_assert_false (graph_export_format_from_filename ("graph", &format));
  g_assert_false (graph_export_format_from_string ("jpeg", &format, &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "jpeg"));
  g_clear_error (&error);
  g_assert_cmpstr (graph_export_format_to_string (GRAPH_EXPORT_PNG), ==, "png");
}

static void
test_export_errors (void)
{
  g_autoptr (TestGraph) tg = test_graph_new_q (FALSE);
  g_autoptr (GraphLayout) layout = layout_of (tg);
  g_autoptr (GError) error = NULL;
  g_autofree char *png = g_test_build_filename (G_TEST_BUILT, "graph-q-errors.png", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *again = NULL;
  const char *missing = "/nonexistent-gradlens-dir/graph.svg";

  /* A folder that does not exist: an I/O error naming the file. */
  g_assert_false (graph_export_to_file (layout, NULL, GRAPH_EXPORT_SVG, 1, TRUE, missing,
                                        &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* Bad scales. */
  g_assert_false (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, 0, TRUE, png, &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
  g_clear_error (&error);
  g_assert_false (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, NAN, TRUE, png,
                                        &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
  g_clear_error (&error);

  /* A PNG too large for cairo fails cleanly, leaving the file that was there. */
  g_assert_true (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, 1, TRUE, png, &error));
  g_assert_true (g_file_get_contents (png, &contents, NULL, NULL));
  g_assert_false (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, 200, TRUE, png,
                                        &error));
  g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
  g_assert_nonnull (strstr (error->message, "SVG or PDF"));
  g_assert_true (g_file_get_contents (png, &again, NULL, NULL));
  g_assert_cmpstr (contents, ==, again);
  g_unlink (png);
  g_clear_error (&error);

  /* SVG and PDF refuse scales whose text FreeType cannot draw, up front, naming
   * the limit (1e4 failed with "error occurred in libfreetype"). */
  for (GraphExportFormat f = GRAPH_EXPORT_SVG; f <= GRAPH_EXPORT_PDF; f++)
    {
      g_autoptr (GBytes) ok = graph_export_to_bytes (layout, NULL, f, 1000, TRUE, &error);
      g_assert_no_error (error);
      g_assert_null (graph_export_to_bytes (layout, NULL, f, 1e4, TRUE, &error));
      g_assert_error (error, GRAPH_EXPORT_ERROR, GRAPH_EXPORT_ERROR_SCALE);
      g_assert_nonnull (strstr (error->message, "up to 1000"));
      g_clear_error (&error);
    }
}

/* gradlens-cli graph NAME --format png|svg|pdf draws the same picture. */
static void
test_cli_export (void)
{
  const char *formats[] = { "png", "svg", "pdf" };

  for (guint k = 0; k < G_N_ELEMENTS (formats); k++)
    {
      g_autofree char *name = g_strdup_printf ("graph-cli-autograd.%s", formats[k]);
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, name, NULL);
      g_auto (Run) run = { 0 };

      if (!run_cli (&run, "graph", "autograd", "--at", "backward", "--format", formats[k],
                    "--scale", "1.5", "-o", path, NULL))
        return;
      g_test_message ("%s", run.err);
      g_assert_cmpint (run.status, ==, 0);

      if (k == 0)
        {
          cairo_surface_t *image = cairo_image_surface_create_from_png (path);

          g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
          g_assert_cmpint (cairo_image_surface_get_width (image), >, 300);
          cairo_surface_destroy (image);
        }
      else if (k == 1)
        {
          g_autofree char *text = NULL;

          g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
          g_assert_true (g_str_has_prefix (text, "<?xml"));
          g_assert_nonnull (strstr (text, "<svg"));
        }
      else
        check_pdf (path);
    }

  /* A bad scale is an error, with a message. */
  {
    g_auto (Run) run = { 0 };

    g_assert_true (run_cli (&run, "graph", "autograd", "--format", "png", "--scale", "0", "-o",
                            "/dev/null", NULL));
    g_assert_cmpint (run.status, !=, 0);
    g_assert_nonnull (strstr (run.err, "scale"));
  }
}

/* resnet18's step after backward, whole, at 100 %: for a person to look at. */
static void
test_export_resnet18 (void)
{
  const char *frozen[] = { NULL, "layer1" };
  const char *names[] = { "graph-resnet18-step.png", "graph-resnet18-frozen-layer1.png" };

  for (guint k = 0; k < G_N_ELEMENTS (frozen); k++)
    {
      g_autoptr (TestGraph) tg = test_graph_new_resnet18 (frozen[k], TRUE);
      g_autoptr (GraphLayout) layout = layout_of (tg);
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, names[k], NULL);
      cairo_surface_t *image;
      double w, h;

      g_assert_true (graph_export_to_file (layout, NULL, GRAPH_EXPORT_PNG, 1.0, TRUE, path,
                                           &error));
      g_assert_no_error (error);
      graph_export_page_size (layout, TRUE, &w, &h);
      image = cairo_image_surface_create_from_png (path);
      g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
      g_assert_cmpint (cairo_image_surface_get_height (image), ==, (int) h);
      /* The whole width, legend included, fits a 1920-pixel slice at 100 %. */
      g_assert_cmpint (cairo_image_surface_get_width (image), <=, 1920);
      cairo_surface_destroy (image);
      g_test_message ("saved %s (%.0fx%.0f)", path, w, h);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/graph-export/export", test_export);
  g_test_add_func ("/ui/graph-export/errors", test_export_errors);
  g_test_add_func ("/ui/graph-export/resnet18", test_export_resnet18);
  g_test_add_func ("/ui/graph-export/cli", test_cli_export);

  return g_test_run ();
}

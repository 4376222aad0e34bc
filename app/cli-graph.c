/* cli-graph.c: `gradlens-cli graph NAME`, a lesson's autograd graph
 *
 *   gradlens-cli graph resnet18-step                    JSON after the forward pass
 *   gradlens-cli graph autograd --at backward --format dot -o q.dot
 *   gradlens-cli graph resnet18-step --at backward --format png -o step.png --scale 2
 *
 * The lesson runs in the stepper until the moment asked for (--at forward: when
 * backward is about to start, so the whole forward graph is there; --at backward:
 * when the phase after the first backward starts; --at end), and the graph below
 * the lesson's graph variable (loss, Q, y, ...) is written out. PNG, SVG and PDF
 * are the graph view's own picture (ui/core/graph-export.h), whole, with its legend.
 */

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-lesson.h"
#include "graph-export.h"
#include "output-file.h"
#include "stepper.h"

typedef enum
{
  GRAPH_FORMAT_JSON,
  GRAPH_FORMAT_DOT,
  GRAPH_FORMAT_PNG,
  GRAPH_FORMAT_SVG,
  GRAPH_FORMAT_PDF,
} GraphFormat;

/* The names --format takes, which are also the file extensions -o recognises
 * (any case; .gv is DOT too). PNG and PDF are binary: never written to a terminal. */
static const struct
{
  const char *name;
  GraphFormat format;
  gboolean binary;
} formats[] = {
  { "json", GRAPH_FORMAT_JSON, FALSE },
  { "dot", GRAPH_FORMAT_DOT, FALSE },
  { "gv", GRAPH_FORMAT_DOT, FALSE },
  { "png", GRAPH_FORMAT_PNG, TRUE },
  { "svg", GRAPH_FORMAT_SVG, FALSE },
  { "pdf", GRAPH_FORMAT_PDF, TRUE },
};

/* The row of formats[] named name (any case), or -1. */
static int
find_format (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_ascii_strcasecmp (name, formats[i].name) == 0)
      return (int) i;
  return -1;
}

/* The format: --format's, else -o's extension, else JSON. An extension that is
 * none of formats[] is an error rather than JSON in a file named .png. */
static int
choose_format (const char  *format_name,
               const char  *output,
               GError     **error)
{
  if (format_name != NULL)
    {
      int i = find_format (format_name);
      if (i < 0)
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     _("--format %s: give json, dot, png, svg or pdf"), format_name);
      return i;
    }
  if (output != NULL)
    {
      g_autofree char *base = g_path_get_basename (output);
      const char *dot = strrchr (base, '.');
      if (dot != NULL && dot != base)
        {
          int i = find_format (dot + 1);
          if (i < 0)
            g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         _("-o %s: “%s” is not a format this writes (.json, .dot, .png, .svg, "
                         ".pdf): give --format"), output, dot);
          return i;
        }
    }
  return find_format ("json");
}

/* The picture: laid out by dot and painted as the graph view paints it. */
static char *
graph_picture (Node         *root,
               GraphFormat   format,
               double        scale,
               gsize        *length,
               GError      **error)
{
  g_autoptr (GPtrArray) nodes = autograd_collect_nodes (root);
  g_autoptr (GraphModel) model = graph_model_new (nodes);
  g_autoptr (GraphLayout) layout = NULL;
  GBytes *bytes;

  layout = graph_layout_new (model, NULL, error);
  if (layout == NULL)
    return NULL;
  bytes = graph_export_to_bytes (layout, NULL,
                                 format == GRAPH_FORMAT_PNG ? GRAPH_EXPORT_PNG
                                 : format == GRAPH_FORMAT_SVG ? GRAPH_EXPORT_SVG
                                 : GRAPH_EXPORT_PDF,
                                 scale, TRUE, error);
  if (bytes == NULL)
    return NULL;

  return g_bytes_unref_to_data (bytes, length);
}

/* Run the stepper to the moment named by at; FALSE with error if the lesson failed
 * on the way. */
static gboolean
run_to (Stepper     *stepper,
        const char  *at,
        GError     **error)
{
  StepperStatus status;

  if (g_str_equal (at, "forward"))
    status = stepper_run_to_phase_sync (stepper, LESSON_PHASE_BACKWARD);
  else if (g_str_equal (at, "backward"))
    {
      status = stepper_run_to_phase_sync (stepper, LESSON_PHASE_BACKWARD);
      if (status == STEPPER_PAUSED)
        status = stepper_run_to_phase_end_sync (stepper);
    }
  else
    status = stepper_run_to_end_sync (stepper);

  if (status == STEPPER_FINISHED)
    return stepper_get_result (stepper, error);
  return TRUE;
}

/* The picture formats (png, svg, pdf) are drawn by ui/. */
static char *
graph_export (LessonRun    *run,
              Node         *root,
              GraphFormat   format,
              double        scale,
              gsize        *length,
              GError      **error)
{
  char *text = NULL;

  switch (format)
    {
    case GRAPH_FORMAT_JSON:
      text = lesson_graph_to_json (run, root);
      break;
    case GRAPH_FORMAT_DOT:
      text = lesson_graph_to_dot (run, root);
      break;
    case GRAPH_FORMAT_PNG:
    case GRAPH_FORMAT_SVG:
    case GRAPH_FORMAT_PDF:
      return graph_picture (root, format, scale, length, error);
    }
  *length = strlen (text);
  return text;
}

gboolean
cli_graph (int      argc,
           char   **argv,
           GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *at = NULL;
  g_autofree char *format_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *data = NULL;
  CliLessonOptions opts;
  LessonParams params;
  GraphFormat format;
  int format_row;
  const Lesson *lesson;
  Stepper *stepper;
  Node *root;
  gsize length = 0;
  double scale = 1.0;
  gboolean ok;
  const GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at,
      N_("When: forward (the forward pass done, default), backward (after it), end"), "WHEN" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name,
      N_("json, dot, or a picture: png, svg, pdf (default: -o's extension, else json)"),
      "FORMAT" },
    { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale,
      N_("Picture size: 1 (default) is 100 %, one pixel or point per unit"), "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Write to FILE instead of stdout (PNG and PDF never go to a terminal)"), "FILE" },
    { NULL }
  };

  context = cli_lesson_option_context_new ("graph",
                                           _("Write a lesson's autograd graph (nodes and "
                                           "next_functions edges) as JSON or Graphviz DOT, or "
                                           "draw it as PNG, SVG or PDF."), entries, &opts);
  if (!g_option_context_parse (context, &argc, &argv, error))
    {
      cli_lesson_options_clear (&opts);
      return FALSE;
    }

  if (at == NULL)
    at = g_strdup ("forward");
  if (!g_str_equal (at, "forward") && !g_str_equal (at, "backward") && !g_str_equal (at, "end"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--at %s: give forward, backward or end"), at);
      cli_lesson_options_clear (&opts);
      return FALSE;
    }
  format_row = choose_format (format_name, output, error);
  if (format_row < 0)
    {
      cli_lesson_options_clear (&opts);
      return FALSE;
    }
  format = formats[format_row].format;
  if (output == NULL && formats[format_row].binary && isatty (STDOUT_FILENO))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("a %s picture is binary: not written to a terminal (give -o FILE, or "
                   "redirect the output)"), formats[format_row].name);
      cli_lesson_options_clear (&opts);
      return FALSE;
    }

  lesson = cli_lesson_from_args (argc, argv, error);
  ok = lesson != NULL && cli_lesson_options_finish (&opts, &params, error);
  cli_lesson_options_clear (&opts);
  if (!ok)
    return FALSE;

  stepper = stepper_new (lesson, &params, 0, NULL, NULL, NULL);
  lesson_params_clear (&params);

  ok = run_to (stepper, at, error);
  if (ok)
    {
      /* Paused or finished: the graph can be read. */
      root = lesson_run_get_graph_root (stepper_get_run (stepper));
      if (root == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                       _("lesson %s has no graph at %s (%s has no grad_fn)"), lesson->name, at,
                       lesson->graph_variable);
          ok = FALSE;
        }
      else
        {
          data = graph_export (stepper_get_run (stepper), root, format, scale, &length, error);
          ok = data != NULL;
        }
    }
  stepper_free (stepper);
  if (!ok)
    return FALSE;

  if (output)
    return output_file_set_contents (output, data, length, "write", error);
  cli_write_stdout (data, length);
  return TRUE;
}

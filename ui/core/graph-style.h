/* graph-style.h: the fonts and box metrics the graph layout and painter share
 *
 * The layout sizes each box from its measured label; the painter draws that
 * label inside it. Both must agree to the pixel, so both measure and draw text
 * through these functions: cairo's toy text API with one font per style, hint
 * metrics off so widths scale linearly with the zoom. The toy API neither
 * shapes nor orders right-to-left text, so a label in a script that needs it
 * (a translation into Persian: "۲ از ۳ گرادیان رسید") goes through Pango
 * instead, with the same font, size and metrics options; Latin labels, the
 * graph's grad_fns, names and shapes, keep the toy API's exact pixels.
 *
 *   double w = graph_text_width (GRAPH_TEXT_TITLE, "ConvolutionBackward0");
 *   graph_text_select (cr, GRAPH_TEXT_TITLE);
 *   cairo_move_to (cr, x, baseline);
 *   graph_text_show (cr, GRAPH_TEXT_TITLE, "ConvolutionBackward0");
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  GRAPH_TEXT_TITLE,      /* a node's grad_fn or parameter name: bold */
  GRAPH_TEXT_BODY,       /* module path, shape, state */
  GRAPH_TEXT_CLUSTER,    /* a module cluster's label: bold, small */
  GRAPH_TEXT_LEGEND,
  GRAPH_TEXT_COUNT
} GraphTextStyle;

#define GRAPH_FONT_FAMILY      "Sans"

/* Box metrics, graph units (points; 1 unit = 1 pixel at 100 %). */
#define GRAPH_NODE_PAD_X       10.0
#define GRAPH_NODE_PAD_Y       6.0
#define GRAPH_LINE_GAP         2.0
#define GRAPH_NODE_RADIUS      6.0
#define GRAPH_NODE_MIN_WIDTH   64.0
#define GRAPH_CLUSTER_PAD      8.0

double graph_text_size     (GraphTextStyle style);
/* Draws text in style with its baseline's start at the current point (after
 * graph_text_select), shaped by Pango when its script needs it. */
void   graph_text_show     (cairo_t *cr, GraphTextStyle style, const char *text);
/* Advance width of text in style, graph units. */
double graph_text_width    (GraphTextStyle style, const char *text);
/* Height of one line (ascent + descent) and its ascent. */
double graph_text_height   (GraphTextStyle style);
double graph_text_ascent   (GraphTextStyle style);
/* Sets cr's font face, size and options to the style's. */
void   graph_text_select   (cairo_t *cr, GraphTextStyle style);

G_END_DECLS

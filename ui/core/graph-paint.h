/* graph-paint.h: drawing a laid-out autograd graph on any cairo surface
 *
 * One pure function draws the picture the student learns from, in the widget
 * (through gtk_snapshot_append_cairo), in the CLI's PNG/SVG/PDF exports and in
 * tests on an image surface. It reads the layout, the model's live state and
 * the camera, and changes none of them.
 *
 *   GraphTheme theme;
 *   GraphPaintState state;
 *   graph_theme_init_light (&theme);
 *   graph_paint_state_init (&state, &theme);
 *   state.selected = graph_layout_find_key (layout, key);
 *   graph_paint (cr, layout, &state, &viewport);
 *
 * Looks (each explained by the legend): grad_fn boxes with PyTorch's name, module
 * path and shape; AccumulateGrad leaves with the parameter's name, shape and
 * whether .grad is None; frozen parameters and None slots greyed and dashed; the
 * node running now, ready, waiting ("2 of 3 gradients arrived") and done; saved
 * tensors held or freed; during and after backward, each edge's width and colour
 * show the gradient it carried on a log scale.
 */
#pragma once

#include <cairo.h>

#include "graph-layout.h"
#include "viewport.h"

G_BEGIN_DECLS

typedef struct
{
  double red, green, blue, alpha;
} GraphColor;

/* The colours; the widget fills them from the GTK theme, exports use a palette. */
typedef struct
{
  gboolean dark;
  GraphColor background;
  GraphColor text, text_dim;
  GraphColor node_fill, node_border;
  GraphColor leaf_fill, leaf_border;
  GraphColor frozen_fill, frozen_border, frozen_text;
  GraphColor none_border, none_text;
  GraphColor cluster_fill, cluster_border, cluster_text;
  GraphColor collapsed_fill, collapsed_border;
  GraphColor edge;
  GraphColor selection;
  GraphColor running, waiting, done;
  GraphColor saved;
  GraphColor grad_low, grad_high;  /* the smallest and largest gradient in the graph */
} GraphTheme;

void graph_theme_init_light (GraphTheme *theme);
void graph_theme_init_dark  (GraphTheme *theme);

typedef enum
{
  GRAPH_PAINT_BACKGROUND = 1 << 0,
  GRAPH_PAINT_GRAPH      = 1 << 1,   /* clusters, edges, boxes with their live states */
  GRAPH_PAINT_HIGHLIGHTS = 1 << 2,   /* selection and hover rings */
  GRAPH_PAINT_LEGEND     = 1 << 3,   /* in the viewport's top-left corner, screen pixels */
  GRAPH_PAINT_ALL        = 0xf,
} GraphPaintLayers;

/* Where boxes and clusters were when a re-layout happened (mid-animation
 * included), so that they can move to their new places. */
typedef struct _GraphTransition GraphTransition;

typedef struct
{
  const GraphTheme *theme;
  GraphPaintLayers layers;
  int selected;                      /* layout node, or -1 */
  int hovered;                       /* layout node, or -1 */
  int current;                       /* layout node drawn as running, besides the model's
                                      * RUNNING node (the op just recorded), or -1 */
  const GraphTransition *transition; /* NULL: no animation */
  double progress;                   /* of the transition, 0 → 1 */
} GraphPaintState;

void graph_paint_state_init (GraphPaintState *state, const GraphTheme *theme);

/* Paints into the viewport's screen rectangle (0, 0, width, height) of cr's user space. */
void graph_paint            (cairo_t               *cr,
                             const GraphLayout     *layout,
                             const GraphPaintState *state,
                             const Viewport        *viewport);

/* The legend on its own: its size, and painted with its top-left corner at (x, y).
 * layout (may be NULL) gives the range of the gradient scale. */
void graph_legend_size      (const GraphLayout *layout, double *width, double *height);
void graph_paint_legend     (cairo_t           *cr,
                             const GraphLayout *layout,
                             const GraphTheme  *theme,
                             double             x,
                             double             y);

/* The range of gradient norms along the edges, FALSE if none carried one yet. */
gboolean graph_layout_grad_range (const GraphLayout *layout, double *min, double *max);

/* A box's rectangle as drawn at this point of the transition; its opacity. */
double graph_paint_node_rect (const GraphLayout     *layout,
                              const GraphPaintState *state,
                              int                    node,
                              GraphRect             *rect);

/* from: the layout on screen; running: the transition it was in (or NULL) and
 * its progress, so that a re-layout mid-animation starts from where things are. */
GraphTransition *graph_transition_new  (const GraphLayout     *from,
                                        const GraphTransition *running,
                                        double                 progress);
void             graph_transition_free (GraphTransition *transition);

/* Ease-out cubic: fast start, gentle stop. */
double graph_ease_out (double t);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraphTransition, graph_transition_free)

G_END_DECLS

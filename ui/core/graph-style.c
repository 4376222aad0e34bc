/* graph-style.c: the fonts and box metrics the graph layout and painter share */

#include "graph-style.h"

typedef struct
{
  double size;
  cairo_font_weight_t weight;
} StyleSpec;

static const StyleSpec specs[GRAPH_TEXT_COUNT] = {
  [GRAPH_TEXT_TITLE]   = { 13.0, CAIRO_FONT_WEIGHT_BOLD },
  [GRAPH_TEXT_BODY]    = { 11.0, CAIRO_FONT_WEIGHT_NORMAL },
  [GRAPH_TEXT_CLUSTER] = { 11.0, CAIRO_FONT_WEIGHT_BOLD },
  [GRAPH_TEXT_LEGEND]  = { 12.0, CAIRO_FONT_WEIGHT_NORMAL },
};

typedef struct
{
  cairo_font_face_t *face;
  cairo_scaled_font_t *font;     /* at the style's size, identity device transform */
  cairo_font_options_t *options;
  double ascent, height;
} Style;

static Style styles[GRAPH_TEXT_COUNT];

/* Metrics unhinted, so that a label measured at 100 % is exactly as wide,
 * relative to its box, at any zoom and in any export. */
static cairo_font_options_t *
font_options_new (void)
{
  cairo_font_options_t *options = cairo_font_options_create ();

  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);

  return options;
}

static const Style *
style_get (GraphTextStyle style)
{
  static gsize initialised = 0;

  g_return_val_if_fail (style < GRAPH_TEXT_COUNT, &styles[0]);

  if (g_once_init_enter (&initialised))
    {
      for (int i = 0; i < GRAPH_TEXT_COUNT; i++)
        {
          cairo_matrix_t font_matrix, ctm;
          cairo_font_extents_t extents;
          Style *s = &styles[i];

          s->face = cairo_toy_font_face_create (GRAPH_FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                                                specs[i].weight);
          s->options = font_options_new ();
          cairo_matrix_init_scale (&font_matrix, specs[i].size, specs[i].size);
          cairo_matrix_init_identity (&ctm);
          s->font = cairo_scaled_font_create (s->face, &font_matrix, &ctm, s->options);
          cairo_scaled_font_extents (s->font, &extents);
          s->ascent = extents.ascent;
          s->height = extents.ascent + extents.descent;
        }
      g_once_init_leave (&initialised, 1);
    }

  return &styles[style];
}

double
graph_text_size (GraphTextStyle style)
{
  g_return_val_if_fail (style < GRAPH_TEXT_COUNT, 0);

  return specs[style].size;
}

double
graph_text_width (GraphTextStyle style,
                  const char    *text)
{
  cairo_text_extents_t extents;

  if (text == NULL || text[0] == '\0')
    return 0;
  cairo_scaled_font_text_extents (style_get (style)->font, text, &extents);

  return extents.x_advance;
}

double
graph_text_height (GraphTextStyle style)
{
  return style_get (style)->height;
}

double
graph_text_ascent (GraphTextStyle style)
{
  return style_get (style)->ascent;
}

void
graph_text_select (cairo_t        *cr,
                   GraphTextStyle  style)
{
  const Style *s = style_get (style);

  cairo_set_font_face (cr, s->face);
  cairo_set_font_size (cr, specs[style].size);
  cairo_set_font_options (cr, s->options);
}

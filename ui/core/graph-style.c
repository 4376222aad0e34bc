/* graph-style.c: the fonts and box metrics the graph layout and painter share */

#include "graph-style.h"

#include <pango/pangocairo.h>

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

/* Does text hold a script cairo's toy API cannot draw (Arabic, Hebrew, Indic,
 * ...: joined or reordered letters)? Latin, Greek, Cyrillic and the symbols the
 * graph uses (‖, ·, ×, …) it draws letter by letter correctly. */
static gboolean
text_needs_shaping (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      switch (g_unichar_get_script (g_utf8_get_char (p)))
        {
        case G_UNICODE_SCRIPT_COMMON:
        case G_UNICODE_SCRIPT_INHERITED:
        case G_UNICODE_SCRIPT_LATIN:
        case G_UNICODE_SCRIPT_GREEK:
        case G_UNICODE_SCRIPT_CYRILLIC:
          break;
        default:
          return TRUE;
        }
    }
  return FALSE;
}

/* A Pango layout of text in style, on cr or (cr NULL) on a context of its own
 * for measuring; unhinted metrics like the toy fonts. */
static PangoLayout *
pango_layout_for (cairo_t        *cr,
                  GraphTextStyle  style,
                  const char     *text)
{
  g_autoptr (PangoFontDescription) font = pango_font_description_new ();
  PangoContext *context;
  PangoLayout *layout;

  if (cr != NULL)
    {
      layout = pango_cairo_create_layout (cr);
      context = pango_layout_get_context (layout);
    }
  else
    {
      /* The per-thread default font map: the layout may run on a worker. */
      context = pango_font_map_create_context (pango_cairo_font_map_get_default ());
      layout = pango_layout_new (context);
      g_object_unref (context);
    }
  pango_cairo_context_set_font_options (context, style_get (style)->options);
  pango_font_description_set_family (font, GRAPH_FONT_FAMILY);
  pango_font_description_set_weight (font, specs[style].weight == CAIRO_FONT_WEIGHT_BOLD
                                             ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_absolute_size (font, specs[style].size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_context_changed (layout);
  pango_layout_set_text (layout, text, -1);

  return layout;
}

double
graph_text_width (GraphTextStyle style,
                  const char    *text)
{
  cairo_text_extents_t extents;

  if (text == NULL || text[0] == '\0')
    return 0;
  if (text_needs_shaping (text))
    {
      g_autoptr (PangoLayout) layout = pango_layout_for (NULL, style, text);
      PangoRectangle logical;

      pango_layout_get_extents (layout, NULL, &logical);
      return (double) logical.width / PANGO_SCALE;
    }
  cairo_scaled_font_text_extents (style_get (style)->font, text, &extents);

  return extents.x_advance;
}

void
graph_text_show (cairo_t        *cr,
                 GraphTextStyle  style,
                 const char     *text)
{
  g_autoptr (PangoLayout) layout = NULL;
  double x, y;

  if (text == NULL || text[0] == '\0')
    return;
  if (!text_needs_shaping (text))
    {
      cairo_show_text (cr, text);
      return;
    }
  layout = pango_layout_for (cr, style, text);
  cairo_get_current_point (cr, &x, &y);
  /* Pango draws from the top-left of the line; the toy API from the baseline. */
  cairo_move_to (cr, x, y - (double) pango_layout_get_baseline (layout) / PANGO_SCALE);
  pango_cairo_show_layout (cr, layout);
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

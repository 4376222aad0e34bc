/* code-view.c: the lesson's PyTorch program, with the executing line lit
 *
 * A GtkSourceView: Python highlighting, line numbers, no wrapping, the style
 * scheme (Adwaita or Adwaita-dark) following the theme. The executing line and
 * the breakpoints are GtkSourceMarks, drawn by the view's marks gutter: a
 * category per phase ("gradlens-line-backward": an arrow and a line background
 * in the phase's colour, theme_phase_color), one for an error, one for
 * breakpoints (a red dot). Marks are GtkTextMarks: a breakpoint moves with its
 * line when lines are inserted or removed above it.
 */

#include "code-view.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <gtksourceview/gtksource.h>

#include "theme.h"

#define CATEGORY_LINE "gradlens-line-"     /* + the phase: "gradlens-line-forward" */
#define CATEGORY_ERROR "gradlens-error"
#define CATEGORY_BREAKPOINT "gradlens-breakpoint"

/* The phases code-view knows a colour for; any other draws as "idle". */
static const char *const phases[] = {
  "idle", "forward", "backward", "optimizer", "zero-grad", "done",
};

struct _GradlensCodeView
{
  GtkWidget parent_instance;

  /* Template children. */
  GtkBox            *banner;
  GtkLabel          *phase_title;
  GtkLabel          *phase_detail;
  GtkScrolledWindow *scroller;
  GtkTextView       *text_view;     /* a GtkSourceView */
  GtkScrolledWindow *error_scroller;
  GtkLabel          *error_label;

  GtkSourceBuffer *buffer;
  GtkSourceMark   *current_mark;    /* the executing line's, or NULL */
  int          line;                /* 1-based, 0: none */
  gboolean     error;
  gboolean     dark;                /* the style scheme's */
  GArray      *breakpoints;         /* the lines ::breakpoints-changed last told */
  GtkTextTag  *error_tag;           /* under the columns an error points at */
  char        *error_text;          /* the banner's: message first, or NULL */
  int          error_column;        /* 1-based; 0: none */
  char        *phase;               /* "idle", "forward", ... */
  gboolean     loading;             /* set_code is replacing the text: no edit */
};

G_DEFINE_FINAL_TYPE (GradlensCodeView, gradlens_code_view, GTK_TYPE_WIDGET)

enum { BREAKPOINTS_CHANGED, EDITED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* --- The gutter's pictures --------------------------------------------------- */

typedef enum { ICON_ARROW, ICON_DOT, ICON_CROSS } IconShape;

/* A 64-pixel picture for the marks gutter (it scales it to a line's height):
 * drawn with cairo, handed over as a GdkPixbuf (straight RGBA, where cairo
 * keeps premultiplied ARGB in native order). */
static GdkPixbuf *
make_icon (IconShape      shape,
           const GdkRGBA *color)
{
  const int size = 64;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, size, size);
  cairo_t *cr = cairo_create (surface);
  GdkPixbuf *pixbuf;
  const guint8 *src;
  guint8 *dst;
  int src_stride, dst_stride;

  gdk_cairo_set_source_rgba (cr, color);
  switch (shape)
    {
    case ICON_ARROW:
      /* ▶ with a stem, pointing at the line. */
      cairo_rectangle (cr, 6, 24, 24, 16);
      cairo_move_to (cr, 26, 8);
      cairo_line_to (cr, 58, 32);
      cairo_line_to (cr, 26, 56);
      cairo_close_path (cr);
      cairo_fill (cr);
      break;
    case ICON_DOT:
      cairo_arc (cr, 32, 32, 22, 0, 2 * G_PI);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.25);
      cairo_set_line_width (cr, 3);
      cairo_stroke (cr);
      break;
    case ICON_CROSS:
      cairo_arc (cr, 32, 32, 26, 0, 2 * G_PI);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, 8);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to (cr, 21, 21);
      cairo_line_to (cr, 43, 43);
      cairo_move_to (cr, 43, 21);
      cairo_line_to (cr, 21, 43);
      cairo_stroke (cr);
      break;
    }
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, size, size);
  src = cairo_image_surface_get_data (surface);
  src_stride = cairo_image_surface_get_stride (surface);
  dst = gdk_pixbuf_get_pixels (pixbuf);
  dst_stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        guint32 argb = *(const guint32 *) (src + y * src_stride + 4 * x);
        guint a = argb >> 24;
        guint8 *p = dst + y * dst_stride + 4 * x;

        /* Un-premultiply: c = c' · 255 / a. */
        p[0] = a ? (((argb >> 16) & 0xff) * 255 + a / 2) / a : 0;
        p[1] = a ? (((argb >> 8) & 0xff) * 255 + a / 2) / a : 0;
        p[2] = a ? ((argb & 0xff) * 255 + a / 2) / a : 0;
        p[3] = a;
      }
  cairo_surface_destroy (surface);
  return pixbuf;
}

/* The gutter's tooltip over a mark: its category's words (user_data, N_()). */
static char *
mark_tooltip (GtkSourceMarkAttributes *attributes,
              GtkSourceMark           *mark,
              gpointer                 words)
{
  return g_strdup (_(words));
}

static void
add_category (GradlensCodeView *self,
              const char       *category,
              IconShape         shape,
              const char       *color_of,
              double            background_alpha,
              int               priority,
              const char       *tooltip)
{
  g_autoptr (GtkSourceMarkAttributes) attributes = gtk_source_mark_attributes_new ();
  g_autoptr (GdkPixbuf) icon = NULL;
  GdkRGBA color;

  theme_phase_color (color_of, &color);
  icon = make_icon (shape, &color);
  gtk_source_mark_attributes_set_pixbuf (attributes, icon);
  if (background_alpha > 0)
    {
      color.alpha = background_alpha;
      gtk_source_mark_attributes_set_background (attributes, &color);
    }
  g_signal_connect (attributes, "query-tooltip-text", G_CALLBACK (mark_tooltip),
                    (gpointer) tooltip);
  gtk_source_view_set_mark_attributes (GTK_SOURCE_VIEW (self->text_view), category, attributes,
                                       priority);
}

/* --- Light and dark ------------------------------------------------------------ */

static void
update_style_scheme (GradlensCodeView *self)
{
  GtkSourceStyleSchemeManager *manager = gtk_source_style_scheme_manager_get_default ();
  gboolean dark = theme_is_dark (GTK_WIDGET (self));
  GtkSourceStyleScheme *scheme;

  if (dark == self->dark && gtk_source_buffer_get_style_scheme (self->buffer) != NULL)
    return;
  self->dark = dark;
  scheme = gtk_source_style_scheme_manager_get_scheme (manager, dark ? "Adwaita-dark" : "Adwaita");
  if (scheme == NULL)
    scheme = gtk_source_style_scheme_manager_get_scheme (manager, dark ? "classic-dark" : "classic");
  gtk_source_buffer_set_style_scheme (self->buffer, scheme);
}

static void
gradlens_code_view_css_changed (GtkWidget         *widget,
                                GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (gradlens_code_view_parent_class)->css_changed (widget, change);
  update_style_scheme (GRADLENS_CODE_VIEW (widget));
}

/* --- The executing line --------------------------------------------------------- */

static const char *
known_phase (const char *phase)
{
  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    if (g_strcmp0 (phase, phases[i]) == 0)
      return phases[i];
  return "idle";
}

/* Puts the executing line's mark where self->line says, in the category of
 * self->phase (or of the error). */
static void
update_current_mark (GradlensCodeView *self)
{
  GtkTextBuffer *buffer = GTK_TEXT_BUFFER (self->buffer);
  g_autofree char *category = NULL;
  GtkTextIter iter;

  if (self->current_mark != NULL)
    {
      gtk_text_buffer_delete_mark (buffer, GTK_TEXT_MARK (self->current_mark));
      g_clear_object (&self->current_mark);
    }
  if (self->line <= 0)
    return;

  category = self->error ? g_strdup (CATEGORY_ERROR)
                         : g_strconcat (CATEGORY_LINE, known_phase (self->phase), NULL);
  gtk_text_buffer_get_iter_at_line (buffer, &iter, self->line - 1);
  self->current_mark = g_object_ref (gtk_source_buffer_create_source_mark (self->buffer, NULL,
                                                                           category, &iter));
}

/* --- Breakpoints ------------------------------------------------------------------ */

static GSList *
breakpoint_marks_at (GradlensCodeView *self,
                     int               line)
{
  return gtk_source_buffer_get_source_marks_at_line (self->buffer, line - 1, CATEGORY_BREAKPOINT);
}

/* Emits ::breakpoints-changed if the lines differ from those last told. */
static void
breakpoints_changed (GradlensCodeView *self)
{
  GArray *lines = gradlens_code_view_get_breakpoints (self);

  if (self->breakpoints != NULL && lines->len == self->breakpoints->len
      && memcmp (lines->data, self->breakpoints->data, lines->len * sizeof (int)) == 0)
    {
      g_array_unref (lines);
      return;
    }
  g_clear_pointer (&self->breakpoints, g_array_unref);
  self->breakpoints = lines;
  g_signal_emit (self, signals[BREAKPOINTS_CHANGED], 0);
}

/* An edit that adds or removes lines above a breakpoint moves it. */
static void
on_buffer_changed (GtkTextBuffer    *buffer,
                   GradlensCodeView *self)
{
  if (self->breakpoints != NULL && self->breakpoints->len > 0)
    breakpoints_changed (self);
  if (!self->loading)
    g_signal_emit (self, signals[EDITED], 0);
}

static void
on_line_mark_activated (GtkSourceView     *view,
                        const GtkTextIter *iter,
                        guint              button,
                        GdkModifierType    state,
                        int                n_presses,
                        GradlensCodeView  *self)
{
  if (button == GDK_BUTTON_PRIMARY && n_presses == 1)
    gradlens_code_view_toggle_breakpoint (self, gtk_text_iter_get_line (iter) + 1);
}

/* --- The widget ---------------------------------------------------------------------- */

static void
gradlens_code_view_dispose (GObject *object)
{
  GradlensCodeView *self = GRADLENS_CODE_VIEW (object);

  g_clear_object (&self->current_mark);
  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_CODE_VIEW);

  G_OBJECT_CLASS (gradlens_code_view_parent_class)->dispose (object);
}

static void
gradlens_code_view_finalize (GObject *object)
{
  GradlensCodeView *self = GRADLENS_CODE_VIEW (object);

  g_free (self->phase);
  g_free (self->error_text);
  g_clear_pointer (&self->breakpoints, g_array_unref);

  G_OBJECT_CLASS (gradlens_code_view_parent_class)->finalize (object);
}

static void
gradlens_code_view_class_init (GradlensCodeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_code_view_dispose;
  object_class->finalize = gradlens_code_view_finalize;
  widget_class->css_changed = gradlens_code_view_css_changed;

  /* Idempotent; registers GtkSourceView's types for the template. */
  gtk_source_init ();
  g_type_ensure (GTK_SOURCE_TYPE_VIEW);

  /**
   * GradlensCodeView::breakpoints-changed:
   *
   * The breakpoints' lines changed: one was set or cleared (a click in the
   * gutter, gradlens_code_view_toggle_breakpoint), an edit moved them, or
   * new code dropped them all.
   */
  signals[BREAKPOINTS_CHANGED] = g_signal_new ("breakpoints-changed", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 0);

  /**
   * GradlensCodeView::edited:
   *
   * The student changed the text (typing, pasting, undo), not set_code.
   */
  signals[EDITED] = g_signal_new ("edited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/code-view.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, banner);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, phase_title);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, phase_detail);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, text_view);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, error_scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, error_label);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "codeview");
}

static void
gradlens_code_view_init (GradlensCodeView *self)
{
  GtkSourceLanguageManager *languages = gtk_source_language_manager_get_default ();
  GtkSourceLanguage *python;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* Python reads left to right, with its line numbers on the left, in a
   * right-to-left window too. */
  gtk_widget_set_direction (GTK_WIDGET (self->text_view), GTK_TEXT_DIR_LTR);
  gtk_widget_set_direction (GTK_WIDGET (self->error_scroller), GTK_TEXT_DIR_LTR);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->phase = g_strdup ("idle");
  self->buffer = GTK_SOURCE_BUFFER (gtk_text_view_get_buffer (self->text_view));

  python = gtk_source_language_manager_get_language (languages, "python3");
  if (python == NULL)
    python = gtk_source_language_manager_get_language (languages, "python");
  gtk_source_buffer_set_language (self->buffer, python);
  gtk_source_buffer_set_highlight_syntax (self->buffer, TRUE);
  gtk_source_buffer_set_highlight_matching_brackets (self->buffer, FALSE);
  update_style_scheme (self);
  self->error_tag = gtk_text_buffer_create_tag (GTK_TEXT_BUFFER (self->buffer), "error-column",
                                                "underline", PANGO_UNDERLINE_ERROR,
                                                "underline-rgba",
                                                &(GdkRGBA) { 0.88, 0.11, 0.14, 1.0 },
                                                NULL);

  /* The executing line above a breakpoint's dot (priority), both in the
   * gutter; the line's background in the phase's colour, translucent so it
   * reads on Adwaita and Adwaita-dark alike. */
  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      g_autofree char *category = g_strconcat (CATEGORY_LINE, phases[i], NULL);

      add_category (self, category, ICON_ARROW, phases[i], 0.24, 20,
                    N_("The line about to run"));
    }
  add_category (self, CATEGORY_ERROR, ICON_CROSS, "error", 0.30, 30,
                N_("The program stopped here with an error"));
  add_category (self, CATEGORY_BREAKPOINT, ICON_DOT, "error", 0, 10,
                N_("Breakpoint: play and the run commands stop here. Click to remove it."));

  g_signal_connect (self->text_view, "line-mark-activated", G_CALLBACK (on_line_mark_activated),
                    self);
  g_signal_connect (self->buffer, "changed", G_CALLBACK (on_buffer_changed), self);
}

GtkWidget *
gradlens_code_view_new (void)
{
  return g_object_new (GRADLENS_TYPE_CODE_VIEW, NULL);
}

char *
gradlens_code_view_dup_text (GradlensCodeView *self)
{
  GtkTextIter start, end;

  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  gtk_text_buffer_get_bounds (GTK_TEXT_BUFFER (self->buffer), &start, &end);
  return gtk_text_buffer_get_text (GTK_TEXT_BUFFER (self->buffer), &start, &end, TRUE);
}

GtkTextView *
gradlens_code_view_get_text_view (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  return self->text_view;
}

void
gradlens_code_view_set_code (GradlensCodeView *self,
                             const char       *code)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;
  g_autofree char *old = NULL;
  gboolean had_breakpoints;

  g_return_if_fail (GRADLENS_IS_CODE_VIEW (self));

  if (code == NULL)
    code = "";
  buffer = GTK_TEXT_BUFFER (self->buffer);
  self->line = 0;
  self->error = FALSE;
  update_current_mark (self);
  gradlens_code_view_show_error (self, NULL, 0);

  /* The same program again (a reset): its breakpoints stay. */
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  old = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  if (g_str_equal (old, code))
    return;

  had_breakpoints = gradlens_code_view_get_n_breakpoints (self) > 0;
  gtk_source_buffer_remove_source_marks (self->buffer, &start, &end, CATEGORY_BREAKPOINT);
  /* Loading is no edit the student could undo. */
  self->loading = TRUE;
  gtk_text_buffer_begin_irreversible_action (buffer);
  gtk_text_buffer_set_text (buffer, code, -1);
  gtk_text_buffer_end_irreversible_action (buffer);
  self->loading = FALSE;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_place_cursor (buffer, &start);
  if (had_breakpoints)
    breakpoints_changed (self);
}

void
gradlens_code_view_set_line (GradlensCodeView *self,
                             int               line,
                             gboolean          error)
{
  GtkTextBuffer *buffer;

  g_return_if_fail (GRADLENS_IS_CODE_VIEW (self));

  buffer = GTK_TEXT_BUFFER (self->buffer);
  if (line < 0 || line > gtk_text_buffer_get_line_count (buffer))
    line = 0;
  if (line == self->line && error == self->error)
    return;

  self->line = line;
  self->error = error;
  update_current_mark (self);
  if (self->current_mark == NULL)
    return;
  gtk_text_view_scroll_to_mark (self->text_view, GTK_TEXT_MARK (self->current_mark),
                                0.2, FALSE, 0, 0);
  /* Reading, not writing: the cursor follows the program, so F12 puts a
   * breakpoint on the line it stands on (a click moves it elsewhere). */
  if (!gtk_text_view_get_editable (self->text_view))
    {
      GtkTextIter iter;

      gtk_text_buffer_get_iter_at_mark (buffer, &iter, GTK_TEXT_MARK (self->current_mark));
      gtk_text_buffer_place_cursor (buffer, &iter);
    }
}

int
gradlens_code_view_get_line (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), 0);

  return self->line;
}

void
gradlens_code_view_set_phase (GradlensCodeView *self,
                              const char       *phase,
                              const char       *title,
                              const char       *detail)
{
  g_autofree char *old_class = NULL;
  g_autofree char *new_class = NULL;

  g_return_if_fail (GRADLENS_IS_CODE_VIEW (self));
  g_return_if_fail (phase != NULL);

  old_class = g_strdup_printf ("phase-%s", self->phase);
  new_class = g_strdup_printf ("phase-%s", phase);
  gtk_widget_remove_css_class (GTK_WIDGET (self->banner), old_class);
  gtk_widget_add_css_class (GTK_WIDGET (self->banner), new_class);
  g_free (self->phase);
  self->phase = g_strdup (phase);

  /* The executing line's arrow and background take the phase's colour. */
  if (self->line > 0 && !self->error)
    update_current_mark (self);

  gtk_label_set_text (self->phase_title, title != NULL ? title : "");
  gtk_label_set_text (self->phase_detail, detail != NULL ? detail : "");
  gtk_widget_set_visible (GTK_WIDGET (self->phase_detail), detail != NULL && *detail);
}

const char *
gradlens_code_view_get_phase (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  return self->phase;
}

const char *
gradlens_code_view_get_phase_detail (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  return gtk_label_get_text (self->phase_detail);
}

const char *
gradlens_code_view_get_phase_title (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  return gtk_label_get_text (self->phase_title);
}

char *
gradlens_code_view_dup_line_text (GradlensCodeView *self,
                                  int               line)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  buffer = GTK_TEXT_BUFFER (self->buffer);
  if (line < 1 || line > gtk_text_buffer_get_line_count (buffer))
    return NULL;
  gtk_text_buffer_get_iter_at_line (buffer, &start, line - 1);
  end = start;
  if (!gtk_text_iter_ends_line (&end))
    gtk_text_iter_forward_to_line_end (&end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* --- Breakpoints --------------------------------------------------------------- */

gboolean
gradlens_code_view_has_breakpoint (GradlensCodeView *self,
                                   int               line)
{
  GSList *marks;

  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), FALSE);

  marks = breakpoint_marks_at (self, line);
  g_slist_free (marks);
  return marks != NULL;
}

int
gradlens_code_view_get_cursor_line (GradlensCodeView *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter iter;

  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), 0);

  buffer = GTK_TEXT_BUFFER (self->buffer);
  gtk_text_buffer_get_iter_at_mark (buffer, &iter, gtk_text_buffer_get_insert (buffer));
  return gtk_text_iter_get_line (&iter) + 1;
}

gboolean
gradlens_code_view_toggle_breakpoint (GradlensCodeView *self,
                                      int               line)
{
  GtkTextBuffer *buffer;
  GSList *marks;
  gboolean set;

  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), FALSE);

  buffer = GTK_TEXT_BUFFER (self->buffer);
  if (line == 0)
    line = gradlens_code_view_get_cursor_line (self);
  if (line < 1 || line > gtk_text_buffer_get_line_count (buffer))
    return FALSE;

  marks = breakpoint_marks_at (self, line);
  set = marks == NULL;
  if (set)
    {
      GtkTextIter iter;

      /* Left gravity at the line's start: text typed at the start of the
       * line pushes the line, and its breakpoint, down. */
      gtk_text_buffer_get_iter_at_line (buffer, &iter, line - 1);
      gtk_source_buffer_create_source_mark (self->buffer, NULL, CATEGORY_BREAKPOINT, &iter);
    }
  else
    for (GSList *l = marks; l != NULL; l = l->next)
      gtk_text_buffer_delete_mark (buffer, l->data);
  g_slist_free (marks);

  breakpoints_changed (self);
  return set;
}

GArray *
gradlens_code_view_get_breakpoints (GradlensCodeView *self)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (int));
  GtkTextIter iter;
  int last = 0;

  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), lines);

  /* In buffer order; two marks on one line (lines joined by an edit) count once. */
  gtk_text_buffer_get_start_iter (GTK_TEXT_BUFFER (self->buffer), &iter);
  do
    {
      GSList *marks = gtk_source_buffer_get_source_marks_at_iter (self->buffer, &iter,
                                                                  CATEGORY_BREAKPOINT);
      int line = gtk_text_iter_get_line (&iter) + 1;

      if (marks != NULL && line != last)
        {
          g_array_append_val (lines, line);
          last = line;
        }
      g_slist_free (marks);
    }
  while (gtk_source_buffer_forward_iter_to_source_mark (self->buffer, &iter, CATEGORY_BREAKPOINT));
  return lines;
}

guint
gradlens_code_view_get_n_breakpoints (GradlensCodeView *self)
{
  g_autoptr (GArray) lines = gradlens_code_view_get_breakpoints (self);

  return lines->len;
}

/* --- Errors -------------------------------------------------------------------------- */

/* Python's report of an exception (torch/_traceback.py prints it as Python
 * does):
 *
 *   Traceback (most recent call last):          <- not for a SyntaxError
 *     File "autograd.py", line 19, in <module>
 *       Q.backward(gradient=external_grad)
 *       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^      <- 3.11: where, in the line
 *   RuntimeError: Trying to backward ...        <- the exception, at column 0
 *
 * The last frame's line is where it was raised; its caret line, indented by 4
 * plus the columns of the source line's code before the caret once the
 * line's own indentation is stripped, gives the column. */
typedef struct
{
  int line;             /* 0: none */
  int caret;            /* offset of the first ^ or ~ in the stripped code; -1: none */
  int length;           /* how many columns the carets cover */
  char *message;        /* the exception's lines */
  char *frames;         /* the rest: "Traceback ...", the frames */
} Report;

static void
report_parse (const char *text,
              Report     *report)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GString) message = g_string_new (NULL);
  g_autoptr (GString) frames = g_string_new (NULL);
  gboolean in_message = FALSE;

  *report = (Report) { .caret = -1 };
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      const char *marks = g_str_has_prefix (l, "    ") ? l + 4 + strspn (l + 4, " ") : NULL;

      if (!in_message && g_str_has_prefix (l, "  File \"") && strstr (l, "\", line ") != NULL)
        {
          report->line = atoi (strstr (l, "\", line ") + strlen ("\", line "));
          report->caret = -1;
          report->length = 0;
        }
      else if (!in_message && report->line > 0 && marks != NULL && *marks != '\0'
               && strspn (marks, "^~") == strlen (marks))
        {
          /* The caret line: under the frame's code, stripped of its indentation. */
          report->caret = (int) (marks - (l + 4));
          report->length = (int) strlen (marks);
        }
      else if (!in_message && report->line > 0 && marks == l + 4 && *marks != '\0')
        {
          /* The frame's code. 3.11 draws no carets under a statement that
           * fails whole: then all of it is where. */
          report->caret = 0;
          report->length = (int) g_utf8_strlen (marks, -1);
        }
      else if (!in_message && *l != '\0' && *l != ' '
               && !g_str_has_prefix (l, "Traceback (most recent call last)"))
        in_message = TRUE;

      if (in_message)
        g_string_append_printf (message, "%s%s", message->len ? "\n" : "", l);
      else
        g_string_append_printf (frames, "%s%s", frames->len ? "\n" : "", l);
    }
  /* Not a traceback (an error of the lesson's own): all of it is the message. */
  if (message->len == 0)
    {
      g_string_assign (message, frames->str);
      g_string_truncate (frames, 0);
    }
  report->message = g_strdup (g_strchomp (message->str));
  report->frames = g_strdup (g_strchomp (frames->str));
}

void
gradlens_code_view_show_error (GradlensCodeView *self,
                               const char       *text,
                               int               fallback_line)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;
  Report report;
  int line;

  g_return_if_fail (GRADLENS_IS_CODE_VIEW (self));

  buffer = GTK_TEXT_BUFFER (self->buffer);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->error_tag, &start, &end);
  g_clear_pointer (&self->error_text, g_free);
  self->error_column = 0;
  if (text == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->error_scroller), FALSE);
      return;
    }

  report_parse (text, &report);
  line = report.line > 0 && report.line <= gtk_text_buffer_get_line_count (buffer)
           ? report.line : fallback_line;
  /* The message first, as the last thing Python prints is what a student
   * reads first; the frames under it. */
  self->error_text = *report.frames ? g_strdup_printf ("%s\n\n%s", report.message, report.frames)
                                    : g_strdup (report.message);
  gtk_label_set_text (self->error_label, self->error_text);
  gtk_widget_set_visible (GTK_WIDGET (self->error_scroller), TRUE);

  if (line > 0)
    {
      gradlens_code_view_set_line (self, line, TRUE);
      if (report.caret >= 0 && report.line == line)
        {
          GtkTextIter code;
          int indent = 0;

          /* The report strips the line's indentation: add it back. */
          gtk_text_buffer_get_iter_at_line (buffer, &code, line - 1);
          while (!gtk_text_iter_ends_line (&code)
                 && g_unichar_isspace (gtk_text_iter_get_char (&code)))
            {
              indent++;
              gtk_text_iter_forward_char (&code);
            }
          self->error_column = indent + report.caret + 1;
          gtk_text_buffer_get_iter_at_line_offset (buffer, &start, line - 1, 0);
          gtk_text_iter_forward_chars (&start, self->error_column - 1);
          if (gtk_text_iter_get_line (&start) != line - 1)
            gtk_text_buffer_get_iter_at_line (buffer, &start, line - 1);
          end = start;
          gtk_text_iter_forward_chars (&end, MAX (report.length, 1));
          if (gtk_text_iter_get_line (&end) != line - 1 || gtk_text_iter_ends_line (&start))
            {
              /* A SyntaxError at the line's end ("was never closed"). */
              end = start;
              if (!gtk_text_iter_ends_line (&end))
                gtk_text_iter_forward_to_line_end (&end);
              if (gtk_text_iter_equal (&start, &end))
                gtk_text_iter_backward_char (&start);
            }
          gtk_text_buffer_apply_tag (buffer, self->error_tag, &start, &end);
          gtk_text_buffer_place_cursor (buffer, &start);
        }
    }
  g_free (report.message);
  g_free (report.frames);
}

const char *
gradlens_code_view_get_error (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), NULL);

  return self->error_text;
}

int
gradlens_code_view_get_error_column (GradlensCodeView *self)
{
  g_return_val_if_fail (GRADLENS_IS_CODE_VIEW (self), 0);

  return self->error_column;
}

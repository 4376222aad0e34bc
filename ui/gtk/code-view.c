/* code-view.c: the lesson's PyTorch program, with the executing line lit */

#include "code-view.h"

struct _GradlensCodeView
{
  GtkWidget parent_instance;

  /* Template children. */
  GtkBox            *banner;
  GtkLabel          *phase_title;
  GtkLabel          *phase_detail;
  GtkScrolledWindow *scroller;
  GtkTextView       *text_view;

  GtkWidget   *gutter;          /* GtkDrawingArea in the text view's left window */
  GtkTextTag  *current_tag;
  GtkTextTag  *error_tag;
  GtkTextMark *current_mark;
  int          line;            /* 1-based, 0: none */
  gboolean     error;
  char        *phase;           /* "idle", "forward", ... */
};

G_DEFINE_FINAL_TYPE (GradlensCodeView, gradlens_code_view, GTK_TYPE_WIDGET)

static void
draw_gutter (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        user_data)
{
  GradlensCodeView *self = user_data;
  GtkTextView *view = self->text_view;
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (area));
  GdkRectangle visible;
  GtkTextIter iter;
  GdkRGBA fg;
  int line_top;

  gtk_style_context_get_color (style, &fg);
  gtk_text_view_get_visible_rect (view, &visible);
  gtk_text_view_get_line_at_y (view, &iter, visible.y, &line_top);

  for (;;)
    {
      int y, h, wx, wy, lw, lh;
      int number = gtk_text_iter_get_line (&iter) + 1;
      gboolean current = number == self->line;
      g_autofree char *text = NULL;
      PangoLayout *layout;

      gtk_text_view_get_line_yrange (view, &iter, &y, &h);
      if (y > visible.y + visible.height)
        break;
      gtk_text_view_buffer_to_window_coords (view, GTK_TEXT_WINDOW_LEFT, 0, y, &wx, &wy);

      text = g_strdup_printf ("%s%d", current ? "▶ " : "", number);
      layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), text);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, current ? 1.0 : 0.45);
      /* Right-aligned, centred on the line (lesson lines never wrap). */
      cairo_move_to (cr, width - 6 - lw, wy + (h - lh) / 2.0);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);

      if (!gtk_text_iter_forward_line (&iter))
        break;
    }
}

static void
update_gutter_width (GradlensCodeView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  g_autofree char *widest = NULL;
  PangoLayout *layout;
  int lines = gtk_text_buffer_get_line_count (buffer);
  int w, h;

  /* Room for "▶ " and the largest number. */
  widest = g_strdup_printf ("▶ %d", MAX (lines, 10));
  for (char *p = widest; *p; p++)
    if (g_ascii_isdigit (*p))
      *p = '8';
  layout = gtk_widget_create_pango_layout (self->gutter, widest);
  pango_layout_get_pixel_size (layout, &w, &h);
  g_object_unref (layout);
  gtk_widget_set_size_request (self->gutter, w + 14, -1);
}

static void
on_scrolled (GtkAdjustment    *adjustment,
             GradlensCodeView *self)
{
  gtk_widget_queue_draw (self->gutter);
}

static void
gradlens_code_view_dispose (GObject *object)
{
  GradlensCodeView *self = GRADLENS_CODE_VIEW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_CODE_VIEW);

  G_OBJECT_CLASS (gradlens_code_view_parent_class)->dispose (object);
}

static void
gradlens_code_view_finalize (GObject *object)
{
  GradlensCodeView *self = GRADLENS_CODE_VIEW (object);

  g_free (self->phase);

  G_OBJECT_CLASS (gradlens_code_view_parent_class)->finalize (object);
}

static void
gradlens_code_view_class_init (GradlensCodeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_code_view_dispose;
  object_class->finalize = gradlens_code_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/code-view.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, banner);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, phase_title);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, phase_detail);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensCodeView, text_view);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "codeview");
}

static void
gradlens_code_view_init (GradlensCodeView *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* Python reads left to right, with its line numbers on the left, in a
   * right-to-left window too. */
  gtk_widget_set_direction (GTK_WIDGET (self->text_view), GTK_TEXT_DIR_LTR);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->phase = g_strdup ("idle");

  buffer = gtk_text_view_get_buffer (self->text_view);
  /* Translucent, so the same colours read on light and dark themes. */
  self->current_tag = gtk_text_buffer_create_tag (buffer, "current-line",
                                                  "paragraph-background-rgba",
                                                  &(GdkRGBA) { 1.0, 0.76, 0.03, 0.35 },
                                                  "weight", PANGO_WEIGHT_BOLD,
                                                  NULL);
  self->error_tag = gtk_text_buffer_create_tag (buffer, "error-line",
                                                "paragraph-background-rgba",
                                                &(GdkRGBA) { 0.90, 0.11, 0.14, 0.30 },
                                                "weight", PANGO_WEIGHT_BOLD,
                                                NULL);
  gtk_text_buffer_get_start_iter (buffer, &start);
  self->current_mark = gtk_text_buffer_create_mark (buffer, "current", &start, TRUE);

  self->gutter = gtk_drawing_area_new ();
  gtk_widget_add_css_class (self->gutter, "line-numbers");
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->gutter), draw_gutter, self, NULL);
  gtk_text_view_set_gutter (self->text_view, GTK_TEXT_WINDOW_LEFT, self->gutter);
  update_gutter_width (self);

  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller), "value-changed",
                           G_CALLBACK (on_scrolled), self, 0);
}

GtkWidget *
gradlens_code_view_new (void)
{
  return g_object_new (GRADLENS_TYPE_CODE_VIEW, NULL);
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

  g_return_if_fail (GRADLENS_IS_CODE_VIEW (self));

  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_set_text (buffer, code != NULL ? code : "", -1);
  self->line = 0;
  update_gutter_width (self);
  gtk_widget_queue_draw (self->gutter);
}

void
gradlens_code_view_set_line (GradlensCodeView *self,
                             int               line,
                             gboolean          error)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  g_return_if_fail (GRADLENS_IS_CODE_VIEW (self));

  buffer = gtk_text_view_get_buffer (self->text_view);
  if (line > gtk_text_buffer_get_line_count (buffer))
    line = 0;
  if (line == self->line && error == self->error)
    return;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->current_tag, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->error_tag, &start, &end);
  self->line = line;
  self->error = error;

  if (line > 0)
    {
      gtk_text_buffer_get_iter_at_line (buffer, &start, line - 1);
      end = start;
      if (!gtk_text_iter_ends_line (&end))
        gtk_text_iter_forward_to_line_end (&end);
      /* Include the newline so the paragraph background spans the row. */
      gtk_text_iter_forward_char (&end);
      gtk_text_buffer_apply_tag (buffer, error ? self->error_tag : self->current_tag,
                                 &start, &end);
      gtk_text_buffer_move_mark (buffer, self->current_mark, &start);
      /* Well inside the view, so a wrapped line shows whole. */
      gtk_text_view_scroll_to_mark (self->text_view, self->current_mark, 0.3, FALSE, 0, 0);
    }

  gtk_widget_queue_draw (self->gutter);
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

  buffer = gtk_text_view_get_buffer (self->text_view);
  if (line < 1 || line > gtk_text_buffer_get_line_count (buffer))
    return NULL;
  gtk_text_buffer_get_iter_at_line (buffer, &start, line - 1);
  end = start;
  if (!gtk_text_iter_ends_line (&end))
    gtk_text_iter_forward_to_line_end (&end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

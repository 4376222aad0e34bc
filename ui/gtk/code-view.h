/* code-view.h: the lesson's PyTorch program, with the executing line lit
 *
 * A GtkSourceView (Python highlighting, line numbers, no wrapping: long lines
 * scroll sideways; Adwaita or Adwaita-dark as the theme is) whose gutter marks
 * the line being executed with an arrow in the phase's colour, and the
 * breakpoints with a red dot, under a phase banner that says, in a colour of
 * its own, where the lesson is: forward, backward, optimizer, zero_grad or
 * done, and what just happened. The student edits the program in it:
 * ::edited says so (set_code is no edit).
 *
 *   gradlens_code_view_set_code (view, lesson_text);
 *   gradlens_code_view_set_line (view, 4, FALSE);        // 1-based; 0: none
 *   gradlens_code_view_set_phase (view, "backward", "Backward pass",
 *                                 "PowBackward0 computed the gradient of a");
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADLENS_TYPE_CODE_VIEW (gradlens_code_view_get_type ())

G_DECLARE_FINAL_TYPE (GradlensCodeView, gradlens_code_view, GRADLENS, CODE_VIEW, GtkWidget)

GtkWidget  *gradlens_code_view_new        (void);
void        gradlens_code_view_set_code   (GradlensCodeView *self, const char *code);
/* The executing line, 1-based (0: none); error lights it in the error colour. */
void        gradlens_code_view_set_line   (GradlensCodeView *self, int line, gboolean error);
int         gradlens_code_view_get_line   (GradlensCodeView *self);
/* phase: a CSS-friendly id ("forward", "backward", "optimizer", "zero-grad",
 * "done", "idle") giving the banner its colour (class "phase-<id>"); title and
 * detail are the words shown. */
void        gradlens_code_view_set_phase  (GradlensCodeView *self, const char *phase,
                                           const char *title, const char *detail);
const char *gradlens_code_view_get_phase  (GradlensCodeView *self);
const char *gradlens_code_view_get_phase_title (GradlensCodeView *self);
const char *gradlens_code_view_get_phase_detail (GradlensCodeView *self);
/* The whole text, as the student left it; free with g_free. */
char       *gradlens_code_view_dup_text   (GradlensCodeView *self);
/* The text of a 1-based line, for tests and accessibility; free with g_free. */
char       *gradlens_code_view_dup_line_text (GradlensCodeView *self, int line);
GtkTextView *gradlens_code_view_get_text_view (GradlensCodeView *self);

/* Breakpoints, 1-based lines. They are marks in the text: they move with their
 * line when lines above it are inserted or removed. set_code with a different
 * program drops them. Any change of their lines emits ::breakpoints-changed. */
/* line 0: the cursor's line. TRUE if the line has a breakpoint now. */
gboolean    gradlens_code_view_toggle_breakpoint (GradlensCodeView *self, int line);
gboolean    gradlens_code_view_has_breakpoint    (GradlensCodeView *self, int line);
/* The lines with a breakpoint, ascending: a GArray of int (free it). */
GArray     *gradlens_code_view_get_breakpoints   (GradlensCodeView *self);
guint       gradlens_code_view_get_n_breakpoints (GradlensCodeView *self);
int         gradlens_code_view_get_cursor_line   (GradlensCodeView *self);

/* A failed run: text is Python's report of the exception (a traceback, or a
 * SyntaxError's), or any message. The line its last frame names (else
 * fallback_line; 0: none) is marked as the error's, the columns its carets
 * point at underlined, and a banner over the code shows the exception's
 * message first, then the frames. NULL: the banner goes. set_code clears it. */
void        gradlens_code_view_show_error        (GradlensCodeView *self, const char *text,
                                                  int fallback_line);
/* The banner's text (message first), or NULL. */
const char *gradlens_code_view_get_error         (GradlensCodeView *self);
/* The 1-based column the error points at; 0: none. */
int         gradlens_code_view_get_error_column  (GradlensCodeView *self);

G_END_DECLS

/* variable-list.h: the program's variables, like a debugger's locals
 *
 * One row per variable the lesson's program has made so far (a, b, Q, model,
 * optim, loss, ...), in the order it made them, each with what it holds: a
 * tensor's shape, requires_grad and grad_fn, or the module or optimizer.
 * Activating a row emits ::activated with the variable's name; the window shows
 * it in the inspector. The rows are text made in gradlens_variable_list_update,
 * which must run while the engine is paused.
 *
 *   gradlens_variable_list_update (list, lesson_run_get_variables (run));
 */
#pragma once

#include <gtk/gtk.h>

#include "lesson.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_VARIABLE_LIST (gradlens_variable_list_get_type ())

G_DECLARE_FINAL_TYPE (GradlensVariableList, gradlens_variable_list, GRADLENS, VARIABLE_LIST,
                      GtkWidget)

GtkWidget  *gradlens_variable_list_new        (void);
/* variables: LessonVar * (lesson_run_get_variables), or NULL for none. */
void        gradlens_variable_list_update     (GradlensVariableList *self, GPtrArray *variables);
guint       gradlens_variable_list_get_n_rows (GradlensVariableList *self);
/* Row i's name and summary ("(2,) requires_grad grad_fn=SubBackward0"). */
const char *gradlens_variable_list_get_name   (GradlensVariableList *self, guint i);
const char *gradlens_variable_list_get_summary (GradlensVariableList *self, guint i);
/* Emits ::activated for the row of that name; FALSE if there is none. */
gboolean    gradlens_variable_list_activate   (GradlensVariableList *self, const char *name);

/* "(2,) · requires_grad · grad_fn=SubBackward0", "ResNet", "SGD (lr 0.01, momentum 0.9)" */
char       *gradlens_variable_summary         (const LessonVar *var);

G_END_DECLS

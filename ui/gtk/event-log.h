/* event-log.h: what the stepper did, one sentence per event
 *
 * A read-only text view of the stepper's sentences ("MulBackward0 recorded for
 * 3 * a**3", "AccumulateGrad added the gradient into a.grad"), newest at the
 * bottom, each with a dot in its phase's colour. It follows the newest entry
 * unless the student scrolled up to read. The oldest entries go beyond
 * GRADLENS_EVENT_LOG_LIMIT.
 *
 *   gradlens_event_log_append (log, "backward", "SubBackward0 ran: ...");
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRADLENS_EVENT_LOG_LIMIT 5000

#define GRADLENS_TYPE_EVENT_LOG (gradlens_event_log_get_type ())

G_DECLARE_FINAL_TYPE (GradlensEventLog, gradlens_event_log, GRADLENS, EVENT_LOG, GtkWidget)

GtkWidget  *gradlens_event_log_new      (void);
/* phase: "forward", "backward", "optimizer", "zero-grad", "done", "error", "info". */
void        gradlens_event_log_append   (GradlensEventLog *self, const char *phase,
                                         const char *text);
void        gradlens_event_log_clear    (GradlensEventLog *self);
guint       gradlens_event_log_get_n_entries (GradlensEventLog *self);
/* Entry i's sentence (0 is the oldest kept); NULL past the end. */
const char *gradlens_event_log_get_text (GradlensEventLog *self, guint i);

G_END_DECLS

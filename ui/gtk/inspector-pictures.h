/* inspector-pictures.h: the inspector's pictures of a tensor, and its labels
 *
 * Each adds widgets to box. The pictures copy what they draw from the tensor
 * now: call them while the engine is paused.
 *
 *   inspector_add_heading (box, "Values");
 *   inspector_add_histogram (box, t);
 *   inspector_add_heatmap (box, t, "Slice");      // t[i, j, :, :], i and j chosen
 *   inspector_add_filters (box, conv1_weight);    // (64, 3, 7, 7) as RGB images
 */
#pragma once

#include <gtk/gtk.h>

#include "tensor.h"

G_BEGIN_DECLS

GtkWidget *inspector_add_label     (GtkBox *box, const char *text, const char *css_class);
void       inspector_add_heading   (GtkBox *box, const char *text);
void       inspector_add_histogram (GtkBox *box, const Tensor *t);
/* Nothing for fewer than 2 dimensions. */
void       inspector_add_heatmap   (GtkBox *box, const Tensor *t, const char *what);
/* Nothing unless t is (n, 3, kh, kw) with n ≤ 256. */
void       inspector_add_filters   (GtkBox *box, const Tensor *t);

G_END_DECLS

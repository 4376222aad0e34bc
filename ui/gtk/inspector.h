/* inspector.h: everything about the selected node or tensor
 *
 * For a grad_fn node: its PyTorch name, module, sequence number, where it is
 * in the running backward, its next_functions (each clickable: ::node-activated),
 * the tensors it saved for backward and whether they were freed, and the shape
 * of the gradient it receives. An AccumulateGrad node shows its leaf.
 *
 * For a tensor: shape, requires_grad, is_leaf, grad_fn, min/max/mean/std, a
 * histogram and a heat map of a chosen 2-D slice (its values when it is
 * small); conv1's 64 filters as little RGB images. For a parameter: .grad
 * (None, or its values) with how many backward passes it sums, the momentum
 * buffer, the value before and after the last SGD step and ‖Δw‖/‖w‖.
 *
 * The inspector copies what it shows when it is told to (show_* or refresh):
 * call those only while the engine is paused. Drawing never reads the engine.
 *
 *   gradlens_inspector_set_optimizer (inspector, sgd);
 *   gradlens_inspector_show_node (inspector, Q->grad_fn);
 *   gradlens_inspector_show_tensor (inspector, a, "a");
 */
#pragma once

#include <gtk/gtk.h>

#include "sgd.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_INSPECTOR (gradlens_inspector_get_type ())

G_DECLARE_FINAL_TYPE (GradlensInspector, gradlens_inspector, GRADLENS, INSPECTOR, GtkWidget)

/* A tensor's name for people ("a", "fc.weight"), or NULL. */
typedef const char *(*GradlensTensorNamer) (const Tensor *tensor, gpointer user_data);

GtkWidget  *gradlens_inspector_new           (void);
void        gradlens_inspector_set_namer     (GradlensInspector *self, GradlensTensorNamer namer,
                                              gpointer user_data);
/* The lesson's optimizer (not owned; NULL when there is none): momentum buffers
 * and last updates come from it. */
void        gradlens_inspector_set_optimizer (GradlensInspector *self, const Sgd *sgd);
void        gradlens_inspector_show_node     (GradlensInspector *self, Node *node);
void        gradlens_inspector_show_tensor   (GradlensInspector *self, Tensor *tensor,
                                              const char *name);
void        gradlens_inspector_clear         (GradlensInspector *self);
/* Re-reads the node or tensor shown (after a step). */
void        gradlens_inspector_refresh       (GradlensInspector *self);
Node       *gradlens_inspector_get_node      (GradlensInspector *self);
Tensor     *gradlens_inspector_get_tensor    (GradlensInspector *self);
/* What the inspector shows as the title ("MulBackward0", "a") and as .grad
 * ("None", "tensor([36., 81.])"): for tests and accessibility. */
const char *gradlens_inspector_get_title     (GradlensInspector *self);
const char *gradlens_inspector_get_grad_text (GradlensInspector *self);

G_END_DECLS

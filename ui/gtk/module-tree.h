/* module-tree.h: the model's modules and parameters, and which ones train
 *
 * A GtkColumnView over a GtkTreeListModel of the model (resnet18): every
 * module with its type and parameter count, every parameter with its shape,
 * and a Trainable check (requires_grad). Checking a module checks everything
 * below it; a module whose parameters are mixed shows the check inconsistent.
 * Totals of trainable and frozen parameters sit on top, with "Freeze All but
 * fc" and "Unfreeze All".
 *
 * The tree writes requires_grad into the model itself, so the owner must only
 * make it editable while the engine is not running (the stepper is paused or
 * ready): autograd reads requires_grad when an op records, so a change takes
 * effect at the next forward pass. ::changed tells the owner; ::selected
 * reports the row picked (a module path, or a parameter's full name and
 * tensor).
 *
 *   gradlens_module_tree_set_model (tree, model, "model");
 *   gradlens_module_tree_set_trainable (tree, "layer1", FALSE);
 *   gradlens_module_tree_get_counts (tree, &counts);   // trainable, frozen, total
 */
#pragma once

#include <gtk/gtk.h>

#include "module.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_MODULE_TREE (gradlens_module_tree_get_type ())

G_DECLARE_FINAL_TYPE (GradlensModuleTree, gradlens_module_tree, GRADLENS, MODULE_TREE, GtkWidget)

GtkWidget *gradlens_module_tree_new           (void);
/* model may be NULL (no model in this lesson, or not built yet). A reference is kept.
 * name: the program's variable for it, its root row's name (NULL: "model"). */
void       gradlens_module_tree_set_model     (GradlensModuleTree *self, Module *model,
                                               const char *name);
Module    *gradlens_module_tree_get_model     (GradlensModuleTree *self);
/* Re-read requires_grad from the model (after the engine changed it). */
void       gradlens_module_tree_refresh       (GradlensModuleTree *self);
void       gradlens_module_tree_set_editable  (GradlensModuleTree *self, gboolean editable,
                                               const char *why_not);
/* A sentence under the totals: what a change of Train does in this lesson,
 * or why it cannot be changed now (NULL: none). */
void       gradlens_module_tree_set_note      (GradlensModuleTree *self, const char *note);
const char *gradlens_module_tree_get_note     (GradlensModuleTree *self);
/* The one function behind the checks and the buttons. name: a module path
 * ("" is the whole model, "layer1.0") or a parameter's full name ("fc.bias").
 * FALSE if there is no such module or parameter (or no model). Emits ::changed. */
gboolean   gradlens_module_tree_set_trainable (GradlensModuleTree *self, const char *name,
                                               gboolean trainable);
void       gradlens_module_tree_freeze_all_but_fc (GradlensModuleTree *self);
void       gradlens_module_tree_unfreeze_all  (GradlensModuleTree *self);
void       gradlens_module_tree_get_counts    (GradlensModuleTree *self, ParamCounts *counts);
/* The shortest list of names that are frozen: whole modules where all of a
 * module is frozen, single parameters otherwise; empty if nothing is. */
char     **gradlens_module_tree_dup_frozen_names (GradlensModuleTree *self);
/* Selects and reveals the row of a module path or parameter name. */
gboolean   gradlens_module_tree_select        (GradlensModuleTree *self, const char *name);
/* The totals as shown, "Trainable 5,130 · Frozen 11,176,512". */
const char *gradlens_module_tree_get_totals_text (GradlensModuleTree *self);

/* 11689512 → "11,689,512". */
char      *gradlens_format_count              (gint64 n);

G_END_DECLS

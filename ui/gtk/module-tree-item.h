/* module-tree-item.h: one row of the module tree, a module or a parameter
 *
 * Internal to module-tree.c, which builds the items and reads their fields.
 * "trainable" and "inconsistent" are properties so the rows' checks can be
 * bound to them.
 */
#pragma once

#include <gio/gio.h>

#include "module.h"

G_BEGIN_DECLS

#define GRADLENS_TYPE_MODULE_ITEM (gradlens_module_item_get_type ())
G_DECLARE_FINAL_TYPE (GradlensModuleItem, gradlens_module_item, GRADLENS, MODULE_ITEM, GObject)

struct _GradlensModuleItem
{
  GObject parent_instance;

  Module     *module;       /* the module, or the parameter's owner (strong) */
  Tensor     *tensor;       /* the parameter, or NULL for a module row (strong) */
  char       *name;         /* own name: "layer1", "0", "weight"; "model" for the root */
  char       *full_name;    /* "layer1.0", "layer1.0.conv1.weight"; "" for the root */
  char       *detail;       /* "BasicBlock", "(64, 3, 7, 7)" */
  gint64      n_params;     /* elements of every parameter at and below it */
  gint64      n_trainable;
  GListStore *children;     /* of GradlensModuleItem: parameters, then child modules */
  gboolean    trainable;    /* all of it trains */
  gboolean    inconsistent; /* some of it does */
};

/* Sets both states, notifying what changed. */
void gradlens_module_item_set_state (GradlensModuleItem *item, gboolean trainable,
                                     gboolean inconsistent);

G_END_DECLS

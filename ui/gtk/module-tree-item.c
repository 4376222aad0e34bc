/* module-tree-item.c: one row of the module tree, a module or a parameter */

#include "module-tree-item.h"

G_DEFINE_FINAL_TYPE (GradlensModuleItem, gradlens_module_item, G_TYPE_OBJECT)

enum {
  ITEM_PROP_0,
  ITEM_PROP_TRAINABLE,
  ITEM_PROP_INCONSISTENT,
  ITEM_N_PROPS
};

static GParamSpec *item_properties[ITEM_N_PROPS];

static void
gradlens_module_item_finalize (GObject *object)
{
  GradlensModuleItem *self = GRADLENS_MODULE_ITEM (object);

  g_clear_pointer (&self->module, module_unref);
  g_clear_pointer (&self->tensor, tensor_unref);
  g_free (self->name);
  g_free (self->full_name);
  g_free (self->detail);
  g_clear_object (&self->children);

  G_OBJECT_CLASS (gradlens_module_item_parent_class)->finalize (object);
}

static void
gradlens_module_item_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  GradlensModuleItem *self = GRADLENS_MODULE_ITEM (object);

  switch (prop_id)
    {
    case ITEM_PROP_TRAINABLE:
      g_value_set_boolean (value, self->trainable);
      break;

    case ITEM_PROP_INCONSISTENT:
      g_value_set_boolean (value, self->inconsistent);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gradlens_module_item_class_init (GradlensModuleItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gradlens_module_item_finalize;
  object_class->get_property = gradlens_module_item_get_property;

  item_properties[ITEM_PROP_TRAINABLE] =
    g_param_spec_boolean ("trainable", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  item_properties[ITEM_PROP_INCONSISTENT] =
    g_param_spec_boolean ("inconsistent", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_properties);
}

static void
gradlens_module_item_init (GradlensModuleItem *self)
{
}

void
gradlens_module_item_set_state (GradlensModuleItem *item,
                                gboolean            trainable,
                                gboolean            inconsistent)
{
  if (item->trainable != trainable)
    {
      item->trainable = trainable;
      g_object_notify_by_pspec (G_OBJECT (item), item_properties[ITEM_PROP_TRAINABLE]);
    }
  if (item->inconsistent != inconsistent)
    {
      item->inconsistent = inconsistent;
      g_object_notify_by_pspec (G_OBJECT (item), item_properties[ITEM_PROP_INCONSISTENT]);
    }
}


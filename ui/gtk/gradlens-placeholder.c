/* gradlens-placeholder.c: an empty pane's stand-in */

#include "gradlens-placeholder.h"

struct _GradlensPlaceholder
{
  GtkWidget parent_instance;

  GtkBox   *box;
  GtkImage *image;
  GtkLabel *title_label;
  GtkLabel *description_label;

  gboolean compact;
};

G_DEFINE_FINAL_TYPE (GradlensPlaceholder, gradlens_placeholder, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ICON_NAME,
  PROP_TITLE,
  PROP_DESCRIPTION,
  PROP_COMPACT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
gradlens_placeholder_dispose (GObject *object)
{
  GradlensPlaceholder *self = GRADLENS_PLACEHOLDER (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_PLACEHOLDER);

  G_OBJECT_CLASS (gradlens_placeholder_parent_class)->dispose (object);
}

static void
gradlens_placeholder_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  GradlensPlaceholder *self = GRADLENS_PLACEHOLDER (object);

  switch (prop_id)
    {
    case PROP_ICON_NAME:
      g_value_set_string (value, gradlens_placeholder_get_icon_name (self));
      break;

    case PROP_TITLE:
      g_value_set_string (value, gradlens_placeholder_get_title (self));
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, gradlens_placeholder_get_description (self));
      break;

    case PROP_COMPACT:
      g_value_set_boolean (value, gradlens_placeholder_get_compact (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gradlens_placeholder_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  GradlensPlaceholder *self = GRADLENS_PLACEHOLDER (object);

  switch (prop_id)
    {
    case PROP_ICON_NAME:
      gradlens_placeholder_set_icon_name (self, g_value_get_string (value));
      break;

    case PROP_TITLE:
      gradlens_placeholder_set_title (self, g_value_get_string (value));
      break;

    case PROP_DESCRIPTION:
      gradlens_placeholder_set_description (self, g_value_get_string (value));
      break;

    case PROP_COMPACT:
      gradlens_placeholder_set_compact (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gradlens_placeholder_class_init (GradlensPlaceholderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_placeholder_dispose;
  object_class->get_property = gradlens_placeholder_get_property;
  object_class->set_property = gradlens_placeholder_set_property;

  properties[PROP_ICON_NAME] =
    g_param_spec_string ("icon-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COMPACT] =
    g_param_spec_boolean ("compact", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/placeholder.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensPlaceholder, box);
  gtk_widget_class_bind_template_child (widget_class, GradlensPlaceholder, image);
  gtk_widget_class_bind_template_child (widget_class, GradlensPlaceholder, title_label);
  gtk_widget_class_bind_template_child (widget_class, GradlensPlaceholder, description_label);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "placeholder");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
gradlens_placeholder_init (GradlensPlaceholder *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
gradlens_placeholder_new (void)
{
  return g_object_new (GRADLENS_TYPE_PLACEHOLDER, NULL);
}

const char *
gradlens_placeholder_get_icon_name (GradlensPlaceholder *self)
{
  g_return_val_if_fail (GRADLENS_IS_PLACEHOLDER (self), NULL);

  return gtk_image_get_icon_name (self->image);
}

void
gradlens_placeholder_set_icon_name (GradlensPlaceholder *self,
                                    const char          *icon_name)
{
  g_return_if_fail (GRADLENS_IS_PLACEHOLDER (self));

  if (g_strcmp0 (icon_name, gtk_image_get_icon_name (self->image)) == 0)
    return;

  gtk_image_set_from_icon_name (self->image, icon_name);
  gtk_widget_set_visible (GTK_WIDGET (self->image), icon_name != NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICON_NAME]);
}

const char *
gradlens_placeholder_get_title (GradlensPlaceholder *self)
{
  g_return_val_if_fail (GRADLENS_IS_PLACEHOLDER (self), NULL);

  return gtk_label_get_label (self->title_label);
}

void
gradlens_placeholder_set_title (GradlensPlaceholder *self,
                                const char          *title)
{
  g_return_if_fail (GRADLENS_IS_PLACEHOLDER (self));

  if (g_strcmp0 (title, gtk_label_get_label (self->title_label)) == 0)
    return;

  gtk_label_set_label (self->title_label, title);
  gtk_widget_set_visible (GTK_WIDGET (self->title_label), title != NULL && *title != '\0');
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
gradlens_placeholder_get_description (GradlensPlaceholder *self)
{
  g_return_val_if_fail (GRADLENS_IS_PLACEHOLDER (self), NULL);

  return gtk_label_get_label (self->description_label);
}

void
gradlens_placeholder_set_description (GradlensPlaceholder *self,
                                      const char          *description)
{
  g_return_if_fail (GRADLENS_IS_PLACEHOLDER (self));

  if (g_strcmp0 (description, gtk_label_get_label (self->description_label)) == 0)
    return;

  gtk_label_set_label (self->description_label, description);
  gtk_widget_set_visible (GTK_WIDGET (self->description_label),
                          description != NULL && *description != '\0');
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

gboolean
gradlens_placeholder_get_compact (GradlensPlaceholder *self)
{
  g_return_val_if_fail (GRADLENS_IS_PLACEHOLDER (self), FALSE);

  return self->compact;
}

/* Compact placeholders sit in small panes: a smaller icon and title. */
void
gradlens_placeholder_set_compact (GradlensPlaceholder *self,
                                  gboolean             compact)
{
  g_return_if_fail (GRADLENS_IS_PLACEHOLDER (self));

  compact = !!compact;
  if (compact == self->compact)
    return;

  self->compact = compact;
  gtk_image_set_pixel_size (self->image, compact ? 48 : 96);
  gtk_box_set_spacing (self->box, compact ? 6 : 12);
  if (compact)
    gtk_widget_add_css_class (GTK_WIDGET (self), "compact");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "compact");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPACT]);
}

/* module-tree.c: the model's modules and parameters, and which ones train */

#include "module-tree.h"
#include "module-tree-item.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* --- The tree ------------------------------------------------------------- */

struct _GradlensModuleTree
{
  GtkWidget parent_instance;

  /* Template children. */
  GtkBox            *toolbar;
  GtkLabel          *totals_label;
  GtkBox            *button_box;
  GtkButton         *freeze_button;
  GtkButton         *unfreeze_button;
  GtkScrolledWindow *scroller;
  GtkColumnView     *column_view;

  char              *model_name;   /* the program's name for the model: its root row */

  Module             *model;
  GradlensModuleItem *root;
  GHashTable         *by_name;     /* full name → GradlensModuleItem (borrowed) */
  GtkTreeListModel   *tree_model;
  GtkSingleSelection *selection;
  gboolean            editable;
  char               *totals_text;
  GtkLabel           *note_label;  /* what a change does here, or why it cannot */

  /* The view to bring back once a swapped model's rows are laid out. */
  gint64              rows_changed_frame; /* the frame clock's count when rows last changed */
  double              restore_scroll;
  guint               restore_frames;
  guint               restore_id;

  /* The row to bring into view once it is laid out (scroll_to_row). */
  guint               scroll_position;
  guint               scroll_id;
};

G_DEFINE_FINAL_TYPE (GradlensModuleTree, gradlens_module_tree, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_EDITABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CHANGED,
  SIGNAL_SELECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

char *
gradlens_format_count (gint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GINT64_FORMAT, n < 0 ? -n : n);
  GString *s = g_string_new (n < 0 ? "-" : "");
  size_t len = strlen (digits);

  for (size_t i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (s, ',');
      g_string_append_c (s, digits[i]);
    }
  return g_string_free (s, FALSE);
}

static GradlensModuleItem *
item_new_parameter (GradlensModuleTree *self,
                    Module             *owner,
                    const NamedTensor  *nt)
{
  GradlensModuleItem *item = g_object_new (GRADLENS_TYPE_MODULE_ITEM, NULL);

  item->module = module_ref (owner);
  item->tensor = tensor_ref (nt->tensor);
  item->name = g_strdup (nt->name);
  item->full_name = *owner->path ? g_strdup_printf ("%s.%s", owner->path, nt->name)
                                 : g_strdup (nt->name);
  item->detail = tensor_shape_string (nt->tensor);
  item->n_params = nt->tensor->numel;
  g_hash_table_insert (self->by_name, item->full_name, item);
  return item;
}

static GradlensModuleItem *
item_new_module (GradlensModuleTree *self,
                 Module             *m)
{
  GradlensModuleItem *item = g_object_new (GRADLENS_TYPE_MODULE_ITEM, NULL);

  item->module = module_ref (m);
  item->name = g_strdup (m == self->model ? self->model_name : m->name);
  item->full_name = g_strdup (m->path);
  item->detail = g_strdup (module_type_name (m));
  item->children = g_list_store_new (GRADLENS_TYPE_MODULE_ITEM);
  g_hash_table_insert (self->by_name, item->full_name, item);

  for (guint i = 0; i < m->params->len; i++)
    {
      g_autoptr (GradlensModuleItem) child =
        item_new_parameter (self, m, &g_array_index (m->params, NamedTensor, i));
      item->n_params += child->n_params;
      g_list_store_append (item->children, child);
    }
  for (guint i = 0; i < m->children->len; i++)
    {
      g_autoptr (GradlensModuleItem) child = item_new_module (self, g_ptr_array_index (m->children, i));
      item->n_params += child->n_params;
      g_list_store_append (item->children, child);
    }
  return item;
}

/* Re-reads requires_grad bottom-up; returns the trainable elements below item. */
static gint64
item_refresh (GradlensModuleItem *item)
{
  if (item->tensor != NULL)
    {
      item->n_trainable = item->tensor->requires_grad ? item->n_params : 0;
      gradlens_module_item_set_state (item, item->tensor->requires_grad, FALSE);
      return item->n_trainable;
    }

  item->n_trainable = 0;
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (item->children)); i++)
    {
      g_autoptr (GradlensModuleItem) child = g_list_model_get_item (G_LIST_MODEL (item->children), i);
      item->n_trainable += item_refresh (child);
    }
  gradlens_module_item_set_state (item, item->n_params > 0 && item->n_trainable == item->n_params,
                                  item->n_trainable > 0 && item->n_trainable < item->n_params);
  return item->n_trainable;
}

void
gradlens_module_tree_refresh (GradlensModuleTree *self)
{
  ParamCounts counts;
  g_autofree char *trainable = NULL;
  g_autofree char *frozen = NULL;
  g_autofree char *total = NULL;

  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));

  g_clear_pointer (&self->totals_text, g_free);
  if (self->model == NULL)
    {
      gtk_label_set_text (self->totals_label, _("No model in this lesson yet"));
      return;
    }

  item_refresh (self->root);
  module_count_parameters (self->model, &counts);
  trainable = gradlens_format_count (counts.trainable);
  frozen = gradlens_format_count (counts.frozen);
  total = gradlens_format_count (counts.total);
  self->totals_text = g_strdup_printf (_("Trainable %s · Frozen %s"), trainable, frozen);
  {
    g_autofree char *markup = g_markup_printf_escaped (
      _("<b>Trainable %s</b> · Frozen %s · of %s parameters"), trainable, frozen, total);
    gtk_label_set_markup (self->totals_label, markup);
  }
}

static GListModel *
create_children (gpointer item,
                 gpointer user_data)
{
  GradlensModuleItem *mi = item;

  if (mi->children == NULL || g_list_model_get_n_items (G_LIST_MODEL (mi->children)) == 0)
    return NULL;
  return G_LIST_MODEL (g_object_ref (mi->children));
}

static GradlensModuleItem *
row_item (GtkListItem *list_item)
{
  GtkTreeListRow *row = gtk_list_item_get_item (list_item);

  return row != NULL ? gtk_tree_list_row_get_item (row) : NULL;   /* a new reference */
}

/* Name column: an expander with the own name. */
static void
setup_name (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            gpointer                  user_data)
{
  GtkWidget *expander = gtk_tree_expander_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), label);
  gtk_list_item_set_child (list_item, expander);
}

static void
bind_name (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           gpointer                  user_data)
{
  GtkWidget *expander = gtk_list_item_get_child (list_item);
  GtkWidget *label = gtk_tree_expander_get_child (GTK_TREE_EXPANDER (expander));
  g_autoptr (GradlensModuleItem) item = row_item (list_item);

  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (expander), gtk_list_item_get_item (list_item));
  gtk_label_set_text (GTK_LABEL (label), item->name);
  gtk_widget_set_tooltip_text (label, *item->full_name ? item->full_name : _("the whole model"));
  if (item->tensor != NULL)
    gtk_widget_add_css_class (label, "parameter");
  else
    gtk_widget_remove_css_class (label, "parameter");
}

/* Type / shape column. */
static void
setup_label (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);
  float xalign = GPOINTER_TO_INT (user_data) ? 1.0f : 0.0f;

  gtk_label_set_xalign (GTK_LABEL (label), xalign);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (list_item, label);
}

static void
bind_detail (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  g_autoptr (GradlensModuleItem) item = row_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);

  gtk_label_set_text (GTK_LABEL (label), item->detail);
  if (item->tensor != NULL)
    gtk_widget_add_css_class (label, "dim-label");
  else
    gtk_widget_remove_css_class (label, "dim-label");
}

static void
bind_count (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            gpointer                  user_data)
{
  g_autoptr (GradlensModuleItem) item = row_item (list_item);
  g_autofree char *text = item->n_params > 0 ? gradlens_format_count (item->n_params) : g_strdup ("");

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (list_item)), text);
}

/* Trainable column: a check bound to the item's state. */
static void
on_check_active (GtkCheckButton     *check,
                 GParamSpec         *pspec,
                 GradlensModuleTree *self)
{
  GradlensModuleItem *item = g_object_get_data (G_OBJECT (check), "item");
  gboolean active = gtk_check_button_get_active (check);

  /* The binding set it to the item's own state: nothing to do. */
  if (item == NULL || active == item->trainable)
    return;
  gradlens_module_tree_set_trainable (self, item->full_name, active);
}

static void
setup_check (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  GradlensModuleTree *self = user_data;
  GtkWidget *check = gtk_check_button_new ();

  gtk_widget_set_halign (check, GTK_ALIGN_CENTER);
  g_object_bind_property (self, "editable", check, "sensitive", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (check, "notify::active", G_CALLBACK (on_check_active), self, 0);
  gtk_list_item_set_child (list_item, check);
}

static void
bind_check (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            gpointer                  user_data)
{
  GtkWidget *check = gtk_list_item_get_child (list_item);
  g_autoptr (GradlensModuleItem) item = row_item (list_item);
  GBinding *b1, *b2;
  g_autofree char *tip = NULL;

  /* Set the item first, so the bindings' first notify finds it unchanged. */
  g_object_set_data_full (G_OBJECT (check), "item", g_object_ref (item), g_object_unref);
  b1 = g_object_bind_property (item, "trainable", check, "active", G_BINDING_SYNC_CREATE);
  b2 = g_object_bind_property (item, "inconsistent", check, "inconsistent", G_BINDING_SYNC_CREATE);
  g_object_set_data (G_OBJECT (list_item), "binding-active", b1);
  g_object_set_data (G_OBJECT (list_item), "binding-inconsistent", b2);

  gtk_widget_set_visible (check, item->n_params > 0);
  tip = g_strdup_printf ("%s.requires_grad", *item->full_name ? item->full_name : item->name);
  gtk_widget_set_tooltip_text (check, tip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, tip, -1);
}

static void
unbind_check (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  GtkWidget *check = gtk_list_item_get_child (list_item);
  GBinding *b1 = g_object_get_data (G_OBJECT (list_item), "binding-active");
  GBinding *b2 = g_object_get_data (G_OBJECT (list_item), "binding-inconsistent");

  if (b1 != NULL)
    g_binding_unbind (b1);
  if (b2 != NULL)
    g_binding_unbind (b2);
  g_object_set_data (G_OBJECT (list_item), "binding-active", NULL);
  g_object_set_data (G_OBJECT (list_item), "binding-inconsistent", NULL);
  g_object_set_data (G_OBJECT (check), "item", NULL);
}

static void
add_column (GradlensModuleTree *self,
            const char         *title,
            GCallback           setup,
            gpointer            setup_data,
            GCallback           bind,
            GCallback           unbind,
            gboolean            expand,
            int                 fixed_width)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;

  g_signal_connect (factory, "setup", setup, setup_data);
  g_signal_connect (factory, "bind", bind, self);
  if (unbind != NULL)
    g_signal_connect (factory, "unbind", unbind, self);
  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (column, expand);
  gtk_column_view_column_set_resizable (column, TRUE);
  if (fixed_width > 0)
    gtk_column_view_column_set_fixed_width (column, fixed_width);
  gtk_column_view_append_column (self->column_view, column);
  g_object_unref (column);
}

static void
on_selection_changed (GtkSingleSelection *selection,
                      GParamSpec         *pspec,
                      GradlensModuleTree *self)
{
  GtkTreeListRow *row = gtk_single_selection_get_selected_item (selection);
  GradlensModuleItem *item;

  if (row == NULL)
    return;
  item = gtk_tree_list_row_get_item (row);
  g_signal_emit (self, signals[SIGNAL_SELECTED], 0, item->full_name, item->tensor);
  g_object_unref (item);
}

/* Drops a pending restore_scroll or scroll_tick. */
static void
stop_scrolling (GradlensModuleTree *self)
{
  if (self->restore_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->restore_id);
  self->restore_id = 0;
  if (self->scroll_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_id);
  self->scroll_id = 0;
}

static void
gradlens_module_tree_dispose (GObject *object)
{
  GradlensModuleTree *self = GRADLENS_MODULE_TREE (object);

  stop_scrolling (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_MODULE_TREE);
  g_clear_object (&self->selection);
  g_clear_object (&self->tree_model);
  g_clear_object (&self->root);
  g_clear_pointer (&self->model, module_unref);

  G_OBJECT_CLASS (gradlens_module_tree_parent_class)->dispose (object);
}

static void
gradlens_module_tree_finalize (GObject *object)
{
  GradlensModuleTree *self = GRADLENS_MODULE_TREE (object);

  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_free (self->totals_text);
  g_free (self->model_name);

  G_OBJECT_CLASS (gradlens_module_tree_parent_class)->finalize (object);
}

static void
gradlens_module_tree_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  GradlensModuleTree *self = GRADLENS_MODULE_TREE (object);

  switch (prop_id)
    {
    case PROP_EDITABLE:
      g_value_set_boolean (value, self->editable);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gradlens_module_tree_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  GradlensModuleTree *self = GRADLENS_MODULE_TREE (object);

  switch (prop_id)
    {
    case PROP_EDITABLE:
      gradlens_module_tree_set_editable (self, g_value_get_boolean (value), NULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gradlens_module_tree_class_init (GradlensModuleTreeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_module_tree_dispose;
  object_class->finalize = gradlens_module_tree_finalize;
  object_class->get_property = gradlens_module_tree_get_property;
  object_class->set_property = gradlens_module_tree_set_property;

  properties[PROP_EDITABLE] =
    g_param_spec_boolean ("editable", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GradlensModuleTree::changed:
   *
   * requires_grad changed through the tree (a check or a button).
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GradlensModuleTree::selected:
   * @name: the module path ("" for the model) or parameter name
   * @tensor: (nullable): the parameter, or NULL for a module
   */
  signals[SIGNAL_SELECTED] = g_signal_new ("selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                           G_TYPE_STRING, G_TYPE_POINTER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/module-tree.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, toolbar);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, totals_label);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, note_label);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, button_box);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, freeze_button);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, unfreeze_button);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensModuleTree, column_view);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "moduletree");
}

static void
gradlens_module_tree_init (GradlensModuleTree *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->editable = TRUE;
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);

  add_column (self, "Module", G_CALLBACK (setup_name), NULL, G_CALLBACK (bind_name), NULL, TRUE, -1);
  add_column (self, "Type", G_CALLBACK (setup_label), GINT_TO_POINTER (0),
              G_CALLBACK (bind_detail), NULL, FALSE, -1);
  add_column (self, "Params", G_CALLBACK (setup_label), GINT_TO_POINTER (1),
              G_CALLBACK (bind_count), NULL, FALSE, -1);
  add_column (self, "Train", G_CALLBACK (setup_check), self, G_CALLBACK (bind_check),
              G_CALLBACK (unbind_check), FALSE, -1);

  g_signal_connect_swapped (self->freeze_button, "clicked",
                            G_CALLBACK (gradlens_module_tree_freeze_all_but_fc), self);
  g_signal_connect_swapped (self->unfreeze_button, "clicked",
                            G_CALLBACK (gradlens_module_tree_unfreeze_all), self);
  gradlens_module_tree_set_model (self, NULL, NULL);
}

GtkWidget *
gradlens_module_tree_new (void)
{
  return g_object_new (GRADLENS_TYPE_MODULE_TREE, NULL);
}

/* --- Keeping the view across a model swap ----------------------------------- */

/* What the student had open and picked: the full names of the expanded rows
 * and of the selected one, and how far the list was scrolled. */
typedef struct
{
  GHashTable *expanded;   /* full names */
  char       *selected;
  double      scroll;
} ViewState;

static void
view_state_save (GradlensModuleTree *self,
                 ViewState          *state)
{
  guint n = self->tree_model != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->tree_model)) : 0;
  guint selected = self->selection != NULL ? gtk_single_selection_get_selected (self->selection)
                                           : GTK_INVALID_LIST_POSITION;

  state->expanded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->selected = NULL;
  state->scroll = gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (self->scroller));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GtkTreeListRow) row = gtk_tree_list_model_get_row (self->tree_model, i);
      g_autoptr (GradlensModuleItem) item = gtk_tree_list_row_get_item (row);

      if (gtk_tree_list_row_get_expanded (row))
        g_hash_table_add (state->expanded, g_strdup (item->full_name));
      if (i == selected)
        state->selected = g_strdup (item->full_name);
    }
}

/* Rows that changed (a model set, a row expanded) have no allocation until a
 * layout phase after the change, and GTK 4.8 warns when the list is scrolled
 * to where no allocated row is. A tick (the update phase, before the layout)
 * of the frame after the next one comes after such a layout. */
static void
on_rows_changed (GListModel         *rows,
                 guint               position,
                 guint               removed,
                 guint               added,
                 GradlensModuleTree *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  self->rows_changed_frame = clock != NULL ? gdk_frame_clock_get_frame_counter (clock) : 0;
}

static gboolean
rows_laid_out (GradlensModuleTree *self,
               GdkFrameClock      *clock)
{
  return gdk_frame_clock_get_frame_counter (clock) >= self->rows_changed_frame + 2;
}

static gboolean
restore_scroll (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  GradlensModuleTree *self = GRADLENS_MODULE_TREE (widget);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  /* The list lays itself out from its own anchor (the top, for a new model)
   * after this tick and sets the adjustment then: set the value until a few
   * frames have kept it (then as far as it goes). Not before the new rows
   * were laid out once: GTK 4.8 looks for the row at the new value among
   * those laid out, and warns when it finds none. */
  if (!rows_laid_out (self, clock))
    return G_SOURCE_CONTINUE;
  self->restore_frames++;
  if ((self->restore_frames > 3 && fabs (gtk_adjustment_get_value (adj) - self->restore_scroll) < 0.5)
      || self->restore_frames > 30)
    {
      self->restore_id = 0;
      return G_SOURCE_REMOVE;
    }
  gtk_adjustment_set_value (adj, self->restore_scroll);
  return G_SOURCE_CONTINUE;
}

/* The same rows open, the same one picked, the list where it was: a swap of
 * models (the freeze lesson's preview for the run's own) must not send the
 * student back to the top, where the next click lands on another row. */
static void
view_state_restore (GradlensModuleTree *self,
                    ViewState          *state)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->tree_model)); i++)
    {
      g_autoptr (GtkTreeListRow) row = gtk_tree_list_model_get_row (self->tree_model, i);
      g_autoptr (GradlensModuleItem) item = gtk_tree_list_row_get_item (row);

      if (g_hash_table_contains (state->expanded, item->full_name))
        gtk_tree_list_row_set_expanded (row, TRUE);
      if (g_strcmp0 (state->selected, item->full_name) == 0)
        gtk_single_selection_set_selected (self->selection, i);
    }
  self->restore_scroll = state->scroll;
  self->restore_frames = 0;
  if (state->scroll > 0 && self->restore_id == 0)
    self->restore_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), restore_scroll, NULL, NULL);
  g_hash_table_unref (state->expanded);
  g_free (state->selected);
}

void
gradlens_module_tree_set_model (GradlensModuleTree *self,
                                Module             *model,
                                const char         *name)
{
  GListStore *roots;
  ViewState state;
  gboolean had_model;

  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));

  if (model != NULL && model == self->model)
    {
      gradlens_module_tree_refresh (self);
      return;
    }

  had_model = self->model != NULL;
  view_state_save (self, &state);
  /* To the top while the old rows are there: the adjustment clamps its value
   * when the rows go, and GTK 4.8 then looks for a row at the clamped value
   * in a list that has none and warns. view_state_restore scrolls back. */
  stop_scrolling (self);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
  gtk_column_view_set_model (self->column_view, NULL);
  g_clear_object (&self->selection);
  g_clear_object (&self->tree_model);
  g_clear_object (&self->root);
  g_hash_table_remove_all (self->by_name);
  g_clear_pointer (&self->model, module_unref);

  gtk_widget_set_sensitive (GTK_WIDGET (self->button_box), model != NULL);
  /* Fine-tuning's freeze keeps a classifier head named fc (resnet18's); a program's
   * own model may have none. */
  gtk_widget_set_visible (GTK_WIDGET (self->freeze_button),
                          model == NULL || module_get_child (model, "fc") != NULL);
  if (model == NULL)
    {
      g_hash_table_unref (state.expanded);
      g_free (state.selected);
      gradlens_module_tree_refresh (self);
      return;
    }

  self->model = module_ref (model);
  g_free (self->model_name);
  self->model_name = g_strdup (name != NULL ? name : "model");
  self->root = item_new_module (self, model);

  roots = g_list_store_new (GRADLENS_TYPE_MODULE_ITEM);
  g_list_store_append (roots, self->root);
  self->tree_model = gtk_tree_list_model_new (G_LIST_MODEL (roots), FALSE, FALSE,
                                              create_children, NULL, NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->tree_model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect (self->selection, "notify::selected-item", G_CALLBACK (on_selection_changed), self);
  g_signal_connect (self->selection, "items-changed", G_CALLBACK (on_rows_changed), self);
  on_rows_changed (G_LIST_MODEL (self->selection), 0, 0, 0, self);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));

  /* The model's top-level modules in view from the start; after a swap,
   * the view the student had. */
  if (had_model)
    view_state_restore (self, &state);
  else
    {
      g_autoptr (GtkTreeListRow) row = gtk_tree_list_model_get_row (self->tree_model, 0);
      if (row != NULL)
        gtk_tree_list_row_set_expanded (row, TRUE);
      g_hash_table_unref (state.expanded);
      g_free (state.selected);
    }

  gradlens_module_tree_refresh (self);
}

Module *
gradlens_module_tree_get_model (GradlensModuleTree *self)
{
  g_return_val_if_fail (GRADLENS_IS_MODULE_TREE (self), NULL);

  return self->model;
}

void
gradlens_module_tree_set_editable (GradlensModuleTree *self,
                                   gboolean            editable,
                                   const char         *why_not)
{
  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));

  editable = !!editable;
  gtk_widget_set_sensitive (GTK_WIDGET (self->button_box), editable && self->model != NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->button_box), editable ? NULL : why_not);
  if (self->editable == editable)
    return;
  self->editable = editable;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EDITABLE]);
}

void
gradlens_module_tree_set_note (GradlensModuleTree *self,
                               const char         *note)
{
  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));

  gtk_label_set_text (self->note_label, note != NULL ? note : "");
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), note != NULL && *note);
}

const char *
gradlens_module_tree_get_note (GradlensModuleTree *self)
{
  g_return_val_if_fail (GRADLENS_IS_MODULE_TREE (self), NULL);

  return gtk_widget_get_visible (GTK_WIDGET (self->note_label))
           ? gtk_label_get_text (self->note_label) : NULL;
}

gboolean
gradlens_module_tree_set_trainable (GradlensModuleTree *self,
                                    const char         *name,
                                    gboolean            trainable)
{
  GradlensModuleItem *item;

  g_return_val_if_fail (GRADLENS_IS_MODULE_TREE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (self->model == NULL)
    return FALSE;
  item = g_hash_table_lookup (self->by_name, name);
  if (item == NULL)
    return FALSE;

  if (item->tensor != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (!tensor_set_requires_grad (item->tensor, trainable, &error))
        {
          g_warning ("%s: %s", item->full_name, error->message);
          return FALSE;
        }
    }
  else
    module_set_requires_grad (item->module, trainable);

  gradlens_module_tree_refresh (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

void
gradlens_module_tree_freeze_all_but_fc (GradlensModuleTree *self)
{
  Module *fc;

  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));

  if (self->model == NULL)
    return;
  module_set_requires_grad (self->model, FALSE);
  fc = module_find (self->model, "fc");
  if (fc != NULL)
    module_set_requires_grad (fc, TRUE);
  gradlens_module_tree_refresh (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
gradlens_module_tree_unfreeze_all (GradlensModuleTree *self)
{
  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));

  gradlens_module_tree_set_trainable (self, "", TRUE);
}

void
gradlens_module_tree_get_counts (GradlensModuleTree *self,
                                 ParamCounts        *counts)
{
  g_return_if_fail (GRADLENS_IS_MODULE_TREE (self));
  g_return_if_fail (counts != NULL);

  memset (counts, 0, sizeof *counts);
  if (self->model != NULL)
    module_count_parameters (self->model, counts);
}

const char *
gradlens_module_tree_get_totals_text (GradlensModuleTree *self)
{
  g_return_val_if_fail (GRADLENS_IS_MODULE_TREE (self), NULL);

  return self->totals_text;
}

static void
collect_frozen (GradlensModuleItem *item,
                GPtrArray          *names)
{
  guint n;

  if (item->n_params == 0 || item->n_trainable == item->n_params)
    return;
  if (item->tensor != NULL || (item->n_trainable == 0 && *item->full_name))
    {
      g_ptr_array_add (names, g_strdup (item->full_name));
      return;
    }
  n = g_list_model_get_n_items (G_LIST_MODEL (item->children));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GradlensModuleItem) child = g_list_model_get_item (G_LIST_MODEL (item->children), i);
      collect_frozen (child, names);
    }
}

char **
gradlens_module_tree_dup_frozen_names (GradlensModuleTree *self)
{
  GPtrArray *names;

  g_return_val_if_fail (GRADLENS_IS_MODULE_TREE (self), NULL);

  names = g_ptr_array_new ();
  if (self->root != NULL)
    {
      item_refresh (self->root);
      collect_frozen (self->root, names);
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}


/* Into view. GTK 4.8's column view has no scroll_to, and its inner list view's
 * scroll-to-item refuses (with a warning) a row not laid out yet, which rows
 * just expanded are until a later frame — how much later, a loaded machine
 * decides. So the scroller is moved instead, once the rows are laid out
 * (rows_laid_out) and the list knows its height: rows are of one height,
 * upper / n each (the column titles' row counted as one more). */
static gboolean
scroll_tick (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       user_data)
{
  GradlensModuleTree *self = GRADLENS_MODULE_TREE (widget);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  guint n;
  double row, top, page;

  if (!rows_laid_out (self, clock))
    return G_SOURCE_CONTINUE;
  self->scroll_id = 0;
  /* A hidden tree (a lesson without resnet18) has no rows laid out to scroll to. */
  n = self->selection != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->selection)) : 0;
  if (!gtk_widget_get_mapped (GTK_WIDGET (self->column_view)) || self->scroll_position >= n)
    return G_SOURCE_REMOVE;
  row = gtk_adjustment_get_upper (adj) / (n + 1);
  top = row * (self->scroll_position + 1);
  page = gtk_adjustment_get_page_size (adj);
  /* Only if it is not in view already: then a third of the way down. */
  if (top < gtk_adjustment_get_value (adj) + row
      || top + row > gtk_adjustment_get_value (adj) + page)
    gtk_adjustment_set_value (adj, top - page / 3);
  return G_SOURCE_REMOVE;
}

static void
scroll_to_row (GradlensModuleTree *self,
               guint               position)
{
  self->scroll_position = position;
  if (self->scroll_id == 0)
    self->scroll_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_tick, NULL, NULL);
}

gboolean
gradlens_module_tree_select (GradlensModuleTree *self,
                             const char         *name)
{
  GradlensModuleItem *target;
  g_autoptr (GtkTreeListRow) row = NULL;
  g_autoptr (GPtrArray) chain = NULL;

  g_return_val_if_fail (GRADLENS_IS_MODULE_TREE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (self->tree_model == NULL || (target = g_hash_table_lookup (self->by_name, name)) == NULL)
    return FALSE;

  /* The chain of names from the root down: "", "layer1", "layer1.0", ... */
  chain = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (chain, g_strdup (""));
  for (const char *p = name; *name && (p = strchr (p, '.')) != NULL; p++)
    g_ptr_array_add (chain, g_strndup (name, p - name));
  if (*name)
    g_ptr_array_add (chain, g_strdup (name));

  row = gtk_tree_list_model_get_row (self->tree_model, 0);
  for (guint depth = 1; row != NULL && depth < chain->len; depth++)
    {
      GradlensModuleItem *parent = gtk_tree_list_row_get_item (row);
      GtkTreeListRow *next = NULL;
      guint n = parent->children ? g_list_model_get_n_items (G_LIST_MODEL (parent->children)) : 0;

      gtk_tree_list_row_set_expanded (row, TRUE);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (GradlensModuleItem) child = g_list_model_get_item (G_LIST_MODEL (parent->children), i);
          if (g_strcmp0 (child->full_name, chain->pdata[depth]) == 0)
            {
              next = gtk_tree_list_row_get_child_row (row, i);
              break;
            }
        }
      g_object_unref (parent);
      g_object_unref (row);
      row = next;
    }
  if (row == NULL)
    return FALSE;

  gtk_single_selection_set_selected (self->selection, gtk_tree_list_row_get_position (row));
  scroll_to_row (self, gtk_tree_list_row_get_position (row));
  return TRUE;
}

/* variable-list.c: the program's variables, like a debugger's locals */

#include "variable-list.h"
#include "module-tree.h"
#include "module.h"
#include "sgd.h"

#include <glib/gi18n.h>

typedef struct
{
  char *name;
  char *summary;
} Row;

struct _GradlensVariableList
{
  GtkWidget parent_instance;

  GtkScrolledWindow *scroller;   /* unread, but bound: gtk_widget_dispose_template () unparents it */
  GtkListBox        *list_box;

  GArray *rows;   /* of Row, as shown */
};

G_DEFINE_FINAL_TYPE (GradlensVariableList, gradlens_variable_list, GTK_TYPE_WIDGET)

enum {
  SIGNAL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
row_clear (gpointer data)
{
  Row *row = data;

  g_free (row->name);
  g_free (row->summary);
}

char *
gradlens_variable_summary (const LessonVar *var)
{
  g_return_val_if_fail (var != NULL, NULL);

  switch (var->kind)
    {
    case LESSON_VAR_TENSOR:
      {
        const Tensor *t = var->value;
        g_autofree char *shape = tensor_shape_string (t);
        GString *s = g_string_new (shape);

        if (t->requires_grad)
          g_string_append (s, " · requires_grad");
        if (t->grad_fn != NULL)
          g_string_append_printf (s, " · grad_fn=%s", node_name (t->grad_fn));
        if (t->grad != NULL)
          g_string_append (s, " · .grad");
        return g_string_free (s, FALSE);
      }

    case LESSON_VAR_MODULE:
      {
        Module *m = var->value;
        ParamCounts counts;
        g_autofree char *total = NULL;

        module_count_parameters (m, &counts);
        total = gradlens_format_count (counts.total);
        return g_strdup_printf ("%s · %s parameters", module_type_name (m), total);
      }

    case LESSON_VAR_OPTIMIZER:
      {
        const Sgd *sgd = var->value;
        if (sgd->options.kind == OPTIM_ADAM)
          return g_strdup_printf ("Adam · lr %g, betas (%g, %g) · %d steps", sgd->options.adam.lr,
                                  sgd->options.adam.beta1, sgd->options.adam.beta2, sgd->steps);
        return g_strdup_printf ("SGD · lr %g, momentum %g · %d steps", sgd->options.lr,
                                sgd->options.momentum, sgd->steps);
      }

    default:
      return g_strdup ("");
    }
}

static GtkWidget *
row_widget (const Row *row)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *name = gtk_label_new (row->name);
  GtkWidget *summary = gtk_label_new (row->summary);

  gtk_widget_add_css_class (name, "variable-name");
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_widget_add_css_class (summary, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (summary), 0);
  gtk_label_set_wrap (GTK_LABEL (summary), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (summary), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (summary, TRUE);
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), summary);
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);
  return box;
}

static void
on_row_activated (GtkListBox           *list_box,
                  GtkListBoxRow        *row,
                  GradlensVariableList *self)
{
  int i = gtk_list_box_row_get_index (row);

  if (i >= 0 && (guint) i < self->rows->len)
    g_signal_emit (self, signals[SIGNAL_ACTIVATED], 0, g_array_index (self->rows, Row, i).name);
}

static void
gradlens_variable_list_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), GRADLENS_TYPE_VARIABLE_LIST);

  G_OBJECT_CLASS (gradlens_variable_list_parent_class)->dispose (object);
}

static void
gradlens_variable_list_finalize (GObject *object)
{
  GradlensVariableList *self = GRADLENS_VARIABLE_LIST (object);

  g_clear_pointer (&self->rows, g_array_unref);

  G_OBJECT_CLASS (gradlens_variable_list_parent_class)->finalize (object);
}

static void
gradlens_variable_list_class_init (GradlensVariableListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_variable_list_dispose;
  object_class->finalize = gradlens_variable_list_finalize;

  /**
   * GradlensVariableList::activated:
   * @name: the variable's name in the program
   */
  signals[SIGNAL_ACTIVATED] = g_signal_new ("activated", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/variable-list.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensVariableList, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensVariableList, list_box);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "variablelist");
}

static void
gradlens_variable_list_init (GradlensVariableList *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (self->rows, row_clear);
  g_signal_connect (self->list_box, "row-activated", G_CALLBACK (on_row_activated), self);
  gtk_list_box_set_placeholder (self->list_box, gtk_label_new (_("No variables yet")));
}

GtkWidget *
gradlens_variable_list_new (void)
{
  return g_object_new (GRADLENS_TYPE_VARIABLE_LIST, NULL);
}

void
gradlens_variable_list_update (GradlensVariableList *self,
                               GPtrArray            *variables)
{
  g_autoptr (GArray) rows = NULL;
  gboolean same;
  g_autofree char *selected = NULL;
  GtkListBoxRow *row;

  g_return_if_fail (GRADLENS_IS_VARIABLE_LIST (self));

  rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (rows, row_clear);
  for (guint i = 0; variables != NULL && i < variables->len; i++)
    {
      const LessonVar *var = g_ptr_array_index (variables, i);
      Row r = { g_strdup (var->name), gradlens_variable_summary (var) };
      g_array_append_val (rows, r);
    }

  /* The same variables: keep the rows (and the student's selection and scroll),
   * and rewrite the summaries that changed (a .grad arrived, SGD stepped). */
  same = rows->len == self->rows->len;
  for (guint i = 0; same && i < rows->len; i++)
    same = g_str_equal (g_array_index (rows, Row, i).name, g_array_index (self->rows, Row, i).name);
  if (same)
    {
      for (guint i = 0; i < rows->len; i++)
        {
          Row *now = &g_array_index (rows, Row, i), *shown = &g_array_index (self->rows, Row, i);
          GtkWidget *box;

          if (g_str_equal (now->summary, shown->summary))
            continue;
          g_free (shown->summary);
          shown->summary = g_steal_pointer (&now->summary);
          /* The row's box holds the name, then the summary (row_widget ()). */
          box = gtk_list_box_row_get_child (gtk_list_box_get_row_at_index (self->list_box, (int) i));
          gtk_label_set_text (GTK_LABEL (gtk_widget_get_last_child (box)), shown->summary);
        }
      return;
    }

  row = gtk_list_box_get_selected_row (self->list_box);
  if (row != NULL && gtk_list_box_row_get_index (row) < (int) self->rows->len)
    selected = g_strdup (g_array_index (self->rows, Row, gtk_list_box_row_get_index (row)).name);

  /* (gtk_list_box_remove_all is GTK 4.12.) */
  while ((row = gtk_list_box_get_row_at_index (self->list_box, 0)) != NULL)
    gtk_list_box_remove (self->list_box, GTK_WIDGET (row));
  g_array_unref (self->rows);
  self->rows = g_steal_pointer (&rows);
  for (guint i = 0; i < self->rows->len; i++)
    {
      const Row *r = &g_array_index (self->rows, Row, i);

      gtk_list_box_append (self->list_box, row_widget (r));
      if (g_strcmp0 (r->name, selected) == 0)
        gtk_list_box_select_row (self->list_box, gtk_list_box_get_row_at_index (self->list_box, i));
    }
}

guint
gradlens_variable_list_get_n_rows (GradlensVariableList *self)
{
  g_return_val_if_fail (GRADLENS_IS_VARIABLE_LIST (self), 0);

  return self->rows->len;
}

const char *
gradlens_variable_list_get_name (GradlensVariableList *self,
                                 guint                 i)
{
  g_return_val_if_fail (GRADLENS_IS_VARIABLE_LIST (self), NULL);
  g_return_val_if_fail (i < self->rows->len, NULL);

  return g_array_index (self->rows, Row, i).name;
}

const char *
gradlens_variable_list_get_summary (GradlensVariableList *self,
                                    guint                 i)
{
  g_return_val_if_fail (GRADLENS_IS_VARIABLE_LIST (self), NULL);
  g_return_val_if_fail (i < self->rows->len, NULL);

  return g_array_index (self->rows, Row, i).summary;
}

gboolean
gradlens_variable_list_activate (GradlensVariableList *self,
                                 const char           *name)
{
  g_return_val_if_fail (GRADLENS_IS_VARIABLE_LIST (self), FALSE);

  for (guint i = 0; i < self->rows->len; i++)
    if (g_strcmp0 (g_array_index (self->rows, Row, i).name, name) == 0)
      {
        gtk_list_box_select_row (self->list_box, gtk_list_box_get_row_at_index (self->list_box, i));
        g_signal_emit (self, signals[SIGNAL_ACTIVATED], 0, g_array_index (self->rows, Row, i).name);
        return TRUE;
      }
  return FALSE;
}

/* inspector.c: everything about the selected node or tensor */

#include "inspector.h"
#include "backward-rule.h"
#include "inspector-pictures.h"
#include "gradlens-placeholder.h"
#include "layer-chart.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* Tensors up to this many elements show their values, as print(t) would. */
#define SHOW_VALUES_MAX 64

struct _GradlensInspector
{
  GtkWidget parent_instance;

  /* Template children. */
  GtkStack            *stack;
  GradlensPlaceholder *placeholder;
  GtkScrolledWindow   *scroller;
  GtkBox              *content;

  GradlensTensorNamer namer;
  gpointer            namer_data;
  const Sgd          *sgd;

  Node   *node;          /* shown: a node (strong) ... */
  Tensor *tensor;        /* ... or a tensor (strong) */
  char   *tensor_name;
  char   *title;
  char   *grad_text;
  guint   restore_scroll_id;
  double  saved_scroll;
};

G_DEFINE_FINAL_TYPE (GradlensInspector, gradlens_inspector, GTK_TYPE_WIDGET)

enum {
  SIGNAL_NODE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Building blocks ------------------------------------------------------- */

static GtkGrid *
add_facts (GtkBox *box)
{
  GtkWidget *grid = gtk_grid_new ();

  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 3);
  gtk_box_append (box, grid);
  return GTK_GRID (grid);
}

static GtkWidget *
add_fact (GtkGrid    *grid,
          const char *key,
          const char *value)
{
  int row = 0;
  GtkWidget *k, *v;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (grid)); c; c = gtk_widget_get_next_sibling (c))
    row++;
  row /= 2;

  k = gtk_label_new (key);
  gtk_label_set_xalign (GTK_LABEL (k), 1);
  gtk_label_set_yalign (GTK_LABEL (k), 0);
  gtk_widget_add_css_class (k, "dim-label");
  v = gtk_label_new (value);
  gtk_label_set_xalign (GTK_LABEL (v), 0);
  gtk_label_set_wrap (GTK_LABEL (v), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (v), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (v), TRUE);
  gtk_widget_set_hexpand (v, TRUE);
  gtk_grid_attach (grid, k, 0, row, 1, 1);
  gtk_grid_attach (grid, v, 1, row, 1, 1);
  return v;
}

static GtkWidget *
add_values (GtkBox       *box,
            const Tensor *t)
{
  g_autofree char *text = tensor_to_string (t);
  GtkWidget *label = inspector_add_label (box, text, "tensor-values");

  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  return label;
}

static char *
format_float (double v)
{
  return g_strdup_printf ("%.6g", v);
}

static void
add_stats (GtkGrid      *grid,
           const Tensor *t)
{
  TensorStats st;
  g_autofree char *text = NULL;
  g_autofree char *mn = NULL, *mx = NULL, *mean = NULL, *std = NULL, *norm = NULL;

  tensor_stats (t, &st);
  mn = format_float (st.min);
  mx = format_float (st.max);
  mean = format_float (st.mean);
  std = t->numel > 1 ? format_float (st.std) : g_strdup (_("nan (one element)"));
  norm = format_float (st.norm);
  add_fact (grid, _("min / max"), (text = g_strdup_printf ("%s / %s", mn, mx)));
  g_clear_pointer (&text, g_free);
  add_fact (grid, _("mean / std"), (text = g_strdup_printf ("%s / %s", mean, std)));
  g_clear_pointer (&text, g_free);
  add_fact (grid, "‖·‖₂", norm);
  if (st.n_nan > 0 || st.n_inf > 0)
    {
      GtkWidget *v;
      text = g_strdup_printf ("%" G_GINT64_FORMAT " NaN, %" G_GINT64_FORMAT " Inf", st.n_nan, st.n_inf);
      v = add_fact (grid, _("not finite"), text);
      gtk_widget_add_css_class (v, "error");
    }
}

/* --- Sections --------------------------------------------------------------- */

static const char *
tensor_name (GradlensInspector *self,
             const Tensor      *t)
{
  const char *name = NULL;

  if (t == NULL)
    return NULL;
  if (self->namer != NULL)
    name = self->namer (t, self->namer_data);
  if (name == NULL)
    name = t->name;
  return name;
}

/* Values when small; statistics and a histogram always when large. */
static void
add_data (GtkBox       *box,
          const Tensor *t,
          gboolean      pictures)
{
  GtkGrid *facts;

  if (t->numel <= SHOW_VALUES_MAX)
    add_values (box, t);
  facts = add_facts (box);
  add_stats (facts, t);
  if (pictures && t->numel > 8)
    inspector_add_histogram (box, t);
}

static void
add_grad_section (GradlensInspector *self,
                  GtkBox            *box,
                  const Tensor      *t)
{
  g_autofree char *heading = NULL;
  const char *name = tensor_name (self, t);

  heading = g_strdup_printf ("%s.grad", name != NULL ? name : _("tensor"));
  inspector_add_heading (box, heading);

  g_clear_pointer (&self->grad_text, g_free);
  if (t->grad == NULL)
    {
      self->grad_text = g_strdup ("None");
      inspector_add_label (box, "None", "tensor-values");
      inspector_add_label (box, !tensor_is_leaf (t)
                                ? _("A non-leaf tensor keeps no .grad unless retain_grad() was called.")
                                : !t->requires_grad
                                    ? _("It does not require grad, so backward never fills it.")
                                    : _("None until a backward pass reaches it (or after zero_grad())."),
                           "dim-label");
      return;
    }

  self->grad_text = tensor_to_string (t->grad);
  {
    g_autofree char *passes = t->grad_passes == 1
      ? g_strdup (_("from 1 backward pass"))
      : g_strdup_printf (ngettext ("sum of %d backward pass (gradients accumulate until "
                                   "zero_grad())",
                                   "sum of %d backward passes (gradients accumulate until "
                                   "zero_grad())", t->grad_passes),
                         t->grad_passes);
    inspector_add_label (box, passes, t->grad_passes > 1 ? "accent" : "dim-label");
  }
  add_data (box, t->grad, TRUE);
}

static void
add_sgd_section (GradlensInspector *self,
                 GtkBox            *box,
                 const Tensor      *t)
{
  const SgdParam *sp = gradlens_sgd_param_of (self->sgd, t);
  GtkGrid *facts;

  if (sp == NULL)
    return;

  inspector_add_heading (box, sgd_kind_name (self->sgd));
  facts = add_facts (box);
  {
    const SgdOptions *o = &self->sgd->options;
    g_autofree char *lr = o->kind == OPTIM_ADAM
                            ? g_strdup_printf ("lr %g, betas (%g, %g), eps %g%s", o->adam.lr,
                                               o->adam.beta1, o->adam.beta2, o->adam.eps,
                                               o->adam.amsgrad ? ", amsgrad" : "")
                            : g_strdup_printf ("lr %g, momentum %g%s", o->lr, o->momentum,
                                               o->nesterov ? ", nesterov" : "");
    g_autofree char *steps = g_strdup_printf ("%d", self->sgd->steps);
    add_fact (facts, _("optimizer"), lr);
    add_fact (facts, _("steps taken"), steps);
  }

  if (self->sgd->options.kind == OPTIM_ADAM)
    {
      /* Adam's state: its two running averages (PyTorch's state names). */
      if (sp->exp_avg != NULL)
        {
          inspector_add_label (box, "exp_avg", "caption-heading");
          add_data (box, sp->exp_avg, FALSE);
          inspector_add_label (box, "exp_avg_sq", "caption-heading");
          add_data (box, sp->exp_avg_sq, FALSE);
        }
    }
  else if (sp->momentum_buffer == NULL)
    add_fact (facts, _("momentum buffer"),
              t->requires_grad ? _("None (made at this parameter's first update)")
                               : _("None (frozen parameters never get one)"));
  else
    {
      inspector_add_label (box, "momentum_buffer", "caption-heading");
      add_data (box, sp->momentum_buffer, FALSE);
    }

  if (sp->last_update == NULL)
    {
      add_fact (facts, _("last step"), _("did not move it (its .grad was None)"));
      return;
    }

  {
    double ratio = gradlens_update_ratio (t, sp->last_update);
    g_autofree char *r = g_strdup_printf ("%.4g", ratio);
    g_autofree char *dn = g_strdup_printf ("%.6g", tensor_norm2 (sp->last_update));
    GtkGrid *step_facts;

    inspector_add_label (box, _("Last step"), "caption-heading");
    step_facts = add_facts (box);
    add_fact (step_facts, "‖Δw‖", dn);
    add_fact (step_facts, "‖Δw‖ / ‖w‖", r);

    if (t->numel <= SHOW_VALUES_MAX)
      {
        /* before = after − Δw, elementwise: the value the step started from. */
        g_autoptr (Tensor) before = tensor_copy (t);
        for (int64_t i = 0; i < before->numel && i < sp->last_update->numel; i++)
          before->data[i] -= sp->last_update->data[i];
        inspector_add_label (box, _("before"), "dim-label");
        add_values (box, before);
        inspector_add_label (box, _("after"), "dim-label");
        add_values (box, t);
      }
    else
      {
        double before_sq = 0;
        g_autofree char *b = NULL, *a = NULL;
        for (int64_t i = 0; i < t->numel && i < sp->last_update->numel; i++)
          {
            double w = (double) t->data[i] - sp->last_update->data[i];
            before_sq += w * w;
          }
        b = g_strdup_printf ("%.6g", sqrt (before_sq));
        a = g_strdup_printf ("%.6g", tensor_norm2 (t));
        add_fact (step_facts, _("‖w‖ before"), b);
        add_fact (step_facts, _("‖w‖ after"), a);
      }
  }
}

static void
add_tensor_section (GradlensInspector *self,
                    GtkBox            *box,
                    Tensor            *t,
                    const char        *name)
{
  g_autofree char *shape = tensor_shape_string (t);
  g_autofree char *numel = g_strdup_printf ("%" G_GINT64_FORMAT, t->numel);
  GtkGrid *facts = add_facts (box);

  add_fact (facts, _("shape"), shape);
  add_fact (facts, _("elements"), numel);
  add_fact (facts, "requires_grad", t->requires_grad ? "True" : "False");
  add_fact (facts, "is_leaf", tensor_is_leaf (t) ? "True" : "False");
  add_fact (facts, "grad_fn", t->grad_fn != NULL ? node_name (t->grad_fn) : "None");
  if (t->retains_grad)
    add_fact (facts, "retains_grad", "True");

  /* conv1's filters first: the picture a student remembers. */
  inspector_add_filters (box, t);
  inspector_add_heading (box, _("Values"));
  add_data (box, t, TRUE);
  if (t->ndim >= 2)
    inspector_add_heatmap (box, t, _("Slice"));

  /* Always: "None, because it is not a leaf" is a lesson too. */
  add_grad_section (self, box, t);
  add_sgd_section (self, box, t);
}

static const char *
state_text (const Node *node,
            char      **owned)
{
  switch (node->state)
    {
    case NODE_IDLE:
      return _("not part of a running backward");
    case NODE_WAITING:
      return (*owned = g_strdup_printf (ngettext ("waiting: %d of %d gradient arrived",
                                                  "waiting: %d of %d gradients arrived",
                                                  node->deps_total),
                                        node->deps_arrived, node->deps_total));
    case NODE_READY:
      return _("ready: all its gradients arrived");
    case NODE_RUNNING:
      return _("running now");
    case NODE_DONE:
      return _("ran in the last backward");
    default:
      return "?";
    }
}

static void
on_next_clicked (GtkButton         *button,
                 GradlensInspector *self)
{
  Node *node = g_object_get_data (G_OBJECT (button), "node");

  if (node == NULL)
    return;
  node_ref (node);
  gradlens_inspector_show_node (self, node);
  g_signal_emit (self, signals[SIGNAL_NODE_ACTIVATED], 0, node);
  node_unref (node);
}

static char *
node_label (GradlensInspector *self,
            const Node        *node)
{
  if (node->op == OP_ACCUMULATE_GRAD && node->variable != NULL)
    {
      const char *name = tensor_name (self, node->variable);
      return g_strdup_printf (_("AccumulateGrad (%s)"), name != NULL ? name : _("leaf"));
    }
  if (node->module != NULL && *node->module)
    return g_strdup_printf ("%s (%s)", node_name (node), node->module);
  return g_strdup (node_name (node));
}

static void
add_node_sections (GradlensInspector *self,
                   GtkBox            *box,
                   Node              *node)
{
  GtkGrid *facts = add_facts (box);
  g_autofree char *state_owned = NULL;
  g_autofree char *out_shape = shape_to_string (node->out_ndim, node->out_shape);

  if (node->module != NULL && *node->module)
    add_fact (facts, _("module"), node->module);
  if (node->op == OP_ACCUMULATE_GRAD)
    add_fact (facts, _("sequence"), _("none: runs as soon as its gradient is ready"));
  else
    {
      g_autofree char *number = g_strdup_printf ("%" G_GUINT64_FORMAT, node->seq);
      /* Translators: %s is the node's sequence number. */
      g_autofree char *seq = g_strdup_printf (_("%s (later ones run first)"), number);
      add_fact (facts, _("sequence"), seq);
    }
  add_fact (facts, node->op == OP_ACCUMULATE_GRAD ? _("gradient shape") : _("output shape"), out_shape);
  add_fact (facts, _("backward"), state_text (node, &state_owned));

  if (node->grad_buffer != NULL && (node->state == NODE_WAITING || node->state == NODE_READY))
    {
      inspector_add_label (box, _("Gradient summed so far"), "caption-heading");
      add_data (box, node->grad_buffer, FALSE);
    }

  /* next_functions, None slots included, in PyTorch's order. */
  inspector_add_heading (box, "next_functions");
  /* Small gradients: what backward was given (not translated: PyTorch's word). */
  if (node->grad_received != NULL && node->op != OP_ACCUMULATE_GRAD)
    {
      g_autofree char *values = backward_values_text (node->grad_received);
      g_autofree char *text = g_strdup_printf ("grad_output = %s", values);
      GtkWidget *l = inspector_add_label (box, text, "tensor-values");

      gtk_widget_set_tooltip_text (l, _("The gradient this node's backward was given in the last "
                                        "pass; each input's gradient below is made from it by "
                                        "the op's own rule"));
    }
  if (node->n_next == 0)
    inspector_add_label (box, _("() — a leaf's accumulator ends the graph"), "dim-label");
  for (int i = 0; i < node->n_next; i++)
    {
      /* Two lines, so that a narrow inspector wraps nothing mid-row: the index and
       * the next function, then its input's shape and the gradient's norm. */
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *about = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      g_autofree char *index = g_strdup_printf ("%d", i);
      GtkWidget *idx = gtk_label_new (index);
      Node *next = node->next[i].node;

      gtk_widget_add_css_class (idx, "dim-label");
      gtk_widget_set_size_request (idx, 16, -1);
      gtk_box_append (GTK_BOX (row), idx);
      if (next != NULL)
        {
          g_autofree char *label = node_label (self, next);
          g_autofree char *tip = g_strdup_printf (_("Inspect %s"), label);
          GtkWidget *button = gtk_button_new_with_label (label);
          GtkWidget *button_label = gtk_button_get_child (GTK_BUTTON (button));

          /* A long grad_fn and module path wraps rather than widening the panel. */
          gtk_label_set_wrap (GTK_LABEL (button_label), TRUE);
          gtk_label_set_wrap_mode (GTK_LABEL (button_label), PANGO_WRAP_WORD_CHAR);
          gtk_label_set_xalign (GTK_LABEL (button_label), 0);
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_add_css_class (button, "next-function");
          gtk_widget_set_tooltip_text (button, tip);
          g_object_set_data_full (G_OBJECT (button), "node", node_ref (next),
                                  (GDestroyNotify) node_unref);
          g_signal_connect (button, "clicked", G_CALLBACK (on_next_clicked), self);
          gtk_box_append (GTK_BOX (row), button);
        }
      else
        {
          /* not translated: Python's None */
          GtkWidget *none = gtk_label_new ("None");
          gtk_widget_add_css_class (none, "dim-label");
          gtk_widget_set_tooltip_text (none, _("An input that needs no gradient: a Python number, "
                                               "a tensor without requires_grad, or a missing "
                                               "bias"));
          gtk_box_append (GTK_BOX (row), none);
        }
      if (node->input_ndim[i] > 0 || next != NULL)
        {
          g_autofree char *shape = shape_to_string (node->input_ndim[i], node->input_shape[i]);
          GtkWidget *s = gtk_label_new (shape);
          gtk_widget_add_css_class (s, "dim-label");
          gtk_label_set_wrap (GTK_LABEL (s), TRUE);
          gtk_label_set_wrap_mode (GTK_LABEL (s), PANGO_WRAP_WORD_CHAR);
          gtk_box_append (GTK_BOX (about), s);
        }
      if (node->grad_norm_out[i] > 0)
        {
          g_autofree char *sent = g_strdup_printf ("‖grad‖ %.4g", node->grad_norm_out[i]);
          GtkWidget *s = gtk_label_new (sent);
          /* A number, not a link: plain text (the accent colour made it look
           * clickable), with what it is said on hover. */
          gtk_widget_add_css_class (s, "numeric");
          gtk_widget_set_tooltip_text (s, _("The norm of the gradient this node sent along this "
                                            "edge in the last backward pass"));
          gtk_box_append (GTK_BOX (about), s);
        }
      gtk_box_append (box, row);
      if (gtk_widget_get_first_child (about) != NULL)
        {
          gtk_widget_set_margin_start (about, 22);
          gtk_box_append (box, about);
        }
      else
        {
          g_object_ref_sink (about);   /* never shown: dropped */
          g_object_unref (about);
        }
      /* The chain rule's step for this input: its rule and the numbers it made,
       * "grad · 2·self = [-12., -8.]". */
      if (node->grad_sent[i] != NULL)
        {
          g_autofree char *rule = backward_rule_text (node, i);
          g_autofree char *values = backward_values_text (node->grad_sent[i]);
          g_autofree char *text = g_strdup_printf ("%s = %s", rule != NULL ? rule : "grad", values);
          GtkWidget *l = inspector_add_label (box, text, "tensor-values");

          gtk_widget_set_margin_start (l, 22);
        }
    }

  /* Saved tensors. */
  if (node->n_saved > 0 || node->saved_freed || node->extra != NULL)
    {
      inspector_add_heading (box, _("Saved for backward"));
      for (int i = 0; i < node->n_saved; i++)
        {
          g_autofree char *text = NULL;
          const char *saved_name = node->saved_names[i] != NULL ? node->saved_names[i] : _("tensor");

          if (node->saved[i] != NULL)
            {
              g_autofree char *shape = tensor_shape_string (node->saved[i]);
              text = g_strdup_printf ("%s %s", saved_name, shape);
              inspector_add_label (box, text, NULL);
            }
          else
            {
              text = g_strdup_printf (_("%s — freed"), saved_name);
              inspector_add_label (box, text, "dim-label");
            }
        }
      if (node->extra != NULL)
        inspector_add_label (box, _("plus a buffer of its own (pooling indices, batch statistics)"), NULL);
      if (node->saved_freed)
        inspector_add_label (box, _("Freed by backward (retain_graph=False): a second "
                                    "backward through this node fails."), "warning");
    }

  if (node->op == OP_ACCUMULATE_GRAD && node->variable != NULL)
    {
      const char *name = tensor_name (self, node->variable);
      g_autofree char *heading = g_strdup_printf (_("Leaf: %s"), name != NULL ? name : _("tensor"));
      inspector_add_heading (box, heading);
      add_tensor_section (self, box, node->variable, name);
    }
}

/* --- Showing ---------------------------------------------------------------- */

static gboolean
restore_scroll (gpointer user_data)
{
  GradlensInspector *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->restore_scroll_id = 0;
  gtk_adjustment_set_value (adj, self->saved_scroll);
  return G_SOURCE_REMOVE;
}

static void
rebuild (GradlensInspector *self,
         gboolean           keep_scroll)
{
  GtkWidget *child;
  GtkWidget *title;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->saved_scroll = keep_scroll ? gtk_adjustment_get_value (adj) : 0;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->content))) != NULL)
    gtk_box_remove (self->content, child);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->grad_text, g_free);

  if (self->node == NULL && self->tensor == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  if (self->node != NULL)
    {
      self->title = g_strdup (node_name (self->node));
      title = inspector_add_label (self->content, self->title, "title-2");
      gtk_label_set_selectable (GTK_LABEL (title), TRUE);
      inspector_add_label (self->content, self->node->op == OP_ACCUMULATE_GRAD
                                          ? _("grad_fn of a leaf: adds the gradient into .grad")
                                          : _("grad_fn: computes the gradients of its inputs"),
                           "dim-label");
      add_node_sections (self, self->content, self->node);
    }
  else
    {
      self->title = g_strdup (self->tensor_name != NULL ? self->tensor_name : _("tensor"));
      title = inspector_add_label (self->content, self->title, "title-2");
      gtk_label_set_selectable (GTK_LABEL (title), TRUE);
      inspector_add_label (self->content,
                           tensor_is_leaf (self->tensor) ? _("a leaf tensor") : _("a tensor made by an op"),
                           "dim-label");
      add_tensor_section (self, self->content, self->tensor, self->tensor_name);
    }

  gtk_stack_set_visible_child_name (self->stack, "content");
  g_clear_handle_id (&self->restore_scroll_id, g_source_remove);
  if (self->saved_scroll > 0)
    self->restore_scroll_id = g_idle_add_full (G_PRIORITY_LOW, restore_scroll, self, NULL);
}

static void
gradlens_inspector_dispose (GObject *object)
{
  GradlensInspector *self = GRADLENS_INSPECTOR (object);

  g_clear_handle_id (&self->restore_scroll_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), GRADLENS_TYPE_INSPECTOR);
  g_clear_pointer (&self->node, node_unref);
  g_clear_pointer (&self->tensor, tensor_unref);

  G_OBJECT_CLASS (gradlens_inspector_parent_class)->dispose (object);
}

static void
gradlens_inspector_finalize (GObject *object)
{
  GradlensInspector *self = GRADLENS_INSPECTOR (object);

  g_free (self->tensor_name);
  g_free (self->title);
  g_free (self->grad_text);

  G_OBJECT_CLASS (gradlens_inspector_parent_class)->finalize (object);
}

static void
gradlens_inspector_class_init (GradlensInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gradlens_inspector_dispose;
  object_class->finalize = gradlens_inspector_finalize;

  /**
   * GradlensInspector::node-activated:
   * @node: the next function clicked (a Node *)
   */
  signals[SIGNAL_NODE_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 1, G_TYPE_POINTER);

  g_type_ensure (GRADLENS_TYPE_PLACEHOLDER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gradlens/GradLens/ui/inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, GradlensInspector, stack);
  gtk_widget_class_bind_template_child (widget_class, GradlensInspector, placeholder);
  gtk_widget_class_bind_template_child (widget_class, GradlensInspector, scroller);
  gtk_widget_class_bind_template_child (widget_class, GradlensInspector, content);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "inspector");
}

static void
gradlens_inspector_init (GradlensInspector *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
gradlens_inspector_new (void)
{
  return g_object_new (GRADLENS_TYPE_INSPECTOR, NULL);
}

void
gradlens_inspector_set_namer (GradlensInspector   *self,
                              GradlensTensorNamer  namer,
                              gpointer             user_data)
{
  g_return_if_fail (GRADLENS_IS_INSPECTOR (self));

  self->namer = namer;
  self->namer_data = user_data;
}

void
gradlens_inspector_set_optimizer (GradlensInspector *self,
                                  const Sgd         *sgd)
{
  g_return_if_fail (GRADLENS_IS_INSPECTOR (self));

  self->sgd = sgd;
}

void
gradlens_inspector_show_node (GradlensInspector *self,
                              Node              *node)
{
  gboolean same;

  g_return_if_fail (GRADLENS_IS_INSPECTOR (self));

  if (node == NULL)
    {
      gradlens_inspector_clear (self);
      return;
    }
  same = node == self->node;
  node_ref (node);
  g_clear_pointer (&self->node, node_unref);
  g_clear_pointer (&self->tensor, tensor_unref);
  g_clear_pointer (&self->tensor_name, g_free);
  self->node = node;
  rebuild (self, same);
}

void
gradlens_inspector_show_tensor (GradlensInspector *self,
                                Tensor            *tensor,
                                const char        *name)
{
  gboolean same;
  char *new_name;

  g_return_if_fail (GRADLENS_IS_INSPECTOR (self));

  if (tensor == NULL)
    {
      gradlens_inspector_clear (self);
      return;
    }
  same = tensor == self->tensor;
  new_name = g_strdup (name != NULL ? name : tensor_name (self, tensor));
  tensor_ref (tensor);
  g_clear_pointer (&self->node, node_unref);
  g_clear_pointer (&self->tensor, tensor_unref);
  g_free (self->tensor_name);
  self->tensor = tensor;
  self->tensor_name = new_name;
  rebuild (self, same);
}

void
gradlens_inspector_clear (GradlensInspector *self)
{
  g_return_if_fail (GRADLENS_IS_INSPECTOR (self));

  g_clear_pointer (&self->node, node_unref);
  g_clear_pointer (&self->tensor, tensor_unref);
  g_clear_pointer (&self->tensor_name, g_free);
  rebuild (self, FALSE);
}

void
gradlens_inspector_refresh (GradlensInspector *self)
{
  g_return_if_fail (GRADLENS_IS_INSPECTOR (self));

  rebuild (self, TRUE);
}

Node *
gradlens_inspector_get_node (GradlensInspector *self)
{
  g_return_val_if_fail (GRADLENS_IS_INSPECTOR (self), NULL);

  return self->node;
}

Tensor *
gradlens_inspector_get_tensor (GradlensInspector *self)
{
  g_return_val_if_fail (GRADLENS_IS_INSPECTOR (self), NULL);

  return self->tensor;
}

const char *
gradlens_inspector_get_title (GradlensInspector *self)
{
  g_return_val_if_fail (GRADLENS_IS_INSPECTOR (self), NULL);

  return self->title;
}

const char *
gradlens_inspector_get_grad_text (GradlensInspector *self)
{
  g_return_val_if_fail (GRADLENS_IS_INSPECTOR (self), NULL);

  return self->grad_text;
}

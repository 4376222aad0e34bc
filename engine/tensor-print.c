/* tensor-print.c — tensors printed the way PyTorch prints them (torch/_tensor_str.py).
 *
 * One format for every element: integer mode ("36.") when all finite values are
 * whole numbers, scientific ("1.2346e+05") when the magnitudes span more than
 * 1000× or leave [1e-4, 1e8), fixed with 4 decimals otherwise; every element padded
 * to the widest. More than 1000 elements print the first and last three of each dim.
 */
#include "autograd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PRINT_THRESHOLD 1000
#define PRINT_EDGE 3
#define PRINT_LINE_WIDTH 80

typedef struct
{
  enum { FMT_INT, FMT_FIXED, FMT_SCI, FMT_INT64, FMT_BOOL } mode;
  int width;
  bool summarize;
} Formatter;

static void
format_value (const Formatter *f, float v, char *buf, size_t len)
{
  if (isnan (v))
    snprintf (buf, len, "nan");
  else if (isinf (v))
    snprintf (buf, len, v > 0 ? "inf" : "-inf");
  else if (f->mode == FMT_INT64)
    snprintf (buf, len, "%" G_GINT64_FORMAT, (gint64) v);
  else if (f->mode == FMT_BOOL)
    snprintf (buf, len, "%s", v != 0 ? "True" : "False");
  else if (f->mode == FMT_INT)
    snprintf (buf, len, "%.0f.", v);
  else if (f->mode == FMT_SCI)
    snprintf (buf, len, "%.4e", v);
  else
    snprintf (buf, len, "%.4f", v);
}

static bool
is_shown (const Tensor *t, const Formatter *f, int64_t flat)
{
  if (!f->summarize)
    return true;
  for (int d = t->ndim - 1; d >= 0; d--)
    {
      int64_t i = flat % t->shape[d];
      flat /= t->shape[d];
      if (t->shape[d] > 2 * PRINT_EDGE && i >= PRINT_EDGE && i < t->shape[d] - PRINT_EDGE)
        return false;
    }
  return true;
}

static void
formatter_init (Formatter *f, const Tensor *t)
{
  f->summarize = t->numel > PRINT_THRESHOLD;
  bool all_int = true;
  double lo = INFINITY, hi = 0;
  for (int64_t i = 0; i < t->numel; i++)
    {
      float v = t->data[i];
      if (!isfinite (v) || !is_shown (t, f, i))
        continue;
      if (v != ceilf (v))
        all_int = false;
      if (v != 0)
        {
          lo = MIN (lo, fabs (v));
          hi = MAX (hi, fabs (v));
        }
    }
  bool any = hi > 0;
  if (t->dtype == TENSOR_INT64)
    f->mode = FMT_INT64;
  else if (t->dtype == TENSOR_BOOL)
    f->mode = FMT_BOOL;
  else if (all_int)
    f->mode = any && (hi / lo > 1000 || hi > 1e8) ? FMT_SCI : FMT_INT;
  else
    f->mode = any && (hi / lo > 1000 || hi > 1e8 || lo < 1e-4) ? FMT_SCI : FMT_FIXED;
  /* torch's _Formatter: a float tensor's width comes from its nonzero finite values
   * (nan, inf and 0 are padded to it, never widen it); an integer or bool one's from
   * every value. */
  bool floating = t->dtype == TENSOR_FLOAT32;
  f->width = 1;
  char buf[64];
  for (int64_t i = 0; i < t->numel; i++)
    if (is_shown (t, f, i) && (!floating || (isfinite (t->data[i]) && t->data[i] != 0)))
      {
        format_value (f, t->data[i], buf, sizeof buf);
        f->width = MAX (f->width, (int) strlen (buf));
      }
}

/* ", " within the last dim; ",\n" plus a blank line per extra depth, then the
 * indent, between blocks. */
static void
print_separator (GString *s, const Tensor *t, int dim, int indent)
{
  g_string_append_c (s, ',');
  if (dim == t->ndim - 1)
    {
      g_string_append_c (s, ' ');
      return;
    }
  for (int k = 0; k < t->ndim - dim - 1; k++)
    g_string_append_c (s, '\n');
  g_string_append_printf (s, "%*s", indent + 1, "");
}

/* The last dim: elements padded to the common width, " ..." counted as one of them,
 * as many on a line as fit in torch's line width of 80 after the indent. */
static void
print_vector (GString *s, const Tensor *t, const Formatter *f, int64_t offset, int indent)
{
  int64_t n = t->ndim ? t->shape[t->ndim - 1] : 1;
  bool cut = f->summarize && n > 2 * PRINT_EDGE;
  int64_t per_line = MAX (1, (PRINT_LINE_WIDTH - indent) / (f->width + 2));
  int64_t on_line = 0;
  g_string_append_c (s, '[');
  for (int64_t i = 0; i < n; i++)
    {
      char buf[64];
      if (cut && i == PRINT_EDGE)
        {
          g_strlcpy (buf, " ...", sizeof buf);
          i = n - PRINT_EDGE - 1;
        }
      else
        {
          char value[64];
          format_value (f, t->data[offset + i], value, sizeof value);
          g_snprintf (buf, sizeof buf, "%*s", f->width, value);
        }
      if (on_line == per_line)
        {
          g_string_append_printf (s, ",\n%*s", indent + 1, "");
          on_line = 0;
        }
      else if (on_line > 0)
        g_string_append (s, ", ");
      g_string_append (s, buf);
      on_line++;
    }
  g_string_append_c (s, ']');
}

static void
print_dim (GString *s, const Tensor *t, const Formatter *f, int dim, int64_t offset, int indent)
{
  if (dim == t->ndim)
    {
      char buf[64];
      format_value (f, t->data[offset], buf, sizeof buf);
      g_string_append_printf (s, "%*s", f->width, buf);
      return;
    }
  if (dim == t->ndim - 1)
    {
      print_vector (s, t, f, offset, indent);
      return;
    }
  int64_t n = t->shape[dim];
  int64_t stride = 1;
  for (int d = dim + 1; d < t->ndim; d++)
    stride *= t->shape[d];
  bool cut = f->summarize && n > 2 * PRINT_EDGE;
  g_string_append_c (s, '[');
  for (int64_t i = 0; i < n; i++)
    {
      if (i > 0)
        print_separator (s, t, dim, indent);
      if (cut && i == PRINT_EDGE)
        {
          /* torch joins " ..." (last dim) or "..." like one more element. */
          g_string_append (s, dim == t->ndim - 1 ? " ..." : "...");
          print_separator (s, t, dim, indent);
          i = n - PRINT_EDGE;
        }
      print_dim (s, t, f, dim + 1, offset + i * stride, indent + 1);
    }
  g_string_append_c (s, ']');
}

char *
tensor_to_string (const Tensor *t)
{
  GString *s = g_string_new ("tensor(");
  Formatter f;
  formatter_init (&f, t);
  if (t->numel == 0)
    g_string_append (s, "[]");
  else
    print_dim (s, t, &f, 0, 0, (int) strlen ("tensor("));
  g_autofree char *size = NULL, *grad_fn = NULL;
  if (t->numel == 0 && t->ndim > 1)
    {
      g_autofree char *shape = tensor_shape_string (t);
      size = g_strdup_printf ("size=%s", shape);
    }
  if (t->grad_fn)
    grad_fn = g_strdup_printf ("grad_fn=<%s>", node_name (t->grad_fn));
  const char *suffixes[] = { size, grad_fn ? grad_fn
                                   : t->requires_grad ? "requires_grad=True" : NULL };
  /* torch's _add_suffixes: a suffix that would pass the line width of 80 goes on a
   * line of its own, indented as the values ("tensor(" wide). Its measure of the
   * last line is its own: the characters after the last newline, plus one. */
  const char *nl = strrchr (s->str, '\n');
  size_t last_line = nl ? (size_t) (s->str + s->len - nl) + 1 : s->len + 2;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      if (suffixes[i] == NULL)
        continue;
      size_t len = strlen (suffixes[i]);
      if (last_line + len + 2 > PRINT_LINE_WIDTH)
        {
          g_string_append_printf (s, ",\n%*s%s", (int) strlen ("tensor("), "", suffixes[i]);
          last_line = strlen ("tensor(") + len;
        }
      else
        {
          g_string_append_printf (s, ", %s", suffixes[i]);
          last_line += len + 2;
        }
    }
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

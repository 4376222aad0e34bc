/* pth-pickle.c — a strict pickle machine for PyTorch state_dicts.
 *
 * A stack machine over the opcodes torch.save uses for a state_dict (protocols 2
 * to 5). Values live in an arena freed at once; nothing is recursed into. GLOBAL
 * resolves only OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter
 * and the storage types; REDUCE "calls" only those, by building a value. Nothing
 * pickled is ever run: any other global or opcode is an error that names it.
 */
#include "pth-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * The storage types torch pickles (torch.FloatStorage, …): the two GradLens
 * reads, and the others by name so that an error can say which dtype it met. */

static const StorageType storage_types[] = {
  { "FloatStorage", "float32", 4, STATE_DTYPE_F32 },
  { "LongStorage", "int64", 8, STATE_DTYPE_I64 },
  { "DoubleStorage", "float64", 8, -1 },
  { "HalfStorage", "float16", 2, -1 },
  { "BFloat16Storage", "bfloat16", 2, -1 },
  { "IntStorage", "int32", 4, -1 },
  { "ShortStorage", "int16", 2, -1 },
  { "CharStorage", "int8", 1, -1 },
  { "ByteStorage", "uint8", 1, -1 },
  { "BoolStorage", "bool", 1, -1 },
  { "ComplexFloatStorage", "complex64", 8, -1 },
  { "ComplexDoubleStorage", "complex128", 16, -1 },
};

/* ---------------------------------------------------------------------------
 * Pickle values. */

const char *
pth_pv_describe (const Pv *v)
{
  static const char *const names[] = {
    /* not translated: Python's own word */
    [PV_NONE] = "None",
    /* Translators: what a pickled value is, as in “the file holds a list, not a
     * dict of tensors”; bool, int, tuple, list, dict are Python's words. */
    [PV_BOOL] = N_("a bool"), [PV_INT] = N_("an int"), [PV_STR] = N_("a string"),
    [PV_TUPLE] = N_("a tuple"), [PV_LIST] = N_("a list"), [PV_DICT] = N_("a dict"),
    [PV_GLOBAL] = N_("a class"), [PV_STORAGE] = N_("a storage"), [PV_TENSOR] = N_("a tensor"),
  };
  return v->kind == PV_NONE ? names[v->kind] : _(names[v->kind]);
}

static void
pv_free (gpointer p)
{
  Pv *v = p;
  g_free (v->s);
  if (v->items)
    g_ptr_array_unref (v->items);
  g_free (v);
}

/* ---------------------------------------------------------------------------
 * The pickle machine. */

void
pth_unpickler_init (Unpickler *u, const char *file, gboolean legacy, GError **error)
{
  memset (u, 0, sizeof *u);
  u->file = file;
  u->legacy = legacy;
  u->error = error;
  u->arena = g_ptr_array_new_with_free_func (pv_free);
  u->stack = g_ptr_array_new ();
  u->marks = g_array_new (FALSE, FALSE, sizeof (guint));
  u->memo = g_hash_table_new (NULL, NULL);
  u->storages = g_hash_table_new (g_str_hash, g_str_equal);
}

void
pth_unpickler_clear (Unpickler *u)
{
  g_clear_pointer (&u->storages, g_hash_table_unref);
  g_clear_pointer (&u->memo, g_hash_table_unref);
  g_clear_pointer (&u->marks, g_array_unref);
  g_clear_pointer (&u->stack, g_ptr_array_unref);
  g_clear_pointer (&u->arena, g_ptr_array_unref);
}

static void G_GNUC_PRINTF (2, 3)
pickle_fail (Unpickler *u, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  state_dict_load_error (u->error, STATE_DICT_ERROR_FORMAT, u->file, NULL, "%s", reason);
}

static void
pickle_malformed (Unpickler *u, const char *why)
{
  pickle_fail (u, _("broken pickle in %s at byte %td: %s"), u->what, u->p - u->start, why);
}

static Pv *
pv_new (Unpickler *u, PvKind kind)
{
  Pv *v = g_new0 (Pv, 1);
  v->kind = kind;
  if (kind == PV_TUPLE || kind == PV_LIST || kind == PV_DICT)
    v->items = g_ptr_array_new ();
  g_ptr_array_add (u->arena, v);
  return v;
}

static void
push (Unpickler *u, Pv *v)
{
  g_ptr_array_add (u->stack, v);
}

static guint
frame_base (Unpickler *u)
{
  return u->marks->len ? g_array_index (u->marks, guint, u->marks->len - 1) : 0;
}

static Pv *
pop (Unpickler *u)
{
  if (u->stack->len <= frame_base (u))
    {
      pickle_malformed (u, _("stack underflow"));
      return NULL;
    }
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

static Pv *
top (Unpickler *u)
{
  if (u->stack->len <= frame_base (u))
    {
      pickle_malformed (u, _("stack underflow"));
      return NULL;
    }
  return u->stack->pdata[u->stack->len - 1];
}

/* Everything above the last MARK, as a new array (borrowed values); the mark goes. */
static GPtrArray *
pop_mark (Unpickler *u)
{
  if (u->marks->len == 0)
    {
      pickle_malformed (u, _("no MARK"));
      return NULL;
    }
  guint base = frame_base (u);
  g_array_set_size (u->marks, u->marks->len - 1);
  GPtrArray *items = g_ptr_array_sized_new (u->stack->len - base);
  for (guint i = base; i < u->stack->len; i++)
    g_ptr_array_add (items, u->stack->pdata[i]);
  g_ptr_array_set_size (u->stack, base);
  return items;
}

/* n bytes of operand, or NULL (error set) when the pickle ends first. */
static const guint8 *
take (Unpickler *u, guint64 n)
{
  if ((guint64) (u->end - u->p) < n)
    {
      pickle_malformed (u, _("truncated"));
      return NULL;
    }
  const guint8 *p = u->p;
  u->p += n;
  return p;
}

static Pv *
new_str (Unpickler *u, const guint8 *s, guint64 n)
{
  if (memchr (s, 0, n) != NULL || !g_utf8_validate ((const char *) s, n, NULL))
    {
      pickle_malformed (u, _("a string that is not valid UTF-8"));
      return NULL;
    }
  Pv *v = pv_new (u, PV_STR);
  v->s = g_strndup ((const char *) s, n);
  return v;
}

/* GLOBAL module name: only what a state_dict pickles resolves; the rest is refused. */
static Pv *
find_global (Unpickler *u, const char *module, const char *name)
{
  GlobalKind kind = GLOBAL_STORAGE_TYPE;
  const StorageType *type = NULL;

  if (g_str_equal (module, "collections") && g_str_equal (name, "OrderedDict"))
    kind = GLOBAL_ORDERED_DICT;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_tensor_v2"))
    kind = GLOBAL_REBUILD_TENSOR_V2;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_parameter"))
    kind = GLOBAL_REBUILD_PARAMETER;
  else if (g_str_equal (module, "torch"))
    for (guint i = 0; i < G_N_ELEMENTS (storage_types); i++)
      if (g_str_equal (name, storage_types[i].name))
        type = &storage_types[i];

  if (kind == GLOBAL_STORAGE_TYPE && type == NULL)
    {
      pickle_fail (u, _("not a PyTorch state_dict: found a pickled “%s.%s” (GradLens reads "
                     "tensors in a dict and never runs pickled code; save model.state_dict ())"),
                   module, name);
      return NULL;
    }
  Pv *v = pv_new (u, PV_GLOBAL);
  v->i = kind;
  v->type = type;
  return v;
}

/* A line of a GLOBAL operand: printable ASCII up to '\n'. */
static char *
read_line (Unpickler *u)
{
  const guint8 *nl = memchr (u->p, '\n', MIN ((gsize) (u->end - u->p), 256));
  if (nl == NULL)
    {
      pickle_malformed (u, _("GLOBAL without its end of line"));
      return NULL;
    }
  for (const guint8 *q = u->p; q < nl; q++)
    if (*q < 0x20 || *q > 0x7e)
      {
        pickle_malformed (u, _("GLOBAL with a non-ASCII name"));
        return NULL;
      }
  char *s = g_strndup ((const char *) u->p, nl - u->p);
  u->p = nl + 1;
  return s;
}

static gboolean
is_int (const Pv *v)
{
  return v->kind == PV_INT;
}

static gboolean
is_int_tuple (const Pv *v)
{
  if (v->kind != PV_TUPLE)
    return FALSE;
  for (guint i = 0; i < v->items->len; i++)
    if (!is_int (v->items->pdata[i]))
      return FALSE;
  return TRUE;
}

#define ARG(k) ((Pv *) args->items->pdata[k])

/* REDUCE: callable (*args). Only three callables exist here, and each just
 * builds a value from its arguments. */
static Pv *
reduce (Unpickler *u, Pv *callable, Pv *args)
{
  if (callable->kind != PV_GLOBAL || args->kind != PV_TUPLE)
    {
      pickle_malformed (u, _("REDUCE of something that is not a class"));
      return NULL;
    }
  guint n = args->items->len;
  switch ((GlobalKind) callable->i)
    {
    case GLOBAL_ORDERED_DICT:
      if (n == 0)
        return pv_new (u, PV_DICT);
      break;

    case GLOBAL_REBUILD_TENSOR_V2:
      /* (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
      if ((n == 6 || n == 7) && ARG (0)->kind == PV_STORAGE && is_int (ARG (1))
          && is_int_tuple (ARG (2)) && is_int_tuple (ARG (3)) && ARG (4)->kind == PV_BOOL
          && ARG (5)->kind == PV_DICT && (n == 6 || ARG (6)->kind == PV_DICT || ARG (6)->kind == PV_NONE))
        {
          Pv *t = pv_new (u, PV_TENSOR);
          t->storage = ARG (0);
          t->offset = ARG (1)->i;
          t->size = ARG (2);
          t->stride = ARG (3);
          return t;
        }
      break;

    case GLOBAL_REBUILD_PARAMETER:
      /* (data, requires_grad, backward_hooks): a Parameter is its data here. */
      if (n == 3 && ARG (0)->kind == PV_TENSOR && ARG (1)->kind == PV_BOOL
          && ARG (2)->kind == PV_DICT)
        return ARG (0);
      break;

    case GLOBAL_STORAGE_TYPE:
      break;
    }
  pickle_fail (u, _("not a PyTorch state_dict: a call in %s has unexpected arguments"), u->what);
  return NULL;
}

/* BINPERSID: ('storage', storage_type, key, location, numel[, view_metadata]). */
static Pv *
persistent_load (Unpickler *u, Pv *pid)
{
  guint n = pid->kind == PV_TUPLE ? pid->items->len : 0;
  Pv **f = n ? (Pv **) pid->items->pdata : NULL;
  if (n != (u->legacy ? 6u : 5u) || f[0]->kind != PV_STR || !g_str_equal (f[0]->s, "storage")
      || f[1]->kind != PV_GLOBAL || f[1]->i != GLOBAL_STORAGE_TYPE || f[2]->kind != PV_STR
      || f[3]->kind != PV_STR || !is_int (f[4]) || f[4]->i < 0
      || (u->legacy && f[5]->kind != PV_NONE))
    {
      pickle_fail (u, _("not a PyTorch state_dict: unexpected persistent id in %s"), u->what);
      return NULL;
    }
  Pv *s = g_hash_table_lookup (u->storages, f[2]->s);
  if (s != NULL)
    {
      if (s->type != f[1]->type || s->numel != f[4]->i)
        {
          pickle_fail (u, _("storage “%s” is described twice, differently"), f[2]->s);
          return NULL;
        }
      return s;
    }
  s = pv_new (u, PV_STORAGE);
  s->s = g_strdup (f[2]->s);
  s->type = f[1]->type;
  s->numel = f[4]->i;
  g_hash_table_insert (u->storages, s->s, s);
  return s;
}

static gboolean
memo_put (Unpickler *u, guint64 index)
{
  Pv *v = top (u);
  if (v == NULL)
    return FALSE;
  g_hash_table_insert (u->memo, GSIZE_TO_POINTER ((gsize) index), v);
  return TRUE;
}

static gboolean
memo_get (Unpickler *u, guint64 index)
{
  Pv *v = g_hash_table_lookup (u->memo, GSIZE_TO_POINTER ((gsize) index));
  if (v == NULL)
    {
      pickle_malformed (u, _("memo lookup of an index never stored"));
      return FALSE;
    }
  push (u, v);
  return TRUE;
}

/* Runs one pickle from u->p to its STOP; returns the value, u->p after STOP. */
Pv *
pth_unpickle (Unpickler *u, const guint8 *data, gsize size, const char *what)
{
  const guint8 *q;
  Pv *v, *k, *w;
  GPtrArray *items;

  u->what = what;
  u->start = u->p = data;
  u->end = data + size;
  g_ptr_array_set_size (u->stack, 0);
  g_array_set_size (u->marks, 0);
  g_hash_table_remove_all (u->memo);

#define NEED(n) G_STMT_START { if ((q = take (u, (n))) == NULL) return NULL; } G_STMT_END
#define POP(x) G_STMT_START { if (((x) = pop (u)) == NULL) return NULL; } G_STMT_END

  for (;;)
    {
      if (u->p >= u->end)
        {
          pickle_malformed (u, _("truncated (no STOP)"));
          return NULL;
        }
      guint8 op = *u->p++;
      switch (op)
        {
        case 0x80:              /* PROTO */
          NEED (1);
          if (q[0] < 2 || q[0] > 5)
            {
              pickle_malformed (u, _("unsupported pickle protocol"));
              return NULL;
            }
          break;
        case 0x95:              /* FRAME: a length hint, nothing to do */
          NEED (8);
          if (rd64 (q) > (guint64) (u->end - u->p))
            {
              pickle_malformed (u, _("FRAME longer than the pickle"));
              return NULL;
            }
          break;
        case '(':               /* MARK */
          g_array_append_val (u->marks, u->stack->len);
          break;
        case '.':               /* STOP */
          if (u->stack->len != 1 || u->marks->len != 0)
            {
              pickle_malformed (u, _("STOP with a stack that is not one value"));
              return NULL;
            }
          return u->stack->pdata[0];
        case 'N':
          push (u, pv_new (u, PV_NONE));
          break;
        case 0x88:              /* NEWTRUE */
        case 0x89:              /* NEWFALSE */
          v = pv_new (u, PV_BOOL);
          v->i = op == 0x88;
          push (u, v);
          break;
        case 'J':               /* BININT: int32 */
          NEED (4);
          v = pv_new (u, PV_INT);
          v->i = (gint32) rd32 (q);
          push (u, v);
          break;
        case 'K':               /* BININT1 */
          NEED (1);
          v = pv_new (u, PV_INT);
          v->i = q[0];
          push (u, v);
          break;
        case 'M':               /* BININT2 */
          NEED (2);
          v = pv_new (u, PV_INT);
          v->i = rd16 (q);
          push (u, v);
          break;
        case 0x8a:              /* LONG1: n bytes, two's complement, little-endian */
          {
            NEED (1);
            guint n = q[0];
            if (n > 8)
              {
                pickle_malformed (u, _("an integer beyond 64 bits"));
                return NULL;
              }
            NEED (n);
            guint64 x = 0;
            for (guint b = 0; b < n; b++)
              x |= (guint64) q[b] << (8 * b);
            if (n > 0 && n < 8 && (q[n - 1] & 0x80))
              x |= ~(guint64) 0 << (8 * n);
            v = pv_new (u, PV_INT);
            v->i = (gint64) x;
            push (u, v);
          }
          break;
        case 'X':               /* BINUNICODE */
        case 0x8c:              /* SHORT_BINUNICODE */
        case 0x8d:              /* BINUNICODE8 */
          {
            guint64 n;
            if (op == 'X')
              {
                NEED (4);
                n = rd32 (q);
              }
            else if (op == 0x8c)
              {
                NEED (1);
                n = q[0];
              }
            else
              {
                NEED (8);
                n = rd64 (q);
              }
            NEED (n);
            if ((v = new_str (u, q, n)) == NULL)
              return NULL;
            push (u, v);
          }
          break;
        case ')':               /* EMPTY_TUPLE */
          push (u, pv_new (u, PV_TUPLE));
          break;
        case 't':               /* TUPLE */
          if ((items = pop_mark (u)) == NULL)
            return NULL;
          v = pv_new (u, PV_TUPLE);
          g_ptr_array_unref (v->items);
          v->items = items;
          push (u, v);
          break;
        case 0x85:              /* TUPLE1 */
        case 0x86:              /* TUPLE2 */
        case 0x87:              /* TUPLE3 */
          {
            guint n = op - 0x84;
            if (u->stack->len < frame_base (u) + n)
              {
                pickle_malformed (u, _("stack underflow"));
                return NULL;
              }
            v = pv_new (u, PV_TUPLE);
            for (guint i = u->stack->len - n; i < u->stack->len; i++)
              g_ptr_array_add (v->items, u->stack->pdata[i]);
            g_ptr_array_set_size (u->stack, u->stack->len - n);
            push (u, v);
          }
          break;
        case ']':               /* EMPTY_LIST */
          push (u, pv_new (u, PV_LIST));
          break;
        case '}':               /* EMPTY_DICT */
          push (u, pv_new (u, PV_DICT));
          break;
        case 'a':               /* APPEND */
          POP (w);
          if ((v = top (u)) == NULL)
            return NULL;
          if (v->kind != PV_LIST)
            {
              pickle_malformed (u, _("APPEND to something that is not a list"));
              return NULL;
            }
          g_ptr_array_add (v->items, w);
          break;
        case 'e':               /* APPENDS */
        case 'u':               /* SETITEMS */
          {
            if ((items = pop_mark (u)) == NULL)
              return NULL;
            g_autoptr (GPtrArray) owned = items;
            if ((v = top (u)) == NULL)
              return NULL;
            if (v->kind != (op == 'e' ? PV_LIST : PV_DICT) || (op == 'u' && items->len % 2))
              {
                pickle_malformed (u, op == 'e' ? _("APPENDS to something that is not a list")
                                               : _("SETITEMS on something that is not a dict"));
                return NULL;
              }
            for (guint i = 0; i < items->len; i++)
              g_ptr_array_add (v->items, items->pdata[i]);
          }
          break;
        case 's':               /* SETITEM: duplicate keys are resolved by the reader */
          POP (w);
          POP (k);
          if ((v = top (u)) == NULL)
            return NULL;
          if (v->kind != PV_DICT)
            {
              pickle_malformed (u, _("SETITEM on something that is not a dict"));
              return NULL;
            }
          g_ptr_array_add (v->items, k);
          g_ptr_array_add (v->items, w);
          break;
        case 'c':               /* GLOBAL "module\nname\n" */
          {
            g_autofree char *module = read_line (u);
            if (module == NULL)
              return NULL;
            g_autofree char *name = read_line (u);
            if (name == NULL || (v = find_global (u, module, name)) == NULL)
              return NULL;
            push (u, v);
          }
          break;
        case 0x93:              /* STACK_GLOBAL */
          POP (w);
          POP (k);
          if (k->kind != PV_STR || w->kind != PV_STR)
            {
              pickle_malformed (u, _("STACK_GLOBAL of something that is not a name"));
              return NULL;
            }
          if ((v = find_global (u, k->s, w->s)) == NULL)
            return NULL;
          push (u, v);
          break;
        case 'R':               /* REDUCE */
          POP (w);
          POP (k);
          if ((v = reduce (u, k, w)) == NULL)
            return NULL;
          push (u, v);
          break;
        case 'b':               /* BUILD: only OrderedDict's _metadata, which is ignored */
          POP (w);
          if ((v = top (u)) == NULL)
            return NULL;
          if (v->kind != PV_DICT || w->kind != PV_DICT)
            {
              pickle_fail (u, _("not a PyTorch state_dict: %s sets the state of %s"), u->what,
                           pth_pv_describe (v));
              return NULL;
            }
          break;
        case 'Q':               /* BINPERSID */
          POP (w);
          if ((v = persistent_load (u, w)) == NULL)
            return NULL;
          push (u, v);
          break;
        case 'q':               /* BINPUT */
          NEED (1);
          if (!memo_put (u, q[0]))
            return NULL;
          break;
        case 'r':               /* LONG_BINPUT */
          NEED (4);
          if (!memo_put (u, rd32 (q)))
            return NULL;
          break;
        case 0x94:              /* MEMOIZE */
          if (!memo_put (u, g_hash_table_size (u->memo)))
            return NULL;
          break;
        case 'h':               /* BINGET */
          NEED (1);
          if (!memo_get (u, q[0]))
            return NULL;
          break;
        case 'j':               /* LONG_BINGET */
          NEED (4);
          if (!memo_get (u, rd32 (q)))
            return NULL;
          break;
        default:
          {
            if (g_ascii_isgraph (op))
              pickle_fail (u, _("not a PyTorch state_dict: pickle opcode 0x%02x ‘%c’ at byte %td "
                                "of %s is not one a state_dict uses"), op, op,
                           u->p - 1 - u->start, u->what);
            else
              pickle_fail (u, _("not a PyTorch state_dict: pickle opcode 0x%02x at byte %td of "
                                "%s is not one a state_dict uses"), op, u->p - 1 - u->start,
                           u->what);
            return NULL;
          }
        }
    }
#undef NEED
#undef POP
}


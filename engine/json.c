/* json.c — a strict RFC 8259 parser into a small tree (see json.h).
 *
 * Recursive descent over a byte range that is never read past its end; every
 * container is bounded by the depth limit, so the recursion is too. */
#include "json.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (json-error-quark, json_error)

#define JSON_DEFAULT_MAX_DEPTH 64

typedef struct
{
  const guint8 *start, *p, *end;
  int depth, max_depth;
  size_t n_values, max_values;
  GError **error;
} Parser;

static JsonValue *parse_value (Parser *ps);

static void G_GNUC_PRINTF (3, 4)
fail (Parser *ps, JsonError code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  /* Translators: %zu is a byte offset in a JSON text, %s what is wrong there. */
  g_set_error (ps->error, JSON_ERROR, code, _("at byte %zu: %s"), (size_t) (ps->p - ps->start),
               what);
}

/* What the parser wanted (a noun phrase: "a value", "a digit") and what it
 * found instead, a whole sentence for each kind of thing found. */
static void
unexpected (Parser *ps, const char *expected)
{
  guint8 c = ps->p < ps->end ? *ps->p : 0;
  if (ps->p >= ps->end)
    /* Translators: %s is what the JSON parser wanted, such as “a value”. */
    fail (ps, JSON_ERROR_SYNTAX, _("expected %s, found the end of the text"), expected);
  else if (c > 0x20 && c < 0x7f)
    /* Translators: %s is what the JSON parser wanted, %c the character it found. */
    fail (ps, JSON_ERROR_SYNTAX, _("expected %s, found ‘%c’"), expected, c);
  else
    fail (ps, JSON_ERROR_SYNTAX, _("expected %s, found byte 0x%02X"), expected, c);
}

static void
skip_space (Parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static JsonValue *
value_new (Parser *ps, JsonType type)
{
  if (ps->max_values > 0 && ++ps->n_values > ps->max_values)
    {
      fail (ps, JSON_ERROR_LIMIT, _("more than %zu values"), ps->max_values);
      return NULL;
    }
  JsonValue *v = g_new0 (JsonValue, 1);
  v->type = type;
  return v;
}

static JsonValue *
parse_literal (Parser *ps, const char *word, JsonType type)
{
  size_t n = strlen (word);
  if ((size_t) (ps->end - ps->p) < n || memcmp (ps->p, word, n) != 0)
    {
      unexpected (ps, _("a value"));
      return NULL;
    }
  JsonValue *v = value_new (ps, type);
  if (v)
    ps->p += n;
  return v;
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ] */
static JsonValue *
parse_number (Parser *ps)
{
  const guint8 *s = ps->p, *q = ps->p;
  bool negative = false, integral = true, overflow = false;
  uint64_t magnitude = 0;

  if (*q == '-')
    negative = true, q++;
  if (q >= ps->end || !g_ascii_isdigit (*q))
    {
      ps->p = q;
      unexpected (ps, _("a digit"));
      return NULL;
    }
  if (*q == '0' && q + 1 < ps->end && g_ascii_isdigit (q[1]))
    {
      ps->p = q;
      fail (ps, JSON_ERROR_SYNTAX, _("numbers may not start with a leading zero"));
      return NULL;
    }
  for (; q < ps->end && g_ascii_isdigit (*q); q++)
    {
      unsigned d = *q - '0';
      if (magnitude > (UINT64_MAX - d) / 10)
        overflow = true;
      else
        magnitude = magnitude * 10 + d;
    }
  if (q < ps->end && *q == '.')
    {
      integral = false;
      if (++q >= ps->end || !g_ascii_isdigit (*q))
        {
          ps->p = q;
          unexpected (ps, _("a digit after the decimal point"));
          return NULL;
        }
      while (q < ps->end && g_ascii_isdigit (*q))
        q++;
    }
  if (q < ps->end && (*q == 'e' || *q == 'E'))
    {
      integral = false;
      q++;
      if (q < ps->end && (*q == '+' || *q == '-'))
        q++;
      if (q >= ps->end || !g_ascii_isdigit (*q))
        {
          ps->p = q;
          unexpected (ps, _("a digit in the exponent"));
          return NULL;
        }
      while (q < ps->end && g_ascii_isdigit (*q))
        q++;
    }

  JsonValue *v = value_new (ps, JSON_NUMBER);
  if (v == NULL)
    return NULL;
  g_autofree char *copy = g_strndup ((const char *) s, q - s);
  v->number.value = g_ascii_strtod (copy, NULL);
  if (integral && !overflow && magnitude <= (uint64_t) INT64_MAX + negative)
    {
      v->number.is_integer = true;
      v->number.integer = negative ? (int64_t) (0 - magnitude) : (int64_t) magnitude;
    }
  ps->p = q;
  return v;
}

static int
hex4 (const guint8 *p)
{
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* After the opening quote; leaves ps->p after the closing one. */
static char *
parse_string_raw (Parser *ps, size_t *len)
{
  GString *s = g_string_new (NULL);
  for (;;)
    {
      if (ps->p >= ps->end)
        {
          fail (ps, JSON_ERROR_SYNTAX, _("the text ends inside a string"));
          goto error;
        }
      guint8 c = *ps->p;
      if (c == '"')
        {
          ps->p++;
          break;
        }
      if (c < 0x20)
        {
          fail (ps, JSON_ERROR_SYNTAX, _("control character 0x%02X in a string (write it as \\u%04X)"),
                c, c);
          goto error;
        }
      if (c >= 0x80)
        {
          gunichar u = g_utf8_get_char_validated ((const char *) ps->p, ps->end - ps->p);
          if (u == (gunichar) -1 || u == (gunichar) -2)
            {
              fail (ps, JSON_ERROR_SYNTAX, _("invalid UTF-8 in a string"));
              goto error;
            }
          int n = g_utf8_skip[c];
          g_string_append_len (s, (const char *) ps->p, n);
          ps->p += n;
          continue;
        }
      if (c != '\\')
        {
          g_string_append_c (s, c);
          ps->p++;
          continue;
        }
      if (ps->end - ps->p < 2)
        {
          ps->p++;
          fail (ps, JSON_ERROR_SYNTAX, _("the text ends inside an escape"));
          goto error;
        }
      char simple;
      switch (ps->p[1])
        {
        case '"': simple = '"'; break;
        case '\\': simple = '\\'; break;
        case '/': simple = '/'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'n': simple = '\n'; break;
        case 'r': simple = '\r'; break;
        case 't': simple = '\t'; break;
        case 'u': simple = 0; break;
        default:
          ps->p++;
          fail (ps, JSON_ERROR_SYNTAX, _("unknown escape \\%c"),
                g_ascii_isprint (*ps->p) ? *ps->p : '?');
          goto error;
        }
      if (simple)
        {
          g_string_append_c (s, simple);
          ps->p += 2;
          continue;
        }
      /* \uXXXX: one UTF-16 code unit. */
      int u = ps->end - ps->p >= 6 ? hex4 (ps->p + 2) : -1;
      if (u < 0)
        {
          fail (ps, JSON_ERROR_SYNTAX, _("\\u must be followed by four hex digits"));
          goto error;
        }
      if (u >= 0xDC00 && u <= 0xDFFF)
        {
          fail (ps, JSON_ERROR_SYNTAX, _("lone low surrogate \\u%04X"), u);
          goto error;
        }
      if (u >= 0xD800 && u <= 0xDBFF)
        {
          /* A high surrogate must be followed by \uDC00..\uDFFF: together one
           * code point, 0x10000 + (hi - 0xD800) * 0x400 + (lo - 0xDC00). */
          int lo = ps->end - ps->p >= 12 && ps->p[6] == '\\' && ps->p[7] == 'u' ? hex4 (ps->p + 8)
                                                                                : -1;
          if (lo < 0xDC00 || lo > 0xDFFF)
            {
              fail (ps, JSON_ERROR_SYNTAX, _("high surrogate \\u%04X without its low surrogate"), u);
              goto error;
            }
          u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
          ps->p += 6;
        }
      g_string_append_unichar (s, u);
      ps->p += 6;
    }
  *len = s->len;
  return g_string_free (s, FALSE);

error:
  g_string_free (s, TRUE);
  return NULL;
}

static JsonValue *
parse_string (Parser *ps)
{
  JsonValue *v = value_new (ps, JSON_STRING);
  if (v == NULL)
    return NULL;
  ps->p++;
  v->string.str = parse_string_raw (ps, &v->string.len);
  if (v->string.str == NULL)
    g_clear_pointer (&v, json_value_free);
  return v;
}

/* Skips whitespace, then takes c if it comes next. */
static bool
accept (Parser *ps, char c)
{
  skip_space (ps);
  if (ps->p < ps->end && *ps->p == c)
    {
      ps->p++;
      return true;
    }
  return false;
}

static int
member_compare (const void *a, const void *b)
{
  const JsonMember *x = *(const JsonMember *const *) a, *y = *(const JsonMember *const *) b;
  if (x->key_len != y->key_len)
    return x->key_len < y->key_len ? -1 : 1;
  return memcmp (x->key, y->key, x->key_len);
}

/* The first key that appears twice, or NULL: sorted, O(n log n). */
static const JsonMember *
find_duplicate (const JsonValue *v)
{
  if (v->object.n < 2)
    return NULL;
  g_autofree const JsonMember **sorted = g_new (const JsonMember *, v->object.n);
  for (size_t i = 0; i < v->object.n; i++)
    sorted[i] = &v->object.members[i];
  qsort (sorted, v->object.n, sizeof *sorted, member_compare);
  for (size_t i = 1; i < v->object.n; i++)
    if (member_compare (&sorted[i - 1], &sorted[i]) == 0)
      return sorted[i];
  return NULL;
}

/* array  = "[" [ value *( "," value ) ] "]"
 * object = "{" [ string ":" value *( "," string ":" value ) ] "}" */
static JsonValue *
parse_container (Parser *ps)
{
  const guint8 *open = ps->p;
  bool object = *ps->p == '{';
  char close = object ? '}' : ']';
  JsonValue *v = value_new (ps, object ? JSON_OBJECT : JSON_ARRAY);
  if (v == NULL)
    return NULL;
  ps->p++;
  if (accept (ps, close))
    return v;
  for (size_t n = 0, cap = 0;; n++)
    {
      if (n == cap)
        {
          cap = cap ? 2 * cap : 4;
          if (object)
            v->object.members = g_renew (JsonMember, v->object.members, cap);
          else
            v->array.items = g_renew (JsonValue *, v->array.items, cap);
        }
      JsonValue **slot;
      if (!object)
        slot = &v->array.items[n];
      else
        {
          if (!accept (ps, '"'))
            {
              unexpected (ps, _("a key (a string in double quotes)"));
              goto error;
            }
          JsonMember *m = &v->object.members[v->object.n++];
          *m = (JsonMember){ NULL };
          m->key = parse_string_raw (ps, &m->key_len);
          if (m->key == NULL)
            goto error;
          if (!accept (ps, ':'))
            {
              unexpected (ps, _("‘:’ after a key"));
              goto error;
            }
          slot = &m->value;
        }
      if ((*slot = parse_value (ps)) == NULL)
        goto error;
      if (!object)
        v->array.n++;
      if (accept (ps, ','))
        continue;
      if (accept (ps, close))
        break;
      unexpected (ps, object ? _("‘,’ or ‘}’ in an object") : _("‘,’ or ‘]’ in an array"));
      goto error;
    }
  const JsonMember *dup = object ? find_duplicate (v) : NULL;
  if (dup)
    {
      ps->p = open;
      fail (ps, JSON_ERROR_SYNTAX, _("the object here has the key “%s” twice"), dup->key);
      goto error;
    }
  return v;

error:
  json_value_free (v);
  return NULL;
}

static JsonValue *
parse_value (Parser *ps)
{
  skip_space (ps);
  if (ps->p >= ps->end)
    {
      unexpected (ps, _("a value"));
      return NULL;
    }
  switch (*ps->p)
    {
    case '{':
    case '[':
      {
        if (++ps->depth > ps->max_depth)
          {
            fail (ps, JSON_ERROR_LIMIT, _("arrays and objects nested more than %d deep"),
                  ps->max_depth);
            return NULL;
          }
        JsonValue *v = parse_container (ps);
        ps->depth--;
        return v;
      }
    case '"':
      return parse_string (ps);
    case 't':
      return parse_literal (ps, "true", JSON_TRUE);
    case 'f':
      return parse_literal (ps, "false", JSON_FALSE);
    case 'n':
      return parse_literal (ps, "null", JSON_NULL);
    default:
      if (*ps->p == '-' || g_ascii_isdigit (*ps->p))
        return parse_number (ps);
      unexpected (ps, _("a value"));
      return NULL;
    }
}

JsonValue *
json_parse (const char *text, gssize len, const JsonLimits *limits, GError **error)
{
  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len < 0)
    len = strlen (text);
  Parser ps = {
    .start = (const guint8 *) text,
    .p = (const guint8 *) text,
    .end = (const guint8 *) text + len,
    .max_depth = limits && limits->max_depth > 0 ? limits->max_depth : JSON_DEFAULT_MAX_DEPTH,
    .max_values = limits ? limits->max_values : 0,
    .error = error,
  };
  JsonValue *v = parse_value (&ps);
  if (v == NULL)
    return NULL;
  skip_space (&ps);
  if (ps.p != ps.end)
    {
      guint8 c = *ps.p;
      if (c > 0x20 && c < 0x7f)
        fail (&ps, JSON_ERROR_SYNTAX, _("‘%c’ after the end of the value (trailing garbage)"), c);
      else
        fail (&ps, JSON_ERROR_SYNTAX,
              _("byte 0x%02X after the end of the value (trailing garbage)"), c);
      json_value_free (v);
      return NULL;
    }
  return v;
}

void
json_value_free (JsonValue *v)
{
  if (v == NULL)
    return;
  switch (v->type)
    {
    case JSON_STRING:
      g_free (v->string.str);
      break;
    case JSON_ARRAY:
      for (size_t i = 0; i < v->array.n; i++)
        json_value_free (v->array.items[i]);
      g_free (v->array.items);
      break;
    case JSON_OBJECT:
      for (size_t i = 0; i < v->object.n; i++)
        {
          g_free (v->object.members[i].key);
          json_value_free (v->object.members[i].value);
        }
      g_free (v->object.members);
      break;
    default:
      break;
    }
  g_free (v);
}

const JsonValue *
json_value_member (const JsonValue *object, const char *key)
{
  g_return_val_if_fail (object != NULL && key != NULL, NULL);
  if (object->type != JSON_OBJECT)
    return NULL;
  size_t len = strlen (key);
  for (size_t i = 0; i < object->object.n; i++)
    if (object->object.members[i].key_len == len
        && memcmp (object->object.members[i].key, key, len) == 0)
      return object->object.members[i].value;
  return NULL;
}

const char *
json_type_describe (JsonType type)
{
  static const char *const names[] = {
    /* not translated: JSON's own words */
    [JSON_NULL] = "null",          [JSON_FALSE] = "false",         [JSON_TRUE] = "true",
    /* Translators: what a JSON value is, as in “… but it is a string”. */
    [JSON_NUMBER] = N_("a number"), [JSON_STRING] = N_("a string"), [JSON_ARRAY] = N_("an array"),
    [JSON_OBJECT] = N_("an object"),
  };
  g_return_val_if_fail ((unsigned) type < G_N_ELEMENTS (names), "?");
  return type <= JSON_TRUE ? names[type] : _(names[type]);
}

/* fuzz-json.c — libFuzzer target for the JSON parser (engine/json.c).
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks what the parser
 * promises: exactly one of value and error; strings NUL-terminated at their
 * length and valid UTF-8; keys unique; nesting within the limit; the same
 * verdict for a NUL-terminated copy; and that a value written back out as JSON
 * parses to the same tree. */
#include "json.h"

#include <math.h>
#include <string.h>

#define MAX_DEPTH 32

static void
check (const JsonValue *v, int depth)
{
  g_assert (depth <= MAX_DEPTH + 1);
  switch (v->type)
    {
    case JSON_STRING:
      g_assert (v->string.str[v->string.len] == '\0');
      g_assert (g_utf8_validate_len (v->string.str, v->string.len, NULL)
                || memchr (v->string.str, 0, v->string.len));
      break;
    case JSON_NUMBER:
      if (v->number.is_integer)
        g_assert (fabs ((double) v->number.integer - v->number.value)
                  <= fabs (v->number.value) * 1e-15);
      break;
    case JSON_ARRAY:
      for (size_t i = 0; i < v->array.n; i++)
        check (v->array.items[i], depth + 1);
      break;
    case JSON_OBJECT:
      for (size_t i = 0; i < v->object.n; i++)
        {
          const JsonMember *m = &v->object.members[i];
          g_assert (m->key[m->key_len] == '\0');
          for (size_t j = 0; j < i && v->object.n < 64; j++)
            g_assert (m->key_len != v->object.members[j].key_len
                      || memcmp (m->key, v->object.members[j].key, m->key_len) != 0);
          check (m->value, depth + 1);
        }
      break;
    default:
      break;
    }
}

static void
dump_string (GString *out, const char *s, size_t len)
{
  g_string_append_c (out, '"');
  for (size_t i = 0; i < len; i++)
    {
      guint8 c = s[i];
      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

static void
dump (GString *out, const JsonValue *v)
{
  switch (v->type)
    {
    case JSON_NULL: g_string_append (out, "null"); break;
    case JSON_FALSE: g_string_append (out, "false"); break;
    case JSON_TRUE: g_string_append (out, "true"); break;
    case JSON_NUMBER:
      if (v->number.is_integer)
        g_string_append_printf (out, "%" G_GINT64_FORMAT, v->number.integer);
      else if (isinf (v->number.value))
        g_string_append (out, v->number.value > 0 ? "1e999" : "-1e999");
      else
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          /* Always with an exponent, so it stays a non-integer. */
          g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.17e", v->number.value));
        }
      break;
    case JSON_STRING: dump_string (out, v->string.str, v->string.len); break;
    case JSON_ARRAY:
      g_string_append_c (out, '[');
      for (size_t i = 0; i < v->array.n; i++)
        {
          if (i)
            g_string_append_c (out, ',');
          dump (out, v->array.items[i]);
        }
      g_string_append_c (out, ']');
      break;
    case JSON_OBJECT:
      g_string_append_c (out, '{');
      for (size_t i = 0; i < v->object.n; i++)
        {
          if (i)
            g_string_append_c (out, ',');
          dump_string (out, v->object.members[i].key, v->object.members[i].key_len);
          g_string_append_c (out, ':');
          dump (out, v->object.members[i].value);
        }
      g_string_append_c (out, '}');
      break;
    }
}

static gboolean
same (const JsonValue *a, const JsonValue *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case JSON_NUMBER:
      if (a->number.is_integer != b->number.is_integer)
        return FALSE;
      return a->number.is_integer ? a->number.integer == b->number.integer
                                  : a->number.value == b->number.value;
    case JSON_STRING:
      return a->string.len == b->string.len
             && memcmp (a->string.str, b->string.str, a->string.len) == 0;
    case JSON_ARRAY:
      if (a->array.n != b->array.n)
        return FALSE;
      for (size_t i = 0; i < a->array.n; i++)
        if (!same (a->array.items[i], b->array.items[i]))
          return FALSE;
      return TRUE;
    case JSON_OBJECT:
      if (a->object.n != b->object.n)
        return FALSE;
      for (size_t i = 0; i < a->object.n; i++)
        if (a->object.members[i].key_len != b->object.members[i].key_len
            || memcmp (a->object.members[i].key, b->object.members[i].key,
                       a->object.members[i].key_len) != 0
            || !same (a->object.members[i].value, b->object.members[i].value))
          return FALSE;
      return TRUE;
    default:
      return TRUE;
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const JsonLimits limits = { .max_depth = MAX_DEPTH, .max_values = 100000 };
  GError *error = NULL;
  JsonValue *v = json_parse ((const char *) data, size, &limits, &error);
  g_assert ((v == NULL) != (error == NULL));
  g_assert (error == NULL || error->domain == JSON_ERROR);

  /* A NUL-terminated copy (len -1) gets the same verdict when it has no NUL. */
  if (memchr (data, 0, size) == NULL)
    {
      char *copy = g_strndup ((const char *) data, size);
      JsonValue *w = json_parse (copy, -1, &limits, NULL);
      g_assert ((w == NULL) == (v == NULL));
      g_assert (w == NULL || same (v, w));
      json_value_free (w);
      g_free (copy);
    }

  if (v)
    {
      check (v, v->type == JSON_ARRAY || v->type == JSON_OBJECT);
      GString *out = g_string_new (NULL);
      dump (out, v);
      GError *again_error = NULL;
      JsonValue *again = json_parse (out->str, out->len, &limits, &again_error);
      if (again == NULL)
        g_error ("re-parsing %s: %s", out->str, again_error->message);
      g_assert (same (v, again));
      json_value_free (again);
      g_string_free (out, TRUE);
      json_value_free (v);
    }
  g_clear_error (&error);
  return 0;
}

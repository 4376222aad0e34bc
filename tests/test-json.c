/* test-json.c — the strict JSON parser behind .safetensors headers: values it
 * reads, documents it refuses with a reason, and its limits on depth and size. */
#include "json.h"

#include <math.h>
#include <string.h>

/* ---- JSON ------------------------------------------------------------------ */

static JsonValue *
parse_ok (const char *text, gssize len)
{
  g_autoptr (GError) error = NULL;
  JsonValue *v = json_parse (text, len, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  return v;
}

static void
test_json_valid (void)
{
  g_autoptr (JsonValue) v = parse_ok (" {\"a\" : [1, -2.5e1, 0, -0, 9223372036854775807, "
                                      "-9223372036854775808, 9223372036854775808, 1E400],"
                                      "\"b\":{\"t\":true,\"f\":false,\"n\":null}, \"c\": \"\"}\r\n",
                                      -1);
  g_assert_cmpint (v->type, ==, JSON_OBJECT);
  g_assert_cmpuint (v->object.n, ==, 3);
  g_assert_cmpstr (v->object.members[0].key, ==, "a");
  const JsonValue *a = json_value_member (v, "a");
  g_assert_cmpint (a->type, ==, JSON_ARRAY);
  g_assert_cmpuint (a->array.n, ==, 8);
  g_assert_true (a->array.items[0]->number.is_integer);
  g_assert_cmpint (a->array.items[0]->number.integer, ==, 1);
  g_assert_false (a->array.items[1]->number.is_integer);
  g_assert_cmpfloat (a->array.items[1]->number.value, ==, -25.0);
  g_assert_cmpint (a->array.items[3]->number.integer, ==, 0);
  g_assert_cmpint (a->array.items[4]->number.integer, ==, G_MAXINT64);
  g_assert_cmpint (a->array.items[5]->number.integer, ==, G_MININT64);
  g_assert_false (a->array.items[6]->number.is_integer);    /* past int64 */
  g_assert_cmpfloat (a->array.items[6]->number.value, ==, 9223372036854775808.0);
  g_assert_true (isinf (a->array.items[7]->number.value));
  const JsonValue *b = json_value_member (v, "b");
  g_assert_cmpint (json_value_member (b, "t")->type, ==, JSON_TRUE);
  g_assert_cmpint (json_value_member (b, "f")->type, ==, JSON_FALSE);
  g_assert_cmpint (json_value_member (b, "n")->type, ==, JSON_NULL);
  g_assert_null (json_value_member (b, "x"));
  g_assert_cmpuint (json_value_member (v, "c")->string.len, ==, 0);

  /* Escapes: the simple ones, \u in and out of the BMP (a surrogate pair),
   * \u0000 inside a string, raw UTF-8 passed through. */
  g_autoptr (JsonValue) s = parse_ok ("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00fc\\u20AC\", "
                                      "\"\\ud83d\\ude00\", \"a\\u0000b\", \"grüße 😀\"]", -1);
  g_assert_cmpstr (s->array.items[0]->string.str, ==, "\"\\/\b\f\n\r\t");
  g_assert_cmpstr (s->array.items[1]->string.str, ==, "ü€");
  g_assert_cmpstr (s->array.items[2]->string.str, ==, "😀");
  g_assert_cmpuint (s->array.items[3]->string.len, ==, 3);
  g_assert_cmpmem (s->array.items[3]->string.str, 4, "a\0b", 4);
  g_assert_cmpstr (s->array.items[4]->string.str, ==, "grüße 😀");

  /* Any value at the top; a length that stops before a NUL-free end. */
  g_autoptr (JsonValue) n = parse_ok ("42xyz", 2);
  g_assert_cmpint (n->number.integer, ==, 42);
  g_autoptr (JsonValue) str = parse_ok ("\"x\"", -1);
  g_assert_cmpint (str->type, ==, JSON_STRING);

  /* Exactly at the depth limit is fine. */
  const JsonLimits limits = { .max_depth = 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonValue) deep = json_parse ("[[{\"a\":[]}]]", -1, &limits, &error);
  g_assert_null (deep);
  g_assert_error (error, JSON_ERROR, JSON_ERROR_LIMIT);
  g_autoptr (JsonValue) ok = json_parse ("[[{\"a\":1}]]", -1, &limits, NULL);
  g_assert_nonnull (ok);
}

static void
test_json_invalid (void)
{
  static const struct
  {
    const char *text;
    gssize len;
    const char *reason;
  } cases[] = {
    { "", -1, "expected a value, found the end of the text" },
    { "   ", -1, "at byte 3: expected a value" },
    { "[1,]", -1, "expected a value, found ‘]’" },
    { "{\"a\":1,}", -1, "a key" },
    { "[1 2]", -1, "‘,’ or ‘]’" },
    { "{\"a\" 1}", -1, "‘:’ after a key" },
    { "{a:1}", -1, "a key (a string in double quotes)" },
    { "{'a':1}", -1, "a key" },
    { "[01]", -1, "leading zero" },
    { "[-]", -1, "a digit" },
    { "[1.]", -1, "after the decimal point" },
    { "[.5]", -1, "expected a value, found ‘.’" },
    { "[1e]", -1, "exponent" },
    { "[+1]", -1, "found ‘+’" },
    { "[NaN]", -1, "found ‘N’" },
    { "[Infinity]", -1, "found ‘I’" },
    { "[tru]", -1, "expected a value" },
    { "nul", -1, "expected a value" },
    { "\"abc", -1, "ends inside a string" },
    { "\"a\tb\"", -1, "control character 0x09" },
    { "\"\\x\"", -1, "unknown escape \\x" },
    { "\"\\u12\"", -1, "four hex digits" },
    { "\"\\ud83d\"", -1, "without its low surrogate" },
    { "\"\\ud83dx\\ude00\"", -1, "without its low surrogate" },
    { "\"\\ud83d\\u0041\"", -1, "without its low surrogate" },
    { "\"\\ude00\"", -1, "lone low surrogate" },
    { "\"\xc0\xaf\"", -1, "invalid UTF-8" },                   /* overlong '/' */
    { "\"\xed\xa0\x80\"", -1, "invalid UTF-8" },               /* a surrogate, encoded */
    { "\"\xf4\x90\x80\x80\"", -1, "invalid UTF-8" },           /* past U+10FFFF */
    { "\"\xe2\x82\"", -1, "invalid UTF-8" },                   /* cut short */
    { "\"\xff\"", -1, "invalid UTF-8" },
    { "\xef\xbb\xbf{}", -1, "byte 0xEF" },                     /* a BOM */
    { "{} x", -1, "‘x’ after the end of the value (trailing garbage)" },
    { "{}\0", 3, "byte 0x00 after the end" },
    { "[1] // comment", -1, "trailing garbage" },
    { "/* c */ 1", -1, "found ‘/’" },
    { "{\"a\":1,\"b\":2,\"a\":3}", -1, "the key “a” twice" },
    { "{\"x\":{\"k\":1,\"k\":1}}", -1, "at byte 5: the object here has the key “k” twice" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonValue) v = json_parse (cases[i].text, cases[i].len, NULL, &error);
      g_test_message ("case %u: %s", i, error ? error->message : "(parsed)");
      g_assert_null (v);
      g_assert_nonnull (error);
      g_assert_true (error->domain == JSON_ERROR);
      if (strstr (error->message, cases[i].reason) == NULL)
        g_error ("case %u (%s): “%s” does not say “%s”", i, cases[i].text, error->message,
                 cases[i].reason);
    }

  /* The default depth limit: 64 nested arrays parse, 65 do not. */
  for (int depth = 64; depth <= 65; depth++)
    {
      g_autofree char *open = g_strnfill (depth, '[');
      g_autofree char *close = g_strnfill (depth, ']');
      g_autofree char *text = g_strconcat (open, close, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonValue) v = json_parse (text, -1, NULL, &error);
      if (depth == 64)
        g_assert_no_error (error);
      else
        {
          g_assert_error (error, JSON_ERROR, JSON_ERROR_LIMIT);
          g_assert_cmpstr (error->message, ==, "at byte 64: arrays and objects nested more than 64 deep");
        }
    }

  /* The value limit. */
  const JsonLimits limits = { .max_values = 4 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonValue) v = json_parse ("[1,2,3,4]", -1, &limits, &error);
  g_assert_error (error, JSON_ERROR, JSON_ERROR_LIMIT);
  g_autoptr (JsonValue) ok = json_parse ("[1,2,3]", -1, &limits, NULL);
  g_assert_nonnull (ok);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/json/valid", test_json_valid);
  g_test_add_func ("/engine/json/invalid", test_json_invalid);
  return g_test_run ();
}

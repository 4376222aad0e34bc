/* json.h — a small, strict JSON parser (RFC 8259) for file headers.
 *
 * The engine reads one kind of JSON: the header of a .safetensors file, which may
 * come from anywhere. So the parser is strict and bounded rather than forgiving:
 * UTF-8 only (no BOM), no comments, no trailing commas, no NaN, a depth limit and
 * a limit on the number of values, lone surrogates rejected, duplicate keys in an
 * object rejected (a header naming a tensor twice is ambiguous), and nothing but
 * whitespace after the value. Errors give the byte offset and what was expected.
 *
 *   g_autoptr (JsonValue) v = json_parse ("{\"a\": [1, 2.5]}", -1, NULL, &error);
 *   const JsonValue *a = json_value_member (v, "a");      // JSON_ARRAY, 2 items
 *   a->array.items[0]->number.integer;                     // 1 (is_integer true)
 *
 * The tree owns all its memory; json_value_free releases it.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

#define JSON_ERROR (json_error_quark ())
GQuark json_error_quark (void);

typedef enum
{
  JSON_ERROR_SYNTAX,            /* not JSON: the message says where and why */
  JSON_ERROR_LIMIT,             /* nested too deep, or too many values */
} JsonError;

typedef enum
{
  JSON_NULL,
  JSON_FALSE,
  JSON_TRUE,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT,
} JsonType;

typedef struct _JsonValue JsonValue;
typedef struct _JsonMember JsonMember;

struct _JsonValue
{
  JsonType type;
  union
  {
    struct
    {
      double value;             /* always set (may be ±inf when out of range) */
      int64_t integer;          /* exact, when is_integer */
      bool is_integer;          /* no fraction, no exponent, fits int64 */
    } number;
    struct
    {
      char *str;                /* UTF-8, NUL-terminated; may hold \u0000 inside */
      size_t len;               /* bytes, without the terminator */
    } string;
    struct
    {
      JsonValue **items;        /* (n) */
      size_t n;
    } array;
    struct
    {
      JsonMember *members;      /* (n), in document order, keys unique */
      size_t n;
    } object;
  };
};

struct _JsonMember
{
  char *key;                    /* UTF-8, NUL-terminated */
  size_t key_len;
  JsonValue *value;
};

typedef struct
{
  int max_depth;                /* arrays and objects nested; 0: the default, 64 */
  size_t max_values;            /* values in the document; 0: no limit */
} JsonLimits;

/* Parses len bytes of text (len < 0: NUL-terminated). limits may be NULL. */
JsonValue       *json_parse          (const char *text, gssize len, const JsonLimits *limits,
                                      GError **error);
void             json_value_free     (JsonValue *value);

/* The member of an object called key (NUL-terminated), or NULL. */
const JsonValue *json_value_member   (const JsonValue *object, const char *key);
/* "null", "false", "true", "a number", "a string", "an array", "an object". */
const char      *json_type_describe  (JsonType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JsonValue, json_value_free)

G_END_DECLS

/* pth-private.h — the pieces of the .pth reader (pth.c), shared by its files:
 *
 *   pth-zip.c      a strict reader of torch.save's zip archives (stored entries, CRC-32)
 *   pth-pickle.c   a strict pickle machine for state_dicts: builds values, calls nothing
 *   pth.c          tensors from pickled views, the two file formats, discovery
 *
 * Not installed, not for other engine files: use pth.h.
 */
#pragma once

#include "pth.h"
#include "state-dict-private.h"

G_BEGIN_DECLS

/* Little-endian fields, at any alignment. */
static inline guint32
rd16 (const guint8 *p)
{
  return p[0] | (guint32) p[1] << 8;
}

static inline guint32
rd32 (const guint8 *p)
{
  return p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static inline guint64
rd64 (const guint8 *p)
{
  return rd32 (p) | (guint64) rd32 (p + 4) << 32;
}

/* ---------------------------------------------------------------------------
 * Zip (pth-zip.c). */

typedef struct
{
  const guint8 *data;   /* (size) bytes inside the file */
  guint64 size;
  guint32 crc;
  gboolean crc_ok;      /* checked once, on first use */
} ZipEntry;

typedef struct
{
  GHashTable *entries;  /* name → ZipEntry * */
  GPtrArray *names;     /* in central directory order */
} Zip;

/* Reads the central directory of data (size bytes) and checks every entry's
 * place in the file; entries must be stored, not compressed. */
gboolean        pth_zip_open   (Zip *zip, const guint8 *data, gsize size, const char *file,
                                GError **error);
/* An entry by name, its CRC checked on first use; NULL with no error when absent. */
const ZipEntry *pth_zip_get    (Zip *zip, const char *name, const char *file, GError **error);
/* TRUE but in the fuzzer (tests/fuzz/fuzz-pth.c), whose mutants would otherwise
 * rarely get past the CRC to the pickle machine. */
extern gboolean pth_zip_verify_crc;
void            pth_zip_clear  (Zip *zip);

/* ---------------------------------------------------------------------------
 * Pickle (pth-pickle.c). */

/* torch.FloatStorage, …: element size, and the StateDtype GradLens makes of it. */
typedef struct
{
  const char *name;     /* torch.<name> */
  const char *dtype;    /* torch.<dtype> */
  int elsize;
  int state_dtype;      /* StateDtype, or -1: refused */
} StorageType;

typedef enum
{
  PV_NONE,
  PV_BOOL,
  PV_INT,
  PV_STR,
  PV_TUPLE,
  PV_LIST,
  PV_DICT,              /* items: key, value, key, value… (OrderedDict too) */
  PV_GLOBAL,
  PV_STORAGE,
  PV_TENSOR,
} PvKind;

typedef enum
{
  GLOBAL_ORDERED_DICT,
  GLOBAL_REBUILD_TENSOR_V2,
  GLOBAL_REBUILD_PARAMETER,
  GLOBAL_STORAGE_TYPE,
} GlobalKind;

typedef struct _Pv Pv;
struct _Pv
{
  PvKind kind;
  gint64 i;                     /* BOOL, INT; GLOBAL: its GlobalKind */
  char *s;                      /* STR; STORAGE: its key */
  GPtrArray *items;             /* TUPLE, LIST, DICT (borrowed Pv *) */
  const StorageType *type;      /* GLOBAL_STORAGE_TYPE, STORAGE */
  gint64 numel;                 /* STORAGE: elements */
  const guint8 *bytes;          /* STORAGE: (numel * elsize), once located */
  Pv *storage;                  /* TENSOR: _rebuild_tensor_v2's arguments */
  gint64 offset;
  Pv *size, *stride;            /* TENSOR: tuples of INT */
};

typedef struct
{
  const char *file;             /* for errors */
  const char *what;             /* "data.pkl", … */
  const guint8 *start, *p, *end;
  GPtrArray *arena;             /* owns every Pv */
  GPtrArray *stack;             /* Pv * */
  GArray *marks;                /* guint: stack lengths at each MARK */
  GHashTable *memo;             /* index → Pv * */
  GHashTable *storages;         /* key → STORAGE Pv *: one per key */
  gboolean legacy;              /* persistent ids have a 6th field (view metadata) */
  GError **error;
} Unpickler;

void        pth_unpickler_init  (Unpickler *u, const char *file, gboolean legacy, GError **error);
void        pth_unpickler_clear (Unpickler *u);
/* Runs one pickle of data to its STOP: the value (owned by u), u->p after the STOP;
 * NULL with u's error set on anything outside the state_dict subset. */
Pv         *pth_unpickle        (Unpickler *u, const guint8 *data, gsize size, const char *what);
const char *pth_pv_describe     (const Pv *v);   /* "a list", "a tensor", … */

G_END_DECLS

/* state-dict.h — named tensors, as a PyTorch state_dict, and their files.
 *
 * A StateDict keeps insertion order. Float tensors are Tensors (F32); int64 ones
 * (num_batches_tracked) keep their int64 values.
 *
 *   g_autoptr (StateDict) sd = safetensors_load ("resnet18.safetensors", &error);
 *   const StateEntry *e = state_dict_lookup (sd, "conv1.weight");
 *   safetensors_save (sd, "out.safetensors", &error);   // atomic: temp file + rename
 */
#pragma once

#include "tensor.h"

G_BEGIN_DECLS

#define STATE_DICT_ERROR (state_dict_error_quark ())
GQuark state_dict_error_quark (void);

typedef enum
{
  STATE_DICT_ERROR_IO,          /* cannot read or write the file */
  STATE_DICT_ERROR_FORMAT,      /* not a valid file of its format */
  STATE_DICT_ERROR_DTYPE,       /* a dtype GradLens does not take */
  STATE_DICT_ERROR_MISSING,     /* a tensor the model needs is absent */
  STATE_DICT_ERROR_SHAPE,       /* a tensor has the wrong shape */
  STATE_DICT_ERROR_TOO_LARGE,   /* more than the machine can hold */
} StateDictError;

typedef enum
{
  STATE_DTYPE_F32,
  STATE_DTYPE_I64,
} StateDtype;

typedef struct
{
  char *name;
  StateDtype dtype;
  int ndim;
  int64_t shape[TENSOR_MAX_DIMS];
  Tensor *f32;                  /* F32: the values */
  int64_t *i64;                 /* I64: numel values */
} StateEntry;

typedef struct _StateDict StateDict;

StateDict        *state_dict_new        (void);
void              state_dict_free       (StateDict *sd);
/* Adds a reference to t (not a copy). Replaces an entry of the same name. */
void              state_dict_add_f32    (StateDict *sd, const char *name, Tensor *t);
void              state_dict_add_i64    (StateDict *sd, const char *name, int ndim,
                                         const int64_t *shape, const int64_t *values);
const StateEntry *state_dict_lookup     (const StateDict *sd, const char *name);
guint             state_dict_size       (const StateDict *sd);
const StateEntry *state_dict_entry      (const StateDict *sd, guint i);
int64_t           state_entry_numel     (const StateEntry *e);

/* safetensors (F32 and I64 only; other dtypes are rejected with a clear error).
 * Every check happens before anything is allocated for the tensors; errors name
 * the file, the tensor and the reason. */
StateDict        *safetensors_load      (const char *path, GError **error);
StateDict        *safetensors_load_bytes(const guint8 *data, gsize size, const char *name,
                                         GError **error);
/* Written to a temporary file in the same folder, flushed, then renamed over path:
 * a failure leaves any old file untouched. */
gboolean          safetensors_save      (const StateDict *sd, const char *path, GError **error);
/* The bytes safetensors_save writes: the header JSON as the safetensors library
 * writes it (I64 tensors before F32 ones, each group by name; padded with spaces
 * to a multiple of 8 bytes), then the data, little-endian. */
GBytes           *safetensors_save_bytes(const StateDict *sd);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StateDict, state_dict_free)

G_END_DECLS

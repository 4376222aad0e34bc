/* safetensors-private.h — what the .safetensors reader and writer share: the
 * format's dtype table. Not installed, not for other engine files: use state-dict.h.
 *
 *   safetensors-read.c    checks a whole file, then builds its StateDict
 *   safetensors-write.c   lays a StateDict out as the safetensors library does
 *
 * The format (huggingface/safetensors):
 *
 *   bytes 0..8        N, the header length: uint64, little-endian
 *   bytes 8..8+N      the header: a JSON object, UTF-8, padded with spaces
 *                       { "__metadata__": { "k": "v", ... },          (optional)
 *                         "conv1.weight": { "dtype": "F32", "shape": [64, 3, 7, 7],
 *                                           "data_offsets": [begin, end] }, ... }
 *   bytes 8+N..       the data area: each tensor's elements, row-major,
 *                     little-endian, at [begin, end) relative to the data area
 */
#pragma once

#include "state-dict.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;             /* the header's "dtype": "F32", "I64", … */
  int size;                     /* bytes per element */
  const char *torch;            /* torch's name, for errors: "torch.float32" */
} SafetensorsDtype;

/* Every dtype of the format, in the library's order (increasing alignment, which
 * the writer's sort uses); defined in safetensors-read.c. */
extern const SafetensorsDtype safetensors_dtypes[];
#define SAFETENSORS_DTYPE_F32 11
#define SAFETENSORS_DTYPE_I64 13

G_END_DECLS

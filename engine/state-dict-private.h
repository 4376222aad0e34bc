/* state-dict-private.h — what the state dict file readers share (safetensors-read.c,
 * pth.c, pth-zip.c, pth-pickle.c). Not installed, not for other engine files: use
 * state-dict.h.
 */
#pragma once

#include "state-dict.h"

G_BEGIN_DECLS

/* Sets "Cannot load “FILE”: tensor “NAME”: REASON", or "Cannot load “FILE”: REASON"
 * when tensor is NULL, in the STATE_DICT_ERROR domain. Does nothing if *error is
 * set already: the first reason found is the one the user reads. */
void state_dict_load_error (GError **error, StateDictError code, const char *file,
                            const char *tensor, const char *format, ...) G_GNUC_PRINTF (5, 6);

/* path mapped read-only (mapped, not read: the OS pages the data in once, straight
 * into the tensors), its bytes in *data (never NULL: an empty file maps to no
 * memory at all) and *size; unref it once done with them. NULL with a
 * STATE_DICT_ERROR_IO naming `file` (the name for messages) when path cannot be
 * opened, or is a folder, a device or a pipe (never waited on). */
GMappedFile *state_dict_map_file (const char *path, const char *file, const guint8 **data,
                                  gsize *size, GError **error);

/* The usual case: a malformed file, reported into the caller's `error`. */
#define FORMAT_ERROR(...) state_dict_load_error (error, STATE_DICT_ERROR_FORMAT, __VA_ARGS__)

G_END_DECLS

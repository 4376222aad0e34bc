/* output-file.h — writing the user's files as a careful Unix tool does.
 *
 * Every file GradLens writes (weights, gradients, graphs, pictures, traces) goes
 * through here:
 *
 *   g_autoptr (GError) error = NULL;
 *   OutputFile *out = output_file_open ("graph.dot", "write", &error);
 *   if (out == NULL) ...                                   // error names the file
 *   output_file_write (out, text, strlen (text));          // or output_file_stream
 *   if (!output_file_commit (out, &error)) ...             // or output_file_abort (out)
 *
 *   output_file_set_contents ("graph.json", data, length, "write", &error);
 *
 * What is guaranteed:
 *   - A regular file, or a name that does not exist yet, is written to a
 *     temporary file in the same folder, flushed to disk (fsync) and renamed
 *     over the name: a reader sees the old file or the new one, never a part, and
 *     a failure (a full disk, an error, a kill) leaves the old file as it was.
 *   - A symbolic link is followed to the end of its chain (even a dangling one):
 *     the file it points to is replaced; the link stays a link.
 *   - The new file keeps the replaced file's permission bits (and its owner and
 *     group where the process may set them); a new file gets 0666 less the umask.
 *   - A character device or a FIFO (/dev/null, /dev/stdout on a pipe, a named
 *     pipe) is written directly and never replaced or removed; a folder, a
 *     socket or a block device is refused by name. Nothing that is not a regular
 *     file is ever unlinked.
 *   - The temporary file is ".NAME.gradlens-PID-XXXXXX" beside the target; one
 *     left by a GradLens that was killed (its process PID no longer exists) is
 *     removed by the next save to that folder.
 *   - Errors are G_FILE_ERROR GErrors of the form “Cannot VERB “FILE”: REASON.
 *     The existing file was left untouched.” (or “No file was written.”), FILE
 *     being the name as the user gave it.
 */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _OutputFile OutputFile;

/* verb names the action in errors: "save", "write", "export", or one of the
 * others listed in output-file.c, where each has its whole translated sentence
 * (another verb gives an English one). */
OutputFile *output_file_open         (const char *path, const char *verb, GError **error);
/* Appends; FALSE once any write failed (the error is reported by commit). */
gboolean    output_file_write        (OutputFile *out, const void *data, gsize length);
/* A stdio stream on the file, for fprintf and friends; commit flushes it. */
FILE       *output_file_stream       (OutputFile *out);
/* Finishes and frees out: the new file replaces the old one, or nothing changes
 * and error says why (a failed write before, flushing, closing, renaming). */
gboolean    output_file_commit       (OutputFile *out, GError **error);
/* Frees out, leaving the old file (the temporary one is removed). */
void        output_file_abort        (OutputFile *out);

/* Before a long computation: would output_file_open succeed? It creates (and
 * removes) the temporary file, so a missing or read-only folder, an empty name or
 * a folder in the way is found now rather than after the work. */
gboolean    output_file_check        (const char *path, const char *verb, GError **error);
/* Do the two names lead to one file (existing: the same inode; else the same
 * canonical path)? */
gboolean    output_file_same         (const char *a, const char *b);

gboolean    output_file_set_contents (const char *path, const void *data, gsize length,
                                      const char *verb, GError **error);

G_END_DECLS

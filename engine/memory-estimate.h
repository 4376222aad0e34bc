/* memory-estimate.h — how much memory a training step of resnet18 needs, known
 * before anything is allocated, and a refusal with numbers when the machine
 * cannot hold it (instead of the kernel's OOM killer, or an abort in malloc).
 *
 *   if (!resnet_check_memory (64, 1024, 1024, 64, 1000, &error))
 *     g_printerr ("%s\n", error->message);
 *     // "resnet18 (width 64, 1000 classes): batch 64 at 1024×1024 needs about 41.2 GB
 *     //  for a training step; this machine has 20.1 GB available"
 *
 * The estimate walks resnet18's layers with the input's shape, as the engine runs
 * them: what the graph keeps for backward at the end of the forward pass (each
 * conv's output, saved by its BatchNorm; each ReLU's result; max-pool indices), the
 * parameters four times (weights, .grad, SGD's momentum buffer and last update),
 * and the most that is alive at once on top of that during backward (the gradient
 * flowing, the one a node produces, the residual branch's waiting in its add, and
 * the im2col buffers of the conv running). Measured peak resident sizes of
 * `gradlens-cli train` stay within 30% below it (tests/test-anomaly.c checks one).
 *
 * Who checks: gradlens-cli train (before building the model, and again for a --data
 * file), the resnet lessons (so the app and gradlens-cli lesson), before any tensor.
 *
 * Allocation failures past this check: tensor storage (tensor.c) and gemm's scratch
 * still end the process with g_error, naming the bytes. Turning them into GErrors
 * would make every op and every caller of an op fallible for a case the check
 * already keeps away (and Linux overcommits: malloc rarely fails, the OOM killer
 * strikes later, which no GError can catch). So the decision is to refuse up front,
 * with numbers, and to keep the abort as the last resort.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

#define MEMORY_ERROR (memory_error_quark ())
GQuark memory_error_quark (void);

typedef enum
{
  MEMORY_ERROR_TOO_LARGE,       /* more than the machine has available */
  MEMORY_ERROR_INVALID,         /* a size that makes no sense (0, negative, too small) */
} MemoryError;

/* Bytes. total is the sum of the others. */
typedef struct
{
  double parameters;            /* the weights and BatchNorm's running statistics */
  double gradients;             /* one .grad per parameter */
  double optimizer;             /* SGD with momentum: momentum buffer and last update */
  double activations;           /* input, labels and what the graph saves for backward */
  double transient;             /* the most alive at once besides (backward's peak) */
  double cache;                 /* freed blocks tensor.c keeps for the next step */
  double overhead;              /* the process: code, libraries, thread stacks, caches */
  double total;
} MemoryEstimate;

/* A training step of resnet18 of `width` (64 for torchvision's) with num_classes
 * outputs, on a batch of (batch, 3, height, image_width). FALSE with
 * MEMORY_ERROR_INVALID (the estimate untouched) for sizes that are not positive or an
 * input the network cannot train on (a BatchNorm left with one value per channel,
 * a kernel larger than its input): the message says where. */
gboolean resnet_estimate_memory  (int64_t batch, int64_t height, int64_t image_width,
                                  int width, int num_classes, MemoryEstimate *estimate,
                                  GError **error);

/* Bytes this process may still take: /proc/meminfo's MemAvailable (else free
 * physical pages), less if a cgroup memory limit or RLIMIT_AS is lower; 0 if
 * nothing can be read. */
double   memory_available        (void);

/* "41.2 GB" (powers of 1000, as GNOME shows sizes; "512 MB" below 1 GB). */
char    *memory_format_size      (double bytes);

/* FALSE with MEMORY_ERROR_TOO_LARGE when the estimate exceeds available (bytes; 0:
 * unknown, no refusal), stating both numbers, or MEMORY_ERROR_INVALID as above. */
gboolean resnet_check_memory_with (int64_t batch, int64_t height, int64_t image_width,
                                   int width, int num_classes, double available,
                                   GError **error);
/* The same against memory_available () (no refusal when that is unknown). */
gboolean resnet_check_memory      (int64_t batch, int64_t height, int64_t image_width,
                                   int width, int num_classes, GError **error);

G_END_DECLS

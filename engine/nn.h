/* nn.h — the layers of resnet18, forward and backward, with PyTorch's grad_fns.
 *
 *   op                                  grad_fn                         next_functions
 *   tensor_conv2d (x, w, b, s, p)       ConvolutionBackward0            (x, w, b or None)
 *   tensor_batch_norm (x, w, b, ...)    NativeBatchNormBackward0        (x, w, b)
 *   tensor_max_pool2d (x, k, s, p)      MaxPool2DWithIndicesBackward0   (x)
 *   tensor_adaptive_avg_pool2d_1x1 (x)  MeanBackward1                   (x)
 *
 * Losses (nn-loss.c), reduction none / mean / sum:
 *   tensor_mse_loss (x, y, r)           MseLossBackward0                (x, y) broadcast
 *   tensor_nll_loss (logp, t, n, r)     NllLossBackward0                (logp)
 *   tensor_cross_entropy (x, t, n, r)   NllLossBackward0                (LogSoftmaxBackward0 → x)
 * Targets are class indices (int64, n of them, one per row); -100 is ignore_index.
 *
 * Tensors are NCHW. Every op returns a new reference, or NULL with error set.
 */
#pragma once

#include "ops.h"

G_BEGIN_DECLS

/* x (N, C, H, W), weight (O, C, kh, kw), bias (O) or NULL; square stride and padding. */
Tensor *tensor_conv2d (Tensor *x, Tensor *weight, Tensor *bias, int stride, int padding,
                       GError **error);

/* Training: normalise by the batch's mean and biased variance, and update
 * running_mean/running_var in place with momentum (unbiased variance) and
 * *num_batches_tracked += 1 — even when weight and bias are frozen.
 * Eval: normalise by the running statistics. weight, bias (C). */
Tensor *tensor_batch_norm (Tensor *x, Tensor *weight, Tensor *bias,
                           Tensor *running_mean, Tensor *running_var,
                           int64_t *num_batches_tracked, bool training,
                           float momentum, float eps, GError **error);

Tensor *tensor_max_pool2d (Tensor *x, int kernel, int stride, int padding, GError **error);

/* nn.AdaptiveAvgPool2d ((1, 1)): a mean over H and W, keeping them: (N, C, 1, 1). */
Tensor *tensor_adaptive_avg_pool2d_1x1 (Tensor *x, GError **error);

typedef enum
{
  LOSS_REDUCTION_NONE,
  LOSS_REDUCTION_MEAN,
  LOSS_REDUCTION_SUM,
} LossReduction;

Tensor *tensor_mse_loss      (Tensor *input, Tensor *target, LossReduction reduction,
                              GError **error);
/* input (N, C) or (C); target: N indices (1 for a 1-D input). */
Tensor *tensor_nll_loss      (Tensor *input, const int64_t *target, int64_t n_target,
                              LossReduction reduction, GError **error);
Tensor *tensor_cross_entropy (Tensor *input, const int64_t *target, int64_t n_target,
                              LossReduction reduction, GError **error);

/* Kernels, no autograd. Outputs first, dimensions last. */
void conv2d_forward       (float *out, const float *x, const float *w, const float *bias,
                           int n, int c, int h, int wd, int o, int kh, int kw,
                           int stride, int padding, int oh, int ow);
void conv2d_forward_naive (float *out, const float *x, const float *w, const float *bias,
                           int n, int c, int h, int wd, int o, int kh, int kw,
                           int stride, int padding, int oh, int ow);

G_END_DECLS

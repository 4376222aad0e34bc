/* op-table.c — one op, one row: PyTorch's grad_fn name, a symbol, the backward. */
#include "backward.h"

const OpInfo op_info[] = {
  [OP_ACCUMULATE_GRAD] = { "AccumulateGrad",                "acc",     NULL },
  [OP_ADD]             = { "AddBackward0",                  "+",       add_backward },
  [OP_SUB]             = { "SubBackward0",                  "−",       sub_backward },
  [OP_RSUB]            = { "RsubBackward1",                 "s−x",     rsub_backward },
  [OP_MUL]             = { "MulBackward0",                  "×",       mul_backward },
  [OP_DIV]             = { "DivBackward0",                  "÷",       div_backward },
  [OP_NEG]             = { "NegBackward0",                  "−x",      neg_backward },
  [OP_POW]             = { "PowBackward0",                  "xⁿ",      pow_backward },
  [OP_EXP]             = { "ExpBackward0",                  "exp",     exp_backward },
  [OP_LOG]             = { "LogBackward0",                  "log",     log_backward },
  [OP_RELU]            = { "ReluBackward0",                 "relu",    relu_backward },
  [OP_SUM]             = { "SumBackward0",                  "Σ",       sum_backward },
  [OP_SUM_DIM]         = { "SumBackward1",                  "Σdim",    sum_backward },
  [OP_MEAN]            = { "MeanBackward0",                 "mean",    mean_backward },
  [OP_MEAN_DIM]        = { "MeanBackward1",                 "meandim", mean_backward },
  [OP_VIEW]            = { "ViewBackward0",                 "view",    view_backward },
  [OP_T]               = { "TBackward0",                    "ᵀ",       t_backward },
  [OP_MM]              = { "MmBackward0",                   "@",       mm_backward },
  [OP_ADDMM]           = { "AddmmBackward0",                "b+x@W",   addmm_backward },
  [OP_NORM]            = { "NormBackward1",                 "‖x‖",     norm_backward },
  [OP_CONV2D]          = { "ConvolutionBackward0",          "conv",    conv2d_backward },
  [OP_BATCH_NORM]      = { "NativeBatchNormBackward0",      "bn",      batch_norm_backward },
  [OP_MAX_POOL2D]      = { "MaxPool2DWithIndicesBackward0", "maxpool", max_pool2d_backward },
};

/* An op appended to OpKind without its row fails here; a row left out in the
 * middle is caught by the test /engine/autograd/op-table. */
_Static_assert (G_N_ELEMENTS (op_info) == OP_COUNT, "op_info needs one row per OpKind");

/* backward.h — internal: every op's backward, gathered in op-table.c's op_info[].
 *
 * Signature (BackwardFn): grad_output has the node's output shape; fill each
 * grad_inputs[i] whose edge next[i] is not None with a new tensor of that input's
 * shape (node->input_shape[i]). Grad mode is off while they run.
 */
#pragma once

#include "autograd.h"

G_BEGIN_DECLS

void add_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void sub_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void rsub_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void mul_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void div_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void neg_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void pow_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void exp_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void log_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void relu_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void sum_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void mean_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void view_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void t_backward          (Node *node, const Tensor *grad, Tensor **grad_inputs);
void mm_backward         (Node *node, const Tensor *grad, Tensor **grad_inputs);
void addmm_backward      (Node *node, const Tensor *grad, Tensor **grad_inputs);
void norm_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void conv2d_backward     (Node *node, const Tensor *grad, Tensor **grad_inputs);
void batch_norm_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
void max_pool2d_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
/* ops-unary.c */
void sin_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void cos_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void tanh_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void sigmoid_backward    (Node *node, const Tensor *grad, Tensor **grad_inputs);
void sqrt_backward       (Node *node, const Tensor *grad, Tensor **grad_inputs);
void abs_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void clamp_backward      (Node *node, const Tensor *grad, Tensor **grad_inputs);
void reciprocal_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
void pow_tensor_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
void pow_scalar_base_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
/* ops-softmax.c */
void softmax_backward    (Node *node, const Tensor *grad, Tensor **grad_inputs);
void log_softmax_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
void max_min_backward    (Node *node, const Tensor *grad, Tensor **grad_inputs);
void max_min_dim_backward (Node *node, const Tensor *grad, Tensor **grad_inputs);
/* nn-loss.c */
void mse_loss_backward   (Node *node, const Tensor *grad, Tensor **grad_inputs);
void nll_loss_backward   (Node *node, const Tensor *grad, Tensor **grad_inputs);
/* ops-shape.c (unsqueeze and squeeze use view_backward) */
void permute_backward    (Node *node, const Tensor *grad, Tensor **grad_inputs);
void expand_backward     (Node *node, const Tensor *grad, Tensor **grad_inputs);
void slice_backward      (Node *node, const Tensor *grad, Tensor **grad_inputs);
void clone_backward      (Node *node, const Tensor *grad, Tensor **grad_inputs);
void index_backward      (Node *node, const Tensor *grad, Tensor **grad_inputs);
void index_put_backward  (Node *node, const Tensor *grad, Tensor **grad_inputs);
void cat_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
/* ops-matmul.c */
void mv_backward         (Node *node, const Tensor *grad, Tensor **grad_inputs);
void dot_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);
void bmm_backward        (Node *node, const Tensor *grad, Tensor **grad_inputs);

/* A zeroed tensor shaped like input i of node. */
Tensor *node_new_input_grad (const Node *node, int i);

G_END_DECLS

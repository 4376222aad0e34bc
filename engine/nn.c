/* TEMPORARY placeholder until the nn kernels land (not committed). */
#include "nn.h"
#include "backward.h"
void conv2d_backward (Node *node, const Tensor *grad, Tensor **gi) { g_error ("todo"); }
void batch_norm_backward (Node *node, const Tensor *grad, Tensor **gi) { g_error ("todo"); }
void max_pool2d_backward (Node *node, const Tensor *grad, Tensor **gi) { g_error ("todo"); }

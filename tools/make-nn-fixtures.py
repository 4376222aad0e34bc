#!/usr/bin/python3
"""make-nn-fixtures.py — PyTorch's numbers for tests/test-nn.c's /engine/nn/pytorch-chain.

Run with a Python that has PyTorch (here: /usr/bin/python3 tools/make-nn-fixtures.py);
it prints C arrays to paste into tests/test-nn.c. Neither the build nor the tests need it.

Inputs come from a small LCG both sides can compute exactly (every value is k/2^24
scaled by a power of two, so float32 holds it exactly), not from torch.rand:

    state = (state * 1103515245 + 12345) mod 2^31,  u = (state >> 7) / 2^24  in [0, 1)
    signed(scale):   (2u - 1) * scale
    positive:        0.5 + 0.5u                    (batch-norm weights, running_var)

The chain (every layer resnet18 uses, with a 1×1/2 "downsample" beside a 3×3/2 conv):

    x (1,2,5,5)       c1 = conv2d(x, w1 (3,2,3,3), b1, stride 1, padding 1)
    h = relu(batch_norm(c1, rm1, rv1, g1, beta1, training=True, momentum 0.1, eps 1e-5))
    p = max_pool2d(h, 3, 2, 1)                                   (1,3,3,3)
    e = batch_norm(conv2d(p, w2 (4,3,3,3), None, 2, 1), rm2, rv2, g2, beta2, training=False)
      + conv2d(p, w3 (4,3,1,1), None, 2, 0)                      (1,4,2,2)
    a = adaptive_avg_pool2d(e, (1,1))                            (1,4,1,1)
    loss = (a * r).sum()
"""
import torch
import torch.nn.functional as F


class Lcg:
    def __init__(self, seed):
        self.state = seed

    def u(self):
        self.state = (self.state * 1103515245 + 12345) % (1 << 31)
        return (self.state >> 7) / float(1 << 24)


def signed(shape, seed, scale):
    g = Lcg(seed)
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([(2 * g.u() - 1) * scale for _ in range(n)],
                        dtype=torch.float32).reshape(shape)


def positive(shape, seed):
    g = Lcg(seed)
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([0.5 + 0.5 * g.u() for _ in range(n)],
                        dtype=torch.float32).reshape(shape)


def main():
    x = signed((1, 2, 5, 5), 1, 1.0).requires_grad_()
    w1 = signed((3, 2, 3, 3), 2, 0.5).requires_grad_()
    b1 = signed((3,), 3, 0.5).requires_grad_()
    g1 = positive((3,), 4).requires_grad_()
    beta1 = signed((3,), 5, 0.5).requires_grad_()
    rm1 = torch.zeros(3)
    rv1 = torch.ones(3)
    w2 = signed((4, 3, 3, 3), 6, 0.5).requires_grad_()
    g2 = positive((4,), 7).requires_grad_()
    beta2 = signed((4,), 8, 0.5).requires_grad_()
    rm2 = signed((4,), 9, 0.5)
    rv2 = positive((4,), 10)
    w3 = signed((4, 3, 1, 1), 11, 0.5).requires_grad_()
    r = signed((1, 4, 1, 1), 12, 1.0)

    c1 = F.conv2d(x, w1, b1, stride=1, padding=1)
    h = F.relu(F.batch_norm(c1, rm1, rv1, g1, beta1, training=True, momentum=0.1, eps=1e-5))
    p = F.max_pool2d(h, 3, 2, 1)
    e = (F.batch_norm(F.conv2d(p, w2, None, stride=2, padding=1), rm2, rv2, g2, beta2,
                      training=False, momentum=0.1, eps=1e-5)
         + F.conv2d(p, w3, None, stride=2, padding=0))
    a = F.adaptive_avg_pool2d(e, (1, 1))
    loss = (a * r).sum()
    loss.backward()

    def emit(name, t):
        vals = t.detach().reshape(-1).tolist()
        body = ",".join(("\n  " if i % 6 == 0 else " ") + "%.9g" % v for i, v in enumerate(vals))
        print("static const float %s[%d] = {%s\n};" % (name, len(vals), body))

    print("/* Made by tools/make-nn-fixtures.py with PyTorch %s. */" % torch.__version__)
    emit("fx_loss", loss.reshape(1))
    emit("fx_pool", p)
    emit("fx_avg", a)
    emit("fx_rm1", rm1)
    emit("fx_rv1", rv1)
    emit("fx_x_grad", x.grad)
    emit("fx_w1_grad", w1.grad)
    emit("fx_b1_grad", b1.grad)
    emit("fx_g1_grad", g1.grad)
    emit("fx_beta1_grad", beta1.grad)
    emit("fx_w2_grad", w2.grad)
    emit("fx_g2_grad", g2.grad)
    emit("fx_beta2_grad", beta2.grad)
    emit("fx_w3_grad", w3.grad)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

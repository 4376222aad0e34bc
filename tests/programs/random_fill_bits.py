# normal_(mean, std), uniform_(a, b) and torch.nn.init's fills, bit for bit: PyTorch
# scales inside its kernels (fused, or in double for a few elements), so a standard
# draw scaled afterwards differs in the last bit (45 of these 154 floats did).
import struct

import torch
from torch import nn


def bits(t):
    return " ".join(struct.pack("<f", v).hex() for v in t.reshape(-1).tolist())


torch.manual_seed(0)
print(bits(torch.empty(5).normal_(0.5, 0.02)))
print(bits(torch.empty(40).normal_(0.5, 0.3)))
print(bits(torch.empty(40).uniform_(-0.3, 0.7)))
w = torch.empty(7, 9)
nn.init.kaiming_uniform_(w, a=0.1)
print(bits(w))
w = torch.empty(3, 2)
nn.init.normal_(w, 0.1, 0.02)
print(bits(w))
print(bits(torch.empty(12).bernoulli_(0.3)))

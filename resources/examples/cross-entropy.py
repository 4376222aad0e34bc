# title: Cross-entropy on three classes
# summary: Logits for three classes, a softmax, the loss of the right class; the gradient is softmax minus one-hot
# graph: loss
import torch
import torch.nn.functional as F

torch.manual_seed(3)
logits = torch.randn(4, 3, requires_grad=True)  # 4 samples, 3 classes
target = torch.tensor([0, 2, 1, 2])             # the right class of each

probs = F.softmax(logits, dim=1)                # each row sums to 1
print(probs)

# cross_entropy = log_softmax, then the mean of −log p[right class].
loss = F.cross_entropy(logits, target)
print(f"loss {loss.item():.4f}", loss.grad_fn.name())

loss.backward()
print(logits.grad)

# The same gradient by hand: (softmax − one-hot) / batch size.
one_hot = torch.eye(3)[target]                  # row i: 1 at target[i]
by_hand = (probs.detach() - one_hot) / 4
print("same gradient:", (logits.grad - by_hand).abs().max().item() < 1e-6)

# graph: loss
# Softmax, log-softmax and cross-entropy on three classes.
import torch
import torch.nn.functional as F

logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
target = torch.tensor([0, 1])
p = F.softmax(logits, dim=1)
print(p, p.sum(1))
print(F.log_softmax(logits, dim=1))
loss = F.cross_entropy(logits, target)
print(loss, loss.grad_fn.name(), loss.grad_fn.next_functions[0][0].name())
loss.backward()
print(logits.grad)
print(torch.nn.CrossEntropyLoss(reduction="sum")(logits, target))
print(F.nll_loss(F.log_softmax(logits, dim=1), target))

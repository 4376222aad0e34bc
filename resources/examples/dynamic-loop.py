# title: A dynamic loop
# summary: Python's own control flow decides the graph: a loop that runs until the value is large enough
# graph: y
import torch

x = torch.tensor(1.5, requires_grad=True)

# The loop's length depends on the data, so each run records another graph:
# autograd records what happened, not the program's text.
y = x
steps = 0
while y.item() < 100:
    y = y * y + 1
    steps += 1
print(f"{steps} steps, y = {y.item():.2f}")

y.backward()
print(f"dy/dx = {x.grad.item():.2f}")

# A smaller start needs more steps: a longer graph.
x2 = torch.tensor(1.1, requires_grad=True)
y2, steps2 = x2, 0
while y2.item() < 100:
    y2 = y2 * y2 + 1
    steps2 += 1
y2.backward()
print(f"{steps2} steps, dy/dx = {x2.grad.item():.2f}")

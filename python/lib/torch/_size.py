"""torch.Size: a tuple that prints as PyTorch prints it."""


class Size(tuple):
    def __repr__(self):
        return "torch.Size([" + ", ".join(str(int(d)) for d in self) + "])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

"""torch.optim: SGD is the engine's (sgd.h), exactly PyTorch's update."""

import _gradlens

from .. import _unsupported


class Optimizer:
    def __init__(self, params, defaults):
        params = list(params)
        if params and isinstance(params[0], dict):
            raise _unsupported("parameter groups (a list of dicts) in torch.optim")
        self.defaults = defaults
        self.param_groups = [dict(defaults, params=params)]

    def zero_grad(self, set_to_none=True):
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))
        self._engine_sgd = _gradlens.sgd_new(self.param_groups[0]["params"], lr, momentum,
                                             dampening, weight_decay, nesterov)

    def step(self):
        _gradlens.sgd_step(self._engine_sgd)

    def zero_grad(self, set_to_none=True):
        if set_to_none:
            _gradlens.sgd_zero_grad(self._engine_sgd)
        else:
            super().zero_grad(set_to_none=False)

    @property
    def state(self):
        out = {}
        for i, p in enumerate(self.param_groups[0]["params"]):
            buf = _gradlens.sgd_momentum_buffer(self._engine_sgd, i)
            if buf is not None:
                out[p] = {"momentum_buffer": buf}
        return out

    def __repr__(self):
        g = self.param_groups[0]
        keys = ["dampening", "lr", "momentum", "nesterov", "weight_decay"]
        body = "\n".join(f"    {k}: {g[k]}" for k in keys)
        return f"SGD (\nParameter Group 0\n{body}\n)"


def __getattr__(name):
    raise _unsupported(f"'torch.optim.{name}'", AttributeError)

"""torch.optim: SGD and Adam are the engine's (sgd.h, adam.c), exactly PyTorch's
updates; the run shows either as the program's optimizer."""

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
        if set_to_none:
            _gradlens.sgd_zero_grad(self._engine_sgd)
            return
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                p.grad.zero_()

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from .. import enable_grad
            with enable_grad():
                loss = closure()
        # A schedule may have changed the group's lr since the last step.
        _gradlens.optimizer_set_lr(self._engine_sgd, float(self.param_groups[0]["lr"]))
        _gradlens.sgd_step(self._engine_sgd)
        return loss

    def __repr__(self):
        g = self.param_groups[0]
        body = "\n".join(f"    {k}: {g[k]}" for k in sorted(g) if k != "params")
        return f"{type(self).__name__} (\nParameter Group 0\n{body}\n)"


def _no_extras(name, **flags):
    for key, value in flags.items():
        if value:
            raise _unsupported(f"torch.optim.{name}({key}=True)")


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _no_extras("SGD", maximize=maximize, foreach=foreach, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable))
        self._engine_sgd = _gradlens.sgd_new(self.param_groups[0]["params"], lr, momentum,
                                             dampening, weight_decay, nesterov)

    @property
    def state(self):
        out = {}
        for i, p in enumerate(self.param_groups[0]["params"]):
            buf = _gradlens.sgd_momentum_buffer(self._engine_sgd, i)
            if buf is not None:
                out[p] = {"momentum_buffer": buf}
        return out


class Adam(Optimizer):
    """PyTorch 1.13's Adam, its single-tensor path (the one CPU parameters take):
    the engine's adam.c, float for float."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=False):
        if not 0.0 <= lr:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if not 0.0 <= eps:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError("Invalid beta parameter at index 0: {}".format(betas[0]))
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError("Invalid beta parameter at index 1: {}".format(betas[1]))
        if not 0.0 <= weight_decay:
            raise ValueError("Invalid weight_decay value: {}".format(weight_decay))
        _no_extras("Adam", foreach=foreach, capturable=capturable,
                   differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused))
        self._engine_sgd = _gradlens.adam_new(self.param_groups[0]["params"], float(lr),
                                              float(betas[0]), float(betas[1]), float(eps),
                                              float(weight_decay), bool(amsgrad),
                                              bool(maximize))

    @property
    def state(self):
        from .. import tensor
        out = {}
        for i, p in enumerate(self.param_groups[0]["params"]):
            s = _gradlens.adam_state(self._engine_sgd, i)
            if s is None:
                continue
            step, exp_avg, exp_avg_sq, vmax = s
            out[p] = {"step": tensor(float(step)), "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
            if vmax is not None:
                out[p]["max_exp_avg_sq"] = vmax
        return out


def __getattr__(name):
    raise _unsupported(f"'torch.optim.{name}'", AttributeError)

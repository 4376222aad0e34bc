"""Which lines of a program begin a phase of training.

The stepper pauses before a statement runs, and shows its line with the phase the
statement belongs to: `loss.backward()` is highlighted under *Backward pass*,
`optim.step()` under *Optimizer step*, and the statement after them under *Forward
pass* again. A line's phase is read from the program itself (Python's own parser):
a simple statement that calls `.backward(...)` (or `torch.autograd.grad(...)`),
`.step(...)` or `.zero_grad(...)`
begins that phase; every other line is the forward pass.
"""
import ast

_PHASES = {"backward": "backward", "grad": "backward",  # torch.autograd.grad(...)
           "step": "optimizer", "zero_grad": "zero_grad"}

# Statements with bodies of their own: their lines are their headers, and the
# statements inside have lines of their own.
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.AsyncFor,
             ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Match)


def phase_lines(source):
    """{line: phase name} for the lines that begin a phase other than forward."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines = {}
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.stmt) or isinstance(stmt, _COMPOUND):
            continue
        for node in ast.walk(stmt):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _PHASES):
                lines.setdefault(stmt.lineno, _PHASES[node.func.attr])
    return lines

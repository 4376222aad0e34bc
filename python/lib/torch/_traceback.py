"""A program's traceback as Python prints it, without the frames of GradLens's torch
package: PyTorch's ops are C++ and show none, so a student's traceback ends on the
line of the program that called the op, as it would under PyTorch."""

import os
import traceback

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def format_exception(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)

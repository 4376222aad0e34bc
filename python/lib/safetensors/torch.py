"""safetensors.torch.load_file, as the safetensors package has it for PyTorch."""
import torch


def load_file(filename, device="cpu"):
    return torch.load(filename)

"""GradLens's safetensors: safetensors.torch.load_file over the engine's reader."""

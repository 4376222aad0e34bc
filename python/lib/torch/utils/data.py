"""torch.utils.data: TensorDataset and a DataLoader that batches in order, with
PyTorch's default_collate for tensors and ints (a batch of tuples is a list of
stacked tensors). Shuffling draws its order with a generator GradLens does not
follow yet: asked for, it says so."""

from .. import _unsupported, stack, tensor
from .._tensor import Tensor


class Dataset:
    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    def __init__(self, *tensors):
        if not all(tensors[0].size(0) == t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


def default_collate(batch):
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, bool) or not isinstance(first, (int, tuple, list)):
        raise _unsupported(f"DataLoader batches of {type(first).__name__} (tensors, ints and "
                           "tuples of them are)")
    if isinstance(first, int):
        return tensor(batch)
    return [default_collate(list(field)) for field in zip(*batch)]


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, drop_last=False,
                 collate_fn=None, num_workers=0, **kwargs):
        if shuffle or sampler is not None:
            raise _unsupported("DataLoader(shuffle=True) or a sampler (batches come in order)")
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.collate_fn = collate_fn or default_collate

    def __iter__(self):
        n = len(self.dataset)
        end = n - n % self.batch_size if self.drop_last else n
        for start in range(0, end, self.batch_size):
            items = [self.dataset[i] for i in range(start, min(start + self.batch_size, n))]
            yield self.collate_fn(items)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def __getattr__(name):
    raise _unsupported(f"'torch.utils.data.{name}'", AttributeError)

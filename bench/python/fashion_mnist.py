"""What the Python peers share: Fashion-MNIST's training images and the plain supervised step."""
import gzip
import os
from typing import Callable, Tuple

import numpy as np
import torch
import torch.nn.functional as F


def training_batch(data_dir: str, first: int, batch: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Training images first .. first+batch-1 in file order: uint8 [batch, 1, 28, 28] and int64 labels."""
    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")) as f:
        raw_labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    images = torch.from_numpy(raw[first * 784:(first + batch) * 784].reshape(batch, 1, 28, 28).copy())
    labels = torch.from_numpy(raw_labels[first:first + batch].astype(np.int64))
    return images, labels


def supervised_step(model: torch.nn.Module, opt: torch.optim.Optimizer, images: torch.Tensor,
                    labels: torch.Tensor) -> Callable[[], float]:
    """One cross-entropy SGD step on the normalised batch, as distillery's supervised step."""
    def step() -> float:
        x = (images.float() / 255 - 0.286) / 0.353
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()
    return step

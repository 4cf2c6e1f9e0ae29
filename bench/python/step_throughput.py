"""Python peer of bench/step-throughput.mjs: the same supervised SGD step, timed the same way.

Usage: step_throughput.py ARCH BATCH THREADS WARMUP STEPS DATA_DIR -> one JSON line with imagesPerSecond.
Both sides step on the first BATCH training images of Fashion-MNIST, in file order.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from cifar_resnet import CifarResNet  # noqa: E402


def main() -> None:
    arch, batch, threads, warmup, steps = sys.argv[1], *map(int, sys.argv[2:6])
    data_dir = sys.argv[6]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CifarResNet(int(arch.removeprefix("resnet")), in_channels=1, num_classes=10)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")) as f:
        raw_labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    images = torch.from_numpy(raw[: batch * 784].reshape(batch, 1, 28, 28).copy())
    labels = torch.from_numpy(raw_labels[:batch].astype(np.int64))
    model.train()

    def step() -> float:
        x = (images.float() / 255 - 0.286) / 0.353
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"arch": arch, "batch": batch, "threads": threads, "steps": steps,
                      "seconds": seconds, "imagesPerSecond": batch * steps / seconds,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()

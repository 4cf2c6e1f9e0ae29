"""Python peer of bench/step-throughput.mjs: the same supervised SGD step, timed the same way.

Usage: step_throughput.py ARCH BATCH THREADS WARMUP STEPS DATA_DIR -> one JSON line with imagesPerSecond.
Both sides step on the first BATCH training images of Fashion-MNIST, in file order.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from cifar_resnet import CifarResNet  # noqa: E402
from fashion_mnist import supervised_step, training_batch  # noqa: E402


def main() -> None:
    arch, batch, threads, warmup, steps = sys.argv[1], *map(int, sys.argv[2:6])
    data_dir = sys.argv[6]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CifarResNet(int(arch.removeprefix("resnet")), in_channels=1, num_classes=10)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    images, labels = training_batch(data_dir, 0, batch)
    model.train()
    step = supervised_step(model, opt, images, labels)

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

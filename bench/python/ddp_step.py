"""Python peer of bench/ddp-scaling.mjs: one rank of torch DistributedDataParallel (Gloo), the
same supervised SGD step on this rank's first BATCH Fashion-MNIST images, timed the same way.

Run once per rank with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set (WORLD_SIZE=1: no DDP).
Usage: ddp_step.py ARCH BATCH THREADS WARMUP STEPS DATA_DIR -> rank 0 prints one JSON line.
"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(__file__))
from cifar_resnet import CifarResNet  # noqa: E402
from fashion_mnist import supervised_step, training_batch  # noqa: E402


def main() -> None:
    arch, batch, threads, warmup, steps = sys.argv[1], *map(int, sys.argv[2:6])
    data_dir = sys.argv[6]
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CifarResNet(int(arch.removeprefix("resnet")), in_channels=1, num_classes=10)
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    images, labels = training_batch(data_dir, rank * batch, batch)
    model.train()
    step = supervised_step(model, opt, images, labels)

    for _ in range(warmup):
        step()
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"ranks": world, "seconds": seconds, "imagesPerSecond": world * batch * steps / seconds}))
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()

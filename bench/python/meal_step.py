"""Python peer of bench/meal-step.mjs: the same MEAL joint step (as the official MEAL code runs it),
timed the same way.

Usage: meal_step.py STUDENT TEACHERS BLOCKS BATCH THREADS WARMUP STEPS DATA_DIR
  TEACHERS: comma-separated CIFAR ResNets, stepped round-robin, one per step;
  BLOCKS: comma-separated stage indices (1-3) to match besides the logits, or "none".
Prints one JSON line with imagesPerSecond.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from cifar_resnet import CifarResNet  # noqa: E402
from fashion_mnist import training_batch  # noqa: E402


def discriminator(d: int) -> nn.Module:
    # MEAL: d -> d/2 -> d/4 -> 2 (never narrower than 2), ReLU between layers.
    h1, h2 = max(d // 2, 2), max(d // 4, 2)
    return nn.Sequential(nn.Linear(d, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 2))


def align(x: torch.Tensor, length: int) -> torch.Tensor:
    if x.dim() == 2:
        return x
    return F.adaptive_max_pool1d(x.flatten(2), length).amax(1)


def main() -> None:
    student_arch, teacher_archs, blocks_arg = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    batch, threads, warmup, steps = map(int, sys.argv[4:8])
    data_dir = sys.argv[8]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    depth = lambda arch: int(arch.removeprefix("resnet"))  # noqa: E731
    student = CifarResNet(depth(student_arch), in_channels=1, num_classes=10)
    teachers = [CifarResNet(depth(a), in_channels=1, num_classes=10).eval() for a in teacher_archs]
    for t in teachers:
        t.requires_grad_(False)
    stages = [] if blocks_arg == "none" else [int(b) - 1 for b in blocks_arg.split(",")]
    images, _ = training_batch(data_dir, 0, batch)
    with torch.no_grad():
        probe = student.eval().features(torch.zeros(2, 1, 28, 28))
    student.train()
    lengths = [probe[s].shape[2] * probe[s].shape[3] for s in stages] + [10]
    discriminators = nn.ModuleList(discriminator(d) for d in lengths)
    opt = torch.optim.SGD([{"params": student.parameters()}, {"params": discriminators.parameters(), "lr": 1e-3}],
                          lr=0.1, momentum=0.9, weight_decay=5e-4)
    targets = torch.tensor([[1.0, 0.0]] * batch + [[0.0, 1.0]] * batch)

    def step(i: int) -> float:
        x = (images.float() / 255 - 0.286) / 0.353
        with torch.no_grad():
            tf = teachers[i % len(teachers)].features(x)
        sf = student.features(x)
        s_blocks = [align(sf[s], n) for s, n in zip(stages, lengths)] + [sf[-1]]
        t_blocks = [align(tf[s], n) for s, n in zip(stages, lengths)] + [tf[-1]]
        sim = sum(-(F.softmax(t, 1) * F.log_softmax(s, 1)).sum(1).mean() for s, t in zip(s_blocks, t_blocks))
        adv = sum(F.binary_cross_entropy_with_logits(torch.cat([d(s), d(t)]), targets)
                  for d, s, t in zip(discriminators, s_blocks, t_blocks))
        loss = sim + adv
        value = loss.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return value

    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        step(warmup + i)
    seconds = time.perf_counter() - start
    print(json.dumps({"student": student_arch, "teachers": teacher_archs, "blocks": blocks_arg, "batch": batch,
                      "threads": threads, "steps": steps, "seconds": seconds,
                      "imagesPerSecond": batch * steps / seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

"""Python peer of bench/gpu-step.mjs: the same training step on the same device, timed the same way.

Usage: gpu_step.py MODE DEVICE BATCH SIZE VARIANT WARMUP STEPS STUDENT TEACHERS
  MODE supervised: cross-entropy step of STUDENT (a torchvision ResNet name);
  MODE meal: MEAL's joint step (logits block, one discriminator d -> d/2 -> d/4 -> 2) of STUDENT
    against TEACHERS (comma-separated), stepped round-robin, one per step;
  VARIANT fp32 | bf16 (autocast) | nhwc (fp32, channels_last model and input) | bf16-nhwc.
Prints one JSON line with imagesPerSecond. Inputs are random (throughput does not depend on them).
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def main() -> None:
    mode, device, batch, size, variant, warmup, steps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:5]), sys.argv[5], *map(int, sys.argv[6:8])
    student_arch, teacher_archs = sys.argv[8], [t for t in sys.argv[9].split(",") if t]
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    nhwc = "nhwc" in variant
    bf16 = variant.startswith("bf16")
    fmt = torch.channels_last if nhwc else torch.contiguous_format
    student = getattr(torchvision.models, student_arch)(num_classes=1000).to(device, memory_format=fmt).train()
    teachers = [getattr(torchvision.models, a)(num_classes=1000).to(device, memory_format=fmt).eval() for a in teacher_archs]
    disc = nn.Sequential(nn.Linear(1000, 500), nn.ReLU(), nn.Linear(500, 250), nn.ReLU(), nn.Linear(250, 2)).to(device)
    params = list(student.parameters()) + (list(disc.parameters()) if mode == "meal" else [])
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4)
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8).to(device).contiguous(memory_format=fmt)
    labels = torch.randint(0, 1000, (batch,), device=device)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1) * 255
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    step_index = [0]

    def step() -> None:
        x = ((images.float() - mean) / std).contiguous(memory_format=fmt)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            logits = student(x)
            if mode == "meal":
                with torch.no_grad():
                    target = teachers[step_index[0] % len(teachers)](x)
        logits = logits.float()
        if mode == "meal":
            target = target.float()
            sim = -(F.softmax(target, 1) * F.log_softmax(logits, 1)).sum(1).mean()
            d_s, d_t = disc(logits), disc(target)
            ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)
            adv = F.binary_cross_entropy_with_logits(d_s, torch.stack([ones, zeros], 1)) + F.binary_cross_entropy_with_logits(
                d_t, torch.stack([zeros, ones], 1))
            loss = sim + adv
        else:
            loss = F.cross_entropy(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
        step_index[0] += 1

    for _ in range(warmup):
        step()
    if device_type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device_type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(json.dumps({"imagesPerSecond": batch * steps / seconds, "seconds": seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

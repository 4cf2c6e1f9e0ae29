"""MEAL's block alignment, similarity losses and discriminator computed with PyTorch, as the
independent reference (written from the official MEAL code's definitions, in float64).

Reads JSON on stdin: {blocks: {name: {data, shape}}, student: [[..]], teachers: [[[..]]],
temperature, disc: {student, teacher, weights: {name: {data, shape}}, outputRelu}, lengths: [..]}.
Prints {aligned: {"<name>/<pool>/<len>": {data, shape}}, similarity: {kind: value},
similarityOne: {kind: value}, discriminator, generator}.
"""
import json
import sys

import torch
import torch.nn.functional as F


def tensor(spec):
    return torch.tensor(spec["data"], dtype=torch.float64).reshape(spec["shape"])


def align(x, length, pool):
    flat = x.view(x.size(0), x.size(1), -1)
    if pool == "avg":
        return F.adaptive_avg_pool1d(flat, length).mean(dim=1)
    return F.adaptive_max_pool1d(flat, length).max(dim=1)[0]


def similarities(s, teachers, temperature):
    probs = torch.stack([F.softmax(t, dim=1) for t in teachers]).mean(0)
    probs_t = torch.stack([F.softmax(t / temperature, dim=1) for t in teachers]).mean(0)
    mean = torch.stack(teachers).mean(0)
    return {
        "ce": -(F.log_softmax(s, dim=1) * probs).sum(dim=1).mean().item(),
        "kl": (F.kl_div(F.log_softmax(s / temperature, dim=1), probs_t, reduction="batchmean") * temperature**2).item(),
        "l1": F.l1_loss(s, mean).item(),
        "l2": F.mse_loss(s, mean).item(),
        "l1_soft": F.l1_loss(F.softmax(s, dim=1), probs).item(),
        "l2_soft": F.mse_loss(F.softmax(s, dim=1), probs).item(),
        "cosine": (1 - F.cosine_similarity(s, mean, dim=1).mean()).item(),
    }


def discriminator(x, weights, relu_out):
    layers = sorted({k.split(".")[0] for k in weights}, key=lambda n: int(n[2:]))
    out = x
    for i, name in enumerate(layers):
        out = F.linear(out, weights[name + ".weight"], weights[name + ".bias"])
        if i + 1 < len(layers) or relu_out:
            out = F.relu(out)
    return out


def main():
    spec = json.load(sys.stdin)
    aligned = {}
    for name, block in spec["blocks"].items():
        x = tensor(block)
        for pool in ("avg", "max"):
            for length in spec["lengths"]:
                a = align(x, length, pool)
                aligned[f"{name}/{pool}/{length}"] = {"data": a.flatten().tolist(), "shape": list(a.shape)}
    s = torch.tensor(spec["student"], dtype=torch.float64)
    teachers = [torch.tensor(t, dtype=torch.float64) for t in spec["teachers"]]
    d = spec["disc"]
    weights = {k: tensor(v) for k, v in d["weights"].items()}
    ds, dt = tensor(d["student"]), tensor(d["teacher"])
    out_s, out_t = discriminator(ds, weights, d["outputRelu"]), discriminator(dt, weights, d["outputRelu"])
    n = ds.size(0)
    # The official target: [1, 0] for the student half, [0, 1] for the teacher half.
    target = torch.tensor([[1.0, 0.0]] * n + [[0.0, 1.0]] * n, dtype=torch.float64)
    d_loss = F.binary_cross_entropy_with_logits(torch.cat([out_s, out_t]), target)
    g_loss = F.binary_cross_entropy_with_logits(out_s, torch.tensor([[0.0, 1.0]] * n, dtype=torch.float64))
    print(json.dumps({
        "aligned": aligned,
        "similarity": similarities(s, teachers, spec["temperature"]),
        "similarityOne": similarities(s, teachers[:1], spec["temperature"]),
        "discriminator": d_loss.item(),
        "generator": g_loss.item(),
    }))


if __name__ == "__main__":
    main()

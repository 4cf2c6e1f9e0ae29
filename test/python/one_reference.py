"""ONE's loss and ramp-up computed with PyTorch, as the independent reference (written from the
official ONE code's definitions: CE on every branch and on the gated ensemble, T^2 KL from the
detached ensemble to every branch with batch-mean reduction, sigmoid_rampup), in float64.

Reads JSON on stdin: {branches: [[[..]]], ensemble: [[..]], labels: [..], temperature, klWeight,
rampUp: {length, epochs: [..]}}. Prints {total, ce, kl, gradBranches, gradEnsemble, rampUp: [..]}.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F


def sigmoid_rampup(current, rampup_length):
    if rampup_length == 0:
        return 1.0
    current = min(max(current, 0.0), rampup_length)
    phase = 1.0 - current / rampup_length
    return float(math.exp(-5.0 * phase * phase))


def kl(pred, target_logits, t):
    target = F.softmax(target_logits.detach() / t, dim=1)
    return t * t * (target * (target.log() - F.log_softmax(pred / t, dim=1))).sum(1).mean()


def main():
    spec = json.load(sys.stdin)
    branches = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in spec["branches"]]
    ensemble = torch.tensor(spec["ensemble"], dtype=torch.float64, requires_grad=True)
    labels = torch.tensor(spec["labels"], dtype=torch.long)
    t = spec["temperature"]
    ce = sum(F.cross_entropy(z, labels) for z in branches) + F.cross_entropy(ensemble, labels)
    kl_sum = sum(kl(z, ensemble, t) for z in branches)
    total = ce + spec["klWeight"] * kl_sum
    total.backward()
    ramp = spec["rampUp"]
    print(json.dumps({
        "total": total.item(),
        "ce": ce.item(),
        "kl": kl_sum.item(),
        "gradBranches": [b.grad.tolist() for b in branches],
        "gradEnsemble": ensemble.grad.tolist(),
        "rampUp": [sigmoid_rampup(e, ramp["length"]) for e in ramp["epochs"]],
    }))


main()

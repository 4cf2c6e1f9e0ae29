"""Hinton KD loss computed with PyTorch's own functions, as the independent reference.

Reads JSON on stdin: {student: [[...]], teachers: [[[...]]], labels: [...], temperature, ceWeight,
kdWeight}; prints {total, ce, kd}. The teachers' softened probabilities are averaged.
"""
import json
import sys

import torch
import torch.nn.functional as F


def main() -> None:
    spec = json.load(sys.stdin)
    s = torch.tensor(spec["student"], dtype=torch.float64)
    teachers = [torch.tensor(t, dtype=torch.float64) for t in spec["teachers"]]
    y = torch.tensor(spec["labels"], dtype=torch.long)
    t_temp = spec["temperature"]
    p_t = torch.stack([F.softmax(t / t_temp, dim=1) for t in teachers]).mean(0)
    kd = F.kl_div(F.log_softmax(s / t_temp, dim=1), p_t, reduction="batchmean") * t_temp * t_temp
    ce = F.cross_entropy(s, y)
    total = spec["ceWeight"] * ce + spec["kdWeight"] * kd
    print(json.dumps({"total": total.item(), "ce": ce.item(), "kd": kd.item()}))


if __name__ == "__main__":
    main()

"""DKD (Zhao et al., CVPR 2022) computed with PyTorch in float64, as the independent reference:
written from the paper's definitions as the official mdistiller code states them (binary target /
non-target distributions for TCKD, the non-target classes masked out by -1000 for NCKD, both
summed KL divided by the batch size and scaled by T^2). Several teachers: their softened
probabilities averaged, as distillery's KD does; the NCKD target is then the averaged teacher
distribution with the target's mass removed and renormalised (with one teacher this equals the
official masked softmax).

Reads JSON on stdin: {student: [[..]], teachers: [[[..]]], labels: [..], temperature}.
Prints {ce, tckd, nckd}.
"""
import json
import sys

import torch
import torch.nn.functional as F


def cat_mask(t, mask1, mask2):
    t1 = (t * mask1).sum(dim=1, keepdims=True)
    t2 = (t * mask2).sum(dim=1, keepdims=True)
    return torch.cat([t1, t2], dim=1)


def main():
    spec = json.load(sys.stdin)
    student = torch.tensor(spec["student"], dtype=torch.float64)
    teachers = [torch.tensor(t, dtype=torch.float64) for t in spec["teachers"]]
    labels = torch.tensor(spec["labels"], dtype=torch.long)
    t = spec["temperature"]
    batch = labels.shape[0]
    gt_mask = torch.zeros_like(student).scatter_(1, labels.unsqueeze(1), 1)
    other_mask = 1 - gt_mask

    pred_student = F.softmax(student / t, dim=1)
    pred_teacher = sum(F.softmax(z / t, dim=1) for z in teachers) / len(teachers)
    b_student = cat_mask(pred_student, gt_mask, other_mask)
    b_teacher = cat_mask(pred_teacher, gt_mask, other_mask)
    tckd = F.kl_div(torch.log(b_student), b_teacher, reduction="sum") * t**2 / batch

    if len(teachers) == 1:
        q_teacher = F.softmax(teachers[0] / t - 1000.0 * gt_mask, dim=1)
    else:
        rest = pred_teacher * other_mask
        q_teacher = rest / rest.sum(dim=1, keepdims=True)
    log_q_student = F.log_softmax(student / t - 1000.0 * gt_mask, dim=1)
    nckd = F.kl_div(log_q_student, q_teacher, reduction="sum") * t**2 / batch

    ce = F.cross_entropy(student, labels)
    print(json.dumps({"ce": ce.item(), "tckd": tckd.item(), "nckd": nckd.item()}))


if __name__ == "__main__":
    main()

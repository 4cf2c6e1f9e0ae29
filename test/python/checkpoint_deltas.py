"""Compares checkpoints written from one starting point: how each group of tensors moved.

Usage: checkpoint_deltas.py ORIGIN A [B]. Prints JSON {group: {changedA, maxDeltaA, maxSum}}, where
groups are "student" (model.* parameters), "studentBuffers" (model.* BatchNorm statistics) and
"discriminators" (meal.disc.*), and maxSum is max |(A - ORIGIN) + (B - ORIGIN)| over the group
(zero when B moved exactly opposite to A).
"""
import json
import sys

from safetensors_io import load


def group(name):
    if name.startswith("meal.disc."):
        return "discriminators"
    if name.startswith("model."):
        buffer = name.endswith(("running_mean", "running_var", "num_batches_tracked"))
        return "studentBuffers" if buffer else "student"
    return None


def main():
    origin, _ = load(sys.argv[1])
    a, _ = load(sys.argv[2])
    b = load(sys.argv[3])[0] if len(sys.argv) > 3 else None
    out = {}
    for name, o in origin.items():
        g = group(name)
        if g is None:
            continue
        entry = out.setdefault(g, {"changedA": 0, "maxDeltaA": 0.0, "maxSum": 0.0})
        da = (a[name].double() - o.double())
        entry["maxDeltaA"] = max(entry["maxDeltaA"], da.abs().max().item())
        entry["changedA"] += int(bool((da != 0).any()))
        if b is not None:
            db = b[name].double() - o.double()
            entry["maxSum"] = max(entry["maxSum"], (da + db).abs().max().item())
    print(json.dumps(out))


if __name__ == "__main__":
    main()

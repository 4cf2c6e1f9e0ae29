"""Golden learning-rate sequences from torch.optim.lr_scheduler for test/schedules.test.ts.

Prints a JSON list of cases: {name, config, baseLr, epochs, stepsPerEpoch, lrs}, where `config` is a
distillery ScheduleConfig and `lrs[i]` is the lr torch uses for optimizer step i. Only torch's own
schedulers produce the numbers; options a case leaves out fall back to torch's defaults, so the
cases also pin distillery's defaults to torch's.

Run with an interpreter that has torch (e.g. /usr/bin/python3 test/python/schedules_reference.py).
"""
import json
import sys
import warnings

import torch
from torch.optim import SGD
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)

CASES = [
    ("constant", {"type": "constant"}, 0.1, 3, 5),
    ("step", {"type": "step", "stepSize": 2, "gamma": 0.5}, 0.1, 7, 4),
    ("step, torch default gamma", {"type": "step", "stepSize": 3}, 0.2, 10, 3),
    ("step, one step per epoch", {"type": "step", "stepSize": 1, "gamma": 0.9}, 0.05, 12, 1),
    ("multistep", {"type": "multistep", "milestones": [2, 5], "gamma": 0.2}, 0.1, 8, 5),
    ("multistep, torch default gamma", {"type": "multistep", "milestones": [5, 8]}, 0.1, 10, 2),
    ("cosine, 1000 steps", {"type": "cosine"}, 0.1, 20, 50),
    ("cosine with minLr", {"type": "cosine", "minLr": 1e-4}, 0.05, 5, 7),
    ("onecycle, torch defaults", {"type": "onecycle", "maxLr": 0.5}, 0.1, 10, 10),
    (
        "onecycle, linear",
        {
            "type": "onecycle",
            "maxLr": 1.0,
            "pctStart": 0.25,
            "divFactor": 10,
            "finalDivFactor": 100,
            "anneal": "linear",
        },
        0.1,
        4,
        9,
    ),
    ("onecycle peaking at the optimizer lr", {"type": "onecycle"}, 0.3, 3, 11),
    ("warmup + cosine, torch default start factor", {"type": "cosine", "warmupEpochs": 2}, 0.1, 10, 6),
    (
        "warmup + multistep",
        {"type": "multistep", "milestones": [3, 6], "warmupEpochs": 1, "warmupStartFactor": 0.1},
        0.1,
        9,
        4,
    ),
    (
        "warmup + step",
        {"type": "step", "stepSize": 2, "gamma": 0.3, "warmupEpochs": 2, "warmupStartFactor": 0.5},
        0.2,
        8,
        3,
    ),
    ("warmup + constant", {"type": "constant", "warmupEpochs": 3, "warmupStartFactor": 0.01}, 0.1, 5, 2),
    ("warmup + onecycle", {"type": "onecycle", "maxLr": 0.4, "warmupEpochs": 1}, 0.1, 6, 8),
]


def optional(config, **names):
    """Keyword arguments for the options a case sets, so torch's defaults fill the rest."""
    return {torch_name: config[ours] for torch_name, ours in names.items() if ours in config}


def main_scheduler(opt, config, epochs, steps_per_epoch):
    """The torch scheduler for a config, stepped once per optimizer step over `epochs` epochs."""
    kind = config["type"]
    total = epochs * steps_per_epoch
    if kind == "constant":
        return LambdaLR(opt, lambda _: 1.0)
    if kind == "step":
        # StepLR counted in optimizer steps: the same as stepping once per epoch with step_size epochs.
        return StepLR(opt, step_size=config["stepSize"] * steps_per_epoch, **optional(config, gamma="gamma"))
    if kind == "multistep":
        milestones = [m * steps_per_epoch for m in config["milestones"]]
        return MultiStepLR(opt, milestones=milestones, **optional(config, gamma="gamma"))
    if kind == "cosine":
        return CosineAnnealingLR(opt, T_max=total, **optional(config, eta_min="minLr"))
    if kind == "onecycle":
        kwargs = optional(config, div_factor="divFactor", final_div_factor="finalDivFactor", anneal_strategy="anneal")
        if "pctStart" in config:
            kwargs["pct_start"] = float(config["pctStart"])
        max_lr = config.get("maxLr", opt.param_groups[0]["lr"])
        return OneCycleLR(opt, max_lr=max_lr, total_steps=total, cycle_momentum=False, **kwargs)
    raise ValueError(f"unknown schedule type {kind}")


def record(opt, total, step_scheduler):
    """Runs `total` optimizer steps, recording the lr each one uses."""
    lrs = []
    for step in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        step_scheduler(step)
    return lrs


def reference(config, base_lr, epochs, steps_per_epoch):
    opt = SGD([torch.zeros(1, requires_grad=True)], lr=base_lr, momentum=0.9)
    total = epochs * steps_per_epoch
    warmup_epochs = config.get("warmupEpochs", 0)
    if warmup_epochs:
        warmup_steps = warmup_epochs * steps_per_epoch
        linear = LinearLR(opt, total_iters=warmup_steps, **optional(config, start_factor="warmupStartFactor"))
        main = main_scheduler(opt, config, epochs - warmup_epochs, steps_per_epoch)
        sched = SequentialLR(opt, [linear, main], milestones=[warmup_steps])
        return record(opt, total, lambda _: sched.step())
    if config["type"] in ("step", "multistep"):
        # The literal epoch-based loop: the scheduler sees epochs, not steps.
        if config["type"] == "step":
            sched = StepLR(opt, step_size=config["stepSize"], **optional(config, gamma="gamma"))
        else:
            sched = MultiStepLR(opt, milestones=config["milestones"], **optional(config, gamma="gamma"))
        return record(opt, total, lambda step: sched.step() if (step + 1) % steps_per_epoch == 0 else None)
    sched = main_scheduler(opt, config, epochs, steps_per_epoch)
    return record(opt, total, lambda _: sched.step())


def main():
    warnings.simplefilter("ignore")  # torch warns about step(0) inside SequentialLR; irrelevant here
    cases = [
        {
            "name": name,
            "config": config,
            "baseLr": base_lr,
            "epochs": epochs,
            "stepsPerEpoch": steps_per_epoch,
            "lrs": reference(config, base_lr, epochs, steps_per_epoch),
        }
        for name, config, base_lr, epochs, steps_per_epoch in CASES
    ]
    json.dump({"torch": torch.__version__, "cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()

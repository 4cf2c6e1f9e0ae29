"""Replays a run's optimizer steps with torch.optim, as the independent reference for distillery's
SGD (momentum, Nesterov, weight decay) and AdamW, with or without the no-decay group for 1-d
tensors (BatchNorm scales and shifts, biases).

distillery's checkpoints before and after each step hold the parameters and the optimizer state;
each step's gradient is recovered from the state (AdamW: from exp_avg, which no weight decay
touches; SGD: from the momentum buffer, given the decay torch.optim would apply), then torch.optim
takes the same steps from the same start, and every parameter and state tensor is compared.

Usage: optimizer_replay.py CONFIG_JSON CKPT0 CKPT1 ... ; prints {"params": max rel err, "state": ...}.
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import safetensors_io  # noqa: E402


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def main(argv):
    config = json.loads(argv[1])
    checkpoints = [safetensors_io.load(path)[0] for path in argv[2:]]
    slot = "exp_avg" if config["type"] == "adamw" else "momentum_buffer"
    names = sorted(n[len("model."):] for n in checkpoints[1] if n.startswith("model.") and f"optim.{n[len('model.'):]}.{slot}" in checkpoints[1])
    params = {n: torch.nn.Parameter(checkpoints[0][f"model.{n}"].double().clone()) for n in names}
    wd = config["weightDecay"]
    exempt = config["noDecayBnBias"]
    decay = [params[n] for n in names if not (exempt and params[n].dim() <= 1)]
    no_decay = [params[n] for n in names if exempt and params[n].dim() <= 1]
    groups = [{"params": decay, "weight_decay": wd}] + ([{"params": no_decay, "weight_decay": 0.0}] if no_decay else [])
    lr = config["lr"]
    if config["type"] == "sgd":
        optimizer = torch.optim.SGD(groups, lr=lr, momentum=config["momentum"], nesterov=config["nesterov"])
    else:
        optimizer = torch.optim.AdamW(groups, lr=lr, betas=tuple(config["betas"]), eps=config["eps"])
    group_wd = {n: (0.0 if exempt and params[n].dim() <= 1 else wd) for n in names}

    worst = {"params": 0.0, "state": 0.0}
    for k in range(1, len(checkpoints)):
        before, after = checkpoints[k - 1], checkpoints[k]
        for n in names:
            if config["type"] == "adamw":
                m_now = after[f"optim.{n}.exp_avg"].double()
                m_prev = before[f"optim.{n}.exp_avg"].double() if k > 1 else torch.zeros_like(m_now)
                b1 = config["betas"][0]
                params[n].grad = (m_now - b1 * m_prev) / (1 - b1)
            else:
                buf_now = after[f"optim.{n}.momentum_buffer"].double()
                buf_prev = before[f"optim.{n}.momentum_buffer"].double() if k > 1 else torch.zeros_like(buf_now)
                d_p = buf_now - config["momentum"] * buf_prev
                params[n].grad = d_p - group_wd[n] * before[f"model.{n}"].double()
        # distillery's parameters at k - 1 are float32: restart torch from them so errors do not compound.
        with torch.no_grad():
            for n in names:
                params[n].copy_(before[f"model.{n}"].double())
        optimizer.step()
        for n in names:
            worst["params"] = max(worst["params"], rel(params[n].detach(), after[f"model.{n}"].double()))
            state = optimizer.state[params[n]]
            if config["type"] == "adamw":
                worst["state"] = max(worst["state"], rel(state["exp_avg_sq"], after[f"optim.{n}.exp_avg_sq"].double()))
                assert int(state["step"]) == int(after[f"optim.{n}.step"].item()), n
            else:
                worst["state"] = max(worst["state"], rel(state["momentum_buffer"], after[f"optim.{n}.momentum_buffer"].double()))
    print(json.dumps(worst))


if __name__ == "__main__":
    main(sys.argv)

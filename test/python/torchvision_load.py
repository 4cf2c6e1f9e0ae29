"""Loads a safetensors file into a torchvision model with strict=True and prints its logits.

Usage: torchvision_load.py ARCH WEIGHTS IO_JSON -> JSON {"maxAbsDiff": ...} against IO_JSON's logits.
"""
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import load  # noqa: E402

arch, weights, io_file = sys.argv[1:4]
model = getattr(torchvision.models, arch)()
state, _ = load(weights)
model.load_state_dict(state, strict=True)
model.eval()
with open(io_file) as f:
    io = {k: torch.tensor(v["data"]).reshape(v["shape"]) for k, v in json.load(f).items()}
with torch.no_grad():
    logits = model(io["input"])
print(json.dumps({"maxAbsDiff": (logits - io["logits"]).abs().max().item()}))

"""Writes a torchvision parity fixture, independently of distillery's code.

For each architecture: a seeded torchvision model's state_dict as safetensors, a random input batch,
and torchvision's eval-mode logits for it (as JSON). Usage: torchvision_fixture.py OUT_DIR ARCH [ARCH...]
"""
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402


def main() -> None:
    out_dir, archs = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    for arch in archs:
        model = getattr(torchvision.models, arch)()
        # Non-trivial BatchNorm statistics, so eval-mode parity tests the buffers too.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
        model.eval()
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            logits = model(x)
        save(os.path.join(out_dir, f"{arch}.safetensors"), dict(model.state_dict()))
        with open(os.path.join(out_dir, f"{arch}.io.json"), "w") as f:
            json.dump({name: {"shape": list(t.shape), "data": t.flatten().tolist()}
                       for name, t in (("input", x), ("logits", logits))}, f)
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__}))


if __name__ == "__main__":
    main()

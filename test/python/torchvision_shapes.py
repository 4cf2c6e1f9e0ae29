"""Parameter counts and state_dict shapes of torchvision models, as the reference for the zoo."""
import json
import sys

import torchvision

out = {}
for arch in sys.argv[1:]:
    model = getattr(torchvision.models, arch)()
    out[arch] = {
        "params": sum(p.numel() for p in model.parameters()),
        "shapes": {k: list(v.shape) for k, v in model.state_dict().items()},
    }
print(json.dumps(out))

"""Multiply-accumulates of torchvision ResNets, counted with forward hooks on every Conv2d and Linear
(output elements x input channels per group x kernel size; in x out for Linear), as the independent
reference for distillery's FLOP counter.

Arguments: arch:C:H:W:classes ... Prints {"arch:C:H:W:classes": macs}.
"""
import json
import sys

import torch
import torchvision


def count(arch, c, h, w, classes):
    model = getattr(torchvision.models, arch)(num_classes=classes)
    if c != 3:
        model.conv1 = torch.nn.Conv2d(c, 64, 7, 2, 3, bias=False)
    total = [0]

    def conv_hook(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        total[0] += output.numel() // output.shape[0] * (module.in_channels // module.groups) * k

    def linear_hook(module, inputs, output):
        total[0] += module.in_features * module.out_features

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, torch.nn.Linear):
            m.register_forward_hook(linear_hook)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, c, h, w))
    return total[0]


result = {}
for spec in sys.argv[1:]:
    arch, c, h, w, classes = spec.split(":")
    result[spec] = count(arch, int(c), int(h), int(w), int(classes))
print(json.dumps(result))

"""torchvision's ImageFolder + DataLoader on the same files and transform as the native loader's
benchmark (RandomResizedCrop + flip, uint8 output, no normalisation): the Python baseline.

Usage: torchvision_loader.py ROOT WORKERS [BATCH] [SIZE] [EPOCHS]; prints one JSON object.
"""
import json
import sys
import time

import torch
from torchvision import datasets, transforms


def main():
    root, workers = sys.argv[1], int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 224
    epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    torch.manual_seed(0)
    transform = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(), transforms.PILToTensor()])
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(root, transform), batch_size=batch, shuffle=True, num_workers=workers)
    images = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for x, _ in loader:
            images += x.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"images": images, "seconds": seconds, "imagesPerSecond": images / seconds, "torchvision": __import__("torchvision").__version__}))


if __name__ == "__main__":
    main()

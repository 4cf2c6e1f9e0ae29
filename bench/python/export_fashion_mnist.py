"""Writes Fashion-MNIST (Debian's dataset-fashion-mnist IDX files) as an ImageFolder of PNG files:
OUT/train/<class>/<i>.png and OUT/val/<class>/<i>.png, the first N_TRAIN training and N_VAL test
images, so image-file pipelines can be measured on data with a known accuracy.

Usage: export_fashion_mnist.py OUT N_TRAIN N_VAL [IDX_DIR]
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    out, n_train, n_val = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    idx = sys.argv[4] if len(sys.argv) > 4 else "/usr/share/datasets/fashion-mnist"
    for split, prefix, n in (("train", "train", n_train), ("val", "t10k", n_val)):
        images = read(os.path.join(idx, f"{prefix}-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28)[:n]
        labels = read(os.path.join(idx, f"{prefix}-labels-idx1-ubyte.gz"), 8)[:n]
        for name in CLASSES:
            os.makedirs(os.path.join(out, split, name), exist_ok=True)
        for i, (image, label) in enumerate(zip(images, labels)):
            Image.fromarray(image, "L").save(os.path.join(out, split, CLASSES[label], f"{i:05d}.png"))
    print(out)


if __name__ == "__main__":
    main()

"""Writes N random-noise JPEGs (SIZE x SIZE) into DIR/class0..class9/, an ImageFolder for the GPU
step bench (throughput does not depend on the pixels). Usage: make_noise_images.py DIR N SIZE"""
import os
import sys

import numpy as np
from PIL import Image


def main() -> None:
    out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = os.path.join(out, f"class{i % 10}")
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(os.path.join(folder, f"{i:05d}.jpg"), quality=90)


if __name__ == "__main__":
    main()

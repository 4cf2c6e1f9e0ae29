"""Writes an ImageNet-like folder of JPEGs from the real photos Debian's python3-skimage ships:
random crops rescaled to about 500x375 (or 375x500), a few grayscale, re-encoded at quality 90 with
4:2:0 chroma as ImageNet's files are. Classes are the source photos.

Usage: make_jpeg_set.py OUT COUNT [SEED]
"""
import os
import sys

import numpy as np
from PIL import Image

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "retina.jpg", "hubble_deep_field.jpg", "ihc.png"]
DATA = "/usr/lib/python3/dist-packages/skimage/data"


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    photos = [(os.path.splitext(p)[0], Image.open(os.path.join(DATA, p)).convert("RGB")) for p in PHOTOS if os.path.exists(os.path.join(DATA, p))]
    for name, _ in photos:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i in range(count):
        name, photo = photos[i % len(photos)]
        w, h = photo.size
        # A random window of 60-100% of the shorter side, stretched to ImageNet's typical 500x375.
        side = int(min(w, h) * rng.uniform(0.6, 1.0))
        landscape = rng.random() < 0.75
        cw, ch = (side, int(side * 0.75)) if landscape else (int(side * 0.75), side)
        left, top = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
        image = photo.crop((left, top, left + cw, top + ch)).resize((500, 375) if landscape else (375, 500), Image.BILINEAR)
        if rng.random() < 0.5:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        if i % 50 == 49:
            image = image.convert("L")
        image.save(os.path.join(out, name, f"{i:06d}.JPEG"), "JPEG", quality=90)
    print(out)


if __name__ == "__main__":
    main()

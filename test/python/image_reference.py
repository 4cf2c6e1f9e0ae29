"""Image-file fixtures and what Pillow and torchvision make of them: the independent reference for
the native JPEG/PNG loader.

  write DIR                 writes an ImageFolder tree of every file kind the loader must read
  eval DIR RESIZE SIZE      stdin: JSON list of paths; stdout: Resize(RESIZE)+CenterCrop(SIZE) pixels
  crops SIZE                stdin: JSON [{path, top, left, height, width, flip}]; stdout: resized_crop pixels
  rrc H W N SEED            stdout: N torchvision RandomResizedCrop.get_params draws on an H x W image
  folder DIR                stdout: torchvision ImageFolder's classes and (path, label) samples
  stripes DIR N             writes DIR/train and DIR/val, N JPEGs per class: horizontal vs vertical stripes
  cifar DIR 10|100          writes CIFAR binary files of random images; stdout: every split's labels and pixel sums
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F


def photo_like(height, width, seed):
    """Smooth colour gradients, shapes and noise: enough structure for chroma subsampling to matter."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(x / (7 + seed)) * np.cos(y / 11)
    g = 128 + 90 * np.cos((x + y) / (13 + seed))
    b = 255 * ((x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(height, width) / 3) ** 2)
    image = np.stack([r, g, b], -1) + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


# name -> (folder, how it is written); odd sizes so no edge falls on an MCU boundary.
FILES = {
    "cat/baseline.jpg": lambda p: photo_like(97, 131, 1).save(p, "JPEG", quality=90),
    "cat/progressive.jpg": lambda p: photo_like(120, 90, 2).save(p, "JPEG", quality=90, progressive=True),
    "cat/gray.jpg": lambda p: photo_like(75, 83, 3).convert("L").save(p, "JPEG", quality=90),
    "cat/yuv444.jpeg": lambda p: photo_like(64, 77, 4).save(p, "JPEG", quality=95, subsampling=0),
    "dog/cmyk.jpg": lambda p: photo_like(81, 99, 5).convert("CMYK").save(p, "JPEG", quality=90),
    "dog/png_named.JPEG": lambda p: photo_like(70, 88, 6).save(p, "PNG"),
    "dog/rgba.png": lambda p: photo_like(66, 60, 7).convert("RGBA").save(p, "PNG"),
    "dog/large.jpg": lambda p: photo_like(410, 530, 8).save(p, "JPEG", quality=90),
    "dog/interlaced.png": lambda p: interlaced_png(p, photo_like(53, 71, 9)),
    "dog/palette.png": lambda p: palette_png(p, photo_like(45, 50, 10)),
    "dog/gray_alpha.png": lambda p: photo_like(39, 44, 11).convert("LA").save(p, "PNG"),
    "dog/bilevel.png": lambda p: photo_like(41, 37, 12).convert("1").save(p, "PNG"),
    "dog/rgb16.png": lambda p: rgb16_png(p, photo_like(35, 47, 13)),
}


def png_chunk(kind, data):
    import zlib
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def interlaced_png(path, image):
    """Pillow writes no interlaced PNG; this writes one (Adam7, 8-bit RGB, filter None) by the spec."""
    import zlib
    pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    height, width = pixels.shape[:2]
    raw = b""
    for y0, x0, dy, dx in [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]:
        sub = pixels[y0::dy, x0::dx]
        if sub.shape[0] and sub.shape[1]:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 1])
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def palette_png(path, image):
    """A palette PNG whose palette has transparent entries (tRNS), as web graphics often are."""
    paletted = image.convert("P", palette=Image.ADAPTIVE, colors=64)
    paletted.info["transparency"] = bytes([0, 128] + [255] * 62)
    paletted.save(path, "PNG", transparency=bytes([0, 128] + [255] * 62))


def rgb16_png(path, image):
    """16 bits per sample, written by hand (Pillow writes 8-bit RGB only); Pillow reads each sample's high byte."""
    import zlib
    pixels = np.asarray(image.convert("RGB"), dtype=np.uint16)
    wide = (pixels * 257 + np.arange(pixels.size).reshape(pixels.shape) % 251).astype(">u2")
    height, width = pixels.shape[:2]
    raw = b"".join(b"\0" + row.tobytes() for row in wide)
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([16, 2, 0, 0, 0])
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def chw(image):
    return np.asarray(image.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1).reshape(-1).tolist()


def main():
    command = sys.argv[1]
    if command == "write":
        root = sys.argv[2]
        for name, write in FILES.items():
            os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
            write(os.path.join(root, name))
        print(json.dumps(sorted(FILES)))
    elif command == "eval":
        root, resize, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        t = transforms.Compose([transforms.Resize(resize, InterpolationMode.BILINEAR), transforms.CenterCrop(size)])
        out = [chw(t(Image.open(os.path.join(root, p)).convert("RGB"))) for p in json.load(sys.stdin)]
        print(json.dumps(out))
    elif command == "crops":
        size = int(sys.argv[2])
        out = []
        for c in json.load(sys.stdin):
            image = Image.open(c["path"]).convert("RGB")
            image = F.resized_crop(image, c["top"], c["left"], c["height"], c["width"], [size, size], InterpolationMode.BILINEAR)
            out.append(chw(F.hflip(image) if c["flip"] else image))
        print(json.dumps(out))
    elif command == "rrc":
        height, width, n, seed = (int(v) for v in sys.argv[2:6])
        torch.manual_seed(seed)
        image = torch.zeros(1, height, width)
        draws = [transforms.RandomResizedCrop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(n)]
        print(json.dumps([[int(v) for v in d] for d in draws]))
    elif command == "folder":
        from torchvision.datasets import ImageFolder

        folder = ImageFolder(sys.argv[2])
        samples = [[os.path.relpath(p, sys.argv[2]), label] for p, label in folder.samples]
        print(json.dumps({"classes": folder.classes, "samples": samples}))
    elif command == "stripes":
        root, n = sys.argv[2], int(sys.argv[3])
        rng = np.random.default_rng(0)
        for split, count in (("train", n), ("val", max(n // 4, 8))):
            for label, name in enumerate(("horizontal", "vertical")):
                os.makedirs(os.path.join(root, split, name), exist_ok=True)
                for i in range(count):
                    h, w = rng.integers(48, 96, 2)
                    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
                    wave = np.sin((y if label == 0 else x) * 2 * np.pi / rng.uniform(6, 14) + rng.uniform(0, 6.3))
                    colour = rng.uniform(60, 255, 3)
                    image = 128 + wave[..., None] * (colour - 128) / 1.5 + rng.normal(0, 20, (h, w, 3))
                    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(os.path.join(root, split, name, f"{i}.jpg"), quality=90)
    elif command == "cifar":
        root, kind = sys.argv[2], int(sys.argv[3])
        os.makedirs(root, exist_ok=True)
        rng = np.random.default_rng(kind)
        files = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]} if kind == 10 else {"train": ["train.bin"], "test": ["test.bin"]}
        out = {}
        for split, names in files.items():
            labels, sums, first = [], [], None
            for name in names:
                n = int(rng.integers(3, 7))
                images = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
                fine = rng.integers(0, kind, n, dtype=np.uint8)
                columns = [fine[:, None]] if kind == 10 else [rng.integers(0, 20, (n, 1), dtype=np.uint8), fine[:, None]]
                with open(os.path.join(root, name), "wb") as f:
                    f.write(np.concatenate(columns + [images], 1).tobytes())
                labels += fine.tolist()
                sums += images.reshape(n, -1).sum(1).tolist()
                first = images[0].tolist() if first is None else first
            out[split] = {"labels": labels, "sums": sums, "first": first}
        print(json.dumps(out))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()

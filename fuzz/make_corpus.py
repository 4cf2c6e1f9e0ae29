"""Writes the seed corpora under fuzz/corpus/<target>/ (checked in; rerun only to change them).
Each seed is a small valid input of its parser, so the fuzzer starts from inside the format."""
import gzip
import io
import json
import os
import struct
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "python"))
from image_reference import interlaced_png, photo_like, rgb16_png  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as out:
        out.write(data)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def images():
    small = photo_like(19, 23, 1)
    seeds = {
        "baseline.jpg": encoded(small, "JPEG", quality=70),
        "progressive.jpg": encoded(small, "JPEG", quality=70, progressive=True),
        "gray.jpg": encoded(small.convert("L"), "JPEG", quality=70),
        "cmyk.jpg": encoded(small.convert("CMYK"), "JPEG", quality=70),
        "yuv444.jpg": encoded(small, "JPEG", quality=70, subsampling=0),
        "rgb.png": encoded(small, "PNG"),
        "rgba.png": encoded(small.convert("RGBA"), "PNG"),
        "palette.png": encoded(small.convert("P", palette=Image.ADAPTIVE, colors=8), "PNG", transparency=0),
        "gray_alpha.png": encoded(small.convert("LA"), "PNG"),
        "bilevel.png": encoded(small.convert("1"), "PNG"),
    }
    for name, path_writer in {"interlaced.png": interlaced_png, "rgb16.png": rgb16_png}.items():
        path = os.path.join(ROOT, name)
        path_writer(path, small)
        with open(path, "rb") as f:
            seeds[name] = f.read()
        os.remove(path)
    for i, (name, data) in enumerate(sorted(seeds.items())):
        put("image", name, bytes([i * 37 % 256]) + data)


def idx():
    images = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
    labels = struct.pack(">II", 0x801, 4) + bytes([0, 1, 2, 9])
    put("idx", "images", images)
    put("idx", "labels", labels)
    put("idx", "images.gz", gzip.compress(images, mtime=0))
    put("idx", "labels.gz", gzip.compress(labels, mtime=0))


def cifar():
    pixels = np.arange(3072, dtype=np.uint8).tobytes()
    put("cifar", "cifar10-record", bytes([3]) + pixels)
    put("cifar", "cifar100-records", (bytes([1, 42]) + pixels) * 2)


def safetensors():
    def file(tensors, metadata=None):
        header, data = {}, b""
        if metadata:
            header["__metadata__"] = metadata
        for name, (dtype, shape, payload) in tensors.items():
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
            data += payload
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        return struct.pack("<Q", len(text)) + text + data

    put("safetensors", "weights", file({"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), "b": ("I64", [1], struct.pack("<q", 7))}))
    put("safetensors", "checkpoint", file({"x": ("F16", [3], b"\0<\0<\0<")}, {"distillery": json.dumps({"format": "checkpoint", "version": 1})}))
    put("safetensors", "empty", file({"e": ("BF16", [0], b"")}, {"k": "v"}))


def soft_labels():
    def cache(header, records):
        text = json.dumps(header).encode()
        body = b"DSTLSOFT" + struct.pack("<Q", len(text)) + text
        return body + b"\0" * (-len(body) % 8) + records

    box = struct.pack("<5i", 1, 2, 10, 12, 1)
    plain = box + struct.pack("<2H", 3, 1) + np.array([0.75, 0.25], "<f2").tobytes()
    put("soft_labels", "plain", cache({"samples": 2, "crops": 1, "topK": 2, "numClasses": 4}, plain * 2))
    logits = plain + np.array([1, 2, 3, 4], "<f2").tobytes()
    put("soft_labels", "logits", cache({"samples": 1, "crops": 2, "topK": 2, "numClasses": 4, "logits": True}, logits * 2))
    teachers = plain + struct.pack("<2H", 3, 0) + np.array([0.5, 0.5], "<f2").tobytes()
    put("soft_labels", "per-teacher", cache({"samples": 1, "crops": 1, "topK": 2, "numClasses": 4, "perTeacher": True, "teachers": ["a"]}, teachers))


def model_specs():
    specs = [
        {"arch": "resnet20", "inChannels": 1, "numClasses": 10},
        {"arch": "wrn-16-2", "inChannels": 3, "numClasses": 100, "branches": 3},
        {"arch": "resnet56", "inChannels": 3, "numClasses": 10, "blocks": [[16, 8], [32], [64, 64, 12]]},
        {"arch": "resnet20", "inChannels": 3, "numClasses": 10, "gated": True},
    ]
    for i, spec in enumerate(specs):
        put("model_spec", f"spec{i}.json", json.dumps(spec).encode())


def lists():
    put("file_list", "list.csv", b"path,label\na/x.jpg,0\nb/y z.png, 3\r\n\nc,d.jpg,1\n")


if __name__ == "__main__":
    images()
    idx()
    cifar()
    safetensors()
    soft_labels()
    model_specs()
    lists()

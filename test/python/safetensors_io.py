"""Hand-rolled safetensors reader and writer for torch tensors.

Tests use this to produce and check weights files independently of distillery's C++ code (the
`safetensors` package itself is not installable everywhere the tests run). Only the standard
library and torch are needed.

Format (https://github.com/huggingface/safetensors):
  8 bytes   N, the header length, unsigned little-endian
  N bytes   JSON: {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...],
                   "data_offsets": [begin, end]}, ...}
  rest      the tensor bytes, little-endian, C order; offsets count from the end of the header

The writer follows the reference writer byte for byte: tensors sorted by dtype rank (largest
alignment first) then by name, compact JSON with "__metadata__" first and tensors in storage
order, header padded with spaces to a multiple of 8. The reader applies the reference's
validation: the tensors, in offset order, must tile the data buffer exactly.

Usage:
    from safetensors_io import save, load
    save("w.safetensors", {"fc.weight": torch.randn(10, 4)}, metadata={"arch": "mlp"})
    tensors, metadata = load("w.safetensors")

`build_file(header, buffer)` packs an arbitrary header dict and byte buffer with no checks at
all, for making deliberately corrupt fixtures.

Usable as a script too: `python3 safetensors_io.py FILE` prints the metadata and each tensor's
name, dtype, shape and sum.
"""

import json
import struct
import sys

import torch

# In the reference's dtype enum order (increasing alignment); its writer sorts by this, descending.
DTYPES = [
    ("BOOL", torch.bool),
    ("U8", torch.uint8),
    ("I8", torch.int8),
    ("I16", torch.int16),
    ("F16", torch.float16),
    ("BF16", torch.bfloat16),
    ("I32", torch.int32),
    ("F32", torch.float32),
    ("F64", torch.float64),
    ("I64", torch.int64),
]
_NAME_OF = {dtype: name for name, dtype in DTYPES}
_DTYPE_OF = dict(DTYPES)
_RANK_OF = {name: rank for rank, (name, _) in enumerate(DTYPES)}

# The reference reader refuses larger headers.
MAX_HEADER_BYTES = 100_000_000

if sys.byteorder != "little":
    raise ImportError("safetensors_io copies tensor memory as is, which is only right on little-endian hosts")


def tensor_bytes(tensor):
    """The raw little-endian bytes of a tensor, in C order."""
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    if flat.numel() == 0:
        return b""
    # numpy has no bfloat16; reinterpreting as bytes works for every dtype.
    return flat.view(torch.uint8).numpy().tobytes()


def tensor_from_bytes(data, dtype, shape):
    """A tensor owning a copy of `data`, interpreted as `dtype` with `shape`."""
    if len(data) == 0:
        return torch.empty(shape, dtype=dtype)
    raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    return raw.view(dtype).reshape(shape).clone()


def build_file(header, buffer, pad=True):
    """Packs `header` (any JSON-able value) and `buffer` into file bytes, without validation."""
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(buffer)


def serialize(tensors, metadata=None):
    """File bytes for `tensors` (a dict or a list of (name, tensor) pairs) and `metadata` (str->str)."""
    items = list(tensors.items()) if isinstance(tensors, dict) else list(tensors)
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise ValueError("duplicate tensor names")
    if "__metadata__" in names:
        raise ValueError("'__metadata__' is reserved")
    for name, tensor in items:
        if tensor.dtype not in _NAME_OF:
            raise ValueError(f"tensor {name!r}: dtype {tensor.dtype} has no safetensors form here")
    items.sort(key=lambda item: (-_RANK_OF[_NAME_OF[item[1].dtype]], item[0]))

    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("metadata keys and values must be strings")
        header["__metadata__"] = dict(sorted(metadata.items()))
    chunks = []
    offset = 0
    for name, tensor in items:
        data = tensor_bytes(tensor)
        header[name] = {
            "dtype": _NAME_OF[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    return build_file(header, b"".join(chunks))


def save(path, tensors, metadata=None):
    """Writes `tensors` and `metadata` to `path` (not atomically: fixtures only)."""
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def deserialize(data):
    """(tensors, metadata) from file bytes: a list of (name, tensor) in storage order, and a dict.

    Raises ValueError for anything the reference reader rejects.
    """
    if len(data) < 8:
        raise ValueError(f"file is {len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > MAX_HEADER_BYTES:
        raise ValueError(f"header length {n} exceeds the limit")
    if 8 + n > len(data):
        raise ValueError(f"header length {n} runs past the end of the file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"invalid JSON header: {e}") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("__metadata__ is not an object of strings")

    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise ValueError(f"tensor {name!r}: entry lacks dtype, shape or data_offsets")
        if info["dtype"] not in _DTYPE_OF:
            raise ValueError(f"tensor {name!r}: unknown dtype {info['dtype']!r}")
        shape, offsets = info["shape"], info["data_offsets"]
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise ValueError(f"tensor {name!r}: invalid shape {shape!r}")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
            raise ValueError(f"tensor {name!r}: invalid data_offsets {offsets!r}")
        entries.append((offsets[0], offsets[1], name, _DTYPE_OF[info["dtype"]], shape))
    entries.sort(key=lambda e: (e[0], e[1]))

    buffer = data[8 + n:]
    tensors = []
    expected = 0
    for begin, end, name, dtype, shape in entries:
        if begin != expected or end < begin:
            raise ValueError(f"tensor {name!r}: data_offsets [{begin}, {end}] leave a gap or overlap")
        numel = 1
        for d in shape:
            numel *= d
        if end - begin != numel * torch.empty((), dtype=dtype).element_size():
            raise ValueError(f"tensor {name!r}: data_offsets [{begin}, {end}] do not match dtype and shape")
        if end > len(buffer):
            raise ValueError(f"tensor {name!r}: data_offsets [{begin}, {end}] run past the end of the file")
        tensors.append((name, tensor_from_bytes(buffer[begin:end], dtype, shape)))
        expected = end
    if expected != len(buffer):
        raise ValueError(f"tensors end at {expected} but the data buffer holds {len(buffer)} bytes")
    return tensors, metadata


def load(path):
    """(tensors, metadata) from `path`: a dict name -> tensor (storage order), and a dict."""
    with open(path, "rb") as f:
        tensors, metadata = deserialize(f.read())
    return dict(tensors), metadata


def _main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} FILE", file=sys.stderr)
        return 2
    tensors, metadata = load(argv[1])
    print(json.dumps({"metadata": metadata}))
    for name, tensor in tensors.items():
        print(name, _NAME_OF[tensor.dtype], list(tensor.shape), tensor.double().sum().item())
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))

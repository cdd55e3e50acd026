"""Read a W&B offline run file (``run-<id>.wandb``) back into W&B's own ``Record`` protos.

wandb 0.31 dropped its Python reader (the Go core writes the file), so this follows the format it
documents: a 7-byte header (``:W&B`` + version), then LevelDB's log format: 32 KiB blocks of
records, each ``crc32 (4) | length (2, little-endian) | type (1: full, 2: first, 3: middle,
4: last)`` then the payload; a block's tail under 7 bytes is padding.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32 * 1024
HEADER = 7


def payloads(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path}: not a W&B run file"
    pos, pending = HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        chunk = data[pos + HEADER : pos + HEADER + length]
        pos += HEADER + length
        if kind == 0 and length == 0:
            pos += BLOCK - pos % BLOCK if pos % BLOCK else 0
            continue
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            yield pending + chunk
            pending = b""


def records(path: Path) -> list[Any]:
    from wandb.proto import wandb_internal_pb2 as pb

    out = []
    for payload in payloads(path):
        r = pb.Record()
        r.ParseFromString(payload)
        out.append(r)
    return out

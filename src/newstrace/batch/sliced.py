"""Shuffle files that a reducer reads only its slice of.

A map task writes one file of arrays, each cut into slices by destination (a key bucket, a shard);
a reduce task reads its slice of each array and nothing else. (An ``.npz`` cannot do this: loading
an array from it reads the whole array, so every reducer read every map file whole, and the shuffle's
read volume was the map output times the number of reducers.)

Layout: 8 bytes of header length, a JSON header (per array: dtype, byte offset, and the row bounds of
each slice), then the arrays' raw bytes one after another.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from .io import atomic_path, commit

#: what a read through a memory map costs at least
PAGE = 4096


def save(dest: str | os.PathLike[str], arrays: dict[str, tuple[np.ndarray, np.ndarray]]) -> int:
    """Write ``arrays`` (name -> (array, slice bounds: rows of slice i are bounds[i]:bounds[i + 1]))
    to ``dest`` atomically; the bytes written."""
    header: dict[str, dict] = {}
    offset = 0
    for name, (a, bounds) in arrays.items():
        a = np.ascontiguousarray(a)
        header[name] = {"dtype": a.dtype.str, "offset": offset, "bounds": np.asarray(bounds, np.int64).tolist()}
        offset += a.nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    tmp = atomic_path(dest)
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(head)))
            f.write(head)
            for a, _b in arrays.values():
                f.write(np.ascontiguousarray(a).tobytes())
        size = tmp.stat().st_size
        commit(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return size


class Reader:
    """Reads slices of one file written by :func:`save`, counting the bytes it reads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            self.header = json.loads(f.read(n))
        self.base = 8 + n
        self.bytes_read = self.base

    def slices(self, name: str) -> int:
        """How many slices ``name`` is cut into."""
        return len(self.header[name]["bounds"]) - 1

    def read(self, name: str, i: int) -> np.ndarray:
        """Slice ``i`` of array ``name`` (empty past the last slice)."""
        h = self.header[name]
        dt = np.dtype(h["dtype"])
        if i + 1 >= len(h["bounds"]):
            return np.zeros(0, dt)
        lo, hi = h["bounds"][i], h["bounds"][i + 1]
        with open(self.path, "rb") as f:
            f.seek(self.base + h["offset"] + lo * dt.itemsize)
            data = f.read((hi - lo) * dt.itemsize)
        self.bytes_read += len(data)
        return np.frombuffer(data, dt)

    def map(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """The whole array ``name`` (all its slices as one), memory-mapped read-only, in ``shape``: the
        pages are read when indexed, and processes mapping one file share them."""
        h = self.header[name]
        dt = np.dtype(h["dtype"])
        n = h["bounds"][-1]
        if not n:
            return np.zeros(shape or 0, dt)
        return np.memmap(self.path, dt, "r", offset=self.base + h["offset"], shape=shape or (n,))

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The rows ``rows`` of array ``name`` (all its slices as one), read through a memory map: only
        the pages they fall on are read (counted as such)."""
        dt = np.dtype(self.header[name]["dtype"])
        rows = np.asarray(rows, np.int64)
        if not len(rows) or not self.header[name]["bounds"][-1]:
            return np.zeros(len(rows), dt)
        out = np.array(self.map(name)[rows])
        self.bytes_read += len(np.unique(rows * dt.itemsize // PAGE)) * PAGE
        return out

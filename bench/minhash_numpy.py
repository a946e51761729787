"""A vectorised NumPy MinHash with LSH: the do-it-yourself candidate measured in bench_dedup.py.

The same settings as the datasketch run: 5-word shingles of the lower-cased words, 128 permutations,
LSH with the bands datasketch picks for threshold 0.5 (25 bands of 5 rows; the last 3 values unused),
one pass in date order, each article queried and then inserted, ``duplicate_of`` = the earliest
candidate. Differences, each in its favour over a plain port: a shingle is hashed from the Python
hashes of its words (one ``hash`` per word, combined in NumPy) instead of one ``hash`` per shingle;
the permutations are 32-bit affine maps x -> a*x + b (mod 2**32, a odd), computed for a batch of
articles at once; an LSH bucket keeps only its first article (the earliest, all a query needs).
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Sequence

import numpy as np

SHINGLE = 5
NUM_PERM = 128
BANDS, ROWS = 25, 5  # datasketch's choice for threshold 0.5 and 128 permutations


class NumpyMinHashLSH:
    """Query-then-insert MinHash LSH over a stream, a batch of texts at a time."""

    def __init__(self, num_perm: int = NUM_PERM, bands: int = BANDS, rows: int = ROWS, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.a = (rng.integers(0, 2**32, num_perm, dtype=np.uint64) | 1).astype(np.uint32)
        self.b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
        self.mix = rng.integers(1, 2**63, (SHINGLE,), dtype=np.uint64) | np.uint64(1)
        self.band_mix = rng.integers(1, 2**63, (bands, rows), dtype=np.uint64) | np.uint64(1)
        self.bands, self.rows = bands, rows
        self.table: dict[int, int] = {}  # band key -> first article in its bucket
        self.count = 0

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """MinHash signatures (len(texts) x num_perm, uint32) of the 5-word shingles of each text."""
        words = [t.lower().split() for t in texts]
        lengths = np.fromiter(map(len, words), np.int64, len(words))
        flat = np.fromiter(map(hash, itertools.chain.from_iterable(words)), np.int64, int(lengths.sum()))
        flat = flat.view(np.uint64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        # shingle i of the whole batch covers words i..i+4; keep those inside one text (a text of
        # fewer than 5 words is one shingle of all its words)
        n = len(flat)
        sh = np.zeros(n, np.uint64)
        for j in range(SHINGLE):
            sh[:n - j] += flat[j:] * self.mix[j]
        owner = np.repeat(np.arange(len(texts)), lengths)
        pos_in_text = np.arange(n) - starts[owner]
        valid = (pos_in_text <= lengths[owner] - SHINGLE) | ((pos_in_text == 0) & (lengths[owner] < SHINGLE))
        short = np.flatnonzero((pos_in_text == 0) & (lengths[owner] < SHINGLE))
        for i in short.tolist():  # a short text: one shingle of its words
            k = int(lengths[owner[i]])
            sh[i] = (flat[i:i + k] * self.mix[:k]).sum() if k else 0
        sh = sh[valid]
        sh32 = (sh ^ (sh >> np.uint64(32))).astype(np.uint32)
        doc = owner[valid]
        sig = np.full((len(texts), len(self.a)), np.iinfo(np.uint32).max, np.uint32)
        if len(sh32):
            firsts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
            has = doc[firsts]
            for p in range(0, len(self.a), 16):
                h = sh32[:, None] * self.a[None, p:p + 16] + self.b[None, p:p + 16]
                sig[has, p:p + 16] = np.minimum.reduceat(h, firsts, axis=0)
        return sig

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        """One 64-bit key per band (len(sig) x bands), distinct across bands."""
        used = sig[:, :self.bands * self.rows].astype(np.uint64).reshape(len(sig), self.bands, self.rows)
        keys = (used * self.band_mix[None]).sum(axis=2)
        keys ^= np.arange(self.bands, dtype=np.uint64)[None] * np.uint64(0x9E3779B97F4A7C15)
        return keys.view(np.int64)

    def add_batch(self, texts: Sequence[str]) -> list[int | None]:
        """For each text in order: the earliest earlier article sharing an LSH band (its index), or None."""
        keys = self.band_keys(self.signatures(texts)).tolist()
        table, out = self.table, []
        get, setdefault = table.get, table.setdefault
        for row in keys:
            hits = [h for h in map(get, row) if h is not None]
            out.append(min(hits) if hits else None)
            collections.deque(map(setdefault, row, itertools.repeat(self.count)), maxlen=0)
            self.count += 1
        return out

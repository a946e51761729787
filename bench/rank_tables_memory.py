"""Memory of the corpus-wide rank tables in a relate_plan task (relate's first half), per article of the corpus (docs/SCALING.md).

Builds synthetic batch folders (verdicts and ``_work/ranks`` only: shards of 20,000 articles, 30 %
derived from a random earlier article, row groups of 100,000) at two sizes, runs relate_plan's preamble
(the rank tables, its shard's derived verdicts, the ranks of their pairs) in a fresh process on each,
and reports the peak-memory slope between the two sizes, so that fixed costs (the interpreter, Arrow's
start-up) do not count.

    python bench/rank_tables_memory.py [--sizes 200000 1000000] [--dir /tmp/ranks-bench]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

SHARD_ARTICLES = 20_000


def build(out: Path, n: int, seed: int = 1) -> None:
    """A folder holding only what relate's preamble reads: verdicts/ and _work/ranks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newstrace.batch.origins import write_rank_tables
    from newstrace.batch.stages import _schemas, part_path

    rng = np.random.default_rng(seed)
    shards = max(1, n // SHARD_ARTICLES)
    shard = rng.integers(0, shards, n)  # ranks are by date: shards interleave, each one's rows rise
    row = np.zeros(n, np.int64)
    for s in range(shards):
        m = shard == s
        row[m] = np.arange(int(m.sum()))
    rank_at = np.full((shards, int(row.max()) + 1), -1, np.int64)
    rank_at[shard, row] = np.arange(n)
    derived = (rng.random(n) < 0.3) & (np.arange(n) > 0)
    origin = np.where(derived, (rng.random(n) * np.arange(n)).astype(np.int64), 0)
    kinds = np.array(["copy", "excerpt", "edited"], dtype=object)[rng.integers(0, 3, n)]
    ids = np.array([f"doc-{i:09d}" for i in range(n)], dtype=object)
    table = pa.table({
        "rank": np.arange(n), "id": ids, "shard": shard.astype(np.int32), "row": row.astype(np.int32),
        "duplicate_of": pa.array(np.where(derived, ids[origin], None).tolist()),
        "relation": pa.array(np.where(derived, kinds, None).tolist()), "score": rng.random(n),
        "origin_shard": pa.array(shard[origin].astype(np.int32), mask=~derived),
        "origin_row": pa.array(row[origin].astype(np.int32), mask=~derived)}, schema=_schemas()["verdicts"])
    dest = part_path(out, "verdicts", "00000")
    dest.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, dest, compression="zstd", row_group_size=100_000)
    write_rank_tables(out, rank_at, shard, row, np.where(derived, origin, np.arange(n)))


def _hwm() -> int:
    """Peak resident bytes of this process (VmHWM: unlike ru_maxrss, not inherited across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def preamble(out: Path, shard: int = 0) -> dict[str, float]:
    """Run relate_plan's preamble on ``out`` and return its peak memory over the process's start (bytes)."""
    import pyarrow.parquet  # noqa: F401  (the libraries' own memory is not the task's)

    from newstrace.batch.stages import _derived_verdicts, _rank_tables

    base = _hwm()
    rank_at, shard_of, _row, _root = _rank_tables(out)
    todo = [((p["origin_shard"], p["origin_row"]), (p["shard"], p["row"])) for p in _derived_verdicts(out, shard)]
    taken: dict[int, set[int]] = {}
    for early, late in todo:
        taken.setdefault(int(rank_at[late]), set()).add(int(rank_at[early]))
    mine = shard_of == shard
    return {"pairs": len(todo), "mine": int(mine.sum()),
            "peak_bytes": _hwm() - base}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs=2, default=[200_000, 1_000_000])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/newstrace-ranks-bench"))
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(preamble(args.measure)))
        return 0
    got = {}
    for n in args.sizes:
        out = args.dir / f"n{n}"
        if not (out / "_work" / "ranks").exists():
            build(out, n)
        res = subprocess.run([sys.executable, __file__, "--measure", str(out)], capture_output=True, text=True,
                             check=True)
        got[n] = json.loads(res.stdout)
        print(f"{n:>10,} articles: relate preamble peak {got[n]['peak_bytes'] / 2**20:,.1f} MiB "
              f"({got[n]['pairs']:,} derived articles in its shard)")
    (a, b) = args.sizes
    slope = (got[b]["peak_bytes"] - got[a]["peak_bytes"]) / (b - a)
    print(f"slope: {slope:,.0f} B per article of the corpus -> {slope * 1e8 / 1e9:,.1f} GB per relate task at 10^8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

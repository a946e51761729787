"""Memory and time of the ``stitch`` batch task, per article of the corpus (docs/SCALING.md).

Builds synthetic batch folders holding exactly what ``stitch_job`` reads, in the real file formats
(``verdicts/`` in rank order with 16-hex content ids, ``relations/`` parts by the derived article's
shard, ``_work/story_windows`` npz claims), shaped like the 100,000-article benchmark run: 20,000 articles a
day (so a window holds the same ~280,000 at any size, as windows do in a crawl: more articles, more
windows), ~0.5 stories and 1.12 claims per article (a window also claims the start of the next week
for the stories running on), 0.3 relations per article (most to a recent article, some far back),
shards of 20,000 articles. Runs ``stitch_job`` alone in a fresh process on each of two sizes and
reports its peak memory (``ru_maxrss``, and the rise over the process after its imports) and time,
and the slope between the two sizes, so that fixed costs (the interpreter, the libraries) do not count.

    python bench/stitch_memory.py [--sizes 1000000 4000000] [--dir /tmp/newstrace-stitch-bench]
                                  [--src DIR]   # measure the stitch of another checkout's src/
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

SHARD_ARTICLES = 20_000
PER_DAY = 20_000
#: story labels drawn per article (~0.5 stories per article once the empty labels and the run-on
#: moves are out), articles of the next week a window claims too, relations per article (the 100k run:
#: 0.66 stories, 0.12, 0.30)
STORIES, RUN_ON, RELATIONS = 0.9, 0.12, 0.3
KINDS = np.array(["copy", "syndicated", "excerpt", "edited", "shares_passages", "same_story"], dtype=object)


def hex_ids(x: np.ndarray):
    """16-hex strings of uint64 ``x`` as an Arrow string array (content ids are 8-byte blake2b digests)."""
    import pyarrow as pa

    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    b = np.frombuffer(x.astype(">u8").tobytes(), np.uint8)
    chars = np.empty((len(b), 2), np.uint8)
    chars[:, 0], chars[:, 1] = digits[b >> 4], digits[b & 15]
    offsets = np.arange(0, 16 * len(x) + 1, 16, dtype=np.int32)
    return pa.StringArray.from_buffers(len(x), pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def build(out: Path, n: int, seed: int = 1) -> list[int]:
    """A folder of what stitch reads for ``n`` articles; the windows (the job's ``windows``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newstrace.batch.origins import write_rank_tables
    from newstrace.batch.stages import _save_npz, _schemas, part_path
    from newstrace.batch.stories import window_name

    rng = np.random.default_rng(seed)
    shards = max(1, n // SHARD_ARTICLES)
    shard = rng.integers(0, shards, n)  # ranks are by date: shards interleave, each one's rows rise
    by_shard = np.argsort(shard, kind="stable")
    row = np.empty(n, np.int64)
    row[by_shard] = np.arange(n) - np.searchsorted(shard[by_shard], shard[by_shard])
    # distinct ids: multiplying by an odd constant is a bijection modulo 2^64
    ids = hex_ids(np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    day0 = date(2024, 1, 1).toordinal() // 7 * 7
    week = (day0 + np.arange(n) // PER_DAY) // 7
    weeks = np.unique(week)
    starts = np.searchsorted(week, weeks)
    ends = np.r_[starts[1:], n]
    windows = []
    for i, w in enumerate(weeks.tolist()):
        own = np.arange(starts[i], ends[i])
        k = max(1, int(len(own) * STORIES))
        label = rng.integers(0, k, len(own))
        if i + 1 < len(weeks):  # stories running on into the next week: claimed again by the next window
            nxt = np.arange(starts[i + 1], ends[i + 1])
            on = np.sort(rng.choice(nxt, int(len(nxt) * RUN_ON), replace=False))
            own, label = np.r_[own, on], np.r_[label, rng.integers(0, k, len(on))]
        first = np.full(k, n, np.int64)
        np.minimum.at(first, label, own)
        key = first[label]
        order = np.lexsort((own, key))
        _keys, sizes = np.unique(key[order], return_counts=True)
        _save_npz(part_path(out, "story_windows", window_name(w), "npz"), members=own[order].astype(np.int64),
                  sizes=sizes.astype(np.int64))
        windows.append(w)
    # relations: the derived article's origin mostly a recent one, a tenth anywhere before it
    derived = np.flatnonzero(rng.random(n) < RELATIONS)
    derived = derived[derived > 0]
    back = np.minimum(derived, rng.geometric(1 / 2000, len(derived)))
    origin = np.where(rng.random(len(derived)) < 0.1, (rng.random(len(derived)) * derived).astype(np.int64),
                      derived - back)
    kind = KINDS[rng.choice(len(KINDS), len(derived), p=[0.2, 0.2, 0.2, 0.2, 0.17, 0.03])]
    score = rng.random(len(derived))
    schema = _schemas()["relations"]
    by_shard = np.argsort(shard[derived], kind="stable")
    bounds = np.searchsorted(shard[derived][by_shard], np.arange(shards + 1))
    for s in range(shards):
        pick = by_shard[bounds[s]:bounds[s + 1]]
        m = len(pick)
        t = pa.table({"origin": ids.take(pa.array(origin[pick])), "derived": ids.take(pa.array(derived[pick])),
                      "kind": pa.array(kind[pick].tolist(), pa.string()), "score": score[pick],
                      "direction": pa.array(["date"] * m, pa.string()), "passages": pa.array(["[]"] * m, pa.string()),
                      "stream_relation": pa.nulls(m, pa.string()), "stream_score": pa.nulls(m, pa.float64())},
                     schema=schema)
        dest = part_path(out, "relations", f"{s:05d}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(t, dest, compression="zstd")
    dup = np.full(n, -1, np.int64)
    dup[derived] = origin
    is_d = dup >= 0
    table = pa.table({
        "rank": np.arange(n), "id": ids, "shard": shard.astype(np.int32), "row": row.astype(np.int32),
        "duplicate_of": ids.take(pa.array(np.where(is_d, dup, 0), mask=~is_d)),
        "relation": pa.array(np.where(is_d, "copy", None).tolist(), pa.string()), "score": np.where(is_d, 0.9, 0.0),
        "origin_shard": pa.array(shard[np.maximum(dup, 0)].astype(np.int32), mask=~is_d),
        "origin_row": pa.array(row[np.maximum(dup, 0)].astype(np.int32), mask=~is_d)}, schema=_schemas()["verdicts"])
    dest = part_path(out, "verdicts", "00000")
    dest.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, dest, compression="zstd", row_group_size=1 << 20)  # as io.write_parquet
    # the dedup stage's rank tables (stitch reads each rank's shard and row from them, memory-mapped)
    ranks = np.full((shards, int(row.max()) + 1), -1, np.int64)
    ranks[shard, row] = np.arange(n)
    write_rank_tables(out, ranks, shard, row, np.arange(n))
    (out / "windows.json").write_text(json.dumps(windows))
    return windows


def _hwm() -> int:
    """Peak resident bytes of this process so far (VmHWM)."""
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def measure(out: Path) -> dict[str, float]:
    """Run ``stitch_job`` on ``out`` (in this fresh process): its peak memory and time."""
    import resource

    import pyarrow.compute  # noqa: F401  (the libraries' own memory is not the task's)
    import pyarrow.dataset  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401

    from newstrace.batch import stages  # noqa: F401
    from newstrace.batch.stories import stitch_job

    windows = json.loads((out / "windows.json").read_text())
    base = _hwm()
    t0 = time.perf_counter()
    _outputs, stats = stitch_job({"out": str(out), "windows": windows})
    took = time.perf_counter() - t0
    return {"seconds": took, "peak_bytes": _hwm() - base, "base_bytes": base,
            "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, **stats}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs=2, default=[1_000_000, 4_000_000])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/newstrace-stitch-bench"))
    ap.add_argument("--src", type=Path, help="the src/ folder whose newstrace is measured (default: this one)")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child processes
    ap.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    if args.build:
        build(args.build, args.sizes[0])
        return 0
    here = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=str(args.src or here))
    got = {}
    for n in args.sizes:
        out = args.dir / f"n{n}"
        if not (out / "windows.json").exists():
            # in a process of its own: a child's ru_maxrss starts from its parent's at the fork
            subprocess.run([sys.executable, __file__, "--build", str(out), "--sizes", str(n), str(n)], check=True,
                           env=dict(os.environ, PYTHONPATH=str(here)))
        res = subprocess.run([sys.executable, __file__, "--measure", str(out)], capture_output=True, text=True,
                             check=True, env=env)
        got[n] = json.loads(res.stdout)
        g = got[n]
        print(f"{n:>10,} articles: stitch peak {g['peak_bytes'] / 2**20:,.1f} MiB over the imports "
              f"(ru_maxrss {g['maxrss_bytes'] / 2**20:,.1f} MiB), {g['seconds']:.1f} s; "
              f"{g['families']:,} family edges, {g['claims_dropped']:,} claims dropped, {g['stories']:,} stories")
    (a, b) = args.sizes
    slope = (got[b]["peak_bytes"] - got[a]["peak_bytes"]) / (b - a)
    t_slope = (got[b]["seconds"] - got[a]["seconds"]) / (b - a)
    print(f"slope: {slope:,.1f} B per article of the corpus -> {slope * 1e8 / 1e9:,.1f} GB at 10^8; "
          f"{t_slope * 1e6:,.2f} s per million articles -> {t_slope * 1e8 / 60:,.1f} min at 10^8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

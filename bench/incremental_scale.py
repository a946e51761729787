"""Incremental analysis at scale: 1,000 new articles onto a store of N, against analysing all N + 1,000.

For each store size N: the first N articles of a make_stream.py stream are ingested, related and
clustered from scratch (attribution left out: it is per article, and at 100,000 articles it alone
takes ~40 min, docs/BENCHMARKS.md); then the next 1,000 are ingested and analysed incrementally, on
two copies of the store: clustering only, and with attribution (the new articles' reuse relations are
found first and timed apart: that stage was incremental already). The from-scratch comparator is
``analyse --full`` without attribution on the N + 1,000 articles. Prints one JSON line per size.

usage: nice python bench/incremental_scale.py --sizes 20000 100000 [--new 1000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newstrace import dedup  # noqa: E402
from newstrace.pipeline import analyse_full, analyse_new, ingest  # noqa: E402
from newstrace.read.jsonl import row_to_article  # noqa: E402
from newstrace.store import Store  # noqa: E402


def _rows(path: Path, start: int, n: int) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in islice(f, start, start + n)]


def _ingest(store: Store, rows: list[dict]) -> None:
    ingest((row_to_article(r, "stream", str(r["id"]), r.get("source")) for r in rows), store)


def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _copy(src: Path, dst: Path) -> Path:
    with Store.open(src) as s:
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(src, dst)
    return dst


def run(stream: Path, size: int, new: int, work: Path, full: bool = True) -> dict:
    base = work / f"base{size}.db"
    out: dict = {"store_articles": size, "new_articles": new}
    if not base.exists():
        part = base.with_suffix(".part.db")
        part.unlink(missing_ok=True)
        with Store.open(part) as s:
            out["ingest_s"], _ = _timed(lambda: _ingest(s, _rows(stream, 0, size)))
            out["relate_s"], _ = _timed(lambda: dedup.relate_new(s))
            out["full_cluster_base_s"], _ = _timed(lambda: analyse_full(s, quotes=False))
        part.rename(base)
    rows = _rows(stream, size, new)
    summaries = {}
    for quotes in (False, True):
        db = _copy(base, work / f"inc{size}_{int(quotes)}.db")
        with Store.open(db) as s:
            _ingest(s, rows)
            # the reuse relations of the new articles first (already incremental before this change)
            out["relate_new_s"], _ = _timed(lambda s=s: dedup.relate_new(s))
            secs, summary = _timed(lambda s=s, q=quotes: analyse_new(s, quotes=q))
            key = "incremental_with_quotes" if quotes else "incremental_cluster_only"
            out[key + "_s"] = round(secs, 2)
            out[key + "_ms_per_new_article"] = round(1000 * secs / new, 2)
            summaries[key] = vars(summary)
            if not quotes and full:
                full_secs, _ = _timed(lambda s=s: analyse_full(s, quotes=False))
                out["full_cluster_only_s"] = round(full_secs, 2)
                out["full_cluster_only_ms_per_new_article"] = round(1000 * full_secs / new, 2)
                out["load_analysis_s"], _ = _timed(s.load_analysis)
        db.unlink()
        Path(str(db) + "-wal").unlink(missing_ok=True)
        Path(str(db) + "-shm").unlink(missing_ok=True)
    out["summaries"] = summaries
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    ap.add_argument("--new", type=int, default=1_000)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "incremental")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--no-full", action="store_true", help="leave out the from-scratch comparator (minutes at 100k)")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    n = max(args.sizes) + args.new
    stream, gold = args.work / f"stream{n}.jsonl", args.work / f"gold{n}.jsonl"
    if not stream.exists():
        subprocess.run([sys.executable, str(args.shared / "bench" / "make_stream.py"), "--n", str(n), "--seed", "7",
                        "--out", str(stream), "--gold", str(gold)], check=True)
    for size in args.sizes:
        print(json.dumps(run(stream, size, args.new, args.work, not args.no_full)), flush=True)


if __name__ == "__main__":
    main()

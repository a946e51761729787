"""Incremental against from-scratch clustering, measured (issue 4: "re-clustering from scratch gives the
same answer as streaming the same articles in date order, or document any difference").

A data set is ingested into a fresh store in date order (undated articles last, in input order), with an
incremental analysis after every ``--batch`` articles; then a copy of that store is analysed from scratch
(``analyse --full``). Both are scored against the gold clusters with ../shared/eval/score_clusters.py, and
against each other (pairwise F1 of the stream taking the full run as gold). Without gold clusters (the
make_stream.py stream), the share of derived articles in their origin's story is reported instead.
Attribution is left out: this measures clustering.

usage: python eval/stream_clusters.py DATA.jsonl [--batch 10 50] [--families GOLD.jsonl] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newstrace import incremental  # noqa: E402
from newstrace.pipeline import analyse_full, analyse_new, ingest  # noqa: E402
from newstrace.read.jsonl import row_to_article  # noqa: E402
from newstrace.store import Store  # noqa: E402


def _scorer(shared: Path):
    spec = importlib.util.spec_from_file_location("score_clusters", shared / "eval" / "score_clusters.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_rows(path: Path) -> list[dict]:
    """The data set's rows in date order, undated ones last (in input order); a row without text keeps
    its headline as text, as ``newstrace cluster`` does."""
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    for r in rows:
        if not (r.get("text") or "").strip():
            r["text"] = r.get("title") or " "
    return sorted(rows, key=lambda r: (r.get("date") is None, r.get("date") or ""))


def labels(store: Store) -> dict[str, str]:
    """Input id -> story id."""
    return dict(store.conn.execute(
        "SELECT a.ext_id, sa.story FROM articles a JOIN story_articles sa ON sa.article = a.id"))


def stream(rows: list[dict], db: Path, batch: int, origin: str) -> tuple[Store, float, list[float]]:
    """Ingest ``rows`` ``batch`` at a time, analysing after each; (store, seconds analysing, per batch)."""
    store = Store.open(db)
    spent = []
    for i in range(0, len(rows), batch):
        ingest([row_to_article(r, origin, str(r["id"]), None) for r in rows[i:i + batch]], store)
        t = time.perf_counter()
        if incremental.ready(store):
            analyse_new(store, quotes=False)
        else:
            from newstrace import dedup

            dedup.relate_new(store)
            analyse_full(store, quotes=False)
        spent.append(time.perf_counter() - t)
    return store, sum(spent), spent


def families_kept(pred: dict[str, str], gold: Path) -> float:
    kept = total = 0
    for g in map(json.loads, gold.open(encoding="utf-8")):
        if g["origin"] and g["id"] in pred and g["origin"] in pred:
            total += 1
            kept += pred[g["id"]] == pred[g["origin"]]
    return kept / total if total else 1.0


def evaluate(path: Path, batches: list[int], shared: Path, families: Path | None = None) -> list[dict]:
    """One result per batch size: scores of the stream and of the full run, and their agreement."""
    sc = _scorer(shared)
    rows = load_rows(path)
    gold = {str(r["id"]): str(r["cluster"]) for r in rows if "cluster" in r}
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for batch in batches:
            db = Path(tmp) / f"stream{batch}.db"
            store, secs, per = stream(rows, db, batch, str(path))
            streamed = labels(store)
            copy = Path(tmp) / f"full{batch}.db"
            with sqlite3.connect(copy) as dst:
                store.conn.backup(dst)
            store.close()
            full_store = Store.open(copy)
            t = time.perf_counter()
            analyse_full(full_store, quotes=False)
            full_secs = time.perf_counter() - t
            full = labels(full_store)
            full_store.close()
            res = {"data": path.name, "docs": len(rows), "batch": batch, "analyses": len(per),
                   "stream_s": round(secs, 1), "full_s": round(full_secs, 1),
                   "stream_stories": len(set(streamed.values())), "full_stories": len(set(full.values())),
                   "agreement_pairwise_f1": round(sc.score(streamed, full)["pairwise_f1"], 4),
                   "same_story_sets": _same_sets(streamed, full)}
            if gold:
                s_stream, s_full = sc.score(streamed, gold), sc.score(full, gold)
                res |= {"stream_pairwise_f1": round(s_stream["pairwise_f1"], 4),
                        "full_pairwise_f1": round(s_full["pairwise_f1"], 4),
                        "stream_bcubed_f1": round(s_stream["bcubed_f1"], 4),
                        "full_bcubed_f1": round(s_full["bcubed_f1"], 4)}
            if families:
                res |= {"stream_families_kept": round(families_kept(streamed, families), 4),
                        "full_families_kept": round(families_kept(full, families), 4)}
            out.append(res)
            print(json.dumps(res), file=sys.stderr)
    return out


def _same_sets(a: dict[str, str], b: dict[str, str]) -> float:
    """Share of stories (of either run) that the other run has with exactly the same articles."""
    def sets(x: dict[str, str]) -> set[frozenset[str]]:
        by: dict[str, set[str]] = {}
        for k, v in x.items():
            by.setdefault(v, set()).add(k)
        return {frozenset(v) for v in by.values()}
    sa, sb = sets(a), sets(b)
    return round(len(sa & sb) / len(sa | sb), 4) if sa | sb else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--batch", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--families", type=Path, help="make_stream.py gold (origin of each derived article)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()
    print(json.dumps(evaluate(args.data, args.batch, args.shared, args.families)))


if __name__ == "__main__":
    main()

"""Ingest benchmark: ``newstrace ingest`` of the whole stream into a fresh store, against a baseline.

Runs, each as a child process over the same JSONL stream:
  baseline                 bench/baseline_ingest.py: json + ftfy.fix_text + SQLite, one transaction per 500
  newstrace, 1 worker      newstrace --db X --quiet ingest stream.jsonl
  newstrace, 2 workers     the same with --workers 2, into another fresh store
  newstrace, re-ingest     the 1-worker command again into the same store: must add nothing
Checks: every run exits 0 and stores every article; the re-ingest adds 0 and leaves the count as it
was; 1 and 2 workers store the same articles with the same cleaning and description.
"""

from __future__ import annotations

import hashlib
import json

from benchlib import (
    MB,
    Check,
    Context,
    Measurement,
    StageResult,
    best_of,
    db_size,
    query,
    remove_db,
    run_child,
)

STAGE = "ingest"
TITLE = "Ingest"

#: what must come out the same whatever the number of workers (ingested_at is a clock reading)
_COMPARE = ("id", "seq", "ext_id", "outlet", "date", "title", "headline", "standfirst", "dateline", "byline",
            "language", "word_count", "text", "removed", "segments", "credits")


def _last_run(db) -> dict[str, int | None]:
    rows = query(db, "SELECT read, added, skipped FROM runs ORDER BY id DESC LIMIT 1")
    read, added, skipped = rows[0] if rows else (None, None, None)
    return {"read": read, "added": added, "skipped": skipped}


def _count(db) -> int:
    return query(db, "SELECT COUNT(*) FROM articles")[0][0]


def _digest(db) -> str:
    h = hashlib.sha256()
    with_cols = ",".join(_COMPARE)
    for row in query(db, f"SELECT {with_cols} FROM articles ORDER BY id"):
        h.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _newstrace(ctx: Context, label: str, db, workers: int, *, fresh: bool) -> Measurement:
    if fresh:
        remove_db(db)
    cmd = [ctx.newstrace, "--db", db, "--quiet", "ingest", ctx.stream]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    before = _count(db) if not fresh else 0
    m = run_child(label, cmd, items=ctx.n, input_bytes=ctx.stream_bytes, settle=ctx.settle)
    run = _last_run(db)
    m.extra.update(run)
    m.extra["stored"] = _count(db)
    m.extra["stored_before"] = before
    m.extra["store_bytes"] = db_size(db)
    return m


def _baseline(ctx: Context, db) -> Measurement:
    remove_db(db)
    cmd = [ctx.python, ctx.root / "bench" / "baseline_ingest.py", ctx.stream, db]
    m = run_child("baseline: json + ftfy + sqlite", cmd, items=ctx.n, input_bytes=ctx.stream_bytes,
                  settle=ctx.settle)
    m.extra["stored"] = _count(db)
    m.extra["added"] = m.extra["stored"]
    m.extra["store_bytes"] = db_size(db)
    return m


def run(ctx: Context) -> StageResult:
    out = ctx.out
    w1, w2, base = out / "ingest-w1.db", out / "ingest-w2.db", out / "ingest-baseline.db"

    def timed(title: str, measure) -> Measurement:
        print(f"  {title}", flush=True)
        m = measure()
        print(f"    {m.wall_s:.1f} s (other load {m.other_load:.2f} cores)", flush=True)
        return m

    runs: dict[str, list[Measurement]] = {"baseline": [], "one": [], "again": [], "two": []}
    for i in range(max(1, ctx.repeat)):
        if ctx.repeat > 1:
            print(f"  -- round {i + 1} of {ctx.repeat}", flush=True)
        runs["baseline"].append(timed("baseline (json + ftfy.fix_text + sqlite)", lambda: _baseline(ctx, base)))
        runs["one"].append(timed("newstrace ingest, 1 worker",
                                 lambda: _newstrace(ctx, "newstrace ingest, 1 worker", w1, 1, fresh=True)))
        runs["again"].append(timed(
            "newstrace ingest again into the same store (idempotence)",
            lambda: _newstrace(ctx, "newstrace re-ingest (same stream, same store)", w1, 1, fresh=False)))
        runs["two"].append(timed("newstrace ingest, 2 workers",
                                 lambda: _newstrace(ctx, "newstrace ingest, --workers 2", w2, 2, fresh=True)))
    baseline, one, again, two = (best_of(ms) for ms in runs.values())
    ctx.artifacts["ingest_db"] = w1

    checks = [
        Check("baseline stores every article", baseline.extra["stored"] == ctx.n,
              f"{baseline.extra['stored']:,} of {ctx.n:,}"),
    ]
    for m in (one, two):
        checks.append(Check(f"{m.label}: reads and stores every article",
                            m.returncode == 0 and m.extra["read"] == ctx.n and m.extra["stored"] == ctx.n,
                            f"exit {m.returncode}, read {m.extra['read']}, added {m.extra['added']}, "
                            f"skipped {m.extra['skipped']}, stored {m.extra['stored']:,}"))
    checks.append(Check("re-ingest of the same stream adds 0 (idempotent)",
                        again.returncode == 0 and again.extra["added"] == 0
                        and again.extra["stored"] == again.extra["stored_before"],
                        f"exit {again.returncode}, read {again.extra['read']}, added {again.extra['added']}, "
                        f"stored {again.extra['stored_before']:,} -> {again.extra['stored']:,}"))
    same = _digest(w1) == _digest(w2)
    checks.append(Check("1 and 2 workers store identical articles (ids, order, clean text, description)", same,
                        "sha256 of the stored rows " + ("equal" if same else "DIFFER")))

    measurements = [baseline, one, two, again]

    def ratio(m: Measurement) -> str:
        return f"{m.items_per_s / baseline.items_per_s:.2f}" if baseline.items_per_s else "n/a"

    figures = [
        f"Input: {ctx.n:,} articles, {ctx.stream_bytes / MB:,.1f} MB of JSONL "
        f"({ctx.stream_bytes / ctx.n / 1000:.1f} kB per article), generated with seed {ctx.seed}.",
        f"Throughput newstrace / baseline: {ratio(one)} with 1 worker, {ratio(two)} with 2 workers "
        f"(articles/s over articles/s).",
        f"2 workers over 1 worker: {two.items_per_s / one.items_per_s:.2f}× the throughput."
        if one.items_per_s else "",
        f"Idempotent re-ingest of the same {ctx.n:,} articles: {again.wall_s:,.1f} s, "
        f"added {again.extra['added']}.",
        f"Each row is the fastest of {ctx.repeat} runs; wall times of all runs: "
        + "; ".join(f"{m.label}: {', '.join(str(w) for w in m.extra['walls'])} s" for m in measurements) + "."
        if ctx.repeat > 1 else "",
    ]
    notes = [
        "Baseline (`bench/baseline_ingest.py`): `json.loads` per line, `ftfy.fix_text` (default settings) on "
        "every whole text, rows (id, title, text, date, source, url) into SQLite with Python's default "
        "settings, one transaction per 500 articles, `INSERT OR IGNORE` on the input's id. It does less than "
        "newstrace (no chrome removal, no description: headline, dateline, byline, credits, language; no "
        "provenance), but it runs ftfy over every text, where newstrace (at the measured source) calls ftfy "
        "only on lines that show signs of mojibake.",
        "newstrace stores raw text, clean text, what cleaning removed (with offsets), the segment map and "
        "the per-outlet line counts, in WAL mode with synchronous=NORMAL; hence its larger store.",
        "trafilatura is not in the comparison: it extracts articles from HTML and the stream is plain text; "
        "newstrace uses it itself for .html and .warc inputs.",
        "A row is one run (with --repeat K, the fastest of K), not an average: interference from other "
        "processes only slows a run down.",
    ]
    return StageResult(
        stage=STAGE, title=TITLE, n=ctx.n, input_bytes=ctx.stream_bytes, measurements=measurements,
        columns=[("added", lambda m: f"{m.extra.get('added', 0):,}"),
                 ("store MB", lambda m: f"{m.extra.get('store_bytes', 0) / MB:,.0f}")],
        figures=[f for f in figures if f], checks=checks, notes=notes,
    )

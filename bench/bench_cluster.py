"""Clustering benchmark: ``newstrace cluster`` on the stream against the baselines a user would try.

Runs, each as a child process:
  newstrace, whole stream      newstrace --quiet cluster stream.jsonl -o OUT (clean, describe and
                               cluster every article; one process)
  newstrace, first 2,000      the same on the first 2,000 articles (the baselines' size)
  TF-IDF + average link        eval/cluster_baselines.py tfidf (scikit-learn) on the first 2,000
                               articles, at the distance that scored best on ECB+ dev (0.85): a dense
                               n x n distance matrix, so it cannot take the whole stream
  MiniLM + average link        eval/cluster_baselines.py embedding on the first 1,000 articles
                               (all-MiniLM-L6-v2 on the CPU), at its best ECB+ dev distance (0.40)
  newstrace, first 1,000       for the ratio with the embedding baseline
Checks: every run exits 0 with one line per article; every derived article of the stream (copy,
syndicated copy, excerpt, edit: the gold names its origin) lies in its origin's story.

Run alone: ``python bench/bench_cluster.py --n 20000`` (makes or reuses the stream).
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import islice
from pathlib import Path

from benchlib import Check, Context, Measurement, StageResult, add_alone_options, run_alone, run_child

STAGE = "cluster"
TITLE = "Story clustering (throughput)"
TFIDF_N = 2_000
EMBEDDING_N = 1_000


def _head(src: Path, dst: Path, n: int) -> int:
    """The first ``n`` lines of ``src`` into ``dst``; returns their size in bytes."""
    if not dst.exists():
        tmp = dst.with_suffix(".part")
        with src.open("rb") as f, tmp.open("wb") as out:
            out.writelines(islice(f, n))
        tmp.replace(dst)
    return dst.stat().st_size


def _stories(out: Path) -> dict[str, str]:
    if not out.exists():
        return {}
    with out.open(encoding="utf-8") as f:
        return {str(r["id"]): str(r["story"]) for r in map(json.loads, f)}


def _families_kept(stories: dict[str, str], gold: Path) -> tuple[int, int]:
    """(derived articles in their origin's story, derived articles) among those clustered."""
    kept = total = 0
    with gold.open(encoding="utf-8") as f:
        for g in map(json.loads, f):
            if g["origin"] and g["id"] in stories and g["origin"] in stories:
                total += 1
                kept += stories[g["id"]] == stories[g["origin"]]
    return kept, total


def run(ctx: Context) -> StageResult:
    measurements: list[Measurement] = []
    checks: list[Check] = []
    baselines = ctx.root / "eval" / "cluster_baselines.py"

    def measure(label: str, cmd: list, out: Path, n: int, size: int) -> Measurement:
        print(f"  {label}", flush=True)
        out.unlink(missing_ok=True)
        m = run_child(label, cmd, items=n, input_bytes=size, settle=ctx.settle)
        stories = _stories(out)
        m.extra["stories"] = len(set(stories.values()))
        kept, total = _families_kept(stories, ctx.gold)
        m.extra["families"] = f"{kept:,} / {total:,}"
        print(f"    {m.wall_s:.1f} s, {m.items_per_s:,.1f}/s, {m.extra['stories']:,} stories, derived in their "
              f"origin's story {kept:,} of {total:,}", flush=True)
        checks.append(Check(f"{label}: one story per article", m.returncode == 0 and len(stories) == n,
                            f"exit {m.returncode}, {len(stories):,} lines for {n:,} articles"))
        if label.startswith("newstrace"):
            checks.append(Check(f"{label}: every derived article in its origin's story", kept == total,
                                f"{kept:,} of {total:,}"))
        measurements.append(m)
        return m

    def newstrace(path: Path, n: int, size: int, tag: str) -> Measurement:
        out = ctx.out / f"cluster-newstrace-{tag}.jsonl"
        return measure(f"newstrace cluster, {n:,} articles", [ctx.newstrace, "--quiet", "cluster", path, "-o", out],
                       out, n, size)

    def baseline(method: str, path: Path, n: int, size: int, threshold: float, label: str) -> Measurement:
        out = ctx.out / f"cluster-{method}-{n}.jsonl"
        return measure(label, [ctx.python, baselines, method, path, "-o", out, "--threshold", str(threshold)],
                       out, n, size)

    whole = newstrace(ctx.stream, ctx.n, ctx.stream_bytes, "all")
    figures = []
    for n, method, threshold, label in ((TFIDF_N, "tfidf", 0.85, "scikit-learn TF-IDF + average link"),
                                        (EMBEDDING_N, "embedding", 0.40, "MiniLM embeddings + average link")):
        n = min(n, ctx.n)
        part = ctx.out / f"stream-head-{n}-of-{ctx.stream.stem}.jsonl"
        size = _head(ctx.stream, part, n)
        ours = newstrace(part, n, size, f"head{n}")
        theirs = baseline(method, part, n, size, threshold, f"{label}, {n:,} articles")
        if theirs.returncode == 0 and theirs.items_per_s:
            figures.append(f"newstrace / {label} on {n:,} articles: {ours.items_per_s / theirs.items_per_s:.1f}x "
                           f"the articles/s, {ours.peak_tree_rss_mib:,.0f} vs {theirs.peak_tree_rss_mib:,.0f} MiB peak")
    figures.insert(0, f"newstrace on the whole stream: {whole.items_per_s:,.0f} articles/s, "
                      f"{whole.peak_tree_rss_mib / ctx.n * 1000:,.2f} MiB per 1,000 articles")
    return StageResult(
        stage=STAGE, title=TITLE, n=ctx.n, input_bytes=ctx.stream_bytes, measurements=measurements,
        columns=[("stories", lambda m: f"{m.extra['stories']:,}"),
                 ("derived in origin's story", lambda m: m.extra["families"])],
        figures=figures, checks=checks,
        notes=["newstrace cluster reads, cleans and describes every article before clustering it; the baselines "
               "get the raw title and text. The baselines build a dense n x n distance matrix (TF-IDF) or run a "
               "transformer on the CPU (MiniLM), hence their smaller inputs; their accuracy is in the Story "
               "clustering (accuracy) section."])


def main() -> int:
    """Alone: the same as ``run_bench.py --stages cluster --no-docs`` on a smaller stream."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_alone_options(ap, 20_000)
    return run_alone(run, ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())

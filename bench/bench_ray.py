"""Batch benchmark: ``newstrace batch`` on the local engine and on Ray with 1 and 2 workers.

Runs, each as a child process over the same labelled JSONL stream, into a fresh output folder:
  local engine          newstrace --quiet batch stream.jsonl --out DIR --engine local --shard-mb 16
  Ray, 1 worker         the same with --engine ray --workers 1 (a local Ray instance of 1 CPU)
  Ray, 2 workers        the same with --engine ray --workers 2
  Ray, 2 workers, rerun the last command again on its finished folder: every part is reused
  one-pass stories      a copy of the local run's folder rerun with --story-windows off: only the story
                        stages run again, as one clustering task over everything (the reference the
                        windowed stories are compared with)
  newstrace dedup       the in-repo single-process baseline: the one-pass dedup alone (--workers 2),
                        no cleaning, no alignment, no stories, no quotes
Checks: every run exits 0; the three runs give identical relations, stories and verdicts; the
verdicts' recall and precision on the stream's gold labels; the rerun runs no part again; every
derived article is in its origin's story, by windows and in one pass; the windowed stories score, against
the stream's reuse families (its only story labels), within 0.01 pairwise and BCubed F1 of the one-pass
ones (../shared/eval/score_clusters.py). How far the windows are from one pass is reported as a figure.
Figures: articles/s of each run, the scaling ratio (2 Ray workers over 1), each stage's task time,
and the sizes docs/SCALING.md extrapolates from (signature and shuffle bytes, index bytes per article).

Run alone: ``python bench/bench_ray.py --n 5000``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from bench_dedup import KINDS, load_gold, score, stream_order
from benchlib import MB, Check, Context, Measurement, StageResult, add_alone_options, run_alone, run_child

STAGE = "ray"
TITLE = "Batch pipeline on the local engine and on Ray (newstrace batch)"
SHARD_MB = 16
TABLES = ("relations", "stories", "verdicts")
# how much lower than one pass the windows may score against the reuse families
FAMILY_GAP = 0.01


def _dir_bytes(d: Path) -> int:
    return sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) if d.exists() else 0


def table_rows(out: Path, kind: str) -> list[str]:
    """The rows of one output table, as sorted JSON lines (what must not depend on the engine)."""
    import pyarrow.dataset as ds

    rows = ds.dataset(out / kind, format="parquet").to_table().to_pylist()
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def verdicts_jsonl(out: Path, dest: Path) -> None:
    """The verdicts with the input's own ids, as `newstrace dedup` writes them (for the scorer)."""
    import pyarrow.dataset as ds

    ext = dict(zip(*ds.dataset(out / "articles").to_table(columns=["id", "ext_id"]).to_pydict().values(),
                   strict=True))
    with open(dest, "w", encoding="utf-8") as f:
        for v in ds.dataset(out / "verdicts").to_table(columns=["id", "duplicate_of", "relation"]).to_pylist():
            f.write(json.dumps({"id": ext[v["id"]], "duplicate_of": ext.get(v["duplicate_of"]),
                                "relation": v["relation"]}) + "\n")


def story_of(out: Path) -> dict[str, str]:
    """The story of each article, by the input's own ids."""
    import pyarrow.dataset as ds

    ext = dict(zip(*ds.dataset(out / "articles").to_table(columns=["id", "ext_id"]).to_pydict().values(),
                   strict=True))
    return {ext[a]: s["id"] for s in ds.dataset(out / "stories").to_table(columns=["id", "articles"]).to_pylist()
            for a in s["articles"]}


def story_scores(ctx: Context, windows: Path, single: Path, root: dict[str, str]) -> dict[str, float]:
    """How far the windowed stories are from the one-pass ones, and how close each is to the stream's
    only story labels: its reuse families (an original and what was derived from it; the originals
    are independent texts, so any two families in one story are a false merge)."""
    sys.path.insert(0, str(ctx.shared / "eval"))
    from score_clusters import score as score_clusters

    w, o = story_of(windows), story_of(single)
    s = score_clusters(w, o)
    families = {a: root.get(a, a) for a in w}
    gw, go = score_clusters(w, families), score_clusters(o, families)
    derived = [a for a in root if root[a] != a and a in w and root[a] in w]
    return {"pairwise_f1": s["pairwise_f1"], "pairwise_p": s["pairwise_p"], "pairwise_r": s["pairwise_r"],
            "bcubed_f1": s["bcubed_f1"], "stories_windows": len(set(w.values())), "stories_one": len(set(o.values())),
            "families_pairwise_f1_windows": gw["pairwise_f1"], "families_pairwise_f1_one": go["pairwise_f1"],
            "families_bcubed_f1_windows": gw["bcubed_f1"], "families_bcubed_f1_one": go["bcubed_f1"],
            "families_pairwise_r_windows": gw["pairwise_r"], "families_pairwise_r_one": go["pairwise_r"],
            "derived_with_origin_windows": sum(w[a] == w[root[a]] for a in derived) / max(1, len(derived)),
            "derived_with_origin_one": sum(o[a] == o[root[a]] for a in derived) / max(1, len(derived))}


def run(ctx: Context) -> StageResult:
    gold = load_gold(ctx.gold)
    pos = stream_order(ctx.stream)
    outs = {k: ctx.out / f"batch-{k}" for k in ("local", "ray1", "ray2")}

    def batch(key: str, label: str, extra: list[str], fresh: bool = True, out: Path | None = None) -> Measurement:
        out = out or outs[key]
        if fresh:
            shutil.rmtree(out, ignore_errors=True)
        print(f"  {label}", flush=True)
        cmd = [ctx.newstrace, "--quiet", "batch", ctx.stream, "--out", out, "--shard-mb", str(SHARD_MB), *extra]
        m = run_child(label, cmd, items=ctx.n, input_bytes=ctx.stream_bytes, settle=ctx.settle)
        meta = out / "_batch.json"
        m.extra["batch"] = json.loads(meta.read_text())["summary"] if meta.exists() else {}
        if meta.exists():
            verdicts_jsonl(out, ctx.out / f"batch-{key}-verdicts.jsonl")
            m.extra.update(score(ctx.out / f"batch-{key}-verdicts.jsonl", *gold, pos))
        print(f"    {m.wall_s:.1f} s, {m.items_per_s:,.0f}/s, peak {m.peak_tree_rss_mib:,.0f} MiB, "
              f"other load {m.other_load:.2f} cores", flush=True)
        return m

    local = batch("local", "newstrace batch, local engine", ["--engine", "local"])
    ray1 = batch("ray1", "newstrace batch, Ray, 1 worker", ["--engine", "ray", "--workers", "1"])
    ray2 = batch("ray2", "newstrace batch, Ray, 2 workers", ["--engine", "ray", "--workers", "2"])
    rerun = batch("ray2", "newstrace batch, Ray, 2 workers, rerun on the finished folder",
                  ["--engine", "ray", "--workers", "2"], fresh=False)
    dedup_out = ctx.out / "batch-baseline-dedup.jsonl"
    print("  newstrace dedup (baseline)", flush=True)
    base = run_child("newstrace dedup --workers 2 (baseline: dedup alone)",
                     [ctx.newstrace, "--quiet", "dedup", ctx.stream, "-o", dedup_out, "--workers", "2"],
                     items=ctx.n, input_bytes=ctx.stream_bytes, settle=ctx.settle)
    base.extra.update(score(dedup_out, *gold, pos) if dedup_out.exists() else {})
    # the reference for the story windows: the local run's folder with the story stages rerun as one task
    one = ctx.out / "batch-one-pass"
    shutil.rmtree(one, ignore_errors=True)
    if outs["local"].exists():
        shutil.copytree(outs["local"], one)
    single = batch("one", "newstrace batch, local engine, --story-windows off (stories in one task; the rest "
                   "reused from the local run)", ["--engine", "local", "--story-windows", "off"], fresh=False,
                   out=one)
    try:
        agree = story_scores(ctx, outs["local"], one, gold[1])
    except Exception as exc:  # a failed run leaves no stories
        agree = {"error": f"{type(exc).__name__}: {exc}"}
    runs = [local, ray1, ray2]
    measurements = [*runs, rerun, single, base]

    checks = [Check(f"{m.label}: exits 0", m.returncode == 0, f"exit {m.returncode}") for m in measurements]
    for kind in TABLES:
        try:
            ref = table_rows(outs["local"], kind)
            same = all(table_rows(outs[k], kind) == ref for k in ("ray1", "ray2"))
            detail = f"{len(ref):,} rows"
        except Exception as exc:  # a run that failed leaves no table
            same, detail = False, f"{type(exc).__name__}: {exc}"
        checks.append(Check(f"local, Ray 1 worker and Ray 2 workers give identical {kind}", same, detail))
    for m in runs:
        rec = m.extra.get("recall", {})
        checks.append(Check(f"{m.label}: verdict recall >= 0.97 for every derived kind, precision >= 0.999",
                            all(rec.get(k, 0) >= 0.97 for k in KINDS) and m.extra.get("precision", 0) >= 0.999,
                            ", ".join(f"{k} {rec.get(k, 0):.4f}" for k in KINDS)
                            + f"; precision {m.extra.get('precision', 0):.5f}"))
    ran = rerun.extra["batch"].get("ran", {})
    checks.append(Check("rerun on a finished folder runs no part again", bool(ran) and not any(ran.values()),
                        json.dumps(ran)))
    checks.append(Check("every derived article is in its origin's story (windows, and one pass)",
                        agree.get("derived_with_origin_windows") == 1.0 and agree.get("derived_with_origin_one") == 1.0,
                        json.dumps({k: v for k, v in agree.items() if k.startswith("derived")})))
    # The one-pass stories are a reference, not the truth: beyond the reuse families, the stream's
    # stories are merges of independent originals near the clustering threshold, which term statistics
    # over two weeks or over the whole stream settle differently. The truth the stream has is the
    # families, so the windows must be as close to it as one pass is.
    gap = max(agree.get("families_pairwise_f1_one", 1) - agree.get("families_pairwise_f1_windows", 0),
              agree.get("families_bcubed_f1_one", 1) - agree.get("families_bcubed_f1_windows", 0))
    checks.append(Check("stories by windows are as close to the stream's reuse families as one pass: pairwise and "
                        f"BCubed F1 at most {FAMILY_GAP} below one pass's",
                        "error" not in agree and gap <= FAMILY_GAP,
                        ", ".join(f"{k} {agree.get(k, 0):.4f}" for k in (
                            "families_pairwise_f1_windows", "families_pairwise_f1_one",
                            "families_bcubed_f1_windows", "families_bcubed_f1_one"))))

    scaling = ray2.items_per_s / ray1.items_per_s if ray1.items_per_s else 0.0
    b = ray2.extra["batch"]
    d = b.get("dedup", {})
    sw = b.get("story_windows") or {}
    n = max(1, b.get("articles", ctx.n))
    secs = b.get("stage_seconds", {})
    total_task = sum(secs.values()) or 1.0
    sizes = {k: _dir_bytes(outs["ray2"] / k) for k in ("articles", "relations", "stories", "quotes", "verdicts")}
    from newstrace.batch.stories import BACK_WINDOWS, STEP_DAYS

    window_days = (1 + BACK_WINDOWS) * STEP_DAYS
    figures = [
        f"Input: {ctx.n:,} articles, {ctx.stream_bytes / MB:,.1f} MB of JSONL (seed {ctx.seed}), split into "
        f"{b.get('shards', 0)} shards of {SHARD_MB} MiB.",
        f"Scaling, Ray 2 workers over 1: {scaling:.2f}x articles/s ({ray1.items_per_s:,.0f}/s -> "
        f"{ray2.items_per_s:,.0f}/s); local engine {local.items_per_s:,.0f}/s.",
        "Task time per stage (Ray, 2 workers; seconds summed over the stage's tasks, share of all task time): "
        + ", ".join(f"{k} {v:,.1f} s ({v / total_task:.0%})" for k, v in secs.items()) + ".",
        f"Signatures: {d.get('keys', 0):,} sentence keys, {d.get('signature_bytes', 0) / n:,.0f} bytes per article "
        f"stored (npz); shuffle (key rows by bucket) {d.get('shuffle_bytes', 0) / n:,.0f} bytes per article; "
        f"first holders routed to the shards (firsts) {d.get('firsts_bytes', 0) / n:,.0f} bytes per article "
        f"({d.get('distinct_keys', 0):,} distinct keys); {d.get('candidate_pair_rows', 0):,} "
        "candidate pair rows out of the shuffle.",
        f"Origin shuffle: {d.get('relate_pairs', 0):,} pairs to align, {d.get('origin_requests', 0):,} earlier "
        f"articles requested from other shards ({d.get('origin_request_bytes', 0) / n:,.1f} B/article of requests); "
        f"parcels {d.get('origin_parcel_bytes', 0) / n:,.0f} B/article written, "
        f"{d.get('origin_parcel_read_bytes', 0) / n:,.0f} B/article read by relate.",
        f"Storylines: {sw.get('storyline_shuffle_bytes', 0) / n:,.0f} bytes per article through the name "
        f"shuffle; {sw.get('storyline_links', 0):,} links.",
        "Outputs (Parquet, zstd): " + ", ".join(f"{k} {v / MB:,.1f} MB ({v / n:,.0f} B/article)"
                                                for k, v in sizes.items()) + ".",
        f"Relations {b.get('relations', 0):,}, stories {b.get('stories', 0):,}, quotes {b.get('quotes', 0):,}.",
        f"Anchor shuffle (reduce side, posting lists): {d.get('anchor_pairs_bytes', 0) / n:,.0f} bytes per article "
        f"({d.get('anchor_list_entries', 0):,} list entries standing for {d.get('anchor_pair_rows', 0):,} "
        "(pair, anchor) rows); anchor map side "
        f"{d.get('anchor_shuffle_bytes', 0) / n:,.0f} B/article; key candidates {d.get('candidates_bytes', 0) / n:,.1f} "
        "B/article.",
        f"Story windows: {b.get('windows', 0)} windows of {window_days} days, "
        f"{b.get('story_windows', {}).get('window_articles', 0):,} (article, window) rows, "
        f"{b.get('story_windows', {}).get('claims_dropped', 0):,} overlap claims given to the earliest window. Against one pass over everything ({single.wall_s:,.1f} s wall for the story task alone): "
        + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in agree.items()) + ".",
        f"Throughput against the in-repo baseline (dedup alone, 2 workers, {base.items_per_s:,.0f}/s): "
        f"the whole batch pipeline on Ray with 2 workers runs at {ray2.items_per_s / base.items_per_s:.3f}x "
        "its articles/s." if base.items_per_s else "",
    ]
    notes = [
        "Each batch run starts from an empty output folder, except the rerun, which finds every part's "
        "manifest and output in place and so measures the cost of a restart with nothing left to do "
        "(listing the inputs, checking manifests, starting Ray).",
        "The batch runs do much more than the baseline: cleaning and description of every article "
        "(the bulk of the time), quote attribution, the key shuffle, sentence alignment of every related "
        "pair (passages) and story clustering; `newstrace dedup` only fingerprints and decides. It is the "
        "only in-repo single-process tool over the same stream; there is no common external tool that "
        "does the whole pipeline.",
        "Ray runs start a local Ray instance of 1 or 2 CPUs in the child process (its start-up, a few "
        "seconds, is in the wall time); peak memory of all processes includes Ray's raylet, GCS and idle "
        "workers.",
        "'CPU s' of a Ray run counts every process of the run, Ray's raylet and workers included: they "
        "are sampled from /proc, since the command never waits for them. 'other load' is the rest.",
        "Stories are clustered per 14-day window (story_windows, in parallel), stitched once on ranks "
        "(stitch), summarised per window (story_summaries) and linked into storylines once (storylines); "
        "docs/SCALING.md explains the rules. The one-pass run is the single clustering task they replace.",
        "Each figure is one run, on a 2-core machine shared with other work; 'other load' says how busy "
        "the rest of the machine was.",
    ]
    return StageResult(
        stage=STAGE, title=TITLE, n=ctx.n, input_bytes=ctx.stream_bytes, measurements=measurements,
        columns=[
            *[(f"recall {k}", (lambda m, k=k: f"{m.extra.get('recall', {}).get(k, 0):.4f}")) for k in KINDS],
            ("precision", lambda m: f"{m.extra.get('precision', 0):.5f}"),
            ("MiB per 1k articles", lambda m: f"{m.peak_tree_rss_mib / ctx.n * 1000:.2f}"),
        ],
        figures=[f for f in figures if f], checks=checks, notes=notes,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_alone_options(ap, 5000)
    args = ap.parse_args()
    # alone: the same as run_bench.py --stages STAGE --no-docs, on a smaller stream
    return run_alone(run, args)


if __name__ == "__main__":
    sys.exit(main())

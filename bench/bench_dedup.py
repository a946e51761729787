"""Dedup benchmark: ``newstrace dedup`` against the MinHash LSH a user would otherwise reach for.

Runs, each as a child process over the same labelled JSONL stream (in date order), one pass, every
article checked against the earlier ones and then added:
  newstrace, 1 worker      newstrace --quiet dedup stream.jsonl -o OUT --workers 1
  newstrace, 2 workers     the same with --workers 2
  datasketch               MinHash (128 permutations, ``update_batch`` of the 5-word shingles of the
                           lower-cased words) + MinHashLSH(threshold=0.5, num_perm=128): query, then insert;
                           duplicate_of = the earliest candidate (no verification, as a user starts)
  rensa                    RMinHash(128) + RMinHashLSH(threshold 0.5, 128 permutations, 32 bands of 4
                           rows: 128 must divide into bands, and 25 x 5 as datasketch picks cannot)
  numpy MinHash            bench/minhash_numpy.py: the same shingles, 128 permutations, 25 x 5 bands
A verdict is right when duplicate_of lies in the article's true family (its origin or another article
derived from it; the gold names the origin). Recall is per gold kind of derived article; precision
is over every link made, originals included. Checks: every run exits 0 and gives one verdict per
article; 1 and 2 workers give identical verdicts; duplicate_of never points to a later article;
newstrace's recall and precision targets; its speed over datasketch's.

Run alone: ``python bench/bench_dedup.py --n 5000`` (makes or reuses the stream, prints the table).
The script is also the child that runs the MinHash tools: ``--tool datasketch|rensa|numpy``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from benchlib import MB, Check, Context, Measurement, StageResult, add_alone_options, run_alone, run_child

STAGE = "dedup"
TITLE = "Dedup (one pass over the stream)"

KINDS = ("copy", "syndicated", "excerpt", "edited")
#: the issue's targets
RECALL_TARGET = {"copy": 0.995, "syndicated": 0.995, "excerpt": 0.97, "edited": 0.97}
PRECISION_TARGET = 0.999
SPEEDUP_TARGET = 10.0
BATCH = 500  # articles the NumPy MinHash signs at once
TOOLS = ("datasketch", "rensa", "numpy")


# ----------------------------------------------------------------------------- the child: one MinHash tool
def shingles(text: str) -> list[str]:
    """The distinct 5-word shingles of the lower-cased words (all the words when fewer than 5)."""
    w = text.lower().split()
    if len(w) < 5:
        return [" ".join(w)] if w else []
    return list({" ".join(w[i:i + 5]) for i in range(len(w) - 4)})


def _rows(path: str):
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                yield str(row["id"]), row.get("text") or ""


def run_tool(tool: str, stream: str, out: str) -> int:
    """One pass over ``stream`` (in date order) with ``tool``; writes {"id", "duplicate_of"} per article."""
    ids: list[str] = []
    n = 0
    t0 = time.perf_counter()
    with open(out, "w", encoding="utf-8") as o:
        def emit(doc_id: str, dup: int | None) -> None:
            o.write(json.dumps({"id": doc_id, "duplicate_of": ids[dup] if dup is not None else None}) + "\n")

        if tool == "datasketch":
            from datasketch import MinHash, MinHashLSH

            lsh = MinHashLSH(threshold=0.5, num_perm=128)
            for doc_id, text in _rows(stream):
                m = MinHash(num_perm=128)
                m.update_batch([s.encode("utf-8") for s in shingles(text)])
                found = lsh.query(m)
                lsh.insert(n, m)
                ids.append(doc_id)
                emit(doc_id, min(found) if found else None)
                n += 1
        elif tool == "rensa":
            from rensa import RMinHash, RMinHashLSH

            lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=32)
            for doc_id, text in _rows(stream):
                m = RMinHash(num_perm=128, seed=42)
                m.update(shingles(text))
                found = lsh.query(m)
                lsh.insert(n, m)
                ids.append(doc_id)
                emit(doc_id, min(found) if found else None)
                n += 1
        elif tool == "numpy":
            from minhash_numpy import NumpyMinHashLSH

            lsh = NumpyMinHashLSH()
            batch: list[tuple[str, str]] = []

            def flush() -> None:
                for (doc_id, _), dup in zip(batch, lsh.add_batch([t for _, t in batch]), strict=True):
                    ids.append(doc_id)
                    emit(doc_id, dup)
                batch.clear()

            for row in _rows(stream):
                batch.append(row)
                n += 1
                if len(batch) >= BATCH:
                    flush()
            flush()
        else:
            raise SystemExit(f"unknown tool {tool!r} (have: {', '.join(TOOLS)})")
    secs = time.perf_counter() - t0
    print(f"{tool}: {n} articles in {secs:.1f} s ({n / max(secs, 1e-9):.0f}/s)", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- scoring
def load_gold(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(kind of each article, root of its family: the origin, or itself for an original)."""
    kind, root = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            g = json.loads(line)
            kind[g["id"]] = g["kind"]
            root[g["id"]] = g["origin"] or g["id"]
    return kind, root


def stream_order(path: Path) -> dict[str, int]:
    """Position of each article in the stream (which is in date order)."""
    pos = {}
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            if line.strip():
                pos[str(json.loads(line)["id"])] = i
    return pos


def score(out: Path, kind: dict[str, str], root: dict[str, str], pos: dict[str, int]) -> dict:
    """Recall by kind, precision of all links, relation labels, and verdicts that point forward."""
    total, right = Counter(), Counter()
    links = good = forward = verdicts = 0
    labels: Counter[str] = Counter()
    seen = set()
    with open(out, encoding="utf-8") as f:
        for line in f:
            v = json.loads(line)
            a, dup = v["id"], v.get("duplicate_of")
            if a not in kind or a in seen:
                continue
            seen.add(a)
            verdicts += 1
            k = kind[a]
            ok = dup is not None and dup != a and root.get(dup) == root[a]
            if k != "original":
                total[k] += 1
                right[k] += ok
            if dup is not None:
                links += 1
                good += ok
                forward += pos.get(dup, -1) >= pos[a]
            if "relation" in v:
                labels[f"{k}->{v['relation']}"] += 1
    return {
        "verdicts": verdicts,
        "recall": {k: right[k] / total[k] if total[k] else 0.0 for k in KINDS},
        "derived": dict(total),
        "links": links,
        "precision": good / links if links else 0.0,
        "forward": forward,
        "labels": dict(labels.most_common()),
    }


# ----------------------------------------------------------------------------- the benchmark
def _measure(ctx: Context, label: str, cmd: list, out: Path, gold: tuple, pos: dict) -> Measurement:
    print(f"  {label}", flush=True)
    out.unlink(missing_ok=True)
    m = run_child(label, cmd, items=ctx.n, input_bytes=ctx.stream_bytes, settle=ctx.settle)
    m.extra.update(score(out, *gold, pos) if out.exists() else {"verdicts": 0, "recall": {}, "precision": 0.0,
                                                                  "links": 0, "forward": 0, "labels": {}})
    print(f"    {m.wall_s:.1f} s, {m.items_per_s:,.0f}/s, other load {m.other_load:.2f} cores; recall "
          + ", ".join(f"{k} {m.extra['recall'].get(k, 0):.4f}" for k in KINDS)
          + f"; precision {m.extra['precision']:.5f}", flush=True)
    return m


def run(ctx: Context) -> StageResult:
    gold = load_gold(ctx.gold)
    pos = stream_order(ctx.stream)
    bench = ctx.root / "bench" / "bench_dedup.py"
    outs = {name: ctx.out / f"dedup-{name}.jsonl" for name in ("w1", "w2", *TOOLS)}

    def newstrace(workers: int) -> Measurement:
        cmd = [ctx.newstrace, "--quiet", "dedup", ctx.stream, "-o", outs[f"w{workers}"], "--workers", str(workers)]
        return _measure(ctx, f"newstrace dedup, --workers {workers}", cmd, outs[f"w{workers}"], gold, pos)

    def tool(name: str, label: str) -> Measurement:
        cmd = [ctx.python, bench, "--tool", name, "--stream", ctx.stream, "--out", outs[name]]
        return _measure(ctx, label, cmd, outs[name], gold, pos)

    one = newstrace(1)
    two = newstrace(2)
    numpy_mh = tool("numpy", "numpy MinHash LSH (bench/minhash_numpy.py)")
    rensa = tool("rensa", "rensa RMinHash + RMinHashLSH")
    datasketch = tool("datasketch", "datasketch MinHash + MinHashLSH")
    measurements = [one, two, datasketch, rensa, numpy_mh]

    checks = []
    for m in measurements:
        checks.append(Check(f"{m.label}: one verdict per article", m.returncode == 0 and m.extra["verdicts"] == ctx.n,
                            f"exit {m.returncode}, {m.extra['verdicts']:,} verdicts for {ctx.n:,} articles"))
        checks.append(Check(f"{m.label}: duplicate_of never points to a later article", m.extra["forward"] == 0,
                            f"{m.extra['forward']} of {m.extra['links']:,} links point forward"))
    same = outs["w1"].exists() and outs["w2"].exists() and outs["w1"].read_bytes() == outs["w2"].read_bytes()
    checks.append(Check("newstrace: 1 and 2 workers give identical verdicts", same))
    for m in (one, two):
        low = {k: r for k, r in m.extra["recall"].items() if r < RECALL_TARGET[k]}
        checks.append(Check(f"{m.label}: recall >= 0.995 (copy, syndicated), >= 0.97 (excerpt, edited)", not low,
                            ", ".join(f"{k} {m.extra['recall'][k]:.4f}" for k in KINDS)))
        checks.append(Check(f"{m.label}: precision of all links >= {PRECISION_TARGET}",
                            m.extra["precision"] >= PRECISION_TARGET,
                            f"{m.extra['precision']:.5f} over {m.extra['links']:,} links"))
    best = max(one, two, key=lambda m: m.items_per_s)
    ratio1 = one.items_per_s / datasketch.items_per_s if datasketch.items_per_s else 0.0
    ratio2 = two.items_per_s / datasketch.items_per_s if datasketch.items_per_s else 0.0
    checks.append(Check(f"newstrace at least {SPEEDUP_TARGET:.0f}x datasketch's articles/s",
                        max(ratio1, ratio2) >= SPEEDUP_TARGET,
                        f"{ratio1:.1f}x with 1 worker, {ratio2:.1f}x with 2"))
    worse = [k for k in KINDS if best.extra["recall"].get(k, 0) < datasketch.extra["recall"].get(k, 0)]
    checks.append(Check("newstrace recall at least datasketch's for every kind", not worse,
                        "lower for " + ", ".join(worse) if worse else ""))
    per_doc = {m.label: m.peak_tree_rss_mib * 1024 * 1024 / ctx.n for m in measurements}
    checks.append(Check("newstrace uses no more memory per article than datasketch (peak RSS, all processes)",
                        max(per_doc[one.label], per_doc[two.label]) <= per_doc[datasketch.label],
                        ", ".join(f"{m.label} {per_doc[m.label] / 1000:.1f} kB" for m in (one, two, datasketch))))

    figures = [
        f"Input: {ctx.n:,} articles, {ctx.stream_bytes / MB:,.1f} MB of JSONL, generated with seed {ctx.seed}; "
        + ", ".join(f"{v:,} {k}" for k, v in sorted(one.extra.get("derived", {}).items())) + " derived articles.",
        f"Throughput newstrace / datasketch: {ratio1:.1f}x with 1 worker, {ratio2:.1f}x with 2 workers "
        f"(articles/s over articles/s).",
        "Memory per article (peak RSS of all processes / articles): " + ", ".join(
            f"{m.label.split(' (')[0]} {per_doc[m.label] / 1000:.1f} kB" for m in measurements) + ".",
        "Labels newstrace gave (gold kind -> relation): " + ", ".join(
            f"{k} {v:,}" for k, v in one.extra.get("labels", {}).items()) + ".",
    ]
    notes = [
        "Every tool reads the same JSONL and decodes it with the standard json module in its own process; "
        "the MinHash tools take the stream in file order (it is in date order), newstrace checks the order "
        "itself (one quick pass over the dates) before its pass.",
        "datasketch and rensa are used as their documentation shows and a user starts: one MinHash per article, "
        "query, then insert; the earliest candidate is taken without checking its similarity. datasketch's "
        "`update_batch` is used (5x faster than `update` per shingle); rensa's LSH needs the 128 permutations "
        "to divide into bands, so it runs 32 bands of 4 rows (50 % point of its S-curve at Jaccard 0.42, "
        "against 0.52 for datasketch's 25 x 5), which favours its recall and costs its precision.",
        "The NumPy MinHash (bench/minhash_numpy.py) was written to measure the choice the issue asks about: "
        "its shingle hashes come from Python's hash of each word combined in NumPy, the 128 permutations are "
        "32-bit affine maps applied to a batch of 500 articles at once, its LSH keeps the first article per "
        "bucket. newstrace does not use MinHash: a 5-word-shingle sketch cannot tell a copy from an excerpt or "
        "an edit, nor name the earliest article of a family; the sentence keys of newstrace.dedup.stream do "
        "both and are cheaper to compute than 128 permutations of ~480 shingles.",
        "Recall: share of derived articles of each gold kind whose duplicate_of is in their family (the gold "
        "origin or another article derived from it). Precision: share of all links (duplicate_of not null, "
        "originals included) that are in the article's family.",
        "Each figure is one run, not an average. 'other load' is the CPU the rest of the machine used during "
        "the run: on this 2-core machine, 1.0 means another process had a core to itself, and the 2-worker "
        "figure is then not what an idle machine gives.",
    ]
    return StageResult(
        stage=STAGE, title=TITLE, n=ctx.n, input_bytes=ctx.stream_bytes, measurements=measurements,
        columns=[
            *[(f"recall {k}", (lambda m, k=k: f"{m.extra['recall'].get(k, 0):.4f}")) for k in KINDS],
            ("precision", lambda m: f"{m.extra['precision']:.5f}"),
            ("links", lambda m: f"{m.extra['links']:,}"),
            ("MiB per 1k articles", lambda m: f"{m.peak_tree_rss_mib / ctx.n * 1000:.2f}"),
        ],
        figures=figures, checks=checks, notes=notes,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", choices=TOOLS, help="run one MinHash tool as a child (with --stream, --out)")
    ap.add_argument("--stream")
    ap.add_argument("--out")
    add_alone_options(ap, 5000)
    args = ap.parse_args()
    if args.tool:
        if not (args.stream and args.out):
            ap.error("--tool needs --stream and --out")
        return run_tool(args.tool, args.stream, args.out)
    # alone: the same as run_bench.py --stages STAGE --no-docs, on a smaller stream
    return run_alone(run, args)


if __name__ == "__main__":
    sys.exit(main())

"""Run the benchmarks: ``make bench`` runs ``bench/run_bench.py --shared ../shared --n 100000``.

1. Generates the labelled news stream with ``<shared>/bench/make_stream.py --n N --seed SEED`` into
   bench/out/ (reused while N, seed and the generator are unchanged).
2. Runs every stage benchmark that exists, ``bench/bench_<stage>.py`` (see benchlib.py for the
   interface), in pipeline order.
3. Prints a table per stage, writes bench/out/results-<stage>.json, and rewrites each stage's
   section of docs/BENCHMARKS.md (other sections are kept) with the figures, the date, the machine
   and the command.
Exit status: 0 when every run succeeded and every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from benchlib import (
    BENCH_DIR,
    MB,
    PINNED,
    ROOT,
    Context,
    StageResult,
    code_version,
    machine,
    markdown_table,
    pin_source,
    print_result,
    sha256_file,
    today,
    unpin_source,
    write_json,
)

#: pipeline order; benchmarks of other stages run after these, by name
ORDER = ["ingest", "dedup", "cluster", "attribution", "compare"]
DOCS = ROOT / "docs" / "BENCHMARKS.md"

HEADER = """# Benchmarks

How the figures here are produced:

- **Throughput** — `make bench` runs `bench/run_bench.py --shared ../shared --n 100000`. It generates a
  labelled news stream with `../shared/bench/make_stream.py` (seed 7; cached in `bench/out/`), copies
  `src/` so that every run measures the same source, runs each stage benchmark `bench/bench_<stage>.py`
  (the real commands, timed as child processes; before each run it waits up to `--settle` seconds for
  other processes to go quiet; `--repeat K` keeps the fastest of K runs), and rewrites that stage's
  section below with the figures, the date, the machine, the source version and the command. Sections
  it did not run are left as they are.
- **Accuracy** — `make eval` scores newstrace on `../shared/data` with the scorers in `../shared/eval`
  (`eval/run_eval.py` writes those sections).

Only measured figures appear here; every section says when, on what machine and with what command.
"""


def _stages(selected: list[str] | None) -> list[str]:
    found = sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))
    ordered = [s for s in ORDER if s in found] + [s for s in found if s not in ORDER]
    if selected:
        unknown = [s for s in selected if s not in found]
        if unknown:
            sys.exit(f"no benchmark for {', '.join(unknown)} (have: {', '.join(ordered)})")
        ordered = [s for s in ordered if s in selected]
    return ordered


def make_stream(shared: Path, out: Path, n: int, seed: int, python: str) -> tuple[Path, Path]:
    """The stream and gold files for (n, seed), generated unless a complete copy is cached."""
    generator = shared / "bench" / "make_stream.py"
    if not generator.exists():
        sys.exit(f"no stream generator at {generator}")
    stem = f"stream-n{n}-seed{seed}"
    stream, gold, meta_path = out / f"{stem}.jsonl", out / f"gold-n{n}-seed{seed}.jsonl", out / f"{stem}.json"
    gen_hash = sha256_file(generator)
    if stream.exists() and gold.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if (meta.get("n"), meta.get("seed"), meta.get("stream_bytes")) == (n, seed, stream.stat().st_size):
            if meta.get("generator_sha256") == gen_hash:
                print(f"stream: reusing {stream.relative_to(ROOT)} ({n:,} articles, seed {seed})")
                return stream, gold
            print("stream: the generator changed since the cached stream was made; generating again")
    tmp_stream, tmp_gold = stream.with_suffix(".jsonl.part"), gold.with_suffix(".jsonl.part")
    cmd = [python, str(generator), "--n", str(n), "--seed", str(seed), "--out", str(tmp_stream),
           "--gold", str(tmp_gold)]
    print(f"stream: generating {n:,} articles (seed {seed}): {shlex.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - t0
    tmp_gold.replace(gold)
    tmp_stream.replace(stream)
    write_json(meta_path, {"n": n, "seed": seed, "generator": str(generator), "generator_sha256": gen_hash,
                           "stream_bytes": stream.stat().st_size, "seconds": round(seconds, 1)})
    print(f"stream: {stream.stat().st_size / MB:,.1f} MB in {seconds:,.0f} s", flush=True)
    return stream, gold


# ----------------------------------------------------------------------------- docs
def _invocation() -> str:
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    if argv and Path(argv[0]).is_absolute():
        with contextlib.suppress(ValueError):
            argv[0] = str(Path(argv[0]).relative_to(ROOT))
    return shlex.join(argv)


def section(result: StageResult, when: str, box: dict[str, str], command: str) -> str:
    status = "all checks passed" if result.ok else "**SOME RUNS OR CHECKS FAILED**"
    versions = sorted({m.code for m in result.measurements})
    how = "a copy of src/ taken when the benchmark started" if PINNED else "the working tree as it was"
    lines = [
        f"<!-- bench:{result.stage} (written by bench/run_bench.py; edits here are overwritten) -->",
        f"## {result.title}",
        "",
        f"Measured {when} on {box['nproc']} cores ({box['cpu']}), {box['memory']} RAM, {box['os']}, "
        f"Python {box['python']}, SQLite {box['sqlite']}; {result.n:,} articles; {status}. "
        f"newstrace source: {', '.join(versions)} ({how}).",
        "",
        f"Command: `{command}`" + (" (run by `make bench`)" if os.environ.get("MAKELEVEL") else ""),
        "",
        markdown_table(result),
        "",
        "Columns: wall time of the whole command; articles and input megabytes (10^6 bytes) per second of "
        "wall time; CPU time of the command and its worker processes; peak resident memory of its main "
        "process and of all its processes together (both sampled every 0.1 s from /proc: a forked child's "
        "ru_maxrss would include the benchmark's own memory); the CPU other processes used meanwhile, in cores (from /proc/stat; before each run "
        "the benchmark waits for it to fall under 0.25).",
        "",
    ]
    lines += [f"- {f}" for f in result.figures]
    lines += [f"- **Warning:** {w}" for w in result.warnings()]
    lines += ["", "Checks:", ""]
    lines += [f"- {'pass' if c.ok else 'FAIL'}: {c.name}" + (f" — {c.detail}" if c.detail else "")
              for c in result.checks]
    lines += ["", "Commands timed (from the repository root):", ""]
    lines += [f"- {m.label}: `{m.command_text()}`" for m in result.measurements]
    if result.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {n}" for n in result.notes]
    lines += ["", f"<!-- /bench:{result.stage} -->"]
    return "\n".join(lines)


def update_docs(results: list[StageResult], when: str, box: dict[str, str], command: str) -> None:
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else HEADER
    if "How the figures here are produced" not in text:  # made by someone else (make eval): add the header
        body = text[len("# Benchmarks"):] if text.startswith("# Benchmarks") else "\n" + text
        text = HEADER.rstrip("\n") + "\n" + body
    for r in results:
        new = section(r, when, box, command)
        pattern = re.compile(rf"<!-- bench:{re.escape(r.stage)}[ >].*?<!-- /bench:{re.escape(r.stage)} -->",
                             re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _m, new=new: new, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + new + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    print(f"\nwrote {os.path.relpath(DOCS, ROOT)}")


def _jsonable(result: StageResult) -> dict[str, object]:
    d = dataclasses.asdict(dataclasses.replace(result, columns=[]))
    d.pop("columns")
    for m, md in zip(result.measurements, d["measurements"], strict=True):
        md["items_per_s"] = round(m.items_per_s, 1)
        md["mb_per_s"] = round(m.mb_per_s, 3)
    return d


# ----------------------------------------------------------------------------- main
def main() -> int:
    try:
        return _main()
    finally:
        unpin_source()


def _main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared folder")
    ap.add_argument("--n", type=int, default=100_000, help="articles in the stream")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--stages", default="", help="comma-separated stages to run (default: all that exist)")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/BENCHMARKS.md")
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed runs per measurement; the fastest is reported")
    ap.add_argument("--live-source", action="store_true",
                    help="run the working tree's src/ as it is at each moment, not a copy taken at the start")
    ap.add_argument("--settle", type=float, default=300.0,
                    help="seconds to wait before each timed run for other processes to go quiet (0: don't)")
    args = ap.parse_args()

    out = BENCH_DIR / "out"
    out.mkdir(parents=True, exist_ok=True)
    shared = args.shared if args.shared.is_absolute() else (Path.cwd() / args.shared)
    bindir = Path(sys.executable).parent
    newstrace = bindir / "newstrace"
    if not newstrace.exists():
        sys.exit(f"no newstrace command next to {sys.executable}: run `make setup` first")
    stages = _stages([s.strip() for s in args.stages.split(",") if s.strip()] or None)
    command, when, box = _invocation(), today(), machine()
    print(f"{when}; {box['nproc']} cores, {box['cpu']}; stages: {', '.join(stages)}")

    if args.live_source:
        print(f"source: the working tree, live ({code_version()} now)")
    else:
        print(f"source: {pin_source(out)} (src/ copied to {Path(PINNED['dir']).relative_to(ROOT)}; "
              "every run imports newstrace from that copy)")
    stream, gold = make_stream(shared.resolve(), out, args.n, args.seed, sys.executable)
    ctx = Context(root=ROOT, shared=shared.resolve(), out=out, n=args.n, seed=args.seed, stream=stream,
                  gold=gold, python=Path(sys.executable), newstrace=newstrace,
                  settle=args.settle, repeat=max(1, args.repeat))

    results: list[StageResult] = []
    for stage in stages:
        module = importlib.import_module(f"bench_{stage}")
        print(f"\n== {module.TITLE} ({args.n:,} articles)", flush=True)
        result: StageResult = module.run(ctx)
        results.append(result)
        print_result(result)
        write_json(out / f"results-{stage}.json",
                   {"when": when, "machine": box, "command": command, "pinned_source": bool(PINNED),
                    **_jsonable(result)})

    if not args.no_docs and results:
        update_docs(results, when, box, command)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

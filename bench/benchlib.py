"""Shared pieces of the benchmarks: the context, the common result shape, timing of child processes.

Every stage benchmark is a module ``bench/bench_<stage>.py`` with

    STAGE = "ingest"          # short name, also the key of its section in docs/BENCHMARKS.md
    TITLE = "Ingest"          # heading of that section
    def run(ctx: Context) -> StageResult

``run_bench.py`` finds the modules, runs them in order, prints each result as a table and rewrites
each one's section of docs/BENCHMARKS.md. A benchmark measures whole programs as child processes
(:func:`run_child`), so wall time, CPU time and peak memory are those of the real command.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1_000_000  # throughput and sizes are in decimal megabytes
MIB = 1024 * 1024  # memory is in MiB


# ----------------------------------------------------------------------------- context
@dataclass
class Context:
    """What every benchmark gets: the generated stream and where to put its files."""

    root: Path  # the repository
    shared: Path
    out: Path  # bench/out: stream, stores, scratch files
    n: int
    seed: int
    stream: Path  # JSONL news stream, n articles
    gold: Path  # its labels (id, origin, kind)
    python: Path  # the venv's interpreter
    newstrace: Path  # the venv's newstrace command
    settle: float = 0.0  # seconds to wait, before each timed run, for other processes to go quiet
    repeat: int = 1  # timed runs per measurement; the fastest is reported (see best_of)
    #: files a benchmark leaves for later ones (e.g. "ingest_db": a store holding the whole stream)
    artifacts: dict[str, Path] = field(default_factory=dict)

    @property
    def stream_bytes(self) -> int:
        return self.stream.stat().st_size

    def rel(self, p: Path | str) -> str:
        """A path as it is written in a command run from the repository root."""
        p = Path(p)
        try:
            return os.path.relpath(p, self.root)
        except ValueError:
            return str(p)


# ----------------------------------------------------------------------------- result shape
@dataclass
class Measurement:
    """One timed run of one command over the stream."""

    label: str  # e.g. "newstrace ingest, 1 worker"
    command: list[str]  # as run, from the repository root
    items: int  # articles processed
    input_bytes: int
    wall_s: float
    cpu_s: float  # user + system of the child and all its descendants (waited for or sampled)
    peak_rss_mib: float  # the main process (sampled from /proc)
    peak_tree_rss_mib: float  # all processes of the run together (sampled from /proc)
    returncode: int
    #: CPU the rest of the machine used during the run, in cores (busy time from /proc/stat minus this
    #: run's and the benchmark's own); above ~0.25 the figures are not those of an idle machine
    other_load: float = 0.0
    code: str = ""  # the newstrace source measured: git commit, "+dirty" with uncommitted changes in src
    code_changed: bool = False  # the source changed while the run went on
    extra: dict[str, Any] = field(default_factory=dict)  # stage-specific figures (store size, counts)

    @property
    def items_per_s(self) -> float:
        return self.items / self.wall_s if self.wall_s else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.input_bytes / MB / self.wall_s if self.wall_s else 0.0

    def command_text(self) -> str:
        return shlex.join(self.command)


@dataclass
class Check:
    """A yes/no fact a benchmark verified along the way (idempotence, equal outputs...)."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class StageResult:
    """What a stage benchmark returns; run_bench renders it to the console and to the docs."""

    stage: str
    title: str
    n: int
    input_bytes: int
    measurements: list[Measurement]
    #: extra columns: (header, function of a Measurement -> cell text)
    columns: list[tuple[str, Any]] = field(default_factory=list)
    #: summary lines such as "newstrace / baseline throughput: 0.4"
    figures: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and all(m.returncode == 0 for m in self.measurements)

    def warnings(self) -> list[str]:
        """What makes the figures less trustworthy: a busy machine, source changing under the runs."""
        out = []
        busy = [m for m in self.measurements if m.other_load >= QUIET]
        if busy:
            out.append("other processes kept the machine busy during " + ", ".join(
                f"{m.label} ({m.other_load:.2f} cores)" for m in busy) + "; those figures are lower than on "
                "an idle machine")
        versions = sorted({m.code for m in self.measurements})
        if len(versions) > 1:
            out.append("the newstrace source differed between runs: " + "; ".join(
                f"{m.label}: {m.code}" for m in self.measurements))
        changed = [m.label for m in self.measurements if m.code_changed]
        if changed:
            out.append("the newstrace source changed while these ran: " + ", ".join(changed))
        return out


def base_columns() -> list[tuple[str, Any]]:
    return [
        ("run", lambda m: m.label),
        ("wall s", lambda m: f"{m.wall_s:,.1f}"),
        ("articles/s", lambda m: f"{m.items_per_s:,.0f}"),
        ("MB/s", lambda m: f"{m.mb_per_s:,.2f}"),
        ("CPU s", lambda m: f"{m.cpu_s:,.1f}"),
        ("peak RSS MiB, main process", lambda m: f"{m.peak_rss_mib:,.0f}"),
        ("peak RSS MiB, all processes", lambda m: f"{m.peak_tree_rss_mib:,.0f}"),
        ("other load, cores", lambda m: f"{m.other_load:.2f}"),
    ]


def table_rows(result: StageResult) -> tuple[list[str], list[list[str]]]:
    cols = base_columns() + result.columns
    return [h for h, _ in cols], [[str(f(m)) for _, f in cols] for m in result.measurements]


def print_result(result: StageResult) -> None:
    """Print a stage's table, figures, checks and warnings to stdout."""
    print("\n" + console_table(result))
    for line in result.figures:
        print(f"  {line}")
    for c in result.checks:
        print(f"  {'pass' if c.ok else 'FAIL'}: {c.name}" + (f" ({c.detail})" if c.detail else ""))
    for w in result.warnings():
        print(f"  warning: {w}")


def console_table(result: StageResult) -> str:
    headers, rows = table_rows(result)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.rjust(w) if i else c.ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out)


def markdown_table(result: StageResult) -> str:
    headers, rows = table_rows(result)
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join(":--" if i == 0 else "--:" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


# ----------------------------------------------------------------------------- machine load, code version
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: other load (cores) under which the machine counts as quiet
QUIET = 0.25


def cpu_busy() -> float:
    """CPU seconds the whole machine has been busy (user, nice, system, irq, softirq) since boot."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / CLK_TCK


def self_cpu() -> float:
    """CPU seconds of this benchmark process (all its threads; not its children)."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def other_load(seconds: float = 2.0) -> float:
    """Cores the rest of the machine keeps busy, measured over ``seconds``."""
    b0, s0, t0 = cpu_busy(), self_cpu(), time.perf_counter()
    time.sleep(seconds)
    return max(0.0, (cpu_busy() - b0 - (self_cpu() - s0)) / (time.perf_counter() - t0))


def wait_for_quiet(max_wait: float, threshold: float = QUIET) -> float:
    """Wait (up to ``max_wait`` seconds) until other processes use less than ``threshold`` cores."""
    load = other_load()
    deadline = time.perf_counter() + max_wait
    if load >= threshold and max_wait > 0:
        print(f"    waiting for a quiet machine: other processes use {load:.2f} cores", flush=True)
    while load >= threshold and time.perf_counter() < deadline:
        load = other_load(5.0)
    if load >= threshold and max_wait > 0:
        print(f"    still {load:.2f} cores busy after {max_wait:.0f} s; measuring anyway", flush=True)
    return load


def code_version(root: Path = ROOT) -> str:
    """The newstrace source being measured: commit, plus a digest of uncommitted changes under src/."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                  check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    head = git("rev-parse", "--short=12", "HEAD").strip() or "unknown"
    changes = git("status", "--porcelain", "--", "src", "pyproject.toml")
    if not changes.strip():
        return head
    diff = git("diff", "HEAD", "--", "src", "pyproject.toml")
    untracked = [line[3:] for line in changes.splitlines() if line.startswith("??")]
    h = hashlib.sha256(diff.encode())
    for rel in untracked:
        for p in sorted((root / rel).rglob("*")) if (root / rel).is_dir() else [root / rel]:
            if p.is_file():
                h.update(p.read_bytes())
    return f"{head}+dirty:{h.hexdigest()[:8]}"


# ----------------------------------------------------------------------------- pinned source
#: set by :func:`pin_source`: the copy of src/ every child runs, and its version
PINNED: dict[str, str] = {}


def pin_source(out: Path, root: Path = ROOT) -> str:
    """Copy src/ to ``out``/source-PID and make every child process import newstrace from there.

    The benchmark then measures one version of the code from start to end, even while src/ is
    being edited (the commands stay the same: PYTHONPATH puts the copy ahead of the editable
    install). Returns the version copied; :func:`unpin_source` removes the copy."""
    dest = out / f"source-{os.getpid()}"
    for _ in range(5):
        before = code_version(root)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(root / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        if code_version(root) == before:
            break
        time.sleep(2)  # src changed under the copy: take it again
    else:
        raise RuntimeError("src/ keeps changing; cannot take a consistent copy")
    PINNED.update(version=before, pythonpath=str(dest / "src"), dir=str(dest))
    return before


def unpin_source() -> None:
    if PINNED:
        shutil.rmtree(PINNED["dir"], ignore_errors=True)
        PINNED.clear()


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    out = {**os.environ, **(env or {})}
    if PINNED:
        out["PYTHONPATH"] = os.pathsep.join(p for p in (PINNED["pythonpath"], out.get("PYTHONPATH")) if p)
    return out


# ----------------------------------------------------------------------------- running a child
def _tree_sample(root_pid: int) -> tuple[int, dict[int, float]]:
    """Resident bytes of a process and all its descendants, now, and each one's own CPU seconds so far."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the fields after the last ")" are fixed
        fields = stat[stat.rfind(b")") + 2:].split()
        parent[int(entry.name)] = int(fields[1])
        # utime and stime only: cutime would count a waited-for child a second time
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    pids, frontier = {root_pid}, [root_pid]
    while frontier:
        p = frontier.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in pids:
                pids.add(child)
                frontier.append(child)
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total, {p: cpu[p] for p in pids if p in cpu}


def run_child(label: str, command: Sequence[str | os.PathLike[str]], *, items: int, input_bytes: int,
              cwd: Path = ROOT, timeout: float = 6 * 3600, sample_every: float = 0.1,
              env: dict[str, str] | None = None, settle: float = 0.0) -> Measurement:
    """Run ``command`` to its end and measure it: wall and CPU time, peak memory (one process, and the
    whole process tree sampled every ``sample_every`` seconds), the load other processes put on the
    machine meanwhile, and the source version. First waits up to ``settle`` seconds for the machine to
    be quiet. The command's output goes to a log in bench/out/logs."""
    cmd = [str(c) for c in command]
    if settle > 0:
        wait_for_quiet(settle)
    log = BENCH_DIR / "out" / "logs" / (label.replace(" ", "_").replace(",", "").replace("/", "-") + ".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_tree = peak_root = 0
    # CPU seconds of every process seen in the tree: Ray's workers are children of its raylet, which
    # the command never waits for, so wait4's rusage alone would leave them out (and count them as
    # "other load")
    tree_cpu: dict[int, float] = {}
    stop = threading.Event()
    code = PINNED.get("version") or code_version()
    busy0, self0 = cpu_busy(), self_cpu()
    with open(log, "wb") as logf:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=logf, stderr=subprocess.STDOUT, env=child_env(env))

        def sample() -> None:
            nonlocal peak_tree, peak_root
            while not stop.is_set():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    rss, cpu = _tree_sample(proc.pid)
                    peak_tree = max(peak_tree, rss)
                    for p, c in cpu.items():
                        tree_cpu[p] = max(tree_cpu.get(p, 0.0), c)
                    with open(f"/proc/{proc.pid}/statm", "rb") as f:
                        peak_root = max(peak_root, int(f.read().split()[1]) * PAGE)
                stop.wait(sample_every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = start + timeout
        while True:
            # wait4 gives the rusage of this one child (and of what it waited for), not of all children
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        busy1 = cpu_busy()
        stop.set()
        sampler.join()
        self1 = self_cpu()
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    rc = proc.returncode
    # the sampled tree misses up to one sampling interval per process; wait4 misses the unwaited
    child_cpu = max(usage.ru_utime + usage.ru_stime, sum(tree_cpu.values()))
    code_after = PINNED.get("version") or code_version()
    if rc not in (0,):
        tail = log.read_text(errors="replace")[-2000:]
        print(f"  ! {label}: exit status {rc}; end of {log}:\n{tail}", file=sys.stderr)
    return Measurement(
        label=label,
        command=[_display(c) for c in cmd],
        items=items,
        input_bytes=input_bytes,
        wall_s=wall,
        cpu_s=child_cpu,
        # sampled, not ru_maxrss: a forked child's ru_maxrss starts at the parent's RSS at fork time,
        # so a large benchmark process would show up in every child's figure
        peak_rss_mib=peak_root / MIB,
        peak_tree_rss_mib=peak_tree / MIB,
        returncode=rc,
        other_load=max(0.0, (busy1 - busy0 - child_cpu - (self1 - self0)) / wall) if wall else 0.0,
        code=code,
        code_changed=code_after != code,
    )


def _display(arg: str) -> str:
    p = Path(arg)
    if p.is_absolute() and (p == ROOT or ROOT in p.parents):
        return os.path.relpath(p, ROOT)
    return arg


def best_of(runs: Sequence[Measurement]) -> Measurement:
    """The fastest of several runs of one measurement, with every run's wall time in ``extra["walls"]``.
    Interference only ever slows a run down, so the fastest of a few is the best estimate of the
    machine's own speed."""
    best = min(runs, key=lambda m: (m.returncode != 0, m.wall_s))
    best.extra["walls"] = [round(m.wall_s, 1) for m in runs]
    if any(m.returncode != 0 for m in runs):
        best.returncode = next(m.returncode for m in runs if m.returncode != 0)
    return best


# ----------------------------------------------------------------------------- files and machine
def remove_db(path: Path) -> None:
    """Delete an SQLite store and its WAL files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def db_size(path: Path) -> int:
    return sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists())


def query(db: Path, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, args).fetchall()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu_model(),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def today() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


# ----------------------------------------------------------------------------- a benchmark on its own
def add_alone_options(ap: Any, n: int) -> None:
    """The options of a stage benchmark run on its own: stream size and seed, the shared folder, settling."""
    ap.add_argument("--n", type=int, default=n, help="articles in the stream")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--settle", type=float, default=0.0)


def run_alone(run: Any, args: Any) -> int:
    """``run`` on the stream of ``args.n`` articles: ``run_bench.py --stages STAGE --no-docs``, smaller."""
    import run_bench  # here, not at the top: run_bench imports this module

    out = BENCH_DIR / "out"
    out.mkdir(parents=True, exist_ok=True)
    stream, gold = run_bench.make_stream(args.shared.resolve(), out, args.n, args.seed, sys.executable)
    ctx = Context(root=ROOT, shared=args.shared.resolve(), out=out, n=args.n, seed=args.seed, stream=stream,
                  gold=gold, python=Path(sys.executable), newstrace=Path(sys.executable).parent / "newstrace",
                  settle=args.settle)
    result = run(ctx)
    print_result(result)
    return 0 if result.ok else 1


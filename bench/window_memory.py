"""Peak memory and time of the story_windows task, one window per fresh process, on a batch output folder.

    PYTHONPATH=src python bench/window_memory.py OUT [--window W ...] [--keep DIR] [--src DIR]

OUT is a finished (or partly finished: up to relate) `newstrace batch` folder. Each window runs
:func:`newstrace.batch.stories.window_job` alone in a child process; the peak is the rise of the
process's resident set (VmHWM, reset after the imports) over what the imports left, so the fixed cost of
Python, NumPy and SciPy is not counted. The bytes per article are the slope of a least-squares line
through (articles, peak) over the windows, so what every window pays once does not count either.
``--keep DIR`` copies each window's output (its owned stories as ranks) there, and ``--src DIR`` runs
the tasks on another checkout's ``src`` (e.g. one of an earlier commit, from ``git archive``): to compare
two versions on the same folder (give each its own copy of the folder: the tasks write into it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np, scipy.sparse, scipy.sparse.csgraph, pyarrow.parquet  # the fixed cost, before the baseline
from newstrace.batch import stories as st
from newstrace.batch.stages import part_path

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

out, w, shards = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident set
base = status("VmRSS")
t0, c0 = time.perf_counter(), time.process_time()
_paths, info = st.window_job({"out": out, "window": w, "shards": shards})
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"window": w, "articles": info["articles"], "stories": info["stories"],
                  "peak": status("VmHWM") - base, "wall": wall, "cpu": cpu}))
"""


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's newstrace plans the windows, whatever --src runs them


def windows_of_run(out: Path) -> list[tuple[int, list[str]]]:
    """The windows a batch run plans on ``out`` and the shards each reads (as the engine chooses them)."""
    from newstrace.batch import stories as st

    parts = [(p.stem, json.loads(p.read_text())["summary"].get("days", {}))
             for p in sorted((out / "_manifest" / "prepare").glob("*.json"))]
    day_counts, undated, shards_of = st.window_shards(parts)
    return [(w, shards_of[w]) for w in st.plan_windows(day_counts, undated, "on")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--window", type=int, nargs="*", help="only these windows (default: every planned one)")
    ap.add_argument("--keep", type=Path, help="copy each window's owned stories (npz) into this folder")
    ap.add_argument("--src", type=Path, help="run the tasks on this src folder (default: this checkout's)")
    args = ap.parse_args()
    from newstrace.batch import stories as st
    from newstrace.batch.stages import part_path

    rows = []
    for w, shards in windows_of_run(args.out):
        if args.window and w not in args.window:
            continue
        env = dict(os.environ, PYTHONPATH=str((args.src or ROOT / "src").resolve()))
        res = subprocess.run([sys.executable, "-c", CHILD, str(args.out), str(w), json.dumps(shards)],
                             check=True, capture_output=True, text=True, env=env)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"window {w}: {r['articles']} articles, {r['stories']} stories owned, peak +{r['peak'] / 2**20:.1f} MiB "
              f"({r['peak'] / max(1, r['articles']):,.0f} B/article), {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU "
              f"({1000 * r['cpu'] / max(1, r['articles']):.2f} ms CPU/article)", flush=True)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(part_path(args.out, "story_windows", st.window_name(w), "npz"), args.keep)
    if len(rows) >= 2:
        import numpy as np

        x = np.array([r["articles"] for r in rows], float)
        y = np.array([r["peak"] for r in rows], float)
        slope, icpt = np.polyfit(x, y, 1)
        print(f"slope: {slope:,.0f} B per article (intercept {icpt / 2**20:.1f} MiB); "
              f"CPU {1000 * sum(r['cpu'] for r in rows) / x.sum():.2f} ms per (article, window)")


if __name__ == "__main__":
    main()

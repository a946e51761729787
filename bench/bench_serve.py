"""Web benchmark: ``newstrace serve`` on a store of the whole stream, driven over loopback by a load
client in a second process, against Datasette serving the same SQLite file.

Store: the stream ingested and analysed once (``newstrace ingest`` + ``analyse``), cached in bench/out
as serve-<stream sha256>.db, so reruns start at once.
Runs, each a bounded number of requests by ``python bench/bench_serve.py --client`` (threads, one
keep-alive http.client connection each):
  newstrace pages      /, /stories/ID, /articles/ID, /compare?a&b, /speakers/NAME, /search?q
  newstrace API        /api/stories, /api/stories/ID, /api/articles/ID, /api/quotes?speaker, /api/search
  datasette pages      the equivalent views a user would open in Datasette: the stories table sorted by
                       date, a story's row, an article's row, the quotes table filtered by speaker, and
                       FTS search on articles (Datasette finds migration 5's articles_fts itself)
  datasette JSON       the same as JSON
Checks: every response is 200; p99 of every newstrace page under 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

STAGE = "serve"
TITLE = "Web app and HTTP API (newstrace serve)"
#: page answers must come back within this at p99 (the issue's target)
P99_TARGET_MS = 100.0
PER_ENDPOINT = 300  # requests per endpoint kind in one run
PER_ENDPOINT_BASELINE = 60  # Datasette takes seconds on some views: fewer requests, same choices
CONCURRENCY = 2  # one connection per core of the 2-core machine the figures are for


# ----------------------------------------------------------------------------- the load client
def client_main(argv: list[str]) -> int:
    """Run a request plan against a server; write latencies per endpoint kind as JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True, help="base URL, http://127.0.0.1:PORT")
    ap.add_argument("--plan", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = ap.parse_args(argv)
    plan = json.loads(args.plan.read_text(encoding="utf-8"))
    host, port = args.client.removeprefix("http://").split(":")
    lock = threading.Lock()

    def drive(requests: list[list[str]], record: bool) -> dict[str, object]:
        lat: dict[str, list[float]] = {}
        status: Counter[str] = Counter()
        nbytes = 0
        nxt = iter(range(len(requests)))

        def worker() -> None:
            nonlocal nbytes
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    break
                kind, path = requests[i]
                t0 = time.perf_counter()
                try:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    body = resp.read()
                    code = resp.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=60)
                    body, code = b"", 0
                dt = time.perf_counter() - t0
                with lock:
                    lat.setdefault(kind, []).append(dt)
                    status[f"{kind} {code}"] += 1
                    nbytes += len(body)
            conn.close()

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        return {"wall_s": wall, "bytes": nbytes, "status": dict(status),
                "latency_s": {k: sorted(v) for k, v in lat.items()}} if record else {}

    drive(plan["warmup"], record=False)  # a first touch of every kind: page cache, templates, connections
    result = drive(plan["requests"], record=True)
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


# ----------------------------------------------------------------------------- the benchmark
def _pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hwm_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def build_store(ctx, run_child, query, sha256_file) -> Path:
    """The stream ingested and analysed: cached as bench/out/serve-<sha256 of the stream>.db."""
    key = sha256_file(ctx.stream)[:12]
    db = ctx.out / f"serve-{key}.db"
    if db.exists():
        print(f"  store: reusing {ctx.rel(db)}", flush=True)
        return db
    part = ctx.out / f"serve-{key}.part.db"
    for s in ("", "-wal", "-shm"):
        Path(str(part) + s).unlink(missing_ok=True)
    print(f"  store: ingesting and analysing {ctx.n:,} articles into {ctx.rel(db)} (once per stream)", flush=True)
    for label, cmd in (("serve store: ingest", [ctx.newstrace, "--db", part, "--quiet", "ingest", ctx.stream]),
                       ("serve store: analyse", [ctx.newstrace, "--db", part, "--quiet", "analyse"])):
        m = run_child(label, cmd, items=ctx.n, input_bytes=ctx.stream_bytes)
        print(f"    {label}: {m.wall_s:.0f} s, exit {m.returncode}", flush=True)
        if m.returncode != 0:
            raise RuntimeError(f"{label} failed (exit {m.returncode})")
    query(part, "PRAGMA wal_checkpoint(TRUNCATE)")
    part.replace(db)
    return db


def make_plan(db: Path, query, *, prefix: str, per: int, seed: int) -> dict[str, list[list[str]]]:
    """Request lists for each server: sampled story, article, speaker and word choices, the same for all."""
    rng = random.Random(seed)
    def sample(sql: str, table: str, key: str, k: int) -> list[tuple]:
        """Rows of ``sql`` (``... WHERE key IN (a JSON list)``) for k random keys up to the table's largest."""
        n = query(db, f"SELECT MAX({key}) FROM {table}")[0][0] or 0
        keys = json.dumps([rng.randint(1, n) for _ in range(k)]) if n else "[]"
        return query(db, sql, (keys,))

    each = "IN (SELECT value FROM json_each(?))"
    stories = [r[0] for r in sample(f"SELECT id FROM stories WHERE rowid {each}", "stories", "rowid", per)]
    arts = [r[0] for r in sample(f"SELECT id FROM articles WHERE seq {each}", "articles", "seq", per)]
    pairs = sample(f"SELECT origin, derived FROM relations WHERE rowid {each}", "relations", "rowid", per)
    speakers = [r[0] for r in query(
        db, "SELECT speaker FROM quotes WHERE speaker IS NOT NULL GROUP BY speaker ORDER BY COUNT(*) DESC LIMIT 60")]
    heads = [r[0] or "" for r in sample(f"SELECT headline FROM articles WHERE seq {each}", "articles", "seq", 200)]
    words = sorted({w for h in heads for w in re.findall(r"[A-Za-z]{6,}", h)})
    rng.shuffle(words)
    words = words[:60] or ["report"]

    def pick(xs: list, i: int):
        return xs[i % len(xs)] if xs else None

    plans: dict[str, dict[str, list[tuple[str, str]]]] = {"pages": {}, "api": {}, "ds_html": {}, "ds_json": {}}
    for i in range(per):
        s, a, p, sp, w = pick(stories, i), pick(arts, i), pick(pairs, i), pick(speakers, i), pick(words, i)
        plans["pages"].setdefault("stories", []).append("/")
        plans["pages"].setdefault("story", []).append(f"/stories/{quote(s)}")
        plans["pages"].setdefault("article", []).append(f"/articles/{quote(a)}")
        if p:
            plans["pages"].setdefault("compare", []).append(f"/compare?a={p[0]}&b={p[1]}")
        if sp:
            plans["pages"].setdefault("speaker", []).append(f"/speakers/{quote(sp, safe='')}")
        plans["pages"].setdefault("search", []).append(f"/search?{urlencode({'q': w})}")
        plans["api"].setdefault("stories", []).append("/api/stories")
        plans["api"].setdefault("story", []).append(f"/api/stories/{quote(s)}")
        plans["api"].setdefault("article", []).append(f"/api/articles/{quote(a)}")
        if sp:
            plans["api"].setdefault("quotes", []).append(f"/api/quotes?{urlencode({'speaker': sp})}")
        plans["api"].setdefault("search", []).append(f"/api/search?{urlencode({'q': w})}")
        for kind, ext in (("ds_html", ""), ("ds_json", ".json")):
            plans[kind].setdefault("stories", []).append(f"/{prefix}/stories{ext}?_sort_desc=first&_size=50")
            plans[kind].setdefault("story", []).append(f"/{prefix}/stories/{quote(s)}{ext}")
            plans[kind].setdefault("article", []).append(f"/{prefix}/articles/{quote(a)}{ext}")
            if sp:
                plans[kind].setdefault("speaker", []).append(f"/{prefix}/quotes{ext}?{urlencode({'speaker': sp})}")
            plans[kind].setdefault("search", []).append(f"/{prefix}/articles{ext}?{urlencode({'_search': w})}")
    out = {}
    for name, kinds in plans.items():
        n = PER_ENDPOINT_BASELINE if name.startswith("ds_") else per
        reqs = [[k, u] for k, urls in kinds.items() for u in urls[:n]]
        rng.shuffle(reqs)
        warm = [[k, urls[-1 - j]] for k, urls in kinds.items() for j in range(min(5, len(urls)))]
        out[name] = {"requests": reqs, "warmup": warm}
    return out


def run(ctx):
    from benchlib import Check, Measurement, StageResult, child_env, query, run_child, sha256_file

    db = build_store(ctx, run_child, query, sha256_file)
    n_articles = query(db, "SELECT COUNT(*) FROM articles")[0][0]
    counts = {t: query(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("stories", "quotes", "relations")}
    plans = make_plan(db, query, prefix=db.stem, per=PER_ENDPOINT, seed=ctx.seed)
    datasette = shutil.which("datasette", path=str(ctx.python.parent))

    servers = [
        ("pages", "newstrace serve: pages", [ctx.newstrace, "--db", db, "--quiet", "serve", "--port", "{port}"]),
        ("api", "newstrace serve: JSON API", [ctx.newstrace, "--db", db, "--quiet", "serve", "--port", "{port}"]),
    ]
    if datasette:
        common = [datasette, "serve", db, "--port", "{port}", "--setting", "default_page_size", "50",
                  "--setting", "sql_time_limit_ms", "10000"]
        servers += [("ds_html", "baseline: datasette pages", common), ("ds_json", "baseline: datasette JSON", common)]
    else:
        print("  datasette is not installed (pip install -e '.[bench]'): no baseline", flush=True)

    measurements: list[Measurement] = []
    per_kind: dict[str, dict[str, tuple[float, float, int]]] = {}
    for key, label, template in servers:
        port = _free_port()
        cmd = [str(c).replace("{port}", str(port)) for c in template]
        plan_path = ctx.out / f"serve-plan-{key}.json"
        plan_path.write_text(json.dumps(plans[key]), encoding="utf-8")
        result_path = ctx.out / f"serve-result-{key}.json"
        log = open(ctx.out / f"serve-server-{key}.log", "wb")  # noqa: SIM115 (closed below)
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env())
        try:
            _wait_up(f"http://127.0.0.1:{port}", server)
            cpu0 = _cpu_s(server.pid)
            print(f"  {label}: {len(plans[key]['requests']):,} requests, {CONCURRENCY} connections", flush=True)
            client = [ctx.python, Path(__file__).resolve(), "--client", f"http://127.0.0.1:{port}",
                      "--plan", plan_path, "--out", result_path, "--concurrency", str(CONCURRENCY)]
            m = run_child(label, client, items=len(plans[key]["requests"]), input_bytes=0, settle=ctx.settle)
            server_cpu = _cpu_s(server.pid) - cpu0
            hwm = _hwm_mib(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
        res = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}
        lat = res.get("latency_s", {})
        all_lat = sorted(x for v in lat.values() for x in v)
        # the columns describe the server: its CPU and memory; wall time is the client's run
        m.wall_s = res.get("wall_s", m.wall_s)
        m.input_bytes = res.get("bytes", 0)
        m.other_load = max(0.0, m.other_load - server_cpu / m.wall_s) if m.wall_s else m.other_load
        client_peak = m.peak_tree_rss_mib
        m.cpu_s, m.peak_rss_mib, m.peak_tree_rss_mib = server_cpu, hwm, hwm + client_peak
        m.command = [str(c) if not str(c).startswith(str(ctx.root)) else ctx.rel(c) for c in cmd]
        errors = sum(n for k, n in res.get("status", {}).items() if not k.endswith(" 200"))
        m.extra.update(p50=_pct(all_lat, 50) * 1000, p99=_pct(all_lat, 99) * 1000, errors=errors,
                       status=res.get("status", {}))
        per_kind[label] = {k: (_pct(v, 50) * 1000, _pct(v, 99) * 1000, len(v)) for k, v in lat.items()}
        measurements.append(m)

    checks = []
    for m in measurements:
        checks.append(Check(f"{m.label}: every response is 200", m.returncode == 0 and m.extra["errors"] == 0
                            and m.items == sum(m.extra["status"].values()),
                            f"{sum(m.extra['status'].values()):,} answered, {m.extra['errors']} not 200"))
    pages = per_kind.get("newstrace serve: pages", {})
    slow = {k: v for k, v in pages.items() if v[1] >= P99_TARGET_MS}
    checks.append(Check(f"every newstrace page answers within {P99_TARGET_MS:.0f} ms at p99", bool(pages) and not slow,
                        "; ".join(f"{k} {v[1]:.1f} ms" for k, v in sorted(pages.items()))))

    figures = [f"Store: {n_articles:,} articles, {counts['stories']:,} stories, {counts['relations']:,} reuse "
               f"relations, {counts['quotes']:,} quotes ({db.stat().st_size / 1e9:.2f} GB), built from the stream "
               f"by `newstrace ingest` + `newstrace analyse` and cached as {ctx.rel(db)}."]
    for label, kinds in per_kind.items():
        figures.append(f"{label}, p50 / p99 ms by view: " + "; ".join(
            f"{k} {p50:.1f} / {p99:.1f}" for k, (p50, p99, _n) in sorted(kinds.items())))
    by = {m.label: m for m in measurements}
    for ours, theirs in (("newstrace serve: pages", "baseline: datasette pages"),
                         ("newstrace serve: JSON API", "baseline: datasette JSON")):
        if ours in by and theirs in by and by[theirs].items_per_s:
            figures.append(f"{ours} / {theirs}: {by[ours].items_per_s / by[theirs].items_per_s:.2f}× the "
                           f"requests/s; p99 {by[ours].extra['p99']:.1f} ms against {by[theirs].extra['p99']:.1f} ms.")
    notes = [
        f"Each run: {PER_ENDPOINT} requests per view for newstrace and the first {PER_ENDPOINT_BASELINE} of the same "
        "choices for Datasette (whose slowest views take seconds), in a shuffled order (after an untimed warm-up of "
        "5 per view), "
        f"from a separate client process (`bench/bench_serve.py --client`) holding {CONCURRENCY} keep-alive "
        "connections on loopback; server and client share the machine's cores.",
        "Columns for these runs: \"articles/s\" is requests per second, \"MB/s\" the response bytes per second, CPU "
        "and the main-process memory are the server's (from /proc), \"all processes\" adds the client's.",
        "The Datasette views are what a user would open on the same file without newstrace: the stories table "
        "sorted by date (50 rows a page), a story's and an article's row page, the quotes table filtered by "
        "speaker, and Datasette's own full-text search on articles (it finds the FTS5 table of migration 5). "
        "They show less than newstrace's views: a story's row page has no articles, relations, tree or quotes.",
        "Pages are rendered on the server with Jinja2; a story page shows at most 300 of its articles.",
    ]
    return StageResult(
        stage=STAGE, title=TITLE, n=n_articles, input_bytes=0, measurements=measurements,
        columns=[("p50 ms", lambda m: f"{m.extra.get('p50', 0):.1f}"), ("p99 ms", lambda m: f"{m.extra.get('p99', 0):.1f}"),
                 ("not 200", lambda m: str(m.extra.get("errors", 0)))],
        figures=figures, checks=checks, notes=notes)


if __name__ == "__main__":
    sys.exit(client_main(sys.argv[1:]))

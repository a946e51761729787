"""Engines that run the batch stages, and the driver that sequences them.

``LocalEngine`` runs every part in this process, one after another. ``RayEngine`` runs each part as
a Ray task (``pip install newstrace[ray]``), on a local Ray instance or on the cluster at
``address``. Both run the same function, :func:`.stages.run_task`, on the same jobs; the driver
(:func:`run_batch`) decides what is left to do from the manifests and hands the engine the rest.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from ..errors import NewstraceError, Skip
from . import stages
from .io import DEFAULT_SHARD_BYTES, list_shards, write_json
from .manifest import Manifest, code_version, digest, hash_probe

#: the hash secret every Ray worker runs with: sentence keys must agree between the workers that compute them
RAY_HASH_SEED = "0"


class LocalEngine:
    """Every part in this process, in order."""

    name = "local"

    def __init__(self) -> None:
        self.workers = 1

    def map(self, fn: Callable[[dict[str, Any]], Any], jobs: list[dict[str, Any]]) -> list[Any]:
        return [fn(j) for j in jobs]

    def hash_probe(self) -> int:
        return hash_probe()

    def close(self) -> None:
        pass


class RayEngine:
    """Each part a Ray task; at most ``workers`` at a time (all the cluster offers when None).

    Without ``address`` and with no Ray running, it starts a local instance of ``workers`` CPUs and
    shuts it down on :meth:`close`; a Ray already initialised by the caller (a test, a notebook) is used
    as it is and left running.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise NewstraceError("[E110] --engine ray needs Ray: pip install 'newstrace[ray]'") from exc
        self.ray = ray
        self.owned = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
            if address:
                kw["address"] = address
            elif workers:
                kw["num_cpus"] = workers
            try:
                ray.init(**kw)
            except Exception as exc:  # no cluster at the address, or Ray cannot start
                raise NewstraceError(f"[E111] cannot start or reach Ray ({address or 'local'}): {exc}") from exc
            self.owned = True
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def map(self, fn: Callable[[dict[str, Any]], Any], jobs: list[dict[str, Any]]) -> list[Any]:
        ray = self.ray
        # a fixed hash secret in every worker: the sentence keys of one shard must match another's
        remote = ray.remote(fn).options(num_cpus=1, max_retries=2,
                                        runtime_env={"env_vars": {"PYTHONHASHSEED": RAY_HASH_SEED}})
        results: list[Any] = [None] * len(jobs)
        pending: dict[Any, int] = {}
        queue = list(enumerate(jobs))
        while queue or pending:
            while queue and len(pending) < self.workers:
                i, job = queue.pop(0)
                pending[remote.remote(job)] = i
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                results[pending.pop(ref)] = ray.get(ref)
        return results

    def hash_probe(self) -> int:
        """The hash probe of the workers (they run with :data:`RAY_HASH_SEED`)."""
        return self.map(hash_probe, [{}])[0]

    def close(self) -> None:
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()


def make_engine(name: str, address: str | None = None, workers: int | None = None):
    """The engine called ``name`` ("local" or "ray")."""
    if name == "local":
        return LocalEngine()
    if name == "ray":
        return RayEngine(address, workers)
    raise NewstraceError(f"[E112] unknown engine {name!r}: local or ray")


@dataclass
class BatchSummary:
    """What a batch run did: articles, skipped inputs, and per stage the parts run and reused."""

    shards: int = 0
    articles: int = 0
    repeated: int = 0
    relations: int = 0
    stories: int = 0
    quotes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[Skip] = field(default_factory=list)
    ran: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    dedup: dict[str, Any] = field(default_factory=dict)
    windows: int = 0  # story windows clustered (0: one clustering task)
    story_windows: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"shards": self.shards, "articles": self.articles, "repeated": self.repeated,
                "relations": self.relations, "stories": self.stories, "quotes": self.quotes,
                "skipped": self.skipped, "ran": self.ran, "reused": self.reused,
                "stage_seconds": self.stage_seconds, "dedup": self.dedup, "windows": self.windows,
                "story_windows": self.story_windows,
                "problems": [{"input": p.origin, "code": p.code, "level": p.level, "message": p.message}
                             for p in self.problems]}


def _stage(engine, manifest: Manifest, summary: BatchSummary, stage: str,
           parts: list[tuple[str, str, dict[str, Any]]], salt: object = None) -> dict[str, dict[str, Any]]:
    """Run the parts of ``stage`` that are not done: (part, input token, job) each; their manifests.
    ``salt``: what else the outputs depend on (the workers' hash secret for the signatures)."""
    version = code_version(stage) if salt is None else digest(code_version(stage), salt)
    out: dict[str, dict[str, Any]] = {}
    todo = []
    for part, token, job in parts:
        m = manifest.done(stage, part, token, version)
        if m is not None:
            out[part] = m
        else:
            todo.append({**job, "stage": stage, "part": part, "input": token, "version": version})
    for m in engine.map(stages.run_task, todo):
        out[m["part"]] = m
    summary.ran[stage] = len(todo)
    summary.reused[stage] = len(parts) - len(todo)
    summary.stage_seconds[stage] = round(sum(m["summary"].get("seconds", 0.0) for m in out.values()), 3)
    return out


def _total(parts: dict[str, dict[str, Any]], key: str) -> Any:
    """A figure of a stage's summaries, summed over its parts."""
    return sum(m["summary"][key] for m in parts.values())


def _prune(out: Path, parts: set[str]) -> None:
    """Remove the part files of shards that are no longer among the inputs (a rerun on other inputs)."""
    for kind in ("articles", "quotes", "relations", "signatures", "keys", "anchors", "votes", "relate_plan",
                 "origin_requests"):
        d = out / stages.DIRS[kind]
        for p in d.glob("part-*") if d.exists() else ():
            if p.name.split(".")[0].removeprefix("part-") not in parts:
                p.unlink()
    for stage in ("prepare", "signatures", "anchors", "votes", "relate_plan", "relate"):
        d = out / "_manifest" / stage
        for p in d.glob("*.json") if d.exists() else ():
            if p.stem not in parts:
                p.unlink()


def run_batch(inputs: list[str], out: str | os.PathLike[str], engine, *, shard_bytes: int = DEFAULT_SHARD_BYTES,
              source: str | None = None, max_bytes: int = 20 * 1024 * 1024,
              buckets: int = stages.BUCKETS, story_windows: str = "auto",
              on_stage: Callable[[str], None] = lambda s: None) -> BatchSummary:
    """Run every stage over ``inputs`` into ``out``; parts finished by an earlier run are reused.

    ``buckets``: reducers of the key shuffle (the results do not depend on it, only the memory of each).
    ``story_windows``: "on" clusters stories by time windows in parallel (:mod:`.stories`), "off" in one
    task over everything, "auto" by windows when they hold enough articles (``MIN_WINDOW_ARTICLES``)."""
    n_buckets = max(1, buckets)
    out = Path(out).resolve()  # the workers' working folder need not be this one
    out.mkdir(parents=True, exist_ok=True)
    # the mark of a finished run goes first: until this run finishes, DIR is not one `import` may load
    (out / "_batch.json").unlink(missing_ok=True)
    summary = BatchSummary()
    shards, problems = list_shards(inputs, shard_bytes)
    summary.problems.extend(problems)
    for p in problems:
        summary.skipped[p.code] = summary.skipped.get(p.code, 0) + 1
    summary.shards = len(shards)
    names = [s.name for s in shards]
    _prune(out, set(names))
    manifest = Manifest(out)
    o = str(out)

    on_stage("prepare")
    prep = _stage(engine, manifest, summary, "prepare", [
        (s.name, digest(s.token(), source, max_bytes),
         {"out": o, "shard": s.to_dict(), "source": source, "max_bytes": max_bytes}) for s in shards])
    for s in shards:
        ms = prep[s.name]["summary"]
        summary.quotes += ms["quotes"]
        for code, n in ms["skipped"].items():
            summary.skipped[code] = summary.skipped.get(code, 0) + n
        summary.problems.extend(Skip(p["input"], p["code"], p["message"], p["level"]) for p in ms["problems"])

    on_stage("signatures")
    sig = _stage(engine, manifest, summary, "signatures",
                 [(n, digest(prep[n]["token"], n_buckets), {"out": o, "buckets": n_buckets}) for n in names],
                 salt=engine.hash_probe() if names else None)

    on_stage("anchors")
    anc = _stage(engine, manifest, summary, "anchors",
                 [(n, digest(prep[n]["token"], n_buckets), {"out": o, "buckets": n_buckets}) for n in names])

    # the one-pass dedup's verdicts, distributed (:mod:`.origins`): the global order, each key's first
    # holder per key bucket, the votes per shard, then the family roots over int arrays
    on_stage("dedup")
    buckets = [f"{b:05d}" for b in range(n_buckets)]
    upstream = digest([sig[n]["token"] for n in names])
    order = _stage(engine, manifest, summary, "order", [("all", upstream, {"out": o, "parts": names})])["all"]
    firsts = _stage(engine, manifest, summary, "firsts",
                    [(b, order["token"], {"out": o, "parts": names}) for b in buckets])
    upstream = digest(order["token"], [firsts[b]["token"] for b in buckets])
    votes = _stage(engine, manifest, summary, "votes",
                   [(n, upstream, {"out": o, "buckets": n_buckets}) for n in names])
    upstream = digest(order["token"], [votes[n]["token"] for n in names])
    dd = _stage(engine, manifest, summary, "dedup", [("all", upstream, {"out": o, "parts": names})])["all"]
    summary.articles = dd["summary"]["articles"]
    summary.repeated = order["summary"]["repeated"]
    summary.dedup = {"articles": summary.articles, "repeated": summary.repeated,
                     "relations": dd["summary"]["relations"],
                     "keys": _total(votes, "keys"),
                     "distinct_keys": _total(firsts, "keys"),
                     "firsts_routed": _total(firsts, "routed"),
                     "firsts_bytes": _total(firsts, "bytes"),
                     "firsts_read_bytes": _total(firsts, "read_bytes"),
                     "votes_read_bytes": _total(votes, "read_bytes"),
                     "order_bytes": order["summary"]["bytes"]}

    on_stage("candidates")
    cand = _stage(engine, manifest, summary, "candidates",
                  [(b, dd["token"], {"out": o, "parts": names}) for b in buckets])
    summary.dedup["candidate_pair_rows"] = _total(cand, "pairs")
    summary.dedup["shuffle_bytes"] = _total(sig, "shuffle_bytes")
    summary.dedup["signature_bytes"] = _total(sig, "bytes")

    on_stage("anchor_pairs")
    upstream = digest(dd["token"], [anc[n]["token"] for n in names])
    apairs = _stage(engine, manifest, summary, "anchor_pairs",
                    [(b, upstream, {"out": o, "parts": names}) for b in buckets])
    summary.dedup.update({
        # what the reducers would write as one row per (pair, anchor), and what the posting lists take instead
        "anchor_pair_rows": _total(apairs, "pair_rows"), "anchor_list_entries": _total(apairs, "list_entries"),
        "anchor_pairs_bytes": _total(apairs, "bytes"), "candidates_bytes": _total(cand, "bytes"),
        # what the reducers read of the map outputs: their own slices only
        "keys_read_bytes": _total(cand, "read_bytes"), "anchors_read_bytes": _total(apairs, "read_bytes"),
        "anchor_shuffle_bytes": _total(anc, "shuffle_bytes")})

    on_stage("relate")
    upstream = digest(dd["token"], [cand[b]["token"] for b in buckets], [apairs[b]["token"] for b in buckets])
    plan = _stage(engine, manifest, summary, "relate_plan",
                  [(n, upstream, {"out": o, "buckets": n_buckets}) for n in names])
    # the origin shuffle (.parcels): the earlier articles other shards hold, each shard read once
    upstream = digest([plan[n]["token"] for n in names])
    parcels = _stage(engine, manifest, summary, "origin_parcels",
                     [(b, upstream, {"out": o, "parts": names}) for b in buckets])
    upstream = digest(upstream, [parcels[b]["token"] for b in buckets])
    rel = _stage(engine, manifest, summary, "relate",
                 [(n, upstream, {"out": o, "buckets": n_buckets}) for n in names])
    summary.relations = _total(rel, "relations")
    summary.dedup.update({
        "relate_read_bytes": _total(plan, "read_bytes"), "relate_pairs": _total(plan, "pairs"),
        "origin_requests": _total(plan, "requests"), "origin_request_bytes": _total(plan, "request_bytes"),
        "origin_parcel_bytes": _total(parcels, "bytes"), "origin_parcel_read_bytes": _total(rel, "read_bytes")})

    on_stage("cluster")
    upstream = digest(dd["token"], [rel[n]["token"] for n in names])
    summary.stories = _stories(engine, manifest, summary, o, names, prep, upstream, story_windows, n_buckets)
    write_json({"inputs": inputs, "engine": engine.name, "workers": engine.workers,
                "summary": {k: v for k, v in summary.to_dict().items() if k != "problems"}},
               out / "_batch.json")
    return summary


def _stories(engine, manifest: Manifest, summary: BatchSummary, o: str, names: list[str],
             prep: dict[str, dict[str, Any]], upstream: str, mode: str, n_buckets: int) -> int:
    """The story stages: by time windows (:mod:`.stories`, storylines by :mod:`.storylines`) or one pass;
    the number of stories."""
    from . import stories as st

    day_counts, undated, shards_of = st.window_shards((n, prep[n]["summary"].get("days", {})) for n in names)
    windows = st.plan_windows(day_counts, undated, mode)
    summary.windows = len(windows)
    if not windows:
        cl = _stage(engine, manifest, summary, "cluster", [("all", upstream, {"out": o, "parts": names})])["all"]
        return cl["summary"]["stories"]
    wn = [st.window_name(w) for w in windows]
    win = _stage(engine, manifest, summary, "story_windows", [
        (st.window_name(w), digest(upstream, w, shards_of[w]), {"out": o, "window": w, "shards": shards_of[w]})
        for w in windows])
    upstream = digest(upstream, [win[n]["token"] for n in wn])
    sti = _stage(engine, manifest, summary, "stitch", [("all", upstream, {"out": o, "windows": windows})])["all"]
    summ = _stage(engine, manifest, summary, "story_summaries",
                  [(st.window_name(w), sti["token"], {"out": o, "window": w}) for w in windows])
    # storylines: a name-keyed shuffle, links per window, components once on integers (.storylines)
    offsets = list(accumulate([summ[n]["summary"]["stories"] for n in wn], initial=0))
    names = _stage(engine, manifest, summary, "storyline_names",
                   [(n, digest(summ[n]["token"], off, n_buckets), {"out": o, "window": w, "offset": off,
                                                                   "buckets": n_buckets})
                    for n, w, off in zip(wn, windows, offsets[:-1], strict=True)])
    buckets = [f"{b:05d}" for b in range(n_buckets)]
    upstream = digest([names[n]["token"] for n in wn])
    pairs = _stage(engine, manifest, summary, "storyline_pairs",
                   [(b, upstream, {"out": o, "windows": windows, "offsets": offsets}) for b in buckets])
    upstream = digest(upstream, [pairs[b]["token"] for b in buckets])
    links = _stage(engine, manifest, summary, "storyline_links",
                   [(n, upstream, {"out": o, "index": i, "windows": windows, "offsets": offsets,
                                   "buckets": n_buckets}) for i, n in enumerate(wn)])
    upstream = digest([links[n]["token"] for n in wn])
    comp = _stage(engine, manifest, summary, "storyline_components",
                  [("all", upstream, {"out": o, "windows": windows, "offsets": offsets})])["all"]
    _stage(engine, manifest, summary, "storylines",
           [(n, comp["token"], {"out": o, "window": w}) for n, w in zip(wn, windows, strict=True)])
    summary.story_windows = {"windows": len(windows), "window_articles": _total(win, "articles"),
                             "claims_dropped": sti["summary"]["claims_dropped"],
                             "storyline_pairs": _total(pairs, "pairs"),
                             "storyline_links": comp["summary"]["links"],
                             "storyline_shuffle_bytes": _total(names, "bytes")
                             + _total(pairs, "bytes")}
    return comp["summary"]["stories"]


def clear(out: str | os.PathLike[str]) -> None:
    """Remove a batch output folder (for a run from scratch)."""
    shutil.rmtree(out, ignore_errors=True)

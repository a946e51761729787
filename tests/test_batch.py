"""Batch mode: `newstrace batch` on the local engine and on Ray, restarts, import into the store."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newstrace.batch import LocalEngine, RayEngine, import_dir, run_batch, stages
from newstrace.errors import NewstraceError
from newstrace.store import Store

from .conftest import SEEDS, SHARED, need

KINDS = ("copy", "syndicated", "excerpt", "edited")


def snapshot(out: Path) -> dict[str, list]:
    """Every output table of a batch folder as sorted rows (what must not depend on the engine)."""
    import pyarrow.parquet as pq

    tables = {}
    for kind in ("articles", "relations", "stories", "quotes", "verdicts"):
        rows = []
        for p in sorted((out / stages.DIRS[kind]).glob("part-*.parquet")):
            rows.extend(pq.read_table(p).to_pylist())
        tables[kind] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return tables


def reference_storylines(out) -> dict[str, str | None]:
    """The storylines of a windowed run's summaries by the single-task form (every centroid in one
    matrix, :func:`newstrace.cluster.link_storylines`): what the partitioned stages must reproduce."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newstrace.batch.stories import storylines_arrow
    from newstrace.model import Story

    t = pa.concat_tables([pq.read_table(p) for p in sorted((Path(out) / stages.DIRS["story_summaries"]).glob("part-*.parquet"))])
    stories = [Story(sid, [], first=first, key_names=kn) for sid, first, kn in
               zip(*(t.column(c).to_pylist() for c in ("id", "first", "key_names")), strict=True)]
    storylines_arrow(stories, t.column("c_terms"), t.column("c_weights"))
    return {s.id: s.storyline for s in stories}

@pytest.fixture(scope="module")
def local_seeds(tmp_path_factory) -> Path:
    need(SEEDS)
    out = tmp_path_factory.mktemp("seeds") / "out"
    run_batch([str(SEEDS)], out, LocalEngine())
    return out


# ----------------------------------------------------------------------------- local engine
def test_seeds_three_versions_make_one_story(local_seeds):
    snap = snapshot(local_seeds)
    num = {a["id"]: Path(a["origin"]).name[:3] for a in snap["articles"]}
    assert sorted(num.values()) == ["000", "001", "002", "003", "004"]
    groups = sorted(sorted(num[a] for a in s["articles"]) for s in snap["stories"])
    assert ["002", "003", "004"] in groups
    # 004 and 002 share passages: found by the key shuffle (they share four half-sentences), then aligned;
    # 003, the spun rewrite of both, shares no two sentences with either: its rare names and numbers
    # (the anchor shuffle) make it a candidate, and the alignment calls it a rewrite
    rels = sorted((num[r["origin"]], num[r["derived"]], r["kind"]) for r in snap["relations"])
    assert rels == [("002", "003", "rewrite"), ("004", "002", "shares_passages"), ("004", "003", "rewrite")]
    assert all(json.loads(r["passages"]) for r in snap["relations"])
    assert all(q["speaker"] for q in snap["quotes"][:1])
    assert any(q["speaker"] == "Putin" or "Putin" in (q["speaker"] or "") for q in snap["quotes"])


def test_seeds_relations_equal_the_store_path(local_seeds, seed_store):
    """Batch and store find the same relations on the seeds: same candidates, same alignment."""
    import pyarrow.parquet as pq

    rows = [r for p in sorted((local_seeds / "relations").glob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]
    batch = sorted((r["origin"], r["derived"], r["kind"], r["direction"], round(r["score"], 4)) for r in rows)
    store = sorted((r.origin, r.derived, r.kind, r.direction, round(r.score, 4))
                   for r in seed_store.load_analysis().relations)
    assert len(store) == 3 and batch == store
    # each seed file is a shard of its own, so every origin reached relate through the origin shuffle
    dedup = json.loads((local_seeds / "_batch.json").read_text())["summary"]["dedup"]
    assert dedup["origin_requests"] == 3 and dedup["origin_parcel_bytes"] > 0


def test_results_do_not_depend_on_the_buckets(local_seeds, tmp_path):
    """Anchor weights are summed as integers: gathered from 1 or 7 buckets, the same relations."""
    for n in (1, 7):
        run_batch([str(SEEDS)], tmp_path / str(n), LocalEngine(), buckets=n)
        assert snapshot(tmp_path / str(n)) == snapshot(local_seeds), n


def test_stream_recall_and_shards(local5k, stream5k):
    out, summary = local5k
    assert summary.shards >= 4 and summary.articles == 5000 and not summary.skipped
    gold = [json.loads(line) for line in stream5k[1].read_text().splitlines()]
    root = {g["id"]: g["origin"] or g["id"] for g in gold}
    kind = {g["id"]: g["kind"] for g in gold}
    snap = snapshot(out)
    ext = {a["id"]: a["ext_id"] for a in snap["articles"]}
    dup = {ext[v["id"]]: ext.get(v["duplicate_of"]) for v in snap["verdicts"]}
    for k in KINDS:
        ids = [i for i in kind if kind[i] == k]
        right = sum(dup[i] is not None and root[dup[i]] == root[i] for i in ids)
        assert right / len(ids) >= 0.97, (k, right, len(ids))
    links = [i for i in dup if dup[i] is not None]
    assert sum(root[dup[i]] == root[i] for i in links) / len(links) >= 0.999
    # relations carry the aligned passages, and every derived article sits in its origin's story
    rels = snap["relations"]
    assert sum(bool(json.loads(r["passages"])) for r in rels) > 0.9 * len(rels)
    story = {a: s["id"] for s in snap["stories"] for a in s["articles"]}
    derived = [r for r in rels if r["kind"] in ("duplicate", "copy", "excerpt", "edited")]
    assert derived and all(story[r["derived"]] == story[r["origin"]] for r in derived)


def test_verdicts_equal_the_one_pass_dedup(local5k):
    """The distributed dedup (first holders per key bucket, votes per shard, roots by pointer jumping)
    decides as one StreamDeduper over all clean texts in the global order: same origin, relation and
    score for every article."""
    from newstrace.dedup.fingerprint import MIN_WORDS, fast_features
    from newstrace.dedup.stream import HALF_MIN_WORDS, StreamDeduper

    out, _ = local5k
    snap = snapshot(out)
    text = {a["id"]: a["text"] for a in snap["articles"]}
    verdicts = sorted(snap["verdicts"], key=lambda v: v["rank"])
    ids = [v["id"] for v in verdicts]
    d = StreamDeduper()
    expect = []
    for i in range(0, len(ids), 700):
        chunk = ids[i:i + 700]
        expect.extend(d.add_batch(chunk, fast_features([text[x] for x in chunk], MIN_WORDS, HALF_MIN_WORDS)))
    assert [(e.id, e.duplicate_of, e.relation, e.score) for e in expect] == \
        [(v["id"], v["duplicate_of"], v["relation"], v["score"]) for v in verdicts]
    assert sum(e.relation in ("copy", "excerpt", "edited") for e in expect) > 1000
    dates = [next(a["date"] for a in snap["articles"] if a["id"] == x) for x in ids[:200]]
    assert dates == sorted(dates)


def test_rerun_reuses_every_part(local_seeds):
    before = snapshot(local_seeds)
    summary = run_batch([str(SEEDS)], local_seeds, LocalEngine())
    assert sum(summary.ran.values()) == 0 and summary.reused["prepare"] == 5
    assert snapshot(local_seeds) == before


def test_crash_in_a_stage_then_rerun(tmp_path, local_seeds, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(stages, "FAIL_SHARD", {2})
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_batch([str(SEEDS)], out, LocalEngine())
    monkeypatch.setattr(stages, "FAIL_SHARD", set())
    assert sorted(p.stem for p in (out / "_manifest" / "prepare").glob("*.json")) == ["00000", "00001"]
    # a crash between stages: the clustering task dies after every per-shard stage has finished
    def crash(job):
        raise RuntimeError("simulated crash in clustering")

    monkeypatch.setattr(stages, "cluster_stories", crash)
    with pytest.raises(RuntimeError, match="clustering"):
        run_batch([str(SEEDS)], out, LocalEngine())
    monkeypatch.undo()
    with Store.open(tmp_path / "s.db") as store, pytest.raises(NewstraceError, match="E113"):
        import_dir(out, store)  # an unfinished run is not imported
    summary = run_batch([str(SEEDS)], out, LocalEngine())
    assert summary.ran == {"prepare": 0, "signatures": 0, "anchors": 0, "order": 0, "firsts": 0, "votes": 0,
                           "dedup": 0, "candidates": 0, "anchor_pairs": 0, "relate_plan": 0,
                           "origin_parcels": 0, "relate": 0, "cluster": 1}
    assert snapshot(out) == snapshot(local_seeds)


def test_a_crashed_rerun_leaves_nothing_to_import(tmp_path, monkeypatch):
    """A finished run, then a rerun on other inputs that crashes: the folder is no longer importable."""
    need(SEEDS)
    out = tmp_path / "out"
    run_batch([str(SEEDS)], out, LocalEngine())
    monkeypatch.setattr(stages, "cluster_stories", lambda job: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_batch([str(p) for p in sorted(SEEDS.glob("*.txt"))[:3]], out, LocalEngine())
    with Store.open(tmp_path / "s.db") as store, pytest.raises(NewstraceError, match="E113"):
        import_dir(out, store)


def test_changed_input_is_redone(tmp_path):
    need(SEEDS)
    src = tmp_path / "in.jsonl"
    texts = sorted(SEEDS.glob("*.txt"))
    src.write_text("".join(json.dumps({"id": p.stem, "text": p.read_text()}) + "\n" for p in texts[:3]))
    out = tmp_path / "out"
    assert run_batch([str(src)], out, LocalEngine()).articles == 3
    with src.open("a") as f:
        f.write(json.dumps({"id": texts[3].stem, "text": texts[3].read_text()}) + "\n")
    summary = run_batch([str(src)], out, LocalEngine())
    assert summary.ran["prepare"] == 1 and summary.articles == 4


def test_bad_inputs_are_reported_and_the_run_goes_on(tmp_path):
    need(SEEDS)
    good = tmp_path / "a.jsonl"
    text = next(SEEDS.glob("*.txt")).read_text()
    good.write_text(json.dumps({"id": "x1", "text": text}) + "\n{not json\n" + json.dumps({"id": "x2"}) + "\n"
                    + json.dumps({"id": "x3", "text": text, "source": "other.example"}) + "\n")
    summary = run_batch([str(good), str(tmp_path / "missing.jsonl")], tmp_path / "out", LocalEngine())
    assert summary.articles == 2
    assert summary.skipped == {"E011": 1, "E006": 1, "E007": 1}
    assert any("missing.jsonl" in p.origin for p in summary.problems)


def test_parquet_and_gzip_inputs_give_the_same_articles(tmp_path):
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    need(SEEDS)
    rows = [{"id": p.stem, "text": p.read_text(), "source": "seeds.example"} for p in sorted(SEEDS.glob("*.txt"))]
    (tmp_path / "in").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in" / "a.parquet", row_group_size=2)
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    s1 = run_batch([str(tmp_path / "in")], tmp_path / "o1", LocalEngine())
    s2 = run_batch([f"file://{tmp_path / 'b.jsonl.gz'}"], tmp_path / "o2", LocalEngine())
    assert s1.shards == 3 and s2.shards == 1  # one shard per Parquet row group
    ids = lambda o: sorted(a["id"] for a in snapshot(o)["articles"])  # noqa: E731
    assert ids(tmp_path / "o1") == ids(tmp_path / "o2") and len(ids(tmp_path / "o1")) == 5
    assert snapshot(tmp_path / "o1")["stories"] == snapshot(tmp_path / "o2")["stories"]


def test_warc_and_fsspec_url_inputs(tmp_path):
    """A WARC crawl read from a local path and from an fsspec URL (the in-memory file system) gives the
    same articles; only its HTML responses become articles."""
    import fsspec

    from .test_read import write_warc

    path = write_warc(tmp_path / "crawl.warc.gz", gz=True)
    s1 = run_batch([str(path)], tmp_path / "o1", LocalEngine())
    with fsspec.open("memory://batch-test/crawl.warc.gz", "wb") as f:
        f.write(path.read_bytes())
    s2 = run_batch(["memory://batch-test/"], tmp_path / "o2", LocalEngine())
    assert s1.articles == s2.articles == 2
    urls = lambda o: sorted(a["url"] for a in snapshot(o)["articles"])  # noqa: E731
    assert urls(tmp_path / "o1") == urls(tmp_path / "o2")
    assert all(u.startswith("https://") for u in urls(tmp_path / "o1"))
    assert any(p.code == "W002" for p in s2.problems)  # the request, image and JSON records passed over


def test_import_is_idempotent(local_seeds, tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        first = import_dir(local_seeds, store)
        again = import_dir(local_seeds, store)
        assert first["added"] == 5 and again["added"] == 0
        assert store.count("articles") == 5 and store.count("stories") == first["stories"]
        assert store.count("quotes") == first["quotes"] > 0
        analysis = store.load_analysis()
        assert sorted(len(s.articles) for s in analysis.stories)[-1] == 3
        # the story summaries travel through the Parquet: the three versions name their people
        big = max(analysis.stories, key=lambda s: len(s.articles))
        assert {"Vladimir Putin", "Volodymyr Zelenskyy"} <= set(big.entities["people"])


def test_stories_carry_their_first_report_and_extract(local_seeds, tmp_path):
    """stories/ answers "who had it first" without the store: each story's first report and extract are
    those `report` computes from the imported articles."""
    import pyarrow.parquet as pq

    from newstrace.report import report_data

    rows = {r["id"]: r for p in sorted((local_seeds / "stories").glob("part-*.parquet"))
            for r in pq.read_table(p).to_pylist()}
    with Store.open(tmp_path / "s.db") as store:
        import_dir(local_seeds, store)
        shown = {s["id"]: s for s in report_data(store)["stories"]}
    assert set(rows) == set(shown) and len(rows) == 3
    for sid, r in rows.items():
        assert r["first_report"] in r["articles"] and len(r["extract"].split()) >= 12
        assert (r["first_report"], r["extract"]) == (shown[sid]["first_report"], shown[sid]["extract"])


def test_cli_batch_and_import(tmp_path):
    need(SEEDS)
    from click.testing import CliRunner

    from newstrace.cli import main

    r = CliRunner().invoke(main, ["batch", str(SEEDS), "--out", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "s.db"), "import", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 0 and '"added": 5' in r.output
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "s.db"), "import", str(tmp_path / "nothing")])
    assert r.exit_code == 1 and "E113" in r.output


def test_cli_batch_failure_is_one_line_and_resumable(tmp_path, monkeypatch):
    need(SEEDS)
    from click.testing import CliRunner

    from newstrace.cli import main

    monkeypatch.setattr(stages, "FAIL_SHARD", {3})
    r = CliRunner().invoke(main, ["batch", str(SEEDS), "--out", str(tmp_path / "o")])
    assert r.exit_code == 3 and "[E114] batch stopped (RuntimeError: simulated crash in shard 3)" in r.output
    monkeypatch.setattr(stages, "FAIL_SHARD", set())
    r = CliRunner().invoke(main, ["batch", str(SEEDS), "--out", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 0
    # the three shards done before the crash are reused, the other two are read now
    assert re.search(r'"ran": \{\s*"prepare": 2,', r.output) and re.search(r'"reused": \{\s*"prepare": 3,', r.output)


def test_duckdb_style_query_over_the_parts(local5k):
    """The outputs are plain Parquet datasets: pyarrow reads a whole folder as one table."""
    import pyarrow.dataset as ds

    out, summary = local5k
    t = ds.dataset(out / "relations", format="parquet").to_table()
    assert t.num_rows == summary.relations
    kinds = set(t.column("kind").to_pylist())
    assert {"copy", "excerpt", "edited"} & kinds


def pairs_agreement(pred: dict[str, str], ref: dict[str, str]) -> dict[str, float]:
    sys.path.insert(0, str(SHARED / "eval"))
    from score_clusters import score

    return score(pred, ref)


def test_windows_on_the_stream_agree_with_one_pass(local5k, stream5k, tmp_path):
    """The 5,000-article stream spans 30 days: 6 windows. Its stories by windows against one pass over
    everything (the same upstream parts, only the story stages rerun)."""
    need(SHARED / "eval" / "score_clusters.py")
    out, summary = local5k
    assert summary.windows >= 5 and summary.story_windows["claims_dropped"] > 0
    one = tmp_path / "one"
    shutil.copytree(out, one)
    again = run_batch([str(stream5k[0])], one, LocalEngine(), shard_bytes=4 * 1024 * 1024, story_windows="off")
    assert again.ran["cluster"] == 1 and again.ran["relate"] == 0 and again.windows == 0
    by = lambda o: {a: s["id"] for s in snapshot(o)["stories"] for a in s["articles"]}  # noqa: E731
    windows, single = by(out), by(one)
    assert len(windows) == len(single) == 5000
    s = pairs_agreement(windows, single)
    # measured 0.990 pairwise F1, 0.998 BCubed (docs/SCALING.md)
    assert s["pairwise_f1"] >= 0.97 and s["bcubed_f1"] >= 0.99, s
    # the storylines of the windows (a name shuffle, links per window) as one task over every centroid
    lines = {s["id"]: s["storyline"] for s in snapshot(out)["stories"]}
    assert lines == reference_storylines(out) and any(lines.values())
    assert not (Path(out) / "stories" / "part-00000.parquet").exists()
    assert not list((one / "stories").glob("part-w*.parquet"))  # the windows' parts of the copied run are gone


# ----------------------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_gives_the_same_results_on_the_seeds(ray_session, local_seeds, tmp_path, workers):
    summary = run_batch([str(SEEDS)], tmp_path / "ray", RayEngine(workers=workers))
    assert summary.ran["prepare"] == 5
    assert snapshot(tmp_path / "ray") == snapshot(local_seeds)
    # a rerun on Ray reuses every part: the signatures' hash secret is the workers', not the driver's
    again = run_batch([str(SEEDS)], tmp_path / "ray", RayEngine(workers=workers))
    assert not any(again.ran.values()), again.ran


def test_ray_gives_the_same_results_on_the_stream(ray_session, local5k, stream5k, tmp_path):
    local_out, local_summary = local5k
    summary = run_batch([str(stream5k[0])], tmp_path / "ray", RayEngine(workers=2), shard_bytes=4 * 1024 * 1024)
    assert summary.articles == local_summary.articles == 5000
    ray_snap, local_snap = snapshot(tmp_path / "ray"), snapshot(local_out)
    assert len(ray_snap["relations"]) > 1000
    for kind in ("relations", "stories", "verdicts", "articles", "quotes"):
        assert ray_snap[kind] == local_snap[kind], kind


def test_hash_secret_of_ray_workers_is_fixed(ray_session):
    """Sentence keys are Python string hashes: every Ray worker must hash with the same secret."""
    values = RayEngine(workers=2).map(lambda job: hash(b"newstrace"), [{}, {}, {}, {}])
    fixed = subprocess.run([sys.executable, "-c", "print(hash(b'newstrace'))"], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": "0"}, check=True).stdout.strip()
    assert values == [int(fixed)] * 4

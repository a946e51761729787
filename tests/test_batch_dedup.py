"""The distributed first-occurrence dedup (batch/origins.py) against its oracle, the one-pass StreamDeduper.

A small stream built from the seeds' sentences holds the chains that the family-root rule resolves:
edits, same-text copies of derived articles, excerpts taken through a derivative, copies of an article
that only shares passages, a repeated id; its lines are written out of date order and cut into shards.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from newstrace.batch import LocalEngine, RayEngine, run_batch
from newstrace.dedup.fingerprint import MIN_WORDS, fast_features
from newstrace.dedup.stream import COPY, EDITED, HALF_MIN_WORDS, SHARES, StreamDeduper, family_roots

from .conftest import SEEDS, need


def _sentences(name: str) -> list[str]:
    """The long lines of one seed (each a sentence or two of at least twelve words)."""
    text = next(need(SEEDS).glob(f"{name}_*.txt")).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if len(line.split()) >= 12]


def _edit_end(s: str) -> str:
    """A one-word edit near the end: the sentence keeps its first half."""
    words = s.rstrip(".").split()
    return " ".join(words[:-1] + ["meanwhile"]) + "."


def _edit_both(s: str) -> str:
    """A word edited in each half: no key of the sentence is left."""
    words = _edit_end(s).split()
    return " ".join(["Indeed"] + words[1:])


def chain_articles() -> list[dict[str, str]]:
    """(id, date, text) of the fixture, in date order."""
    a0, a1, a4 = _sentences("000"), _sentences("001"), _sentences("004")
    assert len(a0) >= 8 and len(a1) >= 6 and len(a4) >= 12
    a = a0[:8]
    b = [_edit_end(s) for s in a[:5]] + a[5:] + a1[:2]  # edited from a
    d = a1[:2] + [_edit_end(s) for s in a[:5]]  # mostly b's new text: through b, names a
    g = a4[:6] + a0[5:8]  # shares three of a's sentences
    h = a4[:6]  # an excerpt of g, which is not derived: names g
    j = [_edit_both(s) for s in a4[:2]] + a4[2:6]  # edited from g (two sentences of its own)
    k = [_edit_both(s) for s in a4[:3]]  # mostly j's new text: through j, names g
    texts = {"a": a, "b": b, "c": b, "d": d, "e": a, "f": d, "g": g, "h": h, "i": h, "j": j, "k": k, "l": k,
             "m": a1[6:10]}
    # one outlet each: an article's id is a hash of its text, headline, outlet and URL
    rows = [{"id": x, "date": f"2024-03-{i + 1:02d}", "source": f"{x}.example", "text": "\n".join(t)}
            for i, (x, t) in enumerate(texts.items())]
    rows.append({**rows[0], "date": "2024-03-20"})  # read again: counts once
    return rows


@pytest.fixture(scope="module")
def chains(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("chains")
    src = d / "in.jsonl"
    # out of date order, and cut into several shards: the global order is rebuilt from the dates
    src.write_text("".join(json.dumps(r) + "\n" for r in reversed(chain_articles())), encoding="utf-8")
    out = d / "out"
    summary = run_batch([str(src)], out, LocalEngine(), shard_bytes=6000)
    assert summary.shards >= 3 and summary.articles == 13 and summary.repeated == 1
    return src, out


def verdicts(out: Path) -> list[dict]:
    """The verdict rows, articles named by their input ids (``ext_id``)."""
    import pyarrow.parquet as pq

    ext = {r["id"]: r["ext_id"] for p in sorted((out / "articles").glob("part-*.parquet"))
           for r in pq.read_table(p, columns=["id", "ext_id"]).to_pylist()}
    rows = pq.read_table(out / "verdicts" / "part-00000.parquet").to_pylist()
    return [{**r, "id": ext[r["id"]], "duplicate_of": ext.get(r["duplicate_of"])} for r in rows]


def oracle(out: Path, ids: list[str]) -> list[tuple]:
    """StreamDeduper's decisions on the batch's clean texts, fed in the batch's global order."""
    import pyarrow.parquet as pq

    text = {r["ext_id"]: r["text"] for p in sorted((out / "articles").glob("part-*.parquet"))
            for r in pq.read_table(p, columns=["ext_id", "text"]).to_pylist()}
    d = StreamDeduper()
    got = []
    for i in range(0, len(ids), 5):  # batches of 5: decisions across and within batches
        chunk = ids[i:i + 5]
        got.extend(d.add_batch(chunk, fast_features([text[x] for x in chunk], MIN_WORDS, HALF_MIN_WORDS)))
    return [(x.id, x.duplicate_of, x.relation, x.score) for x in got]


def test_chains_equal_the_stream_deduper(chains):
    _src, out = chains
    v = verdicts(out)
    assert [r["rank"] for r in v] == list(range(len(v)))
    assert [r["id"] for r in v] == list("abcdefghijklm")
    assert [(r["id"], r["duplicate_of"], r["relation"], r["score"]) for r in v] == oracle(out, [r["id"] for r in v])


def test_chains_name_the_roots(chains):
    """What the root rule must give on the fixture, so that the comparison above is not vacuous."""
    out = chains[1]
    by = {r["id"]: r for r in verdicts(out)}
    rel = lambda x: (by[x]["duplicate_of"], by[x]["relation"])  # noqa: E731
    assert rel("a") == (None, None) and rel("m") == (None, None)
    assert rel("b") == ("a", "edited")
    assert rel("c") == ("a", "edited") and by["c"]["score"] == by["b"]["score"]  # b's text again: b's verdict
    assert by["d"]["duplicate_of"] == "a"  # its text came through b, which derives from a
    assert rel("e") == ("a", "copy") and by["e"]["score"] == 1.0  # a's text again
    assert rel("f") == rel("d")
    assert rel("g") == ("a", "shares_passages")
    assert rel("h") == ("g", "excerpt")  # g only shares passages: h names g itself
    assert rel("i") == ("g", "excerpt")
    assert rel("j") == ("g", "edited")
    assert by["k"]["duplicate_of"] == "g" and rel("l") == rel("k")  # through j, to j's root
    # the origin's place is the named article's
    place = {r["id"]: (r["shard"], r["row"]) for r in verdicts(out)}
    assert all((r["origin_shard"], r["origin_row"]) == place[r["duplicate_of"]] for r in verdicts(out)
               if r["duplicate_of"])


def test_family_roots_by_pointer_jumping():
    """Chains longer than one hop: every derived article names the first non-derived one up its chain."""
    parent = np.array([-1, 0, 1, 2, 3, -1, 5, 6, 4])
    kind = np.array([0, COPY, EDITED, COPY, SHARES, 0, EDITED, COPY, EDITED])
    assert family_roots(parent, kind).tolist() == [-1, 0, 0, 0, 3, -1, 5, 5, 4]


@pytest.mark.parametrize("workers", [1, 2])
def test_chains_on_ray(chains, tmp_path, workers):
    pytest.importorskip("ray")
    import ray

    src, out = chains
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        run_batch([str(src)], tmp_path / "ray", RayEngine(workers=workers), shard_bytes=6000)
    finally:
        if started:
            ray.shutdown()
    assert verdicts(tmp_path / "ray") == verdicts(out)


def test_rerun_after_a_lost_vote_part(chains, tmp_path):
    """A votes part lost (a crash in the middle of the stage): the rerun redoes that part and nothing
    else (its manifest token, a digest of its inputs and code, is what it was, so the stages after it
    stand), and the verdicts are the same."""
    import shutil

    src, out = chains
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "_manifest" / "votes" / "00001.json").unlink()
    summary = run_batch([str(src)], copy, LocalEngine(), shard_bytes=6000)
    assert summary.ran["votes"] == 1 and sum(summary.ran.values()) == 1, summary.ran
    assert verdicts(copy) == verdicts(out)


def test_global_order_sorts_dates_as_python_strings(tmp_path):
    """The order task sorts in Arrow (UTF-8 bytes): the same order as Python's string comparison, on dates
    of mixed forms, undated rows ("") and non-ASCII text; an id read again is kept at its first place."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from newstrace.batch.origins import global_order
    from newstrace.batch.stages import part_path

    rnd = random.Random(3)
    forms = ["", "2024-01-01", "2024-01-01T10:00:00", "2024-01-01 09:00", "2024-1-5", "Mon, 01 Jan 2024",
             "2023-12-31T23:59:59Z", "2024-01-01é", "2024-01-01\u4e2d", "2024-01-01\U0001f600", "2024-01-02"]
    rows = []
    (tmp_path / "articles").mkdir()
    for s in range(3):
        part = [{"id": f"x{rnd.randrange(40)}", "shard": s, "row": r, "order_date": rnd.choice(forms)}
                for r in range(30)]
        pq.write_table(pa.Table.from_pylist(part), part_path(tmp_path, "articles", f"{s:05d}"))
        rows.extend(part)
    ids, shard, row, rank, bounds = global_order(tmp_path, ["00000", "00001", "00002"])
    want, seen = [], set()
    for r in sorted(rows, key=lambda r: (r["order_date"], r["shard"], r["row"])):
        if r["id"] not in seen:
            seen.add(r["id"])
            want.append((r["id"], r["shard"], r["row"]))
    assert list(zip(ids.to_pylist(), shard.tolist(), row.tolist(), strict=True)) == want
    assert len(want) < len(rows)  # some ids were read twice
    place = {(s, r): k for k, (_i, s, r) in enumerate(want)}
    assert [rank[bounds[s] + r] for s in range(3) for r in range(30)] == \
        [place.get((s, r), -1) for s in range(3) for r in range(30)]

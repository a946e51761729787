"""The lean story_windows task (terms counted as rows are read, arrays, no summaries) against
:func:`newstrace.cluster.cluster` on real text: the same stories, article for article, in the same order."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newstrace import cluster as cl
from newstrace.batch import stories as st
from newstrace.batch.stages import part_path
from newstrace.model import Article, Relation

from .conftest import SHARED, need

SHARDS = 2
REL_SCHEMA = pa.schema([("origin", pa.string()), ("derived", pa.string()), ("kind", pa.string()),
                       ("score", pa.float64())])


def write_folder(out, rows: list[dict], relations: list[Relation]) -> tuple[list[Article], list[int | None]]:
    """The parts a story_windows task reads (articles, verdicts, relations) for ``rows`` (id, title, text,
    date) cut into SHARDS shards in file order, ranked in publication order with carried dates, as the
    batch stages write them; the articles in rank order, with their partition days."""
    arts = [Article(id=r["id"], ext_id=r["id"], origin="", raw="", headline=r.get("title"), text=r["text"],
                    date=r.get("date")) for r in rows]
    rank = {a.id: k for k, a in enumerate(cl.publication_order(arts))}
    carried, last = [], None
    for a in arts:
        last = a.date or last
        carried.append(last)
    size = -(-len(arts) // SHARDS)
    shard_of = {}
    for s in range(SHARDS):
        part = list(range(s * size, min(len(arts), (s + 1) * size)))
        for i in part:
            shard_of[arts[i].id] = s
        t = pa.table({"id": [arts[i].id for i in part], "headline": [arts[i].headline for i in part],
                      "text": [arts[i].text for i in part], "date": [arts[i].date for i in part],
                      "shard": [s] * len(part), "row": list(range(len(part))),
                      "order_date": [carried[i] for i in part]})
        dest = part_path(out, "articles", f"{s:05d}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(t, dest)
        mine = [r for r in relations if shard_of.get(r.derived, -1) == s]
        dest = part_path(out, "relations", f"{s:05d}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"origin": [r.origin for r in mine], "derived": [r.derived for r in mine],
                                 "kind": [r.kind for r in mine], "score": [float(r.score) for r in mine]},
                                schema=REL_SCHEMA), dest)
    dest = part_path(out, "verdicts", "00000")
    dest.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"rank": [rank[a.id] for a in arts], "shard": [shard_of[a.id] for a in arts],
                             "row": [i - shard_of[a.id] * size for i, a in enumerate(arts)]}), dest)
    day = {a.id: st.partition_day(c) for a, c in zip(arts, carried, strict=True)}
    return sorted(arts, key=lambda a: rank[a.id]), [day[a.id] for a in sorted(arts, key=lambda a: rank[a.id])]


def lean_and_reference(out, ordered: list[Article], days: list[int | None],
                       relations: list[Relation]) -> tuple[dict, dict]:
    """Each window's owned stories (lists of ranks, in the window's order) by window_job and by
    window_stories (cluster.cluster over the window's Article objects)."""
    by_window: dict[int, list[int]] = {}
    for k, d in enumerate(days):
        for w in st.windows_of(d):
            by_window.setdefault(w, []).append(k)
    lean, ref = {}, {}
    for w, ks in sorted(by_window.items()):
        ids = {ordered[k].id for k in ks}
        rels = [r for r in relations if r.origin in ids and r.derived in ids]
        ref[w] = st.window_stories([ordered[k] for k in ks], ks, [days[k] for k in ks], rels, w)
        _paths, info = st.window_job({"out": str(out), "window": w, "shards": list(range(SHARDS))})
        with np.load(part_path(out, "story_windows", st.window_name(w), "npz")) as z:
            members, sizes = z["members"], z["sizes"]
        lean[w] = [m.tolist() for m in np.split(members, np.cumsum(sizes)[:-1])] if len(sizes) else []
        assert info["articles"] == len(ks) and info["relations"] == len(rels)
    return lean, ref


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> tuple[list[dict], list[Relation]]:
    """The first 2,400 articles of the 5,000-article stream (about 14 days), some dates blanked (the
    first two: no date before them, the 'undated' partition), with its reuse as relations of every kind
    the story stages see (binding, partial under and over FAMILY_SHARE, same_story)."""
    gen = need(SHARED / "bench" / "make_stream.py")
    d = tmp_path_factory.mktemp("lean")
    subprocess.run([sys.executable, str(gen), "--n", "5000", "--seed", "7", "--out", str(d / "s.jsonl"),
                    "--gold", str(d / "g.jsonl")], check=True, capture_output=True)
    rows = [json.loads(x) for x in (d / "s.jsonl").read_text().splitlines()[:2400]]
    for i, r in enumerate(rows):
        if i < 2 or i % 37 == 0:
            r["date"] = None
    ids = {r["id"] for r in rows}
    gold = [json.loads(x) for x in (d / "g.jsonl").read_text().splitlines()]
    kinds = ["copy", "shares_passages", "shares_passages", "same_story", "edit"]
    scores = [1.0, 0.5, 0.1, 0.3, 0.9]
    rels = [Relation(g["origin"], g["id"], kinds[i % 5], scores[i % 5])
            for i, g in enumerate(x for x in gold if x["origin"] and x["id"] in ids and x["origin"] in ids)]
    return rows, rels


def test_lean_windows_give_cluster_stories_on_the_stream(stream, tmp_path):
    """Every window of 2,400 stream articles (dated, carried and undated, in two shards, with reuse
    families): window_job's owned stories equal those of cluster.cluster over the window's articles,
    article for article and in the same order."""
    rows, rels = stream
    ordered, days = write_folder(tmp_path, rows, rels)
    lean, ref = lean_and_reference(tmp_path, ordered, days, rels)
    assert st.UNDATED in lean and len(lean) >= 3
    assert sum(len(s) for s in lean.values()) > 100 and any(len(m) > 2 for s in lean.values() for m in s)
    assert lean == ref


def test_lean_window_gives_cluster_stories_on_ecbplus(tmp_path):
    """ECB+ dev (look-alike events, a third undated), all in the 'undated' partition: the lean window
    task's groups are cluster.cluster's over everything."""
    rows = [json.loads(x) for x in need(SHARED / "data" / "ecbplus" / "ecbplus_dev.jsonl").read_text().splitlines()]
    # no order date anywhere (the partition), the articles' own dates kept (the 7-day rule inside it)
    ordered, _days = write_folder(tmp_path, rows, [])
    folder_dates = {a.id: a.date for a in ordered}
    rank = {a.id: k for k, a in enumerate(ordered)}
    for s in range(SHARDS):
        p = part_path(tmp_path, "articles", f"{s:05d}")
        t = pq.read_table(p)
        pq.write_table(t.set_column(t.schema.get_field_index("order_date"), "order_date",
                                    pa.nulls(len(t), pa.string())), p)
    st.window_job({"out": str(tmp_path), "window": st.UNDATED, "shards": list(range(SHARDS))})
    with np.load(part_path(tmp_path, "story_windows", "undated", "npz")) as z:
        lean = [m.tolist() for m in np.split(z["members"], np.cumsum(z["sizes"])[:-1])]
    ref = [sorted(rank[x] for x in s.articles) for s in cl.cluster(ordered)]
    assert any(folder_dates.values()) and not all(folder_dates.values())
    assert len(ref) > 50 and lean == ref


def test_term_rows_give_vectors_bit_for_bit():
    """TermRows filled in one order and read in another: the very matrices vectors() builds over the
    articles in that other order (term numbers, weights to the bit)."""
    need(SHARED / "seeds")
    arts = [Article(id=p.name, ext_id=p.name, origin="", raw="", text=p.read_text(), headline=p.name) for p in sorted((SHARED / "seeds").glob("*.txt"))]
    rows = cl.TermRows()
    for a in arts:
        rows.add(cl.features(a))
    order = [3, 0, 4, 2, 1]
    want = cl.vectors([arts[i] for i in order])
    got = rows.vectors(order)
    assert got.terms == want.terms
    for x, y in ((got.matrix, want.matrix), (got.tf, want.tf)):
        assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)
        assert np.array_equal(x.data, y.data)
    names = cl.NameRows(*[rows.arrays(order)[k] for k in (0, 2, 3)])
    assert [{want.terms[t][2:] for t in names[i]} for i in range(5)] == [set(want.names([i])) for i in range(5)]
    assert any(len(names[i]) for i in range(5))


def reference_edges(nbrs, k=cl.K):
    """The neighbour-graph weights as one dict over Python sets (the form edge_arrays must reproduce)."""
    sets = [{j for _, j in nb} | {i} for i, nb in enumerate(nbrs)]
    out = {}
    for i, nb in enumerate(nbrs):
        for sim, j in nb:
            out[(min(i, j), max(i, j))] = sim * (1 + len(sets[i] & sets[j]) / (k + 1))
    return out


def test_edge_arrays_equal_the_set_form():
    """Shared neighbours counted on padded arrays give the set form's weights to the bit, in the same
    order, the later row's cosine winning where two rows list each other with different cosines (as the
    incremental clusterer's stored lists may), rows with no neighbours included."""
    rng = np.random.default_rng(3)
    n = 300
    nbrs = []
    for i in range(n):
        cand = rng.choice(np.delete(np.arange(n), i), size=int(rng.integers(0, cl.K + 1)), replace=False)
        nbrs.append([(float(rng.random()), int(j)) for j in cand])
    want = reference_edges(nbrs)
    got = cl.edge_weights(nbrs)
    assert list(got.items()) == list(want.items()) and len(got) > n
    ptr = np.r_[0, np.cumsum([len(x) for x in nbrs])]
    a, b, w = cl.edge_arrays(ptr, np.array([j for x in nbrs for _, j in x]), np.array([s for x in nbrs for s, _ in x]),
                             chunk=97)  # chunks that do not divide the edges
    assert list(zip(zip(a.tolist(), b.tolist(), strict=True), w.tolist(), strict=True)) == list(want.items())


def test_average_link_same_labels_from_arrays_and_int_names():
    """average_link over edge arrays and names as numbers labels as over the dict and name strings."""
    rng = np.random.default_rng(5)
    n = 200
    edges = {}
    for _ in range(800):
        i, j = sorted(rng.choice(n, 2, replace=False).tolist())
        edges[(i, j)] = float(rng.random() * 0.3)
    pool = [f"name{x}" for x in range(30)]
    names = [set(rng.choice(pool, int(rng.integers(0, 6)), replace=False).tolist()) for _ in range(n)]
    number = {x: k for k, x in enumerate(pool)}
    days = [None if i % 9 == 0 else __import__("datetime").date(2024, 1, 1 + i % 20) for i in range(n)]
    fams = [[0, 5], [5, 9], [17, 3]]
    want = cl.average_link(n, edges, days, fams, names)
    arrays = tuple(np.array(x) for x in zip(*((i, j, w) for (i, j), w in edges.items()), strict=True))
    got = cl.average_link(n, arrays, days, fams, [[number[x] for x in s] for s in names])
    assert got == want and len(set(want)) < n - 20
    assert Counter(want).most_common(1)[0][1] > 2


def test_lean_window_keeps_look_alike_events_with_other_actors_apart(stream, tmp_path):
    """Two rehab check-ins in the same words with other people and places (test_cluster's fixture) among
    300 stream articles of the same days: with that background their shared wording weighs, and what
    cluster.cluster finds there depends on its core-name rule (ECB+ and the bare stream never reach it), so
    this is the window test that needs the names (term numbers in the lean task) right."""
    from .test_cluster import REHAB

    background = stream[0][2:302]
    rows = []
    for who, last, place, town, age, friends, reasons in (
            ("Tara Reid", "Reid", "Promises", "Malibu", 33, ["her mother", "her manager", "a friend", "her sister"],
             ["a difficult year", "a party weekend", "a request from family", "a film wrapped"]),
            ("Lindsay Lohan", "Lohan", "Betty Ford", "Rancho Mirage", 26,
             ["her lawyer", "her father", "an assistant", "her mother"],
             ["a court order", "a plea deal", "a judge's ruling", "a probation hearing"])):
        for k, (day, reason, friend, outlet) in enumerate(zip(["Monday", "Tuesday", "Monday", "Wednesday"], reasons,
                                                              friends, "abcd", strict=True)):
            rows.append({"id": f"{last}-{k}", "date": background[10 * k]["date"],
                         "text": REHAB.format(who=who, last=last, place=place, town=town, day=day, age=age,
                                              reason=reason, friend=friend, outlet=f"{outlet}.example")})
    rows = [r for pair in zip(background[:8], rows, strict=True) for r in pair] + background[8:]
    ordered, days = write_folder(tmp_path, rows, [])
    lean, ref = lean_and_reference(tmp_path, ordered, days, [])
    assert lean == ref
    rank = {a.id: k for k, a in enumerate(ordered)}
    found = {tuple(m) for stories in lean.values() for m in stories}
    for last in ("Reid", "Lohan"):
        assert tuple(sorted(rank[f"{last}-{k}"] for k in range(4))) in found

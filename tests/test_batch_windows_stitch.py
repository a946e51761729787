"""The lean stitch task (one int32 story code per article, the relations' ids matched as integers)
against the former algorithm (per-story arrays, one lexsort of every claim, a hash table of every id):
the same npz arrays, on a real batch folder and on a fixture whose reuse family spans windows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newstrace.batch import stories as st
from newstrace.batch.origins import write_rank_tables
from newstrace.batch.stages import DIRS, _save_npz, _schemas, part_path


# ----------------------------------------------------------------------------- the former algorithm
def former_stitch(n: int, claims, family_edges) -> tuple[np.ndarray, np.ndarray]:
    """stitch as it was: every claim in int64 arrays, sorted by (rank, window, number) at once, families
    by scipy's connected components over their ends."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    rank_l, win_l, idx_l = [], [], []
    for w, stories in claims:
        for k, members in enumerate(stories):
            rank_l.append(np.asarray(members, np.int64))
            win_l.append(np.full(len(members), w, np.int64))
            idx_l.append(np.full(len(members), k, np.int64))
    rank = np.concatenate(rank_l) if rank_l else np.zeros(0, np.int64)
    win = np.concatenate(win_l) if win_l else np.zeros(0, np.int64)
    idx = np.concatenate(idx_l) if idx_l else np.zeros(0, np.int64)
    order = np.lexsort((idx, win, rank))
    rank, win, idx = rank[order], win[order], idx[order]
    first = np.r_[True, rank[1:] != rank[:-1]] if len(rank) else np.zeros(0, bool)
    rank, win, idx = rank[first], win[first], idx[first]
    assert len(rank) == n and np.array_equal(rank, np.arange(n))
    a, b = (np.asarray(x, np.int64) for x in family_edges)
    if len(a):
        nodes, inv = np.unique(np.r_[a, b], return_inverse=True)
        g = sparse.coo_matrix((np.ones(len(a)), (inv[:len(a)], inv[len(a):])), shape=(len(nodes), len(nodes)))
        _k, comp = connected_components(g, directed=False)
        _c, first_node = np.unique(comp, return_index=True)
        head = nodes[first_node][comp]
        win[nodes], idx[nodes] = win[head], idx[head]
    return win, idx


def former_stitch_job(out: Path, windows: list[int]) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """What stitch_job wrote as it was (file name -> arrays), and its summary: ids to ranks by Arrow's
    index_in against every verdict id."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    claims = []
    for w in windows:
        with np.load(part_path(out, "story_windows", st.window_name(w), "npz")) as z:
            members, sizes = z["members"], z["sizes"]
        claims.append((w, np.split(members, np.cumsum(sizes)[:-1]) if len(sizes) else []))
    v = pq.read_table(part_path(out, "verdicts", "00000"), columns=["rank", "id", "shard", "row"])
    rel_dir = Path(out) / DIRS["relations"]
    r = ds.dataset(rel_dir, format="parquet").to_table(columns=["origin", "derived", "kind", "score"]) \
        if any(rel_dir.glob("part-*.parquet")) else pa.table({"origin": [], "derived": [], "kind": [], "score": []})
    r = st._binding(r)
    a = pc.index_in(r.column("origin"), value_set=v.column("id")).to_numpy(zero_copy_only=False)
    b = pc.index_in(r.column("derived"), value_set=v.column("id")).to_numpy(zero_copy_only=False)
    ok = ~(np.isnan(a.astype(float)) | np.isnan(b.astype(float))) if len(a) else np.zeros(0, bool)
    win, idx = former_stitch(len(v), claims, (a[ok].astype(np.int64), b[ok].astype(np.int64)))
    shard = v.column("shard").to_numpy().astype(np.int64)
    row = v.column("row").to_numpy().astype(np.int64)
    order = np.lexsort((np.arange(len(win)), idx, win))
    win, idx, ranks = win[order], idx[order], order
    files = {}
    for w in windows:
        lo, hi = np.searchsorted(win, [w, w + 1])
        files[part_path(out, "stitch", st.window_name(w), "npz").name] = {
            "idx": idx[lo:hi], "ranks": ranks[lo:hi], "shard": shard[ranks[lo:hi]], "row": row[ranks[lo:hi]]}
    moved = int(sum(len(m) for _w, s in claims for m in s) - len(ranks))
    return files, {"articles": int(len(ranks)), "stories": int(len(np.unique(np.c_[win, idx], axis=0))),
                   "claims_dropped": moved, "families": int(ok.sum())}


def assert_same_as_former(out: Path, windows: list[int]) -> dict:
    """Run stitch_job on ``out`` and fail on any array (values or dtype), file or summary figure that
    differs from the former algorithm's; the summary."""
    want, want_summary = former_stitch_job(out, windows)
    outputs, summary = st.stitch_job({"out": str(out), "windows": windows})
    assert summary == want_summary
    assert sorted(Path(p).name for p in outputs) == sorted(want)
    for p in outputs:
        with np.load(p) as z:
            got = {k: z[k] for k in z.files}
        assert sorted(got) == sorted(want[Path(p).name]), p
        for k, arr in want[Path(p).name].items():
            assert got[k].dtype == arr.dtype and np.array_equal(got[k], arr), (Path(p).name, k)
    return summary


def windows_of_folder(out: Path) -> list[int]:
    """The windows of a batch folder's story_windows parts, in the order the engine plans them."""
    names = [p.stem.removeprefix("part-") for p in (Path(out) / DIRS["story_windows"]).glob("part-*.npz")]
    return sorted(int(n[1:]) for n in names if n != "undated") + ([st.UNDATED] if "undated" in names else [])


# ----------------------------------------------------------------------------- a real batch folder
def test_stitch_job_equals_the_former_algorithm_on_the_stream(local5k, tmp_path):  # noqa: F811
    """The 5,000-article stream's batch folder (6 windows, reuse families across them): stitch_job
    run again on its windows' claims, verdicts and relations gives the former algorithm's arrays."""
    out, summary = local5k
    assert summary.windows >= 5
    copy = tmp_path / "out"
    for kind in ("verdicts", "ranks", "relations", "story_windows"):
        shutil.copytree(Path(out) / DIRS[kind], copy / DIRS[kind])
    windows = windows_of_folder(copy)
    assert len(windows) == summary.windows
    got = assert_same_as_former(copy, windows)
    assert got["claims_dropped"] > 0 and got["families"] > 100 and got["articles"] == 5000
    # and the batch run's own stitch parts are these
    for p in (Path(out) / DIRS["stitch"]).glob("part-*.npz"):
        with np.load(p) as a, np.load(copy / DIRS["stitch"] / p.name) as b:
            assert all(np.array_equal(a[k], b[k]) for k in a.files)


# ----------------------------------------------------------------------------- a fixture
def hex_id(i: int) -> str:
    return f"{(i + 1) * 0x9E3779B97F4A7C15 % 2**64:016x}"


def write_stitch_folder(out: Path, n: int, claims: dict[int, list[list[int]]], relations: list[tuple],
                        ids: list[str], shards: int = 2) -> None:
    """The parts stitch reads: verdicts (in rank order, ``ids``) and the rank tables, relations (origin id, derived id, kind,
    score) in ``shards`` parts, and each window's claims (story_windows npz)."""
    v = pa.table({"rank": np.arange(n), "id": ids, "shard": pa.array([r % shards for r in range(n)], pa.int32()),
                  "row": pa.array([r // shards for r in range(n)], pa.int32()), "duplicate_of": pa.nulls(n, pa.string()),
                  "relation": pa.nulls(n, pa.string()), "score": np.zeros(n),
                  "origin_shard": pa.nulls(n, pa.int32()), "origin_row": pa.nulls(n, pa.int32())},
                 schema=_schemas()["verdicts"])
    part_path(out, "verdicts", "00000").parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(v, part_path(out, "verdicts", "00000"), row_group_size=7)  # several row groups
    # the dedup stage's rank tables, which stitch reads each rank's shard and row from
    shard_of, row_of = np.arange(n) % shards, np.arange(n) // shards
    table = np.full((shards, int(row_of.max()) + 1 if n else 1), -1, np.int64)
    table[shard_of, row_of] = np.arange(n)
    write_rank_tables(out, table, shard_of, row_of, np.arange(n))
    for s in range(shards):
        mine = relations[s::shards]
        t = pa.table({"origin": [r[0] for r in mine], "derived": [r[1] for r in mine], "kind": [r[2] for r in mine],
                      "score": [float(r[3]) for r in mine], "direction": ["date"] * len(mine),
                      "passages": ["[]"] * len(mine), "stream_relation": pa.nulls(len(mine), pa.string()),
                      "stream_score": pa.nulls(len(mine), pa.float64())}, schema=_schemas()["relations"])
        part_path(out, "relations", f"{s:05d}").parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(t, part_path(out, "relations", f"{s:05d}"))
    for w, stories in claims.items():
        _save_npz(part_path(out, "story_windows", st.window_name(w), "npz"),
                  members=np.array([r for s in stories for r in s], np.int64),
                  sizes=np.array([len(s) for s in stories], np.int64))


def test_a_family_across_windows_goes_whole_to_its_earliest_story(tmp_path):
    """Three weekly windows over 24 ranks. Window 100 claims 0-9 and, for a story running on, 10-11;
    window 101 claims 10-17 (10-11 again: they stay in 100); 102 claims 18-23. A family spans all
    three windows: 3 (window 100) is copied by 15 (101), which is excerpted by 21 (102); a second
    family 9-20 with the ids of another form (upper case, not 16 digits); a same_story relation and a
    weak shares_passages one (no family); a relation to an unknown id (dropped)."""
    n = 24
    ids = [hex_id(i) for i in range(n)]
    ids[9], ids[20] = "ARTICLE-NINE", "A1B2C3D4E5F6A7B8"  # not content ids: matched as strings
    claims = {100: [[0, 1, 2], [3, 4, 10], [5, 6, 7, 8, 9, 11]],
              101: [[10, 12, 13], [11, 14], [15, 16, 17]],
              102: [[18, 19], [20, 21, 22], [23]]}
    rels = [(ids[3], ids[15], "copy", 1.0), (ids[15], ids[21], "excerpt", 0.6), (ids[9], ids[20], "edited", 0.9),
            (ids[1], ids[23], "same_story", 0.5), (ids[2], ids[18], "shares_passages", 0.05),
            (ids[4], hex_id(99), "copy", 1.0)]
    write_stitch_folder(tmp_path, n, claims, rels, ids)
    summary = assert_same_as_former(tmp_path, [100, 101, 102])
    assert summary == {"articles": 24, "stories": 9, "claims_dropped": 2, "families": 3}
    win, idx = {}, {}
    for w in (100, 101, 102):
        with np.load(part_path(tmp_path, "stitch", st.window_name(w), "npz")) as z:
            for k, r in zip(z["idx"].tolist(), z["ranks"].tolist(), strict=True):
                win[r], idx[r] = w, k
            assert z["shard"].tolist() == [r % 2 for r in z["ranks"].tolist()]
    story = lambda r: (win[r], idx[r])  # noqa: E731
    assert story(15) == story(21) == story(3) == (100, 1)  # the family, in its earliest member's story
    assert story(20) == story(9) == (100, 2)
    assert story(10) == (100, 1) and story(11) == (100, 2)  # claimed twice: the earlier window's
    assert story(16) == story(17) == (101, 2) and story(22) == (102, 1)  # the rest of the stories stay
    assert story(23) == (102, 2) and story(18) == (102, 0)  # no family from same_story or a weak share


def test_stitch_codes_and_families_on_their_own():
    """family_heads: a chain and a star, each to its least rank; _hex_keys: the 64-bit number of a
    content id, and no number for anything else."""
    nodes, heads = st.family_heads(np.array([7, 5, 2, 30, 30], np.int32), np.array([5, 2, 9, 31, 40], np.int32))
    assert dict(zip(nodes.tolist(), heads.tolist(), strict=True)) == {2: 2, 5: 2, 7: 2, 9: 2, 30: 30, 31: 30, 40: 30}
    ids = pa.array(["0123456789abcdef", "0123456789ABCDEF", "ffffffffffffffff", None, "12", "0123456789abcdeg"])
    keys, ok = st._hex_keys(ids)
    assert ok.tolist() == [True, False, True, False, False, False]
    assert keys[ok].tolist() == [0x0123456789ABCDEF, 2**64 - 1]
    keys, ok = st._hex_keys(ids.slice(2))  # an array that starts inside its buffers
    assert ok.tolist() == [True, False, False, False] and keys[0] == 2**64 - 1
    # a window claiming a rank twice keeps its first story; ranks past n are an error
    with pytest.raises(ValueError, match="3 of 2 articles"):
        st.stitch(2, [(1, [0, 1, 5], [2, 1])], (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    win, idx = st.stitch(3, [(1, [0, 1, 1, 2], [2, 2])], (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    assert idx.tolist() == [0, 0, 1] and win.tolist() == [1, 1, 1]

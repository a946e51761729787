"""Stories by time windows in batch mode: the plan, the stitch rules, and the distance to one pass."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from newstrace.batch import LocalEngine, run_batch
from newstrace.batch import stories as st
from newstrace.cluster import STORY_DAYS

from .conftest import SEEDS, need
from .test_batch import reference_storylines, snapshot


def day(s: str) -> int:
    return date.fromisoformat(s).toordinal()



def test_plan_windows_by_density():
    """Windows only where they hold enough articles for their term statistics; undated input: one pass."""
    first = (day("2024-01-01") // st.STEP_DAYS + 1) * st.STEP_DAYS  # the first day of a window
    dense = {first + i: 300 for i in range(5 * st.STEP_DAYS)}  # 5 windows' heads, ~6,300 articles a window
    sparse = {day("2004-07-29"): 3, day("2008-12-11"): 4, day("2013-09-17"): 2}  # ECB+-like: years apart
    assert len(st.plan_windows(dense, 0)) == 5  # the window before the first day would own nothing and st.plan_windows(dense, 5)[-1] == st.UNDATED
    assert st.plan_windows(sparse, 0) == [] and st.plan_windows(sparse, 0, "on") != []
    assert st.plan_windows({}, 40) == [] and st.plan_windows(dense, 0, "off") == []
    with pytest.raises(ValueError):
        st.plan_windows(dense, 0, "sometimes")


def test_each_story_fits_the_window_it_starts_in():
    """A story starting on any day d spans to d + STORY_DAYS at most: window w = d // S holds every day
    of it, and only w owns it; every day lies in 1 + BACK_WINDOWS windows, the earliest first."""
    for d in range(day("2024-01-01"), day("2024-01-01") + 2 * st.STEP_DAYS):
        w = d // st.STEP_DAYS
        assert all(w in st.windows_of(x) for x in range(d, d + STORY_DAYS + 1))
        assert [x for x in st.windows_of(d) if st.owns(x, [d, d + STORY_DAYS])] == [w]
        assert len(st.windows_of(d)) == 1 + st.BACK_WINDOWS and list(st.windows_of(d)) == sorted(st.windows_of(d))


def test_stitch_earlier_window_wins_and_families_go_whole():
    # ranks 0-1 in window 10 only, 2-3 in windows 10 and 11 (its overlap), 4-5 in window 11 only; each
    # window's stories as story_windows writes them: the ranks one story after another, and the sizes
    claims = [(10, [0, 1, 2, 3], [3, 1]), (11, [2, 3, 4, 5], [3, 1])]
    win, idx = st.stitch(6, claims, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    assert list(zip(win.tolist(), idx.tolist(), strict=True)) == [(10, 0), (10, 0), (10, 0), (10, 1), (11, 0), (11, 1)]
    # 5 derives from 1 (a copy weeks later, in no common window): it joins 1's story
    win, idx = st.stitch(6, claims, (np.array([1]), np.array([5])))
    assert (win[5], idx[5]) == (10, 0)
    with pytest.raises(ValueError, match="owned story"):
        st.stitch(7, claims, (np.zeros(0, np.int64), np.zeros(0, np.int64)))  # rank 6 claimed by nobody
    # rank 3 in three windows' stories (a story of window 10 running through 11's head into 12's): the
    # earliest claim wins, whatever order the claims come in
    three = [(12, [3, 6], [2]), *claims]
    win, idx = st.stitch(7, three, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    assert (win[3], idx[3]) == (10, 1) and (win[6], idx[6]) == (12, 0)


def test_seed_versions_across_a_window_edge(tmp_path):
    """The three versions of one story dated on either side of a window edge, and a copy of one of them
    published five weeks later: by windows as in one pass, one story."""
    need(SEEDS)
    texts = {p.name[:3]: p.read_text() for p in sorted(SEEDS.glob("*.txt"))}
    edge = (day("2024-03-01") // st.STEP_DAYS + 1) * st.STEP_DAYS  # the first day of a window
    when = {"000": edge - 9, "001": edge - 3, "004": edge - 1, "002": edge, "003": edge + 2}
    rows = [{"id": k, "text": t, "date": date.fromordinal(when[k]).isoformat(), "source": f"s{k}.example"}
            for k, t in texts.items()]
    rows.append({"id": "004-late", "text": texts["004"], "date": date.fromordinal(edge + 35).isoformat(),
                 "source": "late.example"})
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in sorted(rows, key=lambda r: r["date"])))
    res = {}
    for mode in ("on", "off"):
        summary = run_batch([str(src)], tmp_path / mode, LocalEngine(), story_windows=mode)
        assert (summary.windows >= 4) == (mode == "on")
        snap = snapshot(tmp_path / mode)
        ext = {a["id"]: a["ext_id"] for a in snap["articles"]}
        res[mode] = sorted(sorted(ext[a] for a in s["articles"]) for s in snap["stories"])
    assert ["002", "003", "004", "004-late"] in res["on"]
    assert res["on"] == res["off"]
    # the storylines, found by the name shuffle over windows: the seeds' one storyline of three stories,
    # as the single task over every centroid finds it
    lines = {s["id"]: s["storyline"] for s in snapshot(tmp_path / "on")["stories"]}
    assert lines == reference_storylines(tmp_path / "on")
    assert len(lines) == 3 and len(set(lines.values())) == 1 and None not in lines.values()


def test_undated_articles_with_no_date_before_them_form_their_own_partition(tmp_path):
    """Undated articles at the head of a shard have no carried date: the 'undated' partition; an undated
    one after a dated one joins that one's windows. Every article ends in exactly one story."""
    need(SEEDS)
    texts = {p.name[:3]: p.read_text() for p in sorted(SEEDS.glob("*.txt"))}
    rows = [{"id": "000", "text": texts["000"]}, {"id": "001", "text": texts["001"]},
            {"id": "004", "text": texts["004"], "date": "2024-03-04"}, {"id": "002", "text": texts["002"]},
            {"id": "003", "text": texts["003"], "date": "2024-03-05"}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = run_batch([str(src)], tmp_path / "o", LocalEngine(), story_windows="on")
    snap = snapshot(tmp_path / "o")
    assert summary.windows == 2  # the window of March 4-5, and 'undated'
    ext = {a["id"]: a["ext_id"] for a in snap["articles"]}
    members = [ext[a] for s in snap["stories"] for a in s["articles"]]
    assert sorted(members) == ["000", "001", "002", "003", "004"]
    groups = sorted(sorted(ext[a] for a in s["articles"]) for s in snap["stories"])
    assert ["002", "003", "004"] in groups  # 002, undated, carried to March 4: with its versions
    assert {p.name for p in (tmp_path / "o" / "stories").glob("*.parquet")} == \
        {"part-undated.parquet", f"part-{st.window_name(date(2024, 3, 4).toordinal() // st.STEP_DAYS)}.parquet"}

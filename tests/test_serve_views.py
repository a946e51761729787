"""The page helpers of newstrace serve: the reuse tree, quote highlighting, the timeline, FTS queries."""

from __future__ import annotations

import pytest

pytest.importorskip("jinja2")

from newstrace.serve.queries import MARK_OFF, MARK_ON, _words_pattern, fts_query  # noqa: E402
from newstrace.serve.views import (  # noqa: E402
    compare_rows,
    highlighted_paragraphs,
    kinds_of,
    marked,
    reuse_tree,
    timeline_svg,
)


def art(i: str, outlet: str | None = "wire", date: str | None = "2024-01-01T10:00:00Z") -> dict:
    return {"id": i, "headline": f"headline {i}", "outlet": outlet, "date": date, "ext_id": i}


def rel(o: str, d: str, kind: str = "copy", score: float = 0.9) -> dict:
    return {"origin": o, "derived": d, "kind": kind, "score": score, "direction": "date", "passages": 1}


def test_reuse_tree_places_each_article_once_under_its_best_origin():
    members = [art("a"), art("b"), art("c"), art("d")]
    rels = [rel("a", "b"), rel("b", "c", "rewrite", 0.4), rel("a", "c", "excerpt", 0.8)]
    tree = reuse_tree(members, rels)
    assert [n["article"]["id"] for n in tree] == ["a", "d"]
    # c hangs under a (excerpt 0.8), not under b (rewrite 0.4); siblings best first
    assert [(n["article"]["id"], n["relation"]["kind"]) for n in tree[0]["children"]] == [("b", "copy"),
                                                                                          ("c", "excerpt")]
    assert tree[0]["children"][0]["children"] == []
    assert kinds_of(members, rels) == {"a": "origin", "b": "copy", "c": "excerpt", "d": ""}


def test_reuse_tree_survives_a_cycle():
    members = [art("a"), art("b")]
    tree = reuse_tree(members, [rel("a", "b"), rel("b", "a", score=0.5)])
    ids = [tree[0]["article"]["id"]] + [c["article"]["id"] for c in tree[0]["children"]]
    assert sorted(ids) == ["a", "b"] and len(tree) == 1


def test_quotes_highlighted_within_paragraphs():
    text = "He said \"we will win\" today.\n\nShe replied: \"no you won't\"."
    q1 = {"content": [8, 21], "speaker": "He", "kind": "direct"}
    q2 = {"content": [43, 57], "speaker": None, "kind": "direct"}
    overlapping = {"content": [10, 15], "speaker": "X", "kind": "direct"}
    paras = highlighted_paragraphs(text, [q2, overlapping, q1])
    assert len(paras) == 2
    assert [(p["text"], p["quote"] is not None) for p in paras[0]] == [
        ("He said ", False), ('"we will win"', True), (" today.", False)]
    assert paras[0][1]["end"] and paras[0][1]["quote"]["speaker"] == "He"
    assert [p["text"] for p in paras[1] if p["quote"]] == ['"no you won\'t"']


def test_timeline_escapes_and_places_dots():
    members = [art("a", "<b>Evil</b>", "2024-01-01T10:00:00Z"), art("b", "wire", "2024-01-01T12:00:00+02:00"),
               art("c", "wire", None)]
    svg = timeline_svg(members, {"a": "origin", "b": "copy"})
    assert svg.count("<circle") == 2  # the undated article is not drawn
    assert "<b>" not in svg and "&lt;b&gt;Evil&lt;/b&gt;" in svg
    # 12:00+02:00 is 10:00 UTC: both dots at the same time, so at the same x
    xs = [part.split('"')[0] for part in svg.split('cx="')[1:]]
    assert xs[0] == xs[1]
    assert timeline_svg([art("x", date=None)], {}) == ""


def test_snippet_marks_and_fts_query():
    assert marked(f"a {MARK_ON}hit{MARK_OFF} b") == [("a ", False), ("hit", True), (" b", False)]
    assert fts_query('Putin "AND" (NEAR') == '"Putin" "AND" "NEAR"'
    assert fts_query("Zelensk*") == '"Zelensk"*'
    assert fts_query("((( ***") is None
    marks = _words_pattern(fts_query("putin zelensk*"))
    assert marks.findall("Putin met Zelenskyy, not putinism") == ["Putin", "Zelenskyy"]


def test_compare_rows_mark_new_and_unused_text():
    a = {"id": "o", "text": "First sentence here. Second one.", "headline": "o", "outlet": "x", "date": None}
    b = {"id": "d", "text": "Intro added. First sentence here.", "headline": "d", "outlet": "y", "date": None}
    p = {"a_start": 0, "a_end": 20, "b_start": 13, "b_end": 33, "similarity": 1.0, "diff": []}
    c = compare_rows({"a": a, "b": b, "relation": {"origin": "o", "derived": "d", "kind": "excerpt", "score": 0.6,
                                                   "direction": "date", "passages": [p]}})
    assert [r["kind"] for r in c["rows"]] == ["added", "passage"]
    assert c["rows"][0]["right"] == [("+", "Intro added.")]
    assert c["unused"] == ["Second one."]

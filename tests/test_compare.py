"""Compare: statements matched across versions of a story, on small texts written for the purpose."""

from __future__ import annotations

from newstrace.compare import compare, quoted_fragments, statement_similarity
from newstrace.model import Article, Quote, Story


def art(aid: str, text: str) -> Article:
    return Article(raw=text, ext_id=aid, origin=aid, id=aid, text=text)


def test_speaker_changed_and_quote_reworded_between_versions():
    a = art("a", "x")
    b = art("b", "y")
    qa = [Quote("a", (0, 60), "direct", "“The harbour will reopen next week after the repairs,”", speaker="Anna Keller"),
          Quote("a", (70, 120), "indirect", "the storm caused damage worth three million euros", speaker="Tom Baker")]
    qb = [Quote("b", (0, 60), "direct", "“The harbour will open again next week after repairs,”", speaker="Anna Keller"),
          Quote("b", (70, 120), "indirect", "the storm caused damage worth three million euros", speaker="Anna Keller")]
    out = compare([Story("s", ["a", "b"])], {"a": a, "b": b}, (), qa + qb)
    kinds = sorted(d.kind for d in out)
    assert kinds == ["quote_reworded", "speaker_changed"]
    sc = next(d for d in out if d.kind == "speaker_changed")
    assert (sc.a_text, sc.b_text) == (qa[1].text, qb[1].text) and "Tom Baker" in sc.note and "Anna Keller" in sc.note


def test_unrelated_statements_are_not_matched():
    qa = [Quote("a", (0, 40), "direct", "“We will win the election,”", speaker="Anna Keller")]
    qb = [Quote("b", (0, 40), "direct", "“The bridge is closed for repairs,”", speaker="Tom Baker")]
    assert compare([Story("s", ["a", "b"])], {"a": art("a", "x"), "b": art("b", "y")}, (), qa + qb) == []


def test_cut_quote_is_not_reworded():
    qa = [Quote("a", (0, 40), "direct", "“We will rebuild the pier before summer, and the beach too,”", speaker="Anna Keller")]
    qb = [Quote("b", (0, 40), "direct", "“We will rebuild the pier before summer,”", speaker="Anna Keller")]
    assert compare([Story("s", ["a", "b"])], {"a": art("a", "x"), "b": art("b", "y")}, (), qa + qb) == []


def test_helpers():
    assert quoted_fragments("“One two three.” … Four five six.”") == ["One two three", "Four five six"]
    assert statement_similarity("Putin needed to return to reality and acknowledge Russia did not want talks",
                                "Putin had to face reality and admit Russia was not interested in talks") > 0.5
    assert statement_similarity("the dam would hold", "the vote was lost") == 0.0

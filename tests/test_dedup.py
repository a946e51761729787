"""Reuse relations on the store path: every kind on small fixtures, and the seed relations."""

from __future__ import annotations

import pytest

from newstrace.dedup import relate_new, relate_pair
from newstrace.dedup.align import align, word_diff
from newstrace.model import Article, content_id
from newstrace.pipeline import ingest, process
from newstrace.store import Store

ORIGINAL = """City council approves new budget after long debate

The city council on Tuesday approved a budget of 4.2 billion dollars for next year after a debate that lasted more than nine hours.

Mayor Anna Keller said the plan would protect libraries and hire 120 new teachers without raising property taxes.

"This is a budget for families, and it keeps every promise we made," Keller told reporters outside the chamber.

Opponents argued that the spending on road repairs was far too small for a city of this size.

Councillor Mark Dunn said the vote showed that the council had ignored residents of the northern districts.

The budget takes effect on January 1 and will be reviewed again in the spring."""

UNRELATED = """Storm closes mountain passes as snow piles up

Heavy snow closed three mountain passes on Sunday and left thousands of travellers stranded in small towns.

Police said drivers should carry chains and blankets, and avoid the northern highway until Monday evening.

The weather service expects another thirty centimetres of snow before the storm moves east."""


def art(text: str, source: str, date: str | None = None, title: str | None = None) -> Article:
    a = Article(raw=text, ext_id=source, origin=source, title=title, source=source, date=date, fmt="jsonl",
                id=content_id(text, title, source, None))
    return process(a)


def paras(text: str) -> list[str]:
    return text.split("\n\n")


@pytest.fixture()
def origin() -> Article:
    return art(ORIGINAL, "cityledger.example", "2024-03-05T10:00")


def test_duplicate(origin):
    dup = art(ORIGINAL, "cityledger.example", "2024-03-05T12:00")
    rel = relate_pair(origin, dup)
    assert (rel.kind, rel.origin, rel.derived) == ("duplicate", origin.id, dup.id)


def test_copy_with_other_chrome_and_credit(origin):
    text = "Skip to main content\nShare\n" + ORIGINAL + "\n\n(Reporting by Jane Roe; Editing by Tom Poe)\n\nMore like this\nA teaser about something else entirely..."
    copy = art(text, "northpost.example", "2024-03-05T11:00")
    rel = relate_pair(copy, origin)  # argument order must not matter
    assert rel.kind == "copy" and rel.origin == origin.id and rel.direction == "date"


def test_excerpt_without_dates_is_the_part(origin):
    undated = art(ORIGINAL, "cityledger.example")
    part = art("\n\n".join(paras(ORIGINAL)[:4]), "citywire.example")
    rel = relate_pair(part, undated)
    assert (rel.kind, rel.origin, rel.derived, rel.direction) == ("excerpt", undated.id, part.id, "containment")
    assert rel.score >= 0.95


def test_edited(origin):
    p = paras(ORIGINAL)
    edited = "\n\n".join([
        "Council passes budget",
        p[1].replace("more than nine hours", "nearly ten hours"),
        p[2],
        p[3],
        "The vote was 9 to 4.",
        p[5].replace("far too small", "too small"),
        p[6],
    ])
    rel = relate_pair(origin, art(edited, "morningherald.example", "2024-03-06T08:00"))
    assert rel.kind == "edited"
    changed = [x for x in rel.passages if x.diff]
    assert any(tuple(op) == ("~", "more than nine", "nearly ten") for x in changed for op in x.diff)


def test_rewrite(origin):
    spun = """Council backs new spending plan

On Tuesday, the city council passed a budget worth 4.2 billion dollars for the coming year following a debate of over nine hours.

Anna Keller, the mayor, stated that the plan would safeguard libraries and employ 120 new teachers without any rise in property taxes.

Critics claimed that the money for road repairs was much too little for a city this large.

Mark Dunn, a councillor, stated that the vote proved the council had disregarded residents of the northern districts.

The budget comes into force on January 1 and will be looked at again in spring."""
    derived = art(spun, "spinsite.example", "2024-03-07T08:00")
    rel = relate_pair(origin, derived)
    assert rel.kind == "rewrite"
    assert all(p.similarity < 1.0 for p in rel.passages)
    assert len(align(origin.text, derived.text).pairs) >= 4


def test_shares_passages(origin):
    p = paras(ORIGINAL)
    roundup = "\n\n".join([
        "Weekend roundup: budget, storm and a new stadium",
        p[1], p[2],
        "In other news, the football club unveiled plans for a new stadium with room for 40,000 fans near the river.",
        "The club said construction would start next year if the planning office agreed to the design.",
        "Fans have campaigned for a new ground for more than a decade, saying the old one is falling apart.",
        "Meanwhile, forecasters warned of strong winds along the coast over the weekend and into Monday morning.",
        "Ferry services may be cancelled, the port authority said in a statement on Friday afternoon.",
    ])
    rel = relate_pair(origin, art(roundup, "weekly.example", "2024-03-09T08:00"))
    assert rel.kind == "shares_passages"


def test_unrelated(origin):
    assert relate_pair(origin, art(UNRELATED, "alpine.example", "2024-03-05T10:00")) is None


def test_word_diff_sides():
    assert word_diff("Putin said “we are ready”", "Putin said \"we are ready\"") == [
        ("=", "Putin said “we are ready”", 'Putin said "we are ready"')]
    assert ("-", "very", "") in word_diff("a very long day", "a long day")


def test_store_index_is_incremental_and_never_points_forward(tmp_path, origin):
    """A later ingest is checked against everything stored before; origins are never later."""
    store = Store.open(tmp_path / "x.db")
    first = [origin, art(UNRELATED, "alpine.example", "2024-03-04T09:00")]
    ingest(first, store)
    assert relate_new(store) == []
    later = art(ORIGINAL, "northpost.example", "2024-03-05T18:00", title="Budget approved")
    earlier_part = art("\n\n".join(paras(ORIGINAL)[:3]), "early.example", "2024-03-05T11:00")
    ingest([later, earlier_part], store)
    rels = relate_new(store)
    assert {(r.origin, r.derived, r.kind) for r in rels} == {
        (origin.id, later.id, "copy"), (origin.id, earlier_part.id, "excerpt"),
        (earlier_part.id, later.id, "shares_passages")}
    dates = {a.id: a.date for a in store.articles()}
    for r in store.load_analysis().relations:
        assert dates[r.origin] <= dates[r.derived]
    assert relate_new(store) == []  # nothing new, nothing redone


def test_seed_relations(seed_store, seeds):
    """003 is a rewrite of 002 and 004; 002 shares passages with 004; 000 and 001 reuse nothing."""
    num = {a.id: k for k, a in seeds.items()}
    rels = {(num[r.origin], num[r.derived]): r for r in seed_store.load_analysis().relations}
    assert rels[("002", "003")].kind == "rewrite"
    assert rels[("004", "003")].kind == "rewrite"
    assert rels[("004", "002")].kind == "shares_passages"
    assert rels[("004", "002")].direction == "credit"  # the Reuters credit marks the wire original
    assert not any({"000", "001"} & set(pair) for pair in rels)
    # the aligned pairs name the Podolyak quote in both rewrites and the Reuters passages in 002
    s002, s003, s004 = seeds["002"].text, seeds["003"].text, seeds["004"].text
    for origin, text in (("002", s002), ("004", s004)):
        pairs = [(text[p.a_start:p.a_end], s003[p.b_start:p.b_end]) for p in rels[(origin, "003")].passages]
        assert any("single-handedly attacked Ukraine" in a and "single-handedly attacked Ukraine" in b
                   for a, b in pairs)
    shared = " ".join(s002[p.b_start:p.b_end] for p in rels[("004", "002")].passages)
    assert "Russia doesn’t want negotiations, but tries to avoid responsibility" in shared
    al = align(s004, s002)
    assert al.para_d < 0.6  # 002 adds much of its own: partial reuse, not an edit

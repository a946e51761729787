"""Incremental analysis: new articles join the stored stories, and the answer is the full run's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from newstrace import incremental
from newstrace.pipeline import analyse, analyse_new, ingest
from newstrace.read import read_paths
from newstrace.read.jsonl import row_to_article
from newstrace.store import Store

from .conftest import OTHER_NEWS, SEEDS, SHARED, need

QUAKE = ("A magnitude {m} earthquake struck near {place} on {day}, killing at least {n} people and destroying "
         "hundreds of homes, officials said. Rescue teams searched the rubble of collapsed buildings through the "
         "night in {place}, where the governor, {gov}, declared a state of emergency.")
REHAB = ("{who} has checked into the {place} treatment centre in {town}, her representative confirmed on {day}. "
         "The {age}-year-old actress entered the facility after {reason}, a spokesman for {place} said. \u201cShe is "
         "doing well and asks for privacy,\u201d said {rep}, her publicist.")


def _rows() -> list[dict]:
    """Four events over three weeks, two of them look-alikes of two others, and unrelated news between."""
    rows = []
    for i, (m, place, gov, n, day) in enumerate([("6.1", "Izmir", "Ali Demir", 12, "2024-01-08"),
                                                  ("6.1", "Izmir", "Ali Demir", 14, "2024-01-09"),
                                                  ("6.0", "Izmir", "Ali Demir", 15, "2024-01-10"),
                                                  ("5.2", "Lima", "Rosa Paz", 3, "2024-01-22"),
                                                  ("5.3", "Lima", "Rosa Paz", 4, "2024-01-23")]):
        rows.append({"id": f"quake{i}", "title": f"Earthquake hits {place}", "date": day,
                     "source": f"outlet{i % 3}.example",
                     "text": QUAKE.format(m=m, place=place, day="Monday", n=n, gov=gov)})
    for i, (who, place, town, rep, day) in enumerate([
            ("Tara Reid", "Promises", "Malibu", "Jane Holt", "2024-01-11"),
            ("Tara Reid", "Promises", "Malibu", "Jane Holt", "2024-01-12"),
            ("Lindsay Lohan", "Betty Ford", "Rancho Mirage", "Steve Honig", "2024-01-12"),
            ("Lindsay Lohan", "Betty Ford", "Rancho Mirage", "Steve Honig", "2024-01-13")]):
        rows.append({"id": f"rehab{i}", "title": f"{who} in rehab", "date": day, "source": f"outlet{i % 2}.example",
                     "text": REHAB.format(who=who, place=place, town=town, day="Monday", age=30 + i % 2,
                                          reason=["a difficult year", "a court order"][i % 2], rep=rep)})
    other = OTHER_NEWS
    rows += [{"id": f"other{i}", "title": None, "date": f"2024-01-{10 + 3 * i}", "source": "c.example", "text": t}
             for i, t in enumerate(other)]
    return sorted(rows, key=lambda r: r["date"])


def _ingest(store: Store, rows: list[dict]) -> None:
    ingest([row_to_article(r, "test", r["id"], None) for r in rows], store)


def _groups(store: Store) -> set[frozenset[str]]:
    ext = dict(store.conn.execute("SELECT id, ext_id FROM articles"))
    return {frozenset(ext[a] for a in s.articles) for s in store.load_analysis().stories}


def _stories(store: Store) -> list[tuple]:
    return sorted((s.id, tuple(sorted(s.articles)), s.headline, s.first, s.last, s.storyline, s.copies,
                   tuple(s.key_names)) for s in store.load_analysis().stories)


def _state(store: Store) -> dict[str, list]:
    tables = {"cluster_vocab": "id", "cluster_articles": "seq", "cluster_postings": "term, seq",
              "cluster_nbrs": "seq, nbr", "stories": "id", "story_articles": "article", "story_names": "name, story",
              "quotes": "id", "discrepancies": "id", "speakers": "name"}
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY {k}").fetchall() for t, k in tables.items()}


def test_seeds_one_by_one_give_the_full_runs_stories(seed_store, tmp_path):
    need(SEEDS)
    store = Store.open(tmp_path / "one.db")
    for path in sorted(SEEDS.glob("*.txt")):
        ingest(read_paths([path]), store)
        analyse(store)
    assert incremental.ready(store)
    assert _stories(store) == _stories(seed_store)  # same members, ids, headlines and one storyline
    assert len({s[5] for s in _stories(store)}) == 1
    # the quotes are the same; a speaker keeps the spelling it was first stored under (see ARCHITECTURE.md)
    mine = sorted((q.article, q.content, q.text, q.mention) for q in store.load_analysis().quotes)
    assert mine == sorted((q.article, q.content, q.text, q.mention) for q in seed_store.load_analysis().quotes)
    speakers = {q.speaker for q in store.load_analysis().quotes}
    assert "Mykhailo Podolyak" in speakers and "Mykhailo Polyak" not in speakers  # the misspelling still joins


@pytest.mark.parametrize("batch", [1, 3, 5])
def test_streaming_in_date_order_equals_full(tmp_path, batch):
    rows = _rows()
    stream = Store.open(tmp_path / "stream.db")
    for i in range(0, len(rows), batch):
        _ingest(stream, rows[i:i + batch])
        analyse(stream)
    full = Store.open(tmp_path / "full.db")
    _ingest(full, rows)
    analyse(full)
    assert _stories(stream) == _stories(full)
    groups = _groups(full)
    assert frozenset({"quake0", "quake1", "quake2"}) in groups and frozenset({"quake3", "quake4"}) in groups
    assert frozenset({"rehab0", "rehab1"}) in groups and frozenset({"rehab2", "rehab3"}) in groups
    # and a full run over the streamed store changes nothing
    analyse(stream, full=True)
    assert _stories(stream) == _stories(full)


def test_nothing_new_changes_nothing(tmp_path):
    store = Store.open(tmp_path / "i.db")
    rows = _rows()
    _ingest(store, rows[:6])
    analyse(store)
    _ingest(store, rows[6:])
    analyse(store)
    before = _state(store)
    summary = analyse_new(store)
    assert (summary.new, summary.redone, summary.linked) == (0, 0, 0)
    analyse(store)
    assert _state(store) == before


def test_state_survives_reopening(tmp_path):
    rows = _rows()
    db = tmp_path / "r.db"
    with Store.open(db) as store:
        _ingest(store, rows[:7])
        analyse(store)
    with Store.open(db) as store:
        assert incremental.ready(store)
        _ingest(store, rows[7:])
        summary = analyse_new(store)
        assert summary.new == len(rows) - 7 and summary.linked < len(rows)  # only the stories reached
        streamed = _stories(store)
    full = Store.open(tmp_path / "f.db")
    _ingest(full, rows)
    analyse(full)
    assert streamed == _stories(full)


def test_a_migration_6_store_upgrades_and_then_goes_incremental(seed_store, tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as out:
        seed_store.conn.backup(out)
    with sqlite3.connect(db) as c:  # take the store back to before migration 7
        c.executescript("""
            DROP TABLE cluster_vocab; DROP TABLE cluster_articles; DROP TABLE cluster_postings; DROP TABLE cluster_nbrs;
            DROP TABLE story_names; DROP TABLE analyse_dirty; DROP TRIGGER articles_dirty_au;
            DELETE FROM state WHERE k IN ('cluster_seq', 'cluster_docs');
            ALTER TABLE stories DROP COLUMN entities;
            PRAGMA user_version = 6;""")
    store = Store.open(db)
    assert store.version == 8
    names = store.conn.execute("SELECT COUNT(*) FROM story_names").fetchone()[0]
    assert names == sum(min(6, len(s.key_names)) for s in store.load_analysis().stories) > 0  # back-filled
    assert not incremental.ready(store)
    analyse(store)  # no state yet: a full analysis, which stores it
    assert incremental.ready(store) and _stories(store) == _stories(seed_store)
    assert store.conn.execute("SELECT COUNT(*) FROM cluster_articles").fetchone()[0] == 5
    _ingest(store, _rows()[:3])
    assert analyse_new(store).new == 3


def test_a_recleaned_article_is_attributed_again(tmp_path):
    store = Store.open(tmp_path / "c.db")
    rows = _rows()
    _ingest(store, rows)
    analyse(store)
    a = next(x for x in store.articles() if x.ext_id == "other0")
    a.text += "\n\n\u201cWe will act again if prices keep rising,\u201d said Anna Petrova, the bank's governor."
    with store.transaction() as conn:
        store.update_cleaning(conn, [a])
    summary = analyse_new(store)
    assert (summary.new, summary.redone) == (0, 1)
    said = [q for q in store.load_analysis().quotes if q.article == a.id]
    assert [q.speaker for q in said if "act again" in q.text] == ["Anna Petrova"]
    assert "Anna Petrova" not in [q.speaker for q in said if "act again" not in q.text]  # the bank is not its governor
    assert store.conn.execute("SELECT COUNT(*) FROM analyse_dirty").fetchone()[0] == 0
    assert _groups(store) == _groups(_full_copy(store, tmp_path))


def _full_copy(store: Store, tmp_path: Path) -> Store:
    db = tmp_path / "copy.db"
    with sqlite3.connect(db) as out:
        store.conn.backup(out)
    copy = Store.open(db)
    analyse(copy, full=True)
    return copy


def test_ecbplus_stream_agrees_with_full(tmp_path):
    """On real look-alike events: the first 120 ECB+ dev articles streamed in date order, 20 per analysis."""
    path = need(SHARED / "data" / "ecbplus" / "ecbplus_dev.jsonl")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][:120]
    for r in rows:
        r["text"] = r.get("text") or r.get("title") or " "
    rows.sort(key=lambda r: r.get("date") or "")
    stream = Store.open(tmp_path / "s.db")
    for i in range(0, len(rows), 20):
        _ingest(stream, rows[i:i + 20])
        incremental_only(stream)
    full = _full_copy(stream, tmp_path)
    a, b = _groups(stream), _groups(full)
    assert len(a & b) / len(a | b) >= 0.8  # most stories come out with exactly the same articles
    assert _pairwise_f1(a, b) >= 0.95  # and nearly every pair of articles is together in both or in neither


def test_postings_are_bounded_per_term(tmp_path, monkeypatch):
    """What a new article probes is bounded per term (``MAX_POSTINGS``), whatever the store's size:
    here 3, so that the fixture's common terms reach it."""
    monkeypatch.setattr(incremental, "MAX_POSTINGS", 3)
    store = Store.open(tmp_path / "p.db")
    rows = _rows()
    for i in range(0, len(rows), 2):
        _ingest(store, rows[i:i + 2])
        analyse(store)
    per_term = dict(store.conn.execute("SELECT term, COUNT(*) FROM cluster_postings GROUP BY term"))
    df = dict(store.conn.execute("SELECT id, df FROM cluster_vocab"))
    assert max(per_term.values()) == 3
    assert any(df[t] > 3 for t in per_term)  # a term kept its first postings and took no more
    assert frozenset({"quake3", "quake4"}) in _groups(store)


def _pairwise_f1(a: set[frozenset[str]], b: set[frozenset[str]]) -> float:
    from itertools import combinations

    pa = {p for g in a for p in combinations(sorted(g), 2)}
    pb = {p for g in b for p in combinations(sorted(g), 2)}
    return 2 * len(pa & pb) / (len(pa) + len(pb)) if pa or pb else 1.0


def incremental_only(store: Store) -> None:
    if incremental.ready(store):
        analyse_new(store)
    else:
        analyse(store)


def test_only_the_reached_story_is_rewritten_and_ids_survive(tmp_path):
    store = Store.open(tmp_path / "k.db")
    _ingest(store, _rows())
    analyse(store)
    rows_before = dict(store.conn.execute("SELECT id, rowid FROM stories"))
    izmir = next(s for s in store.load_analysis().stories if "Izmir" in s.headline)
    late = {"id": "quake9", "title": "Izmir death toll rises", "date": "2024-01-11", "source": "outlet9.example",
            "text": QUAKE.format(m="6.1", place="Izmir", day="Monday", n=19, gov="Ali Demir")}
    _ingest(store, [late])
    summary = analyse_new(store)
    assert summary.new == 1 and summary.stories_before < len(rows_before)
    after = {s.id: s for s in store.load_analysis().stories}
    assert len(after[izmir.id].articles) == 4  # the same story, under the same id, one article more
    rows_after = dict(store.conn.execute("SELECT id, rowid FROM stories"))
    untouched = {i for i in rows_before if rows_after.get(i) == rows_before[i]}
    assert len(untouched) >= len(rows_before) - summary.stories_before  # the others' rows were not rewritten
    assert izmir.id not in untouched


def test_cli_analyse_and_analyse_full(tmp_path):
    from click.testing import CliRunner

    from newstrace.cli import main

    rows = _rows()
    first, rest = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in rows[:6]))
    rest.write_text("".join(json.dumps(r) + "\n" for r in rows[6:]))
    db = str(tmp_path / "cli.db")
    runner = CliRunner()

    def counts(*args: str) -> dict:
        done = runner.invoke(main, ["--db", db, "-q", *args])
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)

    assert runner.invoke(main, ["--db", db, "-q", "ingest", str(first)]).exit_code == 0
    counts("analyse", "--json")
    assert runner.invoke(main, ["--db", db, "-q", "ingest", str(rest)]).exit_code == 0
    streamed = counts("analyse", "--json")
    assert streamed == counts("analyse", "--json")  # nothing new: the same
    assert streamed["stories"] == len(_groups(Store.open(db)))
    assert counts("analyse", "--full", "--json") == streamed


def test_a_store_analysed_by_other_rules_is_analysed_again_once(tmp_path):
    """After an upgrade that changes the rules (pipeline.ANALYSIS_RULES), the next analyse redoes
    everything: an incremental one would keep the old stories and quotes of every article it does not
    reach. Here the stored analysis is tampered with (as an older newstrace could have left it)."""
    from click.testing import CliRunner

    from newstrace import pipeline
    from newstrace.cli import main

    db = tmp_path / "u.db"
    rows = _rows()
    with Store.open(db) as store:
        _ingest(store, rows)
        analyse(store)
        assert not pipeline.rules_changed(store)
        good = _state(store)
        with store.conn:
            store.conn.execute("UPDATE stories SET headline = 'stale headline'")
            store.conn.execute("DELETE FROM quotes")
            Store.set_state(store.conn, "analysis_rules", "2020-01-01")
        assert pipeline.rules_changed(store)
        analyse(store)  # nothing new: an incremental analysis would change nothing
        assert _state(store) == good and not pipeline.rules_changed(store)
        with store.conn:
            store.conn.execute("UPDATE stories SET headline = 'stale headline'")
            store.conn.execute("DELETE FROM state WHERE k = 'analysis_rules'")  # a store from before the stamp
    done = CliRunner().invoke(main, ["--db", str(db), "analyse"])
    assert done.exit_code == 0 and "analysed by an earlier newstrace's rules" in done.output
    with Store.open(db) as store:
        assert _state(store) == good
    again = CliRunner().invoke(main, ["--db", str(db), "analyse"])
    assert again.exit_code == 0 and "earlier newstrace" not in again.output

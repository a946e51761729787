"""Story clustering and storylines."""

from __future__ import annotations

from newstrace.cluster import StoryClusterer, cluster, publication_order
from newstrace.model import Article, Relation, content_id
from newstrace.pipeline import process

QUAKE = ("A magnitude {m} earthquake struck near {place} on {day}, killing at least {n} people and destroying "
         "hundreds of homes, officials said. Rescue teams searched the rubble of collapsed buildings through the "
         "night in {place}, where the governor, {gov}, declared a state of emergency.")


def art(text: str, date: str | None, source: str = "wire.example", title: str | None = None) -> Article:
    a = Article(raw=text, ext_id=text[:20], origin="test", title=title, source=source, date=date, fmt="jsonl",
                id=content_id(text, title, source, date))
    return process(a)


def test_seeds_three_stories_one_storyline(seed_store, seeds):
    stories = seed_store.load_analysis().stories
    num = {a.id: k for k, a in seeds.items()}
    groups = sorted(sorted(num[a] for a in s.articles) for s in stories)
    assert groups == [["000"], ["001"], ["002", "003", "004"]]
    assert len({s.storyline for s in stories}) == 1 and stories[0].storyline is not None
    main = next(s for s in stories if len(s.articles) == 3)
    assert main.copies == 2  # 002 and 003 derive from 004
    assert main.headline.startswith("Putin says Russia ready to negotiate")  # headed by the wire original
    assert {"putin", "ukraine"} <= set(main.key_names)


def test_same_kind_of_event_elsewhere_or_later_is_another_story():
    a = art(QUAKE.format(m="6.1", place="Izmir", day="Monday", n=12, gov="Ali Demir"), "2024-01-08")
    b = art(QUAKE.format(m="6.1", place="Izmir", day="Monday", n=14, gov="Ali Demir"), "2024-01-09", "other.example")
    c = art(QUAKE.format(m="5.8", place="Izmir", day="Friday", n=3, gov="Ali Demir"), "2024-05-17")
    stories = cluster([a, b, c])
    together = {frozenset(s.articles) for s in stories}
    assert frozenset({a.id, b.id}) in together and frozenset({c.id}) in together


def test_reuse_relation_joins_origin_story():
    a = art(QUAKE.format(m="6.1", place="Izmir", day="Monday", n=12, gov="Ali Demir"), "2024-01-08")
    other = art("The central bank raised interest rates by half a point on Thursday, its third rise this year, "
                "citing stubborn inflation in food and energy prices.", "2024-01-09")
    forced = cluster([a, other], [Relation(a.id, other.id, "shares_passages", 0.3)])
    assert len(forced) == 1
    assert len(cluster([a, other])) == 2


def test_undated_articles_keep_their_place_and_streaming_equals_batch():
    arts = [art(QUAKE.format(m="6.1", place="Izmir", day="Monday", n=12, gov="Ali Demir"), "2024-01-08"),
            art(QUAKE.format(m="6.1", place="Izmir", day="Monday", n=13, gov="Ali Demir"), None),
            art(QUAKE.format(m="4.0", place="Lima", day="Sunday", n=0, gov="Rosa Paz"), "2024-01-01")]
    ordered = publication_order(arts)
    assert [a.date for a in ordered] == ["2024-01-01", "2024-01-08", None]
    streamer = StoryClusterer()
    streamed = {a.id: streamer.add(a) for a in ordered}
    batch = cluster(arts)
    assert len(batch) == len(set(streamed.values()))
    by_story = {}
    for aid, sid in streamed.items():
        by_story.setdefault(sid, set()).add(aid)
    assert {frozenset(v) for v in by_story.values()} == {frozenset(s.articles) for s in batch}


def test_stories_and_story_commands(tmp_path):
    """`stories --since/--until` filters by time; `story ID` shows one story with its storyline."""
    import json

    from click.testing import CliRunner

    from newstrace.cli import main

    rows = [{"id": "q1", "title": "Quake hits Izmir", "date": "2024-01-08", "source": "a.example",
             "text": QUAKE.format(m="6.1", place="Izmir", day="Monday", n=12, gov="Ali Demir")},
            {"id": "q2", "title": "Izmir counts the dead", "date": "2024-01-09", "source": "b.example",
             "text": QUAKE.format(m="6.1", place="Izmir", day="Monday", n=14, gov="Ali Demir")},
            {"id": "q3", "title": "Izmir rebuilds four months on", "date": "2024-05-17", "source": "a.example",
             "text": "Four months after the Izmir earthquake, governor Ali Demir opened the first of 900 new homes "
                     "for families who lost theirs. Builders in Izmir say the new blocks meet the strict code that "
                     "Ali Demir promised after the disaster, and the first families moved in on Friday."}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = str(tmp_path / "t.db")
    runner = CliRunner()
    assert runner.invoke(main, ["--db", db, "-q", "run", str(src)]).exit_code == 0
    stories = json.loads(runner.invoke(main, ["--db", db, "stories", "--json"]).stdout)
    assert [len(s["articles"]) for s in stories] == [1, 2]  # newest first
    assert stories[0]["storyline"] == stories[1]["storyline"] is not None  # same place and governor, months apart
    may = json.loads(runner.invoke(main, ["--db", db, "stories", "--since", "2024-03-01", "--json"]).stdout)
    assert [s["first"] for s in may] == ["2024-05-17"]
    jan = json.loads(runner.invoke(main, ["--db", db, "stories", "--until", "2024-01-31", "--json"]).stdout)
    assert [s["first"] for s in jan] == ["2024-01-08"]
    one = json.loads(runner.invoke(main, ["--db", db, "story", jan[0]["id"], "--json"]).stdout)
    assert one["outlets"] == ["a.example", "b.example"] and len(one["storyline"]["timeline"]) == 2
    assert runner.invoke(main, ["--db", db, "story", "nope"]).exit_code != 0

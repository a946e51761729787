"""Story summaries: typed key entities and the first report."""

from __future__ import annotations

from collections import Counter

from newstrace.report import report_data
from newstrace.summary import lede, rank


def _seed_story(data: dict, nums: set[str]) -> dict:
    return next(s for s in data["stories"] if {a["ext_id"][:3] for a in s["articles"]} == nums)


def test_seed_stories_name_their_people_places_and_organisations(seed_store):
    data = report_data(seed_store)
    interview = _seed_story(data, {"002", "003", "004"})["entities"]
    assert {"Vladimir Putin", "Volodymyr Zelenskyy"} <= set(interview["people"])
    assert {"Russia", "Ukraine"} <= set(interview["places"])
    assert "Kyiv" not in interview["people"]  # "Kyiv says ..." is the government, not a person
    assert "Putin" not in interview["people"]  # folded into the full name
    g20 = _seed_story(data, {"000"})["entities"]
    assert "Kremlin" in g20["organisations"] and "Vladimir Putin" in g20["people"]
    talks = _seed_story(data, {"001"})["entities"]  # a single article: only its opening is read
    assert set(talks["people"]) == {"Volodymyr Zelenskyy", "Vladimir Putin"} and "Ukraine" in talks["places"]


def test_entities_are_stored_with_the_story(seed_store):
    stored = {frozenset(s.articles): s.entities for s in seed_store.load_analysis().stories}
    assert all(stored.values())
    assert all(set(e) <= {"people", "places", "organisations"} for e in stored.values())


def test_first_report_is_the_wire_original_when_nothing_is_dated(seed_store):
    data = report_data(seed_store)
    story = _seed_story(data, {"002", "003", "004"})
    first = next(a for a in story["articles"] if a["id"] == story["first_report"])
    assert first["ext_id"].startswith("004")  # the Reuters original 002 and 003 derive from


def test_rank_folds_surnames_trusts_the_majority_type_and_wants_full_names() -> None:
    found = [("Putin", "PERSON"), ("Vladimir Putin", "PERSON"), ("Putin", "PERSON"), ("the Kremlin", "ORG"),
             ("Kyiv", "PERSON"), ("Kharkiv", "PERSON"), ("Zelenskyy", "ORG"), ("Volodymyr Zelenskyy", "PERSON")]
    out = rank(found, votes={"Kharkiv": Counter(places=5, people=1)})
    assert out["people"] == ["Vladimir Putin", "Volodymyr Zelenskyy"]
    assert out["organisations"] == ["Kremlin"]
    assert out["places"] == ["Kharkiv"]  # the batch mostly calls it a place


def test_lede_cuts_at_a_sentence_end() -> None:
    from newstrace.model import Article

    text = "Short line.\n\n" + " ".join(f"Sentence number {i} says something about the event." for i in range(40))
    out = lede(Article(raw=text, ext_id="x", origin="x", text=text), chars=200)
    assert out.endswith(".") and len(out) <= 200 and out.startswith("Sentence number 0")


def test_storyline_counts_spellings_of_one_person_once(seed_store):
    (line,) = report_data(seed_store)["storylines"]
    people = line["entities"]["people"]
    assert people[0] == "Vladimir Putin"
    assert "Volodymyr Zelenskyy" in people and "Volodymyr Zelensky" not in people  # 000 spells it Zelensky

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


def story_of(*arts: Article) -> tuple[list[Story], dict[str, Article]]:
    return [Story("s", [a.id for a in arts])], {a.id: a for a in arts}


def test_a_changed_figure_is_found_where_the_same_figure_also_stays():
    """"27 leaders … 27 plans" with one 27 changed: the figures of the two passages are the same set
    after the change ({27} and {27, 29}), but 27 stands where 29 now does."""
    from newstrace.model import Passage, Relation

    ta = "The summit of 27 leaders ended with seemingly 27 different plans for Europe."
    tb = "The summit of 29 leaders ended with seemingly 27 different plans for Europe."
    stories, arts = story_of(art("a", ta), art("b", tb))
    rel = Relation("a", "b", "copy", 0.98, [Passage(0, len(ta), 0, len(tb), 0.97)])
    out = compare(stories, arts, [rel], ())
    assert [(d.kind, d.a_text, d.b_text) for d in out] == [("number_changed", "27", "29")]
    # a figure dropped with its words is an edit, not a change
    tc = "The summit of 27 leaders ended with seemingly different plans for Europe."
    rel = Relation("a", "c", "edited", 0.95, [Passage(0, len(ta), 0, len(tc), 0.95)])
    stories, arts = story_of(art("a", ta), art("c", tc))
    assert compare(stories, arts, [rel], ()) == []


def test_a_misspelt_name_inside_a_quotation_is_a_name_variant_not_a_rewording():
    qa = [Quote("a", (0, 60), "direct", "“The Clinton camp chased after the wrong story all week,”",
                speaker="Jason Miller")]
    qb = [Quote("b", (0, 60), "direct", "“The Cliton camp chased after the wrong story all week,”",
                speaker="Jason Miller")]
    stories, arts = story_of(art("a", "x"), art("b", "y"))
    assert compare(stories, arts, (), qa + qb) == []


def test_one_speaker_spelt_two_ways_is_a_name_variant_not_a_change_of_speaker():
    qa = [Quote("a", (0, 60), "indirect", "that the plan would cut taxes for working families", speaker="Clinton")]
    qb = [Quote("b", (0, 60), "indirect", "that the plan would cut taxes for working families", speaker="Cliton")]
    stories, arts = story_of(art("a", "x"), art("b", "y"))
    assert [(d.kind, d.a_text, d.b_text) for d in compare(stories, arts, (), qa + qb)] == \
        [("name_variant", "Clinton", "Cliton")]
    # linked to one speaker by the speaker index, the two spellings are still a name variant
    qa = [Quote("a", (0, 60), "indirect", "that the blast was an act of terror", speaker="Bill de Blasio",
                mention="Mayor De Blasio")]
    qb = [Quote("b", (0, 60), "indirect", "that the blast was an act of terror", speaker="Bill de Blasio",
                mention="De Blaio")]
    assert [(d.kind, d.a_text, d.b_text) for d in compare(stories, arts, (), qa + qb)] == \
        [("name_variant", "De Blasio", "De Blaio")]


def test_name_variants_ignore_sentence_openers_and_possessives():
    ta = "When Clinton spoke, Hillary Clinton’s aides listened. John F. Kennedy was quoted."
    tb = "When Cliton spoke, Hillary Clinton listened. John F. Kenedy was quoted."
    stories, arts = story_of(art("a", ta), art("b", tb))
    found = sorted((d.a_text, d.b_text) for d in compare(stories, arts, (), ()) if d.kind == "name_variant")
    assert found == [("John Kennedy", "John Kenedy")]


def test_the_same_statement_is_matched_before_a_short_one_that_holds_its_words():
    """Both versions carry the headline quote and the long quote; the long one must be matched with its
    own copy, not with the headline fragment whose words it holds (which another speaker said)."""
    long_q = "“Maybe I can, by speaking directly to white people, say, look, this is not who we are,”"
    qa = [Quote("a", (0, 0), "direct", "‘Directly To White People’", speaker="Hillary Clinton Speaks"),
          Quote("a", (10, 90), "direct", long_q, speaker="Hillary Clinton")]
    qb = [Quote("b", (0, 0), "direct", "‘Directly To White People’", speaker="Hillary Clinton Speaks"),
          Quote("b", (10, 90), "direct", long_q, speaker="Hillary Clinton")]
    stories, arts = story_of(art("a", "x"), art("b", "y"))
    assert compare(stories, arts, (), qa + qb) == []


def test_two_readings_of_a_pronoun_or_a_description_are_not_two_speakers():
    """"she said" in both versions gives the statement to no one by name: a spun sentence before it can
    change whom the pronoun is read as, which is no change of speaker; a name in one version is."""
    ta = "She said the plan would cut taxes for working families."
    qa = [Quote("a", (9, 55), "indirect", "the plan would cut taxes for working families", source=(0, 3),
                speaker="Hillary Clinton")]
    qb = [Quote("b", (9, 55), "indirect", "the plan would cut taxes for working families", source=(0, 3),
                speaker="Anna Keller")]
    stories, arts = story_of(art("a", ta), art("b", ta))
    assert compare(stories, arts, (), qa + qb) == []
    # a description is read, not named, too
    td = "The Republican candidate said the plan would cut taxes for working families."
    qd = [Quote(x, (32, 78), "indirect", "the plan would cut taxes for working families", source=(0, 23),
                speaker=who) for x, who in (("a", "Donald Trump"), ("b", "Tim Kaine"))]
    stories, arts = story_of(art("a", td), art("b", td))
    assert compare(stories, arts, (), qd) == []
    tc = "Keller said the plan would cut taxes for working families."
    qc = [Quote("c", (12, 58), "indirect", "the plan would cut taxes for working families", source=(0, 6),
                speaker="Anna Keller")]
    stories, arts = story_of(art("a", ta), art("c", tc))
    assert [d.kind for d in compare(stories, arts, (), qa + qc)] == ["speaker_changed"]


def test_a_figure_changed_between_two_aligned_passages_or_in_one_scored_as_identical():
    """The alignment may leave a short sentence between two passages ("Oct." read as a sentence end),
    or score a passage whose only change is a figure as identical: the figure is still found."""
    from newstrace.model import Passage, Relation

    head = "Chris Wallace will moderate the third and final debate Oct."
    tail = " The campaign said little about the format."
    ta, tb = head + " 19 in Las Vegas." + tail, head + " 20 in Las Vegas." + tail
    gap = len(head), len(ta) - len(tail)
    rel = Relation("a", "b", "copy", 0.99, [Passage(0, gap[0], 0, gap[0], 1.0),
                                            Passage(gap[1], len(ta), gap[1], len(tb), 1.0)])
    stories, arts = story_of(art("a", ta), art("b", tb))
    assert [(d.a_text, d.b_text) for d in compare(stories, arts, [rel], ())] == [("19", "20")]
    rel = Relation("a", "b", "copy", 0.99, [Passage(0, len(ta), 0, len(tb), 1.0)])
    assert [(d.a_text, d.b_text) for d in compare(stories, arts, [rel], ())] == [("19", "20")]


def test_a_short_statement_word_for_word_in_aligned_passages_is_matched():
    """“he loves you” shares one content word with itself, too few to match by words alone; in passages
    the reuse stage aligned, the same words are the same statement, and its new speaker is flagged."""
    from newstrace.model import Passage, Relation

    ta = "Melania Trump tells Trump supporters that “he loves you.” She says they go on to Nevada."
    tb = "Hillary Clinton tells Trump supporters that “he loves you.” She says they go on to Nevada."
    stories, arts = story_of(art("a", ta), art("b", tb))
    rel = Relation("a", "b", "copy", 0.9, [Passage(0, len(ta), 0, len(tb), 0.9)])
    qa = [Quote("a", (41, 58), "mixed", "that “he loves you.”", (14, 19), (0, 13), "Melania Trump", "Melania Trump",
                "person")]
    qb = [Quote("b", (43, 60), "mixed", "that “he loves you.”", (16, 21), (0, 15), "Hillary Clinton",
                "Hillary Clinton", "person")]
    out = compare(stories, arts, [rel], qa + qb)
    assert [(d.kind, d.note) for d in out] == [
        ("speaker_changed", "said by Melania Trump in one version, by Hillary Clinton in the other")]
    # without the alignment, three words in common are needed
    assert compare(stories, arts, [], qa + qb) == []


def test_one_body_described_in_other_words_is_not_another_speaker():
    qa = [Quote("a", (0, 30), "indirect", "it would veto the bill passed by Congress", speaker="Obama administration",
                speaker_kind="organisation")]
    qb = [Quote("b", (0, 30), "indirect", "it would veto the bill passed by Congress", speaker="Obama government",
                speaker_kind="organisation")]
    assert compare([Story("s", ["a", "b"])], {"a": art("a", "x"), "b": art("b", "y")}, (), qa + qb) == []
    qb[0].speaker = "Saudi government"
    assert [d.kind for d in compare([Story("s", ["a", "b"])], {"a": art("a", "x"), "b": art("b", "y")}, (),
                                    qa + qb)] == ["speaker_changed"]


def test_a_full_name_and_a_misspelt_surname_with_a_particle_are_a_name_variant():
    qa = [Quote("a", (0, 30), "indirect", "the blast in Chelsea was an intentional act", speaker="Bill de Blasio",
                mention="Bill de Blasio")]
    qb = [Quote("b", (0, 30), "indirect", "the blast in Chelsea was an intentional act", speaker="De Blaio",
                mention="De Blaio")]
    out = compare([Story("s", ["a", "b"])], {"a": art("a", "x"), "b": art("b", "y")}, (), qa + qb)
    assert [(d.kind, d.a_text, d.b_text) for d in out] == [("name_variant", "Bill de Blasio", "De Blaio")]


def test_statements_of_one_passage_that_share_words_are_told_apart_by_place():
    """Two people "declined to comment" in one aligned passage: each statement's counterpart is the one at
    the same place in the other version, not the first with the same words."""
    from newstrace.model import Passage, Relation

    ta = "Donald Trump declined to comment on the deal. Peter Thiel declined to comment on Sunday."
    tb = "Donald Trump declined to comment on the deal. Peter Thiel declined to comment on Sunday."
    stories, arts = story_of(art("a", ta), art("b", tb))
    rel = Relation("a", "b", "copy", 1.0, [Passage(0, len(ta), 0, len(tb), 1.0)])

    def quotes(aid: str) -> list[Quote]:
        return [Quote(aid, (22, 32), "indirect", "to comment", (13, 21), (0, 12), "Donald Trump", "Donald Trump",
                      "person"),
                Quote(aid, (67, 77), "indirect", "to comment", (58, 66), (46, 57), "Peter Thiel", "Peter Thiel",
                      "person")]

    assert compare(stories, arts, [rel], quotes("a") + quotes("b")) == []


def test_every_article_that_misspells_a_name_is_flagged_beside_its_origin():
    """Five versions of one story, two of them copies that misspell the mayor: each copy is flagged,
    beside the article it was copied from, not once for the whole story; the usual spelling is the one
    most versions use."""
    from newstrace.model import Relation

    text = "Mayor {n} opened the new bridge on Monday. {n} said the city had waited ten years for it."
    arts = {k: art(k, text.format(n=n)) for k, n in (("w1", "Anna Keller"), ("w2", "Anna Keller"),
                                                      ("c1", "Anna Keler"), ("c2", "Anna Keler"),
                                                      ("o", "Anna Keller"))}
    rels = [Relation("w1", "c1", "edited", 0.95), Relation("w2", "c2", "edited", 0.95)]
    out = compare([Story("s", list(arts))], arts, rels, ())
    flags = sorted((d.a, d.b, d.a_text, d.b_text) for d in out if d.kind == "name_variant")
    assert flags == [("w1", "c1", "Anna Keller", "Anna Keler"), ("w2", "c2", "Anna Keller", "Anna Keler")]

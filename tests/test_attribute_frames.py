"""Attribution: the frame of a direct quotation, on small sentences written for the purpose (one
test per rule of ``extract._frame_cue`` and ``extract.quote_spans`` added for PolNeAR train errors)."""

from __future__ import annotations

from newstrace.attribute import attribute_texts, quote_spans


def rows(text: str) -> list[tuple[str, str, str | None]]:
    """(kind, content, source text) of every attribution in text, the pieces joined by " | "."""
    parsed, _index = attribute_texts([text])
    return [(a.kind, " | ".join(text[s:e] for s, e in a.content), text[a.source[0]:a.source[1]] if a.source else None)
            for a in parsed[0].attributions]


def test_an_opening_mark_after_the_closing_comma_closes_the_quotation():
    text = "“The budget will not pass this spring, whatever the council does now,“ said Ann Lowe, a trustee."
    assert quote_spans(text) == [(0, text.index(" said"), True)]
    assert rows(text) == [("direct", text[:text.index(" said")], "Ann Lowe, a trustee")]


def test_the_verb_right_after_a_quotation_frames_it_whatever_clause_follows():
    # the parse makes "Ann Cole, asked about her claim" a clause that "said" reports
    text = '"I am not going to call it a mistake, so forget about it," said retired surgeon Ann Cole, asked about her claim.'
    quote = text[:text.index(" said")]
    assert ("direct", quote, "retired surgeon Ann Cole") in rows(text)


def test_a_clause_opened_by_as_after_the_frame_is_no_report():
    text = 'The crowd grew louder. "She did not pay back the loans," she said as some wearing red shirts booed.'
    quote = text[text.index('"'):text.index(" she said")]
    assert ("direct", quote, "she") in rows(text)


def test_a_quotation_that_trails_off_is_framed_by_the_verb_after_it():
    text = ("“We are like a bridge,” Ms. Park said. “You were for the mayor and I was for the judge, so we are like a "
            "bridge over troubled…” she said, not finishing the joke.")
    second = text[text.index("“You"):text.index(" she said")]
    assert ("direct", second, "she") in rows(text)


def test_of_two_subjects_the_parse_gives_a_verb_the_nearest_speaks():
    # the parse takes the town before the comma for a second subject of "went"
    text = "Speaking at a town hall event in Salem, New Hampshire, Ortiz went after Baker, calling him “a total stiff.”"
    assert rows(text) == [("mixed", "him “a total stiff.”", "Ortiz")]



def test_a_title_in_quotation_marks_is_no_nearer_subject():
    # a parse that gives "thanked" two subjects, the name and the quoted title of the show (as the
    # small model does on some sentences): built by hand, so the rule is tested whatever the model
    from spacy.tokens import Doc

    from newstrace.attribute.extract import _subject, nlp

    words = ["Gomez", ",", "star", "of", "“", "Harbor", ",", "”", "thanked", "Lee", "."]
    heads = [8, 0, 0, 2, 5, 8, 5, 5, 8, 8, 8]
    deps = ["nsubj", "punct", "appos", "prep", "punct", "nsubj", "punct", "punct", "ROOT", "dobj", "punct"]
    tags = ["NNP", ",", "NN", "IN", "``", "NNP", ",", "''", "VBD", "NNP", "."]
    doc = Doc(nlp().vocab, words=words, heads=heads, deps=deps, tags=tags)
    assert _subject(doc[8]).text == "Gomez"


def test_a_sentence_of_only_a_speaker_and_a_verb_frames_the_quotation_before():
    text = ("The files were deleted in March. “If anyone has the missing records, I hope they send them to the "
            "committee.” Ms. Ortiz said.")
    quote = text[text.index("“"):text.index(" Ms.")]
    assert rows(text) == [("direct", quote, "Ms. Ortiz")]


def test_a_label_after_a_dash_frames_the_quotation_after_its_colon():
    text = ("TURNOUT WAS NOT THE PROBLEM, TIMING WAS - Ann Lowe and Tom Ruiz: “Although the surveys missed the "
            "result on Tuesday night, they were not wrong about the voters.”")
    quote = text[text.index("“"):]
    got = rows(text)
    assert len(got) == 1 and got[0][:2] == ("direct", quote) and "Tom Ruiz" in got[0][2]


def test_a_label_after_a_dash_names_someone():
    # a noun phrase with no name after the dash is the reporter's description, not who speaks
    text = ("The senator closed the convention with a short speech - a plain appeal: “We must stand together as "
            "Americans and as Republicans this year.”")
    assert all(src != "a plain appeal" for _kind, _content, src in rows(text))


def test_a_gerund_right_after_say_begins_the_clause_reported():
    text = "The governor said legalizing it could put thousands of people to work in the northern counties."
    assert rows(text) == [("indirect", "legalizing it could put thousands of people to work in the northern counties",
                           "The governor")]


def test_a_name_read_as_an_adverb_after_an_inverted_verb_is_the_speaker():
    text = ("“Having access to the county file and two people who understand it is valuable,” said Skelly, "
            "explaining he worked more closely with the clerk.")
    quote = text[:text.index(" said")]
    assert ("direct", quote, "Skelly") in rows(text)


def test_refer_to_is_a_phrasal_verb_whose_object_is_the_content():
    text = "On Monday, Mayor Diaz referred to the judge as “a careful and fair arbiter.”"
    assert rows(text)[0] == ("mixed", "the judge as “a careful and fair arbiter.”", "Mayor Diaz")
    text = "“We will not let this stand,” Ms. Hale said, referring to the new zoning rules."
    assert ("indirect", "the new zoning rules", "Ms. Hale") in rows(text)


def test_declining_to_do_something_is_reported_like_refusing():
    text = "A spokeswoman for the county declined to comment on the audit."
    assert rows(text) == [("indirect", "to comment on the audit", "A spokeswoman for the county")]


def test_seeking_to_do_something_is_an_intention_like_planning_it():
    text = "The Republican candidates would also seek to limit the federal role in school funding."
    assert rows(text) == [("indirect", "to limit the federal role in school funding", "The Republican candidates")]

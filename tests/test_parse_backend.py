"""The spaCy pipeline's numeric backend: numpy's BLAS on one thread while parsing (see extract.load_model), and
the memo of parsed paragraphs (extract.parse_once)."""

from __future__ import annotations

import pytest

from newstrace.attribute import extract
from newstrace.attribute.extract import extract_many, nlp, parse, parse_once


def test_the_layers_that_do_the_large_products_multiply_with_numpy_not_blis():
    # token vectors, tagger and the parser's input layer: the parser's output layer and its C loop keep
    # BLIS (their products are small; switching them changed a few parses and saved nothing)
    model = nlp()
    nodes = {name: list(pipe.model.walk()) for name, pipe in model.pipeline if hasattr(pipe, "model")}
    assert nodes["tok2vec"] and all(n.ops.use_blis is False for n in nodes["tok2vec"] + nodes["tagger"])
    assert [n.ops.use_blis for n in nodes["parser"] if n.name == "precomputable_affine"] == [False]


def test_blas_runs_on_one_thread_while_parsing_and_is_given_back_after():
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    before = blas_threads()
    seen: list[set[int]] = []
    docs = []
    for doc in parse(nlp(), ["The mayor said the budget would pass.", "Ms. Ortiz said she would vote no."], 8):
        seen.append(blas_threads())
        docs.append(doc)
    assert [d[1].lemma_ or d[1].text for d in docs][0] == "mayor"
    assert docs[1][2].dep_ == "nsubj" or any(t.dep_ == "nsubj" for t in docs[1])
    assert seen == [{1}, {1}]
    assert blas_threads() == before


def _annotations(doc) -> list[tuple]:
    return [(t.text, t.idx, t.whitespace_, t.tag_, t.dep_, t.head.i, t.is_sent_start) for t in doc]


SEED_LIKE = ["“Russia doesn’t want negotiations, but tries to avoid responsibility,” Mykhailo Podolyak, an adviser "
             "to the Ukrainian president,  said on Twitter.  ",
             "Putin said Russia was a “unique country”. He added that talks could resume.",
             "According to the Kremlin, the call lasted an hour."]


@pytest.fixture
def fresh_memo(monkeypatch):
    monkeypatch.setattr(extract, "_parsed", extract.OrderedDict())
    return extract._parsed


def test_a_paragraph_seen_again_is_rebuilt_with_the_tokens_tags_and_tree_of_its_parse(fresh_memo):
    model = nlp()
    parsed = [_annotations(d) for d in parse(model, SEED_LIKE, 8)]
    # the first call parses each text once (the repeat inside it is rebuilt), the second parses nothing
    first = [_annotations(d) for d in parse_once(SEED_LIKE + SEED_LIKE[:1], 8)]
    assert len(fresh_memo) == 3
    again = [_annotations(d) for d in parse_once(SEED_LIKE, 8)]
    assert first == parsed + parsed[:1]
    assert again == parsed
    # and what the rules find is the same
    assert [p.attributions for p in extract_many(SEED_LIKE)] == [p.attributions for p in extract_many(SEED_LIKE)]
    assert [(a.kind, a.source_text) for a in extract_many(SEED_LIKE)[0].attributions] == [
        ("direct", "Mykhailo Podolyak, an adviser to the Ukrainian president,")]


def test_the_memo_keeps_the_texts_parsed_last(fresh_memo, monkeypatch):
    monkeypatch.setattr(extract, "PARSE_MEMO", 2)
    list(parse_once(SEED_LIKE, 8))
    assert list(fresh_memo) == SEED_LIKE[1:]
    list(parse_once(SEED_LIKE[1:2], 8))
    assert list(fresh_memo) == [SEED_LIKE[2], SEED_LIKE[1]]

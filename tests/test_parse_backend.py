"""The spaCy pipeline's numeric backend: numpy's BLAS on one thread while parsing (see extract.load_model)."""

from __future__ import annotations

from newstrace.attribute.extract import nlp, parse


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

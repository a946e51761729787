"""The one-pass batch mode, ``newstrace dedup``: newstrace.dedup.stream on streams the tests write."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from newstrace.cli import main
from newstrace.dedup.fingerprint import fast_features
from newstrace.dedup.stream import FirstIndex, StreamDeduper, dedup_rows, read_rows

from .conftest import SHARED, need

PARAGRAPHS = [
    "The city council of Northport approved a new harbour budget on Tuesday after a long debate. "
    "The plan pays for two more ferries and a new pier at the old fish market.",
    "Mayor Ellen Hardy said the vote would secure jobs for the next ten years in the port district. "
    "Opposition members argued that the costs had been underestimated by at least a third.",
    "Construction of the pier is expected to begin in the spring and to last about eighteen months. "
    "The ferries will be built at a shipyard in the south of the country.",
    "Local fishermen welcomed the decision but asked for a say in how the market will be rebuilt. "
    "Their association has called a public meeting for next Thursday evening.",
    "The regional government has promised to cover half of the cost if the project stays on schedule. "
    "A final review of the accounts is planned for the end of the year.",
]
ORIGINAL = "\n\n".join(PARAGRAPHS)
UNRELATED = ("Heavy snow closed several mountain passes in the north on Sunday morning, the road agency said. "
             "Drivers were told to stay at home until the ploughs had cleared the main routes.\n\n"
             "Schools in three valleys will remain shut on Monday while the avalanche risk is assessed. "
             "Forecasters expect the weather to improve slowly by the middle of the week.")


def _edit(text: str) -> str:
    """One word changed in every sentence (the fourth word gets a different one)."""
    out = []
    for para in text.split("\n\n"):
        sentences = []
        for s in para.split(". "):
            w = s.split()
            w[3] = "remarkably"
            sentences.append(" ".join(w))
        out.append(". ".join(sentences))
    return "\n\n".join(out)


ARTICLES = [  # (id, date, text), in date order
    ("orig", "2024-03-01T08:00", ORIGINAL),
    ("other", "2024-03-01T09:00", UNRELATED),
    ("copy", "2024-03-01T10:00", ORIGINAL),
    ("wire", "2024-03-01T11:00",
     "Skip to main content\nHome | World | Politics | Business\nShare\n\n" + ORIGINAL
     + "\n\n(Reporting by Anna Petrova; Editing by John Carter)\n\nSign up for our newsletter\n"
     "Please enter your name here\nComments are closed."),
    ("excerpt", "2024-03-01T12:00", "\n\n".join(PARAGRAPHS[:2])),
    ("edited", "2024-03-01T13:00", _edit(ORIGINAL)),
]
EXPECTED = {
    "orig": (None, None),
    "other": (None, None),
    "copy": ("orig", "copy"),
    "wire": ("orig", "copy"),
    "excerpt": ("orig", "excerpt"),
    "edited": ("orig", "edited"),
}


def _write(path, articles, extra_lines=()) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for doc_id, date, text in articles:
            f.write(json.dumps({"id": doc_id, "title": doc_id, "text": text, "date": date, "source": "x"}) + "\n")
        for line in extra_lines:
            f.write(line + "\n")


def _verdicts(path, workers: int = 1, errors: list | None = None) -> dict[str, tuple]:
    rows = read_rows(str(path), (errors if errors is not None else []).append)
    return {d.id: (d.duplicate_of, d.relation) for d in dedup_rows(rows, workers=workers)}


@pytest.fixture
def stream(tmp_path):
    p = tmp_path / "stream.jsonl"
    _write(p, ARTICLES)
    return p


def test_relations(stream):
    assert _verdicts(stream) == EXPECTED


def test_workers_agree(stream):
    assert _verdicts(stream, workers=2) == _verdicts(stream, workers=1)


def test_never_points_forward(stream):
    order = {doc_id: i for i, (doc_id, _, _) in enumerate(ARTICLES)}
    for doc_id, (dup, _) in _verdicts(stream).items():
        assert dup is None or order[dup] < order[doc_id]


def test_unsorted_input_is_taken_in_date_order(tmp_path, stream):
    shuffled = tmp_path / "shuffled.jsonl"
    _write(shuffled, [ARTICLES[i] for i in (5, 2, 4, 0, 3, 1)])  # derived articles before their origin
    got = _verdicts(shuffled)
    assert got == EXPECTED
    seen = [d.id for d in dedup_rows(read_rows(str(shuffled)))]
    assert seen == [a[0] for a in ARTICLES]


def test_malformed_lines_are_skipped_with_a_message(tmp_path):
    p = tmp_path / "bad.jsonl"
    _write(p, ARTICLES, extra_lines=['{"id": "broken", "text": ', "", "[1, 2]", '{"text": "an article without id"}'])
    errors: list[str] = []
    assert _verdicts(p, errors=errors) == EXPECTED
    assert len(errors) == 3
    assert all(str(p) in e for e in errors)
    assert "malformed JSON" in errors[0] and "expected a JSON object" in errors[1] and "no id" in errors[2]
    # numbered, and naming the line as it is in the file (the input is read in date order)
    first_extra = len(ARTICLES) + 1
    assert [e.split(": ")[1] for e in errors] == [f"[E006] line {first_extra}", f"[E012] line {first_extra + 2}",
                                                   f"[E016] line {first_extra + 3}"]


def test_cli(tmp_path):
    p, out = tmp_path / "bad.jsonl", tmp_path / "out.jsonl"
    _write(p, ARTICLES, extra_lines=["not json"])
    res = CliRunner().invoke(main, ["dedup", str(p), "-o", str(out)])
    assert res.exit_code == 1  # a line skipped
    assert "skip" in res.output and "malformed JSON" in res.output
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == [a[0] for a in ARTICLES]
    assert {g["id"]: (g["duplicate_of"], g["relation"]) for g in got} == EXPECTED
    assert all(set(g) == {"id", "duplicate_of", "relation", "score"} for g in got)


def test_stdin(stream):
    res = CliRunner().invoke(main, ["--quiet", "dedup", "-"], input=stream.read_text())
    assert res.exit_code == 0
    got = {g["id"]: (g["duplicate_of"], g["relation"]) for g in map(json.loads, res.stdout.splitlines())}
    assert got == EXPECTED


def test_rows_as_dicts():
    rows = [{"id": doc_id, "text": text, "date": date} for doc_id, date, text in ARTICLES]
    assert {d.id: (d.duplicate_of, d.relation) for d in dedup_rows(rows)} == EXPECTED


def test_one_at_a_time():
    d = StreamDeduper()
    got = {doc_id: d.add(doc_id, text) for doc_id, _, text in ARTICLES}
    assert {k: (v.duplicate_of, v.relation) for k, v in got.items()} == EXPECTED
    assert got["copy"].score == 1.0 and 0 < got["edited"].score < 1


def test_features_fold_typography():
    plain = 'He said: "The harbour budget was approved - at last." Then he left the hall quietly again.'
    curly = "He said: \u201cThe harbour budget was approved \u2014 at last.\u201d  Then he left the hall quietly again."
    a, b = fast_features([plain]), fast_features([curly])
    assert a.keys.tolist() == b.keys.tolist() and a.total.tolist() == b.total.tolist()
    assert fast_features(["Too short.", ""]).total.tolist() == [0, 0]


def test_features_other_scripts_keep_their_letters():
    ru = "Городской совет одобрил новый бюджет порта во вторник после долгих дебатов в зале."
    other = "Городской совет отклонил новый бюджет порта во вторник после долгих дебатов в зале."
    assert fast_features([ru]).keys.tolist() != fast_features([other]).keys.tolist()
    assert fast_features([ru]).total.tolist() == [13]


def test_first_index_keeps_the_first_owner():
    idx = FirstIndex(16)
    keys = np.array([5, 7, 5, 9, 7], np.int64)
    assert idx.first_of(keys, np.array([0, 0, 1, 2, 3])).tolist() == [0, 0, 0, 2, 0]
    more = np.arange(1, 200, dtype=np.int64) * 7919  # grows the table
    assert idx.first_of(more, np.full(len(more), 4)).tolist()[:3] == [4, 4, 4]
    assert idx.get(np.array([5, 9, 11], np.int64)).tolist() == [0, 2, -1]


def test_generated_stream(tmp_path):
    """A 3,000-article stream from ../shared/bench/make_stream.py: recall >= 0.97 for every kind of derived
    article (duplicate_of in its true family), precision of all links >= 0.999."""
    gen = need(SHARED / "bench" / "make_stream.py")
    stream, gold = tmp_path / "s.jsonl", tmp_path / "g.jsonl"
    subprocess.run([sys.executable, str(gen), "--n", "3000", "--seed", "7", "--out", str(stream),
                    "--gold", str(gold)], check=True)
    kind, root = {}, {}
    for line in gold.read_text().splitlines():
        g = json.loads(line)
        kind[g["id"]], root[g["id"]] = g["kind"], g["origin"] or g["id"]
    verdicts = list(dedup_rows(read_rows(str(stream)), workers=2))
    assert len(verdicts) == 3000
    total, right = Counter(), Counter()
    links = good = 0
    for v in verdicts:
        ok = v.duplicate_of is not None and root[v.duplicate_of] == root[v.id] and v.duplicate_of != v.id
        if kind[v.id] != "original":
            total[kind[v.id]] += 1
            right[kind[v.id]] += ok
        if v.duplicate_of is not None:
            links += 1
            good += ok
    assert set(total) == {"copy", "syndicated", "excerpt", "edited"}
    for k in total:
        assert right[k] / total[k] >= 0.97, (k, right[k], total[k])
    assert good / links >= 0.999

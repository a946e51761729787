"""One pass over a stream of articles in date order: which earlier article does each derive from?

The batch mode behind ``newstrace dedup IN.jsonl -o OUT.jsonl``. An in-memory index maps each
sentence key (and, for long sentences, each half-sentence key, so that a one-word edit loses
half a sentence, not all of it) to the first article that had it. A new article's sentences
vote, weighted by their length, for the earliest articles that had them; the article it takes
most of its text from is its origin when that share is large enough. Because the index holds
first occurrences only, the origin named is the earliest article of the family.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from .fingerprint import MIN_WORDS, fast_features

#: sentences this long are also indexed by their two halves
HALF_MIN_WORDS = 10
#: share of an article's words found in one earlier article that makes it derived
DERIVED_SHARE = 0.5
#: a smaller share, over at least two sentences, is partial reuse ("shares_passages")
PARTIAL_SHARE = 0.2


def features(text: str) -> tuple[list[tuple[int, int, int, int]], bool]:
    """Sentence features of one text (see :func:`.fingerprint.fast_features`)."""
    out = fast_features(text, MIN_WORDS, HALF_MIN_WORDS)
    return out, bool(out)


def _features_batch(texts: list[str]) -> list[list[tuple[int, int, int, int]]]:
    return [features(t)[0] for t in texts]


@dataclass
class Decision:
    """The verdict on one article of the stream."""

    id: str
    duplicate_of: str | None
    relation: str | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "duplicate_of": self.duplicate_of, "relation": self.relation, "score": self.score}


class StreamDeduper:
    """Stateful one-pass deduplicator; feed it articles in date order with :meth:`add`."""

    def __init__(self) -> None:
        self.first: dict[int, int] = {}  # key -> index of the first article that had it
        self.ids: list[str] = []
        self.words = array("I")  # indexed words per article
        self.texts_equal: dict[int, int] = {}  # hash of the whole normalised text -> first article

    def add(self, doc_id: str, text: str, title: str | None = None,
            feats: list[tuple[int, int, int, int]] | None = None) -> Decision:
        """Decide on one article and index it."""
        if feats is None:
            feats, _ = features(text)
        me = len(self.ids)
        self.ids.append(doc_id)
        total = sum(f[3] for f in feats)
        self.words.append(min(total, 2**32 - 1))
        whole = hash(tuple(f[0] for f in feats)) if feats else 0
        votes: dict[int, float] = {}
        seen_sentences: dict[int, set[int]] = {}
        first = self.first
        for full, ha, hb, n in feats:
            src = first.get(full)
            if src is not None:
                votes[src] = votes.get(src, 0.0) + n
                seen_sentences.setdefault(src, set()).add(full)
            else:
                a = first.get(ha) if ha else None
                b = first.get(hb) if hb else None
                if a is not None:
                    votes[a] = votes.get(a, 0.0) + n / 2
                if b is not None:
                    votes[b] = votes.get(b, 0.0) + n / 2
            first.setdefault(full, me)
            if ha:
                first.setdefault(ha, me)
                first.setdefault(hb, me)
        if whole and whole in self.texts_equal:
            return Decision(doc_id, self.ids[self.texts_equal[whole]], "copy", 1.0)
        if whole:
            self.texts_equal.setdefault(whole, me)
        votes.pop(me, None)
        if not votes or not total:
            return Decision(doc_id, None, None, 0.0)
        best = max(votes, key=lambda k: (votes[k], -k))
        share = votes[best] / total
        cover = votes[best] / max(1, self.words[best])
        if share >= DERIVED_SHARE:
            if share >= 0.95 and cover >= 0.95:
                kind = "copy"
            elif share >= 0.95:
                kind = "excerpt"
            else:
                kind = "edited"
            return Decision(doc_id, self.ids[best], kind, round(min(share, 1.0), 4))
        if share >= PARTIAL_SHARE and len(seen_sentences.get(best, ())) >= 2:
            return Decision(doc_id, self.ids[best], "shares_passages", round(share, 4))
        return Decision(doc_id, None, None, round(share, 4))


def dedup_rows(rows: Iterable[dict[str, Any]], *, workers: int = 1, chunk: int = 2000) -> Iterator[Decision]:
    """Dedup rows (dicts with ``id``, ``text``, ``title``, ``date``) that come in date order."""
    deduper = StreamDeduper()
    # forked workers share this process's string-hash secret, so their keys agree with ours
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) if workers > 1 else None
    try:
        buf: list[dict[str, Any]] = []
        pending = None

        def flush(batch: list[dict[str, Any]], feats: list) -> Iterator[Decision]:
            for row, f in zip(batch, feats, strict=True):
                yield deduper.add(str(row["id"]), row.get("text") or "", row.get("title"), f)

        for row in rows:
            buf.append(row)
            if len(buf) >= chunk:
                if pool is None:
                    yield from flush(buf, _features_batch([r.get("text") or "" for r in buf]))
                else:
                    # overlap: hash this chunk in the workers while the previous one is decided here
                    parts = _split([r.get("text") or "" for r in buf], workers)
                    fut = [pool.submit(_features_batch, p) for p in parts]
                    if pending is not None:
                        yield from flush(*pending_result(pending))
                    pending = (buf, fut)
                buf = []
        if pending is not None:
            yield from flush(*pending_result(pending))
        if buf:
            yield from flush(buf, _features_batch([r.get("text") or "" for r in buf]))
    finally:
        if pool is not None:
            pool.shutdown()


def _split(items: list[str], n: int) -> list[list[str]]:
    size = (len(items) + n - 1) // n
    return [items[i:i + size] for i in range(0, len(items), size)]


def pending_result(pending: tuple[list[dict[str, Any]], list]) -> tuple[list[dict[str, Any]], list]:
    batch, futures = pending
    feats = [f for fut in futures for f in fut.result()]
    return batch, feats


_DATE = re.compile(rb'"(?:date|date_publish|published)"\s*:\s*"([^"]*)"')


def ordered_lines(path: str) -> Iterator[bytes]:
    """The lines of a JSONL file (``-``: stdin) in date order, each line whole.

    A first pass reads only the dates (and byte offsets); a file already in date order is then
    streamed, any other is read line by line in sorted order. An undated line keeps the place
    of the dated line before it.
    """
    if path == "-":
        data = sys.stdin.buffer.readlines()
        yield from (data[i] for i in _order([_DATE.search(x) for x in data]))
        return
    offsets: list[int] = []
    dates: list[re.Match[bytes] | None] = []
    pos = 0
    with open(path, "rb") as f:
        for line in f:
            offsets.append(pos)
            pos += len(line)
            dates.append(_DATE.search(line))
        order = _order(dates)
        if all(b == a + 1 for a, b in zip(order, order[1:], strict=False)):
            f.seek(0)
            yield from f
            return
        for i in order:
            f.seek(offsets[i])
            yield f.readline()


def _order(dates: list[re.Match[bytes] | None]) -> list[int]:
    keys: list[bytes] = []
    last = b""
    for m in dates:
        if m and m.group(1):
            last = m.group(1)
        keys.append(last)
    return sorted(range(len(keys)), key=lambda i: (keys[i], i))


def read_rows(path: str, on_error: Callable[[str], None] = lambda msg: None) -> Iterator[dict[str, Any]]:
    """JSON objects of a JSONL file in date order, with the text under ``text`` whatever the input
    called it (CC-News ``maintext`` and the other names :mod:`newstrace.read.jsonl` knows).

    A line that is not a JSON object, or has no id or text, is reported through ``on_error``
    and passed over.
    """
    from ..read.jsonl import _pick

    for n, line in enumerate(ordered_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            on_error(f"{path}: sorted line {n}: malformed JSON: {exc}")
            continue
        if not isinstance(row, dict):
            on_error(f"{path}: sorted line {n}: expected a JSON object")
            continue
        row_id = _pick(row, "id")
        if row_id is None:
            on_error(f"{path}: sorted line {n}: no id")
            continue
        row["id"] = row_id
        row["text"] = _pick(row, "text") or ""
        yield row

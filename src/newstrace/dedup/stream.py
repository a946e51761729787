"""One pass over a stream of articles in date order: which earlier article does each derive from?

The batch mode behind ``newstrace dedup IN.jsonl -o OUT.jsonl``. An in-memory index maps each
sentence key (a long sentence is keyed by its two halves, so that a one-word edit loses half a
sentence, not all of it) to the first article that had it. A new article's keys vote, weighted by
the words they stand for, for the earliest articles that had them; the article it takes most of
its text from is its origin when that share is large enough. Because the index holds first
occurrences only, the origin named is the earliest article of the family, and it is always an
article that came before (``duplicate_of`` never points forward).

The work is split so that the slow part runs in parallel: worker processes (``workers`` > 1)
read their share of the input lines, decode the JSON and compute the sentence keys of a whole
batch at once (:func:`.fingerprint.fast_features`); the main process only looks the keys up and
decides, a batch at a time, with NumPy. The index is an open-addressing hash table in two NumPy
arrays (12 bytes a slot), not a dict of Python ints (about 100 bytes an entry).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import E
from ..parallel import ordered_map
from .fingerprint import MIN_WORDS, Features, fast_features

#: sentences this long are keyed by their two halves
HALF_MIN_WORDS = 10
#: share of an article's words found in one earlier article that makes it derived
DERIVED_SHARE = 0.5
#: ... or share of its words in sentences of which one earlier article has at least one half (an
#: edit of a word or two in most sentences leaves less than half of the text word for word)
EDITED_REACH = 0.5
#: a smaller share, over at least two sentences, is partial reuse ("shares_passages")
PARTIAL_SHARE = 0.2
#: share of an article's words known from earlier articles (any of them) that makes it all reused text
ALL_KNOWN = 0.95
#: ... of which this share at least comes from the one origin, for a copy or an excerpt
MOSTLY_ONE = 0.8
#: what a news article averages (about 40 keys, one per 75 bytes of JSON): the index is sized for it
KEYS_PER_ARTICLE, BYTES_PER_KEY = 40, 75
#: relations, as stored per article
_KIND_NAMES = (None, "copy", "excerpt", "edited", "shares_passages")
COPY, EXCERPT, EDITED, SHARES = 1, 2, 3, 4
_DERIVED = (COPY, EXCERPT, EDITED)
#: lines per batch: what a worker decodes and fingerprints at once, and what is decided at once
CHUNK = 1000


@dataclass(slots=True)
class Decision:
    """The verdict on one article of the stream."""

    id: str
    duplicate_of: str | None
    relation: str | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "duplicate_of": self.duplicate_of, "relation": self.relation, "score": self.score}


# ----------------------------------------------------------------------------- the index
class FirstIndex:
    """64-bit key -> index of the first article that had it; linear probing in NumPy arrays.

    Keys are hashes already (their low bits are uniform) and never 0, the mark of an empty slot.
    Lookups and inserts take whole arrays of keys, so a batch costs a few NumPy passes.
    """

    MAX_LOAD = 0.7

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.keys = np.zeros(capacity, np.int64)
        self.vals = np.zeros(capacity, np.int32)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.vals.nbytes

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where the key is absent."""
        out = np.full(len(keys), -1, np.int64)
        mask = len(self.keys) - 1
        idx = np.arange(len(keys))
        slot = keys & mask
        while len(idx):
            found = self.keys[slot]
            hit = found == keys[idx]
            if hit.any():
                out[idx[hit]] = self.vals[slot[hit]]
            go = (found != 0) & ~hit
            idx, slot = idx[go], (slot[go] + 1) & mask
        return out

    def put(self, keys: np.ndarray, vals: np.ndarray) -> None:
        """Insert keys that are absent and distinct."""
        if self.size + len(keys) > self.MAX_LOAD * len(self.keys):
            self._grow(self.size + len(keys))
        mask = len(self.keys) - 1
        idx = np.arange(len(keys))
        slot = keys & mask
        while len(idx):
            free = np.flatnonzero(self.keys[slot] == 0)
            rest = np.ones(len(idx), bool)
            if len(free):
                # keys racing for one free slot: whichever was written last holds it, the others probe on
                at, mine = slot[free], keys[idx[free]]
                self.keys[at] = mine
                won = free[self.keys[at] == mine]
                self.vals[slot[won]] = vals[idx[won]]
                rest[won] = False
            idx, slot = idx[rest], (slot[rest] + 1) & mask
        self.size += len(keys)

    def reserve(self, n: int) -> None:
        """Make room for ``n`` keys in all now (growing later copies the table and touches new memory)."""
        if n > self.MAX_LOAD * len(self.keys):
            self._grow(n)

    def _grow(self, need: int) -> None:
        capacity = len(self.keys)
        while need > self.MAX_LOAD * capacity:
            capacity *= 2
        used = self.keys != 0
        keys, vals = self.keys[used], self.vals[used]
        del used
        self.keys = self.vals = None  # type: ignore[assignment]
        # into an empty table, keys taken in the order of their home slot go each to the first free
        # slot from home on: pos[i] = max(home[i], pos[i-1] + 1), a running maximum
        mask = capacity - 1
        order = np.argsort(keys & mask, kind="stable")  # nearly sorted already: the old table's order
        keys, vals = keys[order], vals[order]
        del order
        steps = np.arange(len(keys))
        pos = (keys & mask) - steps
        np.maximum.accumulate(pos, out=pos)
        pos += steps
        del steps
        fits = pos < capacity
        self.keys = np.zeros(capacity, np.int64)
        self.vals = np.zeros(capacity, np.int32)
        self.keys[pos[fits]] = keys[fits]
        self.vals[pos[fits]] = vals[fits]
        self.size = int(fits.sum())
        if self.size < len(keys):  # the few that ran past the end wrap round
            self.put(keys[~fits], vals[~fits])

    def first_of(self, keys: np.ndarray, owners: np.ndarray) -> np.ndarray:
        """For each key, the first owner that had it: the one in the index, else the least of those
        in ``keys`` (added to the index with it). One probe per key, whether it is there or not."""
        if self.size + len(keys) > self.MAX_LOAD * len(self.keys):
            self._grow(self.size + len(keys))
        out = np.empty(len(keys), np.int64)
        mask = len(self.keys) - 1
        idx = np.arange(len(keys))
        slot = keys & mask
        while len(idx):
            mine = keys[idx]
            found = self.keys[slot]
            done = found == mine
            empty = np.flatnonzero(found == 0)
            if len(empty):
                # claim the free slots; of keys racing for one, whichever was written last holds it.
                # Copies of one key probe the same slots together, so they claim together: the
                # slot's value is the least of their owners.
                at, claim = slot[empty], mine[empty]
                self.keys[at] = claim
                landed = empty[self.keys[at] == claim]
                at, own = slot[landed], owners[idx[landed]].astype(np.int32)
                self.vals[at] = np.iinfo(np.int32).max
                np.minimum.at(self.vals, at, own)
                self.size += int(np.count_nonzero(self.vals[at] == own))  # duplicates in one article overcount
                done[landed] = True
            got = np.flatnonzero(done)
            out[idx[got]] = self.vals[slot[got]]
            rest = ~done
            idx, slot = idx[rest], (slot[rest] + 1) & mask
        return out


class StreamDeduper:
    """Stateful one-pass deduplicator: feed it batches of articles in date order with :meth:`add_batch`."""

    def __init__(self) -> None:
        self.first = FirstIndex()  # sentence key -> first article that had it
        self.texts_equal = FirstIndex(1 << 12)  # key of the whole sequence of sentence keys -> first article
        self.ids: list[str] = []
        self.words = np.zeros(1 << 12, np.int64)  # words in keyed sentences, per article
        self.sentences = np.zeros(1 << 12, np.int64)  # keyed sentences, per article
        self.root = array("q")  # per article: the earliest of its family when derived, else -1
        self.kinds = array("b")  # per article: the relation decided (an index into _KIND_NAMES)
        self.scores = array("d")

    def __len__(self) -> int:
        return len(self.ids)

    def reserve(self, articles: int, text_bytes: int) -> None:
        """Size the index for a stream of about ``articles`` articles and ``text_bytes`` bytes."""
        self.first.reserve(min(articles * KEYS_PER_ARTICLE, text_bytes // BYTES_PER_KEY))
        self.texts_equal.reserve(articles)

    def add(self, doc_id: str, text: str, title: str | None = None, feats: Features | None = None) -> Decision:
        """Decide on one article and index it (``title`` is not used)."""
        return self.add_batch([doc_id], feats if feats is not None else fast_features([text], MIN_WORDS,
                                                                                          HALF_MIN_WORDS))[0]

    def add_batch(self, ids: list[str], f: Features) -> list[Decision]:
        """Decide on consecutive articles (their features from :func:`.fingerprint.fast_features`) and index them."""
        n = len(ids)
        if len(f) != n:
            raise ValueError(f"{n} ids for features of {len(f)} texts")
        base = len(self.ids)
        self.ids.extend(ids)
        if base + n > len(self.words):
            size = max(2 * len(self.words), base + n)
            self.words = np.concatenate([self.words[:base], np.zeros(size - base, np.int64)])
            self.sentences = np.concatenate([self.sentences[:base], np.zeros(size - base, np.int64)])
        self.words[base:base + n] = f.total
        self.sentences[base:base + n] = f.sentences
        if not n:
            return []
        doc = f.doc.astype(np.int64)
        keys = np.where(f.keys == 0, 1, f.keys)
        src = self.first.first_of(keys, doc + base)
        # the same text (the same sequence of sentences) seen before: a copy of its first bearer
        same = np.full(n, -1, np.int64)
        has = np.flatnonzero(f.whole != 0)
        if len(has):
            same[has] = self.texts_equal.first_of(f.whole[has], has + base)
        same[same == np.arange(base, base + n)] = -1
        best, best_votes, known, best_sents, best_reach = vote(doc, src, doc + base, f.words, f.sent, n)
        kind_v, score_v = local_verdicts(best, best_votes, known, best_sents, best_reach, f.total, f.sentences,
                                         self.words[np.maximum(best, 0)], self.sentences[np.maximum(best, 0)])
        out = []
        ids_all, root, kinds, scores = self.ids, self.root, self.kinds, self.scores
        for doc_id, s, b, kind, score in zip(ids, same.tolist(), best.tolist(), kind_v.tolist(), score_v,
                                             strict=True):
            to = -1
            if s >= 0:  # the same text as an earlier article: what that one is, or a copy of it
                to, kind, score = (root[s], kinds[s], scores[s]) if kinds[s] in _DERIVED else (s, COPY, 1.0)
            elif kind in _DERIVED:
                # the origin named is the earliest of its family, though the text came by a derivative
                to = root[b] if kinds[b] in _DERIVED else b
            elif kind == SHARES:
                to = b
            root.append(to if kind in _DERIVED else -1)
            kinds.append(kind)
            scores.append(score)
            out.append(Decision(doc_id, ids_all[to] if to >= 0 else None, _KIND_NAMES[kind], score))
        return out


# ----------------------------------------------------------------------------- the rule, on arrays
def vote(doc: np.ndarray, src: np.ndarray, own: np.ndarray, words: np.ndarray, sent: np.ndarray,
         n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The votes of each article's sentence keys for the earlier articles that had them first.

    One row per key, in text order: ``doc`` (the article, 0..n-1), ``src`` (the first article that had
    the key), ``own`` (the article's own number in the numbering of ``src``: a key it had first does
    not vote), ``words`` (words the key stands for), ``sent`` (its sentence; distinct between articles).
    Per article: the best source (most words, then the earliest; -1 if none), its votes, the words
    known from any earlier article, the sentences behind the best source's votes and their words whole
    (an edited sentence keeps one of its halves). What :meth:`StreamDeduper.add_batch` and the batch
    ``votes`` stage both decide from.
    """
    voting = src != own
    v_doc, v_src, v_words = doc[voting], src[voting], words[voting]
    known = np.bincount(v_doc, weights=v_words, minlength=n)
    best = np.full(n, -1, np.int64)
    best_votes = np.zeros(n)
    best_sents = np.zeros(n, np.int64)
    best_reach = np.zeros(n)
    if len(v_doc):
        pairs, inv = np.unique((v_doc << 40) | v_src, return_inverse=True)
        inv = inv.ravel()
        votes = np.bincount(inv, weights=v_words)
        p_doc, p_src = pairs >> 40, pairs & ((1 << 40) - 1)
        order = np.lexsort((p_src, -votes, p_doc))  # most votes first, then the earliest article
        lead = order[np.r_[True, p_doc[order][1:] != p_doc[order][:-1]]]
        best[p_doc[lead]] = p_src[lead]
        best_votes[p_doc[lead]] = votes[lead]
        # sentences behind the leading votes (keys come in sentence order)
        mine = v_src == best[v_doc]
        s_doc, s_sent = v_doc[mine], sent[voting][mine]
        change = np.r_[True, s_sent[1:] != s_sent[:-1]] if len(s_sent) else np.zeros(0, bool)
        best_sents = np.bincount(s_doc, weights=change, minlength=n).astype(np.int64)
        # ... and their words, whole: an edited sentence keeps one of its halves
        sent_words = np.bincount(sent, weights=words)
        best_reach = np.bincount(s_doc, weights=change * sent_words[s_sent], minlength=n)
    return best, best_votes, known, best_sents, best_reach


def local_verdicts(best: np.ndarray, best_votes: np.ndarray, known: np.ndarray, best_sents: np.ndarray,
                   best_reach: np.ndarray, total: np.ndarray, sentences: np.ndarray, origin_words: np.ndarray,
                   origin_sents: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Each article's relation (an index into the kind names) and score from its votes (:func:`vote`) and
    the size of its best source (``origin_words``, ``origin_sents``): everything but the same-text rule and
    the family root, which depend on earlier verdicts. Scores are Python floats rounded as ``round`` does."""
    n = len(best)
    kind = np.zeros(n, np.int8)
    has = (best >= 0) & (total != 0)
    t = np.where(has, total, 1).astype(np.float64)
    share = np.where(has, best_votes / t, 0.0)
    derived = has & ((share >= DERIVED_SHARE) | (best_reach / t >= EDITED_REACH))
    whole = (known / t >= ALL_KNOWN) & (share >= MOSTLY_ONE)
    # all of it is earlier text, mostly the origin's: all of the origin, or a part?
    kind[derived] = EDITED
    kind[derived & whole] = np.where(sentences < origin_sents, EXCERPT,
                                     np.where(total <= origin_words / ALL_KNOWN, COPY, EDITED))[derived & whole]
    kind[has & ~derived & (share >= PARTIAL_SHARE) & (best_sents >= 2)] = SHARES
    scores = [round(min(x, 1.0), 4) if h else 0.0 for x, h in zip(share.tolist(), has.tolist(), strict=True)]
    return kind, scores


def family_roots(parent: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Whom each article's verdict names, from its parent (the best source or the same-text article,
    -1 if none) and its relation, over a whole stream at once: a derived article names the root of its
    parent's family (the parent itself when that is not derived), a partial one its parent. Parents
    come earlier, so pointer jumping (about log2 of the longest chain of passes) reaches every root:
    the rule :meth:`StreamDeduper.add_batch` applies one article at a time. -1: none."""
    n = len(parent)
    derived = np.isin(kind, _DERIVED) & (parent >= 0)
    rep = np.where(derived, parent, np.arange(n))  # the family representative, one hop at a time
    while True:
        nxt = rep[rep]
        if np.array_equal(nxt, rep):
            break
        rep = nxt
    return np.where(derived, rep, np.where(kind == SHARES, parent, -1))


# ----------------------------------------------------------------------------- reading the input
_BLOCK = 1 << 24


@dataclass
class _Task:
    """A batch of input lines for a worker: a byte range of the file, single lines of it, or the lines."""

    first: int  # sorted line number of the first line (1-based)
    numbers: list[int] | None = None  # the lines' numbers in the input when sorted (else first, first+1...)
    path: str | None = None
    span: tuple[int, int] | None = None
    spans: list[tuple[int, int]] | None = None
    lines: list[bytes] | None = None
    rows: list[tuple[str, str]] | None = None  # (id, text) already decoded (dedup_rows on dicts)


_DATE_FIELD = re.compile(rb'"date(?:_publish)?"\s*:\s*"([^"]*)"')
_PUBLISHED = re.compile(rb'"published"\s*:\s*"([^"]*)"')


class _LineIndex:
    """Where each line starts and its date, from one quick pass; then batches in date order."""

    def __init__(self) -> None:
        self.starts: list[np.ndarray] = []  # offsets of the lines, a block at a time
        self.lines = 0
        self.dated: list[int] = []  # lines with a date, and their dates
        self.dates: list[bytes] = []
        self.size = 0

    def scan(self, data: bytes | bytearray, length: int, base: int, final: bool) -> int:
        """Index the complete lines of ``data[:length]`` (at file offset ``base``); returns the bytes
        consumed. A line's date is its "date" or "date_publish" field (the last, in the rare line with
        both), else its "published"; the field is looked for from the end of the line, where it sits
        after the text in every stream seen so far."""
        arr = np.frombuffer(data, np.uint8, length)
        ends = np.flatnonzero(arr == 10)
        del arr
        if final and length and (not len(ends) or ends[-1] != length - 1):
            ends = np.append(ends, length)  # a last line without a line break
        if not len(ends):
            return 0
        used = min(int(ends[-1]) + 1, length)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        self.starts.append(starts + base)
        dated, dates = self.dated, self.dates
        rfind, match, published = data.rfind, _DATE_FIELD.match, _PUBLISHED.search
        k = self.lines
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            i, m = b, None
            while m is None:
                i = rfind(b'"date', a, i)
                if i < 0:
                    m = published(data, a, b)
                    break
                m = match(data, i, b)
            if m is not None and m.end(1) > m.start(1):  # an empty date is no date
                dated.append(k)
                dates.append(bytes(m.group(1)))
            k += 1
        self.lines = k
        return used

    @property
    def offsets(self) -> np.ndarray:
        if len(self.starts) != 1:
            self.starts = [np.concatenate(self.starts) if self.starts else np.zeros(0, np.int64)]
        return self.starts[0]

    def order(self) -> np.ndarray | None:
        """Line numbers in date order (ties in input order; an undated line keeps the place of the
        dated line before it), or None when the input is in order already."""
        dates = self.dates
        if all(a <= b for a, b in zip(dates, dates[1:], strict=False)):
            return None
        keys = np.array([b"", *dates])  # fixed-width bytes compare as the dates do
        last_dated = np.searchsorted(np.array(self.dated, np.int64), np.arange(self.lines), side="right")
        return np.argsort(keys[last_dated], kind="stable")

    def span(self, i: int, j: int) -> tuple[int, int]:
        """The bytes of lines i..j-1 (consecutive)."""
        offsets = self.offsets
        return int(offsets[i]), int(offsets[j]) if j < len(offsets) else self.size


def _index_file(path: str) -> _LineIndex:
    index = _LineIndex()
    buf = bytearray(_BLOCK)
    have = base = 0
    with open(path, "rb") as f:
        while True:
            if have == len(buf):  # a line longer than the buffer
                buf.extend(bytes(len(buf)))
            with memoryview(buf) as view:
                got = f.readinto(view[have:])
            have += got
            used = index.scan(buf, have, base, final=not got)
            buf[:have - used] = buf[used:have]
            have -= used
            base += used
            if not got:
                break
    index.size = base
    return index


#: files a process reads batches from, by (process, path): a forked worker must not share its parent's
#: file position
_open_files: dict[tuple[int, str], Any] = {}


def _close_files(path: str) -> None:
    """Close what this process opened of ``path`` for its batches."""
    f = _open_files.pop((os.getpid(), path), None)
    if f is not None:
        f.close()


def _task_lines(task: _Task) -> list[bytes]:
    if task.lines is not None:
        return task.lines
    key = (os.getpid(), task.path or "")
    f = _open_files.get(key)
    if f is None:
        f = _open_files[key] = open(key[1], "rb")  # noqa: SIM115 (kept open for the next batch)
    if task.span is not None:
        a, b = task.span
        f.seek(a)
        data = f.read(b - a)
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        return lines
    out = []
    for a, n in task.spans or ():
        f.seek(a)
        out.append(f.read(n))
    return out


def _line_numbers(task: _Task) -> Iterable[int]:
    """The input line number of each line of ``task``."""
    return task.numbers if task.numbers is not None else itertools.count(task.first)


def _decode(task: _Task) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    """(ids, texts, errors) of a batch of JSON lines; an error is (line number in the input, reason)."""
    if task.rows is not None:
        return [r[0] for r in task.rows], [r[1] for r in task.rows], []
    from ..read.jsonl import _pick

    ids: list[str] = []
    texts: list[str] = []
    errors: list[tuple[int, str]] = []
    loads = json.loads
    for k, line in zip(_line_numbers(task), _task_lines(task), strict=False):
        if not line.strip():
            continue
        try:
            row = loads(line)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            errors.append((k, E.E006.format(line=k, detail=exc)))
            continue
        if not isinstance(row, dict):
            errors.append((k, E.E012.format(line=k, kind=type(row).__name__)))
            continue
        row_id = row.get("id")
        if type(row_id) is not str or not row_id:
            row_id = _pick(row, "id")
            if row_id is None:
                errors.append((k, E.E016.format(line=k)))
                continue
        text = row.get("text")
        if type(text) is not str or not text:
            text = _pick(row, "text") or ""
        ids.append(row_id)
        texts.append(text)
    return ids, texts, errors


def _features_task(task: _Task) -> tuple[list[str], Features, list[tuple[int, str]]]:
    """What a worker does: decode a batch of lines and fingerprint its texts."""
    ids, texts, errors = _decode(task)
    return ids, fast_features(texts, MIN_WORDS, HALF_MIN_WORDS), errors


class JsonlRows:
    """The JSON objects of a JSONL file (``-``: stdin) in date order, as :func:`read_rows` describes.

    Iterating gives dicts. :func:`dedup_rows` takes the fast way instead: it hands batches of raw
    lines to worker processes, which decode them themselves.
    """

    def __init__(self, path: str, on_error: Callable[[str], None] = lambda msg: None) -> None:
        self.path = path
        self.on_error = on_error
        self.lines = 0  # lines and bytes of the input, known once the first batch is out
        self.size = 0

    def report(self, line: int, message: str) -> None:
        """Pass on a numbered message about input line ``line`` (it names the line itself)."""
        self.on_error(f"{self.path}: {message}")

    def tasks(self, chunk: int = CHUNK) -> Iterator[_Task]:
        """Batches of ``chunk`` lines, in date order."""
        if self.path == "-":
            data = sys.stdin.buffer.read()
            index = _LineIndex()
            index.scan(data, len(data), 0, final=True)
            index.size = len(data)
            self.lines, self.size = index.lines, index.size
            order = index.order()
            numbers = order.tolist() if order is not None else list(range(index.lines))
            lines = [data[slice(*index.span(i, i + 1))].rstrip(b"\n") for i in numbers]
            del data
            for i in range(0, len(lines), chunk):
                yield _Task(first=i + 1, lines=lines[i:i + chunk], numbers=[k + 1 for k in numbers[i:i + chunk]])
            return
        index = _index_file(self.path)
        self.lines, self.size = index.lines, index.size
        order = index.order()
        for i in range(0, index.lines, chunk):
            j = min(i + chunk, index.lines)
            if order is None:  # in date order already: a run of whole lines
                yield _Task(first=i + 1, path=self.path, span=index.span(i, j))
            else:
                spans = []
                numbers = order[i:j].tolist()
                for k in numbers:
                    a, b = index.span(k, k + 1)
                    spans.append((a, b - a))
                yield _Task(first=i + 1, path=self.path, spans=spans, numbers=[k + 1 for k in numbers])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            yield from self._dicts()
        finally:
            _close_files(self.path)

    def _dicts(self) -> Iterator[dict[str, Any]]:
        from ..read.jsonl import _pick

        for task in self.tasks():
            for k, line in zip(_line_numbers(task), _task_lines(task), strict=False):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    self.report(k, E.E006.format(line=k, detail=exc))
                    continue
                if not isinstance(row, dict):
                    self.report(k, E.E012.format(line=k, kind=type(row).__name__))
                    continue
                row_id = _pick(row, "id")
                if row_id is None:
                    self.report(k, E.E016.format(line=k))
                    continue
                row["id"] = row_id
                row["text"] = _pick(row, "text") or ""
                yield row


def read_rows(path: str, on_error: Callable[[str], None] = lambda msg: None) -> JsonlRows:
    """JSON objects of a JSONL file (``-``: stdin) in date order, with the text under ``text`` whatever
    the input called it (CC-News ``maintext`` and the other names :mod:`newstrace.read.jsonl` knows).

    Lines are put in date order (the ``date``, ``date_publish`` or ``published`` field) by one quick
    pass over the file; a file already in order is then read straight through. An undated line keeps
    the place of the dated line before it. A line that is not a JSON object, or has no id, is
    reported through ``on_error`` (naming its line number in date order) and passed over.
    """
    return JsonlRows(path, on_error)


def ordered_lines(path: str) -> Iterator[bytes]:
    """The lines of a JSONL file (``-``: stdin) in date order, each line without its line break."""
    try:
        for task in JsonlRows(path).tasks():
            for line in _task_lines(task):
                yield line[:-1] if line.endswith(b"\n") else line
    finally:
        _close_files(path)


# ----------------------------------------------------------------------------- the pass
def _row_tasks(rows: Iterable[dict[str, Any]], chunk: int) -> Iterator[_Task]:
    buf: list[tuple[str, str]] = []
    for row in rows:
        buf.append((str(row["id"]), row.get("text") or ""))
        if len(buf) >= chunk:
            yield _Task(first=0, rows=buf)
            buf = []
    if buf:
        yield _Task(first=0, rows=buf)


def dedup_rows(rows: Iterable[dict[str, Any]] | JsonlRows, *, workers: int = 1,
               chunk: int = CHUNK) -> Iterator[Decision]:
    """Dedup rows in date order: dicts with ``id`` and ``text``, or the lines :func:`read_rows` gives.

    With ``workers`` > 1, that many forked processes decode and fingerprint batches of ``chunk``
    rows while this one decides; the verdicts are the same whatever the number of workers.
    """
    deduper = StreamDeduper()
    if isinstance(rows, JsonlRows):
        tasks: Iterable[_Task] = rows.tasks(chunk)
        first = next(iter(tasks), None)  # the input's size is known from here on
        deduper.reserve(rows.lines, rows.size)
        tasks = itertools.chain([first] if first else [], tasks)
        report = rows.report
    else:
        tasks, report = _row_tasks(rows, chunk), (lambda line, reason: None)
    try:
        for ids, feats, errors in ordered_map(_features_task, tasks, workers):
            for line, reason in errors:
                report(line, reason)
            yield from deduper.add_batch(ids, feats)
    finally:
        if isinstance(rows, JsonlRows):
            _close_files(rows.path)

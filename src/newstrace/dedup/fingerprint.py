"""Sentence fingerprints: the unit of reuse.

A copied, syndicated, excerpted or lightly edited article keeps most of its sentences word for
word, so a 64-bit hash of each normalised sentence (case, quotation-mark style and spacing
folded) finds them exactly, at a fraction of the cost of hashing every 5-word shingle: an edit
that changes one word loses that one sentence, not the article. Paraphrases keep few exact
sentences; they are found by the content-word signal in :mod:`.align`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# inside a line, a sentence ends at terminal punctuation (plus closing quotes/brackets) and a space
_SENT_END = re.compile(r"[.!?…][\"')\]]*\s+")
_TERMINATORS = ".!?…\"')] "
# typographic variants folded to one form; each replacement keeps the length, so spans stay valid
_FOLD = (("“", '"'), ("”", '"'), ("„", '"'), ("«", '"'), ("»", '"'), ("‘", "'"), ("’", "'"), ("–", "-"),
         ("—", "-"), ("\u00a0", " "))
MIN_WORDS = 5
#: a line this short may be site chrome (the batch mode reads uncleaned text)
CHROME_MAX_WORDS = 12


@dataclass(slots=True)
class Sentence:
    """One sentence of a text: its span (terminator excluded), normalised hash and length in words."""

    start: int
    end: int
    key: int
    words: int


def fold(text: str) -> str:
    """Lower-case ``text`` and fold quotation marks and dashes to ASCII, keeping every offset."""
    if not text.isascii():
        for a, b in _FOLD:  # str.replace is far faster than str.translate with a dict
            if a in text:
                text = text.replace(a, b)
    return text.lower()


def normal(sentence: str) -> str:
    """The normal form of a folded sentence: single spaces, no terminal punctuation."""
    return " ".join(sentence.split()).rstrip(_TERMINATORS)


def sentence_key(norm: str) -> int:
    """Stable 64-bit key of a sentence in normal form (for the persistent index)."""
    data = norm.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


@lru_cache(maxsize=1 << 16)
def is_chrome_line(line: str) -> bool:
    """True for a line the cleaning patterns take for chrome or a credit (cached: chrome repeats)."""
    from ..clean import CHROME_ANY

    return CHROME_ANY.match(line) is not None


def sentences(text: str, *, min_words: int = MIN_WORDS) -> list[Sentence]:
    """The sentences of ``text`` of at least ``min_words`` words, with spans and stable keys."""
    folded = fold(text)
    out: list[Sentence] = []
    pos = 0
    for line in folded.split("\n"):
        base, pos = pos, pos + len(line) + 1
        stripped = line.strip()
        if not stripped or (stripped.count(" ") < CHROME_MAX_WORDS and is_chrome_line(" ".join(stripped.split()))):
            continue
        start = 0
        for m in [*_SENT_END.finditer(line), None]:
            end = m.start() + 1 if m else len(line)
            norm = normal(line[start:end])
            n = norm.count(" ") + 1 if norm else 0
            if n >= min_words:
                lead = len(line[start:end]) - len(line[start:end].lstrip())
                out.append(Sentence(base + start + lead, base + len(line[:end].rstrip()), sentence_key(norm), n))
            start = m.end() if m else len(line)
    return out


# fast_features: ASCII upper case folded to lower, other blanks and control characters to a space, "?" and
# "!" to "."; quotation marks, brackets and hyphens deleted (so straight and typographic quotes and dashes
# agree: the non-ASCII ones go with every other non-ASCII character); NUL separates the texts of a batch
_FAST_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else 46 if c in b"?!" else 32 if (c < 32 or c == 127) and c not in (0, 10) else c
    for c in range(256))
_FAST_DELETE = b"\"'()[]-"
#: a text whose non-ASCII characters are more than this share keeps them (a script other than Latin)
_NON_ASCII_SHARE = 1 / 16


@dataclass(slots=True)
class Features:
    """Sentence keys of a batch of texts, as parallel NumPy arrays (see :func:`fast_features`).

    One row per key: ``keys`` (64-bit), ``words`` (words it stands for), ``doc`` (index of its text in
    the batch) and ``sent`` (index of its sentence in the batch, the same for both halves of a
    sentence). Per text: ``total`` (words in keyed sentences), ``sentences`` (how many) and ``whole``
    (a key of the text's whole sequence of keys, 0 for a text without any).
    """

    keys: Any
    words: Any
    doc: Any
    sent: Any
    total: Any
    sentences: Any
    whole: Any

    def __len__(self) -> int:
        return len(self.total)


def _normal_bytes(text: str) -> bytes:
    b = text.encode("ascii", "ignore")
    if len(b) < len(text) - len(text) * _NON_ASCII_SHARE:
        b = fold(text).encode("utf-8", "surrogatepass")  # another script: keep its letters
    return b


def fast_features(texts: Sequence[str], min_words: int = MIN_WORDS, half_min_words: int = 10) -> Features:
    """Sentence keys of many texts at once, for the one-pass batch mode (:mod:`.stream`).

    The sentences are those of :func:`sentences` in spirit (lines, then sentence ends, at least
    ``min_words`` words; a short line that does not end in a full stop is dropped when the cleaning
    patterns take it for chrome), on a coarser normal form that needs no per-character Python:
    lower case, blanks folded, quotation marks, brackets, hyphens and, in mostly-Latin text, every
    non-ASCII character dropped. The texts are processed together, in NumPy, over one buffer. A sentence of ``half_min_words`` or more words is keyed by its
    two halves (split at the middle word), so that an edit of one word loses half a sentence, not
    all of it; a shorter one by itself.

    Keys are Python's own ``hash`` of the normalised bytes: several times faster than a
    cryptographic hash, stable within one process and its forked workers, which is all an
    in-memory pass needs (the store uses :func:`sentence_key`).
    """
    import numpy as np

    n_texts = len(texts)
    if not n_texts:
        none = np.zeros(0, np.int64)
        return Features(none, none.astype(np.int32), none.astype(np.int32), none.astype(np.int32), none, none,
                        none)
    parts = [_normal_bytes(t) for t in texts]
    buf = b"\x00".join(parts).translate(_FAST_TABLE, _FAST_DELETE) + b"\x00"
    if buf.count(b"\x00") != n_texts:  # a NUL inside a text: make it a blank
        buf = b"\x00".join(p.replace(b"\x00", b" ") for p in parts).translate(_FAST_TABLE, _FAST_DELETE) + b"\x00"
    arr = np.frombuffer(buf, np.uint8)
    # now a byte below 32 ends a line (10) or a text (0). Runs of blanks are not squeezed (that costs
    # a copy of everything): words are counted, and halves cut, at the blank before each word, and
    # sentences are trimmed of blanks at either end; so do the blanks left where quotes were deleted
    nl = arr < 32
    sp = arr == 32
    spaces = np.flatnonzero(sp[:-1] & (arr[1:] > 32))  # the blank before a word
    # a short line not ending as a sentence does may be site chrome (a menu, a share prompt, a credit):
    # judged on the original line by the cleaning patterns. A line ending in a full stop is taken
    # for text: checking every short paragraph costs more than the rare chrome line it would catch
    # (one line of boilerplate alone can never make a link).
    line_end = np.flatnonzero(nl)
    line_start = np.empty_like(line_end)
    line_start[0] = 0
    line_start[1:] = line_end[:-1] + 1
    maybe = np.flatnonzero((line_end > line_start) & (arr[np.maximum(line_end - 1, 0)] != 46))
    if len(maybe):
        words = np.searchsorted(spaces, line_end[maybe]) - np.searchsorted(spaces, line_start[maybe]) + 1
        maybe = maybe[(words >= min_words) & (words <= CHROME_MAX_WORDS)]
    chrome = None
    if len(maybe):
        text_end = np.flatnonzero(arr == 0)
        in_text = np.searchsorted(text_end, line_end[maybe])
        first_line = np.searchsorted(line_end, np.where(in_text > 0, text_end[in_text - 1] + 1, 0))
        split: dict[int, list[str]] = {}
        for li, t, k in zip(maybe.tolist(), in_text.tolist(), (maybe - first_line).tolist(), strict=True):
            lines = split.get(t)
            if lines is None:
                lines = split[t] = texts[t].split("\n")
            if k < len(lines) and is_chrome_line(" ".join(fold(lines[k]).split())):
                if chrome is None:
                    chrome = np.zeros(len(line_end), bool)
                chrome[li] = True
    # sentences: a line ends one; so does ". " (any terminal mark, quotes and brackets already gone)
    dot = arr == 46
    bound = nl.copy()
    bound[1:] |= sp[1:] & dot[:-1]
    ends = np.flatnonzero(bound)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    # nor blanks at either end, nor terminal dots
    while True:
        last = arr[np.maximum(ends - 1, 0)]
        strip = (ends > starts) & ((last == 46) | (last == 32))
        if not strip.any():
            break
        ends = ends - strip
    while True:
        strip = (starts < ends) & (arr[np.minimum(starts, len(arr) - 1)] == 32)
        if not strip.any():
            break
        starts = starts + strip
    first_space = np.searchsorted(spaces, starts)
    n = np.searchsorted(spaces, ends) - first_space + 1
    keep = (ends > starts) & (n >= min_words)
    if chrome is not None:
        keep &= ~chrome[np.searchsorted(line_end, starts)]
    starts, ends, n, first_space = starts[keep], ends[keep], n[keep], first_space[keep]
    seg_text = np.searchsorted(np.flatnonzero(arr == 0), starts)
    sent = np.arange(len(starts))
    long = n >= half_min_words
    half = n // 2
    cut = spaces[np.where(long, first_space + half - 1, 0)] if len(spaces) else starts
    # one key per short sentence, two per long one, in text order
    k_start = np.stack([starts, np.where(long, cut + 1, ends)], 1)
    k_end = np.stack([np.where(long, cut, ends), ends], 1)
    k_words = np.stack([np.where(long, half, n), n - half], 1)
    valid = np.stack([np.ones(len(starts), bool), long], 1)
    k_start, k_end, k_words = k_start[valid], k_end[valid], k_words[valid]
    k_sent = np.repeat(sent, 1 + long)
    k_doc = seg_text[k_sent]
    keys = np.fromiter(map(hash, map(buf.__getitem__, map(slice, k_start.tolist(), k_end.tolist()))),
                       np.int64, len(k_start))
    total = np.bincount(seg_text, weights=n, minlength=n_texts).astype(np.int64)
    bounds = np.searchsorted(k_doc, np.arange(n_texts + 1)).tolist()
    whole = np.array([hash(keys[a:b].tobytes()) if b > a else 0 for a, b in zip(bounds, bounds[1:], strict=False)],
                     np.int64)
    return Features(keys, k_words.astype(np.int32), k_doc.astype(np.int32), k_sent.astype(np.int32),
                    total, np.bincount(seg_text, minlength=n_texts), whole)

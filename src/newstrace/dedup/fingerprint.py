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
from dataclasses import dataclass
from functools import lru_cache

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


def fast_features(text: str, min_words: int = MIN_WORDS, half_min_words: int = 10) -> list[tuple[int, int, int, int]]:
    """Per sentence: (key, first-half key, second-half key, words); the same sentences as :func:`sentences`.

    Keys are Python's own string hash: several times faster than a cryptographic hash and
    stable within one process and its forked workers, which is all an in-memory pass needs.
    Sentences of ``half_min_words`` or more also get a key for each half, so that an edit of
    one word loses half a sentence, not all of it.
    """
    out = []
    for line in fold(text).split("\n"):
        line = " ".join(line.split())
        if not line or (line.count(" ") < CHROME_MAX_WORDS and is_chrome_line(line)):
            continue
        for part in _SENT_END.split(line + " "):
            part = part.rstrip(_TERMINATORS)
            n = part.count(" ") + 1
            if n < min_words:
                continue
            if n >= half_min_words:
                rest = part.split(" ", n // 2)[-1]
                out.append((hash(part), hash(part[:len(part) - len(rest)]), hash(rest), n))
            else:
                out.append((hash(part), 0, 0, n))
    return out

"""Align the sentences of two articles and say what kind of reuse joins them.

Each sentence of the derived article is paired with its best counterpart in the origin:
the same fingerprint (exact), or the highest Dice overlap of content-word stems, which survives
synonym swaps and reordering because names, numbers and most nouns stay ("Russia
single-handedly attacked Ukraine" / "Russia has single-handedly attacked Ukraine"). The share
of each article covered by exact, near and paraphrased pairs gives the relation kind.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..model import Passage
from .fingerprint import Sentence, fold, sentences

_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*")
_STOP = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "said", "says", "say", "told", "tell", "stated", "states", "claimed", "claims", "according", "also", "however", "just"])

NEAR = 0.8  # Dice of content stems: a sentence edited in a word or two
PARAPHRASE = 0.45  # a sentence reworded (spun): names, numbers and key nouns kept
MIN_SHARED_STEMS = 3


def stems(text: str) -> frozenset[str]:
    """Content-word stems of a sentence: stop words dropped, words cut to 5 characters."""
    return frozenset(w[:5] for w in _WORD.findall(fold(text)) if w not in _STOP and (len(w) > 2 or w.isdigit()))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two stem sets."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@dataclass
class Pair:
    """A derived sentence aligned to an origin sentence."""

    o: int  # index into the origin's sentences
    d: int  # index into the derived article's sentences
    sim: float  # 1.0 for an exact fingerprint match


@dataclass
class Alignment:
    """The sentence alignment of a derived article to an origin, and the coverage figures."""

    origin: list[Sentence]
    derived: list[Sentence]
    pairs: list[Pair]

    def _cover(self, side: str, lo: float, hi: float = 1.01) -> float:
        sents = self.origin if side == "o" else self.derived
        total = sum(s.words for s in sents) or 1
        seen: set[int] = set()
        covered = 0
        for p in self.pairs:
            i = p.o if side == "o" else p.d
            if lo <= p.sim < hi and i not in seen:
                seen.add(i)
                covered += sents[i].words
        return covered / total

    @property
    def exact_d(self) -> float:
        return self._cover("d", 1.0)

    @property
    def exact_o(self) -> float:
        return self._cover("o", 1.0)

    @property
    def near_d(self) -> float:
        return self._cover("d", NEAR)

    @property
    def near_o(self) -> float:
        return self._cover("o", NEAR)

    @property
    def para_d(self) -> float:
        return self._cover("d", PARAPHRASE)

    @property
    def para_o(self) -> float:
        return self._cover("o", PARAPHRASE)

    def contiguous(self) -> bool:
        """True when the derived article's matched sentences are one unbroken run of the origin's."""
        exact = sorted((p.o, p.d) for p in self.pairs if p.sim >= 1.0)
        return bool(exact) and all(b[0] == a[0] + 1 and b[1] == a[1] + 1 for a, b in zip(exact, exact[1:], strict=False))


def align(origin_text: str, derived_text: str, *, origin_sents: list[Sentence] | None = None,
          derived_sents: list[Sentence] | None = None) -> Alignment:
    """Pair each sentence of ``derived_text`` with its best counterpart in ``origin_text``."""
    so = origin_sents if origin_sents is not None else sentences(origin_text, min_words=4)
    sd = derived_sents if derived_sents is not None else sentences(derived_text, min_words=4)
    by_key: dict[int, int] = {}
    for i, s in enumerate(so):
        by_key.setdefault(s.key, i)
    o_stems = [stems(origin_text[s.start:s.end]) for s in so]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, st in enumerate(o_stems):
        for w in st:
            postings[w].append(i)
    pairs: list[Pair] = []
    for j, s in enumerate(sd):
        if s.key in by_key:
            pairs.append(Pair(by_key[s.key], j, 1.0))
            continue
        st = stems(derived_text[s.start:s.end])
        shared: dict[int, int] = defaultdict(int)
        for w in st:
            for i in postings.get(w, ()):
                shared[i] += 1
        best, best_sim = -1, 0.0
        for i, n in sorted(shared.items()):  # by index: a tie goes to the earlier sentence whatever the hash order
            if n < MIN_SHARED_STEMS:
                continue
            sim = 2 * n / (len(st) + len(o_stems[i]))
            if sim > best_sim:
                best, best_sim = i, sim
        if best >= 0 and best_sim >= PARAPHRASE:
            pairs.append(Pair(best, j, min(best_sim, 0.999)))
    return Alignment(so, sd, pairs)


def classify(al: Alignment, same_text: bool = False, same_headline: bool = False,
             same_raw: bool = False) -> tuple[str, float] | None:
    """The relation kind and score for an alignment, or None when it shows no reuse."""
    if same_text:
        return ("duplicate" if same_headline and same_raw else "copy"), 1.0
    ed, eo = al.exact_d, al.exact_o
    if ed >= 0.95 and eo >= 0.95:
        return "copy", round(min(ed, eo), 4)
    if ed >= 0.95 and al.contiguous():
        return "excerpt", round(ed, 4)
    nd, no = al.near_d, al.near_o
    if nd >= 0.6 and no >= 0.5:
        return "edited", round(min(nd, no), 4)
    if eo >= 0.95 and ed >= 0.5:  # all of the origin, with sentences added
        return "edited", round(ed, 4)
    pd, po = al.para_d, al.para_o
    # a rewrite: most of the derived text is the origin's sentences reworded, not copied
    if pd >= 0.4 and po >= 0.25 and pd - nd >= 0.5 * pd:
        return "rewrite", round(pd, 4)
    matched = [p for p in al.pairs if p.sim >= PARAPHRASE]
    words = sum(al.derived[p.d].words for p in matched)
    if len(matched) >= 2 and words >= 25:
        return "shares_passages", round(max(pd, po), 4)
    return None


def word_diff(a: str, b: str) -> list[tuple[str, str, str]]:
    """Word-level diff of two passages as (op, origin words, derived words).

    op is "=" (the same words, up to case and quotation marks), "~" (replaced), "-" (only in
    the origin) or "+" (only in the derived text).
    """
    wa, wb = a.split(), b.split()
    out: list[tuple[str, str, str]] = []
    sm = SequenceMatcher(None, [fold(w) for w in wa], [fold(w) for w in wb], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        ta, tb = " ".join(wa[i1:i2]), " ".join(wb[j1:j2])
        out.append(({"equal": "=", "replace": "~", "delete": "-", "insert": "+"}[op], ta, tb))
    return out


def passages(al: Alignment, origin_text: str, derived_text: str, *, with_diff: bool = True) -> list[Passage]:
    """Aligned passages: runs of sentence pairs that follow each other in both texts."""
    pairs = sorted(al.pairs, key=lambda p: (p.d, p.o))
    runs: list[list[Pair]] = []
    for p in pairs:
        last = runs[-1][-1] if runs else None
        if last and p.d == last.d + 1 and p.o == last.o + 1 and (p.sim >= 1.0) == (last.sim >= 1.0):
            runs[-1].append(p)
        else:
            runs.append([p])
    out = []
    for run in runs:
        o0, o1 = al.origin[run[0].o], al.origin[run[-1].o]
        d0, d1 = al.derived[run[0].d], al.derived[run[-1].d]
        sim = sum(p.sim for p in run) / len(run)
        a_text, b_text = origin_text[o0.start:o1.end], derived_text[d0.start:d1.end]
        diff = word_diff(a_text, b_text) if with_diff and sim < 1.0 else []
        out.append(Passage(o0.start, o1.end, d0.start, d1.end, round(sim, 4), diff))
    return out

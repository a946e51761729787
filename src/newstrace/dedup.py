"""Deduplicate stage (first version): reuse relations from shared sentences.

Sentences are normalised (case, quotation marks, punctuation) and hashed; articles that share
sentence hashes are candidates, and the share of sentences they have in common, and whether
the shared ones form one contiguous run, gives the kind of relation. Paraphrased rewrites keep
few exact sentences and are the reuse issue's to find.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Article, Passage, Relation

_SENT_END = re.compile(r"(?<=[.!?…])[\"”’']?\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_TOKEN = re.compile(r"\w+")
MIN_TOKENS = 5
#: a sentence in more articles than this is boilerplate, not evidence of reuse
MAX_POSTINGS = 50


@dataclass
class Sentence:
    start: int
    end: int
    key: bytes
    tokens: int


def sentences(text: str) -> list[Sentence]:
    """Sentences of a clean text with their spans and normalised hash."""
    out: list[Sentence] = []
    pos = 0
    for para in text.split("\n\n"):
        p_start = text.index(para, pos) if para else pos
        pos = p_start + len(para)
        s_start = 0
        for m in list(_SENT_END.finditer(para)) + [None]:
            s_end = m.start() if m else len(para)
            chunk = para[s_start:s_end]
            toks = _TOKEN.findall(chunk.lower())
            if toks:
                lead = len(chunk) - len(chunk.lstrip())
                key = hashlib.blake2b(" ".join(toks).encode(), digest_size=8).digest()
                out.append(Sentence(p_start + s_start + lead, p_start + s_start + len(chunk.rstrip()), key, len(toks)))
            s_start = m.end() if m else len(para)
    return out


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def _runs(pairs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    runs: list[list[tuple[int, int]]] = []
    for i, j in sorted(pairs):
        if runs and runs[-1][-1][0] == i - 1 and runs[-1][-1][1] == j - 1:
            runs[-1].append((i, j))
        else:
            runs.append([(i, j)])
    return runs


def _origin_first(a: Article, b: Article, order: dict[str, int], kind: str, ca: float, cb: float) -> tuple[Article, Article, str]:
    """(origin, derived, how the direction was decided)."""
    if a.date and b.date and a.date[:16] != b.date[:16]:
        return (a, b, "date") if a.date < b.date else (b, a, "date")
    if kind == "excerpt":
        return (a, b, "containment") if cb >= ca else (b, a, "containment")
    wa, wb = bool(a.credits), bool(b.credits)
    if wa != wb:  # the version that still carries the wire credit is closer to the wire
        return (a, b, "credit") if wa else (b, a, "credit")
    return (a, b, "order") if order[a.id] <= order[b.id] else (b, a, "order")


def relate(articles: Sequence[Article]) -> list[Relation]:
    """Reuse relations among ``articles`` (all of them, in stored order)."""
    order = {a.id: i for i, a in enumerate(articles)}
    sents = {a.id: [s for s in sentences(a.text) if s.tokens >= MIN_TOKENS] for a in articles}
    postings: dict[bytes, list[str]] = defaultdict(list)
    for a in articles:
        for k in {s.key for s in sents[a.id]}:
            postings[k].append(a.id)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for ids in postings.values():
        if 1 < len(ids) <= MAX_POSTINGS:
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    shared[(ids[x], ids[y])] += 1
    by_id = {a.id: a for a in articles}
    out = []
    for ia, ib in shared:
        rel = _relation(by_id[ia], by_id[ib], sents[ia], sents[ib], order)
        if rel:
            out.append(rel)
    return out


def _relation(a: Article, b: Article, sa: list[Sentence], sb: list[Sentence], order: dict[str, int]) -> Relation | None:
    index_b: dict[bytes, int] = {}
    for j, s in enumerate(sb):
        index_b.setdefault(s.key, j)
    pairs = [(i, index_b[s.key]) for i, s in enumerate(sa) if s.key in index_b]
    if not pairs:
        return None
    ca, cb = len(pairs) / max(1, len(sa)), len(pairs) / max(1, len(sb))
    runs = _runs(pairs)
    long_shared = sum(sa[i].tokens for i, _ in pairs)
    if len(pairs) < 2 and long_shared < 15:
        return None  # one short common sentence is not reuse
    if _norm(a.text) == _norm(b.text):
        same_head = _norm(a.headline or "") == _norm(b.headline or "")
        kind = "duplicate" if same_head and _norm(a.raw) == _norm(b.raw) else "copy"
        score = 1.0
    elif (ca >= 0.95 or cb >= 0.95) and len(runs) == 1:
        kind, score = "excerpt", max(ca, cb)
    elif min(ca, cb) >= 0.6:
        kind, score = "edited", min(ca, cb)
    else:
        kind, score = "shares_passages", max(ca, cb)
    origin, derived, how = _origin_first(a, b, order, kind, ca, cb)
    passages = []
    for run in runs:
        (i0, j0), (i1, j1) = run[0], run[-1]
        pa = (sa[i0].start, sa[i1].end)
        pb = (sb[j0].start, sb[j1].end)
        if origin is b:
            pa, pb = pb, pa
        passages.append(Passage(pa[0], pa[1], pb[0], pb[1], 1.0))
    return Relation(origin.id, derived.id, kind, round(score, 4), passages, how)

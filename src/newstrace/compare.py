"""Compare stage (first version): where the versions of one story disagree.

Flags a person's name spelt differently in two articles of the same story (same first name,
near-identical surname: "Mykhailo Podolyak" / "Mykhailo Polyak"), and, on the passages that the
reuse stage aligned, words changed inside quotation marks and numbers changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from .model import Article, Discrepancy, Relation, Story

_FULL_NAME = re.compile(r"\b([A-Z][a-z’'-]{2,})\s+([A-Z][a-z’'-]{2,})\b")


def _names(text: str) -> set[tuple[str, str]]:
    return set(_FULL_NAME.findall(text))


_QUOTED = re.compile(r"[“\"]([^“”\"]{12,})[”\"]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’]+", text.lower().replace("’", "'"))


def passage_discrepancies(story: str, rel: Relation, origin: Article, derived: Article) -> list[Discrepancy]:
    """Quotes reworded and numbers changed between two aligned versions of the same passages."""
    out: list[Discrepancy] = []
    for p in rel.passages:
        if p.similarity >= 1.0:
            continue
        a_text, b_text = origin.text[p.a_start:p.a_end], derived.text[p.b_start:p.b_end]
        a_quotes, b_quotes = _QUOTED.findall(a_text), _QUOTED.findall(b_text)
        for qa in a_quotes:
            wa = _words(qa)
            best = max(b_quotes, key=lambda qb: SequenceMatcher(None, wa, _words(qb)).ratio(), default=None)
            if best is None:
                continue
            wb = _words(best)
            sm = SequenceMatcher(None, wa, wb, autojunk=False)
            ratio = sm.ratio()
            if max(b.size for b in sm.get_matching_blocks()) == min(len(wa), len(wb)):
                continue  # one is a stretch of the other: the quote was cut or split, not reworded
            if 0.4 <= ratio < 1.0:  # the same quote, not word for word
                out.append(Discrepancy(story, "quote_reworded", origin.id, derived.id, qa, best,
                                       f"word overlap {ratio:.2f}"))
        nums_a = {n.replace(",", "") for n in _NUMBER.findall(a_text)}
        nums_b = {n.replace(",", "") for n in _NUMBER.findall(b_text)}
        if nums_a and nums_b and nums_a != nums_b and not (nums_a <= nums_b or nums_b <= nums_a):
            out.append(Discrepancy(story, "number_changed", origin.id, derived.id, ", ".join(sorted(nums_a - nums_b)),
                                   ", ".join(sorted(nums_b - nums_a)), a_text[:120]))
    return out


def compare(stories: Sequence[Story], articles: dict[str, Article],
            relations: Sequence[Relation] = ()) -> list[Discrepancy]:
    """Discrepancies between the articles of each story."""
    out: list[Discrepancy] = []
    story_of = {a: s.id for s in stories for a in s.articles}
    for rel in relations:
        sid = story_of.get(rel.derived)
        if sid and sid == story_of.get(rel.origin) and rel.origin in articles and rel.derived in articles:
            out.extend(passage_discrepancies(sid, rel, articles[rel.origin], articles[rel.derived]))
    for story in stories:
        if len(story.articles) < 2:
            continue
        names = {a: _names(articles[a].text) for a in story.articles if a in articles}
        all_surnames = {(f, s) for ns in names.values() for f, s in ns}
        seen: set[tuple[str, str]] = set()
        for a, ns in names.items():
            for first, sur in sorted(ns):
                for b, other in names.items():
                    if b == a:
                        continue
                    for first2, sur2 in sorted(other):
                        if first2 != first or sur2 == sur or (first, sur2) in names[a]:
                            continue
                        ratio = SequenceMatcher(None, sur, sur2).ratio()
                        key = tuple(sorted((f"{first} {sur}", f"{first2} {sur2}")))
                        if ratio >= 0.7 and key not in seen and (first, sur) in all_surnames:
                            seen.add(key)
                            out.append(Discrepancy(story.id, "name_variant", a, b, f"{first} {sur}",
                                                   f"{first2} {sur2}", f"similarity {ratio:.2f}"))
    return out

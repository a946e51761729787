"""Compare stage (first version): where the versions of one story disagree.

Flags a person's name spelt differently in two articles of the same story (same first name,
near-identical surname: "Mykhailo Podolyak" / "Mykhailo Polyak").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from .model import Article, Discrepancy, Story

_FULL_NAME = re.compile(r"\b([A-Z][a-z’'-]{2,})\s+([A-Z][a-z’'-]{2,})\b")


def _names(text: str) -> set[tuple[str, str]]:
    return set(_FULL_NAME.findall(text))


def compare(stories: Sequence[Story], articles: dict[str, Article]) -> list[Discrepancy]:
    """Discrepancies between the articles of each story."""
    out: list[Discrepancy] = []
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

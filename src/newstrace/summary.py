"""Story summaries: the key people, places and organisations of each story.

The cluster stage finds a story's key names as untyped words ("putin", "kyiv"); an analyst wants
"people: Vladimir Putin; places: Kyiv". Here spaCy's entity recogniser reads a short text per
story (its head article's headline and lede, and the headlines of up to ``MAX_HEADLINES`` other
members), so the cost per story is bounded whatever its size. Entities are counted over that
text, a surname alone is folded into the full name it abbreviates ("Putin" into "Vladimir
Putin"), and the most frequent ``KEEP`` of each type are kept. A person must be named in full
somewhere in that text: news style does so at first mention, and a lone "person" is more often
a capital standing for its government ("Kyiv says").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from .attribute.extract import load_model, parse
from .model import Article, Story

KEEP = 5
# A story of one article is most of a crawl and the least looked at: the recogniser reads only its
# opening, so that typing stays a small part of the analysis.
SINGLE_LEDE_CHARS = 250
MAX_HEADLINES = 4
LEDE_CHARS = 800  # a lede of three or four sentences: who, where, what, and who answered
ENTITY_KINDS = ("people", "places", "organisations")
TYPES = {"PERSON": "people", "GPE": "places", "LOC": "places", "FAC": "places", "ORG": "organisations"}
_EDGE = re.compile(r"^(?:the|a|an)\s+|['’]s$|[\s.,;:'\"“”‘’()\[\]-]+$|^[\s'\"“”‘’(\[-]+", re.I)


@lru_cache(maxsize=1)
def _nlp() -> Any:
    """The entity recogniser alone (with the token vectors it listens to), loaded once per process."""
    return load_model(exclude=["tagger", "parser", "senter", "attribute_ruler", "lemmatizer"])


def head_article(story: Story, articles: dict[str, Article]) -> Article | None:
    """The article a story is headed by: the one carrying its headline (its wire original when known)."""
    head = next((articles[a] for a in story.articles if a in articles and articles[a].headline == story.headline),
                None)
    return head or (articles.get(story.articles[0]) if story.articles else None)


def story_extract(story: Story, articles: dict[str, Article]) -> str:
    """A one-paragraph extract: the lede paragraph of the story's head article (its wire original when known)."""
    head = head_article(story, articles)
    if head is None:
        return ""
    paras = [p for p in head.text.split("\n\n") if len(p.split()) >= 12]
    return paras[0] if paras else head.text[:400]


def first_report(story: Story, articles: dict[str, Article]) -> str | None:
    """The story's first report: its earliest dated article, else the head of its reuse tree."""
    dated = [articles[a] for a in story.articles if a in articles and articles[a].date]
    if dated:
        return min(dated, key=lambda a: (a.date or "", a.id)).id
    head = head_article(story, articles)
    return head.id if head else None


def lede(article: Article, chars: int = LEDE_CHARS) -> str:
    """The opening of an article's text, cut at a sentence end within ``chars`` when there is one."""
    text = " ".join(p for p in article.text.split("\n\n") if len(p.split()) >= 8) or article.text
    if len(text) <= chars:
        return text
    cut = max(text.rfind(". ", 0, chars), text.rfind(".” ", 0, chars))
    return text[:cut + 1] if cut > chars // 3 else text[:chars]


def story_text(story: Story, articles: dict[str, Article]) -> str:
    """What the recogniser reads for a story: the head's headline and lede, then other headlines."""
    head = head_article(story, articles)
    if head is None:
        return ""
    parts, seen = [head.headline or "", lede(head, LEDE_CHARS if len(story.articles) > 1 else SINGLE_LEDE_CHARS)], {
        head.headline}
    for aid in story.articles:
        a = articles.get(aid)
        if a is not None and a.headline and a.headline not in seen and len(seen) <= MAX_HEADLINES:
            seen.add(a.headline)
            parts.append(a.headline)
    return "\n\n".join(p for p in parts if p)


def _clean(name: str) -> str:
    prev = None
    while prev != name:
        prev, name = name, _EDGE.sub("", name.strip())
    return " ".join(name.split())


def rank(found: Sequence[tuple[str, str]], keep: int = KEEP,
         votes: dict[str, Counter[str]] | None = None) -> dict[str, list[str]]:
    """Typed entities of one story from its recognised (text, label) pairs, most frequent first.

    ``votes`` counts the types each name was given across a batch of stories: the small model
    sometimes calls a city a person, and the majority over many mentions corrects it.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    kinds: dict[str, Counter[str]] = {}
    for k, (text, label) in enumerate(found):
        kind = TYPES.get(label)
        name = _clean(text)
        if kind is None or len(name) < 2 or not any(c.isupper() for c in name):
            continue
        counts[name] += 1
        first.setdefault(name, k)
        kinds.setdefault(name, Counter())[kind] += 1
    typed = {n: ((votes or {}).get(n) or kinds[n]).most_common(1)[0][0] for n in counts}
    # "Putin" is "Vladimir Putin" when the story names him in full, whatever type a lone surname got
    for short in [n for n in counts if " " not in n]:
        full = [n for n in counts if typed[n] == "people" and n != short and n.split()[-1] == short]
        if len(full) == 1:
            counts[full[0]] += counts.pop(short)
    out: dict[str, list[str]] = {}
    for n, _ in sorted(counts.items(), key=lambda x: (-x[1], first[x[0]])):
        if typed[n] == "people" and " " not in n:
            continue  # news names a person in full on first mention; a lone "person" is mostly a city ("Kyiv says")
        names = out.setdefault(typed[n], [])
        if len(names) < keep:
            names.append(n)
    return dict(sorted(out.items()))


def _recognise(texts: Sequence[str]) -> Iterator[list[tuple[str, str]]]:
    for doc in parse(_nlp(), texts, 64):
        yield [(e.text, e.label_) for e in doc.ents]


def key_entities(stories: Sequence[Story], articles: dict[str, Article]) -> None:
    """Set ``entities`` (people, places, organisations) on each of ``stories``."""
    texts = [story_text(s, articles) for s in stories]
    found = list(_recognise(texts))
    votes: dict[str, Counter[str]] = {}
    for pairs in found:
        for text, label in pairs:
            if label in TYPES:
                votes.setdefault(_clean(text), Counter())[TYPES[label]] += 1
    for s, pairs in zip(stories, found, strict=True):
        s.entities = rank(pairs, votes=votes)

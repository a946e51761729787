"""Attribute stage (first version): direct quotes and the speaker named next to them.

A quotation in “curly” or "straight" marks is attributed when a reporting verb stands next to
it ("..., Putin said", "Peskov said that “...”", "he added"). A pronoun or a description
("the Russian leader") takes the last person named as a speaker before it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .model import Article, Quote

_QUOTE = re.compile(r"“[^“”]{8,}?”|\"[^\"\n]{8,}?\"")
_CUES = (r"said|says|say|told|tells|added|adds|tweeted|wrote|writes|stated|states|insisted|claimed|claims|"
         r"warned|vowed|asked|answered|replied|declared|announced|explained|argued|noted|posted|continued")
_NAME = r"(?:[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){0,3})"
_SRC = rf"(?:{_NAME}|he|she|they|it|we|I|the [a-z][\w\s-]{{1,30}}?|(?:the )?[a-z]+, {_NAME},)"
_AFTER = [
    re.compile(rf"^\s*,?\s*(?P<src>{_SRC})\s+(?P<cue>{_CUES})\b"),
    re.compile(rf"^\s*,?\s*(?P<cue>{_CUES})\s+(?P<src>{_SRC})\b"),
]
_BEFORE = re.compile(rf"(?P<src>{_SRC})\s+(?:(?:also|then|later)\s+)?(?P<cue>{_CUES})\b[^“\".]{{0,60}}?[:,]?\s*$")
_PRONOUN = {"he", "she", "they", "it", "we", "i"}
_PERSON = re.compile(r"\b([A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+){1,2})\b")


def _speaker(src: str, text: str, at: int, last: str | None) -> str | None:
    m = re.search(_NAME + r"(?=,$)", src.strip())
    if m:  # "the adviser, Mykhailo Podolyak,"
        return m.group(0)
    s = src.strip().strip(",")
    if s.lower() in _PRONOUN or s[:1].islower():
        if last:
            return last
        names = _PERSON.findall(text[:at])
        return names[-1] if names else None
    return s


def attribute(article: Article) -> list[Quote]:
    """Direct quotes of one article, with the speaker named or referred to next to them."""
    text = article.text
    out: list[Quote] = []
    last: str | None = None
    for m in _QUOTE.finditer(text):
        src = cue = None
        speaker = None
        tail = text[m.end():m.end() + 80]
        for pat in _AFTER:
            a = pat.match(tail)
            if a:
                src = (m.end() + a.start("src"), m.end() + a.end("src"))
                cue = (m.end() + a.start("cue"), m.end() + a.end("cue"))
                break
        if src is None:
            line_start = max(text.rfind("\n", 0, m.start()), text.rfind(". ", 0, m.start()) + 1, 0)
            head = text[line_start:m.start()]
            b = _BEFORE.search(head)
            if b:
                src = (line_start + b.start("src"), line_start + b.end("src"))
                cue = (line_start + b.start("cue"), line_start + b.end("cue"))
        if src is not None:
            speaker = _speaker(text[src[0]:src[1]], text, src[0], last)
            last = speaker or last
        out.append(Quote(article.id, (m.start(), m.end()), "direct", m.group(0), cue, src, speaker))
    return out


def attribute_batch(articles: Sequence[Article]) -> list[Quote]:
    """Quotes of every article of a batch."""
    return [q for a in articles for q in attribute(a)]

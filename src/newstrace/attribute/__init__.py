"""Attribute stage: who said what.

``attribute(article)`` and ``attribute_batch(articles)`` return the quotes and reported statements
of articles (direct, mixed, indirect) with their cue and source spans and the canonical speaker:
the extraction is in :mod:`.extract`, speaker resolution within and across articles in
:mod:`.speakers`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Article, Quote
from .extract import Attribution, Parsed, extract_many, quote_spans
from .speakers import SpeakerIndex, resolve_article, speaker_table

__all__ = ["Attribution", "SpeakerIndex", "attribute", "attribute_batch", "attribute_texts", "quote_spans",
           "speaker_table"]


def attribute_texts(texts: Sequence[str]) -> tuple[list[Parsed], SpeakerIndex]:
    """Attributions of plain texts with surface speakers resolved, and the canonical speaker index."""
    parsed = extract_many(texts)
    names: list[tuple[str, str]] = []
    for p in parsed:
        resolve_article(p.attributions, p.mentions)
        names += [(a.speaker, a.speaker_kind) for a in p.attributions if a.speaker]
        names += [(m.name, "person") for m in p.mentions if m.label == "PERSON"]
    index = SpeakerIndex().build(names)
    return parsed, index


def _quotes(article: Article, p: Parsed, index: SpeakerIndex) -> list[Quote]:
    out = []
    for a in p.attributions:
        start, end = a.span
        text = " … ".join(article.text[s:e] for s, e in a.content)
        speaker = index.canonical(a.speaker)
        kind = index.people[speaker].kind if speaker in index.people else (a.speaker_kind if speaker else None)
        out.append(Quote(article.id, (start, end), a.kind, text, a.cue, a.source, speaker, a.speaker, kind))
    return out


def attribute_batch(articles: Sequence[Article]) -> list[Quote]:
    """Quotes of every article of a batch; speakers are canonical across the batch."""
    parsed, index = attribute_texts([a.text for a in articles])
    return [q for a, p in zip(articles, parsed, strict=True) for q in _quotes(a, p, index)]


def attribute(article: Article) -> list[Quote]:
    """Quotes and reported statements of one article, with canonical speakers."""
    return attribute_batch([article])

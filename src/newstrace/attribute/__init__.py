"""Attribute stage: who said what.

``attribute(article)`` and ``attribute_batch(articles)`` return the quotes and reported statements
of articles (direct, mixed, indirect) with their cue and source spans and the canonical speaker:
the extraction is in :mod:`.extract`, speaker resolution within and across articles in
:mod:`.speakers`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from ..errors import isolate
from ..model import Article, Quote
from .extract import CUE_LEMMAS, Attribution, Parsed, extract_many, lemma, quote_spans
from .speakers import SpeakerIndex, full_name, resolve_article, speaker_table, strip_title

__all__ = ["Attribution", "SpeakerIndex", "attribute", "attribute_batch", "attribute_texts",
           "headline_attributions", "quote_spans", "speaker_table"]


_NAME = r"(?:[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){0,2})"
_HEAD_QUOTE = re.compile(rf"^(?P<src>{_NAME})\s*:?\s*(?P<q>[‘“'\"][^‘’“”'\"]{{3,}}[’”'\"])")
_HEAD_SAYS = re.compile(rf"^(?P<src>{_NAME})\s+(?P<cue>says|said|claims|warns|insists|admits|denies|vows|tells)\s+"
                        rf"(?:that\s+)?(?P<q>[^,;:]{{8,}})")


# verbs of headlinese that open a quotation in a title-case headline ("Trump Slams ‘…’")
_HEAD_VERBS = frozenset("slam blast rip hit speak talk attack mock knock lash unload fire push".split())


def _head_source(src: str) -> str:
    """The name of a title-case headline's source without the verb the capitals hide in it ("Hillary
    Clinton Speaks ‘Directly To White People’": the verb is "Speaks", the source Hillary Clinton)."""
    words = src.split()
    last = words[-1].lower()
    if len(words) >= 2 and last.endswith("s") and (lemma(last) in CUE_LEMMAS or last[:-1] in _HEAD_VERBS):
        return " ".join(words[:-1])
    return src


def headline_attributions(headline: str | None) -> list[tuple[str, str, str]]:
    """(kind, speaker as written, what is said) of a headline: "Putin ‘ready for talks’",
    "Putin says Russia ready to negotiate, …"."""
    if not headline:
        return []
    m = _HEAD_QUOTE.match(headline)
    if m:
        return [("direct", _head_source(m["src"]), m["q"])]
    m = _HEAD_SAYS.match(headline)
    if m:
        return [("mixed" if any(c in m["q"] for c in "‘’“”\"") else "indirect", m["src"], m["q"].strip())]
    return []


Known = Callable[[list[tuple[str, str]]], list[tuple[str, str]]]
#: ``on_error(i, detail)``: the extractor failed on the ``i``-th text ("Type: message")
OnError = Callable[[int, str], None]


def _resolved(texts: Sequence[str]) -> list[Parsed]:
    parsed = extract_many(texts)
    for p in parsed:
        resolve_article(p.attributions, p.mentions)
    return parsed


def attribute_texts(texts: Sequence[str], headlines: Sequence[str | None] = (), known: Known | None = None,
                    on_error: OnError | None = None) -> tuple[list[Parsed], SpeakerIndex]:
    """Attributions of plain texts with surface speakers resolved, and the canonical speaker index.

    ``known`` gives, for the (name, kind) mentions of these texts, the mentions seen before that bear on
    them (an incremental analysis passes the stored spellings of the same people), so that canonical
    names are chosen across both. With ``on_error``, a text the extractor fails on is reported to it
    and has no attributions, and the others are attributed as usual; without, the error is raised.
    """
    parsed = _resolved(texts) if on_error is None else \
        isolate(texts, _resolved, on_error, fill=lambda _t: [Parsed([], [])])
    names: list[tuple[str, str]] = [(src, "person") for h in headlines for _k, src, _q in headline_attributions(h)]
    spread: Counter[str] = Counter()  # how many articles write each name
    for p in parsed:
        mine = [(a.speaker, a.speaker_kind) for a in p.attributions if a.speaker]
        mine += [(m.name, "person") for m in p.mentions if m.label == "PERSON"]
        names += mine
        spread.update({strip_title(n) for n, _k in mine})
    index = SpeakerIndex().build(names + known(names) if known else names, spread)
    return parsed, index


def _quotes(article: Article, p: Parsed, index: SpeakerIndex) -> list[Quote]:
    # a headline is not part of the clean text: its attributions have the empty span (0, 0) and no
    # cue or source span; their text is what the headline says was said
    out = [Quote(article.id, (0, 0), kind, said, None, None, index.canonical(src), src, "person")
           for kind, src, said in headline_attributions(article.headline)]
    for a in p.attributions:
        start, end = a.span
        text = " … ".join(article.text[s:e] for s, e in a.content)
        # a surname alone is the person the article names in full (Bill, not Hillary, Clinton)
        speaker = index.canonical(full_name(a.speaker, p.mentions) or a.speaker)
        kind = index.people[speaker].kind if speaker in index.people else (a.speaker_kind if speaker else None)
        out.append(Quote(article.id, (start, end), a.kind, text, a.cue, a.source, speaker, a.speaker, kind))
    return out


def attribute_batch(articles: Sequence[Article], known: Known | None = None,
                    on_error: Callable[[Article, str], None] | None = None) -> list[Quote]:
    """Quotes of every article of a batch; speakers are canonical across the batch (and ``known``,
    see :func:`attribute_texts`). With ``on_error``, an article the extractor fails on is reported to
    it (with "Type: message") and gives no quotes; the rest of the batch is attributed as usual."""
    parsed, index = attribute_texts([a.text for a in articles], [a.headline for a in articles], known,
                                    None if on_error is None else lambda i, detail: on_error(articles[i], detail))
    return [q for a, p in zip(articles, parsed, strict=True) for q in _quotes(a, p, index)]


def attribute(article: Article) -> list[Quote]:
    """Quotes and reported statements of one article, with canonical speakers."""
    return attribute_batch([article])

"""Batch attribution of JSONL rows (``newstrace quotes IN.jsonl -o OUT.jsonl``), in worker processes.

Rows go in chunks through cleaning and :func:`attribute_batch` (one spaCy stream per chunk); each
attribution comes back as the batch line, its offsets mapped through cleaning back into the row's
``text`` exactly as given. Speakers are canonical within a chunk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ..errors import E, isolate
from ..model import Article, Quote
from .extract import Parsed, extract_many

CHUNK = 64


def pieces(text: str, q: Quote) -> list[tuple[int, int]]:
    """The pieces of an attribution's content: its quotations when the frame splits it, else the span."""
    out, at = [], q.content[0]
    for part in q.text.split(" … "):
        i = text.find(part, at, q.content[1])
        if i < 0:
            return [q.content]
        out.append((i, i + len(part)))
        at = i + len(part)
    return out


def main_stretch(pieces: list[tuple[int, int]]) -> tuple[int, int]:
    """The one span that stands for an attribution split by its frame (“…,” she said of the vote,
    after a long pause. “…”): the run of consecutive pieces whose words make the largest share of
    the pieces' words and the frame between them, so that a long frame does not make the span
    mostly frame. With a short frame (“…,” she said. “…”) that is the whole span."""
    if len(pieces) == 1:
        return pieces[0]
    total = sum(e - s for s, e in pieces)
    best, choice = -1.0, pieces[0]
    for i in range(len(pieces)):
        words = 0
        for j in range(i, len(pieces)):
            words += pieces[j][1] - pieces[j][0]
            frame = pieces[j][1] - pieces[i][0] - words
            share = words / (total + frame)
            if share > best:
                best, choice = share, (pieces[i][0], pieces[j][1])
    return choice


def quote_chunk(rows: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    """Batch lines for a chunk of rows (rows with no text give none)."""
    from ..clean import clean, to_raw
    from ..read.jsonl import row_to_article
    from . import attribute_batch

    def span(a: Article, pair: tuple[int, int] | None) -> list[int] | None:
        return [to_raw(a, pair[0]), to_raw(a, pair[1])] if pair else None

    arts: list[tuple[dict[str, Any], Article]] = []
    for row in rows:
        a = row_to_article(row, origin, str(row.get("id")), None)
        if a is not None:
            # cleaning only: the rest of describing an article (language, dateline, standfirst) was a
            # twentieth of the time and quotes need none of it; the title is the headline
            a = clean(a)
            a.headline = a.title.strip() if a.title and a.title.strip() else None
            arts.append((row, a))
    by_article: dict[str, list[Quote]] = {}
    for q in attribute_batch([a for _r, a in arts]):
        by_article.setdefault(q.article, []).append(q)
    # the headlines that cleaning took out of the texts, parsed like any sentence, all at once
    heads = [r for _row, a in arts for r in a.removed if r.reason == "headline" and a.raw[r.start:r.end] == r.text]
    found = iter(extract_many([r.text for r in heads]) if heads else [])
    out = []
    for row, a in arts:
        out += _headline_lines(row["id"], a, by_article.get(a.id, []), found)
        for q in by_article.get(a.id, []):
            if q.content == (0, 0):
                continue  # from the headline: no offsets into the clean text (see _headline_lines)
            split = pieces(a.text, q)
            out.append({"doc_id": row["id"], "content": span(a, main_stretch(split)), "source": span(a, q.source),
                        "cue": span(a, q.cue), "speaker": q.speaker, "kind": q.kind,
                        "pieces": [span(a, p) for p in split]})
    return out


def _headline_lines(doc_id: Any, a: Article, quotes: list[Quote], parsed: Iterator[Parsed]) -> list[dict[str, Any]]:
    """Batch lines for a headline that cleaning took out of the row's text but that stands in it (its
    first line): what the extractor finds in it, as in any sentence ("Graham: Trump’s ‘Incredibly
    Hateful Rhetoric’ …", "Trump urges supporters to monitor polling places"), with offsets into the raw
    text and the speaker as the headline's quotes resolved it. ``parsed`` holds the extraction of each
    such headline, in order."""
    out = []
    speakers = {q.mention: q.speaker for q in quotes if q.content == (0, 0)}
    for r in a.removed:
        if r.reason != "headline" or a.raw[r.start:r.end] != r.text:
            continue
        for att in next(parsed).attributions:
            (cs, ce), (ss, se) = main_stretch(att.content), att.source or (0, 0)
            src = [r.start + ss, r.start + se] if att.source else None
            out.append({"doc_id": doc_id, "content": [r.start + cs, r.start + ce], "source": src,
                        "cue": [r.start + att.cue[0], r.start + att.cue[1]] if att.cue else None,
                        "speaker": speakers.get(att.source_text, att.mention), "kind": att.kind,
                        "pieces": [[r.start + s, r.start + e] for s, e in att.content]})
    return out


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _warm() -> None:
    from .extract import nlp

    nlp()


def _safe_chunk(rows: list[dict[str, Any]], origin: str) -> tuple[list[dict[str, Any]], list[str]]:
    """quote_chunk, with an article the extractor fails on passed over: (lines, one error per such
    article); the chunk's other articles keep their quotes (:func:`errors.isolate`)."""
    errors: list[str] = []

    def report(i: int, detail: str) -> None:
        errors.append(f"{origin}: id {rows[i].get('id')!r}: {E.E014.format(detail=detail)}")

    return isolate(rows, lambda part: quote_chunk(list(part), origin), report), errors


def quote_rows(rows: Iterable[dict[str, Any]], origin: str, *, workers: int = 1,
               on_error: Callable[[str], None] = lambda msg: None) -> Iterator[tuple[int, list[dict]]]:
    """(rows read, batch lines) per chunk, in input order; workers > 1 parse in that many processes. An
    article the extractor fails on gives no lines and one message to on_error; the run goes on."""
    if workers <= 1:
        for chunk in _chunks(rows):
            lines, errors = _safe_chunk(chunk, origin)
            for msg in errors:
                on_error(msg)
            yield len(chunk), lines
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_warm) as pool:
        pending: deque[tuple[int, Future[tuple[list[dict], list[str]]]]] = deque()

        def take() -> tuple[int, list[dict]]:
            n, fut = pending.popleft()
            lines, errors = fut.result()
            for msg in errors:
                on_error(msg)
            return n, lines

        for chunk in _chunks(rows):
            pending.append((len(chunk), pool.submit(_safe_chunk, chunk, origin)))
            if len(pending) >= workers * 3:  # a bounded window keeps memory flat on any input size
                yield take()
        while pending:
            yield take()

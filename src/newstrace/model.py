"""The plain data model that flows between pipeline stages.

Every stage takes and returns these dataclasses; none of them holds behaviour beyond small
conveniences, so they can be pickled to worker processes and written to any store.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Removed:
    """A piece of the raw text that cleaning took out, and why."""

    start: int  # character offsets into Article.raw
    end: int
    reason: str  # e.g. "subscription pitch", "teaser", "after end of article"
    text: str


@dataclass
class Segment:
    """Maps a stretch of the clean text back to the raw text it came from."""

    clean_start: int
    clean_end: int
    raw_start: int
    raw_end: int


@dataclass
class Credit:
    """A wire or staff credit found in the article ("Source: News Agencies", Reuters style...)."""

    text: str
    agency: str | None  # canonical agency: Reuters, AP, AFP, agencies...
    style: str  # "source-line", "reuters", "glued", "inline"


@dataclass
class Article:
    """One news article, from raw input through cleaning and description.

    ``id`` is derived from the content (see :func:`content_id`), so the same input ingested
    twice gets the same id; ``ext_id`` is the id the input gave (JSONL ``id``, file name).
    """

    raw: str
    ext_id: str
    origin: str  # where it was read from: file path, path#line, WARC record
    title: str | None = None  # title given by the input (JSONL/HTML metadata)
    url: str | None = None
    source: str | None = None  # outlet as given by the input
    date: str | None = None  # ISO 8601 publication date when any input carries one
    fmt: str = "txt"
    id: str = ""
    text: str = ""  # clean text
    removed: list[Removed] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    headline: str | None = None
    standfirst: str | None = None
    dateline: str | None = None
    byline: str | None = None
    credits: list[Credit] = field(default_factory=list)
    outlet: str | None = None
    language: str | None = None
    word_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_id(raw: str, title: str | None, source: str | None, url: str | None) -> str:
    """A stable 16-hex id from what identifies an article: its text, headline, outlet and URL.

    The same text under two outlets is two articles (a syndicated copy), so outlet and URL are
    part of the identity; the input's own id is not, so renaming a file changes nothing.
    """
    h = hashlib.blake2b(digest_size=8)
    for part in (raw, title or "", source or "", url or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass
class Passage:
    """An aligned pair of passages: character spans in the clean texts of the origin (a) and the
    derived article (b), with their similarity (1.0: the same sentences)."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    similarity: float
    # word diff: (op, origin words, derived words), op one of "=", "~" (replaced), "-", "+"
    diff: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Relation:
    """A reuse relation from a derived article to its origin."""

    origin: str  # article id of the earlier/source article
    derived: str
    kind: str  # duplicate, copy, excerpt, edited, rewrite, shares_passages, same_story
    score: float
    passages: list[Passage] = field(default_factory=list)
    direction: str = ""  # how the origin was chosen: "date", "containment", "credit", "text"


@dataclass
class Quote:
    """A quote or reported statement with its speaker."""

    article: str
    content: tuple[int, int]  # span in the article's clean text
    kind: str  # direct, mixed, indirect
    text: str
    cue: tuple[int, int] | None = None
    source: tuple[int, int] | None = None
    speaker: str | None = None  # canonical name (one entry per person, whatever the spelling)
    mention: str | None = None  # the speaker's name as this article writes it
    speaker_kind: str | None = None  # person or organisation


@dataclass
class Story:
    """Articles that report the same real-world event."""

    id: str
    articles: list[str]
    headline: str = ""
    first: str | None = None  # first publication time
    last: str | None = None
    outlets: list[str] = field(default_factory=list)
    key_names: list[str] = field(default_factory=list)  # the names most central to the story
    copies: int = 0  # articles in it that derive from another of its articles
    storyline: str | None = None  # id of the storyline it belongs to, if any
    entities: dict[str, list[str]] = field(default_factory=dict)  # people, places, organisations


@dataclass
class Discrepancy:
    """Where two versions of one story disagree."""

    story: str
    kind: str  # quote_reworded, speaker_changed, name_variant, number_changed
    a: str  # article id
    b: str
    a_text: str
    b_text: str
    note: str = ""


@dataclass
class Analysis:
    """What the analysis stages produce for a set of articles."""

    relations: list[Relation] = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)

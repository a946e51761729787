"""HTML pages: trafilatura extracts the main text and the page's metadata."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import E, Skip, skip
from ..model import Article, content_id
from .common import decode, load_text

#: a charset the page declares itself, in a <meta> tag or an XML declaration
_DECLARED = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})"""
    rb"""|<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""",
    re.I,
)
#: labels that browsers (WHATWG Encoding) read as Windows-1252, which pages mean by them
_AS_CP1252 = {"latin1", "latin_1", "iso8859_1", "ascii", "cp1252"}


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip()).name.replace("-", "_")
    except LookupError:
        return None
    return "cp1252" if name in _AS_CP1252 else name


def html_text(data: bytes, origin: str, charset: str | None = None) -> tuple[bytes | str, Skip | None] | Skip:
    """What to give the extractor: UTF-8 bytes as they are, other bytes decoded here.

    The charset is the page's own declaration, else ``charset`` (an HTTP header), when the bytes
    decode with it; else a guess reported as a warning (W001), or a skip (E004) for bytes that are
    no text. trafilatura left to itself mistakes Windows-1252 pages for Central European ones.
    """
    try:
        data.decode("utf-8")
        return data, None
    except UnicodeDecodeError:
        pass
    m = _DECLARED.search(data[:4096])
    labels = [(m.group(1) or m.group(2)).decode("ascii")] if m else []
    if charset:
        labels.append(charset)
    for label in labels:
        name = _codec(label)
        if name and name != "utf_8":
            try:
                return data.decode(name), None
            except UnicodeDecodeError:
                continue
    return decode(data, origin)


def extract_html(
    html: bytes | str, origin: str, ext_id: str, source: str | None, url: str | None = None, fmt: str = "html"
) -> Article | Skip:
    """Extract one article from an HTML document with trafilatura (text, title, date, site, URL)."""
    import trafilatura  # imported here: loading it takes a moment and plain-text runs never need it

    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False
        )
    except Exception as exc:  # trafilatura raises a variety of parser errors on broken markup
        return skip(origin, E.E003, detail=f"HTML could not be parsed ({type(exc).__name__})")
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        return skip(origin, E.E008)
    page_url = doc.url or url
    outlet = source or doc.sitename or doc.hostname or (urlsplit(page_url).hostname if page_url else None)
    raw = text.replace("\r\n", "\n")
    return Article(
        raw=raw,
        ext_id=ext_id,
        origin=origin,
        title=doc.title,
        url=page_url,
        source=outlet,
        date=doc.date,
        fmt=fmt,
        id=content_id(raw, doc.title, outlet, page_url),
    )


def read_html(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield the article in an ``.html`` file."""
    html, problems = load_text(path, max_bytes, html_text)
    yield from problems
    if html is None:
        return
    yield extract_html(html, str(path), path.stem, source)

"""HTML pages: trafilatura extracts the main text and the page's metadata."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import E, Skip, skip
from ..model import Article, content_id
from .common import looks_binary, read_bytes


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
    data = read_bytes(path, max_bytes)
    if isinstance(data, Skip):
        yield data
        return
    if looks_binary(data):
        yield skip(str(path), E.E002)
        return
    yield extract_html(data, str(path), path.stem, source)

"""Plain-text articles: one file, one article; the headline is found by the describe stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import E, Skip, skip
from ..model import Article, content_id
from .common import decode, looks_binary, read_bytes


def read_text(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield the article in a ``.txt`` file, or a :class:`Skip` saying why it was not read."""
    data = read_bytes(path, max_bytes)
    if isinstance(data, Skip):
        yield data
        return
    if looks_binary(data):
        yield skip(str(path), E.E002)
        return
    decoded = decode(data, str(path))
    if isinstance(decoded, Skip):
        yield decoded
        return
    raw, warning = decoded
    if warning:
        yield warning
    if not raw.strip():
        yield skip(str(path), E.E001)
        return
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    yield Article(
        raw=raw,
        ext_id=path.stem,
        origin=str(path),
        source=source,
        fmt="txt",
        id=content_id(raw, None, source, None),
    )

"""Plain-text articles: one file, one article; the headline is found by the describe stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import E, Skip, skip
from ..model import Article, content_id
from .common import decode, load_text


def read_text(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield the article in a ``.txt`` file, or a :class:`Skip` saying why it was not read."""
    raw, problems = load_text(path, max_bytes, decode)
    yield from problems
    if raw is None:
        return
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

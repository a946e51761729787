"""JSON Lines articles: newstrace's own fields and the usual CC-News / news-please names."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import E, Skip, skip
from ..model import Article, content_id

# first non-empty field wins; newstrace's names first, then news-please/CC-News and others
FIELDS = {
    "id": ("id", "doc_id", "_id", "uuid", "article_id"),
    "title": ("title", "headline"),
    "text": ("text", "maintext", "content", "body", "article"),
    "date": ("date", "date_publish", "published", "publish_date", "pubdate", "published_at", "date_modify"),
    "source": ("source", "source_domain", "domain", "outlet", "sitename", "publisher", "source_name"),
    "url": ("url", "link", "source_url", "canonical_url"),
}


def _pick(row: dict[str, Any], key: str) -> str | None:
    for name in FIELDS[key]:
        value = row.get(name)
        if isinstance(value, dict):  # e.g. {"source": {"name": "Reuters"}}
            value = value.get("name") or value.get("id")
        if value is not None and value != "":
            return str(value)
    return None


def row_to_article(row: dict[str, Any], origin: str, fallback_id: str, source: str | None) -> Article | None:
    """Map one JSON object to an :class:`Article`; None when it carries no text."""
    text = _pick(row, "text")
    if not text or not text.strip():
        return None
    raw = text.replace("\r\n", "\n").replace("\r", "\n")
    title = _pick(row, "title")
    src = _pick(row, "source") or source
    url = _pick(row, "url")
    return Article(
        raw=raw,
        ext_id=_pick(row, "id") or fallback_id,
        origin=origin,
        title=title,
        url=url,
        source=src,
        date=_pick(row, "date"),
        fmt="jsonl",
        id=content_id(raw, title, src, url),
    )


def read_jsonl_stream(
    stream: IO[str], name: str, source: str | None, max_bytes: int
) -> Iterator[Article | Skip]:
    """Yield one article per line of a JSONL text stream; bad lines are skipped one by one."""
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        origin = f"{name}:{n}"
        if len(line) > max_bytes:
            yield skip(origin, E.E005, size=len(line.encode("utf-8")), limit=max_bytes)
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield skip(name, E.E006, line=n, detail=exc.msg)
            continue
        if not isinstance(row, dict):
            yield skip(name, E.E012, line=n, kind=type(row).__name__)
            continue
        article = row_to_article(row, origin, f"{Path(name).stem}:{n}", source)
        if article is None:
            yield skip(name, E.E007, line=n)
        else:
            yield article


def read_jsonl(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield the articles of a ``.jsonl`` or ``.jsonl.gz`` file."""
    try:
        if path.stat().st_size == 0:
            yield skip(str(path), E.E001)
            return
        raw = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        yield skip(str(path), E.E003, detail=exc.strerror or str(exc))
        return
    with raw:
        head = raw.peek(8192)[:8192] if hasattr(raw, "peek") else b""
        if b"\x00" in head:
            yield skip(str(path), E.E002)
            return
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
        try:
            yield from read_jsonl_stream(stream, str(path), source, max_bytes)
        except UnicodeDecodeError:
            yield skip(str(path), E.E004)
        except (OSError, EOFError) as exc:  # truncated gzip and the like
            yield skip(str(path), E.E003, detail=str(exc))

"""JSON Lines articles: newstrace's own fields and the usual CC-News / news-please names."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import E, Skip, skip
from ..model import Article, content_id
from .common import MAGIC, open_nonempty

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


def _stem(name: str) -> str:
    """A file's name without its JSONL suffixes: ``feed.jsonl.gz`` -> ``feed``."""
    stem = Path(name).name
    for suffix in (".gz", ".jsonl", ".ndjson"):
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
    return stem


def read_jsonl_stream(
    stream: Iterable[str] | Iterable[bytes], name: str, source: str | None, max_bytes: int
) -> Iterator[Article | Skip]:
    """Yield one article per line of a JSONL stream (text or bytes); bad lines are skipped one by one.

    Byte lines are decoded as UTF-8 one at a time, so a badly encoded line costs only that line.
    """
    seen = False  # any non-blank line at all
    n = 0
    try:
        for n, line in enumerate(stream, 1):
            size = getattr(line, "size", None)
            if size is None and not line.strip():
                continue
            seen = True
            origin = f"{name}:{n}"
            if size is None:  # the line without its line break
                body = line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n")
                size = len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "surrogatepass"))
            if size > max_bytes:
                yield skip(origin, E.E005, what="line", size=size, limit=max_bytes)
                continue
            if isinstance(line, bytes):
                try:
                    line = line.decode("utf-8-sig" if n == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    yield skip(name, E.E015, line=n, detail=f"byte {exc.object[exc.start]:#04x} at column {exc.start + 1}")
                    continue
            elif n == 1:
                line = line.lstrip("\ufeff")
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield skip(name, E.E006, line=n, detail=exc.msg)
                continue
            except RecursionError:
                yield skip(name, E.E006, line=n, detail="nested too deeply")
                continue
            if not isinstance(row, dict):
                yield skip(name, E.E012, line=n, kind=type(row).__name__)
                continue
            article = row_to_article(row, origin, f"{_stem(name)}:{n}", source)
            if article is None:
                yield skip(name, E.E007, line=n)
            else:
                yield article
    except UnicodeDecodeError:  # a text stream (stdin) that is not in its declared encoding
        yield skip(name, E.E015, line=n + 1, detail="the stream's encoding does not fit; the rest is not read")
        return
    except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip and the like
        yield skip(name, E.E003, detail=f"line {n + 1}: {exc}")
        return
    if not seen:
        yield skip(name, E.E001)


class _Cut(bytes):
    """The start of a line longer than the limit; ``size`` is the whole line's length."""

    size: int


def _lines(fh: Any, limit: int) -> Iterator[bytes]:
    """The lines of a binary stream; a line over ``limit`` bytes is cut short, never held whole."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            size = len(line)
            while True:  # pass over the rest of the long line in bounded pieces
                more = fh.readline(1 << 20)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            cut = _Cut(line[:64])
            cut.size = size - (more.endswith(b"\r\n") + more.endswith(b"\n"))  # the line break is no content
            line = cut
        yield line


def read_jsonl(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield the articles of a ``.jsonl`` or ``.jsonl.gz`` file."""
    fh = open_nonempty(path)
    if isinstance(fh, Skip):
        yield fh
        return
    with fh:
        raw: Any = gzip.GzipFile(fileobj=fh, mode="rb") if path.name.lower().endswith(".gz") else fh
        try:
            head = raw.peek(8192)[:8192]
        except (OSError, EOFError, zlib.error) as exc:  # not gzip at all, or cut short
            yield skip(str(path), E.E003, detail=f"not a readable gzip file ({exc})")
            return
        if b"\x00" in head or head.startswith(MAGIC):
            yield skip(str(path), E.E002)
            return
        yield from read_jsonl_stream(_lines(raw, max_bytes), str(path), source, max_bytes)

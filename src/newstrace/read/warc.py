"""WARC files: every HTML response record goes through the HTML extractor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import E, Skip, W, skip, warn
from ..model import Article
from .common import looks_binary, open_nonempty
from .html import extract_html, html_text


def _charset(ctype: str) -> str | None:
    """The charset parameter of a Content-Type header value."""
    for param in ctype.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def read_warc(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield one article per HTML response of a ``.warc`` / ``.warc.gz`` file."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    passed_over = 0
    fh = open_nonempty(path)
    if isinstance(fh, Skip):
        yield fh
        return
    with fh:
        n = records = 0
        try:
            for n, record in enumerate(ArchiveIterator(fh), 1):
                if record.rec_type is None and not record.rec_headers.headers:
                    continue  # blank space between (or instead of) records
                records += 1
                if record.format != "warc":  # warcio also reads ARC, and takes stray text for an ARC header
                    yield skip(str(path), E.E009, detail=f"record {n} is not a WARC record")
                    break
                if record.rec_type != "response":
                    passed_over += 1
                    continue
                ctype = (record.http_headers.get_header("Content-Type") or "") if record.http_headers else ""
                if "html" not in ctype.lower():
                    passed_over += 1
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                origin = f"{path}#{n}"
                length = int(record.rec_headers.get_header("Content-Length") or 0)
                if length > max_bytes:
                    yield skip(str(path), E.E005, what=f"record {n}", size=length, limit=max_bytes)
                    continue
                body = record.content_stream().read()
                if not body.strip():
                    yield skip(str(path), E.E013, record=n, detail="empty HTML response")
                    continue
                if looks_binary(body):
                    yield skip(str(path), E.E013, record=n, detail="HTML response holds binary data")
                    continue
                decoded = html_text(body, origin, _charset(ctype))
                if isinstance(decoded, Skip):
                    yield decoded
                    continue
                html, warning = decoded
                if warning:
                    yield warning
                rec_id = record.rec_headers.get_header("WARC-Record-ID") or f"{path.stem}#{n}"
                yield extract_html(html, origin, rec_id.strip("<>"), source, url=uri, fmt="warc")
            if not records:  # a gzip member holding nothing, or only blank lines
                yield skip(str(path), E.E001)
        except ArchiveLoadFailed as exc:
            yield skip(str(path), E.E009, detail=str(exc).splitlines()[0][:200])
        except Exception as exc:  # warcio fails in many ways on damaged records (OSError, ValueError...)
            yield skip(str(path), E.E009, detail=f"record {n + 1}: {type(exc).__name__}: {exc}"[:200])
    if passed_over:
        note = warn(str(path), W.W002, n=passed_over)
        note.level = "info"  # requests, metadata and images are normal in a crawl: not a problem
        yield note

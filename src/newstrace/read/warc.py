"""WARC files: every HTML response record goes through the HTML extractor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import E, Skip, W, skip, warn
from ..model import Article
from .html import extract_html


def read_warc(path: Path, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Yield one article per HTML response of a ``.warc`` / ``.warc.gz`` file."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    passed_over = 0
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        yield skip(str(path), E.E003, detail=exc.strerror or str(exc))
        return
    with fh:
        if path.stat().st_size == 0:
            yield skip(str(path), E.E001)
            return
        n = 0
        try:
            for n, record in enumerate(ArchiveIterator(fh), 1):
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
                    yield skip(origin, E.E005, size=length, limit=max_bytes)
                    continue
                body = record.content_stream().read()
                if not body.strip():
                    yield skip(str(path), E.E013, record=n, detail="empty HTML response")
                    continue
                rec_id = record.rec_headers.get_header("WARC-Record-ID") or f"{path.stem}#{n}"
                yield extract_html(body, origin, rec_id.strip("<>"), source, url=uri, fmt="warc")
        except ArchiveLoadFailed as exc:
            yield skip(str(path), E.E009, detail=str(exc).splitlines()[0][:200])
        except (OSError, EOFError, ValueError) as exc:
            yield skip(str(path), E.E009, detail=f"record {n + 1}: {exc}"[:200])
    if passed_over:
        note = warn(str(path), W.W002, n=passed_over)
        note.level = "info"  # requests, metadata and images are normal in a crawl: not a problem
        yield note

"""Read stage: turn files, folders and stdin into a stream of :class:`Article` or :class:`Skip`.

Every reader is a generator, so a corpus is never held in memory: a folder is walked lazily,
JSONL and WARC files are read record by record.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import E, Skip, skip
from ..model import Article
from .html import read_html
from .jsonl import read_jsonl, read_jsonl_stream
from .text import read_text
from .warc import read_warc

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

#: suffix -> reader; a reader takes (path, source, max_bytes) and yields Article | Skip
READERS = {
    ".txt": read_text,
    ".text": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".jsonl": read_jsonl,
    ".jsonl.gz": read_jsonl,
    ".ndjson": read_jsonl,
    ".warc": read_warc,
    ".warc.gz": read_warc,
}


def suffix_of(path: Path) -> str:
    """The reader suffix of a path, compound suffixes (``.warc.gz``) included."""
    name = path.name.lower()
    for suf in sorted(READERS, key=len, reverse=True):
        if name.endswith(suf):
            return suf
    return path.suffix.lower()


def _walk(folder: Path) -> Iterator[Path | Skip]:
    """The files under ``folder`` in name order (hidden ones left out); a folder that cannot be listed is a Skip."""
    errors: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        while errors:
            exc = errors.pop(0)
            yield skip(str(exc.filename or root), E.E003, detail=exc.strerror or str(exc))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name
    for exc in errors:
        yield skip(str(exc.filename or folder), E.E003, detail=exc.strerror or str(exc))


def _guarded(items: Iterator[Article | Skip], origin: str) -> Iterator[Article | Skip]:
    """Pass on what a reader yields; a reader that breaks costs its own input, never the run."""
    try:
        yield from items
    except Exception as exc:  # a bug or a library error on odd input: reported, then the next input
        yield skip(origin, E.E014, detail=f"{type(exc).__name__}: {exc}"[:200])


def _stdin_lines(stdin) -> Iterator[str] | Iterator[bytes]:
    """Lines of stdin: as bytes when it has a byte buffer (each line is decoded on its own)."""
    return getattr(stdin, "buffer", stdin)


def read_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    source: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin=None,
) -> Iterator[Article | Skip]:
    """Yield every article in ``paths`` (files, folders, or ``-`` for JSONL on stdin).

    Inside a folder, files of unknown type are passed over silently (a corpus folder often
    holds a README); a file named explicitly with an unknown type is reported.
    """
    for p in paths:
        if str(p) == "-":
            stream = _stdin_lines(stdin if stdin is not None else sys.stdin)
            yield from _guarded(read_jsonl_stream(stream, "<stdin>", source, max_bytes), "<stdin>")
            continue
        path = Path(p)
        if path.is_dir():
            for f in _walk(path):
                if isinstance(f, Skip):
                    yield f
                    continue
                reader = READERS.get(suffix_of(f))
                if reader is not None:
                    yield from _guarded(reader(f, source, max_bytes), str(f))
        elif path.exists():
            reader = READERS.get(suffix_of(path))
            if reader is None:
                yield skip(str(path), E.E010, suffix=suffix_of(path) or "(none)")
            else:
                yield from _guarded(reader(path, source, max_bytes), str(path))
        elif path.is_symlink():
            yield skip(str(path), E.E003, detail="broken symbolic link")
        else:
            yield skip(str(path), E.E011)

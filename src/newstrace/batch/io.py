"""Batch inputs and outputs: shards of JSONL, JSONL.gz, Parquet and WARC (and text and HTML files),
local or at any fsspec URL; atomic writes.

A *shard* is the unit of work of the per-shard stages: a byte range of a plain JSONL file (split at
line boundaries, so one large file still spreads over many workers), a whole JSONL.gz, WARC, text or
HTML file (they cannot be entered in the middle), or one row group of a Parquet file. Shards are numbered in
the order of their inputs, which fixes the tie-break of the global order whatever the engine.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import E, Skip, skip
from ..model import Article
from ..read.jsonl import read_jsonl_stream, row_to_article

#: input suffix -> format
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonl.gz": "jsonl.gz", ".ndjson.gz": "jsonl.gz",
           ".parquet": "parquet", ".warc": "warc", ".warc.gz": "warc", ".txt": "file", ".text": "file",
           ".html": "file", ".htm": "file"}
DEFAULT_SHARD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Shard:
    """One unit of input: ``url`` (a path or fsspec URL), its format, and the part of it to read."""

    index: int
    url: str
    fmt: str
    start: int = 0  # jsonl: byte range [start, end); parquet: row group ``start``
    end: int = -1
    fingerprint: str = ""  # size and modification stamp of the file, so a changed input is redone

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def name(self) -> str:
        return f"{self.index:05d}"

    def token(self) -> str:
        """What identifies this shard's input, for the manifest."""
        return hashlib.blake2b(json.dumps(self.to_dict(), sort_keys=True).encode(), digest_size=12).hexdigest()


def format_of(url: str) -> str | None:
    name = url.lower().rstrip("/")
    for suf in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suf):
            return FORMATS[suf]
    return None


def _fs(url: str):
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def _unstrip(fs, url: str, path: str) -> str:
    """The URL of ``path`` on the file system of ``url`` (fsspec strips the protocol)."""
    if "://" not in url:
        return path
    return fs.unstrip_protocol(path)


def list_shards(inputs: list[str], shard_bytes: int = DEFAULT_SHARD_BYTES) -> tuple[list[Shard], list[Skip]]:
    """The shards of ``inputs`` (files, folders, globs, URLs), numbered in input order.

    Inside a folder, files of other types are passed over (a crawl folder holds logs and indexes);
    a file named explicitly with an unknown type, or a missing input, is reported.
    """
    shards: list[Shard] = []
    problems: list[Skip] = []
    for url in inputs:
        fs, path = _fs(url)
        try:
            if any(ch in path for ch in "*?["):
                files = sorted(fs.glob(path))
            elif fs.isdir(path):
                files = sorted(p for p in fs.find(path) if not Path(p).name.startswith("."))
                files = [p for p in files if format_of(p)]
            elif fs.exists(path):
                files = [path]
            else:
                problems.append(skip(url, E.E011))
                continue
        except OSError as exc:
            problems.append(skip(url, E.E003, detail=str(exc)))
            continue
        for p in files:
            fmt = format_of(p)
            if fmt is None:
                problems.append(skip(_unstrip(fs, url, p), E.E010, suffix=Path(p).suffix or "(none)"))
                continue
            info = fs.info(p)
            size = int(info.get("size") or 0)
            stamp = fs.ukey(p)
            full = _unstrip(fs, url, p)
            if size == 0:
                problems.append(skip(full, E.E001))
                continue
            if fmt == "jsonl":
                for a in range(0, size, shard_bytes):
                    shards.append(Shard(len(shards), full, fmt, a, min(a + shard_bytes, size), stamp))
            elif fmt == "parquet":
                try:
                    groups = _parquet_groups(full)
                except Exception as exc:  # not Parquet, or damaged: pyarrow raises several kinds
                    problems.append(skip(full, E.E003, detail=f"not a readable Parquet file ({exc})"[:200]))
                    continue
                for g in range(groups):
                    shards.append(Shard(len(shards), full, fmt, g, g + 1, stamp))
            else:
                shards.append(Shard(len(shards), full, fmt, 0, size, stamp))
    return shards, problems


def _parquet_groups(url: str) -> int:
    import fsspec
    import pyarrow.parquet as pq

    with fsspec.open(url, "rb") as f:
        return pq.ParquetFile(f).num_row_groups


# ----------------------------------------------------------------------------- reading a shard
def read_shard(shard: Shard, source: str | None = None, max_bytes: int = 20 * 1024 * 1024,
               ) -> Iterator[Article | Skip]:
    """The articles of one shard (and a :class:`Skip` for each bad line, row or record)."""
    import fsspec

    if shard.fmt == "jsonl":
        with fsspec.open(shard.url, "rb") as f:
            yield from _jsonl_range(f, shard, source, max_bytes)
    elif shard.fmt == "jsonl.gz":
        with fsspec.open(shard.url, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as f:
            yield from read_jsonl_stream(f, shard.url, source, max_bytes)
    elif shard.fmt == "parquet":
        yield from _parquet_rows(shard, source)
    elif shard.fmt in ("warc", "file"):
        yield from _whole_file(shard, source, max_bytes)
    else:
        yield skip(shard.url, E.E010, suffix=shard.fmt)


def _jsonl_range(f, shard: Shard, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """Lines that start in [start, end): a line cut by the range's start belongs to the shard before."""
    pos = shard.start
    if pos > 0:
        f.seek(pos - 1)
        if f.read(1) != b"\n":
            pos += len(f.readline())  # the rest of a line that began in the previous shard
    f.seek(pos)
    stem = Path(shard.url).name.split(".")[0]
    while pos < shard.end:
        line = f.readline()
        if not line:
            break
        at, pos = pos, pos + len(line)
        if not line.strip():
            continue
        origin = f"{shard.url}@{at}"
        if len(line) > max_bytes:
            yield skip(origin, E.E005, what="line", size=len(line), limit=max_bytes)
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            yield skip(origin, E.E006, line="at byte " + str(at), detail=str(exc)[:120])
            continue
        if not isinstance(row, dict):
            yield skip(origin, E.E012, line="at byte " + str(at), kind=type(row).__name__)
            continue
        article = row_to_article(row, origin, f"{stem}@{at}", source)
        if article is None:
            yield skip(origin, E.E007, line="at byte " + str(at))
        else:
            yield article


def _parquet_rows(shard: Shard, source: str | None) -> Iterator[Article | Skip]:
    import fsspec
    import pyarrow.parquet as pq

    try:
        with fsspec.open(shard.url, "rb") as f:
            rows = pq.ParquetFile(f).read_row_group(shard.start).to_pylist()
    except Exception as exc:  # a damaged row group costs that row group
        yield skip(f"{shard.url}#rowgroup{shard.start}", E.E003, detail=f"{type(exc).__name__}: {exc}"[:200])
        return
    stem = Path(shard.url).name.split(".")[0]
    for i, row in enumerate(rows):
        origin = f"{shard.url}#{shard.start}:{i}"
        row = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        article = row_to_article(row, origin, f"{stem}#{shard.start}:{i}", source)
        if article is None:
            yield skip(origin, E.E007, line=f"row {i}")
        else:
            yield article


def _whole_file(shard: Shard, source: str | None, max_bytes: int) -> Iterator[Article | Skip]:
    """A WARC, text or HTML file, through newstrace's own reader of its type."""
    from ..read import READERS, suffix_of

    reader = READERS[suffix_of(Path(shard.url))]
    if "://" not in shard.url or shard.url.startswith("file://"):
        yield from reader(Path(shard.url.removeprefix("file://")), source, max_bytes)
        return
    # the readers take a local file: a remote one is copied to a temporary file first
    import fsspec

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(shard.url).name
        with fsspec.open(shard.url, "rb") as src, open(local, "wb") as dst:
            while block := src.read(1 << 22):
                dst.write(block)
        for item in reader(local, source, max_bytes):
            if isinstance(item, Article):
                item.origin = item.origin.replace(str(local), shard.url)
            yield item


# ----------------------------------------------------------------------------- writing
def atomic_path(dest: str | os.PathLike[str]) -> Path:
    """A temporary name beside ``dest``, to write to and then :func:`commit`."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")


def commit(tmp: Path, dest: str | os.PathLike[str]) -> None:
    """Move a finished temporary file into place (atomic on one file system)."""
    os.replace(tmp, dest)


def write_parquet(table, dest: str | os.PathLike[str]) -> None:
    """Write a pyarrow table to ``dest`` atomically: a reader sees the whole file or none."""
    import pyarrow.parquet as pq

    tmp = atomic_path(dest)
    try:
        # row groups of 2^20 rows whatever the pyarrow version (before 15 one group held up to 2^26):
        # a task that reads a large file (the verdicts) one row group at a time holds one group
        pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20)
        commit(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(data: Any, dest: str | os.PathLike[str]) -> None:
    tmp = atomic_path(dest)
    try:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        commit(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)

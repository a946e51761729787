"""Byte-level checks and decoding shared by the readers."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import E, Skip, W, skip, warn

#: magic numbers of common binary formats that are not text
MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"BZh")


def _why_not(path: Path, exc: OSError) -> str:
    """A short reason an input could not be opened."""
    if path.is_symlink() and not path.exists():
        return "broken symbolic link"
    return exc.strerror or str(exc)


def open_input(path: Path) -> BinaryIO | Skip:
    """Open a regular file for binary reading, or say why not.

    Anything but a regular file (a FIFO, a socket, a device, a folder) is refused before it is
    opened: opening a FIFO would wait for a writer forever.
    """
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return skip(str(path), E.E003, detail="not a regular file")
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        return skip(str(path), E.E003, detail=_why_not(path, exc))


def open_nonempty(path: Path) -> BinaryIO | Skip:
    """:func:`open_input`, and an empty file is a skip too (for the readers that stream a file)."""
    fh = open_input(path)
    if not isinstance(fh, Skip) and os.fstat(fh.fileno()).st_size == 0:
        fh.close()
        return skip(str(path), E.E001)
    return fh


def load_text(path: Path, max_bytes: int, decoder) -> tuple[str | None, list[Skip]]:
    """Read, check and decode a whole file: (text, or None when it cannot be read; what to report).

    ``decoder(data, origin)`` returns (text, warning or None) or a :class:`Skip`.
    """
    data = read_bytes(path, max_bytes)
    if isinstance(data, Skip):
        return None, [data]
    if looks_binary(data):
        return None, [skip(str(path), E.E002)]
    decoded = decoder(data, str(path))
    if isinstance(decoded, Skip):
        return None, [decoded]
    text, warning = decoded
    return text, [warning] if warning else []


def read_bytes(path: Path, max_bytes: int) -> bytes | Skip:
    """Read a whole file, or say why not (missing, unreadable, empty, too large)."""
    fh = open_input(path)
    if isinstance(fh, Skip):
        return fh
    try:
        with fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                return skip(str(path), E.E005, what="file", size=size, limit=max_bytes)
            data = fh.read(max_bytes + 1)  # the file may have grown since it was measured
    except OSError as exc:
        return skip(str(path), E.E003, detail=_why_not(path, exc))
    if len(data) > max_bytes:
        return skip(str(path), E.E005, what="file", size=len(data), limit=max_bytes)
    if not data.strip():
        return skip(str(path), E.E001)
    return data


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: a NUL byte, a binary magic number, or many control bytes."""
    head = data[:8192]
    if head.startswith(MAGIC) or b"\x00" in head:
        # UTF-16 text has NULs too; it announces itself with a BOM
        return not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


def decode(data: bytes, origin: str) -> tuple[str, Skip | None] | Skip:
    """Decode text bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM, else a confident guess.

    A guess is reported as a warning; bytes that are no plausible text are a skip. Windows-1252
    wins whenever charset_normalizer finds it plausible at all: left to itself it often picks a
    code page (cp1250, cp852, mac_latin2...) that turns the curly quotes and accents of Western
    text into other letters, while Cyrillic, Greek or Central European text is implausible as
    Windows-1252 and keeps its own code page. On very short texts any guess is a guess; this one
    favours the commonest case, and the warning names it.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return skip(origin, E.E004)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # a trafilatura dependency

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.25:
        return skip(origin, E.E004)
    western = from_bytes(data, cp_isolation=["cp1252"]).best()
    if western is not None:
        best = western
    return str(best), warn(origin, W.W001, encoding=best.encoding)

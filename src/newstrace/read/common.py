"""Byte-level checks and decoding shared by the readers."""

from __future__ import annotations

from pathlib import Path

from ..errors import E, Skip, W, skip, warn

#: magic numbers of common binary formats that are not text
_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"BZh")


def read_bytes(path: Path, max_bytes: int) -> bytes | Skip:
    """Read a whole file, or say why not (missing, unreadable, empty, too large)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return skip(str(path), E.E005, size=size, limit=max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        return skip(str(path), E.E003, detail=exc.strerror or str(exc))
    if not data.strip():
        return skip(str(path), E.E001)
    return data


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: a NUL byte, a binary magic number, or many control bytes."""
    head = data[:8192]
    if head.startswith(_MAGIC) or b"\x00" in head:
        # UTF-16 text has NULs too; it announces itself with a BOM
        return not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


def decode(data: bytes, origin: str) -> tuple[str, Skip | None] | Skip:
    """Decode text bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM, else a confident guess.

    A guess is reported as a warning; bytes that are no plausible text are a skip.
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
    return str(best), warn(origin, W.W001, encoding=best.encoding)

"""Numbered, one-line error messages (after spaCy's ``Errors`` table).

A bad input never stops a run: readers yield a :class:`Skip` naming the input and the reason,
the pipeline reports it on one line and counts it in the end summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: failures of the environment (a model not installed, a file or the disk failing), not of an input:
#: they would fail every input alike, so a run stops on them (E115) instead of reporting each input
ENVIRONMENT_ERRORS = (OSError, ImportError)


def one_line(value: object) -> object:
    """Strings with their line breaks and runs of white space folded into one space."""
    return re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else value


class E(Enum):
    """Error codes; the value is the message template."""

    E001 = "empty file"
    E002 = "binary file (not text)"
    E003 = "cannot read: {detail}"
    E004 = "not valid text in any known encoding"
    E005 = "{what} is {size} bytes, over the {limit}-byte limit (--max-bytes)"
    E006 = "line {line}: malformed JSON: {detail}"
    E007 = "line {line}: no article text (fields text/maintext/content are empty or missing)"
    E008 = "no article text could be extracted from the HTML"
    E009 = "malformed WARC: {detail}"
    E010 = "unsupported file type {suffix!r}"
    E011 = "no such file or folder"
    E012 = "line {line}: expected a JSON object, got {kind}"
    E013 = "record {record}: {detail}"
    E014 = "unexpected error: {detail}"
    E015 = "line {line}: not valid UTF-8 ({detail})"
    E016 = "line {line}: no id (fields id/doc_id/_id/uuid/article_id are empty or missing)"

    def format(self, **kw: object) -> str:
        return f"[{self.name}] " + self.value.format(**{k: one_line(v) for k, v in kw.items()})


class W(Enum):
    """Warning codes: the input was read, with a caveat."""

    W001 = "not UTF-8; decoded as {encoding}"
    W002 = "{n} non-HTML or non-response records passed over"

    def format(self, **kw: object) -> str:
        return f"[{self.name}] " + self.value.format(**{k: one_line(v) for k, v in kw.items()})


def unattributed(detail: str) -> str:
    """The message for an article the quote extractor failed on: it is stored, without quotes."""
    return E.E014.format(detail=detail) + " (stored without quotes)"


def stopped(command: str, exc: BaseException, kept: str) -> str:
    """The one line for a run stopped by its environment (a model not installed, the disk), not by an input."""
    return f"[E115] {command} stopped ({type(exc).__name__}: {one_line(str(exc))[:300]}); {kept}"


@dataclass
class Skip:
    """An input (a file, a line, a record) that could not be read, with the reason."""

    origin: str
    code: str
    message: str
    level: str = "skip"  # "skip": the input was not read; "warn": read, but with a caveat

    def __str__(self) -> str:
        origin = self.origin.replace("\n", "\\n").replace("\r", "\\r")  # a file name may hold a line break
        return f"{origin}: {self.message}"


def skip(origin: str, code: E, **kw: object) -> Skip:
    """Build a :class:`Skip` for ``origin`` from an error code and its fields."""
    return Skip(origin=origin, code=code.name, message=code.format(**kw))


def warn(origin: str, code: W, **kw: object) -> Skip:
    """Build a warning: the input was read, but the user should know something about it."""
    return Skip(origin=origin, code=code.name, message=code.format(**kw), level="warn")


class NewstraceError(Exception):
    """An error the user can act on (bad option, missing article id...)."""


def isolate(items: Sequence[T], fn: Callable[[Sequence[T]], list[R]], on_error: Callable[[int, str], None],
            fill: Callable[[T], list[R]] = lambda item: []) -> list[R]:
    """``fn(items)``; when that raises, ``fn`` over each half, down to the single items it fails on.

    Each such item is reported once to ``on_error`` (its index in ``items`` and "Type: message") and
    stands in the result for ``fill(item)``, so one bad article costs no other its output: for a
    ``fn`` whose result lists one entry per item, ``fill`` gives that one entry. Halving finds one bad
    item among n with about 2·log2(n) calls instead of n.

    An ``OSError`` or ``ImportError`` (a model not installed, a file or the disk failing) is no item's
    fault and would fail every item alike: it is raised at once, not reported n times.
    """
    try:
        return fn(items)
    except ENVIRONMENT_ERRORS:
        raise
    except Exception as exc:  # any failure of one item must not stop a batch
        if len(items) <= 1:
            if not items:
                return []
            on_error(0, f"{type(exc).__name__}: {exc}")
            return fill(items[0])
    half = len(items) // 2
    return (isolate(items[:half], fn, on_error, fill)
            + isolate(items[half:], fn, lambda i, detail: on_error(half + i, detail), fill))

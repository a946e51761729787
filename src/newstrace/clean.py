"""Clean stage: repair encoding and take the site chrome out of an article's text.

Works line by line on the raw text. Each line is classified (body, chrome of some kind,
metadata such as a headline, dateline, byline or credit); a line past an end-of-article
marker (a wire credit, "More like this", comment prompts...) is removed with everything
after it, because pages run teasers and unrelated stories there. Nothing is destroyed: every
removed piece is kept in ``Article.removed`` with its raw offsets and reason, and
``Article.segments`` maps the clean text back to the raw text.

Two kinds of evidence are combined: general patterns (below) and the corpus itself, passed
in as ``boilerplate``: keys (:func:`line_key`) of short lines that recur across many articles
of the same outlet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Article, Removed, Segment

# ----------------------------------------------------------------------------------- patterns
# Each pattern matches a whole line (case-insensitive, surrounding space and bullets stripped).
_CHROME: dict[str, list[str]] = {
    "navigation": [
        r"skip to (?:main )?content", r"skip to navigation", r"menu", r"search", r"home", r"sign in",
        r"log ?in", r"register", r"my account", r"(?:main )?navigation", r"close", r"open menu",
        r"listen to this article", r"listen", r"\d+ min(?:ute)?s? read", r"breaking news",
        r"follow us(?: on .{0,30})?", r"back to top", r"jump to", r"toggle navigation",
        r"(?:[\w&'’ ]{1,25}\s*\|\s*){2,}[\w&'’ ]{1,25}",  # "Home | World | Politics"
    ],
    "share": [
        r"share(?: this)?(?: (?:article|story|post|page))?:?", r"share (?:on|via) \w+", r"tweet", r"email",
        r"print", r"facebook", r"twitter", r"whatsapp", r"linkedin", r"copy link", r"link copied",
        r"share post:?", r"reddit", r"telegram", r"share on (?:facebook|twitter|x|whatsapp|linkedin)",
    ],
    "advert": [r"advertisement", r"advert", r"ad", r"sponsored(?: content)?", r"story continues below(?: advertisement)?",
               r"scroll to continue(?: with content)?", r"article continues below"],
    "comment prompt": [
        r"please enter your (?:comment|name|email(?: address)?)(?: here)?!?", r"leave a (?:reply|comment)",
        r"comments are closed\.?", r"\d+ comments?", r"(?:view|show|load|read) (?:all )?comments",
        r"post a comment", r"join the conversation", r"add a comment", r"comments?",
        r"you must be logged in to post a comment\.?",
    ],
    "subscription pitch": [
        r"sign up (?:for|to) .{0,60}", r"subscribe(?: now| today| to .{0,60})?", r"support (?:fearless|independent|quality|our) journalism",
        r".{0,40}\badvert(?:isement|s)?[- ]free\b.{0,20}", r".{0,20}\bad[- ]free\b.{0,20}",
        r"get (?:unlimited|full|super-fast|fast|digital|premium|instant) .{0,40}",
        r"already a (?:subscriber|member)\??.{0,40}", r"(?:start your )?free trial.{0,40}",
        r"become a (?:member|subscriber|supporter).{0,40}", r"unlock .{0,40}", r"download (?:our|the) app.{0,30}",
        r"read (?:the )?[\w ]{1,30} online.{0,30}",
    ],
    "legal": [r"(?:copyright|©|\(c\)) .{0,120}", r"all rights reserved\.?", r"terms (?:of use|and conditions).{0,80}",
              r"privacy policy.{0,60}", r"cookie (?:policy|settings|preferences).{0,40}", r"contact us"],
    "read more": [r"source: read full article", r"read (?:the )?full (?:article|story)(?: here)?\.?",
                  r"click here to read more\.?", r"continue reading\.?", r"read more\.?"],
}

# Lines that mark the end of the article: what follows is teasers, comments or other stories.
_END: dict[str, list[str]] = {
    "teaser header": [
        r"more like this", r"related(?: articles| stories| news| content| coverage| topics)?:?",
        r"read more:?", r"read next:?", r"you (?:may|might) also like:?", r"recommended(?: for you| stories)?:?",
        r"most (?:read|popular|viewed|shared)", r"(?:[\w.]+ )?top stories", r"trending(?: now)?",
        r"more from .{1,40}", r"also read:?", r"see also:?", r"latest(?: news| stories)?", r"more stories",
        r"don'?t miss", r"editor'?s picks", r"local spotlight", r"watch live", r"popular now",
    ],
    "comment prompt": [r"please enter your comment!?", r"leave a (?:reply|comment)", r"comments are closed\.?",
                       r"\d+ comments?", r"join the conversation"],
    "share": [r"share post:?"],
}

_AGENCY = (
    r"reuters|ap|afp|associated press|agence france[- ]presse|agencies|news agencies|dpa|bloomberg|pa|ani|ians|pti"
    r"|xinhua|tass|upi|efe|ansa|press association|the associated press"
)
# Credit lines. "(Additional reporting by ...; Editing by ...)" is Reuters house style.
_CREDIT = [
    ("reuters", re.compile(
        r"^\(?\s*(?:additional |further )?(?:reporting|writing|editing|compiled|compiling|research|"
        r"graphics)\s+by\b.*\)?\s*$", re.I)),
    ("source-line", re.compile(r"^(?:source|sources|credit)\s*:\s*(?P<who>.{2,60})$", re.I)),
    ("inline", re.compile(
        rf"^(?:with (?:files|reporting) from|(?:the )?(?:{_AGENCY}) contributed to this (?:report|story))"
        rf"\b.*$", re.I)),
    ("inline", re.compile(rf"^[-–—]?\s*\(?(?:{_AGENCY})\)?\s*$", re.I)),
    ("inline", re.compile(r"^.{0,60}\bcontributed to this (?:report|story)\.?$", re.I)),
]
# "agencies" or "Reuters" glued to the end of the last sentence: "...no other agreements.agencies"
_GLUED_CREDIT = re.compile(
    r"(?<=[.!?\"”’)\]])\s*[-–—]?\s*(?P<credit>agencies|news agencies|reuters|afp|ap|ians|pti|ani|dpa|xinhua)\s*$",
    re.I)

# "By Jane Doe" / "By Jane Doe and John Roe, Reuters"
_BYLINE = re.compile(r"^by\s+(?P<who>[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}(?:\s*(?:,|and|&)\s*[A-Z][\w.'’-]+"
                     r"(?:\s+[A-Z][\w.'’-]+){0,3}){0,3})\s*(?:[,|]\s*.{0,40})?$")
# A dateline standing alone on its line: "MOSCOW -", "KYIV, Ukraine (AP) —"
_DATELINE_LINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’ -]{1,30}(?:,\s*[A-Z][\w.' ]{1,25})?)\s*(?:\((?P<agency>[\w. ]{1,25})\))?\s*[-–—:]$")

_BULLET = re.compile(r"^\s*(?:[-•*·▪►»]|\d+\.)\s+")
_TERMINAL_CHARS = frozenset(".!?:;…\"”’)]")


def _compile(table: dict[str, list[str]]) -> list[tuple[str, re.Pattern[str]]]:
    return [(reason, re.compile(r"^(?:" + "|".join(pats) + r")$", re.I)) for reason, pats in table.items()]


CHROME = _compile(_CHROME)
END = _compile(_END)
# every chrome, end-marker and credit pattern in one expression, for callers that only need a yes/no
# on many lines (one regex call instead of a dozen)
CHROME_ANY = re.compile(
    r"^(?:[-•*·▪►»]\s+)?(?:" + "|".join(p for pats in (*_CHROME.values(), *_END.values()) for p in pats)
    + "|" + "|".join(pat.pattern.lstrip("^").rstrip("$") for _, pat in _CREDIT) + r")$", re.I)

#: an end marker only ends the article when it comes after this share of the text
END_MIN_POSITION = 0.4
#: short lines are the only ones counted as corpus boilerplate
BOILERPLATE_MAX_WORDS = 15


# ----------------------------------------------------------------------------------- helpers
def line_key(line: str) -> str:
    """Normalised form of a line, for counting lines that recur across an outlet's articles."""
    s = re.sub(r"\d+", "0", line.strip().lower())
    return re.sub(r"\s+", " ", s)[:200]


def boilerplate_candidates(text: str) -> dict[str, str]:
    """Lines of ``text`` short enough to be counted as possible boilerplate, by their key."""
    out: dict[str, str] = {}
    for line in text.split("\n"):
        s = line.strip()
        if s and len(s.split()) <= BOILERPLATE_MAX_WORDS:
            out.setdefault(line_key(s), s)
    return out


def is_chrome(line: str) -> bool:
    """True when the general patterns already take ``line`` for chrome."""
    return _classify(line.strip()) is not None


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "?"


def is_mojibake(line: str) -> bool:
    """A short line of mixed-script debris ("۴ý") or replacement characters, not words."""
    s = line.strip()
    if not s:
        return False
    if "\ufffd" in s and len(s) < 80:
        return True
    if len(s) > 24:
        return False
    chars = [c for c in s if c.isalnum()]
    if not chars:
        return False
    scripts = {_script(c) for c in chars}
    non_ascii = sum(1 for c in chars if ord(c) > 127)
    # a word in one script ("Ελλάδα") is text; letters of several scripts in a few chars are debris
    return non_ascii >= max(1, len(chars) // 2) and len(scripts) > 1


def _fixer():
    import ftfy

    # keep typographic quotes, widths and ligatures: they are the text as published, and keeping
    # them keeps offsets into the clean text aligned with the raw text
    return ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, fix_latin_ligatures=False,
                                normalization=None, explain=False)


_FIX = None


def fix_encoding(line: str) -> str:
    """Repair mojibake and HTML escapes in one line with ftfy (ASCII lines are returned as they are)."""
    global _FIX
    if "&" not in line and (line.isascii() or not _is_bad(line)):
        return line  # ftfy's own quick test: no mojibake, nothing to fix (and it is 50x cheaper)
    if _FIX is None:
        _FIX = _fixer()
    import ftfy

    return ftfy.fix_text(line, _FIX)


# characters that UTF-8 read as Latin-1/cp1252 leaves behind; a line without any has no mojibake
_MOJIBAKE_HINT = re.compile("[\u00c2\u00c3\u00c5\u00ce\u00cf\u00d0\u00d1\u00d8\u00d9\u00e2\u0080-\u009f\u20ac\ufffd]")


def _is_bad(line: str) -> bool:
    if not _MOJIBAKE_HINT.search(line):
        return False
    from ftfy.badness import is_bad

    return is_bad(line)


def credit_of(line: str) -> tuple[str, str] | None:
    """(style, text) when the line is a wire or staff credit."""
    s = line.strip()
    if len(s) > 300:
        return None
    for style, pat in _CREDIT:
        m = pat.match(s)
        if m:
            if style == "source-line" and re.match(r"read full", m.group("who"), re.I):
                return None
            return style, s
    return None


def _norm_title(s: str) -> str:
    return re.sub(r"[\W_]+", " ", s.lower()).strip()


# ----------------------------------------------------------------------------------- the stage
@dataclass
class _Line:
    start: int  # raw offsets
    end: int
    text: str  # after encoding repair, stripped
    reason: str | None = None  # None: body


def _split_lines(raw: str) -> list[_Line]:
    lines, pos = [], 0
    for piece in raw.split("\n"):
        end = pos + len(piece)
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            lines.append(_Line(pos + lead, pos + lead + len(stripped), fix_encoding(stripped)))
        pos = end + 1
    return lines


def _classify(line: str) -> str | None:
    s = _BULLET.sub("", line).strip()
    if len(s) > 160:
        return None
    if is_mojibake(s):
        return "mojibake"
    for reason, pat in CHROME:
        if pat.match(s):
            return reason
    return None


def _end_marker(line: str) -> str | None:
    s = _BULLET.sub("", line).strip()
    if len(s) > 80:
        return None
    if credit_of(s):
        return "credit"
    for reason, pat in END:
        if pat.match(s):
            return reason
    if re.match(r"^source\s*:\s*read full article$", s, re.I):
        return "read more"
    return None


def clean(article: Article, boilerplate: Iterable[str] = ()) -> Article:
    """Fill ``article.text``, ``removed`` and ``segments`` from ``article.raw``.

    ``boilerplate`` holds :func:`line_key` keys of lines known to recur across this outlet's
    articles; they are removed as "recurring line".
    """
    boiler = boilerplate if isinstance(boilerplate, set | frozenset) else set(boilerplate)
    raw = article.raw
    lines = _split_lines(raw)
    total = max(1, len(raw))

    # 1. line classes: chrome patterns, corpus boilerplate, subscription runs
    for ln in lines:
        ln.reason = _classify(ln.text)
        if ln.reason is None and boiler and len(ln.text.split()) <= BOILERPLATE_MAX_WORDS and line_key(ln.text) in boiler:
            ln.reason = "recurring line"
    _pitch_runs(lines)

    # 2. the end of the article: a credit or teaser header late in the text ends it
    ended = False
    for i, ln in enumerate(lines):
        if ended:
            ln.reason = ln.reason or _end_marker(ln.text) or "after end of article"
            continue
        if ln.start / total < END_MIN_POSITION:
            continue
        marker = _end_marker(ln.text)
        if marker:
            ln.reason = marker if marker == "credit" or ln.reason is None else ln.reason
            # a credit may be followed by a second credit line; both are kept as credits
            ended = True
            for nxt in lines[i + 1:]:
                if credit_of(nxt.text) and nxt.reason is None:
                    nxt.reason = "credit"
                else:
                    break

    # 3. metadata lines: headline at the top, a dateline or byline before the lede, credits anywhere
    body = [ln for ln in lines if ln.reason is None]
    if body:
        _mark_headline(article, body[0])
    for ln in lines:
        if ln.reason is None and credit_of(ln.text):
            ln.reason = "credit"
    for ln in [ln for ln in lines if ln.reason is None][:3]:
        if _DATELINE_LINE.match(ln.text):
            ln.reason = "dateline"
        elif _BYLINE.match(ln.text):
            ln.reason = "byline"

    # 4. a credit glued to the last sentence
    kept = [ln for ln in lines if ln.reason is None]
    removed: list[Removed] = []
    if kept:
        last = kept[-1]
        m = _GLUED_CREDIT.search(last.text)
        if m and len(last.text) > 40:
            cut = m.start()
            raw_cut = last.end - (len(last.text) - cut)  # counted from the end: repair may change lengths
            removed.append(Removed(raw_cut, last.end, "credit", m.group("credit")))
            lines.insert(lines.index(last) + 1, _Line(raw_cut, last.end, m.group("credit"), "glued credit"))
            last.text, last.end = last.text[:cut].rstrip(), raw_cut

    for ln in lines:
        if ln.reason is not None and ln.reason != "glued credit":
            removed.append(Removed(ln.start, ln.end, ln.reason, ln.text))
    removed.sort(key=lambda r: r.start)

    # 5. paragraphs: every kept line is a paragraph, except a hard-wrapped line that goes on
    text, segments = _assemble([ln for ln in lines if ln.reason is None], raw)
    article.text = text
    article.segments = segments
    article.removed = removed
    article.word_count = len(text.split())
    return article


def _pitch_runs(lines: list[_Line]) -> None:
    """A run of short bullet lines with one subscription pitch in it is a pitch as a whole."""
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _BULLET.match(lines[j].text) and len(lines[j].text.split()) <= 10:
            j += 1
        run = lines[i:j]
        if len(run) >= 2 and any(ln.reason == "subscription pitch" for ln in run):
            for ln in run:
                ln.reason = ln.reason or "subscription pitch"
        i = max(j, i + 1)


def _mark_headline(article: Article, first: _Line) -> None:
    words = first.text.split()
    if article.title:
        a, b = _norm_title(first.text), _norm_title(article.title)
        if a and (a == b or (len(a) > 20 and (b.startswith(a) or a.startswith(b)))):
            first.reason = "headline"
        return
    # a plain-text file: the first line is the headline unless it reads as the lede sentence
    if article.fmt == "txt" and len(words) <= 30 and not re.search(r"[.!?]\s*$", first.text):
        first.reason = "headline"


def _assemble(kept: list[_Line], raw: str) -> tuple[str, list[Segment]]:
    parts: list[str] = []
    segments: list[Segment] = []
    pos = 0
    prev: _Line | None = None
    for ln in kept:
        wrapped = (
            prev is not None
            and "\n\n" not in raw[prev.end:ln.start]
            and prev.text.rstrip()[-1:] not in _TERMINAL_CHARS
            and ln.text[:1].islower()
        )
        if parts:
            sep = " " if wrapped else "\n\n"
            parts.append(sep)
            pos += len(sep)
        parts.append(ln.text)
        segments.append(Segment(pos, pos + len(ln.text), ln.start, ln.end))
        pos += len(ln.text)
        prev = ln
    return "".join(parts), segments


def to_raw(article: Article, pos: int) -> int:
    """The offset in ``article.raw`` of offset ``pos`` in the clean text (via the segment map).

    Inside a line whose encoding was repaired the offset is proportional, as lengths may differ;
    a position between two segments maps to the end of the earlier one.
    """
    segs = article.segments
    if not segs:
        return pos
    lo, hi = 0, len(segs) - 1
    while lo < hi:  # the last segment that starts at or before pos
        mid = (lo + hi + 1) // 2
        if segs[mid].clean_start <= pos:
            lo = mid
        else:
            hi = mid - 1
    seg = segs[lo]
    if pos >= seg.clean_end:
        return seg.raw_end
    clean_len, raw_len = seg.clean_end - seg.clean_start, seg.raw_end - seg.raw_start
    offset = pos - seg.clean_start
    if clean_len != raw_len and clean_len:
        offset = round(offset * raw_len / clean_len)
    return seg.raw_start + max(0, offset)

"""Describe stage: headline, standfirst, dateline, byline, wire credits, outlet, date, language.

Runs after cleaning; reads the clean text and the metadata lines that cleaning set aside
(``Article.removed`` with reasons "headline", "dateline", "byline", "credit").
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .model import Article, Credit

AGENCIES = [
    (re.compile(r"\breuters\b", re.I), "Reuters"),
    (re.compile(r"(?i:\bassociated press\b)|\bAP\b"), "AP"),
    (re.compile(r"\bagence france[- ]presse\b|\bAFP\b", re.I), "AFP"),
    (re.compile(r"\bdpa\b|deutsche presse", re.I), "dpa"),
    (re.compile(r"\bbloomberg\b", re.I), "Bloomberg"),
    (re.compile(r"\bxinhua\b", re.I), "Xinhua"),
    (re.compile(r"\btass\b", re.I), "TASS"),
    (re.compile(r"\b(?:PTI|IANS|ANI|UPI|EFE|ANSA)\b"), None),  # canonical = the match itself
    (re.compile(r"(?i:\bpress association\b)|\bPA\b"), "PA"),
    (re.compile(r"\b(?:news )?agencies\b|\bwires?\b", re.I), "agencies"),
]

# Mixed-case words that end in a colon at the start of a lede but are not places.
_NOT_PLACES = {"update", "breaking", "exclusive", "analysis", "opinion", "watch", "live", "photos", "video",
               "editorial", "note", "comment", "review", "explainer", "factbox", "timeline", "q", "warning"}
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’ -]{1,30}?|[A-Z][a-z’'.-]+(?: [A-Z][a-z’'.-]+){0,2})"
    r"(?:,\s*[A-Z][\w. ]{1,25}?)?\s*(?:\((?P<agency>[^)]{1,25})\))?\s*(?P<sep>[-–—:])\s+(?=[A-Z\"“‘'])")
_STOP = set(["a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "is", "are", "was", "were", "be", "been", "has", "have", "had", "it", "its", "this", "that", "these", "those", "he", "she", "they", "his", "her", "their", "we", "our", "you", "your", "i", "not", "no", "so", "if", "then", "than", "there", "which", "who", "whom", "what", "when", "where", "while", "after", "before", "over", "under", "into", "about", "also", "said", "says", "say"])


def agency_of(text: str) -> str | None:
    """The canonical wire agency named in a credit, or None."""
    for pat, name in AGENCIES:
        m = pat.search(text)
        if m:
            return name or m.group(0).upper()
    return None


def _content_words(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"[a-z][a-z’'-]+", text.lower()) if w not in _STOP and len(w) > 2}


def normalise_date(value: str | None) -> str | None:
    """ISO 8601 for the date formats news inputs use; the input as given when it cannot be parsed."""
    if not value:
        return None
    v = value.strip()
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return dt.date().isoformat() if len(v) <= 10 else dt.isoformat(timespec="minutes")
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(v).isoformat(timespec="minutes")
    except (TypeError, ValueError, IndexError):
        return v


def outlet_of(article: Article) -> str | None:
    """The outlet: as the input names it, else the URL's host without "www."."""
    src = (article.source or "").strip()
    if not src and article.url:
        src = urlsplit(article.url).hostname or ""
    src = re.sub(r"^www\.", "", src.lower()) if "." in src and " " not in src else src
    return src or None


# words that are frequent in English and rare in other languages written in Latin script
_ENGLISH = frozenset("the and of to that was with for said has have he his it were by from which would".split())


def language_of(text: str) -> str | None:
    """ISO 639-1 language code of the text (py3langid), None for text too short to tell.

    Text in which these English function words make up a sixth of the words is English without
    asking the classifier: news crawls are mostly English and the classifier is the slow part.
    """
    if len(text) < 20:
        return None
    words = text[:1000].lower().split()
    if len(words) >= 30 and sum(w in _ENGLISH for w in words) >= len(words) / 6:
        return "en"
    import py3langid

    # a few hundred characters decide the language as well as the whole text, at a tenth of the cost
    sample = text[:600]
    cut = sample.rfind(" ")
    return py3langid.classify(sample[:cut] if cut > 200 else sample)[0]


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def describe(article: Article) -> Article:
    """Fill the description fields of a cleaned article."""
    paras = _paragraphs(article.text)
    by_reason: dict[str, list[str]] = {}
    for r in article.removed:
        by_reason.setdefault(r.reason, []).append(r.text)

    # headline: the input's title, else the line cleaning set aside, else the first paragraph
    if article.title and article.title.strip():
        article.headline = article.title.strip()
    elif by_reason.get("headline"):
        article.headline = by_reason["headline"][0]
    elif paras:
        article.headline = paras[0]
    lede_index = 1 if (paras and article.headline == paras[0]) else 0

    # standfirst: a short summary paragraph under the headline that the lede then restates
    if len(paras) > lede_index + 1:
        cand, lede = paras[lede_index], paras[lede_index + 1]
        words = _content_words(cand)
        if (len(cand.split()) <= 40 and len(re.findall(r"[.!?](?:\s|$)", cand)) <= 2 and words
                and not cand.lstrip().startswith(("“", '"')) and not _DATELINE.match(cand)
                and len(words & _content_words(lede)) / len(words) >= 0.4):
            article.standfirst = cand

    # dateline: a line of its own, or the start of the lede
    if by_reason.get("dateline"):
        article.dateline = re.sub(r"\s*(?:\([^)]*\))?\s*[-–—:]$", "", by_reason["dateline"][0]).strip()
    else:
        for para in paras[lede_index:lede_index + 2]:
            m = _DATELINE.match(para)
            if m and m.group("place").strip().lower() not in _NOT_PLACES:
                mixed = not m.group("place").isupper()
                if mixed and not (m.group("sep") == ":" or m.group("agency")):
                    continue
                article.dateline = m.group("place").strip()
                if m.group("agency") and agency_of(m.group("agency")):
                    article.credits.append(Credit(m.group(0).strip(), agency_of(m.group("agency")), "dateline"))
                break

    if by_reason.get("byline"):
        article.byline = re.sub(r"^by\s+", "", by_reason["byline"][0], flags=re.I).strip()

    for r in article.removed:
        if r.reason != "credit":
            continue
        text = r.text.strip()
        if re.match(r"^\(?\s*(?:additional |further )?(?:reporting|writing|editing|compiled)\s+by\b", text, re.I):
            article.credits.append(Credit(text, agency_of(text) or "Reuters", "reuters"))
        elif re.match(r"^(?:source|sources|credit)\s*:", text, re.I):
            article.credits.append(Credit(text, agency_of(text), "source-line"))
        elif r.end == len(article.raw.rstrip()) and not article.raw[r.start - 1:r.start].isspace():
            article.credits.append(Credit(text, agency_of(text), "glued"))
        else:
            article.credits.append(Credit(text, agency_of(text), "inline"))

    article.outlet = outlet_of(article)
    article.date = normalise_date(article.date)
    article.language = language_of(article.text)
    article.word_count = len(article.text.split())
    return article

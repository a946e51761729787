"""Cluster stage (first version): group articles into stories.

Articles linked by a reuse relation are always in one story. Beyond that, two articles join
when the TF-IDF cosine of their headline and text is high and, when both carry dates, they
were published within a few days of each other. Connected components are the stories.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from .model import Article, Relation, Story

SIMILARITY = 0.3
MAX_DAYS = 4
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+|\d[\d.,]*")
_STOP = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "said", "same", "says", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "told", "say"])


def _terms(a: Article) -> Counter[str]:
    words = [w.lower().strip("'’") for w in _WORD.findall(f"{a.headline or ''} {a.headline or ''} {a.text}")]
    return Counter(w[:7] for w in words if w not in _STOP and len(w) > 2)


def _day(date: str | None) -> datetime | None:
    if not date:
        return None
    try:
        return datetime.fromisoformat(date[:10])
    except ValueError:
        return None


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def cluster(articles: Sequence[Article], relations: Sequence[Relation] = ()) -> list[Story]:
    """Stories over ``articles``; reuse ``relations`` always join their two articles."""
    parent = {a.id: a.id for a in articles}

    def union(x: str, y: str) -> None:
        rx, ry = _find(parent, x), _find(parent, y)
        if rx != ry:
            parent[ry] = rx

    for r in relations:
        if r.origin in parent and r.derived in parent and r.kind != "same_story":
            union(r.origin, r.derived)

    tf = {a.id: _terms(a) for a in articles}
    df: Counter[str] = Counter()
    for t in tf.values():
        df.update(t.keys())
    n = len(articles)
    vecs: dict[str, dict[str, float]] = {}
    for a in articles:
        v = {w: (1 + math.log(c)) * (1 + math.log((1 + n) / (1 + df[w]))) for w, c in tf[a.id].items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs[a.id] = {w: x / norm for w, x in v.items()}
    postings: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        for w, _x in sorted(vecs[a.id].items(), key=lambda kv: -kv[1])[:20]:
            postings[w].append(a.id)
    days = {a.id: _day(a.date) for a in articles}
    seen: set[tuple[str, str]] = set()
    for ids in postings.values():
        for i, x in enumerate(ids):
            for y in ids[i + 1:]:
                if (x, y) in seen:
                    continue
                seen.add((x, y))
                dx, dy = days[x], days[y]
                if dx and dy and abs((dx - dy).days) > MAX_DAYS:
                    continue
                vx, vy = vecs[x], vecs[y]
                if len(vx) > len(vy):
                    vx, vy = vy, vx
                if sum(val * vy.get(w, 0.0) for w, val in vx.items()) >= SIMILARITY:
                    union(x, y)

    order = {a.id: i for i, a in enumerate(articles)}
    groups: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        groups[_find(parent, a.id)].append(a)
    stories = []
    for members in groups.values():
        members.sort(key=lambda a: (a.date or "9999", order[a.id]))
        dates = sorted(a.date for a in members if a.date)
        sid = "s" + hashlib.blake2b(min(a.id for a in members).encode(), digest_size=5).hexdigest()
        # the story is headed by its first report that derives from nothing in it (the wire original)
        ids = {a.id for a in members}
        derived = {r.derived for r in relations if r.origin in ids and r.derived in ids}
        head = next((a for a in members if a.id not in derived and any(r.origin == a.id for r in relations)),
                    members[0])
        stories.append(Story(
            id=sid, articles=[a.id for a in members], headline=head.headline or "",
            first=dates[0] if dates else None, last=dates[-1] if dates else None,
            outlets=sorted({a.outlet for a in members if a.outlet})))
    stories.sort(key=lambda s: (s.first or "", s.id))
    return stories

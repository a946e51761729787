"""Cluster stage: group articles into stories as they arrive, and stories into storylines.

One pass in publication order (an undated article keeps its place after the dated article
before it in arrival order). Each article is compared with the stories that share its most
salient terms (an inverted index over story centroids, so the cost does not grow with the
number of stories): weighted terms of its headline and text plus its names and numbers, with
document frequencies counted over the articles seen so far. It joins the most similar story that
is open in time (within ``WINDOW_DAYS`` of its span) when the cosine similarity reaches
``THRESHOLD``, else it starts a story. An article derived from another (a reuse relation) joins
its origin's story. Because clustering from scratch is the same pass over the same order, it
gives the same answer as streaming.

Storylines link stories about the same ongoing matter: stories that share their key names and
part of their vocabulary, whatever the time between them.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from .model import Article, Relation, Story

THRESHOLD = 0.15
WINDOW_DAYS = 7
MAX_CANDIDATES = 10  # stories scored in full per article, best rough matches first
PROBE_TERMS = 15  # an article looks up the stories indexed under its 15 heaviest terms
INDEX_TERMS = 60  # a story is indexed under its 60 heaviest centroid terms
CENTROID_TERMS = 300
STORYLINE_SIMILARITY = 0.05
STORYLINE_SHARED_NAMES = 3
MAX_NAME_STORIES = 500

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+|\d[\d,.]*\d|\d")
_SENT = re.compile(r"(?<=[.!?])\s+")
_STOP = frozenset("""a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my no nor not now of off
on once only or other our ours out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where which while who whom
why will with would you your yours said says say told tell according however one two new year years may might last
first""".split())
_CALENDAR = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march april may "
                      "june july august september october november december jan feb mar apr jun jul aug sep sept oct "
                      "nov dec".split())
_NOT_NAMES = frozenset("the a an in on at for and but or of to he she it they we i this that these those his her its "
                       "their as after when while with by from if mr mrs ms dr".split())


def features(a: Article) -> Counter[str]:
    """Term counts of an article: content-word stems (headline counted twice) and "E:" names/numbers."""
    out: Counter[str] = Counter()
    for part, weight in ((a.headline or "", 2), (a.text, 1)):
        for sent in _SENT.split(part):
            for i, tok in enumerate(_WORD.findall(sent)):
                low = tok.lower().strip("'’")
                if low.endswith(("'s", "’s")):
                    low = low[:-2]
                if low in _STOP or (len(low) < 3 and not low.isdigit()):
                    continue
                out[low[:7]] += weight
                # a capitalised word inside a sentence is a name; a number of two digits or more is a figure
                if (tok[0].isupper() and (i > 0 or part is a.headline) and low not in _NOT_NAMES) or \
                        (tok[0].isdigit() and len(tok) >= 2):
                    out["E:" + low] += weight
    return out


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass
class _Story:
    centroid: Counter[str] = field(default_factory=Counter)
    norm: float = 1.0
    first: date | None = None
    last: date | None = None
    members: list[str] = field(default_factory=list)
    indexed: set[str] = field(default_factory=set)
    names: Counter[str] = field(default_factory=Counter)  # how often each name occurs in its articles


class StoryClusterer:
    """Streaming story clustering; feed articles in publication order with :meth:`add`."""

    def __init__(self, threshold: float = THRESHOLD, window_days: int = WINDOW_DAYS) -> None:
        self.threshold = threshold
        self.window = window_days
        self.df: Counter[str] = Counter()
        self.n = 0
        self.stories: list[_Story] = []
        self.postings: dict[str, set[int]] = defaultdict(set)
        self.story_of: dict[str, int] = {}

    def _vector(self, tf: Counter[str]) -> dict[str, float]:
        n = self.n
        v = {t: (1 + math.log(c)) * math.log((n + 1) / (self.df[t] + 0.5)) for t, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items() if x > 0}

    def _open(self, s: _Story, day: date | None) -> bool:
        if day is None or s.first is None or s.last is None:
            return True
        return (day - s.last).days <= self.window and (s.first - day).days <= self.window

    def add(self, article: Article, origin: str | None = None) -> int:
        """Place one article; ``origin`` is the id of an article it derives from, if any."""
        tf = features(article)
        self.n += 1
        self.df.update(tf.keys())
        vec = self._vector(tf)
        day = _day(article.date)
        best = self.story_of.get(origin) if origin else None
        if best is None:
            probe = sorted(vec, key=lambda t: -vec[t])[:PROBE_TERMS]
            # rank candidates by the weight of the probe terms they are indexed under, then score the best
            rough: dict[int, float] = defaultdict(float)
            for t in probe:
                for sid in self.postings.get(t, ()):
                    rough[sid] += vec[t]
            candidates = sorted(rough, key=lambda k: (-rough[k], k))[:MAX_CANDIDATES]
            best_sim = self.threshold
            for sid in sorted(candidates):
                s = self.stories[sid]
                if not self._open(s, day):
                    continue
                c = s.centroid
                sim = sum(x * c.get(t, 0.0) for t, x in vec.items()) / s.norm
                if sim >= best_sim:
                    best, best_sim = sid, sim
        if best is None:
            best = len(self.stories)
            self.stories.append(_Story())
        s = self.stories[best]
        s.centroid.update(vec)
        if len(s.centroid) > CENTROID_TERMS * 2:
            s.centroid = Counter(dict(s.centroid.most_common(CENTROID_TERMS)))
        s.norm = math.sqrt(sum(x * x for x in s.centroid.values())) or 1.0
        s.members.append(article.id)
        s.names.update({t[2:]: c for t, c in tf.items() if t.startswith("E:") and not t[2].isdigit()
                        and t[2:] not in _CALENDAR})
        if day:
            s.first = min(s.first or day, day)
            s.last = max(s.last or day, day)
        for t, _ in s.centroid.most_common(INDEX_TERMS):
            if t not in s.indexed:
                s.indexed.add(t)
                self.postings[t].add(best)
        self.story_of[article.id] = best
        return best


def publication_order(articles: Sequence[Article]) -> list[Article]:
    """Articles by publication date; an undated one stays after the dated one before it."""
    keys, last = [], ""
    for i, a in enumerate(articles):
        if a.date:
            last = a.date
        keys.append((last, i))
    return [articles[i] for _, i in sorted(keys)]


def cluster(articles: Sequence[Article], relations: Sequence[Relation] = ()) -> list[Story]:
    """Stories over ``articles`` (in arrival order); a reuse relation puts the derived one in its origin's story."""
    derived_ids = {r.derived for r in relations}
    origin_ids = {r.origin for r in relations}
    origin_of: dict[str, str] = {}
    for r in sorted(relations, key=lambda r: -r.score):
        if r.kind != "same_story":
            origin_of.setdefault(r.derived, r.origin)
    clusterer = StoryClusterer()
    ordered = publication_order(articles)
    for a in ordered:
        clusterer.add(a, origin_of.get(a.id))
    by_id = {a.id: a for a in articles}
    stories = []
    for s in clusterer.stories:
        members = [by_id[m] for m in s.members]
        stories.append(_summary(members, relations_within(members, relations, derived_ids, origin_ids), s))
    link_storylines(stories, clusterer)
    stories.sort(key=lambda s: (s.first or "", s.id))
    return stories


def relations_within(members: list[Article], relations: Sequence[Relation], derived_ids: set[str],
                     origin_ids: set[str]) -> list[Relation]:
    """The relations between two articles of ``members`` (cheap when the story holds none)."""
    ids = {a.id for a in members}
    if not (ids & derived_ids and ids & origin_ids):
        return []
    return [r for r in relations if r.origin in ids and r.derived in ids]


def _summary(members: list[Article], relations: Sequence[Relation], state: _Story) -> Story:
    ids = {a.id for a in members}
    derived = {r.derived for r in relations if r.origin in ids and r.derived in ids}
    # the story is headed by its first report that derives from nothing in it (the wire original)
    head = next((a for a in members if a.id not in derived and any(r.origin == a.id for r in relations)),
                members[0])
    dates = sorted(a.date for a in members if a.date)
    sid = "s" + hashlib.blake2b(members[0].id.encode(), digest_size=5).hexdigest()
    names = state.names
    return Story(id=sid, articles=[a.id for a in members], headline=head.headline or "",
                 first=dates[0] if dates else None, last=dates[-1] if dates else None,
                 outlets=sorted({a.outlet for a in members if a.outlet}),
                 key_names=[n for n, _ in names.most_common(8)], copies=len(derived & ids))


def link_storylines(stories: list[Story], clusterer: StoryClusterer) -> None:
    """Set ``storyline`` on stories that share their key names and part of their vocabulary."""
    states = clusterer.stories
    parent = list(range(len(stories)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    names = [set(s.key_names[:6]) for s in stories]
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, ns in enumerate(names):
        for n in ns:
            by_name[n].append(i)
    for i in range(len(stories)):
        shared: Counter[int] = Counter()
        for n in names[i]:
            postings = by_name[n]
            if len(postings) <= MAX_NAME_STORIES:  # a name in every story links nothing
                shared.update(j for j in postings if j > i)
        for j, k in shared.items():
            if k < STORYLINE_SHARED_NAMES or find(i) == find(j):
                continue
            a, b = states[i], states[j]
            small, big = (a, b) if len(a.centroid) < len(b.centroid) else (b, a)
            sim = sum(x * big.centroid.get(t, 0.0) for t, x in small.centroid.items()) / (a.norm * b.norm)
            if sim >= STORYLINE_SIMILARITY:
                parent[find(j)] = find(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(stories)):
        groups[find(i)].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        first = min(members, key=lambda i: (stories[i].first or "", stories[i].id))
        line = "l" + stories[first].id[1:]
        for i in members:
            stories[i].storyline = line

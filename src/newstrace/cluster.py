"""Cluster stage: group articles into stories, and stories into storylines.

Three steps, each deterministic:

1. **Vectors**: weighted terms of each article (content-word stems, the headline counted twice, plus
   "E:" names and figures), TF-IDF over the articles clustered together, L2-normalised.
2. **Neighbours**: each article's ``K`` most similar articles that are open in time (both undated,
   or dated within ``WINDOW_DAYS``), found through an inverted index over each article's heaviest
   terms, so the cost per article does not grow with the number of stories.
3. **Average link** over the neighbour graph: an edge weighs the cosine similarity raised by the
   share of nearest neighbours both ends have (Jarvis & Patrick), which tells "the same event" from "the same
   kind of event" better than the cosine alone, because articles about one event share their
   neighbours while look-alike events only share vocabulary. Clusters merge while the average
   weight over all their pairs (non-neighbours count 0) reaches ``THRESHOLD`` and the dated span of
   the merged story stays within ``WINDOW_DAYS``: a story is a bounded stretch of time. Two
   clusters whose core names (those in half their articles) are disjoint do not merge: another
   actor or place is another event. A reuse relation puts the derived article in its origin's
   story before anything else.

The answer depends only on the set of articles (not on their arrival order). Storylines link
stories that share their key names and part of their vocabulary, whatever the time between them.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from scipy import sparse

from .model import Article, Relation, Story

THRESHOLD = 0.05  # average edge weight over all pairs of a story (non-neighbour pairs count 0)
WINDOW_DAYS = 7
# Partial reuse puts two articles in one story only when the shared passages are a fifth of one of
# them (what the one-pass dedup calls partial reuse, dedup.stream.PARTIAL_SHARE): a single line may be
# a stock paragraph or a widely quoted sentence (measured on ECB+ dev through the store: 7 of the 9
# such pairs that straddle two gold events, and BASIL's 2, share less); the text similarity of the two
# articles still counts as for any pair.
FAMILY_SHARE = 0.2
# An undated article could be from any week, so it joins a dated story (and takes its dates) only on
# text evidence this many times the threshold: look-alike events of another year share vocabulary too.
UNDATED_EVIDENCE = 3.0
K = 6  # neighbours per article
MIN_COSINE = 0.12  # a neighbour must share at least this much weighted vocabulary
PROBE_TERMS = 60  # an article looks for candidates under its 60 heaviest terms...
INDEX_TERMS = 60  # ...among the articles indexed under their 60 heaviest
MAX_CANDIDATES = 40  # candidates scored in full per article, best rough matches first
MAX_POSTINGS = 500  # a term indexed for more articles than this says little about the event
CORE_NAMES = 2  # names a story needs in half its articles before disjoint names keep it apart
STORYLINE_SIMILARITY = 0.05
STORYLINE_SHARED_NAMES = 3
MAX_NAME_STORIES = 500

# a token, with the sentence break before it when there is one
_TOKEN = re.compile(r"([.!?][\"'“”‘’)\]]*\s+[\"'“‘(\[]*)?([A-Za-z][A-Za-z'’-]+|\d[\d,.]*\d|\d)")
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


@lru_cache(maxsize=1 << 18)
def _term(tok: str) -> tuple[str, str | None, bool] | None:
    """(stem, name key, is a figure) of a token; None for a stopword or a fragment."""
    low = tok.lower().strip("'’")
    if low.endswith(("'s", "’s")):
        low = low[:-2]
    if low in _STOP or (len(low) < 3 and not low.isdigit()):
        return None
    figure = tok[0].isdigit() and len(tok) >= 2
    name = tok[0].isupper() and low not in _NOT_NAMES
    return low[:7], ("E:" + low) if name or figure else None, figure


def features(a: Article) -> Counter[str]:
    """Term counts of an article: content-word stems (headline counted twice) and "E:" names/numbers.

    A capitalised word is a name unless it opens a sentence of the text; a number of two digits
    or more is a figure.
    """
    terms: list[str] = []
    for part, headline in ((a.headline or "", True), (a.text, False)):
        found = []
        for k, (brk, tok) in enumerate(_TOKEN.findall(part)):
            t = _term(tok)
            if t is None:
                continue
            found.append(t[0])
            if t[1] and (t[2] or headline or (k > 0 and not brk)):
                found.append(t[1])
        terms += found * 2 if headline else found
    return Counter(terms)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass
class Vectors:
    """TF-IDF rows of articles (L2-normalised) in a sparse matrix, with their raw term counts."""

    matrix: sparse.csr_matrix
    terms: list[str]
    tf: sparse.csr_matrix  # the term counts, same shape

    def names(self, rows: Sequence[int]) -> Counter[str]:
        """How often each name (not a figure, not a day or month) occurs in ``rows`` together."""
        out: Counter[str] = Counter()
        for i in rows:
            lo, hi = self.tf.indptr[i], self.tf.indptr[i + 1]
            for t, c in zip(self.tf.indices[lo:hi], self.tf.data[lo:hi], strict=True):
                term = self.terms[t]
                if term[:2] == "E:" and not term[2].isdigit() and term[2:] not in _CALENDAR:
                    out[term[2:]] += int(c)
        return out


def vectors(articles: Sequence[Article], counts: Iterable[Counter[str]] | None = None) -> Vectors:
    """L2-normalised TF-IDF vectors of ``articles``, document frequencies counted over them.

    ``counts`` are the articles' :func:`features` when computed already (e.g. in worker processes);
    they are consumed one by one, so only the arrays are kept.
    """
    vocab: dict[str, int] = {}
    indptr, indices, tf = [0], array("q"), array("d")
    for c in (features(a) for a in articles) if counts is None else counts:
        for t, k in c.items():
            indices.append(vocab.setdefault(t, len(vocab)))
            tf.append(k)
        indptr.append(len(indices))
    n = len(indptr) - 1
    cols = np.frombuffer(indices, dtype=np.int64) if len(indices) else np.zeros(0, dtype=np.int64)
    counts_ = np.frombuffer(tf, dtype=np.float64) if len(tf) else np.zeros(0)
    ptr = np.asarray(indptr, dtype=np.int64)
    df = np.bincount(cols, minlength=len(vocab))
    idf = np.log((n + 1) / (df + 0.5))
    m = sparse.csr_matrix(((1 + np.log(counts_)) * idf[cols] if len(cols) else counts_, cols, ptr),
                          shape=(n, len(vocab)))
    m.data[m.data < 0] = 0.0  # a term in nearly every article says nothing
    m.eliminate_zeros()
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    m = sparse.csr_matrix(sparse.diags(1 / norms) @ m)
    m.sort_indices()
    return Vectors(m, list(vocab), sparse.csr_matrix((counts_.copy(), cols.copy(), ptr), shape=(n, len(vocab))))


def _heaviest(m: sparse.csr_matrix, keep: int, max_df: int) -> sparse.csr_matrix:
    """``m`` cut to each row's ``keep`` heaviest terms, leaving out terms in more than ``max_df`` rows."""
    df = np.bincount(m.indices, minlength=m.shape[1])
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    ok = df[m.indices] <= max_df
    rows, cols, vals = rows[ok], m.indices[ok], m.data[ok]
    order = np.lexsort((cols, -vals, rows))  # by row, heaviest first, ties by term number
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - starts
    top = rank < keep
    return sparse.csr_matrix((vals[top], (rows[top], cols[top])), shape=m.shape)


def _best(score: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, ties broken by the lower ``key``: linear time, not a sort."""
    kth = np.partition(score, len(score) - k)[len(score) - k]
    above = np.flatnonzero(score > kth)
    tied = np.flatnonzero(score == kth)
    return np.concatenate([above, tied[np.argsort(key[tied], kind="stable")[:k - len(above)]]])


def _days_array(days: Sequence[date | None]) -> np.ndarray:
    return np.array([d.toordinal() if d else -1 for d in days], dtype=np.int64)


def neighbours(vecs: Vectors, days: Sequence[date | None], k: int = K, window: int = WINDOW_DAYS,
               block: int = 512) -> list[list[tuple[float, int]]]:
    """Each article's ``k`` most similar articles open in time to it, as (cosine, index), best first.

    Candidates come from the product of each article's heaviest terms with everyone's (an
    inverted index, done as a sparse matrix product in blocks), so the cost per article is
    bounded by ``PROBE_TERMS`` x ``MAX_POSTINGS``, whatever the number of articles; the best
    ``MAX_CANDIDATES`` of them are scored in full.
    """
    m = vecs.matrix
    n = m.shape[0]
    probe = _heaviest(m, PROBE_TERMS, MAX_POSTINGS)
    probe_t = _heaviest(m, INDEX_TERMS, MAX_POSTINGS).T.tocsr()
    day = _days_array(days)
    out: list[list[tuple[float, int]]] = []
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        rough = (probe[lo:hi] @ probe_t).tocsr()
        pairs_i, pairs_j = [], []
        for r in range(hi - lo):
            a, b = rough.indptr[r], rough.indptr[r + 1]
            cand, score = rough.indices[a:b], rough.data[a:b]
            keep = cand != lo + r
            di = day[lo + r]
            if di >= 0:
                dj = day[cand]
                keep &= (dj < 0) | (np.abs(dj - di) <= window)
            cand, score = cand[keep], score[keep]
            if len(cand) > MAX_CANDIDATES:
                cand = cand[_best(score, cand, MAX_CANDIDATES)]
            pairs_i.append(np.full(len(cand), lo + r))
            pairs_j.append(cand)
        pi = np.concatenate(pairs_i) if pairs_i else np.zeros(0, dtype=np.int64)
        pj = np.concatenate(pairs_j) if pairs_j else np.zeros(0, dtype=np.int64)
        sims = np.asarray(m[pi].multiply(m[pj]).sum(axis=1)).ravel() if len(pi) else np.zeros(0)
        start = 0
        for r in range(hi - lo):
            cnt = len(pairs_j[r])
            j, sim = pj[start:start + cnt], sims[start:start + cnt]
            start += cnt
            ok = sim >= MIN_COSINE
            j, sim = j[ok], sim[ok]
            order = np.lexsort((j, -sim))[:k]
            out.append([(float(sim[x]), int(j[x])) for x in order])
    return out


def edge_weights(nbrs: Sequence[list[tuple[float, int]]], k: int = K) -> dict[tuple[int, int], float]:
    """Weights of the neighbour graph: the cosine, raised by up to double by the neighbours both ends share."""
    sets = [{j for _, j in nb} | {i} for i, nb in enumerate(nbrs)]
    out: dict[tuple[int, int], float] = {}
    for i, nb in enumerate(nbrs):
        for sim, j in nb:
            shared = len(sets[i] & sets[j]) / (k + 1)
            out[(min(i, j), max(i, j))] = sim * (1 + shared)
    return out


def average_link(n: int, edges: dict[tuple[int, int], float], days: Sequence[date | None],
                 groups: Sequence[Sequence[int]] = (), names: Sequence[set[str]] | None = None,
                 threshold: float = THRESHOLD, window: int = WINDOW_DAYS) -> list[int]:
    """Cluster label (a member index) of each of ``n`` items, by average link over the sparse ``edges``.

    ``groups`` are merged first, whatever their weights (reuse families). Two clusters merge when
    the sum of their edge weights over the product of their sizes reaches ``threshold`` (``UNDATED_EVIDENCE``
    times it when one is dated and the other not), their dated span together stays within ``window`` days, and (given the ``names`` of each item) they
    do not each have ``CORE_NAMES`` names in half their members with none in common: the same kind
    of event with other actors and places is another story.
    """
    parent = list(range(n))
    held: list[Counter[str]] = [Counter(x) for x in names] if names is not None else []

    def core(i: int) -> set[str]:
        return {t for t, c in held[i].items() if 2 * c >= size[i]}

    def other_actors(i: int, j: int) -> bool:
        if not held:
            return False
        a, b = core(i), core(j)
        return len(a) >= CORE_NAMES and len(b) >= CORE_NAMES and not a & b

    size = [1] * n
    span: list[tuple[date | None, date | None]] = [(d, d) for d in days]
    adj: list[dict[int, float]] = [{} for _ in range(n)]
    for (i, j), w in edges.items():
        adj[i][j] = adj[i].get(j, 0.0) + w
        adj[j][i] = adj[j].get(i, 0.0) + w

    def joined(i: int, j: int) -> tuple[date | None, date | None]:
        firsts = [d for d in (span[i][0], span[j][0]) if d]
        lasts = [d for d in (span[i][1], span[j][1]) if d]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)

    def merge(i: int, j: int) -> None:  # j into i
        parent[j] = i
        span[i] = joined(i, j)
        size[i] += size[j]
        if held:
            held[i] += held[j]
        for x, w in adj[j].items():
            if x != i:
                adj[i][x] = adj[i].get(x, 0.0) + w
                adj[x][i] = adj[i][x]
                del adj[x][j]
        adj[i].pop(j, None)
        adj[j] = {}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for g in groups:
        for m in g[1:]:
            a, b = root(g[0]), root(m)
            if a != b:
                merge(min(a, b), max(a, b))
    heap = [(-w / (size[i] * size[j]), i, j) for i in range(n) if parent[i] == i
            for j, w in adj[i].items() if i < j]
    heapq.heapify(heap)
    while heap:
        neg, i, j = heapq.heappop(heap)
        if parent[i] != i or parent[j] != j or j not in adj[i]:
            continue
        avg = adj[i][j] / (size[i] * size[j])
        if abs(avg + neg) > 1e-12:
            continue  # stale: the sizes or weights changed since this entry was pushed
        if avg < threshold:
            break
        if avg < threshold * UNDATED_EVIDENCE and (span[i][0] is None) != (span[j][0] is None):
            continue
        first, last = joined(i, j)
        if (first and last and (last - first).days > window) or other_actors(i, j):
            continue
        merge(i, j)
        for x, w in adj[i].items():
            heapq.heappush(heap, (-w / (size[i] * size[x]), min(i, x), max(i, x)))
    return [root(i) for i in range(n)]


def binds(r: Relation) -> bool:
    """Whether a reuse relation puts its two articles in one story, whatever their text similarity."""
    return r.kind != "same_story" and (r.kind != "shares_passages" or r.score >= FAMILY_SHARE)


def publication_order(articles: Sequence[Article]) -> list[Article]:
    """Articles by publication date; an undated one stays after the dated one before it."""
    keys, last = [], ""
    for i, a in enumerate(articles):
        if a.date:
            last = a.date
        keys.append((last, i))
    return [articles[i] for _, i in sorted(keys)]


def cluster(articles: Sequence[Article], relations: Sequence[Relation] = ()) -> list[Story]:
    """Stories over ``articles``; a reuse relation puts the derived one in its origin's story."""
    ordered = publication_order(articles)
    vecs = vectors(ordered)
    days = [_day(a.date) for a in ordered]
    groups, stories = link(ordered, vecs, edge_weights(neighbours(vecs, days)), days, relations)
    # story centroids: the sum of their members' rows
    owner = np.zeros(len(ordered), dtype=np.int64)
    for k, idx in enumerate(groups):
        owner[idx] = k
    pick = sparse.csr_matrix((np.ones(len(ordered)), (owner, np.arange(len(ordered)))),
                             shape=(len(groups), len(ordered)))
    centroids = sparse.csr_matrix(pick @ vecs.matrix)
    link_storylines(stories, centroids)
    order = sorted(range(len(stories)), key=lambda i: (stories[i].first or "", stories[i].id))
    return [stories[i] for i in order]


def link(ordered: Sequence[Article], vecs: Vectors, edges: dict[tuple[int, int], float],
         days: Sequence[date | None], relations: Sequence[Relation]) -> tuple[list[list[int]], list[Story]]:
    """Average link over the neighbour graph of ``ordered`` (reuse families first): the groups, as
    sorted lists of indexes, and the story summarising each."""
    index = {a.id: i for i, a in enumerate(ordered)}
    families = [[index[r.origin], index[r.derived]] for r in relations
                if binds(r) and r.origin in index and r.derived in index]
    names = [set(vecs.names([i])) for i in range(len(ordered))]
    labels = average_link(len(ordered), edges, days, families, names)
    members: dict[int, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        members[lab].append(i)
    derived_ids = {r.derived for r in relations}
    origin_ids = {r.origin for r in relations}
    groups = sorted(members.values())
    stories = []
    for idx in groups:
        group = [ordered[i] for i in idx]
        stories.append(_summary(group, relations_within(group, relations, derived_ids, origin_ids), vecs.names(idx)))
    return groups, stories


def relations_within(members: list[Article], relations: Sequence[Relation], derived_ids: set[str],
                     origin_ids: set[str]) -> list[Relation]:
    """The relations between two articles of ``members`` (cheap when the story holds none)."""
    ids = {a.id for a in members}
    if not (ids & derived_ids and ids & origin_ids):
        return []
    return [r for r in relations if r.origin in ids and r.derived in ids]


def _summary(members: list[Article], relations: Sequence[Relation], names: Counter[str]) -> Story:
    ids = {a.id for a in members}
    derived = {r.derived for r in relations if r.origin in ids and r.derived in ids}
    # the story is headed by its first report that derives from nothing in it (the wire original)
    head = next((a for a in members if a.id not in derived and any(r.origin == a.id for r in relations)),
                members[0])
    dates = sorted(a.date for a in members if a.date)
    sid = "s" + hashlib.blake2b(members[0].id.encode(), digest_size=5).hexdigest()
    return Story(id=sid, articles=[a.id for a in members], headline=head.headline or "",
                 first=dates[0] if dates else None, last=dates[-1] if dates else None,
                 outlets=sorted({a.outlet for a in members if a.outlet}),
                 key_names=[n for n, _ in names.most_common(8)], copies=len(derived & ids))


def link_storylines(stories: list[Story], centroids: sparse.csr_matrix) -> None:
    """Set ``storyline`` on stories that share their key names and part of their vocabulary.

    ``centroids`` holds one row per story (the sum of its articles' vectors), in ``stories`` order.
    """
    norms = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
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
            sim = centroids[i].multiply(centroids[j]).sum() / (norms[i] * norms[j])
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

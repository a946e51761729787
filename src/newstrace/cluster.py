"""Cluster stage: group articles into stories, and stories into storylines.

Three steps, each deterministic:

1. **Vectors**: weighted terms of each article (content-word stems, the headline counted twice, plus
   "E:" names and figures), TF-IDF over the articles clustered together, L2-normalised.
2. **Neighbours**: each article's ``K`` most similar articles that are open in time (both undated,
   or dated within ``WINDOW_DAYS``), found through an inverted index over each article's heaviest
   terms, so the cost per article does not grow with the number of stories.
3. **Average link** over the neighbour graph: an edge weighs the cosine similarity raised by the
   share of nearest neighbours both ends have (Jarvis & Patrick), which tells "the same event" from
   "the same kind of event" better than the cosine alone, because articles about one event share
   their neighbours while look-alike events only share vocabulary. Clusters merge while the average
   weight over all their pairs (non-neighbours count 0) reaches ``THRESHOLD`` and the merged story's
   reports neither pause for more than ``WINDOW_DAYS`` nor span more than ``STORY_DAYS``: a story is
   a bounded stretch of time (an undated article joins a dated story alone, on strong evidence;
   undated articles that form a story of their own keep it). Two clusters whose core names (those in
   half their articles) are disjoint do not merge: another actor or place is another event. A reuse
   relation puts the derived article in its origin's story before anything else.

The answer depends only on the set of articles (not on their arrival order). Storylines link
stories that share their key names and part of their vocabulary, whatever the time between them.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from scipy import sparse

from .model import Article, Relation, Story

THRESHOLD = 0.05  # average edge weight over all pairs of a story (non-neighbour pairs count 0)
# A story runs on while its reports keep coming: no pause of more than WINDOW_DAYS between two of them
# (the neighbour search looks that far too), and it covers at most STORY_DAYS in all: coverage that
# stops for over a week, or runs on for weeks, is a storyline of several stories, not one.
WINDOW_DAYS = 7
STORY_DAYS = 14
# Partial reuse puts two articles in one story only when the shared passages are a fifth of one of
# them (what the one-pass dedup calls partial reuse, dedup.stream.PARTIAL_SHARE): a single line may be
# a stock paragraph or a widely quoted sentence (measured on ECB+ dev through the store: 7 of the 9
# such pairs that straddle two gold events, and BASIL's 2, share less); the text similarity of the two
# articles still counts as for any pair.
FAMILY_SHARE = 0.2
# An undated article could be from any week, so it joins a dated story (and takes its dates) only on
# text evidence this many times the threshold: look-alike events of another year share vocabulary too.
# Undated articles that have formed a story among themselves do not join a dated one at all: they agree
# with each other, and the one thing that tells their event from a look-alike of another year (a date)
# is what they lack. (ECB+ dev pairs every event with such a look-alike; a third of it is undated.)
UNDATED_EVIDENCE = 3.0
K = 6  # neighbours per article
MIN_COSINE = 0.12  # a neighbour must share at least this much weighted vocabulary
PROBE_TERMS = 60  # an article looks for candidates under its 60 heaviest terms...
INDEX_TERMS = 60  # ...among the articles indexed under their 60 heaviest
MAX_CANDIDATES = 40  # candidates scored in full per article, best rough matches first
MAX_POSTINGS = 500  # a term indexed for more articles than this says little about the event
CORE_NAMES = 2  # names a story needs in half its articles before disjoint names keep it apart
# rows weighted or cut at a time (every step past the document frequencies is a row's own): the
# temporaries are a chunk's, ~20 MB, whatever the number of articles
CHUNK_ROWS = 2048
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
    """Term counts of an article (:func:`term_counts` of its headline and text)."""
    return term_counts(a.headline, a.text)


def term_counts(headline: str | None, text: str) -> Counter[str]:
    """Term counts of a headline and text: content-word stems (headline counted twice) and "E:"
    names/numbers.

    A capitalised word is a name unless it opens a sentence of the text; a number of two digits
    or more is a figure.
    """
    terms: list[str] = []
    for part, is_headline in ((headline or "", True), (text, False)):
        found = []
        for k, (brk, tok) in enumerate(_TOKEN.findall(part)):
            t = _term(tok)
            if t is None:
                continue
            found.append(t[0])
            if t[1] and (t[2] or is_headline or (k > 0 and not brk)):
                found.append(t[1])
        terms += found * 2 if is_headline else found
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
    tf: sparse.csr_matrix | None  # the term counts, same shape (None when left out)

    def names(self, rows: Sequence[int]) -> Counter[str]:
        """How often each name (not a figure, not a day or month) occurs in ``rows`` together."""
        out: Counter[str] = Counter()
        for i in rows:
            lo, hi = self.tf.indptr[i], self.tf.indptr[i + 1]
            for t, c in zip(self.tf.indices[lo:hi], self.tf.data[lo:hi], strict=True):
                term = self.terms[t]
                if _is_name(term):
                    out[term[2:]] += int(c)
        return out


def _is_name(term: str) -> bool:
    """Whether a term is a name: an "E:" term that is not a figure, a day or a month."""
    return term[:2] == "E:" and not term[2].isdigit() and term[2:] not in _CALENDAR


def vectors(articles: Sequence[Article], counts: Iterable[Counter[str]] | None = None) -> Vectors:
    """L2-normalised TF-IDF vectors of ``articles``, document frequencies counted over them.

    ``counts`` are the articles' :func:`features` when computed already (e.g. in worker processes);
    they are consumed one by one, so only the arrays are kept.
    """
    rows = TermRows()
    for c in (features(a) for a in articles) if counts is None else counts:
        rows.add(c)
    return rows.vectors()


class TermRows:
    """Term counts of many articles as flat arrays over one vocabulary, filled one article at a time.

    An article's :func:`term_counts` as a Counter costs ~100 bytes a distinct term; here 8 (a term
    number and a count, int32), so a task can count every article's terms as it reads it and drop the text.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.cols = array("i")
        self.counts = array("i")
        self.ptr = array("q", [0])

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def add(self, counts: Counter[str]) -> None:
        """Append one article's term counts (in the Counter's order, which fixes the term numbers)."""
        vocab = self.vocab
        for t, k in counts.items():
            self.cols.append(vocab.setdefault(t, len(vocab)))
            self.counts.append(k)
        self.ptr.append(len(self.cols))

    def arrays(self, order: Sequence[int] | np.ndarray | None = None,
               chunk: int = CHUNK_ROWS) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """(term numbers, counts, row pointers, terms) of the rows in ``order`` (default: as added),
        the terms numbered by their first appearance in that order: what :func:`vectors` builds from
        the articles in that order. Rows are moved ``chunk`` at a time into the new arrays, so
        beside the two copies only a chunk's worth is held."""
        ptr = np.frombuffer(self.ptr, np.int64)
        cols = np.frombuffer(self.cols, np.int32) if len(self.cols) else np.zeros(0, np.int32)
        counts = np.frombuffer(self.counts, np.int32) if len(self.counts) else np.zeros(0, np.int32)
        terms = list(self.vocab)
        if order is None:  # numbered as added: that is their first appearance
            return cols, counts, ptr, terms
        order = np.asarray(order, np.int64)
        lens = np.diff(ptr)[order]
        new_ptr = np.zeros(len(order) + 1, np.int64)
        np.cumsum(lens, out=new_ptr[1:])
        out_cols = np.empty(new_ptr[-1], np.int32)
        out_counts = np.empty(new_ptr[-1], np.int32)
        number = np.full(len(terms), -1, np.int64)
        used, seen = [], 0
        for lo in range(0, len(order), chunk):
            hi = min(len(order), lo + chunk)
            a, b = new_ptr[lo], new_ptr[hi]
            take = np.repeat(ptr[order[lo:hi]] - new_ptr[lo:hi], lens[lo:hi]) + np.arange(a, b)
            c = cols[take]
            out_counts[a:b] = counts[take]
            # the terms first met in this chunk, numbered in the order they are met
            fresh = c[number[c] < 0]
            if len(fresh):
                u, first = np.unique(fresh, return_index=True)
                u = u[np.argsort(first, kind="stable")]
                number[u] = np.arange(seen, seen + len(u))
                seen += len(u)
                used.append(u)
            out_cols[a:b] = number[c]
        order_terms = np.concatenate(used).tolist() if used else []
        return out_cols, out_counts, new_ptr, [terms[t] for t in order_terms]

    def vectors(self, order: Sequence[int] | np.ndarray | None = None) -> Vectors:
        """:func:`vectors` of the rows in ``order``."""
        return tfidf(*self.arrays(order))


def tfidf(cols: np.ndarray, counts: np.ndarray, ptr: np.ndarray, terms: list[str], tf: bool = True,
          chunk: int = CHUNK_ROWS) -> Vectors:
    """L2-normalised TF-IDF rows from term counts in CSR form (term numbers, counts, row pointers);
    ``tf=False`` leaves out the raw counts (``Vectors.tf`` is then None).

    Past the document frequencies, every step is a row's own, so the rows are weighted ``chunk`` at a
    time into arrays of the final size: the temporaries are a chunk's, not the matrix's."""
    n, width = len(ptr) - 1, len(terms)
    df = np.bincount(cols, minlength=width)
    idf = np.log((n + 1) / (df + 0.5))
    del df
    data = np.empty(len(cols), np.float64)
    indices = np.empty(len(cols), np.int32)
    indptr = np.zeros(n + 1, np.int64)
    at = 0
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        a, b = ptr[lo], ptr[hi]
        c, k = cols[a:b], counts[a:b].astype(np.float64)
        part = sparse.csr_matrix(((1 + np.log(k)) * idf[c] if len(c) else k, c, ptr[lo:hi + 1] - a),
                                 shape=(hi - lo, width))
        part.data[part.data < 0] = 0.0  # a term in nearly every article says nothing
        part.eliminate_zeros()
        norms = np.sqrt(np.asarray(part.multiply(part).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        part = sparse.csr_matrix(sparse.diags(1 / norms) @ part)
        part.sort_indices()
        data[at:at + part.nnz], indices[at:at + part.nnz] = part.data, part.indices
        indptr[lo + 1:hi + 1] = at + part.indptr[1:]
        at += part.nnz
    if at < len(data):
        data, indices = data[:at].copy(), indices[:at].copy()
    m = sparse.csr_matrix((data, indices, indptr), shape=(n, width))
    m.sort_indices()
    counts_m = sparse.csr_matrix((counts.astype(np.float64), np.asarray(cols, np.int64), ptr),
                                 shape=(n, width)) if tf else None
    return Vectors(m, terms, counts_m)


def _heaviest(m: sparse.csr_matrix, keep: int, max_df: int, chunk: int = CHUNK_ROWS) -> sparse.csr_matrix:
    """``m`` cut to each row's ``keep`` heaviest terms, leaving out terms in more than ``max_df`` rows
    (rows taken ``chunk`` at a time: each row's choice is its own)."""
    df = np.bincount(m.indices, minlength=m.shape[1])
    parts = []
    for lo in range(0, m.shape[0], chunk):
        hi = min(m.shape[0], lo + chunk)
        a, b = m.indptr[lo], m.indptr[hi]
        rows = np.repeat(np.arange(lo, hi), np.diff(m.indptr[lo:hi + 1]))
        cols, vals = m.indices[a:b], m.data[a:b]
        ok = df[cols] <= max_df
        rows, cols, vals = rows[ok], cols[ok], vals[ok]
        order = np.lexsort((cols, -vals, rows))  # by row, heaviest first, ties by term number
        rows, cols, vals = rows[order], cols[order], vals[order]
        starts = np.searchsorted(rows, rows, side="left")
        top = np.arange(len(rows)) - starts < keep
        parts.append((vals[top], rows[top], cols[top]))
    vals, rows, cols = (np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in range(3))
    return sparse.csr_matrix((vals, (rows.astype(np.int64), cols.astype(np.int64))), shape=m.shape)


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
    """Each article's ``k`` most similar articles open in time to it, as (cosine, index), best first
    (:func:`neighbour_arrays` as lists)."""
    ptr, j, sim = neighbour_arrays(vecs.matrix, _days_array(days), k, window, block)
    j_, sim_ = j.tolist(), sim.tolist()
    return [list(zip(sim_[lo:hi], j_[lo:hi], strict=True)) for lo, hi in zip(ptr[:-1].tolist(), ptr[1:].tolist(),
                                                                          strict=True)]


def neighbour_arrays(m: sparse.csr_matrix, day: np.ndarray, k: int = K, window: int = WINDOW_DAYS,
                     block: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``k`` most similar rows of ``m`` open in time to it (``day``: ordinals, -1 undated),
    best first, as CSR-like arrays: row pointers, neighbour indexes (int32), cosines.

    Candidates come from the product of each article's heaviest terms with everyone's (an
    inverted index, done as a sparse matrix product in blocks), so the cost per article is
    bounded by ``PROBE_TERMS`` x ``MAX_POSTINGS``, whatever the number of articles; the best
    ``MAX_CANDIDATES`` of them are scored in full. Each row's result depends on that row only, so
    ``block`` (rows per product) trades the size of the products for their number.
    """
    n = m.shape[0]
    probe = _heaviest(m, PROBE_TERMS, MAX_POSTINGS)
    probe_t = (probe if INDEX_TERMS == PROBE_TERMS else _heaviest(m, INDEX_TERMS, MAX_POSTINGS)).T.tocsr()
    counts = np.zeros(n, np.int64)
    out_j, out_sim = [], []
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
        del rough
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
            counts[lo + r] = len(order)
            out_j.append(j[order].astype(np.int32))
            out_sim.append(sim[order])
    ptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return (ptr, np.concatenate(out_j) if out_j else np.zeros(0, np.int32),
            np.concatenate(out_sim) if out_sim else np.zeros(0))


def edge_weights(nbrs: Sequence[list[tuple[float, int]]], k: int = K) -> dict[tuple[int, int], float]:
    """Weights of the neighbour graph: the cosine, raised by up to double by the neighbours both ends
    share (:func:`edge_arrays` as a dict keyed by (lower, higher) index)."""
    ptr = np.r_[0, np.cumsum([len(nb) for nb in nbrs])].astype(np.int64)
    j = np.array([x for nb in nbrs for _, x in nb], np.int64)
    sim = np.array([s for nb in nbrs for s, _ in nb], np.float64)
    a, b, w = edge_arrays(ptr, j, sim, k)
    return dict(zip(zip(a.tolist(), b.tolist(), strict=True), w.tolist(), strict=True))


def edge_arrays(ptr: np.ndarray, j: np.ndarray, sim: np.ndarray, k: int = K,
                chunk: int = 1 << 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights of the neighbour graph given as CSR-like lists (row pointers, neighbours, cosines; a
    row lists distinct neighbours, never itself): each edge once as (lower, higher, weight), in the
    order of first mention. The weight is the cosine raised by the share of the ``k + 1`` (the
    neighbours and the article) that both ends hold; when both ends list each other, the later row's
    cosine counts."""
    n = len(ptr) - 1
    lens = np.diff(ptr)
    i = np.repeat(np.arange(n, dtype=np.int64), lens)
    j = np.asarray(j, np.int64)
    # each row's neighbours and itself, padded with a value of its own (-1 - row) that no other row holds
    width = int(lens.max(initial=0)) + 1
    held = np.repeat(-1 - np.arange(n, dtype=np.int64)[:, None], width, axis=1)
    held[:, 0] = np.arange(n)
    held[i, 1 + np.arange(len(j)) - ptr[i]] = j
    shared = np.zeros(len(j), np.int64)
    for lo in range(0, len(j), chunk):
        hi = min(len(j), lo + chunk)
        hi_i, hi_j = held[i[lo:hi]], held[j[lo:hi]]
        shared[lo:hi] = (hi_i[:, :, None] == hi_j[:, None, :]).sum(axis=(1, 2))
    del held
    w = np.asarray(sim, np.float64) * (1 + shared / (k + 1))
    lo_, hi_ = np.minimum(i, j), np.maximum(i, j)
    key = lo_ * max(n, int(j.max(initial=0)) + 1) + hi_
    _u, first = np.unique(key, return_index=True)
    _u, last_rev = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last_rev
    order = np.argsort(first, kind="stable")
    pick = first[order]
    return lo_[pick], hi_[pick], w[last[order]]


def average_link(n: int, edges: dict[tuple[int, int], float] | tuple[np.ndarray, np.ndarray, np.ndarray],
                 days: Sequence[date | None], groups: Sequence[Sequence[int]] = (),
                 names: Sequence[Iterable[Hashable]] | None = None,
                 threshold: float = THRESHOLD, window: int = WINDOW_DAYS, span: int = STORY_DAYS) -> list[int]:
    """Cluster label (a member index) of each of ``n`` items, by average link over the sparse ``edges``
    (a dict keyed by index pairs, or :func:`edge_arrays`' arrays).

    ``groups`` are merged first, whatever their weights and dates (reuse families). Two clusters merge
    when the sum of their edge weights over the product of their sizes reaches ``threshold``
    (``UNDATED_EVIDENCE`` times it when one is dated and the other not, and never when the undated one
    already merged undated clusters on their text), their dated reports together leave no pause longer
    than ``window`` days and span at most ``span`` days, and (given the distinct ``names`` of each item:
    strings or any other keys) they do not each have ``CORE_NAMES`` names in half their members with
    none in common: the same kind of event with other actors and places is another story.
    """
    parent = list(range(n))
    # the name counts of a cluster, made at its first merge: an item alone holds each of its names once
    held: list[Counter[Hashable] | None] = [None] * n

    def core(i: int) -> set[Hashable]:
        h = held[i]
        return set(names[i]) if h is None else {t for t, c in h.items() if 2 * c >= size[i]}

    def other_actors(i: int, j: int) -> bool:
        if names is None:
            return False
        a, b = core(i), core(j)
        return len(a) >= CORE_NAMES and len(b) >= CORE_NAMES and not a & b

    size = [1] * n
    span_of: list[tuple[date | None, date | None]] = [(d, d) for d in days]
    # an undated cluster that holds two undated clusters joined by text (not a reuse family): a story of its own
    undated_story = [False] * n
    adj: list[dict[int, float]] = [{} for _ in range(n)]
    pairs = (((i, j), w) for (i, j), w in edges.items()) if isinstance(edges, dict) else \
        zip(zip(edges[0].tolist(), edges[1].tolist(), strict=True), edges[2].tolist(), strict=True)
    for (i, j), w in pairs:
        adj[i][j] = adj[i].get(j, 0.0) + w
        adj[j][i] = adj[j].get(i, 0.0) + w

    def joined(i: int, j: int) -> tuple[date | None, date | None]:
        firsts = [d for d in (span_of[i][0], span_of[j][0]) if d]
        lasts = [d for d in (span_of[i][1], span_of[j][1]) if d]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)

    def in_time(i: int, j: int) -> bool:
        # a cluster merged by this rule has no pause over `window` inside it, so the union has none unless
        # their dated spans lie apart by more than that (a reuse family, merged first whatever its dates,
        # may hold one already: a merge into it keeps that pause and adds none)
        (fi, li), (fj, lj) = span_of[i], span_of[j]
        if fi is None or fj is None:
            return True
        return (max(li, lj) - min(fi, fj)).days <= span and (max(fi, fj) - min(li, lj)).days <= window

    def merge(i: int, j: int) -> None:  # j into i
        parent[j] = i
        span_of[i] = joined(i, j)
        size[i] += size[j]
        if names is not None:
            h = held[i] if held[i] is not None else Counter(names[i])
            h.update(held[j] if held[j] is not None else names[j])
            held[i], held[j] = h, None  # j is never a root again
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
        undated_i, undated_j = span_of[i][0] is None, span_of[j][0] is None
        if undated_i != undated_j and (avg < threshold * UNDATED_EVIDENCE
                                       or undated_story[i if undated_i else j]):
            continue
        if not in_time(i, j) or other_actors(i, j):
            continue
        merge(i, j)
        undated_story[i] = undated_i and undated_j
        for x, w in adj[i].items():
            heapq.heappush(heap, (-w / (size[i] * size[x]), min(i, x), max(i, x)))
    return [root(i) for i in range(n)]


def binds(r: Relation) -> bool:
    """Whether a reuse relation puts its two articles in one story, whatever their text similarity."""
    return r.kind != "same_story" and (r.kind != "shares_passages" or r.score >= FAMILY_SHARE)


def publication_order(articles: Sequence[Article]) -> list[Article]:
    """Articles by publication date; an undated one stays after the dated one before it."""
    return [articles[i] for i in publication_index([a.date for a in articles])]


def publication_index(dates: Iterable[str | None]) -> list[int]:
    """The positions of articles with these ``dates`` in :func:`publication_order`."""
    keys, last = [], ""
    for i, d in enumerate(dates):
        if d:
            last = d
        keys.append((last, i))
    return [i for _, i in sorted(keys)]


def cluster(articles: Sequence[Article], relations: Sequence[Relation] = (), window: int = WINDOW_DAYS,
            span: int = STORY_DAYS) -> list[Story]:
    """Stories over ``articles``; a reuse relation puts the derived one in its origin's story. A story's
    reports pause for at most ``window`` days (neighbours are sought that far too) and span at most
    ``span`` days."""
    ordered = publication_order(articles)
    vecs = vectors(ordered)
    days = [_day(a.date) for a in ordered]
    groups, stories = link(ordered, vecs, edge_weights(neighbours(vecs, days, window=window)), days, relations,
                           window, span)
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
         days: Sequence[date | None], relations: Sequence[Relation],
         window: int = WINDOW_DAYS, span: int = STORY_DAYS) -> tuple[list[list[int]], list[Story]]:
    """Average link over the neighbour graph of ``ordered`` (reuse families first): the groups, as
    sorted lists of indexes, and the story summarising each."""
    index = {a.id: i for i, a in enumerate(ordered)}
    families = [[index[r.origin], index[r.derived]] for r in relations
                if binds(r) and r.origin in index and r.derived in index]
    names = [set(vecs.names([i])) for i in range(len(ordered))]
    groups = groups_of(average_link(len(ordered), edges, days, families, names, window=window, span=span))
    derived_ids = {r.derived for r in relations}
    origin_ids = {r.origin for r in relations}
    stories = []
    for idx in groups:
        group = [ordered[i] for i in idx]
        stories.append(_summary(group, relations_within(group, relations, derived_ids, origin_ids), vecs.names(idx)))
    return groups, stories


def groups_of(labels: Sequence[int]) -> list[list[int]]:
    """The items of each label, as sorted lists of indexes, the lists sorted."""
    members: dict[int, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        members[lab].append(i)
    return sorted(members.values())


def story_groups(m: sparse.csr_matrix, names: Sequence[Iterable[Hashable]], days: Sequence[date | None],
                 families: Sequence[Sequence[int]]) -> list[list[int]]:
    """:func:`cluster`'s groups (what :func:`link` returns first), from the TF-IDF rows ``m`` of the
    articles in publication order, their distinct ``names`` (any keys, e.g. term numbers), days and reuse
    families, with no summaries: for a task that needs only who is with whom. The neighbour lists and
    edges stay NumPy arrays (~30 bytes an edge, where lists of tuples and a dict keyed by tuples hold
    ~300), the candidate products are made for 128 rows at a time (at most 128 x PROBE_TERMS x
    MAX_POSTINGS candidates, ~90 MB with the product's own copy; each product also clears arrays as
    long as the window, ~8 ms at 4 million articles, so much smaller blocks would be slow there), and
    ``m`` is let go (this function
    holds the last reference when called as ``story_groups(tfidf(...).matrix, ...)``) before the
    average link builds its own structures."""
    n = m.shape[0]
    nbrs = neighbour_arrays(m, _days_array(days), block=128)
    del m
    edges = edge_arrays(*nbrs)
    del nbrs
    return groups_of(average_link(n, edges, days, families, names))


class NameRows:
    """The distinct names (as term numbers) of each row of term counts in CSR form, the ones
    :meth:`Vectors.names` counts: row ``i`` is a list of ints."""

    def __init__(self, cols: np.ndarray, ptr: np.ndarray, terms: Sequence[str]) -> None:
        is_name = np.fromiter((_is_name(t) for t in terms), bool, len(terms))
        keep = is_name[cols] if len(cols) else np.zeros(0, bool)
        self.flat = cols[keep].astype(np.int32)
        self.ptr = np.r_[0, np.cumsum(keep, dtype=np.int64)][ptr]  # names before each row's start

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def __getitem__(self, i: int) -> list[int]:
        return self.flat[self.ptr[i]:self.ptr[i + 1]].tolist()


def story_id(first_member: str) -> str:
    """The id of a story, from the id of its first member in publication order."""
    return "s" + hashlib.blake2b(first_member.encode(), digest_size=5).hexdigest()


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
    sid = story_id(members[0].id)
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

"""Incremental clustering: new articles join the stored stories without clustering everything again.

The state is in the store (migration 7): each clustered article's term counts, the document
frequencies of every term, the postings of each article's ``INDEX_TERMS`` heaviest terms (only for
terms in at most ``MAX_POSTINGS`` articles), and every article's neighbour list.

A new article (in publication order) is weighed with the stored document frequencies, probes the
postings of its ``PROBE_TERMS`` heaviest terms (each bounded by ``MAX_POSTINGS``), scores its best
``MAX_CANDIDATES`` candidates in full, keeps its ``K`` nearest as its neighbour list, and enters the
list of every candidate it is nearer to than that candidate's current last neighbour. So the cost of
one article is bounded by ``PROBE_TERMS x MAX_POSTINGS`` postings and ``MAX_CANDIDATES`` vectors,
whatever the size of the store.

Then only the stories reached by a changed edge are linked again: the stories of the new articles'
neighbours, of every article whose neighbour list changed, of the articles that list those, and of
their reuse partners. Their members (plus the new articles) go through :func:`cluster.average_link`
with the same rules as a full run (edge weights from :func:`cluster.edge_weights`, the time rule,
core-name blocking, reuse families first). A story whose members come out unchanged keeps its id.

A full run (:func:`full_state` then :func:`Clusterer.relink` over everything) gives the same stories
as :func:`cluster.cluster`. How a stream differs from a full run is in docs/ARCHITECTURE.md
("Incremental analysis") and measured in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy import sparse

from . import cluster
from .cluster import (
    INDEX_TERMS,
    MAX_CANDIDATES,
    MAX_NAME_STORIES,
    MAX_POSTINGS,
    MIN_COSINE,
    PROBE_TERMS,
    WINDOW_DAYS,
    K,
)
from .model import Article, Relation, Story
from .store import STORY_NAMES, Store


def _pack(values: Iterable[int] | np.ndarray) -> bytes:
    return np.asarray(values, dtype=np.int32).tobytes()


def _unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.int32)


@dataclass
class Doc:
    """One clustered article: its term counts by vocabulary id (ascending), and when it was published."""

    seq: int
    id: str
    okey: str  # publication-order key: its date, or the date of the last dated article stored before it
    day: int | None  # date ordinal
    terms: np.ndarray
    counts: np.ndarray

    def row(self) -> tuple[int, str, str, int | None, bytes, bytes]:
        return self.seq, self.id, self.okey, self.day, _pack(self.terms), _pack(self.counts)


def weigh(counts: np.ndarray, df: np.ndarray, n: int) -> np.ndarray:
    """L2-normalised TF-IDF weights of one article: :func:`cluster.vectors`' formula, with document
    frequencies ``df`` over ``n`` articles given instead of counted over a batch."""
    w = (1 + np.log(counts)) * np.log((n + 1) / (df + 0.5))
    w[w < 0] = 0.0  # a term in nearly every article says nothing
    norm = float(np.sqrt(np.dot(w, w))) or 1.0
    return w / norm


def _top(ids: np.ndarray, w: np.ndarray, df: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``keep`` heaviest terms in at most ``MAX_POSTINGS`` articles (ties by term id)."""
    ok = (df <= MAX_POSTINGS) & (w > 0)
    ids, w = ids[ok], w[ok]
    order = np.lexsort((ids, -w))[:keep]
    return ids[order], w[order]


def ready(store: Store) -> bool:
    """Whether the store holds a clustering state that new articles can be added to."""
    return store.get_state("cluster_seq", "") != ""


class Clusterer:
    """The clustering state of one analysis, read from and written to the store through ``c``.

    Reads are cached for the run; :meth:`add` and :meth:`remove` write the state as they go, so a run
    happens inside one transaction.
    """

    def __init__(self, store: Store, c: sqlite3.Connection) -> None:
        self.store, self.c = store, c
        self.n = int(store.get_state("cluster_docs", "0") or 0)
        # document frequencies by vocabulary id, read from the store as they are needed
        self.df = np.zeros(1 << 16, dtype=np.int64)
        self.known = np.zeros(1 << 16, dtype=bool)
        self.docs: dict[int, Doc] = {}
        self.terms: dict[int, str] = {}
        self.lists: dict[int, list[tuple[float, int]]] = {}
        self.changed: set[int] = set()  # articles whose neighbour list changed
        self.reached: set[int] = set()  # articles at the other end of a changed edge

    # ------------------------------------------------------------------ cached reads
    def _dfs(self, ids: np.ndarray) -> np.ndarray:
        top = int(ids.max()) + 1 if len(ids) else 0
        if top > len(self.df):
            size = max(top, 2 * len(self.df))
            self.df = np.concatenate([self.df, np.zeros(size - len(self.df), dtype=np.int64)])
            self.known = np.concatenate([self.known, np.zeros(size - len(self.known), dtype=bool)])
        missing = np.unique(ids[~self.known[ids]])
        if len(missing):
            got = self.store.vocab_df(self.c, missing.tolist())
            self.df[list(got)] = list(got.values())
            self.known[missing] = True
        return self.df[ids].astype(np.float64)



    def load(self, seqs: Iterable[int]) -> dict[int, Doc]:
        """The docs of ``seqs`` (those clustered)."""
        missing = [s for s in seqs if s not in self.docs]
        for seq, aid, okey, day, terms, counts in self.store.cluster_rows(self.c, missing):
            self.docs[seq] = Doc(seq, aid, okey, day, _unpack(terms), _unpack(counts))
        return {s: self.docs[s] for s in seqs if s in self.docs}

    def neighbour_lists(self, seqs: Iterable[int]) -> dict[int, list[tuple[float, int]]]:
        missing = [s for s in seqs if s not in self.lists]
        if missing:
            self.lists.update(self.store.neighbour_lists(self.c, missing))
        return {s: self.lists[s] for s in seqs}

    def vector(self, doc: Doc) -> np.ndarray:
        return weigh(doc.counts.astype(np.float64), self._dfs(doc.terms), self.n)

    # ------------------------------------------------------------------ adding and removing articles
    def remove(self, seq: int) -> None:
        """Forget a clustered article's terms, postings and edges (its text changed: it is added again)."""
        doc = self.load([seq]).get(seq)
        if doc is None:
            return
        self._dfs(doc.terms)
        self.df[doc.terms] -= 1
        self.store.add_df(self.c, doc.terms, -1)
        self.n -= 1
        own = self.neighbour_lists([seq])[seq]
        self.reached.update(n for _, n in own)
        holders = self.store.listed_by(self.c, [seq])
        for h, lst in self.neighbour_lists(holders).items():
            self.lists[h] = [(sim, n) for sim, n in lst if n != seq]
            self.changed.add(h)
        self.store.forget_clustered(self.c, seq)
        self.lists[seq] = []
        del self.docs[seq]

    def add(self, seq: int, article: Article, okey: str) -> None:
        """Cluster one new article: its terms, postings and neighbours, and the lists it enters."""
        counts = cluster.features(article)
        voc = self.store.vocab(self.c, list(counts))  # ids in order of first use, as cluster.vectors numbers terms
        pairs = sorted((voc[t][0], counts[t]) for t in counts)
        ids = np.array([p[0] for p in pairs], dtype=np.int32)
        cnt = np.array([p[1] for p in pairs], dtype=np.int32)
        for t in counts:
            self.terms[voc[t][0]] = t
        self._dfs(ids)  # (new terms are stored with frequency 0 by now)
        self.df[ids] += 1
        self.store.add_df(self.c, ids, 1)
        self.n += 1
        day = cluster._day(article.date)
        doc = Doc(seq, article.id, okey, day.toordinal() if day else None, ids, cnt)
        self.docs[seq] = doc
        self.store.put_cluster_rows(self.c, [doc.row()])
        w = self.vector(doc)
        df = self._dfs(ids)

        probe_ids, probe_w = _top(ids, w, df, PROBE_TERMS)
        cands: list[int] = []
        rows = self.store.postings(self.c, probe_ids.tolist())
        if rows:  # up to PROBE_TERMS x MAX_POSTINGS rows: summed by candidate in numpy
            t, other, pw, d = np.array(rows, dtype=np.float64).T
            keep = other != seq
            if doc.day is not None:
                keep &= (d < 0) | (np.abs(d - doc.day) <= WINDOW_DAYS)
            by_term = np.argsort(probe_ids)
            score = probe_w[by_term][np.searchsorted(probe_ids[by_term], t[keep])] * pw[keep]
            uniq, inv = np.unique(other[keep].astype(np.int64), return_inverse=True)
            rough = np.bincount(inv, weights=score, minlength=len(uniq))
            cands = uniq[np.lexsort((uniq, -rough))[:MAX_CANDIDATES]].tolist()
        scored = []
        for other, od in self.load(cands).items():
            _, i, j = np.intersect1d(ids, od.terms, assume_unique=True, return_indices=True)
            sim = float(np.dot(w[i], self.vector(od)[j])) if len(i) else 0.0
            if sim >= MIN_COSINE:
                scored.append((sim, other))
        scored.sort(key=lambda x: (-x[0], x[1]))
        self.lists[seq] = scored[:K]
        self.changed.add(seq)
        # the other end: a candidate takes the new article when it is nearer than its last neighbour
        for sim, other in scored:
            lst = self.neighbour_lists([other])[other]
            if len(lst) >= K and (sim, -seq) <= (lst[-1][0], -lst[-1][1]):
                continue
            lst = sorted([*lst, (sim, seq)], key=lambda x: (-x[0], x[1]))
            if len(lst) > K:
                self.reached.add(lst.pop()[1])  # the edge to the one pushed out is gone
            self.lists[other] = lst
            self.changed.add(other)
        index_ids, index_w = _top(ids, w, df, INDEX_TERMS)
        self.store.put_postings(self.c, [(int(t), seq, float(x), doc.day)
                                         for t, x in zip(index_ids, index_w, strict=True)])

    def flush(self) -> None:
        """Write the changed neighbour lists and the document count."""
        self.store.put_neighbours(self.c, {s: self.lists[s] for s in self.changed})
        self.store.set_state(self.c, "cluster_docs", str(self.n))

    def affected(self) -> set[int]:
        """Every article at an end of a changed edge: the changed lists, their members (old and new),
        and the articles that list a changed one (their edge weights count shared neighbours)."""
        out = set(self.changed) | self.reached
        for lst in self.neighbour_lists(self.changed).values():
            out.update(n for _, n in lst)
        out |= self.store.listed_by(self.c, sorted(self.changed))
        return out

    # ------------------------------------------------------------------ linking stories
    def refresh(self, seqs: Sequence[int]) -> None:
        """Score the neighbour lists of ``seqs`` again with the current document frequencies: a list keeps
        its members (less those now under ``MIN_COSINE``), their similarities follow the corpus as it grows."""
        lists = self.neighbour_lists(seqs)
        docs = self.load({n for lst in lists.values() for _, n in lst} | set(seqs))
        vec: dict[int, np.ndarray] = {}

        def v(s: int) -> np.ndarray:
            if s not in vec:
                vec[s] = self.vector(docs[s])
            return vec[s]

        for s, lst in lists.items():
            if not lst:
                continue
            new = []
            for _, n in lst:
                _, i, j = np.intersect1d(docs[s].terms, docs[n].terms, assume_unique=True, return_indices=True)
                new.append((float(np.dot(v(s)[i], v(n)[j])), n))
            new = sorted((x for x in new if x[0] >= MIN_COSINE), key=lambda x: (-x[0], x[1]))
            if new != lst:
                self.lists[s] = new
                self.changed.add(s)

    def relink(self, seqs: Iterable[int], articles: dict[str, Article], relations: Sequence[Relation],
               refresh: bool = False) -> tuple[list[Story], sparse.csr_matrix]:
        """Stories over the articles ``seqs`` by average link over their stored neighbour graph, and
        each story's centroid (the sum of its members' TF-IDF rows), in story order.

        This is :func:`cluster.cluster` over a stored graph: publication order, the same edge weights
        (shared neighbours outside ``seqs`` count too), reuse families, names and rules.
        """
        docs = self.load(seqs)
        order = sorted(docs.values(), key=lambda d: (d.okey, d.seq))
        if refresh:
            self.refresh([d.seq for d in order])
        index = {d.seq: i for i, d in enumerate(order)}
        extra: dict[int, int] = {}  # neighbours outside: their own index, so shared neighbours count
        nbrs = []
        for lst in self.neighbour_lists([d.seq for d in order]).values():
            nbrs.append([(sim, index[x] if x in index else extra.setdefault(x, len(order) + len(extra)))
                         for sim, x in lst])
        nbrs += [[] for _ in extra]
        n = len(order)
        edges = {k: w for k, w in cluster.edge_weights(nbrs).items() if k[1] < n}
        days = [date.fromordinal(d.day) if d.day is not None else None for d in order]
        ordered = [articles[d.id] for d in order]
        missing = sorted({int(t) for d in order for t in d.terms} - self.terms.keys())
        self.terms.update(self.store.vocab_terms(self.c, missing))
        vecs = cluster.vectors(ordered, (Counter({self.terms[int(t)]: int(c) for t, c in
                                                  zip(d.terms, d.counts, strict=True)}) for d in order))
        groups, stories = cluster.link(ordered, vecs, edges, days, relations)
        return stories, self.centroids([[order[i] for i in idx] for idx in groups])

    def centroids(self, groups: Sequence[Sequence[Doc]]) -> sparse.csr_matrix:
        """One row per group: the sum of its members' TF-IDF rows (stored frequencies)."""
        rows, cols, vals = [], [], []
        for k, group in enumerate(groups):
            for d in group:
                rows.append(np.full(len(d.terms), k))
                cols.append(d.terms)
                vals.append(self.vector(d))
        width = len(self.df)
        if not rows:
            return sparse.csr_matrix((len(groups), width))
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                 shape=(len(groups), width))

    # ------------------------------------------------------------------ storylines
    def link_storylines(self, stories: list[Story], centroids: sparse.csr_matrix, replaced: set[str]
                        ) -> tuple[dict[str, str], dict[str, str]]:
        """Storylines for ``stories`` (just linked again): :func:`cluster.link_storylines` over them and
        the stored stories sharing key names with them, joined with the peers' stored storylines.

        Sets ``storyline`` on ``stories``; returns the relabelling of stored ones as (old storyline ->
        new, story id -> new). Stored storylines only grow here: a link that a changed story no longer
        gives does not split one (a full run redoes them all).
        """
        close: set[str] = set()
        postings: dict[str, list[str]] = {}
        for s in stories:
            shared: Counter[str] = Counter()
            for name in s.key_names[:STORY_NAMES]:
                if name not in postings:
                    postings[name] = self.store.stories_naming(name, MAX_NAME_STORIES) or []
                shared.update(other for other in postings[name] if other not in replaced)
            close.update(sid for sid, k in shared.items() if k >= cluster.STORYLINE_SHARED_NAMES)
        peers = self.store.stories_by_id(close)
        seqs = self.store.seqs_of(self.c, [a for p in peers for a in p.articles])
        docs = self.load(seqs.values())
        peer_rows = self.centroids([[docs[seqs[a]] for a in p.articles if a in seqs] for p in peers])
        old_line = {p.id: p.storyline for p in peers}
        width = max(centroids.shape[1], peer_rows.shape[1])
        group = [*stories, *peers]
        for s in group:
            s.storyline = None  # this run's links first; the stored storylines are joined after
        cluster.link_storylines(group, sparse.vstack([_widen(centroids, width), _widen(peer_rows, width)]).tocsr())

        # a node is a stored storyline or a story outside one; this run's links join nodes
        def node(s: Story) -> str:
            line = old_line.get(s.id)
            return "l:" + line if line else "s:" + s.id

        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        linked: dict[str, Story] = {}
        for s in group:
            if s.storyline:
                first = linked.setdefault(s.storyline, s)
                parent[find(node(s))] = find(node(first))
        comps: dict[str, list[Story]] = defaultdict(list)
        for s in group:
            comps[find(node(s))].append(s)
        lines: dict[str, str] = {}
        moved: dict[str, str] = {}
        for members in comps.values():
            stored = sorted({node(s)[2:] for s in members if node(s).startswith("l:")})
            if len(members) < 2 and not stored:
                members[0].storyline = None
                continue
            heads = [h for h in (self.store.storyline_head(x) for x in stored) if h]
            heads += [(s.first or "", s.id) for s in members if not old_line.get(s.id)]
            line = "l" + min(heads)[1][1:]
            for s in members:
                s.storyline = line
                if s.id in old_line and not old_line[s.id]:
                    moved[s.id] = line
            lines.update((x, line) for x in stored if x != line)
        return lines, moved


def _widen(m: sparse.csr_matrix, width: int) -> sparse.csr_matrix:
    m = m.tocsr()
    return sparse.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], width))


def order_keys(rows: Iterable[tuple[int, str | None]], last: str = "") -> dict[int, str]:
    """Publication-order key of each (seq, date), in seq order: its date, else the last date before it
    (as :func:`cluster.publication_order` orders articles)."""
    out = {}
    for seq, d in rows:
        if d:
            last = d
        out[seq] = last
    return out


def full_state(clusterer: Clusterer, ordered: Sequence[Article], seq_of: dict[str, int], okeys: dict[int, str]
               ) -> list[tuple[str, Iterable[tuple]]]:
    """The clustering state of ``ordered`` (publication order) from scratch, cached in ``clusterer``;
    returns the rows to write (table, rows)."""
    vecs = cluster.vectors(ordered)
    days = [cluster._day(a.date) for a in ordered]
    nbrs = cluster.neighbours(vecs, days)
    n = len(ordered)
    tf = vecs.tf
    df = np.bincount(tf.indices, minlength=len(vecs.terms)) if n else np.zeros(0, dtype=np.int64)
    c = clusterer
    c.n = n
    c.df = np.concatenate([[0], df]).astype(np.int64)  # vocabulary ids count from 1
    c.known = np.ones(len(c.df), dtype=bool)
    c.terms = {i + 1: t for i, t in enumerate(vecs.terms)}
    seqs = [seq_of[a.id] for a in ordered]
    for i, a in enumerate(ordered):
        lo, hi = tf.indptr[i], tf.indptr[i + 1]
        cols = tf.indices[lo:hi]
        order = np.argsort(cols)
        d = days[i]
        doc = Doc(seqs[i], a.id, okeys[seqs[i]], d.toordinal() if d else None, (cols[order] + 1).astype(np.int32),
                  tf.data[lo:hi][order].astype(np.int32))
        c.docs[doc.seq] = doc
    c.lists = {seqs[i]: [(sim, seqs[j]) for sim, j in nb] for i, nb in enumerate(nbrs)}
    top = cluster._heaviest(vecs.matrix, INDEX_TERMS, MAX_POSTINGS).tocoo()
    seq_arr = np.asarray(seqs, dtype=np.int64)
    day_arr = [c.docs[s].day for s in seqs]
    key = np.lexsort((seq_arr[top.row], top.col))  # the primary key's order: far faster to insert

    # rows are made as they are written: at 100,000 articles the postings alone are millions of rows
    return [("vocab", ((i + 1, t, int(df[i])) for i, t in enumerate(vecs.terms))),
            ("articles", (c.docs[s].row() for s in sorted(c.docs))),
            ("postings", ((int(top.col[k]) + 1, int(seq_arr[top.row[k]]), float(top.data[k]), day_arr[top.row[k]])
                          for k in key)),
            ("nbrs", ((s, x, sim) for s in sorted(c.lists) for sim, x in sorted(c.lists[s], key=lambda e: e[1])))]


def write_full_state(store: Store, c: sqlite3.Connection, rows: list[tuple[str, Iterable[tuple]]], n: int,
                     last_seq: int) -> None:
    """Replace the stored clustering state by ``rows`` (from :func:`full_state`)."""
    store.clear_cluster_state(c)
    sql = {"vocab": "INSERT INTO cluster_vocab VALUES (?,?,?)", "articles": "INSERT INTO cluster_articles VALUES "
           "(?,?,?,?,?,?)", "postings": "INSERT INTO cluster_postings VALUES (?,?,?,?)",
           "nbrs": "INSERT INTO cluster_nbrs VALUES (?,?,?)"}
    for table, data in rows:
        c.executemany(sql[table], data)
    store.set_state(c, "cluster_docs", str(n))
    store.set_state(c, "cluster_seq", str(last_seq))

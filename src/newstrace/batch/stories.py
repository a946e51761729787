"""Stories over overlapping time windows: the clustering stage cut by time, then stitched.

:func:`newstrace.cluster.cluster` bounds a story's dated span to ``STORY_DAYS`` (D = 14 days; its
reports also pause for at most ``WINDOW_DAYS``, and an article's neighbours lie that close in time). So
the time line is cut into windows that start every S = ``STEP_DAYS`` days (7) and run for
``(1 + B) * S`` days, B = ``ceil(D / S)`` (2: windows of 21 days; window ``w`` holds the days
``[w*S, (w + 1 + B) * S)``, days counted from year 1, so the windows do not depend on the input), and
each window is clustered on its own, in parallel. An article of day ``d`` falls in ``1 + B`` windows:
``d // S``, in whose *head* (its first S days) it lies, and the B before.

1. **window** (per window): :func:`cluster`'s stories over the window's articles and the relations
   between them, computed lean (:func:`window_job`: terms counted as the rows are read, the text dropped,
   NumPy arrays, no summaries; the same stories as :func:`window_stories`, which runs :func:`cluster`).
   The window keeps only the stories it *owns*: those whose earliest article falls in its head. Such a
   story spans at most D dated days, so it ends inside the window: the window saw every article that
   could belong to it. A story that starts later is left to a later window, which sees it whole.
2. **stitch** (once, on article ranks only): every article is in an owned story of the window whose
   head it falls in (that story starts there), and may also be in one of the windows before (a story
   that started there and runs on). The earliest window's claim wins: its story began first, and the
   later windows saw only the tail of it. Then each reuse family (articles connected by relations)
   goes whole into the story of its earliest article, as :func:`cluster` merges families before anything
   else (a copy published weeks after its origin lies in no common window).
3. **summaries** (per window): each final story is summarised (headline, span, outlets, key names) by
   the window that owns it, with its TF-IDF centroid (its ``CENTROID_TERMS`` heaviest terms).
4. **storylines** (on summaries only): :func:`newstrace.cluster.link_storylines`'s links, found by a
   name-keyed shuffle and per-window tasks, their components once on integers (:mod:`.storylines`).

**Undated articles.** An article without a date takes the date of the dated article before it in the
global order (``order_date``: in a crawl file in date order, the place of an article says when it
was read), only to choose its windows; inside them it stays undated, so it may join any story there, as
:func:`cluster` lets it. Articles with no dated article before them (undated input, like a folder of text
files) form one more partition, ``undated``, clustered together as one window that owns all its stories:
on wholly undated input this is exactly the single pass.

What differs from the single pass over everything: document frequencies are counted per window (a
term's weight is its rarity in those three weeks), an article near a window's edge misses its neighbours
beyond the edge, and undated articles join only stories of their own windows. docs/SCALING.md measures
how far the two results are apart.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from ..cluster import (
    FAMILY_SHARE,
    STORY_DAYS,
    WINDOW_DAYS,
    NameRows,
    TermRows,
    binds,
    cluster,
    link_storylines,
    publication_order,
    relations_within,
    term_counts,
    tfidf,
    vectors,
)
from ..model import Article, Relation, Story
from ..summary import key_entities

#: S: windows start every S days and run for (1 + BACK_WINDOWS) S, at least S + STORY_DAYS. A smaller
#: step means smaller windows (less memory per task) but more windows per article (more work in all)
STEP_DAYS = WINDOW_DAYS
#: B: the windows before an article's own that also hold it, ceil(STORY_DAYS / S)
BACK_WINDOWS = -(-STORY_DAYS // STEP_DAYS)
#: the key of the partition of articles with no date before them
UNDATED = -1
#: terms of a story's centroid kept for the storylines (the heaviest): the centroids of every story are
#: held by one task, so each is cut to this size
CENTROID_TERMS = 64


def partition_day(order_date: str | None) -> int | None:
    """The day (proleptic ordinal) an article is partitioned by, from its date or the carried one."""
    if not order_date:
        return None
    try:
        return date.fromisoformat(order_date[:10]).toordinal()
    except ValueError:
        return None


def windows_of(day: int | None) -> tuple[int, ...]:
    """The windows holding an article of ``day``, earliest first: the ``BACK_WINDOWS`` before its own,
    then its own (in whose head it lies)."""
    if day is None:
        return (UNDATED,)
    w = day // STEP_DAYS
    return tuple(range(w - BACK_WINDOWS, w + 1))


def window_name(w: int) -> str:
    """The part name of window ``w`` (sorts in time order; ``undated`` after every window)."""
    return "undated" if w == UNDATED else f"w{w:07d}"


def carried_days(ordered: Sequence[Article]) -> list[int | None]:
    """The partition day of each article of ``ordered`` (publication order): its own date, or the
    last date before it."""
    out, last = [], None
    for a in ordered:
        d = partition_day(a.date)
        last = d if d is not None else last
        out.append(last)
    return out


def owns(window: int, days: Sequence[int | None]) -> bool:
    """Whether ``window`` owns a story whose members have these partition ``days``: it starts in the
    window's head, its first S days (the undated partition, whose days are None, owns all its stories)."""
    return window == UNDATED or min(days) // STEP_DAYS == window


def window_stories(articles: Sequence[Article], ranks: Sequence[int], days: Sequence[int | None],
                   relations: Sequence[Relation], window: int) -> list[list[int]]:
    """The stories ``window`` owns, as sorted lists of global ranks, by :func:`cluster` itself (the
    reference form of :func:`window_job`, in memory).

    ``articles`` are the window's articles in the global order, with their ``ranks`` and partition
    ``days``; ``relations`` those between two of them."""
    rank_of = {a.id: r for a, r in zip(articles, ranks, strict=True)}
    day_of = dict(zip(ranks, days, strict=True))
    owned = []
    for s in cluster(articles, relations):
        members = sorted(rank_of[x] for x in s.articles)
        if owns(window, [day_of[r] for r in members]):
            owned.append(members)
    return owned


def family_heads(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The articles (ranks, sorted) joined by the edges ``a``-``b``, and the head of each one's connected
    family: its earliest (least rank) member.

    Labels on the edges' ends only (4 B each), joined by hooking and pointer jumping in NumPy: each
    round hooks the root of an edge's larger label to the smaller, then points every end straight at its
    root; a root is the least end of its tree, so at the end each family's label is its least end."""
    ends = np.concatenate([a, b])
    ends.sort()
    nodes = ends[np.r_[True, ends[1:] != ends[:-1]]] if len(ends) else ends
    del ends
    dt = np.int32 if len(nodes) < 2**31 else np.int64
    u, v = np.searchsorted(nodes, a).astype(dt), np.searchsorted(nodes, b).astype(dt)
    lab = np.arange(len(nodes), dtype=dt)
    while True:
        pu, pv = lab[u], lab[v]
        if np.array_equal(pu, pv):
            break
        # a label only ever falls, and to another end's: each round merges, so it ends
        np.minimum.at(lab, pu, pv)
        np.minimum.at(lab, pv, pu)
        while not np.array_equal(jumped := lab[lab], lab):
            lab = jumped
    return nodes, nodes[lab]


def story_codes(n: int, claims: Iterable[tuple[int, Sequence[int], Sequence[int]]], first_code: dict[int, int],
                stories: int, families: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The final story of each of ``n`` articles (by rank) as one code: ``first_code[w] + k`` for story
    ``k`` of window ``w``, the windows' stories numbered one window after another in window order.

    ``claims``: each window's owned stories as (window, members, sizes), the form story_windows writes
    (the stories' ranks one story after another, and each story's size), taken one window at a time;
    ``stories``: how many in all (:func:`first_codes`). An article claimed by several windows stays with
    the earliest: with the codes in window order that is the least code (then the lesser story number,
    had a window claimed an article twice). Then each article of a reuse family moves to the story of
    its family's earliest member: ``families`` is (articles, their heads), from :func:`family_heads`.
    What is held is one int32 code per article."""
    nodes, heads = families
    dt = np.int32 if stories < np.iinfo(np.int32).max else np.int64
    unclaimed = np.iinfo(dt).max
    code = np.full(n, unclaimed, dt)
    strays: list[np.ndarray] = []
    for w, members, sizes in claims:
        m = np.asarray(members, np.int64)
        c = np.repeat(np.arange(first_code[w], first_code[w] + len(sizes), dtype=np.int64),
                      np.asarray(sizes, np.int64))
        out = (m < 0) | (m >= n)
        if out.any():  # claimed but not an article: counted in the error below
            strays.append(np.unique(m[out]))
            m, c = m[~out], c[~out]
        # a rank twice in one window's stories keeps the first (the lesser code)
        u, first = np.unique(m, return_index=True)
        if len(u) < len(m):
            m, c = u, c[first]
        take = c < code[m]
        code[m[take]] = c[take]
    left = int(np.count_nonzero(code == unclaimed))
    if left or strays:
        claimed = n - left + (len(np.unique(np.concatenate(strays))) if strays else 0)
        raise ValueError(f"stitch: {claimed} of {n} articles are in an owned story")
    code[nodes] = code[heads]
    return code


def first_codes(stories_per_window: dict[int, int]) -> tuple[dict[int, int], int]:
    """The code of each window's first story (:func:`story_codes`), and the stories in all: the windows
    in order (the undated partition, -1, first: it is an article's only window, so its place is moot)."""
    out, at = {}, 0
    for w in sorted(stories_per_window):
        out[w] = at
        at += stories_per_window[w]
    return out, at


def stitch(n: int, claims: Sequence[tuple[int, Sequence[int], Sequence[int]]],
           family_edges: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The final story of each of ``n`` articles (by rank), as (window, story number in that window).

    ``claims``: each window's owned stories as (window, members, sizes): the ranks one story after
    another, and each story's size. An article claimed by several windows stays with the earliest; then
    each connected family of ``family_edges`` (origin ranks, derived ranks) moves to the story of its
    earliest member (:func:`story_codes`)."""
    first, stories = first_codes({w: len(s) for w, _m, s in claims})
    code = story_codes(n, claims, first, stories, family_heads(*(np.asarray(x) for x in family_edges)))
    windows = np.array(sorted(first), np.int64)
    starts = np.array([first[w] for w in sorted(first)], np.int64)
    # a window with no story starts where the next begins: a code is the last window's starting at or
    # before it
    at = np.searchsorted(starts, code, side="right") - 1
    return windows[at], code - starts[at]


def summarise(groups: Sequence[Sequence[Article]],
              relations: Sequence[Relation]) -> list[tuple[Story, list[str], list[float]]]:
    """Each group of articles (a final story, in the global order) as a :class:`Story`, with the terms
    and weights of its TF-IDF centroid (its CENTROID_TERMS heaviest), counted over all the groups."""
    from scipy import sparse

    # the summary of a story is cluster's own (the head, span, outlets, key names of cluster())
    from ..cluster import _summary

    arts = [a for g in groups for a in g]
    vecs = vectors(arts)
    derived_ids = {r.derived for r in relations}
    origin_ids = {r.origin for r in relations}
    owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    pick = sparse.csr_matrix((np.ones(len(arts)), (owner, np.arange(len(arts)))), shape=(len(groups), len(arts)))
    centroids = sparse.csr_matrix(pick @ vecs.matrix)
    out = []
    start = 0
    for k, g in enumerate(groups):
        idx = range(start, start + len(g))
        start += len(g)
        story = _summary(list(g), relations_within(list(g), relations, derived_ids, origin_ids), vecs.names(idx))
        lo, hi = centroids.indptr[k], centroids.indptr[k + 1]
        cols, vals = centroids.indices[lo:hi], centroids.data[lo:hi]
        top = np.lexsort((cols, -vals))[:CENTROID_TERMS]
        out.append((story, [vecs.terms[c] for c in cols[top]], vals[top].tolist()))
    key_entities([s for s, _t, _w in out], {a.id: a for a in arts})
    return out


def storylines(stories: Sequence[Story], terms: Sequence[Sequence[str]], weights: Sequence[Sequence[float]]) -> None:
    """Set ``storyline`` on ``stories`` (:func:`link_storylines`), their centroids given as terms and weights."""
    import pyarrow as pa

    storylines_arrow(stories, pa.array(list(terms), pa.list_(pa.string())),
                     pa.array(list(weights), pa.list_(pa.float64())))


def storylines_arrow(stories: Sequence[Story], terms, weights) -> None:
    """:func:`storylines` with the centroids as Arrow list arrays (:func:`centroid_matrix`)."""
    link_storylines(list(stories), centroid_matrix(terms, weights))


def centroid_matrix(terms, weights):
    """Centroids given as Arrow list arrays of terms and of weights, as a CSR matrix (one row each). The
    terms are dictionary-encoded in Arrow, so this holds 12 bytes per centroid term, not Python strings
    and floats."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from scipy import sparse

    terms = terms.combine_chunks() if isinstance(terms, pa.ChunkedArray) else terms
    weights = weights.combine_chunks() if isinstance(weights, pa.ChunkedArray) else weights
    codes = pc.dictionary_encode(terms.flatten())
    cols = codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    vals = weights.flatten().to_numpy(zero_copy_only=False).astype(float)
    indptr = np.asarray(terms.offsets, np.int64) - int(terms.offsets[0].as_py()) if len(terms) else np.zeros(1, np.int64)
    return sparse.csr_matrix((vals, cols, indptr), shape=(len(terms), max(1, len(codes.dictionary))))


def family_edges(relations: Sequence[Relation], rank_of: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(origin rank, derived rank) of the reuse relations between ranked articles (what cluster merges first)."""
    pairs = [(rank_of[r.origin], rank_of[r.derived]) for r in relations
             if binds(r) and r.origin in rank_of and r.derived in rank_of]
    a = np.array([p[0] for p in pairs], np.int64)
    b = np.array([p[1] for p in pairs], np.int64)
    return a, b


def cluster_by_windows(articles: Sequence[Article], relations: Sequence[Relation] = ()) -> list[Story]:
    """Stories over ``articles`` as the batch stages find them (windows, stitch, summaries, storylines),
    in one process: for measuring against :func:`cluster` and for tests."""
    ordered = publication_order(articles)
    days = carried_days(ordered)
    rank_of = {a.id: i for i, a in enumerate(ordered)}
    by_window: dict[int, list[int]] = defaultdict(list)
    for i, d in enumerate(days):
        for w in windows_of(d):
            by_window[w].append(i)
    claims = []
    for w, members in sorted(by_window.items()):
        ids = {ordered[i].id for i in members}
        rels = [r for r in relations if r.origin in ids and r.derived in ids]
        owned = window_stories([ordered[i] for i in members], members, [days[i] for i in members], rels, w)
        claims.append((w, [r for s in owned for r in s], [len(s) for s in owned]))
    win, idx = stitch(len(ordered), claims, family_edges(relations, rank_of))
    groups: dict[int, dict[int, list[Article]]] = defaultdict(lambda: defaultdict(list))
    for i, (w, k) in enumerate(zip(win.tolist(), idx.tolist(), strict=True)):
        groups[w][k].append(ordered[i])
    made = [x for w in sorted(groups) for x in summarise([groups[w][k] for k in sorted(groups[w])], relations)]
    stories = [s for s, _t, _w in made]
    storylines(stories, [t for _s, t, _w in made], [w for _s, _t, w in made])
    return sorted(stories, key=lambda s: (s.first or "", s.id))


# ----------------------------------------------------------------------------- the batch stages
#: "auto" clusters by windows when the median dated window holds at least this many articles: TF-IDF
#: statistics counted over fewer say little (ECB+ dev, ~14 articles a window: pairwise F1 0.40 against
#: 0.91 in one pass; the 5,000-article stream, ~2,200 a window: 0.99 agreement with one pass)
MIN_WINDOW_ARTICLES = 1000


def plan_windows(day_counts: dict[int, int], undated: int, mode: str = "auto") -> list[int]:
    """The windows to cluster (empty: one pass over everything), from the count of articles per
    partition day and of articles with no day. ``mode``: "on", "off" or "auto"."""
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"story windows: {mode!r} is not auto, on or off")
    sizes: dict[int, int] = defaultdict(int)
    for d, c in day_counts.items():
        for w in windows_of(d):
            sizes[w] += c
    # a window owns only stories starting in its head: one with no article there has nothing to do
    starts = {d // STEP_DAYS for d in day_counts}
    sizes = {w: c for w, c in sizes.items() if w in starts}
    if mode == "off" or not sizes or (mode == "auto" and (
            len(sizes) < 2 or float(np.median(list(sizes.values()))) < MIN_WINDOW_ARTICLES)):
        return []
    return sorted(sizes) + ([UNDATED] if undated else [])


def window_shards(days_of_parts: Iterable[tuple[str, dict]]) -> tuple[dict[int, int], int, dict[int, list[str]]]:
    """From each prepare part's name and its count of articles per partition day (as prepare reports
    them: day -> count, UNDATED for no day): the count per day, the undated count, and the parts
    each window reads (in part order)."""
    day_counts: dict[int, int] = {}
    shards_of: dict[int, list[str]] = {}
    undated = 0
    for n, days in days_of_parts:
        for d, c in days.items():
            d = int(d)
            if d == UNDATED:
                undated += c
                shards_of.setdefault(UNDATED, []).append(n)
                continue
            day_counts[d] = day_counts.get(d, 0) + c
            for w in windows_of(d):
                if n not in shards_of.setdefault(w, []):
                    shards_of[w].append(n)
    return day_counts, undated, shards_of


def _window_dir(out, kind: str):
    from pathlib import Path

    from .stages import DIRS

    return Path(out) / DIRS[kind]


def _rank_lookup(out, shards: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The kept (shard, row) places of ``shards`` as sorted keys (shard << 32 | row), with their global
    ranks, from the verdicts: 16 bytes an article, where a dict keyed by tuples holds ~200."""
    import pyarrow.parquet as pq

    from .stages import part_path

    v = pq.read_table(part_path(out, "verdicts", "00000"), columns=["rank", "shard", "row"],
                      filters=[("shard", "in", shards)])
    key = _place_key(v.column("shard").to_numpy(), v.column("row").to_numpy())
    order = np.argsort(key, kind="stable")
    return key[order], v.column("rank").to_numpy().astype(np.int64)[order]


def _place_key(shard: np.ndarray, row: np.ndarray) -> np.ndarray:
    return (np.asarray(shard, np.int64) << 32) | np.asarray(row, np.int64)


def _binding(r):
    """The reuse relations of an Arrow table (origin, derived, kind, score) that :func:`cluster.binds`
    keeps, in their order, with no Relation per row."""
    import pyarrow.compute as pc

    partial = pc.equal(r.column("kind"), "shares_passages")
    return r.filter(pc.and_(pc.not_equal(r.column("kind"), "same_story"),
                            pc.or_(pc.invert(partial), pc.greater_equal(r.column("score"), FAMILY_SHARE))))


def _relations_of(out, shards: list[int]) -> list[Relation]:
    """The relations whose derived article is in one of ``shards`` (relate writes them by that shard), no passages."""
    import pyarrow.parquet as pq

    from .stages import part_path

    rels = []
    for s in shards:
        t = pq.read_table(part_path(out, "relations", f"{s:05d}"), columns=["origin", "derived", "kind", "score"])
        rels += [Relation(o, d, k, sc) for o, d, k, sc in zip(*(t.column(c).to_pylist() for c in t.column_names),
                                                              strict=True)]
    return rels


#: rows of an articles part read at a time by the window task: their texts are dropped once counted
READ_ROWS = 256


def window_job(job: dict) -> tuple[list, dict]:
    """Stage ``story_windows``: cluster one window's articles; its owned stories as ranks.

    The same stories as :func:`window_stories` (:func:`cluster` over the window), kept lean: each
    article's terms are counted as its row is read and its text dropped (:class:`TermRows`), the
    clustering keeps only arrays and who is with whom (:func:`story_groups`, no summaries), and the
    reuse families are found on Arrow columns."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from ..cluster import _day, publication_index, story_groups, story_id
    from .stages import _save_npz, part_path

    out, w, shards = job["out"], int(job["window"]), [int(s) for s in job["shards"]]
    keys, key_rank = _rank_lookup(out, shards)
    rows = TermRows()
    ranks, days, dates, ids = array("q"), array("q"), [], []
    for s in shards:
        pf = pq.ParquetFile(part_path(out, "articles", f"{s:05d}"))
        for b in pf.iter_batches(batch_size=READ_ROWS, columns=["id", "headline", "text", "date", "shard", "row",
                                                               "order_date"]):
            key = _place_key(b.column("shard").to_numpy(zero_copy_only=False),
                             b.column("row").to_numpy(zero_copy_only=False))
            at = np.minimum(np.searchsorted(keys, key), max(0, len(keys) - 1))
            known = (keys[at] == key) if len(keys) else np.zeros(len(key), bool)
            take = []
            for i, od in enumerate(b.column("order_date").to_pylist()):
                day = partition_day(od)
                if known[i] and w in windows_of(day):
                    take.append(i)
                    ranks.append(int(key_rank[at[i]]))
                    days.append(UNDATED if day is None else day)
            if not take:
                continue
            kept = b.take(pa.array(take, pa.int64()))
            ids += kept.column("id").to_pylist()
            dates += kept.column("date").to_pylist()
            for h, t in zip(kept.column("headline").to_pylist(), kept.column("text").to_pylist(), strict=True):
                rows.add(term_counts(h, t or ""))
    # cluster's order: the articles by rank (as window_stories receives them), then by publication
    by_rank = np.argsort(np.frombuffer(ranks, np.int64), kind="stable") if len(ranks) else np.zeros(0, np.int64)
    order = by_rank[publication_index([dates[i] for i in by_rank.tolist()])] if len(by_rank) else by_rank
    order_l = order.tolist()
    ids_o = pa.array([ids[i] for i in order_l], pa.string())
    del ids
    # the reuse families: relations between two of the window's articles, in the order cluster sees them
    families, n_rels = [], 0
    for s in shards:
        r = pq.read_table(part_path(out, "relations", f"{s:05d}"), columns=["origin", "derived", "kind", "score"])
        inside = pc.and_(pc.is_in(r.column("origin"), value_set=ids_o), pc.is_in(r.column("derived"), value_set=ids_o))
        r = _binding(r.filter(inside)) if (n_in := pc.sum(inside).as_py() or 0) else r.slice(0, 0)
        n_rels += n_in
        a = pc.index_in(r.column("origin"), value_set=ids_o).to_pylist()
        d = pc.index_in(r.column("derived"), value_set=ids_o).to_pylist()
        families += [[x, y] for x, y in zip(a, d, strict=True)]
    cols, counts, ptr, terms = rows.arrays(order)
    del rows
    names = NameRows(cols, ptr, terms)
    held = [tfidf(cols, counts, ptr, terms, tf=False).matrix]
    del cols, counts, ptr, terms
    # popped into the call, so story_groups holds the matrix's last reference and frees it when done with it
    groups = story_groups(held.pop(), names, [_day(dates[i]) for i in order_l], families)
    del names
    # the window's stories in cluster's order (first date, story id); those it owns, as sorted ranks
    rank_o = np.frombuffer(ranks, np.int64)[order]
    day_o = np.frombuffer(days, np.int64)[order]
    first = [min((dates[order_l[p]] for p in g if dates[order_l[p]]), default="") for g in groups]
    sid = [story_id(ids_o[g[0]].as_py()) for g in groups]
    owned = []
    for k in sorted(range(len(groups)), key=lambda k: (first[k], sid[k])):
        g = np.asarray(groups[k], np.int64)
        if owns(w, day_o[g].tolist()):
            owned.append(np.sort(rank_o[g]))
    dest = part_path(out, "story_windows", window_name(w), "npz")
    _save_npz(dest, members=np.concatenate(owned) if owned else np.zeros(0, np.int64),
              sizes=np.array([len(m) for m in owned], np.int64))
    return [dest], {"articles": len(order_l), "stories": len(owned), "relations": n_rels}


#: the value of each byte as a lower-case hex digit (255: not one)
_NIBBLE = np.full(256, 255, np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def _hex_keys(ids) -> tuple[np.ndarray, np.ndarray]:
    """Each id of an Arrow string array as the 64-bit number its 16 lower-case hex digits spell, and
    whether it is such an id. Article ids are (:func:`newstrace.model.content_id`, an 8-byte digest),
    and that spelling is one-to-one, so the ids are matched exactly as sorted integers (8 B an id)
    where a hash table of the strings holds ~50 B an id."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = ids.cast(pa.string())
    ok = pc.fill_null(pc.equal(pc.binary_length(ids), 16), False).to_numpy(zero_copy_only=False)
    sub = ids if ok.all() else ids.filter(pa.array(ok))
    keys = np.zeros(len(ids), np.uint64)
    if len(sub):
        # every string of sub is 16 bytes, so their characters lie one after another from the first's
        off = np.frombuffer(sub.buffers()[1], np.int64 if pa.types.is_large_string(sub.type) else np.int32)
        start = int(off[sub.offset])
        nib = _NIBBLE[np.frombuffer(sub.buffers()[2], np.uint8, 16 * len(sub), start).reshape(-1, 16)]
        good = (nib < 16).all(axis=1)
        pairs = (nib[good, 0::2] << 4) | nib[good, 1::2]
        where = np.flatnonzero(ok)
        ok[where[~good]] = False
        keys[where[good]] = np.ascontiguousarray(pairs).view(">u8").ravel()
    return keys, ok


#: keys searched at a time by :func:`_search` (its working arrays: 32 B a key)
SEARCH_CHUNK = 1 << 20


def _search(known: np.ndarray, keys: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.searchsorted(known, keys)`` (into ``out`` if given), the keys searched in sorted order a
    chunk at a time: a search starting from the last one's place is ~5x faster than random probes into
    a large sorted array."""
    out = np.empty(len(keys), np.int64) if out is None else out
    for lo in range(0, len(keys), SEARCH_CHUNK):
        k = keys[lo:lo + SEARCH_CHUNK]
        o = np.argsort(k)
        out[lo + o] = np.searchsorted(known, k[o])
    return out


def _family_ranks(out, verdicts) -> tuple[np.ndarray, np.ndarray, int]:
    """The ranks (origin, derived) of the reuse relations that bind families (:func:`_binding`) whose two
    articles are ranked, and how many articles are ranked.

    The relations' ids are matched to ranks without a table of every article's id: only the ids the
    relations name are held, sorted (as integers, :func:`_hex_keys`; an id of another form as a
    string); the verdicts (in rank order) are read one row group at a time, each id looked up among
    them; then the relations are read again for their ends' ranks. ~32 B per relation, none per article."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rel_dir = _window_dir(out, "relations")
    parts = sorted(rel_dir.glob("part-*.parquet")) if rel_dir.exists() else []

    def ends():
        # each part's binding relations: (origin, derived) as their keys and whether each is hex
        for p in parts:
            r = _binding(pq.read_table(p, columns=["origin", "derived", "kind", "score"]))
            yield r.num_rows, [(r.column(c), *_hex_keys(r.column(c))) for c in ("origin", "derived")]

    most = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)  # at most every relation binds
    known, e, odd = np.empty(2 * most, np.uint64), 0, []
    for _m, cols in ends():
        for ids, k, ok in cols:
            known[e:e + int(ok.sum())] = k[ok]
            e += int(ok.sum())
            if not ok.all():
                odd.append(ids.combine_chunks().filter(pa.array(~ok)))
    known = known[:e].copy() if e < len(known) else known
    # sorted, repeats kept: a search finds the first of equal keys, for a verdict's id as for an end
    known.sort()
    f = pq.ParquetFile(verdicts)
    n = f.metadata.num_rows
    rdt = np.int32 if n < 2**31 else np.int64
    known_rank = np.full(len(known), -1, rdt)
    odd_set = pc.unique(pa.concat_arrays(odd)) if odd else pa.array([], pa.string())
    odd_rank = np.full(len(odd_set), -1, rdt)
    del odd

    def first_rank(table_rank: np.ndarray, at: np.ndarray, ranks: np.ndarray) -> None:
        # the first verdict of an id gives its rank (as index_in, which finds the first)
        u, first = np.unique(at, return_index=True)
        new = table_rank[u] < 0
        table_rank[u[new]] = ranks[first[new]]

    base = 0
    for g in range(f.num_row_groups):
        col = f.read_row_group(g, columns=["id"], use_threads=False).column("id")
        # a row group (2^20 rows) in slices: the working arrays are ~70 B a row
        for lo in range(0, len(col), SEARCH_CHUNK // 4):
            ids = col.slice(lo, SEARCH_CHUNK // 4)
            k, ok = _hex_keys(ids)
            if len(known):
                at = np.minimum(_search(known, k), len(known) - 1)
                hit = ok & (known[at] == k)
                first_rank(known_rank, at[hit], base + np.flatnonzero(hit))
            if len(odd_set) and not ok.all():
                rest = np.flatnonzero(~ok)
                at = pc.index_in(ids.take(pa.array(rest)), value_set=odd_set).to_numpy(zero_copy_only=False)
                hit = ~np.isnan(at.astype(float))
                first_rank(odd_rank, at[hit].astype(np.int64), base + rest[hit])
            base += len(ids)
        del col
    rank, j = np.empty((2, most), rdt), 0
    for m, cols in ends():
        for i, (ids, k, ok) in enumerate(cols):
            r = np.full(m, -1, rdt)
            if ok.any():
                r[ok] = known_rank[_search(known, k[ok])]
            if not ok.all():
                at = pc.index_in(ids.combine_chunks().filter(pa.array(~ok)), value_set=odd_set)
                r[~ok] = odd_rank[at.to_numpy(zero_copy_only=False).astype(np.int64)]
            rank[i, j:j + m] = r
        j += m
    del known, known_rank
    keep = (rank[:, :j] >= 0).all(axis=0)
    return rank[0, :j][keep], rank[1, :j][keep], n


def stitch_job(job: dict) -> tuple[list, dict]:
    """Stage ``stitch``: every article's final story (window, number), written per window.

    Holds one int32 story code per article of the corpus (:func:`story_codes`), and reads the shard
    and row of each from the memory-mapped rank tables to write them out: 4 B per article, plus the ends of the families' relations and
    one window at a time. Writes what :func:`stitch` over every claim gives, sorted by (window, story
    number, rank), the arrays as they always were (int64)."""
    from .stages import _rank_tables, _save_npz, part_path

    out, windows = job["out"], [int(w) for w in job["windows"]]
    verdicts = part_path(out, "verdicts", "00000")
    # the families first, so that their working arrays are gone before the codes are made
    a, b, n = _family_ranks(out, verdicts)
    families = len(a)
    heads = family_heads(a, b)
    del a, b
    sizes = {}
    for w in windows:
        with np.load(part_path(out, "story_windows", window_name(w), "npz")) as z:
            sizes[w] = len(z["sizes"])
    first, total = first_codes(sizes)
    n_claims = [0]

    def claims():
        for w in windows:
            with np.load(part_path(out, "story_windows", window_name(w), "npz")) as z:
                members, sizes = z["members"], z["sizes"]
            n_claims[0] += len(members)
            yield w, members, sizes

    code = story_codes(n, claims(), first, total, heads)
    del heads
    # each rank's shard and row: the dedup stage's rank tables, memory-mapped (shared on a node)
    _rank_at, shard, row, _root = _rank_tables(out)
    outputs, stories = [], 0
    for w in windows:
        # a window's articles by (story number, rank), as one sort of every article by (window, number,
        # rank) would give them: one scan per window instead of sort keys as long as the corpus
        lo, hi = first[w], first[w] + sizes[w]
        mine = np.flatnonzero((code >= lo) & (code < hi))
        ranks = mine[np.argsort(code[mine], kind="stable")]
        k = code[ranks].astype(np.int64) - lo
        stories += int(np.count_nonzero(np.diff(k))) + 1 if len(k) else 0
        dest = part_path(out, "stitch", window_name(w), "npz")
        # with each article's place, so the summaries need not read the verdicts
        _save_npz(dest, idx=k, ranks=ranks, shard=shard[ranks].astype(np.int64), row=row[ranks].astype(np.int64))
        outputs.append(dest)
    return outputs, {"articles": n, "stories": stories, "claims_dropped": int(n_claims[0] - n),
                     "families": int(families)}


SUMMARY_EXTRA = ("c_terms", "c_weights")


def summaries_job(job: dict) -> tuple[list, dict]:
    """Stage ``story_summaries``: the final stories one window owns, summarised, with their centroids."""
    import pyarrow as pa

    from .stages import _articles_at, _schemas, part_path, story_row, write_parquet

    out, w = job["out"], int(job["window"])
    with np.load(part_path(out, "stitch", window_name(w), "npz")) as z:
        idx, ranks = z["idx"], z["ranks"]
        place = dict(zip(ranks.tolist(), zip(z["shard"].tolist(), z["row"].tolist(), strict=True), strict=True))
    wanted: dict[int, list[int]] = defaultdict(list)
    for k in ranks.tolist():
        wanted[place[k][0]].append(place[k][1])
    arts: dict[tuple[int, int], Article] = {}
    for s, rows in sorted(wanted.items()):
        rows = sorted(rows)
        arts.update(((s, r), a) for r, a in zip(rows, _articles_at(out, f"{s:05d}", rows), strict=True))
    groups = [[arts[place[k]] for k in g.tolist()]
              for g in np.split(ranks, np.flatnonzero(np.diff(idx)) + 1)] if len(ranks) else []
    made = summarise(groups, _relations_of(out, sorted(wanted)))
    schema = _schemas()["stories"]
    schema = schema.append(pa.field("c_terms", pa.list_(pa.string()))).append(pa.field("c_weights",
                                                                                      pa.list_(pa.float64())))
    by_id = {a.id: a for a in arts.values()}
    rows = [dict(story_row(s, by_id), storyline=None, c_terms=t, c_weights=wt) for s, t, wt in made]
    dest = part_path(out, "story_summaries", window_name(w))
    write_parquet(pa.Table.from_pylist(rows, schema=schema), dest)
    return [dest], {"stories": len(rows), "articles": int(len(ranks))}


def remove_stale_stories(out, keep: set[str]) -> None:
    """Remove stories/ parts of an earlier run that this one did not write (other windows, or one pass)."""
    d = _window_dir(out, "stories")
    for p in d.glob("part-*.parquet") if d.exists() else ():
        if p.name not in keep:
            p.unlink()

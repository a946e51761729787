"""The one-pass first-occurrence dedup of :mod:`newstrace.dedup.stream`, as distributed stages.

``StreamDeduper`` holds one index of every sentence key's first holder (~1 kB per article) and
decides article after article. Its decision needs far less than a pass in order:

* the first holder of a key is the least rank among the articles that have it, whatever came
  between: a reducer per key bucket sees all of a key's holders (the signatures stage's key shuffle)
  and tells each later holder's shard who was first (``firsts``); the same for whole-text keys;
* an article's votes, best source and relation then depend only on its own keys, their first
  holders and the size of its best source (``votes``, per shard; :func:`.stream.vote` and
  :func:`.stream.local_verdicts`, the code ``add_batch`` runs);
* what earlier verdicts add is only whom a derived article names: the root of its source's family,
  found over parent pointers of all articles at once (``dedup``; :func:`.stream.family_roots`).

Stages, in order (the global order first, as one light task):

  order   once: the global order (date, shard, place in the shard; an id read again is dropped); per
          shard the rank of each row, per rank its shard, row, words and sentences (8 B a rank), and
          the ids by rank (_work/order/)
  firsts  per key bucket: each key's first holder, sent to the shards of its later holders as
          (rank, key, first) rows; whole-text keys likewise as (rank, first) (_work/firsts/)
  votes   per shard: its articles' votes and local verdicts, and their parents: the best source, or
          the earlier article of the same text (_work/votes/)
  dedup   once, on int arrays: family roots by pointer jumping; the verdicts, in rank order (verdicts/),
          and the rank tables every later reducer reads through a memory map (_work/ranks/)

The verdicts are StreamDeduper's, article for article (tests/test_batch.py checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..dedup.stream import _DERIVED as DERIVED_CODES
from ..dedup.stream import _KIND_NAMES as KIND_NAMES
from ..dedup.stream import COPY, SHARES, family_roots, local_verdicts, vote
from . import sliced
from .io import write_parquet
from .stages import _bucket_rows, _load_features, _save_npz, _schemas, part_path

#: the kind code of a same-text copy in the votes: its relation is settled with the roots
SAME = 5
ORDER = "00000"


# ----------------------------------------------------------------------------- order
def _order_file(out: str | Path) -> Path:
    return part_path(out, "order", ORDER, "bin")


def global_order(out: str | Path, parts: list[str]):
    """The articles of every shard in the global order: date, shard, place in the shard.

    Returns (ids by rank, an Arrow array; shard by rank; row by rank; the rank of every article in
    (shard, row) order, -1 for one whose id (its content) came earlier: read twice, it counts once;
    and the bounds of each shard's slice of it). Arrow sorts and groups, so there is no Python object
    per article.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = [pq.read_table(part_path(out, "articles", p), columns=["shard", "row", "order_date"]) for p in parts]
    t = pa.concat_tables(tables) if tables else None
    del tables
    if t is None or not len(t):
        none = np.zeros(0, np.int64)
        return pa.array([], pa.string()), none, none, none, np.zeros(1, np.int64)
    # dates compare as strings (code point order: Arrow compares the UTF-8 bytes); ties by shard, then row
    order = pc.sort_indices(t, sort_keys=[("order_date", "ascending"), ("shard", "ascending"),
                                          ("row", "ascending")])
    shard = t.column("shard").take(order).to_numpy().astype(np.int64)
    row = t.column("row").take(order).to_numpy().astype(np.int64)
    del t  # the dates are the bulk of it
    ids = pa.chunked_array([pq.read_table(part_path(out, "articles", p), columns=["id"]).column("id").combine_chunks()
                            for p in parts]).take(order).combine_chunks()
    del order
    # the first place of each id in that order is the one kept
    codes = pc.dictionary_encode(ids).indices.to_numpy()
    keep = np.zeros(len(ids), bool)
    keep[np.unique(codes, return_index=True)[1]] = True
    del codes
    ids = ids.filter(pa.array(keep))
    rank = np.full(len(keep), -1, np.int64)
    rank[keep] = np.arange(int(keep.sum()))
    by_place = np.lexsort((row, shard))  # a shard's rows are 0, 1, 2...: its slice is indexed by row
    bounds = np.searchsorted(shard[by_place], np.arange(int(shard.max()) + 2))
    return ids, shard[keep], row[keep], rank[by_place], bounds


def order_job(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """The global order, and per rank the sizes a vote needs of its best source (words, sentences)."""
    import pyarrow as pa

    out, parts = job["out"], job["parts"]
    ids, shard, row, rank, bounds = global_order(out, parts)
    n = len(ids)
    words = np.zeros(n, np.int32)
    sents = np.zeros(n, np.int32)
    for p in parts:
        s = int(p)
        if s + 1 >= len(bounds):
            continue
        r = rank[bounds[s]:bounds[s + 1]]
        with np.load(part_path(out, "signatures", p, "npz")) as z:  # two small members, not the keys
            total, sentences = z["total"], z["sentences"]
        live = r >= 0
        words[r[live]] = total[live]
        sents[r[live]] = sentences[live]
    whole = np.array([0, n])
    dest = _order_file(out)
    size = sliced.save(dest, {"rank": (rank, bounds), "shard": (shard.astype(np.int32), whole),
                              "row": (row.astype(np.int32), whole), "words": (words, whole), "sents": (sents, whole)})
    ids_dest = part_path(out, "order", "ids")
    write_parquet(pa.table({"id": ids.cast(pa.string())}), ids_dest)
    rows = len(rank)
    return [dest, ids_dest], {"articles": n, "repeated": rows - n, "bytes": size}


def _rank_table(order: sliced.Reader) -> np.ndarray:
    """The rank of each (shard, row) as a 2-D table (-1: dropped or past the shard's end), from the order file."""
    per_shard = [order.read("rank", s) for s in range(order.slices("rank"))]
    width = max((len(x) for x in per_shard), default=0) or 1
    rank = np.full((max(len(per_shard), 1), width), -1, np.int64)
    for s, x in enumerate(per_shard):
        rank[s, :len(x)] = x
    return rank


def _order_tables(out: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The rank of each (shard, row) as a 2-D table (-1: dropped), and the shard of each rank."""
    z = sliced.Reader(_order_file(out))
    return _rank_table(z), z.read("shard", 0).astype(np.int64)


# ----------------------------------------------------------------------------- firsts
def _route(shard_of: np.ndarray, n_shards: int, rank: np.ndarray, *arrays: np.ndarray):
    """``arrays`` (rows of articles ``rank``) in order of the articles' shards, and the slice bounds."""
    order = np.argsort(shard_of[rank], kind="stable") if len(rank) else np.zeros(0, np.int64)
    bounds = np.searchsorted(shard_of[rank[order]], np.arange(n_shards + 1))
    return [a[order] for a in arrays], bounds


def firsts_job(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """The reduce side of the key shuffle for one bucket: each key's first holder (its least rank), sent
    to the shard of every later holder. A holder that had it first is sent nothing: its keys vote for
    no one."""
    out, b, parts = job["out"], int(job["part"]), job["parts"]
    rank, shard_of = _order_tables(out)
    n_shards = rank.shape[0]
    keys, ranks, starts, sizes, read = _bucket_rows(out, "keys", parts, b, rank)
    first = np.repeat(ranks[starts], sizes)
    later = ranks != first
    (k_rank, k_key, k_first), k_bounds = _route(shard_of, n_shards, ranks[later], ranks[later], keys[later],
                                                first[later])
    wkeys, wranks, wstarts, wsizes, wread = _bucket_rows(out, "keys", parts, b, rank, "whole", "whole_code")
    wfirst = np.repeat(wranks[wstarts], wsizes)
    later = wranks != wfirst
    (w_rank, w_first), w_bounds = _route(shard_of, n_shards, wranks[later], wranks[later], wfirst[later])
    dest = part_path(out, "firsts", job["part"], "bin")
    # ranks as int32 (2**31 articles): 16 B a routed key row
    n = sliced.save(dest, {"rank": (k_rank.astype(np.int32), k_bounds), "key": (k_key, k_bounds),
                           "first": (k_first.astype(np.int32), k_bounds),
                           "w_rank": (w_rank.astype(np.int32), w_bounds),
                           "w_first": (w_first.astype(np.int32), w_bounds)})
    return [dest], {"keys": int(len(starts)), "key_rows": int(len(keys)), "routed": int(len(k_rank)),
                    "whole_routed": int(len(w_rank)), "bytes": n, "read_bytes": read + wread}


# ----------------------------------------------------------------------------- votes
def _lookup(q_rank: np.ndarray, q_key: np.ndarray, t_rank: np.ndarray, t_key: np.ndarray, t_val: np.ndarray,
            default: np.ndarray) -> np.ndarray:
    """For each query (rank, key): the value of the table row with the same (rank, key), else ``default``.
    One sort of both together (table rows first within a (rank, key)), then each query takes the last
    table row before it."""
    m = len(t_rank)
    out = default.copy()
    if not m or not len(q_rank):
        return out
    a = np.concatenate([t_rank.astype(np.int64), q_rank])
    k = np.concatenate([t_key, q_key])
    is_query = np.r_[np.zeros(m, bool), np.ones(len(q_rank), bool)]
    o = np.lexsort((is_query, k, a))
    last_table = np.maximum.accumulate(np.where(o < m, np.arange(len(o)), -1))
    at = np.flatnonzero(o >= m)
    t = last_table[at]
    q = o[at]
    ti = o[np.maximum(t, 0)]
    hit = (t >= 0) & (a[ti] == a[q]) & (k[ti] == k[q])
    out[q[hit] - m] = t_val[ti[hit]]
    return out


def votes_job(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """One shard's articles: their keys' votes and local verdicts (:func:`.stream.vote`,
    :func:`.stream.local_verdicts`), and each article's parent: its best source, or the first earlier
    article with the same text (then its kind is SAME, settled with the roots)."""
    out, part = job["out"], job["part"]
    shard = int(part)
    z = sliced.Reader(_order_file(out))
    own_rank = z.read("rank", shard)  # by row
    f = _load_features(part_path(out, "signatures", part, "npz"))
    got: dict[str, list[np.ndarray]] = {x: [] for x in ("rank", "key", "first", "w_rank", "w_first")}
    read = 0
    for b in range(job.get("buckets", 1)):
        r = sliced.Reader(part_path(out, "firsts", f"{b:05d}", "bin"))
        for name, arrays in got.items():
            arrays.append(r.read(name, shard))
        read += r.bytes_read
    cat = {name: np.concatenate(a) if a else np.zeros(0, np.int64) for name, a in got.items()}
    n = len(f)
    doc = f.doc.astype(np.int64)
    own = own_rank[doc] if len(doc) else np.zeros(0, np.int64)
    live = own >= 0  # an article dropped as read twice neither votes nor is voted for
    doc, own = doc[live], own[live]
    keys = np.where(f.keys == 0, 1, f.keys)[live]  # 0 marks an empty slot of the stream's index
    src = _lookup(own, keys, cat["rank"], cat["key"], cat["first"].astype(np.int64), own)
    best, best_votes, known, best_sents, best_reach = vote(doc, src, own, f.words[live], f.sent[live], n)
    # the best sources' sizes: only their entries of the per-rank table are read
    b0 = np.maximum(best, 0)
    kind, score = local_verdicts(best, best_votes, known, best_sents, best_reach, f.total, f.sentences,
                                 z.take("words", b0).astype(np.int64), z.take("sents", b0).astype(np.int64))
    read += z.bytes_read
    parent = np.where(np.isin(kind, (*DERIVED_CODES, SHARES)), best, -1)
    # the same text as an earlier article: its verdict is that article's (or a copy of it)
    row_live = np.flatnonzero(own_rank >= 0)
    by_rank = row_live[np.argsort(own_rank[row_live])]
    if len(cat["w_rank"]):
        rows = by_rank[np.searchsorted(own_rank[by_rank], cat["w_rank"])]
        parent[rows] = cat["w_first"]
        kind[rows] = SAME
    dest = part_path(out, "votes", part, "npz")
    size = _save_npz(dest, rank=own_rank[row_live], parent=parent[row_live], kind=kind[row_live],
                     score=np.array(score, np.float64)[row_live])
    return [dest], {"articles": int(len(row_live)), "keys": int(len(keys)), "voting": int((src != own).sum()),
                    "same": int(len(cat["w_rank"])), "bytes": size, "read_bytes": read}


# ----------------------------------------------------------------------------- roots and verdicts
def dedup_job(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Every article's verdict: the same-text copies take their earlier twin's relation, each derived
    article names the root of its parent's family (:func:`.stream.family_roots`); in rank order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out, parts = job["out"], job["parts"]
    z = sliced.Reader(_order_file(out))
    shard, row = z.read("shard", 0), z.read("row", 0)
    n = len(shard)
    parent = np.full(n, -1, np.int64)
    kind = np.zeros(n, np.int8)
    score = np.zeros(n, np.float64)
    for p in parts:
        with np.load(part_path(out, "votes", p, "npz")) as v:
            r = v["rank"]
            parent[r], kind[r], score[r] = v["parent"], v["kind"], v["score"]
    same = np.flatnonzero(kind == SAME)
    twin = parent[same]  # the first of its text: never itself a same-text copy
    t_kind, t_score = kind[twin], score[twin]
    derived = np.isin(t_kind, DERIVED_CODES)
    kind[same] = np.where(derived, t_kind, COPY)
    score[same] = np.where(derived, t_score, 1.0)
    to = family_roots(parent, kind)
    del parent
    ids = pq.read_table(part_path(out, "order", "ids")).column("id").combine_chunks()
    none = to < 0
    idx = pa.array(np.maximum(to, 0), mask=none)
    names = np.array(KIND_NAMES, dtype=object)
    table = pa.Table.from_arrays([
        pa.array(np.arange(n, dtype=np.int64)), ids, pa.array(shard), pa.array(row), ids.take(idx),
        pa.array(names[kind], pa.string()), pa.array(score),
        pa.array(shard[np.maximum(to, 0)], mask=none), pa.array(row[np.maximum(to, 0)], mask=none)],
        schema=_schemas()["verdicts"])
    dest = part_path(out, "verdicts", "00000")
    write_parquet(table, dest)
    ranks = write_rank_tables(out, _rank_table(z), shard, row,
                              np.where(np.isin(kind, DERIVED_CODES) & ~none, to, np.arange(n)))
    counts = {("original" if k is None else k): int(c) for k, c in
              zip(KIND_NAMES, np.bincount(kind, minlength=len(KIND_NAMES)).tolist(), strict=False) if c}
    return [dest, ranks], {"articles": n, "relations": counts}


def write_rank_tables(out: str | Path, table: np.ndarray, shard: np.ndarray, row: np.ndarray,
                      root: np.ndarray) -> Path:
    """``_work/ranks``: the rank of each (shard, row) (``table``, 2-D, -1 for a dropped or missing row:
    :func:`_rank_table`), the shard and row of each rank, and each rank's family root (itself unless
    it is a copy, excerpt or edit), int64 all, for :func:`.stages._rank_tables`."""
    whole = np.array([0, len(shard)])
    dest = part_path(out, "ranks", "00000", "bin")
    sliced.save(dest, {"shape": (np.array(table.shape, np.int64), np.array([0, 2])),
                       "rank": (table.ravel(), np.array([0, table.size])),
                       "shard": (shard.astype(np.int64), whole), "row": (row.astype(np.int64), whole),
                       "root": (root.astype(np.int64), whole)})
    return dest

"""The origin shuffle: each relate task gets the articles of other shards it aligns against, sent to it.

relate aligns a shard's derived articles and candidate pairs against earlier articles, which may sit
in any shard. Reading those shards whole from every relate task costs, per task, every shard its
origins fall in (on the 100,000-article stream, ~3 of 19; at 10^8 articles, with shards of 1.75 hours
of news and origins days back, dozens): the read volume grows with the corpus, not with the pairs.
Instead, three steps move each requested article once:

  relate_plan    per shard: the pairs relate will align (``_work/relate_plan/``), and the places
                 (shard, row) of the earlier articles held by *other* shards, cut into slices by the
                 bucket of the shard that holds them (``_work/origin_requests/``)
  origin_parcels per bucket: every shard's requests of the bucket; each holding shard read once for
                 all of them; the requested articles sent as one Arrow stream per requesting shard,
                 a slice each (``_work/origin_parcels/``)
  relate         per shard: its plan, its own articles, and its slice of each bucket's parcels

The shuffle's volume is the requested articles (one row each per requesting shard), whatever the
number of shards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import sliced


def save_plan(out: str | Path, part: str, todo: list[tuple[tuple[int, int], tuple[int, int], dict | None]],
              buckets: int) -> tuple[list[Path], dict[str, Any]]:
    """Write one shard's pairs (``todo``: (earlier place, later place, the stream's verdict or None))
    and its requests for the earlier articles other shards hold; the files and figures."""
    import pyarrow as pa

    from .stages import part_path, write_parquet

    shard = int(part)
    # the later article of every pair is one of this shard's: relate_plan plans for its own articles
    if any(lt[0] != shard for _e, lt, _p in todo):
        raise ValueError(f"relate_plan {part}: a pair whose later article is in another shard")
    e_shard = np.array([e[0] for e, _l, _p in todo], np.int64)
    e_row = np.array([e[1] for e, _l, _p in todo], np.int64)
    plan = pa.table({"e_shard": pa.array(e_shard, pa.int32()), "e_row": pa.array(e_row, pa.int32()),
                     "l_row": pa.array([lt[1] for _e, lt, _p in todo], pa.int32()),
                     "relation": pa.array([p["relation"] if p else None for _e, _l, p in todo], pa.string()),
                     "score": pa.array([p["score"] if p else None for _e, _l, p in todo], pa.float64())})
    plan_dest = part_path(out, "relate_plan", part)
    write_parquet(plan, plan_dest)
    foreign = e_shard != shard
    key = np.unique((e_shard[foreign] << 32) | e_row[foreign])  # each requested article once
    r_shard, r_row = key >> 32, key & 0xFFFFFFFF
    bucket = r_shard % buckets
    order = np.lexsort((r_row, r_shard, bucket))
    bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
    req_dest = part_path(out, "origin_requests", part, "bin")
    size = sliced.save(req_dest, {"shard": (r_shard[order].astype(np.int32), bounds),
                                  "row": (r_row[order].astype(np.int32), bounds)})
    return [plan_dest, req_dest], {"pairs": len(todo), "requests": int(len(key)), "request_bytes": size}


def read_plan(out: str | Path, part: str) -> list[tuple[tuple[int, int], tuple[int, int], dict | None]]:
    """The pairs :func:`save_plan` wrote for ``part``, as they were given."""
    import pyarrow.parquet as pq

    from .stages import part_path

    shard = int(part)
    t = pq.read_table(part_path(out, "relate_plan", part)).to_pydict()
    return [((es, er), (shard, lr), None if rel is None else {"relation": rel, "score": sc})
            for es, er, lr, rel, sc in zip(t["e_shard"], t["e_row"], t["l_row"], t["relation"], t["score"],
                                           strict=True)]


def parcels_job(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Stage ``origin_parcels``: one bucket's requested articles, each holding shard read once, sent to
    the requesting shards (a slice of one Arrow stream each)."""
    import pyarrow as pa

    from .stages import article_rows, part_path

    out, b, parts = job["out"], int(job["part"]), job["parts"]
    to_l, s_l, r_l = [], [], []
    read = 0
    for p in parts:
        z = sliced.Reader(part_path(out, "origin_requests", p, "bin"))
        s = z.read("shard", b).astype(np.int64)
        to_l.append(np.full(len(s), int(p), np.int64))
        s_l.append(s)
        r_l.append(z.read("row", b).astype(np.int64))
        read += z.bytes_read
    to, s, r = (np.concatenate(x) if x else np.zeros(0, np.int64) for x in (to_l, s_l, r_l))
    key = (s << 32) | r
    held = np.unique(key)
    tables = []
    for shard in np.unique(held >> 32).tolist():
        rows = (held[(held >> 32) == shard] & 0xFFFFFFFF).tolist()
        # every column: relate_pair compares raw texts, credits and headlines too
        tables.append(article_rows(out, f"{shard:05d}", rows))
    articles = pa.concat_tables(tables) if tables else None  # in the order of ``held``
    order = np.lexsort((key, to))  # by requesting shard, then place
    n_slices = max((int(p) for p in parts), default=-1) + 1
    blob, bounds = bytearray(), np.zeros(n_slices + 1, np.int64)
    to_sorted = to[order]
    for t in range(n_slices):
        lo, hi = np.searchsorted(to_sorted, [t, t + 1])
        if hi > lo:
            rows = np.searchsorted(held, key[order[lo:hi]])
            sink = pa.BufferOutputStream()
            part_t = articles.take(pa.array(rows))
            # compressed as the Parquet files are: the texts are most of the volume
            with pa.ipc.new_stream(sink, part_t.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
                w.write_table(part_t)
            blob += sink.getvalue().to_pybytes()
        bounds[t + 1] = len(blob)
    dest = part_path(out, "origin_parcels", f"{b:05d}", "bin")
    size = sliced.save(dest, {"blob": (np.frombuffer(blob, np.uint8), bounds)})  # a view: no second copy
    return [dest], {"requests": int(len(key)), "articles": int(len(held)), "bytes": size, "read_bytes": read}


def received(out: str | Path, shard: int, buckets: int) -> tuple[dict[tuple[int, int], dict[str, Any]], int]:
    """The article rows sent to ``shard`` by every bucket's parcels, by place (shard, row); the bytes read."""
    import pyarrow as pa

    from .stages import part_path

    rows: dict[tuple[int, int], dict[str, Any]] = {}
    read = 0
    for b in range(buckets):
        z = sliced.Reader(part_path(out, "origin_parcels", f"{b:05d}", "bin"))
        data = z.read("blob", shard)
        read += z.bytes_read
        if len(data):
            for row in pa.ipc.open_stream(pa.py_buffer(data.tobytes())).read_all().to_pylist():
                rows[(row["shard"], row["row"])] = row
    return rows, read

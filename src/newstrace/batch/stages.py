"""The batch stages. Each is a plain function of a job (a dict of paths and tokens) that reads and
writes files under the output folder, so any engine can run it anywhere that folder is visible.

Per shard, in parallel:
  prepare     read the shard, clean and describe every article (:func:`newstrace.pipeline.process`),
              attribute quotes (:func:`newstrace.attribute.attribute_batch`): articles/, quotes/
  signatures  sentence keys of the clean texts (:func:`newstrace.dedup.fingerprint.fast_features`)
Once, over all shards:
  dedup       the global order (date, then shard, then place in the shard), repeated ids dropped, and
              the one-pass first-occurrence dedup of :mod:`newstrace.dedup.stream` fed the signatures
              in that order: which earlier article each one derives from (verdicts/)
Per shard, in parallel:
  relate      each derived article against its origin with :func:`newstrace.dedup.relate_pair`: the
              relation kind, direction and reused passages (relations/)
Once:
  cluster     :func:`newstrace.cluster.cluster` over every article in the global order (stories/)

Every result is a function of the input and the global order alone, never of which worker ran what,
so every engine and any number of workers give the same files.
"""

from __future__ import annotations

import io as _io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Article, Credit, Passage, Relation
from .io import Shard, atomic_path, commit, read_shard, write_parquet
from .manifest import Manifest

ARTICLE_FIELDS = ("id", "ext_id", "origin", "fmt", "url", "source", "outlet", "date", "title", "headline",
                  "standfirst", "dateline", "byline", "language", "word_count", "raw", "text")
JSON_FIELDS = ("removed", "segments", "credits")
#: where a stage writes; a part's files are <dir>/part-<shard>.parquet
DIRS = {"articles": "articles", "quotes": "quotes", "relations": "relations", "stories": "stories",
        "verdicts": "verdicts", "signatures": "_work/signatures"}
#: for tests: a shard index whose prepare fails, to simulate a crash in the middle of a stage
FAIL_SHARD: set[int] = set()


def part_path(out: str | Path, kind: str, part: str, ext: str = "parquet") -> Path:
    return Path(out) / DIRS[kind] / f"part-{part}.{ext}"


def _rel(out: str | Path, p: Path) -> str:
    return str(p.relative_to(out))


# ----------------------------------------------------------------------------- schemas
def _schemas():
    import pyarrow as pa

    s = pa.string()
    articles = pa.schema([(f, pa.int32() if f == "word_count" else s) for f in ARTICLE_FIELDS]
                         + [(f, s) for f in JSON_FIELDS]
                         + [("shard", pa.int32()), ("row", pa.int32()), ("order_date", s)])
    quotes = pa.schema([("article", s), ("start", pa.int32()), ("end", pa.int32()), ("kind", s), ("text", s),
                        ("cue_start", pa.int32()), ("cue_end", pa.int32()), ("source_start", pa.int32()),
                        ("source_end", pa.int32()), ("speaker", s)])
    relations = pa.schema([("origin", s), ("derived", s), ("kind", s), ("score", pa.float64()), ("direction", s),
                           ("passages", s), ("stream_relation", s), ("stream_score", pa.float64())])
    stories = pa.schema([("id", s), ("headline", s), ("first", s), ("last", s), ("outlets", pa.list_(s)),
                         ("key_names", pa.list_(s)), ("copies", pa.int32()), ("storyline", s),
                         ("size", pa.int32()), ("articles", pa.list_(s))])
    verdicts = pa.schema([("rank", pa.int64()), ("id", s), ("shard", pa.int32()), ("row", pa.int32()),
                          ("duplicate_of", s), ("relation", s), ("score", pa.float64()),
                          ("origin_shard", pa.int32()), ("origin_row", pa.int32())])
    return {"articles": articles, "quotes": quotes, "relations": relations, "stories": stories,
            "verdicts": verdicts}


def _dumps(items: list[Any]) -> str:
    return json.dumps([vars(x) for x in items], ensure_ascii=False)


def article_row(a: Article, shard: int, row: int, order_date: str) -> dict[str, Any]:
    d = {f: getattr(a, f) for f in ARTICLE_FIELDS}
    for f in JSON_FIELDS:
        d[f] = _dumps(getattr(a, f))
    d.update(shard=shard, row=row, order_date=order_date)
    return d


def article_from_row(row: dict[str, Any]) -> Article:
    """An :class:`Article` from a row of articles/ (the JSON columns decoded)."""
    from ..model import Removed, Segment

    d = {f: row.get(f) for f in ARTICLE_FIELDS if f in row}
    d.setdefault("raw", "")
    d["ext_id"] = d.get("ext_id") or ""
    d["origin"] = d.get("origin") or ""
    d["text"] = d.get("text") or ""
    d["word_count"] = d.get("word_count") or 0
    kinds = {"removed": Removed, "segments": Segment, "credits": Credit}
    for f in JSON_FIELDS:
        if row.get(f):
            d[f] = [kinds[f](**x) for x in json.loads(row[f])]
    return Article(**d)


# ----------------------------------------------------------------------------- running a part
def run_task(job: dict[str, Any]) -> dict[str, Any]:
    """Run one part of one stage and record its manifest; what every engine calls."""
    fn = {"prepare": prepare, "signatures": signatures, "dedup": dedup, "relate": relate,
          "cluster": cluster_stories}[job["stage"]]
    t0 = time.perf_counter()
    outputs, summary = fn(job)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return Manifest(job["out"]).write(job["stage"], job["part"], job["input"], job["version"],
                                      [_rel(job["out"], p) for p in outputs], summary)


def prepare(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Read, clean and describe one shard; attribute its quotes."""
    import pyarrow as pa

    from ..attribute import attribute_batch
    from ..errors import E, Skip, skip
    from ..pipeline import process

    shard = Shard(**job["shard"])
    if shard.index in FAIL_SHARD:
        raise RuntimeError(f"simulated crash in shard {shard.index}")
    out = job["out"]
    rows: list[dict[str, Any]] = []
    done: list[Article] = []
    problems: list[dict[str, str]] = []
    skipped: dict[str, int] = {}
    last_date = ""
    for item in read_shard(shard, job.get("source"), job.get("max_bytes", 20 * 1024 * 1024)):
        if not isinstance(item, Skip):
            try:
                item = process(item)
            except Exception as exc:  # one article's failure must not stop the run; it is reported
                item = skip(item.origin, E.E014, detail=f"{type(exc).__name__}: {exc}"[:200])
        if isinstance(item, Skip):
            if item.level == "skip":
                skipped[item.code] = skipped.get(item.code, 0) + 1
            if len(problems) < 100:
                problems.append({"input": item.origin, "code": item.code, "level": item.level,
                                 "message": item.message})
            continue
        # an undated article keeps its place after the dated one before it (as the clusterer orders)
        last_date = item.date or last_date
        rows.append(article_row(item, shard.index, len(rows), last_date))
        done.append(item)
    schemas = _schemas()
    quotes = [{"article": q.article, "start": q.content[0], "end": q.content[1], "kind": q.kind, "text": q.text,
               "cue_start": q.cue[0] if q.cue else None, "cue_end": q.cue[1] if q.cue else None,
               "source_start": q.source[0] if q.source else None, "source_end": q.source[1] if q.source else None,
               "speaker": q.speaker} for q in attribute_batch(done)]
    a_path = part_path(out, "articles", job["part"])
    q_path = part_path(out, "quotes", job["part"])
    write_parquet(pa.Table.from_pylist(rows, schema=schemas["articles"]), a_path)
    write_parquet(pa.Table.from_pylist(quotes, schema=schemas["quotes"]), q_path)
    return [a_path, q_path], {"articles": len(rows), "quotes": len(quotes), "skipped": skipped,
                              "problems": problems}


def signatures(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Sentence keys of one shard's clean texts, as the one-pass dedup computes them."""
    import pyarrow.parquet as pq

    from ..dedup.fingerprint import MIN_WORDS, fast_features
    from ..dedup.stream import HALF_MIN_WORDS

    out = job["out"]
    texts = pq.read_table(part_path(out, "articles", job["part"]), columns=["text"]).column("text").to_pylist()
    f = fast_features(texts, MIN_WORDS, HALF_MIN_WORDS)
    dest = part_path(out, "signatures", job["part"], "npz")
    tmp = atomic_path(dest)
    buf = _io.BytesIO()
    np.savez(buf, keys=f.keys, words=f.words, doc=f.doc, sent=f.sent, total=f.total, sentences=f.sentences,
             whole=f.whole)
    tmp.write_bytes(buf.getvalue())
    commit(tmp, dest)
    return [dest], {"articles": len(texts), "keys": int(len(f.keys)), "bytes": len(buf.getvalue())}


def _load_features(path: Path):
    from ..dedup.fingerprint import Features

    with np.load(path) as z:
        return Features(z["keys"], z["words"], z["doc"], z["sent"], z["total"], z["sentences"], z["whole"])


def global_order(out: str | Path, parts: list[str]):
    """(ids, shard, row, keep) of every article in the global order: date, shard, place in the shard.

    ``keep`` is False for an article whose id (its content) came earlier: read twice, it counts once.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(part_path(out, "articles", p), columns=["id", "shard", "row", "order_date"])
              for p in parts]
    t = pa.concat_tables(tables) if tables else None
    if t is None or not len(t):
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64)
    shard = t.column("shard").to_numpy().astype(np.int64)
    row = t.column("row").to_numpy().astype(np.int64)
    dates = np.array(t.column("order_date").to_pylist(), dtype=str)
    order = np.lexsort((row, shard, dates))
    ids_all = t.column("id").to_pylist()
    ids = [ids_all[i] for i in order.tolist()]
    seen: set[str] = set()
    keep = np.ones(len(ids), bool)
    for i, x in enumerate(ids):
        if x in seen:
            keep[i] = False
        seen.add(x)
    return ids, shard[order], row[order], keep, order


def dedup(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """The one-pass dedup of :mod:`newstrace.dedup.stream` over every shard's signatures, in the global
    order: its first-occurrence index names, for each article, the earliest article of its family."""
    import pyarrow as pa

    from ..dedup.fingerprint import Features
    from ..dedup.stream import BYTES_PER_KEY, CHUNK, StreamDeduper

    out, parts = job["out"], job["parts"]
    ids, shard, row, keep, order = global_order(out, parts)
    feats = [_load_features(part_path(out, "signatures", p, "npz")) for p in parts]
    # the signatures of all shards as one batch, its documents numbered in the global order
    n_docs = np.cumsum([0] + [len(f) for f in feats])
    n_sents = np.cumsum([0] + [int(f.sent.max()) + 1 if len(f.sent) else 0 for f in feats])
    cat = lambda name: np.concatenate([getattr(f, name) for f in feats]) if feats else np.zeros(0, np.int64)  # noqa: E731
    doc = np.concatenate([f.doc.astype(np.int64) + n_docs[i] for i, f in enumerate(feats)]) if feats else \
        np.zeros(0, np.int64)
    sent = np.concatenate([f.sent.astype(np.int64) + n_sents[i] for i, f in enumerate(feats)]) if feats else \
        np.zeros(0, np.int64)
    kept = order[keep]  # concatenated document index of each kept article, in the global order
    rank = np.full(len(order), -1, np.int64)
    rank[kept] = np.arange(len(kept))
    new_doc = rank[doc]
    take = np.flatnonzero(new_doc >= 0)
    by_doc = take[np.argsort(new_doc[take], kind="stable")]  # keys stay in text order within an article
    keys, words, new_doc, sent = cat("keys")[by_doc], cat("words")[by_doc], new_doc[by_doc], sent[by_doc]
    new_sent = np.cumsum(np.r_[True, sent[1:] != sent[:-1]]) - 1 if len(sent) else sent
    total, sentences, whole = cat("total")[kept], cat("sentences")[kept], cat("whole")[kept]
    kept_ids = [x for x, k in zip(ids, keep.tolist(), strict=True) if k]

    deduper = StreamDeduper()
    deduper.reserve(len(kept_ids), len(keys) * BYTES_PER_KEY)
    decisions = []
    for d0 in range(0, len(kept_ids), CHUNK):
        d1 = min(d0 + CHUNK, len(kept_ids))
        a, b = np.searchsorted(new_doc, [d0, d1]).tolist()
        s0 = int(new_sent[a]) if b > a else 0
        f = Features(keys[a:b], words[a:b], (new_doc[a:b] - d0).astype(np.int32),
                     (new_sent[a:b] - s0).astype(np.int32), total[d0:d1], sentences[d0:d1], whole[d0:d1])
        decisions.extend(deduper.add_batch(kept_ids[d0:d1], f))
    place = {x: (int(s), int(r)) for x, s, r in zip(kept_ids, shard[keep].tolist(), row[keep].tolist(),
                                                    strict=True)}
    rows = []
    counts: dict[str, int] = {}
    for i, (d, s, r) in enumerate(zip(decisions, shard[keep].tolist(), row[keep].tolist(), strict=True)):
        o = place.get(d.duplicate_of) if d.duplicate_of else None
        rows.append({"rank": i, "id": d.id, "shard": s, "row": r, "duplicate_of": d.duplicate_of,
                     "relation": d.relation, "score": d.score, "origin_shard": o[0] if o else None,
                     "origin_row": o[1] if o else None})
        counts[d.relation or "original"] = counts.get(d.relation or "original", 0) + 1
    dest = part_path(out, "verdicts", "00000")
    write_parquet(pa.Table.from_pylist(rows, schema=_schemas()["verdicts"]), dest)
    summary = {"articles": len(kept_ids), "repeated": int((~keep).sum()), "keys": int(len(keys)),
               "index_bytes": int(deduper.first.nbytes + deduper.texts_equal.nbytes),
               "index_keys": len(deduper.first), "relations": counts}
    return [dest], summary


def _articles_at(out: str | Path, part: str, rows: list[int] | None = None) -> list[Article]:
    import pyarrow.parquet as pq

    t = pq.read_table(part_path(out, "articles", part))
    if rows is not None:
        t = t.take(rows)
    return [article_from_row(r) for r in t.to_pylist()]


def relate(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Each derived article of one shard against its origin: kind, direction and reused passages."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from ..dedup import relate_pair

    out, part, shard = job["out"], job["part"], int(job["part"])
    v = pq.read_table(part_path(out, "verdicts", "00000"))
    v = v.filter(pc.and_(pc.equal(v.column("shard"), shard), pc.is_valid(v.column("duplicate_of"))))
    pairs = v.to_pylist()
    mine = {a.id: a for a in _articles_at(out, part, sorted({p["row"] for p in pairs}))} if pairs else {}
    wanted: dict[int, set[int]] = {}
    for p in pairs:
        wanted.setdefault(p["origin_shard"], set()).add(p["origin_row"])
    origins: dict[str, Article] = {}
    for s, rows in sorted(wanted.items()):
        for a in _articles_at(out, f"{s:05d}", sorted(rows)):
            origins[a.id] = a
    rank = {p["id"]: p["rank"] for p in pairs}
    out_rows = []
    found = 0
    for p in pairs:
        derived, origin = mine[p["id"]], origins[p["duplicate_of"]]
        rank.setdefault(origin.id, -1)  # the origin comes first in the global order
        rel = relate_pair(origin, derived, order=lambda a: rank.get(a.id, -1))
        if rel is None:  # the alignment does not confirm it: the stream's verdict stands, without passages
            rel = Relation(origin.id, derived.id, p["relation"], p["score"], [], "stream")
        else:
            found += 1
        out_rows.append({"origin": rel.origin, "derived": rel.derived, "kind": rel.kind, "score": rel.score,
                         "direction": rel.direction, "passages": _dumps(rel.passages),
                         "stream_relation": p["relation"], "stream_score": p["score"]})
    dest = part_path(out, "relations", part)
    write_parquet(pa.Table.from_pylist(out_rows, schema=_schemas()["relations"]), dest)
    return [dest], {"relations": len(out_rows), "aligned": found}


def load_relations(out: str | Path, passages: bool = True) -> list[Relation]:
    """Every relation under ``out``/relations, in (origin, derived) order."""
    import pyarrow.parquet as pq

    rels = []
    for p in sorted((Path(out) / DIRS["relations"]).glob("part-*.parquet")):
        for r in pq.read_table(p).to_pylist():
            ps = [Passage(**x) for x in json.loads(r["passages"])] if passages else []
            for x in ps:
                x.diff = [tuple(d) for d in x.diff]
            rels.append(Relation(r["origin"], r["derived"], r["kind"], r["score"], ps, r["direction"]))
    rels.sort(key=lambda r: (r.origin, r.derived))
    return rels


def cluster_stories(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Stories over every article in the global order (one task: the clusterer is one pass in time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..cluster import cluster

    out, parts = job["out"], job["parts"]
    cols = ["id", "headline", "text", "date", "outlet", "ext_id", "origin", "shard", "row"]
    by_place: dict[tuple[int, int], Article] = {}
    for p in parts:
        for r in pq.read_table(part_path(out, "articles", p), columns=cols).to_pylist():
            by_place[(r["shard"], r["row"])] = article_from_row(r)
    v = pq.read_table(part_path(out, "verdicts", "00000"), columns=["shard", "row"]).to_pylist()
    articles = [by_place[(r["shard"], r["row"])] for r in v]
    del by_place
    stories = cluster(articles, load_relations(out, passages=False))
    rows = [{"id": s.id, "headline": s.headline, "first": s.first, "last": s.last, "outlets": s.outlets,
             "key_names": s.key_names, "copies": s.copies, "storyline": s.storyline, "size": len(s.articles),
             "articles": s.articles} for s in stories]
    dest = part_path(out, "stories", "00000")
    write_parquet(pa.Table.from_pylist(rows, schema=_schemas()["stories"]), dest)
    return [dest], {"stories": len(rows), "articles": len(articles)}

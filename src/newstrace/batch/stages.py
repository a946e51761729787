"""The batch stages. Each is a plain function of a job (a dict of paths and tokens) that reads and
writes files under the output folder, so any engine can run it anywhere that folder is visible.

Per shard, in parallel:
  prepare     read the shard, clean and describe every article (:func:`newstrace.pipeline.process`),
              attribute quotes (:func:`newstrace.attribute.attribute_batch`): articles/, quotes/
  signatures  sentence keys of the clean texts (:func:`newstrace.dedup.fingerprint.fast_features`)
              and the same keys again, with each text's whole-text key, split into key buckets for
              the shuffle (_work/keys/)
  anchors     the names and numbers of each clean text (:func:`newstrace.dedup.anchors`), hashed and
              split into the same buckets (_work/anchors/): the evidence of paraphrased rewrites
The one-pass first-occurrence dedup of :mod:`newstrace.dedup.stream`, distributed (:mod:`.origins`):
  order       once, light: the global order (date, then shard, then place in the shard), repeated ids
              dropped; per rank its place and size (words, sentences), the ids by rank (_work/order/)
  firsts      per key bucket: each sentence key's and whole-text key's first holder (least rank), sent
              to the shards of its later holders (_work/firsts/)
  votes       per shard: its articles' votes, best source and relation as the stream decides them, and
              each one's parent (best source, or earlier article of the same text) (_work/votes/)
  dedup       once, on int arrays: family roots by pointer jumping over the parents; which earlier
              article each one derives from (verdicts/, in rank order); the rank tables (rank of each
              (shard, row), place and family root of each rank) that the later tasks memory-map (_work/ranks/)
Per key bucket, in parallel (the shuffle):
  candidates  every shard's keys of one bucket: pairs of articles of different families that share
              a sentence (partial reuse the one-pass verdict, one origin per article, does not name),
              counted per pair and routed to the shard of the later article (_work/candidates/)
  anchor_pairs every shard's anchors of one bucket: each anchor's document frequency before each
              article (all of an anchor's rows are in one bucket, so it is global), the store path's
              weights (:func:`newstrace.dedup.anchor_weight`), and the posting list of each rare anchor
              (its first ANCHOR_MAX_POSTINGS + 1 holders, with their family roots), sent once to each
              shard holding a later holder: the pairs sharing it are expanded there (_work/anchor_pairs/)
Per shard, then per bucket, then per shard (the origin shuffle, :mod:`.parcels`):
  relate_plan the pairs to align: each derived article and its origin, each candidate pair sharing at
              least two sentences, and the paraphrase candidates the store path would pick from the
              anchor pairs (:func:`newstrace.dedup.anchor_candidates`); the earlier articles other
              shards hold, requested by the bucket of their shard (_work/relate_plan/, _work/origin_requests/)
  origin_parcels per bucket: each of its shards read once, the requested articles sent to the shards
              that asked (_work/origin_parcels/)
  relate      each pair with :func:`newstrace.dedup.relate_pair`: the relation kind, direction and
              reused passages (relations/)
Stories, by time window (:mod:`.stories`; when the windows are too sparse, one ``cluster`` task instead):
  story_windows per window of 21 days starting every 7: :func:`newstrace.cluster.cluster` over its
              articles; the stories that start in its first 7 days (_work/story_windows/)
  stitch      once, on ranks only: an article claimed by several windows stays with the earliest; reuse
              families are moved whole into their earliest article's story (_work/stitch/)
  story_summaries per window: the final stories it owns summarised, with centroids (_work/story_summaries/)
  storylines  once, on summaries: storylines over the centroids (stories/)

Every result is a function of the input and the global order alone, never of which worker ran what,
so every engine and any number of workers give the same files.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Article, Credit, Passage, Relation, Story
from . import sliced
from .io import Shard, atomic_path, commit, read_shard, write_parquet
from .manifest import Manifest

ARTICLE_FIELDS = ("id", "ext_id", "origin", "fmt", "url", "source", "outlet", "date", "title", "headline",
                  "standfirst", "dateline", "byline", "language", "word_count", "raw", "text")
JSON_FIELDS = ("removed", "segments", "credits")
#: where a stage writes; a part's files are <dir>/part-<shard>.parquet
DIRS = {"articles": "articles", "quotes": "quotes", "relations": "relations", "stories": "stories",
        "verdicts": "verdicts", "signatures": "_work/signatures", "keys": "_work/keys", "order": "_work/order",
        "firsts": "_work/firsts", "votes": "_work/votes", "ranks": "_work/ranks",
        "candidates": "_work/candidates", "anchors": "_work/anchors", "anchor_pairs": "_work/anchor_pairs",
        "relate_plan": "_work/relate_plan", "origin_requests": "_work/origin_requests",
        "origin_parcels": "_work/origin_parcels",
        "story_windows": "_work/story_windows", "stitch": "_work/stitch", "story_summaries": "_work/story_summaries",
        "storyline_names": "_work/storyline_names", "storyline_pairs": "_work/storyline_pairs",
        "storyline_links": "_work/storyline_links", "storyline_labels": "_work/storyline_labels"}
#: key buckets of the shuffle: reducers that each hold 1/BUCKETS of the keys
BUCKETS = 16
#: a sentence shared by more articles than this is boilerplate or a stock phrase: it names no pair
KEY_MAX_POSTINGS = 100
#: a candidate pair shares at least this many sentence keys (half-sentences count one each) ...
MIN_SHARED_KEYS = 2
#: ... and a later article is aligned with this many candidates at most, those sharing most first
MAX_PAIR_CANDIDATES = 10
#: anchor weights are summed as integers in units of 1/ANCHOR_SCALE, so a sum is the same in any order
#: (whatever the buckets and shards it is gathered from)
ANCHOR_SCALE = 1 << 24
#: for tests: a shard index whose prepare fails, to simulate a crash in the middle of a stage
FAIL_SHARD: set[int] = set()


def part_path(out: str | Path, kind: str, part: str, ext: str = "parquet") -> Path:
    return Path(out) / DIRS[kind] / f"part-{part}.{ext}"


def _rel(out: str | Path, p: Path) -> str:
    return str(p.relative_to(out))


# ----------------------------------------------------------------------------- schemas
def story_row(s: Story, articles: dict[str, Article]) -> dict[str, Any]:
    """A story as a row of ``stories/`` (entities as a JSON object: people, places, organisations), with
    its first report and one-paragraph extract, as ``report`` shows them (``articles``: its members)."""
    from ..summary import first_report, story_extract

    return {"id": s.id, "headline": s.headline, "first": s.first, "last": s.last, "outlets": s.outlets,
            "key_names": s.key_names, "copies": s.copies, "storyline": s.storyline, "size": len(s.articles),
            "articles": s.articles, "entities": json.dumps(s.entities, ensure_ascii=False),
            "first_report": first_report(s, articles), "extract": story_extract(s, articles)}


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
                         ("size", pa.int32()), ("articles", pa.list_(s)), ("entities", s),
                         ("first_report", s), ("extract", s)])
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
    from . import origins, parcels, stories, storylines

    fn = {"prepare": prepare, "signatures": signatures, "anchors": anchor_keys, "order": origins.order_job,
          "firsts": origins.firsts_job, "votes": origins.votes_job, "dedup": origins.dedup_job,
          "candidates": candidates, "anchor_pairs": anchor_pairs, "relate_plan": relate_plan,
          "origin_parcels": parcels.parcels_job, "relate": relate,
          "cluster": cluster_stories, "story_windows": stories.window_job, "stitch": stories.stitch_job,
          "story_summaries": stories.summaries_job, "storyline_names": storylines.names_job,
          "storyline_pairs": storylines.pairs_job, "storyline_links": storylines.links_job,
          "storyline_components": storylines.components_job, "storylines": storylines.write_job}[job["stage"]]
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
    from ..errors import unattributed as unattributed_message
    from ..pipeline import process
    from .stories import partition_day

    shard = Shard(**job["shard"])
    if shard.index in FAIL_SHARD:
        raise RuntimeError(f"simulated crash in shard {shard.index}")
    out = job["out"]
    rows: list[dict[str, Any]] = []
    done: list[Article] = []
    problems: list[dict[str, str]] = []
    skipped: dict[str, int] = {}
    last_date = ""
    days: dict[int, int] = {}  # articles per partition day (the story windows are planned from them)
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
        day = partition_day(last_date)
        days[-1 if day is None else day] = days.get(-1 if day is None else day, 0) + 1
    schemas = _schemas()

    def unattributed(a: Article, detail: str) -> None:  # the article stays, without quotes
        if len(problems) < 100:
            problems.append({"input": a.origin, "code": "E014", "level": "warn",
                             "message": unattributed_message(detail)})

    quotes = [{"article": q.article, "start": q.content[0], "end": q.content[1], "kind": q.kind, "text": q.text,
               "cue_start": q.cue[0] if q.cue else None, "cue_end": q.cue[1] if q.cue else None,
               "source_start": q.source[0] if q.source else None, "source_end": q.source[1] if q.source else None,
               "speaker": q.speaker} for q in attribute_batch(done, on_error=unattributed)]
    a_path = part_path(out, "articles", job["part"])
    q_path = part_path(out, "quotes", job["part"])
    write_parquet(pa.Table.from_pylist(rows, schema=schemas["articles"]), a_path)
    write_parquet(pa.Table.from_pylist(quotes, schema=schemas["quotes"]), q_path)
    return [a_path, q_path], {"articles": len(rows), "quotes": len(quotes), "skipped": skipped,
                              "problems": problems, "days": {str(d): c for d, c in sorted(days.items())}}


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
    # the shuffle's map side: (key, article) rows grouped by key bucket, an article named by shard and row
    # and the (whole-text key, article) rows of the texts that have one, in the same buckets
    buckets = job.get("buckets", BUCKETS)
    keys = np.where(f.keys == 0, 1, f.keys)  # as the stream's index takes them (0 marks an empty slot)
    code = (np.int64(int(job["part"])) << 32) | f.doc.astype(np.int64)
    b = (keys & 0x7FFFFFFF) % buckets
    order = np.argsort(b, kind="stable")
    k_dest = part_path(out, "keys", job["part"], "bin")
    bounds = np.searchsorted(b[order], np.arange(buckets + 1))
    has = np.flatnonzero(f.whole != 0)
    wb = (f.whole[has] & 0x7FFFFFFF) % buckets
    w_order = np.argsort(wb, kind="stable")
    w_bounds = np.searchsorted(wb[w_order], np.arange(buckets + 1))
    n = sliced.save(k_dest, {"keys": (keys[order], bounds), "code": (code[order], bounds),
                             "whole": (f.whole[has][w_order], w_bounds),
                             "whole_code": ((np.int64(int(job["part"])) << 32) | has[w_order].astype(np.int64),
                                            w_bounds)})
    return [dest, k_dest], {"articles": len(texts), "keys": int(len(f.keys)), "bytes": len(buf.getvalue()),
                            "shuffle_bytes": n}


def _save_npz(dest: Path, **arrays: np.ndarray) -> int:
    """Write ``arrays`` to ``dest`` atomically; the bytes written."""
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    tmp = atomic_path(dest)
    tmp.write_bytes(buf.getvalue())
    commit(tmp, dest)
    return len(buf.getvalue())


def anchor_hash(anchor: str) -> int:
    """A stable 63-bit hash of an anchor (Python's own hash changes with the process's secret)."""
    return int.from_bytes(hashlib.blake2b(anchor.encode(), digest_size=8).digest(), "little") >> 1


def anchor_keys(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """The map side of the anchor shuffle: (anchor hash, article) rows of one shard, by anchor bucket."""
    import pyarrow.parquet as pq

    from ..dedup import anchors

    out = job["out"]
    texts = pq.read_table(part_path(out, "articles", job["part"]), columns=["text"]).column("text").to_pylist()
    keys, docs = [], []
    for i, t in enumerate(texts):
        mine = [anchor_hash(a) for a in anchors(t)]
        keys.extend(mine)
        docs.extend([i] * len(mine))
    keys_a = np.array(keys, np.int64)
    code = (np.int64(int(job["part"])) << 32) | np.array(docs, np.int64)
    buckets = job.get("buckets", BUCKETS)
    b = keys_a % buckets
    order = np.argsort(b, kind="stable")
    dest = part_path(out, "anchors", job["part"], "bin")
    bounds = np.searchsorted(b[order], np.arange(buckets + 1))
    n = sliced.save(dest, {"keys": (keys_a[order], bounds), "code": (code[order], bounds)})
    return [dest], {"articles": len(texts), "anchors": len(keys), "shuffle_bytes": n}


def _load_features(path: Path):
    from ..dedup.fingerprint import Features

    with np.load(path) as z:
        return Features(z["keys"], z["words"], z["doc"], z["sent"], z["total"], z["sentences"], z["whole"])


def _rank_tables(out: str | Path):
    """Rank of each (shard, row) (a 2-D table, -1: dropped), shard and row of each rank, and each rank's
    family root: the dedup stage's ``_work/ranks`` file, memory-mapped. Every reducer and relate task
    needs them whole (32 B per article); through the page cache the tasks of one node share one copy,
    and a task's own memory is only what it indexes out of them."""
    z = sliced.Reader(part_path(out, "ranks", "00000", "bin"))
    n_shards, width = (int(x) for x in z.read("shape", 0))
    return (z.map("rank", (n_shards, width)), z.map("shard"), z.map("row"), z.map("root"))


def _pairs_within_groups(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j), i < j, of positions inside each group [start, start + size) of a sorted array."""
    first = np.repeat(starts, sizes)  # each row's group start
    pos = np.arange(len(first)) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # its place in the group
    later = np.repeat(sizes, sizes) - pos - 1  # partners after it
    a = np.repeat(first + pos, later)
    step = np.arange(len(a)) - np.repeat(np.cumsum(later) - later, later)
    return a, a + step + 1


def _bucket_rows(out: str | Path, kind: str, parts: list[str], b: int, rank: np.ndarray, key: str = "keys",
                 code_name: str = "code"):
    """The reduce side's input: every shard's (key, article rank) rows of bucket ``b`` of ``kind`` (arrays
    ``key`` and ``code_name`` of its files), sorted by key then rank, each pair once (a key twice in one
    article counts once); with each key's group (starts, sizes), and the bytes read. Articles dropped as
    repeated are left out."""
    keys, ranks = [], []
    read = 0
    for p in parts:
        z = sliced.Reader(part_path(out, kind, p, "bin"))
        k, code = z.read(key, b), z.read(code_name, b)
        read += z.bytes_read
        r = rank[code >> 32, code & 0xFFFFFFFF] if len(code) else np.zeros(0, np.int64)
        keys.append(k[r >= 0])
        ranks.append(r[r >= 0])
    keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    ranks = np.concatenate(ranks) if ranks else np.zeros(0, np.int64)
    order = np.lexsort((ranks, keys))
    keys, ranks = keys[order], ranks[order]
    fresh = np.r_[True, (keys[1:] != keys[:-1]) | (ranks[1:] != ranks[:-1])] if len(keys) else np.zeros(0, bool)
    keys, ranks = keys[fresh], ranks[fresh]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(keys)])
    return keys, ranks, starts, sizes, read


def candidates(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """The reduce side of the shuffle for one key bucket: article pairs that share sentences."""
    out, b, parts = job["out"], int(job["part"]), job["parts"]
    rank, shard_of, _row, root = _rank_tables(out)
    keys, ranks, starts, sizes, read = _bucket_rows(out, "keys", parts, b, rank)
    ok = (sizes >= 2) & (sizes <= KEY_MAX_POSTINGS)
    i, j = _pairs_within_groups(starts[ok], sizes[ok])
    early, late = ranks[i], ranks[j]  # sorted by rank within a key: the first is the earlier article
    apart = root[early] != root[late]  # one family is related already, through its origin
    pair, count = np.unique((late[apart] << 32) | early[apart], return_counts=True)
    late, early = pair >> 32, pair & 0xFFFFFFFF
    by_shard = np.argsort(shard_of[late], kind="stable")
    late, early, count = late[by_shard], early[by_shard], count[by_shard]
    n_shards = int(shard_of.max()) + 1 if len(shard_of) else 1
    dest = part_path(out, "candidates", job["part"], "bin")
    bounds = np.searchsorted(shard_of[late], np.arange(n_shards + 1))
    n = sliced.save(dest, {"late": (late, bounds), "early": (early, bounds), "count": (count.astype(np.int32), bounds)})
    return [dest], {"keys": int(len(keys)), "pairs": int(len(late)), "bytes": n, "read_bytes": read}


def anchor_pairs(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """The reduce side of the anchor shuffle for one bucket: what the store path's term index would
    answer for these anchors. An anchor's rows are sorted by rank, so an article's place in its anchor's
    group is the anchor's document frequency among the articles before it (``term_df`` when the store
    path reaches that article); its weight is :func:`newstrace.dedup.anchor_weight` of that.

    Out, routed to the shards of the later articles: each anchor's posting list (the ranks and family
    roots of its first ``ANCHOR_MAX_POSTINGS`` + 1 holders: the only ones it pairs), once per shard that
    holds one of its later holders, and each article's positive anchor weight over this bucket (its mass).
    The pairs are expanded from the lists on the relate side (:func:`_anchor_candidates`): a list of
    L holders stands for L(L-1)/2 pair rows, so this is the shuffle's combiner."""
    from ..dedup import ANCHOR_MAX_POSTINGS, anchor_weight

    out, b, parts = job["out"], int(job["part"]), job["parts"]
    rank, shard_of, _row, root = _rank_tables(out)
    _keys, ranks, starts, sizes, read = _bucket_rows(out, "anchors", parts, b, rank)
    group_start = np.repeat(starts, sizes)
    df = np.arange(len(ranks)) - group_start  # earlier articles holding the same anchor
    w = np.rint(anchor_weight(ranks, df) * ANCHOR_SCALE).astype(np.int64) if len(ranks) else \
        np.zeros(0, np.int64)
    # each article's mass in this bucket: the sum of its positive weights (integers: any order, one sum)
    by_rank = np.argsort(ranks, kind="stable")
    m_rank, m_first = np.unique(ranks[by_rank], return_index=True)
    m_mass = np.add.reduceat(np.maximum(w[by_rank], 0), m_first) if len(m_first) else np.zeros(0, np.int64)
    # a rare anchor pairs each of its holders with every earlier one while df <= ANCHOR_MAX_POSTINGS:
    # only its first ANCHOR_MAX_POSTINGS + 1 holders take part
    n_shards = int(shard_of.max()) + 1 if len(shard_of) else 1
    length = np.minimum(sizes, ANCHOR_MAX_POSTINGS + 1)
    g = np.flatnonzero(length >= 2)
    pos = np.arange(int(length[g].sum())) - np.repeat(np.cumsum(length[g]) - length[g], length[g])
    entry = np.repeat(starts[g], length[g]) + pos  # every holder that takes part, by list
    later = pos >= 1
    # one copy of each list per shard holding a later article of it
    dest = np.unique(np.repeat(np.arange(len(g)), length[g])[later] * n_shards + shard_of[ranks[entry[later]]])
    d_list, d_shard = dest // n_shards, dest % n_shards  # sorted by list, then shard
    order = np.lexsort((d_list, d_shard))
    d_list, d_shard = d_list[order], d_shard[order]
    d_len = length[g][d_list]
    d_pos = np.arange(int(d_len.sum())) - np.repeat(np.cumsum(d_len) - d_len, d_len)
    d_entry = np.repeat(starts[g][d_list], d_len) + d_pos
    m_by_shard = np.argsort(shard_of[m_rank], kind="stable")
    m_rank, m_mass = m_rank[m_by_shard], m_mass[m_by_shard]
    dest_path = part_path(out, "anchor_pairs", job["part"], "bin")
    lists = np.searchsorted(d_shard, np.arange(n_shards + 1))
    entries = np.r_[0, np.cumsum(d_len)][lists]
    masses = np.searchsorted(shard_of[m_rank], np.arange(n_shards + 1))
    # ranks as int32 (2**31 articles): the list entries are this shuffle's bulk, 8 B an entry
    n = sliced.save(dest_path, {"rank": (ranks[d_entry].astype(np.int32), entries),
                                "root": (root[ranks[d_entry]].astype(np.int32), entries),
                                "length": (d_len.astype(np.int32), lists),
                                "m_rank": (m_rank, masses), "m_mass": (m_mass, masses)})
    pair_rows = int((np.minimum(df, ANCHOR_MAX_POSTINGS) * (df >= 1)).sum())
    return [dest_path], {"anchors": int(len(starts)), "postings": int(len(ranks)), "pair_rows": pair_rows,
                         "lists": int(len(d_list)), "list_entries": int(len(d_entry)), "bytes": n,
                         "read_bytes": read}


def _expand_lists(rank: np.ndarray, root: np.ndarray, length: np.ndarray, mine: np.ndarray):
    """The (later rank, earlier rank, later df) of every pair of different families that the posting
    lists (``rank``, ``root``, concatenated, of ``length`` each) make for the later articles in ``mine``."""
    pos = np.arange(len(rank)) - np.repeat(np.cumsum(length) - length, length)  # = the holder's df
    sel = np.flatnonzero((pos >= 1) & mine[rank])
    reps = pos[sel]
    step = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    late_i = np.repeat(sel, reps)
    early_i = np.repeat(sel - reps, reps) + step
    apart = root[early_i] != root[late_i]  # one family is related already, through its origin
    return rank[late_i[apart]].astype(np.int64), rank[early_i[apart]].astype(np.int64), pos[late_i[apart]]


def _candidate_pairs(out: str | Path, shard: int, buckets: int, read: list[int]) -> list[tuple[int, int]]:
    """(later rank, earlier rank) of the candidate pairs of one shard's articles, summed over the buckets
    (the bytes read are added to ``read``)."""
    late, early, count = [], [], []
    for b in range(buckets):
        z = sliced.Reader(part_path(out, "candidates", f"{b:05d}", "bin"))
        late.append(z.read("late", shard))
        early.append(z.read("early", shard))
        count.append(z.read("count", shard))
        read[0] += z.bytes_read
    if not late:
        return []
    pair, inv = np.unique((np.concatenate(late) << 32) | np.concatenate(early), return_inverse=True)
    shared = np.bincount(inv.ravel(), weights=np.concatenate(count))
    keep = shared >= MIN_SHARED_KEYS
    pair, shared = pair[keep], shared[keep]
    late, early = pair >> 32, pair & 0xFFFFFFFF
    order = np.lexsort((early, -shared, late))  # per later article: most shared first, then the earliest
    late, early = late[order], early[order]
    first = np.r_[True, late[1:] != late[:-1]] if len(late) else np.zeros(0, bool)
    place = np.arange(len(late)) - np.maximum.accumulate(np.where(first, np.arange(len(late)), 0))
    keep = place < MAX_PAIR_CANDIDATES
    return list(zip(late[keep].tolist(), early[keep].tolist(), strict=True))


def _anchor_candidates(out: str | Path, shard: int, buckets: int, taken: dict[int, set[int]],
                       shard_of: np.ndarray, read: list[int]) -> list[tuple[int, int]]:
    """(later rank, earlier rank) of the paraphrase candidates of one shard's articles: the anchor pairs
    expanded from the posting lists and summed over the buckets, picked per later article by
    :func:`newstrace.dedup.anchor_candidates` as the store path picks them, after the pairs ``taken``
    already (by later rank) and up to MAX_CANDIDATES in all. ``shard_of``: the shard of each rank; the
    bytes read are added to ``read``."""
    from ..dedup import MAX_CANDIDATES, MIN_SHARED_ANCHORS, anchor_candidates, anchor_weight

    mine = shard_of == shard
    late, early, count, weight, m_rank, m_mass = [], [], [], [], [], []
    for b in range(buckets):
        z = sliced.Reader(part_path(out, "anchor_pairs", f"{b:05d}", "bin"))
        lt, er, df = _expand_lists(z.read("rank", shard), z.read("root", shard),
                                   z.read("length", shard).astype(np.int64), mine)
        late.append(lt)
        early.append(er)
        # the weight of a shared anchor is the later article's: as the store path weighs its own
        weight.append(np.rint(anchor_weight(lt, df) * ANCHOR_SCALE).astype(np.int64) if len(lt)
                      else np.zeros(0, np.int64))
        count.append(np.ones(len(lt), np.int64))
        m_rank.append(z.read("m_rank", shard))
        m_mass.append(z.read("m_mass", shard))
        read[0] += z.bytes_read
    if not late:
        return []
    pair, inv = np.unique((np.concatenate(late) << 32) | np.concatenate(early), return_inverse=True)
    inv = inv.ravel()
    count = np.bincount(inv, weights=np.concatenate(count), minlength=len(pair))
    weight = np.bincount(inv, weights=np.concatenate(weight), minlength=len(pair))  # exact: integers < 2**53
    keep = count >= MIN_SHARED_ANCHORS  # the pick's first test, done here on arrays to keep the loop short
    pair, count, weight = pair[keep], count[keep].astype(np.int64), weight[keep]
    ranks, inv = np.unique(np.concatenate(m_rank), return_inverse=True)
    mass = dict(zip(ranks.tolist(), np.bincount(inv.ravel(), weights=np.concatenate(m_mass)).tolist(), strict=True))
    found = []
    lates = (pair >> 32).tolist()
    starts = [i for i in range(len(lates)) if i == 0 or lates[i] != lates[i - 1]] + [len(lates)]
    earlies, count, weight = (pair & 0xFFFFFFFF).tolist(), count.tolist(), weight.tolist()
    for a, z in zip(starts[:-1], starts[1:], strict=True):
        lt = lates[a]
        room = MAX_CANDIDATES - len(taken.get(lt, ()))
        if room <= 0:
            continue
        shared = {earlies[i]: (count[i], weight[i] / ANCHOR_SCALE) for i in range(a, z)}
        picked = anchor_candidates(shared, mass.get(lt, 0.0) / ANCHOR_SCALE or 1.0, taken.get(lt, ()))
        found.extend((lt, e) for e, _share in picked[:room])
    return found


def article_rows(out: str | Path, part: str, rows: list[int] | None = None):
    """The articles/ rows of one shard (all, or those at ``rows``) as an Arrow table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(part_path(out, "articles", part))
    # an empty list of rows has no type of its own: say it is of row numbers
    return t if rows is None else t.take(pa.array(rows, pa.int64()))


def _articles_at(out: str | Path, part: str, rows: list[int] | None = None) -> list[Article]:
    return [article_from_row(r) for r in article_rows(out, part, rows).to_pylist()]


def _derived_verdicts(out: str | Path, shard: int) -> list[dict[str, Any]]:
    """The verdicts of ``shard``'s articles that name an origin, read one row group at a time: the
    verdicts file holds every article of the corpus, and a whole read (even a filtered one, which reads
    ahead in threads) would hold it all."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cols = ["shard", "row", "relation", "score", "origin_shard", "origin_row"]
    f = pq.ParquetFile(part_path(out, "verdicts", "00000"), pre_buffer=False)
    kept = []
    for i in range(f.num_row_groups):
        t = f.read_row_group(i, columns=cols, use_threads=False)
        kept.append(t.filter(pc.and_(pc.equal(t.column("shard"), shard), pc.is_valid(t.column("origin_shard")))))
    return pa.concat_tables(kept).to_pylist() if kept else []


def relate_plan(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Stage ``relate_plan``: the pairs one shard's relate aligns, and its requests for the earlier
    articles other shards hold (:mod:`.parcels`)."""
    from .parcels import save_plan

    out, part, shard = job["out"], job["part"], int(job["part"])
    # the corpus-wide tables, memory-mapped: the task's own memory is what it indexes out of them
    rank_at, shard_of, row_of, _root = _rank_tables(out)
    # ((shard, row) of the earlier article, of the later one, the stream's verdict or None) of each pair
    todo = [((p["origin_shard"], p["origin_row"]), (p["shard"], p["row"]), p) for p in _derived_verdicts(out, shard)]
    buckets = job.get("buckets", BUCKETS)
    read = [0]
    pairs = _candidate_pairs(out, shard, buckets, read)
    # the store path's candidates of an article: those sharing sentences (its origin among them), then
    # the paraphrase candidates its rare names and numbers point to
    taken: dict[int, set[int]] = {}
    for early, late, _p in todo:
        taken.setdefault(int(rank_at[late]), set()).add(int(rank_at[early]))
    for late, early in pairs:
        taken.setdefault(late, set()).add(early)
    pairs += _anchor_candidates(out, shard, buckets, taken, shard_of, read)

    def place(k: int) -> tuple[int, int]:
        return int(shard_of[k]), int(row_of[k])

    todo += [(place(early), place(late), None) for late, early in pairs]
    outputs, summary = save_plan(out, part, todo, buckets)
    return outputs, {**summary, "read_bytes": read[0]}


def relate(job: dict[str, Any]) -> tuple[list[Path], dict[str, Any]]:
    """Each derived article of one shard against its origin: kind, direction and reused passages."""
    import pyarrow as pa

    from ..dedup import relate_pair
    from .parcels import read_plan, received

    out, part, shard = job["out"], job["part"], int(job["part"])
    todo = read_plan(out, part)
    # the earlier articles other shards hold came through the origin shuffle; this shard's are read here
    sent, read = received(out, shard, job.get("buckets", BUCKETS))
    arts: dict[tuple[int, int], Article] = {place: article_from_row(r) for place, r in sent.items()}
    del sent
    own = sorted({r for e, lt, _p in todo for s, r in (e, lt) if s == shard})
    arts.update(((shard, r), a) for r, a in zip(own, _articles_at(out, part, own), strict=True))
    out_rows = []
    found = 0
    for early, late, p in sorted(todo, key=lambda t: (t[1], t[0])):
        origin, derived = arts[early], arts[late]
        rel = relate_pair(origin, derived, order=lambda a, o=origin.id: 0 if a.id == o else 1)
        if rel is None:
            if p is None:  # a candidate the alignment does not confirm is no relation
                continue
            # the stream's verdict stands, without passages
            rel = Relation(origin.id, derived.id, p["relation"], p["score"], [], "stream")
        else:
            found += 1
        out_rows.append({"origin": rel.origin, "derived": rel.derived, "kind": rel.kind, "score": rel.score,
                         "direction": rel.direction, "passages": _dumps(rel.passages),
                         "stream_relation": p["relation"] if p else None, "stream_score": p["score"] if p else None})
    dest = part_path(out, "relations", part)
    write_parquet(pa.Table.from_pylist(out_rows, schema=_schemas()["relations"]), dest)
    return [dest], {"relations": len(out_rows), "aligned": found, "pairs": len(todo), "read_bytes": read}


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
    from ..summary import key_entities
    from .stories import remove_stale_stories

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
    by_id = {a.id: a for a in articles}
    key_entities(stories, by_id)
    rows = [story_row(s, by_id) for s in stories]
    dest = part_path(out, "stories", "00000")
    write_parquet(pa.Table.from_pylist(rows, schema=_schemas()["stories"]), dest)
    remove_stale_stories(out, {dest.name})
    return [dest], {"stories": len(rows), "articles": len(articles)}

"""The pipeline: read -> clean -> describe -> store, then dedup -> cluster -> attribute -> compare.

Ingest works in batches; each batch is one store transaction. Cleaning and description can run
in worker processes (``workers > 1``): they are pure functions of an article and the
outlet's boilerplate keys, so a batch can go to any process or, later, any engine.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from . import attribute, cluster, compare, dedup, incremental
from .clean import boilerplate_candidates, clean, credit_of, is_chrome, line_key
from .describe import describe, outlet_of
from .errors import E, Skip, skip
from .errors import unattributed as unattributed_message
from .model import Analysis, Article
from .parallel import ordered_map
from .read.jsonl import row_to_article
from .store import Store
from .summary import key_entities

#: a short line seen in this many articles of one outlet is that outlet's chrome
BOILERPLATE_MIN_ARTICLES = 4
BATCH_SIZE = 500
#: the rules an analysis is made by. Bumped with every change to newstrace that changes what an analysis
#: stores for the same articles (the time rule of stories, the quote extractor, ...): an incremental
#: analysis re-does only what is new, so a store analysed under other rules is analysed again from
#: scratch, once, by the next ``analyse`` (a store from before this stamp has none)
ANALYSIS_RULES = "2026-11-25.2"


@dataclass
class IngestSummary:
    """What an ingest did: counts, and every input that was skipped or warned about."""

    read: int = 0
    added: int = 0
    existing: int = 0
    recleaned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # code -> count
    failed: int = 0  # articles that hit an unexpected error
    warnings: Counter[str] = field(default_factory=Counter)
    problems: list[Skip] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, object]:
        return {"read": self.read, "added": self.added, "existing": self.existing, "failed": self.failed,
                "recleaned": self.recleaned,
                "skipped": dict(self.skipped), "warnings": dict(self.warnings),
                "problems": [{"input": p.origin, "code": p.code, "level": p.level, "message": p.message}
                             for p in self.problems]}


def process(article: Article, boilerplate: frozenset[str] = frozenset()) -> Article:
    """Clean and describe one article (the per-article part of ingest)."""
    article.outlet = outlet_of(article)
    return describe(clean(article, boilerplate))


def process_rows(rows: list[dict], origin: str) -> list[Article]:
    """Clean and describe JSONL rows for the batch commands, keeping only what analysis needs.

    A row with a headline and no text still counts (it belongs to a story); the raw text and the
    cleaning trace are dropped, which halves the memory of a large batch.
    """
    out = []
    for row in rows:
        a = row_to_article(row, origin, str(row.get("id")), None)
        if a is None:
            a = row_to_article({**row, "text": row.get("title") or " "}, origin, str(row.get("id")), None)
        if a is None:
            continue
        a.ext_id = str(row["id"])
        a = process(a)
        a.raw, a.segments, a.removed = "", [], []
        out.append(a)
    return out


def process_row_batches(chunks: Iterable[list[dict]], origin: str, workers: int = 1) -> Iterator[list[Article]]:
    """:func:`process_rows` over ``chunks``, in order, in ``workers`` processes."""
    return ordered_map(partial(process_rows, origin=origin), chunks, workers)


def _process_batch(batch: list[tuple[Article, frozenset[str]]]) -> list[Article | Skip]:
    out: list[Article | Skip] = []
    for a, b in batch:
        try:
            out.append(process(a, b))
        except Exception as exc:  # one article's failure must not stop the run; it is reported
            out.append(skip(a.origin, E.E014, detail=f"{type(exc).__name__}: {exc}"[:200]))
    return out


def _batches(items: Iterator[Article | Skip], size: int, summary: IngestSummary,
             on_problem: Callable[[Skip], None]) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for item in items:
        if isinstance(item, Skip):
            summary.problems.append(item)
            if item.level == "skip":
                summary.skipped[item.code] += 1
            elif item.level == "warn":
                summary.warnings[item.code] += 1
            on_problem(item)
            continue
        summary.read += 1
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(
    items: Iterable[Article | Skip],
    store: Store,
    *,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    on_problem: Callable[[Skip], None] = lambda s: None,
    on_batch: Callable[[int], None] = lambda n: None,
) -> IngestSummary:
    """Clean, describe and store a stream of articles; report bad inputs through ``on_problem``."""
    summary = IngestSummary()
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        for batch in _batches(iter(items), batch_size, summary, on_problem):
            _ingest_batch(batch, store, summary, pool, on_problem)
            on_batch(len(batch))
    finally:
        if pool:
            pool.shutdown()
    return summary


def _ingest_batch(batch: list[Article], store: Store, summary: IngestSummary, pool,
                  on_problem: Callable[[Skip], None]) -> None:
    # drop what is stored already, and repeats inside the batch
    stored = store.existing_ids([a.id for a in batch])
    fresh: dict[str, Article] = {}
    for a in batch:
        if a.id in stored or a.id in fresh:
            summary.existing += 1
        else:
            a.outlet = outlet_of(a)
            fresh[a.id] = a
    if not fresh:
        return
    new = list(fresh.values())

    # corpus evidence: short lines counted per outlet, stored counts plus this batch's
    batch_counts: Counter[tuple[str, str]] = Counter()
    sample: dict[tuple[str, str], str] = {}
    for a in new:
        if a.outlet:
            cands = boilerplate_candidates(a.raw)
            batch_counts.update((a.outlet, k) for k in cands)
            for k, line in cands.items():
                sample.setdefault((a.outlet, k), line)
    by_outlet: dict[str, list[str]] = {}
    for outlet, key in batch_counts:
        by_outlet.setdefault(outlet, []).append(key)
    totals: dict[tuple[str, str], int] = {}
    crossed: dict[str, dict[str, str]] = {}
    for outlet, keys in by_outlet.items():
        before = store.boilerplate_counts(outlet, keys)
        for k in keys:
            n0 = before.get(k, 0)
            totals[(outlet, k)] = n0 + batch_counts[(outlet, k)]
            # earlier articles hold a line that only now counts as chrome; the patterns got it already
            # (nor the credit patterns: cleaning removes credits, so stored text never holds one)
            line = sample[(outlet, k)]
            if 0 < n0 < BOILERPLATE_MIN_ARTICLES <= totals[(outlet, k)] and not is_chrome(line) \
                    and credit_of(line) is None:
                crossed.setdefault(outlet, {})[k] = line
    boiler = {o: frozenset(k for k in keys if totals[(o, k)] >= BOILERPLATE_MIN_ARTICLES)
              for o, keys in by_outlet.items()}

    work = [(a, boiler.get(a.outlet or "", frozenset())) for a in new]
    if pool is not None:
        chunk = max(1, len(work) // (pool._max_workers * 2))
        parts = [work[i:i + chunk] for i in range(0, len(work), chunk)]
        results = [a for part in pool.map(_process_batch, parts) for a in part]
    else:
        results = _process_batch(work)
    done = [a for a in results if isinstance(a, Article)]
    for failure in (a for a in results if isinstance(a, Skip)):
        summary.failed += 1
        summary.read -= 1
        summary.problems.append(failure)
        on_problem(failure)

    # lines that just became boilerplate are cleaned out of the outlet's earlier articles too
    redo = _reclean(store, crossed) if crossed else []
    with store.transaction() as conn:
        summary.added += store.add_articles(conn, done, dict(batch_counts))
        if redo:
            store.update_cleaning(conn, redo)
    summary.recleaned += len(redo)


def _reclean(store: Store, crossed: dict[str, dict[str, str]]) -> list[Article]:
    """Re-clean stored articles of an outlet that hold a line which has just become boilerplate."""
    out: dict[str, Article] = {}
    for outlet, lines in crossed.items():
        known = frozenset(k for (k,) in store.conn.execute(
            "SELECT key FROM boilerplate WHERE outlet=? AND n >= ?", (outlet, BOILERPLATE_MIN_ARTICLES)))
        known |= frozenset(lines)
        for key, line in lines.items():
            for a in store.articles(outlet=outlet, text_contains=line):
                if a.id not in out and key in {line_key(p) for p in a.text.split("\n\n")}:
                    out[a.id] = process(_fresh(a), known)
    return list(out.values())


def _fresh(a: Article) -> Article:
    return Article(raw=a.raw, ext_id=a.ext_id, origin=a.origin, title=a.title, url=a.url, source=a.source,
                   date=a.date, fmt=a.fmt, id=a.id)


OnError = Callable[[str], None]


def _to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def _unattributed(on_error: OnError, failed: list[str]) -> Callable[[Article, str], None]:
    """The report of an article the extractor fails on: it stays stored and in its story, without quotes,
    and its id goes to ``failed`` (:func:`_retry_later`)."""
    def report(a: Article, detail: str) -> None:
        failed.append(a.id)
        on_error(f"{a.origin}: id {a.ext_id!r}: {unattributed_message(detail)}")
    return report


def _retry_later(c: sqlite3.Connection, seqs: Iterable[int]) -> None:
    """Mark articles the extractor failed on as changed since their analysis, in the analysis's own
    transaction: the next incremental ``analyse`` attributes them again (a fixed extractor, or a
    failure that was not the article's), as it does an article ingest re-cleaned."""
    c.executemany("INSERT OR IGNORE INTO analyse_dirty VALUES (?)", [(s,) for s in seqs])


def analyse(store: Store, *, full: bool = False, load: bool = True, on_error: OnError = _to_stderr) -> Analysis | None:
    """Analyse what was stored since the last analysis, and return the stored analysis (None when not
    ``load``: reading it all back is seconds at 100,000 articles).

    Relations are always incremental (:func:`dedup.relate_new`). Stories, quotes and discrepancies are
    too (:func:`analyse_new`) once a clustering state is stored; ``full`` (and the first analysis of a
    store without that state, or of one analysed under other rules: :func:`rules_changed`) clusters,
    attributes and compares every stored article from scratch. An article the quote extractor fails on
    gets one line to ``on_error`` and no quotes; the analysis goes on, and the next one attributes that
    article again.
    """
    if full or not incremental.ready(store) or rules_changed(store):
        dedup.relate_new(store)
        result = analyse_full(store, on_error=on_error)
        return result if load else None
    analyse_new(store, on_error=on_error)
    return store.load_analysis() if load else None


def rules_changed(store: Store) -> bool:
    """Whether the store holds an analysis made by other rules than this newstrace's (ANALYSIS_RULES)."""
    return incremental.ready(store) and store.get_state("analysis_rules") != ANALYSIS_RULES


def analyse_full(store: Store, *, quotes: bool = True, on_error: OnError = _to_stderr) -> Analysis:
    """Stories, quotes and discrepancies of every stored article, from scratch; the clustering state
    is rebuilt so that later analyses are incremental. ``quotes=False`` leaves attribution out (the
    clustering evaluation and benchmark use it); ``on_error`` as for :func:`analyse`."""
    articles = list(store.articles())
    relations = store.load_analysis().relations
    rows = store.seq_rows()
    seq_of = {aid: seq for seq, aid, _ in rows}
    okeys = incremental.order_keys((seq, d) for seq, _, d in rows)
    # the order cluster.cluster takes them in: publication order, undated ones after the dated one before
    ordered = sorted(articles, key=lambda a: (okeys[seq_of[a.id]], seq_of[a.id]))
    clusterer = incremental.Clusterer(store, store.conn)
    state = incremental.full_state(clusterer, ordered, seq_of, okeys)
    stories, centroids = clusterer.relink(seq_of.values(), {a.id: a for a in articles}, relations)
    cluster.link_storylines(stories, centroids)
    stories.sort(key=lambda s: (s.first or "", s.id))
    key_entities(stories, {a.id: a for a in articles})
    failed: list[str] = []
    said = attribute.attribute_batch(articles, on_error=_unattributed(on_error, failed)) if quotes else []
    by_id = {a.id: a for a in articles}
    discrepancies = compare.compare(stories, by_id, relations, said)
    result = Analysis(relations, stories, said, discrepancies)
    last = rows[-1][0] if rows else 0

    def also(c: sqlite3.Connection) -> None:
        incremental.write_full_state(store, c, state, len(ordered), last)
        store.set_state(c, "analysis_rules", ANALYSIS_RULES)
        _retry_later(c, (seq_of[aid] for aid in failed))

    store.save_analysis(result, also=also)
    return result


@dataclass
class AnalyseSummary:
    """What an incremental analysis did."""

    new: int = 0  # articles clustered and attributed for the first time
    redone: int = 0  # articles re-cleaned since their analysis, or whose attribution failed in it
    linked: int = 0  # articles whose stories were linked again
    stories_before: int = 0  # stored stories replaced...
    stories_after: int = 0  # ...by this many
    quotes: int = 0


def analyse_new(store: Store, *, quotes: bool = True, on_error: OnError = _to_stderr) -> AnalyseSummary:
    """Relate, cluster, attribute and compare only what changed since the last analysis.

    Needs a stored clustering state (:func:`incremental.ready`). New articles (and those re-cleaned since) are attributed; the clustering state takes them in
    publication order (:class:`incremental.Clusterer`); only the stories their edges reach are linked
    again, their storylines joined with the stored ones, and their discrepancies recomputed; speakers
    are resolved against the stored spellings of the same people; ``on_error`` as for :func:`analyse`.
    """
    dedup.relate_new(store)
    summary = AnalyseSummary()
    last = int(store.get_state("cluster_seq", "0") or 0)
    rows = store.seq_rows(last)
    dirty = store.dirty_seqs()
    summary.new, summary.redone = len(rows), len(dirty)
    if not rows and not dirty:
        return summary
    okeys = incremental.order_keys(((seq, d) for seq, _, d in rows), store.last_date_before(rows[0][0]) if rows
                                   else "")
    ids = [aid for _, aid, _ in rows]
    redo = incremental.Clusterer(store, store.conn).load(dirty)  # re-cleaned: they keep their place
    dirty_ids = {seq: doc.id for seq, doc in redo.items()}
    okeys.update((seq, doc.okey) for seq, doc in redo.items())
    todo_ids = ids + [dirty_ids[s] for s in dirty]
    todo = _by_id(store, todo_ids)
    # the parse is the slow part: outside the write transaction
    failed: list[str] = []
    said = attribute.attribute_batch([todo[i] for i in todo_ids], known=_known_spellings(store),
                                     on_error=_unattributed(on_error, failed)) if quotes else []
    _stable_speakers(store, said)
    summary.quotes = len(said)
    seq_of = {aid: seq for seq, aid, _ in rows} | {aid: seq for seq, aid in dirty_ids.items()}

    with store.transaction() as c:
        clusterer = incremental.Clusterer(store, c)
        for seq in dirty:
            clusterer.remove(seq)
        for aid in sorted(todo_ids, key=lambda a: (okeys[seq_of[a]], seq_of[a])):
            clusterer.add(seq_of[aid], todo[aid], okeys[seq_of[aid]])
        clusterer.flush()
        reached = [d.id for d in clusterer.load(clusterer.affected()).values()]
        partners = {x for r in store.relations_of(todo_ids) for x in (r.origin, r.derived)}
        old = set(store.stories_of([*reached, *partners, *todo_ids]).values())
        members = {a for ms in store.story_members(old).values() for a in ms} | set(todo_ids)
        arts = {**_by_id(store, sorted(members - todo.keys())), **todo}
        relations = [r for r in store.relations_of(members) if r.origin in members and r.derived in members]
        stories, centroids = clusterer.relink(store.seqs_of(c, sorted(members)).values(), arts, relations,
                                              refresh=True)
        clusterer.flush()
        lines, moved = clusterer.link_storylines(stories, centroids, old)
        new_ids = set(todo_ids)
        story_quotes = [*store.quotes_of(sorted(members - new_ids)), *said]
        key_entities(stories, arts)
        discrepancies = compare.compare(stories, arts, relations, story_quotes)
        if quotes:
            store.replace_quotes(c, todo_ids, said, attribute.speaker_table)
        store.replace_stories(c, old, stories, discrepancies)
        store.relabel_storylines(c, lines, moved)
        store.set_state(c, "cluster_seq", str(max([last, *(s for s, _, _ in rows)])))
        # only those done: an ingest between the two phases may have re-cleaned another one since
        c.executemany("DELETE FROM analyse_dirty WHERE seq = ?", [(seq,) for seq in [*dirty, *seq_of.values()]])
        _retry_later(c, (seq_of[aid] for aid in failed))
    summary.linked, summary.stories_before, summary.stories_after = len(members), len(old), len(stories)
    return summary


def _by_id(store: Store, ids: Sequence[str]) -> dict[str, Article]:
    out: dict[str, Article] = {}
    for i in range(0, len(ids), 900):
        out.update((a.id, a) for a in store.articles(ids=ids[i:i + 900]))
    return out


def _known_spellings(store: Store) -> Callable[[list[tuple[str, str]]], list[tuple[str, str]]]:
    """For a batch's (name, kind) mentions, the stored spellings of the speakers they may be: the same
    folded surname, or a person with the same first name (a misspelt surname), one pair per quote."""
    from .attribute.speakers import fold, strip_title

    def known(names: list[tuple[str, str]]) -> list[tuple[str, str]]:
        keys, firsts = set(), set()
        for n, k in names:
            parts = strip_title(n or "").split()
            if parts:
                keys.add(fold(parts[-1]))
                if k == "person" and len(parts) >= 2:
                    firsts.add(parts[0])
        out: list[tuple[str, str]] = []
        for canon, kind, variants in store.speaker_spellings():
            parts = canon.split()
            if parts and (fold(parts[-1]) in keys or (kind == "person" and len(parts) >= 2 and parts[0] in firsts)):
                out += [(v, kind) for v, n in variants.items() for _ in range(n)]
        return out

    return known


def _stable_speakers(store: Store, quotes: list) -> None:
    """Stored speakers keep their canonical name. A new quote's person with the first name and folded
    surname of a stored person, or the same first name and a near surname (the misspelling rule of
    :class:`attribute.SpeakerIndex`), takes the stored name; an organisation with the same content
    words takes the stored organisation's name."""
    from difflib import SequenceMatcher

    from .attribute.speakers import fold, org_key

    if not quotes:
        return
    people: dict[tuple[str, str], str] = {}
    by_first: dict[str, list[str]] = {}
    orgs: dict[frozenset[str], str] = {}
    for canon, kind, _v in store.speaker_spellings():
        parts = canon.split()
        if kind == "person" and len(parts) >= 2:
            people.setdefault((parts[0], fold(parts[-1])), canon)
            by_first.setdefault(parts[0], []).append(fold(parts[-1]))
        elif kind != "person":
            orgs.setdefault(org_key(canon), canon)
    for q in quotes:
        parts = (q.speaker or "").split()
        if q.speaker_kind != "person" and q.speaker:
            q.speaker = orgs.get(org_key(q.speaker), q.speaker)
        elif len(parts) >= 2:
            first, key = parts[0], fold(parts[-1])
            if (first, key) not in people:
                near = [k for k in by_first.get(first, ()) if min(len(k), len(key)) >= 4 and
                        abs(len(k) - len(key)) <= max(len(k), len(key)) * 0.5 and
                        SequenceMatcher(None, key, k).ratio() >= 0.7]
                if near:
                    key = max(near, key=lambda k: SequenceMatcher(None, key, k).ratio())
            q.speaker = people.get((first, key), q.speaker)

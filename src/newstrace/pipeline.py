"""The pipeline: read -> clean -> describe -> store, then dedup -> cluster -> attribute -> compare.

Ingest works in batches; each batch is one store transaction. Cleaning and description can run
in worker processes (``workers > 1``): they are pure functions of an article and the
outlet's boilerplate keys, so a batch can go to any process or, later, any engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from . import attribute, cluster, compare, dedup, summary
from .clean import boilerplate_candidates, clean, credit_of, is_chrome, line_key
from .describe import describe, outlet_of
from .errors import E, Skip, skip
from .model import Analysis, Article
from .parallel import ordered_map
from .read.jsonl import row_to_article
from .store import Store

#: a short line seen in this many articles of one outlet is that outlet's chrome
BOILERPLATE_MIN_ARTICLES = 4
BATCH_SIZE = 500


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


def analyse(store: Store) -> Analysis:
    """Run the analysis stages over every stored article and store the result."""
    dedup.relate_new(store)
    articles = list(store.articles())
    relations = store.load_analysis().relations
    stories = cluster.cluster(articles, relations)
    summary.key_entities(stories, {a.id: a for a in articles})
    quotes = attribute.attribute_batch(articles)
    by_id = {a.id: a for a in articles}
    discrepancies = compare.compare(stories, by_id, relations, quotes)
    result = Analysis(relations, stories, quotes, discrepancies)
    store.save_analysis(result)
    return result

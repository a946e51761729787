"""The ``newstrace`` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from . import __version__
from .cluster import STORY_DAYS, WINDOW_DAYS
from .errors import ENVIRONMENT_ERRORS, NewstraceError, Skip, stopped
from .pipeline import IngestSummary, analyse, ingest, rules_changed
from .read import DEFAULT_MAX_BYTES, read_paths
from .report import (
    article_detail,
    article_summary,
    articles_table,
    render_article,
    render_report,
    report_data,
)
from .store import Store

# exit codes of ingest and run; 3: an unexpected failure stopped the run (stored batches are kept)
EXIT_OK, EXIT_SKIPPED, EXIT_NOTHING, EXIT_FAILED = 0, 1, 2, 3


class Ctx:
    def __init__(self, db: str, quiet: bool) -> None:
        self.db = db
        self.quiet = quiet
        self.out = Console(soft_wrap=False, highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def store(self, readonly: bool = False) -> Store:
        try:
            return Store.open(self.db, readonly=readonly)
        except NewstraceError as exc:
            raise click.ClickException(str(exc)) from exc


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", default="newstrace.db", show_default=True, envvar="NEWSTRACE_DB",
              help="The SQLite store to read and write.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summaries; problems are still reported.")
@click.version_option(__version__, prog_name="newstrace")
@click.pass_context
def main(ctx: click.Context, db: str, quiet: bool) -> None:
    """newstrace: read crawled news like an editor.

    Finds the stories in a pile of articles, the copies and rewrites among them, who said what,
    and where the versions disagree. Inputs: folders or files of .txt, .html, .jsonl(.gz),
    .warc(.gz); `-` reads JSONL from stdin.
    """
    ctx.obj = Ctx(db, quiet)


def _ingest_opts(f):
    f = click.option("--workers", "-j", type=int, default=1, show_default=True,
                     help="Processes for cleaning and description.")(f)
    f = click.option("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, show_default=True,
                     help="Largest file (or JSONL line, WARC record) read; larger ones are skipped.")(f)
    f = click.option("--source", default=None,
                     help="Outlet to record for inputs that do not name one (e.g. bare .txt files).")(f)
    f = click.argument("paths", nargs=-1, required=True)(f)
    return f


def _do_ingest(c: Ctx, store: Store, paths: tuple[str, ...], source: str | None, max_bytes: int,
               workers: int) -> IngestSummary:
    def on_problem(p: Skip) -> None:
        if p.level == "info" and c.quiet:
            return
        style = {"skip": "red", "warn": "yellow"}.get(p.level, "dim")
        c.err.print(f"[{style}]{p.level}[/] {p}", markup=True, highlight=False, soft_wrap=True)

    items = read_paths(paths, source=source, max_bytes=max_bytes)
    run_id = store.start_run("ingest " + " ".join(paths))
    try:
        with _progress(c, "ingest") as advance:
            summary = ingest(items, store, workers=workers, on_problem=on_problem, on_batch=advance)
    except (KeyboardInterrupt, Exception) as exc:
        # every batch is its own transaction: what was committed before the failure is intact
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        c.err.print(f"[red]error[/] [E106] ingest stopped ({what}); batches stored before it are kept, "
                    f"the batch in progress was rolled back", highlight=False, soft_wrap=True)
        sys.exit(EXIT_FAILED)
    store.finish_run(run_id, summary.read, summary.added, summary.n_skipped)
    return summary


def _print_summary(c: Ctx, s: IngestSummary) -> None:
    if c.quiet:
        return
    parts = [f"read {s.read}", f"added {s.added}", f"already stored {s.existing}"]
    if s.recleaned:
        parts.append(f"re-cleaned {s.recleaned}")
    if s.failed:
        parts.append(f"failed {s.failed}")
    parts.append(f"skipped {s.n_skipped}")
    line = "; ".join(parts)
    if s.skipped:
        line += " (" + ", ".join(f"{code}×{n}" for code, n in sorted(s.skipped.items())) + ")"
    if s.warnings:
        line += "; warnings: " + ", ".join(f"{code}×{n}" for code, n in sorted(s.warnings.items()))
    c.err.print(f"[bold]ingest[/]: {line}", highlight=False, soft_wrap=True)


def _exit_code(s: IngestSummary) -> int:
    if s.read == 0:
        return EXIT_NOTHING
    return EXIT_SKIPPED if (s.n_skipped or s.failed) else EXIT_OK


@main.command("ingest")
@_ingest_opts
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def ingest_cmd(c: Ctx, paths: tuple[str, ...], source: str | None, max_bytes: int, workers: int,
               as_json: bool) -> None:
    """Read, clean, describe and store articles. Exit 0: all read; 1: some skipped; 2: nothing read."""
    with c.store() as store:
        summary = _do_ingest(c, store, paths, source, max_bytes, workers)
    if as_json:
        _json(summary.to_dict())
    _print_summary(c, summary)
    sys.exit(_exit_code(summary))


@main.command("analyse")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--full", is_flag=True, help="Cluster, attribute and compare every article again, from scratch "
              "(by default only what was stored since the last analysis, and the stories it reaches).")
@click.pass_obj
def analyse_cmd(c: Ctx, as_json: bool, full: bool) -> None:
    """Find relations, stories, quotes and discrepancies among the stored articles."""
    with c.store() as store:
        _result, failed = _analyse(c, store, full, load=False)
        counts = {t: store.count(t) for t in ("relations", "stories", "quotes", "discrepancies")}
    if as_json:
        _json(counts | {"unattributed": failed})
    elif not c.quiet:
        c.err.print("analyse: " + ", ".join(f"{v} {k}" for k, v in counts.items())
                    + (f"; {failed} articles stored without quotes (errors above; the next analyse tries them "
                       "again)" if failed else ""))
    sys.exit(EXIT_SKIPPED if failed else EXIT_OK)


def _analyse(c: Ctx, store: Store, full: bool = False, load: bool = True):
    """(analysis, articles the quote extractor failed on); each failure is reported on one line."""
    failed: list[str] = []

    def report(msg: str) -> None:
        c.err.print(f"[yellow]warn[/] {msg}", highlight=False, soft_wrap=True)
        failed.append(msg)

    if not full and not c.quiet and rules_changed(store):
        c.err.print("[cyan]note[/] this store was analysed by an earlier newstrace's rules: every article is "
                    "analysed again, once", highlight=False, soft_wrap=True)
    try:
        if c.quiet:
            return analyse(store, full=full, load=load, on_error=report), len(failed)
        with c.err.status("analysing: relations, stories, quotes, discrepancies…"):
            return analyse(store, full=full, load=load, on_error=report), len(failed)
    except ENVIRONMENT_ERRORS as exc:  # no article's fault: every article would fail
        _stopped(c, "analyse", exc, "the stories, quotes and discrepancies stored before are unchanged")


def _stopped(c: Ctx, command: str, exc: BaseException, kept: str) -> NoReturn:
    """One line for a failure of the environment (a model not installed, the disk), then exit 3."""
    c.err.print(f"[red]error[/] {stopped(command, exc, kept)}",
                highlight=False, soft_wrap=True)
    sys.exit(EXIT_FAILED)


@main.command("run")
@_ingest_opts
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def run_cmd(c: Ctx, paths: tuple[str, ...], source: str | None, max_bytes: int, workers: int,
            as_json: bool) -> None:
    """Ingest PATHS, analyse everything stored, and print the story report."""
    with c.store() as store:
        summary = _do_ingest(c, store, paths, source, max_bytes, workers)
        _print_summary(c, summary)
        result, failed = _analyse(c, store)
        data = report_data(store, result)
    if as_json:
        _json({"ingest": summary.to_dict(), "unattributed": failed, **data})
    else:
        render_report(data, c.out)
    code = _exit_code(summary)
    sys.exit(EXIT_SKIPPED if failed and code == EXIT_OK else code)


@main.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def report_cmd(c: Ctx, as_json: bool) -> None:
    """Stories with their articles, outlets, reuse relations, quotes and discrepancies."""
    with c.store(readonly=True) as store:
        data = report_data(store)
    if as_json:
        _json(data)
    else:
        render_report(data, c.out)


@main.command("stories")
@click.option("--since", default=None, help="Only stories still running on or after this date (YYYY-MM-DD).")
@click.option("--until", default=None, help="Only stories that began on or before this date.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def stories_cmd(c: Ctx, since: str | None, until: str | None, as_json: bool) -> None:
    """Stories, newest first: headline, time span, outlets, article and copy counts, storyline."""
    from rich.table import Table

    with c.store(readonly=True) as store:
        data = report_data(store)
    rows = [s for s in data["stories"]
            if (since is None or (s["last"] or "") >= since or not s["last"])
            and (until is None or (s["first"] or "") <= until + "~")]
    if since or until:  # undated stories cannot be placed in a time window
        rows = [s for s in rows if s["first"]]
    rows.sort(key=lambda s: (s["last"] or "", s["id"]), reverse=True)
    if as_json:
        _json([{k: v for k, v in s.items() if k != "articles"} | {"articles": [a["id"] for a in s["articles"]]}
               for s in rows])
        return
    t = Table(header_style="bold")
    for col in ("story", "first", "last", "articles", "copies", "outlets", "storyline", "headline"):
        if col == "headline":
            t.add_column(col, overflow="fold", min_width=30, ratio=1)
        else:
            t.add_column(col, no_wrap=True, max_width=24 if col == "outlets" else None)
    for s in rows:
        t.add_row(s["id"], s["first"] or "-", s["last"] or "-", str(len(s["articles"])), str(s["copies"]),
                  ", ".join(s["outlets"]) or "-", s["storyline"] or "-", s["headline"])
    c.out.print(t)


@main.command("story")
@click.argument("story_id")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def story_cmd(c: Ctx, story_id: str, as_json: bool) -> None:
    """One story: summary, articles with their reuse relations, quotes, discrepancies, storyline.
    Given a storyline's id (as `report` and `stories` print it), the storyline: its timeline, then each
    of its stories."""
    with c.store(readonly=True) as store:
        data = report_data(store)
    match = [s for s in data["stories"] if s["id"] == story_id or s["id"].startswith(story_id)]
    if not match:
        lines = [x for x in data["storylines"] if x["id"] == story_id or x["id"].startswith(story_id)]
        if len(lines) == 1:
            line = lines[0]
            stories = [s for s in data["stories"] if s["storyline"] == line["id"]]
            if as_json:
                _json({**line, "stories": stories})
            else:
                render_report({**data, "stories": stories, "storylines": [line]}, c.out)
            return
    if len(match) != 1:
        raise click.ClickException(f"[E107] {'no story' if not match else 'more than one story'} {story_id!r}")
    story = match[0]
    line = next((x for x in data["storylines"] if x["id"] == story["storyline"]), None)
    if as_json:
        _json({**story, "storyline": line})
        return
    render_report({**data, "stories": [story], "storylines": [line] if line else []}, c.out)


@main.command("articles")
@click.option("--outlet", default=None, help="Only this outlet's articles.")
@click.option("--limit", type=int, default=None, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def articles_cmd(c: Ctx, outlet: str | None, limit: int | None, as_json: bool) -> None:
    """A table of the stored articles."""
    with c.store(readonly=True) as store:
        arts = []
        for a in store.articles(outlet=outlet):
            arts.append(a)
            if limit and len(arts) >= limit:
                break
    if as_json:
        _json([article_summary(a) for a in arts])
    else:
        c.out.print(articles_table(arts))


@main.command("show")
@click.argument("ref")
@click.option("--removed", is_flag=True, help="Also show what cleaning removed, and why.")
@click.option("--raw", is_flag=True, help="Also show the raw text.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def show_cmd(c: Ctx, ref: str, removed: bool, raw: bool, as_json: bool) -> None:
    """One article (by id, id prefix or input name): metadata and clean text."""
    with c.store(readonly=True) as store:
        try:
            a = store.get(ref)
        except NewstraceError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        _json(article_detail(a, removed=removed, raw=raw))
    else:
        render_article(a, c.out, removed=removed, raw=raw)


@main.command("dedup")
@click.argument("input_path", metavar="IN.jsonl")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the JSONL verdicts.")
@click.option("--workers", "-j", type=int, default=1, show_default=True,
              help="Processes that fingerprint while the main one decides.")
@click.pass_obj
def dedup_cmd(c: Ctx, input_path: str, output: str, workers: int) -> None:
    """One pass in date order: which earlier article each input article derives from.

    Writes one line per article: {"id", "duplicate_of", "relation", "score"}; duplicate_of is
    the earliest article of its family, null for an original. Needs no store.
    """
    import time
    from collections import Counter

    from .dedup.stream import dedup_rows

    errors = 0

    def count_error(msg: str) -> None:
        nonlocal errors
        errors += 1

    kinds: Counter[str] = Counter()
    start = time.perf_counter()
    rows = read_rows_any(c, input_path, count_error)
    with _open_out(output) as out, _progress(c, "dedup") as advance:
        for d in dedup_rows(rows, workers=workers):
            out.write(json.dumps(d.to_dict()) + "\n")
            kinds[d.relation or "original"] += 1
            advance(1)
    n = sum(kinds.values())
    if not c.quiet:
        secs = time.perf_counter() - start
        c.err.print(f"dedup: {n} articles in {secs:.1f}s ({n / max(secs, 1e-9):.0f}/s): "
                    + ", ".join(f"{k} {v}" for k, v in kinds.most_common())
                    + (f"; {errors} lines skipped" if errors else ""), highlight=False)
    sys.exit(EXIT_NOTHING if n == 0 else EXIT_SKIPPED if errors else EXIT_OK)


@main.command("cluster")
@click.argument("input_path", metavar="IN.jsonl")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the JSONL assignments.")
@click.option("--workers", "-j", type=int, default=1, show_default=True,
              help="Processes that clean and describe the articles before clustering.")
@click.option("--story-days", type=click.IntRange(min=0), default=STORY_DAYS, show_default=True,
              help="The longest stretch of time one story may span, in days.")
@click.option("--pause-days", type=click.IntRange(min=0), default=WINDOW_DAYS, show_default=True,
              help="The longest pause between two reports of one story, in days (and how far apart in time "
                   "two articles may be to count as neighbours).")
@click.pass_obj
def cluster_cmd(c: Ctx, input_path: str, output: str, workers: int, story_days: int, pause_days: int) -> None:
    """Batch story clustering: writes {"id", "story"} for every input article. Needs no store.

    Input fields: id, title, text, date (may be null), source (may be null). An article that copies,
    excerpts or edits an earlier one (the one-pass dedup) is put in that one's story. A story spans at
    most --story-days, with no pause longer than --pause-days; longer-running matters are storylines
    (the store's `report`), not stories.
    """
    from itertools import islice

    from .cluster import cluster
    from .pipeline import process_row_batches

    rows = iter(read_rows_any(c, input_path))
    arts = []
    with _progress(c, "read") as advance:
        for done in process_row_batches(iter(lambda: list(islice(rows, 500)), []), input_path, workers):
            arts += done
            advance(len(done))
    # a copy, excerpt or edit is always in its origin's story: the one-pass dedup names the origins
    from .dedup.stream import dedup_rows
    from .model import Relation

    families = [Relation(d.duplicate_of, d.id, d.relation or "copy", d.score)
                for d in dedup_rows({"id": a.id, "text": a.text} for a in arts) if d.duplicate_of]
    stories = cluster(arts, families, window=pause_days, span=story_days)
    story_of = {aid: s.id for s in stories for aid in s.articles}
    with _open_out(output) as out:
        for a in arts:
            out.write(json.dumps({"id": a.ext_id, "story": story_of[a.id]}) + "\n")
    if not c.quiet:
        c.err.print(f"cluster: {len(arts)} articles in {len(stories)} stories", highlight=False)


def read_rows_any(c: Ctx, path: str, on_error: Callable[[str], None] = lambda msg: None):
    """JSON objects of a JSONL file (``-``: stdin) in date order; bad lines reported and passed over."""
    from .dedup.stream import read_rows

    if path != "-" and not os.path.exists(path):
        raise click.ClickException(f"[E011] {path}: no such file")

    def report(msg: str) -> None:
        c.err.print(f"[red]skip[/] {msg}", highlight=False, soft_wrap=True)
        on_error(msg)

    return read_rows(path, report)


@contextmanager
def _open_out(path: str):
    if path == "-":
        yield sys.stdout
    else:
        with open(path, "w", encoding="utf-8") as f:
            yield f


@main.command("quotes")
@click.argument("input_path", metavar="[IN.jsonl]", required=False)
@click.option("-o", "--output", default="-", show_default=True, help="Batch mode: where to write the JSONL.")
@click.option("--speaker", default=None, help="Only quotes whose speaker (or its spelling) contains this.")
@click.option("--story", default=None, help="Only quotes of this story (id or id prefix).")
@click.option("--json", "as_json", is_flag=True, help="Print stored quotes as JSON.")
@click.option("--workers", "-j", type=int, default=1, show_default=True,
              help="Batch mode: processes that parse (each loads the spaCy model).")
@click.pass_obj
def quotes_cmd(c: Ctx, input_path: str | None, output: str, speaker: str | None, story: str | None,
               as_json: bool, workers: int) -> None:
    """Quotes and reported statements with their speakers.

    With IN.jsonl (batch mode, no store): one line per attribution, {"doc_id", "content", "source",
    "cue", "speaker", "kind", "pieces"}, offsets being Python string offsets into the input "text"
    ("pieces": the quotations of a statement split by its frame; "content" is then the run of them whose
    words outweigh the frame between them, the whole span unless a long frame comes between). Without it:
    the quotes in the store.
    """
    from .attribute.batch import quote_rows

    if input_path is None:
        with c.store(readonly=True) as store:
            rows = store.quotes(speaker=speaker, story=story)
            names = {a.id: a.ext_id for a in store.articles()}
        if as_json:
            _json([{"article": q.article, "input": names.get(q.article), "speaker": q.speaker, "mention": q.mention,
                    "speaker_kind": q.speaker_kind, "kind": q.kind, "text": q.text, "content": list(q.content)}
                   for q in rows])
        else:
            from rich.table import Table

            t = Table(header_style="bold")
            for col in ("speaker", "as written", "kind", "quote", "article"):
                t.add_column(col, overflow="fold")
            for q in rows:
                t.add_row(q.speaker or "?", q.mention if q.mention and q.mention != q.speaker else "", q.kind,
                          q.text, names.get(q.article, q.article[:8]))
            c.out.print(t)
        return

    n = 0
    failed: list[str] = []

    def report(msg: str) -> None:
        c.err.print(f"[red]skip[/] {msg}", highlight=False, soft_wrap=True)
        failed.append(msg)

    try:
        with _open_out(output) as out, _progress(c, "quotes") as advance:
            for read, lines in quote_rows(read_rows_any(c, input_path), input_path, workers=workers,
                                          on_error=report):
                advance(read)
                for line in lines:
                    if speaker and not (line["speaker"] and speaker.lower() in line["speaker"].lower()):
                        continue
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                    n += 1
    except ENVIRONMENT_ERRORS as exc:  # no article's fault: every article would fail
        _stopped(c, "quotes", exc, f"{n} attributions were written before it")
    if not c.quiet:
        c.err.print(f"quotes: {n} attributions" + (f", {len(failed)} articles skipped" if failed else ""),
                    highlight=False)


@main.command("speakers")
@click.option("--json", "as_json", is_flag=True, help="Print the speakers as JSON.")
@click.pass_obj
def speakers_cmd(c: Ctx, as_json: bool) -> None:
    """Canonical speakers: one entry per person or organisation, with the spellings used and the
    ones flagged as probable misspellings."""
    with c.store(readonly=True) as store:
        rows = store.speakers()
    if as_json:
        _json(rows)
        return
    from rich.table import Table

    t = Table(header_style="bold")
    for col in ("speaker", "kind", "quotes", "spellings", "flagged"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["name"], r["kind"], str(r["quotes"]),
                  ", ".join(f"{v} ({n})" for v, n in sorted(r["variants"].items(), key=lambda x: -x[1])),
                  "; ".join(f"{v}: {why}" for v, why in r["flags"].items()))
    c.out.print(t)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--max-body", type=int, default=10_000_000, show_default=True,
              help="Largest request body accepted, in bytes (larger: 413).")
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.pass_obj
def serve_cmd(c: Ctx, host: str, port: int, max_body: int, access_log: bool) -> None:
    """The newsroom view: web pages and a JSON API (/api) over the store.

    Read-only unless NEWSTRACE_TOKEN is set; then POST /api/articles ingests with that bearer token.
    """
    from .serve.cli import serve

    try:
        serve(c.db, host=host, port=port, max_body=max_body, access_log=access_log, quiet=c.quiet)
    except NewstraceError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("compare")
@click.argument("first")
@click.argument("second")
@click.option("--json", "as_json", is_flag=True, help="Print the relation and aligned passages as JSON.")
@click.pass_obj
def compare_cmd(c: Ctx, first: str, second: str, as_json: bool) -> None:
    """Two articles side by side: the reused passages aligned and the changes marked."""
    from .dedup import relate_pair
    from .report import render_compare

    with c.store(readonly=True) as store:
        try:
            a, b = store.get(first), store.get(second)
        except NewstraceError as exc:
            raise click.ClickException(str(exc)) from exc
    rel = relate_pair(a, b)
    arts = {a.id: a, b.id: b}
    if as_json:
        _json({"origin": rel.origin if rel else None, "derived": rel.derived if rel else None,
               "relation": rel.kind if rel else None, "score": rel.score if rel else 0.0,
               "direction": rel.direction if rel else None,
               "passages": [{"origin": [p.a_start, p.a_end], "derived": [p.b_start, p.b_end],
                             "similarity": p.similarity, "diff": p.diff} for p in (rel.passages if rel else [])]})
    else:
        render_compare(rel, arts, a, b, c.out)


@main.command("batch")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--out", "out_dir", required=True, help="Folder for the sharded Parquet outputs (and the manifests).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: Ray tasks (pip install 'newstrace[ray]').")
@click.option("--address", default=None, help="Ray cluster to join (default: start a local Ray instance).")
@click.option("--workers", "-j", type=int, default=None, help="Ray: tasks at a time (default: the cluster's CPUs).")
@click.option("--shard-mb", type=float, default=64, show_default=True, help="Plain JSONL is split into shards this big.")
@click.option("--source", default=None, help="Outlet to record for inputs that do not name one.")
@click.option("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, show_default=True,
              help="Largest JSONL line, file or WARC record read; larger ones are skipped.")
@click.option("--story-windows", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Cluster stories by overlapping 14-day windows in parallel (on), in one task (off), or by "
                   "windows when they hold 1,000 articles or more (auto).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def batch_cmd(c: Ctx, inputs: tuple[str, ...], out_dir: str, engine: str, address: str | None, workers: int | None,
              shard_mb: float, source: str | None, max_bytes: int, story_windows: str, as_json: bool) -> None:
    """Read, clean, dedup, cluster and attribute sharded inputs into Parquet (articles, relations, stories,
    quotes) on a local or Ray engine. IN: JSONL(.gz), Parquet, WARC files, folders, globs or fsspec URLs.
    A rerun skips the shards and stages already done. Exit 0: all read; 1: some skipped; 2: nothing read."""
    from .batch import make_engine, run_batch

    try:
        eng = make_engine(engine, address, workers)
    except NewstraceError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        if c.quiet:
            summary = run_batch(list(inputs), out_dir, eng, shard_bytes=int(shard_mb * 1024 * 1024), source=source,
                                max_bytes=max_bytes, story_windows=story_windows)
        else:
            with c.err.status("batch: listing inputs") as status:
                summary = run_batch(list(inputs), out_dir, eng, shard_bytes=int(shard_mb * 1024 * 1024),
                                    source=source, max_bytes=max_bytes, story_windows=story_windows,
                                    on_stage=lambda s: status.update(f"batch ({eng.name}): {s}"))
    except (KeyboardInterrupt, Exception) as exc:
        # every finished part has its outputs and manifest in place: a rerun resumes after them
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        c.err.print(f"[red]error[/] [E114] batch stopped ({what.splitlines()[0][:300]}); finished parts are kept "
                    f"in {out_dir}, run the same command again to resume", highlight=False, soft_wrap=True)
        sys.exit(EXIT_FAILED)
    finally:
        eng.close()
    for p in summary.problems:
        if not (p.level == "info" and c.quiet):
            c.err.print(f"[red]{p.level}[/] {p}", highlight=False, soft_wrap=True)
    if as_json:
        _json(summary.to_dict())
    if not c.quiet:
        reused = sum(summary.reused.values())
        c.err.print(f"batch ({eng.name}): {summary.articles} articles from {summary.shards} shards; "
                    f"{summary.relations} relations, {summary.stories} stories, {summary.quotes} quotes"
                    + (f"; {summary.repeated} read twice" if summary.repeated else "")
                    + (f"; skipped {sum(summary.skipped.values())}" if summary.skipped else "")
                    + (f"; {reused} stage parts reused from an earlier run" if reused else ""), highlight=False)
    sys.exit(EXIT_NOTHING if summary.articles == 0 else EXIT_SKIPPED if summary.skipped else EXIT_OK)


@main.command("import")
@click.argument("out_dir", metavar="DIR")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def import_cmd(c: Ctx, out_dir: str, as_json: bool) -> None:
    """Load a `newstrace batch` output folder into the store (idempotent: a rerun adds nothing twice)."""
    from .batch import import_dir

    with c.store() as store:
        try:
            counts = import_dir(out_dir, store)
        except NewstraceError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        _json(counts)
    elif not c.quiet:
        c.err.print("import: " + ", ".join(f"{v} {k}" for k, v in counts.items()), highlight=False)


@contextmanager
def _progress(c: Ctx, label: str):
    if c.quiet:
        yield lambda n: None
        return
    with Progress(SpinnerColumn(), TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("articles"),
                  TimeElapsedColumn(), console=c.err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


if __name__ == "__main__":  # pragma: no cover
    main()

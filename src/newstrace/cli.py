"""The ``newstrace`` command line."""

from __future__ import annotations

import json
import sys
from typing import Any

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
from .errors import NewstraceError, Skip
from .pipeline import IngestSummary, analyse, ingest
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

# exit codes of ingest and run
EXIT_OK, EXIT_SKIPPED, EXIT_NOTHING = 0, 1, 2


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
    if c.quiet:
        summary = ingest(items, store, workers=workers, on_problem=on_problem)
    else:
        with Progress(SpinnerColumn(), TextColumn("ingest"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("articles"), TimeElapsedColumn(), console=c.err, transient=True) as bar:
            task = bar.add_task("ingest", total=None)
            summary = ingest(items, store, workers=workers, on_problem=on_problem,
                             on_batch=lambda n: bar.advance(task, n))
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
    c.err.print(f"[bold]ingest[/]: {line}", highlight=False)


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
@click.pass_obj
def analyse_cmd(c: Ctx, as_json: bool) -> None:
    """Find relations, stories, quotes and discrepancies among the stored articles."""
    with c.store() as store:
        result = _analyse(c, store)
    counts = {"relations": len(result.relations), "stories": len(result.stories), "quotes": len(result.quotes),
              "discrepancies": len(result.discrepancies)}
    if as_json:
        _json(counts)
    elif not c.quiet:
        c.err.print("analyse: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def _analyse(c: Ctx, store: Store):
    if c.quiet:
        return analyse(store)
    with c.err.status("analysing: relations, stories, quotes, discrepancies…"):
        return analyse(store)


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
        result = _analyse(c, store)
        data = report_data(store, result)
    if as_json:
        _json({"ingest": summary.to_dict(), **data})
    else:
        render_report(data, c.out)
    sys.exit(_exit_code(summary))


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


if __name__ == "__main__":  # pragma: no cover
    main()

"""Load a batch output folder into the SQLite store through the Store API."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import NewstraceError
from ..model import Analysis, Quote, Story
from ..store import Store
from .stages import DIRS, article_from_row, load_relations

BATCH = 2000


def _parts(out: Path, kind: str) -> list[Path]:
    return sorted((out / DIRS[kind]).glob("part-*.parquet"))


def import_dir(out: str | os.PathLike[str], store: Store) -> dict[str, int]:
    """Load articles, relations, stories and quotes from a batch folder; idempotent.

    Articles go in batches, one transaction each, in the batch's global order; an article stored
    already is left as it is. Relations replace those of the same pair. Stories and quotes replace
    the stored analysis in one transaction (as ``analyse`` does).
    """
    import pyarrow.parquet as pq

    out = Path(out)
    if not (out / "_batch.json").exists():
        raise NewstraceError(f"[E113] {out} holds no finished batch run (no _batch.json): run `newstrace batch` first")
    verdicts = pq.read_table(out / DIRS["verdicts"] / "part-00000.parquet", columns=["shard", "row"]).to_pylist()
    rank = {(v["shard"], v["row"]): i for i, v in enumerate(verdicts)}
    added = 0
    for p in _parts(out, "articles"):
        rows = [r for r in pq.read_table(p).to_pylist() if (r["shard"], r["row"]) in rank]
        rows.sort(key=lambda r: rank[(r["shard"], r["row"])])
        for i in range(0, len(rows), BATCH):
            arts = [article_from_row(r) for r in rows[i:i + BATCH]]
            with store.transaction() as conn:
                added += store.add_articles(conn, arts, {})
    relations = load_relations(out)
    with store.transaction() as conn:
        store.add_relations(conn, relations)
    stories = []
    for p in _parts(out, "stories"):
        for r in pq.read_table(p).to_pylist():
            stories.append(Story(r["id"], r["articles"], r["headline"] or "", r["first"], r["last"], r["outlets"],
                                 r["key_names"], r["copies"], r["storyline"],
                                 json.loads(r.get("entities") or "{}")))  # older folders have no entities
    quotes = []
    for p in _parts(out, "quotes"):
        for r in pq.read_table(p).to_pylist():
            pair = lambda a, b: (a, b) if a is not None else None  # noqa: E731
            quotes.append(Quote(r["article"], (r["start"], r["end"]), r["kind"], r["text"],
                                pair(r["cue_start"], r["cue_end"]), pair(r["source_start"], r["source_end"]),
                                r["speaker"]))
    store.save_analysis(Analysis([], stories, quotes, []))
    with store.transaction() as conn:
        store.set_state(conn, "batch_import", json.dumps({"dir": str(out), "articles": len(rank)}))
    return {"articles": len(rank), "added": added, "relations": len(relations), "stories": len(stories),
            "quotes": len(quotes)}

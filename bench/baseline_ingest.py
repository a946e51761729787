"""The baseline for the ingest benchmark: what a user would write without newstrace.

Reads JSONL with ``json``, repairs each text with ``ftfy.fix_text`` (its default settings), and
stores the articles into SQLite in batches, one transaction per 500 articles. The article's own
id is the primary key and rows go in with INSERT OR IGNORE, so a second run adds nothing.

usage: baseline_ingest.py STREAM.jsonl DB [--batch 500]
Prints one JSON line: {"read": ..., "added": ...}.
"""

from __future__ import annotations

import argparse
import json
import sqlite3

import ftfy

SCHEMA = """CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT, text TEXT NOT NULL, date TEXT, source TEXT, url TEXT
)"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stream")
    ap.add_argument("db")
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()

    conn = sqlite3.connect(args.db, isolation_level=None)
    conn.execute(SCHEMA)
    insert = "INSERT OR IGNORE INTO articles VALUES (?,?,?,?,?,?)"
    read = added = 0
    rows: list[tuple[str | None, ...]] = []

    def flush() -> int:
        conn.execute("BEGIN")
        before = conn.total_changes
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        rows.clear()
        return conn.total_changes - before

    with open(args.stream, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            read += 1
            rows.append((row.get("id"), row.get("title"), ftfy.fix_text(row.get("text") or ""),
                         row.get("date"), row.get("source"), row.get("url")))
            if len(rows) >= args.batch:
                added += flush()
    if rows:
        added += flush()
    conn.close()
    print(json.dumps({"read": read, "added": added}))


if __name__ == "__main__":
    main()

"""Store stage: the embedded SQLite store (WAL), with a versioned schema and migrations.

Every write is one transaction: a batch of articles goes in whole or not at all, and the
analysis results replace the previous ones atomically. Article ids are derived from content,
so inserting an article that is already stored is a no-op (re-ingesting is idempotent).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import NewstraceError
from .model import Analysis, Article, Credit, Discrepancy, Passage, Quote, Relation, Removed, Segment, Story

# Each entry migrates the schema from version i to i + 1. Never edit a released entry: add one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,              -- insertion order
        ext_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        fmt TEXT NOT NULL,
        url TEXT, source TEXT, outlet TEXT, date TEXT, title TEXT,
        headline TEXT, standfirst TEXT, dateline TEXT, byline TEXT,
        language TEXT, word_count INTEGER NOT NULL DEFAULT 0,
        raw TEXT NOT NULL,
        text TEXT NOT NULL,
        removed TEXT NOT NULL DEFAULT '[]',   -- JSON list of Removed
        segments TEXT NOT NULL DEFAULT '[]',  -- JSON list of Segment
        credits TEXT NOT NULL DEFAULT '[]',   -- JSON list of Credit
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX articles_ext ON articles(ext_id);
    CREATE INDEX articles_date ON articles(date);
    CREATE INDEX articles_outlet ON articles(outlet);
    CREATE UNIQUE INDEX articles_seq ON articles(seq);

    -- short lines counted per outlet: the corpus evidence for chrome
    CREATE TABLE boilerplate (
        outlet TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (outlet, key)
    ) WITHOUT ROWID;

    CREATE TABLE relations (
        origin TEXT NOT NULL, derived TEXT NOT NULL, kind TEXT NOT NULL, score REAL NOT NULL,
        direction TEXT NOT NULL DEFAULT '', passages TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (origin, derived)
    );
    CREATE INDEX relations_derived ON relations(derived);

    CREATE TABLE stories (
        id TEXT PRIMARY KEY, headline TEXT, first TEXT, last TEXT, outlets TEXT NOT NULL DEFAULT '[]',
        size INTEGER NOT NULL
    );
    CREATE TABLE story_articles (
        article TEXT PRIMARY KEY, story TEXT NOT NULL
    );
    CREATE INDEX story_articles_story ON story_articles(story);

    CREATE TABLE quotes (
        id INTEGER PRIMARY KEY, article TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
        kind TEXT NOT NULL, text TEXT NOT NULL, cue_start INTEGER, cue_end INTEGER,
        source_start INTEGER, source_end INTEGER, speaker TEXT
    );
    CREATE INDEX quotes_article ON quotes(article);
    CREATE INDEX quotes_speaker ON quotes(speaker);

    CREATE TABLE discrepancies (
        id INTEGER PRIMARY KEY, story TEXT NOT NULL, kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,
        a_text TEXT NOT NULL, b_text TEXT NOT NULL, note TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, command TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
        read INTEGER, added INTEGER, skipped INTEGER
    );
    """,
    # 2: the persistent reuse index: sentence keys and salient terms of every indexed article
    """
    CREATE TABLE sentence_index (
        key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq)
    ) WITHOUT ROWID;
    CREATE TABLE term_index (
        term TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (term, seq)
    ) WITHOUT ROWID;
    CREATE TABLE term_df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE state (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    """,
    # 3: story summaries and storylines
    """
    ALTER TABLE stories ADD COLUMN key_names TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE stories ADD COLUMN copies INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE stories ADD COLUMN storyline TEXT;
    CREATE INDEX stories_storyline ON stories(storyline);
    """,
    # 4: speakers: how each quote names its speaker, and one row per canonical person or organisation
    """
    ALTER TABLE quotes ADD COLUMN mention TEXT;
    ALTER TABLE quotes ADD COLUMN speaker_kind TEXT;
    CREATE TABLE speakers (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, quotes INTEGER NOT NULL,
        variants TEXT NOT NULL DEFAULT '{}', flags TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 5: full-text search (FTS5) over article headlines, titles and clean text, and over quotes and their
    # speakers; external-content tables kept in step with their tables by triggers (so a write and its
    # index update share one transaction), back-filled by 'rebuild'. Plus the indexes the web views page on.
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        headline, title, text, content='articles', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, headline, title, text) VALUES (new.seq, new.headline, new.title, new.text);
    END;
    CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, headline, title, text)
        VALUES ('delete', old.seq, old.headline, old.title, old.text);
    END;
    CREATE TRIGGER articles_fts_au AFTER UPDATE OF seq, headline, title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, headline, title, text)
        VALUES ('delete', old.seq, old.headline, old.title, old.text);
        INSERT INTO articles_fts(rowid, headline, title, text) VALUES (new.seq, new.headline, new.title, new.text);
    END;
    INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');

    CREATE VIRTUAL TABLE quotes_fts USING fts5(
        text, speaker, content='quotes', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER quotes_fts_ai AFTER INSERT ON quotes BEGIN
        INSERT INTO quotes_fts(rowid, text, speaker) VALUES (new.id, new.text, new.speaker);
    END;
    CREATE TRIGGER quotes_fts_ad AFTER DELETE ON quotes BEGIN
        INSERT INTO quotes_fts(quotes_fts, rowid, text, speaker) VALUES ('delete', old.id, old.text, old.speaker);
    END;
    CREATE TRIGGER quotes_fts_au AFTER UPDATE OF id, text, speaker ON quotes BEGIN
        INSERT INTO quotes_fts(quotes_fts, rowid, text, speaker) VALUES ('delete', old.id, old.text, old.speaker);
        INSERT INTO quotes_fts(rowid, text, speaker) VALUES (new.id, new.text, new.speaker);
    END;
    INSERT INTO quotes_fts(quotes_fts) VALUES ('rebuild');

    CREATE INDEX stories_first ON stories(first, id);
    CREATE INDEX discrepancies_story ON discrepancies(story);
    CREATE INDEX articles_outlet_date ON articles(outlet, date);
    """,
    # 6: each quote carries its article's date (kept by a trigger), so that a speaker's quotes, newest
    # first, are an index range: sorting a prolific speaker's 12,000 quotes by a joined date took 0.3-1.3 s
    """
    ALTER TABLE quotes ADD COLUMN date TEXT;
    UPDATE quotes SET date = (SELECT a.date FROM articles a WHERE a.id = quotes.article);
    CREATE TRIGGER quotes_date_ai AFTER INSERT ON quotes WHEN new.date IS NULL BEGIN
        UPDATE quotes SET date = (SELECT a.date FROM articles a WHERE a.id = new.article) WHERE id = new.id;
    END;
    CREATE INDEX quotes_speaker_date ON quotes(speaker, date DESC, id);
    CREATE INDEX quotes_date ON quotes(date DESC, id);
    """,
    # 7: incremental analysis. The clustering state: each clustered article's term counts (vocabulary ids),
    # the document frequencies they were weighed with, the postings of each article's heaviest terms (the
    # inverted index a new article probes) and every article's neighbour list; story key names by name,
    # so a changed story finds the stories it may share a storyline with; and the articles whose clean text
    # changed since they were analysed (kept by a trigger; the analysis adds those the quote extractor
    # failed on), so their quotes and terms are redone.
    """
    CREATE TABLE cluster_vocab (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, df INTEGER NOT NULL);
    CREATE TABLE cluster_articles (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, okey TEXT NOT NULL, day INTEGER,
        terms BLOB NOT NULL, counts BLOB NOT NULL   -- int32 arrays: vocabulary ids, ascending, and counts
    );
    CREATE INDEX cluster_articles_id ON cluster_articles(id);
    CREATE TABLE cluster_postings (
        term INTEGER NOT NULL, seq INTEGER NOT NULL, w REAL NOT NULL, day INTEGER, PRIMARY KEY (term, seq)
    ) WITHOUT ROWID;
    CREATE TABLE cluster_nbrs (
        seq INTEGER NOT NULL, nbr INTEGER NOT NULL, sim REAL NOT NULL, PRIMARY KEY (seq, nbr)
    ) WITHOUT ROWID;
    CREATE INDEX cluster_nbrs_nbr ON cluster_nbrs(nbr);
    CREATE TABLE story_names (name TEXT NOT NULL, story TEXT NOT NULL, PRIMARY KEY (name, story)) WITHOUT ROWID;
    INSERT OR IGNORE INTO story_names SELECT j.value, s.id FROM stories s, json_each(s.key_names) j WHERE j.key < 6;
    CREATE TABLE analyse_dirty (seq INTEGER PRIMARY KEY);
    CREATE TRIGGER articles_dirty_au AFTER UPDATE OF text, headline ON articles BEGIN
        INSERT OR IGNORE INTO analyse_dirty VALUES (new.seq);
    END;
    """,
    # 8: a story's key people, places and organisations (see summary.py), as JSON
    """
    ALTER TABLE stories ADD COLUMN entities TEXT NOT NULL DEFAULT '{}';
    """,
]
#: how many of a story's key names are indexed in story_names (the ones storylines compare)
STORY_NAMES = 6
SCHEMA_VERSION = len(MIGRATIONS)

def _rows_in(c: sqlite3.Connection, sql: str, values: Iterable) -> Iterator[tuple]:
    """Rows of ``sql``, whose ``{}`` is an IN list, over ``values`` 900 at a time (SQLite's bound on
    the parameters of one statement)."""
    values = list(values)
    for i in range(0, len(values), 900):
        chunk = values[i:i + 900]
        yield from c.execute(sql.format(",".join("?" * len(chunk))), chunk)


_STORY_SELECT = "SELECT id, headline, first, last, outlets, key_names, copies, storyline, entities FROM stories"


def _story_from_row(row: tuple, members: dict[str, list[str]]) -> Story:
    i, h, f, last, o, k, cp, line, e = row
    return Story(i, members.get(i, []), h or "", f, last, json.loads(o), json.loads(k), cp, line, json.loads(e))


_ARTICLE_COLS = ("id", "seq", "ext_id", "origin", "fmt", "url", "source", "outlet", "date", "title", "headline",
                 "standfirst", "dateline", "byline", "language", "word_count", "raw", "text", "removed",
                 "segments", "credits", "ingested_at")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """The SQLite store. Open it with :meth:`open`; use it as a context manager to close it."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    # ------------------------------------------------------------------ opening and schema
    @classmethod
    def open(cls, path: str | Path = "newstrace.db", *, readonly: bool = False) -> Store:
        """Open (and create or migrate) the store at ``path``."""
        path = str(path)
        if readonly and path != ":memory:" and not Path(path).exists():
            raise NewstraceError(f"[E101] no store at {path}: run `newstrace ingest` or `newstrace run` first")
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.DatabaseError as exc:
            raise NewstraceError(f"[E102] cannot open store {path}: {exc}") from exc
        store = cls(conn, path)
        store._migrate()
        return store

    def _migrate(self) -> None:
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise NewstraceError(f"[E102] {self.path} is not a newstrace store: {exc}") from exc
        if version > SCHEMA_VERSION:
            raise NewstraceError(
                f"[E103] {self.path} has schema version {version}, newer than this newstrace ({SCHEMA_VERSION})")
        for v in range(version, SCHEMA_VERSION):
            # executescript commits any open transaction first, so the script carries its own
            try:
                self.conn.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[v]}\nPRAGMA user_version={v + 1};\nCOMMIT;")
            except sqlite3.Error as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise NewstraceError(f"[E102] cannot migrate {self.path} to schema {v + 1}: {exc}") from exc

    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside commits together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ articles
    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` that are stored already."""
        return {r[0] for r in _rows_in(self.conn, "SELECT id FROM articles WHERE id IN ({})", ids)}

    def boilerplate_counts(self, outlet: str, keys: Iterable[str]) -> dict[str, int]:
        """How many stored articles of ``outlet`` hold each of ``keys``."""
        keys = list(keys)
        out: dict[str, int] = {}
        for i in range(0, len(keys), 900):
            chunk = keys[i:i + 900]
            q = f"SELECT key, n FROM boilerplate WHERE outlet=? AND key IN ({','.join('?' * len(chunk))})"
            out.update(self.conn.execute(q, [outlet, *chunk]).fetchall())
        return out

    def add_articles(self, conn: sqlite3.Connection, articles: Sequence[Article],
                     counts: dict[tuple[str, str], int]) -> int:
        """Insert a batch inside an open transaction; returns how many were new."""
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM articles").fetchone()[0]
        now = _now()
        rows = []
        for a in articles:
            seq += 1
            rows.append(self._article_row(a, seq, now))
        # rowcount, not total_changes: the latter also counts the rows the search-index triggers write
        added = conn.executemany(
            f"INSERT OR IGNORE INTO articles ({','.join(_ARTICLE_COLS)}) VALUES ({','.join('?' * len(_ARTICLE_COLS))})",
            rows).rowcount
        conn.executemany(
            "INSERT INTO boilerplate(outlet, key, n) VALUES (?,?,?) "
            "ON CONFLICT(outlet, key) DO UPDATE SET n = n + excluded.n",
            [(o, k, n) for (o, k), n in counts.items()])
        return added

    def update_cleaning(self, conn: sqlite3.Connection, articles: Sequence[Article]) -> None:
        """Rewrite the cleaning and description of stored articles (after new corpus evidence)."""
        conn.executemany(
            "UPDATE articles SET text=?, removed=?, segments=?, credits=?, headline=?, standfirst=?, dateline=?,"
            " byline=?, language=?, word_count=? WHERE id=?",
            [(a.text, _dumps(a.removed), _dumps(a.segments), _dumps(a.credits), a.headline, a.standfirst,
              a.dateline, a.byline, a.language, a.word_count, a.id) for a in articles])

    @staticmethod
    def _article_row(a: Article, seq: int, now: str) -> tuple[Any, ...]:
        return (a.id, seq, a.ext_id, a.origin, a.fmt, a.url, a.source, a.outlet, a.date, a.title, a.headline,
                a.standfirst, a.dateline, a.byline, a.language, a.word_count, a.raw, a.text, _dumps(a.removed),
                _dumps(a.segments), _dumps(a.credits), now)

    def count(self, table: str = "articles") -> int:
        if table not in {"articles", "relations", "stories", "quotes", "discrepancies"}:
            raise ValueError(table)
        return self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def articles(self, *, outlet: str | None = None, ids: Sequence[str] | None = None,
                 text_contains: str | None = None) -> Iterator[Article]:
        """Stored articles in insertion order (optionally of one outlet, or these ids)."""
        q, args = f"SELECT {','.join(_ARTICLE_COLS)} FROM articles", []
        where = []
        if outlet is not None:
            where.append("outlet = ?")
            args.append(outlet)
        if text_contains is not None:
            where.append("instr(text, ?) > 0")
            args.append(text_contains)
        if ids is not None:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        if where:
            q += " WHERE " + " AND ".join(where)
        for row in self.conn.execute(q + " ORDER BY seq", args):
            yield _article_from_row(row)

    def get(self, ref: str) -> Article:
        """One article by id, unique id prefix, or the input's own id (file name, JSONL id) or its prefix."""
        cols = ",".join(_ARTICLE_COLS)

        def rows(where: str, *args: str) -> list[Any]:
            return self.conn.execute(f"SELECT {cols} FROM articles WHERE {where} LIMIT 2", args).fetchall()

        # each lookup is one index range (a LIKE or an OR would scan the table: 0.3 s at 100k articles);
        # a prefix is a range, so "_" and "%" in a file name are literal characters
        exact = rows("id = ?", ref) or rows("ext_id = ?", ref)
        if exact:
            return _article_from_row(exact[0])
        end = ref + "\U0010ffff"
        found = rows("id >= ? AND id < ?", ref.lower(), ref.lower() + "\U0010ffff") or \
            rows("ext_id >= ? AND ext_id < ?", ref, end)
        if not found:
            raise NewstraceError(f"[E104] no article {ref!r} in {self.path}")
        if len(found) > 1:
            raise NewstraceError(f"[E105] {ref!r} names more than one article: give more of the id")
        return _article_from_row(found[0])

    # ------------------------------------------------------------------ analysis results
    def get_state(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT v FROM state WHERE k = ?", (key,)).fetchone()
        return row[0] if row else default

    @staticmethod
    def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT INTO state(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
                     (key, value))

    @staticmethod
    def add_relations(conn: sqlite3.Connection, relations: Iterable[Relation]) -> None:
        """Store reuse relations (inside an open transaction); a pair found again is replaced."""
        conn.executemany(
            "INSERT OR REPLACE INTO relations VALUES (?,?,?,?,?,?)",
            [(r.origin, r.derived, r.kind, r.score, r.direction, _dumps(r.passages)) for r in relations])

    def articles_by_seq(self, after: int) -> list[tuple[int, str | None]]:
        """(seq, date) of the articles inserted after ``seq``, oldest publication first."""
        return self.conn.execute(
            "SELECT seq, date FROM articles WHERE seq > ? ORDER BY COALESCE(date, ''), seq", (after,)).fetchall()

    def article_at(self, seq: int) -> Article:
        row = self.conn.execute(f"SELECT {','.join(_ARTICLE_COLS)} FROM articles WHERE seq = ?", (seq,)).fetchone()
        return _article_from_row(row)

    def save_analysis(self, analysis: Analysis,
                      also: Callable[[sqlite3.Connection], None] = lambda c: None) -> None:
        """Replace the stored stories, quotes and discrepancies in one transaction.

        Relations are not touched: the reuse index adds them incrementally (:mod:`.dedup`). ``also``
        writes more in the same transaction (the clustering state of a full analysis).
        """
        with self.transaction() as c:
            for table in ("stories", "story_articles", "story_names", "quotes", "discrepancies", "speakers",
                          "analyse_dirty"):
                c.execute(f"DELETE FROM {table}")
            self._insert_stories(c, analysis.stories)
            self._insert_quotes(c, analysis.quotes)
            self._save_speakers(c, analysis.quotes)
            self._insert_discrepancies(c, analysis.discrepancies)
            also(c)

    @staticmethod
    def _insert_stories(c: sqlite3.Connection, stories: Sequence[Story]) -> None:
        c.executemany(
            "INSERT INTO stories(id, headline, first, last, outlets, size, key_names, copies, storyline, entities)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(s.id, s.headline, s.first, s.last, json.dumps(s.outlets), len(s.articles),
              json.dumps(s.key_names, ensure_ascii=False), s.copies, s.storyline,
              json.dumps(s.entities, ensure_ascii=False)) for s in stories])
        c.executemany("INSERT INTO story_articles VALUES (?,?)", [(a, s.id) for s in stories for a in s.articles])
        c.executemany("INSERT OR IGNORE INTO story_names VALUES (?,?)",
                      [(n, s.id) for s in stories for n in s.key_names[:STORY_NAMES]])

    @staticmethod
    def _insert_quotes(c: sqlite3.Connection, quotes: Sequence[Quote]) -> None:
        c.executemany(
            "INSERT INTO quotes(article,start,end,kind,text,cue_start,cue_end,source_start,source_end,speaker,"
            "mention,speaker_kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(q.article, q.content[0], q.content[1], q.kind, q.text, *(q.cue or (None, None)),
              *(q.source or (None, None)), q.speaker, q.mention, q.speaker_kind) for q in quotes])

    @staticmethod
    def _insert_discrepancies(c: sqlite3.Connection, discrepancies: Sequence[Discrepancy]) -> None:
        c.executemany(
            "INSERT INTO discrepancies(story,kind,a,b,a_text,b_text,note) VALUES (?,?,?,?,?,?,?)",
            [(d.story, d.kind, d.a, d.b, d.a_text, d.b_text, d.note) for d in discrepancies])

    # ------------------------------------------------------------------ incremental analysis
    def replace_stories(self, c: sqlite3.Connection, old: Iterable[str], stories: Sequence[Story],
                        discrepancies: Sequence[Discrepancy]) -> None:
        """Replace the stories ``old`` (their rows, members, names and discrepancies) by ``stories``.

        A story whose members did not change keeps its id (ids come from the first article), so an
        unchanged story written again is the same row.
        """
        old = list(old)
        for i in range(0, len(old), 900):
            chunk = old[i:i + 900]
            marks = ",".join("?" * len(chunk))
            for table, col in (("stories", "id"), ("story_articles", "story"), ("story_names", "story"),
                               ("discrepancies", "story")):
                c.execute(f"DELETE FROM {table} WHERE {col} IN ({marks})", chunk)
        self._insert_stories(c, stories)
        self._insert_discrepancies(c, discrepancies)

    def replace_quotes(self, c: sqlite3.Connection, articles: Sequence[str], quotes: Sequence[Quote],
                       speakers: Callable[[Sequence[Quote]], list[Any]]) -> None:
        """Replace the quotes of ``articles`` by ``quotes`` and rewrite the speaker rows they touch.

        ``speakers`` makes the speaker table rows of a set of quotes (:func:`.attribute.speaker_table`).
        """
        touched = {q.speaker for q in quotes if q.speaker}
        for i in range(0, len(articles), 900):
            chunk = list(articles[i:i + 900])
            marks = ",".join("?" * len(chunk))
            touched.update(r[0] for r in c.execute(
                f"SELECT DISTINCT speaker FROM quotes WHERE article IN ({marks}) AND speaker IS NOT NULL", chunk))
            c.execute(f"DELETE FROM quotes WHERE article IN ({marks})", chunk)
        self._insert_quotes(c, quotes)
        names = sorted(touched)
        for i in range(0, len(names), 900):
            chunk = names[i:i + 900]
            marks = ",".join("?" * len(chunk))
            c.execute(f"DELETE FROM speakers WHERE name IN ({marks})", chunk)
            rows = self.quotes_where(f"q.speaker IN ({marks})", chunk)
            c.executemany("INSERT INTO speakers(name, kind, quotes, variants, flags) VALUES (?,?,?,?,?)",
                          [(p.name, p.kind, sum(p.variants.values()), json.dumps(dict(p.variants), ensure_ascii=False),
                            json.dumps(p.flagged, ensure_ascii=False)) for p in speakers(rows)])

    def speaker_spellings(self) -> Iterator[tuple[str, str, dict[str, int]]]:
        """(canonical name, kind, spellings with their quote counts) of every stored speaker."""
        for n, k, v in self.conn.execute("SELECT name, kind, variants FROM speakers"):
            yield n, k, json.loads(v)

    def relations_of(self, ids: Iterable[str]) -> list[Relation]:
        """The stored relations with an end among ``ids``."""
        ids = sorted(set(ids))
        out: dict[tuple[str, str], Relation] = {}
        for i in range(0, len(ids), 450):
            chunk = ids[i:i + 450]
            marks = ",".join("?" * len(chunk))
            for o, d, k, s, dr, p_ in self.conn.execute(
                    f"SELECT origin, derived, kind, score, direction, passages FROM relations "
                    f"WHERE origin IN ({marks}) UNION SELECT origin, derived, kind, score, direction, passages "
                    f"FROM relations WHERE derived IN ({marks})", chunk + chunk):
                out[(o, d)] = Relation(o, d, k, s, passages=[Passage(**p) for p in json.loads(p_)], direction=dr)
        return [out[k] for k in sorted(out)]

    def stories_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id -> stored story id, for those of ``ids`` in a story."""
        return dict(_rows_in(self.conn, "SELECT article, story FROM story_articles WHERE article IN ({})", ids))

    def story_members(self, story_ids: Iterable[str]) -> dict[str, list[str]]:
        """Story id -> its article ids."""
        out: dict[str, list[str]] = {}
        for a, s in _rows_in(self.conn, "SELECT article, story FROM story_articles WHERE story IN ({})", story_ids):
            out.setdefault(s, []).append(a)
        return out

    def stories_by_id(self, story_ids: Iterable[str]) -> list[Story]:
        """Stored stories (with their members) by id."""
        sids = sorted(set(story_ids))
        members = self.story_members(sids)
        return [_story_from_row(row, members) for row in _rows_in(self.conn, _STORY_SELECT + " WHERE id IN ({})", sids)]

    def stories_naming(self, name: str, limit: int) -> list[str] | None:
        """Ids of the stories with ``name`` among their key names; None when more than ``limit`` have it."""
        rows = [r[0] for r in self.conn.execute("SELECT story FROM story_names WHERE name = ? LIMIT ?",
                                                (name, limit + 1))]
        return None if len(rows) > limit else rows

    def storyline_head(self, line: str) -> tuple[str, str] | None:
        """(first, id) of the earliest story of storyline ``line``."""
        row = self.conn.execute("SELECT COALESCE(first, ''), id FROM stories WHERE storyline = ? "
                                "ORDER BY COALESCE(first, ''), id LIMIT 1", (line,)).fetchone()
        return (row[0], row[1]) if row else None

    @staticmethod
    def relabel_storylines(c: sqlite3.Connection, lines: dict[str, str], stories: dict[str, str]) -> None:
        """Move stored storylines (old -> new label) and stories (id -> label) to other storylines."""
        c.executemany("UPDATE stories SET storyline = ? WHERE storyline = ?", [(n, o) for o, n in lines.items()])
        c.executemany("UPDATE stories SET storyline = ? WHERE id = ?", [(n, i) for i, n in stories.items()])

    def quotes_of(self, articles: Sequence[str]) -> list[Quote]:
        """The stored quotes of ``articles``."""
        out: list[Quote] = []
        articles = list(articles)
        for i in range(0, len(articles), 900):
            chunk = articles[i:i + 900]
            out += self.quotes_where(f"q.article IN ({','.join('?' * len(chunk))})", chunk)
        return out

    def seq_rows(self, after: int = 0) -> list[tuple[int, str, str | None]]:
        """(seq, id, date) of the articles stored after ``after``, in seq order."""
        return self.conn.execute("SELECT seq, id, date FROM articles WHERE seq > ? ORDER BY seq", (after,)).fetchall()

    def last_date_before(self, seq: int) -> str:
        """The date of the last dated article stored before ``seq`` ('' when none)."""
        row = self.conn.execute("SELECT date FROM articles WHERE seq < ? AND date IS NOT NULL AND date <> '' "
                                "ORDER BY seq DESC LIMIT 1", (seq,)).fetchone()
        return row[0] if row else ""

    # -- the clustering state (migration 7); ``c`` is an open transaction
    def dirty_seqs(self) -> list[int]:
        """Analysed articles whose clean text changed since (re-cleaned by ingest)."""
        return [r[0] for r in self.conn.execute(
            "SELECT d.seq FROM analyse_dirty d JOIN cluster_articles c ON c.seq = d.seq ORDER BY d.seq")]

    def vocab(self, c: sqlite3.Connection, terms: Sequence[str]) -> dict[str, tuple[int, int]]:
        """term -> (vocabulary id, document frequency), adding the unseen terms with frequency 0."""
        out: dict[str, tuple[int, int]] = {}
        out.update((t, (k, n)) for t, k, n in _rows_in(c, "SELECT term, id, df FROM cluster_vocab WHERE term IN ({})",
                                                       terms))
        missing = [t for t in terms if t not in out]
        if missing:
            top = c.execute("SELECT COALESCE(MAX(id), 0) FROM cluster_vocab").fetchone()[0]
            rows = [(top + 1 + k, t, 0) for k, t in enumerate(missing)]
            c.executemany("INSERT INTO cluster_vocab(id, term, df) VALUES (?,?,?)", rows)
            out.update((t, (k, 0)) for k, t, _ in rows)
        return out

    @staticmethod
    def vocab_df(c: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
        """Vocabulary id -> document frequency."""
        return dict(_rows_in(c, "SELECT id, df FROM cluster_vocab WHERE id IN ({})", ids))

    @staticmethod
    def vocab_terms(c: sqlite3.Connection, ids: Sequence[int]) -> dict[int, str]:
        """Vocabulary id -> term."""
        return dict(_rows_in(c, "SELECT id, term FROM cluster_vocab WHERE id IN ({})", ids))

    @staticmethod
    def add_df(c: sqlite3.Connection, ids: Iterable[int], by: int) -> None:
        c.executemany("UPDATE cluster_vocab SET df = df + ? WHERE id = ?", [(by, int(i)) for i in ids])

    @staticmethod
    def cluster_rows(c: sqlite3.Connection, seqs: Sequence[int]) -> list[tuple[int, str, str, int | None, bytes, bytes]]:
        """(seq, article id, order key, day, terms, counts) of clustered articles."""
        return list(_rows_in(c, "SELECT seq, id, okey, day, terms, counts FROM cluster_articles WHERE seq IN ({})",
                             seqs))

    @staticmethod
    def seqs_of(c: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
        """Article id -> its clustering sequence number."""
        return dict(_rows_in(c, "SELECT id, seq FROM cluster_articles WHERE id IN ({})", ids))

    @staticmethod
    def put_cluster_rows(c: sqlite3.Connection, rows: Iterable[tuple[int, str, str, int | None, bytes, bytes]]) -> None:
        c.executemany("INSERT OR REPLACE INTO cluster_articles VALUES (?,?,?,?,?,?)", rows)

    @staticmethod
    def postings(c: sqlite3.Connection, terms: Sequence[int]) -> list[tuple[int, int, float, int | None]]:
        """(term, seq, weight, day) rows indexed under ``terms``; day -1 when undated."""
        return list(_rows_in(c, "SELECT term, seq, w, COALESCE(day, -1) FROM cluster_postings WHERE term IN ({})",
                             terms))

    @staticmethod
    def put_postings(c: sqlite3.Connection, rows: Iterable[tuple[int, int, float, int | None]]) -> None:
        c.executemany("INSERT OR REPLACE INTO cluster_postings VALUES (?,?,?,?)", rows)

    @staticmethod
    def neighbour_lists(c: sqlite3.Connection, seqs: Sequence[int]) -> dict[int, list[tuple[float, int]]]:
        """seq -> its neighbours as (similarity, seq), best first."""
        out: dict[int, list[tuple[float, int]]] = {s: [] for s in seqs}
        for s, n, sim in _rows_in(c, "SELECT seq, nbr, sim FROM cluster_nbrs WHERE seq IN ({})", out):
            out[s].append((sim, n))
        for v in out.values():
            v.sort(key=lambda x: (-x[0], x[1]))
        return out

    @staticmethod
    def listed_by(c: sqlite3.Connection, seqs: Sequence[int]) -> set[int]:
        """The articles that hold one of ``seqs`` in their neighbour list."""
        return {r[0] for r in _rows_in(c, "SELECT seq FROM cluster_nbrs WHERE nbr IN ({})", seqs)}

    @staticmethod
    def put_neighbours(c: sqlite3.Connection, lists: dict[int, list[tuple[float, int]]]) -> None:
        """Replace the neighbour lists of the given articles."""
        c.executemany("DELETE FROM cluster_nbrs WHERE seq = ?", [(s,) for s in lists])
        c.executemany("INSERT INTO cluster_nbrs VALUES (?,?,?)",
                      [(s, n, sim) for s, nb in lists.items() for sim, n in nb])

    @staticmethod
    def forget_clustered(c: sqlite3.Connection, seq: int) -> None:
        """Drop one article's postings and neighbour list (before it is clustered again)."""
        c.execute("DELETE FROM cluster_postings WHERE seq = ?", (seq,))
        c.execute("DELETE FROM cluster_nbrs WHERE seq = ?", (seq,))

    @staticmethod
    def clear_cluster_state(c: sqlite3.Connection) -> None:
        for table in ("cluster_vocab", "cluster_articles", "cluster_postings", "cluster_nbrs"):
            c.execute(f"DELETE FROM {table}")

    def load_analysis(self) -> Analysis:
        """The stored analysis."""
        c = self.conn
        relations = [Relation(o, d, k, s, passages=[Passage(**p) for p in json.loads(p_)], direction=dr)
                     for o, d, k, s, dr, p_ in c.execute("SELECT * FROM relations ORDER BY origin, derived")]
        members: dict[str, list[str]] = {}
        for art, story in c.execute(
                "SELECT sa.article, sa.story FROM story_articles sa JOIN articles a ON a.id = sa.article "
                "ORDER BY a.date, a.seq"):
            members.setdefault(story, []).append(art)
        stories = [_story_from_row(row, members) for row in c.execute(f"{_STORY_SELECT} ORDER BY first, id")]
        quotes = [Quote(a, (s, e), k, t, (cs, ce) if cs is not None else None,
                        (ss, se) if ss is not None else None, sp, mn, sk)
                  for a, s, e, k, t, cs, ce, ss, se, sp, mn, sk in c.execute(
                      "SELECT article, start, end, kind, text, cue_start, cue_end, source_start, source_end, speaker,"
                      " mention, speaker_kind FROM quotes ORDER BY id")]
        discrepancies = [Discrepancy(*row[1:]) for row in c.execute("SELECT * FROM discrepancies ORDER BY id")]
        return Analysis(relations, stories, quotes, discrepancies)

    # ------------------------------------------------------------------ speakers
    @staticmethod
    def _save_speakers(c: sqlite3.Connection, quotes: Sequence[Quote]) -> None:
        from .attribute.speakers import speaker_table

        c.executemany("INSERT INTO speakers(name, kind, quotes, variants, flags) VALUES (?,?,?,?,?)",
                      [(p.name, p.kind, sum(p.variants.values()), json.dumps(dict(p.variants), ensure_ascii=False),
                        json.dumps(p.flagged, ensure_ascii=False)) for p in speaker_table(quotes)])

    def speakers(self) -> list[dict[str, Any]]:
        """Canonical speakers, most quoted first: name, kind, quotes, spellings seen, flagged spellings."""
        rows = [{"name": n, "kind": k, "quotes": q, "variants": json.loads(v), "flags": json.loads(f)}
                for n, k, q, v, f in self.conn.execute(
                    "SELECT name, kind, quotes, variants, flags FROM speakers ORDER BY quotes DESC, name")]
        if not rows:  # quotes analysed before the speakers table existed: group them now
            from .attribute.speakers import speaker_table

            rows = [{"name": p.name, "kind": p.kind, "quotes": sum(p.variants.values()), "variants": dict(p.variants),
                     "flags": p.flagged} for p in speaker_table(self.quotes())]
        return rows

    def quotes(self, *, speaker: str | None = None, story: str | None = None) -> list[Quote]:
        """Stored quotes, optionally of one speaker (a substring of the canonical name or of a spelling,
        case-insensitive) or of one story (id or id prefix)."""
        join, where, args = "", [], []
        if story:
            join = " JOIN story_articles sa ON sa.article = q.article"
            where.append("substr(sa.story, 1, ?) = ?")
            args += [len(story), story]
        if speaker:
            where.append("(instr(lower(q.speaker), ?) > 0 OR instr(lower(q.mention), ?) > 0)")
            args += [speaker.lower(), speaker.lower()]
        return self.quotes_where(" AND ".join(where), args, join)

    def quotes_where(self, where: str, args: Sequence[Any] = (), join: str = "") -> list[Quote]:
        """Stored quotes (``q``) matching an SQL condition, in insertion order."""
        sql = ("SELECT q.article, q.start, q.end, q.kind, q.text, q.cue_start, q.cue_end, q.source_start,"
               " q.source_end, q.speaker, q.mention, q.speaker_kind FROM quotes q" + join)
        if where:
            sql += " WHERE " + where
        return [Quote(a, (s, e), k, t, (cs, ce) if cs is not None else None, (ss, se) if ss is not None else None,
                      sp, mn, sk)
                for a, s, e, k, t, cs, ce, ss, se, sp, mn, sk in self.conn.execute(sql + " ORDER BY q.id", args)]

    # ------------------------------------------------------------------ run log
    def start_run(self, command: str) -> int:
        with self.transaction() as c:
            return c.execute("INSERT INTO runs(command, started) VALUES (?, ?)", (command, _now())).lastrowid

    def finish_run(self, run_id: int, read: int, added: int, skipped: int) -> None:
        with self.transaction() as c:
            c.execute("UPDATE runs SET finished=?, read=?, added=?, skipped=? WHERE id=?",
                      (_now(), read, added, skipped, run_id))


def _dumps(items: Iterable[Any]) -> str:
    # vars() is a shallow copy; asdict() deep-copies every field and was a tenth of ingest time
    return json.dumps([vars(x) for x in items], ensure_ascii=False)


def _article_from_row(row: Sequence[Any]) -> Article:
    d = dict(zip(_ARTICLE_COLS, row, strict=True))
    d.pop("seq")
    d.pop("ingested_at")
    d["removed"] = [Removed(**r) for r in json.loads(d["removed"])]
    d["segments"] = [Segment(**s) for s in json.loads(d["segments"])]
    d["credits"] = [Credit(**c) for c in json.loads(d["credits"])]
    return Article(**d)

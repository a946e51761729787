"""The read stage: HTML, WARC and JSONL readers on small inputs written by the tests."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from newstrace.errors import Skip
from newstrace.model import Article
from newstrace.pipeline import ingest, process
from newstrace.read import read_paths
from newstrace.store import Store

from .conftest import FIXTURES

PAGE = FIXTURES / "page.html"
PAGE_URL = "https://www.coastal-ledger.example/news/harbour-bridge-reopens"
PAGE_PARAGRAPHS = (
    "The swing bridge across Pellham harbour reopened to traffic on Thursday morning",
    "Engineers replaced more than four hundred rivets",
    "said council leader Tomas Vendel",
    "Local traders said the closure had cut footfall",
)


def split(items) -> tuple[list[Article], list[Skip]]:
    """Articles and skips/warnings of a read, apart."""
    items = list(items)
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Skip)]


# ------------------------------------------------------------------------------------------ HTML
def test_html_text_is_the_article_without_nav_or_footer():
    """The extracted text holds every paragraph, and none of the page chrome."""
    arts, skips = split(read_paths([PAGE]))
    assert skips == []
    [a] = arts
    for para in PAGE_PARAGRAPHS:
        assert para in a.raw
    for chrome in ("Navlink", "Footerline", "Home"):
        assert chrome not in a.raw
    assert a.fmt == "html" and a.ext_id == "page" and a.origin == str(PAGE)


def test_html_metadata_title_date_outlet_url():
    """Title, date, outlet and URL come from the page's metadata, not its file name."""
    [a] = split(read_paths([PAGE]))[0]
    assert a.title == "Harbour bridge reopens after six months of repairs"
    assert a.date == "2024-03-14"
    assert a.source == "The Coastal Ledger"
    assert a.url == PAGE_URL


def test_html_source_option_overrides_site_name():
    """--source names the outlet even when the page names its own."""
    [a] = split(read_paths([PAGE], source="Override Weekly"))[0]
    assert a.source == "Override Weekly"


def test_html_through_process_and_store(tmp_path):
    """The page goes through clean/describe and the store with its headline, outlet and date."""
    [a] = split(read_paths([PAGE]))[0]
    done = process(a)
    assert done.headline == "Harbour bridge reopens after six months of repairs"
    assert done.outlet == "The Coastal Ledger"
    assert done.date == "2024-03-14"
    assert done.text.startswith("The swing bridge across Pellham harbour")  # the headline is not body text

    with Store.open(tmp_path / "t.db") as store:
        summary = ingest(read_paths([PAGE]), store)
        assert (summary.read, summary.added) == (1, 1)
        stored = store.get("page")
        assert stored.headline == done.headline
        assert stored.outlet == "The Coastal Ledger"
        assert stored.date == "2024-03-14"
        assert stored.url == PAGE_URL
        assert "Tomas Vendel" in stored.text and "Footerline" not in stored.text


def test_html_in_windows_1252_without_charset_is_read_right(tmp_path):
    """A cp1252 page that declares no charset keeps its curly quotes and accents (W001 says so)."""
    body = ("<p>The mayor said \u201cwe will rebuild the quay\u201d \u2014 and she\u2019s sure of it, "
            "aides told reporters on Tuesday.</p><p>Le caf\u00e9 \u00e9tait ferm\u00e9 \u00e0 No\u00ebl, "
            "et les \u00e9l\u00e8ves sont partis pr\u00e8s de la gare.</p>")
    page = f"<html><head><title>Quay</title></head><body><article>{body * 3}</article></body></html>"
    path = tmp_path / "cp.html"
    path.write_bytes(page.encode("cp1252"))
    arts, skips = split(read_paths([path]))
    [a] = arts
    assert "\u201cwe will rebuild the quay\u201d" in a.raw
    assert "ferm\u00e9 \u00e0 No\u00ebl" in a.raw and "pr\u00e8s" in a.raw
    assert [(s.code, s.level) for s in skips] == [("W001", "warn")]
    assert "cp1252" in skips[0].message


def test_html_declared_latin1_reads_cp1252_quotes(tmp_path):
    """A page declaring iso-8859-1 is read as Windows-1252, as browsers do, without a warning."""
    page = ('<html><head><meta charset="iso-8859-1"><title>T</title></head><body><article>'
            + "<p>Officials said \u201cthe bridge is safe\u201d after a long inspection of the span.</p>" * 4
            + "</article></body></html>")
    path = tmp_path / "l1.html"
    path.write_bytes(page.encode("cp1252"))
    arts, skips = split(read_paths([path]))
    assert skips == []
    assert "\u201cthe bridge is safe\u201d" in arts[0].raw


# ------------------------------------------------------------------------------------------ WARC
ALPHA = ("https://www.alpha.example/city/tram-extension",
         ["The alpha council voted on Monday to extend the tram line to the northern districts by 2027.",
          "Opponents said the cost estimate for the extension was far too optimistic and asked for a review."])
BETA = ("https://news.beta.example/coast/herring",
        ["Fishermen in beta bay landed the largest herring catch in a decade this week, the harbour office said.",
         "Scientists credited colder currents and the strict quota regime that was brought in two years ago."])


def _page(title: str, paras: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f"<html><head><title>{title}</title></head><body><nav>Menu of sections</nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>Site footer text</footer></body></html>").encode()


def write_warc(path: Path, *, gz: bool) -> Path:
    """A small crawl: two HTML responses with their requests, a PNG and a JSON response."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def response(w, uri, ctype, payload):
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(uri, "response", payload=io.BytesIO(payload), http_headers=headers))

    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        for uri, paras in (ALPHA, BETA):
            req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example")], is_http_request=True)
            w.write_record(w.create_warc_record(uri, "request", payload=io.BytesIO(b""), http_headers=req))
            response(w, uri, "text/html; charset=utf-8", _page(uri.rsplit("/", 1)[-1], paras))
        response(w, "https://www.alpha.example/logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64))
        response(w, "https://www.alpha.example/api/feed", "application/json", b'{"text": "not an article"}')
    return path


@pytest.mark.parametrize("name, gz", [("crawl.warc", False), ("crawl.warc.gz", True)])
def test_warc_two_html_responses(tmp_path, name, gz):
    """Only the two HTML responses become articles, with WARC-Target-URI as URL and the host as outlet."""
    path = write_warc(tmp_path / name, gz=gz)
    arts, skips = split(read_paths([path]))
    assert len(arts) == 2
    by_url = {a.url: a for a in arts}
    assert set(by_url) == {ALPHA[0], BETA[0]}
    alpha, beta = by_url[ALPHA[0]], by_url[BETA[0]]
    assert alpha.source == "alpha.example" and beta.source == "news.beta.example"
    assert ALPHA[1][0] in alpha.raw and BETA[1][0] not in alpha.raw
    assert BETA[1][1] in beta.raw and ALPHA[1][1] not in beta.raw
    assert all(a.fmt == "warc" and a.origin.startswith(f"{path}#") for a in arts)
    assert alpha.id != beta.id and alpha.ext_id != beta.ext_id
    # two requests, the PNG and the JSON response are passed over, as a note rather than a problem
    assert [(s.code, s.level) for s in skips] == [("W002", "info")]
    assert "4 non-HTML" in str(skips[0])
    assert process(alpha).outlet == "alpha.example"


def test_warc_http_charset_is_honoured(tmp_path):
    """A cp1252 response whose charset is only in the HTTP header is decoded by it."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    html = ("<html><body><article>" + "<p>Officials said \u201cthe pier is safe\u201d after inspecting "
            "the old pylons for a week.</p>" * 3 + "</article></body></html>").encode("cp1252")
    path = tmp_path / "cp.warc"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=False)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=windows-1252")],
                                   protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://pier.example/a", "response", payload=io.BytesIO(html),
                                            http_headers=headers))
    arts, skips = split(read_paths([path]))
    assert skips == []
    assert "\u201cthe pier is safe\u201d" in arts[0].raw


@pytest.mark.parametrize("data", [
    b"garbage bytes here, five words or more \x00\x01 and no WARC header at all",
    b"<html><body>a page saved with the wrong suffix</body></html>",
    gzip.compress(b"this is plain text that was gzipped, not a WARC file\n" * 4),
    b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\ncut short",
])
def test_malformed_warc_is_one_line_skip_naming_the_file(tmp_path, data):
    """Garbage named .warc is reported once, on one line, as malformed; the next file is still read."""
    bad = tmp_path / "x.warc"
    bad.write_bytes(data)
    good = tmp_path / "y.txt"
    good.write_text("A plain article that follows the broken crawl file in the folder.\n")
    arts, skips = split(read_paths([tmp_path]))
    assert [a.ext_id for a in arts] == ["y"]
    [s] = skips
    assert s.code == "E009" and s.level == "skip"
    assert str(bad) in str(s) and "malformed WARC" in str(s) and "\n" not in str(s)


# ------------------------------------------------------------------------------------------ JSONL
NEWSTRACE_ROW = {"id": "nt-1", "title": "Ferry fares rise", "text": "Ferry fares rise by a tenth from May.",
                 "date": "2024-04-02", "source": "Island Post", "url": "https://islandpost.example/fares"}
CCNEWS_ROW = {"title": "Dam opens", "maintext": "The new dam opened on Friday after eleven years of work.",
              "date_publish": "2023-11-17 08:15:00", "source_domain": "valley-times.example",
              "url": "https://valley-times.example/dam", "language": "en"}


def test_jsonl_newstrace_fields(tmp_path):
    """newstrace's own field names map onto the article."""
    path = tmp_path / "nt.jsonl"
    path.write_text(json.dumps(NEWSTRACE_ROW) + "\n")
    [a] = split(read_paths([path]))[0]
    assert (a.ext_id, a.title, a.raw, a.date, a.source, a.url) == (
        "nt-1", "Ferry fares rise", "Ferry fares rise by a tenth from May.", "2024-04-02", "Island Post",
        "https://islandpost.example/fares")
    assert a.fmt == "jsonl" and a.origin == f"{path}:1"


def test_jsonl_ccnews_newsplease_fields(tmp_path):
    """CC-News / news-please names (maintext, date_publish, source_domain) map onto the article."""
    path = tmp_path / "cc.jsonl"
    path.write_text(json.dumps(CCNEWS_ROW) + "\n")
    [a] = split(read_paths([path]))[0]
    assert a.raw == CCNEWS_ROW["maintext"]
    assert a.title == "Dam opens" and a.date == "2023-11-17 08:15:00"
    assert a.source == "valley-times.example" and a.url == "https://valley-times.example/dam"
    assert a.ext_id == "cc:1"  # no id field: file stem and line
    assert process(a).date == "2023-11-17T08:15"


def test_jsonl_gz(tmp_path):
    """A gzipped JSONL file reads the same as a plain one."""
    path = tmp_path / "both.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(NEWSTRACE_ROW) + "\n" + json.dumps(CCNEWS_ROW) + "\n").encode()))
    arts, skips = split(read_paths([path]))
    assert skips == []
    assert [a.title for a in arts] == ["Ferry fares rise", "Dam opens"]
    assert arts[1].ext_id == "both:2"


def test_jsonl_from_stdin():
    """`-` reads JSONL from stdin, text or bytes."""
    text = json.dumps(NEWSTRACE_ROW) + "\n\n" + json.dumps(CCNEWS_ROW) + "\n"
    arts, skips = split(read_paths(["-"], stdin=io.StringIO(text)))
    assert skips == []
    assert [a.title for a in arts] == ["Ferry fares rise", "Dam opens"]
    assert arts[1].origin == "<stdin>:3"

    class Bytes(io.StringIO):
        buffer = io.BytesIO(text.encode())

    assert [a.title for a in split(read_paths(["-"], stdin=Bytes()))[0]] == ["Ferry fares rise", "Dam opens"]


def test_jsonl_malformed_line_skipped_with_line_number(tmp_path):
    """A broken line is skipped with its number; the lines around it are read."""
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([json.dumps(NEWSTRACE_ROW), '{"text": "unterminated', json.dumps(CCNEWS_ROW)]))
    arts, skips = split(read_paths([path]))
    assert [a.title for a in arts] == ["Ferry fares rise", "Dam opens"]
    [s] = skips
    assert s.code == "E006" and "line 2" in str(s) and str(path) in str(s)


def test_jsonl_bom_and_crlf(tmp_path):
    """A UTF-8 BOM and Windows line ends do not break the first or any line."""
    path = tmp_path / "win.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(NEWSTRACE_ROW) + "\r\n" + json.dumps(CCNEWS_ROW) + "\r\n").encode())
    arts, skips = split(read_paths([path]))
    assert skips == [] and len(arts) == 2


# ------------------------------------------------------------------------------------------ folders
def test_folder_reads_known_types_in_name_order_and_ignores_others(tmp_path):
    """A folder is walked in name order; READMEs and hidden files are passed over silently."""
    (tmp_path / "b.txt").write_text("Second plain article about a quiet harbour town.\n")
    (tmp_path / "a.txt").write_text("First plain article about a busy market square.\n")
    (tmp_path / "README.md").write_text("# notes\n")
    (tmp_path / ".hidden.txt").write_text("Not to be read at all, it is hidden.\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "c.jsonl").write_text(json.dumps(NEWSTRACE_ROW) + "\n")
    arts, skips = split(read_paths([tmp_path], source="Town Crier"))
    assert skips == []
    assert [a.ext_id for a in arts] == ["a", "b", "nt-1"]
    assert [a.source for a in arts] == ["Town Crier", "Town Crier", "Island Post"]  # the row names its own

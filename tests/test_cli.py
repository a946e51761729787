"""The command line, through click's CliRunner, on small corpora written by the tests."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newstrace.cli import main

from .conftest import FIXTURES, SEEDS, need

ONE = "The harbour council approved a new budget on Tuesday.\n\nIt pays for two more ferries and a new pier.\n"
TWO = "Fishermen landed a record herring catch this week, the harbour office said.\n\nPrices fell at once.\n"


@pytest.fixture
def folder(tmp_path) -> Path:
    """Two good text articles and the fixture page."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "one.txt").write_text(ONE)
    (d / "two.txt").write_text(TWO)
    shutil.copy(FIXTURES / "page.html", d / "page.html")
    return d


@pytest.fixture
def cli(tmp_path):
    """Run ``newstrace --db <tmp>/t.db ARGS...``; stdout and stderr come back apart."""
    runner = CliRunner()
    db = str(tmp_path / "t.db")

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, ["--db", db, *args], input=input)

    return invoke


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces folded (the terminal may wrap a long line)."""
    return re.sub(r"\s+", " ", text)


def test_help_lists_the_commands(cli):
    """`newstrace --help` names every command."""
    res = cli("--help")
    assert res.exit_code == 0
    commands = res.stdout.split("Commands:")[1]
    for name in ("ingest", "run", "articles", "show", "report"):
        assert re.search(rf"^\s+{name}\s", commands, re.M), name


def test_ingest_all_read_exits_0_and_reingest_adds_nothing(cli, folder):
    """All inputs read: exit 0 and a summary; the same folder again adds 0 articles."""
    res = cli("ingest", str(folder))
    assert res.exit_code == 0, res.stderr
    assert "ingest: read 3; added 3; already stored 0; skipped 0" in flat(res.stderr)
    res = cli("ingest", str(folder))
    assert res.exit_code == 0
    assert "read 3; added 0; already stored 3; skipped 0" in flat(res.stderr)
    listed = json.loads(cli("articles", "--json").stdout)
    assert sorted(a["ext_id"] for a in listed) == ["one", "page", "two"]


def test_ingest_some_skipped_exits_1_with_reasons(cli, folder):
    """Some inputs skipped: exit 1; each is reported on one line and the summary counts the reasons."""
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (folder / "feed.jsonl").write_text('{"text": "A row about the tram line extension."}\n{oops\n')
    res = cli("ingest", str(folder))
    assert res.exit_code == 1
    err = res.stderr
    assert f"skip {folder / 'empty.txt'}: [E001] empty file\n" in err
    assert f"skip {folder / 'image.txt'}: [E002] binary file (not text)\n" in err
    assert f"skip {folder / 'feed.jsonl'}: [E006] line 2: malformed JSON" in err
    assert "read 4; added 4; already stored 0; skipped 3 (E001×1, E002×1, E006×1)" in flat(err)


def test_ingest_nothing_read_exits_2(cli, tmp_path):
    """Nothing readable: exit 2."""
    (tmp_path / "empty.txt").write_bytes(b"")
    res = cli("ingest", str(tmp_path / "empty.txt"), str(tmp_path / "missing.txt"))
    assert res.exit_code == 2
    assert "[E001] empty file" in res.stderr and "[E011] no such file or folder" in res.stderr
    assert "read 0; added 0; already stored 0; skipped 2 (E001×1, E011×1)" in flat(res.stderr)


def test_ingest_warning_keeps_exit_0(cli, tmp_path):
    """A file read with a caveat (W001) is read: exit 0, the warning counted in the summary."""
    (tmp_path / "old.txt").write_bytes("Le caf\u00e9 \u00e9tait ferm\u00e9 \u00e0 No\u00ebl.\n".encode("latin-1"))
    res = cli("ingest", str(tmp_path / "old.txt"))
    assert res.exit_code == 0
    assert "warn" in res.stderr and "[W001] not UTF-8; decoded as cp1252" in res.stderr
    assert "warnings: W001×1" in flat(res.stderr)


def test_ingest_max_bytes_option(cli, folder):
    """--max-bytes skips larger inputs, naming them and the limit."""
    res = cli("ingest", "--max-bytes", "120", str(folder))
    assert res.exit_code == 1
    assert f"{folder / 'page.html'}: [E005] file is" in res.stderr
    assert "over the 120-byte limit (--max-bytes)" in res.stderr
    assert "read 2;" in flat(res.stderr)


def test_ingest_stdin(cli):
    """`ingest -` reads JSONL from stdin."""
    rows = [{"id": "s1", "text": "A stdin article about the new tram depot opening."},
            {"id": "s2", "maintext": "Another one, about ferry fares going up in May."}]
    res = cli("ingest", "-", input="".join(json.dumps(r) + "\n" for r in rows))
    assert res.exit_code == 0, res.stderr
    assert "read 2; added 2" in flat(res.stderr)
    assert cli("show", "s2", "--json").exit_code == 0


def test_quiet_prints_no_summary_but_still_the_problems(cli, folder):
    """--quiet: no summary; problems are still reported; the exit code is unchanged."""
    (folder / "empty.txt").write_bytes(b"")
    res = cli("--quiet", "ingest", str(folder))
    assert res.exit_code == 1
    assert "ingest:" not in res.stderr and "read 3" not in res.stderr
    assert "[E001] empty file" in res.stderr
    assert res.stdout == ""


def test_json_outputs_parse(cli, folder):
    """--json of ingest, articles, show (with --removed) and report is JSON on stdout."""
    (folder / "empty.txt").write_bytes(b"")
    res = cli("ingest", "--json", str(folder))
    assert res.exit_code == 1
    summary = json.loads(res.stdout)
    assert (summary["read"], summary["added"], summary["skipped"]) == (3, 3, {"E001": 1})
    assert summary["problems"] == [{"input": str(folder / "empty.txt"), "code": "E001", "level": "skip",
                                    "message": "[E001] empty file"}]

    arts = json.loads(cli("articles", "--json").stdout)
    page = next(a for a in arts if a["ext_id"] == "page")
    assert page["outlet"] == "The Coastal Ledger" and page["date"] == "2024-03-14"

    res = cli("show", page["id"], "--removed", "--json")
    assert res.exit_code == 0
    detail = json.loads(res.stdout)
    assert detail["headline"] == "Harbour bridge reopens after six months of repairs"
    assert "Tomas Vendel" in detail["text"]
    assert {"start", "end", "reason", "text"} <= set(detail["removed"][0])

    assert cli("analyse").exit_code == 0
    report = json.loads(cli("report", "--json").stdout)
    assert report["articles"] == 3
    assert sum(len(s["articles"]) for s in report["stories"]) == 3


def test_show_by_id_prefix_and_by_input_name(cli, folder):
    """`show` finds an article by a prefix of its id and by its input's name."""
    assert cli("ingest", str(folder)).exit_code == 0
    arts = {a["ext_id"]: a for a in json.loads(cli("articles", "--json").stdout)}
    one = arts["one"]
    by_prefix = json.loads(cli("show", one["id"][:6], "--json").stdout)
    by_name = json.loads(cli("show", "one", "--json").stdout)
    assert by_prefix["id"] == by_name["id"] == one["id"]
    assert by_name["text"].startswith("The harbour council approved")
    res = cli("show", "two")
    assert res.exit_code == 0 and "Fishermen landed a record herring catch" in flat(res.stdout)
    res = cli("show", "no-such-article")
    assert res.exit_code != 0 and "E104" in res.stderr


def test_run_ingests_and_reports(cli, folder):
    """`run` ingests, analyses and prints the report as JSON with the ingest summary."""
    res = cli("run", "--json", str(folder))
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["ingest"]["added"] == 3 and data["articles"] == 3


def test_unexpected_failure_exits_3_and_keeps_stored_batches(cli, folder, monkeypatch):
    """A store failure mid-ingest stops the run with one line and exit 3; earlier articles stay."""
    assert cli("ingest", str(folder)).exit_code == 0
    from newstrace.store import Store

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "add_articles", boom)
    (folder / "three.txt").write_text("A third article about the harbour and its new pier, opened on Friday.\n")
    result = cli("ingest", str(folder))
    assert result.exit_code == 3
    assert "E106" in flat(result.stderr) and "disk full" in flat(result.stderr)
    monkeypatch.undo()
    listed = json.loads(cli("articles", "--json").stdout)
    assert len(listed) == 3  # one.txt, two.txt, page.html from the first run


def test_show_treats_underscore_literally(cli, tmp_path):
    """`show` prefixes are literal: "ab_" does not match "abc..." through a LIKE wildcard."""
    d = tmp_path / "c"
    d.mkdir()
    (d / "abcd.txt").write_text(ONE)
    assert cli("ingest", str(d)).exit_code == 0
    assert cli("show", "abc").exit_code == 0
    assert cli("show", "ab_").exit_code != 0


def test_quotes_batch_offsets_point_into_the_input_text(cli, tmp_path):
    """Batch quotes: offsets are into the input text exactly as given, through cleaning."""
    text = ("Skip to main content\nShare\n"
            "The mayor spoke on Tuesday.\n\n“We will rebuild the pier before summer,” Mayor Anna Keller said.\n\n"
            "Please enter your comment!\n")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a1", "title": "Pier", "text": text}) + "\n")
    out = tmp_path / "out.jsonl"
    result = cli("--quiet", "quotes", str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["doc_id"] == "a1" and rows[0]["kind"] == "direct"
    a, b = rows[0]["content"]
    assert text[a:b] == "“We will rebuild the pier before summer,”"
    s, e = rows[0]["source"]
    assert text[s:e] == "Mayor Anna Keller"
    assert rows[0]["speaker"] == "Anna Keller"  # canonical: the title is not the name


def test_run_on_the_seeds_reads_as_english(cli):
    """The first thing a newcomer sees: counts with their singulars ("1 storyline", "1 article")."""
    res = cli("run", str(need(SEEDS)))
    assert res.exit_code == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "5 articles in 3 stories and 1 storyline;" in out
    assert "(1 article)" in out and "(3 articles)" in out and "1 storylines" not in out

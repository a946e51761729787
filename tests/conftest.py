"""Shared fixtures: the seed articles from ../shared/seeds, ingested once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newstrace.batch import LocalEngine, run_batch
from newstrace.pipeline import analyse, ingest
from newstrace.read import read_paths
from newstrace.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("NEWSTRACE_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "seeds"
FIXTURES = Path(__file__).parent / "fixtures"


def need(path: Path) -> Path:
    """Skip the test, saying why, when shared data is not beside the repo."""
    if not path.exists():
        pytest.skip(f"{path} is absent (shared data lives beside the repo in ../shared)")
    return path


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory) -> Store:
    need(SEEDS)
    db = tmp_path_factory.mktemp("seeds") / "seeds.db"
    store = Store.open(db)
    ingest(read_paths([SEEDS]), store)
    analyse(store)
    return store


@pytest.fixture(scope="session")
def seeds(seed_store) -> dict[str, object]:
    """Seed articles by their number: "000" ... "004"."""
    return {a.ext_id[:3]: a for a in seed_store.articles()}


#: other news of the same days, so that document frequencies tell common words from telling ones
OTHER_NEWS = ["The central bank raised interest rates by half a point, citing stubborn inflation in food prices.",
              "The home side won the cup final on penalties after a goalless draw watched by 60,000 fans.",
              "Shares in the carmaker fell after it cut its forecast for the year, blaming weak demand in Europe.",
              "Parliament passed the budget after a long night of debate, with the opposition voting against."]


@pytest.fixture(scope="session")
def stream5k(tmp_path_factory) -> tuple[Path, Path]:
    """A labelled 5,000-article stream from ../shared/bench/make_stream.py."""
    gen = need(SHARED / "bench" / "make_stream.py")
    d = tmp_path_factory.mktemp("stream5k")
    stream, gold = d / "stream.jsonl", d / "gold.jsonl"
    subprocess.run([sys.executable, str(gen), "--n", "5000", "--seed", "7", "--out", str(stream), "--gold",
                    str(gold)], check=True, capture_output=True)
    return stream, gold


@pytest.fixture(scope="session")
def local5k(stream5k, tmp_path_factory) -> tuple[Path, object]:
    """The stream batched on the local engine (shared by the batch test modules: it takes minutes)."""
    out = tmp_path_factory.mktemp("local5k") / "out"
    # 4 MB shards: the 16 MB stream is split into several, so shard boundaries are exercised
    summary = run_batch([str(stream5k[0])], out, LocalEngine(), shard_bytes=4 * 1024 * 1024)
    return out, summary

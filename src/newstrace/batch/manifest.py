"""Restartability: a small manifest per stage and part, written after the part's outputs.

A part's outputs are written atomically (temporary file, then rename); its manifest, written last,
records what it was made from (``input``: a digest of the shard or of the upstream parts) and by
what code (``version``: a digest of the source of the modules the stage runs). A rerun skips a part
whose manifest matches and whose outputs exist, so a crash costs only the parts in flight.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from .io import write_json

PKG = Path(__file__).resolve().parents[1]

#: the source each stage runs, relative to the package: editing any of it redoes the stage
STAGE_SOURCES = {
    "prepare": ("batch/io.py", "batch/stages.py", "read", "clean.py", "describe.py", "pipeline.py",
                "attribute", "model.py"),
    "signatures": ("batch/stages.py", "batch/sliced.py", "dedup/fingerprint.py"),
    "order": ("batch/stages.py", "batch/origins.py", "batch/sliced.py"),
    "firsts": ("batch/stages.py", "batch/origins.py", "batch/sliced.py"),
    "votes": ("batch/stages.py", "batch/origins.py", "batch/sliced.py", "dedup/stream.py"),
    "dedup": ("batch/stages.py", "batch/origins.py", "batch/sliced.py", "dedup/stream.py"),
    "anchors": ("batch/stages.py", "batch/sliced.py", "dedup/__init__.py"),
    "candidates": ("batch/stages.py", "batch/sliced.py"),
    "anchor_pairs": ("batch/stages.py", "batch/sliced.py", "dedup/__init__.py"),
    "relate_plan": ("batch/stages.py", "batch/sliced.py", "batch/parcels.py", "dedup/__init__.py"),
    "origin_parcels": ("batch/stages.py", "batch/sliced.py", "batch/parcels.py"),
    "relate": ("batch/stages.py", "batch/sliced.py", "batch/parcels.py", "dedup/__init__.py", "dedup/align.py",
               "dedup/fingerprint.py"),
    "cluster": ("batch/stages.py", "batch/stories.py", "cluster.py", "summary.py"),
    "story_windows": ("batch/stages.py", "batch/stories.py", "cluster.py", "model.py"),
    "stitch": ("batch/stages.py", "batch/stories.py"),
    "story_summaries": ("batch/stages.py", "batch/stories.py", "cluster.py", "summary.py", "model.py"),
    "storyline_names": ("batch/stages.py", "batch/sliced.py", "batch/storylines.py"),
    "storyline_pairs": ("batch/stages.py", "batch/sliced.py", "batch/storylines.py", "cluster.py"),
    "storyline_links": ("batch/stages.py", "batch/sliced.py", "batch/storylines.py", "cluster.py"),
    "storyline_components": ("batch/stages.py", "batch/storylines.py"),
    "storylines": ("batch/stages.py", "batch/storylines.py"),
}


def digest(*parts: Any) -> str:
    """A short stable digest of JSON-able values."""
    return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


@cache
def code_version(stage: str) -> str:
    """Digest of the source files a stage runs."""
    h = hashlib.blake2b(digest_size=12)
    for rel in STAGE_SOURCES[stage]:
        p = PKG / rel
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(PKG)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def hash_probe(job: object = None) -> int:
    """Python's hash of a fixed string: it tells which hash secret (PYTHONHASHSEED) a process runs with.

    Sentence keys are such hashes, so stored signatures are valid only where the probe is the same;
    the engine asks its workers (see :meth:`.engine.RayEngine.hash_probe`)."""
    return hash(b"newstrace signature probe")


class Manifest:
    """The manifests under ``DIR/_manifest/<stage>/<part>.json``."""

    def __init__(self, out: str | Path) -> None:
        self.root = Path(out) / "_manifest"

    def path(self, stage: str, part: str) -> Path:
        return self.root / stage / f"{part}.json"

    def done(self, stage: str, part: str, input_token: str, version: str) -> dict[str, Any] | None:
        """The manifest of a finished part made from ``input_token`` by ``version``, else None."""
        p = self.path(stage, part)
        try:
            m = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if m.get("input") != input_token or m.get("version") != version:
            return None
        out = self.root.parent
        if not all((out / rel).exists() for rel in m.get("outputs", [])):
            return None
        return m

    def write(self, stage: str, part: str, input_token: str, version: str, outputs: list[str],
              summary: dict[str, Any]) -> dict[str, Any]:
        m = {"stage": stage, "part": part, "input": input_token, "version": version,
             "token": digest(stage, part, input_token, version), "outputs": outputs, "summary": summary}
        write_json(m, self.path(stage, part))
        return m

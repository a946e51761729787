"""Shaping query results for the pages: the timeline chart, the reuse tree, highlighted text.

Everything here returns plain data or text that the templates escape; the one exception is the
timeline, an SVG built here, where every piece of text goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from .queries import MARK_OFF, MARK_ON

#: colours of the relation kinds (the origin of a story's tree is "origin")
KIND_COLOURS = {
    "origin": "#1f5f99", "duplicate": "#7a4ea3", "copy": "#7a4ea3", "excerpt": "#2a8c6a", "edited": "#c77c02",
    "rewrite": "#c0392b", "shares_passages": "#3f8fa8", "": "#9aa4b1",
}


def marked(snippet: str | None) -> list[tuple[str, bool]]:
    """An FTS snippet as (text, highlighted) pieces, for the template to escape piece by piece."""
    out: list[tuple[str, bool]] = []
    on = False
    for part in (snippet or "").replace(MARK_OFF, MARK_ON).split(MARK_ON):
        if part:
            out.append((part, on))
        on = not on
    return out


def plain(snippet: str | None) -> str:
    return (snippet or "").replace(MARK_ON, "").replace(MARK_OFF, "")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            d = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    # all times as naive UTC, so dated and undated-zone articles share one axis
    return d if d.tzinfo is None else d.astimezone(UTC).replace(tzinfo=None)


def reuse_tree(members: list[dict[str, Any]], relations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The story's articles as a forest: each origin with the copies and rewrites derived from it below.

    An article derived from several is placed under its best-scoring origin; articles related to
    nothing are roots of their own."""
    by_id = {a["id"]: a for a in members}
    best: dict[str, dict[str, Any]] = {}
    for r in relations:
        if r["origin"] in by_id and r["derived"] in by_id and r["origin"] != r["derived"] and (
                r["derived"] not in best or r["score"] > best[r["derived"]]["score"]):
            best[r["derived"]] = r
    children: dict[str, list[dict[str, Any]]] = {}
    for r in best.values():
        children.setdefault(r["origin"], []).append(r)

    placed: set[str] = set()

    def node(aid: str, rel: dict[str, Any] | None, depth: int) -> dict[str, Any]:
        placed.add(aid)
        kids = []
        if depth < 12:  # a chain deeper than this is a data problem: stop rather than recurse on
            for r in sorted(children.get(aid, []), key=lambda r: -r["score"]):
                if r["derived"] not in placed:
                    kids.append(node(r["derived"], r, depth + 1))
        return {"article": by_id[aid], "relation": rel, "children": kids}

    roots = [node(a["id"], None, 0) for a in members if a["id"] not in best]
    # a cycle of relations has no root: start from its earliest article
    roots += [node(a["id"], None, 0) for a in members if a["id"] not in placed]
    return roots


def kinds_of(members: list[dict[str, Any]], relations: list[dict[str, Any]]) -> dict[str, str]:
    """Each article's role in the story: the kind of its best relation, "origin" or ""."""
    by_id = {a["id"] for a in members}
    best: dict[str, tuple[float, str]] = {}
    origins = set()
    for r in relations:
        if r["origin"] in by_id and r["derived"] in by_id:
            origins.add(r["origin"])
            if r["score"] > best.get(r["derived"], (-1.0, ""))[0]:
                best[r["derived"]] = (r["score"], r["kind"])
    return {a["id"]: best[a["id"]][1] if a["id"] in best else ("origin" if a["id"] in origins else "")
            for a in members}


def timeline_svg(members: list[dict[str, Any]], kinds: dict[str, str], *, width: int = 900) -> str:
    """An SVG chart of a story's articles: time across, one row per outlet, a dot per article.

    Dots link to the article page, are coloured by their reuse kind and carry a tooltip."""
    dated = [(a, _when(a.get("date"))) for a in members]
    dated = [(a, t) for a, t in dated if t is not None]
    if not dated:
        return ""
    outlets = sorted({a.get("outlet") or "unknown outlet" for a, _ in dated})[:40]
    row = {o: i for i, o in enumerate(outlets)}
    t0, t1 = min(t for _, t in dated), max(t for _, t in dated)
    span = (t1 - t0).total_seconds() or 1.0
    left, right, top, step = 170, 20, 28, 26
    height = top + step * len(outlets) + 14
    inner = width - left - right
    e = html.escape
    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="articles of the story by time and outlet" xmlns="http://www.w3.org/2000/svg">']
    # time axis: start, middle and end labels
    for frac in (0.0, 0.5, 1.0):
        x = left + inner * frac
        t = t0 + timedelta(seconds=span * frac) if span > 1 else t0
        label = t.strftime("%d %b %H:%M") if span < 3 * 86400 else t.strftime("%d %b %Y")
        anchor = "start" if frac == 0 else "end" if frac == 1 else "middle"
        parts.append(f'<text x="{x:.1f}" y="14" class="axis" text-anchor="{anchor}">{e(label)}</text>')
        parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 8}" class="grid"/>')
    for o, i in row.items():
        y = top + step * i + step / 2
        parts.append(f'<text x="{left - 10}" y="{y + 4:.1f}" class="outlet" text-anchor="end">'
                     f'{e(o[:24])}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="lane"/>')
    for a, t in dated:
        o = a.get("outlet") or "unknown outlet"
        if o not in row:
            continue
        x = left + inner * ((t - t0).total_seconds() / span if span > 1 else 0.5)
        y = top + step * row[o] + step / 2
        kind = kinds.get(a["id"], "")
        colour = KIND_COLOURS.get(kind, KIND_COLOURS[""])
        tip = f"{a.get('headline') or a['id']} — {o}, {a.get('date')}" + (f" ({kind})" if kind else "")
        parts.append(f'<a href="/articles/{quote(a["id"])}"><circle cx="{x:.1f}" cy="{y:.1f}" r="7" '
                     f'fill="{colour}" class="dot"><title>{e(tip)}</title></circle></a>')
    parts.append("</svg>")
    return "".join(parts)


def highlighted_paragraphs(text: str, quotes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The clean text as paragraphs of pieces {"text", "quote" (or None), "end"}: quoted spans are marked
    for highlighting, "end" on the piece where a quote ends (where its speaker is shown).

    Overlapping quotes keep the first; a quote crossing a paragraph break is split with it."""
    spans = []
    end_prev = -1
    for q in sorted(quotes, key=lambda q: (q["content"][0], -q["content"][1])):
        s, e = q["content"]
        if s >= end_prev and 0 <= s < e <= len(text):
            spans.append((s, e, q))
            end_prev = e
    pieces: list[tuple[str, dict | None]] = []
    pos = 0
    for s, e, q in spans:
        if s > pos:
            pieces.append((text[pos:s], None))
        pieces.append((text[s:e], q))
        pos = e
    if pos < len(text):
        pieces.append((text[pos:], None))
    paras: list[list[dict[str, Any]]] = [[]]
    for piece, q in pieces:
        chunks = piece.split("\n\n")
        for i, chunk in enumerate(chunks):
            if i:
                paras.append([])
            if chunk:
                paras[-1].append({"text": chunk, "quote": q, "end": q is not None and i == len(chunks) - 1})
    return [p for p in paras if any(c["text"].strip() for c in p)]


def compare_rows(data: dict[str, Any]) -> dict[str, Any]:
    """Rows for the side-by-side view: each aligned passage as (origin words, derived words) with the
    word diff as operations, and the derived text between passages as new material."""
    rel = data["relation"]
    if rel is None:
        return {"origin": data["a"], "derived": data["b"], "rows": [], "unused": []}
    arts = {data["a"]["id"]: data["a"], data["b"]["id"]: data["b"]}
    o, d = arts[rel["origin"]], arts[rel["derived"]]
    rows = []
    pos = 0
    used_a: list[tuple[int, int]] = []
    for p in sorted(rel["passages"], key=lambda p: p["b_start"]):
        gap = d["text"][pos:p["b_start"]].strip()
        if gap and p["b_start"] > pos:
            rows.append({"kind": "added", "left": [], "right": [("+", gap)], "similarity": None})
        left, right = [], []
        if p.get("diff"):
            for op, aw, bw in p["diff"]:
                if aw:
                    left.append((op, aw))
                if bw:
                    right.append((op, bw))
        else:
            left = [("=", o["text"][p["a_start"]:p["a_end"]])]
            right = [("=", d["text"][p["b_start"]:p["b_end"]])]
        rows.append({"kind": "passage", "left": left, "right": right, "similarity": p["similarity"]})
        pos = max(pos, p["b_end"])
        used_a.append((p["a_start"], p["a_end"]))
    tail = d["text"][pos:].strip()
    if tail:
        rows.append({"kind": "added", "left": [], "right": [("+", tail)], "similarity": None})
    unused = []
    apos = 0
    for s, e in sorted(used_a):
        gap = o["text"][apos:s].strip()
        if gap and s > apos:
            unused.append(gap)
        apos = max(apos, e)
    if o["text"][apos:].strip():
        unused.append(o["text"][apos:].strip())
    return {"origin": o, "derived": d, "rows": rows, "unused": unused}

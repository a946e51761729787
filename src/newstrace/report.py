"""Report stage: what the store knows, as data (for ``--json``) and as rich terminal output."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from .attribute.speakers import fold
from .model import Analysis, Article
from .store import Store
from .summary import ENTITY_KINDS, first_report, story_extract


def article_summary(a: Article) -> dict[str, Any]:
    """The description of an article, without its texts."""
    return {
        "id": a.id, "ext_id": a.ext_id, "origin": a.origin, "format": a.fmt, "headline": a.headline,
        "standfirst": a.standfirst, "dateline": a.dateline, "byline": a.byline, "outlet": a.outlet,
        "url": a.url, "date": a.date, "language": a.language, "word_count": a.word_count,
        "credits": [{"text": c.text, "agency": c.agency, "style": c.style} for c in a.credits],
    }


def article_detail(a: Article, *, removed: bool = False, raw: bool = False) -> dict[str, Any]:
    """One article: its description and clean text, optionally what cleaning removed and the raw text."""
    d = article_summary(a)
    d["text"] = a.text
    if removed:
        d["removed"] = [{"start": r.start, "end": r.end, "reason": r.reason, "text": r.text} for r in a.removed]
    if raw:
        d["raw"] = a.raw
    return d


def report_data(store: Store, analysis: Analysis | None = None) -> dict[str, Any]:
    """Stories with their articles, relations, quotes and discrepancies."""
    analysis = analysis or store.load_analysis()
    arts = {a.id: a for a in store.articles()}
    rel_by_story: dict[str, list[dict[str, Any]]] = {}
    story_of = {aid: s.id for s in analysis.stories for aid in s.articles}
    for r in analysis.relations:
        rel_by_story.setdefault(story_of.get(r.derived, ""), []).append({
            "origin": r.origin, "derived": r.derived, "kind": r.kind, "score": r.score, "direction": r.direction,
            "passages": [{"origin": [p.a_start, p.a_end], "derived": [p.b_start, p.b_end],
                          "similarity": p.similarity} for p in r.passages]})
    quotes_by_article: dict[str, list[dict[str, Any]]] = {}
    for q in analysis.quotes:
        quotes_by_article.setdefault(q.article, []).append(
            {"text": q.text, "speaker": q.speaker, "kind": q.kind, "content": list(q.content)})
    disc_by_story: dict[str, list[dict[str, Any]]] = {}
    for d in analysis.discrepancies:
        disc_by_story.setdefault(d.story, []).append(
            {"kind": d.kind, "a": d.a, "b": d.b, "a_text": d.a_text, "b_text": d.b_text, "note": d.note})
    stories = []
    for s in analysis.stories:
        stories.append({
            "id": s.id, "headline": s.headline, "first": s.first, "last": s.last, "outlets": s.outlets,
            "key_names": s.key_names, "entities": s.entities, "copies": s.copies, "storyline": s.storyline,
            "extract": story_extract(s, arts), "first_report": first_report(s, arts),
            "articles": [dict(article_summary(arts[a]), quotes=quotes_by_article.get(a, []))
                         for a in s.articles if a in arts],
            "relations": rel_by_story.get(s.id, []),
            "discrepancies": disc_by_story.get(s.id, []),
        })
    data = {"articles": len(arts), "stories": stories}
    data["storylines"] = storylines(data)
    return {**data,
            "counts": {"stories": len(analysis.stories), "relations": len(analysis.relations),
                       "quotes": len(analysis.quotes), "discrepancies": len(analysis.discrepancies)}}


def _merged_entities(stories: list[dict[str, Any]], keep: int = 5) -> dict[str, list[str]]:
    """The entities of several stories, most frequent first; spellings of one name (Zelensky,
    Zelenskyy) count as one, shown in their most frequent form."""
    out = {}
    for kind in ENTITY_KINDS:
        counts: Counter[str] = Counter()
        forms: dict[str, Counter[str]] = {}
        for s in stories:
            for n in s.get("entities", {}).get(kind, []):
                key = " ".join(fold(w) for w in n.split())
                counts[key] += 1
                forms.setdefault(key, Counter())[n] += 1
        if counts:
            out[kind] = [forms[k].most_common(1)[0][0] for k, _ in counts.most_common(keep)]
    return out


def storylines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Storylines of a report: their stories in time order (a timeline)."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for s in data["stories"]:
        if s.get("storyline"):
            lines.setdefault(s["storyline"], []).append(s)
    out = []
    for lid, members in lines.items():
        members.sort(key=lambda s: (s["first"] or "", s["id"]))
        names = Counter(n for s in members for n in s["key_names"][:6])
        out.append({"id": lid, "stories": [s["id"] for s in members], "key_names": [n for n, _ in names.most_common(6)],
                    "entities": _merged_entities(members),
                    "timeline": [{"story": s["id"], "first": s["first"], "last": s["last"], "headline": s["headline"],
                                  "articles": len(s["articles"])} for s in members]})
    return out


def _label(a: dict[str, Any]) -> str:
    who = a.get("outlet") or "unknown outlet"
    when = f", {a['date']}" if a.get("date") else ""
    return f"[bold]{escape(a['ext_id'])}[/] [dim]{a['id'][:8]}[/] ({escape(who)}{escape(when)})"


def _grow(node: Tree, aid: str, path: tuple[str, ...], children: dict[str, list[dict[str, Any]]],
          by_id: dict[str, dict[str, Any]], shown: set[str]) -> None:
    """Add the articles derived from ``aid`` under ``node``, and theirs under them."""
    for r in children.get(aid, []):
        d = r["derived"]
        again = d in shown
        child = node.add(f"[yellow]{r['kind']}[/] {r['score']:.2f} → {_label(by_id[d])}"
                         f" [dim]({len(r['passages'])} passages; origin by {r['direction']})"
                         f"{' — also listed above' if again else ''}[/]")
        shown.add(d)
        if not again and d not in path:
            _grow(child, d, (*path, d), children, by_id, shown)


def _n(k: int, one: str, many: str | None = None) -> str:
    """"1 story", "3 stories"."""
    return f"{k} {one if k == 1 else many or one + 's'}"


def render_report(data: dict[str, Any], console: Console, *, max_quotes: int = 6) -> None:
    """Print the story report: per story its articles, reuse relations, quotes and discrepancies."""
    c = data["counts"]
    console.print(f"[bold]{_n(data['articles'], 'article')}[/] in {_n(c['stories'], 'story', 'stories')} and "
                  f"{_n(len(data['storylines']), 'storyline')}; {_n(c['relations'], 'reuse relation')}, "
                  f"{_n(c['quotes'], 'quote')}, {_n(c['discrepancies'], 'discrepancy', 'discrepancies')}\n")
    for line in data["storylines"]:
        about = [n for kind in ENTITY_KINDS for n in line["entities"].get(kind, [])[:3]] or line["key_names"]
        tree = Tree(f"[bold magenta]Storyline {line['id']}[/]: {escape(', '.join(about))}")
        for t in line["timeline"]:
            span = f"{t['first']} → {t['last']}" if t["first"] else "undated"
            tree.add(f"{span}  [cyan]{t['story']}[/] {escape(t['headline'] or '')} [dim]({_n(t['articles'], 'article')})[/]")
        console.print(tree)
        console.print()
    for s in data["stories"]:
        span = f"{s['first']} → {s['last']}" if s["first"] else "undated"
        tree = Tree(f"[bold cyan]Story {s['id']}[/]: {escape(s['headline'] or '')}  "
                    f"[dim]({_n(len(s['articles']), 'article')}, {_n(s['copies'], 'copy', 'copies')}, {span}; "
                    f"{escape(', '.join(s['outlets']) or 'outlets unknown')}"
                    f"{'; storyline ' + s['storyline'] if s['storyline'] else ''})[/]")
        typed = [f"{kind}: {', '.join(s['entities'][kind])}" for kind in ENTITY_KINDS
                 if s["entities"].get(kind)]
        if typed:
            tree.add(f"[dim]{escape('; '.join(typed))}[/]")
        elif s["key_names"]:
            tree.add(f"[dim]key names: {escape(', '.join(s['key_names'][:6]))}[/]")
        if s["first_report"] and s["first_report"] in {a["id"] for a in s["articles"]}:
            first = next(a for a in s["articles"] if a["id"] == s["first_report"])
            tree.add(f"[dim]first report: {escape(first['ext_id'])} ({escape(first.get('outlet') or 'unknown outlet')}"
                     f"{', ' + first['date'] if first.get('date') else ''})[/]")
        if s["extract"]:
            tree.add(f"[dim italic]{escape(s['extract'][:300])}{'…' if len(s['extract']) > 300 else ''}[/]")
        by_id = {a["id"]: a for a in s["articles"]}
        children: dict[str, list[dict[str, Any]]] = {}
        for r in sorted(s["relations"], key=lambda r: -r["score"]):
            if r["origin"] in by_id and r["derived"] in by_id:
                children.setdefault(r["origin"], []).append(r)
        derived = {r["derived"] for r in s["relations"]}
        shown: set[str] = set()

        for a in s["articles"]:
            if a["id"] in derived:
                continue
            is_origin = a["id"] in children
            node = tree.add(_label(a) + ("  [green]origin[/]" if is_origin else ""))
            node.add(f"[italic]{escape(a['headline'] or '')}[/]")
            shown.add(a["id"])
            _grow(node, a["id"], (a["id"],), children, by_id, shown)
        for a in s["articles"]:  # derived articles whose origin is in another story
            if a["id"] not in shown:
                tree.add(_label(a) + "  [dim](derived from another story's article)[/]")
        quotes = [(a, q) for a in s["articles"] for q in a["quotes"] if q["speaker"]]
        if quotes:
            qn = tree.add(f"[bold]Quotes[/] ({len(quotes)} with a speaker)")
            for a, q in quotes[:max_quotes]:
                text = q["text"] if len(q["text"]) < 110 else q["text"][:107] + "…"
                qn.add(f"[magenta]{escape(q['speaker'])}[/]: {escape(text)} [dim]({escape(a['ext_id'])})[/]")
            if len(quotes) > max_quotes:
                qn.add(f"[dim]… {len(quotes) - max_quotes} more (newstrace report --json)[/]")
        if s["discrepancies"]:
            dn = tree.add("[bold red]Discrepancies[/]")
            for d in s["discrepancies"]:
                dn.add(f"{d['kind']}: {escape(d['a_text'])!s} ({by_id.get(d['a'], {}).get('ext_id', d['a'][:8])}) ≠ "
                       f"{escape(d['b_text'])} ({by_id.get(d['b'], {}).get('ext_id', d['b'][:8])}) [dim]{d['note']}[/]")
        console.print(tree)
        console.print()


def articles_table(articles: list[Article]) -> Table:
    """A table of articles: id, input id, outlet, date, words, headline."""
    t = Table(show_lines=False, header_style="bold")
    for col in ("id", "input", "outlet", "date", "words", "credit", "headline"):
        t.add_column(col, overflow="fold" if col == "headline" else "ellipsis", no_wrap=col != "headline")
    for a in articles:
        credit = ", ".join(sorted({c.agency for c in a.credits if c.agency}))
        t.add_row(a.id[:12], escape(a.ext_id[:28]), escape(a.outlet or "-"), a.date or "-", str(a.word_count),
                  credit or "-", escape(a.headline or ""))
    return t


def render_article(a: Article, console: Console, *, removed: bool = False, raw: bool = False) -> None:
    """Print one article: metadata, clean text, and optionally what cleaning removed."""
    meta = Table.grid(padding=(0, 2))
    for k, v in article_summary(a).items():
        if k == "credits":
            v = "; ".join(f"{c['agency'] or '?'} ({c['style']}): {c['text']}" for c in v) or None
        if v not in (None, ""):
            meta.add_row(f"[bold]{k}[/]", escape(str(v)))
    console.print(meta)
    console.rule("clean text")
    console.print(escape(a.text))
    if removed:
        console.rule(f"removed by cleaning ({len(a.removed)})")
        for r in a.removed:
            console.print(f"[red]- {r.reason:<22}[/] [dim]{r.start}:{r.end}[/] {escape(r.text)}")
    if raw:
        console.rule("raw text")
        console.print(escape(a.raw))


def _diff_markup(diff: list, side: str) -> str:
    parts = []
    for op, a_words, b_words in diff:
        words = a_words if side == "origin" else b_words
        if not words:
            continue
        if op == "=":
            parts.append(escape(words))
        elif side == "origin":
            parts.append(f"[red strike]{escape(words)}[/]")
        else:
            parts.append(f"[green underline]{escape(words)}[/]")
    return " ".join(parts)


def render_compare(rel, arts: dict[str, Article], a: Article, b: Article, console: Console) -> None:
    """Print two articles' aligned passages side by side, deletions struck out, insertions underlined."""
    if rel is None:
        console.print(f"No reuse found between {escape(a.ext_id)} and {escape(b.ext_id)}.")
        return
    o, d = arts[rel.origin], arts[rel.derived]
    console.print(f"[bold yellow]{rel.kind}[/] (score {rel.score:.2f}): [bold]{escape(d.ext_id)}[/] "
                  f"({escape(d.outlet or 'unknown outlet')}) derives from [bold]{escape(o.ext_id)}[/] "
                  f"({escape(o.outlet or 'unknown outlet')}); origin decided by {rel.direction}\n")
    t = Table(show_lines=True, header_style="bold", expand=True)
    t.add_column(f"origin: {escape(o.headline or o.ext_id)}", ratio=1)
    t.add_column(f"derived: {escape(d.headline or d.ext_id)}", ratio=1)
    t.add_column("sim", justify="right", no_wrap=True)
    for p in rel.passages:
        left, right = o.text[p.a_start:p.a_end], d.text[p.b_start:p.b_end]
        if p.diff:
            left, right = _diff_markup(p.diff, "origin"), _diff_markup(p.diff, "derived")
        else:
            left, right = f"[dim]{escape(left)}[/]", f"[dim]{escape(right)}[/]"
        t.add_row(left, right, f"{p.similarity:.2f}")
    console.print(t)

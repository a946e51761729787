"""Compare stage: where the versions of one story disagree about who said what.

Statements are matched across the articles of a story when the reuse stage aligned the passages
they sit in, or when their words largely agree. On matched statements it flags, with both versions
as evidence:

- ``speaker_changed``: the same statement given to a different (canonical) speaker;
- ``quote_reworded``: words changed inside quotation marks (a quotation cut short or split in two
  is not a rewording);
- ``name_variant``: a person's name spelt differently ("Mykhailo Podolyak" / "Mykhailo Polyak");
- ``number_changed``: numbers or dates that differ between aligned passages.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from .attribute.extract import quote_spans
from .attribute.speakers import OPENERS, fold, name_parts
from .model import Article, Discrepancy, Quote, Relation, Story

# a first name and a surname, with a middle initial or not ("John F. Kennedy")
_FULL_NAME = re.compile(r"\b([A-Z][a-z’'-]{2,})\s+(?:[A-Z]\.\s+)?([A-Z][a-z’'-]{2,})\b")
_POSSESSIVE = re.compile(r"[’']s?$")
_GAP_CHARS = 300  # a stretch between two aligned passages compared as one: a sentence or two
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset("""a an the of to in on at for and or but is are was were be been it its that this these those
he she they we i you his her their our my your as by with from not no do does did has have had will would can
could should may might must there which who whom what when where so than then also just about into over""".split())


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’]+", text.lower().replace("’", "'"))


def _keys(text: str) -> set[str]:
    """Content words cut to a 5-letter stem, so "negotiate" meets "negotiations"."""
    return {w[:5] for w in _words(text) if w not in _STOP and len(w) > 2}


def statement_similarity(a: str, b: str, min_shared: int = 3) -> float:
    """How far two statements say the same: shared content stems over the shorter one's (0 when fewer
    than ``min_shared`` are shared)."""
    ka, kb = _keys(a), _keys(b)
    shared = len(ka & kb)
    return shared / min(len(ka), len(kb)) if shared >= min_shared and ka and kb else 0.0


def _same_statement(x: Quote, y: Quote) -> float:
    """Statement similarity, where a short statement by the same speaker needs two shared words, not
    three ("Russia as a “unique country”" / "Russia a “unique nation”")."""
    short = x.speaker is not None and x.speaker == y.speaker and min(len(_keys(x.text)), len(_keys(y.text))) <= 4
    return statement_similarity(x.text, y.text, 2 if short else 3)


def _aligned_similarity(x: Quote, y: Quote) -> float:
    """Statement similarity of two quotes in passages the reuse stage aligned, where a statement too short
    to share three content words (“he loves you”) is the same statement when it is the same words."""
    sim = statement_similarity(x.text, y.text)
    if sim == 0.0 and len(_words(x.text)) >= 2 and _words(x.text) == _words(y.text):
        return 1.0
    return sim


def quoted_fragments(text: str) -> list[str]:
    """The stretches of a quote's text inside quotation marks (a missing opening mark tolerated)."""
    # the pieces of one attribution are joined by " … " (see attribute._quotes)
    return [piece[s:e].strip("“”\"‘’ ,.") for piece in text.split(" … ") for s, e, _ in quote_spans(piece)]


def _reworded(fa: str, fb: str) -> float | None:
    """Word overlap of two quotations of one statement when it was changed, None when it was not
    (identical, or one a stretch of the other: cut or split)."""
    wa, wb = _words(fa), _words(fb)
    if not wa or not wb or wa == wb:
        return None
    sm = SequenceMatcher(None, wa, wb, autojunk=False)
    if max(b.size for b in sm.get_matching_blocks()) == min(len(wa), len(wb)):
        return None
    return sm.ratio()


def _overlap(a: str, b: str) -> float:
    """Shared content stems over all of both (Jaccard): breaks ties of :func:`statement_similarity`, which a
    short statement wins against every longer one that holds its words."""
    ka, kb = _keys(a), _keys(b)
    return len(ka & kb) / len(ka | kb) if ka | kb else 0.0


def _respelt_only(fa: str, fb: str) -> bool:
    """Whether two quotations differ only in the spelling of names ("Clinton" / "Cliton"): a misspelt
    name, which ``name_variant`` reports, not a rewording."""
    wa, wb = re.findall(r"[\w'’]+", fa), re.findall(r"[\w'’]+", fb)
    ops = [op for op in SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes() if op[0] != "equal"]
    return bool(ops) and all(
        tag == "replace" and i2 - i1 == j2 - j1 and all(
            x[:1].isupper() and y[:1].isupper() and SequenceMatcher(None, x, y).ratio() >= 0.7
            for x, y in zip(wa[i1:i2], wb[j1:j2], strict=True))
        for tag, i1, i2, j1, j2 in ops)


def _respelt_name(a: str, b: str) -> bool:
    """Whether two names of a speaker differ only in spelling, the full name against the surname too
    ("Bill de Blasio" / "De Blaio"): the surname respelt, the words before it in the shorter name the
    same in both."""
    wa, wb = a.split(), b.split()
    k = min(len(wa), len(wb))
    if len(wa) != len(wb) and [w.lower() for w in wa[-k:-1]] == [w.lower() for w in wb[-k:-1]]:
        return _respelt_only(wa[-1], wb[-1])
    return _respelt_only(a, b)


def _inside(q: Quote, start: int, end: int) -> bool:
    return q.content[0] < end and start < q.content[1]


def _pairs(story: Story, quotes: dict[str, list[Quote]], relations: Iterable[Relation]) -> Iterable[tuple[Quote, Quote]]:
    """Pairs of quotes from two articles of the story that report the same statement."""
    seen: set[frozenset[tuple[str, tuple[int, int]]]] = set()  # each pair once, whichever way round
    # statements given their counterpart in an aligned passage of the other article: (its article, its
    # span, the other article); matching by words across the story does not give them a second one
    placed: set[tuple[str, tuple[int, int], str]] = set()

    def new(x: Quote, y: Quote) -> bool:
        key = frozenset(((x.article, x.content), (y.article, y.content)))
        if key in seen:
            return False
        seen.add(key)
        return True

    for rel in relations:
        qa, qb = quotes.get(rel.origin, []), quotes.get(rel.derived, [])
        for p in rel.passages:
            ins_a = [q for q in qa if _inside(q, p.a_start, p.a_end)]
            ins_b = [q for q in qb if _inside(q, p.b_start, p.b_end)]
            # where a statement stands in its passage: its counterpart stands at about the same place
            # (a spun rewrite shifts words by a few letters), which tells apart the statements of one
            # passage that share words ("declined to comment" twice) and rules out a far one
            slack = 0.1 * max(p.a_end - p.a_start, p.b_end - p.b_start) + 100
            for x in ins_a:
                at = x.content[0] - p.a_start
                near = [y for y in ins_b if abs(y.content[0] - p.b_start - at) <= slack]
                best = max(near, key=lambda y: (_aligned_similarity(x, y), _overlap(x.text, y.text),
                                                -abs(y.content[0] - p.b_start - at)), default=None)
                if best is not None and _aligned_similarity(x, best) >= 0.3 and new(x, best):
                    placed.update(((x.article, x.content, best.article), (best.article, best.content, x.article)))
                    yield x, best
    arts = [a for a in story.articles if a in quotes]
    for i, a in enumerate(arts):
        for b in arts[i + 1:]:
            free_b = [y for y in quotes[b] if (b, y.content, a) not in placed]
            for x in quotes[a]:
                if (a, x.content, b) in placed:
                    continue
                best = max(free_b, key=lambda y: (_same_statement(x, y), _overlap(x.text, y.text)), default=None)
                if best is not None and _same_statement(x, best) >= 0.6 and new(x, best):
                    yield x, best


def _named(q: Quote, articles: dict[str, Article] | None) -> bool:
    """Whether a quote's source names its speaker ("Podolyak said"), rather than a pronoun or a
    description whose speaker is inferred ("he said", "the Republican nominee said"); True when the
    article's text is not at hand."""
    if articles is None or q.source is None or q.article not in articles:
        return True
    said = {fold(w) for w in re.findall(r"[\w’'-]+", articles[q.article].text[q.source[0]:q.source[1]])}
    names = {fold(w) for n in (q.speaker, q.mention) if n for w in n.split() if w[:1].isupper() and len(w) > 2}
    return bool(said & names)


def _one_body(x: Quote, y: Quote) -> bool:
    """Whether two organisation speakers are one body described in other common words ("the Obama
    administration" / "the Obama government"): the same capitalised words, and some."""
    if "organisation" not in (x.speaker_kind, y.speaker_kind):
        return False
    caps = [{fold(w) for w in re.findall(r"[\w’'-]+", q.speaker or "") if w[:1].isupper()} for q in (x, y)]
    return bool(caps[0]) and caps[0] == caps[1]


def quote_discrepancies(story: Story, quotes: dict[str, list[Quote]],
                        relations: Sequence[Relation] = (),
                        articles: dict[str, Article] | None = None) -> list[Discrepancy]:
    """Statements of one story given to another speaker, or reworded inside quotation marks. A statement
    whose source names no one in either version ("she said", "the Republican candidate said") is given to
    no one by name: two readings of a pronoun or a description are not two speakers."""
    out: list[Discrepancy] = []
    flagged: set[tuple[str, str, str, str]] = set()
    for x, y in _pairs(story, quotes, relations):
        nx, ny = (" ".join(name_parts(q.mention or q.speaker or "")) for q in (x, y))
        if nx and ny and nx != ny and _respelt_name(nx, ny):
            # the speaker spelt two ways ("Clinton" / "Cliton", "De Blasio" / "De Blaio"), whether or not
            # the speaker index linked the spellings: a name variant, not another speaker
            key = ("name_variant", x.article, y.article, nx)
            if key not in flagged:
                flagged.add(key)
                kind = "transliteration variant" if fold(nx.split()[-1]) == fold(ny.split()[-1]) else \
                    "probable misspelling"
                out.append(Discrepancy(story.id, "name_variant", x.article, y.article, nx, ny,
                                       f"{kind} of a speaker's name, similarity "
                                       f"{SequenceMatcher(None, nx, ny).ratio():.2f}"))
        elif x.speaker and y.speaker and x.speaker != y.speaker and (_named(x, articles) or _named(y, articles)) \
                and not _one_body(x, y):
            key = ("speaker_changed", x.article, y.article, x.text)
            if key not in flagged:
                flagged.add(key)
                out.append(Discrepancy(story.id, "speaker_changed", x.article, y.article, x.text, y.text,
                                       f"said by {x.speaker} in one version, by {y.speaker} in the other"))
        same_speaker = x.speaker is not None and x.speaker == y.speaker
        frags_b = quoted_fragments(y.text)
        for fa in quoted_fragments(x.text):
            best = max(frags_b, key=lambda fb: SequenceMatcher(None, _words(fa), _words(fb)).ratio(), default=None)
            if best is None:
                continue
            ratio = _reworded(fa, best)
            short = min(len(_words(fa)), len(_words(best))) < 4
            if ratio is None or ratio < 0.4 or (short and not (same_speaker and ratio >= 0.5)) or \
                    _respelt_only(fa, best):
                continue
            key = ("quote_reworded", x.article, y.article, fa)
            if key not in flagged:
                flagged.add(key)
                who = f"{x.speaker}; " if same_speaker else ""
                out.append(Discrepancy(story.id, "quote_reworded", x.article, y.article, fa, best,
                                       f"{who}word overlap {ratio:.2f}"))
    return out


def _aligned_stretches(rel: Relation, origin: Article, derived: Article) -> Iterable[tuple[str, str]]:
    """The texts of each aligned passage pair, and of each short stretch between two passages in both
    versions (a sentence too short to align on its own: "Oct." read as a sentence end leaves "19 in Las
    Vegas." between two passages)."""
    ps = sorted(rel.passages, key=lambda p: (p.a_start, p.b_start))
    for k, p in enumerate(ps):
        yield origin.text[p.a_start:p.a_end], derived.text[p.b_start:p.b_end]
        if k + 1 < len(ps):
            q = ps[k + 1]
            ga, gb = origin.text[p.a_end:q.a_start], derived.text[p.b_end:q.b_start]
            if q.b_start >= p.b_end and ga.strip() and gb.strip() and max(len(ga), len(gb)) <= _GAP_CHARS:
                yield ga, gb


def passage_discrepancies(story: str, rel: Relation, origin: Article, derived: Article) -> list[Discrepancy]:
    """Numbers changed between two aligned versions of the same passages: a figure in place of another
    where the words around them agree (a figure dropped or added with its sentence is an edit, not a
    change; "27 leaders … 27 plans" with one 27 changed is)."""
    out: list[Discrepancy] = []
    for a_text, b_text in _aligned_stretches(rel, origin, derived):
        # not the passage's similarity: the alignment reads figures as one token kind, so a passage
        # with only a figure changed can score 1.0
        if a_text == b_text:
            continue
        wa, wb = _TOKEN.findall(a_text), _TOKEN.findall(b_text)
        # the words both versions open and close with are the same: align only what lies between
        # (linear, where aligning whole articles word by word costs tens of milliseconds each)
        lo = 0
        while lo < min(len(wa), len(wb)) and wa[lo] == wb[lo]:
            lo += 1
        hi = 0
        while hi < min(len(wa), len(wb)) - lo and wa[-1 - hi] == wb[-1 - hi]:
            hi += 1
        wa, wb = wa[lo:len(wa) - hi], wb[lo:len(wb) - hi]
        old, new = [], []
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
            if tag != "replace":
                continue
            na = [w.replace(",", "") for w in wa[i1:i2] if _NUMBER.fullmatch(w)]
            nb = [w.replace(",", "") for w in wb[j1:j2] if _NUMBER.fullmatch(w)]
            if na and nb and na != nb:
                old += [n for n in na if n not in nb]
                new += [n for n in nb if n not in na]
        if old and new:
            out.append(Discrepancy(story, "number_changed", origin.id, derived.id, ", ".join(dict.fromkeys(old)),
                                   ", ".join(dict.fromkeys(new)), a_text.strip()[:120]))
    return out


def name_variants(story: Story, articles: dict[str, Article],
                  related: set[frozenset[str]] = frozenset()) -> list[Discrepancy]:
    """A person's name spelt differently in the articles of a story (same first name, near surname).

    The spelling more of the story's articles use is the usual one (on a tie, the earlier article's);
    every article that uses only the other is flagged, beside an article with the usual spelling: one
    it is ``related`` to (its origin or a copy of it: pairs of article ids) if any, else the first. So
    each outlet that misspells a name is named, not only the first."""
    out: list[Discrepancy] = []
    # a possessive is the name's ("Hillary Clinton’s" is Hillary Clinton)
    names = {a: {(first, _POSSESSIVE.sub("", sur)) for first, sur in _FULL_NAME.findall(articles[a].text)}
             for a in story.articles if a in articles}
    order = {a: k for k, a in enumerate(names)}
    users: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a, ns in names.items():
        for n in ns:
            users[n].append(a)
    by_first: dict[str, list[str]] = defaultdict(list)
    for first, sur in sorted(users):
        if first.lower() not in _STOP and first.lower() not in OPENERS:  # "When Clinton …": not a first name
            by_first[first].append(sur)
    for first, surs in by_first.items():
        for i, sur in enumerate(surs):
            for sur2 in surs[i + 1:]:
                ratio = SequenceMatcher(None, sur, sur2).ratio()
                p, q = (first, sur), (first, sur2)
                only_p = [a for a in users[p] if q not in names[a]]
                only_q = [a for a in users[q] if p not in names[a]]
                if ratio < 0.7 or not only_p or not only_q:
                    continue
                if (len(users[q]), -order[users[q][0]]) > (len(users[p]), -order[users[p][0]]):
                    p, q, only_p, only_q = q, p, only_q, only_p
                kind = "transliteration variant" if fold(p[1]) == fold(q[1]) else "probable misspelling"
                for b in only_q:
                    a = next((x for x in only_p if frozenset((x, b)) in related), only_p[0])
                    out.append(Discrepancy(story.id, "name_variant", a, b, " ".join(p), " ".join(q),
                                           f"{kind}, similarity {ratio:.2f}"))
    return out


def compare(stories: Sequence[Story], articles: dict[str, Article],
            relations: Sequence[Relation] = (), quotes: Sequence[Quote] = ()) -> list[Discrepancy]:
    """Discrepancies between the articles of each story."""
    out: list[Discrepancy] = []
    story_of = {a: s.id for s in stories for a in s.articles}
    by_article: dict[str, list[Quote]] = defaultdict(list)
    for q in quotes:
        by_article[q.article].append(q)
    rels_of: dict[str, list[Relation]] = defaultdict(list)
    for rel in relations:
        sid = story_of.get(rel.derived)
        if sid and sid == story_of.get(rel.origin) and rel.origin in articles and rel.derived in articles:
            rels_of[sid].append(rel)
            out.extend(passage_discrepancies(sid, rel, articles[rel.origin], articles[rel.derived]))
    for story in stories:
        if len(story.articles) < 2:
            continue
        story_quotes = {a: by_article[a] for a in story.articles if by_article.get(a)}
        found = name_variants(story, articles,
                              {frozenset((r.origin, r.derived)) for r in rels_of.get(story.id, [])})
        # a misspelt surname the text scan found (a full name with its first name) is not told again
        # from the quotes' speakers
        seen = {frozenset((d.a_text.split()[-1], d.b_text.split()[-1])) for d in found}
        for d in quote_discrepancies(story, story_quotes, rels_of.get(story.id, []), articles):
            if d.kind == "name_variant":
                pair = frozenset((d.a_text.split()[-1], d.b_text.split()[-1]))
                if pair in seen:
                    continue
                seen.add(pair)
            out.append(d)
        out.extend(found)
    return out

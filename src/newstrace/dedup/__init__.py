"""Deduplicate stage: copies, syndicated copy, excerpts, edits, rewrites and partial reuse.

Two entry points share the same fingerprints and alignment:

- :func:`relate_new` works on the store. Its index (tables ``sentence_index``, ``term_index``,
  ``term_df``) persists next to the articles, so every new article is checked against
  everything ingested before, not only its own batch. Candidates come from two signals:
  exact sentence keys (copies, excerpts, edits) and salient content terms (paraphrased
  rewrites keep few exact sentences but their names, numbers and key nouns). Each candidate
  pair is then aligned sentence by sentence (:mod:`.align`) to confirm and label it.
- :mod:`.stream` is the one-pass batch mode (``newstrace dedup IN.jsonl -o OUT.jsonl``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container, Mapping

import numpy as np

from ..model import Article, Relation
from ..store import Store
from .align import align, classify, passages
from .fingerprint import fold, sentences

__all__ = ["relate_new", "relate_pair", "anchors", "anchor_weight", "anchor_candidates", "align", "classify", "passages", "reindex"]

#: only names and numbers in at most this many articles are looked up: common ones do not discriminate
ANCHOR_MAX_POSTINGS = 100
#: a paraphrase candidate holds this share of the article's anchor weight, over this many rare anchors
MIN_ANCHOR_SHARE = 0.2
MIN_SHARED_ANCHORS = 3
MAX_ANCHOR_CANDIDATES = 5
MAX_CANDIDATES = 10
_MASK = (1 << 63) - 1


def _signed(key: int) -> int:
    return key - (1 << 64) if key > _MASK else key


def _words(text: str) -> str:
    return " ".join(fold(text).split())


# wire credits that name an agency's own reporting, over a mere "agencies"/"Source:" line
_CREDIT_RANK = {"reuters": 3, "dateline": 3, "inline": 2, "source-line": 1, "glued": 1}


def _credit_strength(a: Article) -> int:
    best = 0
    for c in a.credits:
        rank = _CREDIT_RANK.get(c.style, 1)
        if c.agency in (None, "agencies"):
            rank = min(rank, 1)
        best = max(best, rank)
    return best


def relate_pair(a: Article, b: Article, order: Callable[[Article], int] = lambda x: 0) -> Relation | None:
    """The reuse relation between two articles, with its direction, or None."""
    al_ab = align(a.text, b.text)  # a as origin; the other way round only when it is needed
    how = ""
    if a.date and b.date and a.date[:16] != b.date[:16]:
        origin, derived, al, how = (a, b, al_ab, "date") if a.date < b.date else (b, a, align(b.text, a.text), "date")
    elif al_ab.exact_d >= 0.95 > al_ab.exact_o and al_ab.contiguous():
        origin, derived, al, how = a, b, al_ab, "containment"
    else:
        al_ba = align(b.text, a.text)
        if al_ba.exact_d >= 0.95 > al_ba.exact_o and al_ba.contiguous():
            origin, derived, al, how = b, a, al_ba, "containment"
        elif _credit_strength(a) != _credit_strength(b):
            origin, derived, al = (a, b, al_ab) if _credit_strength(a) > _credit_strength(b) else (b, a, al_ba)
            how = "credit"
        else:
            origin, derived, al = (a, b, al_ab) if order(a) <= order(b) else (b, a, al_ba)
            how = "order"
    same_text = _words(origin.text) == _words(derived.text)
    verdict = classify(al, same_text, _words(origin.headline or "") == _words(derived.headline or ""),
                       _words(origin.raw) == _words(derived.raw))
    if verdict is None:
        return None
    kind, score = verdict
    return Relation(origin.id, derived.id, kind, score, passages(al, origin.text, derived.text), how)


_ANCHOR = re.compile(r"(?P<prev>[.!?:\"“‘(]\s*)?\b(?P<tok>[A-Z][\w-]{2,}|\d[\d.,]*\d|\d)")


def anchors(text: str) -> set[str]:
    """Names and numbers of a text: what a paraphrase keeps when it swaps every other word.

    A capitalised word counts only inside a sentence (not after a full stop, colon or opening
    quote), where capitals mark names rather than sentence starts.
    """
    out = set()
    for line in text.split("\n"):
        for m in _ANCHOR.finditer(line.strip()):
            tok = m.group("tok")
            if m.start("tok") == 0 or (m.group("prev") and not tok[0].isdigit()):
                continue
            out.add(tok.lower()[:8])
    return out


def anchor_weight(n_docs: int | np.ndarray, df: int | np.ndarray) -> float | np.ndarray:
    """Weight of an anchor held by ``df`` of the ``n_docs`` earlier articles: the rarer, the heavier.
    Numbers or numpy arrays (the batch engine weighs a whole bucket of anchors at once)."""
    return np.log((n_docs + 1) / (df + 1))


def anchor_candidates(shared: Mapping[int, tuple[int, float]], mass: float,
                      exclude: Container[int] = ()) -> list[tuple[int, float]]:
    """The paraphrase candidates of one article and their share of its anchor weight, best first.

    ``shared`` maps each earlier article to (rare anchors shared, their summed weight); ``mass`` is
    the article's total positive anchor weight; ``exclude``: candidates found otherwise already.
    Ties go to the smaller key (the earlier article), so the pick does not depend on lookup order.
    """
    votes = {o: w / mass for o, (n, w) in shared.items()
             if n >= MIN_SHARED_ANCHORS and w / mass >= MIN_ANCHOR_SHARE and o not in exclude}
    best = sorted(votes, key=lambda o: (-votes[o], o))[:MAX_ANCHOR_CANDIDATES]
    return [(o, votes[o]) for o in best]


def relate_new(store: Store, on_article: Callable[[], None] = lambda: None) -> list[Relation]:
    """Index the articles stored since the last call and relate each one to the articles before it.

    Articles are taken in publication order (undated ones in arrival order), so the index only
    ever holds articles published before the one being checked when dates are known.
    """
    last = int(store.get_state("dedup_seq", "0") or 0)
    todo = store.articles_by_seq(last)
    found: list[Relation] = []
    n_docs = int(store.get_state("dedup_docs", "0") or 0)
    for i in range(0, len(todo), 200):
        batch = todo[i:i + 200]
        with store.transaction() as conn:
            for seq, _date in batch:
                art = store.article_at(seq)
                found.extend(_relate_one(store, conn, seq, art, n_docs))
                n_docs += 1
                on_article()
            store.set_state(conn, "dedup_seq", str(max(last, max(s for s, _ in batch))))
            store.set_state(conn, "dedup_docs", str(n_docs))
            last = max(last, max(s for s, _ in batch))
    return found


def _relate_one(store: Store, conn, seq: int, art: Article, n_docs: int) -> list[Relation]:
    sents = sentences(art.text)
    keys = sorted({_signed(s.key) for s in sents})
    votes: Counter[int] = Counter()
    for j in range(0, len(keys), 900):
        chunk = keys[j:j + 900]
        for other, n in conn.execute(
                f"SELECT seq, COUNT(*) FROM sentence_index WHERE key IN ({','.join('?' * len(chunk))}) "
                "GROUP BY seq", chunk):
            votes[other] += n * 100  # exact sentences outrank shared terms
    # second signal: shared rare names and numbers, weighted by rarity (paraphrases keep them)
    mine = sorted(anchors(art.text))
    df = dict(conn.execute(f"SELECT term, n FROM term_df WHERE term IN ({','.join('?' * len(mine))})",
                           mine).fetchall()) if mine else {}
    weight = {t: anchor_weight(n_docs, df.get(t, 0)) for t in mine}
    mass = sum(w for w in weight.values() if w > 0) or 1.0
    rare = [t for t in mine if 0 < df.get(t, 0) <= ANCHOR_MAX_POSTINGS]
    shared: dict[int, list[float]] = {}
    for j in range(0, len(rare), 900):
        chunk = rare[j:j + 900]
        for other, term in conn.execute(
                f"SELECT seq, term FROM term_index WHERE term IN ({','.join('?' * len(chunk))})", chunk):
            shared.setdefault(other, []).append(weight[term])
    picked = anchor_candidates({o: (len(ws), sum(ws)) for o, ws in shared.items()}, mass, votes)
    for other, share in picked:
        votes[other] += share
    votes.pop(seq, None)
    out = []
    for other, _v in votes.most_common(MAX_CANDIDATES):
        rel = relate_pair(store.article_at(other), art, order=lambda a: 1 if a.id == art.id else 0)
        if rel is not None:
            out.append(rel)
    store.add_relations(conn, out)
    conn.executemany("INSERT OR IGNORE INTO sentence_index VALUES (?, ?)", [(k, seq) for k in keys])
    conn.executemany("INSERT OR IGNORE INTO term_index VALUES (?, ?)", [(t, seq) for t in mine])
    conn.executemany("INSERT INTO term_df VALUES (?, 1) ON CONFLICT(term) DO UPDATE SET n = n + 1",
                     [(t,) for t in mine])
    return out


def reindex(store: Store) -> None:
    """Forget the reuse index and relations, so the next :func:`relate_new` rebuilds them."""
    with store.transaction() as c:
        for table in ("sentence_index", "term_index", "term_df", "relations"):
            c.execute(f"DELETE FROM {table}")
        c.execute("DELETE FROM state WHERE k = 'dedup_seq'")

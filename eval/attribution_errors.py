"""Error analysis of attribution on PolNeAR: runs newstrace's batch extraction in this process on a
split, matches it to the gold the way ../shared/eval/polnear.py does (character Jaccard >= 0.5, one to
one, greedy), and prints the misses and false hits by category, with examples.

    python eval/attribution_errors.py --split dev [--shared ../shared] [--show 8] [--category NAME]
    python eval/attribution_errors.py --dir /tmp/pn/trainA --pred train.q.jsonl   # any folder of text/ + attributions/

Categories of a missed gold attribution: ``boundary`` (a prediction overlaps it, but under the
Jaccard bar: span too long or too short), ``cue:<lemma>`` for the rest (nothing found), grouped by
the gold cue's head word, whether that cue is in newstrace's cue list, and whether the parser saw the
sentence (``-unparsed``: the cheap pre-filter passed it over). A false hit is
``boundary`` when it overlaps some gold content, else ``spurious:<cue>``. Matched pairs whose source
is wrong are ``source`` errors. The figures printed at the top are the scorer's own (imported).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


# the entourage of a verb in a cue (PolNeAR's guidelines: auxiliaries, modals, negation, adverbs)
_VERB_GROUP = frozenset("""is was are were be been being am 's ’s has have had do does did will would can could may
might must should shall not n't never also just still even already a an the to""".split())


def _scorer(shared: Path):
    spec = importlib.util.spec_from_file_location("polnear_scorer", shared / "eval/polnear.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def _cues(split_dir: Path) -> dict[str, dict[tuple[tuple[int, int], ...], str]]:
    """doc -> content pieces -> cue text, from the first .ann file of each article (the gold)."""
    out: dict[str, dict] = {}
    firsts: dict[str, str] = {}
    for path in sorted(glob.glob(str(split_dir / "attributions" / "*.ann"))):
        doc = os.path.basename(path)[:-4].rsplit("_", 1)[0]
        firsts.setdefault(doc, path)
    for doc, path in firsts.items():
        spans, events = {}, []
        with open(path, encoding="utf-8") as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if line[:1] == "T" and len(cols) >= 3:
                    label, _, where = cols[1].partition(" ")
                    try:
                        spans[cols[0]] = (label, tuple(tuple(map(int, p.split())) for p in where.split(";")), cols[2])
                    except ValueError:
                        continue
                elif line[:1] == "E" and len(cols) >= 2:
                    events.append(dict(p.split(":", 1) for p in cols[1].split() if ":" in p))
        m = {}
        for roles in events:
            c, q = spans.get(roles.get("Content")), spans.get(roles.get("Cue"))
            if c:
                m[c[1]] = q[2] if q else ""
        out[doc] = m
    return out


def predict(articles: Path) -> list[dict]:
    """newstrace's batch lines for an exported split (the same code as ``newstrace quotes``)."""
    from newstrace.attribute.batch import quote_rows

    with open(articles, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [line for _n, lines in quote_rows(rows, str(articles)) for line in lines]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--dir", help="a split folder (text/, attributions/) to use instead of --split, e.g. half of train")
    ap.add_argument("--show", type=int, default=6, help="examples per category")
    ap.add_argument("--top", type=int, default=25, help="categories shown")
    ap.add_argument("--category", help="show only this category, with more examples")
    ap.add_argument("--pred", help="score these batch lines instead of running newstrace")
    ap.add_argument("--save", help="write the batch lines here")
    ap.add_argument("--quoted", action="store_true", help="the quoted subset only")
    args = ap.parse_args()
    shared = Path(args.shared)
    sc = _scorer(shared)
    split_dir = Path(args.dir) if args.dir else shared / "data/polnear" / args.split
    texts, gold = sc.gold_for(str(split_dir))
    cues = _cues(split_dir)
    if args.pred:
        with open(args.pred, encoding="utf-8") as f:
            lines = [json.loads(x) for x in f]
    else:
        tmp = ROOT / "eval/out" / f"errors_{split_dir.name}.articles.jsonl"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            for doc, text in texts.items():
                f.write(json.dumps({"id": doc, "text": text}) + "\n")
        lines = predict(tmp)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(x) + "\n" for x in lines)
    pred = defaultdict(list)
    for row in lines:
        if row["doc_id"] in texts:
            pred[row["doc_id"]].append({"content": sc.as_pieces(row["content"]), "source": sc.as_pieces(row["source"]),
                                        "cue": row.get("cue"), "kind": row.get("kind")})
    for quoted in (False, True):
        s = sc.score(texts, gold, pred, quoted)
        print(f"[{'quoted' if quoted else 'all'}] gold {s['gold']} pred {s['predicted']}  overlap P/R/F1 "
              + "/".join(f"{x:.3f}" for x in s["content_overlap"])
              + f"  source acc {s['source_accuracy']:.3f}  joint F1 {s['joint'][2]:.3f}")

    from newstrace.attribute.extract import CUE_LEMMAS, _paragraphs, _runs, lemma

    cats: dict[str, list[str]] = defaultdict(list)
    for doc, text in texts.items():
        g = [x for x in gold[doc] if not args.quoted or sc.has_quote(text, x["content"])]
        p = [x for x in pred.get(doc, []) if not args.quoted or sc.has_quote(text, x["content"])]
        gs = [sc.charset(x["content"]) for x in g]
        ps = [sc.charset(x["content"]) for x in p]
        cand = sorted(((len(a & b) / len(a | b), i, j) for i, a in enumerate(gs) for j, b in enumerate(ps) if a & b),
                      reverse=True)
        ug, up, pairs = set(), set(), []
        for jac, i, j in cand:
            if jac >= 0.5 and i not in ug and j not in up:
                ug.add(i)
                up.add(j)
                pairs.append((i, j))

        parsed: set[int] = set()  # characters of the sentences the parser sees
        for par_s, par_e in _paragraphs(text):
            for rs, re_ in _runs(text[par_s:par_e]):
                parsed.update(range(par_s + rs, par_s + re_))

        def show(pieces, text: str = text) -> str:
            a, b = min(x[0] for x in pieces), max(x[1] for x in pieces)
            return text[a:b].replace("\n", " ⏎ ")

        def ctx(pieces, width: int = 60, text: str = text) -> str:
            a, b = min(x[0] for x in pieces), max(x[1] for x in pieces)
            return (text[max(0, a - width):a] + "[[" + text[a:b] + "]]" + text[b:b + width]).replace("\n", " ⏎ ")

        for i, x in enumerate(g):
            if i in ug:
                continue
            q = "Q " if sc.has_quote(text, x["content"]) else ""
            over = [j for j, b in enumerate(ps) if gs[i] & b]
            cue = cues.get(doc, {}).get(tuple(x["content"]), "")
            if over:
                j = over[0]
                kind = "long" if len(ps[j]) > len(gs[i]) else "short"
                cats[f"{q}miss boundary {kind}"].append(f"{doc}\n      gold: {show(x['content'])}\n      pred: {show(p[j]['content'])}")
            else:
                words = cue.lower().split()
                # the cue's main word: a listed cue, else the first word that is no auxiliary, modal,
                # negation, article or adverb ("has made several statements on" -> made)
                main = [w for w in words if w not in _VERB_GROUP and not w.endswith("ly")] or words
                head = next((lemma(w) for w in words if lemma(w) in CUE_LEMMAS), lemma(main[0]) if main else "-")
                known = "known" if head in CUE_LEMMAS else "unlisted"
                if x["content"][0][0] not in parsed:
                    known += "-unparsed"
                cats[f"{q}miss {known} cue:{head}"].append(f"{doc} cue={cue!r}\n      {ctx(x['content'])}")
        for j, y in enumerate(p):
            if j in up:
                continue
            q = "Q " if sc.has_quote(text, y["content"]) else ""
            cue = text[y["cue"][0]:y["cue"][1]] if y.get("cue") else ""
            if any(ps[j] & a for a in gs):
                continue  # counted as a boundary miss above
            cats[f"{q}false {y['kind']} cue:{lemma(cue) if cue else '-'}"].append(f"{doc}\n      {ctx(y['content'])}")
        for i, j in pairs:
            gsrc, psrc = g[i]["source"], p[j]["source"]
            ok = (gsrc is None and psrc is None) or (gsrc and psrc and sc.charset(gsrc) & sc.charset(psrc))
            if not ok:
                q = "Q " if sc.has_quote(text, g[i]["content"]) else ""
                gt = show(gsrc) if gsrc else None
                pt = show(psrc) if psrc else None
                cats[f"{q}source {'none' if not gsrc else 'missing' if not psrc else 'wrong'}"].append(
                    f"{doc} gold={gt!r} pred={pt!r}\n      {ctx(g[i]['content'], 40)}")
    order = sorted(cats.items(), key=lambda kv: -len(kv[1]))
    if args.category:
        order = [(k, v) for k, v in order if k == args.category or k.startswith(args.category)]
    totals = Counter()
    for k, v in cats.items():
        totals[" ".join(k.split()[:2]) if k.startswith("Q ") else k.split()[0]] += len(v)
    print("totals:", dict(totals))
    for k, v in order[:args.top if not args.category else None]:
        print(f"\n== {k}: {len(v)}")
        for e in v[:args.show]:
            print("   ", e)


if __name__ == "__main__":
    main()

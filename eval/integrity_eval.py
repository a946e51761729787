"""Quote integrity: does newstrace flag a discrepancy that was put into a second version of an article?

Each PolNeAR article (read from ../shared, never copied) gets a second version from another outlet
with one known change, made at a place the gold annotation marks:

- ``quote_reworded``: one word inside the quotation marks of a quoted statement replaced by a synonym
  (the way an article spinner rewords: "country" -> "nation");
- ``speaker_changed``: the source of one statement, a full name, replaced by another person the
  article quotes;
- ``name_variant``: a quoted person's surname misspelt (one inner letter dropped) wherever it occurs;
- ``number_changed``: one number in the text changed.

Two settings: the second version is an *edited copy* (only the change), or a *spun rewrite* (the
same synonyms replace words all through the article, so the versions are aligned as a rewrite,
not a copy). One run per kind and setting: every original and its second version go through the
real CLI (``newstrace ingest`` and ``analyse`` into a fresh store, ``report --json``).

Scored per kind: *found* is the share of changes flagged with the right kind and the right words
(both spellings, both speakers, both numbers, the reworded word); *other flags* are the other
discrepancies newstrace reports between the two versions of a case (none is true: the versions differ
only by the change and, when spun, by synonyms outside quotation marks).

usage: integrity_eval.py --shared ../shared [--split dev] [--kinds K,...] [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEWSTRACE = str(ROOT / ".venv" / "bin" / "newstrace")
KINDS = ("quote_reworded", "speaker_changed", "name_variant", "number_changed")

# Synonyms an article spinner uses (each word of a pair is replaced by the other); content words
# common in political news, none of them a name or a number.
_PAIRS = """country nation|people citizens|want wish|think believe|big large|help assist|start begin|need require
show demonstrate|important crucial|problem issue|buy purchase|job work|end finish|try attempt|get obtain|big huge
fight battle|strong powerful|hard difficult|fast quick|whole entire|choose pick|small little|rich wealthy
angry furious|afraid scared|happy glad|idea notion|goal aim|plan scheme|law statute|money cash|vote ballot
support back|attack assault|leader chief|party faction|campaign drive|election vote|government administration
nominee candidate|job post|win triumph|lose forfeit|keep retain|allow permit|stop halt|enough sufficient
clear obvious|wrong incorrect|right correct|great terrific|bad poor|terrible awful|serious grave|simple easy
change alter|tell inform|talk speak|ask request|answer reply|protect defend|destroy ruin|build construct
hope trust|fear dread|truth fact|lie falsehood|chance opportunity|power might|friend ally|enemy foe"""
_PAIRS = re.split(r"[|\n]", _PAIRS)
SYNONYMS: dict[str, str] = {}
for _pair in _PAIRS:
    _a, _b = _pair.split()
    SYNONYMS.setdefault(_a, _b)
    SYNONYMS.setdefault(_b, _a)
_WORD = re.compile(r"[A-Za-z]+")
_TOKENS = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d]+")
# any stretch in quotation marks, or from an opening mark to the end of its paragraph (a quotation that
# runs on into the next paragraph)
_ANY_QUOTED = re.compile(r"“[^”\n]*(?:”|$)|\"[^\"\n]*(?:\"|$)|‘[^’\n]*(?:’(?!\w)|$)|''.*?(?:''|$)", re.M)
QUOTE_MARKS = "\"“”‘’"
_FULL_NAME = re.compile(r"^[A-Z][a-z]+ (?:[A-Z]\. )?[A-Z][a-z]{3,}$")
_NUMBER = re.compile(r"(?<![\d.,])\d{2,}(?![\d,.]\d)")


def _polnear(shared: Path):
    spec = importlib.util.spec_from_file_location("polnear", shared / "eval" / "polnear.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _metadata(shared: Path) -> dict[str, dict[str, str]]:
    path = shared / "data" / "polnear" / "metadata.tsv"
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return {row["filename"]: row for row in (dict(zip(header, ln.split("\t"), strict=False)) for ln in lines[1:])}


def _cased(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word


Edit = tuple[int, int, str]  # replace text[start:end] by this


def apply(text: str, edits: list[Edit]) -> str:
    """``text`` with non-overlapping ``edits`` made."""
    out, at = [], 0
    for s, e, new in sorted(edits):
        out += [text[at:s], new]
        at = e
    return "".join(out) + text[at:]


def spin_edits(text: str, keep: list[tuple[int, int]]) -> list[Edit]:
    """The edits of a spun rewrite: every lower-case word of the synonym table replaced, except inside
    quotation marks and the ``keep`` spans (a spun rewrite that kept its quotations: a change there
    would be a true rewording). Capitalised words are left alone, as names ("Washington Post")."""
    keep = keep + [m.span() for m in _ANY_QUOTED.finditer(text)]
    out = []
    for m in _WORD.finditer(text):
        w = m.group(0)
        alt = SYNONYMS.get(w)
        if alt and not any(a <= m.start() < b for a, b in keep):
            out.append((m.start(), m.end(), alt))
    return out


@dataclass
class Case:
    """One article and the edits that make its second version; ``old``/``new`` name the change."""

    doc: str
    kind: str
    text: str
    edits: list[Edit]
    old: str
    new: str

    def second(self, spun: bool = False, keep: list[tuple[int, int]] = ()) -> str:
        """The second version: the edits, and when ``spun`` synonyms outside quotations and ``keep``."""
        extra = spin_edits(self.text, list(keep) + [(s, e) for s, e, _ in self.edits]) if spun else []
        return apply(self.text, self.edits + extra)


def quotations(text: str) -> list[tuple[int, int]]:
    """The inner spans of the quotations of ``text``: “…” pairs, and straight marks paired in order
    within each paragraph (the first opens, the next closes)."""
    out = [(m.start() + 1, m.end() - 1) for m in re.finditer(r"“[^“”\n]*”", text)]
    for par in re.finditer(r"[^\n]+", text):
        marks = [par.start() + i for i, c in enumerate(par.group(0)) if c == '"']
        out += [(marks[i] + 1, marks[i + 1]) for i in range(0, len(marks) - 1, 2)]
    return sorted(out)


def _reword(doc: str, text: str, attributions: list[dict]) -> Case | None:
    spans = quotations(text)
    for att in attributions:
        a, b = min(s for s, _ in att["content"]), max(e for _, e in att["content"])
        for qs, qe in spans:
            if not (a <= qs and qe <= b) or len(text[qs:qe].split()) < 6:
                continue
            for w in _WORD.finditer(text, qs, qe):
                alt = SYNONYMS.get(w.group(0).lower())
                if alt:
                    new = _cased(alt, w.group(0))
                    return Case(doc, "quote_reworded", text, [(w.start(), w.end(), new)], w.group(0), new)
    return None


def _people(text: str) -> set[tuple[int, int]]:
    """Character spans of the people spaCy's recogniser finds in ``text``."""
    return {(e.start_char, e.end_char) for e in _entity_model()(text).ents if e.label_ == "PERSON"}


@lru_cache(maxsize=1)
def _entity_model():
    import spacy

    from newstrace.attribute.extract import MODEL

    return spacy.load(MODEL, exclude=["parser", "lemmatizer"])


def _sources(text: str, attributions: list[dict]) -> list[tuple[int, int, str]]:
    """(start, end, name) of the gold sources that are a person's full name (first name and surname,
    as spaCy's recogniser finds them), each name once."""
    out, seen, people = [], set(), None
    for att in attributions:
        if not att["source"] or len(att["source"]) != 1:
            continue
        s, e = att["source"][0]
        name = text[s:e].strip()
        s += text[s:e].index(name)
        if not _FULL_NAME.match(name) or name in seen:
            continue
        people = _people(text) if people is None else people
        if (s, s + len(name)) in people:
            seen.add(name)
            out.append((s, s + len(name), name))
    return out


def _move(doc: str, text: str, attributions: list[dict]) -> Case | None:
    names = _sources(text, attributions)
    if len({n.split()[-1] for _, _, n in names}) < 2:
        return None
    s, e, name = names[0]
    other = next(n for _, _, n in names if n.split()[-1] != name.split()[-1])
    return Case(doc, "speaker_changed", text, [(s, e, other)], name, other)


def _misspell(doc: str, text: str, attributions: list[dict]) -> Case | None:
    for _, _, name in _sources(text, attributions):
        first, sur = name.split()[0], name.split()[-1]
        if len(sur) < 6:
            continue
        k = len(sur) // 2
        wrong = sur[:k] + sur[k + 1:]
        if wrong[k - 1] == sur[k]:  # dropping one of a double letter is too slight to call a misspelling
            wrong = sur[:k - 1] + sur[k:]
        edits = [(m.start(), m.end(), wrong) for m in re.finditer(rf"\b{re.escape(sur)}\b", text)]
        return Case(doc, "name_variant", text, edits, f"{first} {sur}", f"{first} {wrong}")
    return None


def _renumber(doc: str, text: str, attributions: list[dict], rng: random.Random) -> Case | None:
    body = text.find("\n")  # not the headline
    # a figure of the prose: not a year, a time of day, or digits of a link or an id
    found = [m for m in _NUMBER.finditer(text, max(body, 0)) if not 1900 <= int(m.group(0)) <= 2030
             and len(m.group(0)) <= 7 and not re.search(r"[/:#=_]", text[max(0, m.start() - 1):m.end() + 1])
             and not re.search(r"\S*(?:https?|www|\.com)\S*$", text[max(0, m.start() - 60):m.start()])]
    if not found:
        return None
    m = rng.choice(found)
    new = str(int(m.group(0)) + rng.choice((1, 2, 3, 10)))
    return Case(doc, "number_changed", text, [(m.start(), m.end(), new)], m.group(0), new)


def make_cases(texts: dict[str, str], gold: dict[str, list[dict]], kind: str, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    out = []
    for doc in sorted(texts):
        atts = sorted(gold.get(doc, []), key=lambda a: a["content"][0][0])
        quoted = [a for a in atts if any(c in "“\"" for s, e in a["content"] for c in texts[doc][s:e])]
        if kind == "quote_reworded":
            case = _reword(doc, texts[doc], quoted)
        elif kind == "speaker_changed":
            case = _move(doc, texts[doc], quoted + [a for a in atts if a not in quoted])
        elif kind == "name_variant":
            case = _misspell(doc, texts[doc], quoted + [a for a in atts if a not in quoted])
        else:
            case = _renumber(doc, texts[doc], atts, rng)
        if case:
            out.append(case)
    return out


def _found(kind: str, d: dict, case: Case) -> bool:
    both = f"{d['a_text']} || {d['b_text']} || {d['note']}"
    if d["kind"] != kind:
        return False
    if kind == "speaker_changed":
        return case.old.split()[-1] in d["note"] and case.new.split()[-1] in d["note"]
    if kind == "number_changed":
        return case.old in both and case.new in both
    if kind == "name_variant":  # the two spellings of the surname, with the first name or without
        return {w.split()[-1] for w in (d["a_text"], d["b_text"]) if w.split()} == \
            {case.old.split()[-1], case.new.split()[-1]}
    return re.search(rf"\b{re.escape(case.old)}\b", both) is not None and \
        re.search(rf"\b{re.escape(case.new)}\b", both) is not None


def _explained(d: dict, case: Case) -> bool:
    """Whether a flag other than the one sought is still true of the change: the misspelt surname in
    another name ("Rights Coucil" beside "Security Coucil"), a changed number or word inside quotation
    marks (a rewording too)."""
    if _found(case.kind, d, case):
        return True
    a, b = d["a_text"], d["b_text"]
    if case.kind == "name_variant" and d["kind"] == "name_variant":
        old, new = case.old.split()[-1], case.new.split()[-1]
        return a.replace(old, new) == b or b.replace(old, new) == a
    if case.kind in ("number_changed", "quote_reworded") and d["kind"] == "quote_reworded":
        return {case.old, case.new} <= set(_TOKENS.findall(a) + _TOKENS.findall(b))
    return False


def run_cases(cases: list[Case], meta: dict[str, dict[str, str]], gold: dict[str, list[dict]], spun: bool,
              workdir: Path) -> list[dict]:
    """Ingest each original and its second version, analyse, and return per case what was flagged."""
    rows = []
    for c in cases:
        m = meta.get(c.doc, {})
        date, title = m.get("publication_date"), m.get("title") or None
        quoted = [(min(a for a, _ in g["content"]), max(b for _, b in g["content"])) for g in gold.get(c.doc, [])
                  if any(ch in QUOTE_MARKS for a, b in g["content"] for ch in c.text[a:b])]
        changed = c.second(spun, quoted)
        rows.append({"id": f"{c.doc}", "title": title, "text": c.text, "date": date,
                     "source": m.get("publisher") or "original.example"})
        rows.append({"id": f"{c.doc}~v2", "title": apply(title, spin_edits(title, [])) if (spun and title) else title, "text": changed,
                     "date": date, "source": "second.example"})
    src = workdir / "cases.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    db = str(workdir / "cases.db")
    for cmd in (["ingest", str(src)], ["analyse"]):
        done = subprocess.run([NEWSTRACE, "--db", db, "--quiet", *cmd], capture_output=True, text=True)
        if done.returncode not in (0, 1):
            sys.exit(f"newstrace {' '.join(cmd)} failed: {done.stderr[-2000:]}")
    report = json.loads(subprocess.run([NEWSTRACE, "--db", db, "report", "--json"], capture_output=True,
                                       text=True, check=True).stdout)
    ext = {a["id"]: a["ext_id"] for s in report["stories"] for a in s["articles"]}
    story = {a["ext_id"]: s["id"] for s in report["stories"] for a in s["articles"]}
    flags: dict[str, list[dict]] = {}
    for s in report["stories"]:
        for d in s["discrepancies"]:
            pair = {ext.get(d["a"], ""), ext.get(d["b"], "")}
            doc = min(pair).removesuffix("~v2")
            if pair == {doc, doc + "~v2"}:
                flags.setdefault(doc, []).append(d)
    out = []
    for c in cases:
        got = flags.get(c.doc, [])
        hit = any(_found(c.kind, d, c) for d in got)
        out.append({"doc": c.doc, "kind": c.kind, "old": c.old, "new": c.new, "found": hit, "flags": got,
                    "together": story.get(c.doc) == story.get(c.doc + "~v2"),
                    "other": [d for d in got if not _explained(d, c)]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--split", default="dev", help="PolNeAR split(s), comma-separated")
    ap.add_argument("--limit", type=int, default=0, help="at most this many cases per kind (0: all)")
    ap.add_argument("--json", help="write the per-case results here")
    ap.add_argument("--kinds", default=",".join(KINDS), help="the kinds of change to put in, comma-separated")
    args = ap.parse_args()
    shared = Path(args.shared).resolve()
    polnear = _polnear(shared)
    texts: dict[str, str] = {}
    gold: dict[str, list[dict]] = {}
    for split in args.split.split(","):
        t, g = polnear.gold_for(str(shared / "data" / "polnear" / split))
        texts.update(t)
        gold.update(g)
    meta = _metadata(shared)
    results = []
    for spun in (False, True):
        for kind in args.kinds.split(","):
            cases = make_cases(texts, gold, kind)[:args.limit or None]
            with tempfile.TemporaryDirectory() as tmp:
                res = run_cases(cases, meta, gold, spun, Path(tmp))
            for r in res:
                r["setting"] = "spun rewrite" if spun else "edited copy"
            results += res
            n = len(res)
            found = sum(r["found"] for r in res)
            other = Counter(d["kind"] for r in res for d in r["other"])
            print(json.dumps({"setting": "spun rewrite" if spun else "edited copy", "kind": kind, "cases": n,
                              "found": found, "recall": round(found / n, 3) if n else None,
                              "same_story": sum(r["together"] for r in res),
                              "other_flags": dict(other)}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

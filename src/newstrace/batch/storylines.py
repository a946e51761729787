"""Storylines over every story, as partitioned stages: no task holds every story's centroid.

:func:`newstrace.cluster.link_storylines` links two stories when they share at least
``STORYLINE_SHARED_NAMES`` of their key names (a name held by more than ``MAX_NAME_STORIES`` stories
links nothing) and their centroids' cosine is at least ``STORYLINE_SIMILARITY``; a storyline is a
connected component of those links, named after its earliest story. Neither test depends on the
others' outcome, so the components of the links are the storylines, however they are found. The
batch stages find them so:

1. **storyline_names** (per window, the map side of a shuffle): each story's key names, hashed, with
   the story's global number (the windows' stories numbered one after another), cut by name bucket.
2. **storyline_pairs** (per name bucket): each name's holders, when there are at most
   ``MAX_NAME_STORIES``, as a posting list sent once to each window that holds one of them (but the
   last): every pair of holders shares that name, and a pair is counted in its earlier story's window.
3. **storyline_links** (per window): the pairs of the lists it got whose earlier story is its own,
   counted over all names; those sharing enough names get the cosine of their two centroids, read from
   the summaries of the windows holding them (a window reads only the windows its pairs reach). Out:
   the links.
4. **storyline_components** (once, on integers): the connected components of all links
   (:func:`scipy.sparse.csgraph.connected_components`), each named after its earliest story by
   (first publication, id). 8 bytes a story plus the links, and the (first, id) columns as Arrow
   strings to choose the names: not the centroids, not the key names.
5. **storylines** (per window): the window's summaries with their storyline, written to ``stories/``.

The single-task form (:func:`.stories.storylines_arrow`, over every centroid at once) stays as the
reference that :func:`.stories.cluster_by_windows` and the tests compare with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ..cluster import MAX_NAME_STORIES, STORYLINE_SHARED_NAMES, STORYLINE_SIMILARITY
from . import sliced
from .stories import SUMMARY_EXTRA, centroid_matrix, remove_stale_stories, window_name

#: key names of a story that count (link_storylines reads the first six)
STORY_NAMES = 6


def name_hashes(names: Sequence[str]) -> np.ndarray:
    """64-bit hashes of names (blake2b: the same in every process, whatever its hash secret)."""
    return np.array([int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "little", signed=True)
                     for n in names], np.int64)


def _bucket_of(h: np.ndarray, buckets: int) -> np.ndarray:
    return (h.view(np.uint64) % np.uint64(buckets)).astype(np.int64)


def _window_of(gids: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """The index of the window each story number falls in (offsets: each window's first number, then the total)."""
    return np.searchsorted(np.asarray(offsets, np.int64), gids, side="right") - 1


def _groups(paths: Sequence, i: int, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Slice ``i`` of the arrays ``key`` and "story" of each sliced file, as story numbers sorted by
    (key, story), with each key's group (starts, sizes); and the bytes read."""
    keys, stories = [], []
    read = 0
    for path in paths:
        z = sliced.Reader(path)
        keys.append(z.read(key, i))
        stories.append(z.read("story", i))
        read += z.bytes_read
    k = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    g = np.concatenate(stories) if stories else np.zeros(0, np.int64)
    order = np.lexsort((g, k))
    k, g = k[order], g[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.zeros(0, np.int64)
    return g, starts, np.diff(np.r_[starts, len(k)]), read


def names_job(job: dict) -> tuple[list, dict]:
    """Stage ``storyline_names``: (name hash, story number) of one window's stories, by name bucket."""
    import pyarrow.parquet as pq

    from .stages import part_path

    out, w, offset, buckets = job["out"], int(job["window"]), int(job["offset"]), int(job["buckets"])
    t = pq.read_table(part_path(out, "story_summaries", window_name(w)), columns=["key_names"])
    names, gids = [], []
    for k, kn in enumerate(t.column("key_names").to_pylist()):
        for n in set((kn or [])[:STORY_NAMES]):
            names.append(n)
            gids.append(offset + k)
    h = name_hashes(names)
    g = np.array(gids, np.int64)
    b = _bucket_of(h, buckets)
    order = np.argsort(b, kind="stable")
    bounds = np.searchsorted(b[order], np.arange(buckets + 1))
    dest = part_path(out, "storyline_names", window_name(w), "bin")
    n = sliced.save(dest, {"name": (h[order], bounds), "story": (g[order], bounds)})
    return [dest], {"rows": int(len(h)), "bytes": n}


def pairs_job(job: dict) -> tuple[list, dict]:
    """Stage ``storyline_pairs``: for one name bucket, the holders of each name that may link (at most
    ``MAX_NAME_STORIES`` of them), as a posting list sent once to each window holding one of its holders
    but the last (a pair is counted in the window of its earlier story). Lists, not pairs: a name held
    by m stories would make m(m-1)/2 pair rows (148 a story on the 20,000-article stream)."""
    from .stages import part_path

    out, b, windows, offsets = job["out"], int(job["part"]), job["windows"], job["offsets"]
    paths = [part_path(out, "storyline_names", window_name(int(w)), "bin") for w in windows]
    g, starts, sizes, read = _groups(paths, b, "name")
    ok = (sizes >= 2) & (sizes <= MAX_NAME_STORIES)  # a name in too many stories links nothing
    starts, sizes = starts[ok], sizes[ok]
    # (list, destination window) for every window holding a member that has a later member
    member_list = np.repeat(np.arange(len(starts)), sizes)
    rows = np.concatenate([np.arange(s, s + n) for s, n in zip(starts.tolist(), sizes.tolist(), strict=True)]) \
        if len(starts) else np.zeros(0, np.int64)
    last = np.zeros(len(rows), bool)
    if len(rows):
        last[np.cumsum(sizes) - 1] = True
    dest = np.unique((member_list[~last] << 20) | _window_of(g[rows[~last]], offsets)) if len(rows) else \
        np.zeros(0, np.int64)
    d_list, d_window = dest >> 20, dest & ((1 << 20) - 1)
    # the rows sent: each destination gets its list's members, tagged with the list's number
    reps = sizes[d_list]
    sent_rows = np.concatenate([np.arange(starts[k], starts[k] + sizes[k]) for k in d_list.tolist()]) \
        if len(d_list) else np.zeros(0, np.int64)
    sent_window = np.repeat(d_window, reps)
    sent_list = np.repeat(d_list + (b << 32), reps)  # unique across buckets
    by = np.argsort(sent_window, kind="stable")
    bounds = np.searchsorted(sent_window[by], np.arange(len(windows) + 1))
    path = part_path(out, "storyline_pairs", job["part"], "bin")
    n = sliced.save(path, {"list": (sent_list[by], bounds), "story": (g[sent_rows][by], bounds)})
    pairs = int((sizes * (sizes - 1) // 2).sum())
    return [path], {"lists": int(len(starts)), "sent": int(len(sent_rows)), "pairs": pairs, "bytes": n,
                    "read_bytes": read}


def _centroids(out, windows: Sequence[int], offsets: Sequence[int], gids: np.ndarray):
    """The centroids of the stories ``gids`` (sorted, distinct) as a CSR matrix in that order, read from
    the summaries of the windows holding them; and the bytes read."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from scipy import sparse

    from .stages import part_path

    terms, weights = [], []
    read = 0
    win = _window_of(gids, offsets)
    for k in np.unique(win).tolist():
        path = part_path(out, "story_summaries", window_name(int(windows[k])))
        t = pq.read_table(path, columns=list(SUMMARY_EXTRA))
        read += t.nbytes
        rows = pa.array(gids[win == k] - int(offsets[k]))
        terms.append(t.column("c_terms").take(rows))
        weights.append(t.column("c_weights").take(rows))
    if not terms:
        return sparse.csr_matrix((0, 1)), read
    return centroid_matrix(pa.chunked_array([c for x in terms for c in x.chunks]),
                           pa.chunked_array([c for x in weights for c in x.chunks])), read


def links_job(job: dict) -> tuple[list, dict]:
    """Stage ``storyline_links``: a window's pairs sharing enough names and close enough in vocabulary."""
    from .stages import _save_npz, part_path

    out, i, windows, offsets = job["out"], int(job["index"]), job["windows"], job["offsets"]
    from .stages import _pairs_within_groups

    paths = [part_path(out, "storyline_pairs", f"{b:05d}", "bin") for b in range(int(job["buckets"]))]
    g, starts, sizes, read = _groups(paths, i, "list")
    a, b2 = _pairs_within_groups(starts, sizes)
    lo, hi = g[a], g[b2]
    mine = (lo >= int(offsets[i])) & (lo < int(offsets[i + 1]))  # each pair in its earlier story's window
    total = max(int(offsets[-1]), 1)
    pair, shared = np.unique(lo[mine] * total + hi[mine], return_counts=True)
    pair = pair[shared >= STORYLINE_SHARED_NAMES]
    lo, hi = pair // total, pair % total
    keep = np.zeros(0, bool)
    if len(pair):
        gids = np.unique(np.r_[lo, hi])
        m, n = _centroids(out, [int(w) for w in windows], offsets, gids)
        read += n
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        a, b = np.searchsorted(gids, lo), np.searchsorted(gids, hi)
        dots = np.asarray(m[a].multiply(m[b]).sum(axis=1)).ravel()
        keep = dots / (norms[a] * norms[b]) >= STORYLINE_SIMILARITY
    dest = part_path(out, "storyline_links", window_name(int(windows[i])), "npz")
    _save_npz(dest, lo=lo[keep] if len(keep) else lo, hi=hi[keep] if len(keep) else hi)
    return [dest], {"pairs": int(len(pair)), "links": int(keep.sum()), "read_bytes": read}


def components_job(job: dict) -> tuple[list, dict]:
    """Stage ``storyline_components``: the storyline of every story, from the links of every window."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    from .stages import part_path, write_parquet

    out, windows, offsets = job["out"], [int(w) for w in job["windows"]], job["offsets"]
    total = int(offsets[-1])
    los, his = [], []
    for w in windows:
        with np.load(part_path(out, "storyline_links", window_name(w), "npz")) as z:
            los.append(z["lo"])
            his.append(z["hi"])
    lo = np.concatenate(los) if los else np.zeros(0, np.int64)
    hi = np.concatenate(his) if his else np.zeros(0, np.int64)
    graph = sparse.csr_matrix((np.ones(len(lo), np.int8), (lo, hi)), shape=(total, total))
    n_comp, comp = connected_components(graph, directed=False)
    size = np.bincount(comp, minlength=n_comp)
    # the earliest story of each component by (first publication or "", id): link_storylines' choice
    t = pa.concat_tables([pq.read_table(part_path(out, "story_summaries", window_name(w)), columns=["first", "id"])
                          for w in windows]) if windows else pa.table({"first": [], "id": []})
    t = pa.table({"first": pc.fill_null(t.column("first"), ""), "id": t.column("id")})
    order = pc.sort_indices(t, sort_keys=[("first", "ascending"), ("id", "ascending")]).to_numpy()
    place = np.empty(total, np.int64)
    place[order] = np.arange(total)
    head_place = np.full(n_comp, total, np.int64)
    np.minimum.at(head_place, comp, place)
    head = order[np.minimum(head_place, max(total - 1, 0))] if total else np.zeros(0, np.int64)
    ids = t.column("id")
    outputs = []
    for k, w in enumerate(windows):
        g = np.arange(int(offsets[k]), int(offsets[k + 1]))
        linked = size[comp[g]] >= 2
        heads = ids.take(pa.array(head[comp[g]])).to_pylist() if len(g) else []
        line = ["l" + h[1:] if on else None for h, on in zip(heads, linked.tolist(), strict=True)]
        dest = part_path(out, "storyline_labels", window_name(w))
        write_parquet(pa.table({"storyline": pa.array(line, pa.string())}), dest)
        outputs.append(dest)
    remove_stale_stories(out, {f"part-{window_name(w)}.parquet" for w in windows})
    return outputs, {"stories": total, "links": int(len(lo)), "storylines": int((size >= 2).sum())}


def write_job(job: dict) -> tuple[list, dict]:
    """Stage ``storylines``: one window's stories with their storylines, written to ``stories/``."""
    import pyarrow.parquet as pq

    from .stages import part_path, write_parquet

    out, name = job["out"], window_name(int(job["window"]))
    t = pq.read_table(part_path(out, "story_summaries", name)).drop_columns(list(SUMMARY_EXTRA))
    line = pq.read_table(part_path(out, "storyline_labels", name)).column("storyline")
    t = t.set_column(t.column_names.index("storyline"), "storyline", line)
    dest = part_path(out, "stories", name)
    write_parquet(t, dest)
    return [dest], {"stories": t.num_rows}

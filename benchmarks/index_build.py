"""Approximate index structures: build time against recall@10 and queries/s.

Builds faiss indexes over the same rows :class:`item2vec.index.ApproximateIndex`
builds them from (unit vectors for the "cosine" kind; output vectors lifted to
one sphere for the "inner" kind) and sweeps each structure's search width:

- ``hnsw``: ``IndexHNSWFlat``, every ``m`` x ``ef_construction`` of the grid,
  ``efSearch`` swept;
- ``hnsw-sq``: ``IndexHNSWSQ`` (8-bit codes; faster distances while building,
  approximate scores);
- ``ivf``: ``IndexIVFFlat`` as ``ApproximateIndex`` builds it: spherical
  k-means on the directions of a sample (64 rows per list), each item in the
  list of its direction's nearest centre, stored as it is; ``nprobe`` swept;
- ``ivf-lift``: the same structure over the rows an HNSW graph holds (output
  vectors lifted to one sphere), faiss assigning them itself
  (``--sample-per-list`` rows per list for k-means);
- ``ivf-sq8``: ``ivf-lift`` with 8-bit codes;
- ``default``: ``ApproximateIndex(vectors, kind)`` with the module's defaults,
  searched through its own ``search`` (filters, widening, exact scores).

Recall@10 is measured against the exact top-10 (a flat faiss scan) for three
kinds of query: an item's neighbours by cosine (itself left out), and by inner
product with the output vectors, the mean of five items of one neighbourhood
("sessions", as a user's recent history is) or of five random items
("scattered"). Queries/s is for a batch of ``--queries`` on every thread, and
for one query at a time. For each structure the report also gives the
smallest search width reaching ``--target`` recall on every kind of query.

``--data clustered`` is a Gaussian mixture of n/100 topics (benchmarks/queries.py);
``--data PATH`` trains Item2Vec on a MovieLens folder and indexes its vectors.
``--refresh N`` measures :meth:`ApproximateIndex.refreshed` on the default
structure: recall after N rounds of moving the vectors and adding items.

Examples::

    python benchmarks/index_build.py --items 1e5 --structures hnsw ivf
    python benchmarks/index_build.py --items 1e6 --structures default --refresh 5
    python benchmarks/index_build.py --data ../shared/data/ml-100k --structures hnsw ivf default
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from _report import finish, peak_rss_mb, write_report
from queries import clustered_vectors

from item2vec.index import ApproximateIndex

WIDTHS = {
    "hnsw": [16, 32, 64, 128, 256, 512],
    "hnsw-sq": [32, 64, 128, 256, 512],
    "ivf": [1, 2, 4, 8, 16, 32, 64, 128, 256],
    "ivf-sq8": [4, 8, 16, 32, 64, 128],
    "ivf-lift": [1, 2, 4, 8, 16, 32, 64, 128, 256],
}
# the recall target applies to item neighbours and session-like histories; scattered
# histories (five unrelated items) are reported beside them
TARGET_QUERIES = ("cosine", "sessions")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=float, default=1e5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--data", default="clustered", help="'clustered' or a MovieLens folder")
    parser.add_argument(
        "--noise",
        type=float,
        default=0.7,
        help="clustered data: spread of the items around their topic",
    )
    parser.add_argument(
        "--norm-spread",
        type=float,
        default=0.16,
        help="clustered data: standard deviation of the log of the output vectors' norms "
        "(0.16 in a model trained on MovieLens-100K; 0 makes them the item vectors)",
    )
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--single", type=int, default=200, help="single queries timed")
    structures = ["hnsw", "hnsw-sq", "ivf", "ivf-lift", "ivf-sq8", "default"]
    parser.add_argument("--structures", nargs="+", default=["hnsw", "ivf"], choices=structures)
    parser.add_argument("--m", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--ef-construction", type=int, nargs="+", default=[40, 80, 200])
    parser.add_argument("--nlist", type=int, nargs="*", default=[],
                        help="IVF lists (default: the powers of 2 around 2*sqrt(n))")  # fmt: skip
    parser.add_argument("--sample-per-list", type=int, default=64)
    parser.add_argument("--kinds", nargs="+", default=["cosine", "inner"])
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--refresh", type=int, default=0, help="rounds of refreshed()")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"load average before: {os.getloadavg()}")
    vectors, output = _data(args)
    n, dim = vectors.shape
    if args.json is None:
        tag = Path(args.data).name
        if args.data == "clustered":
            tag = f"clustered{args.noise:g}_spread{args.norm_spread:g}"
        args.json = Path(f"benchmarks/results/index_build_{tag}_{n}.json")
    rng = np.random.default_rng(1)
    queries = _queries(vectors, output, args.queries, rng)
    print(f"{n:,} x {dim} ({args.data}); exact answers for {args.queries:,} queries ready")
    results = []
    for structure in args.structures:
        for params in _grid(structure, args, n):
            row = _measure(structure, params, vectors, output, queries, args)
            results.append(row)
            write_report(args.json, {"partial": True, "results": results})  # a long run
    if args.refresh:
        results.append(_refresh_rounds(vectors, output, args, rng))
    report = finish(args, load, results)
    report["peak_rss_mb"] = peak_rss_mb()
    return report


def _data(args: Any) -> tuple[np.ndarray, np.ndarray]:
    if args.data == "clustered":
        vectors = clustered_vectors(int(args.items), args.dim, noise=args.noise)
        # the output vectors of a trained model have norms of their own: scale each row
        # so the inner-product reduction has different norms to lift
        scale = np.random.default_rng(2).lognormal(0.0, args.norm_spread, (vectors.shape[0], 1))
        return vectors, (vectors * scale.astype(np.float32))
    from item2vec import Item2Vec, Sequences
    from item2vec.datasets import load_movielens

    events = load_movielens(args.data).events
    keep = events["rating"] >= 4
    corpus = Sequences.from_events({k: v[keep] for k, v in events.items()}, user="user",
                                   item="item", time="timestamp")  # fmt: skip
    model = Item2Vec(vector_size=args.dim, min_count=1, random_state=0).fit(corpus)
    return model.vectors_, model.item_vectors_.output_vectors


def _queries(vectors: np.ndarray, output: np.ndarray, count: int, rng: Any) -> dict:
    """The query rows of each kind with their exact top-10 (a flat scan)."""
    n = vectors.shape[0]
    count = min(count, n)
    normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    items = rng.choice(n, size=count, replace=False)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(normed)
    _, near = flat.search(normed[items], 21)
    exact_cos = np.array([[c for c in row if c != item][:10] for row, item in
                          zip(near.tolist(), items.tolist(), strict=True)])  # fmt: skip
    sessions = np.stack([vectors[rng.choice(row[1:], 5, replace=False)].mean(0) for row in near])
    scattered = np.stack([vectors[rng.choice(n, 5)].mean(0) for _ in range(count)])
    flat_out = faiss.IndexFlatIP(output.shape[1])
    flat_out.add(output)
    return {
        "cosine": (normed[items], exact_cos, items),
        "sessions": (sessions, flat_out.search(sessions, 10)[1], None),
        "scattered": (scattered, flat_out.search(scattered, 10)[1], None),
    }


def _grid(structure: str, args: Any, n: int) -> list[dict]:
    if structure in ("hnsw", "hnsw-sq"):
        return [{"m": m, "ef_construction": e} for m in args.m for e in args.ef_construction]
    if structure.startswith("ivf"):
        guess = 2 * np.sqrt(n)
        lists = args.nlist or sorted({int(2 ** np.floor(np.log2(guess))),
                                      int(2 ** np.ceil(np.log2(guess)))})  # fmt: skip
        return [{"nlist": nl} for nl in lists if nl * 8 <= n]
    return [{}]


def _rows(kind: str, matrix: np.ndarray) -> np.ndarray:
    """The rows an HNSW ApproximateIndex indexes (unit vectors, or lifted to one sphere)."""
    probe = ApproximateIndex.__new__(ApproximateIndex)
    probe.kind, probe.n_items, probe.structure = kind, 0, "hnsw"
    return probe._item_rows(np.asarray(matrix, dtype=np.float32))


def _build(structure: str, params: dict, rows: np.ndarray, sample_per_list: int) -> Any:
    d = rows.shape[1]
    ip = faiss.METRIC_INNER_PRODUCT
    if structure == "hnsw":
        index = faiss.IndexHNSWFlat(d, params["m"], ip)
    elif structure == "hnsw-sq":
        index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, params["m"], ip)
    elif structure in ("ivf-lift", "ivf-sq8"):
        quantizer = faiss.IndexFlatIP(d)
        if structure == "ivf-lift":
            index = faiss.IndexIVFFlat(quantizer, d, params["nlist"], ip)
        else:
            index = faiss.IndexIVFScalarQuantizer(quantizer, d, params["nlist"],
                                                  faiss.ScalarQuantizer.QT_8bit, ip)  # fmt: skip
        index.own_fields = True
        quantizer.this.disown()
    if structure.startswith("hnsw"):
        index.hnsw.efConstruction = params["ef_construction"]
    if not index.is_trained:
        sample = rows
        if structure.startswith("ivf") and rows.shape[0] > sample_per_list * params["nlist"]:
            pick = np.random.default_rng(0).choice(
                rows.shape[0], sample_per_list * params["nlist"], replace=False
            )
            sample = rows[np.sort(pick)]
        index.train(sample)
    index.add(rows)
    return index


def _search_params(structure: str, width: int) -> Any:
    if structure.startswith("hnsw"):
        return faiss.SearchParametersHNSW(efSearch=width)
    return faiss.SearchParametersIVF(nprobe=width)


def _lifted_queries(kind: str, queries: np.ndarray, structure: str) -> np.ndarray:
    if kind == "cosine" or structure == "ivf":
        return np.ascontiguousarray(queries, dtype=np.float32)
    zeros = np.zeros((queries.shape[0], 1), np.float32)
    return np.ascontiguousarray(np.hstack([queries, zeros]), dtype=np.float32)


def _recall(exact: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in
                          zip(exact.tolist(), found.tolist(), strict=True)]))  # fmt: skip


def _query_kinds(kind: str) -> list[str]:
    return ["cosine"] if kind == "cosine" else ["sessions", "scattered"]


def _measure(structure: str, params: dict, vectors: np.ndarray, output: np.ndarray,
             queries: dict, args: Any) -> dict:  # fmt: skip
    row: dict[str, Any] = {"structure": structure, **params, "load_before": os.getloadavg()[0]}
    for kind in args.kinds:
        matrix = vectors if kind == "cosine" else output
        if structure == "default":
            started = time.perf_counter()
            index = ApproximateIndex(matrix, kind)
            row[f"build_s_{kind}"] = time.perf_counter() - started
            row["describe"] = index.describe()
            row[f"sweep_{kind}"] = _sweep_default(index, kind, queries, args)
            continue
        started = time.perf_counter()
        if structure == "ivf":  # as ApproximateIndex builds it: lists by direction
            index = ApproximateIndex(matrix, kind, nlist=params["nlist"]).index
        else:
            index = _build(structure, params, _rows(kind, matrix), args.sample_per_list)
        row[f"build_s_{kind}"] = time.perf_counter() - started
        sweep = []
        for width in WIDTHS[structure]:
            if structure.startswith("ivf") and width > params["nlist"]:
                break
            point: dict[str, Any] = {"width": width}
            search = _search_params(structure, width)
            for name in _query_kinds(kind):
                q, exact, items = queries[name]
                q = _lifted_queries(kind, q, structure)
                k = 11 if items is not None else 10
                started = time.perf_counter()
                _, found = index.search(q, k, params=search)
                point[f"qps_batch_{name}"] = len(q) / (time.perf_counter() - started)
                if items is not None:  # an item is not its own neighbour
                    pairs = zip(found.tolist(), items.tolist(), strict=True)
                    found = np.array([[c for c in r if c != i][:10] for r, i in pairs])
                point[f"recall_{name}"] = _recall(exact, found)
            first = queries[_query_kinds(kind)[0]][0][: args.single]
            single = _lifted_queries(kind, first, structure)
            started = time.perf_counter()
            for r in range(single.shape[0]):
                index.search(single[r : r + 1], 10, params=search)
            point["qps_single"] = single.shape[0] / (time.perf_counter() - started)
            sweep.append(point)
            if all(point[f"recall_{q}"] >= 0.999 for q in _query_kinds(kind)):
                break
        row[f"sweep_{kind}"] = sweep
        del index
    row["build_s_total"] = sum(row[f"build_s_{kind}"] for kind in args.kinds)
    _summarise(row, args)
    return row


def _sweep_default(index: ApproximateIndex, kind: str, queries: dict, args: Any) -> list:
    """Recall and speed through ApproximateIndex.search, at its default width and wider."""
    points = []
    for factor in (1, 2, 4):
        point: dict[str, Any] = {"width": factor}
        for name in _query_kinds(kind):
            q, exact, items = queries[name]
            exclude = None
            if items is not None:  # the item itself excluded, as most_similar does
                import scipy.sparse as sp

                count = len(items)
                exclude = sp.csr_array((np.ones(count), items, np.arange(count + 1)),
                                       shape=(count, index.n_items))  # fmt: skip
            started = time.perf_counter()
            found, _ = _widened(index, factor).search(q, 10, exclude=exclude)
            point[f"qps_batch_{name}"] = len(q) / (time.perf_counter() - started)
            point[f"recall_{name}"] = _recall(exact, found)
        points.append(point)
    return points


def _widened(index: ApproximateIndex, factor: int) -> ApproximateIndex:
    widened = ApproximateIndex.__new__(ApproximateIndex)
    widened.__dict__.update(index.__dict__)
    for name in ("ef_search", "nprobe"):
        if getattr(widened, name, None):
            setattr(widened, name, getattr(widened, name) * factor)
    return widened


def _summarise(row: dict, args: Any) -> None:
    """The narrowest width reaching the target on item neighbours and sessions, and its
    speed (scattered histories are shown at that width)."""
    parts = []
    for kind in args.kinds:
        names = [q for q in _query_kinds(kind) if q in TARGET_QUERIES]
        reach = [p for p in row[f"sweep_{kind}"]
                 if all(p[f"recall_{q}"] >= args.target for q in names)]  # fmt: skip
        best = reach[0] if reach else None
        row[f"width_for_target_{kind}"] = best and best["width"]
        if best:
            parts.append(f"{kind}: width {best['width']} "
                         + " ".join(f"{q} {best[f'recall_{q}']:.3f}" for q in _query_kinds(kind))
                         + f" batch {best[f'qps_batch_{names[0]}']:,.0f}/s"
                         + (f" single {best['qps_single']:,.0f}/s" if "qps_single" in best
                            else ""))  # fmt: skip
        else:
            last = row[f"sweep_{kind}"][-1]
            parts.append(
                f"{kind}: target not reached (width {last['width']}: "
                + " ".join(f"{q} {last[f'recall_{q}']:.3f}" for q in names)
                + ")"
            )
    params = " ".join(f"{k}={v}" for k, v in row.items()
                      if k in ("m", "ef_construction", "nlist"))  # fmt: skip
    builds = " + ".join(f"{row[f'build_s_{kind}']:.1f}" for kind in args.kinds)
    print(
        f"{row['structure']:8} {params:28} build {builds} s (load {row['load_before']:.2f}); "
        + "; ".join(parts),
        flush=True,
    )


def _refresh_rounds(vectors: np.ndarray, output: np.ndarray, args: Any, rng: Any) -> dict:
    """Recall of refreshed() indexes after rounds of moved vectors and new items, each
    against the exact answer for that round's vectors, beside a full rebuild's time."""
    out: dict[str, Any] = {"structure": "refresh", "rounds": []}
    indexes = {"cosine": ApproximateIndex(vectors, "cosine"),
               "inner": ApproximateIndex(output, "inner")}  # fmt: skip
    n_new = max(1, vectors.shape[0] // 100)
    for round_ in range(1, args.refresh + 1):
        # an update moves the vectors of the items it trains (here: all, by 10 % of
        # their spread) and appends new items near existing ones
        drift = 0.1 * vectors.std() * rng.standard_normal(vectors.shape, dtype=np.float32)
        vectors = vectors + drift
        output = output + drift
        anchors = rng.choice(vectors.shape[0], n_new)
        new = vectors[anchors] + 0.5 * vectors.std() * rng.standard_normal(
            (n_new, vectors.shape[1]), dtype=np.float32)  # fmt: skip
        vectors, output = np.vstack([vectors, new]), np.vstack([output, new])
        point: dict[str, Any] = {"round": round_, "n_items": vectors.shape[0],
                                 "load_before": os.getloadavg()[0]}  # fmt: skip
        queries = _queries(vectors, output, args.queries, rng)
        for kind, matrix in (("cosine", vectors), ("inner", output)):
            started = time.perf_counter()
            indexes[kind] = indexes[kind].refreshed(matrix)
            point[f"refresh_s_{kind}"] = time.perf_counter() - started
            for p in _sweep_default(indexes[kind], kind, queries, args)[:1]:
                point.update({k: v for k, v in p.items() if k.startswith("recall")})
        out["rounds"].append(point)
        print(f"refresh round {round_}: {point['n_items']:,} items, refresh "
              f"{point['refresh_s_cosine']:.1f} + {point['refresh_s_inner']:.1f} s; recall "
              + " ".join(f"{k[7:]} {v:.3f}" for k, v in point.items() if k.startswith("recall")),
              flush=True)  # fmt: skip
    # built afresh on the last round's vectors: what refreshing costs in recall
    started = time.perf_counter()
    fresh = {"cosine": ApproximateIndex(vectors, "cosine"),
             "inner": ApproximateIndex(output, "inner")}  # fmt: skip
    out["full_rebuild_s"] = time.perf_counter() - started
    out["fresh_recall"] = {}
    for kind in ("cosine", "inner"):
        for p in _sweep_default(fresh[kind], kind, queries, args)[:1]:
            out["fresh_recall"].update({k: v for k, v in p.items() if k.startswith("recall")})
    print(
        f"built afresh at the last round: {out['full_rebuild_s']:.1f} s; recall "
        + " ".join(f"{k[7:]} {v:.3f}" for k, v in out["fresh_recall"].items())
    )
    return out


if __name__ == "__main__":
    main()

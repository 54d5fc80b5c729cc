"""Query speed: exact top-10 neighbours for 1,000 items among 1M x 100 vectors.

Times ``similar_items`` (tiled matrix products over the cached normalised
matrix, each tile merged into running top-k lists) and ``recommend_batch`` on a model whose
vectors are random (the speed does not depend on their values).

With ``--ann``: the same queries exact and through the approximate indexes
on clustered vectors (``--structure ivf``, the default of
:class:`item2vec.index.ApproximateIndex`, or ``hnsw`` through
``Item2Vec.build_index``): build time, memory, recall@10 and queries/s,
single and batched, on 1 and 2 threads. benchmarks/index_build.py sweeps
the structures' settings.

Example::

    python benchmarks/queries.py --items 1e6 --dim 100 --queries 1000
    python benchmarks/queries.py --ann --items 1e6 --dim 100
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from _report import write_report

from item2vec import Item2Vec, Vocabulary
from item2vec.vectors import ItemVectors


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=float, default=1e6)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/queries.json"))
    args = parser.parse_args(argv)
    n_items = int(args.items)
    rng = np.random.default_rng(0)
    model = Item2Vec(vector_size=args.dim, similarity="input")  # the input cosine
    model.item_vectors_ = ItemVectors(
        Vocabulary(np.arange(n_items), np.ones(n_items, dtype=np.int64)),
        rng.standard_normal((n_items, args.dim), dtype=np.float32),
        rng.standard_normal((n_items, args.dim), dtype=np.float32),
    )
    started = time.perf_counter()
    _ = model.normed_vectors
    normalise = time.perf_counter() - started
    queries = rng.choice(n_items, size=args.queries, replace=False)
    histories = [rng.choice(n_items, size=5).tolist() for _ in range(args.queries)]
    timings: dict[str, list[float]] = {"similar_items": [], "recommend_batch": []}
    for _ in range(args.repeats):
        started = time.perf_counter()
        ids, _ = model.similar_items(queries, topn=10)
        timings["similar_items"].append(time.perf_counter() - started)
        started = time.perf_counter()
        model.recommend_batch(histories, topn=10)
        timings["recommend_batch"].append(time.perf_counter() - started)
    # exactness check against a brute-force ranking of a few queries
    normed = model.normed_vectors
    for row in range(3):
        sims = normed @ normed[queries[row]]
        sims[queries[row]] = -np.inf
        assert set(np.argsort(-sims)[:10].tolist()) == set(ids[row].tolist())
    report = {
        "items": n_items, "dim": args.dim, "queries": args.queries,
        "normalise_seconds": normalise,
        **{f"{k}_seconds": statistics.median(v) for k, v in timings.items()},
        "runs": timings,
    }  # fmt: skip
    print(f"{n_items:,} x {args.dim} items, {args.queries:,} queries, top-10, median of "
          f"{args.repeats}: similar_items {report['similar_items_seconds']:.2f} s, "
          f"recommend_batch {report['recommend_batch_seconds']:.2f} s "
          f"(normalising once: {normalise:.2f} s)")  # fmt: skip
    write_report(args.json, report)
    return report


def clustered_vectors(n_items: int, dim: int, seed: int = 0, noise: float = 0.7) -> np.ndarray:
    """Vectors with the structure of item embeddings: items gather around many topics
    (a Gaussian mixture of n_items / 100 centres, each item ``noise`` times a standard
    normal away from its centre), unlike uniform random vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, n_items // 100), dim), dtype=np.float32)
    topic = rng.integers(0, centres.shape[0], n_items)
    vectors = np.empty((n_items, dim), dtype=np.float32)
    step = 1 << 18
    for start in range(0, n_items, step):
        stop = min(n_items, start + step)
        step_noise = rng.standard_normal((stop - start, dim), dtype=np.float32)
        vectors[start:stop] = centres[topic[start:stop]] + noise * step_noise
    return vectors


def ann(argv: list[str] | None = None) -> dict:
    """Exact search against an approximate index: build, memory, recall@10, queries/s."""
    from _report import peak_rss_mb
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=ann.__doc__)
    parser.add_argument("--ann", action="store_true")
    parser.add_argument("--items", type=float, default=1e6)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--single", type=int, default=200, help="single queries timed")
    parser.add_argument("--structure", choices=["ivf", "hnsw"], default="ivf")
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, default=128)
    parser.add_argument("--nprobe", type=int, default=None, help="ivf: lists scanned")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/queries_ann.json"))
    args = parser.parse_args(argv)
    n_items = int(args.items)
    rng = np.random.default_rng(1)
    vectors = clustered_vectors(n_items, args.dim)
    model = Item2Vec(vector_size=args.dim, similarity="input")  # the "cosine" index
    model.item_vectors_ = ItemVectors(
        Vocabulary(np.arange(n_items), np.ones(n_items, dtype=np.int64)), vectors, vectors.copy()
    )
    _ = model.normed_vectors
    queries = rng.choice(n_items, size=args.queries, replace=False)
    # histories as sessions are: five items from one neighbourhood (among an item's 20
    # nearest); and, harder for a graph, five items drawn from the whole catalogue
    near, _ = model.similar_items(queries, topn=20, exact=True)
    histories = [rng.choice(row, size=5, replace=False).tolist() for row in near.tolist()]
    scattered = [rng.choice(n_items, size=5).tolist() for _ in range(args.queries)]
    rss_before = _rss_mb()
    started = time.perf_counter()
    state = model.item_vectors_
    if args.structure == "hnsw":
        state.build_index(m=args.m, ef_construction=args.ef_construction,
                          ef_search=args.ef_search)  # fmt: skip
    else:  # the default structure, as ApproximateIndex builds it
        from item2vec.index import ApproximateIndex

        state.indexes = {
            "cosine": ApproximateIndex(state.vectors, "cosine", nprobe=args.nprobe),
            "output": ApproximateIndex(state.output_vectors, "inner", nprobe=args.nprobe),
        }
    build = time.perf_counter() - started
    index_mb = _rss_mb() - rss_before
    output_index = model.item_vectors_.indexes["output"]
    width = "ef_search" if args.structure == "hnsw" else "nprobe"
    base = getattr(output_index, width)
    report: dict = {
        "items": n_items, "dim": args.dim, "index": output_index.describe(),
        "build_seconds_both_indexes": build,
        "index_rss_mb": index_mb, "peak_rss_mb": peak_rss_mb(), "threads": {},
    }  # fmt: skip
    exact_ids, _ = model.similar_items(queries, topn=10, exact=True)
    approx_ids, _ = model.similar_items(queries, topn=10)
    report["recall_similar"] = _recall(exact_ids, approx_ids)
    for name, batch in (("recommend", histories), ("recommend_scattered", scattered)):
        exact_recs, _ = model.recommend_batch(batch, topn=10, exact=True)
        for ef in (base, 2 * base, 4 * base):
            setattr(output_index, width, ef)
            started = time.perf_counter()
            approx_recs, _ = model.recommend_batch(batch, topn=10)
            qps = len(batch) / (time.perf_counter() - started)
            report[f"recall_{name}_{width}{ef}"] = _recall(exact_recs, approx_recs)
            report[f"qps_{name}_{width}{ef}"] = qps
            recall = report[f"recall_{name}_{width}{ef}"]
            print(f"{name} histories, output index {width}={ef}: recall@10 "
                  f"{recall:.4f} at {qps:,.0f}/s (batch, 2 threads)")  # fmt: skip
        setattr(output_index, width, base)
    report["recall_recommend"] = report[f"recall_recommend_{width}{base}"]
    print(f"{n_items:,} x {args.dim} clustered vectors; {output_index.describe()}")
    print(f"build (cosine + output indexes) {build:.1f} s, index memory {index_mb:,.0f} MB; "
          f"recall@10 similar_items {report['recall_similar']:.4f}")  # fmt: skip
    for threads in (1, 2):
        with threadpool_limits(threads):
            row = {}
            for exact in (True, False):
                name = "exact" if exact else "index"
                single = queries[: args.single]
                started = time.perf_counter()
                for item in single.tolist():
                    model.most_similar(item, topn=10, exact=exact)
                row[f"{name}_single_qps"] = len(single) / (time.perf_counter() - started)
                started = time.perf_counter()
                model.similar_items(queries, topn=10, exact=exact)
                row[f"{name}_batch_qps"] = len(queries) / (time.perf_counter() - started)
                started = time.perf_counter()
                model.recommend_batch(histories, topn=10, exact=exact)
                row[f"{name}_recommend_qps"] = len(histories) / (time.perf_counter() - started)
            report["threads"][threads] = row
            print(f"{threads} thread(s): single queries/s exact {row['exact_single_qps']:,.0f} "
                  f"index {row['index_single_qps']:,.0f} "
                  f"({row['index_single_qps'] / row['exact_single_qps']:.0f}x); "
                  f"batch of {len(queries):,} exact {row['exact_batch_qps']:,.0f}/s "
                  f"index {row['index_batch_qps']:,.0f}/s; recommend_batch exact "
                  f"{row['exact_recommend_qps']:,.0f}/s "
                  f"index {row['index_recommend_qps']:,.0f}/s")  # fmt: skip
    write_report(args.json, report)
    return report


def _recall(exact: np.ndarray, approx: np.ndarray) -> float:
    pairs = zip(exact.tolist(), approx.tolist(), strict=True)
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in pairs]))


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    import sys

    ann() if "--ann" in sys.argv[1:] else main()

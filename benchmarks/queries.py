"""Query speed: exact top-10 neighbours for 1,000 items among 1M x 100 vectors.

Times ``similar_items`` (tiled matrix products over the cached normalised
matrix, each tile merged into running top-k lists) and ``recommend_batch`` on a model whose
vectors are random (the speed does not depend on their values).

Example::

    python benchmarks/queries.py --items 1e6 --dim 100 --queries 1000
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
    model = Item2Vec(vector_size=args.dim)
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


if __name__ == "__main__":
    main()

"""Next-item quality on MovieLens: Item2Vec against baselines and gensim.

Protocol: ratings >= 4 kept, each user's events ordered by time, the last one
held out (leave-last-out); every model is fitted on the rest and recommends 10
unseen items from each user's history. Reports HR@10, NDCG@10, MRR@10 and
catalogue coverage@10, mean and standard deviation over ``--seeds`` seeds
(Popularity and ItemKNN are deterministic). gensim runs the same settings and
its vectors are scored by the same code as Item2Vec's.

Example::

    python benchmarks/quality_movielens.py --data ../shared/data/ml-100k --seeds 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from _report import write_report

from item2vec import Item2Vec, Sequences
from item2vec.baselines import ItemKNN, Popularity
from item2vec.datasets import load_movielens
from item2vec.evaluation import evaluate, leave_last_out

# The settings we recommend for next-item recommendation on data of this size:
# no subsampling (the catalogue is small and every event matters), more epochs
# than word2vec's default, recency-weighted histories at query time.
RECOMMENDED = dict(vector_size=100, window=5, negative=5, sample=0.0, epochs=20)
QUERY = dict(half_life=3)


def gensim_as_item2vec(train: Sequences, params: dict, seed: int) -> Item2Vec:
    """Train gensim's Word2Vec and wrap its vectors so the same scoring code ranks them."""
    from gensim.models import Word2Vec

    sentences = [[str(i) for i in s] for s in train.to_lists()]
    w2v = Word2Vec(
        sentences, vector_size=params["vector_size"], window=params["window"],
        negative=params["negative"], sample=params["sample"], epochs=params["epochs"],
        sg=int(params.get("sg", True)), hs=0, min_count=1, workers=1, seed=seed,
    )  # fmt: skip
    model = Item2Vec(**params)
    items = train.vocabulary.items
    present = np.array([str(i) in w2v.wv.key_to_index for i in items.tolist()])
    rows = np.array([w2v.wv.key_to_index[str(i)] for i in items[present].tolist()])
    model.vocabulary_ = type(train.vocabulary)(items[present], train.vocabulary.counts[present])
    model.items_ = model.vocabulary_.items
    model.vectors_ = w2v.wv.vectors[rows]
    model.output_vectors_ = w2v.syn1neg[rows]
    model._normed = None
    return model


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ml-100k"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--min-rating", type=float, default=4.0)
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/quality_movielens.json")
    )
    args = parser.parse_args(argv)

    data = load_movielens(args.data)
    corpus = Sequences.from_events(
        data.events, user="user", item="item", time="timestamp", weight="rating",
        min_weight=args.min_rating,
    )  # fmt: skip
    split = leave_last_out(corpus)
    print(f"{args.data}: {corpus.n_tokens:,} events with rating >= {args.min_rating}, "
          f"{len(corpus):,} users, {len(corpus.vocabulary):,} items; "
          f"{split.targets.shape[0]:,} held-out targets")  # fmt: skip

    configs: list[tuple[str, object, dict, bool]] = [
        ("Popularity", lambda seed: Popularity(), {}, False),
        ("ItemKNN", lambda seed: ItemKNN(neighbors=None), {}, False),
        ("ItemKNN, recency", lambda seed: ItemKNN(neighbors=None), QUERY, False),
        ("Item2Vec sg, word2vec defaults",
         lambda seed: Item2Vec(n_jobs=1, random_state=seed), {}, True),
        ("Item2Vec sg, recommended",
         lambda seed: Item2Vec(**RECOMMENDED, n_jobs=1, random_state=seed), QUERY, True),
        ("Item2Vec sg per-pair negatives, recommended",
         lambda seed: Item2Vec(**RECOMMENDED, shared_negatives=False, n_jobs=1,
                               random_state=seed), QUERY, True),
        ("Item2Vec cbow, recommended",
         lambda seed: Item2Vec(**RECOMMENDED, sg=False, n_jobs=1, random_state=seed), QUERY, True),
        ("Item2Vec sg, recommended, cosine scoring",
         lambda seed: Item2Vec(**RECOMMENDED, recommend_scoring="cosine", n_jobs=1,
                               random_state=seed), QUERY, True),
    ]  # fmt: skip
    if not args.no_gensim:
        for mode, sg in (("sg", True), ("cbow", False)):
            settings = dict(RECOMMENDED, sg=sg)
            configs.append(
                (f"gensim {mode}, recommended", lambda seed, s=settings: ("gensim", s), QUERY, True)
            )

    rows = []
    columns = ("HR@10", "NDCG@10", "MRR@10")
    header = f"{'model':44s} " + " ".join(f"{c:>15s}" for c in columns) + "  cov@10  fit s"
    print(header)
    print("-" * len(header))
    for name, make, query, seeded in configs:
        runs, seconds = [], []
        for seed in range(args.seeds if seeded else 1):
            model = make(seed)
            started = time.perf_counter()
            if isinstance(model, tuple):
                model = gensim_as_item2vec(split.train, model[1], seed)
            else:
                model.fit(split.train)
            seconds.append(time.perf_counter() - started)
            runs.append(evaluate(model, split, 10, **query))
        summary = {
            "model": name,
            "query": query,
            "runs": runs,
            "fit_seconds": statistics.median(seconds),
        }
        for metric in ("hr", "ndcg", "mrr", "coverage"):
            values = [r[metric] for r in runs]
            summary[metric] = statistics.fmean(values)
            summary[metric + "_std"] = statistics.pstdev(values)
        rows.append(summary)
        cells = [f"{summary[m]:.4f} ± {summary[m + '_std']:.4f}" for m in ("hr", "ndcg", "mrr")]
        print(f"{name:44s} {cells[0]:>15s} {cells[1]:>15s} {cells[2]:>15s} "
              f"{summary['coverage']:7.3f} {summary['fit_seconds']:6.2f}", flush=True)  # fmt: skip

    report = {
        "data": str(args.data), "min_rating": args.min_rating, "seeds": args.seeds,
        "recommended": RECOMMENDED, "query": QUERY, "platform": platform.platform(),
        "results": rows,
    }  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

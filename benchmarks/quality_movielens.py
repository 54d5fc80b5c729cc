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
from item2vec.vectors import ItemVectors

# The settings we recommend for next-item recommendation on data of this size:
# no subsampling (the catalogue is small and every event matters), more epochs
# than word2vec's default, recency-weighted histories at query time.
RECOMMENDED = dict(vector_size=100, window=5, negative=5, sample=0.0, epochs=20)
# (explicit: the estimator's default query adds popularity=0.2 since these were measured)
QUERY = dict(half_life=3, popularity=0.0)
# The best combination of the options measured below (each helps a little
# alone; see benchmarks/README.md): a wider window, the ratings as weights,
# and histories weighted by recency both in events and in time.
BEST = dict(RECOMMENDED, window=10, use_weights=True)
BEST_QUERY = dict(half_life=3, time_half_life=86400.0, popularity=0.0)
BEST_NAME = "window 10, use_weights; query half_life 3 + time_half_life 1 day"


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
    model.item_vectors_ = ItemVectors(
        type(train.vocabulary)(items[present], train.vocabulary.counts[present]),
        w2v.wv.vectors[rows],
        w2v.syn1neg[rows],
    )
    return model


def baseline_configs(no_gensim: bool) -> list:
    """Baselines, word2vec defaults and the training modes, with gensim beside them."""
    configs = [
        ("Popularity", lambda seed: Popularity(), {}, False),
        ("ItemKNN", lambda seed: ItemKNN(neighbors=None), {}, False),
        ("ItemKNN, recency", lambda seed: ItemKNN(neighbors=None), QUERY, False),
        ("Item2Vec sg, word2vec defaults",
         lambda seed: Item2Vec.from_preset("word2vec", n_jobs=1, random_state=seed), {}, True),
        ("Item2Vec, the estimator's defaults",
         lambda seed: Item2Vec(n_jobs=1, random_state=seed), {}, True),
        ("Item2Vec sg, recommended",
         lambda seed: Item2Vec(**RECOMMENDED, n_jobs=1, random_state=seed), QUERY, True),
        ("Item2Vec sg shared negatives, recommended",
         lambda seed: Item2Vec(**RECOMMENDED, shared_negatives=True, n_jobs=1,
                               random_state=seed), QUERY, True),
        ("Item2Vec cbow, recommended",
         lambda seed: Item2Vec(**RECOMMENDED, sg=False, n_jobs=1, random_state=seed), QUERY, True),
        ("Item2Vec sg, recommended, cosine scoring",
         lambda seed: Item2Vec(**RECOMMENDED, recommend_scoring="cosine", n_jobs=1,
                               random_state=seed), QUERY, True),
    ]  # fmt: skip
    if not no_gensim:
        for mode, sg in (("sg", True), ("cbow", False)):
            settings = dict(RECOMMENDED, sg=sg)
            configs.append(
                (f"gensim {mode}, recommended", lambda seed, s=settings: ("gensim", s), QUERY, True)
            )
    return configs


def option_configs() -> list:
    """Each training and query option alone on top of the recommended settings,
    then the best combination found."""

    def i2v(**params):
        return lambda seed: Item2Vec(**{**RECOMMENDED, **params}, n_jobs=1, random_state=seed)

    day = 86400.0
    return [
        ("opt: recommended (vanilla)", i2v(), QUERY, True),
        ("opt: no recency at query time", i2v(), {"half_life": None, "popularity": 0.0}, True),
        ("opt: use_weights, weight = rating", i2v(use_weights=True), QUERY, True),
        ("opt: use_weights, weight = rating - 3", ("rating-3", i2v(use_weights=True)), QUERY,
         True),
        ("opt: time_decay = 1 hour", i2v(time_decay=3600.0), QUERY, True),
        ("opt: time_decay = 1 day", i2v(time_decay=day), QUERY, True),
        ("opt: time_window = 1 day", i2v(time_window=day), QUERY, True),
        ("opt: window = session (10 contexts)", i2v(window="session"), QUERY, True),
        ("opt: window = session (30 contexts)", i2v(window="session", session_contexts=30),
         QUERY, True),
        ("opt: window = 3", i2v(window=3), QUERY, True),
        ("opt: window = 10", i2v(window=10), QUERY, True),
        ("opt: ns_exponent = -0.5", i2v(ns_exponent=-0.5), QUERY, True),
        ("opt: ns_exponent = 0", i2v(ns_exponent=0.0), QUERY, True),
        ("opt: ns_exponent = 1", i2v(ns_exponent=1.0), QUERY, True),
        ("opt: epochs = 40", i2v(epochs=40), QUERY, True),
        ("opt: vector_size = 50", i2v(vector_size=50), QUERY, True),
        ("opt: query popularity = 0.1", i2v(), {**QUERY, "popularity": 0.1}, True),
        ("opt: query popularity = 0.3", i2v(), {**QUERY, "popularity": 0.3}, True),
        ("opt: query time_half_life = 1 day", i2v(),
         {"half_life": None, "time_half_life": day, "popularity": 0.0}, True),
        ("opt: query half_life 3 + time_half_life 1 day", i2v(),
         {**QUERY, "time_half_life": day}, True),
        ("opt: item_features = genres (side information)", ("genres", i2v()), QUERY, True),
        ("best: " + BEST_NAME, i2v(**BEST), BEST_QUERY, True),
        ("best + query popularity = 0.05", i2v(**BEST), {**BEST_QUERY, "popularity": 0.05},
         True),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ml-100k"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--min-rating", type=float, default=4.0)
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--suite", choices=["all", "baselines", "options"], default="all")
    parser.add_argument("--only", nargs="*", help="run the configurations whose name has a word")
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

    configs: list[tuple[str, object, dict, bool]] = []
    if args.suite in ("all", "baselines"):
        configs += baseline_configs(args.no_gensim)
    if args.suite in ("all", "options"):
        configs += option_configs()
    if args.only:
        configs = [c for c in configs if any(word in c[0] for word in args.only)]
    # weights rating - 3: 4 -> 1, 5 -> 2, a sharper contrast than the raw rating
    strong = Sequences(
        split.train.codes, split.train.offsets, split.train.vocabulary,
        split.train.weights - (args.min_rating - 1), split.train.times, split.train.users,
    )  # fmt: skip
    corpora = {"rating": split.train, "rating-3": strong}

    rows = []
    columns = ("HR@10", "NDCG@10", "MRR@10")
    header = f"{'model':62s} " + " ".join(f"{c:>15s}" for c in columns) + "  cov@10  fit s"
    print(header)
    print("-" * len(header))
    for name, make, query, seeded in configs:
        runs, seconds = [], []
        train, fit_params = split.train, {}
        if isinstance(make, tuple) and make[0] == "genres":  # side information
            fit_params, make = {"item_features": data.genres}, make[1]
        elif isinstance(make, tuple):  # (name of the training corpus, factory)
            train, make = corpora[make[0]], make[1]
        for seed in range(args.seeds if seeded else 1):
            model = make(seed)
            started = time.perf_counter()
            if isinstance(model, tuple):
                model = gensim_as_item2vec(train, model[1], seed)
            else:
                model.fit(train, **fit_params)
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
        print(f"{name:62s} {cells[0]:>15s} {cells[1]:>15s} {cells[2]:>15s} "
              f"{summary['coverage']:7.3f} {summary['fit_seconds']:6.2f}", flush=True)  # fmt: skip

    report = {
        "data": str(args.data), "min_rating": args.min_rating, "seeds": args.seeds,
        "recommended": RECOMMENDED, "query": QUERY, "best": BEST, "best_query": BEST_QUERY,
        "platform": platform.platform(),
        "results": rows,
    }  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

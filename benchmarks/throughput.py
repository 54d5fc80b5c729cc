"""Training speed and neighbour quality: item2vec against gensim, same corpus, same run.

Corpora come from :func:`item2vec.datasets.planted_sessions` (items in planted
clusters). For every configuration, item2vec and gensim alternate for
``--repeats`` rounds; the medians are reported. Speed is raw tokens per second
of training alone (item2vec: ``fit`` on an encoded corpus; gensim: ``train``
after ``build_vocab``). Quality is precision@10 of planted-cluster membership
over 1,000 random items ranked below the top 1,000 by frequency (the head
saturates at 1.0 and hides differences), computed the same way for both.

Example::

    python benchmarks/throughput.py --tokens 5e6 --modes sg --jobs 1 --corpora long
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from pathlib import Path

import numpy as np
from _report import finish

from item2vec import Item2Vec, Sequences
from item2vec.datasets import planted_sessions
from item2vec.neighbors import normalize_rows, top_k

CORPORA = {"long": 20.0, "short": 5.0}
# the settings both libraries train with, and item2vec's per mode (gensim runs
# the same sg / CBOW choice)
SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "sample": 1e-3}
MODES = {
    "sg": {"sg": True, "shared_negatives": False},  # the default: word2vec's exact scheme
    "sg-shared": {"sg": True, "shared_negatives": True},
    "cbow": {"sg": False},
}


def make_corpus(kind: str, n_tokens: float, seed: int = 0, n_items: int = 100_000):
    mean_length = CORPORA[kind]
    data = planted_sessions(
        n_sessions=int(n_tokens / mean_length),
        n_items=n_items,
        n_clusters=max(10, n_items // 100),
        mean_length=mean_length,
        random_state=seed,
    )
    corpus = Sequences.from_iterable(data.sequences)
    return corpus, data.cluster_of


def precision_at_10(vectors: np.ndarray, items: np.ndarray, cluster_of: np.ndarray, rng) -> float:
    """Mean share of same-cluster items among the 10 neighbours of 1,000 tail items."""
    candidates = np.arange(1_000, len(items))
    chosen = rng.choice(candidates, size=min(1_000, candidates.size), replace=False)
    normed = normalize_rows(vectors)
    rows = np.arange(chosen.size)
    import scipy.sparse as sp

    itself = sp.csr_array((np.ones(chosen.size), (rows, chosen)), shape=(chosen.size, len(items)))
    idx, _ = top_k(normed[chosen], normed, 10, itself)
    return float((cluster_of[items[idx]] == cluster_of[items[chosen]][:, None]).mean())


def run_item2vec(corpus, params, n_jobs):
    model = Item2Vec(**params, n_jobs=n_jobs, random_state=1)
    started = time.perf_counter()
    model.fit(corpus)
    return time.perf_counter() - started, model.vectors_, model.items_.astype(np.int64)


def run_gensim(sentences, params, n_jobs):
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=params["vector_size"], window=params["window"],
        negative=params["negative"], sample=params["sample"], sg=int(params["sg"]),
        epochs=params["epochs"], min_count=1, workers=n_jobs, seed=1, hs=0,
    )  # fmt: skip
    model.build_vocab(sentences)
    started = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    seconds = time.perf_counter() - started
    keys = np.array([int(k) for k in model.wv.index_to_key], dtype=np.int64)
    return seconds, model.wv.vectors, keys


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=float, default=10e6, help="tokens per corpus")
    parser.add_argument("--corpora", nargs="+", default=["long", "short"], choices=CORPORA)
    parser.add_argument("--items", type=int, default=100_000,
                        help="catalogue size (100 items per planted cluster)")  # fmt: skip
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--no-gensim", action="store_true", help="time item2vec alone")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/throughput.json"))
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores")
    results = []
    for kind in args.corpora:
        corpus, cluster_of = make_corpus(kind, args.tokens, n_items=args.items)
        n_tokens = corpus.n_tokens
        print(f"\ncorpus {kind}: {n_tokens:,} tokens, {len(corpus):,} sequences, "
              f"{len(corpus.vocabulary):,} items")  # fmt: skip
        sentences = None
        if not args.no_gensim:
            words = [str(x) for x in corpus.vocabulary.items.tolist()]
            codes, bounds = corpus.codes.tolist(), corpus.offsets.tolist()
            sentences = [[words[c] for c in codes[a:b]] for a, b in itertools.pairwise(bounds)]
        for mode in args.modes:
            params = SETTINGS | {"epochs": args.epochs} | MODES[mode]
            for n_jobs in args.jobs:
                ours, theirs, q_ours, q_theirs = [], [], [], []
                for repeat in range(args.repeats):
                    seconds, vectors, items = run_item2vec(corpus, params, n_jobs)
                    ours.append(n_tokens * args.epochs / seconds)
                    rng = np.random.default_rng(repeat)
                    q_ours.append(precision_at_10(vectors, items, cluster_of, rng))
                    if sentences is not None:
                        seconds, vectors, items = run_gensim(sentences, params, n_jobs)
                        theirs.append(n_tokens * args.epochs / seconds)
                        rng = np.random.default_rng(repeat)
                        q_theirs.append(precision_at_10(vectors, items, cluster_of, rng))
                row = {
                    "corpus": kind, "mode": mode, "n_jobs": n_jobs, "tokens": n_tokens,
                    "items": len(corpus.vocabulary),
                    "item2vec_tokens_per_s": statistics.median(ours),
                    "item2vec_precision_at_10": statistics.median(q_ours),
                    "item2vec_runs": ours,
                }  # fmt: skip
                line = (f"{kind:5s} {mode:4s} n_jobs={n_jobs}: item2vec "
                        f"{row['item2vec_tokens_per_s'] / 1e6:.3f}M tok/s "
                        f"(p@10 {row['item2vec_precision_at_10']:.3f})")  # fmt: skip
                if theirs:
                    row.update(
                        gensim_tokens_per_s=statistics.median(theirs),
                        gensim_precision_at_10=statistics.median(q_theirs),
                        gensim_runs=theirs,
                        ratio=statistics.median(ours) / statistics.median(theirs),
                    )
                    line += (f" | gensim {row['gensim_tokens_per_s'] / 1e6:.3f}M tok/s "
                             f"(p@10 {row['gensim_precision_at_10']:.3f}) | "
                             f"ratio {row['ratio']:.2f}x")  # fmt: skip
                print(line, flush=True)
                results.append(row)
    return finish(args, load, results)


if __name__ == "__main__":
    main()

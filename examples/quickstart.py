"""Quick start: train item vectors on generated sessions and print neighbours.

The sessions come from :func:`item2vec.datasets.planted_sessions`: 1,000 items
in 50 planted clusters, each session drawing mostly from one cluster. A good
embedding puts an item's nearest neighbours in its own cluster.

Run with ``python examples/quickstart.py``.
"""

import time

import numpy as np

from item2vec import Item2Vec
from item2vec.datasets import planted_sessions


def main() -> None:
    data = planted_sessions(n_sessions=20_000, n_items=1_000, n_clusters=50, random_state=0)
    n_tokens = sum(len(s) for s in data.sequences)
    print(f"{len(data.sequences):,} sessions, {n_tokens:,} events, 1,000 items in 50 clusters")

    started = time.perf_counter()
    model = Item2Vec(vector_size=64, random_state=0).fit(data.sequences)
    seconds = time.perf_counter() - started
    print(f"trained {model!r} in {seconds:.2f} s; loss per epoch: "
          + ", ".join(f"{loss:.3f}" for loss in model.loss_history_))  # fmt: skip

    for item in model.items_[[0, 1, 7, 42, 300]]:
        neighbours = model.most_similar(item, topn=5)
        shown = ", ".join(
            f"{other} (c{data.cluster_of[other]}, {score:.2f})" for other, score in neighbours
        )
        print(f"item {item} (cluster {data.cluster_of[item]}): {shown}")

    ids, _ = model.similar_items(model.items_[:200], topn=10)
    same = data.cluster_of[ids.astype(np.int64)] == data.cluster_of[model.items_[:200]][:, None]
    print(f"precision@10 of planted-cluster membership, 200 most frequent items: {same.mean():.3f}")

    history = model.items_[[3, 53]].tolist()
    recommended, _scores = model.recommend(history, topn=5)
    print(f"recommended after {history}: {recommended.tolist()}")


if __name__ == "__main__":
    main()

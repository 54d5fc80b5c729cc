"""MovieLens end to end: events -> model -> evaluation -> similar movies -> a genre map.

Run with ``python examples/movielens.py path/to/ml-100k [map.png]``; the
folder may hold any MovieLens layout that ``load_movielens`` reads.
"""

import re
import sys
from pathlib import Path

from item2vec import Item2Vec, Sequences
from item2vec.baselines import ItemKNN
from item2vec.datasets import load_movielens
from item2vec.evaluation import evaluate, leave_last_out

USAGE = """\
usage: python examples/movielens.py FOLDER [MAP.png]
  FOLDER   a MovieLens download, unpacked (ml-100k, ml-1m, ml-latest-small, ...:
           https://grouplens.org/datasets/movielens/)
  MAP.png  where to draw the map of the item vectors (default: movielens_map.png)"""


def main(argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(USAGE)
        return 0
    if len(argv) not in (1, 2):
        print(USAGE, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    picture = Path(argv[1] if len(argv) > 1 else "movielens_map.png")
    try:
        data = load_movielens(folder)
    except (OSError, ValueError) as exc:
        print(f"movielens.py: {exc}", file=sys.stderr)
        return 2
    corpus = Sequences.from_events(
        data.events, user="user", item="item", time="timestamp", weight="rating", min_weight=4
    )
    print(f"{corpus.n_tokens:,} positive ratings by {len(corpus):,} users")

    split = leave_last_out(corpus)
    model = Item2Vec(random_state=0).fit(split.train)  # remembers half_life=1, popularity=0.2
    for name, recommender, query in (
        ("Item2Vec", model, {}),
        ("ItemKNN", ItemKNN().fit(split.train), {"half_life": 1}),
    ):
        metrics = evaluate(recommender, split, k=10, **query)
        print(f"{name:9s} HR@10 {metrics['hr']:.3f}  NDCG@10 {metrics['ndcg']:.3f}  "
              f"coverage {metrics['coverage']:.3f}")  # fmt: skip

    # Item-to-item similarity wants other settings than next-item ranking: the
    # word2vec defaults (subsampling, 5 epochs) and min_count=5 give neighbours
    # that make sense (Star Wars -> Return of the Jedi), while the defaults,
    # chosen for recommendation, leave rare movies' directions noisy.
    model = Item2Vec.from_preset("word2vec", min_count=5, random_state=0).fit(corpus)
    # GroupLens' own files end titles with the year: "Star Wars (1977)"
    by_title = {re.sub(r" \(\d{4}\)$", "", title): item for item, title in data.titles.items()}
    for title in ("Star Wars", "Toy Story", "Pulp Fiction", "Fargo"):
        item = by_title.get(title)
        if item is None or item not in model:
            continue
        similar = ", ".join(data.titles[i] for i, _ in model.most_similar(item, topn=5))
        print(f"{title}: {similar}")

    try:
        from item2vec.plotting import embedding_map
    except ImportError:
        return 0
    genre = {item: genres[0] for item, genres in data.genres.items() if genres}
    try:
        embedding_map(model, labels=genre, titles=data.titles, path=picture,
                      title="MovieLens-100K item vectors, coloured by first genre")  # fmt: skip
    except ImportError:
        print("install matplotlib to draw the map")
        return 0
    print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Does a blend of item2vec's and EASE's scores recommend better than item2vec alone?

One of the candidates for closing the gap to the sequential models: rank by
``(1 - w) * z(item2vec) + w * z(EASE)``, where ``z`` standardises a history's
scores over the catalogue (the history's own items left out), EASE's ``l2``
and the weight ``w`` are chosen on a validation split carved from the
training part, and both models are then fitted on the whole training part.
Same data, variants and protocols as ``sequential_anchors.py`` (``file``,
``item``, ``group``; see benchmarks/README.md, "Why three protocols");
item2vec is the defaults, EASE ranks with the same ``half_life=1``.

Example (about 2 minutes per protocol and variant on two cores)::

    python benchmarks/ease_blend.py --data ../shared/data/ml-100k --seeds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path
from typing import Any

import numpy as np
from _report import write_report
from sequential_anchors import (
    EASE_L2,
    HISTORY,
    PROTOCOLS,
    VARIANT_NAMES,
    VARIANTS,
    splits,
    variant_corpus,
)

from item2vec import Item2Vec, Sequences
from item2vec.baselines import EASE
from item2vec.datasets import load_movielens
from item2vec.evaluation import evaluate

K = 10
WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0)


def standardised_scores(model: Any, histories: Sequences, items: np.ndarray, **query: Any):
    """Every item's score for every history (``-inf`` where excluded), standardised per
    history over the items it can recommend."""
    index = {item: i for i, item in enumerate(items.tolist())}
    ids, scores = model.recommend_batch(histories, topn=items.shape[0], **query)
    out = np.full((len(ids), items.shape[0]), -np.inf)
    for row, (row_ids, row_scores) in enumerate(zip(ids, scores, strict=True)):
        kept = np.isfinite(row_scores)
        out[row, [index[i] for i in row_ids[kept].tolist()]] = row_scores[kept]
    finite = np.isfinite(out)
    values = np.where(finite, out, np.nan)
    mean = np.nanmean(values, axis=1, keepdims=True)
    spread = np.nanstd(values, axis=1, keepdims=True) + 1e-12
    return np.where(finite, (out - mean) / spread, -np.inf)


class Blend:
    """``recommend_batch`` over the weighted sum of two models' standardised scores."""

    def __init__(self, item2vec: Item2Vec, ease: EASE, weight: float, items: np.ndarray) -> None:
        self.item2vec, self.ease, self.weight, self.items = item2vec, ease, weight, items

    def recommend_batch(
        self, histories: Sequences, topn: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        first = standardised_scores(self.item2vec, histories, self.items)
        second = standardised_scores(self.ease, histories, self.items, **HISTORY)
        allowed = np.isfinite(first) & np.isfinite(second)
        mixed = (1 - self.weight) * np.where(allowed, first, 0) + self.weight * np.where(
            allowed, second, 0
        )
        mixed[~allowed] = -np.inf
        top = np.argsort(-mixed, axis=1, kind="stable")[:, :topn]
        return self.items[top], np.take_along_axis(mixed, top, axis=1)


def one(corpus: Sequences, protocol: str, seeds: int) -> dict[str, Any]:
    split, validation = splits(corpus, protocol)
    l2_scores = {
        l2: evaluate(EASE(l2=l2).fit(validation.train), validation, K, **HISTORY)["hr"]
        for l2 in EASE_L2
    }
    l2 = max(EASE_L2, key=lambda v: (l2_scores[v], -v))
    item2vec = Item2Vec(random_state=0).fit(validation.train)
    ease = EASE(l2=l2).fit(validation.train)
    items = validation.train.vocabulary.items
    weight_scores = {
        w: evaluate(Blend(item2vec, ease, w, items), validation, K)["hr"] for w in WEIGHTS
    }
    weight = max(WEIGHTS, key=lambda w: (weight_scores[w], -w))
    ease = EASE(l2=l2).fit(split.train)
    items = split.train.vocabulary.items
    alone, blended = [], []
    for seed in range(seeds):
        item2vec = Item2Vec(random_state=seed).fit(split.train)
        alone.append(evaluate(item2vec, split, K)["hr"])
        blended.append(evaluate(Blend(item2vec, ease, weight, items), split, K)["hr"])
    return {
        "protocol": protocol, "l2": l2, "weight": weight,
        "validation_hr": {str(w): v for w, v in weight_scores.items()},
        "item2vec_hr": alone, "blend_hr": blended,
        "difference": statistics.fmean(blended) - statistics.fmean(alone),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ml-100k"))
    parser.add_argument("--seeds", type=int, default=3, help="item2vec seeds on the test split")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    data = load_movielens(args.data)
    rows = []
    print("| variant | protocol | EASE l2 | weight | HR@10 item2vec | HR@10 blend | difference |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for variant in args.variants:
        corpus = variant_corpus(data.events, variant)
        for protocol in args.protocols:
            row = {"variant": variant} | one(corpus, protocol, args.seeds)
            rows.append(row)
            print(
                f"| {VARIANT_NAMES[variant]} | {protocol} | {row['l2']:g} | {row['weight']:g} | "
                f"{statistics.fmean(row['item2vec_hr']):.4f} | "
                f"{statistics.fmean(row['blend_hr']):.4f} | {row['difference']:+.4f} |",
                flush=True,
            )
    report = {"load_before": load_before, "load_after": os.getloadavg(), "rows": rows}
    print(f"\nload average before {load_before}, after {report['load_after']}")
    if args.out:
        write_report(args.out, report)
    return report


if __name__ == "__main__":
    main()

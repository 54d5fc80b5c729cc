"""Side information: features trained beside the items (the Meta-Prod2vec idea)."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np

from item2vec.corpus import Sequences
from item2vec.vocab import Vocabulary, _as_item_array

__all__ = ["FeatureKey", "with_feature_sequences"]


def with_feature_sequences(
    corpus: Sequences, item_features: Mapping[Hashable, Iterable[Hashable]]
) -> tuple[Sequences, np.ndarray]:
    """The corpus plus one sequence ``[item, its features...]`` per event of an
    item with features; features are coded after the items. Returns it and
    the feature ids."""
    if not isinstance(item_features, Mapping):
        raise TypeError(
            f"item_features must be a mapping of item id to feature ids, got "
            f"{type(item_features).__name__}"
        )
    index: dict[Hashable, int] = {}
    per_item: list[list[int]] = []
    for item in corpus.vocabulary.items.tolist():
        given = item_features.get(item, ())
        if isinstance(given, str | bytes) or not isinstance(given, Iterable):
            given = [given]
        per_item.append([index.setdefault(f, len(index)) for f in dict.fromkeys(given)])
    if not index:
        raise ValueError("item_features gives no feature for any item of the training data")
    n_items = len(corpus.vocabulary)
    n_feats = np.fromiter((len(c) for c in per_item), dtype=np.int64, count=n_items)
    feature_codes = np.fromiter(
        (c for codes in per_item for c in codes), dtype=np.int64, count=int(n_feats.sum())
    )
    starts = np.concatenate([[0], np.cumsum(n_feats)])
    events = np.flatnonzero(n_feats[corpus.codes] > 0)
    heads = corpus.codes[events].astype(np.int64)
    k = n_feats[heads]
    offsets = np.concatenate([[0], np.cumsum(1 + k)])
    codes = np.empty(int(offsets[-1]), dtype=np.int32)
    codes[offsets[:-1]] = heads
    owner = np.repeat(np.arange(heads.shape[0]), k)
    j = np.arange(owner.shape[0]) - np.repeat(np.cumsum(k) - k, k)
    codes[offsets[owner] + 1 + j] = n_items + feature_codes[starts[heads[owner]] + j]
    all_codes = np.concatenate([corpus.codes, codes])
    features = _as_item_array(list(index))
    keys = [FeatureKey(f) for f in index]
    vocabulary = Vocabulary(
        _as_item_array([*corpus.vocabulary.items.tolist(), *keys]),
        np.bincount(all_codes, minlength=n_items + len(keys)).astype(np.int64),
    )

    def extend(values: np.ndarray | None) -> np.ndarray | None:
        # a feature sequence carries its event's weight and time
        return (
            None if values is None else np.concatenate([values, np.repeat(values[events], 1 + k)])
        )

    combined = Sequences(
        all_codes,
        np.concatenate([corpus.offsets, corpus.offsets[-1] + offsets[1:]]),
        vocabulary,
        extend(corpus.weights),
        extend(corpus.times),
    )
    return combined, features


@dataclasses.dataclass(frozen=True)
class FeatureKey:
    """A feature in the training vocabulary, never equal to an item id."""

    value: Any

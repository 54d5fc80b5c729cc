"""Vocabulary: item ids <-> dense int32 codes, counts, and the sampling tables."""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np

from item2vec._validation import check_limits

__all__ = ["Vocabulary"]


class Vocabulary:
    """Item ids mapped to dense codes ``0 .. n_items - 1``, with their counts.

    Ids can be any hashable values (str and int alike). They are compared as
    Python dictionary keys, so ``1`` and ``"1"`` are different items while
    ``1``, ``1.0`` and ``True`` are the same one.

    Parameters
    ----------
    items : array-like of shape (n_items,)
        The item ids; position ``i`` holds the id of code ``i``. Must be unique.
    counts : array-like of int, shape (n_items,)
        How often each item occurs in the corpus the vocabulary was built from.

    Examples
    --------
    >>> vocab = Vocabulary(["a", "b"], [3, 1])
    >>> vocab.code("b")
    1
    >>> vocab.items[0], int(vocab.counts[0])
    ('a', 3)
    """

    def __init__(self, items: Iterable[Hashable] | np.ndarray, counts: Iterable[int]) -> None:
        self.items = _as_item_array(items)
        self.counts = np.asarray(counts, dtype=np.int64).reshape(-1)
        if self.counts.shape[0] != self.items.shape[0]:
            raise ValueError(
                f"items and counts must have the same length, got {self.items.shape[0]} "
                f"and {self.counts.shape[0]}"
            )
        check_limits(self.items.shape[0], 0)
        if np.any(self.counts < 0):
            raise ValueError("counts must be >= 0")
        self._index: dict[Any, int] | None = None

    def __len__(self) -> int:
        return int(self.items.shape[0])

    def __repr__(self) -> str:
        return f"Vocabulary(n_items={len(self)}, n_tokens={int(self.counts.sum())})"

    def __contains__(self, item: object) -> bool:
        try:
            return item in self.index
        except TypeError:
            return False

    @property
    def index(self) -> dict[Any, int]:
        """Dictionary from item id to code (built on first use)."""
        if self._index is None:
            keys = self.items.tolist()
            self._index = dict(zip(keys, range(len(keys)), strict=True))
            if len(self._index) != len(keys):
                raise ValueError("item ids must be unique")
        return self._index

    def code(self, item: Hashable) -> int:
        """Code of one item; ``KeyError`` naming the item if it is unknown."""
        try:
            return self.index[item]
        except (KeyError, TypeError):
            raise KeyError(f"item {item!r} is not in the vocabulary") from None

    def codes_of(self, items: Iterable[Hashable], *, unknown: str = "raise") -> np.ndarray:
        """Codes of many items as int64; ``unknown="ignore"`` maps unknown ones to -1."""
        if unknown not in ("raise", "ignore"):
            raise ValueError(f"unknown must be 'raise' or 'ignore', got {unknown!r}")
        if isinstance(items, str | bytes):
            raise TypeError("items must be a sequence of item ids, got a single string")
        index = self.index
        out = []
        for item in items:
            try:
                out.append(index[item])
            except (KeyError, TypeError):
                if unknown == "raise":
                    raise KeyError(f"item {item!r} is not in the vocabulary") from None
                out.append(-1)
        return np.asarray(out, dtype=np.int64)

    def with_counts(self, counts: np.ndarray) -> Vocabulary:
        """The same items (and codes) with other counts; shares the id index."""
        other = Vocabulary(self.items, counts)
        other._index = self._index
        return other

    def keep_probabilities(self, sample: float) -> np.ndarray:
        """Probability of keeping each item under frequent-item subsampling.

        word2vec's formula: with ``t = sample * n_tokens``, an item of count
        ``c`` is kept with probability ``min(1, (sqrt(c / t) + 1) * t / c)``.
        ``sample=0`` keeps everything and returns an empty array.
        """
        if sample <= 0:
            return np.empty(0, dtype=np.float32)
        counts = self.counts.astype(np.float64)
        threshold = sample * counts.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
        keep = np.where(counts > 0, np.minimum(keep, 1.0), 1.0)
        return keep.astype(np.float32)

    def noise_distribution(self, ns_exponent: float) -> np.ndarray:
        """Noise probabilities proportional to ``count ** ns_exponent`` (zero counts: 0)."""
        counts = self.counts.astype(np.float64)
        present = counts > 0
        weights = np.zeros_like(counts)
        weights[present] = counts[present] ** ns_exponent
        total = weights.sum()
        if not np.isfinite(total) or total <= 0:
            raise ValueError(
                f"ns_exponent={ns_exponent} gives no usable noise distribution for these counts"
            )
        return weights / total

    def pruned(
        self, min_count: int = 1, max_vocab_size: int | None = None
    ) -> tuple[Vocabulary, np.ndarray]:
        """Drop items under ``min_count`` and keep at most ``max_vocab_size`` most frequent.

        Returns the new vocabulary (count descending, ties in the current
        order) and an int32 array mapping old codes to new ones (-1: dropped).
        """
        keep = np.flatnonzero(self.counts >= min_count)
        order = keep[np.argsort(-self.counts[keep], kind="stable")]
        if max_vocab_size is not None:
            order = order[:max_vocab_size]
        mapping = np.full(len(self), -1, dtype=np.int32)
        mapping[order] = np.arange(order.shape[0], dtype=np.int32)
        if order.shape[0] == len(self) and np.array_equal(order, mapping):
            # nothing dropped or moved: share the ids (a mapped corpus's stay on disk)
            return Vocabulary(self.items, self.counts), mapping
        return Vocabulary(self.items[order], self.counts[order]), mapping

    def grown(
        self,
        new: Vocabulary,
        pending: Mapping[Any, int],
        min_count: int,
        max_vocab_size: int | None = None,
    ) -> tuple[Vocabulary, dict[Any, int]]:
        """This vocabulary after counting the items of ``new``: known items add
        their counts; an unknown item joins, after the known ones, once its
        count plus its ``pending`` count reaches ``min_count`` (while
        ``max_vocab_size`` leaves room). Joiners come by accumulated count
        (pending plus new) descending, ties in ``new``'s order.

        Returns the grown vocabulary and the counts still pending.
        """
        new_items = new.items.tolist()
        in_old = self.codes_of(new_items, unknown="ignore")
        counts = self.counts.copy()
        np.add.at(counts, in_old[in_old >= 0], new.counts[in_old >= 0])
        still = dict(pending)
        for item, code, count in zip(new_items, in_old.tolist(), new.counts.tolist(), strict=True):
            if code < 0:
                still[item] = still.get(item, 0) + count
        ready = [i for i, c in zip(new_items, in_old.tolist(), strict=True) if c < 0]
        ready = [i for i in ready if still[i] >= min_count]
        ready.sort(key=lambda i: -still[i])
        if max_vocab_size is not None:
            ready = ready[: max(0, max_vocab_size - len(self))]
        added = np.asarray([still.pop(i) for i in ready], dtype=np.int64)
        items = _extended(self.items, ready)
        return Vocabulary(items, np.concatenate([counts, added])), still


def _is_int_id(item_id: Any) -> bool:
    """An integer id (Python or NumPy), bools excluded."""
    return isinstance(item_id, numbers.Integral) and not isinstance(item_id, bool | np.bool_)


def savable_id(item_id: Any) -> bool:
    """Whether an id can be written to a model or corpus file: str or int, not bool."""
    return isinstance(item_id, str | int) and not isinstance(item_id, bool)


def _extended(items: np.ndarray, more: list[Any]) -> np.ndarray:
    """``items`` followed by ``more``, in ``items``' dtype when every new id fits it
    exactly (int ids in range of an int dtype, str ids for a str dtype)."""
    if not more:
        return items
    if items.dtype.kind in "iu" and all(_is_int_id(v) for v in more):
        info = np.iinfo(items.dtype)
        if all(info.min <= int(v) <= info.max for v in more):
            return np.concatenate([items, np.array([int(v) for v in more], dtype=items.dtype)])
    elif items.dtype.kind == "U" and all(isinstance(v, str) for v in more):
        return np.concatenate([items, np.array(more, dtype=str)])
    return _as_item_array(items.tolist() + more)


def _as_item_array(items: Iterable[Hashable] | np.ndarray) -> np.ndarray:
    """Items as a 1-D array: native dtype for numeric/str arrays and all-int lists, else object."""
    if isinstance(items, np.ndarray) and items.dtype != object:
        return items.reshape(-1)
    values = list(items)
    if values and all(_is_int_id(v) for v in values):
        try:
            return np.asarray([int(v) for v in values], dtype=np.int64)
        except OverflowError:
            values = [int(v) for v in values]
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    return np.fromiter(values, dtype=object, count=len(values))

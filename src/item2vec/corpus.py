"""Sequences: a compact CSR corpus of integer-coded item sequences."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import numpy as np

from item2vec.vocab import Vocabulary, _as_item_array

__all__ = ["Sequences"]


class Sequences:
    """All sequences of a corpus in one CSR structure.

    Sequence ``s`` holds the items ``vocabulary.items[codes[offsets[s]:offsets[s + 1]]]``.
    No per-token Python object survives construction, and the arrays may be
    read-only (for example opened with ``np.load(..., mmap_mode="r")``):
    training never copies or writes them.

    Parameters
    ----------
    codes : int32 array of shape (n_tokens,)
        Item codes, every one in ``[0, len(vocabulary))``.
    offsets : int64 array of shape (n_sequences + 1,)
        Start of each sequence in ``codes``; non-decreasing, from 0 to ``n_tokens``.
    vocabulary : Vocabulary
        The ids and counts behind the codes.
    weights : float32 array of shape (n_tokens,), optional
        Strength of each event (rating, dwell time, ...).
    times : float64 array of shape (n_tokens,), optional
        Time of each event.

    Examples
    --------
    >>> corpus = Sequences.from_iterable([["a", "b", "a"], ["c"]])
    >>> len(corpus), corpus.n_tokens
    (2, 4)
    >>> corpus[0].tolist()
    ['a', 'b', 'a']
    """

    def __init__(
        self,
        codes: np.ndarray,
        offsets: np.ndarray,
        vocabulary: Vocabulary,
        weights: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> None:
        self.codes = _as_1d(codes, np.int32, "codes")
        self.offsets = _as_1d(offsets, np.int64, "offsets")
        if not isinstance(vocabulary, Vocabulary):
            raise TypeError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
        self.vocabulary = vocabulary
        self.weights = None if weights is None else _as_1d(weights, np.float32, "weights")
        self.times = None if times is None else _as_1d(times, np.float64, "times")
        self._validate()

    def _validate(self) -> None:
        n_tokens = self.codes.shape[0]
        if self.offsets.shape[0] < 1:
            raise ValueError("offsets must hold at least one entry (0)")
        if self.offsets[0] != 0 or self.offsets[-1] != n_tokens:
            raise ValueError(
                f"offsets must start at 0 and end at len(codes)={n_tokens}, "
                f"got {self.offsets[0]} and {self.offsets[-1]}"
            )
        if np.any(np.diff(self.offsets) < 0):
            raise ValueError("offsets must be non-decreasing")
        if n_tokens and (self.codes.min() < 0 or self.codes.max() >= len(self.vocabulary)):
            raise ValueError(f"codes must lie in [0, {len(self.vocabulary)})")
        for name in ("weights", "times"):
            extra = getattr(self, name)
            if extra is not None and extra.shape[0] != n_tokens:
                raise ValueError(
                    f"{name} must have one entry per token ({n_tokens}), got {extra.shape[0]}"
                )
        if self.weights is not None and not np.all(np.isfinite(self.weights)):
            raise ValueError("weights must be finite (no NaN or inf)")
        if self.weights is not None and np.any(self.weights < 0):
            raise ValueError("weights must be >= 0")

    # --- construction -------------------------------------------------------

    @classmethod
    def from_iterable(cls, sequences: Iterable[Iterable[Hashable]]) -> Sequences:
        """Encode sequences of item ids, consuming the iterable exactly once.

        Accepts lists, tuples or numpy arrays of ids, from a list or any
        iterable (a generator is read once). The vocabulary keeps every item,
        ordered by count descending, then first appearance.

        Raises
        ------
        TypeError
            If a sequence is a plain string or not iterable, or holds an
            unhashable item.
        ValueError
            If an item id is None or NaN.
        """
        if isinstance(sequences, Sequences):
            return sequences
        if isinstance(sequences, str | bytes):
            raise TypeError("sequences must be an iterable of sequences of items, got a string")
        if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
            sequences = list(sequences)
        if isinstance(sequences, list) and sequences and _all_plain_arrays(sequences):
            return _encode_arrays(sequences)
        return _encode_objects(sequences)

    # --- access --------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def n_tokens(self) -> int:
        """Number of events over all sequences."""
        return int(self.codes.shape[0])

    @property
    def lengths(self) -> np.ndarray:
        """Length of every sequence (int64)."""
        return np.diff(self.offsets)

    def __getitem__(self, index: int) -> np.ndarray:
        """Item ids of one sequence."""
        if not isinstance(index, int | np.integer):
            raise TypeError(f"Sequences index must be an int, got {type(index).__name__}")
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"sequence index out of range for {n} sequences")
        return self.vocabulary.items[self.codes[self.offsets[index] : self.offsets[index + 1]]]

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return (
            f"Sequences(n_sequences={len(self)}, n_tokens={self.n_tokens}, "
            f"n_items={len(self.vocabulary)})"
        )

    def to_lists(self) -> list[list[Any]]:
        """The sequences as lists of item ids."""
        items = self.vocabulary.items[self.codes].tolist()
        bounds = self.offsets.tolist()
        return [items[a:b] for a, b in itertools.pairwise(bounds)]

    # --- derived corpora -----------------------------------------------------

    def subset(self, indices: Iterable[int] | np.ndarray) -> Sequences:
        """The sequences at ``indices`` (same vocabulary)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"sequence index out of range for {n} sequences")
        idx = np.where(idx < 0, idx + n, idx)
        starts = self.offsets[idx]
        lengths = self.offsets[idx + 1] - starts
        offsets = np.zeros(idx.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        token_idx = _ranges(starts, lengths)
        return Sequences(
            self.codes[token_idx],
            offsets,
            self.vocabulary,
            None if self.weights is None else self.weights[token_idx],
            None if self.times is None else self.times[token_idx],
        )

    def remap(self, mapping: np.ndarray, vocabulary: Vocabulary) -> Sequences:
        """Recode tokens through ``mapping`` (old code -> new code, -1 drops the token)."""
        mapping = np.asarray(mapping)
        new_codes = mapping[self.codes]
        keep = new_codes >= 0
        if keep.all():
            offsets = self.offsets
        else:
            kept_before = np.zeros(self.n_tokens + 1, dtype=np.int64)
            np.cumsum(keep, out=kept_before[1:])
            offsets = kept_before[self.offsets]
        return Sequences(
            new_codes[keep].astype(np.int32, copy=False),
            offsets,
            vocabulary,
            None if self.weights is None else self.weights[keep],
            None if self.times is None else self.times[keep],
        )

    def pruned(self, min_count: int = 1, max_vocab_size: int | None = None) -> Sequences:
        """Drop items under ``min_count`` (and beyond ``max_vocab_size``) from the corpus."""
        vocabulary, mapping = self.vocabulary.pruned(min_count, max_vocab_size)
        return self.remap(mapping, vocabulary)


def _as_1d(values: Any, dtype: type, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype != dtype:
        if dtype in (np.int32, np.int64) and arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
        if arr.size and arr.dtype.kind in "iu" and dtype is np.int32:
            info = np.iinfo(np.int32)
            if arr.min() < info.min or arr.max() > info.max:
                raise ValueError(f"{name} does not fit in int32")
        arr = arr.astype(dtype)
    return np.ascontiguousarray(arr)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each start and length, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    seq_of_token = np.repeat(np.arange(lengths.shape[0]), lengths)
    first_out = np.cumsum(lengths) - lengths
    return starts[seq_of_token] + (np.arange(total) - first_out[seq_of_token])


def _all_plain_arrays(sequences: list) -> bool:
    """True if every sequence is a 1-D numpy array of one numeric or str dtype kind."""
    kind = None
    for seq in sequences:
        if not isinstance(seq, np.ndarray) or seq.ndim != 1 or seq.dtype.kind not in "iuU":
            return False
        if kind is None:
            kind = seq.dtype.kind
        elif seq.dtype.kind != kind and {seq.dtype.kind, kind} != {"i", "u"}:
            return False
    return True


def _ordered_vocabulary(
    provisional_items: np.ndarray, counts: np.ndarray, first_seen: np.ndarray
) -> tuple[Vocabulary, np.ndarray]:
    """Vocabulary ordered by count descending then first appearance, and the recoding map."""
    order = np.lexsort((first_seen, -counts))
    rank = np.empty(order.shape[0], dtype=np.int32)
    rank[order] = np.arange(order.shape[0], dtype=np.int32)
    return Vocabulary(provisional_items[order], counts[order]), rank


def _encode_arrays(sequences: list[np.ndarray]) -> Sequences:
    lengths = np.fromiter((s.shape[0] for s in sequences), dtype=np.int64, count=len(sequences))
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(sequences)
    if flat.size == 0:
        return Sequences(np.zeros(0, np.int32), offsets, Vocabulary([], []))
    unique, first, inverse, counts = np.unique(
        flat, return_index=True, return_inverse=True, return_counts=True
    )
    vocabulary, rank = _ordered_vocabulary(unique, counts, first)
    return Sequences(rank[inverse.reshape(-1)], offsets, vocabulary)


def _encode_objects(sequences: Iterable[Iterable[Hashable]]) -> Sequences:
    index: dict[Any, int] = {}
    setdefault = index.setdefault
    flat: list[int] = []
    lengths: list[int] = []
    try:
        iterator = iter(sequences)
    except TypeError:
        raise TypeError(
            f"sequences must be an iterable of sequences, got {type(sequences).__name__}"
        ) from None
    for position, seq in enumerate(iterator):
        if isinstance(seq, str | bytes):
            raise TypeError(
                f"sequence {position} is a string ({seq[:20]!r}); pass a list of items, "
                f"e.g. list(s) or s.split()"
            )
        before = len(flat)
        try:
            # len(index) is read before setdefault inserts, so a new item gets the next code
            flat.extend([setdefault(item, len(index)) for item in seq])
        except TypeError as exc:
            if not hasattr(seq, "__iter__"):
                raise TypeError(
                    f"sequence {position} is not a sequence of items (got {type(seq).__name__})"
                ) from None
            raise TypeError(f"sequence {position} holds an unhashable item: {exc}") from None
        lengths.append(len(flat) - before)
    for item in index:
        if item is None or (isinstance(item, float | np.floating) and item != item):
            raise ValueError(f"item ids must not be None or NaN, found {item!r}")
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=offsets[1:])
    provisional = np.asarray(flat, dtype=np.int64)
    n_items = len(index)
    counts = np.bincount(provisional, minlength=n_items).astype(np.int64)
    # dicts keep insertion order, which is the provisional code order
    items = _as_item_array(list(index))
    vocabulary, rank = _ordered_vocabulary(items, counts, np.arange(n_items))
    return Sequences(rank[provisional], offsets, vocabulary)

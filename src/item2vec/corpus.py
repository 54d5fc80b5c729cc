"""Sequences: a compact CSR corpus of integer-coded item sequences."""

from __future__ import annotations

import itertools
import mmap
import os
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from item2vec._columns import (
    _column,
    _factorize,
    _id_codes,
    _id_rank,
    _time_column,
    time_gaps,
    time_order_key,
)
from item2vec._validation import check_limits
from item2vec.vocab import Vocabulary, _as_item_array

__all__ = ["RecodedSequences", "Sequences", "as_sequences", "training_corpus"]


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
    users : array of shape (n_sequences,), optional
        The user (or session key) each sequence belongs to.

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
        users: np.ndarray | None = None,
    ) -> None:
        self.codes = _as_1d(codes, np.int32, "codes")
        self.offsets = _as_1d(offsets, np.int64, "offsets")
        if not isinstance(vocabulary, Vocabulary):
            raise TypeError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
        self.vocabulary = vocabulary
        self.weights = None if weights is None else _as_1d(weights, np.float32, "weights")
        self.times = None if times is None else _as_1d(times, np.float64, "times")
        self.users = None if users is None else np.asarray(users).reshape(-1)
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
        # checked in blocks, and a memory-mapped array through reads of its file: the
        # temporaries stay small and the mapping itself stays untouched (not resident)
        if any(np.any(block[1:] < block[:-1]) for block in _blocks(self.offsets, overlap=1)):
            raise ValueError("offsets must be non-decreasing")
        if any(
            block.min() < 0 or block.max() >= len(self.vocabulary)
            for block in _blocks(self.codes)
            if block.shape[0]
        ):
            raise ValueError(f"codes must lie in [0, {len(self.vocabulary)})")
        for name in ("weights", "times"):
            extra = getattr(self, name)
            if extra is not None and extra.shape[0] != n_tokens:
                raise ValueError(
                    f"{name} must have one entry per token ({n_tokens}), got {extra.shape[0]}"
                )
        if self.users is not None and self.users.shape[0] != len(self):
            raise ValueError(
                f"users must have one entry per sequence ({len(self)}), got {self.users.shape[0]}"
            )
        if self.weights is not None:
            for block in _blocks(self.weights):
                if not np.isfinite(block).all():
                    raise ValueError("weights must be finite (no NaN or inf)")
                if np.any(block < 0):
                    raise ValueError("weights must be >= 0")
        if self.times is not None and not all(np.isfinite(b).all() for b in _blocks(self.times)):
            raise ValueError("times must be finite (no NaN or inf)")

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
        if type(sequences).__module__.startswith("scipy.sparse"):
            raise TypeError(
                "a sparse matrix holds no order of events; pass sequences of item ids (for a "
                "user x item matrix: [row.indices for row in matrix]) or an event table to "
                "Sequences.from_events"
            )
        if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
            sequences = list(sequences)
        if isinstance(sequences, list) and sequences and _all_plain_arrays(sequences):
            return _encode_arrays(sequences)
        return _encode_objects(sequences)

    @classmethod
    def from_events(
        cls,
        events: Any,
        user: str,
        item: str,
        time: str | None = None,
        weight: str | None = None,
        min_weight: float | None = None,
        session_gap: float | None = None,
        min_length: int = 1,
    ) -> Sequences:
        """Build one sequence per user (or session) from an event table.

        Parameters
        ----------
        events : pandas or polars DataFrame, pyarrow Table, dict of arrays, or 2-D array
            One row per event. A 2-D NumPy array's columns are named by number.
        user, item : str (or int for a 2-D array)
            Columns holding the user and item ids.
        time : str, optional
            Column of event times (numbers or datetimes; datetimes become
            seconds). Each user's events are ordered by it, ties keeping the
            table's order. Without it, the table's order is kept.
        weight : str, optional
            Column of event strengths (rating, dwell time, ...), kept as
            ``weights``; must be finite and >= 0.
        min_weight : float, optional
            Keep only events whose weight is >= this (e.g. rating >= 4).
        session_gap : float, optional
            Start a new sequence when the time since the user's previous
            event exceeds this (same unit as ``time``; seconds for datetimes).
        min_length : int, default=1
            Drop sequences shorter than this after filtering.

        Returns
        -------
        Sequences
            With ``users`` (the user of each sequence), ``times`` and
            ``weights`` when those columns are given.

        Notes
        -----
        The corpus depends on the events, not on the order of the table's
        rows (except among a user's events at equal times): sequences run
        by user id ascending, a user's sessions by time; the vocabulary by
        count descending, then item id ascending (numbers by value, str by
        code point). :func:`item2vec.build_corpus` builds the same arrays
        out of core. An id column must hold one type of id.

        Examples
        --------
        >>> events = {"user": [1, 1, 2, 1], "item": ["a", "b", "a", "c"], "t": [3, 1, 2, 2]}
        >>> Sequences.from_events(events, user="user", item="item", time="t").to_lists()
        [['b', 'c', 'a'], ['a']]
        """
        check_event_options(time, weight, min_weight, session_gap, min_length)
        # ids become integer codes first: everything after works on int arrays, and
        # string columns (pandas, Arrow) are hashed without a Python object per event
        user_codes_all, user_values = _id_codes(events, user)
        item_codes_all, item_values = _id_codes(events, item)
        check_limits(item_values.shape[0], item_codes_all.shape[0])
        n = user_codes_all.shape[0]
        if item_codes_all.shape[0] != n:
            raise ValueError(f"columns {user!r} and {item!r} differ in length")
        if n == 0:
            raise ValueError(NO_EVENTS)
        raw_times = times = None
        if time is not None:
            raw_times = _column(events, time)
            times = _time_column(raw_times, time)
        weights = None
        if weight is not None:
            weights = _column(events, weight)
            if weights.dtype.kind not in "iufb":
                raise TypeError(f"weight column {weight!r} must be numeric, got {weights.dtype}")
            weights = weights.astype(np.float64)
            if not np.all(np.isfinite(weights)):
                raise ValueError(f"weight column {weight!r} holds NaN or infinite values")
            if np.any(weights < 0):
                raise ValueError(f"weight column {weight!r} holds negative values")
        for name, column in (("time", times), ("weight", weights)):
            if column is not None and column.shape[0] != n:
                raise ValueError(f"the {name} column differs in length from the id columns")

        rows = np.arange(n)
        if min_weight is not None and weights is not None:
            rows = rows[weights >= min_weight]
        user_codes = user_codes_all[rows]
        # order: user id, then time, then table order (lexsort's last key is primary)
        by_id = _id_rank(user_values, user)[user_codes]
        # times order exactly (integers, datetimes in their own unit): as float seconds,
        # events a few nanoseconds apart would tie and keep the table's order instead
        keys = (
            (rows, by_id) if raw_times is None else (rows, time_order_key(raw_times)[rows], by_id)
        )
        order = np.lexsort(keys)
        rows, user_codes = rows[order], user_codes[order]
        starts = np.ones(rows.shape[0], dtype=bool)
        starts[1:] = user_codes[1:] != user_codes[:-1]
        if session_gap is not None and raw_times is not None:
            starts[1:] |= time_gaps(raw_times[rows]) > session_gap
        offsets = np.append(np.flatnonzero(starts), rows.shape[0]).astype(np.int64)
        lengths = np.diff(offsets)
        if min_length > 1:
            long_enough = lengths >= min_length
            token_keep = np.repeat(long_enough, lengths)
            rows = rows[token_keep]
            seq_users = user_codes[offsets[:-1][long_enough]]
            offsets = np.zeros(int(long_enough.sum()) + 1, dtype=np.int64)
            np.cumsum(lengths[long_enough], out=offsets[1:])
        else:
            seq_users = user_codes[offsets[:-1]]
        if rows.shape[0] == 0:
            raise ValueError(NOTHING_LEFT)
        codes, vocabulary = _canonical_codes(item_codes_all[rows], item_values, item)
        return cls(
            codes,
            offsets,
            vocabulary,
            None if weights is None else weights[rows].astype(np.float32),
            None if times is None else times[rows],
            user_values[seq_users],
        )

    # --- files ---------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], built_by: dict[str, Any] | None = None) -> None:
        """Write the corpus to a directory that :meth:`open` maps without copying.

        The write is atomic: a failed or interrupted one leaves no directory
        that opens as a corpus, and an earlier corpus at ``path`` survives
        it until the new one is complete. A path holding anything else than
        a corpus is refused.

        Parameters
        ----------
        path : str or path
            The directory to write (``codes.npy``, ``offsets.npy``, ...,
            ``header.json``).
        built_by : dict, optional
            How the corpus was built, kept in the header (JSON values).
        """
        from item2vec._corpus_files import CorpusWriter

        with CorpusWriter(path, opens=Sequences.open) as writer:
            arrays = {"codes": self.codes, "offsets": self.offsets,
                      "counts": self.vocabulary.counts, "weights": self.weights,
                      "times": self.times}  # fmt: skip
            dtypes = {"offsets": np.int64, "counts": np.int64, "codes": np.int32,
                      "weights": np.float32, "times": np.float64}  # fmt: skip
            for name, values in arrays.items():
                if values is not None:
                    writer.array(name, dtypes[name]).append(values)
            writer.ids("items", self.vocabulary.items)
            if self.users is not None:
                writer.ids("users", self.users)
            writer.commit(built_by or {"by": "Sequences.save"})

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Sequences:
        """Open a corpus directory written by :meth:`save` or :func:`~item2vec.build_corpus`.

        The token arrays are memory-mapped read-only: opening costs no copy,
        and training reads them from the page cache, so a corpus larger
        than memory can be trained on. The opened corpus answers from the
        files it opened, even once its directory is rebuilt or moved.

        Raises
        ------
        FileNotFoundError
            If the directory does not exist.
        ValueError
            If it is not a corpus, comes from a newer version, or is damaged
            (missing, truncated or inconsistent arrays, codes out of range,
            weights or times that are not finite, an item id that appears
            twice): ``"... is corrupt: <the reason>"``.
        """
        from item2vec._corpus_files import read_corpus

        arrays, _ = read_corpus(path)
        try:
            return cls(
                arrays["codes"], arrays["offsets"],
                Vocabulary(arrays["items"], arrays["counts"]),
                arrays.get("weights"), arrays.get("times"), arrays.get("users"),
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path} is corrupt: {exc}") from None

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
        """The sequences at ``indices`` (int positions, or a boolean mask of ``len(self)``).

        The items and codes stay the same; the counts are those of the subset.
        """
        idx = np.asarray(indices)
        n = len(self)
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise IndexError(f"a boolean mask must have length {n}, got shape {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.size and idx.dtype.kind not in "iu":
            raise TypeError(f"sequence indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"sequence index out of range for {n} sequences")
        idx = np.where(idx < 0, idx + n, idx)
        starts = self.offsets[idx]
        lengths = self.offsets[idx + 1] - starts
        offsets = np.zeros(idx.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        token_idx = _ranges(starts, lengths)
        codes = self.codes[token_idx]
        return Sequences(
            codes,
            offsets,
            self._recounted(codes),
            None if self.weights is None else self.weights[token_idx],
            None if self.times is None else self.times[token_idx],
            None if self.users is None else self.users[idx],
        )

    def remap(self, mapping: np.ndarray, vocabulary: Vocabulary) -> Sequences:
        """Recode tokens through ``mapping`` (old code -> new code, -1 drops the token).

        An identity mapping shares the arrays instead of copying them, so
        pruning that drops nothing costs no copy of a (memory-mapped) corpus.
        Otherwise the tokens are recoded a block at a time into arrays of the
        result's size: the memory needed is the result's and a few blocks.

        Raises
        ------
        ValueError
            If ``mapping`` does not hold one integer per item of this
            vocabulary, each -1 or a code of ``vocabulary``.
        """
        mapping = _checked_mapping(mapping, len(self.vocabulary), len(vocabulary))
        if np.array_equal(mapping, np.arange(mapping.shape[0])):
            return Sequences(
                self.codes, self.offsets, vocabulary, self.weights, self.times, self.users
            )
        offsets = _kept_offsets(self.codes, self.offsets, mapping >= 0)
        n_kept = int(offsets[-1])
        if n_kept == self.n_tokens:  # every token stays: only the codes change
            codes = np.empty(n_kept, dtype=np.int32)
            for start, block in _spans(self.codes):
                # "clip" writes straight to out ("raise" buffers); codes are checked in range
                np.take(mapping, block, out=codes[start : start + block.shape[0]], mode="clip")
            return Sequences(codes, self.offsets, vocabulary, self.weights, self.times, self.users)
        codes = np.empty(n_kept, dtype=np.int32)
        extras_names = ("weights", "times")
        extras = {
            name: (values, np.empty(n_kept, dtype=values.dtype))
            for name, values in zip(extras_names, (self.weights, self.times), strict=True)
            if values is not None
        }
        done = 0
        for start, block in _spans(self.codes):
            new = mapping[block]
            keep = new >= 0
            stop, end = start + block.shape[0], done + int(np.count_nonzero(keep))
            # (np.compress into out would first make 8-byte indices of the kept tokens)
            codes[done:end] = new[keep]
            for values, out in extras.values():
                with _released(values, start, stop) as span:
                    out[done:end] = span[keep]
            done = end
        weights, times = (extras[name][1] if name in extras else None for name in extras_names)
        return Sequences(codes, offsets, vocabulary, weights, times, self.users)

    def _recounted(self, codes: np.ndarray) -> Vocabulary:
        """This vocabulary with the counts of ``codes``, so counts always describe the tokens."""
        return self.vocabulary.with_counts(count_codes(codes, len(self.vocabulary)))

    def select_tokens(self, keep: np.ndarray) -> Sequences:
        """The corpus with only the tokens where ``keep`` is True (every sequence stays).

        The items and codes stay the same; the counts are those of the kept tokens.
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.codes.shape:
            raise ValueError(f"keep must have shape {self.codes.shape}, got {keep.shape}")
        kept_before = np.zeros(self.n_tokens + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        codes = self.codes[keep]
        return Sequences(
            codes,
            kept_before[self.offsets],
            self._recounted(codes),
            None if self.weights is None else self.weights[keep],
            None if self.times is None else self.times[keep],
            self.users,
        )

    def canonical(self) -> Sequences:
        """The corpus recoded as encoding it afresh would: items that occur,
        by count descending, then first appearance in the tokens."""
        present, first_at = np.unique(self.codes, return_index=True)
        by_appearance = present[np.argsort(first_at)]
        rank = np.full(len(self.vocabulary), -1, dtype=np.int32)
        rank[by_appearance] = np.arange(by_appearance.shape[0], dtype=np.int32)
        codes, vocabulary = _ordered_vocabulary(
            self.vocabulary.items[by_appearance], rank[self.codes]
        )
        return Sequences(codes, self.offsets, vocabulary, self.weights, self.times, self.users)

    def codes_in(self, vocabulary: Vocabulary) -> np.ndarray:
        """The tokens' codes in another vocabulary, as int64 (-1 where an item is unknown)."""
        if vocabulary is self.vocabulary or vocabulary.items is self.vocabulary.items:
            return self.codes.astype(np.int64)
        mapping = vocabulary.codes_of(self.vocabulary.items.tolist(), unknown="ignore")
        return mapping[self.codes] if self.n_tokens else np.zeros(0, dtype=np.int64)

    def pruned(self, min_count: int = 1, max_vocab_size: int | None = None) -> Sequences:
        """Drop items under ``min_count`` (and beyond ``max_vocab_size``) from the corpus.

        Counts are taken from the tokens themselves, whatever the vocabulary
        says, so items absent from this corpus never survive.
        """
        return self.pruned_with_mapping(min_count, max_vocab_size)[0]

    def pruned_with_mapping(
        self, min_count: int = 1, max_vocab_size: int | None = None
    ) -> tuple[Sequences, np.ndarray]:
        """:meth:`pruned`, and the mapping from old codes to new ones (-1: dropped)."""
        vocabulary, mapping = self._recounted(self.codes).pruned(min_count, max_vocab_size)
        return self.remap(mapping, vocabulary), mapping

    def pruned_lazily(
        self, min_count: int = 1, max_vocab_size: int | None = None
    ) -> tuple[Sequences | RecodedSequences, np.ndarray]:
        """:meth:`pruned_with_mapping`, with the tokens recoded only when read.

        A pruning that drops or moves an item gives a
        :class:`RecodedSequences`: the pruned corpus's offsets and vocabulary,
        its tokens recoded a block of sequences at a time. Training reads
        them so: a large (memory-mapped) corpus is pruned without a copy of
        its tokens. A pruning that changes nothing gives this corpus's arrays.
        """
        vocabulary, mapping = self._recounted(self.codes).pruned(min_count, max_vocab_size)
        if np.array_equal(mapping, np.arange(mapping.shape[0])):
            return self.remap(mapping, vocabulary), mapping
        return RecodedSequences(self, mapping, vocabulary), mapping

    def _without(self, weights: bool = False, times: bool = False) -> Sequences:
        """The corpus without its weights and (or) times, sharing the other arrays,
        so what does not need them does not recode or copy them."""
        return Sequences._trusted(
            self.codes, self.offsets, self.vocabulary,
            None if weights else self.weights, None if times else self.times, self.users,
        )  # fmt: skip

    @classmethod
    def _trusted(
        cls, codes: np.ndarray, offsets: np.ndarray, vocabulary: Vocabulary,
        weights: np.ndarray | None = None, times: np.ndarray | None = None,
        users: np.ndarray | None = None,
    ) -> Sequences:  # fmt: skip
        """A corpus of arrays derived from a checked corpus, of the right dtypes and
        consistent by construction: not scanned again."""
        corpus = cls.__new__(cls)
        corpus.codes, corpus.offsets, corpus.vocabulary = codes, offsets, vocabulary
        corpus.weights, corpus.times, corpus.users = weights, times, users
        return corpus


class RecodedSequences:
    """A corpus's tokens recoded through a mapping, made a block of sequences at a time.

    What ``source.remap(mapping, vocabulary)`` holds, without holding it:
    the offsets (one per sequence) and the vocabulary are computed at once,
    the recoded tokens only for the sequences asked for (:meth:`block`).
    The training driver reads a corpus so, block after block, and a large
    memory-mapped corpus is trained after pruning without a recoded copy
    of its tokens (:meth:`Sequences.pruned_lazily`).

    Parameters
    ----------
    source : Sequences
        The corpus in its own codes.
    mapping : int array of shape (len(source.vocabulary),)
        Old code -> new code; -1 drops the item's tokens.
    vocabulary : Vocabulary
        The vocabulary of the new codes.

    Examples
    --------
    >>> corpus = Sequences.from_iterable([["a", "b", "a"], ["c", "b"]])
    >>> pruned, mapping = corpus.pruned_lazily(min_count=2)
    >>> pruned.n_tokens, pruned.offsets.tolist()
    (4, [0, 3, 4])
    >>> pruned.materialized().to_lists() == corpus.pruned(min_count=2).to_lists()
    True
    """

    def __init__(self, source: Sequences, mapping: np.ndarray, vocabulary: Vocabulary) -> None:
        if not isinstance(source, Sequences):
            raise TypeError(f"source must be a Sequences, got {type(source).__name__}")
        self.source = source
        self.mapping = _checked_mapping(mapping, len(source.vocabulary), len(vocabulary))
        self.vocabulary = vocabulary
        self.offsets = _kept_offsets(source.codes, source.offsets, self.mapping >= 0)

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def n_tokens(self) -> int:
        """Number of tokens left after recoding."""
        return int(self.offsets[-1])

    def __repr__(self) -> str:
        return (
            f"RecodedSequences(n_sequences={len(self)}, n_tokens={self.n_tokens}, "
            f"n_items={len(self.vocabulary)})"
        )

    def block(self, seq_begin: int, seq_end: int) -> Sequences:
        """Sequences ``seq_begin <= s < seq_end``, recoded, as a corpus of their own
        (offsets from 0), with their weights and times."""
        if not 0 <= seq_begin <= seq_end <= len(self):
            raise IndexError(
                f"sequence range [{seq_begin}, {seq_end}) outside 0..{len(self)} sequences"
            )
        source = self.source
        start, stop = int(source.offsets[seq_begin]), int(source.offsets[seq_end])
        with _released(source.codes, start, stop) as span:
            new = self.mapping[span]
        keep = new >= 0
        every = bool(keep.all())

        def tokens(values: np.ndarray | None) -> np.ndarray | None:
            if values is None:
                return None
            with _released(values, start, stop) as span:
                return np.array(span) if every else span[keep]

        offsets = self.offsets[seq_begin : seq_end + 1] - self.offsets[seq_begin]
        return Sequences._trusted(
            new if every else new[keep], offsets, self.vocabulary,
            tokens(source.weights), tokens(source.times),
            None if source.users is None else source.users[seq_begin:seq_end],
        )  # fmt: skip

    def item_counts(self) -> np.ndarray:
        """How often each new code occurs in the recoded tokens (int64), counted from
        the source's codes a block at a time."""
        old = count_codes(self.source.codes, len(self.source.vocabulary))
        kept = self.mapping >= 0
        counts = np.zeros(len(self.vocabulary), dtype=np.int64)
        np.add.at(counts, self.mapping[kept], old[kept])
        return counts

    def materialized(self) -> Sequences:
        """The recoded corpus in memory: ``source.remap(mapping, vocabulary)``."""
        return self.source.remap(self.mapping, self.vocabulary)


# what every corpus builder (in memory, DuckDB, Spark) says of a log that gives no corpus
NO_EVENTS = "the event log holds no events"
NOTHING_LEFT = "no sequence is left after the weight and length filters"


def check_event_options(
    time: str | None, weight: str | None, min_weight: float | None,
    session_gap: float | None, min_length: int, min_count: int = 1,
) -> None:  # fmt: skip
    """The rules between the options of every corpus builder (in memory, DuckDB, Spark)."""
    if session_gap is not None and time is None:
        raise ValueError("session_gap needs a time column")
    if session_gap is not None and not session_gap >= 0:
        raise ValueError(f"session_gap must be >= 0, got {session_gap}")
    if min_weight is not None and weight is None:
        raise ValueError("min_weight needs a weight column")
    if min_weight is not None and (
        isinstance(min_weight, bool)
        or not isinstance(min_weight, int | float | np.integer | np.floating)
        or min_weight != min_weight
    ):
        raise ValueError(f"min_weight must be a number (not NaN), got {min_weight!r}")
    for name, value in (("min_length", min_length), ("min_count", min_count)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def as_sequences(X: Iterable[Iterable[Hashable]] | Sequences) -> Sequences:
    """``X`` as a :class:`Sequences` corpus: the one way every input is read.

    A :class:`Sequences` is returned as it is; lists of lists, any iterable
    of sequences (read once) and lists of NumPy arrays are encoded.
    """
    return Sequences.from_iterable(X)


def training_corpus(
    X: Iterable[Iterable[Hashable]] | Sequences,
    *,
    use_weights: bool = False,
    needs_times: bool = False,
) -> Sequences:
    """``X`` as a corpus to train on: not empty, with what the options need.

    With ``use_weights`` the corpus must carry weights, and events of weight
    0 are removed and the rest recoded as if encoded without them, so zero
    weight is exactly absence. ``needs_times`` asks for event times.
    """
    corpus = as_sequences(X)
    if len(corpus) == 0 or corpus.n_tokens == 0:
        raise ValueError("X is empty: training needs at least one non-empty sequence of items")
    if use_weights:
        if corpus.weights is None:
            raise ValueError(
                "use_weights=True needs event weights: pass Sequences with weights "
                "(e.g. Sequences.from_events(..., weight='rating'))"
            )
        if not corpus.weights.all():
            corpus = corpus.select_tokens(corpus.weights > 0).canonical()
            if corpus.n_tokens == 0:
                raise ValueError("every event has weight 0: nothing to train on")
    if needs_times and corpus.times is None:
        raise ValueError(
            "time_decay and time_window need event times: pass Sequences with times "
            "(e.g. Sequences.from_events(..., time='timestamp'))"
        )
    return corpus


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


def count_codes(codes: np.ndarray, n_items: int) -> np.ndarray:
    """How often each code occurs, as int64, in blocks (``np.bincount`` would first copy
    int32 codes to int64: 8 bytes a token, gigabytes for a large memory-mapped corpus)."""
    counts = np.zeros(n_items, dtype=np.int64)
    for block in _blocks(codes):
        counts += np.bincount(block, minlength=n_items)[:n_items]
    return counts


# Tokens per block of a scan (validation, counts, recoding): its temporaries are a few
# times this, whatever the size of the corpus.
BLOCK_TOKENS = 1 << 22


def _checked_mapping(mapping: Any, n_old: int, n_new: int) -> np.ndarray:
    """``mapping`` (old code -> new code, -1: dropped) as int32, checked once, so the
    codes it gives need no scan."""
    mapping = np.asarray(mapping)
    if mapping.shape != (n_old,) or (mapping.size and mapping.dtype.kind not in "iu"):
        raise ValueError(
            f"mapping must hold one integer code per item ({n_old}), got an array of "
            f"shape {mapping.shape} and dtype {mapping.dtype}"
        )
    if mapping.size and (mapping.min() < -1 or mapping.max() >= n_new):
        raise ValueError(f"mapping must map every item to -1 or a code in [0, {n_new})")
    return mapping.astype(np.int32, copy=False)


def _kept_offsets(codes: np.ndarray, offsets: np.ndarray, kept_item: np.ndarray) -> np.ndarray:
    """``offsets`` once the tokens of the items not in ``kept_item`` are dropped, counted
    a block of tokens at a time from the positions of the dropped ones (no array of one
    entry per token: a block's temporaries are a byte per token and 8 per dropped one)."""
    out = np.empty(offsets.shape[0], dtype=np.int64)
    dropped_before = at = 0  # tokens dropped before the block; offsets placed so far
    for start, block in _spans(codes):
        stop = start + block.shape[0]
        upto = at + int(np.searchsorted(offsets[at:], stop, side="left"))
        dropped = np.flatnonzero(~kept_item[block])  # in the block, ascending
        inside = offsets[at:upto] - start
        out[at:upto] = offsets[at:upto] - dropped_before - np.searchsorted(dropped, inside)
        dropped_before += dropped.shape[0]
        at = upto
    out[at:] = offsets[at:] - dropped_before  # the offsets at the end of the tokens
    return out


def _blocks(values: np.ndarray, size: int | None = None, overlap: int = 0) -> Iterator[np.ndarray]:
    """``values`` in consecutive blocks (each sharing ``overlap`` entries with the next),
    for scans whose temporaries must stay small. A block of a memory-mapped array is
    copied out of the mapping, whose pages are then released where the platform can
    (``madvise``): a scan does not leave the mapping resident, which would count the
    whole file in the process's memory. The mapping is read, never the file by its
    name, so the values are those that were opened even once the file is replaced."""
    size = BLOCK_TOKENS if size is None else size
    step = size - overlap
    mapped = _backing_file(values) is not None
    for i in range(0, max(values.shape[0] - overlap, 1), step):
        with _released(values, i, i + size) as span:
            yield span.copy() if mapped else span


def _spans(values: np.ndarray, size: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``values`` in consecutive blocks with their starts, as views: a memory-mapped
    block's pages are released once the next block is asked for, so use each before
    asking for the next (see :func:`_released`)."""
    size = BLOCK_TOKENS if size is None else size
    for i in range(0, values.shape[0], size):
        with _released(values, i, i + size) as span:
            yield i, span


@contextmanager
def _released(values: np.ndarray, start: int, stop: int) -> Iterator[np.ndarray]:
    """``values[start:stop]``, whose pages, if memory-mapped, are released (``madvise``)
    once the block ends: a scan does not leave the mapping resident (see
    :func:`_blocks`). Reading the view again later is safe (a page read again comes
    back from the file) but makes it resident again."""
    span = values[start:stop]
    try:
        yield span
    finally:
        mapped = _backing_file(values)
        if mapped is not None and span.nbytes:
            mapping, offset = mapped
            first = offset + start * values.itemsize
            page = first - first % mmap.PAGESIZE  # madvise takes whole pages
            try:
                mapping.madvise(mmap.MADV_DONTNEED, page, first + span.nbytes - page)
            except OSError:  # a file system that cannot: the pages stay, the values are right
                pass


def _backing_file(values: np.ndarray) -> tuple[mmap.mmap, int] | None:
    """The read-only mapping behind a contiguous view of a ``np.memmap`` and the view's
    byte offset in it, where the mapping's pages can be released (``MADV_DONTNEED``);
    for a read-only shared mapping that drops no data: a page read again comes back
    from the file the mapping holds open."""
    if not values.flags.c_contiguous or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    base: Any = values
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    if base is None or not memoryview(base).readonly:  # copy-on-write pages would be lost
        return None
    start = values.ctypes.data - np.frombuffer(base, dtype=np.uint8).ctypes.data
    if not 0 <= start <= len(base) - values.nbytes:
        return None
    return base, start


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each start and length, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    seq_of_token = np.repeat(np.arange(lengths.shape[0]), lengths)
    first_out = np.cumsum(lengths) - lengths
    return starts[seq_of_token] + (np.arange(total) - first_out[seq_of_token])


def _all_plain_arrays(sequences: list[Any]) -> bool:
    """True if every sequence is a 1-D numpy array of one numeric or str dtype kind."""
    kind = None
    for seq in sequences:
        if not isinstance(seq, np.ndarray) or seq.ndim != 1 or seq.dtype.kind not in "iuU":
            return False
        if kind is None:
            kind = seq.dtype.kind
        elif seq.dtype.kind != kind:  # e.g. int64 with uint64 would promote to float
            return False
    return True


def _ordered_vocabulary(items: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, Vocabulary]:
    """Recode ``codes`` (indices into ``items``, numbered in order of first appearance)
    so the vocabulary runs by count descending, then first appearance."""
    counts = np.bincount(codes, minlength=items.shape[0]).astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(order.shape[0], dtype=np.int32)
    rank[order] = np.arange(order.shape[0], dtype=np.int32)
    return rank[codes], Vocabulary(items[order], counts[order])


def _encode_arrays(sequences: list[np.ndarray]) -> Sequences:
    lengths = np.fromiter((s.shape[0] for s in sequences), dtype=np.int64, count=len(sequences))
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(sequences)
    if flat.size == 0:
        return Sequences(np.zeros(0, np.int32), offsets, Vocabulary([], []))
    codes, values = _factorize(flat)
    codes, vocabulary = _ordered_vocabulary(values, codes)
    return Sequences(codes, offsets, vocabulary)


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
    check_limits(len(index), len(flat))
    for item in index:
        if _is_missing(item):
            raise ValueError(
                f"item ids must not be None or NaN, found {item!r} (missing values are refused)"
            )
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=offsets[1:])
    # dicts keep insertion order, which is the provisional code order
    codes, vocabulary = _ordered_vocabulary(
        _as_item_array(list(index)), np.asarray(flat, dtype=np.int64)
    )
    return Sequences(codes, offsets, vocabulary)


def _is_missing(item: Any) -> bool:
    """None, NaN, and pandas' NA and NaT (which are unequal to themselves or ambiguous)."""
    if item is None or (isinstance(item, float | np.floating) and item != item):
        return True
    kind = type(item).__name__
    return kind in ("NAType", "NaTType") or (
        isinstance(item, np.datetime64 | np.timedelta64) and bool(np.isnat(item))
    )


def _canonical_codes(
    provisional: np.ndarray, values: np.ndarray, name: str
) -> tuple[np.ndarray, Vocabulary]:
    """Codes and vocabulary of coded events, by count descending, then id ascending.

    ``provisional`` indexes ``values``; ids that do not occur are left out.
    The order depends on the events alone, never on their order in a table.
    """
    counts = np.bincount(provisional, minlength=values.shape[0]).astype(np.int64)
    present = np.flatnonzero(counts)
    order = present[np.lexsort((_id_rank(values, name)[present], -counts[present]))]
    code_of = np.full(values.shape[0], -1, dtype=np.int32)
    code_of[order] = np.arange(order.shape[0], dtype=np.int32)
    return code_of[provisional], Vocabulary(values[order], counts[order])

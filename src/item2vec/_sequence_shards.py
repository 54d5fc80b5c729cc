"""Sorted events into sequences, written as shards of scratch files, then merged into
a corpus: the streaming half of ``build_corpus``, shared by DuckDB and Spark.

Events arrive sorted by user, time and input order, in batches of any size. Each
shard (one for DuckDB, one per partition on Spark) cuts them into sequences,
writes the tokens with *provisional* item ids (ids numbered in id order) to
scratch files and counts the items. The merge then numbers the items by count
descending, then id ascending (the provisional order breaks the ties), drops
those under ``min_count`` and writes the corpus, reading every scratch file in
bounded blocks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from item2vec._columns import time_gaps, time_seconds
from item2vec._corpus_files import CorpusWriter, NpyAppender
from item2vec.corpus import NO_EVENTS, NOTHING_LEFT, _blocks
from item2vec.vocab import _as_item_array

__all__ = ["BATCH_ROWS", "Shard", "concatenated_ids", "merge_shards", "refuse_bad_events"]

BATCH_ROWS = 1 << 20


class Shard:
    """Sequences cut from sorted events, their tokens in scratch files in ``folder``.

    Feed it batches with :meth:`feed` (columns: user, provisional item id, time,
    weight), then :meth:`finish`.
    """

    def __init__(self, folder: Path, timed: bool, weighted: bool, session_gap: float | None = None,
                 min_length: int = 1) -> None:  # fmt: skip
        self.pids = NpyAppender(folder / "pids.npy", np.int32)
        self.times = NpyAppender(folder / "times.npy", np.float64) if timed else None
        self.weights = NpyAppender(folder / "weights.npy", np.float32) if weighted else None
        self.folder = folder
        self.session_gap, self.min_length = session_gap, min_length
        # the last sequence of a batch may go on in the next ones: its pieces wait
        # here, and are joined once a batch brings its end (never re-joined batch
        # after batch, which would be quadratic in a very long sequence)
        self._pieces: list[list[np.ndarray]] = []
        self.lengths: list[np.ndarray] = []
        self.uids: list[np.ndarray] = []
        self.counts = np.zeros(0, dtype=np.int64)
        self.n_tokens = 0

    @property
    def n_sequences(self) -> int:
        return sum(part.shape[0] for part in self.lengths)

    def add(self, uid: np.ndarray, pid: np.ndarray, t: np.ndarray | None,
            w: np.ndarray | None, lengths: np.ndarray) -> None:  # fmt: skip
        """Append whole sequences (``lengths`` of them, covering all tokens given)."""
        self.pids.append(pid)
        self.n_tokens += pid.shape[0]
        if self.times is not None and t is not None:
            self.times.append(t)
        if self.weights is not None and w is not None:
            self.weights.append(w)
        starts = np.cumsum(lengths) - lengths
        self.lengths.append(lengths)
        self.uids.append(uid[starts])
        counts = np.bincount(pid, minlength=self.counts.shape[0])
        counts[: self.counts.shape[0]] += self.counts
        self.counts = counts

    def feed(self, columns: list[np.ndarray]) -> None:
        """Take the next sorted events: user, provisional id, time, weight.

        Times come as read (integers, floats, or datetimes in their own unit): sessions
        are cut on their exact gaps and they are stored as seconds, by the rules of
        :meth:`Sequences.from_events` (``item2vec._columns``).
        """
        if not columns[0].shape[0]:
            return
        if self._pieces and not _ends_in(self._pieces[-1], columns, self.session_gap):
            self._pieces.append(columns)
            return
        if self._pieces:
            columns = [np.concatenate(parts) for parts in zip(*self._pieces, columns, strict=True)]
        rest = _cut(self, columns, self.session_gap, self.min_length, final=False)
        self._pieces = [rest] if rest is not None and rest[0].shape[0] else []

    def finish(self) -> None:
        """Cut the last sequence and close the scratch files."""
        try:
            if self._pieces:
                columns = [np.concatenate(parts) for parts in zip(*self._pieces, strict=True)]
                _cut(self, columns, self.session_gap, self.min_length, final=True)
                self._pieces = []
        finally:
            self.close()

    def close(self) -> None:
        for appender in (self.pids, self.times, self.weights):
            if appender is not None:
                appender.close()

    def write_summary(self) -> None:
        """Save what the merge needs besides the token files (for shards of other
        processes): lengths, counts and the user of every sequence."""
        np.save(self.folder / "lengths.npy", np.concatenate([np.zeros(0, np.int64), *self.lengths]))
        np.save(self.folder / "counts.npy", self.counts)
        users = concatenated_ids(self.uids)
        if users.dtype == object:  # str ids (or Python ints beyond int64): as JSON
            (self.folder / "users.json").write_text(json.dumps(users.tolist()))
        else:
            np.save(self.folder / "users.npy", users, allow_pickle=False)

    @classmethod
    def read(cls, folder: Path) -> Shard:
        """A finished shard written by another process, from its :meth:`write_summary`."""
        shard = cls.__new__(cls)  # finished: what the merge reads, no scratch writers
        shard.folder = folder
        shard.lengths = [np.load(folder / "lengths.npy")]
        shard.counts = np.load(folder / "counts.npy")
        if (folder / "users.json").exists():
            shard.uids = [_as_item_array(json.loads((folder / "users.json").read_text()))]
        else:
            shard.uids = [np.load(folder / "users.npy")]
        shard.n_tokens = int(shard.lengths[0].sum())
        shard._pieces = []
        return shard


def refuse_bad_events(
    counts: Sequence[Any], user: str, item: str, time: str | None, weight: str | None
) -> int:
    """Raise for what a build must refuse, from one pass's counts (events, null users,
    null items, bad times, bad weights, negative weights); returns the number of events."""
    n, null_users, null_items, bad_times, bad_weights, negative = (int(v or 0) for v in counts)
    if n == 0:
        raise ValueError(NO_EVENTS)
    if null_users or null_items:
        raise ValueError(f"column {user if null_users else item!r} holds missing ids (null)")
    if time is not None and bad_times:
        raise ValueError(
            f"time column {time!r} holds {bad_times:,} missing, NaN or infinite values"
        )
    if weight is not None and bad_weights:
        raise ValueError(
            f"weight column {weight!r} holds {bad_weights:,} missing, NaN or infinite values"
        )
    if weight is not None and negative:
        raise ValueError(f"weight column {weight!r} holds negative values")
    return n


def concatenated_ids(parts: list[np.ndarray]) -> np.ndarray:
    """Ids in pieces as one plain array: native dtypes kept, objects as Python values."""
    if not parts:
        return np.zeros(0, dtype=np.int64)
    values = np.concatenate(parts)
    return _as_item_array(values.tolist()) if values.dtype == object else values


def merge_shards(
    writer: CorpusWriter, shards: Sequence[Shard], item_ids: np.ndarray, users: np.ndarray,
    min_count: int,
) -> None:  # fmt: skip
    """Recode the provisional ids by count, drop rare items, and write every array.

    ``item_ids`` are the ids behind the provisional ids; ``users`` the user of
    every sequence of the shards, in order.
    """
    n_items = item_ids.shape[0]
    counts = np.zeros(n_items, dtype=np.int64)
    for shard in shards:
        counts[: shard.counts.shape[0]] += shard.counts
    if not counts.any():
        raise ValueError(NOTHING_LEFT)
    pid = np.arange(n_items)
    kept = pid[counts >= min_count]
    order = kept[np.lexsort((kept, -counts[kept]))]  # count descending, then id ascending
    code_of = np.full(n_items, -1, dtype=np.int32)
    code_of[order] = np.arange(order.shape[0], dtype=np.int32)
    writer.ids("items", item_ids[order])
    writer.array("counts", np.int64).append(counts[order])
    lengths = np.concatenate([np.zeros(0, np.int64), *(part for s in shards for part in s.lengths)])
    offsets = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    del lengths
    extras = [name for name in ("times", "weights") if (shards[0].folder / f"{name}.npy").exists()]
    out = {name: writer.array(name, np.float64 if name == "times" else np.float32)
           for name in extras}  # fmt: skip
    out["codes"] = writer.array("codes", np.int32)
    dropping = order.shape[0] < np.count_nonzero(counts)
    new_offsets = offsets.copy() if dropping else offsets
    start = 0  # tokens before the current block, over all shards
    n_kept = 0  # of which kept
    for shard in shards:
        scratch = [np.load(shard.folder / f"{name}.npy", mmap_mode="r")
                   for name in ("pids", *extras)]  # fmt: skip
        for pids, *values in zip(*(_blocks(a, BATCH_ROWS) for a in scratch), strict=True):
            if not pids.shape[0]:
                continue
            codes = code_of[pids]
            keep = codes >= 0
            out["codes"].append(codes[keep])
            for name, column in zip(extras, values, strict=True):
                out[name].append(column[keep])
            if dropping:  # the offsets that end in this block: tokens kept up to them
                first = np.searchsorted(offsets, start + 1, "left")
                last = np.searchsorted(offsets, start + pids.shape[0], "right")
                kept_up_to = np.cumsum(keep)
                new_offsets[first:last] = n_kept + kept_up_to[offsets[first:last] - start - 1]
                n_kept += int(kept_up_to[-1])
            start += pids.shape[0]
        del scratch
    writer.array("offsets", np.int64).append(new_offsets)
    writer.ids("users", users)


def _ends_in(before: list[np.ndarray], columns: list[np.ndarray], gap: float | None) -> bool:
    """Whether a new sequence starts in ``columns`` (which follow the events ``before``)."""
    uid, t = columns[0], columns[2]
    if uid[0] != before[0][-1] or uid[-1] != uid[0]:  # sorted by user: ends equal, all equal
        return True
    return gap is not None and bool(np.any(time_gaps(np.concatenate([before[2][-1:], t])) > gap))


def _cut(
    built: Shard, columns: list[np.ndarray], session_gap: float | None, min_length: int,
    final: bool,
) -> list[np.ndarray] | None:  # fmt: skip
    """Add the complete sequences of sorted events to ``built``; return the rest (the
    last sequence, which may go on in the next batch) unless ``final``."""
    uid, pid, t, w = columns
    n = uid.shape[0]
    starts = np.ones(n, dtype=bool)
    starts[1:] = uid[1:] != uid[:-1]
    if session_gap is not None:
        starts[1:] |= time_gaps(t) > session_gap
    bounds = np.append(np.flatnonzero(starts), n)
    end = n if final else int(bounds[-2])  # the last sequence may not be complete yet
    done = bounds[bounds <= end]
    lengths = np.diff(done)
    keep = lengths >= min_length
    tokens = np.repeat(keep, lengths)
    if keep.any():
        built.add(
            uid[:end][tokens], pid[:end][tokens].astype(np.int32, copy=False),
            time_seconds(t[:end][tokens]) if built.times is not None else None,
            w[:end][tokens].astype(np.float32) if built.weights is not None else None,
            lengths[keep],
        )  # fmt: skip
    return None if final else [column[end:] for column in columns]

"""The training driver: chunks, threads, stop flag, learning-rate schedule, progress.

It runs the compiled kernels over a :class:`~item2vec.Sequences` corpus and
writes the weight matrices in place; it knows nothing of the estimator, so it
can be called and tested on its own.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from item2vec._kernels import core as _core
from item2vec.corpus import RecodedSequences, Sequences, count_codes
from item2vec.vocab import Vocabulary

__all__ = [
    "BLOCK_TOKENS",
    "CHUNK_TOKENS",
    "TrainingRecord",
    "chunk_bounds",
    "initial_vectors",
    "noise_table",
    "padded_rows",
    "seed_from",
    "train",
]

# Tokens per kernel call: large enough that Python's share between calls is
# negligible, small enough to spread work over threads and report progress.
CHUNK_TOKENS = 32768
# Tokens of a recoded corpus (RecodedSequences) made at once: a block is recoded while
# the threads train the one before it, so about three blocks are in memory at a time.
BLOCK_TOKENS = 1 << 21
_UINT64 = (1 << 64) - 1


@dataclasses.dataclass
class TrainingRecord:
    """What continued training needs besides the vectors.

    Attributes
    ----------
    seed : int
        The seed of the first fit; updates derive theirs from it.
    n_updates : int
        ``update`` calls so far.
    pending_counts : dict
        Counts of items seen but still under ``min_count``.
    loss_history : list of float
        Mean loss per prediction event, one value per epoch.
    """

    seed: int = 0
    n_updates: int = 0
    pending_counts: dict[Any, int] = dataclasses.field(default_factory=dict)
    loss_history: list[float] = dataclasses.field(default_factory=list)

    def update_seed(self) -> int:
        """The seed of the next ``update``."""
        return (self.seed * 0x9E3779B97F4A7C15 + self.n_updates + 1) & _UINT64


def noise_table(vocabulary: Vocabulary, ns_exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Alias table (threshold, alias) of the vocabulary's noise distribution, for O(1) draws."""
    prob = vocabulary.noise_distribution(ns_exponent)
    return _core.build_alias(np.ascontiguousarray(prob))


def chunk_bounds(offsets: np.ndarray, target: int) -> list[tuple[int, int, int, int]]:
    """Runs of about ``target`` tokens, as (seq_begin, seq_end, tok_begin, tok_end)."""
    n_seqs = offsets.shape[0] - 1
    total = int(offsets[-1])
    cuts = np.searchsorted(offsets, np.arange(target, total, target), side="left")
    bounds = np.unique(np.concatenate(([0], cuts, [n_seqs])))
    return [
        (int(a), int(b), int(offsets[a]), int(offsets[b]))
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]


def effective_n_jobs(n_jobs: int | None) -> int:
    """Threads for ``n_jobs``: None or -1 all cores, -2 all but one, ..."""
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return cores
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return int(n_jobs)


def seed_from(random_state: Any) -> int:
    """A 64-bit seed from ``random_state`` (None: fresh entropy)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)


_LINE_FLOATS = 16  # floats in a 64-byte cache line
_ROWS_AT_ONCE = 65536  # rows of random numbers drawn at a time by initial_vectors


def row_stride(dim: int) -> int:
    """Floats from one weight row to the next while training: ``dim`` rounded up
    to the multiple the kernel computes on whole (``ROW_FLOATS``: 8 floats, one
    AVX2 register, in the AVX2 build; no padding in the others)."""
    return -(-dim // _core.ROW_FLOATS) * _core.ROW_FLOATS


def padded_rows(n_items: int, dim: int) -> np.ndarray:
    """Zeros of shape (n_items, dim) laid out for the kernel: rows of
    :func:`row_stride` floats, the first starting on a 64-byte cache line (so
    with AVX2 no 8-float block of a row straddles two lines).

    Where the stride exceeds ``dim``, the result is a view of the first ``dim``
    columns of a zero (n_items, stride) array; :func:`whole_rows` gives the
    padded rows back to the kernels, and every other reader sees only the view.
    """
    stride = row_stride(dim)
    raw = np.zeros(n_items * stride + _LINE_FLOATS, dtype=np.float32)
    first = (-raw.ctypes.data % 64) // raw.itemsize  # numpy aligns to at least 16 bytes
    return raw[first : first + n_items * stride].reshape(n_items, stride)[:, :dim]


def whole_rows(rows: np.ndarray) -> np.ndarray:
    """The array of whole rows, padding included, whose first columns ``rows`` is.

    ``rows`` is either C-contiguous (returned as it is) or made by
    :func:`padded_rows`: a view with unit column steps whose owner holds
    every row's padding too (checked, so the kernels never reach past it).
    """
    if rows.flags.c_contiguous or rows.shape[0] == 0:
        return rows
    step, item = rows.strides[0], rows.itemsize
    owner = rows.base
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    start = rows.ctypes.data
    if (
        rows.strides[1] != item
        or step % item
        or not isinstance(owner, np.ndarray)
        or not owner.flags.c_contiguous
        or start < owner.ctypes.data
        or start + rows.shape[0] * step > owner.ctypes.data + owner.nbytes
    ):
        raise ValueError("weight rows must be C-contiguous or made by padded_rows")
    return np.lib.stride_tricks.as_strided(rows, (rows.shape[0], step // item), (step, item))


def initial_vectors(n_items: int, dim: int, seed: int) -> np.ndarray:
    """Uniform in [-1, 1) / dim, as gensim 4 starts, in :func:`padded_rows`.

    On planted clusters with heavy noise this gave CBOW precision@10 0.69
    against 0.65 for word2vec.c's [-0.5, 0.5) / dim.
    """
    vectors = padded_rows(n_items, dim)
    rng = np.random.default_rng(seed)
    # drawn a block of rows at a time: the same stream of numbers as one draw of
    # the whole matrix, without a second unpadded copy of it
    for first in range(0, n_items, _ROWS_AT_ONCE):
        block = rng.random((min(_ROWS_AT_ONCE, n_items - first), dim), dtype=np.float32)
        block -= np.float32(0.5)
        block *= np.float32(2.0 / dim)
        vectors[first : first + len(block)] = block
    return vectors


def _noise_tables(vocab: Vocabulary, params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    """Subsampling keep-probabilities and the noise alias table, made once per fit."""
    keep = vocab.keep_probabilities(float(params["sample"]))
    threshold, alias = noise_table(vocab, float(params["ns_exponent"]))
    return keep, threshold, alias


def _kernel_setup(
    vectors: np.ndarray, output: np.ndarray, corpus: Sequences, params: Mapping[str, Any],
    tables: tuple[np.ndarray, ...] | None = None,
) -> Any:  # fmt: skip
    """The kernel's per-fit setup: validated arrays, packed noise table, options."""
    keep, threshold, alias = _noise_tables(corpus.vocabulary, params) if tables is None else tables
    weights = times = None
    if params["use_weights"] and corpus.weights is not None and corpus.n_tokens:
        mean = corpus.weights.mean(dtype=np.float64)
        weights = np.ascontiguousarray(corpus.weights / mean, np.float32)
    time_decay, time_window = params["time_decay"], params["time_window"]
    if time_decay is not None or time_window is not None:
        times = np.ascontiguousarray(corpus.times, dtype=np.float64)
    session = params["window"] == "session"
    return _core.TrainingSetup(
        whole_rows(vectors), whole_rows(output), corpus.codes, corpus.offsets,
        keep, threshold, alias,
        sg=bool(params["sg"]), cbow_mean=bool(params["cbow_mean"]),
        window=1 if session else int(params["window"]),
        shrink_windows=bool(params["shrink_windows"]), negative=int(params["negative"]),
        shared_negatives=bool(params["shared_negatives"]), weights=weights, times=times,
        time_decay=float(time_decay or 0.0), time_window=float(time_window or 0.0),
        session_contexts=int(params["session_contexts"]) if session else 0,
        past_only=params["context"] == "past", dim=vectors.shape[1],
    )  # fmt: skip


def _needs_token_extras(params: Mapping[str, Any]) -> bool:
    """Whether training reads per-token weights or times."""
    return bool(params["use_weights"]) or (
        params["time_decay"] is not None or params["time_window"] is not None
    )


def chunk_blocks(chunks: list[tuple[int, int, int, int]], target: int) -> list[tuple[int, int]]:
    """Runs of consecutive chunks of about ``target`` tokens (at least one chunk each),
    as (first chunk, end chunk)."""
    blocks, first = [], 0
    for k, (_, _, _, tok_end) in enumerate(chunks):
        if tok_end - chunks[first][2] >= target or k + 1 == len(chunks):
            blocks.append((first, k + 1))
            first = k + 1
    return blocks


class _Blocks:
    """The kernel setups of one fit, each with the chunks it trains.

    A corpus in memory (or memory-mapped) has one setup over all its
    sequences, made once. A :class:`~item2vec.corpus.RecodedSequences` has
    one per block of chunks (:data:`BLOCK_TOKENS`), made afresh, one block
    ahead of the threads, whenever its chunks are trained: the recoded tokens
    never exist all at once. A chunk trains the same sequences either way,
    with the same seed and learning rates, so the vectors are identical.
    """

    def __init__(
        self, vectors: np.ndarray, output: np.ndarray, corpus: Sequences | RecodedSequences,
        params: Mapping[str, Any], chunks: list[tuple[int, int, int, int]],
    ) -> None:  # fmt: skip
        self.vectors, self.output, self.params = vectors, output, params
        self.corpus = corpus
        self.tables = _noise_tables(corpus.vocabulary, params)
        if isinstance(corpus, RecodedSequences):
            self.ranges = chunk_blocks(chunks, BLOCK_TOKENS)
            self.whole = None
        else:
            self.ranges = [(0, len(chunks))]
            self.whole = _kernel_setup(vectors, output, corpus, params, self.tables)
        self.chunks = chunks

    def __iter__(self) -> Iterator[tuple[Any, int, range]]:
        """(setup, its first sequence, the chunks it trains), one block at a time."""
        for k_begin, k_end in self.ranges:
            if self.whole is not None:
                yield self.whole, 0, range(k_begin, k_end)
                continue
            seq_begin, seq_end = self.chunks[k_begin][0], self.chunks[k_end - 1][1]
            block = self.corpus.block(seq_begin, seq_end)  # type: ignore[union-attr]
            setup = _kernel_setup(self.vectors, self.output, block, self.params, self.tables)
            del block  # the setup holds the arrays it needs
            yield setup, seq_begin, range(k_begin, k_end)


def auto_epochs(n_tokens: int, n_items: int) -> int:
    """The passes ``epochs="auto"`` makes over a corpus: ``150 / sqrt(tokens per item)``,
    rounded and kept within 5..50.

    Items seen rarely need more passes before their vectors leave the random
    start (see benchmarks/README.md, "Defaults"): about 20 for MovieLens-100K
    (59 events per item), 50 for catalogues with a handful of events per item,
    5 for corpora with a thousand events per item or more.
    """
    per_item = n_tokens / max(n_items, 1)
    if per_item <= 0:
        return 5
    return int(min(50, max(5, round(150.0 / math.sqrt(per_item)))))


def auto_epochs_of(corpus: Sequences | RecodedSequences) -> int:
    """:func:`auto_epochs` for ``corpus``, over the items it holds."""
    if isinstance(corpus, RecodedSequences):
        present = corpus.item_counts()
    else:
        present = count_codes(corpus.codes, len(corpus.vocabulary))
    return auto_epochs(corpus.n_tokens, int(np.count_nonzero(present)))


def train(
    vectors: np.ndarray,
    output: np.ndarray,
    corpus: Sequences | RecodedSequences,
    params: Mapping[str, Any],
    seed: int,
    epochs: int,
    on_epoch: Callable[[dict[str, Any]], bool] | None = None,
    *,
    require_events: bool = True,
) -> int:
    """Run ``epochs`` passes of SGNS over ``corpus``, updating the weights in place.

    Parameters
    ----------
    vectors, output : float32 arrays of shape (n_items, dim)
        Input and output weights, C-contiguous or made by :func:`padded_rows`
        (rows padded for the kernel, which trains faster); rows follow
        ``corpus.vocabulary``.
    corpus : Sequences or RecodedSequences
        A :class:`~item2vec.corpus.RecodedSequences` is recoded a block at a
        time while training (when the parameters need event weights or times,
        it is recoded whole first).
    params : mapping
        The training parameters of :class:`~item2vec.Item2Vec` (already checked).
    seed : int
        Seed of this run's random numbers (per chunk and epoch).
    epochs : int
    on_epoch : callable, optional
        Called after every epoch with the epoch's statistics (``epoch``,
        ``epochs``, ``tokens``, ``kept_tokens``, ``seconds``, ``loss``,
        ``alpha``); returning True stops training.
    require_events : bool, default=True
        Raise when not a single prediction event was trained; an update,
        whose batch may only bring counts, turns this off.

    Returns
    -------
    int
        Prediction events trained.

    Raises
    ------
    FloatingPointError
        When the loss stops being finite.
    ValueError
        When nothing could be trained (no pair left after subsampling) and
        ``require_events`` is True.
    """
    if isinstance(corpus, RecodedSequences) and _needs_token_extras(params):
        corpus = corpus.materialized()  # the weights' mean is taken over them all at once
    chunks = chunk_bounds(corpus.offsets, CHUNK_TOKENS)
    blocks = _Blocks(vectors, output, corpus, params, chunks)
    n_tokens = corpus.n_tokens
    total = float(n_tokens) * epochs
    alpha0, alpha1 = float(params["alpha"]), float(params["min_alpha"])

    def run(setup: Any, task: tuple[int, int, float, float, int]) -> tuple[int, int, int, float]:
        return _core.train_chunk(setup, *task, stop)

    def epoch_results(epoch: int) -> Iterator[tuple[int, int, int, float]]:
        """The epoch's chunk results in chunk order; a block's tasks are submitted
        before the previous block's results are awaited, so the threads never wait
        for a block to be made, and at most two blocks' tasks are pending."""
        pending: collections.deque[Future[tuple[int, int, int, float]]] = collections.deque()
        for setup, first_seq, ks in blocks:
            submitted = []
            for k in ks:
                seq_begin, seq_end, tok_begin, tok_end = chunks[k]
                done = epoch * n_tokens
                a_begin = alpha0 + (alpha1 - alpha0) * (done + tok_begin) / total
                a_end = alpha0 + (alpha1 - alpha0) * (done + tok_end) / total
                chunk_seed = seed * 0x9E3779B97F4A7C15 + epoch * 0xD1B54A32D192ED03 + k
                task = (seq_begin - first_seq, seq_end - first_seq, a_begin, a_end,
                        chunk_seed & _UINT64)  # fmt: skip
                submitted.append(executor.submit(run, setup, task))
            del setup
            while pending:
                yield pending.popleft().result()
            pending.extend(submitted)
        while pending:
            yield pending.popleft().result()

    # The main thread only waits, so Ctrl-C reaches it at once; it then raises
    # the stop flag, which the kernels check before every sequence.
    stop = np.zeros(1, dtype=np.intc)
    executor = ThreadPoolExecutor(min(effective_n_jobs(params["n_jobs"]), len(chunks)))
    progress = _Progress(int(total), epochs) if params["verbose"] else None
    total_events = 0
    try:
        for epoch in range(epochs):
            started = time.perf_counter()
            kept = events = 0
            loss = 0.0  # summed in float64 over chunks and threads
            for raw, kept_chunk, events_chunk, loss_chunk in epoch_results(epoch):
                kept += kept_chunk
                events += events_chunk
                loss += loss_chunk
                if progress is not None:
                    progress.advance(raw, epoch + 1, loss / events if events else None)
            mean_loss = loss / events if events else float("nan")
            if events and not np.isfinite(mean_loss):
                raise FloatingPointError(
                    f"training diverged in epoch {epoch + 1} (loss {mean_loss}); "
                    f"lower alpha (got {params['alpha']})"
                )
            stats = {
                "epoch": epoch + 1, "epochs": epochs, "tokens": n_tokens,
                "kept_tokens": kept, "seconds": time.perf_counter() - started,
                "loss": mean_loss, "alpha": alpha0 + (alpha1 - alpha0) * (epoch + 1) / epochs,
            }  # fmt: skip
            if progress is not None:
                progress.epoch_done(stats)
            total_events += events
            if on_epoch is not None and on_epoch(stats):
                break
    except BaseException:
        stop[0] = 1
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        if progress is not None:
            progress.close()
    if total_events == 0 and require_events:
        timed = params["time_decay"] is not None or params["time_window"] is not None
        raise ValueError(
            "nothing was trained: no sequence has two items left after min_count and "
            f"subsampling (sample={params['sample']})"
            + (", or no pair is close enough in time" if timed else "")
            + "; use longer sequences or lower sample"
            + (", or raise time_decay / time_window" if timed else "")
        )
    return total_events


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


class _Progress:
    """Training progress on stderr. On a terminal: a bar fed from chunk boundaries (tqdm's
    when installed) and a line per epoch; elsewhere (a pipe, a log file) only the line
    per epoch, with no carriage returns to garble it."""

    def __init__(self, total: int, epochs: int) -> None:
        self.total, self.epochs, self.done = total, epochs, 0
        self.started = self.shown = time.perf_counter()
        self.live = _is_terminal(sys.stderr)
        self.bar = None
        if self.live:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="tok", unit_scale=True, desc="item2vec")

    def advance(self, tokens: int, epoch: int, loss: float | None) -> None:
        self.done += tokens
        if not self.live:
            return
        now = time.perf_counter()
        loss_text = "" if loss is None else f"{loss:.4f}"
        if self.bar is not None:
            self.bar.update(tokens)
            self.bar.set_postfix(epoch=f"{epoch}/{self.epochs}", loss=loss_text, refresh=False)
        elif now - self.shown >= 0.2 or self.done >= self.total:
            self.shown = now
            rate = self.done / max(now - self.started, 1e-9)
            share = self.done / max(self.total, 1)
            bar = "#" * int(20 * share)
            sys.stderr.write(
                f"\ritem2vec |{bar:20s}| {100 * share:5.1f}% epoch {epoch}/{self.epochs} "
                f"{rate:,.0f} tok/s loss {loss_text}"
            )
            sys.stderr.flush()

    def epoch_done(self, stats: dict[str, Any]) -> None:
        if self.bar is not None:
            return
        line = (
            f"item2vec: epoch {stats['epoch']}/{stats['epochs']}: loss {stats['loss']:.4f}, "
            f"{stats['tokens'] / max(stats['seconds'], 1e-9):,.0f} tokens/s"
        )
        # on a terminal the line replaces the bar drawn in place
        sys.stderr.write(f"\r{line}{' ' * 30}\n" if self.live else f"{line}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

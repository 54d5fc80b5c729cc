"""Exact top-K search in blocks, and the recommendation interface built on it."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from item2vec._kernels import core
from item2vec._validation import NotFittedError, UnknownItemsWarning, check_int, check_real
from item2vec.corpus import Sequences, as_sequences
from item2vec.evaluation import evaluate, leave_last_out
from item2vec.vocab import Vocabulary

__all__ = [
    "FALLBACKS",
    "MODEL_SETTING",
    "RecommenderMixin",
    "UnknownItemsWarning",
    "history_matrix",
    "normalize_rows",
    "top_k",
    "top_k_scores",
]


class _ModelSetting:
    """The default of a query option: the value the model remembers (see ``query_options``)."""

    def __repr__(self) -> str:
        return "MODEL_SETTING"

    def __reduce__(self) -> str:
        return "MODEL_SETTING"  # one instance, even through pickle


MODEL_SETTING: Any = _ModelSetting()
# the query options a recommender can remember, with what "not set" means
QUERY_DEFAULTS: dict[str, Any] = {
    "last_n": None,
    "half_life": None,
    "time_half_life": None,
    "popularity": 0.0,
}

#: What ``recommend`` / ``recommend_batch`` can answer for a history with no known item.
FALLBACKS = (None, "popularity")


def check_fallback(fallback: Any) -> None:
    """Refuse a ``fallback`` other than None and "popularity", naming the parameter."""
    if fallback is not None and not (isinstance(fallback, str) and fallback in FALLBACKS):
        raise ValueError(f"fallback must be None or 'popularity', got {fallback!r}")


# Tiles of the score matrix: 512 queries x 4096 items (8 MiB of float32). The
# matrix product runs per tile and its top-k merge follows while the tile is
# still in cache; 1,000 queries over 1M x 100 items take about 1.5 s on two
# cores (see benchmarks/queries.py), where the product alone is about 1.3 s.
_QUERY_BLOCK = 512
_ITEM_BLOCK = 4096
# generic score callbacks produce whole rows: at most 2**25 scores per call
_BLOCK_SCORES = 1 << 25


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (float32); all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


def top_k(
    queries: np.ndarray,
    items: np.ndarray,
    k: int,
    exclude: sp.csr_array | None = None,
    banned: np.ndarray | None = None,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``items`` with the largest dot product with each query.

    Exact search: the score matrix is computed tile by tile (a matrix product
    per tile) and merged into running top-k lists in compiled code, so memory
    stays at one tile whatever the sizes.

    Parameters
    ----------
    queries : array of shape (n_queries, dim)
    items : array of shape (n_items, dim)
        With unit-norm rows and unit queries, the dot products are cosines.
    k : int
        How many to return per query; in [1, n_items].
    exclude : sparse matrix of shape (n_queries, n_items), optional
        Stored entries mark items that must not be returned for that query.
    banned : int array, optional
        Item indices never returned.
    bias : float array of shape (n_items,), optional
        Added to every query's score of each item (e.g. a popularity prior).

    Returns
    -------
    indices : int64 array of shape (n_queries, k)
        Best first, ties by lower index. Where fewer than ``k`` items have a
        finite score (exclusions, NaN vectors), the tail holds -1.
    scores : float32 array of shape (n_queries, k)
        The dot products; -inf where ``indices`` is -1.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    # not copied: the tiles' matrix products take the rows with any row step (a
    # trained model's vectors are a view of padded rows)
    items = np.asarray(items, dtype=np.float32)
    n_queries, n_items = queries.shape[0], items.shape[0]
    if queries.ndim != 2 or items.ndim != 2 or queries.shape[1] != items.shape[1]:
        raise ValueError(
            f"queries and items must be 2-D with equal widths, got {queries.shape} and "
            f"{items.shape}"
        )
    best, best_idx = _empty_top(n_queries, n_items, k)
    ex_rows, ex_cols = _exclusions_by_column(exclude)
    banned = np.unique(np.asarray(banned if banned is not None else [], dtype=np.int64))
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float32)
        if bias.shape != (n_items,):
            raise ValueError(f"bias must have shape ({n_items},), got {bias.shape}")
    q_block = min(_QUERY_BLOCK, max(n_queries, 1))
    scratch = np.empty(q_block * _ITEM_BLOCK, dtype=np.float32)
    for c0 in range(0, n_items, _ITEM_BLOCK):
        c1 = min(c0 + _ITEM_BLOCK, n_items)
        block_t = items[c0:c1].T
        lo, hi = np.searchsorted(banned, [c0, c1])
        banned_here = banned[lo:hi] - c0
        lo, hi = np.searchsorted(ex_cols, [c0, c1])
        rows_here, cols_here = ex_rows[lo:hi], ex_cols[lo:hi] - c0
        for q0 in range(0, n_queries, q_block):
            q1 = min(q0 + q_block, n_queries)
            tile = scratch[: (q1 - q0) * (c1 - c0)].reshape(q1 - q0, c1 - c0)
            np.matmul(queries[q0:q1], block_t, out=tile)
            if bias is not None:
                tile += bias[c0:c1]
            if banned_here.size:
                tile[:, banned_here] = -np.inf
            if rows_here.size:
                mine = (rows_here >= q0) & (rows_here < q1)
                tile[rows_here[mine] - q0, cols_here[mine]] = -np.inf
            core.topk_merge(tile, c0, best[q0:q1], best_idx[q0:q1])
    return _finish_top(best, best_idx)


def top_k_scores(
    score_block: Callable[[int, int], np.ndarray],
    n_queries: int,
    n_items: int,
    k: int,
    exclude: sp.csr_array | None = None,
    banned: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` columns per row of a score matrix produced block by block.

    ``score_block(start, stop)`` returns the dense scores of queries
    ``start:stop`` against all items; it is called with at most 2**25 scores
    at a time, so memory stays flat whatever the number of queries.
    ``exclude`` and ``banned`` are as in :func:`top_k`, and so is the result.
    """
    best, best_idx = _empty_top(n_queries, n_items, k)
    ex_cols, ex_rows = _exclusions_by_column(None if exclude is None else sp.csr_array(exclude).T)
    banned = np.unique(np.asarray(banned if banned is not None else [], dtype=np.int64))
    block = max(1, _BLOCK_SCORES // max(n_items, 1))
    for start in range(0, n_queries, block):
        stop = min(start + block, n_queries)
        sims = np.array(score_block(start, stop), dtype=np.float32, order="C", copy=True)
        if banned.size:
            sims[:, banned] = -np.inf
        lo, hi = np.searchsorted(ex_rows, [start, stop])  # exclusions sorted by row
        sims[ex_rows[lo:hi] - start, ex_cols[lo:hi]] = -np.inf
        core.topk_merge(sims, 0, best[start:stop], best_idx[start:stop])
    return _finish_top(best, best_idx)


def _empty_top(n_queries: int, n_items: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, {n_items}], got {k}")
    return (
        np.full((n_queries, k), -np.inf, dtype=np.float32),
        np.full((n_queries, k), -1, dtype=np.int64),
    )


def _finish_top(best: np.ndarray, best_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # an entry still at -inf was never filled, or only by an excluded item
    best_idx[np.isneginf(best)] = -1
    return best_idx, best


def _exclusions_by_column(exclude: sp.csr_array | None) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every stored entry of ``exclude``, sorted by column."""
    if exclude is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    coo = sp.coo_array(exclude)
    order = np.argsort(coo.col, kind="stable")
    return coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)


def history_matrix(
    codes: np.ndarray,
    offsets: np.ndarray,
    n_items: int,
    last_n: int | None = None,
    half_life: float | None = None,
    times: np.ndarray | None = None,
    time_half_life: float | None = None,
) -> sp.csr_array:
    """Sparse (n_histories, n_items) weights that aggregate each history.

    Each known item (code >= 0) of a history gets weight ``0.5 ** (d /
    half_life)``, where ``d`` is its distance in events from the newest known
    event of the history (0 for that one), times ``0.5 ** (dt /
    time_half_life)``, where ``dt`` is how much older it is than that event in
    ``times``; a factor is 1 when its half-life is None. Only the ``last_n``
    most recent events count when given. Weights of a row sum to 1, so the
    row is a (recency-weighted) mean. A history with no known item is an
    empty row.
    """
    n_rows = offsets.shape[0] - 1
    lengths = np.diff(offsets)
    rows = np.repeat(np.arange(n_rows), lengths)
    from_end = np.repeat(offsets[1:], lengths) - 1 - np.arange(codes.shape[0])
    use = codes >= 0
    if last_n is not None:
        use &= from_end < last_n
    rows, cols, from_end = rows[use], codes[use], from_end[use]
    log_weights = np.zeros(cols.shape[0])
    if half_life is not None:
        log_weights -= from_end / half_life
    if time_half_life is not None:
        if times is None:
            raise ValueError(
                "time_half_life needs event times: pass the histories as Sequences with times"
            )
        when = np.asarray(times, dtype=np.float64)[use]
        # ages within each row first: epoch seconds over a tiny half-life would lose digits
        latest = np.full(n_rows, -np.inf)
        np.maximum.at(latest, rows, when)
        log_weights -= (latest[rows] - when) / time_half_life
    if half_life is not None or time_half_life is not None:
        # relative to each row's largest weight, so a row never underflows to 0 / 0
        top = np.full(n_rows, -np.inf)
        np.maximum.at(top, rows, log_weights)
        log_weights -= top[rows]
    weights = np.exp2(log_weights)
    totals = np.bincount(rows, weights=weights, minlength=n_rows)
    data = (weights / totals[rows]).astype(np.float32)
    matrix = sp.csr_array((data, (rows, cols)), shape=(n_rows, n_items))
    matrix.sum_duplicates()
    return matrix


def _padding_value(items: np.ndarray) -> Any:
    if items.dtype.kind == "i":
        return -1
    if items.dtype.kind == "U":
        return ""
    return None


class RankingSource(NamedTuple):
    """A fitted recommender's parts that ranking reads: its vocabulary, and either
    ``history_vectors(weights) -> (queries, items)``, whose products are the scores
    (searched tile by tile with :func:`top_k`), or ``scores(weights, start, stop)``:
    dense scores of histories ``start:stop`` against every item."""

    vocabulary: Vocabulary
    history_vectors: Callable[[sp.csr_array], tuple[np.ndarray, np.ndarray]] | None = None
    scores: Callable[[sp.csr_array, int, int], np.ndarray] | None = None
    # with history vectors: search(queries, items, k, exclude, banned, bias, exact), which
    # may go through an approximate index (top_k's contract otherwise)
    search: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None


class RecommenderMixin:
    """``recommend`` / ``recommend_batch`` for models with ``vocabulary_`` and ``_scores``.

    A subclass implements ``_scores(weights, start, stop)`` (dense scores of
    histories ``start:stop``, ``weights`` being the :func:`history_matrix` of
    all histories), or overrides ``_ranking_source`` to rank through history
    vectors instead.
    """

    vocabulary_: Any
    items_: np.ndarray

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(sequences) first"
            )

    def _scores(self, weights: sp.csr_array, start: int, stop: int) -> np.ndarray:
        raise NotImplementedError

    def score(self, X: Iterable[Iterable[Hashable]] | Sequences, y: Any = None) -> float:
        """Next-item hit rate at 10 by leave-last-out on held-out sequences.

        For every sequence of length >= 2, the items before the last one are
        the history (aggregated as in :meth:`recommend`, with the model's
        query options, seen items excluded)
        and the last item is the target. A target outside the vocabulary, or
        a history with no known item, counts as a miss.

        Returns
        -------
        float
            Share of evaluated sequences whose target is in the top 10.

        Raises
        ------
        ValueError
            If no sequence has at least two items.
        """
        self._check_fitted()
        split = leave_last_out(as_sequences(X))
        if split.targets.shape[0] == 0:
            raise ValueError("score needs at least one sequence with two or more items")
        return evaluate(self, split, k=10)["hr"]

    @property
    def query_options(self) -> dict[str, Any]:
        """The query options used when a call of :meth:`recommend_batch` leaves them out.

        Keys ``last_n``, ``half_life``, ``time_half_life`` and ``popularity``.
        :class:`Item2Vec` takes them from its parameters of the same names (set
        by :func:`item2vec.tune`, saved with the model); other recommenders use
        no recency and no popularity prior.
        """
        return dict(QUERY_DEFAULTS)

    def _resolve_query(
        self, given: dict[str, Any], timed: bool, stacklevel: int = 3
    ) -> tuple[int | None, float | None, float | None, float]:
        remembered = self.query_options
        options = {}
        for name, value in given.items():
            if value is MODEL_SETTING:
                value = remembered[name]
                # a remembered time_half_life applies to histories that have times
                if name == "time_half_life" and not timed and value is not None:
                    warnings.warn(
                        f"the histories have no times, so the model's time_half_life={value!r} "
                        f"is not applied; pass times (recommend(history, times=...)) or "
                        f"Sequences with times, or time_half_life=None to silence this",
                        UserWarning,
                        stacklevel=stacklevel + 1,
                    )
                    value = None
            options[name] = value
        return (
            options["last_n"], options["half_life"], options["time_half_life"],
            options["popularity"],
        )  # fmt: skip

    def _ranking_source(self) -> RankingSource:
        """What recommendations are ranked with, read once per call, so that a
        model changed by another thread meanwhile is never seen half old, half new."""
        return RankingSource(self.vocabulary_, scores=self._scores)

    def recommend_batch(
        self,
        histories: Iterable[Iterable[Hashable]] | Sequences,
        topn: int = 10,
        exclude_seen: bool = True,
        filter_items: Iterable[Hashable] | None = None,
        last_n: int | None = MODEL_SETTING,
        half_life: float | None = MODEL_SETTING,
        time_half_life: float | None = MODEL_SETTING,
        popularity: float = MODEL_SETTING,
        exact: bool = False,
        fallback: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recommendations for many histories at once.

        Parameters
        ----------
        histories : iterable of sequences of item ids, or Sequences
            One history per row, oldest event first. Events of items the model
            does not know are skipped and counted: an
            :class:`UnknownItemsWarning` (once per call) gives their number
            and the rows left with no known item.
        topn : int, default=10
        exclude_seen : bool, default=True
            Leave out items of the row's history.
        filter_items : iterable of item ids, optional
            Never recommend these (unknown ids are ignored).
        last_n : int or None, optional
            Aggregate only the ``last_n`` most recent events of each history
            (events of unknown items count among them, though they add nothing).
        half_life : float or None, optional
            Weight events by recency: an event ``d`` steps before the last one
            counts ``0.5 ** (d / half_life)``; None weights all equally.
        time_half_life : float or None, optional
            Weight events by age: an event ``dt`` older than the history's
            newest one counts ``0.5 ** (dt / time_half_life)`` (units of
            ``Sequences.times``, seconds for datetimes). Needs histories given
            as :class:`Sequences` with times (a remembered value is skipped for
            histories without times); combines with ``half_life`` by
            multiplication.
        popularity : float, optional
            Add ``popularity * log(count)`` to every item's score, where
            ``count`` is its training count: a popularity prior. With the
            "output" scoring of :class:`Item2Vec` the score approximates a
            pointwise mutual information, and ``popularity=1`` turns it into a
            log conditional probability; small values break near-ties towards
            popular items.

            The four options above, when left out, take the model's remembered
            values (:attr:`query_options`); pass None (or 0.0 for
            ``popularity``) to turn one off explicitly.
        exact : bool, default=False
            Score every item even when an approximate index was built
            (:meth:`Item2Vec.build_index`).
        fallback : {None, "popularity"}, default=None
            What a history with no known item (among its ``last_n`` events)
            gets. None: a padded row (scores all -inf). "popularity": the
            most frequent training items (``filter_items`` and seen items
            still left out), scored by the log of their training count, a
            scale of its own: the warning's ``empty_rows`` says which rows
            these are.

        Returns
        -------
        ids : ndarray of shape (n_histories, min(topn, n_items))
            Best first. Rows with fewer recommendable items, or whose history
            has no known item (without a fallback), are padded (with -1 for
            signed integer ids, "" for fixed-width str ids, None otherwise, in
            an object array: an unsigned id array cannot hold -1); test
            ``np.isfinite(scores)`` rather than the padding value, which could
            be a real id.
        scores : float32 ndarray of the same shape
            -inf where padded.

        Warns
        -----
        UnknownItemsWarning
            When events of unknown items were skipped or a history had no
            known item; its ``n_skipped``, ``empty_rows`` and ``fallback``
            attributes hold the counts (``warnings.catch_warnings(record=True)``
            reads them; a filter turns the warning into an error).
        UserWarning
            When the model remembers a ``time_half_life`` but the histories
            carry no times, so it is not applied.
        """
        return self._recommend_rows(
            histories, topn, exclude_seen, filter_items, last_n, half_life, time_half_life,
            popularity, exact, fallback, stacklevel=3,
        )  # fmt: skip

    def _recommend_rows(
        self,
        histories: Iterable[Iterable[Hashable]] | Sequences,
        topn: int,
        exclude_seen: bool,
        filter_items: Iterable[Hashable] | None,
        last_n: int | None,
        half_life: float | None,
        time_half_life: float | None,
        popularity: float,
        exact: bool,
        fallback: str | None,
        stacklevel: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`recommend_batch`; warnings point ``stacklevel`` frames up."""
        self._check_fitted()
        check_int("topn", topn, 1)
        check_fallback(fallback)
        corpus = as_sequences(histories)
        last_n, half_life, time_half_life, popularity = self._resolve_query(
            {
                "last_n": last_n, "half_life": half_life, "time_half_life": time_half_life,
                "popularity": popularity,
            },
            timed=corpus.times is not None,
            stacklevel=stacklevel,
        )  # fmt: skip
        if last_n is not None:
            check_int("last_n", last_n, 1)
        for name, value in (("half_life", half_life), ("time_half_life", time_half_life)):
            if value is not None:
                check_real(name, value, low=0.0, low_inclusive=False)
        check_real("popularity", popularity)
        source = self._ranking_source()
        vocabulary = source.vocabulary
        codes, offsets, times = corpus.codes_in(vocabulary), corpus.offsets, corpus.times
        n_items = len(vocabulary)
        weights = history_matrix(codes, offsets, n_items, last_n, half_life, times, time_half_life)
        seen = None
        if exclude_seen:  # the aggregation weights already mark every seen item unless trimmed
            trimmed = last_n is not None or half_life is not None or time_half_life is not None
            seen = history_matrix(codes, offsets, n_items) if trimmed else weights
        banned = None
        if isinstance(filter_items, str | bytes):
            raise TypeError("filter_items must be a collection of item ids, got a string")
        if filter_items is not None:
            banned = vocabulary.codes_of(list(filter_items), unknown="ignore")
            banned = banned[banned >= 0]
        k = min(topn, n_items)
        prior = None
        if popularity:
            counts = np.maximum(vocabulary.counts, 1).astype(np.float64)
            prior = (popularity * np.log(counts)).astype(np.float32)
        if source.history_vectors is not None:
            queries, items = source.history_vectors(weights)
            if source.search is not None:
                idx, scores = source.search(queries, items, k, seen, banned, prior, exact)
            else:
                idx, scores = top_k(queries, items, k, seen, banned, bias=prior)
        else:
            score_block = source.scores
            assert score_block is not None  # a RankingSource has one of the two

            def block(start: int, stop: int) -> np.ndarray:
                sims = score_block(weights, start, stop)
                return sims if prior is None else sims + prior

            idx, scores = top_k_scores(block, weights.shape[0], n_items, k, seen, banned)
        empty = np.diff(weights.indptr) == 0
        idx[empty] = -1
        scores[empty] = -np.inf
        empty_rows = np.flatnonzero(empty)
        if fallback == "popularity" and empty_rows.size:
            idx[empty_rows], scores[empty_rows] = _popular(
                vocabulary.counts, k, None if seen is None else seen[empty_rows], banned
            )
        n_skipped = int(np.count_nonzero(codes < 0))
        if n_skipped or empty_rows.size:
            got = "the most popular items" if fallback == "popularity" else "padded rows"
            warnings.warn(
                UnknownItemsWarning(
                    f"{n_skipped} history events of items not in the vocabulary were skipped; "
                    f"{empty_rows.size} of {weights.shape[0]} histories had no known item "
                    f"and got {got}",
                    n_skipped, empty_rows, fallback,
                ),
                stacklevel=stacklevel,
            )  # fmt: skip
        ids = vocabulary.items[np.maximum(idx, 0)]
        if (idx < 0).any():
            pad = _padding_value(vocabulary.items)
            ids = ids.astype(object) if pad is None else ids
            ids[idx < 0] = pad
        return ids, scores

    def recommend(
        self,
        history: Iterable[Hashable],
        topn: int = 10,
        exclude_seen: bool = True,
        filter_items: Iterable[Hashable] | None = None,
        last_n: int | None = MODEL_SETTING,
        half_life: float | None = MODEL_SETTING,
        time_half_life: float | None = MODEL_SETTING,
        popularity: float = MODEL_SETTING,
        times: Iterable[float] | None = None,
        exact: bool = False,
        fallback: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Items to recommend after one history (oldest event first).

        Parameters are those of :meth:`recommend_batch`, and ``times``: the
        time of each event of ``history`` (needed by ``time_half_life``).
        Unknown items of the history are skipped and counted, as there
        (an :class:`UnknownItemsWarning`).

        Returns
        -------
        ids, scores : ndarrays of shape (k,)
            Best first, ``k <= topn`` (padding dropped).

        Raises
        ------
        KeyError
            If no item of the history is known to the model and ``fallback``
            is None (with ``fallback="popularity"``, the most popular items).
        """
        if isinstance(history, str | bytes):
            raise TypeError("history must be a sequence of items, got a string")
        self._check_fitted()
        check_fallback(fallback)
        history = list(history)
        known = self.vocabulary_.codes_of(history, unknown="ignore")
        if fallback is None and known.max(initial=-1) < 0:
            raise KeyError("none of the history's items is in the vocabulary")
        batch: Any = [history]
        if times is not None:
            stamps = np.asarray(list(times), dtype=np.float64)
            if stamps.shape != (len(history),):
                raise ValueError(
                    f"times must hold one number per history event ({len(history)}), "
                    f"got shape {stamps.shape}"
                )
            one = as_sequences(batch)
            batch = Sequences(one.codes, one.offsets, one.vocabulary, times=stamps)
        ids, scores = self._recommend_rows(
            batch, topn, exclude_seen, filter_items, last_n, half_life, time_half_life, popularity,
            exact, fallback, stacklevel=3,
        )  # fmt: skip
        valid = np.isfinite(scores[0])
        return ids[0][valid], scores[0][valid]


def _popular(
    counts: np.ndarray, k: int, exclude: sp.csr_array | None, banned: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most frequent items for each row of ``exclude`` (or one row), scored by
    the log of their count: the fallback of histories with no known item."""
    prior = np.log(np.maximum(counts, 1).astype(np.float64)).astype(np.float32)
    n_rows = 1 if exclude is None else exclude.shape[0]
    return top_k_scores(
        lambda start, stop: np.broadcast_to(prior, (stop - start, prior.shape[0])),
        n_rows, prior.shape[0], k, exclude, banned,
    )  # fmt: skip

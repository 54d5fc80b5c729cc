"""Exact top-K search in blocks, and the recommendation interface built on it."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from item2vec._validation import NotFittedError, check_int
from item2vec.corpus import Sequences

__all__ = ["RecommenderMixin", "history_matrix", "normalize_rows", "top_k", "top_k_scores"]

# scores held at once per block: 2**25 float32 = 128 MiB
_BLOCK_SCORES = 1 << 25
# below this many items per wanted neighbour, a plain argpartition is as fast
_PRUNE_RATIO = 256


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (float32); all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


def top_k(
    queries: np.ndarray,
    normed: np.ndarray,
    k: int,
    exclude: sp.csr_array | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``normed`` with the largest dot product with each query.

    Parameters
    ----------
    queries : array of shape (n_queries, dim)
    normed : array of shape (n_items, dim)
        Unit-norm item vectors, so the dot products are cosines for unit queries.
    k : int
        How many to return per query; at most ``n_items``.
    exclude : sparse matrix of shape (n_queries, n_items), optional
        Non-zero entries mark items that must not be returned for that query.

    Returns
    -------
    indices : int64 array of shape (n_queries, k)
        Best first. Where fewer than ``k`` items are allowed, the tail holds -1.
    scores : float32 array of shape (n_queries, k)
        The dot products; -inf where ``indices`` is -1.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    normed_t = normed.T
    return top_k_scores(
        lambda a, b: queries[a:b] @ normed_t, queries.shape[0], normed.shape[0], k, exclude
    )


def top_k_scores(
    score_block: Callable[[int, int], np.ndarray],
    n_queries: int,
    n_items: int,
    k: int,
    exclude: sp.csr_array | None = None,
    banned: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` columns per row of a score matrix produced block by block.

    ``score_block(start, stop)`` returns the dense float32 scores of queries
    ``start:stop`` against all items. Blocks hold at most 2**24 scores, so
    memory stays flat whatever the number of queries. ``exclude`` marks
    (query, item) pairs to leave out, ``banned`` items left out for every query.
    Returns indices and scores as :func:`top_k` does.
    """
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, {n_items}], got {k}")
    indices = np.empty((n_queries, k), dtype=np.int64)
    scores = np.empty((n_queries, k), dtype=np.float32)
    if exclude is not None:
        exclude = sp.csr_array(exclude)
    block = max(1, _BLOCK_SCORES // max(n_items, 1))
    for start in range(0, n_queries, block):
        stop = min(start + block, n_queries)
        sims = np.array(score_block(start, stop), dtype=np.float32, copy=True)
        sims[np.isnan(sims)] = -np.inf
        if exclude is not None:
            part = exclude[start:stop]
            rows = np.repeat(np.arange(stop - start), np.diff(part.indptr))
            sims[rows, part.indices] = -np.inf
        if banned is not None and banned.size:
            sims[:, banned] = -np.inf
        if k * _PRUNE_RATIO <= n_items:
            candidates = _top_candidates(sims, k)
        elif k < n_items:
            candidates = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            candidates = np.broadcast_to(np.arange(n_items), (stop - start, n_items))
        cand_scores = np.take_along_axis(sims, candidates, axis=1)
        order = np.argsort(-cand_scores, axis=1, kind="stable")
        best = np.take_along_axis(candidates, order, axis=1)
        best_scores = np.take_along_axis(cand_scores, order, axis=1)
        indices[start:stop] = np.where(np.isneginf(best_scores), -1, best)
        scores[start:stop] = best_scores
    return indices, scores


def _top_candidates(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values (unordered), for wide rows.

    The k-th largest value among the first ``m`` columns is a lower bound of
    the row's k-th largest, so one vectorised comparison leaves about
    ``k * n / m`` candidates; only those are partitioned. This replaces a full
    selection over every row (several passes over memory) with one pass.
    """
    n_rows, n_cols = sims.shape
    m = min(n_cols, max(64 * k, 8192))
    bound = np.partition(sims[:, :m], m - k, axis=1)[:, m - k]
    rows, cols = np.nonzero(sims >= bound[:, None])
    splits = np.searchsorted(rows, np.arange(1, n_rows))
    out = np.empty((n_rows, k), dtype=np.int64)
    for row, row_cols in enumerate(np.split(cols, splits)):
        if row_cols.shape[0] > k:
            row_scores = sims[row, row_cols]
            row_cols = row_cols[np.argpartition(-row_scores, k - 1)[:k]]
        out[row] = row_cols[:k]
    return out


def history_matrix(
    codes: np.ndarray,
    offsets: np.ndarray,
    n_items: int,
    last_n: int | None = None,
    half_life: float | None = None,
) -> sp.csr_array:
    """Sparse (n_histories, n_items) weights that aggregate each history.

    Each known item (code >= 0) of a history gets weight ``0.5 ** (d /
    half_life)``, where ``d`` is its distance from the end of the history
    (0 for the most recent), or 1 without ``half_life``; only the ``last_n``
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
    if half_life is None:
        weights = np.ones(cols.shape[0])
    else:
        # relative to each row's newest known event, so weights never all underflow
        newest = np.full(n_rows, np.inf)
        np.minimum.at(newest, rows, from_end)
        weights = 0.5 ** ((from_end - newest[rows]) / half_life)
    totals = np.bincount(rows, weights=weights, minlength=n_rows)
    data = (weights / totals[rows]).astype(np.float32)
    matrix = sp.csr_array((data, (rows, cols)), shape=(n_rows, n_items))
    matrix.sum_duplicates()
    return matrix


def _padding_value(items: np.ndarray) -> Any:
    if items.dtype.kind in "iu":
        return -1
    if items.dtype.kind == "U":
        return ""
    return None


class RecommenderMixin:
    """``recommend`` / ``recommend_batch`` for models with ``vocabulary_`` and ``_scores``.

    A subclass implements ``_scores(weights, start, stop)``: dense scores of
    histories ``start:stop`` against every item, where ``weights`` is the
    :func:`history_matrix` of all histories.
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

    def _codes_in_vocabulary(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Codes of X in this model's vocabulary (-1 for unknown items), and offsets."""
        corpus = Sequences.from_iterable(X)
        return corpus.codes_in(self.vocabulary_), corpus.offsets

    def recommend_batch(
        self,
        histories: Iterable[Iterable[Hashable]] | Sequences,
        topn: int = 10,
        exclude_seen: bool = True,
        filter_items: Iterable[Hashable] | None = None,
        last_n: int | None = None,
        half_life: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recommendations for many histories at once.

        Parameters
        ----------
        histories : iterable of sequences of item ids, or Sequences
            One history per row, oldest event first. Unknown items are ignored.
        topn : int, default=10
        exclude_seen : bool, default=True
            Leave out items of the row's history.
        filter_items : iterable of item ids, optional
            Never recommend these (unknown ids are ignored).
        last_n : int, optional
            Aggregate only the ``last_n`` most recent events of each history.
        half_life : float, optional
            Weight events by recency: an event ``d`` steps before the last one
            counts ``0.5 ** (d / half_life)``; None weights all equally.

        Returns
        -------
        ids : ndarray of shape (n_histories, min(topn, n_items))
            Best first. Rows with fewer recommendable items, or whose history
            has no known item, are padded (with -1 for int64 ids, "" for
            fixed-width str ids, None otherwise); test ``np.isfinite(scores)``
            rather than the padding value, which could be a real id.
        scores : float32 ndarray of the same shape
            -inf where padded.
        """
        self._check_fitted()
        check_int("topn", topn, 1)
        if last_n is not None:
            check_int("last_n", last_n, 1)
        if half_life is not None and not (
            isinstance(half_life, numbers.Real)
            and not isinstance(half_life, bool)
            and np.isfinite(half_life)
            and half_life > 0
        ):
            raise ValueError(f"half_life must be a number > 0, got {half_life!r}")
        codes, offsets = self._codes_in_vocabulary(histories)
        n_items = len(self.items_)
        weights = history_matrix(codes, offsets, n_items, last_n, half_life)
        seen = None
        if exclude_seen:  # the aggregation weights already mark every seen item unless trimmed
            trimmed = last_n is not None or half_life is not None
            seen = history_matrix(codes, offsets, n_items) if trimmed else weights
        banned = None
        if filter_items is not None:
            banned = self.vocabulary_.codes_of(list(filter_items), unknown="ignore")
            banned = banned[banned >= 0]
        k = min(topn, n_items)
        idx, scores = top_k_scores(
            lambda a, b: self._scores(weights, a, b), weights.shape[0], n_items, k, seen, banned
        )
        empty = np.diff(weights.indptr) == 0
        idx[empty] = -1
        scores[empty] = -np.inf
        ids = self.items_[np.maximum(idx, 0)]
        if (idx < 0).any():
            pad = _padding_value(self.items_)
            ids = ids.astype(object) if pad is None else ids
            ids[idx < 0] = pad
        return ids, scores

    def recommend(
        self,
        history: Iterable[Hashable],
        topn: int = 10,
        exclude_seen: bool = True,
        filter_items: Iterable[Hashable] | None = None,
        last_n: int | None = None,
        half_life: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Items to recommend after one history (oldest event first).

        Parameters are those of :meth:`recommend_batch`.

        Returns
        -------
        ids, scores : ndarrays of shape (k,)
            Best first, ``k <= topn`` (padding dropped).

        Raises
        ------
        KeyError
            If no item of the history is known to the model.
        """
        if isinstance(history, str | bytes):
            raise TypeError("history must be a sequence of items, got a string")
        self._check_fitted()
        history = list(history)
        if self.vocabulary_.codes_of(history, unknown="ignore").max(initial=-1) < 0:
            raise KeyError("none of the history's items is in the vocabulary")
        ids, scores = self.recommend_batch(
            [history], topn, exclude_seen, filter_items, last_n, half_life
        )
        valid = np.isfinite(scores[0])
        return ids[0][valid], scores[0][valid]

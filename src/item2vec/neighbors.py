"""Exact top-K search by cosine over L2-normalised vectors, in blocks."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["normalize_rows", "top_k"]

# scores held at once per block: 2**24 float32 = 64 MiB
_BLOCK_SCORES = 1 << 24


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
    n_queries = queries.shape[0]
    n_items = normed.shape[0]
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, {n_items}], got {k}")
    indices = np.empty((n_queries, k), dtype=np.int64)
    scores = np.empty((n_queries, k), dtype=np.float32)
    if exclude is not None:
        exclude = sp.csr_array(exclude)
    block = max(1, _BLOCK_SCORES // max(n_items, 1))
    for start in range(0, n_queries, block):
        stop = min(start + block, n_queries)
        sims = queries[start:stop] @ normed.T
        if exclude is not None:
            part = exclude[start:stop]
            rows = np.repeat(np.arange(stop - start), np.diff(part.indptr))
            sims[rows, part.indices] = -np.inf
        if k < n_items:
            candidates = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            candidates = np.broadcast_to(np.arange(n_items), (stop - start, n_items))
        cand_scores = np.take_along_axis(sims, candidates, axis=1)
        order = np.argsort(-cand_scores, axis=1, kind="stable")
        best = np.take_along_axis(candidates, order, axis=1)
        best_scores = np.take_along_axis(cand_scores, order, axis=1)
        best = np.where(np.isneginf(best_scores), -1, best)
        indices[start:stop] = best
        scores[start:stop] = best_scores
    return indices, scores

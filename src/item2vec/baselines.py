"""Baseline recommenders with the same interface as Item2Vec: Popularity and ItemKNN."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from item2vec._params import BASELINE_PARAMS, ParamsMixin
from item2vec.corpus import Sequences, training_corpus
from item2vec.neighbors import RecommenderMixin

__all__ = ["ItemKNN", "Popularity"]


def _training_corpus(X: Iterable[Iterable[Hashable]] | Sequences) -> Sequences:
    # drop items that do not occur (a vocabulary shared with other corpora may hold them)
    return training_corpus(X).pruned(min_count=1)


class Popularity(RecommenderMixin, ParamsMixin):
    """Recommend the items seen most often in training, whatever the history.

    It has no parameters; ``get_params`` and ``set_params`` exist for
    scikit-learn (``clone``, pipelines, searches).

    Examples
    --------
    >>> model = Popularity().fit([["a", "b"], ["b", "c"], ["b"]])
    >>> model.recommend(["a"], topn=2)[0].tolist()
    ['b', 'c']
    """

    def __init__(self) -> None:
        pass

    def fit(self, X: Iterable[Iterable[Hashable]] | Sequences, y: Any = None) -> Popularity:
        """Count the items of ``X``; returns ``self``."""
        corpus = _training_corpus(X)
        self.vocabulary_ = corpus.vocabulary
        self.items_ = corpus.vocabulary.items
        self.counts_ = corpus.vocabulary.counts.astype(np.float32)
        return self

    def _scores(self, weights: sp.csr_array, start: int, stop: int) -> np.ndarray:
        return np.broadcast_to(self.counts_, (stop - start, self.counts_.shape[0]))


class ItemKNN(RecommenderMixin, ParamsMixin):
    """Item-based nearest neighbours on co-occurrence cosine similarity.

    Two items are similar by the cosine of their columns in the binary
    sequence-by-item matrix (how often they occur in the same sequences,
    normalised by how often each occurs). A history scores each item by the
    (recency-)weighted sum of its similarities to the history's items.

    Parameters
    ----------
    neighbors : int or None, default=100
        Keep only each item's ``neighbors`` most similar items (None keeps all).
    shrinkage : float, default=0.0
        Added to the cosine's denominator, damping similarities of rare pairs.

    Examples
    --------
    >>> model = ItemKNN().fit([["a", "b"], ["a", "b"], ["c", "d"]])
    >>> model.recommend(["a"], topn=1)[0].tolist()
    ['b']
    """

    _PARAMS = BASELINE_PARAMS

    def __init__(self, neighbors: int | None = 100, shrinkage: float = 0.0) -> None:
        self.neighbors = neighbors
        self.shrinkage = shrinkage

    def fit(self, X: Iterable[Iterable[Hashable]] | Sequences, y: Any = None) -> ItemKNN:
        """Compute item-item similarities from ``X``; returns ``self``."""
        self._check_params()
        corpus = _training_corpus(X)
        n_items = len(corpus.vocabulary)
        rows = np.repeat(np.arange(len(corpus)), corpus.lengths)
        occurs = sp.csr_array(
            (np.ones(corpus.n_tokens, dtype=np.float32), (rows, corpus.codes)),
            shape=(len(corpus), n_items),
        )
        occurs.sum_duplicates()
        occurs.data[:] = 1.0  # an item repeated in a sequence counts once
        norms = np.sqrt(np.asarray(occurs.sum(axis=0)).ravel())
        co = (occurs.T @ occurs).tocsr()
        co.setdiag(0)
        co.eliminate_zeros()
        co = co.tocoo()
        denom = norms[co.row] * norms[co.col] + self.shrinkage
        sim = sp.csr_array(
            ((co.data / denom).astype(np.float32), (co.row, co.col)), shape=(n_items, n_items)
        )
        if self.neighbors is not None:
            sim = _keep_top_per_row(sim, self.neighbors)
        self.vocabulary_ = corpus.vocabulary
        self.items_ = corpus.vocabulary.items
        # similarity of history item (row) to candidate (column)
        self.similarity_ = sim
        return self

    def _scores(self, weights: sp.csr_array, start: int, stop: int) -> np.ndarray:
        return (weights[start:stop] @ self.similarity_).toarray()


def _keep_top_per_row(matrix: sp.csr_array, k: int) -> sp.csr_array:
    """Each row's ``k`` largest entries (ties broken by column)."""
    matrix = sp.csr_array(matrix)
    lengths = np.diff(matrix.indptr)
    if lengths.max(initial=0) <= k:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], lengths)
    keep = order[rank < k]
    return sp.csr_array((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)

"""Baseline recommenders with the same interface as Item2Vec: Popularity, ItemKNN, EASE."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from item2vec._params import BASELINE_PARAMS, EASE_PARAMS, ParamsMixin
from item2vec.corpus import Sequences, training_corpus
from item2vec.neighbors import RecommenderMixin

__all__ = ["EASE", "ItemKNN", "Popularity"]


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
        occurs = _binary_occurrences(corpus)
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


class EASE(RecommenderMixin, ParamsMixin):
    """A closed-form linear item-item model (Steck, "Embarrassingly Shallow
    Autoencoders for Sparse Data", 2019): the strong cheap baseline.

    It learns the item-item weights ``B`` that best rebuild the binary
    sequence-by-item matrix ``X`` from itself, ``min ||X - XB||^2 + l2 ||B||^2``
    with ``diag(B) = 0``, whose solution is ``B = I - P diag(1 / diag(P))`` for
    ``P = (X^T X + l2 I)^-1``. A history scores each item by the
    (recency-)weighted sum of its items' rows of ``B``, as :class:`ItemKNN`
    sums similarities, so the query options (``half_life``, ``last_n``, ...)
    weight histories the same way for every recommender.

    Memory and time grow with the square and cube of the number of items
    (a dense ``n_items x n_items`` float64 inverse: 20,000 items take 3.2 GB);
    for larger catalogues prune the corpus first (``corpus.pruned(min_count)``).

    Parameters
    ----------
    l2 : float, default=500.0
        The L2 penalty: choose it on validation data (it grows with the data:
        a few hundred for MovieLens-100K, thousands for larger logs).

    Examples
    --------
    >>> model = EASE(l2=1.0).fit([["a", "b"], ["a", "b"], ["c", "d"], ["c", "a"]])
    >>> model.recommend(["b"], topn=1)[0].tolist()
    ['a']
    """

    _PARAMS = EASE_PARAMS

    def __init__(self, l2: float = 500.0) -> None:
        self.l2 = l2

    def fit(self, X: Iterable[Iterable[Hashable]] | Sequences, y: Any = None) -> EASE:
        """Solve for the item-item weights of ``X``; returns ``self``."""
        self._check_params()
        corpus = _training_corpus(X)
        n_items = len(corpus.vocabulary)
        needed = 8 * n_items * n_items
        if needed > 16 * 2**30:
            raise MemoryError(
                f"EASE needs a dense {n_items:,} x {n_items:,} matrix ({needed / 2**30:,.1f} "
                f"GiB): prune the corpus (corpus.pruned(min_count=...)) first"
            )
        gram = _binary_occurrences(corpus)
        gram = (gram.T @ gram).toarray().astype(np.float64)
        gram[np.diag_indices(n_items)] += float(self.l2)
        # X^T X + l2 I is symmetric positive definite: Cholesky solves it stably
        import scipy.linalg

        inverse = scipy.linalg.cho_solve(
            scipy.linalg.cho_factor(gram, overwrite_a=True), np.eye(n_items)
        )
        weights = inverse / -np.diag(inverse)
        weights[np.diag_indices(n_items)] = 0.0
        self.vocabulary_ = corpus.vocabulary
        self.items_ = corpus.vocabulary.items
        # weight of history item (row) for candidate (column)
        self.weights_ = weights.astype(np.float32)
        return self

    def _scores(self, weights: sp.csr_array, start: int, stop: int) -> np.ndarray:
        return np.asarray(weights[start:stop] @ self.weights_)


def _binary_occurrences(corpus: Sequences) -> sp.csr_array:
    """The sequence-by-item matrix with 1 where an item occurs in a sequence."""
    rows = np.repeat(np.arange(len(corpus)), corpus.lengths)
    occurs = sp.csr_array(
        (np.ones(corpus.n_tokens, dtype=np.float32), (rows, corpus.codes)),
        shape=(len(corpus), len(corpus.vocabulary)),
    )
    occurs.sum_duplicates()
    occurs.data[:] = 1.0  # an item repeated in a sequence counts once
    return occurs


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

"""EASE: the closed form against its definition, item by item, and its ranking."""

import numpy as np
import pytest
from sklearn.base import clone

from item2vec import Sequences
from item2vec.baselines import EASE
from item2vec.evaluation import evaluate, leave_last_out


def _corpus(seed=0, n_seq=60, n_items=12):
    rng = np.random.default_rng(seed)
    sequences = [
        [f"i{v}" for v in rng.integers(0, n_items, size=rng.integers(2, 7))] for _ in range(n_seq)
    ]
    return Sequences.from_iterable(sequences)


def _binary_matrix(corpus):
    matrix = np.zeros((len(corpus), len(corpus.vocabulary)))
    for row, start, stop in zip(
        range(len(corpus)), corpus.offsets[:-1], corpus.offsets[1:], strict=True
    ):
        matrix[row, corpus.codes[start:stop]] = 1.0
    return matrix


@pytest.mark.parametrize("l2", [0.5, 10.0, 300.0])
def test_each_column_is_the_ridge_regression_of_its_item_on_the_others(l2):
    # min ||X - XB||^2 + l2 ||B||^2 with diag(B) = 0 splits into one ridge regression per
    # item on the other items' columns: solved here column by column, not by the closed form
    corpus = _corpus()
    model = EASE(l2=l2).fit(corpus)
    x = _binary_matrix(corpus)
    n = x.shape[1]
    expected = np.zeros((n, n))
    for j in range(n):
        others = [k for k in range(n) if k != j]
        xo = x[:, others]
        expected[others, j] = np.linalg.solve(xo.T @ xo + l2 * np.eye(n - 1), xo.T @ x[:, j])
    assert model.items_.tolist() == corpus.vocabulary.items.tolist()
    np.testing.assert_allclose(model.weights_, expected, rtol=2e-4, atol=2e-6)
    assert np.all(np.diag(model.weights_) == 0)


def test_a_history_ranks_items_by_the_sum_of_its_rows_seen_items_left_out():
    corpus = _corpus(1)
    model = EASE(l2=5.0).fit(corpus)
    items = corpus.vocabulary.items.tolist()
    histories = [["i1", "i3"], ["i2"], ["i4", "i0", "i4"]]
    ids, scores = model.recommend_batch(histories, topn=5, half_life=None, popularity=0.0)
    for row, history in enumerate(histories):
        codes = [items.index(i) for i in history]
        # without recency every event weighs the same: the mean of the events' rows
        total = model.weights_[codes].astype(np.float64).mean(axis=0)
        total[codes] = -np.inf
        # expected order: score descending, then item code ascending
        order = sorted(range(len(items)), key=lambda c: (-total[c], c))[:5]
        assert ids[row].tolist() == [items[c] for c in order]
        np.testing.assert_allclose(scores[row], total[order], rtol=1e-5, atol=1e-6)


def test_parameters_are_checked_and_the_model_clones():
    with pytest.raises(ValueError, match="l2"):
        EASE(l2=0.0).fit([["a", "b"]])
    with pytest.raises(ValueError, match="l2"):
        EASE().set_params(l2=-1.0)
    assert clone(EASE(l2=7.0)).get_params() == {"l2": 7.0}


def test_it_evaluates_through_the_shared_interface():
    corpus = _corpus(2, n_seq=200)
    split = leave_last_out(corpus)
    result = evaluate(EASE(l2=20.0).fit(split.train), split, k=5)
    assert 0.0 <= result["hr"] <= 1.0 and set(result) >= {"hr", "ndcg", "mrr", "coverage"}

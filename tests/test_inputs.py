"""Inputs that were once read wrongly are now understood or refused with a clear message."""

import numpy as np
import pytest
import scipy.sparse as sp

from item2vec import Item2Vec, Sequences

# pandas builds this module's datetime and missing-value cases
pd = pytest.importorskip("pandas", reason="pandas is not installed")


@pytest.mark.parametrize("make", [sp.csr_array, sp.csr_matrix, sp.coo_array])
def test_a_sparse_matrix_is_refused_not_trained_on_its_values(make):
    matrix = make(np.array([[0, 1, 2], [3, 0, 1]]))
    with pytest.raises(TypeError, match="a sparse matrix holds no order of events"):
        Item2Vec().fit(matrix)
    with pytest.raises(TypeError, match="a sparse matrix holds no order of events"):
        Sequences.from_iterable(matrix)


def test_a_2d_event_array_is_read_by_column_numbers():
    events = np.array([[1, 10, 5], [1, 11, 3], [2, 10, 9], [1, 12, 4]])
    corpus = Sequences.from_events(events, user=0, item=1, time=2)
    assert corpus.to_lists() == [[11, 12, 10], [10]]


def test_a_2d_event_array_names_its_columns_when_one_is_missing():
    with pytest.raises(KeyError, match="columns are numbers 0 to 1"):
        Sequences.from_events(np.array([[1, 10]]), user=0, item=5)


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT, np.datetime64("NaT")])
def test_missing_ids_in_sequences_are_refused(missing):
    with pytest.raises(ValueError, match=r"must not be None or NaN, found .* \(missing values"):
        Sequences.from_iterable([["a", missing], ["b"]])


def test_a_string_filter_is_refused_not_read_letter_by_letter():
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit([["a", "b", "c"], ["abc", "b", "a"]] * 5)
    with pytest.raises(TypeError, match="filter_items must be a collection of item ids"):
        model.recommend(["a"], filter_items="abc")
    ids, _ = model.recommend(["a"], filter_items=["abc"])
    assert "abc" not in ids.tolist()

"""update(): counts that accumulate, a state swapped in only on success."""

import numpy as np
import pytest

from item2vec import Item2Vec

BASE = [["a", "b", "c"], ["b", "c", "d"], ["a", "d", "c"]] * 10


def _fitted(**params):
    return Item2Vec(vector_size=8, sample=0, epochs=2, n_jobs=1, random_state=0, **params).fit(BASE)


def test_a_batch_of_items_all_under_min_count_is_counted_not_refused():
    model = _fitted(min_count=3)
    before = model.vectors_.copy()
    model.update([["x"], ["y", "x"]])  # nothing trainable yet: x twice, y once
    assert model.items_.tolist() == ["c", "a", "b", "d"]
    np.testing.assert_array_equal(model.vectors_, before)
    model.update([["x", "y"], ["y", "a"]])  # x reaches 3, y reaches 3
    # equal totals join in the batch's own order: y (twice in it) before x
    assert model.items_.tolist() == ["c", "a", "b", "d", "y", "x"]
    assert model.vocabulary_.counts[-2:].tolist() == [3, 3]


def test_a_batch_with_known_items_but_no_known_pair_still_counts():
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, min_count=3, random_state=0)
    model.fit([["a", "b"]] * 3)
    before = model.vectors_.copy()
    model.update([["x", "a"]])  # x is unknown, so "a" stands alone: no pair to train
    np.testing.assert_array_equal(model.vectors_, before)
    assert model.vocabulary_.counts.tolist() == [4, 3]
    assert model._record.pending_counts == {"x": 1}
    assert model.n_updates_ == 1
    model.update([["x", "b"], ["x"]])  # x reaches min_count and joins
    assert model.items_.tolist() == ["a", "b", "x"]
    assert model.vocabulary_.counts.tolist() == [4, 4, 3]


def test_a_batch_whose_pairs_subsampling_drops_still_counts():
    model = _fitted()
    before = model.vectors_.copy()
    counts = dict(zip(model.items_.tolist(), model.vocabulary_.counts.tolist(), strict=True))
    # keep probability about 1e-6 for every item: no pair survives
    model.set_params(sample=1e-12)
    model.update([["a", "b"], ["c", "d"]])
    np.testing.assert_array_equal(model.vectors_, before)
    got = dict(zip(model.items_.tolist(), model.vocabulary_.counts.tolist(), strict=True))
    assert got == {item: n + 1 for item, n in counts.items()}


def test_a_full_vocabulary_keeps_counting_the_items_left_out():
    model = _fitted(max_vocab_size=4)
    model.update([["z"]])
    assert "z" not in model
    assert model._record.pending_counts == {"z": 1}


def test_a_failed_update_leaves_the_model_as_it_was():
    model = _fitted()
    state, record = model.item_vectors_, model._record
    vectors = model.vectors_.copy()

    def fail(model, stats):
        raise RuntimeError("stop here")

    model.callbacks = [fail]
    with pytest.raises(RuntimeError, match="stop here"):
        model.update([["a", "new", "b"]] * 3)
    assert model.item_vectors_ is state and model._record is record
    np.testing.assert_array_equal(model.vectors_, vectors)
    assert "new" not in model
    assert model.n_updates_ == 0


def test_callbacks_during_update_see_the_state_being_trained():
    model = _fitted()
    seen = []
    model.callbacks = [lambda m, stats: seen.append("new" in m)]
    model.update([["a", "new", "b"]] * 3, epochs=2)
    assert seen == [True, True]
    assert model.n_updates_ == 1

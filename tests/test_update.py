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


@pytest.mark.parametrize(
    ("ids", "new"),
    [
        (np.array([10, 11, 12, 13], dtype=np.int32), 14),
        (np.array([2**63, 2**63 + 1, 2**63 + 2, 2**63 + 3], dtype=np.uint64), 2**63 + 4),
        (np.array(["a", "b", "c", "d"]), "a-much-longer-id"),
    ],
    ids=["int32", "uint64", "str"],
)
def test_update_keeps_the_id_dtype_with_and_without_new_items(ids, new):
    from item2vec import Sequences
    from item2vec.vocab import Vocabulary

    a, b = ids[:2].tolist()
    codes = np.array([0, 1, 2, 1, 2, 3] * 3, dtype=np.int32)
    corpus = Sequences(codes, np.arange(0, 19, 3), Vocabulary(ids, [3, 6, 6, 3]))
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit(corpus)
    dtype = model.items_.dtype
    assert dtype == ids.dtype
    model.update([[a, b]])  # no new item
    assert model.items_.dtype == dtype
    model.update([[a, new]])  # a new item that fits the dtype
    assert model.items_.dtype.kind == dtype.kind
    assert model.items_.tolist()[-1] == new
    if dtype.kind in "iu":
        assert model.items_.dtype == dtype


def test_an_int32_catalogue_grows_past_its_dtype_without_wrapping():
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit([np.array([1, 2, 3], dtype=np.int32)] * 3)
    model.update([[1, 2**40]])
    assert model.items_.tolist()[-1] == 2**40


def test_update_with_a_changed_vector_size_names_the_parameter():
    model = _fitted()
    model.set_params(vector_size=5)
    with pytest.raises(ValueError, match=r"^vector_size is 5 but the fitted vectors have 8 "):
        model.update([["a", "b"]])


def test_vectors_given_in_float64_are_kept_as_float32_and_train_further():
    from item2vec.vectors import ItemVectors

    fitted = _fitted()
    state = ItemVectors(
        fitted.vocabulary_, fitted.vectors_.astype(np.float64),
        fitted._state.output_vectors.astype(np.float64)[:, ::1],
    )  # fmt: skip
    assert state.vectors.dtype == state.output_vectors.dtype == np.float32
    np.testing.assert_array_equal(state.vectors, fitted.vectors_)
    model = Item2Vec(vector_size=8, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.item_vectors_ = state
    model.update([["a", "b", "e"]] * 3)
    assert model.items_.tolist()[-1] == "e"

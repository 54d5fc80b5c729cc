"""Approximate indexes (faiss HNSW): recall against the exact search, filters kept exact,
and an index that follows the model through save, load, update and fit."""

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.datasets import planted_sessions

pytest.importorskip("faiss")


@pytest.fixture(scope="module")
def data():
    return planted_sessions(n_sessions=3000, n_items=1500, n_clusters=30, mean_length=15,
                            random_state=0)  # fmt: skip


def _fitted(data):
    model = Item2Vec(vector_size=24, epochs=3, sample=0, n_jobs=1, random_state=0)
    return model.fit(data.sequences)


@pytest.fixture(scope="module")
def indexed(data):
    return _fitted(data).build_index(m=16, ef_construction=100, ef_search=64)


def _recall(exact, approx):
    return np.mean([len(set(a) & set(b)) / len(a) for a, b in
                    zip(exact.tolist(), approx.tolist(), strict=True)])  # fmt: skip


def test_queries_through_the_index_find_what_the_exact_search_finds(indexed):
    items = indexed.items_[:300]
    exact, _ = indexed.similar_items(items, topn=10, exact=True)
    approx, approx_scores = indexed.similar_items(items, topn=10)
    assert _recall(exact, approx) >= 0.95
    # the scores of what is found are the exact cosines, best first
    assert np.all(np.diff(approx_scores, axis=1) <= 1e-6)
    normed = indexed.normed_vectors
    codes = indexed.vocabulary_.codes_of(approx[0].tolist())
    np.testing.assert_allclose(approx_scores[0], normed[codes] @ normed[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("popularity", [0.0, 0.05])
def test_recommendations_through_the_index_keep_their_recall(indexed, data, popularity):
    histories = [s[:6].tolist() for s in data.sequences[:400]]
    exact, exact_scores = indexed.recommend_batch(histories, topn=10, popularity=popularity,
                                                  exact=True)  # fmt: skip
    approx, scores = indexed.recommend_batch(histories, topn=10, popularity=popularity)
    assert _recall(exact, approx) >= 0.95
    # an item found by both has the same score: the prior is added under the index too
    for e_row, e_scores, a_row, a_scores in zip(exact.tolist(), exact_scores, approx.tolist(),
                                                scores, strict=True):  # fmt: skip
        by_item = dict(zip(e_row, e_scores, strict=True))
        for item, score in zip(a_row, a_scores, strict=True):
            if item in by_item:
                assert score == pytest.approx(by_item[item], rel=1e-5, abs=1e-5)


def test_seen_and_filtered_items_are_never_returned(indexed, data):
    histories = [s.tolist() for s in data.sequences[:200]]
    banned = indexed.items_[:200].tolist()  # the most popular items, wanted by every query
    ids, _ = indexed.recommend_batch(histories, topn=20, filter_items=banned)
    for history, row in zip(histories, ids.tolist(), strict=True):
        assert not set(row) & set(history)
        assert not set(row) & set(banned)
        assert len(row) == 20


def test_filters_that_leave_only_a_few_items_widen_the_search_to_the_exact_answer(indexed):
    allowed = indexed.items_[-5:].tolist()
    banned = [item for item in indexed.items_.tolist() if item not in allowed]
    history = [indexed.items_[0]]
    got = indexed.recommend(history, topn=10, filter_items=banned)
    expected = indexed.recommend(history, topn=10, filter_items=banned, exact=True)
    assert got[0].tolist() == expected[0].tolist()  # all five, in the exact order
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5)
    most = indexed.most_similar(indexed.items_[0], topn=len(indexed.items_) - 1)
    assert len(most) == len(indexed.items_) - 1  # every other item, none twice
    assert len({item for item, _ in most}) == len(most)


def test_the_index_survives_save_and_load(indexed, tmp_path):
    indexed.save(tmp_path / "m.npz")
    items = indexed.items_[:50]
    expected = indexed.similar_items(items, topn=10)
    for mmap in (False, True):
        loaded = Item2Vec.load(tmp_path / "m.npz", mmap=mmap)
        assert sorted(loaded.item_vectors_.indexes) == ["cosine", "output"]
        got = loaded.similar_items(items, topn=10)
        assert got[0].tolist() == expected[0].tolist()


def test_update_rebuilds_the_index_and_queries_see_the_new_items(data):
    model = _fitted(data).build_index(m=16, ef_construction=100, ef_search=64)
    old_index = model.item_vectors_.indexes["cosine"]
    new_items = [10_000 + k for k in range(5)]
    model.update([[new_items[k % 5], new_items[(k + 1) % 5]] for k in range(200)])
    indexes = model.item_vectors_.indexes
    assert sorted(indexes) == ["cosine", "output"] and indexes["cosine"] is not old_index
    assert indexes["cosine"].n_items == len(model.items_)
    neighbours = [item for item, _ in model.most_similar(new_items[0], topn=4)]
    exact = [item for item, _ in model.most_similar(new_items[0], topn=4, exact=True)]
    assert neighbours == exact and set(neighbours) == set(new_items[1:])


def test_fitting_again_drops_the_index(data):
    model = _fitted(data).build_index(m=16)
    model.fit(data.sequences[:500])
    assert model.item_vectors_.indexes == {}


def test_a_corrupt_index_in_a_model_file_is_refused(indexed, tmp_path):
    import json

    indexed.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays["meta"]))
    meta["indexes"]["cosine"]["n_items"] = 3
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(ValueError, match=r"m\.npz is (a )?corrupt"):
        Item2Vec.load(tmp_path / "m.npz")


def test_without_faiss_building_names_the_extra_and_loading_falls_back(
    indexed, tmp_path, without_module
):
    indexed.save(tmp_path / "m.npz")
    without_module("faiss")
    with pytest.raises(ImportError, match=r"pip install 'item2vec\[ann\]'"):
        Item2Vec(vector_size=4, sample=0).fit([["a", "b"]] * 5).build_index()
    with pytest.warns(UserWarning, match="holds an approximate index, which needs faiss"):
        loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.item_vectors_.indexes == {}
    assert loaded.similar_items(indexed.items_[:3], topn=5)[0].tolist() == (
        indexed.similar_items(indexed.items_[:3], topn=5, exact=True)[0].tolist()
    )


@pytest.mark.parametrize(("name", "value"), [("m", 1), ("ef_search", 0), ("ef_construction", 1.5)])
def test_invalid_index_parameters_are_refused(indexed, name, value):
    with pytest.raises(ValueError, match=f"{name} must be an int >= 2"):
        Item2Vec(vector_size=4, sample=0).fit([["a", "b"]] * 5).build_index(**{name: value})


def test_a_widened_search_leaves_the_shared_index_as_it_was(indexed):
    # the width goes with each search call: queries on other threads keep their own
    graphs = [index.index for index in indexed._state.indexes.values()]
    before = [graph.hnsw.efSearch for graph in graphs]
    allowed = indexed.items_[-5:].tolist()
    banned = [item for item in indexed.items_.tolist() if item not in allowed]
    indexed.recommend([indexed.items_[0]], topn=10, filter_items=banned)
    indexed.most_similar(indexed.items_[0], topn=500)
    assert [graph.hnsw.efSearch for graph in graphs] == before


def test_exact_queries_ignore_a_poor_index(data):
    # an index built to miss (tiny graph, tiny search width) must not touch exact=True
    model = _fitted(data).build_index(m=2, ef_construction=2, ef_search=2)
    items = model.items_[:200]
    normed = model.vectors_ / np.linalg.norm(model.vectors_, axis=1, keepdims=True)
    sims = normed[:200] @ normed.T
    sims[np.arange(200), np.arange(200)] = -np.inf  # an item is not its own neighbour
    reference = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    exact, exact_scores = model.similar_items(items, topn=10, exact=True)
    assert exact.tolist() == model.items_[reference].tolist()
    np.testing.assert_allclose(exact_scores, np.take_along_axis(sims, reference, 1), rtol=1e-5)
    approx, approx_scores = model.similar_items(items, topn=10)
    assert approx.tolist() != exact.tolist()  # the index does miss: the check above bites
    assert approx_scores.dtype == exact_scores.dtype == np.float32
    # most_similar too, item by item
    for row, item in enumerate(items[:50].tolist()):
        found = [other for other, _ in model.most_similar(item, topn=10, exact=True)]
        assert found == model.items_[reference[row]].tolist()

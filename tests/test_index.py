"""Approximate indexes (faiss inverted lists and HNSW graphs): recall against the exact
search, filters kept exact, and an index that follows the model through save, load,
update and fit."""

import json

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.datasets import planted_sessions

faiss = pytest.importorskip("faiss")

from item2vec.index import ApproximateIndex, default_nlist  # noqa: E402  (needs faiss)

STRUCTURES = ["hnsw", "ivf"]


@pytest.fixture(scope="module", autouse=True)
def one_faiss_thread():
    # OpenMP threads spin while they wait: on a busy machine two of them make these
    # small builds several times slower than one
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return planted_sessions(n_sessions=3000, n_items=1500, n_clusters=30, mean_length=15,
                            random_state=0)  # fmt: skip


def _fitted(data):
    # the input cosine: the "cosine" index these tests build and check
    model = Item2Vec(
        vector_size=24, epochs=3, sample=0, n_jobs=1, random_state=0, similarity="input"
    )
    return model.fit(data.sequences)


def _with_indexes(model, structure, **params):
    """The model with both indexes of one structure (HNSW through build_index; inverted
    lists set as build_index will set them)."""
    if structure == "hnsw":
        return model.build_index(**params)
    state = model.item_vectors_
    state.indexes = {
        "cosine": ApproximateIndex(state.vectors, "cosine", structure="ivf", **params),
        "output": ApproximateIndex(state.output_vectors, "inner", structure="ivf", **params),
    }
    return model


# the inverted lists scan few of their lists, so that misses are possible
PARAMS = {"hnsw": {"m": 16, "ef_construction": 100, "ef_search": 64},
          "ivf": {"nlist": 38, "nprobe": 8}}  # fmt: skip


@pytest.fixture(scope="module", params=STRUCTURES)
def indexed(data, request):
    return _with_indexes(_fitted(data), request.param, **PARAMS[request.param])


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


@pytest.mark.parametrize("structure", STRUCTURES)
def test_update_refreshes_the_index_and_queries_see_the_new_items(data, structure):
    settings = {"hnsw": dict(m=16, ef_construction=100, ef_search=64), "ivf": {}}[structure]
    model = _fitted(data).build_index(**settings)
    old_index = model.item_vectors_.indexes["cosine"]
    new_items = [10_000 + k for k in range(5)]
    model.update([[new_items[k % 5], new_items[(k + 1) % 5]] for k in range(200)])
    indexes = model.item_vectors_.indexes
    assert sorted(indexes) == ["cosine", "output"] and indexes["cosine"] is not old_index
    assert indexes["cosine"].n_items == len(model.items_)
    for index in indexes.values():  # refreshed: the same structure and settings as before
        assert index.describe()["structure"] == structure
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


def _width_of(index):
    return index.index.hnsw.efSearch if index.structure == "hnsw" else index.index.nprobe


def test_a_widened_search_leaves_the_shared_index_as_it_was(indexed):
    # the width goes with each search call: queries on other threads keep their own
    indexes = list(indexed._state.indexes.values())
    before = [_width_of(index) for index in indexes]
    allowed = indexed.items_[-5:].tolist()
    banned = [item for item in indexed.items_.tolist() if item not in allowed]
    indexed.recommend([indexed.items_[0]], topn=10, filter_items=banned)
    indexed.most_similar(indexed.items_[0], topn=500)
    assert [_width_of(index) for index in indexes] == before


POOR = {"hnsw": {"m": 2, "ef_construction": 2, "ef_search": 2}, "ivf": {"nlist": 38, "nprobe": 1}}


@pytest.mark.parametrize("structure", STRUCTURES)
def test_exact_queries_ignore_a_poor_index(data, structure):
    # an index built to miss (tiny graph or one list scanned) must not touch exact=True
    model = _with_indexes(_fitted(data), structure, **POOR[structure])
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


# --- the structures on their own, against brute force in numpy --------------------------


def _clustered(n, dim, seed, spread=0.7):
    """A Gaussian mixture of n / 20 topics, each row's norm scaled by its own factor
    (log-normal, sigma 0.16, as the output vectors of a model trained on MovieLens-100K
    vary), so the inner-product search meets rows of different lengths."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 20, dim))
    rows = centres[rng.integers(0, len(centres), n)] + spread * rng.standard_normal((n, dim))
    return (rows * rng.lognormal(0.0, 0.16, (n, 1))).astype(np.float32)


def _brute_force(queries, items, k, kind):
    """Top-k by the definition: cosines with unit items, or raw inner products."""
    items = np.asarray(items, dtype=np.float64)
    if kind == "cosine":
        items = items / np.linalg.norm(items, axis=1, keepdims=True)
    scores = np.asarray(queries, dtype=np.float64) @ items.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
    return np.take_along_axis(top, order, 1), scores


@pytest.fixture(scope="module")
def clustered():
    return _clustered(20_000, 64, seed=1)


def _queries_for(kind, vectors, seed):
    rng = np.random.default_rng(seed)
    if kind == "cosine":
        picked = vectors[rng.choice(len(vectors), 200, replace=False)]
        return picked / np.linalg.norm(picked, axis=1, keepdims=True)
    # a history's mean: five items of one topic (near one another)
    anchors = rng.choice(len(vectors), 200, replace=False)
    return np.stack([vectors[a] + 0.3 * rng.standard_normal(vectors.shape[1]) for a in anchors])


@pytest.mark.parametrize("kind", ["cosine", "inner"])
def test_the_default_structure_reaches_the_recall_of_its_measurements(clustered, kind):
    index = ApproximateIndex(clustered, kind)
    # the defaults: inverted lists, some of them scanned (not a scan of everything)
    assert (index.structure, index.nlist, index.nprobe) == ("ivf", default_nlist(20_000), 64)
    assert index.nprobe * 4 <= index.nlist
    queries = _queries_for(kind, clustered, seed=2)
    expected, scores = _brute_force(queries, clustered, 10, kind)
    found, found_scores = index.search(queries, 10)
    assert _recall(expected, found) >= 0.95
    # the scores are the exact ones, best first
    np.testing.assert_allclose(found_scores, np.take_along_axis(scores, found, 1),
                               rtol=1e-4, atol=1e-4)  # fmt: skip
    assert np.all(np.diff(found_scores, axis=1) <= 0)
    # an eighth of the lists already finds them: each list holds one neighbourhood
    # (by direction, whatever the rows' lengths)
    narrow = ApproximateIndex(clustered, kind, nprobe=index.nlist // 8)
    assert _recall(expected, narrow.search(queries, 10)[0]) >= 0.95


def test_default_nlist_follows_the_square_root_with_enough_items_per_list():
    # the power of two nearest 2 * sqrt(n), at most n / 39 (k-means' minimum per centre)
    assert [default_nlist(n) for n in (0, 1, 38, 39, 1_500, 100_000, 300_000, 1_000_000)] == [
        1, 1, 1, 1, 38, 512, 1024, 2048
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["cosine", "inner"])
def test_filters_stay_exact_and_thin_rows_fall_back_to_the_exact_search(clustered, kind):
    index = ApproximateIndex(clustered, kind, nprobe=2)
    queries = _queries_for(kind, clustered, seed=3)[:20]
    _, scores = _brute_force(queries, clustered, 10, kind)
    # each query excludes its 30 best items, and 1,000 items are banned for all
    exclude_rows = np.argpartition(-scores, 30, axis=1)[:, :30]
    import scipy.sparse as sp

    exclude = sp.csr_array((np.ones(exclude_rows.size), exclude_rows.ravel(),
                            np.arange(0, exclude_rows.size + 1, 30)),
                           shape=(20, len(clustered)))  # fmt: skip
    banned = np.arange(0, 20_000, 20)
    calls = []

    def exact_rows(rows, k):
        calls.append(rows.tolist())
        allowed = scores[rows].copy()
        allowed[:, banned] = -np.inf
        np.put_along_axis(allowed, exclude_rows[rows], -np.inf, 1)
        best = np.argsort(-allowed, axis=1, kind="stable")[:, :k]
        return best, np.take_along_axis(allowed, best, 1).astype(np.float32)

    found, _ = index.search(queries, 10, exclude=exclude, banned=banned, exact_rows=exact_rows)
    for row in range(20):
        assert not set(found[row].tolist()) & set(exclude_rows[row].tolist())
        assert not set(found[row].tolist()) & set(banned.tolist())
        assert len(set(found[row].tolist())) == 10
    assert calls == []  # widening the lists answered every row
    # only five items left: the widened search reaches every list, then the exact one
    only = np.arange(5)
    found, _ = index.search(queries[:3], 5, banned=np.arange(5, 20_000), exact_rows=exact_rows)
    assert sorted(found[0].tolist()) == only.tolist()
    found, _ = index.search(queries[:3], 6, banned=np.arange(5, 20_000), exact_rows=exact_rows)
    assert calls == [[0, 1, 2]]  # six wanted of five allowed: no index can answer


def _moved(vectors, seed, n_new):
    """An update's effect: every vector moved a little, new items appended."""
    rng = np.random.default_rng(seed)
    moved = vectors + 0.1 * vectors.std() * rng.standard_normal(vectors.shape)
    new = vectors[rng.choice(len(vectors), n_new)] + 0.3 * rng.standard_normal(
        (n_new, vectors.shape[1])
    )
    return np.vstack([moved, new]).astype(np.float32)


def _centres(index):
    quantizer = faiss.downcast_index(index.index.quantizer)
    return quantizer.reconstruct_n(0, quantizer.ntotal)


@pytest.mark.parametrize("kind", ["cosine", "inner"])
def test_refreshed_lists_keep_their_centres_and_their_recall_over_updates(clustered, kind):
    index = ApproximateIndex(clustered, kind)
    centres, vectors = _centres(index), clustered
    for round_ in range(4):
        vectors = _moved(vectors, seed=10 + round_, n_new=500)
        old_total = index.index.ntotal
        refreshed = index.refreshed(vectors)
        assert index.index.ntotal == old_total  # the old index still answers as it did
        index = refreshed
        assert index.n_items == index.index.ntotal == len(vectors)
        np.testing.assert_array_equal(_centres(index), centres)  # no k-means ran
        queries = _queries_for(kind, vectors, seed=20 + round_)
        expected, _ = _brute_force(queries, vectors, 10, kind)
        assert _recall(expected, index.search(queries, 10)[0]) >= 0.95
    assert index.describe()["trained_items"] == 20_000


def test_lists_are_trained_again_when_the_catalogue_outgrows_them(clustered):
    small = ApproximateIndex(clustered[:2_000], "cosine")
    grown = small.refreshed(clustered)  # ten times the items
    assert (small.nlist, grown.nlist) == (default_nlist(2_000), default_nlist(20_000))
    assert grown.describe()["trained_items"] == 20_000
    assert small.refreshed(clustered[:8_000]).nlist == small.nlist  # four times: kept
    empty = ApproximateIndex(clustered[:0], "inner")
    assert empty.search(clustered[:2], 3)[0].tolist() == [[-1] * 3] * 2
    # an empty index has nothing learned to keep: refreshing it builds afresh
    filled = empty.refreshed(clustered[:4_000])
    fresh = ApproximateIndex(clustered[:4_000], "inner")
    assert filled.describe() == fresh.describe()
    queries = _queries_for("inner", clustered[:4_000], seed=5)
    assert filled.search(queries, 10)[0].tolist() == fresh.search(queries, 10)[0].tolist()


def test_a_refreshed_graph_adds_only_new_items_when_the_old_ones_did_not_move(
    clustered, monkeypatch
):
    graph = ApproximateIndex(clustered[:3_000], "cosine", m=8, ef_construction=40)
    built = []
    original = faiss.IndexHNSWFlat
    monkeypatch.setattr(faiss, "IndexHNSWFlat", lambda *a: built.append(a) or original(*a))
    grown = graph.refreshed(clustered[:3_200])
    assert built == []  # extended, not built again
    moved = _moved(clustered[:3_000], seed=3, n_new=200)
    rebuilt = graph.refreshed(moved)
    assert len(built) == 1  # a node cannot move: built again
    assert graph.index.ntotal == 3_000 and grown.index.ntotal == rebuilt.index.ntotal == 3_200
    # the rebuilt graph holds the moved rows
    np.testing.assert_allclose(rebuilt.index.reconstruct_n(0, 3_200),
                               moved / np.linalg.norm(moved, axis=1, keepdims=True),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    for index, vectors in ((grown, clustered[:3_200]), (rebuilt, moved)):
        queries = _queries_for("cosine", vectors, seed=6)
        expected, _ = _brute_force(queries, vectors, 10, "cosine")
        assert _recall(expected, index.search(queries, 10)[0]) >= 0.95


def test_refreshing_with_vectors_of_another_width_is_refused(clustered):
    index = ApproximateIndex(clustered[:2_000], "cosine")
    with pytest.raises(ValueError, match=r"vectors must have shape \(n_items, 64\)"):
        index.refreshed(clustered[:2_000, :8])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"structure": "tree"}, "structure must be 'ivf' or 'hnsw', got 'tree'"),
        ({"nprobe": 0}, "nprobe must be an int >= 1, got 0"),
        ({"nlist": 2.5}, "nlist must be an int >= 1, got 2.5"),
        ({"m": 16, "nlist": 64}, "nlist applies to structure='ivf', not 'hnsw'"),
        ({"structure": "ivf", "ef_search": 64}, "ef_search applies to structure='hnsw'"),
        ({"kind": "l2"}, "kind must be 'cosine' or 'inner', got 'l2'"),
    ],
)
def test_invalid_structures_and_list_settings_are_refused(clustered, params, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ApproximateIndex(clustered[:500], **params)


def test_an_index_saved_in_the_first_format_still_loads(data, tmp_path):
    # format 1 described an HNSW graph without naming its structure
    model = _fitted(data).build_index(m=16, ef_construction=100, ef_search=64)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(str(arrays["meta"]))
    for description in meta["indexes"].values():
        assert description["format"] == 2
        description.pop("structure")
        description.update(format=1, backend="faiss-hnsw")
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    loaded = Item2Vec.load(tmp_path / "old.npz")
    cosine = loaded.item_vectors_.indexes["cosine"]
    assert (cosine.structure, cosine.m, cosine.ef_search) == ("hnsw", 16, 64)
    items = model.items_[:50]
    assert loaded.similar_items(items, topn=10)[0].tolist() == (
        model.similar_items(items, topn=10)[0].tolist()
    )


def test_an_index_whose_bytes_are_of_another_structure_is_refused(clustered):
    lists = ApproximateIndex(clustered[:2_000], "cosine")
    graph = ApproximateIndex(clustered[:2_000], "cosine", m=8)
    with pytest.raises(ValueError, match="does not match its description"):
        ApproximateIndex.from_bytes(graph.to_bytes(), lists.describe())
    with pytest.raises(ValueError, match="unknown index structure 'tree'"):
        ApproximateIndex.from_bytes(lists.to_bytes(), lists.describe() | {"structure": "tree"})
    with pytest.raises(ValueError, match="unsupported index format 3"):
        ApproximateIndex.from_bytes(lists.to_bytes(), lists.describe() | {"format": 3})
    back = ApproximateIndex.from_bytes(lists.to_bytes(), lists.describe())
    assert back.describe() == lists.describe()

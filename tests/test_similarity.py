"""Item-to-item similarity: the "input" and "inout" cosines on every query surface.

A query is the unit input vector of an item (or the normalised sum of several
items' unit input vectors, minus those of the negative items, or a raw vector
scaled to unit length); "input" scores it against every item's unit input
vector, "inout" against every item's unit input + output vector. The expected
rankings are computed here in float64 NumPy from the vectors alone (a stable
full sort: ties by lower row), and compared in order.

The estimator remembers a similarity (its ``similarity`` parameter): a query
that leaves it out uses it, one that passes a value uses that. The tests that
need the parameter declared on ``Item2Vec`` (saving and loading it, the
exported table and Spark following it) skip until it is.
"""

import json
import zipfile

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.io import export_similar_items, load_model, save_model
from item2vec.vectors import SIMILARITIES, ItemVectors
from item2vec.vocab import Vocabulary

ITEMS = [f"i{n}" for n in range(14)]
COUNTS = [90, 70, 55, 40, 33, 25, 20, 16, 12, 9, 6, 4, 2, 1]
DIM = 6

needs_param = pytest.mark.skipif(
    "similarity" not in Item2Vec().get_params(),
    reason="Item2Vec does not declare the similarity parameter yet",
)


def vectors(seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(len(ITEMS), DIM)).astype(np.float32)
    u = rng.normal(size=(len(ITEMS), DIM)).astype(np.float32)
    return w, u


def state(seed=0, output=True):
    w, u = vectors(seed)
    return ItemVectors(Vocabulary(ITEMS, COUNTS), w, u if output else None)


def model_with(seed=0, remembered=None):
    """An Item2Vec holding the vectors of ``state(seed)``, remembering ``remembered``."""
    model = Item2Vec(vector_size=DIM)
    if remembered is not None:
        model.similarity = remembered  # what set_params writes, declared or not
    model.item_vectors_ = state(seed)
    return model


def unit(a):
    a = np.asarray(a, dtype=np.float64)
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def reference(seed, similarity, query, exclude=()):
    """Rows ranked by the cosine of ``query`` with each item's ``similarity`` vector."""
    w, u = vectors(seed)
    w, u = w.astype(np.float64), u.astype(np.float64)
    items = unit(w if similarity == "input" else w + u)
    scores = items @ unit(query)
    scores[list(exclude)] = -np.inf
    order = np.argsort(-scores, kind="stable")
    order = order[np.isfinite(scores[order])]
    return [ITEMS[i] for i in order], scores[order]


def item_query(seed, positive, negative=()):
    w = vectors(seed)[0].astype(np.float64)
    return sum(unit(w[ITEMS.index(p)]) for p in positive) - sum(
        (unit(w[ITEMS.index(n)]) for n in negative), np.zeros(DIM)
    )


def assert_ranked(got, expected_items, expected_scores, k):
    assert [item for item, _ in got] == expected_items[:k]
    np.testing.assert_allclose([s for _, s in got], expected_scores[:k], atol=1e-5)


def test_the_references_of_the_two_similarities_differ():
    # else a test could pass with one similarity answering for the other
    query = item_query(0, ["i0"])
    assert reference(0, "input", query, [0])[0] != reference(0, "inout", query, [0])[0]


@pytest.mark.parametrize("similarity", SIMILARITIES)
@pytest.mark.parametrize("item", ["i0", "i5", "i13"])
def test_most_similar_ranks_by_the_cosine_with_the_similaritys_vectors(similarity, item):
    got = state().most_similar(item, topn=7, similarity=similarity)
    items, scores = reference(0, similarity, item_query(0, [item]), [ITEMS.index(item)])
    assert_ranked(got, items, scores, 7)


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_most_similar_sums_positive_and_subtracts_negative_unit_input_vectors(similarity):
    got = state(1).most_similar(["i1", "i4"], negative=["i9"], topn=11, similarity=similarity)
    query = item_query(1, ["i1", "i4"], ["i9"])
    items, scores = reference(1, similarity, query, [1, 4, 9])
    assert_ranked(got, items, scores, 11)


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_similar_items_rows_are_the_full_rankings_in_order(similarity):
    asked = ["i3", "i0", "i12", "i3"]
    ids, scores = state(2).similar_items(asked, topn=len(ITEMS), similarity=similarity)
    assert ids.shape == scores.shape == (len(asked), len(ITEMS) - 1)
    for row, item in enumerate(asked):
        items, expected = reference(2, similarity, item_query(2, [item]), [ITEMS.index(item)])
        assert ids[row].tolist() == items
        np.testing.assert_allclose(scores[row], expected, atol=1e-5)


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_similar_by_vector_compares_a_raw_vector_as_a_query(similarity):
    raw = np.array([0.3, -2.0, 0.7, 1.1, 0.0, -0.4], dtype=np.float32)
    got = state(3).similar_by_vector(raw, topn=len(ITEMS), similarity=similarity)
    items, scores = reference(3, similarity, raw)
    assert_ranked(got, items, scores, len(ITEMS))


def test_an_items_own_input_vector_finds_what_most_similar_finds():
    vectors_ = state(4)
    by_item = vectors_.most_similar("i2", topn=5, similarity="inout")
    by_vector = vectors_.similar_by_vector(vectors_.get_vector("i2"), topn=6, similarity="inout")
    others = [pair for pair in by_vector if pair[0] != "i2"][:5]
    assert [item for item, _ in others] == [item for item, _ in by_item]
    assert [score for _, score in others] == pytest.approx([score for _, score in by_item])


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_inout_without_output_vectors_answers_with_the_input_cosine(similarity):
    without = state(5, output=False)
    items, scores = reference(5, "input", item_query(5, ["i6"]), [6])
    assert_ranked(without.most_similar("i6", topn=8, similarity=similarity), items, scores, 8)
    assert without.similarity_of(similarity) == "input"


def test_changed_drops_the_cached_inout_vectors():
    vectors_ = state(6)
    before = vectors_.similarity_vectors("inout").copy()
    new_w, new_u = vectors(7)
    vectors_.vectors[:] = new_w  # training writes in place, then calls changed()
    vectors_.output_vectors[:] = new_u
    vectors_.changed()
    after = vectors_.similarity_vectors("inout")
    np.testing.assert_allclose(after, unit(new_w.astype(np.float64) + new_u), atol=1e-6)
    assert not np.allclose(after, before)


# --- bad values --------------------------------------------------------------------------


BAD_CALLS = {
    "most_similar": lambda s, bad: s.most_similar("i0", similarity=bad),
    "similar_items": lambda s, bad: s.similar_items(["i0"], similarity=bad),
    "similar_by_vector": lambda s, bad: s.similar_by_vector(np.ones(DIM, "f4"), similarity=bad),
}


@pytest.mark.parametrize("bad", ["cosine", "", None, 1, "INOUT"])
@pytest.mark.parametrize(
    ("holder", "call"),
    [*((h, c) for h in ("ItemVectors", "Item2Vec") for c in BAD_CALLS),
     ("ItemVectors", "similarity_vectors")],
)  # fmt: skip
def test_an_unknown_similarity_is_refused_naming_the_parameter(bad, holder, call):
    target = state() if holder == "ItemVectors" else model_with()
    run = BAD_CALLS.get(call, lambda s, bad: s.similarity_vectors(bad))
    with pytest.raises(ValueError, match=f"similarity must be 'input' or 'inout', got {bad!r}"):
        run(target, bad)


def test_an_unknown_remembered_similarity_is_refused_at_query_time():
    model = model_with(remembered="cosine")
    with pytest.raises(ValueError, match="similarity must be 'input' or 'inout', got 'cosine'"):
        model.most_similar("i0")


def test_export_refuses_an_unknown_similarity_before_writing(tmp_path):
    path = tmp_path / "sim.csv"
    with pytest.raises(ValueError, match="similarity must be 'input' or 'inout', got 'x'"):
        export_similar_items(state(), path, similarity="x")
    assert not path.exists()


# --- the remembered similarity: left out, a value, the plain input cosine ------------------

SURFACES = {
    "most_similar": lambda m, **kw: m.most_similar("i3", topn=9, **kw),
    "similar_items": lambda m, **kw: _pairs(*m.similar_items(["i3"], topn=9, **kw)),
    "similar_by_vector": lambda m, **kw: [
        pair for pair in m.similar_by_vector(m.get_vector("i3"), topn=10, **kw) if pair[0] != "i3"
    ][:9],
}


def _pairs(ids, scores):
    return list(zip(ids[0].tolist(), scores[0].tolist(), strict=True))


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    ("remembered", "given", "means"),
    [
        ("inout", {}, "inout"),  # left out: the model's
        ("input", {}, "input"),
        ("input", {"similarity": "inout"}, "inout"),  # a value
        ("inout", {"similarity": "input"}, "input"),  # the plain cosine ("off")
    ],
    ids=["left out: inout", "left out: input", "value", "off"],
)
def test_a_query_uses_the_given_similarity_or_the_models(surface, remembered, given, means):
    model = model_with(8, remembered)
    got = SURFACES[surface](model, **given)
    items, scores = reference(8, means, item_query(8, ["i3"]), [3])
    assert_ranked(got, items, scores, 9)


# --- export ------------------------------------------------------------------------------


def _read_table(path):
    lines = path.read_text().splitlines()
    assert lines[0] == "item,rank,neighbor,score"
    rows = [line.split(",") for line in lines[1:]]
    return {(item, int(rank)): (neighbor, float(score)) for item, rank, neighbor, score in rows}


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_export_writes_each_items_ranking_by_the_similarity(tmp_path, similarity):
    path = tmp_path / "sim.csv"
    assert export_similar_items(state(9), path, topn=4, block=5, similarity=similarity) == 56
    table = _read_table(path)
    for code, item in enumerate(ITEMS):
        items, scores = reference(9, similarity, item_query(9, [item]), [code])
        assert [table[item, rank][0] for rank in range(1, 5)] == items[:4]
        np.testing.assert_allclose([table[item, r][1] for r in range(1, 5)], scores[:4], atol=1e-5)


@needs_param
@pytest.mark.parametrize(
    ("remembered", "given", "means"),
    [("inout", {}, "inout"), ("input", {}, "input"), ("input", {"similarity": "inout"}, "inout")],
    ids=["left out: inout", "left out: input", "value"],
)
def test_the_models_export_follows_its_similarity(tmp_path, remembered, given, means):
    path = tmp_path / "sim.csv"
    model_with(10, remembered).export_similar_items(path, topn=3, **given)
    table = _read_table(path)
    for code, item in enumerate(ITEMS):
        items, _ = reference(10, means, item_query(10, [item]), [code])
        assert [table[item, rank][0] for rank in range(1, 4)] == items[:3]


# --- saving and loading ------------------------------------------------------------------


@needs_param
@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_the_remembered_similarity_survives_save_and_load(tmp_path, similarity):
    model = Item2Vec(vector_size=DIM, similarity=similarity)
    model.item_vectors_ = state(11)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.similarity == similarity
    items, scores = reference(11, similarity, item_query(11, ["i1"]), [1])
    assert_ranked(loaded.most_similar("i1", topn=6), items, scores, 6)


@needs_param
def test_a_file_written_before_the_setting_loads_with_the_input_cosine(tmp_path):
    path = tmp_path / "m.npz"
    model = Item2Vec(vector_size=DIM, similarity="inout")
    model.item_vectors_ = state(12)
    model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["params"]["similarity"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    loaded = Item2Vec.load(path)
    assert loaded.similarity == "input"
    items, scores = reference(12, "input", item_query(12, ["i0"]), [0])
    assert_ranked(loaded.most_similar("i0", topn=6), items, scores, 6)


# --- the approximate index ---------------------------------------------------------------


def _spy(index, calls):
    search = index.search

    def spied(*args, **kwargs):
        calls.append(index)
        return search(*args, **kwargs)

    index.search = spied


def test_an_inout_index_answers_inout_queries_and_survives_save_and_load(tmp_path):
    pytest.importorskip("faiss")
    vectors_ = state(13)
    vectors_.build_index()
    vectors_.build_similarity_index("inout")
    assert sorted(vectors_.indexes) == ["cosine", "inout", "output"]
    for similarity, name in (("input", "cosine"), ("inout", "inout")):
        calls = []
        _spy(vectors_.indexes[name], calls)
        items, scores = reference(13, similarity, item_query(13, ["i4"]), [4])
        assert_ranked(vectors_.most_similar("i4", topn=5, similarity=similarity), items, scores, 5)
        assert calls == [vectors_.indexes[name]]
    save_model(tmp_path / "m.npz", Item2Vec(vector_size=DIM).get_params(), vectors_, _record())
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert "index_inout.npy" in archive.namelist()
    loaded = load_model(tmp_path / "m.npz").state
    assert sorted(loaded.indexes) == ["cosine", "inout", "output"]
    calls = []
    _spy(loaded.indexes["inout"], calls)
    items, scores = reference(13, "inout", item_query(13, ["i8"]), [8])
    assert_ranked(loaded.most_similar("i8", topn=5, similarity="inout"), items, scores, 5)
    assert len(calls) == 1


def test_the_default_index_build_leaves_inout_queries_exact():
    pytest.importorskip("faiss")
    vectors_ = state(14)
    vectors_.build_index()
    assert "inout" not in vectors_.indexes
    items, scores = reference(14, "inout", item_query(14, ["i2"]), [2])
    assert_ranked(vectors_.most_similar("i2", topn=5, similarity="inout"), items, scores, 5)


def test_without_output_vectors_an_inout_index_is_the_input_index():
    pytest.importorskip("faiss")
    vectors_ = state(16, output=False)
    vectors_.build_similarity_index("inout")
    assert sorted(vectors_.indexes) == ["cosine"]
    items, scores = reference(16, "input", item_query(16, ["i5"]), [5])
    assert_ranked(vectors_.most_similar("i5", topn=5, similarity="inout"), items, scores, 5)


@needs_param
@pytest.mark.parametrize(
    ("similarity", "built"),
    [("inout", ["cosine", "inout", "output"]), ("input", ["cosine", "output"])],
)
def test_the_model_indexes_its_similarity_and_update_builds_it_again(similarity, built):
    pytest.importorskip("faiss")
    sequences = [[f"i{(s + j) % 14}" for j in range(5)] for s in range(14)] * 3
    model = Item2Vec(vector_size=DIM, epochs=2, n_jobs=1, random_state=0, similarity=similarity)
    model.fit(sequences).build_index()
    assert sorted(model.item_vectors_.indexes) == built
    model.update([["i1", "i2", "new", "i3"]] * 3)
    assert sorted(model.item_vectors_.indexes) == built
    searched = "inout" if similarity == "inout" else "cosine"
    assert model.item_vectors_.indexes[searched].n_items == 15  # built for the new vectors


def _record():
    from item2vec._training import TrainingRecord

    return TrainingRecord()


# --- Spark -------------------------------------------------------------------------------


@needs_param
def test_spark_similar_items_follows_the_models_similarity(spark):
    from item2vec import spark as i2v_spark

    model = Item2Vec(vector_size=DIM, similarity="inout")
    model.item_vectors_ = state(15)
    got = i2v_spark.similar_items(model, topn=3, spark=spark, block=4).toPandas()
    for code, item in enumerate(ITEMS):
        rows = got[got["item"] == item].sort_values("rank")
        items, scores = reference(15, "inout", item_query(15, [item]), [code])
        assert rows.neighbor.tolist() == items[:3]
        np.testing.assert_allclose(rows.score, scores[:3], atol=1e-5)

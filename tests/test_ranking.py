"""Ranked results of the query side, compared in order with plain-numpy references.

Every reference here scores the full matrix, masks what must not be returned
and sorts stably by (-score, index), so exact ties go to the lower item index.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from item2vec import Item2Vec, neighbors
from item2vec.baselines import ItemKNN, Popularity
from item2vec.corpus import Sequences
from item2vec.neighbors import top_k, top_k_scores
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

# --- references ---------------------------------------------------------------


def reference_top(scores, k, excluded=None):
    """The ``k`` best allowed, finite (index, score) per row; padded with -1 / -inf."""
    scores = np.asarray(scores)
    allowed = np.isfinite(scores)
    if excluded is not None:
        allowed &= ~excluded
    key = np.where(allowed, -scores, np.inf)
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    real = np.arange(order.shape[1]) < allowed.sum(axis=1, keepdims=True)
    idx = np.where(real, order, -1)
    top = np.where(real, np.take_along_axis(scores, order, axis=1), -np.inf)
    return idx, top


def reference_weights(codes, stamps, n_items, last_n, half_life, time_half_life):
    """Aggregation weights of one history (oldest event first) from the documented rule.

    Only the ``last_n`` most recent events count; an event ``d`` steps before the
    last one weighs ``0.5 ** (d / half_life)``, times ``0.5 ** (dt / time_half_life)``
    for an event ``dt`` older than the newest known one; weights sum to 1.
    """
    n_events = len(codes)
    window = [
        p for p in range(n_events) if codes[p] >= 0 and (last_n is None or p >= n_events - last_n)
    ]
    weights = np.zeros(n_items)
    if not window:
        return weights
    newest_time = max(stamps[p] for p in window) if stamps is not None else None
    for p in window:
        weight = 1.0
        if half_life is not None:
            weight *= 0.5 ** ((n_events - 1 - p) / half_life)
        if time_half_life is not None:
            weight *= 0.5 ** ((newest_time - stamps[p]) / time_half_life)
        weights[codes[p]] += weight
    return weights / weights.sum()


def unit_rows(vectors):
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def cooccurrence_cosine(sequences, items, shrinkage=0.0):
    """Item-item cosine of the binary sequence-by-item matrix, by counting sets by hand."""
    where = {item: {s for s, seq in enumerate(sequences) if item in seq} for item in items}
    sim = np.zeros((len(items), len(items)))
    for (i, a), (j, b) in itertools.product(enumerate(items), repeat=2):
        if i != j:
            both = len(where[a] & where[b])
            sim[i, j] = both / (np.sqrt(len(where[a]) * len(where[b])) + shrinkage)
    return sim


def reference_recommend(
    model,
    item_scores,
    histories,
    stamps,
    topn,
    exclude_seen=True,
    filter_items=None,
    last_n=None,
    half_life=None,
    time_half_life=None,
    popularity=0.0,
):
    """Ranked ids and scores of ``recommend_batch``; ``item_scores(W)`` scores aggregates W."""
    index = {item: code for code, item in enumerate(model.items_.tolist())}
    n_items = len(index)
    weights = np.zeros((len(histories), n_items))
    excluded = np.zeros((len(histories), n_items), dtype=bool)
    for row, history in enumerate(histories):
        codes = [index.get(item, -1) for item in history]
        times = None if stamps is None else stamps[row]
        weights[row] = reference_weights(codes, times, n_items, last_n, half_life, time_half_life)
        if exclude_seen:
            excluded[row, [c for c in codes if c >= 0]] = True
        if not weights[row].any():  # nothing to aggregate: no recommendation at all
            excluded[row] = True
    if filter_items is not None:
        excluded[:, [index[item] for item in filter_items if item in index]] = True
    scores = item_scores(weights)
    scores = scores + popularity * np.log(np.maximum(model.vocabulary_.counts, 1))
    return reference_top(scores, min(topn, n_items), excluded)


def assert_ranked(ids, scores, ref_idx, ref_scores, items, pad):
    """Same ids in the same order, close scores, and ``pad`` / -inf in padded slots."""
    ids, scores = np.atleast_2d(ids), np.atleast_2d(scores)
    assert ids.shape == ref_idx.shape
    for row in range(ref_idx.shape[0]):
        real = ref_idx[row] >= 0
        assert ids[row, real].tolist() == items[ref_idx[row, real]].tolist()
        np.testing.assert_allclose(scores[row, real], ref_scores[row, real], rtol=1e-5, atol=1e-5)
        assert np.isneginf(scores[row, ~real]).all()
        assert all(i is pad if pad is None else i == pad for i in ids[row, ~real].tolist())


def assert_well_separated(ref_scores):
    """Float32 rounding can swap near-equal scores: the data must keep them apart."""
    for row in ref_scores:
        finite = row[np.isfinite(row)]
        assert np.all(np.abs(np.diff(finite)) > 1e-4)


# --- models built from chosen vectors ------------------------------------------


def embedding_model(vectors, output=None, items=None, counts=None, scoring="output"):
    vectors = np.asarray(vectors, dtype=np.float32)
    n_items = vectors.shape[0]
    items = [f"i{j}" for j in range(n_items)] if items is None else items
    # plain queries: no remembered recency or popularity prior unless a test asks
    model = Item2Vec(
        vector_size=vectors.shape[1], recommend_scoring=scoring, half_life=None, popularity=0.0
    )
    model.item_vectors_ = ItemVectors(
        Vocabulary(items, np.full(n_items, 5) if counts is None else counts),
        vectors,
        None if output is None else np.asarray(output, dtype=np.float32),
    )
    return model


def popularity_model(items, counts):
    model = Popularity()
    model.vocabulary_ = Vocabulary(items, counts)
    model.items_ = model.vocabulary_.items
    model.counts_ = model.vocabulary_.counts.astype(np.float32)
    return model


def exact_vectors(n_items, seed):
    """Rows whose unit vectors and cosines are exact in float32, with many duplicates."""
    patterns = np.array(
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, -1], [1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1]],
        dtype=np.float32,
    )
    rng = np.random.default_rng(seed)
    scale = rng.choice([1.0, 2.0, 4.0], size=(n_items, 1)).astype(np.float32)
    return patterns[rng.integers(0, len(patterns), n_items)] * scale


# --- top_k and top_k_scores ----------------------------------------------------


@pytest.fixture(params=[None, (1, 1), (2, 3), (3, 8), (5, 64)], ids=str)
def tiles(request, monkeypatch):
    """Query x item tiles of the search (None: the default 512 x 4096)."""
    if request.param is not None:
        q_block, i_block = request.param
        monkeypatch.setattr(neighbors, "_QUERY_BLOCK", q_block)
        monkeypatch.setattr(neighbors, "_ITEM_BLOCK", i_block)
        monkeypatch.setattr(neighbors, "_BLOCK_SCORES", q_block * i_block)
    return request.param


def integer_problem(seed, n_queries=9, n_items=37, dim=3):
    """Small integer vectors: exact scores, many exact ties."""
    rng = np.random.default_rng(seed)
    queries = rng.integers(-2, 3, size=(n_queries, dim)).astype(np.float32)
    items = rng.integers(-2, 3, size=(n_items, dim)).astype(np.float32)
    return queries, items


@pytest.mark.parametrize("k", [1, 4, 37])
def test_top_k_matches_a_stable_full_sort(tiles, k):
    queries, items = integer_problem(0)
    idx, scores = top_k(queries, items, k)
    ref_idx, ref_scores = reference_top(queries @ items.T, k)
    assert idx.tolist() == ref_idx.tolist()
    assert scores.tolist() == ref_scores.tolist()


def test_top_k_gives_exact_ties_to_the_lower_index(tiles):
    # duplicate vectors spread over every tile
    values = [1, 3, 1, 3, 2, 3, 1, 2, 3, 1, 2]
    items = np.array(values, dtype=np.float32)[:, None]
    idx, scores = top_k(np.ones((2, 1), np.float32), items, len(values))
    assert idx.tolist() == [[1, 3, 5, 8, 4, 7, 10, 0, 2, 6, 9]] * 2
    assert scores[0].tolist() == [3, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1]
    top3, _ = top_k(np.ones((1, 1), np.float32), items, 3)
    assert top3.tolist() == [[1, 3, 5]]


def excluded_problem(seed, n_excluded):
    """Queries with a NaN row, items with a NaN row, banned items and exactly
    ``n_excluded`` excluded items per query (disjoint from the banned and NaN ones)."""
    queries, items = integer_problem(seed)
    n_queries, n_items = queries.shape[0], items.shape[0]
    nan_item, banned = 5, np.array([0, 17, 36])
    items[nan_item] = np.nan
    queries[2] = np.nan
    rng = np.random.default_rng(seed + 1)
    free = np.setdiff1d(np.arange(n_items), np.append(banned, nan_item))
    cols = np.concatenate([rng.choice(free, n_excluded, replace=False) for _ in range(n_queries)])
    rows = np.repeat(np.arange(n_queries), n_excluded)
    exclude = sp.csr_array((np.ones(cols.size), (rows, cols)), shape=(n_queries, n_items))
    mask = exclude.toarray() != 0
    mask[:, banned] = True
    return queries, items, exclude, banned, mask


# 37 items - 3 banned - 1 NaN - 6 excluded = 27 candidates per query
@pytest.mark.parametrize("k", [1, 6, 26, 27, 28, 37])
def test_top_k_leaves_out_excluded_banned_and_nan_items(tiles, k):
    queries, items, exclude, banned, mask = excluded_problem(1, n_excluded=6)
    idx, scores = top_k(queries, items, k, exclude, banned)
    ref_idx, ref_scores = reference_top(queries @ items.T, k, mask)
    assert idx.tolist() == ref_idx.tolist()
    assert scores.tolist() == ref_scores.tolist()
    # k up to the number of candidates fills every row but the NaN query's
    assert (idx[[0, 1, 3]] >= 0).all() == (k <= 27)
    assert (idx[2] == -1).all() and np.isneginf(scores[2]).all()


@pytest.mark.parametrize("k", [1, 6, 27, 37])
def test_top_k_scores_matches_the_same_reference(tiles, k):
    queries, items, exclude, banned, mask = excluded_problem(2, n_excluded=6)
    full = queries @ items.T
    idx, scores = top_k_scores(
        lambda start, stop: full[start:stop], len(queries), len(items), k, exclude, banned
    )
    ref_idx, ref_scores = reference_top(full, k, mask)
    assert idx.tolist() == ref_idx.tolist()
    assert scores.tolist() == ref_scores.tolist()


def test_top_k_adds_the_bias_before_ranking(tiles):
    queries, items = integer_problem(3)
    bias = np.random.default_rng(4).integers(-3, 4, size=len(items)).astype(np.float32)
    idx, scores = top_k(queries, items, 10, bias=bias)
    ref_idx, ref_scores = reference_top(queries @ items.T + bias, 10)
    assert idx.tolist() == ref_idx.tolist()
    assert scores.tolist() == ref_scores.tolist()
    assert ref_idx.tolist() != reference_top(queries @ items.T, 10)[0].tolist()


@pytest.mark.parametrize(
    "n_queries, n_items",
    [(3, 2 * neighbors._ITEM_BLOCK + 7), (2 * neighbors._QUERY_BLOCK + 5, 40)],
    ids=["item-tiles", "query-tiles"],
)
def test_top_k_crosses_the_default_tiles(n_queries, n_items):
    # small integer vectors of dim 2: exact scores with many ties, and fast
    rng = np.random.default_rng(5)
    queries = rng.integers(-3, 4, size=(n_queries, 2)).astype(np.float32)
    items = rng.integers(-3, 4, size=(n_items, 2)).astype(np.float32)
    mask = rng.random((n_queries, n_items)) < 0.05
    mask[:, -2:] = False
    exclude = sp.csr_array(mask.astype(np.float32))
    banned = np.array([n_items - 2, n_items - 1])
    bias = rng.integers(0, 2, size=n_items).astype(np.float32)
    idx, scores = top_k(queries, items, 7, exclude, banned, bias)
    mask[:, banned] = True
    ref_idx, ref_scores = reference_top(queries @ items.T + bias, 7, mask)
    assert idx.tolist() == ref_idx.tolist()
    assert scores.tolist() == ref_scores.tolist()


# --- Item2Vec similarity queries ------------------------------------------------


def test_similar_items_ranks_by_cosine_with_ties_to_the_lower_index(tiles):
    model = embedding_model(exact_vectors(23, seed=7))
    unit = unit_rows(model.vectors_)
    for topn in (1, 5, 22, 40):
        ids, scores = model.similar_items(model.items_, topn=topn)
        itself = np.eye(23, dtype=bool)
        ref_idx, ref_scores = reference_top(unit @ unit.T, min(topn, 22), itself)
        assert ids.tolist() == model.items_[ref_idx].tolist()
        assert scores.tolist() == ref_scores.tolist()


@pytest.mark.parametrize("topn", [1, 4, 22, 100])
def test_most_similar_ranks_by_cosine_with_ties_to_the_lower_index(topn):
    model = embedding_model(exact_vectors(23, seed=8))
    unit = unit_rows(model.vectors_)
    for code in (0, 7, 22):
        result = model.most_similar(model.items_[code], topn=topn)
        mask = np.zeros((1, 23), dtype=bool)
        mask[0, code] = True
        ref_idx, ref_scores = reference_top((unit @ unit[code])[None], min(topn, 22), mask)
        assert [i for i, _ in result] == model.items_[ref_idx[0]].tolist()
        assert [s for _, s in result] == ref_scores[0].tolist()


def test_most_similar_combines_positive_and_negative_items():
    rng = np.random.default_rng(9)
    model = embedding_model(rng.standard_normal((15, 6)))
    unit = unit_rows(model.vectors_)
    query = unit[2] + unit[5] - unit[11]
    query /= np.linalg.norm(query)
    mask = np.zeros((1, 15), dtype=bool)
    mask[0, [2, 5, 11]] = True
    ref_idx, ref_scores = reference_top((unit @ query)[None], 8, mask)
    assert_well_separated(ref_scores)
    result = model.most_similar(positive=["i2", "i5"], negative=["i11"], topn=8)
    assert [i for i, _ in result] == model.items_[ref_idx[0]].tolist()
    np.testing.assert_allclose([s for _, s in result], ref_scores[0], rtol=1e-5)


def test_similar_by_vector_ranks_every_item_including_exact_ties():
    model = embedding_model(exact_vectors(23, seed=10))
    unit = unit_rows(model.vectors_)
    vector = np.array([2.0, 2.0, 2.0, 2.0], dtype=np.float32)  # unit: all 0.5, exact
    ref_idx, ref_scores = reference_top((unit @ (vector / 4))[None], 23)
    result = model.similar_by_vector(vector, topn=50)
    assert [i for i, _ in result] == model.items_[ref_idx[0]].tolist()
    assert [s for _, s in result] == ref_scores[0].tolist()


def test_nan_vectors_are_never_returned_by_similarity_queries():
    vectors = exact_vectors(9, seed=11)
    vectors[3] = np.nan
    model = embedding_model(vectors)
    unit = unit_rows(vectors)
    mask = np.eye(9, dtype=bool)
    ref_idx, ref_scores = reference_top(unit @ unit.T, 8, mask)  # NaN scores drop out
    ids, scores = model.similar_items(model.items_, topn=8)
    assert_ranked(ids, scores, ref_idx, ref_scores, model.items_, pad=None)
    result = model.most_similar("i0", topn=8)
    assert [i for i, _ in result] == model.items_[ref_idx[0, :7]].tolist()


# --- recommend / recommend_batch ----------------------------------------------

HISTORIES = [
    ["i0", "i3", "i5", "i3", "i7"],  # i3 repeated; last_n=3 leaves i0 out
    ["i2", "zz", "i4", "i9", "i4"],  # an unknown item still counts as an event
    ["i1"],
    ["i6", "i8", "i10", "i11", "i2", "i1", "i4"],  # seen items leave fewer than topn
]
STAMPS = [[0.0, 1.0, 5.0, 6.0, 10.0], [0.0, 2.0, 3.0, 9.0, 9.5], [4.0], [0, 1, 2, 3, 4.5, 8, 8.5]]
FILTER = ["i5", "i11", "not an item"]
TOPN = 8
COUNTS = [40, 3, 17, 9, 1, 25, 6, 12, 2, 30, 7, 5]


def scoring_model(kind):
    """A 12-item model and the reference score of every item for aggregates W."""
    rng = np.random.default_rng(12)
    vectors = rng.standard_normal((12, 5)) * rng.uniform(0.5, 3.0, size=(12, 1))
    output = rng.standard_normal((12, 5))
    if kind == "popularity":
        model = popularity_model([f"i{j}" for j in range(12)], COUNTS)
        return model, lambda W: np.broadcast_to(np.asarray(COUNTS, float), W.shape)
    model = embedding_model(vectors, output, counts=COUNTS, scoring=kind)
    if kind == "output":
        return model, lambda W: W @ model.vectors_.astype(float) @ model.output_vectors_.T
    unit = unit_rows(model.vectors_)
    # "cosine": the weighted mean of the history's unit vectors against each unit vector
    return model, lambda W: W @ unit @ unit.T


def timed_histories():
    plain = Sequences.from_iterable(HISTORIES)
    times = np.concatenate([np.asarray(s, dtype=float) for s in STAMPS])
    return Sequences(plain.codes, plain.offsets, plain.vocabulary, times=times)


def _ids(value):
    return "filtered" if value is FILTER else None


COMBINATIONS = list(
    itertools.product(
        ["output", "cosine", "popularity"],  # scoring
        [None, 3],  # last_n
        [None, 1.0],  # half_life
        [None, 3.0],  # time_half_life
        [None, FILTER],  # filter_items
        [True, False],  # exclude_seen
    )
)


@pytest.mark.parametrize(
    "kind, last_n, half_life, time_half_life, filter_items, exclude_seen", COMBINATIONS, ids=_ids
)
def test_recommend_batch_matches_the_reference(
    kind, last_n, half_life, time_half_life, filter_items, exclude_seen
):
    model, item_scores = scoring_model(kind)
    options = dict(
        exclude_seen=exclude_seen,
        filter_items=filter_items,
        last_n=last_n,
        half_life=half_life,
        time_half_life=time_half_life,
    )
    ids, scores = model.recommend_batch(timed_histories(), topn=TOPN, **options)
    ref_idx, ref_scores = reference_recommend(
        model, item_scores, HISTORIES, STAMPS, TOPN, **options
    )
    if kind != "popularity":  # popularity has exact ties, broken by index
        assert_well_separated(ref_scores)
    assert_ranked(ids, scores, ref_idx, ref_scores, model.items_, pad=None)
    if exclude_seen:  # whatever the aggregation window, nothing seen comes back
        for row, history in zip(ids.tolist(), HISTORIES, strict=True):
            assert not set(row) & set(history)


@pytest.mark.parametrize(
    "kind, last_n, half_life, time_half_life, filter_items, exclude_seen", COMBINATIONS, ids=_ids
)
def test_recommend_matches_the_reference(
    kind, last_n, half_life, time_half_life, filter_items, exclude_seen
):
    model, item_scores = scoring_model(kind)
    options = dict(
        exclude_seen=exclude_seen,
        filter_items=filter_items,
        last_n=last_n,
        half_life=half_life,
        time_half_life=time_half_life,
    )
    for history, stamps in zip(HISTORIES, STAMPS, strict=True):
        ids, scores = model.recommend(history, topn=TOPN, times=stamps, **options)
        ref_idx, ref_scores = reference_recommend(
            model, item_scores, [history], [stamps], TOPN, **options
        )
        real = ref_idx[0] >= 0  # recommend drops the padding
        assert ids.tolist() == model.items_[ref_idx[0, real]].tolist()
        np.testing.assert_allclose(scores, ref_scores[0, real], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("popularity", [0.5, -0.5, 3.0])
@pytest.mark.parametrize("kind", ["output", "cosine"])
def test_popularity_prior_is_added_before_ranking(kind, popularity):
    model, item_scores = scoring_model(kind)
    ids, scores = model.recommend_batch(HISTORIES, topn=TOPN, popularity=popularity)
    ref_idx, ref_scores = reference_recommend(
        model, item_scores, HISTORIES, None, TOPN, popularity=popularity
    )
    assert_well_separated(ref_scores)
    assert_ranked(ids, scores, ref_idx, ref_scores, model.items_, pad=None)
    # the prior must matter here, or the test would not see its sign
    plain_idx, _ = reference_recommend(model, item_scores, HISTORIES, None, TOPN)
    assert plain_idx.tolist() != ref_idx.tolist()


def test_a_seen_item_trimmed_by_last_n_is_still_excluded():
    model, _ = scoring_model("popularity")
    # i0 and i9 are the most popular items; only i2 is inside the window
    ids, _ = model.recommend(["i0", "i9", "i2"], topn=3, last_n=1)
    assert ids.tolist() == ["i5", "i7", "i3"]


def test_last_n_keeps_exactly_that_many_recent_events():
    # one-hot vectors: "output" scores equal the aggregation weights
    eye = np.eye(6, dtype=np.float32)
    model = embedding_model(eye, eye)
    ids, scores = model.recommend(["i4", "i1", "i3", "i2"], topn=6, last_n=3, exclude_seen=False)
    assert ids.tolist() == ["i1", "i2", "i3", "i0", "i4", "i5"]
    np.testing.assert_allclose(scores, [1 / 3, 1 / 3, 1 / 3, 0, 0, 0], atol=1e-7)


def test_half_life_weighs_recent_events_most():
    eye = np.eye(4, dtype=np.float32)
    model = embedding_model(eye, eye)
    # distances 2, 1, 0 from the last event: weights 1/4, 1/2, 1 before normalising
    ids, scores = model.recommend(["i3", "i0", "i2"], topn=4, half_life=1.0, exclude_seen=False)
    assert ids.tolist() == ["i2", "i0", "i3", "i1"]
    np.testing.assert_allclose(scores, np.array([1, 0.5, 0.25, 0]) / 1.75, rtol=1e-6)


# --- padding ------------------------------------------------------------------


@pytest.mark.parametrize(
    "items, pad",
    [
        (np.array([10, -1, 12, 13, 14], dtype=np.int64), -1),
        (np.array(["a", "b", "c", "d", "e"]), ""),
        (np.array(["a", 1, "c", 2.5, "e"], dtype=object), None),
    ],
    ids=["int", "str", "object"],
)
@pytest.mark.parametrize("kind", ["embedding", "popularity"])
def test_rows_with_too_few_items_are_padded_after_the_real_results(kind, items, pad):
    rng = np.random.default_rng(13)
    counts = [4, 9, 1, 7, 3]
    if kind == "embedding":
        model = embedding_model(
            rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), items=items, counts=counts
        )
        weights_scores = lambda W: W @ model.vectors_.astype(float) @ model.output_vectors_.T  # noqa: E731
    else:
        model = popularity_model(items, counts)
        weights_scores = lambda W: np.broadcast_to(np.asarray(counts, float), W.shape)  # noqa: E731
    histories = [[items[0], items[3], items[4]], [items[1]], ["unknown"]]
    ids, scores = model.recommend_batch(histories, topn=5)
    assert ids.shape == scores.shape == (3, 5)
    if pad is not None:
        assert ids.dtype == items.dtype  # padding keeps int and fixed-width str ids
    ref_idx, ref_scores = reference_recommend(model, weights_scores, histories, None, 5)
    assert (ref_idx >= 0).sum(axis=1).tolist() == [2, 4, 0]
    assert_ranked(ids, scores, ref_idx, ref_scores, model.items_, pad)
    # the single-history form drops the padding
    one_ids, one_scores = model.recommend(histories[0], topn=5)
    assert one_ids.tolist() == ids[0, :2].tolist()
    np.testing.assert_allclose(one_scores, scores[0, :2], rtol=1e-6)


# --- baselines ----------------------------------------------------------------

CORPUS = [["a", "b", "c"], ["a", "b"], ["b", "c", "d"], ["d", "e"], ["a", "e", "e"], ["c"]]


def vocabulary_order(sequences):
    """Items by training count descending, then first appearance (the documented codes)."""
    flat = [item for seq in sequences for item in seq]
    first = {item: flat.index(item) for item in flat}
    return sorted(first, key=lambda item: (-flat.count(item), first[item]))


def test_popularity_ranks_unseen_items_by_training_count():
    corpus = [["a", "b"], ["b", "c"], ["b", "c", "d"], ["e"], ["c"], ["d", "e", "f"]]
    model = Popularity().fit(corpus)
    # counts: b 3, c 3, d 2, e 2, a 1, f 1; ties by first appearance (b before c, d before e)
    assert model.items_.tolist() == vocabulary_order(corpus) == ["b", "c", "d", "e", "a", "f"]
    ids, scores = model.recommend(["a", "c"], topn=5)
    assert ids.tolist() == ["b", "d", "e", "f"]
    assert scores.tolist() == [3, 2, 2, 1]
    ids, scores = model.recommend(["a", "c"], topn=5, exclude_seen=False)
    assert ids.tolist() == ["b", "c", "d", "e", "a"]
    assert scores.tolist() == [3, 3, 2, 2, 1]


def test_item_knn_ranks_single_items_by_cooccurrence_cosine():
    model = ItemKNN(neighbors=None).fit(CORPUS)
    assert model.items_.tolist() == ["a", "b", "c", "e", "d"]
    # sets a {0,1,4} b {0,1,2} c {0,2,5} d {2,3} e {3,4}: b and c tie for d at 1/sqrt(6)
    ids, scores = model.recommend(["d"], topn=4)
    assert ids.tolist() == ["e", "b", "c", "a"]
    np.testing.assert_allclose(scores, [0.5, 6**-0.5, 6**-0.5, 0], rtol=1e-6)
    ids, scores = model.recommend(["a"], topn=4)
    assert ids.tolist() == ["b", "e", "c", "d"]
    np.testing.assert_allclose(scores, [2 / 3, 6**-0.5, 1 / 3, 0], rtol=1e-6)


@pytest.mark.parametrize(
    "last_n, half_life, exclude_seen",
    list(itertools.product([None, 1], [None, 0.7], [True, False])),
)
def test_item_knn_recommend_batch_matches_the_reference(last_n, half_life, exclude_seen):
    model = ItemKNN(neighbors=None, shrinkage=0.5).fit(CORPUS)
    items = model.items_.tolist()
    sim = cooccurrence_cosine(CORPUS, items, shrinkage=0.5)
    histories = [["a", "d"], ["c", "c", "e"], ["b", "zz", "e", "a"], ["d"]]
    options = dict(exclude_seen=exclude_seen, last_n=last_n, half_life=half_life)
    ids, scores = model.recommend_batch(histories, topn=5, **options)
    ref_idx, ref_scores = reference_recommend(
        model, lambda W: W @ sim, histories, None, 5, **options
    )
    assert_ranked(ids, scores, ref_idx, ref_scores, model.items_, pad=None)

"""Branches that only a rare shape of input reaches: fallbacks, caps, clips and widening
loops, each tested where its answer differs from the other branch's, over several rows
that differ from each other and with values on both sides of each bound.

Expected values come from references written here: NumPy scores with a stable sort,
history weights from their definition, hand-worked splits and formulas.
"""

import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from item2vec import Item2Vec, Sequences
from item2vec import neighbors as nb
from item2vec._training import auto_epochs, auto_epochs_of
from item2vec.baselines import ItemKNN, Popularity, _keep_top_per_row
from item2vec.evaluation import temporal_split
from item2vec.neighbors import UnknownItemsWarning, history_matrix, top_k
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

ITEMS = list("abcdefghijklm")  # 13 items
COUNTS = [40, 35, 30, 26, 22, 19, 16, 13, 11, 9, 7, 5, 3]  # a strict order of popularity


def vector_model(items=ITEMS, counts=COUNTS, dim=5, seed=0, **params):
    """An Item2Vec holding chosen random vectors (no training), so references are exact."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(items), dim)).astype(np.float32)
    output = rng.normal(size=(len(items), dim)).astype(np.float32)
    model = Item2Vec(vector_size=dim, **{"half_life": None, "popularity": 0.0, **params})
    model.item_vectors_ = ItemVectors(Vocabulary(items, counts), vectors, output)
    return model


def reference_weights(codes, n_items, last_n=None, half_life=None, times=None, tau=None):
    """One history's aggregation weights from their definition (None: no known item)."""
    length = len(codes)
    window = range(length) if last_n is None else range(max(0, length - last_n), length)
    known = [j for j in window if codes[j] >= 0]
    if not known:
        return None
    newest = max(times[j] for j in known) if tau is not None else 0.0
    weights = np.zeros(n_items)
    for j in known:
        w = 1.0
        if half_life is not None:
            w *= 0.5 ** ((length - 1 - j) / half_life)
        if tau is not None:
            w *= 0.5 ** ((newest - times[j]) / tau)
        weights[codes[j]] += w
    return weights / weights.sum()


def reference_ranking(scores, k, excluded=(), banned=()):
    """Top k of one row of scores by a stable sort, excluded and banned columns left out."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[list(excluded)] = -np.inf
    scores[list(banned)] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(i) for i in order if np.isfinite(scores[i])], scores[order][
        np.isfinite(scores[order])
    ]


# --- the popularity fallback: each empty row keeps its own seen items out ---------------


def test_popularity_fallback_leaves_out_each_rows_own_seen_items():
    model = vector_model()
    # last_n=1 leaves rows 1, 3 and 4 with no known event, each having seen another item;
    # rows 0 and 2 rank normally, so the empty rows are not the first ones
    histories = [["c", "d"], ["a", "zz"], ["e", "f"], ["b", "zz"], ["zz", "c", "yy"]]
    with pytest.warns(UnknownItemsWarning) as caught:
        ids, scores = model.recommend_batch(
            histories, topn=3, last_n=1, fallback="popularity", filter_items=["d"]
        )
    assert caught[0].message.empty_rows.tolist() == [1, 3, 4]
    log = np.log(COUNTS)
    # popularity order a b c d e ..., "d" filtered for every row, each row's own item out
    assert ids[1].tolist() == ["b", "c", "e"]
    assert ids[3].tolist() == ["a", "c", "e"]
    assert ids[4].tolist() == ["a", "b", "e"]
    np.testing.assert_allclose(scores[1], log[[1, 2, 4]], rtol=1e-6)
    np.testing.assert_allclose(scores[3], log[[0, 2, 4]], rtol=1e-6)
    np.testing.assert_allclose(scores[4], log[[0, 1, 4]], rtol=1e-6)
    # the known rows rank by their last event, their own items and "d" left out
    for row, history in ((0, ["c", "d"]), (2, ["e", "f"])):
        codes = [ITEMS.index(x) for x in history]
        state = model.item_vectors_
        query = reference_weights(codes, len(ITEMS), last_n=1) @ state.vectors
        expected, _ = reference_ranking(query @ state.output_vectors.T, 3, codes, [3])
        assert ids[row].tolist() == [ITEMS[i] for i in expected]
    # seen items allowed: every empty row gets the same popular items ("d" still filtered)
    with pytest.warns(UnknownItemsWarning):
        ids, _ = model.recommend_batch(
            histories, topn=3, last_n=1, fallback="popularity", exclude_seen=False,
            filter_items=["d"],
        )  # fmt: skip
    assert ids[[1, 3, 4]].tolist() == [["a", "b", "c"]] * 3


def test_padded_rows_use_the_padding_of_the_id_type():
    int_model = vector_model(items=list(range(100, 113)))
    with pytest.warns(UnknownItemsWarning):
        ids, scores = int_model.recommend_batch([[100], [999], [101, 102]], topn=12)
    assert ids[1].tolist() == [-1] * 12 and np.isneginf(scores[1]).all()
    # row 0 has 12 recommendable items (13 less its own), row 2 only 11: one -1 at the end
    assert np.isfinite(scores[0]).all()
    assert np.isfinite(scores[2, :11]).all() and ids[2, 11] == -1 and np.isneginf(scores[2, 11])
    with pytest.warns(UnknownItemsWarning):
        ids, _ = vector_model().recommend_batch([["a"], ["zz"]], topn=2)
    assert ids[1].tolist() == [None, None]


# --- exact top-k over tiles: every row's own exclusions, across tile boundaries -----------


@pytest.mark.parametrize("popularity", [0.0, 0.7])
def test_exact_top_k_over_small_tiles_matches_a_full_sort_per_row(monkeypatch, popularity):
    # tiles of 2 queries x 5 items: exclusions, bans and the prior cross tile boundaries
    monkeypatch.setattr(nb, "_QUERY_BLOCK", 2)
    monkeypatch.setattr(nb, "_ITEM_BLOCK", 5)
    model = vector_model()
    state = model.item_vectors_
    histories = [
        ["a", "b", "c", "d"],
        ["m", "l"],
        ["g"],
        ["f", "k", "e", "j", "i"],
        ["h", "b"],
    ]
    banned = ["c", "h", "l"]
    ids, scores = model.recommend_batch(
        histories, topn=9, filter_items=banned, popularity=popularity
    )
    prior = popularity * np.log(COUNTS)
    for row, history in enumerate(histories):
        codes = [ITEMS.index(x) for x in history]
        query = reference_weights(codes, len(ITEMS)) @ state.vectors.astype(np.float64)
        raw = query @ state.output_vectors.T.astype(np.float64) + prior
        expected, expected_scores = reference_ranking(
            raw, 9, codes, [ITEMS.index(x) for x in banned]
        )
        got = np.isfinite(scores[row])
        assert ids[row][got].tolist() == [ITEMS[i] for i in expected], row
        np.testing.assert_allclose(scores[row][got], expected_scores, rtol=1e-5, atol=1e-5)
        assert ids[row][~got].tolist() == [None] * (9 - len(expected))
    # left: 13 less the row's seen and banned items (c seen in row 0, h in row 4)
    assert np.isfinite(scores).sum(axis=1).tolist() == [7, 9, 9, 5, 9]


def test_block_scored_baselines_exclude_each_rows_own_history_across_blocks(monkeypatch):
    # two histories per score block (13 items): exclusions must land on their own block's rows
    monkeypatch.setattr(nb, "_BLOCK_SCORES", 2 * 13)
    sequences = [[item] * count for item, count in zip(ITEMS, COUNTS, strict=True)]
    model = Popularity().fit(sequences)
    histories = [["a"], ["b", "c"], ["a", "d"], ["e"], ["b"]]
    ids, scores = model.recommend_batch(histories, topn=3)
    assert ids.tolist() == [
        ["b", "c", "d"], ["a", "d", "e"], ["b", "c", "e"], ["a", "b", "c"], ["a", "c", "d"],
    ]  # fmt: skip
    counts = dict(zip(ITEMS, COUNTS, strict=True))
    assert scores.tolist() == [[counts[i] for i in row] for row in ids.tolist()]


# --- caps of the neighbour queries -----------------------------------------------------


def _cosines(model):
    vectors = model.vectors_.astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


@pytest.mark.parametrize("topn", [3, 10, 11, 30])
def test_most_similar_caps_at_the_items_not_in_the_query(topn):
    model = vector_model()
    unit = _cosines(model)
    query_items = ["a", "a", "b"]  # a repeated item is left out once, not twice
    codes = [ITEMS.index(x) for x in query_items]
    query = unit[codes].sum(axis=0)
    query /= np.linalg.norm(query)
    expected, expected_scores = reference_ranking(unit @ query, topn, set(codes))
    found = model.most_similar(query_items, topn=topn, similarity="input")
    assert [item for item, _ in found] == [ITEMS[i] for i in expected]
    assert len(found) == min(topn, 11)
    np.testing.assert_allclose([s for _, s in found], expected_scores, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("topn", [2, 12, 13, 40])
def test_similar_items_with_unknown_rows_skipped_caps_at_the_other_items(topn):
    model = vector_model()
    unit = _cosines(model)
    asked = ["zz", "d", "a", "yy", "m", "d"]
    with pytest.warns(UnknownItemsWarning) as caught:
        ids, scores = model.similar_items(asked, topn=topn, unknown="skip", similarity="input")
    assert caught[0].message.empty_rows.tolist() == [0, 3]
    width = min(topn, 12)
    assert ids.shape == scores.shape == (6, width)
    for row, item in enumerate(asked):
        if item not in ITEMS:
            assert ids[row].tolist() == [None] * width and np.isneginf(scores[row]).all()
            continue
        code = ITEMS.index(item)
        expected, expected_scores = reference_ranking(unit @ unit[code], width, [code])
        assert ids[row].tolist() == [ITEMS[i] for i in expected], row
        np.testing.assert_allclose(scores[row], expected_scores, rtol=1e-5, atol=1e-6)


# --- the approximate index: widening searches and the exact fallback ----------------------


class _ShortGraph:
    """Stands in for a faiss graph: answers exactly, but finds ``shortfall`` fewer items
    than asked (as a graph search can), so the index has to widen its search."""

    def __init__(self, data, shortfall):
        self.data, self.shortfall, self.calls = data, shortfall, []

    def search(self, queries, want, params=None):
        self.calls.append((queries.shape[0], want))
        if len(self.calls) > 12:
            raise AssertionError("the search never settles")
        scores = queries.astype(np.float64) @ self.data.T.astype(np.float64)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :want]
        found_scores = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        found = order.astype(np.int64)
        cut = max(want - self.shortfall, 0)
        found[:, cut:] = -1
        found_scores[:, cut:] = -np.inf
        return found_scores, found


def _index_over(vectors, kind, shortfall):
    pytest.importorskip("faiss")
    from item2vec.index import ApproximateIndex

    index = ApproximateIndex(vectors, kind, m=8, ef_construction=40, ef_search=16)
    index.index = _ShortGraph(index._item_rows(vectors), shortfall)
    return index


def test_the_approximate_search_widens_per_row_until_enough_survive_the_filters():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(200, 6)).astype(np.float32)
    queries = rng.normal(size=(4, 6)).astype(np.float32)
    index = _index_over(vectors, "inner", shortfall=12)
    exact = queries @ vectors.T
    # each row excludes its own best items: 0, 3, 20 and 25 of them
    excluded = [np.argsort(-exact[r], kind="stable")[:n] for r, n in enumerate([0, 3, 20, 25])]
    rows = np.repeat(np.arange(4), [len(e) for e in excluded])
    exclude = sp.csr_array((np.ones(rows.size), (rows, np.concatenate(excluded))), shape=(4, 200))
    banned = np.argsort(-exact[1], kind="stable")[5:9]  # row 1's next best, banned for all
    k = 5

    def exact_rows(rows, k):
        raise AssertionError(f"rows {rows} should not need the exact search")

    idx, scores = index.search(queries, k, exclude, banned, None, exact_rows)
    expected_idx, expected_scores = top_k(queries, vectors, k, exclude, banned)
    assert idx.tolist() == expected_idx.tolist()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    # first every row asks k + 4 banned + 25 excluded = 34 and finds 22; the rows short
    # of k (those with 20 and 25 exclusions) ask again, four times wider
    assert index.index.calls == [(4, 34), (2, 4 * 9 + 25)]


def test_the_approximate_search_goes_exact_for_rows_the_widest_search_cannot_fill():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(40, 4)).astype(np.float32)
    queries = rng.normal(size=(3, 4)).astype(np.float32)
    index = _index_over(vectors, "cosine", shortfall=0)
    # row 1 may return only items 7 and 9; rows 0 and 2 are free
    allowed = {7, 9}
    cols = [c for c in range(40) if c not in allowed]
    exclude = sp.csr_array(
        (np.ones(len(cols)), (np.ones(len(cols), dtype=np.int64), cols)), shape=(3, 40)
    )
    asked = []

    def exact_rows(rows, k):
        asked.append(rows.tolist())
        mask = exclude[rows]
        return top_k(queries[rows], index.index.data, k, mask)

    idx, scores = index.search(queries, 4, exclude, None, None, exact_rows)
    assert asked == [[1]]
    unit = index.index.data
    expected_idx, expected_scores = top_k(queries, unit, 4, exclude)
    assert idx.tolist() == expected_idx.tolist()
    assert idx[1, 2:].tolist() == [-1, -1] and set(idx[1, :2].tolist()) == allowed
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)


def test_the_approximate_search_reranks_four_times_k_candidates_by_the_prior():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(100, 5)).astype(np.float32)
    first = rng.normal(size=5)
    queries = np.stack([first, first + 0.05 * rng.normal(size=5)]).astype(np.float32)
    index = _index_over(vectors, "inner", shortfall=0)
    k = 3
    raw = queries.astype(np.float64) @ vectors.T.astype(np.float64)
    ranks = np.argsort(np.argsort(-raw, axis=1, kind="stable"), axis=1)
    # a prior that lifts an item ranked in (k, 4k] for both rows to the top of both
    (lifted,) = np.flatnonzero((ranks >= k).all(axis=0) & (ranks < 4 * k).all(axis=0))[:1]
    assert ranks[:, lifted].max() >= 2 * k  # out of reach of a search for 2k candidates
    bias = np.zeros(100, dtype=np.float32)
    bias[lifted] = 100.0
    idx, scores = index.search(queries, k, None, None, bias, None)
    expected_idx, expected_scores = top_k(queries, vectors, k, bias=bias)
    assert idx.tolist() == expected_idx.tolist()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


# --- history weights: last_n on both sides of the history's length, half-lives ------------


@pytest.mark.parametrize("last_n", [None, 1, 2, 3, 4, 10])
@pytest.mark.parametrize(("half_life", "tau"), [(None, None), (1.5, None), (None, 4.0), (2.0, 3.0)])
def test_history_weights_follow_their_definition_row_by_row(last_n, half_life, tau):
    # rows of lengths 1 to 5, unknown events (-1) inside and at the ends, a repeated item
    rows = [[2], [0, 1], [3, -1, 3], [-1, 4, 0, 2], [1, 2, -1, 0, -1]]
    times = [[5.0], [1.0, 4.0], [0.0, 2.0, 7.0], [1.0, 2.0, 6.0, 6.5], [0.0, 1.0, 3.0, 8.0, 9.0]]
    offsets = np.cumsum([0] + [len(r) for r in rows])
    codes = np.concatenate(rows).astype(np.int32)
    flat_times = np.concatenate(times)
    matrix = history_matrix(
        codes, offsets, 5, last_n, half_life, flat_times if tau else None, tau
    ).toarray()
    for r, (row, stamps) in enumerate(zip(rows, times, strict=True)):
        expected = reference_weights(row, 5, last_n, half_life, stamps, tau)
        if expected is None:
            assert not matrix[r].any(), r
        else:
            np.testing.assert_allclose(matrix[r], expected, rtol=1e-6, atol=1e-7, err_msg=r)


# --- epochs="auto": the formula on both sides of its bounds -----------------------------


@pytest.mark.parametrize(
    ("n_tokens", "n_items", "expected"),
    [
        (1, 1, 50),  # 150 / 1: clipped to 50
        (865, 100, 50),  # 150 / sqrt(8.65) = 51.0: clipped to 50
        (9, 1, 50),  # exactly 50
        (1000, 100, 47),  # 47.4
        (121, 1, 14),  # 13.6 rounds up
        (169, 1, 12),  # 11.54 rounds up
        (9000, 10, 5),  # 150 / sqrt(900) = 5 exactly
        (1300, 1, 5),  # 4.16: clipped to 5
        (10**6, 1, 5),  # 0.15: clipped to 5
        (0, 3, 5),  # no token
    ],
)  # fmt: skip
def test_auto_epochs_on_both_sides_of_its_bounds(n_tokens, n_items, expected):
    assert auto_epochs(n_tokens, n_items) == expected


def test_auto_epochs_count_only_the_items_the_corpus_holds():
    # five items in the vocabulary, two in the corpus: 200 tokens over 2 items, 100 each
    vocab = Vocabulary(list("abcde"), [100, 100, 0, 0, 0])
    codes = np.tile(np.array([0, 1], dtype=np.int32), 100)
    corpus = Sequences(codes, np.arange(0, 201, 10), vocab)
    assert auto_epochs_of(corpus) == 15  # not 150 / sqrt(40) = 24
    model = Item2Vec(vector_size=2, negative=1, n_jobs=1, random_state=0).fit([["a", "b"] * 5] * 20)
    assert len(model.loss_history_) == 15
    # an update counts the items of its batch: 3 items, 27 tokens: 150 / 3 = 50
    model.update([["a", "b", "c"] * 3] * 3)
    assert len(model.loss_history_) == 15 + 50


# --- tune: the user cap, the held-out events, the budget and the trial cap -------------


def test_validation_split_holds_out_at_most_n_last_events_and_keeps_one():
    from item2vec.tuning import validation_split

    sequences = [["a"], ["b", "c"], ["d", "e", "f"], list("ghijk"), list("lmnopq")]
    corpus = Sequences.from_iterable(sequences)
    split = validation_split(corpus, 3, None, np.random.default_rng(0))
    assert split.train.to_lists() == [["a"], ["b"], ["d"], ["g", "h"], ["l", "m", "n"]]
    assert split.histories.to_lists() == [
        ["b"], ["d"], ["d", "e"], ["g", "h"], ["g", "h", "i"], ["g", "h", "i", "j"],
        ["l", "m", "n"], ["l", "m", "n", "o"], ["l", "m", "n", "o", "p"],
    ]  # fmt: skip
    assert split.targets.tolist() == ["c", "e", "f", "i", "j", "k", "o", "p", "q"]
    # a cap at the number of users keeps them all; below it, that many distinct users
    same = validation_split(corpus, 1, 4, np.random.default_rng(0))
    assert same.targets.tolist() == ["c", "f", "k", "q"]
    for seed in range(5):
        capped = validation_split(corpus, 1, 3, np.random.default_rng(seed))
        targets = capped.targets.tolist()
        assert len(targets) == 3 and set(targets) < {"c", "f", "k", "q"}
        assert targets == sorted(targets, key=["c", "f", "k", "q"].index)  # in corpus order
        # only the drawn users give up their last event: the others train whole
        assert capped.train.to_lists() == [
            seq[:-1] if seq[-1] in targets else seq for seq in sequences
        ]


class _Clock:
    """A clock that moves only while a model trains: 10 seconds per fit."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


@pytest.mark.parametrize(
    ("budget", "max_trials", "trials"),
    [(49.9, None, 1), (50.0, None, 2), (59.9, None, 2), (60.0, None, 3), (1e9, 2, 2),
     (1e9, 1, 1), (60.0, 4, 3)],
)  # fmt: skip
def test_tune_stops_when_a_trial_the_confirmation_and_the_final_fit_would_overrun(
    monkeypatch, budget, max_trials, trials
):
    pytest.importorskip("optuna")
    from item2vec import tuning

    clock = _Clock()

    class TimedItem2Vec(Item2Vec):
        def fit(self, *args, **kwargs):
            clock.now += 10.0
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(tuning, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(tuning, "Item2Vec", TimedItem2Vec)
    data = [list("abcdefgh"), list("cdefghab"), list("efghabcd")] * 4
    result = tuning.tune(
        data, budget=budget, max_trials=max_trials, fixed={"vector_size": 4, "epochs": 1},
        n_jobs=1, verbose=False,
    )  # fmt: skip
    # after trial n (each 10 s) the clock reads 10 n; another trial, the confirmation (the
    # defaults and the best trial trained again) and the final fit need 10 + 20 + 10 more:
    # trial n + 1 runs while 10 n + 40 <= budget
    assert len(result.trials) == trials
    assert [t.seconds for t in result.trials] == [10.0] * trials


# --- temporal_split: the cutoff's own events, sequences on one side only -------------------


def test_temporal_split_takes_the_first_event_at_or_after_the_cutoff_for_each_sequence():
    sequences = [["a", "b", "c", "d"], ["e", "f"], ["g", "h"], ["i", "j", "k", "l"], ["m"]]
    times = [[1, 2, 3, 4], [1, 2.9], [3, 5], [0, 2.5, 3, 3], [3]]
    plain = Sequences.from_iterable(sequences)
    corpus = Sequences(
        plain.codes, plain.offsets, plain.vocabulary, times=np.concatenate(times).astype(float)
    )
    split = temporal_split(corpus, cutoff=3)
    # train keeps one (maybe empty) sequence per sequence, with its events before the cutoff
    assert split.train.to_lists() == [["a", "b"], ["e", "f"], [], ["i", "j"], []]
    assert split.histories.to_lists() == [["a", "b"], ["i", "j"]]
    assert split.targets.tolist() == ["c", "k"]
    later = temporal_split(corpus, cutoff=3.0000001)  # now the events at 3 train
    assert later.histories.to_lists() == [["a", "b", "c"], ["g"]]
    assert later.targets.tolist() == ["d", "h"]  # "i j k l" has nothing after: not evaluated
    assert later.train.to_lists() == [["a", "b", "c"], ["e", "f"], ["g"], ["i", "j", "k", "l"],
                                      ["m"]]  # fmt: skip


# --- ItemKNN's neighbour cap: rows above, at and below it, ties by column ------------------


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_keeping_the_top_neighbours_caps_each_row_and_breaks_ties_by_column(k):
    dense = np.array(
        [
            [0.0, 0.5, 0.2, 0.5, 0.1, 0.3],  # 5 entries, a tie at the top
            [0.4, 0.0, 0.0, 0.0, 0.0, 0.0],  # 1 entry
            [0.2, 0.2, 0.0, 0.2, 0.0, 0.0],  # 3 entries, all tied
            [0.0] * 6,  # none
            [0.9, 0.1, 0.3, 0.0, 0.0, 0.6],  # 4 entries
        ],
        dtype=np.float32,
    )
    kept = _keep_top_per_row(sp.csr_array(dense), k).toarray()
    expected = np.zeros_like(dense)
    for r, row in enumerate(dense):
        nonzero = [c for c in np.argsort(-row, kind="stable") if row[c] != 0][:k]
        expected[r, nonzero] = row[nonzero]
    np.testing.assert_array_equal(kept, expected)


def test_item_knn_ranks_with_only_each_items_kept_neighbours():
    sequences = [["a", "b"], ["a", "b"], ["a", "c"], ["b", "c", "d"], ["d", "e"], ["a", "e"]]
    full = ItemKNN(neighbors=None).fit(sequences)
    capped = ItemKNN(neighbors=1).fit(sequences)
    sim = full.similarity_.toarray()
    top = np.argmax(sim, axis=1)  # single largest per row (ties: lowest column)
    kept = np.zeros_like(sim)
    kept[np.arange(sim.shape[0]), top] = sim[np.arange(sim.shape[0]), top]
    np.testing.assert_allclose(capped.similarity_.toarray(), kept, rtol=1e-6)
    items = full.items_.tolist()
    histories = [["a"], ["d", "e"], ["c"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ids, scores = capped.recommend_batch(histories, topn=3, exclude_seen=False)
    for row, history in enumerate(histories):
        weights = np.zeros(len(items))
        for item in history:
            weights[items.index(item)] += 1 / len(history)
        expected, expected_scores = reference_ranking(weights @ kept, 3)
        assert ids[row].tolist() == [items[i] for i in expected], row
        np.testing.assert_allclose(scores[row], expected_scores, rtol=1e-6)


# --- a model file's finite check, past its first block --------------------------------------


def test_a_non_finite_value_past_the_first_checked_block_is_found(tmp_path):
    from item2vec.io import _check_float32_finite

    # 2**21 columns: blocks of two rows; the NaN sits in the second block only
    array = np.zeros((3, 1 << 21), dtype=np.float32)
    _check_float32_finite(tmp_path / "m.npz", "vectors", array)
    array[2, 5] = np.nan
    with pytest.raises(ValueError, match="vectors hold NaN or infinite values"):
        _check_float32_finite(tmp_path / "m.npz", "vectors", array)


# --- spark.recommend: histories in time order, datetimes in seconds -------------------------


def test_spark_recommend_orders_histories_by_time_and_weighs_datetimes_in_seconds(spark):
    pytest.importorskip("pandas")
    import datetime

    from item2vec import spark as i2v_spark

    model = vector_model()
    state = model.item_vectors_
    start = datetime.datetime(2024, 5, 1, 12, 0, 0)
    # (user, item, seconds after start), rows given out of time order
    rows = [(1, "c", 90), (1, "a", 0), (1, "b", 30), (1, "d", 95),
            (2, "h", 3600), (2, "e", 10), (2, "f", 3590), (2, "g", 20)]  # fmt: skip
    events = spark.createDataFrame(
        [(u, i, start + datetime.timedelta(seconds=s)) for u, i, s in rows],
        "user long, item string, t timestamp",
    )
    table = i2v_spark.recommend(
        model, events, user="user", item="item", time="t", topn=4, last_n=3,
        time_half_life=60.0,
    ).toPandas()  # fmt: skip
    for user in (1, 2):
        mine = sorted((s, i) for u, i, s in rows if u == user)  # by time
        codes = [ITEMS.index(i) for _, i in mine]
        weights = reference_weights(codes, len(ITEMS), 3, None, [s for s, _ in mine], 60.0)
        raw = (weights @ state.vectors) @ state.output_vectors.T
        expected, expected_scores = reference_ranking(raw, 4, codes)
        got = table[table["user"] == user].sort_values("rank")
        assert got["item"].tolist() == [ITEMS[i] for i in expected], user
        np.testing.assert_allclose(got["score"], expected_scores, rtol=1e-5, atol=1e-5)

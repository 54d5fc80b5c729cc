"""Evaluation splits, ranking metrics and the baselines, against values worked out by hand
or by plain-Python references written here."""

import itertools
import re
from fractions import Fraction

import numpy as np
import pytest

from item2vec import Sequences, Vocabulary
from item2vec.baselines import ItemKNN, Popularity
from item2vec.evaluation import (
    Split,
    evaluate,
    leave_last_out,
    ranking_metrics,
    temporal_split,
    user_metrics,
)


def exactly(message):
    """A pattern matching the whole error message and nothing more."""
    return f"^{re.escape(message)}$"


# --- leave_last_out -----------------------------------------------------------------


@pytest.mark.parametrize("min_length", [1, 0, -3])
def test_leave_last_out_refuses_min_length_below_two(min_length):
    corpus = Sequences.from_iterable([["a", "b"]])
    with pytest.raises(ValueError, match=exactly(f"min_length must be >= 2, got {min_length}")):
        leave_last_out(corpus, min_length=min_length)


def test_leave_last_out_keeps_int_ids_and_histories_in_the_source_vocabulary():
    corpus = Sequences.from_iterable([[7, 8, 9], [9], [8, 7]])
    split = leave_last_out(corpus)
    assert split.targets.tolist() == [9, 7]
    assert split.targets.dtype == np.int64
    # the held-out items stay known to the histories' vocabulary
    assert split.histories.vocabulary.items.tolist() == corpus.vocabulary.items.tolist()
    assert split.histories.to_lists() == [[7, 8], [8]]


# --- temporal_split -------------------------------------------------------------------


def _timed(sequences, times):
    """Sequences with the given times, kept in the given order (not sorted)."""
    items = sorted({item for seq in sequences for item in seq})
    vocab = Vocabulary(items, [sum(seq.count(i) for seq in sequences) for i in items])
    codes = [items.index(item) for seq in sequences for item in seq]
    offsets = np.cumsum([0] + [len(seq) for seq in sequences])
    return Sequences(codes, offsets, vocab, times=np.concatenate(times).astype(float))


def test_temporal_split_defaults_to_the_ninth_decile_of_event_times():
    # 11 distinct times 0..10: the 0.9 quantile is the time 9
    events = {
        "user": [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3],
        "item": list("abcdefghijk"),
        "t": [0, 8, 9, 10, 1, 2, 3, 4, 5, 6, 7],
    }
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    split = temporal_split(corpus)
    assert split.train.to_lists() == [["a", "b"], ["e", "f", "g"], ["h", "i", "j", "k"]]
    assert split.histories.to_lists() == [["a", "b"]]
    assert split.targets.tolist() == ["c"]


@pytest.mark.parametrize("quantile", [0, 0.0, 1, 1.0, 1.5, -0.25])
def test_temporal_split_refuses_a_quantile_outside_the_open_unit_interval(quantile):
    corpus = _timed([["a", "b"]], [[0, 1]])
    with pytest.raises(ValueError, match=exactly(f"quantile must be in (0, 1), got {quantile}")):
        temporal_split(corpus, quantile=quantile)


def test_temporal_split_without_times_names_the_remedy():
    message = "temporal_split needs sequences with times (see Sequences.from_events)"
    with pytest.raises(ValueError, match=exactly(message)):
        temporal_split(Sequences.from_iterable([["a", "b"]]), cutoff=1)


@pytest.mark.parametrize("late", [0, 1, 2])
def test_temporal_split_refuses_times_out_of_order_within_any_sequence(late):
    # one sequence goes back in time; the others are in order
    times = [[0.0, 1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    times[late] = times[late][::-1]
    corpus = _timed([["a", "b", "c"], ["d", "e"], ["f", "g"]], times)
    message = (
        "temporal_split needs each sequence's times in order (Sequences.from_events sorts them)"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        temporal_split(corpus, cutoff=3.5)


def test_temporal_split_accepts_equal_times_small_steps_and_later_sequences_starting_earlier():
    # within a sequence: a tie (0.5, 0.5) and steps below 1; the second sequence starts
    # before the first one ends: all of this is in order
    corpus = _timed(
        [["a", "b", "c", "d"], ["e", "f", "g"]], [[0.5, 0.5, 0.75, 1.0], [0.0, 0.25, 1.0]]
    )
    split = temporal_split(corpus, cutoff=0.75)
    assert split.train.to_lists() == [["a", "b"], ["e", "f"]]
    assert split.histories.to_lists() == [["a", "b"], ["e", "f"]]
    assert split.targets.tolist() == ["c", "g"]


# --- ranking_metrics --------------------------------------------------------------------


def reference_metrics(recommended, targets, k, n_items, valid):
    """HR, NDCG, MRR and coverage at k from their definitions, one user at a time."""
    hr = ndcg = mrr = 0.0
    covered = set()
    for row, target in enumerate(targets):
        for rank in range(min(k, len(recommended[row]))):
            if not valid[row][rank]:
                continue
            covered.add(recommended[row][rank])
            if recommended[row][rank] == target and not any(
                recommended[row][r] == target and valid[row][r] for r in range(rank)
            ):
                hr += 1
                ndcg += 1 / np.log2(rank + 2)
                mrr += 1 / (rank + 1)
    n = len(targets)
    return {"hr": hr / n, "ndcg": ndcg / n, "mrr": mrr / n, "coverage": len(covered) / n_items}


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_metrics_match_their_definitions_with_padding(seed, k):
    rng = np.random.default_rng(seed)
    n_users, width, n_items = 25, 6, 9
    recommended = np.array([rng.permutation(n_items)[:width] for _ in range(n_users)])
    targets = rng.integers(0, n_items, n_users)
    # each row has its first n_real slots real; the padding repeats real ids
    n_real = rng.integers(0, width + 1, n_users)
    valid = np.arange(width) < n_real[:, None]
    recommended[~valid] = targets[np.nonzero(~valid)[0]]
    expected = reference_metrics(recommended.tolist(), targets.tolist(), k, n_items, valid)
    result = ranking_metrics(recommended, targets, k, n_items=n_items, valid=valid)
    assert result == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_user_metrics_are_each_users_own_values(k):
    rng = np.random.default_rng(k)
    n_users, width, n_items = 30, 6, 9
    recommended = np.array([rng.permutation(n_items)[:width] for _ in range(n_users)])
    targets = rng.integers(0, n_items, n_users)
    valid = np.arange(width) < rng.integers(0, width + 1, n_users)[:, None]
    per_user = user_metrics(recommended, targets, k, valid=valid)
    for user in range(n_users):  # each row alone, by the definition
        alone = reference_metrics(
            recommended[user : user + 1].tolist(), targets[user : user + 1].tolist(), k, 1,
            valid[user : user + 1],
        )  # fmt: skip
        got = {name: per_user[name][user] for name in ("hr", "ndcg", "mrr")}
        assert got == pytest.approx({n: alone[n] for n in got}, abs=1e-12)


def test_ranking_metrics_refuses_a_row_count_that_differs_from_the_targets():
    message = "recommended has 2 rows but there are 3 targets"
    with pytest.raises(ValueError, match=exactly(message)):
        ranking_metrics(np.array([[1, 2, 3], [3, 4, 5]]), np.array([1, 2, 3]), k=3)


@pytest.mark.parametrize(
    ("k", "error", "message"),
    [
        (0, ValueError, "k must be an int >= 1, got 0"),
        (-2, ValueError, "k must be an int >= 1, got -2"),
        (1.5, TypeError, "k must be an int, got 1.5"),
    ],
)
def test_ranking_metrics_refuses_a_cut_off_below_one(k, error, message):
    with pytest.raises(error, match=exactly(message)):
        ranking_metrics(np.array([[1, 2]]), np.array([1]), k=k)


def test_ranking_metrics_refuses_an_empty_evaluation():
    with pytest.raises(ValueError, match=exactly("no targets to evaluate")):
        ranking_metrics(np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64), k=3)


# --- evaluate -------------------------------------------------------------------------------


class _RankedRecommender:
    """Ranks the items 0..11 in that order for every history; records each call."""

    def __init__(self):
        self.calls = []

    def recommend_batch(self, histories, topn=10, exclude_seen=True, **kwargs):
        self.calls.append({"topn": topn, "exclude_seen": exclude_seen, **kwargs})
        n = len(histories)
        ids = np.tile(np.arange(12), (n, 1))[:, :topn]
        scores = np.tile(np.arange(12, 0, -1, dtype=np.float32), (n, 1))[:, :topn]
        return ids, scores


@pytest.fixture
def ranked_split():
    # every training part holds the items 0..11; the targets rank 10th, 11th and 1st
    body = list(range(12))
    return leave_last_out(Sequences.from_iterable([[*body, 9], [*body[::-1], 10], [*body, 0]]))


def test_evaluate_ranks_the_top_ten_by_default(ranked_split):
    recommender = _RankedRecommender()
    result = evaluate(recommender, ranked_split)
    assert recommender.calls == [{"topn": 10, "exclude_seen": True}]
    # hits at ranks 10 and 1; the target at rank 11 is beyond k
    assert result == pytest.approx({
        "hr": 2 / 3, "ndcg": (1 / np.log2(11) + 1) / 3, "mrr": (1 / 10 + 1) / 3,
        "coverage": 10 / 12, "n_users": 3,
    }, abs=1e-12)  # fmt: skip


def test_evaluate_passes_k_and_recommend_options_through(ranked_split):
    recommender = _RankedRecommender()
    result = evaluate(recommender, ranked_split, k=11, half_life=3, last_n=2)
    assert recommender.calls == [{"topn": 11, "exclude_seen": True, "half_life": 3, "last_n": 2}]
    assert result["hr"] == 1.0
    assert result["mrr"] == pytest.approx((1 / 10 + 1 / 11 + 1) / 3, abs=1e-12)
    assert result["coverage"] == pytest.approx(11 / 12, abs=1e-12)


def test_evaluate_coverage_counts_only_items_that_occur_in_train():
    # the held-out items x and y are in the vocabulary but never in train
    corpus = Sequences.from_iterable([["a", "b", "x"], ["b", "c", "y"], ["c", "d"]])
    split = leave_last_out(corpus)
    result = evaluate(Popularity().fit(split.train), split, k=2)
    # train: a b | b c | c -> a, b, c (3 items); Popularity ranks b, c (2 events), a (1)
    # history [a, b] -> c, [b, c] -> a, [c] -> b, a: covered a, b, c
    assert result["coverage"] == pytest.approx(3 / 3)
    assert result["hr"] == pytest.approx(0.0)
    assert result["n_users"] == 3
    assert isinstance(split, Split)


# --- Popularity ---------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [Popularity, ItemKNN])
@pytest.mark.parametrize("empty", [[], [[]], [[], []]])
def test_fitting_a_baseline_on_nothing_says_what_is_missing(factory, empty):
    message = "X is empty: training needs at least one non-empty sequence of items"
    with pytest.raises(ValueError, match=exactly(message)):
        factory().fit(empty)


def test_a_single_event_is_enough_to_fit_a_baseline():
    assert Popularity().fit([["a"]]).counts_.tolist() == [1.0]
    knn = ItemKNN().fit([[], ["a"]])
    assert knn.items_.tolist() == ["a"]
    assert knn.similarity_.toarray().tolist() == [[0.0]]


@pytest.mark.parametrize("factory", [Popularity, ItemKNN])
def test_baselines_know_only_items_that_occur_in_their_training_corpus(factory):
    corpus = Sequences.from_iterable([["a", "b", "a"], ["c", "d"], ["b", "e"]])
    model = factory().fit(corpus.subset([0, 2]))
    assert model.items_.tolist() == ["a", "b", "e"]
    assert model.vocabulary_.counts.tolist() == [2, 2, 1]


def test_popularity_scores_every_history_the_same_across_score_blocks(monkeypatch):
    from item2vec import neighbors

    # score blocks of 2 histories (9 items): 7 histories need 4 blocks
    monkeypatch.setattr(neighbors, "_BLOCK_SCORES", 18)
    model = Popularity().fit([["a", "b", "c"], ["b", "c"], ["c", "d"], ["e", "f", "g", "h", "i"]])
    histories = [["a"], ["c"], ["zz"], ["i", "h"], ["a"], ["b", "c"], ["d"]]
    ids, scores = model.recommend_batch(histories, topn=3)
    # counts: c 3, b 2, then a d e f g h i 1 each in order of first appearance
    assert ids.tolist() == [
        ["c", "b", "d"], ["b", "a", "d"], [None, None, None], ["c", "b", "a"],
        ["c", "b", "d"], ["a", "d", "e"], ["c", "b", "a"],
    ]  # fmt: skip
    finite = scores[np.isfinite(scores)]
    assert finite.tolist() == [3, 2, 1, 2, 1, 1, 3, 2, 1, 3, 2, 1, 1, 1, 1, 3, 2, 1]


# --- ItemKNN ------------------------------------------------------------------------------

# a repeated within sequences (counted once per sequence), f alone (no co-occurrence)
KNN_CORPUS = [
    ["a", "a", "a", "b", "c"],
    ["a", "b", "d"],
    ["c", "d", "d", "e"],
    ["b", "c", "e", "a"],
    ["d", "e"],
    ["e", "b"],
    ["f"],
]


def reference_similarity(sequences, items, shrinkage, neighbors):
    """Co-occurrence cosine over sets of sequences, each row cut to its best ``neighbors``."""
    where = {item: {s for s, seq in enumerate(sequences) if item in seq} for item in items}
    n = len(items)
    sim = np.zeros((n, n))
    exact = {}
    for i, j in itertools.permutations(range(n), 2):
        both = len(where[items[i]] & where[items[j]])
        if both:
            size = len(where[items[i]]) * len(where[items[j]])
            sim[i, j] = both / (np.sqrt(size) + shrinkage)
            exact[i, j] = Fraction(both * both, size)  # ranks like the cosine when shrinkage=0
    if neighbors is not None:
        for i in range(n):
            row = sorted((j for j in range(n) if (i, j) in exact), key=lambda j: (-exact[i, j], j))
            for j in row[neighbors:]:
                sim[i, j] = 0.0
    return sim


@pytest.mark.parametrize("shrinkage", [0.0, 0, 1.5, 4])
def test_item_knn_similarity_is_the_cosine_of_sequence_sets_with_shrinkage(shrinkage):
    model = ItemKNN(neighbors=None, shrinkage=shrinkage).fit(KNN_CORPUS)
    items = model.items_.tolist()
    assert sorted(items) == list("abcdef")
    expected = reference_similarity(KNN_CORPUS, items, shrinkage, None)
    assert model.similarity_.shape == (6, 6)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("neighbors", [1, 2, 3, 4])
def test_item_knn_keeps_each_rows_best_neighbours_with_ties_to_the_lower_index(neighbors):
    model = ItemKNN(neighbors=neighbors).fit(KNN_CORPUS)
    items = model.items_.tolist()
    expected = reference_similarity(KNN_CORPUS, items, 0.0, neighbors)
    assert model.similarity_.shape == (6, 6)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("neighbors", [None, 1, 2])
def test_item_knn_scores_histories_by_summed_similarity_including_an_isolated_item(neighbors):
    model = ItemKNN(neighbors=neighbors).fit(KNN_CORPUS)
    items = model.items_.tolist()
    # f, the rarest item, sits in the last row and column and co-occurs with nothing
    assert items[-1] == "f"
    sim = reference_similarity(KNN_CORPUS, items, 0.0, neighbors)
    history = ["a", "d", "f"]
    scores = np.mean([sim[items.index(h)] for h in history], axis=0)
    ids, got = model.recommend(history, topn=6, exclude_seen=False)
    order = sorted(range(6), key=lambda j: (-round(scores[j], 6), j))
    assert ids.tolist() == [items[j] for j in order]
    np.testing.assert_allclose(got, scores[order], rtol=1e-6, atol=1e-7)


def test_item_knn_keeps_a_hundred_neighbours_by_default():
    # one sequence of 102 items: every pair has cosine 1, so each row keeps the
    # 100 lowest-indexed other items
    model = ItemKNN().fit([[f"i{j}" for j in range(102)]])
    kept = model.similarity_.toarray()
    expected = np.ones((102, 102)) - np.eye(102)
    expected[:101, 101] = 0.0
    expected[101, 100] = 0.0
    np.testing.assert_array_equal(kept, expected)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"neighbors": 0}, ValueError, "neighbors must be an int >= 1, got 0"),
        ({"neighbors": -5}, ValueError, "neighbors must be an int >= 1, got -5"),
        ({"neighbors": 2.5}, TypeError, "neighbors must be an int, got 2.5"),
        ({"neighbors": True}, TypeError, "neighbors must be an int, got True"),
        ({"shrinkage": -1}, ValueError, "shrinkage must be >= 0.0, got -1"),
        ({"shrinkage": -0.5}, ValueError, "shrinkage must be >= 0.0, got -0.5"),
        ({"shrinkage": float("nan")}, ValueError, "shrinkage must be finite, got nan"),
        ({"shrinkage": "1"}, TypeError, "shrinkage must be a real number, got '1'"),
        ({"shrinkage": None}, TypeError, "shrinkage must be a real number, got None"),
    ],
)  # fmt: skip
def test_item_knn_refuses_bad_parameters_by_name(params, error, message):
    with pytest.raises(error, match=exactly(message)):
        ItemKNN(**params).fit([["a", "b"]])

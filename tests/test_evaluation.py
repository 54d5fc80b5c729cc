"""Splits, metrics, baselines and the shared recommendation interface."""

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences
from item2vec.baselines import ItemKNN, Popularity
from item2vec.evaluation import evaluate, leave_last_out, ranking_metrics, temporal_split


def test_leave_last_out_holds_out_each_last_item():
    corpus = Sequences.from_iterable([["a", "b", "c"], ["d"], ["e", "f"]])
    split = leave_last_out(corpus)
    assert split.train.to_lists() == [["a", "b"], ["d"], ["e"]]
    assert split.histories.to_lists() == [["a", "b"], ["e"]]
    assert split.targets.tolist() == ["c", "f"]


def test_temporal_split_uses_one_global_cutoff():
    events = {
        "user": [1, 1, 1, 2, 2, 3],
        "item": ["a", "b", "c", "d", "e", "f"],
        "t": [1, 2, 9, 3, 4, 10],
    }
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    split = temporal_split(corpus, cutoff=5)
    assert split.train.to_lists() == [["a", "b"], ["d", "e"], []]
    assert split.histories.to_lists() == [["a", "b"]]
    assert split.targets.tolist() == ["c"]
    with pytest.raises(ValueError, match="needs sequences with times"):
        temporal_split(Sequences.from_iterable([["a"]]))


def test_ranking_metrics_follow_their_definitions():
    recs = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    m = ranking_metrics(recs, np.array([1, 6, 0]), k=3, n_items=10)
    assert m["hr"] == pytest.approx(2 / 3)
    assert m["ndcg"] == pytest.approx((1 + 1 / np.log2(4)) / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 3) / 3)
    assert m["coverage"] == pytest.approx(0.9)
    assert ranking_metrics(recs, np.array([3, 3, 3]), k=2)["hr"] == 0.0


def test_padding_never_counts_as_a_hit():
    recs = np.array([[-1, -1]])
    valid = np.array([[False, False]])
    assert ranking_metrics(recs, np.array([-1]), k=2, valid=valid)["hr"] == 0.0


def test_popularity_recommends_frequent_unseen_items():
    model = Popularity().fit([["a", "b"], ["b", "c"], ["b", "c"], ["d"]])
    ids, scores = model.recommend(["b"], topn=2)
    # a and d tie at one event each: the tie goes to the earlier item, a
    assert ids.tolist() == ["c", "a"]
    assert scores.tolist() == [2.0, 1.0]


def test_item_knn_recommends_co_occurring_items():
    seqs = [["a", "b"], ["a", "b"], ["a", "c"], ["d", "e"], ["d", "e"]]
    model = ItemKNN().fit(seqs)
    assert model.recommend(["a"], topn=1)[0].tolist() == ["b"]
    assert model.recommend(["d"], topn=1)[0].tolist() == ["e"]
    sim = model.similarity_.toarray()
    a, b = model.vocabulary_.code("a"), model.vocabulary_.code("b")
    # a occurs in 3 sequences, b in 2, together in 2: cosine 2 / sqrt(3 * 2)
    assert sim[a, b] == pytest.approx(2 / np.sqrt(6), rel=1e-6)


def test_item_knn_keeps_only_the_nearest_neighbours():
    seqs = [["a", "b", "c", "d"], ["a", "b"], ["a", "c"]]
    model = ItemKNN(neighbors=1).fit(seqs)
    assert model.items_.tolist() == ["a", "b", "c", "d"]
    # cosines: a-b = a-c = 2 / sqrt(6), b-d = c-d = 1 / sqrt(2), a-d = 1 / sqrt(3),
    # b-c = 1 / 2; each row keeps its best, ties to the lower column
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = expected[2, 0] = 2 / np.sqrt(6)
    expected[3, 1] = 1 / np.sqrt(2)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-6)


@pytest.mark.parametrize("factory", [Popularity, ItemKNN, lambda: Item2Vec(sample=0, n_jobs=1)])
def test_batch_recommendations_pad_rows_without_enough_items(factory):
    model = factory().fit([["a", "b", "c"], ["a", "b"], ["c", "d"]] * 5)
    ids, scores = model.recommend_batch([["a", "b", "c"], ["zz"]], topn=3)
    assert ids.shape == scores.shape == (2, 3)
    assert ids[0, 0] == "d" and ids[0, 1] is None and np.isneginf(scores[0, 1])
    assert all(i is None for i in ids[1]) and np.isneginf(scores[1]).all()


def test_filter_items_are_never_recommended(small_planted):
    model = Item2Vec(vector_size=16, epochs=2, n_jobs=1, random_state=0).fit(
        small_planted.sequences
    )
    # two rare items of cluster 0, which rank among their own best items: the
    # filter must add to the exclusion of the history, not replace it
    history = [190, 90]
    top, scores = model.recommend(history, topn=7)
    banned = [top[0], top[3], "not an item"]
    filtered, filtered_scores = model.recommend(history, topn=5, filter_items=banned)
    # the others keep their order and scores
    keep = [i for i in range(7) if top[i] not in banned][:5]
    assert filtered.tolist() == top[keep].tolist()
    np.testing.assert_array_equal(filtered_scores, scores[keep])


def test_recency_weighting_follows_the_half_life():
    from item2vec.neighbors import history_matrix

    weights = history_matrix(np.array([0, 1, 2]), np.array([0, 3]), 3, half_life=1).toarray()
    # distances from the end 2, 1, 0 -> 0.25, 0.5, 1, normalised to sum 1
    np.testing.assert_allclose(weights[0], np.array([0.25, 0.5, 1.0]) / 1.75, rtol=1e-6)
    last = history_matrix(np.array([0, 1, 2]), np.array([0, 3]), 3, last_n=1).toarray()
    np.testing.assert_allclose(last[0], [0, 0, 1])


def test_recency_changes_the_ranking_towards_recent_items():
    seqs = [["a", "x"], ["a", "x"], ["a", "x"], ["b", "y"], ["b", "y"], ["b", "y"]] * 30
    model = ItemKNN().fit(seqs)
    # "a" is old, "b" recent: with a short half-life, b's partner y must rank first
    plain, _ = model.recommend(["a", "a", "b"], topn=1)
    recent, _ = model.recommend(["a", "a", "b"], topn=1, half_life=0.5)
    assert plain.tolist() == ["x"] and recent.tolist() == ["y"]


def test_evaluate_scores_a_hand_worked_split():
    corpus = Sequences.from_iterable([["a", "b", "c"], ["b", "c"], ["a", "c", "a"], ["e"], ["f"]])
    split = leave_last_out(corpus)
    # Popularity ranks the training items a, b (2 events), c, e, f (1): the
    # histories [a, b], [b], [a, c] get [c, e], [a, c], [b, e] for targets c, c, a
    result = evaluate(Popularity().fit(split.train), split, k=2)
    assert result == pytest.approx({
        "hr": 2 / 3, "ndcg": (1 + 1 / np.log2(3)) / 3, "mrr": (1 + 1 / 2) / 3,
        "coverage": 4 / 5, "n_users": 3,
    })  # fmt: skip


def test_evaluate_reports_every_metric(small_planted):
    corpus = Sequences.from_iterable(small_planted.sequences)
    split = leave_last_out(corpus)
    result = evaluate(Popularity().fit(split.train), split, k=10)
    assert set(result) == {"hr", "ndcg", "mrr", "coverage", "n_users"}
    assert result["n_users"] == len(corpus)
    knn = evaluate(ItemKNN().fit(split.train), split, k=10)
    assert knn["hr"] > result["hr"]  # planted clusters reward co-occurrence

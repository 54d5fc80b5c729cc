"""The three evaluation protocols for events that share their time.

(a) ties in file order: ``leave_last_out`` on a corpus as ``from_events`` builds it;
(b) ties by item id: ``leave_last_out(order_ties(corpus))``;
(c) the last tie group as the target set: ``leave_last_group_out``, scored by
``ranking_metrics`` / ``evaluate`` on sets of targets.

Every expected value below is worked out by hand from the events written in the test.
"""

import math

import numpy as np
import pytest

from item2vec import Sequences
from item2vec.evaluation import (
    Split,
    evaluate,
    leave_last_group_out,
    leave_last_out,
    order_ties,
    ranking_metrics,
)


def _corpus(rows, weights=False):
    """A timed corpus from (user, item, time[, weight]) rows, in this table order."""
    columns = list(zip(*rows, strict=True))
    events = {"user": list(columns[0]), "item": list(columns[1]), "t": list(columns[2])}
    if weights:
        events["w"] = list(columns[3])
    return Sequences.from_events(
        events, user="user", item="item", time="t", weight="w" if weights else None
    )


# --- (a) ties in file order ----------------------------------------------------------------


def test_file_order_ties_decide_what_leave_last_out_holds_out():
    # user 1: a at 1, then c and b at 2 (c first in the table); user 2: x, then z and y at 3
    rows = [(1, "a", 1), (1, "c", 2), (2, "x", 1), (1, "b", 2), (2, "z", 3), (2, "y", 3)]
    split = leave_last_out(_corpus(rows))
    assert split.histories.to_lists() == [["a", "c"], ["x", "z"]]
    assert split.targets.tolist() == ["b", "y"]
    # the same events with the tied rows swapped in the table: the other item is held out
    swapped = [rows[0], rows[3], rows[2], rows[1], rows[5], rows[4]]
    split = leave_last_out(_corpus(swapped))
    assert split.histories.to_lists() == [["a", "b"], ["x", "y"]]
    assert split.targets.tolist() == ["c", "z"]


# --- (b) ties by item id -------------------------------------------------------------------


def _int_rows():
    # user 1: 10 and 9 at time 1; 3 at 2; 30, 20, 4 at 3 (weights 1..6 in table order)
    # user 2: 7, 20, 5 at time 3 - the same time as user 1's last group, right after it
    return [
        (1, 10, 1, 1.0), (1, 9, 1, 2.0), (1, 3, 2, 3.0),
        (1, 30, 3, 4.0), (1, 20, 3, 5.0), (1, 4, 3, 6.0),
        (2, 7, 3, 7.0), (2, 20, 3, 8.0), (2, 5, 3, 9.0),
    ]  # fmt: skip


def test_order_ties_sorts_each_tie_group_by_item_id_only():
    corpus = _corpus(_int_rows(), weights=True)
    assert corpus.to_lists() == [[10, 9, 3, 30, 20, 4], [7, 20, 5]]
    ordered = order_ties(corpus)
    # ids by value (9 before 10), not by code (20, the only item seen twice, has code 0),
    # and no group crosses from user 1 into user 2 although their times meet
    assert ordered.to_lists() == [[9, 10, 3, 4, 20, 30], [5, 7, 20]]
    assert ordered.weights.tolist() == [2.0, 1.0, 3.0, 6.0, 5.0, 4.0, 9.0, 7.0, 8.0]
    assert ordered.times.tolist() == [1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    assert ordered.users.tolist() == [1, 2]
    assert ordered.vocabulary.items.tolist() == corpus.vocabulary.items.tolist()
    split = leave_last_out(ordered)
    assert split.histories.to_lists() == [[9, 10, 3, 4, 20], [5, 7]]
    assert split.targets.tolist() == [30, 20]


def test_order_ties_removes_the_dependence_on_table_order():
    rows = _int_rows()
    reversed_rows = rows[::-1]
    a = order_ties(_corpus(rows, weights=True))
    b = order_ties(_corpus(reversed_rows, weights=True))
    assert a.to_lists() == b.to_lists() == [[9, 10, 3, 4, 20, 30], [5, 7, 20]]
    assert a.weights.tolist() == b.weights.tolist()


def test_order_ties_orders_text_ids_by_code_point_and_keeps_repeats_in_order():
    rows = [
        (1, "b", 5, 1.0), (1, "B", 5, 2.0), (1, "a", 5, 3.0), (1, "b", 5, 4.0), (1, "c", 6, 5.0),
    ]  # fmt: skip
    ordered = order_ties(_corpus(rows, weights=True))
    assert ordered.to_lists() == [["B", "a", "b", "b", "c"]]
    # the two b's keep their table order (weights 1 then 4)
    assert ordered.weights.tolist() == [2.0, 3.0, 1.0, 4.0, 5.0]


def test_order_ties_refuses_what_it_cannot_order():
    with pytest.raises(ValueError, match=r"order_ties needs sequences with times"):
        order_ties(Sequences.from_iterable([["a", "b"]]))
    corpus = _corpus([(1, "a", 1), (1, "b", 2)])
    with pytest.raises(ValueError, match=r"by must be 'item', got 'time'"):
        order_ties(corpus, by="time")
    backwards = Sequences(
        corpus.codes, corpus.offsets, corpus.vocabulary, times=np.array([2.0, 1.0])
    )
    with pytest.raises(ValueError, match=r"order_ties needs each sequence's times in order"):
        order_ties(backwards)
    # times may fall from one sequence to the next
    two = Sequences(
        corpus.codes, np.array([0, 1, 2]), corpus.vocabulary, times=np.array([2.0, 1.0])
    )
    assert order_ties(two).to_lists() == [["a"], ["b"]]


# --- (c) the last tie group as the target set ----------------------------------------------


def _group_rows():
    return [
        (1, "a", 1), (1, "b", 2), (1, "c", 3), (1, "d", 3),  # history a b, targets {c, d}
        (2, "e", 1), (2, "f", 1),  # one group only: nothing before it, kept whole
        (3, "g", 1), (3, "h", 1), (3, "i", 4),  # history g h, target {i}
        (4, "j", 1), (4, "k", 2), (4, "k", 2),  # history j, target {k} (once)
    ]  # fmt: skip


def test_leave_last_group_out_holds_out_each_last_group_whole():
    split = leave_last_group_out(_corpus(_group_rows()))
    assert split.train.to_lists() == [["a", "b"], ["e", "f"], ["g", "h"], ["j"]]
    assert split.train.times.tolist() == [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert split.histories.to_lists() == [["a", "b"], ["g", "h"], ["j"]]
    assert split.histories.users.tolist() == [1, 3, 4]
    assert split.targets.tolist() == ["c", "d", "i", "k"]
    assert split.target_offsets.tolist() == [0, 2, 3, 4]


def test_leave_last_group_out_min_history_keeps_short_sequences_whole():
    split = leave_last_group_out(_corpus(_group_rows()), min_history=2)
    # user 4 has one event (j) before its last group: now it trains whole
    assert split.train.to_lists() == [["a", "b"], ["e", "f"], ["g", "h"], ["j", "k", "k"]]
    assert split.histories.to_lists() == [["a", "b"], ["g", "h"]]
    assert split.targets.tolist() == ["c", "d", "i"]
    assert split.target_offsets.tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match=r"min_history"):
        leave_last_group_out(_corpus(_group_rows()), min_history=0)


def test_leave_last_group_out_does_not_depend_on_table_order():
    rows = _group_rows()
    split = leave_last_group_out(_corpus(rows[::-1]))
    assert [sorted(h) for h in split.histories.to_lists()] == [["a", "b"], ["g", "h"], ["j"]]
    assert split.target_offsets.tolist() == [0, 2, 3, 4]
    assert sorted(split.targets[0:2].tolist()) == ["c", "d"]
    assert split.targets[2:].tolist() == ["i", "k"]


def test_leave_last_group_out_needs_ordered_times():
    with pytest.raises(ValueError, match=r"leave_last_group_out needs sequences with times"):
        leave_last_group_out(Sequences.from_iterable([["a", "b"]]))
    corpus = _corpus([(1, "a", 1), (1, "b", 2)])
    backwards = Sequences(
        corpus.codes, corpus.offsets, corpus.vocabulary, times=np.array([2.0, 1.0])
    )
    with pytest.raises(ValueError, match=r"needs each sequence's times in order"):
        leave_last_group_out(backwards)


def test_leave_last_group_out_skips_empty_sequences():
    corpus = _corpus([(1, "a", 1), (1, "b", 2), (2, "c", 1), (2, "d", 5)])
    holed = Sequences(corpus.codes, np.array([0, 2, 2, 4]), corpus.vocabulary, times=corpus.times)
    split = leave_last_group_out(holed)
    assert split.train.to_lists() == [["a"], [], ["c"]]
    assert split.targets.tolist() == ["b", "d"]
    assert split.target_offsets.tolist() == [0, 1, 2]


# --- metrics on sets of targets ------------------------------------------------------------


def _dcg(ranks):
    return sum(1 / math.log2(r + 1) for r in ranks)


def test_ranking_metrics_on_target_sets_follow_the_definition():
    recs = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    # user 0: {3, 2}, hits at ranks 2 and 3; user 1: {9}, no hit;
    # user 2: {9, 7, 100, 101}, hits at ranks 1 and 3, four relevant items but k = 3
    targets = np.array([3, 2, 9, 9, 7, 100, 101])
    offsets = np.array([0, 2, 3, 7])
    m = ranking_metrics(recs, targets, k=3, n_items=10, target_offsets=offsets)
    assert m["hr"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 / 2 + 0 + 1) / 3)
    ndcg_0 = _dcg([2, 3]) / _dcg([1, 2])
    ndcg_2 = _dcg([1, 3]) / _dcg([1, 2, 3])
    assert m["ndcg"] == pytest.approx((ndcg_0 + 0 + ndcg_2) / 3)
    assert m["coverage"] == pytest.approx(0.9)
    # at k = 2, user 2's ideal list has two ranks and only the hit at rank 1 counts
    m2 = ranking_metrics(recs, targets, k=2, target_offsets=offsets)
    assert m2["ndcg"] == pytest.approx((_dcg([2]) / _dcg([1, 2]) + 0 + 1 / _dcg([1, 2])) / 3)
    assert m2["hr"] == pytest.approx(2 / 3)


def test_ranking_metrics_on_target_sets_respect_padding():
    recs = np.array([[7, 8, 9]])
    valid = np.array([[False, True, True]])
    m = ranking_metrics(recs, np.array([7, 9]), k=3, valid=valid, target_offsets=np.array([0, 2]))
    assert m["hr"] == 1.0
    assert m["mrr"] == pytest.approx(1 / 3)
    assert m["ndcg"] == pytest.approx(_dcg([3]) / _dcg([1, 2]))


def test_one_target_per_user_gives_the_single_target_metrics():
    recs = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    targets = np.array([2, 0, 9])
    single = ranking_metrics(recs, targets, k=3)
    as_sets = ranking_metrics(recs, targets, k=3, target_offsets=np.array([0, 1, 2, 3]))
    assert as_sets == pytest.approx(single)
    assert single["ndcg"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / 3)


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        (np.array([0, 1]), r"one entry per user plus one \(3\), got 2"),
        (np.array([1, 2, 3]), r"start at 0 and end at len\(targets\)=3, got 1 and 3"),
        (np.array([0, 0, 3]), r"strictly increasing"),
        (np.array([0.0, 1.0, 3.0]), r"1-D integer array, got dtype float64"),
    ],
)
def test_ranking_metrics_refuse_bad_target_offsets(offsets, message):
    recs = np.array([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=message):
        ranking_metrics(recs, np.array([1, 3, 4]), k=2, target_offsets=offsets)


def test_ranking_metrics_refuse_a_target_repeated_for_one_user():
    recs = np.array([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"distinct items"):
        ranking_metrics(recs, np.array([1, 1, 3]), k=2, target_offsets=np.array([0, 2, 3]))
    # the same item for two different users is fine
    m = ranking_metrics(recs, np.array([1, 3, 1]), k=2, target_offsets=np.array([0, 1, 3]))
    assert m["hr"] == 1.0


class _FixedLists:
    """Recommends a fixed list per history, chosen by the history's last item."""

    def __init__(self, lists):
        self.lists = lists

    def recommend_batch(self, histories, topn=10, exclude_seen=True):
        rows = [self.lists[h[-1]][:topn] for h in histories.to_lists()]
        return np.array(rows, dtype=object), np.ones((len(rows), topn))


def test_evaluate_scores_a_group_split_by_any_hit():
    split = leave_last_group_out(_corpus(_group_rows()))
    model = _FixedLists({"b": ["x", "d", "c"], "h": ["y", "z", "w"], "j": ["k", "a", "b"]})
    m = evaluate(model, split, k=3)
    # user 1: d at 2 and c at 3 of {c, d}; user 3: no hit; user 4: k at 1 of {k}
    assert m["n_users"] == 3
    assert m["hr"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert m["ndcg"] == pytest.approx((_dcg([2, 3]) / _dcg([1, 2]) + 0 + 1) / 3)
    # the same lists against one target per user: only user 4's k is found
    single = Split(split.train, split.histories, np.array(["c", "i", "k"]))
    assert evaluate(model, single, k=3)["hr"] == pytest.approx(2 / 3)
    assert evaluate(model, single, k=3)["mrr"] == pytest.approx((1 / 3 + 0 + 1) / 3)

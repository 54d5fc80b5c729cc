"""Thresholds reached exactly: session gaps, min_weight / min_count / min_length,
temporal cutoffs, metric padding, and save/load of the state that update() needs."""

from collections import Counter

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences
from item2vec.evaluation import evaluate, leave_last_out, ranking_metrics, temporal_split
from item2vec.vocab import Vocabulary

# pandas builds this module's datetime and missing-value cases
pd = pytest.importorskip("pandas", reason="pandas is not installed")

# --- session_gap: a new session starts only when the gap EXCEEDS session_gap ----


# one second less and one second more than 30 minutes after the previous event
CLOCK = ["2024-01-01T00:00:00", "2024-01-01T00:30:00", "2024-01-01T00:59:59", "2024-01-01T01:30:00"]

GAP_CASES = {
    # (times, session_gap); the steps are gap, gap - unit, gap + unit
    "int": ([0, 10, 19, 30], 10),
    "float": ([0.0, 0.75, 1.25, 2.25], 0.75),  # unit 0.25: every value exact in binary
    "datetime64": (np.array(CLOCK, dtype="datetime64[s]"), 1800),
    "timestamp_ns": (pd.to_datetime(CLOCK), 1800),
    "timestamp_tz": (pd.to_datetime(CLOCK).tz_localize("Europe/Paris"), 1800),
}


@pytest.mark.parametrize("case", list(GAP_CASES))
def test_a_gap_equal_to_session_gap_stays_in_the_session(case):
    times, gap = GAP_CASES[case]
    frame = pd.DataFrame({"user": ["u"] * 4, "item": ["a", "b", "c", "d"], "t": times})
    seqs = Sequences.from_events(frame, user="user", item="item", time="t", session_gap=gap)
    # a->b: exactly gap (same), b->c: gap - 1 unit (same), c->d: gap + 1 unit (split)
    assert seqs.to_lists() == [["a", "b", "c"], ["d"]]
    assert seqs.users.tolist() == ["u", "u"]


@pytest.mark.parametrize("case", ["int", "float", "datetime64"])
def test_session_gap_boundary_from_a_dict_of_arrays(case):
    times, gap = GAP_CASES[case]
    events = {"user": np.full(4, 7), "item": np.array([1, 2, 3, 4]), "t": np.asarray(times)}
    seqs = Sequences.from_events(events, user="user", item="item", time="t", session_gap=gap)
    assert seqs.to_lists() == [[1, 2, 3], [4]]


@pytest.mark.parametrize("millis", [1, 300, 700, 999])
def test_a_sub_second_datetime_gap_equal_to_session_gap_stays_in_the_session(millis):
    # epoch seconds as floats put 0.7 s gaps at 0.70000005 s: gaps come from the timedeltas
    start = pd.Timestamp("2024-01-01")
    times = pd.DatetimeIndex([start, start + pd.Timedelta(milliseconds=millis)])
    events = {"u": [1, 1], "i": ["a", "b"], "t": times}
    gap = millis / 1000
    together = Sequences.from_events(events, user="u", item="i", time="t", session_gap=gap)
    apart = Sequences.from_events(events, user="u", item="i", time="t", session_gap=gap * 0.999)
    assert together.to_lists() == [["a", "b"]]
    assert apart.to_lists() == [["a"], ["b"]]


def test_integer_nanosecond_times_keep_exact_gaps():
    # int64 epoch nanoseconds exceed float64's 53 bits; a gap of 1 ns is still a gap
    base = 1_700_000_000_000_000_000
    events = {"u": [1, 1, 1], "i": ["a", "b", "c"], "t": np.array([base, base + 1, base + 3])}
    split = Sequences.from_events(events, user="u", item="i", time="t", session_gap=1)
    assert split.to_lists() == [["a", "b"], ["c"]]


def test_session_gap_zero_splits_only_strictly_later_events():
    # equal times are a gap of 0, which does not exceed 0
    events = {"user": [1, 1, 1, 1], "item": ["a", "b", "c", "d"], "t": [5, 5, 6, 6]}
    seqs = Sequences.from_events(events, user="user", item="item", time="t", session_gap=0)
    assert seqs.to_lists() == [["a", "b"], ["c", "d"]]


# --- min_weight: events with weight >= min_weight are kept ---------------------


@pytest.mark.parametrize(
    ("weights", "min_weight"),
    [([3, 4, 5, 4], 4), ([3.75, 4.0, 4.25, 4.0], 4.0), ([0.5, 1.5, 2.5, 1.5], 1.5)],
)
def test_an_event_weighing_exactly_min_weight_is_kept(weights, min_weight):
    events = {"user": [1, 1, 1, 2], "item": ["a", "b", "c", "d"], "w": weights}
    seqs = Sequences.from_events(
        events, user="user", item="item", weight="w", min_weight=min_weight
    )
    assert seqs.to_lists() == [["b", "c"], ["d"]]
    assert seqs.weights.tolist() == [weights[1], weights[2], weights[3]]


# --- min_length: sequences of exactly min_length events are kept ---------------


@pytest.mark.parametrize("min_length", [2, 3])
def test_a_sequence_of_exactly_min_length_is_kept(min_length):
    lengths = {"u1": min_length - 1, "u2": min_length, "u3": min_length + 1}
    users, items = [], []
    for user, n in lengths.items():
        users += [user] * n
        items += [f"{user}-{k}" for k in range(n)]
    seqs = Sequences.from_events({"user": users, "item": items}, user="user", item="item",
                                 min_length=min_length)  # fmt: skip
    expected = [[f"{u}-{k}" for k in range(n)] for u, n in lengths.items() if n >= min_length]
    assert seqs.to_lists() == expected
    assert seqs.users.tolist() == ["u2", "u3"]


def test_min_length_applies_to_sessions_after_the_gap_split():
    events = {"user": [1] * 5, "item": list("abcde"), "t": [0, 1, 2, 10, 11]}
    seqs = Sequences.from_events(
        events, user="user", item="item", time="t", session_gap=1, min_length=2
    )
    assert seqs.to_lists() == [["a", "b", "c"], ["d", "e"]]
    seqs = Sequences.from_events(
        events, user="user", item="item", time="t", session_gap=1, min_length=3
    )
    assert seqs.to_lists() == [["a", "b", "c"]]


# --- min_count: items with exactly min_count occurrences are kept --------------

# counts: a 3, b 2, c 2, d 1, e 3, f 1 (first appearance a, b, c, d, e, f)
COUNT_CORPUS = [["a", "b", "c", "d"], ["e", "a", "c", "e"], ["b", "f", "a", "e"]]


def _reference_vocabulary(sequences, min_count):
    """Items kept by min_count, by count descending then first appearance."""
    counts = Counter(item for seq in sequences for item in seq)
    first = {}
    for item in (item for seq in sequences for item in seq):
        first.setdefault(item, len(first))
    kept = [item for item in first if counts[item] >= min_count]
    kept.sort(key=lambda item: (-counts[item], first[item]))
    return kept, [counts[item] for item in kept]


@pytest.mark.parametrize("min_count", [1, 2, 3, 4])
def test_sequences_pruned_keeps_items_of_exactly_min_count(min_count):
    items, counts = _reference_vocabulary(COUNT_CORPUS, min_count)
    pruned = Sequences.from_iterable(COUNT_CORPUS).pruned(min_count)
    assert pruned.vocabulary.items.tolist() == items
    assert pruned.vocabulary.counts.tolist() == counts
    expected = [[item for item in seq if item in items] for seq in COUNT_CORPUS]
    assert pruned.to_lists() == expected


@pytest.mark.parametrize("min_count", [1, 2, 3])
def test_pruning_a_subset_reorders_by_the_subset_counts(min_count):
    corpus = Sequences.from_iterable(COUNT_CORPUS)
    subset = corpus.subset([1, 2])
    counts = Counter(item for seq in COUNT_CORPUS[1:] for item in seq)
    # count descending, ties in the order of the corpus vocabulary
    current = corpus.vocabulary.items.tolist()
    expected = sorted((i for i in current if counts[i] >= min_count), key=lambda i: -counts[i])
    pruned = subset.pruned(min_count)
    assert pruned.vocabulary.items.tolist() == expected
    assert pruned.vocabulary.counts.tolist() == [counts[i] for i in expected]
    kept = [[i for i in seq if i in expected] for seq in COUNT_CORPUS[1:]]
    assert pruned.to_lists() == kept


@pytest.mark.parametrize("min_count", [1, 2, 3, 4])
def test_vocabulary_pruned_keeps_items_of_exactly_min_count(min_count):
    # counts out of order, with ties, so order is "count descending, ties as given"
    vocab = Vocabulary(["p", "q", "r", "s", "t"], [2, 3, 1, 3, 2])
    pruned, mapping = vocab.pruned(min_count)
    expected = sorted(
        (i for i in range(5) if vocab.counts[i] >= min_count), key=lambda i: -vocab.counts[i]
    )
    assert pruned.items.tolist() == [vocab.items[i] for i in expected]
    assert pruned.counts.tolist() == [int(vocab.counts[i]) for i in expected]
    reference = np.full(5, -1)
    reference[expected] = np.arange(len(expected))
    assert mapping.tolist() == reference.tolist()


def test_vocabulary_pruned_keeps_exactly_max_vocab_size_items():
    vocab = Vocabulary(["p", "q", "r", "s"], [2, 3, 1, 3])
    assert vocab.pruned(1, max_vocab_size=3)[0].items.tolist() == ["q", "s", "p"]
    assert vocab.pruned(1, max_vocab_size=4)[0].items.tolist() == ["q", "s", "p", "r"]


@pytest.mark.parametrize("min_count", [1, 2, 3])
def test_fit_keeps_items_of_exactly_min_count_in_documented_order(min_count):
    items, counts = _reference_vocabulary(COUNT_CORPUS, min_count)
    model = Item2Vec(
        vector_size=4, epochs=1, min_count=min_count, sample=0, n_jobs=1, random_state=0
    )
    model.fit(COUNT_CORPUS)
    assert model.items_.tolist() == items
    assert model.vocabulary_.counts.tolist() == counts
    assert model.vectors_.shape == (len(items), 4)


# --- evaluation splits ----------------------------------------------------------


def test_temporal_split_puts_an_event_at_the_cutoff_on_the_target_side():
    events = {
        "user": [1, 1, 1, 1, 2, 2, 3, 3],
        "item": ["a", "b", "c", "d", "e", "f", "g", "h"],
        "t": [1, 4, 5, 6, 5, 7, 3, 4],
    }
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    split = temporal_split(corpus, cutoff=5)
    # user 1: c at exactly 5 is the target; user 2 starts at 5: nothing before it;
    # user 3 ends at 4 (cutoff - 1): all training, no target
    assert split.train.to_lists() == [["a", "b"], [], ["g", "h"]]
    assert split.histories.to_lists() == [["a", "b"]]
    assert split.targets.tolist() == ["c"]


def test_temporal_split_by_quantile_treats_the_quantile_time_as_the_cutoff():
    # 11 distinct times 0..10: the 0.5 quantile is exactly the time 5
    events = {
        "user": [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3],
        "item": list("abcdefghijk"),
        "t": [0, 3, 5, 1, 4, 6, 7, 2, 8, 9, 10],
    }
    times = np.sort(np.asarray(events["t"], dtype=float))
    assert times[(len(times) - 1) // 2] == 5.0
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    split = temporal_split(corpus, quantile=0.5)
    assert split.train.to_lists() == [["a", "b"], ["d", "e"], ["h"]]
    assert split.histories.to_lists() == [["a", "b"], ["d", "e"], ["h"]]
    assert split.targets.tolist() == ["c", "f", "i"]


@pytest.mark.parametrize("min_length", [2, 3, 4])
def test_leave_last_out_holds_out_sequences_of_exactly_min_length(min_length):
    seqs = [["a", "b"], ["c", "d", "e"], ["f", "g", "h", "i"], ["j"]]
    split = leave_last_out(Sequences.from_iterable(seqs), min_length=min_length)
    held = [len(s) >= min_length for s in seqs]
    assert split.train.to_lists() == [s[:-1] if h else s for s, h in zip(seqs, held, strict=True)]
    assert split.histories.to_lists() == [s[:-1] for s, h in zip(seqs, held, strict=True) if h]
    assert split.targets.tolist() == [s[-1] for s, h in zip(seqs, held, strict=True) if h]


# --- metrics ---------------------------------------------------------------------


def test_hr_ndcg_mrr_match_hand_computed_values():
    recs = np.array(
        [
            [10, 11, 12, 13],  # target 10 at rank 1
            [20, 21, 22, 23],  # target 21 at rank 2
            [30, 31, 32, 33],  # target 32 at rank 3
            [40, 41, 42, 43],  # target 43 at rank 4, beyond k=3: a miss
            [50, 51, 52, 53],  # target absent
        ]
    )
    targets = np.array([10, 21, 32, 43, 99])
    m = ranking_metrics(recs, targets, k=3)
    assert m["hr"] == pytest.approx(3 / 5, abs=1e-12)
    # NDCG with one relevant item: 1 / log2(rank + 1)
    assert m["ndcg"] == pytest.approx((1 / 1 + 1 / np.log2(3) + 1 / 2) / 5, abs=1e-12)
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 5, abs=1e-12)
    assert "coverage" not in m


def test_a_target_in_a_padded_slot_is_not_a_hit():
    recs = np.array([[5, -1, -1], [6, 7, 8]])
    valid = np.array([[True, False, False], [True, True, True]])
    m = ranking_metrics(recs, np.array([-1, 7]), k=3, valid=valid)
    assert m["hr"] == 0.5
    assert m["ndcg"] == pytest.approx(1 / np.log2(3) / 2, abs=1e-12)
    assert m["mrr"] == pytest.approx(1 / 4, abs=1e-12)


@pytest.mark.parametrize(
    ("real", "pad", "dtype"),
    [
        ([1, 2, 3, 4], -1, np.int64),
        (["a", "b", "c", "d"], "", "U1"),
        ([1, "b", 3, "d"], None, object),
    ],
)
def test_padding_never_counts_as_a_covered_item(real, pad, dtype):
    a, b, c, d = real
    recs = np.array([[a, b, c], [b, pad, pad], [d, a, pad]], dtype=dtype)
    valid = np.array([[True, True, True], [True, False, False], [True, True, False]])
    targets = np.array([a, c, d], dtype=dtype)
    m = ranking_metrics(recs, targets, k=3, n_items=10, valid=valid)
    # covered: a, b, c, d -> 4 of 10; the padding value is not an item
    assert m["coverage"] == pytest.approx(4 / 10, abs=1e-12)


def test_coverage_counts_only_the_first_k_columns():
    recs = np.array([[1, 2, 3], [1, 4, 5]])
    assert ranking_metrics(recs, np.array([1, 1]), k=2, n_items=8)["coverage"] == 3 / 8


class _FixedRecommender:
    """Returns given recommendations, padded with ``pad`` where the score is -inf."""

    def __init__(self, ids, scores):
        self.ids, self.scores = ids, scores

    def recommend_batch(self, histories, topn=10, exclude_seen=True):
        assert exclude_seen
        return self.ids[:, :topn], self.scores[:, :topn]


@pytest.mark.parametrize("pad", [-1, 0])
def test_evaluate_coverage_and_metrics_ignore_padding(pad):
    # pad 0 is also a real item id: only the scores tell padding apart
    corpus = Sequences.from_iterable([[0, 1, 2], [3, 4], [5, 6, 7], [1, 8]])
    split = leave_last_out(corpus)
    assert split.targets.tolist() == [2, 4, 7, 8]
    inf = -np.inf
    ids = np.array([[3, 2, pad], [4, pad, pad], [pad, pad, pad], [8, 3, 6]])
    scores = np.array([[2.0, 1.0, inf], [1.0, inf, inf], [inf, inf, inf], [3.0, 2.0, 1.0]])
    m = evaluate(_FixedRecommender(ids, scores), split, k=3)
    # train items: 0 1 3 5 6 1 -> 5 distinct; recommended (valid): 3, 2, 4, 8, 6 -> 5 distinct
    assert m["coverage"] == pytest.approx(5 / 5)
    assert m["hr"] == pytest.approx(3 / 4)
    assert m["ndcg"] == pytest.approx((1 / np.log2(3) + 1 + 0 + 1) / 4, abs=1e-12)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 + 0 + 1) / 4, abs=1e-12)
    assert m["n_users"] == 4
    ids[1], scores[1] = pad, inf  # only rows 0 and 3 recommend: 3, 2, 8, 6 -> 4 distinct of 5
    m = evaluate(_FixedRecommender(ids, scores), split, k=3)
    assert m["coverage"] == pytest.approx(4 / 5)


# --- save / load keeps what update() needs ------------------------------------------

# fit: x, y, z, w appear once (under min_count=2); the rest often
FIT_CORPUS = [
    ["a", "b", "c", "d", "a", "b"],
    ["c", "d", "e", "a", "x"],
    ["b", "e", "c", "y", "d"],
    ["e", "a", "b", "z", "c"],
    ["d", "e", "a", "w"],
]
UPDATES = [
    [["a", "x", "b", "c"], ["d", "v", "e"]],  # x reaches 2 only through the pending count
    [["b", "y", "c"], ["v", "a", "d"], ["e", "x"]],  # y (pending 1) and v (from update 1)
]


def _model():
    return Item2Vec(
        vector_size=8, window=2, negative=2, epochs=2, min_count=2, sample=0,
        n_jobs=1, random_state=12345,
    )  # fmt: skip


def _assert_same_state(a, b):
    assert a.items_.tolist() == b.items_.tolist()
    assert np.array_equal(a.vocabulary_.counts, b.vocabulary_.counts)
    assert np.array_equal(a.vectors_, b.vectors_)
    assert np.array_equal(a.output_vectors_, b.output_vectors_)
    assert a.loss_history_ == b.loss_history_
    assert a.n_updates_ == b.n_updates_


@pytest.mark.parametrize("reload_before", [0, 1])
def test_updates_after_save_and_load_match_updates_without_it(tmp_path, reload_before):
    direct = _model().fit(FIT_CORPUS)
    assert "x" not in direct.items_.tolist()
    reloaded = _model().fit(FIT_CORPUS)
    for step, batch in enumerate(UPDATES):
        if step == reload_before:
            path = tmp_path / f"model{step}.npz"
            reloaded.save(path)
            reloaded = Item2Vec.load(path)
            _assert_same_state(direct, reloaded)
        direct.update(batch)
        reloaded.update(batch)
        _assert_same_state(direct, reloaded)
        if step == 0:
            # x: one event in fit, one here; v: one here only
            assert "x" in reloaded.items_.tolist()
            assert "v" not in reloaded.items_.tolist()
            x = reloaded.vocabulary_.code("x")
            assert reloaded.vocabulary_.counts[x] == 2
    items = direct.items_.tolist()
    assert {"y", "v"} <= set(items)
    assert "z" not in items and "w" not in items
    assert direct.vocabulary_.counts[direct.vocabulary_.code("x")] == 3
    assert direct.n_updates_ == 2
    assert len(direct.loss_history_) == 2 + 2 * len(UPDATES)


def test_load_keeps_the_seed_update_counter_and_loss_history(tmp_path):
    model = _model().fit(FIT_CORPUS).update(UPDATES[0])
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.n_updates_ == 1
    assert loaded.loss_history_ == model.loss_history_
    assert loaded.random_state == 12345
    assert loaded.get_params() == {**model.get_params(), "callbacks": None}


def test_pending_counts_survive_a_round_trip(tmp_path):
    # after the round trip a single further event of y must suffice to reach min_count=2
    model = _model().fit(FIT_CORPUS)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    loaded.update([["a", "y", "b"]])
    assert "y" in loaded.items_.tolist()
    assert loaded.vocabulary_.counts[loaded.vocabulary_.code("y")] == 2


def test_features_survive_a_round_trip(tmp_path):
    features = {"a": ["red"], "b": ["red", "big"], "c": ["blue"], "x": ["blue"]}
    model = _model().fit(FIT_CORPUS, item_features=features)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.features_.tolist() == model.features_.tolist()
    assert sorted(model.features_.tolist()) == ["big", "blue", "red"]
    assert np.array_equal(loaded.feature_vectors_, model.feature_vectors_)
    assert np.array_equal(loaded.vectors_, model.vectors_)
    direct = model.update(UPDATES[0])
    loaded.update(UPDATES[0])
    _assert_same_state(direct, loaded)


@pytest.mark.parametrize("k", [0, -1])
def test_ranking_metrics_refuses_a_cut_off_below_one(k):
    with pytest.raises(ValueError, match=f"k must be an int >= 1, got {k}"):
        ranking_metrics(np.array([["a", "b"]]), np.array(["a"]), k=k, n_items=3)

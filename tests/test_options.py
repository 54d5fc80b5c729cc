"""Training and query options beyond plain item2vec: weights, time, baskets, priors."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import train_once
from item2vec import Item2Vec, Sequences, Vocabulary
from item2vec._kernels import core
from item2vec.datasets import planted_sessions

SMALL = {"vector_size": 16, "epochs": 2, "n_jobs": 1, "random_state": 7}


@pytest.fixture(scope="module")
def timed_corpus() -> Sequences:
    data = planted_sessions(n_sessions=1500, n_items=150, n_clusters=10, random_state=4)
    plain = Sequences.from_iterable(data.sequences)
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 2.0, plain.n_tokens).astype(np.float32)
    times = np.cumsum(rng.exponential(60.0, plain.n_tokens))
    return Sequences(plain.codes, plain.offsets, plain.vocabulary, weights, times)


def _one_sequence_events(length, **kwargs):
    """Prediction events of one skip-gram pass over the sequence 0..length-1."""
    rng = np.random.default_rng(0)
    n_items = max(length, 2)
    syn0 = rng.uniform(-0.1, 0.1, (n_items, 8)).astype(np.float32)
    syn1 = np.zeros_like(syn0)
    threshold, alias = core.build_alias(np.full(n_items, 1.0 / n_items))
    codes = np.arange(length, dtype=np.int32)
    offsets = np.array([0, length], dtype=np.int64)
    window = kwargs.pop("window", 5)
    _, _, events, _ = train_once(
        core,
        syn0, syn1, codes, offsets, 0, 1, np.zeros(0, np.float32), threshold, alias,
        True, True, window, False, 2, True, 0.025, 0.025, 1, **kwargs,
    )  # fmt: skip
    return events


# --- strength -------------------------------------------------------------------


def test_zero_weight_events_are_exactly_absent():
    data = planted_sessions(n_sessions=800, n_items=80, n_clusters=8, random_state=2)
    rng = np.random.default_rng(1)
    weights = [rng.choice([0.0, 1.0, 2.5], size=len(s), p=[0.2, 0.5, 0.3]) for s in data.sequences]
    with_zeros = Sequences.from_iterable(data.sequences)
    with_zeros.weights = np.concatenate(weights).astype(np.float32)
    without = [
        [item for item, w in zip(seq, ws, strict=True) if w > 0]
        for seq, ws in zip(data.sequences, weights, strict=True)
    ]
    kept = Sequences.from_iterable(without)
    kept.weights = np.concatenate([ws[ws > 0] for ws in weights]).astype(np.float32)
    a = Item2Vec(use_weights=True, **SMALL).fit(with_zeros)
    b = Item2Vec(use_weights=True, **SMALL).fit(kept)
    assert a.items_.tolist() == b.items_.tolist()
    assert a.vocabulary_.counts.tolist() == b.vocabulary_.counts.tolist()
    np.testing.assert_array_equal(a.vectors_, b.vectors_)
    # and the zero weights did matter: ignoring weights trains on those events
    c = Item2Vec(**SMALL).fit(with_zeros)
    assert c.vocabulary_.counts.sum() > a.vocabulary_.counts.sum()


def test_uniform_weights_train_exactly_like_no_weights(timed_corpus):
    uniform = Sequences(
        timed_corpus.codes, timed_corpus.offsets, timed_corpus.vocabulary,
        np.full(timed_corpus.n_tokens, 3.0, np.float32),
    )  # fmt: skip
    for sg in (True, False):
        plain = Item2Vec(sg=sg, **SMALL).fit(uniform)
        weighted = Item2Vec(sg=sg, use_weights=True, **SMALL).fit(uniform)
        np.testing.assert_array_equal(plain.vectors_, weighted.vectors_)
        varied = Item2Vec(sg=sg, use_weights=True, **SMALL).fit(timed_corpus)
        assert not np.array_equal(plain.vectors_, varied.vectors_)


def test_a_pair_weight_scales_its_learning_rate():
    rng = np.random.default_rng(3)
    n_items, dim = 4, 8
    start0 = rng.uniform(-0.5, 0.5, (n_items, dim)).astype(np.float32)
    start1 = rng.uniform(-0.5, 0.5, (n_items, dim)).astype(np.float32)
    threshold, alias = core.build_alias(np.full(n_items, 0.25))
    codes = np.array([0, 1], dtype=np.int32)
    offsets = np.array([0, 2], dtype=np.int64)
    empty = np.zeros(0, np.float32)

    def step(alpha, weights=None):
        syn0, syn1 = start0.copy(), start1.copy()
        train_once(
        core,
            syn0, syn1, codes, offsets, 0, 1, empty, threshold, alias,
            True, True, 1, False, 2, True, alpha, alpha, 5, weights=weights,
        )  # fmt: skip
        return syn0, syn1

    # both pairs have weight 2 * 1.5 = 3: same as the plain step at 3x the rate
    weighted = step(0.02, np.array([2.0, 1.5], np.float32))
    scaled = step(0.06)
    for got, want in zip(weighted, scaled, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert not np.allclose(step(0.02)[0], weighted[0])


def test_use_weights_needs_weights():
    with pytest.raises(ValueError, match="use_weights=True needs event weights"):
        Item2Vec(use_weights=True, **SMALL).fit([["a", "b"], ["b", "c"]])
    corpus = Sequences.from_iterable([["a", "b"]])
    corpus.weights = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match="every event has weight 0"):
        Item2Vec(use_weights=True, **SMALL).fit(corpus)


# --- time -----------------------------------------------------------------------


def test_no_time_decay_is_the_plain_mode_bit_for_bit(timed_corpus):
    plain = Item2Vec(**SMALL).fit(timed_corpus)
    explicit = Item2Vec(time_decay=None, time_window=None, **SMALL).fit(timed_corpus)
    np.testing.assert_array_equal(plain.vectors_, explicit.vectors_)
    # a decay so slow that every factor rounds to 1 goes through the weighted
    # path and still matches
    slow = Item2Vec(time_decay=1e300, **SMALL).fit(timed_corpus)
    np.testing.assert_array_equal(plain.vectors_, slow.vectors_)
    decayed = Item2Vec(time_decay=60.0, **SMALL).fit(timed_corpus)
    assert not np.array_equal(plain.vectors_, decayed.vectors_)


def test_time_window_drops_pairs_too_far_apart_in_time():
    times = np.array([0.0, 1.0, 2.0, 100.0, 101.0, 102.0])
    assert _one_sequence_events(6) == 6 * 5
    assert _one_sequence_events(6, times=times, time_window=10.0) == 6 * 2
    assert _one_sequence_events(6, times=times, time_window=1.0) == 2 + 2 + 2 + 2
    # a decay that underflows to zero weight drops the pair too
    assert _one_sequence_events(6, times=times, time_decay=1e-3) == 0


def test_time_decay_weights_pairs_by_their_time_gap():
    rng = np.random.default_rng(3)
    start0 = rng.uniform(-0.5, 0.5, (2, 8)).astype(np.float32)
    start1 = rng.uniform(-0.5, 0.5, (2, 8)).astype(np.float32)
    threshold, alias = core.build_alias(np.full(2, 0.5))
    codes = np.array([0, 1], dtype=np.int32)
    offsets = np.array([0, 2], dtype=np.int64)

    def step(alpha, **kwargs):
        syn0, syn1 = start0.copy(), start1.copy()
        train_once(
        core,
            syn0, syn1, codes, offsets, 0, 1, np.zeros(0, np.float32), threshold, alias,
            True, True, 1, False, 1, True, alpha, alpha, 5, **kwargs,
        )  # fmt: skip
        return syn0

    decayed = step(0.02, times=np.array([0.0, 30.0]), time_decay=60.0)
    np.testing.assert_allclose(decayed, step(0.02 * np.exp(-0.5)), rtol=1e-5, atol=1e-7)


def test_time_options_need_times():
    with pytest.raises(ValueError, match="need event times"):
        Item2Vec(time_decay=10.0, **SMALL).fit([["a", "b"]])
    for name in ("time_decay", "time_window"):
        with pytest.raises(ValueError, match=name):
            Item2Vec(**{name: -1.0}, **SMALL).fit([["a", "b"]])


# --- baskets ----------------------------------------------------------------------


def test_session_mode_pairs_every_item_of_a_short_basket():
    # window=1 sees only neighbours; the session mode sees the whole basket
    assert _one_sequence_events(8, window=1) == 2 * 7
    assert _one_sequence_events(8, session_contexts=10) == 8 * 7
    assert _one_sequence_events(11, session_contexts=10) == 11 * 10


def test_session_mode_samples_long_sessions_to_bounded_cost():
    assert _one_sequence_events(500, session_contexts=10) == 500 * 10
    assert _one_sequence_events(500, session_contexts=3) == 500 * 3


def test_session_mode_learns_pairs_at_the_far_ends_of_baskets():
    # item 2k and 2k+1 open and close every basket of pair k, with fresh
    # filler items in between: only a whole-basket context links them
    rng = np.random.default_rng(0)
    n_pairs, filler = 20, 1000
    baskets = []
    for _ in range(4000):
        k = int(rng.integers(n_pairs))
        middle = (2 * n_pairs + rng.choice(filler, size=6, replace=False)).tolist()
        baskets.append([2 * k, *middle, 2 * k + 1])
    hits = {}
    for window in (1, "session"):
        model = Item2Vec(window=window, sample=0, vector_size=16, epochs=5, n_jobs=1,
                         random_state=0).fit(baskets)  # fmt: skip
        hits[window] = np.mean(
            [model.most_similar(2 * k, topn=1)[0][0] == 2 * k + 1 for k in range(n_pairs)]
        )
    assert hits["session"] >= 0.9
    assert hits[1] <= 0.2


def test_window_accepts_only_ints_and_session():
    with pytest.raises(ValueError, match="'session'"):
        Item2Vec(window="basket", **SMALL).fit([["a", "b"]])
    with pytest.raises(ValueError, match="session_contexts"):
        Item2Vec(window="session", session_contexts=0, **SMALL).fit([["a", "b"]])


# --- queries that use time and popularity -------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> Item2Vec:
    data = planted_sessions(n_sessions=2000, n_items=120, n_clusters=12, random_state=5)
    return Item2Vec(
        vector_size=16, epochs=3, half_life=None, popularity=0.0, n_jobs=1, random_state=0
    ).fit(data.sequences)


def test_time_half_life_weights_history_events_by_age(fitted):
    old, recent = 3, 8  # different clusters
    history = Sequences(
        np.array([fitted.vocabulary_.code(old), fitted.vocabulary_.code(recent)], np.int32),
        np.array([0, 2], np.int64), fitted.vocabulary_, times=np.array([0.0, 1000.0]),
    )  # fmt: skip
    equal, _ = fitted.recommend_batch(history, topn=10)
    plain, _ = fitted.recommend_batch([[old, recent]], topn=10)
    assert equal.tolist() == plain.tolist()
    # a half-life far shorter than the gap leaves only the recent event
    short, _ = fitted.recommend_batch(history, topn=10, time_half_life=1.0)
    only_recent, _ = fitted.recommend_batch([[recent]], topn=11)
    expected = [i for i in only_recent[0].tolist() if i != old][:10]
    assert short[0].tolist() == expected
    # recommend() takes the times of one history
    ids, _ = fitted.recommend([old, recent], times=[0.0, 1000.0], time_half_life=1.0)
    assert ids.tolist() == expected


def test_time_half_life_weights_follow_the_formula():
    from item2vec.neighbors import history_matrix

    codes = np.array([0, 1, 2], dtype=np.int64)
    weights = history_matrix(
        codes, np.array([0, 3]), 3, times=np.array([0.0, 10.0, 20.0]), time_half_life=10.0
    ).toarray()[0]
    np.testing.assert_allclose(weights, np.array([0.25, 0.5, 1.0]) / 1.75, rtol=1e-6)
    with pytest.raises(ValueError, match="time_half_life needs event times"):
        history_matrix(codes, np.array([0, 3]), 3, time_half_life=1.0)


def test_popularity_prior_adds_log_counts(fitted):
    history = [[5, 17]]
    ids, scores = fitted.recommend_batch(history, topn=len(fitted.items_) - 2)
    ids_p, scores_p = fitted.recommend_batch(history, topn=len(fitted.items_) - 2, popularity=0.5)
    base = dict(zip(ids[0].tolist(), scores[0].tolist(), strict=True))
    counts = dict(zip(fitted.items_.tolist(), fitted.vocabulary_.counts.tolist(), strict=True))
    for item, score in zip(ids_p[0].tolist(), scores_p[0].tolist(), strict=True):
        assert score == pytest.approx(base[item] + 0.5 * np.log(counts[item]), abs=1e-4)
    # a dominant prior ranks by count
    ids_big, _ = fitted.recommend_batch(history, topn=5, popularity=1e4)
    by_count = [i for i in fitted.items_.tolist() if i not in (5, 17)][:5]
    assert ids_big[0].tolist() == by_count
    with pytest.raises(ValueError, match="popularity"):
        fitted.recommend_batch(history, popularity=float("nan"))


def test_popularity_prior_on_a_baseline():
    from item2vec.baselines import ItemKNN

    model = ItemKNN().fit([["a", "b"], ["a", "c"], ["c", "d"], ["c", "e"], ["c", "f"]])
    plain, _ = model.recommend(["a"], topn=2)
    assert plain.tolist() == ["b", "c"]  # b: 1 / sqrt(2 * 1) beats c: 1 / sqrt(2 * 4)
    primed, _ = model.recommend(["a"], topn=2, popularity=1.0)
    assert primed.tolist() == ["c", "b"]


def test_vocabulary_is_not_touched_by_canonical_on_encoded_input():
    corpus = Sequences.from_iterable([["b", "a", "b"], ["c", "a", "b"]])
    again = corpus.canonical()
    assert again.vocabulary.items.tolist() == corpus.vocabulary.items.tolist()
    assert again.vocabulary.counts.tolist() == corpus.vocabulary.counts.tolist()
    assert again.codes.tolist() == corpus.codes.tolist()
    assert again.to_lists() == corpus.to_lists()


def test_cbow_weighted_mean_stays_finite_when_every_weight_is_tiny():
    # gaps of 92 s with a 1 s decay: neighbours weigh about 1e-40 (a float
    # denormal), pairs further apart round to 0 and are dropped
    sequences = [[i % 7, (i + 1) % 7, (i + 3) % 7, (i + 5) % 7] for i in range(300)]
    corpus = Sequences.from_iterable(sequences)
    corpus.times = np.tile(np.array([0.0, 92.0, 184.0, 276.0]), 300)
    model = Item2Vec(sg=False, time_decay=1.0, sample=0, **SMALL).fit(corpus)
    assert np.all(np.isfinite(model.vectors_))
    # a decay under which no pair survives says so
    with pytest.raises(ValueError, match="close enough in time"):
        Item2Vec(sg=False, time_decay=0.1, sample=0, **SMALL).fit(corpus)


def test_history_weights_never_become_nan_with_both_half_lives():
    from item2vec.neighbors import history_matrix

    weights = history_matrix(
        np.array([0, 1]), np.array([0, 2]), 2, half_life=1e-4,
        times=np.array([10.0, 0.0]), time_half_life=1e-3,
    ).toarray()  # fmt: skip
    # one event is a step old (1e4 half-lives), the other 10 s old (1e4 half-lives
    # too): equal raw weights that underflow to 0, so each must weigh one half
    np.testing.assert_array_equal(weights, [[0.5, 0.5]])


def test_event_times_must_be_finite():
    with pytest.raises(ValueError, match="times must be finite"):
        Sequences(np.zeros(2, np.int32), np.array([0, 2]), Vocabulary(["a"], [2]),
                  times=np.array([0.0, np.nan]))  # fmt: skip


# --- side information ---------------------------------------------------------------


def test_item_features_help_rare_items_and_never_appear_in_results(tmp_path):
    data = planted_sessions(n_sessions=600, n_items=400, n_clusters=20, mean_length=8,
                            random_state=3)  # fmt: skip
    features = {item: [f"cluster {data.cluster_of[item]}"] for item in range(400)}

    def tail_precision(model):
        tail = model.items_[200:].tolist()  # items seen about 3 times each
        return np.mean([
            np.mean([data.cluster_of[n] == data.cluster_of[item]
                      for n, _ in model.most_similar(item, topn=5)])
            for item in tail
        ])  # fmt: skip

    plain = Item2Vec(vector_size=16, epochs=5, n_jobs=1, random_state=0).fit(data.sequences)
    side = Item2Vec(vector_size=16, epochs=5, n_jobs=1, random_state=0).fit(
        data.sequences, item_features=features
    )
    assert tail_precision(side) > tail_precision(plain) + 0.05
    assert side.items_.tolist() == plain.items_.tolist()
    assert side.vectors_.shape == plain.vectors_.shape
    assert side.feature_vectors_.shape == (20, 16) and len(side.features_) == 20
    ids, _ = side.recommend_batch([[0, 1], [5]], topn=400)
    assert set(ids.ravel().tolist()) <= set(range(400)) | {-1}  # items only, or padding
    assert len(side.most_similar(0, topn=1000)) == len(side.items_) - 1
    # a new item known only by its cluster feature lands among that cluster's items
    vector = side.vector_from_features(["cluster 7"])
    near = [item for item, _ in side.similar_by_vector(vector, topn=10)]
    assert np.mean([data.cluster_of[item] == 7 for item in near]) >= 0.5
    with pytest.raises(KeyError, match="not seen"):
        side.vector_from_features(["cluster 99"])
    with pytest.raises(ValueError, match="without item_features"):
        plain.vector_from_features(["cluster 7"])
    path = tmp_path / "side.npz"
    side.save(path)
    loaded = Item2Vec.load(path)
    assert loaded.features_.tolist() == side.features_.tolist()
    np.testing.assert_array_equal(loaded.feature_vectors_, side.feature_vectors_)


def test_item_features_checks_its_input():
    with pytest.raises(TypeError, match="mapping"):
        Item2Vec(**SMALL).fit([["a", "b"]], item_features=[("a", "f")])
    with pytest.raises(ValueError, match="no feature for any item"):
        Item2Vec(**SMALL).fit([["a", "b"]], item_features={"zzz": ["f"]})
    # a single feature may be given bare; weights and times follow their events
    corpus = Sequences.from_iterable([["a", "b", "c"]] * 50)
    corpus.weights = np.ones(corpus.n_tokens, np.float32)
    corpus.times = np.arange(corpus.n_tokens, dtype=np.float64)
    model = Item2Vec(use_weights=True, time_decay=100.0, sample=0, **SMALL).fit(
        corpus, item_features={"a": "red", "b": ["red", "blue"]}
    )
    assert model.features_.tolist() == ["red", "blue"]
    assert np.all(np.isfinite(model.feature_vectors_))

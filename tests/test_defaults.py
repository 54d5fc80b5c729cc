"""Defaults for behaviour data: remembered query options, epochs="auto", presets,
and the directional context."""

import math

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences
from item2vec.datasets import planted_sessions
from item2vec.neighbors import MODEL_SETTING


def _weighted_history_scores(model, history, half_life, popularity):
    """Output scores of a history by the definition: the recency-weighted mean of its
    items' input vectors (an event d steps before the last counts 0.5 ** (d / H)),
    dotted with every output vector, plus popularity * log(count)."""
    codes = [model.vocabulary_.code(item) for item in history]
    n = len(codes)
    weights = np.array(
        [1.0 if half_life is None else 0.5 ** ((n - 1 - i) / half_life) for i in range(n)]
    )
    h = (weights[:, None] * model.vectors_[codes].astype(np.float64)).sum(0) / weights.sum()
    scores = model.output_vectors_.astype(np.float64) @ h
    scores += popularity * np.log(np.maximum(model.vocabulary_.counts, 1))
    scores[codes] = -np.inf  # seen items are excluded
    return scores


def _top(model, scores, k):
    return model.items_[np.argsort(-scores, kind="stable")[:k]].tolist()


@pytest.fixture(scope="module")
def data():
    return planted_sessions(n_sessions=600, n_items=80, n_clusters=8, random_state=3)


@pytest.fixture(scope="module")
def model(data):
    # query options away from the defaults, so that each one shows
    return Item2Vec(
        vector_size=16, epochs=3, half_life=1.5, popularity=0.8, n_jobs=1, random_state=0
    ).fit(data.sequences)


HISTORY = [3, 11, 19, 27, 35, 5]


def test_recommend_uses_the_remembered_query_options(model):
    ids, scores = model.recommend(HISTORY, topn=8)
    expected = _weighted_history_scores(model, HISTORY, half_life=1.5, popularity=0.8)
    assert ids.tolist() == _top(model, expected, 8)
    np.testing.assert_allclose(scores, np.sort(expected)[::-1][:8], rtol=1e-5, atol=1e-5)
    # and they matter here: plain queries rank otherwise
    plain = _weighted_history_scores(model, HISTORY, half_life=None, popularity=0.0)
    assert _top(model, plain, 8) != ids.tolist()


@pytest.mark.parametrize(
    ("given", "half_life", "popularity"),
    [
        ({"half_life": None}, None, 0.8),  # None turns the remembered recency off
        ({"popularity": 0.0}, 1.5, 0.0),
        ({"half_life": 4.0, "popularity": -0.3}, 4.0, -0.3),
        ({"half_life": MODEL_SETTING}, 1.5, 0.8),  # the sentinel is "not given"
    ],
)
def test_explicit_query_options_override_the_remembered_ones(model, given, half_life, popularity):
    ids, _ = model.recommend(HISTORY, topn=8, **given)
    expected = _weighted_history_scores(model, HISTORY, half_life, popularity)
    assert ids.tolist() == _top(model, expected, 8)
    batch_ids, _ = model.recommend_batch([HISTORY], topn=8, **given)
    assert batch_ids[0].tolist() == ids.tolist()


def test_query_options_survive_save_and_load(model, tmp_path):
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.query_options == {
        "last_n": None, "half_life": 1.5, "time_half_life": None, "popularity": 0.8
    }  # fmt: skip
    assert (
        loaded.recommend(HISTORY, topn=8)[0].tolist()
        == model.recommend(HISTORY, topn=8)[0].tolist()
    )


def test_score_uses_the_remembered_query_options(data):
    seqs = data.sequences
    params = dict(vector_size=16, epochs=3, n_jobs=1, random_state=0)
    plain = Item2Vec(**params, half_life=None, popularity=0.0).fit(seqs[:500])
    tuned = Item2Vec(**params, half_life=1.0, popularity=-3.0).fit(seqs[:500])
    held = seqs[500:]
    histories = [s[:-1].tolist() for s in held if len(s) >= 2]
    targets = [s[-1] for s in held if len(s) >= 2]
    for m in (plain, tuned):
        ids, _ = m.recommend_batch(histories, topn=10)
        hits = np.mean([t in row for t, row in zip(targets, ids.tolist(), strict=True)])
        assert m.score(held) == pytest.approx(hits, abs=1e-12)
    assert plain.score(held) != tuned.score(held)


def test_a_remembered_time_half_life_applies_only_to_histories_with_times():
    events = {
        "user": [0, 0, 0, 1, 1, 1, 2, 2, 2] * 20,
        "item": ["a", "b", "c", "b", "c", "d", "c", "d", "a"] * 20,
        "time": np.arange(180, dtype=float),
    }
    corpus = Sequences.from_events(events, user="user", item="item", time="time")
    model = Item2Vec(
        vector_size=4, epochs=2, half_life=None, popularity=0.0, time_half_life=1.0,
        n_jobs=1, random_state=0,
    ).fit(corpus)  # fmt: skip
    # no times: the remembered time_half_life is skipped, as if None
    ids, scores = model.recommend(["a", "b"], topn=2)
    same_ids, same_scores = model.recommend(["a", "b"], topn=2, time_half_life=None)
    assert ids.tolist() == same_ids.tolist()
    np.testing.assert_array_equal(scores, same_scores)
    # with times it applies: b, 10 time units newer, outweighs a by 2 ** 10
    timed, _ = model.recommend(["a", "b"], topn=2, times=[0.0, 10.0])
    b_only, _ = model.recommend(["b"], topn=3, time_half_life=None)
    assert timed.tolist() == [i for i in b_only.tolist() if i != "a"][:2]
    # an explicit one without times is still an error
    with pytest.raises(ValueError, match="time"):
        model.recommend(["a", "b"], topn=2, time_half_life=5.0)


# --- epochs="auto" ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_sequences", "length", "n_items", "expected"),
    [
        # 150 / sqrt(tokens per item), rounded, within 5..50
        (100, 10, 100, 47),  # 10 per item: 150 / 3.162 = 47.4
        (100, 4, 400, 50),  # 1 per item: 150, capped at 50
        (300, 30, 100, 16),  # 90 per item: 150 / 9.487 = 15.8
    ],
)
def test_auto_epochs_follow_the_formula(n_sequences, length, n_items, expected):
    rng = np.random.default_rng(0)
    # every item appears: cycle through them, then shuffle within sequences
    codes = np.arange(n_sequences * length) % n_items
    rng.shuffle(codes)
    seqs = codes.reshape(n_sequences, length).tolist()
    present = len({c for s in seqs for c in s})
    per_item = n_sequences * length / present
    want = min(50, max(5, round(150 / math.sqrt(per_item))))
    assert want == expected  # the hand-worked value
    model = Item2Vec(vector_size=4, n_jobs=1, random_state=0).fit(seqs)
    assert model.epochs == "auto"
    assert len(model.loss_history_) == want


def test_auto_epochs_floor_for_frequent_items():
    # 2,000 events per item: 150 / 44.7 = 3.4, raised to the floor of 5
    seqs = [[i % 3 for i in range(j, j + 20)] for j in range(300)]
    model = Item2Vec(vector_size=4, n_jobs=1, random_state=0).fit(seqs)
    assert len(model.loss_history_) == 5


def test_auto_epochs_of_an_update_follow_its_batch(data):
    model = Item2Vec(vector_size=8, n_jobs=1, random_state=0).fit(data.sequences[:300])
    first = len(model.loss_history_)
    batch = [[0, 1, 2, 3]] * 5  # 20 events over 4 items: 150 / sqrt(5) = 67 -> 50
    model.update(batch)
    assert len(model.loss_history_) - first == 50
    model.update(batch, epochs=2)  # an explicit count wins
    assert len(model.loss_history_) - first == 52


def test_epochs_must_be_a_positive_int_or_auto():
    with pytest.raises(ValueError, match="epochs must be an int >= 1 or 'auto'"):
        Item2Vec(epochs="many").fit([["a", "b"]])
    with pytest.raises(ValueError, match="epochs"):
        Item2Vec(epochs=0).fit([["a", "b"]])


# --- presets ------------------------------------------------------------------------


def test_the_word2vec_preset_restores_the_text_defaults():
    model = Item2Vec.from_preset("word2vec", vector_size=8)
    params = model.get_params()
    assert (params["sample"], params["epochs"]) == (1e-3, 5)
    assert (params["half_life"], params["popularity"]) == (None, 0.0)
    assert params["vector_size"] == 8
    assert Item2Vec.from_preset("recommend").get_params() == Item2Vec().get_params()
    with pytest.raises(ValueError, match="preset must be one of"):
        Item2Vec.from_preset("text")


def test_the_defaults_are_those_documented():
    params = Item2Vec().get_params()
    assert params["sample"] == 0.0 and params["epochs"] == "auto"
    assert params["half_life"] == 1.0 and params["popularity"] == 0.2
    assert params["context"] == "both"


# --- context="past" -------------------------------------------------------------------


def _pairs_model(context):
    # every sequence is one ordered pair x -> y; 40 such pairs, so noise is spread out
    seqs = [[f"x{k}", f"y{k}"] for k in range(40)] * 30
    return Item2Vec(
        vector_size=16, window=1, context=context, epochs=20, half_life=None,
        popularity=0.0, n_jobs=1, random_state=0,
    ).fit(seqs)  # fmt: skip


def test_past_context_learns_what_comes_next_not_what_came_before():
    model = _pairs_model("past")
    v, w = model.vectors_.astype(np.float64), model.output_vectors_.astype(np.float64)
    code = model.vocabulary_.code
    forward = [v[code(f"x{k}")] @ w[code(f"y{k}")] for k in range(40)]
    backward = [v[code(f"y{k}")] @ w[code(f"x{k}")] for k in range(40)]
    # x predicted y 600 times; y never predicted x (it has nothing after it, x nothing before)
    assert min(forward) > 1.0
    assert max(backward) < 0.5
    assert model.recommend(["x7"], topn=1)[0].tolist() == ["y7"]


def test_both_sides_context_learns_the_pair_in_both_directions():
    model = _pairs_model("both")
    v, w = model.vectors_.astype(np.float64), model.output_vectors_.astype(np.float64)
    code = model.vocabulary_.code
    backward = [v[code(f"y{k}")] @ w[code(f"x{k}")] for k in range(40)]
    assert min(backward) > 1.0
    assert model.recommend(["y7"], topn=1)[0].tolist() == ["x7"]


def test_context_must_be_both_or_past():
    with pytest.raises(ValueError, match="context must be 'both' or 'past'"):
        Item2Vec(context="future").fit([["a", "b"]])

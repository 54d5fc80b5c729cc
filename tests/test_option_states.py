"""The three states of every remembered query option on every surface.

A model remembers ``last_n``, ``half_life``, ``time_half_life`` and ``popularity``.
A call that leaves one out uses the model's value; one that passes a value uses it;
one that passes None (0.0 for ``popularity``) switches it off. Each state is checked
on ``recommend``, ``recommend_batch``, ``score``, ``evaluate``, ``spark.recommend``,
the model ``tune`` returns and a saved and loaded model, against scores computed here
with NumPy from the vectors alone, without the model's memory.
"""

import warnings

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences
from item2vec.baselines import ItemKNN
from item2vec.evaluation import Split, evaluate
from item2vec.neighbors import UnknownItemsWarning
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

ITEMS = list("abcdefghijklmn")
COUNTS = [60, 45, 33, 25, 20, 16, 12, 10, 8, 6, 5, 4, 3, 2]
REMEMBERED = {"last_n": 3, "half_life": 1.5, "time_half_life": 4.0, "popularity": 0.4}
VALUES = {"last_n": 2, "half_life": 0.5, "time_half_life": 1.0, "popularity": 1.5}
OFF = {"last_n": None, "half_life": None, "time_half_life": None, "popularity": 0.0}
OPTIONS = tuple(REMEMBERED)
STATES = ("left out", "value", "off")

# histories (oldest first) with their event times; "zz" is unknown to the model
HISTORIES = [
    ["a", "c", "e", "g", "i"],
    ["n", "m", "b", "zz", "d", "f"],
    ["h", "j"],
    ["c", "k", "l", "a", "b", "e", "m"],
    ["g"],
]
TIMES = [
    [0.0, 1.0, 5.0, 6.0, 9.0],
    [0.0, 2.0, 3.0, 3.5, 7.0, 7.5],
    [1.0, 8.0],
    [0.0, 0.5, 1.0, 4.0, 6.0, 6.5, 10.0],
    [3.0],
]


def vector_model(seed=0, scoring="output", items=ITEMS, counts=COUNTS, **params):
    """An Item2Vec holding chosen random vectors (no training) and remembered options."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(items), 6)).astype(np.float32)
    output = rng.normal(size=(len(items), 6)).astype(np.float32)
    model = Item2Vec(vector_size=6, recommend_scoring=scoring, **{**REMEMBERED, **params})
    model.item_vectors_ = ItemVectors(Vocabulary(items, counts), vectors, output)
    return model


def timed(histories, times):
    plain = Sequences.from_iterable(histories)
    return Sequences(
        plain.codes, plain.offsets, plain.vocabulary, times=np.concatenate(times).astype(float)
    )


def effective(option, state, remembered=REMEMBERED):
    """The options a call means: the remembered ones, one of them changed by ``state``."""
    options = dict(remembered)
    if state == "value":
        options[option] = VALUES[option]
    elif state == "off":
        options[option] = OFF[option]
    return options


def call_options(option, state):
    """Keyword arguments of a call in ``state`` for ``option`` (the others left out)."""
    if state == "left out":
        return {}
    return {option: (VALUES if state == "value" else OFF)[option]}


def reference(vectors, output, items, counts, histories, times, topn, options, scoring="output"):
    """Ranked ids and scores per history, from the definitions alone.

    An event ``d`` steps before a history's last one weighs ``0.5 ** (d / half_life)``,
    ``dt`` older than its newest known event ``0.5 ** (dt / time_half_life)``; only the
    last ``last_n`` events count; the weights are normalised. The history vector scores
    items against the output vectors (or unit vectors for "cosine"), plus
    ``popularity * log(count)``; seen items are left out; ties go to the lower index.
    """
    items = list(items)
    vectors = np.asarray(vectors, dtype=np.float64)
    output = np.asarray(output, dtype=np.float64)
    if scoring == "cosine":
        vectors = output = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    prior = options["popularity"] * np.log(np.maximum(np.asarray(counts, float), 1.0))
    last_n, half_life, tau = options["last_n"], options["half_life"], options["time_half_life"]
    ranked = []
    for history, stamps in zip(histories, times, strict=True):
        codes = [items.index(x) if x in items else -1 for x in history]
        length = len(codes)
        window = range(length) if last_n is None else range(max(0, length - last_n), length)
        known = [j for j in window if codes[j] >= 0]
        if not known:
            ranked.append(([], np.zeros(0)))
            continue
        newest = max(stamps[j] for j in known)
        weights = np.zeros(len(items))
        for j in known:
            w = 1.0
            if half_life is not None:
                w *= 0.5 ** ((length - 1 - j) / half_life)
            if tau is not None:
                w *= 0.5 ** ((newest - stamps[j]) / tau)
            weights[codes[j]] += w
        weights /= weights.sum()
        scores = (weights @ vectors) @ output.T + prior
        scores[[c for c in codes if c >= 0]] = -np.inf
        order = [int(i) for i in np.argsort(-scores, kind="stable")[:topn]]
        order = [i for i in order if np.isfinite(scores[i])]
        ranked.append(([items[i] for i in order], scores[order]))
    return ranked


def reference_of(model, histories, times, topn, options):
    return reference(
        model.vectors_, model.output_vectors_, model.items_, model.vocabulary_.counts, histories,
        times, topn, options, scoring=model.recommend_scoring,
    )  # fmt: skip


def assert_ranked(ids, scores, expected, context=""):
    for row, (want_ids, want_scores) in enumerate(expected):
        finite = np.isfinite(scores[row])
        assert list(ids[row][finite]) == want_ids, (context, row)
        np.testing.assert_allclose(
            scores[row][finite], want_scores, rtol=1e-5, atol=1e-5, err_msg=f"{context} {row}"
        )


def test_the_states_of_every_option_rank_differently():
    """The cases below can tell the states apart: each state's reference ranking (ids and
    scores) differs from the other two for every option."""
    model = vector_model()
    for option in OPTIONS:
        results = [
            [(ids, np.round(scores, 4).tolist()) for ids, scores in reference_of(
                model, HISTORIES, TIMES, 5, effective(option, state))]
            for state in STATES
        ]  # fmt: skip
        assert results[0] != results[1] != results[2] != results[0], option


# --- recommend_batch and recommend ---------------------------------------------------------


@pytest.mark.parametrize("scoring", ["output", "cosine"])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("option", OPTIONS)
def test_recommend_batch_follows_each_state_of_each_option(option, state, scoring):
    model = vector_model(scoring=scoring)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown "zz"
        ids, scores = model.recommend_batch(
            timed(HISTORIES, TIMES), topn=5, **call_options(option, state)
        )
    expected = reference_of(model, HISTORIES, TIMES, 5, effective(option, state))
    assert_ranked(ids, scores, expected, (option, state))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("option", OPTIONS)
def test_recommend_follows_each_state_of_each_option(option, state):
    model = vector_model()
    for history, stamps in zip(HISTORIES, TIMES, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ids, scores = model.recommend(
                history, topn=4, times=stamps, **call_options(option, state)
            )
        (expected,) = reference_of(model, [history], [stamps], 4, effective(option, state))
        assert_ranked(ids[None], scores[None], [expected], (option, state, history))


def test_a_remembered_time_half_life_is_left_out_for_histories_without_times():
    model = vector_model()
    with pytest.warns(UserWarning, match="time_half_life=4.0 is not applied"):
        warnings.simplefilter("ignore", UnknownItemsWarning)  # the unknown "zz"
        ids, scores = model.recommend_batch(HISTORIES, topn=5)
    untimed = {**REMEMBERED, "time_half_life": None}
    assert_ranked(ids, scores, reference_of(model, HISTORIES, TIMES, 5, untimed))


def test_a_baseline_remembers_nothing_and_takes_each_option_given():
    sequences = [h for h in HISTORIES if "zz" not in h] * 3
    knn = ItemKNN().fit(sequences)
    sim = knn.similarity_.toarray().astype(np.float64)
    items = list(knn.items_)
    histories = [["a", "c", "e", "g", "i"], ["c", "k", "l", "a", "b", "e", "m"]]

    def expected(half_life, last_n):
        rows = []
        for history in histories:
            codes = [items.index(x) for x in history]
            window = codes[-last_n:] if last_n else codes
            weights = np.zeros(len(items))
            for d, code in enumerate(reversed(window)):
                weights[code] += 1.0 if half_life is None else 0.5 ** (d / half_life)
            scores = weights / weights.sum() @ sim
            scores[codes] = -np.inf
            order = np.argsort(-scores, kind="stable")[:3]
            rows.append(([items[i] for i in order], scores[order]))
        return rows

    for given, half_life, last_n in (({}, None, None), ({"half_life": 1.0}, 1.0, None),
                                     ({"last_n": 2, "half_life": None}, None, 2)):  # fmt: skip
        ids, scores = knn.recommend_batch(histories, topn=3, **given)
        assert_ranked(ids, scores, expected(half_life, last_n), given)


# --- evaluate and score --------------------------------------------------------------------


def reference_metrics(ranked, targets, k):
    hits = [
        list(ids[:k]).index(t) if t in ids[:k] else None
        for (ids, _), t in zip(ranked, targets, strict=True)
    ]
    hr = np.mean([h is not None for h in hits])
    ndcg = np.mean([0.0 if h is None else 1.0 / np.log2(h + 2) for h in hits])
    mrr = np.mean([0.0 if h is None else 1.0 / (h + 1) for h in hits])
    return {"hr": hr, "ndcg": ndcg, "mrr": mrr}


def _eval_data(n=60, seed=5):
    rng = np.random.default_rng(seed)
    histories, times, targets = [], [], []
    for _ in range(n):
        length = int(rng.integers(4, 9))  # longer than every last_n
        histories.append([ITEMS[i] for i in rng.choice(len(ITEMS), length, replace=False)])
        times.append(np.sort(rng.uniform(0, 10, length)).tolist())
        targets.append(ITEMS[int(rng.integers(len(ITEMS)))])
    return histories, times, np.array(targets, dtype=object)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("option", OPTIONS)
def test_evaluate_follows_each_state_of_each_option(option, state):
    model = vector_model()
    histories, times, _ = _eval_data()
    # targets the states disagree on: each row's best item under one of the three states
    tops = {
        other: reference_of(model, histories, times, 1, effective(option, other))
        for other in STATES
    }
    targets = np.array([tops[STATES[i % 3]][i][0][0] for i in range(len(histories))], dtype=object)
    corpus = timed(histories, times)
    split = Split(corpus, corpus, targets)
    metrics = evaluate(model, split, k=4, **call_options(option, state))
    expected = reference_metrics(
        reference_of(model, histories, times, 4, effective(option, state)), targets, 4
    )
    for name in ("hr", "ndcg", "mrr"):
        assert metrics[name] == pytest.approx(expected[name], abs=1e-12), (name, option, state)
    # the three states score differently here, so a state mixed up would show
    others = {
        other: reference_metrics(
            reference_of(model, histories, times, 4, effective(option, other)), targets, 4
        )["mrr"]
        for other in STATES
        if other != state
    }
    assert all(abs(value - expected["mrr"]) > 1e-9 for value in others.values()), others


@pytest.mark.parametrize("option", OPTIONS)
def test_score_uses_the_models_option_and_none_switches_it_off(option):
    # 30 items, histories of 5 events: the 10 recommended of 25 depend on every option
    items = [f"i{n:02d}" for n in range(30)]
    counts = list(range(90, 0, -3))
    rng = np.random.default_rng(9)
    histories = [[items[i] for i in rng.choice(30, 5, replace=False)] for _ in range(40)]
    times = [np.sort(rng.uniform(0, 10, 5)).tolist() for _ in histories]
    models = {
        "left out": vector_model(items=items, counts=counts),
        "off": vector_model(items=items, counts=counts, **{option: OFF[option]}),
    }
    # each sequence ends with the 10th item one state ranks after its history: a hit for
    # that state, one the other state may miss
    tenth = {
        state: reference_of(models["left out"], histories, times, 10, effective(option, state))
        for state in models
    }
    ends = [tenth[("left out", "off")[i % 2]][i][0][9] for i in range(len(histories))]
    sequences = timed(
        [[*h, end] for h, end in zip(histories, ends, strict=True)], [[*t, 11.0] for t in times]
    )
    hit_rates = {}
    for state, model in models.items():
        ranked = reference_of(model, histories, times, 10, effective(option, state))
        hit_rates[state] = reference_metrics(ranked, ends, 10)["hr"]
        assert model.score(sequences) == pytest.approx(hit_rates[state], abs=1e-12), state
    assert hit_rates["left out"] != hit_rates["off"]


# --- a saved and loaded model ----------------------------------------------------------------


@pytest.mark.parametrize("remembered", [REMEMBERED, OFF, VALUES], ids=["values", "off", "others"])
@pytest.mark.parametrize("mmap", [False, True])
def test_a_loaded_model_remembers_each_option_including_off(tmp_path, remembered, mmap):
    model = vector_model(**remembered)
    model.save(tmp_path / "model.npz")
    loaded = Item2Vec.load(tmp_path / "model.npz", mmap=mmap)
    assert loaded.query_options == remembered
    kept = HISTORIES[:1] + HISTORIES[2:], TIMES[:1] + TIMES[2:]
    ids, scores = loaded.recommend_batch(timed(*kept), topn=5)
    assert_ranked(ids, scores, reference_of(model, *kept, 5, remembered))
    # and each option can still be given or switched off on the loaded model
    for option in OPTIONS:
        for state in ("value", "off"):
            ids, scores = loaded.recommend_batch(
                timed(*kept), topn=5, **call_options(option, state)
            )
            expected = reference_of(model, *kept, 5, effective(option, state, remembered))
            assert_ranked(ids, scores, expected, (option, state))


# --- the model tune returns ------------------------------------------------------------------


def _tune_data():
    rng = np.random.default_rng(11)
    sequences = [list(rng.choice(ITEMS, 8)) for _ in range(30)]
    plain = Sequences.from_iterable(sequences)
    times = np.concatenate([np.sort(rng.uniform(0, 100, 8)) for _ in sequences])
    return Sequences(plain.codes, plain.offsets, plain.vocabulary, times=times)


@pytest.mark.parametrize(
    ("preferred", "fixed"),
    [
        ({"half_life": None, "popularity": 0.0, "time_half_life": None}, {}),
        ({"half_life": 3.0, "popularity": 0.5, "time_half_life": "any"}, {}),
        ({"half_life": 3.0, "popularity": 0.5, "time_half_life": None},
         {"half_life": None, "popularity": 0.0, "last_n": 2}),
    ],
    ids=["off", "values", "fixed-off"],
)  # fmt: skip
def test_the_model_tune_returns_remembers_the_options_it_chose(monkeypatch, preferred, fixed):
    pytest.importorskip("optuna")
    from item2vec import tuning

    real_evaluate = tuning._evaluate_users

    def preferring(model, split, k=10, **query):
        # best where each option has its preferred value ("any": any value but None), the
        # same on every validation event: a better value's gain has no noise around it
        score = sum(
            (query[name] is not None) if want == "any" else (query[name] == want)
            for name, want in preferred.items()
        )
        metrics, per_event = real_evaluate(model, split, k=k, **query)
        flat = np.full(per_event["ndcg"].shape, float(score))
        return {**metrics, "ndcg": float(score)}, {**per_event, "ndcg": flat}

    monkeypatch.setattr(tuning, "_evaluate_users", preferring)
    corpus = _tune_data()
    result = tuning.tune(
        corpus, budget=1e9, max_trials=1, fixed={"vector_size": 6, "epochs": 2, **fixed},
        n_jobs=1, verbose=False, search_query=True,
    )  # fmt: skip
    chosen = {name: fixed.get(name, want) for name, want in preferred.items()}
    if chosen["time_half_life"] == "any":
        chosen["time_half_life"] = result.best_query["time_half_life"]
        assert chosen["time_half_life"] is not None
    assert result.best_query == chosen
    model = result.model
    remembered = {**chosen, "last_n": fixed.get("last_n")}
    assert model.query_options == remembered
    histories, times = HISTORIES[:1] + HISTORIES[2:], TIMES[:1] + TIMES[2:]
    ids, scores = model.recommend_batch(timed(histories, times), topn=5)
    assert_ranked(ids, scores, reference_of(model, histories, times, 5, remembered))


# --- spark.recommend -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "state"),
    [("half_life", "left out"), ("half_life", "off"), ("popularity", "value"),
     ("popularity", "off"), ("last_n", "off"), ("time_half_life", "off")],
)  # fmt: skip
def test_spark_recommend_follows_each_state(spark, option, state):
    pytest.importorskip("pandas")
    from item2vec import spark as i2v_spark

    model = vector_model()
    rows = [
        (user, item, float(t))
        for user, (history, stamps) in enumerate(zip(HISTORIES, TIMES, strict=True))
        for item, t in zip(history, stamps, strict=True)
    ]
    events = spark.createDataFrame(rows, "user long, item string, t double")
    table = i2v_spark.recommend(
        model, events, user="user", item="item", time="t", topn=4, **call_options(option, state)
    ).toPandas()
    expected = reference_of(model, HISTORIES, TIMES, 4, effective(option, state))
    for user, (want_ids, want_scores) in enumerate(expected):
        mine = table[table["user"] == user].sort_values("rank")
        assert mine["rank"].tolist() == list(range(1, len(want_ids) + 1))
        assert mine["item"].tolist() == want_ids, (option, state, user)
        np.testing.assert_allclose(mine["score"], want_scores, rtol=1e-5, atol=1e-5)

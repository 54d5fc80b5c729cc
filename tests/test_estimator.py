"""The estimator's contract: parameter rules and messages, repr and get/set_params,
threads, progress, callbacks, training errors, side information and the queries'
values against NumPy references."""

import os
import re
import sys
import threading
import time
import types

import numpy as np
import pytest

from item2vec import Item2Vec, NotFittedError, Sequences, _training
from item2vec.baselines import Popularity
from item2vec.neighbors import history_matrix

FAST = dict(vector_size=4, epochs=1, sample=0, n_jobs=1, random_state=0)

# the parameters of Item2Vec, as documented, in alphabetical order
PARAM_NAMES = [
    "alpha", "callbacks", "cbow_mean", "context", "epochs", "half_life", "last_n",
    "max_vocab_size", "min_alpha", "min_count", "n_jobs", "negative", "ns_exponent",
    "popularity", "random_state", "recommend_scoring", "sample", "session_contexts", "sg",
    "shared_negatives", "shrink_windows", "similarity", "time_decay", "time_half_life",
    "time_window", "use_weights", "vector_size", "verbose", "window",
]  # fmt: skip


def unit_rows(vectors):
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ranked(scores, exclude=()):
    """Indices by score descending, ties to the lower index, ``exclude`` left out."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[list(exclude)] = -np.inf
    order = np.argsort(-scores, kind="stable")
    return order[np.isfinite(scores[order])]


def corpus_of(n_items, n_seqs, length, seed):
    rng = np.random.default_rng(seed)
    return [[f"i{j}" for j in rng.integers(0, n_items, length)] for _ in range(n_seqs)]


@pytest.fixture(scope="module")
def model():
    """15 items, well trained enough that their scores are far apart."""
    return Item2Vec(
        vector_size=6, epochs=2, half_life=None, popularity=0.0, n_jobs=1, random_state=0
    ).fit(corpus_of(15, 200, 8, seed=1))


# --- parameter rules --------------------------------------------------------------

BAD_PARAMS = [
    ("vector_size", 0, ValueError, "vector_size must be an int >= 1, got 0"),
    ("vector_size", 2.0, TypeError, "vector_size must be an int, got 2.0"),
    ("vector_size", True, TypeError, "vector_size must be an int, got True"),
    ("vector_size", None, TypeError, "vector_size must be an int, got None"),
    ("window", 0, ValueError, "window must be an int >= 1, got 0"),
    ("window", "basket", ValueError, "window must be an int >= 1 or 'session', got 'basket'"),
    ("window", 2.5, TypeError, "window must be an int, got 2.5"),
    ("window", True, TypeError, "window must be an int, got True"),
    ("window", None, TypeError, "window must be an int, got None"),
    ("window", 2**31, ValueError, "window must be <= 2147483647, got 2147483648"),
    ("negative", 0, ValueError, "negative must be an int >= 1, got 0"),
    ("negative", 2**31, ValueError, "negative must be <= 2147483647, got 2147483648"),
    ("ns_exponent", "0.75", TypeError, "ns_exponent must be a real number, got '0.75'"),
    ("ns_exponent", True, TypeError, "ns_exponent must be a real number, got True"),
    ("ns_exponent", None, TypeError, "ns_exponent must be a real number, got None"),
    ("ns_exponent", float("nan"), ValueError, "ns_exponent must be finite, got nan"),
    ("sample", -0.001, ValueError, "sample must be >= 0.0, got -0.001"),
    ("sample", float("inf"), ValueError, "sample must be finite, got inf"),
    ("min_count", 0, ValueError, "min_count must be an int >= 1, got 0"),
    ("min_count", 1.0, TypeError, "min_count must be an int, got 1.0"),
    ("max_vocab_size", 0, ValueError, "max_vocab_size must be an int >= 1, got 0"),
    ("max_vocab_size", 1.5, TypeError, "max_vocab_size must be an int, got 1.5"),
    ("epochs", 0, ValueError, "epochs must be an int >= 1, got 0"),
    ("epochs", 2.0, TypeError, "epochs must be an int, got 2.0"),
    ("alpha", 0.0, ValueError, "alpha must be > 0.0, got 0.0"),
    ("alpha", -1, ValueError, "alpha must be > 0.0, got -1"),
    ("alpha", float("inf"), ValueError, "alpha must be finite, got inf"),
    ("min_alpha", -0.0001, ValueError, "min_alpha must be >= 0.0, got -0.0001"),
    ("sg", "yes", ValueError, "sg must be a bool, got 'yes'"),
    ("sg", 2, ValueError, "sg must be a bool, got 2"),
    ("sg", 0.5, ValueError, "sg must be a bool, got 0.5"),
    ("sg", None, ValueError, "sg must be a bool, got None"),
    ("cbow_mean", 2, ValueError, "cbow_mean must be a bool, got 2"),
    ("shrink_windows", -1, ValueError, "shrink_windows must be a bool, got -1"),
    ("shared_negatives", "no", ValueError, "shared_negatives must be a bool, got 'no'"),
    ("use_weights", None, ValueError, "use_weights must be a bool, got None"),
    ("session_contexts", 0, ValueError, "session_contexts must be an int >= 1, got 0"),
    ("session_contexts", 2**31, ValueError,
     "session_contexts must be <= 2147483647, got 2147483648"),
    ("time_decay", 0, ValueError, "time_decay must be > 0.0, got 0"),
    ("time_decay", float("nan"), ValueError, "time_decay must be finite, got nan"),
    ("time_decay", "1", TypeError, "time_decay must be a real number, got '1'"),
    ("time_window", 0.0, ValueError, "time_window must be > 0.0, got 0.0"),
    ("time_window", -5, ValueError, "time_window must be > 0.0, got -5"),
    ("recommend_scoring", "dot", ValueError,
     "recommend_scoring must be 'output' or 'cosine', got 'dot'"),
    ("recommend_scoring", None, ValueError,
     "recommend_scoring must be 'output' or 'cosine', got None"),
    ("n_jobs", 0, ValueError, "n_jobs must be a non-zero int or None, got 0"),
    ("n_jobs", 1.5, TypeError, "n_jobs must be an int, got 1.5"),
    ("n_jobs", True, TypeError, "n_jobs must be an int, got True"),
    ("random_state", -1, ValueError,
     "random_state must be None, an int >= 0 or a numpy Generator, got -1"),
    ("random_state", True, ValueError,
     "random_state must be None, an int >= 0 or a numpy Generator, got True"),
    ("random_state", 1.5, ValueError,
     "random_state must be None, an int >= 0 or a numpy Generator, got 1.5"),
    ("verbose", -1, ValueError, "verbose must be an int >= 0, got -1"),
    ("verbose", 0.5, TypeError, "verbose must be an int, got 0.5"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    BAD_PARAMS,
    ids=[f"{name}={value!r}" for name, value, _, _ in BAD_PARAMS],
)
def test_a_bad_parameter_value_is_refused_with_its_rule(name, value, error, message):
    model = Item2Vec(**{name: value})
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        model.fit([["a", "b"]])
    fitted = Item2Vec(**FAST).fit([["a", "b"]] * 3)
    before = fitted.get_params()
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        fitted.set_params(**{name: value})
    assert fitted.get_params() == before
    # fitted models check again before continuing to train (a value set as an attribute)
    setattr(fitted, name, value)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        fitted.update([["a", "b"]])


GOOD_PARAMS = [
    ("window", "session"),
    ("window", 2**31 - 1),
    ("negative", 2**31 - 1),
    ("session_contexts", 2**31 - 1),
    ("max_vocab_size", None),
    ("max_vocab_size", 1),
    ("time_decay", None),
    ("time_decay", 1),
    ("time_window", None),
    ("time_window", 1e-9),
    ("n_jobs", None),
    ("n_jobs", -1),
    ("n_jobs", -64),
    ("random_state", None),
    ("random_state", 0),
    ("random_state", np.int64(3)),
    ("random_state", np.random.default_rng(0)),
    ("random_state", np.random.RandomState(0)),
    ("sg", 0),
    ("sg", 1),
    ("sg", np.bool_(False)),
    ("sample", 0),
    ("min_alpha", 0.0),
    ("ns_exponent", -0.5),
    ("alpha", 1),
    ("verbose", 0),
    ("callbacks", None),
    ("callbacks", ()),
    ("recommend_scoring", "cosine"),
]


@pytest.mark.parametrize(
    ("name", "value"), GOOD_PARAMS, ids=[f"{name}={value!r}" for name, value in GOOD_PARAMS]
)
def test_a_value_within_the_rules_is_accepted(name, value):
    # parameters are checked first: an empty corpus is then the only complaint
    with pytest.raises(ValueError, match=r"^X is empty"):
        Item2Vec(**{name: value}).fit([])


# --- repr, get_params, set_params -------------------------------------------------


def test_repr_leaves_out_values_equal_to_the_defaults():
    # equal values that are other objects than the defaults
    same = Item2Vec(alpha=float("0.025"), sample=float("0"), min_alpha=float("1e-4"))
    assert repr(same) == "Item2Vec()"
    explicit = Item2Vec(window=5, sg=True, callbacks=None, random_state=None, verbose=0)
    assert repr(explicit) == "Item2Vec()"


def test_repr_shows_changed_values_sorted_by_name():
    model = Item2Vec(window="session", alpha=0.05, callbacks=[], min_count=3)
    assert repr(model) == "Item2Vec(alpha=0.05, callbacks=[], min_count=3, window='session')"


def test_repr_shows_an_equal_value_of_another_type():
    # 1 == True, but the repr must rebuild the parameters that were given
    assert repr(Item2Vec(sg=1)) == "Item2Vec(sg=1)"
    assert repr(Item2Vec(alpha=1)) == "Item2Vec(alpha=1)"
    rebuilt = eval(repr(Item2Vec(sg=1, alpha=1)), {"Item2Vec": Item2Vec})
    assert type(rebuilt.sg) is int and type(rebuilt.alpha) is int


def test_get_params_returns_every_parameter_as_given():
    callbacks = [print]
    model = Item2Vec(vector_size=7, window="session", callbacks=callbacks)
    params = model.get_params()
    assert sorted(params) == PARAM_NAMES
    assert params["vector_size"] == 7 and params["window"] == "session"
    assert params["callbacks"] is callbacks
    assert params["alpha"] == 0.025 and params["n_jobs"] is None
    assert model.get_params(deep=False) == params


def test_set_params_checks_values_as_fit_and_load_do_and_sets_none_of_a_refused_call():
    model = Item2Vec()
    with pytest.raises(ValueError, match="vector_size must be an int >= 1, got 0"):
        model.set_params(vector_size=0, window=3)
    assert model.vector_size == 100 and model.window == 5
    assert model.set_params(vector_size=7, window=3) is model
    assert model.get_params()["vector_size"] == 7 and model.window == 3
    model.vector_size = 0  # an attribute set directly: fit checks it
    with pytest.raises(ValueError, match="vector_size must be an int >= 1, got 0"):
        model.fit([["a", "b"]])


def test_set_params_names_the_unknown_parameter_and_lists_the_valid_ones():
    message = f"invalid parameter 'windw' for Item2Vec; valid parameters are {PARAM_NAMES}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Item2Vec().set_params(windw=3)


def test_scikit_learn_sees_an_unsupervised_float32_transformer_of_item_sequences():
    get_tags = pytest.importorskip("sklearn.utils").get_tags
    model = Item2Vec(**FAST)
    tags = get_tags(model)
    # y is never needed, and transform returns float32 whatever the input
    assert tags.target_tags.required is False
    out = model.fit([["a", "b"], ["b", "c"]] * 3).transform([["a", "c"]])
    assert tags.transformer_tags.preserves_dtype == [str(out.dtype)] == ["float32"]
    # the input is sequences of item ids (strings welcome), not a 1-D or 2-D array
    assert tags.input_tags.string is True
    assert tags.input_tags.one_d_array is False and tags.input_tags.two_d_array is False
    # inputs are checked by the estimator itself; threads race by design
    assert tags.no_validation is True and tags.non_deterministic is True


# --- threads ------------------------------------------------------------------------


N_CHUNKS = 4


@pytest.fixture
def threads_used(monkeypatch):
    """Fit on 4 chunks of exactly 32768 tokens with ``cores`` cores; return how many
    threads trained them and how many chunks ran at once at most."""
    from item2vec import _kernels

    seqs = [np.arange(64) % 50 for _ in range(N_CHUNKS * 512)]  # 512 x 64 tokens per chunk
    corpus = Sequences.from_iterable(seqs)
    real = _kernels.core.train_chunk

    def run(n_jobs, cores, expected):
        idents, counts, gate = set(), {"active": 0, "started": 0, "most": 0}, threading.Condition()

        def gated(*args, **kwargs):
            # each chunk waits until ``expected`` chunks run at once (or none is left to
            # start), so every worker takes one whatever the scheduling
            with gate:
                idents.add(threading.get_ident())
                counts["active"] += 1
                counts["started"] += 1
                counts["most"] = max(counts["most"], counts["active"])
                gate.notify_all()
                gate.wait_for(
                    lambda: counts["active"] >= expected or counts["started"] == N_CHUNKS,
                    timeout=10,
                )
            try:
                return real(*args, **kwargs)
            finally:
                with gate:
                    counts["active"] -= 1

        monkeypatch.setattr(_kernels.core, "train_chunk", gated)
        monkeypatch.setattr(os, "cpu_count", lambda: cores)
        Item2Vec(vector_size=2, window=1, negative=1, sample=0, epochs=1, n_jobs=n_jobs,
                 random_state=0).fit(corpus)  # fmt: skip
        assert counts["started"] == N_CHUNKS
        return len(idents), counts["most"]

    return run


@pytest.mark.parametrize(
    ("n_jobs", "cores", "expected"),
    [
        (None, 3, 3),  # all cores
        (-1, 3, 3),  # all cores
        (-2, 3, 2),  # all but one
        (-3, 3, 1),
        (-9, 3, 1),  # never fewer than one
        (2, 3, 2),
        (8, 3, 4),  # never more threads than chunks
        (None, None, 1),  # the core count is unknown
    ],
)
def test_n_jobs_sets_the_training_threads(threads_used, n_jobs, cores, expected):
    assert threads_used(n_jobs, cores, expected) == (expected, expected)


# --- callbacks and progress ------------------------------------------------------------


def _recorder():
    seen = []
    return seen, lambda model, stats: seen.append(stats)


def test_callbacks_receive_the_documented_statistics():
    # a and b occur once (under min_count=2): their events are not training tokens
    seqs = [["c", "d", "e"], ["a", "d", "c", "e"], ["e", "c", "b", "d"]] * 10
    n_tokens = sum(1 for s in seqs for item in s if item not in ("a", "b"))
    seen, record = _recorder()
    model = Item2Vec(vector_size=4, epochs=3, alpha=0.05, min_alpha=0.01, min_count=11,
                     sample=0, n_jobs=1, random_state=0, callbacks=[record])  # fmt: skip
    model.fit(seqs)
    assert [set(s) for s in seen] == [
        {"epoch", "epochs", "tokens", "kept_tokens", "seconds", "loss", "alpha"}
    ] * 3
    assert [s["epoch"] for s in seen] == [1, 2, 3]
    assert [s["epochs"] for s in seen] == [3, 3, 3]
    assert [s["tokens"] for s in seen] == [n_tokens] * 3
    assert [s["kept_tokens"] for s in seen] == [n_tokens] * 3  # sample=0 keeps every token
    assert [s["loss"] for s in seen] == model.loss_history_
    # the learning rate reached at the end of each epoch: linear from alpha to min_alpha
    expected = [0.05 + (0.01 - 0.05) * e / 3 for e in (1, 2, 3)]
    assert [s["alpha"] for s in seen] == pytest.approx(expected, rel=1e-12)
    assert all(s["seconds"] >= 0 for s in seen)


def test_update_reports_its_own_epochs_and_tokens():
    seen, record = _recorder()
    model = Item2Vec(callbacks=[record], **FAST).fit([["a", "b", "c"]] * 5)
    seen.clear()
    model.update([["c", "a"], ["b", "c", "a"]], epochs=2)
    assert [(s["epoch"], s["epochs"], s["tokens"]) for s in seen] == [(1, 2, 5), (2, 2, 5)]
    assert seen[-1]["alpha"] == pytest.approx(model.min_alpha, rel=1e-12)


def test_a_callback_returning_true_stops_after_that_epoch():
    seen, record = _recorder()

    def stop_at_two(model, stats):
        return stats["epoch"] == 2

    model = Item2Vec(**(FAST | {"epochs": 5, "callbacks": [stop_at_two, record]}))
    model.fit([["a", "b", "c"]] * 5)
    assert [s["epoch"] for s in seen] == [1, 2]  # the callbacks after it still ran in epoch 2
    assert len(model.loss_history_) == 2


def test_callbacks_query_the_vectors_of_the_epoch_just_trained():
    checks = []

    def check(model, stats):
        # the unit vectors behind the queries follow the vectors after every epoch
        unit = unit_rows(model.vectors_)
        checks.append(np.allclose(model.normed_vectors, unit, atol=1e-6))
        nearest = ranked(unit @ unit[0], exclude=[0])[0]
        first = model.most_similar(model.items_[0], topn=1, similarity="input")[0][0]
        checks.append(first == model.items_[nearest])
        # and so do the input + output vectors of the "inout" similarity (the default)
        inout = unit_rows(model.vectors_ + model.output_vectors_)
        nearest = ranked(inout @ unit[0], exclude=[0])[0]
        checks.append(model.most_similar(model.items_[0], topn=1)[0][0] == model.items_[nearest])

    Item2Vec(**(FAST | {"epochs": 3, "callbacks": [check]})).fit(corpus_of(8, 30, 5, seed=6))
    assert checks == [True] * 9


@pytest.fixture
def frozen_clock(monkeypatch):
    """A clock that never moves: rates divide by the floor of 1e-9 s."""
    monkeypatch.setattr(time, "perf_counter", lambda: 100.0)


@pytest.fixture
def terminal(monkeypatch):
    """Progress drawn as on a terminal, though stderr is captured."""
    monkeypatch.setattr(_training, "_is_terminal", lambda stream: True)


PROGRESS = dict(vector_size=2, window=1, negative=1, epochs=2, sample=0, n_jobs=1, random_state=0)


def _progress_corpus():
    # 2 chunks of exactly 32768 tokens per epoch
    return [np.arange(64) % 40 for _ in range(1024)]


def test_progress_without_tqdm_prints_one_line_per_epoch(
    capsys, terminal, without_module, frozen_clock
):
    without_module("tqdm")
    seen, record = _recorder()
    Item2Vec(verbose=1, callbacks=[record], **PROGRESS).fit(_progress_corpus())
    # a frozen clock never reaches the refresh interval: the bar is drawn only when full
    rate = "65,536,000,000,000"  # 65536 tokens in the 1e-9 s floor
    first, last = (f"{s['loss']:.4f}" for s in seen)
    assert capsys.readouterr().err == (
        f"\ritem2vec: epoch 1/2: loss {first}, {rate} tokens/s{' ' * 30}\n"
        f"\ritem2vec |{'#' * 20}| 100.0% epoch 2/2 131,072,000,000,000 tok/s loss {last}"
        f"\ritem2vec: epoch 2/2: loss {last}, {rate} tokens/s{' ' * 30}\n"
    )


@pytest.mark.parametrize("tqdm_installed", [False, True])
def test_progress_off_a_terminal_is_one_plain_line_per_epoch(
    capsys, without_module, frozen_clock, monkeypatch, tqdm_installed
):
    # a pipe or a log file: no bar (not even tqdm's) and no carriage return
    if tqdm_installed:

        def no_bar(**kwargs):
            raise AssertionError("no progress bar off a terminal")

        fake = types.ModuleType("tqdm.auto")
        fake.tqdm = no_bar
        monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
        monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    else:
        without_module("tqdm")
    seen, record = _recorder()
    Item2Vec(verbose=1, callbacks=[record], **PROGRESS).fit(_progress_corpus())
    rate = "65,536,000,000,000"
    assert capsys.readouterr().err == "".join(
        f"item2vec: epoch {s['epoch']}/2: loss {s['loss']:.4f}, {rate} tokens/s\n" for s in seen
    )


def test_progress_without_tqdm_redraws_the_bar_as_chunks_finish(
    capsys, terminal, without_module, monkeypatch
):
    without_module("tqdm")
    ticks = iter(range(10**6))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))  # 1 s per reading
    seen, record = _recorder()
    Item2Vec(verbose=1, callbacks=[record], **PROGRESS).fit(_progress_corpus())
    err = capsys.readouterr().err
    bars = re.findall(
        r"\ritem2vec \|(#*) *\| *([\d.]+)% epoch (\d)/2 ([\d,]+) tok/s loss (\S*)", err
    )
    # one redraw per chunk: a quarter of all epochs' tokens each
    assert [(len(b[0]), b[1], b[2]) for b in bars] == [
        (5, "25.0", "1"), (10, "50.0", "1"), (15, "75.0", "2"), (20, "100.0", "2")
    ]  # fmt: skip
    # the loss shown after an epoch's last chunk is that epoch's mean loss
    assert [bars[1][4], bars[3][4]] == [f"{s['loss']:.4f}" for s in seen]
    # tokens per second over the time since training started: below the tokens done
    done = [32768, 65536, 98304, 131072]
    rates = [int(b[3].replace(",", "")) for b in bars]
    assert all(0 < r < d for r, d in zip(rates, done, strict=True))
    for line in re.findall(r"\ritem2vec: epoch \d/2: loss \S+, ([\d,]+) tokens/s", err):
        assert 0 < int(line.replace(",", "")) < 65536


def test_progress_of_a_single_token_reaches_the_full_bar(
    capsys, terminal, without_module, frozen_clock
):
    without_module("tqdm")
    with pytest.raises(ValueError, match="nothing was trained"):
        Item2Vec(verbose=1, **FAST).fit([["a"]])
    # no prediction yet: no loss to show, and the epoch's mean loss is NaN
    assert capsys.readouterr().err == (
        f"\ritem2vec |{'#' * 20}| 100.0% epoch 1/1 1,000,000,000 tok/s loss "
        f"\ritem2vec: epoch 1/1: loss nan, 1,000,000,000 tokens/s{' ' * 30}\n"
    )


def test_progress_with_tqdm_feeds_the_bar_every_token(terminal, monkeypatch):
    bars = []

    class FakeBar:
        def __init__(self, **kwargs):
            self.kwargs, self.updates, self.postfix, self.closed = kwargs, [], None, False
            bars.append(self)

        def update(self, n):
            self.updates.append(n)

        def set_postfix(self, **kwargs):
            self.postfix = kwargs

        def close(self):
            self.closed = True

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    seen, record = _recorder()
    Item2Vec(verbose=1, callbacks=[record], **PROGRESS).fit(_progress_corpus())
    (bar,) = bars
    assert bar.kwargs["total"] == 2 * 65536
    assert bar.kwargs["unit"] == "tok"  # shown as tok/s
    assert bar.updates == [32768] * 4
    assert bar.postfix["epoch"] == "2/2"
    assert bar.postfix["loss"] == f"{seen[-1]['loss']:.4f}"
    assert bar.closed


def test_verbose_zero_prints_nothing(capsys, without_module):
    without_module("tqdm")
    Item2Vec(**FAST).fit([["a", "b", "c"]] * 5)
    assert capsys.readouterr().err == ""


# --- training errors ----------------------------------------------------------------


def test_nothing_to_train_says_why_and_leaves_the_model_unfitted():
    model = Item2Vec(**FAST).fit([["a", "b", "c"]] * 5).set_params(sample=0.001)
    message = (
        "nothing was trained: no sequence has two items left after min_count and "
        "subsampling (sample=0.001); use longer sequences or lower sample"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model.fit([["a"], ["b"], ["a"]])
    for name in ("vocabulary_", "items_", "vectors_", "output_vectors_", "features_",
                 "feature_vectors_", "loss_history_", "n_updates_"):  # fmt: skip
        assert not hasattr(model, name)
    assert "a" not in model


def test_a_callback_stopping_before_anything_was_trained_still_gets_the_error():
    model = Item2Vec(**(FAST | {"epochs": 3, "callbacks": [lambda model, stats: True]}))
    with pytest.raises(ValueError, match=r"^nothing was trained: "):
        model.fit([["a"], ["b"]])
    assert not hasattr(model, "vectors_")


def test_nothing_to_train_with_time_options_names_them():
    corpus = Sequences.from_iterable([["a", "b", "c"]] * 3)
    corpus.times = np.arange(9, dtype=np.float64) * 10.0
    message = (
        "nothing was trained: no sequence has two items left after min_count and "
        "subsampling (sample=0), or no pair is close enough in time; use longer "
        "sequences or lower sample, or raise time_decay / time_window"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Item2Vec(time_window=5.0, **FAST).fit(corpus)


def test_divergence_names_the_epoch_and_the_learning_rate():
    model = Item2Vec(**(FAST | {"vector_size": 8, "epochs": 3, "alpha": 1e30}))
    pattern = r"^training diverged in epoch 1 \(loss (nan|inf)\); lower alpha \(got 1e\+30\)$"
    with pytest.raises(FloatingPointError, match=pattern):
        model.fit([["a", "b", "c"]] * 50)
    assert not hasattr(model, "vectors_")


CORPUS_ERRORS = [
    ([], {}, "X is empty: training needs at least one non-empty sequence of items"),
    ([[], []], {}, "X is empty: training needs at least one non-empty sequence of items"),
    ([["a", "b"], ["c"]], {"min_count": 2},
     "no item occurs at least min_count=2 times; lower min_count"),
    ([["a", "b"]], {"use_weights": True},
     "use_weights=True needs event weights: pass Sequences with weights "
     "(e.g. Sequences.from_events(..., weight='rating'))"),
    ([["a", "b"]], {"time_decay": 1.0},
     "time_decay and time_window need event times: pass Sequences with times "
     "(e.g. Sequences.from_events(..., time='timestamp'))"),
    ([["a", "b"]], {"time_window": 1.0},
     "time_decay and time_window need event times: pass Sequences with times "
     "(e.g. Sequences.from_events(..., time='timestamp'))"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "params", "message"), CORPUS_ERRORS)
def test_a_corpus_that_cannot_be_trained_is_refused_with_the_reason(data, params, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Item2Vec(**(FAST | params)).fit(data)


def test_a_corpus_whose_every_weight_is_zero_is_refused():
    corpus = Sequences.from_iterable([["a", "b"], ["b", "c"]])
    corpus.weights = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"^every event has weight 0: nothing to train on$"):
        Item2Vec(**(FAST | {"use_weights": True})).fit(corpus)


def test_a_new_fit_forgets_the_previous_one():
    model = Item2Vec(**(FAST | {"epochs": 2}))
    model.fit([["a", "b", "c"]] * 5, item_features={"a": "red"}).update([["a", "d"]] * 2)
    assert model.n_updates_ == 1 and len(model.loss_history_) == 4
    model.fit([["x", "y"]] * 3)
    assert model.items_.tolist() == ["x", "y"]
    assert model.n_updates_ == 0 and len(model.loss_history_) == 2
    assert model.features_ is None and model.feature_vectors_ is None


def test_update_checks_its_epochs():
    model = Item2Vec(**FAST).fit([["a", "b"]] * 3)
    with pytest.raises(ValueError, match=r"^epochs must be an int >= 1, got 0$"):
        model.update([["a", "b"]], epochs=0)
    with pytest.raises(TypeError, match=r"^epochs must be an int, got 2\.0$"):
        model.update([["a", "b"]], epochs=2.0)
    seen, record = _recorder()
    model.set_params(callbacks=[record]).update([["a", "b"]], epochs=1)
    assert len(seen) == 1


def test_update_of_vectors_read_from_word2vec_text_says_why_it_cannot(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 0.1 0.2 0.3\nb 0.3 0.2 0.1\n")
    model = Item2Vec.load_word2vec_format(path)
    message = (
        "this model cannot be trained further: it was read from the word2vec format or "
        "memory-mapped (load it with mmap=False)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model.update([["a", "b"]])


def test_update_and_queries_before_fit_say_the_model_is_not_fitted():
    message = "this Item2Vec is not fitted yet; call fit(sequences) first"
    for query in (
        lambda m: m.update([["a", "b"]]),
        lambda m: m.recommend(["a"]),
        lambda m: m.transform([["a"]]),
        lambda m: m.score([["a", "b"]]),
        lambda m: m.vectors_,
    ):
        with pytest.raises(NotFittedError, match=f"^{re.escape(message)}$"):
            query(Item2Vec())


# --- update: who joins the vocabulary -------------------------------------------------

BASE = [["c", "a", "b"], ["c", "b"], ["c", "a"]] * 4  # codes: c 0, a 1, b 2


def test_an_update_with_the_first_item_and_a_new_one_adds_only_the_new_one():
    model = Item2Vec(**FAST).fit(BASE)
    assert model.items_.tolist() == ["c", "a", "b"]
    model.update([["c", "new"], ["c", "a"]])
    assert model.items_.tolist() == ["c", "a", "b", "new"]
    assert model.vocabulary_.counts.tolist() == [14, 9, 8, 1]
    model.update([["b", "c"]])  # nothing new: the counts stay integers
    assert model.vocabulary_.counts.tolist() == [15, 9, 9, 1]
    assert model.vocabulary_.counts.dtype == np.int64


def test_new_items_join_by_accumulated_count_then_batch_order():
    # p occurs twice in fit (under min_count=3): it joins with 2 + 1 = 3 events
    model = Item2Vec(**(FAST | {"min_count": 3})).fit([*BASE, ["p", "c"], ["a", "p"]])
    assert "p" not in model
    model.update([["r", "s", "r"], ["s", "p", "r", "q", "c"], ["q", "q", "r"]])
    # totals: r 4, q 3, p 3, s 2 (stays pending); equal totals keep the batch's order
    assert model.items_.tolist() == ["c", "a", "b", "r", "q", "p"]
    assert model.vocabulary_.counts.tolist()[3:] == [4, 3, 3]
    model.update([["s", "a"]])
    assert model.items_.tolist()[-1] == "s"


def test_max_vocab_size_lets_in_as_many_new_items_as_there_is_room():
    model = Item2Vec(**(FAST | {"max_vocab_size": 4})).fit(BASE)
    model.update([["x", "y", "y", "c"], ["y", "x", "z"]])
    assert model.items_.tolist() == ["c", "a", "b", "y"]
    model.update([["x", "c", "a"]])
    assert model.items_.tolist() == ["c", "a", "b", "y"]


def test_a_new_item_under_min_count_is_not_added():
    model = Item2Vec(**(FAST | {"min_count": 2})).fit(BASE)
    model.update([["c", "z", "a"]])
    assert "z" not in model
    model.update([["z", "a"]])
    assert model.items_.tolist()[-1] == "z"


# --- options that change training, and options that do not apply -----------------

OPTIONS_BASE = dict(vector_size=4, window=2, negative=2, epochs=1, sample=0, n_jobs=1,
                    random_state=0)  # fmt: skip


@pytest.fixture(scope="module")
def options_corpus():
    return corpus_of(12, 60, 8, seed=5)


def _vectors(corpus, **params):
    return Item2Vec(**(OPTIONS_BASE | params)).fit(corpus).vectors_


CHANGES = [
    ({}, {"window": 1}),
    ({}, {"window": "session"}),
    ({}, {"negative": 1}),
    ({}, {"ns_exponent": 0.0}),
    ({}, {"sample": 0.01}),
    ({}, {"alpha": 0.05}),
    ({}, {"min_alpha": 0.02}),
    ({}, {"epochs": 2}),
    ({}, {"sg": False}),
    ({}, {"shrink_windows": False}),
    ({}, {"shared_negatives": True}),
    ({"sg": False}, {"cbow_mean": False}),
    ({"window": "session"}, {"session_contexts": 2}),
]


@pytest.mark.parametrize(("base", "change"), CHANGES, ids=[str(c) for _, c in CHANGES])
def test_each_training_option_changes_the_vectors(options_corpus, base, change):
    before = _vectors(options_corpus, **base)
    after = _vectors(options_corpus, **(base | change))
    assert not np.array_equal(before, after)


NO_EFFECT = [
    ({}, {"cbow_mean": False}),  # CBOW only
    ({"sg": False}, {"shared_negatives": True}),  # skip-gram only
    ({}, {"session_contexts": 2}),  # window="session" only
    ({}, {"verbose": 0, "callbacks": [], "recommend_scoring": "cosine"}),  # not training
]


@pytest.mark.parametrize(("base", "change"), NO_EFFECT, ids=[str(c) for _, c in NO_EFFECT])
def test_an_option_that_does_not_apply_leaves_training_unchanged(options_corpus, base, change):
    before = _vectors(options_corpus, **base)
    after = _vectors(options_corpus, **(base | change))
    np.testing.assert_array_equal(before, after)


# --- random_state ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda: 7, lambda: np.int64(7), lambda: np.random.default_rng(7),
     lambda: np.random.RandomState(7)],
    ids=["int", "numpy int", "Generator", "RandomState"],
)  # fmt: skip
def test_every_kind_of_seed_makes_training_repeatable(make):
    seqs = corpus_of(10, 40, 6, seed=2)
    a = Item2Vec(**(FAST | {"random_state": make()})).fit(seqs)
    b = Item2Vec(**(FAST | {"random_state": make()})).fit(seqs)
    np.testing.assert_array_equal(a.vectors_, b.vectors_)


def test_a_numpy_integer_seed_is_the_same_seed_as_the_int():
    seqs = corpus_of(10, 40, 6, seed=2)
    a = Item2Vec(**(FAST | {"random_state": 7})).fit(seqs)
    b = Item2Vec(**(FAST | {"random_state": np.int64(7)})).fit(seqs)
    np.testing.assert_array_equal(a.vectors_, b.vectors_)


def test_no_seed_draws_fresh_randomness():
    seqs = corpus_of(10, 40, 6, seed=2)
    a = Item2Vec(**(FAST | {"random_state": None})).fit(seqs)
    b = Item2Vec(**(FAST | {"random_state": None})).fit(seqs)
    assert not np.array_equal(a.vectors_, b.vectors_)


# --- side information -------------------------------------------------------------

# a, b and c occur 10 times each; with their feature sequences, 20 times each
FEATURE_SEQS = [["a", "b", "c"], ["b", "a"], ["c", "b", "a", "c"]] * 2 + [
    ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"]
]
# given in any order and with repeats; x is shared, a bare string is one feature,
# a feature may have an item's name, an unknown item's features are ignored
ITEM_FEATURES = {"c": ["blue", "b"], "a": ["red", "big", "red"], "b": "red", "unknown": ["new"]}


def _hand_built(kind):
    """The corpus plus, after it, one sequence [item, features...] per event of the item,
    with features named apart from items and the event's weight and time."""
    spelled = {"a": ["f:red", "f:big"], "b": ["f:red"], "c": ["f:blue", "f:b"]}
    seqs = FEATURE_SEQS + [[item, *spelled[item]] for seq in FEATURE_SEQS for item in seq]
    events = [w for s in FEATURE_SEQS for w in s]
    rng = np.random.default_rng(4)
    weights = rng.uniform(0.5, 2.0, len(events))
    times = np.cumsum(rng.uniform(1.0, 5.0, len(events)))
    plain = Sequences.from_iterable(FEATURE_SEQS)
    combined = Sequences.from_iterable(seqs)
    lengths = [len(spelled[item]) + 1 for item in events]
    if kind == "weights":
        plain.weights = weights.astype(np.float32)
        combined.weights = np.concatenate([weights, np.repeat(weights, lengths)]).astype(np.float32)
    if kind == "times":
        plain.times, combined.times = times, np.concatenate([times, np.repeat(times, lengths)])
    return plain, combined


@pytest.mark.parametrize("kind", ["plain", "weights", "times"])
def test_item_features_train_as_extra_sequences_after_the_corpus(kind):
    params = FAST | {"vector_size": 5, "epochs": 2, "window": 2}
    params |= {"weights": {"use_weights": True}, "times": {"time_decay": 3.0}}.get(kind, {})
    plain, combined = _hand_built(kind)
    model = Item2Vec(**params).fit(plain, item_features=ITEM_FEATURES)
    # features in order of first mention, walking the items by count then appearance
    assert model.items_.tolist() == ["a", "b", "c"]
    assert model.features_.tolist() == ["red", "big", "blue", "b"]
    assert model.feature_vectors_.shape == (4, 5)
    # the same training, spelled out: items first, then features in that order
    reference = Item2Vec(**params).fit(combined)
    assert reference.items_.tolist() == ["a", "b", "c", "f:red", "f:big", "f:blue", "f:b"]
    np.testing.assert_array_equal(model.vectors_, reference.vectors_[:3])
    np.testing.assert_array_equal(model.feature_vectors_, reference.vectors_[3:])
    np.testing.assert_array_equal(model.output_vectors_, reference.output_vectors_[:3])


def test_item_features_count_one_short_sequence_per_event_of_an_item_with_features():
    seen, record = _recorder()
    seqs = [["a", "b", "c", "d"], ["d", "c"], ["a", "d"]]
    Item2Vec(callbacks=[record], **FAST).fit(seqs, item_features={"a": ["f", "g"], "c": "f"})
    # 8 events; a's two events add 3 tokens each, c's two add 2 each; b and d add none
    assert seen[0]["tokens"] == 8 + 2 * 3 + 2 * 2


def test_item_features_are_checked():
    with pytest.raises(
        TypeError, match=r"^item_features must be a mapping of item id to feature ids, got list$"
    ):
        Item2Vec(**FAST).fit([["a", "b"]], item_features=[("a", "f")])
    message = "item_features gives no feature for any item of the training data"
    with pytest.raises(ValueError, match=f"^{message}$"):
        Item2Vec(**FAST).fit([["a", "b"]], item_features={"zzz": ["f"], "a": []})


@pytest.fixture(scope="module")
def featured():
    return Item2Vec(**(FAST | {"vector_size": 5, "epochs": 2})).fit(
        FEATURE_SEQS, item_features={**ITEM_FEATURES, "a": ["red", "big", 7]}
    )


@pytest.mark.parametrize(
    ("given", "rows"),
    [
        (["red"], [0]),
        ("red", [0]),
        (["red", "blue"], [0, 3]),
        (("big", "b", 7), [1, 4, 2]),
        (7, [2]),
    ],
    ids=["one", "bare string", "two", "tuple", "bare int"],
)
def test_vector_from_features_is_the_mean_of_their_unit_vectors(featured, given, rows):
    assert featured.features_.tolist() == ["red", "big", 7, "blue", "b"]
    expected = unit_rows(featured.feature_vectors_[rows]).mean(axis=0)
    vector = featured.vector_from_features(given)
    assert vector.dtype == np.float32
    np.testing.assert_allclose(vector, expected, rtol=1e-6, atol=1e-7)


def test_vector_from_features_errors(featured, model):
    with pytest.raises(ValueError, match=r"^this model was fitted without item_features$"):
        model.vector_from_features(["red"])
    with pytest.raises(ValueError, match=r"^vector_from_features needs at least one feature$"):
        featured.vector_from_features([])
    with pytest.raises(KeyError, match=r'^"feature \'q\' was not seen in training"$'):
        featured.vector_from_features(["red", "q"])
    with pytest.raises(KeyError, match=r'^"feature \'a\' was not seen in training"$'):
        featured.vector_from_features("a")  # an item is not a feature


# --- similarity queries -------------------------------------------------------------


def test_most_similar_mixes_a_raw_vector_with_negative_items(model):
    unit = unit_rows(model.vectors_)
    # a short raw vector near item 3, and item 3's nearest neighbour subtracted: both
    # the vector and the difference are shorter than 1, so the scores are cosines
    # only if each is normalised
    near = ranked(unit @ unit[3], exclude=[3])[0]
    vector = (0.3 * unit[3] + 0.05 * unit[5]).astype(np.float32)
    query = vector / np.linalg.norm(vector) - unit[near]
    assert np.linalg.norm(query) < 1
    query /= np.linalg.norm(query)
    order = ranked(unit @ query, exclude=[near])
    result = model.most_similar(
        positive=vector, negative=[model.items_[near]], topn=6, similarity="input"
    )
    assert [i for i, _ in result] == model.items_[order[:6]].tolist()
    np.testing.assert_allclose([s for _, s in result], (unit @ query)[order[:6]], atol=1e-5)


def test_most_similar_with_only_negative_items_ranks_by_the_opposite(model):
    unit = unit_rows(model.vectors_)
    query = -(unit[2] + unit[7])
    query /= np.linalg.norm(query)
    order = ranked(unit @ query, exclude=[2, 7])
    result = model.most_similar(
        negative=[model.items_[2], model.items_[7]], topn=5, similarity="input"
    )
    assert [i for i, _ in result] == model.items_[order[:5]].tolist()
    np.testing.assert_allclose([s for _, s in result], (unit @ query)[order[:5]], atol=1e-5)


def test_most_similar_takes_items_in_any_sequence_and_an_empty_negative(model):
    a, b = model.items_[1], model.items_[6]
    expected = model.most_similar([a, b], topn=14)
    assert model.most_similar((a, b), topn=14) == expected
    assert model.most_similar([a, b], negative=[], topn=14) == expected
    assert model.most_similar(np.array([a, b]), topn=14) == expected


def test_query_errors_name_the_problem(model):
    with pytest.raises(
        ValueError, match=r"^most_similar needs positive and/or negative items \(or a vector\)$"
    ):
        model.most_similar()
    with pytest.raises(ValueError, match=r"^a query vector must be finite \(no NaN or inf\)$"):
        model.similar_by_vector(np.array([1, np.inf, 0, 0, 0, 0], dtype=np.float32))
    with pytest.raises(ValueError, match=r"^a query vector must have shape \(6,\), got \(3,\)$"):
        model.most_similar(np.ones(3))
    with pytest.raises(ValueError, match=r"^topn must be an int >= 1, got 0$"):
        model.similar_items([model.items_[0]], topn=0)


def test_similar_by_vector_takes_an_integer_array(model):
    vector = np.array([2, 0, -1, 0, 1, 0])
    unit = unit_rows(model.vectors_)
    order = ranked(unit @ (vector / np.linalg.norm(vector)))
    result = model.similar_by_vector(vector, topn=4, similarity="input")
    assert [i for i, _ in result] == model.items_[order[:4]].tolist()


def test_queries_return_ten_results_by_default(model, tmp_path):
    item = model.items_[0]
    assert len(model.most_similar(item)) == 10
    assert len(model.similar_by_vector(model.vectors_[0])) == 10
    assert model.similar_items([item])[0].shape == (1, 10)
    assert model.recommend_batch([[item]])[0].shape == (1, 10)
    assert len(model.recommend([item])[0]) == 10
    assert model.export_similar_items(tmp_path / "sim.csv") == 10 * 15


def test_a_single_item_model_has_no_neighbours_for_any_query(tmp_path):
    model = Item2Vec(**FAST).fit([["a", "a", "a"]])
    ids, scores = model.similar_items(["a", "a"], topn=3)
    assert ids.shape == scores.shape == (2, 0)
    assert scores.dtype == np.float32
    assert model.most_similar("a") == []
    with pytest.raises(ValueError, match=r"^the model has a single item: no neighbours to export$"):
        model.export_similar_items(tmp_path / "sim.csv")
    assert not (tmp_path / "sim.csv").exists()


def test_export_with_topn_beyond_the_other_items_writes_them_all(tmp_path):
    model = Item2Vec(**FAST, similarity="input").fit([["a", "b"]] * 3)
    unit = unit_rows(model.vectors_)
    assert model.export_similar_items(tmp_path / "sim.csv", topn=5, block=1) == 2
    lines = (tmp_path / "sim.csv").read_text().splitlines()
    assert lines[0] == "item,rank,neighbor,score"
    assert [line.split(",")[:3] for line in lines[1:]] == [["a", "1", "b"], ["b", "1", "a"]]
    cosine = float(unit[0] @ unit[1])
    assert [float(line.split(",")[3]) for line in lines[1:]] == pytest.approx([cosine] * 2)


@pytest.mark.parametrize("name", ["sim.pq", "SIM.PQ", "sim.Parquet"])
def test_export_writes_parquet_for_pq_suffixes(model, tmp_path, name):
    pq = pytest.importorskip("pyarrow.parquet")
    assert model.export_similar_items(tmp_path / name, topn=2) == 30
    table = pq.read_table(tmp_path / name)
    assert table.column_names == ["item", "rank", "neighbor", "score"]
    assert table.num_rows == 30


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"topn": 0}, ValueError, "topn must be an int >= 1, got 0"),
        ({"topn": 2.0}, TypeError, "topn must be an int, got 2.0"),
        ({"block": 0}, ValueError, "block must be an int >= 1, got 0"),
        ({"block": None}, TypeError, "block must be an int, got None"),
    ],
)
def test_export_checks_topn_and_block(model, tmp_path, options, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        model.export_similar_items(tmp_path / "sim.csv", **options)


def test_export_with_the_smallest_topn_and_block(model, tmp_path):
    assert (
        model.export_similar_items(tmp_path / "sim.csv", topn=1, block=1, similarity="input") == 15
    )
    unit = unit_rows(model.vectors_)
    nearest = [model.items_[ranked(unit @ unit[i], exclude=[i])[0]] for i in range(15)]
    rows = [line.split(",") for line in (tmp_path / "sim.csv").read_text().splitlines()[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (item, "1", near) for item, near in zip(model.items_.tolist(), nearest, strict=True)
    ]


# --- transform, score, history weights --------------------------------------------------


def test_transform_is_the_mean_of_the_known_items_vectors(model):
    items = model.items_.tolist()
    seqs = [[items[0], items[0], items[3]], [items[5], "unknown", items[2]], [], ["unknown"]]
    expected = np.zeros((4, 6))
    expected[0] = (2 * model.vectors_[0] + model.vectors_[3]) / 3
    expected[1] = (model.vectors_[5] + model.vectors_[2]) / 2
    for given in (seqs, Sequences.from_iterable(seqs), (s for s in seqs)):
        out = model.transform(given)
        assert out.dtype == np.float32 and out.shape == (4, 6)
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


def test_fit_transform_reads_a_generator_once():
    seqs = corpus_of(10, 40, 6, seed=3)
    out = Item2Vec(**FAST).fit_transform(s for s in seqs)
    expected = Item2Vec(**FAST).fit(seqs).transform(seqs)
    np.testing.assert_array_equal(out, expected)


def _output_scores(model, history):
    """The "output" scores of a history: its mean input vector against every output vector."""
    codes = [model.vocabulary_.code(i) for i in history]
    return model.output_vectors_.astype(np.float64) @ model.vectors_[codes].mean(axis=0), codes


def test_score_counts_a_target_at_rank_ten_and_not_at_rank_eleven(model):
    for code in range(15):
        history = [model.items_[code]]
        scores, _ = _output_scores(model, history)
        order = ranked(scores, exclude=[code])
        if scores[order[9]] - scores[order[10]] > 1e-4:  # apart beyond float32 rounding
            break
    else:
        pytest.fail("no item whose 10th and 11th recommendations are well apart")
    at_10, at_11 = model.items_[order[9]], model.items_[order[10]]
    assert model.score([[*history, at_10]]) == 1.0
    assert model.score([[*history, at_11]]) == 0.0
    assert model.score([[*history, at_10], [*history, at_11], ["x"]]) == 0.5


def test_score_needs_a_sequence_of_two_items(model):
    message = "score needs at least one sequence with two or more items"
    with pytest.raises(ValueError, match=f"^{message}$"):
        model.score([[model.items_[0]], []])


def test_time_half_life_needs_histories_with_times(model):
    message = "time_half_life needs event times: pass the histories as Sequences with times"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        history_matrix(np.array([0, 1]), np.array([0, 2]), 2, time_half_life=1.0)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model.recommend_batch([model.items_[:2].tolist()], time_half_life=1.0)


def _reference_weights(history_codes, n_items, last_n=None, half_life=None):
    """Weights of one history from the documented rule (unknown items are -1)."""
    n = len(history_codes)
    weights = np.zeros(n_items)
    for p, code in enumerate(history_codes):
        if code >= 0 and (last_n is None or p >= n - last_n):
            weights[code] += 1.0 if half_life is None else 0.5 ** ((n - 1 - p) / half_life)
    return weights / weights.sum() if weights.any() else weights


@pytest.mark.parametrize(("last_n", "half_life"), [(None, None), (3, None), (None, 2.0), (3, 2.0)])
def test_history_matrix_follows_the_documented_weights(last_n, half_life):
    histories = [[-1, 2, 0, -1, 2], [], [-1, -1], [1, 1, 3], [4]]
    codes = np.array([c for h in histories for c in h], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(h) for h in histories])])
    weights = history_matrix(codes, offsets, 5, last_n=last_n, half_life=half_life)
    assert weights.shape == (5, 5) and weights.dtype == np.float32
    expected = np.array([_reference_weights(h, 5, last_n, half_life) for h in histories])
    np.testing.assert_allclose(weights.toarray(), expected, rtol=1e-6)


# --- search helpers ------------------------------------------------------------


def test_normalize_rows_scales_to_unit_length_and_keeps_zero_rows():
    from item2vec.neighbors import normalize_rows

    out = normalize_rows(np.array([[3, 4], [0, 0], [-2, 0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0], [-1, 0]], rtol=1e-7)


@pytest.mark.parametrize(
    ("queries", "k", "bias", "message"),
    [
        (np.ones((2, 3)), 0, None, "k must be in [1, 5], got 0"),
        (np.ones((2, 3)), 6, None, "k must be in [1, 5], got 6"),
        (np.ones((2, 2)), 1, None, "queries and items must be 2-D with equal widths, "
         "got (2, 2) and (5, 3)"),
        (np.ones((2, 3)), 1, np.zeros(4), "bias must have shape (5,), got (4,)"),
    ],
)  # fmt: skip
def test_top_k_refuses_what_it_cannot_search(queries, k, bias, message):
    from item2vec.neighbors import top_k

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        top_k(queries, np.ones((5, 3)), k, bias=bias)


def test_top_k_returns_every_item_at_k_equal_to_their_number():
    from item2vec.neighbors import top_k

    items = np.array([[1.0], [3.0], [2.0]])
    idx, scores = top_k(np.ones((1, 1)), items, 3)
    assert idx.tolist() == [[1, 2, 0]] and scores.tolist() == [[3.0, 2.0, 1.0]]


# --- recommend ----------------------------------------------------------------------


def test_recommend_errors_name_the_problem(model):
    with pytest.raises(TypeError, match=r"^history must be a sequence of items, got a string$"):
        model.recommend("i1")
    with pytest.raises(TypeError, match=r"^history must be a sequence of items, got a string$"):
        model.recommend(b"i1")
    for history in ([], ["unknown", "also unknown"]):
        with pytest.raises(
            KeyError, match=r'^"none of the history\'s items is in the vocabulary"$'
        ):
            model.recommend(history)
    message = r"^times must hold one number per history event \(3\), got shape \(2,\)$"
    with pytest.raises(ValueError, match=message):
        model.recommend(model.items_[:3].tolist(), times=[1.0, 2.0])


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"topn": 0}, ValueError, "topn must be an int >= 1, got 0"),
        ({"topn": 1.5}, TypeError, "topn must be an int, got 1.5"),
        ({"last_n": 0}, ValueError, "last_n must be an int >= 1, got 0"),
        ({"last_n": 2.0}, TypeError, "last_n must be an int, got 2.0"),
        ({"half_life": 0}, ValueError, "half_life must be > 0.0, got 0"),
        ({"half_life": "1"}, TypeError, "half_life must be a real number, got '1'"),
        ({"time_half_life": -1.0}, ValueError, "time_half_life must be > 0.0, got -1.0"),
        ({"popularity": float("nan")}, ValueError, "popularity must be finite, got nan"),
        ({"popularity": None}, TypeError, "popularity must be a real number, got None"),
    ],
)
def test_recommend_batch_checks_its_options(model, options, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        model.recommend_batch([[model.items_[0]]], **options)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        model.recommend([model.items_[0]], **options)


def test_filter_items_removes_the_first_item_too(model):
    history = [model.items_[4]]
    order = ranked(*_output_scores(model, history))
    first = model.items_[0]
    ids, _ = model.recommend(history, topn=14, filter_items=[first, "unknown"])
    assert ids.tolist() == [model.items_[c] for c in order if c != 0]


def test_a_baseline_recommends_only_once_fitted():
    message = "this Popularity is not fitted yet; call fit(sequences) first"
    with pytest.raises(NotFittedError, match=f"^{re.escape(message)}$"):
        Popularity().recommend(["a"])


def test_filter_items_on_a_popularity_baseline_removes_the_most_popular():
    baseline = Popularity().fit([["a", "b", "c"], ["a", "b"], ["a"]])
    ids, scores = baseline.recommend(["c"], topn=3, filter_items=["a"])
    assert ids.tolist() == ["b"] and scores.tolist() == [2.0]

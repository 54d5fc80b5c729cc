"""Each command of the command line: exact output, options reaching the model, errors, help."""

import argparse
import csv
import importlib.metadata
import inspect
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from corpus_checks import similarity_rows

from item2vec import Item2Vec, read_events
from item2vec.baselines import ItemKNN, Popularity
from item2vec.cli import main
from item2vec.evaluation import evaluate, leave_last_out

N_ITEMS = 20
N_USERS = 45
FAST = ["--vector-size", "8", "--epochs", "2", "--n-jobs", "1", "--random-state", "0"]
QUIET = ["--verbose", "0"]
# the training parameters the command line exposes, each as an option of fit and evaluate
TRAIN_OPTIONS = ["vector_size", "window", "negative", "ns_exponent", "sample", "min_count",
                 "max_vocab_size", "epochs", "alpha", "min_alpha", "session_contexts",
                 "time_decay", "time_window", "n_jobs", "random_state"]  # fmt: skip
TRAIN_FLAGS = ["sg", "cbow_mean", "shrink_windows", "shared_negatives", "use_weights"]


def _rows():
    """(user, item, time, rating) rows: 45 users plus one with a single event, shuffled.

    Times step by 1, except a gap of exactly 5 before each user's 11th event
    and a gap of 6 before the 21st; items follow a Zipf-like law.
    """
    rng = np.random.default_rng(5)
    p = 1 / np.arange(1, N_ITEMS + 1)
    rows = []
    for user in range(N_USERS):
        t = 0
        for j in range(int(rng.integers(20, 41))):
            t += {10: 5, 20: 6}.get(j, 1)
            item = int(rng.choice(N_ITEMS, p=p / p.sum()))
            rows.append((f"u{user}", f"sku{item}", t, int(rng.integers(1, 6))))
    rows.append(("solo", "sku0", 0, 5))
    return [rows[i] for i in rng.permutation(len(rows))]


ROWS = _rows()


def _counts(rows):
    counts = {}
    for _, item, _, _ in rows:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _sequences(rows, gap=None):
    """Number of sequences: one per user, split where the time gap exceeds ``gap``."""
    times = {}
    for user, _, t, _ in rows:
        times.setdefault(user, []).append(t)
    n = 0
    for ts in times.values():
        ts.sort()
        n += 1 + (0 if gap is None else sum(b - a > gap for a, b in itertools.pairwise(ts)))
    return n


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "events.csv"
    lines = ["user,item,ts,rating", *(f"{u},{i},{t},{r}" for u, i, t, r in ROWS)]
    path.write_text("\n".join(lines) + "\n")
    assert len(_counts(ROWS)) == N_ITEMS and len(ROWS) > 1000
    # the reference splits at the gap of 6 and not at the gap of 5
    long_users = sum(len([r for r in ROWS if r[0] == f"u{u}"]) > 20 for u in range(N_USERS))
    assert _sequences(ROWS, gap=5) == N_USERS + 1 + long_users
    assert _sequences(ROWS, gap=4) == _sequences(ROWS, gap=5) + N_USERS
    return path


@pytest.fixture(scope="module")
def model_path(events, tmp_path_factory):
    """A model trained through the Python API, for the query commands."""
    corpus = read_events(events, user="user", item="item", time="ts")
    model = Item2Vec(vector_size=8, epochs=2, n_jobs=1, random_state=0).fit(corpus)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    model.save(path)
    return path


def _fit(events, out, *options):
    return main(["fit", str(events), "--user", "user", "--item", "item", "--time", "ts",
                 *options, "-o", str(out)])  # fmt: skip


def _cosine_top(model, item, k, similarity=None):
    """Reference: the k items most similar to ``item``, itself left out, best first: the
    item's unit input vector against the unit input vectors ("input") or the unit input +
    output vectors ("inout") of every item, as ``similarity`` (or else the model's) says."""
    unit, rows_of = similarity_rows(model, similarity)
    row = model.items_.tolist().index(item)
    scores = rows_of @ unit[row]
    scores[row] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    items = model.items_.tolist()
    return [(items[i], float(scores[i])) for i in order]


def _parse_scored(out):
    """The lines ``id<TAB>score`` of a query command, each score with 4 decimals."""
    rows = []
    for line in out.splitlines():
        match = re.fullmatch(r"(\S+)\t(-?\d+\.\d{4})", line)
        assert match, line
        rows.append((match[1], float(match[2])))
    return rows


def _assert_scored(out, expected):
    got = _parse_scored(out)
    assert [item for item, _ in got] == [str(item) for item, _ in expected]
    for (_, printed), (_, score) in zip(got, expected, strict=True):
        assert printed == pytest.approx(score, abs=5.1e-5)


def _error(capsys):
    """The one line a failing command writes to stderr (nothing on stdout)."""
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


# fit


def test_fit_prints_its_counts_and_saves_what_the_api_trains(events, tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert _fit(events, out, *FAST, *QUIET) == 0
    # 1,2xx events: the thousands separator shows
    assert capsys.readouterr().out == (
        f"trained on {len(ROWS):,} events in {N_USERS + 1} sequences: {N_ITEMS} items; "
        f"saved {out}\n"
    )
    corpus = read_events(events, user="user", item="item", time="ts")
    expected = Item2Vec(vector_size=8, epochs=2, n_jobs=1, random_state=0).fit(corpus)
    saved = Item2Vec.load(out)
    assert saved.items_.tolist() == expected.items_.tolist()
    np.testing.assert_array_equal(saved.vectors_, expected.vectors_)


@pytest.mark.parametrize(
    ("options", "n_events", "n_sequences"),
    [
        # the single-event user is kept by default and dropped from length 2
        ([], len(ROWS), N_USERS + 1),
        (["--min-length", "2"], len(ROWS) - 1, N_USERS),
        # a gap of exactly 5 does not split, a gap of 6 does
        (["--session-gap", "5"], len(ROWS), _sequences(ROWS, gap=5)),
        (["--session-gap", "4"], len(ROWS), _sequences(ROWS, gap=4)),
        # a rating equal to the threshold is kept
        (["--weight", "rating", "--min-weight", "3"],
         sum(r >= 3 for *_, r in ROWS), _sequences([row for row in ROWS if row[3] >= 3])),
    ],
)  # fmt: skip
def test_fit_reads_the_log_as_the_event_options_say(
    events, tmp_path, capsys, options, n_events, n_sequences
):
    out = tmp_path / "m.npz"
    assert _fit(events, out, *FAST, *QUIET, *options) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"trained on {n_events:,} events in {n_sequences:,} sequences: ")


def test_fit_with_min_weight_counts_only_the_kept_events(events, tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert _fit(events, out, *FAST, *QUIET, "--weight", "rating", "--min-weight", "3") == 0
    capsys.readouterr()
    saved = Item2Vec.load(out)
    kept = _counts([row for row in ROWS if row[3] >= 3])
    assert dict(zip(saved.items_.tolist(), saved.vocabulary_.counts.tolist(), strict=True)) == kept


def test_fit_min_count_keeps_items_seen_exactly_that_often(events, tmp_path, capsys):
    counts = _counts(ROWS)
    threshold = sorted(counts.values())[3]  # the 4th rarest item sits on the boundary
    kept = {item for item, n in counts.items() if n >= threshold}
    assert 0 < len(kept) < N_ITEMS
    out = tmp_path / "m.npz"
    assert _fit(events, out, *FAST, *QUIET, "--min-count", str(threshold)) == 0
    assert f": {len(kept)} items; saved" in capsys.readouterr().out
    assert set(Item2Vec.load(out).items_.tolist()) == kept


@pytest.mark.parametrize(
    ("options", "params"),
    [
        (["--vector-size", "7"], {"vector_size": 7}),
        (["--window", "3"], {"window": 3}),
        (["--window", "session", "--session-contexts", "4"],
         {"window": "session", "session_contexts": 4}),
        (["--negative", "2", "--ns-exponent", "0.5"], {"negative": 2, "ns_exponent": 0.5}),
        (["--sample", "0"], {"sample": 0.0}),
        (["--max-vocab-size", "12"], {"max_vocab_size": 12}),
        (["--epochs", "3"], {"epochs": 3}),
        (["--alpha", "0.05", "--min-alpha", "0.001"], {"alpha": 0.05, "min_alpha": 0.001}),
        (["--time-decay", "4.5", "--time-window", "30"], {"time_decay": 4.5, "time_window": 30.0}),
        (["--n-jobs", "2", "--random-state", "11"], {"n_jobs": 2, "random_state": 11}),
        (["--no-sg", "--no-cbow-mean"], {"sg": False, "cbow_mean": False}),
        (["--no-shrink-windows", "--shared-negatives"],
         {"shrink_windows": False, "shared_negatives": True}),
        (["--weight", "rating", "--use-weights"], {"use_weights": True}),
        (["--verbose", "2"], {"verbose": 2}),
    ],
)  # fmt: skip
def test_training_options_reach_the_saved_model(events, tmp_path, capsys, options, params):
    base = {"vector_size": 8, "epochs": 2, "n_jobs": 1, "random_state": 0, "verbose": 0}
    out = tmp_path / "m.npz"
    assert _fit(events, out, *FAST, *QUIET, *options) == 0
    capsys.readouterr()
    saved = Item2Vec.load(out)
    expected = {**Item2Vec().get_params(), **base, **params}
    got = saved.get_params()
    for name, value in expected.items():
        if name != "callbacks":
            assert got[name] == value and type(got[name]) is type(value), name
    assert saved.vectors_.shape[1] == expected["vector_size"]


def test_fit_defaults_are_the_models_and_show_progress(events, tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert _fit(events, out) == 0
    captured = capsys.readouterr()
    # --verbose defaults to 1: a progress bar on stderr
    assert "item2vec" in captured.err
    got = Item2Vec.load(out).get_params()
    for name, value in Item2Vec().get_params().items():
        if name not in ("callbacks", "verbose"):
            assert got[name] == value, name
    assert got["verbose"] == 1


def test_fit_with_verbose_0_writes_nothing_to_stderr(events, tmp_path, capsys):
    assert _fit(events, tmp_path / "m.npz", *FAST, *QUIET) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--min-length", "0"], "min_length must be an int >= 1, got 0"),
        (["--session-gap", "-1"], "session_gap must be >= 0, got -1.0"),
        (["--min-weight", "3"], "min_weight needs a weight column"),
        (["--vector-size", "0"], "vector_size"),
    ],
)
def test_fit_rejects_bad_values_in_one_line(events, tmp_path, capsys, options, message):
    assert _fit(events, tmp_path / "m.npz", *QUIET, *options) == 2
    line = _error(capsys)
    assert line.startswith("item2vec fit: error: ") and message in line
    assert not (tmp_path / "m.npz").exists()


def test_a_missing_column_is_named_without_quotes_around_the_message(events, tmp_path, capsys):
    argv = ["fit", str(events), "--user", "nope", "--item", "item", "-o", str(tmp_path / "m")]
    assert main(argv) == 2
    # a KeyError's text, not its repr
    assert _error(capsys).startswith("item2vec fit: error: column 'nope' not found")


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["fit", "{events}", "--user", "user", "--item", "item"], "-o/--output"),
        (["corpus", "--user", "user", "--item", "item", "-o", "c"], "events"),
        (["corpus", "{events}", "--user", "user", "--item", "item"], "-o/--output"),
        (["export", "{model}", "-o", "v.txt"], "--format"),
        (["export", "{model}", "--format", "word2vec-text"], "-o/--output"),
        (["plot", "{model}"], "-o/--output"),
        ([], "COMMAND"),
    ],
)
def test_required_arguments_are_enforced(events, model_path, capsys, argv, missing):
    argv = [a.format(events=events, model=model_path) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "the following arguments are required: " + missing in capsys.readouterr().err


def test_recommend_needs_a_history_or_an_event_file_not_both(model_path, events, capsys):
    for argv in (
        ["recommend", str(model_path)],
        ["recommend", str(model_path), "--history", "a", "--events", str(events)],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "--history" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "{events}", "--item", "item", "-o", "m.npz"],
        ["fit", "{events}", "--user", "user", "-o", "m.npz"],
        ["evaluate", "{events}", "--item", "item"],
        ["corpus", "{events}", "--user", "user", "-o", "c"],
    ],
)
def test_an_event_file_needs_both_id_columns(events, capsys, argv):
    # not required by the parser: a corpus directory in place of the file needs neither
    assert main([a.format(events=events) for a in argv]) == 2
    assert _error(capsys) == (
        f"item2vec {argv[0]}: error: --user and --item are required with an event file"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["similar", "{model}", "sku1", "-k", "two"], "-k/--topn: invalid int value: 'two'"),
        (["recommend", "{model}", "--history", "sku1", "--half-life", "x"],
         "--half-life: invalid float value: 'x'"),
        (["recommend", "{model}", "--history", "sku1", "--popularity", "x"],
         "--popularity: invalid float value: 'x'"),
        (["evaluate", "{events}", "--user", "user", "--item", "item", "-k", "2.5"],
         "-k: invalid int value: '2.5'"),
        (["evaluate", "{events}", "--user", "user", "--item", "item", "--half-life", "x"],
         "--half-life: invalid float value: 'x'"),
        (["fit", "{events}", "--user", "user", "--item", "item", "--min-length", "1.5"],
         "--min-length: invalid int value: '1.5'"),
        (["fit", "{events}", "--user", "user", "--item", "item", "--session-gap", "x"],
         "--session-gap: invalid float value: 'x'"),
        (["export", "{model}", "--format", "csv", "-o", "x"], "--format: invalid choice: 'csv'"),
        (["export", "{model}", "--format", "similar-csv", "-o", "x", "-k", "2.5"],
         "-k/--topn: invalid int value: '2.5'"),
        (["plot", "{model}", "-o", "x.png", "--annotate", "many"],
         "--annotate: invalid int value: 'many'"),
    ],
)  # fmt: skip
def test_option_values_of_the_wrong_type_are_usage_errors(
    events, model_path, capsys, argv, message
):
    with pytest.raises(SystemExit) as exit_info:
        main([a.format(events=events, model=model_path) for a in argv])
    assert exit_info.value.code == 2
    # the option and the type it wants are named (a value that may also be "none" too)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"item2vec {argv[0]}: error: argument {message}")


# similar


@pytest.mark.parametrize(("options", "k"), [([], 10), (["-k", "3"], 3), (["--topn", "19"], 19)])
def test_similar_prints_cosine_neighbours_best_first(model_path, capsys, options, k):
    assert main(["similar", str(model_path), "sku2", *options]) == 0
    model = Item2Vec.load(model_path)
    _assert_scored(capsys.readouterr().out, _cosine_top(model, "sku2", k))


@pytest.mark.parametrize("similarity", ["input", "inout"])
def test_similar_and_export_take_the_similarity(model_path, tmp_path, capsys, similarity):
    model = Item2Vec.load(model_path)
    assert model.similarity == "inout"
    want = _cosine_top(model, "sku2", 5, similarity)
    # the two similarities rank differently on this model, so the option is seen
    assert [i for i, _ in want] != [
        i for i, _ in _cosine_top(model, "sku2", 5, "input" if similarity == "inout" else "inout")
    ]
    assert main(["similar", str(model_path), "sku2", "-k", "5", "--similarity", similarity]) == 0
    _assert_scored(capsys.readouterr().out, want)
    out = tmp_path / "s.csv"
    argv = ["export", str(model_path), "--format", "similar-csv", "-o", str(out), "-k", "3"]
    assert main([*argv, "--similarity", similarity]) == 0
    with out.open(newline="") as handle:
        rows = [(i, int(r), n, float(s)) for i, r, n, s in list(csv.reader(handle))[1:]]
    expected = [
        (item, rank, neighbor, score)
        for item in model.items_.tolist()
        for rank, (neighbor, score) in enumerate(_cosine_top(model, item, 3, similarity), 1)
    ]
    _assert_similar_table(rows, expected)


@pytest.fixture(scope="module")
def int_model_path(tmp_path_factory):
    """A model whose ids are ints, as a Parquet log or the Python API gives them."""
    rng = np.random.default_rng(1)
    sequences = [rng.integers(0, 12, size=15).tolist() for _ in range(30)]
    model = Item2Vec(vector_size=6, epochs=1, n_jobs=1, random_state=0).fit(sequences)
    path = tmp_path_factory.mktemp("ints") / "ints.npz"
    model.save(path)
    return path


def test_similar_finds_int_ids_from_their_text(int_model_path, capsys):
    assert main(["similar", str(int_model_path), "7", "-k", "4"]) == 0
    _assert_scored(capsys.readouterr().out, _cosine_top(Item2Vec.load(int_model_path), 7, 4))


@pytest.mark.parametrize("text", ["12", "-1", "seven", "7.0"])
def test_similar_reports_an_id_missing_from_an_int_model(int_model_path, capsys, text):
    assert main(["similar", str(int_model_path), text]) == 2
    assert _error(capsys) == f"item2vec similar: error: item {text!r} is not in the model"


def test_an_unknown_id_never_falls_back_to_the_empty_id(tmp_path, capsys):
    model = Item2Vec(vector_size=4, epochs=1, n_jobs=1, random_state=0, sample=0)
    path = tmp_path / "m.npz"
    model.fit([["", "a", "b"], ["a", "b", "c"]]).save(path)
    assert main(["similar", str(path), "x"]) == 2
    assert _error(capsys) == "item2vec similar: error: item 'x' is not in the model"


def test_similar_on_a_missing_model_file(tmp_path, capsys):
    missing = tmp_path / "none.npz"
    assert main(["similar", str(missing), "sku1"]) == 2
    assert _error(capsys) == f"item2vec similar: error: no such file: {missing}"


# recommend


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ([], {}),
        (["-k", "4"], {"topn": 4}),
        (["--topn", "17"], {"topn": 17}),
        (["--half-life", "2"], {"half_life": 2.0}),
        (["--popularity", "0.5"], {"popularity": 0.5}),
        (["--keep-seen", "-k", "20"], {"exclude_seen": False, "topn": 20}),
        (["--keep-seen", "--half-life", "0.5", "--popularity", "1", "-k", "6"],
         {"exclude_seen": False, "half_life": 0.5, "popularity": 1.0, "topn": 6}),
    ],
)  # fmt: skip
def test_recommend_prints_what_the_model_recommends(model_path, capsys, options, kwargs):
    history = ["sku3", "sku0", "sku7", "sku1"]
    argv = ["recommend", str(model_path), "--history", ",".join(history), *options]
    assert main(argv) == 0
    model = Item2Vec.load(model_path)
    ids, scores = model.recommend(history, **kwargs)
    expected = list(zip(ids.tolist(), scores.tolist(), strict=True))
    _assert_scored(capsys.readouterr().out, expected)
    # the options change the answer, so the comparison above is not vacuous
    if kwargs:
        assert expected != list(zip(*(a.tolist() for a in model.recommend(history)), strict=True))
    else:
        assert len(expected) == 10 and not set(history) & set(ids.tolist())


def test_recommend_keep_seen_can_return_the_history(model_path, capsys):
    history = ["sku3", "sku0", "sku7", "sku1"]
    argv = ["recommend", str(model_path), "--history", ",".join(history), "--keep-seen"]
    assert main([*argv, "-k", "20"]) == 0
    printed = [item for item, _ in _parse_scored(capsys.readouterr().out)]
    assert sorted(printed) == sorted(f"sku{i}" for i in range(N_ITEMS))


def test_recommend_history_ignores_blanks_around_commas(model_path, capsys):
    assert main(["recommend", str(model_path), "--history", " sku3 ,, sku0,", "-k", "5"]) == 0
    ids, scores = Item2Vec.load(model_path).recommend(["sku3", "sku0"], topn=5)
    _assert_scored(capsys.readouterr().out, list(zip(ids.tolist(), scores.tolist(), strict=True)))


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (" , ,", "--history needs at least one item id"),
        ("", "--history needs at least one item id"),
        ("nope", "no item of --history is in the model: 'nope'"),
        ("nope, sku99,x", "no item of --history is in the model: 'nope', 'sku99', 'x'"),
    ],
)
def test_recommend_rejects_a_bad_history(model_path, capsys, history, message):
    assert main(["recommend", str(model_path), "--history", history]) == 2
    assert _error(capsys) == f"item2vec recommend: error: {message}"


@pytest.mark.parametrize(
    ("options", "message"),
    [(["-k", "0"], "topn"), (["--half-life", "0"], "half_life")],
)
def test_recommend_rejects_bad_option_values(model_path, capsys, options, message):
    assert main(["recommend", str(model_path), "--history", "sku1", *options]) == 2
    line = _error(capsys)
    assert line.startswith("item2vec recommend: error: ") and message in line


# evaluate


def _api_table(events, k=10, query=None, read=None):
    """What evaluate should report, from the Python API on the same file."""
    split = leave_last_out(read_events(events, user="user", item="item", **(read or {})))
    query = query or {}
    # Item2Vec remembers its query options; ItemKNN ranks with the same history
    # weighting (the defaults' half_life=1 unless given), Popularity with none
    weighting = {"last_n": None, "half_life": 1.0, "time_half_life": None}
    weighting.update({k: v for k, v in query.items() if k in weighting})
    model = Item2Vec(vector_size=8, epochs=2, n_jobs=1, random_state=0, **query)
    return {
        "Popularity": evaluate(Popularity().fit(split.train), split, k=k),
        "ItemKNN": evaluate(ItemKNN().fit(split.train), split, k=k, **weighting),
        "Item2Vec": evaluate(model.fit(split.train), split, k=k),
    }


def _evaluate(events, *options):
    return main(["evaluate", str(events), "--user", "user", "--item", "item", "--time", "ts",
                 *FAST, *QUIET, *options])  # fmt: skip


def test_evaluate_prints_a_table_of_the_three_models(events, capsys):
    assert _evaluate(events) == 0
    rows = _api_table(events, read={"time": "ts"})
    expected = [f"{'model':12s} {'HR':>8s} {'NDCG':>8s} {'MRR':>8s} {'coverage':>9s}  (k=10)"]
    for name, m in rows.items():
        expected.append(
            f"{name:<12} {m['hr']:8.4f} {m['ndcg']:8.4f} {m['mrr']:8.4f} {m['coverage']:9.3f}"
        )
    # every user with two or more events holds out its last one
    expected.append(f"{N_USERS} held-out events")
    # the settings used: those given, the epochs "auto" would choose, the query options
    expected.append(
        "Item2Vec settings: epochs=2, vector_size=8; queries last_n=None, half_life=1.0, "
        "time_half_life=None, popularity=0.2"
    )
    assert capsys.readouterr().out.splitlines() == expected


@pytest.mark.parametrize(
    ("options", "k", "query"),
    [
        ([], 10, {}),
        (["-k", "3"], 3, {}),
        (["--half-life", "2"], 10, {"half_life": 2.0}),
        (
            ["--half-life", "none", "--time-half-life", "4"],
            10,
            {"half_life": None, "time_half_life": 4.0},
        ),
        (["--popularity", "0.7", "-k", "5"], 5, {"popularity": 0.7}),
    ],
)
def test_evaluate_json_matches_the_api(events, capsys, options, k, query):
    assert _evaluate(events, "--json", *options) == 0
    text = capsys.readouterr().out
    table = json.loads(text)
    settings = table["Item2Vec"].pop("settings")
    assert settings["vector_size"] == 8 and settings["epochs"] == settings["epochs_trained"] == 2
    assert {name: settings[name] for name in query} == query
    expected = _api_table(events, k=k, query=query, read={"time": "ts"})
    assert list(table) == ["Popularity", "ItemKNN", "Item2Vec"]
    for name, row in expected.items():
        assert set(table[name]) == set(row) >= {"hr", "ndcg", "mrr", "coverage", "n_users"}
        assert table[name] == pytest.approx(row, rel=1e-12), name
    assert table["Item2Vec"]["n_users"] == N_USERS
    # indented: one metric per line, readable in a terminal
    # (plus the settings: a key line, one line per setting and a closing brace)
    lines = 3 * (len(expected["Item2Vec"]) + 2) + 2 + len(settings) + 2
    assert len(text.splitlines()) == lines
    if query:  # the query options change the metrics of the models they apply to
        plain = _api_table(events, k=k, read={"time": "ts"})
        changed = "Item2Vec" if "popularity" in query else "ItemKNN"  # no prior for ItemKNN
        assert table[changed] != pytest.approx(plain[changed], rel=1e-12)


def test_evaluate_keeps_the_popularity_baseline_free_of_query_options(events, capsys):
    assert _evaluate(events, "--json", "--popularity", "-20", "--half-life", "1") == 0
    row = json.loads(capsys.readouterr().out)["Popularity"]
    split = leave_last_out(read_events(events, user="user", item="item", time="ts"))
    model = Popularity().fit(split.train)
    assert row == pytest.approx(evaluate(model, split, k=10), rel=1e-12)
    # a negative prior would reorder the counts, so the baseline really ignores it
    assert row != pytest.approx(evaluate(model, split, k=10, popularity=-20.0), rel=1e-12)


def test_evaluate_needs_a_sequence_of_two_events(tmp_path, capsys):
    path = tmp_path / "singles.csv"
    path.write_text("user,item\n" + "".join(f"u{i},i{i}\n" for i in range(5)))
    assert main(["evaluate", str(path), "--user", "user", "--item", "item", *QUIET]) == 2
    assert _error(capsys) == (
        "item2vec evaluate: error: no sequence has two or more events to hold one out"
    )


def test_evaluate_holds_out_a_single_event(tmp_path, capsys):
    # exactly one sequence is long enough: one held-out event is enough to evaluate
    path = tmp_path / "one.csv"
    path.write_text("user,item\nu0,a\nu0,b\nu0,c\nu0,a\nu0,b\nu0,d\nu1,c\nu2,d\n")
    argv = ["evaluate", str(path), "--user", "user", "--item", "item", "--sample", "0"]
    assert main([*argv, *FAST, *QUIET]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == "1 held-out events"


# export


def test_export_word2vec_text_writes_every_vector(model_path, tmp_path, capsys):
    out = tmp_path / "v.txt"
    assert main(["export", str(model_path), "--format", "word2vec-text", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    model = Item2Vec.load(model_path)
    lines = out.read_text().splitlines()
    assert lines[0] == f"{N_ITEMS} 8"
    assert [line.split(" ")[0] for line in lines[1:]] == model.items_.tolist()
    values = np.array([[float(x) for x in line.split(" ")[1:]] for line in lines[1:]])
    np.testing.assert_array_equal(values.astype(np.float32), model.vectors_)


def test_export_word2vec_binary_writes_little_endian_float32(model_path, tmp_path, capsys):
    out = tmp_path / "v.bin"
    assert main(["export", str(model_path), "--format", "word2vec-binary", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    model = Item2Vec.load(model_path)
    expected = f"{N_ITEMS} 8\n".encode()
    for item, row in zip(model.items_.tolist(), model.vectors_, strict=True):
        expected += item.encode() + b" " + np.asarray(row, dtype="<f4").tobytes() + b"\n"
    assert out.read_bytes() == expected


def _similar_rows(model, k):
    return [
        (item, rank, neighbor, score)
        for item in model.items_.tolist()
        for rank, (neighbor, score) in enumerate(_cosine_top(model, item, k), start=1)
    ]


def _assert_similar_table(rows, expected):
    assert [tuple(r[:3]) for r in rows] == [tuple(r[:3]) for r in expected]
    got = np.array([r[3] for r in rows], dtype=np.float64)
    np.testing.assert_allclose(got, [r[3] for r in expected], atol=1e-5)


@pytest.mark.parametrize(("options", "k"), [([], 10), (["-k", "3"], 3), (["--topn", "2"], 2)])
def test_export_similar_csv_lists_each_items_neighbours(model_path, tmp_path, capsys, options, k):
    out = tmp_path / "s.csv"
    argv = ["export", str(model_path), "--format", "similar-csv", "-o", str(out), *options]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["item", "rank", "neighbor", "score"]
    rows = [(i, int(r), n, float(s)) for i, r, n, s in rows[1:]]
    _assert_similar_table(rows, _similar_rows(Item2Vec.load(model_path), k))


def test_export_similar_parquet_lists_each_items_neighbours(model_path, tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "s.parquet"
    argv = ["export", str(model_path), "--format", "similar-parquet", "-o", str(out), "-k", "4"]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    table = pq.read_table(out)
    assert table.column_names == ["item", "rank", "neighbor", "score"]
    rows = list(zip(*(table[c].to_pylist() for c in table.column_names), strict=True))
    _assert_similar_table(rows, _similar_rows(Item2Vec.load(model_path), 4))


@pytest.mark.parametrize("fmt", ["word2vec-text", "similar-csv"])
def test_export_into_a_missing_folder_is_refused_before_any_work(model_path, tmp_path, capsys, fmt):
    out = tmp_path / "no" / "such" / "v.txt"
    assert main(["export", str(model_path), "--format", fmt, "-o", str(out)]) == 2
    assert _error(capsys) == (
        f"item2vec export: error: cannot write --output {out}: no such folder {out.parent}"
    )


def test_export_rejects_k_below_1(model_path, tmp_path, capsys):
    argv = ["export", str(model_path), "--format", "similar-csv", "-o", str(tmp_path / "s.csv")]
    assert main([*argv, "-k", "0"]) == 2
    assert "topn" in _error(capsys)


# plot


@pytest.fixture
def figures():
    """The matplotlib figures opened since the test began."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield lambda: [plt.figure(n) for n in sorted(set(plt.get_fignums()) - before)]
    for n in set(plt.get_fignums()) - before:
        plt.close(n)


def test_plot_writes_a_png_and_names_15_items_by_default(model_path, tmp_path, capsys, figures):
    out = tmp_path / "map.png"
    assert main(["plot", str(model_path), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = figures()
    model = Item2Vec.load(model_path)
    frequent = model.items_[np.argsort(-model.vocabulary_.counts, kind="stable")][:15]
    assert [t.get_text() for t in fig.axes[0].texts] == frequent.tolist()
    assert fig.axes[0].get_legend() is None


def test_plot_colours_by_labels_and_annotates_n_items(model_path, tmp_path, capsys, figures):
    labels = tmp_path / "labels.csv"
    labels.write_text("item,label\n" + "".join(f"sku{i},g{i % 3}\n" for i in range(N_ITEMS)))
    out = tmp_path / "map.png"
    argv = ["plot", str(model_path), "-o", str(out), "--labels", str(labels), "--annotate", "4"]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    (fig,) = figures()
    axes = fig.axes[0]
    assert len(axes.texts) == 4
    assert sorted(t.get_text() for t in axes.get_legend().get_texts()) == ["g0", "g1", "g2"]


@pytest.mark.parametrize("ids", ["str", "int"])
def test_plot_labels_match_the_models_ids_row_by_row(tmp_path, capsys, figures, ids):
    # a labels CSV of digits, whatever type its reader gives them, labels a model whose
    # ids are the same digits as text or as ints; rows of unknown items are counted
    items = [1, 2, 3, 4, 5, 6]
    items = [str(i) for i in items] if ids == "str" else items
    model = Item2Vec(vector_size=4, epochs=1, n_jobs=1, random_state=0)
    path = tmp_path / "m.npz"
    model.fit([items, items[::-1]] * 5).save(path)
    labels = tmp_path / "labels.csv"
    labels.write_text("item,label\n1,a\n2,b\n3,a\n99,z\n007,z\n")
    assert main(["plot", str(path), "-o", str(tmp_path / "map.png"), "--labels", str(labels)]) == 0
    assert capsys.readouterr().err == (
        "item2vec plot: skipped 2 --labels rows whose item is not in the model\n"
    )
    (fig,) = figures()
    legend = sorted(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "a" in legend and "b" in legend and "z" not in legend


@pytest.mark.parametrize("header", ["item,colour", "sku,label", "sku,colour"])
def test_plot_labels_need_item_and_label_columns(model_path, tmp_path, capsys, header):
    labels = tmp_path / "labels.csv"
    labels.write_text(f"{header}\nsku1,a\n")
    out = tmp_path / "map.png"
    assert main(["plot", str(model_path), "-o", str(out), "--labels", str(labels)]) == 2
    assert _error(capsys) == f"item2vec plot: error: {labels} needs columns 'item' and 'label'"
    assert not out.exists()


def test_plot_without_matplotlib_says_what_to_install(model_path, tmp_path, capsys, without_module):
    without_module("matplotlib")
    assert main(["plot", str(model_path), "-o", str(tmp_path / "map.png")]) == 2
    assert _error(capsys) == (
        "item2vec plot: error: plotting needs matplotlib: pip install 'item2vec[plot]'"
    )


# exit statuses


def test_an_interrupted_command_exits_130(model_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Item2Vec, "load", interrupted)
    assert main(["similar", str(model_path), "sku1"]) == 130
    assert _error(capsys) == "item2vec similar: interrupted"


# one valid command line per command (the files need not exist: the commands never run)
EVERY_COMMAND = {
    "fit": ["fit", "e.csv", "--user", "u", "--item", "i", "-o", "m.npz"],
    "corpus": ["corpus", "e.csv", "--user", "u", "--item", "i", "-o", "corpus"],
    "similar": ["similar", "m.npz", "a"],
    "recommend": ["recommend", "m.npz", "--history", "a,b"],
    "evaluate": ["evaluate", "e.csv", "--user", "u", "--item", "i"],
    "tune": ["tune", "e.csv", "--user", "u", "--item", "i", "-o", "m.npz"],
    "export": ["export", "m.npz", "--format", "similar-csv", "-o", "s.csv"],
    "plot": ["plot", "m.npz", "-o", "map.png"],
    "serve": ["serve", "m.npz"],
}


@pytest.mark.parametrize("command", list(EVERY_COMMAND))
def test_every_command_exits_130_on_an_interrupt(capsys, monkeypatch, command):
    from item2vec import cli

    def interrupted(args):
        assert args.command == command
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run", interrupted)
    assert main(EVERY_COMMAND[command]) == 130
    assert _error(capsys) == f"item2vec {command}: interrupted"


def _interrupted_inside_a_library(args):
    """What DuckDB does with Ctrl-C: it catches the KeyboardInterrupt and raises its own error."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the signal's handler runs between these bytecodes
            time.sleep(0.01)
    except KeyboardInterrupt:
        raise RuntimeError("Query interrupted") from None
    raise AssertionError("SIGINT never arrived")


def test_an_interrupt_a_library_turned_into_its_own_error_exits_130(capsys, monkeypatch):
    from item2vec import cli

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(cli, "_run", _interrupted_inside_a_library)
    assert main(EVERY_COMMAND["corpus"]) == 130
    assert _error(capsys) == "item2vec corpus: interrupted"
    assert signal.getsignal(signal.SIGINT) is before
    # the same error without a Ctrl-C is no interrupt: it is not hidden either

    def failing(args):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(cli, "_run", failing)
    with pytest.raises(RuntimeError, match="Query interrupted"):
        main(EVERY_COMMAND["corpus"])


def test_ctrl_c_in_a_subprocess_exits_130_without_a_traceback(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(
        "import sys, time\n"
        "from item2vec import cli\n"
        "def slow(args):\n"
        "    print('ready', flush=True)\n"
        "    try:\n"
        "        while True:\n"
        "            time.sleep(0.01)\n"
        "    except KeyboardInterrupt:\n"
        "        raise RuntimeError('Query interrupted') from None\n"
        "cli._build_corpus = slow\n"
        f"sys.exit(cli.main({EVERY_COMMAND['corpus']!r}))\n"
    )
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert (process.returncode, out, err) == (130, "", "item2vec corpus: interrupted\n")


# files: the output's folder is checked first; a model file is not an event file


@pytest.mark.parametrize("command", ["fit", "corpus", "tune", "export", "plot"])
def test_an_output_in_a_missing_folder_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch, command
):
    from item2vec import cli

    def work(*args, **kwargs):
        raise AssertionError("the command started its work")

    for name in ("_read_corpus", "_build_corpus"):
        monkeypatch.setattr(cli, name, work)
    monkeypatch.setattr(Item2Vec, "load", work)
    argv = list(EVERY_COMMAND[command])
    out = tmp_path / "missing" / "dir" / argv[argv.index("-o") + 1]
    argv[argv.index("-o") + 1] = str(out)
    assert main(argv) == 2
    assert _error(capsys) == (
        f"item2vec {command}: error: cannot write --output {out}: no such folder {out.parent}"
    )


@pytest.mark.parametrize("command", ["fit", "evaluate", "tune", "corpus"])
def test_a_model_file_given_as_events_is_named_as_a_model(model_path, tmp_path, capsys, command):
    argv = [str(model_path) if a == "e.csv" else a for a in EVERY_COMMAND[command]]
    out = argv.index("-o") + 1 if "-o" in argv else None
    if out is not None:
        argv[out] = str(tmp_path / argv[out])
    assert main(argv) == 2
    expects = (
        "CSV/TSV (.csv.gz too) or Parquet file of events (or a corpus directory from "
        "'item2vec corpus')"
    )
    assert _error(capsys) == (
        f"item2vec {command}: error: {model_path} is a model file (.npz), not events: "
        f"'{command}' expects a {expects}"
    )


def test_a_zip_magic_is_the_model_files_own(model_path):
    # the check looks at what an .npz really starts with: a zip archive's local file header
    assert model_path.read_bytes()[:4] == b"PK\x03\x04"


# version, help, suggestions


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"item2vec {importlib.metadata.version('item2vec')}\n"


def _every_parser():
    """The top-level parser and each command's, by name."""
    from item2vec.cli import _build_parser

    top = _build_parser()
    (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return {"item2vec": top, **commands.choices}, commands


def test_every_option_of_every_command_has_a_help_text():
    parsers, commands = _every_parser()
    assert set(parsers) == {"item2vec", *EVERY_COMMAND}
    for name, parser in parsers.items():
        for action in parser._actions:
            if action is commands:
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and len(action.help.strip()) > 5, label
    for choice in commands._choices_actions:
        assert choice.help and len(choice.help) > 10, choice.dest


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["fit", "e.csv", "--user", "u", "--item", "i", "--windw", "3", "-o", "m.npz"],
         "fit: error: unrecognized arguments: --windw 3 (did you mean --window?)"),
        (["recommend", "m.npz", "--history", "a", "--half-lfie=2"],
         "recommend: error: unrecognized arguments: --half-lfie=2 (did you mean --half-life?)"),
        (["fitt", "e.csv"], "error: argument COMMAND: invalid choice: 'fitt'"),
        (["recomend", "m.npz"], "did you mean 'recommend'?"),
        (["export", "m.npz", "--format", "word2vec-txt", "-o", "v"],
         "did you mean 'word2vec-text'?"),
        (["fit", "e.csv", "--user", "u", "--item", "i", "--context", "pats", "-o", "m.npz"],
         "did you mean 'past'?"),
    ],
)  # fmt: skip
def test_a_mistyped_option_command_or_choice_gets_a_suggestion(capsys, argv, suggestion):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("item2vec") and suggestion in last
    if argv[0] == "fitt":
        assert last.endswith("; did you mean 'fit'?")


@pytest.mark.parametrize(
    "argv",
    [["fit", "e.csv", "--user", "u", "--item", "i", "--zzzzzz", "-o", "m.npz"], ["qqqq"]],
)
def test_nothing_is_suggested_when_nothing_is_close(capsys, argv):
    with pytest.raises(SystemExit):
        main(argv)
    err = capsys.readouterr().err
    assert "error: " in err and "did you mean" not in err


# help


def _help(capsys, monkeypatch, *argv):
    monkeypatch.setenv("COLUMNS", "200")  # no wrapping inside descriptions
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _descriptions(text):
    """Each option string or positional of a --help text mapped to its description."""
    described = {}
    names = []
    for line in text.splitlines():
        if re.match(r"  \S", line):
            invocation, *description = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            # option strings and positionals, not metavars such as TOPN or {a,b}
            names = [p.strip(",") for p in invocation.split() if not p.isupper()]
            names = [n for n in names if not n.startswith("{")]
            for name in names:
                described[name] = description[0] if description else ""
        elif line.startswith("   ") and names:
            for name in names:
                described[name] = (described[name] + " " + line.strip()).strip()
        else:
            names = []
    return described


def test_the_top_level_help_lists_every_command(capsys, monkeypatch):
    text = _help(capsys, monkeypatch)
    assert text.splitlines()[0] == "usage: item2vec [-h] [--version] COMMAND ..."
    # a summary may start on the next line when the name is long ('recommend')
    summaries = dict(re.findall(r"^    (\w+)\s+(\S.*)$", text, flags=re.M))
    assert set(summaries) == {
        "fit", "corpus", "similar", "recommend", "evaluate", "tune", "export", "plot", "serve",
    }  # fmt: skip
    assert all(len(s) > 10 for s in summaries.values())
    description = text.split("\n\n")[1]
    assert description.strip() and not description.startswith(("positional", "options"))


@pytest.mark.parametrize("command", ["fit", "evaluate"])
def test_help_documents_each_training_default(capsys, monkeypatch, command):
    described = _descriptions(_help(capsys, monkeypatch, command))
    defaults = inspect.signature(Item2Vec).parameters
    for name in TRAIN_OPTIONS + TRAIN_FLAGS:
        option = "--" + name.replace("_", "-")
        # "default: X" ends the description, after any explanation, maybe in brackets
        documented = re.search(r"default: ([^()]*)\)?$", described[option])
        assert documented and documented[1] == str(defaults[name].default), option
    for name in TRAIN_FLAGS:
        option = name.replace("_", "-")
        assert described[f"--no-{option}"] == described[f"--{option}"]
    assert "progress" in described["--verbose"]


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("fit", ["events", "--user", "--item", "--time", "--weight", "--min-weight",
                 "--session-gap", "--min-length", "-o"]),
        ("evaluate", ["events", "--user", "--item", "-k", "--half-life", "--time-half-life",
                      "--popularity", "--json"]),
        ("similar", ["model", "item"]),
        ("recommend", ["model", "--history", "--half-life", "--popularity", "--keep-seen"]),
        ("export", ["model", "-k"]),
        ("plot", ["model", "-o", "--labels", "--annotate"]),
    ],
)  # fmt: skip
def test_help_describes_the_options(capsys, monkeypatch, command, options):
    described = _descriptions(_help(capsys, monkeypatch, command))
    for option in options:
        assert len(described.get(option, "")) > 5, option


# tune


def _tune(events, out, *options):
    return main(["tune", str(events), "--user", "user", "--item", "item", "--time", "ts",
                 "--max-trials", "2", "--budget", "600", "--n-jobs", "1", *options,
                 "-o", str(out)])  # fmt: skip


def test_tune_saves_its_best_model_and_follows_its_random_state(events, tmp_path, capsys):
    pytest.importorskip("optuna", reason="tune needs Optuna (pip install 'item2vec[tune]')")
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert _tune(events, tmp_path / f"{name}.npz", "--random-state", seed) in (0, None)
        assert re.search(
            r"chosen ndcg@10 \d\.\d{4} ± \d\.\d{4} on the validation events of [\d,]+ users "
            r"\(defaults \d\.\d{4}\)",
            capsys.readouterr().out,
        )
    a, b, c = (Item2Vec.load(tmp_path / f"{name}.npz") for name in "abc")
    # one seed, one search: the same model; another seed searches (and trains) otherwise
    assert a.get_params() == b.get_params()
    np.testing.assert_array_equal(a.vectors_, b.vectors_)
    assert a.get_params() != c.get_params() or not np.array_equal(a.vectors_, c.vectors_)


# query options: left out (the model's), "none" (off) or a value


REMEMBERED = {"last_n": 3, "half_life": 2.0, "time_half_life": 5.0, "popularity": 0.3}
GIVEN = {"last_n": 2, "half_life": 0.5, "time_half_life": 1.5, "popularity": 1.0}
OFF = {"last_n": None, "half_life": None, "time_half_life": None, "popularity": 0.0}
HISTORY = ["q3", "q0", "q7", "q1", "q9"]
TIMES = [0.0, 4.0, 5.0, 9.0, 10.0]


@pytest.fixture(scope="module")
def remembering_model_path(tmp_path_factory):
    """A model that remembers a value for each of the four query options."""
    rng = np.random.default_rng(8)
    sequences = [[f"q{x}" for x in rng.integers(0, 15, size=12)] for _ in range(40)]
    model = Item2Vec(vector_size=6, epochs=2, n_jobs=1, random_state=0, **REMEMBERED)
    path = tmp_path_factory.mktemp("remembering") / "m.npz"
    model.fit(sequences).save(path)
    return path


def _reference_recommend(model, history, times, k, last_n, half_life, time_half_life, popularity):
    """Plain Python: the weights of the README's formulas over the kept events, their
    normalised sum of input vectors against every output vector, plus popularity * log(count);
    items of the history left out; best first."""
    items = model.items_.tolist()
    n = len(history)
    kept = [j for j in range(n) if last_n is None or n - 1 - j < last_n]
    latest = max(times[j] for j in kept)
    weights = {}
    for j in kept:
        weight = 1.0
        if half_life is not None:
            weight *= 0.5 ** ((n - 1 - j) / half_life)
        if time_half_life is not None:
            weight *= 0.5 ** ((latest - times[j]) / time_half_life)
        weights[j] = weight
    total = sum(weights.values())
    size = model.vectors_.shape[1]
    query = [0.0] * size
    for j, weight in weights.items():
        row = model.vectors_[items.index(history[j])].tolist()
        for d in range(size):
            query[d] += weight / total * row[d]
    counts = model.vocabulary_.counts.tolist()
    scored = []
    for i, item in enumerate(items):
        if item in history:
            continue
        out = model.output_vectors_[i].tolist()
        score = sum(query[d] * out[d] for d in range(size))
        score += popularity * math.log(max(counts[i], 1))
        scored.append((item, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:k]


@pytest.mark.parametrize("name", list(REMEMBERED))
@pytest.mark.parametrize("state", ["left out", "none", "value"])
def test_recommend_query_options_in_three_states(remembering_model_path, capsys, name, state):
    flag = "--" + name.replace("_", "-")
    given = {"left out": [], "none": [flag, "none"], "value": [flag, str(GIVEN[name])]}[state]
    argv = ["recommend", str(remembering_model_path), "--history", ",".join(HISTORY),
            "--times", ",".join(map(str, TIMES)), "-k", "6", *given]  # fmt: skip
    assert main(argv) == 0
    model = Item2Vec.load(remembering_model_path)
    options = dict(REMEMBERED)
    options[name] = {"left out": REMEMBERED, "none": OFF, "value": GIVEN}[state][name]
    expected = _reference_recommend(model, HISTORY, TIMES, 6, **options)
    _assert_scored(capsys.readouterr().out, expected)
    # each state ranks otherwise than the model's setting, so the comparison is not vacuous
    if state != "left out":
        assert expected != _reference_recommend(model, HISTORY, TIMES, 6, **REMEMBERED)


def test_a_remembered_time_half_life_needs_times(remembering_model_path, capsys):
    argv = ["recommend", str(remembering_model_path), "--history", ",".join(HISTORY), "-k", "6"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    model = Item2Vec.load(remembering_model_path)
    options = {**REMEMBERED, "time_half_life": None}
    _assert_scored(captured.out, _reference_recommend(model, HISTORY, TIMES, 6, **options))
    assert captured.err == (
        "item2vec recommend: the model's time_half_life=5 applies only with --times; "
        "ranking without it\n"
    )
    assert main([*argv, "--time-half-life", "2"]) == 2
    assert _error(capsys) == (
        "item2vec recommend: error: --time-half-life needs --times (the time of each history event)"
    )
    assert main([*argv, "--times", "1,2"]) == 2
    assert _error(capsys) == (
        "item2vec recommend: error: --times needs one time per --history id: got 2 times for 5 ids"
    )


@pytest.mark.parametrize("name", list(REMEMBERED))
@pytest.mark.parametrize("state", ["left out", "none", "value"])
def test_fit_query_options_in_three_states(events, tmp_path, capsys, name, state):
    flag = "--" + name.replace("_", "-")
    given = {"left out": [], "none": [flag, "none"], "value": [flag, str(GIVEN[name])]}[state]
    assert _fit(events, tmp_path / "m.npz", *FAST, *QUIET, *given) == 0
    saved = Item2Vec.load(tmp_path / "m.npz").get_params()[name]
    default = inspect.signature(Item2Vec).parameters[name].default
    expected = {"left out": default, "none": OFF[name], "value": GIVEN[name]}[state]
    assert saved == expected and type(saved) is type(expected)


# ids on the command line: the model's id type; unknown history ids skipped, query ids errors


@pytest.fixture(scope="module")
def typed_models(tmp_path_factory):
    """Models whose ids are int64 (negative ones too), uint64 beyond int64, digit strings,
    and ints beyond uint64."""
    folder = tmp_path_factory.mktemp("typed")
    ids = {
        "int": np.array([-7, 0, 3, 4, 12, 2**62], dtype=np.int64),
        "uint": np.array([5, 2**63 + 1, 2**63 + 2, 2**64 - 1], dtype=np.uint64),
        "str": np.array(["1", "2", "07", "x"], dtype=object),
        # Python ints beyond uint64: an object array of ints
        "bigint": np.array([2**70, 1, 5, 6], dtype=object),
    }
    paths = {}
    for kind, items in ids.items():
        rng = np.random.default_rng(2)
        sequences = [items[rng.integers(0, len(items), size=8)] for _ in range(20)]
        model = Item2Vec(vector_size=4, epochs=1, n_jobs=1, random_state=0).fit(sequences)
        paths[kind] = folder / f"{kind}.npz"
        model.save(paths[kind])
    return paths


@pytest.mark.parametrize(
    ("kind", "history", "parsed", "skipped"),
    [
        ("int", "-7,3,4", [-7, 3, 4], []),
        # not the canonical spelling of an int: no such id
        ("int", "+3,03,3.0, 3 ,x,4", [3, 4], ["+3", "03", "3.0", "x"]),
        ("int", f"{2**62},{2**63}", [2**62], [str(2**63)]),
        ("uint", f"{2**63 + 1},5,{2**64 - 1},-1,{2**64}", [2**63 + 1, 5, 2**64 - 1],
         ["-1", str(2**64)]),
        # text ids stay text, even when they spell numbers
        ("str", "07,1,7,x,X", ["07", "1", "x"], ["7", "X"]),
    ],
)  # fmt: skip
def test_recommend_reads_ids_in_the_models_type(typed_models, capsys, kind, history, parsed,
                                                skipped):  # fmt: skip
    path = typed_models[kind]
    # "--history=..." as an id list may start with "-"
    assert main(["recommend", str(path), f"--history={history}", "-k", "3"]) == 0
    captured = capsys.readouterr()
    ids, scores = Item2Vec.load(path).recommend(parsed, topn=3)
    _assert_scored(captured.out, list(zip(ids.tolist(), scores.tolist(), strict=True)))
    if skipped:
        named = ", ".join(repr(s) for s in skipped)
        plural = "s" if len(skipped) > 1 else ""
        assert captured.err == (
            f"item2vec recommend: skipped {len(skipped)} --history id{plural} not in the "
            f"model: {named}\n"
        )
    else:
        assert captured.err == ""


def test_many_skipped_history_ids_are_counted_and_the_first_five_named(model_path, capsys):
    unknown = [f"no{i}" for i in range(7)]
    assert main(["recommend", str(model_path), "--history", ",".join(["sku1", *unknown])]) == 0
    assert capsys.readouterr().err == (
        "item2vec recommend: skipped 7 --history ids not in the model: "
        "'no0', 'no1', 'no2', 'no3', 'no4', ...\n"
    )


@pytest.mark.parametrize(
    ("kind", "text", "found"),
    [("int", "-7", -7), ("int", "12", 12), ("uint", str(2**64 - 1), 2**64 - 1),
     ("str", "07", "07"), ("str", "1", "1"), ("bigint", str(2**70), 2**70), ("bigint", "5", 5)],
)  # fmt: skip
def test_similar_reads_the_query_id_in_the_models_type(typed_models, capsys, kind, text, found):
    path = typed_models[kind]
    assert main(["similar", str(path), text, "-k", "2"]) == 0
    _assert_scored(capsys.readouterr().out, _cosine_top(Item2Vec.load(path), found, 2))


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("int", "012"),
        ("int", "+12"),
        ("int", str(2**63)),
        ("uint", "-1"),
        ("str", "7"),
        ("bigint", "05"),
    ],
)
def test_an_unknown_query_id_is_an_error_naming_it(typed_models, capsys, kind, text):
    assert main(["similar", str(typed_models[kind]), text]) == 2
    assert _error(capsys) == f"item2vec similar: error: item {text!r} is not in the model"

"""``item2vec evaluate --model``: a saved model scored on the held-out split, and --write-train.

The expected numbers come from the Python API on the same split:
``item2vec.evaluation.evaluate(Item2Vec.load(path), leave_last_out(read_events(...)))``
for the saved model, the baselines fitted on the split's training part.
"""

import json

import numpy as np
import pytest

from item2vec import Item2Vec, read_events
from item2vec.baselines import ItemKNN, Popularity
from item2vec.cli import main
from item2vec.corpus import Sequences
from item2vec.datasets import planted_sessions
from item2vec.evaluation import evaluate, leave_last_out

FAST = ["--vector-size", "8", "--epochs", "2", "--n-jobs", "1", "--random-state", "0"]
PARAMS = {"vector_size": 8, "epochs": 2, "n_jobs": 1, "random_state": 0}
# a metric row of evaluate(); the saved model's row also says how many users it could not rank
METRICS = ("hr", "ndcg", "mrr", "coverage", "n_users")


def _write_events(path, sequences, rating_seed=None):
    """One row per event: user u<n>, the item id, its position as the time (and a rating)."""
    rng = None if rating_seed is None else np.random.default_rng(rating_seed)
    lines = ["user,item,ts" + (",rating" if rng is not None else "")]
    for user, items in enumerate(sequences):
        for t, item in enumerate(np.asarray(items).tolist()):
            rating = "" if rng is None else f",{int(rng.integers(1, 6))}"
            lines.append(f"u{user},{item},{t}{rating}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _split(path, **read):
    return leave_last_out(read_events(path, user="user", item="item", time="ts", **read))


def _run(capsys, events, *options):
    """``item2vec evaluate`` on ``events``: exit status, stdout, stderr."""
    argv = ["evaluate", str(events), "--user", "user", "--item", "item", "--time", "ts"]
    status = main([*argv, *options])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _error(capsys, events, *options):
    status, out, err = _run(capsys, events, *options)
    assert status == 2 and out == ""
    (line,) = err.strip().splitlines()
    return line


def _metrics(row):
    return {name: row[name] for name in METRICS}


@pytest.fixture(scope="module")
def data():
    return planted_sessions(n_sessions=150, n_items=40, n_clusters=4, mean_length=8, noise=0.0)


@pytest.fixture(scope="module")
def events(data, tmp_path_factory):
    return _write_events(tmp_path_factory.mktemp("events") / "events.csv", data.sequences)


@pytest.fixture(scope="module")
def saved(events, tmp_path_factory):
    """A model remembering half_life=3 and popularity=0.5, fitted on all the events (so
    its score is optimistic, but it is not the model a fit on the training part gives)."""
    corpus = read_events(events, user="user", item="item", time="ts")
    model = Item2Vec(**PARAMS, half_life=3.0, popularity=0.5).fit(corpus)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    model.save(path)
    return path


def test_the_saved_models_row_is_evaluate_on_the_same_split(events, saved, capsys):
    status, out, _ = _run(capsys, events, "--model", str(saved), "--json")
    assert status == 0
    table = json.loads(out)
    assert list(table) == ["Popularity", "ItemKNN", "model.npz"]
    split = _split(events)
    loaded = Item2Vec.load(saved)
    expected = evaluate(loaded, split, k=10)
    row = table["model.npz"]
    assert _metrics(row) == pytest.approx(expected, rel=1e-12)
    assert row["file"] == str(saved) and row["n_users_without_known_item"] == 0
    # the remembered query options were used, not the command line's defaults
    assert row["settings"]["half_life"] == 3.0 and row["settings"]["popularity"] == 0.5
    assert _metrics(row) != pytest.approx(
        evaluate(loaded, split, k=10, half_life=1.0, popularity=0.2), rel=1e-12
    )
    # the baselines are fitted on the training part; ItemKNN weights histories as the model does
    popularity = evaluate(Popularity().fit(split.train), split, k=10)
    knn = evaluate(ItemKNN().fit(split.train), split, k=10, last_n=None, half_life=3.0,
                   time_half_life=None)  # fmt: skip
    assert table["Popularity"] == pytest.approx(popularity, rel=1e-12)
    assert table["ItemKNN"] == pytest.approx(knn, rel=1e-12)


def test_the_table_names_the_file_and_counts_the_users(events, saved, capsys):
    status, out, _ = _run(capsys, events, "--model", str(saved), "-k", "5")
    assert status == 0
    split = _split(events)
    m = evaluate(Item2Vec.load(saved), split, k=5)
    lines = out.splitlines()
    assert lines[0] == f"{'model':12s} {'HR':>8s} {'NDCG':>8s} {'MRR':>8s} {'coverage':>9s}  (k=5)"
    assert [line.split()[0] for line in lines[1:4]] == ["Popularity", "ItemKNN", "model.npz"]
    assert lines[3] == (
        f"{'model.npz':12s} {m['hr']:8.4f} {m['ndcg']:8.4f} {m['mrr']:8.4f} {m['coverage']:9.3f}"
    )
    n = len(split.targets)
    assert lines[4:6] == [
        f"{n} held-out events",
        f"0 of {n} test users had no history item known to model.npz (counted as misses)",
    ]
    assert lines[6].startswith("model.npz settings: epochs=2, vector_size=8; queries last_n=None")


@pytest.mark.parametrize(
    ("options", "query"),
    [
        # typed with the command line's default value: still the user's choice over the model's
        (["--half-life", "1"], {"half_life": 1.0}),
        (["--half-life", "none", "--popularity", "0"], {"half_life": None, "popularity": 0.0}),
        (["--last-n", "2", "-k", "3"], {"last_n": 2}),
    ],
)
def test_query_options_given_override_the_remembered_ones(events, saved, capsys, options, query):
    status, out, _ = _run(capsys, events, "--model", str(saved), "--json", *options)
    assert status == 0
    table = json.loads(out)
    k = 3 if "-k" in options else 10
    split = _split(events)
    loaded = Item2Vec.load(saved)
    assert _metrics(table["model.npz"]) == pytest.approx(
        evaluate(loaded, split, k=k, **query), rel=1e-12
    )
    assert _metrics(table["model.npz"]) != pytest.approx(evaluate(loaded, split, k=k), rel=1e-12)
    settings = table["model.npz"]["settings"]
    assert {name: settings[name] for name in query} == query
    weighting = {"last_n": None, "half_life": 3.0, "time_half_life": None}
    weighting.update({n: v for n, v in query.items() if n in weighting})
    knn = evaluate(ItemKNN().fit(split.train), split, k=k, **weighting)
    assert table["ItemKNN"] == pytest.approx(knn, rel=1e-12)
    # the file is scored, never rewritten
    assert Item2Vec.load(saved).get_params() == loaded.get_params()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--epochs", "3"], "--epochs is a training option"),
        # the default value typed is still typed
        (["--vector-size", "100"], "--vector-size is a training option"),
        (["--no-sg"], "--sg/--no-sg is a training option"),
        (["--tune", "5"], "--tune is a training option"),
        (["--verbose", "0"], "--verbose is a training option"),
        (["--n-jobs", "1", "--window", "3"], "--window, --n-jobs are training options"),
    ],
)
def test_training_options_are_refused_with_model(events, saved, capsys, options, named):
    line = _error(capsys, events, "--model", str(saved), *options)
    pronoun = "them" if "are" in named.split(" training")[0].split() else "it"
    assert line == (
        f"item2vec evaluate: error: {named}: --model scores the saved model as it is, "
        f"without training; leave {pronoun} out"
    )


def test_without_model_the_training_options_still_train(events, capsys):
    status, out, _ = _run(capsys, events, "--json", *FAST, "--verbose", "0")
    assert status == 0
    split = _split(events)
    expected = evaluate(Item2Vec(**PARAMS).fit(split.train), split, k=10)
    assert _metrics(json.loads(out)["Item2Vec"]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("model_ids", "event_ids", "kinds"),
    [
        (str, int, ("text", "'0'", "numbers", "0")),
        (lambda i: f"i{i}", lambda i: i, ("text", "'i0'", "numbers", "0")),
        (int, lambda i: f"i{i}", ("numbers", "0", "text", "'i0'")),
    ],
)
def test_a_model_of_other_id_types_is_an_error(tmp_path, capsys, model_ids, event_ids, kinds):
    sequences = [[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1]]
    model = Item2Vec(**PARAMS).fit([[model_ids(i) for i in s] for s in sequences])
    model.save(tmp_path / "ids.npz")
    events = _write_events(tmp_path / "e.csv", [[event_ids(i) for i in s] for s in sequences])
    line = _error(capsys, events, "--model", str(tmp_path / "ids.npz"))
    model_kind, model_example, events_kind, events_example = kinds
    assert line.startswith(
        f"item2vec evaluate: error: {tmp_path / 'ids.npz'} has item ids that are {model_kind} "
        f"(e.g. {model_example}) but the events' item ids are {events_kind} "
        f"(e.g. {events_example}), so none could match"
    )


def test_test_users_with_no_known_item_are_counted_as_misses(data, tmp_path, capsys):
    # the model never saw cluster 3: users of that cluster have no item it knows
    other = planted_sessions(n_sessions=150, n_items=40, n_clusters=4, mean_length=8, noise=0.0,
                             random_state=1)  # fmt: skip
    known = [s[s % 4 != 3] for s in other.sequences]
    model = Item2Vec(**PARAMS).fit([s for s in known if s.size])
    model.save(tmp_path / "other.npz")
    sequences = [*data.sequences[:60], np.array([3, 7, 11, 15, 3, 19])]
    events = _write_events(tmp_path / "e.csv", sequences)
    status, out, _ = _run(capsys, events, "--model", str(tmp_path / "other.npz"), "--json")
    assert status == 0
    row = json.loads(out)["other.npz"]
    # reference: histories (all but each user's last event, users of 2+ events) with no item
    # the model knows, by sets
    vocabulary = set(model.items_.tolist())
    histories = [s[:-1].tolist() for s in sequences if len(s) >= 2]
    empty = sum(not vocabulary.intersection(h) for h in histories)
    assert 0 < empty < len(histories)
    assert row["n_users_without_known_item"] == empty
    assert row["n_users"] == len(histories)  # each one counted, as a miss
    split = _split(events)
    assert _metrics(row) == pytest.approx(evaluate(Item2Vec.load(tmp_path / "other.npz"), split),
                                          rel=1e-12)  # fmt: skip
    status, out, _ = _run(capsys, events, "--model", str(tmp_path / "other.npz"))
    assert (
        f"{empty} of {len(histories)} test users had no history item known to other.npz "
        "(counted as misses)"
    ) in out.splitlines()


def test_a_remembered_time_half_life_without_times_is_said_and_not_applied(
    events, tmp_path, capsys
):
    model = Item2Vec(**PARAMS, time_half_life=5.0).fit(_split(events).train)
    model.save(tmp_path / "timed.npz")
    argv = ["evaluate", str(events), "--user", "user", "--item", "item"]
    assert main([*argv, "--model", str(tmp_path / "timed.npz"), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "item2vec evaluate: the model's time_half_life=5 applies only with event times "
        "(--time); ranking without it"
    ]
    split = leave_last_out(read_events(events, user="user", item="item"))
    expected = evaluate(Item2Vec.load(tmp_path / "timed.npz"), split, time_half_life=None)
    assert _metrics(json.loads(captured.out)["timed.npz"]) == pytest.approx(expected, rel=1e-12)
    assert main([*argv, "--model", str(tmp_path / "timed.npz"), "--time-half-life", "4"]) == 2
    assert capsys.readouterr().err == (
        "item2vec evaluate: error: --time-half-life needs event times: give --time "
        "(the time column)\n"
    )


# --write-train


def _same_vocabulary_order(path):
    """Whether fitting on the re-read training part orders the vocabulary as fitting on the
    split's own training part does (count descending; ties: by id in a file read afresh, by
    the full log's order in the split): only then can the two fits be the same model."""
    train = _split(path).train
    seq = np.repeat(np.arange(len(train)), train.lengths)
    afresh = Sequences.from_events(
        {"s": seq, "i": train.vocabulary.items[train.codes], "t": train.times},
        user="s", item="i", time="t",
    )  # fmt: skip
    return np.array_equal(train.pruned().vocabulary.items, afresh.vocabulary.items)


def test_fitting_on_the_written_training_part_reproduces_plain_evaluate(tmp_path, capsys):
    for seed in range(50):
        data = planted_sessions(n_sessions=120, n_items=15, n_clusters=3, mean_length=10,
                                random_state=seed)  # fmt: skip
        events = _write_events(tmp_path / "events.csv", data.sequences, rating_seed=seed)
        if _same_vocabulary_order(events):
            break
    else:
        pytest.fail("no seed gives data whose tie order of item counts survives the split")
    train, model = tmp_path / "train.csv", tmp_path / "fitted.npz"
    read = ["--weight", "rating", "--json"]
    status, out, err = _run(capsys, events, *read, *FAST, "--verbose", "0", "--write-train",
                            str(train))  # fmt: skip
    assert status == 0
    plain = json.loads(out)
    split = _split(events, weight="rating")
    assert err == (
        f"item2vec evaluate: wrote {split.train.n_tokens:,} training events in "
        f"{len(split.train)} sequences to {train}\n"
    )
    # the file holds exactly the training part: its sequences, in order, times and weights
    written = read_events(train, user="sequence", item="item", time="time", weight="weight")
    assert written.to_lists() == split.train.to_lists()
    assert np.array_equal(written.times, split.train.times)
    assert np.array_equal(written.weights, split.train.weights)
    assert train.read_text().splitlines()[0] == "sequence,item,time,weight"
    fit = ["fit", str(train), "--user", "sequence", "--item", "item", "--time", "time",
           "--weight", "weight", *FAST, "--verbose", "0", "-o", str(model)]  # fmt: skip
    assert main(fit) == 0
    capsys.readouterr()
    # ids read through the command line: integers in the model as in the events
    assert Item2Vec.load(model).items_.dtype.kind == "i"
    status, out, _ = _run(capsys, events, *read, "--model", str(model))
    assert status == 0
    scored = json.loads(out)
    assert scored["Popularity"] == plain["Popularity"]
    assert scored["ItemKNN"] == plain["ItemKNN"]
    assert _metrics(scored["fitted.npz"]) == _metrics(plain["Item2Vec"])
    assert scored["fitted.npz"]["settings"] == plain["Item2Vec"]["settings"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("events", "--write-train {path} is the events file: name another"),
        ("train.parquet", "--write-train writes CSV: name it .csv, not {path}"),
        ("missing/train.csv", "cannot write --write-train {path}: no such folder {folder}"),
    ],
)
def test_write_train_refuses_a_path_it_must_not_write(events, tmp_path, capsys, target, message):
    path = events if target == "events" else tmp_path / target
    before = events.read_bytes()
    line = _error(capsys, events, *FAST, "--verbose", "0", "--write-train", str(path))
    folder = tmp_path / "missing"
    assert line == "item2vec evaluate: error: " + message.format(path=path, folder=folder)
    assert events.read_bytes() == before

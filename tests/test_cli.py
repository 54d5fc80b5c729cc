"""The command line, end to end on a generated event log."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from item2vec import Item2Vec, read_events
from item2vec.baselines import ItemKNN, Popularity
from item2vec.cli import main
from item2vec.datasets import planted_sessions
from item2vec.evaluation import evaluate, leave_last_out


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory):
    data = planted_sessions(n_sessions=600, n_items=100, n_clusters=5, mean_length=15)
    path = tmp_path_factory.mktemp("cli") / "events.csv"
    rng = np.random.default_rng(0)
    lines = ["user,item,ts,rating"]
    for user, seq in enumerate(data.sequences):
        for t, item in enumerate(seq.tolist()):
            lines.append(f"u{user},sku{item},{t},{rng.integers(1, 6)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _evaluated_in_python(events_csv, read, params, query=None):
    """The table `item2vec evaluate` should print, from the Python API."""
    split = leave_last_out(read_events(events_csv, user="user", item="item", **read))
    query = query or {}
    # Item2Vec remembers its query options; ItemKNN ranks with the same history
    # weighting (the defaults' half_life=1 unless given), Popularity with none
    weighting = {"last_n": None, "half_life": 1.0, "time_half_life": None}
    weighting.update({k: v for k, v in query.items() if k in weighting})
    return {
        "Popularity": evaluate(Popularity().fit(split.train), split, k=10),
        "ItemKNN": evaluate(ItemKNN().fit(split.train), split, k=10, **weighting),
        "Item2Vec": evaluate(Item2Vec(**params, **query).fit(split.train), split, k=10),
    }


def _assert_same_tables(printed, expected):
    settings = printed["Item2Vec"].pop("settings")  # checked by test_cli_commands.py
    assert {"half_life", "popularity", "epochs", "epochs_trained"} <= set(settings)
    assert list(printed) == list(expected)
    for name, row in expected.items():
        assert printed[name] == pytest.approx(row, rel=1e-12), name


def test_fit_similar_recommend_evaluate_export(events_csv, tmp_path, capsys):
    model = tmp_path / "model.npz"
    common = ["--user", "user", "--item", "item", "--time", "ts"]
    assert main(["fit", str(events_csv), *common, "--epochs", "3", "--vector-size", "16",
                 "--n-jobs", "1", "--random-state", "0", "--verbose", "0",
                 "-o", str(model)]) == 0  # fmt: skip
    assert "saved" in capsys.readouterr().out and model.exists()

    saved = Item2Vec.load(model)
    expected = Item2Vec(epochs=3, vector_size=16, n_jobs=1, random_state=0).fit(
        read_events(events_csv, user="user", item="item", time="ts")
    )
    np.testing.assert_array_equal(saved.vectors_, expected.vectors_)

    assert main(["similar", str(model), "sku3", "-k", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{item}\t{score:.4f}" for item, score in saved.most_similar("sku3", topn=4)]

    assert main(["recommend", str(model), "--history", "sku3,sku8", "-k", "5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    ids, scores = saved.recommend(["sku3", "sku8"], topn=5)
    assert lines == [f"{i}\t{s:.4f}" for i, s in zip(ids.tolist(), scores.tolist(), strict=True)]
    assert not {"sku3", "sku8"} & {line.split("\t")[0] for line in lines}

    assert main(["evaluate", str(events_csv), *common, "--weight", "rating", "--min-weight", "2",
                 "--epochs", "2", "--vector-size", "8", "--n-jobs", "1", "--random-state", "0",
                 "--verbose", "0", "--json"]) == 0  # fmt: skip
    table = json.loads(capsys.readouterr().out)
    read = {"time": "ts", "weight": "rating", "min_weight": 2}
    params = {"epochs": 2, "vector_size": 8, "n_jobs": 1, "random_state": 0}
    _assert_same_tables(table, _evaluated_in_python(events_csv, read, params))

    for fmt, name in (("word2vec-text", "v.txt"), ("word2vec-binary", "v.bin")):
        assert main(["export", str(model), "--format", fmt, "-o", str(tmp_path / name)]) == 0
        exported = Item2Vec.load_word2vec_format(tmp_path / name, binary=fmt.endswith("binary"))
        assert exported.items_.tolist() == saved.items_.tolist()
        np.testing.assert_array_equal(exported.vectors_, saved.vectors_)
    assert main(["export", str(model), "--format", "similar-csv", "-o", str(tmp_path / "s.csv"),
                 "-k", "3"]) == 0  # fmt: skip
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "item,rank,neighbor,score"
    assert len(lines) == 1 + 3 * len(saved.items_)
    capsys.readouterr()

    pytest.importorskip("matplotlib")
    labels = tmp_path / "labels.csv"
    labels.write_text("item,label\n" + "".join(f"sku{i},c{i % 5}\n" for i in range(100)))
    picture = tmp_path / "map.png"
    assert main(["plot", str(model), "-o", str(picture), "--labels", str(labels)]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["similar", "{model}", "no-such-item"], "item 'no-such-item' is not in the model"),
        (["similar", "{missing}", "sku1"], "no such file"),
        (["fit", "{events}", "--user", "nope", "--item", "item", "-o", "{out}"], "column 'nope'"),
        (["fit", "{events}", "--user", "user", "--item", "item", "--window", "0", "-o", "{out}"],
         "window must be an int >= 1, got 0"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_exit_2(events_csv, tmp_path, capsys, argv, message):
    model = tmp_path / "m.npz"
    assert main(["fit", str(events_csv), "--user", "user", "--item", "item", "--epochs", "1",
                 "--verbose", "0", "-o", str(model)]) == 0  # fmt: skip
    capsys.readouterr()
    paths = {"model": model, "missing": tmp_path / "missing.npz", "events": events_csv,
             "out": tmp_path / "out.npz"}  # fmt: skip
    assert main([a.format(**paths) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_help_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "item2vec.cli", "fit", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "--min-weight" in result.stdout


def test_training_and_query_options_from_the_command_line(events_csv, capsys):
    common = ["--user", "user", "--item", "item", "--time", "ts", "--weight", "rating"]
    argv = ["evaluate", str(events_csv), *common, "--epochs", "2", "--vector-size", "8",
            "--n-jobs", "1", "--verbose", "0", "--window", "session", "--session-contexts", "6",
            "--use-weights", "--time-decay", "5", "--time-half-life", "3", "--popularity",
            "0.1", "--json"]  # fmt: skip
    assert main([*argv, "--random-state", "0"]) == 0
    table = json.loads(capsys.readouterr().out)
    read = {"time": "ts", "weight": "rating"}
    params = {"epochs": 2, "vector_size": 8, "n_jobs": 1, "random_state": 0,
              "window": "session", "session_contexts": 6, "use_weights": True,
              "time_decay": 5.0}  # fmt: skip
    query = {"time_half_life": 3.0, "popularity": 0.1}
    _assert_same_tables(table, _evaluated_in_python(events_csv, read, params, query))
    with pytest.raises(SystemExit):
        main(["evaluate", str(events_csv), *common, "--window", "basket"])
    assert "expected an int or 'session'" in capsys.readouterr().err


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# what each example does without arguments: quickstart runs on generated data; the
# MovieLens ones need a download, so they print their usage and exit 2
NO_ARGUMENTS = {
    "quickstart.py": (0, "precision@10 of planted-cluster membership"),
    "movielens.py": (2, "usage: python examples/movielens.py FOLDER"),
    "tune_movielens.py": (2, "usage: python examples/tune_movielens.py FOLDER"),
}


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="no examples/ beside the tests")
def test_every_example_is_covered_here():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(NO_ARGUMENTS)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="no examples/ beside the tests")
@pytest.mark.parametrize("name", sorted(NO_ARGUMENTS))
def test_an_example_without_arguments_runs_or_says_what_to_pass(tmp_path, name):
    status, says = NO_ARGUMENTS[name]
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == status, result.stderr
    assert says in (result.stdout if status == 0 else result.stderr)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="no examples/ beside the tests")
@pytest.mark.parametrize("name", ["movielens.py", "tune_movielens.py"])
def test_an_example_given_a_missing_folder_says_so(tmp_path, name):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), str(tmp_path / "none")], cwd=tmp_path,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    if name == "tune_movielens.py" and "scikit-learn" in result.stderr:
        return  # (it checks for scikit-learn first)
    assert result.stderr == f"{name}: no such folder: {tmp_path / 'none'}\n"

"""`item2vec corpus`, and corpus directories wherever the command line takes events."""

import gzip

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences, read_events
from item2vec.cli import main

pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")

OPTIONS = ["--user", "user", "--item", "item", "--time", "t"]


@pytest.fixture
def log(tmp_path):
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame({
        "user": rng.integers(0, 80, n), "item": rng.integers(0, 60, n), "t": rng.permutation(n),
    })  # fmt: skip
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(frame.to_csv(index=False))
    return path


def test_the_corpus_command_writes_what_read_events_reads(log, tmp_path, capsys):
    assert main(["corpus", str(log), "-o", str(tmp_path / "c"), *OPTIONS, "--no-progress"]) == 0
    out = capsys.readouterr().out
    corpus = Sequences.open(tmp_path / "c")
    expected = read_events(log, user="user", item="item", time="t")
    assert corpus.to_lists() == expected.to_lists()
    assert corpus.users.tolist() == expected.users.tolist()
    assert out == (
        f"wrote {tmp_path / 'c'}: 4,000 events in {len(expected)} sequences, "
        f"{len(expected.vocabulary)} items\n"
    )


def test_several_files_and_min_count(tmp_path, capsys):
    frame = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "c", "a"],
                          "t": [1, 2, 3, 4, 5]})  # fmt: skip
    frame.iloc[:2].to_parquet(tmp_path / "p0.parquet")
    frame.iloc[2:].to_parquet(tmp_path / "p1.parquet")
    args = ["corpus", str(tmp_path / "p0.parquet"), str(tmp_path / "p1.parquet"),
            "-o", str(tmp_path / "c"), *OPTIONS, "--min-count", "2", "--threads", "1"]  # fmt: skip
    assert main(args) == 0
    assert Sequences.open(tmp_path / "c").to_lists() == [["a"], ["a"], ["a"]]


def test_fit_on_a_corpus_directory_equals_fit_on_the_log(log, tmp_path):
    main(["corpus", str(log), "-o", str(tmp_path / "c"), *OPTIONS, "--no-progress"])
    train = ["--epochs", "2", "--vector-size", "8", "--n-jobs", "1", "--verbose", "0",
             "--random-state", "0"]  # fmt: skip
    assert main(["fit", str(tmp_path / "c"), "-o", str(tmp_path / "a.npz"), *train]) == 0
    assert main(["fit", str(log), "-o", str(tmp_path / "b.npz"), *OPTIONS, *train]) == 0
    a, b = Item2Vec.load(tmp_path / "a.npz"), Item2Vec.load(tmp_path / "b.npz")
    assert a.items_.tolist() == b.items_.tolist()
    assert np.array_equal(a.vectors_, b.vectors_)


def test_event_options_with_a_corpus_directory_are_an_error(log, tmp_path, capsys):
    main(["corpus", str(log), "-o", str(tmp_path / "c"), *OPTIONS, "--no-progress"])
    capsys.readouterr()
    assert main(["fit", str(tmp_path / "c"), "-o", str(tmp_path / "m.npz"), "--time", "t"]) == 2
    assert "is a corpus directory" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "c"), "--min-length", "3"]) == 2
    assert "--min-length cannot apply" in capsys.readouterr().err


def test_an_event_file_needs_its_id_columns(log, tmp_path, capsys):
    assert main(["fit", str(log), "-o", str(tmp_path / "m.npz"), "--user", "user"]) == 2
    assert "--user and --item are required with an event file" in capsys.readouterr().err
    assert main(["corpus", str(log), "-o", str(tmp_path / "c"), "--item", "item"]) == 2


def test_progress_goes_to_stderr_when_asked(log, tmp_path, capsys):
    main(["corpus", str(log), "-o", str(tmp_path / "c"), *OPTIONS, "--progress"])
    err = capsys.readouterr().err
    assert "build_corpus: 4,000 events" in err and "done in" in err

"""``item2vec recommend --events``: every user's top-k table, row by row against the
model's single-history ``recommend``."""

import csv

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.cli import main

pd = pytest.importorskip("pandas", reason="the reference reads the events with pandas")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    sessions = [[int(v) for v in rng.integers(0, 15, size=6)] for _ in range(200)]
    model = Item2Vec(vector_size=8, epochs=2, n_jobs=1, random_state=0).fit(sessions)
    path = tmp_path_factory.mktemp("model") / "m.npz"
    model.save(path)
    return path


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def _events(tmp_path):
    # user 7 lists its events out of time order; user 9 knows no item; user 5 has one
    # unknown item among known ones; user 3 has seen nearly every item
    rows = [(7, 4, 30), (7, 1, 10), (7, 2, 20), (9, 99, 1), (5, 3, 1), (5, 98, 2), (5, 6, 3)]
    rows += [(3, item, item) for item in range(13)]
    path = tmp_path / "events.csv"
    path.write_text("user,item,t\n" + "".join(f"{u},{i},{t}\n" for u, i, t in rows))
    return path


def _expected(model_path, events_path, k, fallback=None):
    model = Item2Vec.load(model_path)
    table = [["user", "rank", "item", "score"]]
    frame = pd.read_csv(events_path).sort_values(["user", "t"], kind="stable")
    for user, group in frame.groupby("user", sort=True):
        history = [i for i in group["item"].tolist() if i in model]
        if not history and fallback is None:
            continue
        ids, scores = model.recommend(group["item"].tolist(), topn=k, fallback=fallback)
        pairs = zip(ids.tolist(), scores.tolist(), strict=True)
        for rank, (item, score) in enumerate(pairs, start=1):
            if np.isfinite(score):
                table.append([str(user), str(rank), str(item), f"{score:.6g}"])
    return table


@pytest.mark.parametrize("fallback", [None, "popularity"])
def test_every_user_gets_its_table_ranked_from_one(tmp_path, model_file, capsys, fallback):
    events = _events(tmp_path)
    out = tmp_path / "recs.csv"
    argv = ["recommend", str(model_file), "--events", str(events), "--user", "user",
            "--item", "item", "--time", "t", "-k", "4", "-o", str(out)]  # fmt: skip
    assert main(argv + (["--fallback", fallback] if fallback else [])) == 0
    got = _read(out)
    assert got == _expected(model_file, events, 4, fallback)
    users = [row[0] for row in got[1:]]
    assert ("9" in users) == (fallback is not None)
    # user 3 has seen 13 of 15 items: two rows, not four padded ones
    assert [row[1] for row in got[1:] if row[0] == "3"] == ["1", "2"]
    err = capsys.readouterr().err
    assert "skipped 2 events of items not in the model; 1 users had no known item" in err


def test_the_table_needs_its_options(tmp_path, model_file, capsys):
    events = _events(tmp_path)
    assert main(["recommend", str(model_file), "--events", str(events), "--user", "user",
                 "--item", "item"]) == 2  # fmt: skip
    assert "--events needs --output" in capsys.readouterr().err
    assert main(["recommend", str(model_file), "--history", "1", "--user", "user"]) == 2
    assert "--user goes with --events" in capsys.readouterr().err


@pytest.mark.parametrize(("fallback", "n_rows"), [(None, 10), ("popularity", 14)])
def test_the_rows_reported_are_the_rows_written(tmp_path, model_file, capsys, fallback, n_rows):
    # 4 users x k=4, less the short rows: user 3 has two candidates left (2 rows), user 9
    # knows no item (no row; k of the most popular ones with the fallback)
    events = _events(tmp_path)
    out = tmp_path / "recs.csv"
    argv = ["recommend", str(model_file), "--events", str(events), "--user", "user",
            "--item", "item", "--time", "t", "-k", "4", "-o", str(out)]  # fmt: skip
    assert main(argv + (["--fallback", fallback] if fallback else [])) == 0
    assert len(_read(out)) - 1 == n_rows
    assert capsys.readouterr().out == f"wrote {n_rows} rows for 4 users to {out}\n"


def _shown(capsys, recwarn):
    """What reached the user: stderr, and the warnings shown (pytest records them)."""
    return capsys.readouterr().err + "".join(
        f"{w.category.__name__}: {w.message}\n" for w in recwarn
    )


@pytest.mark.parametrize("where", ["reading", "recommending"])
def test_other_warnings_are_still_shown(tmp_path, model_file, capsys, recwarn, monkeypatch,
                                        where):  # fmt: skip
    # only the unknown items' warning becomes the command's own line; any other warning
    # raised while the events are read or ranked is shown as Python would show it
    import warnings

    import item2vec.ingest

    module, name = (item2vec.ingest, "read_events") if where == "reading" else (
        Item2Vec, "recommend_batch")  # fmt: skip
    original = getattr(module, name)

    def warning_too(*args, **kwargs):
        warnings.warn(f"a warning of another kind while {where}", RuntimeWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, warning_too)
    out = tmp_path / "recs.csv"
    argv = ["recommend", str(model_file), "--events", str(_events(tmp_path)), "--user", "user",
            "--item", "item", "--time", "t", "-k", "4", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    shown = _shown(capsys, recwarn)
    assert shown.count(f"RuntimeWarning: a warning of another kind while {where}") == 1
    assert "skipped 2 events of items not in the model; 1 users had no known item" in shown
    assert "UnknownItemsWarning" not in shown
    assert _read(out) == _expected(model_file, _events(tmp_path), 4)


@pytest.fixture(scope="module")
def remembering_file(tmp_path_factory):
    """A model that remembers a time_half_life, and the same vectors without it."""
    rng = np.random.default_rng(3)
    sessions = [[int(v) for v in rng.integers(0, 15, size=6)] for _ in range(200)]
    model = Item2Vec(vector_size=8, epochs=2, n_jobs=1, random_state=0, time_half_life=5.0)
    folder = tmp_path_factory.mktemp("remembering")
    model.fit(sessions).save(folder / "m.npz")
    model.set_params(time_half_life=None).save(folder / "plain.npz")
    return folder / "m.npz", folder / "plain.npz"


def test_a_remembered_time_half_life_without_times_is_said_once(tmp_path, remembering_file,
                                                                capsys, recwarn):  # fmt: skip
    model_path, plain_path = remembering_file
    events, out = _events(tmp_path), tmp_path / "recs.csv"
    argv = ["recommend", str(model_path), "--events", str(events), "--user", "user", "--item",
            "item", "-k", "4", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    shown = _shown(capsys, recwarn)
    said = "item2vec recommend: the model's time_half_life=5 applies only with event times"
    assert shown.count(said) == 1 and "UserWarning" not in shown
    # ranked without it, in the file's order: the same vectors without a time_half_life
    in_file_order = tmp_path / "in_file_order.csv"  # the reference orders by t
    pd.read_csv(events).assign(t=lambda e: e.index).to_csv(in_file_order, index=False)
    got, expected = _read(out), _expected(plain_path, in_file_order, 4)
    assert [row[:3] for row in got] == [row[:3] for row in expected] and len(got) == 11
    # the one-history and the batch queries may round the last printed digit apart
    np.testing.assert_allclose([float(row[3]) for row in got[1:]],
                               [float(row[3]) for row in expected[1:]], rtol=1e-5)  # fmt: skip
    # typed without --time, it is refused, naming what it needs
    assert main([*argv, "--time-half-life", "3"]) == 2
    assert "--time-half-life needs event times: give --time" in capsys.readouterr().err

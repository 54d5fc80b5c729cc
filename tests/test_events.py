"""Event tables to Sequences: ordering, filtering, sessions, readers."""

import numpy as np
import pytest

from item2vec import Sequences, read_events
from item2vec.datasets import load_movielens


@pytest.fixture
def events():
    return {
        "user": np.array(["u2", "u1", "u1", "u2", "u1", "u1"]),
        "item": np.array([10, 11, 12, 13, 14, 15]),
        "time": np.array([5.0, 3.0, 1.0, 4.0, 3.0, 100.0]),
        "rating": np.array([5, 4, 2, 5, 5, 4]),
    }


def test_events_are_grouped_by_user_and_ordered_by_time_with_stable_ties(events):
    corpus = Sequences.from_events(events, user="user", item="item", time="time")
    # users by id, whatever the table's order; 11 and 14 tie at t=3 and keep the table's
    assert corpus.to_lists() == [[12, 11, 14, 15], [13, 10]]
    assert corpus.users.tolist() == ["u1", "u2"]
    assert corpus.times.tolist() == [1.0, 3.0, 3.0, 100.0, 4.0, 5.0]


def test_min_weight_filters_events_and_keeps_weights(events):
    corpus = Sequences.from_events(
        events, user="user", item="item", time="time", weight="rating", min_weight=4
    )
    assert corpus.to_lists() == [[11, 14, 15], [13, 10]]
    assert corpus.weights.tolist() == [4, 5, 4, 5, 5]


def test_session_gap_splits_a_users_history(events):
    corpus = Sequences.from_events(events, user="user", item="item", time="time", session_gap=10)
    assert corpus.to_lists() == [[12, 11, 14], [15], [13, 10]]
    assert corpus.users.tolist() == ["u1", "u1", "u2"]


def test_min_length_drops_short_sequences(events):
    corpus = Sequences.from_events(
        events, user="user", item="item", time="time", session_gap=10, min_length=2
    )
    assert corpus.to_lists() == [[12, 11, 14], [13, 10]]
    assert corpus.users.tolist() == ["u1", "u2"]


def test_without_time_the_table_order_is_kept(events):
    corpus = Sequences.from_events(events, user="user", item="item")
    assert corpus.to_lists() == [[11, 12, 14, 15], [10, 13]]


def test_datetime_times_become_seconds():
    events = {
        "user": [1, 1],
        "item": ["a", "b"],
        "time": np.array(["2024-01-01T00:00:10", "2024-01-01T00:00:00"], dtype="datetime64[s]"),
    }
    corpus = Sequences.from_events(events, user="user", item="item", time="time")
    assert corpus.to_lists() == [["b", "a"]]
    assert np.diff(corpus.times).tolist() == [10.0]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"rating": np.array([5, np.nan, 2, 5, 5, 4])}, ValueError, "NaN or infinite"),
        ({"rating": np.array([5, -1, 2, 5, 5, 4])}, ValueError, "negative"),
        ({"time": np.array(["a", "b", "c", "d", "e", "f"])}, TypeError, "numbers or datetimes"),
        ({"item": np.array([1.0, np.nan, 2, 3, 4, 5])}, ValueError, "NaN ids"),
        ({"item": np.array([1, None, 2, 3, 4, 5], dtype=object)}, ValueError, "missing ids"),
    ],
)
def test_bad_columns_are_rejected(events, change, error, message):
    events.update(change)
    with pytest.raises(error, match=message):
        Sequences.from_events(events, user="user", item="item", time="time", weight="rating")


def test_unknown_column_is_named(events):
    with pytest.raises(KeyError, match="'itm'"):
        Sequences.from_events(events, user="user", item="itm")


def test_pandas_frames_are_accepted(events):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(events)
    corpus = Sequences.from_events(frame, user="user", item="item", time="time")
    assert corpus.to_lists() == [[12, 11, 14, 15], [13, 10]]
    frame["when"] = pd.to_datetime(frame["time"], unit="s")
    corpus = Sequences.from_events(frame, user="user", item="item", time="when")
    assert corpus.to_lists() == [[12, 11, 14, 15], [13, 10]]


def test_read_events_reads_csv_with_the_standard_library(tmp_path, without_module):
    path = tmp_path / "events.csv"
    path.write_text("user,item,time,rating\nu1,a,2,5\nu1,b,1,3\nu2,c,5,4\n")
    without_module("pyarrow", "pandas")
    corpus = read_events(path, user="user", item="item", time="time", weight="rating", min_weight=4)
    assert corpus.to_lists() == [["a"], ["c"]]


def test_read_events_reads_tab_separated_files(tmp_path):
    path = tmp_path / "events.tsv"
    path.write_text("user\titem\tt\n1\tx\t2\n1\ty\t1\n")
    assert read_events(path, user="user", item="item", time="t").to_lists() == [["y", "x"]]


def test_movielens_100k_layout_is_read(tmp_path):
    (tmp_path / "u.data").write_text("1\t10\t5\t100\n1\t20\t3\t50\n2\t10\t4\t70\n")
    genres = "|".join(["0"] * 5 + ["1"] + ["0"] * 13)
    (tmp_path / "u.item").write_text(f"10|Toy Story (1995)|01-Jan-1995||url|{genres}\n")
    data = load_movielens(tmp_path)
    assert data.events["user"].tolist() == [1, 1, 2]
    assert data.events["rating"].tolist() == [5.0, 3.0, 4.0]
    assert data.titles[10] == "Toy Story (1995)"
    assert data.genres[10] == ["Comedy"]


def test_movielens_atomic_layout_is_read(tmp_path):
    (tmp_path / "ml.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t7\t4\t10\n1\t8\t5\t5\n"
    )
    (tmp_path / "ml.item").write_text(
        "item_id:token\tmovie_title:token_seq\tclass:token_seq\n7\tHeat\tAction Crime\n"
    )
    data = load_movielens(tmp_path)
    corpus = Sequences.from_events(data.events, user="user", item="item", time="timestamp")
    assert corpus.to_lists() == [[8, 7]]
    assert data.titles[7] == "Heat" and data.genres[7] == ["Action", "Crime"]


def test_movielens_latest_layout_is_read(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n3,5,4.5,9\n")
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n5,"Heat, The (1995)",Action|Crime\n'
    )
    data = load_movielens(tmp_path)
    assert data.events["item"].tolist() == [5] and data.events["rating"].tolist() == [4.5]
    assert data.titles[5] == "Heat, The (1995)"


def test_missing_movielens_files_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="no MovieLens ratings"):
        load_movielens(tmp_path)

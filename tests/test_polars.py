"""polars event tables: the same corpus as from the same events in NumPy or pandas.

Each test builds its events twice, once as plain NumPy arrays (or a pandas
DataFrame, where NumPy has no such type) and once as a polars DataFrame, and
compares every array of the two corpora: codes, offsets, vocabulary items and
counts, times, weights and users. Bad events must be refused by polars input
with the same error as by the reference.
"""

import datetime as dt

import numpy as np
import pytest
from corpus_checks import assert_same_corpus

from item2vec import Sequences, build_corpus, read_events

pl = pytest.importorskip("polars")

N_EVENTS = 300


def _events(seed=0):
    """Small events with repeated users and items, ties in time, and zero weights."""
    rng = np.random.default_rng(seed)
    return {
        "user": rng.integers(0, 12, N_EVENTS),
        "item": rng.integers(0, 40, N_EVENTS),
        # few distinct times, so a user's events tie and keep the table's order
        "time": rng.integers(1_700_000_000, 1_700_000_000 + 50, N_EVENTS),
        "weight": rng.integers(0, 6, N_EVENTS).astype(np.float64) / 2,
    }


def _same_ids(a, b):
    """Ids alike not only by value (1 == 1.0 == True) but by Python type."""
    for name, x, y in (
        ("items", a.vocabulary.items, b.vocabulary.items),
        ("users", a.users, b.users),
    ):
        assert [type(v) for v in x.tolist()] == [type(v) for v in y.tolist()], name


def assert_identical(a, b):
    assert_same_corpus(a, b)
    _same_ids(a, b)


NAMES = {"user": "user", "item": "item", "time": "time", "weight": "weight"}


def _tz_utc(column):
    return pl.col(column).dt.replace_time_zone("UTC")


# each case: (NumPy events, the same events as polars)
def _case_ints():
    events = _events()
    return events, pl.DataFrame(events)


def _case_strings():
    events = _events()
    events["user"] = np.array([f"user-{u:02d}" for u in events["user"]], dtype=object)
    events["item"] = np.array([f"sku{i}" for i in events["item"]], dtype=object)
    return events, pl.DataFrame({k: list(v) if v.dtype == object else v for k, v in events.items()})


def _case_small_int_types():
    events = _events()
    events["user"] = events["user"].astype(np.int32)
    events["item"] = events["item"].astype(np.uint16)
    events["time"] = events["time"].astype(np.uint32)
    events["weight"] = events["weight"].astype(np.float32)
    return events, pl.DataFrame(events)


def _case_datetimes(unit):
    events = _events()
    events["time"] = events["time"].astype("datetime64[s]").astype(f"datetime64[{unit}]")
    frame = pl.DataFrame(events).with_columns(pl.col("time").cast(pl.Datetime(unit)))
    return events, frame


def _case_datetimes_with_time_zone():
    events, frame = _case_datetimes("us")
    # the same instants, held in Tokyo's time zone: times are seconds since the epoch (UTC)
    return events, frame.with_columns(_tz_utc("time").dt.convert_time_zone("Asia/Tokyo"))


def _case_dates():
    events = _events()
    events["time"] = (events["time"] - 1_700_000_000).astype("datetime64[D]")
    return events, pl.DataFrame(events).with_columns(pl.col("time").cast(pl.Date))


def _case_categorical_items():
    events, frame = _case_strings()
    return events, frame.with_columns(pl.col("item").cast(pl.Categorical))


def _case_enum_items():
    events, frame = _case_strings()
    # an Enum's categories in an order of their own, which must not become the id order
    categories = sorted(set(events["item"].tolist()), reverse=True)
    return events, frame.with_columns(pl.col("item").cast(pl.Enum(categories)))


def _case_several_chunks():
    events, frame = _case_strings()
    chunks = pl.concat([frame[:100], frame[100:250], frame[250:]], rechunk=False)
    assert chunks.n_chunks() == 3
    return events, chunks


CASES = {
    "ints": _case_ints,
    "strings": _case_strings,
    "small int types": _case_small_int_types,
    "datetimes us": lambda: _case_datetimes("us"),
    "datetimes ms": lambda: _case_datetimes("ms"),
    "datetimes ns": lambda: _case_datetimes("ns"),
    "datetimes with a time zone": _case_datetimes_with_time_zone,
    "dates": _case_dates,
    "categorical items": _case_categorical_items,
    "enum items": _case_enum_items,
    "several chunks": _case_several_chunks,
}

OPTIONS = {
    "plain": {},
    "filtered": {"min_weight": 1.5},
    "sessions": {"session_gap": 20, "min_length": 2},
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_polars_frame_gives_the_corpus_of_the_same_numpy_events(case, options):
    events, frame = case()
    expected = Sequences.from_events(events, **NAMES, **options)
    corpus = Sequences.from_events(frame, **NAMES, **options)
    assert_identical(corpus, expected)
    assert corpus.n_tokens > 0 and len(corpus) > 1


def test_the_comparison_sees_a_changed_column():
    # the check above is only as good as its comparison: a column in reverse fails it
    events, frame = _case_strings()
    expected = Sequences.from_events(events, **NAMES)
    for column in ("user", "item", "time", "weight"):
        reversed_frame = frame.with_columns(pl.col(column).reverse())
        corpus = Sequences.from_events(reversed_frame, **NAMES)
        with pytest.raises(AssertionError):
            assert_identical(corpus, expected)


def test_the_rows_order_does_not_matter():
    _, frame = _case_strings()
    # distinct times: then no tie depends on the table's order
    frame = frame.with_columns(pl.Series("time", np.arange(N_EVENTS)[::-1] * 7))
    expected = Sequences.from_events(frame, **NAMES)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    assert not shuffled.equals(frame)
    assert_identical(Sequences.from_events(shuffled, **NAMES), expected)


def test_without_time_a_polars_frame_keeps_the_tables_order():
    events, frame = _case_strings()
    expected = Sequences.from_events(events, user="user", item="item")
    assert_identical(Sequences.from_events(frame, user="user", item="item"), expected)


def test_boolean_weights_are_numbers():
    events = _events()
    events["weight"] = events["weight"] > 1
    expected = Sequences.from_events(events, **NAMES)
    assert_identical(Sequences.from_events(pl.DataFrame(events), **NAMES), expected)


def test_a_polars_frame_gives_the_corpus_of_the_same_pandas_frame():
    pytest.importorskip("pandas")
    _, frame = _case_datetimes_with_time_zone()
    pandas_frame = frame.to_pandas()
    assert str(pandas_frame["time"].dt.tz) == "Asia/Tokyo"
    for options in OPTIONS.values():
        expected = Sequences.from_events(pandas_frame, **NAMES, **options)
        corpus = Sequences.from_events(frame, **NAMES, **options)
        assert_identical(corpus, expected)


# --- bad events: the same refusal as from the reference --------------------------------


def _refusal(events, **names):
    """The type and message of the error that refuses these events."""
    with pytest.raises((ValueError, TypeError, KeyError)) as caught:
        Sequences.from_events(events, **names)
    return caught.type, str(caught.value)


def _nulls(column, value, as_text=False):
    """The events with one bad entry in ``column``, as a polars and a pandas frame."""
    pd = pytest.importorskip("pandas")
    events = _events()
    values = [str(v) for v in events[column].tolist()] if as_text else events[column].tolist()
    values[17] = value
    events[column] = values
    return pl.DataFrame(events, strict=False), pd.DataFrame(events)


BAD = {
    "null item id (str)": ("item", None, True),
    "NaN weight": ("weight", float("nan"), False),
    "null weight": ("weight", None, False),
    "infinite weight": ("weight", float("inf"), False),
    "negative weight": ("weight", -1.0, False),
    "null time": ("time", None, False),
}


@pytest.mark.parametrize(("column", "value", "as_text"), BAD.values(), ids=BAD.keys())
def test_bad_polars_events_get_the_same_error_as_pandas(column, value, as_text):
    polars_frame, pandas_frame = _nulls(column, value, as_text)
    polars_error = _refusal(polars_frame, **NAMES)
    pandas_error = _refusal(pandas_frame, **NAMES)
    assert polars_error[0] is pandas_error[0] is ValueError
    # the same complaint; a bracketed detail may name how the library marks a gap
    # ("(null)" for polars and Arrow, "(None or NaN)" for pandas)
    assert polars_error[1].split(" (")[0] == pandas_error[1].split(" (")[0]
    assert repr(column) in polars_error[1]


def test_a_null_datetime_gets_the_same_error_as_pandas():
    pd = pytest.importorskip("pandas")
    events = _events()
    times = [dt.datetime(2024, 1, 1) + dt.timedelta(seconds=int(t)) for t in events["time"]]
    times[5] = None
    events["time"] = times
    error = _refusal(pl.DataFrame(events), **NAMES)
    assert error == _refusal(pd.DataFrame(events), **NAMES)
    assert error[0] is ValueError and "missing" in error[1]


def test_a_null_integer_id_is_reported_as_missing():
    polars_frame, pandas_frame = _nulls("user", None)
    assert polars_frame["user"].dtype == pl.Int64
    assert "missing ids" in _refusal(pandas_frame, **NAMES)[1]
    kind, message = _refusal(polars_frame, **NAMES)
    assert kind is ValueError
    assert "'user'" in message and "missing ids" in message


def test_a_missing_column_is_named():
    _, frame = _case_ints()
    with pytest.raises(KeyError, match=r"column .+stamp.+ not found"):
        Sequences.from_events(frame, user="user", item="item", time="stamp")


def test_a_lazy_frame_is_collected_or_refused_by_name():
    events, frame = _case_strings()
    lazy = frame.lazy().filter(pl.col("weight") >= 0)
    try:
        corpus = Sequences.from_events(lazy, **NAMES)
    except TypeError as exc:
        assert "LazyFrame" in str(exc) and "collect" in str(exc)
    else:
        assert_identical(corpus, Sequences.from_events(events, **NAMES))


# --- files written by polars, and the out-of-core builder -------------------------------


@pytest.fixture
def frame_with_text_ids():
    _, frame = _case_datetimes_with_time_zone()
    return frame.with_columns(pl.col("user").cast(pl.String).str.zfill(3))


def test_read_events_of_polars_parquet_gives_the_corpus_of_the_frame(tmp_path, frame_with_text_ids):
    pytest.importorskip("pyarrow")
    path = tmp_path / "events.parquet"
    frame_with_text_ids.write_parquet(path)
    expected = Sequences.from_events(frame_with_text_ids, **NAMES, session_gap=20)
    assert_identical(read_events(path, **NAMES, session_gap=20), expected)


@pytest.fixture
def duckdb():
    pytest.importorskip("pyarrow")
    return pytest.importorskip("duckdb")


def test_build_corpus_of_polars_data_gives_the_corpus_of_the_frame(
    tmp_path, frame_with_text_ids, duckdb
):
    expected = Sequences.from_events(frame_with_text_ids, **NAMES, min_weight=1, session_gap=20)
    path = tmp_path / "events.parquet"
    frame_with_text_ids.write_parquet(path)
    for name, source in (
        ("arrow", frame_with_text_ids.to_arrow()),  # polars' large_string, timestamp[us, tz]
        ("parquet", str(path)),
    ):
        corpus = build_corpus(source, tmp_path / name, **NAMES, min_weight=1, session_gap=20)
        assert_identical(corpus, expected)


@pytest.mark.parametrize("lazy", [False, True], ids=["DataFrame", "LazyFrame"])
def test_build_corpus_of_a_polars_frame_is_right_or_refused_by_type(
    tmp_path, frame_with_text_ids, duckdb, lazy
):
    # build_corpus documents files, Arrow, pandas and dicts; polars must not go wrong quietly
    source = frame_with_text_ids.lazy() if lazy else frame_with_text_ids
    try:
        corpus = build_corpus(source, tmp_path / "corpus", **NAMES)
    except TypeError as exc:
        assert "pyarrow Table" in str(exc) and type(source).__name__ in str(exc)
        assert not (tmp_path / "corpus").exists()
    else:
        assert_identical(corpus, Sequences.from_events(frame_with_text_ids, **NAMES))

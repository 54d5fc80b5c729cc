"""Every reader of events builds the same corpus from the same events.

A property-based test generates small event logs (ids of every kind, times of every
kind with ties, weights, sessions, repeated rows) and builds the corpus through every
path: ``Sequences.from_events`` on pandas, Arrow and polars tables, ``build_corpus`` on
each source kind (pandas, Arrow, Parquet, CSV, ``.csv.gz``, several files) and
``read_events``. All must give identical arrays, or all refuse the log with the same
kind of error. ``spark.build_corpus`` runs the same check on fewer examples.

The reference for a text file is the table as the id rule reads it, written out here
from its definition: a column of plain decimal integers is integers, any other stays text.

``ITEM2VEC_DIFFERENTIAL_EXAMPLES`` raises the number of examples (``scripts/differential.sh``
runs a long search).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil

import numpy as np
import pytest
from corpus_checks import assert_same_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from item2vec import Sequences, build_corpus, read_events

pd = pytest.importorskip("pandas", reason="the differential test builds pandas tables")
pa = pytest.importorskip("pyarrow", reason="the differential test writes Arrow and Parquet")
pytest.importorskip("duckdb", reason="build_corpus needs DuckDB (pip install 'item2vec[duckdb]')")
import pyarrow.parquet as pq  # noqa: E402

EXAMPLES = int(os.environ.get("ITEM2VEC_DIFFERENTIAL_EXAMPLES", "30"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=EXAMPLES <= 30,  # the suite's run is the same every time
)

# --- the logs ---------------------------------------------------------------------------

ID_KINDS = ("int", "uint64", "str", "digits", "categorical")
TIME_KINDS = (None, "int", "int_ns", "float", "datetime_ns", "datetime_tz", "datetime_s_far")


def _ids(draw, kind: str, n: int) -> list:
    """``n`` ids of one kind, from a small pool so that ids repeat."""
    if kind == "int":
        pool = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=6))
    elif kind == "uint64":
        pool = draw(st.lists(st.integers(2**63, 2**64 - 1), min_size=1, max_size=6))
    elif kind == "digits":  # digit strings, some not plain ("007"): the column stays text
        pool = draw(st.lists(st.from_regex(r"[0-9]{1,4}", fullmatch=True), min_size=1, max_size=6))
    else:  # text: unicode, no NUL (fixed-width storage), no line breaks or quotes for CSV
        alphabet = st.characters(
            blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters='",;|\t'
        )
        pool = draw(st.lists(st.text(alphabet, min_size=1, max_size=5), min_size=1, max_size=6))
        pool = [p for p in pool if p.strip() == p and p.strip()] or ["a"]
    return [pool[draw(st.integers(0, len(pool) - 1))] for _ in range(n)]


@st.composite
def logs(draw):
    n = draw(st.integers(1, 24))
    user_kind = draw(st.sampled_from(ID_KINDS))
    item_kind = draw(st.sampled_from(ID_KINDS))
    frame = pd.DataFrame({"user": _ids(draw, user_kind, n), "item": _ids(draw, item_kind, n)})
    for column, kind in (("user", user_kind), ("item", item_kind)):
        if kind == "uint64":
            frame[column] = np.array(frame[column].tolist(), dtype=np.uint64)
        elif kind == "categorical":
            values = frame[column].tolist()
            categories = draw(st.permutations(sorted(set(values))))
            frame[column] = pd.Categorical(values, categories=list(categories))
        elif kind in ("str", "digits"):
            frame[column] = pd.Series(frame[column].tolist(), dtype=object)
    time_kind = draw(st.sampled_from(TIME_KINDS))
    if time_kind is not None:
        # few distinct times: ties among a user's events are common
        base = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
        if time_kind == "int":
            frame["t"] = np.array(base, dtype=np.int64)
        elif time_kind == "int_ns":  # nanoseconds since 1970, a few ns apart
            frame["t"] = np.array(base, dtype=np.int64) + 1_700_000_000_000_000_000
        elif time_kind == "float":
            frame["t"] = np.array(base, dtype=np.float64) / 4
        elif time_kind == "datetime_ns":  # events a few nanoseconds apart
            frame["t"] = pd.to_datetime(np.array(base) + 1_700_000_000_000_000_000, unit="ns")
        elif time_kind == "datetime_tz":
            frame["t"] = pd.to_datetime(
                np.array(base) * 1_000 + 1_700_000_000_000, unit="ms"
            ).tz_localize("Asia/Kolkata")
        else:  # seconds beyond 2262, where nanoseconds since 1970 overflow int64
            seconds = np.array(base, dtype=np.int64) * 60 + 10_000_000_000
            frame["t"] = pd.Series(seconds.astype("datetime64[s]"))
    weighted = draw(st.booleans())
    if weighted:
        frame["w"] = draw(
            st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 4.5]), min_size=n, max_size=n)
        )
    options: dict = {"user": "user", "item": "item"}
    if time_kind is not None:
        options["time"] = "t"
        if draw(st.booleans()):
            options["session_gap"] = draw(st.sampled_from([0.0, 1.0, 2.5, 60.0]))
    if weighted:
        options["weight"] = "w"
        if draw(st.booleans()):
            options["min_weight"] = draw(st.sampled_from([0.5, 2.0]))
    options["min_length"] = draw(st.integers(1, 2))
    if draw(st.booleans()):  # repeated rows
        frame = pd.concat([frame, frame.iloc[: draw(st.integers(0, n))]], ignore_index=True)
    return frame, options, (user_kind, item_kind, time_kind)


# --- the paths --------------------------------------------------------------------------

_PLAIN_INTEGER = re.compile(r"(0|-?[1-9][0-9]*)")


def as_read_from_text(frame):
    """The table as a text file's reader must see it: each id column as written, then
    integers if every id is a plain decimal integer within int64 (uint64 if none is
    negative), else text; by the rule's definition, written out independently here."""
    frame = frame.copy()
    for column in ("user", "item"):
        text = [str(v) for v in frame[column].tolist()]
        if all(_PLAIN_INTEGER.fullmatch(v) for v in text):
            numbers = [int(v) for v in text]
            if min(numbers) >= -(2**63) and max(numbers) < 2**63:
                frame[column] = np.array(numbers, dtype=np.int64)
                continue
            if min(numbers) >= 0 and max(numbers) < 2**64:
                frame[column] = np.array(numbers, dtype=np.uint64)
                continue
        frame[column] = pd.Series(text, dtype=object)
    return frame


def _write_csv(frame, path, compressed=False):
    out = frame.copy()
    if "t" in out and out["t"].dtype.kind == "M":
        # ISO 8601, to the microsecond that text readers keep, with the offset if zoned
        out["t"] = out["t"].map(lambda v: v.isoformat())
    text = out.to_csv(index=False, lineterminator="\n", float_format=lambda v: repr(float(v)))
    if compressed:
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")


def _arrow(frame):
    return pa.Table.from_pandas(frame, preserve_index=False)


def paths(frame, tmp, text_times_ok: bool):
    """(name, build) for every path; each build takes the options."""
    arrow = _arrow(frame)
    out = [
        ("from_events(arrow)", lambda o: Sequences.from_events(arrow, **o)),
        ("build_corpus(pandas)", lambda o: build_corpus(frame, tmp / "c1", **o)),
        ("build_corpus(arrow)", lambda o: build_corpus(arrow, tmp / "c2", **o)),
    ]
    pq.write_table(arrow, tmp / "events.parquet")
    half = frame.shape[0] // 2
    pq.write_table(_arrow(frame.iloc[:half]), tmp / "part[0].parquet")
    pq.write_table(_arrow(frame.iloc[half:]), tmp / "part1.parquet")
    out += [
        ("build_corpus(parquet)", lambda o: build_corpus(tmp / "events.parquet", tmp / "c3", **o)),
        (
            "build_corpus(two parquet files)",
            lambda o: build_corpus(
                [tmp / "part[0].parquet", tmp / "part1.parquet"], tmp / "c4", **o
            ),
        ),
    ]
    try:
        import polars as pl
    except ImportError:
        pass
    else:
        polars_frame = pl.from_arrow(arrow)
        out.append(("from_events(polars)", lambda o: Sequences.from_events(polars_frame, **o)))
    return out


def text_paths(frame, tmp):
    _write_csv(frame, tmp / "events.csv")
    _write_csv(frame, tmp / "events.csv.gz", compressed=True)
    half = frame.shape[0] // 2
    _write_csv(frame.iloc[:half], tmp / "a.csv")
    _write_csv(frame.iloc[half:], tmp / "b.csv")
    return [
        ("read_events(csv)", lambda o: read_events(tmp / "events.csv", **o)),
        ("build_corpus(csv)", lambda o: build_corpus(tmp / "events.csv", tmp / "t1", **o)),
        ("build_corpus(csv.gz)", lambda o: build_corpus(tmp / "events.csv.gz", tmp / "t2", **o)),
        (
            "build_corpus(two csv files)",
            lambda o: build_corpus([tmp / "a.csv", tmp / "b.csv"], tmp / "t3", **o),
        ),
    ]


def _outcome(build, options):
    try:
        return build(options), None
    except (ValueError, TypeError, KeyError) as exc:
        return None, exc


def check_all_equal(reference_build, builds, options):
    expected, refused = _outcome(reference_build, options)
    for name, build in builds:
        got, error = _outcome(build, options)
        if refused is not None:
            assert error is not None, (
                f"{name} built a corpus where the reference refused: {refused}"
            )
            assert type(error) is type(refused), (name, error, refused)
            continue
        assert error is None, f"{name} refused a log the reference reads: {error!r}"
        try:
            assert_same_corpus(got, expected)
        except AssertionError as exc:
            raise AssertionError(f"{name} differs from the reference: {exc}") from None


@SETTINGS
@given(log=logs())
def test_every_path_builds_the_same_corpus(tmp_path_factory, log):
    frame, options, _ = log
    tmp = tmp_path_factory.mktemp("log")
    try:
        check_all_equal(
            lambda o: Sequences.from_events(frame, **o), paths(frame, tmp, True), options
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _text_safe(frame) -> bool:
    """Text files hold times to the microsecond: logs with finer times are compared
    through the other paths only."""
    if "t" not in frame or frame["t"].dtype.kind != "M":
        return True
    ticks = frame["t"].dt.tz_localize(None) if frame["t"].dt.tz is not None else frame["t"]
    unit = np.datetime_data(ticks.to_numpy().dtype)[0]
    return unit != "ns" or bool((ticks.to_numpy().view(np.int64) % 1000 == 0).all())


@SETTINGS
@given(log=logs())
def test_text_files_build_the_corpus_of_their_table_as_read_from_text(tmp_path_factory, log):
    frame, options, _ = log
    if not _text_safe(frame):
        frame = frame.assign(t=frame["t"].dt.floor("us"))
    tmp = tmp_path_factory.mktemp("text")
    try:
        reference = as_read_from_text(frame)
        check_all_equal(
            lambda o: Sequences.from_events(reference, **o), text_paths(frame, tmp), options
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


SPARK_SETTINGS = settings(
    max_examples=max(EXAMPLES // 10, 3),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=EXAMPLES <= 30,
)


def _spark_frame(spark, frame):
    """The table as a Spark DataFrame with Spark's exact types: zone-less datetimes as
    TIMESTAMP_NTZ (wall clock), zoned ones as TIMESTAMP, microseconds at the finest."""
    from pyspark.sql import types as T

    fields, columns = [], {}
    for name in frame.columns:
        values = frame[name]
        if values.dtype.kind == "M" or isinstance(values.dtype, pd.DatetimeTZDtype):
            zoned = getattr(values.dt, "tz", None) is not None
            kind = T.TimestampType() if zoned else T.TimestampNTZType()
            columns[name] = [v.to_pydatetime() for v in values]
        elif values.dtype.kind == "i":
            kind, columns[name] = T.LongType(), [int(v) for v in values]
        elif values.dtype.kind == "f":
            kind, columns[name] = T.DoubleType(), [float(v) for v in values]
        else:
            kind, columns[name] = T.StringType(), [str(v) for v in values]
        fields.append(T.StructField(name, kind, False))
    rows = list(zip(*columns.values(), strict=True))
    return spark.createDataFrame(rows, T.StructType(fields)).coalesce(1)


@SPARK_SETTINGS
@given(log=logs())
def test_spark_builds_the_corpus_of_from_events(spark, tmp_path_factory, log):
    from item2vec import spark as i2v_spark

    frame, options, (user_kind, item_kind, time_kind) = log
    # Spark has no unsigned integers and holds times to the microsecond
    if "uint64" in (user_kind, item_kind) or time_kind in ("datetime_ns", "datetime_s_far"):
        frame = frame.drop(columns=["t"]) if time_kind else frame
        options = {k: v for k, v in options.items() if k not in ("time", "session_gap")}
        for column, kind in (("user", user_kind), ("item", item_kind)):
            if kind == "uint64":
                frame[column] = pd.Series([str(v) for v in frame[column]], dtype=object)
    for column, kind in (("user", user_kind), ("item", item_kind)):
        if kind == "categorical":  # Spark holds a categorical's values
            frame[column] = pd.Series(frame[column].astype(str).tolist(), dtype=object)
    tmp = tmp_path_factory.mktemp("spark")
    try:
        spark_frame = _spark_frame(spark, frame)
        check_all_equal(
            lambda o: Sequences.from_events(frame, **o),
            [("spark.build_corpus", lambda o: i2v_spark.build_corpus(spark_frame, tmp / "c", **o))],
            options,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

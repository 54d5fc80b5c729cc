"""Regression tests: a value is typed by one rule whoever reads it, and each event file
is read once, as named (one test per class of divergence between the readers)."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from corpus_checks import assert_same_corpus

from item2vec import Item2Vec, Sequences, build_corpus, read_events

pd = pytest.importorskip("pandas", reason="these tests build pandas tables")
pytest.importorskip("duckdb", reason="build_corpus needs DuckDB (pip install 'item2vec[duckdb]')")
pa = pytest.importorskip("pyarrow", reason="these tests write Arrow and Parquet")
import pyarrow.parquet as pq  # noqa: E402

IDS = {"user": "user", "item": "item"}


def _csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --- ids ------------------------------------------------------------------------------


def test_csv_integer_ids_are_integers_on_every_reader(tmp_path):
    path = _csv(tmp_path / "e.csv", "user,item\n10,1\n2,2\n1,1\n10,3\n2,1\n")
    expected = Sequences.from_events(pd.read_csv(path), **IDS)
    assert expected.users.tolist() == [1, 2, 10]  # by value, as pandas reads them
    for corpus in (read_events(path, **IDS), build_corpus(path, tmp_path / "c", **IDS)):
        assert_same_corpus(corpus, expected)
    # a model trained from the file answers the ids the user's DataFrame holds
    model = Item2Vec(vector_size=4, epochs=1, min_count=1, random_state=0)
    model.fit(read_events(path, **IDS))
    assert model.most_similar(1, topn=2)[0][0] in (2, 3)


@pytest.mark.parametrize(
    ("spellings", "expected"),
    [
        (["7", "007"], ["007", "7"]),  # a leading zero: the whole column stays text
        (["+5", "6"], ["+5", "6"]),  # a sign other than "-"
        (["5.0", "6"], ["5.0", "6"]),  # not an integer's spelling
        (["-3", "0", "12"], [-3, 0, 12]),
        (["18446744073709551615", "1"], [1, 2**64 - 1]),  # uint64 beyond int64
        (["18446744073709551616", "1"], ["1", "18446744073709551616"]),  # beyond uint64
        (["-1", "9223372036854775808"], ["-1", "9223372036854775808"]),  # no common type
    ],
)
def test_a_text_id_column_is_integers_only_when_every_id_spells_one(tmp_path, spellings, expected):
    lines = "".join(f"{s},x{k}\n" for k, s in enumerate(spellings))
    path = _csv(tmp_path / "e.csv", "user,item\n" + lines)
    for corpus in (read_events(path, **IDS), build_corpus(path, tmp_path / "c", **IDS)):
        assert corpus.users.tolist() == expected
        assert [type(u) for u in corpus.users.tolist()] == [type(e) for e in expected]


def test_the_id_rule_covers_the_whole_column_not_only_the_kept_events(tmp_path):
    # "007" is dropped by the weight filter, but it makes the column text all the same
    path = _csv(tmp_path / "e.csv", "user,item,w\n7,a,1\n007,b,0\n")
    options = {**IDS, "weight": "w", "min_weight": 1}
    assert read_events(path, **options).users.tolist() == ["7"]
    assert build_corpus(path, tmp_path / "c", **options).users.tolist() == ["7"]


def test_categorical_ids_order_by_value_on_every_path(tmp_path):
    events = pd.DataFrame({
        "user": pd.Categorical(["b", "a", "c", "a"], categories=["c", "b", "a"]),
        "item": pd.Categorical(["y", "x", "x", "y"], categories=["y", "x"]),
    })  # fmt: skip
    expected = Sequences.from_events(events, **IDS)
    assert expected.users.tolist() == ["a", "b", "c"]
    assert expected.vocabulary.items.tolist() == ["x", "y"]  # equal counts: by id
    assert_same_corpus(build_corpus(events, tmp_path / "c", **IDS), expected)


# --- weights and times ----------------------------------------------------------------


def _odd_id_tables():
    users = [1, 1, 2, 2]
    return {
        "Arrow list": (pa.table({"user": users, "item": pa.array([[1], [2], [1], [3]])}),
                       "item", "list<item: int64>"),
        "Arrow struct": (pa.table({"user": users, "item": pa.array([{"a": 1}, {"a": 2}] * 2)}),
                         "item", "struct<a: int64>"),
        "Arrow bool": (pa.table({"user": users, "item": [True, False, True, False]}),
                       "item", "bool"),
        "pandas bool": (pd.DataFrame({"user": users, "item": [True, False, True, True]}),
                        "item", "bool"),
        "numpy bool users": ({"user": np.array([True, True, False, False]),
                              "item": np.array([1, 2, 3, 4])}, "user", "bool"),
        "pandas lists": (pd.DataFrame({"user": users, "item": [[1], [2], [1], [3]]}), "item",
                         "list"),
        "lists of lists": ({"user": users, "item": [[1], [2], [1], [3]]}, "item", "list"),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(_odd_id_tables()))
def test_ids_that_are_neither_str_nor_int_are_refused_alike_by_every_reader(tmp_path, case):
    # a bool equals the int 1 or 0 and would merge with it; containers have no order (or
    # no hash): refused on reading, naming the column and the type, not by a raw Arrow
    # error or at save time
    table, column, kind = _odd_id_tables()[case]
    expected = rf"column '{column}' holds ids of type [^;]*{kind}[^;]*; ids must be str or int"
    with pytest.raises(TypeError, match=expected):
        Sequences.from_events(table, **IDS)
    with pytest.raises(TypeError, match=rf"column '{column}' holds ids of type"):
        build_corpus(table, tmp_path / "c", **IDS)
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("first", ["int", "bool"])
@pytest.mark.parametrize("shape", ["list", "object array", "pandas"])
def test_a_bool_among_int_ids_is_refused_whichever_comes_first(tmp_path, first, shape):
    # True hashes and compares as 1: hashed before the type rule, [1, True] became one id
    # while [True, 1] was refused
    items = [1, True, 2, 1] if first == "int" else [True, 1, 2, 1]
    table = {"user": [1, 1, 2, 2], "item": items}
    if shape == "object array":
        table["item"] = np.array(items, dtype=object)
    elif shape == "pandas":
        table = pd.DataFrame(table)
    expected = r"^column 'item' holds ids of type bool; ids must be str or int$"
    with pytest.raises(TypeError, match=expected):
        Sequences.from_events(table, **IDS)
    if shape == "pandas":
        with pytest.raises(TypeError, match=r"column 'item' holds ids of type"):
            build_corpus(table, tmp_path / "c", **IDS)
        assert not (tmp_path / "c").exists()


def _float_id_sources(tmp_path):
    users, items = [1, 1, 2, 2], [0.5, 2.0, 0.5, 3.25]
    frame = pd.DataFrame({"user": users, "item": items})
    path = tmp_path / "e.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path)
    return {"pandas": frame, "Arrow": pa.Table.from_pandas(frame), "Parquet": path}


@pytest.mark.parametrize("source", ["pandas", "Arrow", "Parquet"])
def test_float_ids_train_in_memory_and_are_refused_early_by_a_file_corpus(tmp_path, source):
    # in memory, float ids are numbers like any other; a corpus file holds only str and
    # int ids, so the DuckDB path refuses them on reading, naming the column, not at save
    table = _float_id_sources(tmp_path)[source]
    read = read_events if source == "Parquet" else Sequences.from_events
    corpus = read(table, **IDS)
    assert corpus.to_lists() == [[0.5, 2.0], [0.5, 3.25]]
    expected = (
        r"^column 'item' holds ids of type double; ids must be str or int in a corpus on disk "
    )
    with pytest.raises(TypeError, match=expected):
        build_corpus(table, tmp_path / "c", **IDS)
    assert not (tmp_path / "c").exists()


def test_a_late_fractional_weight_in_a_csv_is_not_rounded(tmp_path):
    # past DuckDB's sniffing sample (20,480 rows) every weight before it is integral
    n = 30_000
    lines = [f"u{k % 50},i{k % 7},{1 + k % 3}\n" for k in range(n)] + ["u1,i1,0.5\n"]
    path = _csv(tmp_path / "e.csv", "user,item,w\n" + "".join(lines))
    built = build_corpus(path, tmp_path / "c", weight="w", **IDS)
    assert_same_corpus(built, read_events(path, weight="w", **IDS))
    assert 0.5 in built.weights.tolist()


def test_a_late_fractional_time_in_a_csv_is_not_rounded(tmp_path):
    n = 30_000
    lines = [f"u,i{k % 7},{2 * k}\n" for k in range(n)] + ["u,late,0.5\n"]
    path = _csv(tmp_path / "e.csv", "user,item,t\n" + "".join(lines))
    built = build_corpus(path, tmp_path / "c", time="t", **IDS)
    assert_same_corpus(built, read_events(path, time="t", **IDS))
    # 0.5 orders between the times 0 and 2: the second event of the sequence
    assert built[0][1] == "late"


def test_nanosecond_times_order_exactly_on_every_path(tmp_path):
    # three events one nanosecond apart, listed latest first
    base = 1_700_000_000_000_000_000
    events = pd.DataFrame({
        "user": [1, 1, 1], "item": ["c", "b", "a"],
        "t": pd.to_datetime([base + 2, base + 1, base], unit="ns"),
    })  # fmt: skip
    expected = Sequences.from_events(events, time="t", **IDS)
    assert expected.to_lists() == [["a", "b", "c"]]
    assert_same_corpus(build_corpus(events, tmp_path / "c", time="t", **IDS), expected)
    pq.write_table(pa.Table.from_pandas(events), tmp_path / "e.parquet")
    assert_same_corpus(build_corpus(tmp_path / "e.parquet", tmp_path / "d", time="t", **IDS),
                       expected)  # fmt: skip


def test_integer_nanosecond_gaps_are_exact(tmp_path):
    # gaps of 1,000 and 1,001 ns at 1.7e18: as float64 both are 1024 (256-ns steps)
    base = 1_700_000_000_000_000_000
    times = np.array([base, base + 1000, base + 2001], dtype=np.int64)
    events = pd.DataFrame({"user": [1] * 3, "item": ["a", "b", "c"], "t": times})
    options = {"time": "t", "session_gap": 1000, **IDS}
    expected = Sequences.from_events(events, **options)
    assert expected.to_lists() == [["a", "b"], ["c"]]
    assert_same_corpus(build_corpus(events, tmp_path / "c", **options), expected)


def test_second_timestamps_after_2262_are_kept(tmp_path):
    seconds = np.array([10_000_000_000, 10_000_000_090, 10_000_000_030], dtype=np.int64)
    events = pd.DataFrame({"user": [1, 1, 1], "item": ["a", "b", "c"],
                           "t": pd.Series(seconds.astype("datetime64[s]"))})  # fmt: skip
    options = {"time": "t", "session_gap": 45, **IDS}
    expected = Sequences.from_events(events, **options)
    assert expected.to_lists() == [["a", "c"], ["b"]]  # gaps of 30 s and 60 s
    assert expected.times.tolist() == [1e10, 1e10 + 30, 1e10 + 90]
    assert_same_corpus(build_corpus(events, tmp_path / "c", **options), expected)


def test_the_same_instant_gives_the_same_seconds_in_every_unit():
    instant = np.datetime64("2023-11-14T22:13:20.123456", "us")
    seconds = [
        Sequences.from_events({"u": [1], "i": [1], "t": np.array([instant]).astype(unit)},
                              user="u", item="i", time="t").times[0]
        for unit in ("datetime64[us]", "datetime64[ns]")
    ]  # fmt: skip
    assert seconds[0] == seconds[1] == 1_700_000_000 + 0.123456


# --- sources ----------------------------------------------------------------------------


def _parquet(path, users, items):
    pq.write_table(pa.table({"user": users, "item": items}), path)
    return path


def test_each_event_file_is_read_once_in_the_order_given(tmp_path):
    a = _parquet(tmp_path / "a.parquet", [1, 1], ["x", "y"])
    b = _parquet(tmp_path / "b.parquet", [1], ["z"])
    expected = build_corpus([b, a], tmp_path / "ref", **IDS)
    assert expected.to_lists() == [["z", "x", "y"]]
    # named twice, or by a glob and by name: each file once, at its first place
    assert_same_corpus(build_corpus([b, a, b], tmp_path / "c1", **IDS), expected)
    assert_same_corpus(build_corpus([b, str(tmp_path / "*.parquet")], tmp_path / "c2", **IDS),
                       expected)  # fmt: skip


def test_a_file_name_with_glob_characters_is_that_file(tmp_path):
    named = _parquet(tmp_path / "a[1].parquet", [1], ["right"])
    _parquet(tmp_path / "a1.parquet", [1], ["wrong"])  # what "a[1].parquet" matches as a glob
    assert build_corpus(named, tmp_path / "c", **IDS).to_lists() == [["right"]]
    # and a pattern that matches it reads it once, as itself
    matched = build_corpus(str(tmp_path / "a?1?.parquet"), tmp_path / "d", **IDS)
    assert matched.to_lists() == [["right"]]


def test_an_infinite_min_weight_keeps_only_infinite_weights_and_so_refuses(tmp_path):
    events = pd.DataFrame({"user": [1, 1], "item": ["a", "b"], "w": [1.0, 2.0]})
    options = {"weight": "w", "min_weight": float("inf"), **IDS}
    for build in (lambda: Sequences.from_events(events, **options),
                  lambda: build_corpus(events, tmp_path / "c", **options)):  # fmt: skip
        with pytest.raises(ValueError, match="no sequence is left"):
            build()
    with pytest.raises(ValueError, match="min_weight must be a number"):
        Sequences.from_events(events, **{**options, "min_weight": float("nan")})


def test_a_csv_without_the_item_column_raises_key_error(tmp_path):
    path = _csv(tmp_path / "e.csv", "user,product\n1,a\n")
    with pytest.raises(KeyError, match="'item' not found"):
        build_corpus(path, tmp_path / "c", **IDS)
    with pytest.raises(KeyError, match="'item' not found"):
        read_events(path, **IDS)


def test_spark_reads_zone_less_times_as_wall_clock_whatever_the_session_zone(spark, tmp_path):
    from pyspark.sql import types as T

    from item2vec import spark as i2v_spark

    # 01:30 and 03:30 on the night New York moves its clocks forward: two hours apart on
    # the wall clock, one hour apart as instants there
    rows = [(1, "a", datetime.datetime(2021, 3, 14, 1, 30)),
            (1, "b", datetime.datetime(2021, 3, 14, 3, 30))]  # fmt: skip
    schema = T.StructType([T.StructField("user", T.LongType()),
                           T.StructField("item", T.StringType()),
                           T.StructField("t", T.TimestampNTZType())])  # fmt: skip
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        frame = spark.createDataFrame(rows, schema)
        built = i2v_spark.build_corpus(frame, tmp_path / "c", time="t", session_gap=5400, **IDS)
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    expected = Sequences.from_events(
        pd.DataFrame(rows, columns=["user", "item", "t"]), time="t", session_gap=5400, **IDS
    )
    assert expected.to_lists() == [["a"], ["b"]]  # 7,200 s apart > 5,400
    assert_same_corpus(built, expected)

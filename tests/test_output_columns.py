"""Every table the package writes, column by column: names and their order, types,
ranks numbered from 1 in order, ids, and scores equal to a NumPy reference.

Tables: ``spark.recommend`` and ``spark.similar_items``, ``export_similar_items``
(CSV and Parquet), the command line's ``similar``, ``recommend`` and ``export``, and
``TuneResult.table()``. References are computed here from the vectors alone.
"""

import csv
import math

import numpy as np
import pytest
from corpus_checks import similarity_rows

from item2vec import Item2Vec
from item2vec.cli import main
from item2vec.tuning import Trial, TuneResult
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

STR_ITEMS = list("abcdefghijklm")  # 13 items
INT_ITEMS = [7, 3, 100, 42, 5, 8, 11, 64, 2, 90, 13, 21, 55]
COUNTS = [50, 41, 33, 27, 22, 18, 15, 12, 10, 8, 6, 4, 2]
QUERY = {"last_n": 4, "half_life": 2.0, "time_half_life": None, "popularity": 0.3}


def vector_model(items, seed=0):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(items), 5)).astype(np.float32)
    output = rng.normal(size=(len(items), 5)).astype(np.float32)
    model = Item2Vec(vector_size=5, **QUERY)
    model.item_vectors_ = ItemVectors(Vocabulary(items, COUNTS), vectors, output)
    return model


def neighbours(model, topn):
    """Each item's nearest others (ties to the lower index): (ids, scores) rows. Scores are
    the products of the item's unit input vector with the unit rows of the model's
    similarity: input vectors ("input"), or input + output vectors ("inout")."""
    unit, rows_of = similarity_rows(model)
    cosines = unit @ rows_of.T
    items = list(model.items_)
    k = min(topn, len(items) - 1)
    rows = []
    for code in range(len(items)):
        scores = cosines[code].copy()
        scores[code] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        rows.append(([items[i] for i in order], scores[order]))
    return rows


def recommendations(model, history, topn, options=QUERY):
    """Ranked ids and scores after one history (unknown ids skipped), from the definitions:
    recency weights over the last ``last_n`` events, output vectors, the log-count prior."""
    items = list(model.items_)
    codes = [items.index(x) if x in items else -1 for x in history]
    length = len(codes)
    start = 0 if options["last_n"] is None else max(0, length - options["last_n"])
    weights = np.zeros(len(items))
    for j in range(start, length):
        if codes[j] >= 0:
            half_life = options["half_life"]
            weights[codes[j]] += 1.0 if half_life is None else 0.5 ** ((length - 1 - j) / half_life)
    if not weights.any():
        return [], np.zeros(0)
    weights /= weights.sum()
    vectors = model.vectors_.astype(np.float64)
    output = model.output_vectors_.astype(np.float64)
    scores = (weights @ vectors) @ output.T + options["popularity"] * np.log(COUNTS)
    scores[[c for c in codes if c >= 0]] = -np.inf
    order = [int(i) for i in np.argsort(-scores, kind="stable")[:topn] if np.isfinite(scores[i])]
    return [items[i] for i in order], scores[order]


def similar_rows(model, topn):
    """The similar-items table as (item, rank, neighbor, score) rows, item by item."""
    return [
        (item, rank, neighbor, score)
        for item, (ids, scores) in zip(model.items_.tolist(), neighbours(model, topn), strict=True)
        for rank, (neighbor, score) in enumerate(zip(ids, scores, strict=True), start=1)
    ]


def assert_rows(got, expected):
    """Rows equal column by column; scores within float32 precision."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert tuple(g[:-1]) == tuple(e[:-1]), (g, e)
        assert g[-1] == pytest.approx(e[-1], rel=1e-5, abs=1e-6), (g, e)


# --- export_similar_items ---------------------------------------------------------------


@pytest.mark.parametrize("items", [STR_ITEMS, INT_ITEMS], ids=["str", "int"])
@pytest.mark.parametrize("topn", [3, 12, 40])
def test_exported_csv_holds_every_items_neighbours_ranked_from_one(tmp_path, items, topn):
    model = vector_model(items)
    path = tmp_path / "similar.csv"
    # blocks of 4 items: 13 items end in a block of one
    written = model.export_similar_items(path, topn=topn, block=4)
    expected = similar_rows(model, topn)
    assert written == len(expected) == 13 * min(topn, 12)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["item", "rank", "neighbor", "score"]
        rows = list(reader)
    convert = str if items is STR_ITEMS else int
    got = [(convert(i), int(r), convert(n), float(s)) for i, r, n, s in rows]
    assert_rows(got, expected)


@pytest.mark.parametrize("items", [STR_ITEMS, INT_ITEMS], ids=["str", "int"])
def test_exported_parquet_has_typed_columns_in_order(tmp_path, items):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    model = vector_model(items)
    path = tmp_path / "similar.parquet"
    model.export_similar_items(path, topn=5, block=4)
    table = pq.read_table(path)
    id_type = pa.string() if items is STR_ITEMS else pa.int64()
    assert table.schema.names == ["item", "rank", "neighbor", "score"]
    assert [field.type for field in table.schema] == [id_type, pa.int64(), id_type, pa.float32()]
    got = list(zip(*(table.column(n).to_pylist() for n in table.schema.names), strict=True))
    assert_rows(got, similar_rows(model, 5))


# --- Spark: recommend and similar_items -------------------------------------------------


SPARK_HISTORIES = {
    10: ["a", "b", "c"],
    11: ["m", "zz", "l", "k", "j", "i", "h", "g", "f", "e", "d"],  # 10 seen, last_n keeps 4
    12: ["zz"],  # no known item: no rows
    13: ["e"],
}


@pytest.mark.parametrize("items", [STR_ITEMS, INT_ITEMS], ids=["str", "int"])
def test_spark_recommend_columns_ranks_ids_and_scores(spark, items):
    pytest.importorskip("pandas")
    from item2vec import spark as i2v_spark

    model = vector_model(items)
    rename = dict(zip(STR_ITEMS, items, strict=True))
    histories = {u: [rename.get(x, -1 if items is INT_ITEMS else x) for x in h]
                 for u, h in SPARK_HISTORIES.items()}  # fmt: skip
    rows = [
        (str(user) if items is INT_ITEMS else user, item, float(t))
        for user, history in histories.items()
        for t, item in enumerate(history)
    ]
    user_type = "string" if items is INT_ITEMS else "bigint"
    item_type = "bigint" if items is INT_ITEMS else "string"
    events = spark.createDataFrame(rows, f"user {user_type}, item {item_type}, t double")
    frame = i2v_spark.recommend(model, events, user="user", item="item", time="t", topn=5)
    assert frame.columns == ["user", "rank", "item", "score"]
    assert [f.dataType.simpleString() for f in frame.schema.fields] == [
        user_type, "int", item_type, "float",
    ]  # fmt: skip
    got = sorted((tuple(r) for r in frame.collect()), key=lambda r: (str(r[0]), r[1]))
    expected = []
    for user, history in histories.items():
        ids, scores = recommendations(model, history, 5)
        key = str(user) if items is INT_ITEMS else user
        ranked = enumerate(zip(ids, scores, strict=True), start=1)
        expected += [(key, rank, i, s) for rank, (i, s) in ranked]
    expected.sort(key=lambda r: (str(r[0]), r[1]))
    # user 11 saw all but three items: three rows; user 12 knows no item: none
    per_user = [r[0] for r in expected]
    assert [per_user.count(u) for u in ((10, 11, 12, 13) if items is STR_ITEMS else
                                        ("10", "11", "12", "13"))] == [5, 3, 0, 5]  # fmt: skip
    assert_rows(got, expected)


def test_spark_similar_items_columns_ranks_ids_and_scores(spark):
    pytest.importorskip("pandas")
    from item2vec import spark as i2v_spark

    model = vector_model(STR_ITEMS)
    for topn in (3, 20):  # 20: capped at the 12 other items
        frame = i2v_spark.similar_items(model, topn=topn, spark=spark, block=4)
        assert frame.columns == ["item", "rank", "neighbor", "score"]
        assert [f.dataType.simpleString() for f in frame.schema.fields] == [
            "string", "int", "string", "float",
        ]  # fmt: skip
        order = {item: n for n, item in enumerate(STR_ITEMS)}
        got = sorted((tuple(r) for r in frame.collect()), key=lambda r: (order[r[0]], r[1]))
        assert_rows(got, similar_rows(model, topn))


# --- the command line's tables ----------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    model = vector_model(STR_ITEMS)
    path = tmp_path / "model.npz"
    model.save(path)
    return model, str(path)


def _lines(text):
    return [line.split("\t") for line in text.strip().splitlines()]


@pytest.mark.parametrize("item", ["a", "f", "m"])
def test_cli_similar_prints_the_neighbours_in_order_with_their_cosines(saved, capsys, item):
    model, path = saved
    assert main(["similar", path, item, "-k", "4"]) == 0
    got = _lines(capsys.readouterr().out)
    ids, scores = neighbours(model, 4)[STR_ITEMS.index(item)]
    assert [i for i, _ in got] == ids
    np.testing.assert_allclose([float(s) for _, s in got], scores, atol=5.1e-5)
    assert all(len(s.split(".")[1]) == 4 for _, s in got)


@pytest.mark.parametrize("history", ["a,b,c", "m,zz,l,k,j,i,h", "e"])
def test_cli_recommend_prints_the_models_ranking_with_its_scores(saved, capsys, history):
    model, path = saved
    assert main(["recommend", path, "--history", history, "-k", "6"]) == 0
    got = _lines(capsys.readouterr().out)
    ids, scores = recommendations(model, history.split(","), 6)
    assert [i for i, _ in got] == ids
    np.testing.assert_allclose([float(s) for _, s in got], scores, atol=5.1e-5)
    assert all(len(s.split(".")[1]) == 4 for _, s in got)


@pytest.mark.parametrize("fmt", ["similar-csv", "similar-parquet"])
def test_cli_export_writes_the_similar_items_table(saved, tmp_path, capsys, fmt):
    model, path = saved
    out = tmp_path / ("table.csv" if fmt == "similar-csv" else "table.parquet")
    assert main(["export", path, "--format", fmt, "-o", str(out), "-k", "3"]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    if fmt == "similar-csv":
        with open(out, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["item", "rank", "neighbor", "score"]
        got = [(i, int(r), n, float(s)) for i, r, n, s in rows[1:]]
    else:
        pq = pytest.importorskip("pyarrow.parquet")
        table = pq.read_table(out)
        assert table.schema.names == ["item", "rank", "neighbor", "score"]
        got = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
    assert_rows(got, similar_rows(model, 3))


# --- TuneResult.table() ---------------------------------------------------------------


def _result():
    trials = [
        Trial(0, {"window": 5, "alpha": 0.025},
              {"half_life": 1.0, "popularity": 0.2, "time_half_life": None},
              {"hr": 0.25, "ndcg": 0.1234567, "mrr": 0.1}, 0.1234567, 1.26,
              std_error=0.01, gain=0.0, gain_std_error=0.0),
        Trial(1, {"window": 12, "alpha": 0.0123456},
              {"half_life": None, "popularity": 0.0, "time_half_life": None},
              {"hr": 0.3, "ndcg": 0.2, "mrr": 0.15}, 0.2, 10.04,
              std_error=0.01234, gain=0.0765433, gain_std_error=0.00456,
              confirmed_gain=0.0512345, confirmed_gain_std_error=0.004),
        Trial(2, {"window": 3, "negative": 7}, {},
              dict.fromkeys(("hr", "ndcg", "mrr"), math.nan), -math.inf, 0.5,
              error="training diverged"),
        Trial(3, {"window": 2, "alpha": 0.05}, {"half_life": 20.0, "popularity": 0.0,
              "time_half_life": 3600.0}, {"hr": 0.125, "ndcg": 0.05, "mrr": 0.02}, 0.05, 2.0,
              std_error=0.005, gain=-0.0734567, gain_std_error=0.006),
        Trial(4, {"window": 9, "alpha": 0.1}, {"half_life": 1.0, "popularity": 0.2,
              "time_half_life": None}, {"hr": 0.0625, "ndcg": 0.03, "mrr": 0.01}, -math.inf,
              0.25, error="stopped after 3 of 12 epochs (ndcg 0.0300)", stopped=True),
    ]  # fmt: skip
    model = vector_model(STR_ITEMS)
    return TuneResult(model, trials[1].params, trials[1].query, 0.2, "ndcg@10", trials, 14.0)


def test_tune_table_lists_the_trials_best_first_with_every_column():
    # worked by hand: columns #, the metric, its standard error, the gain over the
    # defaults and its standard error, hr, seconds, the gain on the confirmation half
    # ("-" for the trials not put to it), the parameters by name, the query
    # options that are on (or "-", or the failure, or why it stopped); cells
    # right-aligned, two spaces apart
    expected = [
        "#  ndcg@10       ±     gain       ±      hr     s  confirmed    alpha  negative  window  "
        "query",
        "1   0.2000  0.0123  +0.0765  0.0046  0.3000  10.0    +0.0512  0.01235      None      12  "
        "-",
        "0   0.1235  0.0100  +0.0000  0.0000  0.2500   1.3          -    0.025      None       5  "
        "half_life=1 popularity=0.2",
        "3   0.0500  0.0050  -0.0735  0.0060  0.1250   2.0          -     0.05      None       2  "
        "half_life=20 time_half_life=3600",
        "2     -inf     nan     +nan     nan     nan   0.5          -     None         7       3  "
        "failed: training diverged",
        "4     -inf     nan     +nan     nan  0.0625   0.2          -      0.1      None       9  "
        "stopped after 3 of 12 epochs (ndcg 0.0300)",
    ]
    assert _result().table().splitlines() == expected
    assert _result().table(limit=2).splitlines() == [
        "#  ndcg@10       ±     gain       ±      hr     s  confirmed    alpha  window  query",
        "1   0.2000  0.0123  +0.0765  0.0046  0.3000  10.0    +0.0512  0.01235      12  -",
        "0   0.1235  0.0100  +0.0000  0.0000  0.2500   1.3          -    0.025       5  "
        "half_life=1 popularity=0.2",
    ]

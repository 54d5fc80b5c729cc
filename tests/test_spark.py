"""item2vec.spark on a local Spark (local[2]): the same corpus and recommendations as in memory."""

import numpy as np
import pytest
from corpus_checks import assert_same_corpus

from item2vec import Item2Vec, Sequences

pd = pytest.importorskip("pandas")
pytest.importorskip("pyspark")

from item2vec import spark as i2v_spark  # noqa: E402


def _events(n=2500, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    names = np.array([f"sku-{k}" for k in range(90)])
    return pd.DataFrame({
        "user": np.array([f"u{k}" for k in range(120)])[rng.integers(0, 120, n)],
        "item": names[np.minimum(rng.zipf(1.5, n) - 1, 89)],
        "t": rng.integers(0, 40, n) if ties else rng.permutation(n) * 7,
        "rating": rng.integers(0, 6, n).astype(np.float64),
    })  # fmt: skip


def _frame(spark, events, partitions=4):
    """The events over several partitions, each a run of rows in the table's order."""
    rows = events.assign(row=np.arange(len(events)))
    frame = spark.createDataFrame(rows).repartitionByRange(partitions, "row")
    return frame.sortWithinPartitions("row").drop("row")


ALL = dict(user="user", item="item", time="t", weight="rating", min_weight=2,
           session_gap=5, min_length=2)  # fmt: skip
OPTIONS = [dict(user="user", item="item", time="t"), ALL]


@pytest.mark.parametrize("min_count", [1, 3])
@pytest.mark.parametrize("options", OPTIONS, ids=["time", "everything"])
def test_build_corpus_equals_from_events(spark, tmp_path, options, min_count):
    events = _events()
    frame = _frame(spark, events)
    assert frame.rdd.getNumPartitions() == 4
    built = i2v_spark.build_corpus(frame, tmp_path / "c", min_count=min_count, **options)
    expected = Sequences.from_events(events, **options).pruned(min_count)
    assert_same_corpus(built, expected)
    assert_same_corpus(Sequences.open(tmp_path / "c"), expected)


def test_integer_ids_and_datetimes(spark, tmp_path):
    events = _events(ties=False)
    events["user"] = events["user"].str[1:].astype(np.int64)
    events["t"] = pd.Timestamp("2024-05-01") + pd.to_timedelta(events["t"], unit="s")
    options = dict(ALL, session_gap=40.0)
    built = i2v_spark.build_corpus(_frame(spark, events), tmp_path / "c", partitions=2, **options)
    assert_same_corpus(built, Sequences.from_events(events, **options))


@pytest.mark.parametrize(
    ("names", "zoned"),
    [
        ({"t": "event time"}, False),
        ({"t": "event.time"}, False),
        ({"t": "event`time"}, False),
        ({"user": "user.id", "item": "item id", "t": "at.time", "rating": "rating.x"}, True),
    ],
    ids=["space", "dot", "backtick", "every column, zoned"],
)  # fmt: skip
def test_columns_whose_names_need_quoting(spark, tmp_path, names, zoned):
    # Spark reads "a.b" as the field b of the column a, and wall-clock datetimes
    # (TIMESTAMP_NTZ) through a SQL expression: each name must be quoted whole, a backtick
    # in it doubled
    from pyspark.sql import types as T

    events = _events(n=300, ties=False)
    events["t"] = pd.Timestamp("2024-05-01 23:30") + pd.to_timedelta(events["t"], unit="s")
    if zoned:
        events["t"] = events["t"].dt.tz_localize("UTC")
    events = events.rename(columns=names)
    kinds = [T.StringType(), T.StringType(), T.TimestampType() if zoned else T.TimestampNTZType(),
             T.DoubleType()]  # fmt: skip
    schema = T.StructType([T.StructField(c, k) for c, k in zip(events.columns, kinds, strict=True)])
    frame = spark.createDataFrame(events, schema=schema).coalesce(1)
    # sessions cut at gaps over 40 s: the times, not only their order, must come through
    user, item, time, weight = events.columns
    options = dict(user=user, item=item, time=time, weight=weight, min_weight=1,
                   session_gap=40.0)  # fmt: skip
    built = i2v_spark.build_corpus(frame, tmp_path / "c", **options)
    assert_same_corpus(built, Sequences.from_events(events, **options))


@pytest.mark.parametrize("options", OPTIONS, ids=["time", "everything"])
def test_build_corpus_reads_its_source_three_times(spark, tmp_path, options):
    # every read of a partition of the source leaves a file: one job checks the events
    # and finds the items, the range partitioner samples the users, the sort writes the
    # shards (the checks and the items were two jobs before, the items sorted by a third)
    events = _events()
    reads = tmp_path / "reads"
    reads.mkdir()
    folder = str(reads)

    def source(batches):  # nested, so that it is shipped by value to the Python workers
        import uuid
        from pathlib import Path

        (Path(folder) / uuid.uuid4().hex).touch()
        for batch in batches:
            yield events.iloc[batch["id"].to_numpy()].reset_index(drop=True)

    schema = "user string, item string, t long, rating double"
    frame = spark.range(0, len(events), numPartitions=3).mapInPandas(source, schema=schema)
    built = i2v_spark.build_corpus(frame, tmp_path / "c", **options)
    assert len(list(reads.iterdir())) == 3 * 3  # three jobs, three partitions each
    assert_same_corpus(built, Sequences.from_events(events, **options))


@pytest.fixture(scope="module")
def model_and_events():
    events = _events(n=4000, ties=False)
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    model = Item2Vec(vector_size=8, epochs=3, sample=0, n_jobs=1, random_state=0).fit(corpus)
    return model, events, corpus


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"half_life": 2.0, "popularity": 0.1},
        {"time_half_life": 50.0},
        {"exclude_seen": False, "last_n": 3},
    ],
)
def test_recommend_equals_recommend_batch(spark, tmp_path, model_and_events, options):
    model, events, corpus = model_and_events
    model.save(tmp_path / "m.npz")
    frame = _frame(spark, events)
    got = i2v_spark.recommend(str(tmp_path / "m.npz"), frame, user="user", item="item", time="t",
                              topn=5, **options).toPandas()  # fmt: skip
    ids, scores = model.recommend_batch(corpus, topn=5, **options)
    expected = [(u, r + 1, ids[row, r]) for row, u in enumerate(corpus.users.tolist())
                for r in range(5) if np.isfinite(scores[row, r])]  # fmt: skip
    got = got.sort_values(["user", "rank"])
    assert list(zip(got.user, got["rank"], got.item, strict=True)) == expected
    exp_scores = [scores[row, r] for row in range(len(corpus)) for r in range(5)
                  if np.isfinite(scores[row, r])]  # fmt: skip
    np.testing.assert_allclose(got.score.to_numpy(), exp_scores, rtol=1e-5, atol=1e-6)


def test_recommend_ships_a_fitted_model(spark, model_and_events):
    model, events, corpus = model_and_events
    got = i2v_spark.recommend(model, _frame(spark, events), user="user", item="item", time="t",
                              topn=3).toPandas().sort_values(["user", "rank"])  # fmt: skip
    ids, _ = model.recommend_batch(corpus, topn=3)
    assert got.groupby("user").item.apply(list).to_dict() == {
        u: ids[row].tolist() for row, u in enumerate(corpus.users.tolist())
    }


def test_similar_items_equals_the_model(spark, model_and_events):
    model = model_and_events[0]
    got = i2v_spark.similar_items(model, topn=4, spark=spark, block=7).toPandas()
    got = got.sort_values(["item", "rank"])
    for item, rows in got.groupby("item"):
        expected = model.most_similar(item, topn=4)
        assert rows.neighbor.tolist() == [n for n, _ in expected]
        np.testing.assert_allclose(rows.score, [s for _, s in expected], rtol=1e-5, atol=1e-6)
    assert set(got.item) == set(model.items_.tolist())


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda e: e.rename(columns={"item": "sku"}), KeyError, "column 'item' not found"),
        (lambda e: e.assign(item=e.item.where(e.index != 3, None)), ValueError,
         "column 'item' holds missing ids"),
        (lambda e: e.assign(rating=-e.rating - 1), ValueError, "holds negative values"),
        (lambda e: e.assign(item=np.arange(len(e)) + 0.5), TypeError,
         r"column 'item' holds ids of type double; ids must be str or int in a corpus on disk"),
        (lambda e: e.assign(user=np.arange(len(e)) % 2 == 0), TypeError,
         r"column 'user' holds ids of type boolean; ids must be str or int$"),
    ],
    ids=["missing column", "null id", "negative weight", "float ids", "bool ids"],
)  # fmt: skip
def test_bad_input_is_refused_and_leaves_nothing(spark, tmp_path, change, error, message):
    frame = spark.createDataFrame(change(_events(n=200)))
    with pytest.raises(error, match=message):
        i2v_spark.build_corpus(frame, tmp_path / "c", user="user", item="item", weight="rating")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_model_file_is_named(spark, tmp_path):
    frame = spark.createDataFrame(_events(n=50))
    with pytest.raises(FileNotFoundError, match="no such model file"):
        i2v_spark.recommend(str(tmp_path / "none.npz"), frame, user="user", item="item")


@pytest.mark.parametrize("topn", [0, -3])
def test_recommend_refuses_a_topn_below_one_naming_it(spark, model_and_events, topn):
    model, events, _ = model_and_events
    with pytest.raises(ValueError, match=r"^topn must be"):
        i2v_spark.recommend(model, _frame(spark, events), user="user", item="item", topn=topn)


def test_two_model_files_of_the_same_name_are_kept_apart(spark, tmp_path, model_and_events):
    _, events, corpus = model_and_events
    frame = _frame(spark, events)
    for seed in (1, 2):
        model = Item2Vec(vector_size=8, epochs=2, sample=0, n_jobs=1, random_state=seed)
        model.fit(corpus)
        (tmp_path / str(seed)).mkdir()
        model.save(tmp_path / str(seed) / "model.npz")
        got = i2v_spark.recommend(str(tmp_path / str(seed) / "model.npz"), frame, user="user",
                                  item="item", time="t", topn=3).toPandas()  # fmt: skip
        got = got.sort_values(["user", "rank"]).groupby("user").item.apply(list).to_dict()
        ids, _ = model.recommend_batch(corpus, topn=3)
        assert got == {u: ids[row].tolist() for row, u in enumerate(corpus.users.tolist())}


def test_a_retried_task_writes_a_shard_of_its_own(tmp_path):
    # a failed attempt leaves its folder behind; the next attempt must not trip on it
    batch = pd.DataFrame({"u": ["a", "a", "b"], "pid": [0, 1, 0], "t": [1.0, 2.0, 3.0],
                          "w": [np.nan] * 3})  # fmt: skip
    first = i2v_spark.write_shard(tmp_path, 3, 0, iter([batch]), "float", False, None, 1)
    second = i2v_spark.write_shard(tmp_path, 3, 1, iter([batch]), "float", False, None, 1)
    assert first.folder != second.folder
    assert second.n_tokens == 3 and second.n_sequences == 2

"""Errors that surface early and clearly, and one policy for unknown ids on every query."""

import json
import re
import warnings

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences
from item2vec.baselines import ItemKNN
from item2vec.neighbors import UnknownItemsWarning

FAST = dict(vector_size=4, epochs=2, sample=0, n_jobs=1, random_state=0)


def exactly(message):
    """A ``match`` pattern for the whole message and nothing else."""
    return "^" + re.escape(message) + "$"


@pytest.fixture(scope="module")
def fitted():
    return Item2Vec(**FAST).fit([["a", "b", "c"], ["b", "c", "d"], ["a", "d"]] * 5)


# --- parameters: set_params, save and load apply the same rules ----------------------


def test_set_params_refuses_what_load_refuses_and_changes_nothing(fitted, tmp_path):
    model = Item2Vec(**FAST).fit([["a", "b"]] * 3)
    with pytest.raises(ValueError, match=exactly("half_life must be > 0.0, got -2")):
        model.set_params(half_life=-2)
    assert model.half_life == 1.0
    # the values are checked together: one bad value leaves the good ones unset too
    with pytest.raises(ValueError, match=r"^min_alpha must be <= alpha"):
        model.set_params(window=3, alpha=1e-5)
    assert (model.window, model.alpha) == (5, 0.025)
    # both at once is fine, as fit would accept it
    model.set_params(alpha=1e-5, min_alpha=0.0)
    assert (model.alpha, model.min_alpha) == (1e-5, 0.0)


def test_baseline_set_params_checks_its_own_rules():
    with pytest.raises(ValueError, match=exactly("neighbors must be an int >= 1, got 0")):
        ItemKNN().set_params(neighbors=0)


def test_save_refuses_a_parameter_that_load_would_refuse(tmp_path):
    model = Item2Vec(**FAST).fit([["a", "b"]] * 3)
    model.half_life = -2  # set around set_params
    with pytest.raises(ValueError, match=exactly("half_life must be > 0.0, got -2")):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []
    # and a file holding that value (written by hand) is refused by load with the same rule
    model.half_life = 1.0
    model.save(tmp_path / "m.npz")
    _rewrite_meta(tmp_path / "m.npz", lambda meta: meta["params"].update(half_life=-2))
    with pytest.raises(ValueError, match=r"invalid parameter: half_life must be > 0\.0, got -2$"):
        Item2Vec.load(tmp_path / "m.npz")


def _rewrite_meta(path, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


# --- update keeps one type of id -----------------------------------------------------


def test_update_refuses_int_ids_on_a_model_of_str_ids():
    model = Item2Vec(**FAST).fit([[str(i) for i in range(1, 5)]] * 3)
    before = model.items_.tolist()
    message = (
        "X holds item ids of type int but the model's ids are of type str: ids of one model "
        "must be of one type (e.g. all str or all int); convert them before update"
    )
    with pytest.raises(TypeError, match=exactly(message)):
        model.update([[1, 2, 3], [2, 3, 4]])
    assert model.items_.tolist() == before and model.n_updates_ == 0
    # the other way round, and a mix within the batch, name the foreign type alike
    ints = Item2Vec(**FAST).fit([[1, 2, 3]] * 3)
    with pytest.raises(TypeError, match=r"^X holds item ids of type str but the model's ids "
                                        r"are of type int"):  # fmt: skip
        ints.update([[1, "2"]])
    # ids of the model's own type still grow it
    model.update([["5", "1"]] * 2)
    assert model.items_.tolist() == [*before, "5"]


# --- event tables are not sequences ---------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "update", "partial_fit", "fit_transform"])
def test_a_dataframe_of_events_points_to_from_events(method, fitted):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "a"]})
    model = Item2Vec(**FAST) if method != "update" else Item2Vec(**FAST).fit([["a", "b"]] * 3)
    with pytest.raises(
        TypeError,
        match=r"^X is a pandas DataFrame \(columns \['user', 'item'\]\), "
        r"a table of events; .*Sequences\.from_events\(df, user=",
    ):
        getattr(model, method)(df)
    # the advice works
    model = Item2Vec(**FAST).fit(Sequences.from_events(df, user="user", item="item"))
    assert sorted(model.items_.tolist()) == ["a", "b"]


def test_arrow_and_polars_tables_point_to_from_events_too():
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(TypeError, match=r"^X is a pyarrow Table \(columns \['u'\]\)"):
        Item2Vec(**FAST).fit(pa.table({"u": [1, 2]}))
    pl = pytest.importorskip("polars")
    with pytest.raises(TypeError, match=r"^X is a polars DataFrame \(columns \['u'\]\)"):
        Item2Vec(**FAST).fit(pl.DataFrame({"u": [1, 2]}))


# --- files: unknown index kinds, text read as binary --------------------------------------


def test_a_stored_index_of_unknown_kind_is_refused_at_load(tmp_path):
    pytest.importorskip("faiss")
    model = Item2Vec(**FAST).fit([["a", "b", "c"], ["b", "c", "d"]] * 5).build_index()
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite_meta(path, lambda meta: meta["indexes"]["cosine"].update(kind="l2"))
    message = f"{path} holds an index of unknown kind 'l2'; the kinds known are 'cosine', 'inner'"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path)
    # a known kind in the wrong place is refused as well
    model.save(path)
    _rewrite_meta(path, lambda meta: meta["indexes"]["cosine"].update(kind="inner"))
    with pytest.raises(ValueError, match="index 'cosine' is of kind 'inner', not 'cosine'"):
        Item2Vec.load(path)


def test_an_index_read_back_directly_checks_its_kind():
    pytest.importorskip("faiss")
    from item2vec.index import ApproximateIndex

    index = ApproximateIndex(np.eye(3, dtype=np.float32))
    description = {**index.describe(), "kind": "l2"}
    with pytest.raises(ValueError, match=exactly(
        "unknown index kind 'l2'; the kinds known are 'cosine', 'inner'"
    )):  # fmt: skip
        ApproximateIndex.from_bytes(index.to_bytes(), description)


def test_a_text_vectors_file_read_as_binary_is_refused(tmp_path):
    path = tmp_path / "v.txt"
    # every row of values is exactly 4 * dim bytes of text: the binary reader would take
    # each for two float32 values and load numbers that were never written
    path.write_bytes(b"2 2\na 0.1 0.2\nb 0.3 0.4\n")
    message = (
        f"{path}, item 1: its 8 bytes of values are text ('0.1 0.2\\n'): this is the text "
        f"word2vec format; read it with binary=False"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load_word2vec_format(path, binary=True)
    loaded = Item2Vec.load_word2vec_format(path)
    np.testing.assert_array_equal(loaded.vectors_, np.float32([[0.1, 0.2], [0.3, 0.4]]))


def test_binary_vectors_still_read_as_binary(tmp_path):
    path = tmp_path / "v.bin"
    vectors = np.float32([[0.5, -1.25], [3.0, 0.0078125]])
    path.write_bytes(b"2 2\n" + b"".join(
        key + b" " + row.astype("<f4").tobytes() + b"\n"
        for key, row in zip((b"a", b"b"), vectors, strict=True)
    ))  # fmt: skip
    loaded = Item2Vec.load_word2vec_format(path, binary=True)
    assert loaded.items_.tolist() == ["a", "b"]
    np.testing.assert_array_equal(loaded.vectors_, vectors)


# --- unknown ids: history items skipped and counted, query items named ----------------


def _policy_model():
    # counts: a 7, b 6, c 5, d 3, e 2 (a unique order of popularity)
    sequences = [["a", "b", "c", "d", "e"]] * 2 + [["a", "b", "c", "d"]] + [["a", "b", "c"]] * 2
    sequences += [["a", "b"], ["a"]]
    return Item2Vec(**FAST, half_life=None, popularity=0.0).fit(sequences)


def test_unknown_history_events_are_skipped_and_counted():
    model = _policy_model()
    with pytest.warns(UnknownItemsWarning) as caught:
        ids, scores = model.recommend_batch([["a", "zz", "b"], ["yy"], ["c"]], topn=2)
    (warning,) = [w.message for w in caught]
    assert warning.n_skipped == 2 and warning.empty_rows.tolist() == [1]
    assert warning.fallback is None
    assert str(warning) == (
        "2 history events of items not in the vocabulary were skipped; 1 of 3 histories had "
        "no known item and got padded rows"
    )
    # the unknown event changes nothing: the row is that of the known events alone
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and a history of known items warns about nothing
        alone_ids, alone_scores = model.recommend_batch([["a", "b"]], topn=2)
    assert ids[0].tolist() == alone_ids[0].tolist()
    np.testing.assert_allclose(scores[0], alone_scores[0], rtol=1e-5)  # (batched products)
    assert np.isneginf(scores[1]).all()


def test_a_history_with_no_known_item_can_fall_back_to_the_most_popular_items():
    model = _policy_model()
    with pytest.warns(UnknownItemsWarning, match="got the most popular items$") as caught:
        ids, scores = model.recommend_batch(
            [["yy"], ["a"]], topn=3, fallback="popularity", filter_items=["b"]
        )
    assert caught[0].message.empty_rows.tolist() == [0]
    # by training count, "b" filtered out; scored by the log of the count
    assert ids[0].tolist() == ["a", "c", "d"]
    np.testing.assert_allclose(scores[0], np.log([7, 5, 3]), rtol=1e-6)
    assert "a" not in ids[1].tolist()  # a known history ranks as before
    # recommend: a KeyError naming the items without a fallback, the popular items with one
    with pytest.raises(KeyError, match="none of the history's items is in the vocabulary"):
        model.recommend(["yy", "xx"])
    with pytest.warns(UnknownItemsWarning):
        ids, scores = model.recommend(["yy"], topn=2, fallback="popularity")
    assert ids.tolist() == ["a", "b"]
    message = "fallback must be None or 'popularity', got 'top'"
    with pytest.raises(ValueError, match=exactly(message)):
        model.recommend_batch([["a"]], fallback="top")


def test_the_fallback_keeps_seen_items_out_when_last_n_leaves_no_known_event():
    model = _policy_model()
    with pytest.warns(UnknownItemsWarning):
        ids, _ = model.recommend_batch([["a", "zz"]], topn=2, last_n=1, fallback="popularity")
    assert ids[0].tolist() == ["b", "c"]  # "a" was seen


def test_unknown_query_items_are_named_and_the_error_can_stay_with_its_row():
    model = _policy_model()
    with pytest.raises(
        KeyError,
        match=r"2 items are not in the vocabulary: 'zz' \(position 1\), "
        r"'yy' \(position 3\)",
    ):
        model.similar_items(["a", "zz", "b", "yy"], topn=2)
    with pytest.raises(KeyError, match=r"2 items are not in the vocabulary: 'zz' \(position 1\)"):
        model.most_similar(["a", "zz", "yy"])
    with pytest.warns(UnknownItemsWarning, match="^skipped: 2 items are not in the") as caught:
        ids, scores = model.similar_items(["a", "zz", "b", "yy"], topn=2, unknown="skip")
    assert caught[0].message.empty_rows.tolist() == [1, 3]
    expected_ids, expected_scores = model.similar_items(["a", "b"], topn=2)
    assert ids[[0, 2]].tolist() == expected_ids.tolist()
    np.testing.assert_array_equal(scores[[0, 2]], expected_scores)
    assert ids[[1, 3]].tolist() == [[None, None], [None, None]]
    assert np.isneginf(scores[[1, 3]]).all()
    with pytest.raises(ValueError, match=exactly("unknown must be 'raise' or 'skip', got 'drop'")):
        model.similar_items(["a"], unknown="drop")


def test_evaluation_counts_unknown_histories_as_misses_without_warning():
    model = _policy_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.score([["zz", "a"], ["a", "b"]]) == 0.5


# --- a remembered time_half_life and histories without times ---------------------------


def test_a_remembered_time_half_life_warns_when_the_history_has_no_times():
    model = _policy_model().set_params(time_half_life=30.0)
    message = (
        "the histories have no times, so the model's time_half_life=30.0 is not applied; pass "
        "times (recommend(history, times=...)) or Sequences with times, or time_half_life=None "
        "to silence this"
    )
    with pytest.warns(UserWarning, match=exactly(message)) as caught:
        untimed = model.recommend(["a", "b"], topn=3)
    assert len(caught) == 1 and caught[0].filename == __file__
    with pytest.warns(UserWarning, match=exactly(message)) as caught:
        model.recommend_batch([["a", "b"], ["c"]], topn=3)
    assert len(caught) == 1 and caught[0].filename == __file__  # once per call
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = model.recommend(["a", "b"], topn=3, time_half_life=None)
        timed = model.recommend(["a", "b"], topn=3, times=[0.0, 60.0])
    assert untimed[0].tolist() == plain[0].tolist()
    assert timed[0].shape == (3,)


# --- Spark: options checked on the driver, executors without item2vec named ---------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"last_n": 0}, ValueError, "last_n must be an int >= 1, got 0"),
        ({"half_life": -1.0}, ValueError, "half_life must be > 0.0, got -1.0"),
        ({"popularity": "high"}, TypeError, "popularity must be a real number, got 'high'"),
        ({"filter_items": "a"}, TypeError,
         "filter_items must be a collection of item ids, got a string"),
        ({"fallback": "top"}, ValueError, "fallback must be None or 'popularity', got 'top'"),
    ],
)  # fmt: skip
def test_spark_recommend_checks_every_option_before_any_job(spark, options, error, message):
    pytest.importorskip("pandas")
    from item2vec import spark as i2v_spark

    events = spark.createDataFrame([(1, "a"), (1, "b")], "user long, item string")
    model = _policy_model()
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup()
    with pytest.raises(error, match=exactly(message)):
        i2v_spark.recommend(model, events, user="user", item="item", **options)
    assert spark.sparkContext.statusTracker().getJobIdsForGroup() == jobs


def test_spark_recommend_can_fall_back_to_popular_items(spark):
    pytest.importorskip("pandas")
    from item2vec import spark as i2v_spark

    events = spark.createDataFrame([(1, "a"), (2, "zz")], "user long, item string")
    model = _policy_model()
    plain = i2v_spark.recommend(model, events, user="user", item="item", topn=2).toPandas()
    assert sorted(set(plain["user"].tolist())) == [1]  # user 2 knows no item: no rows
    rows = i2v_spark.recommend(
        model, events, user="user", item="item", topn=2, fallback="popularity"
    ).toPandas()
    fallen = rows[rows["user"] == 2].sort_values("rank")
    assert fallen["item"].tolist() == ["a", "b"]


_WITHOUT_ITEM2VEC = """
import sys
from pyspark.sql import SparkSession
from item2vec import Item2Vec, spark as i2v_spark

session = (SparkSession.builder.master("local[1]").appName("item2vec-no-workers")
           .config("spark.ui.enabled", "false").getOrCreate())
session.sparkContext.setLogLevel("OFF")
events = session.createDataFrame([(1, "a"), (1, "b")], "user long, item string")
model = Item2Vec(vector_size=4, epochs=1, n_jobs=1, random_state=0).fit([["a", "b"]] * 3)
try:
    i2v_spark.recommend(model, events, user="user", item="item")
except RuntimeError as exc:
    print("RuntimeError:", exc)
session.stop()
"""


def test_executors_that_cannot_import_item2vec_are_named(spark, tmp_path):
    """A local Spark whose workers run a bare venv (pyspark ships its own worker code)."""
    import os
    import subprocess
    import sys
    import venv

    venv.create(tmp_path / "bare", with_pip=False)
    bare = tmp_path / "bare" / "bin" / "python"
    env = {**os.environ, "PYSPARK_PYTHON": str(bare), "PYSPARK_DRIVER_PYTHON": sys.executable}
    script = tmp_path / "run.py"
    script.write_text(_WITHOUT_ITEM2VEC)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RuntimeError:")]
    assert lines == [
        f"RuntimeError: the Spark executors run {bare} (configured: {bare}), which cannot "
        f"import item2vec (ModuleNotFoundError: No module named 'item2vec'); install item2vec "
        f"in that Python, or point the executors at a Python that has it: set PYSPARK_PYTHON "
        f"(or spark.pyspark.python) to its path, or ship a packed environment (venv-pack or "
        f"conda-pack, passed with --archives / spark.archives, and "
        f"PYSPARK_PYTHON=./environment/bin/python)"
    ], done.stdout + done.stderr[-3000:]

"""Errors that surface early and clearly, and one policy for unknown ids on every query."""

import json
import re

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences
from item2vec.baselines import ItemKNN

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

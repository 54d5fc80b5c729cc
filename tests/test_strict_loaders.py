"""Loaders refuse garbage with a clear ValueError instead of reading it or failing oddly."""

import json
import zipfile

import numpy as np
import pytest

from item2vec import Item2Vec


@pytest.fixture(scope="module")
def model():
    sessions = [["a", "b", "c"], ["b", "c", "d"], ["a", "d"]] * 10
    return Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0).fit(sessions)


def test_a_text_vectors_file_read_as_binary_is_refused(model, tmp_path):
    model.save_word2vec_format(tmp_path / "v.txt")
    with pytest.raises(ValueError, match="binary=True"):
        Item2Vec.load_word2vec_format(tmp_path / "v.txt", binary=True)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_values_are_refused(tmp_path, value):
    (tmp_path / "v.txt").write_text(f"2 2\na 0.5 0.25\nb 1.0 {value}\n")
    with pytest.raises(ValueError, match=r"item 2 \('b'\): values must be finite"):
        Item2Vec.load_word2vec_format(tmp_path / "v.txt")


def test_more_lines_than_the_header_announces_are_refused(tmp_path):
    (tmp_path / "v.txt").write_text("1 2\na 0.5 0.25\nb 1.0 2.0\n")
    with pytest.raises(ValueError, match="more data after the 1 items its header announces"):
        Item2Vec.load_word2vec_format(tmp_path / "v.txt")


@pytest.mark.parametrize("binary", [False, True])
def test_a_header_announcing_more_than_the_file_holds_is_refused_before_allocating(
    tmp_path, binary
):
    (tmp_path / "v.bin").write_bytes(b"1000000000000 1000000\na 1 2\n")
    with pytest.raises(ValueError, match="more than its 28 bytes can hold"):
        Item2Vec.load_word2vec_format(tmp_path / "v.bin", binary=binary)


def _rewrite_meta(path, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta, arrays)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "change",
    [
        lambda meta, arrays: meta.pop("params"),
        lambda meta, arrays: meta.update(pending=[1, 2, 3]),
        lambda meta, arrays: meta.update(params={"no_such_parameter": 1}),
        lambda meta, arrays: meta.update(seed="seven"),
        lambda meta, arrays: arrays.pop("counts"),
        lambda meta, arrays: meta.update(loss_history=5),
    ],
    ids=["no params", "bad pending", "unknown param", "bad seed", "no counts", "bad losses"],
)
def test_crafted_model_files_raise_value_error(model, tmp_path, change):
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite_meta(path, change)
    with pytest.raises(ValueError, match=r"m\.npz"):
        Item2Vec.load(path)


def test_a_model_file_without_its_vectors_is_refused_when_mapped(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "cut.npz", "w") as dst:
        for name in src.namelist():
            if name != "vectors.npy":
                dst.writestr(name, src.read(name))
    for mmap in (False, True):
        with pytest.raises(ValueError, match=r"cut\.npz"):
            Item2Vec.load(tmp_path / "cut.npz", mmap=mmap)

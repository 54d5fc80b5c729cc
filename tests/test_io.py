"""Saving, loading, word2vec formats and atomic writes."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.io import FORMAT_VERSION


@pytest.fixture(scope="module")
def model(small_planted):
    return Item2Vec(vector_size=16, epochs=2, n_jobs=1, random_state=0).fit(small_planted.sequences)


@pytest.fixture(scope="module")
def str_model():
    seqs = [["café-au-lait", "b"], ["b", "ü-item"], ["a", "b"]] * 20
    return Item2Vec(vector_size=8, epochs=1, sample=0, n_jobs=1, random_state=0).fit(seqs)


@pytest.mark.parametrize("mmap", [False, True])
def test_save_load_round_trip(model, tmp_path, mmap):
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = Item2Vec.load(path, mmap=mmap)
    assert loaded.get_params() == model.get_params()
    assert loaded.items_.tolist() == model.items_.tolist()
    np.testing.assert_allclose(loaded.vectors_, model.vectors_, atol=1e-6)
    np.testing.assert_allclose(loaded.output_vectors_, model.output_vectors_, atol=1e-6)
    assert loaded.vocabulary_.counts.tolist() == model.vocabulary_.counts.tolist()
    assert loaded.loss_history_ == model.loss_history_
    assert loaded.most_similar(model.items_[0], topn=3) == model.most_similar(
        model.items_[0], topn=3
    )
    if mmap:
        assert isinstance(loaded.vectors_, np.memmap)


def test_mixed_str_and_int_ids_survive_a_round_trip(tmp_path):
    seqs = [[1, "1", "x"], ["x", 1]] * 10
    model = Item2Vec(vector_size=4, epochs=1, n_jobs=1, random_state=0).fit(seqs)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.items_.tolist() == model.items_.tolist()
    assert [type(i) for i in loaded.items_.tolist()] == [type(i) for i in model.items_.tolist()]


def test_newer_format_version_is_refused(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["meta"] = np.array(str(arrays["meta"]).replace(
        f'"format_version": {FORMAT_VERSION}', f'"format_version": {FORMAT_VERSION + 1}'
    ))  # fmt: skip
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="newer than this item2vec reads"):
        Item2Vec.load(path)


def test_truncated_file_gives_a_clear_error(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        Item2Vec.load(path)


def test_foreign_file_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.arange(3))
    with pytest.raises(ValueError, match="not an item2vec model"):
        Item2Vec.load(path)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable item2vec model"):
        Item2Vec.load(text)


def test_pickled_content_is_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([{"format": "item2vec-model"}], dtype=object))
    with pytest.raises(ValueError, match="pickled objects"):
        Item2Vec.load(path)


def test_failed_save_keeps_the_earlier_file(model, tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_kill_during_save_leaves_the_earlier_file_loadable(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    # a child process saves a large model over the file and is killed mid-write
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        from item2vec import Item2Vec, Vocabulary
        from item2vec.vectors import ItemVectors
        model = Item2Vec.load({str(path)!r})
        n = 3_000_000
        model.item_vectors_ = ItemVectors(
            Vocabulary(np.arange(n), np.ones(n, dtype=np.int64)),
            np.ones((n, 16), dtype=np.float32),
        )
        real = np.savez
        def savez_then_die(handle, **arrays):
            real(handle, **arrays)
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        np.savez = savez_then_die  # io.save_model looks it up on the numpy module
        model.save({str(path)!r})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    loaded = Item2Vec.load(path)
    np.testing.assert_allclose(loaded.vectors_, model.vectors_, atol=1e-6)
    assert result.returncode == -9  # killed, not a Python error


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_round_trip(str_model, tmp_path, binary):
    path = tmp_path / ("v.bin" if binary else "v.txt")
    str_model.save_word2vec_format(path, binary=binary)
    loaded = Item2Vec.load_word2vec_format(path, binary=binary)
    assert loaded.items_.tolist() == str_model.items_.tolist()
    np.testing.assert_allclose(loaded.vectors_, str_model.vectors_, atol=1e-6)
    assert loaded.most_similar("b", topn=2)[0][0] == str_model.most_similar("b", topn=2)[0][0]


def test_ids_with_spaces_are_refused_by_word2vec_format(str_model, tmp_path):
    model = Item2Vec(vector_size=4, epochs=1, sample=0, n_jobs=1, random_state=0)
    model.fit([["a b", "c"]])
    with pytest.raises(ValueError, match="whitespace"):
        model.save_word2vec_format(tmp_path / "v.txt")


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files_and_we_read_its(str_model, tmp_path, binary):
    keyed = pytest.importorskip("gensim.models").KeyedVectors
    ours = tmp_path / "ours"
    str_model.save_word2vec_format(ours, binary=binary)
    kv = keyed.load_word2vec_format(str(ours), binary=binary)
    for item in str_model.items_.tolist():
        np.testing.assert_allclose(kv[item], str_model.get_vector(item), atol=1e-6)
    theirs = tmp_path / "theirs"
    kv.save_word2vec_format(str(theirs), binary=binary)
    loaded = Item2Vec.load_word2vec_format(theirs, binary=binary)
    for item in str_model.items_.tolist():
        np.testing.assert_allclose(loaded.get_vector(item), kv[item], atol=1e-6)


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_files_have_the_word2vec_layout(str_model, tmp_path, binary):
    # "<n> <dim>\n", then per item its UTF-8 id, a space and the values: decimal
    # text ending the line, or little-endian float32 and a newline (word2vec.c)
    path = tmp_path / "v"
    str_model.save_word2vec_format(path, binary=binary)
    header, _, body = path.read_bytes().partition(b"\n")
    dim = str_model.vector_size
    assert header == f"{len(str_model.items_)} {dim}".encode()
    for item in str_model.items_.tolist():
        key = item.encode("utf-8") + b" "
        assert body.startswith(key)
        body = body[len(key) :]
        if binary:
            values = np.frombuffer(body[: 4 * dim], dtype="<f4")
            assert body[4 * dim : 4 * dim + 1] == b"\n"
            body = body[4 * dim + 1 :]
        else:
            line, _, body = body.partition(b"\n")
            values = np.array(line.split(b" "), dtype=np.float64)
        np.testing.assert_array_equal(values.astype(np.float32), str_model.get_vector(item))
    assert body == b""


@pytest.mark.parametrize(
    ("binary", "end"),
    [(True, b"\n"), (True, b""), (False, b" \n"), (False, b"\n")],
    ids=["binary-newline", "binary-bare", "text-trailing-space", "text"],
)  # fmt: skip
def test_word2vec_files_written_by_other_tools_are_read(tmp_path, binary, end):
    # word2vec.c ends binary rows with a newline and text rows with " \n";
    # gensim writes binary rows bare and text rows with "\n"
    keys = ["café-au-lait", "b", "ü-item"]
    vectors = (np.arange(12, dtype="<f4").reshape(3, 4) - 5.5) / 7

    def values(row):
        return row.tobytes() if binary else " ".join(map(repr, row.tolist())).encode()

    rows = [k.encode() + b" " + values(r) + end for k, r in zip(keys, vectors, strict=True)]
    path = tmp_path / "theirs"
    path.write_bytes(b"3 4\n" + b"".join(rows))
    loaded = Item2Vec.load_word2vec_format(path, binary=binary)
    assert loaded.items_.tolist() == keys
    np.testing.assert_array_equal(loaded.vectors_, vectors)


def test_int_ids_read_back_as_ints(model, tmp_path):
    model.save_word2vec_format(tmp_path / "v.txt")
    loaded = Item2Vec.load_word2vec_format(tmp_path / "v.txt", item_type=int)
    assert loaded.items_.tolist() == model.items_.tolist()
    assert all(type(i) is int for i in loaded.items_.tolist())
    # the format has no output weights: a history is ranked by cosine
    unit = model.vectors_.astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    expected = unit @ unit[0]
    expected[0] = -np.inf
    ids, scores = loaded.recommend([int(model.items_[0])], topn=3)
    assert ids.tolist() == model.items_[np.argsort(-expected, kind="stable")[:3]].tolist()
    np.testing.assert_allclose(scores, np.sort(expected)[::-1][:3], rtol=1e-5)

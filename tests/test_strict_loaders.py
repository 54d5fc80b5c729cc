"""Loaders refuse garbage with a clear ValueError instead of reading it or failing oddly."""

import json
import re
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
    with pytest.raises(ValueError, match="text word2vec format; read it with binary=False"):
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


# inputs found by fuzzing (scripts/fuzz.sh): each gave an undocumented exception type
@pytest.mark.parametrize(
    ("name", "content", "binary", "message"),
    [
        ("v.txt", b"1 1\n\xff 0\n", False, "item 1: the id is not UTF-8 text"),
        ("v.bin", b"1 1\n\xff \0\0\0\0", True, "item 1: the id is not UTF-8 text"),
    ],
)
def test_word2vec_ids_that_are_not_utf8_are_refused(tmp_path, name, content, binary, message):
    (tmp_path / name).write_bytes(content)
    # the file comes first: the message says which file and which item
    with pytest.raises(ValueError, match=f"^{re.escape(f'{tmp_path / name}, {message}')} "):
        Item2Vec.load_word2vec_format(tmp_path / name, binary=binary)


def _gzip_with_bad_crc():
    import gzip

    data = bytearray(gzip.compress(b"user,item,time\nu,a,1\n"))
    data[-8] ^= 1
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", b"\x1f\x8b", "is not a readable gzip file"),
        ("e.csv", b"\x1f\x8b\x07" + bytes(7), "is not a readable gzip file"),
        ("e.csv", b"\x1f\x8b\x08" + bytes(7) + b"\xff\xff", "is not a readable gzip file"),
        ("e.csv", _gzip_with_bad_crc(), "is not a readable gzip file"),
        ("e.parquet", b"", "is not a readable Parquet file"),
        ("e.parquet", b"user,item,time\n", "is not a readable Parquet file"),
        ("e.csv", b"user,item,time\nu,a\n", "Expected 3 columns, got 2"),
    ],
    ids=[
        "gzip header",
        "gzip method",
        "gzip data",
        "gzip crc",
        "empty parquet",
        "text parquet",
        "short row",
    ],
)
def test_damaged_event_files_raise_value_error(tmp_path, name, content, message):
    if name.endswith(".parquet") or message.startswith("Expected"):  # pyarrow's reader, wording
        pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    from item2vec import read_events

    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_events(tmp_path / name, user="user", item="item", time="time")


def _model_bytes(model, tmp_path):
    model.save(tmp_path / "good.npz")
    return bytearray((tmp_path / "good.npz").read_bytes())


@pytest.mark.parametrize("mmap", [False, True])
def test_a_zip_member_with_an_unknown_compression_method_is_refused(model, tmp_path, mmap):
    data = _model_bytes(model, tmp_path)
    # compression method of every local and central entry: 99 is none zipfile knows
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset : start + offset + 2] = (99).to_bytes(2, "little")
            start = data.find(signature, start + 4)
    (tmp_path / "m.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"m\.npz"):
        Item2Vec.load(tmp_path / "m.npz", mmap=mmap)


@pytest.mark.parametrize("mmap", [False, True])
def test_a_mangled_array_header_is_refused(model, tmp_path, mmap):
    data = _model_bytes(model, tmp_path)
    for start in range(len(data)):  # every .npy header's dictionary, opened but never closed
        if data[start : start + 8] == b"{'descr'":
            data[start : start + 8] = b"{'descr("
    (tmp_path / "m.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"m\.npz"):
        Item2Vec.load(tmp_path / "m.npz", mmap=mmap)


def test_an_array_header_announcing_more_than_its_member_holds_is_refused(tmp_path):
    import io

    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        magic = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
        archive.writestr("meta.npy", magic + header)
    (tmp_path / "m.npz").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match=r"meta\.npy announces 8,000,000,000,000,000 bytes"):
        Item2Vec.load(tmp_path / "m.npz")


def test_an_encrypted_member_is_refused(model, tmp_path):
    model.save(tmp_path / "m.npz")
    data = bytearray((tmp_path / "m.npz").read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flags
        start = data.find(signature)
        while start >= 0:
            data[start + offset] |= 1  # bit 0: encrypted
            start = data.find(signature, start + 4)
    (tmp_path / "m.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"m\.npz"):
        Item2Vec.load(tmp_path / "m.npz")


def test_an_infinite_seed_in_the_metadata_is_refused(tmp_path):
    meta = (
        '{"format":"item2vec-model","format_version":1,"seed":Infinity,"items_json":[],"params":{}}'
    )
    path = tmp_path / "m.npz"
    np.savez(path, meta=np.array(meta), vectors=np.zeros((0, 2), "f4"), counts=np.zeros(0, "i8"))
    with pytest.raises(ValueError, match="corrupt or unsupported"):
        Item2Vec.load(path)


def test_a_csv_field_over_the_reader_limit_is_refused(tmp_path):
    import gzip

    from item2vec import read_events

    path = tmp_path / "e.csv"
    path.write_bytes(gzip.compress(b"user,item,time\nu," + b"a" * 131073 + b",1\n"))
    with pytest.raises(ValueError, match="field larger than field limit"):
        read_events(path, user="user", item="item", time="time")


def _one_nan(vectors):
    changed = vectors.copy()
    changed.flat[5] = np.nan
    return changed


def _set(name, value):
    def change(meta, arrays):
        arrays[name] = value(arrays[name])

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda meta, arrays: meta.update(format_version="1"),
            "format version '1', which is not a",
        ),
        (
            lambda meta, arrays: meta.update(format_version=True),
            "format version True, which is not a",
        ),
        (_set("vectors", lambda v: v.astype(np.float64)), "vectors of dtype float64"),
        (_set("vectors", _one_nan), "vectors hold NaN or infinite"),
        (_set("output_vectors", lambda v: np.full_like(v, np.inf)), "output vectors hold NaN"),
        (_set("counts", lambda c: c.astype(np.float64)), "item counts of dtype float64"),
        (lambda meta, arrays: meta.update(items_json=["a", "b", "a", "c"]), "ids must be unique"),
        (lambda meta, arrays: meta["params"].update(window=-3), "invalid parameter: window"),
        (lambda meta, arrays: meta["params"].update(alpha="fast"), "invalid parameter: alpha"),
    ],
    ids=[
        "str version",
        "bool version",
        "float64",
        "nan",
        "inf output",
        "float counts",
        "duplicate item",
        "negative window",
        "str alpha",
    ],
)
@pytest.mark.parametrize("mmap", [False, True])
def test_model_files_with_values_training_never_writes_are_refused(
    model, tmp_path, change, message, mmap
):
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite_meta(path, change)
    with pytest.raises(ValueError, match=rf"m\.npz is (a )?corrupt.*{message}"):
        Item2Vec.load(path, mmap=mmap)


def test_a_damaged_vector_member_is_refused_when_mapped_too(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("vectors.npy")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data = bytearray(path.read_bytes())
    data[start + info.file_size - 2] ^= 0x01  # one bit of the last value: still finite
    path.write_bytes(bytes(data))
    for mmap in (False, True):
        with pytest.raises(ValueError, match=r"m\.npz is not a readable item2vec model"):
            Item2Vec.load(path, mmap=mmap)


@pytest.mark.parametrize("binary", [False, True])
def test_a_header_announcing_vectors_of_no_values_is_refused(tmp_path, binary):
    (tmp_path / "v.txt").write_text("1 0\na\n")
    with pytest.raises(ValueError, match="announces vectors of 0 values"):
        Item2Vec.load_word2vec_format(tmp_path / "v.txt", binary=binary)

"""Model files and word2vec files byte for byte: what is written, what is refused on
reading (and with which message), memory-mapped loading and atomic writes."""

import fractions
import json
import os
import re
import stat
import zipfile

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.io import FORMAT_VERSION


def exactly(message):
    """A pattern matching the whole error message and nothing more."""
    return f"^{re.escape(message)}$"


def starting(message):
    """A pattern matching an error message that starts with ``message``."""
    return f"^{re.escape(message)}"


FAST = dict(vector_size=4, epochs=1, sample=0, n_jobs=1)


@pytest.fixture(scope="module")
def int_model():
    # 4 occurs once, under min_count=2: a pending count the file must keep
    seqs = [[1, 2, 3, 1, 2], [2, 3, 4], [3, 1]]
    return Item2Vec(**FAST, min_count=2, random_state=12345).fit(seqs)


def saved_arrays(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        return path, {name: data[name] for name in data.files}


def rewrite(path, arrays, meta=None, compress=False):
    """Write ``arrays`` (with ``meta`` as the JSON metadata if given) as an .npz at ``path``."""
    arrays = dict(arrays)
    if meta is not None:
        arrays["meta"] = np.array(json.dumps(meta))
    (np.savez_compressed if compress else np.savez)(path, **arrays)


def fitted(items):
    """A model fitted on ``items`` (kept in that order), whatever its vectors."""
    model = Item2Vec(**FAST, random_state=0).fit([list(items), list(items)])
    assert model.items_.tolist() == list(items)
    return model


# --- the .npz model file ----------------------------------------------------------


def test_model_file_holds_the_documented_members_uncompressed(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    assert set(arrays) == {"items", "vectors", "output_vectors", "counts", "meta"}
    expected = {
        "items": (np.int64, int_model.items_),
        "vectors": (np.float32, int_model.vectors_),
        "output_vectors": (np.float32, int_model.output_vectors_),
        "counts": (np.int64, int_model.vocabulary_.counts),
    }
    for name, (dtype, values) in expected.items():
        assert arrays[name].dtype == dtype, name
        np.testing.assert_array_equal(arrays[name], values)
    assert arrays["meta"].shape == () and arrays["meta"].dtype.kind == "U"
    # stored members can be memory-mapped in place
    with zipfile.ZipFile(path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def test_model_file_metadata_records_format_params_history_and_pending_counts(int_model, tmp_path):
    _, arrays = saved_arrays(int_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    assert meta == {
        "format": "item2vec-model",
        "format_version": FORMAT_VERSION,
        "class": "Item2Vec",
        "params": {**int_model.get_params(), "callbacks": None},
        "loss_history": int_model.loss_history_,
        "items_json": None,  # int ids are the "items" member
        "seed": 12345,
        "n_updates": 0,
        "pending": [[4, 1]],
    }
    assert FORMAT_VERSION == 2


def test_a_format_1_file_loads_with_the_input_similarity_it_was_made_for(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    assert int_model.similarity == "inout" and meta["params"]["similarity"] == "inout"
    # what a format-1 writer wrote: no similarity parameter, no "inout" index
    del meta["params"]["similarity"]
    rewrite(path, arrays, {**meta, "format_version": 1})
    loaded = Item2Vec.load(path)
    assert loaded.similarity == "input"
    np.testing.assert_array_equal(loaded.vectors_, int_model.vectors_)
    item = int_model.items_[0]
    assert loaded.most_similar(item, topn=3) == int_model.most_similar(
        item, topn=3, similarity="input"
    )


@pytest.mark.parametrize(
    "items", [["b", "a", "c"], [7, "7", "x"]], ids=["str", "mixed"]
)  # fmt: skip
def test_str_and_mixed_ids_are_stored_as_json(items, tmp_path):
    model = fitted(items)
    _, arrays = saved_arrays(model, tmp_path)
    assert "items" not in arrays
    meta = json.loads(str(arrays["meta"]))
    assert meta["items_json"] == items
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.items_.tolist() == items
    assert [type(i) for i in loaded.items_.tolist()] == [type(i) for i in items]


def test_callbacks_are_not_saved(tmp_path):
    model = Item2Vec(**FAST, random_state=0, callbacks=[lambda *a: None]).fit([["a", "b"]] * 3)
    model.save(tmp_path / "m.npz")
    assert Item2Vec.load(tmp_path / "m.npz").callbacks is None


@pytest.mark.parametrize(
    ("item", "shown"), [(1.5, "1.5 of type float"), ((1, 2), "(1, 2) of type tuple")]
)
def test_ids_other_than_str_and_int_cannot_be_saved(item, shown, tmp_path):
    model = fitted(["a", item])
    message = f"only str and int item ids can be saved, got {shown}"
    with pytest.raises(TypeError, match=exactly(message)):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_feature_ids_other_than_str_and_int_cannot_be_saved(tmp_path):
    model = Item2Vec(**FAST, random_state=0)
    model.fit([["a", "b", "c"]] * 3, item_features={"a": [1.5], "b": [(1, 2)]})
    with pytest.raises(
        TypeError, match=exactly("feature ids must be str or int to save the model")
    ):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_parameters_that_json_cannot_hold_are_refused(tmp_path):
    model = Item2Vec(**FAST, random_state=0).fit([["a", "b"]] * 3)
    model.set_params(alpha=fractions.Fraction(1, 40))  # a real number JSON cannot hold
    with pytest.raises(
        TypeError, match=starting("model parameters must be JSON-serialisable to save: ")
    ):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make", [np.random.default_rng, np.random.RandomState])
def test_a_numpy_random_state_is_saved_as_the_seed_the_fit_drew(tmp_path, make):
    sequences = [["a", "b", "c"], ["b", "c", "d"]] * 5
    model = Item2Vec(**FAST, random_state=make(7)).fit(sequences)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    seed = loaded.get_params()["random_state"]
    assert type(seed) is int
    # a fresh fit with the saved seed starts as the saved fit did: same vectors
    refit = Item2Vec(**{**FAST, "random_state": seed}).fit(sequences)
    np.testing.assert_array_equal(refit.vectors_, model.vectors_)
    np.testing.assert_array_equal(loaded.vectors_, model.vectors_)


# --- damaged and foreign model files ----------------------------------------------


def test_loading_a_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match=exactly(f"no such file: {path}")):
        Item2Vec.load(path)


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize("keep", [4, 30, 0.5, -22, -1])
def test_a_file_cut_anywhere_is_truncated_or_corrupt(int_model, tmp_path, keep, mmap):
    path, _ = saved_arrays(int_model, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    message = f"{path} is not a readable item2vec model (truncated or corrupt): "
    with pytest.raises(ValueError, match=starting(message)):
        Item2Vec.load(path, mmap=mmap)


@pytest.mark.parametrize("content", [b"PK\x05\x06" + bytes(18), b"\x93NUMPY", b"x"])
def test_a_file_that_is_not_a_zip_archive_is_refused(tmp_path, content):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    message = f"{path} is not a readable item2vec model (not an .npz archive)"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path)


def test_an_archive_without_metadata_is_not_a_model(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, vectors=np.zeros((2, 2), np.float32))
    # the message names the file once and gives the reason
    message = f"{path} is not an item2vec model (no metadata)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Item2Vec.load(path)


@pytest.mark.parametrize(
    "meta", ["[1, 2]", '"item2vec-model"', '{"format": "other", "format_version": 1}', "{}"]
)
def test_metadata_of_another_kind_is_not_a_model(int_model, tmp_path, meta):
    path, arrays = saved_arrays(int_model, tmp_path)
    rewrite(path, {**arrays, "meta": np.array(meta)})
    with pytest.raises(ValueError, match=exactly(f"{path} is not an item2vec model")):
        Item2Vec.load(path)


def test_metadata_that_is_not_json_is_corrupt(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    rewrite(path, {**arrays, "meta": np.array('{"format": "item2vec-model", ')})
    message = f"{path} is not a readable item2vec model (truncated or corrupt): "
    with pytest.raises(ValueError, match=starting(message)):
        Item2Vec.load(path)


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 1000])
def test_a_newer_format_version_asks_for_an_upgrade(int_model, tmp_path, version):
    path, arrays = saved_arrays(int_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    rewrite(path, arrays, {**meta, "format_version": version})
    message = (
        f"{path} was written in model format {version}, newer than this item2vec reads "
        f"({FORMAT_VERSION}); upgrade item2vec"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path)


def test_a_missing_format_version_is_refused(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    del meta["format_version"]
    rewrite(path, arrays, meta)
    with pytest.raises(ValueError, match="is corrupt: it records no format version"):
        Item2Vec.load(path)


def test_a_missing_vector_member_is_corrupt(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    del arrays["vectors"]
    rewrite(path, arrays)
    message = f"{path} is not a readable item2vec model (truncated or corrupt): "
    with pytest.raises(ValueError, match=starting(message)):
        Item2Vec.load(path)


def test_a_model_without_output_vectors_loads_and_cannot_be_trained(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    del arrays["output_vectors"]
    rewrite(path, arrays)
    loaded = Item2Vec.load(path)
    assert loaded.output_vectors_ is None
    np.testing.assert_array_equal(loaded.vectors_, int_model.vectors_)
    with pytest.raises(ValueError, match="cannot be trained further"):
        loaded.update([[1, 2]])


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize(
    ("member", "damage", "message"),
    [
        ("vectors", lambda v: v[:-1], "is corrupt: vectors do not match the vocabulary"),
        ("vectors", lambda v: v.ravel(), "is corrupt: vectors do not match the vocabulary"),
        ("vectors", lambda v: v[None], "is corrupt: vectors do not match the vocabulary"),
        ("output_vectors", lambda v: v[:, :-1],
         "is corrupt: output vectors do not match the vectors"),
        ("output_vectors", lambda v: v[:-1], "is corrupt: output vectors do not match the vectors"),
    ],
)  # fmt: skip
def test_members_of_the_wrong_shape_are_corrupt(int_model, tmp_path, member, damage, message, mmap):
    path, arrays = saved_arrays(int_model, tmp_path)
    rewrite(path, {**arrays, member: damage(arrays[member])})
    with pytest.raises(ValueError, match=exactly(f"{path} {message}")):
        Item2Vec.load(path, mmap=mmap)


@pytest.mark.parametrize("feature_vectors", [None, np.zeros((2, 3), np.float32),
                                             np.zeros((3, 4), np.float32)])  # fmt: skip
def test_feature_vectors_must_match_the_features(int_model, tmp_path, feature_vectors):
    path, arrays = saved_arrays(int_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    if feature_vectors is not None:
        arrays["feature_vectors"] = feature_vectors
    rewrite(path, arrays, {**meta, "features": ["red", "blue"]})
    message = f"{path} is corrupt: feature vectors do not match the features"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path)


@pytest.mark.parametrize("member", ["vectors", "items", "counts", "output_vectors"])
def test_pickled_members_are_never_loaded(int_model, tmp_path, member):
    path, arrays = saved_arrays(int_model, tmp_path)
    rewrite(path, {**arrays, member: arrays[member].astype(object)})
    message = f"{path} holds pickled objects, which are never loaded"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path)


def test_a_damaged_array_header_is_reported(int_model, tmp_path):
    path, _ = saved_arrays(int_model, tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    # a well-formed archive (right checksums) whose items.npy header lacks its keys
    members["items.npy"] = members["items.npy"].replace(b"{'descr'", b"{'XXXXX'")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=starting(f"{path} is not a readable item2vec model: ")):
        Item2Vec.load(path)


# --- memory-mapped loading -----------------------------------------------------


def test_memory_mapped_vectors_are_read_only_and_exact(int_model, tmp_path):
    path, _ = saved_arrays(int_model, tmp_path)
    loaded = Item2Vec.load(path, mmap=True)
    for name in ("vectors_", "output_vectors_"):
        mapped = getattr(loaded, name)
        assert isinstance(mapped, np.memmap)
        assert not mapped.flags.writeable
        assert mapped.dtype == np.float32
        np.testing.assert_array_equal(mapped, getattr(int_model, name))
        with pytest.raises(ValueError, match="read-only"):
            mapped[0, 0] = 1.0
    with pytest.raises(ValueError, match="cannot be trained further"):
        loaded.update([[1, 2]])


def test_memory_mapping_a_model_without_output_vectors(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    del arrays["output_vectors"]
    rewrite(path, arrays)
    loaded = Item2Vec.load(path, mmap=True)
    assert loaded.output_vectors_ is None
    np.testing.assert_array_equal(loaded.vectors_, int_model.vectors_)


def _write_npz_by_hand(path, arrays, version):
    """An uncompressed .npz whose vector members use the given .npy format version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w") as member:
                v = version if name in ("vectors", "output_vectors") else None
                np.lib.format.write_array(member, array, version=v, allow_pickle=False)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_every_npy_header_version_is_mapped_like_it_is_read(int_model, tmp_path, version):
    path, arrays = saved_arrays(int_model, tmp_path)
    _write_npz_by_hand(path, arrays, version)
    with zipfile.ZipFile(path) as archive:
        assert archive.read("vectors.npy")[6:8] == bytes(version)
    for mmap in (False, True):
        loaded = Item2Vec.load(path, mmap=mmap)
        np.testing.assert_array_equal(loaded.vectors_, int_model.vectors_)
        np.testing.assert_array_equal(loaded.output_vectors_, int_model.output_vectors_)


def test_compressed_vectors_are_read_but_not_memory_mapped(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    rewrite(path, arrays, compress=True)
    np.testing.assert_array_equal(Item2Vec.load(path).vectors_, int_model.vectors_)
    message = f"{path}: vectors.npy is compressed and cannot be memory-mapped"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path, mmap=True)


@pytest.mark.parametrize(
    ("member", "change"),
    [
        ("vectors", np.asfortranarray),
        ("output_vectors", np.asfortranarray),
        ("vectors", lambda v: v.astype(object)),
    ],
    ids=["fortran", "fortran-output", "object"],
)
def test_vectors_that_cannot_be_mapped_as_stored_are_refused(int_model, tmp_path, member, change):
    path, arrays = saved_arrays(int_model, tmp_path)
    np.savez(path, **{**arrays, member: change(arrays[member])})
    message = f"{path}: {member}.npy cannot be memory-mapped"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load(path, mmap=True)


def test_fortran_ordered_vectors_are_read_without_mmap(int_model, tmp_path):
    path, arrays = saved_arrays(int_model, tmp_path)
    np.savez(path, **{**arrays, "vectors": np.asfortranarray(arrays["vectors"])})
    np.testing.assert_array_equal(Item2Vec.load(path).vectors_, int_model.vectors_)


def test_a_damaged_local_header_is_reported_when_mapping(int_model, tmp_path):
    path, _ = saved_arrays(int_model, tmp_path)
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo("vectors.npy").header_offset
    data = bytearray(path.read_bytes())
    data[offset : offset + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    # found while the members' sizes are checked, before anything is mapped or read
    for mmap in (True, False):
        with pytest.raises(ValueError, match=f"^{re.escape(str(path))} .*truncated or corrupt"):
            Item2Vec.load(path, mmap=mmap)


# --- word2vec formats: writing ---------------------------------------------------------

# values whose shortest decimal form is long, tiny (subnormal), huge or negative zero
TRICKY = np.array(
    [
        [0.1, -1 / 3, 1e-45, -0.0],
        [3.4028235e38, 2.0**-126, 123456.789, -7.25],
        [-(2.0**-149), 65504.0, 1e-8, 0.5],
    ],
    dtype=np.float32,
)


def reference_word2vec(keys, vectors, binary):
    """The word2vec layout, written independently of the package."""
    out = [f"{len(keys)} {vectors.shape[1]}\n".encode()]
    for key, row in zip(keys, vectors, strict=True):
        if binary:
            out.append(key.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
        else:
            # the shortest decimal of each float32 value, read back exactly
            out.append(f"{key} {' '.join(repr(float(v)) for v in row)}\n".encode())
    return b"".join(out)


def from_word2vec(tmp_path, keys, vectors):
    """A model holding exactly ``vectors`` (float32), read from a reference binary file."""
    path = tmp_path / "reference.bin"
    path.write_bytes(reference_word2vec(keys, np.asarray(vectors, dtype=np.float32), True))
    model = Item2Vec.load_word2vec_format(path, binary=True)
    path.unlink()
    return model


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_files_match_the_reference_byte_for_byte(tmp_path, binary):
    keys = ["café", "b", "ü-x", "日本"]
    vectors = np.vstack([TRICKY, [[1, 2, 3, 4]]]).astype(np.float32)
    model = from_word2vec(tmp_path, keys, vectors)
    assert model.vectors_.tobytes() == vectors.tobytes()
    path = tmp_path / "v"
    model.save_word2vec_format(path, binary=binary)
    assert path.read_bytes() == reference_word2vec(keys, vectors, binary)


@pytest.mark.parametrize("binary", [False, True])
def test_fitted_vectors_are_written_in_the_reference_layout(tmp_path, binary):
    model = fitted(["x", "y", "z"])
    path = tmp_path / "v"
    model.save_word2vec_format(path, binary=binary)
    assert path.read_bytes() == reference_word2vec(["x", "y", "z"], model.vectors_, binary)


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_files_read_back_bit_for_bit(tmp_path, binary):
    model = from_word2vec(tmp_path, ["a", "b", "c"], TRICKY)
    path = tmp_path / "v"
    model.save_word2vec_format(path, binary=binary)
    loaded = Item2Vec.load_word2vec_format(path, binary=binary)
    assert loaded.vectors_.dtype == np.float32
    assert loaded.vectors_.tobytes() == TRICKY.tobytes()  # -0.0 included


@pytest.mark.parametrize("key", ["a b", "a\tb", "a\nb", "x\u00a0y", "\u3000", ""])
def test_ids_the_format_cannot_hold_are_refused_before_writing(tmp_path, key):
    model = fitted(["ok", key])
    message = (
        f"item id {key!r} is empty or contains whitespace, which the word2vec format "
        "cannot hold; map ids to whitespace-free strings first"
    )
    for binary in (False, True):
        with pytest.raises(ValueError, match=exactly(message)):
            model.save_word2vec_format(tmp_path / "v", binary=binary)
    assert list(tmp_path.iterdir()) == []


def test_ids_with_the_same_text_are_refused(tmp_path):
    model = fitted([1, "1"])
    message = "two item ids have the same text (e.g. 1 and '1'); the format would merge them"
    with pytest.raises(ValueError, match=exactly(message)):
        model.save_word2vec_format(tmp_path / "v")
    assert list(tmp_path.iterdir()) == []


# --- word2vec formats: reading ----------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True])
def test_a_word2vec_file_becomes_a_query_only_cosine_model(tmp_path, binary):
    path = tmp_path / "v"
    path.write_bytes(
        reference_word2vec(["x", "y", "z"], np.arange(12, dtype=np.float32).reshape(3, 4), binary)
    )
    loaded = Item2Vec.load_word2vec_format(path, binary=binary)
    params = loaded.get_params()
    assert params["vector_size"] == 4
    assert params["recommend_scoring"] == "cosine"
    assert loaded.output_vectors_ is None
    assert loaded.loss_history_ == []
    assert loaded.n_updates_ == 0
    assert loaded.vocabulary_.counts.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="cannot be trained further"):
        loaded.update([["x", "y"]])


def test_a_model_read_from_word2vec_saves_and_loads(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(reference_word2vec(["x", "y", "z"], TRICKY[:, :3][::-1].copy(), False))
    loaded = Item2Vec.load_word2vec_format(path)
    loaded.save(tmp_path / "m.npz")
    again = Item2Vec.load(tmp_path / "m.npz")
    assert again.items_.tolist() == ["x", "y", "z"]
    assert again.vectors_.tobytes() == loaded.vectors_.tobytes()
    assert again.output_vectors_ is None
    assert again.loss_history_ == [] and again.n_updates_ == 0
    assert again.get_params() == loaded.get_params()


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize(
    "header", [b"", b"\n", b"3\n", b"3 4 5\n", b"three 4\n", b"3 four\n", b"-3 4\n", b"3.0 4\n"]
)
def test_a_file_without_a_count_and_dim_header_is_refused(tmp_path, header, binary):
    path = tmp_path / "v"
    path.write_bytes(header + b"a 1 2 3 4\n")
    message = f"{path} does not start with a word2vec header '<count> <dim>'"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load_word2vec_format(path, binary=binary)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"a 1 2\nb 3 4\n", " is truncated at item 3 of 3"),
        (b"a 1.000000 2.000000\n", " is truncated at item 2 of 3"),
        (b"a 1 2\nb 3\nc 5 6\n", ", item 2: expected 2 values, got 1"),
        (b"a 1 2\nb 3 4\nc 5 6 7\n", ", item 3: expected 2 values, got 3"),
        # fields are single-spaced
        (b"a 1.000000  2.000000\n", ", item 1: expected 2 values, got 3"),
        (b"a-long-id-without-values\n", ", item 1: expected 2 values, got 0"),
        (b"a 1 2\n", ": the header announces 3 items of 2 values, more than its 10 bytes can "
         "hold (truncated, or a text file read with binary=True?)"),
    ],
)  # fmt: skip
def test_damaged_text_rows_are_reported_by_position(tmp_path, body, message):
    path = tmp_path / "v.txt"
    path.write_bytes(b"3 2\n" + body)
    with pytest.raises(ValueError, match=exactly(f"{path}{message}")):
        Item2Vec.load_word2vec_format(path)


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda rows: rows[0] + rows[1][:5], "is truncated at item 2 of 3"),
        (lambda rows: rows[0] + rows[1] + rows[2][:3], "is truncated at item 3 of 3"),
        (lambda rows: rows[0] + b"b", "is truncated inside an item id"),
        (lambda rows: rows[0][:-1], "is truncated inside an item id"),  # no final newline
    ],
)
def test_damaged_binary_rows_are_reported(tmp_path, cut, message):
    vectors = np.arange(6, dtype="<f4").reshape(3, 2)
    # a long first id: each damaged file still holds the 3 x 10 bytes the header implies
    keys = [b"alpha-item-number-one", b"bb", b"c"]
    rows = [k + b" " + v.tobytes() + b"\n" for k, v in zip(keys, vectors, strict=True)]
    path = tmp_path / "v.bin"
    path.write_bytes(b"3 2\n" + cut(rows))
    with pytest.raises(ValueError, match=exactly(f"{path} {message}")):
        Item2Vec.load_word2vec_format(path, binary=True)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize(("keys", "item_type"), [(["a", "b", "a"], str), (["1", "2", "01"], int)])
def test_ids_that_repeat_after_conversion_are_refused(tmp_path, binary, keys, item_type):
    path = tmp_path / "v"
    path.write_bytes(reference_word2vec(keys, np.eye(3, dtype=np.float32), binary))
    message = f"{path} holds the same item id more than once"
    with pytest.raises(ValueError, match=exactly(message)):
        Item2Vec.load_word2vec_format(path, binary=binary, item_type=item_type)


@pytest.mark.parametrize("binary", [False, True])
def test_item_type_converts_every_id(tmp_path, binary):
    path = tmp_path / "v"
    path.write_bytes(reference_word2vec(["10", "-2", "007"], np.eye(3, dtype=np.float32), binary))
    loaded = Item2Vec.load_word2vec_format(path, binary=binary, item_type=int)
    assert loaded.items_.tolist() == [10, -2, 7]
    assert loaded.items_.dtype == np.int64
    as_text = Item2Vec.load_word2vec_format(path, binary=binary)
    assert as_text.items_.tolist() == ["10", "-2", "007"]


def test_text_ids_are_whatever_precedes_the_first_space(tmp_path):
    # like gensim, only the space separates fields: a tab or form feed stays in the id
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na\tb 1 2\nc\x0cd 3 4\n")
    loaded = Item2Vec.load_word2vec_format(path)
    assert loaded.items_.tolist() == ["a\tb", "c\x0cd"]
    np.testing.assert_array_equal(loaded.vectors_, [[1, 2], [3, 4]])


def test_text_values_are_rounded_once_to_float32(tmp_path):
    # 0.1 and 1e-3 have no exact float32; each must be the nearest float32
    path = tmp_path / "v.txt"
    path.write_bytes(b"1 3\na 0.1 1e-3 16777217\n")
    loaded = Item2Vec.load_word2vec_format(path)
    assert loaded.vectors_.dtype == np.float32
    expected = np.array([0.1, 1e-3, 16777217.0]).astype(np.float32)
    assert loaded.vectors_.tobytes() == expected.tobytes()


# --- atomic writes ----------------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o077, 0o002, 0o027], ids=oct)
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


WRITERS = {
    "save": lambda m, p: m.save(p),
    "word2vec-text": lambda m, p: m.save_word2vec_format(p),
    "word2vec-binary": lambda m, p: m.save_word2vec_format(p, binary=True),
    "similar-csv": lambda m, p: m.export_similar_items(p, topn=2),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_written_files_get_the_umask_mode_and_leave_no_temporary_file(
    int_model, tmp_path, umask, writer
):
    path = tmp_path / "out"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    WRITERS[writer](int_model, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert path.read_bytes() != b"old"


@pytest.mark.parametrize("writer", list(WRITERS))
def test_files_are_written_beside_a_relative_path(int_model, tmp_path, monkeypatch, writer):
    monkeypatch.chdir(tmp_path)
    WRITERS[writer](int_model, "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failed_export_keeps_the_earlier_table_and_leaves_no_temporary_file(
    int_model, tmp_path, without_module
):
    path = tmp_path / "sim.parquet"
    path.write_bytes(b"earlier")
    without_module("pyarrow")
    with pytest.raises(ImportError, match="writing Parquet needs pyarrow"):
        int_model.export_similar_items(path)
    assert path.read_bytes() == b"earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["sim.parquet"]


def test_vectors_set_on_an_unfitted_estimator_can_be_saved(tmp_path):
    from item2vec.vectors import ItemVectors
    from item2vec.vocab import Vocabulary

    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32)
    model = Item2Vec(vector_size=2)
    model.item_vectors_ = ItemVectors(Vocabulary(["a", "b", "c"], [3, 2, 1]), vectors)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.items_.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.vectors_, vectors)
    assert loaded.n_updates_ == 0 and loaded.loss_history_ == []


def test_str_ids_come_back_as_a_str_array(tmp_path):
    model = Item2Vec(**FAST, random_state=0).fit([np.array(["a", "bb", "ccc"])] * 3)
    assert model.items_.dtype.kind == "U"
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.items_.dtype == model.items_.dtype
    assert loaded.items_.tolist() == model.items_.tolist()
    # so recommend_batch pads with the same empty id
    want = model.recommend_batch([["a"]], topn=5)[0]
    got = loaded.recommend_batch([["a"]], topn=5)[0]
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


def test_pending_counts_of_ids_other_than_str_and_int_are_refused_not_dropped(tmp_path):
    model = Item2Vec(**FAST, min_count=2, random_state=0)
    model.fit([["a", "b", "c"]] * 5 + [["a", 1.5]])  # 1.5 once: pending, under min_count
    with pytest.raises(
        TypeError,
        match=exactly(
            "only str and int item ids can be saved, but the counts of items still under "
            "min_count hold 1.5 of type float"
        ),
    ):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_saved_file_is_renamed_into_a_directory_that_is_then_synced(tmp_path, monkeypatch):
    import item2vec._files as files

    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), os.path.exists(tmp_path / "m.npz")))
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    Item2Vec(**FAST, random_state=0).fit([["a", "b"]] * 3).save(tmp_path / "m.npz")
    # the file's data first (before the rename), then its directory (after it)
    assert synced == [(False, False), (True, True)]

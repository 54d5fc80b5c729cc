"""Saving and loading models without pickle, word2vec formats, atomic writes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from item2vec._files import atomic_write
from item2vec._training import TrainingRecord
from item2vec._validation import check_int
from item2vec.vectors import ItemVectors, check_similarity
from item2vec.vocab import Vocabulary, _as_item_array, savable_id

__all__ = [
    "FORMAT_VERSION",
    "SavedModel",
    "atomic_write",
    "export_similar_items",
    "load_model",
    "load_word2vec_format",
    "save_model",
    "save_word2vec_format",
]

#: Version of the .npz layout written by save_model; load_model refuses newer ones.
#: 2: the ``similarity`` parameter and an "inout" index, which format-1 readers
#: refused as an unknown parameter or a corrupt index; format-1 files still load
#: (with ``similarity="input"``, what they were trained to answer).
FORMAT_VERSION = 2
_MAGIC = "item2vec-model"
# what reading a damaged archive raises (from zipfile, zlib, and NumPy's parsing of the
# .npy headers): all mean "not a readable model file"
_DAMAGED = (
    zipfile.BadZipFile, EOFError, OSError, KeyError, json.JSONDecodeError,
    NotImplementedError, SyntaxError, tokenize.TokenError, zlib.error,
    RuntimeError,  # zipfile: an encrypted member (also RecursionError, deep JSON)
    OverflowError, MemoryError,  # an infinite seed; a zip64 size that overstates a member
    SystemError,  # NumPy str arrays holding code points past U+10FFFF
)  # fmt: skip


class SavedModel(NamedTuple):
    """A model file's contents: the estimator's parameters, fitted state and training record."""

    params: dict[str, Any]
    state: ItemVectors
    record: TrainingRecord


def _items_to_arrays(items: np.ndarray) -> tuple[dict[str, np.ndarray], Any]:
    """Item ids as an array entry (int or str ids) or as JSON (mixed str/int ids)."""
    if items.dtype.kind in "iuU":
        # in their own dtype: uint64 ids past 2**63 stay exact, str ids stay a str array
        return {"items": items}, None
    values = items.tolist()
    for v in values:
        if not savable_id(v):
            raise TypeError(
                f"only str and int item ids can be saved, got {v!r} of type {type(v).__name__}"
            )
    return {}, values


def save_model(
    path: str | os.PathLike[str],
    params: dict[str, Any],
    state: ItemVectors,
    record: TrainingRecord,
    class_name: str = "Item2Vec",
) -> None:
    """Write a model to ``path`` (a ``.npz`` file), atomically.

    The file holds the item vectors, the output weights, the vocabulary with
    its counts, the parameters, what continued training needs (seed, update
    count, counts of items still under ``min_count``, loss history) and the
    format version; it is read back with ``allow_pickle=False``. Item ids
    (and the ids of items still under ``min_count``) must be str or int. A
    NumPy ``Generator`` or ``RandomState`` given as ``random_state`` is saved
    as the seed the fit drew from it, so a fresh fit of the loaded model
    starts as the saved one did.
    """
    arrays, json_items = _items_to_arrays(state.items)
    params = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
    params["callbacks"] = None  # code is not saved; pass callbacks again after loading
    if isinstance(params.get("random_state"), np.random.Generator | np.random.RandomState):
        # a generator's state is not saved: the seed the fit drew from it is, so a
        # fresh fit of the loaded model starts exactly as the saved one did
        params["random_state"] = record.seed
    pending = list(record.pending_counts.items())
    for item, _ in pending:
        if not savable_id(item):
            raise TypeError(
                f"only str and int item ids can be saved, but the counts of items still "
                f"under min_count hold {item!r} of type {type(item).__name__}"
            )
    meta = {
        "format": _MAGIC,
        "format_version": FORMAT_VERSION,
        "class": class_name,
        "params": params,
        "loss_history": list(record.loss_history),
        "items_json": json_items,
        "seed": record.seed,
        "n_updates": record.n_updates,
        # counts of items still under min_count, for update()
        "pending": [[k, v] for k, v in pending],
    }
    if state.features is not None:
        features = state.features.tolist()
        if not all(savable_id(f) for f in features):
            raise TypeError("feature ids must be str or int to save the model")
        meta["features"] = features
        arrays["feature_vectors"] = np.asarray(state.feature_vectors)
    indexes = dict(state.indexes)  # read once: another thread may build meanwhile
    if indexes:
        meta["indexes"] = {name: index.describe() for name, index in indexes.items()}
        for name, index in indexes.items():
            arrays[f"index_{name}"] = index.to_bytes()
    try:
        meta_text = json.dumps(meta)
    except TypeError as exc:
        raise TypeError(f"model parameters must be JSON-serialisable to save: {exc}") from None
    arrays["vectors"] = state.vectors
    if state.output_vectors is not None:
        arrays["output_vectors"] = state.output_vectors
    arrays["counts"] = state.vocabulary.counts
    arrays["meta"] = np.array(meta_text)
    with atomic_write(path) as handle:
        # stored, not compressed: the vectors can then be memory-mapped in place
        np.savez(handle, **arrays)  # type: ignore[arg-type]


def load_model(path: str | os.PathLike[str], mmap: bool = False) -> SavedModel:
    """Read a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path
    mmap : bool, default=False
        Map the vector matrices from the file read-only instead of reading
        them into memory (for large models; the file must stay in place).
        Such a model answers queries but cannot be trained further.

    Raises
    ------
    ValueError
        If the file is not an item2vec model, is truncated or corrupt, or
        comes from a newer version of item2vec.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            raise ValueError(f"{path} is not a readable item2vec model (not an .npz archive)")
    try:
        _check_member_sizes(path)
        with np.load(path, allow_pickle=False) as data:
            names = set(data.files)
            if "meta" not in names:
                raise ValueError(f"{path} is not an item2vec model (no metadata)")
            meta = json.loads(str(data["meta"]))
            small = {
                name: data[name]
                for name in ("items", "counts", "feature_vectors", *_INDEX_MEMBERS)
                if name in names
            }
            if not mmap:
                small["vectors"] = data["vectors"]
                if "output_vectors" in names:
                    small["output_vectors"] = data["output_vectors"]
    except _DAMAGED as exc:
        raise ValueError(
            f"{path} is not a readable item2vec model (truncated or corrupt): {exc}"
        ) from None
    except ValueError as exc:
        if str(path) in str(exc):
            raise  # already says what is wrong with the file
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise ValueError(f"{path} holds pickled objects, which are never loaded") from None
        raise ValueError(f"{path} is not a readable item2vec model: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != _MAGIC:
        raise ValueError(f"{path} is not an item2vec model")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        what = (
            "records no format version"
            if version is None
            else (f"records format version {version!r}, which is not a version number")
        )
        raise ValueError(f"{path} is corrupt: it {what}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in model format {version}, newer than this item2vec "
            f"reads ({FORMAT_VERSION}); upgrade item2vec"
        )
    try:
        return _interpret(path, meta, small, mmap)
    except (*_DAMAGED, TypeError, AttributeError, IndexError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(path) in str(exc):
            raise  # already says what is wrong with the file
        # a crafted or damaged file: say so instead of a bare lookup or conversion error
        raise ValueError(f"{path} is a corrupt or unsupported model file: {exc!r}") from None


def _interpret(path: Path, meta: dict[str, Any], small: dict[str, Any], mmap: bool) -> SavedModel:
    """The model described by a file's metadata and arrays; raises ValueError if they disagree."""
    if mmap:
        small["vectors"] = _mmap_member(path, "vectors.npy")
        if "output_vectors.npy" in _members(path):
            small["output_vectors"] = _mmap_member(path, "output_vectors.npy")
    items = small["items"] if meta.get("items_json") is None else meta["items_json"]
    if small["counts"].dtype.kind not in "iu":
        raise ValueError(f"{path} is corrupt: item counts of dtype {small['counts'].dtype}")
    vocabulary = Vocabulary(items, small["counts"])
    vocabulary.index  # noqa: B018  (built now: raises on an id that occurs twice)
    vectors = small["vectors"]
    output = small.get("output_vectors")
    if vectors.ndim != 2 or vectors.shape[0] != len(vocabulary) or vectors.shape[1] < 1:
        raise ValueError(f"{path} is corrupt: vectors do not match the vocabulary")
    if output is not None and output.shape != vectors.shape:
        raise ValueError(f"{path} is corrupt: output vectors do not match the vectors")
    features = feature_vectors = None
    if "features" in meta:
        features = _as_item_array(meta["features"])
        feature_vectors = small.get("feature_vectors")
        if feature_vectors is None or feature_vectors.shape != (len(features), vectors.shape[1]):
            raise ValueError(f"{path} is corrupt: feature vectors do not match the features")
    for name, array in (("vectors", vectors), ("output vectors", output),
                        ("feature vectors", feature_vectors)):  # fmt: skip
        if array is not None:
            _check_float32_finite(path, name, array)
    record = TrainingRecord(
        seed=int(meta.get("seed", 0)),
        n_updates=int(meta.get("n_updates", 0)),
        pending_counts={k: v for k, v in meta.get("pending", [])},
        loss_history=list(meta.get("loss_history", [])),
    )
    state = ItemVectors(vocabulary, vectors, output, features, feature_vectors)
    if meta.get("indexes"):
        state.indexes = _indexes(path, meta["indexes"], small, state)
    return SavedModel(dict(meta["params"]), state, record)


# which kind of index each saved index is: cosine over the vectors, cosine over the
# input + output vectors (the "inout" similarity), inner product over the output vectors
# (ItemVectors.build_index)
_INDEX_KIND = {"cosine": "cosine", "inout": "cosine", "output": "inner"}
_INDEX_MEMBERS = tuple(f"index_{name}" for name in _INDEX_KIND)


def _indexes(
    path: Path, described: dict[str, Any], small: dict[str, Any], state: ItemVectors
) -> dict[str, Any]:
    """The approximate indexes saved with the model (none, with a warning, without faiss)."""
    try:
        from item2vec.index import KINDS, ApproximateIndex, _import_faiss

        _import_faiss()
    except ImportError:
        warnings.warn(
            f"{path} holds an approximate index, which needs faiss (pip install "
            f"'item2vec[ann]'); queries search every item instead",
            stacklevel=4,
        )
        return {}
    indexes = {}
    for name, description in described.items():
        if name not in _INDEX_KIND or f"index_{name}" not in small:
            raise ValueError(f"{path} is corrupt: index {name!r} is missing or unknown")
        kind = description.get("kind") if isinstance(description, dict) else None
        if kind not in KINDS:
            raise ValueError(
                f"{path} holds an index of unknown kind {kind!r}; the kinds known are "
                f"{', '.join(map(repr, KINDS))}"
            )
        if kind != _INDEX_KIND[name]:
            raise ValueError(
                f"{path} is corrupt: index {name!r} is of kind {kind!r}, not {_INDEX_KIND[name]!r}"
            )
        index = ApproximateIndex.from_bytes(small[f"index_{name}"], description)
        if (index.n_items, index.dim) != state.vectors.shape:
            raise ValueError(f"{path} is corrupt: index {name!r} does not match the vectors")
        indexes[name] = index
    return indexes


def _check_float32_finite(path: Path, name: str, array: np.ndarray) -> None:
    """Refuse what training never writes: another dtype, NaN or infinite values."""
    if array.dtype != np.float32:
        raise ValueError(f"{path} is corrupt: {name} of dtype {array.dtype}, not float32")
    rows = max(1, (1 << 22) // max(1, array.shape[1]))  # blocks: a mapped file stays unread
    for start in range(0, array.shape[0], rows):
        if not np.isfinite(array[start : start + rows]).all():
            raise ValueError(f"{path} is corrupt: {name} hold NaN or infinite values")


def _check_member_sizes(path: Path) -> None:
    """Refuse arrays whose headers announce more data than their member holds, before
    NumPy allocates for them (a crafted header could ask for petabytes)."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            needed = math.prod(shape) * dtype.itemsize
            if needed > info.file_size:
                raise ValueError(
                    f"{path} is corrupt: {info.filename} announces {needed:,} bytes of data "
                    f"but holds {info.file_size:,}"
                )


def _members(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def _mmap_member(path: Path, name: str) -> np.ndarray:
    """Memory-map one uncompressed .npy member of a .npz archive."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"{path}: {name} is compressed and cannot be memory-mapped")
        # read once through zipfile, in blocks, for its CRC check: a mapped member
        # is otherwise never verified and damage would pass as vectors
        with archive.open(info) as member:
            while member.read(1 << 24):
                pass
        with open(path, "rb") as raw:
            raw.seek(info.header_offset)
            local = raw.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{path} is corrupt: bad zip entry for {name}")
            name_len = int.from_bytes(local[26:28], "little")
            extra_len = int.from_bytes(local[28:30], "little")
            start = info.header_offset + 30 + name_len + extra_len
            raw.seek(start)
            version = np.lib.format.read_magic(raw)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(raw)
            offset = raw.tell()
    if fortran or dtype.hasobject:
        raise ValueError(f"{path}: {name} cannot be memory-mapped")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def save_word2vec_format(
    state: ItemVectors, path: str | os.PathLike[str], binary: bool = False
) -> None:
    """Write the item vectors in word2vec's text or binary format, atomically.

    The first line is ``"<n_items> <dim>"``; then one item per line: its id as
    UTF-8 text, a space and the values (text: decimal, binary: little-endian
    float32 followed by a newline, as word2vec.c writes). gensim's
    ``KeyedVectors.load_word2vec_format`` reads both. The format separates
    fields by spaces, so ids containing whitespace are refused.
    """
    keys = [str(item) for item in state.items.tolist()]
    if len(set(keys)) != len(keys):
        raise ValueError(
            "two item ids have the same text (e.g. 1 and '1'); the format would merge them"
        )
    for key in keys:
        if not key or any(ch.isspace() for ch in key):
            raise ValueError(
                f"item id {key!r} is empty or contains whitespace, which the word2vec "
                f"format cannot hold; map ids to whitespace-free strings first"
            )
    vectors = np.asarray(state.vectors, dtype="<f4")
    with atomic_write(path) as handle:
        handle.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
        for key, row in zip(keys, vectors, strict=True):
            if binary:
                handle.write(key.encode("utf-8") + b" " + row.tobytes() + b"\n")
            else:
                values = " ".join(repr(float(v)) for v in row)
                handle.write(f"{key} {values}\n".encode())


def load_word2vec_format(
    path: str | os.PathLike[str], binary: bool = False, item_type: type = str
) -> ItemVectors:
    """Read vectors in word2vec's text or binary format (e.g. written by gensim).

    Item ids are read as UTF-8 text and converted with ``item_type`` (e.g.
    ``int``). The format has no output weights or counts: the result answers
    similarity queries, but cannot be trained further.
    """
    path = Path(path)
    keys: list[Any] = []
    with path.open("rb") as handle:
        header = handle.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise ValueError(f"{path} does not start with a word2vec header '<count> <dim>'")
        n_items, dim = int(header[0]), int(header[1])
        if dim < 1:
            raise ValueError(f"{path}: the header announces vectors of {dim} values")
        # each item takes at least an id, a separator and its values: refuse a header
        # that announces more than the file can hold before allocating for it
        smallest_row = 4 * dim + 2 if binary else 2 * dim + 1
        size = os.fstat(handle.fileno()).st_size
        if n_items * smallest_row > size:
            raise ValueError(
                f"{path}: the header announces {n_items:,} items of {dim:,} values, more than "
                f"its {size:,} bytes can hold (truncated, or a text file read with binary=True?)"
            )
        vectors = np.empty((n_items, dim), dtype=np.float32)
        for row in range(n_items):
            if binary:
                key = _utf8(_read_binary_key(handle, path), path, row)
                data = handle.read(4 * dim)
                if len(data) != 4 * dim:
                    raise ValueError(f"{path} is truncated at item {row + 1} of {n_items}")
                if not data.translate(None, _NUMBER_TEXT):
                    # numbers written as text: float32 values essentially never consist of
                    # these bytes alone (their exponent byte is not a digit or a sign)
                    raise ValueError(
                        f"{path}, item {row + 1}: its {4 * dim} bytes of values are text "
                        f"({data[:40].decode('ascii')!r}): this is the text word2vec format; "
                        f"read it with binary=False"
                    )
                vectors[row] = np.frombuffer(data, dtype="<f4")
            else:
                line = handle.readline()
                if not line:
                    raise ValueError(f"{path} is truncated at item {row + 1} of {n_items}")
                # word2vec.c and fastText end each line with a space
                parts = line.rstrip().split(b" ")
                if len(parts) != dim + 1:
                    raise ValueError(
                        f"{path}, item {row + 1}: expected {dim} values, got {len(parts) - 1}"
                    )
                key = _utf8(parts[0], path, row)
                vectors[row] = np.array(parts[1:], dtype=np.float32)
            keys.append(item_type(key))
        if handle.read().strip():
            raise ValueError(
                f"{path} holds more data after the {n_items:,} items its header announces "
                f"(a wrong count, or a text file read with binary=True?)"
            )
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(f"{path}, item {row + 1} ({keys[row]!r}): values must be finite")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{path} holds the same item id more than once")
    return ItemVectors(Vocabulary(keys, np.zeros(n_items, dtype=np.int64)), vectors)


# the bytes numbers written as text are made of (digits, point, signs, exponent, spaces)
_NUMBER_TEXT = b"0123456789.+-eE \t\r\n"


def _utf8(raw: bytes, path: Path, row: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}, item {row + 1}: the id is not UTF-8 text ({exc.reason})"
        ) from None


def _read_binary_key(handle: IO[bytes], path: Path) -> bytes:
    chunks = bytearray()
    while True:
        ch = handle.read(1)
        if not ch:
            raise ValueError(f"{path} is truncated inside an item id")
        if ch == b" ":
            break
        if ch != b"\n" or chunks:  # word2vec.c ends each vector with a newline
            chunks += ch
    return bytes(chunks)


def export_similar_items(
    state: ItemVectors, path: str | os.PathLike[str], topn: int = 10, block: int = 4096,
    similarity: str = "input",
) -> int:  # fmt: skip
    """Write every item's ``topn`` nearest neighbours to a CSV or Parquet table.

    The classic item2vec "item sim" table, computed in blocks of ``block``
    items so memory stays flat: columns ``item``, ``rank`` (1 = nearest),
    ``neighbor`` and ``score``: the cosine of ``similarity`` ("input" or
    "inout"), as :meth:`ItemVectors.similar_items` ranks by; "inout" is not
    symmetric, so a pair may appear in one direction only. A ``.parquet`` /
    ``.pq`` path writes Parquet (needs pyarrow); anything else writes CSV.
    The file is written to a temporary name and renamed, so a failure never
    leaves a partial table behind.

    Returns
    -------
    int
        Rows written.
    """
    check_int("topn", topn, 1)
    check_int("block", block, 1)
    check_similarity(similarity)
    path = Path(path)
    parquet = path.suffix.lower() in (".parquet", ".pq")
    n_items = len(state)
    k = min(topn, n_items - 1)
    if k < 1:
        raise ValueError("the model has a single item: no neighbours to export")
    rows = 0
    with atomic_write(path, "wb") as handle, _table_writer(handle, parquet) as write:
        for start in range(0, n_items, block):
            chunk = state.items[start : start + block]
            ids, scores = state.similar_items(chunk, topn=k, similarity=similarity)
            write(
                np.repeat(chunk, k),
                np.tile(np.arange(1, k + 1), len(chunk)),
                ids.ravel(),
                scores.ravel(),
            )
            rows += ids.size
    return rows


@contextlib.contextmanager
def _table_writer(handle: Any, parquet: bool) -> Iterator[Callable[..., None]]:
    """A function that appends (item, rank, neighbor, score) columns to a CSV or Parquet file."""
    names = ["item", "rank", "neighbor", "score"]
    if parquet:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(
                "writing Parquet needs pyarrow: pip install 'item2vec[arrow]'"
            ) from None
        writer = None

        def write_parquet(*columns: np.ndarray) -> None:
            nonlocal writer
            table = pa.table(
                [pa.array(c.tolist() if c.dtype == object else c) for c in columns], names=names
            )
            if writer is None:
                writer = pq.ParquetWriter(handle, table.schema)
            writer.write_table(table)

        try:
            yield write_parquet
        finally:
            if writer is not None:
                writer.close()
        return
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    out = csv.writer(text)
    out.writerow(names)

    def write_csv(*columns: np.ndarray) -> None:
        scores = [f"{x:.6g}" for x in columns[3].tolist()]
        out.writerows(zip(*(c.tolist() for c in columns[:3]), scores, strict=True))

    yield write_csv
    text.flush()
    text.detach()  # leave the binary handle open for atomic_write to finish

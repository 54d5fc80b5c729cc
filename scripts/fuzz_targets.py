"""Coverage-guided fuzz targets for item2vec's file loaders (atheris, libFuzzer).

Each target takes the fuzzer's bytes as the contents of a file and reads it:

- ``load``: ``Item2Vec.load(path)`` and ``Item2Vec.load(path, mmap=True)``
- ``load_meta``: the same, the bytes being the JSON metadata of a model file whose
  arrays are those of a small valid model (past the zip and .npy layers, where byte
  mutations of a whole file rarely reach: the metadata is stored as UTF-32)
- ``word2vec``: ``Item2Vec.load_word2vec_format(path, binary=False / True)``
- ``events``: ``read_events`` of the bytes as a ``.csv`` (pyarrow's reader) and as
  a ``.parquet`` file
- ``events_stdlib``: ``read_events`` of the bytes as a ``.csv`` with pyarrow hidden
  (the standard library's reader)

A loader may succeed or raise one of the documented exceptions (ValueError,
KeyError, TypeError, FileNotFoundError, ImportError); anything else, including
UnicodeDecodeError and pyarrow's own exception classes (although some subclass
ValueError), is a finding: the target lets it propagate and atheris reports it.

Usage::

    python scripts/fuzz_targets.py seeds DIR            # DIR/<target>/ inputs, DIR/<target>.dict
    python scripts/fuzz_targets.py fuzz TARGET [libFuzzer options] [CORPUS_DIR...]
    python scripts/fuzz_targets.py run TARGET FILE...   # replay inputs without atheris
"""

from __future__ import annotations

import atexit
import gzip
import io
import itertools
import json
import re
import shutil
import sys
import tempfile
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGETS = ("load", "load_meta", "word2vec", "events", "events_stdlib")
# input sizes that leave room to grow around the seeds (a saved tiny model is ~3 KB)
MAX_LEN = {
    "load": 16384,
    "load_meta": 4096,
    "word2vec": 4096,
    "events": 8192,
    "events_stdlib": 4096,
}
DOCUMENTED: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    TypeError,
    FileNotFoundError,
    ImportError,
)


def _utf32(*texts: str) -> list[bytes]:
    return [text.encode("utf-32-le") for text in texts]  # how .npy stores str arrays


# libFuzzer dictionaries: tokens that a byte-level mutation would rarely spell out
TOKENS: dict[str, list[bytes]] = {
    "load": [
        b"PK\x01\x02",
        b"PK\x03\x04",
        b"PK\x05\x06",
        b"PK\x06\x06",
        b"PK\x06\x07",
        b"\xff\xff\xff\xff",
        b"\x93NUMPY\x02\x00",
        b"\x93NUMPY\x03\x00",
        b"'descr': '<f8'",
        b"'descr': '<U9'",
        b"'descr': '|O'",
        b"'descr': [('a', '<f4')]",
        b"'fortran_order': True",
        b"'shape': (99999999999999,",
        b"'shape': (-1,",
        b"'shape': ()",
        b"items.npy",
        b"vectors.npy",
        b"output_vectors.npy",
        b"counts.npy",
        b"feature_vectors.npy",
        b"meta.npy",
        *_utf32(
            '"format_version": 2',
            '"items_json": null',
            '"features": ',
            '"pending": ',
            '"params": ',
            '"seed": ',
            '"n_updates": ',
            '"loss_history": ',
            "Infinity",
            "-Infinity",
            "NaN",
            "1e999",
            "99999999999999999999",
            "[[[[[[[[",
            "null",
            "true",
            "{}",
            "[]",
        ),
    ],
    "word2vec": [b"\n", b" ", b"nan", b"inf", b"-inf", b"1e39", b"-0", b"\x00\x00\xc0\x7f"],
    "events": [
        b"user",
        b"item",
        b"time",
        b"\r\n",
        b'"',
        b"\t",
        b";",
        b"|",
        b"NaN",
        b"nan",
        b"inf",
        b"1e309",
        b"NaT",
        b"null",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"2024-01-01T00:00:00",
        b"2024-01-01 00:00:00+05:00",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\xfe\xff",
        b"\x1f\x8b\x08",
        b"PAR1",
    ],
}
TOKENS["events_stdlib"] = TOKENS["events"]
TOKENS["load_meta"] = [
    token.decode("utf-32-le").encode() for token in TOKENS["load"] if token.startswith(b'"\0')
] + [b"Infinity", b"-Infinity", b"NaN", b"1e999", b"-1", b"99999999999999999999", b"[[[["]
# subclasses of documented types that still are findings: a leaked decoding error
# names no file, and pyarrow's classes (ArrowInvalid is a ValueError) leak its internals
UNDOCUMENTED: tuple[type[BaseException], ...] = (UnicodeError,)


def is_documented(exc: BaseException) -> bool:
    """Whether ``exc`` is one of the outcomes the loaders document."""
    if type(exc).__module__.split(".")[0] == "pyarrow":
        return False
    return isinstance(exc, DOCUMENTED) and not isinstance(exc, UNDOCUMENTED)


def hide_pyarrow() -> None:
    """Make ``import pyarrow`` fail, as on an installation without it."""
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        del sys.modules[name]
    sys.modules["pyarrow"] = None  # type: ignore[assignment]


class Target:
    """Writes each input to a fresh file in a private folder and calls the loaders."""

    def __init__(self, name: str) -> None:
        import item2vec
        import item2vec.ingest
        import item2vec.io  # imported by the loaders when first called: import it here,
        import item2vec.model  # where the fuzzer instruments what is imported

        self.name = name
        self.item2vec = item2vec
        if name == "load_meta":
            self.arrays = _model_arrays()
        self.folder = Path(tempfile.mkdtemp(prefix=f"item2vec-fuzz-{name}-"))
        atexit.register(shutil.rmtree, self.folder, ignore_errors=True)
        self.counter = itertools.count()

    def file(self, data: bytes, suffix: str) -> Path:
        # a new name each time: a memory-mapped earlier file is never truncated under its map
        path = self.folder / f"input{next(self.counter)}{suffix}"
        path.write_bytes(data)
        return path

    def model_file(self, meta: bytes) -> Path:
        import numpy as np

        path = self.folder / f"input{next(self.counter)}.npz"
        text = np.array(meta.decode("utf-8", errors="replace"))
        np.savez(path, **self.arrays, meta=text)
        return path

    def variants(self, data: bytes) -> list[tuple[str, Path, Callable[[Path], Any]]]:
        model = self.item2vec.Item2Vec
        read_events = self.item2vec.read_events

        def events(path: Path) -> Any:
            return read_events(path, user="user", item="item", time="time")

        if self.name in ("load", "load_meta"):
            path = self.file(data, ".npz") if self.name == "load" else self.model_file(data)
            return [
                ("Item2Vec.load(path)", path, model.load),
                ("Item2Vec.load(path, mmap=True)", path, lambda p: model.load(p, mmap=True)),
            ]
        if self.name == "word2vec":
            path = self.file(data, ".txt")
            return [
                (
                    "Item2Vec.load_word2vec_format(path, binary=False, item_type=str)",
                    path,
                    lambda p: model.load_word2vec_format(p, binary=False, item_type=str),
                ),
                (
                    "Item2Vec.load_word2vec_format(path, binary=True, item_type=str)",
                    path,
                    lambda p: model.load_word2vec_format(p, binary=True, item_type=str),
                ),
            ]
        call = 'read_events(path, user="user", item="item", time="time")'
        found = [(f"{call} of a .csv", self.file(data, ".csv"), events)]
        if self.name == "events":
            found.append((f"{call} of a .parquet", self.file(data, ".parquet"), events))
        return found

    def __call__(self, data: bytes) -> None:
        try:
            for description, path, load in self.variants(data):
                try:
                    load(path)  # the result is dropped at once, with any memory map
                except Exception as exc:
                    if not is_documented(exc):
                        print(f"\n== finding in {self.name}: {description}", file=sys.stderr)
                        raise
        finally:
            for leftover in self.folder.iterdir():
                leftover.unlink()


# --- seeds -----------------------------------------------------------------------------


def _tiny_model() -> Any:
    from item2vec import Item2Vec

    return Item2Vec(vector_size=2, min_count=1, epochs=1, sample=0, random_state=0, n_jobs=1)


def _model_with_features() -> tuple[Any, dict[str, Any]]:
    """A small model with item features, and the arrays of its saved file but the metadata."""
    import numpy as np

    model = _tiny_model().fit(
        [["a", "b", "c"], ["b", "c", "a"]], item_features={"a": ["x"], "b": ["x", "y"]}
    )
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model.npz")
        with np.load(Path(folder) / "model.npz") as saved:
            arrays = {name: saved[name] for name in saved.files if name != "meta"}
    arrays["items"] = np.array([1, 2, 3])  # read when the metadata's items_json is null
    return model, arrays


def _model_arrays() -> dict[str, Any]:
    return _model_with_features()[1]


def _escaped(token: bytes) -> str:
    """A token as libFuzzer's dictionary syntax spells it: printable ASCII, else \\xNN."""
    return "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in token)


def write_seeds(root: Path) -> None:
    """Small valid inputs for every target, so the fuzzer starts from files that load."""
    import numpy as np

    from item2vec import Item2Vec

    for name in TARGETS:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / f"{name}.dict").write_text(
            "".join(f'"{_escaped(token)}"\n' for token in TOKENS[name]), encoding="ascii"
        )

    def tiny() -> Item2Vec:
        model: Item2Vec = _tiny_model()
        return model

    sequences = [["a", "b", "c"], ["b", "c", "d"], ["a", "d"]]
    corpora: dict[str, list[list[Any]]] = {
        "str": sequences,
        "int": [[1, 2, 3], [3, 2, 1]],
        "mixed": [["a", 1], [1, "a", "b"]],
    }
    for label, corpus in corpora.items():
        model = tiny().fit(corpus)
        model.save(root / "load" / f"{label}.npz")
        for binary in (False, True):
            model.save_word2vec_format(root / "word2vec" / f"{label}-{int(binary)}.w2v", binary)
    features = tiny().fit(sequences, item_features={"a": ["x"], "b": ["x", "y"]})
    features.save(root / "load" / "features.npz")
    with_features = _model_with_features()[0]
    with tempfile.TemporaryDirectory() as folder:
        with_features.save(Path(folder) / "model.npz")
        with np.load(Path(folder) / "model.npz") as saved:
            meta = json.loads(str(saved["meta"]))
    (root / "load_meta" / "features.json").write_text(json.dumps(meta))
    (root / "load_meta" / "int-items.json").write_text(json.dumps({**meta, "items_json": None}))
    plain = {k: v for k, v in meta.items() if k != "features"}
    (root / "load_meta" / "no-features.json").write_text(json.dumps(plain, indent=1))
    # room after each number, so that overwriting it with a longer token keeps valid JSON
    padded = re.sub(r"(: -?[0-9][0-9.e+-]*)", r"\1            ", json.dumps(meta))
    (root / "load_meta" / "padded.json").write_text(padded)
    (root / "word2vec" / "trailing-space.w2v").write_bytes(b"2 2\nx 0.5 -1 \ny 1e-3 2.0 \n")

    texts = {
        "plain.csv": "user,item,time\nu1,a,2\nu1,b,1\nu2,c,5\n",
        "floats.csv": "time,user,item\n1.5,1,10\n0.25,1,11\n3e2,2,10\n",
        "quoted.csv": 'user,item,time\n"u,1","a ""x""",1\nu2,b,2\n',
        "tab.tsv": "user\titem\ttime\tweight\nu1\ta\t1\t0.5\nu1\tb\t2\t1\n",
        "semicolon.csv": "user;item;time\nu1;a;1\nu1;b;2\n",
        "dates.csv": "user,item,time\nu1,a,2024-01-02\nu1,b,2024-01-01T10:00:00\n",
    }
    csv_targets = ("events", "events_stdlib")
    for target in csv_targets:
        folder = root / target
        for file_name, text in texts.items():
            (folder / file_name).write_text(text, encoding="utf-8", newline="")
        plain = texts["plain.csv"]
        (folder / "bom.csv").write_bytes(b"\xef\xbb\xbf" + plain.encode())
        (folder / "utf16.csv").write_bytes(plain.encode("utf-16"))
        (folder / "gzip.csv").write_bytes(gzip.compress(plain.encode(), mtime=0))
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    tables = {
        "strings": pa.table(
            {"user": ["u1", "u1", "u2"], "item": ["a", "b", "c"], "time": [2, 1, 5]}
        ),
        "ints": pa.table(
            {
                "user": pa.array([1, 1, 2], pa.int32()),
                "item": pa.array([10, 11, 10], pa.uint64()),
                "time": [0.5, 0.25, 1.0],
            }
        ),
        "timestamps": pa.table(
            {
                "user": ["u1", "u1"],
                "item": pa.array(["a", "b"]).dictionary_encode(),
                "time": pa.array(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[s]")),
            }
        ),
    }
    for label, table in tables.items():
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="none")
        (root / "events" / f"{label}.parquet").write_bytes(buffer.getvalue())


# --- entry points ----------------------------------------------------------------------


def fuzz(name: str, argv: list[str]) -> None:
    import atheris

    if name == "events_stdlib":
        hide_pyarrow()
    # instrument item2vec and the pure-Python readers it relies on, for coverage feedback;
    # zipfile is imported at start-up, so it is imported afresh (before numpy and item2vec)
    for module in ("zipfile", "gzip", "json", "json.decoder", "json.scanner", "json.encoder"):
        sys.modules.pop(module, None)
    with atheris.instrument_imports(include=["item2vec", "zipfile", "gzip", "json"]):
        target = Target(name)
    # numpy's .npy/.npz readers, without instrumenting the rest of numpy
    import numpy.lib._format_impl
    import numpy.lib._npyio_impl

    for module in (numpy.lib._format_impl, numpy.lib._npyio_impl):
        for function in _functions(module):
            atheris.instrument_func(function)
    # libFuzzer options the caller did not give: an input size suited to the target, hangs
    # and runaway memory as findings, and every seed kept (their variety is the point)
    defaults = {"max_len": MAX_LEN[name], "timeout": 60, "rss_limit_mb": 4096, "keep_seed": 1}
    given = {arg[1:].split("=", 1)[0] for arg in argv if arg.startswith("-")}
    options = [f"-{key}={value}" for key, value in defaults.items() if key not in given]
    atheris.Setup([sys.argv[0], *options, *argv], target)
    atheris.Fuzz()


def _functions(module: types.ModuleType) -> list[types.FunctionType]:
    """The functions and methods defined in ``module``'s source file."""
    found = []
    for value in vars(module).values():
        members = vars(value).values() if isinstance(value, type) else [value]
        for member in members:
            if isinstance(member, property):
                member = member.fget
            if isinstance(member, types.FunctionType):
                if member.__code__.co_filename == module.__file__:
                    found.append(member)
    return found


def replay(name: str, files: list[str]) -> int:
    """Run inputs once; print each outcome and the traceback of any finding."""
    if name == "events_stdlib":
        hide_pyarrow()
    target = Target(name)
    status = 0
    for file_name in files:
        data = Path(file_name).read_bytes()
        try:
            target(data)
        except Exception:
            traceback.print_exc()
            status = 1
        else:
            print(f"{file_name}: documented outcomes only")
    return status


def main(argv: list[str]) -> int:
    usage = __doc__.split("Usage::", 1)[1]
    if len(argv) < 2 or argv[0] not in ("seeds", "fuzz", "run"):
        print(f"usage:{usage}", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "seeds":
        write_seeds(Path(rest[0]))
        return 0
    if rest[0] not in TARGETS:
        print(f"unknown target {rest[0]!r}; targets: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    if command == "run":
        return replay(rest[0], rest[1:])
    fuzz(rest[0], rest[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

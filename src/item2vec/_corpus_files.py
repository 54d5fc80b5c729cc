"""The on-disk corpus: a directory of ``.npy`` arrays and a JSON header.

::

    corpus/
      header.json     format, version, sizes, which arrays there are, how it was built
      codes.npy       int32[n_tokens]
      offsets.npy     int64[n_sequences + 1]
      weights.npy     float32[n_tokens]       (optional)
      times.npy       float64[n_tokens]       (optional)
      items.npy       the vocabulary's ids    (items.json when NumPy cannot hold them)
      counts.npy      int64[n_items]
      users.npy       one id per sequence     (optional; users.json likewise)

A corpus is written into a temporary directory beside its path, the header
last, then renamed into place, so a failed or interrupted write never leaves
something that opens as a corpus, and an earlier corpus at the path survives
it. Only a corpus is ever replaced, and only its own files are removed: a
path holding anything else is refused. Arrays stream in through
:class:`CorpusWriter` in chunks of any size, so a corpus larger than memory
can be written; :func:`read_corpus` maps them read-only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from item2vec._files import _terminate_as_exit, sync_directory, synced_open
from item2vec.vocab import _as_item_array, savable_id

__all__ = ["FORMAT_VERSION", "CorpusWriter", "read_corpus"]

FORMAT = "item2vec-corpus"
FORMAT_VERSION = 1
HEADER = "header.json"
TOKEN_ARRAYS = {"codes": np.int32, "weights": np.float32, "times": np.float64}
_NPY_HEADER_BYTES = 128  # room for any 1-D shape; data then starts 64-byte aligned
ID_ARRAYS = ("items", "users")
# every file a corpus may hold: anything else in its directory is not the corpus's
OWN_FILES = frozenset(
    [HEADER, "offsets.npy", "counts.npy"]
    + [f"{name}.npy" for name in TOKEN_ARRAYS]
    + [f"{name}.{kind}" for name in ID_ARRAYS for kind in ("npy", "json")]
)


class NpyAppender:
    """A 1-D ``.npy`` file written in chunks: the header, which holds the length,
    is written when the file is closed."""

    def __init__(self, path: Path, dtype: Any) -> None:
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.length = 0
        self._handle: IO[bytes] = open(path, "wb")
        self._handle.write(b"\0" * _NPY_HEADER_BYTES)

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype).reshape(-1)
        self._handle.write(values.data.cast("B"))
        self.length += values.shape[0]

    def close(self) -> None:
        if self._handle.closed:
            return
        descr = np.lib.format.dtype_to_descr(self.dtype)
        text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': ({self.length},), }}"
        # magic, version 1.0, a 2-byte header length, then the padded dict ending in \n
        room = _NPY_HEADER_BYTES - 10
        header = (text.ljust(room - 1) + "\n").encode("latin1")
        self._handle.seek(0)
        self._handle.write(b"\x93NUMPY\x01\x00" + room.to_bytes(2, "little") + header)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()


class CorpusWriter:
    """Write a corpus directory atomically; use as a context manager.

    Parameters
    ----------
    path : str or path
        The corpus directory. An existing corpus there is replaced once the
        new one is complete; anything else there (a file, a directory holding
        other files than a corpus's own, the current directory) is refused.
    opens : callable
        Opens a corpus directory, checking every value, and raises ValueError
        if it is corrupt (:meth:`Sequences.open`): the new corpus must pass it
        before it replaces anything. Passed in by the writers, which sit above
        this module (it would otherwise import ``corpus`` back).
    """

    def __init__(self, path: str | os.PathLike[str], opens: Callable[[Path], Any]) -> None:
        self._opens = opens
        check_own_directory(path)
        self.path = Path(path)
        check_replaceable(self.path)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise FileNotFoundError(f"no such directory: {parent}")
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent))
        self._arrays: dict[str, NpyAppender] = {}
        self._ids: dict[str, str] = {}

    def array(self, name: str, dtype: Any) -> NpyAppender:
        """A new array file ``name.npy`` to append to."""
        appender = NpyAppender(self.tmp / f"{name}.npy", dtype)
        self._arrays[name] = appender
        return appender

    def ids(self, name: str, values: np.ndarray) -> None:
        """Write ids (items or users): ``.npy`` for numbers and str, JSON for the rest."""
        values = np.asarray(values)
        if values.dtype == object and values.shape[0]:
            listed = values.tolist()
            # as a str array: mapped, not parsed; but NumPy's fixed-width str drops trailing
            # NULs ("a\x00" would come back as "a"), so such ids go to JSON, which keeps them
            if all(type(v) is str for v in listed) and not any(v.endswith("\x00") for v in listed):
                values = np.asarray(listed, dtype=str)
        if values.dtype.kind in "iuU":
            with synced_open(self.tmp / f"{name}.npy", "wb") as handle:
                np.save(handle, values, allow_pickle=False)
            self._ids[name] = "npy"
            return
        listed = values.tolist()
        if not all(savable_id(v) for v in listed):
            kinds = sorted({type(v).__name__ for v in listed})
            raise TypeError(f"{name} ids must be str or int to be saved, found {kinds}")
        with synced_open(self.tmp / f"{name}.json", "w", encoding="utf-8") as handle:
            json.dump(listed, handle)
        self._ids[name] = "json"

    def commit(self, built_by: dict[str, Any]) -> None:
        """Close every file, write the header, and move the corpus into place."""
        for appender in self._arrays.values():
            appender.close()
        lengths = {name: a.length for name, a in self._arrays.items()}
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "n_sequences": lengths["offsets"] - 1,
            "n_tokens": lengths["codes"],
            "n_items": lengths["counts"],
            "arrays": sorted(self._arrays),
            "ids": self._ids,
            "built_by": built_by,
        }
        with synced_open(self.tmp / HEADER, "w", encoding="utf-8") as handle:
            json.dump(header, handle, indent=1)
        sync_directory(self.tmp)  # the new files' entries, before the corpus moves in
        self._check_opens()
        _replace_directory(self.tmp, self.path)

    def _check_opens(self) -> None:
        """Open the new corpus as :meth:`Sequences.open` would, checking every value,
        before it replaces anything: a value the files cannot hold (a weight beyond
        float32, which became inf) must not put a corpus that does not open in the
        place of one that does."""
        try:
            self._opens(self.tmp)
        except ValueError as exc:
            reason = str(exc).removeprefix(f"{self.tmp} is corrupt: ")
            if reason.startswith("weights"):
                largest = float(np.finfo(np.float32).max)
                reason += f" (weights are stored as float32, whose largest value is {largest:.4g})"
            raise ValueError(
                f"the corpus built for {self.path} would not open, so it was not written "
                f"(what was at {self.path} is untouched): {reason}"
            ) from None

    def abort(self) -> None:
        for appender in self._arrays.values():
            with contextlib.suppress(OSError):
                appender.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> CorpusWriter:
        self._signals = _terminate_as_exit()
        self._signals.__enter__()
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        try:
            if self.tmp.exists():  # not committed (an error, or never finished)
                self.abort()
        finally:
            self._signals.__exit__(kind, value, traceback)


def check_own_directory(path: str | os.PathLike[str]) -> None:
    """Refuse a path that names no directory of its own: one ending in ``.`` or ``..``
    (``""`` too), the current directory, or one above it, which hold more than a corpus."""
    given = os.fspath(path)
    if Path(given).name in ("", ".", ".."):
        raise ValueError(
            f"path {given!r} does not name a directory of its own (it ends in '.' or '..'): "
            f"a corpus needs one, e.g. 'corpus', since it is replaced as a whole"
        )
    with contextlib.suppress(OSError):  # a working directory that was removed has no path
        here, target = Path.cwd().resolve(), Path(given).resolve()
        if target == here or target in here.parents:
            raise ValueError(
                f"path {given!r} is the current directory or one above it ({target}): a "
                f"corpus needs a directory of its own, e.g. 'corpus', since it is replaced "
                f"as a whole"
            )


def check_replaceable(path: Path) -> None:
    """Refuse a path whose replacement would lose something that is not a corpus:
    a file, a link, or a directory holding anything but a corpus's own files."""
    reason = _refusal(path, path)
    if reason is not None:
        raise ValueError(reason)


def _refusal(directory: Path, shown: Path) -> str | None:
    """Why ``directory`` (known to the user as ``shown``) may not be replaced, if it may not.

    Only an empty directory, or one whose header says it is a corpus and which holds
    nothing but a corpus's own files, may go: anything else was put there by someone.
    """
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        return f"{shown} exists and is not a corpus directory: refusing to replace it"
    if not directory.is_dir():
        return None
    names = sorted(os.listdir(directory))
    foreign = [name for name in names if not _own_file(directory, name)]
    if foreign:
        listed = ", ".join(repr(name) for name in foreign[:10])
        more = f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""
        return (
            f"{shown} holds files that are not a corpus's own ({listed}{more}): refusing to "
            f"replace it, which would delete them (move them elsewhere or choose a new path)"
        )
    if names and _header_of(directory) is None:
        return (
            f"{shown} is a directory that does not hold an item2vec corpus: refusing to "
            f"replace it (choose a new path or remove it)"
        )
    return None


def _own_file(directory: Path, name: str) -> bool:
    """Whether ``name`` in ``directory`` is a file a corpus writes (a regular file)."""
    if name not in OWN_FILES:
        return False
    with contextlib.suppress(OSError):
        return stat.S_ISREG(os.lstat(directory / name).st_mode)
    return False


def _header_of(path: Path) -> dict[str, Any] | None:
    try:
        with open(path / HEADER, encoding="utf-8") as handle:
            header = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return None
    return header if isinstance(header, dict) and header.get("format") == FORMAT else None


def _replace_directory(new: Path, path: Path) -> None:
    """Move ``new`` to ``path``; a corpus already there is moved aside first, then its
    own files are removed (nothing else: what was not written as a corpus stays).

    Between the two renames nothing is at ``path`` (POSIX cannot swap two directories
    in one step): a reader then finds no corpus, never a mixed or half-written one.
    Whatever is at ``path`` is checked again once moved aside, since it may have
    changed during the build; anything but a corpus is put back, and the new one dropped.
    """
    os.chmod(new, 0o777 & ~_umask())
    if not os.path.lexists(path):
        # a directory made there meanwhile makes this fail unless it is empty: nothing is lost
        os.rename(new, path)
        sync_directory(path.parent)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    old = aside / "corpus"
    try:
        os.rename(path, old)
    except BaseException:
        os.rmdir(aside)
        raise
    reason = _refusal(old, path)
    if reason is not None:
        _put_back(old, path, reason)
        os.rmdir(aside)
        raise ValueError(reason)
    try:
        os.rename(new, path)
    except BaseException:
        _put_back(old, path, "the new corpus could not be moved into place")
        os.rmdir(aside)
        raise
    sync_directory(path.parent)
    _remove_corpus(old)
    with contextlib.suppress(OSError):
        os.rmdir(aside)


def _put_back(old: Path, path: Path, reason: str) -> None:
    try:
        os.rename(old, path)
    except OSError as exc:  # something new took the name in between: say where the old is
        raise OSError(f"{reason}; what was at {path} is now at {old} ({exc})") from None


def _remove_corpus(directory: Path) -> None:
    """Remove a corpus's own files, then the directory if that left it empty."""
    for name in os.listdir(directory):
        if _own_file(directory, name):
            os.unlink(directory / name)
    with contextlib.suppress(OSError):  # something else came in: it stays
        os.rmdir(directory)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def read_corpus(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays of a corpus directory, memory-mapped read-only, and its header.

    Raises
    ------
    FileNotFoundError
        If there is no such directory.
    ValueError
        If it is not a corpus, was written by a newer version, or is damaged
        (missing or truncated arrays, sizes that disagree with the header).
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no such corpus directory: {path}")
    try:
        with open(path / HEADER, encoding="utf-8") as handle:
            header = json.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{path} is not an item2vec corpus (no {HEADER})") from None
    except RecursionError:  # JSON nested deeper than the parser's stack
        raise ValueError(f"{path} is corrupt: {HEADER} is nested too deeply to read") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable item2vec corpus: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not an item2vec corpus ({HEADER} names another format)")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path} is corrupt: format version {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in corpus format {version}, newer than this item2vec reads "
            f"({FORMAT_VERSION}); upgrade item2vec"
        )
    _check_file_names(path, header)
    try:
        arrays = {name: _mapped(path, name) for name in header["arrays"]}
        for name, kind in header["ids"].items():
            arrays[name] = _mapped(path, name) if kind == "npy" else _json_ids(path, name)
        expected = {
            "codes": header["n_tokens"], "weights": header["n_tokens"],
            "times": header["n_tokens"], "offsets": header["n_sequences"] + 1,
            "counts": header["n_items"], "items": header["n_items"],
            "users": header["n_sequences"],
        }  # fmt: skip
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} is corrupt: its header lacks {exc}") from None
    for name, length in expected.items():
        if name in arrays and arrays[name].shape != (length,):
            raise ValueError(
                f"{path} is corrupt: {name} holds {arrays[name].shape} values, the header "
                f"says ({length},)"
            )
    for name in ("codes", "offsets", "counts", "items"):
        if name not in arrays:
            raise ValueError(f"{path} is corrupt: it has no {name}")
    repeated = _repeated_id(arrays["items"])
    if repeated is not None:  # codes would be ambiguous, and a model of them unsavable
        raise ValueError(f"{path} is corrupt: item id {repeated[0]!r} appears more than once")
    return arrays, header


def _check_file_names(path: Path, header: dict[str, Any]) -> None:
    """Refuse a header naming files a corpus does not have (a path elsewhere among them)."""
    names, ids = header.get("arrays"), header.get("ids")
    if not isinstance(names, list) or not isinstance(ids, dict):
        raise ValueError(f"{path} is corrupt: its header lacks the list of its arrays and ids")
    known = [*TOKEN_ARRAYS, "offsets", "counts"]
    strange = [name for name in names if not isinstance(name, str) or name not in known]
    strange += [f"{name}: {kind!r}" for name, kind in ids.items()
                if name not in ID_ARRAYS or kind not in ("npy", "json")]  # fmt: skip
    if strange:
        raise ValueError(
            f"{path} is corrupt: its header names arrays a corpus does not have: {strange}"
        )


def _repeated_id(items: np.ndarray) -> tuple[Any] | None:
    """An id that ``items`` holds twice (compared as dictionary keys, as a vocabulary
    compares them), in a 1-tuple; None if every id is unique."""
    if items.dtype == object:
        seen: set[Any] = set()
        for item in items.tolist():
            if item in seen:
                return (item,)
            seen.add(item)
        return None
    ordered = np.sort(items)
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    return (ordered[same[0]].item(),) if same.shape[0] else None


def _mapped(path: Path, name: str) -> np.ndarray:
    file = path / f"{name}.npy"
    try:
        array = np.load(file, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"{path} is corrupt: {file.name} is missing") from None
    except (OSError, ValueError, EOFError) as exc:  # a truncated file cannot be mapped
        raise ValueError(f"{path} is corrupt: {file.name}: {exc}") from None
    if array.ndim != 1 or array.dtype.hasobject:
        raise ValueError(f"{path} is corrupt: {file.name} is not a 1-D array")
    return array


def _json_ids(path: Path, name: str) -> np.ndarray:
    try:
        with open(path / f"{name}.json", encoding="utf-8") as handle:
            values = json.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{path} is corrupt: {name}.json is missing") from None
    except RecursionError:
        raise ValueError(f"{path} is corrupt: {name}.json is nested too deeply to read") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is corrupt: {name}.json: {exc}") from None
    if not isinstance(values, list):
        raise ValueError(f"{path} is corrupt: {name}.json does not hold a list")
    for value in values:
        if not savable_id(value):  # what a corpus writes; anything else was not written
            raise ValueError(
                f"{path} is corrupt: {name}.json holds {value!r}, an id that is neither str nor int"
            )
    return _as_item_array(values)

"""Event files (CSV, TSV, Parquet) read into a :class:`~item2vec.Sequences` corpus."""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from item2vec.corpus import Sequences, _column

__all__ = ["read_events", "read_table"]


def read_events(path: str | os.PathLike[str], **kwargs: Any) -> Sequences:
    r"""Read an event table from CSV or Parquet and build :class:`Sequences` from it.

    Parameters
    ----------
    path : str or path
        A ``.parquet`` / ``.pq`` file (needs pyarrow), or a delimited text
        file (``.csv``, ``.tsv``, ...; the delimiter is sniffed from the
        header line). Text files are read with pyarrow when it is installed
        and with the standard library otherwise; numeric columns are detected.
    **kwargs
        Passed to :meth:`Sequences.from_events` (``user``, ``item``, ``time``,
        ``weight``, ``min_weight``, ``session_gap``, ``min_length``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text("user,item,time\nu1,a,2\nu1,b,1\nu2,c,5\n")
    >>> read_events(path, user="user", item="item", time="time").to_lists()
    [['b', 'a'], ['c']]
    """
    ids = tuple(kwargs[key] for key in ("user", "item") if isinstance(kwargs.get(key), str))
    return Sequences.from_events(read_table(path, text_columns=ids), **kwargs)


def read_table(
    path: str | os.PathLike[str], text_columns: Iterable[str] = ()
) -> dict[str, np.ndarray]:
    """Columns of a CSV/TSV or Parquet file as numpy arrays.

    In text files, ``text_columns`` (such as id columns) are kept as strings,
    so "001" and "1" stay different; other columns become int64 or float64
    when every value parses as one.
    """
    text_columns = set(text_columns)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(
                "reading Parquet needs pyarrow: pip install 'item2vec[arrow]'"
            ) from None
        import pyarrow as pa

        try:
            table = pq.read_table(path)
            return {name: _column(table, name) for name in table.column_names}
        except (pa.ArrowException, OSError, UnicodeError) as exc:
            raise ValueError(f"{path} is not a readable Parquet file: {exc}") from None
    try:
        return _read_text(path, text_columns)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path} is not a readable gzip file: {exc}") from None
    except csv.Error as exc:  # e.g. a field over the standard library's size limit
        raise ValueError(f"{path}: {exc}") from None


def _read_text(path: Path, text_columns: set[str]) -> dict[str, np.ndarray]:
    compressed, encoding = _text_kind(path)
    with _open_text(path, compressed, encoding) as handle:
        header = _decoded(path, encoding, handle.readline)
    if not header.strip():
        raise ValueError(f"{path} is empty")
    delimiter = max(("\t", ",", ";", "|"), key=header.count)
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return _read_delimited(path, delimiter, text_columns)
    if compressed or encoding != "utf-8-sig":
        return _read_delimited(path, delimiter, text_columns)
    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in text_columns}
            ),
        )
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower():
            raise ValueError(f"{path} is not UTF-8 text ({exc}): convert it to UTF-8") from None
        raise ValueError(f"{path}: {exc}") from None
    return {name: _column(table, name) for name in table.column_names}


def _read_delimited(path: Path, delimiter: str, text_columns: set[str]) -> dict[str, np.ndarray]:
    import csv

    compressed, encoding = _text_kind(path)
    with _open_text(path, compressed, encoding) as handle:
        reader = csv.reader(_checked_lines(path, encoding, handle), delimiter=delimiter)
        names = next(reader)
        columns: list[list[str]] = [[] for _ in names]
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(names):
                raise ValueError(
                    f"{path}, line {line_no}: expected {len(names)} fields, got {len(row)}"
                )
            for column, value in zip(columns, row, strict=True):
                column.append(value)
    return {
        name: np.array(values, dtype=object) if name in text_columns else _infer_numeric(values)
        for name, values in zip(names, columns, strict=True)
    }


def _infer_numeric(values: list[str]) -> np.ndarray:
    """int64 if every value is an integer, float64 if every one is a number, else str.

    Integers too large for int64 stay text rather than losing digits as floats.
    """
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)
    except ValueError:
        pass
    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=object)


def _text_kind(path: Path) -> tuple[bool, str]:
    """Whether a text file is gzip-compressed, and its encoding (UTF-16 by its byte-order
    mark, else UTF-8 with an optional mark)."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if compressed else path.open("rb") as raw:
        start = raw.read(2)
    return compressed, "utf-16" if start in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def _open_text(path: Path, compressed: bool, encoding: str) -> IO[str]:
    if compressed:
        return gzip.open(path, "rt", newline="", encoding=encoding)
    return path.open(newline="", encoding=encoding)


def _decoded(path: Path, encoding: str, read: Callable[[], str]) -> str:
    try:
        return read()
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not {encoding.removesuffix('-sig').upper()} text ({exc.reason} at byte "
            f"{exc.start}): convert it to UTF-8"
        ) from None


def _checked_lines(path: Path, encoding: str, handle: IO[str]) -> Iterator[str]:
    while True:
        line = _decoded(path, encoding, handle.readline)
        if not line:
            return
        yield line

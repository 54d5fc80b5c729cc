"""Event files (CSV, TSV, Parquet) read into a :class:`~item2vec.Sequences` corpus."""

from __future__ import annotations

import csv
import glob
import gzip
import os
import shutil
import sys
import tempfile
import time as _time
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from item2vec._columns import (
    _column,
    _id_rank,
    refuse_bool_ids,
    typed_distinct_ids,
    typed_text_ids,
    unhashable_id_error,
    wrong_id_type,
)
from item2vec._corpus_files import CorpusWriter
from item2vec._sequence_shards import (
    BATCH_ROWS,
    Shard,
    concatenated_ids,
    merge_shards,
    refuse_bad_events,
)
from item2vec.corpus import Sequences, check_event_options

__all__ = ["build_corpus", "read_events", "read_table"]


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

    In text files, ``text_columns`` (such as id columns) are typed by the rule
    every reader of ids follows (:func:`item2vec._columns.typed_text_ids`): integers
    when every value is the plain spelling of one, else text as written, so "001"
    and "1" stay different; other columns become int64 or float64 when every value
    parses as one.
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
        columns = _read_text(path, text_columns)
        return {name: typed_text_ids(values) if name in text_columns else values
                for name, values in columns.items()}  # fmt: skip
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


def build_corpus(
    source: Any,
    path: str | os.PathLike[str],
    *,
    user: str,
    item: str,
    time: str | None = None,
    weight: str | None = None,
    min_weight: float | None = None,
    session_gap: float | None = None,
    min_length: int = 1,
    min_count: int = 1,
    memory_limit: str = "2GB",
    threads: int | None = None,
    verbose: bool = False,
) -> Sequences:
    """Turn an event log of any size into an on-disk corpus, out of core, with DuckDB.

    DuckDB reads the events, filters them, and sorts them by user, time and
    input order, spilling to disk beyond ``memory_limit``; the sorted events
    then stream out in bounded batches, are cut into sessions, counted and
    coded, and land in the corpus files. Memory stays near ``memory_limit``
    plus the vocabulary and one integer per sequence, whatever the log's size.
    Needs the ``duckdb`` extra (``pip install 'item2vec[duckdb]'``).

    Parameters
    ----------
    source : str, path, list of them, pyarrow Table, pandas DataFrame or dict
        Parquet files, CSV/TSV files (gzip-compressed ``.csv.gz`` too) or
        glob patterns of them (``"logs/*.parquet"``), or a table in memory
        (a dict maps column names to arrays).
        In CSV files, the id columns are read as text, as by
        :func:`read_events`.
    path : str or path
        The corpus directory to write (atomically; see :meth:`Sequences.save`).
    user, item, time, weight, min_weight, session_gap, min_length
        As in :meth:`Sequences.from_events`, which builds the same arrays
        from the same events in memory.
    min_count : int, default=1
        Drop items with fewer events than this (counted after the other
        filters) from the sequences, as :meth:`Sequences.pruned` does;
        sequences keep their place.
    memory_limit : str, default="2GB"
        DuckDB's memory limit (``"500MB"``, ``"8GB"``, ...).
    threads : int, optional
        DuckDB's threads; all cores by default.
    verbose : bool, default=False
        Report each step and the events streamed on stderr.

    Returns
    -------
    Sequences
        The written corpus, opened (memory-mapped).

    Raises
    ------
    ImportError
        Without DuckDB.
    KeyError
        If a column is missing.
    ValueError
        For missing ids or times, NaN, infinite or negative weights, an id
        column mixing types, or unreadable files; nothing is left behind.
    """
    duckdb = _import_duckdb()
    check_event_options(time, weight, min_weight, session_gap, min_length, min_count)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):  # fmt: skip
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    started = _time.perf_counter()
    say = _Reporter(verbose)
    path = Path(path)
    with CorpusWriter(path, opens=Sequences.open) as writer:
        spill = Path(
            tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".spill", dir=writer.tmp.parent)
        )
        try:
            con = duckdb.connect(":memory:")
            try:
                con.execute(f"SET memory_limit = '{_sql_text(memory_limit)}'")
                con.execute(f"SET temp_directory = '{_sql_text(str(spill / 'duckdb'))}'")
                con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
                described, relation, position = _register_source(
                    con, source, (user, item), () if weight is None else (weight,),
                    () if time is None else (time,),
                )  # fmt: skip
                bad_time = _events_view(con, described, relation, position, user, item, time,
                                        weight, min_weight)  # fmt: skip
                n_events = _check_events(con, user, item, time, weight, bad_time)
                text_ids = _reads_text(source)
                say(f"{n_events:,} events; coding ids")
                users, items = (
                    _ranked_ids(con, "u", user, text_ids),
                    _ranked_ids(con, "i", item, text_ids),
                )
                built = _stream_sequences(con, spill, time, weight, session_gap, min_length, say)
                say(f"{built.n_sequences:,} sequences; writing the corpus")
                uids = np.concatenate([np.zeros(0, np.int64), *built.uids])
                merge_shards(writer, [built], items, users[uids], min_count)
            except duckdb.Error as exc:
                raise ValueError(f"DuckDB could not build the corpus: {exc}") from None
            finally:
                con.close()
        finally:
            shutil.rmtree(spill, ignore_errors=True)
        writer.commit({
            "by": "build_corpus", "source": _describe(source), "user": user, "item": item,
            "time": time, "weight": weight, "min_weight": min_weight,
            "session_gap": session_gap, "min_length": min_length, "min_count": min_count,
            "events_read": n_events, "seconds": round(_time.perf_counter() - started, 3),
        })  # fmt: skip
    say(f"done in {_time.perf_counter() - started:,.1f} s: {path}")
    return Sequences.open(path)


def _import_duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ImportError("build_corpus needs DuckDB: pip install 'item2vec[duckdb]'") from None
    try:
        import pyarrow  # noqa: F401  (DuckDB hands the sorted events over as Arrow batches)
    except ImportError:
        raise ImportError("build_corpus needs pyarrow: pip install 'item2vec[duckdb]'") from None
    return duckdb


def _sql_text(value: str) -> str:
    return str(value).replace("'", "''")


def _sql_name(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _files_of(source: Any) -> list[str]:
    """The files a path, glob or list of them names, in the order given (globs sorted),
    each once: a file named again (twice, or by a glob and by name) keeps its first place.

    A name that exists as a file is that file, even if it holds glob characters
    (``a[1].parquet``); other names holding them are patterns.
    """
    patterns = [source] if isinstance(source, str | os.PathLike) else list(source)
    files: list[str] = []
    seen: set[str] = set()
    for pattern in patterns:
        pattern = os.fspath(pattern)
        if os.path.isfile(pattern):
            matched = [pattern]
        elif any(ch in pattern for ch in "*?["):
            matched = sorted(glob.glob(pattern))
            if not matched:
                raise FileNotFoundError(f"no file matches {pattern}")
        else:
            raise FileNotFoundError(f"no such file: {pattern}")
        for name in matched:
            key = os.path.normcase(os.path.realpath(name))
            if key not in seen:
                seen.add(key)
                files.append(name)
    if not files:
        raise ValueError("no event files given")
    return files


def _literal(name: str) -> str:
    """A file name as DuckDB's readers take it literally: they glob every name they are
    given, so each glob character stands in a bracket of its own."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def _csv_scan(
    con: Any, listed: str, text_columns: tuple[str, ...], number_columns: tuple[str, ...],
    sniffed_columns: tuple[str, ...],
) -> str:  # fmt: skip
    """The scan of CSV files with every type it needs declared.

    Ids are read as text and typed afterwards by :func:`typed_distinct_ids` (the rule of
    every reader); weights are numbers, read as DOUBLE; ``sniffed_columns`` (the time)
    take the type DuckDB finds in every row of the files, never one guessed from a first
    sample, which would round a later ``0.5``. That whole-file look costs one pass; the
    scans that follow (the build reads the events several times) then sniff nothing.
    """
    sample = ", sample_size = -1" if sniffed_columns else ""
    header = con.execute(
        f"DESCRIBE SELECT * FROM read_csv({listed}, header = true, union_by_name = true{sample})"
    ).fetchall()
    kinds = {row[0]: row[1] for row in header}
    for name in (*text_columns, *number_columns, *sniffed_columns):
        if name not in kinds:
            raise KeyError(f"column {name!r} not found; columns are {list(kinds)}")
    types = ", ".join([*(f"'{_sql_text(c)}': 'VARCHAR'" for c in text_columns),
                       *(f"'{_sql_text(c)}': 'DOUBLE'" for c in number_columns),
                       *(f"'{_sql_text(c)}': '{_sql_text(kinds[c])}'"
                         for c in sniffed_columns)])  # fmt: skip
    return f"read_csv({listed}, header = true, union_by_name = true, types = {{{types}}})"


def _register_source(
    con: Any, source: Any, text_columns: tuple[str, ...], number_columns: tuple[str, ...] = (),
    sniffed_columns: tuple[str, ...] = (),
) -> tuple[dict[str, str], str, str]:  # fmt: skip
    """Make the events available as the relation ``source``.

    Returns its column types, and the relation and expression that give each event
    its input position (files in the order given, then their rows): Parquet files
    say where each row is, which DuckDB reads in parallel; otherwise
    ``row_number()`` over the plain scan numbers the rows in the order read (on one
    thread).
    """
    positioned = ("source", "row_number() OVER ()")
    if isinstance(source, dict):  # columns as arrays or lists: an Arrow table of them
        import pyarrow as pa

        try:
            source = pa.table({name: _column(source, name) for name in source})
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise ValueError(f"the event columns do not make a table: {exc}") from None
    module = type(source).__module__
    if module.startswith("pandas"):
        _check_pandas_ids(source)
        con.register("source", source)
    elif module.startswith("pyarrow"):
        con.register("source", source)
    elif isinstance(source, str | os.PathLike | list | tuple):
        files = _files_of(source)
        listed = "[" + ", ".join(f"'{_sql_text(_literal(f))}'" for f in files) + "]"
        lower = [f.lower() for f in files]
        if all(f.endswith(_PARQUET_SUFFIXES) for f in lower):
            # the input order from the files themselves (file, then row), which the scan
            # reads in parallel; row_number() OVER () would read on one thread
            con.execute("CREATE TEMP TABLE event_files (file_index BIGINT, file_name VARCHAR)")
            con.executemany("INSERT INTO event_files VALUES (?, ?)", list(enumerate(files)))
            con.execute(
                f"CREATE VIEW positioned_source AS SELECT s.*, (f.file_index << 40) + "
                f"s.file_row_number AS {_POSITION} FROM read_parquet({listed}, filename = "
                f"'{_FILE_COLUMN}', file_row_number = true, union_by_name = true) AS s "
                f"JOIN event_files AS f "
                f"ON s.{_FILE_COLUMN} = f.file_name"
            )
            positioned = ("positioned_source", _POSITION)
            # union_by_name: each file's own schema (an empty file's null-typed column
            # would otherwise type the others')
            scan = f"read_parquet({listed}, union_by_name = true)"
        elif all(f.endswith(_TEXT_SUFFIXES) for f in lower):
            scan = _csv_scan(con, listed, text_columns, number_columns, sniffed_columns)
        else:
            raise ValueError(
                "event files must all be Parquet (.parquet, .pq) or all CSV/TSV (.csv, .tsv, "
                f".txt, optionally .gz), got {files[:5]}"
            )
        con.execute(f"CREATE VIEW source AS SELECT * FROM {scan}")
    else:
        raise TypeError(
            "source must be event files (paths or globs), a pyarrow Table, a pandas "
            f"DataFrame or a dict of columns, got {type(source).__name__}"
        )
    described = con.execute("DESCRIBE SELECT * FROM source").fetchall()
    return {name: kind for name, kind, *_ in described}, *positioned


# columns of the positioned Parquet scan, named so as not to meet a user's column
_FILE_COLUMN = "__item2vec_file"
_POSITION = "__item2vec_position"


def _check_pandas_ids(frame: Any) -> None:
    """DuckDB turns an object column of ints and str into text silently: refuse it."""
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            refuse_bool_ids(column.to_numpy(), name)
            kind = pd.api.types.infer_dtype(column, skipna=True)
            # containers are "mixed" too: refused as from_events refuses them
            error = unhashable_id_error(column, name) if kind == "mixed" else None
            if error is not None:
                raise error
            if kind.startswith("mixed") and kind != "mixed-integer-float":
                raise ValueError(
                    f"column {name!r} mixes id types ({kind}); the ids of one column must "
                    f"share one type"
                )


def _events_view(
    con: Any, described: dict[str, str], relation: str, position: str, user: str, item: str,
    time: str | None, weight: str | None, min_weight: float | None,
) -> str:  # fmt: skip
    """The events as ``events(u, i, t, w, pos)``: ids, times, weights, input position.

    Returns the SQL condition of a time the build must refuse (missing or infinite).
    """
    for name in (user, item, time, weight):
        if name is not None and name not in described:
            raise KeyError(f"column {name!r} not found; columns are {list(described)}")
    for name, what in ((time, "time"), (weight, "weight")):
        if name is None:
            continue
        kind = described[name].upper()
        numeric = kind in _NUMERIC_TYPES or kind.startswith("DECIMAL")
        if what == "weight" and not numeric:
            raise TypeError(f"weight column {name!r} must be numeric, got {kind}")
        if what == "time" and (
            kind == "BOOLEAN" or not (numeric or kind.startswith(("TIMESTAMP", "DATE")))
        ):
            raise TypeError(f"time column {name!r} must hold numbers or datetimes, got {kind}")
    t = "NULL::DOUBLE"
    if time is not None:
        # times stay as they are (integers, floats, timestamps in their own unit): they
        # are ordered exactly here and turned into seconds and gaps by the rules of
        # from_events as they stream out
        column = _sql_name(time)
        kind = described[time].upper()
        if kind == "DATE":
            t = f"CAST({column} AS TIMESTAMP_S)"
        elif kind.startswith("TIMESTAMP") or kind in _EXACT_NUMBERS:
            t = column
        else:
            t = f"CAST({column} AS DOUBLE)"
    w = "NULL::DOUBLE" if weight is None else f"CAST({_sql_name(weight)} AS DOUBLE)"
    # the input position is the tie-break among a user's events at equal times; an enum
    # (a pandas categorical) is its values, which order by value as in from_events
    u, i = (f"CAST({_sql_name(n)} AS VARCHAR)" if described[n].upper().startswith("ENUM")
            else _sql_name(n) for n in (user, item))  # fmt: skip
    con.execute(
        f"CREATE TEMP VIEW all_events AS SELECT {u} AS u, {i} AS i, "
        f"{t} AS t, {w} AS w, {position} AS pos FROM {relation}"
    )
    keep = "" if min_weight is None else f" WHERE w >= CAST('{float(min_weight)!r}' AS DOUBLE)"
    con.execute(f"CREATE TEMP VIEW events AS SELECT * FROM all_events{keep}")
    if time is not None and described[time].upper().startswith(("TIMESTAMP", "DATE")):
        return "t IS NULL OR isinf(t)"
    return "t IS NULL OR isnan(CAST(t AS DOUBLE)) OR isinf(CAST(t AS DOUBLE))"


# integer times are kept as integers (exact gaps), as from_events keeps them
_EXACT_NUMBERS = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "FLOAT", "DOUBLE",
}  # fmt: skip

_NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "BOOLEAN",
}  # fmt: skip


def _check_events(
    con: Any, user: str, item: str, time: str | None, weight: str | None, bad_time: str
) -> int:
    """One pass over the events for what the build must refuse; returns their number."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE u IS NULL), count(*) FILTER (WHERE i IS NULL),"
        f" count(*) FILTER (WHERE {bad_time}),"
        " count(*) FILTER (WHERE w IS NULL OR isnan(w) OR isinf(w)),"
        " count(*) FILTER (WHERE w < 0) FROM all_events"
    ).fetchall()[0]
    return refuse_bad_events(row, user, item, time, weight)


def _stream_sequences(
    con: Any, spill: Path, time: str | None, weight: str | None,
    session_gap: float | None, min_length: int, say: _Reporter,
) -> Shard:  # fmt: skip
    """Sort the events in DuckDB and cut them into sequences while they stream out.

    Users and items are numbered by :func:`_ranked_ids` first (tables ``u_ranks`` and
    ``i_ranks``): provisional item ids in id order break the vocabulary's ties by id.
    """
    order = "uid, t, pos" if time is not None else "uid, pos"
    relation = con.sql(
        "SELECT u_ranks.rank AS uid, CAST(i_ranks.rank AS INTEGER) AS pid, events.t, events.w "
        "FROM events JOIN u_ranks ON events.u = u_ranks.u "
        f"JOIN i_ranks ON events.i = i_ranks.i ORDER BY {order}"
    )
    # DuckDB 2 renamed fetch_arrow_reader to to_arrow_reader
    to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    reader = to_reader(BATCH_ROWS)
    shard = Shard(spill, time is not None, weight is not None, session_gap, min_length)
    streamed = 0
    say.start()
    try:
        for batch in reader:
            streamed += batch.num_rows
            say.progress(streamed)
            shard.feed([np.asarray(batch.column(k).to_numpy(zero_copy_only=False))
                        for k in range(4)])  # fmt: skip
    finally:
        shard.finish()
    return shard


def _ranked_ids(con: Any, column: str, name: str, text: bool) -> np.ndarray:
    """The distinct ids of the events' column ``column``, in ascending id order, and the
    table ``{column}_ranks`` (id as DuckDB holds it, its rank) that numbers them.

    The ids are typed and ordered in Python by the rules of ``from_events``
    (:func:`typed_distinct_ids` for ids read from text, then :func:`_id_rank`), so
    that one rule, not a second one in SQL, decides "10" against "9".
    """
    import pyarrow as pa

    # the ids of the whole log, before the weight filter: a text column's type depends on
    # every id in it, as when a reader loads the whole file
    distinct = con.sql(f"SELECT DISTINCT {column} FROM all_events").to_arrow_table().column(0)
    distinct = distinct.combine_chunks()
    raw = distinct.to_numpy(zero_copy_only=False)
    if pa.types.is_string(distinct.type) or pa.types.is_large_string(distinct.type):
        values = np.asarray(raw, dtype=object)  # str objects already: no per-id conversion
    else:
        values = _plain_ids(raw)
    typed = typed_distinct_ids(values) if text else None
    if typed is not None:
        values = typed
    rank = _id_rank(values, name)
    if pa.types.is_floating(distinct.type):  # from_events keeps them; a corpus file cannot
        raise wrong_id_type(name, distinct.type, on_disk=True)
    con.register(f"{column}_ranks", pa.table({column: distinct, "rank": rank}))
    ordered = np.empty_like(values)
    ordered[rank] = values
    return ordered


def _reads_text(source: Any) -> bool:
    """Whether the events come from text files (whose ids are typed by the text rule)."""
    if not isinstance(source, str | os.PathLike | list | tuple):
        return False
    return all(f.lower().endswith(_TEXT_SUFFIXES) for f in _files_of(source))


def _plain_ids(values: Any) -> np.ndarray:
    """Ids fetched from DuckDB as a plain array (masked arrays and objects unwrapped)."""
    return concatenated_ids([np.asarray(values.filled() if hasattr(values, "filled") else values)])


def _describe(source: Any) -> Any:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, list | tuple):
        return [os.fspath(s) for s in source][:100]
    return type(source).__name__


class _Reporter:
    """Steps and streamed events on stderr when verbose."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.started = self.shown = _time.perf_counter()

    def start(self) -> None:
        """Rates count from here (the sort, which comes first, takes its own time)."""
        self.started = self.shown = _time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.verbose:
            sys.stderr.write(f"\rbuild_corpus: {message}{' ' * 20}\n")
            sys.stderr.flush()

    def progress(self, streamed: int) -> None:
        now = _time.perf_counter()
        if self.verbose and now - self.shown >= 0.5:
            self.shown = now
            rate = streamed / max(now - self.started, 1e-9)
            sys.stderr.write(f"\rbuild_corpus: {streamed:,} sorted events read ({rate:,.0f}/s)")
            sys.stderr.flush()

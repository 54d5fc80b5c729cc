"""Columns of event tables (pandas, polars, Arrow, dicts, 2-D arrays) as NumPy arrays,
and the one rule by which every reader of events types ids and times.

Ids read from text (CSV/TSV, by :func:`item2vec.read_events`, :func:`item2vec.build_corpus`
and the command line) are integers when every id of the column is the plain decimal
spelling of an integer (:func:`typed_text_ids`); times are ordered and cut into sessions by
their exact values (:func:`time_order_key`, :func:`time_gaps`) and stored as seconds
(:func:`time_seconds`), whichever library read them.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import numpy as np

from item2vec.vocab import _as_item_array


def _raw_column(events: Any, name: str) -> Any:
    """One column as its library holds it (pandas/polars Series, Arrow array, list, array)."""
    if isinstance(events, np.ndarray) and events.ndim == 2:
        # a plain 2-D table: columns by number
        if isinstance(name, int | np.integer) and -events.shape[1] <= name < events.shape[1]:
            return events[:, name]
        raise KeyError(
            f"column {name!r} not found: a 2-D array's columns are numbers 0 to "
            f"{events.shape[1] - 1}"
        )
    if type(events).__module__.startswith("polars"):
        return _polars_column(events, name)
    if type(events).__module__.startswith("pyarrow"):
        if name not in events.column_names:
            raise KeyError(f"column {name!r} not found; the table has {events.column_names}")
        return events.column(name)
    try:
        return events[name]
    except (KeyError, IndexError, TypeError) as exc:
        columns = list(events.keys()) if hasattr(events, "keys") else "unknown"
        raise KeyError(f"column {name!r} not found; columns are {columns}") from exc
    except Exception as exc:  # polars raises its own ColumnNotFoundError
        raise KeyError(f"column {name!r} not found: {exc}") from None


def _polars_column(events: Any, name: str) -> Any:
    """A polars (Lazy)DataFrame's column, as Arrow when pyarrow is there: its nulls then
    stay nulls (NumPy would turn a null int into NaN) and strings are factorised fast."""
    lazy = hasattr(events, "collect") and not hasattr(events, "to_arrow")
    columns = list(events.collect_schema().names() if lazy else events.columns)
    if name not in columns:
        raise KeyError(f"column {name!r} not found; columns are {columns}")
    series = events.select(name).collect().to_series() if lazy else events[name]
    try:
        return series.to_arrow()
    except ImportError:  # no pyarrow: polars' own Series (nulls are checked as NaN/None)
        return series


def _id_codes(events: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """An id column as int64 codes (first appearance order) and the distinct ids.

    pandas and Arrow columns are factorised by their own hash tables, so a
    string column never becomes one Python object per event.
    """
    values = _raw_column(events, name)
    module = type(values).__module__
    if module.startswith("pandas"):
        import pandas as pd

        if values.isna().any():
            raise ValueError(f"column {name!r} holds missing ids (None or NaN)")
        if values.dtype == object:
            refuse_bool_ids(values.to_numpy(), name)
        try:
            codes, uniques = pd.factorize(values, sort=False)
        except TypeError as exc:
            raise unhashable_id_error(values, name) or exc from None
        return codes.astype(np.int64, copy=False), _as_item_array(list(uniques))
    if module.startswith("pyarrow"):
        if values.null_count:
            raise ValueError(f"column {name!r} holds missing ids (null)")
        array = values.combine_chunks() if hasattr(values, "combine_chunks") else values
        import pyarrow as pa

        if pa.types.is_nested(array.type):  # Arrow cannot hash them; _id_rank would refuse
            raise wrong_id_type(name, array.type)
        encoded = array.dictionary_encode()
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        return codes, _as_item_array(encoded.dictionary.to_pylist())
    array = _column(events, name)
    _reject_missing(array, name)
    if array.dtype == object:
        refuse_bool_ids(array, name)
    try:
        return _factorize(array)
    except TypeError as exc:
        raise unhashable_id_error(array, name) or exc from None


def wrong_id_type(name: str, kind: Any, on_disk: bool = False) -> TypeError:
    """The one error of every reader for ids of a type no id may have (``on_disk``: no id
    of a corpus written to files, floats included)."""
    where = " in a corpus on disk (cast the column, or read it with Sequences.from_events)"
    return TypeError(
        f"column {name!r} holds ids of type {kind}; ids must be str or int"
        + (where if on_disk else "")
    )


# what pandas' infer_dtype calls an object column that holds no bool (a bool makes it
# "boolean" or one of the "mixed" kinds)
_BOOL_FREE_KINDS = frozenset({"string", "bytes", "integer", "floating", "mixed-integer-float"})


def refuse_bool_ids(values: np.ndarray, name: str) -> None:
    """Refuse bools among objects before hashing: True hashes as 1, so hashing first would
    merge them into one id when 1 came first, and refuse only when True did."""
    try:
        import pandas as pd
    except ImportError:
        pd = None
    # one pass in C settles the usual column (all str, all int); only the rest is
    # looked at id by id
    if pd is not None and pd.api.types.infer_dtype(values, skipna=True) in _BOOL_FREE_KINDS:
        return
    kinds = set(map(type, values))
    wrong = sorted(kind.__name__ for kind in kinds if issubclass(kind, bool | np.bool_))
    if wrong:
        raise wrong_id_type(name, ", ".join(wrong))


def unhashable_id_error(values: Any, name: str) -> TypeError | None:
    """:func:`wrong_id_type` for the first id of ``values`` that cannot be hashed (a
    list, a dict...), or None when every id can."""
    kind = next((type(v).__name__ for v in values if not isinstance(v, Hashable)), None)
    return None if kind is None else wrong_id_type(name, kind)


def _column(events: Any, name: str) -> np.ndarray:
    """One column of a DataFrame (pandas, polars), pyarrow Table or dict, as a numpy array."""
    values = _raw_column(events, name)
    if type(values).__module__.startswith("pyarrow"):
        return np.asarray(values.to_numpy(zero_copy_only=False))
    if getattr(getattr(values, "dt", None), "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)  # pandas, time zone aware
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if isinstance(values, list | tuple):
        # np.asarray would turn [1, "1"] into two equal strings
        arr = _as_item_array(values) if values else np.asarray(values)
        # ints and floats mixed are numbers (times, weights); ints alone stay exact
        # (beyond int64 as Python ints: as floats, 2**64 + 1 and 2**64 + 2 would merge)
        if (
            arr.dtype == object
            and all(isinstance(v, float | int) for v in values)
            and any(isinstance(v, float) for v in values)
        ):
            arr = np.asarray(values, dtype=np.float64)
        return arr
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional, got shape {arr.shape}")
    return arr


# the plain decimal spelling of an integer: no sign but "-", no leading zero, no space
_PLAIN_INTEGER = re.compile(r"(?:0|-?[1-9][0-9]{0,19})\Z")


def typed_text_ids(values: np.ndarray) -> np.ndarray:
    """Ids read from a text file, typed by the package's one rule.

    A column whose every id is the plain decimal spelling of an integer ("0", "42",
    "-7"; not "007", "+7", " 7" or "7.0") within int64 becomes int64, or uint64 when
    none is negative and one exceeds int64; any other column stays text, every id
    as written. So a CSV gives the ids pandas gives for the same file whenever the
    spelling holds no more than the number, and "007" never merges with "7".
    """
    codes, distinct = _factorize(np.asarray(values, dtype=object))
    typed = typed_distinct_ids(distinct)
    return values if typed is None else typed[codes]


def typed_distinct_ids(distinct: np.ndarray) -> np.ndarray | None:
    """:func:`typed_text_ids` on distinct ids: their integers, or None if they stay text."""
    spellings = distinct.tolist()
    match = _PLAIN_INTEGER.match
    if not spellings or not all(isinstance(s, str) and match(s) for s in spellings):
        return None
    numbers = [int(s) for s in spellings]
    low, high = min(numbers), max(numbers)
    if -(2**63) <= low and high < 2**63:
        return np.array(numbers, dtype=np.int64)
    if low >= 0 and high < 2**64:
        return np.array(numbers, dtype=np.uint64)
    return None


def _time_column(values: np.ndarray, name: str) -> np.ndarray:
    """Times as float64 seconds (datetimes as seconds since the epoch), after checks."""
    check_time_column(values, name)
    return time_seconds(values)


def check_time_column(values: np.ndarray, name: str) -> None:
    """Refuse a time column that is neither numbers nor datetimes, or holds missing values."""
    if values.dtype.kind == "M":
        if np.isnat(values).any():
            raise ValueError(f"time column {name!r} holds missing values")
        return
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"time column {name!r} must hold numbers or datetimes, got dtype {values.dtype}"
        )
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise ValueError(f"time column {name!r} holds NaN values")


def time_seconds(values: np.ndarray) -> np.ndarray:
    """Times as float64: numbers as they are, datetimes as seconds since the epoch.

    A datetime is split into whole seconds and the rest before either becomes a
    float, so the same instant gives the same float in every unit (s, ms, us, ns):
    a float64 cannot hold nanoseconds since 1970 exactly, and rounding them whole
    would differ from rounding the same instant held in microseconds.
    """
    if values.dtype.kind != "M":
        return values.astype(np.float64)
    unit, _ = np.datetime_data(values.dtype)
    ticks = values.view(np.int64)
    per_second = _ticks_per_second(unit)
    if per_second is None:  # days, weeks, ...: whole seconds, as int64 seconds
        return values.astype("datetime64[s]").view(np.int64).astype(np.float64)
    whole, rest = np.divmod(ticks, per_second)
    return whole.astype(np.float64) + rest / per_second


def time_order_key(values: np.ndarray) -> np.ndarray:
    """The values events are ordered by: datetimes and integers exactly (as integers in
    their own unit), floats as they are."""
    if values.dtype.kind == "M":
        return values.view(np.int64)
    return values


def time_gaps(values: np.ndarray) -> np.ndarray:
    """Gaps between consecutive times, as float64 (seconds for datetimes), each taken
    exactly on the integers first: ``x[i + 1] - x[i]`` of int64 nanoseconds is exact
    where their floats are not (at 1.7e18 a float64 is 256 ns coarse)."""
    if values.dtype.kind == "M":
        unit, _ = np.datetime_data(values.dtype)
        ticks = values.view(np.int64)
        per_second = _ticks_per_second(unit)
        if per_second is None:
            ticks, per_second = values.astype("datetime64[s]").view(np.int64), 1
        return np.diff(ticks) / per_second
    if values.dtype.kind in "iu":  # (a user's times ascend: no wrap-around inside one)
        return np.diff(values).astype(np.float64)
    return np.diff(values.astype(np.float64))


_SUBSECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9, "ps": 10**12}


def _ticks_per_second(unit: str) -> int | None:
    return _SUBSECOND.get(unit)


def _reject_missing(values: np.ndarray, name: str) -> None:
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise ValueError(f"column {name!r} holds NaN ids")
    if values.dtype == object:
        # elementwise in C: None compares equal to None, NaN unequal to itself
        missing = np.equal(values, None) | np.not_equal(values, values)  # type: ignore[call-overload]
        if missing.any():
            raise ValueError(f"column {name!r} holds missing ids (None or NaN)")


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in order of first appearance and the distinct values.

    pandas' hash table when pandas is installed (linear time, any dtype);
    otherwise a sort for numeric and str arrays, a dict for object arrays.
    """
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        codes, unique = pd.factorize(values, sort=False)
        unique = np.asarray(unique) if values.dtype != object else _as_item_array(list(unique))
        return codes.astype(np.int64, copy=False), unique
    if values.dtype != object:
        unique, first, inverse = np.unique(values, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        return rank[inverse.reshape(-1)], unique[order]
    index: dict[Any, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values.tolist()),
        dtype=np.int64,
        count=values.shape[0],
    )
    return codes, _as_item_array(list(index))


def _id_rank(values: np.ndarray, name: str) -> np.ndarray:
    """Each distinct id's rank in ascending id order (numbers by value, str by code point).

    Raises
    ------
    TypeError
        If an id is a bool (equal to the ints 0 and 1, so it would merge with them) or a
        container (list, dict, set, array: no order, no hash, or Arrow's structs): the
        one rule of every reader. Tuples and bytes order and hash, and train in memory;
        a file holds only str and int ids.
    ValueError
        If the column mixes types of id (say ints and str), which have no order.
    """
    if values.dtype.kind not in "iufUSO":
        raise wrong_id_type(name, values.dtype)
    if values.dtype == object and values.shape[0]:
        kinds = {type(v) for v in values.tolist()}
        wrong = sorted(
            kind.__name__ for kind in kinds
            if issubclass(kind, bool | np.bool_ | list | dict | set | np.ndarray)
        )  # fmt: skip
        if wrong:
            raise wrong_id_type(name, ", ".join(wrong))
        orders = {"number" if kind in (int, float) else kind.__name__ for kind in kinds}
        if len(orders) > 1:
            names = sorted(kind.__name__ for kind in kinds)
            raise ValueError(
                f"column {name!r} mixes id types ({', '.join(names)}); the ids of one column "
                f"must share one type"
            )
        if kinds == {str}:  # NumPy's str sort is far faster than comparing Python objects
            values = np.asarray(values.tolist(), dtype=str)
    try:
        order = np.argsort(values, kind="stable")
    except TypeError as exc:
        raise ValueError(f"column {name!r} holds ids with no order: {exc}") from None
    rank = np.empty(order.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    return rank

"""Columns of event tables (pandas, polars, Arrow, dicts, 2-D arrays) as NumPy arrays."""

from __future__ import annotations

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
        codes, uniques = pd.factorize(values, sort=False)
        return codes.astype(np.int64, copy=False), _as_item_array(list(uniques))
    if module.startswith("pyarrow"):
        if values.null_count:
            raise ValueError(f"column {name!r} holds missing ids (null)")
        array = values.combine_chunks() if hasattr(values, "combine_chunks") else values
        encoded = array.dictionary_encode()
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        return codes, _as_item_array(encoded.dictionary.to_pylist())
    array = _column(events, name)
    _reject_missing(array, name)
    return _factorize(array)


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


def _time_column(values: np.ndarray, name: str) -> np.ndarray:
    """Times as float64 (datetimes as seconds since the epoch)."""
    if values.dtype.kind == "M":
        if np.isnat(values).any():
            raise ValueError(f"time column {name!r} holds missing values")
        # seconds since the epoch without a detour through int64 nanoseconds (which
        # overflows outside 1678-2262)
        return (values - np.datetime64(0, "s")) / np.timedelta64(1, "s")
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"time column {name!r} must hold numbers or datetimes, got dtype {values.dtype}"
        )
    times = values.astype(np.float64)
    if np.isnan(times).any():
        raise ValueError(f"time column {name!r} holds NaN values")
    return times


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
    ValueError
        If the column mixes types of id (say ints and str), which have no order.
    """
    if values.dtype == object and values.shape[0]:
        kinds = {type(v) for v in values.tolist()}
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

"""Parameter checks with messages that name the parameter, the value and what is accepted."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["NotFittedError", "UnknownItemsWarning", "check_int", "check_limits", "check_real"]

# codes are int32 (the largest value marks nothing); offsets are int64
MAX_ITEMS = 2**31 - 2
MAX_TOKENS = 2**63 - 1


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is queried before ``fit``."""


def check_int(name: str, value: Any, low: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value}")


def check_real(name: str, value: Any, low: float | None = None, low_inclusive: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bound = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {bound} {low}, got {value}")


def check_limits(n_items: int, n_tokens: int) -> None:
    """Refuse corpora whose sizes do not fit the int32 codes or int64 offsets.

    Checked on the counts themselves, before anything of that size is allocated.
    """
    if n_items > MAX_ITEMS:
        raise ValueError(
            f"{n_items:,} distinct items exceed the {MAX_ITEMS:,} that int32 codes can hold; "
            f"use min_count or max_vocab_size, or split the catalogue"
        )
    if n_tokens > MAX_TOKENS:
        raise ValueError(f"{n_tokens:,} events exceed the int64 offsets ({MAX_TOKENS:,})")


class UnknownItemsWarning(UserWarning):
    """Items a query did not know were skipped (issued once per call).

    Attributes
    ----------
    n_skipped : int
        Events of unknown items left out of the histories (or unknown query
        items, for :meth:`ItemVectors.similar_items` with ``unknown="skip"``).
    empty_rows : ndarray of int
        Rows that had nothing known to rank from: histories with no known
        item (among their ``last_n`` events), or unknown query items.
    fallback : str or None
        What those rows got instead: ``"popularity"``, or None (padded rows).
    """

    def __init__(
        self, message: str, n_skipped: int = 0, empty_rows: Any = (), fallback: str | None = None
    ) -> None:
        super().__init__(message)
        self.n_skipped = n_skipped
        self.empty_rows = np.asarray(empty_rows, dtype=np.int64)
        self.fallback = fallback

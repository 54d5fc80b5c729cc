"""Parameter checks with messages that name the parameter, the value and what is accepted."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["NotFittedError", "check_int", "check_real"]


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
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bound = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {bound} {low}, got {value}")

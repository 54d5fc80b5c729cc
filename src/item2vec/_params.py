"""Parameter rules, declared once: the estimators' validation and the CLI's options."""

from __future__ import annotations

import dataclasses
import inspect
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from item2vec._validation import check_int, check_real

__all__ = [
    "BASELINE_PARAMS",
    "EASE_PARAMS",
    "ITEM2VEC_PARAMS",
    "Param",
    "ParamsMixin",
    "check_params",
]

# the kernels take window, negative and session_contexts as C ints
_C_INT_MAX = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter: its kind, bounds and help.

    ``kind`` is "int", "real", "bool", "choice" (one of ``options``),
    "window" (an int or "session"), "jobs" (a non-zero int), "seed" (an int
    >= 0 or a NumPy generator) or "any" (not checked). ``none`` allows None,
    ``auto`` the string "auto" (a value chosen from the data at fit time).
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    none: bool = False
    options: tuple[Any, ...] = ()
    cli: bool = True
    auto: bool = False

    def check(self, value: Any) -> None:
        """Raise TypeError / ValueError naming the parameter if ``value`` breaks the rule."""
        if value is None and self.none:
            return
        name, kind = self.name, self.kind
        if self.auto and isinstance(value, str):
            if value != "auto":
                raise ValueError(f"{name} must be an int >= {self.low:g} or 'auto', got {value!r}")
            return
        if kind == "window" and value == "session":
            return
        if kind == "window" and isinstance(value, str):
            raise ValueError(f"{name} must be an int >= 1 or 'session', got {value!r}")
        if kind in ("int", "window", "jobs"):
            check_int(name, value, None if self.low is None else int(self.low))
            if kind == "jobs" and value == 0:
                raise ValueError(f"{name} must be a non-zero int or None, got 0")
        elif kind == "real":
            check_real(name, value, self.low, self.low_inclusive)
        elif kind == "bool":
            if not isinstance(value, bool | np.bool_ | int) or value not in (0, 1):
                raise ValueError(f"{name} must be a bool, got {value!r}")
        elif kind == "choice":
            if not isinstance(value, str) or value not in self.options:
                accepted = " or ".join(repr(o) for o in self.options)
                raise ValueError(f"{name} must be {accepted}, got {value!r}")
        elif kind == "seed":
            if not (
                value is None
                or isinstance(value, np.random.Generator | np.random.RandomState)
                or (
                    isinstance(value, numbers.Integral)
                    and not isinstance(value, bool)
                    and int(value) >= 0
                )
            ):
                raise ValueError(
                    f"{name} must be None, an int >= 0 or a numpy Generator, got {value!r}"
                )
        if self.high is not None and isinstance(value, numbers.Real) and float(value) > self.high:
            raise ValueError(f"{name} must be <= {self.high}, got {value}")


def check_params(table: Iterable[Param], values: Mapping[str, Any]) -> None:
    """Check every parameter of ``table`` in ``values``, then the rules between them."""
    for param in table:
        param.check(values[param.name])
    if "alpha" in values and "min_alpha" in values and values["min_alpha"] > values["alpha"]:
        raise ValueError(
            f"min_alpha must be <= alpha (the rate decays from alpha to min_alpha), got "
            f"min_alpha={values['min_alpha']} > alpha={values['alpha']}"
        )


class ParamsMixin:
    """get_params / set_params / repr in scikit-learn's conventions, without importing it.

    A subclass names its rules in ``_PARAMS``; ``_check_params`` applies them,
    and ``fit``, ``set_params``, ``save`` and ``load`` all call it, so a value
    one of them refuses is refused by every other.
    """

    _PARAMS: tuple[Param, ...] = ()

    def _check_params(self, values: Mapping[str, Any] | None = None) -> None:
        """Raise TypeError / ValueError naming the parameter if a value breaks its rule."""
        check_params(self._PARAMS, self.get_params() if values is None else values)

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values() if p.name != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator, as passed to ``__init__``.

        Parameters
        ----------
        deep : bool, default=True
            Unused (no parameter is itself an estimator); kept for scikit-learn.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> ParamsMixin:
        """Set parameters by name; returns ``self``.

        The values are checked together, with the rules ``fit`` and ``load``
        apply, before any is set: a refused call changes nothing.

        Raises
        ------
        ValueError
            If a name is not a parameter of the estimator, or a value breaks its rule.
        TypeError
            If a value has the wrong type.
        """
        valid = set(self._param_names())
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are {sorted(valid)}"
                )
        self._check_params({**self.get_params(), **params})
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        changed = []
        for name in self._param_names():
            default = signature.parameters[name].default
            value = getattr(self, name)
            if value is default or _same_value(value, default):
                continue
            changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float32"]),
            input_tags=InputTags(one_d_array=False, two_d_array=False, string=True),
            no_validation=True,
            non_deterministic=True,
        )


def _same_value(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


ITEM2VEC_PARAMS: tuple[Param, ...] = (
    Param("vector_size", "int", 100, "dimension of the item vectors", low=1),
    Param(
        "window", "window", 5,
        "largest distance between a centre and a context item, or 'session' (baskets)",
        low=1, high=_C_INT_MAX,
    ),
    Param("negative", "int", 5, "noise items per prediction", low=1, high=_C_INT_MAX),
    Param("ns_exponent", "real", 0.75, "noise distribution is count ** ns_exponent"),
    Param("sample", "real", 0.0, "frequent-item subsampling threshold (0 disables)", low=0.0),
    Param("min_count", "int", 1, "drop items seen fewer times", low=1),
    Param(
        "max_vocab_size", "int", None, "keep at most this many most frequent items",
        low=1, none=True,
    ),
    Param(
        "epochs", "int", "auto", "passes over the corpus ('auto': 5 to 50, from the data)",
        low=1, auto=True,
    ),
    Param(
        "alpha", "real", 0.025, "initial learning rate", low=0.0, low_inclusive=False
    ),
    Param("min_alpha", "real", 1e-4, "final learning rate", low=0.0),
    Param("sg", "bool", True, "skip-gram (else CBOW)"),
    Param("cbow_mean", "bool", True, "CBOW: mean (else sum) of the context vectors"),
    Param(
        "context", "choice", "both",
        "'both': items on either side of the centre are its contexts; 'past': only earlier ones",
        options=("both", "past"),
    ),
    Param("shrink_windows", "bool", True, "draw each window's size from 1..window"),
    Param("shared_negatives", "bool", False, "skip-gram: one noise set per centre item"),
    Param(
        "session_contexts", "int", 10, "contexts per item with window='session'",
        low=1, high=_C_INT_MAX,
    ),
    Param("use_weights", "bool", False, "scale each pair's learning rate by event weights"),
    Param(
        "time_decay", "real", None, "weight pairs by exp(-|dt| / time_decay)",
        low=0.0, low_inclusive=False, none=True,
    ),
    Param(
        "time_window", "real", None, "skip contexts further apart in time",
        low=0.0, low_inclusive=False, none=True,
    ),
    Param(
        "recommend_scoring", "choice", "output", "rank by input.output or by cosine",
        options=("output", "cosine"), cli=False,
    ),
    Param(
        "similarity", "choice", "inout",
        "item-to-item queries: cosine with input+output ('inout') or input ('input') vectors",
        options=("inout", "input"),
    ),
    Param(
        "last_n", "int", None, "queries: aggregate only the last N events of a history",
        low=1, none=True,
    ),
    Param(
        "half_life", "real", 1.0, "queries: an event d steps before the last counts 0.5**(d/H)",
        low=0.0, low_inclusive=False, none=True,
    ),
    Param(
        "time_half_life", "real", None, "queries: an event dt older counts 0.5**(dt/T)",
        low=0.0, low_inclusive=False, none=True,
    ),
    Param("popularity", "real", 0.2, "queries: weight of the log-count prior"),
    Param("callbacks", "any", None, "called after every epoch", none=True, cli=False),
    Param("n_jobs", "jobs", None, "training threads; None or -1: all cores", none=True),
    Param("random_state", "seed", None, "seed of all randomness", none=True),
    Param("verbose", "int", 0, "1 shows a progress bar", low=0, cli=False),
)  # fmt: skip

BASELINE_PARAMS: tuple[Param, ...] = (
    Param(
        "neighbors", "int", 100, "keep each item's most similar items (None: all)",
        low=1, none=True,
    ),
    Param("shrinkage", "real", 0.0, "added to the cosine's denominator", low=0.0),
)  # fmt: skip

EASE_PARAMS: tuple[Param, ...] = (
    Param(
        "l2", "real", 500.0, "L2 penalty on the item-item weights (larger: smoother)",
        low=0.0, low_inclusive=False,
    ),
)  # fmt: skip

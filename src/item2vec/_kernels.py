"""Choose the compiled kernels for this CPU.

The kernels come in builds of one Cython source (the training loops are shared;
the vector primitives differ):

- ``_core`` (``baseline``): plain loops the compiler vectorises, compiled for
  the baseline instruction set (SSE2 on x86-64); runs everywhere.
- ``_core_avx2`` (``avx2``, x86-64 wheels): the same source compiled with AVX2
  and FMA, whose vector primitives are AVX2 intrinsics (up to eight rows per
  pass over the input, masked tails); about 1.5x faster training.
- ``_core_blas`` (``blas``): the primitives on SciPy's BLAS
  (``scipy.linalg.cython_blas``), baseline flags. Slower at item2vec's vector
  sizes (benchmarks/README.md), so never chosen by itself; importing it
  imports ``scipy.linalg``.

The choice is ``avx2`` when NumPy's CPU detection reports AVX2 and FMA3 (which
also covers operating-system support for the registers) and that build is
present, else ``baseline``. ``ITEM2VEC_KERNEL=baseline`` (or ``avx2``, or
``blas``) forces a choice.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["available", "core", "name"]

# every build by name, in the order they are listed
_MODULES = {
    "baseline": "item2vec._core",
    "avx2": "item2vec._core_avx2",
    "blas": "item2vec._core_blas",
}


def _cpu_features() -> dict[str, bool]:
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            return dict(importlib.import_module(module).__cpu_features__)
        except (ImportError, AttributeError):
            continue
    return {}


def _load(name: str, features: dict[str, bool]) -> ModuleType | None:
    """Build ``name`` if it can run on a CPU with ``features`` and is present, else None.

    The baseline build always runs; a missing one is an error, not a choice.
    """
    if name == "baseline":
        return importlib.import_module(_MODULES[name])
    if name == "avx2" and not (features.get("AVX2") and features.get("FMA3")):
        return None
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        return None


def available() -> dict[str, ModuleType]:
    """The kernel builds that can run on this CPU, by name (imports every one)."""
    features = _cpu_features()
    found = {}
    for build in _MODULES:
        module = _load(build, features)
        if module is not None:
            found[build] = module
    return found


def _choose() -> tuple[str, ModuleType]:
    # set but empty (`ITEM2VEC_KERNEL= cmd`, an empty CI variable) means unset
    wanted = os.environ.get("ITEM2VEC_KERNEL", "").strip() or "auto"
    features = _cpu_features()
    if wanted == "auto":
        # the faster build that runs here; blas is never faster, and is not imported
        avx2 = _load("avx2", features)
        if avx2 is not None:
            return "avx2", avx2
        return "baseline", importlib.import_module(_MODULES["baseline"])
    module = _load(wanted, features) if wanted in _MODULES else None
    if module is None:
        raise ImportError(
            f"ITEM2VEC_KERNEL={wanted!r} is not available here; choose from {sorted(available())}"
        )
    return wanted, module


name, core = _choose()

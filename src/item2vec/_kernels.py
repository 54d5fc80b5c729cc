"""Choose the compiled kernels for this CPU.

Wheels for x86-64 carry two builds of the same Cython source: ``_core``
(baseline SSE2, runs everywhere) and ``_core_avx2`` (AVX2 + FMA, about 1.5x
faster training). The faster one is used when NumPy's CPU detection reports
AVX2 and FMA3 (which also covers operating-system support for the registers).
``ITEM2VEC_KERNEL=baseline`` (or ``avx2``) forces a choice.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["available", "core", "name"]


def _cpu_features() -> dict[str, bool]:
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            return dict(importlib.import_module(module).__cpu_features__)
        except (ImportError, AttributeError):
            continue
    return {}


def available() -> dict[str, ModuleType]:
    """The kernel builds that can run on this CPU, by name."""
    found = {"baseline": importlib.import_module("item2vec._core")}
    features = _cpu_features()
    if features.get("AVX2") and features.get("FMA3"):
        try:
            found["avx2"] = importlib.import_module("item2vec._core_avx2")
        except ImportError:
            pass
    return found


def _choose() -> tuple[str, ModuleType]:
    builds = available()
    # set but empty (`ITEM2VEC_KERNEL= cmd`, an empty CI variable) means unset
    wanted = os.environ.get("ITEM2VEC_KERNEL", "").strip() or "auto"
    if wanted == "auto":
        best = "avx2" if "avx2" in builds else "baseline"
        return best, builds[best]
    if wanted not in builds:
        raise ImportError(
            f"ITEM2VEC_KERNEL={wanted!r} is not available here; choose from {sorted(builds)}"
        )
    return wanted, builds[wanted]


name, core = _choose()

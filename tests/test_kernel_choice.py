"""Which compiled kernel runs: NumPy's CPU detection and the ITEM2VEC_KERNEL override."""

import importlib
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import item2vec
from item2vec import _kernels

NUMPY_UMATH = "numpy._core._multiarray_umath"
NUMPY1_UMATH = "numpy.core._multiarray_umath"
BOTH = {"AVX2": True, "FMA3": True}
NEITHER = {"AVX2": False, "FMA3": False}


MODULES = {
    "baseline": "item2vec._core",
    "avx2": "item2vec._core_avx2",
    "blas": "item2vec._core_blas",
}


def build(name):
    return importlib.import_module(MODULES[name])


@pytest.fixture
def cpu(monkeypatch):
    """Make NumPy's CPU detection report the given features."""

    def report(features):
        if features.get("AVX2") and features.get("FMA3"):
            pytest.importorskip("item2vec._core_avx2")
        umath = importlib.import_module(NUMPY_UMATH)
        monkeypatch.setattr(umath, "__cpu_features__", dict(features))

    return report


@pytest.fixture
def fake_imports(monkeypatch):
    """Make ``importlib.import_module`` fail for, or substitute, the named modules."""

    def install(replacements):
        real = importlib.import_module

        def import_module(name, *args, **kwargs):
            if name in replacements:
                if replacements[name] is None:
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return replacements[name]
            return real(name, *args, **kwargs)

        monkeypatch.setattr(importlib, "import_module", import_module)

    return install


@pytest.fixture
def reload_kernels(monkeypatch):
    """Re-run the module's choice under a given ITEM2VEC_KERNEL; put the module back after."""
    saved = dict(vars(_kernels))

    def reload(kernel):
        if kernel is None:
            monkeypatch.delenv("ITEM2VEC_KERNEL", raising=False)
        else:
            monkeypatch.setenv("ITEM2VEC_KERNEL", kernel)
        importlib.reload(_kernels)
        return _kernels.name, _kernels.core

    yield reload
    vars(_kernels).update(saved)
    sys.modules["item2vec._kernels"] = _kernels


def test_cpu_features_are_numpys():
    reported = dict(importlib.import_module(NUMPY_UMATH).__cpu_features__)
    assert _kernels._cpu_features() == reported
    assert "AVX2" in reported  # the names the choice looks up exist


def test_cpu_detection_raises_no_deprecation_warning():
    # NumPy 2 warns on the old numpy.core path; the new one must be tried first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _kernels._cpu_features()


def test_cpu_features_are_found_in_the_numpy1_layout(fake_imports):
    old_numpy = types.SimpleNamespace(__cpu_features__={"AVX2": True, "FMA3": False})
    fake_imports({NUMPY_UMATH: None, NUMPY1_UMATH: old_numpy})
    assert _kernels._cpu_features() == {"AVX2": True, "FMA3": False}


@pytest.mark.parametrize("missing", ["module", "attribute"])
def test_no_cpu_detection_means_the_baseline_build_only(fake_imports, missing):
    found = None if missing == "module" else types.SimpleNamespace()
    fake_imports({NUMPY_UMATH: found, NUMPY1_UMATH: found})
    assert _kernels._cpu_features() == {}
    # the BLAS build needs no CPU feature beyond the baseline
    assert _kernels.available() == {"baseline": build("baseline"), "blas": build("blas")}


@pytest.mark.parametrize(
    ("features", "builds"),
    [
        (BOTH, ["avx2", "baseline", "blas"]),
        ({"AVX2": True, "FMA3": False}, ["baseline", "blas"]),  # AVX2 without FMA is not enough
        ({"AVX2": False, "FMA3": True}, ["baseline", "blas"]),
        ({"AVX2": True}, ["baseline", "blas"]),
        ({}, ["baseline", "blas"]),
    ],
)
def test_available_builds_follow_the_cpu(cpu, features, builds):
    cpu(features)
    found = _kernels.available()
    assert sorted(found) == builds
    for name in builds:
        assert found[name] is build(name)


def test_a_missing_avx2_build_is_not_available(cpu, fake_imports, reload_kernels):
    cpu(BOTH)
    fake_imports({"item2vec._core_avx2": None})
    assert _kernels.available() == {"baseline": build("baseline"), "blas": build("blas")}
    assert reload_kernels(None) == ("baseline", build("baseline"))


@pytest.mark.parametrize("features", [BOTH, NEITHER], ids=["avx2-cpu", "baseline-cpu"])
def test_a_missing_blas_build_is_not_available_and_not_needed(
    cpu, fake_imports, reload_kernels, features
):
    cpu(features)
    fake_imports({"item2vec._core_blas": None})
    assert "blas" not in _kernels.available()
    chosen = "avx2" if features is BOTH else "baseline"
    assert reload_kernels(None) == (chosen, build(chosen))
    with pytest.raises(ImportError, match="ITEM2VEC_KERNEL='blas' is not available here"):
        reload_kernels("blas")


@pytest.mark.parametrize(
    ("kernel", "features", "chosen"),
    [
        (None, BOTH, "avx2"),  # unset means auto: the faster build when it can run
        (None, NEITHER, "baseline"),
        ("auto", BOTH, "avx2"),
        ("auto", NEITHER, "baseline"),
        ("", BOTH, "avx2"),  # set but empty is unset too
        (" ", NEITHER, "baseline"),
        ("baseline", BOTH, "baseline"),
        ("baseline", NEITHER, "baseline"),
        ("avx2", BOTH, "avx2"),
        ("blas", BOTH, "blas"),  # never chosen by itself, but runs on any CPU
        ("blas", NEITHER, "blas"),
    ],
)
def test_item2vec_kernel_chooses_the_build(cpu, reload_kernels, kernel, features, chosen):
    cpu(features)
    name, core = reload_kernels(kernel)
    assert name == chosen
    assert core is build(chosen)


@pytest.mark.parametrize(
    ("kernel", "features", "choices"),
    [
        ("avx2", NEITHER, "['baseline', 'blas']"),  # forced but cannot run here
        ("fast", BOTH, "['avx2', 'baseline', 'blas']"),
        ("fast", NEITHER, "['baseline', 'blas']"),
    ],
)
def test_unknown_or_unavailable_kernel_lists_the_choices(
    cpu, reload_kernels, kernel, features, choices
):
    cpu(features)
    with pytest.raises(ImportError) as info:
        reload_kernels(kernel)
    assert str(info.value) == (
        f"ITEM2VEC_KERNEL={kernel!r} is not available here; choose from {choices}"
    )


@pytest.mark.parametrize(
    ("kernel", "expected"),
    [
        ("baseline", "baseline item2vec._core"),
        ("blas", "blas item2vec._core_blas"),
        ("bogus", "ITEM2VEC_KERNEL='bogus'"),
    ],
)
def test_the_environment_variable_applies_to_a_fresh_import(kernel, expected):
    env = dict(os.environ, ITEM2VEC_KERNEL=kernel)
    env["PYTHONPATH"] = str(Path(item2vec.__file__).parents[1])
    code = "from item2vec import _kernels; print(_kernels.name, _kernels.core.__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert expected in done.stdout + done.stderr
    assert (done.returncode == 0) == (kernel != "bogus")


def test_the_automatic_choice_never_imports_the_blas_build():
    # it would cost an import of scipy.linalg on every `import item2vec`
    env = {k: v for k, v in os.environ.items() if k != "ITEM2VEC_KERNEL"}
    env["PYTHONPATH"] = str(Path(item2vec.__file__).parents[1])
    code = (
        "import sys, item2vec; from item2vec import _kernels;"
        " print(_kernels.name, 'item2vec._core_blas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    chosen, imported = done.stdout.split()
    assert chosen in ("avx2", "baseline")
    assert imported == "False"

"""The other kernel builds against the baseline build (``_core``, plain loops).

``_core_blas`` (``ITEM2VEC_KERNEL=blas``: BLAS ``sdot`` and ``saxpy``, one call per
row) and ``_core_avx2`` (AVX2 + FMA intrinsics: up to eight rows per pass, masked
tails) compile the same training loops; only the vector primitives differ. So with
the same seed and one thread they draw the same random numbers and train the same
pairs, and their weights agree up to float rounding (the sums run in another order).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import item2vec
from conftest import train_once
from item2vec import _core, _core_blas

try:
    from item2vec import _core_avx2
except ImportError:  # not an x86-64 build
    _core_avx2 = None

# the builds compared with the baseline; AVX2 only where it is built and the CPU runs it
OTHERS = {"blas": _core_blas}
if _core_avx2 is not None and "avx2" in item2vec._kernels.available():
    OTHERS["avx2"] = _core_avx2

N_ITEMS = 40

# every mode of the training loops; each entry is (sg, cbow_mean, shared_negatives, options)
MODES = {
    "sg-pair": (True, False, False, {}),
    "sg-shared": (True, False, True, {}),
    "cbow-mean": (False, True, False, {}),
    "cbow-sum": (False, False, False, {}),
    "sg-weighted": (True, False, False, {"weighted": True}),
    "cbow-mean-weighted": (False, True, False, {"weighted": True}),
    "cbow-sum-weighted": (False, False, False, {"weighted": True}),
    "sg-timed": (True, False, False, {"time_decay": 3.0, "time_window": 6.0}),
    "sg-session": (True, False, False, {"session_contexts": 4}),
    "cbow-session": (False, True, False, {"session_contexts": 4}),
    "sg-past": (True, False, False, {"past_only": True}),
    "sg-shared-past": (True, False, True, {"past_only": True}),
    "cbow-past": (False, True, False, {"past_only": True}),
    "sg-session-past": (True, False, False, {"session_contexts": 4, "past_only": True}),
}


def _corpus(seed=0, n_seqs=60):
    """Sequences of 1-14 items over N_ITEMS (Zipf-like, so noise items repeat)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 15, size=n_seqs)
    popularity = 1.0 / np.arange(1, N_ITEMS + 1)
    codes = rng.choice(N_ITEMS, size=int(lengths.sum()), p=popularity / popularity.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    weights = rng.uniform(0.2, 2.0, size=codes.size).astype(np.float32)
    times = np.cumsum(rng.exponential(2.0, size=codes.size))
    return codes.astype(np.int32), offsets, weights, times


def _train(core, mode, dim, negative, epochs=3, window=3, sample=False, stride=None):
    """Train ``epochs`` kernel calls over the corpus; returns the weights and each call's
    (raw, kept, events, loss). With ``stride``, the weights are rows of that many floats,
    the item's ``dim`` then zeros (the layout Item2Vec trains on), returned whole."""
    sg, cbow_mean, shared, options = MODES[mode]
    options = dict(options)
    codes, offsets, weights, times = _corpus()
    if options.pop("weighted", False):
        options["weights"] = weights
    if "time_decay" in options:
        options["times"] = times
    rng = np.random.default_rng(1)
    syn0 = rng.uniform(-0.5, 0.5, size=(N_ITEMS, dim)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, size=(N_ITEMS, dim)).astype(np.float32)
    if stride is not None:
        syn0, syn1 = (np.pad(w, ((0, 0), (0, stride - dim))) for w in (syn0, syn1))
        options["dim"] = dim
    counts = np.bincount(codes, minlength=N_ITEMS).astype(np.float64)
    noise = counts**0.75 / (counts**0.75).sum()
    threshold, alias = core.build_alias(noise)
    keep = (
        np.minimum(1.0, 0.05 * N_ITEMS / np.maximum(counts, 1)).astype(np.float32)
        if sample
        else np.empty(0, np.float32)
    )
    results = []
    for epoch in range(epochs):
        alphas = (0.05 * (1 - epoch / epochs), 0.05 * (1 - (epoch + 1) / epochs))
        result = train_once(
            core,
            syn0, syn1, codes, offsets, 0, len(offsets) - 1, keep, threshold, alias, sg,
            cbow_mean, window, True, negative, shared, *alphas, 1000 + epoch, **options,
        )  # fmt: skip
        results.append(result)
    return syn0, syn1, results


@pytest.fixture(params=list(OTHERS))
def other(request):
    return OTHERS[request.param]


def _assert_same_training(other, mode, dim, negative, **kwargs):
    want0, want1, want = _train(_core, mode, dim, negative, **kwargs)
    got0, got1, got = _train(other, mode, dim, negative, **kwargs)
    # the same random numbers: the same tokens kept and the same predictions
    assert [r[:3] for r in got] == [r[:3] for r in want]
    assert sum(r[2] for r in want) > 0
    for (*_, loss), (*_, want_loss) in zip(got, want, strict=True):
        assert loss == pytest.approx(want_loss, rel=1e-5)
    # the training moved the weights far more than the tolerance
    assert np.abs(want0 - _train(_core, mode, dim, negative, epochs=0, **kwargs)[0]).max() > 0.01
    np.testing.assert_allclose(got0, want0, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(got1, want1, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("mode", list(MODES))
def test_build_trains_as_the_baseline_build(other, mode):
    _assert_same_training(other, mode, dim=24, negative=5)


# dims below, at and above the 8-float block, none a multiple of 8 but 8 and 16
# (whole blocks, no tail); negative 0 (the target alone), 1, 7 (eight rows: one
# full pass) and 12 (more rows than one pass holds, and more noise items than
# distinct rows in many predictions: merged repeats)
@pytest.mark.parametrize("dim", [1, 7, 8, 16, 33])
@pytest.mark.parametrize("negative", [0, 1, 3, 7, 12])
@pytest.mark.parametrize("mode", ["sg-pair", "cbow-mean"])
def test_build_agrees_at_any_dim_and_number_of_rows(other, mode, dim, negative):
    _assert_same_training(other, mode, dim=dim, negative=negative)


def test_build_agrees_with_subsampling(other):
    _assert_same_training(other, "sg-pair", dim=16, negative=5, sample=True)


def test_build_is_another_module_with_the_same_interface(other):
    assert other is not _core
    assert other.__name__ in ("item2vec._core_blas", "item2vec._core_avx2")
    public = {name for name in dir(_core) if not name.startswith("_")}
    assert public <= set(dir(other))
    assert other.sigmoid(0.3) == _core.sigmoid(0.3)


_FIT = r"""
import json, sys
import numpy as np
from item2vec import Item2Vec, _kernels
from item2vec.datasets import planted_sessions

data = planted_sessions(n_sessions=300, n_items=60, n_clusters=6, mean_length=8, random_state=4)
out = {"kernel": _kernels.name, "module": _kernels.core.__name__}
for name, params in json.loads(sys.argv[1]).items():
    model = Item2Vec(vector_size=12, epochs=2, n_jobs=1, random_state=3, **params)
    model.fit(data.sequences)
    order = np.argsort(model.items_)
    out[name] = model.vectors_[order].tolist()
print(json.dumps(out))
"""


def test_item2vec_kernel_blas_trains_the_estimator_as_baseline_does():
    # a fresh interpreter per build, as ITEM2VEC_KERNEL is read once at import
    modes = {"sg": {}, "shared": {"shared_negatives": True}, "cbow": {"sg": False}}
    runs = {}
    for kernel in ("baseline", "blas"):
        env = dict(os.environ, ITEM2VEC_KERNEL=kernel)
        env["PYTHONPATH"] = str(Path(item2vec.__file__).parents[1])
        done = subprocess.run(
            [sys.executable, "-c", _FIT, json.dumps(modes)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        runs[kernel] = json.loads(done.stdout.strip().splitlines()[-1])
    assert (runs["blas"]["kernel"], runs["blas"]["module"]) == ("blas", "item2vec._core_blas")
    assert (runs["baseline"]["kernel"], runs["baseline"]["module"]) == (
        "baseline",
        "item2vec._core",
    )
    for mode in modes:
        np.testing.assert_allclose(
            runs["blas"][mode], runs["baseline"][mode], rtol=1e-4, atol=2e-5, err_msg=mode
        )

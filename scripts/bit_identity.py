"""Check that two builds of item2vec train bit-identical vectors (n_jobs=1, fixed seed).

Each side is a ``src`` folder holding a built ``item2vec``, for example a copy of
an earlier commit built with ``python setup.py build_ext --inplace``. Every
training mode is fitted and then updated on a generated corpus with weights and
times, with every kernel build (``ITEM2VEC_KERNEL``) the CPU runs and at several
vector sizes (with and without a tail of dim % 8 floats, below and above a
cache line); the SHA-256 of the vectors and output vectors, and the last
epoch's loss, must match. A refactor that should not change results is checked
with::

    python scripts/bit_identity.py /tmp/before/src src

Exit status 0 when every mode matches, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_CHILD = r"""
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from item2vec import Item2Vec, Sequences
from item2vec.datasets import planted_sessions

data = planted_sessions(n_sessions=3000, n_items=300, n_clusters=10, random_state=1)
rng = np.random.default_rng(0)
corpus = Sequences.from_iterable(data.sequences)
weights = rng.integers(0, 4, corpus.n_tokens).astype(np.float32)
times = np.cumsum(rng.integers(1, 100, corpus.n_tokens)).astype(np.float64)
corpus = Sequences(corpus.codes, corpus.offsets, corpus.vocabulary, weights, times)
out = {}
for name, params in json.loads(sys.argv[2]).items():
    model = Item2Vec(vector_size=int(sys.argv[3]), epochs=2, n_jobs=1, random_state=5, **params)
    model.fit(corpus).update(corpus.subset(range(300)))
    digest = hashlib.sha256(model.vectors_.tobytes() + model.output_vectors_.tobytes())
    out[name] = [digest.hexdigest()[:16], repr(model.loss_history_[-1])]
print(json.dumps(out))
"""
KERNELS = ("baseline", "avx2", "blas")
DIMS = (24, 20, 100, 300)

MODES = {
    "skip-gram": {},
    "cbow mean": {"sg": False},
    "cbow sum": {"sg": False, "cbow_mean": False},
    "shared negatives": {"shared_negatives": True},
    "full windows, no subsampling": {"shrink_windows": False, "sample": 0},
    "weights": {"use_weights": True},
    "time decay and window": {"time_decay": 50.0, "time_window": 200.0},
    "session baskets": {"window": "session", "session_contexts": 4},
    "cbow weights and decay": {"sg": False, "use_weights": True, "time_decay": 30.0},
    "min_count and max_vocab_size": {"min_count": 3, "max_vocab_size": 200},
}


def _run(src: str, kernel: str, dim: int) -> dict[str, list[str]] | None:
    """The digests of every mode, or None where this CPU cannot run the kernel."""
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, src, json.dumps(MODES), str(dim)],
        capture_output=True, text=True, env={**os.environ, "ITEM2VEC_KERNEL": kernel},
    )  # fmt: skip
    if result.returncode != 0:
        if "not available" in result.stderr or "cannot run" in result.stderr:
            return None
        raise RuntimeError(f"{kernel}, dim {dim}:\n{result.stderr}")
    return json.loads(result.stdout)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    same = True
    for kernel in KERNELS:
        for dim in DIMS:
            before, after = _run(argv[0], kernel, dim), _run(argv[1], kernel, dim)
            if before is None or after is None:
                print(f"skipped   {kernel}: not available on this CPU")
                break
            for name in MODES:
                match = before[name] == after[name]
                same &= match
                print(
                    f"{'same' if match else 'DIFFERENT':9s} {kernel:8s} {dim:3d} {name:30s} "
                    f"{before[name]} {after[name]}"
                )
    print("bit-identical" if same else "results differ")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

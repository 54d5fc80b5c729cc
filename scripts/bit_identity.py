"""Check that two builds of item2vec train bit-identical vectors (n_jobs=1, fixed seed).

Each side is a ``src`` folder holding a built ``item2vec``, for example a copy of
an earlier commit built with ``python setup.py build_ext --inplace``. Every
training mode is fitted and then updated on a generated corpus with weights and
times; the SHA-256 of the vectors and output vectors, and the last epoch's
loss, must match. A refactor that should not change results is checked with::

    python scripts/bit_identity.py /tmp/before/src src

Exit status 0 when every mode matches, 1 otherwise.
"""

from __future__ import annotations

import json
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
    model = Item2Vec(vector_size=24, epochs=2, n_jobs=1, random_state=5, **params).fit(corpus)
    model.update(corpus.subset(range(300)))
    digest = hashlib.sha256(model.vectors_.tobytes() + model.output_vectors_.tobytes())
    out[name] = [digest.hexdigest()[:16], repr(model.loss_history_[-1])]
print(json.dumps(out))
"""

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


def _run(src: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, src, json.dumps(MODES)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    before, after = _run(argv[0]), _run(argv[1])
    same = True
    for name in MODES:
        match = before[name] == after[name]
        same &= match
        print(f"{'same' if match else 'DIFFERENT':9s} {name:30s} {before[name]} {after[name]}")
    print("bit-identical" if same else "results differ")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A/B two builds of item2vec: training speed, alternating in fresh subprocesses.

Each side is a ``src`` folder holding a built ``item2vec`` (for example a git
worktree of another commit, built with ``python setup.py build_ext
--inplace``). Both train the same generated corpus, one epoch per mode; the
builds alternate for ``--repeats`` rounds and the medians are compared.

Example::

    git worktree add /tmp/before HEAD~1
    (cd /tmp/before && python setup.py build_ext --inplace)
    python benchmarks/compare_builds.py /tmp/before/src src --corpus long
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from _report import write_report

_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from item2vec import Item2Vec, Sequences
from item2vec.datasets import planted_sessions

mean_length, n_tokens = float(sys.argv[2]), float(sys.argv[3])
data = planted_sessions(n_sessions=int(n_tokens / mean_length), n_items=50_000,
                        n_clusters=500, mean_length=mean_length, random_state=0)
corpus = Sequences.from_iterable(data.sequences)
speeds = {}
for name, params in json.loads(sys.argv[4]).items():
    model = Item2Vec(epochs=1, n_jobs=1, random_state=0, **params)
    started = time.perf_counter()
    model.fit(corpus)
    speeds[name] = corpus.n_tokens / (time.perf_counter() - started)
print(json.dumps(speeds))
"""

MODES = {
    "sg": {"sg": True, "shared_negatives": False},
    "sg-shared": {"sg": True, "shared_negatives": True},
    "cbow": {"sg": False},
}
LENGTHS = {"long": 20.0, "short": 5.0}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="src folder of build A")
    parser.add_argument("after", type=Path, help="src folder of build B")
    parser.add_argument("--corpus", choices=LENGTHS, default="long")
    parser.add_argument("--tokens", type=float, default=2e6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/compare_builds.json"))
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.repeats):
        for side in ("before", "after"):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(getattr(args, side).resolve()),
                 str(LENGTHS[args.corpus]), str(args.tokens), json.dumps(MODES)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {
        side: {mode: statistics.median(run[mode] for run in runs[side]) for mode in MODES}
        for side in runs
    }
    for mode in MODES:
        a, b = medians["before"][mode], medians["after"][mode]
        print(f"{mode:10s} before {a / 1e6:.3f}M tok/s  after {b / 1e6:.3f}M  ratio {b / a:.3f}x")
    report = {"corpus": args.corpus, "tokens": args.tokens, "medians": medians, "runs": runs}
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

"""A/B of the kernel builds (baseline, avx2, blas): training speed per vector size and mode.

Every measurement is a fresh subprocess with ``ITEM2VEC_KERNEL`` set, training
one epoch on one thread; the builds alternate (innermost loop) for ``--repeats``
rounds and the medians are reported, with the ratio of each build to the first
one as the median of the per-round ratios (the builds of a round run back to
back, so a machine whose speed drifts between rounds moves both sides of a
ratio) and the best run of each build. The corpus (planted clusters, as in
``compare_builds.py``) is generated once and memory-mapped by every child.

A build is ``NAME`` (a build of the installed package) or ``NAME@SRC``: build
NAME of the package in the folder SRC (for example another built tree's ``src``),
labelled ``NAME@SRC``.

Example::

    python benchmarks/kernel_builds.py --dims 32 100 300 --repeats 3
    python benchmarks/kernel_builds.py --builds avx2 avx2@/tmp/before/src --dims 100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import write_report

_CHILD = r"""
import json, sys, time
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
from item2vec import Item2Vec, Sequences, _kernels

corpus = Sequences.open(sys.argv[2])
params = json.loads(sys.argv[3])
model = Item2Vec(epochs=1, n_jobs=1, random_state=0, **params)
started = time.perf_counter()
model.fit(corpus)
seconds = time.perf_counter() - started
print(json.dumps({"kernel": _kernels.core.__name__, "file": _kernels.core.__file__,
                  "tokens_per_s": corpus.n_tokens / seconds}))
"""

MODES = {
    "sg": {"sg": True, "shared_negatives": False},
    "sg-shared": {"sg": True, "shared_negatives": True},
    "cbow": {"sg": False},
}
LENGTHS = {"long": 20.0, "short": 5.0}


def make_corpus(folder: Path, mean_length: float, n_tokens: float) -> int:
    from item2vec import Sequences
    from item2vec.datasets import planted_sessions

    data = planted_sessions(
        n_sessions=int(n_tokens / mean_length), n_items=50_000, n_clusters=500,
        mean_length=mean_length, random_state=0,
    )  # fmt: skip
    corpus = Sequences.from_iterable(data.sequences)
    corpus.save(folder)
    return int(corpus.n_tokens)


def measure(build: str, corpus: Path, params: dict) -> dict:
    name, _, src = build.partition("@")
    env = dict(os.environ, ITEM2VEC_KERNEL=name)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(Path(src).resolve()) if src else "", str(corpus),
         json.dumps(params)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if src and not result["file"].startswith(str(Path(src).resolve())):
        raise SystemExit(f"{build}: imported {result['file']}, not a module of {src}")
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--builds", nargs="+", default=["baseline", "avx2", "blas"])
    parser.add_argument("--dims", nargs="+", type=int, default=[32, 100, 300])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--corpus", choices=LENGTHS, default="long")
    parser.add_argument("--tokens", type=float, default=2e6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/kernel_builds.json"))
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores")
    runs: dict[str, list[float]] = {}
    modules: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        n_tokens = make_corpus(corpus, LENGTHS[args.corpus], args.tokens)
        for _ in range(args.repeats):
            for dim in args.dims:
                for mode in args.modes:
                    for build in args.builds:
                        result = measure(build, corpus, {"vector_size": dim, **MODES[mode]})
                        modules[build] = result["kernel"]
                        runs.setdefault(f"{build}|{dim}|{mode}", []).append(result["tokens_per_s"])
    medians = {key: statistics.median(values) for key, values in runs.items()}
    best = {key: max(values) for key, values in runs.items()}
    ratios = {}
    for key, values in runs.items():
        _, dim, mode = key.split("|")
        first = runs[f"{args.builds[0]}|{dim}|{mode}"]
        ratios[key] = statistics.median(v / f for v, f in zip(values, first, strict=True))
    print(f"\n{n_tokens:,} tokens ({args.corpus} sessions), one thread, one epoch, "
          f"{args.repeats} rounds. M tokens/s: median (median of the per-round ratios "
          "to the first build); best run\n")  # fmt: skip
    names = " | ".join(args.builds)
    print(f"| dim | mode | {names} | best: {' / '.join(args.builds)} |")
    print("| --- | --- |" + " --- |" * (len(args.builds) + 1))
    for dim in args.dims:
        for mode in args.modes:
            cells = []
            for build in args.builds:
                key = f"{build}|{dim}|{mode}"
                ratio = "" if build == args.builds[0] else f" ({ratios[key]:.2f}x)"
                cells.append(f"{medians[key] / 1e6:.3f}{ratio}")
            tops = " / ".join(f"{best[f'{build}|{dim}|{mode}'] / 1e6:.3f}" for build in args.builds)
            print(f"| {dim} | {mode} | " + " | ".join(cells) + f" | {tops} |")
    report = {
        "corpus": args.corpus, "tokens": n_tokens, "repeats": args.repeats,
        "load_average_before": load, "load_average_after": os.getloadavg()[0],
        "modules": modules, "medians": medians, "ratios_to_first": ratios, "best": best,
        "runs": runs,
    }  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

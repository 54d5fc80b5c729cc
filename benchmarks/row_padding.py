"""Padded weight rows against unpadded rows, in one process.

The kernel of another build (``--before``, a ``src`` folder holding a built
item2vec, e.g. a copy made before a kernel change) is loaded beside this one
under another module name. For every vector size and mode, three layouts
train the same corpus from the same initial weights with the same seeds, one
thread, one pass per round, alternating round by round (``--rounds``), so the
machine's drift hits all three alike:

- ``before``: the other build, C-contiguous rows (``dim`` floats apart);
- ``plain``: this build, the same C-contiguous rows;
- ``padded N``: this build, rows of ``dim`` rounded up to a multiple of N
  floats, the first on a 64-byte line, for every N of ``--pad-to`` (default:
  the kernel's ``ROW_FLOATS``, what ``Item2Vec`` trains on; 16 is a whole
  cache line).

It reports median tokens per second and the ratios to ``before``, and checks
after the first round that every layout wrote the same bits. Example::

    cp -r src /tmp/before/src    # before changing the kernel, with its builds
    python benchmarks/row_padding.py --before /tmp/before/src --dims 32 100 128 300 \
        --pad-to 8 16
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _report import machine, write_report

from item2vec import _kernels
from item2vec._training import initial_vectors, noise_table
from item2vec.corpus import Sequences
from item2vec.datasets import planted_sessions

MODES = {
    "sg": {"sg": True, "shared_negatives": False},
    "sg-shared": {"sg": True, "shared_negatives": True},
    "cbow": {"sg": False, "shared_negatives": False},
}


def load_kernel(src: Path, name: str):
    """The compiled module ``name`` (e.g. ``_core_avx2``) of the build in ``src``."""
    path = next((src / "item2vec").glob(f"{name}.*.so"), None) or next(
        (src / "item2vec").glob(f"{name}.*.pyd")
    )
    spec = importlib.util.spec_from_file_location(f"before_build.{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def aligned_rows(n_items: int, dim: int, multiple: int) -> np.ndarray:
    """Zero rows of ``dim`` rounded up to ``multiple`` floats, the first on a 64-byte line."""
    stride = -(-dim // multiple) * multiple
    raw = np.zeros(n_items * stride + 16, np.float32)
    first = (-raw.ctypes.data % 64) // 4
    return raw[first : first + n_items * stride].reshape(n_items, stride)


def setup_of(core, vectors, output, corpus, tables, mode, dim=None):
    keep, threshold, alias = tables
    extra = {} if dim is None else {"dim": dim}
    return core.TrainingSetup(
        vectors, output, corpus.codes, corpus.offsets, keep, threshold, alias,
        sg=mode["sg"], cbow_mean=True, window=5, shrink_windows=True, negative=5,
        shared_negatives=mode["shared_negatives"], **extra,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the other build")
    parser.add_argument("--dims", type=int, nargs="+", default=[32, 100, 128, 300])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--tokens", type=float, default=1e6)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--pad-to", type=int, nargs="+", help="default: the kernel's ROW_FLOATS")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/row_padding.json"))
    args = parser.parse_args(argv)
    kernel = _kernels.name
    pad_to = args.pad_to or [_kernels.core.ROW_FLOATS]
    before = load_kernel(args.before, {"baseline": "_core"}.get(kernel, f"_core_{kernel}"))
    after = _kernels.core
    data = planted_sessions(n_sessions=int(args.tokens / 20), n_items=50_000, n_clusters=500,
                            mean_length=20.0, random_state=0)  # fmt: skip
    corpus = Sequences.from_iterable(data.sequences)
    keep = corpus.vocabulary.keep_probabilities(1e-3)
    tables = (keep, *noise_table(corpus.vocabulary, 0.75))
    n_items, n_seqs = len(corpus.vocabulary), len(corpus.offsets) - 1
    load = os.getloadavg()[0]
    print(f"kernel {kernel}, {corpus.n_tokens} tokens, {n_items} items, load {load:.2f}")
    results = []
    for dim in args.dims:
        start = np.ascontiguousarray(initial_vectors(n_items, dim, 0))
        for mode_name in args.modes:
            mode = MODES[mode_name]
            layouts = {}
            for name, core in (("before", before), ("plain", after)):
                vec, out = start.copy(), np.zeros_like(start)
                layouts[name] = (setup_of(core, vec, out, corpus, tables, mode), core, vec, out)
            for multiple in pad_to:
                vec, out = (
                    aligned_rows(n_items, dim, multiple),
                    aligned_rows(n_items, dim, multiple),
                )
                vec[:, :dim] = start
                setup = setup_of(after, vec, out, corpus, tables, mode, dim)
                layouts[f"padded {multiple}"] = (setup, after, vec[:, :dim], out[:, :dim])
            speeds: dict[str, list[float]] = {name: [] for name in layouts}
            for round_ in range(args.rounds):
                names = list(layouts)
                turn = round_ % len(names)
                for name in names[turn:] + names[:turn]:
                    setup, core, _, _ = layouts[name]
                    began = time.perf_counter()
                    core.train_chunk(setup, 0, n_seqs, 0.025, 0.0251, 7 + round_)
                    speeds[name].append(corpus.n_tokens / (time.perf_counter() - began))
                if round_ == 0:
                    ref = layouts["before"][2].tobytes() + layouts["before"][3].tobytes()
                    for name in names[1:]:
                        got = np.ascontiguousarray(layouts[name][2]).tobytes()
                        got += np.ascontiguousarray(layouts[name][3]).tobytes()
                        if got != ref:
                            raise SystemExit(f"dim {dim} {mode_name}: {name} differs from before")
            med = {name: statistics.median(v) for name, v in speeds.items()}
            ratios = {name: med[name] / med["before"] for name in med if name != "before"}
            results.append({"dim": dim, "mode": mode_name, "median_tokens_per_s": med,
                            "over_before": ratios, "runs": speeds})  # fmt: skip
            print(f"dim {dim:3d} {mode_name:9s} before {med['before'] / 1e6:.3f}M tok/s  "
                  + "  ".join(f"{name} {ratio:.3f}x" for name, ratio in ratios.items()),
                  flush=True)  # fmt: skip
    report = {"machine": machine(load), "load_average_after": os.getloadavg()[0],
              "kernel": kernel, "tokens": corpus.n_tokens, "rounds": args.rounds,
              "command": " ".join(sys.argv), "results": results}  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

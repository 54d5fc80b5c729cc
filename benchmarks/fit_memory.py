"""Peak memory of ``fit``: compared with weights + 16 bytes per token + 100 MB.

A child process memory-maps a saved corpus (codes and offsets written with
``np.save``), records its resident size, fits, and reports the peak resident
size (``VmHWM``) above that starting point.

Example::

    python benchmarks/fit_memory.py --tokens 1e7
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _report import peak_rss_mb, write_report


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def child(folder: Path, epochs: int, n_jobs: int) -> dict:
    from item2vec import Item2Vec, Sequences, Vocabulary

    codes = np.load(folder / "codes.npy", mmap_mode="r")
    offsets = np.load(folder / "offsets.npy", mmap_mode="r")
    items = np.load(folder / "items.npy")
    corpus = Sequences(codes, offsets, Vocabulary(items, np.load(folder / "counts.npy")))
    before = rss_mb()
    peak_before = peak_rss_mb()
    model = Item2Vec(vector_size=100, epochs=epochs, n_jobs=n_jobs, random_state=0).fit(corpus)
    peak = peak_rss_mb()
    weights = (model.vectors_.nbytes + model.output_vectors_.nbytes) / 2**20
    tokens = corpus.n_tokens
    return {
        "tokens": tokens, "items": len(model.items_), "rss_before_mb": before,
        "peak_mb": peak, "peak_before_fit_mb": peak_before, "fit_peak_increase_mb": peak - before,
        "weights_mb": weights, "budget_mb": weights + 16 * tokens / 2**20 + 100,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=float, default=1e7)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/fit_memory.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child), args.epochs, args.n_jobs)))
        return {}
    from item2vec import Sequences
    from item2vec.datasets import planted_sessions

    data = planted_sessions(
        n_sessions=int(args.tokens / 20), n_items=100_000, n_clusters=1_000, random_state=0
    )
    corpus = Sequences.from_iterable(data.sequences)
    del data
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "codes.npy", corpus.codes)
        np.save(folder / "offsets.npy", corpus.offsets)
        np.save(folder / "items.npy", corpus.vocabulary.items)
        np.save(folder / "counts.npy", corpus.vocabulary.counts)
        out = subprocess.run(
            [sys.executable, __file__, "--child", tmp, "--epochs", str(args.epochs),
             "--n-jobs", str(args.n_jobs)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{report['tokens']:,} tokens, {report['items']:,} items: fit raised peak RSS by "
          f"{report['fit_peak_increase_mb']:.0f} MB (weights {report['weights_mb']:.0f} MB; "
          f"budget weights + 16 B/token + 100 MB = {report['budget_mb']:.0f} MB)")  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

"""Two cores, used two ways: one model on two threads, or two models in two processes.

For item2vec and gensim on the same corpus (the planted-cluster corpus of
``throughput.py``), three runs per round, alternating, for ``--repeats`` rounds:

- one process training one model on one thread (the reference speed);
- two processes, each training its own model on one thread, started together;
- one process training one model on two threads.

Two processes share the machine's caches and memory but no model rows, so
their summed speed over the reference shows what the hardware allows; two
threads on one model also share its rows (Hogwild: both write the same rows
of frequent items). A thread speed-up well below the process one points at
that sharing; both low points at the machine. Medians are reported.

Example::

    python benchmarks/scaling.py --tokens 5e6 --modes sg cbow --repeats 3
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # forked children: no idle BLAS pool

import argparse
import itertools
import multiprocessing
import statistics
import sys
from pathlib import Path

from _report import finish
from throughput import CORPORA, MODES, SETTINGS, make_corpus, run_gensim, run_item2vec

PARAMS = SETTINGS | {"epochs": 1}


# set in the parent before forking, read by the children (copy-on-write)
_DATA: dict = {}


def _speed(library: str, mode: str, n_jobs: int) -> float:
    """Raw tokens per second of training, as throughput.py times it."""
    params = PARAMS | MODES[mode]
    if library == "item2vec":
        seconds, _, _ = run_item2vec(_DATA["corpus"], params, n_jobs)
    else:
        seconds, _, _ = run_gensim(_DATA["sentences"], params, n_jobs)
    return _DATA["corpus"].n_tokens / seconds


def _child(barrier, queue, library: str, mode: str) -> None:
    barrier.wait()
    queue.put(_speed(library, mode, 1))


def two_processes(library: str, mode: str) -> list[float]:
    """Speeds of two forked processes that train one model each, started together."""
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    children = [ctx.Process(target=_child, args=(barrier, queue, library, mode))
                for _ in range(2)]  # fmt: skip
    for child in children:
        child.start()
    speeds = [queue.get() for _ in children]
    for child in children:
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"a {library} child failed (exit code {child.exitcode})")
    return speeds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=float, default=5e6, help="tokens per corpus")
    parser.add_argument("--corpora", nargs="+", default=["long"], choices=CORPORA)
    parser.add_argument("--items", type=int, default=100_000, help="catalogue size")
    parser.add_argument("--modes", nargs="+", default=["sg", "cbow"], choices=MODES)
    parser.add_argument("--libraries", nargs="+", default=["item2vec", "gensim"],
                        choices=["item2vec", "gensim"])  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/scaling.json"))
    args = parser.parse_args(argv)

    if sys.platform == "win32":
        raise SystemExit("scaling.py forks its workers: run it on Linux or macOS")
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores")
    results = []
    for kind in args.corpora:
        corpus, _ = make_corpus(kind, args.tokens, n_items=args.items)
        _DATA["corpus"] = corpus
        if "gensim" in args.libraries:
            words = [str(x) for x in corpus.vocabulary.items.tolist()]
            codes, bounds = corpus.codes.tolist(), corpus.offsets.tolist()
            _DATA["sentences"] = [[words[c] for c in codes[a:b]]
                                  for a, b in itertools.pairwise(bounds)]  # fmt: skip
        print(f"\ncorpus {kind}: {corpus.n_tokens:,} tokens, {len(corpus.vocabulary):,} items")
        for mode in args.modes:
            for library in args.libraries:
                one, processes, threads = [], [], []
                for _ in range(args.repeats):
                    one.append(_speed(library, mode, 1))
                    processes.append(sum(two_processes(library, mode)))
                    threads.append(_speed(library, mode, 2))
                row = {
                    "corpus": kind, "mode": mode, "library": library,
                    "tokens": corpus.n_tokens, "items": len(corpus.vocabulary),
                    "one_thread": statistics.median(one),
                    "two_processes_summed": statistics.median(processes),
                    "two_threads": statistics.median(threads),
                    "runs": {"one_thread": one, "two_processes_summed": processes,
                             "two_threads": threads},
                }  # fmt: skip
                row["process_speedup"] = row["two_processes_summed"] / row["one_thread"]
                row["thread_speedup"] = row["two_threads"] / row["one_thread"]
                print(f"{kind:5s} {mode:9s} {library:8s}: 1 thread {row['one_thread'] / 1e6:.3f}M"
                      f" | 2 processes {row['two_processes_summed'] / 1e6:.3f}M "
                      f"({row['process_speedup']:.2f}x) | 2 threads "
                      f"{row['two_threads'] / 1e6:.3f}M ({row['thread_speedup']:.2f}x)",
                      flush=True)  # fmt: skip
                results.append(row)
    return finish(args, load, results)


if __name__ == "__main__":
    main()

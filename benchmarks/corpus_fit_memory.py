"""Fit on a memory-mapped corpus directory: tokens/s and anonymous memory growth.

A fresh child process opens a corpus written by ``build_corpus`` (for example
``python benchmarks/ingest_events.py --build-corpus``) with ``Sequences.open``
and fits ``Item2Vec(vector_size=64, epochs=1, n_jobs=2, min_count=M,
sample=1e-3)`` on it, for each ``--min-count`` M (1 and 2 by default: 1 keeps
every item of a ``build_corpus`` corpus, so nothing is recoded; 2 drops the
items seen once, so the tokens are), while a thread samples ``RssAnon`` (and
``RssFile``) from ``/proc/self/status`` every 50 ms. Anonymous memory is what the corpus
being mapped should keep small: the growth during fit is set beside the
weights (vocabulary x dim x 4 bytes x 2 matrices), so the memory beyond the
weights can be read off. Another child fits an in-memory copy of the same
corpus (``Sequences(np.array(codes), np.array(offsets), vocabulary)``) the
same way; the two alternate, ``--repeats`` times each, and medians are shown.

The breakdown (unless ``--no-breakdown``) comes from one more child per mode
and min_count that fits with ``tracemalloc`` on (it sees NumPy's arrays and
Python's objects, not the kernel's own buffers): the phases of ``fit`` --
pruning (recount, vocabulary, recoding), the initial weights, the pending
counts, training (noise tables, kernel setups, recoded blocks) -- each with
the traced memory it added at its peak and kept at its end, on top of what
was traced when it began. A phase that a build of item2vec does not have is
left out, so the same script breaks down an older build
(``PYTHONPATH=/old/src python benchmarks/corpus_fit_memory.py ...``).

``--tokens N`` fits only the first sequences covering N tokens
(``corpus.subset(range(k))``). A subset is an in-memory copy, so it is saved
to a scratch corpus directory (its unused items dropped, as a corpus from
``build_corpus`` has none) and both children start from that directory.

Example::

    python benchmarks/corpus_fit_memory.py --corpus /data/corpus-300M --tokens 5e7
    python benchmarks/corpus_fit_memory.py --corpus /data/corpus-20M --min-count 2 --repeats 1
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from _report import write_report
from ingest_events import RssSampler, reset_peak_rss, rss_status

MODES = ("mapped", "memory")


# the phases of fit that the breakdown follows: (label, module, attribute path); nested
# calls are shown indented under their caller, and missing ones are skipped
PHASES = (
    ("fit", "item2vec.model", "Item2Vec.fit"),
    ("prune", "item2vec.corpus", "Sequences.pruned_with_mapping"),
    ("prune (lazily)", "item2vec.corpus", "Sequences.pruned_lazily"),
    ("recount", "item2vec.corpus", "Sequences._recounted"),
    ("vocabulary", "item2vec.vocab", "Vocabulary.pruned"),
    ("recode all", "item2vec.corpus", "Sequences.remap"),
    ("select tokens", "item2vec.corpus", "Sequences.select_tokens"),
    ("offsets of kept", "item2vec.corpus", "RecodedSequences.__init__"),
    ("recode all", "item2vec.corpus", "RecodedSequences.materialized"),
    ("initial weights", "item2vec.model", "initial_vectors"),
    ("train", "item2vec.model", "train"),
    ("keep probabilities", "item2vec.vocab", "Vocabulary.keep_probabilities"),
    ("noise table", "item2vec._training", "noise_table"),
    ("kernel setup", "item2vec._training", "_kernel_setup"),
    ("recode a block", "item2vec.corpus", "RecodedSequences.block"),
)


class PhaseTracer:
    """Traced memory per phase of fit: at its start, its peak and its end (bytes).

    ``tracemalloc``'s peak is reset at every phase boundary; a phase's peak
    is carried up to its caller, so nested phases keep their callers' right.
    Calls of one phase (a kernel setup per block) are merged: the highest
    peak and the most kept.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], dict[str, float]] = {}
        self.stack: list[dict[str, float]] = []
        self.undo: list[Callable[[], None]] = []

    def wrap(self, label: str, owner: Any, name: str) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        tracer = self

        @functools.wraps(original)
        def traced(*args: Any, **kwargs: Any) -> Any:
            start, peak = tracemalloc.get_traced_memory()
            if tracer.stack:
                tracer.stack[-1]["seen"] = max(tracer.stack[-1]["seen"], peak)
            depth = len(tracer.stack)
            row = tracer.rows.setdefault((depth, label), {
                "phase": label, "depth": depth, "calls": 0, "start_mb": start / 2**20,
                "peak_added_mb": 0.0, "kept_mb": -1e18, "seconds": 0.0,
            })  # fmt: skip
            frame = {"start": start, "seen": start, "at": time.perf_counter()}
            tracer.stack.append(frame)
            tracemalloc.reset_peak()
            try:
                return original(*args, **kwargs)
            finally:
                end, peak = tracemalloc.get_traced_memory()
                peak = max(frame["seen"], peak)
                tracer.stack.pop()
                if tracer.stack:
                    tracer.stack[-1]["seen"] = max(tracer.stack[-1]["seen"], peak)
                tracemalloc.reset_peak()
                row["calls"] += 1
                row["peak_added_mb"] = max(row["peak_added_mb"], (peak - start) / 2**20)
                row["kept_mb"] = max(row["kept_mb"], (end - start) / 2**20)
                row["seconds"] += time.perf_counter() - frame["at"]

        setattr(owner, name, traced)
        self.undo.append(lambda: setattr(owner, name, original))

    def install(self) -> None:
        for label, module_name, path in PHASES:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            try:
                for parent in parents:
                    owner = getattr(owner, parent)
            except AttributeError:
                continue
            if name in (owner.__dict__ if isinstance(owner, type) else vars(owner)):
                self.wrap(label, owner, name)

    def table(self) -> list[dict[str, float]]:
        """The phases in the order they were first entered (callers before callees)."""
        return list(self.rows.values())

    @contextmanager
    def tracing(self) -> Iterator[None]:
        self.install()
        tracemalloc.start()
        try:
            yield
        finally:
            tracemalloc.stop()
            for undo in reversed(self.undo):
                undo()


def child(
    folder: Path, mode: str, vector_size: int, epochs: int, n_jobs: int, min_count: int,
    breakdown: bool = False,
) -> dict:  # fmt: skip
    from item2vec import Item2Vec, Sequences

    corpus = Sequences.open(folder)
    opened = rss_status()
    if mode == "memory":
        mapped = corpus
        corpus = Sequences(np.array(mapped.codes), np.array(mapped.offsets), mapped.vocabulary)
        del mapped
    gc.collect()
    tracer = PhaseTracer() if breakdown else None
    before = rss_status()
    peak_reset = reset_peak_rss()  # VmHWM from here on is the fit's
    epochs_seen: list[dict[str, Any]] = []
    model = Item2Vec(
        vector_size=vector_size, epochs=epochs, n_jobs=n_jobs, min_count=min_count,
        sample=1e-3, random_state=0,
        callbacks=[lambda model, stats: epochs_seen.append(stats)],
    )  # fmt: skip
    with RssSampler(0.05) as sampler:
        started = time.perf_counter()
        if tracer is None:
            model.fit(corpus)
        else:
            with tracer.tracing():
                model.fit(corpus)
        seconds = time.perf_counter() - started
    after = rss_status()
    n_items = len(model.items_)
    weights_mb = n_items * vector_size * 4 * 2 / 2**20
    growth = sampler.peaks["RssAnon"] - before["RssAnon"]
    tokens = epochs_seen[0]["tokens"] * epochs  # those trained, after min_count
    train_seconds = sum(stats["seconds"] for stats in epochs_seen)
    row = {
        "mode": mode, "min_count": min_count, "traced": breakdown,
        "corpus_tokens": corpus.n_tokens, "tokens": epochs_seen[0]["tokens"],
        "sequences": len(corpus), "corpus_items": len(corpus.vocabulary), "items": n_items,
        "epochs": epochs, "seconds": seconds, "tokens_per_s": tokens / seconds,
        "train_seconds": train_seconds, "train_tokens_per_s": tokens / train_seconds,
        "anon_opened_mb": opened["RssAnon"], "anon_before_mb": before["RssAnon"],
        "anon_peak_mb": sampler.peaks["RssAnon"], "anon_after_mb": after["RssAnon"],
        "anon_growth_mb": growth, "weights_mb": weights_mb,
        "anon_beyond_weights_mb": growth - weights_mb,
        "beyond_bytes_per_token": (growth - weights_mb) * 2**20 / max(corpus.n_tokens, 1),
        # the budget for a fit: the weights, 12 bytes per token and 150 MB
        "budget_mb": weights_mb + 12 * corpus.n_tokens / 2**20 + 150,
        "file_before_mb": before["RssFile"], "file_peak_mb": sampler.peaks["RssFile"],
        "fit_vmhwm_mb": after["VmHWM"] if peak_reset else None,
        "rss_before_mb": before["VmRSS"],
        # exact, anonymous and file pages together (VmHWM reset just before fit)
        "fit_rss_growth_mb": after["VmHWM"] - before["VmRSS"] if peak_reset else float("nan"),
    }  # fmt: skip
    if tracer is not None:
        row["phases"] = tracer.table()
    return row


def run_child(
    folder: Path, mode: str, min_count: int, args: argparse.Namespace, breakdown: bool = False
) -> dict:  # fmt: skip
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), mode,
         "--vector-size", str(args.vector_size), "--epochs", str(args.epochs),
         "--n-jobs", str(args.n_jobs), "--min-count", str(min_count),
         *(["--breakdown-child"] if breakdown else [])],
        check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def prefix_corpus(corpus_dir: Path, tokens: int, scratch: Path) -> tuple[Path, int]:
    """The first sequences of the corpus covering ``tokens`` tokens, saved in ``scratch``."""
    from item2vec import Sequences

    corpus = Sequences.open(corpus_dir)
    k = int(np.searchsorted(corpus.offsets, tokens, side="left"))  # offsets[k] >= tokens
    if k >= len(corpus):
        return corpus_dir, len(corpus)
    # pruned(1): the items of the other sequences go, as fit would drop them (min_count=1)
    prefix = corpus.subset(range(k)).pruned(1)
    folder = scratch / "prefix"
    prefix.save(folder, built_by={"by": "corpus_fit_memory", "source": str(corpus_dir),
                                  "sequences": k})  # fmt: skip
    return folder, k


def show(row: dict) -> None:
    print(f"{row['mode']:6s} min_count={row['min_count']} {row['tokens']:>13,} tokens, "
          f"{row['items']:,} items: fit "
          f"{row['seconds']:.2f} s, {row['tokens_per_s'] / 1e6:.3f}M tokens/s "
          f"(training alone {row['train_tokens_per_s'] / 1e6:.3f}M); anon "
          f"{row['anon_before_mb']:,.0f} -> peak {row['anon_peak_mb']:,.0f} MB: "
          f"+{row['anon_growth_mb']:,.0f} MB = weights "
          f"{row['weights_mb']:,.0f} MB + {row['anon_beyond_weights_mb']:,.0f} MB beyond "
          f"({row['beyond_bytes_per_token']:.2f} B/token; budget "
          f"{row['budget_mb']:,.0f} MB); file pages peak "
          f"{row['file_peak_mb']:,.0f} MB; exact peak RSS growth (VmHWM) "
          f"{row['fit_rss_growth_mb']:,.0f} MB", flush=True)  # fmt: skip


def show_breakdown(row: dict) -> None:
    print(
        f"\nbreakdown, {row['mode']} corpus, min_count={row['min_count']} (traced: NumPy and "
        f"Python allocations; MB above what was traced when the phase began):"
    )
    print(f"  {'phase':32s} {'calls':>5s} {'traced at start':>15s} {'peak added':>10s} "
          f"{'kept':>8s} {'seconds':>8s}")  # fmt: skip
    for phase in row["phases"]:
        name = "  " * int(phase["depth"]) + phase["phase"]
        print(f"  {name:32s} {phase['calls']:5d} {phase['start_mb']:15,.1f} "
              f"{phase['peak_added_mb']:10,.1f} {phase['kept_mb']:8,.1f} "
              f"{phase['seconds']:8.2f}")  # fmt: skip
    print(f"  RssAnon of the traced fit: +{row['anon_growth_mb']:,.0f} MB (weights "
          f"{row['weights_mb']:,.0f} MB; tracemalloc's own records count here too)",
          flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="a corpus directory (build_corpus)")
    parser.add_argument("--tokens", type=float, default=None,
                        help="fit the first sequences covering this many tokens")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vector-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--min-count", type=int, nargs="+", default=[1, 2],
                        help="fit with each of these min_count (default: 1 and 2)")  # fmt: skip
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--no-breakdown",
        action="store_true",
        help="skip the traced fits that break the growth down by phase",
    )
    parser.add_argument("--json", type=Path,
                        default=Path("benchmarks/results/corpus_fit_memory.json"))  # fmt: skip
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--breakdown-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        (min_count,) = args.min_count
        row = child(Path(args.child[0]), args.child[1], args.vector_size, args.epochs,
                    args.n_jobs, min_count, args.breakdown_child)  # fmt: skip
        print(json.dumps(row))
        return {}
    if args.corpus is None:
        parser.error("--corpus is required")
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f}", flush=True)
    rows: list[dict] = []
    breakdowns: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="item2vec-fit-", dir=args.corpus.parent) as tmp:
        folder, k = args.corpus, None
        if args.tokens is not None:
            folder, k = prefix_corpus(args.corpus, int(args.tokens), Path(tmp))
            print(f"the first {k:,} sequences of {args.corpus} ({folder})", flush=True)
        for _ in range(args.repeats):
            for min_count in args.min_count:
                for mode in args.modes:
                    rows.append(run_child(folder, mode, min_count, args))
                    show(rows[-1])
        if not args.no_breakdown:
            for min_count in args.min_count:
                for mode in args.modes:
                    breakdowns.append(run_child(folder, mode, min_count, args, breakdown=True))
                    show_breakdown(breakdowns[-1])
    keys = ("tokens_per_s", "train_tokens_per_s", "anon_growth_mb", "anon_beyond_weights_mb",
            "beyond_bytes_per_token", "file_peak_mb", "weights_mb", "budget_mb",
            "fit_rss_growth_mb")  # fmt: skip
    medians = {
        f"{mode} min_count={min_count}": {
            key: statistics.median(
                row[key] for row in rows if row["mode"] == mode and row["min_count"] == min_count
            )
            for key in keys
        }
        for min_count in args.min_count
        for mode in args.modes
    }  # fmt: skip
    print(f"\nmedians of {args.repeats}:")
    for name, median in medians.items():
        print(f"{name:18s} {median['tokens_per_s'] / 1e6:.3f}M tokens/s (training alone "
              f"{median['train_tokens_per_s'] / 1e6:.3f}M); anon growth "
              f"{median['anon_growth_mb']:,.0f} MB = weights {median['weights_mb']:,.0f} MB + "
              f"{median['anon_beyond_weights_mb']:,.0f} MB beyond "
              f"({median['beyond_bytes_per_token']:.2f} B/token; budget "
              f"{median['budget_mb']:,.0f} MB); VmHWM growth "
              f"{median['fit_rss_growth_mb']:,.0f} MB")  # fmt: skip
    if set(MODES) <= set(args.modes):
        for min_count in args.min_count:
            ratio = (medians[f"mapped min_count={min_count}"]["tokens_per_s"]
                     / medians[f"memory min_count={min_count}"]["tokens_per_s"])  # fmt: skip
            print(f"mapped / in-memory tokens/s, min_count={min_count}: {ratio:.3f}")
    load_after = os.getloadavg()[0]
    print(f"load average after: {load_after:.2f}")
    report = {"corpus": str(args.corpus), "prefix_sequences": k, "runs": rows,
              "medians": medians, "breakdowns": breakdowns,
              "load_average": {"before": load, "after": load_after}}  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

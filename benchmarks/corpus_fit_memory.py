"""Fit on a memory-mapped corpus directory: tokens/s and anonymous memory growth.

A fresh child process opens a corpus written by ``build_corpus`` (for example
``python benchmarks/ingest_events.py --build-corpus``) with ``Sequences.open``
and fits ``Item2Vec(vector_size=64, epochs=1, n_jobs=2, min_count=1,
sample=1e-3)`` on it, while a thread samples ``RssAnon`` (and ``RssFile``)
from ``/proc/self/status`` every 50 ms. Anonymous memory is what the corpus
being mapped should keep small: the growth during fit is set beside the
weights (vocabulary x dim x 4 bytes x 2 matrices), so the memory beyond the
weights can be read off. Another child fits an in-memory copy of the same
corpus (``Sequences(np.array(codes), np.array(offsets), vocabulary)``) the
same way; the two alternate, ``--repeats`` times each, and medians are shown.

``--tokens N`` fits only the first sequences covering N tokens
(``corpus.subset(range(k))``). A subset is an in-memory copy, so it is saved
to a scratch corpus directory (its unused items dropped, as a corpus from
``build_corpus`` has none) and both children start from that directory.

Example::

    python benchmarks/corpus_fit_memory.py --corpus /data/corpus-300M --tokens 5e7
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import write_report
from ingest_events import RssSampler, reset_peak_rss, rss_status

MODES = ("mapped", "memory")


def child(folder: Path, mode: str, vector_size: int, epochs: int, n_jobs: int) -> dict:
    from item2vec import Item2Vec, Sequences

    corpus = Sequences.open(folder)
    opened = rss_status()
    if mode == "memory":
        mapped = corpus
        corpus = Sequences(np.array(mapped.codes), np.array(mapped.offsets), mapped.vocabulary)
        del mapped
    gc.collect()
    before = rss_status()
    peak_reset = reset_peak_rss()  # VmHWM from here on is the fit's
    epochs_seen: list[dict[str, Any]] = []
    model = Item2Vec(
        vector_size=vector_size, epochs=epochs, n_jobs=n_jobs, min_count=1, sample=1e-3,
        random_state=0, callbacks=[lambda model, stats: epochs_seen.append(stats)],
    )  # fmt: skip
    with RssSampler(0.05) as sampler:
        started = time.perf_counter()
        model.fit(corpus)
        seconds = time.perf_counter() - started
    after = rss_status()
    n_items = len(model.items_)
    weights_mb = n_items * vector_size * 4 * 2 / 2**20
    growth = sampler.peaks["RssAnon"] - before["RssAnon"]
    tokens = corpus.n_tokens * epochs
    train_seconds = sum(stats["seconds"] for stats in epochs_seen)
    return {
        "mode": mode, "tokens": corpus.n_tokens, "sequences": len(corpus), "items": n_items,
        "epochs": epochs, "seconds": seconds, "tokens_per_s": tokens / seconds,
        "train_seconds": train_seconds, "train_tokens_per_s": tokens / train_seconds,
        "anon_opened_mb": opened["RssAnon"], "anon_before_mb": before["RssAnon"],
        "anon_peak_mb": sampler.peaks["RssAnon"], "anon_after_mb": after["RssAnon"],
        "anon_growth_mb": growth, "weights_mb": weights_mb,
        "anon_beyond_weights_mb": growth - weights_mb,
        "beyond_bytes_per_token": (growth - weights_mb) * 2**20 / max(corpus.n_tokens, 1),
        "file_before_mb": before["RssFile"], "file_peak_mb": sampler.peaks["RssFile"],
        "fit_vmhwm_mb": after["VmHWM"] if peak_reset else None,
        "rss_before_mb": before["VmRSS"],
        # exact, anonymous and file pages together (VmHWM reset just before fit)
        "fit_rss_growth_mb": after["VmHWM"] - before["VmRSS"] if peak_reset else float("nan"),
    }  # fmt: skip


def run_child(folder: Path, mode: str, args: argparse.Namespace) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), mode,
         "--vector-size", str(args.vector_size), "--epochs", str(args.epochs),
         "--n-jobs", str(args.n_jobs)],
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
    print(f"{row['mode']:6s} {row['tokens']:>13,} tokens, {row['items']:,} items: fit "
          f"{row['seconds']:.2f} s, {row['tokens_per_s'] / 1e6:.3f}M tokens/s "
          f"(training alone {row['train_tokens_per_s'] / 1e6:.3f}M); anon "
          f"{row['anon_before_mb']:,.0f} -> peak {row['anon_peak_mb']:,.0f} MB: "
          f"+{row['anon_growth_mb']:,.0f} MB = weights "
          f"{row['weights_mb']:,.0f} MB + {row['anon_beyond_weights_mb']:,.0f} MB beyond "
          f"({row['beyond_bytes_per_token']:.2f} B/token); file pages peak "
          f"{row['file_peak_mb']:,.0f} MB; exact peak RSS growth (VmHWM) "
          f"{row['fit_rss_growth_mb']:,.0f} MB", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="a corpus directory (build_corpus)")
    parser.add_argument("--tokens", type=float, default=None,
                        help="fit the first sequences covering this many tokens")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vector-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--json", type=Path,
                        default=Path("benchmarks/results/corpus_fit_memory.json"))  # fmt: skip
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        row = child(Path(args.child[0]), args.child[1], args.vector_size, args.epochs, args.n_jobs)
        print(json.dumps(row))
        return {}
    if args.corpus is None:
        parser.error("--corpus is required")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="item2vec-fit-", dir=args.corpus.parent) as tmp:
        folder, k = args.corpus, None
        if args.tokens is not None:
            folder, k = prefix_corpus(args.corpus, int(args.tokens), Path(tmp))
            print(f"the first {k:,} sequences of {args.corpus} ({folder})", flush=True)
        for _ in range(args.repeats):
            for mode in args.modes:
                rows.append(run_child(folder, mode, args))
                show(rows[-1])
    keys = ("tokens_per_s", "train_tokens_per_s", "anon_growth_mb", "anon_beyond_weights_mb",
            "beyond_bytes_per_token", "file_peak_mb", "weights_mb")  # fmt: skip
    medians = {
        mode: {key: statistics.median(row[key] for row in rows if row["mode"] == mode)
               for key in keys}
        for mode in args.modes
    }  # fmt: skip
    print(f"\nmedians of {args.repeats}:")
    for mode, median in medians.items():
        print(f"{mode:6s} {median['tokens_per_s'] / 1e6:.3f}M tokens/s (training alone "
              f"{median['train_tokens_per_s'] / 1e6:.3f}M); anon growth "
              f"{median['anon_growth_mb']:,.0f} MB = weights {median['weights_mb']:,.0f} MB + "
              f"{median['anon_beyond_weights_mb']:,.0f} MB beyond "
              f"({median['beyond_bytes_per_token']:.2f} B/token)")  # fmt: skip
    if set(MODES) <= set(medians):
        ratio = medians["mapped"]["tokens_per_s"] / medians["memory"]["tokens_per_s"]
        print(f"mapped / in-memory tokens/s: {ratio:.3f}")
    report = {"corpus": str(args.corpus), "prefix_sequences": k, "runs": rows,
              "medians": medians}  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

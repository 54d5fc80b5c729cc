"""Time to quality: the wall time each training mode needs to reach a fixed quality,
item2vec beside gensim.

``throughput.py`` compares tokens per second at one epoch; a user waits for a
model that is good enough, and the modes differ in quality per epoch as well as
in speed. Here every mode is fitted with a schedule of epoch counts, each count
a fresh fit timed by wall clock and then scored, and the report gives the
shortest fit whose quality reaches a target, with the whole curve.

Why fresh fits and not checkpoints inside one long run: the learning rate
decays linearly from ``alpha`` to ``min_alpha`` over all the epochs of a fit,
so the state after 3 of 20 epochs (learning rate still high) is not what a
user who asks for ``epochs=3`` gets. A fresh fit per count is what the
setting costs and delivers.

Modes: skip-gram with per-pair negatives (word2vec's scheme, item2vec's
default), skip-gram with shared negatives (one set of noise items per centre
item, item2vec only: gensim has no such mode), CBOW. Both libraries get the
same settings (vector size, window, negative, sample, alpha, min_alpha,
ns_exponent, min_count 1, threads). Time is the training call alone, as in
``throughput.py``: item2vec ``fit`` on an encoded corpus, gensim ``train``
after ``build_vocab`` (whose time is recorded apart).

Corpora and quality:

- ``ml-100k``: MovieLens-100K, ratings >= 4, each user's events by time with
  same-second ties ordered by item id (``order_ties``, the ``item`` protocol
  of ``sequential_anchors.py``), the last event held out (``leave_last_out``).
  HR@10 over a full ranking with the history's items excluded. gensim's
  vectors (input and output) are put into an ``ItemVectors`` of an
  ``Item2Vec`` with the same settings, so both are ranked by the same
  ``recommend_batch`` (output scoring, the estimator's query defaults
  ``half_life=1, popularity=0.2``): only the training differs.
- ``planted``: ``throughput.py``'s "long" corpus (``planted_sessions``, mean
  session length 20, 100 items per planted cluster), by default 300k tokens
  over 30k items: about 10 events per item, so the tail items take several
  epochs to find their clusters (at 10M tokens over 100k items ``throughput.py``
  has p@10 near 1.0 after one epoch, which leaves nothing to wait for), and
  small enough that gensim's skip-gram curves fit a 25-minute run. p@10: the
  share of the 10 nearest items (input-vector cosine, the item itself
  excluded) in the item's planted cluster, over 1,000 items drawn once below
  the 1,000 most frequent, the same items for both libraries.

Targets: by default a fraction (``--fractions``, 0.95 and 0.9) of the best
median quality any mode of either library reaches on that corpus, printed with
its value; ``--hr-target`` / ``--p-target`` fix them instead. Every (epochs,
mode, library) is run for ``--seeds`` seeds, item2vec and gensim alternating;
medians over seeds make the curve, and the time to a target is the median
time of the smallest epoch count whose median quality reaches it (each
seed's own first crossing is in the JSON too). One untimed fit of every mode
comes first. ``--quick`` is a smoke run under a minute.

Examples::

    python benchmarks/time_to_quality.py --quick
    python benchmarks/time_to_quality.py --data ../shared/data/ml-100k --jobs 2 1 --seeds 3
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from _report import write_report
from throughput import MODES, make_corpus

import item2vec
from item2vec import Item2Vec, Sequences
from item2vec.datasets import load_movielens
from item2vec.evaluation import Split, evaluate, leave_last_out, order_ties
from item2vec.neighbors import normalize_rows, top_k
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

K = 10
# what both libraries train with on each corpus; ml-100k: the settings recommended for
# next-item recommendation (no subsampling); planted: throughput.py's
SETTINGS = {
    "ml-100k": {"vector_size": 100, "window": 5, "negative": 5, "sample": 0.0,
                "alpha": 0.025, "min_alpha": 1e-4},
    "planted": {"vector_size": 100, "window": 5, "negative": 5, "sample": 1e-3,
                "alpha": 0.025, "min_alpha": 1e-4},
}  # fmt: skip
METRIC = {"ml-100k": "HR@10", "planted": "p@10"}
EPOCHS = {"ml-100k": [1, 2, 3, 5, 8, 12, 20, 30], "planted": [1, 2, 3, 5, 8, 12, 20]}
QUICK_EPOCHS = {"ml-100k": [1, 3, 10], "planted": [1, 2, 4]}
MODE_NAMES = {
    "sg": "skip-gram, per-pair negatives",
    "sg-shared": "skip-gram, shared negatives",
    "cbow": "CBOW",
}
GENSIM_MODES = ("sg", "cbow")  # gensim has no shared-negatives mode


# --- corpora ----------------------------------------------------------------------------------


def movielens_split(data_dir: Path) -> Split:
    """ml-100k, ratings >= 4, ties by item id, the last event of each user held out."""
    data = load_movielens(data_dir)
    corpus = Sequences.from_events(
        data.events, user="user", item="item", time="timestamp", weight="rating", min_weight=4.0
    )
    return leave_last_out(order_ties(corpus, by="item"))


def tail_items(corpus: Sequences, n: int = 1_000, head: int = 1_000, seed: int = 0) -> np.ndarray:
    """``n`` item ids drawn once from the items ranked below the ``head`` most frequent.

    The head's neighbours are right from the first epoch and would hide the
    differences; the ranking is by count with ties by id, so it does not depend
    on either library's vocabulary order.
    """
    counts = np.bincount(corpus.codes, minlength=len(corpus.vocabulary))
    ids = corpus.vocabulary.items.astype(np.int64)
    present = counts > 0
    order = np.lexsort((ids[present], -counts[present]))
    candidates = ids[present][order][head:]
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, size=min(n, candidates.size), replace=False))


def planted_precision(
    vectors: np.ndarray, items: np.ndarray, chosen: np.ndarray, cluster_of: np.ndarray
) -> float:
    """Mean share of same-cluster items among the 10 input-cosine neighbours of ``chosen``."""
    items = np.asarray(items, dtype=np.int64)
    row_of = np.full(int(items.max()) + 1, -1, dtype=np.int64)
    row_of[items] = np.arange(items.size)
    rows = row_of[chosen]
    if np.any(rows < 0):
        raise ValueError(f"{int(np.sum(rows < 0))} of the chosen items have no vector")
    normed = normalize_rows(vectors)
    itself = sp.csr_array(
        (np.ones(rows.size), (np.arange(rows.size), rows)), shape=(rows.size, items.size)
    )
    idx, _ = top_k(normed[rows], normed, K, itself)
    return float((cluster_of[items[idx]] == cluster_of[chosen][:, None]).mean())


# --- the two libraries ------------------------------------------------------------------------


def fit_item2vec(
    train: Sequences, params: dict[str, Any], n_jobs: int, seed: int
) -> tuple[float, Item2Vec]:
    model = Item2Vec(**params, min_count=1, n_jobs=n_jobs, random_state=seed)
    started = time.perf_counter()
    model.fit(train)
    return time.perf_counter() - started, model


def fit_gensim(
    sentences: list[list[str]], params: dict[str, Any], n_jobs: int, seed: int
) -> tuple[float, float, Any]:
    """gensim's Word2Vec with the same settings; (train seconds, build_vocab seconds, model)."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=params["vector_size"], window=params["window"],
        negative=params["negative"], sample=params["sample"], alpha=params["alpha"],
        min_alpha=params["min_alpha"], ns_exponent=0.75, sg=int(params["sg"]),
        cbow_mean=1, epochs=params["epochs"], min_count=1, workers=n_jobs, seed=seed, hs=0,
    )  # fmt: skip
    started = time.perf_counter()
    model.build_vocab(sentences)
    vocab_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    return time.perf_counter() - started, vocab_seconds, model


def gensim_as_item2vec(w2v: Any, train: Sequences, params: dict[str, Any]) -> Item2Vec:
    """gensim's input and output vectors in an Item2Vec, so the same code ranks them."""
    model = Item2Vec(**params, min_count=1)
    items = train.vocabulary.items
    present = np.array([str(i) in w2v.wv.key_to_index for i in items.tolist()])
    rows = np.array([w2v.wv.key_to_index[str(i)] for i in items[present].tolist()])
    counts = np.array([w2v.wv.get_vecattr(str(i), "count") for i in items[present].tolist()])
    model.item_vectors_ = ItemVectors(
        Vocabulary(items[present], counts), w2v.wv.vectors[rows], w2v.syn1neg[rows]
    )
    return model


def gensim_vectors(w2v: Any) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array([int(k) for k in w2v.wv.index_to_key], dtype=np.int64)
    return w2v.wv.vectors, keys


# --- runs -------------------------------------------------------------------------------------


class Corpus:
    """A corpus with what scores a model trained on it."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        if name == "ml-100k":
            self.split = movielens_split(args.data)
            self.train = self.split.train
            self.description = (
                f"{args.data}: ratings >= 4, ties by item id ('item' order), leave-last-out: "
                f"{self.train.n_tokens:,} training events, {len(self.train):,} users, "
                f"{int(np.count_nonzero(np.bincount(self.train.codes))):,} items, "
                f"{self.split.targets.shape[0]:,} held-out targets"
            )
        else:
            self.train, self.cluster_of = make_corpus(
                "long", args.planted_tokens, seed=0, n_items=args.planted_items
            )
            self.chosen = tail_items(self.train)
            self.description = (
                f"planted_sessions 'long' (throughput.py): {self.train.n_tokens:,} tokens, "
                f"{len(self.train):,} sessions, {len(self.train.vocabulary):,} items in "
                f"{args.planted_items // 100:,} clusters; p@10 over {self.chosen.size:,} items "
                f"below the 1,000 most frequent"
            )
        words = [str(x) for x in self.train.vocabulary.items.tolist()]
        codes, bounds = self.train.codes.tolist(), self.train.offsets.tolist()
        self.sentences = [[words[c] for c in codes[a:b]] for a, b in itertools.pairwise(bounds)]

    def score_item2vec(self, model: Item2Vec) -> float:
        if self.name == "ml-100k":
            return evaluate(model, self.split, K)["hr"]
        return planted_precision(model.vectors_, model.items_, self.chosen, self.cluster_of)

    def score_gensim(self, w2v: Any, params: dict[str, Any]) -> float:
        if self.name == "ml-100k":
            return evaluate(gensim_as_item2vec(w2v, self.train, params), self.split, K)["hr"]
        vectors, items = gensim_vectors(w2v)
        return planted_precision(vectors, items, self.chosen, self.cluster_of)


def run_corpus(corpus: Corpus, args: argparse.Namespace, epochs: list[int]) -> list[dict]:
    """One row per (n_jobs, seed, epochs, mode, library), item2vec and gensim alternating."""
    # one untimed fit of each first: imports, thread pools and caches are not a mode's cost
    for mode in args.modes:
        params = SETTINGS[corpus.name] | MODES[mode] | {"epochs": 1}
        fit_item2vec(corpus.train, params, args.jobs[0], 0)
        if not args.no_gensim and mode in GENSIM_MODES:
            fit_gensim(corpus.sentences, params, args.jobs[0], 0)
    rows = []
    for n_jobs in args.jobs:
        for seed in range(args.seeds):
            for n_epochs in epochs:
                for mode in args.modes:
                    params = SETTINGS[corpus.name] | MODES[mode] | {"epochs": n_epochs}
                    base = {"corpus": corpus.name, "n_jobs": n_jobs, "seed": seed,
                            "epochs": n_epochs, "mode": mode}  # fmt: skip
                    seconds, model = fit_item2vec(corpus.train, params, n_jobs, seed)
                    quality = corpus.score_item2vec(model)
                    rows.append(base | {"library": "item2vec", "seconds": seconds,
                                        "quality": quality})  # fmt: skip
                    line = f"  jobs {n_jobs} seed {seed} e {n_epochs:2d} {mode:9s} item2vec "
                    line += f"{seconds:7.2f} s {quality:.4f}"
                    if not args.no_gensim and mode in GENSIM_MODES:
                        seconds, vocab_s, w2v = fit_gensim(corpus.sentences, params, n_jobs, seed)
                        quality = corpus.score_gensim(w2v, params)
                        rows.append(base | {"library": "gensim", "seconds": seconds,
                                            "quality": quality,
                                            "build_vocab_seconds": vocab_s})  # fmt: skip
                        line += f" | gensim {seconds:7.2f} s {quality:.4f}"
                    print(line, flush=True)
    return rows


# --- summaries --------------------------------------------------------------------------------


def curves(rows: list[dict]) -> list[dict]:
    """Median seconds and quality over seeds per (n_jobs, mode, library, epochs)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["n_jobs"], row["mode"], row["library"], row["epochs"])
        groups.setdefault(key, []).append(row)
    result = []
    for (n_jobs, mode, library, n_epochs), runs in sorted(groups.items()):
        result.append({
            "n_jobs": n_jobs, "mode": mode, "library": library, "epochs": n_epochs,
            "seconds": statistics.median(r["seconds"] for r in runs),
            "quality": statistics.median(r["quality"] for r in runs),
            "quality_min": min(r["quality"] for r in runs),
            "quality_max": max(r["quality"] for r in runs),
            "runs": len(runs),
        })  # fmt: skip
    return result


def time_to_targets(curve: list[dict], rows: list[dict], targets: list[float]) -> list[dict]:
    """Per (n_jobs, mode, library): the first point of the median curve at or above each
    target, and the same for each seed's own curve."""
    lines: dict[tuple, list[dict]] = {}
    for point in curve:
        lines.setdefault((point["n_jobs"], point["mode"], point["library"]), []).append(point)
    result = []
    for (n_jobs, mode, library), points in lines.items():
        points = sorted(points, key=lambda p: p["epochs"])
        best = max(points, key=lambda p: p["quality"])
        own = sorted(
            (r for r in rows
             if (r["n_jobs"], r["mode"], r["library"]) == (n_jobs, mode, library)),
            key=lambda r: (r["seed"], r["epochs"]),
        )  # fmt: skip
        entry = {"n_jobs": n_jobs, "mode": mode, "library": library,
                 "best_quality": best["quality"], "best_epochs": best["epochs"],
                 "best_seconds": best["seconds"], "targets": []}  # fmt: skip
        for target in targets:
            hit = next((p for p in points if p["quality"] >= target), None)
            per_seed = []
            for seed, runs in itertools.groupby(own, key=lambda r: r["seed"]):
                first = next((r for r in runs if r["quality"] >= target), None)
                per_seed.append({
                    "seed": seed,
                    "epochs": None if first is None else first["epochs"],
                    "seconds": None if first is None else first["seconds"],
                })  # fmt: skip
            entry["targets"].append({
                "target": target,
                "seconds": None if hit is None else hit["seconds"],
                "epochs": None if hit is None else hit["epochs"],
                "quality": None if hit is None else hit["quality"],
                "per_seed": per_seed,
            })  # fmt: skip
        result.append(entry)
    # gensim's time to each target over item2vec's, same mode and threads
    by_key = {(e["n_jobs"], e["mode"], e["library"]): e for e in result}
    for entry in result:
        theirs = by_key.get((entry["n_jobs"], entry["mode"], "gensim"))
        if entry["library"] != "item2vec" or theirs is None:
            continue
        for ours_t, theirs_t in zip(entry["targets"], theirs["targets"], strict=True):
            if ours_t["seconds"] and theirs_t["seconds"]:
                ours_t["gensim_over_item2vec"] = theirs_t["seconds"] / ours_t["seconds"]
    return result


def print_tables(name: str, metric: str, targets: list[dict], reached: list[dict]) -> None:
    print(f"\n{name}: time to target {metric} (medians over seeds; training call only)")
    print("targets: " + "; ".join(f"{t['label']} = {t['value']:.4f}" for t in targets))
    head = f"| mode | library | threads | best {metric} (epochs, s) |"
    head += "".join(f" to {t['label']}: s (epochs) |" for t in targets)
    print(head)
    print("| --- " * (4 + len(targets)) + "|")
    order = {mode: i for i, mode in enumerate(MODES)}
    for entry in sorted(reached, key=lambda e: (-e["n_jobs"], order[e["mode"]], e["library"])):
        cells = []
        for t in entry["targets"]:
            cell = "not reached" if t["seconds"] is None else f"{t['seconds']:.2f} ({t['epochs']})"
            if "gensim_over_item2vec" in t:
                cell += f", gensim {t['gensim_over_item2vec']:.1f}x longer"
            cells.append(cell)
        print(f"| {MODE_NAMES[entry['mode']]} | {entry['library']} | {entry['n_jobs']} | "
              f"{entry['best_quality']:.4f} ({entry['best_epochs']}, "
              f"{entry['best_seconds']:.2f} s) | " + " | ".join(cells) + " |")  # fmt: skip


def print_curves(curve: list[dict]) -> None:
    lines: dict[tuple, list[dict]] = {}
    for point in curve:
        lines.setdefault((point["n_jobs"], point["mode"], point["library"]), []).append(point)
    print("curves (epochs: seconds / quality):")
    for (n_jobs, mode, library), points in sorted(lines.items(), key=lambda kv: -kv[0][0]):
        text = ", ".join(f"{p['epochs']}: {p['seconds']:.2f}/{p['quality']:.3f}" for p in points)
        print(f"  {n_jobs} thr {mode:9s} {library:8s} {text}")


def versions() -> dict[str, Any]:
    from item2vec import _kernels

    found: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__,
                             "item2vec": item2vec.__version__, "kernel": _kernels.name}  # fmt: skip
    try:
        import gensim

        found["gensim"] = gensim.__version__
    except ImportError:
        found["gensim"] = None
    root = Path(__file__).resolve().parent.parent

    def git(*command: str) -> str | None:
        try:
            return subprocess.run(["git", *command], cwd=root, capture_output=True, text=True,
                                  check=True).stdout.rstrip()  # fmt: skip
        except (OSError, subprocess.CalledProcessError):
            return None

    found["commit"] = git("rev-parse", "HEAD")
    found["kernel_sources_commit"] = git(
        "log", "-1", "--format=%H %cI", "--", "src/item2vec/_core.pyx", "src/item2vec/*.pxi"
    )
    # kernel sources changed in the working tree since that commit (built into what ran)
    status = git("status", "--porcelain", "--", "src/item2vec/_core.pyx", "src/item2vec/*.pxi")
    found["kernel_sources_modified"] = None if status is None else status.splitlines()
    module = sys.modules[_kernels.core.__name__]
    if getattr(module, "__file__", None):
        found["kernel_built"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(module.__file__))
        )
    return found


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ml-100k"),
                        help="MovieLens-100K folder (load_movielens reads it)")  # fmt: skip
    parser.add_argument("--corpora", nargs="+", default=["ml-100k", "planted"], choices=METRIC)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--jobs", nargs="+", type=int, help="thread counts (default 2 1)")
    parser.add_argument("--seeds", type=int, help="repeats per point (default 3)")
    parser.add_argument("--epochs", nargs="+", type=int,
                        help=f"ml-100k epoch schedule (default {EPOCHS['ml-100k']})")  # fmt: skip
    parser.add_argument("--planted-epochs", nargs="+", type=int,
                        help=f"planted epoch schedule (default {EPOCHS['planted']})")  # fmt: skip
    parser.add_argument("--planted-tokens", type=float, help="default 3e5")
    parser.add_argument("--planted-items", type=int, help="default 30,000 (100 per cluster)")
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.95, 0.9],
                        help="targets as fractions of the best median quality reached")  # fmt: skip
    parser.add_argument("--hr-target", type=float, help="a fixed ml-100k HR@10 target")
    parser.add_argument("--p-target", type=float, help="a fixed planted p@10 target")
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run under a minute: 1 thread, 1 seed, short "
                             "schedules, a 100k-token planted corpus")  # fmt: skip
    parser.add_argument("--json", type=Path,
                        help="default benchmarks/results/time_to_quality.json "
                             "(time_to_quality_quick.json with --quick)")  # fmt: skip
    args = parser.parse_args(argv)
    quick = args.quick
    args.jobs = args.jobs or ([1] if quick else [2, 1])
    args.seeds = args.seeds or (1 if quick else 3)
    args.epochs = args.epochs or (QUICK_EPOCHS if quick else EPOCHS)["ml-100k"]
    args.planted_epochs = args.planted_epochs or (QUICK_EPOCHS if quick else EPOCHS)["planted"]
    args.planted_tokens = args.planted_tokens or (1e5 if quick else 3e5)
    args.planted_items = args.planted_items or (10_000 if quick else 30_000)
    suffix = "_quick" if quick else ""
    args.json = args.json or Path(f"benchmarks/results/time_to_quality{suffix}.json")
    for name, value in (("--hr-target", args.hr_target), ("--p-target", args.p_target)):
        if value is not None and not 0 < value <= 1:
            parser.error(f"{name} must be in (0, 1], got {value}")
    if any(not 0 < f <= 1 for f in args.fractions):
        parser.error(f"--fractions must be in (0, 1], got {args.fractions}")
    if any(e < 1 for e in args.epochs + args.planted_epochs):
        parser.error("epoch counts must be >= 1")
    if any(j < 1 for j in args.jobs):
        parser.error(f"--jobs must be >= 1, got {args.jobs}")

    load_before = os.getloadavg()
    print(f"load average before: {load_before} on {os.cpu_count()} cores")
    started = time.perf_counter()
    results = []
    for name in args.corpora:
        corpus = Corpus(name, args)
        print(f"\n{corpus.description}", flush=True)
        epochs = sorted(set(args.epochs if name == "ml-100k" else args.planted_epochs))
        rows = run_corpus(corpus, args, epochs)
        curve = curves(rows)
        fixed = args.hr_target if name == "ml-100k" else args.p_target
        best = max(p["quality"] for p in curve)
        if fixed is not None:
            targets = [{"label": "fixed", "value": fixed}]
        else:
            targets = [{"label": f"{f:.0%} of best", "value": f * best, "fraction": f}
                       for f in args.fractions]  # fmt: skip
        reached = time_to_targets(curve, rows, [t["value"] for t in targets])
        print_tables(name, METRIC[name], targets, reached)
        print_curves(curve)
        results.append({
            "corpus": name, "description": corpus.description, "metric": METRIC[name],
            "tie_order": "item" if name == "ml-100k" else None,
            "settings": SETTINGS[name], "epochs": epochs, "best_quality": best,
            "targets": targets, "time_to_target": reached, "curve": curve, "runs": rows,
        })  # fmt: skip
    load_after = os.getloadavg()
    print(f"\nload average before {load_before}, after {load_after}; "
          f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip
    report = {
        "command": " ".join(["python", "benchmarks/time_to_quality.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": load_after},
        "versions": versions(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "timing": "wall time of the training call: item2vec fit on an encoded Sequences, "
                  "gensim train after build_vocab (build_vocab_seconds apart)",
        "results": results,
    }  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

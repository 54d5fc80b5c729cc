"""Does ``tune`` beat the defaults on data it never saw? Seeds x variants x protocols.

For every seed, variant (all ratings; ratings >= 4) and protocol (``file``: ties in file
order, the last event held out; ``item``: ties ordered by item id, the last event held
out; ``group``: the last same-second group held out, a hit when any of its items is
recommended; see ``sequential_anchors.py``), the test split is made once; then on its
training part

- the defaults: ``Item2Vec(random_state=seed)`` fitted, and
- ``tune(train, budget=..., random_state=seed)`` (its own validation events are carved
  from ``train``: the test events never reach it)

are scored by HR@10 (and NDCG@10) on the test split. The summary counts, per variant and
protocol, the seeds where the tuned model is at or above the defaults, and the mean
difference. A seed where ``tune`` keeps the defaults (no setting beat them by more than
its validation standard error) gives the same model, so the same score.

``--synthetic`` runs the same comparison on the generated data sets of ``defaults.py``
that the defaults were not chosen on (``markov-wide``, ``planted-flat``,
``markov-clustered``): sequences without times, so one protocol, the last item of each
held out (``last``).

Example (about budget x seeds x variants x protocols seconds)::

    python benchmarks/tune_generalisation.py --data ../shared/data/ml-100k \\
        --seeds 10 --budget 120 --out tune.json
    python benchmarks/tune_generalisation.py --synthetic markov-wide --seeds 10 --budget 60
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _report import write_report
from defaults import datasets
from sequential_anchors import PROTOCOLS, VARIANT_NAMES, VARIANTS, splits, variant_corpus

from item2vec import Item2Vec, Sequences, tune
from item2vec.datasets import load_movielens
from item2vec.evaluation import evaluate, leave_last_out

K = 10


def one(
    train: Sequences, test: Any, seed: int, budget: float, n_jobs: int, search_query: bool
) -> dict[str, Any]:
    started = time.perf_counter()
    defaults = Item2Vec(random_state=seed, n_jobs=n_jobs).fit(train)
    default_seconds = time.perf_counter() - started
    base = evaluate(defaults, test, k=K)
    result = tune(
        train, budget=budget, random_state=seed, n_jobs=n_jobs, verbose=False,
        search_query=search_query,
    )  # fmt: skip
    tuned = evaluate(result.model, test, k=K)
    given = defaults.get_params()
    kept = all(given[name] == value for name, value in result.best_params.items()) and all(
        given[name] == value for name, value in result.best_query.items()
    )
    return {
        "seed": seed,
        "default_hr": base["hr"], "default_ndcg": base["ndcg"],
        "tuned_hr": tuned["hr"], "tuned_ndcg": tuned["ndcg"],
        "kept_defaults": kept, "trials": len(result.trials),
        "stopped_early": sum(1 for t in result.trials if (t.error or "").startswith("stopped")),
        "validation_default": result.default_score, "validation_best": result.best_score,
        "validation_std_error": result.best_std_error,
        "best_params": result.best_params, "best_query": result.best_query,
        "default_seconds": default_seconds, "tune_seconds": result.seconds,
        "confirmed": [
            {"trial": t.number, "gain": t.gain, "gain_std_error": t.gain_std_error,
             "confirmed_gain": t.confirmed_gain,
             "confirmed_gain_std_error": t.confirmed_gain_std_error, "params": t.params,
             "query": t.query}
            for t in result.trials if t.confirmed_gain == t.confirmed_gain  # not NaN
        ],
    }  # fmt: skip


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    summary = []
    for variant, protocol in dict.fromkeys((r["variant"], r["protocol"]) for r in rows):
        mine = [r for r in rows if r["variant"] == variant and r["protocol"] == protocol]
        differences = [r["tuned_hr"] - r["default_hr"] for r in mine]
        summary.append({
            "variant": variant, "protocol": protocol, "seeds": len(mine),
            "at_or_above": sum(d >= 0 for d in differences),
            "above": sum(d > 0 for d in differences),
            "kept_defaults": sum(r["kept_defaults"] for r in mine),
            "default_hr": statistics.fmean(r["default_hr"] for r in mine),
            "tuned_hr": statistics.fmean(r["tuned_hr"] for r in mine),
            "mean_difference": statistics.fmean(differences),
            "tune_seconds": statistics.fmean(r["tune_seconds"] for r in mine),
        })  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ml-100k"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--search-query", action="store_true",
                        help="tune(search_query=True): also choose the query options")  # fmt: skip
    held_out = [name for name, (kind, _) in datasets(Path()).items()
                if kind.startswith("held out")]  # fmt: skip
    parser.add_argument("--synthetic", nargs="+", choices=held_out,
                        help="generated data sets the defaults were not chosen on, "
                             "instead of MovieLens")  # fmt: skip
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    cases = []  # (variant, protocol, test split)
    if args.synthetic:
        generated = datasets(args.data)
        for name in args.synthetic:
            cases.append((name, "last", leave_last_out(generated[name][1]())))
    else:
        data = load_movielens(args.data)
        for variant in args.variants:
            corpus = variant_corpus(data.events, variant)
            cases += [(variant, p, splits(corpus, p)[0]) for p in args.protocols]
    rows = []
    for variant, protocol, test in cases:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            row = {"variant": variant, "protocol": protocol}
            row |= one(test.train, test, seed, args.budget, args.n_jobs, args.search_query)
            rows.append(row)
            print(
                f"{VARIANT_NAMES.get(variant, variant):>12} {protocol:>5} seed {seed}: "
                f"HR@10 defaults "
                f"{row['default_hr']:.4f} tuned {row['tuned_hr']:.4f} "
                f"({'defaults kept' if row['kept_defaults'] else 'tuned'}; "
                f"{row['trials']} trials, {row['stopped_early']} stopped early; "
                f"validation {row['validation_default']:.4f} -> "
                f"{row['validation_best']:.4f} ± {row['validation_std_error']:.4f}; "
                "confirmation: "
                + (
                    ", ".join(
                        f"trial {c['trial']} {c['gain']:+.4f} -> {c['confirmed_gain']:+.4f} "
                        f"± {c['confirmed_gain_std_error']:.4f}"
                        for c in row["confirmed"]
                    )
                    or "no candidate"
                )
                + ")",
                flush=True,
            )
    summary = summarise(rows)
    print("\n| variant | protocol | seeds | tuned >= defaults | tuned > defaults | defaults "
          "kept | HR@10 defaults | HR@10 tuned | mean difference |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in summary:
        print(
            f"| {VARIANT_NAMES.get(s['variant'], s['variant'])} | {s['protocol']} | {s['seeds']} | "
            f"{s['at_or_above']} | {s['above']} | {s['kept_defaults']} | "
            f"{s['default_hr']:.4f} | {s['tuned_hr']:.4f} | {s['mean_difference']:+.4f} |"
        )
    load_after = os.getloadavg()
    print(f"\nload average before {load_before}, after {load_after}", file=sys.stderr)
    report = {
        "command": " ".join(sys.argv), "budget": args.budget, "n_jobs": args.n_jobs,
        "search_query": args.search_query,
        "load_before": load_before, "load_after": load_after, "rows": rows,
        "summary": summary,
    }  # fmt: skip
    if args.out:
        write_report(args.out, report)
    return report


if __name__ == "__main__":
    main()

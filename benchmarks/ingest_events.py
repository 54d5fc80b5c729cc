"""Event-log ingestion: time and peak memory of ``Sequences.from_events``.

Generates an event table (users, Zipf-popular items, times, ratings) and
builds the corpus (filter rating >= 4, order by time, split sessions at a
gap), each configuration in a fresh subprocess so peak RSS is its own.

Example::

    python benchmarks/ingest_events.py --events 1e7
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import peak_rss_mb, write_report


def make_events(n_events: int, kind: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n_users, n_items = max(1, n_events // 100), 100_000
    items = np.minimum(rng.zipf(1.3, n_events) - 1, n_items - 1)
    events = {
        "user": rng.integers(0, n_users, n_events),
        "item": items,
        "time": rng.integers(0, 10**9, n_events).astype(np.float64),
        "rating": rng.integers(1, 6, n_events).astype(np.float64),
    }
    if kind == "str-pandas":
        import pandas as pd

        names = np.array([f"item-{i}" for i in range(n_items)], dtype=object)
        events["item"] = names[items]
        events["user"] = np.array([f"user-{u}" for u in range(n_users)], dtype=object)[
            events["user"]
        ]
        return pd.DataFrame(events)
    return events


def child(n_events: int, kind: str) -> dict:
    from item2vec import Sequences

    events = make_events(n_events, kind)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    corpus = Sequences.from_events(
        events, user="user", item="item", time="time", weight="rating", min_weight=4,
        session_gap=86_400.0,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {
        "kind": kind, "events": n_events, "seconds": seconds,
        "events_per_s": n_events / seconds, "sequences": len(corpus),
        "tokens": corpus.n_tokens, "items": len(corpus.vocabulary),
        "peak_rss_mb": peak, "rss_before_mb": rss_before,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=float, default=1e7)
    parser.add_argument("--kinds", nargs="+", default=["int", "str-pandas"])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/ingest_events.json"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(float(args.child[0])), args.child[1])))
        return []
    results = []
    for kind in args.kinds:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(int(args.events)), kind],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        row = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(row)
        print(f"{kind:11s} {row['events']:>12,} events -> {row['sequences']:,} sequences, "
              f"{row['tokens']:,} tokens in {row['seconds']:.2f} s "
              f"({row['events_per_s'] / 1e6:.2f}M events/s); peak RSS {row['peak_rss_mb']:.0f} MB "
              f"(input built: {row['rss_before_mb']:.0f} MB)", flush=True)  # fmt: skip
    write_report(args.json, results)
    print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()

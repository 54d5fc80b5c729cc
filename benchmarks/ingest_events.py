"""Event-log ingestion: time and peak memory of ``from_events`` and ``build_corpus``.

By default, generates an event table in memory (users, Zipf-popular items,
times, ratings) and builds the corpus with ``Sequences.from_events`` (filter
rating >= 4, order by time, split sessions at a gap), each configuration in a
fresh subprocess so peak RSS is its own.

``--build-corpus`` writes a Parquet event log of ``--events`` events (300M by
default) in pieces into ``--log-dir`` (one piece at a time; a complete log
with the same parameters is reused), then builds the on-disk corpus from it
with ``build_corpus`` in a fresh subprocess: events/s, the process's peak RSS
(``VmHWM``, plus ``RssAnon`` / ``RssFile`` sampled every 50 ms), the corpus's
size on disk. The corpus stays in ``--corpus-dir`` for
``benchmarks/corpus_fit_memory.py``.

``--compare`` writes a log of 10M events the same way and builds the corpus
twice, each in its own subprocess: ``build_corpus`` from the Parquet pieces,
and ``pyarrow.parquet.read_table`` + ``Sequences.from_events`` in memory;
then checks that the two corpora are equal.

Examples::

    python benchmarks/ingest_events.py --events 1e7
    python benchmarks/ingest_events.py --build-corpus --events 3e8 --log-dir /data/events-300M \\
        --corpus-dir /data/corpus-300M --memory-limit 2GB
    python benchmarks/ingest_events.py --compare --events 1e7 --log-dir /data/events-10M
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import peak_rss_mb, write_report

GOAL_PEAK_MB = 2.5 * 1024  # build_corpus: peak RSS <= 2.5 GB ...
GOAL_EVENTS_PER_S = 1e6  # ... and >= 1M events/s on 2 cores
LOG_PARAMS = "_params.json"  # written first: whose pieces these are
LOG_COMPLETE = "_COMPLETE.json"  # written last: the log is whole
YEAR = 365 * 86_400
T0 = 1_700_000_000  # the log's first second (Nov 2023)


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


# --- memory of this process ---------------------------------------------------------

_STATUS_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")


def rss_status() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile and RssShmem of this process, in MiB (Linux)."""
    fields = dict.fromkeys(_STATUS_FIELDS, float("nan"))
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in fields:
                fields[key] = int(rest.split()[0]) / 1024
    return fields


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current resident size (``clear_refs`` 5, Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class RssSampler:
    """Peaks of VmRSS, RssAnon and RssFile, sampled by a background thread meanwhile.

    VmHWM gives the exact peak of the total; the samples split it into
    anonymous memory (heap, DuckDB's buffers, NumPy arrays) and file pages
    (memory-mapped arrays and Parquet files), which the kernel can drop.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for key, value in rss_status().items():
            if not value <= self.peaks.get(key, -1.0):
                self.peaks[key] = value

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class ScratchSampler:
    """Peak bytes in ``build_corpus``'s scratch (``.<name>.*`` beside the corpus: DuckDB's
    spill files, the token files, the corpus being written), sampled every second."""

    def __init__(self, corpus: Path, interval: float = 1.0) -> None:
        self.corpus, self.interval, self.peak = Path(corpus), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            total = 0
            for folder in self.corpus.parent.glob(f".{self.corpus.name}.*"):
                for root, _, files in os.walk(folder):
                    for name in files:
                        try:
                            total += os.stat(os.path.join(root, name)).st_size
                        except OSError:  # removed meanwhile
                            pass
            self.peak = max(self.peak, total)

    def __enter__(self) -> ScratchSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def ru_maxrss_mb() -> float:
    """``ru_maxrss`` in MiB; may hold the parent's peak (Linux carries it over exec)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def size_on_disk(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# --- the event log in Parquet pieces ------------------------------------------------


def log_params(args: argparse.Namespace, n_events: int, piece_rows: int) -> dict[str, Any]:
    return {
        "events": n_events, "piece_rows": piece_rows, "items": int(args.items),
        "users": max(1, n_events // 100), "zipf": args.zipf, "seed": args.seed,
        "batch_rows": int(args.batch_rows), "version": 1,
    }  # fmt: skip


def write_event_log(log_dir: Path, params: dict[str, Any]) -> list[Path]:
    """Parquet pieces of ``params["events"]`` events in ``log_dir``, written unless there.

    Columns: ``user`` int64 (uniform over events / 100 users), ``item`` str
    (``"item-<rank>"``, Zipf-popular with exponent ``zipf`` over ``items``
    items), ``time`` int64 seconds (over one year, in time order through the
    log: pieces are consecutive stretches of time, as daily files are),
    ``rating`` float64 in 1..5. Pieces are written in row groups of
    ``batch_rows`` generated one at a time, so memory stays bounded; each
    piece is written under a temporary name and renamed when complete, so an
    interrupted run resumes with the pieces it has. Every batch has its own
    random stream: the log does not depend on where a run was interrupted.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_events, piece_rows, batch_rows = params["events"], params["piece_rows"], params["batch_rows"]
    n_pieces = math.ceil(n_events / piece_rows)
    paths = [log_dir / f"part-{p:05d}.parquet" for p in range(n_pieces)]
    complete, params_file = log_dir / LOG_COMPLETE, log_dir / LOG_PARAMS
    if complete.exists() and json.loads(complete.read_text()) == params:
        print(f"reusing the event log in {log_dir} ({n_events:,} events, {n_pieces} pieces, "
              f"{size_on_disk(log_dir) / 2**30:.2f} GiB)", flush=True)  # fmt: skip
        return paths
    log_dir.mkdir(parents=True, exist_ok=True)
    if not params_file.exists() and any(log_dir.iterdir()):
        raise SystemExit(f"{log_dir} holds files that are not an event log of this script")
    if params_file.exists() and json.loads(params_file.read_text()) != params:
        print(f"{log_dir} holds a log of other parameters: replacing it", flush=True)
        for stale in [*log_dir.glob("part-*.parquet"), *log_dir.glob(".part-*.tmp")]:
            stale.unlink()
    complete.unlink(missing_ok=True)
    params_file.write_text(json.dumps(params))

    n_items, n_users = params["items"], params["users"]
    names = pa.array([f"item-{i}" for i in range(n_items)], pa.string())
    cdf = np.cumsum(1.0 / np.arange(1, n_items + 1, dtype=np.float64) ** params["zipf"])
    cdf /= cdf[-1]
    started = time.perf_counter()
    for piece, path in enumerate(paths):
        if path.exists():
            continue
        tmp = log_dir / f".{path.name}.tmp"
        first = piece * piece_rows
        last = min(first + piece_rows, n_events)
        with pq.ParquetWriter(tmp, log_schema()) as writer:
            for start in range(first, last, batch_rows):
                rows = min(batch_rows, last - start)
                rng = np.random.default_rng([params["seed"], piece, start - first])
                t_lo = T0 + YEAR * start // n_events  # rows in time order through the log
                t_hi = T0 + YEAR * (start + rows) // n_events
                item = np.minimum(np.searchsorted(cdf, rng.random(rows), side="right"), n_items - 1)
                table = pa.table(
                    {
                        "user": rng.integers(0, n_users, rows, dtype=np.int64),
                        "item": names.take(pa.array(item)),
                        "time": np.sort(rng.integers(t_lo, max(t_hi, t_lo + 1), rows)),
                        "rating": rng.integers(1, 6, rows).astype(np.float64),
                    },
                    schema=log_schema(),
                )
                writer.write_table(table, row_group_size=batch_rows)
        os.replace(tmp, path)
        rate = (last - first) / max(time.perf_counter() - started, 1e-9)
        started = time.perf_counter()
        print(f"  wrote {path.name}: {last - first:,} events ({rate / 1e6:.2f}M events/s); "
              f"peak RSS {peak_rss_mb():.0f} MB", flush=True)  # fmt: skip
    complete.write_text(json.dumps(params))
    print(f"event log complete: {log_dir} ({size_on_disk(log_dir) / 2**30:.2f} GiB)", flush=True)
    return paths


def log_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [("user", pa.int64()), ("item", pa.string()), ("time", pa.int64()),
         ("rating", pa.float64())]
    )  # fmt: skip


# --- children: one measured configuration each ----------------------------------------


def build_child(task: dict[str, Any]) -> dict[str, Any]:
    """``build_corpus`` from the Parquet pieces into ``task["out"]``."""
    from item2vec.ingest import build_corpus

    at_start = rss_status()
    cpu = cpu_seconds()
    with RssSampler() as sampler, ScratchSampler(Path(task["out"])) as scratch:
        started = time.perf_counter()
        corpus = build_corpus(
            task["source"], task["out"], user="user", item="item", time="time",
            weight="rating", min_weight=task["min_weight"], session_gap=task["session_gap"],
            memory_limit=task["memory_limit"], threads=task["threads"],
            verbose=task["verbose"],
        )  # fmt: skip
        seconds = time.perf_counter() - started
    header = json.loads((Path(task["out"]) / "header.json").read_text())
    n_events = header["built_by"]["events_read"]
    return {
        "method": "build_corpus", "events": n_events, "seconds": seconds,
        "events_per_s": n_events / seconds, "cpu_seconds": cpu_seconds() - cpu,
        "sequences": len(corpus), "tokens": corpus.n_tokens, "items": len(corpus.vocabulary),
        "corpus_bytes": size_on_disk(Path(task["out"])), "corpus_dir": task["out"],
        "peak_scratch_bytes": scratch.peak,
        "memory_limit": task["memory_limit"], "threads": task["threads"],
        "peak_rss_mb": peak_rss_mb(), "ru_maxrss_mb": ru_maxrss_mb(),
        "rss_at_start_mb": at_start["VmRSS"], "peak_anon_mb": sampler.peaks["RssAnon"],
        "peak_file_mb": sampler.peaks["RssFile"], "peak_sampled_rss_mb": sampler.peaks["VmRSS"],
    }  # fmt: skip


def from_events_child(task: dict[str, Any]) -> dict[str, Any]:
    """pyarrow reads the pieces into one table; ``Sequences.from_events`` builds the corpus
    (saved to ``task["out"]`` after the measurement, for the comparison)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from item2vec import Sequences

    at_start = rss_status()
    cpu = cpu_seconds()
    with RssSampler() as sampler:
        started = time.perf_counter()
        table = pa.concat_tables([pq.read_table(path) for path in task["files"]])
        read_seconds = time.perf_counter() - started
        rss_table = rss_status()["VmRSS"]
        corpus = Sequences.from_events(
            table, user="user", item="item", time="time", weight="rating",
            min_weight=task["min_weight"], session_gap=task["session_gap"],
        )  # fmt: skip
        seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    n_events = table.num_rows
    corpus.save(task["out"], built_by={"by": "Sequences.from_events"})
    return {
        "method": "read_table + from_events", "events": n_events, "seconds": seconds,
        "read_seconds": read_seconds, "events_per_s": n_events / seconds,
        "cpu_seconds": cpu_seconds() - cpu, "sequences": len(corpus),
        "tokens": corpus.n_tokens, "items": len(corpus.vocabulary),
        "peak_rss_mb": peak, "ru_maxrss_mb": ru_maxrss_mb(),
        "rss_at_start_mb": at_start["VmRSS"], "rss_table_read_mb": rss_table,
        "peak_anon_mb": sampler.peaks["RssAnon"], "peak_file_mb": sampler.peaks["RssFile"],
        "peak_sampled_rss_mb": sampler.peaks["VmRSS"],
    }  # fmt: skip


def run_child(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a fresh interpreter (stderr passes through); its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--task", json.dumps(task)],
        check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def same_corpus(a_dir: Path, b_dir: Path) -> dict[str, bool]:
    """Array by array: are the two corpus directories equal?"""
    from item2vec import Sequences

    a, b = Sequences.open(a_dir), Sequences.open(b_dir)
    pairs = {
        "codes": (a.codes, b.codes), "offsets": (a.offsets, b.offsets),
        "users": (a.users, b.users), "items": (a.vocabulary.items, b.vocabulary.items),
        "counts": (a.vocabulary.counts, b.vocabulary.counts),
        "weights": (a.weights, b.weights), "times": (a.times, b.times),
    }  # fmt: skip
    return {
        name: (x is None and y is None)
        or (x is not None and y is not None and x.shape == y.shape and bool(np.all(x == y)))
        for name, (x, y) in pairs.items()
    }


# --- modes ----------------------------------------------------------------------------


def show(row: dict[str, Any]) -> None:
    extra = f", read {row['read_seconds']:.2f} s of it" if "read_seconds" in row else ""
    print(f"{row['method']:25s} {row['events']:>13,} events -> {row['sequences']:,} sequences, "
          f"{row['tokens']:,} tokens, {row['items']:,} items in {row['seconds']:.2f} s{extra} "
          f"({row['events_per_s'] / 1e6:.2f}M events/s, {row['cpu_seconds']:.1f} CPU s); "
          f"peak RSS {row['peak_rss_mb']:,.0f} MB (sampled peaks: anon "
          f"{row['peak_anon_mb']:,.0f} MB, file {row['peak_file_mb']:,.0f} MB; "
          f"ru_maxrss {row['ru_maxrss_mb']:,.0f} MB)", flush=True)  # fmt: skip


def build_mode(args: argparse.Namespace, n_events: int) -> dict[str, Any]:
    piece_rows = int(args.piece_rows or 1e7)
    log_dir = args.log_dir or Path(tempfile.gettempdir()) / "item2vec-bench" / f"events-{n_events}"
    corpus_dir = args.corpus_dir or log_dir.parent / f"corpus-{n_events}"
    params = log_params(args, n_events, piece_rows)
    write_event_log(log_dir, params)
    print(f"\nbuild_corpus('{log_dir}/*.parquet', '{corpus_dir}', memory_limit="
          f"'{args.memory_limit}', threads={args.threads}) in a fresh process",
          flush=True)  # fmt: skip
    row = run_child({
        "task": "build", "source": str(log_dir / "*.parquet"), "out": str(corpus_dir),
        "memory_limit": args.memory_limit, "threads": args.threads,
        "min_weight": args.min_weight, "session_gap": args.session_gap,
        "verbose": args.verbose,
    })  # fmt: skip
    show(row)
    print(f"corpus on disk: {row['corpus_bytes'] / 2**30:.2f} GiB in {corpus_dir} "
          f"({row['corpus_bytes'] / max(row['tokens'], 1):.1f} bytes per token); scratch "
          f"beside it peaked at {row['peak_scratch_bytes'] / 2**30:.2f} GiB "
          f"(sampled every second)")  # fmt: skip
    peak_ok = row["peak_rss_mb"] <= GOAL_PEAK_MB
    rate_ok = row["events_per_s"] >= GOAL_EVENTS_PER_S
    print(f"goal: peak RSS <= 2.5 GB:      {row['peak_rss_mb'] / 1024:6.2f} GiB "
          f"{'met' if peak_ok else 'MISSED'}")  # fmt: skip
    print(f"goal: >= 1M events/s, 2 cores: {row['events_per_s'] / 1e6:6.2f}M "
          f"{'met' if rate_ok else 'MISSED'} (on {os.cpu_count()} cores, threads="
          f"{args.threads})")  # fmt: skip
    print(f"next: python benchmarks/corpus_fit_memory.py --corpus {corpus_dir}")
    return {"log": {"dir": str(log_dir), **params}, "build": row,
            "goals": {"peak_rss_mb": GOAL_PEAK_MB, "events_per_s": GOAL_EVENTS_PER_S,
                      "peak_met": peak_ok, "rate_met": rate_ok}}  # fmt: skip


def compare_mode(args: argparse.Namespace, n_events: int) -> dict[str, Any]:
    piece_rows = int(args.piece_rows or 1e6)
    log_dir = args.log_dir or Path(tempfile.gettempdir()) / "item2vec-bench" / f"events-{n_events}"
    params = log_params(args, n_events, piece_rows)
    files = [str(path) for path in write_event_log(log_dir, params)]
    common = {"min_weight": args.min_weight, "session_gap": args.session_gap}
    rows = []
    with tempfile.TemporaryDirectory(prefix="item2vec-compare-", dir=log_dir.parent) as tmp:
        built, in_memory = Path(tmp) / "build_corpus", Path(tmp) / "from_events"
        for _ in range(args.repeats):
            rows.append(run_child({
                "task": "build", "source": str(log_dir / "*.parquet"), "out": str(built),
                "memory_limit": args.memory_limit, "threads": args.threads,
                "verbose": args.verbose, **common,
            }))  # fmt: skip
            show(rows[-1])
            rows.append(run_child({"task": "from_events", "files": files, "out": str(in_memory),
                                   **common}))  # fmt: skip
            show(rows[-1])
        equal = same_corpus(built, in_memory)
    same = all(equal.values())
    print(
        f"\nthe two corpora are {'EQUAL' if same else 'DIFFERENT'}: "
        + ", ".join(f"{name} {'==' if ok else '!='}" for name, ok in equal.items())
    )
    medians = {}
    for method in dict.fromkeys(row["method"] for row in rows):
        mine = [row for row in rows if row["method"] == method]
        medians[method] = {key: statistics.median(row[key] for row in mine)
                           for key in ("seconds", "events_per_s", "peak_rss_mb")}  # fmt: skip
    if args.repeats > 1:
        for method, median in medians.items():
            print(f"median {method:25s} {median['seconds']:.2f} s, "
                  f"{median['events_per_s'] / 1e6:.2f}M events/s, "
                  f"peak RSS {median['peak_rss_mb']:,.0f} MB")  # fmt: skip
    return {"log": {"dir": str(log_dir), **params}, "runs": rows, "medians": medians,
            "equal": equal, "same_corpus": same}  # fmt: skip


def main(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=float, default=None,
                        help="events (default 1e7; 3e8 with --build-corpus)")  # fmt: skip
    parser.add_argument("--kinds", nargs="+", default=["int", "str-pandas"])
    parser.add_argument("--json", type=Path, default=None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--build-corpus", action="store_true",
                      help="write a Parquet log in pieces, time build_corpus on it")  # fmt: skip
    mode.add_argument("--compare", action="store_true",
                      help="build_corpus against read_table + from_events, same log")  # fmt: skip
    parser.add_argument("--log-dir", type=Path, help="the Parquet pieces (reused if complete)")
    parser.add_argument("--corpus-dir", type=Path, help="where --build-corpus writes the corpus")
    parser.add_argument("--piece-rows", type=float,
                        help="events per Parquet file (1e7; 1e6 with --compare)")  # fmt: skip
    parser.add_argument("--batch-rows", type=float, default=1e6,
                        help="rows generated at once (a row group)")  # fmt: skip
    parser.add_argument("--items", type=float, default=1e6)
    parser.add_argument("--zipf", type=float, default=1.0, help="item popularity exponent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-limit", default="2GB", help="build_corpus's memory_limit")
    parser.add_argument("--threads", type=int, default=2, help="build_corpus's threads")
    parser.add_argument("--min-weight", type=float, default=None)
    parser.add_argument("--session-gap", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, with --compare")
    parser.add_argument("--verbose", action="store_true", help="build_corpus's progress")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(float(args.child[0])), args.child[1])))
        return []
    if args.task:
        task = json.loads(args.task)
        run = build_child if task["task"] == "build" else from_events_child
        print(json.dumps(run(task)))
        return {}
    if args.build_corpus or args.compare:
        n_events = int(args.events or (3e8 if args.build_corpus else 1e7))
        if args.build_corpus:
            report = build_mode(args, n_events)
            default = "build_corpus.json"
        else:
            report = compare_mode(args, n_events)
            default = "build_corpus_compare.json"
        write_report(args.json or Path("benchmarks/results") / default, report)
        return report
    n_events = int(args.events or 1e7)
    results = []
    for kind in args.kinds:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n_events), kind],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        row = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(row)
        print(f"{kind:11s} {row['events']:>12,} events -> {row['sequences']:,} sequences, "
              f"{row['tokens']:,} tokens in {row['seconds']:.2f} s "
              f"({row['events_per_s'] / 1e6:.2f}M events/s); peak RSS {row['peak_rss_mb']:.0f} MB "
              f"(input built: {row['rss_before_mb']:.0f} MB)", flush=True)  # fmt: skip
    write_report(args.json or Path("benchmarks/results/ingest_events.json"), results)
    return results


if __name__ == "__main__":
    main()

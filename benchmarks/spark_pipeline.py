"""The Spark pipeline end to end: build_corpus, fit, recommend on executors, and quality
against Spark MLlib's Word2Vec.

Writes (once; a complete log with the same parameters is reused) a Parquet event
log of ``--events`` events (50M by default) with planted structure: ``--users``
users (int64 ids) over ``--items`` items (str ids ``"item-<k>"``) in
``--clusters`` clusters. Each user likes 3 clusters (drawn by cluster
popularity) and browses in sessions (mean length 10) of one of them; within a
cluster the user walks along the cluster's chain of items (steps of 1, 2, ...
with mean ``1 / --step-p``) from where the user last left it; 5% of events
are noise drawn from the whole catalogue by popularity. A user's times are
strictly increasing over one year; the log is cut into Parquet pieces that are
consecutive stretches of that year, so the first pieces are a smaller log of
the same users and items with fewer events per user.

Then, with ``SparkSession`` on ``local[2]`` (``spark.driver.memory`` 2g, 8 shuffle
partitions, no UI):

1. ``item2vec.spark.build_corpus`` from ``spark.read.parquet`` of the first
   pieces (about ``--small-events``) and of the whole log, each in a fresh
   child process: events/s, and the peak RSS of the Python driver process
   (``VmHWM``; anonymous and file-backed parts sampled), which should not grow
   with the events (same users and items, more events per user); the JVM's
   peak and the Python workers' are shown beside it.
2. A leave-last-out split of the whole corpus (each user's last event held
   out); ``Item2Vec`` (skip-gram, ``sample=0``, ``n_jobs=2``, ``--epochs``)
   fitted on its training part, timed; HR@10 and NDCG@10 (``evaluate``, with
   equal weights and with ``half_life=3``) on ``--eval-users`` random users,
   and the popularity baseline's.
3. ``item2vec.spark.recommend`` (``half_life=3``) for every user of the whole
   log, written as Parquet, timed; the rows of ``--check-users`` users are
   compared with ``recommend_batch`` on the driver. ``similar_items`` for every
   item, written as Parquet, timed.
4. On a sample of the users (``--mllib-sample``, a fraction; MLlib is slow):
   the same split, Spark MLlib's ``Word2Vec`` (skip-gram with hierarchical
   softmax; vectorSize, windowSize, maxIter = epochs, minCount 1,
   numPartitions = n_jobs, stepSize 0.025 = item2vec's alpha) and
   ``Item2Vec`` (``--epochs``, and ``--more-epochs`` times as many) trained on
   the same training sequences, timed; MLlib scored on the driver by cosine
   between the (weighted) mean of the history's vectors and every item's
   vector, history items excluded (as ``evaluate`` does for item2vec), on the
   same held-out targets; item2vec with its "output" and "cosine" scorings.
   The model of all users (step 2) is scored on those targets too.

The log stays in ``--base-dir`` for the next run; corpora, Spark's scratch and
the written recommendations go to a scratch folder there, removed at the end.

``--compare-build`` runs only step 1, side by side: ``item2vec.spark.build_corpus``,
other versions of ``item2vec/spark.py`` given as ``--spark-version LABEL=FILE`` (say
the one at ``HEAD``: ``git show HEAD:src/item2vec/spark.py > /tmp/spark_old.py``), and
DuckDB's ``item2vec.ingest.build_corpus`` (``--duckdb-memory``, 2 threads) on the same
Parquet pieces, each build in a fresh process, ``--repeats`` times in turn (each repeat
starting with the next method), with the load average before each build, and whether
every build of a repeat wrote the same files (SHA-256 of each; the header without its
record of the build).

Examples::

    python benchmarks/spark_pipeline.py --events 2e5 --users 2000 --items 5000 --clusters 50 \\
        --piece-events 2e4 --small-events 4e4 --mllib-sample 0.5 --eval-users 1000
    python benchmarks/spark_pipeline.py --events 5e7 --small-events 1e7 --mllib-sample 0.05
    python benchmarks/spark_pipeline.py  # the same: the defaults
    python benchmarks/spark_pipeline.py --compare-build --repeats 3 \\
        --spark-version before=/tmp/spark_old.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import peak_rss_mb, write_report
from ingest_events import RssSampler

LOG_COMPLETE = "_COMPLETE.json"  # written last: the log is whole, with these parameters
YEAR = 365 * 86_400
T0 = 1_700_000_000  # the log's first second (Nov 2023)
TASTES = 3  # clusters a user likes
MEAN_SESSION = 10.0  # events per session of one cluster
NOISE = 0.05  # share of events drawn from the whole catalogue
K = 10


# --- the event log --------------------------------------------------------------------


def _build_sizes(n_pieces: int, small_events: float | None, events: float) -> list[int]:
    """Numbers of log pieces to build from: all of them, and first the pieces that cover
    about ``small_events`` events when that is fewer."""
    sizes = [n_pieces]
    if small_events:
        small = max(1, round(small_events / events * n_pieces))
        if small < n_pieces:
            sizes.insert(0, small)
    return sizes


def log_params(args: argparse.Namespace) -> dict[str, Any]:
    n_events, n_users = int(args.events), int(args.users)
    if int(args.items) % int(args.clusters):
        raise SystemExit("--items must be a multiple of --clusters")
    return {
        "events": n_events, "users": n_users, "items": int(args.items),
        "clusters": int(args.clusters), "pieces": max(1, round(n_events / args.piece_events)),
        "step_p": args.step_p, "tastes": TASTES, "mean_session": MEAN_SESSION, "noise": NOISE,
        "seed": args.seed, "block_events": int(args.block_events), "version": 1,
    }  # fmt: skip


def write_event_log(log_dir: Path, params: dict[str, Any]) -> tuple[list[Path], list[int]]:
    """The Parquet pieces of the log (written unless complete), and their numbers of events.

    Columns ``user`` int64, ``item`` str, ``time`` int64 seconds. Generated a
    block of users at a time (each user's whole year at once, so the walks and
    sessions carry on across pieces); each block adds one row group, sorted by
    time, to every piece.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_pieces = params["pieces"]
    paths = [log_dir / f"part-{p:05d}.parquet" for p in range(n_pieces)]
    complete = log_dir / LOG_COMPLETE
    if complete.exists():
        done = json.loads(complete.read_text())
        if done["params"] == params and all(path.exists() for path in paths):
            print(f"reusing the event log in {log_dir} ({params['events']:,} events, "
                  f"{n_pieces} pieces)", flush=True)  # fmt: skip
            return paths, done["piece_events"]
    if log_dir.exists():
        ours = [*log_dir.glob("part-*.parquet"), *log_dir.glob(".part-*.tmp"), complete]
        if set(log_dir.iterdir()) - set(ours):
            raise SystemExit(f"{log_dir} holds files that are not an event log of this script")
        for stale in ours:
            stale.unlink(missing_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)

    n_events, n_users, n_items = params["events"], params["users"], params["items"]
    n_clusters = params["clusters"]
    size = n_items // n_clusters  # items per cluster: item k is in cluster k % n_clusters
    rng = np.random.default_rng([params["seed"], 0])
    activity = rng.lognormal(0.0, 0.5, n_users)
    per_user = rng.multinomial(n_events, activity / activity.sum())
    # the chain of each cluster: its items in a random order
    chains = rng.permuted(np.arange(n_items).reshape(size, n_clusters).T, axis=1)
    cluster_pop = 1.0 / (np.arange(n_clusters) + 10.0)
    gumbel = np.log(cluster_pop) + rng.gumbel(size=(n_users, n_clusters))
    tastes = np.argpartition(-gumbel, TASTES - 1, axis=1)[:, :TASTES]  # distinct, by popularity
    del gumbel
    taste_cdf = np.cumsum(rng.dirichlet(np.ones(TASTES), n_users), axis=1)
    pointer = rng.integers(0, size, (n_users, TASTES))  # where each walk starts
    item_cdf = np.cumsum(1.0 / (np.arange(n_items) + 10.0))
    item_cdf /= item_cdf[-1]
    names = pa.array([f"item-{k:07d}" for k in range(n_items)], pa.string())
    schema = pa.schema([("user", pa.int64()), ("item", pa.string()), ("time", pa.int64())])

    tmp = [log_dir / f".{path.name}.tmp" for path in paths]
    writers = [pq.ParquetWriter(path, schema) for path in tmp]
    piece_events = [0] * n_pieces
    started = time.perf_counter()
    user_ends = np.cumsum(per_user)
    first = 0
    try:
        while first < n_users:
            # users whose events fill about one block
            target = (user_ends[first - 1] if first else 0) + params["block_events"]
            last = max(first + 1, int(np.searchsorted(user_ends, target, side="right")))
            last = min(last, n_users)
            block = _user_block(
                np.random.default_rng([params["seed"], 1, first]), first, per_user[first:last],
                tastes, taste_cdf, pointer, chains, item_cdf, params["step_p"],
            )  # fmt: skip
            user, item, t = block
            piece = (t - T0) * n_pieces // YEAR
            order = np.lexsort((t, piece))
            user, item, t, piece = user[order], item[order], t[order], piece[order]
            bounds = np.searchsorted(piece, np.arange(n_pieces + 1))
            for p in range(n_pieces):
                lo, hi = int(bounds[p]), int(bounds[p + 1])
                if hi > lo:
                    writers[p].write_table(pa.table(
                        {"user": user[lo:hi], "item": names.take(pa.array(item[lo:hi])),
                         "time": t[lo:hi]}, schema=schema,
                    ))  # fmt: skip
                    piece_events[p] += hi - lo
            first = last
            done = int(user_ends[last - 1])
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(f"  {done:,} / {n_events:,} events written ({rate / 1e6:.2f}M events/s); "
                  f"peak RSS {peak_rss_mb():.0f} MB", flush=True)  # fmt: skip
    finally:
        for writer in writers:
            writer.close()
    for source, path in zip(tmp, paths, strict=True):
        os.replace(source, path)
    complete.write_text(json.dumps({"params": params, "piece_events": piece_events}))
    print(f"event log complete: {log_dir} ({size_on_disk(log_dir) / 2**30:.2f} GiB)", flush=True)
    return paths, piece_events


def _user_block(
    rng: np.random.Generator, first: int, counts: np.ndarray, tastes: np.ndarray,
    taste_cdf: np.ndarray, pointer: np.ndarray, chains: np.ndarray, item_cdf: np.ndarray,
    step_p: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """All events of users ``first, first + 1, ...`` (``counts`` of them each), in user
    order and time order within a user: user ids, item numbers, times."""
    n = int(counts.sum())
    local = np.repeat(np.arange(counts.shape[0]), counts)
    user = first + local
    starts = np.cumsum(counts) - counts
    index_in_user = np.arange(n) - starts[local]
    # sessions: each picks one of its user's clusters by the user's taste weights
    new = rng.random(n) < 1.0 / MEAN_SESSION
    new[starts[counts > 0]] = True
    session = np.cumsum(new) - 1
    session_user = user[new]
    draws = rng.random(session_user.shape[0])
    slot = (draws[:, None] > taste_cdf[session_user, : TASTES - 1]).sum(axis=1)[session]
    cluster = tastes[user, slot]
    # the walk of each (user, cluster): steps of 1, 2, ... from the user's start there
    step = rng.geometric(step_p, n)
    walk = local * TASTES + slot
    order = np.argsort(walk, kind="stable")
    walked = np.cumsum(step[order])
    sorted_walk = walk[order]
    heads = np.flatnonzero(np.r_[True, sorted_walk[1:] != sorted_walk[:-1]])
    walked -= np.repeat(walked[heads], np.diff(np.r_[heads, n]))
    position = np.empty(n, dtype=np.int64)
    position[order] = walked
    size = chains.shape[1]
    item = chains[cluster, (pointer[user, slot] + position) % size]
    noisy = rng.random(n) < NOISE
    item[noisy] = np.minimum(
        np.searchsorted(item_cdf, rng.random(int(noisy.sum())), side="right"), item_cdf.size - 1
    )
    # times: sorted uniform over the year (normalised exponential spacings), made strictly
    # increasing within a user by adding the event's index
    gaps = rng.exponential(1.0, n + counts.shape[0])  # one more gap per user: the year's end
    ext = np.repeat(np.arange(counts.shape[0]), counts + 1)
    cum = np.cumsum(gaps)
    ext_starts = np.cumsum(counts + 1) - (counts + 1)
    cum -= np.repeat(cum[ext_starts] - gaps[ext_starts], counts + 1)
    totals = cum[ext_starts + counts]
    keep = np.ones(n + counts.shape[0], dtype=bool)
    keep[ext_starts + counts] = False
    fraction = cum[keep] / totals[ext[keep]]
    t = T0 + np.floor(fraction * (YEAR - counts[local])).astype(np.int64) + index_in_user
    return user.astype(np.int64), item, t


def size_on_disk(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# --- Spark ----------------------------------------------------------------------------


def spark_session(driver_memory: str, shuffle_partitions: int, local_dir: Path) -> Any:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    local_dir.mkdir(parents=True, exist_ok=True)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("item2vec-spark-pipeline")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.local.dir", str(local_dir))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _status(pid: int | str) -> dict[str, str]:
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                fields[key] = rest.strip()
    except OSError:
        pass
    return fields


def descendant_peaks() -> dict[str, float]:
    """Peak RSS (VmHWM, MiB) of this process's JVM and the largest of its Python workers
    (those alive now: Spark reuses its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    peaks = {"jvm_peak_rss_mb": float("nan"), "worker_peak_rss_mb": float("nan")}
    todo = [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            status = _status(pid)
            if "VmHWM" not in status:
                continue
            mb = int(status["VmHWM"].split()[0]) / 1024
            key = "jvm_peak_rss_mb" if status.get("Name") == "java" else "worker_peak_rss_mb"
            if key.startswith("worker") and not status.get("Name", "").startswith("python"):
                continue
            if not mb <= peaks[key]:
                peaks[key] = mb
    return peaks


def spark_module(source: str | None) -> Any:
    """``item2vec.spark``, or another version of it loaded from a file (say the one at
    ``HEAD``: ``git show HEAD:src/item2vec/spark.py > /tmp/spark_old.py``). Such a module
    is in no package the Python workers can import, so its functions travel by value."""
    if source is None:
        import item2vec.spark

        return item2vec.spark
    import importlib.util

    from pyspark import cloudpickle

    spec = importlib.util.spec_from_file_location("item2vec_spark_under_test", source)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {source} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    cloudpickle.register_pickle_by_value(module)
    return module


def duckdb_build_child(task: dict[str, Any]) -> dict[str, Any]:
    """``item2vec.ingest.build_corpus`` (DuckDB) of the same pieces, in this fresh process."""
    from item2vec.ingest import build_corpus

    with RssSampler() as sampler:
        started = time.perf_counter()
        corpus = build_corpus(task["files"], task["out"], user="user", item="item", time="time",
                              memory_limit=task["duckdb_memory"], threads=2)  # fmt: skip
        seconds = time.perf_counter() - started
    header = json.loads((Path(task["out"]) / "header.json").read_text())
    n_events = header["built_by"]["events_read"]
    return {
        "events": n_events, "pieces": len(task["files"]), "seconds": seconds,
        "events_per_s": n_events / seconds, "sequences": len(corpus),
        "tokens": corpus.n_tokens, "items": len(corpus.vocabulary),
        "events_per_user": corpus.n_tokens / len(corpus), "driver_peak_rss_mb": peak_rss_mb(),
        "driver_peak_anon_mb": sampler.peaks["RssAnon"],
        "driver_peak_file_mb": sampler.peaks["RssFile"], "corpus_dir": task["out"],
    }  # fmt: skip


def build_child(task: dict[str, Any]) -> dict[str, Any]:
    """``item2vec.spark.build_corpus`` of some pieces, in this fresh process."""
    if task.get("engine") == "duckdb":
        return duckdb_build_child(task)
    build_corpus = spark_module(task.get("module")).build_corpus
    spark = spark_session(task["driver_memory"], task["shuffle_partitions"], Path(task["local"]))
    rss_spark_up = _status("self")["VmRSS"]
    df = spark.read.parquet(*task["files"])
    with RssSampler() as sampler:
        started = time.perf_counter()
        corpus = build_corpus(
            df, task["out"], user="user", item="item", time="time", partitions=task["partitions"]
        )
        seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    others = descendant_peaks()
    header = json.loads((Path(task["out"]) / "header.json").read_text())
    spark.stop()
    n_events = header["built_by"]["events_read"]
    return {
        "events": n_events, "pieces": len(task["files"]), "seconds": seconds,
        "events_per_s": n_events / seconds, "sequences": len(corpus),
        "tokens": corpus.n_tokens, "items": len(corpus.vocabulary),
        "events_per_user": corpus.n_tokens / len(corpus),
        "driver_peak_rss_mb": peak,
        "driver_rss_spark_started_mb": int(rss_spark_up.split()[0]) / 1024,
        "driver_peak_anon_mb": sampler.peaks["RssAnon"],
        "driver_peak_file_mb": sampler.peaks["RssFile"], **others,
        "partitions": header["built_by"]["partitions"], "corpus_dir": task["out"],
        "corpus_bytes": size_on_disk(Path(task["out"])),
    }  # fmt: skip


def run_child(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a fresh interpreter (stderr passes through); its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--task", json.dumps(task)],
        check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def corpus_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a corpus but the header's record of how it was built."""
    import hashlib

    digests = {}
    for path in sorted(Path(folder).iterdir()):
        if path.name == "header.json":
            header = json.loads(path.read_text())
            header.pop("built_by", None)
            digests[path.name] = hashlib.sha256(json.dumps(header).encode()).hexdigest()
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1 << 24):
                digest.update(block)
        digests[path.name] = digest.hexdigest()
    return digests


def compare_builds(args: argparse.Namespace) -> dict[str, Any]:
    """Only step 1, timed side by side: ``item2vec.spark.build_corpus`` (and other versions
    of it, ``--spark-version``) and DuckDB's ``build_corpus`` on the same Parquet pieces,
    alternating, each build in a fresh process; medians over ``--repeats``."""
    params = log_params(args)
    base = args.base_dir
    log_dir = args.log_dir or base / (
        f"events-{params['events']}-u{params['users']}-i{params['items']}"
        f"-c{params['clusters']}-s{args.seed}"
    )
    paths, piece_events = write_event_log(log_dir, params)
    methods: list[tuple[str, str | None]] = [("spark", None)]
    for given in args.spark_version:
        label, sep, source = given.partition("=")
        if not sep or not Path(source).is_file():
            raise SystemExit(f"--spark-version takes LABEL=FILE (an existing file), got {given!r}")
        methods.append((f"spark {label}", str(Path(source).absolute())))
    methods.append(("duckdb", None))
    sizes = _build_sizes(len(paths), args.small_events, params["events"])
    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="compare-", dir=base))
    runs: list[dict[str, Any]] = []
    try:
        for k in sizes:
            for repeat in range(args.repeats):
                reference = None
                # each repeat starts with the next method, so that none always runs first
                turn = repeat % len(methods)
                for label, source in methods[turn:] + methods[:turn]:
                    load = os.getloadavg()
                    print(f"{sum(piece_events[:k]):,} events ({k} pieces), repeat {repeat + 1}, "
                          f"{label}: load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
                          flush=True)  # fmt: skip
                    out = scratch / "corpus"
                    row = run_child({
                        "task": "build", "files": [str(path) for path in paths[:k]],
                        "out": str(out), "local": str(scratch / "spark-local"),
                        "driver_memory": args.driver_memory, "partitions": args.partitions,
                        "shuffle_partitions": args.shuffle_partitions, "module": source,
                        "engine": "duckdb" if label == "duckdb" else "spark",
                        "duckdb_memory": args.duckdb_memory,
                    })  # fmt: skip
                    digest = corpus_digest(out)
                    shutil.rmtree(out)
                    shutil.rmtree(scratch / "spark-local", ignore_errors=True)
                    reference = reference or digest
                    row.update(method=label, repeat=repeat, load=load,
                               same_files_as_first=digest == reference)  # fmt: skip
                    runs.append(row)
                    print(f"  {row['seconds']:.1f} s, {row['events_per_s'] / 1e6:.3f}M events/s, "
                          f"driver peak RSS {row['driver_peak_rss_mb']:.0f} MB, the same corpus "
                          f"files as the repeat's first build: {row['same_files_as_first']}",
                          flush=True)  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary = []
    for k in sizes:
        for label, _ in methods:
            rows = [r for r in runs if r["method"] == label and r["pieces"] == k]
            rates = sorted(r["events_per_s"] for r in rows)
            summary.append({
                "method": label, "pieces": k, "events": rows[0]["events"], "runs": len(rows),
                "median_seconds": float(np.median([r["seconds"] for r in rows])),
                "median_events_per_s": float(np.median(rates)), "events_per_s": rates,
                "driver_peak_rss_mb": max(r["driver_peak_rss_mb"] for r in rows),
                "loads_1min": [round(r["load"][0], 2) for r in rows],
                "all_same_files": all(r["same_files_as_first"] for r in rows),
            })  # fmt: skip
    print(
        "\n| events | method | runs | median s | median events/s | each run, events/s "
        "| vs DuckDB | driver peak RSS | same corpus | 1-min load before each run |"
    )
    print("| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |")
    for row in summary:
        duck = next(r for r in summary if r["pieces"] == row["pieces"] and r["method"] == "duckdb")
        print(f"| {row['events']:,} | {row['method']} | {row['runs']} | "
              f"{row['median_seconds']:.1f} | {row['median_events_per_s'] / 1e6:.3f}M | "
              f"{', '.join(f'{r / 1e6:.3f}M' for r in row['events_per_s'])} | "
              f"{row['median_events_per_s'] / duck['median_events_per_s']:.2f}x | "
              f"{row['driver_peak_rss_mb']:.0f} MB | {'yes' if row['all_same_files'] else 'NO'} | "
              f"{', '.join(f'{v:.1f}' for v in row['loads_1min'])} |")  # fmt: skip
    return {"log": {"dir": str(log_dir), **params, "piece_events": piece_events},
            "settings": {key: (str(value) if isinstance(value, Path) else value)
                         for key, value in vars(args).items()},
            "runs": runs, "summary": summary}  # fmt: skip


# --- quality ----------------------------------------------------------------------------


def mllib_rank(
    words: np.ndarray, vectors: np.ndarray, histories: Any, k: int,
    half_life: float | None = None, block: int = 512,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Top ``k`` items per history by cosine to the (weighted) mean of its vectors, history
    items excluded; ids and scores (``-inf`` where there is nothing to rank)."""
    import pandas as pd
    import scipy.sparse as sp

    vectors = np.asarray(vectors, dtype=np.float32)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    row_of = pd.Index(words).get_indexer(np.asarray(histories.vocabulary.items, dtype=object))
    rows = row_of[histories.codes]
    offsets, lengths = histories.offsets, histories.lengths
    n, n_words = len(histories), words.shape[0]
    ids = np.empty((n, k), dtype=object)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        r = rows[offsets[start] : offsets[stop]]
        length = lengths[start:stop]
        which = np.repeat(np.arange(stop - start), length)
        if half_life is None:
            w = np.ones(r.shape[0], dtype=np.float32)
        else:
            from_end = np.repeat(offsets[start + 1 : stop + 1] - offsets[start], length)
            from_end = from_end - 1 - np.arange(r.shape[0])
            w = (0.5 ** (from_end / half_life)).astype(np.float32)
        known = r >= 0
        weights = sp.csr_array(
            (w[known], (which[known], r[known])), shape=(stop - start, n_words)
        )  # duplicates add up: an item seen twice counts twice, as in the mean
        mean = weights @ vectors
        mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
        sims = mean @ unit.T
        sims[which[known], r[known]] = -np.inf
        empty = ~np.isin(np.arange(stop - start), which[known])
        sims[empty] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(sims, top, axis=1)
        ranked = np.argsort(-top_scores, axis=1, kind="stable")
        top = np.take_along_axis(top, ranked, axis=1)
        scores[start:stop] = np.take_along_axis(top_scores, ranked, axis=1)
        ids[start:stop] = words[top]
    return ids, scores


def item2vec_quality(model: Any, split: Any, cosine: bool = False) -> dict[str, Any]:
    """HR/NDCG@10 with equal weights and with ``half_life=3`` (output or cosine scoring)."""
    from item2vec.evaluation import evaluate

    saved = model.recommend_scoring
    model.recommend_scoring = "cosine" if cosine else "output"
    try:
        started = time.perf_counter()
        mean = evaluate(model, split, k=K)
        recent = evaluate(model, split, k=K, half_life=3)
    finally:
        model.recommend_scoring = saved
    return {"mean": mean, "half_life_3": recent, "eval_seconds": time.perf_counter() - started}


def fit_item2vec(train: Any, args: argparse.Namespace, epochs: int) -> tuple[Any, dict]:
    from item2vec import Item2Vec

    model = Item2Vec(
        vector_size=args.vector_size, window=args.window, epochs=epochs, sg=True,
        sample=0, min_count=1, n_jobs=args.jobs, random_state=args.seed,
    )  # fmt: skip
    started = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - started
    return model, {
        "train_seconds": seconds, "train_tokens": train.n_tokens, "epochs": epochs,
        "tokens_per_s": train.n_tokens * epochs / seconds, "items": len(model.items_),
    }  # fmt: skip


def subset_split(split: Any, idx: np.ndarray) -> Any:
    """The split with only the histories and targets at ``idx`` (the same training part)."""
    return type(split)(split.train, split.histories.subset(idx), split.targets[idx])


def popularity_quality(split: Any) -> dict[str, float]:
    from item2vec.baselines import Popularity
    from item2vec.evaluation import evaluate

    return evaluate(Popularity().fit(split.train), split, k=K)


def mllib_comparison(spark: Any, split: Any, scratch: Path, args: argparse.Namespace) -> dict:
    """MLlib's Word2Vec on the training sequences of ``split``, scored on its targets."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.ml.feature import Word2Vec

    from item2vec.evaluation import ranking_metrics

    train = split.train
    items = np.asarray(train.vocabulary.items, dtype=object)
    tokens = pa.array(items[train.codes], pa.string())
    lists = pa.ListArray.from_arrays(pa.array(train.offsets, pa.int32()), tokens)
    path = scratch / "mllib-train.parquet"
    pq.write_table(pa.table({"items": lists}), path)
    sentences = spark.read.parquet(str(path)).repartition(args.jobs).cache()
    n_sentences = sentences.count()
    longest = int(train.lengths.max())
    word2vec = Word2Vec(
        vectorSize=args.vector_size, windowSize=args.window, maxIter=args.epochs, minCount=1,
        numPartitions=args.jobs, stepSize=0.025, seed=args.seed,
        maxSentenceLength=max(1000, longest), inputCol="items", outputCol="vector",
    )  # fmt: skip
    started = time.perf_counter()
    fitted = word2vec.fit(sentences)
    seconds = time.perf_counter() - started
    rows = fitted.getVectors().collect()
    sentences.unpersist()
    words = np.array([row["word"] for row in rows], dtype=object)
    vectors = np.stack([row["vector"].toArray() for row in rows]).astype(np.float32)
    out: dict[str, Any] = {
        "train_seconds": seconds, "epochs": args.epochs, "sentences": n_sentences,
        "train_tokens": train.n_tokens, "tokens_per_s": train.n_tokens * args.epochs / seconds,
        "items": int(words.shape[0]),
        "maxSentenceLength": max(1000, longest),
    }  # fmt: skip
    started = time.perf_counter()
    for name, half_life in (("mean", None), ("half_life_3", 3.0)):
        ids, scores = mllib_rank(words, vectors, split.histories, K, half_life)
        metrics = ranking_metrics(
            ids, split.targets.astype(object), K, n_items=int(words.shape[0]),
            valid=np.isfinite(scores),
        )  # fmt: skip
        out[name] = {**metrics, "n_users": int(split.targets.shape[0])}
    out["eval_seconds"] = time.perf_counter() - started
    return out


def check_recommend(recs_dir: Path, model: Any, corpus: Any, n_users: int, seed: int) -> dict:
    """Spark's rows for ``n_users`` random users against ``recommend_batch`` on the driver."""
    import pyarrow.dataset as ds

    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(corpus), size=min(n_users, len(corpus)), replace=False))
    users = corpus.users[idx]
    table = ds.dataset(str(recs_dir), format="parquet").to_table(
        filter=ds.field("user").isin(users.tolist())
    )
    frame = table.to_pandas().sort_values(["user", "rank"])
    spark_ids = {u: g["item"].tolist() for u, g in frame.groupby("user")}
    spark_scores = {u: g["score"].to_numpy() for u, g in frame.groupby("user")}
    ids, scores = model.recommend_batch(corpus.subset(idx), topn=K, half_life=3)
    same_list = same_set = 0
    worst = 0.0
    for row, user in enumerate(users.tolist()):
        local = [i for i, s in zip(ids[row], scores[row], strict=True) if np.isfinite(s)]
        theirs = spark_ids.get(user, [])
        same_list += theirs == local
        same_set += set(theirs) == set(local)
        if len(theirs) == len(local) and local:
            diff = np.abs(spark_scores[user] - scores[row][: len(local)]).max()
            worst = max(worst, float(diff))
    return {"users": len(users), "same_ranking": same_list, "same_items": same_set,
            "max_score_diff": worst}  # fmt: skip


# --- the run ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from item2vec import Sequences
    from item2vec.evaluation import leave_last_out

    base = args.base_dir
    params = log_params(args)
    log_dir = args.log_dir or base / (
        f"events-{params['events']}-u{params['users']}-i{params['items']}"
        f"-c{params['clusters']}-s{args.seed}"
    )
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f} on {os.cpu_count()} cores", flush=True)  # fmt: skip
    started = time.perf_counter()
    paths, piece_events = write_event_log(log_dir, params)
    log_seconds = time.perf_counter() - started
    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    report: dict[str, Any] = {
        "log": {"dir": str(log_dir), **params, "piece_events": piece_events,
                "bytes": size_on_disk(log_dir)},
        "settings": {key: (str(value) if isinstance(value, Path) else value)
                     for key, value in vars(args).items()},
        "load_before": load_before,
    }  # fmt: skip
    try:
        # 1. build_corpus at two sizes, each in a fresh process
        sizes = _build_sizes(len(paths), args.small_events, params["events"])
        builds = []
        for k in sizes:
            print(f"\nbuild_corpus of {k} piece(s), {sum(piece_events[:k]):,} events, in a "
                  f"fresh process", flush=True)  # fmt: skip
            row = run_child({
                "task": "build", "files": [str(path) for path in paths[:k]],
                "out": str(scratch / f"corpus-{k}"), "local": str(scratch / "spark-local"),
                "driver_memory": args.driver_memory, "partitions": args.partitions,
                "shuffle_partitions": args.shuffle_partitions,
            })  # fmt: skip
            builds.append(row)
            print(f"  {row['events']:,} events -> {row['sequences']:,} users, "
                  f"{row['items']:,} items ({row['events_per_user']:.0f} events/user) in "
                  f"{row['seconds']:.1f} s: {row['events_per_s'] / 1e6:.3f}M events/s; "
                  f"driver peak RSS {row['driver_peak_rss_mb']:.0f} MB (after starting Spark "
                  f"{row['driver_rss_spark_started_mb']:.0f} MB; sampled peaks: anon "
                  f"{row['driver_peak_anon_mb']:.0f} MB, file "
                  f"{row['driver_peak_file_mb']:.0f} MB); JVM peak "
                  f"{row['jvm_peak_rss_mb']:.0f} MB, Python worker peak "
                  f"{row['worker_peak_rss_mb']:.0f} MB", flush=True)  # fmt: skip
        report["build"] = builds
        for row in builds[:-1]:
            shutil.rmtree(row["corpus_dir"], ignore_errors=True)

        # 2. fit on the whole corpus's training part; quality
        corpus = Sequences.open(builds[-1]["corpus_dir"])
        rng = np.random.default_rng(args.seed)
        started = time.perf_counter()
        split = leave_last_out(corpus)
        split_seconds = time.perf_counter() - started
        print(f"\nleave-last-out split in {split_seconds:.1f} s: {split.train.n_tokens:,} "
              f"training tokens, {split.targets.shape[0]:,} targets", flush=True)  # fmt: skip
        model, fit = fit_item2vec(split.train, args, args.epochs)
        print(f"Item2Vec fit: {fit['train_seconds']:.1f} s, {fit['tokens_per_s'] / 1e6:.3f}M "
              f"tokens/s ({fit['epochs']} epochs of {fit['train_tokens']:,} tokens)",
              flush=True)  # fmt: skip
        report["fit"] = fit
        every = f"all {len(corpus):,} users"
        n_eval = len(corpus) if not args.eval_users else min(args.eval_users, len(corpus))
        evaluated = subset_split(
            split, np.sort(rng.choice(len(corpus), size=n_eval, replace=False))
        )
        on = every if n_eval == len(corpus) else f"{n_eval:,} random users"
        rows = report["quality"] = []
        rows.append({"model": "item2vec", "scoring": "output", "trained_on": every, **fit,
                     "evaluated_on": on, **item2vec_quality(model, evaluated)})  # fmt: skip
        rows.append({"model": "popularity", "scoring": "-", "trained_on": every,
                     "evaluated_on": on, "mean": popularity_quality(evaluated)})  # fmt: skip
        for row in rows:
            print(f"  {row['model']} on {on}: HR@10 {row['mean']['hr']:.4f}, NDCG@10 "
                  f"{row['mean']['ndcg']:.4f}" + (f"; half_life=3: HR@10 "
                  f"{row['half_life_3']['hr']:.4f}, NDCG@10 {row['half_life_3']['ndcg']:.4f}"
                  if "half_life_3" in row else ""), flush=True)  # fmt: skip
        del split, evaluated

        # 3. recommend (and similar_items) on the executors
        from item2vec.spark import recommend, similar_items

        spark = spark_session(args.driver_memory, args.shuffle_partitions, scratch / "spark-local")
        events = spark.read.parquet(*[str(path) for path in paths])
        started = time.perf_counter()
        recs = recommend(model, events, user="user", item="item", time="time", topn=K,
                         half_life=3)  # fmt: skip
        recs.write.parquet(str(scratch / "recommend"))
        rec_seconds = time.perf_counter() - started
        rec_rows = spark.read.parquet(str(scratch / "recommend")).count()
        report["recommend"] = {
            "seconds": rec_seconds, "rows": rec_rows, "users": len(corpus),
            "users_per_s": len(corpus) / rec_seconds, "events": builds[-1]["events"],
            "check": check_recommend(scratch / "recommend", model, corpus, args.check_users,
                                     args.seed),
        }  # fmt: skip
        check = report["recommend"]["check"]
        print(f"\nrecommend for {len(corpus):,} users (from {builds[-1]['events']:,} events): "
              f"{rec_seconds:.1f} s, {rec_rows:,} rows; check of {check['users']} users "
              f"against recommend_batch: {check['same_ranking']} same ranking, "
              f"{check['same_items']} same items, max score diff "
              f"{check['max_score_diff']:.2g}", flush=True)  # fmt: skip
        shutil.rmtree(scratch / "recommend", ignore_errors=True)
        if not args.no_similar:
            started = time.perf_counter()
            similar_items(model, topn=K, spark=spark).write.parquet(str(scratch / "similar"))
            sim_seconds = time.perf_counter() - started
            report["similar_items"] = {"seconds": sim_seconds, "items": len(model.items_)}
            print(f"similar_items for {len(model.items_):,} items: {sim_seconds:.1f} s",
                  flush=True)  # fmt: skip
            shutil.rmtree(scratch / "similar", ignore_errors=True)

        # 4. MLlib against item2vec on a sample of users (the same held-out targets)
        if args.mllib_sample > 0:
            n_sample = min(len(corpus), max(2, round(args.mllib_sample * len(corpus))))
            idx = np.sort(rng.choice(len(corpus), size=n_sample, replace=False))
            sample = leave_last_out(corpus.subset(idx))
            on = f"sample: {n_sample:,} users"
            print(f"\n{on} ({args.mllib_sample:g} of all): {sample.train.n_tokens:,} training "
                  f"tokens", flush=True)  # fmt: skip
            report["sample"] = {"fraction": args.mllib_sample, "users": n_sample,
                                "train_tokens": sample.train.n_tokens}  # fmt: skip
            mllib = mllib_comparison(spark, sample, scratch, args)
            rows.append({"model": "MLlib Word2Vec (hierarchical softmax)", "scoring": "cosine",
                         "trained_on": on, **mllib, "evaluated_on": on})  # fmt: skip
            print(f"  MLlib Word2Vec: {mllib['train_seconds']:.1f} s", flush=True)
            for epochs in dict.fromkeys([args.epochs, args.epochs * args.more_epochs]):
                if not epochs:
                    continue
                model_s, fit_s = fit_item2vec(sample.train, args, epochs)
                print(f"  item2vec, {epochs} epochs: {fit_s['train_seconds']:.1f} s",
                      flush=True)  # fmt: skip
                for cosine in (False, True):
                    rows.append({"model": "item2vec", "scoring": "cosine" if cosine else "output",
                                 "trained_on": on, **fit_s, "evaluated_on": on,
                                 **item2vec_quality(model_s, sample, cosine)})  # fmt: skip
                del model_s
            for cosine in (False, True):  # the model of all users, on the sample's targets
                rows.append({"model": "item2vec", "scoring": "cosine" if cosine else "output",
                             "trained_on": every, **fit, "evaluated_on": on,
                             **item2vec_quality(model, sample, cosine)})  # fmt: skip
            rows.append({"model": "popularity", "scoring": "-", "trained_on": on,
                         "evaluated_on": on, "mean": popularity_quality(sample)})  # fmt: skip
        spark.stop()
    finally:
        if args.keep_scratch:
            print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report["log"]["seconds_this_run"] = log_seconds
    show(report)
    return report


def show(report: dict[str, Any]) -> None:
    builds = report["build"]
    print("\n| build_corpus | events | users | items | events/user | seconds | events/s "
          "| driver peak RSS | driver anon / file | JVM peak RSS | worker peak RSS |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in builds:
        print(f"| {row['pieces']} piece(s) | {row['events']:,} | {row['sequences']:,} | "
              f"{row['items']:,} | {row['events_per_user']:.0f} | {row['seconds']:.1f} | "
              f"{row['events_per_s'] / 1e6:.3f}M | {row['driver_peak_rss_mb']:.0f} MB | "
              f"{row['driver_peak_anon_mb']:.0f} / {row['driver_peak_file_mb']:.0f} MB | "
              f"{row['jvm_peak_rss_mb']:.0f} MB | "
              f"{row['worker_peak_rss_mb']:.0f} MB |")  # fmt: skip
    fit, rec = report["fit"], report["recommend"]
    print(f"\nItem2Vec fit on {fit['train_tokens']:,} tokens x {fit['epochs']} epochs: "
          f"{fit['train_seconds']:.1f} s, {fit['tokens_per_s'] / 1e6:.3f}M tokens/s")  # fmt: skip
    print(f"recommend (Spark, half_life=3) for {rec['users']:,} users: {rec['seconds']:.1f} s "
          f"({rec['users_per_s']:,.0f} users/s)")  # fmt: skip
    if "similar_items" in report:
        sim = report["similar_items"]
        print(f"similar_items (Spark) for {sim['items']:,} items: {sim['seconds']:.1f} s")
    print("\n| model | scoring | trained on | epochs | train s | tokens/s | evaluated on "
          "| HR@10 | NDCG@10 | HR@10 half_life=3 | NDCG@10 half_life=3 |")  # fmt: skip
    print("| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for row in report["quality"]:
        train = "- | - | -"
        if "train_seconds" in row:
            train = (f"{row['epochs']} | {row['train_seconds']:.1f} | "
                     f"{row['tokens_per_s'] / 1e6:.3f}M")  # fmt: skip
        mean, recent = row["mean"], row.get("half_life_3")
        tail = f"{recent['hr']:.4f} | {recent['ndcg']:.4f}" if recent else "- | -"
        print(
            f"| {row['model']} | {row['scoring']} | {row['trained_on']} | {train} | "
            f"{row['evaluated_on']} | {mean['hr']:.4f} | {mean['ndcg']:.4f} | {tail} |"
        )
    if "sample" in report:
        sample = report["sample"]
        print(f"\nMLlib trained on a sample of {sample['users']:,} users "
              f"({sample['fraction']:g} of all, {sample['train_tokens']:,} training tokens); "
              f"item2vec trained on the same sample for the comparison, and the model of all "
              f"users scored on the same targets")  # fmt: skip


def main(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=float, default=5e7, help="events of the whole log")
    parser.add_argument("--small-events", type=float, default=1e7,
                        help="events of the smaller log (its first pieces); 0: none")  # fmt: skip
    parser.add_argument("--users", type=float, default=1e5)
    parser.add_argument("--items", type=float, default=1e5)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--step-p", type=float, default=0.6,
                        help="a walk's step is geometric with this p (mean 1/p)")  # fmt: skip
    parser.add_argument("--piece-events", type=float, default=5e6, help="events per piece")
    parser.add_argument("--block-events", type=float, default=2e6,
                        help="events generated at once")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "item2vec-spark-bench",
                        help="the log (kept) and a scratch folder (removed) go here")  # fmt: skip
    parser.add_argument("--log-dir", type=Path, help="the Parquet pieces (reused if complete)")
    parser.add_argument("--vector-size", type=int, default=64)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="n_jobs; MLlib's numPartitions")
    parser.add_argument("--mllib-sample", type=float, default=0.05,
                        help="share of users MLlib (and item2vec) trains on; 0: skip")  # fmt: skip
    parser.add_argument("--more-epochs", type=int, default=4,
                        help="item2vec on the sample also with this times the epochs")  # fmt: skip
    parser.add_argument("--eval-users", type=int, default=20_000,
                        help="users scored for the model of all users (0: all)")  # fmt: skip
    parser.add_argument("--check-users", type=int, default=1000,
                        help="users whose Spark rows are checked on the driver")  # fmt: skip
    parser.add_argument("--no-similar", action="store_true", help="skip similar_items")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--partitions", type=int, default=None, help="build_corpus partitions")
    parser.add_argument("--keep-scratch", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--compare-build", action="store_true",
                        help="only step 1, beside DuckDB's build_corpus on the same pieces, "
                             "alternating, --repeats times")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="with --compare-build")
    parser.add_argument("--spark-version", action="append", default=[], metavar="LABEL=FILE",
                        help="with --compare-build: also time this version of "
                             "item2vec/spark.py (a file), labelled LABEL")  # fmt: skip
    parser.add_argument("--duckdb-memory", default="2GB",
                        help="DuckDB's memory_limit with --compare-build")  # fmt: skip
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        print(json.dumps(build_child(json.loads(args.task))))
        return {}
    if args.compare_build:
        report = compare_builds(args)
        write_report(args.json or Path("benchmarks/results/spark_build_compare.json"), report)
        return report
    if not 0 <= args.mllib_sample <= 1:
        raise SystemExit("--mllib-sample is a fraction of the users, in [0, 1]")
    report = run(args)
    write_report(args.json or Path("benchmarks/results/spark_pipeline.json"), report)
    return report


if __name__ == "__main__":
    main()

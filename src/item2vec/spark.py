"""Spark: building the corpus from a log that outgrows one machine, and scoring on executors.

Spark does the parallel parts: reading and filtering billions of events, sorting
them by user and time, cutting them into sequences, counting and coding the
items, and scoring every user. Training stays on one machine (the compiled
trainer's threads scale with its cores), reading the corpus Spark wrote.
Needs the ``spark`` extra (``pip install 'item2vec[spark]'``).

How :func:`build_corpus` works: the events are range-partitioned by user and
sorted within each partition, so every user's events sit in one partition,
in order, and the partitions follow each other in user order. Each task cuts
its partition into sequences with the same code as the DuckDB build, writing
a shard of scratch files; the driver then merges the shards in partition
order, block by block. Shards, rather than streaming every event through the
driver (``toLocalIterator``), keep the driver's memory and time independent of
the number of events and let the executors write in parallel; the price is
that the corpus path must be on storage the executors and the driver share
(a local disk with ``local[*]``, NFS or a mounted bucket on a cluster).

Three jobs read the source. The first counts the events by item: their
number, those the build must refuse (missing ids, bad times or weights; only
on such input does a second job count them by kind for the error), and the
distinct items the weight filter leaves, written as Parquet beside the corpus
and read back through Arrow. The second is the range partitioner's sample of
the users, the third the sort that writes the shards. A source that is costly
to compute (joins, a CSV or JSON log) is worth persisting before the call; a
Parquet log is not: a ``DISK_ONLY`` copy of the projected events, read by the
last two jobs, cost more to write than it saved them (``benchmarks/README.md``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time as _time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from item2vec._columns import wrong_id_type
from item2vec._corpus_files import CorpusWriter
from item2vec._sequence_shards import Shard, concatenated_ids, merge_shards, refuse_bad_events
from item2vec.corpus import Sequences, check_event_options
from item2vec.vocab import _as_item_array

__all__ = ["build_corpus", "recommend", "similar_items"]


def _import_pyspark() -> Any:
    try:
        import pyspark
        import pyspark.sql.functions
    except ImportError:
        raise ImportError("item2vec.spark needs PySpark: pip install 'item2vec[spark]'") from None
    return pyspark


def build_corpus(
    df: Any,
    path: str | os.PathLike[str],
    *,
    user: str,
    item: str,
    time: str | None = None,
    weight: str | None = None,
    min_weight: float | None = None,
    session_gap: float | None = None,
    min_length: int = 1,
    min_count: int = 1,
    partitions: int | None = None,
) -> Sequences:
    """Build the on-disk corpus of a Spark DataFrame of events.

    The same arrays as :meth:`Sequences.from_events` and
    :func:`item2vec.build_corpus` build from the same events: sequences by
    user id, a user's events by time then input order (the order Spark reads
    the rows in), sessions split where a gap exceeds ``session_gap``, the
    vocabulary by count descending, then item id ascending.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One row per event.
    path : str or path
        The corpus directory, on storage the executors share with the driver;
        written atomically (see :meth:`Sequences.save`).
    user, item, time, weight, min_weight, session_gap, min_length, min_count
        As in :func:`item2vec.build_corpus`.
    partitions : int, optional
        Range partitions of the sorted events (shards); by default Spark's
        ``spark.sql.shuffle.partitions``.

    Returns
    -------
    Sequences
        The written corpus, opened (memory-mapped).
    """
    _import_pyspark()
    from pyspark.sql import functions as F

    check_event_options(time, weight, min_weight, session_gap, min_length, min_count)
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int)
                                   or partitions < 1):  # fmt: skip
        raise ValueError(f"partitions must be an int >= 1, got {partitions!r}")
    started = _time.perf_counter()
    events, time_kind = _events(df, user, item, time, weight)
    path = Path(path).absolute()  # the executors' Python workers have cwds of their own
    with CorpusWriter(path, opens=Sequences.open) as writer:
        shards_dir = writer.tmp.parent / f".{path.name}.{uuid.uuid4().hex}.shards"
        shards_dir.mkdir()
        try:
            n_events, items = _checked_items(events, shards_dir / "items", user, item, time,
                                             weight, min_weight)  # fmt: skip
            if min_weight is not None:
                events = events.where(F.col("w") >= float(min_weight))
            spark = df.sparkSession
            # the lookup through a Parquet file: a million ids as Python rows would take minutes
            import pyarrow as pa
            import pyarrow.parquet as pq

            pids = pa.array(np.arange(len(items), dtype=np.int32))
            pq.write_table(pa.table({"i": items, "pid": pids}), shards_dir / "lookup.parquet")
            lookup = spark.read.parquet(str(shards_dir / "lookup.parquet")).select(
                F.col("i").cast(events.schema["i"].dataType).alias("i"), "pid"
            )
            coded = events.join(F.broadcast(lookup), on="i", how="inner")
            n_parts = partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
            order = ["u", "t", "pos"] if time is not None else ["u", "pos"]
            ranged = coded.repartitionByRange(n_parts, "u").sortWithinPartitions(*order)
            write = _shard_writer(str(shards_dir), time_kind, weight is not None,
                                  session_gap, min_length)  # fmt: skip
            done = ranged.select("u", "pid", "t", "w").mapInPandas(
                write, schema="part long, folder string, n_tokens long, n_sequences long"
            )
            parts = sorted((row["part"], row["folder"]) for row in done.collect())
            shards = [Shard.read(shards_dir / name) for _, name in parts]
            users = concatenated_ids([part for shard in shards for part in shard.uids])
            merge_shards(writer, shards, _as_item_array(items.to_pylist()), users, min_count)
        finally:
            shutil.rmtree(shards_dir, ignore_errors=True)
        writer.commit({
            "by": "item2vec.spark.build_corpus", "user": user, "item": item, "time": time,
            "weight": weight, "min_weight": min_weight, "session_gap": session_gap,
            "min_length": min_length, "min_count": min_count, "events_read": n_events,
            "partitions": len(parts), "seconds": round(_time.perf_counter() - started, 3),
        })  # fmt: skip
    return Sequences.open(path)


def _events(
    df: Any, user: str, item: str, time: str | None, weight: str | None
) -> tuple[Any, str | None]:
    """The events as ``(u, i, t, w, pos)``: ids, times, weights, input position, and
    what the times are (:data:`_TIME_KINDS`).

    Times stay exact: a timestamp as microseconds since the epoch (an instant for
    TIMESTAMP, the wall clock for TIMESTAMP_NTZ, never shifted by the session's time
    zone), an integer as itself; the shards turn them into seconds and gaps by the
    rules of ``from_events``.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = df.columns
    for name in (user, item, time, weight):
        if name is not None and name not in columns:
            raise KeyError(f"column {name!r} not found; columns are {columns}")
    numeric = (T.NumericType, T.BooleanType)
    t, time_kind = F.lit(None).cast("double"), None
    if time is not None:
        kind = df.schema[time].dataType
        column = F.col(_quoted(time))
        if isinstance(kind, T.TimestampType):
            t, time_kind = F.unix_micros(column), "us"
        elif isinstance(kind, T.TimestampNTZType):
            t = F.expr(f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', "
                       f"{_quoted(time)})")  # fmt: skip
            time_kind = "us"
        elif isinstance(kind, T.DateType):
            t, time_kind = F.unix_date(column).cast("long") * 86_400_000_000, "us"
        elif isinstance(kind, T.IntegralType):
            t, time_kind = column.cast("long"), "int"
        elif isinstance(kind, T.NumericType):
            t, time_kind = column.cast("double"), "float"
        else:
            raise TypeError(f"time column {time!r} must hold numbers or datetimes, got {kind}")
    w = F.lit(None).cast("double")
    if weight is not None:
        kind = df.schema[weight].dataType
        if not isinstance(kind, numeric):
            raise TypeError(f"weight column {weight!r} must be numeric, got {kind}")
        w = F.col(_quoted(weight)).cast("double")
    for name in (user, item):
        kind = df.schema[name].dataType
        if not isinstance(kind, T.StringType | T.IntegralType):
            raise wrong_id_type(
                name, kind.simpleString(), on_disk=isinstance(kind, T.FractionalType)
            )
    # the position Spark reads a row at (partition, then row): the tie-break among a
    # user's events at equal times, as the table's order is in memory
    return df.select(
        F.col(_quoted(user)).alias("u"), F.col(_quoted(item)).alias("i"), t.alias("t"),
        w.alias("w"),
        F.monotonically_increasing_id().alias("pos"),
    ), time_kind  # fmt: skip


def _quoted(name: str) -> str:
    """A column's name as Spark SQL reads it whole: a dot or a space in it is part of the
    name (unquoted, ``a.b`` is the field ``b`` of the column ``a``)."""
    return "`" + name.replace("`", "``") + "`"


def _check_events(events: Any, user: str, item: str, time: str | None, weight: str | None) -> int:
    """One job over the events for what the build must refuse; returns their number."""
    from pyspark.sql import functions as F

    def bad(condition: Any) -> Any:
        return F.sum(F.when(condition, 1).otherwise(0))

    t, w = F.col("t"), F.col("w")
    row = events.agg(
        F.count(F.lit(1)), bad(F.col("u").isNull()), bad(F.col("i").isNull()),
            bad(t.isNull() | F.isnan(t.cast("double")) | (F.abs(t.cast("double")) == float("inf"))),
        bad(w.isNull() | F.isnan(w) | (F.abs(w) == float("inf"))), bad(w < 0),
    ).first()  # fmt: skip
    return refuse_bad_events(row, user, item, time, weight)


def _checked_items(
    events: Any, folder: Path, user: str, item: str, time: str | None, weight: str | None,
    min_weight: float | None,
) -> tuple[int, Any]:  # fmt: skip
    """One job over the events, counted by item: their number, whether the build must
    refuse them, and the distinct item ids left by the weight filter, ascending (an
    Arrow array).

    The counts go to Parquet beside the corpus and come back through Arrow: the driver
    holds a few numbers per item, never a Python object per row. Events the build must
    refuse are only flagged here; a second job (:func:`_check_events`) counts them by
    kind for the error.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    t, w = F.col("t"), F.col("w")
    bad = F.col("u").isNull() | F.col("i").isNull()
    if time is not None:
        bad = (
            bad | t.isNull() | F.isnan(t.cast("double")) | (F.abs(t.cast("double")) == float("inf"))
        )
    if weight is not None:
        bad = bad | w.isNull() | F.isnan(w) | (F.abs(w) == float("inf")) | (w < 0)
    counts = [F.count(F.lit(1)).alias("n"),
              F.sum(F.when(F.coalesce(bad, F.lit(True)), 1).otherwise(0)).alias("bad")]  # fmt: skip
    if min_weight is not None:
        counts.append(F.sum(F.when(w >= float(min_weight), 1).otherwise(0)).alias("kept"))
    events.groupBy("i").agg(*counts).write.parquet(str(folder))
    table = pq.read_table(folder)
    n_events = int(pc.sum(table.column("n")).as_py() or 0)
    if n_events == 0 or (pc.sum(table.column("bad")).as_py() or 0) > 0:
        n_events = _check_events(events, user, item, time, weight)  # raises, naming the fault
    kept = table.column("kept" if min_weight is not None else "n")
    ids = table.column("i")
    left = ids.filter(pc.and_(pc.is_valid(ids), pc.greater(kept, 0)))
    if len(left) == 0:
        raise ValueError("no event is left after the weight filter")
    # Arrow orders strings by their UTF-8 bytes, that is by code point, as Spark and NumPy
    return n_events, left.take(pc.sort_indices(left)).combine_chunks()


def _shard_writer(
    folder: str, time_kind: str | None, weighted: bool, session_gap: float | None,
    min_length: int,
) -> Any:  # fmt: skip
    """The function each task runs on its partition of sorted, coded events."""

    def write(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is None:  # mapInPandas always runs in a task; for the type checker
            raise RuntimeError("the shard writer must run in a Spark task")
        part = context.partitionId()
        shard = write_shard(Path(folder), part, context.attemptNumber(), batches, time_kind,
                            weighted, session_gap, min_length)  # fmt: skip
        yield pd.DataFrame({"part": [part], "folder": [shard.folder.name],
                            "n_tokens": [shard.n_tokens],
                            "n_sequences": [shard.n_sequences]})  # fmt: skip

    return write


def write_shard(
    folder: Path, part: int, attempt: int, batches: Iterator[Any], time_kind: str | None,
    weighted: bool, session_gap: float | None, min_length: int,
) -> Shard:  # fmt: skip
    """Cut one partition's sorted events into a shard of its own folder.

    Each attempt at a task writes a folder of its own (a retried or speculative
    attempt never meets the remains of another); the driver merges the folders
    of the attempts Spark reports as successful.
    """
    target = folder / f"part-{part:06d}-attempt-{attempt}"
    target.mkdir()
    shard = Shard(target, time_kind is not None, weighted, session_gap, min_length)
    try:
        for batch in batches:
            shard.feed([
                concatenated_ids([batch["u"].to_numpy()]), batch["pid"].to_numpy(np.int32),
                _shard_times(batch["t"], time_kind),
                batch["w"].to_numpy(np.float64, na_value=np.nan),
            ])  # fmt: skip
    finally:
        shard.finish()
    shard.write_summary()
    return shard


def _shard_times(column: Any, time_kind: str | None) -> np.ndarray:
    """A batch's times as the shards take them: microseconds as datetimes, integers as
    int64, floats as float64 (and no times as NaN)."""
    if time_kind == "us":
        return column.to_numpy(np.int64).view("datetime64[us]")
    if time_kind == "int":
        return column.to_numpy(np.int64)
    return column.to_numpy(np.float64, na_value=np.nan)


# --- scoring on the executors ------------------------------------------------------------

_MODELS: dict[tuple[str, float], Any] = {}
# applications whose executors were seen to import item2vec
_WORKERS_CHECKED: set[str] = set()
_RECOMMEND_OPTIONS = ("exclude_seen", "filter_items", "last_n", "half_life", "time_half_life",
                      "popularity", "fallback")  # fmt: skip


def _check_options(fitted: Any, topn: int, timed: bool, options: dict[str, Any]) -> None:
    """Check every recommend option on the driver, by ranking one empty history with them:
    the executors' calls then cannot fail on an option."""
    import warnings

    probe = Sequences.from_iterable([[]])
    if timed:
        probe = Sequences(probe.codes, probe.offsets, probe.vocabulary, times=np.zeros(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the empty history's own report
        fitted.recommend_batch(probe, topn=topn, **options)


def _check_workers(spark: Any) -> None:
    """Run one tiny task that imports item2vec on an executor, once per application, so
    that executors without item2vec fail here with a clear error rather than later, as a
    worker traceback inside a Java stack trace."""
    sc = spark.sparkContext
    if sc.applicationId in _WORKERS_CHECKED:
        return

    # nested, so that it is shipped by value: the executor needs no item2vec to run it
    def probe(_: Any) -> tuple[str, str | None]:
        import sys

        try:
            import item2vec  # noqa: F401
        except Exception as exc:
            return sys.executable, f"{type(exc).__name__}: {exc}"
        return sys.executable, None

    configured = (
        sc.getConf().get("spark.pyspark.python")
        or os.environ.get("PYSPARK_PYTHON")
        or "python3 (the default)"
    )
    advice = (
        "install item2vec in that Python, or point the executors at a Python that has it: "
        "set PYSPARK_PYTHON (or spark.pyspark.python) to its path, or ship a packed "
        "environment (venv-pack or conda-pack, passed with --archives / spark.archives, "
        "and PYSPARK_PYTHON=./environment/bin/python)"
    )
    try:
        ((executable, error),) = sc.parallelize([0], 1).map(probe).collect()
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuntimeError(
            f"the Spark executors could not run Python (configured: {configured}): {first}; "
            f"{advice}"
        ) from None
    if error is not None:
        raise RuntimeError(
            f"the Spark executors run {executable} (configured: {configured}), which cannot "
            f"import item2vec ({error}); {advice}"
        )
    _WORKERS_CHECKED.add(sc.applicationId)


def _model_on_executor(name: str) -> Any:
    """The shipped model file, memory-mapped once per Python worker."""
    from pyspark import SparkFiles

    from item2vec.model import Item2Vec

    local = SparkFiles.get(name)
    key = (local, os.path.getmtime(local))
    if key not in _MODELS:
        _MODELS[key] = Item2Vec.load(local, mmap=True)
    return _MODELS[key]


def _shipped(spark: Any, model: Any) -> tuple[str, Any]:
    """Ship a model file (or a fitted model, saved first) to every executor.

    The results are lazy DataFrames, whose tasks may fetch the file at any
    later time: a fitted model's file stays until the driver exits.
    """
    from item2vec.model import Item2Vec

    if isinstance(model, Item2Vec):
        folder = tempfile.mkdtemp(prefix="item2vec-spark-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / f"item2vec-{uuid.uuid4().hex}.npz"
        model.save(path)
        fitted = model
    else:
        given = Path(model).absolute()
        if not given.is_file():
            raise FileNotFoundError(f"no such model file: {given}")
        fitted = Item2Vec.load(given, mmap=True)
        # shipped under a name of its own for this file and version: Spark keeps the
        # first file of a name, so two models both called model.npz would be confused
        stamp = f"{given}:{given.stat().st_mtime_ns}:{given.stat().st_size}"
        folder = tempfile.mkdtemp(prefix="item2vec-spark-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / f"item2vec-{uuid.uuid5(uuid.NAMESPACE_URL, stamp).hex}.npz"
        try:  # a second name for the same file where the file system allows it
            os.link(given, path)
        except OSError:
            shutil.copyfile(given, path)
    spark.sparkContext.addFile(str(path))
    return path.name, fitted


def _spark_type(ids: np.ndarray) -> str:
    if ids.dtype.kind in "iu":
        return "bigint" if ids.dtype.kind == "i" or ids.dtype.itemsize < 8 else "decimal(20,0)"
    if ids.dtype.kind == "U" or (ids.dtype == object and all(isinstance(v, str) for v in ids)):
        return "string"
    raise TypeError(f"item ids of dtype {ids.dtype} have no Spark type here; use str or int ids")


def recommend(
    model: Any,
    events_df: Any,
    *,
    user: str,
    item: str,
    time: str | None = None,
    topn: int = 10,
    **options: Any,
) -> Any:
    """Recommendations for every user of an event table, computed on the executors.

    Each user's history is assembled in Spark (events by time, then input
    order) and scored in Arrow batches by :meth:`Item2Vec.recommend_batch`
    on the executors, which memory-map the model file once per worker.

    Parameters
    ----------
    model : str, path or fitted Item2Vec
        A model file written by :meth:`Item2Vec.save` (shipped to the
        executors with ``SparkContext.addFile``), or a fitted model, which
        is saved and shipped. Never pickled.
    events_df : pyspark.sql.DataFrame
    user, item : str
        Columns of user and item ids.
    time : str, optional
        Column of event times: orders each history, and feeds
        ``time_half_life``.
    topn : int, default=10
    **options
        Options of :meth:`Item2Vec.recommend_batch` (``exclude_seen``,
        ``filter_items``, ``last_n``, ``half_life``, ``time_half_life``,
        ``popularity``, ``fallback``), all checked on the driver before
        any job runs.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``user``, ``rank`` (from 1), ``item``, ``score``. Unknown
        items of a history are skipped; a user with no known item gets no
        rows, or with ``fallback="popularity"`` the most frequent items
        (scored by the log of their training count).

    Raises
    ------
    TypeError, ValueError
        If an option is unknown or invalid (before any Spark job).
    RuntimeError
        If the executors' Python cannot import item2vec: the error names
        that Python and how to point the executors at another.
    """
    _import_pyspark()
    from pyspark.sql import functions as F

    from item2vec._validation import check_int

    check_int("topn", topn, 1)
    unknown = sorted(set(options) - set(_RECOMMEND_OPTIONS))
    if unknown:
        raise TypeError(
            f"unknown recommend options {unknown}; choose from {sorted(_RECOMMEND_OPTIONS)}"
        )
    if options.get("time_half_life") is not None and time is None:
        raise ValueError("time_half_life needs a time column")
    if isinstance(model, str | os.PathLike) and not Path(model).is_file():
        raise FileNotFoundError(f"no such model file: {Path(model).absolute()}")
    events, time_kind = _events(events_df, user, item, time, None)
    if time_kind == "us":  # seconds, the unit of time_half_life for datetimes
        events = events.withColumn("t", F.col("t") / 1_000_000)
    spark = events_df.sparkSession
    fitted = model if not isinstance(model, str | os.PathLike) else None
    if fitted is None:
        from item2vec.model import Item2Vec

        fitted = Item2Vec.load(model, mmap=True)
    _check_options(fitted, topn, time is not None, options)
    _check_workers(spark)
    name, fitted = _shipped(spark, model)
    item_type = _spark_type(fitted.items_)
    user_type = events_df.schema[user].dataType.simpleString()
    ordered = F.sort_array(F.collect_list(F.struct("t", "pos", "i")))
    histories = (
        events.groupBy("u")
        .agg(ordered.alias("h"))
        .select("u", F.col("h.i").alias("items"), F.col("h.t").alias("times"))
    )
    score = _history_scorer(name, topn, time is not None, options)
    return histories.mapInPandas(
        score, schema=f"user {user_type}, rank int, item {item_type}, score float"
    )


def _history_scorer(name: str, topn: int, timed: bool, options: dict[str, Any]) -> Any:
    def score(batches: Iterator[Any]) -> Iterator[Any]:
        import warnings

        import pandas as pd

        from item2vec.neighbors import UnknownItemsWarning

        # skipped items and users without a known item are the documented outcome
        # (no rows); a warning per batch on the executors' logs would help no one
        warnings.simplefilter("ignore", UnknownItemsWarning)
        model = _model_on_executor(name)
        for batch in batches:
            items = [np.asarray(h) for h in batch["items"]]
            if not items:
                continue
            corpus = Sequences.from_iterable(items)
            if timed:
                times = np.concatenate([np.asarray(t, np.float64) for t in batch["times"]])
                corpus = Sequences(corpus.codes, corpus.offsets, corpus.vocabulary, times=times)
            ids, scores = model.recommend_batch(corpus, topn=topn, **options)
            found = np.isfinite(scores)
            rows, ranks = np.nonzero(found)
            yield pd.DataFrame({
                "user": batch["u"].to_numpy()[rows], "rank": (ranks + 1).astype(np.int32),
                "item": ids[found], "score": scores[found].astype(np.float32),
            })  # fmt: skip

    return score


def similar_items(model: Any, topn: int = 10, *, spark: Any = None, block: int = 4096) -> Any:
    """The item-to-item table, computed on the executors in blocks of items.

    Parameters
    ----------
    model : str, path or fitted Item2Vec
        As in :func:`recommend`.
    topn : int, default=10
        Neighbours per item (cosine similarity, the item itself left out).
    spark : SparkSession, optional
        The active session by default.
    block : int, default=4096
        Items per task batch.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``item``, ``rank`` (from 1), ``neighbor``, ``score``.
    """
    _import_pyspark()
    from pyspark.sql import SparkSession

    from item2vec._validation import check_int

    check_int("topn", topn, 1)
    check_int("block", block, 1)
    spark = spark or SparkSession.getActiveSession()
    if spark is None:
        raise ValueError("no active SparkSession: pass spark=")
    _check_workers(spark)
    name, fitted = _shipped(spark, model)
    item_type = _spark_type(fitted.items_)
    n_items = len(fitted.items_)
    starts = spark.range(0, n_items, block, numPartitions=max(1, -(-n_items // block)))

    def neighbours(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        local = _model_on_executor(name)
        items = local.items_
        for batch in batches:
            for start in batch["id"].tolist():
                chunk = items[start : start + block]
                ids, scores = local.similar_items(chunk.tolist(), topn=topn)
                rows, ranks = np.nonzero(np.isfinite(scores))
                yield pd.DataFrame({
                    "item": chunk[rows], "rank": (ranks + 1).astype(np.int32),
                    "neighbor": ids[rows, ranks], "score": scores[rows, ranks],
                })  # fmt: skip

    schema = f"item {item_type}, rank int, neighbor {item_type}, score float"
    return starts.mapInPandas(neighbours, schema=schema)

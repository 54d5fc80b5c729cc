import builtins
import os

import numpy as np
import pytest

from item2vec.datasets import planted_sessions


@pytest.fixture(scope="session")
def planted():
    """About 200k tokens in 50 planted clusters of 20 items each."""
    return planted_sessions(
        n_sessions=10_000, n_items=1_000, n_clusters=50, mean_length=20, random_state=7
    )


@pytest.fixture(scope="session")
def small_planted():
    """About 40k tokens, 10 clusters: for quick fits."""
    return planted_sessions(
        n_sessions=2_000, n_items=200, n_clusters=10, mean_length=20, random_state=3
    )


def cluster_precision(model, cluster_of, items, k=10):
    """Share of each item's k nearest neighbours that share its planted cluster."""
    items = np.asarray(items)
    ids, _ = model.similar_items(items, topn=k)
    return float((cluster_of[ids.astype(np.int64)] == cluster_of[items][:, None]).mean())


@pytest.fixture
def without_module(monkeypatch):
    """Make importing the named optional modules fail, as if they were not installed."""

    def block(*prefixes):
        real_import = builtins.__import__

        def guarded(name, *args, **kwargs):
            if name.startswith(prefixes):
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", guarded)

    return block


def train_once(core, syn0, syn1neg, codes, offsets, seq_begin, seq_end, keep_prob,
               noise_threshold, noise_alias, sg, cbow_mean, window, shrink_windows, negative,
               shared_negatives, alpha_begin, alpha_end, seed, stop=None, **options):  # fmt: skip
    """One kernel call with every argument spelled out: the setup, then one chunk."""
    setup = core.TrainingSetup(
        syn0, syn1neg, codes, offsets, keep_prob, noise_threshold, noise_alias, sg=sg,
        cbow_mean=cbow_mean, window=window, shrink_windows=shrink_windows, negative=negative,
        shared_negatives=shared_negatives, **options,
    )  # fmt: skip
    return core.train_chunk(setup, seq_begin, seq_end, alpha_begin, alpha_end, seed, stop)


@pytest.fixture(scope="session")
def spark():
    """One local Spark (two cores) for the whole run; skipped where Java or PySpark is missing."""
    import shutil

    pytest.importorskip(
        "pyspark", reason="PySpark is not installed (pip install 'item2vec[spark]')"
    )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java: no `java` on PATH and no JAVA_HOME")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("item2vec-tests")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()

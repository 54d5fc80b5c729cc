"""build_corpus on DuckDB: the same corpus as Sequences.from_events, from every source."""

import collections
import gzip
import json
import os

import numpy as np
import pytest
from corpus_checks import assert_same_corpus

from item2vec import Sequences, build_corpus, read_events

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")


def _events(n=3000, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    names = np.array([f"sku-{k}" for k in range(120)])
    return pd.DataFrame({
        "user": rng.integers(0, 150, n),
        "item": names[np.minimum(rng.zipf(1.5, n) - 1, 119)],
        # distinct times, unless ties are wanted (then the table's order breaks them)
        "t": rng.integers(0, 40, n) if ties else rng.permutation(n) * 7,
        "rating": rng.integers(0, 6, n).astype(np.float64),
    })  # fmt: skip


ALL = dict(user="user", item="item", time="t", weight="rating", min_weight=2,
           session_gap=500, min_length=2)  # fmt: skip
OPTIONS = [
    dict(user="user", item="item"),
    dict(user="user", item="item", time="t"),
    ALL,
]


@pytest.mark.parametrize("options", OPTIONS, ids=["ids", "time", "everything"])
@pytest.mark.parametrize("source", ["pandas", "arrow", "dict", "parquet", "parquet-pieces"])
def test_build_corpus_equals_from_events(tmp_path, options, source):
    events = _events(ties=True)  # equal times: the table's order decides, in both
    expected = Sequences.from_events(events, **options)
    if source == "pandas":
        given = events
    elif source == "dict":
        given = {name: events[name].to_numpy() for name in events.columns}
    elif source == "arrow":
        given = pa.Table.from_pandas(events, preserve_index=False)
    elif source == "parquet":
        events.to_parquet(tmp_path / "log.parquet")
        given = tmp_path / "log.parquet"
    else:  # pieces named so that sorting the glob gives the table's order
        for k, start in enumerate(range(0, len(events), 700)):
            events.iloc[start : start + 700].to_parquet(tmp_path / f"part-{k:03d}.parquet")
        given = str(tmp_path / "part-*.parquet")
    built = build_corpus(given, tmp_path / "corpus", **options)
    assert_same_corpus(built, expected)
    assert_same_corpus(Sequences.open(tmp_path / "corpus"), expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_corpus_does_not_depend_on_the_row_order(tmp_path, seed):
    events = _events()
    shuffled = events.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    reference = Sequences.from_events(events, **ALL)
    assert_same_corpus(Sequences.from_events(shuffled, **ALL), reference)
    assert_same_corpus(build_corpus(shuffled, tmp_path / "c", **ALL), reference)
    # and the arrays are those of the definition, written out in plain Python
    counts = collections.Counter(item for seq in reference.to_lists() for item in seq)
    assert reference.vocabulary.items.tolist() == sorted(counts, key=lambda i: (-counts[i], i))
    assert reference.users.tolist() == sorted(reference.users.tolist())


@pytest.mark.parametrize("compressed", [False, True])
def test_csv_logs_equal_read_events(tmp_path, compressed):
    events = _events()
    text = events.to_csv(index=False)
    path = tmp_path / ("log.csv.gz" if compressed else "log.csv")
    if compressed:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    built = build_corpus(path, tmp_path / "c", **ALL)
    assert_same_corpus(built, read_events(path, **ALL))
    # plain integer ids are read as integers, as pandas reads the same file
    assert {type(u) for u in built.users.tolist()} == {int}
    assert_same_corpus(built, Sequences.from_events(pd.read_csv(path), **ALL))


def test_min_count_prunes_as_sequences_pruned_does(tmp_path):
    events = _events()
    expected = Sequences.from_events(events, **ALL).pruned(min_count=8)
    built = build_corpus(events, tmp_path / "c", min_count=8, **ALL)
    assert_same_corpus(built, expected)
    assert built.vocabulary.counts.min() >= 8
    assert len(built.vocabulary) < len(Sequences.from_events(events, **ALL).vocabulary)


@pytest.mark.parametrize("min_count", [1, 4])
@pytest.mark.parametrize("options", OPTIONS, ids=["ids", "time", "everything"])
def test_batches_smaller_than_a_sequence_still_cut_it_right(tmp_path, monkeypatch, options,
                                                            min_count):  # fmt: skip
    from item2vec import _sequence_shards, ingest

    # sequences (without sessions: whole users of ~20 events) straddle many batches
    monkeypatch.setattr(_sequence_shards, "BATCH_ROWS", 7)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 7)
    events = _events(n=800, ties=True)
    expected = Sequences.from_events(events, **options).pruned(min_count)
    built = build_corpus(events, tmp_path / "c", min_count=min_count, **options)
    assert_same_corpus(built, expected)


def test_a_gap_equal_to_session_gap_keeps_one_session(tmp_path):
    events = pd.DataFrame({"user": [1, 1, 1, 2], "item": ["a", "b", "c", "a"],
                           "t": [0.25, 0.75, 1.5, 0.0]})  # fmt: skip
    built = build_corpus(events, tmp_path / "c", user="user", item="item", time="t",
                         session_gap=0.5)  # fmt: skip
    assert built.to_lists() == [["a", "b"], ["c"], ["a"]]
    assert built.users.tolist() == [1, 1, 2]


def test_datetime_times_become_seconds(tmp_path):
    events = _events()
    events["t"] = pd.Timestamp("2024-05-01") + pd.to_timedelta(events["t"], unit="s")
    options = dict(ALL, session_gap=500.0)
    assert_same_corpus(
        build_corpus(events, tmp_path / "c", **options), Sequences.from_events(events, **options)
    )


def test_the_header_says_how_the_corpus_was_built(tmp_path):
    events = _events()
    build_corpus(events, tmp_path / "c", **ALL)
    header = json.loads((tmp_path / "c" / "header.json").read_text())
    assert header["built_by"]["by"] == "build_corpus"
    assert header["built_by"]["events_read"] == len(events)
    assert header["built_by"]["min_weight"] == 2


def test_progress_is_reported_when_verbose(tmp_path, capsys):
    build_corpus(_events(), tmp_path / "c", verbose=True, **ALL)
    err = capsys.readouterr().err
    assert "build_corpus: 3,000 events" in err and "sequences; writing the corpus" in err


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "options", "error", "message"),
    [
        (None, dict(ALL, item="sku"), KeyError, "column 'sku' not found"),
        (lambda e: e.assign(rating=np.where(e.index == 5, np.nan, e.rating)), ALL, ValueError,
         "weight column 'rating' holds 1 missing, NaN or infinite values"),
        (lambda e: e.assign(rating=np.where(e.index == 5, -1.0, e.rating)), ALL, ValueError,
         "weight column 'rating' holds negative values"),
        (lambda e: e.assign(item=e.item.astype(object).where(e.index != 3, None)), ALL,
         ValueError, "column 'item' holds missing ids"),
        (lambda e: e.assign(user=e.user.astype(object).where(e.index != 3, "u3")), ALL,
         ValueError, "column 'user' mixes id types"),
        (lambda e: e.assign(t=e.t.astype(float).where(e.index != 3, np.inf)), ALL, ValueError,
         "time column 't' holds 1 missing, NaN or infinite values"),
        (lambda e: e.assign(rating="high"), ALL, TypeError,
         "weight column 'rating' must be numeric"),
        (lambda e: e.iloc[:0], ALL, ValueError, "holds no events"),
        (lambda e: e.assign(rating=0.0), ALL, ValueError, "no sequence is left"),
    ],
    ids=["missing column", "nan weight", "negative weight", "null id", "mixed ids", "inf time",
         "text weight", "empty", "all filtered"],
)  # fmt: skip
def test_bad_input_is_refused_and_leaves_nothing(tmp_path, change, options, error, message):
    events = _events() if change is None else change(_events())
    with pytest.raises(error, match=message):
        build_corpus(events, tmp_path / "c", **options)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("column", ["user", "sku"])
@pytest.mark.parametrize("source", ["pandas", "arrow", "parquet"])
def test_an_id_column_of_ids_with_no_order_is_named(tmp_path, column, source):
    # ids that cannot be ordered (ints beside str; structs) make no corpus: the error names
    # the column that holds them, the item column (renamed, so its name is not its role)
    # as well as the user column
    events = _events(n=200).rename(columns={"item": "sku"})
    if source == "pandas":
        mixed = events[column].astype(str).astype(object)
        mixed[3] = 17  # one int among str ids
        given, kind, error = events.assign(**{column: mixed}), ValueError, "mixes id types"
    else:
        # each id as a struct: DuckDB reads them (as dicts), but an id is a str or an int
        given = pa.Table.from_pandas(events, preserve_index=False)
        structs = pa.array([{"id": v} for v in events[column].tolist()])
        given = given.set_column(given.column_names.index(column), column, structs)
        kind, error = TypeError, "holds ids of type dict; ids must be str or int"
        if source == "parquet":
            pq.write_table(given, tmp_path / "log.parquet")
            given = tmp_path / "log.parquet"
    with pytest.raises(kind, match=f"^column '{column}' {error}"):
        build_corpus(given, tmp_path / "c", user="user", item="sku")
    assert not (tmp_path / "c").exists()
    assert sorted(os.listdir(tmp_path)) == (["log.parquet"] if source == "parquet" else [])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(user="user", item="item", session_gap=5), "session_gap needs a time column"),
        (dict(user="user", item="item", min_weight=1), "min_weight needs a weight column"),
        (dict(user="user", item="item", min_length=0), "min_length must be an int >= 1"),
        (dict(user="user", item="item", min_count=1.5), "min_count must be an int >= 1"),
        (dict(user="user", item="item", threads=0), "threads must be an int >= 1"),
    ],
)
def test_invalid_parameters_are_refused(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        build_corpus(_events(), tmp_path / "c", **options)


def test_unreadable_and_missing_files_are_refused(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(ValueError, match="DuckDB could not build the corpus"):
        build_corpus(tmp_path / "bad.parquet", tmp_path / "c", user="user", item="item")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        build_corpus(str(tmp_path / "none-*.parquet"), tmp_path / "c", user="user", item="item")
    with pytest.raises(FileNotFoundError, match="no such file"):
        build_corpus(tmp_path / "none.csv", tmp_path / "c", user="user", item="item")
    assert sorted(os.listdir(tmp_path)) == ["bad.parquet"]


def test_a_truncated_parquet_file_is_refused(tmp_path):
    _events().to_parquet(tmp_path / "log.parquet")
    data = (tmp_path / "log.parquet").read_bytes()
    (tmp_path / "log.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="DuckDB could not build the corpus"):
        build_corpus(tmp_path / "log.parquet", tmp_path / "c", **ALL)
    assert sorted(os.listdir(tmp_path)) == ["log.parquet"]


def test_a_failed_build_keeps_the_earlier_corpus(tmp_path):
    events = _events()
    first = build_corpus(events, tmp_path / "c", **ALL)
    with pytest.raises(ValueError):
        build_corpus(events.assign(rating=-1.0), tmp_path / "c", **ALL)
    assert_same_corpus(Sequences.open(tmp_path / "c"), first)
    assert sorted(os.listdir(tmp_path)) == ["c"]


def test_a_newer_corpus_format_is_refused(tmp_path):
    build_corpus(_events(), tmp_path / "c", **ALL)
    header = json.loads((tmp_path / "c" / "header.json").read_text())
    header["format_version"] = 99
    (tmp_path / "c" / "header.json").write_text(json.dumps(header))
    with pytest.raises(ValueError, match="corpus format 99, newer than this item2vec reads"):
        Sequences.open(tmp_path / "c")


def test_without_duckdb_the_message_names_the_extra(tmp_path, without_module):
    without_module("duckdb")
    with pytest.raises(ImportError, match=r"pip install 'item2vec\[duckdb\]'"):
        build_corpus(_events(), tmp_path / "c", user="user", item="item")


def test_a_full_disk_during_the_build_leaves_the_earlier_corpus_and_nothing_else(
    tmp_path, monkeypatch
):
    from item2vec import _corpus_files

    events = _events()
    first = build_corpus(events, tmp_path / "c", **ALL)

    def full_disk(self, values):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_corpus_files.NpyAppender, "append", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        build_corpus(events, tmp_path / "c", **ALL)
    monkeypatch.undo()
    assert_same_corpus(Sequences.open(tmp_path / "c"), first)
    assert sorted(os.listdir(tmp_path)) == ["c"]  # no scratch files, no temporary corpus


@pytest.mark.parametrize("gap", [None, 100.0])
def test_only_the_unfinished_last_sequence_waits_between_batches(tmp_path, gap):
    from item2vec._sequence_shards import Shard

    # users 0..5 with 5 events each, fed in batches of 3 events: every batch
    # that brings a user's end also starts the next one's sequence
    uid = np.repeat(np.arange(6), 5)
    pid = np.arange(30, dtype=np.int32) % 4
    t = np.tile(np.arange(5, dtype=np.float64), 6)
    w = np.ones(30, dtype=np.float32)
    shard = Shard(tmp_path, True, True, session_gap=gap)
    for start in range(0, 30, 3):
        shard.feed([column[start : start + 3] for column in (uid, pid, t, w)])
        waiting = (
            np.concatenate([piece[0] for piece in shard._pieces]) if shard._pieces else uid[:0]
        )
        # what waits is the newest user's events so far, nothing of an earlier user
        newest = uid[min(start + 3, 30) - 1]
        assert waiting.tolist() == [newest] * waiting.shape[0]
        assert shard.n_tokens == np.count_nonzero(uid[: start + 3] < newest)
    shard.finish()
    assert shard.n_tokens == 30 and shard.n_sequences == 6

"""Encoding ids into Sequences and Vocabulary, and reading event tables, against
plain-Python references written here."""

import collections
import contextlib
import datetime
import itertools
import math
import re
import warnings
from string import ascii_lowercase

import numpy as np
import pytest

from item2vec import Sequences, Vocabulary, read_events
from item2vec.ingest import read_table


def exactly(message):
    """A ``match`` pattern for the whole message and nothing else."""
    return "^" + re.escape(message) + "$"


@contextlib.contextmanager
def raises_key_error(message):
    """KeyError's str() quotes its message, so compare the argument instead."""
    with pytest.raises(KeyError) as caught:
        yield
    assert caught.value.args[0] == message


# --- plain-Python references ---------------------------------------------------


def encode_reference(seqs, ties="first"):
    """Items by count descending, then first appearance (dict semantics for equal ids),
    or with ``ties="id"`` then id ascending (the rule for event tables)."""
    first, counts = {}, {}
    for seq in seqs:
        for item in seq:
            if item not in counts:
                first[item] = len(first)
                counts[item] = 0
            counts[item] += 1
    # the dict keeps the first spelling of equal ids (1 before 1.0 or True)
    if ties == "id":
        items = sorted(counts, key=lambda i: (-counts[i], i))
    else:
        items = sorted(counts, key=lambda i: (-counts[i], first[i]))
    code = {item: c for c, item in enumerate(items)}
    codes = [[code[item] for item in seq] for seq in seqs]
    return items, [counts[i] for i in items], codes


def assert_encodes(corpus, seqs, ties="first"):
    """``corpus`` holds ``seqs`` encoded as the reference encodes them."""
    items, counts, codes = encode_reference(seqs, ties)
    assert corpus.vocabulary.items.tolist() == items
    assert corpus.vocabulary.counts.tolist() == counts
    assert corpus.codes.dtype == np.int32
    assert corpus.offsets.dtype == np.int64
    assert corpus.codes.tolist() == [c for seq in codes for c in seq]
    assert corpus.offsets.tolist() == list(itertools.accumulate([len(s) for s in seqs], initial=0))
    assert corpus.to_lists() == [[items[c] for c in seq] for seq in codes]
    assert len(corpus) == len(seqs)
    assert corpus.n_tokens == sum(len(s) for s in seqs)


def sessions_reference(
    users, times=None, weights=None, min_weight=None, session_gap=None, min_length=1
):
    """Rows of each sequence: users by id, each user's events by time then table
    order, split where a gap exceeds session_gap."""
    user_rank = {u: rank for rank, u in enumerate(sorted(set(users)))}
    rows = [r for r in range(len(users)) if min_weight is None or weights[r] >= min_weight]
    rows.sort(key=lambda r: (user_rank[users[r]], 0 if times is None else times[r], r))
    sessions = []
    previous = None
    for r in rows:
        new_user = previous is None or users[r] != users[previous]
        if new_user or (session_gap is not None and times[r] - times[previous] > session_gap):
            sessions.append([])
        sessions[-1].append(r)
        previous = r
    return [s for s in sessions if len(s) >= min_length]


def assert_events(corpus, columns, sessions, times=None):
    """``corpus`` holds the reference ``sessions`` (rows of ``columns``)."""
    item_seqs = [[columns["item"][r] for r in s] for s in sessions]
    assert_encodes(corpus, item_seqs, ties="id")
    assert corpus.users.tolist() == [columns["user"][s[0]] for s in sessions]
    if times is None:
        assert corpus.times is None
    else:
        assert corpus.times.dtype == np.float64
        assert corpus.times.tolist() == [float(times[r]) for s in sessions for r in s]
    if "w" in columns:
        assert corpus.weights.dtype == np.float32
        assert corpus.weights.tolist() == [float(columns["w"][r]) for s in sessions for r in s]
    else:
        assert corpus.weights is None


# --- Sequences(...) -------------------------------------------------------------

VOCAB2 = Vocabulary(["a", "b"], [1, 1])


@pytest.mark.parametrize(
    ("codes", "offsets", "error", "message"),
    [
        ([[0, 1]], [0, 2], ValueError, "codes must be one-dimensional, got shape (1, 2)"),
        ([0, 1], [[0, 2]], ValueError, "offsets must be one-dimensional, got shape (1, 2)"),
        ([], np.zeros(0, np.int64), ValueError, "offsets must hold at least one entry (0)"),
        (
            [0, 1],
            [1, 2],
            ValueError,
            "offsets must start at 0 and end at len(codes)=2, got 1 and 2",
        ),
        (
            [0, 1],
            [0, 1],
            ValueError,
            "offsets must start at 0 and end at len(codes)=2, got 0 and 1",
        ),
        (
            [0, 1],
            [0, 1, 3],
            ValueError,
            "offsets must start at 0 and end at len(codes)=2, got 0 and 3",
        ),
        ([0, 1], [0, 2, 1, 2], ValueError, "offsets must be non-decreasing"),
        ([0, 2], [0, 2], ValueError, "codes must lie in [0, 2)"),
        ([-1, 1], [0, 2], ValueError, "codes must lie in [0, 2)"),
        ([0.0, 1.0], [0, 2], TypeError, "codes must be an integer array, got dtype float64"),
        ([0, 1], [0.0, 2.0], TypeError, "offsets must be an integer array, got dtype float64"),
        ([0, 2**31], [0, 2], ValueError, "codes does not fit in int32"),
        ([-(2**31) - 1, 0], [0, 2], ValueError, "codes does not fit in int32"),
    ],
)
def test_constructor_refuses_inconsistent_codes_and_offsets(codes, offsets, error, message):
    with pytest.raises(error, match=exactly(message)):
        Sequences(codes, offsets, VOCAB2)


def test_constructor_refuses_a_vocabulary_of_another_type():
    with pytest.raises(TypeError, match=exactly("vocabulary must be a Vocabulary, got list")):
        Sequences([0, 1], [0, 2], ["a", "b"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"weights": [[1.0, 2.0]]}, "weights must be one-dimensional, got shape (1, 2)"),
        ({"times": [[1.0], [2.0]]}, "times must be one-dimensional, got shape (2, 1)"),
        ({"weights": [1.0]}, "weights must have one entry per token (2), got 1"),
        ({"times": [1.0, 2, 3]}, "times must have one entry per token (2), got 3"),
        ({"users": ["u", "v"]}, "users must have one entry per sequence (1), got 2"),
        ({"weights": [1.0, np.nan]}, "weights must be finite (no NaN or inf)"),
        ({"weights": [np.inf, 1.0]}, "weights must be finite (no NaN or inf)"),
        ({"weights": [1.0, -0.5]}, "weights must be >= 0"),
        ({"times": [np.nan, 1.0]}, "times must be finite (no NaN or inf)"),
        ({"times": [1.0, -np.inf]}, "times must be finite (no NaN or inf)"),
    ],
)
def test_constructor_refuses_weights_times_and_users_that_do_not_fit(extra, message):
    with pytest.raises(ValueError, match=exactly(message)):
        Sequences([0, 1], [0, 2], VOCAB2, **extra)


@pytest.mark.parametrize("code", [2**31 - 1, -(2**31)])
def test_codes_at_the_int32_limits_fit_but_must_still_lie_in_the_vocabulary(code):
    with pytest.raises(ValueError, match=exactly("codes must lie in [0, 2)")):
        Sequences(np.array([code, 0], dtype=np.int64), [0, 2], VOCAB2)


def test_constructor_accepts_the_boundary_values():
    # code 0 and len - 1, a zero weight, empty sequences, negative times, uint codes
    corpus = Sequences(
        np.array([1, 0, 1], dtype=np.uint64),
        [0, 0, 3, 3],
        VOCAB2,
        weights=np.array([0.0, 2.5, 1.0]),
        times=np.array([-(2**40), 0, 2**40]),
        users=np.array([[7, 8, 9]]),
    )
    assert corpus.codes.dtype == np.int32 and corpus.codes.tolist() == [1, 0, 1]
    assert corpus.offsets.dtype == np.int64 and corpus.offsets.tolist() == [0, 0, 3, 3]
    assert corpus.weights.dtype == np.float32 and corpus.weights.tolist() == [0.0, 2.5, 1.0]
    # int64 times beyond int32 are kept exactly, as float64
    assert corpus.times.dtype == np.float64
    assert corpus.times.tolist() == [-(2.0**40), 0.0, 2.0**40]
    assert corpus.users.tolist() == [7, 8, 9]
    assert corpus.to_lists() == [[], ["b", "a", "b"], []]
    assert corpus.lengths.tolist() == [0, 3, 0]


def test_an_empty_corpus_can_be_built_from_empty_lists():
    corpus = Sequences([], [0], Vocabulary([], []))
    assert len(corpus) == 0 and corpus.n_tokens == 0
    assert corpus.codes.dtype == np.int32 and corpus.offsets.dtype == np.int64
    assert corpus.to_lists() == []
    assert list(corpus) == []
    assert corpus.lengths.tolist() == []


# --- access ---------------------------------------------------------------------

SEQS = [["a", "b", "a"], [], ["c"], ["b", "d", "a", "c"]]


@pytest.mark.parametrize("index", [0, 1, 2, 3, -1, -2, -3, -4, np.int64(3), np.int32(-4)])
def test_getitem_returns_one_sequence_and_counts_negative_indices_from_the_end(index):
    corpus = Sequences.from_iterable(SEQS)
    assert corpus[index].tolist() == SEQS[int(index)]


@pytest.mark.parametrize("index", [4, -5, 100, np.int64(4)])
def test_getitem_out_of_range_names_the_number_of_sequences(index):
    corpus = Sequences.from_iterable(SEQS)
    with pytest.raises(IndexError, match=exactly("sequence index out of range for 4 sequences")):
        corpus[index]


@pytest.mark.parametrize(("index", "name"), [(1.0, "float"), ("0", "str"), (slice(0, 2), "slice")])
def test_getitem_refuses_non_integer_indices(index, name):
    corpus = Sequences.from_iterable(SEQS)
    with pytest.raises(TypeError, match=exactly(f"Sequences index must be an int, got {name}")):
        corpus[index]


def test_iteration_lengths_and_sizes_follow_the_sequences():
    corpus = Sequences.from_iterable(SEQS)
    assert [s.tolist() for s in corpus] == SEQS
    assert corpus.lengths.tolist() == [len(s) for s in SEQS]
    assert corpus.lengths.dtype == np.int64
    assert len(corpus) == 4 and corpus.n_tokens == 8


def test_repr_shows_the_sizes():
    corpus = Sequences.from_iterable(SEQS)
    assert repr(corpus) == "Sequences(n_sequences=4, n_tokens=8, n_items=4)"
    assert repr(corpus.vocabulary) == "Vocabulary(n_items=4, n_tokens=8)"
    assert repr(Vocabulary(["x", "y"], [5, 0])) == "Vocabulary(n_items=2, n_tokens=5)"


# --- from_iterable ----------------------------------------------------------------

SPLIT_HINT = "; pass a list of items, e.g. list(s) or s.split()"


def missing_id(found):
    return f"item ids must not be None or NaN, found {found} (missing values are refused)"


MIXED = [[1, "1", 2.5, 1], ["b", (1, 2), 2.5], [], [True, 7]]


@pytest.mark.parametrize(
    ("make", "seqs"),
    [
        (lambda: [["b", "a"], ["c", "a", "b", "d"]], [["b", "a"], ["c", "a", "b", "d"]]),
        (lambda: [[3, 1, 3], [2], [], [1, 5, 5, 5]], [[3, 1, 3], [2], [], [1, 5, 5, 5]]),
        (lambda: MIXED, MIXED),
        (lambda: [(3, 1), (1,)], [[3, 1], [1]]),
        (lambda: (list(s) for s in [[4, 2], [2, 4, 4]]), [[4, 2], [2, 4, 4]]),
        (lambda: (iter(s) for s in [["x"], ["y", "x"]]), [["x"], ["y", "x"]]),
        (lambda: [np.array([5, 3, 5]), np.array([3, 9])], [[5, 3, 5], [3, 9]]),
        (lambda: [np.array([5, 3], np.int32), np.array([3, 9], np.int64)], [[5, 3], [3, 9]]),
        (lambda: [np.array([200, 7], np.uint8), np.array([7], np.uint8)], [[200, 7], [7]]),
        (lambda: [np.array(["q", "p"]), np.array(["p", "pp"])], [["q", "p"], ["p", "pp"]]),
        (lambda: np.array([[1, 2, 2], [2, 3, 1]]), [[1, 2, 2], [2, 3, 1]]),
        (lambda: np.array([["a", "b"], ["b", "b"]]), [["a", "b"], ["b", "b"]]),
        (lambda: [np.array([0.5, 1.5]), np.array([1.5])], [[0.5, 1.5], [1.5]]),
        (lambda: [np.array([True, False, True])], [[True, False, True]]),
        # one int64 and one uint64 array: no promotion to float
        (lambda: [np.array([1]), np.array([2**63 + 1], np.uint64)], [[1], [2**63 + 1]]),
        (lambda: [[2**70, 1], [1]], [[2**70, 1], [1]]),
        (lambda: [], []),
        (lambda: [[], []], [[], []]),
        (lambda: [np.array([], np.int64), np.array([], np.int64)], [[], []]),
        (lambda: [np.array([], np.int64), np.array([5])], [[], [5]]),
        (lambda: [np.array(["z"])], [["z"]]),
    ],
    ids=[
        "str",
        "int",
        "mixed",
        "tuples",
        "generator",
        "iterators",
        "int-arrays",
        "int32-int64",
        "uint8",
        "str-arrays",
        "2d-int",
        "2d-str",
        "float-arrays",
        "bool-array",
        "int64-uint64",
        "huge-ints",
        "empty",
        "empty-lists",
        "empty-arrays",
        "one-int-token",
        "one-str-token",
    ],
)
def test_from_iterable_encodes_every_input_kind_like_the_reference(make, seqs, no_pandas):
    assert_encodes(Sequences.from_iterable(make()), seqs)


@pytest.fixture(params=["pandas", "no-pandas"])
def no_pandas(request, without_module):
    """Run with pandas' hash table and with the fallback used when pandas is missing."""
    if request.param == "no-pandas":
        without_module("pandas")
    return request.param


@pytest.mark.parametrize("as_arrays", [False, True])
def test_many_tied_counts_keep_the_order_of_first_appearance(as_arrays):
    # an unstable sort would shuffle the ties of a large vocabulary
    rng = np.random.default_rng(1)
    seqs = [rng.integers(0, 400, rng.integers(1, 6)).tolist() for _ in range(300)]
    corpus = Sequences.from_iterable([np.array(s) for s in seqs] if as_arrays else seqs)
    assert_encodes(corpus, seqs)


def test_many_tied_counts_in_events_go_by_id():
    rng = np.random.default_rng(2)
    columns = {
        "user": rng.integers(0, 50, 600).tolist(),
        "item": rng.integers(0, 400, 600).tolist(),
    }
    corpus = Sequences.from_events(table_of("arrays", columns), user="user", item="item")
    assert_events(corpus, columns, sessions_reference(columns["user"]))


def test_equal_ids_of_different_types_are_one_item_and_str_is_another():
    # ids are dictionary keys: 1, 1.0 and True are one item, "1" another
    corpus = Sequences.from_iterable([[1, 1.0, True, "1"]])
    assert corpus.vocabulary.items.tolist() == [1, "1"]
    assert corpus.vocabulary.counts.tolist() == [3, 1]
    assert corpus.to_lists() == [[1, 1, 1, "1"]]


def test_from_iterable_returns_a_corpus_unchanged():
    corpus = Sequences.from_iterable([["a"]])
    assert Sequences.from_iterable(corpus) is corpus


def test_from_iterable_reads_a_one_shot_iterator_once():
    reads = []

    def generate():
        for seq in (["a", "b"], ["b"]):
            reads.append(seq)
            yield seq

    corpus = Sequences.from_iterable(generate())
    assert reads == [["a", "b"], ["b"]]
    assert_encodes(corpus, [["a", "b"], ["b"]])


@pytest.mark.parametrize(
    ("sequences", "error", "message"),
    [
        ("abc", TypeError, "sequences must be an iterable of sequences of items, got a string"),
        (b"abc", TypeError, "sequences must be an iterable of sequences of items, got a string"),
        (5, TypeError, "sequences must be an iterable of sequences, got int"),
        ([["a"], ["b"], "abc"], TypeError, "sequence 2 is a string ('abc')" + SPLIT_HINT),
        ([b"xy"], TypeError, "sequence 0 is a string (b'xy')" + SPLIT_HINT),
        # only the first 20 characters are shown
        (
            [["a"], ascii_lowercase],
            TypeError,
            "sequence 1 is a string ('abcdefghijklmnopqrst')" + SPLIT_HINT,
        ),
        ([["a"], 5, ["b"]], TypeError, "sequence 1 is not a sequence of items (got int)"),
        ([[["a"], "b"]], TypeError, "sequence 0 holds an unhashable item: unhashable type: 'list'"),
        (
            [["a"], [{"b": 1}]],
            TypeError,
            "sequence 1 holds an unhashable item: unhashable type: 'dict'",
        ),
        ([["a", None]], ValueError, missing_id("None")),
        ([["a"], [1.5, float("nan")]], ValueError, missing_id("nan")),
        ([np.array([1.0, np.nan])], ValueError, missing_id("np.float64(nan)")),
        ([[np.datetime64("NaT")]], ValueError, missing_id("np.datetime64('NaT','generic')")),
    ],
)
def test_from_iterable_refuses_bad_input_naming_the_problem(sequences, error, message):
    with pytest.raises(error, match=exactly(message)):
        Sequences.from_iterable(sequences)


def test_float_ids_other_than_nan_are_accepted():
    assert_encodes(Sequences.from_iterable([[0.25, "a"], [np.float64(3.5)]]), [[0.25, "a"], [3.5]])


# --- from_events ------------------------------------------------------------------

COLUMNS = {
    "user": ["u2", "u1", "u1", "u2", "u3", "u1", "u1", "u3"],
    "item": ["x", "y", "z", "y", "x", "w", "y", "y"],
    "t": [5, 3, 1, 4, 9, 3, 12, 7],
    "w": [5.0, 4.0, 2.0, 5.0, 1.0, 0.0, 4.5, 3.0],
}


def table_of(kind, columns):
    """The same events as a dict of arrays, dict of lists, DataFrame, Table or RecordBatch."""
    if kind == "arrays":
        return {k: np.asarray(v) for k, v in columns.items()}
    if kind == "lists":
        return {k: list(v) for k, v in columns.items()}
    if kind == "pandas":
        pd = pytest.importorskip("pandas", reason="pandas is not installed")

        return pd.DataFrame(columns)
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")

    if kind == "arrow-table":
        # two chunks, so the columns are chunked
        table = pa.table(columns)
        half = table.num_rows // 2
        return pa.concat_tables([table.slice(0, half), table.slice(half)])
    return pa.RecordBatch.from_pydict(columns)


KINDS = ["arrays", "lists", "pandas", "arrow-table", "arrow-batch"]


@pytest.mark.parametrize("kind", KINDS)
def test_events_become_one_sequence_per_user_ordered_by_time(kind):
    corpus = Sequences.from_events(table_of(kind, COLUMNS), user="user", item="item", time="t")
    sessions = sessions_reference(COLUMNS["user"], COLUMNS["t"])
    columns = {k: COLUMNS[k] for k in ("user", "item", "t")}
    assert_events(corpus, columns, sessions, times=COLUMNS["t"])


@pytest.mark.parametrize("kind", KINDS)
def test_without_time_each_user_keeps_the_table_order(kind):
    columns = {k: COLUMNS[k] for k in ("user", "item")}
    corpus = Sequences.from_events(table_of(kind, columns), user="user", item="item")
    assert_events(corpus, columns, sessions_reference(COLUMNS["user"]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("min_weight", [None, 0.0, 4.0, 4.5, 5.0])
def test_weights_are_kept_and_min_weight_keeps_events_at_or_above_it(kind, min_weight):
    corpus = Sequences.from_events(
        table_of(kind, COLUMNS),
        user="user",
        item="item",
        time="t",
        weight="w",
        min_weight=min_weight,
    )
    sessions = sessions_reference(COLUMNS["user"], COLUMNS["t"], COLUMNS["w"], min_weight)
    assert_events(corpus, COLUMNS, sessions, times=COLUMNS["t"])


@pytest.mark.parametrize("kind", ["arrays", "lists"])
def test_events_are_encoded_alike_without_pandas(kind, without_module):
    columns = {
        "user": ["u2", "u1", "u1", "u2", "u3", "u1"],
        "item": [(2, 1), (7, 0), (7,), (7, 0), (2, 1), (1, 2)],
        "t": [5, 3, 1, 4, 9, 3],
    }
    events = {k: list(v) for k, v in columns.items()}
    if kind == "arrays":
        for name in ("user", "item"):
            events[name] = np.empty(6, dtype=object)
            events[name][:] = columns[name]
        events["t"] = np.array(columns["t"])
    without_module("pandas")
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    sessions = sessions_reference(columns["user"], columns["t"])
    assert_events(corpus, columns, sessions, times=columns["t"])


def test_a_user_whose_events_are_all_filtered_out_has_no_sequence():
    # u3 has no weight >= 4
    corpus = Sequences.from_events(COLUMNS, user="user", item="item", weight="w", min_weight=4)
    assert corpus.users.tolist() == ["u1", "u2"]
    assert corpus.to_lists() == [["y", "y"], ["x", "y"]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("session_gap", [0, 0.5, 1, 2, 3, 4, 100])
def test_session_gap_splits_where_the_gap_exceeds_it_exactly(kind, session_gap):
    corpus = Sequences.from_events(
        table_of(kind, COLUMNS), user="user", item="item", time="t", session_gap=session_gap
    )
    sessions = sessions_reference(COLUMNS["user"], COLUMNS["t"], session_gap=session_gap)
    columns = {k: COLUMNS[k] for k in ("user", "item", "t")}
    assert_events(corpus, columns, sessions, times=COLUMNS["t"])


def test_a_gap_equal_to_session_gap_keeps_one_session():
    events = {"user": [1, 1, 1], "item": ["a", "b", "c"], "t": [0.25, 0.75, 1.5]}
    corpus = Sequences.from_events(events, user="user", item="item", time="t", session_gap=0.5)
    assert corpus.to_lists() == [["a", "b"], ["c"]]
    assert corpus.users.tolist() == [1, 1]


def test_integer_times_give_exact_gaps_beyond_float_precision():
    # as float64, 2**53 + 3 becomes 2**53 + 4 and the gap 4 would exceed 3
    big = 2**53
    events = {"user": [1, 1, 1], "item": ["a", "b", "c"], "t": np.array([big, big + 3, big + 7])}
    corpus = Sequences.from_events(events, user="user", item="item", time="t", session_gap=3)
    assert corpus.to_lists() == [["a", "b"], ["c"]]


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_datetime_gaps_are_exact_seconds(unit):
    start = np.datetime64("2024-03-01T12:00:00", unit)
    stamps = start + np.array([0, 700, 1400, 2101], dtype="timedelta64[ms]").astype(f"m8[{unit}]")
    events = {"user": ["u"] * 4, "item": ["a", "b", "c", "d"], "t": stamps}
    corpus = Sequences.from_events(events, user="user", item="item", time="t", session_gap=0.7)
    assert corpus.to_lists() == [["a", "b", "c"], ["d"]]
    epoch = datetime.datetime(1970, 1, 1)
    first = (datetime.datetime(2024, 3, 1, 12) - epoch).total_seconds()
    # float64 seconds: exact to well under a microsecond at this magnitude
    expected = [first, first + 0.7, first + 1.4, first + 2.101]
    assert corpus.times.tolist() == pytest.approx(expected, rel=0, abs=1e-6)


@pytest.mark.parametrize(
    ("stamp", "seconds"),
    [
        ("1970-01-01T00:00:10", 10.0),
        ("1969-12-31T23:59:59", -1.0),
        ("1500-01-01T00:00:00", -14831769600.0),
        ("3000-01-01T00:00:00", 32503680000.0),
    ],
)
def test_datetimes_become_seconds_since_the_epoch_even_outside_the_ns_range(stamp, seconds):
    epoch = datetime.datetime(1970, 1, 1)
    assert (datetime.datetime.fromisoformat(stamp) - epoch).total_seconds() == seconds
    events = {"user": [0], "item": ["a"], "t": np.array([stamp], dtype="datetime64[s]")}
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    assert corpus.times.tolist() == [seconds]


@pytest.mark.parametrize("kind", ["pandas", "arrow-table"])
def test_library_datetime_columns_become_seconds(kind):
    pd = pytest.importorskip("pandas", reason="pandas is not installed")

    when = pd.to_datetime(
        ["2024-01-01 00:00:01.5", "2024-01-01", "2024-01-01 00:01"], format="ISO8601"
    )
    columns = {"user": ["a", "a", "a"], "item": [1, 2, 3], "t": when}
    events = pd.DataFrame(columns)
    if kind == "arrow-table":
        pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")

        events = pa.Table.from_pandas(events, preserve_index=False)
    corpus = Sequences.from_events(events, user="user", item="item", time="t", session_gap=1.5)
    assert corpus.to_lists() == [[2, 1], [3]]
    base = (datetime.datetime(2024, 1, 1) - datetime.datetime(1970, 1, 1)).total_seconds()
    assert corpus.times.tolist() == [base, base + 1.5, base + 60]


def test_time_zone_aware_pandas_times_are_taken_in_utc():
    pd = pytest.importorskip("pandas")
    when = pd.to_datetime(["2024-01-01 01:00:00", "2024-01-01 00:30:00"]).tz_localize(
        "Europe/Paris"
    )
    events = pd.DataFrame({"user": [1, 1], "item": ["a", "b"], "t": when})
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    midnight_utc = (datetime.datetime(2024, 1, 1) - datetime.datetime(1970, 1, 1)).total_seconds()
    # Paris is UTC+1 in January
    assert corpus.times.tolist() == [midnight_utc - 1800, midnight_utc - 3600 + 3600]
    assert corpus.to_lists() == [["b", "a"]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("min_length", [1, 2, 3, 4])
def test_min_length_drops_shorter_sequences_and_their_users(kind, min_length):
    sessions = sessions_reference(
        COLUMNS["user"], COLUMNS["t"], COLUMNS["w"], session_gap=2, min_length=min_length
    )
    if not sessions:  # every builder refuses a log that leaves no sequence
        with pytest.raises(ValueError, match="no sequence is left"):
            Sequences.from_events(table_of(kind, COLUMNS), user="user", item="item", time="t",
                                  weight="w", session_gap=2, min_length=min_length)  # fmt: skip
        return
    corpus = Sequences.from_events(
        table_of(kind, COLUMNS),
        user="user",
        item="item",
        time="t",
        weight="w",
        session_gap=2,
        min_length=min_length,
    )
    assert_events(corpus, COLUMNS, sessions, times=COLUMNS["t"])


def test_a_log_that_leaves_no_sequence_is_refused_as_every_builder_refuses_it():
    # one user short of min_length, by one event: refused; one event more: kept
    with pytest.raises(ValueError, match="no sequence is left after the weight and length"):
        Sequences.from_events(COLUMNS, user="user", item="item", min_length=5)
    longest = max(collections.Counter(COLUMNS["user"]).values())
    corpus = Sequences.from_events(COLUMNS, user="user", item="item", min_length=longest)
    assert len(corpus) == 1 and corpus.lengths.tolist() == [longest]


@pytest.mark.parametrize("column", ["user", "item"])
@pytest.mark.parametrize("kind", ["lists", "pandas", "arrays"])
def test_an_id_column_mixing_int_and_str_is_refused(kind, column):
    # ints and str have no common order, which the corpus's definition needs
    events = {"user": [10, 10, 11], "item": [1, 2, 1], "t": [1.5, 2.5, 0.5]}
    events[column] = [1, "1", 1]
    table = pd_frame(events) if kind == "pandas" else events
    if kind == "arrays":
        table[column] = np.array(events[column], dtype=object)
    with pytest.raises(ValueError, match=f"column '{column}' mixes id types \\(int, str\\)"):
        Sequences.from_events(table, user="user", item="item", time="t")


def test_int_and_float_ids_in_one_column_are_numbers_in_one_order():
    events = {"user": [2.5, 1, 1], "item": [3, 1.5, 3], "t": [0, 1, 2]}
    corpus = Sequences.from_events(events, user="user", item="item", time="t")
    assert corpus.users.tolist() == [1, 2.5]
    assert corpus.to_lists() == [[1.5, 3], [3]]
    assert corpus.vocabulary.items.tolist() == [3, 1.5]


def pd_frame(columns):
    pd = pytest.importorskip("pandas", reason="pandas is not installed")

    return pd.DataFrame(columns)


@pytest.mark.parametrize("kind", ["lists", "arrays"])
def test_an_empty_event_table_is_refused_as_every_builder_refuses_it(kind):
    columns = {"user": [], "item": [], "t": [], "w": []}
    events = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    if kind == "lists":
        events = columns
    with pytest.raises(ValueError, match="the event log holds no events"):
        Sequences.from_events(events, user="user", item="item", time="t", weight="w")


def test_boolean_and_integer_weights_are_numeric():
    events = {"user": [1, 1, 1], "item": ["a", "b", "c"], "w": np.array([True, False, True])}
    corpus = Sequences.from_events(events, user="user", item="item", weight="w", min_weight=1)
    assert corpus.to_lists() == [["a", "c"]]
    assert corpus.weights.tolist() == [1.0, 1.0]


def base_events():
    return {
        "user": np.array(["u", "u", "v"]),
        "item": np.array(["a", "b", "a"]),
        "t": np.array([1.0, 2.0, 3.0]),
        "w": np.array([1.0, 2.0, 3.0]),
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"session_gap": 5}, "session_gap needs a time column"),
        ({"time": "t", "session_gap": -1}, "session_gap must be >= 0, got -1"),
        ({"time": "t", "session_gap": float("nan")}, "session_gap must be >= 0, got nan"),
        ({"min_length": 0}, "min_length must be an int >= 1, got 0"),
        ({"min_length": True}, "min_length must be an int >= 1, got True"),
        ({"min_length": 1.5}, "min_length must be an int >= 1, got 1.5"),
        ({"min_length": "2"}, "min_length must be an int >= 1, got '2'"),
        ({"min_weight": 1}, "min_weight needs a weight column"),
    ],
)
def test_from_events_refuses_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=exactly(message)):
        Sequences.from_events(base_events(), user="user", item="item", **kwargs)


NAT = np.array(["2024-01-01", "NaT", "2024-01-02"], dtype="datetime64[s]")


@pytest.mark.parametrize(
    ("column", "values", "error", "message"),
    [
        ("item", np.array(["a", "b"]), ValueError, "columns 'user' and 'item' differ in length"),
        ("t", [1.0, 2.0], ValueError, "the time column differs in length from the id columns"),
        (
            "w",
            [1.0, 2, 3, 4],
            ValueError,
            "the weight column differs in length from the id columns",
        ),
        ("w", np.array(["1", "2", "3"]), TypeError, "weight column 'w' must be numeric, got <U1"),
        ("w", [1.0, np.nan, 3.0], ValueError, "weight column 'w' holds NaN or infinite values"),
        ("w", [1.0, np.inf, 3.0], ValueError, "weight column 'w' holds NaN or infinite values"),
        ("w", [1, -1, 3], ValueError, "weight column 'w' holds negative values"),
        (
            "t",
            np.array(["a", "b", "c"]),
            TypeError,
            "time column 't' must hold numbers or datetimes, got dtype <U1",
        ),
        ("t", [1.0, np.nan, 3.0], ValueError, "time column 't' holds NaN values"),
        ("t", NAT, ValueError, "time column 't' holds missing values"),
        ("item", np.array([1.0, np.nan, 2.0]), ValueError, "column 'item' holds NaN ids"),
        (
            "user",
            np.array(["u", None, "v"], dtype=object),
            ValueError,
            "column 'user' holds missing ids (None or NaN)",
        ),
        (
            "item",
            np.array(["a", np.nan, "b"], dtype=object),
            ValueError,
            "column 'item' holds missing ids (None or NaN)",
        ),
        (
            "item",
            np.array([["a", "b", "c"]]),
            ValueError,
            "column 'item' must be one-dimensional, got shape (1, 3)",
        ),
    ],
)
def test_from_events_refuses_bad_columns_naming_them(column, values, error, message):
    events = base_events()
    events[column] = np.asarray(values)
    uses = {"t": {"time": "t"}, "w": {"weight": "w"}}.get(column, {})
    with pytest.raises(error, match=exactly(message)):
        Sequences.from_events(events, user="user", item="item", **uses)


@pytest.mark.parametrize(
    ("kind", "column", "values", "message"),
    [
        ("pandas", "item", ["a", None, "b"], "column 'item' holds missing ids (None or NaN)"),
        ("pandas", "item", [1.0, np.nan, 2.0], "column 'item' holds missing ids (None or NaN)"),
        ("pandas", "user", [None, "u", "v"], "column 'user' holds missing ids (None or NaN)"),
        ("arrow-table", "item", ["a", None, "b"], "column 'item' holds missing ids (null)"),
        ("arrow-batch", "user", ["u", "v", None], "column 'user' holds missing ids (null)"),
        ("arrow-batch", "w", [1.0, None, 2.0], "weight column 'w' holds NaN or infinite values"),
        ("arrow-table", "t", [1.0, None, 2.0], "time column 't' holds NaN values"),
    ],
)
def test_missing_values_in_library_tables_are_refused(kind, column, values, message):
    columns = {"user": ["u", "u", "v"], "item": ["a", "b", "a"], "t": [1.0, 2, 3], "w": [1.0, 2, 3]}
    columns[column] = values
    with pytest.raises(ValueError, match=exactly(message)):
        Sequences.from_events(
            table_of(kind, columns), user="user", item="item", time="t", weight="w"
        )


def test_a_string_time_column_in_an_arrow_batch_is_refused_as_not_numeric():
    events = table_of("arrow-batch", {"user": ["u"], "item": ["a"], "t": ["noon"]})
    with pytest.raises(
        TypeError, match=exactly("time column 't' must hold numbers or datetimes, got dtype object")
    ):
        Sequences.from_events(events, user="user", item="item", time="t")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("arrays", "column 'itm' not found; columns are ['user', 'item', 't', 'w']"),
        ("pandas", "column 'itm' not found; columns are ['user', 'item', 't', 'w']"),
        ("arrow-table", "column 'itm' not found; the table has ['user', 'item', 't', 'w']"),
        ("arrow-batch", "column 'itm' not found; the table has ['user', 'item', 't', 'w']"),
    ],
)
def test_an_unknown_column_is_named_with_the_available_ones(kind, message):
    with raises_key_error(message):
        Sequences.from_events(table_of(kind, COLUMNS), user="user", item="itm")


@pytest.mark.parametrize(("user", "item", "time"), [(0, 1, 2), (-3, -2, -1), (np.int64(0), 1, 2)])
def test_a_2d_array_names_its_columns_by_number_from_either_end(user, item, time):
    rows = [[7, 10, 5], [7, 11, 3], [8, 10, 9], [7, 12, 4]]
    corpus = Sequences.from_events(np.array(rows), user=user, item=item, time=time)
    columns = {"user": [r[0] for r in rows], "item": [r[1] for r in rows]}
    times = [r[2] for r in rows]
    assert_events(corpus, columns, sessions_reference(columns["user"], times), times)


@pytest.mark.parametrize("name", [3, -4, "user"])
def test_a_2d_array_refuses_columns_it_does_not_have(name):
    message = f"column {name!r} not found: a 2-D array's columns are numbers 0 to 2"
    with raises_key_error(message):
        Sequences.from_events(np.zeros((2, 3), dtype=np.int64), user=name, item=1)


def test_an_unknown_column_of_a_table_without_names_says_so():
    with raises_key_error("column 'user' not found; columns are unknown"):
        Sequences.from_events([[1, 2], [3, 4]], user="user", item="item")


def test_an_unknown_field_of_a_record_array_is_named():
    events = np.array([(1, 2)], dtype=[("user", "i8"), ("item", "i8")])
    assert Sequences.from_events(events, user="user", item="item").to_lists() == [[2]]
    with pytest.raises(KeyError) as caught:
        Sequences.from_events(events, user="user", item="itm")
    assert caught.value.args[0].startswith("column 'itm' not found: ")


# --- derived corpora ----------------------------------------------------------------


def rich_corpus():
    """Four sequences with weights, times and users."""
    events = {
        "user": ["p", "p", "q", "r", "r", "r", "s", "s"],
        "item": ["a", "b", "b", "c", "a", "b", "d", "a"],
        "t": [1, 2, 3, 4, 5, 6, 7, 8],
        "w": [1.0, 2.0, 3.0, 4.0, 0.0, 6.0, 7.0, 8.0],
    }
    return Sequences.from_events(events, user="user", item="item", time="t", weight="w")


def tokens_of(corpus):
    """Per sequence: (item, weight, time) of every token, and the user."""
    items = corpus.to_lists()
    out = []
    for s, (a, b) in enumerate(itertools.pairwise(corpus.offsets.tolist())):
        triples = list(
            zip(items[s], corpus.weights[a:b].tolist(), corpus.times[a:b].tolist(), strict=True)
        )
        out.append((corpus.users[s], triples))
    return out


def recount(corpus):
    counts = dict.fromkeys(corpus.vocabulary.items.tolist(), 0)
    for seq in corpus.to_lists():
        for item in seq:
            counts[item] += 1
    return list(counts.values())


@pytest.mark.parametrize(
    "indices",
    [
        [2, 0],
        [-1],
        [-4, 3],
        [1, 1],
        [],
        np.array([3, 0], np.uint8),
        [True, False, False, True],
        np.array([False] * 4),
        2,
        np.array([[0], [2]]),
    ],
    ids=[
        "ints",
        "last",
        "both-ends",
        "repeat",
        "none",
        "uint8",
        "mask",
        "empty-mask",
        "scalar",
        "2d",
    ],
)
def test_subset_picks_sequences_with_their_weights_times_and_users(indices):
    corpus = rich_corpus()
    whole = tokens_of(corpus)
    arr = np.asarray(indices)
    picks = np.flatnonzero(arr).tolist() if arr.dtype == bool else arr.reshape(-1).tolist()
    picks = [i % len(corpus) for i in picks]
    sub = corpus.subset(indices)
    assert tokens_of(sub) == [whole[i] for i in picks]
    # same items and codes, counts of the subset
    assert sub.vocabulary.items.tolist() == corpus.vocabulary.items.tolist()
    assert sub.vocabulary.counts.tolist() == recount(sub)
    bounds = corpus.offsets.tolist()
    assert sub.codes.tolist() == [c for i in picks for c in corpus.codes[bounds[i] : bounds[i + 1]]]


def test_subset_of_single_tokens_and_of_empty_sequences():
    corpus = Sequences.from_iterable([["a"], [], ["b", "a"], []])
    assert corpus.subset([0]).to_lists() == [["a"]]
    assert corpus.subset([2, 0]).to_lists() == [["b", "a"], ["a"]]
    empty = corpus.subset([1, 3])
    assert empty.to_lists() == [[], []]
    assert empty.codes.tolist() == [] and empty.offsets.tolist() == [0, 0, 0]
    assert empty.vocabulary.counts.tolist() == [0, 0]


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([4], IndexError, "sequence index out of range for 4 sequences"),
        ([0, -5], IndexError, "sequence index out of range for 4 sequences"),
        ([True, False], IndexError, "a boolean mask must have length 4, got shape (2,)"),
        ([0.0, 1.0], TypeError, "sequence indices must be integers, got dtype float64"),
        (["0"], TypeError, "sequence indices must be integers, got dtype <U1"),
    ],
)
def test_subset_refuses_bad_indices(indices, error, message):
    with pytest.raises(error, match=exactly(message)):
        rich_corpus().subset(indices)


@pytest.mark.parametrize(
    "keep",
    [[1, 0, 1, 1, 0, 1, 0, 1], [True] * 8, [False] * 8, [0, 1, 1, 1, 1, 1, 1, 0]],
    ids=["ints", "all", "none", "ends"],
)
def test_select_tokens_keeps_the_marked_tokens_in_every_sequence(keep):
    corpus = rich_corpus()
    flags = [bool(k) for k in keep]
    flat = iter(flags)
    expected = [(user, [t for t in triples if next(flat)]) for user, triples in tokens_of(corpus)]
    kept = corpus.select_tokens(keep)
    assert tokens_of(kept) == expected
    assert len(kept) == len(corpus)
    assert kept.vocabulary.items.tolist() == corpus.vocabulary.items.tolist()
    assert kept.vocabulary.counts.tolist() == recount(kept)


def test_select_tokens_refuses_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=exactly("keep must have shape (8,), got (7,)")):
        rich_corpus().select_tokens([True] * 7)


def test_remap_recodes_drops_minus_one_and_keeps_the_extras():
    corpus = rich_corpus()
    target = Vocabulary(["d", "b", "a"], [1, 1, 1])
    # old code -> new code by name; "c" is dropped
    names = corpus.vocabulary.items.tolist()
    mapping = np.array([target.code(i) if i in target else -1 for i in names])
    remapped = corpus.remap(mapping, target)
    assert remapped.vocabulary is target
    expected = [(user, [t for t in triples if t[0] != "c"]) for user, triples in tokens_of(corpus)]
    assert tokens_of(remapped) == expected
    assert remapped.codes.dtype == np.int32
    assert remapped.codes.tolist() == [target.code(i) for s in remapped.to_lists() for i in s]


def test_remap_with_a_permutation_keeps_every_token():
    corpus = rich_corpus()
    target = Vocabulary(corpus.vocabulary.items[::-1], [0, 0, 0, 0])
    remapped = corpus.remap(np.array([3, 2, 1, 0]), target)
    assert tokens_of(remapped) == tokens_of(corpus)
    assert remapped.codes.tolist() == (3 - corpus.codes).tolist()


def test_remap_with_the_identity_shares_the_arrays():
    corpus = rich_corpus()
    other = corpus.vocabulary.with_counts(np.zeros(4, dtype=np.int64))
    same = corpus.remap(np.arange(4), other)
    assert same.vocabulary is other
    assert same.codes is corpus.codes and same.offsets is corpus.offsets
    assert same.weights is corpus.weights and same.times is corpus.times
    assert np.shares_memory(same.users, corpus.users)


def test_canonical_recodes_as_a_fresh_encoding_and_keeps_the_extras():
    corpus = rich_corpus().select_tokens([1, 1, 1, 0, 0, 0, 1, 1])
    canon = corpus.canonical()
    # "c" no longer occurs; counts and first appearance decide the order
    assert_encodes(canon, corpus.to_lists())
    assert tokens_of(canon) == tokens_of(corpus)


def test_canonical_of_a_corpus_with_an_unused_vocabulary():
    vocab = Vocabulary(["x", "y", "z"], [9, 9, 9])
    corpus = Sequences([2, 0, 2], [0, 1, 3], vocab, times=[3.0, 1.0, 2.0], users=["m", "n"])
    canon = corpus.canonical()
    assert_encodes(canon, [["z"], ["x", "z"]])
    assert canon.times.tolist() == [3.0, 1.0, 2.0] and canon.users.tolist() == ["m", "n"]


def test_codes_in_translates_to_another_vocabulary():
    corpus = Sequences.from_iterable([["a", "b"], ["c", "a"]])
    other = Vocabulary(["c", "a", "z"], [1, 1, 1])
    codes = corpus.codes_in(other)
    assert codes.dtype == np.int64
    assert codes.tolist() == [1, -1, 0, 1]


def test_codes_in_its_own_vocabulary_are_its_codes_as_int64():
    corpus = Sequences.from_iterable([["a", "b"], ["c", "a"]])
    for vocabulary in (corpus.vocabulary, corpus.vocabulary.with_counts([0, 0, 0])):
        codes = corpus.codes_in(vocabulary)
        assert codes.dtype == np.int64
        assert codes.tolist() == corpus.codes.tolist()


def test_codes_in_of_an_empty_corpus_is_an_empty_int64_array():
    empty = Sequences.from_iterable([[]])
    for vocabulary in (Vocabulary(["a"], [1]), empty.vocabulary):
        codes = empty.codes_in(vocabulary)
        assert codes.dtype == np.int64 and codes.shape == (0,)


@pytest.mark.parametrize(
    ("min_count", "max_vocab_size"),
    [(1, None), (2, None), (3, None), (4, None), (1, 2), (2, 1), (1, 0)],
)
def test_pruned_drops_rare_items_counting_the_tokens_themselves(min_count, max_vocab_size):
    seqs = [["a", "b", "a"], ["c", "a", "b"], ["d"], ["c", "e", "e"]]
    # the vocabulary's counts are wrong on purpose: the tokens decide
    encoded = Sequences.from_iterable(seqs)
    corpus = Sequences(
        encoded.codes,
        encoded.offsets,
        encoded.vocabulary.with_counts([1, 9, 9, 9, 9]),
        weights=np.arange(10, dtype=np.float32),
    )
    items, counts, _ = encode_reference(seqs)
    kept = [i for i, c in zip(items, counts, strict=True) if c >= min_count][:max_vocab_size]
    pruned = corpus.pruned(min_count, max_vocab_size)
    assert pruned.vocabulary.items.tolist() == kept
    expected = [[i for i in seq if i in kept] for seq in seqs]
    assert pruned.to_lists() == expected
    assert pruned.vocabulary.counts.tolist() == [sum(s.count(i) for s in seqs) for i in kept]
    flat = [i for seq in seqs for i in seq]
    assert pruned.weights.tolist() == [float(w) for w, i in enumerate(flat) if i in kept]


def test_pruned_with_defaults_drops_items_absent_from_the_corpus():
    vocab = Vocabulary(["x", "y", "z"], [5, 5, 5])
    corpus = Sequences([1, 1, 2], [0, 3], vocab)
    pruned = corpus.pruned()
    assert pruned.vocabulary.items.tolist() == ["y", "z"]
    assert pruned.vocabulary.counts.tolist() == [2, 1]
    assert pruned.to_lists() == [["y", "y", "z"]]


# --- corpora to train on --------------------------------------------------------------


def test_as_sequences_returns_a_corpus_as_it_is_and_encodes_anything_else():
    from item2vec.corpus import as_sequences

    corpus = rich_corpus()
    assert as_sequences(corpus) is corpus
    assert_encodes(as_sequences(iter([["q", "p"], ["p"]])), [["q", "p"], ["p"]])


@pytest.mark.parametrize(
    ("X", "options", "message"),
    [
        ([], {}, "X is empty: training needs at least one non-empty sequence of items"),
        ([[], []], {}, "X is empty: training needs at least one non-empty sequence of items"),
        (
            [["a"]],
            {"use_weights": True},
            "use_weights=True needs event weights: pass Sequences with weights "
            "(e.g. Sequences.from_events(..., weight='rating'))",
        ),
        (
            [["a"]],
            {"needs_times": True},
            "time_decay and time_window need event times: pass Sequences with times "
            "(e.g. Sequences.from_events(..., time='timestamp'))",
        ),
    ],
)
def test_training_corpus_refuses_what_training_cannot_use(X, options, message):
    from item2vec.corpus import training_corpus

    with pytest.raises(ValueError, match=exactly(message)):
        training_corpus(X, **options)


def test_training_corpus_with_weights_drops_zero_weight_events_and_recodes():
    from item2vec.corpus import training_corpus

    corpus = rich_corpus()  # the fifth event ("a" of user r) has weight 0
    trained = training_corpus(corpus, use_weights=True, needs_times=True)
    kept = [[t for t in triples if t[1] > 0] for _, triples in tokens_of(corpus)]
    assert [triples for _, triples in tokens_of(trained)] == kept
    assert_encodes(trained, [[t[0] for t in triples] for triples in kept])
    # without the option the weights are not looked at
    assert training_corpus(corpus) is corpus


def test_training_corpus_keeps_a_corpus_without_zero_weights_as_it_is():
    from item2vec.corpus import training_corpus

    corpus = rich_corpus().select_tokens([1, 1, 1, 1, 0, 1, 1, 1])
    assert training_corpus(corpus, use_weights=True) is corpus


def test_training_corpus_refuses_events_that_all_weigh_zero():
    from item2vec.corpus import training_corpus

    corpus = Sequences([0, 1], [0, 2], VOCAB2, weights=[0.0, 0.0])
    with pytest.raises(ValueError, match=exactly("every event has weight 0: nothing to train on")):
        training_corpus(corpus, use_weights=True)


# --- Vocabulary -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected", "dtype"),
    [
        (["a", "b"], ["a", "b"], object),
        ([3, 1], [3, 1], np.int64),
        ([np.int32(3), np.int64(1)], [3, 1], np.int64),
        ([True, 2], [True, 2], object),
        ([2**64, 1], [2**64, 1], object),
        (["a", 1, 2.5], ["a", 1, 2.5], object),
        (np.array(["p", "q"]), ["p", "q"], np.dtype("<U1")),
        (np.array([[4, 5]]), [4, 5], np.int64),
        ((i for i in ("g", "h")), ["g", "h"], object),
    ],
    ids=["str", "int", "numpy-ints", "bool", "huge", "mixed", "str-array", "2d-array", "generator"],
)
def test_vocabulary_items_keep_their_values(items, expected, dtype):
    vocab = Vocabulary(items, [2, 1] if len(expected) == 2 else [3, 2, 1])
    assert vocab.items.tolist() == expected
    assert [type(i) for i in vocab.items.tolist()] == [type(i) for i in expected]
    assert vocab.items.dtype == dtype
    assert len(vocab) == len(expected)
    assert vocab.counts.dtype == np.int64


def test_numpy_scalar_ids_become_python_values():
    vocab = Vocabulary([np.str_("a"), np.float64(1.5), np.bool_(True)], [1, 1, 1])
    assert [type(i) for i in vocab.items.tolist()] == [str, float, bool]
    assert vocab.code("a") == 0 and vocab.code(1.5) == 1 and vocab.code(True) == 2


@pytest.mark.parametrize(
    ("items", "counts", "message"),
    [
        (["a", "b"], [1], "items and counts must have the same length, got 2 and 1"),
        (["a"], [1, 2], "items and counts must have the same length, got 1 and 2"),
        (["a", "b"], [1, -1], "counts must be >= 0"),
    ],
)
def test_vocabulary_refuses_inconsistent_counts(items, counts, message):
    with pytest.raises(ValueError, match=exactly(message)):
        Vocabulary(items, counts)


def test_vocabulary_counts_are_int64():
    vocab = Vocabulary(["a", "b"], np.array([3, 1], dtype=np.int16))
    assert vocab.counts.dtype == np.int64 and vocab.counts.tolist() == [3, 1]


@pytest.mark.parametrize("items", [["a", "a"], [1, 1.0], [1, True]])
def test_duplicate_ids_are_refused_when_looked_up(items):
    vocab = Vocabulary(items, [1, 1])
    with pytest.raises(ValueError, match=exactly("item ids must be unique")):
        vocab.code("a")


def test_code_and_index_map_ids_to_positions():
    items = ["b", 7, "7", (1, 2)]
    vocab = Vocabulary(items, [4, 3, 2, 1])
    assert vocab.index == {item: i for i, item in enumerate(items)}
    assert [vocab.code(i) for i in items] == [0, 1, 2, 3]
    assert vocab.code(7.0) == 1


@pytest.mark.parametrize(("item", "shown"), [("zz", "'zz'"), (8, "8"), (["b"], "['b']")])
def test_code_of_an_unknown_or_unhashable_item_is_a_key_error_naming_it(item, shown):
    vocab = Vocabulary(["b", 7], [1, 1])
    with raises_key_error(f"item {shown} is not in the vocabulary"):
        vocab.code(item)


def test_contains_answers_for_any_value():
    vocab = Vocabulary(["b", 7], [1, 1])
    assert "b" in vocab and 7 in vocab and 7.0 in vocab
    assert "7" not in vocab and "c" not in vocab
    assert ["b"] not in vocab and {"b": 1} not in vocab


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["c", "a", "c"], [2, 0, 2]),
        ([], []),
        ((i for i in ["b", "a"]), [1, 0]),
        (np.array(["a", "b"]), [0, 1]),
        ([1, 1.0, True], [3, 3, 3]),
    ],
)
def test_codes_of_known_items(items, expected):
    vocab = Vocabulary(["a", "b", "c", 1], [1, 1, 1, 1])
    codes = vocab.codes_of(items)
    assert codes.dtype == np.int64 and codes.tolist() == expected


def test_codes_of_ignores_unknown_and_unhashable_items_when_asked():
    vocab = Vocabulary(["a", "b"], [1, 1])
    codes = vocab.codes_of(["b", "x", ["a"], "a", 0], unknown="ignore")
    assert codes.dtype == np.int64 and codes.tolist() == [1, -1, -1, 0, -1]


@pytest.mark.parametrize(("item", "shown"), [("x", "'x'"), (["a"], "['a']")])
def test_codes_of_raises_on_the_first_unknown_item_by_default(item, shown):
    vocab = Vocabulary(["a", "b"], [1, 1])
    with raises_key_error(f"item {shown} is not in the vocabulary"):
        vocab.codes_of(["a", item, "zz"])


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            (["a"],),
            {"unknown": "skip"},
            ValueError,
            "unknown must be 'raise' or 'ignore', got 'skip'",
        ),
        ((["a"],), {"unknown": None}, ValueError, "unknown must be 'raise' or 'ignore', got None"),
        (("ab",), {}, TypeError, "items must be a sequence of item ids, got a single string"),
        (
            (b"ab",),
            {"unknown": "ignore"},
            TypeError,
            "items must be a sequence of item ids, got a single string",
        ),
    ],
)
def test_codes_of_refuses_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=exactly(message)):
        Vocabulary(["a", "b"], [1, 1]).codes_of(*args, **kwargs)


def test_with_counts_keeps_items_and_codes_and_checks_the_counts():
    vocab = Vocabulary(["a", "b", "c"], [3, 2, 1])
    assert vocab.code("c") == 2  # builds the index first
    other = vocab.with_counts(np.array([0, 5, 7]))
    assert other.items.tolist() == ["a", "b", "c"]
    assert other.counts.tolist() == [0, 5, 7] and other.counts.dtype == np.int64
    assert [other.code(i) for i in "abc"] == [0, 1, 2]
    assert vocab.counts.tolist() == [3, 2, 1]
    with pytest.raises(ValueError, match=exactly("counts must be >= 0")):
        vocab.with_counts([1, -1, 1])
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        vocab.with_counts([1, 1])


def keep_reference(counts, sample):
    total = sum(counts)
    t = sample * total
    return [1.0 if c == 0 else min(1.0, (math.sqrt(c / t) + 1) * t / c) for c in counts]


@pytest.mark.parametrize(
    ("counts", "sample"),
    [
        ([5000, 900, 40, 7, 1, 0], 1e-3),
        ([5000, 900, 40, 7, 1, 0], 1e-2),
        ([5000, 900, 40, 7, 1, 0], 0.1),
        ([5000, 900, 40, 7, 1, 0], 1.0),
        # a tiny threshold subsamples even items seen once
        ([1, 2, 1, 0], 0.01),
    ],
)
def test_keep_probabilities_follow_the_word2vec_formula(counts, sample):
    vocab = Vocabulary([f"i{k}" for k in range(len(counts))], counts)
    keep = vocab.keep_probabilities(sample)
    assert keep.dtype == np.float32 and keep.shape == (len(counts),)
    np.testing.assert_allclose(keep, keep_reference(counts, sample), rtol=1e-6)
    assert keep[-1] == 1.0


@pytest.mark.parametrize("counts", [[0, 5], [0, 0]])
def test_keep_probabilities_of_unseen_items_raise_no_warning(counts):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keep = Vocabulary(["a", "b"], counts).keep_probabilities(1e-3)
    assert keep[0] == 1.0


def test_keep_probabilities_of_unseen_items_are_one():
    keep = Vocabulary(["a", "b"], [0, 0]).keep_probabilities(1e-3)
    assert keep.dtype == np.float32 and keep.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("sample", [0, 0.0, -1e-3])
def test_keep_probabilities_without_subsampling_are_empty(sample):
    keep = Vocabulary(["a"], [10]).keep_probabilities(sample)
    assert keep.dtype == np.float32 and keep.shape == (0,)


@pytest.mark.parametrize(
    ("counts", "exponent"),
    [
        ([8, 3, 0, 1], 0.75),
        ([8, 3, 0, 1], 1.0),
        ([8, 3, 0, 1], 0.0),
        ([8, 3, 0, 1], -0.5),
        ([8, 3, 0, 1], 2.0),
        # totals of 1 and below 1 are fine
        ([1], 0.75),
        ([0, 1], 3.0),
        ([100, 400, 0], -1.0),
    ],
)
def test_noise_distribution_is_proportional_to_count_to_the_exponent(counts, exponent):
    weights = [c**exponent if c > 0 else 0.0 for c in counts]
    expected = [w / sum(weights) for w in weights]
    noise = Vocabulary([f"i{k}" for k in range(len(counts))], counts).noise_distribution(exponent)
    assert noise.dtype == np.float64
    np.testing.assert_allclose(noise, expected, rtol=1e-12)
    assert [p == 0.0 for p in noise] == [c == 0 for c in counts]


@pytest.mark.parametrize(
    ("counts", "exponent"), [([0, 0], 0.75), ([], 1.0), ([10**6, 1], 400.0), ([0, 3], -1e6)]
)
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_noise_distribution_without_a_usable_total_is_refused(counts, exponent):
    vocab = Vocabulary(["a", "b"][: len(counts)], counts)
    message = f"ns_exponent={exponent} gives no usable noise distribution for these counts"
    with pytest.raises(ValueError, match=exactly(message)):
        vocab.noise_distribution(exponent)


def prune_reference(items, counts, min_count, max_vocab_size):
    kept = sorted(
        (i for i in range(len(items)) if counts[i] >= min_count), key=lambda i: -counts[i]
    )[:max_vocab_size]
    mapping = [kept.index(i) if i in kept else -1 for i in range(len(items))]
    return [items[i] for i in kept], [counts[i] for i in kept], mapping


@pytest.mark.parametrize(
    ("min_count", "max_vocab_size"),
    [
        (1, None),
        (0, None),
        (2, None),
        (3, None),
        (5, None),
        (6, None),
        (1, 3),
        (2, 1),
        (1, 0),
        (1, 10),
    ],
)
def test_vocabulary_pruned_keeps_frequent_items_ties_in_order(min_count, max_vocab_size):
    items = ["a", "b", "c", "d", "e", "f"]
    counts = [2, 5, 0, 3, 5, 2]
    vocab, mapping = Vocabulary(items, counts).pruned(min_count, max_vocab_size)
    ref_items, ref_counts, ref_mapping = prune_reference(items, counts, min_count, max_vocab_size)
    assert vocab.items.tolist() == ref_items
    assert vocab.counts.tolist() == ref_counts
    assert mapping.dtype == np.int32 and mapping.tolist() == ref_mapping


def test_vocabulary_pruned_keeps_ties_in_order_in_a_large_vocabulary():
    # many ties: an unstable sort would shuffle equal counts
    counts = np.random.default_rng(0).integers(0, 4, 300).tolist()
    items = [f"i{k}" for k in range(300)]
    vocab, mapping = Vocabulary(items, counts).pruned(1, 250)
    ref_items, ref_counts, ref_mapping = prune_reference(items, counts, 1, 250)
    assert vocab.items.tolist() == ref_items
    assert vocab.counts.tolist() == ref_counts
    assert mapping.tolist() == ref_mapping


def test_vocabulary_pruned_by_default_drops_only_zero_counts():
    vocab, mapping = Vocabulary(["a", "b", "c"], [0, 1, 4]).pruned()
    assert vocab.items.tolist() == ["c", "b"] and mapping.tolist() == [-1, 1, 0]


def grow_reference(old_items, old_counts, new_items, new_counts, pending, min_count, max_size):
    counts = dict(zip(old_items, old_counts, strict=True))
    still = dict(pending)
    unknown = []
    for item, count in zip(new_items, new_counts, strict=True):
        if item in counts:
            counts[item] += count
        else:
            still[item] = still.get(item, 0) + count
            unknown.append(item)
    ready = [i for i in unknown if still[i] >= min_count]
    ready.sort(key=lambda i: -still[i])  # stable: ties in the new vocabulary's order
    if max_size is not None:
        ready = ready[: max(0, max_size - len(old_items))]
    joined = [(i, still.pop(i)) for i in ready]
    items = list(old_items) + [i for i, _ in joined]
    return items, list(counts.values()) + [c for _, c in joined], still


@pytest.mark.parametrize(
    ("pending", "min_count", "max_size"),
    [
        ({}, 1, None),
        ({}, 2, None),
        ({}, 3, None),
        ({"y": 1}, 2, None),
        ({"y": 5, "q": 4}, 3, None),
        ({"z": 1}, 2, 4),
        ({}, 1, 3),
        ({}, 1, 2),
        ({}, 1, 5),
    ],
)
def test_grown_adds_counts_and_lets_new_items_join_after_the_known_ones(
    pending, min_count, max_size
):
    old = Vocabulary(["a", 1, "b"], [4, 3, 1])
    new = Vocabulary(["x", "b", "y", "z", 1], [3, 2, 2, 1, 1])
    grown, still = old.grown(new, pending, min_count, max_size)
    ref_items, ref_counts, ref_still = grow_reference(
        ["a", 1, "b"],
        [4, 3, 1],
        ["x", "b", "y", "z", 1],
        [3, 2, 2, 1, 1],
        pending,
        min_count,
        max_size,
    )
    assert grown.items.tolist() == ref_items
    assert grown.counts.tolist() == ref_counts
    assert still == ref_still
    assert old.counts.tolist() == [4, 3, 1]  # the old vocabulary is untouched


def test_grown_keeps_pending_items_that_did_not_occur_again():
    old = Vocabulary(["a"], [1])
    grown, still = old.grown(Vocabulary(["a", "n"], [2, 1]), {"gone": 1, "n": 1}, 3, None)
    assert grown.items.tolist() == ["a"] and grown.counts.tolist() == [3]
    assert still == {"gone": 1, "n": 2}
    assert grown.items.dtype == object


# --- read_table / read_events -------------------------------------------------------

ROWS = [("u1", "001", "3", "4.5"), ("u2", "1", "1", "2"), ("u1", "7", "2", "5")]


@pytest.fixture(params=["pyarrow", "stdlib"])
def reader(request, without_module):
    """Text files read with pyarrow, and with the standard library when it is missing."""
    if request.param == "stdlib":
        without_module("pyarrow")
    return request.param


def write_rows(path, delimiter, rows, header=("user", "item", "t", "rating"), prefix=""):
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    path.write_bytes((prefix + "\n".join(lines) + "\n").encode("utf-8"))
    return path


def assert_columns(table, expected):
    assert list(table) == list(expected)
    for name, values in expected.items():
        assert table[name].tolist() == values, name
        kinds = {type(v) for v in values}
        dtype = np.int64 if kinds == {int} else np.float64 if kinds == {float} else object
        assert table[name].dtype == dtype, name


@pytest.mark.parametrize(
    "delimiter", [",", "\t", ";", "|"], ids=["csv", "tsv", "semicolon", "pipe"]
)
def test_read_table_sniffs_the_delimiter_and_infers_numbers(tmp_path, reader, delimiter):
    path = write_rows(tmp_path / "events.txt", delimiter, ROWS)
    table = read_table(path, text_columns=["user", "item"])
    assert_columns(
        table,
        {
            "user": ["u1", "u2", "u1"],
            "item": ["001", "1", "7"],  # id columns stay text
            "t": [3, 1, 2],
            "rating": [4.5, 2.0, 5.0],
        },
    )


def test_read_table_infers_ints_for_columns_not_kept_as_text(tmp_path, reader):
    path = write_rows(tmp_path / "events.csv", ",", ROWS)
    assert read_table(path)["item"].tolist() == [1, 1, 7]


def test_read_table_keeps_text_columns_as_text(tmp_path, reader):
    rows = [("a", "1", "x"), ("b", "2.5", "1")]
    path = write_rows(tmp_path / "t.csv", ",", rows, header=("k", "num", "word"))
    assert_columns(read_table(path), {"k": ["a", "b"], "num": [1.0, 2.5], "word": ["x", "1"]})


def test_integers_too_large_for_int64_stay_text_without_pyarrow(tmp_path, without_module):
    without_module("pyarrow")
    rows = [("99999999999999999999", "9223372036854775807")]
    path = write_rows(tmp_path / "big.csv", ",", rows, header=("huge", "max"))
    assert_columns(read_table(path), {"huge": ["99999999999999999999"], "max": [2**63 - 1]})


def test_read_table_skips_a_utf8_byte_order_mark(tmp_path, reader):
    path = write_rows(tmp_path / "bom.csv", ";", ROWS, prefix="\ufeff")
    table = read_table(path, text_columns=["user"])
    assert list(table) == ["user", "item", "t", "rating"]
    assert table["user"].tolist() == ["u1", "u2", "u1"]


def test_read_table_skips_blank_lines(tmp_path, reader):
    path = tmp_path / "gaps.csv"
    path.write_text("user,item\nu1,a\n\nu2,b\nu3,c\n")
    assert_columns(read_table(path), {"user": ["u1", "u2", "u3"], "item": ["a", "b", "c"]})


def test_a_short_row_is_reported_by_line_without_pyarrow(tmp_path, without_module):
    without_module("pyarrow")
    path = tmp_path / "short.csv"
    path.write_text("user,item,t\nu1,a,1\nu2,b\n")
    with pytest.raises(ValueError, match=exactly(f"{path}, line 3: expected 3 fields, got 2")):
        read_table(path)


@pytest.mark.parametrize("content", ["", "\n", "  \n"])
def test_an_empty_file_is_refused(tmp_path, reader, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=exactly(f"{path} is empty")):
        read_table(path)


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=exactly(f"no such file: {path}")):
        read_table(path)


@pytest.mark.parametrize("name", ["events.parquet", "events.pq", "EVENTS.PARQUET"])
def test_parquet_files_are_read_column_by_column(tmp_path, name):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    columns = {"user": ["u1", "u2", "u1"], "item": [10, 11, 10], "t": [2.5, 1.0, 0.5]}
    pq.write_table(pa.table(columns), tmp_path / name)
    assert_columns(read_table(tmp_path / name), columns)
    corpus = read_events(tmp_path / name, user="user", item="item", time="t")
    assert_events(corpus, columns, sessions_reference(columns["user"], columns["t"]), columns["t"])


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, without_module):
    path = tmp_path / "events.parquet"
    path.write_bytes(b"PAR1")
    without_module("pyarrow")
    message = "reading Parquet needs pyarrow: pip install 'item2vec[arrow]'"
    with pytest.raises(ImportError, match=exactly(message)):
        read_table(path)


@pytest.mark.parametrize(
    "delimiter", [",", "\t", ";", "|"], ids=["csv", "tsv", "semicolon", "pipe"]
)
def test_read_events_builds_the_corpus_keeping_ids_as_text(tmp_path, reader, delimiter):
    rows = [
        ("001", "01", "3", "4.5"),
        ("1", "1", "1", "2"),
        ("001", "1", "2", "5"),
        ("1", "01", "9", "1"),
    ]
    path = write_rows(tmp_path / "events.txt", delimiter, rows)
    corpus = read_events(
        path, user="user", item="item", time="t", weight="rating", min_weight=2, session_gap=5
    )
    columns = {
        "user": [r[0] for r in rows],
        "item": [r[1] for r in rows],
        "w": [float(r[3]) for r in rows],
    }
    times = [int(r[2]) for r in rows]
    # "001" and "1" are different users, "01" and "1" different items
    sessions = sessions_reference(columns["user"], times, columns["w"], 2, 5)
    assert_events(corpus, columns, sessions, times=times)
    assert corpus.users.tolist() == ["001", "1"]

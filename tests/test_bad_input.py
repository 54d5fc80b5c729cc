"""The bad-input matrix: every case gets a clear error naming the problem, or a tested,
documented behaviour. Never a crash, a hang or silent garbage."""

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences, read_events
from item2vec.cli import main as cli_main

FAST = dict(vector_size=8, epochs=1, sample=0, n_jobs=1, random_state=0)


def fit(data, **params):
    return Item2Vec(**(FAST | params)).fit(data)


@pytest.fixture(scope="module")
def model():
    return fit([["a", "b", "c"], ["b", "c", "d"], ["a", "d"]] * 10)


# (name, callable, expected exception, message fragment)
ERRORS = [
    ("empty corpus", lambda m: fit([]), ValueError, "X is empty"),
    ("only empty sequences", lambda m: fit([[], []]), ValueError, "X is empty"),
    ("only length-1 sequences", lambda m: fit([["a"], ["b"]]), ValueError, "nothing was trained"),
    ("every item under min_count", lambda m: fit([["a", "b"]], min_count=2), ValueError,
     "min_count=2"),
    ("None item id", lambda m: fit([["a", None]]), ValueError, "None or NaN"),
    ("NaN item id", lambda m: fit([["a", float("nan")]]), ValueError, "None or NaN"),
    ("sequence given as a string", lambda m: fit(["abc", "de"]), TypeError, "is a string"),
    ("corpus given as a string", lambda m: fit("abc"), TypeError, "got a string"),
    ("nested non-sequence", lambda m: fit([5, 6]), TypeError, "not a sequence"),
    ("unhashable item", lambda m: fit([[["x"], "y"]]), TypeError, "unhashable"),
    ("vector_size 0", lambda m: fit([["a", "b"]], vector_size=0), ValueError, "vector_size"),
    ("window 0", lambda m: fit([["a", "b"]], window=0), ValueError, "window must be"),
    ("negative -1", lambda m: fit([["a", "b"]], negative=-1), ValueError, "negative must be"),
    ("alpha NaN", lambda m: fit([["a", "b"]], alpha=float("nan")), ValueError, "alpha"),
    ("alpha huge", lambda m: fit([["a", "b", "c"]] * 50, alpha=1e30, epochs=3),
     FloatingPointError, "diverged"),
    ("weights NaN", lambda m: Sequences.from_events(
        {"u": [1, 1], "i": ["a", "b"], "w": [1.0, np.nan]}, "u", "i", weight="w"),
     ValueError, "NaN or infinite"),
    ("weights inf", lambda m: Sequences.from_events(
        {"u": [1, 1], "i": ["a", "b"], "w": [1.0, np.inf]}, "u", "i", weight="w"),
     ValueError, "NaN or infinite"),
    ("weights negative", lambda m: Sequences.from_events(
        {"u": [1, 1], "i": ["a", "b"], "w": [1.0, -2.0]}, "u", "i", weight="w"),
     ValueError, "negative"),
    ("times not sortable", lambda m: Sequences.from_events(
        {"u": [1, 1], "i": ["a", "b"], "t": ["x", "y"]}, "u", "i", time="t"),
     TypeError, "numbers or datetimes"),
    ("missing column", lambda m: Sequences.from_events({"u": [1]}, "u", "item"), KeyError,
     "'item'"),
    ("missing file", lambda m: read_events("/nonexistent/events.csv", user="u", item="i"),
     FileNotFoundError, "no such file"),
    ("unknown item in most_similar", lambda m: m.most_similar("zz"), KeyError, "'zz'"),
    ("unknown item in similar_items", lambda m: m.similar_items(["zz"]), KeyError, "'zz'"),
    # "ab" is not split into the known items "a" and "b": a list of ids is asked for
    ("items given as a string in similar_items", lambda m: m.similar_items("ab"), TypeError,
     "^items must be a sequence of item ids, got a single string$"),
    ("items given as bytes in similar_items", lambda m: m.similar_items(b"ab"), TypeError,
     "^items must be a sequence of item ids, got a single string$"),
    ("items given as a string in the vectors' similar_items",
     lambda m: m.item_vectors_.similar_items("ab"), TypeError,
     "^items must be a sequence of item ids, got a single string$"),
    ("history of unknown items", lambda m: m.recommend(["zz", "yy"]), KeyError,
     "none of the history"),
    ("history given as a string", lambda m: m.recommend("abc"), TypeError, "got a string"),
    ("topn 0", lambda m: m.most_similar("a", topn=0), ValueError, "topn must be"),
    ("half_life 0", lambda m: m.recommend(["a"], half_life=0), ValueError, "half_life"),
    ("query vector of the wrong size", lambda m: m.similar_by_vector(np.ones(3)), ValueError,
     "shape"),
    ("query vector NaN", lambda m: m.similar_by_vector(np.full(8, np.nan)), ValueError,
     "finite"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_bad_input_raises_a_clear_error(model, make, error, message):
    with pytest.raises(error, match=message):
        make(model)


MODEL_FILES = [
    ("truncated", lambda good: good[: len(good) // 3], "truncated or corrupt"),
    ("not a zip", lambda good: b"hello, this is text", "not an .npz archive"),
    ("zero bytes", lambda good: b"", "not an .npz archive"),
    ("bytes flipped", lambda good: good[:200] + bytes(300) + good[500:], "item2vec model"),
]


@pytest.mark.parametrize(
    ("damage", "message"), [c[1:] for c in MODEL_FILES], ids=[c[0] for c in MODEL_FILES]
)
def test_damaged_model_files_are_refused(model, tmp_path, damage, message):
    path = tmp_path / "m.npz"
    model.save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message):
        Item2Vec.load(path)


def test_a_pickled_model_file_is_never_executed(tmp_path):
    import zipfile

    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([Evil()], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        Item2Vec.load(path)
    assert not marker.exists()
    with zipfile.ZipFile(path) as archive:  # the payload is a real pickle: an object array
        assert b"'descr': '|O'" in archive.read("meta.npy")[:128]


# a, b, c and d occur 20 times each, e 3 times (alone, so it has no context)
BEHAVIOURS = [
    ("window larger than every session", dict(window=50), list("abcde")),
    ("negative larger than the vocabulary", dict(negative=40), list("abcde")),
    ("vector_size 1", dict(vector_size=1), list("abcde")),
    ("vector_size 1024", dict(vector_size=1024), list("abcde")),
    ("rare items under min_count", dict(min_count=20), list("abcd")),
]


@pytest.mark.parametrize(
    ("params", "items"), [b[1:] for b in BEHAVIOURS], ids=[b[0] for b in BEHAVIOURS]
)
def test_extreme_but_valid_parameters_train_finite_vectors(params, items):
    seqs = [["a", "b", "c"], ["b", "c", "d"], ["a", "d"]] * 10 + [["e"]] * 3
    model = fit(seqs, **params)
    assert model.items_.tolist() == items
    assert model.vectors_.shape == (len(items), params.get("vector_size", 8))
    assert np.all(np.isfinite(model.vectors_)) and np.all(np.isfinite(model.loss_history_))


def test_one_session_of_a_million_tokens_trains():
    session = np.random.default_rng(0).integers(0, 1_000, 1_000_000)
    model = fit([session], sg=False)
    assert len(model.items_) == 1_000 and np.all(np.isfinite(model.vectors_))


def test_a_single_item_vocabulary_trains_and_has_no_neighbours():
    model = fit([["a", "a", "a"]])
    assert model.items_.tolist() == ["a"]
    assert model.most_similar("a") == []
    assert model.similar_items(["a"])[0].shape == (1, 0)


def test_topn_larger_than_the_catalogue_returns_what_exists(model):
    assert len(model.most_similar("a", topn=1_000)) == len(model.items_) - 1
    ids, _ = model.recommend(["a"], topn=1_000)
    assert len(ids) == len(model.items_) - 1


def test_ints_and_strings_with_the_same_text_are_different_items():
    model = fit([[1, "1", 2], [2, "1"], [1, 2]] * 5)
    assert len(model.items_) == 3
    assert model.get_vector(1).tolist() != model.get_vector("1").tolist()


@pytest.mark.parametrize(
    "argv",
    [["similar", "/nonexistent.npz", "a"], ["recommend", "/nonexistent.npz", "--history", ","],
     ["export", "/nonexistent.npz", "--format", "word2vec-text", "-o", "/tmp/x"]],
    ids=["similar", "recommend", "export"],
)  # fmt: skip
def test_cli_reports_missing_model_files_in_one_line(argv, capsys):
    assert cli_main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"item2vec {argv[0]}: error: no such file: /nonexistent.npz"
    ]


@pytest.mark.parametrize(
    ("n_items", "n_tokens", "message"),
    [(2**31, 10, "int32 codes"), (10, 2**63, "int64 offsets")],
    ids=["too many items", "too many events"],
)
def test_size_limits_are_checked_before_allocating(n_items, n_tokens, message):
    from item2vec._validation import check_limits

    with pytest.raises(ValueError, match=message):
        check_limits(n_items, n_tokens)
    check_limits(2**31 - 2, 2**63 - 1)  # the largest sizes that fit

"""The on-disk corpus: Sequences.save and Sequences.open."""

import json
import os

import numpy as np
import pytest
from corpus_checks import assert_same_corpus

from item2vec import Item2Vec, Sequences
from item2vec.evaluation import leave_last_out, temporal_split


def _events(n=600, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "user": rng.integers(0, 40, n),
        "item": np.array([f"sku{k}" for k in range(30)])[rng.integers(0, 30, n)],
        "t": rng.permutation(n).astype(np.float64),
        "w": rng.integers(0, 6, n).astype(np.float64),
    }


@pytest.fixture
def corpus():
    return Sequences.from_events(_events(), user="user", item="item", time="t", weight="w")


def test_a_saved_corpus_opens_equal_and_memory_mapped(corpus, tmp_path):
    corpus.save(tmp_path / "c")
    opened = Sequences.open(tmp_path / "c")
    assert_same_corpus(corpus, opened)
    for name in ("codes", "offsets", "weights", "times"):
        array = getattr(opened, name)
        assert not array.flags.writeable
        assert isinstance(array.base, np.memmap) or isinstance(array, np.memmap)
    header = json.loads((tmp_path / "c" / "header.json").read_text())
    assert header["format"] == "item2vec-corpus" and header["format_version"] == 1
    assert (header["n_sequences"], header["n_tokens"], header["n_items"]) == (
        len(corpus), corpus.n_tokens, len(corpus.vocabulary),
    )  # fmt: skip


@pytest.mark.parametrize(
    "ids",
    [
        np.array([3, -7, 2**40], dtype=np.int64),
        np.array([2**64 - 1, 0, 5], dtype=np.uint64),
        np.array(["a", "é", "long id with spaces"], dtype=object),
        np.array([2**70, 1, 2], dtype=object),  # beyond uint64: kept as JSON
    ],
    ids=["int64", "uint64", "str", "python-int"],
)
def test_ids_of_every_kind_round_trip(ids, tmp_path):
    corpus = Sequences.from_iterable([list(ids), list(ids[:2])])
    corpus.save(tmp_path / "c")
    opened = Sequences.open(tmp_path / "c")
    assert opened.to_lists() == corpus.to_lists()
    assert opened.vocabulary.items.tolist() == corpus.vocabulary.items.tolist()


def test_a_corpus_without_optional_arrays_round_trips(tmp_path):
    corpus = Sequences.from_iterable([["a", "b"], [], ["c"]])
    corpus.save(tmp_path / "c")
    opened = Sequences.open(tmp_path / "c")
    assert opened.to_lists() == [["a", "b"], [], ["c"]]
    assert opened.weights is None and opened.times is None and opened.users is None


def test_saving_over_an_earlier_corpus_replaces_it(corpus, tmp_path):
    Sequences.from_iterable([["x"]]).save(tmp_path / "c")
    corpus.save(tmp_path / "c")
    assert_same_corpus(corpus, Sequences.open(tmp_path / "c"))
    assert sorted(os.listdir(tmp_path)) == ["c"]  # no temporary left beside it


def test_a_failed_save_leaves_the_earlier_corpus_and_no_temporary(corpus, tmp_path, monkeypatch):
    earlier = Sequences.from_iterable([["x", "y"]])
    earlier.save(tmp_path / "c")
    from item2vec import _corpus_files

    def full_disk(self, values):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_corpus_files.NpyAppender, "append", full_disk)
    with pytest.raises(OSError, match="No space left"):
        corpus.save(tmp_path / "c")
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"]]
    assert sorted(os.listdir(tmp_path)) == ["c"]


def test_an_interrupted_save_leaves_nothing_that_opens(corpus, tmp_path, monkeypatch):
    from item2vec import _corpus_files

    def interrupted(self, built_by):
        raise KeyboardInterrupt

    monkeypatch.setattr(_corpus_files.CorpusWriter, "commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        corpus.save(tmp_path / "c")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_path_holding_something_else_is_not_replaced(corpus, tmp_path, kind):
    target = tmp_path / "c"
    if kind == "file":
        target.write_text("precious")
    else:
        target.mkdir()
        (target / "notes.txt").write_text("precious")
    with pytest.raises(ValueError, match="refusing to replace it"):
        corpus.save(target)
    assert (target.read_text() if kind == "file" else (target / "notes.txt").read_text()) == (
        "precious"
    )


def _saved(corpus, tmp_path):
    corpus.save(tmp_path / "c")
    return tmp_path / "c"


def _drop_last_item(path):
    npy, listed = path / "items.npy", path / "items.json"
    if npy.exists():
        np.save(npy, np.load(npy)[:-1])
    else:
        listed.write_text(json.dumps(json.loads(listed.read_text())[:-1]))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "header.json").unlink(), "is not an item2vec corpus \\(no header.json\\)"),
        (lambda p: (p / "header.json").write_text("{"), "is not a readable item2vec corpus"),
        (lambda p: (p / "codes.npy").unlink(), "is corrupt: codes.npy is missing"),
        (lambda p: _truncate(p / "codes.npy", 140), "is corrupt: codes.npy"),
        (lambda p: _header(p, n_tokens=5), "is corrupt: codes holds \\("),
        (lambda p: _header(p, format="other"), "is not an item2vec corpus"),
        (lambda p: _header(p, format_version=2), "corpus format 2, newer than this item2vec"),
        (lambda p: _header(p, format_version="1"), "is corrupt: format version '1'"),
        (
            lambda p: np.save(
                p / "codes.npy",
                np.full(p.joinpath("codes.npy").stat().st_size // 4 - 32, 99, np.int32),
            ),
            "is corrupt: codes must lie in",
        ),
        (lambda p: _header(p, arrays=None), "is corrupt: its header lacks"),
        (_drop_last_item, "is corrupt: items holds \\(\\d+,\\) values, the header says"),
    ],
    ids=[
        "no header",
        "bad json",
        "no codes",
        "truncated",
        "sizes",
        "format",
        "newer",
        "str version",
        "codes out of range",
        "no array list",
        "items short of the header",
    ],
)
def test_a_damaged_corpus_is_refused_with_the_reason(corpus, tmp_path, damage, message):
    path = _saved(corpus, tmp_path)
    damage(path)
    with pytest.raises(ValueError, match=message):
        Sequences.open(path)


def _truncate(file, size):
    with open(file, "r+b") as handle:
        handle.truncate(size)


def _header(path, **changes):
    header = json.loads((path / "header.json").read_text())
    header.update(changes)
    (path / "header.json").write_text(json.dumps(header))


def test_opening_a_missing_directory_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such corpus directory"):
        Sequences.open(tmp_path / "nothing")


# --- an opened corpus everywhere a corpus goes -------------------------------------------


@pytest.fixture
def opened(corpus, tmp_path):
    return Sequences.open(_saved(corpus, tmp_path))


def _model(**params):
    return Item2Vec(vector_size=8, epochs=2, sample=0, n_jobs=1, random_state=0, **params)


def test_fit_on_an_opened_corpus_equals_fit_in_memory(corpus, opened):
    a = _model(min_count=1).fit(corpus)
    b = _model(min_count=1).fit(opened)
    assert np.array_equal(a.vectors_, b.vectors_)
    a, b = (
        _model(min_count=3, use_weights=True).fit(corpus),
        _model(min_count=3, use_weights=True).fit(opened),
    )
    assert np.array_equal(a.vectors_, b.vectors_)


def test_update_recommend_batch_transform_and_splits_take_an_opened_corpus(corpus, opened):
    a, b = _model().fit(corpus), _model().fit(corpus)
    a.update(corpus)
    b.update(opened)
    assert np.array_equal(a.vectors_, b.vectors_)
    for got, expected in zip(b.recommend_batch(opened, topn=5), a.recommend_batch(corpus, topn=5),
                             strict=True):  # fmt: skip
        assert np.array_equal(got, expected)
    assert np.array_equal(b.transform(opened), a.transform(corpus))
    for split in (leave_last_out, temporal_split):
        s1, s2 = split(corpus), split(opened)
        assert s1.train.to_lists() == s2.train.to_lists()
        assert s1.histories.to_lists() == s2.histories.to_lists()
        assert s1.targets.tolist() == s2.targets.tolist()
    # training never writes to the mapped files
    assert not opened.codes.flags.writeable


def test_a_failed_swap_puts_the_earlier_corpus_back(corpus, tmp_path, monkeypatch):
    Sequences.from_iterable([["x", "y"]]).save(tmp_path / "c")
    from item2vec import _corpus_files

    real_rename = os.rename

    def rename(source, target):
        if str(source).endswith(".tmp"):  # the new corpus moving into place
            raise OSError(5, "Input/output error")
        real_rename(source, target)

    monkeypatch.setattr(_corpus_files.os, "rename", rename)
    with pytest.raises(OSError, match="Input/output error"):
        corpus.save(tmp_path / "c")
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"]]
    assert sorted(os.listdir(tmp_path)) == ["c"]


def test_ids_other_than_str_and_int_are_refused_naming_their_kind(tmp_path):
    corpus = Sequences.from_iterable([[1.5, 2.5], [2.5]])
    with pytest.raises(
        TypeError, match=r"^items ids must be str or int to be saved, found \['float'\]$"
    ):
        corpus.save(tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_a_corpus_is_written_beside_its_target_then_renamed(corpus, tmp_path, monkeypatch):
    # beside it, on the same file system: the final rename is atomic, never a copy
    from item2vec import _corpus_files

    moved = []
    real = _corpus_files._replace_directory

    def replace(new, path):
        moved.append((new.parent, new.name.startswith(".c."), new.name.endswith(".tmp")))
        real(new, path)

    monkeypatch.setattr(_corpus_files, "_replace_directory", replace)
    corpus.save(tmp_path / "c")
    assert moved == [(tmp_path, True, True)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]

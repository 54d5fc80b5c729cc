"""The on-disk corpus never loses a user's file and answers from what was opened."""

import json
import os
import re
import warnings

import numpy as np
import pytest

from item2vec import Sequences, _corpus_files


def _small(n_sequences=3):
    return Sequences.from_iterable([["a", "b", "a"], ["c"], ["b", "c"]][:n_sequences])


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


# --- 1. only a corpus is replaced, and only its own files are removed ------------------


def test_rebuilding_a_corpus_that_holds_a_users_file_is_refused_and_keeps_it(tmp_path):
    earlier = _small()
    earlier.save(tmp_path / "c")
    (tmp_path / "c" / "notes.txt").write_text("mine")
    refusal = r"c holds files that are not a corpus's own \('notes.txt'\): refusing to replace"
    with pytest.raises(ValueError, match=refusal):
        Sequences.from_iterable([["x"]]).save(tmp_path / "c")
    assert (tmp_path / "c" / "notes.txt").read_text() == "mine"
    assert Sequences.open(tmp_path / "c").to_lists() == earlier.to_lists()
    assert _listing(tmp_path) == ["c"]


@pytest.mark.parametrize("kind", ["subdirectory", "directory named as a corpus file", "link"])
def test_anything_but_a_corpus_file_in_its_directory_is_foreign(tmp_path, kind):
    _small().save(tmp_path / "c")
    if kind == "subdirectory":
        (tmp_path / "c" / "runs").mkdir()
        (tmp_path / "c" / "runs" / "log").write_text("mine")
        name = "runs"
    elif kind == "link":  # a link named as a corpus file is not one the corpus wrote
        (tmp_path / "c" / "weights.npy").symlink_to(tmp_path / "c" / "codes.npy")
        name = "weights.npy"
    else:
        (tmp_path / "c" / "times.npy").mkdir()
        (tmp_path / "c" / "times.npy" / "log").write_text("mine")
        name = "times.npy"
    before = _listing(tmp_path / "c")
    with pytest.raises(ValueError, match=f"not a corpus's own \\('{name}'\\)"):
        Sequences.from_iterable([["x"]]).save(tmp_path / "c")
    assert _listing(tmp_path / "c") == before
    assert Sequences.open(tmp_path / "c").to_lists() == _small().to_lists()


def test_the_refusal_names_every_foreign_file_up_to_ten(tmp_path):
    _small().save(tmp_path / "c")
    for k in range(12):
        (tmp_path / "c" / f"note{k:02d}.txt").write_text("mine")
    with pytest.raises(ValueError) as refused:
        Sequences.from_iterable([["x"]]).save(tmp_path / "c")
    named = ", ".join(f"'note{k:02d}.txt'" for k in range(10))
    assert f"({named} and 2 more)" in str(refused.value)


def _during_the_build(monkeypatch, act):
    """Run ``act`` once the new corpus is written, just before it is moved into place."""
    real = _corpus_files.CorpusWriter.commit

    def commit(self, built_by):
        act()
        real(self, built_by)

    monkeypatch.setattr(_corpus_files.CorpusWriter, "commit", commit)


def test_a_directory_made_at_the_target_during_the_build_is_kept(tmp_path, monkeypatch):
    target = tmp_path / "c"

    def make_it():
        target.mkdir()
        (target / "notes.txt").write_text("theirs")

    _during_the_build(monkeypatch, make_it)
    with pytest.raises(ValueError, match=r"not a corpus's own \('notes.txt'\)"):
        _small().save(target)
    assert (target / "notes.txt").read_text() == "theirs"
    assert _listing(tmp_path) == ["c"]  # no temporary left beside it
    assert _listing(target) == ["notes.txt"]


def test_a_file_added_to_the_corpus_during_the_build_is_kept(tmp_path, monkeypatch):
    earlier = Sequences.from_iterable([["x", "y"]])
    earlier.save(tmp_path / "c")
    _during_the_build(monkeypatch, lambda: (tmp_path / "c" / "notes.txt").write_text("mine"))
    with pytest.raises(ValueError, match=r"not a corpus's own \('notes.txt'\)"):
        _small().save(tmp_path / "c")
    assert (tmp_path / "c" / "notes.txt").read_text() == "mine"
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"]]
    assert _listing(tmp_path) == ["c"]


def test_a_corpus_is_replaced_by_a_rebuild_leaving_only_the_new_files(tmp_path):
    # the earlier corpus has weights and users, the new one none: their files go too
    Sequences.from_events(
        {"u": [1, 1, 2], "i": ["x", "y", "x"], "w": [1.0, 2.0, 3.0]}, user="u", item="i",
        weight="w",
    ).save(tmp_path / "c")  # fmt: skip
    assert "weights.npy" in _listing(tmp_path / "c")
    _small().save(tmp_path / "c")
    assert _listing(tmp_path) == ["c"]
    assert _listing(tmp_path / "c") == [
        "codes.npy", "counts.npy", "header.json", "items.npy", "offsets.npy",
    ]  # fmt: skip
    assert Sequences.open(tmp_path / "c").to_lists() == _small().to_lists()


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (".", "it ends in '.' or '..'"),
        ("", "it ends in '.' or '..'"),
        ("..", "it ends in '.' or '..'"),
        ("elsewhere/..", "it ends in '.' or '..'"),
        ("cwd", "is the current directory or one above it"),
        ("parent", "is the current directory or one above it"),
        ("a link to the parent", "is the current directory or one above it"),
    ],
)
@pytest.mark.parametrize("cwd_holds", ["nothing", "a corpus"])
def test_the_current_directory_and_those_above_it_are_refused(tmp_path, monkeypatch, given,
                                                              reason, cwd_holds):  # fmt: skip
    work = tmp_path / "work"
    if cwd_holds == "a corpus":
        Sequences.from_iterable([["x", "y"]]).save(work)
    else:
        work.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "up").symlink_to(tmp_path)
    monkeypatch.chdir(work)
    path = {"cwd": str(work), "parent": str(tmp_path), "a link to the parent": "../up",
            "elsewhere/..": str(tmp_path / "elsewhere" / "..")}.get(given, given)  # fmt: skip
    before = (_listing(tmp_path), _listing(work))
    with pytest.raises(ValueError, match=f"^path {re.escape(repr(path))} ") as refused:
        _small().save(path)
    assert reason in str(refused.value) and "a directory of its own" in str(refused.value)
    assert (_listing(tmp_path), _listing(work)) == before
    if cwd_holds == "a corpus":
        assert Sequences.open(work).to_lists() == [["x", "y"]]


def test_a_failed_move_aside_leaves_no_temporary(tmp_path, monkeypatch):
    Sequences.from_iterable([["x", "y"]]).save(tmp_path / "c")
    real_rename = os.rename

    def rename(source, target):
        if str(target).endswith("corpus"):  # the earlier corpus moving aside
            raise OSError(16, "Device or resource busy")
        real_rename(source, target)

    monkeypatch.setattr(_corpus_files.os, "rename", rename)
    with pytest.raises(OSError, match="busy"):
        _small().save(tmp_path / "c")
    assert _listing(tmp_path) == ["c"]
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"]]


def test_build_corpus_refuses_a_corpus_holding_a_users_file(tmp_path):
    pytest.importorskip("duckdb")
    pytest.importorskip("pyarrow")
    from item2vec import build_corpus

    events = {"u": np.array([1, 1, 2]), "i": np.array(["x", "y", "x"])}
    build_corpus(events, tmp_path / "c", user="u", item="i")
    (tmp_path / "c" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"not a corpus's own \('notes.txt'\)"):
        build_corpus(events, tmp_path / "c", user="u", item="i")
    assert (tmp_path / "c" / "notes.txt").read_text() == "mine"
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"], ["x"]]
    assert _listing(tmp_path) == ["c"]


# --- 2. a new corpus is checked in full before it replaces anything --------------------


def test_a_build_whose_values_cannot_be_stored_keeps_the_earlier_corpus(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("duckdb")
    from item2vec import build_corpus

    good = pd.DataFrame({"u": [1, 1], "i": ["x", "y"], "w": [1.0, 2.0]})
    build_corpus(good, tmp_path / "c", user="u", item="i", weight="w")
    before = {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()}
    # finite in float64, beyond float32's largest value (3.4e38): stored, it would be inf
    bad = pd.DataFrame({"u": [1, 1, 2], "i": ["x", "y", "x"], "w": [1.0, 1e39, 2.0]})
    with (
        warnings.catch_warnings(),  # NumPy's overflow warning as the weights are cast
        pytest.raises(
            ValueError,
            match=r"would not open, so it was not written .*: weights "
            r"must be finite .*stored as float32",
        ),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)
        build_corpus(bad, tmp_path / "c", user="u", item="i", weight="w")
    assert {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()} == before
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"]]
    assert _listing(tmp_path) == ["c"]  # the new corpus's temporary folder is gone


def test_a_new_corpus_is_opened_before_it_moves_into_place(tmp_path, monkeypatch):
    # the check runs on the written files: break one after it is written
    earlier = Sequences.from_iterable([["x", "y"]])
    earlier.save(tmp_path / "c")
    real = _corpus_files.NpyAppender.close

    def close(self):
        real(self)
        if self._handle.name.endswith("codes.npy"):
            codes = np.load(self._handle.name)
            np.save(self._handle.name, codes + 1000)  # codes beyond the vocabulary

    monkeypatch.setattr(_corpus_files.NpyAppender, "close", close)
    with pytest.raises(ValueError, match=r"would not open, so it was not written .*: codes must"):
        _small().save(tmp_path / "c")
    assert Sequences.open(tmp_path / "c").to_lists() == [["x", "y"]]
    assert _listing(tmp_path) == ["c"]


# --- 3. an opened corpus answers from the arrays it opened -----------------------------


def _counted(lists):
    counts = {}
    for sequence in lists:
        for item in sequence:
            counts[item] = counts.get(item, 0) + 1
    return counts


def test_an_opened_corpus_keeps_its_values_when_the_directory_is_rebuilt(tmp_path):
    first = [["a", "b", "a"], ["c", "a"]]
    Sequences.from_iterable(first).save(tmp_path / "c")
    opened = Sequences.open(tmp_path / "c")
    Sequences.from_iterable([["z"]] * 5).save(tmp_path / "c")  # new files, same names
    assert opened.to_lists() == first
    pruned = opened.pruned(min_count=2)  # counts the codes again, in blocks
    assert pruned.to_lists() == [["a", "a"], ["a"]]
    assert dict(zip(pruned.vocabulary.items.tolist(), pruned.vocabulary.counts.tolist(),
                    strict=True)) == {"a": 3}  # fmt: skip
    recounted = opened.pruned()
    assert dict(zip(recounted.vocabulary.items.tolist(), recounted.vocabulary.counts.tolist(),
                    strict=True)) == _counted(first)  # fmt: skip
    # and a corpus opened afterwards is the new one
    assert Sequences.open(tmp_path / "c").to_lists() == [["z"]] * 5


def test_an_opened_corpus_keeps_working_when_its_directory_is_moved(tmp_path):
    first = [["a", "b", "a"], ["c", "a"]]
    Sequences.from_iterable(first).save(tmp_path / "c")
    opened = Sequences.open(tmp_path / "c")
    os.rename(tmp_path / "c", tmp_path / "moved")
    assert opened.pruned(min_count=2).to_lists() == [["a", "a"], ["a"]]
    assert Sequences(opened.codes, opened.offsets, opened.vocabulary).to_lists() == first


@pytest.mark.parametrize(("start", "size", "overlap"), [(0, 7, 0), (3, 1000, 1), (1021, 5, 2)])
def test_blocks_of_a_mapped_array_cover_its_values_in_order(tmp_path, start, size, overlap):
    from item2vec.corpus import _blocks

    np.save(tmp_path / "v.npy", np.arange(3000, dtype=np.int32) * 7)
    values = np.asarray(np.load(tmp_path / "v.npy", mmap_mode="r"))[start:]
    got = list(_blocks(values, size=size, overlap=overlap))
    step = size - overlap
    expected = np.arange(start, 3000, dtype=np.int32) * 7  # the definition, from arange
    assert len(got) == -(-(expected.shape[0] - overlap) // step)
    for j, block in enumerate(got):
        assert block.tolist() == expected[j * step : j * step + size].tolist()


def test_a_copy_on_write_mapping_keeps_its_changes_through_a_scan(tmp_path):
    # releasing private pages would drop the changes: only read-only mappings are released
    from item2vec.corpus import _blocks

    np.save(tmp_path / "v.npy", np.zeros(5000, dtype=np.int64))
    values = np.load(tmp_path / "v.npy", mmap_mode="c")
    values[[0, 4999]] = 9
    blocks = list(_blocks(values, size=1000))
    assert np.concatenate(blocks).sum() == 18
    assert values[0] == 9 and values[4999] == 9


def _resident_kb(file):
    """Resident kB of this process's mappings of ``file`` (Linux's /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                inside = line.rstrip().endswith(str(file))
            elif inside and head and head[0] == "Rss:":
                total += int(head[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="Linux's /proc")
def test_a_scan_leaves_the_mapping_not_resident(tmp_path):
    from item2vec.corpus import count_codes

    codes = np.arange(2_000_000, dtype=np.int32) % 1000  # 8 MB
    np.save(tmp_path / "codes.npy", codes)
    mapped = np.load(tmp_path / "codes.npy", mmap_mode="r")
    assert _resident_kb(tmp_path / "codes.npy") < 64
    counts = count_codes(mapped, 1000)
    assert counts.tolist() == [2000] * 1000  # 2,000,000 codes cycling through 1000
    assert _resident_kb(tmp_path / "codes.npy") < 64  # a page or two, not 8 MB


# --- 4. corrupt corpora are refused at open; every id is kept exactly ------------------


def _saved(tmp_path, lists):
    Sequences.from_iterable(lists).save(tmp_path / "c")
    return tmp_path / "c"


@pytest.mark.parametrize(
    ("lists", "stored", "shown"),
    [
        ([["a", "b"]], lambda p: np.save(p / "items.npy", np.array(["b", "b"])), "'b'"),
        ([[7, 9]], lambda p: np.save(p / "items.npy", np.array([9, 9])), "9"),
        ([[2**70, 1]], lambda p: (p / "items.json").write_text(f"[{2**70}, {2**70}]"),
         str(2**70)),
    ],
    ids=["str", "int", "json"],
)  # fmt: skip
def test_repeated_item_ids_are_refused_at_open_naming_the_id(tmp_path, lists, stored, shown):
    path = _saved(tmp_path, lists)
    stored(path)
    with pytest.raises(ValueError, match=f"c is corrupt: item id {shown} appears more than once"):
        Sequences.open(path)


def test_str_and_int_ids_of_equal_text_are_not_repeats(tmp_path):
    path = _saved(tmp_path, [[2**70, "1", 1]])  # as dictionary keys: three ids
    assert Sequences.open(path).to_lists() == [[2**70, "1", 1]]


def test_a_vocabulary_with_a_repeated_id_is_not_saved(tmp_path):
    from item2vec import Vocabulary

    Sequences.from_iterable([["x"]]).save(tmp_path / "c")
    twice = Sequences(np.array([0, 1], np.int32), np.array([0, 2]), Vocabulary(["a", "a"], [1, 1]))
    with pytest.raises(ValueError, match=r"not written .*item id 'a' appears more than once"):
        twice.save(tmp_path / "c")
    assert Sequences.open(tmp_path / "c").to_lists() == [["x"]]


@pytest.mark.parametrize("where", ["items", "users"])
def test_str_ids_ending_in_nul_are_kept_exactly(tmp_path, where):
    # NumPy's fixed-width str drops trailing NULs: "a" and "a\x00" would become one id
    ids = ["a", "a\x00", "b\x00\x00", "\x00"]
    if where == "items":
        corpus = Sequences.from_iterable([ids, ["a"]])
    else:
        corpus = Sequences.from_events({"u": ids, "i": [1, 2, 3, 4]}, user="u", item="i")
    corpus.save(tmp_path / "c")
    opened = Sequences.open(tmp_path / "c")
    if where == "items":
        assert opened.to_lists() == [ids, ["a"]]
        assert opened.vocabulary.items.tolist() == ["a", "a\x00", "b\x00\x00", "\x00"]
    else:  # users by id ascending, by code point
        assert opened.users.tolist() == ["\x00", "a", "a\x00", "b\x00\x00"]


def _deep(depth=100_000):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("file", ["header.json", "items.json"])
def test_json_nested_too_deeply_is_a_corrupt_corpus(tmp_path, file):
    path = _saved(tmp_path, [[2**70, 1]])  # ids beyond int64: items.json
    (path / file).write_text(_deep())
    with pytest.raises(ValueError, match=f"c is corrupt: {file} is nested too deeply to read"):
        Sequences.open(path)


def test_saving_over_a_deeply_nested_header_is_refused_cleanly(tmp_path):
    path = _saved(tmp_path, [["a"]])
    (path / "header.json").write_text(_deep())
    with pytest.raises(ValueError, match="does not hold an item2vec corpus: refusing"):
        Sequences.from_iterable([["b"]]).save(path)
    assert (path / "header.json").read_text() == _deep()


NAMES_OTHER_FILES = "its header names arrays a corpus does not have: "


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arrays": ["codes", "offsets", "counts", "../elsewhere"]},
         NAMES_OTHER_FILES + r"\['../elsewhere'\]"),
        ({"arrays": "codes"}, "its header lacks the list of its arrays and ids"),
        ({"ids": {"items": "npy", "secrets": "npy"}},
         NAMES_OTHER_FILES + r"\[\"secrets: 'npy'\"\]"),
        ({"ids": {"items": "pickle"}}, NAMES_OTHER_FILES + r"\[\"items: 'pickle'\"\]"),
    ],
    ids=["path elsewhere", "a string", "unknown ids", "unknown kind"],
)  # fmt: skip
def test_a_header_naming_files_a_corpus_does_not_have_is_refused(tmp_path, change, message):
    path = _saved(tmp_path, [["a"]])
    header = json.loads((path / "header.json").read_text())
    header.update(change)
    (path / "header.json").write_text(json.dumps(header))
    with pytest.raises(ValueError, match=f"c is corrupt: {message}$"):
        Sequences.open(path)


@pytest.mark.parametrize("value", [[1], 1.5, None, True, {"a": 1}])
def test_json_ids_that_are_neither_str_nor_int_are_refused(tmp_path, value):
    path = _saved(tmp_path, [[2**70, 1]])
    (path / "items.json").write_text(json.dumps([2**70, value]))
    with pytest.raises(ValueError, match=f"items.json holds {re.escape(repr(value))}, an id"):
        Sequences.open(path)

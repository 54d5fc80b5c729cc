"""Vocabulary and Sequences: encoding, ordering, pruning, subsets."""

import itertools

import numpy as np
import pytest

from item2vec import Sequences, Vocabulary


def test_vocabulary_orders_by_count_then_first_appearance():
    corpus = Sequences.from_iterable([["b", "a"], ["c", "a", "b", "d"]])
    assert corpus.vocabulary.items.tolist() == ["b", "a", "c", "d"]
    assert corpus.vocabulary.counts.tolist() == [2, 2, 1, 1]
    assert corpus.to_lists() == [["b", "a"], ["c", "a", "b", "d"]]


@pytest.mark.parametrize(
    "make",
    [
        lambda seqs: seqs,
        lambda seqs: (list(s) for s in seqs),
        lambda seqs: [tuple(s) for s in seqs],
        lambda seqs: [np.asarray(s) for s in seqs],
    ],
    ids=["lists", "generator", "tuples", "arrays"],
)
def test_every_input_form_encodes_the_same(make):
    seqs = [[3, 1, 3], [2], [], [1, 5, 5, 5]]
    corpus = Sequences.from_iterable(make(seqs))
    assert [list(map(int, s)) for s in corpus.to_lists()] == seqs
    assert corpus.vocabulary.items.tolist() == [5, 3, 1, 2]
    assert corpus.codes.dtype == np.int32 and corpus.offsets.dtype == np.int64


def test_ints_and_strings_are_distinct_items():
    corpus = Sequences.from_iterable([[1, "1", 1]])
    assert len(corpus.vocabulary) == 2
    assert corpus.vocabulary.code(1) != corpus.vocabulary.code("1")


def test_string_sequence_is_rejected():
    with pytest.raises(TypeError, match="sequence 1 is a string"):
        Sequences.from_iterable([["a", "b"], "abc"])


def test_non_sequence_is_rejected():
    with pytest.raises(TypeError, match="sequence 0 is not a sequence"):
        Sequences.from_iterable([5, [1, 2]])


def test_unhashable_item_is_rejected():
    with pytest.raises(TypeError, match="unhashable"):
        Sequences.from_iterable([[[1, 2], 3]])


@pytest.mark.parametrize("bad", [None, float("nan")])
def test_none_or_nan_item_is_rejected(bad):
    with pytest.raises(ValueError, match="None or NaN"):
        Sequences.from_iterable([["a", bad]])


def test_pruning_drops_rare_items_and_remaps_codes():
    corpus = Sequences.from_iterable([["a", "b", "a"], ["c", "a", "b"], ["d"]])
    pruned = corpus.pruned(min_count=2)
    assert pruned.vocabulary.items.tolist() == ["a", "b"]
    assert pruned.to_lists() == [["a", "b", "a"], ["a", "b"], []]
    top1 = corpus.pruned(max_vocab_size=1)
    assert top1.to_lists() == [["a", "a"], ["a"], []]


def test_subset_keeps_the_chosen_sequences_in_order():
    corpus = Sequences.from_iterable([["a"], ["b", "c"], ["d", "e", "f"]])
    assert corpus.subset([2, 0]).to_lists() == [["d", "e", "f"], ["a"]]
    assert corpus.subset([-1]).to_lists() == [["d", "e", "f"]]
    with pytest.raises(IndexError):
        corpus.subset([3])


def test_sequences_validate_their_arrays():
    vocab = Vocabulary(["a", "b"], [1, 1])
    with pytest.raises(ValueError, match="codes must lie"):
        Sequences(np.array([0, 2]), np.array([0, 2]), vocab)
    with pytest.raises(ValueError, match="non-decreasing"):
        Sequences(np.array([0, 1]), np.array([0, 2, 1, 2]), vocab)
    with pytest.raises(ValueError, match="end at len"):
        Sequences(np.array([0, 1]), np.array([0, 1]), vocab)
    with pytest.raises(ValueError, match="weights must be finite"):
        Sequences(np.array([0, 1]), np.array([0, 2]), vocab, weights=[1.0, np.nan])
    with pytest.raises(TypeError, match="integer array"):
        Sequences(np.array([0.0, 1.0]), np.array([0, 2]), vocab)


def test_memory_mapped_sequences_stay_read_only(tmp_path):
    corpus = Sequences.from_iterable([[1, 2, 3], [3, 2]])
    np.save(tmp_path / "codes.npy", corpus.codes)
    np.save(tmp_path / "offsets.npy", corpus.offsets)
    codes = np.load(tmp_path / "codes.npy", mmap_mode="r")
    offsets = np.load(tmp_path / "offsets.npy", mmap_mode="r")
    mapped = Sequences(codes, offsets, corpus.vocabulary)
    assert isinstance(mapped.codes, np.memmap) or not mapped.codes.flags.writeable
    assert mapped.to_lists() == corpus.to_lists()


def test_noise_distribution_follows_the_exponent():
    vocab = Vocabulary(["a", "b"], [4, 1])
    np.testing.assert_allclose(vocab.noise_distribution(1.0), [0.8, 0.2])
    np.testing.assert_allclose(vocab.noise_distribution(0.0), [0.5, 0.5])
    np.testing.assert_allclose(vocab.noise_distribution(-1.0), [0.2, 0.8])


def test_keep_probabilities_follow_the_word2vec_formula():
    vocab = Vocabulary(["a", "b"], [999, 1])
    keep = vocab.keep_probabilities(1e-3)
    t = 1e-3 * 1000
    assert keep[0] == pytest.approx((np.sqrt(999 / t) + 1) * t / 999, rel=1e-6)
    assert keep[1] == 1.0
    assert vocab.keep_probabilities(0).size == 0


def test_unknown_item_raises_key_error_naming_it():
    vocab = Vocabulary(["a"], [1])
    with pytest.raises(KeyError, match="'zz'"):
        vocab.code("zz")
    assert vocab.codes_of(["a", "zz"], unknown="ignore").tolist() == [0, -1]


@pytest.mark.parametrize(("n", "size", "overlap"), [(10, 4, 1), (10, 4, 0), (9, 3, 2), (3, 4, 1)])
def test_blocks_cover_the_values_in_order_sharing_overlap_entries(n, size, overlap):
    from item2vec.corpus import _blocks

    values = np.arange(n)
    blocks = [block.tolist() for block in _blocks(values, size=size, overlap=overlap)]
    # by the definition: block j starts where block j - 1's last `overlap` entries start
    assert blocks[0][0] == 0 and blocks[-1][-1] == n - 1
    for before, after in itertools.pairwise(blocks):
        assert len(before) == size
        assert before[len(before) - overlap :] == after[:overlap]
        if len(after) > overlap:
            assert after[overlap] == before[-1] + 1
    assert sorted({v for block in blocks for v in block}) == list(range(n))

"""Numbers and promises the documentation makes, checked against their definitions."""

import numpy as np

from item2vec import Item2Vec, Sequences
from item2vec._kernels import core


def test_sigmoid_tables_are_within_the_documented_error():
    # README: largest error 2.4e-7 for sigma and 6.9e-7 for log sigma on [-8, 8]
    x = np.linspace(-8.0, 8.0, 40_001).astype(np.float32).astype(np.float64)
    got = np.array([core.sigmoid(float(v)) for v in x])
    exact_sigma = 1.0 / (1.0 + np.exp(-x))
    exact_log = -np.log1p(np.exp(-x))
    assert np.abs(got[:, 0] - exact_sigma).max() <= 2.5e-7
    assert np.abs(got[:, 1] - exact_log).max() <= 7e-7


def test_sigmoid_is_exact_outside_the_table():
    for v in (-30.0, -8.5, 8.5, 30.0):
        s, log_s = core.sigmoid(v)
        assert s == np.float32(1.0 / (1.0 + np.exp(-v)))
        assert log_s == np.float32(-np.log1p(np.exp(-v)))


def _memmapped_corpus(tmp_path, drop_rare):
    codes = np.array([0, 1, 0, 2, 1, 0] + ([3] if drop_rare else []), dtype=np.int32)
    offsets = np.array([0, 3, codes.shape[0]], dtype=np.int64)
    np.save(tmp_path / "codes.npy", codes)
    codes = np.load(tmp_path / "codes.npy", mmap_mode="r")
    items = ["a", "b", "c", "d"][: 4 if drop_rare else 3]
    counts = np.bincount(codes, minlength=len(items))
    from item2vec.vocab import Vocabulary

    return Sequences(codes, offsets, Vocabulary(items, counts))


def test_pruning_that_drops_nothing_shares_the_codes(tmp_path):
    corpus = _memmapped_corpus(tmp_path, drop_rare=False)
    pruned = corpus.pruned(min_count=1)
    assert np.shares_memory(pruned.codes, corpus.codes)
    assert pruned.to_lists() == corpus.to_lists()


def test_pruning_that_drops_an_item_recodes(tmp_path):
    corpus = _memmapped_corpus(tmp_path, drop_rare=True)
    pruned = corpus.pruned(min_count=2)
    assert not np.shares_memory(pruned.codes, corpus.codes)
    assert pruned.to_lists() == [["a", "b", "a"], ["b", "a"]]


def test_fit_trains_on_a_read_only_memory_mapped_corpus(tmp_path):
    corpus = _memmapped_corpus(tmp_path, drop_rare=False)
    assert not corpus.codes.flags.writeable
    model = Item2Vec(vector_size=8, sample=0, epochs=2, n_jobs=1, random_state=0).fit(corpus)
    assert model.items_.tolist() == ["a", "b", "c"]

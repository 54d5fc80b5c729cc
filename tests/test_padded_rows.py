"""Weight rows padded for the kernel: the same bits as unpadded rows, everywhere.

Training lays each weight row out as its ``dim`` floats followed by zeros up to
``row_stride(dim)`` (a multiple of 8 in the AVX2 build, where the arithmetic
then runs over whole 8-float blocks), and the model's vectors are a view of the
first ``dim`` columns. These tests hold the padded layout to the unpadded one:
every kernel build and mode trains the same bits with any padding, the padding
stays zero, and everything that reads the vectors (queries, the index, files,
updates) answers as it does for a C-contiguous copy.
"""

import numpy as np
import pytest
from test_kernel_builds import MODES, N_ITEMS, _corpus, _train

import item2vec
from item2vec import Item2Vec, ItemVectors, _core, _core_blas, _training
from item2vec.datasets import planted_sessions

BUILDS = {"baseline": _core, "blas": _core_blas}
if "avx2" in item2vec._kernels.available():
    from item2vec import _core_avx2

    BUILDS["avx2"] = _core_avx2


@pytest.mark.parametrize("build", list(BUILDS))
@pytest.mark.parametrize("mode", list(MODES))
# dims with a tail of every length below 8 floats, one whole block, and one past
# a cache line; padding to the next 8, to whole lines, and far beyond
@pytest.mark.parametrize("dim", [1, 7, 9, 20, 33])
def test_padded_rows_train_the_same_bits(build, mode, dim):
    core = BUILDS[build]
    want0, want1, want = _train(core, mode, dim, 5, epochs=2)
    assert sum(r[2] for r in want) > 0
    for stride in sorted({-(-dim // 8) * 8, -(-dim // 16) * 16, dim + 13}):
        got0, got1, got = _train(core, mode, dim, 5, epochs=2, stride=stride)
        assert got == want, stride
        np.testing.assert_array_equal(got0[:, :dim], want0)
        np.testing.assert_array_equal(got1[:, :dim], want1)
        # bitwise: -0.0 would compare equal to 0.0 above
        assert not got0[:, dim:].view(np.uint32).any() and not got1[:, dim:].view(np.uint32).any()


def test_setup_refuses_padding_that_is_not_zero_and_a_dim_beyond_the_row():
    codes, offsets, _, _ = _corpus()
    threshold, alias = _core.build_alias(np.full(N_ITEMS, 1.0 / N_ITEMS))
    keep = np.empty(0, np.float32)

    def setup(syn0, syn1, dim):
        return _core.TrainingSetup(
            syn0, syn1, codes, offsets, keep, threshold, alias, sg=True, cbow_mean=True,
            window=2, shrink_windows=True, negative=2, shared_negatives=False, dim=dim,
        )  # fmt: skip

    zeros = np.zeros((N_ITEMS, 16), np.float32)
    assert setup(zeros, zeros.copy(), 12).dim == 12
    assert setup(zeros, zeros.copy(), 12).stride == 16
    for where in ("input", "output"):
        dirty = zeros.copy()
        dirty[N_ITEMS - 1, 15] = 1e-30
        pair = (dirty, zeros.copy()) if where == "input" else (zeros.copy(), dirty)
        with pytest.raises(ValueError, match="padding columns"):
            setup(*pair, 12)
        setup(*pair, 16)  # the same entry inside the item's own floats is fine
    for bad in (0, 17, -1):
        with pytest.raises(ValueError, match="dim must be in"):
            setup(zeros, zeros.copy(), bad)


def test_row_stride_follows_the_kernel_build():
    floats = item2vec._kernels.core.ROW_FLOATS
    assert floats == (8 if item2vec._kernels.name == "avx2" else 1)
    for dim in (1, 7, 8, 9, 100, 300):
        stride = _training.row_stride(dim)
        assert stride % floats == 0 and dim <= stride < dim + floats
        rows = _training.padded_rows(5, dim)
        assert rows.shape == (5, dim) and rows.strides == (4 * stride, 4)
        assert rows.ctypes.data % 64 == 0 and not rows.any()
        assert _training.whole_rows(rows).shape == (5, stride)


def test_whole_rows_refuses_views_it_cannot_extend():
    big = np.zeros((6, 8), np.float32)
    with pytest.raises(ValueError, match="C-contiguous or made by padded_rows"):
        _training.whole_rows(big[:, ::2])
    # the last row's padding would lie past the owner's memory
    with pytest.raises(ValueError, match="C-contiguous or made by padded_rows"):
        _training.whole_rows(np.lib.stride_tricks.as_strided(big, (6, 4), (40, 4)))


def _data():
    return planted_sessions(n_sessions=400, n_items=60, n_clusters=4, random_state=2).sequences


@pytest.fixture
def unpadded(monkeypatch):
    """Train with C-contiguous rows (no padding) whatever the kernel build."""
    monkeypatch.setattr(_training, "row_stride", lambda dim: dim)


# 20 is padded in the AVX2 build (to 24), 24 is not: both paths of every reader
@pytest.mark.parametrize("dim", [20, 24])
@pytest.mark.parametrize("sg", [True, False])
def test_fit_and_update_give_the_vectors_of_unpadded_rows(dim, sg, monkeypatch):
    params = dict(vector_size=dim, sg=sg, epochs=3, n_jobs=1, random_state=4, min_count=2)
    data = _data()
    padded = Item2Vec(**params).fit(data[:300]).update(data[300:])
    assert padded.vectors_.strides[0] == 4 * _training.row_stride(dim)
    monkeypatch.setattr(_training, "row_stride", lambda d: d)
    plain = Item2Vec(**params).fit(data[:300]).update(data[300:])
    assert plain.vectors_.flags.c_contiguous
    np.testing.assert_array_equal(padded.items_, plain.items_)
    np.testing.assert_array_equal(padded.vectors_, plain.vectors_)
    np.testing.assert_array_equal(padded.output_vectors_, plain.output_vectors_)
    assert padded.loss_history_ == plain.loss_history_


def test_update_of_a_loaded_model_matches_the_model_in_memory(tmp_path):
    data = _data()
    model = Item2Vec(vector_size=20, epochs=2, n_jobs=1, random_state=3).fit(data[:300])
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.vectors_.flags.c_contiguous  # files hold the item's floats only
    np.testing.assert_array_equal(loaded.vectors_, model.vectors_)
    model.update(data[300:])
    loaded.update(data[300:])
    np.testing.assert_array_equal(loaded.vectors_, model.vectors_)
    np.testing.assert_array_equal(loaded.output_vectors_, model.output_vectors_)


def _padded_and_contiguous():
    """A model trained on padded rows (vector_size 20), and one holding a contiguous copy."""
    model = Item2Vec(vector_size=20, epochs=3, n_jobs=1, random_state=5).fit(_data())
    state = model.item_vectors_
    copy = ItemVectors(
        state.vocabulary, np.ascontiguousarray(state.vectors),
        np.ascontiguousarray(state.output_vectors),
    )  # fmt: skip
    other = Item2Vec(vector_size=20)
    other.item_vectors_ = copy
    return model, other


def _same(got, want):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_every_reader_answers_as_for_a_contiguous_copy(tmp_path):
    model, other = _padded_and_contiguous()
    copy = other.item_vectors_
    items = model.items_[:5].tolist()
    for similarity in ("input", "inout"):
        _same(model.similar_items(items, topn=7, similarity=similarity),
              other.similar_items(items, topn=7, similarity=similarity))  # fmt: skip
    for scoring in ("cosine", "output"):
        model.recommend_scoring = other.recommend_scoring = scoring
        _same(model.recommend(items[:3], topn=8), other.recommend(items[:3], topn=8))
    model.save(tmp_path / "a.npz")
    other.save(tmp_path / "b.npz")
    for path in ("a.npz", "b.npz"):
        loaded = Item2Vec.load(tmp_path / path)
        np.testing.assert_array_equal(loaded.vectors_, copy.vectors)
        np.testing.assert_array_equal(loaded.output_vectors_, copy.output_vectors)
    model.save_word2vec_format(tmp_path / "a.txt")
    other.save_word2vec_format(tmp_path / "b.txt")
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()


def test_the_index_answers_as_for_a_contiguous_copy():
    pytest.importorskip("faiss", reason="faiss is not installed (pip install 'item2vec[ann]')")
    model, other = _padded_and_contiguous()
    items = model.items_[:5].tolist()
    model.build_index(structure="hnsw")
    other.build_index(structure="hnsw")
    assert model.most_similar(items[0], topn=6) == other.most_similar(items[0], topn=6)
    _same(model.recommend(items[:3], topn=8), other.recommend(items[:3], topn=8))

"""The compiled kernels against NumPy references of the SGNS formulas."""

import numpy as np
import pytest

from item2vec import _core


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _fixed_noise(n_items, item):
    """An alias table whose every draw is ``item``."""
    threshold = np.zeros(n_items, dtype=np.uint32)
    alias = np.full(n_items, item, dtype=np.int32)
    return threshold, alias


def _targets(centre, noise, negative):
    return [(centre, 1.0)] + [(noise, 0.0)] * negative * (noise != centre)


def _reference_skipgram(syn0, syn1, seq, window, negative, noise, alpha):
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    for i, centre in enumerate(seq):
        for j in range(max(0, i - window), min(len(seq), i + window + 1)):
            if j == i:
                continue
            x = syn0[seq[j]].copy()
            neu1e = np.zeros_like(x)
            for target, label in _targets(centre, noise, negative):
                g = alpha * (label - _sigmoid(x @ syn1[target]))
                neu1e += g * syn1[target]
                syn1[target] += g * x
            syn0[seq[j]] += neu1e
    return syn0, syn1


def _reference_cbow(syn0, syn1, seq, window, negative, noise, alpha, mean):
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    for i, centre in enumerate(seq):
        context = [seq[j] for j in range(max(0, i - window), min(len(seq), i + window + 1))]
        context.pop(i - max(0, i - window))
        if not context:
            continue
        h = syn0[context].sum(axis=0)
        if mean:
            h /= len(context)
        neu1e = np.zeros_like(h)
        for target, label in _targets(centre, noise, negative):
            g = alpha * (label - _sigmoid(h @ syn1[target]))
            neu1e += g * syn1[target]
            syn1[target] += g * h
        for c in context:
            syn0[c] += neu1e
    return syn0, syn1


def _train(syn0, syn1, seq, window, negative, noise, alpha, sg, cbow_mean=True):
    threshold, alias = _fixed_noise(syn0.shape[0], noise)
    codes = np.asarray(seq, dtype=np.int32)
    offsets = np.array([0, len(seq)], dtype=np.int64)
    return _core.train_chunk(
        syn0, syn1, codes, offsets, 0, 1, np.empty(0, np.float32), threshold, alias,
        sg, cbow_mean, window, False, negative, alpha, alpha, 123,
    )  # fmt: skip


@pytest.mark.parametrize("seq", [[0, 1], [0, 1, 2, 1], [3, 0, 2, 2, 1]])
@pytest.mark.parametrize("mode", ["skipgram", "cbow_mean", "cbow_sum"])
def test_update_matches_numpy_reference(seq, mode):
    rng = np.random.default_rng(0)
    syn0 = rng.uniform(-0.5, 0.5, size=(4, 8)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, size=(4, 8)).astype(np.float32)
    window, negative, noise, alpha = 2, 3, 2, 0.05
    if mode == "skipgram":
        expected = _reference_skipgram(syn0, syn1, seq, window, negative, noise, alpha)
    else:
        expected = _reference_cbow(
            syn0, syn1, seq, window, negative, noise, alpha, mean=mode == "cbow_mean"
        )
    raw, kept, events, loss = _train(
        syn0, syn1, seq, window, negative, noise, alpha, sg=mode == "skipgram",
        cbow_mean=mode == "cbow_mean",
    )  # fmt: skip
    assert raw == kept == len(seq)
    assert events > 0 and np.isfinite(loss) and loss > 0
    np.testing.assert_allclose(syn0, expected[0], atol=1e-6)
    np.testing.assert_allclose(syn1, expected[1], atol=1e-6)


def test_skipgram_loss_is_sum_of_pair_losses():
    rng = np.random.default_rng(1)
    syn0 = rng.uniform(-0.5, 0.5, size=(3, 5)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, size=(3, 5)).astype(np.float32)
    # one pair: context 1 predicts centre 0 against noise 2, with a tiny rate
    x, pos, neg = syn0[1].astype(float), syn1[0].astype(float), syn1[2].astype(float)
    expected = -np.log(_sigmoid(x @ pos)) - np.log(_sigmoid(-(x @ neg)))
    _, _, events, loss = _train(syn0, syn1, [0, 1], 1, 1, 2, 1e-9, sg=True)
    # two pairs are trained ((0 <- 1) then (1 <- 0)); recompute the second one
    x2, pos2 = syn0[0].astype(float), syn1[1].astype(float)
    expected += -np.log(_sigmoid(x2 @ pos2)) - np.log(_sigmoid(-(x2 @ neg)))
    assert events == 2
    assert loss == pytest.approx(expected, rel=1e-5)


def test_sigmoid_table_is_accurate_inside_and_outside_its_range():
    for x in np.concatenate([np.linspace(-12, 12, 2001), [-60.0, 60.0]]):
        s, log_s = _core.sigmoid(x)
        assert s == pytest.approx(_sigmoid(x), abs=1e-6)
        assert log_s == pytest.approx(-np.logaddexp(0, -x), abs=1e-5)


def test_alias_sampler_follows_the_distribution():
    prob = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0])
    threshold, alias = _core.build_alias(prob)
    draws = _core.sample_noise(threshold, alias, 400_000, 9)
    freq = np.bincount(draws, minlength=prob.size) / draws.size
    np.testing.assert_allclose(freq, prob, atol=0.005)
    assert freq[-1] == 0


def test_kernel_rejects_codes_outside_the_vocabulary():
    syn0 = np.zeros((3, 4), np.float32)
    threshold, alias = _fixed_noise(3, 0)
    with pytest.raises(ValueError, match="codes must lie"):
        _core.train_chunk(
            syn0, syn0.copy(), np.array([0, 5], np.int32), np.array([0, 2], np.int64), 0, 1,
            np.empty(0, np.float32), threshold, alias, True, True, 2, True, 1, 0.1, 0.1, 0,
        )  # fmt: skip


def test_kernel_rejects_decreasing_offsets():
    syn0 = np.zeros((3, 4), np.float32)
    threshold, alias = _fixed_noise(3, 0)
    with pytest.raises(ValueError, match="offsets"):
        _core.train_chunk(
            syn0, syn0.copy(), np.array([0, 1], np.int32), np.array([0, 2, 1], np.int64), 0, 2,
            np.empty(0, np.float32), threshold, alias, True, True, 2, True, 1, 0.1, 0.1, 0,
        )  # fmt: skip


def test_kernel_trains_read_only_corpus_arrays():
    syn0 = np.random.default_rng(0).uniform(-0.1, 0.1, (3, 4)).astype(np.float32)
    before = syn0.copy()
    codes = np.array([0, 1, 2, 1], np.int32)
    offsets = np.array([0, 4], np.int64)
    codes.flags.writeable = False
    offsets.flags.writeable = False
    threshold, alias = _fixed_noise(3, 2)
    _core.train_chunk(
        syn0, np.zeros_like(syn0), codes, offsets, 0, 1, np.empty(0, np.float32), threshold,
        alias, True, True, 2, True, 2, 0.1, 0.1, 0,
    )  # fmt: skip
    assert not np.array_equal(syn0, before)

"""Kernel details against exact expectations: weighted CBOW, session contexts, the stop
flag and the NaN guard of the top-k scan. Every test runs on each kernel build this CPU
can load."""

import numpy as np
import pytest

from conftest import train_once
from item2vec import _kernels

BUILDS = _kernels.available()


@pytest.fixture(params=sorted(BUILDS))
def core(request):
    return BUILDS[request.param]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _fixed_noise(n_items, item):
    """An alias table whose every draw is ``item``."""
    return np.zeros(n_items, dtype=np.uint32), np.full(n_items, item, dtype=np.int32)


def _predict(syn1, hidden, target, noise, alpha):
    """One SGNS prediction of ``target`` from ``hidden`` (float64, rows scored before any
    update); updates ``syn1`` in place and returns the input-side gradient and the loss."""
    rows = [target] + [u for u in noise if u != target]
    labels = np.array([1.0] + [0.0] * (len(rows) - 1))
    dots = np.array([hidden @ syn1[row] for row in rows])
    grads = alpha * (labels - _sigmoid(dots))
    loss = -np.log(_sigmoid(np.where(labels == 1.0, dots, -dots))).sum()
    neu1e = sum(g * syn1[row] for g, row in zip(grads, rows, strict=True))
    for g, row in zip(grads, rows, strict=True):
        syn1[row] += g * hidden  # a row drawn twice gets both gradients
    return neu1e, loss


def _weighted_cbow_reference(syn0, syn1, seq, weights, noise, alpha, mean):
    """Weighted CBOW with window 1: hidden = sum of w_c * syn0[c] (divided by sum of w_c
    for the mean), learning rate alpha * w_centre, and context c gets w_c * neu1e."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    total_loss = 0.0
    for i, centre in enumerate(seq):
        ctx = [j for j in (i - 1, i + 1) if 0 <= j < len(seq)]
        w = np.array([weights[j] for j in ctx])
        hidden = (w[:, None] * syn0[[seq[j] for j in ctx]]).sum(axis=0)
        if mean:
            hidden /= w.sum()
        neu1e, loss = _predict(syn1, hidden, centre, noise, alpha * weights[i])
        total_loss += loss
        for j, wj in zip(ctx, w, strict=True):
            syn0[seq[j]] += wj * neu1e
    return syn0, syn1, total_loss


@pytest.mark.parametrize("cbow_mean", [True, False], ids=["mean", "sum"])
def test_weighted_cbow_matches_numpy_reference(core, cbow_mean):
    # item 3 is only ever noise, so every draw counts (negative 2: drawn twice, both apply)
    seq, weights, alpha = [0, 1, 2], [0.5, 2.0, 1.5], 0.2
    rng = np.random.default_rng(5)
    syn0 = rng.normal(0, 0.5, (4, 6)).astype(np.float32)
    syn1 = rng.normal(0, 0.5, (4, 6)).astype(np.float32)
    want0, want1, want_loss = _weighted_cbow_reference(
        syn0, syn1, seq, weights, [3, 3], alpha, cbow_mean
    )
    threshold, alias = _fixed_noise(4, 3)
    raw, kept, events, loss = train_once(
        core,
        syn0, syn1, np.array(seq, np.int32), np.array([0, 3], np.int64), 0, 1,
        np.empty(0, np.float32), threshold, alias, False, cbow_mean, 1, False, 2, False,
        alpha, alpha, 7, weights=np.array(weights, np.float32),
    )  # fmt: skip
    assert (raw, kept, events) == (3, 3, 3)
    np.testing.assert_allclose(syn0, want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(syn1, want1, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(want_loss, rel=1e-5)


def _skipgram_all_others_reference(syn0, syn1, seq, noise, alpha):
    """Skip-gram where every other position, in order, is a context of each centre."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    for i, centre in enumerate(seq):
        for j in range(len(seq)):
            if j != i:
                neu1e, _ = _predict(syn1, syn0[seq[j]].copy(), centre, noise, alpha)
                syn0[seq[j]] += neu1e
    return syn0, syn1


# 3 == n - 1 is the boundary: no sampling yet, every other position exactly once
@pytest.mark.parametrize("session_contexts", [3, 4, 50])
def test_session_contexts_cover_every_other_position_up_to_the_limit(core, session_contexts):
    seq, alpha = [0, 1, 2, 3], 0.3
    rng = np.random.default_rng(11)
    syn0 = rng.normal(0, 0.5, (5, 4)).astype(np.float32)
    syn1 = rng.normal(0, 0.5, (5, 4)).astype(np.float32)
    want0, want1 = _skipgram_all_others_reference(syn0, syn1, seq, [4], alpha)
    threshold, alias = _fixed_noise(5, 4)
    _, _, events, _ = train_once(
        core,
        syn0, syn1, np.array(seq, np.int32), np.array([0, 4], np.int64), 0, 1,
        np.empty(0, np.float32), threshold, alias, True, False, 1, False, 1, False,
        alpha, alpha, 3, session_contexts=session_contexts,
    )  # fmt: skip
    assert events == 4 * 3
    np.testing.assert_allclose(syn0, want0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(syn1, want1, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("session_contexts", [1, 2, 50])
def test_past_session_contexts_are_the_earlier_positions(core, session_contexts):
    # sequences 0..5: with past_only, centre i predicts from positions < i only
    # (all of them up to the limit, else that many drawn among them)
    seq, alpha = [0, 1, 2, 3, 4, 5], 0.5
    n = len(seq)
    syn0 = np.eye(n, dtype=np.float32)  # one-hot inputs: syn1[c] records where from
    syn1 = np.zeros((n, n), np.float32)
    threshold, alias = _fixed_noise(n, 0)
    _, _, events, _ = train_once(
        core,
        syn0, syn1, np.array(seq, np.int32), np.array([0, n], np.int64), 0, 1,
        np.empty(0, np.float32), threshold, alias, True, False, 1, False, 0, False,
        alpha, alpha, 5, session_contexts=session_contexts, past_only=True,
    )  # fmt: skip
    assert events == sum(min(i, session_contexts) for i in range(n))
    for centre in range(n):
        sources = set(np.flatnonzero(syn1[centre]).tolist())
        assert sources <= set(range(centre))  # never the centre or a later item
        if centre <= session_contexts:
            assert sources == set(range(centre))


def test_sampled_session_context_is_never_the_centre_and_reaches_every_other(core):
    # Triples of distinct items, one sampled context per centre, no noise items. Input
    # vector of item 3t + p is the one-hot e_p, and every output row starts at zero and
    # is a target once, so the input side never changes (its gradient is the old output
    # row, 0) and the output row of a centre ends as alpha * (1 - sigma(0)) * e_p with p
    # the position of its context.
    n_triples, alpha = 200, 0.5
    n_items = 3 * n_triples
    syn0 = np.tile(np.eye(3, dtype=np.float32), (n_triples, 1))
    syn1 = np.zeros((n_items, 3), np.float32)
    threshold, alias = _fixed_noise(n_items, 0)
    train_once(
        core,
        syn0, syn1, np.arange(n_items, dtype=np.int32), np.arange(0, n_items + 1, 3),
        0, n_triples, np.empty(0, np.float32), threshold, alias, True, False, 1, False, 0,
        False, alpha, alpha, 2024, session_contexts=1,
    )  # fmt: skip
    np.testing.assert_array_equal(syn0, np.tile(np.eye(3, dtype=np.float32), (n_triples, 1)))
    rows = syn1.reshape(n_triples, 3, 3)  # triple, centre position, context position
    assert np.all((rows == 0) | (rows == np.float32(alpha * 0.5)))
    assert np.all(np.count_nonzero(rows, axis=2) == 1)  # exactly one context each
    drawn = rows.argmax(axis=2)
    for centre in range(3):
        others = sorted({0, 1, 2} - {centre})
        assert sorted(set(drawn[:, centre].tolist())) == others


def test_raised_stop_flag_trains_nothing(core):
    rng = np.random.default_rng(2)
    syn0 = rng.normal(0, 0.5, (6, 4)).astype(np.float32)
    syn1 = rng.normal(0, 0.5, (6, 4)).astype(np.float32)
    before = syn0.copy(), syn1.copy()
    threshold, alias = _fixed_noise(6, 5)
    args = (
        syn0, syn1, np.array([0, 1, 2, 3, 4, 0, 2], np.int32), np.array([0, 3, 7], np.int64),
        0, 2, np.empty(0, np.float32), threshold, alias, True, False, 2, False, 2, False,
        0.1, 0.1, 9,
    )  # fmt: skip
    _, kept, events, loss = train_once(core, *args, stop=np.ones(1, np.intc))
    assert (kept, events, loss) == (0, 0, 0.0)
    np.testing.assert_array_equal(syn0, before[0])
    np.testing.assert_array_equal(syn1, before[1])
    # the same call with the flag down does train: window 2 gives 3 * 2 pairs in the
    # first sequence and 2 + 3 + 3 + 2 in the second
    _, kept, events, _ = train_once(core, *args, stop=np.zeros(1, np.intc))
    assert (kept, events) == (7, 6 + 10)
    assert not np.array_equal(syn0, before[0])


def test_nan_in_a_block_hides_no_candidate(core):
    # A 16-wide block is first screened as a whole; a NaN in any lane must not hide a
    # score above the running best, wherever the two sit. NaN itself never enters.
    for lane in range(16):
        for nan_lane in range(16):
            if nan_lane == lane:
                continue
            scores = np.zeros((1, 16), np.float32)
            scores[0, lane] = 5.0
            scores[0, nan_lane] = np.nan
            best = np.ones((1, 1), np.float32)
            best_idx = np.full((1, 1), -1, np.int64)
            core.topk_merge(scores, 0, best, best_idx)
            assert (best[0, 0], best_idx[0, 0]) == (5.0, lane), (lane, nan_lane)

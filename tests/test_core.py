"""The compiled kernels against NumPy references of the SGNS formulas."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import train_once
from item2vec import _core


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _fixed_noise(n_items, item):
    """An alias table whose every draw is ``item``."""
    threshold = np.zeros(n_items, dtype=np.uint32)
    alias = np.full(n_items, item, dtype=np.int32)
    return threshold, alias


def _sgns_step(syn0, syn1, inputs, centre, noise, alpha, mean=False):
    """One prediction of ``centre`` from the sum (or mean) of the ``inputs`` rows;
    returns its loss, -log sigma(x . centre) - sum of log sigma(-x . noise)."""
    x = syn0[inputs].sum(axis=0) / (len(inputs) if mean else 1)
    # every output row is scored before any is updated; a noise item drawn
    # twice gets both gradients (word2vec's sequential order when rows differ)
    pairs = [(centre, 1.0)] + [(u, 0.0) for u in noise if u != centre]
    dots = [x @ syn1[target] for target, _ in pairs]
    labels = [label for _, label in pairs]
    loss = -sum(np.log(_sigmoid(f if y else -f)) for f, y in zip(dots, labels, strict=True))
    grads = [alpha * (label - _sigmoid(f)) for f, (_, label) in zip(dots, pairs, strict=True)]
    neu1e = sum(g * syn1[target] for g, (target, _) in zip(grads, pairs, strict=True))
    for g, (target, _) in zip(grads, pairs, strict=True):
        syn1[target] += g * x
    for c in inputs:
        syn0[c] += neu1e
    return loss


def _reference(syn0, syn1, seq, window, negative, draws, alpha, mode, past=False):
    """word2vec's updates in NumPy (float64), consuming pre-drawn noise items in order;
    with ``past`` only the window's items before the centre are its contexts.

    Returns the trained matrices, the number of predictions and their summed loss."""
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    draws = iter(draws.tolist())
    losses = []
    for i, centre in enumerate(seq):
        end = i if past else min(len(seq), i + window + 1)
        context = [seq[j] for j in range(max(0, i - window), end) if j != i]
        if mode.startswith("cbow"):
            if context:
                noise = [next(draws) for _ in range(negative)]
                losses.append(
                    _sgns_step(syn0, syn1, context, centre, noise, alpha, mode == "cbow_mean")
                )
            continue
        if mode == "shared" and context:  # no prediction, no noise drawn
            noise = [next(draws) for _ in range(negative)]
        for c in context:
            if mode == "pair":
                noise = [next(draws) for _ in range(negative)]
            losses.append(_sgns_step(syn0, syn1, [c], centre, noise, alpha))
    return syn0, syn1, len(losses), sum(losses)


def _train(syn0, syn1, seq, window, negative, alpha, mode, noise_table, seed=123, past=False):
    threshold, alias = noise_table
    codes = np.asarray(seq, dtype=np.int32)
    offsets = np.array([0, len(seq)], dtype=np.int64)
    return train_once(
        _core,
        syn0, syn1, codes, offsets, 0, 1, np.empty(0, np.float32), threshold, alias,
        not mode.startswith("cbow"), mode == "cbow_mean", window, False, negative,
        mode == "shared", alpha, alpha, seed, past_only=past,
    )  # fmt: skip


@pytest.mark.parametrize("past", [False, True], ids=["both", "past"])
@pytest.mark.parametrize("seq", [[0, 1], [0, 1, 2, 1], [3, 0, 2, 2, 1, 4, 0]])
@pytest.mark.parametrize("mode", ["pair", "shared", "cbow_mean", "cbow_sum"])
def test_update_matches_numpy_reference(seq, mode, past):
    rng = np.random.default_rng(0)
    syn0 = rng.uniform(-0.5, 0.5, size=(5, 8)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, size=(5, 8)).astype(np.float32)
    window, negative, alpha, seed = 2, 3, 0.05, 123
    # full windows and no subsampling: the noise draws are the only random numbers
    noise_table = _core.build_alias(np.full(5, 0.2))
    draws = _core.sample_noise(*noise_table, 1_000, seed)
    want0, want1, want_events, want_loss = _reference(
        syn0, syn1, seq, window, negative, draws, alpha, mode, past
    )
    raw, kept, events, loss = _train(
        syn0, syn1, seq, window, negative, alpha, mode, noise_table, past=past
    )
    assert raw == kept == len(seq)
    # events: one per (context, centre) pair in skip-gram, one per centre in CBOW
    assert events == want_events
    assert loss == pytest.approx(want_loss, rel=1e-5)
    np.testing.assert_allclose(syn0, want0, atol=1e-6)
    np.testing.assert_allclose(syn1, want1, atol=1e-6)


def test_skipgram_loss_is_sum_of_pair_losses():
    rng = np.random.default_rng(1)
    syn0 = rng.uniform(-0.5, 0.5, size=(3, 5)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, size=(3, 5)).astype(np.float32)
    # one pair: context 1 predicts centre 0 against noise 2, with a tiny rate
    x, pos, neg = syn0[1].astype(float), syn1[0].astype(float), syn1[2].astype(float)
    expected = -np.log(_sigmoid(x @ pos)) - np.log(_sigmoid(-(x @ neg)))
    _, _, events, loss = _train(syn0, syn1, [0, 1], 1, 1, 1e-9, "pair", _fixed_noise(3, 2))
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
        train_once(
        _core,
            syn0, syn0.copy(), np.array([0, 5], np.int32), np.array([0, 2], np.int64), 0, 1,
            np.empty(0, np.float32), threshold, alias, True, True, 2, True, 1, False, 0.1, 0.1, 0,
        )  # fmt: skip


def test_kernel_rejects_decreasing_offsets():
    syn0 = np.zeros((3, 4), np.float32)
    threshold, alias = _fixed_noise(3, 0)
    with pytest.raises(ValueError, match="offsets"):
        train_once(
        _core,
            syn0, syn0.copy(), np.array([0, 1], np.int32), np.array([0, 2, 1], np.int64), 0, 2,
            np.empty(0, np.float32), threshold, alias, True, True, 2, True, 1, False, 0.1, 0.1, 0,
        )  # fmt: skip


def test_kernel_trains_read_only_corpus_arrays():
    start = np.random.default_rng(0).uniform(-0.1, 0.1, (3, 4)).astype(np.float32)
    threshold, alias = _fixed_noise(3, 2)

    def train(writeable):
        syn0, syn1 = start.copy(), np.full_like(start, 0.05)
        codes = np.array([0, 1, 2, 1], np.int32)
        offsets = np.array([0, 4], np.int64)
        codes.flags.writeable = offsets.flags.writeable = writeable
        train_once(
        _core,
            syn0, syn1, codes, offsets, 0, 1, np.empty(0, np.float32), threshold, alias,
            True, True, 2, True, 2, False, 0.1, 0.1, 0,
        )  # fmt: skip
        return syn0, syn1

    read_only, writeable = train(False), train(True)
    assert not np.array_equal(read_only[0], start)
    for got, want in zip(read_only, writeable, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("shift", "shared"), [(0, True), (2, True), (3, False)],
                         ids=["same", "overlapping", "adjacent"])  # fmt: skip
def test_kernel_refuses_input_and_output_weights_that_share_memory(shift, shared):
    block = np.zeros((6, 4), np.float32)
    syn0, syn1 = block[:3], block[shift : shift + 3]
    threshold, alias = _fixed_noise(3, 2)
    args = (
        _core, syn0, syn1, np.array([0, 1], np.int32), np.array([0, 2], np.int64), 0, 1,
        np.empty(0, np.float32), threshold, alias, True, True, 2, True, 1, False, 0.1, 0.1, 0,
    )  # fmt: skip
    if shared:
        with pytest.raises(ValueError, match=r"^syn0 and syn1neg must not share memory$"):
            train_once(*args)
    else:
        assert train_once(*args)[2] == 2  # rows next to each other are fine: both pairs


def test_a_chunk_stopped_before_its_first_sequence_reports_no_token_read():
    threshold, alias = _fixed_noise(3, 2)
    syn0 = np.zeros((3, 4), np.float32)
    result = train_once(
        _core, syn0, syn0.copy(), np.array([0, 1, 2, 1], np.int32), np.array([0, 2, 4], np.int64),
        0, 2, np.empty(0, np.float32), threshold, alias, True, True, 2, True, 1, False, 0.1, 0.1,
        0, stop=np.ones(1, np.intc),
    )  # fmt: skip
    assert result == (0, 0, 0, 0.0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, sets RLIMIT_AS")
def test_session_context_buffers_are_sized_by_the_longest_sequence_not_the_cap():
    # with session_contexts = 2**31 - 1, buffers sized by the cap would need ~48 GB of
    # address space; sized by the 3-token corpus they need bytes, so a 1 GiB margin holds
    script = textwrap.dedent("""
        import resource
        import numpy as np
        from item2vec import _core
        from conftest import train_once
        size = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1])
        limit = size * 1024 + (1 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        syn0 = np.zeros((3, 4), np.float32)
        result = train_once(
            _core, syn0, syn0.copy(), np.array([0, 1, 2], np.int32), np.array([0, 3], np.int64),
            0, 1, np.empty(0, np.float32), np.zeros(3, np.uint32), np.full(3, 2, np.int32),
            True, True, 2, False, 1, False, 0.1, 0.1, 0, session_contexts=2**31 - 1,
        )
        print(result[2])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=os.path.dirname(__file__), timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6"]  # every item predicts the two others

"""Learning-rate schedule, window shrinking and subsampling, against their definitions."""

import itertools

import numpy as np
import pytest

from conftest import train_once
from item2vec import Item2Vec, Vocabulary, _kernels

BUILDS = _kernels.available()
# train_chunk's leading parameters, in order
KERNEL_PARAMS = ("setup", "seq_begin", "seq_end", "alpha_begin", "alpha_end", "seed", "stop")
KERNELS = pytest.mark.parametrize("core", list(BUILDS.values()), ids=list(BUILDS))


def _csr(seqs):
    lengths = [len(s) for s in seqs]
    codes = np.array([c for s in seqs for c in s], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return codes, offsets


def _run(core, seqs, n_items, *, window, shrink, sg=True, keep=None, alphas=(0.025, 0.025),
         negative=1, syn0=None, syn1=None, seed=0):  # fmt: skip
    """One kernel call over all of ``seqs``; returns (raw, kept, events, loss)."""
    codes, offsets = _csr(seqs)
    if syn0 is None:
        syn0 = np.full((n_items, 2), 0.01, dtype=np.float32)
        syn1 = np.zeros_like(syn0)
    threshold, alias = core.build_alias(np.full(n_items, 1.0 / n_items))
    keep = np.empty(0, np.float32) if keep is None else np.asarray(keep, dtype=np.float32)
    return train_once(
        core,
        syn0, syn1, codes, offsets, 0, len(seqs), keep, threshold, alias, sg, True,
        window, shrink, negative, False, alphas[0], alphas[1], seed,
    )  # fmt: skip


# --- learning rate inside one kernel call --------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sgns_step(syn0, syn1, inputs, centre, noise, alpha):
    """``centre`` predicted from the mean of the ``inputs`` rows (one row for skip-gram)."""
    x = syn0[inputs].mean(axis=0)
    pairs = [(centre, 1.0)] + [(u, 0.0) for u in noise if u != centre]
    grads = [alpha * (label - _sigmoid(x @ syn1[target])) for target, label in pairs]
    neu1e = sum(g * syn1[target] for g, (target, _) in zip(grads, pairs, strict=True))
    for g, (target, _) in zip(grads, pairs, strict=True):
        syn1[target] += g * x
    for c in inputs:
        syn0[c] += neu1e


def _reference(syn0, syn1, seqs, dropped, window, negative, draws, alpha_begin, alpha_end, sg):
    """Full windows; ``dropped`` items never kept; linear rate over the raw tokens.

    The kept items of a sequence of raw length L (n of them kept) are spread
    evenly over its raw span: kept item i trains at the rate of raw position
    start + i * L / n, where position p of a chunk of T raw tokens has rate
    alpha_begin + (alpha_end - alpha_begin) * p / T.
    """
    syn0, syn1 = syn0.astype(np.float64), syn1.astype(np.float64)
    draws = iter(draws.tolist())
    total = sum(len(s) for s in seqs)
    start = 0
    slope = (alpha_end - alpha_begin) / total
    for raw in seqs:
        seq = [w for w in raw if w not in dropped]
        for i, centre in enumerate(seq):
            alpha = alpha_begin + slope * (start + i * len(raw) / len(seq))
            lo, hi = max(0, i - window), min(len(seq), i + window + 1)
            context = [seq[j] for j in range(lo, hi) if j != i]
            if not context:
                continue
            if sg:
                for c in context:
                    noise = [next(draws) for _ in range(negative)]
                    _sgns_step(syn0, syn1, [c], centre, noise, alpha)
            else:
                noise = [next(draws) for _ in range(negative)]
                _sgns_step(syn0, syn1, context, centre, noise, alpha)
        start += len(raw)
    return syn0, syn1


@KERNELS
@pytest.mark.parametrize("sg", [True, False], ids=["skipgram", "cbow"])
@pytest.mark.parametrize("dropped", [(), (3,)], ids=["all_kept", "item3_dropped"])
def test_learning_rate_interpolates_linearly_across_the_chunk(core, sg, dropped):
    rng = np.random.default_rng(4)
    n_items, window, negative, seed = 6, 2, 2, 77
    syn0 = rng.uniform(-0.5, 0.5, size=(n_items, 8)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, size=(n_items, 8)).astype(np.float32)
    # several sequences (the rate runs on across them), a singleton among them
    seqs = [[0, 1, 2, 3, 4], [2, 5], [4], [1, 3, 0, 5, 2, 4, 1], [3, 3, 5, 0], [2, 1, 0]]
    # a steep fall: a rate held at either end, or one step off, moves the weights visibly
    alpha_begin, alpha_end = 0.4, 0.01
    # keep probability 0 drops an item without any other random number being used
    keep = [0.0 if w in dropped else 1.0 for w in range(n_items)] if dropped else None
    threshold, alias = core.build_alias(np.full(n_items, 1.0 / n_items))
    draws = core.sample_noise(threshold, alias, 2_000, seed)
    expected = _reference(
        syn0, syn1, seqs, set(dropped), window, negative, draws, alpha_begin, alpha_end, sg
    )
    _run(core, seqs, n_items, window=window, shrink=False, sg=sg, keep=keep, negative=negative,
         alphas=(alpha_begin, alpha_end), syn0=syn0, syn1=syn1, seed=seed)  # fmt: skip
    np.testing.assert_allclose(syn0, expected[0], atol=2e-5)
    np.testing.assert_allclose(syn1, expected[1], atol=2e-5)


# --- learning rate across chunks and epochs (the driver) -----------------------


def _recording_kernel(monkeypatch):
    """Replace the kernel the driver calls by one that records its chunk and rates."""
    calls = []
    real = _kernels.core.train_chunk

    def recording(*args, **kwargs):
        # the kernel's parameters by name, however the driver passes them
        bound = dict(zip(KERNEL_PARAMS, args, strict=False)) | kwargs
        calls.append(tuple(bound[k] for k in ("seq_begin", "seq_end", "alpha_begin", "alpha_end")))
        return real(*args, **kwargs)

    monkeypatch.setattr(_kernels.core, "train_chunk", recording)
    return calls


@pytest.fixture(scope="module")
def three_chunk_corpus():
    """About 85k tokens (2.6 chunks of 32768) in sequences of 1 to 40 items."""
    rng = np.random.default_rng(11)
    lengths = rng.integers(1, 41, size=4_100)
    codes = rng.integers(0, 50, size=int(lengths.sum())).astype(np.int64)
    return np.split(codes, np.cumsum(lengths)[:-1])


@pytest.mark.parametrize("how", ["fit", "update"])
def test_learning_rate_falls_linearly_over_all_epochs_tokens(three_chunk_corpus, monkeypatch, how):
    seqs = three_chunk_corpus
    alpha, min_alpha, epochs = 0.05, 0.002, 3
    seen = []
    model = Item2Vec(vector_size=2, window=1, negative=1, sample=0, epochs=epochs, alpha=alpha,
                     min_alpha=min_alpha, n_jobs=1, random_state=0,
                     callbacks=[lambda m, stats: seen.append(stats)])  # fmt: skip
    if how == "update":
        model.fit(seqs)
        seen.clear()
    calls = _recording_kernel(monkeypatch)
    if how == "fit":
        model.fit(seqs)
    else:
        model.update(seqs)
    starts = np.concatenate([[0], np.cumsum([len(s) for s in seqs])])
    n_tokens, total = int(starts[-1]), int(starts[-1]) * epochs

    def rate(position):  # position among all epochs' tokens
        return alpha + (min_alpha - alpha) * position / total

    per_epoch = len(calls) // epochs
    assert per_epoch >= 3 and len(calls) == per_epoch * epochs
    for epoch in range(epochs):
        chunks = calls[epoch * per_epoch : (epoch + 1) * per_epoch]
        # each epoch's chunks run through every sequence once, in order
        assert chunks[0][0] == 0 and chunks[-1][1] == len(seqs)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
        for seq_begin, seq_end, a_begin, a_end in chunks:
            assert a_begin == pytest.approx(rate(epoch * n_tokens + starts[seq_begin]), rel=1e-12)
            assert a_end == pytest.approx(rate(epoch * n_tokens + starts[seq_end]), rel=1e-12)
        assert seen[epoch]["alpha"] == pytest.approx(chunks[-1][3], rel=1e-12)
    assert calls[0][2] == alpha
    assert calls[-1][3] == pytest.approx(min_alpha, rel=1e-12)


# --- window sizes --------------------------------------------------------------


def _shrunk_context_counts(length, window):
    """Mean and variance of a sequence's skip-gram pairs under shrunk windows.

    The effective window b of each centre is uniform on 1..window, drawn
    independently; centre i then has min(b, i) + min(b, length - 1 - i) contexts.
    """
    reaches = np.arange(1, window + 1)
    mean = var = 0.0
    for i in range(length):
        counts = np.minimum(reaches, i) + np.minimum(reaches, length - 1 - i)
        mean += counts.mean()
        var += counts.var()
    return mean, var


@KERNELS
@pytest.mark.parametrize(
    ("window", "length"),
    [(1, 7), (2, 2), (2, 3), (2, 6), (5, 2), (5, 3), (5, 4), (5, 5), (5, 6), (5, 13)],
)
def test_shrunk_window_is_uniform_from_one_to_window(core, window, length):
    # sequences no longer than window + 1 reach only part of the window, so
    # lengths 2..window + 1 together pin down P(b >= j) for every j
    n_seqs = 4_000
    rng = np.random.default_rng(length)
    seqs = rng.integers(0, 20, size=(n_seqs, length)).tolist()
    raw, kept, events, _ = _run(core, seqs, 20, window=window, shrink=True, seed=length + 100)
    mean, var = _shrunk_context_counts(length, window)
    assert raw == kept == n_seqs * length
    # five standard deviations of a sum of independent per-centre counts
    assert abs(events - n_seqs * mean) <= 5 * np.sqrt(n_seqs * var)


@KERNELS
@pytest.mark.parametrize("window", [1, 2, 5])
def test_full_window_gives_every_pair_within_window(core, window):
    lengths = [1, 2, 3, 4, 5, 6, 7, 11, 12, 30]
    seqs = [list(np.arange(n) % 7) for n in lengths]
    _, _, events, _ = _run(core, seqs, 7, window=window, shrink=False)
    expected = sum(min(window, i) + min(window, n - 1 - i) for n in lengths for i in range(n))
    assert events == expected


@KERNELS
@pytest.mark.parametrize("shrink", [False, True])
def test_cbow_has_one_event_per_centre_with_a_neighbour(core, shrink):
    # every window reaches at least the adjacent items, so only singletons are idle
    lengths = [1, 2, 3, 1, 9, 4, 1]
    seqs = [list(np.arange(n) % 5) for n in lengths]
    raw, kept, events, _ = _run(core, seqs, 5, window=3, shrink=shrink, sg=False)
    assert raw == kept == sum(lengths)
    assert events == sum(n for n in lengths if n >= 2)


# --- frequent-item subsampling -------------------------------------------------


def _word2vec_keep(counts, sample):
    """word2vec's keep probability min(1, (sqrt(f / s) + 1) * s / f), f the frequency share."""
    counts = np.asarray(counts, dtype=np.float64)
    share = counts / counts.sum()
    keep = np.ones_like(share)
    seen = share > 0
    keep[seen] = np.minimum(1.0, (np.sqrt(share[seen] / sample) + 1.0) * sample / share[seen])
    return keep


@pytest.mark.parametrize("sample", [1e-4, 1e-3, 1e-2, 0.3])
def test_keep_probabilities_follow_word2vec(sample):
    counts = [50_000, 7_000, 900, 120, 30, 1, 0]
    keep = Vocabulary(list("abcdefg"), counts).keep_probabilities(sample)
    assert keep.dtype == np.float32
    np.testing.assert_allclose(keep, _word2vec_keep(counts, sample), rtol=1e-6)


def test_sample_zero_keeps_everything():
    assert Vocabulary(["a", "b"], [10, 1]).keep_probabilities(0.0).size == 0


@KERNELS
def test_kernel_keeps_each_token_with_its_probability(core):
    rng = np.random.default_rng(5)
    keep = np.array([1.0, 0.5, 0.1, 0.0, 0.9])
    codes = rng.integers(0, 5, size=(3_000, 8))
    raw, kept, _, _ = _run(core, codes.tolist(), 5, window=1, shrink=False, keep=keep, seed=9)
    p = keep[codes]
    assert raw == codes.size
    assert abs(kept - p.sum()) <= 5 * np.sqrt((p * (1 - p)).sum())


def test_fit_subsamples_frequent_items_with_word2vec_keep_probability():
    # one very frequent item, one frequent, a hundred rare ones (always kept)
    rng = np.random.default_rng(8)
    tokens = np.concatenate([np.zeros(10_000), np.ones(2_000), np.repeat(np.arange(2, 102), 80)])
    tokens = rng.permutation(tokens.astype(np.int64))
    counts = np.bincount(tokens)
    sample = 1e-2
    p = _word2vec_keep(counts, sample)[tokens]
    seen = []
    Item2Vec(vector_size=2, window=2, negative=1, sample=sample, epochs=2, n_jobs=1,
             random_state=1, callbacks=[lambda m, stats: seen.append(stats)]).fit(
        np.split(tokens, 2_000)
    )  # fmt: skip
    assert len(seen) == 2
    for stats in seen:
        assert stats["tokens"] == tokens.size
        assert abs(stats["kept_tokens"] - p.sum()) <= 5 * np.sqrt((p * (1 - p)).sum())

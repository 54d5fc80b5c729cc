"""Memory of pruning and fitting: min_count recodes no whole copy of the corpus.

A corpus larger than memory is trained memory-mapped; pruning it (``min_count``)
must not cost a recoded copy of its tokens. The bounds are traced allocations
(``tracemalloc`` sees NumPy's arrays), with the scans' block sizes made small so
that a corpus of a few hundred thousand tokens spans many blocks: whatever is
per block stays small, and only what is per token shows.
"""

import itertools
import tracemalloc

import numpy as np
import pytest

import item2vec._training as training
import item2vec.corpus as corpus_module
from item2vec import Item2Vec, Sequences
from item2vec.corpus import RecodedSequences

N_SEQUENCES, N_ITEMS, DIM = 4_000, 600, 8
BLOCK = 1 << 12  # tokens per scan block and per recoded training block here
PER_ITEM = 1024  # bytes a fit may add per item: vocabulary, counts, noise tables, pending


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(corpus_module, "BLOCK_TOKENS", BLOCK)
    monkeypatch.setattr(training, "BLOCK_TOKENS", BLOCK)


def _corpus(seed=0):
    """~400k tokens over N_ITEMS Zipf-popular items; about 1 in 40 items occurs once."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 200, N_SEQUENCES)
    items = np.minimum(rng.zipf(1.3, int(lengths.sum())), N_ITEMS)
    rare = N_ITEMS + np.arange(15)  # items seen once, scattered over the corpus
    items[rng.choice(items.shape[0], rare.shape[0], replace=False)] = rare
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    base = Sequences.from_iterable([items[a:b] for a, b in itertools.pairwise(bounds)])
    return Sequences(
        base.codes, base.offsets, base.vocabulary,
        rng.random(base.n_tokens).astype(np.float32),
        np.arange(base.n_tokens, dtype=np.float64),
    )  # fmt: skip


@pytest.fixture(params=["mapped", "memory"])
def corpus(request, tmp_path):
    corpus = _corpus()
    if request.param == "memory":
        return corpus
    corpus.save(tmp_path / "corpus")
    return Sequences.open(tmp_path / "corpus")


def _traced_peak(function):
    """The result of ``function()`` and the peak of memory traced while it ran (bytes)."""
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _pruned_by_definition(corpus, min_count):
    """The sequences without the items seen fewer than ``min_count`` times."""
    lists = corpus.to_lists()
    counts = {}
    for sequence in lists:
        for item in sequence:
            counts[item] = counts.get(item, 0) + 1
    return [[item for item in s if counts[item] >= min_count] for s in lists]


def test_fit_with_min_count_adds_no_copy_of_the_tokens_beyond_its_weights(corpus, small_blocks):
    assert corpus.n_tokens > 50 * BLOCK
    model = Item2Vec(vector_size=DIM, epochs=1, n_jobs=1, min_count=2, random_state=0)
    _, peak = _traced_peak(lambda: model.fit(corpus))
    assert len(model.items_) < len(corpus.vocabulary)  # items were dropped: tokens recoded
    weights = 2 * len(model.items_) * DIM * 4
    # a recoded copy of the codes alone would be 4 bytes a token
    allowed = weights + PER_ITEM * len(corpus.vocabulary) + 1 * corpus.n_tokens
    assert peak <= allowed, f"fit traced {peak - weights:,} bytes beyond its weights"


def test_pruning_into_memory_needs_little_beyond_its_result(corpus, small_blocks):
    (pruned, _), peak = _traced_peak(lambda: corpus.pruned_with_mapping(2))
    result = sum(
        array.nbytes for array in (pruned.codes, pruned.offsets, pruned.weights, pruned.times)
    )
    assert pruned.n_tokens < corpus.n_tokens
    allowed = result + PER_ITEM * len(corpus.vocabulary) + 1 * corpus.n_tokens
    assert peak <= allowed, f"pruning traced {peak - result:,} bytes beyond its result"


@pytest.mark.parametrize("min_count", [2, 40])
def test_pruning_keeps_the_sequences_without_the_rare_items(corpus, small_blocks, min_count):
    expected = _pruned_by_definition(corpus, min_count)
    pruned = corpus.pruned(min_count)
    assert pruned.to_lists() == expected
    lazy, mapping = corpus.pruned_lazily(min_count)
    assert isinstance(lazy, RecodedSequences)
    assert np.diff(lazy.offsets).tolist() == [len(s) for s in expected]
    assert lazy.vocabulary.items.tolist() == pruned.vocabulary.items.tolist()
    kept = mapping >= 0
    assert (
        lazy.vocabulary.counts.tolist()
        == corpus.vocabulary.counts[kept][np.argsort(mapping[kept])].tolist()
    )


def test_the_blocks_of_a_lazily_pruned_corpus_make_the_pruned_corpus(corpus, small_blocks):
    pruned, _ = corpus.pruned_with_mapping(2)
    lazy, _ = corpus.pruned_lazily(2)
    cuts = [0, 1, 7, 7, 800, len(lazy) - 1, len(lazy)]  # an empty block and a lone one
    blocks = [lazy.block(a, b) for a, b in itertools.pairwise(cuts)]
    for name in ("codes", "weights", "times"):
        joined = np.concatenate([getattr(block, name) for block in blocks])
        np.testing.assert_array_equal(joined, getattr(pruned, name))
    starts = np.cumsum([0] + [block.n_tokens for block in blocks[:-1]])
    offsets = np.concatenate(
        [[0]] + [block.offsets[1:] + start for block, start in zip(blocks, starts, strict=True)]
    )
    np.testing.assert_array_equal(offsets, pruned.offsets)
    materialized = lazy.materialized()
    np.testing.assert_array_equal(materialized.codes, pruned.codes)
    np.testing.assert_array_equal(materialized.offsets, pruned.offsets)


def test_a_block_outside_the_sequences_is_refused(corpus):
    lazy, _ = corpus.pruned_lazily(2)
    with pytest.raises(IndexError, match="outside"):
        lazy.block(0, len(lazy) + 1)


@pytest.mark.parametrize(
    "params", [{}, {"sg": False}, {"window": "session"}, {"use_weights": True}]
)
def test_fitting_with_min_count_trains_as_on_the_corpus_pruned_beforehand(
    corpus, small_blocks, params
):
    """The blocks are recoded while training: the vectors are those of the pruned
    corpus recoded whole before training (min_count=1 then keeps every item)."""
    common = {"vector_size": DIM, "epochs": 2, "n_jobs": 1, "random_state": 3, **params}
    lazily = Item2Vec(min_count=2, **common).fit(corpus)
    pruned = Item2Vec(min_count=1, **common).fit(corpus.pruned(2))
    assert lazily.items_.tolist() == pruned.items_.tolist()
    np.testing.assert_array_equal(lazily.vectors_, pruned.vectors_)
    np.testing.assert_array_equal(lazily.output_vectors_, pruned.output_vectors_)
    assert lazily.loss_history_ == pruned.loss_history_


@pytest.mark.parametrize(
    "mapping, message",
    [
        (np.zeros(3, dtype=np.int32), "one integer code per item"),
        (np.full(4, 0.5), "one integer code per item"),
        (np.array([0, 1, 2, 4]), r"-1 or a code in \[0, 4\)"),
        (np.array([0, -2, 1, 2]), r"-1 or a code in \[0, 4\)"),
    ],
)
def test_remap_refuses_a_mapping_that_does_not_fit(mapping, message):
    corpus = Sequences.from_iterable([["a", "b", "c", "d", "a"]])
    with pytest.raises(ValueError, match=message):
        corpus.remap(mapping, corpus.vocabulary)


def test_auto_epochs_count_the_tokens_and_items_left_after_min_count(corpus):
    from item2vec._training import auto_epochs

    expected = _pruned_by_definition(corpus, 40)
    n_tokens = sum(len(s) for s in expected)
    n_items = len({item for s in expected for item in s})
    seen = []
    model = Item2Vec(vector_size=DIM, min_count=40, n_jobs=1, random_state=0, callbacks=[
        lambda model, stats: seen.append(stats) or True  # one epoch is enough to know
    ])  # fmt: skip
    model.fit(corpus)
    assert seen[0]["tokens"] == n_tokens
    assert seen[0]["epochs"] == auto_epochs(n_tokens, n_items)
    assert auto_epochs(n_tokens, n_items) != auto_epochs(corpus.n_tokens, len(corpus.vocabulary))

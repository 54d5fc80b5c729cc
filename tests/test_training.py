"""Incremental training, callbacks, progress and interruption."""

import numpy as np
import pytest

from conftest import cluster_precision
from item2vec import Item2Vec
from item2vec.datasets import planted_sessions


@pytest.fixture(scope="module")
def split_corpus():
    """Sessions of the first 150 items, and later sessions that also use items 150..199."""
    data = planted_sessions(n_sessions=3_000, n_items=200, n_clusters=10, random_state=5)
    old = [s[s < 150] for s in data.sequences[:1_500]]
    return [s for s in old if len(s)], data.sequences[1_500:], data.cluster_of


def test_update_adds_new_items_with_neighbours_from_their_clusters(split_corpus):
    old, new, cluster_of = split_corpus
    model = Item2Vec(vector_size=32, epochs=5, n_jobs=1, random_state=0).fit(old)
    assert set(model.items_.tolist()) <= set(range(150))
    before = model.vectors_.copy()
    model.update(new)
    items = set(model.items_.tolist())
    assert set(range(150, 200)) <= items
    new_items = np.arange(150, 200)
    assert cluster_precision(model, cluster_of, new_items) >= 0.8
    frequent_old = model.items_[:50].astype(np.int64)
    assert cluster_precision(model, cluster_of, frequent_old) >= 0.9
    assert not np.array_equal(model.vectors_[: before.shape[0]], before)  # old ones trained on
    assert len(model.loss_history_) == 2 * model.epochs


def test_update_with_nothing_new_keeps_the_vocabulary(split_corpus):
    old, _, _ = split_corpus
    model = Item2Vec(vector_size=8, epochs=1, n_jobs=1, random_state=0).fit(old)
    items = model.items_.tolist()
    model.update(old[:100], epochs=2)
    assert model.items_.tolist() == items
    assert len(model.loss_history_) == 3


def test_min_count_applies_to_accumulated_counts():
    base = [["a", "b"]] * 20 + [["a", "rare"], ["b", "rare"]]
    model = Item2Vec(vector_size=4, epochs=1, min_count=3, sample=0, n_jobs=1, random_state=0)
    model.fit(base)
    assert "rare" not in model
    model.update([["a", "rare"]])  # 2 + 1 = 3 occurrences now
    assert "rare" in model
    assert model.vocabulary_.counts[model.vocabulary_.code("rare")] == 3
    assert model.vocabulary_.counts[model.vocabulary_.code("a")] == 22


def test_partial_fit_fits_then_updates():
    model = Item2Vec(vector_size=4, epochs=1, sample=0, n_jobs=1, random_state=0)
    model.partial_fit([["a", "b"]] * 5)
    first = model.vectors_.copy()
    model.partial_fit([["c", "b"]] * 5)
    # an update: the new item comes after the old ones and the counts add up
    assert model.items_.tolist() == ["a", "b", "c"]
    assert model.vocabulary_.counts.tolist() == [5, 10, 5]
    assert model.n_updates_ == 1 and len(model.loss_history_) == 2
    # b is trained further; a, absent from the new data, keeps its vector
    assert not np.array_equal(model.vectors_[1], first[1])
    np.testing.assert_array_equal(model.vectors_[0], first[0])


def test_update_continues_after_save_and_load(split_corpus, tmp_path):
    old, new, _ = split_corpus
    model = Item2Vec(vector_size=8, epochs=1, n_jobs=1, random_state=0).fit(old)
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    loaded.update(new)
    assert len(loaded.items_) == 200
    with pytest.raises(ValueError, match="cannot be trained further"):
        Item2Vec.load(tmp_path / "m.npz", mmap=True).update(new)


def test_callbacks_see_every_epoch_and_can_stop_training(small_planted):
    seen = []

    def record(model, stats):
        seen.append(stats)
        assert model.most_similar(model.items_[0], topn=1)  # the model answers mid-training
        return stats["epoch"] == 2

    model = Item2Vec(vector_size=8, epochs=5, callbacks=[record], n_jobs=2, random_state=0)
    model.fit(small_planted.sequences)
    assert [s["epoch"] for s in seen] == [1, 2]
    assert len(model.loss_history_) == 2
    assert {"epoch", "epochs", "tokens", "kept_tokens", "seconds", "loss", "alpha"} <= set(seen[0])
    assert seen[0]["tokens"] == sum(len(s) for s in small_planted.sequences)
    assert seen[1]["alpha"] < seen[0]["alpha"]


def test_interrupted_fit_leaves_the_model_unfitted(small_planted):
    def interrupt(model, stats):
        raise KeyboardInterrupt

    model = Item2Vec(vector_size=8, epochs=3, callbacks=[interrupt], n_jobs=2, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small_planted.sequences)
    assert not hasattr(model, "vectors_") and not hasattr(model, "vocabulary_")


def test_loss_is_the_same_whatever_the_number_of_threads(small_planted):
    # Hogwild changes the order of updates, not the size of the tally: a loss that lost
    # updates across threads, or saturated, would be off by far more than 10%
    losses = [
        Item2Vec(vector_size=16, epochs=3, n_jobs=n, random_state=0)
        .fit(small_planted.sequences)
        .loss_history_
        for n in (1, 2)
    ]
    np.testing.assert_allclose(losses[0], losses[1], rtol=0.1)


def test_verbose_prints_progress_without_tqdm(small_planted, capsys, without_module):
    without_module("tqdm")
    Item2Vec(vector_size=8, epochs=2, verbose=1, n_jobs=1, random_state=0).fit(
        small_planted.sequences
    )
    lines = capsys.readouterr().err.splitlines()  # captured: not a terminal, no bar
    assert [line.split(": loss")[0] for line in lines] == [
        "item2vec: epoch 1/2", "item2vec: epoch 2/2"
    ]  # fmt: skip
    assert all(line.endswith(" tokens/s") for line in lines)


def test_a_failed_update_leaves_the_model_as_it_was(split_corpus):
    old, new, _ = split_corpus
    model = Item2Vec(vector_size=8, epochs=1, n_jobs=1, random_state=0).fit(old)
    before = (model.items_.tolist(), model.vectors_.copy(), list(model.loss_history_))
    model.set_params(alpha=1e30)
    with pytest.raises(FloatingPointError, match="diverged"):
        model.update(new)
    assert model.items_.tolist() == before[0]
    assert np.array_equal(model.vectors_, before[1])
    assert model.loss_history_ == before[2] and model.n_updates_ == 0

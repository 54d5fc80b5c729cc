"""The concurrency contract: queries run beside fit, update and save, and always see
one whole published state; writers run one at a time; nothing is lost."""

import threading

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.datasets import planted_sessions
from item2vec.vectors import ItemVectors

ROUNDS = 12


def _new(r, k):
    """The id of the k-th new item of round r (ints, as the model's: a model holds one type)."""
    return 1000 + 100 * r + k


@pytest.fixture
def model_and_batches():
    data = planted_sessions(n_sessions=400, n_items=60, n_clusters=6, random_state=5)
    model = Item2Vec(vector_size=16, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit([s.tolist() for s in data.sequences])
    # every batch brings new items, so the vocabulary and the matrices grow each round
    batches = [
        [[_new(r, k), int(s[0]), _new(r, k)] for k, s in enumerate(data.sequences[:30])]
        for r in range(ROUNDS)
    ]
    return model, batches


def _run_together(*targets):
    errors = []

    def guard(target):
        try:
            target()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_queries_during_updates_always_see_a_whole_state(model_and_batches):
    model, batches = model_and_batches
    done = threading.Event()

    def write():
        try:
            for batch in batches:
                model.update(batch)
        finally:  # a failed writer stops the readers too, so the test fails instead of hanging
            done.set()

    def read():
        while not done.is_set():
            ids, scores = model.recommend_batch([[1, 2], [3]], topn=5)
            assert ids.shape == scores.shape == (2, 5) and np.isfinite(scores).all()
            neighbours, _ = model.similar_items([1, 2], topn=4)
            assert neighbours.shape == (2, 4)
            assert len(model.most_similar(7, topn=3)) == 3
            assert model.transform([[1, 2]]).shape == (1, 16)
            state = model.item_vectors_
            assert state.vectors.shape[0] == len(state.vocabulary) == state.normed_vectors.shape[0]

    _run_together(write, read, read, read)
    assert model.n_updates_ == ROUNDS
    assert all(_new(r, 0) in model for r in range(ROUNDS))


def test_the_cache_of_unit_vectors_follows_every_update(model_and_batches):
    model, batches = model_and_batches
    _ = model.normed_vectors  # cached before the update, for both similarities
    _ = model.item_vectors_.similarity_vectors("inout")
    model.update(batches[0])
    fresh = ItemVectors(model.vocabulary_, model.vectors_.copy(), model.output_vectors_.copy())
    for similarity in ("input", "inout"):
        expected = fresh.most_similar(7, topn=5, similarity=similarity)
        assert model.most_similar(7, topn=5, similarity=similarity) == expected
    assert model.most_similar(7, topn=5) == fresh.most_similar(7, topn=5, similarity="inout")


def test_saves_during_updates_write_files_that_load(model_and_batches, tmp_path):
    model, batches = model_and_batches
    done = threading.Event()
    paths = [tmp_path / f"m{k}.npz" for k in range(2)]

    def write():
        try:
            for batch in batches:
                model.update(batch)
        finally:  # a failed writer stops the readers too, so the test fails instead of hanging
            done.set()

    n_before = len(model.items_)

    def save(path):
        def loop():
            while not done.is_set():
                model.save(path)
                loaded = Item2Vec.load(path)
                assert loaded.vectors_.shape == (len(loaded.items_), 16)
                # vectors, vocabulary and record of one state: each update adds 30 items
                assert len(loaded.items_) == n_before + 30 * loaded.n_updates_

        return loop

    _run_together(write, save(paths[0]), save(paths[1]))


def test_concurrent_updates_each_count(model_and_batches):
    model, batches = model_and_batches
    _run_together(*(lambda b=b: model.update(b) for b in batches[:4]))
    assert model.n_updates_ == 4
    for r in range(4):
        assert _new(r, 0) in model
        # each new item occurs twice in each of its sequences
        assert model.vocabulary_.counts[model.vocabulary_.code(_new(r, 0))] == 2


def test_a_callback_sees_the_state_being_trained_while_other_threads_see_the_old(
    model_and_batches,
):
    model, batches = model_and_batches
    inside, outside = [], []

    def callback(m, stats):
        inside.append(_new(0, 0) in m)
        seen = threading.Thread(target=lambda: outside.append(_new(0, 0) in m))
        seen.start()
        seen.join()

    model.callbacks = [callback]
    model.update(batches[0])
    assert inside == [True] and outside == [False]
    assert _new(0, 0) in model

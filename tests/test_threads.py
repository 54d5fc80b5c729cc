"""Concurrency: queries from many threads, fits side by side, Ctrl-C during fit."""

import _thread
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from item2vec import Item2Vec


def test_concurrent_queries_match_serial_ones(tmp_path):
    # 3,000 random items: each search runs long enough for threads to overlap,
    # so state shared between searches (a scratch buffer) would mix results
    vectors = np.random.default_rng(0).standard_normal((3_000, 16)).astype("<f4")
    rows = [f"{i} ".encode() + v.tobytes() + b"\n" for i, v in enumerate(vectors)]
    (tmp_path / "v.bin").write_bytes(b"3000 16\n" + b"".join(rows))
    model = Item2Vec.load_word2vec_format(tmp_path / "v.bin", binary=True, item_type=int)
    items = model.items_[:40]
    histories = np.random.default_rng(1).integers(0, 3_000, (40, 5)).tolist()

    def query(_):
        return (*model.similar_items(items, topn=5), *model.recommend_batch(histories, topn=5))

    serial = query(None)
    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(query, range(4)):
            for got, want in zip(result, serial, strict=True):
                np.testing.assert_array_equal(got, want)


def test_two_models_fit_at_once_in_two_threads(small_planted):
    params = [dict(sg=True, random_state=1), dict(sg=False, random_state=2)]
    serial = [Item2Vec(vector_size=8, epochs=2, n_jobs=1, **p).fit(small_planted.sequences)
              for p in params]  # fmt: skip
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(
            lambda p: Item2Vec(vector_size=8, epochs=2, n_jobs=1, **p).fit(
                small_planted.sequences), params,
        ))  # fmt: skip
    for a, b in zip(serial, together, strict=True):
        assert np.array_equal(a.vectors_, b.vectors_)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_stops_fit_promptly_and_leaves_it_unfitted(planted, n_jobs):
    training = threading.Event()
    model = Item2Vec(vector_size=32, epochs=1_000, n_jobs=n_jobs, random_state=0,
                     callbacks=[lambda m, stats: training.set()])  # fmt: skip
    sent = []

    def interrupt():
        # only once training runs (its first epoch has ended): an interrupt that lands
        # earlier, e.g. in a finaliser of the set-up (slow builds), would be swallowed
        # there. (The fitted attributes appear only when the fit succeeds, so waiting
        # for one waited out the whole bound.)
        training.wait(60)  # (bounded: the interrupt comes in any case)
        time.sleep(0.3)
        sent.append(time.perf_counter())
        _thread.interrupt_main()

    # a shell starts background jobs with SIGINT ignored, and then Python's
    # simulated Ctrl-C does nothing: install the usual handler for this test
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Thread(target=interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(planted.sequences)
        stopped = time.perf_counter()
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    # the whole fit (1,000 epochs) takes minutes; stopping at the next chunk takes well
    # under a second on a normal build, so 10 s leaves room for slow builds (sanitizers,
    # -O0) and a busy machine while still telling "stopped" from "ran on"
    assert sent and stopped - sent[0] < 10.0
    assert not hasattr(model, "vectors_")

"""Properties checked on generated inputs (hypothesis, bounded example counts)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from item2vec import Item2Vec, Sequences

ids = st.one_of(st.integers(-5, 30), st.text(min_size=1, max_size=3))
corpora = st.lists(st.lists(ids, max_size=8), min_size=1, max_size=12)
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(corpora)
def test_encoding_round_trips_any_sequences_of_ids(seqs):
    corpus = Sequences.from_iterable(seqs)
    decoded = corpus.to_lists()
    assert decoded == seqs
    assert [[type(i) for i in s] for s in decoded] == [[type(i) for i in s] for s in seqs]
    # the vocabulary runs by count descending, then first appearance
    flat = [item for s in seqs for item in s]
    counts = Counter(flat)
    first = {item: position for position, item in reversed(list(enumerate(flat)))}
    expected = sorted(counts, key=lambda item: (-counts[item], first[item]))
    assert corpus.vocabulary.items.tolist() == expected
    assert corpus.vocabulary.counts.tolist() == [counts[item] for item in expected]


def _reference_events(users, items, times, weights, min_weight):
    """Straightforward Python: users by id, events by (time, row)."""
    user_order = sorted(set(users))
    sequences = []
    for user in user_order:
        rows = [r for r in range(len(users)) if users[r] == user and weights[r] >= min_weight]
        rows.sort(key=lambda r: (times[r], r))
        if rows:
            sequences.append([items[r] for r in rows])
    return sequences


@QUICK
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
            st.lists(st.integers(0, 9), min_size=n, max_size=n),
            st.lists(st.integers(0, 5), min_size=n, max_size=n),
            st.lists(st.integers(0, 5), min_size=n, max_size=n),
        )
    ),
    st.integers(0, 3),
)
@example(([0], [0], [0], [0]), 1)  # the filter leaves nothing: always tried
def test_from_events_equals_a_slow_reference(columns, min_weight):
    users, items, times, weights = columns
    expected = _reference_events(users, items, times, weights, min_weight)
    events = {"u": np.array(users), "i": np.array(items), "t": np.array(times),
              "w": np.array(weights)}  # fmt: skip
    if not expected:  # the filter leaves nothing: refused, as every builder refuses it
        with pytest.raises(ValueError, match="no sequence is left after the weight"):
            Sequences.from_events(events, "u", "i", time="t", weight="w", min_weight=min_weight)
        return
    corpus = Sequences.from_events(events, "u", "i", time="t", weight="w", min_weight=min_weight)
    assert corpus.to_lists() == expected


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 12), min_size=0, max_size=10), min_size=1, max_size=15),
    st.booleans(),
    st.integers(1, 4),
)
def test_training_any_small_corpus_gives_finite_vectors_or_says_why(seqs, sg, window):
    model = Item2Vec(vector_size=6, window=window, epochs=2, sg=sg, sample=0, n_jobs=1,
                     random_state=0)  # fmt: skip
    # without subsampling, any sequence of two or more items gives a prediction
    if not any(seqs) or all(len(s) < 2 for s in seqs):
        message = "X is empty" if not any(seqs) else "nothing was trained"
        with pytest.raises(ValueError, match=message):
            model.fit(seqs)
        assert not hasattr(model, "vectors_")
        return
    model.fit(seqs)
    n_items = len({i for s in seqs for i in s})
    assert model.vectors_.shape == (n_items, 6)
    assert np.all(np.isfinite(model.vectors_))
    again = Item2Vec(**model.get_params()).fit(seqs)
    assert np.array_equal(again.vectors_, model.vectors_)

"""Comparisons of corpora shared by the tests of the on-disk corpus, DuckDB and Spark."""

import numpy as np


def assert_same_corpus(a, b):
    """Every array equal, in order, with the same dtypes; ids and counts alike."""
    for name in ("codes", "offsets", "weights", "times"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype, name
            assert np.array_equal(x, y), name
    assert (a.users is None) == (b.users is None)
    if a.users is not None:
        assert a.users.tolist() == b.users.tolist()
        assert [type(u) for u in a.users.tolist()] == [type(u) for u in b.users.tolist()]
    assert a.vocabulary.items.tolist() == b.vocabulary.items.tolist()
    assert [type(i) for i in a.vocabulary.items.tolist()] == [
        type(i) for i in b.vocabulary.items.tolist()
    ]
    assert a.vocabulary.counts.tolist() == b.vocabulary.counts.tolist()


def similarity_rows(model, similarity=None):
    """Reference for item-to-item scores, in float64: the unit input vectors (the
    queries) and the unit rows they are compared with: the input vectors for
    ``similarity="input"``, input + output vectors for ``"inout"`` (None: the
    model's setting)."""
    vectors = model.vectors_.astype(np.float64)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    if (similarity or model.get_params()["similarity"]) != "inout":
        return unit, unit
    both = vectors + model.output_vectors_.astype(np.float64)
    return unit, both / np.linalg.norm(both, axis=1, keepdims=True)

"""scikit-learn interoperability: clone, Pipeline, GridSearchCV."""

import numpy as np
import pytest

from item2vec import Item2Vec

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402


def test_clone_copies_parameters_not_fitted_state(small_planted):
    model = Item2Vec(vector_size=8, epochs=1, random_state=0).fit(small_planted.sequences[:100])
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "vectors_")


def test_pipeline_feeds_sequence_vectors_to_a_classifier(small_planted):
    seqs = small_planted.sequences[:600]
    labels = np.array([small_planted.cluster_of[s[0]] % 2 for s in seqs])
    pipe = Pipeline(
        [
            ("embed", Item2Vec(vector_size=16, epochs=3, n_jobs=1, random_state=0)),
            ("classify", LogisticRegression(max_iter=500)),
        ]
    )
    pipe.fit(seqs, labels)
    assert pipe.score(seqs, labels) > 0.6


def test_grid_search_picks_parameters_by_score(small_planted):
    seqs = small_planted.sequences[:800]
    search = GridSearchCV(
        Item2Vec(vector_size=16, epochs=2, n_jobs=1, random_state=0),
        {"window": [1, 3], "sg": [True, False]},
        cv=KFold(3, shuffle=True, random_state=0),
    )
    search.fit(seqs)
    assert search.best_params_["window"] in (1, 3)
    assert 0.0 <= search.best_score_ <= 1.0
    assert hasattr(search.best_estimator_, "vectors_")

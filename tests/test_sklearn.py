"""scikit-learn interoperability: clone, Pipeline, GridSearchCV."""

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.baselines import ItemKNN, Popularity

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


def test_grid_search_picks_the_parameters_with_the_best_mean_score(small_planted):
    seqs = small_planted.sequences[:800]
    base = dict(vector_size=16, epochs=2, n_jobs=1, random_state=0)
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(Item2Vec(**base), {"window": [1, 3], "sg": [True, False]}, cv=cv)
    search.fit(seqs)
    # the same cross-validation by hand: fit on two folds, HR@10 on the third
    means = {}
    for window in (1, 3):
        for sg in (True, False):
            means[window, sg] = np.mean([
                Item2Vec(**base, window=window, sg=sg)
                .fit([seqs[i] for i in train])
                .score([seqs[i] for i in test])
                for train, test in cv.split(seqs)
            ])  # fmt: skip
    best = max(means, key=means.get)
    assert len(set(means.values())) == 4  # no tie: one best choice
    assert (search.best_params_["window"], search.best_params_["sg"]) == best
    assert search.best_score_ == pytest.approx(means[best], abs=1e-12)
    # refitted on all the data with the chosen parameters
    refit = Item2Vec(**base, window=best[0], sg=best[1]).fit(seqs)
    np.testing.assert_array_equal(search.best_estimator_.vectors_, refit.vectors_)


@pytest.mark.parametrize("make", [lambda: Popularity(), lambda: ItemKNN(neighbors=5)])
def test_baselines_clone_and_score_like_item2vec(make):
    model = make()
    twin = clone(model)
    assert type(twin) is type(model) and twin.get_params() == model.get_params()
    train = [["a", "b", "c"], ["a", "b", "d"], ["b", "c"]] * 4
    model.fit(train)
    # the last item of each test sequence is the target; with four items, any
    # known target is in the top 10 and an unknown one never is
    held_out = [["b", "a"], ["b", "zzz"]]
    assert model.score(held_out) == 0.5

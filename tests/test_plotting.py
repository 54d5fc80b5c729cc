"""The embedding map."""

import numpy as np
import pytest

from item2vec import Item2Vec
from item2vec.plotting import project_2d


def test_projection_keeps_the_main_directions():
    rng = np.random.default_rng(0)
    points = np.zeros((200, 5))
    points[:, 0] = rng.normal(0, 10, 200)  # largest spread
    points[:, 3] = rng.normal(0, 3, 200)  # second largest
    points += rng.normal(0, 0.01, points.shape)
    coords = project_2d(points)
    assert coords.shape == (200, 2)
    assert abs(np.corrcoef(coords[:, 0], points[:, 0])[0, 1]) > 0.99
    assert abs(np.corrcoef(coords[:, 1], points[:, 3])[0, 1]) > 0.99


def test_embedding_map_colours_by_label_and_writes_the_file(small_planted, tmp_path):
    pytest.importorskip("matplotlib")
    from item2vec.plotting import embedding_map

    model = Item2Vec(vector_size=8, epochs=1, n_jobs=1, random_state=0).fit(small_planted.sequences)
    labels = {int(i): f"cluster {small_planted.cluster_of[int(i)]}" for i in model.items_}
    path = tmp_path / "map.png"
    fig = embedding_map(model, labels=labels, path=path, annotate=5)
    assert path.read_bytes()[:4] == b"\x89PNG"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sorted(legend) == sorted(f"cluster {c}" for c in range(10))
    with pytest.raises(ValueError, match="one entry per item"):
        embedding_map(model, labels=["a", "b"])

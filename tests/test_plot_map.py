"""The embedding map, checked through the matplotlib objects it draws."""

import tracemalloc
import types

import numpy as np
import pytest

from item2vec import Item2Vec, plotting
from item2vec.plotting import embedding_map, project_2d

matplotlib = pytest.importorskip("matplotlib")

N_ITEMS = 40


def reference_pca(vectors):
    """Projection on the two leading eigenvectors of the covariance matrix."""
    vectors = np.asarray(vectors, dtype=np.float64)
    centred = vectors - vectors.mean(axis=0)
    values, axes = np.linalg.eigh(centred.T @ centred)
    return centred @ axes[:, np.argsort(-values)[:2]]


def assert_same_up_to_sign(got, expected):
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape
    for axis in range(expected.shape[1]):
        sign = 1.0 if got[:, axis] @ expected[:, axis] >= 0 else -1.0
        np.testing.assert_allclose(got[:, axis], sign * expected[:, axis], atol=1e-9)


def scatters(fig):
    """(label, offsets, rgba colour) of each scatter call, in drawing order."""
    return [
        (c.get_label(), np.asarray(c.get_offsets()), tuple(c.get_facecolors()[0][:3]))
        for c in fig.axes[0].collections
    ]


def legend_texts(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


@pytest.fixture(scope="module")
def model():
    """Items "i00".."i39" where item k occurs 41 - k times: frequency order is id order."""
    rng = np.random.default_rng(0)
    tokens = np.repeat([f"i{k:02d}" for k in range(N_ITEMS)], [41 - k for k in range(N_ITEMS)])
    rng.shuffle(tokens)
    sequences = [tokens[i : i + 10].tolist() for i in range(0, len(tokens), 10)]
    fitted = Item2Vec(vector_size=4, epochs=1, sample=0, n_jobs=1, random_state=0)
    fitted.fit(sequences)
    assert fitted.items_.tolist() == [f"i{k:02d}" for k in range(N_ITEMS)]
    return fitted


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    yield
    plt.close("all")
    matplotlib.use(backend)


def test_project_2d_matches_the_covariance_eigenvectors():
    vectors = np.random.default_rng(1).normal(size=(50, 6)) * [5, 1, 3, 0.5, 2, 0.1] + 7
    assert_same_up_to_sign(project_2d(vectors), reference_pca(vectors))


def test_project_2d_computes_in_double_precision():
    vectors = np.random.default_rng(2).normal(size=(200, 16)).astype(np.float32)
    coords = project_2d(vectors)
    assert coords.dtype == np.float64
    # a float32 SVD would be off by about 1e-6
    assert_same_up_to_sign(coords, reference_pca(vectors.astype(np.float64)))


def test_project_2d_of_one_vector_is_the_origin():
    np.testing.assert_array_equal(project_2d(np.ones((1, 5))), [[0.0, 0.0]])


def test_project_2d_of_one_dimensional_vectors_is_a_line():
    values = np.array([[3.0], [1.0], [-2.0], [6.0]])
    coords = project_2d(values)
    assert coords.shape == (4, 2)
    assert_same_up_to_sign(coords[:, :1], values - values.mean())
    np.testing.assert_array_equal(coords[:, 1], 0.0)


@pytest.mark.parametrize("shape", [(3,), (0, 3), (2, 2, 2)])
def test_project_2d_rejects_what_is_not_a_list_of_vectors(shape):
    message = rf"need a non-empty 2-D array of vectors, got shape \({', '.join(map(str, shape))}"
    with pytest.raises(ValueError, match=message):
        project_2d(np.zeros(shape))


def test_project_2d_memory_grows_linearly_with_the_number_of_vectors():
    vectors = np.random.default_rng(3).normal(size=(4_000, 8))
    tracemalloc.start()
    try:
        project_2d(vectors)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a full SVD would hold a 4000 x 4000 matrix (128 MB)
    assert peak < 16e6


def test_unlabelled_map_plots_every_item_at_its_principal_components(model):
    fig = embedding_map(model, annotate=0)
    [(_, offsets, _)] = scatters(fig)
    assert_same_up_to_sign(offsets, reference_pca(model.normed_vectors))
    assert fig.axes[0].get_legend() is None
    assert np.ptp(offsets, axis=0).min() > 0  # a real 2-D cloud
    assert len(set(map(tuple, fig.axes[0].collections[0].get_facecolors()))) == 1


def test_axes_and_default_title_describe_the_projection(model):
    ax = embedding_map(model).axes[0]
    assert ax.get_xlabel() == "first principal component"
    assert ax.get_ylabel() == "second principal component"
    assert ax.get_title() == f"{N_ITEMS} item vectors (PCA)"


def test_title_replaces_the_default(model):
    assert embedding_map(model, title="Movies").axes[0].get_title() == "Movies"


@pytest.mark.parametrize("max_items", [1, 5, N_ITEMS - 1])
def test_max_items_keeps_the_most_frequent_items(model, max_items):
    fig = embedding_map(model, max_items=max_items, annotate=N_ITEMS)
    [(_, offsets, _)] = scatters(fig)
    # the projection is fitted on the kept items only
    assert_same_up_to_sign(offsets, reference_pca(model.normed_vectors[:max_items]))
    assert [t.get_text() for t in fig.axes[0].texts] == model.items_[:max_items].tolist()
    assert fig.axes[0].get_title() == f"{max_items} item vectors (PCA)"


def test_max_items_none_plots_every_item(model):
    [(_, offsets, _)] = scatters(embedding_map(model, max_items=None))
    assert len(offsets) == N_ITEMS


def test_max_items_defaults_to_twenty_thousand():
    # item k + 1 follows item k once, so items 1..20000 occur twice and item 0 once
    ids = np.arange(20_001)
    sequences = np.column_stack([ids[:-1], ids[1:]]).tolist()
    big = Item2Vec(vector_size=2, epochs=1, sample=0, n_jobs=1, random_state=0).fit(sequences)
    fig = embedding_map(big, annotate=0)
    [(_, offsets, _)] = scatters(fig)
    assert len(offsets) == 20_000
    assert fig.axes[0].get_title() == "20,000 item vectors (PCA)"


@pytest.mark.parametrize("annotate", [0, 3, N_ITEMS + 5])
def test_annotations_name_the_most_frequent_items_at_their_points(model, annotate):
    fig = embedding_map(model, annotate=annotate)
    coords = scatters(fig)[0][1]
    texts = fig.axes[0].texts
    shown = min(annotate, N_ITEMS)
    assert [t.get_text() for t in texts] == [f"i{k:02d}" for k in range(shown)]
    for row, text in enumerate(texts):
        np.testing.assert_array_equal(text.xy, coords[row])


def test_fifteen_items_are_annotated_by_default(model):
    texts = embedding_map(model).axes[0].texts
    assert [t.get_text() for t in texts] == [f"i{k:02d}" for k in range(15)]


def test_titles_replace_ids_where_given(model):
    titles = {"i00": "Heat", "i02": "Alien"}
    fig = embedding_map(model, annotate=4, titles=titles)
    assert [t.get_text() for t in fig.axes[0].texts] == ["Heat", "i01", "Alien", "i03"]


def test_long_titles_are_cut_to_thirty_characters(model):
    titles = {"i00": "A" * 29 + "BCD", "i01": "x" * 30}
    fig = embedding_map(model, annotate=2, titles=titles)
    assert [t.get_text() for t in fig.axes[0].texts] == ["A" * 29 + "B", "x" * 30]


def min_distance(colours):
    colours = np.asarray(colours)
    gaps = np.linalg.norm(colours[:, None] - colours[None], axis=2)
    return gaps[~np.eye(len(colours), dtype=bool)].min()


def assert_groups_at_their_coordinates(drawn, coords, rows_of):
    """Each scatter holds exactly its group's rows of ``coords``, in frequency order."""
    got = np.vstack([offsets for _, offsets, _ in drawn])
    expected = np.vstack([coords[rows_of[label]] for label, _, _ in drawn])
    assert_same_up_to_sign(got, expected)


def test_labels_colour_each_group_and_grey_the_unlabelled(model):
    # 12 "big", 8 "mid", 5 "small"; the 15 other items have no label
    sizes = {"big": 12, "mid": 8, "small": 5}
    names = [name for name, size in sizes.items() for _ in range(size)]
    chosen = np.random.default_rng(4).permutation(N_ITEMS)[: len(names)]
    labels = {model.items_[k]: name for k, name in zip(chosen, names, strict=True)}
    fig = embedding_map(model, labels=labels, annotate=0)
    drawn = scatters(fig)
    # the grey group first (underneath), then by decreasing size
    assert [label for label, _, _ in drawn] == ["other", "big", "mid", "small"]
    assert legend_texts(fig) == ["other", "big", "mid", "small"]
    as_label = np.array([labels.get(item, "other") for item in model.items_])
    rows_of = {name: np.flatnonzero(as_label == name) for name in ["other", *sizes]}
    assert_groups_at_their_coordinates(drawn, reference_pca(model.normed_vectors), rows_of)
    grey = drawn[0][2]
    assert grey[0] == grey[1] == grey[2]
    assert min_distance([colour for _, _, colour in drawn]) > 0.05


def test_labels_can_be_a_sequence_aligned_with_items(model):
    labels = ["even" if k % 2 == 0 else "odd" for k in range(N_ITEMS)]
    labels[3] = None  # one item without a label
    fig = embedding_map(model, labels=labels, max_items=10, annotate=0)
    drawn = scatters(fig)
    assert legend_texts(fig) == ["other", "even", "odd"]
    rows_of = {"other": [3], "even": [0, 2, 4, 6, 8], "odd": [1, 5, 7, 9]}
    assert_groups_at_their_coordinates(drawn, reference_pca(model.normed_vectors[:10]), rows_of)


def test_only_the_twenty_most_common_labels_get_a_colour(model):
    # 23 groups: two of 3 items, thirteen of 2, eight of 1
    sizes = [3, 3] + [2] * 13 + [1] * 8
    names = [f"g{g:02d}" for g, size in enumerate(sizes) for _ in range(size)]
    assert len(names) == N_ITEMS
    fig = embedding_map(model, labels=names, annotate=0)
    drawn = scatters(fig)
    assert [label for label, _, _ in drawn] == ["other"] + [f"g{g:02d}" for g in range(20)]
    assert legend_texts(fig) == ["other"] + [f"g{g:02d}" for g in range(20)]
    assert len(drawn[0][1]) == 3  # g20, g21 and g22 are grey
    assert min_distance([colour for _, _, colour in drawn[1:]]) > 0.05
    # and no labelled group looks grey like "other": red, green and blue differ
    assert all(np.ptp(colour[:3]) > 0.1 for _, _, colour in drawn[1:])


def test_labels_of_equal_count_are_listed_alphabetically(model):
    # labels "a".."t" given in a shuffled order; every other one has 3 items, the rest 1
    letters = [chr(ord("a") + g) for g in range(20)]
    names = [f"label {c}" for g, c in enumerate(letters) for _ in range(3 if g % 2 else 1)]
    shuffled = np.random.default_rng(5).permutation(names).tolist()
    fig = embedding_map(model, labels=shuffled, annotate=0)
    expected = [f"label {c}" for c in letters[1::2]] + [f"label {c}" for c in letters[0::2]]
    assert legend_texts(fig) == expected


def test_file_is_written_in_the_format_of_its_suffix(model, tmp_path):
    embedding_map(model, path=tmp_path / "map.png")
    embedding_map(model, path=tmp_path / "map.svg")
    embedding_map(model, path=tmp_path / "map")
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "map.svg").read_bytes()[:1000]
    assert (tmp_path / "map").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # no suffix: PNG


def test_failed_write_leaves_the_earlier_file_alone(model, tmp_path):
    path = tmp_path / "map.nosuchformat"
    path.write_bytes(b"earlier")
    with pytest.raises(ValueError, match="nosuchformat"):
        embedding_map(model, path=path)
    assert path.read_bytes() == b"earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["map.nosuchformat"]


@pytest.mark.parametrize(
    ("display", "with_path", "os_name", "backend"),
    [
        (None, True, None, "agg"),  # headless and writing a file: no GUI needed
        (":0", True, None, "pdf"),  # a display: the user's backend stays
        (None, False, None, "pdf"),  # nothing written: the user's backend stays
        (None, True, "nt", "pdf"),  # Windows never has DISPLAY
    ],
)
def test_backend_switches_to_agg_only_to_write_a_file_headless(
    model, tmp_path, monkeypatch, display, with_path, os_name, backend
):
    matplotlib.use("pdf")
    if display is None:
        monkeypatch.delenv("DISPLAY", raising=False)
    else:
        monkeypatch.setenv("DISPLAY", display)
    if os_name is not None:
        import os

        fake_os = types.SimpleNamespace(name=os_name, environ=os.environ)
        monkeypatch.setattr(plotting, "os", fake_os)
    embedding_map(model, path=tmp_path / "map.svg" if with_path else None, annotate=0)
    assert matplotlib.get_backend().lower() == backend


def test_missing_matplotlib_names_the_extra(model, without_module):
    without_module("matplotlib")
    with pytest.raises(ImportError) as info:
        embedding_map(model)
    assert str(info.value) == "plotting needs matplotlib: pip install 'item2vec[plot]'"

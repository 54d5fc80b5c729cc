"""MovieLens readers in every layout, and the planted-cluster session generator."""

import re

import numpy as np
import pytest
from scipy import stats

from item2vec.datasets import load_movielens, planted_sessions

# the genre flags of u.item, in the order of the ml-100k README
GENRES_100K = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip


def flags(*genres):
    return "|".join("1" if g in genres else "0" for g in GENRES_100K)


def assert_events(events, user, item, rating, timestamp):
    """Every column's values and dtype: integer ids, float ratings and times."""
    assert sorted(events) == ["item", "rating", "timestamp", "user"]
    assert events["user"].dtype == np.int64 and events["user"].tolist() == user
    assert events["item"].dtype == np.int64 and events["item"].tolist() == item
    assert events["rating"].dtype == np.float64 and events["rating"].tolist() == rating
    assert events["timestamp"].dtype == np.float64 and events["timestamp"].tolist() == timestamp


# ml-100k: u.data and u.item


def test_100k_ratings_are_read(tmp_path):
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t5\t891717742\n")
    data = load_movielens(tmp_path)
    assert_events(data.events, [196, 186], [242, 302], [3.0, 5.0], [881250949.0, 891717742.0])
    assert data.titles == {} and data.genres == {}  # no u.item


def test_100k_single_rating_is_one_row(tmp_path):
    (tmp_path / "u.data").write_text("1\t2\t4\t10\n")
    assert_events(load_movielens(tmp_path).events, [1], [2], [4.0], [10.0])


def test_100k_items_are_latin1_with_genre_flags(tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t4\t10\n")
    lines = [
        f"1|Café au lait (1993)|01-Jan-1993||http://x|{flags('unknown', 'Comedy', 'Western')}",
        "",  # short lines are skipped, not the end of the file
        f"2|GoldenEye (1995)|01-Jan-1995||http://y|{flags('Action', 'Thriller')}",
        "3|No flags (1990)|01-Jan-1990||http://z",  # five fields: a title, no genres
        "4|Too short",
    ]
    (tmp_path / "u.item").write_bytes("\n".join(lines).encode("latin-1"))
    data = load_movielens(tmp_path)
    assert data.titles == {1: "Café au lait (1993)", 2: "GoldenEye (1995)", 3: "No flags (1990)"}
    assert data.genres == {1: ["unknown", "Comedy", "Western"], 2: ["Action", "Thriller"], 3: []}


# ml-1m / ml-10m: ratings.dat and movies.dat


def test_dat_layout_is_read(tmp_path):
    (tmp_path / "ratings.dat").write_text("1::1193::5::978300760\n\n2::661::3.5::978302109\n")
    movies = "1193::Amélie (2001)::Comedy|Romance\n661::James (1996)::Animation\nbad line\n"
    (tmp_path / "movies.dat").write_bytes(movies.encode("latin-1"))
    data = load_movielens(tmp_path)
    assert_events(data.events, [1, 2], [1193, 661], [5.0, 3.5], [978300760.0, 978302109.0])
    assert data.titles == {1193: "Amélie (2001)", 661: "James (1996)"}
    assert data.genres == {1193: ["Comedy", "Romance"], 661: ["Animation"]}


# ml-latest / ml-25m: ratings.csv and movies.csv


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("ratings.dat", "1::10::5\n2::10::3::978300761\n"),  # a field missing
        ("u.data", "1\t10\tfive\t881250949\n"),
        ("ratings.csv", "userId,movieId,rating\n1,10,5\n"),  # no timestamp column
    ],
)
def test_a_malformed_ratings_file_is_named_in_the_error(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=rf"{name}"):
        load_movielens(tmp_path)


def test_latest_layout_is_read(tmp_path):
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n3,5,4.5,964982703\n7,2,1,964981247\n"
    )
    (tmp_path / "movies.csv").write_text(
        "movieId,title,genres\n"
        '5,"Heat, The (1995)",Action|Crime|Thriller\n'
        "2,Amélie (2001),(no genres listed)\n",
        encoding="utf-8",
    )
    data = load_movielens(tmp_path)
    assert_events(data.events, [3, 7], [5, 2], [4.5, 1.0], [964982703.0, 964981247.0])
    assert data.titles == {5: "Heat, The (1995)", 2: "Amélie (2001)"}
    assert data.genres == {5: ["Action", "Crime", "Thriller"], 2: ["(no genres listed)"]}


# RecBole atomic files: *.inter and *.item

INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"


def test_atomic_layout_is_read(tmp_path):
    (tmp_path / "ml-100k.inter").write_text(
        INTER_HEADER + "196\t242\t3\t881250949\n186\t302\t2.5\t891717742\n1\t2\tbroken row\n"
    )
    (tmp_path / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        '242\t"Crocodile" Dundee (1986)\t1986\tAction Comedy\n'
        "302\tL.A. Confidential (1997)\t1997\tCrime\n",
        encoding="utf-8",
    )
    data = load_movielens(tmp_path)
    assert_events(data.events, [196, 186], [242, 302], [3.0, 2.5], [881250949.0, 891717742.0])
    # no quoting in atomic files: quotes are part of the title
    assert data.titles == {242: '"Crocodile" Dundee (1986)', 302: "L.A. Confidential (1997)"}
    assert data.genres == {242: ["Action", "Comedy"], 302: ["Crime"]}


def test_atomic_items_without_titles_get_empty_titles(tmp_path):
    (tmp_path / "ml.inter").write_text(INTER_HEADER + "1\t7\t4\t10\n")
    (tmp_path / "ml.item").write_text("item_id:token\trelease_year:token\n7\t1999\n8\t2001\n")
    data = load_movielens(tmp_path)
    assert data.titles == {7: "", 8: ""}
    assert data.genres == {}


def test_atomic_without_item_file_has_no_titles(tmp_path):
    (tmp_path / "ml.inter").write_text(INTER_HEADER + "1\t7\t4\t10\n")
    data = load_movielens(tmp_path)
    assert_events(data.events, [1], [7], [4.0], [10.0])
    assert data.titles == {} and data.genres == {}


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p / "u.data"])
def test_a_path_that_is_not_a_folder_is_reported(tmp_path, make):
    (tmp_path / "u.data").write_text("1\t2\t3\t4\n")
    path = make(tmp_path)
    with pytest.raises(FileNotFoundError, match=f"^no such folder: {re.escape(str(path))}$"):
        load_movielens(path)


# planted_sessions


def test_defaults_are_the_documented_ones():
    explicit = planted_sessions(
        n_sessions=10_000, n_items=1_000, n_clusters=50, mean_length=20.0, noise=0.05,
        zipf=1.0, random_state=0,
    )  # fmt: skip
    default = planted_sessions()
    assert len(default.sequences) == 10_000
    assert list(map(len, default.sequences)) == list(map(len, explicit.sequences))
    np.testing.assert_array_equal(
        np.concatenate(default.sequences), np.concatenate(explicit.sequences)
    )
    np.testing.assert_array_equal(default.cluster_of, explicit.cluster_of)


def test_item_i_belongs_to_cluster_i_mod_n_clusters():
    data = planted_sessions(n_sessions=5, n_items=23, n_clusters=4)
    assert data.cluster_of.dtype == np.int64
    assert data.cluster_of.tolist() == [i % 4 for i in range(23)]


def test_sessions_are_int64_arrays_of_valid_items():
    data = planted_sessions(n_sessions=300, n_items=17, n_clusters=3, mean_length=4)
    assert len(data.sequences) == 300
    assert all(s.dtype == np.int64 and s.ndim == 1 and len(s) >= 1 for s in data.sequences)
    tokens = np.concatenate(data.sequences)
    assert tokens.min() >= 0 and tokens.max() <= 16


def test_without_noise_each_session_stays_in_one_cluster():
    data = planted_sessions(n_sessions=500, n_items=40, n_clusters=6, mean_length=8, noise=0)
    assert all(len(set(data.cluster_of[s].tolist())) == 1 for s in data.sequences)


def test_lengths_are_one_plus_poisson():
    data = planted_sessions(n_sessions=20_000, n_items=30, n_clusters=3, mean_length=6)
    lengths = np.array([len(s) for s in data.sequences])
    assert lengths.min() == 1  # P(length 1) = exp(-5): about 135 sessions
    # 1 + Poisson(5): mean 6, variance 5 (standard errors about 0.016 and 0.05)
    assert abs(lengths.mean() - 6) < 0.07
    assert abs(lengths.var() - 5) < 0.25


def test_mean_length_one_gives_single_item_sessions():
    data = planted_sessions(n_sessions=50, n_items=10, n_clusters=2, mean_length=1)
    assert [len(s) for s in data.sequences] == [1] * 50


@pytest.mark.parametrize(("zipf", "noise"), [(1.0, 0.05), (2.0, 0.0), (0.5, 1.0)])
def test_item_frequencies_follow_the_zipf_law(zipf, noise):
    # a cluster is picked by its mass and an item within it by popularity, so overall
    # (and for noise events) item i is drawn with probability proportional to 1/(i+10)**zipf
    n_items = 30
    data = planted_sessions(
        n_sessions=6_000, n_items=n_items, n_clusters=4, mean_length=10, noise=noise,
        zipf=zipf, random_state=1,
    )  # fmt: skip
    tokens = np.concatenate(data.sequences)
    observed = np.bincount(tokens, minlength=n_items)
    law = 1.0 / (np.arange(n_items) + 10.0) ** zipf
    expected = len(tokens) * law / law.sum()
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < stats.chi2.ppf(0.999, n_items - 1)


def test_sessions_pick_clusters_by_popularity_mass():
    n_items, n_clusters = 20, 4
    data = planted_sessions(
        n_sessions=20_000, n_items=n_items, n_clusters=n_clusters, mean_length=2, noise=0,
        random_state=2,
    )  # fmt: skip
    picked = np.array([data.cluster_of[s[0]] for s in data.sequences])
    law = 1.0 / (np.arange(n_items) + 10.0)
    mass = np.array([law[c::n_clusters].sum() for c in range(n_clusters)])
    share = np.bincount(picked, minlength=n_clusters) / len(picked)
    np.testing.assert_allclose(share, mass / mass.sum(), atol=0.012)  # 4 standard errors


@pytest.mark.parametrize("noise", [0.0, 0.3, 1.0])
def test_noise_is_the_share_of_events_drawn_from_the_whole_catalogue(noise):
    n_items, n_clusters = 50, 5
    data = planted_sessions(
        n_sessions=2_000, n_items=n_items, n_clusters=n_clusters, mean_length=40, noise=noise,
        random_state=3,
    )  # fmt: skip
    # the planted cluster of a 40-event session is its most common one (unless all is noise)
    outside = total = 0
    for session in data.sequences:
        clusters = data.cluster_of[session]
        outside += int((clusters != np.bincount(clusters).argmax()).sum())
        total += len(session)
    # a catalogue-wide draw leaves the planted cluster c with probability 1 - P(c)
    law = 1.0 / (np.arange(n_items) + 10.0)
    p = np.array([law[c::n_clusters].sum() for c in range(n_clusters)]) / law.sum()
    if noise < 1:
        assert abs(outside / total - noise * (1 - (p**2).sum())) < 0.01
    else:  # all noise: clusters are independent of the session, no planted cluster at all
        assert outside / total > 0.6


def test_every_item_can_be_drawn():
    for noise in (0.0, 1.0):
        data = planted_sessions(n_sessions=400, n_items=7, n_clusters=3, noise=noise)
        assert set(np.concatenate(data.sequences).tolist()) == set(range(7))


def test_the_seed_makes_sessions_reproducible():
    def draw(seed):
        return planted_sessions(n_sessions=50, n_items=20, n_clusters=4, random_state=seed)

    first, again, other = draw(11), draw(11), draw(12)
    assert all(np.array_equal(a, b) for a, b in zip(first.sequences, again.sequences, strict=True))
    assert not all(
        len(a) == len(b) and np.array_equal(a, b)
        for a, b in zip(first.sequences, other.sequences, strict=True)
    )


@pytest.mark.parametrize(
    "sizes",
    [
        dict(n_sessions=1, n_items=1, n_clusters=1),
        dict(n_sessions=3, n_items=5, n_clusters=5),
        dict(n_sessions=3, n_items=5, n_clusters=1),
    ],
)
def test_smallest_valid_sizes_work(sizes):
    data = planted_sessions(**sizes, mean_length=3)
    assert len(data.sequences) == sizes["n_sessions"]
    assert len(data.cluster_of) == sizes["n_items"]


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_noise_bounds_are_allowed(noise):
    assert len(planted_sessions(n_sessions=4, n_items=6, n_clusters=2, noise=noise).sequences) == 4


SIZES_MESSAGE = "^" + re.escape("need n_sessions >= 1 and 1 <= n_clusters <= n_items >= 1") + "$"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(n_sessions=0), SIZES_MESSAGE),
        (dict(n_items=0, n_clusters=0), SIZES_MESSAGE),
        (dict(n_items=0), SIZES_MESSAGE),
        (dict(n_clusters=0), SIZES_MESSAGE),
        (dict(n_items=4, n_clusters=5), SIZES_MESSAGE),
        (dict(mean_length=0.5), r"^mean_length must be >= 1, got 0\.5$"),
        (dict(noise=-0.1), r"^noise must be in \[0, 1\], got -0\.1$"),
        (dict(noise=1.1), r"^noise must be in \[0, 1\], got 1\.1$"),
    ],
)
def test_bad_arguments_are_rejected_with_the_reason(arguments, message):
    with pytest.raises(ValueError, match=message):
        planted_sessions(**{"n_sessions": 5, "n_items": 10, "n_clusters": 2, **arguments})

"""Data sets: MovieLens readers and a synthetic session generator with planted clusters."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from item2vec.ingest import _infer_numeric, read_table

__all__ = ["MovieLens", "PlantedSessions", "load_movielens", "planted_sessions"]

_ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


class MovieLens(NamedTuple):
    """A MovieLens data set as read by :func:`load_movielens`.

    Attributes
    ----------
    events : dict of str to ndarray
        Columns ``user``, ``item``, ``rating`` (float) and ``timestamp``
        (seconds), one row per rating, ready for ``Sequences.from_events``.
    titles : dict
        Item id to title.
    genres : dict
        Item id to a list of genres.
    """

    events: dict[str, np.ndarray]
    titles: dict[Any, str]
    genres: dict[Any, list[str]]


def load_movielens(path: str | os.PathLike[str]) -> MovieLens:
    r"""Read MovieLens from a folder in any of its distributed layouts.

    Recognised: ml-100k (``u.data``, ``u.item``), ml-1m / ml-10m
    (``ratings.dat``, ``movies.dat``), ml-latest / ml-25m (``ratings.csv``,
    ``movies.csv``) and RecBole atomic files (``*.inter``, ``*.item``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ratings.dat").write_text("1::10::5::978300760\n2::10::3::978300761\n")
    >>> _ = (folder / "movies.dat").write_text("10::GoldenEye (1995)::Action|Thriller\n")
    >>> data = load_movielens(folder)
    >>> data.events["item"].tolist(), data.titles[10], data.genres[10]
    ([10, 10], 'GoldenEye (1995)', ['Action', 'Thriller'])
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    inter = sorted(folder.glob("*.inter"))
    for name, load in (("u.data", _load_100k), ("ratings.dat", _load_dat),
                       ("ratings.csv", _load_latest)):  # fmt: skip
        if (folder / name).exists():
            return _named_errors(folder / name, load, folder)
    if inter:
        return _named_errors(inter[0], _load_atomic, inter[0])
    raise FileNotFoundError(
        f"{folder} holds no MovieLens ratings (u.data, ratings.dat, ratings.csv or *.inter)"
    )


def _named_errors(file: Path, load: Any, where: Path) -> MovieLens:
    """``load(where)``, with a malformed line reported as a ValueError naming ``file``."""
    try:
        result: MovieLens = load(where)
    except (ValueError, IndexError, KeyError) as exc:
        if str(file) in str(exc):
            raise
        raise ValueError(f"{file} is not a MovieLens ratings file as expected: {exc}") from None
    return result


def _events(user: Any, item: Any, rating: Any, timestamp: Any) -> dict[str, np.ndarray]:
    return {
        "user": np.asarray(user),
        "item": np.asarray(item),
        "rating": np.asarray(rating, dtype=np.float64),
        "timestamp": np.asarray(timestamp, dtype=np.float64),
    }


def _load_100k(folder: Path) -> MovieLens:
    table = np.loadtxt(folder / "u.data", dtype=np.int64, ndmin=2)
    titles, genres = {}, {}
    item_file = folder / "u.item"
    if item_file.exists():
        for line in item_file.read_text(encoding="latin-1").splitlines():
            fields = line.split("|")
            if len(fields) < 5:
                continue
            item = int(fields[0])
            titles[item] = fields[1]
            flags = fields[5:]
            genres[item] = [g for g, f in zip(_ML100K_GENRES, flags, strict=False) if f == "1"]
    return MovieLens(_events(*table.T[:4]), titles, genres)


def _load_dat(folder: Path) -> MovieLens:
    rows = [
        line.split("::")
        for line in (folder / "ratings.dat").read_text(encoding="latin-1").splitlines()
        if line.strip()
    ]
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    titles, genres = {}, {}
    movies = folder / "movies.dat"
    if movies.exists():
        for line in movies.read_text(encoding="latin-1").splitlines():
            fields = line.split("::")
            if len(fields) == 3:
                item = int(fields[0])
                titles[item] = fields[1]
                genres[item] = fields[2].split("|")
    events = _events(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), *table.T[2:])
    return MovieLens(events, titles, genres)


def _load_latest(folder: Path) -> MovieLens:
    columns = read_table(folder / "ratings.csv")
    events = _events(columns["userId"], columns["movieId"], columns["rating"], columns["timestamp"])
    titles, genres = {}, {}
    movies = folder / "movies.csv"
    if movies.exists():
        with movies.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                item = int(row["movieId"])
                titles[item] = row["title"]
                genres[item] = row["genres"].split("|")
    return MovieLens(events, titles, genres)


def _load_atomic(inter: Path) -> MovieLens:
    """RecBole atomic files: tab-separated, headers like ``user_id:token``."""
    columns = _read_atomic(inter)
    events = _events(
        columns["user_id"], columns["item_id"], columns["rating"], columns["timestamp"]
    )
    titles, genres = {}, {}
    item_file = inter.with_suffix(".item")
    if item_file.exists():
        items = _read_atomic(item_file)
        ids = items["item_id"].tolist()
        titles = dict(
            zip(ids, items.get("movie_title", np.array([""] * len(ids))).tolist(), strict=True)
        )
        if "class" in items:
            genres = {i: str(g).split() for i, g in zip(ids, items["class"].tolist(), strict=True)}
    return MovieLens(events, titles, genres)


def _read_atomic(path: Path) -> dict[str, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        names = [name.split(":")[0] for name in next(reader)]
        columns: list[list[str]] = [[] for _ in names]
        for row in reader:
            if len(row) == len(names):
                for column, value in zip(columns, row, strict=True):
                    column.append(value)
    return {name: _infer_numeric(values) for name, values in zip(names, columns, strict=True)}


class PlantedSessions(NamedTuple):
    """Sessions generated by :func:`planted_sessions`.

    Attributes
    ----------
    sequences : list of int64 ndarrays
        One array of item ids per session.
    cluster_of : int64 ndarray of shape (n_items,)
        The planted cluster of item id ``i``.
    """

    sequences: list[np.ndarray]
    cluster_of: np.ndarray


def planted_sessions(
    n_sessions: int = 10_000,
    n_items: int = 1_000,
    n_clusters: int = 50,
    mean_length: float = 20.0,
    noise: float = 0.05,
    zipf: float = 1.0,
    random_state: int | None = 0,
) -> PlantedSessions:
    """Sessions whose items mostly come from one planted cluster each.

    Item ``i`` belongs to cluster ``i % n_clusters``; item popularity follows
    a Zipf law over ids (``1 / (i + 10) ** zipf``). A session picks a cluster
    in proportion to its popularity mass, then draws ``1 + Poisson(mean_length
    - 1)`` items from it by popularity, except that each event is replaced with
    probability ``noise`` by an item drawn from the whole catalogue.

    Parameters
    ----------
    n_sessions, n_items, n_clusters : int
        Sizes of the corpus.
    mean_length : float
        Mean session length (>= 1).
    noise : float
        Share of events drawn from the whole catalogue instead of the cluster.
    zipf : float
        Exponent of the popularity law.
    random_state : int or None
        Seed.

    Returns
    -------
    PlantedSessions

    Examples
    --------
    >>> data = planted_sessions(n_sessions=100, n_items=50, n_clusters=5)
    >>> len(data.sequences), int(data.cluster_of[7])
    (100, 2)
    """
    if n_sessions < 1 or n_items < 1 or not 1 <= n_clusters <= n_items:
        raise ValueError("need n_sessions >= 1 and 1 <= n_clusters <= n_items >= 1")
    if mean_length < 1:
        raise ValueError(f"mean_length must be >= 1, got {mean_length}")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    rng = np.random.default_rng(random_state)
    items = np.arange(n_items)
    cluster_of = items % n_clusters
    popularity = 1.0 / (items + 10.0) ** zipf
    # items grouped by cluster; a cluster's within-cluster CDF is shifted to [c, c + 1)
    by_cluster = np.argsort(cluster_of, kind="stable")
    cluster_mass = np.bincount(cluster_of, weights=popularity, minlength=n_clusters)
    within = popularity[by_cluster] / cluster_mass[cluster_of[by_cluster]]
    shifted_cdf = np.empty(n_items)
    for c in range(n_clusters):
        members = cluster_of[by_cluster] == c
        shifted_cdf[members] = c + np.cumsum(within[members])
    global_cdf = np.cumsum(popularity / popularity.sum())

    lengths = 1 + rng.poisson(mean_length - 1, size=n_sessions)
    session_cluster = rng.choice(n_clusters, size=n_sessions, p=cluster_mass / cluster_mass.sum())
    token_cluster = np.repeat(session_cluster, lengths)
    n_tokens = token_cluster.shape[0]
    position = np.searchsorted(shifted_cdf, token_cluster + rng.random(n_tokens), side="right")
    tokens = by_cluster[np.minimum(position, n_items - 1)]
    noisy = rng.random(n_tokens) < noise
    noise_pos = np.searchsorted(global_cdf, rng.random(int(noisy.sum())), side="right")
    tokens[noisy] = np.minimum(noise_pos, n_items - 1)
    return PlantedSessions(np.split(tokens, np.cumsum(lengths)[:-1]), cluster_of)

"""Runs the Python examples of README.md as tests, block after block as written.

They run in a temporary folder holding a small generated stand-in for the
MovieLens-100K folder the examples read (``ml-100k/u.data`` and ``u.item``):
users who rate films of one planted cluster each, over a few days.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

from item2vec.datasets import planted_sessions


def _write_movielens_standin(folder: Path) -> None:
    data = planted_sessions(n_sessions=300, n_items=120, n_clusters=6, mean_length=15)
    rng = np.random.default_rng(0)
    rows = []
    for user, films in enumerate(data.sequences, start=1):
        start = 880_000_000 + int(rng.integers(0, 10**7))
        steps = np.cumsum(rng.integers(60, 86_400, size=len(films)))
        for film, step in zip(films.tolist(), steps.tolist(), strict=True):
            rows.append(f"{user}\t{film + 1}\t{int(rng.integers(1, 6))}\t{start + step}")
    folder.mkdir()
    (folder / "u.data").write_text("\n".join(rows) + "\n")
    flags = [["0"] * 19 for _ in data.cluster_of]
    for film, cluster in enumerate(data.cluster_of.tolist()):
        flags[film][1 + cluster] = "1"
    (folder / "u.item").write_text(
        "".join(
            f"{film + 1}|Film {film + 1} (1995)|01-Jan-1995||http://example.org|{'|'.join(f)}\n"
            for film, f in enumerate(flags)
        ),
        encoding="latin-1",
    )


def _setup(namespace: dict) -> None:
    namespace["_cwd"] = os.getcwd()
    namespace["_folder"] = folder = Path(tempfile.mkdtemp(prefix="item2vec-readme-"))
    _write_movielens_standin(folder / "ml-100k")
    os.chdir(folder)


def _teardown(namespace: dict) -> None:
    os.chdir(namespace["_cwd"])
    shutil.rmtree(namespace["_folder"], ignore_errors=True)


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser()],
    patterns=["README.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()

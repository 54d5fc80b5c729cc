"""A 2-D map of the item vectors (needs matplotlib: ``pip install 'item2vec[plot]'``)."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["embedding_map", "project_2d"]


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components of the rows (PCA by SVD), shape (n, 2)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] < 1:
        raise ValueError(f"need a non-empty 2-D array of vectors, got shape {vectors.shape}")
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ components[:2].T
    if coords.shape[1] < 2:  # one-dimensional vectors: put everything on a line
        coords = np.column_stack([coords[:, 0], np.zeros(coords.shape[0])])
    return coords


def embedding_map(
    model: Any,
    labels: Mapping[Hashable, Any] | Sequence[Any] | np.ndarray | None = None,
    path: str | os.PathLike[str] | None = None,
    annotate: int = 15,
    titles: Mapping[Hashable, str] | None = None,
    max_items: int | None = 20_000,
    title: str | None = None,
) -> Any:
    """Scatter plot of the item vectors projected to 2-D by PCA.

    Parameters
    ----------
    model : fitted Item2Vec
    labels : mapping item -> label, or a sequence aligned with ``model.items_``, optional
        Colours the points by label (the 20 most common labels get their own
        colour and a legend entry; the rest are grey).
    path : str or path, optional
        Write the figure there (format from the suffix, e.g. ``.png``),
        atomically.
    annotate : int, default=15
        Write the names of this many most frequent items next to their points.
    titles : mapping item -> str, optional
        Names to annotate with instead of the item ids.
    max_items : int or None, default=20000
        Plot at most this many items (the most frequent), to stay readable.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    try:
        import matplotlib

        if path is not None and not os.environ.get("DISPLAY") and os.name != "nt":
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'item2vec[plot]'") from None
    model._check_fitted()
    items = model.items_
    order = np.argsort(-model.vocabulary_.counts, kind="stable")
    if max_items is not None:
        order = order[:max_items]
    coords = project_2d(model.normed_vectors[order])
    item_list = items[order].tolist()
    if labels is None:
        point_labels = None
    elif isinstance(labels, Mapping):
        point_labels = [labels.get(item) for item in item_list]
    else:
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError(
                f"labels must have one entry per item ({len(items)}), got {len(labels)}"
            )
        point_labels = [labels[i] for i in order.tolist()]

    fig, ax = plt.subplots(figsize=(10, 8))
    if point_labels is None:
        ax.scatter(coords[:, 0], coords[:, 1], s=6, alpha=0.6, color="tab:blue")
    else:
        names, counts = np.unique([str(lab) for lab in point_labels], return_counts=True)
        common = [n for n in names[np.argsort(-counts, kind="stable")] if n != "None"][:20]
        # tab20 without its two greys (which would read as "other"), and two of tab20b
        tab20, tab20b = plt.get_cmap("tab20"), plt.get_cmap("tab20b")
        palette = [tab20(i) for i in range(20) if i not in (14, 15)] + [tab20b(0), tab20b(8)]
        as_text = np.array([str(lab) for lab in point_labels])
        rest = ~np.isin(as_text, common)
        if rest.any():
            ax.scatter(coords[rest, 0], coords[rest, 1], s=5, alpha=0.3, color="lightgrey",
                       label="other")  # fmt: skip
        for k, name in enumerate(common):
            mask = as_text == name
            ax.scatter(coords[mask, 0], coords[mask, 1], s=8, alpha=0.7, color=palette[k],
                       label=name)  # fmt: skip
        ax.legend(loc="best", fontsize=7, markerscale=2, ncol=2)
    for row in range(min(annotate, len(item_list))):
        item = item_list[row]
        text = str(titles.get(item, item)) if titles else str(item)
        ax.annotate(text[:30], coords[row], fontsize=7, alpha=0.9)
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(title or f"{len(item_list):,} item vectors (PCA)")
    fig.tight_layout()
    if path is not None:
        from item2vec._files import atomic_write

        path = Path(path)
        with atomic_write(path) as handle:
            fig.savefig(handle, format=path.suffix.lstrip(".") or "png", dpi=120)
    return fig

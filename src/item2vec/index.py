"""Approximate top-k through faiss's HNSW graphs, with filters kept exact.

An index answers the same question as :func:`item2vec.neighbors.top_k` (the
items with the largest dot product with each query, some items excluded per
query or banned for all, an optional prior added), approximately and in far
less time on large catalogues.

- Cosine (item-to-item queries): the graph is built on unit vectors, searched
  by inner product.
- Inner product (recommendations with output vectors): the standard reduction
  of maximum inner product search to a search among vectors of equal norm.
  Each item vector ``x`` gains one coordinate ``sqrt(R**2 - |x|**2)``, ``R``
  the largest norm, and a query gains a 0: the inner products are unchanged,
  and all items sit on one sphere, where a graph search works as it does for
  cosines. A popularity prior is added to four times as many candidates,
  which are ranked again.

Filters stay exact: each query asks for more candidates than it needs (its
excluded items on top), drops excluded and banned ones, and asks again with a
wider search until enough survive; a row that still lacks results after that
goes through the exact search. A seen or filtered item is never returned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["ApproximateIndex"]

INDEX_FORMAT = 1
#: The kinds of index: "cosine" over unit vectors, "inner" (product) over raw ones.
KINDS = ("cosine", "inner")


def _import_faiss() -> Any:
    try:
        import faiss
    except ImportError:
        raise ImportError("approximate search needs faiss: pip install 'item2vec[ann]'") from None
    return faiss


class ApproximateIndex:
    """An HNSW graph over item vectors (faiss), searched like ``top_k``.

    Parameters
    ----------
    vectors : float array of shape (n_items, dim)
    kind : {"cosine", "inner"}
        Cosines with unit vectors (the queries are not normalised: scores are
        their products with the unit item vectors), or inner products (the
        reduction above).
    m : int, default=32
        Graph degree: more is better recall, more memory and build time.
    ef_construction : int, default=200
        Search width while building.
    ef_search : int, default=128
        Search width of queries (at least the number of results asked).
    """

    def __init__(
        self,
        vectors: np.ndarray,
        kind: str = "cosine",
        m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
    ) -> None:
        faiss = _import_faiss()
        if kind not in KINDS:
            raise ValueError(f"kind must be 'cosine' or 'inner', got {kind!r}")
        for name, value in (("m", m), ("ef_construction", ef_construction),
                            ("ef_search", ef_search)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{name} must be an int >= 2, got {value!r}")
        self.kind, self.m = kind, m
        self.ef_construction, self.ef_search = ef_construction, ef_search
        data = self._item_rows(np.asarray(vectors, dtype=np.float32))
        self.n_items = data.shape[0]
        self.dim = int(np.asarray(vectors).shape[1])
        self.index = faiss.IndexHNSWFlat(data.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction
        if self.n_items:
            self.index.add(data)

    def _item_rows(self, vectors: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(vectors)):
            raise ValueError("an index needs finite vectors")
        if self.kind == "cosine":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            return np.ascontiguousarray(vectors / norms, dtype=np.float32)
        rows = vectors.astype(np.float64)
        norms2 = np.einsum("ij,ij->i", rows, rows)
        lift = np.sqrt(np.maximum(norms2.max(initial=0.0) - norms2, 0.0))
        return np.ascontiguousarray(np.hstack([rows, lift[:, None]]), dtype=np.float32)

    def _query_rows(self, queries: np.ndarray) -> np.ndarray:
        queries = np.asarray(queries, dtype=np.float32)
        if self.kind == "cosine":
            return np.ascontiguousarray(queries)
        zeros = np.zeros((queries.shape[0], 1), np.float32)
        return np.ascontiguousarray(np.hstack([queries, zeros]))

    def search(
        self,
        queries: np.ndarray,
        k: int,
        exclude: sp.csr_array | None = None,
        banned: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        exact_rows: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best items per query, as ``top_k`` returns them.

        ``bias`` (one value per item, such as a popularity prior) is added to
        the scores of four times as many candidates as needed, which are then
        ranked again. ``exact_rows(rows, k)`` answers the rows the graph could
        not fill (too many of their candidates excluded) by exact search.
        """
        n = queries.shape[0]
        idx = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), -np.inf, dtype=np.float32)
        if n == 0 or k <= 0 or self.n_items == 0:
            return idx, scores
        rows_q = self._query_rows(queries)
        finite = np.all(np.isfinite(rows_q), axis=1)
        banned_set = np.zeros(self.n_items, dtype=bool)
        if banned is not None and len(banned):
            banned_set[np.asarray(banned, dtype=np.int64)] = True
        excluded_per_row = (
            np.zeros(n, dtype=np.int64) if exclude is None else np.diff(exclude.indptr)
        )
        todo = np.flatnonzero(finite)
        fetch = (k if bias is None else 4 * k) + int(banned_set.sum())
        exact_needed: list[int] = []
        while todo.size:
            want = min(self.n_items, fetch + int(excluded_per_row[todo].max(initial=0)))
            # the search width goes with this call, not into the index: queries on
            # other threads keep their own
            width = _import_faiss().SearchParametersHNSW(efSearch=max(self.ef_search, want))
            found_scores, found = self.index.search(rows_q[todo], want, params=width)
            missing: list[int] = []
            for r, row in enumerate(todo.tolist()):
                cand, cand_scores = found[r], found_scores[r]
                keep = cand >= 0
                keep[keep] &= ~banned_set[cand[keep]]
                if exclude is not None and excluded_per_row[row]:
                    seen = exclude.indices[exclude.indptr[row] : exclude.indptr[row + 1]]
                    keep[keep] &= ~np.isin(cand[keep], seen)
                cand, cand_scores = cand[keep], cand_scores[keep]
                if bias is not None:
                    cand_scores = cand_scores + bias[cand]
                    order = np.argsort(-cand_scores, kind="stable")
                    cand, cand_scores = cand[order], cand_scores[order]
                if cand.shape[0] < k:  # widen the search; past every item, search exactly
                    (missing if want < self.n_items else exact_needed).append(row)
                    continue
                idx[row] = cand[:k]
                scores[row] = cand_scores[:k]
            todo = np.asarray(missing, dtype=np.int64)
            fetch *= 4
        if exact_needed:
            if exact_rows is None:
                raise RuntimeError("rows left unanswered and no exact search to fall back on")
            rows = np.asarray(exact_needed, dtype=np.int64)
            idx[rows], scores[rows] = exact_rows(rows, k)
        return idx, scores

    # --- files -------------------------------------------------------------------------

    def to_bytes(self) -> np.ndarray:
        """The index serialised, as a uint8 array (stored in the model file)."""
        faiss = _import_faiss()
        return np.asarray(faiss.serialize_index(self.index), dtype=np.uint8)

    def describe(self) -> dict[str, Any]:
        """The index's settings as a JSON-ready dict (saved beside its bytes in a model
        file; :meth:`from_bytes` reads it back)."""
        return {
            "format": INDEX_FORMAT, "backend": "faiss-hnsw", "kind": self.kind, "m": self.m,
            "ef_construction": self.ef_construction, "ef_search": self.ef_search,
            "n_items": self.n_items, "dim": self.dim,
        }  # fmt: skip

    @classmethod
    def from_bytes(cls, data: np.ndarray, description: dict[str, Any]) -> ApproximateIndex:
        """An index read back from :meth:`to_bytes` and :meth:`describe`."""
        faiss = _import_faiss()
        if description.get("format") != INDEX_FORMAT:
            raise ValueError(f"unsupported index format {description.get('format')!r}")
        kind = description.get("kind")
        if kind not in KINDS:
            raise ValueError(
                f"unknown index kind {kind!r}; the kinds known are {', '.join(map(repr, KINDS))}"
            )
        self = cls.__new__(cls)
        self.kind = kind
        self.m = int(description["m"])
        self.ef_construction = int(description["ef_construction"])
        self.ef_search = int(description["ef_search"])
        self.n_items, self.dim = int(description["n_items"]), int(description["dim"])
        self.index = faiss.deserialize_index(np.ascontiguousarray(data, dtype=np.uint8))
        # an inner-product index holds one extra column (the lift to unit norm)
        width = self.dim + (kind == "inner")
        if self.index.ntotal != self.n_items or self.index.d != width:
            raise ValueError("the stored index does not match its description")
        return self

"""Approximate top-k through faiss (inverted lists, or HNSW graphs), with filters kept exact.

An index answers the same question as :func:`item2vec.neighbors.top_k` (the
items with the largest dot product with each query, some items excluded per
query or banned for all, an optional prior added), approximately and in far
less time on large catalogues. Two kinds: "cosine" (item-to-item queries)
holds the unit vectors; "inner" (recommendations with output vectors) answers
maximum inner product queries. Scores are the exact products of the stored
rows; a popularity prior is added to four times as many candidates as
needed, which are ranked again.

Two structures (measured in ``benchmarks/README.md``, "index_build.py"):

- ``"ivf"`` (the default): inverted lists (``IndexIVFFlat``). Spherical
  k-means on the directions of a sample (64 items per list) finds ``nlist``
  unit centres, about ``2 * sqrt(n_items)`` (2,048 for 1M items); each item
  goes to the list of the centre nearest its direction, stored as it is, and
  a query scans the ``nprobe`` (64) lists whose centres have the largest
  products with it. 1M x 100, both kinds: built in 1-3 minutes on two busy
  cores, recall@10 0.98-0.99, where HNSW graphs took 21-31 minutes. The
  inner kind stores the raw vectors: lifting them to one sphere, as graphs
  need, groups them by length as much as by direction (recall@10 0.70
  instead of 0.98 with 32 lists scanned). After an update moves the
  vectors, :meth:`ApproximateIndex.refreshed` puts them in the trained lists
  again without another k-means.
- ``"hnsw"``: faiss's HNSW graph (``IndexHNSWFlat``), chosen by giving any of
  ``m``, ``ef_construction``, ``ef_search``. For inner products each item
  ``x`` gains one coordinate ``sqrt(R**2 - |x|**2)``, ``R`` the largest norm,
  and a query a 0: the products are unchanged and all items sit on one
  sphere, where a graph search works as it does for cosines. Slow to build
  on large catalogues; with output vectors of varied norms its recall on the
  inner kind stays low at any search width.

Filters stay exact: each query asks for more candidates than it needs (its
excluded items on top), drops excluded and banned ones, and asks again with a
wider search (a graph's width, or more lists) until enough survive; a row
that still lacks results after that goes through the exact search. A seen or
filtered item is never returned.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["ApproximateIndex"]

#: The layout :meth:`ApproximateIndex.describe` writes. Format 1 (HNSW only, no
#: "structure" entry) is still read.
INDEX_FORMAT = 2
#: The kinds of index: "cosine" over unit vectors, "inner" (product) over raw ones.
KINDS = ("cosine", "inner")
#: The structures: inverted lists (the default) or an HNSW graph.
STRUCTURES = ("ivf", "hnsw")
# HNSW settings when the graph is asked for with some of them left out
HNSW_DEFAULTS = {"m": 32, "ef_construction": 200, "ef_search": 128}
#: Lists scanned per query by default: at 1M items and 2,048 lists, recall@10 of
#: 0.98-0.99 where 32 gave 0.95-0.97 (benchmarks/README.md)
NPROBE = 64
# k-means sample per list (faiss caps it at 256): 64 keeps the k-means of 1M items
# with 2,048 lists to 131k rows
SAMPLE_PER_LIST = 64
# faiss's k-means wants at least 39 points per centre
MIN_PER_LIST = 39
# a refreshed index whose items outnumber those its lists were trained on by more
# than this trains them again (lists grown long make queries slow)
RETRAIN_GROWTH = 4


def _import_faiss() -> Any:
    try:
        import faiss
    except ImportError:
        raise ImportError("approximate search needs faiss: pip install 'item2vec[ann]'") from None
    return faiss


def default_nlist(n_items: int) -> int:
    """The number of inverted lists for ``n_items`` items: the power of two nearest
    ``2 * sqrt(n_items)``, with at least 39 items per list (k-means needs them).

    Examples
    --------
    >>> default_nlist(1_000_000), default_nlist(100_000), default_nlist(1_500), default_nlist(10)
    (2048, 512, 38, 1)
    """
    if n_items <= 0:
        return 1
    nearest = 2 ** round(math.log2(2 * math.sqrt(n_items)))
    return max(1, min(nearest, n_items // MIN_PER_LIST))


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """The rows scaled to unit length (zero rows left as they are), float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def _lists_over(quantizer: Any, nlist: int) -> Any:
    """Empty inner-product inverted lists whose centres ``quantizer`` holds (trained
    when it already holds ``nlist`` of them)."""
    faiss = _import_faiss()
    index = faiss.IndexIVFFlat(quantizer, quantizer.d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True  # the index frees the quantizer, Python must not
    quantizer.this.disown()
    return index


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


class ApproximateIndex:
    """Inverted lists or an HNSW graph over item vectors (faiss), searched like ``top_k``.

    Parameters
    ----------
    vectors : float array of shape (n_items, dim)
    kind : {"cosine", "inner"}
        Cosines with unit vectors (the queries are not normalised: scores are
        their products with the unit item vectors), or inner products (the
        reduction above).
    m : int, optional
        HNSW graph degree (default 32): more is better recall, more memory and
        build time. Giving any HNSW setting selects ``structure="hnsw"``.
    ef_construction : int, optional
        HNSW search width while building (default 200).
    ef_search : int, optional
        HNSW search width of queries (default 128; at least the number of
        results asked).
    structure : {"ivf", "hnsw"}, optional
        Inverted lists (the default unless an HNSW setting is given) or a graph.
    nlist : int, optional
        Inverted lists; default ``default_nlist(n_items)``: the power of two
        nearest ``2 * sqrt(n_items)`` (2,048 for 1M items).
    nprobe : int, default=64
        Lists scanned per query (more when filters remove candidates): recall
        against speed. Past ``nlist`` every list is scanned.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> vectors = rng.standard_normal((2000, 8)).astype(np.float32)
    >>> index = ApproximateIndex(vectors, "cosine")
    >>> index.describe()["structure"], index.nlist, index.nprobe
    ('ivf', 51, 64)
    >>> ids, scores = index.search(vectors[:2], 3)
    >>> ids[:, 0].tolist()  # each vector's best match is itself
    [0, 1]
    """

    def __init__(
        self,
        vectors: np.ndarray,
        kind: str = "cosine",
        m: int | None = None,
        ef_construction: int | None = None,
        ef_search: int | None = None,
        *,
        structure: str | None = None,
        nlist: int | None = None,
        nprobe: int | None = None,
    ) -> None:
        faiss = _import_faiss()
        if kind not in KINDS:
            raise ValueError(f"kind must be 'cosine' or 'inner', got {kind!r}")
        hnsw_given = {k: v for k, v in (("m", m), ("ef_construction", ef_construction),
                                        ("ef_search", ef_search)) if v is not None}  # fmt: skip
        ivf_given = {k: v for k, v in (("nlist", nlist), ("nprobe", nprobe)) if v is not None}
        if structure is None:
            structure = "hnsw" if hnsw_given else "ivf"
        if structure not in STRUCTURES:
            raise ValueError(f"structure must be 'ivf' or 'hnsw', got {structure!r}")
        wrong = ivf_given if structure == "hnsw" else hnsw_given
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} {'apply' if len(wrong) > 1 else 'applies'} to "
                f"structure={'ivf' if structure == 'hnsw' else 'hnsw'!r}, not {structure!r}"
            )
        for name, value in hnsw_given.items():
            _check_int(name, value, 2)
        for name, value in ivf_given.items():
            _check_int(name, value, 1)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-d array, got shape {vectors.shape}")
        self.kind, self.structure = kind, structure
        self.n_items, self.dim = int(vectors.shape[0]), int(vectors.shape[1])
        self.m = self.ef_construction = self.ef_search = None
        self.nlist = self.nprobe = None
        self.trained_items = 0
        data = self._item_rows(vectors)
        if structure == "hnsw":
            settings = HNSW_DEFAULTS | hnsw_given
            self.m = int(settings["m"])
            self.ef_construction = int(settings["ef_construction"])
            self.ef_search = int(settings["ef_search"])
            self.index = faiss.IndexHNSWFlat(data.shape[1], self.m, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = self.ef_construction
            if self.n_items:
                self.index.add(data)
            return
        self.nlist = int(nlist) if nlist is not None else default_nlist(self.n_items)
        self.nprobe = int(nprobe) if nprobe is not None else NPROBE
        self.index = self._trained_lists(data, self.nlist)
        self._add(self.index, data)

    # --- building ---------------------------------------------------------------------

    def _item_rows(self, vectors: np.ndarray) -> np.ndarray:
        """The rows the index stores: unit vectors (cosine); for inner products the
        vectors as they are (lists), or lifted to one sphere (a graph)."""
        if not np.all(np.isfinite(vectors)):
            raise ValueError("an index needs finite vectors")
        if self.kind == "cosine":
            return _unit_rows(vectors)
        if self.structure == "ivf":
            return np.ascontiguousarray(vectors, dtype=np.float32)
        rows = vectors.astype(np.float64)
        norms2 = np.einsum("ij,ij->i", rows, rows)
        lift = np.sqrt(np.maximum(norms2.max(initial=0.0) - norms2, 0.0))
        return np.ascontiguousarray(np.hstack([rows, lift[:, None]]), dtype=np.float32)

    def _trained_lists(self, rows: np.ndarray, nlist: int) -> Any:
        """Empty inverted lists whose centres spherical k-means found on the directions
        of a sample of ``rows`` (too few rows for ``nlist`` lists: a list per row)."""
        faiss = _import_faiss()
        d = rows.shape[1]
        if rows.shape[0] < nlist:  # k-means needs a row per centre
            nlist = self.nlist = max(1, rows.shape[0])
        index = _lists_over(faiss.IndexFlatIP(d), nlist)
        index.cp.min_points_per_centroid = 1  # small catalogues: no warning, few lists
        sample = rows
        if rows.shape[0] > SAMPLE_PER_LIST * nlist:
            # a fixed seed: the same vectors give the same lists
            pick = np.random.default_rng(0).choice(rows.shape[0], SAMPLE_PER_LIST * nlist,
                                                   replace=False)  # fmt: skip
            sample = rows[np.sort(pick)]
        if sample.shape[0]:
            index.train(_unit_rows(sample))
        self.trained_items = int(rows.shape[0])
        return index

    def _add(self, index: Any, rows: np.ndarray) -> None:
        # faiss puts each row in the list of the centre with the largest inner product
        # with it: the unit centres make that the centre nearest the row's direction,
        # whatever its length
        if rows.shape[0]:
            index.add(rows)

    def refreshed(self, vectors: np.ndarray) -> ApproximateIndex:
        """A new index over ``vectors``, re-using what this one learned where it can.

        For :meth:`Item2Vec.update`, whose training moves existing vectors and
        appends new items after them. This index is left as it is (queries on
        other threads go on using it). ``vectors`` must have this index's width.

        - Inverted lists keep their trained centres: every item is assigned to
          its nearest centre again (one matrix product, no k-means). The
          k-means runs again only when the items outnumber those the lists
          were trained on more than four times over.
        - A graph gains only the new items when the existing ones did not move
          (for the inner kind: nor did the largest norm); otherwise it is built
          again with the same settings, since faiss cannot move a graph's nodes.

        Parameters
        ----------
        vectors : float array of shape (n_items, dim)

        Returns
        -------
        ApproximateIndex
        """
        faiss = _import_faiss()
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(
                f"vectors must have shape (n_items, {self.dim}) to refresh this index, "
                f"got {vectors.shape}"
            )
        rows = self._item_rows(vectors)
        new = ApproximateIndex.__new__(ApproximateIndex)
        new.__dict__.update(self.__dict__)
        new.n_items, new.dim = int(vectors.shape[0]), int(vectors.shape[1])
        if self.structure == "hnsw":
            old = self.n_items
            unchanged = (
                old
                and old <= new.n_items
                and np.array_equal(self.index.reconstruct_n(0, old), rows[:old])
            )
            if unchanged:
                new.index = faiss.clone_index(self.index)
            else:
                new.index = faiss.IndexHNSWFlat(rows.shape[1], self.m, faiss.METRIC_INNER_PRODUCT)
                new.index.hnsw.efConstruction = self.ef_construction
                old = 0
            if new.n_items > old:
                new.index.add(rows[old:])
            return new
        if new.n_items > RETRAIN_GROWTH * max(1, self.trained_items) or not self.index.is_trained:
            new.nlist = max(int(self.index.nlist), default_nlist(new.n_items))
            new.index = new._trained_lists(rows, new.nlist)
        else:  # the trained centres copied, the lists empty (no copy of the old rows)
            new.index = _lists_over(faiss.clone_index(self.index.quantizer), self.index.nlist)
        new._add(new.index, rows)
        return new

    # --- queries ----------------------------------------------------------------------

    def _query_rows(self, queries: np.ndarray) -> np.ndarray:
        queries = np.asarray(queries, dtype=np.float32)
        if self.kind == "cosine" or self.structure == "ivf":
            return np.ascontiguousarray(queries)
        zeros = np.zeros((queries.shape[0], 1), np.float32)
        return np.ascontiguousarray(np.hstack([queries, zeros]))

    def _width(self, want: int) -> Any:
        """The search parameters of one call wanting ``want`` results; they go with
        the call, not into the index, so queries on other threads keep their own."""
        faiss = _import_faiss()
        if self.structure == "hnsw":
            return faiss.SearchParametersHNSW(efSearch=max(int(self.ef_search or 0), want))
        # enough lists for their items to outnumber the results wanted twice over
        # (the lists hold n_items / nlist items on average)
        nlist = int(self.index.nlist)
        lists = math.ceil(2 * want * nlist / max(1, self.n_items))
        return faiss.SearchParametersIVF(nprobe=min(nlist, max(int(self.nprobe or 1), lists)))

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
        ranked again. ``exact_rows(rows, k)`` answers the rows the index could
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
            found_scores, found = self.index.search(rows_q[todo], want, params=self._width(want))
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
        common = {"format": INDEX_FORMAT, "backend": f"faiss-{self.structure}",
                  "structure": self.structure, "kind": self.kind,
                  "n_items": self.n_items, "dim": self.dim}  # fmt: skip
        if self.structure == "hnsw":
            return common | {"m": self.m, "ef_construction": self.ef_construction,
                             "ef_search": self.ef_search}  # fmt: skip
        return common | {"nlist": self.nlist, "nprobe": self.nprobe,
                         "trained_items": self.trained_items}  # fmt: skip

    @classmethod
    def from_bytes(cls, data: np.ndarray, description: dict[str, Any]) -> ApproximateIndex:
        """An index read back from :meth:`to_bytes` and :meth:`describe` (this
        format, or format 1: an HNSW graph described without a structure)."""
        faiss = _import_faiss()
        version = description.get("format")
        if version not in (1, INDEX_FORMAT):
            raise ValueError(f"unsupported index format {version!r}")
        kind = description.get("kind")
        if kind not in KINDS:
            raise ValueError(
                f"unknown index kind {kind!r}; the kinds known are {', '.join(map(repr, KINDS))}"
            )
        structure = "hnsw" if version == 1 else description.get("structure")
        if structure not in STRUCTURES:
            raise ValueError(f"unknown index structure {structure!r}; the structures known "
                             f"are {', '.join(map(repr, STRUCTURES))}")  # fmt: skip
        self = cls.__new__(cls)
        self.kind, self.structure = kind, structure
        self.m = self.ef_construction = self.ef_search = None
        self.nlist = self.nprobe = None
        self.trained_items = 0
        if structure == "hnsw":
            self.m = int(description["m"])
            self.ef_construction = int(description["ef_construction"])
            self.ef_search = int(description["ef_search"])
            expected = faiss.IndexHNSWFlat
        else:
            self.nlist, self.nprobe = int(description["nlist"]), int(description["nprobe"])
            self.trained_items = int(description["trained_items"])
            expected = faiss.IndexIVFFlat
        self.n_items, self.dim = int(description["n_items"]), int(description["dim"])
        self.index = faiss.deserialize_index(np.ascontiguousarray(data, dtype=np.uint8))
        # an inner-product graph holds one extra column (the lift to one sphere)
        width = self.dim + (kind == "inner" and structure == "hnsw")
        if (
            not isinstance(self.index, expected)
            or self.index.ntotal != self.n_items
            or self.index.d != width
            or (structure == "ivf" and self.index.nlist != self.nlist)
        ):
            raise ValueError("the stored index does not match its description")
        return self

"""ItemVectors: the fitted state of an embedding model, and the queries it answers."""

from __future__ import annotations

import contextlib
import threading
import warnings
import weakref
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from item2vec._validation import NotFittedError, check_int
from item2vec.neighbors import MODEL_SETTING, normalize_rows, top_k
from item2vec.vocab import Vocabulary

__all__ = ["SIMILARITIES", "ItemVectors", "VectorQueries", "check_similarity"]

#: How item-to-item queries compare items: the cosine of the query's input vector with
#: each item's input vector ("input": word2vec's and gensim's ``most_similar``) or with
#: each item's input + output vector ("inout").
SIMILARITIES = ("input", "inout")
# which approximate index serves each similarity (ItemVectors.indexes); "cosine" is the
# name saved model files have always used for the index over the input vectors
_INDEX_OF = {"input": "cosine", "inout": "inout"}


def check_similarity(similarity: Any) -> str:
    """Refuse a ``similarity`` other than those of :data:`SIMILARITIES`, naming the parameter."""
    if not isinstance(similarity, str) or similarity not in SIMILARITIES:
        accepted = " or ".join(repr(s) for s in SIMILARITIES)
        raise ValueError(f"similarity must be {accepted}, got {similarity!r}")
    return similarity


# one writers' lock per estimator, kept outside it so that it pickles and clones as before
_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


class ItemVectors:
    """Item vectors with their vocabulary: what training produces and queries read.

    Parameters
    ----------
    vocabulary : Vocabulary
        The items (row ``i`` belongs to ``vocabulary.items[i]``) and their counts.
    vectors : ndarray of shape (n_items, dim)
        Input vectors, kept as float32 (another dtype is converted).
    output_vectors : ndarray of the same shape, optional
        Output (context) weights: needed to continue training and for the
        "output" recommendation scoring. Absent for vectors read from the
        word2vec formats.
    features, feature_vectors : ndarrays, optional
        Side-information ids and their vectors (rows follow ``features``).

    Examples
    --------
    >>> import numpy as np
    >>> from item2vec.vocab import Vocabulary
    >>> vocab = Vocabulary(["a", "b", "c"], [3, 2, 1])
    >>> kv = ItemVectors(vocab, np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
    >>> [item for item, _ in kv.most_similar("a", topn=2)]
    ['b', 'c']
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        vectors: np.ndarray,
        output_vectors: np.ndarray | None = None,
        features: np.ndarray | None = None,
        feature_vectors: np.ndarray | None = None,
    ) -> None:
        # float32 throughout, as training writes and model files hold them (no copy
        # of float32 arrays, memory-mapped ones included)
        vectors = np.asanyarray(vectors, dtype=np.float32)
        if output_vectors is not None:
            output_vectors = np.asanyarray(output_vectors, dtype=np.float32)
        if feature_vectors is not None:
            feature_vectors = np.asanyarray(feature_vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(vocabulary):
            raise ValueError(
                f"vectors must have shape ({len(vocabulary)}, dim), got {vectors.shape}"
            )
        if output_vectors is not None and output_vectors.shape != vectors.shape:
            raise ValueError("output_vectors must have the shape of vectors")
        if (features is None) != (feature_vectors is None) or (
            features is not None
            and feature_vectors is not None
            and feature_vectors.shape != (len(features), vectors.shape[1])
        ):
            raise ValueError("feature_vectors must have one row of vectors' width per feature")
        self.vocabulary = vocabulary
        self.vectors = vectors
        self.output_vectors = output_vectors
        self.features = features
        self.feature_vectors = feature_vectors
        self._normed: np.ndarray | None = None
        self._inout: np.ndarray | None = None
        # approximate indexes ("cosine" over the vectors, "output" over the output
        # vectors), built by build_index for exactly these vectors
        self.indexes: dict[str, Any] = {}

    @property
    def items(self) -> np.ndarray:
        """Item ids, one per row."""
        return self.vocabulary.items

    @property
    def trainable(self) -> bool:
        """Whether training can continue: output weights present and vectors writable."""
        return self.output_vectors is not None and bool(self.vectors.flags.writeable)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def __contains__(self, item: object) -> bool:
        return item in self.vocabulary

    @property
    def normed_vectors(self) -> np.ndarray:
        """``vectors`` scaled to unit length (computed once, cached)."""
        normed = self._normed
        if normed is None:
            normed = self._normed = normalize_rows(self.vectors)
        return normed

    def similarity_of(self, similarity: str) -> str:
        """The similarity this state answers ``similarity`` with: "inout" needs output
        vectors, so vectors without them (read from the word2vec formats) answer "input"."""
        check_similarity(similarity)
        return "input" if self.output_vectors is None else similarity

    def similarity_vectors(self, similarity: str = "input") -> np.ndarray:
        """The unit item vectors that queries of ``similarity`` are compared with.

        A query is always a unit input vector (an item's, a mean of items', or
        a raw vector); its scores are its dot products with these rows:
        :attr:`normed_vectors` for "input", ``vectors + output_vectors``
        scaled to unit length for "inout". Computed once, cached.

        Why "inout": ``input_a . output_b`` is the score skip-gram trains to
        say that b occurs near a, and ``input_a . input_b`` that a and b occur
        near the same items; the "inout" cosine adds both. The input cosine
        alone ranks rarely seen items high: their input vectors, trained on a
        handful of contexts, keep little but the component that all input
        vectors share (on MovieLens-100K with the defaults, 63 % of the 10
        neighbours of items seen 20 times or more had fewer than 10 events;
        with "inout" 6 %, and the neighbours share more genres and co-occur
        more often in held-out users; benchmarks/README.md, "Item-to-item
        similarity").
        """
        if self.similarity_of(similarity) == "input":
            return self.normed_vectors
        unit = self._inout
        if unit is None:
            assert self.output_vectors is not None  # similarity_of answered "input" otherwise
            unit = self._inout = normalize_rows(
                np.add(self.vectors, self.output_vectors, dtype=np.float32)
            )
        return unit

    def changed(self) -> None:
        """Drop what was derived from the vectors (after training wrote them in place):
        the unit vectors and any index, which would answer for the old vectors."""
        self._normed = None
        self._inout = None
        self.indexes = {}

    def build_index(self, **settings: Any) -> None:
        """Build approximate indexes (faiss) for the queries to use.

        One over the vectors, for cosine queries (the "input" similarity), and
        one over the output vectors (when there are some), for recommendations
        by inner product; :meth:`build_similarity_index` adds one for "inout".
        ``settings`` go to :class:`item2vec.index.ApproximateIndex` (none:
        inverted lists with its defaults).
        """
        from item2vec.index import ApproximateIndex

        indexes = {"cosine": ApproximateIndex(self.vectors, "cosine", **settings)}
        if self.output_vectors is not None:
            indexes["output"] = ApproximateIndex(self.output_vectors, "inner", **settings)
        self.indexes = indexes

    def build_similarity_index(self, similarity: str, **settings: Any) -> None:
        """Build (again) the approximate index that queries of ``similarity`` search.

        "input": the index over the vectors that :meth:`build_index` builds
        too; "inout": one over :meth:`similarity_vectors` ("inout" queries
        without it search every item). The other indexes stay. Vectors
        without output vectors answer "inout" with "input", and so index it.
        ``settings`` go to :class:`item2vec.index.ApproximateIndex`.
        """
        from item2vec.index import ApproximateIndex

        similarity = self.similarity_of(similarity)
        rows = self.vectors if similarity == "input" else self.similarity_vectors(similarity)
        index = ApproximateIndex(rows, "cosine", **settings)
        # a new dict, published whole: a query reads either the old indexes or the new ones
        self.indexes = {**self.indexes, _INDEX_OF[similarity]: index}

    def refresh_indexes(self, old: dict[str, Any]) -> None:
        """Indexes for these vectors made from ``old`` ones (of the state before an update),
        each re-using what it learned (an index's trained lists) where it can."""
        rows: dict[str, Any] = {"cosine": self.vectors, "output": self.output_vectors}
        if "inout" in old:
            rows["inout"] = self.similarity_vectors("inout")
        self.indexes = {name: index.refreshed(rows[name]) for name, index in old.items()}

    def search(
        self, which: str, queries: np.ndarray, items: np.ndarray, k: int,
        exclude: sp.csr_array | None = None, banned: np.ndarray | None = None,
        bias: np.ndarray | None = None, exact: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Top-k of ``queries`` against ``items`` (rows of this state's ``which``
        matrix): through its index when there is one and ``exact`` is False."""
        index = None if exact else self.indexes.get(which)
        if index is None:
            return top_k(queries, items, k, exclude, banned, bias=bias)

        def exact_rows(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
            mask = None if exclude is None else exclude[rows]
            return top_k(queries[rows], items, k, mask, banned, bias=bias)

        return index.search(queries, k, exclude, banned, bias, exact_rows)

    def get_vector(self, item: Hashable, norm: bool = False) -> np.ndarray:
        """The vector of one item (unit length if ``norm``).

        Raises
        ------
        KeyError
            If the item is not in the vocabulary.
        """
        code = self.vocabulary.code(item)
        return (self.normed_vectors if norm else self.vectors)[code].copy()

    def most_similar(
        self,
        positive: Hashable | Iterable[Hashable] | np.ndarray | None = None,
        negative: Hashable | Iterable[Hashable] | None = None,
        topn: int = 10,
        exact: bool = False,
        similarity: str = "input",
    ) -> list[tuple[Any, float]]:
        """Items closest by cosine to the mean of ``positive`` minus ``negative``.

        Parameters
        ----------
        positive : item, list of items, or 1-D array of length vector_size
            Items (or a raw vector) that pull the query towards them.
        negative : item or list of items, optional
            Items that push the query away.
        topn : int, default=10
            How many to return; capped at the number of other items.
        exact : bool, default=False
            Search every item even when an approximate index was built.
        similarity : {"input", "inout"}, default="input"
            What the query is compared with. The query is the sum of the
            items' unit input vectors (and of the raw vector, scaled to unit
            length), minus those of ``negative``, scaled to unit length; the
            scores are its cosines with every item's input vector ("input") or
            input + output vector ("inout": far better neighbours from
            :class:`~item2vec.Item2Vec`'s defaults; see
            :meth:`similarity_vectors`). Vectors without output vectors (read
            from the word2vec formats) answer "inout" with "input". "inout" is
            not symmetric: b among a's neighbours does not put a among b's.
            A query of an estimator that leaves it out uses the estimator's
            ``similarity`` parameter.

        Returns
        -------
        list of (item, cosine)
            Best first; the query items themselves are left out.

        Raises
        ------
        KeyError
            If an item is not in the vocabulary.
        ValueError
            If ``similarity`` is not one of the above.
        """
        check_int("topn", topn, 1)
        similarity = self.similarity_of(similarity)
        normed = self.normed_vectors
        query = np.zeros(normed.shape[1], dtype=np.float64)
        used: list[int] = []
        given = 0
        for group, sign in ((positive, 1.0), (negative, -1.0)):
            if group is None:
                continue
            if isinstance(group, np.ndarray) and group.dtype.kind == "f":
                if group.shape != (normed.shape[1],):
                    raise ValueError(
                        f"a query vector must have shape ({normed.shape[1]},), got {group.shape}"
                    )
                if not np.all(np.isfinite(group)):
                    raise ValueError("a query vector must be finite (no NaN or inf)")
                given += 1
                norm = np.linalg.norm(group)
                query += sign * group / (norm if norm > 0 else 1.0)
                continue
            codes = self._codes_of_group(group)
            given += codes.size
            used.extend(codes.tolist())
            query += sign * normed[codes].sum(axis=0, dtype=np.float64)
        if given == 0:
            raise ValueError("most_similar needs positive and/or negative items (or a vector)")
        norm = np.linalg.norm(query)
        if norm > 0:
            query /= norm
        codes, scores = self._rank_codes(query, topn, used, exact, similarity)
        found = codes >= 0  # -1: no candidate (e.g. NaN vectors)
        items = self.items[codes[found]].tolist()
        return list(zip(items, scores[found].astype(float).tolist(), strict=True))

    def similar_by_vector(
        self, vector: np.ndarray, topn: int = 10, exact: bool = False, similarity: str = "input"
    ) -> list[tuple[Any, float]]:
        """Items closest by cosine to a raw vector of the input space (an item's
        :meth:`get_vector`, a :meth:`~item2vec.Item2Vec.transform` row, a
        :meth:`vector_from_features`), compared as in :meth:`most_similar`: an
        item's own input vector finds what ``most_similar(item)`` finds, with
        the same scores, and the item itself among them (first by "input")."""
        return self.most_similar(
            positive=np.asarray(vector, dtype=np.float32), topn=topn, exact=exact,
            similarity=similarity,
        )  # fmt: skip

    def similar_items(
        self,
        items: Iterable[Hashable],
        topn: int = 10,
        exact: bool = False,
        unknown: str = "raise",
        similarity: str = "input",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest neighbours of many items at once.

        Parameters
        ----------
        items : sequence of item ids
        topn : int, default=10
            Neighbours per item; capped at ``n_items - 1``.
        exact : bool, default=False
            Search every item even when an approximate index was built.
        similarity : {"input", "inout"}, default="input"
            As in :meth:`most_similar`: each item's unit input vector against
            every item's input vector or input + output vector.
        unknown : {"raise", "skip"}, default="raise"
            Items not in the vocabulary. "raise": a KeyError naming every
            unknown item of the batch (and its position), before any search.
            "skip": the error stays with its row: an unknown item's row holds
            no neighbour (ids None, scores -inf) and an
            :class:`~item2vec.neighbors.UnknownItemsWarning` lists those rows
            (``empty_rows``); the known items get their neighbours.

        Returns
        -------
        ids : ndarray of shape (len(items), min(topn, n_items - 1))
            Neighbour ids, best first (the item itself is left out); None
            (in an object array) where no neighbour is found.
        scores : float32 ndarray of the same shape
            Their cosine similarities; -inf where no neighbour is found.

        Raises
        ------
        KeyError
            With ``unknown="raise"``, if an item is not in the vocabulary.
        ValueError
            If ``unknown`` or ``similarity`` is not one of the above.
        TypeError
            If ``items`` is a single str or bytes (one item goes in a list:
            ``similar_items(["ab"])``).
        """
        check_int("topn", topn, 1)
        if unknown not in ("raise", "skip"):
            raise ValueError(f"unknown must be 'raise' or 'skip', got {unknown!r}")
        similarity = self.similarity_of(similarity)
        if isinstance(items, str | bytes):
            raise TypeError("items must be a sequence of item ids, got a single string")
        items = list(items)
        codes = self.vocabulary.codes_of(items, unknown="ignore")
        missing = np.flatnonzero(codes < 0)
        if missing.size and unknown == "raise":
            raise KeyError(_unknown_items_message(items, missing))
        known = np.flatnonzero(codes >= 0)
        normed = self.normed_vectors
        n_items = normed.shape[0]
        k = min(topn, n_items - 1)
        if k <= 0:
            return self.items[:0].reshape(len(codes), 0), np.zeros((len(codes), 0), np.float32)
        idx = np.full((len(codes), k), -1, dtype=np.int64)
        scores = np.full((len(codes), k), -np.inf, dtype=np.float32)
        if known.size:
            asked = codes[known]
            rows = np.arange(known.size)
            itself = sp.csr_array((np.ones(known.size), (rows, asked)), shape=(known.size, n_items))
            idx[known], scores[known] = self.search(
                _INDEX_OF[similarity], normed[asked], self.similarity_vectors(similarity), k,
                itself, exact=exact,
            )  # fmt: skip
        ids = self.items[np.maximum(idx, 0)]
        if (idx < 0).any():  # unknown items skipped, or non-finite vectors
            ids = ids.astype(object)
            ids[idx < 0] = None
        if missing.size:
            from item2vec.neighbors import UnknownItemsWarning

            warnings.warn(
                UnknownItemsWarning(
                    f"skipped: {_unknown_items_message(items, missing)}",
                    int(missing.size), missing,
                ),
                stacklevel=3,
            )  # fmt: skip
        return ids, scores

    def vector_from_features(self, features: Iterable[Hashable]) -> np.ndarray:
        """A vector for an item known only by its features (cold start).

        The mean of the features' unit vectors, from a model fitted with
        ``item_features``; it lives in the space of ``vectors_``, so
        :meth:`similar_by_vector` finds known items like a new one.

        Raises
        ------
        ValueError
            If the model was fitted without ``item_features``, or ``features`` is empty.
        KeyError
            If a feature was not seen in training.
        """
        if self.features is None or self.feature_vectors is None:
            raise ValueError("this model was fitted without item_features")
        if isinstance(features, str | bytes) or not isinstance(features, Iterable):
            features = [features]
        index = {f: i for i, f in enumerate(self.features.tolist())}
        rows = []
        for feature in features:
            if feature not in index:
                raise KeyError(f"feature {feature!r} was not seen in training")
            rows.append(index[feature])
        if not rows:
            raise ValueError("vector_from_features needs at least one feature")
        unit = normalize_rows(self.feature_vectors[rows])
        return unit.mean(axis=0).astype(np.float32)

    def history_vectors(self, weights: sp.csr_array, scoring: str) -> tuple[np.ndarray, np.ndarray]:
        """Query and item matrices whose products score histories (``weights``) against items.

        "output": the weighted mean of the input vectors against the output
        vectors; "cosine" (and always without output vectors): the weighted
        mean of unit vectors against unit vectors.
        """
        if scoring == "output" and self.output_vectors is not None:
            return weights @ self.vectors, self.output_vectors
        normed = self.normed_vectors
        return weights @ normed, normed

    def _codes_of_group(self, group: Any) -> np.ndarray:
        vocab = self.vocabulary
        if isinstance(group, Hashable) and group in vocab:
            return np.array([vocab.code(group)])
        if isinstance(group, str | bytes) or not isinstance(group, Iterable):
            vocab.code(group)  # raises the KeyError naming the item
        group = list(group)
        codes = vocab.codes_of(group, unknown="ignore")
        missing = np.flatnonzero(codes < 0)
        if missing.size:  # every unknown item named at once, not the first alone
            raise KeyError(_unknown_items_message(group, missing))
        return codes

    def _rank_codes(
        self, query: np.ndarray, topn: int, exclude: list[int], exact: bool = False,
        similarity: str = "input",
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Codes and cosines of the ``topn`` items nearest to ``query`` by ``similarity``,
        ``exclude`` left out."""
        items = self.similarity_vectors(similarity)
        n_items = items.shape[0]
        excluded = np.unique(np.asarray(exclude, dtype=np.int64))
        k = min(topn, n_items - excluded.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        mask = None
        if excluded.size:
            mask = sp.csr_array(
                (np.ones(excluded.size), (np.zeros(excluded.size, dtype=np.int64), excluded)),
                shape=(1, n_items),
            )
        queries = query[None, :].astype(np.float32)
        idx, scores = self.search(_INDEX_OF[similarity], queries, items, k, mask, exact=exact)
        return idx[0], scores[0]


def _unknown_items_message(items: list[Any], positions: np.ndarray) -> str:
    """Names the unknown items of a batch with their positions (the first 10 of them)."""
    shown = ", ".join(f"{items[i]!r} (position {i})" for i in positions[:10].tolist())
    more = f" and {positions.size - 10} more" if positions.size > 10 else ""
    noun = "item is" if positions.size == 1 else f"{positions.size} items are"
    return f"{noun} not in the vocabulary: {shown}{more}"


class VectorQueries:
    """An estimator whose fitted state is an :class:`ItemVectors`: how the state is
    published, and the queries and read-only attributes that forward to it.

    The state is published with what the estimator keeps beside it (its
    training record) as one pair, replaced whole and never changed in place:
    a query reads the pair once and sees one consistent state, however other
    threads fit, update or save meanwhile. Writers take the estimator's lock
    (``_lock()``), one at a time. While a state is trained, the training
    thread (and so its callbacks) sees it through ``_training_view``; other
    threads see the last published state.
    """

    def _fitted_pair(self) -> tuple[ItemVectors, Any] | None:
        training = self.__dict__.get("_training")
        if training is not None and training[0] == threading.get_ident():
            return training[1]
        return self.__dict__.get("_fitted")

    def _fitted_state(self) -> ItemVectors | None:
        pair = self._fitted_pair()
        return None if pair is None else pair[0]

    def _publish(self, state: ItemVectors, extra: Any) -> None:
        self.__dict__["_fitted"] = (state, extra)

    def _forget_fit(self) -> None:
        self.__dict__.pop("_fitted", None)

    @contextlib.contextmanager
    def _training_view(self, state: ItemVectors, extra: Any) -> Iterator[None]:
        self.__dict__["_training"] = (threading.get_ident(), (state, extra))
        try:
            yield
        finally:
            self.__dict__.pop("_training", None)

    def _lock(self) -> threading.RLock:
        with _LOCKS_GUARD:
            return _LOCKS.setdefault(self, threading.RLock())

    def __sklearn_is_fitted__(self) -> bool:
        return "_fitted" in self.__dict__

    @property
    def item_vectors_(self) -> ItemVectors:
        """The fitted state: vocabulary, vectors, output vectors, features."""
        return self._state

    @item_vectors_.setter
    def item_vectors_(self, state: ItemVectors) -> None:
        pair = self._fitted_pair()
        self._publish(state, None if pair is None else pair[1])

    def _check_fitted(self) -> None:
        self._state  # noqa: B018 (raises when not fitted)

    @property
    def _state(self) -> ItemVectors:
        state = self._fitted_state()
        if state is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(sequences) first"
            )
        return state

    @property
    def vocabulary_(self) -> Vocabulary:
        """The items that were trained, with their counts."""
        return self._state.vocabulary

    @property
    def items_(self) -> np.ndarray:
        """Item ids; row ``i`` of ``vectors_`` belongs to ``items_[i]``."""
        return self._state.items

    @property
    def vectors_(self) -> np.ndarray:
        """The item (input) vectors, one row per item.

        After training with the AVX2 kernels, a view of rows padded with zeros
        to a multiple of 8 floats (not C-contiguous unless ``vector_size`` is
        a multiple of 8): ``np.ascontiguousarray(model.vectors_)`` gives a
        compact copy. The same holds for :attr:`output_vectors_`.
        """
        return self._state.vectors

    @property
    def output_vectors_(self) -> np.ndarray | None:
        """The output weights (None for vectors read from the word2vec format)."""
        return self._state.output_vectors

    @property
    def features_(self) -> np.ndarray | None:
        """Side-information ids (None without ``item_features``)."""
        return self._state.features

    @property
    def feature_vectors_(self) -> np.ndarray | None:
        """Vectors of ``features_``, one row each."""
        return self._state.feature_vectors

    @property
    def normed_vectors(self) -> np.ndarray:
        """``vectors_`` scaled to unit length (computed once, cached)."""
        return self._state.normed_vectors

    def __contains__(self, item: object) -> bool:
        state = self._fitted_state()
        return state is not None and item in state

    def get_vector(self, item: Hashable, norm: bool = False) -> np.ndarray:
        return self._state.get_vector(item, norm)

    def _similarity(self, given: Any) -> str:
        """The similarity a query means: ``given``, or when it is left out the estimator's
        ``similarity`` parameter ("input" for an estimator without one)."""
        if given is MODEL_SETTING:
            given = getattr(self, "similarity", "input")
        return check_similarity(given)

    def most_similar(
        self,
        positive: Hashable | Iterable[Hashable] | np.ndarray | None = None,
        negative: Hashable | Iterable[Hashable] | None = None,
        topn: int = 10,
        exact: bool = False,
        similarity: str = MODEL_SETTING,
    ) -> list[tuple[Any, float]]:
        similarity = self._similarity(similarity)
        return self._state.most_similar(positive, negative, topn, exact, similarity)

    def similar_by_vector(
        self, vector: np.ndarray, topn: int = 10, exact: bool = False,
        similarity: str = MODEL_SETTING,
    ) -> list[tuple[Any, float]]:  # fmt: skip
        return self._state.similar_by_vector(vector, topn, exact, self._similarity(similarity))

    def similar_items(
        self,
        items: Iterable[Hashable],
        topn: int = 10,
        exact: bool = False,
        unknown: str = "raise",
        similarity: str = MODEL_SETTING,
    ) -> tuple[np.ndarray, np.ndarray]:
        similarity = self._similarity(similarity)
        return self._state.similar_items(items, topn, exact, unknown, similarity)

    def vector_from_features(self, features: Iterable[Hashable]) -> np.ndarray:
        return self._state.vector_from_features(features)


# the forwarding methods document themselves as the ItemVectors methods they call
for _name in ("get_vector", "most_similar", "similar_by_vector", "similar_items",
              "vector_from_features"):  # fmt: skip
    getattr(VectorQueries, _name).__doc__ = getattr(ItemVectors, _name).__doc__
del _name

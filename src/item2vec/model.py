"""The Item2Vec estimator: parameters, fit / update / partial_fit; queries go to ItemVectors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from item2vec._params import ITEM2VEC_PARAMS, ParamsMixin
from item2vec._training import (
    TrainingRecord,
    auto_epochs_of,
    initial_vectors,
    padded_rows,
    seed_from,
    train,
)
from item2vec._validation import NotFittedError, check_int
from item2vec.corpus import RecodedSequences, Sequences, as_sequences, training_corpus
from item2vec.features import with_feature_sequences
from item2vec.neighbors import (
    MODEL_SETTING,
    QUERY_DEFAULTS,
    RankingSource,
    RecommenderMixin,
    history_matrix,
)
from item2vec.vectors import ItemVectors, VectorQueries
from item2vec.vocab import _is_int_id

__all__ = ["PRESETS", "Item2Vec", "NotFittedError"]

# Named sets of parameters for Item2Vec.from_preset. "recommend" is the defaults;
# "word2vec" restores word2vec's (and gensim's) defaults for text and plain queries.
PRESETS: dict[str, dict[str, Any]] = {
    "recommend": {},
    "word2vec": {
        "sample": 1e-3,
        "epochs": 5,
        "half_life": None,
        "popularity": 0.0,
        "similarity": "input",
    },
}


# the recommendation mixin reads vocabulary_ and items_, which are read-only properties here
class Item2Vec(VectorQueries, RecommenderMixin, ParamsMixin):  # type: ignore[override]
    """Item embeddings learned from behaviour sequences with skip-gram or CBOW.

    Each sequence (a user's ordered events, a session, a basket) is treated
    as a sentence and item vectors are trained by word2vec's negative
    sampling (SGNS). Training runs in compiled code without the GIL, on
    ``n_jobs`` threads sharing the weights (Hogwild).

    Parameters
    ----------
    vector_size : int, default=100
        Dimension of the item vectors.
    window : int or "session", default=5
        Largest distance between a centre item and a context item. "session"
        treats each sequence as an unordered set (a basket or session, as in
        the Item2vec paper): an item's contexts are all the other items of its
        sequence, or ``session_contexts`` of them drawn uniformly when the
        sequence is longer, so the cost per item stays bounded.
    negative : int, default=5
        Noise items drawn per prediction.
    ns_exponent : float, default=0.75
        Noise items are drawn with probability proportional to
        ``count ** ns_exponent``; 0 is uniform, negative values favour rare items.
    sample : float, default=0.0
        Frequent-item subsampling threshold (word2vec's formula, which text
        uses with 1e-3); 0 disables it. Off by default: popular items are the
        likeliest next events: subsampling them lowered next-item hit rate on
        MovieLens at every epoch count and was no better on planted clusters
        (benchmarks/README.md, "Defaults"). On large skewed corpora a
        threshold such as 1e-4 trains faster, at some cost in quality.
    min_count : int, default=1
        Items occurring fewer times are dropped before training.
    max_vocab_size : int or None, default=None
        Keep at most this many of the most frequent items.
    epochs : int or "auto", default="auto"
        Passes over the corpus. "auto" makes ``150 / sqrt(tokens per item)``
        passes, rounded and kept within 5..50 (about 20 for MovieLens-100K):
        rarely seen items need more passes to leave their random start.
    alpha : float, default=0.025
        Initial learning rate.
    min_alpha : float, default=1e-4
        Learning rate reached at the end of training; it decays linearly with
        the share of all epochs' tokens processed.
    sg : bool, default=True
        Skip-gram if True, CBOW if False.
    cbow_mean : bool, default=True
        CBOW only: average the context vectors (True) or sum them (False). As
        in word2vec, every context vector receives the full input-side
        gradient either way.
    context : {"both", "past"}, default="both"
        Which items of the window predict the centre. "both" is word2vec's
        symmetric window: an item learns from what came after it as much as
        from what came before. "past" uses only the items before the centre
        (with ``window="session"``, only earlier items of the sequence), so
        ``vectors_[a] . output_vectors_[b]`` learns how likely ``b`` is to come
        after ``a``: the "output" scoring of :meth:`recommend` then ranks what
        comes next rather than what goes together.
    shrink_windows : bool, default=True
        Draw each centre item's window uniformly from ``1..window`` (as
        word2vec and gensim do), weighting near items more; False always uses
        the full window.
    shared_negatives : bool, default=False
        Skip-gram only: draw one set of noise items per centre item and use it
        for every context in its window (Ji et al. 2016) instead of a fresh set
        per pair (word2vec's exact scheme, the default). Far fewer output rows
        are touched, so training is about 1.2-1.4x faster; planted-cluster
        neighbours are as good or better, but next-item HR@10 on
        MovieLens-100K is lower (0.170 vs 0.178 over 8 seeds), so it is not
        the default.
    session_contexts : int, default=10
        With ``window="session"``: contexts per centre item in long sequences.
    use_weights : bool, default=False
        Use the event weights of a :class:`Sequences` (``from_events(...,
        weight=...)``: rating, dwell time, purchase vs click). Events of weight
        0 are removed before anything else (counts, subsampling, noise), as if
        absent. The other weights are divided by their mean; a skip-gram pair's
        learning rate is multiplied by the product of its two items' weights,
        and in CBOW the centre's weight scales the event while the contexts'
        weights make the hidden layer a weighted sum (or mean). Skewed weights
        such as raw dwell times are best log-transformed first.
    time_decay : float or None, default=None
        Weight each (centre, context) pair by ``exp(-|dt| / time_decay)``,
        where ``dt`` is the difference of their event times (the units of
        ``Sequences.times``: seconds for datetimes). None: no decay, training
        is exactly the plain mode.
    time_window : float or None, default=None
        Skip contexts more than ``time_window`` apart in time from the centre.
    recommend_scoring : {"output", "cosine"}, default="output"
        How :meth:`recommend` and :meth:`score` rank items for a history,
        whose aggregate ``h`` is the (weighted) mean of its items' vectors.
        "output": ``h . output_vectors_[i]``, the score skip-gram/CBOW train to
        predict co-occurrence (best for next-item recommendation: on
        MovieLens-100K leave-last-out, HR@10 0.177 against 0.018 for cosine).
        "cosine": the dot product of the (weighted) mean of the history's unit
        vectors with each item's unit vector, which ranks items as the cosine
        to that mean does (the score itself is the cosine times the mean's
        length, below 1 for histories of several items): the item-to-item
        similarity "input" of :meth:`most_similar`.
    similarity : {"inout", "input"}, default="inout"
        What :meth:`most_similar`, :meth:`similar_items`,
        :meth:`similar_by_vector` and :meth:`export_similar_items` compare a
        query (an item's unit input vector) with when a call leaves it out, and
        so ``item2vec similar``, the service's ``/similar`` and
        :func:`item2vec.spark.similar_items`: every item's input + output
        vector ("inout") or input vector ("input", word2vec's and gensim's
        cosine). With the defaults (no subsampling, many epochs) the input
        cosine ranks rarely seen items first; "inout" adds the score
        ``input . output`` that training fits to co-occurrence (MovieLens-100K:
        neighbours sharing genres and co-occurring in held-out users far more
        often; benchmarks/README.md, "Item-to-item similarity"). "inout" is
        not symmetric; vectors without output vectors answer with "input".
    last_n : int or None, default=None
    half_life : float or None, default=1.0
    time_half_life : float or None, default=None
    popularity : float, default=0.2
        The query options :meth:`recommend`, :meth:`recommend_batch` and
        :meth:`score` use when a call leaves them out (see
        :meth:`recommend_batch` for their meaning); explicit arguments
        override them. They are saved with the model, and :func:`item2vec.tune`
        sets them to the best values it found. By default a history's last
        events count most (``half_life=1``: each earlier event counts half as
        much as the next) and a small popularity prior breaks near-ties; on
        the data sets measured both raise next-item hit rate, the recency most
        where order carries signal (see benchmarks/README.md, "Defaults").
    callbacks : sequence of callables, optional
        Called after every epoch as ``callback(model, stats)``, where ``stats``
        holds ``epoch``, ``epochs``, ``tokens``, ``kept_tokens``, ``seconds``,
        ``loss`` and ``alpha`` (the learning rate reached). The model can be
        queried from a callback. Returning True stops training; the model is
        then fitted with the epochs done so far.
    n_jobs : int or None, default=None
        Training threads; None or -1 uses all cores, -2 all but one, etc.
    random_state : int, numpy Generator or None, default=None
        Seed of all randomness. With ``n_jobs=1`` and a fixed seed, vectors
        are identical from run to run; more threads race by design (Hogwild).
    verbose : int, default=0
        1 reports progress on stderr. On a terminal: a bar with tokens/s,
        epoch and loss (tqdm's when tqdm is installed, else a line rewritten in
        place plus one line per finished epoch). Elsewhere (a pipe, a log
        file): one line per finished epoch, with no carriage returns.

    Attributes
    ----------
    item_vectors_ : ItemVectors
        The fitted state: vocabulary, vectors, output vectors and features;
        the attributes below are read-only views of it.
    vocabulary_ : Vocabulary
        The items that were trained, with their counts.
    items_ : ndarray of shape (n_items,)
        Item ids; row ``i`` of ``vectors_`` belongs to ``items_[i]``.
    vectors_ : ndarray of shape (n_items, vector_size), float32
        The item (input) vectors.
    output_vectors_ : ndarray of shape (n_items, vector_size), float32
        The output (context) weights, needed to continue training.
    loss_history_ : list of float
        Mean negative-sampling loss per prediction event, one value per epoch.

    Examples
    --------
    >>> from item2vec import Item2Vec
    >>> from item2vec.datasets import planted_sessions
    >>> data = planted_sessions(n_sessions=2000, n_items=100, n_clusters=10)
    >>> model = Item2Vec(vector_size=32, n_jobs=1, random_state=0).fit(data.sequences)
    >>> model.vectors_.shape
    (100, 32)
    >>> neighbours = [item for item, _ in model.most_similar(3, topn=5)]
    >>> sorted(int(data.cluster_of[item]) for item in neighbours)  # item 3 is in cluster 3
    [3, 3, 3, 3, 3]
    """

    _PARAMS = ITEM2VEC_PARAMS

    def __init__(
        self,
        vector_size: int = 100,
        window: int | str = 5,
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 0.0,
        min_count: int = 1,
        max_vocab_size: int | None = None,
        epochs: int | str = "auto",
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        sg: bool = True,
        cbow_mean: bool = True,
        context: str = "both",
        shrink_windows: bool = True,
        shared_negatives: bool = False,
        session_contexts: int = 10,
        use_weights: bool = False,
        time_decay: float | None = None,
        time_window: float | None = None,
        recommend_scoring: str = "output",
        similarity: str = "inout",
        last_n: int | None = None,
        half_life: float | None = 1.0,
        time_half_life: float | None = None,
        popularity: float = 0.2,
        callbacks: Sequence[Callable[[Item2Vec, dict[str, Any]], bool | None]] | None = None,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.vector_size = vector_size
        self.window = window
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.epochs = epochs
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.sg = sg
        self.cbow_mean = cbow_mean
        self.context = context
        self.shrink_windows = shrink_windows
        self.shared_negatives = shared_negatives
        self.session_contexts = session_contexts
        self.use_weights = use_weights
        self.time_decay = time_decay
        self.time_window = time_window
        self.recommend_scoring = recommend_scoring
        self.similarity = similarity
        self.last_n = last_n
        self.half_life = half_life
        self.time_half_life = time_half_life
        self.popularity = popularity
        self.callbacks = callbacks
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def from_preset(cls, name: str, **params: Any) -> Item2Vec:
        """An estimator with a named set of parameters (``params`` override them).

        "recommend" is the defaults, chosen for next-item recommendation.
        "word2vec" is word2vec's defaults for text (``sample=1e-3``,
        ``epochs=5``) with plain queries (no recency, no popularity prior, the
        cosine of input vectors between items), as gensim's ``Word2Vec`` would
        train and query.

        Examples
        --------
        >>> Item2Vec.from_preset("word2vec", vector_size=64)  # doctest: +NORMALIZE_WHITESPACE
        Item2Vec(epochs=5, half_life=None, popularity=0.0, sample=0.001, similarity='input',
                 vector_size=64)
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        return cls(**{**PRESETS[name], **params})

    @property
    def query_options(self) -> dict[str, Any]:
        """The query options used when a call leaves them out: the parameters
        ``last_n``, ``half_life``, ``time_half_life`` and ``popularity``."""
        return {name: getattr(self, name) for name in QUERY_DEFAULTS}

    # --- fitted state: published by VectorQueries, with a training record ----

    def _state_and_record(self) -> tuple[ItemVectors, TrainingRecord]:
        """The published state and its training record, read together (one consistent
        pair, whatever another thread publishes meanwhile)."""
        pair = self._fitted_pair()
        if pair is None:
            self._check_fitted()
        state, record = pair  # type: ignore[misc]
        # vectors given directly (item_vectors_ = ...) come without a record
        return state, TrainingRecord() if record is None else record

    @property
    def _record(self) -> TrainingRecord:
        return self._state_and_record()[1]

    @property
    def loss_history_(self) -> list[float]:
        """Mean negative-sampling loss per prediction event, one value per epoch."""
        self._check_fitted()
        return self._record.loss_history

    @property
    def n_updates_(self) -> int:
        """Calls of :meth:`update` since the last :meth:`fit`."""
        self._check_fitted()
        return self._record.n_updates

    # --- training ------------------------------------------------------------

    def fit(
        self,
        X: Iterable[Iterable[Hashable]] | Sequences,
        y: Any = None,
        item_features: Mapping[Hashable, Iterable[Hashable]] | None = None,
    ) -> Item2Vec:
        """Learn item vectors from sequences.

        Parameters
        ----------
        X : iterable of sequences of item ids, or Sequences
            A list of lists, any iterable (a generator is read once and
            encoded), a list of numpy arrays, or an encoded :class:`Sequences`.
        y : ignored
        item_features : mapping of item id to feature ids, optional
            Side information (genre, artist, category), the Meta-Prod2vec
            idea: every feature gets a vector, and each event of an item with
            features also trains the short sequence ``[item, feature, ...]``
            (contexts within ``window`` of each other), so items that share
            features are drawn together, which matters most for rare items.
            Feature vectors end in ``feature_vectors_`` (rows follow
            ``features_``); features are never returned by queries. Only
            ``fit`` uses them; :meth:`update` trains the items alone.

        Returns
        -------
        self : Item2Vec
        """
        self._check_params()
        corpus = self._training_corpus(X)
        full = corpus.vocabulary
        # what training does not read is neither recoded nor copied; without side features
        # pruning recodes the tokens a block at a time as training reads them, not all at once
        timed = self.time_decay is not None or self.time_window is not None
        corpus = corpus._without(weights=not self.use_weights, times=not timed)
        pruned: Sequences | RecodedSequences
        if item_features is None:
            pruned, mapping = corpus.pruned_lazily(self.min_count, self.max_vocab_size)
        else:
            pruned, mapping = corpus.pruned_with_mapping(self.min_count, self.max_vocab_size)
        if len(pruned.vocabulary) == 0:
            raise ValueError(
                f"no item occurs at least min_count={self.min_count} times; lower min_count"
            )
        seed = seed_from(self.random_state)
        training, features = pruned, None
        if isinstance(pruned, Sequences) and item_features is not None:
            training, features = with_feature_sequences(pruned, item_features)
        dropped = mapping < 0  # (no index of the ids: for a million ids that is ~100 MB)
        pending = dict(
            zip(full.items[dropped].tolist(), full.counts[dropped].tolist(), strict=True)
        )
        n_rows = len(training.vocabulary)
        vectors = initial_vectors(n_rows, self.vector_size, seed)
        state = ItemVectors(training.vocabulary, vectors, padded_rows(*vectors.shape))
        record = TrainingRecord(seed=seed, pending_counts=pending)
        with self._lock():
            try:
                self._train(state, record, training, seed, self._epochs_for(pruned))
            except BaseException:
                self._forget_fit()
                raise
            if features is not None:  # the items keep the first rows
                n_items = len(pruned.vocabulary)
                state = ItemVectors(
                    pruned.vocabulary, vectors[:n_items].copy(),
                    state.output_vectors[:n_items].copy(),  # type: ignore[index]
                    features, vectors[n_items:].copy(),
                )  # fmt: skip
            self._publish(state, record)
        return self

    def update(
        self, X: Iterable[Iterable[Hashable]] | Sequences, epochs: int | None = None
    ) -> Item2Vec:
        """Continue training a fitted model on new sequences, growing its vocabulary.

        Item counts accumulate across ``fit`` and every ``update``; an item
        not yet in the vocabulary joins it once its accumulated count reaches
        ``min_count`` (while ``max_vocab_size`` leaves room), with fresh
        random vectors, after the existing items. Existing vectors are kept
        and trained further; nothing new is fine. The learning rate decays
        from ``alpha`` to ``min_alpha`` again over this update's epochs, and
        the noise and subsampling tables use the accumulated counts. The
        model changes only when training succeeds: a new state is trained and
        then takes the place of the old one.

        Parameters
        ----------
        X : iterable of sequences of item ids, or Sequences
        epochs : int, optional
            Passes over ``X``; defaults to the ``epochs`` parameter.

        Returns
        -------
        self : Item2Vec
        """
        with self._lock():
            old, record = self._state_and_record()
            self._check_params()
            if epochs is not None:
                check_int("epochs", epochs, 1)
            if not old.trainable:
                raise ValueError(
                    "this model cannot be trained further: it was read from the word2vec "
                    "format or memory-mapped (load it with mmap=False)"
                )
            if old.vectors.shape[1] != self.vector_size:
                raise ValueError(
                    f"vector_size is {self.vector_size} but the fitted vectors have "
                    f"{old.vectors.shape[1]} dimensions: set vector_size="
                    f"{old.vectors.shape[1]} to train further, or fit afresh"
                )
            corpus = self._training_corpus(X)
            _check_same_id_types(old.items, corpus.vocabulary.items)
            vocabulary, pending = old.vocabulary.grown(
                corpus.vocabulary, record.pending_counts, self.min_count, self.max_vocab_size
            )
            n_new = len(vocabulary) - len(old.vocabulary)
            seed = record.update_seed()
            mapping = vocabulary.codes_of(corpus.vocabulary.items.tolist(), unknown="ignore")
            corpus = corpus.remap(mapping.astype(np.int32), vocabulary)
            n_old = len(old.vectors)
            vectors = padded_rows(len(vocabulary), self.vector_size)
            output = padded_rows(len(vocabulary), self.vector_size)
            vectors[:n_old] = old.vectors
            vectors[n_old:] = initial_vectors(n_new, self.vector_size, seed)
            output[:n_old] = old.output_vectors
            state = ItemVectors(vocabulary, vectors, output, old.features, old.feature_vectors)
            new_record = TrainingRecord(
                record.seed, record.n_updates, pending, list(record.loss_history)
            )
            # a batch with no known pair (every sequence short of two known items) only
            # adds counts; one whose pairs subsampling happens to drop trains nothing
            # either: both are fine in an update, where the counts are the point
            if corpus.n_tokens and int(np.diff(corpus.offsets).max()) >= 2:
                passes = self._epochs_for(corpus) if epochs is None else int(epochs)
                self._train(state, new_record, corpus, seed, passes, require_events=False)
            new_record.n_updates += 1
            if old.indexes:  # the vectors moved: refreshed, re-using what the indexes learned
                state.refresh_indexes(old.indexes)
            self._publish(state, new_record)  # on any failure the old state stays published
            return self

    def partial_fit(self, X: Iterable[Iterable[Hashable]] | Sequences, y: Any = None) -> Item2Vec:
        """:meth:`fit` on the first call, :meth:`update` afterwards."""
        with self._lock():
            return self.update(X) if self.__sklearn_is_fitted__() else self.fit(X)

    def fit_transform(
        self, X: Iterable[Iterable[Hashable]] | Sequences, y: Any = None
    ) -> np.ndarray:
        """Fit, then return :meth:`transform` of the same sequences (encoded once)."""
        _refuse_event_table(X)
        corpus = as_sequences(X)
        return self.fit(corpus).transform(corpus)

    def _epochs_for(self, corpus: Sequences | RecodedSequences) -> int:
        """The ``epochs`` parameter, with "auto" worked out for ``corpus``."""
        if self.epochs == "auto":  # over the items this corpus holds (an update's batch)
            return auto_epochs_of(corpus)
        return int(self.epochs)

    def _training_corpus(self, X: Iterable[Iterable[Hashable]] | Sequences) -> Sequences:
        _refuse_event_table(X)
        timed = self.time_decay is not None or self.time_window is not None
        return training_corpus(X, use_weights=bool(self.use_weights), needs_times=timed)

    def _train(
        self, state: ItemVectors, record: TrainingRecord, corpus: Sequences | RecodedSequences,
        seed: int, epochs: int, require_events: bool = True,
    ) -> None:  # fmt: skip
        """Train ``state`` in place; this thread (so the callbacks) sees it meanwhile."""
        if state.output_vectors is None:
            raise ValueError("training needs output vectors")
        output = state.output_vectors
        callbacks = list(self.callbacks or [])

        def on_epoch(stats: dict[str, Any]) -> bool:
            record.loss_history.append(stats["loss"])
            state.changed()
            return any([bool(callback(self, stats)) for callback in callbacks])

        try:
            with self._training_view(state, record):
                train(
                    state.vectors,
                    output,
                    corpus,
                    self.get_params(),
                    seed,
                    epochs,
                    on_epoch,
                    require_events=require_events,
                )
        finally:
            state.changed()

    def _ranking_source(self) -> RankingSource:
        state, scoring = self._state, self.recommend_scoring
        # vectors read from the word2vec format have no output weights: cosine then
        which = "output" if scoring == "output" and state.output_vectors is not None else "cosine"

        def search(*args: Any) -> tuple[np.ndarray, np.ndarray]:
            return state.search(which, *args)

        return RankingSource(
            state.vocabulary,
            history_vectors=lambda weights: state.history_vectors(weights, scoring),
            search=search,
        )

    def build_index(
        self, backend: str = "faiss", m: int | None = None, ef_construction: int | None = None,
        ef_search: int | None = None, *, structure: str | None = None, nlist: int | None = None,
        nprobe: int | None = None,
    ) -> Item2Vec:  # fmt: skip
        """Build approximate nearest-neighbour indexes for large catalogues.

        Afterwards :meth:`most_similar`, :meth:`similar_by_vector`,
        :meth:`similar_items`, :meth:`recommend` and :meth:`recommend_batch`
        search an index (faiss) instead of every item; ``exact=True`` on a
        query searches every item. Seen and filtered items stay exact: they
        are never returned. By default the index is inverted lists (items
        grouped by direction, a few lists scanned per query: both indexes of
        1M x 100 built in about a minute on two cores); giving ``m`` or an
        ``ef_*`` builds an HNSW graph instead (faster single queries, far
        slower builds). The index is saved with the model, refreshed by
        :meth:`update` (the lists keep their trained centres), and dropped
        when :meth:`fit` trains anew. Needs the ``ann`` extra
        (``pip install 'item2vec[ann]'``).

        Parameters
        ----------
        backend : {"faiss"}
            The library; faiss has wheels on every platform and inner-product
            search built in.
        m : int, optional
            HNSW graph degree (memory: about ``8 * m`` bytes per item on top
            of a copy of the vectors).
        ef_construction : int, optional
            HNSW search width while building: better graphs, slower builds.
        ef_search : int, optional
            HNSW search width of queries: recall against speed.
        structure : {"ivf", "hnsw"}, optional
            The structure, when not implied by the other options.
        nlist : int, optional
            Number of inverted lists (default: the power of two nearest
            ``2 * sqrt(n_items)``).
        nprobe : int, optional
            Lists scanned per query (default 64).

        Returns
        -------
        self : Item2Vec
        """
        if backend != "faiss":
            raise ValueError(f"backend must be 'faiss', got {backend!r}")
        settings = dict(m=m, ef_construction=ef_construction, ef_search=ef_search,
                        structure=structure, nlist=nlist, nprobe=nprobe)  # fmt: skip
        with self._lock():
            state = self._state
            state.build_index(**settings)
            if self.similarity == "inout":  # the index its item-to-item queries search
                state.build_similarity_index("inout", **settings)
        return self

    # --- files ---------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted model to a ``.npz`` file (no pickle; written atomically).

        See :func:`item2vec.io.save_model`.
        """
        from item2vec.io import save_model

        state, record = self._state_and_record()
        # the rules load applies: a file written here always loads
        self._check_params()
        save_model(path, self.get_params(), state, record, type(self).__name__)

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> Item2Vec:
        """Load a model saved by :meth:`save`; ``mmap=True`` maps the vectors read-only.

        See :func:`item2vec.io.load_model`.
        """
        from item2vec.io import load_model

        saved = load_model(path, mmap=mmap)
        # files written before the model remembered query options queried without them
        # ... and compared items by their input vectors
        params = {**QUERY_DEFAULTS, "similarity": "input", **saved.params}
        try:
            model = cls(**params)
        except TypeError as exc:
            raise ValueError(f"{path} holds parameters this version does not know: {exc}") from None
        try:
            model._check_params()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path} is corrupt: it holds an invalid parameter: {exc}") from None
        return cls._with_state(model, saved.state, saved.record)

    def save_word2vec_format(self, path: str | os.PathLike[str], binary: bool = False) -> None:
        """Write the item vectors in word2vec's text or binary format (gensim reads both)."""
        from item2vec.io import save_word2vec_format

        save_word2vec_format(self._state, path, binary=binary)

    @classmethod
    def load_word2vec_format(
        cls, path: str | os.PathLike[str], binary: bool = False, item_type: type = str
    ) -> Item2Vec:
        """Read vectors in word2vec's text or binary format (e.g. written by gensim).

        The model answers queries and recommends by cosine; the format has no
        output weights or counts, so it cannot be trained further.
        """
        from item2vec.io import load_word2vec_format

        state = load_word2vec_format(path, binary=binary, item_type=item_type)
        model = cls(
            vector_size=state.vectors.shape[1], recommend_scoring="cosine", similarity="input"
        )
        return cls._with_state(model, state, TrainingRecord())

    @staticmethod
    def _with_state(model: Item2Vec, state: ItemVectors, record: TrainingRecord) -> Item2Vec:
        model._publish(state, record)
        return model

    def export_similar_items(
        self, path: str | os.PathLike[str], topn: int = 10, block: int = 4096,
        similarity: str = MODEL_SETTING,
    ) -> int:  # fmt: skip
        """Write every item's ``topn`` nearest neighbours to a CSV or Parquet table.

        See :func:`item2vec.io.export_similar_items`; ``similarity`` left out
        is the model's. Returns the rows written.
        """
        from item2vec.io import export_similar_items

        return export_similar_items(
            self._state, path, topn=topn, block=block, similarity=self._similarity(similarity)
        )

    # --- scikit-learn ----------------------------------------------------------

    def transform(self, X: Iterable[Iterable[Hashable]] | Sequences) -> np.ndarray:
        """One vector per sequence: the mean of its items' vectors.

        Items not in the vocabulary are ignored; a sequence with no known item
        gets the zero vector.

        Returns
        -------
        ndarray of shape (n_sequences, vector_size), float32
        """
        state = self._state
        corpus = as_sequences(X)
        weights = history_matrix(corpus.codes_in(state.vocabulary), corpus.offsets, len(state))
        return np.asarray(weights @ state.vectors, dtype=np.float32)


# tables of events, by the module and class names of their libraries (none is imported here)
_EVENT_TABLES = {
    ("pandas", "DataFrame"): "a pandas DataFrame",
    ("pyarrow", "Table"): "a pyarrow Table",
    ("pyarrow", "RecordBatch"): "a pyarrow RecordBatch",
    ("polars", "DataFrame"): "a polars DataFrame",
    ("polars", "LazyFrame"): "a polars LazyFrame",
}


def _refuse_event_table(X: Any) -> None:
    """Refuse a table of events where sequences are expected, naming the way to convert it
    (iterated, a table would give its column names as sequences of characters)."""
    for (module, name), what in _EVENT_TABLES.items():
        library = sys.modules.get(module)
        if library is not None and isinstance(X, getattr(library, name, ())):
            columns = getattr(X, "column_names", None)  # Arrow's; the others' .columns
            if columns is None and name == "DataFrame":
                columns = getattr(X, "columns", None)
            shown = "" if columns is None else f" (columns {[str(c) for c in columns]!r})"
            raise TypeError(
                f"X is {what}{shown}, a table of events; Item2Vec trains on "
                f"sequences: build them with Sequences.from_events(df, user=..., item=..., "
                f"time=...) and pass those"
            )


def _id_types(items: np.ndarray) -> set[str]:
    """The kinds of id in ``items``: "str", "int", or another type's name."""
    if items.dtype.kind == "U":
        return {"str"}
    if items.dtype.kind in "iu":
        return {"int"}
    kinds = set()
    for item in items.tolist():
        kinds.add("int" if _is_int_id(item) else type(item).__name__)
    return kinds


def _check_same_id_types(known: np.ndarray, batch: np.ndarray) -> None:
    """Refuse an update whose ids are of a type the model's are not (1 beside '1' would be
    two different items, silently)."""
    ours, theirs = _id_types(known), _id_types(batch)
    foreign = theirs - ours
    if ours and foreign:
        raise TypeError(
            f"X holds item ids of type {' and '.join(sorted(foreign))} but the model's ids are "
            f"of type {' and '.join(sorted(ours))}: ids of one model must be of one type "
            f"(e.g. all str or all int); convert them before update"
        )

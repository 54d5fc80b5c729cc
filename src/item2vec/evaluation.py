"""Splits and ranking metrics for next-item recommendation."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple, Protocol

import numpy as np

from item2vec._validation import UnknownItemsWarning, check_int
from item2vec.corpus import Sequences

__all__ = [
    "Recommender",
    "Split",
    "evaluate",
    "leave_last_group_out",
    "leave_last_out",
    "order_ties",
    "ranking_metrics",
    "temporal_split",
    "user_metrics",
]


class Recommender(Protocol):
    """What :func:`evaluate` needs: ``recommend_batch`` over a corpus of histories."""

    def recommend_batch(
        self, histories: Any, topn: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]: ...


class Split(NamedTuple):
    """A train corpus and held-out next-item targets.

    Attributes
    ----------
    train : Sequences
        What a model is fitted on.
    histories : Sequences
        One history per evaluated sequence (what the model sees when it
        recommends), in the vocabulary of ``train``'s source.
    targets : ndarray
        The held-out item id per history, or with ``target_offsets`` the
        held-out items of all histories one after the other.
    target_offsets : int ndarray of shape (n_histories + 1,), optional
        None: one target per history. Otherwise history ``i``'s targets are the
        distinct items ``targets[target_offsets[i]:target_offsets[i + 1]]``
        (at least one), and a recommendation list hits when it holds any of
        them (:func:`leave_last_group_out`, :func:`ranking_metrics`).
    """

    train: Sequences
    histories: Sequences
    targets: np.ndarray
    target_offsets: np.ndarray | None = None


def leave_last_out(sequences: Sequences, min_length: int = 2) -> Split:
    """Hold out the last item of every sequence with at least ``min_length`` items.

    The training corpus is every sequence without its held-out item (shorter
    sequences are kept whole); each history is the training part of its
    sequence.

    Examples
    --------
    >>> corpus = Sequences.from_iterable([["a", "b", "c"], ["d"]])
    >>> split = leave_last_out(corpus)
    >>> split.train.to_lists(), split.targets.tolist()
    ([['a', 'b'], ['d']], ['c'])
    """
    if min_length < 2:
        raise ValueError(f"min_length must be >= 2, got {min_length}")
    lengths = sequences.lengths
    held = lengths >= min_length
    last = sequences.offsets[1:] - 1
    keep = np.ones(sequences.n_tokens, dtype=bool)
    keep[last[held]] = False
    train = sequences.select_tokens(keep)
    histories = train.subset(np.flatnonzero(held))
    targets = sequences.vocabulary.items[sequences.codes[last[held]]]
    return Split(train, histories, targets)


def _tie_groups(sequences: Sequences, caller: str) -> np.ndarray:
    """The tie group of every token: consecutive events of one sequence at the same time.

    Groups are numbered 0, 1, ... in token order; a group never spans two sequences.
    """
    if sequences.times is None:
        raise ValueError(
            f"{caller} needs sequences with times (Sequences.from_events with time=...), "
            f"got a corpus without times"
        )
    times = sequences.times
    starts = np.zeros(sequences.n_tokens, dtype=bool)
    starts[sequences.offsets[:-1][sequences.lengths > 0]] = True
    # times may fall only where a new sequence begins
    if np.any((times[1:] < times[:-1]) & ~starts[1:]):
        raise ValueError(
            f"{caller} needs each sequence's times in order (Sequences.from_events sorts them)"
        )
    starts[1:] |= times[1:] != times[:-1]
    return np.cumsum(starts) - 1


def order_ties(sequences: Sequences, by: str = "item") -> Sequences:
    """The corpus with the events of each same-time group reordered.

    Events at equal times keep the order of the table they were read from
    (:meth:`Sequences.from_events`), which is arbitrary: in MovieLens most of
    a user's ratings share their second with another one, so which event is
    "last" (what :func:`leave_last_out` holds out) and the end of every history
    depend on the file's row order. Reordering each tie group by a property of
    the events makes the split independent of it.

    Parameters
    ----------
    sequences : Sequences
        Must carry ``times``, in order within each sequence.
    by : {"item"}, default="item"
        ``"item"``: each tie group by item id ascending (numbers by value, str
        by code point); events of the same item keep their order.

    Returns
    -------
    Sequences
        The same sequences, vocabulary, users and events (codes, weights and
        times moved together); only the order inside tie groups changes.

    Raises
    ------
    ValueError
        If ``by`` is not ``"item"``, or the corpus has no times or unordered times.

    Examples
    --------
    >>> events = {"user": [1, 1, 1], "item": ["c", "a", "b"], "t": [5, 7, 5]}
    >>> corpus = Sequences.from_events(events, user="user", item="item", time="t")
    >>> corpus.to_lists(), order_ties(corpus).to_lists()
    ([['c', 'b', 'a']], [['b', 'c', 'a']])
    """
    if by != "item":
        raise ValueError(f"by must be 'item', got {by!r}")
    groups = _tie_groups(sequences, "order_ties")
    items = sequences.vocabulary.items
    rank_of_code = np.empty(items.shape[0], dtype=np.int64)
    rank_of_code[np.argsort(items, kind="stable")] = np.arange(items.shape[0])
    # groups run in token order, so sorting by (group, item) moves events only inside groups
    order = np.lexsort((rank_of_code[sequences.codes], groups))
    return Sequences(
        sequences.codes[order],
        sequences.offsets,
        sequences.vocabulary,
        None if sequences.weights is None else sequences.weights[order],
        sequences.times[order] if sequences.times is not None else None,
        sequences.users,
    )


def leave_last_group_out(sequences: Sequences, min_history: int = 1) -> Split:
    """Hold out the last same-time group of every sequence as a set of targets.

    Where several events share the last time of a sequence, none of them is
    "the" next item: the whole group is held out, the history is every event
    before it, and a recommendation list hits when it holds any item of the
    group (see :func:`ranking_metrics` for NDCG and MRR on a set of targets).
    The result does not depend on the order of events inside tie groups, only
    on the times.

    Parameters
    ----------
    sequences : Sequences
        Must carry ``times``, in order within each sequence.
    min_history : int, default=1
        Evaluate only sequences with at least this many events before their
        last group; the others are kept whole in ``train``.

    Returns
    -------
    Split
        ``train`` is every sequence without its held-out group; ``histories``
        the training part of each evaluated sequence; ``targets`` and
        ``target_offsets`` the distinct items of each held-out group, in the
        group's order.

    Raises
    ------
    ValueError
        If the corpus has no times or unordered times, or ``min_history`` < 1.

    Examples
    --------
    >>> events = {"user": [1, 1, 1, 2, 2], "item": ["a", "b", "c", "d", "e"],
    ...           "t": [1, 2, 2, 4, 4]}
    >>> split = leave_last_group_out(
    ...     Sequences.from_events(events, user="user", item="item", time="t"))
    >>> split.train.to_lists(), split.targets.tolist(), split.target_offsets.tolist()
    ([['a'], ['d', 'e']], ['b', 'c'], [0, 2])
    """
    check_int("min_history", min_history, 1)
    groups = _tie_groups(sequences, "leave_last_group_out")
    lengths = sequences.lengths
    nonempty = lengths > 0
    n_before = np.zeros(len(sequences), dtype=np.int64)
    last_group = np.full(len(sequences), -1, dtype=np.int64)
    if sequences.n_tokens:
        last_group[nonempty] = groups[sequences.offsets[1:][nonempty] - 1]
        # a group's first token: where the group number steps up
        group_start = np.searchsorted(groups, last_group[nonempty], side="left")
        n_before[nonempty] = group_start - sequences.offsets[:-1][nonempty]
    evaluated = np.flatnonzero(nonempty & (n_before >= min_history))
    seq_of_token = np.repeat(np.arange(len(sequences)), lengths)
    held = np.zeros(sequences.n_tokens, dtype=bool)
    chosen = np.zeros(len(sequences), dtype=bool)
    chosen[evaluated] = True
    if sequences.n_tokens:
        held = chosen[seq_of_token] & (groups == last_group[seq_of_token])
    train = sequences.select_tokens(~held)
    histories = train.subset(evaluated)
    # a group's targets are a set: an item repeated at the same time counts once
    held_at = np.flatnonzero(held)
    pairs = np.stack([seq_of_token[held_at], sequences.codes[held_at].astype(np.int64)])
    _, first = np.unique(pairs, axis=1, return_index=True)
    kept = held_at[np.sort(first)]
    per_sequence = np.bincount(seq_of_token[kept], minlength=len(sequences))[evaluated]
    target_offsets = np.zeros(evaluated.shape[0] + 1, dtype=np.int64)
    np.cumsum(per_sequence, out=target_offsets[1:])
    targets = sequences.vocabulary.items[sequences.codes[kept]]
    return Split(train, histories, targets, target_offsets)


def temporal_split(
    sequences: Sequences, cutoff: float | None = None, quantile: float = 0.9
) -> Split:
    """Split at one global time: events before it train, the first one after is the target.

    Parameters
    ----------
    sequences : Sequences
        Must carry ``times``.
    cutoff : float, optional
        The split time; defaults to the ``quantile`` of all event times.
    quantile : float, default=0.9

    Returns
    -------
    Split
        ``train`` holds all events before the cutoff; each sequence with
        events on both sides gives one history (its events before the cutoff)
        and one target (its first event at or after it).
    """
    if sequences.times is None:
        raise ValueError("temporal_split needs sequences with times (see Sequences.from_events)")
    if cutoff is None:
        if not 0 < quantile < 1:
            raise ValueError(f"quantile must be in (0, 1), got {quantile}")
        cutoff = float(np.quantile(sequences.times, quantile))
    seq_of_token = np.repeat(np.arange(len(sequences)), sequences.lengths)
    steps = np.diff(sequences.times)
    same_sequence = seq_of_token[1:] == seq_of_token[:-1]
    if np.any(steps[same_sequence] < 0):
        raise ValueError(
            "temporal_split needs each sequence's times in order (Sequences.from_events sorts them)"
        )
    before = sequences.times < cutoff
    train = sequences.select_tokens(before)
    n_before = np.bincount(seq_of_token[before], minlength=len(sequences))
    has_after = n_before < sequences.lengths
    evaluated = np.flatnonzero((n_before > 0) & has_after)
    # within a sequence, times are ordered, so the first event after the
    # cutoff directly follows the events before it
    first_after = sequences.offsets[evaluated] + n_before[evaluated]
    targets = sequences.vocabulary.items[sequences.codes[first_after]]
    return Split(train, train.subset(evaluated), targets)


def ranking_metrics(
    recommended: np.ndarray,
    targets: np.ndarray,
    k: int,
    n_items: int | None = None,
    valid: np.ndarray | None = None,
    target_offsets: np.ndarray | None = None,
) -> dict[str, float]:
    """HR@k, NDCG@k, MRR@k and coverage@k of ranked recommendations.

    Parameters
    ----------
    recommended : ndarray of shape (n_users, >= k)
        Recommended item ids, best first.
    targets : ndarray of shape (n_users,)
        The held-out item of each user (one relevant item per user), or with
        ``target_offsets`` the held-out items of all users one after the other.
    k : int
    n_items : int, optional
        Catalogue size for coverage (share of items recommended to anyone).
    valid : bool ndarray like ``recommended``, optional
        False marks padding (rows with fewer than ``k`` recommendations).
    target_offsets : int ndarray of shape (n_users + 1,), optional
        User ``u``'s relevant items are ``targets[target_offsets[u]:target_offsets[u + 1]]``:
        at least one per user, all distinct (as :func:`leave_last_group_out` gives them).

    Notes
    -----
    With ranks ``r = 1 .. k`` and ``G`` a user's relevant items: HR is 1 when
    any item of ``G`` is in the top ``k``; MRR is ``1 / r`` of the first such
    item; NDCG is the standard set-based one, ``DCG / IDCG`` with
    ``DCG = sum(1 / log2(r + 1))`` over the ranks of the items of ``G`` in the
    top ``k`` and ``IDCG`` the same sum over ranks ``1 .. min(|G|, k)`` (all of
    ``G`` ranked first). With one target per user this is ``1 / log2(r + 1)``
    of its rank. Each metric is the mean over users.

    Examples
    --------
    >>> recs = np.array([["a", "b"], ["c", "a"]])
    >>> m = ranking_metrics(recs, np.array(["b", "x"]), k=2, n_items=4)
    >>> m["hr"], round(m["ndcg"], 4), m["mrr"], m["coverage"]
    (0.5, 0.3155, 0.25, 0.75)
    """
    per_user = user_metrics(recommended, targets, k, valid, target_offsets)
    result = {name: float(values.mean()) for name, values in per_user.items()}
    if n_items:
        result["coverage"] = _coverage(recommended, k, n_items, valid)
    return result


def _coverage(
    recommended: np.ndarray, k: int, n_items: int, valid: np.ndarray | None = None
) -> float:
    """Catalogue coverage at ``k``: the share of ``n_items`` recommended to anyone in a top
    ``k``, padding (``valid`` False) left out."""
    shown = np.asarray(recommended)[:, :k]
    kept = np.ones(shown.shape, bool) if valid is None else np.asarray(valid)[:, :k]
    return len(set(shown[kept].tolist())) / n_items


def user_metrics(
    recommended: np.ndarray,
    targets: np.ndarray,
    k: int,
    valid: np.ndarray | None = None,
    target_offsets: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """HR@k, NDCG@k and MRR@k of every user, before :func:`ranking_metrics` averages them.

    The arguments are :func:`ranking_metrics`'. Per-user values let two
    recommenders be compared on the same users, with the standard error of
    their paired differences (as :func:`item2vec.tune` does).

    Returns
    -------
    dict
        ``hr``, ``ndcg``, ``mrr``: float arrays of shape (n_users,).

    Examples
    --------
    >>> recs = np.array([["a", "b"], ["c", "a"]])
    >>> m = user_metrics(recs, np.array(["b", "a"]), k=2)
    >>> m["hr"].tolist(), m["mrr"].tolist()
    ([1.0, 1.0], [0.5, 0.5])
    """
    check_int("k", k, 1)
    recommended = np.asarray(recommended)[:, :k]
    targets = np.asarray(targets)
    if target_offsets is None and recommended.shape[0] != targets.shape[0]:
        raise ValueError(
            f"recommended has {recommended.shape[0]} rows but there are {targets.shape[0]} targets"
        )
    if targets.shape[0] == 0:
        raise ValueError("no targets to evaluate")
    valid = np.ones(recommended.shape, bool) if valid is None else np.asarray(valid)[:, :k]
    if target_offsets is None:
        hits = (recommended == targets[:, None]) & valid
        n_relevant = np.ones(recommended.shape[0], dtype=np.int64)
    else:
        user_of_target, n_relevant = _target_users(target_offsets, targets, recommended.shape[0])
        # one row per target: where it stands in its user's list; a user's rows OR-ed together
        where = recommended[user_of_target] == targets[:, None]
        hits = np.add.reduceat(where, np.asarray(target_offsets)[:-1], axis=0) > 0
        hits &= valid
    hit_any = hits.any(axis=1)
    rank = np.argmax(hits, axis=1)  # 0-based rank of the first hit where there is one
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.cumsum(discount)[np.minimum(n_relevant, k) - 1]
    ndcg = hits.astype(np.float64) @ discount[: hits.shape[1]] / ideal
    mrr = np.where(hit_any, 1.0 / (rank + 1.0), 0.0)
    return {"hr": hit_any.astype(np.float64), "ndcg": ndcg, "mrr": mrr}


def _target_users(
    target_offsets: np.ndarray, targets: np.ndarray, n_users: int
) -> tuple[np.ndarray, np.ndarray]:
    """The user of every target and each user's number of targets, after checking the offsets."""
    offsets = np.asarray(target_offsets)
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu":
        raise ValueError(
            f"target_offsets must be a 1-D integer array, got dtype {offsets.dtype} "
            f"and shape {offsets.shape}"
        )
    if offsets.shape[0] != n_users + 1:
        raise ValueError(
            f"target_offsets must have one entry per user plus one ({n_users + 1}), "
            f"got {offsets.shape[0]}"
        )
    if offsets[0] != 0 or offsets[-1] != targets.shape[0]:
        raise ValueError(
            f"target_offsets must start at 0 and end at len(targets)={targets.shape[0]}, "
            f"got {offsets[0]} and {offsets[-1]}"
        )
    sizes = np.diff(offsets)
    if np.any(sizes < 1):
        raise ValueError("target_offsets must be strictly increasing: every user needs a target")
    user_of_target = np.repeat(np.arange(n_users), sizes)
    target_codes = np.unique(targets, return_inverse=True)[1].reshape(-1)
    pairs = user_of_target.astype(np.int64) * (int(target_codes.max()) + 1) + target_codes
    if np.unique(pairs).shape[0] != pairs.shape[0]:
        raise ValueError("a user's targets must be distinct items (each one relevant once)")
    return user_of_target, sizes


def evaluate(
    recommender: Recommender, split: Split, k: int = 10, **recommend_kwargs: Any
) -> dict[str, float]:
    """Rank for every history of ``split`` and score the held-out targets.

    The recommender must already be fitted on ``split.train``. Seen items are
    excluded from the recommendations; ``recommend_kwargs`` (e.g.
    ``half_life=3``) go to its ``recommend_batch``. Coverage is relative to
    the items of ``split.train``.

    Returns
    -------
    dict
        ``hr``, ``ndcg``, ``mrr``, ``coverage`` at ``k`` and ``n_users``.
    """
    return _evaluate_users(recommender, split, k, **recommend_kwargs)[0]


def _evaluate_users(
    recommender: Recommender, split: Split, k: int = 10, **recommend_kwargs: Any
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """:func:`evaluate`'s metrics and the per-user values they average."""
    # a history with no known item, or a target the model never saw, counts as a miss:
    # that is the metric's definition, not something to warn about on every evaluation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownItemsWarning)
        recommended, scores = recommender.recommend_batch(
            split.histories, topn=k, exclude_seen=True, **recommend_kwargs
        )
    n_items = int(np.count_nonzero(np.bincount(split.train.codes)))
    valid = np.isfinite(scores)
    per_user = user_metrics(recommended, split.targets, k, valid, split.target_offsets)
    metrics = {name: float(values.mean()) for name, values in per_user.items()}
    metrics["coverage"] = _coverage(recommended, k, n_items, valid)
    metrics["n_users"] = int(recommended.shape[0])
    return metrics, per_user

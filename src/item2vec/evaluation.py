"""Splits and ranking metrics for next-item recommendation."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple, Protocol

import numpy as np

from item2vec._validation import check_int
from item2vec.corpus import Sequences

__all__ = [
    "Recommender",
    "Split",
    "evaluate",
    "leave_last_out",
    "ranking_metrics",
    "temporal_split",
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
        The held-out item id per history.
    """

    train: Sequences
    histories: Sequences
    targets: np.ndarray


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
) -> dict[str, float]:
    """HR@k, NDCG@k, MRR@k and coverage@k of ranked recommendations.

    Parameters
    ----------
    recommended : ndarray of shape (n_users, >= k)
        Recommended item ids, best first.
    targets : ndarray of shape (n_users,)
        The held-out item of each user (one relevant item per user).
    k : int
    n_items : int, optional
        Catalogue size for coverage (share of items recommended to anyone).
    valid : bool ndarray like ``recommended``, optional
        False marks padding (rows with fewer than ``k`` recommendations).

    Examples
    --------
    >>> recs = np.array([["a", "b"], ["c", "a"]])
    >>> m = ranking_metrics(recs, np.array(["b", "x"]), k=2, n_items=4)
    >>> m["hr"], round(m["ndcg"], 4), m["mrr"], m["coverage"]
    (0.5, 0.3155, 0.25, 0.75)
    """
    check_int("k", k, 1)
    recommended = np.asarray(recommended)[:, :k]
    targets = np.asarray(targets)
    if recommended.shape[0] != targets.shape[0]:
        raise ValueError(
            f"recommended has {recommended.shape[0]} rows but there are {targets.shape[0]} targets"
        )
    if targets.shape[0] == 0:
        raise ValueError("no targets to evaluate")
    valid = np.ones(recommended.shape, bool) if valid is None else np.asarray(valid)[:, :k]
    hits = (recommended == targets[:, None]) & valid
    hit_any = hits.any(axis=1)
    rank = np.argmax(hits, axis=1)  # 0-based rank of the hit where there is one
    ndcg = np.where(hit_any, 1.0 / np.log2(rank + 2.0), 0.0)
    mrr = np.where(hit_any, 1.0 / (rank + 1.0), 0.0)
    result = {"hr": float(hit_any.mean()), "ndcg": float(ndcg.mean()), "mrr": float(mrr.mean())}
    if n_items:
        result["coverage"] = len(set(recommended[valid].tolist())) / n_items
    return result


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
    from item2vec.neighbors import UnknownItemsWarning  # (neighbors imports this module)

    # a history with no known item, or a target the model never saw, counts as a miss:
    # that is the metric's definition, not something to warn about on every evaluation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownItemsWarning)
        recommended, scores = recommender.recommend_batch(
            split.histories, topn=k, exclude_seen=True, **recommend_kwargs
        )
    n_items = int(np.count_nonzero(np.bincount(split.train.codes)))
    metrics = ranking_metrics(
        recommended, split.targets, k, n_items=n_items, valid=np.isfinite(scores)
    )
    metrics["n_users"] = int(split.targets.shape[0])
    return metrics

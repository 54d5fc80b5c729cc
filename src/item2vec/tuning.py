"""Time-budgeted search of Item2Vec's training parameters and query options."""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from item2vec._params import ITEM2VEC_PARAMS, check_params
from item2vec._training import auto_epochs_of, seed_from
from item2vec._validation import check_int, check_real
from item2vec.corpus import Sequences, _ranges, as_sequences
from item2vec.evaluation import Split, _evaluate_users, evaluate
from item2vec.model import Item2Vec

__all__ = ["Trial", "TuneResult", "tune"]

# Query options tried for every trained model, one option at a time (each
# evaluation only ranks, so a few dozen cost less than one training run).
_HALF_LIVES: tuple[float | None, ...] = (None, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)
_POPULARITIES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
_METRICS = ("hr", "ndcg", "mrr")
_QUERY_OPTIONS = ("half_life", "popularity", "time_half_life")
# successive halving: a trial reports at 1/4 and 2/4 of its epochs and goes on while in
# the better half of the trials that reached the same point
_REDUCTION = 2
_RUNG_COUNT = 2
# a setting replaces the defaults (a query value the one kept so far) only when its gain
# on the validation events is more than this many standard errors of that gain: at one,
# gains of 0.0006 NDCG (a fifth of a percent) passed on ml-100k and lost on its test events
_NOISE = 2.0
# candidates put to the confirmation, best first, while time is left
_CONFIRMED = 2
# Item2Vec parameters that tune decides itself, never taken from ``fixed``
_TUNE_OWN = {
    "n_jobs": "tune's own n_jobs argument",
    "random_state": "tune's own random_state argument",
    "verbose": "trials train quietly; tune's verbose prints a line per trial",
    "callbacks": "trials train without callbacks",
}


@dataclasses.dataclass(frozen=True)
class Trial:
    """One setting tried by :func:`tune`.

    Attributes
    ----------
    number : int
        Order in which it was tried (0 is the estimator's defaults).
    params : dict
        The training parameters tried.
    query : dict
        The query options it was scored with: the best found for the model it
        trained with ``search_query=True``, else the estimator's (or ``fixed``).
    metrics : dict
        Validation ``hr``, ``ndcg``, ``mrr`` and ``coverage`` at ``k`` with those options.
    score : float
        The metric that was maximised.
    seconds : float
        Training and evaluation time.
    error : str or None
        Why training failed or stopped early (the score is then -inf), or None.
    stopped : bool
        True when it was stopped early: by successive halving, when its
        validation score at a quarter or a half of its epochs was in the worse
        part of the trials that got there (``metrics`` are those of that point),
        or because the budget ran out (``metrics`` are NaN).
    std_error : float
        Standard error of ``score`` over the validation users (NaN when it
        failed or stopped early).
    gain : float
        ``score`` minus the defaults' score (trial 0 with the estimator's query
        options), on the same validation events.
    gain_std_error : float
        Standard error of ``gain``: of the mean of the per-user differences.
    confirmed_gain : float
        For a trial that was put to the confirmation (the best ones whose
        ``gain`` passed the rule), its gain over the defaults on the other half
        of the validation users, with both retrained from a new seed; NaN for
        the others.
    confirmed_gain_std_error : float
        Standard error of ``confirmed_gain``.
    """

    number: int
    params: dict[str, Any]
    query: dict[str, Any]
    metrics: dict[str, float]
    score: float
    seconds: float
    error: str | None = None
    stopped: bool = False
    std_error: float = math.nan
    gain: float = math.nan
    gain_std_error: float = math.nan
    confirmed_gain: float = math.nan
    confirmed_gain_std_error: float = math.nan


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    model : Item2Vec
        The chosen settings (training parameters and query options), fitted on
        all the sequences given; it remembers its query options.
    best_params : dict
        The training parameters chosen: those of the best trial whose gain over
        the defaults is more than twice its standard error and is confirmed
        (see :func:`tune`), else the defaults'.
    best_query : dict
        Their query options (``half_life``, ``popularity``, ``time_half_life``).
    best_score : float
        Their validation score.
    metric : str
        The metric maximised, e.g. ``"ndcg@10"``.
    trials : list of Trial
        Every trial, in the order tried.
    seconds : float
        Time of the whole call, the final fit included.
    best_std_error : float
        Standard error of ``best_score`` over the validation users.
    default_score : float
        The validation score of the defaults (trial 0 with the estimator's
        query options), the reference every gain is measured from.
    n_validation_users : int
        Users whose held-out events validate: those of the search and those of
        the confirmation (each half's standard errors are over its own users).
    confirmation_users : numpy.ndarray
        The sequence numbers (positions in the corpus given) of the users whose
        events confirm; the other validation users' events score the search.
    """

    model: Item2Vec
    best_params: dict[str, Any]
    best_query: dict[str, Any]
    best_score: float
    metric: str
    trials: list[Trial]
    seconds: float
    best_std_error: float = math.nan
    default_score: float = math.nan
    n_validation_users: int = 0
    confirmation_users: np.ndarray = dataclasses.field(
        default_factory=lambda: np.empty(0, dtype=np.int64)
    )

    def table(self, limit: int | None = None) -> str:
        """The trials as a text table, best first (``limit`` rows at most); ``confirmed`` is
        the gain on the confirmation half of those put to it."""
        rows = sorted(self.trials, key=lambda t: -t.score)[:limit]
        names = sorted({name for t in rows for name in t.params})
        header = ["#", self.metric, "±", "gain", "±", "hr", "s", "confirmed", *names, "query"]
        lines = [header]
        for t in rows:
            query = " ".join(f"{k}={_short(v)}" for k, v in t.query.items() if v) or "-"
            if t.error is not None:
                query = t.error if t.stopped else f"failed: {t.error}"
            lines.append([
                str(t.number), f"{t.score:.4f}", f"{t.std_error:.4f}", f"{t.gain:+.4f}",
                f"{t.gain_std_error:.4f}", f"{t.metrics['hr']:.4f}", f"{t.seconds:.1f}",
                "-" if math.isnan(t.confirmed_gain) else f"{t.confirmed_gain:+.4f}",
                *(_short(t.params.get(name)) for name in names), query,
            ])  # fmt: skip
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        return "\n".join(
            "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=False))
            + "  "
            + line[-1]
            for line in lines
        )


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def tune(
    data: Iterable[Iterable[Hashable]] | Sequences | str | os.PathLike[str] | Any,
    *,
    budget: float = 120.0,
    max_trials: int | None = None,
    metric: str = "ndcg@10",
    fixed: Mapping[str, Any] | None = None,
    validation_users: int | None = 10_000,
    validation_events: int = 3,
    search_query: bool = False,
    n_jobs: int | None = None,
    random_state: int | np.random.Generator | np.random.RandomState | None = 0,
    verbose: bool = True,
    **event_options: Any,
) -> TuneResult:
    """Search Item2Vec's settings for next-item recommendation within a time budget.

    The last ``validation_events`` events of every user (of
    ``validation_users`` users drawn at random, when there are more) are held
    out for validation (each predicted from the events before it; a user keeps
    at least one event for training): models are trained on the rest and ranked
    by ``metric`` on those held-out events, so keep your own test events out
    of ``data``. The
    training parameters that matter for recommendation (Caselles-Dupré et al.,
    RecSys 2018) are searched by Optuna's TPE sampler, starting from the
    estimator's defaults: ``ns_exponent``, ``window``, ``context``, ``sample``,
    ``epochs``, ``alpha``, ``vector_size``, ``negative`` (and ``use_weights``
    when the events carry weights). The query options (``half_life``,
    ``popularity``, ``time_half_life``) keep the estimator's values unless
    ``search_query`` is true.

    The validation score is noisy: with a thousand users, differences between
    good settings are as small as its standard error. So the validation users
    are split at random into two halves: the search scores trials on the
    first, and the second confirms. Every score comes with its standard error
    over the users (a user's held-out events counted as one draw), and every
    setting with its gain over the defaults on the same events and that gain's
    standard error. A setting is a candidate when it gains more than twice
    that standard error (a query value, likewise, replaces the one kept so far
    only when it gains more than twice its standard error). The best
    candidate, then the next best if time allows, is confirmed: it and the
    defaults are trained again from a new seed and scored on the second half,
    where the search never looked, and it is chosen only when it gains more
    than twice that gain's standard error there too. Otherwise the defaults
    (the estimator's parameters and query options) are kept: the best of
    many noisy trials looks better than it is, on the events that chose it and
    with the seed it drew. The chosen settings are then fitted on all of
    ``data``. Trials are stopped early by successive halving:
    at a quarter and at a half of its epochs a trial is scored, and it goes on
    only while it is in the better half of the trials that got there (the
    defaults always train to the end), so a budget tries more settings.

    Parameters
    ----------
    data : Sequences, iterable of sequences, corpus directory, event file or event table
        What :meth:`Item2Vec.fit` accepts; a path to a directory written by
        :func:`item2vec.build_corpus` or :meth:`Sequences.save`; a CSV or
        Parquet event file, or a table of events (pandas, Arrow, dict of
        columns), with ``event_options``.
    budget : float, default=120.0
        Seconds for the search. A trial is not started when the time left
        would not cover it, the confirmation and the final fit, and one that
        runs past the time left for them stops at the end of its epoch; the
        trial with the defaults always runs to its end.
    max_trials : int or None, default=None
        Stop after this many settings even if time is left.
    metric : str, default="ndcg@10"
        ``"hr@K"``, ``"ndcg@K"`` or ``"mrr@K"``.
    fixed : mapping, optional
        Item2Vec parameters to keep fixed (not searched), e.g.
        ``{"vector_size": 64}`` or ``{"sg": False}``. ``n_jobs`` and
        ``random_state`` are tune's own arguments, and trials train without
        ``verbose`` or ``callbacks``: ``fixed`` holding one of these is refused.
    validation_users : int or None, default=10000
        Validate on at most this many randomly chosen users (None: all); the
        users not chosen keep all their events for training.
    validation_events : int, default=3
        Events held out at the end of each user's sequence. More than one
        makes the validation score less noisy on small data (with 1,000
        users, one event each leaves HR@10 a standard error of about 0.012,
        as large as the differences between good settings).
    search_query : bool, default=False
        Also choose the query options for every trained model, one after the
        other: ``half_life``, then ``popularity``, then ``time_half_life`` when
        the events carry times. Off by default because a query option that
        wins on the validation events need not win on the next event: they are
        earlier positions of the same sequences, and on MovieLens-100K they
        favour a ``half_life`` of 1.5 to 3 where each user's last event favours
        1 (HR@10 0.175 with 1 against 0.151 with 3), so tuning it lost on the
        test events. Turn it on when the validation events are like the events
        you will recommend for. Options in ``fixed`` keep their value either way.
    n_jobs : int or None, default=None
        Training threads of each trial.
    random_state : int, numpy Generator or RandomState, or None, default=0
        Seed of the search, the user sample and the models. A generator gives
        one seed, drawn at the start. None seeds every part from fresh entropy
        (two searches differ), and the chosen model keeps ``random_state=None``:
        it records the seed its fit drew, as every fit does.
    verbose : bool, default=True
        Print a line per trial on stderr.
    **event_options
        ``user``, ``item``, ``time``, ``weight``, ``min_weight``,
        ``session_gap``, ``min_length`` for event files and tables (see
        :meth:`Sequences.from_events`).

    Returns
    -------
    TuneResult
        The fitted best model, its settings and every trial
        (``result.table()`` prints them).

    Raises
    ------
    ImportError
        If Optuna is missing (``pip install "item2vec[tune]"``).
    ValueError
        If no user has two events (nothing to validate on), an argument is
        invalid, or the first trial (the defaults, with ``fixed``) cannot
        train: its error is raised at once rather than after the budget.

    Examples
    --------
    >>> from item2vec import tune
    >>> from item2vec.datasets import planted_sessions
    >>> data = planted_sessions(n_sessions=300, n_items=60, n_clusters=6)
    >>> result = tune(data.sequences, budget=2, n_jobs=1, verbose=False)
    >>> result.trials[0].number, result.model.items_.shape
    (0, (60,))
    """
    started = time.perf_counter()
    optuna = _import_optuna()
    check_real("budget", budget, low=0.0, low_inclusive=False)
    measure, k = _parse_metric(metric)
    if validation_users is not None:
        check_int("validation_users", validation_users, 1)
    check_int("validation_events", validation_events, 1)
    if not isinstance(search_query, bool | np.bool_):
        raise ValueError(f"search_query must be a bool, got {search_query!r}")
    if max_trials is not None:
        check_int("max_trials", max_trials, 1)
    fixed = dict(fixed or {})
    unknown = set(fixed) - {p.name for p in ITEM2VEC_PARAMS}
    if unknown:
        raise ValueError(f"fixed holds names that are not Item2Vec parameters: {sorted(unknown)}")
    own = sorted(set(fixed) & set(_TUNE_OWN))
    if own:
        why = "; ".join(f"{name}: {_TUNE_OWN[name]}" for name in own)
        arguments = [name for name in own if name in ("n_jobs", "random_state")]
        advice = ""
        if arguments:
            given = ", ".join(f"{name}={fixed[name]!r}" for name in arguments)
            advice = f"; pass tune({given}) instead"
        raise ValueError(f"fixed must not hold {own}, which tune sets itself ({why}){advice}")
    if isinstance(random_state, np.random.Generator | np.random.RandomState):
        # one seed drawn from it: the search, the user sample and every trial's model
        # then follow from it as they follow from an int (other values are checked
        # with the estimator's rule below)
        random_state = seed_from(random_state)
    base = {**Item2Vec().get_params(), **fixed, "n_jobs": n_jobs, "random_state": random_state}
    base["verbose"] = 0
    base["callbacks"] = None
    check_params(ITEM2VEC_PARAMS, base)

    corpus = _corpus(data, event_options)
    rng = np.random.default_rng(random_state)
    split, users = _validation_split(corpus, validation_events, validation_users, rng)
    halves = _user_halves(split, users, rng)
    weighted = corpus.weights is not None

    # Optuna logs every study and trial at INFO; quiet while tuning, restored after
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return _search(
            optuna, corpus, halves, base, fixed, weighted, budget, max_trials, metric,
            measure, k, random_state, verbose, started, search_query,
        )  # fmt: skip
    finally:
        optuna.logging.set_verbosity(verbosity)


def _search(
    optuna: Any,
    corpus: Sequences,
    halves: tuple[tuple[Split, np.ndarray], tuple[Split, np.ndarray]],
    base: dict[str, Any],
    fixed: dict[str, Any],
    weighted: bool,
    budget: float,
    max_trials: int | None,
    metric: str,
    measure: str,
    k: int,
    random_state: int | None,
    verbose: bool,
    started: float,
    search_query: bool,
) -> TuneResult:
    (split, users), confirmation = halves
    # the query options not searched are held like those in ``fixed``
    held = fixed if search_query else {**fixed, **{n: base[n] for n in _QUERY_OPTIONS}}
    time_half_lives = (None,) if "time_half_life" in held else _time_half_lives(split.histories)
    # Optuna's sampler takes 32-bit seeds (a generator's draw is 63 bits)
    sampler = optuna.samplers.TPESampler(
        seed=None if random_state is None else random_state % 2**32
    )
    # successive halving on the fraction of its epochs a trial has trained: at a quarter
    # and at a half, a trial goes on only while it is in the better part of those seen
    pruner = optuna.pruners.SuccessiveHalvingPruner(
        min_resource=1, reduction_factor=_REDUCTION, min_early_stopping_rate=0
    )
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    given = {name: base[name] for name in _searched(weighted) if name not in fixed}
    defaults = dict(given)
    if defaults.get("epochs") == "auto":  # the first trial is what fit would do
        defaults["epochs"] = auto_epochs_of(split.train)
    study.enqueue_trial(defaults)
    default_query = {name: base[name] for name in _QUERY_OPTIONS}
    reference: np.ndarray | None = None  # the defaults' per-event values
    trials: list[Trial] = []
    durations: list[float] = []
    while True:
        trial = study.ask()
        params = _suggest(trial, weighted, fixed)
        begun = time.perf_counter()
        # the defaults always train to the end: every gain is measured from them
        rungs = None
        if trials:
            # a trial that would leave no time for the confirmation and the final fit
            # stops at its next epoch
            deadline = started + budget - _reserve(trials)
            rungs = _Rungs(optuna, trial, split, k, measure, default_query, deadline)
        try:
            model = Item2Vec(**{**base, **params, "callbacks": rungs and [rungs]}).fit(split.train)
        except (ValueError, FloatingPointError) as exc:
            if not trials:
                # the defaults (with what is fixed) cannot train: the data or the fixed
                # values are at fault, and searching the rest of the budget would not help
                raise ValueError(
                    f"tune's first trial (the defaults, with fixed={fixed!r}) cannot train "
                    f"on this data: {exc}"
                ) from exc
            # a setting that cannot train here (it diverged, or kept no pair): recorded
            # as failed, and the search goes on
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            failed = dict.fromkeys(("hr", "ndcg", "mrr"), float("nan"))
            seconds = time.perf_counter() - begun
            trials.append(
                Trial(len(trials), params, {}, failed, -math.inf, seconds, error=str(exc))
            )
        else:
            if rungs is not None and rungs.stopped is not None:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                seconds = time.perf_counter() - begun
                epoch, epochs, metrics = rungs.stopped
                if metrics is None:  # out of time: no score, which would cost more time
                    metrics = dict.fromkeys(("hr", "ndcg", "mrr"), float("nan"))
                    why = f"stopped after {epoch} of {epochs} epochs: the budget ran out"
                else:
                    why = f"stopped after {epoch} of {epochs} epochs ({measure} "
                    why += f"{metrics[measure]:.4f})"
                trials.append(
                    Trial(len(trials), params, dict(default_query), metrics, -math.inf, seconds,
                          error=why, stopped=True)
                )  # fmt: skip
            else:
                query, metrics, values, at_default = _best_query(
                    model, split, users, k, measure, time_half_lives, held, default_query
                )
                if reference is None:  # the defaults' trial, under the default query
                    reference = at_default
                seconds = time.perf_counter() - begun
                study.tell(trial, metrics[measure])
                gain, gain_error = _paired_gain(values, reference, users)
                trials.append(
                    Trial(len(trials), params, query, metrics, metrics[measure], seconds,
                          std_error=_std_error(values, users), gain=gain,
                          gain_std_error=gain_error)
                )  # fmt: skip
        durations.append(seconds)
        if verbose:
            _report(trials[-1], metric, time.perf_counter() - started, budget)
        # stop when another trial, the confirmation and the final fit would overrun
        typical = float(np.median(durations))
        if time.perf_counter() - started + typical + _reserve(trials) > budget:
            break
        if max_trials is not None and len(trials) >= max_trials:
            break

    assert reference is not None  # the first trial trained (or tune raised)
    default_score = float(reference.mean())
    chosen = _confirm(
        trials, confirmation, base, k, measure, default_query, random_state,
        started + budget - trials[0].seconds, verbose, metric,
    )  # fmt: skip
    if chosen is None:  # nothing beat the defaults by more than the noise: keep them
        params, query = trials[0].params, default_query
        score, error = default_score, _std_error(reference, users)
    else:
        params, query, score, error = chosen.params, chosen.query, chosen.score, chosen.std_error
    if chosen is None or chosen.number == 0:
        # the defaults' parameters as given: epochs="auto" then works out the epochs for
        # all of the data, as a plain fit would, not for the smaller training part
        params = given
    final = Item2Vec(**{**base, **params, **query}).fit(corpus)
    if verbose:
        which = "the defaults" if chosen is None else f"trial {chosen.number}"
        print(
            f"tune: {len(trials)} settings tried; chose {which}: {metric} {score:.4f} "
            f"± {error:.4f} (defaults {default_score:.4f}); fitted on all "
            f"{corpus.n_tokens:,} events",
            file=sys.stderr,
        )
    n_users = int(np.unique(users).shape[0]) + int(np.unique(confirmation[1]).shape[0])
    return TuneResult(
        final, dict(params), dict(query), score, metric, trials,
        time.perf_counter() - started, best_std_error=error, default_score=default_score,
        n_validation_users=n_users, confirmation_users=np.unique(confirmation[1]),
    )  # fmt: skip


def _candidates(trials: list[Trial]) -> list[Trial]:
    """The trials whose gain over the defaults exceeds ``_NOISE`` standard errors of that
    gain, best first.

    On a few thousand validation events the differences between good settings are
    as large as the noise; a setting that cannot show more than that is not taken."""
    beyond = [t for t in trials if t.error is None and t.gain > _NOISE * t.gain_std_error]
    return sorted(beyond, key=lambda t: -t.score)


def _reserve(trials: list[Trial]) -> float:
    """Seconds to keep for the end: the best trial's training for the final fit, and for
    the confirmation the defaults' and the best trial's again."""
    best = max(trials, key=lambda t: t.score)
    return 2 * best.seconds + trials[0].seconds


def _confirm(
    trials: list[Trial],
    confirmation: tuple[Split, np.ndarray],
    base: dict[str, Any],
    k: int,
    measure: str,
    default_query: dict[str, Any],
    random_state: int | None,
    deadline: float,
    verbose: bool,
    metric: str,
) -> Trial | None:
    """The first of the (at most ``_CONFIRMED``) best candidates whose gain holds on the
    confirmation half, trained again from a new seed beside the defaults (None: none).
    Each trial put to it is replaced in ``trials`` by a copy with its confirmed gain.

    The best of many trials is partly chosen by the noise of the events that scored
    it and of the seed it trained from; the confirmation has neither."""
    split, users = confirmation
    # a seed other than the search's: a model's luck with its seed is not the setting's
    seed = None if random_state is None else random_state + 1
    settings = {**base, "random_state": seed}
    defaults: Item2Vec | None = None
    reference = np.empty(0)
    for candidate in _candidates(trials)[:_CONFIRMED]:
        if defaults is None:
            defaults = Item2Vec(**{**settings, **trials[0].params}).fit(split.train)
            reference = _evaluate_users(defaults, split, k, **default_query)[1][measure]
        elif time.perf_counter() + candidate.seconds > deadline:
            break  # the first candidate is always confirmed (its time was kept for it)
        if candidate.number == 0:  # the defaults' training with other query options
            model = defaults
        else:
            model = Item2Vec(**{**settings, **candidate.params}).fit(split.train)
        values = _evaluate_users(model, split, k, **candidate.query)[1][measure]
        gain, error = _paired_gain(values, reference, users)
        confirmed = dataclasses.replace(
            candidate, confirmed_gain=gain, confirmed_gain_std_error=error
        )
        trials[candidate.number] = confirmed
        held = gain > _NOISE * error
        if verbose:
            print(
                f"tune: trial {candidate.number} on the confirmation half, trained again: "
                f"{metric} gain {gain:+.4f} ± {error:.4f} "
                f"({'confirmed' if held else 'not confirmed'})",
                file=sys.stderr,
            )
        if held:
            return confirmed
    return None


class _Rungs:
    """A training callback: at a quarter and at a half of its epochs, the trial reports its
    validation score to Optuna's successive-halving pruner and stops when told to; at any
    epoch past ``deadline`` (a ``time.perf_counter`` value) it stops too."""

    def __init__(
        self, optuna: Any, trial: Any, split: Split, k: int, measure: str,
        query: dict[str, Any], deadline: float,
    ) -> None:  # fmt: skip
        self.optuna, self.trial, self.split = optuna, trial, split
        self.k, self.measure, self.query, self.deadline = k, measure, query, deadline
        # (epoch, epochs, metrics at that point or None when stopped for time)
        self.stopped: tuple[int, int, dict[str, float] | None] | None = None

    def __call__(self, model: Item2Vec, stats: dict[str, Any]) -> bool:
        epoch, epochs = int(stats["epoch"]), int(stats["epochs"])
        if epoch < epochs and time.perf_counter() > self.deadline:
            self.stopped = (epoch, epochs, None)
            return True
        # rung r (1, 2, ...) is reached at the epoch where epoch / epochs passes r / 4;
        # a trial of fewer than four epochs has no rung before its end
        rung = next((r for r in range(1, _RUNG_COUNT + 1) if epoch == -(-epochs * r // 4)), 0)
        if epochs < 4 or rung == 0:
            return False
        metrics = evaluate(model, self.split, k=self.k, **self.query)
        self.trial.report(metrics[self.measure], rung)
        if self.trial.should_prune():
            self.stopped = (epoch, epochs, metrics)
            return True
        return False


def _std_error(values: np.ndarray, users: np.ndarray) -> float:
    """Standard error of the mean of ``values`` (one per held-out event), the events of a
    user counted as one draw (they share a history and a model's view of that user)."""
    n, n_users = values.shape[0], int(np.unique(users).shape[0])
    if n_users < 2:
        return math.nan
    deviations = np.bincount(users, weights=values - values.mean())
    return float(math.sqrt(np.sum(deviations**2) * n_users / (n_users - 1)) / n)


def _paired_gain(
    values: np.ndarray, reference: np.ndarray, users: np.ndarray
) -> tuple[float, float]:
    """Mean of ``values - reference`` over the same events, and its standard error."""
    difference = values - reference
    return float(difference.mean()), _std_error(difference, users)


def _user_halves(
    split: Split, users: np.ndarray, rng: np.random.Generator
) -> tuple[tuple[Split, np.ndarray], tuple[Split, np.ndarray]]:
    """The held-out events of a random half of the validation users (the search's), and
    those of the others (the confirmation's), each with its events' sequence numbers.
    With one user, both are all of them."""
    ids = np.unique(users)
    if ids.shape[0] == 1:
        masks = [np.ones(users.shape[0], dtype=bool)] * 2
    else:
        first = np.isin(users, rng.permutation(ids)[: (ids.shape[0] + 1) // 2])
        masks = [first, ~first]
    halves = []
    for mask in masks:
        events = np.flatnonzero(mask)
        histories = split.histories.subset(events)
        halves.append((Split(split.train, histories, split.targets[events]), users[events]))
    return halves[0], halves[1]


def validation_split(
    corpus: Sequences, n_last: int, max_users: int | None, rng: np.random.Generator
) -> Split:
    """:func:`_validation_split` without the users."""
    return _validation_split(corpus, n_last, max_users, rng)[0]


def _validation_split(
    corpus: Sequences, n_last: int, max_users: int | None, rng: np.random.Generator
) -> tuple[Split, np.ndarray]:
    """Hold out the last ``n_last`` events (all but its first, at most) of at most
    ``max_users`` sequences drawn at random: ``train`` is every other event; each held-out
    event is a target whose history is every event of its sequence before it. Also
    returns, for every held-out event, the number of its sequence in ``corpus``."""
    lengths = corpus.lengths
    held = np.minimum(n_last, np.maximum(lengths - 1, 0))
    users = np.flatnonzero(held > 0)
    if users.shape[0] == 0:
        raise ValueError("tune needs users with two or more events: the last ones validate")
    if max_users is not None and users.shape[0] > max_users:
        users = np.sort(rng.choice(users, max_users, replace=False))
        # the sequences not drawn keep all their events for training: holding theirs out
        # too would train every trial on less data than the final fit, for no signal
        drawn = held[users]
        held = np.zeros_like(held)
        held[users] = drawn
    position = np.arange(corpus.n_tokens) - np.repeat(corpus.offsets[:-1], lengths)
    train = corpus.select_tokens(position < np.repeat(lengths - held, lengths))
    # one history per held-out event j = 1..held (counted from the end), oldest target first
    per_user = held[users]
    seq = np.repeat(users, per_user)
    back = np.concatenate([np.arange(h, 0, -1) for h in per_user.tolist()])
    starts = corpus.offsets[seq]
    history_lengths = lengths[seq] - back
    index = _ranges(starts, history_lengths)
    offsets = np.concatenate([[0], np.cumsum(history_lengths)])
    times = None if corpus.times is None else corpus.times[index]
    histories = Sequences(corpus.codes[index], offsets, corpus.vocabulary, times=times)
    targets = corpus.vocabulary.items[corpus.codes[starts + history_lengths]]
    return Split(train, histories, targets), np.repeat(users, per_user)


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError(
            'tune needs Optuna: pip install "item2vec[tune]" (or pip install optuna)'
        ) from None
    return optuna


def _parse_metric(metric: str) -> tuple[str, int]:
    name, _, cut = str(metric).lower().partition("@")
    if name not in _METRICS or not cut.isdigit() or int(cut) < 1:
        raise ValueError(f"metric must look like 'ndcg@10', 'hr@10' or 'mrr@10', got {metric!r}")
    return name, int(cut)


def _corpus(data: Any, event_options: dict[str, Any]) -> Sequences:
    if isinstance(data, Sequences):
        if event_options:
            raise ValueError("event options apply to event tables and files, not to Sequences")
        return data
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if path.is_dir():
            if event_options:
                raise ValueError(
                    f"{path} is a corpus directory: its events were chosen when it was built, "
                    f"so {sorted(event_options)} cannot apply"
                )
            return Sequences.open(path)
        from item2vec.ingest import read_events

        return read_events(path, **event_options)
    if event_options:
        return Sequences.from_events(data, **event_options)
    return as_sequences(data)


def _searched(weighted: bool) -> tuple[str, ...]:
    names = (
        "ns_exponent", "window", "context", "sample", "epochs", "alpha", "vector_size",
        "negative",
    )  # fmt: skip
    return (*names, "use_weights") if weighted else names


def _suggest(trial: Any, weighted: bool, fixed: Mapping[str, Any]) -> dict[str, Any]:
    space: dict[str, Any] = {
        "ns_exponent": lambda: trial.suggest_float("ns_exponent", -1.0, 1.0),
        "window": lambda: trial.suggest_int("window", 1, 20, log=True),
        "context": lambda: trial.suggest_categorical("context", ["both", "past"]),
        "sample": lambda: trial.suggest_categorical("sample", [0.0, 1e-5, 1e-4, 1e-3]),
        "epochs": lambda: trial.suggest_int("epochs", 3, 100, log=True),
        "alpha": lambda: trial.suggest_float("alpha", 0.005, 0.1, log=True),
        "vector_size": lambda: trial.suggest_categorical("vector_size", [32, 64, 100, 128]),
        "negative": lambda: trial.suggest_int("negative", 2, 25, log=True),
        "use_weights": lambda: trial.suggest_categorical("use_weights", [False, True]),
    }
    return {name: space[name]() for name in _searched(weighted) if name not in fixed}


def _time_half_lives(histories: Sequences) -> tuple[float | None, ...]:
    """Candidate ``time_half_life`` values: the quartiles of the histories' event ages."""
    if histories.times is None or histories.n_tokens == 0:
        return (None,)
    last = np.repeat(histories.times[histories.offsets[1:] - 1], histories.lengths)
    ages = (last - histories.times)[last > histories.times]
    if ages.shape[0] == 0:
        return (None,)
    quartiles = np.quantile(ages, [0.25, 0.5, 0.75])
    return (None, *sorted({float(q) for q in quartiles if q > 0 and math.isfinite(q)}))


def _best_query(
    model: Item2Vec,
    split: Split,
    users: np.ndarray,
    k: int,
    measure: str,
    time_half_lives: tuple[float | None, ...],
    fixed: Mapping[str, Any],
    default_query: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, float], np.ndarray, np.ndarray]:
    """The query options that score best for ``model``, chosen one option at a time (those
    in ``fixed`` keep their value), with their metrics and per-event values, and the
    per-event values under ``default_query``. A value replaces the one kept so far only
    when its gain is larger than that gain's standard error: otherwise the noise of the
    validation events would choose."""
    query = dict(default_query)
    best, per_event = _evaluate_users(model, split, k, **query)
    values = at_default = per_event[measure]
    for name, candidates in (
        ("half_life", _HALF_LIVES), ("popularity", _POPULARITIES),
        ("time_half_life", time_half_lives),
    ):  # fmt: skip
        if name in fixed:
            continue
        for value in candidates:
            if value == query[name] and type(value) is type(query[name]):
                continue
            tried = {**query, name: value}
            metrics, tried_events = _evaluate_users(model, split, k, **tried)
            gain, error = _paired_gain(tried_events[measure], values, users)
            if gain > _NOISE * error:
                best, query, values = metrics, tried, tried_events[measure]
    return query, best, values, at_default


def _report(trial: Trial, metric: str, elapsed: float, budget: float) -> None:
    params = " ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
    query = " ".join(f"{k}={_short(v)}" for k, v in trial.query.items() if v) or "no recency"
    if trial.error is not None:
        query = trial.error if trial.stopped else f"failed: {trial.error}"
    score = f"{trial.score:.4f} ± {trial.std_error:.4f}, gain {trial.gain:+.4f} ± "
    score += f"{trial.gain_std_error:.4f}"
    if trial.error is not None:
        score = "-"
    print(
        f"tune [{elapsed:5.0f}/{budget:.0f} s] trial {trial.number}: {metric} "
        f"{score} (hr {trial.metrics['hr']:.4f}, {trial.seconds:.1f} s) | "
        f"{params} | {query}",
        file=sys.stderr,
        flush=True,
    )

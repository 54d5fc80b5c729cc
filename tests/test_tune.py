"""item2vec.tune and the command line's tune / evaluate --tune."""

import math
import re
import warnings

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences, tune
from item2vec.cli import main
from item2vec.datasets import planted_sessions
from item2vec.evaluation import Split, evaluate

pytest.importorskip("optuna")

FAST = {"vector_size": 8, "negative": 3}


@pytest.fixture(scope="module")
def corpus():
    data = planted_sessions(n_sessions=400, n_items=60, n_clusters=6, random_state=2)
    return Sequences.from_iterable(data.sequences)


def reference_split(corpus, n_last=3, users=None):
    """By the definition: each sequence's last min(n_last, length - 1) events are targets,
    each predicted from every event before it; training keeps the rest. ``users``: the
    sequence numbers whose targets to keep (None: all)."""
    lists = corpus.to_lists()
    keep = []
    histories, targets = [], []
    for number, seq in enumerate(lists):
        held = min(n_last, max(len(seq) - 1, 0))
        keep += [True] * (len(seq) - held) + [False] * held
        if users is not None and number not in users:
            continue
        for j in range(held, 0, -1):
            histories.append(seq[: len(seq) - j])
            targets.append(seq[len(seq) - j])
    train = corpus.select_tokens(np.array(keep))
    return Split(train, Sequences.from_iterable(histories), np.array(targets))


def halves(result, corpus):
    """The search's and the confirmation's users (sequence numbers), as the result says."""
    confirming = set(result.confirmation_users.tolist())
    return set(range(len(corpus))) - confirming, confirming


@pytest.fixture(scope="module")
def result(corpus):
    return tune(
        corpus, budget=600, max_trials=4, metric="hr@10", fixed=FAST, n_jobs=1, verbose=False,
        search_query=True,
    )  # fmt: skip


def test_the_first_trial_is_the_defaults(result, corpus):
    first = result.trials[0]
    defaults = Item2Vec().get_params()
    for name in ("ns_exponent", "window", "context", "sample", "alpha"):
        assert first.params[name] == defaults[name], name
    # epochs="auto" worked out on the training part: 150 / sqrt(tokens per item)
    train = reference_split(corpus).train
    per_item = train.n_tokens / np.count_nonzero(np.bincount(train.codes))
    assert first.params["epochs"] == min(50, max(5, round(150 / math.sqrt(per_item))))
    assert "vector_size" not in first.params and "negative" not in first.params  # fixed


def test_the_validation_users_are_split_into_two_random_halves(result, corpus):
    searching, confirming = halves(result, corpus)
    # every user validates (planted sessions are long enough), half in each
    assert len(confirming) == len(corpus) // 2 == len(searching)
    assert result.n_validation_users == len(corpus)
    assert result.confirmation_users.tolist() == sorted(confirming)
    other = tune(corpus, budget=1e-3, fixed=FAST, n_jobs=1, verbose=False, random_state=1)
    assert other.confirmation_users.tolist() != result.confirmation_users.tolist()
    # not one block of the corpus: both halves reach into both ends
    assert min(confirming) < len(corpus) // 4 and max(confirming) > 3 * len(corpus) // 4


def test_every_trial_is_validated_on_each_users_last_events(result, corpus):
    # retrain a trial's settings on the training part and score the last events of the
    # search's users: the same metrics (one thread and one seed make training reproducible)
    split = reference_split(corpus, users=halves(result, corpus)[0])
    assert len(split.targets) == 3 * len(corpus) // 2
    assert len(result.trials) >= 2
    for trial in result.trials[:2]:
        model = Item2Vec(**FAST, **trial.params, n_jobs=1, random_state=0).fit(split.train)
        metrics = evaluate(model, split, k=10, **trial.query)
        assert metrics == pytest.approx(trial.metrics, rel=1e-12)
        assert trial.score == trial.metrics["hr"]


DEFAULT_QUERY = {"half_life": 1.0, "popularity": 0.2, "time_half_life": None}
NOISE = 2.0  # standard errors a gain must exceed (tune's documented rule)


def reference_users(corpus, n_last=3, users=None):
    """The user (sequence number) of every held-out event of reference_split, in order."""
    numbers = []
    for number, seq in enumerate(corpus.to_lists()):
        if users is None or number in users:
            numbers += [number] * min(n_last, max(len(seq) - 1, 0))
    return numbers


def event_hits(model, split, k=10, **query):
    """1.0 where an event's target is among the k items recommended for its history."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recommended, scores = model.recommend_batch(split.histories, topn=k, **query)
    return [
        float(target in row[np.isfinite(row_scores)].tolist())
        for row, row_scores, target in zip(recommended, scores, split.targets, strict=True)
    ]


def clustered_std_error(values, users):
    """Standard error of the mean of values, the values of one user one draw: the
    cluster-robust variance sum_u (sum_{i in u} (v_i - mean))^2 * G / (G - 1) / n^2."""
    mean = sum(values) / len(values)
    per_user = {}
    for value, user in zip(values, users, strict=True):
        per_user[user] = per_user.get(user, 0.0) + (value - mean)
    n_users = len(per_user)
    total = sum(d * d for d in per_user.values())
    return math.sqrt(total * n_users / (n_users - 1)) / len(values)


def test_scores_gains_and_their_standard_errors_follow_their_definitions(result, corpus):
    searching = halves(result, corpus)[0]
    split = reference_split(corpus, users=searching)
    users = reference_users(corpus, users=searching)
    first = result.trials[0]
    defaults = Item2Vec(**FAST, **first.params, n_jobs=1, random_state=0).fit(split.train)
    reference = event_hits(defaults, split, **DEFAULT_QUERY)
    assert result.default_score == pytest.approx(np.mean(reference), rel=1e-12)
    assert result.n_validation_users == len(corpus)
    checked = [t for t in result.trials if t.error is None][:2]
    assert len(checked) == 2
    for trial in checked:
        model = Item2Vec(**FAST, **trial.params, n_jobs=1, random_state=0).fit(split.train)
        hits = event_hits(model, split, **trial.query)
        assert trial.score == pytest.approx(np.mean(hits), rel=1e-12)
        assert trial.std_error == pytest.approx(clustered_std_error(hits, users), rel=1e-9)
        differences = [h - r for h, r in zip(hits, reference, strict=True)]
        assert trial.gain == pytest.approx(np.mean(differences), abs=1e-12)
        expected = clustered_std_error(differences, users)
        assert trial.gain_std_error == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_a_query_value_replaces_the_kept_one_only_beyond_twice_its_standard_error(result, corpus):
    searching = halves(result, corpus)[0]
    split = reference_split(corpus, users=searching)
    users = reference_users(corpus, users=searching)
    trial = result.trials[0]
    model = Item2Vec(**FAST, **trial.params, n_jobs=1, random_state=0).fit(split.train)
    # one option at a time from the defaults' query: half_life, then popularity (no
    # times here, so no time_half_life); a value replaces the kept one only when the
    # mean of the per-event differences is more than twice their standard error
    query = dict(DEFAULT_QUERY)
    kept = event_hits(model, split, **query)
    for name, candidates in (
        ("half_life", (None, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)),
        ("popularity", (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)),
    ):
        for value in candidates:
            hits = event_hits(model, split, **{**query, name: value})
            differences = [h - k for h, k in zip(hits, kept, strict=True)]
            if np.mean(differences) > NOISE * clustered_std_error(differences, users):
                query, kept = {**query, name: value}, hits
    assert trial.query == query
    assert trial.score == pytest.approx(np.mean(kept), rel=1e-12)


def confirmed(result, corpus, seed):
    """By the definition: the candidates (gain beyond twice its standard error), best
    first, at most two; each and the defaults trained again from seed + 1 and scored on
    the confirmation half; the first whose gain there is beyond twice its standard error
    is chosen. Returns the chosen trial (or None) and the (gain, error) of those tried."""
    confirming = halves(result, corpus)[1]
    split = reference_split(corpus, users=confirming)
    users = reference_users(corpus, users=confirming)
    beyond = [t for t in result.trials if t.error is None and t.gain > NOISE * t.gain_std_error]
    beyond.sort(key=lambda t: -t.score)
    settings = {**FAST, "n_jobs": 1, "random_state": seed + 1}
    defaults = Item2Vec(**settings, **result.trials[0].params).fit(split.train)
    reference = event_hits(defaults, split, **DEFAULT_QUERY)
    tried = {}
    for trial in beyond[:2]:
        model = Item2Vec(**settings, **trial.params).fit(split.train)
        differences = [h - r for h, r in zip(event_hits(model, split, **trial.query),
                                             reference, strict=True)]  # fmt: skip
        gain, error = np.mean(differences), clustered_std_error(differences, users)
        tried[trial.number] = (gain, error)
        if gain > NOISE * error:
            return trial, tried
    return None, tried


def test_the_result_is_the_best_confirmed_setting_fitted_on_everything(result, corpus):
    chosen, tried = confirmed(result, corpus, seed=0)
    for trial in result.trials:
        if trial.number in tried:
            gain, error = tried[trial.number]
            assert trial.confirmed_gain == pytest.approx(gain, abs=1e-12)
            assert trial.confirmed_gain_std_error == pytest.approx(error, rel=1e-9, abs=1e-15)
        else:
            assert math.isnan(trial.confirmed_gain) and math.isnan(trial.confirmed_gain_std_error)
    # the defaults' parameters as the estimator has them: epochs="auto" (trial 0 trained
    # with the epochs "auto" gives on the training part; the final fit is on all events)
    as_given = {**result.trials[0].params, "epochs": "auto"}
    if chosen is not None:
        params = as_given if chosen.number == 0 else chosen.params
        expected = (params, chosen.query, chosen.score)
    else:  # the defaults, their query options included
        expected = (as_given, DEFAULT_QUERY, result.default_score)
    assert (result.best_params, result.best_query, result.best_score) == expected
    params = result.model.get_params()
    for name, value in {**FAST, **result.best_params, **result.best_query}.items():
        assert params[name] == value, name
    # fitted on all events, the held-out last ones included
    assert result.model.vocabulary_.counts.sum() == corpus.n_tokens
    reference = Item2Vec(**params).fit(corpus)
    np.testing.assert_array_equal(reference.vectors_, result.model.vectors_)


def test_without_a_gain_beyond_the_noise_the_defaults_are_kept(corpus):
    # one trial: the defaults; the query values found for them count only beyond the noise
    result = tune(
        corpus, budget=600, max_trials=1, fixed=FAST, n_jobs=1, verbose=False, search_query=True
    )
    (only,) = result.trials
    if only.confirmed_gain > NOISE * only.confirmed_gain_std_error:
        assert only.gain > NOISE * only.gain_std_error
        assert result.best_query == only.query != DEFAULT_QUERY
    else:
        assert result.best_query == DEFAULT_QUERY
        assert result.best_score == result.default_score
    assert result.best_params == {**only.params, "epochs": "auto"}
    # kept, the defaults fit as a plain fit does: epochs worked out on all the events
    plain = Item2Vec(**FAST, n_jobs=1, random_state=0, **result.best_query).fit(corpus)
    np.testing.assert_array_equal(plain.vectors_, result.model.vectors_)


@pytest.fixture(scope="module")
def halved(corpus):
    return tune(corpus, budget=600, max_trials=10, metric="hr@10", fixed=FAST, n_jobs=1,
                verbose=False, random_state=3)  # fmt: skip


def test_successive_halving_stops_trials_at_a_quarter_or_a_half_of_their_epochs(halved, corpus):
    stopped = [t for t in halved.trials if t.stopped]
    assert stopped, "no trial was stopped early: pick another random_state"
    assert not halved.trials[0].stopped  # the defaults always train to the end
    split = reference_split(corpus, users=halves(halved, corpus)[0])
    for trial in stopped:
        epoch, epochs = map(
            int, re.match(r"stopped after (\d+) of (\d+) epochs", trial.error).groups()
        )
        assert epochs == trial.params["epochs"] >= 4
        assert epoch in (math.ceil(epochs / 4), math.ceil(epochs / 2))
        assert trial.score == -math.inf and trial.query == DEFAULT_QUERY
        # its metrics are those of the model trained that far, under the defaults' query
        stop = [lambda model, stats, e=epoch: stats["epoch"] == e]
        settings = {**FAST, **trial.params, "n_jobs": 1, "random_state": 3, "callbacks": stop}
        model = Item2Vec(**settings).fit(split.train)
        expected = evaluate(model, split, k=10, **DEFAULT_QUERY)
        assert trial.metrics["hr"] == pytest.approx(expected["hr"], rel=1e-12)
        assert trial.error in halved.table()


def test_the_table_lists_every_trial_best_first(result):
    lines = result.table().splitlines()
    assert len(lines) == 1 + len(result.trials)
    assert lines[0].split()[:8] == ["#", "hr@10", "±", "gain", "±", "hr", "s", "confirmed"]
    for line, trial in zip(lines[1:], sorted(result.trials, key=lambda t: -t.score), strict=True):
        shown = line.split()[7]
        if math.isnan(trial.confirmed_gain):
            assert shown == "-"
        else:
            assert shown == f"{trial.confirmed_gain:+.4f}"
    scores = [float(line.split()[1]) for line in lines[1:]]
    assert scores == sorted(scores, reverse=True)
    assert len(result.table(limit=1).splitlines()) == 2


def test_a_tiny_budget_still_tries_the_defaults(corpus):
    result = tune(corpus, budget=1e-3, fixed=FAST, n_jobs=1, verbose=False)
    assert [t.number for t in result.trials] == [0]


def planted(n_sessions):
    data = planted_sessions(n_sessions=n_sessions, n_items=60, n_clusters=6, random_state=2)
    return Sequences.from_iterable(data.sequences)


@pytest.mark.parametrize("n_sessions", [1200, 1600])
def test_a_candidate_is_chosen_only_when_the_confirmation_holds(n_sessions):
    # planted sessions are baskets: no recency (half_life=None) ranks better for the
    # defaults' model on the search half, beyond the noise, in both corpora; trained again
    # from another seed and scored on the other half, the gain holds for 1,600 sessions
    # and not for 1,200 (a small and noisy gain of the search: the defaults are kept)
    corpus = planted(n_sessions)
    result = tune(corpus, budget=600, max_trials=1, metric="hr@10", fixed=FAST, n_jobs=1,
                  verbose=False, search_query=True)  # fmt: skip
    (only,) = result.trials
    assert only.query == {**DEFAULT_QUERY, "half_life": None}
    assert only.gain > NOISE * only.gain_std_error
    chosen, tried = confirmed(result, corpus, seed=0)
    assert list(tried) == [0]
    assert only.confirmed_gain == pytest.approx(tried[0][0], abs=1e-12)
    assert only.confirmed_gain_std_error == pytest.approx(tried[0][1], rel=1e-9)
    assert (chosen is not None) == (n_sessions == 1600)
    assert result.table().splitlines()[1].split()[7] == f"{only.confirmed_gain:+.4f}"
    assert result.best_query == (only.query if chosen else DEFAULT_QUERY)
    assert result.model.half_life == (None if chosen else 1.0)


def test_query_options_keep_the_estimators_values_unless_searched():
    corpus = planted(800)
    searched = tune(corpus, budget=600, max_trials=3, fixed=FAST, n_jobs=1, verbose=False,
                    search_query=True)  # fmt: skip
    assert searched.trials[0].query != DEFAULT_QUERY  # the test above: half_life=None
    plain = tune(corpus, budget=600, max_trials=3, fixed=FAST, n_jobs=1, verbose=False)
    assert [t.params for t in plain.trials] == [t.params for t in searched.trials]
    assert all(t.query == DEFAULT_QUERY for t in plain.trials)
    assert plain.best_query == DEFAULT_QUERY
    for name, value in DEFAULT_QUERY.items():
        assert getattr(plain.model, name) == value
    # each trial scored under the defaults' query: the first is the defaults' own score
    assert plain.trials[0].score == plain.default_score
    assert plain.trials[0].gain == 0.0


@pytest.mark.parametrize("value", [1, "yes", None])
def test_search_query_must_be_a_bool(corpus, value):
    with pytest.raises(ValueError, match="search_query must be a bool"):
        tune(corpus, budget=1, fixed=FAST, search_query=value, verbose=False)


def test_fixed_query_options_are_not_searched(corpus):
    fixed = {**FAST, "half_life": None, "popularity": 0.25}
    result = tune(corpus, budget=1e-3, fixed=fixed, n_jobs=1, verbose=False, search_query=True)
    assert result.trials[0].query["half_life"] is None
    assert result.trials[0].query["popularity"] == 0.25
    assert result.model.popularity == 0.25


def test_events_and_options_are_read_like_fit(tmp_path, corpus):
    lists = corpus.to_lists()
    users = np.repeat(np.arange(len(lists)), [len(s) for s in lists])
    events = {"user": users, "item": np.concatenate(lists), "t": np.arange(users.shape[0])}
    from_events = tune(
        events, user="user", item="item", time="t", budget=1e-3, fixed=FAST, n_jobs=1,
        verbose=False,
    )  # fmt: skip
    corpus.save(tmp_path / "corpus")
    from_dir = tune(tmp_path / "corpus", budget=1e-3, fixed=FAST, n_jobs=1, verbose=False)
    assert from_events.trials[0].metrics["hr"] == from_dir.trials[0].metrics["hr"]
    with pytest.raises(ValueError, match="corpus directory"):
        tune(tmp_path / "corpus", user="user", budget=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "auc"}, "metric must look like"),
        ({"metric": "hr@0"}, "metric must look like"),
        ({"budget": 0}, "budget"),
        ({"fixed": {"windows": 3}}, "not Item2Vec parameters"),
        ({"fixed": {"window": 0}}, "window"),
        ({"validation_users": 0}, "validation_users"),
        ({"validation_events": 0}, "validation_events"),
        ({"max_trials": 0}, "max_trials"),
    ],
)
def test_bad_arguments_are_named(corpus, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tune(corpus, **{"budget": 1, **kwargs})


def test_no_user_with_two_events_is_refused():
    with pytest.raises(ValueError, match="two or more events"):
        tune([["a"], ["b"]], budget=1)


def test_without_optuna_the_extra_is_named(corpus, without_module):
    without_module("optuna")
    with pytest.raises(ImportError, match=r"item2vec\[tune\]"):
        tune(corpus, budget=1)


def test_validation_users_and_events_choose_the_held_out_events(corpus):
    result = tune(corpus, budget=1e-3, fixed=FAST, validation_users=50, n_jobs=1, verbose=False)
    assert result.n_validation_users == 50
    assert result.trials[0].metrics["n_users"] == 25 * 3  # the search's half
    one = tune(corpus, budget=1e-3, fixed=FAST, validation_events=1, n_jobs=1, verbose=False)
    assert one.n_validation_users == len(corpus)
    assert one.trials[0].metrics["n_users"] == len(corpus) // 2


def test_short_users_keep_one_event_for_training():
    seqs = [["a", "b"], ["a", "b", "c"], ["c", "a", "b", "d", "a"]] * 20
    corpus = Sequences.from_iterable(seqs)
    result = tune(corpus, budget=1e-3, n_jobs=1, verbose=False, fixed=FAST)
    # 1, 2 and 3 held out for users of 2, 3 and 5 events; scored: the search's half
    searching = halves(result, corpus)[0]
    held = [min(3, len(seqs[number]) - 1) for number in sorted(searching)]
    assert len(searching) == 30
    assert result.trials[0].metrics["n_users"] == sum(held)


# --- command line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("tune") / "events.csv"
    rows = [f"u{u},i{item},{t}" for u, seq in enumerate(corpus.to_lists()) for t, item in
            enumerate(seq)]  # fmt: skip
    path.write_text("user,item,ts\n" + "\n".join(rows) + "\n")
    return path


def test_tune_command_saves_the_best_model_and_prints_the_table(events_csv, tmp_path, capsys):
    out = tmp_path / "best.npz"
    argv = ["tune", str(events_csv), "--user", "user", "--item", "item", "--time", "ts",
            "--budget", "600", "--max-trials", "2", "--n-jobs", "1", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split()[:2] == ["#", "ndcg@10"]
    assert len(captured.out.splitlines()) == 1 + 2 + 1  # header, two trials, the summary
    assert "saved" in captured.out.splitlines()[-1]
    assert "tune [" in captured.err and "trial 0" in captured.err
    model = Item2Vec.load(out)
    assert model.items_.shape[0] == 60


def test_tune_command_searches_the_query_options_when_asked(tmp_path, capsys):
    events_csv = tmp_path / "events.csv"
    rows = [f"u{u},i{item}" for u, seq in enumerate(planted(800).to_lists()) for item in seq]
    events_csv.write_text("user,item\n" + "\n".join(rows) + "\n")
    searched = tune(events_csv, budget=600, max_trials=1, n_jobs=1, verbose=False,
                    search_query=True, user="user", item="item")  # fmt: skip
    assert searched.best_query != DEFAULT_QUERY  # else the two runs below look alike
    for flag, expected in (([], DEFAULT_QUERY), (["--search-query"], searched.best_query)):
        out = tmp_path / f"m{len(flag)}.npz"
        argv = ["tune", str(events_csv), "--user", "user", "--item", "item", "--budget", "600",
                "--max-trials", "1", "--n-jobs", "1", "-o", str(out), *flag]  # fmt: skip
        assert main(argv) == 0
        model = Item2Vec.load(out)
        assert {name: getattr(model, name) for name in DEFAULT_QUERY} == expected, flag
    capsys.readouterr()


def test_evaluate_with_tune_prints_the_settings_it_chose(events_csv, capsys):
    argv = ["evaluate", str(events_csv), "--user", "user", "--item", "item", "--time", "ts",
            "--tune", "0.001", "--n-jobs", "1", "--json"]  # fmt: skip
    assert main(argv) == 0
    import json

    captured = capsys.readouterr()
    table = json.loads(captured.out)  # stdout holds only the JSON
    settings = table["Item2Vec"]["settings"]
    # the first (and here only) trial: the defaults, kept as the estimator has them
    # (epochs="auto": worked out again for all the training events by the final fit)
    assert settings["sample"] == 0.0 and settings["epochs"] == "auto"
    # the trials' table goes to stderr, after the per-trial lines
    assert captured.err.splitlines()[-2].split()[:2] == ["#", "ndcg@10"]


def test_recommend_command_uses_and_overrides_the_models_options(tmp_path, capsys, corpus):
    model = Item2Vec(vector_size=8, epochs=3, half_life=1.0, popularity=1.5, n_jobs=1,
                     random_state=0).fit(corpus)  # fmt: skip
    path = tmp_path / "m.npz"
    model.save(path)
    history = [int(i) for i in corpus.to_lists()[0][:6]]
    text = ",".join(str(i) for i in history)
    for options, kwargs in (
        ([], {}),
        (["--half-life", "none"], {"half_life": None}),
        (["--popularity", "0", "--last-n", "2"], {"popularity": 0.0, "last_n": 2}),
    ):
        assert main(["recommend", str(path), "--history", text, "-k", "5", *options]) == 0
        ids, scores = model.recommend(history, topn=5, **kwargs)
        expected = [f"{i}\t{s:.4f}" for i, s in zip(ids.tolist(), scores.tolist(), strict=True)]
        assert capsys.readouterr().out.splitlines() == expected
    plain = model.recommend(history, topn=5, half_life=None, popularity=0.0)[0].tolist()
    assert model.recommend(history, topn=5)[0].tolist() != plain


def test_when_the_defaults_cannot_train_tune_fails_at_once_with_their_error(corpus, monkeypatch):
    from item2vec import tuning

    real_fit = Item2Vec.fit
    fits = []

    def counted_fit(self, X, *args, **kwargs):
        fits.append(1)
        return real_fit(self, X, *args, **kwargs)

    monkeypatch.setattr(tuning.Item2Vec, "fit", counted_fit)
    # min_count above every item's count: no setting can train on this data
    fixed = {**FAST, "min_count": 10**6}
    message = (
        f"tune's first trial (the defaults, with fixed={fixed!r}) cannot train on this data: "
        f"no item occurs at least min_count=1000000 times; lower min_count"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        tune(corpus, budget=600, max_trials=20, fixed=fixed, n_jobs=1, verbose=False)
    assert len(fits) == 1  # not the budget, not twenty trials: the first one


def test_failed_trials_show_in_the_table(corpus, monkeypatch):
    from item2vec import tuning

    real_fit = Item2Vec.fit
    calls = []

    def flaky_fit(self, X, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second trial's training fails
            raise FloatingPointError("training diverged")
        return real_fit(self, X, *args, **kwargs)

    monkeypatch.setattr(tuning.Item2Vec, "fit", flaky_fit)
    result = tune(corpus, budget=600, max_trials=3, fixed=FAST, n_jobs=1, verbose=False)
    assert len(result.trials) == 3
    failed = result.trials[1]
    assert failed.error == "training diverged" and failed.score == -math.inf
    assert any("failed: training diverged" in line for line in result.table().splitlines())
    assert result.best_score > -math.inf


def test_one_random_state_gives_one_search(corpus):
    def searched(seed):
        result = tune(corpus, budget=600, max_trials=3, fixed=FAST, n_jobs=1, verbose=False,
                      random_state=seed)  # fmt: skip
        return [trial.params for trial in result.trials]

    first = searched(5)
    assert searched(5) == first
    # the first trial is the defaults whatever the seed; the sampler's draws follow it
    assert searched(6)[1:] != first[1:]


def test_without_a_random_state_each_search_draws_a_fresh_seed(corpus):
    def searched():
        return tune(corpus, budget=600, max_trials=3, fixed=FAST, n_jobs=1, verbose=False,
                    random_state=None)  # fmt: skip

    first, second = searched(), searched()
    for result in (first, second):
        assert len(result.trials) == 3 and result.trials[0].error is None
        assert math.isfinite(result.best_score) and math.isfinite(result.default_score)
        # the model is the one the result reports: its settings, left unseeded (None), fitted
        # on all the events with the seed it drew, which it records
        params = result.model.get_params()
        assert params["random_state"] is None
        assert {name: params[name] for name in result.best_params} == result.best_params
        assert {name: params[name] for name in result.best_query} == result.best_query
        assert {name: params[name] for name in FAST} == FAST
        seeded = Item2Vec(**{**params, "random_state": result.model._record.seed}).fit(corpus)
        np.testing.assert_array_equal(seeded.vectors_, result.model.vectors_)
    # two searches, two seeds: the sampler's settings after the defaults and the models differ
    assert first.trials[0].params == second.trials[0].params
    assert [t.params for t in first.trials[1:]] != [t.params for t in second.trials[1:]]
    assert first.model._record.seed != second.model._record.seed


def test_use_weights_is_searched_exactly_when_the_corpus_has_weights(corpus, result):
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 2.0, corpus.n_tokens).astype(np.float32)
    weighted = Sequences(corpus.codes, corpus.offsets, corpus.vocabulary, weights=weights)
    found = tune(weighted, budget=600, max_trials=2, fixed=FAST, n_jobs=1, verbose=False)
    assert all("use_weights" in trial.params for trial in found.trials)
    # the first trial tries the defaults, use_weights included
    assert found.trials[0].params["use_weights"] == Item2Vec().use_weights
    assert not any("use_weights" in trial.params for trial in result.trials)


def test_the_time_half_lives_tried_are_the_quartiles_of_the_event_ages():
    from item2vec.tuning import _time_half_lives

    # two histories: ages from their own last event are 60, 50, 30 and 4, 1 (zeros left out)
    times = np.array([0.0, 10.0, 30.0, 60.0, 100.0, 103.0, 104.0])
    codes = np.zeros(7, dtype=np.int32)
    histories = Sequences(codes, np.array([0, 4, 7]), Sequences.from_iterable([["a"]]).vocabulary,
                          times=times)  # fmt: skip
    ages = np.array([60.0, 50.0, 30.0, 4.0, 1.0])
    q1, q2, q3 = (float(np.quantile(ages, q)) for q in (0.25, 0.5, 0.75))
    assert (q1, q2, q3) == (4.0, 30.0, 50.0)  # linear interpolation lands on the ages here
    assert _time_half_lives(histories) == (None, 4.0, 30.0, 50.0)
    untimed = Sequences(codes, np.array([0, 4, 7]), histories.vocabulary)
    assert _time_half_lives(untimed) == (None,)


@pytest.mark.parametrize(
    ("fixed", "message"),
    [
        ({"n_jobs": 1, "random_state": 7},
         "fixed must not hold ['n_jobs', 'random_state'], which tune sets itself (n_jobs: "
         "tune's own n_jobs argument; random_state: tune's own random_state argument); "
         "pass tune(n_jobs=1, random_state=7) instead"),
        ({"verbose": 1},
         "fixed must not hold ['verbose'], which tune sets itself (verbose: trials train "
         "quietly; tune's verbose prints a line per trial)"),
    ],
)  # fmt: skip
def test_fixed_values_tune_would_replace_are_refused(corpus, fixed, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        tune(corpus, budget=1, fixed=fixed)


@pytest.mark.parametrize("make", [np.random.default_rng, np.random.RandomState])
def test_a_numpy_random_state_seeds_the_search_with_one_draw(corpus, make):
    def searched(random_state):
        result = tune(corpus, budget=600, max_trials=2, fixed=FAST, n_jobs=1, verbose=False,
                      random_state=random_state)  # fmt: skip
        return [trial.params for trial in result.trials], result.model.vectors_

    # the seed such a generator gives, drawn as the estimator draws it
    if make is np.random.default_rng:
        seed = int(np.random.default_rng(3).integers(0, 2**63))
    else:
        seed = int(np.random.RandomState(3).randint(0, 2**31 - 1))
    params, vectors = searched(make(3))
    same_params, same_vectors = searched(seed)
    assert params == same_params
    np.testing.assert_array_equal(vectors, same_vectors)


@pytest.mark.parametrize("random_state", [-1, 1.5, "0", True])
def test_a_bad_random_state_is_named(corpus, random_state):
    message = f"random_state must be None, an int >= 0 or a numpy Generator, got {random_state!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        tune(corpus, budget=1, random_state=random_state)


def test_a_trial_past_its_deadline_stops_at_the_end_of_its_epoch(corpus):
    import optuna

    from item2vec.tuning import _Rungs

    split = reference_split(corpus)
    trial = optuna.create_study(direction="maximize").ask()
    epochs_seen = []

    def count(model, stats):
        epochs_seen.append(stats["epoch"])

    late = _Rungs(optuna, trial, split, 10, "hr", DEFAULT_QUERY, deadline=0.0)
    Item2Vec(**FAST, epochs=6, n_jobs=1, callbacks=[count, late]).fit(split.train)
    assert late.stopped == (1, 6, None) and epochs_seen == [1]
    # with time left it trains every epoch (at 2 and 3 of 6 it reports to the pruner)
    on_time = _Rungs(optuna, trial, split, 10, "hr", DEFAULT_QUERY, deadline=math.inf)
    epochs_seen.clear()
    Item2Vec(**FAST, epochs=6, n_jobs=1, callbacks=[count, on_time]).fit(split.train)
    assert on_time.stopped is None and epochs_seen == [1, 2, 3, 4, 5, 6]
    assert sorted(trial.storage.get_trial(trial._trial_id).intermediate_values) == [1, 2]

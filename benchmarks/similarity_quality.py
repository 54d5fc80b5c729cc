"""Item-to-item similarity on MovieLens-100K: which neighbours ``most_similar`` should return.

Protocol: one sequence per user ordered by time (all ratings unless
``--min-rating``); the users are split 80/20 at random (a new split for each
seed); every model is fitted on the 80 % and each item with at least ``N``
training events (``--report-min-events``: 5, 20 and 50; the main table is
``N = 20``) asks for its 10 nearest neighbours among all trained items.
Three measures, mean ± std over ``--seeds`` seeds:

- genre agreement: the mean Jaccard index of the genre sets of the query and
  each of its neighbours (genres from ``ml-100k.item``);
- held-out co-occurrence: the share of the neighbours that some held-out user
  rated within ``--window`` events of the query ("hit"), and the same minus
  each neighbour's base rate, the share of all queries it co-occurs with
  ("excess"). Popular items co-occur with nearly everything, so their hit rate
  is high whatever the query; the excess of the 10 most popular items is 0 by
  construction, as is a random item's, and only neighbours chosen *for this
  query* score above 0 (both over the queries the held-out users rated);
- the top-5 of a few well-known films, printed by title (seed 0).

A second check where the truth is known (``--no-planted`` skips it): three
planted-cluster corpora of ``benchmarks/defaults.py``, p@10 of cluster
membership for up to 2,000 items with at least 5 events, with the defaults'
training.

Candidates: how the neighbours are scored from one fitted model (numpy here,
independently of the library) and which training parameters fit it:

- ``input``: cosine of the input vectors (``most_similar`` before this
  benchmark); ``output``: of the output vectors;
- ``concat``: cosine of the unit input and unit output vectors concatenated
  (the mean of the two cosines); ``sum``: cosine of input + output vectors
  (GloVe's ``W + C``); ``centred``: the vectors minus their count-weighted
  mean first (SGNS vectors share a common direction, Mimno & Thompson 2017),
  ``(unweighted)``: minus their plain mean;
- ``cross``: cosine of the query's input vector with the candidates' output
  vectors (the first-order SGNS score, approximately a PMI), ``cross sym``:
  its mean with the reverse;
- ``inout``: cosine of the query's input vector with the candidates' input +
  output vectors (first- and second-order scores together; what
  ``similarity="inout"`` computes), ``inout sym``: its mean with the reverse,
  ``inout, sum centred`` / ``both centred``: with the centred vectors;
- ``recommend``: what ``recommend([item])`` ranks by (input . output + 0.2 log
  count);
- ``floor T``: neighbours restricted to items with at least ``T`` training
  events; ``shrink s``: the cosine times ``n / (n + s)``, ``n`` the
  neighbour's training count;
- the training presets: the defaults, the "word2vec" preset and "similar"
  candidates (``sample=1e-3`` with more epochs);
- references: ItemKNN's co-occurrence cosine (computed here with scipy),
  the 10 most popular items, 10 random items; and ``library`` rows: what
  ``similar_items`` answers with the model's default similarity and with
  ``similarity="inout"``, to check the library against the reference
  computation.

Each training configuration also reports next-item HR@10 on the held-out users
(``model.score``: leave-last-out, the model's remembered query options), so a
preset that wins for similarity is seen beside what it costs for ranking.

Example::

    python benchmarks/similarity_quality.py --data ../shared/data/ml-100k --seeds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from _report import finish

from item2vec import Item2Vec, Sequences
from item2vec.datasets import load_movielens, planted_sessions

K = 10
SHOWN = (50, 1, 127, 100, 258, 71)  # Star Wars, Toy Story, Godfather, Fargo, Contact, Lion King
# whose top-5 are printed (the report holds every candidate's)
SHOWN_CANDIDATES = (
    "ItemKNN (co-occurrence cosine)", "defaults: input", "defaults: sum",
    "defaults: sum centred", "defaults: cross sym", "defaults: inout",
    "word2vec preset: input", "word2vec preset: inout", "sample 1e-3, epochs 10: input",
    "defaults: library similar_items, inout",
)  # fmt: skip
TRAININGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "word2vec preset": {"sample": 1e-3, "epochs": 5, "half_life": None, "popularity": 0.0},
    "sample 1e-3, auto epochs": {"sample": 1e-3},
    "sample 1e-3, epochs 10": {"sample": 1e-3, "epochs": 10},
}


def unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


# a scorer maps (input vectors, output vectors, training counts, query codes) to the
# scores of those queries against every item
Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def floored(scorer: Scorer, floor: int) -> Scorer:
    def score(w: np.ndarray, u: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
        s = scorer(w, u, n, q)
        s[:, n < floor] = -np.inf
        return s

    return score


def shrunk(scorer: Scorer, s: float) -> Scorer:
    def score(w: np.ndarray, u: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
        return scorer(w, u, n, q) * (n / (n + s))[None, :]

    return score


def _cross_sym(w: np.ndarray, u: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
    uw, uu = unit(w), unit(u)
    return (uw[q] @ uu.T + uu[q] @ uw.T) / 2


def _centred(w: np.ndarray, n: np.ndarray | None) -> np.ndarray:
    """Vectors minus their mean (weighted by the counts ``n`` unless None): the direction
    every item shares removed (SGNS vectors sit in a narrow cone, Mimno & Thompson 2017)."""
    w = np.asarray(w, np.float64)
    if n is None:
        return w - w.mean(axis=0)
    return w - (n[:, None] * w).sum(axis=0) / n.sum()


def _cross_sym_centred(w: np.ndarray, u: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
    return _cross_sym(_centred(w, n), _centred(u, n), n, q)


def _concat(w: np.ndarray, u: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
    both = unit(np.hstack([unit(w), unit(u)]))
    return both[q] @ both.T


def _inout_sym(w: np.ndarray, u: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
    uw, us = unit(w), unit(w + u)
    return (uw[q] @ us.T + us[q] @ uw.T) / 2


BASE: dict[str, Scorer] = {
    "input": lambda w, u, n, q: unit(w)[q] @ unit(w).T,
    "output": lambda w, u, n, q: unit(u)[q] @ unit(u).T,
    "concat": _concat,
    "sum": lambda w, u, n, q: unit(w + u)[q] @ unit(w + u).T,
    "input centred": lambda w, u, n, q: unit(_centred(w, n))[q] @ unit(_centred(w, n)).T,
    "sum centred": lambda w, u, n, q: unit(_centred(w + u, n))[q] @ unit(_centred(w + u, n)).T,
    "sum centred (unweighted)": lambda w, u, n, q: (
        unit(_centred(w + u, None))[q] @ unit(_centred(w + u, None)).T
    ),
    "cross": lambda w, u, n, q: unit(w)[q] @ unit(u).T,
    "cross sym": _cross_sym,
    "cross sym centred": _cross_sym_centred,
    "inout": lambda w, u, n, q: unit(w)[q] @ unit(w + u).T,
    "inout sym": _inout_sym,
    "inout, sum centred": lambda w, u, n, q: unit(w)[q] @ unit(_centred(w + u, n)).T,
    "inout, both centred": lambda w, u, n, q: unit(_centred(w, n))[q] @ unit(_centred(w + u, n)).T,
    "recommend": lambda w, u, n, q: (
        np.asarray(w, np.float64)[q] @ np.asarray(u, np.float64).T + 0.2 * np.log(np.maximum(n, 1))
    ),
}
SCORERS: dict[str, Scorer] = dict(BASE)
for _name in ("input", "sum", "inout"):
    for _t in (5, 10, 20):
        SCORERS[f"{_name}, floor {_t}"] = floored(BASE[_name], _t)
    for _s in (5, 20):
        SCORERS[f"{_name}, shrink {_s}"] = shrunk(BASE[_name], _s)
# the other presets: the scorings that matter, not every variant
OTHER_SCORERS = ("input", "sum", "sum centred", "cross sym", "inout")


def top_neighbours(
    score: Callable[[np.ndarray], np.ndarray], queries: np.ndarray, k: int = K
) -> np.ndarray:
    """Codes of each query's ``k`` best items, best first (ties by lower code), itself left
    out; ``score(codes)`` gives the rows of the score matrix of some queries."""
    out = np.empty((queries.size, k), dtype=np.int64)
    for start in range(0, queries.size, 1024):
        q = queries[start : start + 1024]
        rows = np.array(score(q), dtype=np.float64)
        rows[np.arange(q.size), q] = -np.inf
        part = np.argpartition(-rows, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(rows, part, axis=1)
        order = np.lexsort((part, -best), axis=1)  # best first, ties by lower code
        out[start : start + q.size] = np.take_along_axis(part, order, axis=1)
    return out


def cooccurrence(held_out: Sequences, codes_of: dict[Any, int], n: int, window: int) -> np.ndarray:
    """Boolean (n, n): items rated by one held-out user within ``window`` events of each other."""
    items = held_out.vocabulary.items[held_out.codes]
    codes = np.array([codes_of.get(i, -1) for i in items.tolist()], dtype=np.int64)
    seq = np.repeat(np.arange(len(held_out)), held_out.lengths)
    hit = np.zeros((n, n), dtype=bool)
    for d in range(1, window + 1):
        a, b = codes[:-d], codes[d:]
        keep = (seq[:-d] == seq[d:]) & (a >= 0) & (b >= 0) & (a != b)
        hit[a[keep], b[keep]] = True
    return hit | hit.T


def jaccard_matrix(genres: list[frozenset[str]]) -> np.ndarray:
    names = sorted(set().union(*genres))
    onehot = np.array([[g in gs for g in names] for gs in genres], dtype=np.float64)
    inter = onehot @ onehot.T
    sizes = onehot.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class Context:
    """What every candidate of one seed is measured against."""

    def __init__(self, train: Sequences, held_out: Sequences, genres: dict, window: int) -> None:
        train = train.pruned(min_count=1)
        self.train = train
        self.items = train.vocabulary.items
        self.counts = train.vocabulary.counts.astype(np.float64)
        self.codes_of = {item: c for c, item in enumerate(self.items.tolist())}
        n = len(self.items)
        self.jaccard = jaccard_matrix([frozenset(genres.get(i, ())) for i in self.items.tolist()])
        self.has_genres = np.array([bool(genres.get(i)) for i in self.items.tolist()])
        self.cooc = cooccurrence(held_out, self.codes_of, n, window)
        self.in_held_out = self.cooc.any(axis=1)

    def queries(self, min_events: int) -> np.ndarray:
        return np.flatnonzero(self.counts >= min_events)

    def measure(self, neighbours: np.ndarray, queries: np.ndarray) -> dict[str, float]:
        """Genre agreement and held-out co-occurrence of ``neighbours`` (rows: ``queries``)."""
        valid = neighbours >= 0
        g = self.has_genres[queries]
        jac = self.jaccard[queries[:, None], np.maximum(neighbours, 0)]
        genre = float(np.mean([jac[r][valid[r]].mean() for r in np.flatnonzero(g)]))
        # co-occurrence: queries seen in the held-out users; each neighbour's base rate is the
        # share of those queries it co-occurs with, so the 10 most popular items score 0
        seen = self.in_held_out[queries]
        q = queries[seen]
        base = self.cooc[q].mean(axis=0)
        nb = np.maximum(neighbours[seen], 0)
        hits = self.cooc[q[:, None], nb]
        hit = float(hits.mean())
        excess = float((hits - base[nb]).mean())
        rare = float((self.counts[np.maximum(neighbours, 0)] < 10).mean())
        return {"genre": genre, "hit": hit, "excess": excess, "rare_share": rare}


def itemknn_scorer(train: Sequences, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """Cosine of the binary sequence x item columns (ItemKNN's similarity), rows on demand."""
    seq = np.repeat(np.arange(len(train)), train.lengths)
    x = sp.csr_array((np.ones(train.n_tokens), (seq, train.codes)), shape=(len(train), n))
    x.sum_duplicates()
    x.data[:] = 1.0
    xt = x.T.tocsr()
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    norms[norms == 0] = 1.0

    def score(q: np.ndarray) -> np.ndarray:
        co = (xt[q] @ x).toarray()
        return co / norms[q][:, None] / norms[None, :]

    return score


def model_state(model: Item2Vec, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """The model's vectors in the context's item order."""
    order = model.vocabulary_.codes_of(ctx.items.tolist())
    return model.vectors_[order], model.output_vectors_[order]


def run_seed(
    seed: int, corpus: Sequences, genres: dict, titles: dict, args: argparse.Namespace
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[str]]]]:
    rng = np.random.default_rng(seed)
    users = rng.permutation(len(corpus))
    n_train = round(0.8 * len(corpus))
    train, held_out = corpus.subset(users[:n_train]), corpus.subset(users[n_train:])
    ctx = Context(train, held_out, genres, args.window)
    n = len(ctx.items)
    rows: dict[str, dict[str, Any]] = {}
    shown: dict[str, dict[str, list[str]]] = {}
    shown_codes = np.array([ctx.codes_of[i] for i in SHOWN if i in ctx.codes_of])

    def add(name: str, score: Callable[[np.ndarray], np.ndarray] | None, extra: dict[str, Any],
            neighbours_of: Callable[[np.ndarray], np.ndarray] | None = None) -> None:  # fmt: skip
        def neighbours(q: np.ndarray) -> np.ndarray:
            if neighbours_of is not None:
                return neighbours_of(q)
            assert score is not None
            return top_neighbours(score, q)

        row = dict(extra)
        for m in args.report_min_events:
            q = ctx.queries(m)
            row[f"N{m}"] = ctx.measure(neighbours(q), q) | {"n_queries": int(q.size)}
        rows[name] = row
        if seed == args.shown_seed:
            top = neighbours(shown_codes)[:, :5]
            shown[name] = {
                titles.get(ctx.items[c], str(ctx.items[c])): [
                    titles.get(ctx.items[j], str(ctx.items[j])) for j in row_ if j >= 0
                ]
                for c, row_ in zip(shown_codes.tolist(), top.tolist(), strict=True)
            }

    add("ItemKNN (co-occurrence cosine)", itemknn_scorer(ctx.train, n), {})
    add("popularity (10 most popular)", lambda q: np.broadcast_to(ctx.counts, (q.size, n)), {})

    def random_neighbours(q: np.ndarray) -> np.ndarray:
        pick = np.random.default_rng(seed + 1000)
        out = np.empty((q.size, K), dtype=np.int64)
        for r, c in enumerate(q.tolist()):
            others = np.delete(np.arange(n), c)
            out[r] = pick.choice(others, K, replace=False)
        return out

    add("random items", None, {}, random_neighbours)

    for training, params in TRAININGS.items():
        if args.only and not any(word in training for word in args.only):
            continue
        model = Item2Vec(**params, n_jobs=args.jobs, random_state=seed)
        started = time.perf_counter()
        model.fit(ctx.train)
        seconds = time.perf_counter() - started
        hr = model.score(held_out)
        w, u = model_state(model, ctx)
        extra = {"training": training, "fit_seconds": seconds, "hr10": hr}
        names = SCORERS if training == "defaults" else {k: SCORERS[k] for k in OTHER_SCORERS}
        for scoring, scorer in names.items():
            add(
                f"{training}: {scoring}",
                lambda q, scorer=scorer, w=w, u=u: scorer(w, u, ctx.counts, q),
                extra,
            )

        for shown_name, options in (
            ("library similar_items", {}),
            ("library similar_items, inout", {"similarity": "inout"}),
        ):

            def library(q: np.ndarray, model: Item2Vec = model, options: dict = options
                        ) -> np.ndarray:  # fmt: skip
                ids, _ = model.similar_items(ctx.items[q].tolist(), topn=K, exact=True, **options)
                return np.array([[ctx.codes_of[i] for i in row] for row in ids.tolist()])

            add(f"{training}: {shown_name}", None, extra, library)
    return rows, shown


# planted clusters (benchmarks/defaults.py's corpora): a second, synthetic check where the
# truth is known: item i belongs to cluster i % n_clusters
PLANTED: dict[str, dict[str, Any]] = {
    "planted": {},
    "planted-flat": dict(n_sessions=30_000, n_items=5_000, n_clusters=200, mean_length=6,
                         zipf=0.6, noise=0.2, random_state=11),
    "planted-sparse": dict(n_sessions=40_000, n_items=20_000, n_clusters=500, mean_length=4,
                           zipf=1.2, noise=0.1, random_state=3),
}  # fmt: skip
PLANTED_SCORERS = (
    "input", "sum", "sum centred", "input centred", "cross", "cross sym", "inout", "inout sym",
    "inout, sum centred", "input, floor 5", "sum, shrink 5", "inout, floor 5", "inout, shrink 5",
)  # fmt: skip


def planted_check(seed: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """p@10 of planted-cluster membership, for up to 2,000 items with >= 5 events."""
    out: dict[str, dict[str, float]] = {}
    for corpus_name, options in PLANTED.items():
        data = planted_sessions(**options)
        corpus = Sequences.from_iterable(data.sequences).pruned(min_count=1)
        items = corpus.vocabulary.items
        counts = corpus.vocabulary.counts.astype(np.float64)
        cluster = np.asarray(data.cluster_of)[items.astype(np.int64)]
        eligible = np.flatnonzero(counts >= 5)
        rng = np.random.default_rng(seed)
        queries = np.sort(rng.choice(eligible, min(2000, eligible.size), replace=False))

        def precision(
            neighbours: np.ndarray, cluster: np.ndarray = cluster, queries: np.ndarray = queries
        ) -> float:
            return float((cluster[neighbours] == cluster[queries][:, None]).mean())

        out[f"{corpus_name}: ItemKNN"] = {
            "p10": precision(top_neighbours(itemknn_scorer(corpus, len(items)), queries))
        }
        model = Item2Vec(n_jobs=args.jobs, random_state=seed)
        started = time.perf_counter()
        model.fit(corpus)
        seconds = time.perf_counter() - started
        order = model.vocabulary_.codes_of(items.tolist())
        w, u = model.vectors_[order], model.output_vectors_[order]
        for scoring in PLANTED_SCORERS:
            scorer = SCORERS[scoring]
            found = top_neighbours(lambda q, s=scorer, w=w, u=u, n=counts: s(w, u, n, q), queries)
            out[f"{corpus_name}: defaults: {scoring}"] = {
                "p10": precision(found), "fit_seconds": seconds,
            }  # fmt: skip
        codes_of = {item: c for c, item in enumerate(items.tolist())}
        for shown_name, options in (
            ("library similar_items", {}),
            ("library similar_items, inout", {"similarity": "inout"}),
        ):
            ids, _ = model.similar_items(items[queries].tolist(), topn=K, exact=True, **options)
            library = np.array([[codes_of[i] for i in row] for row in ids.tolist()])
            out[f"{corpus_name}: defaults: {shown_name}"] = {"p10": precision(library)}
    return out


def summarise(per_seed: list[dict[str, dict[str, Any]]], reported: list[int]) -> list[dict]:
    names = list(per_seed[0])
    out = []
    for name in names:
        runs = [seed_rows[name] for seed_rows in per_seed]
        row: dict[str, Any] = {"candidate": name}
        for key in ("training", "fit_seconds", "hr10"):
            values = [r[key] for r in runs if key in r]
            if values and key == "training":
                row[key] = values[0]
            elif values:
                row[key] = statistics.fmean(values)
                row[key + "_std"] = statistics.pstdev(values)
                if key == "fit_seconds":
                    row["fit_seconds_median"] = statistics.median(values)
        for m in reported:
            for metric in ("genre", "hit", "excess", "rare_share"):
                values = [r[f"N{m}"][metric] for r in runs]
                row[f"N{m}_{metric}"] = statistics.fmean(values)
                row[f"N{m}_{metric}_std"] = statistics.pstdev(values)
            row[f"N{m}_n_queries"] = statistics.fmean(r[f"N{m}"]["n_queries"] for r in runs)
        # paired with the defaults' input cosine, seed by seed
        base = "defaults: input"
        main = f"N{args_main(reported)}"
        if base in per_seed[0] and name != base:
            for metric in ("genre", "excess"):
                diffs = [r[name][main][metric] - r[base][main][metric] for r in per_seed]
                row[f"delta_{metric}"] = statistics.fmean(diffs)
                row[f"delta_{metric}_std"] = statistics.pstdev(diffs)
        out.append(row)
    return out


def args_main(reported: list[int]) -> int:
    return 20 if 20 in reported else reported[0]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ml-100k"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--min-rating", type=float, default=None)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--report-min-events", type=int, nargs="+", default=[5, 20, 50])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--shown-seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="run the trainings whose name has a word")
    parser.add_argument("--no-planted", action="store_true", help="skip the planted clusters")
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/similarity_quality.json")
    )
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]

    data = load_movielens(args.data)
    corpus = Sequences.from_events(
        data.events, user="user", item="item", time="timestamp",
        **({} if args.min_rating is None else {"weight": "rating", "min_weight": args.min_rating}),
    )  # fmt: skip
    print(f"{args.data}: {corpus.n_tokens:,} events, {len(corpus):,} users, "
          f"{len(corpus.vocabulary):,} items; load average {load:.2f}")  # fmt: skip

    per_seed, shown, planted = [], {}, []
    for seed in range(args.seeds):
        started = time.perf_counter()
        rows, titles_shown = run_seed(seed, corpus, data.genres, data.titles, args)
        per_seed.append(rows)
        shown = shown or titles_shown
        if not args.no_planted:
            planted.append(planted_check(seed, args))
        print(f"seed {seed}: {time.perf_counter() - started:.1f} s", flush=True)
    results = summarise(per_seed, args.report_min_events)
    planted_rows = []
    for name in planted[0] if planted else []:
        values = [p[name]["p10"] for p in planted]
        planted_rows.append({
            "candidate": name, "p10": statistics.fmean(values),
            "p10_std": statistics.pstdev(values),
            **({"fit_seconds_median": statistics.median(p[name]["fit_seconds"] for p in planted)}
               if "fit_seconds" in planted[0][name] else {}),
        })  # fmt: skip

    main_n = args_main(args.report_min_events)
    header = (f"{'candidate':42s} {'genre J@10':>15s} {'co-oc hit@10':>15s} "
              f"{'excess@10':>15s} {'rare':>5s} {'HR@10':>11s} {'fit s':>6s}")  # fmt: skip
    print(f"\nqueries with >= {main_n} training events "
          f"({results[0][f'N{main_n}_n_queries']:.0f} on average)")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in results:
        cells = [
            f"{row[f'N{main_n}_{m}']:.4f} ± {row[f'N{main_n}_{m}_std']:.4f}"
            for m in ("genre", "hit", "excess")
        ]
        hr = f"{row['hr10']:.3f}±{row['hr10_std']:.3f}" if "hr10" in row else ""
        fit = f"{row['fit_seconds_median']:.2f}" if "fit_seconds_median" in row else ""
        rare = row[f"N{main_n}_rare_share"]
        print(f"{row['candidate']:42s} {cells[0]:>15s} {cells[1]:>15s} {cells[2]:>15s} "
              f"{rare:5.2f} {hr:>11s} {fit:>6s}")  # fmt: skip
    for m in args.report_min_events:
        if m == main_n:
            continue
        n_queries = results[0][f"N{m}_n_queries"]
        print(f"\nqueries with >= {m} training events ({n_queries:.0f} on average): "
              f"genre J@10 / excess@10")  # fmt: skip
        for row in results:
            print(f"{row['candidate']:42s} {row[f'N{m}_genre']:.4f} ± {row[f'N{m}_genre_std']:.4f}"
                  f"  {row[f'N{m}_excess']:.4f} ± {row[f'N{m}_excess_std']:.4f}")  # fmt: skip
    if planted_rows:
        print("\nplanted clusters: p@10 of cluster membership (defaults' training)")
        for row in planted_rows:
            fit = f"  fit {row['fit_seconds_median']:.2f} s" if "fit_seconds_median" in row else ""
            print(f"{row['candidate']:50s} {row['p10']:.4f} ± {row['p10_std']:.4f}{fit}")
    print("\npaired with 'defaults: input', seed by seed: delta genre J@10 / delta excess@10")
    for row in results:
        if "delta_genre" in row:
            print(f"{row['candidate']:42s} {row['delta_genre']:+.4f} ± {row['delta_genre_std']:.4f}"
                  f"  {row['delta_excess']:+.4f} ± {row['delta_excess_std']:.4f}")  # fmt: skip
    print(f"\ntop-5 neighbours, seed {args.shown_seed}:")
    for name, tops in shown.items():
        if name not in SHOWN_CANDIDATES:
            continue
        print(f"  {name}")
        for title, neighbours in tops.items():
            print(f"    {title}: {'; '.join(neighbours)}")
    args.data = str(args.data)
    return finish(args, load, results + planted_rows + [{"shown_titles": shown}])


if __name__ == "__main__":
    main()

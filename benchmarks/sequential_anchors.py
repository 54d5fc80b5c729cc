"""Next-item quality against the sequential anchors: SASRec and GRU4Rec with full
cross-entropy, EASE, ItemKNN and Popularity, beside item2vec's defaults.

Data: MovieLens-100K in two variants, all ratings and ratings >= 4, one
sequence per user ordered by time. Three protocols, because 76 % of the
events share their second with another event of the same user (see
benchmarks/README.md, "Sequential anchors"):

- ``file``: ties in the file's order (what ``Sequences.from_events`` keeps),
  the last event of each user held out (``leave_last_out``);
- ``item``: ties ordered by item id (``order_ties``), then ``leave_last_out``;
- ``group``: ties by item id, the whole last same-time group of each user held
  out and a hit when any of its items is recommended (``leave_last_group_out``).

Every model is scored by ``item2vec.evaluation.evaluate``: HR@10, NDCG@10
(set-based for ``group``) and MRR@10 over a full ranking of the catalogue with
the history's items excluded. What is chosen on validation (EASE's ``l2``, the
neural models' epochs) is chosen on a split carved from the training part the
same way: the last event (or group) of each user's training history.

The neural models are written here from the papers' descriptions, with full
softmax cross-entropy over all items at every position of the training
sequences (every prefix predicts its next item):

- SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation", 2018):
  item and learned position embeddings, causal self-attention blocks
  (layer norm, residual, dropout, point-wise two-layer feed-forward), the
  item embedding shared by input and output.
- GRU4Rec-style (Hidasi et al., "Session-based Recommendations with Recurrent
  Neural Networks", 2016): an item embedding, one GRU layer and an output
  layer over all items; trained here on whole user sequences with
  cross-entropy instead of the paper's session-parallel ranking losses.

They train on the training part minus the validation events, with Adam
(lr 1e-3) on batches of 32 windows of at most 50 events, keep the epoch with
the best validation HR@10 (up to 200 epochs, stopping 20 after the best) and
rank the test histories (which include the validation events) with it, as in
the SASRec paper; ``--refit`` also retrains them on the whole training part
for that many epochs and scores that too (the rows marked "refit").

torch is a benchmark-only dependency (``pip install torch``); the script runs
on 2 CPU threads. Examples::

    python benchmarks/sequential_anchors.py --data ../shared/data/ml-100k --quick
    python benchmarks/sequential_anchors.py --data ../shared/data/ml-100k \\
        --out benchmarks/results/sequential_anchors.json
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from item2vec import Item2Vec, Sequences
from item2vec.baselines import EASE, ItemKNN, Popularity
from item2vec.datasets import load_movielens
from item2vec.evaluation import (
    Split,
    _tie_groups,
    evaluate,
    leave_last_group_out,
    leave_last_out,
    order_ties,
)

K = 10
PROTOCOLS = ("file", "item", "group")
VARIANTS = {"all": None, "r4": 4.0}
VARIANT_NAMES = {"all": "all ratings", "r4": "ratings >= 4"}
EASE_L2 = (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
# the history weighting item2vec's defaults use, given to the item-item baselines too
HISTORY = dict(half_life=1.0)


def variant_corpus(events: Any, variant: str) -> Sequences:
    """One sequence per user ordered by time: all ratings, or ratings >= 4 (``VARIANTS``)."""
    low = VARIANTS[variant]
    options = {} if low is None else dict(weight="rating", min_weight=low)
    return Sequences.from_events(events, user="user", item="item", time="timestamp", **options)


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        sys.exit(
            "sequential_anchors.py needs torch for SASRec and GRU4Rec (a benchmark-only "
            "dependency): pip install torch   (or run with --models without sasrec,gru4rec)"
        )
    return torch


# --- splits ---------------------------------------------------------------------------------


def shuffled_ties(corpus: Sequences, seed: int = 0) -> Sequences:
    """The corpus with the events of each same-time group of a sequence in a random order."""
    groups = _tie_groups(corpus, "shuffled_ties")
    order = np.lexsort((np.random.default_rng(seed).random(corpus.n_tokens), groups))
    return Sequences(
        corpus.codes[order], corpus.offsets, corpus.vocabulary,
        None if corpus.weights is None else corpus.weights[order], corpus.times[order],
        corpus.users,
    )  # fmt: skip


def splits(corpus: Sequences, protocol: str) -> tuple[Split, Split]:
    """The test split of ``protocol`` and the validation split carved from its training part."""
    if protocol in ("file", "random"):
        if protocol == "random":  # ties in a random order: no rule for a model to learn
            corpus = shuffled_ties(corpus)
        split = leave_last_out(corpus)
        return split, leave_last_out(split.train)
    ordered = order_ties(corpus)
    if protocol == "item":
        split = leave_last_out(ordered)
        return split, leave_last_out(split.train)
    split = leave_last_group_out(ordered)
    return split, leave_last_group_out(split.train)


# --- the neural models ----------------------------------------------------------------------


def build_sasrec(torch: Any, n_items: int, args: argparse.Namespace) -> Any:
    nn = torch.nn

    class CausalSelfAttention(nn.Module):
        def __init__(self, dim: int, heads: int, dropout: float) -> None:
            super().__init__()
            self.heads, self.head_dim = heads, dim // heads
            self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
            self.out = nn.Linear(dim, dim)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Any, allowed: Any) -> Any:
            batch, length, dim = x.shape

            def heads(t: Any) -> Any:
                return t.view(batch, length, self.heads, self.head_dim).transpose(1, 2)

            q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
            scores = scores.masked_fill(~allowed[:, None], float("-inf"))
            weights = self.dropout(torch.softmax(scores, dim=-1))
            return self.out((weights @ v).transpose(1, 2).reshape(batch, length, dim))

    class Block(nn.Module):
        def __init__(self, dim: int, heads: int, dropout: float) -> None:
            super().__init__()
            self.norm_attention, self.norm_ffn = nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.attention = CausalSelfAttention(dim, heads, dropout)
            self.ffn = nn.Sequential(
                nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim)
            )
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Any, allowed: Any) -> Any:
            x = x + self.dropout(self.attention(self.norm_attention(x), allowed))
            return x + self.dropout(self.ffn(self.norm_ffn(x)))

    class SASRec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            dim = args.hidden
            self.items = nn.Embedding(n_items + 1, dim, padding_idx=0)
            self.positions = nn.Embedding(args.max_len, dim)
            self.dropout = nn.Dropout(args.sasrec_dropout)
            self.blocks = nn.ModuleList(
                Block(dim, args.heads, args.sasrec_dropout) for _ in range(args.blocks)
            )
            self.norm = nn.LayerNorm(dim)
            nn.init.normal_(self.items.weight, std=dim**-0.5)
            with torch.no_grad():
                self.items.weight[0].zero_()

        def forward(self, ids: Any) -> Any:
            length = ids.shape[1]
            valid = ids > 0
            x = self.items(ids) * math.sqrt(self.items.embedding_dim)
            x = x + self.positions(torch.arange(length))[None]
            x = self.dropout(x) * valid[..., None]
            # sequences are right-padded: a real position sees itself and the real ones before
            causal = torch.ones(length, length, dtype=torch.bool).tril()
            allowed = causal[None] & valid[:, None, :]
            for block in self.blocks:
                x = block(x, allowed) * valid[..., None]
            return self.norm(x)

        def output_weights(self) -> Any:
            return self.items.weight

    return SASRec()


def build_gru4rec(torch: Any, n_items: int, args: argparse.Namespace) -> Any:
    nn = torch.nn

    class GRU4Rec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.items = nn.Embedding(n_items + 1, args.gru_hidden, padding_idx=0)
            self.dropout_in = nn.Dropout(args.gru_dropout)
            self.gru = nn.GRU(args.gru_hidden, args.gru_hidden, num_layers=1, batch_first=True)
            self.dropout_out = nn.Dropout(args.gru_dropout)
            self.out = nn.Linear(args.gru_hidden, n_items + 1)

        def forward(self, ids: Any) -> Any:
            # right padding: a position's state depends on the real items before it only
            hidden, _ = self.gru(self.dropout_in(self.items(ids)))
            return self.dropout_out(hidden)

        def output_weights(self) -> Any:
            return self.out.weight

        def output_bias(self) -> Any:
            return self.out.bias

    return GRU4Rec()


class Catalogue:
    """Item ids of the training corpus as model ids 1 .. n (0 pads)."""

    def __init__(self, train: Sequences) -> None:
        present = np.bincount(train.codes, minlength=len(train.vocabulary)) > 0
        self.items = train.vocabulary.items[present]
        # the splits share their source's vocabulary: one lookup from its codes
        self.vocabulary_items = train.vocabulary.items
        self.of_code = np.zeros(len(train.vocabulary), dtype=np.int64)
        self.of_code[present] = np.arange(1, int(present.sum()) + 1)

    def ids(self, corpus: Sequences) -> list[np.ndarray]:
        if corpus.vocabulary.items is not self.vocabulary_items and not np.array_equal(
            corpus.vocabulary.items, self.vocabulary_items
        ):
            raise ValueError("the corpus does not share the training corpus's vocabulary")
        mapped = self.of_code[corpus.codes]
        return [row[row > 0] for row in np.split(mapped, corpus.offsets[1:-1])]


def training_windows(sequences: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-item targets covering every prefix once, right-padded to ``max_len``.

    A sequence longer than ``max_len + 1`` is cut into windows from its end, each
    predicting ``max_len`` items from the ones before them within the window.
    """
    inputs, targets = [], []
    for seq in sequences:
        end = seq.shape[0]
        while end >= 2:
            window = seq[max(0, end - max_len - 1) : end]
            x = np.zeros(max_len, dtype=np.int64)
            y = np.zeros(max_len, dtype=np.int64)
            x[: window.shape[0] - 1] = window[:-1]
            y[: window.shape[0] - 1] = window[1:]
            inputs.append(x)
            targets.append(y)
            end -= max_len
    return np.stack(inputs), np.stack(targets)


class NeuralRecommender:
    """A trained sequence model behind ``recommend_batch``, for ``evaluate``."""

    def __init__(self, torch: Any, model: Any, catalogue: Catalogue, max_len: int) -> None:
        self.torch, self.model, self.catalogue, self.max_len = torch, model, catalogue, max_len

    def recommend_batch(
        self, histories: Sequences, topn: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        rows = self.catalogue.ids(histories)
        items = np.empty((len(rows), topn), dtype=self.catalogue.items.dtype)
        scores = np.full((len(rows), topn), -np.inf)
        self.model.eval()
        with torch.no_grad():
            for start in range(0, len(rows), 256):
                batch = rows[start : start + 256]
                known = [r for r in batch if r.shape[0]]
                if not known:
                    continue
                ids = np.zeros((len(batch), self.max_len), dtype=np.int64)
                last = np.zeros(len(batch), dtype=np.int64)
                for i, r in enumerate(batch):
                    tail = r[-self.max_len :]
                    ids[i, : tail.shape[0]] = tail
                    last[i] = max(tail.shape[0] - 1, 0)
                hidden = self.model(torch.from_numpy(ids))
                state = hidden[torch.arange(len(batch)), torch.from_numpy(last)]
                logits = state @ self.model.output_weights().T
                if hasattr(self.model, "output_bias"):
                    logits = logits + self.model.output_bias()
                logits[:, 0] = float("-inf")
                for i, r in enumerate(batch):
                    if exclude_seen:
                        logits[i, torch.from_numpy(r)] = float("-inf")
                    if r.shape[0] == 0:
                        logits[i] = float("-inf")
                top = torch.topk(logits, topn, dim=1)
                top_scores = top.values.numpy().astype(np.float64)
                top_ids = top.indices.numpy()
                items[start : start + len(batch)] = self.catalogue.items[np.maximum(top_ids - 1, 0)]
                scores[start : start + len(batch)] = top_scores
        return items, scores


def train_neural(
    torch: Any,
    build: Callable[[Any, int, argparse.Namespace], Any],
    train: Sequences,
    validation: Split | None,
    epochs: int,
    args: argparse.Namespace,
    seed: int,
) -> tuple[NeuralRecommender, int, list[float], float]:
    """Train on ``train``; with ``validation``, stop early on its HR@10 and keep the best epoch.

    Returns the recommender, the number of epochs it trained, the validation
    HR@10 per epoch and the wall time.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    catalogue = Catalogue(train)
    model = build(torch, catalogue.items.shape[0], args)
    recommender = NeuralRecommender(torch, model, catalogue, args.max_len)
    inputs, targets = training_windows(catalogue.ids(train), args.max_len)
    inputs_t, targets_t = torch.from_numpy(inputs), torch.from_numpy(targets)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    started = time.perf_counter()
    history: list[float] = []
    best_state, best_epoch, best_hr = None, 0, -1.0
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.from_numpy(rng.permutation(inputs.shape[0]))
        for start in range(0, inputs.shape[0], args.batch_size):
            index = order[start : start + args.batch_size]
            x, y = inputs_t[index], targets_t[index]
            keep = y > 0
            hidden = model(x)[keep]
            logits = hidden @ model.output_weights().T
            if hasattr(model, "output_bias"):
                logits = logits + model.output_bias()
            logits[:, 0] = float("-inf")  # padding is never a target
            loss = torch.nn.functional.cross_entropy(logits, y[keep])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if validation is None:
            continue
        hr = evaluate(recommender, validation, K)["hr"]
        history.append(hr)
        if args.progress:
            print(f"      epoch {epoch}: validation HR@10 {hr:.4f} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
        if hr > best_hr:
            best_hr, best_epoch = hr, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= args.patience:
            break
    if validation is not None and best_state is not None:
        model.load_state_dict(best_state)
        return recommender, best_epoch, history, time.perf_counter() - started
    return recommender, epochs, history, time.perf_counter() - started


# --- one protocol -----------------------------------------------------------------------------


def run_protocol(
    corpus: Sequences, protocol: str, args: argparse.Namespace, torch: Any
) -> list[dict[str, Any]]:
    split, validation = splits(corpus, protocol)
    rows: list[dict[str, Any]] = []

    def record(model: str, metrics: dict[str, float], fit_s: float, **extra: Any) -> None:
        row = {
            "model": model,
            "hr": metrics["hr"],
            "ndcg": metrics["ndcg"],
            "mrr": metrics["mrr"],
            "n_users": metrics["n_users"],
            "fit_s": fit_s,
        } | extra
        rows.append(row)
        shown = {k: v for k, v in extra.items() if not isinstance(v, dict | list)}
        print(f"    {model:10s} HR@10 {row['hr']:.4f}  NDCG@10 {row['ndcg']:.4f}  "
              f"fit {fit_s:7.2f} s  {shown or ''}", flush=True)  # fmt: skip

    def timed_fit(model: Any, train: Sequences) -> float:
        started = time.perf_counter()
        model.fit(train)
        return time.perf_counter() - started

    if "popularity" in args.models:
        model = Popularity()
        seconds = timed_fit(model, split.train)
        record("Popularity", evaluate(model, split, K), seconds)
    if "itemknn" in args.models:
        model = ItemKNN()
        seconds = timed_fit(model, split.train)
        record("ItemKNN", evaluate(model, split, K, **HISTORY), seconds, **HISTORY)
    if "ease" in args.models:
        scores = {}
        for l2 in EASE_L2:
            candidate = EASE(l2=l2)
            timed_fit(candidate, validation.train)
            scores[l2] = evaluate(candidate, validation, K, **HISTORY)["hr"]
        # the smallest l2 among the best, so ties do not depend on dict order
        best = max(EASE_L2, key=lambda v: (scores[v], -v))
        model = EASE(l2=best)
        seconds = timed_fit(model, split.train)
        record("EASE", evaluate(model, split, K, **HISTORY), seconds, l2=best,
               validation_hr={str(k): v for k, v in scores.items()}, **HISTORY)  # fmt: skip
    if "item2vec" in args.models:
        for seed in range(args.seeds):
            model = Item2Vec(random_state=seed)
            seconds = timed_fit(model, split.train)
            record("item2vec", evaluate(model, split, K), seconds, seed=seed)
    for name, build in (("sasrec", build_sasrec), ("gru4rec", build_gru4rec)):
        if name not in args.models:
            continue
        label = {"sasrec": "SASRec-CE", "gru4rec": "GRU4Rec-CE"}[name]
        for seed in range(args.first_neural_seed, args.first_neural_seed + args.neural_seeds):
            recommender, epochs, curve, seconds = train_neural(
                torch, build, validation.train, validation, args.max_epochs, args, seed
            )
            curve = [round(v, 4) for v in curve]
            record(label, evaluate(recommender, split, K), seconds, seed=seed, epochs=epochs,
                   validation_hr=curve)  # fmt: skip
            if args.refit:  # the same seed, retrained on the whole training part
                recommender, _, _, refit_s = train_neural(
                    torch, build, split.train, None, epochs, args, seed
                )
                record(label + ", refit", evaluate(recommender, split, K), seconds + refit_s,
                       seed=seed, epochs=epochs, validation_hr=curve)  # fmt: skip
    for row in rows:
        row["protocol"] = protocol
    return rows


# --- report -----------------------------------------------------------------------------------


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean (and spread over seeds) per variant, protocol and model."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in results:
        groups.setdefault((row["variant"], row["protocol"], row["model"]), []).append(row)
    summary = []
    for (variant, protocol, model), rows in groups.items():
        entry: dict[str, Any] = {"variant": variant, "protocol": protocol, "model": model,
                                 "runs": len(rows)}  # fmt: skip
        for metric in ("hr", "ndcg", "mrr", "fit_s"):
            values = [r[metric] for r in rows]
            entry[metric] = statistics.fmean(values)
            entry[metric + "_min"], entry[metric + "_max"] = min(values), max(values)
        summary.append(entry)
    return summary


def table(summary: list[dict[str, Any]], variants: list[str], protocols: list[str]) -> str:
    """A Markdown table: one row per model, HR@10 / NDCG@10 per variant and protocol, fit time."""
    models = list(dict.fromkeys(entry["model"] for entry in summary))
    by_key = {(e["variant"], e["protocol"], e["model"]): e for e in summary}
    columns = [(v, p) for v in variants for p in protocols]
    head = "| model | " + " | ".join(f"{VARIANT_NAMES[v]}, {p}" for v, p in columns)
    lines = [head + " | fit s |", "| --- " * (len(columns) + 2) + "|"]
    for model in models:
        cells, fits = [], []
        for key in columns:
            entry = by_key.get((*key, model))
            if entry is None:
                cells.append("")
                continue
            cell = f"{entry['hr']:.3f} / {entry['ndcg']:.3f}"
            if entry["runs"] > 1:
                cell += f" ({entry['hr_min']:.3f}-{entry['hr_max']:.3f})"
            cells.append(cell)
            fits.append(entry["fit_s"])
        fit = f"{min(fits):.1f}-{max(fits):.1f}" if fits else ""
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {fit} |")
    return "\n".join(lines)


def write_json(path: Path, report: dict[str, Any]) -> None:
    """Write ``report`` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(report, out, indent=2)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data/ml-100k"),
        help="a MovieLens folder (item2vec.datasets.load_movielens reads it)",
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 item2vec seed, at most 20 epochs, patience 3, GRU hidden 64",
    )
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--protocols", nargs="+", choices=[*PROTOCOLS, "random"],
                        default=list(PROTOCOLS))  # fmt: skip
    parser.add_argument("--models", nargs="+", default=["popularity", "itemknn", "ease",
                        "item2vec", "sasrec", "gru4rec"],
                        choices=["popularity", "itemknn", "ease", "item2vec", "sasrec",
                                 "gru4rec"])  # fmt: skip
    parser.add_argument("--seeds", type=int, help="item2vec seeds (default 3; 1 with --quick)")
    parser.add_argument("--neural-seeds", type=int, default=1)
    parser.add_argument("--first-neural-seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, help="default 200; 20 with --quick")
    parser.add_argument("--patience", type=int, help="default 20; 3 with --quick")
    parser.add_argument("--refit", action="store_true",
                        help="also retrain the neural models on the whole training part "
                             "for the chosen number of epochs, and score that too")  # fmt: skip
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--sasrec-dropout", type=float, default=0.2)
    parser.add_argument("--gru-hidden", type=int, help="default 100; 64 with --quick")
    parser.add_argument("--gru-dropout", type=float, default=0.25)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--progress",
        action="store_true",
        help="print the neural models' validation HR@10 after every epoch",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch threads (on a busy machine 1 can be several times faster)",
    )
    args = parser.parse_args(argv)
    args.seeds = args.seeds or (1 if args.quick else 3)
    args.max_epochs = args.max_epochs or (20 if args.quick else 200)
    args.patience = args.patience or (3 if args.quick else 20)
    args.gru_hidden = args.gru_hidden or (64 if args.quick else 100)

    torch = None
    if {"sasrec", "gru4rec"} & set(args.models):
        torch = _torch()
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    data = load_movielens(args.data)
    results = []
    started = time.perf_counter()
    for variant in args.variants:
        corpus = variant_corpus(data.events, variant)
        print(f"{VARIANT_NAMES[variant]}: {corpus.n_tokens:,} events, {len(corpus):,} users, "
              f"{len(corpus.vocabulary):,} items", flush=True)  # fmt: skip
        for protocol in args.protocols:
            print(f"  protocol {protocol}", flush=True)
            for row in run_protocol(corpus, protocol, args, torch):
                results.append({"variant": variant} | row)
    load_after = os.getloadavg()
    summary = summarise(results)
    print()
    print(table(summary, args.variants, args.protocols))
    print(f"\nload average before {load_before}, after {load_after}; "
          f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "torch": None if torch is None else torch.__version__,
                    "load_average_before": load_before, "load_average_after": load_after},
        "summary": summary,
        "results": results,
    }  # fmt: skip
    if args.out:
        write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()

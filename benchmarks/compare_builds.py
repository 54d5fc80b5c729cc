"""A/B two builds of item2vec: training speed, alternating in fresh subprocesses.

Each side is a ``src`` folder holding a built ``item2vec`` (for example a git
worktree of another commit, built with ``python setup.py build_ext
--inplace``). Both train the same generated corpus, one epoch per mode, at
every vector size of ``--dims``; with ``--gensim``, gensim trains the same
corpus with the same settings and thread count in the same rounds (its
skip-gram is the reference of both skip-gram modes: it has no shared
negatives). The sides alternate for ``--repeats`` rounds, in a rotating order,
and the medians are compared.

Example::

    git worktree add /tmp/before HEAD~1
    (cd /tmp/before && python setup.py build_ext --inplace)
    python benchmarks/compare_builds.py /tmp/before/src src --corpus long \
        --dims 32 100 128 300 --gensim
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _report import write_report

_CORPUS = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from item2vec import Sequences
from item2vec.datasets import planted_sessions

mean_length, n_tokens = float(sys.argv[2]), float(sys.argv[3])
modes, dim, n_jobs = json.loads(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
data = planted_sessions(n_sessions=int(n_tokens / mean_length), n_items=50_000,
                        n_clusters=500, mean_length=mean_length, random_state=0)
corpus = Sequences.from_iterable(data.sequences)
speeds = {}
"""
_CHILD = (
    _CORPUS
    + r"""
from item2vec import Item2Vec
for name, params in modes.items():
    model = Item2Vec(vector_size=dim, epochs=1, n_jobs=n_jobs, random_state=0, **params)
    started = time.perf_counter()
    model.fit(corpus)
    speeds[name] = corpus.n_tokens / (time.perf_counter() - started)
print(json.dumps(speeds))
"""
)
# item2vec's defaults of the settings gensim is given too (min_count 1: every item)
_GENSIM_CHILD = (
    _CORPUS
    + r"""
from gensim.models import Word2Vec
import itertools
words = [str(x) for x in corpus.vocabulary.items.tolist()]
codes = corpus.codes.tolist()
sentences = [[words[c] for c in codes[a:b]] for a, b in itertools.pairwise(corpus.offsets.tolist())]
for name, params in modes.items():
    model = Word2Vec(vector_size=dim, window=5, negative=5, sample=1e-3, sg=int(params["sg"]),
                     epochs=1, min_count=1, workers=n_jobs, seed=0, hs=0)
    model.build_vocab(sentences)
    started = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=1)
    speeds[name] = corpus.n_tokens / (time.perf_counter() - started)
print(json.dumps(speeds))
"""
)

MODES = {
    "sg": {"sg": True, "shared_negatives": False},
    "sg-shared": {"sg": True, "shared_negatives": True},
    "cbow": {"sg": False},
}
GENSIM_MODES = {"sg": {"sg": True}, "cbow": {"sg": False}}
LENGTHS = {"long": 20.0, "short": 5.0}


def _speeds(side: str, src: Path, args: argparse.Namespace, dim: int) -> dict[str, float]:
    """Tokens per second of each mode, trained in a fresh process."""
    script, modes = (_GENSIM_CHILD, GENSIM_MODES) if side == "gensim" else (_CHILD, MODES)
    out = subprocess.run(
        [sys.executable, "-c", script, str(src.resolve()), str(LENGTHS[args.corpus]),
         str(args.tokens), json.dumps(modes), str(dim), str(args.jobs)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="src folder of build A")
    parser.add_argument("after", type=Path, help="src folder of build B")
    parser.add_argument("--corpus", choices=LENGTHS, default="long")
    parser.add_argument("--tokens", type=float, default=2e6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dims", type=int, nargs="+", default=[100])
    parser.add_argument("--jobs", type=int, default=1, help="threads of every side")
    parser.add_argument("--gensim", action="store_true", help="time gensim in the same rounds")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/compare_builds.json"))
    args = parser.parse_args(argv)
    sides = ["before", "after"] + (["gensim"] if args.gensim else [])
    load_before = os.getloadavg()
    runs: dict[int, dict[str, list[dict[str, float]]]] = {
        d: {s: [] for s in sides} for d in args.dims
    }
    for round_ in range(args.repeats):
        for dim in args.dims:
            # a rotating order, so no side always runs first (or after the slowest)
            for side in sides[round_ % len(sides) :] + sides[: round_ % len(sides)]:
                src = args.after if side == "gensim" else getattr(args, side)
                runs[dim][side].append(_speeds(side, src, args, dim))
    medians = {
        dim: {
            side: {
                mode: statistics.median(run[mode] for run in runs[dim][side])
                for mode in runs[dim][side][0]
            }
            for side in sides
        }
        for dim in args.dims
    }
    load_after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"{args.jobs} thread(s), {args.tokens:.0f} tokens, medians of {args.repeats}"
    )
    for dim in args.dims:
        for mode in MODES:
            a, b = medians[dim]["before"][mode], medians[dim]["after"][mode]
            line = (
                f"dim {dim:3d} {mode:10s} before {a / 1e6:.3f}M tok/s  after {b / 1e6:.3f}M"
                f"  ratio {b / a:.3f}x"
            )
            if args.gensim:
                g = medians[dim]["gensim"]["cbow" if mode == "cbow" else "sg"]
                line += f"  gensim {g / 1e6:.3f}M: before {a / g:.2f}x, after {b / g:.2f}x"
            print(line)
    report = {
        "corpus": args.corpus, "tokens": args.tokens, "jobs": args.jobs, "dims": args.dims,
        "load_average": {"before": load_before, "after": load_after},
        "medians": medians, "runs": runs,
    }  # fmt: skip
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

"""A random sample of mutmut's mutants, checked fast, and its score.

A full mutmut run over ``src/item2vec/*.py`` (about 11,000 mutants) takes many
hours on two cores; a uniform random sample estimates the same score with a
stated interval. It needs ``mutants/`` from a run of ``scripts/mutation.sh``
(the mutated copy, its ``*.py.meta`` result files and ``mutmut-stats.json``,
which lists the tests covering each function and their durations).

    python scripts/mutation_sample.py draw 400 --seed 20261130 > sample.txt
    python scripts/mutation_sample.py run sample.txt results.json --workers 2
    python scripts/mutation_sample.py score sample.txt results.json

``run`` checks each named mutant that has no verdict in ``results.json`` yet:
its covering tests, fastest first, with ``pytest -x`` and ``MUTANT_UNDER_TEST``
set, in ``mutants/`` - mutmut's own check, only sooner to a first failure,
and with a wall-clock limit (mutmut's CPU-time limit counts every thread, so
multi-threaded tests such as faiss's or Spark's can trip it). ``score`` takes
a mutant's verdict from ``results.json`` when there is one, else from mutmut's
result files, and prints killed / (killed + survived), timeouts counted as
killed, with a 95 % interval and the survivors.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MUTANTS = Path(__file__).resolve().parent.parent / "mutants"
# mutmut 3's exit codes (mutmut/stats.py) for the verdicts counted here
MUTMUT_VERDICT = {1: "killed", 3: "killed", 0: "survived", 36: "timeout", 24: "timeout",
                  -24: "timeout", 152: "timeout", 255: "timeout", -11: "killed", -9: "killed",
                  37: "killed"}  # fmt: skip


def mutmut_results() -> dict[str, int | None]:
    results: dict[str, int | None] = {}
    for meta in sorted((MUTANTS / "src" / "item2vec").glob("*.py.meta")):
        results.update(json.loads(meta.read_text())["exit_code_by_key"])
    return results


def check(name: str, stats: dict) -> dict:
    """Run one mutant's covering tests, fastest first, until the first failure."""
    durations = stats["duration_by_test"]
    covering = stats["tests_by_mangled_function_name"].get(re.sub(r"__mutmut_\d+$", "", name), [])
    tests = sorted(covering, key=lambda t: durations.get(t, 0.0))
    if not tests:
        return {"verdict": "no tests", "seconds": 0.0, "first": ""}
    limit = max(60.0, 10 * sum(durations.get(t, 0.0) for t in tests) + 30)
    env = dict(os.environ, MUTANT_UNDER_TEST=name, PYTHONPATH=str(MUTANTS / "src"))
    started = time.perf_counter()
    verdict, first = "timeout", ""
    try:
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                cwd=MUTANTS, env=env, capture_output=True, text=True, timeout=limit,
            )  # fmt: skip
            output = done.stdout + done.stderr
            # an id pytest cannot parse back (some parameter ids) is reported by its
            # function's name: run all of that function's cases instead
            missing = set(re.findall(r"ERROR: not found: \S*?/mutants/(tests/.+?)\s*$", output,
                                     re.M))  # fmt: skip
            if done.returncode != 4 or not missing:
                break
            tests = [t for t in tests if t.split("[")[0] not in missing] + sorted(missing)
        first = next((line for line in done.stdout.splitlines()
                      if line.startswith(("FAILED", "ERROR"))), "")  # fmt: skip
        verdict = {0: "survived", 1: "killed"}.get(done.returncode, f"exit {done.returncode}")
        if done.returncode in (2, 4) and re.search(r"^ERROR tests/\S+\.py - ", done.stdout, re.M):
            verdict = "killed"  # a test module that cannot even be imported under the mutant
    except subprocess.TimeoutExpired:
        pass
    return {"verdict": verdict, "seconds": round(time.perf_counter() - started, 1),
            "first": first[:200]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    draw = commands.add_parser("draw", help="print a uniform random sample of mutant names")
    draw.add_argument("size", type=int)
    draw.add_argument("--seed", type=int, required=True)
    run = commands.add_parser("run", help="check the sample's mutants that have no verdict yet")
    run.add_argument("sample", type=Path)
    run.add_argument("results", type=Path)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--recheck-timeouts", action="store_true",
                     help="also check mutants mutmut timed out")  # fmt: skip
    score = commands.add_parser("score", help="the sample's score and survivors")
    score.add_argument("sample", type=Path)
    score.add_argument("results", type=Path)
    args = parser.parse_args()

    if args.command == "draw":
        names = sorted(mutmut_results())
        print("\n".join(random.Random(args.seed).sample(names, args.size)))
        return
    sample = args.sample.read_text().split()
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    mutmut = mutmut_results()
    if args.command == "run":
        stats = json.loads((MUTANTS / "mutmut-stats.json").read_text())
        todo = [
            n
            for n in sample
            if n not in results
            and (
                mutmut.get(n) is None
                or (args.recheck_timeouts and MUTMUT_VERDICT.get(mutmut[n]) == "timeout")
            )
        ]
        with ThreadPoolExecutor(args.workers) as pool:
            for name, result in zip(todo, pool.map(lambda n: check(n, stats), todo), strict=True):
                results[name] = result
                args.results.write_text(json.dumps(results, indent=1))
                print(f"{result['verdict']:9s} {result['seconds']:6.1f}s {name} "
                      f"{result['first'][:90]}", flush=True)  # fmt: skip
        return
    verdicts = {n: results[n]["verdict"] if n in results
                else MUTMUT_VERDICT.get(mutmut.get(n), "unchecked") for n in sample}  # fmt: skip
    caught = sum(v in ("killed", "timeout") for v in verdicts.values())
    survivors = sorted(n for n, v in verdicts.items() if v == "survived")
    total = caught + len(survivors)
    unchecked = len(sample) - total
    if total:
        p = caught / total
        half = 1.96 * math.sqrt(p * (1 - p) / total)
        print(f"score {caught}/{total} = {100 * p:.1f}% (95% interval {100 * (p - half):.1f}-"
              f"{100 * min(1.0, p + half):.1f}%); {unchecked} not checked")  # fmt: skip
    print("\n".join(f"survived: {n}" for n in survivors))


if __name__ == "__main__":
    main()

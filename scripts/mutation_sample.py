"""A random sample of mutmut's mutants, checked fast, and its score.

A full mutmut run over ``src/item2vec/*.py`` (about 11,000 mutants) takes many
hours on two cores; a uniform random sample estimates the same score with a
stated interval. It needs ``mutants/`` from a run of ``scripts/mutation.sh``
(the mutated copy, its ``*.py.meta`` result files and ``mutmut-stats.json``,
which lists the tests covering each function and their durations).

    python scripts/mutation_sample.py draw 400 --seed 20261130 > sample.txt
    python scripts/mutation_sample.py run sample.txt results.json --workers 2
    python scripts/mutation_sample.py score sample.txt results.json

Per change: the mutants of the lines a change touched, so a change can report
the score of its own code.

    python scripts/mutation_sample.py generate          # mutmut's generation step only
    python scripts/mutation_sample.py since HEAD~1 [--size 40 --seed 1] > sample.txt
    python scripts/mutation_sample.py run sample.txt results.json --tests tests/test_cli.py
    python scripts/mutation_sample.py score sample.txt results.json

``since REV`` reads the lines of ``src/item2vec/*.py`` changed since REV
(``git diff -U0 REV``: committed and uncommitted changes) and keeps each
mutant whose mutated line is one of them: mutmut writes every mutant as a
copy of its function (``x_f__mutmut_N`` beside ``x_f__mutmut_orig``), so
the lines where a copy differs from the original, offset from the
function's ``def`` in the source, are the lines it mutates. ``generate``
writes ``mutants/`` as ``mutmut run`` would before it tests anything (no
coverage run: minutes instead of hours); ``run --tests`` then checks each
mutant with the named tests where mutmut's coverage list has none (or
there is no ``mutmut-stats.json``).

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
import ast
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


def generate() -> None:
    """Write ``mutants/`` (mutated copies, result files) as mutmut does before testing."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    os.chdir(MUTANTS.parent)  # mutmut reads pyproject.toml and writes mutants/ from here
    set_mutant_under_test("mutant_generation")
    MUTANTS.mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    stats = create_mutants(os.cpu_count() or 2)
    print(f"{stats.mutated} files mutated, {stats.unmodified} unchanged; "
          f"{len(mutmut_results())} mutants", file=sys.stderr)  # fmt: skip


def changed_lines(rev: str, files: list[str] | None = None) -> dict[str, set[int]]:
    """Lines of each ``src/item2vec/*.py`` file (or of ``files``) changed since ``rev``,
    numbered as they are now."""
    diff = subprocess.run(
        ["git", "diff", "-U0", "--no-color", rev, "--", *(files or ["src/item2vec/*.py"])],
        cwd=MUTANTS.parent, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines: dict[str, set[int]] = {}
    path = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = None if line == "+++ /dev/null" else line[len("+++ b/") :]
        elif line.startswith("@@") and path is not None:
            start, _, count = re.match(r"@@ -\S+ \+(\d+)(,(\d+))? @@", line).groups()
            first, n = int(start), 1 if count is None else int(count)
            # a deletion (n == 0) touches the line it follows
            lines.setdefault(path, set()).update(range(first, first + n) if n else [first])
    return lines


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions and methods by mutmut's mangled name (``x_f``, ``xǁCǁm``)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[f"x_{node.name}"] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"x\u01c1{node.name}\u01c1{item.name}"] = item
    return found


def _generated(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions of a mutated file by their own names (methods' copies stay in their class)."""
    found = {}
    for node in tree.body:
        for item in node.body if isinstance(node, ast.ClassDef) else [node]:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                found[item.name] = item
    return found


def _body(lines: list[str], node: ast.AST) -> list[str]:
    """A function's lines from its ``def`` on (decorators left out)."""
    return lines[node.lineno - 1 : node.end_lineno]


def mutants_on_lines(path: str, wanted: set[int]) -> list[str]:
    """The mutants of ``path`` (``src/item2vec/x.py``) that mutate one of the ``wanted`` lines."""
    module = "item2vec." + Path(path).stem
    source = (MUTANTS.parent / path).read_text().splitlines()
    mutated = (MUTANTS / path).read_text().splitlines()
    originals = _functions(ast.parse("\n".join(source)))
    generated = _generated(ast.parse("\n".join(mutated)))
    names = []
    for mangled, node in originals.items():
        if not any(node.lineno <= n <= node.end_lineno for n in wanted):
            continue
        orig = generated.get(f"{mangled}__mutmut_orig")
        if orig is None:
            continue  # mutmut left it alone (no mutation applies, or a pragma)
        base = _body(mutated, orig)
        # the copy keeps the source's lines but the name; by function if they ever differ
        same_lines = len(base) == len(_body(source, node))
        for name, copy in generated.items():
            if not re.fullmatch(re.escape(mangled) + r"__mutmut_\d+", name):
                continue
            if same_lines:
                body = _body(mutated, copy)
                touched = {
                    node.lineno + i
                    for i, (a, b) in enumerate(zip(base[1:], body[1:], strict=False), start=1)
                    if a != b
                } or {node.lineno}  # the def line itself (a default value, say)
                if len(body) != len(base):
                    touched |= set(range(node.lineno, node.end_lineno + 1))
                if not touched & wanted:
                    continue
            names.append(f"{module}.{name}")
    return names


def mutmut_results() -> dict[str, int | None]:
    results: dict[str, int | None] = {}
    for meta in sorted((MUTANTS / "src" / "item2vec").glob("*.py.meta")):
        results.update(json.loads(meta.read_text())["exit_code_by_key"])
    return results


def check(
    name: str, stats: dict, fallback: list[str] | None = None, fallback_limit: float = 900.0
) -> dict:
    """Run one mutant's covering tests, fastest first, until the first failure.

    ``fallback``: the tests to run when mutmut's stats list none for its function,
    with a wall-clock limit of ``fallback_limit`` seconds (no durations are known:
    a limit too short would count a survivor as a timeout, that is as killed).
    """
    durations = stats.get("duration_by_test", {})
    by_function = stats.get("tests_by_mangled_function_name", {})
    covering = by_function.get(re.sub(r"__mutmut_\d+$", "", name), [])
    tests = sorted(covering, key=lambda t: durations.get(t, 0.0))
    limit = max(60.0, 10 * sum(durations.get(t, 0.0) for t in tests) + 30)
    if not tests:
        tests, limit = list(fallback or []), fallback_limit
    if not tests:
        return {"verdict": "no tests", "seconds": 0.0, "first": ""}
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
    run.add_argument(
        "--tests",
        nargs="+",
        metavar="TEST",
        help="tests (files or ids) for mutants mutmut's stats give none",
    )
    run.add_argument("--limit", type=float, default=900.0,
                     help="wall-clock seconds for the --tests of one mutant")  # fmt: skip
    commands.add_parser("generate", help="write mutants/ as mutmut does, without any test run")
    since = commands.add_parser(
        "since", help="print the mutants of the lines of src/item2vec/*.py changed since REV"
    )
    since.add_argument("rev", help="a git revision, e.g. HEAD~1 or main")
    since.add_argument("--size", type=int, help="a random sample of this many (default: all)")
    since.add_argument("--seed", type=int, default=0, help="seed of the sample")
    since.add_argument("--files", nargs="+", metavar="PATH",
                       help="only these source files, e.g. src/item2vec/cli.py")  # fmt: skip
    score = commands.add_parser("score", help="the sample's score and survivors")
    score.add_argument("sample", type=Path)
    score.add_argument("results", type=Path)
    args = parser.parse_args()

    if args.command == "draw":
        names = sorted(mutmut_results())
        print("\n".join(random.Random(args.seed).sample(names, args.size)))
        return
    if args.command == "generate":
        generate()
        return
    if args.command == "since":
        known = mutmut_results()
        names = []
        for path, lines in sorted(changed_lines(args.rev, args.files).items()):
            if not (MUTANTS / path).exists():
                sys.exit(f"{MUTANTS / path} is missing: run `{sys.argv[0]} generate` first")
            found = mutants_on_lines(path, lines)
            stale = [n for n in found if n not in known]
            if stale:
                sys.exit(f"mutants/ is older than {path}: run `{sys.argv[0]} generate` again")
            print(f"{path}: {len(lines)} changed lines, {len(found)} mutants", file=sys.stderr)
            names += found
        if args.size is not None and args.size < len(names):
            names = random.Random(args.seed).sample(sorted(names), args.size)
        print("\n".join(sorted(names)))
        return
    sample = args.sample.read_text().split()
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    mutmut = mutmut_results()
    if args.command == "run":
        stats_file = MUTANTS / "mutmut-stats.json"
        if not stats_file.exists() and not args.tests:
            sys.exit(f"no {stats_file} (a mutmut run's coverage): name the tests with --tests")
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
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
            checked = pool.map(lambda n: check(n, stats, args.tests, args.limit), todo)
            for name, result in zip(todo, checked, strict=True):
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

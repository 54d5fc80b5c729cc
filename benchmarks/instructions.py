"""Instructions per trained token of each kernel build and mode (callgrind, or perf).

Timings on a shared 2-core machine are noisy; instruction counts are not. Each
measurement trains one epoch, one thread, on a small planted-cluster corpus in a
fresh subprocess with ``ITEM2VEC_KERNEL`` set, and counts the instructions
executed inside the kernel calls (``train_chunk`` and everything it calls, BLAS
included): with ``perf stat -e instructions`` when the CPU's counters are
available (then the whole process is counted), else with valgrind's callgrind,
collecting only inside ``train_chunk``. The count of the same run on a corpus
of one two-item sequence (everything but the training: the call itself, its
buffers, the first noise draws; with perf also the imports and the fit's
set-up; a fit refuses a corpus with nothing to train) is subtracted, and the
rest divided by the difference in tokens.

Instruction counts are not time (wide vector instructions do more per
instruction, cache misses cost no instructions), and the BLAS build's count is
that of the OpenBLAS kernels picked for the CPU the run sees: valgrind runs no
AVX-512 code, so a native run may execute other ones.

A build is ``NAME`` (a build of the installed package) or ``NAME@SRC``: build
NAME of the package in the folder SRC (for example another built tree's ``src``).

Example::

    python benchmarks/instructions.py --dims 100
    python benchmarks/instructions.py --builds avx2 avx2@/tmp/before/src --modes sg
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import write_report

_CHILD = r"""
import json, sys
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
from item2vec import Item2Vec, Sequences, _kernels

corpus = Sequences.open(sys.argv[2])
model = Item2Vec(epochs=1, n_jobs=1, random_state=0, **json.loads(sys.argv[3]))
model.fit(corpus)
print(json.dumps({"kernel": _kernels.core.__name__, "file": _kernels.core.__file__,
                  "tokens": int(corpus.n_tokens)}))
"""

MODES = {
    "sg": {"sg": True, "shared_negatives": False},
    "sg-shared": {"sg": True, "shared_negatives": True},
    "cbow": {"sg": False},
}
# train_chunk's Python wrapper in every build (item2vec._core, _core_avx2, _core_blas)
KERNEL_CALL = "__pyx_pw_8item2vec_*train_chunk"


def perf_works() -> bool:
    if shutil.which("perf") is None:
        return False
    done = subprocess.run(
        ["perf", "stat", "-x,", "-e", "instructions", "true"], capture_output=True, text=True
    )
    lines = done.stderr.strip().splitlines()
    return done.returncode == 0 and bool(lines) and re.match(r"^\d+,", lines[-1]) is not None


def make_corpora(folder: Path, n_tokens: int) -> dict[str, Path]:
    """The corpus (planted clusters, sessions of 20 on average) and a two-token one."""
    from item2vec import Sequences
    from item2vec.datasets import planted_sessions

    data = planted_sessions(
        n_sessions=n_tokens // 20, n_items=5_000, n_clusters=100, mean_length=20, random_state=0
    )
    paths = {"full": folder / "full", "one": folder / "one"}
    Sequences.from_iterable(data.sequences).save(paths["full"])
    Sequences.from_iterable([[0, 1]]).save(paths["one"])
    return paths


def count(tool: str, build: str, corpus: Path, params: dict, tmp: Path) -> tuple[int, dict]:
    """Instructions of one child run, and what the child printed."""
    name, _, src = build.partition("@")
    src_path = str(Path(src).resolve()) if src else ""
    env = dict(os.environ, ITEM2VEC_KERNEL=name, OPENBLAS_NUM_THREADS="1")
    child = [sys.executable, "-c", _CHILD, src_path, str(corpus), json.dumps(params)]
    if tool == "perf":
        cmd = ["perf", "stat", "-x,", "-e", "instructions:u", *child]
    else:
        out_file = tmp / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
               "--collect-atstart=no", f"--toggle-collect={KERNEL_CALL}", *child]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{build} {params}: failed\n{done.stderr[-3000:]}")
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    if src_path and not printed["file"].startswith(src_path):
        raise SystemExit(f"{build}: imported {printed['file']}, not a module of {src}")
    if tool == "perf":
        line = [x for x in done.stderr.splitlines() if ",instructions" in x][-1]
        return int(line.split(",")[0]), printed
    text = out_file.read_text()
    found = re.search(r"^(?:summary|totals): (\d+)", text, flags=re.MULTILINE)
    if found is None or int(found.group(1)) == 0:
        raise SystemExit(f"{build}: callgrind collected nothing inside {KERNEL_CALL}")
    return int(found.group(1)), printed


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--builds", nargs="+", default=["baseline", "avx2", "blas"])
    parser.add_argument("--dims", nargs="+", type=int, default=[100])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens of the corpus")
    parser.add_argument("--tool", choices=["auto", "perf", "callgrind"], default="auto")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/instructions.json"))
    args = parser.parse_args(argv)
    tool = args.tool
    if tool == "auto":
        tool = "perf" if perf_works() else "callgrind"
    if tool == "callgrind" and shutil.which("valgrind") is None:
        raise SystemExit("neither perf's instruction counter nor valgrind is available")
    print(f"counting with {tool}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpora = make_corpora(Path(tmp), args.tokens)
        for dim in args.dims:
            for mode in args.modes:
                params = {"vector_size": dim, **MODES[mode]}
                for build in args.builds:
                    full, printed = count(tool, build, corpora["full"], params, Path(tmp))
                    empty, tiny = count(tool, build, corpora["one"], params, Path(tmp))
                    per_token = (full - empty) / (printed["tokens"] - tiny["tokens"])
                    results[f"{build}|{dim}|{mode}"] = {
                        "build": build, "module": printed["kernel"], "dim": dim, "mode": mode,
                        "tokens": printed["tokens"], "instructions": full,
                        "instructions_two_tokens": empty, "per_token": per_token,
                    }  # fmt: skip
                    print(f"{build:12s} dim {dim:4d} {mode:10s} {per_token:10.0f} per token")
    print(f"\ninstructions per trained token ({tool}; ratio to the first build)\n")
    print("| dim | mode | " + " | ".join(args.builds) + " |")
    print("| --- | --- |" + " --- |" * len(args.builds))
    for dim in args.dims:
        for mode in args.modes:
            first = results[f"{args.builds[0]}|{dim}|{mode}"]["per_token"]
            cells = []
            for build in args.builds:
                value = results[f"{build}|{dim}|{mode}"]["per_token"]
                cells.append(f"{value:,.0f}" + ("" if build == args.builds[0]
                                               else f" ({value / first:.2f}x)"))  # fmt: skip
            print(f"| {dim} | {mode} | " + " | ".join(cells) + " |")
    report = {"tool": tool, "tokens": args.tokens, "results": results}
    write_report(args.json, report)
    return report


if __name__ == "__main__":
    main()

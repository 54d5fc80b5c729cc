#!/usr/bin/env bash
# Mutation testing of src/item2vec/*.py with mutmut 3 (configured in [tool.mutmut] of
# pyproject.toml), then the score: killed / (killed + survived), timeouts counted as killed.
#
#   scripts/mutation.sh                 run (or resume) and print the score
#   scripts/mutation.sh --score         only print the score of the results so far
#   scripts/mutation.sh NAME...         (re)run only the named mutants (globs allowed)
#   MUTMUT_CHILDREN=1 scripts/mutation.sh   fewer parallel workers (default 2)
#
# mutmut works in mutants/ (git-ignored) and keeps its results there: a second run only
# tests the mutants of functions that changed. Start afresh with `rm -rf mutants`.
# Inspect with `mutmut results` (survivors), `mutmut show NAME`, `mutmut run NAME`.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
if ! python -c "import mutmut" 2>/dev/null; then
    python -m pip install --quiet "mutmut>=3.8,<4"
fi

if [[ "${1:-}" != "--score" ]]; then
    shopt -s nullglob
    built=(src/item2vec/_core*.so src/item2vec/_core*.pyd)
    if ((${#built[@]} == 0)); then
        echo "no compiled kernels in src/item2vec: build them first (pip install -e .)" >&2
        exit 1
    fi
    # also_copy names the CPython 3.11 builds; copy whatever build this Python made too
    mkdir -p mutants/src/item2vec
    cp -p "${built[@]}" mutants/src/item2vec/
    # tests that start a Python subprocess (the CLI as a module, a save killed mid-write)
    # must import the mutated copy too, not the editable install of src/
    export PYTHONPATH="$PWD/mutants/src${PYTHONPATH:+:$PYTHONPATH}"
    start=$(date +%s)
    nice -n 19 python -m mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "$@"
    echo "mutmut run took $(($(date +%s) - start)) s"
fi

python - <<'EOF'
import collections
import json
import pathlib

# exit codes as mutmut 3 records them (mutmut/stats.py)
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          35: "suspicious", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
          255: "timeout", 37: "caught by type check", -11: "segfault", -9: "segfault",
          2: "interrupted", None: "not checked"}
by_module = collections.defaultdict(collections.Counter)
for meta in sorted(pathlib.Path("mutants/src/item2vec").glob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    for code in codes.values():
        by_module[meta.name.removesuffix(".py.meta")][STATUS.get(code, "suspicious")] += 1


def score(c):
    caught = c["killed"] + c["timeout"] + c["segfault"] + c["caught by type check"]
    total = caught + c["survived"]
    return f"{caught}/{total} = {100 * caught / total:.1f}%" if total else "-"


total = sum(by_module.values(), collections.Counter())
print(f"{'module':<14} {'score (timeouts count as killed)':<32} counts")
for name, c in sorted(by_module.items()):
    if c:
        print(f"{name:<14} {score(c):<32} {dict(sorted(c.items()))}")
print(f"{'all':<14} {score(total):<32} {dict(sorted(total.items()))}")
EOF

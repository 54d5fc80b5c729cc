#!/usr/bin/env bash
# Coverage-guided fuzzing of item2vec's file loaders with atheris (libFuzzer for Python).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (default: all of load load_meta word2vec events events_stdlib; see
# scripts/fuzz_targets.py) for SECONDS (default 600), one after the other, starting
# from small valid files generated here (saved models, word2vec text and binary files,
# CSV/TSV/gzip/UTF-16 and Parquet event tables). Exits non-zero if any target hits a
# crash, a hang, runaway memory or an exception type the loaders do not document, and
# prints the input (a path and base64) with the command that replays it.
#
# FUZZ_DIR=folder keeps the corpora, logs and findings there (and grows the corpora
# across runs); otherwise a temporary folder is used, removed after a clean run.
# Extra libFuzzer options go in FUZZ_OPTIONS (e.g. FUZZ_OPTIONS="-seed=1 -timeout=30").
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
shift $(($# > 0 ? 1 : 0))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(load load_meta word2vec events events_stdlib)
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# fuzz this tree's item2vec, not another installed copy: src/ goes first on the path, and
# an editable install builds the compiled core there if it is missing
here=$(pwd -P)
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
this_tree="import item2vec, sys; sys.exit(not item2vec.__file__.startswith('$here/src/'))"
if ! python -c "$this_tree" 2>/dev/null; then
    echo "== installing item2vec from $here (editable)"
    python -m pip install --quiet --editable .
    if ! python -c "$this_tree"; then
        echo "error: item2vec from $here/src cannot be imported" >&2
        exit 1
    fi
fi
if ! python -c "import atheris" 2>/dev/null; then
    echo "== installing atheris"
    # wheels only: building atheris from source needs a clang with libFuzzer
    python -m pip install --quiet --only-binary=:all: atheris || {
        echo "error: atheris has no wheel for $(python -V) on this platform" >&2
        exit 1
    }
fi

keep=${FUZZ_DIR:-}
work=${FUZZ_DIR:-$(mktemp -d -t item2vec-fuzz.XXXXXX)}
mkdir -p "$work/seeds" "$work/findings" "$work/tmp"
work=$(cd "$work" && pwd -P)
# each input becomes a file in a folder under here; it is emptied as the run goes
export TMPDIR="$work/tmp"
python scripts/fuzz_targets.py seeds "$work/seeds"

failed=()
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus/$target"
    log="$work/$target.log"
    echo "== $target: fuzzing for $seconds s (log: $log)"
    status=0
    # shellcheck disable=SC2086  # FUZZ_OPTIONS is a list of options
    python scripts/fuzz_targets.py fuzz "$target" -max_total_time="$seconds" \
        -print_final_stats=1 -artifact_prefix="$work/findings/$target-" \
        -dict="$work/seeds/$target.dict" ${FUZZ_OPTIONS:-} \
        "$work/corpus/$target" "$work/seeds/$target" > "$log" 2>&1 || status=$?
    # the last coverage line: executions, coverage (cov) and features (ft)
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
    findings=("$work/findings/$target-"*)
    if [ "$status" -ne 0 ] || [ -e "${findings[0]}" ]; then
        failed+=("$target")
        echo "!! $target: finding (exit status $status); the end of its log:"
        tail -n 60 "$log" | grep -v '^#[0-9]' || true
        for input in "${findings[@]}"; do
            [ -e "$input" ] || continue
            echo "-- input: $input ($(wc -c < "$input") bytes)"
            if [ "$(wc -c < "$input")" -le 3000 ]; then
                echo "   base64: $(base64 -w 0 "$input")"
            fi
            echo "   replay: PYTHONPATH=src python scripts/fuzz_targets.py run $target $input"
        done
    fi
done

rm -rf "$work/tmp"
if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED: findings in ${failed[*]}; corpora, logs and inputs kept in $work"
    exit 1
fi
echo "OK: no findings in ${targets[*]} ($seconds s each)"
if [ -z "$keep" ]; then
    rm -rf "$work"
fi

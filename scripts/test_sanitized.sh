#!/usr/bin/env bash
# Build the extension with -O0 -g and AddressSanitizer + UndefinedBehaviorSanitizer
# (ITEM2VEC_DEBUG=1) in a copy of the tree and its own virtual environment, then run
# the tests that reach the compiled code under the sanitizers.
#
# The selection (SANITIZED below) is every test file whose tests call into the
# extension: the kernel itself and its builds, training in all its modes and
# schedules, threads and stopping, the queries (top-k, similar items, recommend,
# the index), models saved and loaded, updates, and corpora on disk trained from
# their memory-mapped shards. Left out: the readers of event files and the CLI
# (pure Python over the same calls), Spark, DuckDB, Optuna, the plots, the metrics,
# gensim, and the documentation checks (tests/README.md has the timings).
#
#   bash scripts/test_sanitized.sh              the selection
#   bash scripts/test_sanitized.sh --all        the whole suite
#   bash scripts/test_sanitized.sh ARGS...      the selection, ARGS passed to pytest
#   bash scripts/test_sanitized.sh --all ARGS   the whole suite, ARGS passed to pytest
#   bash scripts/test_sanitized.sh tests/test_concurrency.py   only the tests named
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZED=(
    tests/test_core.py tests/test_kernel_details.py tests/test_kernel_builds.py
    tests/test_kernel_choice.py tests/test_training.py tests/test_options.py
    tests/test_schedule.py tests/test_threads.py
    tests/test_boundaries.py tests/test_edge_cases.py tests/test_bad_input.py
    tests/test_model.py tests/test_ranking.py tests/test_index.py tests/test_update.py
    tests/test_io.py tests/test_corpus.py tests/test_corpus_files.py
    tests/test_properties.py tests/test_defaults.py tests/test_estimator.py
    tests/test_padded_rows.py
)
# Left out of the selection: test_concurrency.py, whose readers query in a loop until
# the writer's updates end (under ASan at -O0 on two busy cores one such test ran for
# over ten minutes: run it alone, as above), and the one test that trains in fresh
# interpreters under a 120 s limit (the in-process tests of its file cover the BLAS
# kernel).
DESELECTED=(
    --deselect
    tests/test_kernel_builds.py::test_item2vec_kernel_blas_trains_the_estimator_as_baseline_does
)
if [[ "${1:-}" == "--all" ]]; then
    shift
    selection=(tests)
elif [[ "${1:-}" == tests/* ]]; then
    selection=()  # test files or ids given: they replace the selection
else
    selection=("${SANITIZED[@]}" "${DESELECTED[@]}")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$work"
python -m venv "$work/venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1
(cd "$work" && ITEM2VEC_DEBUG=1 "$work/venv/bin/pip" install --quiet -e ".[test]")

# make sure the sanitizers really are compiled in
for so in "$work"/src/item2vec/_core*.so; do
    if ! nm -D "$so" | grep __asan_report > /dev/null; then  # not -q: SIGPIPE under pipefail
        echo "error: $so was not built with AddressSanitizer" >&2
        exit 1
    fi
done

asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
# Memory errors and undefined behaviour abort the run. CPython keeps many of its own
# allocations alive until exit, which LeakSanitizer reports by the thousand, so leak
# reports are written to files and only those with a frame in the extension count.
mkdir "$work/reports"
# allocator_may_return_null: a huge request fails as it does without ASan (NumPy raises
# MemoryError, which the tests check) instead of aborting the run
# symbolize=0: stacks are written as module+offset. Symbolizing the thousands of leak
# stacks CPython leaves at exit took longer than the tests themselves (over 5 minutes
# for one process, unfinished); the module path is enough to find the extension's
# frames, and an error report is symbolized below, frame by frame, with addr2line.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1:symbolize=0:log_path=$work/reports/asan"
export LSAN_OPTIONS="exitcode=0"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd "$work"
status=0
started=$SECONDS
LD_PRELOAD="$asan:$ubsan" "$work/venv/bin/python" -m pytest "${selection[@]}" -q -p no:cacheprovider "$@" \
    || status=$?
echo "sanitized tests: $((SECONDS - started)) s"
symbolized() {  # a report with each "(module+0xoffset)" frame followed by its source line
    while IFS= read -r line; do
        echo "$line"
        if [[ "$line" =~ \((/[^+\)]+)\+(0x[0-9a-f]+)\) ]]; then
            addr2line -f -C -i -e "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" 2>/dev/null \
                | paste -sd ' ' | sed 's/^/        /'
        fi
    done < "$1"
}
errors=$(grep -l "ERROR: AddressSanitizer\|runtime error:" "$work"/reports/* 2>/dev/null || true)
if [[ -n "$errors" ]]; then
    for report in $errors; do
        symbolized "$report"
    done
    exit 1
fi
# the extension's own files (item2vec/_core*.so, item2vec/_core*.c): other packages have
# modules named _core too (SciPy's _highspy/_core leaks at exit), which do not count
ours="item2vec/_core"
if grep -h "$ours" "$work"/reports/* 2>/dev/null | grep -q "#"; then
    echo "LeakSanitizer: leaks with a frame in item2vec._core:" >&2
    grep -h -B2 -A12 "$ours" "$work"/reports/* >&2
    exit 1
fi
echo "sanitizers: no memory error, no undefined behaviour, no leak from item2vec._core" \
    "($(ls "$work"/reports | wc -l) report files from CPython and its libraries)"
exit "$status"

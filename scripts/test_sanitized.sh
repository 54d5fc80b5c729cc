#!/usr/bin/env bash
# Build the extension with -O0 -g and AddressSanitizer + UndefinedBehaviorSanitizer
# (ITEM2VEC_DEBUG=1) in a copy of the tree and its own virtual environment, then run
# the test suite under the sanitizers. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

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
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1:log_path=$work/reports/asan"
export LSAN_OPTIONS="exitcode=0"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd "$work"
status=0
LD_PRELOAD="$asan:$ubsan" "$work/venv/bin/python" -m pytest tests -q -p no:cacheprovider "$@" \
    || status=$?
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$work"/reports/* 2>/dev/null; then
    cat "$work"/reports/*
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

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
    if ! nm -D "$so" | grep -q __asan_report; then
        echo "error: $so was not built with AddressSanitizer" >&2
        exit 1
    fi
done

asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
# Leak checking is off: CPython keeps its own allocations alive until exit, which
# LeakSanitizer reports by the thousand; memory errors and undefined behaviour abort.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd "$work"
LD_PRELOAD="$asan:$ubsan" "$work/venv/bin/python" -m pytest tests -q -p no:cacheprovider "$@"

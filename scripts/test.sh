#!/usr/bin/env bash
# Install item2vec with its test extra, lint, run the test suite (with the doctests
# and the README's Python examples), and build the documentation.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
python -m pip install --quiet --editable ".[test]"
# the headless browser of the explorer-page test (Debian's chromium; skipped where it
# cannot be installed, and that test then skips with its reason)
bash scripts/install_browser.sh

echo "== lint"
python -m ruff check .
python -m ruff format --check .
cython-lint src/item2vec/*.pyx src/item2vec/_*.pxi
python -m mypy

echo "== tests"
python -m pytest tests README.md --doctest-modules src -q "$@"

echo "== documentation"
bash scripts/build_docs.sh

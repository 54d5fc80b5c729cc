#!/usr/bin/env bash
# Build the documentation site into docs/_build/html (git-ignored), offline, with
# every warning an error (-W), nitpicky references (-n) and a fresh environment, so
# the examples run again and every README section the guide includes is checked.
# Needs item2vec installed with its docs tools: pip install -e ".[docs]" (or ".[test]").
# Extra arguments go to sphinx-build (e.g. -j 2).
set -euo pipefail
cd "$(dirname "$0")/.."

python - <<'PY'
import importlib.util
import sys

missing = [m for m in ("item2vec", "sphinx", "myst_parser", "numpydoc", "furo")
           if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"build_docs.sh: {', '.join(missing)} not importable; "
             "run: python -m pip install -e '.[docs]'")
PY

rm -rf docs/_build/html docs/_build/doctrees docs/_build/example-runs
started=$SECONDS
python -m sphinx -b html -W --keep-going -n -E -q \
    -d docs/_build/doctrees docs docs/_build/html "$@"
echo "documentation built in $((SECONDS - started)) s: docs/_build/html/index.html"

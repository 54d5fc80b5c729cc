#!/usr/bin/env bash
# The long run of the differential test of the corpus builders (tests/test_differential_ingest.py):
# N generated event logs (default 500) through every path, Spark included. Failing examples
# are printed by hypothesis; make each a named regression test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export ITEM2VEC_DIFFERENTIAL_EXAMPLES="${N:-500}"
python -m pytest tests/test_differential_ingest.py -q -p no:cacheprovider \
    --hypothesis-show-statistics "$@"

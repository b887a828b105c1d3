#!/usr/bin/env bash
# The README's test command: install into .venv, then lint, type-check and run the tests.
# No service is needed yet: the scanner tests use only files they generate and ../shared/peer-corpora.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest -q -p no:cacheprovider "$@"

#!/usr/bin/env bash
# The README's test command: install into .venv, then lint, type-check and run the tests.
# The registry tests need PostgreSQL besides SQLite: scripts/postgres.sh finds or starts a server and
# prints its URL, which the tests read from STEWARD_TEST_POSTGRES.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
STEWARD_TEST_POSTGRES="$(bash scripts/postgres.sh)"
export STEWARD_TEST_POSTGRES
.venv/bin/pytest -q -p no:cacheprovider "$@"

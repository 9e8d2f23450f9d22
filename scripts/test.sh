#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh machine, then runs every
# suite. Prints a timing line per stage. Usage: bash scripts/test.sh [--no-molecule]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
run_molecule=1
[ "${1:-}" = "--no-molecule" ] && run_molecule=0

total_start=$(date +%s)
stage() { printf '\n==> %s\n' "$1"; stage_start=$(date +%s); }
stage_done() { printf 'timing: %-28s %4ss\n' "$1" "$(($(date +%s) - stage_start))"; }

stage "setup"
bash scripts/setup.sh
# shellcheck disable=SC1091
source .venv/bin/activate
stage_done "setup"

stage "lint (ruff)"
ruff check ssas_deploy tests bench filter_plugins
(cd app && ruff check .)
stage_done "lint (ruff)"

stage "toolkit tests (unit, cli, validators)"
python -m pytest -q -p no:cacheprovider tests
stage_done "toolkit tests"

stage "app tests (SQLite, PostgreSQL, Redis, Celery)"
PYTHON=python bash app/tests/run.sh
stage_done "app tests"

if [ "$run_molecule" = 1 ]; then
  stage "ansible lint"
  bash scripts/lint-ansible.sh
  stage_done "ansible lint"

  stage "test hosts (podman, base image)"
  bash scripts/testhosts.sh setup
  stage_done "test hosts"

  stage "molecule (every role)"
  bash scripts/molecule-all.sh
  stage_done "molecule"
fi

printf '\ntiming: %-28s %4ss\n' "total" "$(($(date +%s) - total_start))"

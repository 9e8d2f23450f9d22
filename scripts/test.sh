#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh machine, then runs every
# suite. Prints a timing line per stage.
#   bash scripts/test.sh              everything
#   bash scripts/test.sh --quick      no molecule, no end-to-end, no sandbox: needs neither root
#                                     nor podman (tests whose tools are missing skip)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
full=1
[ "${1:-}" = "--quick" ] && full=0
if [ "$full" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "test.sh: the full run needs root (apt packages, rootful podman); --quick does not" >&2
  exit 2
fi
# The end-to-end stage includes the day-2 suites (rollout, rotation and rollback under load,
# kill -9 recovery, SIGINT/SIGTERM during apply); SSAS_E2E_DAY2=0 leaves them out.
export SSAS_E2E_DAY2=${SSAS_E2E_DAY2:-1}
# Two molecule scenarios at a time (scripts/molecule-all.sh); SSAS_MOLECULE_JOBS=1 for one.
export SSAS_MOLECULE_JOBS=${SSAS_MOLECULE_JOBS:-2}

total_start=$(date +%s)
stage() { printf '\n==> %s\n' "$1"; stage_start=$(date +%s); }
stage_done() { printf 'timing: %-34s %4ss\n' "$1" "$(($(date +%s) - stage_start))"; }

stage "setup (apt packages, venv)"
bash scripts/setup.sh
# shellcheck disable=SC1091
source .venv/bin/activate
stage_done "setup"

stage "lint (ruff)"
ruff check ssas_deploy tests bench filter_plugins
(cd app && ruff check .)
stage_done "lint (ruff)"

stage "wheel (installs and runs outside the checkout)"
wheel_dir=$(mktemp -d)
trap 'rm -rf "$wheel_dir"' EXIT
python -m pip wheel -q --no-deps -w "$wheel_dir" . 2>&1 | { grep -v "^WARNING: Location" || true; }
python -m venv "$wheel_dir/venv"
# pipefail: a failed pip fails the stage (grep's own "no line left" does not).
# With its dependencies, as a user installs it (ansible and mitogen among them); the
# end-to-end stage applies the small sandbox from this venv (tests/e2e/test_small_installed.py).
"$wheel_dir/venv/bin/pip" install -q "$wheel_dir"/ssas_deploy-*.whl 2>&1 | { grep -v "^WARNING: Location" || true; }
export SSAS_INSTALLED_VENV="$wheel_dir/venv"
(cd "$wheel_dir" && venv/bin/ansible-playbook --version >/dev/null \
  && venv/bin/ssas-deploy profiles validate venv/lib/python3*/site-packages/ssas_deploy/_data/sizing_profiles/large.yaml \
  && venv/bin/ssas-deploy render --profile very-large --out out >/dev/null \
  && test -s out/manifest.json && test -s out/db-1/etc/postgresql/15/main/postgresql.conf \
  && COLUMNS=300 venv/bin/ssas-deploy data import --help | grep -q "_data/app/docs/import-templates" \
  && venv/bin/python -m locust --version >/dev/null)  # verify's load generator came with it
stage_done "wheel"

if [ "$full" = 1 ]; then
  stage "test hosts (podman, base image)"
  bash scripts/testhosts.sh setup
  stage_done "test hosts"
fi

# The app tests (and, in the full run, ansible-lint) run beside the toolkit tests: each is
# one pytest process, mostly one core, and they share no port or folder (run.sh picks free
# ports), so the 2 cores run both. Their output is kept and printed once they are done.
side_log=$(mktemp)
# A failed toolkit stage ends the run: the side job runs in a process group of its own
# (set -m), and the whole group goes with it (PostgreSQL and Redis of run.sh by its trap).
trap 'if [ -n "${side_pid:-}" ]; then kill -TERM -- "-$side_pid" 2>/dev/null || true; fi
      rm -rf "$wheel_dir" "$side_log"' EXIT
set -m
(
  set -euo pipefail
  stage "app tests (SQLite, PostgreSQL, Redis, Celery; beside the toolkit tests)"
  PYTHON=python bash app/tests/run.sh
  stage_done "app tests"
  if [ "$full" = 1 ]; then
    stage "ansible lint (beside the toolkit tests)"
    bash scripts/lint-ansible.sh
    stage_done "ansible lint"
  fi
) > "$side_log" 2>&1 &
side_pid=$!
set +m

if [ "$full" = 1 ]; then
  stage "toolkit tests (unit, cli, validators, sandbox)"
  python -m pytest -q -p no:cacheprovider tests
  stage_done "toolkit tests"
else
  stage "toolkit tests (unit, cli, validators)"
  python -m pytest -q -p no:cacheprovider tests --ignore=tests/sandbox --ignore=tests/e2e
  stage_done "toolkit tests"
fi

stage "waiting for the app tests and ansible lint"
side_rc=0
wait "$side_pid" || side_rc=$?
side_pid=
cat "$side_log"
stage_done "app tests + ansible lint (wait)"
if [ "$side_rc" != 0 ]; then
  echo "FAILED: app tests or ansible lint (exit $side_rc, output above)" >&2
  exit 1
fi

if [ "$full" = 1 ]; then
  # A failed molecule scenario does not hide the end-to-end results: both stages run, and
  # the run fails at the end if either did.
  failed_stages=()
  stage "molecule (every role)"
  bash scripts/molecule-all.sh || failed_stages+=("molecule")
  stage_done "molecule"

  stage "end-to-end (sandboxes: apply, re-apply, rollout and scale-out under load, recovery, interrupts, restore, migration)"
  # -s: the load figures of each rollout are printed; --durations: a time per test.
  SSAS_E2E=1 python -m pytest -q -s --durations=0 -p no:cacheprovider tests/e2e \
    || failed_stages+=("end-to-end")
  stage_done "end-to-end"
  if [ "${#failed_stages[@]}" -gt 0 ]; then
    printf '\nFAILED stages: %s\n' "${failed_stages[*]}"
    printf 'timing: %-34s %4ss\n' "total" "$(($(date +%s) - total_start))"
    exit 1
  fi
fi

printf '\ntiming: %-34s %4ss\n' "total" "$(($(date +%s) - total_start))"

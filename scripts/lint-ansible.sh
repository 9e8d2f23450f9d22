#!/usr/bin/env bash
# Lint the Ansible code: yamllint, then ansible-lint (production profile, see .ansible-lint).
# Needs the tools of requirements-ansible.txt on PATH (an active venv).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# filter_plugins/ imports the project's own filters from ssas_deploy.
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"

paths=()
for p in roles playbooks .config; do
  [ -e "$p" ] && paths+=("$p")
done
[ "${#paths[@]}" -gt 0 ] || { echo "lint-ansible: nothing to lint"; exit 0; }

rc=0
echo "==> yamllint ${paths[*]}"
yamllint --strict "${paths[@]}" || rc=1
echo "==> ansible-lint ${paths[*]}"
ansible-lint --offline --profile production "${paths[@]}" || rc=1
if [ "$rc" -eq 0 ]; then echo "lint-ansible: clean"; else echo "lint-ansible: FAILED" >&2; fi
exit "$rc"

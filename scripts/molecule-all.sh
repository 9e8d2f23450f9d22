#!/usr/bin/env bash
# Run `molecule test` for every role with a molecule/default scenario (or the roles given
# as arguments), one after the other, and print a timing line per role.
#
# Prerequisites: the tools of requirements-ansible.txt on PATH (an active venv) and
# `bash scripts/testhosts.sh setup` (container engine config + base image).
#
#   scripts/molecule-all.sh              all roles
#   scripts/molecule-all.sh common nginx only these
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v molecule >/dev/null || { echo "molecule-all: molecule not found (activate the venv with requirements-ansible.txt)" >&2; exit 2; }

roles=("$@")
if [ "${#roles[@]}" -eq 0 ]; then
  for dir in "$repo"/roles/*/molecule/default; do
    [ -f "$dir/molecule.yml" ] || continue
    roles+=("$(basename "$(dirname "$(dirname "$dir")")")")
  done
fi
[ "${#roles[@]}" -gt 0 ] || { echo "molecule-all: no role has molecule/default" >&2; exit 2; }

failed=()
summary=()
total_start=$(date +%s)
for role in "${roles[@]}"; do
  if [ ! -f "$repo/roles/$role/molecule/default/molecule.yml" ]; then
    echo "molecule-all: roles/$role/molecule/default/molecule.yml not found" >&2
    failed+=("$role")
    summary+=("$(printf '%-20s %-4s %5ss' "$role" MISSING 0)")
    continue
  fi
  # One container name per role and checkout (see .config/molecule/config.yml).
  SSAS_MOLECULE_INSTANCE="ssas-mol-${role//_/-}-$(printf '%s' "$repo" | sha256sum | cut -c1-6)"
  export SSAS_MOLECULE_INSTANCE
  echo "==> molecule test: $role (instance $SSAS_MOLECULE_INSTANCE)"
  start=$(date +%s)
  (cd "$repo/roles/$role" && molecule test --scenario-name default)
  rc=$?
  elapsed=$(($(date +%s) - start))
  if [ "$rc" -eq 0 ]; then status=ok; else status=FAIL; failed+=("$role"); fi
  line=$(printf '%-20s %-4s %5ss' "$role" "$status" "$elapsed")
  summary+=("$line")
  echo "molecule-all: $line"
done

echo "molecule-all: summary ($(($(date +%s) - total_start))s)"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "molecule-all: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "molecule-all: ${#roles[@]} role(s) passed"

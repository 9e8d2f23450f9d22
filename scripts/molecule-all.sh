#!/usr/bin/env bash
# Run `molecule test` for every role with a molecule/default scenario (or the roles given
# as arguments), SSAS_MOLECULE_JOBS at a time (default 2), and print a timing line per role.
# Each role's output goes to a log that is printed whole when the role ends, so parallel
# runs never interleave.
#
# Prerequisites: the tools of requirements-ansible.txt on PATH (an active venv) and
# `bash scripts/testhosts.sh setup` (container engine config + base image).
#
#   scripts/molecule-all.sh              all roles
#   scripts/molecule-all.sh common nginx only these
#   SSAS_MOLECULE_JOBS=1 scripts/molecule-all.sh   one at a time
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v molecule >/dev/null || { echo "molecule-all: molecule not found (activate the venv with requirements-ansible.txt)" >&2; exit 2; }
jobs_max=${SSAS_MOLECULE_JOBS:-2}
[[ "$jobs_max" =~ ^[1-9][0-9]*$ ]] || { echo "molecule-all: SSAS_MOLECULE_JOBS must be a positive integer, not '$jobs_max'" >&2; exit 2; }

# The slowest scenarios start first so the last ones to finish are short.
slow_first=(celery_worker ssas_app patroni)
roles=("$@")
if [ "${#roles[@]}" -eq 0 ]; then
  for role in "${slow_first[@]}"; do
    [ -f "$repo/roles/$role/molecule/default/molecule.yml" ] && roles+=("$role")
  done
  for dir in "$repo"/roles/*/molecule/default; do
    [ -f "$dir/molecule.yml" ] || continue
    role=$(basename "$(dirname "$(dirname "$dir")")")
    [[ " ${slow_first[*]} " == *" $role "* ]] || roles+=("$role")
  done
fi
[ "${#roles[@]}" -gt 0 ] || { echo "molecule-all: no role has molecule/default" >&2; exit 2; }

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_role() {
  local role=$1 log="$logs/$1.log" start rc elapsed status
  start=$(date +%s)
  if [ ! -f "$repo/roles/$role/molecule/default/molecule.yml" ]; then
    echo "molecule-all: roles/$role/molecule/default/molecule.yml not found" >"$log"
    rc=2
  else
    # One container name per role and checkout (see .config/molecule/config.yml).
    SSAS_MOLECULE_INSTANCE="ssas-mol-${role//_/-}-$(printf '%s' "$repo" | sha256sum | cut -c1-6)"
    echo "==> molecule test: $role (instance $SSAS_MOLECULE_INSTANCE)" >"$log"
    (cd "$repo/roles/$role" && SSAS_MOLECULE_INSTANCE=$SSAS_MOLECULE_INSTANCE \
      molecule test --scenario-name default) >>"$log" 2>&1
    rc=$?
  fi
  elapsed=$(($(date +%s) - start))
  if [ "$rc" -eq 0 ]; then status=ok; else status=FAIL; fi
  printf '%-20s %-4s %5ss\n' "$role" "$status" "$elapsed" >"$logs/$role.result"
  # Print the whole log at once, never interleaved with another role's.
  flock "$logs/print.lock" sh -c 'cat "$1"; printf "molecule-all: %s" "$(cat "$2")"; echo' _ \
    "$log" "$logs/$role.result"
}

total_start=$(date +%s)
echo "molecule-all: ${#roles[@]} role(s), $jobs_max at a time: ${roles[*]}"
for role in "${roles[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
  run_role "$role" &
done
wait

failed=()
echo "molecule-all: summary ($(($(date +%s) - total_start))s, $jobs_max at a time)"
for role in "${roles[@]}"; do
  line=$(cat "$logs/$role.result" 2>/dev/null || printf '%-20s %-4s %5ss' "$role" FAIL 0)
  echo "  $line"
  [[ "$line" == *" ok "* ]] || failed+=("$role")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "molecule-all: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "molecule-all: ${#roles[@]} role(s) passed"

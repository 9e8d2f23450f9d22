#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for ssas-deploy: system packages the CLI's checks use and
# a Python venv (.venv) with the CLI, the bundled app and the Ansible toolchain.
# Idempotent: a second run only verifies. Prints a timing line per step.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${SSAS_VENV:-$repo/.venv}"
python="${PYTHON:-python3}"

step() { printf '==> %s\n' "$1"; step_start=$(date +%s); }
done_step() { printf 'timing: %-28s %4ss\n' "$1" "$(($(date +%s) - step_start))"; }

# The daemons whose own checkers validate rendered configs, plus what the app tests start
# (pgbackrest and restic: the backup units name their binaries; chromium and its driver:
# the end-to-end browser test). redis-sentinel: Debian's Sentinel, which the very-large tier
# runs; tests/rendering/test_sentinel_failover.py fails over real Sentinels with it.
# patroni and etcd-server: the very-large tier's PostgreSQL HA, failed over for real by
# tests/rendering/test_patroni_failover.py (python3-idna: Patroni over https to etcd needs it,
# Debian only suggests it). prometheus: its promtool checks and unit-tests the
# alert rules (tests/prometheus/); policy-rc.d below keeps its daemon from starting. pgbouncer:
# tests/rendering/test_validators.py starts each rendered pgbouncer.ini.
packages=(nginx libnginx-mod-http-headers-more-filter postgresql postgresql-contrib redis-server redis-sentinel patroni python3-idna etcd-server ssl-cert nftables systemd openssl
          python3-venv util-linux pgbackrest restic chromium chromium-driver prometheus
          pgbouncer)

step "system packages"
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" != 0 ]; then
  # Without root nothing is installed: the tests that need a missing daemon skip themselves
  # (scripts/test.sh --quick runs as any user; the full run needs root).
  printf 'setup: not root, so these packages stay missing: %s\n' "${missing[*]}"
  printf 'setup: the tests that need them skip; run setup as root to install them\n'
elif [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Installing must not leave daemons running on this machine: tests start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
[ -f /etc/ssl/certs/ssl-cert-snakeoil.pem ] || [ "$(id -u)" != 0 ] \
  || make-ssl-cert generate-default-snakeoil
done_step "system packages"

step "python venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -e "$repo[dev]" -e "$repo/app[test]" -r "$repo/requirements-ansible.txt"
done_step "python venv"

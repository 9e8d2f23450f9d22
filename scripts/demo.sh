#!/usr/bin/env bash
# One-command trial on a fresh Debian 12 machine (as root): set up, start a sandbox of the
# given profile (default small) as local systemd containers, deploy SSAS onto it and print
# its URL. Remove it with: .venv/bin/ssas-deploy sandbox down --profile PROFILE --purge
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=${1:-small}
cd "$repo"

bash scripts/setup.sh
bash scripts/testhosts.sh setup
cli=.venv/bin/ssas-deploy
dir=".ssas-sandbox/$profile"
"$cli" sandbox up --profile "$profile" --dir "$dir"

# A throwaway sandbox gets its own vault password file beside it (0600). For real schools
# keep the vault password out of the inventory's directory (see README, Secrets).
password_file="$dir/.vault-password"
if [ ! -s "$password_file" ]; then
  (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "$password_file")
fi
# Sandbox hosts share this machine's CPU and RAM: --force reports shortfalls as warnings.
"$cli" apply --profile "$profile" --inventory "$dir/hosts.yaml" --force \
  --vault-password-file "$password_file"
